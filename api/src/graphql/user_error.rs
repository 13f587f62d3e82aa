//! `UserError`: an expected failure a mutation reports in its payload instead of as a GraphQL
//! error (a profile that does not exist, an expiry out of range, a conflict).

use async_graphql::SimpleObject;
use domain::DomainError;
use uuid::Uuid;

use super::error::internal;

/// An expected failure of a mutation, for the user to fix.
#[derive(SimpleObject, Clone, Debug)]
pub struct UserError {
    /// A stable code to branch on, e.g. `NOT_FOUND` or `INVALID_EXPIRY`.
    pub code: String,
    /// The input field at fault, when one is.
    pub field: Option<String>,
    /// A sentence for humans.
    pub message: String,
}

impl UserError {
    pub fn new(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        UserError {
            code: code.to_owned(),
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// A domain error as a user error when the user can act on it, or as a GraphQL error otherwise.
pub fn from_domain(
    err: DomainError,
    not_found_field: &str,
    request_id: Uuid,
) -> async_graphql::Result<UserError> {
    match err {
        DomainError::NotFound { entity } => Ok(UserError::new(
            "NOT_FOUND",
            Some(not_found_field),
            format!("{entity} not found"),
        )),
        DomainError::Invalid {
            code,
            field,
            message,
        } => Ok(UserError::new(code, field, message)),
        DomainError::Conflict { code, message } => Ok(UserError::new(code, None, message)),
        DomainError::Forbidden(message) => Ok(UserError::new("FORBIDDEN", None, message)),
        DomainError::Upstream { .. } => Err(super::error::to_graphql(err, request_id)),
        DomainError::Database(db) => Err(internal(&db, request_id)),
    }
}
