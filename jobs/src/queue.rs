//! The job queue: apalis on Redis when `redis.url` is configured, apalis on SQLite otherwise.
//!
//! Every job type has a queue of its own, named after the job (`refresh_link`, `expire_links`,
//! …). On Redis the queue name is prefixed with `redis.prefix`, so several deployments (or tests)
//! share one server; apalis-redis derives every key of a queue from that name
//! (`{prefix}:{job}:active`, `…:inflight`, `…:data`, …). The SQLite queue lives in its own file,
//! `jobs.db` in `data_dir`, beside (not inside) the application database: apalis-sqlite keeps its
//! own tables and sqlx migrations, and a separate file keeps the queue's writes from contending
//! with the application's single SQLite connection. It works the same whether the application
//! database is SQLite or PostgreSQL.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_redis::{ConnectionManager, RedisStorage};
use apalis_sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteStorage};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Where the queue lives.
#[derive(Clone, Debug)]
pub enum QueueBackendConfig {
    /// Redis at `url`; every key starts with `prefix`.
    Redis { url: String, prefix: String },
    /// The SQLite file `path` (created if missing).
    Sqlite { path: std::path::PathBuf },
}

/// How long a worker may go silent before its jobs are handed to others, and how often workers
/// prove they are alive.
#[derive(Clone, Copy, Debug)]
pub struct Liveness {
    pub heartbeat: Duration,
    /// Heartbeats a worker may miss before its in-flight jobs are re-enqueued (at least 2).
    pub missed_heartbeats: usize,
}

impl Liveness {
    /// How long a worker may go silent before it is declared dead.
    pub fn dead_after(&self) -> Duration {
        self.heartbeat * self.missed_heartbeats as u32
    }

    /// The same liveness with enough missed heartbeats that a worker is declared dead only after
    /// more than `attempt` (the longest job attempt: a platform call) plus two beats. Heartbeats
    /// come from a task of their own (see [`Queue::heartbeat`]), so a live worker is not declared
    /// dead anyway; this keeps a worker whose beats are delayed (its Redis connection
    /// reconnecting, its runtime starved) from losing a job it is about to finish.
    pub fn outlasting(self, attempt: Duration) -> Liveness {
        let beat = self.heartbeat.max(Duration::from_millis(1));
        let needed = (attempt.as_millis() / beat.as_millis()) as usize + 2;
        Liveness {
            heartbeat: self.heartbeat,
            missed_heartbeats: self.missed_heartbeats.max(needed),
        }
    }
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            heartbeat: Duration::from_secs(1),
            missed_heartbeats: 10,
        }
    }
}

/// Why the queue failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("redis: {0}")]
    Redis(#[from] apalis_redis::RedisError),
    #[error("job queue (redis): {0}")]
    RedisStorage(String),
    #[error("job queue (sqlite): {0}")]
    Sqlite(String),
    #[error("job payload: {0}")]
    Payload(#[from] serde_json::Error),
}

/// A handle on the queue: cheap to clone, used to enqueue jobs and by the workers.
#[derive(Clone)]
pub enum Queue {
    Redis {
        conn: ConnectionManager,
        prefix: String,
        liveness: Liveness,
    },
    Sqlite {
        pool: SqlitePool,
        liveness: Liveness,
    },
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Queue::Redis { prefix, .. } => write!(f, "Queue::Redis({prefix})"),
            Queue::Sqlite { .. } => write!(f, "Queue::Sqlite"),
        }
    }
}

impl Queue {
    /// Connects (and, for SQLite, creates and migrates the queue file).
    pub async fn connect(
        config: &QueueBackendConfig,
        liveness: Liveness,
    ) -> Result<Queue, QueueError> {
        match config {
            QueueBackendConfig::Redis { url, prefix } => {
                let conn = apalis_redis::connect(url.as_str()).await?;
                Ok(Queue::Redis {
                    conn,
                    prefix: prefix.clone(),
                    liveness,
                })
            }
            QueueBackendConfig::Sqlite { path } => {
                let pool = open_sqlite(path).await?;
                Ok(Queue::Sqlite { pool, liveness })
            }
        }
    }

