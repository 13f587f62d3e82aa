//! Campaign content on its own cadence, against the sandbox providers and their clock: three
//! creators connected through the real OAuth flow (Instagram, TikTok, YouTube), their sandbox
//! posts tracked by a campaign, the `campaign_content_scan` job run as sandbox time passes and
//! the platform calls counted per content item; stories get a final pull before they close; a
//! spent YouTube budget holds YouTube content back and the campaign says so; a link breaking
//! during the campaign tells the brand; a campaign-limited key sees nothing outside.
//!
//! The media rows are written as the pull jobs write them (with the sandbox's own ids, so the
//! platform answers for them) and matched through `campaigns::match_new_media`, the call those
//! jobs make.

use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::deauthorization::sign_request;
use domain::entities::{campaign_content, link, link_event, media, media_metric, social_account};
use domain::secret::Secret;
use domain::{LinkStatus, MediaKind, Platform, Provider};
use jobs::campaigns::CampaignContentScan;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use tests::live::{WebhookReceiver, WsClient};
use tests::{on_both_backends, spawn_app_with, Backend, Credential, TestApp};
use uuid::Uuid;

use crate::api_support::{create_profile, uuid_of};
use crate::connect::{
    account_by_platform, advance, connect, sandbox_calls, sandbox_now, select_page,
};

/// The Instagram account of the sandbox user `meta_ana`.
const ANA_IG: &str = "17841400008460056";

struct Setup {
    app: TestApp,
    db: DatabaseConnection,
    campaign: String,
    profiles: Vec<String>,
    ig: social_account::Model,
    tt: social_account::Model,
    yt: social_account::Model,
    /// Someone who does not take part, with an account and a post.
    outsider: String,
}

/// Three creators connected on three platforms, a fourth outside the campaign, and an ACTIVE
/// campaign over the last ten days and the next two weeks. Schedules are off: the test runs the
/// scan when it moves the clock.
async fn setup(backend: Backend, youtube_units: i64) -> Option<Setup> {
    let app = spawn_app_with(backend, move |c| {
        let j = &mut c.jobs;
        for s in [
            &mut j.expire_links_schedule,
            &mut j.refresh_schedule,
            &mut j.stories_schedule,
            &mut j.metrics_schedule,
            &mut j.media_schedule,
            &mut j.audience_schedule,
            &mut j.campaign_content_schedule,
        ] {
            *s = "off".into();
        }
        j.campaign_youtube_daily_units = youtube_units;
        j.backoff_base_ms = 10;
        j.backoff_max_secs = 1;
        // Events reach subscribers and webhooks quickly, and webhooks may go to this machine.
        j.heartbeat_secs = 1;
        j.missed_heartbeats = 2;
        c.events.poll_interval_ms = 50;
        c.webhooks.allow_private_targets = true;
    })
    .await?;
    let db = app.db.connect().await;
    // Keep the test inside one Pacific quota day.
    let now = sandbox_now(&app).await;
    let to_midnight = domain::platforms::next_pacific_midnight(now) - now;
    if to_midnight < Duration::hours(6) {
        advance(&app, to_midnight.num_seconds() + 3600).await;
    }
    let mut profiles = Vec::new();
    for name in ["Ana", "Leo", "Big"] {
        profiles.push(create_profile(&app, name, "INDIVIDUAL").await);
    }
    let outsider = create_profile(&app, "Mia", "INDIVIDUAL").await;
    let (status, page) = connect(&app, &profiles[0], "INSTAGRAM", "meta_ana").await;
    assert_eq!(status, 200, "{page}");
    let (status, done) = select_page(&app, &page, "101112131415161").await;
    assert_eq!(status, 200, "{done}");
    let (status, body) = connect(&app, &profiles[1], "TIKTOK", "tiktok_leo").await;
    assert!(status < 400, "{body}");
    let (status, body) = connect(&app, &profiles[2], "YOUTUBE", "yt_big").await;
    assert!(status < 400, "{body}");
    let (status, body) = connect(&app, &outsider, "TIKTOK", "tiktok_mia").await;
    assert!(status < 400, "{body}");
    let one = |platform: Platform, handle: &'static str| {
        let db = db.clone();
        async move {
            account_by_platform(&db, platform)
                .await
                .into_iter()
                .map(|(a, _)| a)
                .find(|a| handle.is_empty() || a.handle == handle)
                .unwrap_or_else(|| panic!("a linked {platform:?} account"))
        }
    };
    let ig = one(Platform::Instagram, "").await;
    let tt = one(Platform::Tiktok, "leo.dances").await;
    let yt = one(Platform::Youtube, "").await;
    let now = sandbox_now(&app).await;
    let data = app
        .graphql_ok(
            "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) {
                campaign { id } userErrors { code message } } }",
            json!({ "input": {
                "name": "Summer launch", "brand": "Acme",
                "startsAt": (now - Duration::days(10)).to_rfc3339(),
                "endsAt": (now + Duration::days(14)).to_rfc3339(),
                "hashtags": ["#AcmeSummer"], "mentions": [],
                "profileIds": profiles,
            }}),
        )
        .await;
    let campaign = data["createCampaign"]["campaign"]["id"]
        .as_str()
        .expect("campaign id")
        .to_owned();
    let data = app
        .graphql_ok(
            "mutation($id: ID!) { setCampaignStatus(input: {campaignId: $id, status: ACTIVE}) {
                campaign { status } } }",
            json!({ "id": campaign }),
        )
        .await;
    assert_eq!(data["setCampaignStatus"]["campaign"]["status"], "ACTIVE");
    Some(Setup {
        app,
        db,
        campaign,
        profiles,
        ig,
        tt,
        yt,
        outsider,
    })
}

impl Setup {
    /// Stores a media item as the pull jobs do and matches it; returns its id.
    async fn pulled(
        &self,
        account: &social_account::Model,
        kind: MediaKind,
        platform_id: &str,
        taken_at: DateTime<Utc>,
        caption: &str,
    ) -> Uuid {
        let now = sandbox_now(&self.app).await;
        let m = media::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(self.app.org.uuid()),
            account_id: Set(account.id),
            platform_media_id: Set(platform_id.into()),
            kind: Set(kind),
            caption: Set(Some(caption.into())),
            permalink: Set(None),
            media_url: Set(None),
            thumbnail_url: Set(None),
            taken_at: Set(taken_at),
            expires_at: Set((kind == MediaKind::Story).then(|| taken_at + Duration::hours(24))),
            first_seen_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await
        .expect("media");
        domain::campaigns::match_new_media(&self.db, self.app.org, &[m.id], now)
            .await
            .expect("match");
        m.id
    }

