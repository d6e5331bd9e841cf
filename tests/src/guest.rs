//! The guest the system tests boot: Debian's kernel and a tiny initramfs, built once and cached.
//!
//! [`guest_image`] returns a kernel and an initramfs under `target/systest-cache/`, building
//! them when needed:
//! - the kernel is the one Debian's `linux-image-amd64` currently points at, fetched with
//!   `apt-get download` (the `.deb` is kept, so a rebuild does not download again) and
//!   unpacked with `dpkg-deb -x`; `depmod -b` writes the `modules.dep` its postinst would;
//! - the initramfs (cpio newc, gzip) holds busybox-static, the modules of [`GUEST_MODULES`]
//!   and what they need (order from `modules.dep`, see [`modules`]), `/dev/console`, and
//!   `/init` (`guest/init.sh`).
//!
//! The systemd guest (`systemd_guest`) uses the same kernel with another initramfs: a
//! [`GuestSpec`] names each kind's modules and `/init`, and its cache directories' prefix.
//!
//! The cache directory is named after a SHA-256 of everything that goes in (kernel package
//! and version, module list, init script, busybox binary, and [`BUILD_FORMAT`] for the build
//! steps themselves), so changing any of them builds a new guest. The binaries under test are
//! NOT in it: they reach the guest through the 9p share at each run (see `share`), so a
//! rebuilt `burnstation` never rebuilds the guest. Builds by concurrent tests are serialised
//! with a lock file, and a guest directory only appears, by rename, once complete.
//!
//! This module builds files; it starts no emulator.

pub mod cpio;
pub mod modules;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::tools::{
    self, APT_CACHE, APT_GET, BUSYBOX, CommandError, DEPMOD, DPKG_DEB, GZIP, MissingTool, XZ, ZSTD,
};
use cpio::{CpioWriter, DeviceNumber};
use modules::{ModuleIndex, UnknownModule};

/// The modules the guest loads (their own dependencies are added from `modules.dep`):
/// virtio-scsi and USB (xHCI + mass storage) to reach the burner, sr/sg/cdrom to drive it,
/// isofs to mount what was burnt, and virtio-9p (with netfs) for the host share.
pub const GUEST_MODULES: &[&str] = &[
    "virtio_pci",
    "virtio_scsi",
    "scsi_mod",
    "sr_mod",
    "cdrom",
    "sg",
    "xhci_pci",
    "xhci_hcd",
    "usb_storage",
    "isofs",
    "netfs",
    "9pnet_virtio",
    "9p",
];

/// The guest's `/init`.
pub const INIT_SCRIPT: &str = include_str!("guest/init.sh");

/// What makes one kind of guest: its cache directories' prefix, the modules its initramfs
/// loads and its `/init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestSpec {
    /// Cache directories of this kind are `<prefix>-<key>`.
    pub prefix: &'static str,
    /// The modules `/init` loads, in lists that are joined (their own dependencies are
    /// added).
    pub modules: &'static [&'static [&'static str]],
    /// The `/init` script.
    pub init_script: &'static str,
}

/// The busybox guest the scenarios run in: the initramfs is the whole system.
pub const BUSYBOX_GUEST: GuestSpec = GuestSpec {
    prefix: "guest",
    modules: &[GUEST_MODULES],
    init_script: INIT_SCRIPT,
};

/// Version of the build steps below: bump it when they change what ends up in the guest.
pub const BUILD_FORMAT: &str = "burnstation systest guest, format 1";

/// The Debian package whose dependency names the current kernel.
const KERNEL_META_PACKAGE: &str = "linux-image-amd64";

/// Guest directories of other inputs older than this are removed when a new one is built.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A built guest: what QEMU boots.
#[derive(Debug, Clone)]
pub struct GuestImage {
    /// The kernel (`vmlinuz`).
    pub kernel: PathBuf,
    /// The initramfs (gzip-compressed cpio).
    pub initramfs: PathBuf,
    /// The kernel release (`6.1.0-56-amd64`).
    pub kernel_release: String,
    /// The cache directory holding both, with `inputs.txt` saying what went in.
    pub dir: PathBuf,
}

/// A Debian kernel package, by name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelPackage {
    /// `linux-image-6.1.0-56-amd64`.
    pub name: String,
    /// `6.1.192-2`.
    pub version: String,
}

