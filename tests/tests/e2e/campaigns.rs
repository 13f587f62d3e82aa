//! Campaigns through GraphQL: three creators on three platforms, posts and stories with and
//! without the campaign hashtag, the right ones matched, the report equal to the sum of its parts
//! and moving with the metrics, posts added by link (once) and removed (audited), content of a
//! broken account flagged, and the CSV export read back by a CSV parser with the same totals.
//!
//! Creators, accounts, links, media and metrics are written as the connect flow and the pull
//! jobs write them; matching of newly pulled media goes through `campaigns::match_new_media`,
//! the call the pull jobs make.

use chrono::{DateTime, Duration, Utc};
use domain::entities::{creator_profile, link, link_event, media, media_metric, social_account};
use domain::{LinkStatus, MediaKind, OrgId, Platform, ProfileKind};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use tests::{on_both_backends, spawn_app, Backend, TestApp};
use uuid::Uuid;

struct World {
    app: TestApp,
    db: DatabaseConnection,
    org: OrgId,
    start: DateTime<Utc>,
}

async fn world(backend: Backend) -> Option<World> {
    let app = spawn_app(backend).await?;
    let db = app.db.connect().await;
    let org = app.org;
    Some(World {
        app,
        db,
        org,
        start: Utc::now() - Duration::days(3),
    })
}

impl World {
    async fn creator(&self, name: &str) -> Uuid {
        let now = Utc::now();
        creator_profile::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(self.org.uuid()),
            kind: Set(ProfileKind::Individual),
            name: Set(name.into()),
            email: Set(None),
            notes: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await
        .expect("profile")
        .id
    }

    /// A linked account of `profile`.
    async fn account(
        &self,
        profile: Uuid,
        platform: Platform,
        handle: &str,
        followers: i64,
    ) -> Uuid {
        let now = Utc::now();
        let account = social_account::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(self.org.uuid()),
            profile_id: Set(Some(profile)),
            platform: Set(platform),
            handle: Set(handle.into()),
            handle_lower: Set(handle.to_lowercase()),
            url: Set(format!("https://example.com/{handle}")),
            platform_user_id: Set(Some(format!("uid-{handle}"))),
            display_name: Set(None),
            avatar_url: Set(None),
            followers: Set(Some(followers)),
            followers_hidden: Set(false),
            paired_account_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await
        .expect("account");
        let mut link = link::ActiveModel::not_linked(self.org.uuid(), account.id, now);
        link.status = Set(LinkStatus::Linked);
        link.authenticated_at = Set(Some(now - Duration::days(5)));
        link.expires_at = Set(Some(now + Duration::days(85)));
        link.version = Set(1);
        link.insert(&self.db).await.expect("link");
        account.id
    }

