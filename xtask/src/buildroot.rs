//! The flashable image: `cargo xtask vendor` and `cargo xtask image BOARD`.
//!
//! The image is built by buildroot (the release pinned in `buildroot/buildroot.pin`) with the
//! repository's BR2_EXTERNAL tree, `buildroot/`. Buildroot vendors the crates of downloaded
//! cargo packages only, and the station's package takes this repository as its source
//! (`local` site method), so the repository vendors its own crates: [`vendor`] fills
//! `vendor/` from `Cargo.lock`, and the package points cargo at it. [`image`] does the rest:
//! it fetches the pinned buildroot when none is given, vendors, and runs buildroot's `make`.
//! Both need the network (crates.io, buildroot's download sites); `buildroot_check` is the
//! part that does not.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::run;

/// Where the vendored crates go, in the workspace (git ignores it).
pub const VENDOR_DIR: &str = "vendor";
/// The copy of `Cargo.lock` that `vendor/` was made for; the package compares it with the
/// `Cargo.lock` it builds (`BURNSTATION_CHECK_VENDORED_CRATES` in `burnstation.mk`).
pub const VENDOR_STAMP: &str = ".burnstation-Cargo.lock";
/// The only source the vendoring handles: anything else (git) needs another `[source]`
/// entry in the package's cargo configuration.
const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// The buildroot release the image is built with (`buildroot/buildroot.pin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The release tag, `2026.02.3`.
    pub release: String,
    /// The commit that tag names, checked after cloning.
    pub commit: String,
    /// Where to clone it from.
    pub url: String,
}

impl Pin {
    /// Reads the pin of the tree in `root`.
    pub fn read(root: &Path) -> Result<Pin> {
        let path = external_tree(root).join("buildroot.pin");
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Pin::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parses `key = value` lines (`release`, `commit`, `url`); `#` starts a comment.
    pub fn parse(text: &str) -> Result<Pin> {
        let value = |key: &str| -> Result<String> {
            text.lines()
                .map(|line| line.split('#').next().unwrap_or("").trim())
                .filter_map(|line| line.split_once('='))
                .find(|(name, _)| name.trim() == key)
                .map(|(_, value)| value.trim().to_string())
                .filter(|value| !value.is_empty())
                .with_context(|| format!("no `{key} = ...` line"))
        };
        Ok(Pin {
            release: value("release")?,
            commit: value("commit")?,
            url: value("url")?,
        })
    }

    /// The release series, `2026.02`: a checkout of any of its releases is accepted.
    pub fn series(&self) -> &str {
        match self.release.match_indices('.').nth(1) {
            Some((second_dot, _)) => &self.release[..second_dot],
            None => &self.release,
        }
    }

    /// Whether `version` (a checkout's `BR2_VERSION`) belongs to the pinned series.
    pub fn accepts(&self, version: &str) -> bool {
        let series = self.series();
        version == series
            || version
                .strip_prefix(series)
                .is_some_and(|rest| rest.starts_with('.'))
    }
}

/// The BR2_EXTERNAL tree of the workspace at `root`.
pub fn external_tree(root: &Path) -> PathBuf {
    root.join("buildroot")
}

/// The boards there are defconfigs for: `rpi4_64` for `configs/burnstation_rpi4_64_defconfig`.
pub fn boards(root: &Path) -> Result<Vec<String>> {
    Ok(defconfigs(root)?
        .iter()
        .filter_map(|name| {
            name.strip_prefix("burnstation_")
                .and_then(|rest| rest.strip_suffix("_defconfig"))
        })
        .map(str::to_string)
        .collect())
}

/// The file names of the tree's defconfigs, sorted.
pub fn defconfigs(root: &Path) -> Result<Vec<String>> {
    let dir = external_tree(root).join("configs");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with("_defconfig"))
        .collect();
    names.sort();
    Ok(names)
}

/// `BR2_VERSION` of the buildroot checkout in `dir`, from its top-level Makefile.
pub fn buildroot_version(dir: &Path) -> Result<String> {
    let makefile = dir.join("Makefile");
    let text = fs::read_to_string(&makefile).with_context(|| {
        format!(
            "{} is not a buildroot checkout (no readable Makefile)",
            dir.display()
        )
    })?;
    text.lines()
        .find_map(|line| line.strip_prefix("export BR2_VERSION :="))
        .map(|version| version.trim().to_string())
        .with_context(|| {
            format!(
                "{} does not set BR2_VERSION: is {} a buildroot checkout?",
                makefile.display(),
                dir.display()
            )
        })
}

/// Fails unless the checkout in `dir` belongs to the pinned series; returns its version.
pub fn require_pinned_series(dir: &Path, pin: &Pin) -> Result<String> {
    let version = buildroot_version(dir)?;
    if !pin.accepts(&version) {
        bail!(
            "{} is buildroot {version}, but the tree is written for {}.x (buildroot/buildroot.pin \
             pins {}): check out that release",
            dir.display(),
            pin.series(),
            pin.release
        );
    }
    Ok(version)
}

