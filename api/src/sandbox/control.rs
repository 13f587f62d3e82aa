//! `/sandbox/control`: the switches tests flip, and the shared gate every fake endpoint passes
//! (call log, injected faults and delays).

use actix_web::{web, HttpResponse};
use chrono::Duration;
use domain::Provider;
use serde::Deserialize;
use serde_json::{json, Value};

use super::state::{Dead, Fault, Hold, Published, PublishedKind, Sandbox, Slow, TokenUse};
use super::users::{self, FakeUser};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/control")
            .route("/clock", web::post().to(clock))
            .route("/clock", web::get().to(clock_get))
            .route("/users/{key}/revoke", web::post().to(revoke_user))
            .route("/users/{key}/password", web::post().to(change_password))
            .route("/users/{key}/media", web::post().to(publish))
            .route("/users/{key}/grants", web::post().to(grants))
            .route("/faults", web::post().to(add_fault))
            .route("/slow", web::post().to(add_slow))
            .route("/hold", web::post().to(hold))
            .route("/hold", web::get().to(held))
            .route("/release", web::post().to(release))
            .route("/calls", web::get().to(calls)),
    );
}

/// `{"advance_seconds": N}` moves the clock forward; `{"freeze_at": "<RFC 3339>"}` stops it on
/// that exact instant (tests of boundaries), where it stays until moved again.
#[derive(Deserialize)]
struct Advance {
    advance_seconds: Option<i64>,
    freeze_at: Option<chrono::DateTime<chrono::Utc>>,
}

async fn clock(sandbox: web::Data<Sandbox>, body: web::Json<Advance>) -> HttpResponse {
    match (body.advance_seconds, body.freeze_at) {
        (Some(seconds), None) if seconds >= 0 => sandbox.advance(Duration::seconds(seconds)),
        (None, Some(at)) if at >= sandbox.now() => {
            sandbox.freeze_at(at);
        }
        (Some(_), Some(_)) | (None, None) => {
            return HttpResponse::BadRequest()
                .json(json!({"error": "give advance_seconds or freeze_at"}))
        }
        _ => return HttpResponse::BadRequest().json(json!({"error": "time only moves forward"})),
    }
    clock_get(sandbox).await
}

async fn clock_get(sandbox: web::Data<Sandbox>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "now": sandbox.now(),
        "offset_seconds": sandbox.clock_offset().num_seconds(),
    }))
}

fn known(key: &str) -> Option<&'static str> {
    users::all()
        .into_iter()
        .find(|u| u.key == key)
        .map(|u| u.key)
}

/// The user removes the app on the platform: every token issued so far dies.
async fn revoke_user(sandbox: web::Data<Sandbox>, key: web::Path<String>) -> HttpResponse {
    let Some(user) = known(&key) else {
        return HttpResponse::NotFound().json(json!({"error": "no such sandbox user"}));
    };
    sandbox.kill_user(user, Dead::Revoked);
    HttpResponse::Ok().json(json!({"revoked": user}))
}

/// `{"kind", "caption", "instagram_id"?, "title"?}`: content to publish. Instagram takes
/// `post`, `reel` and `story` (on the first of the user's Instagram accounts unless
/// `instagram_id` says which); TikTok and YouTube take `video` (YouTube with an optional title).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Publish {
    kind: PublishedKind,
    /// The Instagram caption, TikTok description or YouTube description.
    caption: String,
    instagram_id: Option<String>,
    title: Option<String>,
}

/// Instagram's and TikTok's caption limit.
const MAX_CAPTION_CHARS: usize = 2_200;
/// YouTube's limits on a title and a description.
const MAX_TITLE_CHARS: usize = 100;
const MAX_DESCRIPTION_CHARS: usize = 5_000;

fn bad_request(message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": message }))
}

