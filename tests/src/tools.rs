//! The host tools the system tests drive, and how to run them.
//!
//! Every external program the harness needs is named here once, with the Debian package that
//! provides it, so a missing tool fails the test with the one command that fixes it (never a
//! skip, never a bare "No such file or directory"). [`run`] runs a command and, when it fails,
//! keeps what it printed so the error shows why.
//!
//! This module only finds and runs programs; it decides nothing about guests or drives.

use std::env;
use std::ffi::OsStr;
use std::fmt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An external program and the Debian package that provides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// The program's file name, looked up on `PATH` (and in the sbin directories).
    pub program: &'static str,
    /// The Debian package to install when it is missing.
    pub package: &'static str,
}

/// The iSCSI target daemon that emulates the burner.
pub const TGTD: Tool = Tool {
    program: "tgtd",
    package: "tgt",
};
/// The control client of `tgtd`.
pub const TGTADM: Tool = Tool {
    program: "tgtadm",
    package: "tgt",
};
/// The emulator the guest runs in. Its iSCSI block driver is in `qemu-block-extra`.
pub const QEMU: Tool = Tool {
    program: "qemu-system-x86_64",
    package: "qemu-system-x86",
};
/// The guest's whole userland: one statically linked binary.
pub const BUSYBOX: Tool = Tool {
    program: "busybox",
    package: "busybox-static",
};
/// Finds the guest kernel package and downloads it.
pub const APT_GET: Tool = Tool {
    program: "apt-get",
    package: "apt",
};
/// Tells which kernel package `linux-image-amd64` currently points at.
pub const APT_CACHE: Tool = Tool {
    program: "apt-cache",
    package: "apt",
};
/// Unpacks the kernel package.
pub const DPKG_DEB: Tool = Tool {
    program: "dpkg-deb",
    package: "dpkg",
};
/// Writes the `modules.dep` the kernel package does not ship (its postinst normally does).
pub const DEPMOD: Tool = Tool {
    program: "depmod",
    package: "kmod",
};
/// Compresses the initramfs.
pub const GZIP: Tool = Tool {
    program: "gzip",
    package: "gzip",
};
/// Lists the shared libraries a host binary needs in the guest.
pub const LDD: Tool = Tool {
    program: "ldd",
    package: "libc-bin",
};
/// Copies trees into the guest's share with modes, times and links intact.
pub const CP: Tool = Tool {
    program: "cp",
    package: "coreutils",
};
/// Builds test images and reads what landed on the emulated disc.
pub const XORRISO: Tool = Tool {
    program: "xorriso",
    package: "xorriso",
};
/// A second, independent reader of what landed on the emulated disc.
pub const ISOINFO: Tool = Tool {
    program: "isoinfo",
    package: "genisoimage",
};
/// A third, independent reader (libarchive) of what landed on the emulated disc.
pub const BSDTAR: Tool = Tool {
    program: "bsdtar",
    package: "libarchive-tools",
};
/// Checks a disc's `SHA256SUMS` the way a person restoring it would.
pub const SHA256SUM: Tool = Tool {
    program: "sha256sum",
    package: "coreutils",
};
/// The OpenSSH server the sync tests copy from.
pub const SSHD: Tool = Tool {
    program: "sshd",
    package: "openssh-server",
};
/// The OpenSSH client (the sync runs it under rsync; the harness asks it for its version).
pub const SSH: Tool = Tool {
    program: "ssh",
    package: "openssh-client",
};
/// Makes test keys (the test sshd's host key, its client's, the box's), and reads a key's
/// fingerprint.
pub const SSH_KEYGEN: Tool = Tool {
    program: "ssh-keygen",
    package: "openssh-client",
};
/// What the station syncs with, on both ends of the test connection.
pub const RSYNC: Tool = Tool {
    program: "rsync",
    package: "rsync",
};
/// Decompresses `.ko.xz` modules (Debian 13 and later compress them).
pub const XZ: Tool = Tool {
    program: "xz",
    package: "xz-utils",
};
/// Decompresses `.ko.zst` modules.
pub const ZSTD: Tool = Tool {
    program: "zstd",
    package: "zstd",
};

/// Checks the image's shell scripts.
pub const SHELLCHECK: Tool = Tool {
    program: "shellcheck",
    package: "shellcheck",
};
/// Makes the card image from the board's genimage configuration (as buildroot's
/// post-image script does).
pub const GENIMAGE: Tool = Tool {
    program: "genimage",
    package: "genimage",
};
/// Makes the FAT boot partition (genimage runs it).
pub const MKFS_VFAT: Tool = Tool {
    program: "mkfs.vfat",
    package: "dosfstools",
};
/// Copies files into the FAT boot partition (genimage runs it).
pub const MCOPY: Tool = Tool {
    program: "mcopy",
    package: "mtools",
};
/// Reads files back from a FAT partition, without mounting it.
pub const MTYPE: Tool = Tool {
    program: "mtype",
    package: "mtools",
};
/// Lists a FAT partition's files, without mounting it.
pub const MDIR: Tool = Tool {
    program: "mdir",
    package: "mtools",
};
/// Makes the guest's squashfs root filesystem.
pub const MKSQUASHFS: Tool = Tool {
    program: "mksquashfs",
    package: "squashfs-tools",
};
/// Assembles the systemd guest's Debian root filesystem.
pub const MMDEBSTRAP: Tool = Tool {
    program: "mmdebstrap",
    package: "mmdebstrap",
};
/// Adds the station's binary to the systemd guest's root filesystem archive.
pub const TAR: Tool = Tool {
    program: "tar",
    package: "tar",
};
/// Makes a squashfs from a tar archive, keeping its owners, without root.
pub const TAR2SQFS: Tool = Tool {
    program: "tar2sqfs",
    package: "squashfs-tools-ng",
};
/// Reads a card image's partition table, independently of genimage.
pub const SFDISK: Tool = Tool {
    program: "sfdisk",
    package: "fdisk",
};
/// Makes the data partition (genimage runs it).
pub const MKE2FS: Tool = Tool {
    program: "mke2fs",
    package: "e2fsprogs",
};
/// Reads an ext4 filesystem's superblock (its label, its size).
pub const DUMPE2FS: Tool = Tool {
    program: "dumpe2fs",
    package: "e2fsprogs",
};
/// Reads files from an ext4 filesystem without mounting it.
pub const DEBUGFS: Tool = Tool {
    program: "debugfs",
    package: "e2fsprogs",
};

