//! The one place where domain errors become GraphQL errors with `extensions.code`.
//! Internal causes are logged with the request id and never shown to the client.

use async_graphql::ErrorExtensions;
use domain::DomainError;
use uuid::Uuid;

/// Codes a client can branch on.
pub mod codes {
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const INTERNAL: &str = "INTERNAL";
    pub const UPSTREAM: &str = "UPSTREAM_UNAVAILABLE";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// The document is not valid GraphQL syntax.
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The document does not fit the schema (unknown field, wrong argument type, unknown or
    /// missing operation name).
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// The request would cost more than `graphql.max_complexity`.
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    /// Selections deeper than `graphql.max_depth`, or brackets nested past the parser's bound.
    pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
    /// The HTTP request is not a GraphQL request (no `query`, wrong parameter types, a batch).
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    /// The body is larger than the server accepts.
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
}

/// Turns a domain error into a GraphQL error; `request_id` is what the client may quote to us.
pub fn to_graphql(err: DomainError, request_id: Uuid) -> async_graphql::Error {
    match err {
        DomainError::NotFound { entity } => {
            async_graphql::Error::new(format!("{entity} not found"))
                .extend_with(|_, e| e.set("code", codes::NOT_FOUND))
        }
        DomainError::Invalid {
            code,
            field,
            message,
        } => async_graphql::Error::new(message).extend_with(|_, e| {
            e.set("code", code);
            if let Some(field) = field {
                e.set("field", field);
            }
        }),
        DomainError::Conflict { code, message } => {
            async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
        }
        DomainError::Forbidden(message) => {
            async_graphql::Error::new(message).extend_with(|_, e| e.set("code", codes::FORBIDDEN))
        }
        DomainError::Upstream { message, .. } => {
            tracing::warn!(%request_id, %message, "platform error");
            async_graphql::Error::new("a platform did not answer; try again later")
                .extend_with(|_, e| e.set("code", codes::UPSTREAM))
        }
        DomainError::Database(db) => internal(&db, request_id),
    }
}

/// An unexpected failure: logged in full, shown as `INTERNAL` with the request id only.
pub fn internal(cause: &dyn std::fmt::Display, request_id: Uuid) -> async_graphql::Error {
    tracing::error!(%request_id, error = %cause, "internal error");
    async_graphql::Error::new(format!("internal error (request {request_id})")).extend_with(
        |_, e| {
            e.set("code", codes::INTERNAL);
            e.set("requestId", request_id.to_string());
        },
    )
}
