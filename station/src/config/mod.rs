//! The settings file, `burnstation.toml`: what a volunteer (or an administrator) edits.
//!
//! On the image it is `/boot/burnstation.toml`, on the SD card's FAT partition, so that it can
//! be edited on any computer; elsewhere `--config PATH` names it. `station/burnstation.toml`
//! is the file the image ships: commented, with safe defaults, and the source of truth for
//! them (a test checks that it parses to exactly [`Config::default_for`]'s values).
//! `docs/volunteer-guide.md` ("Settings") explains every field.
//!
//! Every section refuses fields it does not know, every value is typed (`values`), and an
//! error names the line, the setting and the fix in one sentence ([`ConfigError`]), because a
//! volunteer reads it on a two-inch screen and fixes it on another computer.

mod error;
pub mod ssh_key;
pub mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use crate::ui::config::{ButtonsConfig, DisplayConfig};
pub use error::{ConfigError, InvalidConfig};
pub use ssh_key::SshPublicKey;
pub use values::{
    AbsolutePath, ByteSize, CronSchedule, DeviceChoice, HostName, KeepCount, MediaChoice, Period,
    Port, RemotePath, StartPolicy, StationName, UserName, WriteSpeed,
};

/// Where the image keeps the settings file.
pub const DEFAULT_PATH: &str = "/boot/burnstation.toml";

/// The whole settings file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[station]`: the box itself.
    #[serde(default)]
    pub station: StationConfig,
    /// `[source]`: the backup server the box copies from.
    pub source: SourceConfig,
    /// `[schedule]`: when to copy.
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// `[burn]`: when and onto what to burn.
    #[serde(default)]
    pub burn: BurnConfig,
    /// `[drive]`: which burner.
    #[serde(default)]
    pub drive: DriveConfig,
    /// `[retention]`: how many snapshots to keep.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// `[display]`: the screen (the display work's own settings, `ui::config`).
    #[serde(default)]
    pub display: DisplayConfig,
    /// `[buttons]`: the buttons (`ui::config`).
    #[serde(default)]
    pub buttons: ButtonsConfig,
    /// `[admin_ssh]`: inbound ssh for an administrator (set up by the image's boot scripts).
    #[serde(default)]
    pub admin_ssh: AdminSshConfig,
}

/// `[station]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StationConfig {
    /// Shown on the display.
    pub name: StationName,
    /// Snapshots, the catalogue, keys and logs live here.
    pub data_dir: AbsolutePath,
}

impl Default for StationConfig {
    fn default() -> StationConfig {
        StationConfig {
            name: StationName("burnstation".to_string()),
            data_dir: AbsolutePath(PathBuf::from("/data")),
        }
    }
}

/// `[source]`. `host` and `user` have no default: only the administrator knows them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The backup server.
    pub host: HostName,
    /// Its ssh port.
    #[serde(default = "default_port")]
    pub port: Port,
    /// The account on it.
    pub user: UserName,
    /// The folder to copy.
    #[serde(default = "default_remote_path")]
    pub path: RemotePath,
    /// The box's private key.
    #[serde(default = "default_key")]
    pub key: AbsolutePath,
    /// The server's pinned host key; `None` until the administrator sends it.
    #[serde(default, deserialize_with = "ssh_key::optional_key")]
    pub host_key: Option<SshPublicKey>,
    /// A transfer that sends nothing for this long is given up.
    #[serde(default = "default_timeout")]
    pub timeout: Period,
    /// KiB/s, 0 for no limit.
    #[serde(default)]
    pub bandwidth_limit: u32,
}

fn default_port() -> Port {
    Port(22)
}
fn default_remote_path() -> RemotePath {
    RemotePath("/".to_string())
}
fn default_key() -> AbsolutePath {
    AbsolutePath(PathBuf::from("/data/keys/id_ed25519"))
}
fn default_timeout() -> Period {
    Period(Duration::from_secs(600))
}

/// `[schedule]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// When to sync, in UTC.
    pub sync: CronSchedule,
    /// The first retry after a failed sync...
    pub retry_after: Period,
    /// ... doubling up to this.
    pub retry_max: Period,
}

impl Default for ScheduleConfig {
    fn default() -> ScheduleConfig {
        ScheduleConfig {
            sync: "0 3 * * *".parse().expect("the default cron line is valid"),
            retry_after: Period(Duration::from_secs(5 * 60)),
            retry_max: Period(Duration::from_secs(6 * 3600)),
        }
    }
}

