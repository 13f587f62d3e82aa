//! Fake TikTok: Login Kit authorize page, `/v2/oauth/token/` with rotating refresh tokens,
//! `/v2/oauth/revoke/`, `/v2/user/info/`, `/v2/video/list/` and `/v2/video/query/`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, DurationRound};
use domain::Provider;
use serde_json::{json, Value};

use super::consent;
use super::control::gate;
use super::state::{Dead, Sandbox, SandboxApp, TokenUse};
use super::users::{self, FakeUser};

pub(super) const ACCESS_TTL: i64 = 86_400;
pub(super) const REFRESH_TTL: i64 = 31_536_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v2/auth/authorize/", web::get().to(authorize))
        .route("/v2/oauth/token/", web::post().to(token))
        .route("/v2/oauth/revoke/", web::post().to(revoke))
        .route("/v2/user/info/", web::get().to(user_info))
        .route("/v2/video/list/", web::post().to(video_list))
        .route("/v2/video/query/", web::post().to(video_query));
}

type Form = web::Form<Vec<(String, String)>>;

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({"error": error, "error_description": description, "log_id": "sandbox"}))
}

fn api_error(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({"data": {}, "error": {"code": code, "message": message, "log_id": "sandbox"}}))
}

async fn authorize(
    sandbox: web::Data<Sandbox>,
    params: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    consent::authorize(&sandbox, Provider::Tiktok, &params)
}

fn client_ok(params: &[(String, String)]) -> bool {
    let (key, secret) = SandboxApp::credentials(Provider::Tiktok);
    get(params, "client_key") == Some(key) && get(params, "client_secret") == Some(secret)
}

fn token_reply(sandbox: &Sandbox, user: &'static str, scopes: &[String]) -> HttpResponse {
    let (access, access_ttl) = sandbox.issue_token(
        user,
        Provider::Tiktok,
        TokenUse::Access,
        scopes,
        Some(ACCESS_TTL),
    );
    let (refresh, refresh_ttl) = sandbox.issue_token(
        user,
        Provider::Tiktok,
        TokenUse::Refresh,
        scopes,
        Some(REFRESH_TTL),
    );
    let open_id = users::find(user).map(|u| u.user_id).unwrap_or_default();
    HttpResponse::Ok().json(json!({
        "access_token": access, "expires_in": access_ttl, "open_id": open_id,
        "refresh_expires_in": refresh_ttl, "refresh_token": refresh,
        "scope": scopes.join(","), "token_type": "Bearer",
    }))
}

async fn token(sandbox: web::Data<Sandbox>, req: HttpRequest, form: Form) -> HttpResponse {
    let grant_type = get(&form, "grant_type").unwrap_or_default().to_owned();
    let endpoint = format!("token:{grant_type}");
    if let Some(reply) = gate(&sandbox, Provider::Tiktok, &endpoint, req.path()).await {
        return reply;
    }
    if !client_ok(&form) {
        sandbox.log_call(Provider::Tiktok, &endpoint, None, 401);
        return oauth_error(401, "invalid_client", "Client key or secret is invalid.");
    }
    match grant_type.as_str() {
        "authorization_code" => {
            let code = get(&form, "code").unwrap_or_default();
            let Some(grant) = sandbox.take_code(Provider::Tiktok, code) else {
                sandbox.log_call(Provider::Tiktok, &endpoint, None, 400);
                return oauth_error(
                    400,
                    "invalid_grant",
                    "Authorization code is expired or was already used.",
                );
            };
            if get(&form, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
                sandbox.log_call(Provider::Tiktok, &endpoint, Some(grant.user), 400);
                return oauth_error(400, "invalid_request", "redirect_uri does not match.");
            }
            sandbox.log_call(Provider::Tiktok, &endpoint, Some(grant.user), 200);
            token_reply(&sandbox, grant.user, &grant.scopes)
        }
        "refresh_token" => {
            let refresh = get(&form, "refresh_token").unwrap_or_default();
            match sandbox.check(Provider::Tiktok, TokenUse::Refresh, refresh) {
                Ok(t) => {
                    // Rotation: the refresh token just used dies.
                    sandbox.spend(refresh);
                    sandbox.log_call(Provider::Tiktok, &endpoint, Some(t.user), 200);
                    token_reply(&sandbox, t.user, &t.scopes)
                }
                Err(_) => {
                    sandbox.log_call(Provider::Tiktok, &endpoint, None, 400);
                    oauth_error(400, "invalid_grant", "Refresh token is invalid or expired.")
                }
            }
        }
        _ => {
            sandbox.log_call(Provider::Tiktok, &endpoint, None, 400);
            oauth_error(400, "unsupported_grant_type", "Unsupported grant type.")
        }
    }
}

