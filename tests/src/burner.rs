//! The scenario API: an emulated burner with a disc in it, and fresh guests that use it.
//!
//! ```no_run
//! use std::path::Path;
//! use burnstation_tests::{Attach, DiscState, EmulatedBurner};
//!
//! let mut burner = EmulatedBurner::new(DiscState::Blank).unwrap();
//! let run = burner
//!     .boot(Attach::Usb)
//!     .run("burnstation media", &[(Path::new("target/debug/burnstation"), "burnstation")])
//!     .unwrap();
//! run.assert_success();
//! // The disc, as the drive left it, for xorriso or isoinfo on the host:
//! let disc = burner.backing_file();
//! # let _ = disc;
//! ```
//!
//! An [`EmulatedBurner`] owns a private directory, a `tgtd` serving the disc file, and the
//! cached guest. Every [`GuestSession::run`] boots a fresh guest, as a fresh power-on would
//! be: nothing carries over from one run to the next but the disc. Dropping the burner stops
//! every process it started and removes its directory (set `BURNSTATION_SYSTEST_KEEP=1` to
//! keep the directories, with every console log, for a post-mortem).

use std::env;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::guest::{self, GuestError, GuestImage};
use crate::qemu::{self, Attach, Qemu, QemuConfig, QemuError};
use crate::share::{Share, ShareError};
use crate::systemd_guest::{self, SystemdGuest, SystemdGuestError};
use crate::tgt::{TgtError, Tgtd};
use crate::tools::{self, BUSYBOX, MissingTool, QEMU, TGTADM, TGTD};

/// How long a guest run may take unless a test says otherwise: a boot takes 5-15 s on an
/// idle 2-core machine; the rest is for a busy CI machine and the scenario itself.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Guest memory.
const GUEST_MEMORY_MIB: u32 = 1024;
/// The environment variable that keeps test directories after the test.
pub const KEEP_VARIABLE: &str = "BURNSTATION_SYSTEST_KEEP";
/// The environment variable that moves the guest cache.
pub const CACHE_VARIABLE: &str = "BURNSTATION_SYSTEST_CACHE";

/// The disc in the emulated drive (tgt decides from the file's size what it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscState {
    /// A blank DVD+R (an empty file).
    Blank,
    /// A finalized disc holding these bytes (tgt calls any non-empty file a DVD-ROM).
    Finalized(Vec<u8>),
    /// A finalized disc holding a copy of this file (copied, so the test's file stays as is).
    File(PathBuf),
}

/// An emulated DVD burner with a disc in it, ready to boot guests against. Use it on the
/// thread that made it: its processes die with that thread (see `tools::die_with_parent`).
#[derive(Debug)]
pub struct EmulatedBurner {
    // Field order is drop order: tgtd stops before its directory goes.
    tgtd: Tgtd,
    guest: GuestImage,
    disc: PathBuf,
    discs: u32,
    runs: u32,
    dir: TempDir,
}

/// One guest boot being set up: which bus, how long it may take.
#[derive(Debug)]
#[must_use = "nothing boots until .run()"]
pub struct GuestSession<'a> {
    burner: &'a mut EmulatedBurner,
    attach: Attach,
    timeout: Duration,
    card: Option<Card>,
}

/// A card the systemd guest boots from, and the kernel and initramfs that boot it.
#[derive(Debug, Clone)]
struct Card {
    boot: GuestImage,
    image: PathBuf,
}

/// What a guest run produced.
#[derive(Debug, Clone)]
pub struct GuestRun {
    /// How the burner was attached.
    pub attach: Attach,
    /// The scenario's exit code.
    pub exit_code: i32,
    /// What the scenario printed on stdout.
    pub stdout: String,
    /// What the scenario printed on stderr.
    pub stderr: String,
    /// The guest's whole serial console (kernel messages and `/init`'s progress).
    pub console_log: String,
    /// Boot, scenario and power-off, as seen from the host.
    pub took: Duration,
    /// The run's directory (share, console and QEMU logs), kept only with
    /// `BURNSTATION_SYSTEST_KEEP=1`.
    pub dir: PathBuf,
}

