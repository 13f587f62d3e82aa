//! The connect flow (design §9): [`begin`] creates a single-use `oauth_state` and returns the
//! platform's authorize URL; [`complete`] verifies the state on the callback, exchanges the code,
//! seals the tokens, reads the account(s) and links them with an identity-checked upsert; for a
//! Meta login that reaches several Pages, [`complete`] asks the creator to pick one and
//! [`choose_page`] finishes.
//!
//! The state is 32 random bytes sent to the platform and stored only as its SHA-256, expires after
//! [`STATE_LIFETIME`], is consumed with a conditional update (so two callbacks racing with one
//! state cannot both win), and binds the organization, profile, invite and account being
//! reconnected: nothing on the callback URL but `state` and `code` is trusted.

mod grant;
mod upsert;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

use crate::entities::{connect_invite, oauth_state, social_account};
use crate::error::{DomainError, DomainResult};
use crate::kinds::{InvalidReason, LinkStatus, Platform, Provider};
use crate::platforms::{Clients, PlatformError, TokenSet};
use crate::secret::Secret;
use crate::tenant::OrgId;
use crate::vault::{Aad, Keyring, TokenKind};

pub use grant::GrantedAccount;
pub use upsert::ALREADY_ASSOCIATED;

/// How long a login attempt may take between the redirect to the platform and the callback (and
/// again between the callback and a Meta Page selection).
pub const STATE_LIFETIME: Duration = Duration::minutes(10);

/// Error codes of the flow (`DomainError::Invalid.code`).
pub mod codes {
    /// The `state` is not one we issued (forged, truncated, or for another provider).
    pub const STATE_INVALID: &str = "OAUTH_STATE_INVALID";
    /// The `state` was already used (a replayed callback).
    pub const STATE_USED: &str = "OAUTH_STATE_USED";
    /// The `state` is older than ten minutes.
    pub const STATE_EXPIRED: &str = "OAUTH_STATE_EXPIRED";
    /// The creator cancelled on the platform's consent page.
    pub const ACCESS_DENIED: &str = "ACCESS_DENIED";
    /// `redirect_to` is not a path of this application.
    pub const REDIRECT_NOT_ALLOWED: &str = "REDIRECT_NOT_ALLOWED";
    /// The invite the login started from is expired or revoked.
    pub const INVITE_INVALID: &str = "INVITE_INVALID";
    /// The account cannot be linked (e.g. Instagram not professional or not attached to a Page).
    pub const NOT_ELIGIBLE: &str = "ACCOUNT_NOT_ELIGIBLE";
    /// The Google account has no YouTube channel.
    pub const NO_CHANNEL: &str = "NO_CHANNEL";
    /// A permission the product needs was not granted.
    pub const SCOPES_MISSING: &str = "SCOPES_MISSING";
    /// The platform refused the login for another reason.
    pub const AUTHORIZATION_FAILED: &str = "AUTHORIZATION_FAILED";
    /// The platform asked for is not the one of the account being reconnected.
    pub const PLATFORM_MISMATCH: &str = "PLATFORM_MISMATCH";
}

/// What a connect starts from.
#[derive(Debug, Clone)]
pub struct BeginConnect {
    /// The profile the account(s) will be linked to.
    pub profile_id: Uuid,
    /// The platform the creator clicked (Instagram and Facebook both log in with Meta).
    pub platform: Platform,
    /// The invite the creator came through, if any.
    pub invite_id: Option<Uuid>,
    /// The account being reconnected, if any: the login must be for this same account.
    pub account_id: Option<Uuid>,
    /// Where to send the browser afterwards: a path of this application (e.g. `/connect/{token}`).
    pub redirect_to: Option<String>,
    /// Or a URL of the organization's own app (`returnUrl`), on an origin it allows.
    pub return_url: Option<String>,
}

/// What the platform sent back to the callback.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The provider whose callback URL was hit.
    pub provider: Provider,
    pub state: String,
    pub code: Option<String>,
    /// The platform's `error` (e.g. `access_denied`) when the creator cancelled.
    pub error: Option<String>,
}

