//! `SocialAccount`: one Instagram, Facebook, TikTok or YouTube account on a profile, with its
//! link, metrics, media, stories, audience and history; adding and removing accounts.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::accounts::data::{self, MediaFilter};
use domain::accounts::service::{self, AccountWithLink, AddAccountError};

use super::error::to_graphql;
use super::events::LinkEvent;
use super::ids::{self, NodeType};
use super::link::Link;
use super::loaders::{
    AudienceOf, EventsPageOf, FreshnessOf, LatestMetricsOf, MediaPageOf, MetricsOf, ProfileById,
    StoriesOf,
};
use super::metrics::{Audience, Date, Media, MediaKind, MetricSnapshot};
use super::profile::CreatorProfile;
use super::user_error::{user_error, UserError};
use super::{bad_input, keyset_request, ApiContext};

/// A social platform.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::Platform")]
pub enum Platform {
    /// Instagram (professional accounts link through a Facebook Page).
    Instagram,
    /// Facebook Pages.
    Facebook,
    /// TikTok.
    Tiktok,
    /// YouTube channels.
    Youtube,
}

/// The longest date range `metrics` answers, in days.
const MAX_METRIC_DAYS: i64 = 400;

/// A social account the organization tracks.
pub struct SocialAccount(pub AccountWithLink);

