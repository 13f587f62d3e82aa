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

/// The path an access log line shows: the matched route pattern (`/connect/{token}`), so an
/// invite link, a deletion code or an id in the path never reaches the log; for a path no route
/// matched, the path with every token-shaped segment (16 or more URL-safe characters) replaced
/// by `{redacted}`. The query string is never logged.
pub fn loggable_path(pattern: Option<&str>, path: &str) -> String {
    if let Some(pattern) = pattern {
        return pattern.to_owned();
    }
    path.split('/')
        .map(|segment| {
            let token_shaped = segment.len() >= 16
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%'));
            if token_shaped {
                "{redacted}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn access_log_paths_show_the_route_or_hide_token_shaped_segments() {
        let invite = "3q2-7fXkQ9mZb1yLw0vTt8sR5pNn4aHc6dEe2gJj0kU";
        assert_eq!(
            loggable_path(Some("/connect/{token}"), &format!("/connect/{invite}")),
            "/connect/{token}"
        );
        assert_eq!(
            loggable_path(None, &format!("/connect/{invite}/nope")),
            "/connect/{redacted}/nope"
        );
        assert_eq!(loggable_path(None, "/no/such/page"), "/no/such/page");
    }
}
