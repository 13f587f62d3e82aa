//! The sandbox's in-process state: issued codes and tokens, user switches flipped by tests,
//! injected faults, and the call log.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use domain::clock::{Clock, ManualClock};
use domain::Provider;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::users::{self, FakeUser};
use crate::config::SandboxConfig;

/// The fixed app credentials the sandbox accepts (and the application uses for it).
pub struct SandboxApp;

impl SandboxApp {
    /// Client id and secret of the sandbox app of `provider`.
    pub fn credentials(provider: Provider) -> (&'static str, &'static str) {
        match provider {
            Provider::Meta => ("sandbox-meta-app", "sandbox-meta-app-secret"),
            Provider::Tiktok => ("sandbox-tiktok-key", "sandbox-tiktok-secret"),
            Provider::Google => ("sandbox-google-client", "sandbox-google-secret"),
        }
    }
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Access,
    Refresh,
}

/// Why a token no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dead {
    /// Never issued, or already used/rotated away.
    Unknown,
    Expired,
    /// The user removed the app (or the app revoked the grant).
    Revoked,
    PasswordChanged,
}

/// An issued token.
#[derive(Debug, Clone)]
pub struct Token {
    pub user: &'static str,
    pub provider: Provider,
    pub kind: TokenUse,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    /// The user's epoch when issued; a revoke or password change starts a new epoch.
    epoch: u64,
    /// Rotated away (TikTok refresh tokens die when used) or revoked by this token's holder.
    spent: bool,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub struct Grant {
    pub user: &'static str,
    pub provider: Provider,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Default, Clone, Copy)]
struct UserSwitches {
    epoch: u64,
    last_kill: Option<Dead>,
}

/// "Fail the next `count` calls" to a provider (optionally only paths containing `path_contains`),
/// with the platform's usual error for `status` or with the given `body`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    pub provider: Provider,
    pub count: u32,
    /// 429 (rate limited, with `Retry-After`) or a 5xx; 200 with `malformed`.
    pub status: u16,
    /// Answer 200 with a body cut off mid-JSON (a proxy or a half-written reply).
    #[serde(default)]
    pub malformed: bool,
    #[serde(default)]
    pub retry_after_seconds: Option<u64>,
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Answer with this body instead of the platform's usual error for `status` (a reply
    /// variant: an error envelope inside a 200, `items: []`, a video without `statistics`, a
    /// quota error of another domain…). A JSON string is sent as an HTML page.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
}

/// "Answer the next `count` calls after `delay_ms`".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Slow {
    pub provider: Provider,
    pub delay_ms: u64,
    pub count: u32,
}

/// "Hold every call to `provider` (whose path contains `path_contains`)": the calls wait, not
/// yet seen by the fake platform, until released; a test kills a client while its calls hang.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    pub provider: Provider,
    #[serde(default)]
    pub path_contains: Option<String>,
}

/// One call a client made to the sandbox.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    pub seq: u64,
    pub provider: Provider,
    /// A stable name: `authorize`, `token:authorization_code`, `token:refresh_token`,
    /// `token:fb_exchange_token`, `debug_token`, `revoke`, `accounts`, `profile`, `media`, …
    pub endpoint: String,
    /// The fake user the call was for, when the sandbox could tell.
    pub user: Option<String>,
    pub at: DateTime<Utc>,
    pub status: u16,
}

#[derive(Default)]
struct State {
    grants: HashMap<String, Grant>,
    tokens: HashMap<String, Token>,
    switches: HashMap<&'static str, UserSwitches>,
    faults: Vec<Fault>,
    slow: Vec<Slow>,
    calls: Vec<CallRecord>,
    hold: Option<Hold>,
    /// Calls waiting on the hold now.
    held: usize,
    /// Content published through the control API, by the platform's account id (Instagram
    /// account, TikTok `open_id`, YouTube channel).
    published: HashMap<&'static str, Vec<Published>>,
}

/// What kind of content the control API publishes: posts, reels and stories on Instagram,
/// videos on TikTok and YouTube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublishedKind {
    Post,
    Reel,
    Story,
    Video,
}

/// Content published on a sandbox account through the control API; the fake platform lists it
/// beside the clock-derived content (an Instagram story for 24 hours).
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub id: String,
    pub kind: PublishedKind,
    /// The Instagram caption, TikTok video description or YouTube video description.
    pub caption: String,
    /// A YouTube video's title.
    pub title: Option<String>,
    pub at: DateTime<Utc>,
}

