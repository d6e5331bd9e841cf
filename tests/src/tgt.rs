//! The emulated burner: a private `tgtd` whose one logical unit is an MMC DVD writer.
//!
//! Linux's SCSI target daemon (`tgt`) emulates a DVD burner whose disc is a plain file: an
//! empty file is a blank DVD+R, a non-empty one a finalized DVD-ROM (see
//! `shared/notes/emulated-burner.md`). [`Tgtd::start`] runs one daemon per test, listening on
//! 127.0.0.1 only, and [`Tgtd`] is the guard that stops it, by PID, on every path, panics
//! included.
//!
//! Concurrent tests must not see each other. Each daemon gets:
//! - its own control socket: `TGT_IPC_SOCKET` points tgtd and tgtadm at a file inside the
//!   test's own directory instead of the shared `/var/run/tgtd/socket.N`, so no control number
//!   can clash, with another test or with a system tgtd, and nothing is left behind;
//! - its own TCP port, chosen free by the kernel. tgtd does not fail when it cannot bind its
//!   portal: it silently falls back to `0.0.0.0:3260`. So the harness reads the portal list
//!   back and tries another port unless it shows exactly ours;
//! - its own target name, which says which test directory it belongs to.
//!
//! tgtd ignores SIGTERM. It is stopped with `tgtadm --mode system --op delete` (after its
//! target is deleted, which that needs), then killed by PID whatever happened.
//!
//! This module knows nothing about QEMU or guests; it hands out the iSCSI URL they need.

use std::fs::{self, File, OpenOptions};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::tools::{self, CommandError, MissingTool, TGTADM, TGTD};

/// The only target of a private tgtd.
const TARGET_ID: u32 = 1;
/// The burner's logical unit (LUN 0 is tgt's own controller).
pub const BURNER_LUN: u32 = 1;
/// The control number: with a private socket path any number is free; 1 reads well in logs.
const CONTROL_NUMBER: u32 = 1;
/// How long tgtd may take to answer on its control socket. It is ready in well under a
/// second on an idle machine; the rest is for a CI machine that is busy compiling.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How often readiness is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// How long tgtd gets to exit after `--op delete` before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(3);
/// Ports tried before giving up (each attempt only fails if another process took the port
/// between the kernel handing it out and tgtd binding it).
const PORT_ATTEMPTS: u32 = 5;
/// `sockaddr_un.sun_path` holds 108 bytes, terminating NUL included.
const MAX_SOCKET_PATH: usize = 107;

/// A running tgtd with one emulated DVD burner. Dropping it stops the daemon.
#[derive(Debug)]
pub struct Tgtd {
    child: Child,
    socket_base: PathBuf,
    port: u16,
    target_name: String,
    disc: PathBuf,
    log: PathBuf,
}

/// What can go wrong with the emulated burner.
#[derive(Debug, thiserror::Error)]
pub enum TgtError {
    /// tgtd or tgtadm is not installed.
    #[error(transparent)]
    Missing(#[from] MissingTool),
    /// The test directory's path is too long for a Unix socket.
    #[error(
        "the tgtd control socket path {0} is longer than a Unix socket allows: set TMPDIR to a \
         shorter directory"
    )]
    SocketPathTooLong(PathBuf),
    /// A file of the harness could not be written or read.
    #[error("{what} {path}: {source}")]
    Io {
        /// What the harness was doing.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// tgtd exited while it was being started.
    #[error("tgtd exited while starting ({status}); its log ({log}):\n{log_tail}")]
    Exited {
        /// How it ended.
        status: std::process::ExitStatus,
        /// Its log file.
        log: PathBuf,
        /// The end of its log.
        log_tail: String,
    },
    /// tgtd did not answer on its control socket in time.
    #[error(
        "tgtd did not answer on its control socket within {waited:?} ({source}); its log \
         ({log}):\n{log_tail}"
    )]
    NotReady {
        /// How long the harness waited.
        waited: Duration,
        /// The last failed attempt.
        source: CommandError,
        /// Its log file.
        log: PathBuf,
        /// The end of its log.
        log_tail: String,
    },
    /// tgtd never listened on the port it was given.
    #[error(
        "tgtd could not listen on 127.0.0.1 after {PORT_ATTEMPTS} tries (last portal list: \
         {0:?}); is something taking every free port?"
    )]
    NoPortal(String),
    /// A tgtadm command failed.
    #[error("tgtadm could not {what}: {source}")]
    Admin {
        /// What it was asked to do.
        what: &'static str,
        /// The failure, with tgtadm's own message.
        source: CommandError,
    },
}

impl Tgtd {
    /// Starts a tgtd on 127.0.0.1 whose burner holds the disc `disc` (a file: empty means a
    /// blank DVD+R, anything else a finalized DVD-ROM). Its control socket and log live in
    /// `dir`, which the caller keeps unique to one test.
    pub fn start(dir: &Path, disc: &Path) -> Result<Tgtd, TgtError> {
        let tgtd = TGTD.find()?;
        TGTADM.find()?;
        let socket_base = dir.join("tgtd-socket");
        let socket_path = control_socket_path(&socket_base);
        if socket_path.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(TgtError::SocketPathTooLong(socket_path));
        }
        let log = dir.join("tgtd.log");
        let target_name = target_name(dir);

