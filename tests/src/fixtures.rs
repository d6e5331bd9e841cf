//! Test trees and images: generated content, an independent image maker, tree digests.
//!
//! [`generate_tree`] writes files whose bytes follow from a seed (so a failure reproduces),
//! [`xorriso_image`] makes an ISO 9660 image of a tree with xorriso (not with our writer:
//! these tests check the drive path, not the image code), and [`tree_digests`] /
//! [`parse_sha256sum`] give the same `path → SHA-256` map on the host and from a guest's
//! `sha256sum` output, to compare what came back with what went in.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

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
