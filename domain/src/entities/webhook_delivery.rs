//! `webhook_delivery`: one event's delivery to one endpoint, with its retries.

use sea_orm::entity::prelude::*;

/// The delivery of `event_id` to `endpoint_id`; unique on that pair so the outbox relay can
/// insert it again harmlessly.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub endpoint_id: Uuid,
    /// The `link_event.id` being delivered.
    pub event_id: i64,
    /// `PENDING`, `SUCCEEDED`, `FAILED` (will retry) or `DEAD` (gave up).
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub status: String,
    pub attempts: i32,
    /// The HTTP status of the last attempt, if it got a response.
    pub last_status_code: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// The start of the last response body, at most 512 characters.
    #[sea_orm(column_type = "Text", nullable)]
    pub response_excerpt: Option<String>,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
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
        belongs_to = "super::webhook_endpoint::Entity",
        from = "Column::EndpointId",
        to = "super::webhook_endpoint::Column::Id",
        on_delete = "Cascade"
    )]
    WebhookEndpoint,
    #[sea_orm(
        belongs_to = "super::link_event::Entity",
        from = "Column::EventId",
        to = "super::link_event::Column::Id",
        on_delete = "Cascade"
    )]
    LinkEvent,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::webhook_endpoint::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WebhookEndpoint.def()
    }
}

impl Related<super::link_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LinkEvent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
