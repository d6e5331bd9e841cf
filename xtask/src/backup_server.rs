//! The "backup server" of the demo and the daemon benchmark: `demo-server` (a private
//! OpenSSH server on loopback serving a tree), and the station's settings that point at it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result};

/// A running `demo-server`; dropping it stops the server.
pub struct BackupServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u64,
    facts: serde_json::Value,
}

/// What the station's settings say besides the server.
pub struct StationSettings<'a> {
    pub name: &'a str,
    pub data_dir: &'a Path,
    pub tree: &'a Path,
    /// rsync's `--timeout`, as the settings write it (`"1m"`).
    pub timeout: &'a str,
    /// `[burn] start`: `auto` or `ask`.
    pub start: &'a str,
    /// `[drive] device`.
    pub device: &'a str,
}

impl BackupServer {
    /// Starts `exe` (the built `demo-server`) with its keys and config in `dir`.
    pub fn start(exe: &Path, dir: &Path) -> Result<BackupServer> {
        let mut child = Command::new(exe)
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped")).read_line(&mut line)?;
        let facts: serde_json::Value = serde_json::from_str(&line).context(
            "the backup server (demo-server) did not start (is openssh-server installed? \
             `cargo xtask demo` installs it with apt when it runs as root)",
        )?;
        Ok(BackupServer {
            child,
            port: facts["port"].as_u64().unwrap_or(0),
            facts,
        })
    }

    /// The station's settings file for syncing from this server.
    pub fn settings(&self, station: &StationSettings<'_>) -> String {
        format!(
            "[station]\nname = \"{name}\"\ndata_dir = {data:?}\n\
             [source]\nhost = \"127.0.0.1\"\nport = {port}\nuser = {user}\npath = {tree:?}\n\
             key = {key}\nhost_key = {host_key}\ntimeout = \"{timeout}\"\n\
             [burn]\nstart = \"{start}\"\nmedia = [\"dvd+r\"]\n\
             [drive]\ndevice = \"{device}\"\n\
             [retention]\nmin_free = \"64MiB\"\n",
            name = station.name,
            data = station.data_dir.display().to_string(),
            port = self.port,
            user = self.facts["user"],
            tree = station.tree.display().to_string(),
            key = self.facts["client_key"],
            host_key = self.facts["host_key"],
            timeout = station.timeout,
            start = station.start,
            device = station.device,
        )
    }
}

impl Drop for BackupServer {
    fn drop(&mut self) {
        // Closing its stdin stops the server.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
