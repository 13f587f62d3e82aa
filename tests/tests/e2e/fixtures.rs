//! Rows the tests of connect invites, callbacks and privacy start from, written straight into
//! the test database: the accounts and links a finished connect flow would have stored, with
//! sealed-looking token values carrying a marker so a test can prove none of them leaks.

use chrono::{DateTime, Duration, Utc};
use domain::entities::{
    audience, creator_profile, link, media, media_metric, metric_snapshot, social_account,
};
use domain::{InvalidReason, LinkStatus, OrgId, Platform, ProfileKind};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use uuid::Uuid;

pub async fn profile(db: &DatabaseConnection, org: OrgId, name: &str) -> Uuid {
    let now = Utc::now();
    creator_profile::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        kind: Set(ProfileKind::Individual),
        name: Set(name.into()),
        email: Set(Some(format!("{}@example.com", name.to_lowercase()))),
        notes: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("insert profile")
    .id
}

/// How a seeded account's link looks.
pub enum LinkSeed {
    None,
    /// Authenticated at this instant, with tokens whose values contain `marker`.
    Authenticated {
        at: DateTime<Utc>,
        marker: String,
        provider_user_id: Option<String>,
    },
    Invalid(InvalidReason),
}

pub struct AccountSeed<'a> {
    pub platform: Platform,
    pub handle: &'a str,
    pub platform_user_id: Option<&'a str>,
    pub link: LinkSeed,
}

pub async fn account(
    db: &DatabaseConnection,
    org: OrgId,
    profile_id: Uuid,
    seed: AccountSeed<'_>,
) -> Uuid {
    let now = Utc::now();
    let account = social_account::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        profile_id: Set(Some(profile_id)),
        platform: Set(seed.platform),
        handle: Set(seed.handle.into()),
        handle_lower: Set(seed.handle.to_lowercase()),
        url: Set(format!("https://example.com/{}", seed.handle)),
        platform_user_id: Set(seed.platform_user_id.map(str::to_owned)),
        display_name: Set(Some(format!("{} display", seed.handle))),
        avatar_url: Set(None),
        followers: Set(Some(1234)),
        followers_hidden: Set(false),
        paired_account_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("insert account");
    let (status, reason, authenticated_at, access, refresh, puid) = match seed.link {
        LinkSeed::None => return account.id,
        LinkSeed::Authenticated {
            at,
            marker,
            provider_user_id,
        } => (
            LinkStatus::Linked,
            None,
            Some(at),
            Some(format!("v1.k1.access-{marker}")),
            Some(format!("v1.k1.refresh-{marker}")),
            provider_user_id,
        ),
        LinkSeed::Invalid(reason) => (
            LinkStatus::Invalid,
            Some(reason),
            Some(now - Duration::days(3)),
            None,
            None,
            None,
        ),
    };
    let mut link = link::ActiveModel::not_linked(org.uuid(), account.id, now);
    link.status = Set(status);
    link.invalid_reason = Set(reason);
    link.authenticated_at = Set(authenticated_at);
    link.expires_at = Set(authenticated_at.map(|a| a + Duration::days(90)));
    link.expiry_cause = Set(Some("NINETY_DAYS".into()));
    link.access_token = Set(access);
    link.refresh_token = Set(refresh);
    link.access_token_expires_at = Set(Some(now + Duration::hours(2)));
    link.requested_scopes = Set("user.info.basic video.list".into());
    link.granted_scopes = Set("user.info.basic video.list".into());
    link.provider_user_id = Set(puid);
    link.version = Set(1);
    link.insert(db).await.expect("insert link");
    account.id
}

/// One post with a metric capture, one day of metrics and an audience for `account_id`.
pub async fn pulled_data(db: &DatabaseConnection, org: OrgId, account_id: Uuid) {
    let now = Utc::now();
    let m = media::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        account_id: Set(account_id),
        platform_media_id: Set(format!("m-{account_id}")),
        kind: Set(domain::MediaKind::Post),
        caption: Set(Some("sunset over the bay".into())),
        permalink: Set(None),
        media_url: Set(None),
        thumbnail_url: Set(None),
        taken_at: Set(now - Duration::days(1)),
        expires_at: Set(None),
        first_seen_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("insert media");
    media_metric::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        media_id: Set(m.id),
        captured_at: Set(now),
        views: Set(Some(900)),
        reach: Set(Some(700)),
        likes: Set(Some(80)),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert media metric");
    metric_snapshot::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        account_id: Set(account_id),
        day: Set(now.date_naive()),
        followers: Set(Some(1234)),
        views: Set(Some(5000)),
        fetched_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert snapshot");
    audience::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        account_id: Set(account_id),
        unavailable_reason: Set(None),
        age: Set(Some(serde_json::json!({"18-24": 0.4, "25-34": 0.6}))),
        gender: Set(None),
        country: Set(Some(serde_json::json!({"ES": 0.7, "MX": 0.3}))),
        fetched_at: Set(now),
    }
    .insert(db)
    .await
    .expect("insert audience");
}

/// The link of an account.
pub async fn link_of(db: &DatabaseConnection, account_id: Uuid) -> link::Model {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    link::Entity::find()
        .filter(link::Column::AccountId.eq(account_id))
        .one(db)
        .await
        .expect("query")
        .expect("a link")
}

/// The GraphQL id of a profile.
pub fn profile_gid(id: Uuid) -> String {
    api::graphql::ids::encode(api::graphql::ids::NodeType::CreatorProfile, id).to_string()
}
