//! `webhook_delivery_attempt`: one try of a webhook delivery.

use sea_orm::entity::prelude::*;

/// What happened when a delivery was tried once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery_attempt")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub delivery_id: Uuid,
    /// 1 for the first try of the delivery, counting on across redeliveries.
    pub number: i32,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i32>,
    /// Why the try failed without an HTTP answer (timeout, refused target, connection error).
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// The start of the response body, at most 512 characters.
    #[sea_orm(column_type = "Text", nullable)]
    pub response_excerpt: Option<String>,
    pub duration_ms: i64,
    pub attempted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::webhook_delivery::Entity",
        from = "Column::DeliveryId",
        to = "super::webhook_delivery::Column::Id",
        on_delete = "Cascade"
    )]
    WebhookDelivery,
}

impl Related<super::webhook_delivery::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WebhookDelivery.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