/// `cargo xtask vendor`: `vendor/` holds every crate of `Cargo.lock`, for the image build.
pub fn vendor(root: &Path) -> Result<()> {
    let lock_path = root.join("Cargo.lock");
    let lock = fs::read_to_string(&lock_path)
        .with_context(|| format!("cannot read {}", lock_path.display()))?;
    let foreign = foreign_sources(&lock);
    if !foreign.is_empty() {
        bail!(
            "Cargo.lock has crates from sources other than crates.io ({}): the buildroot \
             package only points cargo at vendored crates.io sources; add the `[source]` entries \
             `cargo vendor` prints to BURNSTATION_VENDOR_CONFIG in burnstation.mk",
            foreign.join(", ")
        );
    }
    let dir = root.join(VENDOR_DIR);
    eprintln!(
        "xtask: vendoring the crates of Cargo.lock into {}",
        dir.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(
        Command::new(cargo)
            .args(["vendor", "--locked", "--quiet", "--manifest-path"])
            .arg(root.join("Cargo.toml"))
            .arg(&dir)
            // The configuration it prints is buildroot's business (burnstation.mk).
            .stdout(std::process::Stdio::null()),
        "cargo vendor --locked",
    )?;
    let stamp = dir.join(VENDOR_STAMP);
    fs::write(&stamp, &lock).with_context(|| format!("cannot write {}", stamp.display()))?;
    Ok(())
}

/// The `source = "..."` values of `Cargo.lock` that are not crates.io.
pub fn foreign_sources(lock: &str) -> Vec<String> {
    let mut foreign: Vec<String> = lock
        .lines()
        .filter_map(|line| line.strip_prefix("source = "))
        .map(|source| source.trim().trim_matches('"').to_string())
        .filter(|source| source != CRATES_IO)
        .collect();
    foreign.sort();
    foreign.dedup();
    foreign
}

/// `cargo xtask image BOARD`: the SD card image of `board`, built by buildroot.
pub fn image(
    root: &Path,
    board: &str,
    buildroot: Option<&Path>,
    output: Option<&Path>,
) -> Result<()> {
    let known = boards(root)?;
    if !known.iter().any(|known| known == board) {
        bail!("no board named {board:?}; known: {}", known.join(", "));
    }
    let pin = Pin::read(root)?;
    let buildroot = match buildroot {
        Some(dir) => dir.to_path_buf(),
        None => fetch_pinned(root, &pin)?,
    };
    let version = require_pinned_series(&buildroot, &pin)?;
    vendor(root)?;
    let out = match output {
        Some(dir) => dir.to_path_buf(),
        None => root.join("target/buildroot").join(board),
    };
    let defconfig = format!("burnstation_{board}_defconfig");
    eprintln!(
        "xtask: building {defconfig} with buildroot {version} in {}",
        out.display()
    );
    let make = |args: &[&str]| {
        let mut cmd = Command::new("make");
        cmd.arg("-C")
            .arg(&buildroot)
            .arg(format!("O={}", out.display()))
            .arg(format!("BR2_EXTERNAL={}", external_tree(root).display()))
            .args(args);
        cmd
    };
    run(&mut make(&[&defconfig]), &format!("make {defconfig}"))?;
    run(&mut make(&[]), "make")?;
    let card = out.join("images/sdcard.img");
    if !card.is_file() {
        bail!("buildroot finished but made no {}", card.display());
    }
    println!("{}", card.display());
    Ok(())
}

/// The pinned buildroot, cloned into `target/buildroot/` the first time.
fn fetch_pinned(root: &Path, pin: &Pin) -> Result<PathBuf> {
    let dir = root
        .join("target/buildroot")
        .join(format!("buildroot-{}", pin.release));
    if !dir.join("Makefile").is_file() {
        eprintln!("xtask: cloning buildroot {} from {}", pin.release, pin.url);
        let _ = fs::remove_dir_all(&dir);
        run(
            Command::new("git")
                .args(["clone", "--quiet", "--depth", "1", "--branch", &pin.release])
                .arg(&pin.url)
                .arg(&dir),
            &format!("git clone --branch {} {}", pin.release, pin.url),
        )?;
    }
    let head = Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .context("could not run git")?;
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    if head != pin.commit {
        bail!(
            "{} is at commit {head}, but buildroot.pin says {} is {}: remove the directory to \
             clone again, or update the pin",
            dir.display(),
            pin.release,
            pin.commit
        );
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_names_a_release_its_commit_and_where_to_get_it() {
        let pin = Pin::parse(
            "# comment\nrelease = 2026.02.3\ncommit = 679b9ead # the tag\nurl = https://x/y.git\n",
        )
        .unwrap();
        assert_eq!(pin.release, "2026.02.3");
        assert_eq!(pin.commit, "679b9ead");
        assert_eq!(pin.url, "https://x/y.git");
        assert_eq!(pin.series(), "2026.02");
        assert!(Pin::parse("release = 1\nurl = u\n").is_err());
    }

    #[test]
    fn any_release_of_the_pinned_series_is_accepted_and_no_other() {
        let pin = Pin::parse("release = 2026.02.3\ncommit = c\nurl = u\n").unwrap();
        for version in ["2026.02", "2026.02.1", "2026.02.3", "2026.02.4-git"] {
            assert!(pin.accepts(version), "{version}");
        }
        for version in ["2026.05", "2026.020", "2025.02.3", ""] {
            assert!(!pin.accepts(version), "{version}");
        }
    }

    #[test]
    fn only_crates_io_sources_are_vendored() {
        let lock = r#"
[[package]]
name = "a"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "b"
source = "git+https://example.org/b.git#abc"

[[package]]
name = "local"
"#;
        assert_eq!(foreign_sources(lock), ["git+https://example.org/b.git#abc"]);
    }

    #[test]
    fn the_workspace_pin_is_readable_and_its_boards_have_defconfigs() {
        let root = crate::workspace_root();
        let pin = Pin::read(&root).unwrap();
        assert_eq!(pin.series(), "2026.02");
        assert_eq!(pin.commit.len(), 40, "a full commit id: {}", pin.commit);
        let boards = boards(&root).unwrap();
        for board in ["rpi4_64", "rpi3_64", "qemu_aarch64_virt"] {
            assert!(boards.iter().any(|b| b == board), "{board}: {boards:?}");
        }
    }
}
