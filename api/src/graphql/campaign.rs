//! `Campaign`: a brand's campaign, its participating creators, the content its rules matched,
//! its report and export. Reads honour the caller's campaign limitation (a campaign-limited API
//! key sees only its campaigns, see `domain::campaigns::access`).

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::campaigns::{self, export, AddedPost, CampaignAccess, CampaignChanges, NewCampaign};
use domain::entities::{campaign, campaign_content, media};
use domain::{Actor, DomainError};
use uuid::Uuid;

use super::campaign_report::{CampaignMediaKind, CampaignReport, MatchedBy};
use super::error::to_graphql;
use super::ids::{self, NodeType};
use super::profile::CreatorProfile;
use super::user_error::{user_error, UserError};
use super::{page_request, ApiContext};

/// Where a campaign is in its life.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::CampaignStatus")]
pub enum CampaignStatus {
    /// Being prepared: nothing is matched yet.
    Draft,
    /// Running: content in the dates is matched and its metrics are pulled often.
    Active,
    /// Over: nothing new is matched; metrics keep being pulled until the end + 30 days.
    Finished,
}

/// A format to export a campaign report to.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ExportFormat {
    /// Comma-separated values, one sheet (`row_type` tells content, creator, platform, day and
    /// total rows apart).
    Csv,
    /// A JSON document with the same numbers.
    Json,
}

impl From<ExportFormat> for export::Format {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::Csv => export::Format::Csv,
            ExportFormat::Json => export::Format::Json,
        }
    }
}

/// The caller's campaign limitation: inserted into the request by authentication for
/// campaign-limited API keys; everyone else sees every campaign of the organization.
pub fn campaign_access(ctx: &Context<'_>) -> CampaignAccess {
    CampaignAccess::of_caller(ctx.api().caller())
}

fn actor(ctx: &Context<'_>) -> Actor {
    ctx.api().actor()
}

/// A brand's campaign: dates, participating creators, tracking rules and the content they matched.
pub struct Campaign(pub campaign::Model);

#[Object]
impl Campaign {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Campaign, self.0.id)
    }
    /// The campaign's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The brand it runs for.
    async fn brand(&self) -> &str {
        &self.0.brand
    }
    /// Content published at or after this instant can match.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// Content published at or before this instant can match.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// Draft, active or finished.
    async fn status(&self) -> CampaignStatus {
        self.0.status.into()
    }
    /// Caption hashtags that match (lower case, without `#`).
    async fn hashtags(&self) -> Vec<String> {
        campaigns::Rules::from_stored(&self.0.hashtags, &self.0.mentions)
            .hashtags()
            .to_vec()
    }
    /// Accounts whose mention in a caption matches (lower case, without `@`).
    async fn mentions(&self) -> Vec<String> {
        campaigns::Rules::from_stored(&self.0.hashtags, &self.0.mentions)
            .mentions()
            .to_vec()
    }
    /// When the campaign was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the campaign was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The creator profiles taking part.
    async fn profiles(&self, ctx: &Context<'_>) -> Result<Vec<CreatorProfile>> {
        let api = ctx.api();
        let profiles = campaigns::participants(api.db(), api.org(), self.0.id)
            .await
            .map_err(|e| to_graphql(e, api.request_id()))?;
        Ok(profiles.into_iter().map(CreatorProfile).collect())
    }
    /// The content the campaign tracks, in the order it was matched.
    async fn content(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Also list content removed from the campaign (with who removed it and when).",
            default = false
        )]
        include_removed: bool,
    ) -> Result<Vec<CampaignContent>> {
        let api = ctx.api();
        let items = campaigns::content::list(
            api.db(),
            api.org(),
            &campaign_access(ctx),
            self.0.id,
            include_removed,
        )
        .await
        .map_err(|e| to_graphql(e, api.request_id()))?;
        Ok(items
            .into_iter()
            .map(|(c, m)| CampaignContent(c, m))
            .collect())
    }
    /// The campaign's report, computed now.
    async fn report(&self, ctx: &Context<'_>) -> Result<CampaignReport> {
        let api = ctx.api();
        let report = campaigns::report::load(
            api.db(),
            api.org(),
            &campaign_access(ctx),
            self.0.id,
            api.now(),
            api.expiring_window(),
        )
        .await
        .map_err(|e| to_graphql(e, api.request_id()))?;
        Ok(CampaignReport(report))
    }
    /// True while the campaign's YouTube content waits for the next quota day (midnight
    /// Pacific): today's YouTube Data API budget for campaign pulls
    /// (`jobs.campaign_youtube_daily_units`) is spent, or YouTube refused for quota. Its numbers
    /// are then older than the usual cadence.
    async fn slowed_by_quota(&self, ctx: &Context<'_>) -> Result<bool> {
        let api = ctx.api();
        campaigns::pull::quota_status(api.db(), api.org(), self.0.id, api.now())
            .await
            .map(|s| s.slowed)
            .map_err(|e| to_graphql(e, api.request_id()))
    }
    /// YouTube Data API units campaign content pulls spent today (the quota day starts at
    /// midnight Pacific; all campaigns share the budget).
    async fn youtube_units_spent_today(&self, ctx: &Context<'_>) -> Result<i64> {
        let api = ctx.api();
        campaigns::pull::quota_status(api.db(), api.org(), self.0.id, api.now())
            .await
            .map(|s| s.youtube_units_spent_today)
            .map_err(|e| to_graphql(e, api.request_id()))
    }
}

