//! Fake Meta: Facebook Login dialog, Graph token endpoints, `/debug_token`, `/me/accounts`,
//! Instagram users, media, stories and insights, and `DELETE /me/permissions`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use domain::secret::Secret;
use domain::Provider;
use serde_json::{json, Value};

use super::consent;
use super::control::gate;
use super::state::{Dead, PublishedKind, Sandbox, SandboxApp, TokenUse};
use super::users::{self, FakeInstagram, FakeUser};

/// Meta's long-lived user token lifetime (~60 days).
pub(super) const LONG_LIVED: i64 = 5_183_944;
/// A short-lived user token (from the code exchange).
const SHORT_LIVED: i64 = 3_600;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{ver}/dialog/oauth", web::get().to(dialog))
        .route("/{ver}/oauth/access_token", web::get().to(access_token))
        .route("/{ver}/debug_token", web::get().to(debug_token))
        .route("/{ver}/me/accounts", web::get().to(accounts))
        .route("/{ver}/me/permissions", web::delete().to(revoke))
        .route("/{ver}/{id}", web::get().to(object))
        .route("/{ver}/{id}/{edge}", web::get().to(edge));
}

type Params = web::Query<Vec<(String, String)>>;

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn graph_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> HttpResponse {
    let mut error = json!({"message": message, "type": "OAuthException", "code": code,
        "fbtrace_id": "SandboxTrace"});
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({ "error": error }))
}

fn dead_token(why: Dead) -> HttpResponse {
    match why {
        Dead::Revoked => graph_error(400, 190, Some(458),
            "Error validating access token: The user has not authorized application sandbox-meta-app."),
        Dead::PasswordChanged => graph_error(400, 190, Some(460),
            "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."),
        Dead::Expired => graph_error(400, 190, Some(463), "Error validating access token: Session has expired."),
        Dead::Unknown => graph_error(400, 190, None, "Invalid OAuth access token - Cannot parse access token"),
    }
}

async fn dialog(sandbox: web::Data<Sandbox>, params: Params) -> HttpResponse {
    consent::authorize(&sandbox, Provider::Meta, &params)
}

/// The user behind the request's `access_token`, or the Graph error to answer.
fn user_of(
    sandbox: &Sandbox,
    params: &[(String, String)],
    endpoint: &str,
) -> Result<(FakeUser, Vec<String>), HttpResponse> {
    let token = get(params, "access_token").unwrap_or_default();
    match sandbox.check(Provider::Meta, TokenUse::Access, token) {
        Ok(t) => {
            let user = users::find(t.user).ok_or_else(|| dead_token(Dead::Unknown))?;
            sandbox.log_call(Provider::Meta, endpoint, Some(user.key), 200);
            Ok((user, t.scopes))
        }
        Err(why) => {
            sandbox.log_call(Provider::Meta, endpoint, None, 400);
            Err(dead_token(why))
        }
    }
}

fn has(scopes: &[String], scope: &str) -> bool {
    scopes.iter().any(|s| s == scope)
}

