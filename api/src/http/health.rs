//! `/healthz` (the process answers) and `/readyz` (its dependencies answer).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::app::AppState;

/// The process is up; says nothing about its dependencies.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// How long each dependency has to answer: a probe with a 2-second timeout must see the 503
/// of a dependency that does not answer, not a timeout of its own (the database pool's acquire
/// timeout alone is 30 s).
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1_500);

/// `"ok"` when `check` answers within [`CHECK_TIMEOUT`], else why not (logged).
async fn check<E: std::fmt::Display>(
    name: &str,
    check: impl std::future::Future<Output = Result<(), E>>,
) -> &'static str {
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: {name} unreachable");
            "unreachable"
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = CHECK_TIMEOUT.as_millis() as u64,
                "readiness: {name} did not answer"
            );
            "timeout"
        }
    }
}

/// Ready to serve: the database and the job queue answer, both asked at once, each within
/// [`CHECK_TIMEOUT`]. 503 with the failing check otherwise.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (database, queue) = tokio::join!(
        check("database", state.db.ping()),
        check("job queue", state.queue.ping())
    );
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
