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
    /// The organization asking for access (named in the header and in next steps).
    pub org_name: &'a str,
    /// The organization's app to go back to: its URL and host ("Back to <host>").
    pub back: Option<(&'a str, String)>,
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

/// A message shown at the top of the page (`#notice`, where a redirect lands), with the next
/// step when there is one.
pub struct Notice {
    pub ok: bool,
    pub text: String,
    /// A link (href, label, accessible name) such as RECONNECT or Try again.
    pub action: Option<(String, String, String)>,
}

impl Notice {
    fn ok(text: impl Into<String>) -> Self {
        Notice {
            ok: true,
            text: text.into(),
            action: None,
        }
    }

    fn error(text: impl Into<String>) -> Self {
        Notice {
            ok: false,
            text: text.into(),
            action: None,
        }
    }
}

/// What a redirect back to the page said: `notice=<code>`, or `error=<CODE>` with the
/// `platform` it concerns and the permissions `missing`.
#[derive(Default)]
pub struct Outcome<'q> {
    pub notice: Option<&'q str>,
    pub error: Option<&'q str>,
    pub platform: Option<&'q str>,
    pub missing: Option<&'q str>,
}

fn platform_of(name: &str) -> Option<Platform> {
    [
        Platform::Instagram,
        Platform::Facebook,
        Platform::Tiktok,
        Platform::Youtube,
    ]
    .into_iter()
    .find(|p| p.as_str() == name)
}

