//! The host directory a guest sees as `/share` (virtio-9p): what goes in, what comes out.
//!
//! Layout (the guest's `/init` relies on it):
//! - `scenario.sh`: the script the guest runs with busybox `sh`, in `/tmp`;
//! - `files/NAME`: the files and trees the test passes in, by their name in the guest. The
//!   guest has `/share/files` first on `PATH` and in `$FILES`, so a binary passed as
//!   `burnstation` runs as `burnstation`;
//! - `sysroot/`: the shared libraries (and the dynamic loader) of every ELF binary passed
//!   in, at their host paths, found with `ldd`; `/init` copies them onto `/` first;
//! - `out/`: `stdout`, `stderr` and `exit_code` of the scenario, written by `/init`.
//!
//! Binaries travel this way, not in the initramfs, so rebuilding one never rebuilds the
//! guest. Files are copied (`cp -a`, keeping modes, times and links; reflinked where the
//! filesystem can), never linked, so nothing a guest does reaches the test's own files.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::tools::{self, CP, CommandError, LDD, MissingTool};

/// A share directory being filled for one guest run.
#[derive(Debug)]
pub struct Share {
    root: PathBuf,
}

/// What the guest's scenario left in `out/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioOutput {
    /// The scenario's exit code, or `None` when the guest never wrote one (it crashed, hung,
    /// or could not mount the share).
    pub exit_code: Option<i32>,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

/// Why the share could not be prepared or read.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// A tool is not installed.
    #[error(transparent)]
    Missing(#[from] MissingTool),
    /// A guest name that would land outside `files/`.
    #[error(
        "{0:?} cannot be a name in the guest: use a relative path without `..` (like `tree` \
         or `bin/burnstation`)"
    )]
    BadName(String),
    /// A file to pass in does not exist.
    #[error("{0} does not exist, so it cannot be passed to the guest")]
    NoSuchFile(PathBuf),
    /// A binary needs a library `ldd` cannot find on the host either.
    #[error(
        "{binary} needs {library}, which ldd cannot find on the host; the guest would not run it"
    )]
    LibraryNotFound {
        /// The binary.
        binary: PathBuf,
        /// The library.
        library: String,
    },
    /// Copying or listing failed.
    #[error("could not {what}: {source}")]
    Command {
        /// The step.
        what: &'static str,
        /// The command's failure.
        source: CommandError,
    },
    /// A file could not be written or read.
    #[error("could not {what} {path}: {source}")]
    Io {
        /// What the harness was doing.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
}

impl Share {
    /// Creates the layout in `root` (which must not exist yet) with `script` as the scenario.
    pub fn create(root: &Path, script: &str) -> Result<Share, ShareError> {
        let share = Share {
            root: root.to_path_buf(),
        };
        for dir in [share.files(), share.sysroot(), share.out()] {
            fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
        }
        let path = root.join("scenario.sh");
        fs::write(&path, script).map_err(io_error("write", &path))?;
        Ok(share)
    }

    /// The directory QEMU exports.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Copies `host` (a file or a whole tree; a symlink as what it points to) to
    /// `files/<guest_name>`; for an ELF binary, also its shared libraries to `sysroot/`.
    pub fn add(&self, host: &Path, guest_name: &str) -> Result<(), ShareError> {
        let relative = checked_name(guest_name)?;
        if fs::symlink_metadata(host).is_err() {
            return Err(ShareError::NoSuchFile(host.to_path_buf()));
        }
        let target = self.files().join(relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_error("create", parent))?;
        }
        let mut copy = CP.command()?;
        // -H: a symlink given by the test (/bin/sh -> dash) is copied as its target; links
        // inside a tree stay links.
        copy.args(["-a", "-H", "--reflink=auto", "--"])
            .arg(host)
            .arg(&target);
        tools::run(&mut copy).map_err(|source| ShareError::Command {
            what: "copy a file into the guest's share",
            source,
        })?;
        if is_elf(host) {
            for library in libraries_of(host)? {
                self.add_library(&library)?;
            }
        }
        Ok(())
    }

    /// What the scenario left behind.
    pub fn output(&self) -> Result<ScenarioOutput, ShareError> {
        let out = self.out();
        let text = |name: &str| -> Result<String, ShareError> {
            let path = out.join(name);
            match fs::read(&path) {
                Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
                Err(source) => Err(ShareError::Io {
                    what: "read",
                    path,
                    source,
                }),
            }
        };
        Ok(ScenarioOutput {
            exit_code: text("exit_code")?.trim().parse().ok(),
            stdout: text("stdout")?,
            stderr: text("stderr")?,
        })
    }

    fn add_library(&self, library: &Path) -> Result<(), ShareError> {
        let relative = library.strip_prefix("/").unwrap_or(library);
        let target = self.sysroot().join(relative);
        if target.exists() {
            return Ok(());
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_error("create", parent))?;
        }
        // fs::copy follows the symlinks (libc.so.6 -> libc-2.36.so) to the real file.
        fs::copy(library, &target).map_err(io_error("copy the library", library))?;
        Ok(())
    }

    fn files(&self) -> PathBuf {
        self.root.join("files")
    }

    fn sysroot(&self) -> PathBuf {
        self.root.join("sysroot")
    }

    fn out(&self) -> PathBuf {
        self.root.join("out")
    }
}

