//! `mmc-probe`: the system tests' own tiny MMC client, run inside the guest.
//!
//! It checks the emulated burner through the guest kernel without using any of the station's
//! code (so a bug there cannot hide here): a handful of raw SG_IO commands on `/dev/srN`,
//! their answers printed as `key=value` lines for the tests to read.
//!
//! ```text
//! mmc-probe inquiry  DEVICE        INQUIRY: peripheral type, vendor, product, revision
//! mmc-probe profile  DEVICE        GET CONFIGURATION: current profile, profile list
//! mmc-probe disc     DEVICE        READ DISC INFORMATION (+ READ CAPACITY when readable)
//! mmc-probe quirks   DEVICE        how the drive answers commands it may lack, and the
//!                                  residual count of a short answer
//! ```
//!
//! Exit status: 0 done, 1 a command failed (the sense data is printed), 2 bad usage.
//! Response lengths come from the length fields inside the data, never from the transfer
//! count: through QEMU's iSCSI pass-through the residual is always 0.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::process::ExitCode;

/// `SG_IO` from `<scsi/sg.h>`.
const SG_IO: libc::c_ulong = 0x2285;
/// `sg_io_hdr.interface_id` must be `'S'`.
const SG_INTERFACE_ID: libc::c_int = b'S' as libc::c_int;
const SG_DXFER_NONE: libc::c_int = -1;
const SG_DXFER_FROM_DEV: libc::c_int = -3;

/// `struct sg_io_hdr` from `<scsi/sg.h>`, field for field.
#[repr(C)]
#[derive(Debug)]
struct SgIoHdr {
    interface_id: libc::c_int,
    dxfer_direction: libc::c_int,
    cmd_len: libc::c_uchar,
    mx_sb_len: libc::c_uchar,
    iovec_count: libc::c_ushort,
    dxfer_len: libc::c_uint,
    dxferp: *mut libc::c_void,
    cmdp: *const libc::c_uchar,
    sbp: *mut libc::c_uchar,
    timeout: libc::c_uint,
    flags: libc::c_uint,
    pack_id: libc::c_int,
    usr_ptr: *mut libc::c_void,
    status: libc::c_uchar,
    masked_status: libc::c_uchar,
    msg_status: libc::c_uchar,
    sb_len_wr: libc::c_uchar,
    host_status: libc::c_ushort,
    driver_status: libc::c_ushort,
    resid: libc::c_int,
    duration: libc::c_uint,
    info: libc::c_uint,
}

/// The data phase of one command.
#[derive(Debug)]
enum Data<'a> {
    None,
    FromDevice(&'a mut [u8]),
}

/// An opened burner.
#[derive(Debug)]
struct Burner {
    file: File,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["inquiry", device] => Burner::open(device).and_then(|b| b.inquiry()),
        ["profile", device] => Burner::open(device).and_then(|b| b.profile()),
        ["disc", device] => Burner::open(device).and_then(|b| b.disc()),
        ["quirks", device] => Burner::open(device).and_then(|b| b.quirks()),
        _ => {
            eprintln!("usage: mmc-probe inquiry|profile|disc|quirks DEVICE");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mmc-probe: {message}");
            ExitCode::FAILURE
        }
    }
}

