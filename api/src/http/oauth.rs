//! The OAuth edges of the connect flow: `GET /oauth/{platform}/start` (from an invite),
//! `GET /oauth/{platform}/callback`, and `POST /oauth/facebook/select` (the Meta Page selection
//! step). Every refusal is a plain HTML page with a 4xx status and one `audit` log line; nothing
//! from the query string (codes, states) is ever logged.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use domain::connect::{self, BeginConnect, Callback, Outcome};
use domain::entities::connect_invite;
use domain::{DomainError, Platform};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::graphql::ids::{self, NodeType};

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A small, accessible HTML page.
pub fn page(status: actix_web::http::StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{t}</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;\
             padding:0 1rem;line-height:1.5}}.ok{{color:#14632d}}.bad{{color:#8a1c1c}}\
             button{{font-size:1rem;padding:.5rem 1rem}}</style></head><body><main>\
             <h1>{t}</h1>{body}</main></body></html>",
            t = esc(title)
        ))
}

fn platform_of(segment: &str) -> Option<Platform> {
    match segment {
        "instagram" => Some(Platform::Instagram),
        "facebook" | "meta" => Some(Platform::Facebook),
        "tiktok" => Some(Platform::Tiktok),
        "youtube" | "google" => Some(Platform::Youtube),
        _ => None,
    }
}

fn refusal(err: &DomainError, request_id: Uuid) -> HttpResponse {
    use actix_web::http::StatusCode;
    let (status, code, message) = match err {
        DomainError::NotFound { entity } => (
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{entity} not found"),
        ),
        DomainError::Invalid { code, message, .. } => {
            (StatusCode::BAD_REQUEST, *code, message.clone())
        }
        // The conflict's message names the profile holding the account: not for the creator.
        DomainError::Conflict { code, .. } if *code == connect::ALREADY_ASSOCIATED => (
            StatusCode::CONFLICT,
            *code,
            "This account is already on another creator profile. Ask whoever invited you to move \
             it to yours, then connect it again."
                .into(),
        ),
        DomainError::Conflict { code, message } => (StatusCode::CONFLICT, *code, message.clone()),
        DomainError::Forbidden(message) => (StatusCode::FORBIDDEN, "FORBIDDEN", message.clone()),
        DomainError::Upstream { message, .. } => {
            tracing::warn!(%request_id, %message, "platform error during connect");
            (
                StatusCode::BAD_GATEWAY,
                "UPSTREAM_UNAVAILABLE",
                "The platform did not answer as expected. Please try again in a few minutes."
                    .into(),
            )
        }
        DomainError::Database(e) => {
            tracing::error!(%request_id, error = %e, "internal error during connect");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                format!("Something went wrong on our side (request {request_id})."),
            )
        }
    };
    tracing::warn!(target: "audit", %request_id, code, status = status.as_u16(), "connect refused");
    page(
        status,
        "Account not connected",
        &format!(
            "<p class=\"bad\" data-code=\"{}\">{}</p><p>Nothing was linked or changed.</p>",
            esc(code),
            esc(&message)
        ),
    )
}

#[derive(Deserialize)]
pub struct StartQuery {
    invite: Option<String>,
    account: Option<String>,
}

