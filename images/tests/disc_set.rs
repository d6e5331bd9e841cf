//! A snapshot of 3.2 discs' worth, with files larger than a disc, planned onto a disc set
//! and imaged; then restored the way an administrator without our software would: each
//! image extracted with xorriso, `sha256sum -c SHA256SUMS` on every disc, the trees copied
//! together and every split file joined with `cat`. The result must be the snapshot, byte
//! for byte.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use burnstation_images::plan::set_file::{SetInfo, parse_catalog_line};
use burnstation_images::plan::{DiscSet, PlanOptions, SetHashes, Snapshot, hash_set};
use burnstation_tests::awkward::{build_awkward_tree, require, run, sha256_file, write_stream};
use burnstation_tests::sets::{SET_CAPACITY_BLOCKS, build_set_tree, tree_listing};

/// A small "medium" keeps the test fast: 4096 blocks, 8 MiB.
const CAPACITY: u64 = SET_CAPACITY_BLOCKS;

fn options() -> PlanOptions {
    PlanOptions {
        capacity_blocks: CAPACITY,
        medium: "test-8mib".to_string(),
        label_prefix: "OSK".to_string(),
        snapshot_name: "2026-11-26".to_string(),
        snapshot_time: 1_795_662_000,
    }
}

fn plan(tree: &Path) -> Arc<DiscSet> {
    let snapshot = Arc::new(Snapshot::scan(tree).expect("scan"));
    Arc::new(DiscSet::plan(snapshot, options()).expect("plan"))
}

fn hashes(set: &DiscSet) -> Arc<SetHashes> {
    Arc::new(hash_set(set, &mut |_| None, &mut |_| None, &mut |_| {}, &|| false).expect("hash"))
}

#[test]
fn a_set_restores_with_xorriso_sha256sum_and_cat() {
    require("xorriso", "xorriso");
    require("sha256sum", "coreutils");
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("snapshot");
    build_set_tree(&tree);
    let set = plan(&tree);
    let discs = set.discs().len();
    assert_eq!(
        discs,
        4,
        "3.2 discs' worth needs 4 discs: {:?}",
        set.discs()
    );
    let hashes = hashes(&set);

    let restore = work.path().join("restore");
    fs::create_dir(&restore).unwrap();
    let mut fills = Vec::new();
    for disc in set.discs() {
        let image_path = work.path().join(format!("disc{}.iso", disc.number));
        let image = set.disc_image(disc.number, Arc::clone(&hashes)).unwrap();
        write_stream(image.stream(), &image_path);
        let bytes = fs::metadata(&image_path).unwrap().len();
        assert_eq!(bytes, disc.image_blocks * 2048);
        assert!(
            disc.image_blocks <= CAPACITY,
            "disc {} is too large",
            disc.number
        );
        fills.push(disc.image_blocks as f64 / CAPACITY as f64);

        let out = work.path().join(format!("disc{}", disc.number));
        run(Command::new("xorriso")
            .args(["-osirrox", "on", "-indev"])
            .arg(&image_path)
            .arg("-extract")
            .args(["/", out.to_str().unwrap()]));
        run(Command::new("sha256sum")
            .args(["-c", "--quiet", "--strict", "SHA256SUMS"])
            .current_dir(&out));
        let info: SetInfo =
            serde_json::from_slice(&fs::read(out.join("SET.json")).unwrap()).unwrap();
        assert_eq!((info.disc, info.discs), (disc.number, discs as u32));
        assert_eq!(info.volume_id, disc.volume_id);
        assert_eq!(info.plan, set.plan_id());
        let readme = fs::read_to_string(out.join("README.txt")).unwrap();
        assert!(
            readme.contains(&format!("disc {} of {discs}", disc.number)),
            "{readme}"
        );
        assert!(readme.contains("sha256sum -c") && readme.contains("cat NAME.part001"));
        // The administrator's copy: every disc's tree into one place.
        run(Command::new("cp")
            .arg("-a")
            .arg(out.join("backup/."))
            .arg(&restore));
    }
    for fill in &fills[..fills.len() - 1] {
        assert!(*fill > 0.99, "fills {fills:?}");
    }

    // Join the parts, as CATALOG.txt (identical on every disc) lists them.
    let catalog = fs::read(work.path().join("disc1/CATALOG.txt")).unwrap();
    for n in 2..=discs {
        assert_eq!(
            fs::read(work.path().join(format!("disc{n}/CATALOG.txt"))).unwrap(),
            catalog
        );
    }
    let lines: Vec<_> = catalog
        .split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, l)| parse_catalog_line(l, i + 1).unwrap())
        .collect();
    let mut joined = 0;
    for (i, line) in lines.iter().enumerate() {
        let rel = String::from_utf8(line.path.strip_prefix(b"backup/").unwrap().to_vec()).unwrap();
        let source = tree.join(&rel);
        if line.disc.is_none() {
            // Its parts follow, until their sizes add up to the file's.
            let mut left = line.size;
            let parts: Vec<_> = lines[i + 1..]
                .iter()
                .take_while(|l| {
                    let take = left > 0;
                    left = left.saturating_sub(l.size);
                    take
                })
                .collect();
            assert!(parts.len() >= 2, "{rel} is split into parts");
            let target = restore.join(&rel);
            let mut cat = Command::new("cat");
            for part in &parts {
                let name = String::from_utf8(part.path.strip_prefix(b"backup/").unwrap().to_vec())
                    .unwrap();
                cat.arg(restore.join(&name));
            }
            let output = run(&mut cat);
            fs::write(&target, output.stdout).unwrap();
            for part in &parts {
                let name = String::from_utf8(part.path.strip_prefix(b"backup/").unwrap().to_vec())
                    .unwrap();
                fs::remove_file(restore.join(name)).unwrap();
            }
            assert_eq!(sha256_file(&target), line.sha256, "{rel} joined");
            joined += 1;
        } else if source.is_file() {
            assert_eq!(sha256_file(&source), line.sha256, "{rel} in CATALOG.txt");
        }
    }
    assert_eq!(joined, 2, "the dump and the log were split");
    assert_eq!(
        tree_listing(&restore),
        tree_listing(&tree),
        "the restored tree is the snapshot"
    );
}

