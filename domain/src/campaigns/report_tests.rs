//! The report's arithmetic on hand-made rows, and the CSV export read back by a CSV parser.

use chrono::TimeZone;

use super::*;
use crate::campaigns::export::{export, Format, CSV_HEADER};
use crate::kinds::{CampaignStatus, MatchedBy, ProfileKind};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, day, hour, 0, 0)
        .single()
        .expect("date")
}

struct World {
    inputs: Inputs,
    org: Uuid,
}

impl World {
    fn new() -> World {
        let org = Uuid::now_v7();
        let campaign = campaign::Model {
            id: Uuid::now_v7(),
            organization_id: org,
            name: "Summer".into(),
            brand: "Acme".into(),
            starts_at: at(1, 0),
            ends_at: at(20, 0),
            status: CampaignStatus::Active,
            hashtags: "summer".into(),
            mentions: String::new(),
            created_at: at(1, 0),
            updated_at: at(1, 0),
        };
        World {
            org,
            inputs: Inputs {
                campaign,
                content: Vec::new(),
                accounts: HashMap::new(),
                links: HashMap::new(),
                profiles: HashMap::new(),
                metrics: Vec::new(),
            },
        }
    }

    fn creator(&mut self, name: &str) -> Uuid {
        let id = Uuid::now_v7();
        self.inputs.profiles.insert(
            id,
            creator_profile::Model {
                id,
                organization_id: self.org,
                kind: ProfileKind::Individual,
                name: name.into(),
                email: None,
                notes: None,
                created_at: at(1, 0),
                updated_at: at(1, 0),
            },
        );
        id
    }

    fn account(&mut self, profile: Uuid, platform: Platform, followers: i64, linked: bool) -> Uuid {
        let id = Uuid::now_v7();
        self.inputs.accounts.insert(
            id,
            social_account::Model {
                id,
                organization_id: self.org,
                profile_id: Some(profile),
                platform,
                handle: format!("h{}", self.inputs.accounts.len()),
                handle_lower: format!("h{}", self.inputs.accounts.len()),
                url: "https://example.invalid".into(),
                platform_user_id: None,
                display_name: None,
                avatar_url: None,
                followers: Some(followers),
                followers_hidden: false,
                paired_account_id: None,
                created_at: at(1, 0),
                updated_at: at(1, 0),
            },
        );
        self.inputs.links.insert(
            id,
            link::Model {
                id: Uuid::now_v7(),
                organization_id: self.org,
                account_id: id,
                provider_user_id: None,
                status: if linked {
                    LinkStatus::Linked
                } else {
                    LinkStatus::Invalid
                },
                invalid_reason: (!linked).then_some(crate::kinds::InvalidReason::PasswordChanged),
                authenticated_at: Some(at(1, 0)),
                expires_at: Some(at(1, 0) + Duration::days(90)),
                expiry_cause: None,
                access_token: None,
                refresh_token: None,
                access_token_expires_at: None,
                refresh_token_expires_at: None,
                data_access_expires_at: None,
                requested_scopes: String::new(),
                granted_scopes: String::new(),
                last_refreshed_at: None,
                last_synced_at: None,
                last_error: None,
                last_error_at: None,
                refresh_failures: 0,
                next_refresh_at: None,
                warned_at: None,
                version: 1,
                lease_owner: None,
                lease_until: None,
                created_at: at(1, 0),
                updated_at: at(1, 0),
            },
        );
        id
    }