/// `GET /oauth/{platform}/start?invite=…[&account=…]`: resolves the invite and sends the browser
/// to the platform's consent page.
pub async fn start(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
) -> HttpResponse {
    let request_id = Uuid::now_v7();
    let Some(platform) = platform_of(&path) else {
        return refusal(&DomainError::not_found("platform"), request_id);
    };
    let Some(token) = query.invite.as_deref().filter(|t| !t.is_empty()) else {
        return refusal(
            &DomainError::invalid(
                connect::codes::INVITE_INVALID,
                Some("invite"),
                "open this page from your invite link",
            ),
            request_id,
        );
    };
    // An invite token is base64url; anything else is not sent back into a Location header.
    let page_url = token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        .then(|| format!("/connect/{token}"));
    let now = state.services.clock().now();
    let invite = match connect_invite::Entity::find()
        .filter(connect_invite::Column::TokenHash.eq(connect::token_hash(token)))
        .one(&state.db)
        .await
    {
        Ok(Some(i)) if i.revoked_at.is_none() && i.expires_at > now => i,
        // Back to the Connect page, which tells an expired, withdrawn or unknown link apart from
        // nothing and says what to do (ask for a new one).
        Ok(_) if page_url.is_some() => {
            tracing::warn!(target: "audit", %request_id, code = connect::codes::INVITE_INVALID, "connect refused");
            return see_other(page_url.as_deref().unwrap_or_default());
        }
        Ok(_) => {
            return refusal(
                &DomainError::invalid(
                    connect::codes::INVITE_INVALID,
                    Some("invite"),
                    "this invite link has expired or was withdrawn; ask for a new one",
                ),
                request_id,
            )
        }
        Err(e) => return refusal(&DomainError::Database(e), request_id),
    };
    let page_url = format!("/connect/{token}");
    let account_id = match query.account.as_deref() {
        Some(gid) => match ids::decode_as(NodeType::SocialAccount, gid) {
            Some(id) => Some(id),
            None => {
                return back_with_error(
                    &page_url,
                    &DomainError::not_found("social account"),
                    platform,
                    request_id,
                )
            }
        },
        None => None,
    };
    let begun = connect::begin(
        &state.db,
        &state.services.keyring,
        &state.services.clients,
        domain::OrgId::new(invite.organization_id),
        BeginConnect {
            profile_id: invite.profile_id,
            platform,
            invite_id: Some(invite.id),
            account_id,
            redirect_to: Some(page_url.clone()),
            return_url: None,
        },
    )
    .await;
    match begun {
        Ok(url) => HttpResponse::Found()
            .insert_header((header::LOCATION, url.to_string()))
            .insert_header(("Cache-Control", "no-store"))
            .finish(),
        Err(e) => back_with_error(&page_url, &e, platform, request_id),
    }
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

/// `to` with the outcome in its query (`notice=connected`, or `error=<CODE>&platform=…`, plus
/// `missing=…` for permissions not granted) and `#notice`, where the page shows it.
fn with_outcome(to: &str, pairs: &[(&str, &str)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let base = to.split('#').next().unwrap_or(to);
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{query}#notice")
}

/// Sends the browser back to the page the flow started from with the error's code, logged once
/// like [`refusal`]; the page words it for the creator (never another profile's data).
fn back_with_error(
    to: &str,
    err: &DomainError,
    platform: Platform,
    request_id: Uuid,
) -> HttpResponse {
    let code = match err {
        DomainError::NotFound { .. } => "NOT_FOUND",
        DomainError::Invalid { code, .. } | DomainError::Conflict { code, .. } => code,
        DomainError::Forbidden(_) => "FORBIDDEN",
        DomainError::Upstream { message, .. } => {
            tracing::warn!(%request_id, %message, "platform error during connect");
            "UPSTREAM_UNAVAILABLE"
        }
        DomainError::Database(e) => {
            tracing::error!(%request_id, error = %e, "internal error during connect");
            "INTERNAL"
        }
    };
    tracing::warn!(target: "audit", %request_id, code, "connect refused; back to the Connect page");
    see_other(&with_outcome(
        to,
        &[("error", code), ("platform", platform.as_str())],
    ))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

/// `GET /oauth/{platform}/callback?state=…&code=…`.
pub async fn callback(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> HttpResponse {
    let request_id = Uuid::now_v7();
    let Some(platform) = platform_of(&path) else {
        return refusal(&DomainError::not_found("platform"), request_id);
    };
    let query = query.into_inner();
    let outcome = connect::complete(
        &state.db,
        &state.services.keyring,
        &state.services.clients,
        Callback {
            provider: platform.provider(),
            state: query.state.unwrap_or_default(),
            code: query.code,
            error: query.error,
        },
    )
    .await;
    render(outcome, platform, request_id)
}

#[derive(Deserialize)]
pub struct SelectForm {
    selection: String,
    page_id: String,
}

/// `POST /oauth/facebook/select`: the Page the creator picked. The form's selection token is
/// single use and unguessable, which also makes it the form's CSRF token.
pub async fn select(state: web::Data<AppState>, form: web::Form<SelectForm>) -> HttpResponse {
    let request_id = Uuid::now_v7();
    let outcome = connect::choose_page(
        &state.db,
        &state.services.keyring,
        &state.services.clients,
        &form.selection,
        &form.page_id,
    )
    .await;
    render(outcome, Platform::Facebook, request_id)
}

fn platform_label(p: Platform) -> &'static str {
    match p {
        Platform::Instagram => "Instagram",
        Platform::Facebook => "Facebook",
        Platform::Tiktok => "TikTok",
        Platform::Youtube => "YouTube",
    }
}

fn render(
    outcome: Result<Outcome, connect::Failed>,
    platform: Platform,
    request_id: Uuid,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    match outcome {
        Err(connect::Failed {
            error,
            back_to: Some(to),
        }) => back_with_error(&to, &error, platform, request_id),
        Err(failed) => refusal(&failed.error, request_id),
        Ok(Outcome::Linked {
            accounts,
            redirect_to: Some(to),
            ..
        }) => {
            tracing::info!(%request_id, accounts = accounts.len(), "connected; back to the invite page");
            // A permission left unticked is not a success: the page names it and offers
            // RECONNECT.
            let missing: Vec<&str> = accounts
                .iter()
                .filter(|a| a.status != domain::LinkStatus::Linked)
                .flat_map(|a| a.missing_scopes.iter().map(String::as_str))
                .collect();
            let to = if accounts
                .iter()
                .all(|a| a.status == domain::LinkStatus::Linked)
            {
                with_outcome(&to, &[("notice", "connected")])
            } else {
                let mut missing = missing;
                missing.sort_unstable();
                missing.dedup();
                with_outcome(
                    &to,
                    &[
                        ("error", connect::codes::SCOPES_MISSING),
                        ("platform", platform.as_str()),
                        ("missing", &missing.join(" ")),
                    ],
                )
            };
            see_other(&to)
        }
        Ok(Outcome::Linked { accounts, .. }) => {
            let items: String = accounts
                .iter()
                .map(|a| {
                    let name = a.display_name.as_deref().unwrap_or(&a.handle);
                    if a.status == domain::LinkStatus::Linked {
                        format!(
                            "<li class=\"ok\" data-status=\"LINKED\">{} {}: linked, read-only, for 90 days.</li>",
                            platform_label(a.platform),
                            esc(name)
                        )
                    } else {
                        format!(
                            "<li class=\"bad\" data-status=\"INVALID\" data-reason=\"{}\">{} {}: not linked: \
                             these permissions were not granted: {}. Connect again and allow them.</li>",
                            a.invalid_reason.map(|r| r.as_str()).unwrap_or_default(),
                            platform_label(a.platform),
                            esc(name),
                            esc(&a.missing_scopes.join(", "))
                        )
                    }
                })
                .collect();
            page(
                StatusCode::OK,
                "Connection finished",
                &format!("<ul>{items}</ul><p>You can close this window.</p>"),
            )
        }
        Ok(Outcome::ChoosePage {
            selection, pages, ..
        }) => {
            let options: String = pages
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let ig = match &p.instagram_username {
                        Some(u) => format!(" and its Instagram account @{}", esc(u)),
                        None => " (no Instagram professional account attached)".into(),
                    };
                    format!(
                        "<li><label><input type=\"radio\" name=\"page_id\" value=\"{}\"{}> {}{}</label></li>",
                        esc(&p.page_id),
                        if i == 0 { " checked" } else { "" },
                        esc(p.name.as_deref().unwrap_or(&p.page_id)),
                        ig
                    )
                })
                .collect();
            page(
                StatusCode::OK,
                "Choose the Facebook Page to connect",
                &format!(
                    "<p>You manage several Pages. Pick the one to connect; its linked Instagram \
                     account is connected with it. Access is read-only.</p>\
                     <form method=\"post\" action=\"/oauth/facebook/select\">\
                     <input type=\"hidden\" name=\"selection\" value=\"{}\">\
                     <fieldset><legend>Pages</legend><ul>{options}</ul></fieldset>\
                     <button type=\"submit\">Go</button></form>",
                    esc(selection.expose())
                ),
            )
        }
    }
}
