//! A creator's privacy rights: export everything stored about a profile, or erase it.

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject, ID};

use super::ids::{self, NodeType};
use super::user_error::{user_error as from_domain, UserError};
use super::ApiContext;

/// Names the profile a privacy request is about.
#[derive(InputObject)]
pub struct CreatorDataInput {
    /// The creator profile.
    pub profile_id: ID,
}

/// The result of `exportCreatorData`.
#[derive(SimpleObject)]
pub struct ExportCreatorDataPayload {
    /// Everything stored about the profile (profile, accounts, link states, media and their
    /// metrics, daily metrics, audiences, freshness, events, invites) as one JSON document.
    /// Secrets (tokens, verifiers, invite token hashes) are never part of it. Null when
    /// `userErrors` says why not.
    pub data: Option<Json<serde_json::Value>>,
    /// Why nothing was exported.
    pub user_errors: Vec<UserError>,
}

/// The result of `eraseCreatorData`.
#[derive(SimpleObject)]
pub struct EraseCreatorDataPayload {
    /// The id of the profile that no longer exists; null when `userErrors` says why not.
    pub erased_profile_id: Option<ID>,
    /// How many social accounts were deleted with it.
    pub accounts_erased: i32,
    /// How many authorizations were revoked at their platform.
    pub revoked_upstream: i32,
    /// How many platform revokes failed; the tokens were deleted all the same.
    pub revoke_failures: i32,
    /// Why nothing was erased.
    pub user_errors: Vec<UserError>,
}

/// Export and erasure of a creator's data.
#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Everything stored about a profile, except secrets, as one JSON document (the creator's
    /// right of access).
    /// Access: roles admin and manager; no API keys; creators for their own profiles.
    async fn export_creator_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile to export.")] input: CreatorDataInput,
    ) -> Result<ExportCreatorDataPayload> {
        let api = ctx.api();
        let Some(profile_id) = ids::decode_as(NodeType::CreatorProfile, &input.profile_id) else {
            return Ok(ExportCreatorDataPayload {
                data: None,
                user_errors: vec![UserError::new(
                    "NOT_FOUND",
                    Some("profileId"),
                    "creator profile not found",
                )],
            });
        };
        match domain::privacy::export(api.db(), api.org(), profile_id).await {
            Ok(data) => Ok(ExportCreatorDataPayload {
                data: Some(Json(data)),
                user_errors: vec![],
            }),
            Err(e) => Ok(ExportCreatorDataPayload {
                data: None,
                user_errors: vec![from_domain(e, "profileId", api.request_id())?],
            }),
        }
    }

    /// Erases a profile (the creator's right to erasure): revokes every authorization at its
    /// platform, deletes tokens, accounts, media, metrics, audiences, events and invites, and
    /// keeps only a minimal audit tombstone (when, by whom, how much).
    /// Access: role admin; no API keys; creators for their own profiles.
    async fn erase_creator_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile to erase.")] input: CreatorDataInput,
    ) -> Result<EraseCreatorDataPayload> {
        let api = ctx.api();
        let fail = |e: UserError| EraseCreatorDataPayload {
            erased_profile_id: None,
            accounts_erased: 0,
            revoked_upstream: 0,
            revoke_failures: 0,
            user_errors: vec![e],
        };
        let Some(profile_id) = ids::decode_as(NodeType::CreatorProfile, &input.profile_id) else {
            return Ok(fail(UserError::new(
                "NOT_FOUND",
                Some("profileId"),
                "creator profile not found",
            )));
        };
        let services = api.services();
        let revoker = domain::link::revoke::PlatformRevoker {
            keyring: &services.keyring,
            clients: &services.clients,
        };
        match domain::privacy::erase(api.db(), api.org(), profile_id, &api.actor(), &revoker).await
        {
            Ok(erasure) => Ok(EraseCreatorDataPayload {
                erased_profile_id: Some(input.profile_id),
                accounts_erased: erasure.accounts as i32,
                revoked_upstream: erasure.revoked_upstream as i32,
                revoke_failures: erasure.revoke_failures as i32,
                user_errors: vec![],
            }),
            Err(e) => Ok(fail(from_domain(e, "profileId", api.request_id())?)),
        }
    }
}
