//! `webhook_delivery_attempt`: every try of a webhook delivery with its outcome, so clients can see
//! the status codes of each attempt, not only the last one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WebhookDeliveryAttempt {
    Table,
    Id,
    DeliveryId,
    Number,
    StatusCode,
    Error,
    ResponseExcerpt,
    DurationMs,
    AttemptedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveryAttempt::Table)
                    .col(uuid(WebhookDeliveryAttempt::Id).primary_key())
                    .col(uuid(WebhookDeliveryAttempt::DeliveryId))
                    .col(integer(WebhookDeliveryAttempt::Number))
                    .col(integer_null(WebhookDeliveryAttempt::StatusCode))
                    .col(text_null(WebhookDeliveryAttempt::Error))
                    .col(text_null(WebhookDeliveryAttempt::ResponseExcerpt))
                    .col(big_integer(WebhookDeliveryAttempt::DurationMs))
                    .col(timestamp_with_time_zone(
                        WebhookDeliveryAttempt::AttemptedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_delivery_attempt_delivery_id")
                            .from(
                                WebhookDeliveryAttempt::Table,
                                WebhookDeliveryAttempt::DeliveryId,
                            )
                            .to(WebhookDelivery::Table, WebhookDelivery::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_delivery_attempt_delivery_id_number")
                    .table(WebhookDeliveryAttempt::Table)
                    .col(WebhookDeliveryAttempt::DeliveryId)
                    .col(WebhookDeliveryAttempt::Number)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(WebhookDeliveryAttempt::Table)
                    .to_owned(),
            )
            .await
    }
}
