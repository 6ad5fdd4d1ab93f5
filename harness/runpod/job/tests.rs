//! A job is owned until it is settled: whatever drops the future that follows
//! it (the trial's hard deadline, a panic while it runs), the job is cancelled
//! at the endpoint and nothing is left queued or running there.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::runpod::Client;
use crate::runpod::Submit;
use crate::runpod::job::{drive_with, Watch};
use crate::mock::behaviour::Behaviour;
use crate::mock::{MockOptions, MockServer};
use crate::runpod::wire::{Health, JobState};

const KEY: &str = "guard-test-key-0123";

/// A mock whose jobs run 30 s (real time), far longer than any test waits.
fn slow_mock() -> (MockServer, Client) {
    let mut endpoints = BTreeMap::new();
    endpoints.insert(
        "slow".to_string(),
        Arc::new(Behaviour::parse("queue: 0s\nexecution: 30s\n").unwrap()),
    );
    let server = MockServer::start(
        MockOptions {
            api_key: KEY.into(),
            endpoints,
            speed: 1.0,
            min_retention: Duration::from_secs(30),
        },
        0,
    )
    .unwrap();
    let client = Client::new(&server.endpoint_url("slow"), Some(KEY)).unwrap();
    (server, client)
}

fn body() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"input": {"workflow": {
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "t"}}
    }}}))
    .unwrap()
}

/// Jobs the endpoint still holds in the queue or running.
async fn busy(client: &Client) -> i64 {
    let h: Health = client.health().await.unwrap();
    h.job("inQueue") + h.job("inProgress")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_job_whose_future_is_dropped_mid_poll_is_cancelled() {
    let (_server, client) = slow_mock();
    rt().block_on(async {
        let watch = Watch::default();
        // What the trial's hard deadline does: drop the future while it polls.
        let dropped = tokio::time::timeout(
            Duration::from_millis(600),
            drive_with(
                &client,
                Submit::Run,
                body(),
                Duration::from_secs(60),
                &watch,
            ),
        )
        .await;
        assert!(dropped.is_err(), "the job should still have been running");
        super::drain(Duration::from_secs(10)).await;
        assert_eq!(
            busy(&client).await,
            0,
            "a dropped job was left on the endpoint"
        );
    });
}

#[test]
fn a_panic_while_a_job_runs_cancels_it() {
    let (_server, client) = slow_mock();
    rt().block_on(async {
        let c = client.clone();
        let task = tokio::spawn(async move {
            // Code run while the job is in flight (here: the progress observer,
            // called with the first answer) panics.
            let watch = Watch {
                queue_grace: None,
                abort: None,
                expected: None,
                observer: Some(Arc::new(|_: &str, state: &JobState, _| {
                    if !state.is_terminal() {
                        panic!("a check panicked");
                    }
                })),
            };
            drive_with(&c, Submit::Run, body(), Duration::from_secs(60), &watch).await
        });
        let joined = task.await;
        assert!(joined.unwrap_err().is_panic());
        super::drain(Duration::from_secs(10)).await;
        assert_eq!(busy(&client).await, 0, "the panic left a job running");
    });
}

#[test]
fn a_settled_job_is_not_cancelled() {
    let mut endpoints = BTreeMap::new();
    endpoints.insert(
        "quick".to_string(),
        Arc::new(Behaviour::parse("queue: 0s\nexecution: 100ms\n").unwrap()),
    );
    let server = MockServer::start(
        MockOptions {
            api_key: KEY.into(),
            endpoints,
            speed: 1.0,
            min_retention: Duration::from_secs(30),
        },
        0,
    )
    .unwrap();
    let client = Client::new(&server.endpoint_url("quick"), Some(KEY)).unwrap();
    rt().block_on(async {
        let job = drive_with(
            &client,
            Submit::Run,
            body(),
            Duration::from_secs(10),
            &Watch::default(),
        )
        .await
        .unwrap();
        super::drain(Duration::from_secs(5)).await;
        let again = client.status(&job.status.id).await.unwrap();
        assert_eq!(again.status, JobState::Completed);
    });
}

/// Simulates the schedule against a job ending at `end` (requests take no
/// time): how many requests, and how late the end is seen.
fn simulate(end: Duration, expected: Option<Duration>) -> (u32, Duration) {
    let mut t = Duration::ZERO;
    let mut n = 0;
    loop {
        t += super::drive::interval_pause(t, expected);
        n += 1;
        if t >= end {
            return (n, t - end);
        }
    }
}

#[test]
fn the_poll_schedule_sees_the_end_soon_with_few_requests() {
    let ms = Duration::from_millis;
    // A 0.8 s job whose history says 0.8 s, ending a little early or late.
    for end in [700, 760, 800, 840, 900] {
        let (n, lag) = simulate(ms(end), Some(ms(800)));
        assert!(
            n <= 10 && lag <= ms(60),
            "end {end}: {n} requests, {lag:?} late"
        );
    }
    // Much faster than its history: still seen within its own running time.
    let (_, lag) = simulate(ms(300), Some(ms(10_000)));
    assert!(lag <= ms(300), "{lag:?}");
    // Much slower than its history, or no history: within 10% (and 1 s).
    for (end, exp) in [
        (5_000, Some(800)),
        (800, None),
        (60_000, None),
        (600_000, Some(60_000)),
    ] {
        let end = ms(end);
        let (_, lag) = simulate(end, exp.map(ms));
        assert!(
            lag <= (end / 10).max(ms(100)).min(ms(1000)),
            "end {end:?} expected {exp:?}: {lag:?} late"
        );
    }
}
