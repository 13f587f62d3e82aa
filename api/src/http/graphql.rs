//! `/graphql` as the GraphQL-over-HTTP specification describes it.
//!
//! - `POST` with `Content-Type: application/json` runs any operation; `GET` with the query string
//!   runs queries only (a mutation over GET is `405`, as the spec requires).
//! - The response media type follows `Accept`: `application/graphql-response+json` gets the
//!   spec's status codes (`400` when the request could not be executed at all: unparsable,
//!   invalid against the schema, unknown operation); `application/json` (and no `Accept`) keeps
//!   the legacy `200` for every well-formed GraphQL response. Anything else is `406`.
//! - A body that is not a GraphQL request is `400` (bad JSON) or `415` (another media type).
//!
//! The adapter crate's responder always answers `200`, so the negotiation is done here.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::Value;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::graphql::events::SubscriptionSlots;
use crate::graphql::RequestContext;
use async_graphql_actix_web::GraphQLSubscription;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

/// Which response media type the client accepts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ResponseType {
    GraphqlResponseJson,
    Json,
}

fn negotiate(req: &HttpRequest) -> Option<ResponseType> {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return Some(ResponseType::Json);
    };
    // Media ranges in order of the client's preference (q-values are honoured by order only when
    // equal; a full q-sort is unnecessary for two candidate types).
    let mut best: Option<(f32, ResponseType)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let kind = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => ResponseType::GraphqlResponseJson,
            APPLICATION_JSON | "application/*" | "*/*" => ResponseType::Json,
            _ => continue,
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, kind));
        }
    }
    best.map(|(_, kind)| kind)
}

fn not_acceptable() -> HttpResponse {
    HttpResponse::NotAcceptable().json(json!({
        "errors": [{ "message": format!("this endpoint answers {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}") }]
    }))
}

fn request_error(status: StatusCode, response_type: ResponseType, message: String) -> HttpResponse {
    // Under the legacy media type, a body that is not a GraphQL request is still a client error:
    // the spec only keeps 200 for well-formed GraphQL responses.
    let content_type = match response_type {
        ResponseType::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
        ResponseType::Json => APPLICATION_JSON,
    };
    HttpResponse::build(status)
        .content_type(content_type)
        .json(json!({ "errors": [{ "message": message }] }))
}

/// `POST /graphql`.
pub async fn post(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let Some(response_type) = negotiate(&req) else {
        return not_acceptable();
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if content_type != APPLICATION_JSON {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            response_type,
            "send the GraphQL request as application/json".into(),
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                response_type,
                format!("the body is not a GraphQL request: {e}"),
            )
        }
    };
    execute(&state, request, response_type).await
}

/// `GET /graphql` with `Upgrade: websocket`: subscriptions over `graphql-transport-ws` (and the
/// legacy `graphql-ws`). The connection acts in the caller's organization from `connection_init`;
/// the adapter pings every 5 s and drops a client silent for 10 s.
async fn subscribe(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let org = state.default_org;
    let max = state.config.events.max_subscriptions_per_connection;
    GraphQLSubscription::new(state.schema.clone())
        .on_connection_init(move |_payload| async move {
            // Until callers authenticate, every connection acts in the default organization.
            let mut data = async_graphql::Data::default();
            data.insert(RequestContext::new(Uuid::new_v4(), org));
            data.insert(SubscriptionSlots::new(max));
            Ok(data)
        })
        .start(&req, payload)
}

fn is_websocket_upgrade(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// `GET /graphql`: a websocket upgrade for subscriptions, GraphiQL for a browser (when enabled),
/// otherwise a query from the URL.
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    if is_websocket_upgrade(&req) {
        return subscribe(state, req, payload).await;
    }
    Ok(get_http(state, req).await)
}

async fn get_http(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if req.query_string().is_empty() && wants_html {
        if !state.config.graphql.graphiql {
            return HttpResponse::NotFound().body("GraphiQL is turned off on this server");
        }
        let page = async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .title("creatorlink GraphiQL")
            .finish();
        return HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(page);
    }
    let Some(response_type) = negotiate(&req) else {
        return not_acceptable();
    };
    let request = match async_graphql::http::parse_query_string(req.query_string()) {
        Ok(r) => r,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                response_type,
                format!("the query string is not a GraphQL request: {e}"),
            )
        }
    };
    if is_mutation(&request) {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, HeaderValue::from_static("POST")))
            .json(json!({ "errors": [{ "message": "mutations must be sent with POST" }] }));
    }
    execute(&state, request, response_type).await
}

/// True when the operation the request selects is a mutation. An unparsable document is left to
/// execution, which reports it as a request error.
fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let ty = match &doc.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops.get(name.as_str()).map(|op| op.node.ty),
            None if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
            None => None,
        },
    };
    ty == Some(OperationType::Mutation)
}

async fn execute(
    state: &AppState,
    request: async_graphql::Request,
    response_type: ResponseType,
) -> HttpResponse {
    let request_id = Uuid::new_v4();
    let ctx = RequestContext::new(request_id, state.default_org);
    let span = tracing::info_span!("graphql", %request_id, operation = request.operation_name.as_deref().unwrap_or(""));
    let response =
        tracing::Instrument::instrument(state.schema.execute(request.data(ctx)), span).await;

    // A request error: nothing was executed, so there is no `data` at all.
    let is_request_error = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());

    let mut body = match serde_json::to_value(&response) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(%request_id, error = %e, "could not serialize a GraphQL response");
            return HttpResponse::InternalServerError().finish();
        }
    };
    if is_request_error {
        if let Some(map) = body.as_object_mut() {
            map.remove("data");
        }
    }
    let (status, content_type) = match response_type {
        ResponseType::GraphqlResponseJson if is_request_error => {
            (StatusCode::BAD_REQUEST, GRAPHQL_RESPONSE_JSON)
        }
        ResponseType::GraphqlResponseJson => (StatusCode::OK, GRAPHQL_RESPONSE_JSON),
        ResponseType::Json => (StatusCode::OK, APPLICATION_JSON),
    };
    let mut builder = HttpResponse::build(status);
    builder.content_type(content_type);
    builder.insert_header(("x-request-id", request_id.to_string()));
    for (name, value) in response.http_headers.iter() {
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
            builder.append_header((name.as_str(), value));
        }
    }
    builder.body(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn accept(value: &str) -> Option<ResponseType> {
        negotiate(
            &TestRequest::default()
                .insert_header((header::ACCEPT, value))
                .to_http_request(),
        )
    }

    #[test]
    fn accept_negotiation_follows_the_spec() {
        assert_eq!(
            negotiate(&TestRequest::default().to_http_request()),
            Some(ResponseType::Json)
        );
        assert_eq!(
            accept(GRAPHQL_RESPONSE_JSON),
            Some(ResponseType::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(ResponseType::GraphqlResponseJson)
        );
        assert_eq!(accept("application/json"), Some(ResponseType::Json));
        assert_eq!(accept("*/*"), Some(ResponseType::Json));
        assert_eq!(accept("text/csv"), None);
    }
}