/// A media item a campaign tracks.
pub struct CampaignContent(pub campaign_content::Model, pub media::Model);

#[Object]
impl CampaignContent {
    /// The content's id within the campaign (pass it to `removeCampaignContent`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What kind of content it is.
    async fn kind(&self) -> CampaignMediaKind {
        self.1.kind.into()
    }
    /// The public link of the content.
    async fn permalink(&self) -> Option<&str> {
        self.1.permalink.as_deref()
    }
    /// The caption.
    async fn caption(&self) -> Option<&str> {
        self.1.caption.as_deref()
    }
    /// When it was published.
    async fn taken_at(&self) -> DateTime<Utc> {
        self.1.taken_at
    }
    /// The creator profile holding the account when it matched.
    async fn profile_id(&self) -> Option<ID> {
        self.0
            .profile_id
            .map(|p| ids::encode(NodeType::CreatorProfile, p))
    }
    /// Which rule matched it.
    async fn matched_by(&self) -> MatchedBy {
        self.0.matched_by.into()
    }
    /// The hashtag, mention or link that matched.
    async fn matched_rule(&self) -> Option<&str> {
        self.0.matched_rule.as_deref()
    }
    /// When it matched.
    async fn matched_at(&self) -> DateTime<Utc> {
        self.0.matched_at
    }
    /// When it was removed from the campaign; null while it is tracked.
    async fn removed_at(&self) -> Option<DateTime<Utc>> {
        self.0.removed_at
    }
    /// Who removed it.
    async fn removed_by(&self) -> Option<&str> {
        self.0.removed_by.as_deref()
    }
    /// When its metrics were last pulled for the campaign.
    async fn last_pulled_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_pulled_at
    }
    /// When its metrics are pulled next; null once tracking is over.
    async fn next_pull_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_pull_at
    }
}

/// Extra fields of the campaigns connection.
pub struct CampaignConnectionFields {
    status: Option<CampaignStatus>,
}

#[Object]
impl CampaignConnectionFields {
    /// How many campaigns match, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let api = ctx.api();
        campaigns::count(
            api.db(),
            api.org(),
            &campaign_access(ctx),
            self.status.map(Into::into),
        )
        .await
        .map_err(|e| to_graphql(e, api.request_id()))
    }
}

/// A campaign report as a document.
#[derive(SimpleObject)]
pub struct CampaignExport {
    /// The format of `data`.
    pub format: ExportFormat,
    /// A file name to save it under.
    pub file_name: String,
    /// The MIME type of `data`.
    pub content_type: String,
    /// The document itself.
    pub data: String,
}

fn campaign_id(id: &ID) -> Option<Uuid> {
    ids::decode_as(NodeType::Campaign, id)
}

/// Reading campaigns.
#[derive(Default)]
pub struct CampaignQuery;