    /// A pulled media item, `hours` after the campaign start.
    async fn media(
        &self,
        account: Uuid,
        kind: MediaKind,
        platform_id: &str,
        permalink: &str,
        caption: &str,
        hours: i64,
    ) -> Uuid {
        let taken = self.start + Duration::hours(hours);
        media::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(self.org.uuid()),
            account_id: Set(account),
            platform_media_id: Set(platform_id.into()),
            kind: Set(kind),
            caption: Set(Some(caption.into())),
            permalink: Set(Some(permalink.into())),
            media_url: Set(None),
            thumbnail_url: Set(None),
            taken_at: Set(taken),
            expires_at: Set((kind == MediaKind::Story).then(|| taken + Duration::hours(24))),
            first_seen_at: Set(taken),
            updated_at: Set(taken),
        }
        .insert(&self.db)
        .await
        .expect("media")
        .id
    }

    /// Metrics of `media` as a pull captures them: views, reach, likes, comments, shares, saves.
    async fn metrics(&self, media: Uuid, captured: DateTime<Utc>, n: [Option<i64>; 6]) {
        media_metric::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(self.org.uuid()),
            media_id: Set(media),
            captured_at: Set(captured),
            views: Set(n[0]),
            reach: Set(n[1]),
            likes: Set(n[2]),
            comments: Set(n[3]),
            shares: Set(n[4]),
            saves: Set(n[5]),
            engagements: Set(None),
            video_views: Set(None),
            replies: Set(None),
            extra: Set(None),
        }
        .insert(&self.db)
        .await
        .expect("metrics");
    }

    async fn gql(&self, query: &str, variables: Value) -> Value {
        self.app.graphql_ok(query, variables).await
    }

    async fn create_campaign(&self, profiles: &[Uuid]) -> String {
        let profile_ids: Vec<String> = profiles.iter().map(|p| profile_gid(*p)).collect();
        let data = self
            .gql(
                "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) {
                    campaign { id status hashtags profiles { id } }
                    userErrors { code field message } } }",
                json!({ "input": {
                    "name": "Summer launch", "brand": "Acme",
                    "startsAt": self.start.to_rfc3339(),
                    "endsAt": (self.start + Duration::days(14)).to_rfc3339(),
                    "hashtags": ["#AcmeSummer"], "mentions": ["@acme"],
                    "profileIds": profile_ids,
                }}),
            )
            .await;
        let payload = &data["createCampaign"];
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        assert_eq!(payload["campaign"]["status"], "DRAFT");
        assert_eq!(payload["campaign"]["hashtags"], json!(["acmesummer"]));
        payload["campaign"]["id"].as_str().expect("id").to_owned()
    }

    async fn activate(&self, campaign: &str) {
        let data = self
            .gql(
                "mutation($id: ID!) { setCampaignStatus(input: {campaignId: $id, status: ACTIVE}) {
                    campaign { status } userErrors { code } } }",
                json!({ "id": campaign }),
            )
            .await;
        assert_eq!(data["setCampaignStatus"]["campaign"]["status"], "ACTIVE");
    }

    async fn content(&self, campaign: &str, include_removed: bool) -> Vec<Value> {
        let data = self
            .gql(
                "query($id: ID!, $all: Boolean!) { campaign(id: $id) { content(includeRemoved: $all) {
                    id kind permalink matchedBy matchedRule removedAt removedBy nextPullAt } } }",
                json!({ "id": campaign, "all": include_removed }),
            )
            .await;
        data["campaign"]["content"]
            .as_array()
            .expect("content list")
            .clone()
    }

    async fn report(&self, campaign: &str) -> Value {
        let totals = "contentCount views reach engagements likes comments shares saves videoViews
                      followers engagementRateByReach engagementRateByFollowers storyCount storyReach";
        let data = self
            .gql(
                &format!(
                    "query($id: ID!) {{ campaign(id: $id) {{ report {{
                        totals {{ {totals} }}
                        creators {{ name staleAccounts totals {{ {totals} }} }}
                        platforms {{ platform totals {{ {totals} }} }}
                        content {{ handle kind views reach engagements stale accountStatus metricsAsOf }}
                        days {{ day totals {{ views }} }}
                        hasStaleContent }} }} }}"
                ),
                json!({ "id": campaign }),
            )
            .await;
        data["campaign"]["report"].clone()
    }

    async fn events(&self, kind: &str) -> Vec<link_event::Model> {
        link_event::Entity::find()
            .filter(link_event::Column::OrganizationId.eq(self.org.uuid()))
            .filter(link_event::Column::Kind.eq(kind))
            .all(&self.db)
            .await
            .expect("events")
    }
}

fn profile_gid(id: Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("CreatorProfile:{id}"))
}

fn sum(rows: &Value, field: &str) -> i64 {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| r["totals"][field].as_i64().unwrap_or(0))
        .sum()
}

/// Three creators (Instagram, TikTok, YouTube) and one who does not take part.
struct Cast {
    ana: Uuid,
    ben: Uuid,
    cy: Uuid,
    dee: Uuid,
    ig: Uuid,
    tt: Uuid,
    yt: Uuid,
    other_tt: Uuid,
}

async fn cast(w: &World) -> Cast {
    let ana = w.creator("Ana").await;
    let ben = w.creator("Ben").await;
    let cy = w.creator("Cy").await;
    let dee = w.creator("Dee").await;
    Cast {
        ana,
        ben,
        cy,
        dee,
        ig: w
            .account(ana, Platform::Instagram, "ana.travels", 1000)
            .await,
        tt: w.account(ben, Platform::Tiktok, "bencooks", 2000).await,
        yt: w.account(cy, Platform::Youtube, "cyreviews", 500).await,
        other_tt: w.account(dee, Platform::Tiktok, "deedances", 9000).await,
    }
}

