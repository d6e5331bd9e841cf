//! The sync against a real OpenSSH server on loopback, with the real rsync on both ends: a
//! snapshot is exactly the source (contents, modes, owners, times, links), unchanged files
//! cost no space, and every fault (rsync killed, the connection dropped, a host key that does
//! not match, the source gone, a full disk) leaves the last good snapshot as it was, says why,
//! and the next sync recovers.

mod sync_scene;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use burnstation::events::{Event, EventBus, Stage, TryRecv};
use burnstation::schedule::SystemClock;
use burnstation::snapshots::{Snapshot, SnapshotStore};
use burnstation::sync::{SyncError, SyncOutcome, SyncSettings, sync};
use burnstation_tests::awkward::{Fidelity, build_awkward_tree, compare_trees, walk};
use burnstation_tests::fixtures::{generate_tree, tree_digests, write_bulk_file};
use burnstation_tests::procfs::{named_mentioning as processes, parent_of};
use burnstation_tests::sshd::generate_key;
use burnstation_tests::tools::is_root;
use sync_scene::{Knobs, Scene};
use tokio_util::sync::CancellationToken;

/// A throttled transfer: slow enough to be interrupted at leisure, never so slow that a
/// test that lets it finish waits long.
const SLOW_KIB_PER_SEC: u32 = 512;
const BIG_FILE: u64 = 4 << 20;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One sync with `knobs`, and every event it published.
fn sync_once(scene: &Scene, knobs: &Knobs) -> (Result<SyncOutcome, SyncError>, Vec<Event>) {
    let settings = SyncSettings::from_config(&scene.config(knobs)).unwrap();
    let store = SnapshotStore::open(&scene.data).unwrap();
    let events = EventBus::new();
    let mut reader = events.subscribe();
    let result = runtime().block_on(sync(
        &settings,
        &store,
        &SystemClock,
        &events,
        &CancellationToken::new(),
    ));
    let mut seen = Vec::new();
    while let TryRecv::Event(event) = reader.try_recv() {
        seen.push(event);
    }
    (result, seen)
}

fn good_sync(scene: &Scene) -> Snapshot {
    let (result, _) = sync_once(scene, &Knobs::default());
    result
        .unwrap_or_else(|e| panic!("sync failed: {e}"))
        .snapshot
}

fn snapshots(scene: &Scene) -> Vec<String> {
    SnapshotStore::open(&scene.data)
        .unwrap()
        .list()
        .unwrap()
        .iter()
        .map(|s| s.name().to_string())
        .collect()
}

/// The snapshot's files and their hashes, and the inode of each, to tell "untouched".
fn fingerprint(snapshot: &Snapshot) -> (BTreeMap<String, String>, BTreeMap<String, u64>) {
    let digests = tree_digests(&snapshot.tree()).unwrap();
    let inodes = digests
        .keys()
        .map(|name| {
            let meta = fs::metadata(snapshot.tree().join(name)).unwrap();
            (name.clone(), meta.ino())
        })
        .collect();
    (digests, inodes)
}

fn same_tree(source: &Path, snapshot: &Snapshot) {
    let exact = Fidelity {
        modes: true,
        // rsync keeps owners only when it runs as root; the box runs as a user and does not.
        owners: is_root(),
        file_mtimes: true,
        dir_mtimes: true,
        symlinks: true,
        symlink_mtimes: true,
        hard_links: true,
        empty_hard_links: true,
    };
    compare_trees(
        source,
        &snapshot.tree(),
        exact,
        &|path, _| Some(path.to_vec()),
        &[],
    );
}

