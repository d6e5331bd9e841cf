//! What the image, command-line and system tests share about trees: the awkward fixture
//! tree, building an image of a tree with our writer, running the independent oracles
//! (xorriso, isoinfo, bsdtar, 7z), and a tree comparison that prints readable differences.
//!
//! Unlike the harness modules, these helpers are assertions: they fail the calling test
//! (panic) with what went wrong instead of returning an error, since no test could go on.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

pub use burnstation_images::digest::hex;
use burnstation_images::digest::{for_each_chunk, sha256_of};
use burnstation_images::iso9660::{ImageDigest, ImageOptions, ImageStream, Layout, scan_tree};
use sha2::{Digest, Sha256};

/// 1960-01-01T00:00:00Z and 2100-03-01T00:00:00Z.
pub const MTIME_1960: i64 = -315_619_200;
pub const MTIME_2100: i64 = 4_107_542_400;
/// The default mtime of fixture entries (2021-06-15T12:34:56Z).
pub const MTIME_DEFAULT: i64 = 1_623_760_496;

/// A 255-byte name, and another that shares its first 250 bytes.
pub fn long_name_a() -> Vec<u8> {
    let mut name = vec![b'L'; 251];
    name.extend_from_slice(b".txt");
    name
}
pub fn long_name_b() -> Vec<u8> {
    let mut name = vec![b'L'; 250];
    name.extend_from_slice(b"2.txt");
    name
}

/// A symlink target of 1023 bytes, the longest libisofs (xorriso) accepts: five SL entries
/// in a continuation area.
pub fn very_long_target() -> Vec<u8> {
    let parts: Vec<String> = (0..400).map(|i| format!("d{i:03}x")).collect();
    let mut target = format!("/{}", parts.join("/")).into_bytes();
    target.truncate(1023);
    target
}

/// A symlink target longer than 255 bytes.
pub fn long_target() -> Vec<u8> {
    let parts: Vec<String> = (0..30).map(|i| format!("component{i:02}")).collect();
    format!("../{}", parts.join("/")).into_bytes()
}

fn set_mtime(path: &Path, seconds: i64) {
    let time = if seconds >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    };
    let file = fs::File::open(path).expect("open fixture entry to set its mtime");
    file.set_times(fs::FileTimes::new().set_modified(time).set_accessed(time))
        .expect("set fixture mtime");
}

fn set_link_mtime(path: &Path, seconds: i64) {
    // `touch -h` sets a symlink's own time without following it.
    let stamp = format!("@{seconds}");
    let status = Command::new("touch")
        .args(["-h", "-d", &stamp])
        .arg(path)
        .status()
        .expect("touch runs");
    assert!(status.success(), "touch -h failed on {}", path.display());
}

fn write(root: &Path, rel: &[u8], contents: &[u8], mode: u32, mtime: i64) {
    let path = root.join(OsStr::from_bytes(rel));
    fs::write(&path, contents).expect("write fixture file");
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod fixture");
    set_mtime(&path, mtime);
}

fn mkdir(root: &Path, rel: &[u8]) {
    fs::create_dir_all(root.join(OsStr::from_bytes(rel))).expect("mkdir fixture");
}

fn link(root: &Path, rel: &[u8], target: &[u8]) {
    let path = root.join(OsStr::from_bytes(rel));
    symlink(OsStr::from_bytes(target), &path).expect("symlink fixture");
    set_link_mtime(&path, MTIME_DEFAULT);
}

