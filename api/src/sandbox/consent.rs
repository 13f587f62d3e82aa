//! The consent page every sandbox provider shows: pick a fake user, untick permissions to grant
//! fewer, allow or deny. Tests skip the page with `sandbox_user=<key>` (and optionally
//! `sandbox_scopes=a,b` to grant only some of the requested permissions).

use actix_web::{http::header, HttpResponse};
use domain::Provider;

use super::state::{Sandbox, SandboxApp};
use super::users;

/// Escapes text for HTML element content and attribute values.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A plain error page, as platforms show for a broken authorize request.
pub fn error_page(status: u16, message: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sandbox error</title></head>\
             <body><h1>Sandbox: request refused</h1><p>{}</p></body></html>",
            esc(message)
        ))
}

/// Handles `GET …/authorize` (each provider's path) for `provider`.
pub fn authorize(
    sandbox: &Sandbox,
    provider: Provider,
    params: &[(String, String)],
) -> HttpResponse {
    let client_param = if provider == Provider::Tiktok {
        "client_key"
    } else {
        "client_id"
    };
    let separator = if provider == Provider::Google {
        ' '
    } else {
        ','
    };
    let (client_id, _) = SandboxApp::credentials(provider);
    if param(params, client_param) != Some(client_id) {
        sandbox.log_call(provider, "authorize", None, 400);
        return error_page(400, "Unknown application (client id).");
    }
    let Some(redirect) = param(params, "redirect_uri").and_then(|r| url::Url::parse(r).ok()) else {
        sandbox.log_call(provider, "authorize", None, 400);
        return error_page(400, "redirect_uri is missing or not a URL.");
    };
    if !matches!(redirect.scheme(), "http" | "https") {
        return error_page(400, "redirect_uri must be http(s).");
    }
    let state = param(params, "state").unwrap_or_default().to_owned();
    let requested: Vec<String> = param(params, "scope")
        .unwrap_or_default()
        .split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();

    let back = |pairs: &[(&str, &str)]| {
        let mut url = redirect.clone();
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k, v);
            }
        }
        HttpResponse::Found()
            .insert_header((header::LOCATION, url.to_string()))
            .finish()
    };

    if param(params, "sandbox_decision") == Some("deny") {
        sandbox.log_call(provider, "authorize", None, 302);
        return back(&[
            ("error", "access_denied"),
            ("error_description", "The user denied the request."),
            ("state", &state),
        ]);
    }
    let Some(user_key) = param(params, "sandbox_user") else {
        return page(provider, params, &requested);
    };
    let Some(user) = users::find(user_key).filter(|u| u.provider == provider) else {
        return error_page(400, "No such sandbox user for this provider.");
    };
    let granted: Vec<String> = if param(params, "sandbox_form").is_some() {
        params
            .iter()
            .filter(|(k, _)| k == "sandbox_scope")
            .map(|(_, v)| v.clone())
            .filter(|s| requested.contains(s))
            .collect()
    } else if let Some(list) = param(params, "sandbox_scopes") {
        list.split(',')
            .map(str::trim)
            .filter(|s| requested.iter().any(|r| r == s))
            .map(str::to_owned)
            .collect()
    } else {
        requested.clone()
    };
    let challenge = param(params, "code_challenge").map(str::to_owned);
    let code = sandbox.issue_code(&user, granted, redirect.as_str(), challenge);
    sandbox.log_call(provider, "authorize", Some(user.key), 302);
    back(&[("code", &code), ("state", &state)])
}

/// The consent page: a form that submits back to the same URL with the choice added.
fn page(provider: Provider, params: &[(String, String)], requested: &[String]) -> HttpResponse {
    let name = match provider {
        Provider::Meta => "Facebook",
        Provider::Tiktok => "TikTok",
        Provider::Google => "Google",
    };
    let hidden: String = params
        .iter()
        .filter(|(k, _)| !k.starts_with("sandbox_"))
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect();
    let people: String = users::of(provider)
        .iter()
        .enumerate()
        .map(|(i, u)| {
            format!(
                "<li><label><input type=\"radio\" name=\"sandbox_user\" value=\"{}\"{}> {}</label></li>",
                esc(u.key),
                if i == 0 { " checked" } else { "" },
                esc(u.label)
            )
        })
        .collect();
    let scopes: String = requested
        .iter()
        .map(|s| {
            format!(
                "<li><label><input type=\"checkbox\" name=\"sandbox_scope\" value=\"{0}\" checked> {0}</label></li>",
                esc(s)
            )
        })
        .collect();
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{name} (sandbox) — log in and allow access</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}}\
         button{{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}}</style></head><body>\
         <h1>{name} sandbox</h1>\
         <p>This is a fake {name} login for trying creatorlink without real accounts. Pick who you are \
         and which read-only permissions to grant.</p>\
         <form method=\"get\">{hidden}<input type=\"hidden\" name=\"sandbox_form\" value=\"1\">\
         <fieldset><legend>Log in as</legend><ul>{people}</ul></fieldset>\
         <fieldset><legend>Permissions requested</legend><ul>{scopes}</ul></fieldset>\
         <p><button type=\"submit\" name=\"sandbox_decision\" value=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"sandbox_decision\" value=\"deny\">Cancel</button></p>\
         </form></body></html>"
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}