/// One account the flow linked (or found unusable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedAccount {
    pub account_id: Uuid,
    pub platform: Platform,
    pub handle: String,
    pub display_name: Option<String>,
    /// LINKED, or INVALID with `invalid_reason` (e.g. SCOPES_MISSING).
    pub status: LinkStatus,
    pub invalid_reason: Option<InvalidReason>,
    /// Permissions the creator did not grant.
    pub missing_scopes: Vec<String>,
}

/// A Page the creator can pick on the selection step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageChoice {
    pub page_id: String,
    pub name: Option<String>,
    /// The Instagram professional account attached to the Page, if any.
    pub instagram_username: Option<String>,
}

/// How a callback ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The accounts are linked (or recorded as unusable, with the reason).
    Linked {
        org: OrgId,
        profile_id: Uuid,
        accounts: Vec<LinkedAccount>,
        redirect_to: Option<String>,
    },
    /// The Meta user manages several Pages: show them, then call [`choose_page`] with
    /// `selection` and the Page picked.
    ChoosePage {
        selection: Secret,
        pages: Vec<PageChoice>,
        redirect_to: Option<String>,
    },
}

/// A connect that failed: the error, and the page of this application the creator started from
/// (the state's `redirect_to`) when it is still known, so the browser can be sent back there with
/// the outcome instead of being left on a bare error page.
#[derive(Debug)]
pub struct Failed {
    pub error: DomainError,
    pub back_to: Option<String>,
}

impl From<DomainError> for Failed {
    fn from(error: DomainError) -> Self {
        Failed {
            error,
            back_to: None,
        }
    }
}

impl From<sea_orm::DbErr> for Failed {
    fn from(e: sea_orm::DbErr) -> Self {
        DomainError::from(e).into()
    }
}

/// Hex SHA-256 of a token (states, selection tokens and invite tokens are stored this way).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token() -> Secret {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// Accepts only a path of this application (`/…`, not `//host` or a scheme): the allow list for
/// where a finished connect may send the browser.
pub fn checked_redirect(target: &str) -> DomainResult<String> {
    let ok = target.starts_with('/')
        && !target.starts_with("//")
        && !target.contains('\\')
        && !target.chars().any(|c| c.is_control())
        && Url::parse("http://localhost")
            .ok()
            .and_then(|base| base.join(target).ok())
            .is_some_and(|u| u.host_str() == Some("localhost"));
    if ok {
        Ok(target.to_owned())
    } else {
        Err(DomainError::invalid(
            codes::REDIRECT_NOT_ALLOWED,
            Some("redirectTo"),
            "the redirect target must be a path of this application",
        ))
    }
}

/// The domain error for a platform failure during the flow; never carries a token (the clients
/// scrub their messages).
pub fn platform_error(err: PlatformError) -> DomainError {
    match err {
        PlatformError::NotEligible { message } => {
            DomainError::invalid(codes::NOT_ELIGIBLE, None, message)
        }
        PlatformError::NoChannel => DomainError::invalid(
            codes::NO_CHANNEL,
            None,
            "this Google account has no YouTube channel",
        ),
        PlatformError::ScopeMissing { message, .. } => DomainError::invalid(
            codes::SCOPES_MISSING,
            None,
            format!("a required permission was not granted ({message})"),
        ),
        PlatformError::Invalid { message, .. } => {
            DomainError::invalid(codes::AUTHORIZATION_FAILED, None, message)
        }
        other => DomainError::Upstream {
            retryable: other.is_retryable(),
            message: other.to_string(),
        },
    }
}

/// [`platform_error`] for the code exchange: a request the token endpoint refuses (a code
/// already used, expired, minted for another flow's PKCE challenge, or a redirect URI the app
/// does not register) is a refused sign-in (400), not an outage.
fn exchange_error(err: PlatformError) -> DomainError {
    match err {
        PlatformError::BadRequest { message } => {
            tracing::warn!(%message, "the platform refused the authorization code");
            DomainError::invalid(
                codes::AUTHORIZATION_FAILED,
                Some("code"),
                "the platform refused this sign-in; start again from the Connect button",
            )
        }
        other => platform_error(other),
    }
}