/// Builds the awkward tree the issue lists under `root` (which must exist and be empty):
/// UTF-8 and non-UTF-8 names, 255-byte names, names differing only in case, 12 levels of
/// directories, empty files and directories, symlinks (relative, absolute, dangling, long
/// target), hard links, unusual modes and owners, mtimes before 1970 and after 2038, names
/// with newline and backslash, and a directory large enough to span several blocks.
pub fn build_awkward_tree(root: &Path) {
    write(
        root,
        b"plain.txt",
        b"plain contents\n",
        0o644,
        MTIME_DEFAULT,
    );
    write(
        root,
        "Grüße aus Köln – ünïcödé.txt".as_bytes(),
        b"utf8\n",
        0o644,
        MTIME_DEFAULT,
    );
    write(
        root,
        "日本語のファイル名.txt".as_bytes(),
        b"cjk\n",
        0o644,
        MTIME_DEFAULT,
    );
    write(
        root,
        "emoji-😀.txt".as_bytes(),
        b"emoji\n",
        0o644,
        MTIME_DEFAULT,
    );
    write(root, b"caf\xe9-latin1", b"latin1\n", 0o644, MTIME_DEFAULT);
    write(root, &long_name_a(), b"long a\n", 0o644, MTIME_DEFAULT);
    write(root, &long_name_b(), b"long b\n", 0o644, MTIME_DEFAULT);
    for (name, body) in [
        ("Readme", "mixed"),
        ("README", "upper"),
        ("readme", "lower"),
    ] {
        write(root, name.as_bytes(), body.as_bytes(), 0o644, MTIME_DEFAULT);
    }
    write(root, b"new\nline", b"newline name\n", 0o644, MTIME_DEFAULT);
    write(
        root,
        b"back\\slash",
        b"backslash name\n",
        0o644,
        MTIME_DEFAULT,
    );
    write(root, b"weird;name", b"semicolon\n", 0o644, MTIME_DEFAULT);
    write(root, b"with space.txt", b"space\n", 0o644, MTIME_DEFAULT);
    write(root, b"empty.bin", b"", 0o644, MTIME_DEFAULT);
    mkdir(root, b"emptydir");
    mkdir(root, b"dir.with.dots");
    write(
        root,
        b"dir.with.dots/archive.tar.gz",
        b"not really gzip",
        0o640,
        MTIME_DEFAULT,
    );
    // Twelve levels of directories.
    let mut deep = Vec::new();
    for level in 1..=12 {
        if !deep.is_empty() {
            deep.push(b'/');
        }
        deep.extend_from_slice(format!("d{level:02}").as_bytes());
        mkdir(root, &deep);
    }
    let mut deep_file = deep.clone();
    deep_file.extend_from_slice(b"/deepest.txt");
    write(
        root,
        &deep_file,
        b"twelve levels down\n",
        0o644,
        MTIME_DEFAULT,
    );
    // Symlinks.
    link(root, b"rel-link", b"plain.txt");
    link(root, b"abs-link", b"/etc/hostname");
    link(root, b"dangling", b"does/not/exist");
    link(root, b"long-link", &long_target());
    link(root, b"very-long-link", &very_long_target());
    link(root, b"dir-link", b"../d01/./d02");
    // Hard links (one non-empty group across directories, one empty group).
    mkdir(root, b"links");
    write(
        root,
        b"hard-a",
        b"shared by three names\n",
        0o644,
        MTIME_DEFAULT,
    );
    fs::hard_link(root.join("hard-a"), root.join("links/hard-b")).expect("hard link");
    fs::hard_link(root.join("hard-a"), root.join("links/hard-c")).expect("hard link");
    write(root, b"links/empty-x", b"", 0o600, MTIME_DEFAULT);
    fs::hard_link(root.join("links/empty-x"), root.join("links/empty-y")).expect("hard link");
    // Unusual modes and owners.
    write(root, b"setuid", b"#!/bin/sh\n", 0o4755, MTIME_DEFAULT);
    write(root, b"setgid", b"#!/bin/sh\n", 0o2750, MTIME_DEFAULT);
    write(
        root,
        b"mode0000",
        b"nobody may read\n",
        0o000,
        MTIME_DEFAULT,
    );
    write(root, b"mode0777", b"everybody may\n", 0o777, MTIME_DEFAULT);
    write(root, b"owned", b"by 1234:5678\n", 0o644, MTIME_DEFAULT);
    std::os::unix::fs::lchown(root.join("owned"), Some(1234), Some(5678)).expect("chown");
    mkdir(root, b"sticky");
    write(
        root,
        b"sticky/inside",
        b"in a sticky dir\n",
        0o644,
        MTIME_DEFAULT,
    );
    // Times before 1970 and after 2038.
    write(root, b"old-1960.txt", b"sixties\n", 0o644, MTIME_1960);
    write(
        root,
        b"future-2100.txt",
        b"next century\n",
        0o644,
        MTIME_2100,
    );
    // A directory spanning several blocks, with names of every length.
    mkdir(root, b"many");
    for i in 0..200 {
        let name = format!("file-{i:03}-{}", "x".repeat(i % 40));
        write(
            root,
            format!("many/{name}").as_bytes(),
            name.as_bytes(),
            0o644,
            MTIME_DEFAULT,
        );
    }
    // Directory modes and times last (writing inside changes a directory's mtime).
    fs::set_permissions(root.join("sticky"), fs::Permissions::from_mode(0o1777)).expect("chmod");
    fs::set_permissions(root.join("emptydir"), fs::Permissions::from_mode(0o700)).expect("chmod");
    for dir in walk(root).into_iter().rev() {
        if dir.1 == Kind::Dir {
            let mtime = if dir.0 == b"emptydir" {
                MTIME_1960
            } else {
                MTIME_DEFAULT
            };
            set_mtime(&root.join(OsStr::from_bytes(&dir.0)), mtime);
        }
    }
    set_mtime(root, MTIME_DEFAULT);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

/// Every entry under `root` (not the root itself): relative path and kind, sorted.
pub fn walk(root: &Path) -> Vec<(Vec<u8>, Kind)> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for item in fs::read_dir(root.join(&rel)).expect("read_dir") {
            let item = item.expect("dir entry");
            let child = rel.join(item.file_name());
            let kind = match item.file_type().expect("file type") {
                t if t.is_symlink() => Kind::Symlink,
                t if t.is_dir() => Kind::Dir,
                t if t.is_file() => Kind::File,
                _ => Kind::Other,
            };
            if kind == Kind::Dir {
                stack.push(child.clone());
            }
            out.push((child.into_os_string().into_encoded_bytes(), kind));
        }
    }
    out.sort();
    out
}