async fn a_campaign_matches_its_creators_hashtagged_posts_and_stories_and_reports_their_sum(
    backend: Backend,
) {
    let Some(w) = world(backend).await else {
        return;
    };
    let c = cast(&w).await;
    let post = w
        .media(
            c.ig,
            MediaKind::Post,
            "17900001",
            "https://www.instagram.com/p/AnaPost1/",
            "Beach day #AcmeSummer",
            2,
        )
        .await;
    let story = w
        .media(
            c.ig,
            MediaKind::Story,
            "17900002",
            "https://www.instagram.com/stories/ana.travels/17900002/",
            "thanks @Acme!",
            3,
        )
        .await;
    let _untagged = w
        .media(
            c.ig,
            MediaKind::Post,
            "17900003",
            "https://www.instagram.com/p/AnaPost3/",
            "just coffee",
            4,
        )
        .await;
    let _before = w
        .media(
            c.ig,
            MediaKind::Post,
            "17900004",
            "https://www.instagram.com/p/AnaPost4/",
            "#acmesummer teaser",
            -30,
        )
        .await;
    let video = w
        .media(
            c.tt,
            MediaKind::Video,
            "7300001",
            "https://www.tiktok.com/@bencooks/video/7300001",
            "grill time #acmesummer",
            5,
        )
        .await;
    let _other = w
        .media(
            c.other_tt,
            MediaKind::Video,
            "7300009",
            "https://www.tiktok.com/@deedances/video/7300009",
            "#acmesummer dance",
            5,
        )
        .await;
    w.metrics(
        post,
        w.start + Duration::hours(3),
        [Some(100), Some(80), Some(10), Some(2), Some(1), Some(3)],
    )
    .await;
    w.metrics(
        story,
        w.start + Duration::hours(4),
        [Some(50), Some(40), None, None, Some(1), None],
    )
    .await;
    w.metrics(
        video,
        w.start + Duration::hours(6),
        [Some(1000), None, Some(100), Some(10), Some(5), None],
    )
    .await;

    let campaign = w.create_campaign(&[c.ana, c.ben, c.cy]).await;
    assert!(
        w.content(&campaign, false).await.is_empty(),
        "a draft matches nothing"
    );
    w.activate(&campaign).await;

    let content = w.content(&campaign, false).await;
    let mut kinds: Vec<(String, String)> = content
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap_or("").to_owned(),
                c["matchedBy"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("POST".into(), "HASHTAG".into()),
            ("STORY".into(), "MENTION".into()),
            ("VIDEO".into(), "HASHTAG".into()),
        ],
        "the tagged post, the story mentioning the brand and the tagged video; not the untagged \
         post, the post before the start, nor the non-participant's video: {content:#?}"
    );
    assert_eq!(
        w.events(domain::events::kind::CAMPAIGN_CONTENT_MATCHED)
            .await
            .len(),
        3
    );

    // A YouTube video appears later: the pull job matches it.
    let yt_video = w
        .media(
            c.yt,
            MediaKind::Video,
            "dQw4w9WgXcQ",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "Review #AcmeSummer",
            30,
        )
        .await;
    w.metrics(
        yt_video,
        w.start + Duration::hours(31),
        [Some(400), None, Some(40), Some(4), None, None],
    )
    .await;
    let matched = domain::campaigns::match_new_media(&w.db, w.org, &[yt_video, video], Utc::now())
        .await
        .expect("matching");
    assert_eq!(
        matched.len(),
        1,
        "the new video is matched; the known one is not matched twice"
    );

    let report = w.report(&campaign).await;
    let totals = &report["totals"];
    assert_eq!(totals["contentCount"], 4);
    assert_eq!(totals["views"], 100 + 50 + 1000 + 400);
    assert_eq!(totals["reach"], 80 + 40);
    assert_eq!(
        totals["engagements"],
        16 + 1 + 115 + 44,
        "likes+comments+shares+saves"
    );
    assert_eq!(totals["storyCount"], 1);
    assert_eq!(totals["storyReach"], 40);
    assert_eq!(totals["followers"], 1000 + 2000 + 500);
    for field in [
        "views",
        "reach",
        "engagements",
        "storyReach",
        "contentCount",
    ] {
        assert_eq!(
            sum(&report["creators"], field),
            totals[field].as_i64().unwrap_or(-1),
            "{field}"
        );
        assert_eq!(
            sum(&report["platforms"], field),
            totals[field].as_i64().unwrap_or(-1),
            "{field}"
        );
    }
    let content_views: i64 = report["content"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["views"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(content_views, totals["views"].as_i64().unwrap_or(-1));
    assert_eq!(report["hasStaleContent"], false);

    // The metrics move: the report follows.
    w.metrics(
        post,
        Utc::now() - Duration::minutes(1),
        [Some(900), Some(700), Some(60), Some(9), Some(4), Some(7)],
    )
    .await;
    let moved = w.report(&campaign).await;
    assert_eq!(moved["totals"]["views"], 900 + 50 + 1000 + 400);
    assert_eq!(moved["totals"]["engagements"], 80 + 1 + 115 + 44);
    let last_day = moved["days"]
        .as_array()
        .and_then(|d| d.last())
        .expect("a day")
        .clone();
    assert_eq!(last_day["totals"]["views"], moved["totals"]["views"]);
}

async fn a_post_added_by_link_is_tracked_once_and_a_post_of_another_creator_is_refused(
    backend: Backend,
) {
    let Some(w) = world(backend).await else {
        return;
    };
    let c = cast(&w).await;
    let untagged = w
        .media(
            c.ig,
            MediaKind::Post,
            "17900003",
            "https://www.instagram.com/p/AnaPost3/",
            "just coffee",
            4,
        )
        .await;
    let campaign = w.create_campaign(&[c.ana, c.ben, c.cy]).await;
    w.activate(&campaign).await;
    let add = |url: &str| json!({ "input": { "campaignId": campaign.clone(), "url": url } });
    let q = "mutation($input: AddCampaignPostInput!) { addCampaignPost(input: $input) {
        content { id matchedBy permalink } pending userErrors { code field message } } }";

    // Any usual form of the link: a reel URL with tracking parameters names the same post.
    let first = w
        .gql(
            q,
            add("https://instagram.com/reel/AnaPost3/?utm_source=ig_web"),
        )
        .await;
    let first = &first["addCampaignPost"];
    assert_eq!(first["userErrors"], json!([]), "{first}");
    assert_eq!(first["content"]["matchedBy"], "URL");
    let again = w.gql(q, add("https://www.instagram.com/p/AnaPost3/")).await;
    assert_eq!(
        again["addCampaignPost"]["content"]["id"], first["content"]["id"],
        "recorded once"
    );
    assert_eq!(w.content(&campaign, false).await.len(), 1);

    let other = w
        .gql(q, add("https://www.tiktok.com/@deedances/video/7300009"))
        .await;
    assert_eq!(
        other["addCampaignPost"]["userErrors"][0]["code"],
        "NOT_PARTICIPATING"
    );
    assert_eq!(other["addCampaignPost"]["content"], Value::Null);
    let bad = w.gql(q, add("https://example.com/whatever")).await;
    assert_eq!(bad["addCampaignPost"]["userErrors"][0]["field"], "url");

    // A video not pulled yet waits for its pull.
    let pending = w.gql(q, add("https://youtu.be/abcdefghijk")).await;
    assert_eq!(pending["addCampaignPost"]["pending"], true);
    let later = w
        .media(
            c.yt,
            MediaKind::Video,
            "abcdefghijk",
            "https://www.youtube.com/watch?v=abcdefghijk",
            "no tag at all",
            -100,
        )
        .await;
    let matched = domain::campaigns::match_new_media(&w.db, w.org, &[later, untagged], Utc::now())
        .await
        .expect("matching");
    assert_eq!(matched.len(), 1);
    assert_eq!(matched[0].media_id, later);
    assert_eq!(w.content(&campaign, false).await.len(), 2);
}

