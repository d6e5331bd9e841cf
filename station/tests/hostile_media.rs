//! Corrupted and truncated media fed to `ls`, `verify` and `verify --image`: a seeded,
//! bounded property test (a few hundred damaged copies of one small image, every run the
//! same). For each, nothing panics, overflows or hangs, and nothing passes that should
//! not:
//! - `verify --image` passes exactly when the disc holds the image's bytes;
//! - `verify` (the disc's own SHA256SUMS) passes only when every file of the source tree
//!   reads back from the damaged disc as it is, or is reported as not in the manifest;
//! - `ls` lists or refuses, and every file it lists can be read to its end.
//!
//! The checks run in process through the station's own library (the command line's code)
//! on a SimDrive holding the damaged copy; every tenth copy also goes through the built
//! binary, whose exit status must agree. The seeds and counts are fixed: a failure names
//! the copy and its damage, and reproduces.

mod common;

use std::fs;
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use burnstation::verify::{self, VerifyReport};
use burnstation_hal::{Cancel, Drive, ReadBackOptions, SimConfig, SimDrive};
use burnstation_images::iso9660::{IsoEntryKind, IsoImage};
use burnstation_tests::awkward::{build_image, options};
use common::*;

/// Damaged copies checked (each in a few milliseconds).
const COPIES: u64 = 300;

/// A small deterministic generator (SplitMix64): the same damage on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One way to damage an image, with where, for the failure message.
#[derive(Debug)]
enum Damage {
    /// Bytes of the directories, path tables or descriptors inverted.
    FlipStructures(Vec<usize>),
    /// Bytes anywhere inverted.
    FlipAnywhere(Vec<usize>),
    /// The image cut at this length.
    Truncate(usize),
    /// One block overwritten with noise.
    NoiseBlock(usize),
    /// A 32-bit both-endian field of the structures set to an extreme value.
    Field { at: usize, value: u32 },
}

impl Damage {
    fn pick(rng: &mut Rng, len: usize, structures_end: usize) -> Damage {
        let structures = 16 * 2048..structures_end;
        let in_structures =
            |rng: &mut Rng| structures.start + rng.below((structures.len()) as u64) as usize;
        match rng.below(5) {
            0 => {
                Damage::FlipStructures((0..1 + rng.below(8)).map(|_| in_structures(rng)).collect())
            }
            1 => Damage::FlipAnywhere(
                (0..1 + rng.below(8))
                    .map(|_| rng.below(len as u64) as usize)
                    .collect(),
            ),
            2 => Damage::Truncate(rng.below(len as u64) as usize),
            3 => Damage::NoiseBlock(rng.below((len / 2048) as u64) as usize),
            _ => {
                let value =
                    [0, 1, 0x7fff_ffff, 0xffff_ffff, rng.next() as u32][rng.below(5) as usize];
                Damage::Field {
                    at: in_structures(rng) & !1,
                    value,
                }
            }
        }
    }

    fn apply(&self, image: &[u8], rng: &mut Rng) -> Vec<u8> {
        let mut bytes = image.to_vec();
        match self {
            Damage::FlipStructures(at) | Damage::FlipAnywhere(at) => {
                for &i in at {
                    bytes[i] ^= 1 + rng.below(255) as u8;
                }
            }
            Damage::Truncate(len) => bytes.truncate(*len),
            Damage::NoiseBlock(block) => {
                for byte in &mut bytes[block * 2048..(block + 1) * 2048] {
                    *byte = rng.next() as u8;
                }
            }
            Damage::Field { at, value } => {
                let end = (*at + 8).min(bytes.len());
                let both: Vec<u8> = value
                    .to_le_bytes()
                    .into_iter()
                    .chain(value.to_be_bytes())
                    .collect();
                bytes[*at..end].copy_from_slice(&both[..end - at]);
            }
        }
        bytes
    }
}

