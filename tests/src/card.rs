//! The SD card image, made the way the image build makes it and read back with other tools.
//!
//! [`make_card`] runs the boards' own post-image scripts (`buildroot/board/*/post-image.sh`)
//! on an images directory laid out as buildroot leaves it (`burnstation.toml`,
//! `rootfs.squashfs`, and a Pi's firmware), with the environment buildroot gives them; they
//! run genimage on `board/common/genimage.cfg.in`. [`CardLayout::read`] reads the result's
//! partition table with `sfdisk --json`, and [`extract`] copies one partition out, for
//! mtools, debugfs or a byte comparison. The systemd guest of the system tests boots a card
//! made this way.
//!
//! This module makes and reads image files; it boots nothing.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::{self, CommandError, GENIMAGE, MCOPY, MKE2FS, MKFS_VFAT, MissingTool, SFDISK};

/// One partition of a card image, from its partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Where it starts, in bytes.
    pub start: u64,
    /// How long it is, in bytes.
    pub size: u64,
    /// Its MBR type, as sfdisk writes it (`c`, `83`).
    pub kind: String,
    /// Whether it carries the boot flag.
    pub bootable: bool,
}

/// A card image's partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardLayout {
    /// `dos` for MBR.
    pub label: String,
    /// The disk signature (`0x6275726e`), which the PARTUUIDs derive from.
    pub id: String,
    /// The partitions, in table order.
    pub partitions: Vec<Partition>,
}

/// Why the card could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// A tool is missing.
    #[error(transparent)]
    Missing(#[from] MissingTool),
    /// A post-image script or sfdisk failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// sfdisk said something this reader does not understand.
    #[error("cannot read sfdisk's description of {image}: {why}")]
    Layout {
        /// The image.
        image: PathBuf,
        /// What was wrong.
        why: String,
    },
    /// A file could not be read or written.
    #[error("could not {what} {path}: {source}")]
    Io {
        /// What the harness was doing.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Runs `scripts` (post-image scripts, in order) on `binaries` as buildroot would, with
/// `build` as its build directory, and returns the card image they made.
pub fn make_card(scripts: &[PathBuf], binaries: &Path, build: &Path) -> Result<PathBuf, CardError> {
    tools::require_all(&[GENIMAGE, MKFS_VFAT, MCOPY, MKE2FS])?;
    for script in scripts {
        let mut command = Command::new("bash");
        command
            .arg(script)
            .env("BINARIES_DIR", binaries)
            .env("BUILD_DIR", build)
            // genimage's helpers live in sbin, which a non-root PATH may lack.
            .env("PATH", path_with_sbin());
        tools::run(&mut command)?;
    }
    Ok(binaries.join("sdcard.img"))
}

impl CardLayout {
    /// The partition table of `image`, read by sfdisk.
    pub fn read(image: &Path) -> Result<CardLayout, CardError> {
        let mut sfdisk = SFDISK.command()?;
        sfdisk.arg("--json").arg(image);
        let output = tools::run(&mut sfdisk)?;
        let bad = |why: &str| CardError::Layout {
            image: image.to_path_buf(),
            why: why.to_string(),
        };
        let json: serde_json::Value =
            serde_json::from_slice(&output.stdout).map_err(|err| bad(&err.to_string()))?;
        let table = &json["partitiontable"];
        let sector = table["sectorsize"].as_u64().unwrap_or(512);
        let partitions = table["partitions"]
            .as_array()
            .ok_or_else(|| bad("no partitions"))?
            .iter()
            .map(|p| {
                Ok(Partition {
                    start: p["start"].as_u64().ok_or_else(|| bad("a start"))? * sector,
                    size: p["size"].as_u64().ok_or_else(|| bad("a size"))? * sector,
                    kind: p["type"].as_str().ok_or_else(|| bad("a type"))?.to_string(),
                    bootable: p["bootable"].as_bool().unwrap_or(false),
                })
            })
            .collect::<Result<Vec<_>, CardError>>()?;
        Ok(CardLayout {
            label: table["label"].as_str().unwrap_or_default().to_string(),
            id: table["id"].as_str().unwrap_or_default().to_string(),
            partitions,
        })
    }
}

/// Copies `partition` of `image` into the file `out`.
pub fn extract(image: &Path, partition: &Partition, out: &Path) -> Result<(), CardError> {
    let io_error = |what, path: &Path| {
        let path = path.to_path_buf();
        move |source| CardError::Io { what, path, source }
    };
    let mut input = File::open(image).map_err(io_error("open", image))?;
    input
        .seek(SeekFrom::Start(partition.start))
        .map_err(io_error("seek in", image))?;
    let mut output = File::create(out).map_err(io_error("create", out))?;
    io::copy(&mut input.take(partition.size), &mut output).map_err(io_error("copy", out))?;
    output.flush().map_err(io_error("write", out))
}

fn path_with_sbin() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs: Vec<&str> = path.split(':').filter(|d| !d.is_empty()).collect();
    for sbin in ["/usr/sbin", "/sbin"] {
        if !dirs.contains(&sbin) {
            dirs.push(sbin);
        }
    }
    dirs.join(":")
}

/// Copies the file `source` to `dest`, making `dest`'s directory first.
pub fn place(source: &Path, dest: &Path) -> Result<(), CardError> {
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).map_err(|source| CardError::Io {
            what: "create",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    fs::copy(source, dest)
        .map(drop)
        .map_err(|err| CardError::Io {
            what: "copy to",
            path: dest.to_path_buf(),
            source: err,
        })
}
