//! The hosted Connect page, `/connect/{invite}`: what a creator opens from an invite link, with no
//! account of their own. The invite token in the path is the capability (see `domain::invites`);
//! form posts additionally carry a CSRF token that must match a cookie only this page sets
//! (double submit, `SameSite=Strict`), and a post the browser marks as not same-origin
//! (`Sec-Fetch-Site`, else `Origin`) is refused outright (see [`csrf_ok`]).

pub mod page;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::app::AppState;

/// The cookie holding the page's CSRF token.
pub const CSRF_COOKIE: &str = "cl_csrf";

fn html(status: actix_web::http::StatusCode, markup: maud::Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        // `same-origin`, not `no-referrer`: see `csrf_ok`.
        .insert_header(("Referrer-Policy", "same-origin"))
        .body(markup.into_string())
}

/// A fresh CSRF token: 32 random bytes, base64url.
fn new_csrf() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The CSRF token of this browser: the cookie's when it is well-formed, else a new one.
fn csrf_of(req: &HttpRequest) -> (String, bool) {
    match req.cookie(CSRF_COOKIE) {
        Some(c) if c.value().len() == 43 && URL_SAFE_NO_PAD.decode(c.value()).is_ok() => {
            (c.value().to_owned(), false)
        }
        _ => (new_csrf(), true),
    }
}

fn csrf_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(CSRF_COOKIE, value)
        .path("/connect")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.services.public_url.starts_with("https://"))
        .finish()
}

/// Whether a form post carries the CSRF token of its browser and does not come from another site.
///
/// Three checks, each enough to stop a cross-site post on its own in a current browser:
/// 1. `Sec-Fetch-Site` (set by the browser, not by a page's script): when present it must be
///    `same-origin`; `same-site`, `cross-site` and `none` are refused.
/// 2. `Origin`, when `Sec-Fetch-Site` is absent (older browsers, scripts): it must be this
///    server's origin; an opaque `null` origin is refused.
/// 3. Double submit: the form's `csrf` field must equal the `cl_csrf` cookie, which is
///    `HttpOnly` and `SameSite=Strict` — another site can neither read it nor have it sent.
///
/// Why a real browser passes: the page is served with `Referrer-Policy: same-origin` (not
/// `no-referrer`, under which Chromium posts forms with `Origin: null`), so its own form posts
/// carry `Sec-Fetch-Site: same-origin` and the real `Origin`, while the page's URL — it holds
/// the invite token — is still never sent to another site (the platforms' consent pages
/// included). The `Origin` header is not the only test, so a privacy setting that blanks it
/// does not break the forms either.
pub fn csrf_ok(req: &HttpRequest, public_url: &str, presented: &str) -> bool {
    match req.headers().get("sec-fetch-site") {
        Some(site) => {
            if site.as_bytes() != b"same-origin" {
                return false;
            }
        }
        None => {
            if let Some(origin) = req.headers().get(header::ORIGIN) {
                if !same_origin(req, public_url, origin.to_str().unwrap_or_default()) {
                    return false;
                }
            }
        }
    }
    let Some(cookie) = req.cookie(CSRF_COOKIE) else {
        return false;
    };
    !presented.is_empty() && bool::from(cookie.value().as_bytes().ct_eq(presented.as_bytes()))
}

/// Whether `origin` is this server's: its public URL's origin, or the host the request was
/// addressed to. `null` never is.
fn same_origin(req: &HttpRequest, public_url: &str, origin: &str) -> bool {
    let ours = url::Url::parse(public_url)
        .ok()
        .map(|u| u.origin().ascii_serialization());
    if ours.as_deref() == Some(origin) {
        return true;
    }
    let host_origin = req.connection_info().host().to_owned();
    url::Url::parse(origin)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| (h.to_owned(), u.port_or_known_default()))
        })
        .is_some_and(|(h, p)| match p {
            Some(p) => host_origin == format!("{h}:{p}") || host_origin == h,
            None => host_origin == h,
        })
}

/// The outcome passed back in the query after a redirect (see `page::notice_for`).
#[derive(serde::Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
    error: Option<String>,
    platform: Option<String>,
    missing: Option<String>,
}

