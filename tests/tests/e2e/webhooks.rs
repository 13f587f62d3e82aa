//! Webhooks: endpoints created over GraphQL; deliveries as `deliver_webhook` jobs, signed and
//! retried on the queue, rescued by `webhook_scan` when an enqueue is lost, delivered once across
//! API replicas; SSRF targets refused.
//!
//! On SQLite the queue is the in-process `jobs.db`; on PostgreSQL it is Redis.

use chrono::{Duration, Utc};
use domain::access::{Role, Scope};
use domain::entities::{link_event, outbox_cursor, webhook_delivery};
use domain::webhooks::{self, signature};
use jobs::webhooks::{DeliverWebhook, WebhookScan};
use jobs::Job as _;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tests::live::{creator, default_org, invalidate, WebhookReceiver};
use tests::{
    on_both_backends, spawn_app_with, spawn_replica, Backend, Credential, TestApp, TestRedis,
};
use uuid::Uuid;

use crate::jobs::eventually;
const CREATE: &str = "mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    webhookEndpoint { id url enabled eventTypes }
    signingSecret
    userErrors { code field message }
  }
}";

const DELIVERIES: &str = "query($id: ID!) {
  webhookDeliveries(endpointId: $id) {
    id eventId status lastStatusCode attempts { number statusCode responseExcerpt }
  }
}";

fn allow_local(config: &mut api::Config) {
    config.events.poll_interval_ms = 50;
    config.webhooks.allow_private_targets = true;
    // An idle apalis worker looks at its queue again at its next heartbeat (a job pushed by
    // another process, or one whose delay ran out, does not wake it): keep that short.
    config.jobs.heartbeat_secs = 1;
    config.jobs.missed_heartbeats = 2;
}

/// Retries one second apart instead of 30 s doubling to 4 h.
fn quick_retries(config: &mut api::Config) {
    config.webhooks.retry_base_secs = 1;
    config.webhooks.retry_max_secs = 1;
}

/// The application on `backend` with local webhook targets allowed: on SQLite with its SQLite
/// queue, on PostgreSQL with the queue (and the event fan-out) on a Redis prefix of its own. The
/// returned `TestRedis` must live as long as the app.
async fn spawn(
    backend: Backend,
    adjust: impl FnOnce(&mut api::Config),
) -> Option<(TestApp, Option<TestRedis>)> {
    let redis = match backend {
        Backend::Postgres => Some(TestRedis::create().await?),
        Backend::Sqlite => None,
    };
    let on_redis = redis.as_ref().map(|r| (r.url.clone(), r.prefix.clone()));
    let app = spawn_app_with(backend, |c| {
        allow_local(c);
        if let Some((url, prefix)) = on_redis {
            c.redis.url = Some(url);
            c.redis.prefix = prefix;
        }
        adjust(c);
    })
    .await?;
    Some((app, redis))
}

async fn create_endpoint(app: &TestApp, url: &str) -> Value {
    app.graphql_ok(
        CREATE,
        json!({ "input": {
            "url": url,
            "eventTypes": ["LINK_STATUS_CHANGED", "WEBHOOK_ENDPOINT_DISABLED"],
            "description": "test receiver"
        }}),
    )
    .await["createWebhookEndpoint"]
        .clone()
}

/// The endpoint's newest delivery as `webhookDeliveries` lists it.
async fn latest_delivery(app: &TestApp, endpoint_id: &Value) -> Value {
    app.graphql_ok(DELIVERIES, json!({ "id": endpoint_id }))
        .await["webhookDeliveries"][0]
        .clone()
}

