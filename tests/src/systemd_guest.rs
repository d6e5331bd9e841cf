//! The systemd guest: the image's userland on a Debian root filesystem, booted from a card
//! laid out as the image's, so the station's units and scripts run as they do on a box.
//!
//! Buildroot cannot download sources here, so the root filesystem is assembled from
//! Debian's packages (systemd, udev, openssh, rsync, e2fsprogs, fdisk, ...) by `mmdebstrap`,
//! with the BR2_EXTERNAL tree's own files in it: the package's install lines and the board
//! overlay, read by [`ImageTree`], the board's `post-build.sh` run on it, the package's user
//! made, and the tree's presets applied. Then `customize.sh` does what buildroot does and
//! Debian does not: buildroot's sshd unit instead of Debian's, no host keys in `/etc`, an empty
//! machine ID, `/var` on a tmpfs filled from a factory copy. The test's own additions are
//! `systest.service` (runs the scenario once the system is up, then powers off),
//! `share.mount`, and `systest-probe.service`: the station's unit with its `ExecStart`
//! replaced by a probe script, so that a test sees the world the daemon will see (its user,
//! groups, sandbox, the burner) before the daemon exists.
//!
//! Each boot gets a fresh card, as a flashed one: [`SystemdGuest::make_card`] puts the test's
//! `burnstation` binary into `/usr/bin` of a squashfs of that root filesystem, writes the
//! test's settings file, runs the QEMU board's post-image scripts (genimage, the image's
//! partition layout and disk signature) and makes the card larger than its partitions, so
//! the data partition has room to grow. The Debian kernel has as modules what the image's
//! kernel builds in; the initramfs (`systemd_guest/init.sh`) loads them and mounts the
//! card's root partition, as the image's kernel does.
//!
//! Cached in `target/systest-cache/`: `systemd-initramfs-<key>/` (like the busybox guest)
//! and `systemd-rootfs-<key>/rootfs.tar`, keyed on the package list, the Debian release,
//! and every byte that goes into the staged tree; mmdebstrap needs `deb.debian.org` to build
//! it, and root or working user namespaces.
//!
//! This module builds files; booting is `EmulatedBurner::boot(..).systemd(..)`.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::card::{self, CardError};
use crate::guest::{self, CacheLock, GUEST_MODULES, GuestError, GuestImage, GuestSpec, sha256_hex};
use crate::image_tree::{ImageTree, TreeError, entries_under};
use crate::tools::{self, CommandError, MMDEBSTRAP, MissingTool, TAR, TAR2SQFS};

/// The modules the systemd guest's initramfs loads beside the busybox guest's (the burner,
/// the share): what the image's kernel builds in and Debian's has as modules: the card
/// (virtio-blk), its filesystems (squashfs, ext4 and the crc32c it asks for by name, vfat
/// with the code pages fstab's default options need, overlayfs for /var), the watchdog, and
/// autofs for systemd.
pub const SYSTEMD_EXTRA_MODULES: &[&str] = &[
    "virtio_blk",
    "squashfs",
    "crc32c_generic",
    "ext4",
    "vfat",
    "nls_cp437",
    "nls_ascii",
    "overlay",
    "i6300esb",
    "autofs4",
];

/// The systemd guest's kernel and initramfs.
pub const SYSTEMD_GUEST: GuestSpec = GuestSpec {
    prefix: "systemd-initramfs",
    modules: &[GUEST_MODULES, SYSTEMD_EXTRA_MODULES],
    init_script: include_str!("systemd_guest/init.sh"),
};

/// Kernel arguments of the systemd guest: as the image's `cmdline.txt` (the root is found
/// by the initramfs), with systemd's progress on the console.
pub const KERNEL_ARGS: &str =
    "root=PARTUUID=6275726e-02 rootfstype=squashfs ro net.ifnames=0 systemd.show_status=1";

/// The Debian packages of the root filesystem, beside the essential ones: what the image's
/// defconfigs put on it (systemd with udev and timesyncd, openssh, rsync, e2fsprogs, fdisk
/// and partx, libudev and libusb for the daemon), and useradd.
pub const ROOTFS_PACKAGES: &[&str] = &[
    "systemd",
    "systemd-sysv",
    "systemd-timesyncd",
    "udev",
    "dbus",
    "kmod",
    "mount",
    "passwd",
    "e2fsprogs",
    "fdisk",
    "openssh-client",
    "openssh-server",
    "rsync",
    "libudev1",
    "libusb-1.0-0",
];