/// `name` as a path that stays inside `files/`.
fn checked_name(name: &str) -> Result<&Path, ShareError> {
    let path = Path::new(name);
    let normal = path
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    if name.is_empty() || !normal {
        return Err(ShareError::BadName(name.to_string()));
    }
    Ok(path)
}

fn is_elf(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    path.is_file()
        && fs::File::open(path)
            .and_then(|mut file| file.read_exact(&mut magic))
            .is_ok()
        && magic == *b"\x7fELF"
}

/// The shared libraries and dynamic loader `binary` needs, by host path (none when it is
/// statically linked).
fn libraries_of(binary: &Path) -> Result<Vec<PathBuf>, ShareError> {
    let mut ldd = LDD.command()?;
    ldd.arg(binary);
    match tools::run(&mut ldd) {
        Ok(output) => parse_ldd(&String::from_utf8_lossy(&output.stdout)).map_err(|library| {
            ShareError::LibraryNotFound {
                binary: binary.to_path_buf(),
                library,
            }
        }),
        // ldd exits 1 with "not a dynamic executable" for a static binary.
        Err(CommandError::Failed(failed))
            if (failed.stdout.contains("not a dynamic executable")
                || failed.stderr.contains("not a dynamic executable")) =>
        {
            Ok(Vec::new())
        }
        Err(source) => Err(ShareError::Command {
            what: "list a binary's shared libraries",
            source,
        }),
    }
}

/// Library paths in `ldd` output; the name of the first library it could not find as the
/// error. The vDSO is the kernel's and has no file.
fn parse_ldd(output: &str) -> Result<Vec<PathBuf>, String> {
    let mut libraries = Vec::new();
    for line in output.lines().map(str::trim) {
        if let Some((name, found)) = line.split_once("=>") {
            let found = found.trim();
            if found.starts_with("not found") {
                return Err(name.trim().to_string());
            }
            if let Some(path) = found
                .split_whitespace()
                .next()
                .filter(|p| p.starts_with('/'))
            {
                libraries.push(PathBuf::from(path));
            }
        } else if line.starts_with('/') {
            libraries.extend(line.split_whitespace().next().map(PathBuf::from));
        }
    }
    Ok(libraries)
}

fn io_error(what: &'static str, path: &Path) -> impl Fn(std::io::Error) -> ShareError {
    let path = path.to_path_buf();
    move |source| ShareError::Io {
        what,
        path: path.clone(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_gives_libraries_and_loader_but_not_the_vdso() {
        let output = "\tlinux-vdso.so.1 (0x00007ffc4b1f2000)\n\
                      \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f0e5c5a0000)\n\
                      \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0e5c3bf000)\n\
                      \t/lib64/ld-linux-x86-64.so.2 (0x00007f0e5c5e9000)\n";
        assert_eq!(
            parse_ldd(output).unwrap(),
            [
                PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
            ]
        );
    }

    #[test]
    fn a_library_ldd_cannot_find_is_named() {
        let output =
            "\tlibudev.so.1 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n";
        assert_eq!(parse_ldd(output).unwrap_err(), "libudev.so.1");
    }

    #[test]
    fn guest_names_stay_inside_the_share() {
        assert!(checked_name("burnstation").is_ok());
        assert!(checked_name("bin/burnstation").is_ok());
        for bad in ["", "/etc/passwd", "../escape", "a/../../b", "."] {
            assert!(
                matches!(checked_name(bad), Err(ShareError::BadName(_))),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn a_binary_brings_its_libraries_and_a_tree_keeps_its_shape() {
        let dir = tempfile::tempdir().unwrap();
        let share = Share::create(&dir.path().join("share"), "true\n").unwrap();
        // /bin/sh is dynamically linked on Debian (dash, against libc).
        share.add(Path::new("/bin/sh"), "bin/sh").unwrap();
        assert!(dir.path().join("share/files/bin/sh").is_file());
        let loader = dir.path().join("share/sysroot/lib64/ld-linux-x86-64.so.2");
        assert!(
            loader.is_file(),
            "the dynamic loader must travel with the binary"
        );

        let tree = dir.path().join("tree");
        fs::create_dir_all(tree.join("sub dir")).unwrap();
        fs::write(tree.join("sub dir/a file"), b"contents").unwrap();
        std::os::unix::fs::symlink("sub dir/a file", tree.join("link")).unwrap();
        share.add(&tree, "tree").unwrap();
        let copied = dir.path().join("share/files/tree");
        assert_eq!(
            fs::read(copied.join("sub dir/a file")).unwrap(),
            b"contents"
        );
        assert_eq!(
            fs::read_link(copied.join("link")).unwrap(),
            Path::new("sub dir/a file")
        );
    }

    #[test]
    fn a_guest_that_wrote_nothing_has_no_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let share = Share::create(&dir.path().join("share"), "true\n").unwrap();
        let output = share.output().unwrap();
        assert_eq!(output.exit_code, None);
        fs::write(dir.path().join("share/out/exit_code"), "3\n").unwrap();
        fs::write(dir.path().join("share/out/stderr"), "oops\n").unwrap();
        let output = share.output().unwrap();
        assert_eq!(output.exit_code, Some(3));
        assert_eq!(output.stderr, "oops\n");
    }
}