    fn content(&mut self, account: Uuid, kind: MediaKind) -> Uuid {
        let a = &self.inputs.accounts[&account];
        let m = media::Model {
            id: Uuid::now_v7(),
            organization_id: self.org,
            account_id: account,
            platform_media_id: Uuid::now_v7().to_string(),
            kind,
            caption: Some("#summer".into()),
            permalink: None,
            media_url: None,
            thumbnail_url: None,
            taken_at: at(2, 10),
            expires_at: None,
            first_seen_at: at(2, 10),
            updated_at: at(2, 10),
        };
        let c = campaign_content::Model {
            id: Uuid::now_v7(),
            organization_id: self.org,
            campaign_id: self.inputs.campaign.id,
            media_id: m.id,
            account_id: account,
            profile_id: a.profile_id,
            matched_by: MatchedBy::Hashtag,
            matched_rule: Some("#summer".into()),
            matched_at: at(2, 10),
            removed_at: None,
            removed_by: None,
            last_pulled_at: None,
            next_pull_at: None,
        };
        let id = m.id;
        self.inputs.content.push((c, m));
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn metric(
        &mut self,
        media: Uuid,
        captured: DateTime<Utc>,
        views: i64,
        reach: i64,
        likes: Option<i64>,
        comments: Option<i64>,
        shares: Option<i64>,
        saves: Option<i64>,
    ) {
        self.inputs.metrics.push(media_metric::Model {
            id: Uuid::now_v7(),
            organization_id: self.org,
            media_id: media,
            captured_at: captured,
            views: Some(views),
            reach: Some(reach),
            likes,
            comments,
            shares,
            saves,
            engagements: None,
            video_views: None,
            replies: None,
            extra: None,
        });
    }
}

/// Three creators on three platforms: an Instagram post and story, a TikTok video (no saves), a
/// YouTube video (likes and comments only) whose account broke.
fn three_creators() -> (World, [Uuid; 4]) {
    let mut w = World::new();
    let ana = w.creator("Ana");
    let ben = w.creator("Ben");
    let cy = w.creator("Cy");
    let ig = w.account(ana, Platform::Instagram, 1000, true);
    let tt = w.account(ben, Platform::Tiktok, 2000, true);
    let yt = w.account(cy, Platform::Youtube, 500, false);
    let post = w.content(ig, MediaKind::Post);
    let story = w.content(ig, MediaKind::Story);
    let video = w.content(tt, MediaKind::Video);
    let yt_video = w.content(yt, MediaKind::Video);
    w.metric(
        post,
        at(2, 12),
        100,
        80,
        Some(10),
        Some(2),
        Some(1),
        Some(3),
    );
    w.metric(
        post,
        at(3, 12),
        300,
        200,
        Some(20),
        Some(4),
        Some(2),
        Some(4),
    );
    w.metric(story, at(2, 20), 50, 40, None, None, Some(1), None);
    w.metric(video, at(3, 9), 1000, 0, Some(100), Some(10), Some(5), None);
    w.metric(yt_video, at(2, 11), 400, 0, Some(40), Some(4), None, None);
    (w, [post, story, video, yt_video])
}

#[test]
fn totals_are_the_sum_of_the_latest_numbers_of_each_item() {
    let (w, _) = three_creators();
    let r = build(w.inputs, at(4, 0), Duration::days(14));
    assert_eq!(r.totals.content_count, 4);
    assert_eq!(r.totals.views, 300 + 50 + 1000 + 400);
    assert_eq!(r.totals.reach, 200 + 40);
    // likes + comments + shares + saves, each where the platform has it.
    assert_eq!(r.totals.engagements, 30 + 1 + 115 + 44);
    assert_eq!(r.totals.story_count, 1);
    assert_eq!(r.totals.story_reach, 40);
    assert_eq!(r.totals.followers, 1000 + 2000 + 500, "each account once");
    assert_eq!(
        r.totals.video_views,
        1000 + 400,
        "views of videos count as video views"
    );
    let by_reach = r.totals.engagement_rate_by_reach.expect("reach is known");
    assert!((by_reach - 190.0 / 240.0).abs() < 1e-9);
    let parts: i64 = r.creators.iter().map(|c| c.totals.views).sum();
    assert_eq!(parts, r.totals.views);
    let parts: i64 = r.platforms.iter().map(|c| c.totals.engagements).sum();
    assert_eq!(parts, r.totals.engagements);
    assert_eq!(r.creators.len(), 3);
    assert_eq!(r.platforms.len(), 3);
}

#[test]
fn content_of_a_broken_account_is_flagged_with_the_date_of_its_last_numbers() {
    let (w, [_, _, _, yt_video]) = three_creators();
    let r = build(w.inputs, at(4, 0), Duration::days(14));
    let row = r
        .content
        .iter()
        .find(|c| c.media_id == yt_video)
        .expect("row");
    assert!(row.stale);
    assert_eq!(row.account_status, LinkStatus::Invalid);
    assert_eq!(row.metrics_as_of, Some(at(2, 11)));
    assert_eq!(
        row.counters.views,
        Some(400),
        "the last numbers seen are kept"
    );
    let cy = r
        .creators
        .iter()
        .find(|c| c.profile_name.as_deref() == Some("Cy"))
        .expect("Cy");
    assert_eq!(cy.stale_accounts.len(), 1);
    assert!(r
        .content
        .iter()
        .filter(|c| c.media_id != yt_video)
        .all(|c| !c.stale));
}

#[test]
fn the_time_series_carries_each_item_forward_to_the_end_of_each_day() {
    let (w, _) = three_creators();
    let r = build(w.inputs, at(4, 0), Duration::days(14));
    let days: Vec<(String, i64)> = r
        .days
        .iter()
        .map(|d| (d.day.to_string(), d.totals.views))
        .collect();
    assert_eq!(
        days,
        vec![
            ("2026-06-02".to_owned(), 100 + 50 + 400),
            ("2026-06-03".to_owned(), 300 + 50 + 1000 + 400),
        ]
    );
    assert_eq!(r.days.last().expect("a day").totals.views, r.totals.views);
}

#[test]
fn the_csv_export_reads_back_with_the_same_totals() {
    let (w, _) = three_creators();
    let r = build(w.inputs, at(4, 0), Duration::days(14));
    let text = export(&r, Format::Csv).expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, CSV_HEADER);
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let sum_of = |kind: &str, column: &str| -> i64 {
        rows.iter()
            .filter(|r| &r[0] == kind)
            .map(|r| r[col(column)].parse::<i64>().unwrap_or(0))
            .sum()
    };
    for column in [
        "views",
        "reach",
        "engagements",
        "story_count",
        "story_reach",
    ] {
        assert_eq!(
            sum_of("CONTENT", column),
            sum_of("TOTAL", column),
            "{column}"
        );
        assert_eq!(
            sum_of("CREATOR", column),
            sum_of("TOTAL", column),
            "{column}"
        );
    }
    assert_eq!(sum_of("TOTAL", "views"), r.totals.views);
    let json: serde_json::Value =
        serde_json::from_str(&export(&r, Format::Json).expect("json")).expect("valid json");
    assert_eq!(json["totals"]["views"], r.totals.views);
}

