use super::*;
use crate::kinds::MediaKind;
use crate::platforms::fixtures::google as fx;
use crate::platforms::test_server::TestServer;
use chrono::TimeZone;
use std::collections::HashMap;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn client(base: Url) -> YoutubeClient {
    let redirect = Url::parse("https://app.example/oauth/google/callback").unwrap();
    let config = PlatformConfig::single_base(
        base,
        "123.apps.googleusercontent.com",
        Secret::new("google-secret"),
        redirect,
    )
    .unwrap();
    YoutubeClient::new(
        crate::platforms::http_client(std::time::Duration::from_secs(5)).unwrap(),
        config,
    )
    .unwrap()
}

fn production() -> YoutubeClient {
    let redirect = Url::parse("https://app.example/oauth/google/callback").unwrap();
    let config = PlatformConfig::production(
        Provider::Google,
        "123.apps.googleusercontent.com",
        Secret::new("google-secret"),
        redirect,
    )
    .unwrap();
    YoutubeClient::new(
        crate::platforms::http_client(std::time::Duration::from_secs(5)).unwrap(),
        config,
    )
    .unwrap()
}

#[test]
fn the_authorize_url_asks_for_offline_access_consent_and_pkce() {
    let pkce = crate::platforms::new_pkce();
    let url = production().authorize_url("st4te", Some(&pkce.challenge));
    assert!(
        url.as_str()
            .starts_with("https://accounts.google.com/o/oauth2/v2/auth?"),
        "{url}"
    );
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "st4te");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "123.apps.googleusercontent.com");
    assert_eq!(
        q["redirect_uri"],
        "https://app.example/oauth/google/callback"
    );
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["include_granted_scopes"], "true");
    assert_eq!(q["code_challenge"], pkce.challenge);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["scope"],
        "https://www.googleapis.com/auth/youtube.readonly https://www.googleapis.com/auth/yt-analytics.readonly"
    );
    assert!(production().supports_pkce());
}

#[test]
fn a_token_response_gives_expiry_relative_to_now_and_space_separated_scopes() {
    let t = parse_token(fx::TOKEN, now()).unwrap();
    assert_eq!(t.access_token.expose(), "ya29.a0AfB_byExampleAccessToken");
    assert_eq!(t.access_expires_at, Some(now() + Duration::seconds(3_599)));
    assert_eq!(
        t.refresh_token.unwrap().expose(),
        "1//0gExampleRefreshToken"
    );
    assert_eq!(t.granted_scopes, REQUESTED);
}

#[test]
fn a_refresh_without_a_refresh_token_returns_none_so_the_caller_keeps_its_own() {
    let t = parse_token(fx::REFRESHED_TOKEN, now()).unwrap();
    assert_eq!(
        t.access_token.expose(),
        "ya29.a0AfB_byExampleRefreshedToken"
    );
    assert_eq!(t.refresh_token, None);
    assert_eq!(t.refresh_expires_at, None);
}

#[test]
fn the_channel_reads_string_counts_and_the_uploads_playlist() {
    let c = parse_channel(fx::CHANNELS_MINE).unwrap();
    assert_eq!(c.profile.platform_user_id, "UC4R8DWoMoI7CAwX8_LjQHig");
    assert_eq!(c.profile.handle.as_deref(), Some("@anatravels"));
    assert_eq!(c.profile.display_name.as_deref(), Some("Ana Travels"));
    assert_eq!(c.profile.followers, Some(251_000));
    assert_eq!(
        c.profile.avatar_url.as_deref(),
        Some("https://yt3.example/ana.jpg")
    );
    assert_eq!(c.profile.extra["view_count"], 18_234_001);
    assert_eq!(
        c.uploads_playlist.as_deref(),
        Some("UU4R8DWoMoI7CAwX8_LjQHig")
    );
}

#[test]
fn an_account_without_a_channel_is_no_channel() {
    assert_eq!(
        parse_channel(fx::CHANNELS_MINE_EMPTY),
        Err(PlatformError::NoChannel)
    );
    assert_eq!(
        parse_channel(r#"{"items":[]}"#),
        Err(PlatformError::NoChannel)
    );
    assert!(matches!(
        parse_channel("<html>"),
        Err(PlatformError::Malformed { .. })
    ));
}

#[test]
fn a_videos_description_follows_its_title_in_the_caption() {
    let body = r#"{"items":[
        {"id":"a","snippet":{"title":"Unboxing","description":"Thanks @acme #AcmeSummer"}},
        {"id":"b","snippet":{"title":"","description":"Only words #x"}},
        {"id":"c","snippet":{"title":"Just a title","description":""}}]}"#;
    let captions: Vec<Option<String>> = parse_videos(body)
        .unwrap()
        .into_iter()
        .map(|v| v.caption)
        .collect();
    assert_eq!(
        captions,
        vec![
            Some("Unboxing\n\nThanks @acme #AcmeSummer".to_owned()),
            Some("Only words #x".to_owned()),
            Some("Just a title".to_owned()),
        ]
    );
}

