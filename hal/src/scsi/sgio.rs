//! The Linux SG_IO transport: one CDB per `ioctl(fd, SG_IO, &sg_io_hdr)` on `/dev/srN` or
//! `/dev/sgN`.
//!
//! The device is opened O_RDWR|O_NONBLOCK|O_EXCL, as libburn does: read-write because the
//! kernel only lets fds open for writing send WRITE, MODE SELECT, BLANK, CLOSE, FORMAT and
//! friends without CAP_SYS_RAWIO (`scsi_cmd_allowed`), non-blocking so that opening works
//! with no disc, and exclusive so no automounter or second burner program reads the drive
//! while we write. There is no fallback to a weaker mode: burning next to another opener
//! is how discs get spoiled (burning-anchors C.7).
//!
//! This file holds the kernel's `sg_io_hdr` layout, the ioctl numbers and the only `unsafe`
//! in the transport. It reports what happened (status and sense, or a transport failure)
//! and decides nothing about retries.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::raw::{c_int, c_uchar, c_uint, c_ushort, c_void};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Completion, DataTransfer, Status, Transport, TransportError};

/// `struct sg_io_hdr` from Linux `include/scsi/sg.h` (interface id 'S'). Field types follow
/// the C declaration exactly so the layout is right on 32-bit ARM (64 bytes) as well as on
/// 64-bit targets (88 bytes); the tests check both.
#[repr(C)]
#[derive(Debug)]
pub struct SgIoHdr {
    /// Always `'S'`.
    pub interface_id: c_int,
    /// One of `SG_DXFER_*`.
    pub dxfer_direction: c_int,
    /// CDB length.
    pub cmd_len: c_uchar,
    /// Size of the sense buffer at `sbp`.
    pub mx_sb_len: c_uchar,
    /// 0: `dxferp` is a plain buffer, not an iovec array.
    pub iovec_count: c_ushort,
    /// Size of the data buffer at `dxferp`.
    pub dxfer_len: c_uint,
    /// Data buffer.
    pub dxferp: *mut c_void,
    /// CDB.
    pub cmdp: *const c_uchar,
    /// Sense buffer.
    pub sbp: *mut c_uchar,
    /// Timeout in milliseconds.
    pub timeout: c_uint,
    /// `SG_FLAG_*`; 0 for ordinary indirect I/O.
    pub flags: c_uint,
    /// Unused by SG_IO.
    pub pack_id: c_int,
    /// Unused by SG_IO.
    pub usr_ptr: *mut c_void,
    /// Out: SCSI status byte.
    pub status: c_uchar,
    /// Out: status shifted right by one (obsolete).
    pub masked_status: c_uchar,
    /// Out: messaging level data (obsolete).
    pub msg_status: c_uchar,
    /// Out: bytes written to `sbp`.
    pub sb_len_wr: c_uchar,
    /// Out: host adapter status (`DID_*`).
    pub host_status: c_ushort,
    /// Out: driver status (`DRIVER_*`, low nibble).
    pub driver_status: c_ushort,
    /// Out: `dxfer_len` minus bytes actually transferred.
    pub resid: c_int,
    /// Out: milliseconds the command took.
    pub duration: c_uint,
    /// Out: `SG_INFO_*` flags.
    pub info: c_uint,
}

const SG_INTERFACE_ID: c_int = b'S' as c_int;
const SG_DXFER_NONE: c_int = -1;
const SG_DXFER_TO_DEV: c_int = -2;
const SG_DXFER_FROM_DEV: c_int = -3;
const SG_INFO_OK_MASK: c_uint = 0x1;
const SG_INFO_OK: c_uint = 0x0;
const SG_SCSI_RESET_DEVICE: c_int = 1;
/// `DID_TIME_OUT` (include/scsi/scsi_status.h).
const DID_TIME_OUT: u16 = 0x03;
/// `DRIVER_TIMEOUT` and `DRIVER_SENSE`: the latter only says sense is valid.
const DRIVER_TIMEOUT: u16 = 0x06;
const DRIVER_SENSE: u16 = 0x08;
/// Room for descriptor-format sense (SPC allows 252 bytes; 64 is what libburn and sg3_utils
/// ask for and more than any optical drive sends).
const SENSE_BUFFER_LEN: usize = 64;

