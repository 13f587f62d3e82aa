//! Live link events: subscriptions over a real websocket, replay with `after`, fan-out across API
//! processes through Redis, and the outbox's handling of ids committed out of order.

use std::process::Command;

use chrono::{Duration, Utc};
use domain::outbox::{self, GapTracker};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;
use tests::live::{
    self, creator, default_org, invalidate, other_org, WsClient, LEGACY_GRAPHQL_WS, SUBSCRIPTION,
};
use tests::{on_both_backends, spawn_app_with, spawn_replica, Backend, TestRedis};

async fn max_id(db: &sea_orm::DatabaseConnection) -> String {
    domain::events::max_id(db)
        .await
        .expect("max event id")
        .to_string()
}

fn fast(config: &mut api::Config) {
    config.events.poll_interval_ms = 50;
}

async fn a_subscriber_gets_its_profiles_link_events_and_nothing_of_other_profiles_or_organizations(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, fast).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let mine = creator(&db, org, "Ana").await;
    let other_profile = creator(&db, org, "Bea").await;
    let foreign_org = other_org(&db).await;
    let foreign = creator(&db, foreign_org, "Cai").await;

    // Starting from the current end of the log makes the test independent of when the server
    // gets to the subscribe message.
    let start = max_id(&db).await;
    let mut ws = WsClient::connect(&app, json!({})).await;
    ws.subscribe(
        "1",
        SUBSCRIPTION,
        json!({ "profileId": mine.profile_gid(), "after": start }),
    )
    .await;

    invalidate(&db, &other_profile).await;
    invalidate(&db, &foreign).await;
    let first = invalidate(&db, &mine).await;
    invalidate(&db, &other_profile).await;
    invalidate(&db, &foreign).await;
    let sentinel = invalidate(&db, &mine).await;

    let event = ws.next_event("1").await;
    assert_eq!(event["id"], first.to_string());
    assert_eq!(event["kind"], "STATUS_CHANGED");
    assert_eq!(event["from"], "LINKED");
    assert_eq!(event["to"], "INVALID");
    assert_eq!(event["reason"], "PERMISSIONS_REVOKED");
    assert_eq!(event["platform"], "INSTAGRAM");
    assert_eq!(event["profileId"], mine.profile_gid());
    assert_eq!(event["accountId"], mine.account_gid());
    // Events arrive in id order: the next one being the sentinel proves nothing of the other
    // profile or organization came in between.
    let next = ws.next_event("1").await;
    assert_eq!(next["id"], sentinel.to_string());
    ws.close().await;
}

async fn a_subscriber_reconnecting_with_after_gets_what_it_missed_in_order_and_nothing_twice(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, fast).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;

    let start = max_id(&db).await;
    let mut ws = WsClient::connect(&app, json!({})).await;
    ws.subscribe(
        "a",
        SUBSCRIPTION,
        json!({ "accountId": ana.account_gid(), "after": start }),
    )
    .await;
    let seen = invalidate(&db, &ana).await;
    assert_eq!(ws.next_event("a").await["id"], seen.to_string());
    ws.close().await;

    let missed: Vec<i64> = vec![
        invalidate(&db, &ana).await,
        invalidate(&db, &ana).await,
        invalidate(&db, &ana).await,
    ];

    let mut ws = WsClient::connect(&app, json!({})).await;
    ws.subscribe(
        "b",
        SUBSCRIPTION,
        json!({ "accountId": ana.account_gid(), "after": seen.to_string() }),
    )
    .await;
    for id in &missed {
        assert_eq!(ws.next_event("b").await["id"], id.to_string());
    }
    let live = invalidate(&db, &ana).await;
    assert_eq!(ws.next_event("b").await["id"], live.to_string());
    ws.close().await;
}