#[Object]
impl CampaignQuery {
    /// One campaign; null when it does not exist or is not visible to the caller.
    /// Access: roles admin and manager; API keys with `metrics:read`; no creators.
    async fn campaign(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Campaign>> {
        let api = ctx.api();
        let Some(uuid) = campaign_id(&id) else {
            return Ok(None);
        };
        match campaigns::get(api.db(), api.org(), &campaign_access(ctx), uuid).await {
            Ok(c) => Ok(Some(Campaign(c))),
            Err(DomainError::NotFound { .. }) => Ok(None),
            Err(e) => Err(to_graphql(e, api.request_id())),
        }
    }

    /// The campaigns the caller may see, oldest first (Relay cursor connection).
    /// Access: roles admin and manager; API keys with `metrics:read`; no creators.
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only campaigns in this status.")] status: Option<CampaignStatus>,
        #[graphql(desc = "Returns the first n campaigns after `after`.")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page.")] after: Option<String>,
        #[graphql(desc = "Returns the last n campaigns before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor from a previous page.")] before: Option<String>,
    ) -> Result<Connection<String, Campaign, CampaignConnectionFields, EmptyFields>> {
        let api = ctx.api();
        let req = page_request(ctx, first, after, last, before)?;
        let page = campaigns::list(
            api.db(),
            api.org(),
            &campaign_access(ctx),
            status.map(Into::into),
            &req,
            api.default_page_size(),
        )
        .await
        .map_err(|e| to_graphql(e, api.request_id()))?;
        let mut connection = Connection::with_additional_fields(
            page.has_previous_page,
            page.has_next_page,
            CampaignConnectionFields { status },
        );
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|c| Edge::new(ids::encode_cursor(c.id), Campaign(c))),
        );
        Ok(connection)
    }

    /// The campaign's report as a CSV or JSON document, for spreadsheets and other tools.
    /// Access: roles admin and manager; API keys with `metrics:read`; no creators.
    async fn export_campaign_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign to export.")] campaign_id: ID,
        #[graphql(desc = "CSV or JSON.")] format: ExportFormat,
    ) -> Result<CampaignExport> {
        let api = ctx.api();
        let Some(uuid) = self::campaign_id(&campaign_id) else {
            return Err(to_graphql(
                DomainError::not_found("campaign"),
                api.request_id(),
            ));
        };
        let report = campaigns::report::load(
            api.db(),
            api.org(),
            &campaign_access(ctx),
            uuid,
            api.now(),
            api.expiring_window(),
        )
        .await
        .map_err(|e| to_graphql(e, api.request_id()))?;
        let f: export::Format = format.into();
        let data = export::export(&report, f).map_err(|e| to_graphql(e, api.request_id()))?;
        Ok(CampaignExport {
            format,
            file_name: f.file_name(&report.campaign.name),
            content_type: f.content_type().to_owned(),
            data,
        })
    }
}

/// What a new campaign is made of.
#[derive(InputObject)]
pub struct CreateCampaignInput {
    /// The campaign's name.
    pub name: String,
    /// The brand it runs for.
    pub brand: String,
    /// Content published at or after this instant can match.
    pub starts_at: DateTime<Utc>,
    /// Content published at or before this instant can match.
    pub ends_at: DateTime<Utc>,
    /// Caption hashtags that match, with or without `#`.
    #[graphql(default)]
    pub hashtags: Vec<String>,
    /// Accounts whose mention matches, with or without `@`.
    #[graphql(default)]
    pub mentions: Vec<String>,
    /// The creator profiles taking part.
    #[graphql(default)]
    pub profile_ids: Vec<ID>,
}

/// Changes to a campaign; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateCampaignInput {
    /// The campaign to change.
    pub campaign_id: ID,
    /// A new name.
    pub name: Option<String>,
    /// A new brand.
    pub brand: Option<String>,
    /// A new start.
    pub starts_at: Option<DateTime<Utc>>,
    /// A new end.
    pub ends_at: Option<DateTime<Utc>>,
    /// The new hashtags (replace the old ones).
    pub hashtags: Option<Vec<String>>,
    /// The new mentions (replace the old ones).
    pub mentions: Option<Vec<String>>,
}

/// A campaign's new status.
#[derive(InputObject)]
pub struct SetCampaignStatusInput {
    /// The campaign.
    pub campaign_id: ID,
    /// ACTIVE starts matching (existing content in the dates is matched at once); FINISHED stops it.
    pub status: CampaignStatus,
}

/// Profiles to add to a campaign.
#[derive(InputObject)]
pub struct AddCampaignProfilesInput {
    /// The campaign.
    pub campaign_id: ID,
    /// The creator profiles to add.
    pub profile_ids: Vec<ID>,
}

/// A profile to take out of a campaign.
#[derive(InputObject)]
pub struct RemoveCampaignProfileInput {
    /// The campaign.
    pub campaign_id: ID,
    /// The creator profile to take out.
    pub profile_id: ID,
}

/// A post to add to a campaign by its link.
#[derive(InputObject)]
pub struct AddCampaignPostInput {
    /// The campaign.
    pub campaign_id: ID,
    /// The post, reel or video link, in any usual form.
    pub url: String,
}

/// Content to take out of a campaign.
#[derive(InputObject)]
pub struct RemoveCampaignContentInput {
    /// The campaign.
    pub campaign_id: ID,
    /// The content's id (`CampaignContent.id`).
    pub content_id: ID,
}