#[test]
fn a_full_sync_makes_a_snapshot_equal_to_the_source() {
    let scene = Scene::new();
    build_awkward_tree(&scene.source);
    let (result, events) = sync_once(&scene, &Knobs::default());
    let outcome = result.unwrap_or_else(|e| panic!("sync failed: {e}"));
    same_tree(&scene.source, &outcome.snapshot);
    assert!(outcome.linked_to.is_none());
    assert_eq!(snapshots(&scene), [outcome.snapshot.name()]);
    // Read-only above the tree, and nothing left in staging.
    let mode = fs::metadata(outcome.snapshot.path()).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o555);
    assert!(
        !SnapshotStore::open(&scene.data)
            .unwrap()
            .staging_dir()
            .exists()
    );
    // Progress came as events, ending with everything done.
    let last = events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Progress(p) => Some(p.clone()),
            _ => None,
        })
        .expect("progress events");
    assert_eq!(last.stage, Stage::Sync);
    assert_eq!(last.total_bytes, Some(last.done_bytes));
    assert_eq!(last.fraction(), Some(1.0));
    // A first sync copies every file; rsync counts the entries with the top folder itself.
    let stats = outcome.stats;
    assert_eq!(last.done_bytes, stats.transferred_bytes);
    assert_eq!(
        stats.files,
        walk(&scene.source).len() as u64 + 1,
        "{stats:?}"
    );
    assert!(stats.transferred_bytes > 0 && stats.tree_bytes >= stats.transferred_bytes);
}

#[test]
fn a_second_sync_links_unchanged_files_and_copies_the_changed_one() {
    let scene = Scene::new();
    generate_tree(&scene.source, 7, &[40_000, 70_000, 123_456, 5]).unwrap();
    let first = good_sync(&scene);
    let (first_digests, first_inodes) = fingerprint(&first);

    let changed = "data/file-0.bin";
    fs::write(scene.source.join(changed), b"a new version of the file").unwrap();
    fs::remove_file(scene.source.join("empty")).unwrap();
    let (result, _) = sync_once(&scene, &Knobs::default());
    let outcome = result.unwrap_or_else(|e| panic!("second sync failed: {e}"));
    let second = outcome.snapshot;
    assert_eq!(
        outcome.linked_to.as_ref().map(Snapshot::name),
        Some(first.name())
    );
    assert_eq!(outcome.stats.files_transferred, 1, "{:?}", outcome.stats);
    assert_eq!(outcome.stats.transferred_bytes, 25, "{:?}", outcome.stats);
    same_tree(&scene.source, &second);

    let (_, second_inodes) = fingerprint(&second);
    for (name, inode) in &second_inodes {
        if name == changed {
            assert_ne!(
                *inode, first_inodes[name],
                "{name} was changed, so it is a new file"
            );
        } else {
            assert_eq!(
                *inode, first_inodes[name],
                "{name} is unchanged, so it is a hard link"
            );
        }
    }
    assert!(
        !second_inodes.contains_key("empty"),
        "deleted on the source"
    );
    // The first snapshot still holds what the source held then.
    assert_eq!(fingerprint(&first).0, first_digests);
    assert_eq!(snapshots(&scene), [first.name(), second.name()]);
}

/// A sync of `BIG_FILE` more bytes, throttled, that `fault` interrupts once the big file is
/// under way (it is handed the sync's cancel token); returns the error.
fn interrupted_sync(scene: &Scene, fault: impl FnOnce(&CancellationToken)) -> SyncError {
    write_bulk_file(&scene.source.join("big.bin"), 3, BIG_FILE).unwrap();
    let knobs = Knobs {
        bandwidth_limit: SLOW_KIB_PER_SEC,
        ..Knobs::default()
    };
    let settings = SyncSettings::from_config(&scene.config(&knobs)).unwrap();
    let store = SnapshotStore::open(&scene.data).unwrap();
    let events = EventBus::new();
    let mut reader = events.subscribe();
    let cancel = CancellationToken::new();
    runtime()
        .block_on(async {
            let syncing = sync(&settings, &store, &SystemClock, &events, &cancel);
            let interrupting = async {
                // Some of the big file has arrived: the transfer is really under way.
                while let Some(event) = reader.recv().await {
                    if let Event::Progress(p) = event
                        && p.done_bytes > 256 << 10
                    {
                        break;
                    }
                }
                fault(&cancel);
                std::future::pending::<()>().await
            };
            tokio::select! {
                result = syncing => result.map(|o| o.snapshot.name().to_string()),
                () = interrupting => unreachable!(),
            }
        })
        .expect_err("the interrupted sync must fail")
}

