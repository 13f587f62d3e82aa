//! Live link events: the dispatcher that reads the `link_event` outbox and hands each event on, and
//! the bus subscriptions listen to.
//!
//! - **Embedded** (no `redis.url`): every process reads the log itself (an in-memory cursor that
//!   starts at the end of the log) into an in-process `tokio::sync::broadcast`.
//! - **Redis**: one process at a time (a lease on the `live` outbox cursor) publishes each event to
//!   the Redis channel `{prefix}:link-events`; every API replica listens to that channel and feeds
//!   its own broadcast. When a listener reconnects, or sees ids jump, it tells subscriptions to
//!   re-read the log ([`BusMessage::Resync`]), so a dropped pub/sub message is never lost.
//!
//! Either way the dispatcher moves the *published watermark* before publishing: a subscription
//! replays the log up to the watermark and takes the rest from the bus, deduping by event id.
//!
//! A dispatcher reads the log when it is woken ([`Wake`]): at once when this process wrote
//! events (`domain::event_signal`), when PostgreSQL notifies `creatorlink_link_events` (a trigger
//! on `link_event` inserts, delivered at commit, so writes of workers in other processes count),
//! and otherwise every `events.poll_interval_ms` as the fallback.
//!
//! Webhooks have their own leased cursor (`webhooks`), see [`webhooks`].

pub mod webhooks;
mod wire;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use domain::entities::link_event;
use domain::outbox::{self, GapTracker};
use futures::StreamExt;
use sea_orm::DatabaseBackend;
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::config::Config;

pub use wire::WireEvent;

/// The outbox consumer name of the live dispatcher (Redis mode).
pub const LIVE_CURSOR: &str = "live";

/// How many events the dispatcher reads at once.
const BATCH: u64 = 500;

/// The PostgreSQL notification channel the `link_event_notify` trigger signals.
pub const NOTIFY_CHANNEL: &str = "creatorlink_link_events";

/// How many events the bus holds for a subscriber that is slow to take them before it lags
/// (and re-reads the log).
const BUS_CAPACITY: usize = 8192;

/// How long a lease on an outbox cursor lasts without renewal.
const LEASE: chrono::Duration = chrono::Duration::seconds(15);

/// What the bus carries to subscriptions.
#[derive(Clone, Debug)]
pub enum BusMessage {
    /// An event, in id order.
    Event(Arc<link_event::Model>),
    /// Events may have been missed: re-read the log from your last id.
    Resync,
}

/// Where events reach this process's subscriptions.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<BusMessage>,
    watermark: Arc<Watermark>,
}

enum Watermark {
    /// The embedded dispatcher's cursor.
    Local(AtomicI64),
    /// The shared `live` cursor row.
    Shared,
}

impl Bus {
    fn new(shared: bool) -> Self {
        let (tx, _) = broadcast::channel(BUS_CAPACITY);
        Bus {
            tx,
            watermark: Arc::new(if shared {
                Watermark::Shared
            } else {
                Watermark::Local(AtomicI64::new(0))
            }),
        }
    }

    /// A receiver of everything published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        self.tx.subscribe()
    }

    /// The highest event id handed to the bus so far: replaying the log up to here and listening
    /// for the rest misses nothing.
    pub async fn watermark(&self, db: &DatabaseConnection) -> Result<i64, sea_orm::DbErr> {
        match &*self.watermark {
            Watermark::Local(n) => Ok(n.load(Ordering::Acquire)),
            Watermark::Shared => Ok(domain::entities::outbox_cursor::Entity::find_by_id(
                LIVE_CURSOR.to_owned(),
            )
            .one(db)
            .await?
            .map(|c| c.last_event_id)
            .unwrap_or(0)),
        }
    }

    fn send(&self, message: BusMessage) {
        // No receiver is fine: nobody is subscribed.
        let _ = self.tx.send(message);
    }
}

/// Background tasks of the process; aborted when dropped (the server stopped, or a test ended).
pub struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Why live events could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("redis (redis.url / REDIS_URL): {0}")]
    Redis(#[from] redis::RedisError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Domain(#[from] domain::DomainError),
}

/// The bus and the tasks feeding it (and the webhook relay), started for one process.
pub async fn start(
    db: DatabaseConnection,
    config: &Config,
    webhooks: webhooks::WebhookRuntime,
) -> Result<(Bus, Tasks), LiveError> {
    let poll = Duration::from_millis(config.events.poll_interval_ms);
    let grace = chrono::Duration::milliseconds(config.events.gap_grace_ms as i64);
    let owner = format!("{}", Uuid::new_v4());
    let mut tasks = Vec::new();
    let (notified_tx, notified) = watch::channel(0u64);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        tasks.push(tokio::spawn(pg_listener(db.clone(), notified_tx)));
    }
    let wake = Wake::new(poll, notified);
    let bus = match &config.redis.url {
        None => {
            let bus = Bus::new(false);
            let start = domain::events::max_id(&db).await?;
            if let Watermark::Local(n) = &*bus.watermark {
                n.store(start, Ordering::Release);
            }
            tasks.push(tokio::spawn(local_dispatcher(
                db.clone(),
                bus.clone(),
                start,
                wake,
                grace,
            )));
            bus
        }
        Some(url) => {
            let bus = Bus::new(true);
            let client = redis::Client::open(url.as_str())?;
            let channel = format!("{}:link-events", config.redis.prefix);
            outbox::ensure_cursor(&db, LIVE_CURSOR, Utc::now()).await?;
            let publisher = client.get_multiplexed_async_connection().await?;
            tasks.push(tokio::spawn(redis_dispatcher(
                db.clone(),
                publisher,
                channel.clone(),
                owner.clone(),
                wake,
                grace,
            )));
            tasks.push(tokio::spawn(redis_listener(client, channel, bus.clone())));
            bus
        }
    };
    outbox::ensure_cursor(&db, webhooks::WEBHOOKS_CURSOR, Utc::now()).await?;
    tasks.extend(webhooks::spawn(db, webhooks, owner, poll, grace));
    Ok((bus, Tasks(tasks)))
}

