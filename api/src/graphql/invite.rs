//! Connect invites: the signed, expiring link to the hosted Connect page of one profile.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::entities::connect_invite;

use super::ids::{self, NodeType};
use super::user_error::{user_error as from_domain, UserError};
use super::ApiContext;

/// A link a creator opens, with no account, to connect accounts to one profile.
pub struct ConnectInvite(pub connect_invite::Model);

#[Object]
impl ConnectInvite {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ConnectInvite, self.0.id)
    }

    /// The profile the invite connects accounts to.
    async fn profile_id(&self) -> ID {
        ids::encode(NodeType::CreatorProfile, self.0.profile_id)
    }

    /// When the invite was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the link stops working.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }

    /// When the link was revoked, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// When the creator last opened the Connect page.
    async fn last_opened_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_opened_at
    }
}

/// What `createConnectInvite` needs.
#[derive(InputObject)]
pub struct CreateConnectInviteInput {
    /// The profile whose accounts the creator will connect.
    pub profile_id: ID,
    /// How long the link works, in seconds: from 300 (5 minutes) to 2592000 (30 days); default
    /// 604800 (7 days).
    pub expires_in: Option<i32>,
    /// The page offers "Back to <app>" with this URL: it must be on an origin the organization
    /// allows (`setConnectReturnOrigins`); else `RETURN_URL_NOT_ALLOWED`.
    pub return_url: Option<String>,
}

/// What `setConnectReturnOrigins` needs.
#[derive(InputObject)]
pub struct SetConnectReturnOriginsInput {
    /// Every origin (`https://app.example.com`: scheme, host, port) allowed as a `returnUrl`;
    /// replaces the current list. At most 20.
    pub origins: Vec<String>,
}

/// The result of `setConnectReturnOrigins`.
#[derive(SimpleObject)]
pub struct SetConnectReturnOriginsPayload {
    /// The allowed origins now, in canonical form; null when `userErrors` says why not.
    pub origins: Option<Vec<String>>,
    /// Why the list was not changed.
    pub user_errors: Vec<UserError>,
}

/// The result of `createConnectInvite`.
#[derive(SimpleObject)]
pub struct CreateConnectInvitePayload {
    /// The new invite; null when `userErrors` says why not.
    pub invite: Option<ConnectInvite>,
    /// The link to send to the creator. It is shown once: only its hash is stored.
    pub url: Option<String>,
    /// Why the invite was not created.
    pub user_errors: Vec<UserError>,
}

/// What `revokeConnectInvite` needs.
#[derive(InputObject)]
pub struct RevokeConnectInviteInput {
    /// The invite to revoke.
    pub id: ID,
}

/// The result of `revokeConnectInvite`.
#[derive(SimpleObject)]
pub struct RevokeConnectInvitePayload {
    /// The invite, with `revokedAt` set; null when `userErrors` says why not.
    pub invite: Option<ConnectInvite>,
    /// Why the invite was not revoked.
    pub user_errors: Vec<UserError>,
}

/// Creating and revoking Connect invites.
#[derive(Default)]
pub struct InviteMutation;

#[Object]
impl InviteMutation {
    /// Creates a signed, expiring link to the hosted Connect page of a profile, for a creator to
    /// connect, reconnect, unlink or remove their accounts without an account of their own.
    /// Access: roles admin and manager; no API keys; creators for their own profiles.
    async fn create_connect_invite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile and how long the link works.")]
        input: CreateConnectInviteInput,
    ) -> Result<CreateConnectInvitePayload> {
        let api = ctx.api();
        let fail = |e: UserError| CreateConnectInvitePayload {
            invite: None,
            url: None,
            user_errors: vec![e],
        };
        let Some(profile_id) = ids::decode_as(NodeType::CreatorProfile, &input.profile_id) else {
            return Ok(fail(UserError::new(
                "NOT_FOUND",
                Some("profileId"),
                "creator profile not found",
            )));
        };
        let expires_in = input
            .expires_in
            .map(|s| chrono::Duration::seconds(i64::from(s)));
        // Checked first, so a refused URL leaves no invite behind.
        if let Some(url) = input.return_url.as_deref() {
            if let Err(e) = domain::organizations::check_return_url(api.db(), api.org(), url).await
            {
                return Ok(fail(from_domain(e, "returnUrl", api.request_id())?));
            }
        }
        let created = domain::invites::create_at(
            api.db(),
            api.org(),
            profile_id,
            expires_in,
            &api.actor(),
            api.now(),
        )
        .await;
        let created = match (created, input.return_url.as_deref()) {
            (Ok((invite, token)), Some(url)) => {
                domain::invites::set_return_url(api.db(), api.org(), invite, url)
                    .await
                    .map(|invite| (invite, token))
            }
            (other, _) => other,
        };
        match created {
            Ok((invite, token)) => Ok(CreateConnectInvitePayload {
                url: Some(format!("{}/connect/{token}", api.public_url())),
                invite: Some(ConnectInvite(invite)),
                user_errors: vec![],
            }),
            Err(e) => Ok(fail(from_domain(e, "profileId", api.request_id())?)),
        }
    }

    /// Replaces the origins the organization allows as `returnUrl` of `startConnect` and
    /// `createConnectInvite` (where a creator goes back to after connecting).
    /// Access: role admin; no API keys; no creators.
    async fn set_connect_return_origins(
        &self,
        ctx: &Context<'_>,
        input: SetConnectReturnOriginsInput,
    ) -> Result<SetConnectReturnOriginsPayload> {
        let api = ctx.api();
        match domain::organizations::set_return_origins(api.db(), api.org(), &input.origins).await {
            Ok(origins) => Ok(SetConnectReturnOriginsPayload {
                origins: Some(origins),
                user_errors: vec![],
            }),
            Err(e) => Ok(SetConnectReturnOriginsPayload {
                origins: None,
                user_errors: vec![from_domain(e, "origins", api.request_id())?],
            }),
        }
    }

    /// Revokes a Connect invite: its page, its connect links and every sign-in begun from it stop
    /// working at once (a creator mid-way on the platform's consent page is refused on return,
    /// nothing linked). Revoking a revoked invite changes nothing.
    /// Access: roles admin and manager; no API keys; creators for their own profiles.
    async fn revoke_connect_invite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invite to revoke.")] input: RevokeConnectInviteInput,
    ) -> Result<RevokeConnectInvitePayload> {
        let api = ctx.api();
        let fail = |e: UserError| RevokeConnectInvitePayload {
            invite: None,
            user_errors: vec![e],
        };
        let Some(id) = ids::decode_as(NodeType::ConnectInvite, &input.id) else {
            return Ok(fail(UserError::new(
                "NOT_FOUND",
                Some("id"),
                "connect invite not found",
            )));
        };
        match domain::invites::revoke(api.db(), api.org(), id, api.now()).await {
            Ok(invite) => Ok(RevokeConnectInvitePayload {
                invite: Some(ConnectInvite(invite)),
                user_errors: vec![],
            }),
            Err(e) => Ok(fail(from_domain(e, "id", api.request_id())?)),
        }
    }
}
