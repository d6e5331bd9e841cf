//! Our reader against images made by other writers (xorriso, genisoimage) and by ours: every
//! entry of the source tree must come back with its name, kind, size, mode, owner, mtime,
//! symlink target and contents; and `extract_all` must restore the tree.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use burnstation_images::iso9660::{IsoEntry, IsoEntryKind, IsoImage, TreeKind};
use burnstation_tests::awkward::*;

/// Compares every entry our reader lists in `image` with the tree it was made from.
fn check_reader_against_tree(image_path: &Path, tree: &Path, hidden: &[&[u8]]) {
    let file = fs::File::open(image_path).expect("open image");
    let mut image = IsoImage::open(std::io::BufReader::new(file)).expect("read image");
    assert_eq!(image.tree(), TreeKind::RockRidge);
    let mut listed: BTreeMap<Vec<u8>, IsoEntry> = image
        .entries()
        .iter()
        .map(|e| (e.path.clone(), e.clone()))
        .collect();
    for name in hidden {
        listed.remove(*name);
    }
    let mut diffs = Vec::new();
    // Source inode -> (path, PX serial) of each name.
    type Names = Vec<(Vec<u8>, Option<u32>)>;
    let mut links: BTreeMap<u64, Names> = BTreeMap::new();
    for (rel, kind) in walk(tree) {
        let Some(entry) = listed.remove(&rel) else {
            diffs.push(format!("missing: {}", show(&rel)));
            continue;
        };
        let path = tree.join(OsStr::from_bytes(&rel));
        let meta = fs::symlink_metadata(&path).expect("stat");
        let mut problems = Vec::new();
        let want_kind = match kind {
            Kind::Dir => IsoEntryKind::Directory,
            Kind::Symlink => IsoEntryKind::Symlink {
                target: fs::read_link(&path)
                    .expect("readlink")
                    .into_os_string()
                    .into_encoded_bytes(),
            },
            _ => IsoEntryKind::File,
        };
        if entry.kind != want_kind {
            problems.push(format!("kind {:?} != {want_kind:?}", entry.kind));
        }
        if entry.mode != meta.mode() {
            problems.push(format!("mode {:o} != {:o}", entry.mode, meta.mode()));
        }
        if (entry.uid, entry.gid) != (meta.uid(), meta.gid()) {
            problems.push(format!("owner {}:{}", entry.uid, entry.gid));
        }
        if entry.mtime != meta.mtime() {
            problems.push(format!("mtime {} != {}", entry.mtime, meta.mtime()));
        }
        if kind == Kind::File {
            if entry.size != meta.len() {
                problems.push(format!("size {} != {}", entry.size, meta.len()));
            }
            let got = sha256_reader(&mut image.open_file(&entry));
            if got != sha256_file(&path) {
                problems.push("contents differ".into());
            }
            links
                .entry(meta.ino())
                .or_default()
                .push((rel.clone(), entry.serial));
        }
        if !problems.is_empty() {
            diffs.push(format!("{}: {}", show(&rel), problems.join("; ")));
        }
    }
    for group in links.values().filter(|g| g.len() > 1) {
        if group[0].1.is_some() && group.iter().any(|m| m.1 != group[0].1) {
            diffs.push(format!("hard links with different serials: {group:?}"));
        }
    }
    for extra in listed.keys() {
        diffs.push(format!("unexpected: {}", show(extra)));
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n  {}",
        diffs.len(),
        diffs.join("\n  ")
    );
}

#[test]
fn reads_our_image_and_extracts_it_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).expect("mkdir");
    build_awkward_tree(&tree);
    let image_path = dir.path().join("ours.iso");
    build_image(&tree, &image_path, &options());
    check_reader_against_tree(&image_path, &tree, &[b"SHA256SUMS"]);

    let out = dir.path().join("extracted");
    let mut image = IsoImage::open(fs::File::open(&image_path).expect("open")).expect("read");
    image.extract_all(&out).expect("extract");
    fs::remove_file(out.join("SHA256SUMS")).expect("the manifest was extracted");
    let fidelity = Fidelity {
        modes: true,
        owners: false,
        file_mtimes: true,
        dir_mtimes: true,
        symlinks: true,
        symlink_mtimes: true,
        hard_links: true,
        empty_hard_links: true,
    };
    compare_trees(&tree, &out, fidelity, &|p, _| Some(p.to_vec()), &[]);
}

#[test]
fn reads_xorriso_images() {
    require("xorriso", "xorriso");
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).expect("mkdir");
    build_awkward_tree(&tree);
    let image = dir.path().join("xorriso.iso");
    run(Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-R",
            "-J",
            "-joliet-long",
            "-iso-level",
            "3",
            "-o",
        ])
        .arg(&image)
        .arg(&tree));
    check_reader_against_tree(&image, &tree, &[]);
}