async fn access_token(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    params: Params,
) -> HttpResponse {
    let grant_type = get(&params, "grant_type").unwrap_or("authorization_code");
    let endpoint = format!("token:{grant_type}");
    if let Some(reply) = gate(&sandbox, Provider::Meta, &endpoint, req.path()).await {
        return reply;
    }
    let (client_id, secret) = SandboxApp::credentials(Provider::Meta);
    if get(&params, "client_id") != Some(client_id) || get(&params, "client_secret") != Some(secret)
    {
        sandbox.log_call(Provider::Meta, &endpoint, None, 400);
        return graph_error(400, 1, None, "Error validating client secret.");
    }
    if grant_type == "fb_exchange_token" {
        let token = get(&params, "fb_exchange_token").unwrap_or_default();
        return match sandbox.check(Provider::Meta, TokenUse::Access, token) {
            Ok(t) => {
                let (long, ttl) = sandbox.issue_token(
                    t.user,
                    Provider::Meta,
                    TokenUse::Access,
                    &t.scopes,
                    Some(LONG_LIVED),
                );
                sandbox.log_call(Provider::Meta, &endpoint, Some(t.user), 200);
                HttpResponse::Ok()
                    .json(json!({"access_token": long, "token_type": "bearer", "expires_in": ttl}))
            }
            Err(why) => {
                sandbox.log_call(Provider::Meta, &endpoint, None, 400);
                dead_token(why)
            }
        };
    }
    let code = get(&params, "code").unwrap_or_default();
    let Some(grant) = sandbox.take_code(Provider::Meta, code) else {
        sandbox.log_call(Provider::Meta, &endpoint, None, 400);
        return graph_error(
            400,
            100,
            Some(36009),
            "This authorization code has been used or has expired.",
        );
    };
    if get(&params, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
        sandbox.log_call(Provider::Meta, &endpoint, Some(grant.user), 400);
        return graph_error(400, 100, Some(36008),
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request");
    }
    // Like the real dialog: a code asked for with a PKCE challenge is exchanged only with the
    // verifier of that challenge, so a code cannot be replayed into another login's flow.
    if let Some(challenge) = &grant.code_challenge {
        let verifier = get(&params, "code_verifier").unwrap_or_default();
        if domain::platforms::pkce_challenge_for(&Secret::new(verifier)) != *challenge {
            sandbox.log_call(Provider::Meta, &endpoint, Some(grant.user), 400);
            return graph_error(400, 100, None, "Invalid code verifier.");
        }
    }
    let (token, ttl) = sandbox.issue_token(
        grant.user,
        Provider::Meta,
        TokenUse::Access,
        &grant.scopes,
        Some(SHORT_LIVED),
    );
    sandbox.log_call(Provider::Meta, &endpoint, Some(grant.user), 200);
    HttpResponse::Ok()
        .json(json!({"access_token": token, "token_type": "bearer", "expires_in": ttl}))
}

async fn debug_token(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    params: Params,
) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Meta, "debug_token", req.path()).await {
        return reply;
    }
    let (client_id, secret) = SandboxApp::credentials(Provider::Meta);
    if get(&params, "access_token") != Some(format!("{client_id}|{secret}").as_str()) {
        sandbox.log_call(Provider::Meta, "debug_token", None, 400);
        return graph_error(400, 190, None, "Invalid OAuth access token signature.");
    }
    let input = get(&params, "input_token").unwrap_or_default();
    let (data, user) = match sandbox.check(Provider::Meta, TokenUse::Access, input) {
        Ok(t) => {
            let user = users::find(t.user);
            let data = json!({
                "app_id": client_id, "type": "USER", "application": "creatorlink sandbox",
                "data_access_expires_at": (t.issued_at + Duration::days(90)).timestamp(),
                "expires_at": t.expires_at.map(|e| e.timestamp()).unwrap_or(0),
                "is_valid": true, "issued_at": t.issued_at.timestamp(),
                "scopes": t.scopes,
                "user_id": user.as_ref().map(|u| u.user_id),
            });
            (data, Some(t.user))
        }
        Err(_) => (
            json!({"app_id": client_id, "type": "USER", "is_valid": false,
                "error": {"code": 190, "message": "The access token is invalid."}, "scopes": []}),
            None,
        ),
    };
    sandbox.log_call(Provider::Meta, "debug_token", user, 200);
    HttpResponse::Ok().json(json!({ "data": data }))
}

async fn accounts(sandbox: web::Data<Sandbox>, req: HttpRequest, params: Params) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Meta, "accounts", req.path()).await {
        return reply;
    }
    let (user, scopes) = match user_of(&sandbox, &params, "accounts") {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    if !has(&scopes, "pages_show_list") {
        return graph_error(
            403,
            10,
            None,
            "(#10) Application does not have permission for this action",
        );
    }
    let data: Vec<Value> = user
        .pages
        .iter()
        .map(|p| {
            let mut page = json!({"id": p.id, "name": p.name, "category": "Creator",
                // A Page token is derived from the user's grant; the sandbox hands out a marker
                // string that is never accepted as a user token.
                "access_token": format!("{}_page_{}", sandbox_marker_of(get(&params, "access_token")), p.id)});
            if let Some(ig) = &p.instagram {
                page["instagram_business_account"] = json!({"id": ig.id, "username": ig.username});
            }
            page
        })
        .collect();
    HttpResponse::Ok().json(
        json!({"data": data, "paging": {"cursors": {"before": "QVFIUjZA", "after": "QVFIUmxA"}}}),
    )
}

/// The marker prefix of a sandbox token (everything before its first `_`).
fn sandbox_marker_of(token: Option<&str>) -> &str {
    token.and_then(|t| t.split('_').next()).unwrap_or("sandbox")
}

async fn revoke(sandbox: web::Data<Sandbox>, req: HttpRequest, params: Params) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Meta, "revoke", req.path()).await {
        return reply;
    }
    let (user, _) = match user_of(&sandbox, &params, "revoke") {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    sandbox.kill_user(user.key, Dead::Revoked);
    HttpResponse::Ok().json(json!({"success": true}))
}

/// The Instagram account `id` if `user` reaches it.
fn instagram<'a>(user: &'a FakeUser, id: &str) -> Option<&'a FakeInstagram> {
    user.pages
        .iter()
        .filter_map(|p| p.instagram.as_ref())
        .find(|ig| ig.id == id)
}

/// Followers grow by a few a day of sandbox time, so metrics move when the clock does.
fn followers(ig: &FakeInstagram, now: DateTime<Utc>) -> i64 {
    ig.followers + (now.timestamp() / 86_400 - 20_400).max(0) * 7
}