        let mut last_portals = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port(&log)?;
            let child = spawn_tgtd(&tgtd, &socket_base, port, &log)?;
            let mut daemon = Tgtd {
                child,
                socket_base: socket_base.clone(),
                port,
                target_name: target_name.clone(),
                disc: disc.to_path_buf(),
                log: log.clone(),
            };
            daemon.wait_ready()?;
            let portals =
                daemon.admin_output("list its portals", &["--mode", "portal", "--op", "show"])?;
            if listens_only_on(&portals, port) {
                daemon.create_burner()?;
                return Ok(daemon);
            }
            // Dropping `daemon` stops this try; the next one gets a fresh port.
            last_portals = portals;
        }
        Err(TgtError::NoPortal(last_portals))
    }

    /// The PID of the daemon.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The TCP port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The iSCSI name of its target.
    pub fn target_name(&self) -> &str {
        &self.target_name
    }

    /// The file that is the disc in the drive.
    pub fn disc(&self) -> &Path {
        &self.disc
    }

    /// Where tgtd writes its messages.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The URL QEMU's iSCSI block driver opens to reach the burner.
    pub fn iscsi_url(&self) -> String {
        format!(
            "iscsi://127.0.0.1:{}/{}/{BURNER_LUN}",
            self.port, self.target_name
        )
    }

    /// Puts another disc in the drive, as if the tray was opened and closed: tgtd takes the
    /// medium offline, opens `disc`, and decides from its size whether it is blank. With the
    /// same file this is how a burnt disc is "reloaded" (tgt keeps the profile it had).
    pub fn change_disc(&mut self, disc: &Path) -> Result<(), TgtError> {
        let lun = BURNER_LUN.to_string();
        let tid = TARGET_ID.to_string();
        let logical_unit = [
            "--mode",
            "logicalunit",
            "--op",
            "update",
            "--tid",
            &tid,
            "--lun",
            &lun,
        ];
        let mut offline = logical_unit.to_vec();
        offline.extend(["--params", "online=0"]);
        self.admin("take the disc offline", &offline)?;
        let path = format!("path={}", disc.display());
        let mut load = logical_unit.to_vec();
        load.extend(["--params", &path]);
        self.admin("load the new disc", &load)?;
        self.disc = disc.to_path_buf();
        Ok(())
    }

    /// What tgtd reports about its target (LUNs, backing file, online state, connections).
    pub fn show(&self) -> Result<String, TgtError> {
        self.admin_output("show its target", &["--mode", "target", "--op", "show"])
    }

    /// Stops the daemon and reports a failure to do so cleanly. Dropping does the same,
    /// quietly.
    pub fn stop(mut self) -> Result<(), TgtError> {
        self.shut_down()
    }

    fn wait_ready(&mut self) -> Result<(), TgtError> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().map_err(|source| TgtError::Io {
                what: "could not check on tgtd",
                path: self.log.clone(),
                source,
            })? {
                return Err(TgtError::Exited {
                    status,
                    log: self.log.clone(),
                    log_tail: log_tail(&self.log),
                });
            }
            match self.admin_output("answer", &["--mode", "system", "--op", "show"]) {
                Ok(_) => return Ok(()),
                Err(TgtError::Admin { source, .. }) if start.elapsed() >= READY_TIMEOUT => {
                    return Err(TgtError::NotReady {
                        waited: READY_TIMEOUT,
                        source,
                        log: self.log.clone(),
                        log_tail: log_tail(&self.log),
                    });
                }
                Err(TgtError::Admin { .. }) => thread::sleep(POLL_INTERVAL),
                Err(other) => return Err(other),
            }
        }
    }

    fn create_burner(&self) -> Result<(), TgtError> {
        let tid = TARGET_ID.to_string();
        let lun = BURNER_LUN.to_string();
        let disc = self.disc.to_string_lossy();
        self.admin(
            "create the target",
            &[
                "--mode",
                "target",
                "--op",
                "new",
                "--tid",
                &tid,
                "--targetname",
                &self.target_name,
            ],
        )?;
        self.admin(
            "create the DVD burner",
            &[
                "--mode",
                "logicalunit",
                "--op",
                "new",
                "--tid",
                &tid,
                "--lun",
                &lun,
                "--device-type",
                "cd",
                "--backing-store",
                &disc,
            ],
        )?;
        self.admin(
            "let 127.0.0.1 connect",
            &[
                "--mode",
                "target",
                "--op",
                "bind",
                "--tid",
                &tid,
                "--initiator-address",
                "127.0.0.1",
            ],
        )
    }

    fn admin(&self, what: &'static str, args: &[&str]) -> Result<(), TgtError> {
        self.admin_output(what, args).map(drop)
    }

    fn admin_output(&self, what: &'static str, args: &[&str]) -> Result<String, TgtError> {
        let mut command = TGTADM.command()?;
        command
            .env("TGT_IPC_SOCKET", &self.socket_base)
            .args(["-C", &CONTROL_NUMBER.to_string(), "--lld", "iscsi"])
            .args(args);
        let output = tools::run(&mut command).map_err(|source| TgtError::Admin { what, source })?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn shut_down(&mut self) -> Result<(), TgtError> {
        if self.child.try_wait().ok().flatten().is_some() {
            return self.remove_socket_files();
        }
        let tid = TARGET_ID.to_string();
        // Ask politely first so tgtd closes the disc file and its connections itself; the
        // kill below happens whatever the answers were.
        let polite = self
            .admin(
                "delete the target",
                &[
                    "--mode", "target", "--op", "delete", "--force", "--tid", &tid,
                ],
            )
            .and_then(|()| self.admin("shut down", &["--mode", "system", "--op", "delete"]));
        let deadline = Instant::now() + EXIT_GRACE;
        while polite.is_ok() && Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                break;
            }
            thread::sleep(POLL_INTERVAL);
        }
        // tgtd ignores SIGTERM; SIGKILL by PID is the only sure stop. Both calls are harmless
        // on a child that already exited and was reaped.
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.remove_socket_files()?;
        polite.map(drop).or(Ok(()))
    }

    fn remove_socket_files(&self) -> Result<(), TgtError> {
        let socket = control_socket_path(&self.socket_base);
        let mut lock = socket.clone().into_os_string();
        lock.push(".lock");
        for path in [socket, PathBuf::from(lock)] {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(TgtError::Io {
                        what: "could not remove tgtd's control socket",
                        path,
                        source,
                    });
                }
            }
        }
        Ok(())
    }
}

