//! `UserError`: an expected failure of a mutation (bad input, a conflict, a missing row), carried
//! in the payload's `userErrors` instead of as a GraphQL error.

use async_graphql::SimpleObject;
use domain::DomainError;
use uuid::Uuid;

use super::error::{codes, to_graphql};

/// Something about the input that kept a mutation from happening. Nothing was changed.
#[derive(SimpleObject, Clone, Debug)]
pub struct UserError {
    /// A stable code to branch on, e.g. `INVALID_URL` or `ACCOUNT_ALREADY_ASSOCIATED`.
    pub code: String,
    /// The input field at fault, when there is one (e.g. `handleOrUrl`).
    pub field: Option<String>,
    /// A sentence for the person who typed the input.
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

    /// An id argument that names nothing the caller can see.
    pub fn not_found(field: &str, what: &str) -> Self {
        UserError::new(
            codes::NOT_FOUND,
            Some(field),
            format!("no {what} with this id"),
        )
    }
}

/// Splits a domain error into a user error (expected failures) or a GraphQL error (everything
/// unexpected, logged and shown as INTERNAL). `field` names the argument a NotFound refers to.
pub fn user_error(
    err: DomainError,
    not_found_field: &str,
    request_id: Uuid,
) -> async_graphql::Result<UserError> {
    match err {
        DomainError::NotFound { entity } => Ok(UserError::new(
            codes::NOT_FOUND,
            Some(not_found_field),
            format!("{entity} not found"),
        )),
        DomainError::Invalid {
            code,
            field,
            message,
        } => Ok(UserError::new(code, field, message)),
        DomainError::Conflict { code, message } => Ok(UserError::new(code, None, message)),
        other => Err(to_graphql(other, request_id)),
    }
}
