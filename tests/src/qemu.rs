//! Booting the guest under QEMU with the emulated burner attached.
//!
//! One [`Qemu`] is one boot: TCG (`/dev/kvm` exists on our machines but Debian's kernel hangs
//! early under it), no default devices, the serial console written to a log file, the
//! burner reached over iSCSI by QEMU's libiscsi driver (from `qemu-block-extra`) and handed
//! to the guest as a pass-through `scsi-generic` device on either bus a burner can sit on:
//! - [`Attach::Usb`] puts it behind `qemu-xhci` + `usb-bot`, a USB mass-storage burner like
//!   on the Pi;
//! - [`Attach::VirtioScsi`] puts it on a `virtio-scsi-pci` host adapter;
//!
//! and the host share as virtio-9p. [`Qemu::wait`] waits for the guest to power off, up to
//! a deadline after which QEMU is killed. [`Qemu`] is the guard that kills it by PID on every
//! other path, panics included.
//!
//! This module starts QEMU and nothing else; it does not know what the guest runs.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::tools::{self, MissingTool, QEMU};

/// How often a running QEMU is checked on.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Lines of the console shown when a guest fails.
pub const CONSOLE_TAIL_LINES: usize = 50;

/// The bus the burner is attached to in the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attach {
    /// USB mass storage (Bulk-Only Transport) on an xHCI controller: the Pi's situation.
    Usb,
    /// virtio-scsi: a plain SCSI host adapter.
    VirtioScsi,
}

/// What one boot needs.
#[derive(Debug, Clone)]
pub struct QemuConfig {
    /// The kernel to boot.
    pub kernel: PathBuf,
    /// Its initramfs.
    pub initramfs: PathBuf,
    /// The burner's iSCSI URL (from `Tgtd::iscsi_url`).
    pub iscsi_url: String,
    /// Which bus the burner is on.
    pub attach: Attach,
    /// The host directory the guest mounts as `/share`.
    pub share: PathBuf,
    /// Where the serial console is written.
    pub console_log: PathBuf,
    /// Where QEMU's own messages are written.
    pub qemu_log: PathBuf,
    /// Guest memory in MiB.
    pub memory_mib: u32,
    /// A disk image handed to the guest as a virtio disk (`/dev/vda`): the systemd guest's
    /// SD card. The busybox guest has none.
    pub disk: Option<PathBuf>,
    /// Whether the guest gets an i6300esb hardware watchdog (systemd kicks it).
    pub watchdog: bool,
    /// Kernel arguments after `console=ttyS0 panic=-1`.
    pub extra_kernel_args: String,
}

/// A running QEMU. Dropping it kills the emulator.
#[derive(Debug)]
pub struct Qemu {
    child: Child,
    console_log: PathBuf,
    qemu_log: PathBuf,
    started: Instant,
}

/// What went wrong with a boot.
#[derive(Debug, thiserror::Error)]
pub enum QemuError {
    /// QEMU is not installed.
    #[error(transparent)]
    Missing(#[from] MissingTool),
    /// A log file could not be created.
    #[error("could not create {path}: {source}")]
    Log {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// QEMU could not be started.
    #[error("could not start QEMU: {0}")]
    Spawn(std::io::Error),
    /// The guest ran past its deadline and was killed.
    #[error(
        "the guest did not power off within {timeout:?}, so QEMU was killed; the console \
         ({console_log}) ended with:\n{console_tail}"
    )]
    Timeout {
        /// The deadline.
        timeout: Duration,
        /// The console log file.
        console_log: PathBuf,
        /// Its last lines.
        console_tail: String,
    },
    /// QEMU stopped with an error.
    #[error(
        "QEMU failed ({status}){hint}; it said:\n{qemu_tail}\nthe console ({console_log}) ended \
         with:\n{console_tail}"
    )]
    Failed {
        /// How it ended.
        status: ExitStatus,
        /// A sentence on the likely cause, or nothing.
        hint: String,
        /// QEMU's own last messages.
        qemu_tail: String,
        /// The console log file.
        console_log: PathBuf,
        /// Its last lines.
        console_tail: String,
    },
}

