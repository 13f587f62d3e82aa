//! The hosted Connect page as HTML (maud): no script, no build step, readable on a phone and by a
//! screen reader. Every colour of a badge is also a word, and every date on hover is also text.

use chrono::{DateTime, Utc};
use domain::entities::{creator_profile, link, social_account};
use domain::link::status::{derive, LinkState};
use domain::{InvalidReason, LinkStatus, Platform, Provider};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// What the page needs besides the rows.
pub struct PageContext<'a> {
    pub token: &'a str,
    pub csrf: &'a str,
    pub now: DateTime<Utc>,
    pub window: chrono::Duration,
    /// A one-line message after a form post or a return from a platform.
    pub notice: Option<Notice>,
    /// The "add account by URL" form as the creator last sent it.
    pub add: AddForm,
}

/// The "add account by URL" form: what was typed, and why it was refused.
#[derive(Default)]
pub struct AddForm {
    pub handle_or_url: String,
    pub platform: Option<Platform>,
    /// A typed error (`INVALID_URL`, `UNSUPPORTED_PLATFORM`, `ACCOUNT_ALREADY_ASSOCIATED`, …)
    /// and its message.
    pub error: Option<(String, String)>,
}

/// A message shown at the top of the page.
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

const STYLE: &str = r#"
:root { color-scheme: light; --green:#17803d; --orange:#b45309; --red:#b91c1c; --grey:#4b5563; }
* { box-sizing: border-box; }
body { margin:0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:#111827; background:#f3f4f6; }
main { max-width: 44rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
section.card > h2:first-child { margin-top: 0; }
section.card, li.account { background:#fff; border-radius: .75rem; padding: 1rem; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
ul.promises { margin:0; padding-left: 1.2rem; }
ul.promises li { margin: .35rem 0; }
ul.accounts { list-style:none; margin:0; padding:0; display:grid; gap:.75rem; }
li.account { display:grid; gap:.5rem; }
.account-head { display:flex; flex-wrap:wrap; align-items:center; gap:.5rem; justify-content:space-between; }
.who { font-weight:600; word-break: break-all; }
.platform { color:#374151; font-weight:400; }
.badge { display:inline-block; padding:.15rem .6rem; border-radius:999px; color:#fff; font-weight:600; font-size:.875rem; }
.badge-green { background:var(--green); } .badge-orange { background:var(--orange); }
.badge-red { background:var(--red); } .badge-grey { background:var(--grey); }
.dates { color:#374151; font-size:.925rem; margin:0; }
.actions { display:flex; flex-wrap:wrap; gap:.5rem; }
.actions form { margin:0; }
a.button, button { display:inline-block; min-height:44px; padding:.6rem 1rem; border-radius:.5rem; border:2px solid transparent; font:inherit; font-weight:600; text-decoration:none; cursor:pointer; }
a.primary, button.primary { background:#1d4ed8; color:#fff; }
button.secondary { background:#fff; color:#1f2937; border-color:#9ca3af; }
button.danger { background:#fff; color:var(--red); border-color:var(--red); }
a.button:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline:3px solid #f59e0b; outline-offset:2px; }
.connect-new { display:grid; gap:.5rem; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); }
form.add { display:grid; gap:.5rem; }
label { font-weight:600; }
input[type=text], select { font:inherit; padding:.6rem; border:2px solid #9ca3af; border-radius:.5rem; width:100%; min-height:44px; }
.notice { padding:.75rem 1rem; border-radius:.5rem; margin-bottom:1rem; }
.notice-ok { background:#dcfce7; color:#14532d; } .notice-error { background:#fee2e2; color:#7f1d1d; }
.hint { color:#4b5563; font-size:.925rem; margin:.25rem 0 0; }
"#;

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Instagram => "Instagram",
        Platform::Facebook => "Facebook",
        Platform::Tiktok => "TikTok",
        Platform::Youtube => "YouTube",
    }
}

fn provider_label(p: Provider) -> &'static str {
    match p {
        Provider::Meta => "Instagram + Facebook",
        Provider::Tiktok => "TikTok",
        Provider::Google => "YouTube",
    }
}

fn reason_text(reason: Option<InvalidReason>) -> &'static str {
    match reason {
        Some(InvalidReason::Unlinked) => "You unlinked this account.",
        Some(InvalidReason::Removed) => "This account was removed from the profile.",
        Some(InvalidReason::PasswordChanged) => {
            "The password changed on the platform, which ends every connection."
        }
        Some(InvalidReason::SessionInvalidated) => "The platform ended the session.",
        Some(InvalidReason::PermissionsRevoked) => "Access was revoked on the platform.",
        Some(InvalidReason::ScopesMissing) => {
            "Some read-only permissions were not granted; connect again and allow them all."
        }
        Some(InvalidReason::AccountNotEligible) => {
            "This account cannot be connected: Instagram must be a professional account attached to a Facebook Page."
        }
        Some(InvalidReason::UserActionRequired) => {
            "The platform asks you to log in there and confirm something first."
        }
        Some(InvalidReason::Erased) => "The data of this account was erased.",
        Some(InvalidReason::RefreshResultLost) => {
            "We lost the platform's answer while renewing this connection; please connect again."
        }
        None => "The connection no longer works.",
    }
}

/// `23 Nov 2026`.
fn day(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y").to_string()
}

/// The whole page.
pub fn render(
    cx: &PageContext<'_>,
    profile: &creator_profile::Model,
    accounts: &[(social_account::Model, Option<link::Model>)],
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                meta name="robots" content="noindex";
                title { "Connect your accounts · " (profile.name) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    @if let Some(notice) = &cx.notice {
                        div class=(if notice.ok { "notice notice-ok" } else { "notice notice-error" }) role="status" {
                            (notice.text)
                        }
                    }
                    h1 { "Connect your accounts for " (profile.name) }
                    section.card aria-labelledby="promises-title" {
                        h2 #promises-title { "How connecting works" }
                        ul.promises {
                            li { strong { "Read-only." } " We only read your public profile, your posts and stories and their metrics, and your audience statistics. We can never post, comment, like, follow or read your messages." }
                            li { strong { "We never see your password." } " You log in on the platform's own page (Facebook, TikTok or Google), and it gives us a secure token for the permissions you choose." }
                            li { strong { "90 days." } " Each connection lasts 90 days; then we ask you to reconnect. The date is shown next to each account." }
                            li { strong { "You can revoke access at any time," } " here with UNLINK or in the platform's own settings. Your account itself is not affected." }
                        }
                    }
                    h2 #accounts-title { "Your accounts" }
                    @if accounts.is_empty() {
                        p { "No accounts yet. Connect one below." }
                    } @else {
                        ul.accounts aria-labelledby="accounts-title" {
                            @for (account, link) in accounts {
                                (account_item(cx, account, link.as_ref()))
                            }
                        }
                    }
                    h2 #connect-title { "Connect an account" }
                    section.card aria-labelledby="connect-title" {
                        div.connect-new {
                            @for provider in [Provider::Meta, Provider::Tiktok, Provider::Google] {
                                a.button.primary href=(start_url(provider, cx.token, None))
                                    aria-label={ "Connect " (provider_label(provider)) } {
                                    "CONNECT " (provider_label(provider))
                                }
                            }
                        }
                        p.hint { "Instagram accounts must be professional (Business or Creator) and attached to a Facebook Page; one Facebook login connects the Page and its Instagram account together." }
                    }
                    h2 #add-title { "Add an account by its link" }
                    section.card aria-labelledby="add-title" {
                        (add_form(cx))
                    }
                }
            }
        }
    }
}

/// `/oauth/{provider}/start?invite=…[&account=…]`.
fn start_url(provider: Provider, token: &str, account_global_id: Option<&str>) -> String {
    let mut url = format!("/oauth/{}/start?invite={token}", provider.as_str());
    if let Some(id) = account_global_id {
        url.push_str("&account=");
        url.push_str(id);
    }
    url
}

fn account_item(
    cx: &PageContext<'_>,
    account: &social_account::Model,
    link: Option<&link::Model>,
) -> Markup {
    let derived = derive(
        &LinkState {
            stored: link.map_or(LinkStatus::NotLinked, |l| l.status),
            invalid_reason: link.and_then(|l| l.invalid_reason),
            authenticated_at: link.and_then(|l| l.authenticated_at),
            expires_at: link.and_then(|l| l.expires_at),
        },
        cx.now,
        cx.window,
    );
    let authenticated = link.and_then(|l| l.authenticated_at);
    let expires = link.and_then(|l| {
        l.expires_at.or(l
            .authenticated_at
            .map(|a| a + domain::link::status::LINK_LIFETIME))
    });
    let (class, label) = match derived.status {
        LinkStatus::Linked => ("badge badge-green", "Linked"),
        LinkStatus::ExpiringSoon => ("badge badge-orange", "Expiring soon"),
        LinkStatus::Expired | LinkStatus::Invalid => ("badge badge-red", "Reconnect"),
        LinkStatus::NotLinked => ("badge badge-grey", "Not connected"),
    };
    let dates = match (derived.status, authenticated, expires) {
        (LinkStatus::Linked | LinkStatus::ExpiringSoon, Some(a), Some(e)) => {
            format!("Authenticated on {}; expires on {}.", day(a), day(e))
        }
        (LinkStatus::Expired, Some(a), Some(e)) => {
            format!(
                "Authenticated on {}; expired on {}. Reconnect to keep sharing.",
                day(a),
                day(e)
            )
        }
        (LinkStatus::Invalid, _, _) => reason_text(derived.invalid_reason).to_owned(),
        _ => "Not connected yet: connect it so we can read its data.".to_owned(),
    };
    let global_id = crate::graphql::ids::encode_named("SocialAccount", account.id);
    let provider = account.platform.provider();
    let who = format!("@{}", account.handle);
    html! {
        li.account data-platform=(account.platform.as_str()) data-status=(derived.status.as_str()) {
            div.account-head {
                span.who { (who) " " span.platform { "on " (platform_name(account.platform)) } }
                span class=(class) title=(dates) data-status=(derived.status.as_str()) { (label) }
            }
            p.dates { (dates) }
            div.actions {
                @match derived.status {
                    LinkStatus::NotLinked => {
                        a.button.primary href=(start_url(provider, cx.token, Some(&global_id)))
                            aria-label={ "Connect " (who) " on " (platform_name(account.platform)) } { "CONNECT" }
                    }
                    LinkStatus::Linked => {
                        (post_button(cx, account.id, "unlink", "UNLINK", &format!("Unlink {who}: stop sharing its data"), "secondary"))
                    }
                    LinkStatus::ExpiringSoon => {
                        a.button.primary href=(start_url(provider, cx.token, Some(&global_id)))
                            aria-label={ "Reconnect " (who) " for another 90 days" } { "RECONNECT" }
                        (post_button(cx, account.id, "unlink", "UNLINK", &format!("Unlink {who}: stop sharing its data"), "secondary"))
                    }
                    LinkStatus::Expired | LinkStatus::Invalid => {
                        a.button.primary href=(start_url(provider, cx.token, Some(&global_id)))
                            aria-label={ "Reconnect " (who) } { "RECONNECT" }
                    }
                }
                (post_button(cx, account.id, "remove", "Remove", &format!("Remove {who} from this profile"), "danger"))
            }
        }
    }
}

/// Adds an account (NOT_LINKED until connected) from a profile link or handle.
fn add_form(cx: &PageContext<'_>) -> Markup {
    let platforms = [
        Platform::Instagram,
        Platform::Facebook,
        Platform::Tiktok,
        Platform::Youtube,
    ];
    html! {
        form.add method="post" action={ "/connect/" (cx.token) "/accounts" } {
            input type="hidden" name="csrf" value=(cx.csrf);
            @if let Some((code, message)) = &cx.add.error {
                div.notice.notice-error #add-error role="alert" data-error-code=(code) { (message) }
            }
            label for="handle_or_url" { "Profile link or @handle" }
            @if cx.add.error.is_some() {
                input type="text" #handle_or_url name="handle_or_url" required
                    value=(cx.add.handle_or_url) autocomplete="off" inputmode="url"
                    aria-invalid="true" aria-describedby="add-error add-hint"
                    placeholder="https://www.instagram.com/yourname";
            } @else {
                input type="text" #handle_or_url name="handle_or_url" required
                    value=(cx.add.handle_or_url) autocomplete="off" inputmode="url"
                    aria-describedby="add-hint"
                    placeholder="https://www.instagram.com/yourname";
            }
            label for="platform" { "Platform (only needed for a bare @handle)" }
            select #platform name="platform" {
                option value="" selected[cx.add.platform.is_none()] { "Work it out from the link" }
                @for p in platforms {
                    option value=(p.as_str()) selected[cx.add.platform == Some(p)] { (platform_name(p)) }
                }
            }
            p.hint #add-hint { "For example https://www.tiktok.com/@yourname or https://www.youtube.com/@yourchannel. Adding shows the account here; connect it afterwards so we can read its data." }
            button.secondary type="submit" { "ADD ACCOUNT" }
        }
    }
}

fn post_button(
    cx: &PageContext<'_>,
    account_id: uuid::Uuid,
    action: &str,
    label: &str,
    aria: &str,
    class: &str,
) -> Markup {
    html! {
        form method="post" action={ "/connect/" (cx.token) "/accounts/" (account_id) "/" (action) } {
            input type="hidden" name="csrf" value=(cx.csrf);
            button type="submit" class=(class) aria-label=(aria) { (label) }
        }
    }
}

/// The page for an unknown, expired or revoked invite: the same for all three.
pub fn not_found() -> Markup {
    simple(
        "This link does not work",
        "This Connect link has expired or is not valid. Ask whoever sent it for a new one.",
    )
}

/// A short page with a title and one paragraph.
pub fn simple(title: &str, text: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { main { h1 { (title) } p { (text) } } }
        }
    }
}
