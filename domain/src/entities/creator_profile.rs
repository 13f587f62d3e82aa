//! `creator_profile`: a creator (INDIVIDUAL) or a group of member profiles (GROUP).

use sea_orm::entity::prelude::*;

use crate::kinds::ProfileKind;

/// A creator profile, the roster entry the platform's teams manage and accounts hang off.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "creator_profile")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: ProfileKind,
    pub name: String,
    pub email: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
    #[sea_orm(has_many = "super::social_account::Entity")]
    SocialAccount,
    #[sea_orm(has_many = "super::connect_invite::Entity")]
    ConnectInvite,
    #[sea_orm(has_many = "super::oauth_state::Entity")]
    OauthState,
    #[sea_orm(has_many = "super::link_event::Entity")]
    LinkEvent,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::social_account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SocialAccount.def()
    }
}

impl Related<super::connect_invite::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ConnectInvite.def()
    }
}

impl Related<super::oauth_state::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OauthState.def()
    }
}

impl Related<super::link_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LinkEvent.def()
    }
}

/// From a GROUP profile to its member profiles, through `creator_profile_member`
/// (`group.find_linked(GroupMembers)`).
#[derive(Debug, Clone, Copy)]
pub struct GroupMembers;

impl Linked for GroupMembers {
    type FromEntity = Entity;
    type ToEntity = Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![
            super::creator_profile_member::Relation::Group.def().rev(),
            super::creator_profile_member::Relation::Member.def(),
        ]
    }
}

/// From a profile to the GROUP profiles it is a member of, through `creator_profile_member`.
#[derive(Debug, Clone, Copy)]
pub struct MemberOfGroups;

impl Linked for MemberOfGroups {
    type FromEntity = Entity;
    type ToEntity = Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![
            super::creator_profile_member::Relation::Member.def().rev(),
            super::creator_profile_member::Relation::Group.def(),
        ]
    }
}

impl ActiveModelBehavior for ActiveModel {}