/// After a fault: the first snapshot is untouched, no other exists, and a normal sync
/// recovers with a snapshot equal to the source.
fn recovers(
    scene: &Scene,
    first: &Snapshot,
    before: &(BTreeMap<String, String>, BTreeMap<String, u64>),
) {
    assert_eq!(
        &fingerprint(first),
        before,
        "the last good snapshot changed"
    );
    assert_eq!(snapshots(scene), [first.name()]);
    let again = good_sync(scene);
    same_tree(&scene.source, &again);
    assert_eq!(snapshots(scene), [first.name(), again.name()]);
    let partial = SnapshotStore::open(&scene.data).unwrap().partial_dir();
    assert_eq!(
        fs::read_dir(partial).unwrap().count(),
        0,
        "partial files cleaned up"
    );
}

#[test]
fn rsync_killed_mid_transfer_leaves_the_last_snapshot_and_the_next_sync_recovers() {
    let scene = Scene::new();
    generate_tree(&scene.source, 11, &[10_000, 20_000]).unwrap();
    let first = good_sync(&scene);
    let before = fingerprint(&first);
    let error = interrupted_sync(&scene, |_| {
        // The rsync this process started (it forks its own receiver).
        let ours: Vec<u32> = processes("rsync", &scene.data)
            .into_iter()
            .filter(|pid| parent_of(*pid) == Some(std::process::id()))
            .collect();
        assert_eq!(ours.len(), 1, "exactly one rsync started here: {ours:?}");
        Command::new("kill")
            .args(["-KILL", &ours[0].to_string()])
            .status()
            .unwrap();
    });
    assert!(matches!(error, SyncError::Killed { signal: 9 }), "{error}");
    assert!(error.to_string().contains("rsync was killed"), "{error}");
    recovers(&scene, &first, &before);
}

#[test]
fn a_connection_dropped_mid_transfer_leaves_the_last_snapshot_and_the_next_sync_recovers() {
    let scene = Scene::new();
    generate_tree(&scene.source, 12, &[10_000, 20_000]).unwrap();
    let first = good_sync(&scene);
    let before = fingerprint(&first);
    let error = interrupted_sync(&scene, |_| {
        assert!(scene.sshd.drop_connections() > 0, "a session to drop");
    });
    assert!(matches!(error, SyncError::ConnectionLost { .. }), "{error}");
    assert!(error.to_string().contains("broke off"), "{error}");
    recovers(&scene, &first, &before);
}

#[test]
fn a_cancelled_sync_stops_rsync_and_ssh_and_keeps_the_last_snapshot() {
    let scene = Scene::new();
    generate_tree(&scene.source, 13, &[10_000]).unwrap();
    let first = good_sync(&scene);
    let before = fingerprint(&first);
    let error = interrupted_sync(&scene, CancellationToken::cancel);
    assert!(matches!(error, SyncError::Cancelled), "{error}");
    // Killed processes may take a moment to be gone from /proc.
    let deadline = Instant::now() + Duration::from_secs(5);
    let ours = || {
        [
            processes("rsync", &scene.data),
            processes("ssh", &scene.data),
        ]
        .concat()
    };
    while !ours().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(ours(), Vec::<u32>::new(), "rsync or ssh left running");
    recovers(&scene, &first, &before);
}

#[test]
fn a_host_key_that_does_not_match_is_refused_and_names_the_key_offered() {
    let scene = Scene::new();
    generate_tree(&scene.source, 14, &[10_000]).unwrap();
    let first = good_sync(&scene);
    let before = fingerprint(&first);
    let impostor = generate_key(&scene.path("impostor")).unwrap();
    let knobs = Knobs {
        host_key: Some(impostor),
        ..Knobs::default()
    };
    fs::write(scene.source.join("new.txt"), "never copied").unwrap();
    let (result, _) = sync_once(&scene, &knobs);
    let error = result.expect_err("a server with another key must be refused");
    let real: burnstation::config::SshPublicKey =
        scene.sshd.host_public_key().to_string().try_into().unwrap();
    match &error {
        SyncError::HostKeyMismatch { offered, .. } => {
            assert_eq!(
                offered.as_deref(),
                Some(real.fingerprint().as_str()),
                "{error}"
            )
        }
        other => panic!("expected a host key mismatch, got: {other}"),
    }
    assert!(
        error.to_string().contains("never from this message"),
        "{error}"
    );
    recovers(&scene, &first, &before);
}

