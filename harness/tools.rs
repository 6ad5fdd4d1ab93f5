//! Tools around the suite, each its own command: throwaway endpoints
//! ([`provision`]), Comfy Hub import ([`hub`]), scaffolding a scenario from a
//! workflow ([`scaffold`]), recording jobs for replay ([`record`]) and the JSON
//! Schemas ([`schema`]).

pub mod hub;
pub mod init;
pub mod provision;
pub mod record;
pub mod review;
pub mod scaffold;
pub mod schema;