/// Posts every two days, stories every eight hours (each lives 24 hours), derived from the clock
/// so that ids are stable between polls and stories disappear as sandbox time passes.
fn posts(ig: &FakeInstagram, now: DateTime<Utc>) -> Vec<(String, DateTime<Utc>, bool)> {
    let step = Duration::days(2);
    let last = now.duration_trunc(step).unwrap_or(now);
    (0..8)
        .map(|i| last - step * i)
        .map(|at| (format!("{}_p{}", ig.id, at.timestamp()), at, i_is_reel(at)))
        .collect()
}

fn i_is_reel(at: DateTime<Utc>) -> bool {
    (at.timestamp() / 172_800) % 2 == 0
}

fn stories(ig: &FakeInstagram, now: DateTime<Utc>) -> Vec<(String, DateTime<Utc>)> {
    let step = Duration::hours(8);
    let last = now.duration_trunc(step).unwrap_or(now);
    (0..3)
        .map(|i| last - step * i)
        .filter(|at| now - *at < Duration::hours(24))
        .map(|at| (format!("{}_s{}", ig.id, at.timestamp()), at))
        .collect()
}

fn ts(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

async fn object(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: Params,
) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Meta, "profile", req.path()).await {
        return reply;
    }
    let (user, scopes) = match user_of(&sandbox, &params, "profile") {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let id = &path.1;
    let Some(ig) = instagram(&user, id) else {
        return graph_error(400, 100, Some(33),
            "Unsupported get request. Object does not exist, cannot be loaded due to missing permissions, or does not support this operation.");
    };
    if !has(&scopes, "instagram_basic") {
        return graph_error(
            403,
            10,
            None,
            "(#10) Application does not have permission for this action",
        );
    }
    let now = sandbox.now();
    HttpResponse::Ok().json(json!({
        "id": ig.id, "username": ig.username, "name": ig.name,
        "biography": "Sandbox creator.", "followers_count": followers(ig, now),
        "follows_count": 312, "media_count": 120,
        "profile_picture_url": format!("https://sandbox.invalid/{}.jpg", ig.username),
        "website": "https://sandbox.invalid",
    }))
}

