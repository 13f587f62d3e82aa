//! Helpers for live-event tests: a `graphql-transport-ws` client, rows to hang events on, and a
//! scriptable webhook receiver.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use domain::entities::{creator_profile, organization, social_account};
use domain::events::{self, NewEvent};
use domain::{Actor, LinkStatus, OrgId, Platform, ProfileKind};
use futures::{SinkExt, StreamExt};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::TestApp;

/// How long a test waits for something that should arrive.
pub const WAIT: Duration = Duration::from_secs(15);

/// The subprotocol of the current `graphql-ws` npm package.
pub const GRAPHQL_TRANSPORT_WS: &str = "graphql-transport-ws";
/// The legacy subprotocol of `subscriptions-transport-ws` (Apollo's old client), also called
/// `graphql-ws`: `start`/`data`/`stop` instead of `subscribe`/`next`/`complete`, `ka` keep-alives.
pub const LEGACY_GRAPHQL_WS: &str = "graphql-ws";

/// A websocket speaking `graphql-transport-ws` (or the legacy `graphql-ws`), acknowledged and
/// ready to subscribe.
pub struct WsClient {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    protocol: &'static str,
}

impl WsClient {
    /// Connects to `app`'s `/graphql` and completes `connection_init`. Unless `init_payload`
    /// carries a credential (`Authorization` / `X-Api-Key`), the upgrade request carries the test
    /// organization's admin token.
    pub async fn connect(app: &TestApp, init_payload: Value) -> WsClient {
        Self::connect_with(app, init_payload, GRAPHQL_TRANSPORT_WS).await
    }

    /// As [`WsClient::connect`], speaking subprotocol `protocol`.
    pub async fn connect_with(
        app: &TestApp,
        init_payload: Value,
        protocol: &'static str,
    ) -> WsClient {
        let mut client = Self::open(app, &init_payload, protocol).await;
        client
            .send(json!({ "type": "connection_init", "payload": init_payload }))
            .await;
        let ack = client.next_message().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    /// Connects and sends `connection_init` without waiting for the answer (for refusals).
    pub async fn connect_unacknowledged(app: &TestApp, init_payload: Value) -> WsClient {
        let mut client = Self::open(app, &init_payload, GRAPHQL_TRANSPORT_WS).await;
        client
            .send(json!({ "type": "connection_init", "payload": init_payload }))
            .await;
        client
    }

    async fn open(app: &TestApp, init_payload: &Value, protocol: &'static str) -> WsClient {
        let mut request = format!("ws://127.0.0.1:{}/graphql", app.port)
            .into_client_request()
            .expect("a websocket request");
        let has_credential = init_payload.as_object().is_some_and(|m| {
            m.keys().any(|k| {
                matches!(
                    k.to_ascii_lowercase().as_str(),
                    "authorization" | "x-api-key" | "apikey"
                )
            })
        });
        if !has_credential {
            request.headers_mut().insert(
                "authorization",
                format!("Bearer {}", app.admin_token())
                    .parse()
                    .expect("header value"),
            );
        }
        request.headers_mut().insert(
            "sec-websocket-protocol",
            protocol.parse().expect("header value"),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the websocket connects");
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some(protocol)
        );
        WsClient { socket, protocol }
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("the message is sent");
    }

    /// The next protocol message (pings are answered and skipped).
    pub async fn next_message(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message arrives in time")
                .expect("the socket is open")
                .expect("a websocket frame");
            match message {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON");
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    if value["type"] == "ka" {
                        // The legacy protocol's keep-alive: nothing to answer.
                        continue;
                    }
                    return value;
                }
                Message::Close(frame) => panic!("the server closed the socket: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Waits for the server to close the socket; returns the close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("the socket closes in time");
            match message {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (frame.code.into(), frame.reason.to_string())
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return (0, String::new()),
                Some(Ok(other)) => {
                    let text = other.into_text().unwrap_or_default();
                    assert!(
                        !text.contains("connection_ack"),
                        "the connection was acknowledged: {text}"
                    );
                }
            }
        }
    }

    /// Starts subscription `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let start = if self.protocol == LEGACY_GRAPHQL_WS {
            "start"
        } else {
            "subscribe"
        };
        self.send(json!({
            "id": id,
            "type": start,
            "payload": { "query": query, "variables": variables }
        }))
        .await;
    }

    /// Ends subscription `id` (`complete`, or `stop` in the legacy protocol).
    pub async fn unsubscribe(&mut self, id: &str) {
        let stop = if self.protocol == LEGACY_GRAPHQL_WS {
            "stop"
        } else {
            "complete"
        };
        self.send(json!({ "id": id, "type": stop })).await;
    }

    /// The next `next` payload of any subscription: `(id, payload)`.
    pub async fn next_payload(&mut self) -> (String, Value) {
        let message = self.next_message().await;
        assert!(
            ["next", "data", "error"].contains(&message["type"].as_str().unwrap_or_default()),
            "unexpected message {message}"
        );
        (
            message["id"].as_str().unwrap_or_default().to_owned(),
            message["payload"].clone(),
        )
    }

    /// The next link event delivered by subscription `id`.
    pub async fn next_event(&mut self, id: &str) -> Value {
        let (got, payload) = self.next_payload().await;
        assert_eq!(got, id, "{payload}");
        assert!(payload.get("errors").is_none(), "{payload}");
        payload["data"]["linkStatusChanged"].clone()
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// The selection the tests subscribe with.
pub const SUBSCRIPTION: &str = "subscription($profileId: ID, $accountId: ID, $platforms: [Platform!], $after: ID) {
  linkStatusChanged(profileId: $profileId, accountId: $accountId, platforms: $platforms, after: $after) {
    id kind accountId profileId platform from to reason actor occurredAt
  }
}";

