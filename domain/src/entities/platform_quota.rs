//! `platform_quota`: units of a platform's daily quota spent per quota day and purpose.

use sea_orm::entity::prelude::*;

/// Units spent on `day` (the platform's quota day: Pacific for YouTube) for one purpose.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "platform_quota")]
pub struct Model {
    /// `GOOGLE`, `META`, `TIKTOK`.
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(16))"
    )]
    pub provider: String,
    /// What the units were spent on, e.g. `campaign_content`.
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(32))"
    )]
    pub purpose: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    pub units_spent: i64,
    /// The last time a spend was refused that day (the budget was exhausted).
    pub refused_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
