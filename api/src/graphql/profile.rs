//! `CreatorProfile`: a creator (or a group of creators) whose social accounts are linked.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::accounts::service::AccountWithLink;
use domain::entities::creator_profile;
use domain::link::status;
use domain::profiles::{ProfileFilter, ProfileOrder, ProfileOrderField};

use super::account::{Platform, SocialAccount};
use super::error::to_graphql;
use super::ids::{self, NodeType};
use super::link::LinkStatus;
use super::loaders::{AccountsOfProfile, GroupsOf, LatestMetricsOf, MembersOf};
use super::{keyset_request, ApiContext};

/// Whether a profile is one creator or a group of creators.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::ProfileKind")]
pub enum ProfileKind {
    /// One creator.
    Individual,
    /// A group of creators (a band, a duo, a collective); its members are individual profiles.
    Group,
}

/// How many of a profile's accounts show each link status.
#[derive(SimpleObject, Default, Debug)]
pub struct LinkStatusCounts {
    /// Added, never authenticated.
    pub not_linked: i32,
    /// Linked, not expiring soon.
    pub linked: i32,
    /// Linked, expiring within the window.
    pub expiring_soon: i32,
    /// The authorization expired.
    pub expired: i32,
    /// The authorization is unusable.
    pub invalid: i32,
}

/// A creator, or a group of creators, whose social accounts the organization tracks.
/// Access through `node(id:)`: roles admin and manager; API keys with `profiles:read`; creators
/// for their own profiles.
pub struct CreatorProfile(pub creator_profile::Model);

impl CreatorProfile {
    /// The profile's accounts with their derived statuses.
    async fn accounts_with_status(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<(AccountWithLink, domain::LinkStatus)>> {
        let api = ctx.api();
        let (now, window) = (api.now(), api.expiring_window());
        let accounts = api
            .loader()
            .load_one(AccountsOfProfile(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(accounts
            .into_iter()
            .map(|a| {
                let s = status::derive(&a.link_state(), now, window).status;
                (a, s)
            })
            .collect())
    }
}

#[Object]
impl CreatorProfile {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::CreatorProfile, self.0.id)
    }

    /// Whether this is one creator or a group.
    async fn kind(&self) -> ProfileKind {
        self.0.kind.into()
    }

    /// The name the organization knows the creator by.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// A contact email.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// Free-form notes of the organization's team.
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }

    /// When the profile was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the profile was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The profile's social accounts, oldest first.
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only accounts on this platform.")] platform: Option<Platform>,
        #[graphql(desc = "Only accounts whose link shows this status now.")] link_status: Option<
            LinkStatus,
        >,
    ) -> Result<Vec<SocialAccount>> {
        let platform: Option<domain::Platform> = platform.map(Into::into);
        let wanted: Option<domain::LinkStatus> = link_status.map(Into::into);
        Ok(self
            .accounts_with_status(ctx)
            .await?
            .into_iter()
            .filter(|(a, s)| {
                platform.is_none_or(|p| a.account.platform == p) && wanted.is_none_or(|w| *s == w)
            })
            .map(|(a, _)| SocialAccount(a))
            .collect())
    }

    /// Followers summed over the accounts that are LINKED or EXPIRING_SOON (authenticated
    /// accounts only, as the creator's Social Accounts page shows).
    async fn total_followers(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self
            .accounts_with_status(ctx)
            .await?
            .iter()
            .filter(|(_, s)| {
                matches!(
                    s,
                    domain::LinkStatus::Linked | domain::LinkStatus::ExpiringSoon
                )
            })
            .filter_map(|(a, _)| a.account.followers)
            .sum())
    }

    /// How many accounts show each link status now.
    async fn link_status_counts(&self, ctx: &Context<'_>) -> Result<LinkStatusCounts> {
        let mut counts = LinkStatusCounts::default();
        for (_, s) in self.accounts_with_status(ctx).await? {
            match s {
                domain::LinkStatus::NotLinked => counts.not_linked += 1,
                domain::LinkStatus::Linked => counts.linked += 1,
                domain::LinkStatus::ExpiringSoon => counts.expiring_soon += 1,
                domain::LinkStatus::Expired => counts.expired += 1,
                domain::LinkStatus::Invalid => counts.invalid += 1,
            }
        }
        Ok(counts)
    }

    /// For a GROUP: its member profiles, by name. Empty for an individual.
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<CreatorProfile>> {
        Ok(ctx
            .api()
            .loader()
            .load_one(MembersOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CreatorProfile)
            .collect())
    }

    /// The GROUP profiles this profile is a member of, by name.
    async fn groups(&self, ctx: &Context<'_>) -> Result<Vec<CreatorProfile>> {
        Ok(ctx
            .api()
            .loader()
            .load_one(GroupsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CreatorProfile)
            .collect())
    }
}

/// Which profiles `creatorProfiles` lists; every given field narrows the list.
#[derive(InputObject, Default)]
pub struct CreatorProfileFilter {
    /// Case-insensitive part of the name, the email or an account handle (at most 100
    /// characters).
    #[graphql(validator(max_length = 100))]
    pub search: Option<String>,
    /// Only profiles with an account on this platform.
    pub platform: Option<Platform>,
    /// Only profiles with an account whose link shows this status now (on `platform`, if given).
    pub link_status: Option<LinkStatus>,
    /// Only individuals or only groups.
    pub kind: Option<ProfileKind>,
}

impl From<CreatorProfileFilter> for ProfileFilter {
    fn from(f: CreatorProfileFilter) -> Self {
        ProfileFilter {
            search: f.search,
            platform: f.platform.map(Into::into),
            link_status: f.link_status.map(Into::into),
            kind: f.kind.map(Into::into),
            only: None,
        }
    }
}