/// Everything that decides the bytes of a guest; its digest names the cache directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestInputs<'a> {
    /// The kernel package.
    pub kernel: &'a KernelPackage,
    /// The modules asked for.
    pub modules: &'a [&'a str],
    /// The `/init` script.
    pub init_script: &'a str,
    /// SHA-256 of the busybox binary, in hex.
    pub busybox_sha256: &'a str,
}

/// Why the guest could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GuestError {
    /// A tool is not installed.
    #[error(transparent)]
    Missing(#[from] MissingTool),
    /// apt knows no kernel package.
    #[error(
        "apt does not know which kernel {KERNEL_META_PACKAGE} points at: run `apt-get update` \
         as root, with a deb.debian.org source in /etc/apt/sources.list ({0})"
    )]
    NoKernelPackage(String),
    /// Downloading the kernel failed.
    #[error(
        "could not download the guest kernel {name} {version}: check that this machine reaches \
         the Debian mirror (deb.debian.org), and run `apt-get update` as root if that version \
         is gone; apt said: {source}"
    )]
    Download {
        /// The package.
        name: String,
        /// Its version.
        version: String,
        /// apt-get's failure.
        source: CommandError,
    },
    /// The kernel package does not look like one.
    #[error("the kernel package {deb} is not laid out as expected: {what}")]
    KernelLayout {
        /// The package file.
        deb: PathBuf,
        /// What was missing.
        what: String,
    },
    /// A module the guest needs is missing from the kernel.
    #[error(transparent)]
    UnknownModule(#[from] UnknownModule),
    /// A build step failed.
    #[error("could not {what}: {source}")]
    Step {
        /// The step.
        what: &'static str,
        /// The command's failure.
        source: CommandError,
    },
    /// A file of the cache could not be written or read.
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

/// The guest for these tests, from `cache` or freshly built into it.
pub fn guest_image(cache: &Path) -> Result<GuestImage, GuestError> {
    guest_image_of(cache, &BUSYBOX_GUEST)
}

/// The kernel and initramfs of `spec`, from `cache` or freshly built into it.
pub fn guest_image_of(cache: &Path, spec: &GuestSpec) -> Result<GuestImage, GuestError> {
    tools::require_all(&[APT_GET, APT_CACHE, DPKG_DEB, DEPMOD, GZIP, BUSYBOX])?;
    create_dir(cache)?;
    let _lock = CacheLock::acquire(&cache.join("lock"))?;

    let kernel = current_kernel_package()?;
    let busybox = BUSYBOX.find()?;
    let busybox_sha256 = sha256_hex(&read(&busybox)?);
    let modules: Vec<&str> = spec
        .modules
        .iter()
        .flat_map(|list| list.iter().copied())
        .collect();
    let inputs = GuestInputs {
        kernel: &kernel,
        modules: &modules,
        init_script: spec.init_script,
        busybox_sha256: &busybox_sha256,
    };
    let dir = cache.join(format!("{}-{}", spec.prefix, &inputs.digest()[..16]));
    if let Some(image) = GuestImage::open(&dir)? {
        return Ok(image);
    }
    let deb = kernel_deb(cache, &kernel)?;
    build(cache, &dir, &inputs, &deb, &busybox)?;
    remove_stale(cache, spec.prefix, &dir);
    GuestImage::open(&dir)?.ok_or_else(|| GuestError::Io {
        what: "find the guest just built in",
        path: dir.clone(),
        source: std::io::ErrorKind::NotFound.into(),
    })
}

impl GuestImage {
    /// The complete guest in `dir`, if there is one.
    fn open(dir: &Path) -> Result<Option<GuestImage>, GuestError> {
        let release = dir.join("kernel-release");
        if !release.exists() {
            return Ok(None);
        }
        let kernel_release = String::from_utf8_lossy(&read(&release)?).trim().to_string();
        Ok(Some(GuestImage {
            kernel: dir.join("vmlinuz"),
            initramfs: dir.join("initramfs.cpio.gz"),
            kernel_release,
            dir: dir.to_path_buf(),
        }))
    }
}

impl GuestInputs<'_> {
    /// What went in, one line each, as written to `inputs.txt`.
    pub fn describe(&self) -> String {
        format!(
            "{BUILD_FORMAT}\nkernel: {} {}\nmodules: {}\ninit sha256: {}\nbusybox sha256: {}\n",
            self.kernel.name,
            self.kernel.version,
            self.modules.join(" "),
            sha256_hex(self.init_script.as_bytes()),
            self.busybox_sha256,
        )
    }

    /// SHA-256 of [`describe`](Self::describe), in hex.
    pub fn digest(&self) -> String {
        sha256_hex(self.describe().as_bytes())
    }
}

