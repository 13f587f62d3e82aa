//! `/healthz` (the process answers) and `/readyz` (its dependencies answer).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::app::AppState;

/// The process is up; says nothing about its dependencies.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready to serve: the database and the job queue answer. 503 with the failing check otherwise.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = match state.db.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            "unreachable".to_owned()
        }
    };
    let queue = match state.queue.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: job queue unreachable");
            "unreachable".to_owned()
        }
    };
    let ok = database == "ok" && queue == "ok";
    let body = json!({
        "status": if ok { "ok" } else { "unavailable" },
        "checks": { "database": database, "queue": queue },
    });
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