/// `[burn]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BurnConfig {
    /// Offer a new set when the newest finished one is at least this old...
    pub interval: Period,
    /// ... or after this many new snapshots (0: only the interval counts).
    pub every_nth_snapshot: u32,
    /// Ask before burning, or burn when a blank disc is in.
    pub start: StartPolicy,
    /// Which media to ask for.
    pub media: MediaChoice,
    /// How fast to write.
    pub speed: WriteSpeed,
    /// Open the tray when a disc is done.
    pub eject: bool,
}

impl Default for BurnConfig {
    fn default() -> BurnConfig {
        BurnConfig {
            interval: Period(Duration::from_secs(7 * 86_400)),
            every_nth_snapshot: 0,
            start: StartPolicy::Ask,
            media: MediaChoice::Auto,
            speed: WriteSpeed::Max,
            eject: true,
        }
    }
}

/// `[drive]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriveConfig {
    /// Which burner.
    pub device: DeviceChoice,
}

impl Default for DriveConfig {
    fn default() -> DriveConfig {
        DriveConfig {
            device: DeviceChoice::Auto,
        }
    }
}

/// `[retention]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Good snapshots kept (those a set in progress needs are kept as well).
    pub keep_snapshots: KeepCount,
    /// A sync does not start with less free space than this.
    pub min_free: ByteSize,
}

impl Default for RetentionConfig {
    fn default() -> RetentionConfig {
        RetentionConfig {
            keep_snapshots: KeepCount(3),
            min_free: ByteSize(1 << 30),
        }
    }
}

/// `[admin_ssh]`: read by the image's boot scripts, checked here with everything else.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSshConfig {
    /// Whether an administrator may log in over ssh.
    pub enabled: bool,
    /// Their public key.
    #[serde(deserialize_with = "ssh_key::optional_key")]
    pub authorized_key: Option<SshPublicKey>,
}

impl Config {
    /// Reads and checks the settings file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Reads and checks settings from `text`; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config =
            toml::from_str(text).map_err(|e| error::from_toml(text, origin, &e))?;
        config.check().map_err(|(section, key, problem)| {
            error::at_setting(text, origin, section, key, problem)
        })?;
        Ok(config)
    }

    /// The settings the shipped file holds, for a source `host` and `user`.
    pub fn default_for(host: HostName, user: UserName) -> Config {
        Config {
            station: StationConfig::default(),
            source: SourceConfig {
                host,
                port: default_port(),
                user,
                path: default_remote_path(),
                key: default_key(),
                host_key: None,
                timeout: default_timeout(),
                bandwidth_limit: 0,
            },
            schedule: ScheduleConfig::default(),
            burn: BurnConfig::default(),
            drive: DriveConfig::default(),
            retention: RetentionConfig::default(),
            display: DisplayConfig::default(),
            buttons: ButtonsConfig::default(),
            admin_ssh: AdminSshConfig::default(),
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.station.data_dir.path()
    }

    /// The rules that tie two settings together, or bound one beyond its type. An error
    /// names the section and setting it is reported at.
    fn check(&self) -> Result<(), (&'static str, &'static str, String)> {
        let schedule = &self.schedule;
        if schedule.retry_after.duration() < Duration::from_secs(1) {
            return Err((
                "schedule",
                "retry_after",
                "a retry right away would hammer the server; write at least \"1s\" (usually \"5m\")"
                    .to_string(),
            ));
        }
        if schedule.retry_after > schedule.retry_max {
            return Err((
                "schedule",
                "retry_after",
                format!(
                    "the first retry ({}) comes after the longest wait (retry_max = {}); make \
                     retry_after shorter or retry_max longer",
                    schedule.retry_after, schedule.retry_max
                ),
            ));
        }
        if self.source.timeout.duration() < Duration::from_secs(10) {
            return Err((
                "source",
                "timeout",
                format!(
                    "{} is too short to wait for a busy server; write at least \"30s\"",
                    self.source.timeout
                ),
            ));
        }
        let ui = self
            .display
            .validate()
            .and_then(|()| self.buttons.validate(&self.display));
        if let Err(e) = ui {
            return Err((e.section, e.setting, e.message));
        }
        if self.admin_ssh.enabled && self.admin_ssh.authorized_key.is_none() {
            return Err((
                "admin_ssh",
                "enabled",
                "ssh login is on but authorized_key is empty; paste the administrator's public \
                 key into authorized_key, or set enabled = false"
                    .to_string(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
