//! A `creatorlink serve` child process on a fresh data directory and a free port: what the
//! scenarios measure against, so the load generator never shares a process with the server.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

/// A running server. Killed (and its data directory removed) when dropped.
pub struct ChildServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    started: Instant,
}

impl ChildServer {
    /// Spawns this very program as `serve` with `env` on top of a clean environment for it: no
    /// `DATABASE_URL`/`REDIS_URL` unless `env` sets them (embedded mode), logs at `warn`.
    pub fn spawn(env: &[(&str, String)]) -> anyhow::Result<ChildServer> {
        Self::spawn_with(env, false)
    }

    /// [`ChildServer::spawn`] with the server's stderr (its log lines) piped to this process:
    /// take it with [`ChildServer::take_log`] and keep reading it.
    pub fn spawn_logging(env: &[(&str, String)]) -> anyhow::Result<ChildServer> {
        Self::spawn_with(env, true)
    }

    /// The server's log (stderr) when spawned with [`ChildServer::spawn_logging`].
    pub fn take_log(&mut self) -> Option<tokio::process::ChildStderr> {
        self.child.stderr.take()
    }

    fn spawn_with(env: &[(&str, String)], logging: bool) -> anyhow::Result<ChildServer> {
        let dir = tempfile::Builder::new()
            .prefix("creatorlink-bench-")
            .tempdir()
            .context("temporary data directory")?;
        let port = free_port()?;
        let exe = std::env::current_exe().context("the path of this program")?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("CREATORLINK_CONFIG")
            .env("CREATORLINK_DATA_DIR", dir.path())
            .env("CREATORLINK_HTTP_HOST", "127.0.0.1")
            .env("CREATORLINK_HTTP_PORT", port.to_string())
            .env("CREATORLINK_LOG_LEVEL", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if logging {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let started = Instant::now();
        let child = command.spawn().context("spawning `creatorlink serve`")?;
        Ok(ChildServer {
            child,
            port,
            dir,
            started,
        })
    }

    /// `http://127.0.0.1:{port}`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory (the embedded SQLite file is `creatorlink.db` in it).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The embedded database's URL.
    pub fn sqlite_url(&self) -> String {
        let path: PathBuf = self.dir.path().join("creatorlink.db");
        format!("sqlite://{}?mode=rwc", path.display())
    }

    /// Polls `/readyz` every 2 ms until it answers 200: the time since spawning.
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<Duration> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/readyz", self.base_url());
        loop {
            if let Ok(response) = http.get(&url).send().await {
                if response.status().is_success() {
                    return Ok(self.started.elapsed());
                }
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("`creatorlink serve` exited before it was ready: {status}");
            }
            if self.started.elapsed() > timeout {
                bail!("`creatorlink serve` was not ready within {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// The resident set size and its peak, in KiB, from `/proc/{pid}/status`.
    pub fn memory_kib(&self) -> anyhow::Result<Memory> {
        let pid = self.child.id().context("the server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .context("reading /proc (Linux only)")?;
        let field = |name: &str| -> anyhow::Result<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .with_context(|| format!("{name} in /proc/{pid}/status"))
        };
        Ok(Memory {
            rss_kib: field("VmRSS:")?,
            peak_kib: field("VmHWM:")?,
        })
    }

    /// Stops the server.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// Memory of a process.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_kib: u64,
}

/// A port nobody listens on right now (the kernel picks it; the server binds it right after).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
