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
use crate::auth::AuthError;
use crate::graphql::error::codes;
use crate::graphql::events::SubscriptionSlots;
use crate::graphql::guard::{check_nesting, MAX_NESTING};
use crate::graphql::{loaders, RequestContext};
use crate::sql_stats::StatementCounter;
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
    execute(&state, &req, request, response_type, Transport::Post).await
}

/// `GET /graphql` with `Upgrade: websocket`: subscriptions over `graphql-transport-ws` (and the
/// legacy `graphql-ws`). The connection authenticates once, with the upgrade request's headers or
/// the `connection_init` payload, and acts as that caller (a refused credential closes it);
/// the adapter pings every 5 s and drops a client silent for 10 s.
async fn subscribe(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let max = state.config.events.max_subscriptions_per_connection;
    let upgrade_headers = req.headers().clone();
    let app = state.clone();
    GraphQLSubscription::new(state.schema.clone())
        .on_connection_init(move |payload| async move {
            // Browsers cannot set headers on a websocket, so the credential may also come in the
            // `connection_init` payload: `{"Authorization": "Bearer …"}` or `{"X-Api-Key": "…"}`.
            let headers = if has_credentials(&upgrade_headers) {
                upgrade_headers
            } else {
                credentials_from_payload(&payload)
            };
            let caller = app
                .auth
                .authenticate(&app.db, &headers)
                .await
                .map_err(|e| async_graphql::Error::new(e.to_string()))?;
            if let Err(wait) = app.auth.admit(&caller).await {
                return Err(async_graphql::Error::new(format!(
                    "too many requests; retry after {} s",
                    wait.as_secs().max(1)
                )));
            }
            tracing::info!(actor = %caller.actor().label(), "subscription connection authenticated");
            let mut data = async_graphql::Data::default();
            let ctx = RequestContext::new(Uuid::new_v4(), caller);
            // A connection lives long: its loader batches but never caches, so every event
            // is resolved against current rows.
            let loader = loaders::new_loader(app.db.clone(), &ctx, StatementCounter::default());
            loader.enable_all_cache(false);
            data.insert(ctx);
            data.insert(loader);
            data.insert(SubscriptionSlots::new(max));
            Ok(data)
        })
        .start(&req, payload)
}

fn has_credentials(headers: &header::HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION) || headers.contains_key("x-api-key")
}

/// The credential keys of a `connection_init` payload, as the headers they stand for.
fn credentials_from_payload(payload: &serde_json::Value) -> header::HeaderMap {
    let mut headers = header::HeaderMap::new();
    let Some(map) = payload.as_object() else {
        return headers;
    };
    for (key, value) in map {
        let name = match key.to_ascii_lowercase().as_str() {
            "authorization" => header::AUTHORIZATION,
            "x-api-key" | "apikey" => header::HeaderName::from_static("x-api-key"),
            _ => continue,
        };
        if let Some(value) = value.as_str().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, value);
        }
    }
    headers
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
        return super::graphiql::page("/graphql", state.graphiql_headers.as_deref());
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
    execute(&state, &req, request, response_type, Transport::Get).await
}

/// How the request came: a GET may only run queries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Transport {
    Get,
    Post,
}

/// True when the operation the request selects is a mutation. An unparsable document is left to
/// execution, which reports it as a request error; a parsed one is kept for execution.
/// Only called after the caller is authenticated and the document's nesting is checked.
fn is_mutation(request: &mut async_graphql::Request) -> bool {
    let operation_name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return false;
    };
    let ty = match &doc.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match &operation_name {
            Some(name) => ops.get(name.as_str()).map(|op| op.node.ty),
            None if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
            None => None,
        },
    };
    ty == Some(OperationType::Mutation)
}

/// The GraphQL-shaped body of a refusal before execution.
fn refusal(status: StatusCode, code: &str, message: String, request_id: Uuid) -> HttpResponse {
    let mut builder = HttpResponse::build(status);
    builder
        .content_type(APPLICATION_JSON)
        .insert_header(("x-request-id", request_id.to_string()));
    if status == StatusCode::UNAUTHORIZED {
        builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    builder.body(
        json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }).to_string(),
    )
}

/// Authenticates, checks the caller's budget, then runs the request as that caller.
async fn execute(
    state: &AppState,
    http: &HttpRequest,
    mut request: async_graphql::Request,
    response_type: ResponseType,
    transport: Transport,
) -> HttpResponse {
    let request_id = Uuid::new_v4();
    // Authentication failures are HTTP 401 before execution, with a GraphQL-shaped body; a caller
    // lacking rights for a field gets a normal response with FORBIDDEN errors instead.
    let caller = match state.auth.authenticate(&state.db, http.headers()).await {
        Ok(caller) => caller,
        Err(AuthError::Unavailable) => {
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::INTERNAL,
                AuthError::Unavailable.to_string(),
                request_id,
            )
        }
        Err(e) => {
            tracing::info!(%request_id, reason = %e, "unauthenticated request");
            return refusal(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHENTICATED,
                e.to_string(),
                request_id,
            );
        }
    };
    let actor = caller.actor().label();
    if let Err(wait) = state.auth.admit(&caller).await {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::info!(%request_id, %actor, retry_after = seconds, "rate limited");
        let mut response = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            codes::RATE_LIMITED,
            format!("too many requests; retry after {seconds} s"),
            request_id,
        );
        if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    // Nothing parses the document before its nesting is bounded: the parser recurses per
    // nesting level and a deep enough document would overflow the worker's stack.
    if let Err(too_deep) = check_nesting(&request.query, MAX_NESTING) {
        tracing::info!(%request_id, %actor, "document refused: {too_deep}");
        return refusal(
            StatusCode::BAD_REQUEST,
            codes::QUERY_TOO_DEEP,
            too_deep.to_string(),
            request_id,
        );
    }
    if transport == Transport::Get && is_mutation(&mut request) {
        let mut response = refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::BAD_REQUEST,
            "mutations must be sent with POST".into(),
            request_id,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let ctx = RequestContext::new(request_id, caller);
    let statements = StatementCounter::default();
    // One loader per request: its cache must never serve one caller's rows to another.
    let loader = loaders::new_loader(state.db.clone(), &ctx, statements.clone());
    let operation = request.operation_name.clone().unwrap_or_default();
    let span = tracing::info_span!("graphql", %request_id, %actor, operation = %operation);
    let response = tracing::Instrument::instrument(
        statements.scope(state.schema.execute(request.data(ctx).data(loader))),
        span,
    )
    .await;
    tracing::info!(
        target: "graphql",
        %request_id,
        %actor,
        operation = %operation,
        sql_statements = statements.get(),
        errors = response.errors.len(),
        "graphql request"
    );

    // A request error: nothing was executed, so there is no `data` at all.
    let is_request_error = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());

    // Serialized once, straight to bytes (no intermediate `serde_json::Value` tree). A request
    // error has no `data` member at all (GraphQL-over-HTTP), so it is written without one.
    let serialized = if is_request_error {
        serde_json::to_vec(&RequestErrorBody {
            errors: &response.errors,
            extensions: &response.extensions,
        })
    } else {
        serde_json::to_vec(&response)
    };
    let body = match serialized {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(%request_id, error = %e, "could not serialize a GraphQL response");
            return HttpResponse::InternalServerError().finish();
        }
    };
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
    builder.body(body)
}

/// The body of a request error: `errors` (and `extensions`, when any), no `data`.
#[derive(serde::Serialize)]
struct RequestErrorBody<'a> {
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, Value>,
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