impl Qemu {
    /// Boots the guest described by `config`.
    pub fn start(config: &QemuConfig) -> Result<Qemu, QemuError> {
        let qemu = QEMU.find()?;
        let log = |path: &Path| {
            File::create(path).map_err(|source| QemuError::Log {
                path: path.to_path_buf(),
                source,
            })
        };
        let qemu_log = log(&config.qemu_log)?;
        let qemu_log_too = qemu_log.try_clone().map_err(|source| QemuError::Log {
            path: config.qemu_log.clone(),
            source,
        })?;
        log(&config.console_log)?;
        let mut command = Command::new(qemu);
        let child = tools::die_with_parent(&mut command)
            .args(qemu_args(config))
            .stdin(Stdio::null())
            .stdout(qemu_log)
            .stderr(qemu_log_too)
            .spawn()
            .map_err(QemuError::Spawn)?;
        Ok(Qemu {
            child,
            console_log: config.console_log.clone(),
            qemu_log: config.qemu_log.clone(),
            started: Instant::now(),
        })
    }

    /// The emulator's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the guest powers off, or kills QEMU once `timeout` has passed since it
    /// started. Ok means QEMU exited cleanly; whether the guest did its job is the caller's
    /// to judge from what it left in the share.
    pub fn wait(mut self, timeout: Duration) -> Result<(), QemuError> {
        let deadline = self.started + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(QemuError::Spawn)? {
                return self.judge(status);
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(QemuError::Timeout {
                    timeout,
                    console_log: self.console_log.clone(),
                    console_tail: console_tail(&self.console_log),
                });
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    fn judge(&self, status: ExitStatus) -> Result<(), QemuError> {
        if status.success() {
            return Ok(());
        }
        let said = fs::read_to_string(&self.qemu_log).unwrap_or_default();
        Err(QemuError::Failed {
            status,
            hint: hint(&said),
            qemu_tail: tools::tail(&said, 20),
            console_log: self.console_log.clone(),
            console_tail: console_tail(&self.console_log),
        })
    }

    fn kill(&mut self) {
        // Harmless on a child that already exited: kill reports an error we do not need, and
        // wait returns the status it already has.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        self.kill();
    }
}

/// QEMU's command line for `config`.
pub fn qemu_args(config: &QemuConfig) -> Vec<String> {
    let mut args: Vec<String> = [
        "-nodefaults",
        "-nographic",
        "-no-reboot",
        "-accel",
        "tcg,thread=multi",
        "-cpu",
        "max",
        "-monitor",
        "none",
    ]
    .iter()
    .map(|arg| arg.to_string())
    .collect();
    let mut pair = |flag: &str, value: String| {
        args.push(flag.to_string());
        args.push(value);
    };
    pair("-m", format!("{}M", config.memory_mib));
    pair("-kernel", config.kernel.display().to_string());
    pair("-initrd", config.initramfs.display().to_string());
    // panic=-1 reboots on a panic, which -no-reboot turns into QEMU exiting: a crashed guest
    // ends the run at once instead of waiting for the deadline. So does a watchdog reset.
    let mut append = "console=ttyS0 panic=-1".to_string();
    if !config.extra_kernel_args.is_empty() {
        append.push(' ');
        append.push_str(&config.extra_kernel_args);
    }
    pair("-append", append);
    pair("-serial", format!("file:{}", config.console_log.display()));
    pair(
        "-drive",
        format!(
            "file={},if=none,id=burner,format=raw,cache=none",
            config.iscsi_url
        ),
    );
    match config.attach {
        Attach::Usb => {
            pair("-device", "qemu-xhci,id=xhci".to_string());
            pair("-device", "usb-bot,id=bot,bus=xhci.0".to_string());
            pair(
                "-device",
                "scsi-generic,drive=burner,bus=bot.0,scsi-id=0,lun=0".to_string(),
            );
        }
        Attach::VirtioScsi => {
            pair("-device", "virtio-scsi-pci,id=scsi0".to_string());
            pair(
                "-device",
                "scsi-generic,drive=burner,bus=scsi0.0".to_string(),
            );
        }
    }
    if let Some(disk) = &config.disk {
        pair(
            "-drive",
            format!("file={},if=none,id=card,format=raw", disk.display()),
        );
        pair("-device", "virtio-blk-pci,drive=card".to_string());
    }
    if config.watchdog {
        pair("-device", "i6300esb".to_string());
    }
    pair(
        "-fsdev",
        format!(
            "local,id=share,path={},security_model=none",
            config.share.display()
        ),
    );
    pair(
        "-device",
        "virtio-9p-pci,fsdev=share,mount_tag=share".to_string(),
    );
    args
}

/// The last [`CONSOLE_TAIL_LINES`] lines of a console log, without the serial line's `\r`.
pub fn console_tail(console_log: &Path) -> String {
    match fs::read(console_log) {
        Ok(bytes) => tools::tail(
            &String::from_utf8_lossy(&bytes).replace('\r', ""),
            CONSOLE_TAIL_LINES,
        ),
        Err(err) => format!("(could not read it: {err})"),
    }
}

/// The likely cause of a QEMU failure, from what it printed.
fn hint(said: &str) -> String {
    if said.contains("protocol 'iscsi'") || said.contains("iscsi") && said.contains("not supported")
    {
        ": QEMU has no iSCSI driver; install it with `apt-get install qemu-block-extra`".to_string()
    } else if said.contains("Failed to connect") || said.contains("iSCSI: Failed") {
        ": QEMU could not reach the emulated burner over iSCSI; see tgtd.log beside the console log"
            .to_string()
    } else if said.contains("virtfs") || said.contains("fsdev") {
        ": this QEMU cannot share a host directory (virtio-9p); install Debian's qemu-system-x86"
            .to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(attach: Attach) -> QemuConfig {
        QemuConfig {
            kernel: PathBuf::from("/cache/vmlinuz"),
            initramfs: PathBuf::from("/cache/initramfs.cpio.gz"),
            iscsi_url: "iscsi://127.0.0.1:40000/iqn.2026-11.test:burner/1".to_string(),
            attach,
            share: PathBuf::from("/tmp/run/share"),
            console_log: PathBuf::from("/tmp/run/console.log"),
            qemu_log: PathBuf::from("/tmp/run/qemu.log"),
            memory_mib: 1024,
            disk: None,
            watchdog: false,
            extra_kernel_args: String::new(),
        }
    }

    fn after<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
        args.windows(2)
            .filter(|pair| pair[0] == flag)
            .map(|pair| pair[1].as_str())
            .collect()
    }

    #[test]
    fn usb_puts_the_burner_behind_xhci_and_bulk_only_transport() {
        let args = qemu_args(&config(Attach::Usb));
        assert_eq!(
            after(&args, "-device"),
            [
                "qemu-xhci,id=xhci",
                "usb-bot,id=bot,bus=xhci.0",
                "scsi-generic,drive=burner,bus=bot.0,scsi-id=0,lun=0",
                "virtio-9p-pci,fsdev=share,mount_tag=share",
            ]
        );
    }

    #[test]
    fn virtio_scsi_puts_the_burner_on_a_virtio_host_adapter() {
        let args = qemu_args(&config(Attach::VirtioScsi));
        assert_eq!(
            after(&args, "-device"),
            [
                "virtio-scsi-pci,id=scsi0",
                "scsi-generic,drive=burner,bus=scsi0.0",
                "virtio-9p-pci,fsdev=share,mount_tag=share",
            ]
        );
    }

    #[test]
    fn the_guest_runs_under_tcg_with_the_burner_over_iscsi_and_a_serial_log() {
        let args = qemu_args(&config(Attach::Usb));
        assert_eq!(after(&args, "-accel"), ["tcg,thread=multi"]);
        assert_eq!(
            after(&args, "-drive"),
            [
                "file=iscsi://127.0.0.1:40000/iqn.2026-11.test:burner/1,if=none,id=burner,format=raw,cache=none"
            ]
        );
        assert_eq!(after(&args, "-serial"), ["file:/tmp/run/console.log"]);
        assert_eq!(after(&args, "-m"), ["1024M"]);
        assert!(args.contains(&"-no-reboot".to_string()));
    }

    #[test]
    fn a_card_is_a_virtio_disk_and_the_watchdog_an_i6300esb() {
        let args = qemu_args(&QemuConfig {
            disk: Some(PathBuf::from("/tmp/run/card.img")),
            watchdog: true,
            extra_kernel_args: "net.ifnames=0".to_string(),
            ..config(Attach::Usb)
        });
        assert_eq!(
            after(&args, "-drive")[1],
            "file=/tmp/run/card.img,if=none,id=card,format=raw"
        );
        let devices = after(&args, "-device");
        assert!(
            devices.contains(&"virtio-blk-pci,drive=card"),
            "{devices:?}"
        );
        assert!(devices.contains(&"i6300esb"), "{devices:?}");
        assert_eq!(
            after(&args, "-append"),
            ["console=ttyS0 panic=-1 net.ifnames=0"]
        );
    }

    #[test]
    fn a_missing_iscsi_driver_says_what_to_install() {
        let said = "qemu-system-x86_64: -drive file=iscsi://...: Unknown protocol 'iscsi'";
        assert!(hint(said).contains("apt-get install qemu-block-extra"));
        assert_eq!(hint("something else"), "");
    }
}