#[test]
fn videos_read_string_counts() {
    let items = parse_videos(fx::VIDEOS).unwrap();
    assert_eq!(items.len(), 1);
    let v = &items[0];
    assert_eq!(
        (v.platform_media_id.as_str(), v.kind),
        ("dQw4w9WgXcQ", MediaKind::Video)
    );
    assert_eq!(v.caption.as_deref(), Some("48 hours in Lisbon"));
    assert_eq!(
        v.taken_at,
        Some(Utc.with_ymd_and_hms(2026, 11, 19, 15, 0, 0).unwrap())
    );
    assert_eq!(
        (v.metrics.views, v.metrics.likes, v.metrics.comments),
        (Some(402_113), Some(18_230), Some(911))
    );
    assert_eq!(
        v.permalink.as_deref(),
        Some("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    );
    assert!(parse_videos(r#"{"kind":"youtube#videoListResponse"}"#)
        .unwrap()
        .is_empty());
}

#[test]
fn playlist_items_give_ids_dates_and_the_next_page() {
    let body = r#"{"items":[{"contentDetails":{"videoId":"a","videoPublishedAt":"2026-11-19T15:00:00Z"}},{"contentDetails":{"videoId":"b"}},{"snippet":{}}],"nextPageToken":"CDIQAA"}"#;
    let (ids, next) = parse_playlist_items(body).unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        ids[0],
        (
            "a".to_owned(),
            Some(Utc.with_ymd_and_hms(2026, 11, 19, 15, 0, 0).unwrap())
        )
    );
    assert_eq!(next.as_deref(), Some("CDIQAA"));
}

#[test]
fn the_daily_report_reads_rows_by_column_name() {
    let rows = parse_report(fx::ANALYTICS_DAILY).unwrap();
    let days: Vec<DailyMetrics> = rows.iter().filter_map(daily_from_row).collect();
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].day, NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());
    assert_eq!(
        (
            days[0].views,
            days[0].minutes_watched,
            days[0].followers_gained
        ),
        (Some(52_011), Some(140_233), Some(812))
    );
    assert_eq!(
        days[0].engagements, None,
        "likes/comments/shares were not in this report"
    );
    assert!(
        parse_report(r#"{"kind":"youtubeAnalytics#resultTable","columnHeaders":[]}"#)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn demographics_sum_into_age_and_gender_shares() {
    let rows = parse_report(fx::ANALYTICS_DEMOGRAPHICS).unwrap();
    let country = parse_report(r#"{"columnHeaders":[{"name":"country"},{"name":"views"}],"rows":[["PT",300],["US","100"]]}"#).unwrap();
    let Audience::Available {
        age,
        gender,
        country,
    } = audience_from_reports(&rows, &country)
    else {
        panic!("available")
    };
    assert_eq!(age[0].0, "25-34");
    assert!((age[0].1 - 41.6 * 100.0 / 100.0).abs() < 1e-6, "{age:?}");
    assert_eq!(gender[0].0, "female");
    assert!((gender[0].1 - 54.1).abs() < 1e-6, "{gender:?}");
    assert_eq!(
        country,
        vec![("PT".to_owned(), 75.0), ("US".to_owned(), 25.0)]
    );
    assert!(matches!(
        audience_from_reports(&[], &[]),
        Audience::Unavailable { .. }
    ));
}

#[test]
fn the_audience_rule_needs_over_1000_subscribers_and_over_10000_recent_views() {
    assert_eq!(
        subscriber_ineligibility(Some(1_000)).as_deref(),
        Some("channel has under 1,000 subscribers")
    );
    assert_eq!(subscriber_ineligibility(Some(1_001)), None);
    assert!(subscriber_ineligibility(None).is_some());
    assert_eq!(
        views_ineligibility(Some(10_000)).as_deref(),
        Some("channel has under 10,000 views in the last 30 days")
    );
    assert_eq!(views_ineligibility(Some(10_001)), None);
    assert!(views_ineligibility(None).is_some());
}

fn channel_with(subscribers: &str) -> String {
    fx::CHANNELS_MINE.replace("\"251000\"", &format!("\"{subscribers}\""))
}

#[tokio::test]
async fn a_small_channel_gets_no_audience_and_no_analytics_calls() {
    let server = TestServer::start(vec![(200, channel_with("950"))]).await;
    let a = client(server.base.clone())
        .audience(&Secret::new("ya29.x"), "UC4R", now())
        .await
        .unwrap();
    assert_eq!(
        a,
        Audience::Unavailable {
            reason: "channel has under 1,000 subscribers".to_owned()
        }
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_channel_with_few_recent_views_gets_no_demographics_call() {
    let views = r#"{"columnHeaders":[{"name":"views"}],"rows":[[9500]]}"#;
    let server =
        TestServer::start(vec![(200, channel_with("5000")), (200, views.to_owned())]).await;
    let a = client(server.base.clone())
        .audience(&Secret::new("ya29.x"), "UC4R", now())
        .await
        .unwrap();
    assert_eq!(
        a,
        Audience::Unavailable {
            reason: "channel has under 10,000 views in the last 30 days".to_owned()
        }
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[1].target.contains("startDate=2026-10-25")
            && seen[1].target.contains("endDate=2026-11-23"),
        "{}",
        seen[1].target
    );
}

#[tokio::test]
async fn an_eligible_channel_gets_its_demographics() {
    let views = r#"{"columnHeaders":[{"name":"views"}],"rows":[[100000]]}"#;
    let country = r#"{"columnHeaders":[{"name":"country"},{"name":"views"}],"rows":[["PT",1]]}"#;
    let server = TestServer::start(vec![
        (200, fx::CHANNELS_MINE.to_owned()),
        (200, views.to_owned()),
        (200, fx::ANALYTICS_DEMOGRAPHICS.to_owned()),
        (200, country.to_owned()),
    ])
    .await;
    let a = client(server.base.clone())
        .audience(&Secret::new("ya29.x"), "UC4R", now())
        .await
        .unwrap();
    assert!(matches!(a, Audience::Available { .. }), "{a:?}");
    let seen = server.requests();
    assert!(
        seen[2]
            .target
            .starts_with("/sandbox/v2/reports?ids=channel%3D%3DUC4R"),
        "{}",
        seen[2].target
    );
    assert!(seen[2].target.contains("dimensions=ageGroup%2Cgender"));
}

#[tokio::test]
async fn profile_of_an_account_without_a_channel_is_no_channel() {
    let server = TestServer::start(vec![(200, fx::CHANNELS_MINE_EMPTY.to_owned())]).await;
    let e = client(server.base.clone())
        .profile(&Secret::new("ya29.x"))
        .await
        .unwrap_err();
    assert_eq!(e, PlatformError::NoChannel);
    assert!(server.requests()[0].target.contains("mine=true"));
}

#[tokio::test]
async fn an_exhausted_quota_pauses_until_pacific_midnight() {
    let server = TestServer::start(vec![(403, fx::ERROR_QUOTA.to_owned())]).await;
    let e = client(server.base.clone())
        .profile(&Secret::new("ya29.x"))
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::QuotaExceeded { .. }), "{e:?}");
}

#[tokio::test]
async fn refresh_posts_the_stored_refresh_token_and_returns_none_when_google_omits_it() {
    let server = TestServer::start(vec![(200, fx::REFRESHED_TOKEN.to_owned())]).await;
    let input = RefreshInput {
        access_token: Secret::new("ya29.old"),
        refresh_token: Some(Secret::new("1//0gStored")),
    };
    let t = client(server.base.clone())
        .refresh(&input, now())
        .await
        .unwrap();
    assert_eq!(t.refresh_token, None);
    let seen = server.requests();
    assert_eq!(seen[0].target, "/sandbox/token");
    assert!(
        seen[0].body.contains("grant_type=refresh_token")
            && seen[0].body.contains("refresh_token=1%2F%2F0gStored")
    );
}

#[tokio::test]
async fn a_refresh_without_a_stored_refresh_token_needs_a_new_login() {
    let input = RefreshInput {
        access_token: Secret::new("ya29.old"),
        refresh_token: None,
    };
    let e = production().refresh(&input, now()).await.unwrap_err();
    assert_eq!(e.invalid_reason(), Some(InvalidReason::SessionInvalidated));
}

#[tokio::test]
async fn media_reads_the_uploads_playlist_then_the_videos() {
    let playlist = r#"{"items":[{"contentDetails":{"videoId":"dQw4w9WgXcQ","videoPublishedAt":"2026-11-19T15:00:00Z"}}]}"#;
    let server = TestServer::start(vec![
        (200, fx::CHANNELS_MINE.to_owned()),
        (200, playlist.to_owned()),
        (200, fx::VIDEOS.to_owned()),
    ])
    .await;
    let items = client(server.base.clone())
        .media(&Secret::new("ya29.x"), "UC4R", None)
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    let seen = server.requests();
    assert!(
        seen[1]
            .target
            .contains("playlistId=UU4R8DWoMoI7CAwX8_LjQHig"),
        "{}",
        seen[1].target
    );
    assert!(
        seen[2].target.starts_with("/sandbox/youtube/v3/videos?")
            && seen[2].target.contains("id=dQw4w9WgXcQ")
    );
}
