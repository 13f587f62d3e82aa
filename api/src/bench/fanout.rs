//! `bench fanout`: `--subscribers` websocket clients (`graphql-transport-ws`) on one API process
//! subscribe to `linkStatusChanged`; this process then writes link events to the database at
//! `--rate` per second, the way a worker does, and each client measures the time from just before
//! the event's INSERT to its arrival (the send instant travels in the event's `reason`).
//!
//! Writer and clients share this process's monotonic clock, so no clock skew enters the figure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::Utc;
use domain::events::{self, NewEvent};
use domain::{Actor, LinkStatus};
use futures::{SinkExt, StreamExt};
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::child::ChildServer;
use super::report::{micros_histogram, Report};

/// Sizes of the fan-out scenario.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Concurrent websocket subscribers (each one connection, one subscription).
    #[arg(long, default_value_t = 10_000)]
    pub subscribers: usize,
    /// Events written per second.
    #[arg(long, default_value_t = 100)]
    pub rate: u32,
    /// How long events are written.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// The server's `events.poll_interval_ms`: how often its dispatcher reads the event log.
    #[arg(long, default_value_t = 250)]
    pub poll_interval_ms: u64,
    /// Connections opened at once while connecting.
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// A PostgreSQL database for the server (default: the embedded SQLite file of a fresh data
    /// directory). The server migrates it; use a database of its own.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Redis for the server's event bus (events then travel through Redis pub/sub).
    #[arg(long)]
    pub redis_url: Option<String>,
    /// How long to wait after the last event for deliveries still on their way.
    #[arg(long, default_value_t = 15.0)]
    pub drain_seconds: f64,
}

const SUBSCRIPTION: &str =
    "subscription($after: ID) { linkStatusChanged(after: $after) { id reason } }";
/// The `reason` prefix of measured events; warm-up events carry [`WARMUP`].
const MEASURED: &str = "bench:";
const WARMUP: &str = "warmup";

