//! Who did something: recorded on link events and key usage for audit.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The author of a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    /// A background job or the system itself (`system:<what>`).
    System(String),
    /// A frontend user authenticated by JWT.
    User(String),
    /// A brand client's API key.
    ApiKey(Uuid),
    /// A creator acting through a connect invite.
    Invite(Uuid),
    /// A platform calling us back (deauthorize, data deletion, `authorization.removed`).
    Platform(String),
    /// Nobody authenticated: the development default organization.
    Anonymous,
}

impl Actor {
    pub fn system(what: &str) -> Actor {
        Actor::System(what.to_owned())
    }

    /// The label stored in `link_event.actor`, e.g. `user:42`, `key:…`, `system:expire-links`.
    pub fn label(&self) -> String {
        match self {
            Actor::System(what) => format!("system:{what}"),
            Actor::User(id) => format!("user:{id}"),
            Actor::ApiKey(id) => format!("key:{id}"),
            Actor::Invite(id) => format!("invite:{id}"),
            Actor::Platform(name) => format!("platform:{name}"),
            Actor::Anonymous => "anonymous".to_owned(),
        }
    }
}