/// Why a scenario could not be run (as opposed to ran and failed, which is a [`GuestRun`]
/// with a non-zero exit code).
#[derive(Debug, thiserror::Error)]
pub enum SystestError {
    /// A tool is not installed.
    #[error(transparent)]
    Missing(#[from] MissingTool),
    /// The cache directory cannot be found.
    #[error(
        "cannot find Cargo's target directory above {0} to keep the guest cache in: set \
         {CACHE_VARIABLE} to a directory"
    )]
    NoCacheDir(PathBuf),
    /// The guest could not be built.
    #[error("building the guest failed: {0}")]
    Guest(#[from] GuestError),
    /// The emulated burner failed.
    #[error("the emulated burner (tgtd) failed: {0}")]
    Tgt(#[from] TgtError),
    /// The share could not be prepared or read.
    #[error("the guest's share failed: {0}")]
    Share(#[from] ShareError),
    /// The systemd guest could not be built, or its card made.
    #[error("the systemd guest: {0}")]
    SystemdGuest(#[from] SystemdGuestError),
    /// QEMU failed or the guest hung.
    #[error("{0}")]
    Qemu(#[from] QemuError),
    /// The guest stopped without running the scenario to its end.
    #[error(
        "the guest ({attach:?}) powered off without reporting the scenario's exit code (did it \
         crash, or fail to mount the share?); the console ({console_log}) ended with:\n{console_tail}"
    )]
    NoResult {
        /// How the burner was attached.
        attach: Attach,
        /// The console log file.
        console_log: PathBuf,
        /// Its last lines.
        console_tail: String,
    },
    /// A file of the test directory could not be written or read.
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

impl EmulatedBurner {
    /// A burner holding `disc`, with its own directory and tgtd, and the guest built (or
    /// taken from the cache). Fails, saying what to install, when a tool is missing.
    pub fn new(disc: DiscState) -> Result<EmulatedBurner, SystestError> {
        tools::require_all(&[TGTD, TGTADM, QEMU, BUSYBOX])?;
        let guest = guest::guest_image(&cache_dir()?)?;
        let mut dir = tempfile::Builder::new()
            .prefix("burnstation-systest-")
            .tempdir()
            .map_err(|source| SystestError::Io {
                what: "create a test directory in",
                path: env::temp_dir(),
                source,
            })?;
        dir.disable_cleanup(env::var_os(KEEP_VARIABLE).is_some());
        let disc_path = dir.path().join("disc-0.img");
        write_disc(&disc_path, &disc)?;
        let tgtd = Tgtd::start(dir.path(), &disc_path)?;
        Ok(EmulatedBurner {
            tgtd,
            guest,
            disc: disc_path,
            discs: 1,
            runs: 0,
            dir,
        })
    }

    /// The file that is the disc in the drive now, to check on the host after a run.
    pub fn backing_file(&self) -> &Path {
        &self.disc
    }

    /// The emulated drive's daemon (for its log, port and status).
    pub fn tgtd(&self) -> &Tgtd {
        &self.tgtd
    }

    /// The guest that runs get.
    pub fn guest(&self) -> &GuestImage {
        &self.guest
    }

    /// This burner's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Swaps the disc for a new one, as a person would between two guest runs.
    pub fn change_disc(&mut self, disc: DiscState) -> Result<(), SystestError> {
        let path = self.dir.path().join(format!("disc-{}.img", self.discs));
        write_disc(&path, &disc)?;
        self.tgtd.change_disc(&path)?;
        self.disc = path;
        self.discs += 1;
        Ok(())
    }

    /// Takes the disc out and puts it back: tgt looks at the file again and, if a guest
    /// burnt it, now calls it a finalized DVD-ROM (tgt signals no change by itself after a
    /// burn; a guest that ran before the reload saw no capacity).
    pub fn reload_disc(&mut self) -> Result<(), SystestError> {
        let disc = self.disc.clone();
        self.tgtd.change_disc(&disc)?;
        Ok(())
    }

    /// Prepares a fresh guest boot with the burner on `attach`.
    pub fn boot(&mut self, attach: Attach) -> GuestSession<'_> {
        GuestSession {
            burner: self,
            attach,
            timeout: DEFAULT_TIMEOUT,
            card: None,
        }
    }
}

impl GuestSession<'_> {
    /// Kills the guest and fails if the run takes longer than `timeout` (default
    /// [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Boots the systemd guest from `card` (made by [`SystemdGuest::make_card`]; a card
    /// keeps what the previous boot left on it) instead of the busybox guest. The scenario
    /// then runs once the system is up, as root, with the same contract.
    pub fn systemd(mut self, guest: &SystemdGuest, card: &Path) -> Self {
        self.card = Some(Card {
            boot: guest.boot.clone(),
            image: card.to_path_buf(),
        });
        self
    }

    /// Boots a fresh guest, runs `script` in it with busybox `sh` (cwd `/tmp`, `$DRIVE` the
    /// burner's `/dev/srN`, `$SG_DEVICE` its `/dev/sgN`, `$FILES` where `files` are), and
    /// returns what it printed and its exit code. `files` are `(host path, name in the
    /// guest)`; binaries among them bring their shared libraries.
    pub fn run(self, script: &str, files: &[(&Path, &str)]) -> Result<GuestRun, SystestError> {
        let burner = self.burner;
        burner.runs += 1;
        let dir = burner.dir.path().join(format!("run-{}", burner.runs));
        fs::create_dir(&dir).map_err(|source| SystestError::Io {
            what: "create",
            path: dir.clone(),
            source,
        })?;
        let share = Share::create(&dir.join("share"), script)?;
        for (host, name) in files {
            share.add(host, name)?;
        }
        let boot = self.card.as_ref().map_or(&burner.guest, |card| &card.boot);
        let config = QemuConfig {
            kernel: boot.kernel.clone(),
            initramfs: boot.initramfs.clone(),
            iscsi_url: burner.tgtd.iscsi_url(),
            attach: self.attach,
            share: share.root().to_path_buf(),
            console_log: dir.join("console.log"),
            qemu_log: dir.join("qemu.log"),
            memory_mib: GUEST_MEMORY_MIB,
            disk: self.card.as_ref().map(|card| card.image.clone()),
            watchdog: self.card.is_some(),
            extra_kernel_args: if self.card.is_some() {
                systemd_guest::KERNEL_ARGS.to_string()
            } else {
                String::new()
            },
        };
        let started = Instant::now();
        Qemu::start(&config)?.wait(self.timeout)?;
        let took = started.elapsed();
        let output = share.output()?;
        let Some(exit_code) = output.exit_code else {
            return Err(SystestError::NoResult {
                attach: self.attach,
                console_tail: qemu::console_tail(&config.console_log),
                console_log: config.console_log,
            });
        };
        let console_log = fs::read(&config.console_log)
            .map(|bytes| String::from_utf8_lossy(&bytes).replace('\r', ""))
            .unwrap_or_default();
        Ok(GuestRun {
            attach: self.attach,
            exit_code,
            stdout: output.stdout,
            stderr: output.stderr,
            console_log,
            took,
            dir,
        })
    }
}

impl GuestRun {
    /// Panics with the whole report unless the scenario exited 0.
    pub fn assert_success(&self) -> &GuestRun {
        self.assert_exit_code(0)
    }

    /// Panics with the whole report unless the scenario exited with `expected`.
    pub fn assert_exit_code(&self, expected: i32) -> &GuestRun {
        assert!(
            self.exit_code == expected,
            "the scenario exited with {} where {expected} was expected\n{self}",
            self.exit_code
        );
        self
    }

    /// The value of the first `key=value` line the scenario printed for `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.stdout.lines().find_map(|line| {
            line.split_once('=')
                .filter(|(name, _)| *name == key)
                .map(|(_, value)| value)
        })
    }

    /// The last `lines` lines of the console.
    pub fn console_tail(&self, lines: usize) -> String {
        tools::tail(&self.console_log, lines)
    }
}