/// Apollo's old `subscriptions-transport-ws` client speaks the legacy `graphql-ws` subprotocol
/// (`start`/`data`/`stop`); async-graphql serves it on the same endpoint.
async fn a_legacy_graphql_ws_subscriber_receives_link_events_until_it_stops(backend: Backend) {
    let Some(app) = spawn_app_with(backend, fast).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;
    let bea = creator(&db, org, "Bea").await;

    let start = max_id(&db).await;
    let mut ws = WsClient::connect_with(&app, json!({}), LEGACY_GRAPHQL_WS).await;
    ws.subscribe(
        "1",
        SUBSCRIPTION,
        json!({ "profileId": ana.profile_gid(), "after": start }),
    )
    .await;
    invalidate(&db, &bea).await;
    let first = invalidate(&db, &ana).await;
    let event = ws.next_event("1").await;
    assert_eq!(event["id"], first.to_string());
    assert_eq!(event["to"], "INVALID");
    assert_eq!(event["profileId"], ana.profile_gid());

    ws.unsubscribe("1").await;
    let done = ws.next_message().await;
    assert_eq!(done["type"], "complete", "{done}");
    assert_eq!(done["id"], "1");

    // The connection stays usable: a new subscription picks up after the last event seen, and
    // nothing more arrives for the stopped one (the next message is for "2").
    let missed = invalidate(&db, &ana).await;
    ws.subscribe(
        "2",
        SUBSCRIPTION,
        json!({ "profileId": ana.profile_gid(), "after": first.to_string() }),
    )
    .await;
    assert_eq!(ws.next_event("2").await["id"], missed.to_string());
    ws.close().await;
}

async fn a_connection_may_hold_only_a_limited_number_of_subscriptions(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        fast(c);
        c.events.max_subscriptions_per_connection = 1;
    })
    .await
    else {
        return;
    };
    let mut ws = WsClient::connect(&app, json!({})).await;
    ws.subscribe("1", SUBSCRIPTION, json!({})).await;
    ws.subscribe("2", SUBSCRIPTION, json!({})).await;
    let (id, payload) = ws.next_payload().await;
    assert_eq!(id, "2", "{payload}");
    let text = payload.to_string();
    assert!(text.contains("TOO_MANY_SUBSCRIPTIONS"), "{text}");
    ws.close().await;
}

async fn a_graphql_ws_node_client_receives_link_events(backend: Backend) {
    let node_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("node");
    if !node_dir.join("node_modules/graphql-ws").exists() {
        let why = "run `npm ci` in tests/node (.ci/run does)";
        if tests::services_required() {
            panic!("the node graphql-ws client is required: {why}");
        }
        eprintln!("SKIPPED: node client not installed; {why}");
        return;
    }
    let Some(app) = spawn_app_with(backend, fast).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;
    let bea = creator(&db, org, "Bea").await;

    let script = node_dir.join("subscribe.mjs");
    let url = format!("ws://127.0.0.1:{}/graphql", app.port);
    let mut child = tokio::process::Command::from(Command::new("node"))
        .arg(&script)
        .arg(&url)
        .arg(ana.profile_gid())
        .arg(max_id(&db).await)
        .arg(app.admin_token())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    // The script prints `subscribed` once the server acknowledged the connection.
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ready = tokio::time::timeout(live::WAIT, lines.next_line())
        .await
        .expect("the node client starts in time")
        .expect("stdout")
        .expect("a line");
    assert_eq!(ready, "subscribed");
    invalidate(&db, &bea).await;
    let expected = invalidate(&db, &ana).await;
    let line = tokio::time::timeout(live::WAIT, lines.next_line())
        .await
        .expect("the node client prints the event in time")
        .expect("stdout")
        .expect("a line");
    let event: serde_json::Value = serde_json::from_str(&line).expect("JSON from node");
    assert_eq!(event["id"], expected.to_string(), "{event}");
    assert_eq!(event["to"], "INVALID");
    let status = tokio::time::timeout(live::WAIT, child.wait())
        .await
        .expect("node exits")
        .expect("status");
    assert!(status.success());
}

on_both_backends!(
    a_subscriber_gets_its_profiles_link_events_and_nothing_of_other_profiles_or_organizations,
    a_subscriber_reconnecting_with_after_gets_what_it_missed_in_order_and_nothing_twice,
    a_connection_may_hold_only_a_limited_number_of_subscriptions,
    a_graphql_ws_node_client_receives_link_events,
    a_legacy_graphql_ws_subscriber_receives_link_events_until_it_stops,
);

