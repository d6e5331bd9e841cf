//! A sparse file larger than 4 GiB becomes a multi-extent file that every reader shows with
//! the right name, size, mode and contents. The image is built once (sparse on disk) and
//! each reader streams the file into a hash, so the test costs time, not disk space.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use burnstation_images::iso9660::{IsoEntryKind, IsoImage};
use burnstation_tests::awkward::*;

/// 4 GiB + 3 MiB + 123 bytes: two extents, the second not block-aligned.
const HUGE_SIZE: u64 = (4 << 30) + (3 << 20) + 123;
/// The first extent's length (the largest multiple of 2048 below 4 GiB).
const FIRST_EXTENT: u64 = 0xFFFF_F800;

struct Fixture {
    _dir: tempfile::TempDir,
    image: PathBuf,
    huge_sha256: String,
    after_sha256: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = dir.path().join("tree");
        fs::create_dir(&tree).expect("mkdir");
        let huge = tree.join("huge.bin");
        let mut file = fs::File::create(&huge).expect("create huge.bin");
        // Markers at the start, across the boundary between the two extents, and at the end.
        for (at, marker) in [
            (0, &b"START"[..]),
            (FIRST_EXTENT - 3, b"BOUNDARY"),
            (HUGE_SIZE - 3, b"END"),
        ] {
            file.seek(SeekFrom::Start(at)).expect("seek");
            file.write_all(marker).expect("marker");
        }
        file.set_len(HUGE_SIZE).expect("size");
        drop(file);
        fs::set_permissions(&huge, fs::Permissions::from_mode(0o640)).expect("chmod");
        fs::write(tree.join("after.txt"), b"the file after the huge one\n").expect("write");
        let image = dir.path().join("huge.iso");
        let digest = build_image(&tree, &image, &options());
        // An independent hash of the source (coreutils), compared with the stream's.
        let out = run(Command::new("sha256sum").arg(&huge));
        let huge_sha256 = String::from_utf8_lossy(&out.stdout)[..64].to_string();
        assert_eq!(hex(&digest.file(b"huge.bin").expect("digest")), huge_sha256);
        let after_sha256 = hex(&sha256_file(&tree.join("after.txt")));
        Fixture {
            _dir: dir,
            image,
            huge_sha256,
            after_sha256,
        }
    })
}

/// Hashes what `cmd` writes on stdout.
fn hash_stdout(cmd: &mut Command) -> String {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut stdout = child.stdout.take().expect("stdout");
    let digest = sha256_reader(&mut stdout);
    assert!(child.wait().expect("wait").success(), "{cmd:?} failed");
    hex(&digest)
}

#[test]
fn seven_zip_reads_the_huge_file_whole() {
    require("7z", "p7zip-full");
    let f = fixture();
    let listing = run(Command::new("7z").args(["l", "-slt"]).arg(&f.image));
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(
        listing.contains(&format!(
            "Path = huge.bin\nFolder = -\nSize = {HUGE_SIZE}\n"
        )),
        "{listing}"
    );
    assert_eq!(
        listing.matches("Path = huge.bin").count(),
        1,
        "one file, not pieces"
    );
    let got = hash_stdout(
        Command::new("7z")
            .args(["x", "-so"])
            .arg(&f.image)
            .arg("huge.bin"),
    );
    assert_eq!(got, f.huge_sha256);
    let after = hash_stdout(
        Command::new("7z")
            .args(["x", "-so"])
            .arg(&f.image)
            .arg("after.txt"),
    );
    assert_eq!(after, f.after_sha256);
}

#[test]
fn bsdtar_reads_the_huge_file_whole() {
    require("bsdtar", "libarchive-tools");
    let f = fixture();
    let listing = run(Command::new("bsdtar").arg("-tvf").arg(&f.image));
    let listing = String::from_utf8_lossy(&listing.stdout);
    let line = listing
        .lines()
        .find(|l| l.ends_with(" huge.bin"))
        .unwrap_or_else(|| panic!("no huge.bin in {listing}"));
    assert!(line.starts_with("-rw-r-----"), "{line}");
    assert!(line.contains(&format!(" {HUGE_SIZE} ")), "{line}");
    let got = hash_stdout(
        Command::new("bsdtar")
            .arg("-xOf")
            .arg(&f.image)
            .arg("huge.bin"),
    );
    assert_eq!(got, f.huge_sha256);
    let after = hash_stdout(
        Command::new("bsdtar")
            .arg("-xOf")
            .arg(&f.image)
            .arg("after.txt"),
    );
    assert_eq!(after, f.after_sha256);
}

#[test]
fn xorriso_reads_the_huge_file_whole() {
    require("xorriso", "xorriso");
    let f = fixture();
    let listing = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&f.image)
        .args(["-lsdl", "/huge.bin"]));
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("-rw-r-----"), "{listing}");
    assert!(listing.contains(&format!(" {HUGE_SIZE} ")), "{listing}");
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("huge.bin");
    run(Command::new("xorriso")
        .args(["-osirrox", "on:sparse=1m", "-indev"])
        .arg(&f.image)
        .args(["-extract", "/huge.bin"])
        .arg(&target));
    assert_eq!(fs::metadata(&target).expect("extracted").len(), HUGE_SIZE);
    let got = run(Command::new("sha256sum").arg(&target));
    assert_eq!(String::from_utf8_lossy(&got.stdout)[..64], f.huge_sha256);
}

#[test]
fn isoinfo_sees_two_consecutive_extent_records() {
    require("isoinfo", "genisoimage");
    let f = fixture();
    let listing = run(Command::new("isoinfo")
        .args(["-R", "-l", "-i"])
        .arg(&f.image));
    let listing = String::from_utf8_lossy(&listing.stdout);
    let sizes: Vec<&str> = listing
        .lines()
        .filter(|l| l.contains("huge.bin"))
        .map(|l| l.split_whitespace().nth(4).unwrap_or(""))
        .collect();
    let rest = (HUGE_SIZE - FIRST_EXTENT).to_string();
    assert_eq!(sizes, ["4294965248", rest.as_str()], "{listing}");
}

#[test]
fn our_reader_reads_the_huge_file_whole() {
    let f = fixture();
    let mut image = IsoImage::open(fs::File::open(&f.image).expect("open")).expect("read image");
    let entry = image.entry(b"huge.bin").expect("huge.bin listed").clone();
    assert_eq!(entry.kind, IsoEntryKind::File);
    assert_eq!(entry.size, HUGE_SIZE);
    assert_eq!(entry.mode, 0o100640);
    assert_eq!(entry.extents.len(), 2);
    assert_eq!(entry.extents[0].length, FIRST_EXTENT);
    assert_eq!(
        entry.extents[1].lba,
        entry.extents[0].lba + FIRST_EXTENT / 2048
    );
    let mut reader = image.open_file(&entry);
    assert_eq!(hex(&sha256_reader(&mut reader)), f.huge_sha256);
    let after = image.entry(b"after.txt").expect("after.txt").clone();
    let mut body = String::new();
    image
        .open_file(&after)
        .read_to_string(&mut body)
        .expect("read");
    assert_eq!(body, "the file after the huge one\n");
}
