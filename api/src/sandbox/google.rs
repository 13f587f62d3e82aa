//! Fake Google: the OAuth consent page (with PKCE), `/token`, `/revoke`, YouTube Data API
//! (`channels`, `playlistItems`, `videos`) and YouTube Analytics `/v2/reports`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, DurationRound, NaiveDate};
use domain::secret::Secret;
use domain::Provider;
use serde_json::{json, Value};

use super::consent;
use super::control::gate;
use super::state::{Sandbox, SandboxApp, TokenUse};
use super::users::{self, FakeChannel, FakeUser};

pub(super) const ACCESS_TTL: i64 = 3_599;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/o/oauth2/v2/auth", web::get().to(authorize))
        .route("/token", web::post().to(token))
        .route("/revoke", web::post().to(revoke))
        .route("/youtube/v3/channels", web::get().to(channels))
        .route("/youtube/v3/playlistItems", web::get().to(playlist_items))
        .route("/youtube/v3/videos", web::get().to(videos))
        .route("/v2/reports", web::get().to(reports));
}

type Pairs = Vec<(String, String)>;

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
    .json(json!({"error": error, "error_description": description}))
}

fn api_error(status: u16, reason: &str, message: &str, state: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({"error": {"code": status, "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}], "status": state}}))
}

async fn authorize(sandbox: web::Data<Sandbox>, params: web::Query<Pairs>) -> HttpResponse {
    consent::authorize(&sandbox, Provider::Google, &params)
}

async fn token(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    form: web::Form<Pairs>,
) -> HttpResponse {
    let grant_type = get(&form, "grant_type").unwrap_or_default().to_owned();
    let endpoint = format!("token:{grant_type}");
    if let Some(reply) = gate(&sandbox, Provider::Google, &endpoint, req.path()).await {
        return reply;
    }
    let (id, secret) = SandboxApp::credentials(Provider::Google);
    if get(&form, "client_id") != Some(id) || get(&form, "client_secret") != Some(secret) {
        sandbox.log_call(Provider::Google, &endpoint, None, 401);
        return oauth_error(401, "invalid_client", "The OAuth client was not found.");
    }
    match grant_type.as_str() {
        "authorization_code" => {
            let code = get(&form, "code").unwrap_or_default();
            let Some(grant) = sandbox.take_code(Provider::Google, code) else {
                sandbox.log_call(Provider::Google, &endpoint, None, 400);
                return oauth_error(400, "invalid_grant", "Malformed auth code.");
            };
            if get(&form, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
                sandbox.log_call(Provider::Google, &endpoint, Some(grant.user), 400);
                return oauth_error(400, "redirect_uri_mismatch", "Bad Request");
            }
            if let Some(challenge) = &grant.code_challenge {
                let verifier = get(&form, "code_verifier").unwrap_or_default();
                if domain::platforms::pkce_challenge_for(&Secret::new(verifier)) != *challenge {
                    sandbox.log_call(Provider::Google, &endpoint, Some(grant.user), 400);
                    return oauth_error(400, "invalid_grant", "Invalid code verifier.");
                }
            }
            let (access, ttl) = sandbox.issue_token(
                grant.user,
                Provider::Google,
                TokenUse::Access,
                &grant.scopes,
                Some(ACCESS_TTL),
            );
            let (refresh, refresh_ttl) = sandbox.issue_token(
                grant.user,
                Provider::Google,
                TokenUse::Refresh,
                &grant.scopes,
                None,
            );
            sandbox.log_call(Provider::Google, &endpoint, Some(grant.user), 200);
            let mut body = json!({"access_token": access, "expires_in": ttl, "refresh_token": refresh,
                "scope": grant.scopes.join(" "), "token_type": "Bearer"});
            if let Some(r) = refresh_ttl {
                body["refresh_token_expires_in"] = json!(r);
            }
            HttpResponse::Ok().json(body)
        }
        "refresh_token" => {
            let refresh = get(&form, "refresh_token").unwrap_or_default();
            match sandbox.check(Provider::Google, TokenUse::Refresh, refresh) {
                Ok(t) => {
                    // Google keeps the refresh token and returns none.
                    let (access, ttl) = sandbox.issue_token(
                        t.user,
                        Provider::Google,
                        TokenUse::Access,
                        &t.scopes,
                        Some(ACCESS_TTL),
                    );
                    sandbox.log_call(Provider::Google, &endpoint, Some(t.user), 200);
                    HttpResponse::Ok().json(json!({"access_token": access, "expires_in": ttl,
                        "scope": t.scopes.join(" "), "token_type": "Bearer"}))
                }
                Err(_) => {
                    sandbox.log_call(Provider::Google, &endpoint, None, 400);
                    oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
                }
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "Invalid grant_type."),
    }
}

async fn revoke(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    form: web::Form<Pairs>,
) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Google, "revoke", req.path()).await {
        return reply;
    }
    let token = get(&form, "token").unwrap_or_default();
    let found = sandbox
        .check(Provider::Google, TokenUse::Refresh, token)
        .or_else(|_| sandbox.check(Provider::Google, TokenUse::Access, token));
    match found {
        Ok(t) => {
            sandbox.kill_user(t.user, super::state::Dead::Revoked);
            sandbox.log_call(Provider::Google, "revoke", Some(t.user), 200);
            HttpResponse::Ok().json(json!({}))
        }
        Err(_) => {
            sandbox.log_call(Provider::Google, "revoke", None, 400);
            oauth_error(400, "invalid_token", "Token expired or revoked")
        }
    }
}

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
    let unauthenticated = || {
        api_error(
            401,
            "authError",
            "Request had invalid authentication credentials.",
            "UNAUTHENTICATED",
        )
    };
    match sandbox.check(Provider::Google, TokenUse::Access, token) {
        Ok(t) => {
            let user = users::find(t.user).ok_or_else(unauthenticated)?;
            sandbox.log_call(Provider::Google, endpoint, Some(user.key), 200);
            Ok((user, t.scopes))
        }
        Err(_) => {
            sandbox.log_call(Provider::Google, endpoint, None, 401);
            Err(unauthenticated())
        }
    }
}

fn needs(scopes: &[String], short: &str) -> Option<HttpResponse> {
    let full = format!("https://www.googleapis.com/auth/{short}");
    (!scopes.contains(&full)).then(|| {
        api_error(
            403,
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
            "PERMISSION_DENIED",
        )
    })
}

fn subscribers(c: &FakeChannel, sandbox: &Sandbox) -> i64 {
    c.subscribers + (sandbox.now().timestamp() / 86_400 - 20_400).max(0) * (c.subscribers / 2_000)
}

fn channel_json(c: &FakeChannel, sandbox: &Sandbox) -> Value {
    json!({"kind": "youtube#channel", "etag": "sandbox", "id": c.id,
        "snippet": {"title": c.title, "description": "Sandbox channel.", "customUrl": c.custom_url,
            "publishedAt": "2019-03-02T10:00:00Z",
            "thumbnails": {"default": {"url": format!("https://sandbox.invalid/{}.jpg", c.id), "width": 88, "height": 88}}},
        "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": format!("UU{}", &c.id[2..])}},
        "statistics": {"viewCount": (c.views_30_days * 14).to_string(),
            "subscriberCount": subscribers(c, sandbox).to_string(),
            "hiddenSubscriberCount": false, "videoCount": "48"}})
}

