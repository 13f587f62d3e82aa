//! Delivering link events to webhook endpoints: at least once, signed, retried with exponential
//! backoff for about a day, then DEAD.
//!
//! A delivery row exists once per (endpoint, event) — the outbox relay may insert it again
//! harmlessly — and [`deliver`] is idempotent: it does nothing for a delivery that is finished or
//! not yet due, and claims an attempt with a conditional update so two workers running the same
//! job do not both send. The receiver sees the same event id on every retry and dedupes by it.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::signature::{self, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use super::target::{self, GuardedResolver, TargetPolicy};
use super::{event_types, signing_secret, EventType};
use crate::actor::Actor;
use crate::entities::{link_event, webhook_delivery, webhook_delivery_attempt, webhook_endpoint};
use crate::error::{DomainError, DomainResult};
use crate::events::{self, kind, NewEvent};
use crate::tenant::OrgId;
use crate::vault::Keyring;

/// The delivery statuses stored in `webhook_delivery.status`.
pub mod status {
    /// Waiting for its first attempt.
    pub const PENDING: &str = "PENDING";
    /// Delivered (the receiver answered 2xx).
    pub const SUCCEEDED: &str = "SUCCEEDED";
    /// The last attempt failed; another is scheduled at `next_attempt_at`.
    pub const FAILED: &str = "FAILED";
    /// Given up after the last retry, or the endpoint was disabled.
    pub const DEAD: &str = "DEAD";
}

/// How many characters of a response body are kept.
pub const EXCERPT_CHARS: usize = 512;

/// Retry and target rules for deliveries.
#[derive(Clone, Copy, Debug)]
pub struct DeliveryPolicy {
    pub target: TargetPolicy,
    /// Attempts before a delivery is DEAD.
    pub max_attempts: i32,
    /// Wait after the first failure; doubled after each further one.
    pub first_retry: Duration,
    /// The longest wait between two attempts.
    pub max_retry: Duration,
    /// The HTTP timeout of one attempt.
    pub timeout: StdDuration,
}

impl Default for DeliveryPolicy {
    /// 15 attempts 30 s, 1 min, 2 min, … apart, capped at 4 h: about 24 hours in all.
    fn default() -> Self {
        DeliveryPolicy {
            target: TargetPolicy {
                allow_http: false,
                allow_private: false,
            },
            max_attempts: 15,
            first_retry: Duration::seconds(30),
            max_retry: Duration::hours(4),
            timeout: StdDuration::from_secs(10),
        }
    }
}

impl DeliveryPolicy {
    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: i32) -> Duration {
        let doublings = Ord::min(Ord::max(attempt, 1) - 1, 20) as u32;
        let wait = self.first_retry * 2_i32.pow(doublings);
        wait.min(self.max_retry)
    }
}

/// The HTTP client deliveries go out with: the SSRF-guarded resolver, a short timeout and no
/// redirects (a redirect could point anywhere).
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    policy: DeliveryPolicy,
}

impl WebhookSender {
    pub fn new(policy: DeliveryPolicy) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("creatorlink-webhooks/1")
            .dns_resolver(std::sync::Arc::new(GuardedResolver {
                allow_private: policy.target.allow_private,
            }))
            .build()?;
        Ok(WebhookSender { client, policy })
    }

    pub fn policy(&self) -> &DeliveryPolicy {
        &self.policy
    }
}

/// The JSON body delivered for `event`: `{id, type, occurredAt, data}`.
pub fn payload(event: &link_event::Model) -> serde_json::Value {
    let ty = EventType::from_kind(&event.kind)
        .map(EventType::wire_name)
        .unwrap_or("link.event");
    json!({
        "id": event.id.to_string(),
        "type": ty,
        "occurredAt": event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {
            "organizationId": event.organization_id,
            "accountId": event.account_id,
            "profileId": event.profile_id,
            "platform": event.platform.map(|p| p.as_str()),
            "from": event.from_status.map(|s| s.as_str()),
            "to": event.to_status.map(|s| s.as_str()),
            "reason": event.reason,
            "actor": event.actor,
            "detail": event.detail,
        }
    })
}