async fn edge(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    params: Params,
) -> HttpResponse {
    let (_, id, edge) = path.into_inner();
    let endpoint = match edge.as_str() {
        "media" => "media",
        "stories" => "stories",
        "insights" if id.contains('_') => "media_insights",
        "insights" => "insights",
        _ => "unknown",
    };
    if let Some(reply) = gate(&sandbox, Provider::Meta, endpoint, req.path()).await {
        return reply;
    }
    let (user, scopes) = match user_of(&sandbox, &params, endpoint) {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let account_id = id.split('_').next().unwrap_or_default();
    let Some(ig) = instagram(&user, account_id) else {
        return graph_error(
            400,
            100,
            Some(33),
            "Unsupported get request. Object does not exist.",
        );
    };
    if !has(&scopes, "instagram_basic") {
        return graph_error(
            403,
            10,
            None,
            "(#10) Application does not have permission for this action",
        );
    }
    let now = sandbox.now();
    match endpoint {
        "media" => {
            let published = sandbox
                .published(ig.id)
                .into_iter()
                .filter(|p| p.kind != PublishedKind::Story)
                .map(|p| (p.id, p.at, p.kind == PublishedKind::Reel, Some(p.caption)));
            let generated = posts(ig, now)
                .into_iter()
                .map(|(mid, at, reel)| (mid, at, reel, None));
            let mut all: Vec<_> = published.chain(generated).collect();
            all.sort_by_key(|item| std::cmp::Reverse(item.1));
            let data: Vec<Value> = all
                .into_iter()
                .map(|(mid, at, reel, caption)| {
                    let age_h = (now - at).num_hours().max(0);
                    let caption = caption
                        .unwrap_or_else(|| format!("Sandbox post of {}", at.format("%d %b")));
                    json!({"id": mid, "caption": caption,
                        "media_type": if reel { "VIDEO" } else { "IMAGE" },
                        "media_product_type": if reel { "REELS" } else { "FEED" },
                        "permalink": format!("https://www.instagram.com/p/{mid}/"),
                        "timestamp": ts(at), "like_count": 40 + age_h.min(240) * 9,
                        "comments_count": 2 + age_h.min(240) / 6})
                })
                .collect();
            HttpResponse::Ok().json(json!({"data": data, "paging": {"cursors": {"before": "QVFIUkJA", "after": "QVFIUkNA"}}}))
        }
        "stories" => {
            let published = sandbox
                .published(ig.id)
                .into_iter()
                .filter(|p| p.kind == PublishedKind::Story && now - p.at < Duration::hours(24))
                .map(|p| (p.id, p.at, Some(p.caption)));
            let generated = stories(ig, now)
                .into_iter()
                .map(|(sid, at)| (sid, at, None));
            let mut all: Vec<_> = published.chain(generated).collect();
            all.sort_by_key(|item| std::cmp::Reverse(item.1));
            let data: Vec<Value> = all
                .into_iter()
                .map(|(sid, at, caption)| {
                    let mut story = json!({"id": sid, "media_type": "IMAGE", "media_product_type": "STORY",
                        "media_url": format!("https://sandbox.invalid/{sid}.jpg"),
                        "permalink": format!("https://www.instagram.com/stories/{}/{sid}/", ig.username),
                        "timestamp": ts(at)});
                    if let Some(caption) = caption {
                        story["caption"] = json!(caption);
                    }
                    story
                })
                .collect();
            HttpResponse::Ok().json(json!({ "data": data }))
        }
        "media_insights" => {
            if !has(&scopes, "instagram_manage_insights") {
                return graph_error(
                    403,
                    10,
                    None,
                    "(#10) Application does not have permission for this action",
                );
            }
            let at = id
                .split('_')
                .nth(1)
                .and_then(|p| p.trim_start_matches(['p', 's']).parse::<i64>().ok())
                .and_then(|t| DateTime::from_timestamp(t, 0))
                .unwrap_or(now);
            let age_h = (now - at).num_hours().clamp(0, 240);
            let metric = |name: &str, value: i64| {
                json!({"name": name, "period": "lifetime",
                "values": [{"value": value}], "title": name, "id": format!("{id}/insights/{name}/lifetime")})
            };
            let data = vec![
                metric("reach", 300 + age_h * 40),
                metric("views", 420 + age_h * 55),
                metric("likes", 40 + age_h * 9),
                metric("comments", 2 + age_h / 6),
                metric("shares", age_h / 3),
                metric("saved", age_h / 4),
                metric("replies", age_h / 8),
                metric("total_interactions", 45 + age_h * 10),
            ];
            HttpResponse::Ok().json(json!({ "data": data }))
        }
        "insights" => {
            if !has(&scopes, "instagram_manage_insights") {
                return graph_error(
                    403,
                    10,
                    None,
                    "(#10) Application does not have permission for this action",
                );
            }
            account_insights(ig, &params, now)
        }
        _ => graph_error(400, 100, None, "Unknown edge."),
    }
}

fn account_insights(
    ig: &FakeInstagram,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> HttpResponse {
    let metric = get(params, "metric").unwrap_or_default();
    if metric == "follower_demographics" {
        let breakdown = get(params, "breakdown").unwrap_or("age");
        let results: Vec<Value> = match breakdown {
            "gender" => vec![("F", 58), ("M", 39), ("U", 3)],
            "country" => vec![("US", 31), ("PT", 22), ("BR", 17), ("GB", 12), ("ES", 18)],
            _ => vec![("18-24", 27), ("25-34", 41), ("35-44", 20), ("45-54", 12)],
        }
        .into_iter()
        .map(|(k, share)| json!({"dimension_values": [k], "value": followers(ig, now) * share / 100}))
        .collect();
        return HttpResponse::Ok().json(json!({"data": [{"name": "follower_demographics",
            "period": "lifetime", "title": "Follower demographics",
            "total_value": {"breakdowns": [{"dimension_keys": [breakdown], "results": results}]},
            "id": format!("{}/insights/follower_demographics/lifetime", ig.id)}]}));
    }
    let since = get(params, "since")
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or(now);
    let day = since.date_naive();
    let seed = day.signed_duration_since(NaiveDate::MIN).num_days() % 97;
    if metric == "follower_count" {
        let until = get(params, "until")
            .and_then(|s| s.parse::<i64>().ok())
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .unwrap_or(now);
        let mut values = Vec::new();
        let mut d = since;
        while d < until {
            values.push(json!({"value": 5 + (d.timestamp() / 86_400) % 11,
                "end_time": ts(d + Duration::days(1))}));
            d += Duration::days(1);
        }
        return HttpResponse::Ok().json(
            json!({"data": [{"name": "follower_count", "period": "day", "values": values}]}),
        );
    }
    let data: Vec<Value> = metric
        .split(',')
        .map(|name| {
            let value = match name {
                "reach" => 2_000 + seed * 31,
                "views" => 3_500 + seed * 47,
                "accounts_engaged" => 150 + seed * 3,
                _ => 400 + seed * 9,
            };
            json!({"name": name, "period": "day", "title": name, "total_value": {"value": value},
                "id": format!("{}/insights/{name}/day", ig.id)})
        })
        .collect();
    HttpResponse::Ok().json(json!({ "data": data }))
}