async fn channels(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    q: web::Query<Pairs>,
) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Google, "channels", req.path()).await {
        return reply;
    }
    let (user, scopes) = match bearer(&sandbox, &req, "channels") {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    if let Some(reply) = needs(&scopes, "youtube.readonly") {
        return reply;
    }
    let items: Vec<Value> = user
        .channel
        .iter()
        .filter(|c| get(&q, "mine") == Some("true") || get(&q, "id") == Some(c.id))
        .map(|c| channel_json(c, &sandbox))
        .collect();
    HttpResponse::Ok().json(
        json!({"kind": "youtube#channelListResponse", "etag": "sandbox",
        "pageInfo": {"totalResults": items.len(), "resultsPerPage": 5}, "items": items}),
    )
}

/// A channel's video: id, publishing instant, title and description.
struct Video {
    id: String,
    at: chrono::DateTime<chrono::Utc>,
    title: String,
    description: String,
}

/// A video every three days derived from the clock, and what was published through the control
/// API; newest first.
fn channel_videos(sandbox: &Sandbox, c: &FakeChannel) -> Vec<Video> {
    let step = Duration::days(3);
    let now = sandbox.now();
    let last = now.duration_trunc(step).unwrap_or(now);
    let generated = (0..10).map(|i| last - step * i).map(|at| Video {
        id: format!("v{}{}", &c.id[2..8], at.timestamp()),
        at,
        title: format!("Sandbox video {}", at.format("%d %b")),
        description: String::new(),
    });
    let published = sandbox.published(c.id).into_iter().map(|p| Video {
        title: p.title.unwrap_or_default(),
        id: p.id,
        at: p.at,
        description: p.caption,
    });
    let mut all: Vec<Video> = published.chain(generated).collect();
    all.sort_by_key(|v| std::cmp::Reverse(v.at));
    all
}

async fn playlist_items(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    q: web::Query<Pairs>,
) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Google, "playlistItems", req.path()).await {
        return reply;
    }
    let (user, _) = match bearer(&sandbox, &req, "playlistItems") {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let Some(c) = user
        .channel
        .as_ref()
        .filter(|c| get(&q, "playlistId") == Some(&format!("UU{}", &c.id[2..])))
    else {
        return api_error(
            404,
            "playlistNotFound",
            "The playlist identified with the request's playlistId parameter cannot be found.",
            "NOT_FOUND",
        );
    };
    let items: Vec<Value> = channel_videos(&sandbox, c)
        .into_iter()
        .map(|v| json!({"kind": "youtube#playlistItem",
            "contentDetails": {"videoId": v.id, "videoPublishedAt": v.at.format("%Y-%m-%dT%H:%M:%SZ").to_string()}}))
        .collect();
    HttpResponse::Ok().json(
        json!({"kind": "youtube#playlistItemListResponse", "items": items,
        "pageInfo": {"totalResults": items.len(), "resultsPerPage": 50}}),
    )
}

