//! Test trees and images: generated content, an independent image maker, tree digests, and
//! damage.
//!
//! [`generate_tree`] and [`write_bulk_file`] write files whose bytes follow from a seed (so a
//! failure reproduces), [`xorriso_image`] makes an ISO 9660 image of a tree with xorriso (a
//! disc some other tool burnt), and [`tree_digests`] / [`parse_sha256sum`] give the same
//! `path → SHA-256` map on the host and from a guest's `sha256sum` output, to compare what
//! came back with what went in. [`file_extents`] finds where a file lies in an image and
//! [`invert_bytes`] damages exactly the bytes a test names.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use burnstation_images::iso9660::IsoImage;

use crate::guest::sha256_hex;
use crate::tools::{self, CommandError, MissingTool, XORRISO};

/// Why a fixture could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// xorriso is not installed.
    #[error(transparent)]
    Missing(#[from] MissingTool),
    /// xorriso failed.
    #[error("xorriso could not make the test image: {0}")]
    Xorriso(CommandError),
    /// An image could not be read, or lacks what was looked for.
    #[error("could not find my way in the image {image}: {reason}")]
    Image {
        /// The image.
        image: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A file could not be written or read.
    #[error("could not {what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// Writes a small tree under `root`: nested directories, a name with spaces, an empty file,
/// and files of `sizes` bytes with seeded content. Returns `path → SHA-256` of its files.
pub fn generate_tree(
    root: &Path,
    seed: u64,
    sizes: &[usize],
) -> Result<BTreeMap<String, String>, FixtureError> {
    let mut state = seed | 1;
    let mut files = vec![
        (
            "README.txt".to_string(),
            b"a tree made by burnstation-tests\n".to_vec(),
        ),
        ("empty".to_string(), Vec::new()),
    ];
    for (index, &size) in sizes.iter().enumerate() {
        let bytes: Vec<u8> = (0..size).map(|_| next_byte(&mut state)).collect();
        let name = match index % 3 {
            0 => format!("data/file-{index}.bin"),
            1 => format!("data/deeper/level two/file {index}.bin"),
            _ => format!("file_{index}.dat"),
        };
        files.push((name, bytes));
    }
    let mut digests = BTreeMap::new();
    for (name, bytes) in files {
        let path = root.join(&name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error("create", parent))?;
        }
        fs::write(&path, &bytes).map_err(io_error("write", &path))?;
        digests.insert(name, sha256_hex(&bytes));
    }
    Ok(digests)
}

/// Makes `image` from `tree` with xorriso (Rock Ridge and Joliet, volume id `SYSTEST`).
pub fn xorriso_image(tree: &Path, image: &Path) -> Result<(), FixtureError> {
    let mut xorriso = XORRISO.command()?;
    xorriso
        .args([
            "-as", "mkisofs", "-quiet", "-R", "-J", "-V", "SYSTEST", "-o",
        ])
        .arg(image)
        .arg(tree);
    tools::run(&mut xorriso)
        .map(drop)
        .map_err(FixtureError::Xorriso)
}

/// Writes `size` bytes of seeded, incompressible content to `path`, a megabyte at a time (the
/// bulk of a disc-sized test tree; the same seed gives the same bytes).
pub fn write_bulk_file(path: &Path, seed: u64, size: u64) -> Result<(), FixtureError> {
    let mut file = fs::File::create(path).map_err(io_error("create", path))?;
    let mut state = seed | 1;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let take = left.min(chunk.len() as u64) as usize;
        for word in chunk[..take].chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes()[..word.len()]);
        }
        file.write_all(&chunk[..take])
            .map_err(io_error("write", path))?;
        left -= take as u64;
    }
    Ok(())
}

/// Where the file `path` (relative to the disc root, as the Rock Ridge tree names it) lies
/// in the ISO 9660 image `image`: its extents as `(byte offset, length in bytes)`, read with
/// the station's own reader.
pub fn file_extents(image: &Path, path: &[u8]) -> Result<Vec<(u64, u64)>, FixtureError> {
    let file = fs::File::open(image).map_err(io_error("open", image))?;
    let iso = IsoImage::open(file).map_err(|err| FixtureError::Image {
        image: image.to_path_buf(),
        reason: err.to_string(),
    })?;
    let entry = iso.entry(path).ok_or_else(|| FixtureError::Image {
        image: image.to_path_buf(),
        reason: format!("it has no file {:?}", String::from_utf8_lossy(path)),
    })?;
    Ok(entry
        .extents
        .iter()
        .map(|extent| (extent.lba * 2048, extent.length))
        .collect())
}

