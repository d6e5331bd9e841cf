//! The catalogue against real SQLite: what it answers, and that it survives `kill -9` at
//! any point (a child process writing transactions is killed mid-write, again and again;
//! every commit it reported must be there, the file must pass SQLite's integrity check).

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use burnstation::catalog::{BurnResult, Catalog, NewBurn, Verification};
use burnstation::hashing::{HashingEvent, hash_with_catalog};
use burnstation_hal::Cancel;
use burnstation_images::plan::{DiscSet, PlanOptions, Snapshot};

/// Set by the parent for the child writer.
const CHILD_ENV: &str = "BURNSTATION_CATALOG_CHILD";

fn tree(root: &Path) {
    fs::create_dir_all(root.join("www/site")).unwrap();
    fs::create_dir_all(root.join("db")).unwrap();
    for i in 0..20 {
        fs::write(
            root.join(format!("www/site/p{i}.html")),
            vec![b'a' + i as u8; 3000],
        )
        .unwrap();
    }
    fs::write(root.join("db/dump.sql"), vec![7u8; 11 << 20]).unwrap();
}

fn plan(root: &Path) -> Arc<DiscSet> {
    let snapshot = Arc::new(Snapshot::scan(root).unwrap());
    Arc::new(
        DiscSet::plan(
            snapshot,
            PlanOptions {
                capacity_blocks: 2048,
                medium: "test".into(),
                label_prefix: "OSK".into(),
                snapshot_name: "snap".into(),
                snapshot_time: 1_795_662_000,
            },
        )
        .unwrap(),
    )
}

#[test]
fn the_catalogue_knows_where_every_file_is_and_what_is_left_to_burn() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    tree(&root);
    let set = plan(&root);
    assert!(set.discs().len() >= 3, "{:?}", set.discs());
    let mut catalog = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    let snapshot = catalog
        .add_snapshot(
            "snap",
            &root,
            1_795_662_000,
            set.snapshot().files(),
            set.snapshot().bytes(),
        )
        .unwrap();

    // The first pass reads every file; a second one (another burn) reads only the split
    // file, whose parts belong to the plan.
    let mut first = Vec::new();
    let hashes = hash_with_catalog(
        &set,
        &mut catalog,
        snapshot,
        &mut |e| first.push(e),
        &Cancel::new(),
    )
    .unwrap();
    assert_eq!(
        first[0],
        HashingEvent::Started {
            files: 21,
            to_read: 21
        }
    );
    let mut second = Vec::new();
    let again = hash_with_catalog(
        &set,
        &mut catalog,
        snapshot,
        &mut |e| second.push(e),
        &Cancel::new(),
    )
    .unwrap();
    assert_eq!(
        second[0],
        HashingEvent::Started {
            files: 21,
            to_read: 1
        }
    );
    assert_eq!(hashes, again);

    let set_id = catalog
        .record_set(snapshot, &set, &hashes, 1_795_700_000)
        .unwrap();
    // Once the set is recorded, its parts' hashes are known too: nothing is read.
    let mut third = Vec::new();
    let recorded = hash_with_catalog(
        &set,
        &mut catalog,
        snapshot,
        &mut |e| third.push(e),
        &Cancel::new(),
    )
    .unwrap();
    assert_eq!(
        third,
        [HashingEvent::Started {
            files: 21,
            to_read: 0
        }]
    );
    assert_eq!(recorded, hashes);
    let found = catalog.find(b"www/site/p3.html").unwrap();
    assert_eq!(found.len(), 1);
    // db/ comes first, so www/ is on the last disc.
    let last = set.discs().last().unwrap();
    assert_eq!(found[0].disc, last.number);
    assert_eq!(found[0].disc_path, b"backup/www/site/p3.html");
    assert_eq!(found[0].volume_id, last.volume_id);
    let dump = catalog.find(b"backup/db").unwrap();
    let parts: Vec<_> = dump.iter().filter(|l| l.part > 0).collect();
    assert!(parts.len() >= 3, "{dump:?}");
    assert_eq!(parts.iter().map(|l| l.size).sum::<u64>(), 11 << 20);
    assert!(parts.windows(2).all(|w| w[1].disc == w[0].disc + 1));
    assert!(
        catalog.find(b"www/sit").unwrap().is_empty(),
        "a name prefix is not a path"
    );

    assert_eq!(catalog.incomplete_sets().unwrap().len(), 1);
    for disc in set.discs() {
        let burn = catalog
            .start_burn(&NewBurn {
                set: set_id,
                disc: disc.number,
                drive: "sim",
                medium: "DVD+R",
                speed_kbps: Some(22_160),
                started_at: 1_795_700_100 + disc.number as i64,
            })
            .unwrap();
        if disc.number == 2 {
            // Power cut while disc 2 was being written.
            assert_eq!(catalog.mark_interrupted_burns(1_795_700_200).unwrap(), 1);
            continue;
        }
        catalog
            .finish_burn(burn, BurnResult::Done, 1_795_700_150, None, Some([1; 32]))
            .unwrap();
        catalog
            .record_verification(
                set_id,
                disc.number,
                Some(burn),
                1_795_700_160,
                &Verification {
                    passed: true,
                    failed: false,
                    blocks: disc.image_blocks,
                    unreadable_blocks: 0,
                    damaged_files: 0,
                    summary: "every block read back and matched".into(),
                },
            )
            .unwrap();
    }
    let left = catalog.incomplete_sets().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].verified as usize, set.discs().len() - 1);
    let history = catalog.set_history(set_id).unwrap();
    assert_eq!(history.discs[1].burns[0].result, "interrupted");
    assert_eq!(history.discs[0].verifications[0].result, "passed");
    drop(catalog);
    let reopened = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    assert_eq!(
        reopened.sets().unwrap(),
        catalog_sets_again(&dir.path().join("catalog.db"))
    );
    assert_eq!(reopened.integrity_check().unwrap(), "ok");
}