/// The user publishes content now (sandbox time): the fake platform lists it from then on (an
/// Instagram story for 24 hours), with metrics that grow with its age. Answers its id and
/// permalink.
async fn publish(
    sandbox: web::Data<Sandbox>,
    key: web::Path<String>,
    body: web::Json<Publish>,
) -> HttpResponse {
    let Some(user) = users::find(&key) else {
        return HttpResponse::NotFound().json(json!({"error": "no such sandbox user"}));
    };
    let body = body.into_inner();
    let limit = match user.provider {
        Provider::Google => MAX_DESCRIPTION_CHARS,
        Provider::Meta | Provider::Tiktok => MAX_CAPTION_CHARS,
    };
    if body.caption.chars().count() > limit {
        return bad_request(&format!("a caption has at most {limit} characters"));
    }
    if body.title.is_some() && user.provider != Provider::Google {
        return bad_request("only YouTube videos have a title");
    }
    if body.instagram_id.is_some() && user.provider != Provider::Meta {
        return bad_request("instagram_id is for Meta users");
    }
    let published = match user.provider {
        Provider::Meta => publish_instagram(&sandbox, &user, body),
        Provider::Tiktok => publish_tiktok(&sandbox, &user, body),
        Provider::Google => publish_youtube(&sandbox, &user, body),
    };
    match published {
        Ok((published, permalink)) => HttpResponse::Created().json(json!({
            "id": published.id,
            "kind": published.kind,
            "caption": published.caption,
            "title": published.title,
            "timestamp": published.at,
            "permalink": permalink,
        })),
        Err(reply) => reply,
    }
}

type PublishResult = Result<(Published, String), HttpResponse>;

/// Ids follow the clock-derived ones (`{ig}_p{unix}` / `{ig}_s{unix}`) but never land on their
/// instants (a post every two days, a story every eight hours).
fn publish_instagram(sandbox: &Sandbox, user: &FakeUser, body: Publish) -> PublishResult {
    let Some(ig) = user
        .pages
        .iter()
        .filter_map(|p| p.instagram.as_ref())
        .find(|ig| body.instagram_id.as_deref().is_none_or(|id| id == ig.id))
    else {
        return Err(bad_request(
            "this sandbox user has no such Instagram professional account (only Meta users with a Page's Instagram account can publish)",
        ));
    };
    let (prefix, step) = match body.kind {
        PublishedKind::Story => ('s', 8 * 3600),
        PublishedKind::Post | PublishedKind::Reel => ('p', 2 * 86_400),
        PublishedKind::Video => {
            return Err(bad_request("Instagram publishes a post, a reel or a story"))
        }
    };
    let id = ig.id;
    let published = sandbox.publish(id, body.kind, body.caption, None, |unix| {
        (unix % step != 0).then(|| format!("{id}_{prefix}{unix}"))
    });
    let permalink = match published.kind {
        PublishedKind::Story => format!(
            "https://www.instagram.com/stories/{}/{}/",
            ig.username, published.id
        ),
        // As the fake Graph API lists them (Instagram answers `/p/…` for reels too).
        _ => format!("https://www.instagram.com/p/{}/", published.id),
    };
    Ok((published, permalink))
}

/// Numeric ids `73055{unix}`, beside the clock-derived `73054{unix}`.
fn publish_tiktok(sandbox: &Sandbox, user: &FakeUser, body: Publish) -> PublishResult {
    let Some((handle, _, _)) = user.tiktok else {
        return Err(bad_request("this sandbox user has no TikTok account"));
    };
    if body.kind != PublishedKind::Video {
        return Err(bad_request("TikTok publishes a video"));
    }
    let published = sandbox.publish(user.user_id, body.kind, body.caption, None, |unix| {
        Some(format!("73055{unix}"))
    });
    let permalink = format!("https://www.tiktok.com/@{handle}/video/{}", published.id);
    Ok((published, permalink))
}

/// Eleven-character ids `s{unix}`, as YouTube's are (the clock-derived ones are longer).
fn publish_youtube(sandbox: &Sandbox, user: &FakeUser, body: Publish) -> PublishResult {
    let Some(channel) = user.channel.as_ref() else {
        return Err(bad_request(
            "this sandbox user has no YouTube channel to publish on",
        ));
    };
    if body.kind != PublishedKind::Video {
        return Err(bad_request("YouTube publishes a video"));
    }
    if let Some(title) = &body.title {
        if title.trim().is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(bad_request("a title has 1 to 100 characters"));
        }
    }
    let title = body
        .title
        .unwrap_or_else(|| format!("Sandbox video {}", sandbox.now().format("%d %b %H:%M")));
    let published = sandbox.publish(channel.id, body.kind, body.caption, Some(title), |unix| {
        Some(format!("s{unix}"))
    });
    let permalink = format!("https://www.youtube.com/watch?v={}", published.id);
    Ok((published, permalink))
}