#[Object]
impl SocialAccount {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::SocialAccount, self.0.account.id)
    }
    /// The platform the account lives on.
    async fn platform(&self) -> Platform {
        self.0.account.platform.into()
    }
    /// The handle as the platform displays it, without `@` (for accounts added by a channel or
    /// numeric id, that id).
    async fn handle(&self) -> &str {
        &self.0.account.handle
    }
    /// The canonical profile URL.
    async fn url(&self) -> &str {
        &self.0.account.url
    }
    /// The platform's own id for the account, known once connected (or given by the URL).
    async fn platform_user_id(&self) -> Option<&str> {
        self.0.account.platform_user_id.as_deref()
    }
    /// The name the platform shows.
    async fn display_name(&self) -> Option<&str> {
        self.0.account.display_name.as_deref()
    }
    /// The profile picture.
    async fn avatar_url(&self) -> Option<&str> {
        self.0.account.avatar_url.as_deref()
    }
    /// Followers or subscribers, as last pulled; null when unknown or hidden by the creator
    /// (see `followersHidden`).
    async fn followers(&self) -> Option<i64> {
        self.0.account.followers
    }
    /// The creator hides the count on the platform (YouTube "hide subscriber count"):
    /// `followers` is then null rather than the last count seen.
    async fn followers_hidden(&self) -> bool {
        self.0.account.followers_hidden
    }
    /// When the account was added.
    async fn added_at(&self) -> DateTime<Utc> {
        self.0.account.created_at
    }
    /// The profile holding the account; null once it was removed from its profile.
    async fn profile(&self, ctx: &Context<'_>) -> Result<Option<CreatorProfile>> {
        let Some(profile) = self.0.account.profile_id else {
            return Ok(None);
        };
        Ok(ctx
            .api()
            .loader()
            .load_one(ProfileById(profile))
            .await?
            .flatten()
            .map(CreatorProfile))
    }
    /// The account's authorization and its status now.
    async fn link(&self, ctx: &Context<'_>) -> Link {
        let api = ctx.api();
        Link::new(self.0.link.clone(), api.now(), api.expiring_window())
    }
    /// The newest daily metrics; null until pulled.
    async fn latest_metrics(&self, ctx: &Context<'_>) -> Result<Option<MetricSnapshot>> {
        Ok(ctx
            .api()
            .loader()
            .load_one(LatestMetricsOf(self.0.account.id))
            .await?
            .flatten()
            .map(MetricSnapshot))
    }
    /// Daily metrics from `from` to `to` (both inclusive, at most 400 days), oldest first.
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first day (UTC).")] from: Date,
        #[graphql(desc = "The last day (UTC), inclusive.")] to: Date,
    ) -> Result<Vec<MetricSnapshot>> {
        let (from, to) = (from.0, to.0);
        if to < from || (to - from).num_days() >= MAX_METRIC_DAYS {
            return Err(bad_input(
                "to",
                format!("`to` must be on or after `from`, at most {MAX_METRIC_DAYS} days later"),
            ));
        }
        let key = MetricsOf {
            account: self.0.account.id,
            from,
            to,
        };
        Ok(ctx
            .api()
            .loader()
            .load_one(key)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(MetricSnapshot)
            .collect())
    }
    /// Posts, reels, videos and stories, newest first (Relay cursor connection).
    #[graphql(
        complexity = "first.or(last).unwrap_or(20).clamp(0, 100) as usize * child_complexity"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn media(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this kind of content.")] kind: Option<MediaKind>,
        #[graphql(desc = "Published at or after this instant.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Published before this instant.")] to: Option<DateTime<Utc>>,
        #[graphql(desc = "Returns the first n items after `after`.")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor from a previous page.")] before: Option<String>,
    ) -> Result<Connection<String, Media, EmptyFields, EmptyFields>> {
        let api = ctx.api();
        let req = keyset_request(ctx, "media", first, after, last, before)?;
        let filter = MediaFilter {
            kind: kind.map(Into::into),
            from,
            to,
            only: api
                .visible()
                .await?
                .map(|seen| seen.media.iter().copied().collect()),
        };
        let page = api
            .loader()
            .load_one(MediaPageOf {
                account: self.0.account.id,
                filter,
                req,
                default_size: api.default_page_size(),
            })
            .await?
            .unwrap_or_else(empty_page);
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(page.items.into_iter().map(|m| {
            Edge::new(
                ids::encode_keyset_cursor("media", &data::media_cursor(&m)),
                Media(m),
            )
        }));
        Ok(connection)
    }
    /// Every captured Instagram story, newest first, including those that have expired on the
    /// platform.
    async fn stories(&self, ctx: &Context<'_>) -> Result<Vec<Media>> {
        Ok(ctx
            .api()
            .loader()
            .load_one(StoriesOf(self.0.account.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Media)
            .collect())
    }
    /// How fresh each pulled resource is: last success, last error, failures in a row and the
    /// next scheduled pull. Empty until the first scan after linking.
    async fn freshness(&self, ctx: &Context<'_>) -> Result<Vec<super::sync::ResourceFreshness>> {
        Ok(ctx
            .api()
            .loader()
            .load_one(FreshnessOf(self.0.account.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter_map(super::sync::ResourceFreshness::from_row)
            .collect())
    }
    /// Who follows the account; null until pulled.
    async fn audience(&self, ctx: &Context<'_>) -> Result<Option<Audience>> {
        Ok(ctx
            .api()
            .loader()
            .load_one(AudienceOf(self.0.account.id))
            .await?
            .flatten()
            .map(Audience))
    }
    /// The link's history, newest first (Relay cursor connection).
    #[graphql(
        complexity = "first.or(last).unwrap_or(20).clamp(0, 100) as usize * child_complexity"
    )]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n events after `after`.")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page.")] after: Option<String>,
        #[graphql(desc = "Returns the last n events before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor from a previous page.")] before: Option<String>,
    ) -> Result<Connection<String, LinkEvent, EmptyFields, EmptyFields>> {
        let api = ctx.api();
        let req = keyset_request(ctx, "events", first, after, last, before)?;
        let page = api
            .loader()
            .load_one(EventsPageOf {
                account: self.0.account.id,
                req,
                default_size: api.default_page_size(),
            })
            .await?
            .unwrap_or_else(empty_page);
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(page.items.into_iter().map(|e| {
            Edge::new(
                ids::encode_keyset_cursor("events", &data::event_cursor(&e)),
                LinkEvent(std::sync::Arc::new(e)),
            )
        }));
        Ok(connection)
    }
}

/// The page of an account the batch did not answer (it answers every key; this is only a
/// fallback that cannot show rows that do not exist).
fn empty_page<T>() -> domain::pagination::Page<T> {
    domain::pagination::Page {
        items: Vec::new(),
        has_next_page: false,
        has_previous_page: false,
    }
}