/// A profile with one linked account, to record events on.
pub struct Creator {
    pub org: OrgId,
    pub profile: creator_profile::Model,
    pub account: social_account::Model,
}

impl Creator {
    /// The profile's global id, as the API shows it.
    pub fn profile_gid(&self) -> String {
        gid("CreatorProfile", self.profile.id)
    }

    /// The account's global id.
    pub fn account_gid(&self) -> String {
        gid("SocialAccount", self.account.id)
    }
}

fn gid(ty: &str, id: Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ty}:{id}"))
}

/// The test organization (`TestApp::org`), in which `TestApp::graphql` and `WsClient::connect`
/// act as an admin.
pub async fn default_org(db: &DatabaseConnection) -> OrgId {
    let org = organization::Entity::find()
        .filter(organization::Column::Name.eq("Test organization"))
        .one(db)
        .await
        .expect("query")
        .expect("the test organization exists");
    OrgId::new(org.id)
}

/// A new organization.
pub async fn other_org(db: &DatabaseConnection) -> OrgId {
    OrgId::new(
        domain::organizations::create(db, &format!("Other {}", Uuid::new_v4()))
            .await
            .expect("organization")
            .id,
    )
}

/// A profile with an Instagram account in `org`.
pub async fn creator(db: &DatabaseConnection, org: OrgId, name: &str) -> Creator {
    let now = Utc::now();
    let profile = creator_profile::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        kind: Set(ProfileKind::Individual),
        name: Set(name.to_owned()),
        email: Set(None),
        notes: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("profile");
    let handle = format!(
        "{}_{}",
        name.to_lowercase(),
        &Uuid::new_v4().simple().to_string()[..8]
    );
    let account = social_account::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        profile_id: Set(Some(profile.id)),
        platform: Set(Platform::Instagram),
        handle: Set(handle.clone()),
        handle_lower: Set(handle.to_lowercase()),
        url: Set(format!("https://www.instagram.com/{handle}/")),
        platform_user_id: Set(None),
        display_name: Set(None),
        avatar_url: Set(None),
        followers: Set(None),
        followers_hidden: Set(false),
        paired_account_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("account");
    Creator {
        org,
        profile,
        account,
    }
}

/// Records the status change a worker makes when the platform says access was revoked; returns
/// the event id.
pub async fn invalidate(db: &DatabaseConnection, creator: &Creator) -> i64 {
    events::record(
        db,
        NewEvent::status_changed(
            &creator.account,
            LinkStatus::Linked,
            LinkStatus::Invalid,
            Some("PERMISSIONS_REVOKED".into()),
            Actor::system("refresh-tokens"),
            Utc::now(),
        ),
    )
    .await
    .expect("event")
    .id
}

/// One request a webhook receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A local HTTP server answering webhook POSTs with scripted statuses (then 200), recording each.
pub struct WebhookReceiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WebhookReceiver {
    /// Answers the first requests with `script` in order, every later one with 200.
    pub async fn start(script: Vec<u16>) -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().expect("addr").port()
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let task = tokio::spawn(async move {
            let mut script = script.into_iter();
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let status = script.next().unwrap_or(200);
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, content_length) = loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        break (0, 0);
                    };
                    if n == 0 {
                        break (0, 0);
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..pos]).to_string();
                        let len = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())
                                    .flatten()
                            })
                            .unwrap_or(0);
                        break (pos + 4, len);
                    }
                };
                if head_end == 0 {
                    continue;
                }
                while buf.len() < head_end + content_length {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        Some((k.trim().to_owned(), v.trim().to_owned()))
                    })
                    .collect();
                let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                log.lock().expect("log").push(Received {
                    headers,
                    body,
                    answered: status,
                });
                let reply = format!("status {status}");
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            }
        });
        WebhookReceiver {
            url,
            received,
            task,
        }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().expect("log").clone()
    }

    /// Waits until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {n} webhook requests, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