/// Where the packages come from.
pub const MIRROR: &str = "http://deb.debian.org/debian";

/// Version of the steps below: bump it when they change what ends up in the root filesystem.
const ROOTFS_FORMAT: &str = "burnstation systemd guest rootfs, format 1";

/// How large a fresh card is: larger than its partitions (about 200 MiB), so the first
/// boot grows the data partition.
pub const CARD_SIZE: u64 = 1024 * 1024 * 1024;

/// The test's own files in the guest, `(path in the guest, mode, contents)`.
const SCAFFOLDING: &[(&str, u32, &str)] = &[
    (
        "usr/libexec/systest/run-scenario",
        0o755,
        include_str!("systemd_guest/run-scenario"),
    ),
    (
        "usr/libexec/systest/probe",
        0o755,
        include_str!("systemd_guest/probe"),
    ),
    (
        "usr/lib/systemd/system/systest.service",
        0o644,
        include_str!("systemd_guest/systest.service"),
    ),
    (
        "usr/lib/systemd/system/share.mount",
        0o644,
        include_str!("systemd_guest/share.mount"),
    ),
    (
        "usr/lib/systemd/system/var.mount",
        0o644,
        include_str!("systemd_guest/var.mount"),
    ),
    (
        "usr/lib/systemd/system/prepare-var-overlay.service",
        0o644,
        include_str!("systemd_guest/prepare-var-overlay.service"),
    ),
    (
        "usr/lib/systemd/system/sshd.service",
        0o644,
        include_str!("systemd_guest/sshd.service"),
    ),
];

/// The hook that finishes the root filesystem (see the module doc).
const CUSTOMIZE: &str = include_str!("systemd_guest/customize.sh");

/// Where the probe unit writes what it found, for the scenario to read.
pub const PROBE_OUTPUT: &str = "/run/systest-probe.out";

/// A built systemd guest: what each boot's card is made from.
#[derive(Debug, Clone)]
pub struct SystemdGuest {
    /// The kernel and the initramfs that mounts the card.
    pub boot: GuestImage,
    /// The root filesystem, as a tar archive.
    pub rootfs: PathBuf,
    tree: ImageTree,
}