/// What a reader is expected to preserve.
#[derive(Debug, Clone, Copy)]
pub struct Fidelity {
    pub modes: bool,
    pub owners: bool,
    pub file_mtimes: bool,
    pub dir_mtimes: bool,
    pub symlinks: bool,
    /// Whether the reader restores a symlink's own mtime (xorriso sets it to "now").
    pub symlink_mtimes: bool,
    pub hard_links: bool,
    /// Whether empty files that are hard links come back linked (libarchive never links
    /// zero-length files).
    pub empty_hard_links: bool,
}

impl Fidelity {
    /// What xorriso (`-hardlinks on -osirrox on -extract`) restores: everything but a
    /// symlink's own mtime, which it sets to "now".
    pub const XORRISO: Fidelity = Fidelity {
        modes: true,
        owners: true,
        file_mtimes: true,
        dir_mtimes: true,
        symlinks: true,
        symlink_mtimes: false,
        hard_links: true,
        empty_hard_links: true,
    };

    /// What bsdtar (libarchive, `-xpf`) restores: symlink times too, but it never links
    /// zero-length files.
    pub const BSDTAR: Fidelity = Fidelity {
        symlink_mtimes: true,
        empty_hard_links: false,
        ..Fidelity::XORRISO
    };
}

/// One entry's observable state.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observed {
    kind: Kind,
    sha256: Option<String>,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    target: Option<Vec<u8>>,
    inode: u64,
}

fn observe(root: &Path, rel: &[u8], kind: Kind) -> Observed {
    let path = root.join(OsStr::from_bytes(rel));
    let meta = fs::symlink_metadata(&path).expect("stat");
    Observed {
        kind,
        sha256: (kind == Kind::File).then(|| hex(&sha256_file(&path))),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        mtime: meta.mtime(),
        target: (kind == Kind::Symlink).then(|| {
            fs::read_link(&path)
                .expect("readlink")
                .into_os_string()
                .into_encoded_bytes()
        }),
        inode: meta.ino(),
    }
}

pub fn show(path: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(path))
}

/// Maps a source path to the path a reader shows it under (`None`: not shown at all).
pub type Rename<'a> = &'a dyn Fn(&[u8], Kind) -> Option<Vec<u8>>;

