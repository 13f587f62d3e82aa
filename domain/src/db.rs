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
/// the first.
///
/// `max_connections` sizes the PostgreSQL pool. SQLite keeps one connection: SQLite has a single
/// writer anyway, and one connection rules out the lock-upgrade deadlocks (`SQLITE_BUSY` that no
/// busy timeout resolves) that several connections with read-then-write transactions run into.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.max_connections(1);
        options.map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    } else {
        options.max_connections(max_connections);
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
