//! creatorlink's domain: the model (SeaORM entities), the link lifecycle, the token vault and the
//! platform clients. Nothing here knows about HTTP frameworks or GraphQL; every service takes a
//! connection (`&impl ConnectionTrait`) and the caller's organization.

pub mod accounts;
pub mod db;
pub mod entities;
pub mod kinds;
pub mod link;
pub mod platforms;
pub mod secret;
pub mod vault;

pub use kinds::{InvalidReason, LinkStatus, MediaKind, Platform, ProfileKind, Provider};
