//! The mock's management face (RunPod REST v2 `/v2/serverless`): endpoints
//! created, listed, read and deleted ([`routes`]), the registry that holds them
//! ([`registry`]) and how an endpoint made from `mock/<behaviour>` pulls,
//! starts and fails ([`provisioning`]).

pub(crate) mod evidence;
pub(crate) mod provisioning;
pub(crate) mod registry;
pub(crate) mod routes;
