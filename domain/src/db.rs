//! Opening the database the same way everywhere: `serve`, `worker`, `migrate` and the tests.

use std::time::Duration;

use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

/// How long a SQLite connection waits for another writer's lock before failing with `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to `url` (`sqlite:…` or `postgres://…`).
///
/// For SQLite the file is created if missing, and every pooled connection runs in WAL mode with
/// foreign keys enforced (the schema relies on `ON DELETE CASCADE`/`SET NULL`) and a 5 s busy
/// timeout. These are connect options, so they hold for each connection the pool opens, not just
/// the first. SeaORM keeps a SQLite pool at one connection unless told otherwise.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    }
    Database::connect(options).await
}

/// The backend's short name for logs, metrics and `/readyz`: `sqlite`, `postgres` or `mysql`.
pub fn backend_name(db: &impl ConnectionTrait) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        DbBackend::MySql => "mysql",
        _ => "unknown",
    }
}
