//! The link lifecycle: how long an authorization lasts and the status a reader sees (design §4).

pub mod filter;
pub mod refresh;
pub mod revocation;
pub mod revoke;
pub mod status;
pub mod sweep;
