//! The flashable image's files as the BR2_EXTERNAL tree (`buildroot/`) lays them out.
//!
//! Buildroot puts the station's system files into the image in two ways: the `burnstation`
//! package's `$(INSTALL) -D -m MODE SOURCE $(TARGET_DIR)/DEST` lines (`burnstation.mk`), and
//! the board's root filesystem overlay (`board/common/rootfs-overlay/`), copied as it is.
//! [`ImageTree`] reads both, so that a test can check the tree is consistent (every file
//! referenced exists, nothing is left out) and the systemd guest of the system tests can
//! install exactly what the image installs, from the same lines, rather than from a second
//! list that could drift.
//!
//! This module reads files; it builds and runs nothing.

use std::fs;
use std::path::{Path, PathBuf};

/// The BR2_EXTERNAL tree of a workspace.
#[derive(Debug, Clone)]
pub struct ImageTree {
    workspace: PathBuf,
}

/// One file the package installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    /// Where it comes from, on this machine.
    pub source: PathBuf,
    /// Where it goes, relative to the image's root (`usr/lib/systemd/system/x.service`), or
    /// to buildroot's images directory for [`Destination::Images`].
    pub dest: PathBuf,
    /// Its mode.
    pub mode: u32,
    /// Which of the image's directories it goes to.
    pub into: Destination,
}

/// The directory an install line writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The root filesystem (`$(TARGET_DIR)`).
    Target,
    /// Buildroot's images directory (`$(BINARIES_DIR)`), whence post-image.sh takes files
    /// for the boot partition.
    Images,
}

/// The user the package creates (`BURNSTATION_USERS`, buildroot's makeusers syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageUser {
    /// Its name.
    pub name: String,
    /// Its main group.
    pub group: String,
    /// Its home directory.
    pub home: String,
    /// Its other groups.
    pub groups: Vec<String>,
}

/// Why the tree could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// A file could not be read.
    #[error("could not read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of `burnstation.mk` is not in the form this reader takes.
    #[error("{path}: cannot read the install line {line:?}: {why}")]
    InstallLine {
        /// The makefile.
        path: PathBuf,
        /// The (joined) line.
        line: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A defconfig runs no post-image script of the tree.
    #[error("{0}: no BR2_ROOTFS_POST_IMAGE_SCRIPT of scripts in the tree")]
    NoPostImage(PathBuf),
    /// `burnstation.mk` defines no user, or one this reader cannot read.
    #[error("{0}: no BURNSTATION_USERS line of nine fields")]
    NoUser(PathBuf),
}

/// The package variable the install lines take their sources from.
const PKGDIR: &str = "$(BURNSTATION_PKGDIR)/";
/// The build directory: the repository, copied.
const BUILD_DIR: &str = "$(@D)/";

impl ImageTree {
    /// The tree of the workspace at `workspace`.
    pub fn new(workspace: &Path) -> ImageTree {
        ImageTree {
            workspace: workspace.to_path_buf(),
        }
    }

    /// The tree of this workspace.
    pub fn of_this_workspace() -> ImageTree {
        let tests_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
        ImageTree::new(tests_crate.parent().unwrap_or(tests_crate))
    }

    /// The workspace root.
    pub fn workspace(&self) -> &Path {
        &self.workspace
    }

    /// `buildroot/`.
    pub fn external(&self) -> PathBuf {
        self.workspace.join("buildroot")
    }

    /// The station's package directory.
    pub fn package_dir(&self) -> PathBuf {
        self.external().join("package/burnstation")
    }

    /// The package's makefile.
    pub fn makefile(&self) -> PathBuf {
        self.package_dir().join("burnstation.mk")
    }

    /// The root filesystem overlay every board uses.
    pub fn overlay(&self) -> PathBuf {
        self.external().join("board/common/rootfs-overlay")
    }

    /// The post-image scripts `defconfig` runs (`BR2_ROOTFS_POST_IMAGE_SCRIPT`), in order.
    pub fn post_image_scripts(&self, defconfig: &str) -> Result<Vec<PathBuf>, TreeError> {
        let path = self.external().join("configs").join(defconfig);
        let text = read(&path)?;
        let value = text
            .lines()
            .find_map(|line| line.strip_prefix("BR2_ROOTFS_POST_IMAGE_SCRIPT="))
            .ok_or_else(|| TreeError::NoPostImage(path.clone()))?;
        value
            .trim_matches('"')
            .split_whitespace()
            .map(|script| {
                script
                    .strip_prefix("$(BR2_EXTERNAL_BURNSTATION_PATH)/")
                    .map(|relative| self.external().join(relative))
                    .ok_or_else(|| TreeError::NoPostImage(path.clone()))
            })
            .collect()
    }

    /// Every file the package installs, in the makefile's order.
    pub fn package_installs(&self) -> Result<Vec<Install>, TreeError> {
        let path = self.makefile();
        let text = read(&path)?;
        statements(&text)
            .into_iter()
            .filter(|line| line.starts_with("$(INSTALL)"))
            .map(|line| self.install(&path, &line))
            .collect()
    }

