//! Helpers shared by the GraphQL API tests: creating profiles and accounts through the API, and
//! writing the link and data states that connect flows and pull jobs would write.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::entities::{audience, link, media, media_metric, metric_snapshot};
use domain::{InvalidReason, LinkStatus, MediaKind};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use tests::TestApp;
use uuid::Uuid;

/// Creates a profile through the API and returns its global id.
pub async fn create_profile(app: &TestApp, name: &str, kind: &str) -> String {
    let data = app
        .graphql_ok(
            "mutation($input: CreateCreatorProfileInput!) { createCreatorProfile(input: $input) { creatorProfile { id } userErrors { code } } }",
            json!({ "input": { "name": name, "kind": kind } }),
        )
        .await;
    assert_eq!(data["createCreatorProfile"]["userErrors"], json!([]));
    data["createCreatorProfile"]["creatorProfile"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// Adds an account through the API; returns the whole payload.
pub async fn add_account(
    app: &TestApp,
    profile: &str,
    handle_or_url: &str,
    platform: Option<&str>,
) -> Value {
    let data = app
        .graphql_ok(
            "mutation($p: ID!, $input: AddSocialAccountInput!) { addSocialAccount(profileId: $p, input: $input) {
                socialAccount { id platform handle url platformUserId link { status } profile { id } }
                creatorProfile { id }
                conflictingProfile { id name }
                userErrors { code field message } } }",
            json!({ "p": profile, "input": { "handleOrUrl": handle_or_url, "platform": platform } }),
        )
        .await;
    data["addSocialAccount"].clone()
}

/// Adds an account that must succeed; returns its global id.
pub async fn add_ok(
    app: &TestApp,
    profile: &str,
    handle_or_url: &str,
    platform: Option<&str>,
) -> String {
    let payload = add_account(app, profile, handle_or_url, platform).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload:#}");
    payload["socialAccount"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// The row id behind a global id.
pub fn uuid_of(global_id: &str) -> Uuid {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global_id)
        .expect("base64");
    let text = String::from_utf8(raw).expect("utf8");
    Uuid::parse_str(text.split_once(':').expect("typed").1).expect("uuid")
}

/// Writes what a connect would: authenticated at `at`, expiring at `expires_at`, with tokens.
pub async fn authenticate(
    db: &DatabaseConnection,
    account: Uuid,
    at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    followers: i64,
) {
    link::Entity::update_many()
        .col_expr(link::Column::Status, Expr::value(LinkStatus::Linked))
        .col_expr(link::Column::AuthenticatedAt, Expr::value(at))
        .col_expr(link::Column::ExpiresAt, Expr::value(expires_at))
        .col_expr(link::Column::AccessToken, Expr::value("sealed-access"))
        .col_expr(link::Column::RefreshToken, Expr::value("sealed-refresh"))
        .col_expr(
            link::Column::GrantedScopes,
            Expr::value("instagram_basic pages_show_list"),
        )
        .filter(link::Column::AccountId.eq(account))
        .exec(db)
        .await
        .expect("authenticate");
    domain::entities::social_account::Entity::update_many()
        .col_expr(
            domain::entities::social_account::Column::Followers,
            Expr::value(followers),
        )
        .filter(domain::entities::social_account::Column::Id.eq(account))
        .exec(db)
        .await
        .expect("followers");
}

/// Writes what the platform telling us a password changed would.
pub async fn invalidate(db: &DatabaseConnection, account: Uuid, reason: InvalidReason) {
    link::Entity::update_many()
        .col_expr(link::Column::Status, Expr::value(LinkStatus::Invalid))
        .col_expr(link::Column::InvalidReason, Expr::value(reason))
        .filter(link::Column::AccountId.eq(account))
        .exec(db)
        .await
        .expect("invalidate");
}

/// Days of metrics ending today, followers growing by one a day.
pub async fn insert_metrics(db: &DatabaseConnection, org: Uuid, account: Uuid, days: i64) {
    let today = Utc::now().date_naive();
    for d in 0..days {
        let day: NaiveDate = today - Duration::days(days - 1 - d);
        metric_snapshot::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            account_id: Set(account),
            day: Set(day),
            followers: Set(Some(1000 + d)),
            views: Set(Some(50 * d)),
            reach: Set(Some(40 * d)),
            engagements: Set(Some(5 * d)),
            video_views: Set(None),
            likes: Set(Some(3 * d)),
            comments: Set(Some(d)),
            shares: Set(None),
            saves: Set(None),
            extra: Set(None),
            fetched_at: Set(Utc::now()),
        }
        .insert(db)
        .await
        .expect("metric");
    }
}

/// A media item taken `hours_ago`, with one metrics capture.
pub async fn insert_media(
    db: &DatabaseConnection,
    org: Uuid,
    account: Uuid,
    kind: MediaKind,
    code: &str,
    hours_ago: i64,
) -> Uuid {
    let taken_at = Utc::now() - Duration::hours(hours_ago);
    let id = Uuid::now_v7();
    media::ActiveModel {
        id: Set(id),
        organization_id: Set(org),
        account_id: Set(account),
        platform_media_id: Set(code.into()),
        kind: Set(kind),
        caption: Set(Some(format!("caption {code}"))),
        permalink: Set(Some(format!("https://www.instagram.com/p/{code}/"))),
        media_url: Set(None),
        thumbnail_url: Set(None),
        taken_at: Set(taken_at),
        expires_at: Set((kind == MediaKind::Story).then(|| taken_at + Duration::hours(24))),
        first_seen_at: Set(taken_at),
        updated_at: Set(taken_at),
    }
    .insert(db)
    .await
    .expect("media");
    for (i, likes) in [(2, 10), (1, 25)] {
        media_metric::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            media_id: Set(id),
            captured_at: Set(Utc::now() - Duration::minutes(i)),
            views: Set(Some(likes * 10)),
            reach: Set(None),
            likes: Set(Some(likes)),
            comments: Set(None),
            shares: Set(None),
            saves: Set(None),
            engagements: Set(None),
            video_views: Set(None),
            replies: Set(Some(1)),
            extra: Set(None),
        }
        .insert(db)
        .await
        .expect("media metric");
    }
    id
}

/// An audience row: shares, or the reason there are none.
pub async fn insert_audience(
    db: &DatabaseConnection,
    org: Uuid,
    account: Uuid,
    reason: Option<&str>,
) {
    audience::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        account_id: Set(account),
        unavailable_reason: Set(reason.map(str::to_owned)),
        age: Set(reason
            .is_none()
            .then(|| json!({"18-24": 0.4, "25-34": 0.6}))),
        gender: Set(reason.is_none().then(|| json!({"F": 0.7, "M": 0.3}))),
        country: Set(reason
            .is_none()
            .then(|| json!({"US": 0.5, "GB": 0.2, "DE": 0.3}))),
        fetched_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .expect("audience");
}

/// The names on a connection's edges.
pub fn names(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["name"].as_str().expect("name").to_owned())
        .collect()
}
