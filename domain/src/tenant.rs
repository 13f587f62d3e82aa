//! The tenant boundary. Every service takes the caller's [`OrgId`] and filters by it, so a row of
//! another organization is indistinguishable from a missing one.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The organization a caller acts in. Obtained only from authentication or configuration, never
/// from client input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgId(Uuid);

impl OrgId {
    pub fn new(id: Uuid) -> Self {
        OrgId(id)
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