    /// The backend's short name for logs and `/readyz`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Queue::Redis { .. } => "redis",
            Queue::Sqlite { .. } => "sqlite",
        }
    }

    /// The full queue name of job type `name`.
    pub fn queue_name(&self, name: &str) -> String {
        match self {
            Queue::Redis { prefix, .. } => format!("{prefix}:jobs:{name}"),
            Queue::Sqlite { .. } => name.to_owned(),
        }
    }

    /// Answers when the queue's store answers.
    pub async fn ping(&self) -> Result<(), QueueError> {
        match self {
            Queue::Redis { conn, .. } => {
                let mut conn = conn.clone();
                redis::cmd("PING").query_async::<String>(&mut conn).await?;
                Ok(())
            }
            Queue::Sqlite { pool, .. } => {
                sea_orm::sqlx::query("SELECT 1")
                    .execute(pool)
                    .await
                    .map_err(|e| QueueError::Sqlite(e.to_string()))?;
                Ok(())
            }
        }
    }

    /// Jobs waiting in queue `name` (ready or scheduled for later).
    pub async fn depth(&self, name: &str) -> Result<u64, QueueError> {
        match self {
            Queue::Redis { conn, .. } => {
                let config = self.redis_storage::<()>(conn, name).get_config().clone();
                let mut conn = conn.clone();
                let (active, scheduled): (u64, u64) = redis::pipe()
                    .cmd("LLEN")
                    .arg(config.active_jobs_list())
                    .cmd("ZCARD")
                    .arg(config.scheduled_jobs_set())
                    .query_async(&mut conn)
                    .await?;
                Ok(active + scheduled)
            }
            Queue::Sqlite { pool, .. } => {
                let n: i64 = sea_orm::sqlx::query_scalar(
                    "SELECT COUNT(*) FROM Jobs WHERE job_type = ?1 AND status = 'Pending'",
                )
                .bind(self.queue_name(name))
                .fetch_one(pool)
                .await
                .map_err(|e| QueueError::Sqlite(e.to_string()))?;
                Ok(n.max(0) as u64)
            }
        }
    }

    /// Moves the jobs of queue `name` whose time has come from the scheduled set to the active
    /// list, [`PROMOTE_CHUNK`] per script call, until fewer remain; returns how many moved. A no-op
    /// on SQLite.
    ///
    /// Why we do this by hand: apalis-redis 1.0 puts every pushed job in the scheduled set (at
    /// "now" when it has no delay) and its fetch moves *all* due ones with one Lua `unpack`,
    /// which fails above ~8,000 elements (Lua's C stack limit) — and then fails on every later
    /// fetch too, so a backlog of that size (workers down while jobs were pushed, or a scan
    /// pushing faster than one fetch) stopped the queue for good. Promoting in bounded chunks
    /// (atomically, like the fetch: a job is moved by exactly one of them) keeps the due part of
    /// the set small and drains a backlog that is already there.
    pub async fn promote_due(&self, name: &str) -> Result<u64, QueueError> {
        let Queue::Redis { conn, .. } = self else {
            return Ok(0);
        };
        static SCRIPT: std::sync::LazyLock<redis::Script> =
            std::sync::LazyLock::new(|| redis::Script::new(include_str!("lua/promote_due.lua")));
        let config = self.redis_storage::<()>(conn, name).get_config().clone();
        let mut conn = conn.clone();
        let mut total = 0;
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            let moved: u64 = SCRIPT
                .key(config.scheduled_jobs_set())
                .key(config.active_jobs_list())
                .key(config.signal_list())
                .arg(now)
                .arg(PROMOTE_CHUNK)
                .invoke_async(&mut conn)
                .await?;
            total += moved;
            if moved < PROMOTE_CHUNK {
                return Ok(total);
            }
        }
    }

    /// Whether the queue lost its jobs since this was last asked (by any process): on Redis, a
    /// marker key that lives as long as the queue's data; missing, Redis came back empty (or this
    /// is the first look), and the marker is set again. Jobs enqueued before are gone, so the
    /// rows they had claimed must be claimed again. Always `false` on SQLite (the queue is a file
    /// beside the database).
    pub async fn lost_jobs(&self) -> Result<bool, QueueError> {
        let Queue::Redis { conn, prefix, .. } = self else {
            return Ok(false);
        };
        let mut conn = conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{prefix}:jobs:epoch"))
            .arg(uuid::Uuid::now_v7().to_string())
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    /// Forgets the finished jobs of queue `name`; returns how many.
    ///
    /// Redis: apalis-redis's acknowledgement takes a finished job out of its worker's inflight
    /// set but keeps its payload in the data hash and its id in the done (or dead) set for ever;
    /// this drops the payload and the id at once and lets the job's meta key (status, attempts,
    /// `done_at`) expire after [`FINISHED_RETENTION`]. SQLite: deletes the rows of jobs finished
    /// more than [`FINISHED_RETENTION`] ago.
    pub async fn sweep_finished(&self, name: &str) -> Result<u64, QueueError> {
        match self {
            Queue::Redis { conn, .. } => {
                static SCRIPT: std::sync::LazyLock<redis::Script> =
                    std::sync::LazyLock::new(|| {
                        redis::Script::new(include_str!("lua/sweep_finished.lua"))
                    });
                let config = self.redis_storage::<()>(conn, name).get_config().clone();
                let mut conn = conn.clone();
                let mut total = 0;
                loop {
                    let forgotten: u64 = SCRIPT
                        .key(config.done_jobs_set())
                        .key(config.dead_jobs_set())
                        .key(config.job_data_hash())
                        .key(config.job_meta_hash())
                        .arg(SWEEP_CHUNK)
                        .arg(FINISHED_RETENTION.as_secs())
                        .invoke_async(&mut conn)
                        .await?;
                    total += forgotten;
                    if forgotten < SWEEP_CHUNK {
                        return Ok(total);
                    }
                }
            }
            Queue::Sqlite { pool, .. } => {
                let done = sea_orm::sqlx::query(
                    "DELETE FROM Jobs WHERE job_type = ?1 AND done_at IS NOT NULL \
                     AND done_at < strftime('%s', 'now') - ?2 \
                     AND (status IN ('Done', 'Killed') \
                          OR (status = 'Failed' AND attempts >= max_attempts))",
                )
                .bind(self.queue_name(name))
                .bind(FINISHED_RETENTION.as_secs() as i64)
                .execute(pool)
                .await
                .map_err(|e| QueueError::Sqlite(e.to_string()))?;
                Ok(done.rows_affected())
            }
        }
    }

    /// Marks the workers `names` of queue `name` alive now, as their own heartbeat would, but
    /// from a task of its own: apalis beats only from a worker's `poll_ready`, which a worker
    /// whose every slot is busy does not reach, so a busy worker looked dead and its running jobs
    /// were handed to others. A worker already declared dead (removed) is not brought back.
    pub async fn heartbeat(&self, name: &str, names: &[String]) -> Result<(), QueueError> {
        if names.is_empty() {
            return Ok(());
        }
        match self {
            Queue::Redis { conn, .. } => {
                let config = self.redis_storage::<()>(conn, name).get_config().clone();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs();
                let mut cmd = redis::cmd("ZADD");
                cmd.arg(config.workers_set()).arg("XX");
                for worker in names {
                    cmd.arg(now).arg(worker);
                }
                let mut conn = conn.clone();
                cmd.query_async::<()>(&mut conn).await?;
                Ok(())
            }
            Queue::Sqlite { pool, .. } => {
                for worker in names {
                    sea_orm::sqlx::query(
                        "UPDATE Workers SET last_seen = strftime('%s', 'now') \
                         WHERE id = ?1 AND worker_type = ?2",
                    )
                    .bind(worker)
                    .bind(self.queue_name(name))
                    .execute(pool)
                    .await
                    .map_err(|e| QueueError::Sqlite(e.to_string()))?;
                }
                Ok(())
            }
        }
    }

    pub(crate) fn redis_storage<T>(&self, conn: &ConnectionManager, name: &str) -> RedisStorage<T> {
        let liveness = self.liveness();
        RedisStorage::new(conn.clone()).with_config(
            apalis_redis::Config::default()
                .queue(self.queue_name(name))
                .heartbeat_interval(liveness.heartbeat)
                .missed_heartbeats(liveness.missed_heartbeats)
                // Must stay on: in apalis 1.0 this is also what acknowledges a finished job
                // (removes it from the worker's inflight set). Off, every job a worker ever ran
                // went back to the queue when that worker stopped. The payload and the done-set
                // entry the acknowledgement leaves are removed by `sweep_finished`.
                .persist_results(true)
                .emit_events(false)
                .idempotency_ttl(Some(Duration::from_secs(24 * 3600))),
        )
    }

    pub(crate) fn sqlite_storage<T>(&self, pool: &SqlitePool, name: &str) -> SqliteStorage<T> {
        let liveness = self.liveness();
        SqliteStorage::new(pool).with_config(
            apalis_sqlite::Config::default()
                .queue(self.queue_name(name))
                .heartbeat_interval(liveness.heartbeat)
                .missed_heartbeats(liveness.missed_heartbeats)
                // Acknowledges finished jobs (status `Done`, so a restart does not run them
                // again); `sweep_finished` deletes them later.
                .persist_results(true),
        )
    }

    pub fn liveness(&self) -> Liveness {
        match self {
            Queue::Redis { liveness, .. } | Queue::Sqlite { liveness, .. } => *liveness,
        }
    }

    /// Enqueues `args` on queue `name`. With an `idempotency_key`, a second push with the same
    /// key is dropped by the backend (schedules use this so that several instances ticking at
    /// once enqueue one scan).
    pub async fn push_named<T>(
        &self,
        name: &str,
        args: T,
        idempotency_key: Option<String>,
        delay: Option<Duration>,
    ) -> Result<(), QueueError>
    where
        T: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static,
    {
        let mut builder = TaskBuilder::new(args);
        if let Some(key) = idempotency_key {
            builder = builder.idempotency_key(key);
        }
        if let Some(delay) = delay {
            builder = builder.run_after(delay);
        }
        let task = builder.build();
        match self {
            Queue::Redis { conn, .. } => {
                let mut storage = self.redis_storage::<T>(conn, name);
                storage
                    .push_task(task)
                    .await
                    .map_err(|e| QueueError::RedisStorage(e.to_string()))
            }
            Queue::Sqlite { pool, .. } => {
                let mut storage = self.sqlite_storage::<T>(pool, name);
                storage
                    .push_task(task)
                    .await
                    .map_err(|e| QueueError::Sqlite(e.to_string()))
            }
        }
    }
}

/// How long a finished job's record (its outcome, not its payload) is kept.
pub const FINISHED_RETENTION: Duration = Duration::from_secs(3600);

/// Finished jobs one call of the sweep script forgets per set.
const SWEEP_CHUNK: u64 = 1_000;

/// Jobs one call of the promotion script moves (far below Lua's ~8,000 `unpack` limit).
const PROMOTE_CHUNK: u64 = 1_000;

/// Opens (creating and migrating) the SQLite queue file.
async fn open_sqlite(path: &Path) -> Result<SqlitePool, QueueError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| QueueError::Sqlite(e.to_string()))?;
    }
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .map_err(|e| QueueError::Sqlite(e.to_string()))?
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|e| QueueError::Sqlite(e.to_string()))?;
    SqliteStorage::setup(&pool)
        .await
        .map_err(|e| QueueError::Sqlite(e.to_string()))?;
    Ok(pool)
}
