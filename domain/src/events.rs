//! The link event log: append-only audit and outbox. Every link status change writes exactly one
//! row here in the same transaction as the change, so subscribers and webhooks (fed from this
//! table) never see a change that did not happen, nor miss one that did. Ids increase
//! monotonically (an auto-increment key), so `id > n` is a cursor per organization.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, NotSet, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{link_event, social_account};
use crate::kinds::{LinkStatus, Platform};
use crate::tenant::OrgId;

/// What kind of event a row is.
pub mod kind {
    /// A link moved from one status to another.
    pub const STATUS_CHANGED: &str = "STATUS_CHANGED";
    /// The link is about to expire (emitted at the window and again near the end).
    pub const EXPIRING_SOON_WARNING: &str = "EXPIRING_SOON_WARNING";
    /// A resource keeps failing or stories were missed; the link itself is unchanged.
    pub const FRESHNESS: &str = "FRESHNESS";
    /// A media item became content of a campaign (detail: campaignId, contentId, mediaId,
    /// matchedBy, rule).
    pub const CAMPAIGN_CONTENT_MATCHED: &str = "CAMPAIGN_CONTENT_MATCHED";
    /// Content was taken out of a campaign (detail: campaignId, contentId, mediaId).
    pub const CAMPAIGN_CONTENT_REMOVED: &str = "CAMPAIGN_CONTENT_REMOVED";
    /// An account with content in an ACTIVE campaign became INVALID or EXPIRED (detail:
    /// campaignId); the brand needs the creator to reconnect.
    pub const CAMPAIGN_ACCOUNT_BROKEN: &str = "CAMPAIGN_ACCOUNT_BROKEN";
    /// A webhook endpoint was disabled after failing continuously; not tied to an account.
    pub const WEBHOOK_ENDPOINT_DISABLED: &str = "WEBHOOK_ENDPOINT_DISABLED";
}

/// A new event to record.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub org: OrgId,
    pub account_id: Option<Uuid>,
    pub profile_id: Option<Uuid>,
    pub platform: Option<Platform>,
    pub kind: &'static str,
    pub from: Option<LinkStatus>,
    pub to: Option<LinkStatus>,
    pub reason: Option<String>,
    pub actor: Actor,
    pub detail: Option<Value>,
    pub occurred_at: DateTime<Utc>,
}

impl NewEvent {
    /// A status change of `account`'s link.
    pub fn status_changed(
        account: &social_account::Model,
        from: LinkStatus,
        to: LinkStatus,
        reason: Option<String>,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Self {
        NewEvent {
            org: OrgId::new(account.organization_id),
            account_id: Some(account.id),
            profile_id: account.profile_id,
            platform: Some(account.platform),
            kind: kind::STATUS_CHANGED,
            from: Some(from),
            to: Some(to),
            reason,
            actor,
            detail: None,
            occurred_at: at,
        }
    }
}

/// Appends `event`; pass the transaction that makes the change it records.
pub async fn record(
    db: &impl ConnectionTrait,
    event: NewEvent,
) -> Result<link_event::Model, sea_orm::DbErr> {
    let event = active_model(event).insert(db).await?;
    // Wakes this process's live dispatcher (early when `db` is a transaction not yet committed:
    // the dispatcher then finds nothing new, and the commit's NOTIFY or the poll brings it).
    crate::event_signal::written();
    Ok(event)
}

/// The row `event` becomes (for batch inserts of many events in one statement).
pub fn active_model(event: NewEvent) -> link_event::ActiveModel {
    link_event::ActiveModel {
        id: NotSet,
        organization_id: Set(event.org.uuid()),
        account_id: Set(event.account_id),
        profile_id: Set(event.profile_id),
        platform: Set(event.platform),
        kind: Set(event.kind.to_owned()),
        from_status: Set(event.from),
        to_status: Set(event.to),
        reason: Set(event.reason),
        actor: Set(event.actor.label()),
        detail: Set(event.detail),
        occurred_at: Set(event.occurred_at),
    }
}

/// Which events a reader wants: always one organization, optionally narrowed to one profile, one
/// account or some platforms. Applied in SQL when reading the log and in memory on live events, so
/// replayed and live events obey the same rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFilter {
    pub org: OrgId,
    pub profile_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    /// `None` or empty: every platform.
    pub platforms: Option<Vec<Platform>>,
}

impl EventFilter {
    /// Every event of `org`.
    pub fn org(org: OrgId) -> Self {
        EventFilter {
            org,
            profile_id: None,
            account_id: None,
            platforms: None,
        }
    }

    /// True when `event` passes the filter.
    pub fn matches(&self, event: &link_event::Model) -> bool {
        event.organization_id == self.org.uuid()
            && self.profile_id.is_none_or(|p| event.profile_id == Some(p))
            && self.account_id.is_none_or(|a| event.account_id == Some(a))
            && match self.platforms.as_deref() {
                None | Some([]) => true,
                Some(list) => event.platform.is_some_and(|p| list.contains(&p)),
            }
    }
}

/// The filter's events with an id above `after`, oldest first, at most `limit` of them. Used to
/// replay what a reconnecting subscriber missed.
pub async fn list_after(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    after: i64,
    limit: u64,
) -> Result<Vec<link_event::Model>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

    let mut select = link_event::Entity::find()
        .filter(link_event::Column::OrganizationId.eq(filter.org.uuid()))
        .filter(link_event::Column::Id.gt(after));
    if let Some(profile) = filter.profile_id {
        select = select.filter(link_event::Column::ProfileId.eq(profile));
    }
    if let Some(account) = filter.account_id {
        select = select.filter(link_event::Column::AccountId.eq(account));
    }
    if let Some(platforms) = filter.platforms.as_ref().filter(|p| !p.is_empty()) {
        select = select.filter(link_event::Column::Platform.is_in(platforms.iter().copied()));
    }
    select
        .order_by_asc(link_event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The highest event id so far (0 for an empty log).
pub async fn max_id(db: &impl ConnectionTrait) -> Result<i64, sea_orm::DbErr> {
    use sea_orm::{EntityTrait, QueryOrder, QuerySelect};

    Ok(link_event::Entity::find()
        .select_only()
        .column(link_event::Column::Id)
        .order_by_desc(link_event::Column::Id)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0))
}
