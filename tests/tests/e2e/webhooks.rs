//! Webhooks: endpoints created over GraphQL, deliveries signed and retried, SSRF targets refused.

use chrono::{Duration, Utc};
use domain::webhooks::{self, signature, DeliveryOutcome, WebhookSender};
use serde_json::{json, Value};
use tests::live::{creator, default_org, invalidate, WebhookReceiver};
use tests::{on_both_backends, spawn_app_with, Backend, TestApp};

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

/// The app's keyring (the embedded key file in its data directory) and a sender like its own, so
/// the test can run deliveries at chosen times.
fn runtime(app: &TestApp) -> (domain::vault::Keyring, WebhookSender) {
    let (keyring, _) =
        domain::vault::load_or_create_key_file(&app.data_dir.path().join("vault.key"))
            .expect("the app's key file");
    (
        keyring,
        WebhookSender::new(app.config.webhook_policy()).expect("sender"),
    )
}

async fn a_failing_receiver_gets_the_event_again_until_it_accepts_it_signed_and_with_the_same_id(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, allow_local).await else {
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

    // The application relays the event and makes the first attempt itself; the receiver fails it.
    let first = receiver.wait_for(1).await;
    assert_eq!(first[0].answered, 500);

    // Later attempts are due 30 s, 1 min, 2 min after; run them at those times.
    let (keyring, sender) = runtime(&app);
    let delivery_id = webhooks::delivery::due(&db, Utc::now() + Duration::days(2), 10)
        .await
        .expect("due")
        .into_iter()
        .next()
        .expect("the delivery waits for a retry");
    let mut now = Utc::now();
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        now += Duration::minutes(5);
        outcomes.push(
            webhooks::deliver(&db, &keyring, &sender, delivery_id, now)
                .await
                .expect("deliver"),
        );
    }
    assert!(
        matches!(outcomes[0], DeliveryOutcome::RetryAt(_)),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[1], DeliveryOutcome::RetryAt(_)),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[2], DeliveryOutcome::Delivered);
    assert_eq!(
        outcomes[3],
        DeliveryOutcome::Skipped,
        "a delivered event is not sent again"
    );

    let requests = receiver.requests();
    let answered: Vec<u16> = requests.iter().map(|r| r.answered).collect();
    assert_eq!(answered, vec![500, 500, 500, 200]);
    for request in &requests {
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
                &secret,
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

    let listed = app
        .graphql_ok(DELIVERIES, json!({ "id": endpoint_id }))
        .await;
    let delivery = &listed["webhookDeliveries"][0];
    assert_eq!(delivery["eventId"], event_id.to_string());
    assert_eq!(delivery["status"], "SUCCEEDED");
    assert_eq!(delivery["lastStatusCode"], 200);
    let codes: Vec<i64> = delivery["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["statusCode"].as_i64().expect("code"))
        .collect();
    assert_eq!(codes, vec![500, 500, 500, 200]);
    assert_eq!(delivery["attempts"][0]["responseExcerpt"], "status 500");

    // Redelivery sends the same event once more.
    let again = app
        .graphql_ok(
            "mutation($id: ID!) { redeliverWebhook(input: { deliveryId: $id }) {
                delivery { status } userErrors { code } } }",
            json!({ "id": delivery["id"] }),
        )
        .await;
    assert_eq!(again["redeliverWebhook"]["delivery"]["status"], "PENDING");
    let requests = receiver.wait_for(5).await;
    assert_eq!(
        requests[4].header("x-creatorlink-event-id"),
        Some(event_id.to_string().as_str())
    );
}

async fn an_endpoint_failing_for_the_whole_retry_window_is_disabled_with_an_event(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, allow_local).await else {
        return;
    };
    let receiver = WebhookReceiver::start(vec![503; 100]).await;
    let created = create_endpoint(&app, &receiver.url).await;
    let db = app.db.connect().await;
    let org = default_org(&db).await;
    let ana = creator(&db, org, "Ana").await;
    invalidate(&db, &ana).await;
    receiver.wait_for(1).await;

    let (keyring, sender) = runtime(&app);
    let delivery_id = webhooks::delivery::due(&db, Utc::now() + Duration::days(2), 10)
        .await
        .expect("due")[0];
    let mut now = Utc::now();
    let mut last = None;
    for _ in 1..sender.policy().max_attempts {
        now += Duration::hours(5);
        last = Some(
            webhooks::deliver(&db, &keyring, &sender, delivery_id, now)
                .await
                .expect("deliver"),
        );
    }
    assert_eq!(last, Some(DeliveryOutcome::Dead));

    let endpoints = app
        .graphql_ok(
            "{ webhookEndpoints { id enabled disabledReason } }",
            json!({}),
        )
        .await;
    let endpoint = &endpoints["webhookEndpoints"][0];
    assert_eq!(endpoint["id"], created["webhookEndpoint"]["id"]);
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
    webhook_targets_on_internal_addresses_are_refused,
);
