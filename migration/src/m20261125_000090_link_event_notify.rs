//! PostgreSQL only: every statement that inserts into `link_event` sends a `NOTIFY` on the channel
//! `creatorlink_link_events` (delivered when its transaction commits, once per transaction), so the
//! live dispatchers of every process wake on new events instead of waiting for their next poll.
//! SQLite has no notifications: the embedded dispatcher is woken in-process and polls as before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION creatorlink_link_event_notify() RETURNS trigger
             LANGUAGE plpgsql AS $$
             BEGIN
                 PERFORM pg_notify('creatorlink_link_events', '');
                 RETURN NULL;
             END $$",
        )
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER link_event_notify AFTER INSERT ON link_event
             FOR EACH STATEMENT EXECUTE FUNCTION creatorlink_link_event_notify()",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("DROP TRIGGER IF EXISTS link_event_notify ON link_event")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS creatorlink_link_event_notify()")
            .await?;
        Ok(())
    }
}