/// Compares `actual` with `expected` entry by entry. `rename` maps an expected path to the
/// path the reader is expected to give it (`None`: the reader cannot show that entry).
/// Panics with every difference, one per line.
pub fn compare_trees(
    expected: &Path,
    actual: &Path,
    fidelity: Fidelity,
    rename: Rename<'_>,
    ignore_actual: &[&[u8]],
) {
    let mut diffs = Vec::new();
    let expected_entries = walk(expected);
    let mut actual_entries: BTreeMap<Vec<u8>, Kind> = walk(actual).into_iter().collect();
    for name in ignore_actual {
        actual_entries.remove(*name);
    }
    // Hard-link groups: expected inode -> actual inodes seen.
    let mut groups: HashMap<u64, Vec<(Vec<u8>, u64)>> = HashMap::new();
    for (rel, kind) in &expected_entries {
        let Some(mapped) = rename(rel, *kind) else {
            continue;
        };
        let Some(actual_kind) = actual_entries.remove(&mapped) else {
            diffs.push(format!(
                "missing: {} (expected as {})",
                show(rel),
                show(&mapped)
            ));
            continue;
        };
        let want = observe(expected, rel, *kind);
        let got = observe(actual, &mapped, actual_kind);
        let mut problems = Vec::new();
        if want.kind != got.kind {
            problems.push(format!("kind {:?} != {:?}", got.kind, want.kind));
        }
        if want.sha256 != got.sha256 {
            problems.push("contents differ".to_string());
        }
        let check_mode = fidelity.modes && *kind != Kind::Symlink;
        if check_mode && want.mode != got.mode {
            problems.push(format!("mode {:o} != {:o}", got.mode, want.mode));
        }
        if fidelity.owners && (want.uid, want.gid) != (got.uid, got.gid) {
            problems.push(format!(
                "owner {}:{} != {}:{}",
                got.uid, got.gid, want.uid, want.gid
            ));
        }
        let check_time = match kind {
            Kind::Dir => fidelity.dir_mtimes,
            Kind::Symlink => fidelity.symlink_mtimes,
            _ => fidelity.file_mtimes,
        };
        if check_time && want.mtime != got.mtime {
            problems.push(format!("mtime {} != {}", got.mtime, want.mtime));
        }
        if want.target != got.target {
            problems.push(format!(
                "symlink target {:?} != {:?}",
                got.target.as_deref().map(String::from_utf8_lossy),
                want.target.as_deref().map(String::from_utf8_lossy)
            ));
        }
        if *kind == Kind::File {
            groups
                .entry(want.inode)
                .or_default()
                .push((mapped.clone(), got.inode));
        }
        if !problems.is_empty() {
            diffs.push(format!("{}: {}", show(rel), problems.join("; ")));
        }
    }
    if fidelity.hard_links {
        for members in groups.values().filter(|m| m.len() > 1) {
            let empty = observe(actual, &members[0].0, Kind::File).sha256
                == Some(hex(Sha256::digest(b"").as_slice()));
            if empty && !fidelity.empty_hard_links {
                continue;
            }
            if members.iter().any(|m| m.1 != members[0].1) {
                let names: Vec<String> = members.iter().map(|m| show(&m.0)).collect();
                diffs.push(format!("not hard-linked together: {}", names.join(", ")));
            }
        }
    }
    for extra in actual_entries.keys() {
        diffs.push(format!("unexpected: {}", show(extra)));
    }
    assert!(
        diffs.is_empty(),
        "{} differences between {} and {}:\n  {}",
        diffs.len(),
        expected.display(),
        actual.display(),
        diffs.join("\n  ")
    );
}

/// The SHA-256 of a file's contents.
pub fn sha256_file(path: &Path) -> [u8; 32] {
    let mut file = fs::File::open(path).expect("open for hashing");
    sha256_reader(&mut file)
}

/// The SHA-256 of everything `reader` holds.
pub fn sha256_reader(reader: &mut impl Read) -> [u8; 32] {
    sha256_of(reader).expect("read for hashing")
}

/// Fails the test, saying what to install, when `tool` is not on PATH.
pub fn require(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed; this test needs it as an independent oracle: \
         apt-get install {package} (or run `cargo xtask test`, which installs it)"
    );
}

/// Runs a command, failing the test with its output if it fails.
pub fn run(cmd: &mut Command) -> Output {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The options the tests use: a fixed volume time so images are repeatable.
pub fn options() -> ImageOptions {
    ImageOptions {
        volume_id: "Test Backup".to_string(),
        volume_time: 1_700_000_000,
        ..ImageOptions::default()
    }
}

/// Plans and streams the image of `tree` into `out` (all-zero blocks become holes, so
/// images with large sparse files stay cheap), returning the stream's digest.
pub fn build_image(tree: &Path, out: &Path, options: &ImageOptions) -> ImageDigest {
    let entries = scan_tree(tree).expect("scan the fixture tree");
    let layout = Layout::plan(entries, options).expect("plan the image");
    write_stream(ImageStream::new(layout, tree.to_path_buf()), out)
}

/// Writes a whole image stream into `out` (all-zero blocks become holes), returning its
/// digest.
pub fn write_stream(mut stream: ImageStream, out: &Path) -> ImageDigest {
    let total = stream.layout().total_bytes();
    let mut file = fs::File::create(out).expect("create image file");
    let written = for_each_chunk(&mut stream, |chunk| {
        if chunk.iter().all(|&b| b == 0) {
            file.seek(SeekFrom::Current(chunk.len() as i64)).map(drop)
        } else {
            file.write_all(chunk)
        }
    })
    .expect("stream the image");
    file.set_len(written).expect("set image length");
    assert_eq!(written, total, "the stream's length is the planned size");
    stream.finish().expect("finish the stream")
}
