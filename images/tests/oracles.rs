//! Our images, read by independent tools: xorriso, bsdtar (libarchive), 7-Zip and isoinfo
//! must give back the awkward tree exactly (as far as each one can show it), the path
//! tables must be right, and `sha256sum -c` must accept the manifest.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use burnstation_images::iso9660::{ImageDigest, Layout, scan_tree};
use burnstation_tests::awkward::*;

/// The awkward tree and its image, built once for every test of this file.
struct Fixture {
    _dir: tempfile::TempDir,
    tree: PathBuf,
    image: PathBuf,
    digest: ImageDigest,
    total_blocks: u64,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = dir.path().join("tree");
        fs::create_dir(&tree).expect("mkdir tree");
        build_awkward_tree(&tree);
        let image = dir.path().join("awkward.iso");
        let digest = build_image(&tree, &image, &options());
        let total_blocks = fs::metadata(&image).expect("image").len() / 2048;
        Fixture {
            _dir: dir,
            tree,
            image,
            digest,
            total_blocks,
        }
    })
}

fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    (dir, path)
}

/// The disc root has our manifest besides the tree.
const MANIFEST: &[u8] = b"SHA256SUMS";

#[test]
fn xorriso_extracts_the_tree_exactly_and_sha256sum_accepts_the_manifest() {
    require("xorriso", "xorriso");
    require("sha256sum", "coreutils");
    let f = fixture();
    let (_keep, out) = scratch("xorriso");
    // `-hardlinks on` makes xorriso use the PX serial numbers to restore hard links.
    run(Command::new("xorriso")
        .args(["-hardlinks", "on", "-osirrox", "on", "-indev"])
        .arg(&f.image)
        .args(["-extract", "/"])
        .arg(&out));
    compare_trees(
        &f.tree,
        &out,
        Fidelity::XORRISO,
        &|p, _| Some(p.to_vec()),
        &[MANIFEST],
    );
    // sha256sum -c, from the disc's root, checks every regular file.
    let check = run(Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&out));
    let report = String::from_utf8_lossy(&check.stdout);
    let files = walk(&f.tree)
        .into_iter()
        .filter(|(_, k)| *k == Kind::File)
        .count();
    assert_eq!(report.matches(": OK").count(), files, "{report}");
}

#[test]
fn bsdtar_extracts_the_tree_exactly_with_hard_links() {
    require("bsdtar", "libarchive-tools");
    let f = fixture();
    let (_keep, out) = scratch("bsdtar");
    fs::create_dir(&out).expect("mkdir");
    run(Command::new("bsdtar")
        .arg("-xpf")
        .arg(&f.image)
        .arg("-C")
        .arg(&out));
    compare_trees(
        &f.tree,
        &out,
        Fidelity::BSDTAR,
        &|p, _| Some(p.to_vec()),
        &[MANIFEST],
    );
}

/// What Windows (and 7-Zip, which reads Joliet) shows for a Rock Ridge name in the root.
fn windows_name(name: &[u8]) -> Vec<u8> {
    let long_a = long_name_a();
    let long_b = long_name_b();
    let mapped: String = match name {
        b"caf\xe9-latin1" => "caf_-latin1".into(),
        b"new\nline" => "new_line".into(),
        b"back\\slash" => "back_slash".into(),
        b"weird;name" => "weird_name".into(),
        b"Readme" => "Readme~1".into(),
        b"readme" => "readme~2".into(),
        // The two 255-byte names are cut to 64 characters, keeping the extension; the one
        // first in byte order keeps the plain cut.
        n if n == long_b.as_slice() => format!("{}.txt", "L".repeat(60)),
        n if n == long_a.as_slice() => format!("{}~1.txt", "L".repeat(58)),
        n => {
            let text = std::str::from_utf8(n).expect("other fixture names are UTF-8");
            text.replace('😀', "_")
        }
    };
    mapped.into_bytes()
}

#[test]
fn seven_zip_shows_the_joliet_tree_as_windows_would() {
    require("7z", "p7zip-full");
    let f = fixture();
    let (_keep, out) = scratch("7z");
    run(Command::new("7z")
        .arg("x")
        .arg(format!("-o{}", out.display()))
        .arg(&f.image));
    let rename = |path: &[u8], kind: Kind| -> Option<Vec<u8>> {
        if kind == Kind::Symlink {
            return None; // Joliet cannot hold symlinks
        }
        let (dir, name) = match path.iter().rposition(|&b| b == b'/') {
            Some(pos) => (&path[..=pos], &path[pos + 1..]),
            None => (&b""[..], path),
        };
        let mut out = dir.to_vec();
        out.extend(windows_name(name));
        Some(out)
    };
    compare_trees(
        &f.tree,
        &out,
        Fidelity {
            modes: false,
            owners: false,
            file_mtimes: true,
            dir_mtimes: false,
            symlinks: false,
            symlink_mtimes: false,
            hard_links: false,
            empty_hard_links: false,
        },
        &rename,
        &[MANIFEST],
    );
}

