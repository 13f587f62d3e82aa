//! Batching for every edge of the graph (async-graphql's DataLoader): resolvers ask for one key,
//! the loader collects the keys of a whole page and answers them with one statement per edge.
//! A loader is made per request (`new_loader`), bound to the request's organization, so its
//! cache never crosses tenants or requests.
//!
//! It is also bound to the caller's campaign limitation: for a campaign-limited API key every
//! edge answers only what [`Visible`] allows (the campaigns' profiles and accounts, their content
//! media, daily metrics inside the campaign windows, no audiences), so a nested field can never
//! reach further than the root fields do.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::NaiveDate;
use domain::accounts::{data, service::AccountWithLink};
use domain::campaigns::{access as campaign_access, CampaignAccess, Visible};
use domain::entities::{
    audience, creator_profile, link_event, media, media_metric, metric_snapshot, sync_state,
};
use domain::pagination::{KeysetRequest, Page};
use domain::{DomainResult, OrgId};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::error::to_graphql;
use super::RequestContext;
use crate::sql_stats::StatementCounter;

/// The request's loader; one instance serves every key type below.
pub type AppLoader = DataLoader<Batch, HashMapCache>;

/// What the batch functions need: the pool and the request's organization.
pub struct Batch {
    db: DatabaseConnection,
    org: OrgId,
    request_id: Uuid,
    access: CampaignAccess,
    visible: tokio::sync::OnceCell<Option<Arc<Visible>>>,
}

/// A loader for one request. Its batches run in spawned tasks that keep counting statements
/// against the request.
pub fn new_loader(
    db: DatabaseConnection,
    ctx: &RequestContext,
    statements: StatementCounter,
) -> AppLoader {
    DataLoader::with_cache(
        Batch {
            db,
            org: ctx.caller.org(),
            request_id: ctx.request_id,
            access: CampaignAccess::of_caller(&ctx.caller),
            visible: tokio::sync::OnceCell::new(),
        },
        move |fut| tokio::spawn(statements.scope(fut)),
        HashMapCache::default(),
    )
}

/// A profile by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProfileById(pub Uuid);
/// An account (with its link) by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AccountById(pub Uuid);
/// The accounts (with links) a profile holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AccountsOfProfile(pub Uuid);
/// The newest daily snapshot of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LatestMetricsOf(pub Uuid);
/// An account's daily snapshots in a date range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MetricsOf {
    pub account: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
}
/// An account's captured stories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoriesOf(pub Uuid);
/// An account's audience.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AudienceOf(pub Uuid);
/// The newest metrics of a media item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LatestMediaMetricsOf(pub Uuid);
/// An account's `sync_state` rows (freshness per resource).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FreshnessOf(pub Uuid);
/// The members of a group profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MembersOf(pub Uuid);
/// The groups a profile is a member of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GroupsOf(pub Uuid);

/// One page of an account's media: the account, and the filter and page request every account
/// of the response shares (keys with equal filter and request are answered by one statement).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MediaPageOf {
    pub account: Uuid,
    pub filter: data::MediaFilter,
    pub req: KeysetRequest,
    pub default_size: u64,
}
/// One page of an account's link event history (batched as [`MediaPageOf`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventsPageOf {
    pub account: Uuid,
    pub req: KeysetRequest,
    pub default_size: u64,
}

impl Batch {
    /// What a campaign-limited caller may see (read once per request); `None` when the caller
    /// is not limited.
    pub async fn visible(&self) -> async_graphql::Result<Option<Arc<Visible>>> {
        self.visible
            .get_or_try_init(|| async {
                campaign_access::visible(&self.db, self.org, &self.access)
                    .await
                    .map(|v| v.map(Arc::new))
            })
            .await
            .cloned()
            .map_err(|e| self.fail(e))
    }

    /// Keeps the entries of `map` whose value `keep` allows, when the caller is limited.
    async fn only_visible<K, V>(
        &self,
        map: HashMap<K, V>,
        keep: impl Fn(&Visible, &V) -> bool,
    ) -> async_graphql::Result<HashMap<K, V>>
    where
        K: Hash + Eq,
    {
        match self.visible().await? {
            None => Ok(map),
            Some(seen) => Ok(map.into_iter().filter(|(_, v)| keep(&seen, v)).collect()),
        }
    }

    fn fail(&self, e: domain::DomainError) -> async_graphql::Error {
        to_graphql(e, self.request_id)
    }

    fn done_one<K: Hash + Eq + Copy, V>(
        &self,
        keys: &[K],
        r: DomainResult<HashMap<K, V>>,
    ) -> async_graphql::Result<HashMap<K, Option<V>>> {
        r.map(|found| complete_one(keys, found))
            .map_err(|e| self.fail(e))
    }

    fn done_many<K: Hash + Eq + Copy, V>(
        &self,
        keys: &[K],
        r: DomainResult<HashMap<K, Vec<V>>>,
    ) -> async_graphql::Result<HashMap<K, Vec<V>>> {
        r.map(|found| complete(keys, found))
            .map_err(|e| self.fail(e))
    }
}