/// `{"count": N}`: N grants to issue at once.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Grants {
    count: usize,
}

/// Most grants one call issues.
const MAX_GRANTS: usize = 10_000;

/// Issues `count` token sets for the user at once, each as the provider's token endpoint answers
/// a consent with every scope creatorlink asks for (Meta: a long-lived token; TikTok: access and
/// rotating refresh token; Google: access and refresh token). For seeding many links of one fake
/// user (refresh tests and `creatorlink bench refresh`); the tokens carry the run's marker like
/// every sandbox token.
async fn grants(
    sandbox: web::Data<Sandbox>,
    key: web::Path<String>,
    body: web::Json<Grants>,
) -> HttpResponse {
    let Some(user) = users::find(&key) else {
        return HttpResponse::NotFound().json(json!({"error": "no such sandbox user"}));
    };
    if !(1..=MAX_GRANTS).contains(&body.count) {
        return bad_request(&format!("count is 1 to {MAX_GRANTS}"));
    }
    let (scopes, access_ttl, refresh_ttl): (&[&str], i64, Option<Option<i64>>) = match user.provider
    {
        Provider::Meta => (
            domain::platforms::meta::REQUESTED,
            super::meta::LONG_LIVED,
            None,
        ),
        Provider::Tiktok => (
            domain::platforms::tiktok::REQUESTED,
            super::tiktok::ACCESS_TTL,
            Some(Some(super::tiktok::REFRESH_TTL)),
        ),
        Provider::Google => (
            domain::platforms::youtube::REQUESTED,
            super::google::ACCESS_TTL,
            Some(None),
        ),
    };
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let issued: Vec<_> = (0..body.count)
        .map(|_| {
            let (access, expires_in) = sandbox.issue_token(
                user.key,
                user.provider,
                TokenUse::Access,
                &scopes,
                Some(access_ttl),
            );
            let mut grant = json!({ "access_token": access, "expires_in": expires_in });
            if let Some(ttl) = refresh_ttl {
                let (refresh, refresh_expires_in) =
                    sandbox.issue_token(user.key, user.provider, TokenUse::Refresh, &scopes, ttl);
                grant["refresh_token"] = json!(refresh);
                grant["refresh_expires_in"] = json!(refresh_expires_in);
            }
            grant
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "user_id": user.user_id,
        "scopes": scopes,
        "grants": issued,
    }))
}

/// The user changes their password: Meta answers 190/460, the others `invalid_grant`.
async fn change_password(sandbox: web::Data<Sandbox>, key: web::Path<String>) -> HttpResponse {
    let Some(user) = known(&key) else {
        return HttpResponse::NotFound().json(json!({"error": "no such sandbox user"}));
    };
    sandbox.kill_user(user, Dead::PasswordChanged);
    HttpResponse::Ok().json(json!({"password_changed": user}))
}

async fn add_fault(sandbox: web::Data<Sandbox>, body: web::Json<Fault>) -> HttpResponse {
    let ok = if body.malformed {
        body.status == 200 && body.body.is_none()
    } else if body.body.is_some() {
        (200..600).contains(&body.status)
    } else {
        body.status == 429 || (500..600).contains(&body.status)
    };
    if !ok {
        return bad_request(
            "status must be 429 or 5xx (200 with malformed; any of 200-599 with a body)",
        );
    }
    sandbox.add_fault(body.into_inner());
    HttpResponse::Ok().json(json!({"ok": true}))
}

async fn add_slow(sandbox: web::Data<Sandbox>, body: web::Json<Slow>) -> HttpResponse {
    sandbox.add_slow(body.into_inner());
    HttpResponse::Ok().json(json!({"ok": true}))
}

/// From now on, calls to the provider (whose path contains `path_contains`) wait before the fake
/// platform sees them, until `POST /sandbox/control/release`.
async fn hold(sandbox: web::Data<Sandbox>, body: web::Json<Hold>) -> HttpResponse {
    sandbox.set_hold(body.into_inner());
    HttpResponse::Ok().json(json!({"ok": true}))
}

/// `{"held": N}`: calls waiting on the hold now.
async fn held(sandbox: web::Data<Sandbox>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"held": sandbox.held()}))
}

