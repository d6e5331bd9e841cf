//! Planning at a real medium's size (DVD+R, sparse files so nothing is written), and the
//! edge cases of packing.

use std::fs;
use std::sync::Arc;

use super::{DiscSet, PlanOptions, Snapshot};

/// DVD+R's capacity, from the hal table (kept here as a number: `images` does not depend
/// on `hal`); `hal/src/mmc/capacity.rs` has the same figure.
const DVD_PLUS_R_BLOCKS: u64 = 2_295_104;

fn options(capacity_blocks: u64) -> PlanOptions {
    PlanOptions {
        capacity_blocks,
        medium: "dvd+r".to_string(),
        label_prefix: "OSK".to_string(),
        snapshot_name: "test".to_string(),
        snapshot_time: 1_795_662_000,
    }
}

fn check(set: &DiscSet) {
    let capacity = set.options().capacity_blocks;
    let discs = set.discs();
    for disc in discs {
        assert!(disc.image_blocks <= capacity, "{disc:?}");
    }
    for disc in &discs[..discs.len() - 1] {
        let fill = disc.image_blocks as f64 / capacity as f64;
        assert!(fill > 0.99, "disc {} is only {fill:.4} full", disc.number);
    }
    // Every byte of every split file is in exactly one part, in order.
    for split in set.splits() {
        let size = set.snapshot().entry(split.entry).size();
        let mut at = 0;
        for (n, p) in split.parts.clone().enumerate() {
            let part = set.parts()[p as usize];
            assert_eq!((part.offset, part.number), (at, n as u32 + 1));
            at += part.len;
        }
        assert_eq!(at, size);
    }
    let files: u64 = discs.iter().map(|d| d.files).sum();
    let splits = set.splits().len() as u64;
    assert_eq!(
        files,
        set.snapshot().files() - splits + set.parts().len() as u64
    );
}

#[test]
fn sparse_files_plan_onto_full_dvds() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (name, gib) in [("a/huge.img", 7u64), ("b/big.img", 3), ("c/medium.img", 1)] {
        let path = root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::File::create(&path).unwrap().set_len(gib << 30).unwrap();
    }
    for i in 0..3000 {
        let path = root.join(format!("small/d{:02}/f{i:05}", i % 40));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::File::create(&path)
            .unwrap()
            .set_len(i * 7919 % 300_000)
            .unwrap();
    }
    let snapshot = Arc::new(Snapshot::scan(root).unwrap());
    let set = DiscSet::plan(snapshot, options(DVD_PLUS_R_BLOCKS)).unwrap();
    assert_eq!(set.discs().len(), 3, "{:?}", set.discs());
    check(&set);
    assert_eq!(set.split_of(1), None);
}

#[test]
fn an_empty_snapshot_is_one_disc_with_an_empty_tree() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = Arc::new(Snapshot::scan(dir.path()).unwrap());
    let set = DiscSet::plan(snapshot, options(4096)).unwrap();
    assert_eq!(set.discs().len(), 1);
    assert_eq!(set.discs()[0].files, 0);
    assert_eq!(set.discs()[0].volume_id, "OSK261126_1OF1");
}

#[test]
fn a_medium_too_small_for_the_catalogue_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..2000 {
        fs::write(
            dir.path().join(format!("file-with-a-long-name-{i:05}")),
            b"x",
        )
        .unwrap();
    }
    let snapshot = Arc::new(Snapshot::scan(dir.path()).unwrap());
    let err = DiscSet::plan(snapshot, options(200)).unwrap_err();
    assert!(err.to_string().contains("too small"), "{err}");
}
