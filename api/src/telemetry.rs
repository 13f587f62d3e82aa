//! Structured logs with `tracing`: pretty for a terminal, JSON for log shippers.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber writing to stderr. A second call is a no-op (tests start many
/// apps in one process).
pub fn init(log: &LogConfig) {
    use std::io::IsTerminal;
    init_with_writer(log, std::io::stderr, std::io::stderr().is_terminal());
}

/// Installs the global subscriber writing to `writer`; tests pass a buffer to search the logs.
pub fn init_with_writer<W>(log: &LogConfig, writer: W, ansi: bool)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // The level was validated with the rest of the configuration.
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    let _ = match log.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