/// Why the systemd guest could not be built or its card made.
#[derive(Debug, thiserror::Error)]
pub enum SystemdGuestError {
    /// A tool is missing.
    #[error(transparent)]
    Missing(#[from] MissingTool),
    /// The kernel and initramfs could not be built.
    #[error(transparent)]
    Guest(#[from] GuestError),
    /// The BR2_EXTERNAL tree could not be read.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The card could not be made.
    #[error(transparent)]
    Card(#[from] CardError),
    /// A step failed.
    #[error(
        "could not {what}{}: {source}",
        if *.what == "assemble the root filesystem with mmdebstrap" {
            " (it needs deb.debian.org, and root or user namespaces with subordinate ids)"
        } else {
            ""
        }
    )]
    Step {
        /// The step.
        what: &'static str,
        /// The command's failure.
        source: CommandError,
    },
    /// The station's unit is not as the probe unit expects it.
    #[error("cannot make the probe unit from burnstation.service: {0}")]
    Unit(String),
    /// A file could not be read or written.
    #[error("could not {what} {path}: {source}")]
    Io {
        /// What the harness was doing.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl SystemdGuest {
    /// The systemd guest of this workspace's tree, from `cache` or freshly built into it.
    pub fn build(cache: &Path) -> Result<SystemdGuest, SystemdGuestError> {
        let boot = guest::guest_image_of(cache, &SYSTEMD_GUEST)?;
        let tree = ImageTree::of_this_workspace();
        let rootfs = rootfs(cache, &tree)?;
        Ok(SystemdGuest { boot, rootfs, tree })
    }

    /// A fresh card in `dir` (`dir/card.img`): this guest's root filesystem with `binary` as
    /// `/usr/bin/burnstation`, and `settings` as the boot partition's `burnstation.toml`.
    pub fn make_card(
        &self,
        dir: &Path,
        settings: &str,
        binary: &Path,
    ) -> Result<PathBuf, SystemdGuestError> {
        tools::require_all(&[TAR, TAR2SQFS])?;
        let images = dir.join("images");
        let staged_binary = dir.join("binary");
        create_dir(&images)?;
        create_dir(&staged_binary.join("usr/bin"))?;
        let root_tar = dir.join("rootfs.tar");
        fs::copy(&self.rootfs, &root_tar)
            .map_err(io_error("copy the root filesystem to", &root_tar))?;
        let in_usr_bin = staged_binary.join("usr/bin/burnstation");
        fs::copy(binary, &in_usr_bin)
            .map_err(io_error("copy the station's binary to", &in_usr_bin))?;
        set_mode(&in_usr_bin, 0o755)?;
        let mut append = TAR.command()?;
        append
            .arg("--append")
            .arg("--file")
            .arg(&root_tar)
            .args(["--owner=0", "--group=0", "--numeric-owner", "-C"])
            .arg(&staged_binary)
            .arg("./usr/bin/burnstation");
        tools::run(&mut append).map_err(|source| SystemdGuestError::Step {
            what: "add the station's binary to the root filesystem",
            source,
        })?;
        let squashfs = images.join("rootfs.squashfs");
        let tar = fs::File::open(&root_tar).map_err(io_error("open", &root_tar))?;
        let mut tar2sqfs = TAR2SQFS.command()?;
        // zstd as on the image, at the quickest level: the card is made for every boot.
        tar2sqfs
            .args(["--quiet", "--no-xattr", "--force", "--compressor", "zstd"])
            .args(["--comp-extra", "level=1"])
            .arg(&squashfs)
            .stdin(tar);
        tools::run(&mut tar2sqfs).map_err(|source| SystemdGuestError::Step {
            what: "make the squashfs root filesystem",
            source,
        })?;
        let _ = fs::remove_file(&root_tar);
        let settings_path = images.join("burnstation.toml");
        fs::write(&settings_path, settings).map_err(io_error("write", &settings_path))?;

        let build = dir.join("build");
        create_dir(&build)?;
        let scripts = self
            .tree
            .post_image_scripts("burnstation_qemu_aarch64_virt_defconfig")?;
        let made = card::make_card(&scripts, &images, &build)?;
        let card = dir.join("card.img");
        fs::rename(&made, &card).map_err(io_error("move the card to", &card))?;
        let file = fs::OpenOptions::new()
            .write(true)
            .open(&card)
            .map_err(io_error("open", &card))?;
        file.set_len(CARD_SIZE)
            .map_err(io_error("enlarge", &card))?;
        Ok(card)
    }
}

/// The root filesystem tar of `tree`, from `cache` or freshly assembled into it.
fn rootfs(cache: &Path, tree: &ImageTree) -> Result<PathBuf, SystemdGuestError> {
    tools::require_all(&[MMDEBSTRAP])?;
    create_dir(cache)?;
    let _lock = CacheLock::acquire(&cache.join("lock"))?;

    let scratch = tempfile::Builder::new()
        .prefix("rootfs-")
        .tempdir_in(cache)
        .map_err(io_error("make a build directory in", cache))?;
    let stage = scratch.path().join("stage");
    stage_tree(tree, &stage)?;
    let user = tree.package_user()?;
    let units = preset_units(tree)?;
    let suite = debian_suite();
    let inputs = format!(
        "{ROOTFS_FORMAT}\nsuite: {suite}\nmirror: {MIRROR}\npackages: {}\nuser: {} {}\nunits: {}\n\
         customize sha256: {}\nstage sha256: {}\n",
        ROOTFS_PACKAGES.join(","),
        user.name,
        user.groups.join(","),
        units.join(" "),
        sha256_hex(CUSTOMIZE.as_bytes()),
        tree_digest(&stage)?,
    );
    let dir = cache.join(format!(
        "systemd-rootfs-{}",
        &sha256_hex(inputs.as_bytes())[..16]
    ));
    let tar = dir.join("rootfs.tar");
    if tar.is_file() {
        return Ok(tar);
    }

    let customize = scratch.path().join("customize.sh");
    fs::write(&customize, CUSTOMIZE).map_err(io_error("write", &customize))?;
    let out = scratch.path().join("out");
    create_dir(&out)?;
    let mut hook = format!(
        "sh {} \"$1\" {} {}",
        customize.display(),
        user.name,
        user.groups.join(",")
    );
    for unit in &units {
        hook.push(' ');
        hook.push_str(unit);
    }
    let mut mmdebstrap = MMDEBSTRAP.command()?;
    mmdebstrap
        .args(["--quiet", "--variant=essential", "--components=main"])
        .arg(format!("--include={}", ROOTFS_PACKAGES.join(",")))
        .arg(format!("--customize-hook=sync-in {} /", stage.display()))
        .arg(format!("--customize-hook={hook}"))
        .arg(&suite)
        .arg(out.join("rootfs.tar"))
        .arg(MIRROR);
    tools::run(&mut mmdebstrap).map_err(|source| SystemdGuestError::Step {
        what: "assemble the root filesystem with mmdebstrap",
        source,
    })?;
    let described = out.join("inputs.txt");
    fs::write(&described, &inputs).map_err(io_error("write", &described))?;
    match fs::rename(&out, &dir) {
        Ok(()) => {}
        Err(_) if tar.is_file() => {}
        Err(source) => {
            return Err(SystemdGuestError::Io {
                what: "move the finished root filesystem to",
                path: dir,
                source,
            });
        }
    }
    guest::remove_stale(cache, "systemd-rootfs", &dir);
    Ok(tar)
}

/// Fills `stage` with what the root filesystem gets from the tree and from the test.
fn stage_tree(tree: &ImageTree, stage: &Path) -> Result<(), SystemdGuestError> {
    for (dest, source) in tree.root_files()? {
        let path = stage.join(&dest);
        card::place(&source, &path)?;
        let mode = tree
            .package_installs()?
            .into_iter()
            .find(|install| install.dest == dest)
            .map(|install| install.mode)
            .unwrap_or_else(|| {
                // Overlay files keep their mode, as buildroot's rsync of the overlay does.
                fs::metadata(&source).map_or(0o644, |meta| meta.permissions().mode() & 0o777)
            });
        set_mode(&path, mode)?;
    }
    for (dest, mode, contents) in SCAFFOLDING {
        let path = stage.join(dest);
        write_file(&path, contents.as_bytes())?;
        set_mode(&path, *mode)?;
    }
    let service = fs::read_to_string(tree.package_dir().join("burnstation.service")).map_err(
        io_error("read", &tree.package_dir().join("burnstation.service")),
    )?;
    let probe = stage.join("usr/lib/systemd/system/systest-probe.service");
    write_file(&probe, probe_unit(&service)?.as_bytes())?;
    create_dir(&stage.join("share"))?;
    // The board's post-build script, as buildroot runs it (mount points).
    let post_build = tree.external().join("board/common/post-build.sh");
    let mut run = Command::new("sh");
    run.arg(&post_build).env("TARGET_DIR", stage);
    tools::run(&mut run).map_err(|source| SystemdGuestError::Step {
        what: "run the board's post-build.sh",
        source,
    })?;
    Ok(())
}

/// The station's unit as a one-shot probe: the same user, groups, sandbox and runtime
/// directory, running the probe script instead of the daemon, its output to a file.
pub fn probe_unit(service: &str) -> Result<String, SystemdGuestError> {
    const DROPPED: &[&str] = &[
        "Type=",
        "NotifyAccess=",
        "ExecStart=",
        "Restart=",
        "RestartSec=",
        "WatchdogSec=",
        "StartLimitIntervalSec=",
    ];
    let mut unit = String::from(
        "# Generated by the system tests from burnstation.service: the station's unit, running\n\
         # /usr/libexec/systest/probe once instead of the daemon.\n",
    );
    let mut saw_service = false;
    for line in service.lines() {
        if line.starts_with('[') {
            if line == "[Install]" {
                break;
            }
            unit.push_str(line);
            unit.push('\n');
            if line == "[Service]" {
                saw_service = true;
                unit.push_str(&format!(
                    "Type=oneshot\nExecStart=/usr/libexec/systest/probe\n\
                     StandardOutput=truncate:{PROBE_OUTPUT}\nStandardError=inherit\n"
                ));
            }
            continue;
        }
        if line.starts_with('#') || DROPPED.iter().any(|key| line.starts_with(key)) {
            continue;
        }
        unit.push_str(line);
        unit.push('\n');
    }
    if !saw_service || !unit.contains("\nUser=") {
        return Err(SystemdGuestError::Unit(
            "it has no [Service] section with a User=".to_string(),
        ));
    }
    Ok(unit)
}

/// Every unit the tree's presets name.
fn preset_units(tree: &ImageTree) -> Result<Vec<String>, SystemdGuestError> {
    let mut units = Vec::new();
    for (dest, source) in tree.root_files()? {
        if !dest.starts_with("usr/lib/systemd/system-preset") {
            continue;
        }
        let text = fs::read_to_string(&source).map_err(io_error("read", &source))?;
        for line in text.lines() {
            if let Some(unit) = line
                .strip_prefix("enable ")
                .or_else(|| line.strip_prefix("disable "))
            {
                units.push(unit.trim().to_string());
            }
        }
    }
    Ok(units)
}

/// SHA-256 over everything in `dir`: each entry's path and mode, and each file's contents.
fn tree_digest(dir: &Path) -> Result<String, SystemdGuestError> {
    let mut all = Vec::new();
    for path in entries_under(dir)? {
        let meta = fs::metadata(&path).map_err(io_error("read", &path))?;
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        writeln!(
            all,
            "{} {:o}",
            relative.display(),
            meta.permissions().mode()
        )
        .expect("writing to a Vec cannot fail");
        if meta.is_file() {
            all.extend(fs::read(&path).map_err(io_error("read", &path))?);
        }
    }
    Ok(sha256_hex(&all))
}

/// The Debian release this machine runs (`VERSION_CODENAME`), so the guest's libraries are
/// those the test's binary was linked against.
fn debian_suite() -> String {
    fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("VERSION_CODENAME="))
                .map(|name| name.trim_matches('"').to_string())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "bookworm".to_string())
}

