use super::*;
use crate::kinds::{MediaKind, Platform};
use crate::platforms::fixtures::meta as fx;
use crate::platforms::test_server::TestServer;
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn client(base: Url) -> MetaClient {
    let redirect = Url::parse("https://app.example/oauth/meta/callback").unwrap();
    let config = PlatformConfig::single_base(
        base,
        "138483919580948",
        Secret::new("meta-app-secret"),
        redirect,
    )
    .unwrap();
    MetaClient::new(
        crate::platforms::http_client(std::time::Duration::from_secs(5)).unwrap(),
        config,
    )
    .unwrap()
}

fn production() -> MetaClient {
    let redirect = Url::parse("https://app.example/oauth/meta/callback").unwrap();
    let config = PlatformConfig::production(
        Provider::Meta,
        "138483919580948",
        Secret::new("meta-app-secret"),
        redirect,
    )
    .unwrap();
    MetaClient::new(
        crate::platforms::http_client(std::time::Duration::from_secs(5)).unwrap(),
        config,
    )
    .unwrap()
}

#[test]
fn the_authorize_url_asks_for_comma_separated_scopes_with_state() {
    let url = production().authorize_url("st4te", None);
    assert!(
        url.as_str()
            .starts_with("https://www.facebook.com/v25.0/dialog/oauth?"),
        "{url}"
    );
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "138483919580948");
    assert_eq!(q["state"], "st4te");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["redirect_uri"], "https://app.example/oauth/meta/callback");
    assert_eq!(
        q["scope"],
        "instagram_basic,instagram_manage_insights,pages_show_list,pages_read_engagement"
    );
    assert!(!q.contains_key("code_challenge"));
    let with_pkce: HashMap<String, String> = production()
        .authorize_url("st4te", Some("ch4llenge"))
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(with_pkce["code_challenge"], "ch4llenge");
    assert_eq!(with_pkce["code_challenge_method"], "S256");
    assert!(production().supports_pkce());
    let required = production();
    assert_eq!(
        required.required_scopes(),
        [
            "instagram_basic",
            "pages_show_list",
            "pages_read_engagement"
        ]
    );
}

#[test]
fn a_long_lived_token_takes_its_expiries_and_scopes_from_debug_token() {
    let (token, expires_in) = parse_access_token(fx::LONG_LIVED_TOKEN).unwrap();
    let debug = parse_debug_token(fx::DEBUG_TOKEN).unwrap();
    let t = token_set(token, expires_in, &debug, now());
    assert_eq!(
        t.access_token.expose(),
        "EAAGm0PX4ZCpsBAExampleLongLivedUserToken"
    );
    assert_eq!(
        t.access_expires_at,
        DateTime::from_timestamp(1_788_220_800, 0)
    );
    assert_eq!(
        t.data_access_expires_at,
        DateTime::from_timestamp(1_790_812_800, 0)
    );
    assert_eq!(t.refresh_token, None);
    assert_eq!(t.provider_user_id.as_deref(), Some("10215962834550000"));
    assert!(t
        .granted_scopes
        .contains(&"instagram_manage_insights".to_owned()));
    assert!(crate::platforms::missing_scopes(REQUIRED, &t.granted_scopes).is_empty());
}

