//! Targets: what runs the scenarios' jobs, behind one small trait ([`Target`]),
//! and which one a run uses, chosen from the environment ([`from_env`]).

mod api;
mod comfyui;
mod runpod;
mod select;

pub use api::{JobRequest, Target, TargetFacts};
pub use comfyui::Comfyui;
pub use runpod::Runpod;
pub use select::{from_env, Kind, TargetConfig, COMFYUI_DEFAULT, RUNPOD_API};
#[cfg(any(test, feature = "internals"))]
pub use select::COMFYUI_MOCK;