/// Starts a connect: checks the profile (and the account being reconnected) belong to `org`,
/// stores a single-use state (hashed) with the sealed PKCE verifier, and returns the URL of the
/// platform's consent page.
#[tracing::instrument(skip(db, keyring, clients, req), fields(org = %org, platform = ?req.platform))]
pub async fn begin(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    clients: &Clients,
    org: OrgId,
    req: BeginConnect,
) -> DomainResult<Url> {
    crate::profiles::get(db, org, req.profile_id).await?;
    if let Some(account_id) = req.account_id {
        let account = social_account::Entity::find_by_id(account_id)
            .filter(social_account::Column::OrganizationId.eq(org.uuid()))
            .filter(social_account::Column::ProfileId.eq(req.profile_id))
            .one(db)
            .await?
            .ok_or(DomainError::not_found("social account"))?;
        if account.platform.provider() != req.platform.provider() {
            return Err(DomainError::invalid(
                codes::PLATFORM_MISMATCH,
                Some("platform"),
                format!(
                    "this account is on {}, not {}",
                    account.platform.as_str(),
                    req.platform.as_str()
                ),
            ));
        }
    }
    let redirect_to = match (req.redirect_to.as_deref(), req.return_url.as_deref()) {
        (Some(path), _) => Some(checked_redirect(path)?),
        (None, Some(url)) => Some(crate::organizations::check_return_url(db, org, url).await?),
        (None, None) => None,
    };
    let client = clients.get(req.platform.provider());
    let now = clients.now();
    let state = random_token();
    let id = Uuid::now_v7();
    let pkce = client.supports_pkce().then(crate::platforms::new_pkce);
    let sealed_verifier = pkce
        .as_ref()
        .map(|p| keyring.seal(&p.verifier, &Aad::new(id, TokenKind::PkceVerifier)));
    oauth_state::ActiveModel {
        id: Set(id),
        organization_id: Set(org.uuid()),
        state_hash: Set(token_hash(state.expose())),
        provider: Set(req.platform.provider().as_str().to_owned()),
        platform: Set(Some(req.platform)),
        profile_id: Set(req.profile_id),
        account_id: Set(req.account_id),
        invite_id: Set(req.invite_id),
        pkce_verifier: Set(sealed_verifier),
        redirect_to: Set(redirect_to),
        created_at: Set(now),
        expires_at: Set(now + STATE_LIFETIME),
        used_at: Set(None),
        pending_grant: Set(None),
        selection_hash: Set(None),
    }
    .insert(db)
    .await?;
    Ok(client.authorize_url(state.expose(), pkce.as_ref().map(|p| p.challenge.as_str())))
}

