//! Changing creator profiles: create, update, delete, group members and merging.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use domain::profiles::{NewProfile, ProfileChanges};
use uuid::Uuid;

use super::ids::{self, NodeType};
use super::profile::{CreatorProfile, ProfileKind};
use super::user_error::{user_error, UserError};
use super::ApiContext;

fn profile_id(id: &ID, field: &str, errors: &mut Vec<UserError>) -> Option<Uuid> {
    let uuid = ids::decode_as(NodeType::CreatorProfile, id);
    if uuid.is_none() {
        errors.push(UserError::not_found(field, "creator profile"));
    }
    uuid
}

/// A new profile.
#[derive(InputObject)]
pub struct CreateCreatorProfileInput {
    /// The name the organization knows the creator by.
    pub name: String,
    /// One creator (the default) or a group.
    #[graphql(default_with = "ProfileKind::Individual")]
    pub kind: ProfileKind,
    /// A contact email.
    pub email: Option<String>,
    /// Free-form notes.
    pub notes: Option<String>,
}

/// The result of a mutation that returns one profile.
#[derive(SimpleObject)]
pub struct CreatorProfilePayload {
    /// The profile after the change; null on error.
    pub creator_profile: Option<CreatorProfile>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Changes to a profile; omitted fields stay as they are, `null` clears email or notes.
#[derive(InputObject)]
pub struct UpdateCreatorProfileInput {
    /// The profile.
    pub id: ID,
    /// A new name.
    pub name: Option<String>,
    /// A new email; null clears it.
    pub email: async_graphql::MaybeUndefined<String>,
    /// New notes; null clears them.
    pub notes: async_graphql::MaybeUndefined<String>,
}

/// Which profile to delete.
#[derive(InputObject)]
pub struct DeleteCreatorProfileInput {
    /// The profile.
    pub id: ID,
}

/// The result of `deleteCreatorProfile`.
#[derive(SimpleObject)]
pub struct DeleteCreatorProfilePayload {
    /// The id of the deleted profile; null on error.
    pub deleted_creator_profile_id: Option<ID>,
    /// Why nothing was deleted.
    pub user_errors: Vec<UserError>,
}

/// A membership of an individual profile in a group profile.
#[derive(InputObject)]
pub struct GroupMemberInput {
    /// The GROUP profile.
    pub group_id: ID,
    /// The INDIVIDUAL profile.
    pub member_id: ID,
}

/// The result of adding or removing a group member.
#[derive(SimpleObject)]
pub struct GroupMemberPayload {
    /// The group after the change; null on error.
    pub group: Option<CreatorProfile>,
    /// The member profile; null on error.
    pub member: Option<CreatorProfile>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Which profile to merge into which.
#[derive(InputObject)]
pub struct MergeCreatorProfilesInput {
    /// The profile that goes away.
    pub source_id: ID,
    /// The profile that stays and receives everything.
    pub target_id: ID,
}

/// The result of `mergeCreatorProfiles`.
#[derive(SimpleObject)]
pub struct MergeCreatorProfilesPayload {
    /// The target profile, now holding the source's accounts, memberships and history.
    pub creator_profile: Option<CreatorProfile>,
    /// The id of the source profile, which no longer exists.
    pub deleted_creator_profile_id: Option<ID>,
    /// Why nothing was merged.
    pub user_errors: Vec<UserError>,
}

fn maybe(v: async_graphql::MaybeUndefined<String>) -> Option<Option<String>> {
    match v {
        async_graphql::MaybeUndefined::Undefined => None,
        async_graphql::MaybeUndefined::Null => Some(None),
        async_graphql::MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// Changing creator profiles.
#[derive(Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Creates a creator profile.
    /// Access: roles admin and manager; API keys with `accounts:write`; no creators.
    async fn create_creator_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new profile.")] input: CreateCreatorProfileInput,
    ) -> Result<CreatorProfilePayload> {
        let api = ctx.api();
        let new = NewProfile {
            kind: input.kind.into(),
            name: input.name,
            email: input.email,
            notes: input.notes,
        };
        Ok(
            match domain::profiles::create(api.db(), api.org(), new).await {
                Ok(p) => CreatorProfilePayload {
                    creator_profile: Some(CreatorProfile(p)),
                    user_errors: Vec::new(),
                },
                Err(e) => CreatorProfilePayload {
                    creator_profile: None,
                    user_errors: vec![user_error(e, "id", api.request_id())?],
                },
            },
        )
    }

    /// Changes a profile's name, email or notes.
    /// Access: roles admin and manager; API keys with `accounts:write`; creators for their own
    /// profiles.
    async fn update_creator_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateCreatorProfileInput,
    ) -> Result<CreatorProfilePayload> {
        let api = ctx.api();
        let mut user_errors = Vec::new();
        let Some(id) = profile_id(&input.id, "id", &mut user_errors) else {
            return Ok(CreatorProfilePayload {
                creator_profile: None,
                user_errors,
            });
        };
        let changes = ProfileChanges {
            name: input.name,
            email: maybe(input.email),
            notes: maybe(input.notes),
        };
        Ok(
            match domain::profiles::update(api.db(), api.org(), id, changes).await {
                Ok(p) => CreatorProfilePayload {
                    creator_profile: Some(CreatorProfile(p)),
                    user_errors,
                },
                Err(e) => CreatorProfilePayload {
                    creator_profile: None,
                    user_errors: vec![user_error(e, "id", api.request_id())?],
                },
            },
        )
    }

