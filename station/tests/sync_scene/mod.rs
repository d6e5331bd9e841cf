//! What the sync tests share: a backup "server" (a real sshd on loopback serving a source
//! folder), a data directory for the box, and the settings file that ties them together,
//! written as a volunteer would and read by the station's own config code.
#![allow(dead_code)] // each test file uses a different part

use std::fs;
use std::path::PathBuf;

use burnstation::config::Config;
use burnstation_tests::sshd::Sshd;

/// A server with a folder to copy, and the box's data directory.
pub struct Scene {
    pub dir: tempfile::TempDir,
    pub sshd: Sshd,
    /// The folder the server serves (the backup tree).
    pub source: PathBuf,
    /// The box's data directory.
    pub data: PathBuf,
}

/// Settings that the tests change from one run to the next.
#[derive(Debug, Clone)]
pub struct Knobs {
    pub bandwidth_limit: u32,
    pub host_key: Option<String>,
    pub min_free: &'static str,
    pub keep_snapshots: u32,
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs {
            bandwidth_limit: 0,
            host_key: None,
            min_free: "64KiB",
            keep_snapshots: 3,
        }
    }
}

impl Scene {
    pub fn new() -> Scene {
        let dir = tempfile::Builder::new()
            .prefix("burnstation-sync-")
            .tempdir()
            .unwrap();
        let sshd_dir = dir.path().join("sshd");
        fs::create_dir(&sshd_dir).unwrap();
        let sshd = Sshd::start(&sshd_dir).unwrap();
        let source = dir.path().join("source");
        let data = dir.path().join("data");
        fs::create_dir(&source).unwrap();
        fs::create_dir(&data).unwrap();
        Scene {
            dir,
            sshd,
            source,
            data,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The settings file for this scene.
    pub fn config_text(&self, knobs: &Knobs) -> String {
        let host_key = knobs
            .host_key
            .clone()
            .unwrap_or_else(|| self.sshd.host_public_key().to_string());
        format!(
            "[station]\n\
             data_dir = {data:?}\n\
             [source]\n\
             host = \"127.0.0.1\"\n\
             port = {port}\n\
             user = {user:?}\n\
             path = {source:?}\n\
             key = {key:?}\n\
             host_key = {host_key:?}\n\
             timeout = \"1m\"\n\
             bandwidth_limit = {bw}\n\
             [retention]\n\
             keep_snapshots = {keep}\n\
             min_free = {min_free:?}\n",
            data = self.data.display().to_string(),
            port = self.sshd.port(),
            user = self.sshd.user(),
            source = self.source.display().to_string(),
            key = self.sshd.client_key().display().to_string(),
            bw = knobs.bandwidth_limit,
            keep = knobs.keep_snapshots,
            min_free = knobs.min_free,
        )
    }

    /// The settings, as the station reads them.
    pub fn config(&self, knobs: &Knobs) -> Config {
        Config::parse(&self.config_text(knobs), "burnstation.toml").unwrap()
    }

    /// The settings file written to disk, for the command line.
    pub fn write_config(&self, knobs: &Knobs) -> PathBuf {
        let path = self.path("burnstation.toml");
        fs::write(&path, self.config_text(knobs)).unwrap();
        path
    }
}