/// The sandbox: shared by every worker thread of the HTTP server.
pub struct Sandbox {
    clock: ManualClock,
    config: SandboxConfig,
    state: Mutex<State>,
}

impl Sandbox {
    /// A sandbox whose clock the application shares.
    pub fn new(config: SandboxConfig, clock: ManualClock) -> Self {
        Sandbox {
            clock,
            config,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes content on `account` now. `id_at` names it from its publishing instant (in
    /// unix seconds; the platforms' fake insights read its age from the instant), or answers
    /// `None` where that id belongs to clock-derived content; the instant then moves a second
    /// back (never forward: content is listed once its instant has passed), as it does when the
    /// id is already taken.
    pub fn publish(
        &self,
        account: &'static str,
        kind: PublishedKind,
        caption: String,
        title: Option<String>,
        id_at: impl Fn(i64) -> Option<String>,
    ) -> Published {
        let mut state = self.lock();
        let mut at = self.now();
        let id = loop {
            if let Some(id) = id_at(at.timestamp()) {
                if !state.published.values().flatten().any(|p| p.id == id) {
                    break id;
                }
            }
            at -= Duration::seconds(1);
        };
        let published = Published {
            id,
            kind,
            caption,
            title,
            at,
        };
        state
            .published
            .entry(account)
            .or_default()
            .push(published.clone());
        published
    }

    /// What was published on `account` up to now, newest first.
    pub fn published(&self, account: &str) -> Vec<Published> {
        let now = self.now();
        let mut list: Vec<Published> = self
            .lock()
            .published
            .get(account)
            .map(|l| l.iter().filter(|p| p.at <= now).cloned().collect())
            .unwrap_or_default();
        list.sort_by_key(|p| std::cmp::Reverse(p.at));
        list
    }

    /// Sandbox time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Moves sandbox (and application) time forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Stops the clock (the application's too) at `at`; never earlier than now.
    pub fn freeze_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.clock.freeze_at(at)
    }

    /// How far the clock has been moved.
    pub fn clock_offset(&self) -> Duration {
        self.clock.offset()
    }

    fn random(&self, kind: &str) -> String {
        format!(
            "{}_{kind}_{}{}",
            self.config.token_marker,
            Uuid::new_v4().simple(),
            Uuid::new_v4().simple()
        )
    }

    /// Issues an authorization code for `user` (valid 10 minutes, single use).
    pub fn issue_code(
        &self,
        user: &FakeUser,
        scopes: Vec<String>,
        redirect_uri: &str,
        code_challenge: Option<String>,
    ) -> String {
        let code = self.random("code");
        let grant = Grant {
            user: user.key,
            provider: user.provider,
            scopes,
            redirect_uri: redirect_uri.to_owned(),
            code_challenge,
            expires_at: self.now() + Duration::minutes(10),
        };
        self.lock().grants.insert(code.clone(), grant);
        code
    }

    /// Consumes a code: it works once, before it expires, for the provider that issued it.
    pub fn take_code(&self, provider: Provider, code: &str) -> Option<Grant> {
        let grant = self.lock().grants.remove(code)?;
        (grant.provider == provider && grant.expires_at > self.now()).then_some(grant)
    }

    /// Issues a token of `kind` living `default_ttl` seconds (or the configured override; `None`
    /// means no expiry).
    pub fn issue_token(
        &self,
        user: &'static str,
        provider: Provider,
        kind: TokenUse,
        scopes: &[String],
        default_ttl: Option<i64>,
    ) -> (String, Option<i64>) {
        let override_ttl = match kind {
            TokenUse::Access => self.config.access_token_ttl_seconds,
            TokenUse::Refresh => self.config.refresh_token_ttl_seconds,
        };
        let ttl = override_ttl
            .map(|t| i64::try_from(t).unwrap_or(i64::MAX / 4))
            .or(default_ttl);
        let now = self.now();
        let token = self.random(match kind {
            TokenUse::Access => "at",
            TokenUse::Refresh => "rt",
        });
        let mut state = self.lock();
        let epoch = state.switches.get(user).map(|s| s.epoch).unwrap_or(0);
        state.tokens.insert(
            token.clone(),
            Token {
                user,
                provider,
                kind,
                issued_at: now,
                expires_at: ttl.map(|t| now + Duration::seconds(t)),
                scopes: scopes.to_vec(),
                epoch,
                spent: false,
            },
        );
        (token, ttl)
    }

    /// The live token `token` of `provider` and `kind`, or why it does not work.
    pub fn check(&self, provider: Provider, kind: TokenUse, token: &str) -> Result<Token, Dead> {
        let state = self.lock();
        let t = state.tokens.get(token).ok_or(Dead::Unknown)?;
        if t.provider != provider || t.kind != kind || t.spent {
            return Err(Dead::Unknown);
        }
        let switches = state.switches.get(t.user).copied().unwrap_or_default();
        if t.epoch < switches.epoch {
            return Err(switches.last_kill.unwrap_or(Dead::Revoked));
        }
        if t.expires_at.is_some_and(|e| e <= self.now()) {
            return Err(Dead::Expired);
        }
        Ok(t.clone())
    }

    /// Marks a (refresh) token used: TikTok refresh tokens rotate and die when reused.
    pub fn spend(&self, token: &str) {
        if let Some(t) = self.lock().tokens.get_mut(token) {
            t.spent = true;
        }
    }

    /// Kills every token of `user` issued so far, for `why`.
    pub fn kill_user(&self, user: &'static str, why: Dead) {
        let mut state = self.lock();
        let s = state.switches.entry(user).or_default();
        s.epoch += 1;
        s.last_kill = Some(why);
    }

    /// Records a call and decides whether to fail or slow it.
    pub fn begin_call(
        &self,
        provider: Provider,
        endpoint: &str,
        path: &str,
    ) -> (Option<Fault>, Option<StdDuration>) {
        let mut state = self.lock();
        let fault = state
            .faults
            .iter_mut()
            .find(|f| {
                f.provider == provider
                    && f.count > 0
                    && f.path_contains.as_deref().is_none_or(|p| path.contains(p))
            })
            .map(|f| {
                f.count -= 1;
                f.clone()
            });
        state.faults.retain(|f| f.count > 0);
        let delay = state
            .slow
            .iter_mut()
            .find(|s| s.provider == provider && s.count > 0)
            .map(|s| {
                s.count -= 1;
                StdDuration::from_millis(s.delay_ms)
            });
        state.slow.retain(|s| s.count > 0);
        let _ = endpoint;
        (fault, delay)
    }

    /// Holds the matching calls from now on.
    pub fn set_hold(&self, hold: Hold) {
        self.lock().hold = Some(hold);
    }

    /// Lifts the hold; the calls waiting on it go unanswered by the platform.
    pub fn release(&self) {
        self.lock().hold = None;
    }

    /// How many calls wait on the hold now.
    pub fn held(&self) -> usize {
        self.lock().held
    }

    /// Whether a call to `path` of `provider` is held; counts it as waiting if so.
    pub fn hold_call(&self, provider: Provider, path: &str) -> bool {
        let mut state = self.lock();
        let held = state.hold.as_ref().is_some_and(|h| {
            h.provider == provider && h.path_contains.as_deref().is_none_or(|p| path.contains(p))
        });
        if held {
            state.held += 1;
        }
        held
    }

    /// Whether the hold is still on; when it is not, the caller stops waiting.
    pub fn still_held(&self) -> bool {
        let mut state = self.lock();
        if state.hold.is_some() {
            return true;
        }
        state.held = state.held.saturating_sub(1);
        false
    }

    /// Appends to the call log.
    pub fn log_call(&self, provider: Provider, endpoint: &str, user: Option<&str>, status: u16) {
        let at = self.now();
        let mut state = self.lock();
        let seq = state.calls.len() as u64 + 1;
        state.calls.push(CallRecord {
            seq,
            provider,
            endpoint: endpoint.to_owned(),
            user: user.map(str::to_owned),
            at,
            status,
        });
    }

    /// The call log, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.lock().calls.clone()
    }

    /// Queues a fault.
    pub fn add_fault(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// Queues slow answers.
    pub fn add_slow(&self, slow: Slow) {
        self.lock().slow.push(slow);
    }

    /// Looks a fake user up by key, as a `'static` key.
    pub fn user(&self, key: &str) -> Option<FakeUser> {
        users::find(key)
    }
}