#[test]
fn the_same_snapshot_and_capacity_give_the_same_set_and_the_same_images() {
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("snapshot");
    build_set_tree(&tree);
    let first = plan(&tree);
    let second = plan(&tree);
    assert_eq!(first.discs(), second.discs());
    assert_eq!(first.parts(), second.parts());
    assert_eq!(first.plan_id(), second.plan_id());
    let hashes = hashes(&first);
    for number in [1, first.discs().len() as u32] {
        let a = work.path().join("a.iso");
        let b = work.path().join("b.iso");
        write_stream(
            first
                .disc_image(number, Arc::clone(&hashes))
                .unwrap()
                .stream(),
            &a,
        );
        write_stream(
            second
                .disc_image(number, Arc::clone(&hashes))
                .unwrap()
                .stream(),
            &b,
        );
        assert_eq!(
            sha256_file(&a),
            sha256_file(&b),
            "disc {number} is byte-identical"
        );
    }
}

#[test]
fn each_disc_measured_one_directory_at_a_time_is_the_size_of_its_real_layout() {
    // The awkward tree (long and mangled names, deep directories, long symlink targets,
    // hard links) on discs small enough to need several; plus a 4 GiB + file's parts.
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("awkward");
    fs::create_dir(&tree).unwrap();
    build_awkward_tree(&tree);
    let big = fs::File::create(tree.join("big.img")).unwrap();
    big.set_len((4 << 30) + 12345).unwrap();
    drop(big);
    for capacity in [3000u64, 1_200_000] {
        let snapshot = Arc::new(Snapshot::scan(&tree).expect("scan"));
        let set = Arc::new(
            DiscSet::plan(
                snapshot,
                PlanOptions {
                    capacity_blocks: capacity,
                    ..options()
                },
            )
            .expect("plan"),
        );
        assert!(set.discs().len() >= 2, "{:?}", set.discs());
        // Hashes do not change sizes: zeros will do for the layout.
        let hashes = Arc::new(
            hash_set(
                &set,
                &mut |_| Some([0; 32]),
                &mut |_| Some([0; 32]),
                &mut |_| {},
                &|| false,
            )
            .unwrap(),
        );
        for disc in set.discs() {
            let image = set.disc_image(disc.number, Arc::clone(&hashes)).unwrap();
            assert_eq!(
                image.layout().total_blocks(),
                disc.image_blocks,
                "disc {}",
                disc.number
            );
            assert!(disc.image_blocks <= capacity);
        }
    }
}
