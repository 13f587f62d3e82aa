use super::*;
use crate::platforms::fixtures::tiktok as fx;
use crate::platforms::test_server::TestServer;
use chrono::{Duration, TimeZone};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn client(base: Url) -> TiktokClient {
    let redirect = Url::parse("https://app.example/oauth/tiktok/callback").unwrap();
    let config = PlatformConfig::single_base(
        base,
        "awx1example",
        Secret::new("tiktok-secret-value"),
        redirect,
    )
    .unwrap();
    TiktokClient::new(
        super::super::http_client(std::time::Duration::from_secs(5)).unwrap(),
        config,
    )
    .unwrap()
}

fn production() -> TiktokClient {
    client(Url::parse("https://www.tiktok.com").unwrap())
}

#[test]
fn a_token_response_gives_expiries_relative_to_now_and_comma_separated_scopes() {
    let t = parse_token(fx::TOKEN, now()).unwrap();
    assert!(t.access_token.expose().starts_with("act."));
    assert_eq!(t.access_expires_at, Some(now() + Duration::seconds(86_400)));
    assert_eq!(
        t.refresh_expires_at,
        Some(now() + Duration::seconds(31_536_000))
    );
    assert!(t
        .refresh_token
        .as_ref()
        .unwrap()
        .expose()
        .starts_with("rft."));
    assert_eq!(
        t.granted_scopes,
        [
            "user.info.basic",
            "user.info.profile",
            "user.info.stats",
            "video.list"
        ]
    );
    assert_eq!(
        t.provider_user_id.as_deref(),
        Some("-000B2hX6yQ0nDGYkZBsKbYP9yHj5mD5GWgy")
    );
    assert_eq!(t.data_access_expires_at, None);
}

#[test]
fn a_refresh_response_carries_the_rotated_refresh_token_and_its_own_lifetime() {
    let body = r#"{"access_token":"act.new","expires_in":7200,"refresh_token":"rft.rotated","refresh_expires_in":15552000,"scope":"user.info.basic,video.list","open_id":"o1","token_type":"Bearer","extra":1}"#;
    let t = parse_token(body, now()).unwrap();
    assert_eq!(t.refresh_token.unwrap().expose(), "rft.rotated");
    assert_eq!(t.access_expires_at, Some(now() + Duration::hours(2)));
    assert_eq!(t.refresh_expires_at, Some(now() + Duration::days(180)));
    assert_eq!(t.granted_scopes, ["user.info.basic", "video.list"]);
}

#[test]
fn a_token_response_without_an_access_token_is_malformed() {
    assert!(matches!(
        parse_token("{}", now()),
        Err(PlatformError::Malformed { .. })
    ));
    assert!(matches!(
        parse_token("<html>", now()),
        Err(PlatformError::Malformed { .. })
    ));
}

#[test]
fn user_info_reads_profile_and_stats() {
    let p = parse_user(fx::USER_INFO).unwrap();
    assert_eq!(p.platform, Platform::Tiktok);
    assert_eq!(p.platform_user_id, "-000B2hX6yQ0nDGYkZBsKbYP9yHj5mD5GWgy");
    assert_eq!(p.handle.as_deref(), Some("ana.travels"));
    assert_eq!(p.display_name.as_deref(), Some("Ana Travels"));
    assert_eq!(p.followers, Some(120_455));
    assert_eq!(p.extra["likes_count"], 3_204_511);
    assert_eq!(p.extra["video_count"], 412);
}

