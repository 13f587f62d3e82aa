//! Link events and the `linkStatusChanged` subscription.
//!
//! A subscription first replays the log after `after` (up to what the dispatcher has published),
//! then follows the bus; it remembers the last id it handled and drops anything at or below it, so
//! an event is delivered once and in order even when the replay and the bus overlap, and a
//! subscriber that fell behind (or whose replica lost Redis for a moment) re-reads the log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::{Context, Enum, ErrorExtensions, Json, Object, Result, Subscription, ID};
use chrono::{DateTime, Utc};
use domain::entities::link_event;
use domain::events::{self, kind, EventFilter};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::error::{codes, internal};
use super::ids::{self, NodeType};
use super::ApiContext;
use crate::live::BusMessage;

pub use super::account::Platform;
pub use super::link::LinkStatus;

/// What kind of thing a link event records.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum LinkEventKind {
    /// The link moved from one status to another (`from` → `to`).
    StatusChanged,
    /// The link is about to expire (sent at the expiring window and again near the end).
    ExpiringSoonWarning,
    /// A resource of the account keeps failing or stories were missed; the status is unchanged.
    Freshness,
    /// A media item of the account became content of a campaign (`detail.campaignId`).
    CampaignContentMatched,
    /// Content of the account was taken out of a campaign (`detail.campaignId`).
    CampaignContentRemoved,
    /// The account broke (INVALID or EXPIRED) while it has content in an active campaign.
    CampaignAccountBroken,
    /// A kind this version of the API does not name yet.
    Other,
}

impl LinkEventKind {
    fn of(stored: &str) -> Self {
        match stored {
            kind::STATUS_CHANGED => LinkEventKind::StatusChanged,
            kind::EXPIRING_SOON_WARNING => LinkEventKind::ExpiringSoonWarning,
            kind::FRESHNESS => LinkEventKind::Freshness,
            kind::CAMPAIGN_CONTENT_MATCHED => LinkEventKind::CampaignContentMatched,
            kind::CAMPAIGN_CONTENT_REMOVED => LinkEventKind::CampaignContentRemoved,
            kind::CAMPAIGN_ACCOUNT_BROKEN => LinkEventKind::CampaignAccountBroken,
            _ => LinkEventKind::Other,
        }
    }
}

/// Something that happened to a link, from the event log. Ids increase: a later event has a
/// larger id, so the last id a client saw is where it resumes (`linkStatusChanged(after:)`).
/// Shared: one event read from the bus reaches every subscriber without a copy per subscriber.
pub struct LinkEvent(pub Arc<link_event::Model>);

#[Object]
impl LinkEvent {
    /// The event's id: a decimal number, increasing over time; also the `id` of webhook payloads.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What kind of event this is.
    async fn kind(&self) -> LinkEventKind {
        LinkEventKind::of(&self.0.kind)
    }

    /// The social account whose link it concerns (null once the account is deleted).
    async fn account_id(&self) -> Option<ID> {
        self.0
            .account_id
            .map(|id| ids::encode(NodeType::SocialAccount, id))
    }

    /// The creator profile that held the account when it happened.
    async fn profile_id(&self) -> Option<ID> {
        self.0
            .profile_id
            .map(|id| ids::encode(NodeType::CreatorProfile, id))
    }

    /// The account's platform.
    async fn platform(&self) -> Option<Platform> {
        self.0.platform.map(Into::into)
    }

    /// The status before the change.
    async fn from(&self) -> Option<LinkStatus> {
        self.0.from_status.map(Into::into)
    }

    /// The status after the change.
    async fn to(&self) -> Option<LinkStatus> {
        self.0.to_status.map(Into::into)
    }