async fn wait_for_status(app: &TestApp, endpoint_id: &Value, status: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        last = latest_delivery(app, endpoint_id).await;
        if last["status"] == status {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for the delivery to be {status}: {last}");
}

fn assert_signed_event(
    request: &tests::live::Received,
    secret: &domain::secret::Secret,
    event_id: i64,
) {
    assert_eq!(
        request.header("x-creatorlink-event-id"),
        Some(event_id.to_string().as_str())
    );
    let timestamp: i64 = request
        .header("x-creatorlink-timestamp")
        .expect("timestamp header")
        .parse()
        .expect("unix seconds");
    let sig = request
        .header("x-creatorlink-signature")
        .expect("signature header");
    assert!(
        signature::verify(
            secret,
            timestamp,
            request.body.as_bytes(),
            sig,
            timestamp,
            300
        ),
        "the signature verifies with the secret shown at creation"
    );
    let body: Value = serde_json::from_str(&request.body).expect("JSON body");
    assert_eq!(body["id"], event_id.to_string());
    assert_eq!(body["type"], "link.status_changed");
    assert_eq!(body["data"]["to"], "INVALID");
    assert_eq!(body["data"]["reason"], "PERMISSIONS_REVOKED");
    assert!(body["occurredAt"].is_string());
}

async fn a_failing_receiver_gets_the_event_again_until_it_accepts_it_signed_and_with_the_same_id(
    backend: Backend,
) {
    let Some((app, _redis)) = spawn(backend, quick_retries).await else {
        return;
    };
    let receiver = WebhookReceiver::start(vec![500, 500, 500]).await;
    let created = create_endpoint(&app, &receiver.url).await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let secret = domain::secret::Secret::new(
        created["signingSecret"]
            .as_str()
            .expect("the secret is returned once"),
    );
    assert!(secret.expose().starts_with("whsec_"));
    let endpoint_id = created["webhookEndpoint"]["id"].clone();

    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;
    let event_id = invalidate(&db, &ana).await;

    // The relay enqueues the delivery; each failed attempt enqueues the next one a second later.
    let delivery = wait_for_status(&app, &endpoint_id, "SUCCEEDED").await;
    let requests = receiver.requests();
    let answered: Vec<u16> = requests.iter().map(|r| r.answered).collect();
    assert_eq!(
        answered,
        vec![500, 500, 500, 200],
        "three failures, then the event exactly once more"
    );
    for request in &requests {
        assert_signed_event(request, &secret, event_id);
    }
    assert_eq!(delivery["eventId"], event_id.to_string());
    assert_eq!(delivery["lastStatusCode"], 200);
    let codes: Vec<i64> = delivery["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["statusCode"].as_i64().expect("code"))
        .collect();
    assert_eq!(codes, vec![500, 500, 500, 200]);
    assert_eq!(delivery["attempts"][0]["responseExcerpt"], "status 500");

    // A delivered event is not sent again, not even by the rescue scan.
    assert_eq!(
        jobs::execute(&WebhookScan::default(), &app.jobs).await,
        jobs::Outcome::Done
    );
    assert_eq!(
        jobs::execute(
            &DeliverWebhook {
                delivery_id: delivery_uuid(&db, event_id).await
            },
            &app.jobs
        )
        .await,
        jobs::Outcome::Done
    );
    assert_eq!(receiver.requests().len(), 4);

    // Redelivery enqueues a job that sends the same event once more.
    let again = app
        .graphql_ok(
            "mutation($id: ID!) { redeliverWebhook(input: { deliveryId: $id }) {
                delivery { status } userErrors { code } } }",
            json!({ "id": delivery["id"] }),
        )
        .await;
    assert_eq!(again["redeliverWebhook"]["delivery"]["status"], "PENDING");
    let requests = receiver.wait_for(5).await;
    assert_signed_event(&requests[4], &secret, event_id);
    wait_for_status(&app, &endpoint_id, "SUCCEEDED").await;
    assert_eq!(receiver.requests().len(), 5);
}

async fn delivery_uuid(db: &DatabaseConnection, event_id: i64) -> Uuid {
    webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EventId.eq(event_id))
        .one(db)
        .await
        .expect("query")
        .expect("the delivery row")
        .id
}

