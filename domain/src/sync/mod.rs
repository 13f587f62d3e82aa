//! Scheduled data pulls (design §7): which resources of which accounts are due
//! ([`state`]), storing what the platforms return ([`store`]), and one pull of one resource of
//! one account with its bookkeeping ([`pull`]).
//!
//! Freshness lives in `sync_state`, one row per (account, resource). Rows are created lazily by
//! the scans (and by `requestSync`) with `next_run_at` unset, so a newly linked account is due at
//! the next scan; a pull sets `next_run_at` to its next regular time, or further back off after
//! failures, so one failing account or resource never starves the others.

pub mod policy;
pub mod pull;
pub mod state;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::kinds::Platform;

/// What one pull job brings in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SyncResource {
    /// Media published in the last 48 hours, with their insights (new posts show up quickly).
    Media,
    /// Live Instagram stories with their insights (every story must be seen within its 24 h).
    Stories,
    /// Account daily snapshots, and every media item of the last 30 days with its insights.
    Metrics,
    /// Audience demographics, or the platform's reason for withholding them.
    Audience,
}

impl SyncResource {
    /// Every resource, in the order freshness lists them.
    pub const ALL: [SyncResource; 4] = [
        SyncResource::Media,
        SyncResource::Stories,
        SyncResource::Metrics,
        SyncResource::Audience,
    ];

    /// The stored name in `sync_state.resource`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncResource::Media => "MEDIA",
            SyncResource::Stories => "STORIES",
            SyncResource::Metrics => "METRICS",
            SyncResource::Audience => "AUDIENCE",
        }
    }

    /// The resource stored as `s`.
    pub fn parse(s: &str) -> Option<SyncResource> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The platforms this resource is pulled for. Stories exist on Instagram only; Facebook
    /// Pages are linked for their Instagram account (design §4) and have no pulls of their own.
    pub fn platforms(self) -> &'static [Platform] {
        match self {
            SyncResource::Stories => &[Platform::Instagram],
            _ => &[Platform::Instagram, Platform::Tiktok, Platform::Youtube],
        }
    }

    /// Whether this resource is pulled for accounts on `platform`.
    pub fn applies_to(self, platform: Platform) -> bool {
        self.platforms().contains(&platform)
    }
}
