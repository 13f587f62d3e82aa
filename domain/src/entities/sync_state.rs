//! `sync_state`: data freshness per account and resource (design §4, "beside the status").

use sea_orm::entity::prelude::*;

/// How the last pulls of one resource of one account went, and when the next one is due.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_state")]
pub struct Model {
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: Uuid,
    /// `PROFILE`, `MEDIA`, `STORIES`, `METRICS` or `AUDIENCE`.
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(16))"
    )]
    pub resource: String,
    pub last_success_at: Option<DateTimeUtc>,
    pub last_error_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// Failed pulls in a row; reset by a success.
    pub consecutive_failures: i32,
    pub next_run_at: Option<DateTimeUtc>,
    /// When a pull was last requested on demand (`requestSync`), for its rate limit.
    pub requested_at: Option<DateTimeUtc>,
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
    #[sea_orm(
        belongs_to = "super::social_account::Entity",
        from = "Column::AccountId",
        to = "super::social_account::Column::Id",
        on_delete = "Cascade"
    )]
    SocialAccount,
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

impl ActiveModelBehavior for ActiveModel {}