/// Creates the deliveries of `events` to every enabled endpoint of their organization that asked
/// for their type; returns the ids of the deliveries of these events that still wait for an
/// attempt (to enqueue). Running it twice for the same events creates nothing new.
pub async fn enqueue_for_events(
    db: &impl ConnectionTrait,
    events: &[link_event::Model],
    now: DateTime<Utc>,
) -> DomainResult<Vec<Uuid>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut orgs: Vec<Uuid> = events.iter().map(|e| e.organization_id).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganizationId.is_in(orgs))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(db)
        .await?;
    let mut rows = Vec::new();
    for event in events {
        let Some(ty) = EventType::from_kind(&event.kind) else {
            continue;
        };
        for endpoint in endpoints
            .iter()
            .filter(|ep| ep.organization_id == event.organization_id)
            .filter(|ep| event_types(ep).contains(&ty))
        {
            rows.push(webhook_delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(event.organization_id),
                endpoint_id: Set(endpoint.id),
                event_id: Set(event.id),
                status: Set(status::PENDING.to_owned()),
                attempts: Set(0),
                last_status_code: Set(None),
                last_error: Set(None),
                response_excerpt: Set(None),
                next_attempt_at: Set(Some(now)),
                created_at: Set(now),
                delivered_at: Set(None),
            });
        }
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    webhook_delivery::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                webhook_delivery::Column::EndpointId,
                webhook_delivery::Column::EventId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::Id)
        .filter(webhook_delivery::Column::EventId.is_in(events.iter().map(|e| e.id)))
        .filter(webhook_delivery::Column::Status.eq(status::PENDING))
        .order_by_asc(webhook_delivery::Column::EventId)
        .into_tuple::<Uuid>()
        .all(db)
        .await?)
}

/// Deliveries whose next attempt is due at `now`, oldest event first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> DomainResult<Vec<Uuid>> {
    Ok(webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::Id)
        .filter(webhook_delivery::Column::Status.is_in([status::PENDING, status::FAILED]))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(limit)
        .into_tuple::<Uuid>()
        .all(db)
        .await?)
}

/// What one call of [`deliver`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// The attempt failed; the next one is due at this time.
    RetryAt(DateTime<Utc>),
    /// The attempt failed and was the last one (or the endpoint is disabled).
    Dead,
    /// Nothing to do: finished already, not due yet, or another worker holds the attempt.
    Skipped,
}

/// How one HTTP attempt ended.
struct Attempt {
    status_code: Option<i32>,
    error: Option<String>,
    excerpt: Option<String>,
    duration_ms: i64,
}

