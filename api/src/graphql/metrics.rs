//! What was pulled for an account: daily metric snapshots, media with their metrics, stories,
//! audiences, and the link event history.

use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use domain::entities::{audience, media, media_metric, metric_snapshot};

use super::ids::{self, NodeType};
use super::loaders::LatestMediaMetricsOf;
use super::ApiContext;

/// A calendar day in UTC, ISO 8601 (`YYYY-MM-DD`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Date(pub NaiveDate);

async_graphql::scalar!(
    Date,
    "Date",
    "A calendar day in UTC, ISO 8601 (`YYYY-MM-DD`)."
);

/// What kind of content a media item is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::MediaKind")]
pub enum MediaKind {
    /// A feed post (image, carousel or text).
    Post,
    /// A short vertical video (Instagram/Facebook Reel, YouTube Short).
    Reel,
    /// A video.
    Video,
    /// An Instagram story, visible on the platform for 24 hours.
    Story,
}

/// An account's metrics for one day. Counters the platform does not report are null.
pub struct MetricSnapshot(pub metric_snapshot::Model);

#[Object]
impl MetricSnapshot {
    /// The platform's reporting day (UTC).
    async fn day(&self) -> Date {
        Date(self.0.day)
    }
    /// Followers or subscribers at the end of the day.
    async fn followers(&self) -> Option<i64> {
        self.0.followers
    }
    /// Impressions or views, whichever the platform reports.
    async fn views(&self) -> Option<i64> {
        self.0.views
    }
    /// Unique accounts reached.
    async fn reach(&self) -> Option<i64> {
        self.0.reach
    }
    /// Likes, comments, shares and saves together.
    async fn engagements(&self) -> Option<i64> {
        self.0.engagements
    }
    /// Video views.
    async fn video_views(&self) -> Option<i64> {
        self.0.video_views
    }
    /// Likes.
    async fn likes(&self) -> Option<i64> {
        self.0.likes
    }
    /// Comments.
    async fn comments(&self) -> Option<i64> {
        self.0.comments
    }
    /// Shares.
    async fn shares(&self) -> Option<i64> {
        self.0.shares
    }
    /// Saves.
    async fn saves(&self) -> Option<i64> {
        self.0.saves
    }
    /// When the snapshot was pulled.
    async fn fetched_at(&self) -> DateTime<Utc> {
        self.0.fetched_at
    }
}

/// The counters of a media item at one moment.
pub struct MediaMetrics(pub media_metric::Model);

#[Object]
impl MediaMetrics {
    /// When these counters were captured.
    async fn captured_at(&self) -> DateTime<Utc> {
        self.0.captured_at
    }
    /// Impressions or views.
    async fn views(&self) -> Option<i64> {
        self.0.views
    }
    /// Unique accounts reached.
    async fn reach(&self) -> Option<i64> {
        self.0.reach
    }
    /// Likes.
    async fn likes(&self) -> Option<i64> {
        self.0.likes
    }
    /// Comments.
    async fn comments(&self) -> Option<i64> {
        self.0.comments
    }
    /// Shares.
    async fn shares(&self) -> Option<i64> {
        self.0.shares
    }
    /// Saves.
    async fn saves(&self) -> Option<i64> {
        self.0.saves
    }
    /// Likes, comments, shares and saves together.
    async fn engagements(&self) -> Option<i64> {
        self.0.engagements
    }
    /// Video views.
    async fn video_views(&self) -> Option<i64> {
        self.0.video_views
    }
    /// Story replies.
    async fn replies(&self) -> Option<i64> {
        self.0.replies
    }
}

/// A post, reel, video or story an account published.
pub struct Media(pub media::Model);

#[Object]
impl Media {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Media, self.0.id)
    }
    /// What kind of content this is.
    async fn kind(&self) -> MediaKind {
        self.0.kind.into()
    }
    /// The platform's id for the item.
    async fn platform_media_id(&self) -> &str {
        &self.0.platform_media_id
    }
    /// The caption or title.
    async fn caption(&self) -> Option<&str> {
        self.0.caption.as_deref()
    }
    /// The item's public link.
    async fn permalink(&self) -> Option<&str> {
        self.0.permalink.as_deref()
    }
    /// A link to the image or video file, as the platform serves it.
    async fn media_url(&self) -> Option<&str> {
        self.0.media_url.as_deref()
    }
    /// A link to a thumbnail.
    async fn thumbnail_url(&self) -> Option<&str> {
        self.0.thumbnail_url.as_deref()
    }
    /// When it was published.
    async fn taken_at(&self) -> DateTime<Utc> {
        self.0.taken_at
    }
    /// Stories only: when the platform stops showing it (24 hours after publishing).
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// Stories only: whether the story has left the platform (it stays here, captured).
    async fn expired(&self, ctx: &Context<'_>) -> bool {
        self.0.expires_at.is_some_and(|at| at <= ctx.api().now())
    }
    /// The newest captured counters; null until pulled.
    async fn metrics(&self, ctx: &Context<'_>) -> Result<Option<MediaMetrics>> {
        Ok(ctx
            .api()
            .loader()
            .load_one(LatestMediaMetricsOf(self.0.id))
            .await?
            .flatten()
            .map(MediaMetrics))
    }
}

/// One slice of an audience breakdown.
#[derive(SimpleObject, Clone, Debug)]
pub struct AudienceShare {
    /// The bucket: an age range (`18-24`), a gender (`F`, `M`, `U`) or a country code (`US`).
    pub key: String,
    /// The share of the audience in this bucket, from 0 to 1.
    pub share: f64,
}

/// Who follows an account: shares by age, gender and country, or why the platform withholds them.
pub struct Audience(pub audience::Model);

fn shares(value: &Option<serde_json::Value>) -> Vec<AudienceShare> {
    let Some(serde_json::Value::Object(map)) = value else {
        return Vec::new();
    };
    let mut out: Vec<AudienceShare> = map
        .iter()
        .filter_map(|(k, v)| {
            v.as_f64().map(|share| AudienceShare {
                key: k.clone(),
                share,
            })
        })
        .collect();
    out.sort_by(|a, b| b.share.total_cmp(&a.share).then_with(|| a.key.cmp(&b.key)));
    out
}

#[Object]
impl Audience {
    /// Why there is no breakdown (e.g. a YouTube channel under 1,000 subscribers); null when the
    /// shares are present.
    async fn unavailable_reason(&self) -> Option<&str> {
        self.0.unavailable_reason.as_deref()
    }
    /// Shares by age range, largest first.
    async fn age(&self) -> Vec<AudienceShare> {
        shares(&self.0.age)
    }
    /// Shares by gender, largest first.
    async fn gender(&self) -> Vec<AudienceShare> {
        shares(&self.0.gender)
    }
    /// Shares by country (ISO 3166-1 alpha-2), largest first.
    async fn country(&self) -> Vec<AudienceShare> {
        shares(&self.0.country)
    }
    /// When the breakdown was pulled.
    async fn fetched_at(&self) -> DateTime<Utc> {
        self.0.fetched_at
    }
}
