//! The built-in sandbox providers: fake Meta, TikTok and Google endpoints served by this binary
//! under `/sandbox/{meta,tiktok,google}`, speaking the JSON shapes of `platforms.md` so the real
//! clients in `domain::platforms` work against them unchanged. Used whenever a provider has no
//! configured app, so the whole connect flow works on a laptop and in tests.
//!
//! State lives in the memory of this process ([`SandboxState`]): fake users, issued codes and
//! tokens, injected faults and a call log. A control API under `/sandbox/control` lets tests revoke
//! a user, change a password, fail or slow the next calls, advance the sandbox clock (which the
//! application's own clock follows) and read the call log.

// Handlers answer errors as ready-made HTTP replies.
#![allow(clippy::result_large_err)]

mod consent;
mod control;
mod google;
mod meta;
mod state;
mod tiktok;
mod users;

use actix_web::web;

pub use state::{CallRecord, Fault, Sandbox, SandboxApp};

/// The sandbox routes; mounted only when at least one provider uses the sandbox.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/sandbox")
            .configure(control::routes)
            .service(web::scope("/meta").configure(meta::routes))
            .service(web::scope("/tiktok").configure(tiktok::routes))
            .service(web::scope("/google").configure(google::routes)),
    );
}