/// The sg driver's ioctl numbers (`<scsi/sg.h>`). They predate the `_IOC` encoding of
/// direction and size: each is `_IO(0x22, nr)`, in the "SCSI ioctl" type 0x22, so nix's
/// `_bad` macros pass them through unchanged (the tests check them against the formula).
const SG_IO: u32 = 0x2285;
const SG_GET_VERSION_NUM: u32 = 0x2282;
const SG_SCSI_RESET: u32 = 0x2284;

nix::ioctl_readwrite_bad!(sg_io, SG_IO, SgIoHdr);
nix::ioctl_read_bad!(sg_get_version_num, SG_GET_VERSION_NUM, c_int);
nix::ioctl_write_ptr_bad!(sg_scsi_reset, SG_SCSI_RESET, c_int);

/// An optical drive opened for SG_IO.
#[derive(Debug)]
pub struct SgDevice {
    file: File,
    name: String,
}

/// Why a drive could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// EBUSY on O_EXCL.
    #[error(
        "{path} is in use by another program (a mounted disc, a file manager or another burner \
         program): unmount the disc or close that program, then try again"
    )]
    Busy {
        /// The device node.
        path: PathBuf,
    },
    /// EACCES/EPERM.
    #[error("no permission to open {path}: add the user to group cdrom (and log in again)")]
    PermissionDenied {
        /// The device node.
        path: PathBuf,
    },
    /// ENOENT/ENXIO/ENODEV.
    #[error("{path} does not exist: check that the burner is plugged in and switched on")]
    NotFound {
        /// The device node.
        path: PathBuf,
    },
    /// The node opened but does not speak SG_IO (not a SCSI device).
    #[error("{path} is not a SCSI device: give an optical drive such as /dev/sr0")]
    NotScsi {
        /// The device node.
        path: PathBuf,
    },
    /// Anything else.
    #[error("could not open {path}: {source}")]
    Other {
        /// The device node.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl SgDevice {
    /// Opens `path` O_RDWR|O_NONBLOCK|O_EXCL and checks that it answers SG_IO's version
    /// query, so a wrong path fails here rather than on the first command.
    pub fn open(path: impl AsRef<Path>) -> Result<SgDevice, OpenError> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_EXCL)
            .open(path)
            .map_err(|e| open_error(path, e))?;
        let mut version: c_int = 0;
        // SAFETY: SG_GET_VERSION_NUM writes one c_int through the pointer, which points at
        // `version`, a live c_int; on a non-sg fd the kernel returns an error and writes
        // nothing.
        let answered = unsafe { sg_get_version_num(file.as_raw_fd(), &mut version) };
        if answered.is_err() || version < 30000 {
            return Err(OpenError::NotScsi {
                path: path.to_path_buf(),
            });
        }
        Ok(SgDevice {
            file,
            name: path.display().to_string(),
        })
    }
}

fn open_error(path: &Path, e: io::Error) -> OpenError {
    let path = path.to_path_buf();
    match e.raw_os_error() {
        Some(libc::EBUSY) => OpenError::Busy { path },
        Some(libc::EACCES | libc::EPERM | libc::EROFS) => OpenError::PermissionDenied { path },
        Some(libc::ENOENT | libc::ENXIO | libc::ENODEV) => OpenError::NotFound { path },
        _ => OpenError::Other { path, source: e },
    }
}

/// What the kernel said about a finished SG_IO request, before it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SgOutcome {
    status: u8,
    host_status: u16,
    driver_status: u16,
    info: u32,
    duration_ms: u32,
    timeout_ms: u32,
}

