//! The hosted Connect page in a real headless Chromium (Debian's `chromium` + `chromedriver`,
//! driven over WebDriver with fantoccini): what a creator sees on a desktop and on a phone.
//! Screenshots go to `test-artifacts/` at the workspace root.
//!
//! Every session has the outside network blocked (names other than 127.0.0.1/localhost do not
//! resolve), so pages must work offline.
//!
//! Without Chromium the test prints `SKIPPED` and passes, unless `CREATORLINK_REQUIRE_SERVICES=1`
//! (CI, which installs it), where a missing browser fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use domain::{InvalidReason, Platform};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tests::{on_both_backends, services_required, spawn_app, Backend};

use crate::fixtures::{self, AccountSeed, LinkSeed};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process, stopped when dropped.
pub(crate) struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn browser_available() -> bool {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        if services_required() {
            panic!("Chromium is required (CREATORLINK_REQUIRE_SERVICES=1) but {CHROMIUM} or {CHROMEDRIVER} is missing; apt-get install chromium chromium-driver");
        }
        eprintln!("SKIPPED: Chromium unavailable ({CHROMIUM}, {CHROMEDRIVER}); set CREATORLINK_REQUIRE_SERVICES=1 to fail instead");
    }
    present
}

pub(crate) async fn start_driver() -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        port,
        _profile: tempfile::tempdir().expect("profile dir"),
    };
    // chromedriver takes a moment to listen; poll its status endpoint.
    let status = format!("http://127.0.0.1:{port}/status");
    for _ in 0..100 {
        if reqwest::get(&status)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return driver;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

pub(crate) async fn browser(driver: &Driver, width: u32, height: u32, phone: bool) -> Client {
    let mut caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars",
                // No outside network: every page must work from this machine alone.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
                format!("--user-data-dir={}", driver._profile.path().join(format!("{width}")).display()),
                format!("--window-size={width},{height}"),
            ],
        }
    });
    if phone {
        // A desktop window cannot be narrower than about 500 px; a phone is emulated instead.
        caps["goog:chromeOptions"]["mobileEmulation"] = json!({
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0, "touch": true},
        });
    }
    let caps = match caps {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("an object literal"),
    };
    // chromedriver listens on loopback over plain HTTP: no TLS stack is needed to reach it.
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session")
}

/// `test-artifacts/` at the workspace root.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-artifacts");
    std::fs::create_dir_all(&dir).expect("test-artifacts directory");
    dir
}

pub(crate) async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(artifacts().join(name), png).expect("write the screenshot");
}

