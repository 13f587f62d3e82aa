//! The domain's error type. The API layer maps each variant to one GraphQL `extensions.code` and
//! one HTTP status, in one place.

use sea_orm::{DbErr, SqlErr};

/// What went wrong, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The row does not exist in the caller's organization (`NOT_FOUND`). Rows of other tenants
    /// are reported exactly like missing ones.
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// The input is well-formed but cannot be accepted (`BAD_USER_INPUT`-like user error).
    #[error("{message}")]
    Invalid {
        code: &'static str,
        field: Option<&'static str>,
        message: String,
    },
    /// A uniqueness rule of the model refuses the change (`CONFLICT`).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The caller may not do this (`FORBIDDEN`).
    #[error("{0}")]
    Forbidden(String),
    /// A platform failed; `retryable` says whether trying again later may help.
    #[error("platform error: {message}")]
    Upstream { retryable: bool, message: String },
    /// A database failure (`INTERNAL`); its text is logged, never shown.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

impl DomainError {
    pub fn not_found(entity: &'static str) -> Self {
        DomainError::NotFound { entity }
    }

    pub fn invalid(
        code: &'static str,
        field: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        DomainError::Invalid {
            code,
            field,
            message: message.into(),
        }
    }
}

/// True when `err` is a violation of a unique constraint, read from the driver's typed error
/// rather than from its message text.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub type DomainResult<T> = Result<T, DomainError>;
