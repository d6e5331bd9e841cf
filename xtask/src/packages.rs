//! System packages: find out what is missing and install it, or say exactly what to install.
//!
//! The rule (README, "Set-up"): on Debian, run as root, xtask installs what a task needs with
//! apt-get; anywhere else it stops and prints the one command that would install it.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// What building the workspace needs: a C toolchain for `-sys` crates, and the headers of
/// libudev (drive discovery) and libusb (USB identity and reset of burners).
pub const BUILD: &[&str] = &[
    "gcc",
    "libc6-dev",
    "pkg-config",
    "libudev-dev",
    "libusb-1.0-0-dev",
];

/// What the daemon's demo needs beyond the build: the real rsync over ssh to a local sshd.
pub const DEMO: &[&str] = &["rsync", "openssh-server", "openssh-client"];

/// What the tests need beyond the build: the independent ISO readers every image is checked
/// against, the emulated burner (tgt + QEMU) of the system tests, and the OpenSSH server and
/// rsync the sync tests copy from.
pub const TEST: &[&str] = &[
    "xorriso",
    "genisoimage",
    "libarchive-tools",
    "p7zip-full",
    "tgt",
    "qemu-system-x86",
    "qemu-block-extra",
    "busybox-static",
    "cpio",
    "kmod",
    "e2fsprogs",
    // Debian 13 and later ship .ko.xz kernel modules; the guest build unpacks them.
    "xz-utils",
    // ssh-keygen: the box key's fingerprint on the display is checked against OpenSSH's;
    // zbarimg reads the key's QR code back off the drawn screen. The sync tests run the
    // real rsync and ssh against a private sshd on loopback.
    "openssh-client",
    "zbar-tools",
    "openssh-server",
    "rsync",
    // The image's BR2_EXTERNAL tree: its scripts, and its card layout made and read back.
    "shellcheck",
    "genimage",
    "dosfstools",
    "mtools",
    "squashfs-tools",
    "fdisk",
    // The systemd guest: a Debian root filesystem, as a squashfs.
    "mmdebstrap",
    "squashfs-tools-ng",
];

/// What the benchmarks compare against, `time` (GNU), which reports a child's peak RSS, and
/// the demo's backup server (rsync over ssh to a local sshd), which `bench daemon` syncs from.
pub const BENCH: &[&str] = &[
    "genisoimage",
    "xorriso",
    "time",
    "rsync",
    "openssh-server",
    "openssh-client",
];

/// What `cargo xtask buildroot-check` needs: buildroot's Kconfig (make, a C compiler) and
/// its `utils/check-package`, a Debian python with libmagic and flake8, and shellcheck.
pub const BUILDROOT_CHECK: &[&str] = &[
    "make",
    "gcc",
    "python3",
    "python3-magic",
    "python3-flake8",
    "shellcheck",
];

/// What buildroot needs on the build machine to build an image (its manual's "System
/// requirements"), and git to fetch the pinned release.
pub const IMAGE: &[&str] = &[
    "build-essential",
    "file",
    "bc",
    "bzip2",
    "cpio",
    "diffutils",
    "findutils",
    "gawk",
    "git",
    "gzip",
    "patch",
    "perl",
    "python3",
    "rsync",
    "sed",
    "tar",
    "unzip",
    "wget",
    "which",
];

/// Fails, naming the command to run, when a package in `wanted` is missing.
pub fn check(wanted: &[&str]) -> Result<()> {
    if !is_debian() {
        return Ok(());
    }
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "missing system packages; install them with:\n    sudo apt-get install -y {}",
        missing.join(" ")
    )
}

/// Makes sure every package in `wanted` is installed, installing the missing ones when that
/// is possible (Debian, root) and failing with the command to run otherwise.
pub fn ensure(wanted: &[&str]) -> Result<()> {
    if !is_debian() {
        bail!(
            "this machine has no dpkg, so xtask cannot check its packages; install the \
             equivalents of these Debian packages and try again: {}",
            wanted.join(" ")
        );
    }
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "missing system packages; install them with:\n    sudo apt-get install -y {}",
            missing.join(" ")
        );
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    run_apt(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    run_apt(&args)?;
    let still: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if !still.is_empty() {
        bail!(
            "apt-get ran but these packages are still missing: {}",
            still.join(" ")
        );
    }
    Ok(())
}

fn run_apt(args: &[&str]) -> Result<()> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("could not run apt-get")?;
    if !status.success() {
        bail!("`apt-get {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn is_debian() -> bool {
    Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Abbrev}", package])
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"ii"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
