//! The GraphQL API. Types here are API types built from domain values, never database rows
//! exposed as-is, so the schema changes only on purpose.

pub mod access;
pub mod account;
pub mod api_key;
pub mod campaign;
pub mod campaign_report;
pub mod connect;
pub mod error;
pub mod events;
pub mod failed_job;
pub mod guard;
pub mod ids;
pub mod invite;
pub mod kinds;
pub mod link;
pub mod loaders;
pub mod metrics;
pub mod privacy;
pub mod profile;
pub mod profile_mutation;
pub mod query;
pub mod sync;
pub mod user_error;
pub mod viewer;
pub mod webhook;

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, MergedObject, MergedSubscription, Schema};
use chrono::{DateTime, Duration, Utc};
use domain::access::Caller;
use domain::pagination::{Cursor, KeysetRequest, PageRequest};
use domain::profiles::StatusClock;
use domain::vault::Keyring;
use domain::webhooks::TargetPolicy;
use domain::{Actor, OrgId};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::app::Services;
use crate::config::{GraphqlConfig, LinksConfig};
use crate::live::Bus;
use error::codes;

/// Every query field, one part per concept; a new concept adds its `…Query` here.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    query::NodeQuery,
    viewer::ViewerQuery,
    profile::ProfileQuery,
    api_key::ApiKeyQuery,
    account::AccountQuery,
    webhook::WebhookQuery,
    campaign::CampaignQuery,
    failed_job::FailedJobQuery,
);

/// Every mutation, one part per concept; a new concept adds its `…Mutation` here.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    api_key::ApiKeyMutation,
    webhook::WebhookMutation,
    connect::ConnectMutation,
    profile_mutation::ProfileMutation,
    account::AccountMutation,
    invite::InviteMutation,
    privacy::PrivacyMutation,
    campaign::CampaignMutation,
    sync::SyncMutation,
    failed_job::FailedJobMutation,
);

/// Every subscription (served over a websocket at `/graphql`), one part per concept.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(events::EventSubscription);

/// The executable schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Per-request facts: who is asking and how to refer to this request in logs. Every transport
/// (HTTP, and the graphql-ws connection) must put one in the request data: the access
/// rules in [`access`] read the caller from it, and deny everything when it is missing.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: Uuid,
    pub caller: Caller,
}

impl RequestContext {
    pub fn new(request_id: Uuid, caller: Caller) -> Self {
        RequestContext { request_id, caller }
    }
}

/// Process-wide data the resolvers use.
pub struct Shared {
    pub db: DatabaseConnection,
    pub config: GraphqlConfig,
    /// How long before expiry a link shows EXPIRING_SOON (`links.expiring_window_days`).
    pub expiring_window: Duration,
    /// The vault keyring, platform clients and clock.
    pub services: Arc<Services>,
    /// Live events and webhooks; absent only in schemas built for printing.
    pub live: Option<Live>,
}

/// What subscriptions and webhook management use.
pub struct Live {
    pub bus: Bus,
    /// Seals webhook signing secrets.
    pub keyring: Arc<Keyring>,
    /// The SSRF rules for webhook URLs.
    pub webhook_targets: TargetPolicy,
    /// Where `redeliverWebhook` enqueues its delivery job.
    pub queue: jobs::Queue,
}

/// A resolver's view of the context: the shared data and the request's facts together.
pub struct Api<'a> {
    shared: &'a Shared,
    request: &'a RequestContext,
    loader: &'a loaders::AppLoader,
}

impl Api<'_> {
    pub fn db(&self) -> &DatabaseConnection {
        &self.shared.db
    }

    /// The caller's organization: every domain call filters by it.
    pub fn org(&self) -> OrgId {
        self.request.caller.org()
    }

    /// Who is calling (role, scopes, creator profiles).
    pub fn caller(&self) -> &Caller {
        &self.request.caller
    }

    /// How audit records (link events, key usage) name the caller.
    pub fn actor(&self) -> Actor {
        self.request.caller.actor()
    }

    pub fn request_id(&self) -> Uuid {
        self.request.request_id
    }

    pub fn public_url(&self) -> &str {
        &self.shared.services.public_url
    }

    /// The vault keyring, platform clients and clock.
    pub fn services(&self) -> &Services {
        &self.shared.services
    }

    pub fn live(&self) -> Option<&Live> {
        self.shared.live.as_ref()
    }

    pub fn default_page_size(&self) -> u64 {
        (self.shared.config.max_page_size as u64).min(20)
    }

    /// The instant derived link statuses are computed at.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.services.clock().now()
    }

    /// The EXPIRING_SOON window from configuration.
    pub fn expiring_window(&self) -> Duration {
        self.shared.expiring_window
    }

    /// The clock and window for derived link statuses.
    pub fn status_clock(&self) -> StatusClock {
        StatusClock {
            now: self.now(),
            window: self.expiring_window(),
        }
    }

    /// What a campaign-limited API key may see (computed once per request); `None` for every
    /// other caller. Every read that is not behind the loader filters by it.
    pub async fn visible(&self) -> async_graphql::Result<Option<Arc<domain::campaigns::Visible>>> {
        self.loader.loader().visible().await
    }

    /// The request's batching loader (one per request, so caches never cross tenants).
    pub fn loader(&self) -> &loaders::AppLoader {
        self.loader
    }
}