/// Waits (up to 20 s) until the browser's URL contains `needle`: a click that submits a form
/// returns before the navigation ends.
async fn url_contains(client: &Client, needle: &str) {
    for _ in 0..200 {
        if client
            .current_url()
            .await
            .is_ok_and(|u| u.as_str().contains(needle))
        {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    let url = client.current_url().await.expect("url");
    panic!("the browser is at {url}, not at a URL containing {needle:?}");
}

async fn the_connect_page_works_in_chromium_on_a_desktop_and_a_phone(backend: Backend) {
    if !browser_available() {
        return;
    }
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Ana Travels").await;
    let now = Utc::now();
    for (platform, handle, at) in [
        (Platform::Instagram, "ana.travels", now - Duration::days(5)),
        (
            Platform::Facebook,
            "anatravelspage",
            now - Duration::days(5),
        ),
        (Platform::Tiktok, "anatravels", now - Duration::days(81)),
    ] {
        fixtures::account(
            &db,
            org,
            profile,
            AccountSeed {
                platform,
                handle,
                platform_user_id: None,
                link: LinkSeed::Authenticated {
                    at,
                    marker: handle.into(),
                    provider_user_id: None,
                },
            },
        )
        .await;
    }
    fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Youtube,
            handle: "AnaTravelsTV",
            platform_user_id: None,
            link: LinkSeed::Invalid(InvalidReason::PasswordChanged),
        },
    )
    .await;
    fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Tiktok,
            handle: "ana.cooks",
            platform_user_id: None,
            link: LinkSeed::None,
        },
    )
    .await;
    let data = app
        .graphql_ok(
            "mutation($input: CreateConnectInviteInput!) { createConnectInvite(input: $input) { url } }",
            json!({"input": {"profileId": fixtures::profile_gid(profile)}}),
        )
        .await;
    let url = data["createConnectInvite"]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let token = url.rsplit('/').next().expect("token").to_owned();

    let driver = start_driver().await;
    // The phone first: the desktop run goes on to connect an account.
    for (width, height, phone, name) in [
        (390, 2000, true, "connect-page-phone.png"),
        (1100, 1900, false, "connect-page-desktop.png"),
    ] {
        let client = browser(&driver, width, height, phone).await;
        client.goto(&url).await.expect("open the invite");
        let title = client.title().await.expect("title");
        assert_eq!(title, "Connect your accounts · Ana Travels");

        // Each badge says its state in words, with the dates on hover.
        let badges = client
            .find_all(Locator::Css("li.account .badge"))
            .await
            .expect("badges");
        let mut words = Vec::new();
        for badge in &badges {
            words.push(badge.text().await.expect("text"));
        }
        assert_eq!(
            words,
            [
                "Linked",
                "Linked",
                "Expiring soon",
                "Reconnect",
                "Not connected"
            ]
        );
        let hover = badges[0]
            .attr("title")
            .await
            .expect("attr")
            .expect("a title");
        assert!(
            hover.starts_with("Authenticated on ") && hover.contains("expires on"),
            "{hover}"
        );
        let green = badges[0].css_value("background-color").await.expect("css");
        assert_eq!(green, "rgba(23, 128, 61, 1)", "a green Linked badge");
        let orange = badges[2].css_value("background-color").await.expect("css");
        assert_eq!(
            orange, "rgba(180, 83, 9, 1)",
            "an orange Expiring soon badge"
        );

        // Every control has a name a screen reader can say, and nothing is wider than the screen.
        for control in client
            .find_all(Locator::Css("a.button, button"))
            .await
            .expect("controls")
        {
            let label = control.attr("aria-label").await.expect("attr");
            let text = control.text().await.expect("text");
            assert!(
                label.is_some_and(|l| !l.is_empty()) || !text.trim().is_empty(),
                "an unnamed control"
            );
        }
        let overflow = client
            .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![])
            .await
            .expect("script");
        assert_eq!(overflow, json!(0), "no horizontal scrolling at {width}px");

        screenshot(&client, name).await;

        if phone {
            client.close().await.expect("close the browser");
            continue;
        }

        // The whole flow, as a creator does it: CONNECT, consent on the (sandbox) platform's
        // page, and back on the Connect page with the new account green.
        client
            .find(Locator::Css("a[aria-label='Connect TikTok']"))
            .await
            .expect("a Connect TikTok button")
            .click()
            .await
            .expect("click CONNECT");
        client
            .wait()
            .at_most(StdDuration::from_secs(20))
            .for_element(Locator::Css("button[value='allow']"))
            .await
            .expect("the sandbox consent page");
        let consent = client.current_url().await.expect("url");
        assert!(consent.path().starts_with("/sandbox/tiktok/"), "{consent}");
        client
            .find(Locator::Css(
                "input[name='sandbox_user'][value='tiktok_leo']",
            ))
            .await
            .expect("the sandbox user tiktok_leo")
            .click()
            .await
            .expect("pick the user");
        screenshot(&client, "sandbox-consent.png").await;
        client
            .find(Locator::Css("button[value='allow']"))
            .await
            .expect("Allow")
            .click()
            .await
            .expect("click Allow");
        // Three redirects (consent, callback, page) may still be under way when the click returns.
        let _ = client
            .wait()
            .at_most(StdDuration::from_secs(20))
            .for_element(Locator::Css(".notice-ok"))
            .await;
        let back = client.current_url().await.expect("url");
        let source = client.source().await.expect("source");
        assert_eq!(back.path(), format!("/connect/{token}"), "{source}");
        let notice = client
            .find(Locator::Css(".notice-ok"))
            .await
            .expect("a notice")
            .text()
            .await
            .expect("text");
        assert_eq!(notice, "Connected. Thank you!");
        let accounts = client
            .find_all(Locator::Css("li.account"))
            .await
            .expect("accounts");
        assert_eq!(accounts.len(), 6, "the new TikTok account joined the five");
        let new = &accounts[5];
        assert_eq!(
            new.attr("data-platform").await.expect("attr").as_deref(),
            Some("TIKTOK")
        );
        let badge = new.find(Locator::Css(".badge")).await.expect("badge");
        assert_eq!(badge.text().await.expect("text"), "Linked");
        assert_eq!(
            badge.css_value("background-color").await.expect("css"),
            "rgba(23, 128, 61, 1)",
            "green"
        );
        screenshot(&client, "connect-page-after-connect.png").await;

        // The page's own forms post from Chromium (same-origin, CSRF token and cookie): UNLINK
        // the new account.
        new.find(Locator::Css("button[aria-label^='Unlink @leo.dances']"))
            .await
            .expect("UNLINK on the new account")
            .click()
            .await
            .expect("click UNLINK");
        url_contains(&client, "notice=unlinked").await;
        let notice = client
            .find(Locator::Css(".notice-ok"))
            .await
            .expect("a notice")
            .text()
            .await
            .expect("text");
        let source = client.source().await.expect("source");
        assert_eq!(
            notice, "Unlinked: we no longer read this account's data.",
            "{source}"
        );

        client.close().await.expect("close the browser");
    }
}

on_both_backends!(the_connect_page_works_in_chromium_on_a_desktop_and_a_phone);
