//! Giving jobs up on request: a run that stops early (a load run after a
//! refused submission) tells its jobs through an [`Abort`]. Each job finishes
//! its submission (so it has an id to cancel), then cancels itself at its next
//! poll instead of being dropped mid-request, where its id would be lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// A signal shared by the jobs of one run; once raised it stays raised.
#[derive(Clone, Debug, Default)]
pub struct Abort(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    raised: AtomicBool,
    notify: Notify,
}

impl Abort {
    /// Raises it: every job following it gives up.
    pub fn raise(&self) {
        self.0.raised.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether it is raised.
    pub fn is_raised(&self) -> bool {
        self.0.raised.load(Ordering::SeqCst)
    }

    /// Resolves once it is raised.
    pub async fn raised(&self) {
        loop {
            let wait = self.0.notify.notified();
            if self.is_raised() {
                return;
            }
            wait.await;
        }
    }
}