async fn an_endpoint_failing_for_the_whole_retry_window_is_disabled_with_an_event(
    backend: Backend,
) {
    let Some((app, _redis)) = spawn(backend, |c| {
        quick_retries(c);
        c.webhooks.max_attempts = 3;
    })
    .await
    else {
        return;
    };
    let receiver = WebhookReceiver::start(vec![503; 100]).await;
    let created = create_endpoint(&app, &receiver.url).await;
    let endpoint_id = created["webhookEndpoint"]["id"].clone();
    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;
    invalidate(&db, &ana).await;

    let delivery = wait_for_status(&app, &endpoint_id, "DEAD").await;
    assert_eq!(delivery["attempts"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        receiver.requests().len(),
        3,
        "no attempt after the last one"
    );

    let endpoints = app
        .graphql_ok(
            "{ webhookEndpoints { id enabled disabledReason } }",
            json!({}),
        )
        .await;
    let endpoint = &endpoints["webhookEndpoints"][0];
    assert_eq!(endpoint["id"], endpoint_id);
    assert_eq!(endpoint["enabled"], false);
    assert!(endpoint["disabledReason"]
        .as_str()
        .is_some_and(|r| r.contains("failing continuously")));
    let disabled_events =
        domain::events::list_after(&db, &domain::events::EventFilter::org(org), 0, 100)
            .await
            .expect("events")
            .into_iter()
            .filter(|e| e.kind == domain::events::kind::WEBHOOK_ENDPOINT_DISABLED)
            .count();
    assert_eq!(disabled_events, 1);
}

/// A delivery row whose job never reached the queue (the process died between the commit and
/// the enqueue) is found by `webhook_scan` and delivered.
async fn a_delivery_whose_enqueue_was_lost_is_rescued_by_the_scan(backend: Backend) {
    let Some((app, _redis)) = spawn(backend, |c| {
        c.jobs.webhook_scan_schedule = "off".into();
    })
    .await
    else {
        return;
    };
    let receiver = WebhookReceiver::start(vec![]).await;
    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;
    // An event the relay passes while no endpoint exists …
    let event_id = invalidate(&db, &ana).await;
    eventually("the relay passes the event", || async {
        outbox_cursor::Entity::find_by_id("webhooks".to_owned())
            .one(&db)
            .await
            .expect("cursor")
            .is_some_and(|c| c.last_event_id >= event_id)
    })
    .await;
    let created = create_endpoint(&app, &receiver.url).await;
    let secret = domain::secret::Secret::new(created["signingSecret"].as_str().expect("secret"));
    // … then its delivery row, written as the relay writes it, five minutes ago, without a job.
    let event = link_event::Entity::find_by_id(event_id)
        .one(&db)
        .await
        .expect("query")
        .expect("event");
    let pending =
        webhooks::delivery::enqueue_for_events(&db, &[event], Utc::now() - Duration::minutes(5))
            .await
            .expect("delivery rows");
    assert_eq!(pending.len(), 1);
    assert_eq!(
        app.queue.depth(DeliverWebhook::NAME).await.expect("depth"),
        0
    );

    assert_eq!(
        jobs::execute(&WebhookScan::default(), &app.jobs).await,
        jobs::Outcome::Done
    );
    let requests = receiver.wait_for(1).await;
    assert_signed_event(&requests[0], &secret, event_id);
    wait_for_status(&app, &created["webhookEndpoint"]["id"], "SUCCEEDED").await;
    assert_eq!(receiver.requests().len(), 1);
}

/// A process that cannot open the endpoint's signing secret (a replica deployed with other vault
/// keys) fails the job without claiming the delivery, so a process with the right keys delivers
/// it at once, not only after the claim has run out and the scan has found it.
async fn a_worker_without_the_vault_key_leaves_the_delivery_to_one_with_it(backend: Backend) {
    let Some((app, _redis)) = spawn(backend, |c| c.jobs.in_process = false).await else {
        return;
    };
    // Its own data directory, so its own generated vault key.
    let stranger = tests::spawn_app_on(app.db.clone(), |c| {
        allow_local(c);
        c.jobs.in_process = false;
        c.jobs.max_attempts = 1;
    })
    .await;
    let receiver = WebhookReceiver::start(vec![]).await;
    let created = create_endpoint(&app, &receiver.url).await;
    let secret = domain::secret::Secret::new(created["signingSecret"].as_str().expect("secret"));
    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;
    let event_id = invalidate(&db, &ana).await;
    eventually("the relay writes the delivery", || async {
        webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::EventId.eq(event_id))
            .one(&db)
            .await
            .expect("query")
            .is_some()
    })
    .await;
    let job = DeliverWebhook {
        delivery_id: delivery_uuid(&db, event_id).await,
    };

    let outcome = jobs::execute(&job, &stranger.jobs).await;
    let jobs::Outcome::Dead { error, .. } = outcome else {
        panic!("a wrong key fails the job: {outcome:?}");
    };
    assert!(error.contains("failed to decrypt"), "{error}");
    assert!(!error.contains(secret.expose()), "{error}");
    let untouched = webhook_delivery::Entity::find_by_id(job.delivery_id)
        .one(&db)
        .await
        .expect("query")
        .expect("delivery");
    assert_eq!(
        (untouched.status.as_str(), untouched.attempts),
        ("PENDING", 0),
        "not claimed"
    );
    assert!(
        untouched.next_attempt_at.is_some_and(|at| at <= Utc::now()),
        "still due: {:?}",
        untouched.next_attempt_at
    );
    assert!(receiver.requests().is_empty());
    failed_jobs_are_listed_and_retried_within_their_organization(&app, &error).await;

    assert_eq!(jobs::execute(&job, &app.jobs).await, jobs::Outcome::Done);
    let requests = receiver.wait_for(1).await;
    assert_signed_event(&requests[0], &secret, event_id);
    wait_for_status(&app, &created["webhookEndpoint"]["id"], "SUCCEEDED").await;
}