async fn videos(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    q: web::Query<Pairs>,
) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Google, "videos", req.path()).await {
        return reply;
    }
    let (user, _) = match bearer(&sandbox, &req, "videos") {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let wanted: Vec<&str> = get(&q, "id").unwrap_or_default().split(',').collect();
    let now = sandbox.now();
    let items: Vec<Value> = user
        .channel
        .iter()
        .flat_map(|c| channel_videos(&sandbox, c))
        .filter(|v| wanted.contains(&v.id.as_str()))
        .map(|Video { id, at, title, description }| {
            let age_h = (now - at).num_hours().clamp(0, 720);
            json!({"kind": "youtube#video", "id": id,
                "snippet": {"publishedAt": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    "title": title, "description": description,
                    "thumbnails": {"default": {"url": format!("https://sandbox.invalid/{id}.jpg")}}},
                "contentDetails": {"duration": "PT8M12S"},
                "statistics": {"viewCount": (200 + age_h * 90).to_string(), "likeCount": (10 + age_h * 4).to_string(),
                    "favoriteCount": "0", "commentCount": (age_h / 3).to_string()}})
        })
        .collect();
    HttpResponse::Ok().json(json!({"kind": "youtube#videoListResponse", "items": items,
        "pageInfo": {"totalResults": items.len(), "resultsPerPage": 50}}))
}

fn header(name: &str, dimension: bool) -> Value {
    json!({"name": name, "columnType": if dimension { "DIMENSION" } else { "METRIC" },
        "dataType": if dimension { "STRING" } else if name == "viewerPercentage" { "FLOAT" } else { "INTEGER" }})
}

async fn reports(
    sandbox: web::Data<Sandbox>,
    req: HttpRequest,
    q: web::Query<Pairs>,
) -> HttpResponse {
    if let Some(reply) = gate(&sandbox, Provider::Google, "reports", req.path()).await {
        return reply;
    }
    let (user, scopes) = match bearer(&sandbox, &req, "reports") {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    if let Some(reply) = needs(&scopes, "yt-analytics.readonly") {
        return reply;
    }
    let Some(c) = user.channel.as_ref() else {
        return api_error(
            403,
            "forbidden",
            "The channel is not accessible.",
            "PERMISSION_DENIED",
        );
    };
    let metrics: Vec<&str> = get(&q, "metrics").unwrap_or("views").split(',').collect();
    let dimensions = get(&q, "dimensions").unwrap_or_default();
    let day = |s: Option<&str>| s.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let (Some(start), Some(end)) = (day(get(&q, "startDate")), day(get(&q, "endDate"))) else {
        return api_error(
            400,
            "badRequest",
            "startDate and endDate are required.",
            "INVALID_ARGUMENT",
        );
    };
    let daily_views = c.views_30_days / 30;
    let small = c.subscribers < 1_000;
    let mut headers = Vec::new();
    let rows: Vec<Value> = match dimensions {
        "day" => {
            headers.push(header("day", true));
            headers.extend(metrics.iter().map(|m| header(m, false)));
            let mut rows = Vec::new();
            let mut d = start;
            while d <= end {
                let mut row = vec![json!(d.format("%Y-%m-%d").to_string())];
                for m in &metrics {
                    row.push(json!(match *m {
                        "views" => daily_views,
                        "estimatedMinutesWatched" => daily_views * 3,
                        "averageViewDuration" => 160,
                        "subscribersGained" => (c.subscribers / 300).max(1),
                        "subscribersLost" => (c.subscribers / 3000).max(0),
                        _ => daily_views / 40,
                    }));
                }
                rows.push(Value::Array(row));
                d += Duration::days(1);
            }
            rows
        }
        "ageGroup,gender" if !small => {
            headers = vec![
                header("ageGroup", true),
                header("gender", true),
                header("viewerPercentage", false),
            ];
            vec![
                json!(["age18-24", "female", 14.2]),
                json!(["age18-24", "male", 11.9]),
                json!(["age25-34", "female", 22.5]),
                json!(["age25-34", "male", 19.1]),
                json!(["age35-44", "female", 9.8]),
                json!(["age35-44", "male", 8.4]),
                json!(["age45-54", "female", 7.6]),
                json!(["age45-54", "male", 6.5]),
            ]
        }
        "country" if !small => {
            headers = vec![header("country", true), header("views", false)];
            vec![
                json!(["US", daily_views * 9]),
                json!(["PT", daily_views * 6]),
                json!(["BR", daily_views * 5]),
            ]
        }
        "" => {
            headers.extend(metrics.iter().map(|m| header(m, false)));
            let days = (end - start).num_days() + 1;
            vec![Value::Array(
                metrics.iter().map(|_| json!(daily_views * days)).collect(),
            )]
        }
        _ => {
            // Small channels get empty demographics, as YouTube does.
            headers = dimensions.split(',').map(|d| header(d, true)).collect();
            Vec::new()
        }
    };
    HttpResponse::Ok().json(
        json!({"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows}),
    )
}
