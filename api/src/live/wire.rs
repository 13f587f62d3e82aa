//! The JSON form of an event on the Redis channel.

use chrono::{DateTime, Utc};
use domain::entities::link_event;
use domain::{LinkStatus, Platform};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A `link_event` row as published to other replicas.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireEvent {
    pub id: i64,
    pub organization_id: Uuid,
    pub account_id: Option<Uuid>,
    pub profile_id: Option<Uuid>,
    pub platform: Option<Platform>,
    pub kind: String,
    pub from_status: Option<LinkStatus>,
    pub to_status: Option<LinkStatus>,
    pub reason: Option<String>,
    pub actor: String,
    pub detail: Option<serde_json::Value>,
    pub occurred_at: DateTime<Utc>,
}

impl From<&link_event::Model> for WireEvent {
    fn from(e: &link_event::Model) -> Self {
        WireEvent {
            id: e.id,
            organization_id: e.organization_id,
            account_id: e.account_id,
            profile_id: e.profile_id,
            platform: e.platform,
            kind: e.kind.clone(),
            from_status: e.from_status,
            to_status: e.to_status,
            reason: e.reason.clone(),
            actor: e.actor.clone(),
            detail: e.detail.clone(),
            occurred_at: e.occurred_at,
        }
    }
}

impl WireEvent {
    pub fn into_model(self) -> link_event::Model {
        link_event::Model {
            id: self.id,
            organization_id: self.organization_id,
            account_id: self.account_id,
            profile_id: self.profile_id,
            platform: self.platform,
            kind: self.kind,
            from_status: self.from_status,
            to_status: self.to_status,
            reason: self.reason,
            actor: self.actor,
            detail: self.detail,
            occurred_at: self.occurred_at,
        }
    }
}
