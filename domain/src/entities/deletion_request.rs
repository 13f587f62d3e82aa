//! `deletion_request`: one data-deletion request a platform sent us (Meta's data-deletion
//! callback), looked up by its confirmation code from the status URL.

use sea_orm::entity::prelude::*;

/// A data-deletion request and how far it got. Not tied to one organization: the platform speaks
/// for its user, whose links may sit in several.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deletion_request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `meta`, `tiktok` or `google` (`Provider::as_str`).
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub provider: String,
    /// The platform's id for the user whose data is deleted.
    pub provider_user_id: String,
    /// The code returned to the platform and shown to the user; the status URL's key.
    #[sea_orm(unique, column_type = "String(StringLen::N(64))")]
    pub confirmation_code: String,
    /// `PENDING`, `IN_PROGRESS` or `COMPLETED`.
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub status: String,
    /// How many social accounts the deletion touched.
    pub accounts_affected: i32,
    pub requested_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