async fn removing_content_is_audited_and_the_rules_do_not_bring_it_back(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let c = cast(&w).await;
    let post = w
        .media(
            c.ig,
            MediaKind::Post,
            "17900001",
            "https://www.instagram.com/p/AnaPost1/",
            "#acmesummer",
            2,
        )
        .await;
    let campaign = w.create_campaign(&[c.ana]).await;
    w.activate(&campaign).await;
    let content = w.content(&campaign, false).await;
    assert_eq!(content.len(), 1);
    let id = content[0]["id"].as_str().expect("id").to_owned();

    let q = "mutation($input: RemoveCampaignContentInput!) { removeCampaignContent(input: $input) {
        content { id removedAt removedBy } userErrors { code } } }";
    let vars = json!({ "input": { "campaignId": campaign, "contentId": id } });
    let removed = w.gql(q, vars.clone()).await;
    let removed = &removed["removeCampaignContent"];
    assert_eq!(removed["userErrors"], json!([]));
    assert!(removed["content"]["removedAt"].is_string());
    assert!(
        removed["content"]["removedBy"]
            .as_str()
            .is_some_and(|by| by.starts_with("user:")),
        "the removal names the authenticated user: {removed}"
    );
    let twice = w.gql(q, vars).await;
    assert_eq!(
        twice["removeCampaignContent"]["userErrors"][0]["code"],
        "ALREADY_REMOVED"
    );

    let audit = w
        .events(domain::events::kind::CAMPAIGN_CONTENT_REMOVED)
        .await;
    assert_eq!(audit.len(), 1);
    let detail = audit[0].detail.clone().expect("detail");
    assert_eq!(detail["contentId"], json!(id));
    assert_eq!(audit[0].account_id, Some(c.ig));

    let rematched = domain::campaigns::match_new_media(&w.db, w.org, &[post], Utc::now())
        .await
        .expect("matching");
    assert!(rematched.is_empty());
    assert!(w.content(&campaign, false).await.is_empty());
    let all = w.content(&campaign, true).await;
    assert_eq!(all.len(), 1, "the removed item is kept for audit");
    assert_eq!(w.report(&campaign).await["totals"]["contentCount"], 0);
}