/// Answers every key, so misses are cached too (a profile without accounts, an account without
/// metrics) and never cause another batch.
fn complete<K: Hash + Eq + Copy, V: Default>(
    keys: &[K],
    mut found: HashMap<K, V>,
) -> HashMap<K, V> {
    for k in keys {
        found.entry(*k).or_default();
    }
    found
}

/// As [`complete`] for to-one edges: a value per key, `None` when absent.
fn complete_one<K: Hash + Eq + Copy, V>(keys: &[K], found: HashMap<K, V>) -> HashMap<K, Option<V>> {
    let mut found = found;
    keys.iter().map(|k| (*k, found.remove(k))).collect()
}

fn group<K: Hash + Eq, V>(pairs: impl IntoIterator<Item = (K, V)>) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

fn ids<K: Copy>(keys: &[K], f: impl Fn(K) -> Uuid) -> Vec<Uuid> {
    keys.iter().map(|k| f(*k)).collect()
}

impl Loader<ProfileById> for Batch {
    type Value = Option<creator_profile::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ProfileById],
    ) -> Result<HashMap<ProfileById, Self::Value>, Self::Error> {
        let rows = domain::profiles::get_many(&self.db, self.org, &ids(keys, |k| k.0)).await;
        let found = self.done_one(
            keys,
            rows.map(|rows| rows.into_iter().map(|p| (ProfileById(p.id), p)).collect()),
        )?;
        self.only_visible(found, |seen, p| {
            p.as_ref().is_some_and(|p| seen.profile(p.id))
        })
        .await
    }
}

impl Loader<AccountById> for Batch {
    type Value = Option<AccountWithLink>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[AccountById],
    ) -> Result<HashMap<AccountById, Self::Value>, Self::Error> {
        let rows =
            domain::accounts::service::get_many(&self.db, self.org, &ids(keys, |k| k.0)).await;
        let found = self.done_one(
            keys,
            rows.map(|rows| {
                rows.into_iter()
                    .map(|a| (AccountById(a.account.id), a))
                    .collect()
            }),
        )?;
        self.only_visible(found, |seen, a| {
            a.as_ref().is_some_and(|a| seen.account(a.account.id))
        })
        .await
    }
}

impl Loader<AccountsOfProfile> for Batch {
    type Value = Vec<AccountWithLink>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[AccountsOfProfile],
    ) -> Result<HashMap<AccountsOfProfile, Self::Value>, Self::Error> {
        let rows =
            domain::accounts::service::for_profiles(&self.db, self.org, &ids(keys, |k| k.0)).await;
        let seen = self.visible().await?;
        self.done_many(
            keys,
            rows.map(|rows| {
                group(
                    rows.into_iter()
                        .filter(|a| seen.as_ref().is_none_or(|s| s.account(a.account.id)))
                        .filter_map(|a| {
                            a.account
                                .profile_id
                                .map(|profile| (AccountsOfProfile(profile), a))
                        }),
                )
            }),
        )
    }
}

impl Loader<LatestMetricsOf> for Batch {
    type Value = Option<metric_snapshot::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[LatestMetricsOf],
    ) -> Result<HashMap<LatestMetricsOf, Self::Value>, Self::Error> {
        let rows = data::latest_metrics(&self.db, self.org, &ids(keys, |k| k.0)).await;
        let found = self.done_one(
            keys,
            rows.map(|rows| {
                rows.into_iter()
                    .map(|m| (LatestMetricsOf(m.account_id), m))
                    .collect()
            }),
        )?;
        self.only_visible(found, |seen, m| {
            m.as_ref().is_some_and(|m| seen.day(m.account_id, m.day))
        })
        .await
    }
}

impl Loader<MetricsOf> for Batch {
    type Value = Vec<metric_snapshot::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[MetricsOf],
    ) -> Result<HashMap<MetricsOf, Self::Value>, Self::Error> {
        // One statement per distinct date range; a page of accounts usually asks for one.
        let ranges = group(keys.iter().map(|k| ((k.from, k.to), k.account)));
        let mut out = HashMap::new();
        for ((from, to), accounts) in ranges {
            let rows = data::metrics(&self.db, self.org, &accounts, from, to)
                .await
                .map_err(|e| self.fail(e))?;
            for (account, snapshots) in group(rows.into_iter().map(|m| (m.account_id, m))) {
                out.insert(MetricsOf { account, from, to }, snapshots);
            }
        }
        if let Some(seen) = self.visible().await? {
            for snapshots in out.values_mut() {
                snapshots.retain(|m| seen.day(m.account_id, m.day));
            }
        }
        Ok(complete(keys, out))
    }
}

impl Loader<StoriesOf> for Batch {
    type Value = Vec<media::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[StoriesOf],
    ) -> Result<HashMap<StoriesOf, Self::Value>, Self::Error> {
        let seen = self.visible().await?;
        let rows = data::stories(&self.db, self.org, &ids(keys, |k| k.0))
            .await
            .map(|rows| {
                rows.into_iter()
                    .filter(|m| seen.as_ref().is_none_or(|s| s.media(m.id)))
                    .collect::<Vec<_>>()
            });
        self.done_many(
            keys,
            rows.map(|rows| group(rows.into_iter().map(|m| (StoriesOf(m.account_id), m)))),
        )
    }
}