/// The dead `deliver_webhook` job (the only one) through `failedJobs` / `retryJob`: its
/// organization's admin sees and retries it once; another organization's admin, managers and API
/// keys cannot see or touch it.
async fn failed_jobs_are_listed_and_retried_within_their_organization(app: &TestApp, error: &str) {
    const LIST: &str = "{ failedJobs { id job error attempts failedAt retriedAt } }";
    const RETRY: &str = "mutation($id: ID!) { retryJob(input: { id: $id }) {
        job { id retriedAt } userErrors { code field } } }";
    let listed = app.graphql_ok(LIST, json!({})).await;
    let failed = &listed["failedJobs"];
    assert_eq!(failed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(failed[0]["job"], "deliver_webhook");
    assert_eq!(failed[0]["error"], error);
    assert_eq!(failed[0]["attempts"], 1);
    assert_eq!(failed[0]["retriedAt"], Value::Null);
    let id = failed[0]["id"].clone();

    let other_org = app.create_org("Other agency").await;
    let other = Credential::Bearer(app.token_for(other_org, Role::Admin, &[]));
    let (_, theirs) = app.graphql_as(&other, LIST, json!({})).await;
    assert_eq!(theirs["data"]["failedJobs"], json!([]), "{theirs}");
    let (_, refused) = app.graphql_as(&other, RETRY, json!({ "id": id })).await;
    assert_eq!(
        refused["data"]["retryJob"]["userErrors"][0]["code"], "NOT_FOUND",
        "{refused}"
    );
    let manager = Credential::Bearer(app.token(Role::Manager, &[]));
    let key = Credential::ApiKey(app.api_key(&[Scope::WebhooksManage]).await);
    for credential in [&manager, &key] {
        let (_, body) = app.graphql_as(credential, LIST, json!({})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{body}"
        );
        let (_, body) = app.graphql_as(credential, RETRY, json!({ "id": id })).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{body}"
        );
    }
    let queued = app.queue.depth(DeliverWebhook::NAME).await.expect("depth");

    let retried = app.graphql_ok(RETRY, json!({ "id": id })).await;
    assert_eq!(retried["retryJob"]["userErrors"], json!([]), "{retried}");
    assert!(retried["retryJob"]["job"]["retriedAt"].is_string());
    assert_eq!(
        app.queue.depth(DeliverWebhook::NAME).await.expect("depth"),
        queued + 1,
        "the job is queued again"
    );
    let again = app.graphql_ok(RETRY, json!({ "id": id })).await;
    assert_eq!(
        again["retryJob"]["userErrors"][0]["code"], "ALREADY_RETRIED",
        "{again}"
    );
}

