//! Copying the backup tree from the server into a new snapshot: the real `rsync` over ssh.
//!
//! ```text
//! check: host key pinned, key present, free space >= retention.min_free, clock not behind
//!   -> lock the store -> clear links from staging -> write known_hosts from the pinned key
//!   -> rsync -a -H --delete --link-dest=<newest snapshot> --partial-dir ... -> staging/tree
//!   -> only on exit 0: promote staging to snapshots/<UTC start> (atomic, fsynced)
//! ```
//!
//! A failure of any kind leaves every snapshot as it was (see `snapshots`) and returns a
//! [`SyncError`] that says what happened and what to do; its staging is kept so the next try
//! resumes. Progress goes out on the [`EventBus`] as it comes; the sync never prints. It is
//! cancelled with a [`CancellationToken`] (rsync and ssh are stopped, staging is kept).
//! Retention is the caller's: after a sync it calls [`SnapshotStore::prune`] with the
//! snapshots the catalogue says a disc set still needs.

mod error;
pub mod progress;
mod rsync;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

pub use error::{Ended, Remote, SyncError, classify};
pub use progress::RsyncStats;
pub use rsync::{CONNECT_TIMEOUT, HOST_KEY_ALIAS};

use crate::config::{ByteSize, Config, SshPublicKey};
use crate::events::{EventBus, NoticeLevel};
use crate::schedule::Clock;
use crate::snapshots::{Snapshot, SnapshotStore};

/// Everything one sync needs, from the settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSettings {
    /// The server.
    pub host: String,
    /// Its ssh port.
    pub port: u16,
    /// The account on it.
    pub user: String,
    /// The folder to copy.
    pub path: String,
    /// The box's private key.
    pub key: PathBuf,
    /// The server's pinned host key.
    pub host_key: SshPublicKey,
    /// A transfer that sends nothing for this long is given up.
    pub timeout: Duration,
    /// KiB/s, 0 for no limit.
    pub bandwidth_limit: u32,
    /// A sync does not start with less free space than this.
    pub min_free: u64,
}

impl SyncSettings {
    /// The settings for a sync, or why there can be none yet (no host key pinned).
    pub fn from_config(config: &Config) -> Result<SyncSettings, SyncError> {
        let source = &config.source;
        let host_key = source.host_key.clone().ok_or(SyncError::NoHostKey)?;
        Ok(SyncSettings {
            host: source.host.0.clone(),
            port: source.port.0,
            user: source.user.0.clone(),
            path: source.path.0.clone(),
            key: source.key.path().to_path_buf(),
            host_key,
            timeout: source.timeout.duration(),
            bandwidth_limit: source.bandwidth_limit,
            min_free: config.retention.min_free.bytes(),
        })
    }

    fn remote(&self) -> Remote<'_> {
        Remote {
            host: &self.host,
            port: self.port,
            user: &self.user,
            path: &self.path,
            timeout: self.timeout,
        }
    }
}

/// A sync that made a snapshot.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    /// The new snapshot.
    pub snapshot: Snapshot,
    /// The snapshot whose unchanged files it links to.
    pub linked_to: Option<Snapshot>,
    /// What rsync counted: entries, bytes, and what it transferred.
    pub stats: RsyncStats,
    /// How long it took.
    pub took: Duration,
}

/// Runs one sync into `store`, naming the snapshot after `clock`'s time at the start.
pub async fn sync(
    settings: &SyncSettings,
    store: &SnapshotStore,
    clock: &dyn Clock,
    events: &EventBus,
    cancel: &CancellationToken,
) -> Result<SyncOutcome, SyncError> {
    let started = Instant::now();
    let taken_at: DateTime<Utc> = clock.now();
    if !settings.key.exists() {
        return Err(SyncError::KeyMissing {
            path: settings.key.clone(),
        });
    }
    let lock = store.lock()?;
    let mut free = store.free_space()?;
    if free < settings.min_free {
        // Partly transferred files only save time, and one left by a failed sync (of a file
        // the server may no longer have) must not keep every later sync from starting.
        store.clear_partial_files(&lock)?;
        free = store.free_space()?;
        if free >= settings.min_free {
            events.notice(
                NoticeLevel::Warning,
                "the data partition was nearly full: dropped the partly copied files of an \
                 earlier sync to make room",
            );
        }
    }
    if free < settings.min_free {
        return Err(SyncError::LowSpace {
            free,
            min_free: settings.min_free,
        });
    }
    // Found out now, not after an hour of copying.
    store.check_clock(taken_at)?;
    let previous = store.newest()?;
    let destination = store.prepare_staging(&lock)?;
    let known_hosts = store.write_known_hosts(&lock, &settings.host_key, HOST_KEY_ALIAS)?;
    let partial_dir = store.partial_dir();
    let previous_tree = previous.as_ref().map(Snapshot::tree);
    let invocation = rsync::Invocation {
        remote: settings.remote(),
        key: &settings.key,
        known_hosts: &known_hosts,
        host_key_algorithms: settings.host_key.signature_algorithms(),
        bandwidth_limit: settings.bandwidth_limit,
        partial_dir: &partial_dir,
        link_dest: previous_tree.as_deref(),
        destination: &destination,
    };
    events.notice(
        NoticeLevel::Info,
        format!(
            "sync from {}@{}:{} started{}",
            settings.user,
            settings.host,
            settings.path,
            previous
                .as_ref()
                .map(|p| format!(", unchanged files linked to {}", p.name()))
                .unwrap_or_default()
        ),
    );
    let finished = rsync::run(&invocation, events, cancel).await?;
    if finished.ended != Ended::Code(0) {
        return Err(classify(
            finished.ended,
            &finished.stderr,
            &settings.remote(),
        ));
    }
    let snapshot = store.promote(&lock, taken_at)?;
    let stats = finished.stats;
    events.notice(
        NoticeLevel::Info,
        format!(
            "snapshot {} is complete: {} entries, {}; {} files ({}) copied",
            snapshot.name(),
            stats.files,
            ByteSize(stats.tree_bytes),
            stats.files_transferred,
            ByteSize(stats.transferred_bytes)
        ),
    );
    Ok(SyncOutcome {
        snapshot,
        linked_to: previous,
        stats,
        took: started.elapsed(),
    })
}