/// What makes a dispatcher read the log: a write in this process, a PostgreSQL notification, or
/// the poll interval passing.
struct Wake {
    local: watch::Receiver<u64>,
    notified: watch::Receiver<u64>,
    ticker: tokio::time::Interval,
}

impl Wake {
    fn new(poll: Duration, notified: watch::Receiver<u64>) -> Self {
        let mut ticker = tokio::time::interval(poll);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Wake {
            local: domain::event_signal::subscribe(),
            notified,
            ticker,
        }
    }

    /// Waits for the next reason to read. Wake-ups that arrive while the dispatcher reads are
    /// kept (a `watch` remembers that it changed), so none is lost and bursts coalesce.
    async fn wait(&mut self) {
        tokio::select! {
            _ = self.ticker.tick() => {}
            Ok(()) = self.local.changed() => {}
            Ok(()) = self.notified.changed() => {}
        }
    }
}

/// PostgreSQL: `LISTEN creatorlink_link_events` on a connection of its own; every notification
/// (and every reconnect, after which some may have been missed) bumps `notified`.
async fn pg_listener(db: DatabaseConnection, notified: watch::Sender<u64>) {
    use sea_orm::sqlx::postgres::PgListener;
    let mut backoff = Duration::from_millis(200);
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(db.get_postgres_connection_pool()).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            notified.send_modify(|n| *n = n.wrapping_add(1));
            loop {
                listener.recv().await?;
                notified.send_modify(|n| *n = n.wrapping_add(1));
            }
        };
        let result: Result<(), sea_orm::sqlx::Error> = listening.await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "event notifications (LISTEN) failed; polling until they reconnect");
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Embedded mode: read the log into this process's broadcast.
async fn local_dispatcher(
    db: DatabaseConnection,
    bus: Bus,
    mut cursor: i64,
    mut wake: Wake,
    grace: chrono::Duration,
) {
    let mut gaps = GapTracker::default();
    loop {
        wake.wait().await;
        match outbox::read_batch(&db, cursor, BATCH, grace, &mut gaps, Utc::now()).await {
            Ok(batch) => {
                if let Watermark::Local(n) = &*bus.watermark {
                    n.store(batch.cursor, Ordering::Release);
                }
                for event in batch.events {
                    bus.send(BusMessage::Event(Arc::new(event)));
                }
                cursor = batch.cursor;
            }
            Err(e) => tracing::warn!(error = %e, "live dispatcher could not read the event log"),
        }
    }
}

/// Redis mode: whoever holds the `live` lease publishes new events to the channel.
async fn redis_dispatcher(
    db: DatabaseConnection,
    mut publisher: redis::aio::MultiplexedConnection,
    channel: String,
    owner: String,
    mut wake: Wake,
    grace: chrono::Duration,
) {
    let mut gaps = GapTracker::default();
    loop {
        wake.wait().await;
        let now = Utc::now();
        let cursor = match outbox::claim(&db, LIVE_CURSOR, &owner, now + LEASE, now).await {
            Ok(Some(cursor)) => cursor,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "live dispatcher could not claim its lease");
                continue;
            }
        };
        let batch = match outbox::read_batch(&db, cursor, BATCH, grace, &mut gaps, now).await {
            Ok(batch) if !batch.events.is_empty() => batch,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "live dispatcher could not read the event log");
                continue;
            }
        };
        // Watermark first: a subscription that reads it replays these from the log, one that
        // subscribed earlier gets them from the channel too and dedupes.
        match outbox::advance(&db, LIVE_CURSOR, &owner, batch.cursor, now).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "live dispatcher could not advance its cursor");
                continue;
            }
        }
        for event in &batch.events {
            let payload = match serde_json::to_string(&WireEvent::from(event)) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "cannot encode a live event");
                    continue;
                }
            };
            let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(payload)
                .query_async(&mut publisher)
                .await;
            if let Err(e) = sent {
                // Listeners notice the jump in ids and resync from the log.
                tracing::warn!(error = %e, event_id = event.id, "could not publish a live event");
            }
        }
    }
}

/// Every replica: the Redis channel into the local broadcast, reconnecting on failure.
async fn redis_listener(client: redis::Client, channel: String, bus: Bus) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match listen_once(&client, &channel, &bus).await {
            Ok(()) => tracing::warn!("live event channel closed; reconnecting"),
            Err(e) => tracing::warn!(error = %e, "live event channel failed; reconnecting"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn listen_once(
    client: &redis::Client,
    channel: &str,
    bus: &Bus,
) -> Result<(), redis::RedisError> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    // Whatever was published while we were not subscribed is in the log.
    bus.send(BusMessage::Resync);
    let mut last: Option<i64> = None;
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let payload: String = match message.get_payload() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable live event message");
                continue;
            }
        };
        let event = match serde_json::from_str::<WireEvent>(&payload) {
            Ok(w) => w.into_model(),
            Err(e) => {
                tracing::warn!(error = %e, "undecodable live event message");
                continue;
            }
        };
        if let Some(prev) = last {
            if event.id <= prev {
                continue;
            }
            if event.id > prev + 1 {
                // A message may be missing (or ids were skipped by a rollback): have subscribers
                // check the log.
                bus.send(BusMessage::Resync);
            }
        }
        last = Some(event.id);
        bus.send(BusMessage::Event(Arc::new(event)));
    }
    Ok(())
}
