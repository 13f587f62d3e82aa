//! Data pulls over GraphQL: `requestSync` (pull now, rate-limited per account) and the
//! `ResourceFreshness` rows of `SocialAccount.freshness`.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::entities::sync_state;
use domain::sync::state::{self, Requested};
use domain::LinkStatus;

use super::account::SocialAccount;
use super::error::{codes, to_graphql};
use super::ids::{self, NodeType};
use super::user_error::{user_error, UserError};
use super::ApiContext;

/// What a pull brings in.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::sync::SyncResource")]
pub enum SyncResource {
    /// Media of the last 48 hours with their insights (hourly).
    Media,
    /// Live Instagram stories with their insights (every 2 hours by default).
    Stories,
    /// Daily account snapshots, and the media of the last 30 days with insights (every 6 hours).
    Metrics,
    /// Audience demographics, or why the platform withholds them (weekly).
    Audience,
}

/// How fresh one pulled resource of an account is.
#[derive(SimpleObject, Clone, Debug)]
pub struct ResourceFreshness {
    pub resource: SyncResource,
    /// The last pull that succeeded.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last pull that failed.
    pub last_error_at: Option<DateTime<Utc>>,
    /// What went wrong then (never a token).
    pub last_error: Option<String>,
    /// Failed pulls in a row; 0 after a success.
    pub consecutive_failures: i32,
    /// When the next pull is due (null: at the next scan).
    pub next_run_at: Option<DateTime<Utc>>,
}

impl ResourceFreshness {
    pub fn from_row(row: sync_state::Model) -> Option<Self> {
        let resource = domain::sync::SyncResource::parse(&row.resource)?;
        Some(ResourceFreshness {
            resource: resource.into(),
            last_success_at: row.last_success_at,
            last_error_at: row.last_error_at,
            last_error: row.last_error,
            consecutive_failures: row.consecutive_failures,
            next_run_at: row.next_run_at,
        })
    }
}

/// Which account to pull now, and what.
#[derive(InputObject)]
pub struct RequestSyncInput {
    /// The social account.
    pub account_id: ID,
    /// What to pull; omitted: everything pulled for the account's platform.
    pub resources: Option<Vec<SyncResource>>,
}

/// The result of `requestSync`.
#[derive(SimpleObject)]
pub struct RequestSyncPayload {
    /// The account; null on error.
    pub social_account: Option<SocialAccount>,
    /// The pulls enqueued.
    pub requested: Vec<SyncResource>,
    /// With `RATE_LIMITED`: when a request can be made again.
    pub retry_at: Option<DateTime<Utc>>,
    /// Why nothing was requested.
    pub user_errors: Vec<UserError>,
}

/// `requestSync`.
#[derive(Default)]
pub struct SyncMutation;

#[Object]
impl SyncMutation {
    /// Enqueues pulls of an account now instead of waiting for the schedule. At most one request
    /// per account and resource within `jobs.sync_cooldown_secs` (5 minutes by default): sooner
    /// fails with `RATE_LIMITED` and `retryAt`. Fails with `NOT_FOUND` for an unknown account,
    /// `ACCOUNT_NOT_LINKED` when its link is not usable, `RESOURCE_NOT_AVAILABLE` for a resource
    /// the platform does not have (stories outside Instagram) and `INVALID_INPUT` for an empty
    /// list. The pulls run on the job workers; `SocialAccount.freshness` shows their outcome.
    /// Access: roles admin and manager; API keys with `accounts:write`; no creators.
    async fn request_sync(
        &self,
        ctx: &Context<'_>,
        input: RequestSyncInput,
    ) -> Result<RequestSyncPayload> {
        let api = ctx.api();
        let mut payload = RequestSyncPayload {
            social_account: None,
            requested: Vec::new(),
            retry_at: None,
            user_errors: Vec::new(),
        };
        let Some(account_id) = ids::decode_as(NodeType::SocialAccount, &input.account_id) else {
            payload
                .user_errors
                .push(UserError::not_found("accountId", "social account"));
            return Ok(payload);
        };
        let account = match domain::accounts::service::get(api.db(), api.org(), account_id).await {
            Ok(a) => a,
            Err(e) => {
                payload
                    .user_errors
                    .push(user_error(e, "accountId", api.request_id())?);
                return Ok(payload);
            }
        };
        let platform = account.account.platform;
        let resources: Vec<domain::sync::SyncResource> = match &input.resources {
            None => domain::sync::SyncResource::ALL
                .into_iter()
                .filter(|r| r.applies_to(platform))
                .collect(),
            Some(list) => {
                let mut out: Vec<domain::sync::SyncResource> = Vec::new();
                for r in list.iter().copied().map(domain::sync::SyncResource::from) {
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
                out
            }
        };
        if resources.is_empty() {
            payload.user_errors.push(UserError::new(
                "INVALID_INPUT",
                Some("resources"),
                "name at least one resource, or omit the list to pull everything",
            ));
            return Ok(payload);
        }
        if let Some(r) = resources.iter().find(|r| !r.applies_to(platform)) {
            payload.user_errors.push(UserError::new(
                "RESOURCE_NOT_AVAILABLE",
                Some("resources"),
                format!(
                    "{} is not pulled for {} accounts",
                    r.as_str(),
                    platform.as_str()
                ),
            ));
            return Ok(payload);
        }
        let now = api.now();
        let usable = account.link.as_ref().is_some_and(|l| {
            matches!(l.status, LinkStatus::Linked | LinkStatus::ExpiringSoon)
                && l.access_token.is_some()
                && l.expires_at.is_none_or(|e| e > now)
        });
        if !usable {
            payload.user_errors.push(UserError::new(
                "ACCOUNT_NOT_LINKED",
                Some("accountId"),
                "the account's link is not usable; the creator needs to connect it first",
            ));
            return Ok(payload);
        }
        let services = api.services();
        let settings = &services.job_settings;
        let requested = state::request(
            api.db(),
            api.org(),
            account_id,
            &resources,
            now,
            settings.sync_request_cooldown,
            jobs::sync::claim_for(settings),
        )
        .await
        .map_err(|e| to_graphql(e.into(), api.request_id()))?;
        if let Requested::RateLimited { retry_at } = requested {
            payload.retry_at = Some(retry_at);
            payload.user_errors.push(UserError::new(
                codes::RATE_LIMITED,
                Some("accountId"),
                format!(
                    "a sync of this account was requested recently; try again after {}",
                    retry_at.to_rfc3339()
                ),
            ));
            return Ok(payload);
        }
        for r in &resources {
            jobs::sync::enqueue_pull(&services.queue, *r, account_id)
                .await
                .map_err(|e| {
                    to_graphql(
                        domain::DomainError::Upstream {
                            retryable: true,
                            message: format!("cannot enqueue the pull: {e}"),
                        },
                        api.request_id(),
                    )
                })?;
        }
        payload.requested = resources.into_iter().map(Into::into).collect();
        payload.social_account = Some(SocialAccount(account));
        Ok(payload)
    }
}