async fn content_of_a_broken_account_is_flagged_with_its_last_numbers_and_their_date(
    backend: Backend,
) {
    let Some(w) = world(backend).await else {
        return;
    };
    let c = cast(&w).await;
    let video = w
        .media(
            c.tt,
            MediaKind::Video,
            "7300001",
            "https://www.tiktok.com/@bencooks/video/7300001",
            "#acmesummer",
            5,
        )
        .await;
    let captured = w.start + Duration::hours(7);
    w.metrics(
        video,
        captured,
        [Some(1000), None, Some(100), Some(10), Some(5), None],
    )
    .await;
    let campaign = w.create_campaign(&[c.ben]).await;
    w.activate(&campaign).await;

    let account = social_account::Entity::find_by_id(c.tt)
        .one(&w.db)
        .await
        .expect("query")
        .expect("account");
    let l = link::Entity::find()
        .filter(link::Column::AccountId.eq(c.tt))
        .one(&w.db)
        .await
        .expect("query")
        .expect("link");
    let mut broken: link::ActiveModel = l.into();
    broken.status = Set(LinkStatus::Invalid);
    broken.invalid_reason = Set(Some(domain::InvalidReason::PermissionsRevoked));
    broken.update(&w.db).await.expect("update");
    let told = domain::campaigns::content::account_broke(
        &w.db,
        &account,
        LinkStatus::Invalid,
        Some("PERMISSIONS_REVOKED".into()),
        &domain::Actor::system("test"),
        Utc::now(),
    )
    .await
    .expect("event");
    assert_eq!(told, 1, "one event for the one active campaign");
    assert_eq!(
        w.events(domain::events::kind::CAMPAIGN_ACCOUNT_BROKEN)
            .await
            .len(),
        1
    );

    let report = w.report(&campaign).await;
    let row = &report["content"][0];
    assert_eq!(row["stale"], true);
    assert_eq!(row["accountStatus"], "INVALID");
    assert_eq!(row["views"], 1000, "the last numbers seen");
    let as_of: DateTime<Utc> = row["metricsAsOf"]
        .as_str()
        .expect("date")
        .parse()
        .expect("rfc3339");
    assert_eq!(as_of.timestamp(), captured.timestamp());
    assert_eq!(report["hasStaleContent"], true);
    assert_eq!(report["creators"][0]["staleAccounts"], json!(["bencooks"]));
    let _ = (c.ana, c.cy, c.dee, c.ig, c.yt, c.other_tt);
}

