//! `creatorlink demo`: one command from a fresh build to a working GraphiQL with data. On the
//! configured database (the embedded SQLite by default) it creates or reuses the demo
//! organization, seeds it on first use, prints what a newcomer needs (GraphiQL URL, an admin
//! token, an API key, a Connect invite link) and serves, with GraphiQL's Authorization header
//! filled in.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use domain::access::{Role, Scope};
use domain::api_keys::NewKey;
use domain::entities::creator_profile;
use domain::secret::Secret;
use domain::{Actor, OrgId};

use crate::app::{open_database, Application, StartOptions};
use crate::auth::jwt::TokenRequest;
use crate::cli::{CliError, DEMO_ORGANIZATION};
use crate::config::{Config, Mode};

/// How long the printed admin token works.
const TOKEN_HOURS: i64 = 12;

/// Runs the demo: prepare, print, serve until stopped.
pub async fn run(mut config: Config, profiles: usize) -> Result<(), CliError> {
    if config.mode == Mode::Production {
        return Err(CliError::Usage(
            "demo runs in development mode only (unset mode / CREATORLINK_MODE)".into(),
        ));
    }
    // Demo tokens are signed with the configured HS256 secret, or one made up for this run
    // (tokens then stop working when the demo stops, which is what a demo wants).
    if config.auth.jwt_hs256_secret.is_none() {
        config.auth.jwt_hs256_secret = Some(Secret::new(random_secret()));
    }

    let db = open_database(&config).await?;
    Migrator::up(&db, None).await?;
    let org = domain::organizations::ensure_named(&db, DEMO_ORGANIZATION)
        .await
        .map_err(|e| CliError::Seed(e.to_string()))?;
    let existing = creator_profile::Entity::find()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .count(&db)
        .await?;
    if existing == 0 {
        eprintln!("seeding {profiles} demo creator profiles…");
        let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
        crate::seed::seed(&db, org, profiles, 42, progress).await?;
    }
    let profile_count = creator_profile::Entity::find()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .count(&db)
        .await?;

    let token = crate::auth::jwt::issue(
        &config.auth,
        &TokenRequest {
            user_id: "demo-admin".into(),
            org,
            role: Role::Admin,
            profiles: Vec::new(),
            lifetime: chrono::Duration::hours(TOKEN_HOURS),
        },
    )
    .map_err(CliError::Usage)?;
    let now = chrono::Utc::now();
    let key = domain::api_keys::create(
        &db,
        org,
        NewKey {
            name: "demo",
            scopes: Scope::ALL.to_vec(),
            expires_at: Some(now + chrono::Duration::days(1)),
            campaign_ids: None,
            created_by: &Actor::system("demo"),
        },
        now,
    )
    .await?;

    let headers = serde_json::json!({ "Authorization": format!("Bearer {}", token.expose()) });
    let app = Application::build_with(
        config.clone(),
        StartOptions {
            graphiql_headers: serde_json::to_string_pretty(&headers).ok(),
        },
    )
    .await?;
    let base = config.public_url(app.port());
    let invite = first_profile_invite(&db, org).await?;

    println!("creatorlink demo: organization \"{DEMO_ORGANIZATION}\" ({org}), {profile_count} creator profiles");
    println!();
    println!("  GraphiQL      {base}/graphql   (the Authorization header is filled in)");
    println!("  Admin token   {}", token.expose());
    println!("                (role admin, valid {TOKEN_HOURS} h: Authorization: Bearer <token>)");
    println!("  API key       {}", key.secret.expose());
    println!("                (every scope, valid 1 day: X-Api-Key: <key>)");
    if let Some(invite) = invite {
        println!("  Connect link  {base}/connect/{invite}");
        println!(
            "                (a creator's page to link accounts; the sandbox plays the platforms)"
        );
    }
    println!();
    println!("Try in GraphiQL: {{ creatorProfiles(first: 5) {{ totalCount nodes {{ name accounts {{ platform handle link {{ status }} }} }} }} }}");
    println!("Stop with ctrl-c; run `creatorlink demo` again to reuse the same data.");
    app.run_until_stopped().await?;
    Ok(())
}

/// A fresh Connect invite token for the demo organization's first profile, if it has any.
async fn first_profile_invite(
    db: &sea_orm::DatabaseConnection,
    org: OrgId,
) -> Result<Option<String>, CliError> {
    let Some(profile) = creator_profile::Entity::find()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .order_by_asc(creator_profile::Column::Name)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let (_, token) =
        domain::invites::create(db, org, profile.id, None, &Actor::system("demo")).await?;
    Ok(Some(token))
}

/// 48 random bytes, base64: a run-long HS256 signing secret.
fn random_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