#[test]
fn user_info_with_only_basic_fields_still_identifies_the_account() {
    let body = r#"{"data":{"user":{"open_id":"o1","display_name":"Ana","new_field":[1]}},"error":{"code":"ok"}}"#;
    let p = parse_user(body).unwrap();
    assert_eq!(
        (p.platform_user_id.as_str(), p.followers, p.handle),
        ("o1", None, None)
    );
    assert!(matches!(
        parse_user(r#"{"data":{}}"#),
        Err(PlatformError::Malformed { .. })
    ));
}

#[test]
fn the_video_list_reads_items_and_the_next_cursor() {
    let (items, cursor) = parse_video_page(fx::VIDEO_LIST).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(cursor, Some(1_763_699_999_000));
    let first = &items[0];
    assert_eq!(first.platform_media_id, "7305432898110001234");
    assert_eq!(first.kind, MediaKind::Video);
    assert_eq!(
        first.caption.as_deref(),
        Some("Night train to Vienna #travel")
    );
    assert_eq!(first.taken_at, DateTime::from_timestamp(1_763_880_000, 0));
    assert_eq!(first.metrics.views, Some(841_233));
    assert_eq!(first.metrics.shares, Some(4_410));
    assert_eq!(
        items[1].caption.as_deref(),
        Some("Packing for 3 weeks in one bag")
    );
    let (empty, cursor) =
        parse_video_page(r#"{"data":{"videos":[],"has_more":false},"error":{"code":"ok"}}"#)
            .unwrap();
    assert!(empty.is_empty() && cursor.is_none());
}

#[test]
fn the_authorize_url_carries_client_key_scopes_and_state() {
    let url = production().authorize_url("st4te", Some("ignored"));
    assert!(url
        .as_str()
        .starts_with("https://www.tiktok.com/v2/auth/authorize/?"));
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_key"], "awx1example");
    assert_eq!(
        q["scope"],
        "user.info.basic,user.info.profile,user.info.stats,video.list"
    );
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["state"], "st4te");
    assert_eq!(
        q["redirect_uri"],
        "https://app.example/oauth/tiktok/callback"
    );
    assert!(!q.contains_key("code_challenge"));
}

#[tokio::test]
async fn refresh_posts_the_refresh_token_and_returns_the_rotated_one() {
    let server = TestServer::start(vec![(200, fx::TOKEN.to_owned())]).await;
    let input = RefreshInput {
        access_token: Secret::new("act.old"),
        refresh_token: Some(Secret::new("rft.old")),
    };
    let t = client(server.base.clone())
        .refresh(&input, now())
        .await
        .unwrap();
    assert!(t.refresh_token.unwrap().expose().starts_with("rft.7139"));
    let seen = server.requests();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].target.as_str()),
        ("POST", "/sandbox/v2/oauth/token/")
    );
    assert!(
        seen[0].body.contains("grant_type=refresh_token"),
        "{}",
        seen[0].body
    );
    assert!(
        seen[0].body.contains("client_key=awx1example")
            && seen[0].body.contains("refresh_token=rft.old")
    );
}

#[tokio::test]
async fn a_dead_refresh_token_makes_the_link_invalid_without_echoing_it() {
    let server = TestServer::start(vec![(400, fx::ERROR_INVALID_GRANT.to_owned())]).await;
    let input = RefreshInput {
        access_token: Secret::new("act.old"),
        refresh_token: Some(Secret::new("rft.dead")),
    };
    let e = client(server.base.clone())
        .refresh(&input, now())
        .await
        .unwrap_err();
    assert_eq!(e.invalid_reason(), Some(InvalidReason::SessionInvalidated));
    assert!(!e.to_string().contains("rft.dead"));
}

#[tokio::test]
async fn media_follows_the_cursor_until_has_more_is_false() {
    let last = r#"{"data":{"videos":[{"id":"3","create_time":1763600000}],"cursor":1,"has_more":false},"error":{"code":"ok"}}"#;
    let server = TestServer::start(vec![
        (200, fx::VIDEO_LIST.to_owned()),
        (200, last.to_owned()),
    ])
    .await;
    let items = client(server.base.clone())
        .media(&Secret::new("act.x"), "o1", None)
        .await
        .unwrap();
    assert_eq!(items.len(), 3);
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[1].body.contains("\"cursor\":1763699999000"),
        "{}",
        seen[1].body
    );
    assert!(seen[0].body.contains("\"max_count\":20"));
    assert!(seen[0]
        .headers
        .to_ascii_lowercase()
        .contains("authorization: bearer act.x"));
}

#[tokio::test]
async fn a_refused_connection_is_retryable() {
    let closed = TcpListenerGuard::closed_port().await;
    let e = client(closed)
        .profile(&Secret::new("act.x"))
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::Retryable { .. }), "{e:?}");
    assert!(!e.to_string().contains("act.x"));
}

/// A base URL on a port nobody listens on.
struct TcpListenerGuard;

impl TcpListenerGuard {
    async fn closed_port() -> Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        Url::parse(&format!("http://{addr}/")).unwrap()
    }
}
