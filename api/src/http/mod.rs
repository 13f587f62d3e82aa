//! The HTTP edges: health, readiness, metrics, the GraphQL endpoint, the hosted Connect page and
//! the platforms' callbacks.

pub mod callbacks;
pub mod connect;
pub mod graphiql;
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
        .route("/graphiql/{file}", web::get().to(graphiql::asset))
        .route("/oauth/facebook/select", web::post().to(oauth::select))
        .route("/oauth/{platform}/start", web::get().to(oauth::start))
        .route("/oauth/{platform}/callback", web::get().to(oauth::callback))
        .route("/connect/{token}", web::get().to(connect::show))
        .route(
            "/connect/{token}/accounts",
            web::post().to(connect::add_account),
        )
        .route(
            "/connect/{token}/accounts/{account}/{action}",
            web::post().to(connect::account_action),
        )
        .route(
            "/callbacks/meta/deauthorize",
            web::post().to(callbacks::meta_deauthorize),
        )
        .route(
            "/callbacks/meta/data-deletion",
            web::post().to(callbacks::meta_data_deletion),
        )
        .route(
            "/callbacks/tiktok",
            web::post().to(callbacks::tiktok_webhook),
        )
        .route(
            "/privacy/deletions/{code}",
            web::get().to(callbacks::deletion_status),
        );
}
