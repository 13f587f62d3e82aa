//! The set of platform clients the application runs with, one per provider, and the clock their
//! lifetimes are measured against.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::PlatformClient;
use crate::clock::SharedClock;
use crate::kinds::Provider;

/// One client per provider (real or sandbox endpoints, as configured) plus the application clock.
#[derive(Clone)]
pub struct Clients {
    meta: Arc<dyn PlatformClient>,
    tiktok: Arc<dyn PlatformClient>,
    google: Arc<dyn PlatformClient>,
    clock: SharedClock,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients").finish_non_exhaustive()
    }
}

impl Clients {
    /// The clients; each must answer for the provider it is given as.
    pub fn new(
        meta: Arc<dyn PlatformClient>,
        tiktok: Arc<dyn PlatformClient>,
        google: Arc<dyn PlatformClient>,
        clock: SharedClock,
    ) -> Self {
        Clients {
            meta,
            tiktok,
            google,
            clock,
        }
    }

    /// The client of `provider`.
    pub fn get(&self, provider: Provider) -> &Arc<dyn PlatformClient> {
        match provider {
            Provider::Meta => &self.meta,
            Provider::Tiktok => &self.tiktok,
            Provider::Google => &self.google,
        }
    }

    /// The application clock (the sandbox's clock in sandbox mode).
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The current time by [`Self::clock`].
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