impl Burner {
    /// Opens the drive as the station does: read-write, non-blocking (no disc needed).
    fn open(device: &str) -> Result<Burner, String> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(device)
            .map(|file| Burner { file })
            .map_err(|err| format!("cannot open {device}: {err}"))
    }

    fn inquiry(&self) -> Result<(), String> {
        let mut data = [0u8; 96];
        self.execute(
            "INQUIRY",
            &[0x12, 0, 0, 0, 96, 0],
            Data::FromDevice(&mut data),
        )?;
        println!("peripheral-type={}", data[0] & 0x1f);
        println!("vendor={}", ascii(&data[8..16]));
        println!("product={}", ascii(&data[16..32]));
        println!("revision={}", ascii(&data[32..36]));
        Ok(())
    }

    fn profile(&self) -> Result<(), String> {
        // RT=10b: only the feature named in Starting Feature Number, 0000h (Profile List).
        let mut data = [0u8; 256];
        let cdb = [0x46, 0x02, 0, 0, 0, 0, 0, 1, 0, 0];
        self.execute("GET CONFIGURATION", &cdb, Data::FromDevice(&mut data))?;
        let data_length = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
        let end = (data_length + 4).min(data.len());
        println!(
            "current-profile=0x{:04X}",
            u16::from_be_bytes([data[6], data[7]])
        );
        let mut profiles = Vec::new();
        if end >= 12 && u16::from_be_bytes([data[8], data[9]]) == 0 {
            let list_end = (12 + data[11] as usize).min(end);
            for descriptor in data[12..list_end].chunks_exact(4) {
                let number = u16::from_be_bytes([descriptor[0], descriptor[1]]);
                let current = if descriptor[2] & 1 == 1 { "*" } else { "" };
                profiles.push(format!("0x{number:04X}{current}"));
            }
        }
        println!("profiles={}", profiles.join(","));
        Ok(())
    }

    fn disc(&self) -> Result<(), String> {
        let mut info = [0u8; 34];
        let cdb = [0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0];
        self.execute("READ DISC INFORMATION", &cdb, Data::FromDevice(&mut info))?;
        let status = match info[2] & 0x03 {
            0 => "blank",
            1 => "incomplete",
            2 => "complete",
            _ => "other",
        };
        println!("disc-status={status}");
        let mut capacity = [0u8; 8];
        let cdb = [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        match self.execute("READ CAPACITY", &cdb, Data::FromDevice(&mut capacity)) {
            Ok(()) => {
                let last = u32::from_be_bytes([capacity[0], capacity[1], capacity[2], capacity[3]]);
                let size = u32::from_be_bytes([capacity[4], capacity[5], capacity[6], capacity[7]]);
                println!("readable-blocks={}", u64::from(last) + 1);
                println!("block-size={size}");
            }
            Err(message) => println!("readable-blocks=none ({message})"),
        }
        Ok(())
    }

    /// How the drive answers commands a burner may lack, one `name=answer` line each
    /// (`refused 5/20/00`, or `accepted`), then GET PERFORMANCE's residual count and the
    /// length its own header gives: the two differ when the transport hides a short answer.
    fn quirks(&self) -> Result<(), String> {
        let lacking: [(&str, &[u8], usize); 4] = [
            // Polled, media class only.
            ("gesn", &[0x4a, 0x01, 0, 0, 0x10, 0, 0, 0, 8, 0], 8),
            (
                "read-format-capacities",
                &[0x23, 0, 0, 0, 0, 0, 0, 0, 0xfc, 0],
                0xfc,
            ),
            // 16 blocks; a drive that takes it reserves nothing the test uses afterwards.
            ("reserve-track", &[0x53, 0, 0, 0, 0, 0, 0, 0, 0x10, 0], 0),
            // Format 2 (raw TOC), MSF, session 1.
            (
                "read-toc-raw",
                &[0x43, 0x02, 0x02, 0, 0, 0, 0x01, 0x04, 0, 0],
                0x400,
            ),
        ];
        for (name, cdb, length) in lacking {
            let mut data = vec![0u8; length];
            let buffer = if length == 0 {
                Data::None
            } else {
                Data::FromDevice(&mut data)
            };
            match self.send(cdb, buffer)? {
                Answer { sense: None, .. } => println!("{name}=accepted"),
                Answer {
                    sense: Some((key, asc, ascq)),
                    ..
                } => println!("{name}=refused {key:X}/{asc:02X}/{ascq:02X}"),
            }
        }
        // Write speeds, up to 64 descriptors: 8 + 64 * 16 bytes, as the station asks.
        let mut data = vec![0u8; 8 + 64 * 16];
        let cdb = [0xac, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0x03, 0];
        let answer = self.send(&cdb, Data::FromDevice(&mut data))?;
        if let Some((key, asc, ascq)) = answer.sense {
            return Err(format!(
                "GET PERFORMANCE failed: sense {key:X}/{asc:02X}/{ascq:02X}"
            ));
        }
        let announced = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize + 4;
        println!("get-performance-asked={}", data.len());
        println!("get-performance-resid={}", answer.resid);
        println!("get-performance-length={announced}");
        Ok(())
    }

    /// Runs one command; an error names it and carries the decoded sense.
    fn execute(&self, name: &str, cdb: &[u8], data: Data<'_>) -> Result<(), String> {
        match self.send(cdb, data)? {
            Answer { sense: None, .. } => Ok(()),
            Answer {
                sense: Some((key, asc, ascq)),
                ..
            } => Err(format!(
                "{name} failed: sense key 0x{key:X}, ASC/ASCQ 0x{asc:02X}/0x{ascq:02X}"
            )),
        }
    }

    /// Runs one command and returns how the drive answered; an error only when the
    /// command got no answer from the drive (the ioctl, the host adapter or the driver
    /// failed) or the drive's sense data cannot be read.
    fn send(&self, cdb: &[u8], data: Data<'_>) -> Result<Answer, String> {
        let mut sense = [0u8; 32];
        let (direction, pointer, length) = match data {
            Data::None => (SG_DXFER_NONE, std::ptr::null_mut(), 0),
            Data::FromDevice(buffer) => (
                SG_DXFER_FROM_DEV,
                buffer.as_mut_ptr().cast::<libc::c_void>(),
                buffer.len(),
            ),
        };
        let mut header = SgIoHdr {
            interface_id: SG_INTERFACE_ID,
            dxfer_direction: direction,
            cmd_len: cdb.len() as libc::c_uchar,
            mx_sb_len: sense.len() as libc::c_uchar,
            iovec_count: 0,
            dxfer_len: length as libc::c_uint,
            dxferp: pointer,
            cmdp: cdb.as_ptr(),
            sbp: sense.as_mut_ptr(),
            timeout: 60_000,
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
        // SAFETY: SG_IO reads `header` and, through it, `cdb` (cmd_len bytes, its real
        // length); it writes at most mx_sb_len bytes to `sense` (its real length) and moves
        // at most dxfer_len bytes to or from the data buffer, which is the live slice the
        // pointer came from (null with length 0 when there is none). All of them outlive the
        // call; the kernel keeps no pointer after it returns.
        let result = unsafe { libc::ioctl(self.file.as_raw_fd(), SG_IO, &mut header) };
        let opcode = cdb.first().copied().unwrap_or(0);
        if result < 0 {
            return Err(format!(
                "command {opcode:02X}h: SG_IO failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        let written = &sense[..usize::from(header.sb_len_wr).min(sense.len())];
        // CHECK CONDITION (status 02h) with sense data is an answer; anything else that is
        // not GOOD means the command never got one.
        if header.status == 0x02 && header.host_status == 0 {
            return match sense_fields(written) {
                Some(fields) => Ok(Answer {
                    sense: Some(fields),
                    resid: header.resid,
                }),
                None => Err(format!(
                    "command {opcode:02X}h: CHECK CONDITION without readable sense data"
                )),
            };
        }
        if header.status != 0 || header.host_status != 0 || header.driver_status & 0x07 != 0 {
            return Err(format!(
                "command {opcode:02X}h failed: status 0x{:02X}, host 0x{:X}, driver 0x{:X}",
                header.status, header.host_status, header.driver_status,
            ));
        }
        Ok(Answer {
            sense: None,
            resid: header.resid,
        })
    }
}

/// How the drive answered one command.
#[derive(Debug)]
struct Answer {
    /// Sense key, ASC and ASCQ of a CHECK CONDITION; `None` for GOOD.
    sense: Option<(u8, u8, u8)>,
    /// The residual count: bytes asked for but not transferred.
    resid: libc::c_int,
}

/// Sense key, ASC and ASCQ of fixed (70h/71h) or descriptor (72h/73h) sense data.
fn sense_fields(sense: &[u8]) -> Option<(u8, u8, u8)> {
    match sense.first().map(|code| code & 0x7f) {
        Some(0x70 | 0x71) if sense.len() >= 14 => Some((sense[2] & 0x0f, sense[12], sense[13])),
        Some(0x72 | 0x73) if sense.len() >= 4 => Some((sense[1] & 0x0f, sense[2], sense[3])),
        _ => None,
    }
}

/// An INQUIRY text field, without its padding.
fn ascii(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}