/// What profiles can be sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CreatorProfileOrderField {
    /// The profile name.
    Name,
    /// When the profile was created.
    CreatedAt,
    /// When the profile was last changed.
    UpdatedAt,
}

/// A sort direction.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// How `creatorProfiles` is sorted; ties are broken by id so paging is stable.
#[derive(InputObject, Clone, Copy)]
pub struct CreatorProfileOrder {
    /// The field to sort by.
    pub field: CreatorProfileOrderField,
    /// The direction.
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

impl CreatorProfileOrder {
    fn domain(self) -> ProfileOrder {
        ProfileOrder {
            field: match self.field {
                CreatorProfileOrderField::Name => ProfileOrderField::Name,
                CreatorProfileOrderField::CreatedAt => ProfileOrderField::CreatedAt,
                CreatorProfileOrderField::UpdatedAt => ProfileOrderField::UpdatedAt,
            },
            descending: self.direction == OrderDirection::Desc,
        }
    }

    /// The tag that binds cursors to this order.
    fn tag(self) -> String {
        format!("profiles:{:?}:{:?}", self.field, self.direction)
    }
}

/// Loads the edges a page's query selects for all its profiles at once, so the number of
/// statements does not depend on how the resolvers' batches happen to interleave.
async fn prime(ctx: &Context<'_>, profiles: &[creator_profile::Model]) -> Result<()> {
    let node = ctx.look_ahead().field("edges").field("node");
    let accounts = node.field("accounts");
    let wants_accounts = accounts.exists()
        || node.field("totalFollowers").exists()
        || node.field("linkStatusCounts").exists();
    if !wants_accounts || profiles.is_empty() {
        return Ok(());
    }
    let api = ctx.api();
    let loader = api.loader();
    let loaded = loader
        .load_many(profiles.iter().map(|p| AccountsOfProfile(p.id)))
        .await?;
    if accounts.field("latestMetrics").exists() {
        let ids = loaded
            .values()
            .flatten()
            .map(|a| LatestMetricsOf(a.account.id));
        loader.load_many(ids).await?;
    }
    Ok(())
}

/// Extra fields of the profiles connection.
pub struct ProfileConnectionFields {
    filter: ProfileFilter,
}

#[Object]
impl ProfileConnectionFields {
    /// How many profiles match, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let api = ctx.api();
        domain::profiles::count(api.db(), api.org(), &self.filter, api.status_clock())
            .await
            .map_err(|e| to_graphql(e, api.request_id()))
    }
}

/// Reading creator profiles.
#[derive(Default)]
pub struct ProfileQuery;

#[Object]
impl ProfileQuery {
    /// One creator profile; null when it does not exist or is not visible to the caller.
    /// Access: roles admin and manager; API keys with `profiles:read`; creators for their own
    /// profiles.
    async fn creator_profile(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CreatorProfile>> {
        let api = ctx.api();
        let Some(uuid) = ids::decode_as(NodeType::CreatorProfile, &id) else {
            return Ok(None);
        };
        if api.visible().await?.is_some_and(|s| !s.profile(uuid)) {
            return Ok(None);
        }
        match domain::profiles::get(api.db(), api.org(), uuid).await {
            Ok(p) => Ok(Some(CreatorProfile(p))),
            Err(domain::DomainError::NotFound { .. }) => Ok(None),
            Err(e) => Err(to_graphql(e, api.request_id())),
        }
    }

    /// The organization's creator profiles (Relay cursor connection), oldest first unless
    /// `orderBy` says otherwise.
    /// Access: roles admin and manager; API keys with `profiles:read`; creators, limited to their
    /// own profiles.
    #[graphql(
        complexity = "first.or(last).unwrap_or(20).clamp(0, 100) as usize * child_complexity"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn creator_profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Narrows the list.")] filter: Option<CreatorProfileFilter>,
        #[graphql(desc = "The sort order (default: by creation, oldest first).")] order_by: Option<
            CreatorProfileOrder,
        >,
        #[graphql(desc = "Returns the first n profiles after `after`.")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page.")] after: Option<String>,
        #[graphql(desc = "Returns the last n profiles before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor from a previous page.")] before: Option<String>,
    ) -> Result<Connection<String, CreatorProfile, ProfileConnectionFields, EmptyFields>> {
        let api = ctx.api();
        let order = order_by.unwrap_or(CreatorProfileOrder {
            field: CreatorProfileOrderField::CreatedAt,
            direction: OrderDirection::Asc,
        });
        let tag = order.tag();
        let req = keyset_request(ctx, &tag, first, after, last, before)?;
        let mut filter: ProfileFilter = filter.unwrap_or_default().into();
        filter.only = api.caller().profile_limit().map(<[_]>::to_vec);
        if let Some(seen) = api.visible().await? {
            filter.only = Some(seen.profiles.iter().copied().collect());
        }
        let domain_order = order.domain();
        let page = domain::profiles::list(
            api.db(),
            api.org(),
            &filter,
            domain_order,
            &req,
            api.default_page_size(),
            api.status_clock(),
        )
        .await
        .map_err(|e| to_graphql(e, api.request_id()))?;
        prime(ctx, &page.items).await?;
        let mut connection = Connection::with_additional_fields(
            page.has_previous_page,
            page.has_next_page,
            ProfileConnectionFields { filter },
        );
        connection.edges.extend(page.items.into_iter().map(|p| {
            Edge::new(
                ids::encode_keyset_cursor(&tag, &domain_order.cursor(&p)),
                CreatorProfile(p),
            )
        }));
        Ok(connection)
    }
}
