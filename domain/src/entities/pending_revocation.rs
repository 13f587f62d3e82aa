//! `pending_revocation`: a platform revoke still to be confirmed after the link's tokens were
//! erased (see `crate::link::revocation`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_revocation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The account it was for; it may be deleted since (an erasure).
    pub account_id: Option<Uuid>,
    /// `meta`, `tiktok` or `google`.
    pub provider: String,
    /// `access` or `refresh`: which token `token` is.
    pub token_kind: String,
    /// Sealed by the vault, bound to this row's id and `token_kind`; never the plain token.
    #[sea_orm(column_type = "Text")]
    pub token: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// The platform's last answer, scrubbed of secrets.
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