async fn the_csv_export_opens_in_a_csv_parser_with_the_report_totals(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let c = cast(&w).await;
    let post = w
        .media(
            c.ig,
            MediaKind::Post,
            "17900001",
            "https://www.instagram.com/p/AnaPost1/",
            "Beach, day \"one\" #AcmeSummer",
            2,
        )
        .await;
    let video = w
        .media(
            c.tt,
            MediaKind::Video,
            "7300001",
            "https://www.tiktok.com/@bencooks/video/7300001",
            "#acmesummer",
            5,
        )
        .await;
    w.metrics(
        post,
        w.start + Duration::hours(3),
        [Some(100), Some(80), Some(10), Some(2), Some(1), Some(3)],
    )
    .await;
    w.metrics(
        video,
        w.start + Duration::hours(6),
        [Some(1000), None, Some(100), Some(10), Some(5), None],
    )
    .await;
    let campaign = w.create_campaign(&[c.ana, c.ben]).await;
    w.activate(&campaign).await;
    let report = w.report(&campaign).await;

    let data = w
        .gql(
            "query($id: ID!) { exportCampaignReport(campaignId: $id, format: CSV) {
                format fileName contentType data } }",
            json!({ "id": campaign }),
        )
        .await;
    let export = &data["exportCampaignReport"];
    assert_eq!(export["contentType"], "text/csv");
    assert_eq!(export["fileName"], "summer-launch-report.csv");
    let text = export["data"].as_str().expect("csv text");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    let total = rows.iter().find(|r| &r[0] == "TOTAL").expect("a TOTAL row");
    for field in ["views", "reach", "engagements"] {
        let parts: i64 = rows
            .iter()
            .filter(|r| &r[0] == "CONTENT")
            .map(|r| r[col(field)].parse::<i64>().unwrap_or(0))
            .sum();
        let total_value: i64 = total[col(field)].parse().expect("a number");
        assert_eq!(parts, total_value, "{field}");
    }
    assert_eq!(
        total[col("views")].parse::<i64>().ok(),
        report["totals"]["views"].as_i64()
    );
    assert_eq!(
        total[col("engagements")].parse::<i64>().ok(),
        report["totals"]["engagements"].as_i64()
    );

    let json_export = w
        .gql(
            "query($id: ID!) { exportCampaignReport(campaignId: $id, format: JSON) { data } }",
            json!({ "id": campaign }),
        )
        .await;
    let doc: Value = serde_json::from_str(
        json_export["exportCampaignReport"]["data"]
            .as_str()
            .expect("json"),
    )
    .expect("a JSON document");
    assert_eq!(doc["totals"]["views"], report["totals"]["views"]);
}

async fn a_campaign_limited_caller_sees_only_its_campaigns(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let c = cast(&w).await;
    let mine = w.create_campaign(&[c.ana]).await;
    let theirs = w.create_campaign(&[c.ben]).await;
    let id = |gid: &str| {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(gid)
            .expect("base64");
        let text = String::from_utf8(raw).expect("utf8");
        Uuid::parse_str(text.trim_start_matches("Campaign:")).expect("uuid")
    };
    let access = domain::campaigns::CampaignAccess::Only([id(&mine)].into_iter().collect());
    let page = domain::campaigns::list(&w.db, w.org, &access, None, &Default::default(), 20)
        .await
        .expect("list");
    assert_eq!(
        page.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![id(&mine)]
    );
    assert!(matches!(
        domain::campaigns::get(&w.db, w.org, &access, id(&theirs)).await,
        Err(domain::DomainError::NotFound { .. })
    ));
    assert!(matches!(
        domain::campaigns::report::load(
            &w.db,
            w.org,
            &access,
            id(&theirs),
            Utc::now(),
            Duration::days(14)
        )
        .await,
        Err(domain::DomainError::NotFound { .. })
    ));
    // Another organization sees neither.
    let other = domain::organizations::create(&w.db, "another")
        .await
        .expect("org");
    let all = domain::campaigns::CampaignAccess::All;
    assert!(
        domain::campaigns::get(&w.db, OrgId::new(other.id), &all, id(&mine))
            .await
            .is_err()
    );
    // Through GraphQL, an id of another type is not a campaign.
    let data = w
        .gql(
            "query($id: ID!) { campaign(id: $id) { id } }",
            json!({ "id": profile_gid(c.ana) }),
        )
        .await;
    assert_eq!(data["campaign"], Value::Null);
}

on_both_backends!(
    a_campaign_matches_its_creators_hashtagged_posts_and_stories_and_reports_their_sum,
    a_post_added_by_link_is_tracked_once_and_a_post_of_another_creator_is_refused,
    removing_content_is_audited_and_the_rules_do_not_bring_it_back,
    content_of_a_broken_account_is_flagged_with_its_last_numbers_and_their_date,
    the_csv_export_opens_in_a_csv_parser_with_the_report_totals,
    a_campaign_limited_caller_sees_only_its_campaigns,
);
