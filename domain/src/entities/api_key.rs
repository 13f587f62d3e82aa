//! `api_key`: brand clients' keys. The secret is shown once and only its hash is kept.

use sea_orm::entity::prelude::*;

/// An API key (`cl_<prefix>_<secret>`), looked up by its unique prefix.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_key")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    /// The public, unique part of the key that finds the row.
    #[sea_orm(unique, column_type = "String(StringLen::N(32))")]
    pub prefix: String,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    /// Space-separated scopes.
    #[sea_orm(column_type = "Text")]
    pub scopes: String,
    /// The campaigns the key is restricted to (JSON array of ids); `None` = no restriction.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub campaign_ids: Option<Json>,
    /// The actor that created the key.
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
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
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