#[test]
fn without_debug_expiry_the_token_expires_relative_to_now() {
    let (token, expires_in) = parse_access_token(fx::LONG_LIVED_TOKEN).unwrap();
    let t = token_set(token, expires_in, &parse::DebugToken::default(), now());
    assert_eq!(
        t.access_expires_at,
        Some(now() + Duration::seconds(5_183_944))
    );
    assert!(matches!(
        parse_access_token(r#"{"token_type":"bearer"}"#),
        Err(PlatformError::Malformed { .. })
    ));
}

#[test]
fn pages_carry_their_tokens_and_only_some_have_instagram() {
    let (pages, after) = parse_pages(fx::ME_ACCOUNTS).unwrap();
    assert_eq!(after, None, "no `next`, no further page");
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].page_id, "101112131415161");
    assert_eq!(
        pages[0].page_access_token.expose(),
        "EAAGm0PX4ZCpsBAExamplePageToken1"
    );
    let ig = pages[0].instagram.as_ref().unwrap();
    assert_eq!(
        (ig.id.as_str(), ig.username.as_deref()),
        ("17841400008460056", Some("ana.travels"))
    );
    assert_eq!(pages[1].instagram, None);
    assert_eq!(
        format!("{:?}", pages[0]).matches("EAAG").count(),
        0,
        "Debug never shows a page token"
    );
    assert!(parse_pages(r#"{"data":[]}"#).unwrap().0.is_empty());
}

#[test]
fn the_instagram_user_reads_as_a_profile() {
    let p = parse_ig_user(fx::IG_USER, "101112131415161").unwrap();
    assert_eq!(p.platform, Platform::Instagram);
    assert_eq!(p.platform_user_id, "17841400008460056");
    assert_eq!(p.handle.as_deref(), Some("ana.travels"));
    assert_eq!(p.display_name.as_deref(), Some("Ana | Travel"));
    assert_eq!(p.followers, Some(48_213));
    assert_eq!(
        p.avatar_url.as_deref(),
        Some("https://scontent.example/ana.jpg")
    );
    assert_eq!(p.extra["page_id"], "101112131415161");
    assert_eq!(p.extra["media_count"], 934);
    let bare = parse_ig_user(r#"{"id":"1"}"#, "p").unwrap();
    assert_eq!((bare.handle, bare.followers), (None, None));
}

#[test]
fn media_reads_kinds_times_counts_and_the_next_cursor() {
    let (items, after) = parse_media_page(fx::IG_MEDIA).unwrap();
    assert_eq!(after.as_deref(), Some("QVFIUkNA"));
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].kind, MediaKind::Reel);
    assert_eq!(items[1].kind, MediaKind::Post);
    assert_eq!(
        items[0].taken_at,
        Some(Utc.with_ymd_and_hms(2026, 11, 20, 7, 14, 22).unwrap())
    );
    assert_eq!(items[0].metrics.likes, Some(3_120));
    assert_eq!(items[0].metrics.comments, Some(88));
    assert_eq!(
        items[0].permalink.as_deref(),
        Some("https://www.instagram.com/reel/C8xYz12AbCd/")
    );
}

#[test]
fn stories_are_stories_with_their_media_urls() {
    let (items, after) = parse_media_page(fx::IG_STORIES).unwrap();
    assert_eq!(after, None);
    assert!(items.iter().all(|i| i.kind == MediaKind::Story));
    assert_eq!(
        items[1].media_url.as_deref(),
        Some("https://scontent.example/story2.mp4")
    );
}

#[test]
fn media_insights_fill_the_metrics_and_keep_list_counts_they_lack() {
    let (mut items, _) = parse_media_page(fx::IG_MEDIA).unwrap();
    apply_insights(
        &mut items[0].metrics,
        &parse_insight_values(fx::MEDIA_INSIGHTS_REEL).unwrap(),
    );
    let m = &items[0].metrics;
    assert_eq!(
        (m.reach, m.views, m.saves, m.shares, m.engagements),
        (
            Some(40_210),
            Some(61_877),
            Some(512),
            Some(230),
            Some(3_981)
        )
    );
    assert_eq!(
        m.likes,
        Some(3_120),
        "no `likes` insight: the list count stays"
    );
    assert_eq!(m.replies, None);
}