async fn revoke(sandbox: web::Data<Sandbox>, req: HttpRequest, form: Form) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Tiktok, "revoke", req.path()).await {
        return reply;
    }
    if !client_ok(&form) {
        sandbox.log_call(Provider::Tiktok, "revoke", None, 401);
        return oauth_error(401, "invalid_client", "Client key or secret is invalid.");
    }
    let token = get(&form, "token").unwrap_or_default();
    match sandbox.check(Provider::Tiktok, TokenUse::Access, token) {
        Ok(t) => {
            sandbox.kill_user(t.user, Dead::Revoked);
            sandbox.log_call(Provider::Tiktok, "revoke", Some(t.user), 200);
            HttpResponse::Ok().json(json!({}))
        }
        Err(_) => {
            sandbox.log_call(Provider::Tiktok, "revoke", None, 401);
            api_error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        }
    }
}

/// The user behind the bearer token, with its scopes, or the error reply.
fn bearer(
    sandbox: &Sandbox,
    req: &HttpRequest,
    endpoint: &str,
) -> Result<(FakeUser, Vec<String>), HttpResponse> {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    match sandbox.check(Provider::Tiktok, TokenUse::Access, token) {
        Ok(t) => match users::find(t.user) {
            Some(user) => {
                sandbox.log_call(Provider::Tiktok, endpoint, Some(user.key), 200);
                Ok((user, t.scopes))
            }
            None => Err(api_error(
                401,
                "access_token_invalid",
                "The access token is invalid.",
            )),
        },
        Err(_) => {
            sandbox.log_call(Provider::Tiktok, endpoint, None, 401);
            Err(api_error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            ))
        }
    }
}

fn fields(req: &HttpRequest) -> Vec<String> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()
        .and_then(|q| get(&q, "fields").map(str::to_owned))
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .collect()
}

async fn user_info(sandbox: web::Data<Sandbox>, req: HttpRequest) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Tiktok, "user_info", req.path()).await {
        return reply;
    }
    let (user, scopes) = match bearer(&sandbox, &req, "user_info") {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let (handle, name, base_followers) = user.tiktok.unwrap_or(("", "", 0));
    let now = sandbox.now();
    let followers = base_followers + (now.timestamp() / 86_400 - 20_400).max(0) * 31;
    let needs = |field: &str| -> Option<&'static str> {
        match field {
            "open_id" | "union_id" | "avatar_url" | "display_name" => Some("user.info.basic"),
            "username" | "is_verified" | "bio_description" | "profile_deep_link" => {
                Some("user.info.profile")
            }
            "follower_count" | "following_count" | "likes_count" | "video_count" => {
                Some("user.info.stats")
            }
            _ => None,
        }
    };
    let asked = fields(&req);
    if let Some(missing) = asked
        .iter()
        .filter_map(|f| needs(f))
        .find(|scope| !scopes.iter().any(|s| s == scope))
    {
        return api_error(
            401,
            "scope_not_authorized",
            &format!("The user did not authorize the scope required for this request ({missing})."),
        );
    }
    let all = json!({
        "open_id": user.user_id, "union_id": format!("union-{}", user.key),
        "avatar_url": format!("https://sandbox.invalid/{handle}.jpeg"), "display_name": name,
        "username": handle, "is_verified": false, "follower_count": followers,
        "following_count": 301, "likes_count": followers * 26, "video_count": 87,
    });
    let mut out = serde_json::Map::new();
    for f in &asked {
        if let Some(v) = all.get(f) {
            out.insert(f.clone(), v.clone());
        }
    }
    HttpResponse::Ok().json(json!({"data": {"user": out},
        "error": {"code": "ok", "message": "", "log_id": "sandbox"}}))
}