/// The kernel package `linux-image-amd64` depends on now. Runs `apt-get update` once (as
/// root) when apt's package lists are empty, as they are on a freshly made container.
fn current_kernel_package() -> Result<KernelPackage, GuestError> {
    match query_kernel_package() {
        Ok(package) => Ok(package),
        Err(_) if tools::is_root() => {
            let mut update = APT_GET.command()?;
            update.args(["update", "-q"]);
            tools::run(&mut update).map_err(|source| GuestError::Step {
                what: "update apt's package lists",
                source,
            })?;
            query_kernel_package()
        }
        Err(err) => Err(err),
    }
}

fn query_kernel_package() -> Result<KernelPackage, GuestError> {
    let mut depends = APT_CACHE.command()?;
    depends.args(["depends", KERNEL_META_PACKAGE]);
    let listing =
        tools::run(&mut depends).map_err(|err| GuestError::NoKernelPackage(err.to_string()))?;
    let name = kernel_dependency(&String::from_utf8_lossy(&listing.stdout)).ok_or_else(|| {
        GuestError::NoKernelPackage(format!(
            "`apt-cache depends {KERNEL_META_PACKAGE}` named none"
        ))
    })?;
    let mut show = APT_CACHE.command()?;
    show.args(["show", "--no-all-versions", &name]);
    let record =
        tools::run(&mut show).map_err(|err| GuestError::NoKernelPackage(err.to_string()))?;
    let version = String::from_utf8_lossy(&record.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("Version: "))
        .map(str::to_string)
        .ok_or_else(|| GuestError::NoKernelPackage(format!("apt shows no version of {name}")))?;
    Ok(KernelPackage { name, version })
}

/// The real kernel image package in `apt-cache depends linux-image-amd64` output.
fn kernel_dependency(listing: &str) -> Option<String> {
    listing
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Depends: "))
        .find(|name| name.starts_with("linux-image-") && !name.starts_with('<'))
        .map(str::to_string)
}

