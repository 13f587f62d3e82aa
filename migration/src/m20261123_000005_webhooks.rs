//! Outbound webhooks fed from the `link_event` outbox: `webhook_endpoint`, `webhook_delivery`,
//! `outbox_cursor`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum LinkEvent {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WebhookEndpoint {
    Table,
    Id,
    OrganizationId,
    Url,
    Description,
    EventTypes,
    Secret,
    Enabled,
    DisabledReason,
    ConsecutiveFailures,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    Id,
    OrganizationId,
    EndpointId,
    EventId,
    Status,
    Attempts,
    LastStatusCode,
    LastError,
    ResponseExcerpt,
    NextAttemptAt,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum OutboxCursor {
    Table,
    Name,
    LastEventId,
    LeaseOwner,
    LeaseUntil,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoint::Table)
                    .col(uuid(WebhookEndpoint::Id).primary_key())
                    .col(uuid(WebhookEndpoint::OrganizationId))
                    .col(text(WebhookEndpoint::Url))
                    .col(text_null(WebhookEndpoint::Description))
                    .col(text(WebhookEndpoint::EventTypes))
                    .col(text(WebhookEndpoint::Secret))
                    .col(boolean(WebhookEndpoint::Enabled).default(true))
                    .col(text_null(WebhookEndpoint::DisabledReason))
                    .col(integer(WebhookEndpoint::ConsecutiveFailures).default(0))
                    .col(timestamp_with_time_zone(WebhookEndpoint::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoint::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_endpoint_organization_id")
                            .from(WebhookEndpoint::Table, WebhookEndpoint::OrganizationId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDelivery::Table)
                    .col(uuid(WebhookDelivery::Id).primary_key())
                    .col(uuid(WebhookDelivery::OrganizationId))
                    .col(uuid(WebhookDelivery::EndpointId))
                    .col(big_integer(WebhookDelivery::EventId))
                    .col(string_len(WebhookDelivery::Status, 16))
                    .col(integer(WebhookDelivery::Attempts).default(0))
                    .col(integer_null(WebhookDelivery::LastStatusCode))
                    .col(text_null(WebhookDelivery::LastError))
                    .col(text_null(WebhookDelivery::ResponseExcerpt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDelivery::NextAttemptAt,
                    ))
                    .col(timestamp_with_time_zone(WebhookDelivery::CreatedAt))
                    .col(timestamp_with_time_zone_null(WebhookDelivery::DeliveredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_delivery_organization_id")
                            .from(WebhookDelivery::Table, WebhookDelivery::OrganizationId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_delivery_endpoint_id")
                            .from(WebhookDelivery::Table, WebhookDelivery::EndpointId)
                            .to(WebhookEndpoint::Table, WebhookEndpoint::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_delivery_event_id")
                            .from(WebhookDelivery::Table, WebhookDelivery::EventId)
                            .to(LinkEvent::Table, LinkEvent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_webhook_delivery_endpoint_id_event_id")
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::EndpointId)
                    .col(WebhookDelivery::EventId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_delivery_status_next_attempt_at")
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::Status)
                    .col(WebhookDelivery::NextAttemptAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OutboxCursor::Table)
                    .col(string(OutboxCursor::Name).primary_key())
                    .col(big_integer(OutboxCursor::LastEventId).default(0))
                    .col(string_null(OutboxCursor::LeaseOwner))
                    .col(timestamp_with_time_zone_null(OutboxCursor::LeaseUntil))
                    .col(timestamp_with_time_zone(OutboxCursor::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    // Dropping a table drops its indexes with it.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OutboxCursor::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookDelivery::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookEndpoint::Table).to_owned())
            .await
    }
}