#[test]
fn the_csv_export_keeps_formulas_in_names_handles_and_links_as_text() {
    let mut w = World::new();
    let formula = r#"=HYPERLINK("https://evil.invalid","open")"#;
    let creator = w.creator(formula);
    let account = w.account(creator, Platform::Tiktok, 10, true);
    w.inputs.accounts.get_mut(&account).expect("account").handle = "@SUM(A1:A9)".into();
    let video = w.content(account, MediaKind::Video);
    w.inputs.content[0].1.permalink = Some("-2+3".into());
    w.metric(video, at(2, 12), 100, 80, Some(1), Some(1), None, None);
    let r = build(w.inputs, at(4, 0), Duration::days(14));
    let text = export(&r, Format::Csv).expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let content = rows
        .iter()
        .find(|r| &r[0] == "CONTENT")
        .expect("content row");
    assert_eq!(&content[col("creator")], format!("'{formula}"));
    assert_eq!(&content[col("handle")], "'@SUM(A1:A9)");
    assert_eq!(&content[col("permalink")], "'-2+3");
    let totals = rows
        .iter()
        .find(|r| &r[0] == "CREATOR")
        .expect("creator row");
    assert_eq!(&totals[col("creator")], format!("'{formula}"));
    // No cell of any row starts with a character a spreadsheet would evaluate, and the numbers
    // we write ourselves are untouched.
    for row in &rows {
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r']),
                "live formula in {cell:?}"
            );
        }
    }
    assert_eq!(&content[col("views")], "100");
}