    /// Every link event of `account`, and those of them that told a campaign it broke.
    async fn broken_events(
        &self,
        account: Uuid,
    ) -> (Vec<link_event::Model>, Vec<link_event::Model>) {
        let events = link_event::Entity::find()
            .filter(link_event::Column::AccountId.eq(account))
            .all(&self.db)
            .await
            .expect("events");
        let broken = events
            .iter()
            .filter(|e| e.kind == "CAMPAIGN_ACCOUNT_BROKEN")
            .cloned()
            .collect();
        (events, broken)
    }

    async fn content_of(&self, media_id: Uuid) -> Option<campaign_content::Model> {
        campaign_content::Entity::find()
            .filter(campaign_content::Column::MediaId.eq(media_id))
            .one(&self.db)
            .await
            .expect("content")
    }

    /// Runs the scan at the sandbox's now and waits until every item it handed out was pulled.
    async fn scan(&self) {
        let now = sandbox_now(&self.app).await;
        let due: Vec<Uuid> = campaign_content::Entity::find()
            .filter(campaign_content::Column::RemovedAt.is_null())
            .filter(campaign_content::Column::NextPullAt.lte(now))
            .all(&self.db)
            .await
            .expect("due")
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(
            jobs::execute(&CampaignContentScan::default(), &self.app.jobs).await,
            jobs::Outcome::Done
        );
        // The sandbox clock runs on from `now` while the job waits in the queue.
        for _ in 0..600 {
            let rows = campaign_content::Entity::find()
                .filter(campaign_content::Column::Id.is_in(due.clone()))
                .all(&self.db)
                .await
                .expect("content");
            if rows.iter().all(|c| {
                c.last_pulled_at.is_some_and(|at| at >= now)
                    || c.next_pull_at
                        .is_some_and(|n| n > now + Duration::minutes(11))
            }) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let dead = domain::entities::dead_job::Entity::find()
            .all(&self.db)
            .await
            .expect("dead jobs");
        let logs: Vec<String> = tests::logs()
            .contents()
            .lines()
            .filter(|l| l.contains("campaign_content") || l.contains("campaign content"))
            .map(str::to_owned)
            .collect();
        let rows = campaign_content::Entity::find()
            .all(&self.db)
            .await
            .expect("content");
        panic!("the due campaign content was not pulled at {now}: {rows:#?}; dead jobs: {dead:?}; logs: {logs:#?}");
    }

    async fn calls(&self, provider: &str, user: &str, endpoint: &str) -> usize {
        sandbox_calls(
            &self.app,
            &format!("provider={provider}&user={user}&endpoint={endpoint}"),
        )
        .await
        .iter()
        .filter(|c| c["status"] == 200)
        .count()
    }

    async fn metrics_of(&self, media_id: Uuid) -> Vec<media_metric::Model> {
        media_metric::Entity::find()
            .filter(media_metric::Column::MediaId.eq(media_id))
            .all(&self.db)
            .await
            .expect("metrics")
    }

    /// `POST /sandbox/control/users/{user}/media`: the status and the body.
    async fn publish(&self, user: &str, body: Value) -> (u16, Value) {
        let response = self
            .app
            .client
            .post(
                self.app
                    .url(&format!("/sandbox/control/users/{user}/media")),
            )
            .json(&body)
            .send()
            .await
            .expect("publish");
        let status = response.status().as_u16();
        (
            status,
            response.json::<Value>().await.unwrap_or(Value::Null),
        )
    }

    /// Runs `job` now and expects it done.
    async fn run<J: jobs::Job>(&self, job: J) {
        assert_eq!(
            jobs::execute(&job, &self.app.jobs).await,
            jobs::Outcome::Done,
            "{}",
            J::NAME
        );
    }

    async fn gql(&self, query: &str) -> Value {
        self.app
            .graphql_ok(query, json!({ "id": self.campaign }))
            .await
    }
}

/// The sandbox's newest Instagram post, TikTok video and an older YouTube video (ids follow the
/// sandbox's clock-derived schedules: a post every 2 days, a video every day, every 3 days).
fn sandbox_items(now: DateTime<Utc>) -> [(String, DateTime<Utc>); 3] {
    let ig = now.duration_trunc(Duration::days(2)).expect("trunc");
    let tt = now.duration_trunc(Duration::days(1)).expect("trunc");
    let yt = now.duration_trunc(Duration::days(3)).expect("trunc") - Duration::days(3);
    [
        (format!("{ANA_IG}_p{}", ig.timestamp()), ig),
        (format!("73054{}", tt.timestamp()), tt),
        (format!("v4R8DWo{}", yt.timestamp()), yt),
    ]
}

async fn campaign_content_is_pulled_on_its_cadence_and_stories_get_a_final_pull(backend: Backend) {
    let Some(s) = setup(backend, 1_000).await else {
        return;
    };
    // Start where the newest sandbox post is less than 46 hours old, so it stays in its first
    // 48 hours for the whole hour.
    let now = sandbox_now(&s.app).await;
    let post_at = now.duration_trunc(Duration::days(2)).expect("trunc");
    if now - post_at > Duration::hours(46) {
        advance(
            &s.app,
            (post_at + Duration::days(2) - now).num_seconds() + 60,
        )
        .await;
    }
    let now = sandbox_now(&s.app).await;
    let [(ig_id, ig_at), (tt_id, tt_at), (yt_id, yt_at)] = sandbox_items(now);
    let post = s
        .pulled(&s.ig, MediaKind::Post, &ig_id, ig_at, "Beach #AcmeSummer")
        .await;
    let video = s
        .pulled(
            &s.tt,
            MediaKind::Video,
            &tt_id,
            tt_at,
            "Cooking #acmesummer",
        )
        .await;
    let older = s
        .pulled(&s.yt, MediaKind::Video, &yt_id, yt_at, "Review #AcmeSummer")
        .await;
    let untracked = s
        .pulled(&s.tt, MediaKind::Video, "7305400000", tt_at, "No tag here")
        .await;
    assert!(s.content_of(untracked).await.is_none());
    for m in [post, video, older] {
        assert!(s.content_of(m).await.is_some(), "matched");
    }
    let before = (
        s.calls("meta", "meta_ana", "media_insights").await,
        s.calls("tiktok", "tiktok_leo", "video_query").await,
        s.calls("google", "yt_big", "videos").await,
    );

    // One hour of sandbox time, the scan every 5 minutes: the post and the TikTok video (younger
    // than 48 h) are pulled every 15 minutes, the YouTube video (3 to 6 days old) hourly.
    for step in 0..=12 {
        if step > 0 {
            advance(&s.app, 300).await;
        }
        s.scan().await;
    }
    let after = (
        s.calls("meta", "meta_ana", "media_insights").await,
        s.calls("tiktok", "tiktok_leo", "video_query").await,
        s.calls("google", "yt_big", "videos").await,
    );
    assert_eq!(
        after.0 - before.0,
        5,
        "Instagram post: 0, 15, 30, 45, 60 min"
    );
    assert_eq!(after.1 - before.1, 5, "TikTok video: every 15 minutes");
    assert_eq!(after.2 - before.2, 2, "YouTube video: hourly");
    assert_eq!(s.metrics_of(post).await.len(), 5);
    assert_eq!(s.metrics_of(older).await.len(), 2);
    assert!(
        s.metrics_of(untracked).await.is_empty(),
        "only campaign content"
    );
    // Metrics move with sandbox time, and the report shows the newest.
    let views: Vec<i64> = {
        let mut m = s.metrics_of(post).await;
        m.sort_by_key(|m| m.captured_at);
        m.iter().filter_map(|m| m.views).collect()
    };
    assert!(views.windows(2).all(|w| w[0] <= w[1]), "{views:?}");
    assert!(views.first() < views.last(), "{views:?}");
    let data = s
        .gql("query($id: ID!) { campaign(id: $id) { report { content { handle views } } slowedByQuota youtubeUnitsSpentToday } }")
        .await;
    let rows = data["campaign"]["report"]["content"]
        .as_array()
        .expect("rows")
        .clone();
    let ana = rows
        .iter()
        .find(|r| r["handle"] == "ana.travels")
        .expect("ana's row");
    assert_eq!(ana["views"].as_i64(), views.last().copied(), "{data}");
    assert_eq!(data["campaign"]["slowedByQuota"], false);
    assert_eq!(data["campaign"]["youtubeUnitsSpentToday"], 2);

    // A story of the last 8 hours is pulled every 15 minutes and a last time 10 minutes before
    // its 24 hours end, then never again.
    let now = sandbox_now(&s.app).await;
    let story_at = now.duration_trunc(Duration::hours(8)).expect("trunc");
    let story = s
        .pulled(
            &s.ig,
            MediaKind::Story,
            &format!("{ANA_IG}_s{}", story_at.timestamp()),
            story_at,
            "Swipe up #AcmeSummer",
        )
        .await;
    s.scan().await;
    let closes = story_at + Duration::hours(24);
    advance(&s.app, (closes - Duration::minutes(12) - now).num_seconds()).await;
    s.scan().await;
    let row = s.content_of(story).await.expect("story content");
    assert_eq!(row.next_pull_at, Some(closes - Duration::minutes(10)));
    advance(&s.app, 120).await;
    s.scan().await;
    let row = s.content_of(story).await.expect("story content");
    let last = row.last_pulled_at.expect("pulled");
    assert!(
        last >= closes - Duration::minutes(10) && last < closes,
        "{last}"
    );
    assert_eq!(row.next_pull_at, None, "the story's window is over");
    let finals = s.metrics_of(story).await;
    assert_eq!(finals.len(), 3);
    assert!(finals.iter().all(|m| m.reach.is_some()), "story insights");
}

async fn a_spent_youtube_budget_holds_youtube_content_until_the_next_quota_day_and_shows_it(
    backend: Backend,
) {
    let Some(s) = setup(backend, 1).await else {
        return;
    };
    let now = sandbox_now(&s.app).await;
    let [(ig_id, ig_at), _, (yt_id, yt_at)] = sandbox_items(now);
    let video = s
        .pulled(&s.yt, MediaKind::Video, &yt_id, yt_at, "Review #AcmeSummer")
        .await;
    let post = s
        .pulled(&s.ig, MediaKind::Post, &ig_id, ig_at, "Beach #AcmeSummer")
        .await;
    let q = "query($id: ID!) { campaign(id: $id) { slowedByQuota youtubeUnitsSpentToday } }";
    s.scan().await;
    assert_eq!(s.calls("google", "yt_big", "videos").await, 1);
    let data = s.gql(q).await;
    assert_eq!(
        data["campaign"],
        json!({"slowedByQuota": false, "youtubeUnitsSpentToday": 1})
    );

    // An hour later the video is due again, but today's single unit is spent: no call, the
    // item waits for midnight Pacific, and the campaign says it is slowed. Instagram goes on.
    advance(&s.app, 3600).await;
    s.scan().await;
    assert_eq!(
        s.calls("google", "yt_big", "videos").await,
        1,
        "no YouTube call"
    );
    assert_eq!(
        s.metrics_of(post).await.len(),
        2,
        "Instagram is not held back"
    );
    let now = sandbox_now(&s.app).await;
    let midnight = domain::platforms::next_pacific_midnight(now);
    let row = s.content_of(video).await.expect("content");
    assert_eq!(row.next_pull_at, Some(midnight));
    let data = s.gql(q).await;
    assert_eq!(
        data["campaign"],
        json!({"slowedByQuota": true, "youtubeUnitsSpentToday": 1})
    );

    // The next quota day: pulled again, no longer slowed.
    advance(&s.app, (midnight - now).num_seconds() + 60).await;
    s.scan().await;
    assert_eq!(s.calls("google", "yt_big", "videos").await, 2);
    assert_eq!(s.metrics_of(video).await.len(), 2);
    let data = s.gql(q).await;
    assert_eq!(
        data["campaign"],
        json!({"slowedByQuota": false, "youtubeUnitsSpentToday": 1})
    );
}

async fn a_link_breaking_during_the_campaign_tells_the_brand(backend: Backend) {
    let Some(s) = setup(backend, 1_000).await else {
        return;
    };
    let now = sandbox_now(&s.app).await;
    let [(ig_id, ig_at), _, _] = sandbox_items(now);
    s.pulled(&s.ig, MediaKind::Post, &ig_id, ig_at, "Beach #AcmeSummer")
        .await;
    s.scan().await;
    // Ana removes the app on Instagram; the next pull finds the grant dead.
    let revoked = s
        .app
        .client
        .post(s.app.url("/sandbox/control/users/meta_ana/revoke"))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    advance(&s.app, 900).await;
    s.scan().await;
    let (events, broken) = s.broken_events(s.ig.id).await;
    assert_eq!(broken.len(), 1, "{events:?}");
    assert_eq!(broken[0].to_status, Some(domain::LinkStatus::Invalid));
    let detail = broken[0].detail.clone().expect("detail");
    assert_eq!(
        detail["campaignId"].as_str().map(str::to_owned),
        Some(uuid_of(&s.campaign).to_string())
    );
    assert!(events
        .iter()
        .any(|e| e.kind == "STATUS_CHANGED" && e.to_status == Some(domain::LinkStatus::Invalid)));
    // The report flags the content as stale.
    let data = s
        .gql("query($id: ID!) { campaign(id: $id) { report { hasStaleContent } } }")
        .await;
    assert_eq!(data["campaign"]["report"]["hasStaleContent"], true);
}

/// The expiry sweep is a writer of EXPIRED too: a link of an account with content in an ACTIVE
/// campaign that reaches its 90 days tells the brand, once, also when the sweep runs again.
async fn a_link_expiring_during_the_campaign_tells_the_brand_through_the_sweep(backend: Backend) {
    let Some(s) = setup(backend, 1_000).await else {
        return;
    };
    let now = sandbox_now(&s.app).await;
    let [(ig_id, ig_at), _, _] = sandbox_items(now);
    s.pulled(&s.ig, MediaKind::Post, &ig_id, ig_at, "Beach #AcmeSummer")
        .await;
    // Ana authenticated 90 days and a minute ago: her link is past its expiry.
    let l = domain::entities::link::Entity::find()
        .filter(domain::entities::link::Column::AccountId.eq(s.ig.id))
        .one(&s.db)
        .await
        .expect("query")
        .expect("link");
    let mut active: domain::entities::link::ActiveModel = l.into();
    active.authenticated_at = Set(Some(now - Duration::days(90) - Duration::minutes(1)));
    active.expires_at = Set(Some(now - Duration::minutes(1)));
    active.update(&s.db).await.expect("age the link");

    for _ in 0..2 {
        assert_eq!(
            jobs::execute(&jobs::expire::ExpireLinks {}, &s.app.jobs).await,
            jobs::Outcome::Done
        );
    }
    let (events, broken) = s.broken_events(s.ig.id).await;
    assert_eq!(broken.len(), 1, "{events:?}");
    assert_eq!(broken[0].to_status, Some(domain::LinkStatus::Expired));
    assert_eq!(
        broken[0]
            .detail
            .as_ref()
            .and_then(|d| d["campaignId"].as_str().map(str::to_owned)),
        Some(uuid_of(&s.campaign).to_string())
    );
    // Leo's TikTok has no campaign content: his accounts got no such event.
    let others = link_event::Entity::find()
        .filter(link_event::Column::Kind.eq("CAMPAIGN_ACCOUNT_BROKEN"))
        .filter(link_event::Column::AccountId.ne(s.ig.id))
        .all(&s.db)
        .await
        .expect("events");
    assert_eq!(others, vec![]);
}

async fn a_campaign_limited_key_sees_only_its_campaign_its_creators_and_their_campaign_content(
    backend: Backend,
) {
    let Some(s) = setup(backend, 1_000).await else {
        return;
    };
    let now = sandbox_now(&s.app).await;
    let [(ig_id, ig_at), (tt_id, tt_at), _] = sandbox_items(now);
    let tracked = s
        .pulled(&s.ig, MediaKind::Post, &ig_id, ig_at, "Beach #AcmeSummer")
        .await;
    let other_post = s
        .pulled(&s.ig, MediaKind::Post, "17900000000", ig_at, "Private life")
        .await;
    let mia = account_by_platform(&s.db, Platform::Tiktok)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .find(|a| a.handle == "mia.makes")
        .expect("mia");
    let outsider_post = s
        .pulled(&mia, MediaKind::Video, &tt_id, tt_at, "Mine #AcmeSummer")
        .await;
    let gid = |ty: &str, id: Uuid| crate::connect::global_id(ty, id);

    // Created through the API by an admin, limited to the campaign.
    let data = s
        .app
        .graphql_ok(
            "mutation($c: [ID!]) { createApiKey(input: {name: \"Acme\", scopes: [PROFILES_READ, METRICS_READ, EVENTS_SUBSCRIBE, ACCOUNTS_WRITE, WEBHOOKS_MANAGE], campaignIds: $c}) {
                secret apiKey { campaignIds } userErrors { code field } } }",
            json!({ "c": [s.campaign] }),
        )
        .await;
    assert_eq!(
        data["createApiKey"]["apiKey"]["campaignIds"],
        json!([s.campaign])
    );
    let key = Credential::ApiKey(
        data["createApiKey"]["secret"]
            .as_str()
            .expect("secret")
            .into(),
    );
    let bad = s
        .app
        .graphql_ok(
            "mutation($c: [ID!]) { createApiKey(input: {name: \"Acme\", scopes: [METRICS_READ], campaignIds: $c}) {
                secret userErrors { code field } } }",
            json!({ "c": [s.profiles[0]] }),
        )
        .await;
    assert!(bad["createApiKey"]["secret"].is_null());
    assert_eq!(bad["createApiKey"]["userErrors"][0]["field"], "campaignIds");

    let ask = |query: &'static str, vars: Value| {
        let (app, key) = (&s.app, key.clone());
        async move {
            let (status, body) = app.graphql_as(&key, query, vars).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let body = ask(
        "{ campaigns { totalCount } creatorProfiles { totalCount edges { node { name accounts { handle audience { fetchedAt } media { edges { node { id } } } } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["campaigns"]["totalCount"], 1, "{body}");
    assert_eq!(body["data"]["creatorProfiles"]["totalCount"], 3, "{body}");
    let text = body.to_string();
    assert!(
        !text.contains("Mia") && !text.contains("mia.makes"),
        "{body}"
    );
    assert!(text.contains(&gid("Media", tracked)), "{body}");
    assert!(!text.contains(&gid("Media", other_post)), "{body}");
    assert!(!text.contains("fetchedAt\":\""), "no audiences: {body}");

    // Outside by id, by URL, by node: nothing.
    let body = ask(
        "query($p: ID!, $m: ID!, $o: ID!) { creatorProfile(id: $p) { name } post: node(id: $m) { id } theirs: node(id: $o) { id }
           socialAccountByUrl(url: \"https://www.tiktok.com/@mia.makes\") { handle } }",
        json!({ "p": s.outsider, "m": gid("Media", other_post), "o": gid("Media", outsider_post) }),
    )
    .await;
    assert_eq!(
        body["data"],
        json!({"creatorProfile": null, "post": null, "theirs": null, "socialAccountByUrl": null}),
        "{body}"
    );
    let body = ask(
        "query($m: ID!) { node(id: $m) { id } }",
        json!({ "m": gid("Media", tracked) }),
    )
    .await;
    assert_eq!(body["data"]["node"]["id"], gid("Media", tracked), "{body}");

    // No writes, no webhooks, whatever its scopes.
    let body = ask(
        "mutation($p: ID!) { startConnect(input: {profileId: $p, platform: TIKTOK}) { authorizeUrl } }",
        json!({ "p": s.profiles[1] }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let body = ask("{ webhookEndpoints { id } }", json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
}

/// Content the creator publishes in the sandbox (`POST /sandbox/control/users/{user}/media`)
/// reaches the campaign through the real pull jobs: the reel and the story with the campaign's
/// hashtag become campaign content (once, however often the pulls run), the post without it
/// does not. Bad publish requests are refused.
async fn sandbox_posts_with_the_hashtag_become_campaign_content_through_the_pull_jobs(
    backend: Backend,
) {
    let Some(s) = setup(backend, 10_000).await else {
        return;
    };
    let publish = |user: &'static str, body: Value| s.publish(user, body);
    let (status, reel) = publish(
        "meta_ana",
        json!({"kind": "reel", "caption": "Sun's out #AcmeSummer"}),
    )
    .await;
    assert_eq!(status, 201, "{reel}");
    let (_, plain) = publish(
        "meta_ana",
        json!({"kind": "post", "caption": "Just a Tuesday"}),
    )
    .await;
    let (_, story) = publish(
        "meta_ana",
        json!({"kind": "story", "caption": "Swipe up #AcmeSummer"}),
    )
    .await;
    for (user, body, want) in [
        ("meta_ana", json!({"kind": "tweet", "caption": "x"}), 400),
        ("tiktok_leo", json!({"kind": "post", "caption": "x"}), 400),
        ("nobody", json!({"kind": "post", "caption": "x"}), 404),
        (
            "meta_ana",
            json!({"kind": "post", "caption": "x".repeat(2_201)}),
            400,
        ),
    ] {
        assert_eq!(publish(user, body.clone()).await.0, want, "{user} {body}");
    }

    let content = || async {
        let data = s
            .app
            .graphql_ok(
                "query($id: ID!) { campaign(id: $id) { content { kind caption permalink } } }",
                json!({ "id": s.campaign }),
            )
            .await;
        data["campaign"]["content"]
            .as_array()
            .expect("content")
            .clone()
    };
    for _ in 0..2 {
        for outcome in [
            jobs::execute(
                &jobs::sync::PullMedia {
                    account_id: s.ig.id,
                },
                &s.app.jobs,
            )
            .await,
            jobs::execute(
                &jobs::sync::PullStories {
                    account_id: s.ig.id,
                },
                &s.app.jobs,
            )
            .await,
        ] {
            assert_eq!(outcome, jobs::Outcome::Done);
        }
        let mut got: Vec<(String, String, String)> = content()
            .await
            .iter()
            .map(|c| {
                (
                    c["kind"].as_str().unwrap_or_default().to_owned(),
                    c["caption"].as_str().unwrap_or_default().to_owned(),
                    c["permalink"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (
                    "REEL".to_owned(),
                    "Sun's out #AcmeSummer".to_owned(),
                    reel["permalink"].as_str().expect("permalink").to_owned()
                ),
                (
                    "STORY".to_owned(),
                    "Swipe up #AcmeSummer".to_owned(),
                    story["permalink"].as_str().expect("permalink").to_owned()
                ),
            ],
            "the tagged reel and story, once each; not {plain}"
        );
    }
}

/// The whole product for a brand, through the sandbox and the real pull jobs: three creators on
/// Instagram, TikTok and YouTube publish content with and without the campaign hashtag (and a
/// creator outside the campaign publishes with it); the pulls match exactly the tagged content
/// of participating creators, once; a YouTube video without the tag is added by its link; an
/// hour of campaign pulls moves the numbers; the report's totals equal the sum of its content
/// rows, of its creators and of its platforms; the CSV export, read by a CSV parser, has the
/// same totals.
async fn three_creators_on_three_platforms_publish_and_the_campaign_report_adds_up(
    backend: Backend,
) {
    let Some(s) = setup(backend, 10_000).await else {
        return;
    };
    let mia = account_by_platform(&s.db, Platform::Tiktok)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .find(|a| a.handle == "mia.makes")
        .expect("mia");
    let mut tagged = Vec::new();
    for (user, body, is_tagged) in [
        (
            "meta_ana",
            json!({"kind": "reel", "caption": "Sun's out #AcmeSummer"}),
            true,
        ),
        (
            "meta_ana",
            json!({"kind": "story", "caption": "Swipe up #acmesummer"}),
            true,
        ),
        (
            "meta_ana",
            json!({"kind": "post", "caption": "Just a Tuesday"}),
            false,
        ),
        (
            "tiktok_leo",
            json!({"kind": "video", "caption": "Dance break #AcmeSummer"}),
            true,
        ),
        (
            "tiktok_leo",
            json!({"kind": "video", "caption": "Rehearsal"}),
            false,
        ),
        (
            "yt_big",
            json!({"kind": "video", "title": "Unboxing the summer kit",
                "caption": "Thanks Acme for sending this. #AcmeSummer"}),
            true,
        ),
        (
            "yt_big",
            json!({"kind": "video", "title": "Q&A", "caption": "Your questions"}),
            false,
        ),
        (
            "tiktok_mia",
            json!({"kind": "video", "caption": "Me too #AcmeSummer"}),
            false,
        ),
    ] {
        let (status, published) = s.publish(user, body.clone()).await;
        assert_eq!(status, 201, "{user} {body}: {published}");
        if is_tagged {
            tagged.push(
                published["permalink"]
                    .as_str()
                    .expect("permalink")
                    .to_owned(),
            );
        }
    }
    let (_, untagged_yt) = s
        .publish(
            "yt_big",
            json!({"kind": "video", "title": "Vlog", "caption": "A day out"}),
        )
        .await;
    for (user, body) in [
        ("tiktok_leo", json!({"kind": "story", "caption": "x"})),
        (
            "yt_big",
            json!({"kind": "video", "caption": "x", "title": ""}),
        ),
        (
            "yt_big",
            json!({"kind": "video", "caption": "x", "instagram_id": "1"}),
        ),
        (
            "tiktok_leo",
            json!({"kind": "video", "caption": "x", "title": "t"}),
        ),
        ("meta_ana", json!({"kind": "video", "caption": "x"})),
    ] {
        assert_eq!(s.publish(user, body.clone()).await.0, 400, "{user} {body}");
    }

    // The scheduled pulls, run now, twice: matching is recorded once.
    for _ in 0..2 {
        for account in [s.ig.id, s.tt.id, s.yt.id, mia.id] {
            s.run(jobs::sync::PullMedia {
                account_id: account,
            })
            .await;
        }
        s.run(jobs::sync::PullStories {
            account_id: s.ig.id,
        })
        .await;
    }
    let content = || async {
        let data = s
            .gql("query($id: ID!) { campaign(id: $id) { content { id permalink matchedBy } } }")
            .await;
        data["campaign"]["content"]
            .as_array()
            .expect("content")
            .clone()
    };
    let mut matched: Vec<String> = content()
        .await
        .iter()
        .inspect(|c| assert_eq!(c["matchedBy"], "HASHTAG", "{c}"))
        .map(|c| c["permalink"].as_str().expect("permalink").to_owned())
        .collect();
    matched.sort();
    tagged.sort();
    assert_eq!(
        matched, tagged,
        "the tagged content of participating creators, once each"
    );

    // The untagged YouTube video, added by its link (an eleven-character id).
    let data = s
        .app
        .graphql_ok(
            "mutation($input: AddCampaignPostInput!) { addCampaignPost(input: $input) {
                content { matchedBy } userErrors { code message } } }",
            json!({ "input": { "campaignId": s.campaign,
                "url": format!("https://youtu.be/{}", untagged_yt["id"].as_str().expect("id")) } }),
        )
        .await;
    assert_eq!(data["addCampaignPost"]["userErrors"], json!([]), "{data}");
    assert_eq!(
        data["addCampaignPost"]["content"]["matchedBy"], "URL",
        "{data}"
    );
    assert_eq!(content().await.len(), 5);

    // An hour of campaign pulls, every 15 minutes: all five items are younger than 48 hours.
    let report_query = "query($id: ID!) { campaign(id: $id) { report {
        totals { ...t } creators { name totals { ...t } } platforms { platform totals { ...t } }
        content { platform kind views reach engagements likes comments shares saves videoViews } } } }
        fragment t on CampaignTotals { contentCount views reach engagements likes comments shares
            saves videoViews storyCount storyReach }";
    let calls_before = (
        s.calls("tiktok", "tiktok_leo", "video_query").await,
        s.calls("google", "yt_big", "videos").await,
    );
    let mut rows_before = std::collections::HashMap::new();
    for row in campaign_content::Entity::find()
        .all(&s.db)
        .await
        .expect("content")
    {
        rows_before.insert(row.media_id, s.metrics_of(row.media_id).await.len());
    }
    let mut first_views = None;
    for step in 0..=4 {
        if step > 0 {
            advance(&s.app, 900).await;
        }
        s.scan().await;
        if step == 0 {
            first_views =
                s.gql(report_query).await["campaign"]["report"]["totals"]["views"].as_i64();
        }
    }
    let calls_after = (
        s.calls("tiktok", "tiktok_leo", "video_query").await,
        s.calls("google", "yt_big", "videos").await,
    );
    assert_eq!(
        calls_after.0 - calls_before.0,
        5,
        "one TikTok video, every 15 minutes"
    );
    assert_eq!(
        calls_after.1 - calls_before.1,
        5,
        "two YouTube videos, read in one call every 15 minutes"
    );
    for row in campaign_content::Entity::find()
        .all(&s.db)
        .await
        .expect("content")
    {
        let pulled = s.metrics_of(row.media_id).await.len() - rows_before[&row.media_id];
        assert_eq!(pulled, 5, "every 15 minutes: {row:?}");
    }

    let report = s.gql(report_query).await["campaign"]["report"].clone();
    let totals = &report["totals"];
    assert_eq!(totals["contentCount"], 5, "{report}");
    assert_eq!(totals["storyCount"], 1, "{report}");
    assert!(
        totals["views"].as_i64() > first_views && first_views > Some(0),
        "the numbers moved over the hour: {first_views:?} → {totals}"
    );
    let fields = [
        "views",
        "reach",
        "engagements",
        "likes",
        "comments",
        "shares",
        "saves",
        "videoViews",
    ];
    let sum = |rows: &[Value], field: &str, totals: bool| -> i64 {
        rows.iter()
            .map(|r| {
                let v = if totals {
                    &r["totals"][field]
                } else {
                    &r[field]
                };
                v.as_i64().unwrap_or(0)
            })
            .sum()
    };
    let rows = |name: &str| report[name].as_array().expect("rows").clone();
    for field in fields {
        let total = totals[field].as_i64().expect("a number");
        assert_eq!(
            sum(&rows("content"), field, false),
            total,
            "content {field}"
        );
        assert_eq!(
            sum(&rows("creators"), field, true),
            total,
            "creators {field}"
        );
        assert_eq!(
            sum(&rows("platforms"), field, true),
            total,
            "platforms {field}"
        );
    }
    let mut creators: Vec<&str> = report["creators"]
        .as_array()
        .expect("creators")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    creators.sort_unstable();
    assert_eq!(creators, ["Ana", "Big", "Leo"]);
    let mut platforms: Vec<&str> = report["platforms"]
        .as_array()
        .expect("platforms")
        .iter()
        .filter_map(|p| p["platform"].as_str())
        .collect();
    platforms.sort_unstable();
    assert_eq!(platforms, ["INSTAGRAM", "TIKTOK", "YOUTUBE"]);
    for row in rows("content") {
        assert!(
            row["views"].as_i64() > Some(0),
            "every item has numbers: {row}"
        );
    }

    // The CSV export, read by a CSV parser, has the same totals.
    let data = s
        .gql("query($id: ID!) { exportCampaignReport(campaignId: $id, format: CSV) { data } }")
        .await;
    let text = data["exportCampaignReport"]["data"].as_str().expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    let total = records
        .iter()
        .find(|r| &r[0] == "TOTAL")
        .expect("a TOTAL row");
    let content_rows: Vec<&csv::StringRecord> =
        records.iter().filter(|r| &r[0] == "CONTENT").collect();
    assert_eq!(content_rows.len(), 5);
    for (field, column) in [
        ("views", "views"),
        ("reach", "reach"),
        ("engagements", "engagements"),
        ("videoViews", "video_views"),
    ] {
        let parts: i64 = content_rows
            .iter()
            .map(|r| r[col(column)].parse::<i64>().unwrap_or(0))
            .sum();
        assert_eq!(Some(parts), totals[field].as_i64(), "CSV {column}");
        assert_eq!(
            total[col(column)].parse::<i64>().ok(),
            totals[field].as_i64(),
            "CSV TOTAL {column}"
        );
    }
}

/// The other writers of INVALID tell the brand too: Meta's signed deauthorize callback for Ana,
/// and a scheduled refresh that finds Leo's TikTok grant revoked. Once each, also when the
/// refresh runs again.
async fn a_deauthorize_callback_and_a_failing_refresh_tell_the_brand(backend: Backend) {
    let Some(s) = setup(backend, 1_000).await else {
        return;
    };
    let now = sandbox_now(&s.app).await;
    let [(ig_id, ig_at), (tt_id, tt_at), _] = sandbox_items(now);
    s.pulled(&s.ig, MediaKind::Post, &ig_id, ig_at, "Beach #AcmeSummer")
        .await;
    s.pulled(&s.tt, MediaKind::Video, &tt_id, tt_at, "Dance #AcmeSummer")
        .await;
    let link_of = |account: Uuid| {
        let db = s.db.clone();
        async move {
            link::Entity::find()
                .filter(link::Column::AccountId.eq(account))
                .one(&db)
                .await
                .expect("query")
                .expect("link")
        }
    };

    // Ana removes the app in her Facebook settings: Meta calls the deauthorize callback, signed
    // with the (sandbox) app's secret.
    let user = link_of(s.ig.id)
        .await
        .provider_user_id
        .expect("the Meta user who granted the link");
    let signed = sign_request(
        &json!({"algorithm": "HMAC-SHA256", "issued_at": Utc::now().timestamp(), "user_id": user}),
        &Secret::new(api::sandbox::SandboxApp::credentials(Provider::Meta).1),
    );
    let response = s
        .app
        .client
        .post(s.app.url("/callbacks/meta/deauthorize"))
        .form(&[("signed_request", signed.as_str())])
        .send()
        .await
        .expect("callback");
    assert_eq!(response.status(), 200);
    let (events, broken) = s.broken_events(s.ig.id).await;
    assert_eq!(broken.len(), 1, "{events:?}");
    assert_eq!(broken[0].to_status, Some(LinkStatus::Invalid));
    assert_eq!(
        broken[0].detail.as_ref().map(|d| d["campaignId"].clone()),
        Some(json!(uuid_of(&s.campaign).to_string()))
    );

    // Leo removes the app on TikTok; twenty minutes before his access token ends, the refresh
    // finds the grant dead.
    let revoked = s
        .app
        .client
        .post(s.app.url("/sandbox/control/users/tiktok_leo/revoke"))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    let tt_link = link_of(s.tt.id).await;
    let expires = tt_link
        .access_token_expires_at
        .expect("TikTok tokens expire");
    advance(
        &s.app,
        (expires - Duration::minutes(20) - sandbox_now(&s.app).await).num_seconds(),
    )
    .await;
    for _ in 0..2 {
        s.run(jobs::refresh::RefreshLink {
            link_id: tt_link.id,
        })
        .await;
    }
    let after = link_of(s.tt.id).await;
    assert_eq!(after.status, LinkStatus::Invalid);
    let (events, broken) = s.broken_events(s.tt.id).await;
    assert_eq!(broken.len(), 1, "{events:?}");
    assert_eq!(broken[0].to_status, Some(LinkStatus::Invalid));
    assert_eq!(
        broken[0].reason,
        after.invalid_reason.map(|r| r.as_str().to_owned())
    );
    // Big's YouTube link is untouched and got no such event.
    assert!(s.broken_events(s.yt.id).await.1.is_empty());
}

const CAMPAIGN_EVENTS: &str = "subscription($after: ID) {
  linkStatusChanged(after: $after) { id kind accountId detail }
}";

/// Campaign events travel like link events. An admin's subscription hears Ana's post matched,
/// taken out and her account breaking; a webhook endpoint subscribed to the three campaign types
/// receives them signed with their wire names and nothing else; a key limited to another
/// campaign hears only that campaign's events of its creators.
async fn campaign_events_reach_subscribers_and_webhooks_and_a_limited_key_hears_only_its_campaign(
    backend: Backend,
) {
    let Some(s) = setup(backend, 1_000).await else {
        return;
    };
    // A second campaign, with Leo only, and a key limited to it.
    let now = sandbox_now(&s.app).await;
    let data = s
        .app
        .graphql_ok(
            "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { campaign { id } } }",
            json!({ "input": {
                "name": "Other", "brand": "Acme",
                "startsAt": (now - Duration::days(10)).to_rfc3339(),
                "endsAt": (now + Duration::days(14)).to_rfc3339(),
                "hashtags": ["#AcmeSummer"], "mentions": [], "profileIds": [s.profiles[1]],
            }}),
        )
        .await;
    let other = data["createCampaign"]["campaign"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.app
        .graphql_ok(
            "mutation($id: ID!) { setCampaignStatus(input: {campaignId: $id, status: ACTIVE}) { campaign { status } } }",
            json!({ "id": other }),
        )
        .await;
    let data = s
        .app
        .graphql_ok(
            "mutation($c: [ID!]) { createApiKey(input: {name: \"Other brand\", scopes: [METRICS_READ, EVENTS_SUBSCRIBE], campaignIds: $c}) { secret } }",
            json!({ "c": [other] }),
        )
        .await;
    let key = data["createApiKey"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();

    let receiver = WebhookReceiver::start(vec![]).await;
    let data = s
        .app
        .graphql_ok(
            "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
                signingSecret userErrors { code message } } }",
            json!({ "input": { "url": receiver.url, "eventTypes":
                ["CAMPAIGN_CONTENT_MATCHED", "CAMPAIGN_CONTENT_REMOVED", "CAMPAIGN_ACCOUNT_BROKEN"] } }),
        )
        .await;
    assert_eq!(
        data["createWebhookEndpoint"]["userErrors"],
        json!([]),
        "{data}"
    );
    let start = domain::events::max_id(&s.db)
        .await
        .expect("max id")
        .to_string();
    let mut admin = WsClient::connect(&s.app, json!({})).await;
    admin
        .subscribe("1", CAMPAIGN_EVENTS, json!({ "after": start }))
        .await;
    let mut limited = WsClient::connect(&s.app, json!({ "X-Api-Key": key })).await;
    limited
        .subscribe("1", CAMPAIGN_EVENTS, json!({ "after": start }))
        .await;

    // Ana's post is matched, taken out, and then her account breaks (it is still campaign
    // content: re-added by link).
    let [(ig_id, ig_at), (tt_id, tt_at), _] = sandbox_items(now);
    s.pulled(&s.ig, MediaKind::Post, &ig_id, ig_at, "Beach #AcmeSummer")
        .await;
    let content_ids = |campaign: String| {
        let app = &s.app;
        async move {
            app.graphql_ok(
                "query($id: ID!) { campaign(id: $id) { content { id } } }",
                json!({ "id": campaign }),
            )
            .await["campaign"]["content"]
                .as_array()
                .expect("content")
                .iter()
                .map(|c| c["id"].as_str().expect("id").to_owned())
                .collect::<Vec<_>>()
        }
    };
    let remove = |campaign: String, content: String| {
        let app = &s.app;
        async move {
            let data = app
                .graphql_ok(
                    "mutation($input: RemoveCampaignContentInput!) { removeCampaignContent(input: $input) { userErrors { code } } }",
                    json!({ "input": { "campaignId": campaign, "contentId": content } }),
                )
                .await;
            assert_eq!(
                data["removeCampaignContent"]["userErrors"],
                json!([]),
                "{data}"
            );
        }
    };
    let ana_content = content_ids(s.campaign.clone()).await;
    assert_eq!(ana_content.len(), 1);
    remove(s.campaign.clone(), ana_content[0].clone()).await;
    let data = s
        .app
        .graphql_ok(
            "mutation($input: AddCampaignPostInput!) { addCampaignPost(input: $input) { userErrors { code } } }",
            json!({ "input": { "campaignId": s.campaign,
                "url": format!("https://www.instagram.com/p/{ig_id}/") } }),
        )
        .await;
    assert_eq!(data["addCampaignPost"]["userErrors"], json!([]), "{data}");
    let revoked = s
        .app
        .client
        .post(s.app.url("/sandbox/control/users/meta_ana/revoke"))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    s.scan().await;
    // Leo's video is matched by both campaigns; then taken out of the other one.
    s.pulled(&s.tt, MediaKind::Video, &tt_id, tt_at, "Dance #AcmeSummer")
        .await;
    let leo_other = content_ids(other.clone()).await;
    remove(other.clone(), leo_other[0].clone()).await;

    let campaign_of = |e: &Value| {
        e["detail"]["campaignId"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let summer = uuid_of(&s.campaign).to_string();
    let other_uuid = uuid_of(&other).to_string();
    let ana = crate::connect::global_id("SocialAccount", s.ig.id);
    let leo = crate::connect::global_id("SocialAccount", s.tt.id);

    // The admin hears everything of both campaigns, in order.
    let mut heard = Vec::new();
    while heard.len() < 7 {
        let e = admin.next_event("1").await;
        if e["kind"]
            .as_str()
            .is_some_and(|k| k.starts_with("CAMPAIGN_"))
        {
            heard.push((
                e["kind"].as_str().unwrap_or_default().to_owned(),
                e["accountId"].as_str().unwrap_or_default().to_owned(),
                campaign_of(&e),
            ));
        }
    }
    let want = |k: &str, a: &str, c: &str| (k.to_owned(), a.to_owned(), c.to_owned());
    assert_eq!(
        heard[..4],
        [
            want("CAMPAIGN_CONTENT_MATCHED", &ana, &summer),
            want("CAMPAIGN_CONTENT_REMOVED", &ana, &summer),
            want("CAMPAIGN_CONTENT_MATCHED", &ana, &summer),
            want("CAMPAIGN_ACCOUNT_BROKEN", &ana, &summer),
        ]
    );
    let mut leo_matched = heard[4..6].to_vec();
    leo_matched.sort();
    let mut both = vec![
        want("CAMPAIGN_CONTENT_MATCHED", &leo, &summer),
        want("CAMPAIGN_CONTENT_MATCHED", &leo, &other_uuid),
    ];
    both.sort();
    assert_eq!(leo_matched, both);
    assert_eq!(
        heard[6],
        want("CAMPAIGN_CONTENT_REMOVED", &leo, &other_uuid)
    );

    // The limited key hears only its campaign's events of its creators: the first two it gets
    // are Leo's match and removal in the other campaign.
    for kind in ["CAMPAIGN_CONTENT_MATCHED", "CAMPAIGN_CONTENT_REMOVED"] {
        let e = limited.next_event("1").await;
        assert_eq!(
            (e["kind"].as_str(), &e["accountId"], campaign_of(&e)),
            (Some(kind), &json!(leo), other_uuid.clone()),
            "{e}"
        );
    }

    // The webhook receives the seven campaign events with their wire names, and nothing else.
    let got = receiver.wait_for(7).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let got = if receiver.requests().len() > got.len() {
        receiver.requests()
    } else {
        got
    };
    let mut types: Vec<String> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).expect("json")["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "campaign.account_broken",
            "campaign.content_matched",
            "campaign.content_matched",
            "campaign.content_matched",
            "campaign.content_matched",
            "campaign.content_removed",
            "campaign.content_removed",
        ]
    );
    admin.close().await;
    limited.close().await;
}

on_both_backends!(
    campaign_content_is_pulled_on_its_cadence_and_stories_get_a_final_pull,
    a_spent_youtube_budget_holds_youtube_content_until_the_next_quota_day_and_shows_it,
    a_link_breaking_during_the_campaign_tells_the_brand,
    a_link_expiring_during_the_campaign_tells_the_brand_through_the_sweep,
    a_campaign_limited_key_sees_only_its_campaign_its_creators_and_their_campaign_content,
    sandbox_posts_with_the_hashtag_become_campaign_content_through_the_pull_jobs,
    three_creators_on_three_platforms_publish_and_the_campaign_report_adds_up,
    a_deauthorize_callback_and_a_failing_refresh_tell_the_brand,
    campaign_events_reach_subscribers_and_webhooks_and_a_limited_key_hears_only_its_campaign,
);