fn io_error(what: &'static str, path: &Path) -> impl Fn(std::io::Error) -> SystemdGuestError {
    let path = path.to_path_buf();
    move |source| SystemdGuestError::Io {
        what,
        path: path.clone(),
        source,
    }
}

fn create_dir(path: &Path) -> Result<(), SystemdGuestError> {
    fs::create_dir_all(path).map_err(io_error("create", path))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SystemdGuestError> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    fs::write(path, bytes).map_err(io_error("write", path))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), SystemdGuestError> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_error("chmod", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_unit_is_the_station_unit_running_once_without_restarts() {
        let service = "# comment\n[Unit]\nDescription=Burn station\nStartLimitIntervalSec=0\n\n\
                       [Service]\nType=notify\nNotifyAccess=main\nExecStart=/usr/bin/burnstation run\n\
                       User=burnstation\nRestart=always\nWatchdogSec=60s\nProtectSystem=strict\n\n\
                       [Install]\nWantedBy=multi-user.target\n";
        let probe = probe_unit(service).unwrap();
        assert!(
            probe.contains("[Unit]\nDescription=Burn station\n"),
            "{probe}"
        );
        assert!(
            probe.contains(
                "[Service]\nType=oneshot\nExecStart=/usr/libexec/systest/probe\n\
                 StandardOutput=truncate:/run/systest-probe.out\n"
            ),
            "{probe}"
        );
        for kept in ["User=burnstation", "ProtectSystem=strict"] {
            assert!(probe.contains(kept), "{kept}: {probe}");
        }
        for dropped in [
            "notify",
            "Restart=",
            "WatchdogSec",
            "StartLimit",
            "/usr/bin/burnstation run",
            "[Install]",
        ] {
            assert!(!probe.contains(dropped), "{dropped}: {probe}");
        }
        assert!(probe_unit("[Unit]\nDescription=x\n").is_err());
    }
}