impl Attempt {
    fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// Tries delivery `delivery_id` once if it is due at `now`, and records the outcome.
///
/// Idempotent: a finished or not-yet-due delivery is left alone, and the attempt is claimed with a
/// conditional update (and pushed out by the timeout) before sending, so a second worker running
/// the same job at the same time does nothing.
#[tracing::instrument(skip(db, keyring, sender), fields(delivery_id = %delivery_id))]
pub async fn deliver(
    db: &(impl ConnectionTrait + TransactionTrait),
    keyring: &Keyring,
    sender: &WebhookSender,
    delivery_id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<DeliveryOutcome> {
    let Some(delivery) = webhook_delivery::Entity::find_by_id(delivery_id)
        .one(db)
        .await?
    else {
        return Ok(DeliveryOutcome::Skipped);
    };
    let open = delivery.status == status::PENDING || delivery.status == status::FAILED;
    if !open || delivery.next_attempt_at.is_some_and(|at| at > now) {
        return Ok(DeliveryOutcome::Skipped);
    }
    let Some(endpoint) = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id)
        .one(db)
        .await?
    else {
        return Ok(DeliveryOutcome::Skipped);
    };
    if !endpoint.enabled {
        mark(
            db,
            &delivery,
            status::DEAD,
            None,
            Some("endpoint disabled".into()),
            None,
        )
        .await?;
        return Ok(DeliveryOutcome::Dead);
    }
    let Some(event) = link_event::Entity::find_by_id(delivery.event_id)
        .one(db)
        .await?
    else {
        return Ok(DeliveryOutcome::Skipped);
    };

    // Everything that can fail without the receiver happens before the claim: an error after it
    // would leave the delivery claimed but untried until the claim ran out and the scan found it.
    let secret = signing_secret(keyring, &endpoint)?;
    let body = payload(&event).to_string();

    // Claim: only the worker whose update matches the attempt count it read goes on. The claim
    // moves the due time past the timeout, so a worker killed mid-attempt leaves the delivery
    // due again soon, never stuck.
    let claim_until = now
        + Duration::from_std(sender.policy.timeout).unwrap_or(Duration::seconds(10))
        + Duration::seconds(30);
    let claimed = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Attempts,
            Expr::col(webhook_delivery::Column::Attempts).add(1),
        )
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(claim_until),
        )
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(webhook_delivery::Column::Attempts.eq(delivery.attempts))
        .filter(webhook_delivery::Column::Status.is_in([status::PENDING, status::FAILED]))
        .exec(db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(DeliveryOutcome::Skipped);
    }
    let attempt_no = delivery.attempts + 1;

    let timestamp = now.timestamp();
    let attempt = send(sender, &endpoint.url, &event, &secret, timestamp, body).await;
    let number = webhook_delivery_attempt::Entity::find()
        .filter(webhook_delivery_attempt::Column::DeliveryId.eq(delivery.id))
        .count(db)
        .await? as i32
        + 1;

    let txn = db.begin().await?;
    webhook_delivery_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(delivery.id),
        number: Set(number),
        status_code: Set(attempt.status_code),
        error: Set(attempt.error.clone()),
        response_excerpt: Set(attempt.excerpt.clone()),
        duration_ms: Set(attempt.duration_ms),
        attempted_at: Set(now),
    }
    .insert(&txn)
    .await?;

    let outcome = if attempt.succeeded() {
        let mut active: webhook_delivery::ActiveModel = delivery.clone().into();
        active.status = Set(status::SUCCEEDED.to_owned());
        active.attempts = Set(attempt_no);
        active.last_status_code = Set(attempt.status_code);
        active.last_error = Set(None);
        active.response_excerpt = Set(attempt.excerpt);
        active.next_attempt_at = Set(None);
        active.delivered_at = Set(Some(now));
        active.update(&txn).await?;
        if endpoint.consecutive_failures != 0 {
            webhook_endpoint::Entity::update_many()
                .col_expr(
                    webhook_endpoint::Column::ConsecutiveFailures,
                    Expr::value(0),
                )
                .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                .exec(&txn)
                .await?;
        }
        DeliveryOutcome::Delivered
    } else if attempt_no >= sender.policy.max_attempts {
        let mut active: webhook_delivery::ActiveModel = delivery.clone().into();
        active.status = Set(status::DEAD.to_owned());
        active.attempts = Set(attempt_no);
        active.last_status_code = Set(attempt.status_code);
        active.last_error = Set(attempt.error);
        active.response_excerpt = Set(attempt.excerpt);
        active.next_attempt_at = Set(None);
        active.update(&txn).await?;
        on_dead(&txn, &endpoint, &delivery, now).await?;
        DeliveryOutcome::Dead
    } else {
        let next = now + sender.policy.backoff(attempt_no);
        let mut active: webhook_delivery::ActiveModel = delivery.clone().into();
        active.status = Set(status::FAILED.to_owned());
        active.attempts = Set(attempt_no);
        active.last_status_code = Set(attempt.status_code);
        active.last_error = Set(attempt.error);
        active.response_excerpt = Set(attempt.excerpt);
        active.next_attempt_at = Set(Some(next));
        active.update(&txn).await?;
        DeliveryOutcome::RetryAt(next)
    };
    txn.commit().await?;
    tracing::info!(
        endpoint_id = %endpoint.id,
        event_id = event.id,
        attempt = attempt_no,
        status_code = attempt.status_code,
        outcome = ?outcome,
        "webhook delivery attempt"
    );
    Ok(outcome)
}