/// `GET /connect/{token}`.
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    query: web::Query<PageQuery>,
) -> HttpResponse {
    let token = token.into_inner();
    let invite =
        match domain::invites::resolve(&state.db, &token, state.services.clock().now()).await {
            Ok(invite) => invite,
            Err(domain::DomainError::NotFound { .. }) => {
                return html(actix_web::http::StatusCode::NOT_FOUND, page::not_found())
            }
            Err(e) => return failure(&e),
        };
    let (profile, accounts) = match domain::invites::roster(&state.db, &invite).await {
        Ok(r) => r,
        Err(domain::DomainError::NotFound { .. }) => {
            return html(actix_web::http::StatusCode::NOT_FOUND, page::not_found())
        }
        Err(e) => return failure(&e),
    };
    if let Err(e) = domain::invites::mark_opened(&state.db, &invite).await {
        tracing::warn!(error = %e, invite_id = %invite.id, "cannot note that an invite was opened");
    }
    let outcome = page::Outcome {
        notice: query.notice.as_deref(),
        error: query.error.as_deref(),
        platform: query.platform.as_deref(),
        missing: query.missing.as_deref(),
    };
    render_page(
        &state,
        &req,
        &token,
        &invite,
        actix_web::http::StatusCode::OK,
        Some(outcome),
        page::AddForm::default(),
        &profile,
        &accounts,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_page(
    state: &AppState,
    req: &HttpRequest,
    token: &str,
    invite: &domain::entities::connect_invite::Model,
    status: actix_web::http::StatusCode,
    outcome: Option<page::Outcome<'_>>,
    add: page::AddForm,
    profile: &domain::entities::creator_profile::Model,
    accounts: &[(
        domain::entities::social_account::Model,
        Option<domain::entities::link::Model>,
    )],
) -> HttpResponse {
    let org =
        match domain::organizations::get(&state.db, domain::OrgId::new(invite.organization_id))
            .await
        {
            Ok(org) => org,
            Err(e) => return failure(&e),
        };
    let clients = &state.services.clients;
    let notice = outcome
        .and_then(|o| page::notice_for(&o, token, &org.name, |p| clients.get(p).required_scopes()));
    let (csrf, fresh) = csrf_of(req);
    let cx = page::PageContext {
        token,
        csrf: &csrf,
        org_name: &org.name,
        back: invite.return_url.as_deref().and_then(|u| {
            url::Url::parse(u)
                .ok()
                .and_then(|p| p.host_str().map(str::to_owned))
                .map(|host| (u, host))
        }),
        now: state.services.clock().now(),
        window: chrono::Duration::days(i64::from(state.config.links.expiring_window_days)),
        notice,
        add,
    };
    let mut response = html(status, page::render(&cx, profile, accounts));
    if fresh {
        let _ = response.add_cookie(&csrf_cookie(state, csrf));
    }
    response
}

fn failure(e: &domain::DomainError) -> HttpResponse {
    tracing::error!(error = %e, "connect page failed");
    html(
        actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
        page::simple(
            "Something went wrong",
            "We could not show this page. Please try again in a minute.",
        ),
    )
}

/// A form post of the Connect page: only its CSRF token.
#[derive(serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
}

/// The "add account by URL" form post.
#[derive(serde::Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    handle_or_url: String,
    #[serde(default)]
    platform: String,
}

fn refused_post(
    req: &HttpRequest,
    invite: &domain::entities::connect_invite::Model,
) -> HttpResponse {
    tracing::warn!(
        target: "security",
        invite_id = %invite.id,
        peer = %req.connection_info().realip_remote_addr().unwrap_or("unknown"),
        "refused a Connect page post without a matching CSRF token"
    );
    html(
        actix_web::http::StatusCode::FORBIDDEN,
        page::simple(
            "This form has expired",
            "Open your Connect link again and retry.",
        ),
    )
}