#[test]
fn a_source_that_disappears_is_named_and_the_next_sync_recovers() {
    let scene = Scene::new();
    generate_tree(&scene.source, 15, &[10_000]).unwrap();
    let first = good_sync(&scene);
    let before = fingerprint(&first);

    // The whole folder gone (moved on the server).
    let moved = scene.path("moved");
    fs::rename(&scene.source, &moved).unwrap();
    let (result, _) = sync_once(&scene, &Knobs::default());
    let error = result.expect_err("a missing folder must fail");
    assert!(matches!(error, SyncError::SourceMissing { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains(&scene.source.display().to_string()),
        "{error}"
    );
    assert!(error.to_string().contains("check source.path"), "{error}");
    assert_eq!(fingerprint(&first), before);
    fs::rename(&moved, &scene.source).unwrap();

    // A file that vanishes while the copy runs (the server writing its backups).
    fs::write(scene.source.join("zz-last.txt"), "deleted during the copy").unwrap();
    let vanish = scene.source.join("zz-last.txt");
    let error = interrupted_sync(&scene, |_| fs::remove_file(&vanish).unwrap());
    assert!(matches!(error, SyncError::SourceChanged { .. }), "{error}");
    assert!(error.to_string().contains("zz-last.txt"), "{error}");
    recovers(&scene, &first, &before);
}

/// A tmpfs mounted for one test, unmounted on drop.
struct SmallDisk {
    mountpoint: std::path::PathBuf,
}

impl SmallDisk {
    fn mount(mountpoint: &Path, size: &str) -> SmallDisk {
        assert!(
            is_root(),
            "the full-disk test mounts a small tmpfs, which needs root: run it as root \
             (cargo xtask test does)"
        );
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(mountpoint)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "mount a tmpfs at {}",
            mountpoint.display()
        );
        SmallDisk {
            mountpoint: mountpoint.to_path_buf(),
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mountpoint).status();
    }
}

#[test]
fn a_full_disk_is_a_clear_state_and_the_next_sync_recovers() {
    let scene = Scene::new();
    // The box's data partition: 4 MiB, a real filesystem with hard links and statvfs.
    let _disk = SmallDisk::mount(&scene.data, "4m");
    generate_tree(&scene.source, 16, &[50_000, 50_000]).unwrap();
    let first = good_sync(&scene);
    let before = fingerprint(&first);

    // Too little room to start at all.
    let picky = Knobs {
        min_free: "1TiB",
        ..Knobs::default()
    };
    let (result, _) = sync_once(&scene, &picky);
    let error = result.expect_err("less free space than min_free");
    assert!(matches!(error, SyncError::LowSpace { .. }), "{error}");
    assert!(error.to_string().contains("retention.min_free"), "{error}");

    // Room to start, not to finish.
    write_bulk_file(&scene.source.join("big.bin"), 5, 6 << 20).unwrap();
    let (result, _) = sync_once(&scene, &Knobs::default());
    let error = result.expect_err("a 6 MiB file cannot fit in 4 MiB");
    assert!(matches!(error, SyncError::DiskFull), "{error}");
    assert!(error.to_string().contains("filled up"), "{error}");

    fs::remove_file(scene.source.join("big.bin")).unwrap();
    recovers(&scene, &first, &before);
}

#[test]
fn retention_after_syncs_keeps_the_newest_and_the_protected() {
    let scene = Scene::new();
    let mut made = Vec::new();
    for round in 0..4u8 {
        fs::write(scene.source.join("round.txt"), [round]).unwrap();
        made.push(good_sync(&scene).name().to_string());
    }
    let store = SnapshotStore::open(&scene.data).unwrap();
    let needed = made[0].clone();
    let deleted = store.prune(2, |s| s.name() == needed).unwrap();
    assert_eq!(
        deleted
            .iter()
            .map(|s| s.name().to_string())
            .collect::<Vec<_>>(),
        [made[1].clone()]
    );
    assert_eq!(
        snapshots(&scene),
        [made[0].clone(), made[2].clone(), made[3].clone()]
    );
    // The protected one is still whole.
    let kept = store.list().unwrap().remove(0);
    assert_eq!(fs::read(kept.tree().join("round.txt")).unwrap(), [0]);
}
