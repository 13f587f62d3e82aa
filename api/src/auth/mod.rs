//! Authentication at the HTTP edge: turns the request's credentials into a [`Caller`] (or a 401),
//! and keeps each caller within its request budget (or a 429).
//!
//! - Users send `Authorization: Bearer <JWT>` (see [`jwt`]).
//! - Brand clients send their API key as `X-Api-Key: cl_live_…` or `Authorization: Bearer cl_live_…`.
//!
//! Nothing is anonymous: a request without credentials is refused in every mode.

pub mod jwks;
pub mod jwt;
pub mod rate_limit;

use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use chrono::Utc;
use domain::access::Caller;
use domain::api_keys::{self, KeyCheck};
use domain::secret::Secret;
use sea_orm::DatabaseConnection;

use jwt::JwtVerifier;
use rate_limit::RateLimiter;

/// Why a request is not authenticated (HTTP 401, `UNAUTHENTICATED`). Messages say what to fix and
/// never echo the credential.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required: send `Authorization: Bearer <token>` or `X-Api-Key: <key>`")]
    Missing,
    #[error("send one credential: one `Authorization` or one `X-Api-Key` header, not several")]
    Ambiguous,
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("invalid API key: {0}")]
    InvalidKey(&'static str),
    /// The credential could not be checked (the database failed); logged, reported as 503.
    #[error("authentication is unavailable, try again")]
    Unavailable,
}

/// Checks credentials and budgets.
pub struct Authenticator {
    jwt: JwtVerifier,
    limiter: RateLimiter,
}

impl Authenticator {
    pub fn new(jwt: JwtVerifier, limiter: RateLimiter) -> Authenticator {
        Authenticator { jwt, limiter }
    }

    /// The caller the request's credentials name.
    pub async fn authenticate(
        &self,
        db: &DatabaseConnection,
        headers: &HeaderMap,
    ) -> Result<Caller, AuthError> {
        // Two headers of a kind are refused rather than one of them silently winning.
        if headers.get_all(AUTHORIZATION).count() > 1 || headers.get_all("x-api-key").count() > 1 {
            return Err(AuthError::Ambiguous);
        }
        let api_key = headers.get("x-api-key").map(|v| v.to_str().unwrap_or(""));
        let bearer = headers.get(AUTHORIZATION).map(|v| {
            let v = v.to_str().unwrap_or("");
            match v.split_once(' ') {
                Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
                _ => "",
            }
        });
        match (api_key, bearer) {
            (None, None) => Err(AuthError::Missing),
            (Some(_), Some(_)) => Err(AuthError::Ambiguous),
            (Some(key), None) => self.key(db, key.trim()).await,
            (None, Some("")) => Err(AuthError::InvalidToken(
                "the Authorization header must be `Bearer <token>`".into(),
            )),
            (None, Some(token)) if api_keys::looks_like_key(token) => self.key(db, token).await,
            (None, Some(token)) => {
                let user = self.jwt.verify(token).await?;
                // A token for an organization that does not exist is no credential (it could
                // only fail later, on foreign keys).
                match domain::organizations::get(db, user.org).await {
                    Ok(_) => Ok(Caller::User(user)),
                    Err(domain::DomainError::NotFound { .. }) => {
                        tracing::info!(target: "audit", org = %user.org, "token for an unknown organization refused");
                        Err(AuthError::InvalidToken(
                            "the token's organization does not exist".into(),
                        ))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot check a token's organization");
                        Err(AuthError::Unavailable)
                    }
                }
            }
        }
    }

    async fn key(&self, db: &DatabaseConnection, key: &str) -> Result<Caller, AuthError> {
        let presented = Secret::new(key);
        match api_keys::authenticate(db, &presented, Utc::now()).await {
            Ok(KeyCheck::Valid(k)) => Ok(Caller::ApiKey(k)),
            // One answer for every outsider; which one it was goes to the log only.
            Ok(check) => {
                let reason = match check {
                    KeyCheck::Revoked => "revoked",
                    KeyCheck::Expired => "expired",
                    _ => "unknown",
                };
                tracing::info!(target: "audit", reason, "API key refused");
                Err(AuthError::InvalidKey("unknown, revoked or expired key"))
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot check an API key");
                Err(AuthError::Unavailable)
            }
        }
    }

    /// `Ok` when the caller is within its budget, else how long it must wait.
    pub async fn admit(&self, caller: &Caller) -> Result<(), std::time::Duration> {
        self.limiter.check(&caller.budget_key()).await
    }
}