impl Loader<AudienceOf> for Batch {
    type Value = Option<audience::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[AudienceOf],
    ) -> Result<HashMap<AudienceOf, Self::Value>, Self::Error> {
        // A campaign-limited caller never sees audiences.
        if self.visible().await?.is_some() {
            return Ok(complete_one(keys, HashMap::new()));
        }
        let rows = data::audiences(&self.db, self.org, &ids(keys, |k| k.0)).await;
        self.done_one(
            keys,
            rows.map(|rows| {
                rows.into_iter()
                    .map(|a| (AudienceOf(a.account_id), a))
                    .collect()
            }),
        )
    }
}

impl Loader<LatestMediaMetricsOf> for Batch {
    type Value = Option<media_metric::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[LatestMediaMetricsOf],
    ) -> Result<HashMap<LatestMediaMetricsOf, Self::Value>, Self::Error> {
        let rows = data::latest_media_metrics(&self.db, self.org, &ids(keys, |k| k.0)).await;
        let found = self.done_one(
            keys,
            rows.map(|rows| {
                rows.into_iter()
                    .map(|m| (LatestMediaMetricsOf(m.media_id), m))
                    .collect()
            }),
        )?;
        self.only_visible(found, |seen, m| {
            m.as_ref().is_some_and(|m| seen.media(m.media_id))
        })
        .await
    }
}

impl Loader<MembersOf> for Batch {
    type Value = Vec<creator_profile::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[MembersOf],
    ) -> Result<HashMap<MembersOf, Self::Value>, Self::Error> {
        let seen = self.visible().await?;
        let rows = domain::profiles::members_of(&self.db, self.org, &ids(keys, |k| k.0)).await;
        self.done_many(
            keys,
            rows.map(|rows| {
                group(
                    rows.into_iter()
                        .filter(|(_, p)| seen.as_ref().is_none_or(|s| s.profile(p.id)))
                        .map(|(g, p)| (MembersOf(g), p)),
                )
            }),
        )
    }
}

impl Loader<GroupsOf> for Batch {
    type Value = Vec<creator_profile::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[GroupsOf]) -> Result<HashMap<GroupsOf, Self::Value>, Self::Error> {
        let seen = self.visible().await?;
        let rows = domain::profiles::groups_of(&self.db, self.org, &ids(keys, |k| k.0)).await;
        self.done_many(
            keys,
            rows.map(|rows| {
                group(
                    rows.into_iter()
                        .filter(|(_, p)| seen.as_ref().is_none_or(|s| s.profile(p.id)))
                        .map(|(m, p)| (GroupsOf(m), p)),
                )
            }),
        )
    }
}

impl Loader<FreshnessOf> for Batch {
    type Value = Vec<sync_state::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[FreshnessOf],
    ) -> Result<HashMap<FreshnessOf, Self::Value>, Self::Error> {
        let rows = domain::sync::state::freshness(&self.db, self.org, &ids(keys, |k| k.0))
            .await
            .map_err(domain::DomainError::from);
        self.done_many(
            keys,
            rows.map(|m| m.into_iter().map(|(k, v)| (FreshnessOf(k), v)).collect()),
        )
    }
}

impl Loader<MediaPageOf> for Batch {
    type Value = Page<media::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[MediaPageOf],
    ) -> Result<HashMap<MediaPageOf, Self::Value>, Self::Error> {
        // One statement per distinct (filter, page request): one in the usual query, where
        // every account of a page asks for the same `media(first: n)`.
        let groups = group(
            keys.iter()
                .map(|k| ((k.filter.clone(), k.req.clone(), k.default_size), k.account)),
        );
        let mut out = HashMap::new();
        for ((filter, req, size), accounts) in groups {
            let pages = data::media_pages(&self.db, self.org, &accounts, &filter, &req, size)
                .await
                .map_err(|e| self.fail(e))?;
            for (account, page) in pages {
                let key = MediaPageOf {
                    account,
                    filter: filter.clone(),
                    req: req.clone(),
                    default_size: size,
                };
                out.insert(key, page);
            }
        }
        Ok(out)
    }
}

impl Loader<EventsPageOf> for Batch {
    type Value = Page<link_event::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[EventsPageOf],
    ) -> Result<HashMap<EventsPageOf, Self::Value>, Self::Error> {
        let groups = group(
            keys.iter()
                .map(|k| ((k.req.clone(), k.default_size), k.account)),
        );
        let mut out = HashMap::new();
        for ((req, size), accounts) in groups {
            let pages = data::events_pages(&self.db, self.org, &accounts, &req, size)
                .await
                .map_err(|e| self.fail(e))?;
            for (account, page) in pages {
                let key = EventsPageOf {
                    account,
                    req: req.clone(),
                    default_size: size,
                };
                out.insert(key, page);
            }
        }
        Ok(out)
    }
}
