//! GraphiQL, served from the binary: the page at `GET /graphql` (for a browser) and its pinned,
//! vendored production assets at `/graphiql/{file}` (see `api/assets/graphiql/README.md`). No
//! outside network is needed, so same-origin assets need no integrity attributes.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use maud::{html, DOCTYPE};

use crate::app::AppState;

/// One embedded file: its name under `/graphiql/`, media type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    /// Versioned names never change content, so browsers may keep them for good.
    immutable: bool,
}

const GRAPHIQL_JS: &str = "graphiql-4.0.3.min.js";
const GRAPHIQL_CSS: &str = "graphiql-4.0.3.min.css";
const REACT_JS: &str = "react-18.3.1.production.min.js";
const REACT_DOM_JS: &str = "react-dom-18.3.1.production.min.js";
const INIT_JS: &str = "graphiql-init.js";

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    Asset {
        name: GRAPHIQL_JS,
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/graphiql-4.0.3.min.js"),
        immutable: true,
    },
    Asset {
        name: GRAPHIQL_CSS,
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql-4.0.3.min.css"),
        immutable: true,
    },
    Asset {
        name: REACT_JS,
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/react-18.3.1.production.min.js"),
        immutable: true,
    },
    Asset {
        name: REACT_DOM_JS,
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/react-dom-18.3.1.production.min.js"),
        immutable: true,
    },
    Asset {
        name: INIT_JS,
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/graphiql-init.js"),
        immutable: false,
    },
];

/// `GET /graphiql/{file}`: one of the embedded assets, or 404 (also when GraphiQL is off).
pub async fn asset(state: web::Data<AppState>, file: web::Path<String>) -> HttpResponse {
    let found = ASSETS.iter().find(|a| a.name == file.as_str());
    match found {
        Some(asset) if state.config.graphql.graphiql => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((
                header::CACHE_CONTROL,
                HeaderValue::from_static(if asset.immutable {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                }),
            ))
            .insert_header((
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .body(asset.bytes),
        _ => HttpResponse::NotFound().finish(),
    }
}

/// The GraphiQL page for `endpoint`. `headers`, when given (the demo only), is the JSON the
/// headers editor starts with.
pub fn page(endpoint: &str, headers: Option<&str>) -> HttpResponse {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="robots" content="noindex";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "creatorlink GraphiQL" }
                style { "body{margin:0;height:100%;overflow:hidden}#graphiql{height:100vh}" }
                link rel="stylesheet" href={ "/graphiql/" (GRAPHIQL_CSS) };
            }
            body {
                div id="graphiql" data-endpoint=(endpoint) data-headers=[headers] { "Loading…" }
                script src={ "/graphiql/" (REACT_JS) } {}
                script src={ "/graphiql/" (REACT_DOM_JS) } {}
                script src={ "/graphiql/" (GRAPHIQL_JS) } {}
                script src={ "/graphiql/" (INIT_JS) } {}
            }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // The demo page carries a token: never cached, never framed.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
                 font-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ))
        .body(markup.into_string())
}