/// A tool that is not installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} is not installed: install it with `apt-get install {}` (cargo xtask test installs it)",
    tool.program,
    tool.package
)]
pub struct MissingTool {
    /// The tool that was looked for.
    pub tool: Tool,
}

/// A command that could not be started or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The program is not installed.
    #[error(transparent)]
    Missing(#[from] MissingTool),
    /// The program exists but could not be started.
    #[error("could not start `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why it could not start.
        source: std::io::Error,
    },
    /// The program ran and failed.
    #[error(transparent)]
    Failed(Box<FailedCommand>),
}

/// A command that ran and did not succeed, with what it printed.
#[derive(Debug, thiserror::Error)]
#[error("`{command}` failed ({status}){}", output_excerpt(.stdout, .stderr))]
pub struct FailedCommand {
    /// The command line.
    pub command: String,
    /// How it ended.
    pub status: std::process::ExitStatus,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.program)
    }
}

impl Tool {
    /// The tool's full path, or why it cannot be used.
    pub fn find(self) -> Result<PathBuf, MissingTool> {
        find_in(self, &search_path())
    }

    /// A [`Command`] for the tool, found first so a missing tool gives a clear error.
    pub fn command(self) -> Result<Command, MissingTool> {
        Ok(Command::new(self.find()?))
    }
}

/// Fails with [`MissingTool`] for the first of `tools` that is not installed.
pub fn require_all(tools: &[Tool]) -> Result<(), MissingTool> {
    tools.iter().try_for_each(|tool| tool.find().map(drop))
}

/// True when this process runs as root. `/proc/self` belongs to the effective user.
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

/// Runs `command` to completion, capturing its output; a non-zero exit is an error that
/// carries the command line and what it printed.
pub fn run(command: &mut Command) -> Result<Output, CommandError> {
    let line = command_line(command);
    let output = command.output().map_err(|source| CommandError::Spawn {
        command: line.clone(),
        source,
    })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(CommandError::Failed(Box::new(FailedCommand {
            command: line,
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })))
    }
}

/// Makes the kernel SIGKILL the process `command` starts when the thread that started it
/// ends. The guards (`Tgtd`, `Qemu`) stop their process on every path Rust sees, panics
/// included; this covers the one it cannot: the test runner itself killed (a CI timeout,
/// SIGKILL), where no `Drop` runs. So a guard must live and die on the thread that made it.
pub fn die_with_parent(command: &mut Command) -> &mut Command {
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it makes one prctl system call, allocates
    // nothing, takes no lock, and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        })
    }
}

/// A command as a person would type it, for error messages.
pub fn command_line(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(quote));
    words.join(" ")
}

/// A finished command's status, stdout and stderr, for a failing test's message.
pub fn describe_output(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn find_in(tool: Tool, dirs: &[PathBuf]) -> Result<PathBuf, MissingTool> {
    dirs.iter()
        .map(|dir| dir.join(tool.program))
        .find(|candidate| is_executable(candidate))
        .ok_or(MissingTool { tool })
}

/// `PATH`, then the sbin directories a non-root `PATH` often lacks (tgtd lives there).
fn search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect())
        .unwrap_or_default();
    for extra in ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let extra = PathBuf::from(extra);
        if !dirs.contains(&extra) {
            dirs.push(extra);
        }
    }
    dirs
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn output_excerpt(stdout: &str, stderr: &str) -> String {
    let mut excerpt = String::new();
    for (name, text) in [("stdout", stdout), ("stderr", stderr)] {
        if !text.trim().is_empty() {
            excerpt.push_str(&format!(
                "\n--- {name} (last 20 lines) ---\n{}",
                tail(text, 20)
            ));
        }
    }
    excerpt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_names_the_package_to_install() {
        let tool = Tool {
            program: "no-such-program-anywhere",
            package: "some-package",
        };
        let err = find_in(tool, &[PathBuf::from("/nonexistent")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no-such-program-anywhere is not installed: install it with \
             `apt-get install some-package` (cargo xtask test installs it)"
        );
    }

    #[test]
    fn a_present_tool_is_found_by_full_path() {
        let sh = find_in(
            Tool {
                program: "sh",
                package: "dash",
            },
            &[PathBuf::from("/nonexistent"), PathBuf::from("/bin")],
        )
        .unwrap();
        assert_eq!(sh, PathBuf::from("/bin/sh"));
    }

    #[test]
    fn a_failed_command_shows_its_line_status_and_output() {
        let err = run(Command::new("sh").args(["-c", "echo out; echo 'it broke' >&2; exit 3"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("`sh -c 'echo out; echo '\\''it broke'\\'' >&2; exit 3'` failed"),
            "{err}"
        );
        assert!(err.contains("exit status: 3"), "{err}");
        assert!(
            err.contains("--- stderr (last 20 lines) ---\nit broke"),
            "{err}"
        );
        assert!(err.contains("--- stdout (last 20 lines) ---\nout"), "{err}");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }
}