impl fmt::Display for GuestRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "guest run over {:?}: exit code {}, {:.1} s ({})",
            self.attach,
            self.exit_code,
            self.took.as_secs_f64(),
            self.dir.display()
        )?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        writeln!(f, "--- stderr ---\n{}", self.stderr.trim_end())?;
        write!(
            f,
            "--- console (last {} lines) ---\n{}",
            qemu::CONSOLE_TAIL_LINES,
            self.console_tail(qemu::CONSOLE_TAIL_LINES)
        )
    }
}

/// Where built guests are kept: `$BURNSTATION_SYSTEST_CACHE`, or `systest-cache/` in Cargo's
/// target directory (the ancestor of the running test that holds Cargo's `CACHEDIR.TAG`).
pub fn cache_dir() -> Result<PathBuf, SystestError> {
    if let Some(dir) = env::var_os(CACHE_VARIABLE) {
        return Ok(PathBuf::from(dir));
    }
    let exe = env::current_exe().unwrap_or_default();
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(|target| target.join("systest-cache"))
        .ok_or(SystestError::NoCacheDir(exe))
}

fn write_disc(path: &Path, disc: &DiscState) -> Result<(), SystestError> {
    let io_error = |what| {
        move |source| SystestError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    };
    match disc {
        DiscState::Blank => fs::write(path, b"").map_err(io_error("write the blank disc")),
        DiscState::Finalized(bytes) => {
            fs::write(path, bytes).map_err(io_error("write the finalized disc"))
        }
        DiscState::File(source) => fs::copy(source, path)
            .map(drop)
            .map_err(io_error("copy the disc image to")),
    }
}
