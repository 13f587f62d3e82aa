//! Platforms calling us: Meta's deauthorize and data-deletion callbacks (`signed_request`), the
//! deletion status URL, and TikTok's webhook (`authorization.removed`).
//!
//! A request whose signature does not verify is answered 400 (401 for TikTok), changes nothing,
//! and leaves one `security` audit line with the route, the peer and why, never the payload.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use domain::deauthorization::{self, Removal, SignatureError};
use domain::secret::Secret;
use domain::Provider;
use serde_json::json;

use crate::app::AppState;

/// The form Meta posts.
#[derive(serde::Deserialize)]
pub struct SignedRequestForm {
    signed_request: String,
}

fn rejected(req: &HttpRequest, callback: &str, why: &SignatureError) {
    tracing::warn!(
        target: "security",
        callback,
        peer = %req.connection_info().realip_remote_addr().unwrap_or("unknown"),
        reason = %why,
        "rejected a platform callback with a bad signature"
    );
}

fn internal(e: &domain::DomainError) -> HttpResponse {
    tracing::error!(error = %e, "platform callback failed");
    HttpResponse::InternalServerError().json(json!({"error": "internal error"}))
}

fn verify_meta(
    state: &AppState,
    req: &HttpRequest,
    form: &SignedRequestForm,
    callback: &str,
) -> Result<deauthorization::SignedRequest, Box<HttpResponse>> {
    // Meta signs with the app secret (`callbacks.meta_app_secret` only overrides it).
    let secret = Secret::new(state.config.meta_callback_secret());
    deauthorization::verify_signed_request(&form.signed_request, &secret).map_err(|why| {
        rejected(req, callback, &why);
        Box::new(HttpResponse::BadRequest().json(json!({"error": "invalid signed_request"})))
    })
}

/// `POST /callbacks/meta/deauthorize`: the user removed our app on Facebook.
pub async fn meta_deauthorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignedRequestForm>,
) -> HttpResponse {
    let signed = match verify_meta(&state, &req, &form, "meta.deauthorize") {
        Ok(s) => s,
        Err(response) => return *response,
    };
    let removal = Removal {
        provider: Provider::Meta,
        provider_user_id: signed.user_id,
        detail: json!({"callback": "deauthorize"}),
    };
    match deauthorization::revoke_user(&state.db, &removal, Utc::now()).await {
        Ok(_) => HttpResponse::Ok().json(json!({"success": true})),
        Err(e) => internal(&e),
    }
}

/// `POST /callbacks/meta/data-deletion`: the user asked Meta to have us delete their data.
/// Answers `{url, confirmation_code}`; `url` reports the request's progress.
pub async fn meta_data_deletion(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignedRequestForm>,
) -> HttpResponse {
    let signed = match verify_meta(&state, &req, &form, "meta.data_deletion") {
        Ok(s) => s,
        Err(response) => return *response,
    };
    let removal = Removal {
        provider: Provider::Meta,
        provider_user_id: signed.user_id,
        detail: json!({"callback": "data_deletion"}),
    };
    match deauthorization::delete_user_data(&state.db, &removal, Utc::now()).await {
        Ok(request) => HttpResponse::Ok().json(json!({
            "url": format!("{}/privacy/deletions/{}", state.services.public_url, request.confirmation_code),
            "confirmation_code": request.confirmation_code,
        })),
        Err(e) => internal(&e),
    }
}

/// `GET /privacy/deletions/{code}`: how far a data-deletion request got.
pub async fn deletion_status(state: web::Data<AppState>, code: web::Path<String>) -> HttpResponse {
    match deauthorization::deletion_request(&state.db, &code).await {
        Ok(r) => HttpResponse::Ok()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(json!({
                "confirmationCode": r.confirmation_code,
                "status": r.status,
                "accountsAffected": r.accounts_affected,
                "requestedAt": r.requested_at,
                "completedAt": r.completed_at,
                "message": match r.status.as_str() {
                    deauthorization::deletion_status::COMPLETED => "Your data has been deleted.",
                    _ => "Your data is being deleted.",
                },
            })),
        Err(domain::DomainError::NotFound { .. }) => {
            HttpResponse::NotFound().json(json!({"error": "unknown confirmation code"}))
        }
        Err(e) => internal(&e),
    }
}

/// `POST /callbacks/tiktok`: TikTok's webhook. `authorization.removed` revokes the user's links;
/// other events are acknowledged and ignored.
pub async fn tiktok_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    // TikTok signs with the app's client secret (the `callbacks.tiktok_*` settings only
    // override it).
    let (client_key, secret) = state.config.tiktok_callback_app();
    let header = req
        .headers()
        .get("TikTok-Signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Err(why) =
        deauthorization::verify_tiktok_signature(header, &body, &Secret::new(&secret), Utc::now())
    {
        rejected(&req, "tiktok.webhook", &why);
        return HttpResponse::Unauthorized().json(json!({"error": "invalid signature"}));
    }
    let event: deauthorization::TiktokEvent = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(_) => {
            tracing::warn!(target: "security", callback = "tiktok.webhook", "signed TikTok event does not parse");
            return HttpResponse::BadRequest().json(json!({"error": "malformed event"}));
        }
    };
    if event.client_key != client_key {
        tracing::warn!(target: "security", callback = "tiktok.webhook", "TikTok event for another client_key");
        return HttpResponse::BadRequest().json(json!({"error": "unknown client_key"}));
    }
    if event.event != "authorization.removed" {
        tracing::info!(event = %event.event, "TikTok event ignored");
        return HttpResponse::Ok().json(json!({}));
    }
    let removal = Removal {
        provider: Provider::Tiktok,
        provider_user_id: event.user_openid.clone(),
        detail: json!({"callback": "authorization.removed", "tiktokReason": event.reason()}),
    };
    match deauthorization::revoke_user(&state.db, &removal, Utc::now()).await {
        Ok(_) => HttpResponse::Ok().json(json!({})),
        Err(e) => internal(&e),
    }
}