/// Two API processes on one PostgreSQL database and one Redis prefix: an event written by a
/// worker (here, another connection) reaches subscribers on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_reaches_subscribers_on_every_api_replica_through_redis() {
    let Some(redis) = TestRedis::create().await else {
        return;
    };
    let with_redis = |c: &mut api::Config| {
        fast(c);
        c.redis.url = Some(redis.url.clone());
        c.redis.prefix = redis.prefix.clone();
    };
    let Some(first) = spawn_app_with(Backend::Postgres, with_redis).await else {
        return;
    };
    let second = spawn_replica(&first, with_redis).await;
    let db = first.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;

    let start = max_id(&db).await;
    let mut on_first = WsClient::connect(&first, json!({})).await;
    let mut on_second = WsClient::connect(&second, json!({})).await;
    on_first
        .subscribe("1", SUBSCRIPTION, json!({ "after": start }))
        .await;
    on_second
        .subscribe("1", SUBSCRIPTION, json!({ "after": start }))
        .await;

    let id = invalidate(&db, &ana).await;
    assert_eq!(on_first.next_event("1").await["id"], id.to_string());
    assert_eq!(on_second.next_event("1").await["id"], id.to_string());
    let again = invalidate(&db, &ana).await;
    assert_eq!(on_first.next_event("1").await["id"], again.to_string());
    assert_eq!(on_second.next_event("1").await["id"], again.to_string());
}

/// PostgreSQL assigns ids at insert: an event committed later with a lower id must not be skipped,
/// and an id whose transaction rolled back must not stall the outbox forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_waits_for_ids_committed_out_of_order_and_skips_rolled_back_ones() {
    let Some(app) = spawn_app_with(Backend::Postgres, |_| {}).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;
    let start = domain::events::max_id(&db).await.expect("max id");
    let mut gaps = GapTracker::default();
    let grace = Duration::seconds(5);
    let now = Utc::now();

    // A transaction takes id start+1 and stays open while start+2 commits.
    let slow = db.begin().await.expect("transaction");
    let held = invalidate_in(&slow, &ana).await;
    let committed = invalidate(&db, &ana).await;
    assert!(held < committed);

    let batch = outbox::read_batch(&db, start, 100, grace, &mut gaps, now)
        .await
        .expect("read");
    assert!(batch.events.is_empty(), "nothing may pass the open hole");
    assert!(batch.waiting_on_gap);
    assert_eq!(batch.cursor, start);

    slow.commit().await.expect("commit");
    let batch = outbox::read_batch(&db, start, 100, grace, &mut gaps, now)
        .await
        .expect("read");
    let ids: Vec<i64> = batch.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![held, committed]);
    let cursor = batch.cursor;

    // A rolled-back id leaves a hole that never fills: skipped once the grace period is over.
    let doomed = db.begin().await.expect("transaction");
    invalidate_in(&doomed, &ana).await;
    doomed.rollback().await.expect("rollback");
    let after_hole = invalidate(&db, &ana).await;
    let batch = outbox::read_batch(&db, cursor, 100, grace, &mut gaps, now)
        .await
        .expect("read");
    assert!(batch.events.is_empty());
    let batch = outbox::read_batch(&db, cursor, 100, grace, &mut gaps, now + grace)
        .await
        .expect("read");
    let ids: Vec<i64> = batch.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![after_hole]);
}

async fn invalidate_in(db: &impl ConnectionTrait, creator: &live::Creator) -> i64 {
    domain::events::record(
        db,
        domain::events::NewEvent::status_changed(
            &creator.account,
            domain::LinkStatus::Linked,
            domain::LinkStatus::Invalid,
            Some("PERMISSIONS_REVOKED".into()),
            domain::Actor::system("refresh-tokens"),
            Utc::now(),
        ),
    )
    .await
    .expect("event")
    .id
}