/// A delivery died: count it on the endpoint, and disable the endpoint when it has not delivered
/// anything since this delivery was created (it failed for the whole retry window), recording an
/// event so the organization hears about it.
async fn on_dead(
    db: &impl ConnectionTrait,
    endpoint: &webhook_endpoint::Model,
    delivery: &webhook_delivery::Model,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let delivered_since = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::DeliveredAt.gte(delivery.created_at))
        .count(db)
        .await?;
    let failures = endpoint.consecutive_failures + 1;
    let mut active: webhook_endpoint::ActiveModel = endpoint.clone().into();
    active.consecutive_failures = Set(failures);
    active.updated_at = Set(now);
    if delivered_since == 0 && endpoint.enabled {
        let reason = format!(
            "failing continuously since {}: no delivery succeeded through {} attempts",
            delivery
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            delivery.attempts + 1
        );
        active.enabled = Set(false);
        active.disabled_reason = Set(Some(reason.clone()));
        events::record(
            db,
            NewEvent {
                org: OrgId::new(endpoint.organization_id),
                account_id: None,
                profile_id: None,
                platform: None,
                kind: kind::WEBHOOK_ENDPOINT_DISABLED,
                from: None,
                to: None,
                reason: Some(reason),
                actor: Actor::system("deliver-webhooks"),
                detail: Some(json!({ "endpointId": endpoint.id, "url": endpoint.url })),
                occurred_at: now,
            },
        )
        .await?;
        tracing::warn!(endpoint_id = %endpoint.id, "webhook endpoint disabled after failing continuously");
    }
    active.update(db).await?;
    Ok(())
}

/// Sets a delivery's status without an attempt (e.g. DEAD because the endpoint is disabled).
async fn mark(
    db: &impl ConnectionTrait,
    delivery: &webhook_delivery::Model,
    new_status: &str,
    status_code: Option<i32>,
    error: Option<String>,
    next: Option<DateTime<Utc>>,
) -> DomainResult<()> {
    let mut active: webhook_delivery::ActiveModel = delivery.clone().into();
    active.status = Set(new_status.to_owned());
    active.last_status_code = Set(status_code);
    active.last_error = Set(error);
    active.next_attempt_at = Set(next);
    active.update(db).await?;
    Ok(())
}

/// One signed POST; never fails, every problem becomes part of the attempt.
async fn send(
    sender: &WebhookSender,
    url: &str,
    event: &link_event::Model,
    secret: &crate::secret::Secret,
    timestamp: i64,
    body: String,
) -> Attempt {
    let started = Instant::now();
    let elapsed = |started: Instant| started.elapsed().as_millis() as i64;
    // The URL was checked when the endpoint was created; check it again, as the rules may have
    // been tightened since (an IP literal never reaches the guarded resolver).
    if let Err(e) = target::parse(url, sender.policy.target) {
        return Attempt {
            status_code: None,
            error: Some(refusal(e)),
            excerpt: None,
            duration_ms: 0,
        };
    }
    let signature = signature::sign(secret, timestamp, body.as_bytes());
    let result = sender
        .client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_ID_HEADER, event.id.to_string())
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await;
    match result {
        Ok(mut response) => {
            let code = response.status().as_u16() as i32;
            let excerpt = read_excerpt(&mut response).await;
            Attempt {
                status_code: Some(code),
                error: None,
                excerpt,
                duration_ms: elapsed(started),
            }
        }
        Err(e) => Attempt {
            status_code: None,
            error: Some(describe(&e)),
            excerpt: None,
            duration_ms: elapsed(started),
        },
    }
}

fn refusal(e: DomainError) -> String {
    match e {
        DomainError::Invalid { message, .. } => format!("target refused: {message}"),
        other => other.to_string(),
    }
}

/// A short reason for a failed request, without the chain of library internals.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = None;
    while let Some(s) = source {
        detail = Some(s.to_string());
        source = s.source();
    }
    match detail {
        Some(d) => format!("{kind}: {d}"),
        None => kind.to_owned(),
    }
}

/// Reads no more of the body than the excerpt needs.
async fn read_excerpt(response: &mut reqwest::Response) -> Option<String> {
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text: String = String::from_utf8_lossy(&bytes)
        .chars()
        .take(EXCERPT_CHARS)
        .collect();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_for_about_a_day() {
        let policy = DeliveryPolicy::default();
        assert_eq!(policy.backoff(1), Duration::seconds(30));
        assert_eq!(policy.backoff(2), Duration::seconds(60));
        assert_eq!(policy.backoff(3), Duration::seconds(120));
        assert_eq!(policy.backoff(14), Duration::hours(4));
        let total: Duration = (1..policy.max_attempts).map(|a| policy.backoff(a)).sum();
        assert!(
            total >= Duration::hours(22) && total <= Duration::hours(26),
            "{total}"
        );
    }
}