/// Lifts the hold: the waiting calls are answered 503 without reaching the fake platform, as
/// requests lost on the way (their callers may be gone).
async fn release(sandbox: web::Data<Sandbox>) -> HttpResponse {
    sandbox.release();
    HttpResponse::Ok().json(json!({"ok": true}))
}

#[derive(Deserialize)]
struct CallFilter {
    provider: Option<Provider>,
    user: Option<String>,
    endpoint: Option<String>,
}

/// The call log, filtered by `provider`, `user` and `endpoint` when given.
async fn calls(sandbox: web::Data<Sandbox>, filter: web::Query<CallFilter>) -> HttpResponse {
    let calls: Vec<_> = sandbox
        .calls()
        .into_iter()
        .filter(|c| filter.provider.is_none_or(|p| p == c.provider))
        .filter(|c| {
            filter
                .user
                .as_deref()
                .is_none_or(|u| c.user.as_deref() == Some(u))
        })
        .filter(|c| filter.endpoint.as_deref().is_none_or(|e| e == c.endpoint))
        .collect();
    HttpResponse::Ok().json(json!({ "calls": calls }))
}

/// Passes a call through the injected delays and faults. `Some` is the reply to send instead.
pub async fn gate(
    sandbox: &Sandbox,
    provider: Provider,
    endpoint: &str,
    path: &str,
) -> Option<HttpResponse> {
    if sandbox.hold_call(provider, path) {
        // Polling keeps this simple: the sandbox is a test double, and a held call is rare.
        while sandbox.still_held() {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        sandbox.log_call(provider, endpoint, None, 503);
        return Some(
            HttpResponse::ServiceUnavailable()
                .json(json!({"error": "the sandbox held this call and let it go unanswered"})),
        );
    }
    let (fault, delay) = sandbox.begin_call(provider, endpoint, path);
    if let Some(delay) = delay {
        actix_web::rt::time::sleep(delay).await;
    }
    let fault = fault?;
    sandbox.log_call(provider, endpoint, None, fault.status);
    if fault.malformed {
        return Some(
            HttpResponse::Ok()
                .content_type("application/json")
                .body(r#"{"access_token": "sandbox_cut_off_"#),
        );
    }
    let status = actix_web::http::StatusCode::from_u16(fault.status)
        .unwrap_or(actix_web::http::StatusCode::SERVICE_UNAVAILABLE);
    let mut reply = HttpResponse::build(status);
    if let Some(after) = fault.retry_after_seconds {
        reply.insert_header(("Retry-After", after.to_string()));
    }
    match fault.body {
        Some(Value::String(page)) => return Some(reply.content_type("text/html").body(page)),
        Some(body) => return Some(reply.json(body)),
        None => {}
    }
    let limited = fault.status == 429;
    let body = match (provider, limited) {
        (Provider::Meta, true) => json!({"error": {"message": "Application request limit reached",
            "type": "OAuthException", "code": 4, "is_transient": true, "fbtrace_id": "SandboxTrace1"}}),
        (Provider::Meta, false) => {
            json!({"error": {"message": "An unexpected error has occurred. Please retry your request later.",
            "type": "OAuthException", "code": 2, "is_transient": true, "fbtrace_id": "SandboxTrace2"}})
        }
        (Provider::Tiktok, true) => json!({"data": {}, "error": {"code": "rate_limit_exceeded",
            "message": "API rate limit was exceeded, please try again later.", "log_id": "sandbox"}}),
        (Provider::Tiktok, false) => json!({"data": {}, "error": {"code": "internal_error",
            "message": "Something went wrong. Please try again later.", "log_id": "sandbox"}}),
        (Provider::Google, true) => {
            json!({"error": {"code": 429, "message": "Resource has been exhausted.",
            "errors": [{"message": "Rate Limit Exceeded", "domain": "usageLimits", "reason": "rateLimitExceeded"}],
            "status": "RESOURCE_EXHAUSTED"}})
        }
        (Provider::Google, false) => {
            json!({"error": {"code": fault.status, "message": "Backend Error",
            "errors": [{"message": "Backend Error", "domain": "global", "reason": "backendError"}],
            "status": "UNAVAILABLE"}})
        }
    };
    Some(reply.json(body))
}