    /// Deletes a profile. Its accounts are removed first exactly as `removeSocialAccount` removes
    /// them (grant revoked on the platform, links INVALID/REMOVED, tokens erased) and stay findable by URL, so they can be added to another profile.
    /// Access: roles admin and manager; API keys with `accounts:write`; no creators.
    async fn delete_creator_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile to delete.")] input: DeleteCreatorProfileInput,
    ) -> Result<DeleteCreatorProfilePayload> {
        let api = ctx.api();
        let mut user_errors = Vec::new();
        let Some(id) = profile_id(&input.id, "id", &mut user_errors) else {
            return Ok(DeleteCreatorProfilePayload {
                deleted_creator_profile_id: None,
                user_errors,
            });
        };
        let services = api.services();
        let deleted = domain::profiles::delete(
            api.db(),
            &services.keyring,
            &services.clients,
            api.org(),
            id,
            api.actor(),
        )
        .await;
        Ok(match deleted {
            Ok(()) => DeleteCreatorProfilePayload {
                deleted_creator_profile_id: Some(input.id),
                user_errors,
            },
            Err(e) => DeleteCreatorProfilePayload {
                deleted_creator_profile_id: None,
                user_errors: vec![user_error(e, "id", api.request_id())?],
            },
        })
    }

    /// Adds an individual profile to a group profile (`NOT_A_GROUP`, `MEMBER_NOT_INDIVIDUAL`
    /// otherwise). Adding an existing member changes nothing.
    /// Access: roles admin and manager; API keys with `accounts:write`; no creators.
    async fn add_group_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group and the member.")] input: GroupMemberInput,
    ) -> Result<GroupMemberPayload> {
        self.membership(ctx, input, true).await
    }

    /// Removes a member from a group profile (`NOT_A_MEMBER` when it is not one).
    /// Access: roles admin and manager; API keys with `accounts:write`; no creators.
    async fn remove_group_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group and the member.")] input: GroupMemberInput,
    ) -> Result<GroupMemberPayload> {
        self.membership(ctx, input, false).await
    }

    /// Merges `sourceId` into `targetId` in one transaction: the source's accounts, group
    /// memberships, link history and invites move to the target (the same platform account held
    /// by both collapses into one, keeping the better link), then the source is deleted. Both
    /// must be of the same kind (`PROFILE_KINDS_DIFFER`) and distinct (`SAME_PROFILE`).
    /// Access: roles admin and manager; no API keys; no creators.
    async fn merge_creator_profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source and the target.")] input: MergeCreatorProfilesInput,
    ) -> Result<MergeCreatorProfilesPayload> {
        let api = ctx.api();
        let mut user_errors = Vec::new();
        let source = profile_id(&input.source_id, "sourceId", &mut user_errors);
        let target = profile_id(&input.target_id, "targetId", &mut user_errors);
        let (Some(source), Some(target)) = (source, target) else {
            return Ok(MergeCreatorProfilesPayload {
                creator_profile: None,
                deleted_creator_profile_id: None,
                user_errors,
            });
        };
        Ok(
            match domain::merge::merge_profiles(api.db(), api.org(), source, target).await {
                Ok(p) => MergeCreatorProfilesPayload {
                    creator_profile: Some(CreatorProfile(p)),
                    deleted_creator_profile_id: Some(input.source_id),
                    user_errors,
                },
                Err(e) => MergeCreatorProfilesPayload {
                    creator_profile: None,
                    deleted_creator_profile_id: None,
                    user_errors: vec![user_error(e, "sourceId", api.request_id())?],
                },
            },
        )
    }
}

impl ProfileMutation {
    async fn membership(
        &self,
        ctx: &Context<'_>,
        input: GroupMemberInput,
        add: bool,
    ) -> Result<GroupMemberPayload> {
        let api = ctx.api();
        let mut user_errors = Vec::new();
        let group = profile_id(&input.group_id, "groupId", &mut user_errors);
        let member = profile_id(&input.member_id, "memberId", &mut user_errors);
        let (Some(group), Some(member)) = (group, member) else {
            return Ok(GroupMemberPayload {
                group: None,
                member: None,
                user_errors,
            });
        };
        let result = if add {
            domain::profiles::add_member(api.db(), api.org(), group, member).await
        } else {
            domain::profiles::remove_member(api.db(), api.org(), group, member).await
        };
        Ok(match result {
            Ok((g, m)) => GroupMemberPayload {
                group: Some(CreatorProfile(g)),
                member: Some(CreatorProfile(m)),
                user_errors,
            },
            Err(e) => GroupMemberPayload {
                group: None,
                member: None,
                user_errors: vec![user_error(e, "groupId", api.request_id())?],
            },
        })
    }
}