#[test]
fn isoinfo_and_xorriso_report_a_valid_volume() {
    require("isoinfo", "genisoimage");
    require("xorriso", "xorriso");
    let f = fixture();
    let info = run(Command::new("isoinfo").arg("-d").arg("-i").arg(&f.image));
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("CD-ROM is in ISO 9660 format"), "{info}");
    assert!(info.contains("Volume id: TEST_BACKUP"), "{info}");
    assert!(
        info.contains(&format!("Volume size is: {}", f.total_blocks)),
        "{info}"
    );
    assert!(info.contains("Logical block size is: 2048"), "{info}");
    assert!(info.contains("Joliet with UCS level 3 found"), "{info}");
    assert!(
        info.contains("Rock Ridge signatures version 1 found"),
        "{info}"
    );
    let toc = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&f.image)
        .arg("-toc"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&toc.stdout),
        String::from_utf8_lossy(&toc.stderr)
    );
    assert!(text.contains("ISO loaded   : Rock_Ridge"), "{text}");
    let session = format!(
        "ISO session  :   1 ,         0 , {:>9}s , TEST_BACKUP",
        f.total_blocks
    );
    assert!(text.contains(&session), "{text}");
    assert!(
        !text.contains("FAILURE") && !text.contains("SORRY"),
        "{text}"
    );
}

/// One path-table line of `isoinfo -p`: number, parent number, extent, name.
fn path_table(image: &Path, joliet: bool) -> Vec<(usize, usize, u64, String)> {
    let mut cmd = Command::new("isoinfo");
    if joliet {
        cmd.arg("-J");
    }
    let out = run(cmd.arg("-p").arg("-i").arg(image));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (number, rest) = line.trim_start().split_once(':')?;
            let mut parts = rest.split_whitespace();
            let parent = parts.next()?.parse().ok()?;
            let lba = u64::from_str_radix(parts.next()?, 16).ok()?;
            let name = parts.collect::<Vec<_>>().join(" ");
            Some((number.trim().parse().ok()?, parent, lba, name))
        })
        .collect()
}

#[test]
fn path_tables_are_sorted_and_point_at_their_directories() {
    require("isoinfo", "genisoimage");
    let f = fixture();
    let image = fs::read(&f.image).expect("read image");
    let directories = walk(&f.tree)
        .into_iter()
        .filter(|(_, k)| *k == Kind::Dir)
        .count()
        + 1;
    for joliet in [false, true] {
        let table = path_table(&f.image, joliet);
        assert_eq!(
            table.len(),
            directories,
            "one record per directory: {table:?}"
        );
        // Level of each record, from its parent chain.
        let mut level = vec![0usize; table.len() + 1];
        for (index, (number, parent, lba, name)) in table.iter().enumerate() {
            assert_eq!(*number, index + 1);
            assert!(*parent <= *number, "parent {parent} after child {number}");
            level[*number] = if *number == 1 { 1 } else { level[*parent] + 1 };
            // The directory at that extent starts with its `.` record pointing at itself.
            let at = (*lba as usize) * 2048;
            assert_eq!(image[at + 33], 0, "{name}: `.` record at block {lba}");
            let self_lba = u32::from_le_bytes(image[at + 2..at + 6].try_into().unwrap());
            assert_eq!(u64::from(self_lba), *lba, "{name}");
        }
        // ECMA-119 6.9.1: by level, then parent number, then identifier.
        let keys: Vec<(usize, usize, String)> = table
            .iter()
            .map(|(number, parent, _, name)| (level[*number], *parent, name.clone()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_by(|a, b| {
            (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| {
                if joliet {
                    let ua: Vec<u16> = a.2.encode_utf16().collect();
                    let ub: Vec<u16> = b.2.encode_utf16().collect();
                    ua.cmp(&ub)
                } else {
                    a.2.cmp(&b.2)
                }
            })
        });
        assert_eq!(keys, sorted, "joliet={joliet}");
        let max_level = level.iter().max().copied().unwrap_or(0);
        assert_eq!(max_level, 13, "the 12-level tree is not relocated");
    }
}

#[test]
fn the_same_tree_gives_the_same_bytes() {
    let f = fixture();
    let (_keep, second) = scratch("again.iso");
    let digest = build_image(&f.tree, &second, &options());
    assert_eq!(digest, f.digest);
    assert_eq!(sha256_file(&second), f.digest.image_sha256);
    assert_eq!(sha256_file(&f.image), f.digest.image_sha256);
    let layout = Layout::plan(scan_tree(&f.tree).expect("scan"), &options()).expect("plan");
    assert_eq!(layout.total_blocks(), f.total_blocks);
}