/// The result of a mutation on a campaign.
#[derive(SimpleObject, Default)]
pub struct CampaignPayload {
    /// The campaign as it is now; null when nothing happened.
    pub campaign: Option<Campaign>,
    /// Why nothing happened.
    pub user_errors: Vec<UserError>,
}

/// The result of `addCampaignPost`.
#[derive(SimpleObject, Default)]
pub struct AddCampaignPostPayload {
    /// The content now tracked; null when the post is pending or nothing happened.
    pub content: Option<CampaignContent>,
    /// True when the post has not been pulled yet: it becomes content as soon as it is.
    pub pending: bool,
    /// Why nothing happened.
    pub user_errors: Vec<UserError>,
}

/// The result of `removeCampaignContent`.
#[derive(SimpleObject, Default)]
pub struct RemoveCampaignContentPayload {
    /// The removed content, with who removed it and when.
    pub content: Option<CampaignContent>,
    /// Why nothing happened.
    pub user_errors: Vec<UserError>,
}

fn profile_ids(ids_in: &[ID]) -> std::result::Result<Vec<Uuid>, UserError> {
    ids_in
        .iter()
        .map(|id| {
            ids::decode_as(NodeType::CreatorProfile, id)
                .ok_or_else(|| UserError::not_found("profileIds", "creator profile"))
        })
        .collect()
}

fn failed(error: UserError) -> CampaignPayload {
    CampaignPayload {
        campaign: None,
        user_errors: vec![error],
    }
}

/// Changing campaigns.
#[derive(Default)]
pub struct CampaignMutation;