impl Drop for Tgtd {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}

/// The socket tgtd and tgtadm use for `TGT_IPC_SOCKET=base` and our control number.
fn control_socket_path(base: &Path) -> PathBuf {
    let mut path = base.as_os_str().to_owned();
    path.push(format!(".{CONTROL_NUMBER}"));
    PathBuf::from(path)
}

/// An iSCSI target name unique to the test directory (`iqn.` names allow `[a-z0-9.:-]`).
fn target_name(dir: &Path) -> String {
    let tag: String = dir
        .file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("iqn.2026-11.test.burnstation:burner-{tag}")
}

/// A port nobody listens on right now, as the kernel hands them out.
fn free_port(log: &Path) -> Result<u16, TgtError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|source| TgtError::Io {
            what: "could not find a free TCP port on 127.0.0.1 for",
            path: log.to_path_buf(),
            source,
        })
}

fn spawn_tgtd(tgtd: &Path, socket_base: &Path, port: u16, log: &Path) -> Result<Child, TgtError> {
    let io_error = |what| {
        move |source| TgtError::Io {
            what,
            path: log.to_path_buf(),
            source,
        }
    };
    let log_file: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(io_error("could not create tgtd's log"))?;
    let log_file_too = log_file
        .try_clone()
        .map_err(io_error("could not share tgtd's log"))?;
    let mut command = Command::new(tgtd);
    tools::die_with_parent(&mut command)
        .env("TGT_IPC_SOCKET", socket_base)
        .args(["-f", "-C", &CONTROL_NUMBER.to_string()])
        .args(["--iscsi", &format!("portal=127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_file_too)
        .spawn()
        .map_err(io_error("could not start tgtd, logging to"))
}

/// True when tgtd's portal list (`Portal: 127.0.0.1:3260,1` lines) is exactly our portal.
fn listens_only_on(portals: &str, port: u16) -> bool {
    let ours = format!("Portal: 127.0.0.1:{port},");
    let lines: Vec<&str> = portals
        .lines()
        .filter(|l| l.starts_with("Portal:"))
        .collect();
    lines.len() == 1 && lines[0].starts_with(&ours)
}

fn log_tail(log: &Path) -> String {
    fs::read_to_string(log)
        .map(|text| tools::tail(&text, 20))
        .unwrap_or_else(|err| format!("(could not read it: {err})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_portal_counts_as_ready() {
        assert!(listens_only_on("Portal: 127.0.0.1:40123,1\n", 40123));
        // tgtd's silent fallback when it could not bind ours.
        assert!(!listens_only_on(
            "Portal: [::]:3260,1\nPortal: 0.0.0.0:3260,1\n",
            40123
        ));
        assert!(!listens_only_on("Portal: 127.0.0.1:401230,1\n", 40123));
        assert!(!listens_only_on("", 40123));
    }

    #[test]
    fn target_names_are_valid_iqns_unique_per_directory() {
        assert_eq!(
            target_name(Path::new("/tmp/burnstation-systest-AbC_12")),
            "iqn.2026-11.test.burnstation:burner-burnstation-systest-abc-12"
        );
    }

    #[test]
    fn the_control_socket_sits_beside_its_base() {
        assert_eq!(
            control_socket_path(Path::new("/tmp/x/tgtd-socket")),
            PathBuf::from("/tmp/x/tgtd-socket.1")
        );
    }
}
