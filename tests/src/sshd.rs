//! A real OpenSSH server on loopback, for the sync tests: the backup server as the box meets
//! it, minus the network.
//!
//! [`Sshd::start`] runs a private `sshd -D -e -f CONFIG` as the current user (root is not
//! needed; as root it also works), on a free port of 127.0.0.1, with its own host key, an
//! `authorized_keys` holding a client key made for the test, and nothing else: no PAM, no
//! passwords, no system config. Its log is a file in the test's directory. [`Sshd`] is the
//! guard that stops it by PID on every path (and the kernel stops it if the test runner
//! dies: [`tools::die_with_parent`]).
//!
//! [`Sshd::drop_connections`] kills every session the server is serving, which is what a
//! dropped connection looks like from the client: the transfer breaks off mid-stream.

use std::fs::{self, File, OpenOptions};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::procfs;
use crate::tools::{self, CommandError, MissingTool, SSH, SSH_KEYGEN, SSHD};

/// How long sshd may take to listen (it is ready in milliseconds on an idle machine).
const READY_TIMEOUT: Duration = Duration::from_secs(20);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Ports tried before giving up (a try fails only if another process took the port between
/// the kernel handing it out and sshd binding it).
const PORT_ATTEMPTS: u32 = 5;

/// A running sshd. Dropping it stops the server and every session it serves.
#[derive(Debug)]
pub struct Sshd {
    child: Child,
    port: u16,
    user: String,
    host_public_key: String,
    client_key: PathBuf,
    log: PathBuf,
}

/// What can go wrong with the test sshd.
#[derive(Debug, thiserror::Error)]
pub enum SshdError {
    /// sshd, ssh or ssh-keygen is not installed.
    #[error(transparent)]
    Missing(#[from] MissingTool),
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
    /// A helper command failed.
    #[error("could not {what}: {source}")]
    Command {
        /// What it was for.
        what: &'static str,
        /// The failure, with the command's own message.
        source: CommandError,
    },
    /// sshd exited while starting.
    #[error("sshd exited while starting ({status}); its log ({log}):\n{log_tail}")]
    Exited {
        /// How it ended.
        status: std::process::ExitStatus,
        /// Its log file.
        log: PathBuf,
        /// The end of its log.
        log_tail: String,
    },
    /// sshd never said it was listening.
    #[error("sshd did not listen within {waited:?}; its log ({log}):\n{log_tail}")]
    NotReady {
        /// How long the harness waited.
        waited: Duration,
        /// Its log file.
        log: PathBuf,
        /// The end of its log.
        log_tail: String,
    },
}

fn io_error<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> SshdError + 'a {
    move |source| SshdError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

impl Sshd {
    /// Starts an sshd on 127.0.0.1 that lets the current user in with [`client_key`]
    /// (`Sshd::client_key`). Its keys, config and log live in `dir`, which the caller keeps
    /// unique to one test.
    pub fn start(dir: &Path) -> Result<Sshd, SshdError> {
        let sshd = SSHD.find()?;
        let host_key = dir.join("ssh_host_ed25519_key");
        let client_key = dir.join("client_ed25519_key");
        let host_public_key = generate_key(&host_key)?;
        let client_public_key = generate_key(&client_key)?;
        let authorized_keys = dir.join("authorized_keys");
        fs::write(&authorized_keys, format!("{client_public_key}\n"))
            .map_err(io_error("could not write", &authorized_keys))?;
        let user = current_user()?;
        if tools::is_root() {
            // sshd started as root insists on its privilege separation directory, which
            // the openssh-server package makes only at boot (tmpfiles).
            let privsep = Path::new("/run/sshd");
            fs::create_dir_all(privsep).map_err(io_error("could not create", privsep))?;
            fs::set_permissions(privsep, fs::Permissions::from_mode(0o755))
                .map_err(io_error("could not set the mode of", privsep))?;
        }
        let log = dir.join("sshd.log");
        let config = dir.join("sshd_config");
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port(&log)?;
            let text = config_text(port, &host_key, &authorized_keys, &user)?;
            fs::write(&config, text).map_err(io_error("could not write", &config))?;
            let child = spawn(&sshd, &config, &log)?;
            let mut server = Sshd {
                child,
                port,
                user: user.clone(),
                host_public_key: host_public_key.clone(),
                client_key: client_key.clone(),
                log: log.clone(),
            };
            match server.wait_listening() {
                Ok(()) => return Ok(server),
                // Someone took the port in between; dropping `server` stops this try.
                Err(SshdError::Exited { log_tail, .. })
                    if log_tail.contains("Address already in use") => {}
                Err(other) => return Err(other),
            }
        }
        Err(SshdError::NotReady {
            waited: READY_TIMEOUT,
            log: log.clone(),
            log_tail: log_tail(&log),
        })
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The account clients log in to: the user running the test.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The server's host key, `ssh-ed25519 AAAA...` (what an administrator sends a volunteer).
    pub fn host_public_key(&self) -> &str {
        &self.host_public_key
    }

    /// The private key the server accepts.
    pub fn client_key(&self) -> &Path {
        &self.client_key
    }

    /// Where sshd writes its messages.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Kills every session the server serves (the listener stays), as a dropped network
    /// connection would end them; returns how many processes were killed.
    pub fn drop_connections(&self) -> usize {
        let sessions = procfs::descendants(self.child.id());
        for pid in &sessions {
            // SAFETY: kill(2) takes plain integers; at worst the process is already gone.
            unsafe {
                libc::kill(*pid as libc::pid_t, libc::SIGKILL);
            }
        }
        sessions.len()
    }

    fn wait_listening(&mut self) -> Result<(), SshdError> {
        let start = Instant::now();
        let listening = format!("Server listening on 127.0.0.1 port {}", self.port);
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(io_error("could not check on sshd", &self.log))?
            {
                return Err(SshdError::Exited {
                    status,
                    log: self.log.clone(),
                    log_tail: log_tail(&self.log),
                });
            }
            if fs::read_to_string(&self.log).is_ok_and(|text| text.contains(&listening)) {
                return Ok(());
            }
            if start.elapsed() >= READY_TIMEOUT {
                return Err(SshdError::NotReady {
                    waited: READY_TIMEOUT,
                    log: self.log.clone(),
                    log_tail: log_tail(&self.log),
                });
            }
            thread::sleep(POLL_INTERVAL);
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.drop_connections();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes an ed25519 key pair at `private` (and `private.pub`); returns the public key as
/// `ssh-ed25519 AAAA...` without its comment.
pub fn generate_key(private: &Path) -> Result<String, SshdError> {
    let _ = fs::remove_file(private);
    let mut keygen = SSH_KEYGEN.command()?;
    keygen
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "burnstation-test",
            "-f",
        ])
        .arg(private);
    tools::run(&mut keygen).map_err(|source| SshdError::Command {
        what: "make a key pair",
        source,
    })?;
    let public = PathBuf::from(format!("{}.pub", private.display()));
    let text = fs::read_to_string(&public).map_err(io_error("could not read", &public))?;
    Ok(text
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" "))
}

fn current_user() -> Result<String, SshdError> {
    let mut id = Command::new("id");
    id.arg("-un");
    let output = tools::run(&mut id).map_err(|source| SshdError::Command {
        what: "find the current user's name",
        source,
    })?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn config_text(
    port: u16,
    host_key: &Path,
    authorized_keys: &Path,
    user: &str,
) -> Result<String, SshdError> {
    let mut text = format!(
        "ListenAddress 127.0.0.1\n\
         Port {port}\n\
         HostKey {}\n\
         AuthorizedKeysFile {}\n\
         AllowUsers {user}\n\
         PidFile none\n\
         StrictModes no\n\
         UsePAM no\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         PubkeyAuthentication yes\n\
         PermitRootLogin prohibit-password\n\
         LogLevel VERBOSE\n",
        host_key.display(),
        authorized_keys.display(),
    );
    // OpenSSH 9.8 and later hold back a client whose logins fail (the host key and refused
    // key tests do that on purpose); older versions do not know the option.
    if openssh_version()? >= (9, 8) {
        text.push_str("PerSourcePenalties no\n");
    }
    Ok(text)
}

/// OpenSSH's version, from `ssh -V` ("OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15").
fn openssh_version() -> Result<(u32, u32), SshdError> {
    let mut ssh = SSH.command()?;
    ssh.arg("-V");
    let output = tools::run(&mut ssh).map_err(|source| SshdError::Command {
        what: "ask ssh for its version",
        source,
    })?;
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    let version = text
        .split("OpenSSH_")
        .nth(1)
        .and_then(|rest| {
            let digits: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let (major, minor) = digits.split_once('.')?;
            Some((major.parse().ok()?, minor.parse().ok()?))
        })
        .unwrap_or((0, 0));
    Ok(version)
}

fn free_port(log: &Path) -> Result<u16, SshdError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(io_error(
            "could not find a free TCP port on 127.0.0.1 for",
            log,
        ))
}

fn spawn(sshd: &Path, config: &Path, log: &Path) -> Result<Child, SshdError> {
    let log_file: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(io_error("could not open", log))?;
    let mut command = Command::new(sshd);
    command
        .args(["-D", "-e", "-f"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file);
    tools::die_with_parent(&mut command);
    command
        .spawn()
        .map_err(io_error("could not start sshd with", config))
}

fn log_tail(log: &Path) -> String {
    fs::read_to_string(log)
        .map(|text| tools::tail(&text, 30))
        .unwrap_or_default()
}