/// Consumes the state named by `hash` if it is unused and unexpired: one conditional UPDATE, so
/// of two racing callbacks exactly one wins. Errors say which rule failed.
async fn consume_state(
    db: &impl ConnectionTrait,
    hash: &str,
    provider: Provider,
    now: DateTime<Utc>,
) -> Result<oauth_state::Model, Failed> {
    let row = oauth_state::Entity::find()
        .filter(oauth_state::Column::StateHash.eq(hash))
        .one(db)
        .await?
        .filter(|r| r.provider == provider.as_str())
        .ok_or_else(|| {
            DomainError::invalid(
                codes::STATE_INVALID,
                Some("state"),
                "this sign-in link is not valid; start again from the Connect button",
            )
        })?;
    // The redirect may name an invite link (a credential): it does not outlive the state's use.
    let updated = oauth_state::Entity::update_many()
        .col_expr(oauth_state::Column::UsedAt, Expr::value(now))
        .col_expr(
            oauth_state::Column::RedirectTo,
            Expr::value(Option::<String>::None),
        )
        .filter(oauth_state::Column::Id.eq(row.id))
        .filter(oauth_state::Column::UsedAt.is_null())
        .filter(oauth_state::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if updated.rows_affected == 1 {
        return Ok(row);
    }
    // A used state no longer holds its redirect (see above); an expired one still does.
    let error = if row.used_at.is_some() || row.expires_at > now {
        DomainError::invalid(
            codes::STATE_USED,
            Some("state"),
            "this sign-in was already completed; start again from the Connect button",
        )
    } else {
        DomainError::invalid(
            codes::STATE_EXPIRED,
            Some("state"),
            "this sign-in took longer than 10 minutes; start again from the Connect button",
        )
    };
    Err(Failed {
        error,
        back_to: row.redirect_to.filter(|_| row.used_at.is_none()),
    })
}

/// Fails when the invite the flow started from was revoked or expired meanwhile.
async fn check_invite(
    db: &impl ConnectionTrait,
    state: &oauth_state::Model,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Some(invite_id) = state.invite_id else {
        return Ok(());
    };
    let usable = connect_invite::Entity::find_by_id(invite_id)
        .filter(connect_invite::Column::OrganizationId.eq(state.organization_id))
        .one(db)
        .await?
        .is_some_and(|i| i.revoked_at.is_none() && i.expires_at > now);
    if usable {
        Ok(())
    } else {
        Err(DomainError::invalid(
            codes::INVITE_INVALID,
            None,
            "this invite link has expired or was withdrawn; ask for a new one",
        ))
    }
}

/// Finishes a connect on the platform's callback. Every failure leaves the database unchanged
/// except the state, which is spent either way; it names the page the flow started from when
/// the state did.
#[tracing::instrument(skip_all, fields(provider = callback.provider.as_str()))]
pub async fn complete(
    db: &(impl ConnectionTrait + TransactionTrait),
    keyring: &Keyring,
    clients: &Clients,
    callback: Callback,
) -> Result<Outcome, Failed> {
    let now = clients.now();
    let state = consume_state(db, &token_hash(&callback.state), callback.provider, now).await?;
    complete_consumed(db, keyring, clients, callback, &state, now)
        .await
        .map_err(|error| Failed {
            error,
            back_to: state.redirect_to.clone(),
        })
}

async fn complete_consumed(
    db: &(impl ConnectionTrait + TransactionTrait),
    keyring: &Keyring,
    clients: &Clients,
    callback: Callback,
    state: &oauth_state::Model,
    now: DateTime<Utc>,
) -> DomainResult<Outcome> {
    if let Some(error) = callback.error.as_deref() {
        tracing::info!(%error, "the creator did not grant access");
        return Err(DomainError::invalid(
            codes::ACCESS_DENIED,
            None,
            "access was not granted on the platform; nothing was linked",
        ));
    }
    let code = callback
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            DomainError::invalid(
                codes::STATE_INVALID,
                Some("code"),
                "the platform sent no code",
            )
        })?;
    check_invite(db, state, now).await?;
    let verifier = state
        .pkce_verifier
        .as_deref()
        .map(|sealed| keyring.open(sealed, &Aad::new(state.id, TokenKind::PkceVerifier)))
        .transpose()
        .map_err(|e| DomainError::Upstream {
            retryable: false,
            message: format!("cannot open the PKCE verifier: {e}"),
        })?;
    let client = clients.get(callback.provider);
    let tokens = client
        .exchange_code(code, verifier.as_ref(), now)
        .await
        .map_err(exchange_error)?;
    if callback.provider == Provider::Meta {
        return grant::meta_after_exchange(db, keyring, clients, state, tokens).await;
    }
    grant::link_grant(db, keyring, clients, state, tokens, None).await
}

/// The token set of a pending Meta grant, serialized for sealing (never logged).
#[derive(Serialize, Deserialize)]
struct PendingGrant {
    access_token: String,
    access_expires_at: Option<DateTime<Utc>>,
    data_access_expires_at: Option<DateTime<Utc>>,
    granted_scopes: Vec<String>,
    provider_user_id: Option<String>,
}

impl PendingGrant {
    fn of(tokens: &TokenSet) -> Self {
        PendingGrant {
            access_token: tokens.access_token.expose().to_owned(),
            access_expires_at: tokens.access_expires_at,
            data_access_expires_at: tokens.data_access_expires_at,
            granted_scopes: tokens.granted_scopes.clone(),
            provider_user_id: tokens.provider_user_id.clone(),
        }
    }

    fn into_tokens(self) -> TokenSet {
        TokenSet {
            access_token: Secret::new(self.access_token),
            access_expires_at: self.access_expires_at,
            refresh_token: None,
            refresh_expires_at: None,
            data_access_expires_at: self.data_access_expires_at,
            granted_scopes: self.granted_scopes,
            provider_user_id: self.provider_user_id,
        }
    }
}