/// A video a day derived from the clock, and what was published through the control API;
/// newest first.
fn videos(sandbox: &Sandbox, user: &FakeUser) -> Vec<Value> {
    let now = sandbox.now();
    let handle = user.tiktok.map(|t| t.0).unwrap_or_default();
    let step = Duration::days(1);
    let last = now.duration_trunc(step).unwrap_or(now);
    let generated = (0..12).map(|i| last - step * i).map(|at| {
        (
            format!("73054{}", at.timestamp()),
            at,
            format!("Sandbox video {}", at.format("%d %b")),
            "Sandbox video #sandbox".to_owned(),
        )
    });
    let published = sandbox
        .published(user.user_id)
        .into_iter()
        .map(|p| (p.id, p.at, p.caption.clone(), p.caption));
    let mut all: Vec<_> = published.chain(generated).collect();
    all.sort_by_key(|v| std::cmp::Reverse(v.1));
    all.into_iter()
        .map(|(id, at, title, description)| {
            let age_h = (now - at).num_hours().clamp(0, 400);
            json!({"id": id, "create_time": at.timestamp(), "title": title,
                "video_description": description, "duration": 30,
                "cover_image_url": format!("https://sandbox.invalid/{id}.jpeg"),
                "share_url": format!("https://www.tiktok.com/@{handle}/video/{id}"),
                "view_count": 1_000 + age_h * 850, "like_count": 90 + age_h * 60,
                "comment_count": 3 + age_h, "share_count": 1 + age_h / 2})
        })
        .collect()
}

async fn video_list(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Tiktok, "video_list", req.path()).await {
        return reply;
    }
    let (user, scopes) = match bearer(&sandbox, &req, "video_list") {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    if !scopes.iter().any(|s| s == "video.list") {
        return api_error(
            401,
            "scope_not_authorized",
            "The user did not authorize video.list.",
        );
    }
    let max = body
        .get("max_count")
        .and_then(Value::as_u64)
        .unwrap_or(20)
        .clamp(1, 20) as usize;
    let cursor = body.get("cursor").and_then(Value::as_i64);
    let all: Vec<Value> = videos(&sandbox, &user)
        .into_iter()
        .filter(|v| cursor.is_none_or(|c| v["create_time"].as_i64().unwrap_or(0) * 1000 < c))
        .collect();
    let page: Vec<Value> = all.iter().take(max).cloned().collect();
    let has_more = all.len() > page.len();
    let next = page
        .last()
        .and_then(|v| v["create_time"].as_i64())
        .map(|t| t * 1000)
        .unwrap_or(0);
    HttpResponse::Ok().json(
        json!({"data": {"videos": page, "cursor": next, "has_more": has_more},
        "error": {"code": "ok", "message": "", "log_id": "sandbox"}}),
    )
}

async fn video_query(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Tiktok, "video_query", req.path()).await {
        return reply;
    }
    let (user, _) = match bearer(&sandbox, &req, "video_query") {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let ids: Vec<String> = body
        .pointer("/filters/video_ids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let found: Vec<Value> = videos(&sandbox, &user)
        .into_iter()
        .filter(|v| {
            v["id"]
                .as_str()
                .is_some_and(|id| ids.iter().any(|i| i == id))
        })
        .collect();
    HttpResponse::Ok().json(
        json!({"data": {"videos": found, "cursor": 0, "has_more": false},
        "error": {"code": "ok", "message": "", "log_id": "sandbox"}}),
    )
}