/// The kernel `.deb` in the cache, downloaded first if it is not there yet.
fn kernel_deb(cache: &Path, kernel: &KernelPackage) -> Result<PathBuf, GuestError> {
    let debs = cache.join("debs");
    create_dir(&debs)?;
    let deb = debs.join(format!(
        "{}_{}.deb",
        kernel.name,
        kernel.version.replace(':', "%3a")
    ));
    if deb.exists() {
        return Ok(deb);
    }
    let download = tempfile::Builder::new()
        .prefix("download-")
        .tempdir_in(&debs)
        .map_err(io_error("make a download directory in", &debs))?;
    let mut apt = APT_GET.command()?;
    apt.current_dir(download.path()).args([
        "download",
        "-q",
        &format!("{}={}", kernel.name, kernel.version),
    ]);
    tools::run(&mut apt).map_err(|source| GuestError::Download {
        name: kernel.name.clone(),
        version: kernel.version.clone(),
        source,
    })?;
    let fetched = fs::read_dir(download.path())
        .map_err(io_error("list", download.path()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .ok_or_else(|| GuestError::KernelLayout {
            deb: download.path().to_path_buf(),
            what: "apt-get download left no .deb".to_string(),
        })?;
    fs::rename(&fetched, &deb).map_err(io_error("move the kernel package to", &deb))?;
    // Older kernels' packages are of no further use.
    for entry in fs::read_dir(&debs).into_iter().flatten().flatten() {
        let path = entry.path();
        if path != deb && path.extension().is_some_and(|ext| ext == "deb") {
            let _ = fs::remove_file(path);
        }
    }
    Ok(deb)
}

/// Builds the guest for `inputs` into a scratch directory in `cache`, then renames it to
/// `dir`, so `dir` never exists half-built.
fn build(
    cache: &Path,
    dir: &Path,
    inputs: &GuestInputs<'_>,
    deb: &Path,
    busybox: &Path,
) -> Result<(), GuestError> {
    let scratch = tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(cache)
        .map_err(io_error("make a build directory in", cache))?;
    let unpacked = scratch.path().join("kernel");
    let mut unpack = DPKG_DEB.command()?;
    unpack.arg("-x").arg(deb).arg(&unpacked);
    tools::run(&mut unpack).map_err(|source| GuestError::Step {
        what: "unpack the kernel package",
        source,
    })?;

    let (modules_base, release) = find_modules(&unpacked, deb)?;
    let mut depmod = DEPMOD.command()?;
    depmod.arg("-b").arg(&modules_base).arg(&release);
    tools::run(&mut depmod).map_err(|source| GuestError::Step {
        what: "index the kernel's modules with depmod",
        source,
    })?;
    let modules_dir = modules_base.join("lib/modules").join(&release);
    let index = ModuleIndex::parse(
        &String::from_utf8_lossy(&read(&modules_dir.join("modules.dep"))?),
        &String::from_utf8_lossy(&read(&modules_dir.join("modules.builtin"))?),
    );
    let order = index.load_order(inputs.modules)?;

    let out = scratch.path().join("guest");
    create_dir(&out)?;
    let vmlinuz = unpacked.join("boot").join(format!("vmlinuz-{release}"));
    fs::copy(&vmlinuz, out.join("vmlinuz")).map_err(io_error("copy the kernel", &vmlinuz))?;

    let cpio_path = out.join("initramfs.cpio");
    let file = File::create(&cpio_path).map_err(io_error("create", &cpio_path))?;
    let mut cpio = CpioWriter::new(BufWriter::new(file));
    let write_error = io_error("write the initramfs", &cpio_path);
    for directory in ["bin", "dev", "modules", "proc", "share", "sys", "tmp"] {
        cpio.directory(directory, 0o755).map_err(&write_error)?;
    }
    let console = DeviceNumber { major: 5, minor: 1 };
    cpio.char_device("dev/console", 0o600, console)
        .map_err(&write_error)?;
    cpio.file("init", 0o755, inputs.init_script.as_bytes())
        .map_err(&write_error)?;
    cpio.file("bin/busybox", 0o755, &read(busybox)?)
        .map_err(&write_error)?;
    let mut load_list = String::new();
    for module in &order {
        let bytes = module_bytes(&modules_dir.join(&module.path))?;
        cpio.file(&format!("modules/{}.ko", module.name), 0o644, &bytes)
            .map_err(&write_error)?;
        load_list.push_str(&module.name);
        load_list.push('\n');
    }
    cpio.file("modules/order", 0o644, load_list.as_bytes())
        .map_err(&write_error)?;
    cpio.finish()
        .and_then(|mut out| out.flush())
        .map_err(&write_error)?;
    let mut gzip = GZIP.command()?;
    gzip.args(["-n", "-9"]).arg(&cpio_path);
    tools::run(&mut gzip).map_err(|source| GuestError::Step {
        what: "compress the initramfs",
        source,
    })?;

    let description = format!(
        "{}load order: {}",
        inputs.describe(),
        load_list.replace('\n', " ")
    );
    write(&out.join("inputs.txt"), description.trim_end().as_bytes())?;
    // Written last: its presence is what marks a guest complete.
    write(&out.join("kernel-release"), release.as_bytes())?;
    match fs::rename(&out, dir) {
        Ok(()) => Ok(()),
        // Another process finished the same guest first (only possible without the lock,
        // e.g. on a filesystem without flock): theirs is as good as ours.
        Err(_) if dir.join("kernel-release").exists() => Ok(()),
        Err(source) => Err(GuestError::Io {
            what: "move the finished guest to",
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// Where the unpacked package keeps its modules (`lib/modules/<release>`, or under `usr/`
/// on merged-/usr releases), as the base directory `depmod -b` wants, and the release.
fn find_modules(unpacked: &Path, deb: &Path) -> Result<(PathBuf, String), GuestError> {
    for base in [unpacked.to_path_buf(), unpacked.join("usr")] {
        let Ok(entries) = fs::read_dir(base.join("lib/modules")) else {
            continue;
        };
        let releases: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().is_dir())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        if let [release] = releases.as_slice() {
            return Ok((base, release.clone()));
        }
    }
    Err(GuestError::KernelLayout {
        deb: deb.to_path_buf(),
        what: "no single lib/modules/<release> directory".to_string(),
    })
}

/// A module's bytes, uncompressed: busybox's insmod takes plain `.ko` files only.
fn module_bytes(path: &Path) -> Result<Vec<u8>, GuestError> {
    let name = path.to_string_lossy();
    let decompressor = if name.ends_with(".ko.xz") {
        Some((XZ, "-dc"))
    } else if name.ends_with(".ko.zst") {
        Some((ZSTD, "-dcq"))
    } else {
        None
    };
    match decompressor {
        None => read(path),
        Some((tool, flag)) => {
            let mut command = tool.command()?;
            command.arg(flag).arg(path);
            tools::run(&mut command)
                .map(|output| output.stdout)
                .map_err(|source| GuestError::Step {
                    what: "decompress a kernel module",
                    source,
                })
        }
    }
}

/// Removes the cache directories `<prefix>-*` of other inputs that nobody used for a day.
/// Best effort: a failure here costs disk space, not correctness.
pub fn remove_stale(cache: &Path, prefix: &str, keep: &Path) {
    let now = SystemTime::now();
    let prefix = format!("{prefix}-");
    for entry in fs::read_dir(cache).into_iter().flatten().flatten() {
        let path = entry.path();
        let is_guest = entry.file_name().to_string_lossy().starts_with(&prefix);
        let stale = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .is_ok_and(|modified| now.duration_since(modified).unwrap_or_default() > STALE_AFTER);
        if is_guest && stale && path != keep {
            let _ = fs::remove_dir_all(path);
        }
    }
}

/// An exclusive `flock` on a file in the cache, held until dropped: concurrent test
/// processes (and threads: each takes its own open file description) build one at a time.
#[derive(Debug)]
pub struct CacheLock {
    file: File,
}

impl CacheLock {
    /// Waits for and takes the lock of the file `path`.
    pub fn acquire(path: &Path) -> Result<CacheLock, GuestError> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io_error("open the cache lock", path))?;
        // SAFETY: flock only reads the descriptor number; `file` owns that descriptor and
        // keeps it open for the whole call. No memory is passed.
        let result = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if result != 0 {
            return Err(GuestError::Io {
                what: "lock",
                path: path.to_path_buf(),
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(CacheLock { file })
    }
}

impl Drop for CacheLock {
    fn drop(&mut self) {
        // Closing the descriptor releases the lock; this only says so explicitly.
        // SAFETY: as in `acquire`: a descriptor `self.file` still owns, no memory passed.
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// SHA-256 of `bytes`, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    burnstation_images::digest::hex(&Sha256::digest(bytes))
}

fn io_error(what: &'static str, path: &Path) -> impl Fn(std::io::Error) -> GuestError {
    let path = path.to_path_buf();
    move |source| GuestError::Io {
        what,
        path: path.clone(),
        source,
    }
}

fn create_dir(path: &Path) -> Result<(), GuestError> {
    fs::create_dir_all(path).map_err(io_error("create", path))
}

fn read(path: &Path) -> Result<Vec<u8>, GuestError> {
    fs::read(path).map_err(io_error("read", path))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), GuestError> {
    fs::write(path, bytes).map_err(io_error("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel() -> KernelPackage {
        KernelPackage {
            name: "linux-image-6.1.0-56-amd64".to_string(),
            version: "6.1.192-2".to_string(),
        }
    }

    #[test]
    fn every_input_changes_the_cache_key() {
        let kernel = kernel();
        let newer = KernelPackage {
            version: "6.1.193-1".to_string(),
            ..kernel.clone()
        };
        let base = GuestInputs {
            kernel: &kernel,
            modules: &["sr_mod", "sg"],
            init_script: "#!/bin/sh\n",
            busybox_sha256: "aa",
        };
        assert_eq!(
            base.digest(),
            base.clone().digest(),
            "the key must be stable"
        );
        let variants = [
            GuestInputs {
                kernel: &newer,
                ..base.clone()
            },
            GuestInputs {
                modules: &["sr_mod"],
                ..base.clone()
            },
            GuestInputs {
                init_script: "#!/bin/sh\n# changed\n",
                ..base.clone()
            },
            GuestInputs {
                busybox_sha256: "bb",
                ..base.clone()
            },
        ];
        for variant in variants {
            assert_ne!(variant.digest(), base.digest(), "{}", variant.describe());
        }
    }

    #[test]
    fn the_kernel_is_the_real_image_package_of_the_meta_package() {
        let listing = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
        assert_eq!(
            kernel_dependency(listing).as_deref(),
            Some("linux-image-6.1.0-56-amd64")
        );
        let virtual_first = "linux-image-amd64\n  Depends: <linux-image-6.1.0-1-amd64-unsigned>\n  Depends: linux-image-6.1.0-1-amd64\n";
        assert_eq!(
            kernel_dependency(virtual_first).as_deref(),
            Some("linux-image-6.1.0-1-amd64")
        );
        assert_eq!(kernel_dependency("linux-image-amd64\n"), None);
    }
}