/// Finding accounts.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The account a handle or profile URL names, in any usual form (`@name`,
    /// `instagram.com/name?igsh=…`, `youtube.com/channel/UC…`, `facebook.com/profile.php?id=…`,
    /// …), with the profile holding it; null when the organization does not have it. This is
    /// how to find which profile an account is "already associated with". A bare handle needs
    /// `platform`.
    /// Access: roles admin and manager; API keys with `profiles:read`; no creators.
    async fn social_account_by_url(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A profile URL or handle.")] url: String,
        #[graphql(desc = "The platform, needed for a bare handle.")] platform: Option<Platform>,
    ) -> Result<Option<SocialAccount>> {
        let api = ctx.api();
        let seen = api.visible().await?;
        service::find_by_url(api.db(), api.org(), &url, platform.map(Into::into))
            .await
            .map(|found| {
                found
                    .filter(|a| seen.as_ref().is_none_or(|s| s.account(a.account.id)))
                    .map(SocialAccount)
            })
            .map_err(|e| to_graphql(e, api.request_id()))
    }
}

/// What to add: a handle or profile URL, and the platform when a bare handle is given.
#[derive(InputObject)]
pub struct AddSocialAccountInput {
    /// The platform; required for a bare handle, checked against a URL's platform.
    pub platform: Option<Platform>,
    /// `@name`, `name` or a profile URL in any usual form.
    pub handle_or_url: String,
}

/// The result of `addSocialAccount`.
#[derive(SimpleObject)]
pub struct AddSocialAccountPayload {
    /// The account, NOT_LINKED until the creator connects it; null on error.
    pub social_account: Option<SocialAccount>,
    /// The profile the account was added to; null on error.
    pub creator_profile: Option<CreatorProfile>,
    /// With `ACCOUNT_ALREADY_ASSOCIATED`: the profile that already holds the account (remove it
    /// there or merge the two profiles).
    pub conflicting_profile: Option<CreatorProfile>,
    /// Why nothing was added.
    pub user_errors: Vec<UserError>,
}

/// Adding accounts (removing them is `removeSocialAccount` of the connect flow, which also
/// revokes the grant upstream).
#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Adds a social account to a profile by handle or URL. Adding is not authenticating: the
    /// account is NOT_LINKED until the creator connects it. Fails with `INVALID_URL`,
    /// `UNSUPPORTED_PLATFORM`, `AMBIGUOUS_PLATFORM`, `NOT_A_PROFILE` or `PLATFORM_MISMATCH` for
    /// input that names no account, and with `ACCOUNT_ALREADY_ASSOCIATED` (and
    /// `conflictingProfile`) when another profile holds the account. Adding an account the
    /// profile already holds changes nothing.
    /// Access: roles admin and manager; API keys with `accounts:write`; creators for their own
    /// profiles.
    async fn add_social_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile to add the account to.")] profile_id: ID,
        #[graphql(desc = "The account.")] input: AddSocialAccountInput,
    ) -> Result<AddSocialAccountPayload> {
        let api = ctx.api();
        let mut payload = AddSocialAccountPayload {
            social_account: None,
            creator_profile: None,
            conflicting_profile: None,
            user_errors: Vec::new(),
        };
        let Some(profile_id) = ids::decode_as(NodeType::CreatorProfile, &profile_id) else {
            payload
                .user_errors
                .push(UserError::not_found("profileId", "creator profile"));
            return Ok(payload);
        };
        let added = service::add(
            api.db(),
            api.org(),
            profile_id,
            &input.handle_or_url,
            input.platform.map(Into::into),
            api.actor(),
        )
        .await;
        match added {
            Ok(account) => {
                payload.creator_profile = domain::profiles::get(api.db(), api.org(), profile_id)
                    .await
                    .ok()
                    .map(CreatorProfile);
                payload.social_account = Some(SocialAccount(account));
            }
            Err(AddAccountError::AlreadyAssociated {
                platform,
                handle,
                holder,
            }) => {
                let holder_id = ids::encode(NodeType::CreatorProfile, holder.id);
                payload.user_errors.push(UserError::new(
                    service::ACCOUNT_ALREADY_ASSOCIATED,
                    Some("handleOrUrl"),
                    format!(
                        "The social account {handle} on {} is already associated with another \
                         profile: “{}” ({}). Search for it by URL, then remove it from that \
                         profile or merge the two profiles.",
                        platform.as_str(),
                        holder.name,
                        holder_id.as_str()
                    ),
                ));
                payload.conflicting_profile = Some(CreatorProfile(holder));
            }
            Err(AddAccountError::Other(e)) => {
                payload
                    .user_errors
                    .push(user_error(e, "profileId", api.request_id())?);
            }
        }
        Ok(payload)
    }
}