#[Object]
impl CampaignMutation {
    /// Creates a DRAFT campaign.
    /// Access: roles admin and manager; no API keys; no creators.
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        input: CreateCampaignInput,
    ) -> Result<CampaignPayload> {
        let api = ctx.api();
        let profile_ids = match profile_ids(&input.profile_ids) {
            Ok(p) => p,
            Err(e) => return Ok(failed(e)),
        };
        let new = NewCampaign {
            name: input.name,
            brand: input.brand,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            hashtags: input.hashtags,
            mentions: input.mentions,
            profile_ids,
        };
        match campaigns::create(api.db(), api.org(), new, api.now()).await {
            Ok(c) => Ok(CampaignPayload {
                campaign: Some(Campaign(c)),
                user_errors: vec![],
            }),
            Err(e) => Ok(failed(user_error(e, "campaignId", api.request_id())?)),
        }
    }

    /// Changes a campaign's name, brand, dates or rules; an ACTIVE campaign is matched again.
    /// Access: roles admin and manager; no API keys; no creators.
    async fn update_campaign(
        &self,
        ctx: &Context<'_>,
        input: UpdateCampaignInput,
    ) -> Result<CampaignPayload> {
        let api = ctx.api();
        let Some(id) = campaign_id(&input.campaign_id) else {
            return Ok(failed(UserError::not_found("campaignId", "campaign")));
        };
        let changes = CampaignChanges {
            name: input.name,
            brand: input.brand,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            hashtags: input.hashtags,
            mentions: input.mentions,
        };
        match campaigns::update(api.db(), api.org(), id, changes, &actor(ctx), api.now()).await {
            Ok(c) => Ok(CampaignPayload {
                campaign: Some(Campaign(c)),
                user_errors: vec![],
            }),
            Err(e) => Ok(failed(user_error(e, "campaignId", api.request_id())?)),
        }
    }

    /// Starts (ACTIVE) or finishes (FINISHED) a campaign.
    /// Access: roles admin and manager; no API keys; no creators.
    async fn set_campaign_status(
        &self,
        ctx: &Context<'_>,
        input: SetCampaignStatusInput,
    ) -> Result<CampaignPayload> {
        let api = ctx.api();
        let Some(id) = campaign_id(&input.campaign_id) else {
            return Ok(failed(UserError::not_found("campaignId", "campaign")));
        };
        match campaigns::set_status(
            api.db(),
            api.org(),
            id,
            input.status.into(),
            &actor(ctx),
            api.now(),
        )
        .await
        {
            Ok(c) => Ok(CampaignPayload {
                campaign: Some(Campaign(c)),
                user_errors: vec![],
            }),
            Err(e) => Ok(failed(user_error(e, "campaignId", api.request_id())?)),
        }
    }

    /// Adds creator profiles to a campaign; an ACTIVE campaign matches their content at once.
    /// Access: roles admin and manager; no API keys; no creators.
    async fn add_campaign_profiles(
        &self,
        ctx: &Context<'_>,
        input: AddCampaignProfilesInput,
    ) -> Result<CampaignPayload> {
        let api = ctx.api();
        let Some(id) = campaign_id(&input.campaign_id) else {
            return Ok(failed(UserError::not_found("campaignId", "campaign")));
        };
        let profile_ids = match profile_ids(&input.profile_ids) {
            Ok(p) => p,
            Err(e) => return Ok(failed(e)),
        };
        match campaigns::add_profiles(
            api.db(),
            api.org(),
            id,
            &profile_ids,
            &actor(ctx),
            api.now(),
        )
        .await
        {
            Ok(c) => Ok(CampaignPayload {
                campaign: Some(Campaign(c)),
                user_errors: vec![],
            }),
            Err(e) => Ok(failed(user_error(e, "campaignId", api.request_id())?)),
        }
    }

    /// Takes a creator profile out of a campaign (content already matched stays).
    /// Access: roles admin and manager; no API keys; no creators.
    async fn remove_campaign_profile(
        &self,
        ctx: &Context<'_>,
        input: RemoveCampaignProfileInput,
    ) -> Result<CampaignPayload> {
        let api = ctx.api();
        let Some(id) = campaign_id(&input.campaign_id) else {
            return Ok(failed(UserError::not_found("campaignId", "campaign")));
        };
        let Some(profile) = ids::decode_as(NodeType::CreatorProfile, &input.profile_id) else {
            return Ok(failed(UserError::not_found("profileId", "creator profile")));
        };
        match campaigns::remove_profile(api.db(), api.org(), id, profile).await {
            Ok(c) => Ok(CampaignPayload {
                campaign: Some(Campaign(c)),
                user_errors: vec![],
            }),
            Err(e) => Ok(failed(user_error(e, "profileId", api.request_id())?)),
        }
    }

    /// Adds a post, reel or video to a campaign by its link. A post of an account not on a
    /// participating profile is the user error NOT_PARTICIPATING.
    /// Access: roles admin and manager; no API keys; no creators.
    async fn add_campaign_post(
        &self,
        ctx: &Context<'_>,
        input: AddCampaignPostInput,
    ) -> Result<AddCampaignPostPayload> {
        let api = ctx.api();
        let Some(id) = campaign_id(&input.campaign_id) else {
            return Ok(AddCampaignPostPayload {
                user_errors: vec![UserError::not_found("campaignId", "campaign")],
                ..Default::default()
            });
        };
        let db = api.db();
        match campaigns::add_post_by_url(db, api.org(), id, &input.url, &actor(ctx), api.now())
            .await
        {
            Ok(AddedPost::Tracked(c)) => {
                let m = campaigns::content::media_of(db, api.org(), &c)
                    .await
                    .map_err(|e| to_graphql(e, api.request_id()))?;
                Ok(AddCampaignPostPayload {
                    content: Some(CampaignContent(c, m)),
                    pending: false,
                    user_errors: vec![],
                })
            }
            Ok(AddedPost::Pending(_)) => Ok(AddCampaignPostPayload {
                content: None,
                pending: true,
                user_errors: vec![],
            }),
            Err(e) => Ok(AddCampaignPostPayload {
                user_errors: vec![user_error(e, "campaignId", api.request_id())?],
                ..Default::default()
            }),
        }
    }

    /// Takes content out of a campaign; the removal is recorded (who and when) and the rules
    /// never match it again.
    /// Access: roles admin and manager; no API keys; no creators.
    async fn remove_campaign_content(
        &self,
        ctx: &Context<'_>,
        input: RemoveCampaignContentInput,
    ) -> Result<RemoveCampaignContentPayload> {
        let api = ctx.api();
        let (Some(id), Ok(content_id)) = (
            campaign_id(&input.campaign_id),
            Uuid::parse_str(&input.content_id),
        ) else {
            return Ok(RemoveCampaignContentPayload {
                content: None,
                user_errors: vec![UserError::not_found("contentId", "campaign content")],
            });
        };
        let db = api.db();
        match campaigns::remove_content(db, api.org(), id, content_id, &actor(ctx), api.now()).await
        {
            Ok(c) => {
                let m = campaigns::content::media_of(db, api.org(), &c)
                    .await
                    .map_err(|e| to_graphql(e, api.request_id()))?;
                Ok(RemoveCampaignContentPayload {
                    content: Some(CampaignContent(c, m)),
                    user_errors: vec![],
                })
            }
            Err(e) => Ok(RemoveCampaignContentPayload {
                content: None,
                user_errors: vec![user_error(e, "contentId", api.request_id())?],
            }),
        }
    }
}
