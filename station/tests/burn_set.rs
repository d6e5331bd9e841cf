//! Burning disc n of a planned set through the one burn pipeline, onto SimDrive: the disc
//! holds exactly the image `plan --write-images` would write, reads back clean, and a file
//! that changed after the hashing pass fails the disc by name.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use burnstation::pipeline::{PipelineError, PipelineOptions, burn_planned_disc};
use burnstation_hal::Cancel;
use burnstation_images::digest::for_each_chunk;
use burnstation_images::plan::{DiscSet, PlanOptions, SetHashes, Snapshot, hash_set};

/// A DVD+R of 6144 blocks (12 MiB) in SimDrive.
const CAPACITY: u64 = 6144;

fn tree(root: &Path) {
    fs::create_dir_all(root.join("db")).unwrap();
    fs::create_dir_all(root.join("www")).unwrap();
    let big: Vec<u8> = (0..(26u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    fs::write(root.join("db/dump.sql"), big).unwrap();
    for i in 0..50 {
        fs::write(
            root.join(format!("www/page{i:02}.html")),
            vec![b'a' + (i % 26) as u8; 5000 + i * 100],
        )
        .unwrap();
    }
}

fn plan(root: &Path) -> (Arc<DiscSet>, Arc<SetHashes>) {
    let snapshot = Arc::new(Snapshot::scan(root).unwrap());
    let set = Arc::new(
        DiscSet::plan(
            snapshot,
            PlanOptions {
                // The planner leaves room for writing in whole 32 KiB units.
                capacity_blocks: CAPACITY / 16 * 16,
                medium: "dvd+r".into(),
                label_prefix: "OSK".into(),
                snapshot_name: "snap".into(),
                snapshot_time: 1_795_662_000,
            },
        )
        .unwrap(),
    );
    let hashes =
        Arc::new(hash_set(&set, &mut |_| None, &mut |_| None, &mut |_| {}, &|| false).unwrap());
    (set, hashes)
}

fn image_bytes(set: &Arc<DiscSet>, disc: u32, hashes: &Arc<SetHashes>) -> Vec<u8> {
    let mut stream = set.disc_image(disc, Arc::clone(hashes)).unwrap().stream();
    let mut out = Vec::new();
    for_each_chunk(&mut stream, |chunk| {
        out.extend_from_slice(chunk);
        Ok::<(), std::io::Error>(())
    })
    .unwrap();
    out
}

fn drive(dir: &Path, name: &str) -> (burnstation::device::AnyDrive, std::path::PathBuf) {
    let medium = dir.join(name);
    let spec = format!("sim:{}?profile=dvd+r&capacity={CAPACITY}", medium.display());
    (burnstation::device::open(Some(&spec)).unwrap(), medium)
}

#[test]
fn disc_two_of_a_set_burns_its_planned_image_and_reads_back_clean() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    tree(&root);
    let (set, hashes) = plan(&root);
    assert!(set.discs().len() >= 3, "{:?}", set.discs());
    let (mut drive, medium) = drive(dir.path(), "disc2.img");
    let outcome = burn_planned_disc(
        &mut drive,
        &set,
        2,
        Arc::clone(&hashes),
        &PipelineOptions::default(),
        &mut |_| {},
        &Cancel::new(),
    )
    .unwrap();
    assert!(outcome.verify.as_ref().unwrap().passed());
    let expected = image_bytes(&set, 2, &hashes);
    assert_eq!(outcome.image_bytes, expected.len() as u64);
    assert_eq!(outcome.image_bytes, set.discs()[1].image_blocks * 2048);
    drop(drive);
    let mut burnt = vec![0u8; expected.len()];
    fs::File::open(&medium)
        .unwrap()
        .read_exact(&mut burnt)
        .unwrap();
    assert!(
        burnt == expected,
        "the disc holds the planned image, byte for byte"
    );
}

#[test]
fn a_file_changed_after_hashing_fails_its_disc_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    tree(&root);
    let (set, hashes) = plan(&root);
    // www/ is on the last disc; change a page there, keeping its size.
    let last = set.discs().len() as u32;
    let page = root.join("www/page07.html");
    let mut bytes = fs::read(&page).unwrap();
    bytes[10] ^= 1;
    // Same size and mtime: only the hash can tell. (A new mtime is the image stream's
    // check, and would be caught first whenever the write lands in another second.)
    let mtime = fs::metadata(&page).unwrap().modified().unwrap();
    fs::write(&page, bytes).unwrap();
    fs::File::options()
        .write(true)
        .open(&page)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let (mut drive, _) = drive(dir.path(), "last.img");
    let err = burn_planned_disc(
        &mut drive,
        &set,
        last,
        hashes,
        &PipelineOptions::default(),
        &mut |_| {},
        &Cancel::new(),
    )
    .unwrap_err();
    match err {
        PipelineError::ChangedSinceHashed { path } => assert_eq!(path, "backup/www/page07.html"),
        other => panic!("{other}"),
    }
}

#[test]
fn a_disc_the_set_does_not_have_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    tree(&root);
    let (set, hashes) = plan(&root);
    let (mut drive, _) = drive(dir.path(), "none.img");
    let err = burn_planned_disc(
        &mut drive,
        &set,
        99,
        hashes,
        &PipelineOptions::default(),
        &mut |_| {},
        &Cancel::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not 99"), "{err}");
}