#[test]
fn reads_genisoimage_images_with_relocated_deep_directories() {
    require("genisoimage", "genisoimage");
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).expect("mkdir");
    build_awkward_tree(&tree);
    // What genisoimage cannot take: it aborts on a name that is not UTF-8 and on two long
    // names that cut to the same Joliet name, and loops forever on a symlink target longer
    // than 255 bytes.
    fs::remove_file(tree.join(OsStr::from_bytes(b"caf\xe9-latin1"))).expect("rm");
    fs::remove_file(tree.join(OsStr::from_bytes(&long_name_b()))).expect("rm");
    fs::remove_file(tree.join("long-link")).expect("rm");
    fs::remove_file(tree.join("very-long-link")).expect("rm");
    let image = dir.path().join("genisoimage.iso");
    run(Command::new("genisoimage")
        .args([
            "-quiet",
            "-R",
            "-J",
            "-joliet-long",
            "-input-charset",
            "utf-8",
            "-o",
        ])
        .arg(&image)
        .arg(&tree));
    let listing = run(Command::new("isoinfo").args(["-l", "-i"]).arg(&image));
    assert!(
        String::from_utf8_lossy(&listing.stdout).contains("RR_MOVED"),
        "genisoimage relocated the deep directory"
    );
    check_reader_against_tree(&image, &tree, &[]);
}

#[test]
fn without_rock_ridge_the_reader_falls_back_to_joliet_then_to_iso_names() {
    require("genisoimage", "genisoimage");
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("Sub Dir")).expect("mkdir");
    fs::write(
        tree.join("Sub Dir/Grüße.txt"),
        b"joliet keeps case and accents\n",
    )
    .expect("w");
    fs::write(tree.join("notes.md"), b"plain\n").expect("w");
    let joliet = dir.path().join("joliet.iso");
    run(Command::new("genisoimage")
        .args(["-quiet", "-J", "-input-charset", "utf-8", "-o"])
        .arg(&joliet)
        .arg(&tree));
    let mut image = IsoImage::open(fs::File::open(&joliet).expect("open")).expect("read");
    assert_eq!(image.tree(), TreeKind::Joliet);
    let paths: Vec<String> = image
        .entries()
        .iter()
        .map(|e| String::from_utf8_lossy(&e.path).into_owned())
        .collect();
    assert_eq!(paths, ["Sub Dir", "notes.md", "Sub Dir/Grüße.txt"]);
    let entry = image
        .entry("Sub Dir/Grüße.txt".as_bytes())
        .expect("listed")
        .clone();
    assert_eq!(
        sha256_reader(&mut image.open_file(&entry)),
        sha256_file(&tree.join("Sub Dir/Grüße.txt"))
    );

    let plain = dir.path().join("plain.iso");
    run(Command::new("genisoimage")
        .args(["-quiet", "-input-charset", "utf-8", "-o"])
        .arg(&plain)
        .arg(&tree));
    let image = IsoImage::open(fs::File::open(&plain).expect("open")).expect("read");
    assert_eq!(image.tree(), TreeKind::Iso9660);
    assert!(image.entry(b"NOTES.MD").is_some(), "{:?}", image.entries());
    assert_eq!(image.entry(b"NOTES.MD").map(|e| e.mode), Some(0o100444));
}

#[test]
fn damaged_images_give_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("a/b")).expect("mkdir");
    fs::write(tree.join("a/b/file.txt"), b"contents").expect("w");
    std::os::unix::fs::symlink("a/b/file.txt", tree.join("link")).expect("symlink");
    fs::write(tree.join(OsStr::from_bytes(&long_name_a())), b"long").expect("w");
    let path = dir.path().join("ok.iso");
    build_image(&tree, &path, &options());
    let good = fs::read(&path).expect("read");
    // A truncated image and one that is not ISO 9660 at all.
    let truncated = IsoImage::open(std::io::Cursor::new(good[..20 * 2048].to_vec()));
    assert!(truncated.is_err());
    let err = IsoImage::open(std::io::Cursor::new(vec![0u8; 40 * 2048])).expect_err("zeros");
    assert!(err.to_string().contains("not an ISO 9660 image"), "{err}");
    // Every byte of the metadata, one at a time, set to two bad values: never a panic.
    let image = IsoImage::open(std::io::Cursor::new(good.clone())).expect("good image");
    let first_data = image
        .entries()
        .iter()
        .filter_map(|e| e.extents.first().map(|x| x.lba))
        .min()
        .expect("a file");
    let mut opened = 0;
    for at in (16 * 2048..(first_data as usize) * 2048).step_by(3) {
        for value in [0x00, 0xFF] {
            let mut bad = good.clone();
            bad[at] = value;
            if let Ok(mut image) = IsoImage::open(std::io::Cursor::new(bad)) {
                opened += 1;
                for entry in image.entries().to_vec() {
                    let mut sink = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut image.open_file(&entry), &mut sink);
                }
            }
        }
    }
    assert!(opened > 0);
}
