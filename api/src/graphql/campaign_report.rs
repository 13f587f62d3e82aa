//! `CampaignReport`: the report of a campaign as GraphQL types, built from
//! `domain::campaigns::report` values.

use async_graphql::{Enum, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use domain::campaigns::report::{self, ContentRow, Report};

use super::events::{LinkStatus, Platform};
use super::ids::{self, NodeType};

/// What kind of content a media item is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "CampaignMediaKind", remote = "domain::MediaKind")]
pub enum CampaignMediaKind {
    /// A feed post (photo or carousel).
    Post,
    /// An Instagram or Facebook reel.
    Reel,
    /// A TikTok or YouTube video.
    Video,
    /// An Instagram story (24 hours).
    Story,
}

/// Which tracking rule made a media item campaign content.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::MatchedBy")]
pub enum MatchedBy {
    /// The caption carries one of the campaign's hashtags.
    Hashtag,
    /// The caption mentions one of the campaign's accounts.
    Mention,
    /// The post was added by its link.
    Url,
}

/// Sums over a set of campaign content.
#[derive(SimpleObject, Clone, Debug)]
pub struct CampaignTotals {
    /// How many content items are counted.
    pub content_count: i64,
    /// Views (impressions), as each platform counts them.
    pub views: i64,
    /// Accounts reached (platforms that report it: Instagram, Facebook).
    pub reach: i64,
    /// Likes + comments + shares + saves, each where the platform has it.
    pub engagements: i64,
    /// Likes.
    pub likes: i64,
    /// Comments.
    pub comments: i64,
    /// Shares.
    pub shares: i64,
    /// Saves.
    pub saves: i64,
    /// Video views (the views of videos and reels where the platform reports no separate count).
    pub video_views: i64,
    /// Followers of the distinct accounts whose content is counted.
    pub followers: i64,
    /// Engagements / reach; null when reach is unknown.
    pub engagement_rate_by_reach: Option<f64>,
    /// Engagements / followers; null when followers are unknown.
    pub engagement_rate_by_followers: Option<f64>,
    /// How many stories are counted.
    pub story_count: i64,
    /// The reach of those stories.
    pub story_reach: i64,
}

impl From<&report::Totals> for CampaignTotals {
    fn from(t: &report::Totals) -> Self {
        CampaignTotals {
            content_count: t.content_count,
            views: t.views,
            reach: t.reach,
            engagements: t.engagements,
            likes: t.likes,
            comments: t.comments,
            shares: t.shares,
            saves: t.saves,
            video_views: t.video_views,
            followers: t.followers,
            engagement_rate_by_reach: t.engagement_rate_by_reach,
            engagement_rate_by_followers: t.engagement_rate_by_followers,
            story_count: t.story_count,
            story_reach: t.story_reach,
        }
    }
}

/// One creator's part of a campaign report.
#[derive(SimpleObject, Clone, Debug)]
pub struct CampaignCreatorRow {
    /// The creator profile, when the content's account still has one.
    pub profile_id: Option<ID>,
    /// The creator's name.
    pub name: Option<String>,
    /// The creator's totals.
    pub totals: CampaignTotals,
    /// Handles of the creator's accounts whose numbers are stale: ask the creator to reconnect.
    pub stale_accounts: Vec<String>,
}

/// One platform's part of a campaign report.
#[derive(SimpleObject, Clone, Debug)]
pub struct CampaignPlatformRow {
    /// The platform.
    pub platform: Platform,
    /// The platform's totals.
    pub totals: CampaignTotals,
}

/// The campaign's totals at the end of one day (UTC).
#[derive(SimpleObject, Clone, Debug)]
pub struct CampaignDayRow {
    /// The day.
    pub day: NaiveDate,
    /// Every item at its latest numbers by the end of the day.
    pub totals: CampaignTotals,
}

/// One content item of a campaign report.
pub struct CampaignContentRow(pub ContentRow);

#[Object]
impl CampaignContentRow {
    /// The campaign content's id (as in `Campaign.content`).
    async fn content_id(&self) -> ID {
        ID(self.0.content_id.to_string())
    }
    /// What kind of content it is.
    async fn kind(&self) -> CampaignMediaKind {
        self.0.kind.into()
    }
    /// The platform it was published on.
    async fn platform(&self) -> Platform {
        self.0.platform.into()
    }
    /// The account's handle.
    async fn handle(&self) -> &str {
        &self.0.handle
    }
    /// The creator profile.
    async fn profile_id(&self) -> Option<ID> {
        self.0
            .profile_id
            .map(|p| ids::encode(NodeType::CreatorProfile, p))
    }
    /// The creator's name.
    async fn creator_name(&self) -> Option<&str> {
        self.0.profile_name.as_deref()
    }
    /// The public link of the content.
    async fn permalink(&self) -> Option<&str> {
        self.0.permalink.as_deref()
    }
    /// When it was published.
    async fn taken_at(&self) -> DateTime<Utc> {
        self.0.taken_at
    }
    /// Which rule matched it.
    async fn matched_by(&self) -> MatchedBy {
        self.0.matched_by.into()
    }
    /// Views (impressions); null when not reported yet.
    async fn views(&self) -> Option<i64> {
        self.0.counters.views
    }
    /// Accounts reached; null when the platform does not report it.
    async fn reach(&self) -> Option<i64> {
        self.0.counters.reach
    }
    /// Likes + comments + shares + saves, each where the platform has it.
    async fn engagements(&self) -> Option<i64> {
        self.0.counters.engagements
    }
    /// Likes.
    async fn likes(&self) -> Option<i64> {
        self.0.counters.likes
    }
    /// Comments.
    async fn comments(&self) -> Option<i64> {
        self.0.counters.comments
    }
    /// Shares.
    async fn shares(&self) -> Option<i64> {
        self.0.counters.shares
    }
    /// Saves.
    async fn saves(&self) -> Option<i64> {
        self.0.counters.saves
    }
    /// Video views.
    async fn video_views(&self) -> Option<i64> {
        self.0.counters.video_views
    }
    /// The account's followers.
    async fn followers(&self) -> Option<i64> {
        self.0.followers
    }
    /// Engagements / reach.
    async fn engagement_rate_by_reach(&self) -> Option<f64> {
        self.0.engagement_rate_by_reach
    }
    /// Engagements / the account's followers.
    async fn engagement_rate_by_followers(&self) -> Option<f64> {
        self.0.engagement_rate_by_followers
    }
    /// When these numbers were captured; null when none were yet.
    async fn metrics_as_of(&self) -> Option<DateTime<Utc>> {
        self.0.metrics_as_of
    }
    /// The account's link status now.
    async fn account_status(&self) -> LinkStatus {
        self.0.account_status.into()
    }
    /// True when the account is not linked (NOT_LINKED, EXPIRED, INVALID): the numbers are the
    /// last ones seen (see `metricsAsOf`) until the creator reconnects.
    async fn stale(&self) -> bool {
        self.0.stale
    }
}

/// A campaign's report: totals, per creator, per platform, per content item and per day.
pub struct CampaignReport(pub Report);

#[Object]
impl CampaignReport {
    /// When the report was computed.
    async fn generated_at(&self) -> DateTime<Utc> {
        self.0.generated_at
    }
    /// The campaign's totals (the sum of the content rows).
    async fn totals(&self) -> CampaignTotals {
        (&self.0.totals).into()
    }
    /// One row per creator with content.
    async fn creators(&self) -> Vec<CampaignCreatorRow> {
        self.0
            .creators
            .iter()
            .map(|c| CampaignCreatorRow {
                profile_id: c
                    .profile_id
                    .map(|p| ids::encode(NodeType::CreatorProfile, p)),
                name: c.profile_name.clone(),
                totals: (&c.totals).into(),
                stale_accounts: c.stale_accounts.clone(),
            })
            .collect()
    }
    /// One row per platform with content.
    async fn platforms(&self) -> Vec<CampaignPlatformRow> {
        self.0
            .platforms
            .iter()
            .map(|p| CampaignPlatformRow {
                platform: p.platform.into(),
                totals: (&p.totals).into(),
            })
            .collect()
    }
    /// One row per content item, at its latest numbers.
    async fn content(&self) -> Vec<CampaignContentRow> {
        self.0
            .content
            .iter()
            .cloned()
            .map(CampaignContentRow)
            .collect()
    }
    /// One row per day from the first numbers captured to the last.
    async fn days(&self) -> Vec<CampaignDayRow> {
        self.0
            .days
            .iter()
            .map(|d| CampaignDayRow {
                day: d.day,
                totals: (&d.totals).into(),
            })
            .collect()
    }
    /// True when some content's account is not linked and its numbers are stale.
    async fn has_stale_content(&self) -> bool {
        self.0.content.iter().any(|c| c.stale)
    }
}