fn catalog_sets_again(path: &Path) -> Vec<burnstation::catalog::SetSummary> {
    Catalog::open(path).unwrap().sets().unwrap()
}

/// The child: records snapshots with many hashes each, in transactions, forever; prints
/// each committed snapshot's id after its commit returned.
#[test]
fn child_writer() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut catalog = Catalog::open(Path::new(&path)).unwrap();
    for round in 0u64.. {
        let id = catalog
            .add_snapshot(
                &format!("s{round}"),
                Path::new("/snap"),
                round as i64,
                1000,
                1000,
            )
            .unwrap();
        let paths: Vec<Vec<u8>> = (0..1000)
            .map(|i| format!("dir/file-{i:04}").into_bytes())
            .collect();
        catalog
            .store_hashes(
                id,
                paths
                    .iter()
                    .map(|p| (&p[..], 1u64, round as i64, [round as u8; 32])),
            )
            .unwrap();
        println!("{round} {}", id.0);
    }
}

#[test]
fn the_catalogue_survives_kill_9_at_any_point() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let mut committed: Vec<(u64, i64)> = Vec::new();
    // Kill after different numbers of commits, so the kill lands at different points of a
    // transaction (the hashes' inserts, the commit, the WAL's checkpoint).
    for (attempt, after) in [1usize, 2, 3, 5, 8, 13, 21].into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_writer",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        while seen < after {
            let Some(Ok(line)) = lines.next() else { break };
            let mut fields = line.split(' ');
            let (Some(round), Some(id)) = (fields.next(), fields.next()) else {
                continue;
            };
            let (Ok(round), Ok(id)) = (round.parse(), id.parse()) else {
                continue;
            };
            committed.push((round, id));
            seen += 1;
        }
        // A few microseconds more, so the kill often lands inside the next transaction.
        std::thread::sleep(std::time::Duration::from_micros(200 * attempt as u64));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(
            seen == after,
            "the child wrote only {seen} of {after} commits"
        );

        let catalog = Catalog::open(&path).unwrap();
        assert_eq!(
            catalog.integrity_check().unwrap(),
            "ok",
            "after kill {attempt}"
        );
        // Every commit the child reported is there, whole.
        for &(round, _) in &committed {
            let p = format!("dir/file-{:04}", 999);
            let sha = catalog
                .known_hash(
                    burnstation::catalog::SnapshotId(
                        committed.iter().find(|c| c.0 == round).unwrap().1,
                    ),
                    p.as_bytes(),
                    1,
                    round as i64,
                )
                .unwrap();
            assert_eq!(
                sha,
                Some([round as u8; 32]),
                "round {round} after kill {attempt}"
            );
        }
    }
}