#[test]
fn story_insights_include_replies() {
    let mut m = crate::platforms::MediaMetrics::default();
    apply_insights(&mut m, &parse_insight_values(fx::STORY_INSIGHTS).unwrap());
    assert_eq!(
        (m.reach, m.views, m.replies),
        (Some(5_120), Some(6_034), Some(14))
    );
    assert!(parse_insight_values(r#"{"data":[]}"#).unwrap().is_empty());
}

#[test]
fn account_insights_read_total_values_and_daily_series() {
    let totals = r#"{"data":[{"name":"reach","period":"day","total_value":{"value":1200},"id":"x"},{"name":"views","period":"day","total_value":{"value":"3400"}},{"name":"accounts_engaged","period":"day","total_value":{}}]}"#;
    let v = parse_insight_values(totals).unwrap();
    assert_eq!(
        (v.get("reach"), v.get("views"), v.get("accounts_engaged")),
        (Some(&1_200), Some(&3_400), None)
    );
    let series = r#"{"data":[{"name":"follower_count","period":"day","values":[{"value":12,"end_time":"2026-11-21T08:00:00+0000"},{"value":9,"end_time":"2026-11-22T08:00:00+0000"}]}]}"#;
    let s = parse_daily_series(series, "follower_count").unwrap();
    assert_eq!(
        s,
        vec![
            (NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(), 12),
            (NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(), 9)
        ]
    );
}

#[test]
fn follower_demographics_become_percentages() {
    let age = shares(parse_demographics(fx::FOLLOWER_DEMOGRAPHICS_AGE).unwrap());
    assert_eq!(age[0].0, "25-34");
    assert!((age.iter().map(|(_, p)| p).sum::<f64>() - 100.0).abs() < 1e-9);
    assert!((age[0].1 - 22_340.0 * 100.0 / 45_600.0).abs() < 1e-9);
    let gender = r#"{"data":[{"name":"follower_demographics","total_value":{"breakdowns":[{"dimension_keys":["gender"],"results":[{"dimension_values":["F"],"value":3},{"dimension_values":["M"],"value":1}]}]}}]}"#;
    assert_eq!(
        shares(parse_demographics(gender).unwrap()),
        vec![("female".to_owned(), 75.0), ("male".to_owned(), 25.0)]
    );
}

#[tokio::test]
async fn connecting_exchanges_the_code_then_goes_long_lived_then_debugs_the_token() {
    let short =
        r#"{"access_token":"EAAshortlivedtoken123","token_type":"bearer","expires_in":5400}"#;
    let server = TestServer::start(vec![
        (200, short.to_owned()),
        (200, fx::LONG_LIVED_TOKEN.to_owned()),
        (200, fx::DEBUG_TOKEN.to_owned()),
    ])
    .await;
    let t = client(server.base.clone())
        .exchange_code("the-code", None, now())
        .await
        .unwrap();
    assert_eq!(
        t.data_access_expires_at,
        DateTime::from_timestamp(1_790_812_800, 0)
    );
    let seen = server.requests();
    assert!(
        seen[0]
            .target
            .starts_with("/sandbox/v25.0/oauth/access_token?"),
        "{}",
        seen[0].target
    );
    assert!(seen[0].target.contains("code=the-code"));
    assert!(
        seen[1].target.contains("grant_type=fb_exchange_token")
            && seen[1]
                .target
                .contains("fb_exchange_token=EAAshortlivedtoken123")
    );
    assert!(seen[2].target.starts_with(
        "/sandbox/v25.0/debug_token?input_token=EAAGm0PX4ZCpsBAExampleLongLivedUserToken"
    ));
}

#[tokio::test]
async fn an_expired_token_error_never_echoes_the_token() {
    let server = TestServer::start(vec![(400, fx::ERROR_TOKEN_EXPIRED.to_owned())]).await;
    let token = Secret::new("EAABsecretUserToken987");
    let e = client(server.base.clone()).pages(&token).await.unwrap_err();
    assert_eq!(e.invalid_reason(), Some(InvalidReason::SessionInvalidated));
    assert!(!format!("{e} {e:?}").contains("EAABsecretUserToken987"));
}

#[tokio::test]
async fn media_keeps_items_whose_insights_are_refused_and_stops_on_throttling() {
    let one = r#"{"data":[{"id":"m1","media_product_type":"FEED","timestamp":"2026-11-20T07:14:22+0000","like_count":5}]}"#;
    let server = TestServer::start(vec![
        (200, one.to_owned()),
        (400, fx::ERROR_PERMISSION.to_owned()),
    ])
    .await;
    let items = client(server.base.clone())
        .media(&Secret::new("EAAtok"), "1784", None)
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].metrics.likes, Some(5));
    let seen = server.requests();
    assert!(
        seen[1]
            .target
            .starts_with("/sandbox/v25.0/m1/insights?metric=reach%2Cviews%2Clikes"),
        "{}",
        seen[1].target
    );
    assert!(!seen[1].target.contains("impressions") && !seen[1].target.contains("plays"));

    let server = TestServer::start(vec![
        (200, one.to_owned()),
        (400, fx::ERROR_RATE_LIMITED.to_owned()),
    ])
    .await;
    let e = client(server.base.clone())
        .media(&Secret::new("EAAtok"), "1784", None)
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::RateLimited { .. }));
}

#[tokio::test]
async fn a_user_with_no_pages_is_not_eligible() {
    let server = TestServer::start(vec![(200, r#"{"data":[]}"#.to_owned())]).await;
    let e = client(server.base.clone())
        .profile(&Secret::new("EAAtok"))
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::NotEligible { .. }));
}

#[tokio::test]
async fn a_transport_error_on_a_graph_call_never_shows_the_query_token() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let e = client(base)
        .pages(&Secret::new("EAABquerystringtoken42"))
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::Retryable { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("EAABquerystringtoken42"));
}