/// Finishes a Meta connect after the creator picked `page_id` on the selection step. The
/// selection token works once, within [`STATE_LIFETIME`] of the callback.
#[tracing::instrument(skip_all)]
pub async fn choose_page(
    db: &(impl ConnectionTrait + TransactionTrait),
    keyring: &Keyring,
    clients: &Clients,
    selection: &str,
    page_id: &str,
) -> Result<Outcome, Failed> {
    let now = clients.now();
    let hash = token_hash(selection);
    let invalid = || {
        DomainError::invalid(
            codes::STATE_INVALID,
            Some("selection"),
            "this Page selection is not valid any more; start again from the Connect button",
        )
    };
    let state = oauth_state::Entity::find()
        .filter(oauth_state::Column::SelectionHash.eq(hash.as_str()))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    // Take the pending grant exactly once.
    let taken = oauth_state::Entity::update_many()
        .col_expr(
            oauth_state::Column::PendingGrant,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            oauth_state::Column::SelectionHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            oauth_state::Column::RedirectTo,
            Expr::value(Option::<String>::None),
        )
        .filter(oauth_state::Column::Id.eq(state.id))
        .filter(oauth_state::Column::SelectionHash.eq(hash.as_str()))
        .filter(oauth_state::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    let back_to = state.redirect_to.clone();
    let failed = |error| Failed {
        error,
        back_to: back_to.clone(),
    };
    let sealed = state.pending_grant.as_deref().ok_or_else(invalid)?;
    if taken.rows_affected != 1 {
        return Err(if state.expires_at <= now {
            failed(DomainError::invalid(
                codes::STATE_EXPIRED,
                Some("selection"),
                "the Page selection took longer than 10 minutes; start again from the Connect button",
            ))
        } else {
            invalid().into()
        });
    }
    let json = keyring
        .open(sealed, &Aad::new(state.id, TokenKind::Access))
        .map_err(|_| failed(invalid()))?;
    let pending: PendingGrant =
        serde_json::from_str(json.expose()).map_err(|_| failed(invalid()))?;
    check_invite(db, &state, now).await.map_err(failed)?;
    grant::link_grant(
        db,
        keyring,
        clients,
        &state,
        pending.into_tokens(),
        Some(page_id),
    )
    .await
    .map_err(failed)
}

/// Keeps a Meta grant on its state row until the creator picks a Page; returns the selection token.
async fn hold_for_selection(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    state: &oauth_state::Model,
    tokens: &TokenSet,
    now: DateTime<Utc>,
) -> DomainResult<Secret> {
    let selection = random_token();
    let json =
        serde_json::to_string(&PendingGrant::of(tokens)).map_err(|e| DomainError::Upstream {
            retryable: false,
            message: format!("cannot keep the grant: {e}"),
        })?;
    let sealed = keyring.seal(&Secret::new(json), &Aad::new(state.id, TokenKind::Access));
    oauth_state::Entity::update_many()
        .col_expr(oauth_state::Column::PendingGrant, Expr::value(sealed))
        .col_expr(
            oauth_state::Column::SelectionHash,
            Expr::value(token_hash(selection.expose())),
        )
        .col_expr(
            oauth_state::Column::ExpiresAt,
            Expr::value(now + STATE_LIFETIME),
        )
        .col_expr(
            oauth_state::Column::RedirectTo,
            Expr::value(state.redirect_to.clone()),
        )
        .filter(oauth_state::Column::Id.eq(state.id))
        .exec(db)
        .await?;
    Ok(selection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_application_are_allowed_as_redirect_targets() {
        assert!(checked_redirect("/connect/abc123").is_ok());
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "javascript:alert(1)",
            "connect/abc",
            "/connect/\nSet-Cookie: x",
        ] {
            let err = checked_redirect(bad).expect_err(bad);
            assert!(
                matches!(err, DomainError::Invalid { code, .. } if code == codes::REDIRECT_NOT_ALLOWED),
                "{bad}"
            );
        }
    }

    #[test]
    fn states_are_stored_as_their_sha256() {
        let token = random_token();
        let hash = token_hash(token.expose());
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, token.expose());
        assert_ne!(token_hash(random_token().expose()), hash);
    }
}