/// Inverts `length` bytes of `file` from byte `offset` on, as damage on a disc would change
/// them: every byte in the range differs afterwards, nothing else does.
pub fn invert_bytes(file: &Path, offset: u64, length: usize) -> Result<(), FixtureError> {
    let mut disc = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .map_err(io_error("open", file))?;
    let mut bytes = vec![0u8; length];
    disc.seek(SeekFrom::Start(offset))
        .and_then(|_| disc.read_exact(&mut bytes))
        .map_err(io_error("read", file))?;
    for byte in &mut bytes {
        *byte = !*byte;
    }
    disc.seek(SeekFrom::Start(offset))
        .and_then(|_| disc.write_all(&bytes))
        .and_then(|()| disc.sync_all())
        .map_err(io_error("write", file))
}

/// `path → SHA-256` of every regular file under `root`, paths relative and `/`-separated.
pub fn tree_digests(root: &Path) -> Result<BTreeMap<String, String>, FixtureError> {
    let mut digests = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).map_err(io_error("list", &dir))? {
            let entry = entry.map_err(io_error("list", &dir))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(io_error("inspect", &path))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let bytes = fs::read(&path).map_err(io_error("read", &path))?;
                let relative = path.strip_prefix(root).unwrap_or(&path);
                digests.insert(relative.to_string_lossy().into_owned(), sha256_hex(&bytes));
            }
        }
    }
    Ok(digests)
}

/// `path → SHA-256` from `sha256sum` output run on `./`-relative paths (busybox's format:
/// `<hex>  ./path`).
pub fn parse_sha256sum(output: &str) -> BTreeMap<String, String> {
    output
        .lines()
        .filter_map(|line| line.split_once("  "))
        .map(|(hash, path)| {
            let path = path.strip_prefix("./").unwrap_or(path);
            (path.to_string(), hash.to_string())
        })
        .collect()
}

/// xorshift64: cheap, seeded, and plenty for bytes nobody should be able to guess.
fn next_byte(state: &mut u64) -> u8 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 24) as u8
}

fn io_error(what: &'static str, path: &Path) -> impl Fn(std::io::Error) -> FixtureError {
    let path = path.to_path_buf();
    move |source| FixtureError::Io {
        what,
        path: path.clone(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_tree_digests_the_same_when_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let written = generate_tree(dir.path(), 7, &[10, 5000, 3]).unwrap();
        assert_eq!(written.len(), 5);
        assert!(written.contains_key("data/deeper/level two/file 1.bin"));
        assert_eq!(tree_digests(dir.path()).unwrap(), written);
    }

    #[test]
    fn the_seed_decides_the_content() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let first = generate_tree(a.path(), 1, &[4096]).unwrap();
        assert_eq!(generate_tree(b.path(), 1, &[4096]).unwrap(), first);
        assert_ne!(generate_tree(c.path(), 2, &[4096]).unwrap(), first);
    }

    #[test]
    fn bulk_files_follow_their_seed_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        let size = (1 << 20) + 2049;
        write_bulk_file(&a, 5, size).unwrap();
        write_bulk_file(&b, 5, size).unwrap();
        write_bulk_file(&c, 6, size).unwrap();
        let (a, b, c) = (
            fs::read(a).unwrap(),
            fs::read(b).unwrap(),
            fs::read(c).unwrap(),
        );
        assert_eq!(a.len() as u64, size);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// The extent our reader finds is where xorriso put the file's bytes, and inverting them
    /// changes exactly those bytes.
    #[test]
    fn a_files_extent_is_where_its_bytes_are_and_inverting_them_changes_only_those() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        let digests = generate_tree(&tree, 3, &[10_000, 5000]).unwrap();
        assert!(digests.contains_key("data/file-0.bin"));
        let image = dir.path().join("image.iso");
        xorriso_image(&tree, &image).unwrap();
        let before = fs::read(&image).unwrap();
        let contents = fs::read(tree.join("data/file-0.bin")).unwrap();
        let extents = file_extents(&image, b"data/file-0.bin").unwrap();
        let [(offset, length)] = extents.as_slice() else {
            panic!("one extent expected: {extents:?}");
        };
        let (offset, length) = (*offset as usize, *length as usize);
        assert_eq!(&before[offset..offset + length], contents.as_slice());

        invert_bytes(&image, offset as u64 + 100, 16).unwrap();
        let after = fs::read(&image).unwrap();
        let changed: Vec<usize> = (0..before.len())
            .filter(|&i| before[i] != after[i])
            .collect();
        assert_eq!(changed, (offset + 100..offset + 116).collect::<Vec<_>>());
        assert!(matches!(
            file_extents(&image, b"no/such/file"),
            Err(FixtureError::Image { .. })
        ));
    }

    #[test]
    fn sha256sum_output_maps_to_relative_paths() {
        let output = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  ./empty\n\
                      0123  ./data/deeper/level two/file 1.bin\n";
        let parsed = parse_sha256sum(output);
        assert_eq!(
            parsed.get("empty").map(String::as_str),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(
            parsed
                .get("data/deeper/level two/file 1.bin")
                .map(String::as_str),
            Some("0123")
        );
    }
}
