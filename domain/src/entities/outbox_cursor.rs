//! `outbox_cursor`: how far each outbox consumer has read `link_event`.

use sea_orm::entity::prelude::*;

/// A named consumer's position in the `link_event` outbox, with a lease so that only one
/// instance relays at a time. Not tenant-scoped: a consumer reads every organization's events.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_cursor")]
pub struct Model {
    /// The consumer, e.g. `webhooks`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The highest `link_event.id` handled.
    pub last_event_id: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