pub async fn run(args: Args) -> anyhow::Result<Report> {
    anyhow::ensure!(args.subscribers > 0, "--subscribers must be at least 1");
    anyhow::ensure!(args.rate > 0, "--rate must be at least 1");
    // Subscriptions need a caller: the child server gets a development HS256 secret and the
    // subscribers a token signed with it.
    let hs256 = format!(
        "bench-{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut env = vec![
        (
            "CREATORLINK_EVENTS_POLL_INTERVAL_MS",
            args.poll_interval_ms.to_string(),
        ),
        ("CREATORLINK_AUTH_JWT_HS256_SECRET", hs256.clone()),
        // Every subscriber is the same caller: its request budget would refuse most of them at
        // `connection_init` ("too many requests").
        (
            "CREATORLINK_AUTH_RATE_LIMIT_PER_MINUTE",
            "1000000000".into(),
        ),
        ("CREATORLINK_AUTH_RATE_LIMIT_BURST", "1000000000".into()),
    ];
    if let Some(url) = &args.database_url {
        env.push(("DATABASE_URL", url.clone()));
    }
    if let Some(url) = &args.redis_url {
        env.push(("REDIS_URL", url.clone()));
        env.push((
            "CREATORLINK_REDIS_PREFIX",
            format!("creatorlink-bench-{}", uuid::Uuid::new_v4().simple()),
        ));
    }
    let mut server = ChildServer::spawn(&env)?;
    server.wait_ready(Duration::from_secs(60)).await?;
    let db_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| server.sqlite_url());
    let db = domain::db::connect(&db_url, 4)
        .await
        .context("opening the server's database")?;
    let org = domain::organizations::ensure_named(&db, "Bench organization").await?;
    let mut auth = crate::Config::default().auth;
    auth.jwt_hs256_secret = Some(domain::secret::Secret::new(hs256));
    let token = crate::auth::jwt::issue(
        &auth,
        &crate::auth::jwt::TokenRequest {
            user_id: "bench".into(),
            org,
            role: domain::access::Role::Admin,
            profiles: Vec::new(),
            lifetime: chrono::Duration::hours(2),
        },
    )
    .map_err(anyhow::Error::msg)?;
    let init = serde_json::json!({
        "type": "connection_init",
        "payload": { "Authorization": format!("Bearer {}", token.expose()) },
    })
    .to_string();
    let after = events::max_id(&db).await?;

    let epoch = Instant::now();
    let url = format!("ws://127.0.0.1:{}/graphql", server.port());
    let ready = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let failures: Arc<std::sync::Mutex<std::collections::BTreeMap<String, usize>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let connecting = Instant::now();
    let mut clients = Vec::with_capacity(args.subscribers);
    for _ in 0..args.subscribers {
        let client = Subscriber {
            url: url.clone(),
            init: init.clone(),
            after,
            epoch,
            ready: ready.clone(),
            failed: failed.clone(),
            failures: failures.clone(),
            permits: permits.clone(),
            stop: stop_rx.clone(),
        };
        clients.push(tokio::spawn(client.run()));
    }

    // A subscription is live once it has delivered something: write warm-up events until every
    // client got one (or gave up connecting).
    let record = |reason: String| {
        events::record(
            &db,
            NewEvent {
                org,
                account_id: None,
                profile_id: None,
                platform: None,
                kind: events::kind::STATUS_CHANGED,
                from: Some(LinkStatus::Linked),
                to: Some(LinkStatus::Invalid),
                reason: Some(reason),
                actor: Actor::system("bench"),
                detail: None,
                occurred_at: Utc::now(),
            },
        )
    };
    let warm_deadline = Instant::now() + Duration::from_secs(300);
    while ready.load(Ordering::Acquire) + failed.load(Ordering::Acquire) < args.subscribers {
        if Instant::now() > warm_deadline {
            bail!(
                "only {} of {} subscribers were live after 5 minutes",
                ready.load(Ordering::Acquire),
                args.subscribers
            );
        }
        record(WARMUP.to_owned()).await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let connected_in = connecting.elapsed();
    let live = ready.load(Ordering::Acquire);
    let server_rss_connected = server.memory_kib()?.rss_kib;

    // The measured phase: a steady rate; a tick that falls behind is delayed, not bunched.
    let total = ((args.rate as f64) * args.seconds).round().max(1.0) as u64;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let writing = Instant::now();
    for _ in 0..total {
        ticker.tick().await;
        let sent = epoch.elapsed().as_micros();
        record(format!("{MEASURED}{sent}")).await?;
    }
    let wrote_in = writing.elapsed();

    // Let deliveries in flight arrive, then stop the clients.
    tokio::time::sleep(Duration::from_secs_f64(args.drain_seconds.max(0.0))).await;
    let server_memory = server.memory_kib()?;
    let _ = stop_tx.send(true);
    let mut latencies = micros_histogram();
    let mut delivered = 0u64;
    for client in clients {
        if let Ok(Ok(micros)) = client.await {
            delivered += micros.len() as u64;
            for m in micros {
                latencies.record(m.max(1))?;
            }
        }
    }
    server.stop().await?;

    let expected = total * live as u64;
    let mut report = Report::new(format!(
        "fanout: {} subscribers on one API process ({}{}), {} events/s for {} s, poll interval {} ms",
        args.subscribers,
        match &args.database_url {
            Some(url) if url.starts_with("postgres") => "PostgreSQL",
            _ => "SQLite",
        },
        if args.redis_url.is_some() { ", Redis bus" } else { "" },
        args.rate,
        args.seconds,
        args.poll_interval_ms
    ));
    report
        .row("subscribers live", live)
        .row("subscribers failed", failed.load(Ordering::Acquire));
    let mut reasons: Vec<(String, usize)> = failures
        .lock()
        .map(|f| f.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (why, n) in reasons.into_iter().take(3) {
        report.row(format!("failed: {why}"), n);
    }
    report
        .row(
            "connect + first event (s)",
            format!("{:.2}", connected_in.as_secs_f64()),
        )
        .row("events written", total)
        .row(
            "write rate achieved (/s)",
            format!("{:.1}", total as f64 / wrote_in.as_secs_f64()),
        )
        .row("deliveries expected", expected)
        .row("deliveries received", delivered)
        .row("deliveries missing", expected.saturating_sub(delivered))
        .latencies("event-to-client", &latencies)
        .row(
            "server RSS with subscribers (MiB)",
            format!("{:.1}", server_rss_connected as f64 / 1024.0),
        )
        .row(
            "server peak RSS (MiB)",
            format!("{:.1}", server_memory.peak_kib as f64 / 1024.0),
        );
    if latencies.is_empty() {
        bail!("no measured event reached any subscriber\n{report}");
    }
    Ok(report)
}

/// One websocket client.
struct Subscriber {
    url: String,
    /// The `connection_init` message, carrying the bench caller's token.
    init: String,
    after: i64,
    epoch: Instant,
    ready: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    /// Why connections failed, with how many failed so.
    failures: Arc<std::sync::Mutex<std::collections::BTreeMap<String, usize>>>,
    permits: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
}

impl Subscriber {
    /// Connects, subscribes and collects the latency (µs) of every measured event until stopped.
    async fn run(mut self) -> anyhow::Result<Vec<u64>> {
        let socket = {
            let _permit = self.permits.acquire().await?;
            match self.connect().await {
                Ok(socket) => socket,
                Err(e) => {
                    self.failed.fetch_add(1, Ordering::AcqRel);
                    if let Ok(mut failures) = self.failures.lock() {
                        *failures.entry(format!("{e:#}")).or_default() += 1;
                    }
                    return Err(e);
                }
            }
        };
        let (mut sink, mut stream) = socket.split();
        let mut latencies = Vec::new();
        let mut live = false;
        loop {
            let frame = tokio::select! {
                _ = self.stop.changed() => break,
                frame = stream.next() => frame,
            };
            let text = match frame {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            };
            // Cheap scans instead of a JSON parse: the client must not be the bottleneck.
            if let Some(at) = text.find(MEASURED) {
                let now = self.epoch.elapsed().as_micros() as u64;
                let digits: String = text[at + MEASURED.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(sent) = digits.parse::<u64>() {
                    latencies.push(now.saturating_sub(sent));
                }
            } else if text.contains(WARMUP) {
                if !live {
                    live = true;
                    self.ready.fetch_add(1, Ordering::AcqRel);
                }
            } else if text.contains("\"type\":\"ping\"") {
                sink.send(Message::Text(r#"{"type":"pong"}"#.into()))
                    .await?;
            }
        }
        let _ = sink.close().await;
        Ok(latencies)
    }

    async fn connect(
        &self,
    ) -> anyhow::Result<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    > {
        let mut request = self.url.as_str().into_client_request()?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
        socket.send(Message::Text(self.init.clone().into())).await?;
        loop {
            match tokio::time::timeout(Duration::from_secs(30), socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) if text.contains("connection_ack") => break,
                Ok(Some(Ok(Message::Text(_)))) | Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => return Err(e.into()),
                Ok(None) => bail!("the server closed the socket before connection_ack"),
                Err(_) => bail!("no connection_ack within 30 s"),
            }
        }
        let subscribe = serde_json::json!({
            "id": "1",
            "type": "subscribe",
            "payload": { "query": SUBSCRIPTION, "variables": { "after": self.after.to_string() } },
        });
        socket
            .send(Message::Text(subscribe.to_string().into()))
            .await?;
        Ok(socket)
    }
}