/// Decides between a transport failure and a device answer. Timeouts first (the kernel
/// reports them as DID_TIME_OUT, or as DRIVER_TIMEOUT on old kernels), then host and driver
/// failures; `DRIVER_SENSE` only means "sense is valid" and is no failure.
fn judge(o: SgOutcome, timeout: Duration) -> Result<Status, TransportError> {
    let driver = o.driver_status & 0x0f;
    let failed = o.info & SG_INFO_OK_MASK != SG_INFO_OK;
    if o.host_status == DID_TIME_OUT
        || driver == DRIVER_TIMEOUT
        || (failed && o.status == 0 && o.duration_ms >= o.timeout_ms)
    {
        return Err(TransportError::Timeout { after: timeout });
    }
    if o.host_status != 0 {
        return Err(TransportError::Host {
            code: o.host_status,
        });
    }
    if driver != 0 && driver != DRIVER_SENSE {
        return Err(TransportError::Driver {
            code: o.driver_status,
        });
    }
    Ok(Status::from_byte(o.status))
}

impl Transport for SgDevice {
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataTransfer<'_>,
        timeout: Duration,
    ) -> Result<Completion, TransportError> {
        let invalid = |what: &str| {
            TransportError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                what.to_string(),
            ))
        };
        if cdb.is_empty() || cdb.len() > 16 {
            return Err(invalid("a CDB must be 1 to 16 bytes long"));
        }
        let (direction, dxferp, dxfer_len) = match data {
            DataTransfer::None => (SG_DXFER_NONE, std::ptr::null_mut(), 0usize),
            DataTransfer::FromDevice(buf) => (
                SG_DXFER_FROM_DEV,
                buf.as_mut_ptr() as *mut c_void,
                buf.len(),
            ),
            // The kernel only reads a TO_DEV buffer; the pointer is mut because the C field is.
            DataTransfer::ToDevice(buf) => {
                (SG_DXFER_TO_DEV, buf.as_ptr() as *mut c_void, buf.len())
            }
        };
        let dxfer_len = c_uint::try_from(dxfer_len)
            .map_err(|_| invalid("a data buffer larger than 4 GiB cannot be sent"))?;
        let timeout_ms = c_uint::try_from(timeout.as_millis()).unwrap_or(c_uint::MAX);
        let mut sense = [0u8; SENSE_BUFFER_LEN];
        let mut hdr = SgIoHdr {
            interface_id: SG_INTERFACE_ID,
            dxfer_direction: direction,
            cmd_len: cdb.len() as c_uchar,
            mx_sb_len: SENSE_BUFFER_LEN as c_uchar,
            iovec_count: 0,
            dxfer_len,
            dxferp,
            cmdp: cdb.as_ptr(),
            sbp: sense.as_mut_ptr(),
            timeout: timeout_ms,
            flags: 0,
            pack_id: 0,
            usr_ptr: std::ptr::null_mut(),
            status: 0,
            masked_status: 0,
            msg_status: 0,
            sb_len_wr: 0,
            host_status: 0,
            driver_status: 0,
            resid: 0,
            duration: 0,
            info: 0,
        };
        // SAFETY: the kernel touches three buffers, all alive and unmoved for this
        // synchronous call: it reads `cmd_len` (1..=16, checked above) bytes from `cdb`; it
        // writes at most `mx_sb_len` (= SENSE_BUFFER_LEN) bytes into `sense`; and it reads
        // (TO_DEV) or writes (FROM_DEV) at most `dxfer_len` bytes at `dxferp`, which is the
        // caller's slice and its exact length (null and 0 with no data phase). `hdr` itself
        // is a valid, exclusively borrowed sg_io_hdr.
        let result = unsafe { sg_io(self.file.as_raw_fd(), &mut hdr) };
        match result {
            Ok(_) => {}
            Err(nix::errno::Errno::ENODEV | nix::errno::Errno::ENXIO) => {
                return Err(TransportError::Gone);
            }
            Err(errno) => return Err(TransportError::Io(io::Error::from(errno))),
        }
        let status = judge(
            SgOutcome {
                status: hdr.status,
                host_status: hdr.host_status,
                driver_status: hdr.driver_status,
                info: hdr.info,
                duration_ms: hdr.duration,
                timeout_ms,
            },
            timeout,
        )?;
        let transferred = (dxfer_len as usize).saturating_sub(hdr.resid.max(0) as usize);
        let sense_len = (hdr.sb_len_wr as usize).min(SENSE_BUFFER_LEN);
        Ok(Completion {
            status,
            sense: if status == Status::CheckCondition {
                sense[..sense_len].to_vec()
            } else {
                Vec::new()
            },
            transferred,
        })
    }

    fn name(&self) -> &str {
        &self.name
    }

    /// SG_SCSI_RESET with SG_SCSI_RESET_DEVICE; a USB reset is discovery's job.
    fn reset(&mut self) -> Result<(), TransportError> {
        let what = SG_SCSI_RESET_DEVICE;
        // SAFETY: SG_SCSI_RESET reads one c_int through the pointer, which points at `what`.
        let result = unsafe { sg_scsi_reset(self.file.as_raw_fd(), &what) };
        match result {
            Ok(_) => Ok(()),
            Err(nix::errno::Errno::ENODEV | nix::errno::Errno::ENXIO) => Err(TransportError::Gone),
            Err(errno) => Err(TransportError::Io(io::Error::from(errno))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::mem::{offset_of, size_of};

    use super::*;

    #[test]
    fn header_layout_matches_the_kernel() {
        // include/scsi/sg.h; the 64-bit numbers are what `pahole` shows for sg_io_hdr on
        // x86_64 and aarch64, the 32-bit ones on armv7 and i386.
        assert_eq!(offset_of!(SgIoHdr, interface_id), 0);
        assert_eq!(offset_of!(SgIoHdr, dxfer_direction), 4);
        assert_eq!(offset_of!(SgIoHdr, cmd_len), 8);
        assert_eq!(offset_of!(SgIoHdr, mx_sb_len), 9);
        assert_eq!(offset_of!(SgIoHdr, iovec_count), 10);
        assert_eq!(offset_of!(SgIoHdr, dxfer_len), 12);
        assert_eq!(offset_of!(SgIoHdr, dxferp), 16);
        #[cfg(target_pointer_width = "64")]
        {
            assert_eq!(offset_of!(SgIoHdr, cmdp), 24);
            assert_eq!(offset_of!(SgIoHdr, sbp), 32);
            assert_eq!(offset_of!(SgIoHdr, timeout), 40);
            assert_eq!(offset_of!(SgIoHdr, pack_id), 48);
            assert_eq!(offset_of!(SgIoHdr, usr_ptr), 56);
            assert_eq!(offset_of!(SgIoHdr, status), 64);
            assert_eq!(offset_of!(SgIoHdr, sb_len_wr), 67);
            assert_eq!(offset_of!(SgIoHdr, host_status), 68);
            assert_eq!(offset_of!(SgIoHdr, driver_status), 70);
            assert_eq!(offset_of!(SgIoHdr, resid), 72);
            assert_eq!(offset_of!(SgIoHdr, duration), 76);
            assert_eq!(offset_of!(SgIoHdr, info), 80);
            assert_eq!(size_of::<SgIoHdr>(), 88);
        }
        #[cfg(target_pointer_width = "32")]
        {
            assert_eq!(offset_of!(SgIoHdr, cmdp), 20);
            assert_eq!(offset_of!(SgIoHdr, sbp), 24);
            assert_eq!(offset_of!(SgIoHdr, timeout), 28);
            assert_eq!(offset_of!(SgIoHdr, pack_id), 36);
            assert_eq!(offset_of!(SgIoHdr, usr_ptr), 40);
            assert_eq!(offset_of!(SgIoHdr, status), 44);
            assert_eq!(offset_of!(SgIoHdr, host_status), 48);
            assert_eq!(offset_of!(SgIoHdr, resid), 52);
            assert_eq!(offset_of!(SgIoHdr, info), 60);
            assert_eq!(size_of::<SgIoHdr>(), 64);
        }
    }

    #[test]
    fn ioctl_numbers_are_the_kernels() {
        use nix::request_code_none;
        // sg.h: SG_IO, SG_GET_VERSION_NUM and SG_SCSI_RESET are numbers 0x85, 0x82 and 0x84
        // of type 0x22 with neither direction nor size: the kernel's _IO(0x22, nr).
        for (number, nr) in [
            (SG_IO, 0x85),
            (SG_GET_VERSION_NUM, 0x82),
            (SG_SCSI_RESET, 0x84),
        ] {
            let formula = request_code_none!(0x22, nr);
            assert_eq!(
                number as nix::sys::ioctl::ioctl_num_type, formula,
                "ioctl {nr:#x}: {number:#x} is not _IO(0x22, {nr:#x}) = {formula:#x}"
            );
        }
    }

    fn outcome() -> SgOutcome {
        SgOutcome {
            status: 0,
            host_status: 0,
            driver_status: 0,
            info: 0,
            duration_ms: 5,
            timeout_ms: 30_000,
        }
    }

    #[test]
    fn status_mapping() {
        let t = Duration::from_secs(30);
        assert_eq!(judge(outcome(), t).unwrap(), Status::Good);

        let check = SgOutcome {
            status: 0x02,
            driver_status: DRIVER_SENSE,
            info: 1,
            ..outcome()
        };
        assert_eq!(judge(check, t).unwrap(), Status::CheckCondition);

        let timed_out = SgOutcome {
            host_status: DID_TIME_OUT,
            info: 1,
            duration_ms: 30_000,
            ..outcome()
        };
        assert!(
            matches!(judge(timed_out, t), Err(TransportError::Timeout { after }) if after == t)
        );
        let old_kernel_timeout = SgOutcome {
            driver_status: DRIVER_TIMEOUT,
            info: 1,
            ..outcome()
        };
        assert!(matches!(
            judge(old_kernel_timeout, t),
            Err(TransportError::Timeout { .. })
        ));
        let silent_timeout = SgOutcome {
            info: 1,
            duration_ms: 30_001,
            ..outcome()
        };
        assert!(matches!(
            judge(silent_timeout, t),
            Err(TransportError::Timeout { .. })
        ));

        // DID_ERROR (07h): e.g. the USB link reset under the command.
        let host = SgOutcome {
            host_status: 0x07,
            info: 1,
            ..outcome()
        };
        assert!(matches!(
            judge(host, t),
            Err(TransportError::Host { code: 0x07 })
        ));
        // DRIVER_ERROR (04h) without sense.
        let driver = SgOutcome {
            driver_status: 0x04,
            info: 1,
            ..outcome()
        };
        assert!(matches!(
            judge(driver, t),
            Err(TransportError::Driver { code: 0x04 })
        ));
        let busy = SgOutcome {
            status: 0x08,
            info: 1,
            ..outcome()
        };
        assert_eq!(judge(busy, t).unwrap(), Status::Busy);
    }

    #[test]
    fn open_errors_say_what_to_do() {
        let dir = std::env::temp_dir().join(format!("sgio-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();

        let missing = dir.join("sr9");
        let err = SgDevice::open(&missing).unwrap_err();
        assert!(matches!(err, OpenError::NotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("plugged in"), "{err}");

        let plain = dir.join("not-a-drive");
        std::fs::write(&plain, b"x").unwrap();
        let err = SgDevice::open(&plain).unwrap_err();
        assert!(matches!(err, OpenError::NotScsi { .. }), "{err:?}");
        assert!(err.to_string().contains("/dev/sr0"), "{err}");

        // /dev/null is a character device that does not speak SG_IO.
        let err = SgDevice::open("/dev/null").unwrap_err();
        assert!(matches!(err, OpenError::NotScsi { .. }), "{err:?}");

        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errno_mapping_names_the_fix() {
        let p = Path::new("/dev/sr0");
        let busy = open_error(p, io::Error::from_raw_os_error(libc::EBUSY));
        assert!(busy.to_string().contains("another program"), "{busy}");
        let denied = open_error(p, io::Error::from_raw_os_error(libc::EACCES));
        assert!(denied.to_string().contains("group cdrom"), "{denied}");
        let other = open_error(p, io::Error::from_raw_os_error(libc::EIO));
        assert!(matches!(other, OpenError::Other { .. }));
    }
}
