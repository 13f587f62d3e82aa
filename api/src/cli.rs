//! The `creatorlink` command line. `main` parses, loads configuration, starts tracing and calls
//! [`run`]; everything else lives here so tests can drive it.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use migration::{Migrator, MigratorTrait};

use domain::access::{Role, Scope};
use domain::api_keys::NewKey;
use domain::{Actor, OrgId};

use crate::app::{open_database, Application, StartError};
use crate::auth::jwt::TokenRequest;
use crate::config::{Config, ConfigError};

/// creatorlink: link creators' Instagram/Facebook, TikTok and YouTube accounts through official
/// OAuth, keep the links healthy, and serve their data over GraphQL.
#[derive(Debug, Parser)]
#[command(name = "creatorlink", version, about)]
pub struct Cli {
    /// A TOML configuration file (settings in the environment override it).
    #[arg(long, global = true, env = "CREATORLINK_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Try it: create or reuse a demo organization with seeded data on the configured database
    /// (the embedded one by default), print a GraphiQL URL, an admin token, an API key and a
    /// Connect invite link, and serve with GraphiQL's Authorization header filled in.
    /// Development mode only.
    Demo {
        /// How many creator profiles to seed on first use.
        #[arg(long, default_value_t = 50)]
        profiles: usize,
    },
    /// Run the HTTP server (GraphQL, health, metrics). Migrates the database first.
    Serve {
        /// Do not run pending migrations on start.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply, roll back or list the database migrations.
    Migrate {
        #[arg(value_enum, default_value_t = MigrateAction::Up)]
        action: MigrateAction,
        /// With `down`: how many migrations to roll back (default: all of them).
        #[arg(long)]
        steps: Option<u32>,
    },
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
    /// Manage organizations (tenants).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage API keys for brand clients.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Issue development user tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Fill the database with realistic demo data: profiles and groups, accounts on every
    /// platform in every link status, 90 days of metrics, media, stories and audiences.
    Seed {
        /// How many creator profiles to create.
        #[arg(long, default_value_t = 50)]
        profiles: usize,
        /// The organization to fill (its id); by default one called "Demo organization",
        /// created on first use.
        #[arg(long)]
        org: Option<uuid::Uuid>,
        /// Makes the generated data repeatable.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Connect invites: links creators open to connect their accounts.
    Invite {
        #[command(subcommand)]
        action: InviteAction,
    },
    /// Measure: run a benchmark scenario and print its figures as a table (see docs/benchmarks.md).
    Bench {
        #[command(subcommand)]
        scenario: crate::bench::Scenario,
    },
    /// The token vault's keys.
    Vault {
        #[command(subcommand)]
        action: VaultAction,
    },
    /// Run job workers and schedules only (no HTTP); run any number of them against one Redis.
    Worker,
    /// Inspect and re-enqueue jobs that gave up.
    Jobs {
        #[command(subcommand)]
        action: JobsAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization; prints its id (the `org` claim of its users' tokens).
    Create {
        /// The organization's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key; prints the key once (only its hash is stored).
    Create {
        /// The organization's id.
        #[arg(long)]
        org: uuid::Uuid,
        /// Comma- or space-separated scopes: profiles:read, metrics:read, accounts:write,
        /// events:subscribe, webhooks:manage.
        #[arg(long)]
        scopes: String,
        /// A name to recognise the key by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until the key expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a JWT signed with the configured HS256 secret (development only).
    Issue {
        /// The organization's id.
        #[arg(long)]
        org: uuid::Uuid,
        /// admin, manager or creator.
        #[arg(long)]
        role: String,
        /// For creators: a profile (global id or UUID) they may act on; repeat for several.
        #[arg(long = "profile")]
        profiles: Vec<String>,
        /// The user id (`sub`).
        #[arg(long, default_value = "dev-user")]
        user: String,
        /// Lifetime in hours.
        #[arg(long, default_value_t = 12)]
        hours: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum InviteAction {
    /// Create an invite to a profile's Connect page and print its link (shown only once).
    Create {
        /// The organization: its id or its exact name.
        #[arg(long)]
        org: String,
        /// The creator profile: its GraphQL id or its UUID.
        #[arg(long)]
        profile: String,
        /// How long the link works, in seconds (300 to 2592000; default 7 days).
        #[arg(long)]
        expires_in: Option<i64>,
    },
    /// Revoke an invite: its Connect page and every sign-in begun from it stop working at once.
    Revoke {
        /// The organization: its id or its exact name.
        #[arg(long)]
        org: String,
        /// The invite: its GraphQL id or its UUID.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum VaultAction {
    /// Re-seal every stored token and secret under the active (first) key of `vault.keys`.
    /// Resumable: run it again after an interruption; values already under the active key are skipped.
    Rotate {
        /// Rows read per batch.
        #[arg(long, default_value_t = 500)]
        batch_size: u64,
    },
    /// Print a new random key (base64) to put in front of `vault.keys` as `id:key`.
    Keygen,
}

#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// List dead jobs (gave up after a permanent error or their last retry), newest first.
    List {
        /// How many to show.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Re-enqueue one dead job by id, or every dead job with `--failed`.
    Retry {
        /// The dead job's id (from `jobs list` or the `deadJobs` query).
        #[arg(required_unless_present = "failed", conflicts_with = "failed")]
        id: Option<uuid::Uuid>,
        /// Re-enqueue every dead job not yet retried.
        #[arg(long)]
        failed: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back migrations.
    Down,
    /// List applied and pending migrations.
    Status,
}

/// The organization `seed` fills when no `--org` is given.
pub(crate) const DEMO_ORGANIZATION: &str = "Demo organization";

/// A failure of a command; `main` prints it as one line and exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Start(#[from] StartError),
    #[error("{0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("cannot seed: {0}")]
    Seed(String),
    #[error("{0}")]
    Domain(#[from] domain::DomainError),
    #[error("{0}")]
    Usage(String),
    #[error("bench: {0:#}")]
    Bench(anyhow::Error),
    #[error("{0}")]
    Retry(#[from] jobs::dead::RetryError),
    #[error("cannot set up metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

impl CliError {
    /// 2 for configuration mistakes (fix the settings), 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Config(_) | CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Loads the configuration named by the command line.
pub fn load_config(cli: &Cli) -> Result<Config, ConfigError> {
    Config::load(cli.config.as_deref())
}

/// Runs one command to completion.
pub async fn run(cli: Cli, config: Config) -> Result<(), CliError> {
    match cli.command {
        Command::Demo { profiles } => crate::demo::run(config, profiles).await?,
        Command::Serve { no_migrate } => {
            let mut config = config;
            if no_migrate {
                config.database.migrate_on_start = false;
            }
            let app = Application::build(config).await?;
            app.run_until_stopped().await?;
        }
        Command::Migrate { action, steps } => {
            let db = open_database(&config).await?;
            match action {
                MigrateAction::Up => {
                    Migrator::up(&db, None).await?;
                    println!("migrations applied");
                }
                MigrateAction::Down => {
                    Migrator::down(&db, steps).await?;
                    println!("migrations rolled back");
                }
                MigrateAction::Status => {
                    for m in Migrator::get_applied_migrations(&db).await? {
                        println!("applied  {}", m.name());
                    }
                    for m in Migrator::get_pending_migrations(&db).await? {
                        println!("pending  {}", m.name());
                    }
                }
            }
        }
        Command::Bench { scenario } => {
            crate::bench::run(scenario).await.map_err(CliError::Bench)?
        }
        Command::Schema => print!("{}", crate::graphql::sdl()),
        Command::Org(OrgCommand::Create { name }) => {
            let db = migrated_database(&config).await?;
            if name.trim().is_empty() {
                return Err(CliError::Usage("an organization needs a name".into()));
            }
            let org = domain::organizations::create(&db, &name).await?;
            println!("{}", org.id);
        }
        Command::Key(KeyCommand::Create {
            org,
            scopes,
            name,
            expires_in_days,
        }) => {
            let scopes = Scope::parse_list(&scopes).map_err(CliError::Usage)?;
            let db = migrated_database(&config).await?;
            let org = OrgId::new(org);
            domain::organizations::get(&db, org)
                .await
                .map_err(|_| CliError::Usage(format!("no organization {org}")))?;
            let now = chrono::Utc::now();
            let actor = Actor::system("cli");
            let created = domain::api_keys::create(
                &db,
                org,
                NewKey {
                    name: &name,
                    scopes,
                    expires_at: expires_in_days.map(|d| now + chrono::Duration::days(d.into())),
                    campaign_ids: None,
                    created_by: &actor,
                },
                now,
            )
            .await?;
            eprintln!(
                "API key {} created; it is shown once, store it now:",
                created.key.prefix
            );
            println!("{}", created.secret.expose());
        }
        Command::Token(TokenCommand::Issue {
            org,
            role,
            profiles,
            user,
            hours,
        }) => {
            let role: Role = role.parse().map_err(CliError::Usage)?;
            let profiles = profiles
                .iter()
                .map(|p| {
                    crate::graphql::ids::decode_as(crate::graphql::ids::NodeType::CreatorProfile, p)
                        .or_else(|| uuid::Uuid::parse_str(p).ok())
                        .ok_or_else(|| CliError::Usage(format!("`{p}` is not a profile id")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if role == Role::Creator && profiles.is_empty() {
                return Err(CliError::Usage(
                    "a creator token needs at least one --profile".into(),
                ));
            }
            // The server refuses a token for an organization that does not exist; so does this.
            let db = open_database(&config).await?;
            domain::organizations::get(&db, OrgId::new(org))
                .await
                .map_err(|_| CliError::Usage(format!("no organization {org}")))?;
            let token = crate::auth::jwt::issue(
                &config.auth,
                &TokenRequest {
                    user_id: user,
                    org: OrgId::new(org),
                    role,
                    profiles,
                    lifetime: chrono::Duration::hours(hours.into()),
                },
            )
            .map_err(CliError::Usage)?;
            println!("{}", token.expose());
        }
        Command::Seed {
            profiles,
            org,
            seed,
        } => {
            let db = open_database(&config).await?;
            Migrator::up(&db, None).await?;
            let org = match org {
                Some(id) => {
                    let org = OrgId::new(id);
                    domain::organizations::get(&db, org)
                        .await
                        .map_err(|_| CliError::Usage(format!("no organization {org}")))?;
                    org
                }
                None => domain::organizations::ensure_named(&db, DEMO_ORGANIZATION)
                    .await
                    .map_err(|e| CliError::Seed(e.to_string()))?,
            };
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let done = crate::seed::seed(&db, org, profiles, seed, progress).await?;
            println!(
                "seeded {} profiles, {} accounts, {} daily metric snapshots and {} media items in organization {}",
                done.profiles,
                done.accounts,
                done.metric_snapshots,
                done.media,
                org
            );
        }
        Command::Invite {
            action:
                InviteAction::Create {
                    org,
                    profile,
                    expires_in,
                },
        } => {
            let db = open_database(&config).await?;
            let org = domain::organizations::find(&db, &org)
                .await?
                .ok_or_else(|| CliError::Usage(format!("no organization `{org}`")))?;
            let profile_id = crate::graphql::ids::decode_as(
                crate::graphql::ids::NodeType::CreatorProfile,
                &profile,
            )
            .or_else(|| uuid::Uuid::parse_str(&profile).ok())
            .ok_or_else(|| CliError::Usage(format!("`{profile}` is not a profile id")))?;
            let (invite, token) = domain::invites::create(
                &db,
                org,
                profile_id,
                expires_in.map(chrono::Duration::seconds),
                &domain::Actor::system("cli"),
            )
            .await?;
            println!("{}/connect/{token}", config.public_url(config.http.port));
            eprintln!("expires at {}", invite.expires_at.to_rfc3339());
        }
        Command::Invite {
            action: InviteAction::Revoke { org, id },
        } => {
            let db = open_database(&config).await?;
            let org = domain::organizations::find(&db, &org)
                .await?
                .ok_or_else(|| CliError::Usage(format!("no organization `{org}`")))?;
            let invite_id =
                crate::graphql::ids::decode_as(crate::graphql::ids::NodeType::ConnectInvite, &id)
                    .or_else(|| uuid::Uuid::parse_str(&id).ok())
                    .ok_or_else(|| CliError::Usage(format!("`{id}` is not an invite id")))?;
            let invite = domain::invites::revoke(&db, org, invite_id, chrono::Utc::now())
                .await
                .map_err(|e| match e {
                    domain::DomainError::NotFound { .. } => {
                        CliError::Usage(format!("no invite `{id}` in this organization"))
                    }
                    other => other.into(),
                })?;
            println!(
                "revoked at {}",
                invite
                    .revoked_at
                    .unwrap_or_else(chrono::Utc::now)
                    .to_rfc3339()
            );
        }
        Command::Vault {
            action: VaultAction::Keygen,
        } => println!("{}", domain::vault::generate_key()),
        Command::Vault {
            action: VaultAction::Rotate { batch_size },
        } => {
            let db = open_database(&config).await?;
            let keyring = crate::app::open_keyring(&config)?;
            let report = domain::vault::rotate::rotate(&db, &keyring, batch_size).await?;
            println!(
                "vault rotation under key `{}`: {} re-sealed, {} already current, {} could not be opened, {} changed meanwhile",
                keyring.active(),
                report.resealed,
                report.current,
                report.failed,
                report.raced
            );
            if report.failed > 0 {
                return Err(CliError::Io(std::io::Error::other(format!(
                    "{} stored values could not be opened with the configured keys (see the log)",
                    report.failed
                ))));
            }
        }
        Command::Worker => {
            let db = open_database(&config).await?;
            let queue = crate::workers::open_queue(&config).await?;
            // A worker reaches the platforms like `serve` does; in sandbox mode that is the
            // sandbox of the API process at `http.public_url`.
            let keyring = std::sync::Arc::new(crate::app::open_keyring(&config)?);
            let public_url = config.public_url(config.http.port);
            let clock: domain::clock::SharedClock = std::sync::Arc::new(domain::clock::SystemClock);
            let clients = crate::app::build_clients(&config, &public_url, clock.clone())?;
            let ctx = crate::workers::job_context(
                &config,
                db,
                queue,
                jobs::JobMetrics::unregistered(),
                crate::app::job_platforms(&clients),
                Some(keyring),
                clock,
            )
            .with_webhook_sender(
                domain::webhooks::WebhookSender::new(config.webhook_policy())
                    .map_err(|e| StartError::WebhookClient(e.to_string()))?,
            );
            crate::workers::run(ctx, crate::workers::termination()).await;
        }
        Command::Jobs { action } => {
            // Migrated like the other commands, so a fresh database lists nothing instead of
            // failing on a missing table.
            let db = migrated_database(&config).await?;
            match action {
                JobsAction::List { limit } => {
                    for job in jobs::dead::list(&db, limit).await? {
                        println!(
                            "{}  {}  {}  attempts={}  {}  {}",
                            job.id,
                            job.failed_at.to_rfc3339(),
                            job.job,
                            job.attempts,
                            job.payload,
                            job.error
                        );
                    }
                }
                JobsAction::Retry { id, failed } => {
                    let queue = crate::workers::open_queue(&config).await?;
                    let now = chrono::Utc::now();
                    if failed {
                        let n = jobs::dead::retry_all(&db, &queue, now).await?;
                        println!("{n} dead jobs re-enqueued");
                    } else if let Some(id) = id {
                        jobs::dead::retry(&db, &queue, id, now).await?;
                        println!("job {id} re-enqueued");
                    }
                }
            }
        }
    }
    Ok(())
}

/// The database, migrated, for commands that write to it.
async fn migrated_database(config: &Config) -> Result<sea_orm::DatabaseConnection, CliError> {
    let db = open_database(config).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// The whole `creatorlink` program: parse, configure, trace, run, and exit with a one-line message
/// on failure. The `creatorlink` binary is this function (so is the test suite's copy of it).
pub fn main() {
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("creatorlink: {e}");
            std::process::exit(2);
        }
    };
    crate::telemetry::init(&config.log);
    // A multi-threaded Tokio runtime under actix's System, so background work (jobs, fan-out)
    // runs on every core while actix keeps its own per-worker threads for HTTP.
    let system = actix_web::rt::System::with_tokio_rt(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start the Tokio runtime: {e}"))
    });
    let result = system.block_on(run(cli, config));
    if let Err(e) = result {
        eprintln!("creatorlink: {e}");
        std::process::exit(e.exit_code());
    }
}