    /// Why, e.g. `PERMISSIONS_REVOKED` for an INVALID link.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// Who caused it: `user:<sub>`, `key:<id>`, `system:<job>`, `platform:<name>`, …
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// Extra facts of the event, as recorded.
    async fn detail(&self) -> Option<Json<serde_json::Value>> {
        self.0.detail.clone().map(Json)
    }

    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

/// The subscriptions one websocket connection holds; inserted when the connection initializes.
#[derive(Clone, Debug)]
pub struct SubscriptionSlots {
    used: Arc<AtomicUsize>,
    max: usize,
}

impl SubscriptionSlots {
    pub fn new(max: usize) -> Self {
        SubscriptionSlots {
            used: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    fn acquire(&self) -> Option<SlotGuard> {
        let before = self.used.fetch_add(1, Ordering::AcqRel);
        if before >= self.max {
            self.used.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(SlotGuard(self.used.clone()))
    }
}

/// Frees its slot when the subscription's stream is dropped (completed, stopped or disconnected).
struct SlotGuard(Arc<AtomicUsize>);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn bad_input(field: &'static str, message: &str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", codes::BAD_USER_INPUT);
        e.set("field", field);
    })
}

/// How many events a replay reads per query.
const REPLAY_PAGE: u64 = 100;

/// Live link events.
#[derive(Default)]
pub struct EventSubscription;

#[Subscription]
impl EventSubscription {
    /// Link events of the caller's organization as they happen: status changes (a badge turning
    /// orange or red), expiry warnings and freshness problems. With `after`, the events since that
    /// id are replayed first, in order, so a client that reconnects with the last id it saw loses
    /// nothing and gets nothing twice.
    /// Access: roles admin and manager; API keys with `events:subscribe`; creators for their own
    /// profiles.
    async fn link_status_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of this creator profile.")] profile_id: Option<ID>,
        #[graphql(desc = "Only events of this social account.")] account_id: Option<ID>,
        #[graphql(desc = "Only events of accounts on these platforms (all when omitted).")]
        platforms: Option<Vec<Platform>>,
        #[graphql(
            desc = "Replay the events after this event id (the last one the client saw) before going live."
        )]
        after: Option<ID>,
    ) -> Result<impl Stream<Item = Result<LinkEvent>>> {
        let api = ctx.api();
        let request_id = api.request_id();
        let live = api.live().ok_or_else(|| {
            async_graphql::Error::new("live events are not available on this server")
        })?;
        let slots = ctx.data::<SubscriptionSlots>().map_err(|_| {
            async_graphql::Error::new("subscriptions are served over a websocket at /graphql")
        })?;
        let Some(slot) = slots.acquire() else {
            return Err(async_graphql::Error::new(format!(
                "a connection may hold at most {} subscriptions",
                slots.max
            ))
            .extend_with(|_, e| e.set("code", "TOO_MANY_SUBSCRIPTIONS")));
        };
        let profile_id = match profile_id {
            None => None,
            Some(id) => Some(
                ids::decode_as(NodeType::CreatorProfile, &id)
                    .ok_or_else(|| bad_input("profileId", "not a creator profile id"))?,
            ),
        };
        let account_id = match account_id {
            None => None,
            Some(id) => Some(
                ids::decode_as(NodeType::SocialAccount, &id)
                    .ok_or_else(|| bad_input("accountId", "not a social account id"))?,
            ),
        };
        let after = match after {
            None => None,
            Some(id) => Some(
                id.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| bad_input("after", "not an event id"))?,
            ),
        };
        let filter = EventFilter {
            org: api.org(),
            profile_id,
            account_id,
            platforms: platforms.map(|p| p.into_iter().map(Into::into).collect()),
        };
        let db = api.db().clone();
        let bus = live.bus.clone();
        // Subscribe before reading where to start, so nothing falls between the two.
        let mut rx = bus.subscribe();
        let mut last = match after {
            Some(n) => n,
            None => bus
                .watermark(&db)
                .await
                .map_err(|e| internal(&e, request_id))?,
        };
        let mut replay = after.is_some();
        // A campaign-limited key hears only of its campaigns' accounts, and of campaign events
        // only those of its campaigns.
        let seen = api.visible().await?;
        let wanted = move |e: &link_event::Model| {
            e.kind != kind::WEBHOOK_ENDPOINT_DISABLED
                && seen.as_ref().is_none_or(|s| {
                    e.account_id.is_some_and(|a| s.account(a))
                        && e.detail
                            .as_ref()
                            .and_then(|d| d.get("campaignId"))
                            .and_then(|c| c.as_str())
                            .and_then(|c| uuid::Uuid::parse_str(c).ok())
                            .is_none_or(|c| s.campaigns.contains(&c))
                })
        };

        Ok(async_stream::stream! {
            let _slot = slot;
            loop {
                if replay {
                    replay = false;
                    let upto = match bus.watermark(&db).await {
                        Ok(n) => n,
                        Err(e) => {
                            yield Err(internal(&e, request_id));
                            return;
                        }
                    };
                    'pages: loop {
                        let rows = match events::list_after(&db, &filter, last, REPLAY_PAGE).await {
                            Ok(rows) => rows,
                            Err(e) => {
                                yield Err(internal(&e, request_id));
                                return;
                            }
                        };
                        let full = rows.len() as u64 == REPLAY_PAGE;
                        for event in rows {
                            if event.id > upto {
                                break 'pages;
                            }
                            last = event.id;
                            if wanted(&event) {
                                yield Ok(LinkEvent(Arc::new(event)));
                            }
                        }
                        if !full {
                            break;
                        }
                    }
                    last = last.max(upto);
                }
                match rx.recv().await {
                    Ok(BusMessage::Event(event)) => {
                        if event.id <= last {
                            continue;
                        }
                        last = event.id;
                        if filter.matches(&event) && wanted(&event) {
                            yield Ok(LinkEvent(event));
                        }
                    }
                    Ok(BusMessage::Resync) | Err(RecvError::Lagged(_)) => replay = true,
                    Err(RecvError::Closed) => return,
                }
            }
        })
    }
}