/// The source tree: nested directories, empty and multi-block files, a symlink, a hard
/// link, so the damage has every kind of record to hit.
fn source_tree(root: &Path) {
    fs::create_dir_all(root.join("etc/deep/er")).unwrap();
    fs::write(root.join("etc/passwd"), b"root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::write(root.join("etc/empty"), b"").unwrap();
    fs::write(
        root.join("etc/deep/er/blob.bin"),
        (0..20_000u32).map(|i| (i * 13) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    fs::write(root.join("notes with spaces.txt"), "héllo\n".repeat(300)).unwrap();
    std::os::unix::fs::symlink("etc/passwd", root.join("link")).unwrap();
    fs::hard_link(root.join("etc/passwd"), root.join("passwd.hard")).unwrap();
}

/// Every regular file of `root`, as (path from the root, contents).
fn files_of(root: &Path, under: &Path, out: &mut Vec<(Vec<u8>, Vec<u8>)>) {
    for entry in fs::read_dir(under).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files_of(root, &entry.path(), out);
        } else if kind.is_file() {
            let path = entry.path();
            let relative = path.strip_prefix(root).unwrap();
            out.push((
                relative.as_os_str().as_encoded_bytes().to_vec(),
                fs::read(&path).unwrap(),
            ));
        }
    }
}

/// A software drive holding `disc` (a plain file: a finalized ROM disc).
fn drive_for(disc: &Path) -> Drive<SimDrive> {
    let mut config = SimConfig::new(disc, burnstation_hal::Profile::DvdRom);
    config.clock = burnstation_hal::sim::ClockMode::Virtual;
    Drive::new(SimDrive::open(config).expect("open the damaged disc"))
}

/// What `verify` and `verify --image` came to on one copy: passed, or why not.
#[derive(Debug)]
struct Outcomes {
    manifest: Result<VerifyReport, String>,
    image: Result<VerifyReport, String>,
}

fn passed(outcome: &Result<VerifyReport, String>) -> bool {
    outcome.as_ref().is_ok_and(VerifyReport::passed)
}

/// `ls` as the command runs it: open, list, and read every listed file to its end.
fn ls(disc: &Path) {
    let Ok(mut image) = IsoImage::open(fs::File::open(disc).unwrap()) else {
        return;
    };
    let entries = image.entries().to_vec();
    for entry in entries.iter().filter(|e| e.kind == IsoEntryKind::File) {
        let mut sink = Vec::new();
        // Bounded: a damaged size may claim gigabytes the image does not have.
        let _ = image.open_file(entry).take(1 << 24).read_to_end(&mut sink);
    }
}

fn check_in_process(disc: &Path, image: &Path) -> Outcomes {
    ls(disc);
    let options = ReadBackOptions::default();
    let cancel = Cancel::new();
    let manifest =
        verify::against_manifest(&mut drive_for(disc), None, &options, &mut |_| {}, &cancel)
            .map_err(|e| e.to_string());
    let image = verify::against_image(&mut drive_for(disc), image, &options, &mut |_| {}, &cancel)
        .map_err(|e| e.to_string());
    Outcomes { manifest, image }
}

/// The disc's bytes as a drive reads them: whole blocks, the last one padded with zeros.
fn as_read(disc: &[u8]) -> Vec<u8> {
    let mut bytes = disc.to_vec();
    bytes.resize(disc.len().div_ceil(2048) * 2048, 0);
    bytes
}

/// The files of the source tree that the damaged disc does not give back as they are, by
/// our reader (the one `verify` trusts for names and extents).
fn files_not_intact(disc: &Path, source: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
    let Ok(mut image) = IsoImage::open(fs::File::open(disc).unwrap()) else {
        return source.iter().map(|(p, _)| p.clone()).collect();
    };
    let mut bad = Vec::new();
    for (path, contents) in source {
        let Some(entry) = image.entry(path).cloned() else {
            bad.push(path.clone());
            continue;
        };
        let mut read = Vec::new();
        let whole = image
            .open_file(&entry)
            .take(contents.len() as u64 + 1)
            .read_to_end(&mut read)
            .is_ok();
        if !whole || read != *contents {
            bad.push(path.clone());
        }
    }
    bad
}

#[test]
fn corrupted_and_truncated_media_never_crash_and_never_pass_wrongly() {
    let scene = Scene::new();
    let tree = scene.path("tree");
    fs::create_dir(&tree).unwrap();
    source_tree(&tree);
    let mut source = Vec::new();
    files_of(&tree, &tree, &mut source);
    let image_path = scene.path("good.iso");
    build_image(&tree, &image_path, &options());
    let image = fs::read(&image_path).unwrap();
    // Where the file data begins: everything before it (from block 16) is structures.
    let first_data = IsoImage::open(fs::File::open(&image_path).unwrap())
        .unwrap()
        .entries()
        .iter()
        .flat_map(|e| e.extents.iter().map(|x| x.lba))
        .filter(|&lba| lba > 16)
        .min()
        .unwrap() as usize;
    let disc: PathBuf = scene.path("disc.img");

    // The undamaged image passes both ways: the checks can pass at all.
    fs::write(&disc, &image).unwrap();
    let clean = check_in_process(&disc, &image_path);
    assert!(passed(&clean.manifest) && passed(&clean.image), "{clean:?}");

    let mut rng = Rng(0x1405_2026);
    let (mut failed, mut cli_runs) = (0, 0);
    for copy in 0..COPIES {
        let damage = Damage::pick(&mut rng, image.len(), first_data * 2048);
        let damaged = damage.apply(&image, &mut rng);
        fs::write(&disc, &damaged).unwrap();
        let what = format!("copy {copy}: {damage:?}");
        let outcomes = catch_unwind(AssertUnwindSafe(|| check_in_process(&disc, &image_path)))
            .unwrap_or_else(|_| panic!("{what}: a panic"));

        let intact = as_read(&damaged).get(..image.len()) == Some(&image[..]);
        assert_eq!(
            passed(&outcomes.image),
            intact,
            "{what}: verify --image passed {} for a disc that {} the image: {:?}",
            passed(&outcomes.image),
            if intact { "holds" } else { "does not hold" },
            outcomes.image
        );
        if let Ok(report) = &outcomes.manifest
            && report.passed()
        {
            for path in files_not_intact(&disc, &source) {
                assert!(
                    report.unlisted.contains(&path),
                    "{what}: verify passed, but /{} does not read back as it was: {report}",
                    String::from_utf8_lossy(&path)
                );
            }
        }
        if !passed(&outcomes.manifest) {
            failed += 1;
        }

        // Every tenth copy through the binary too: no crash, and the same verdicts.
        if copy % 10 == 0 {
            cli_runs += 1;
            let device = format!("sim:{}", disc.display());
            let ls = burnstation(&["ls", disc.to_str().unwrap()]);
            let by_manifest = burnstation(&["verify", "--device", &device]);
            let by_image = burnstation(&[
                "verify",
                "--device",
                &device,
                "--image",
                image_path.to_str().unwrap(),
            ]);
            for (command, out) in [
                ("ls", &ls),
                ("verify", &by_manifest),
                ("verify --image", &by_image),
            ] {
                assert!(
                    matches!(out.status.code(), Some(OK | DAMAGED | ERROR)),
                    "{what}: {command} died: {}",
                    text(out)
                );
                assert!(
                    !String::from_utf8_lossy(&out.stderr).contains("panicked"),
                    "{what}: {command}: {}",
                    text(out)
                );
            }
            assert_eq!(
                by_manifest.status.code() == Some(OK),
                passed(&outcomes.manifest),
                "{what}: {}",
                text(&by_manifest)
            );
            assert_eq!(
                by_image.status.code() == Some(OK),
                passed(&outcomes.image),
                "{what}: {}",
                text(&by_image)
            );
        }
    }
    // The damage is real damage for verify too: many copies fail it. (Only --image checks
    // the rest: damage to the 150 padding blocks, the Joliet tree or the path tables leaves
    // every file as it was, and verify rightly passes those.)
    assert!(
        failed > COPIES / 6,
        "only {failed} of {COPIES} damaged copies failed verify"
    );
    assert_eq!(cli_runs, COPIES / 10);
}