/// `POST /connect/{token}/accounts`: the creator adds an account to the invite's profile by its
/// link or handle, exactly as `addSocialAccount` does (NOT_LINKED until connected). A refused
/// input re-renders the page (422) with the typed error next to the field and what was typed;
/// the conflict names no other profile, since the creator may not see them.
pub async fn add_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<AddForm>,
) -> HttpResponse {
    let token = token.into_inner();
    let invite =
        match domain::invites::resolve(&state.db, &token, state.services.clock().now()).await {
            Ok(invite) => invite,
            Err(domain::DomainError::NotFound { .. }) => {
                return html(actix_web::http::StatusCode::NOT_FOUND, page::not_found())
            }
            Err(e) => return failure(&e),
        };
    if !csrf_ok(&req, &state.services.public_url, &form.csrf) {
        return refused_post(&req, &invite);
    }
    let form = form.into_inner();
    let platform = match form.platform.as_str() {
        "" => None,
        other => [
            domain::Platform::Instagram,
            domain::Platform::Facebook,
            domain::Platform::Tiktok,
            domain::Platform::Youtube,
        ]
        .into_iter()
        .find(|p| p.as_str() == other),
    };
    let org = domain::OrgId::new(invite.organization_id);
    let added = domain::accounts::service::add(
        &state.db,
        org,
        invite.profile_id,
        &form.handle_or_url,
        platform,
        domain::Actor::Invite(invite.id),
    )
    .await;
    let error = match added {
        Ok(_) => return back_to(&token, "notice", "added"),
        Err(domain::accounts::service::AddAccountError::AlreadyAssociated { .. }) => (
            domain::accounts::service::ACCOUNT_ALREADY_ASSOCIATED.to_owned(),
            "This account is already on another creator profile. Ask whoever sent you this link \
             to move it to yours."
                .to_owned(),
        ),
        Err(domain::accounts::service::AddAccountError::Other(domain::DomainError::Invalid {
            code,
            message,
            ..
        })) => (code.to_owned(), message),
        Err(domain::accounts::service::AddAccountError::Other(e)) => return failure(&e),
    };
    let (profile, accounts) = match domain::invites::roster(&state.db, &invite).await {
        Ok(r) => r,
        Err(e) => return failure(&e),
    };
    render_page(
        &state,
        &req,
        &token,
        &invite,
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        None,
        page::AddForm {
            handle_or_url: form.handle_or_url,
            platform,
            error: Some(error),
        },
        &profile,
        &accounts,
    )
    .await
}

fn back_to(token: &str, param: &str, code: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/connect/{token}?{param}={code}#notice"),
        ))
        .finish()
}

/// `POST /connect/{token}/accounts/{account}/{unlink|remove}`: the creator unlinks an account
/// (revoke upstream, tokens erased, INVALID/UNLINKED) or removes it from the profile. Only
/// accounts of the invite's profile can be touched; a post without this browser's CSRF token, or
/// from another site, is refused and logged.
pub async fn account_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, uuid::Uuid, String)>,
    form: web::Form<ActionForm>,
) -> HttpResponse {
    let (token, account_id, action) = path.into_inner();
    let remove = match action.as_str() {
        "unlink" => false,
        "remove" => true,
        _ => return html(actix_web::http::StatusCode::NOT_FOUND, page::not_found()),
    };
    let invite =
        match domain::invites::resolve(&state.db, &token, state.services.clock().now()).await {
            Ok(invite) => invite,
            Err(domain::DomainError::NotFound { .. }) => {
                return html(actix_web::http::StatusCode::NOT_FOUND, page::not_found())
            }
            Err(e) => return failure(&e),
        };
    if !csrf_ok(&req, &state.services.public_url, &form.csrf) {
        return refused_post(&req, &invite);
    }
    let (_, accounts) = match domain::invites::roster(&state.db, &invite).await {
        Ok(r) => r,
        Err(e) => return failure(&e),
    };
    if !accounts.iter().any(|(a, _)| a.id == account_id) {
        return html(actix_web::http::StatusCode::NOT_FOUND, page::not_found());
    }
    let org = domain::OrgId::new(invite.organization_id);
    let actor = domain::Actor::Invite(invite.id);
    let services = &state.services;
    let result = if remove {
        domain::link::revoke::remove(
            &state.db,
            &services.keyring,
            &services.clients,
            org,
            account_id,
            actor,
        )
        .await
    } else {
        domain::link::revoke::unlink(
            &state.db,
            &services.keyring,
            &services.clients,
            org,
            account_id,
            actor,
        )
        .await
    };
    match result {
        Ok(_) => back_to(
            &token,
            "notice",
            if remove { "removed" } else { "unlinked" },
        ),
        Err(e) => {
            tracing::error!(error = %e, account_id = %account_id, "connect page action failed");
            back_to(&token, "error", "failed")
        }
    }
}