/// The message for an outcome, worded for the creator, with the next step: try again, reconnect
/// with the missing permission named, or ask the organization. Unknown codes show nothing; the
/// query is the creator's own (it follows their invite link), but only known permission names
/// are echoed, so a crafted link cannot put words on the page.
pub fn notice_for(
    outcome: &Outcome<'_>,
    token: &str,
    org: &str,
    required_scopes: impl Fn(Provider) -> &'static [&'static str],
) -> Option<Notice> {
    let platform = outcome.platform.and_then(platform_of);
    let known = platform.map_or(&[][..], |p| required_scopes(p.provider()));
    let on = platform.map_or(String::new(), |p| format!(" on {}", platform_name(p)));
    let retry = |label: &str| {
        platform.map(|p| {
            (
                start_url(p.provider(), token, None),
                label.to_owned(),
                format!("{label}: connect {} again", platform_name(p)),
            )
        })
    };
    let with_retry = |text: String, label: &str| Notice {
        ok: false,
        text,
        action: retry(label),
    };
    if let Some(code) = outcome.error {
        return Some(match code {
            domain::connect::codes::SCOPES_MISSING => {
                let known: Vec<&str> = outcome
                    .missing
                    .unwrap_or_default()
                    .split([' ', ','])
                    .filter(|s| known.contains(s))
                    .collect();
                let which = match known.as_slice() {
                    [] => "some permissions".to_owned(),
                    [one] => format!("the permission \u{201c}{one}\u{201d}"),
                    many => format!(
                        "the permissions {}",
                        many.iter()
                            .map(|s| format!("\u{201c}{s}\u{201d}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                with_retry(
                    format!(
                        "Not connected: {which} was not granted{on}. We need it to read your \
                         data (read-only). Reconnect and leave every permission ticked."
                    ),
                    "RECONNECT",
                )
            }
            domain::connect::codes::ACCESS_DENIED => with_retry(
                format!("Nothing was connected: you cancelled{on}. You can try again whenever you like."),
                "Try again",
            ),
            domain::connect::codes::STATE_EXPIRED => with_retry(
                format!("Nothing was connected: the sign-in{on} took longer than 10 minutes."),
                "Try again",
            ),
            domain::connect::codes::STATE_USED | domain::connect::codes::STATE_INVALID => {
                with_retry(
                    "Nothing was connected: this sign-in was already finished or is not valid any more.".to_owned(),
                    "Try again",
                )
            }
            domain::connect::ALREADY_ASSOCIATED => Notice::error(format!(
                "Nothing was connected: this account is already on another creator profile at \
                 {org}. Ask {org} to move it to your profile, then connect it again."
            )),
            domain::connect::codes::NOT_ELIGIBLE => with_retry(
                format!(
                    "Not connected: Instagram accounts must be professional (Business or Creator) \
                     accounts attached to a Facebook Page you manage. Change that in the Instagram \
                     app, then try again; {org} can help."
                ),
                "Try again",
            ),
            domain::connect::codes::NO_CHANNEL => with_retry(
                "Not connected: that Google account has no YouTube channel. Try again and pick the Google account that owns your channel.".to_owned(),
                "Try again",
            ),
            domain::connect::codes::PLATFORM_MISMATCH | "ACCOUNT_MISMATCH" => with_retry(
                format!(
                    "Not connected: you logged in{on} as a different account from the one you \
                     are reconnecting. Try again and log in as that account."
                ),
                "Try again",
            ),
            "NOT_FOUND" => Notice::error(
                "That account is no longer on this profile. The list below is up to date.",
            ),
            _ => with_retry(
                format!(
                    "Something went wrong{on}, and nothing was changed. Please try again in a few \
                     minutes; if it keeps failing, ask {org} to help."
                ),
                "Try again",
            ),
        });
    }
    Some(match outcome.notice? {
        "connected" => Notice::ok("Connected. Thank you!"),
        "unlinked" => Notice::ok("Unlinked: we no longer read this account's data."),
        "removed" => Notice::ok("The account was removed from this profile."),
        "added" => Notice::ok(
            "Account added. It is not authenticated yet: press CONNECT on it so we can read its data.",
        ),
        _ => return None,
    })
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
a.button:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, .notice:focus { outline:3px solid #111827; outline-offset:2px; }
.connect-new { display:grid; gap:.5rem; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); }
form.add { display:grid; gap:.5rem; }
label { font-weight:600; }
input[type=text], select { font:inherit; padding:.6rem; border:2px solid #9ca3af; border-radius:.5rem; width:100%; min-height:44px; }
.notice { padding:.75rem 1rem; border-radius:.5rem; margin-bottom:1rem; }
.notice-ok { background:#dcfce7; color:#14532d; } .notice-error { background:#fee2e2; color:#7f1d1d; }
.hint { color:#4b5563; font-size:.925rem; margin:.25rem 0 .5rem; }
.asker { background:#e0e7ff; color:#1e1b4b; padding:.75rem 1rem; border-radius:.5rem; margin:0 0 .5rem; }
.total { font-size:1.05rem; margin:.25rem 0 .75rem; }
.followers { margin:0; color:#374151; }
.notice p.notice-text { margin:0 0 .5rem; } .notice p.notice-text:only-child { margin:0; }
.help { color:#374151; margin-top:1.5rem; }
.back { margin:0 0 .5rem; } .back a { color:#1d4ed8; font-weight:600; }
.back a:focus-visible { outline:3px solid #111827; outline-offset:2px; }
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

/// `12,345`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

fn derived_status(cx: &PageContext<'_>, link: Option<&link::Model>) -> LinkStatus {
    derive(
        &LinkState {
            stored: link.map_or(LinkStatus::NotLinked, |l| l.status),
            invalid_reason: link.and_then(|l| l.invalid_reason),
            authenticated_at: link.and_then(|l| l.authenticated_at),
            expires_at: link.and_then(|l| l.expires_at),
        },
        cx.now,
        cx.window,
    )
    .status
}

/// The whole page.
pub fn render(
    cx: &PageContext<'_>,
    profile: &creator_profile::Model,
    accounts: &[(social_account::Model, Option<link::Model>)],
) -> Markup {
    let linked: Vec<&social_account::Model> = accounts
        .iter()
        .filter(|(_, l)| {
            matches!(
                derived_status(cx, l.as_ref()),
                LinkStatus::Linked | LinkStatus::ExpiringSoon
            )
        })
        .map(|(a, _)| a)
        .collect();
    // A hidden count (the creator hides it on the platform) is not added in.
    let followers: i64 = linked
        .iter()
        .filter(|a| !a.followers_hidden)
        .filter_map(|a| a.followers)
        .sum();
    let org = cx.org_name;
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
                    p.asker #asker {
                        strong { (org) } " asks you to connect your social accounts to your creator profile, read-only, so they can see your posts' real metrics."
                    }
                    @if let Some((href, host)) = &cx.back {
                        p.back { a #back href=(href) { "Back to " (host) } }
                    }
                    h1 { "Connect your accounts for " (profile.name) }
                    @if let Some(notice) = &cx.notice {
                        div #notice tabindex="-1"
                            class=(if notice.ok { "notice notice-ok" } else { "notice notice-error" })
                            role=(if notice.ok { "status" } else { "alert" }) {
                            p.notice-text { (notice.text) }
                            @if let Some((href, label, aria)) = &notice.action {
                                a.button.primary href=(href) aria-label=(aria) { (label) }
                            }
                        }
                    }
                    section.card aria-labelledby="promises-title" {
                        h2 #promises-title { "How connecting works" }
                        ul.promises {
                            li { strong { "Read-only." } " We only read your public profile, your posts and stories and their metrics, and your audience statistics. We can never post, comment, like, follow or read your messages." }
                            li { strong { "We never see your password." } " You log in on the platform's own page (Facebook, TikTok or Google), and it gives us a secure token for the permissions you choose." }
                            li { strong { "90 days." } " Each connection lasts 90 days; then we ask you to reconnect. The date is shown next to each account." }
                            li { strong { "You can revoke access at any time," } " here with UNLINK or in the platform's own settings. Your account itself is not affected." }
                        }
                    }
                    h2 #accounts-title { "Your social accounts" }
                    p.total #total-followers {
                        "Total followers of linked accounts: " strong { (thousands(followers)) }
                        " (" (linked.len()) " of " (accounts.len()) " accounts linked)"
                    }
                    @if accounts.is_empty() {
                        p { "No accounts yet. Connect one below." }
                    } @else {
                        ul.accounts aria-labelledby="accounts-title" {
                            @for (account, link) in accounts {
                                (account_item(cx, account, link.as_ref()))
                            }
                        }
                    }
                    h2 #connect-title { @if accounts.is_empty() { "Connect an account" } @else { "+ Add another account" } }
                    section.card aria-labelledby="connect-title" {
                        p.hint { strong { "Connect" } " adds an account and authenticates it, so we can read its data. You can connect several accounts of each platform." }
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
                    h2 #add-title { "Add account by its link" }
                    section.card #add aria-labelledby="add-title" {
                        (add_form(cx))
                    }
                    p.help { "Questions? " (org) " sent you this link and can help." }
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
        (LinkStatus::Invalid, Some(a), _) => format!(
            "{} Last authenticated on {}.",
            reason_text(derived.invalid_reason),
            day(a)
        ),
        (LinkStatus::Invalid, _, _) => reason_text(derived.invalid_reason).to_owned(),
        _ => "Not connected yet: connect it so we can read its data.".to_owned(),
    };
    let global_id = crate::graphql::ids::encode_named("SocialAccount", account.id);
    let provider = account.platform.provider();
    // A Facebook Page is known by its name (its "handle" is a number); others by their handle.
    let who = match (account.platform, account.display_name.as_deref()) {
        (Platform::Facebook, Some(name)) if !name.trim().is_empty() => name.to_owned(),
        _ => format!("@{}", account.handle),
    };
    let kind = match account.platform {
        Platform::Facebook => "Facebook Page",
        other => platform_name(other),
    };
    html! {
        li.account data-platform=(account.platform.as_str()) data-status=(derived.status.as_str()) {
            div.account-head {
                span.who { (who) " " span.platform { "on " (kind) } }
                span class=(class) title=(dates) data-status=(derived.status.as_str()) { (label) }
            }
            @if account.followers_hidden {
                p.followers { "Follower count hidden on " (platform_name(account.platform)) }
            } @else if let Some(n) = account.followers {
                p.followers { (thousands(n)) " followers" }
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
        form.add method="post" action={ "/connect/" (cx.token) "/accounts#add" } {
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
            p.hint #add-hint { "For example https://www.tiktok.com/@yourname or https://www.youtube.com/@yourchannel. Adding is not authenticating: it shows the account on your profile; press CONNECT on it afterwards so we can read its data." }
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