    /// The user the package creates.
    pub fn package_user(&self) -> Result<PackageUser, TreeError> {
        let path = self.makefile();
        let text = read(&path)?;
        let mut lines = text.lines();
        lines
            .find(|line| line.trim() == "define BURNSTATION_USERS")
            .and_then(|_| lines.next())
            .and_then(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                (fields.len() >= 9).then(|| PackageUser {
                    name: fields[0].to_string(),
                    group: fields[2].to_string(),
                    home: fields[5].to_string(),
                    groups: match fields[7] {
                        "-" => Vec::new(),
                        list => list.split(',').map(str::to_string).collect(),
                    },
                })
            })
            .ok_or(TreeError::NoUser(path))
    }

    /// The overlay's files: (path in the image, path here), sorted.
    pub fn overlay_files(&self) -> Result<Vec<(PathBuf, PathBuf)>, TreeError> {
        let overlay = self.overlay();
        Ok(entries_under(&overlay)?
            .into_iter()
            .filter(|path| path.is_file())
            .filter_map(|path| {
                let relative = path.strip_prefix(&overlay).ok()?.to_path_buf();
                Some((relative, path))
            })
            .collect())
    }

    /// Every file of the image's root filesystem the tree provides: (path in the image,
    /// path here). The package's files, then the overlay's, which win (as in buildroot,
    /// which copies the overlay last).
    pub fn root_files(&self) -> Result<Vec<(PathBuf, PathBuf)>, TreeError> {
        let mut files: Vec<(PathBuf, PathBuf)> = self
            .package_installs()?
            .into_iter()
            .filter(|install| install.into == Destination::Target)
            .map(|install| (install.dest, install.source))
            .collect();
        for (dest, source) in self.overlay_files()? {
            files.retain(|(known, _)| *known != dest);
            files.push((dest, source));
        }
        Ok(files)
    }

    fn install(&self, path: &Path, line: &str) -> Result<Install, TreeError> {
        let bad = |why| TreeError::InstallLine {
            path: path.to_path_buf(),
            line: line.to_string(),
            why,
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["$(INSTALL)", "-D", "-m", mode, source, dest] = words[..] else {
            return Err(bad("not `$(INSTALL) -D -m MODE SOURCE DEST`"));
        };
        let mode = u32::from_str_radix(mode, 8).map_err(|_| bad("the mode is not octal"))?;
        let source = if let Some(file) = source.strip_prefix(PKGDIR) {
            self.package_dir().join(file)
        } else if let Some(file) = source.strip_prefix(BUILD_DIR) {
            self.workspace.join(file)
        } else {
            return Err(bad(
                "the source is neither in $(BURNSTATION_PKGDIR) nor $(@D)",
            ));
        };
        let (into, dest) = if let Some(file) = dest.strip_prefix("$(TARGET_DIR)/") {
            (Destination::Target, file)
        } else if let Some(file) = dest.strip_prefix("$(BINARIES_DIR)/") {
            (Destination::Images, file)
        } else {
            return Err(bad(
                "the destination is neither in $(TARGET_DIR) nor $(BINARIES_DIR)",
            ));
        };
        Ok(Install {
            source,
            dest: PathBuf::from(dest),
            mode,
            into,
        })
    }
}

/// Everything below `dir` (directories and files, not `dir` itself), sorted.
pub fn entries_under(dir: &Path) -> Result<Vec<PathBuf>, TreeError> {
    let mut entries = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let listing = fs::read_dir(&current).map_err(|source| TreeError::Read {
            path: current.clone(),
            source,
        })?;
        for entry in listing {
            let path = entry
                .map_err(|source| TreeError::Read {
                    path: current.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            entries.push(path);
        }
    }
    entries.sort();
    Ok(entries)
}

/// The makefile's lines with backslash continuations joined and leading tabs removed.
fn statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        match line.strip_suffix('\\') {
            Some(start) => {
                current.push_str(start);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                statements.push(std::mem::take(&mut current));
            }
        }
    }
    statements
}

fn read(path: &Path) -> Result<String, TreeError> {
    fs::read_to_string(path).map_err(|source| TreeError::Read {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_lines_are_read_across_continuations() {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().join("buildroot/package/burnstation");
        fs::create_dir_all(&package).unwrap();
        fs::write(
            package.join("burnstation.mk"),
            "define X\n\t$(INSTALL) -D -m 0644 $(BURNSTATION_PKGDIR)/a.service \\\n\t\t$(TARGET_DIR)/usr/lib/systemd/system/a.service\n\t$(INSTALL) -D -m 0755 $(@D)/station/x $(BINARIES_DIR)/x\nendef\n",
        )
        .unwrap();
        let installs = ImageTree::new(dir.path()).package_installs().unwrap();
        assert_eq!(
            installs,
            [
                Install {
                    source: package.join("a.service"),
                    dest: PathBuf::from("usr/lib/systemd/system/a.service"),
                    mode: 0o644,
                    into: Destination::Target,
                },
                Install {
                    source: dir.path().join("station/x"),
                    dest: PathBuf::from("x"),
                    mode: 0o755,
                    into: Destination::Images,
                },
            ]
        );
    }

    #[test]
    fn an_install_line_of_another_form_is_an_error_not_a_silent_gap() {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().join("buildroot/package/burnstation");
        fs::create_dir_all(&package).unwrap();
        fs::write(
            package.join("burnstation.mk"),
            "\t$(INSTALL) -m 0644 $(BURNSTATION_PKGDIR)/a $(TARGET_DIR)/a\n",
        )
        .unwrap();
        let err = ImageTree::new(dir.path()).package_installs().unwrap_err();
        assert!(err.to_string().contains("not `$(INSTALL) -D -m"), "{err}");
    }
}
