//! Connecting, unlinking and removing social accounts: `startConnect`, `unlinkSocialAccount`,
//! `removeSocialAccount`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use domain::DomainError;

fn user_error(err: DomainError, request_id: uuid::Uuid, field: &str) -> Result<UserError> {
    split_error(err, field, request_id)
}

use super::ids::{self, NodeType};
use super::kinds::{InvalidReason, LinkStatus, Platform};
use super::user_error::{user_error as split_error, UserError};
use super::ApiContext;

/// Starts linking an account: where to send the creator's browser.
#[derive(InputObject)]
pub struct StartConnectInput {
    /// The profile the account will belong to.
    pub profile_id: ID,
    /// The platform to connect (Instagram and Facebook both sign in with Facebook).
    pub platform: Platform,
    /// To reconnect an existing account: its id. The creator must sign in as that same account.
    pub account_id: Option<ID>,
    /// Where the browser goes when the flow ends, with `notice=connected` or
    /// `error=<CODE>&platform=…` added to its query: a URL on an origin the organization allows
    /// (`setConnectReturnOrigins`); else `RETURN_URL_NOT_ALLOWED`.
    pub return_url: Option<String>,
}

/// The result of `startConnect`.
#[derive(SimpleObject)]
pub struct StartConnectPayload {
    /// The platform's consent page; valid for 10 minutes and one use.
    pub authorize_url: Option<String>,
    /// Why nothing was started.
    pub user_errors: Vec<UserError>,
}

/// Names the account to unlink or remove.
#[derive(InputObject)]
pub struct SocialAccountInput {
    /// The account's id.
    pub account_id: ID,
}

/// The result of `unlinkSocialAccount` and `removeSocialAccount`.
#[derive(SimpleObject, Default)]
pub struct EndLinkPayload {
    /// The account's id.
    pub account_id: Option<ID>,
    /// The link's status now (INVALID).
    pub status: Option<LinkStatus>,
    /// Why (UNLINKED or REMOVED).
    pub invalid_reason: Option<InvalidReason>,
    /// Whether the platform confirmed the revoke (false when it already had no grant, kept
    /// failing, or nothing was stored). The stored tokens are erased either way.
    pub revoked_upstream: bool,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Mutations of the connect flow.
#[derive(Default)]
pub struct ConnectMutation;

#[Object]
impl ConnectMutation {
    /// Returns the URL of the platform's consent page for the creator to open; the callback links
    /// the account(s) to the profile. Read-only permissions only.
    /// Access: roles admin and manager; API keys with `accounts:write`; creators for their own
    /// profiles.
    async fn start_connect(
        &self,
        ctx: &Context<'_>,
        input: StartConnectInput,
    ) -> Result<StartConnectPayload> {
        let api = ctx.api();
        let fail = |e: UserError| StartConnectPayload {
            authorize_url: None,
            user_errors: vec![e],
        };
        let Some(profile_id) = ids::decode_as(NodeType::CreatorProfile, &input.profile_id) else {
            return Ok(fail(UserError::new(
                "NOT_FOUND",
                Some("profileId"),
                "creator profile not found",
            )));
        };
        let account_id = match &input.account_id {
            Some(id) => match ids::decode_as(NodeType::SocialAccount, id) {
                Some(uuid) => Some(uuid),
                None => {
                    return Ok(fail(UserError::new(
                        "NOT_FOUND",
                        Some("accountId"),
                        "social account not found",
                    )))
                }
            },
            None => None,
        };
        let services = api.services();
        let started = domain::connect::begin(
            api.db(),
            &services.keyring,
            &services.clients,
            api.org(),
            domain::connect::BeginConnect {
                profile_id,
                platform: input.platform.into(),
                invite_id: None,
                account_id,
                redirect_to: None,
                return_url: input.return_url.clone(),
            },
        )
        .await;
        match started {
            Ok(url) => Ok(StartConnectPayload {
                authorize_url: Some(url.to_string()),
                user_errors: vec![],
            }),
            Err(e) => Ok(fail(user_error(e, api.request_id(), "profileId")?)),
        }
    }

    /// Unlinks an account: revokes the grant on the platform, erases the stored tokens, and marks
    /// the link INVALID/UNLINKED. The account stays on its profile (RECONNECT brings it back).
    /// Access: roles admin and manager; API keys with `accounts:write`; creators for their own
    /// profiles.
    async fn unlink_social_account(
        &self,
        ctx: &Context<'_>,
        input: SocialAccountInput,
    ) -> Result<EndLinkPayload> {
        end_link(ctx, input, false).await
    }

    /// Removes an account from its profile: revokes the grant, erases the tokens, marks the link
    /// INVALID/REMOVED and detaches the account.
    /// Access: roles admin and manager; API keys with `accounts:write`; creators for their own
    /// profiles.
    async fn remove_social_account(
        &self,
        ctx: &Context<'_>,
        input: SocialAccountInput,
    ) -> Result<EndLinkPayload> {
        end_link(ctx, input, true).await
    }
}

async fn end_link(
    ctx: &Context<'_>,
    input: SocialAccountInput,
    remove: bool,
) -> Result<EndLinkPayload> {
    let api = ctx.api();
    let Some(account_id) = ids::decode_as(NodeType::SocialAccount, &input.account_id) else {
        return Ok(EndLinkPayload {
            user_errors: vec![UserError::new(
                "NOT_FOUND",
                Some("accountId"),
                "social account not found",
            )],
            ..Default::default()
        });
    };
    let services = api.services();
    let (db, keyring, clients, org) = (api.db(), &*services.keyring, &services.clients, api.org());
    let result = if remove {
        domain::link::revoke::remove(db, keyring, clients, org, account_id, api.actor()).await
    } else {
        domain::link::revoke::unlink(db, keyring, clients, org, account_id, api.actor()).await
    };
    match result {
        Ok(done) => Ok(EndLinkPayload {
            account_id: Some(ids::encode(NodeType::SocialAccount, done.account.id)),
            status: done.link.as_ref().map(|l| l.status.into()),
            invalid_reason: done
                .link
                .as_ref()
                .and_then(|l| l.invalid_reason)
                .map(Into::into),
            revoked_upstream: done.revoked == domain::link::revoke::Revoked::Yes,
            user_errors: vec![],
        }),
        Err(e) => Ok(EndLinkPayload {
            user_errors: vec![user_error(e, api.request_id(), "accountId")?],
            ..Default::default()
        }),
    }
}
