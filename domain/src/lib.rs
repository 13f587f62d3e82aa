//! creatorlink's domain: the model (SeaORM entities), the link lifecycle, the token vault and the
//! platform clients. Nothing here knows about HTTP frameworks or GraphQL; every service takes a
//! connection (`&impl ConnectionTrait`) and the caller's organization.

pub mod access;
pub mod accounts;
pub mod actor;
pub mod api_keys;
pub mod campaigns;
pub mod clock;
pub mod connect;
pub mod db;
pub mod deauthorization;
pub mod entities;
pub mod error;
pub mod event_signal;
pub mod events;
pub mod invites;
pub mod kinds;
pub mod link;
pub mod merge;
pub mod organizations;
pub mod outbox;
pub mod pagination;
pub mod platforms;
pub mod privacy;
pub mod profiles;
pub mod quota;
pub mod secret;
pub mod sync;
pub mod tenant;
pub mod vault;
pub mod webhooks;

pub use access::{Caller, Role, Scope};
pub use actor::Actor;
pub use error::{DomainError, DomainResult};
pub use kinds::{
    CampaignStatus, InvalidReason, LinkStatus, MatchedBy, MediaKind, Platform, ProfileKind,
    Provider,
};
pub use tenant::OrgId;