/// The queue holds ids only: the signing secret (and the rest of the endpoint) is read from the
/// database by the job. Searched in the raw storage: every key of the test's Redis prefix, or the
/// bytes of the SQLite queue file.
async fn a_queued_delivery_job_carries_no_secret(backend: Backend) {
    let Some((app, redis)) = spawn(backend, |c| {
        c.webhooks.retry_base_secs = 3600;
        c.webhooks.retry_max_secs = 3600;
    })
    .await
    else {
        return;
    };
    let receiver = WebhookReceiver::start(vec![500]).await;
    let created = create_endpoint(&app, &receiver.url).await;
    let secret = created["signingSecret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;
    let event_id = invalidate(&db, &ana).await;
    receiver.wait_for(1).await;
    // The failed attempt left its retry on the queue, an hour out.
    eventually("the retry is queued", || async {
        app.queue.depth(DeliverWebhook::NAME).await.unwrap_or(0) >= 1
    })
    .await;
    let delivery_id = delivery_uuid(&db, event_id).await.to_string();

    let raw = match &redis {
        Some(redis) => redis_dump(redis).await,
        None => {
            let mut bytes = Vec::new();
            for name in ["jobs.db", "jobs.db-wal"] {
                if let Ok(b) = std::fs::read(app.data_dir.path().join(name)) {
                    bytes.extend(b);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    assert!(
        raw.contains(&delivery_id),
        "the queued job is in the searched storage"
    );
    assert!(!raw.contains(&secret), "the signing secret is not queued");
    assert!(
        !raw.contains(secret.trim_start_matches("whsec_")),
        "nor any form of it"
    );
    assert!(!tests::logs().contents().contains(&secret), "nor logged");
}

/// Every value under the test's Redis prefix, as text.
async fn redis_dump(redis: &TestRedis) -> String {
    let mut conn = redis.connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", redis.prefix))
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert!(!keys.is_empty(), "the queue lives under the prefix");
    let mut out = String::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("type");
        let values: Vec<Vec<u8>> = match kind.as_str() {
            "string" => vec![redis::cmd("GET")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .expect("get")],
            "hash" => redis::cmd("HGETALL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .expect("hgetall"),
            "list" => redis::cmd("LRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .expect("lrange"),
            "set" => redis::cmd("SMEMBERS")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .expect("smembers"),
            "zset" => redis::cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .expect("zrange"),
            _ => Vec::new(),
        };
        out.push_str(&key);
        for v in values {
            out.push('\n');
            out.push_str(&String::from_utf8_lossy(&v));
        }
        out.push('\n');
    }
    out
}

/// Two API processes, each with its relay and its workers, on one PostgreSQL database and one
/// Redis: every event reaches the webhook once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_replicas_deliver_each_event_to_a_webhook_exactly_once() {
    let Some(redis) = TestRedis::create().await else {
        return;
    };
    let with_redis = |name: &str| {
        let (url, prefix, name) = (redis.url.clone(), redis.prefix.clone(), name.to_owned());
        move |c: &mut api::Config| {
            allow_local(c);
            c.redis.url = Some(url);
            c.redis.prefix = prefix;
            // Worker names must be unique in the cluster; both apps share this process's pid.
            c.jobs.worker_name = Some(name);
        }
    };
    let Some(first) = spawn_app_with(Backend::Postgres, with_redis("first")).await else {
        return;
    };
    let second = spawn_replica(&first, with_redis("second")).await;
    let receiver = WebhookReceiver::start(vec![]).await;
    let created = create_endpoint(&second, &receiver.url).await;
    assert_eq!(created["userErrors"], json!([]), "{created}");

    let db = first.db.connect().await;
    let org = default_org(&db).await;
    let mut expected = Vec::new();
    for name in ["Ana", "Bea", "Cai", "Dan"] {
        let c = creator(&db, org, name).await;
        for _ in 0..5 {
            expected.push(invalidate(&db, &c).await.to_string());
        }
    }
    // Patient: on two busy cores the workers of both processes share one queue.
    let mut statuses = Vec::new();
    for _ in 0..600 {
        statuses = webhook_delivery::Entity::find()
            .all(&db)
            .await
            .expect("deliveries")
            .into_iter()
            .map(|d| (d.event_id, d.status, d.attempts))
            .collect();
        if statuses.len() == expected.len() && statuses.iter().all(|s| s.1 == "SUCCEEDED") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        statuses.len() == expected.len() && statuses.iter().all(|s| s.1 == "SUCCEEDED"),
        "every delivery succeeded: {statuses:?}"
    );
    // Nothing is left to rescue either: both processes' scans find no due delivery.
    for app in [&first, &second] {
        assert_eq!(
            jobs::execute(&WebhookScan::default(), &app.jobs).await,
            jobs::Outcome::Done
        );
    }
    let mut got: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| {
            r.header("x-creatorlink-event-id")
                .expect("event id")
                .to_owned()
        })
        .collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "each event exactly once");
}

async fn webhook_targets_on_internal_addresses_are_refused(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
    ] {
        let created = create_endpoint(&app, url).await;
        assert_eq!(created["webhookEndpoint"], Value::Null, "{url}: {created}");
        assert_eq!(created["signingSecret"], Value::Null);
        assert_eq!(
            created["userErrors"][0]["code"], "TARGET_NOT_ALLOWED",
            "{url}: {created}"
        );
        assert_eq!(created["userErrors"][0]["field"], "url");
    }
    let created = create_endpoint(&app, "ftp://example.com/").await;
    assert_eq!(created["userErrors"][0]["code"], "INVALID_URL");
    let listed = app
        .graphql_ok("{ webhookEndpoints { id } }", json!({}))
        .await;
    assert_eq!(listed["webhookEndpoints"], json!([]));
}

on_both_backends!(
    a_failing_receiver_gets_the_event_again_until_it_accepts_it_signed_and_with_the_same_id,
    an_endpoint_failing_for_the_whole_retry_window_is_disabled_with_an_event,
    a_delivery_whose_enqueue_was_lost_is_rescued_by_the_scan,
    a_worker_without_the_vault_key_leaves_the_delivery_to_one_with_it,
    a_queued_delivery_job_carries_no_secret,
    webhook_targets_on_internal_addresses_are_refused,
);
