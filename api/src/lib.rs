//! creatorlink's HTTP edges, GraphQL API and command line.

pub mod app;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod graphql;
pub mod http;
pub mod live;
pub mod sandbox;
pub mod seed;
pub mod sql_stats;
pub mod telemetry;
pub mod workers;

pub use app::Application;
pub use config::Config;
