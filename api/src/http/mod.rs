//! The HTTP edges: health, readiness, metrics and the GraphQL endpoint.

pub mod graphql;
pub mod health;
pub mod oauth;

use actix_web::web;

/// Every HTTP route of the application.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .service(
            web::resource("/graphql")
                .route(web::post().to(graphql::post))
                .route(web::get().to(graphql::get)),
        )
        .route("/oauth/facebook/select", web::post().to(oauth::select))
        .route("/oauth/{platform}/start", web::get().to(oauth::start))
        .route("/oauth/{platform}/callback", web::get().to(oauth::callback));
}