/// Access to [`Api`] from any resolver.
pub trait ApiContext {
    fn api(&self) -> Api<'_>;
}

impl ApiContext for Context<'_> {
    fn api(&self) -> Api<'_> {
        // Both are inserted by `build_schema` and the HTTP handler for every request; a missing
        // one is a programming error caught by every integration test.
        #[allow(clippy::expect_used)]
        Api {
            shared: self
                .data::<Arc<Shared>>()
                .expect("shared data is in the schema"),
            request: self
                .data::<RequestContext>()
                .expect("request context is in every request"),
            loader: self
                .data::<loaders::AppLoader>()
                .expect("the loader is in every request"),
        }
    }
}

/// Builds the schema with its limits.
pub fn build_schema(
    db: DatabaseConnection,
    config: &GraphqlConfig,
    links: &LinksConfig,
    live: Option<Live>,
    services: Arc<Services>,
) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .extension(guard::EdgeGuard)
    .extension(access::AccessControl)
    .data(Arc::new(Shared {
        db,
        config: config.clone(),
        expiring_window: Duration::days(i64::from(links.expiring_window_days)),
        live,
        services,
    }))
    .limit_depth(config.max_depth)
    .limit_complexity(config.max_complexity);
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}

/// A `BAD_USER_INPUT` GraphQL error naming the argument at fault.
pub fn bad_input(field: &'static str, message: String) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", codes::BAD_USER_INPUT);
        e.set("field", field);
    })
}

/// Checks `first`/`last` against each other and the configured maximum page size.
fn page_sizes(
    ctx: &Context<'_>,
    first: Option<i32>,
    last: Option<i32>,
) -> async_graphql::Result<(Option<u64>, Option<u64>)> {
    let max = ctx.api().shared.config.max_page_size;
    if first.is_some() && last.is_some() {
        return Err(bad_input(
            "first",
            "pass either `first` or `last`, not both".into(),
        ));
    }
    let size = |field: &'static str, v: Option<i32>| -> async_graphql::Result<Option<u64>> {
        match v {
            None => Ok(None),
            Some(n) if n < 0 => Err(bad_input(field, format!("`{field}` must not be negative"))),
            Some(n) if n as usize > max => Err(bad_input(
                field,
                format!("`{field}` must be at most {max} (the maximum page size)"),
            )),
            Some(n) => Ok(Some(n as u64)),
        }
    };
    Ok((size("first", first)?, size("last", last)?))
}

/// Validates Relay pagination arguments against the configured maximum page size.
pub fn page_request(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<PageRequest> {
    let (first, last) = page_sizes(ctx, first, last)?;
    let cursor = |field: &'static str, v: Option<String>| -> async_graphql::Result<Option<Uuid>> {
        match v {
            None => Ok(None),
            Some(c) => ids::decode_cursor(&c).map(Some).ok_or_else(|| {
                bad_input(
                    field,
                    format!("`{field}` is not a cursor of this connection"),
                )
            }),
        }
    };
    Ok(PageRequest {
        first,
        after: cursor("after", after)?,
        last,
        before: cursor("before", before)?,
    })
}

/// As [`page_request`] for connections ordered by a sort key: cursors carry the key and must
/// come from a connection in the same `order` (e.g. `profiles:NAME:ASC`).
pub fn keyset_request(
    ctx: &Context<'_>,
    order: &str,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<KeysetRequest> {
    let (first, last) = page_sizes(ctx, first, last)?;
    let cursor =
        |field: &'static str, v: Option<String>| -> async_graphql::Result<Option<Cursor>> {
            match v {
                None => Ok(None),
                Some(c) => ids::decode_keyset_cursor(order, &c)
                    .map(Some)
                    .ok_or_else(|| {
                        bad_input(
                            field,
                            format!("`{field}` is not a cursor of this connection in this order"),
                        )
                    }),
            }
        };
    Ok(KeysetRequest {
        first,
        after: cursor("after", after)?,
        last,
        before: cursor("before", before)?,
    })
}
