//! Burn sequences and read-back against SimDrive: every medium profile, and every fault the
//! burn must survive or report.
//!
//! Each test burns a pseudo-random image (not a multiple of the write unit, so padding is
//! exercised) onto a fresh SimDrive medium, then checks what an outsider would: the bytes in
//! the medium file, the disc state a drive reports afterwards, the command sequence the spec
//! requires for that medium (from SimDrive's log), and a read-back through the drive.

mod faults;
mod presence;
mod profiles;

use std::path::{Path, PathBuf};

use burnstation_hal::Profile;
use burnstation_hal::cancel::Cancel;
use burnstation_hal::drive::{
    BurnEvent, BurnOptions, BurnReport, Drive, ReadBackOptions, SectorMap,
};
use burnstation_hal::sim::{SimConfig, SimControl, SimDrive};

/// A drive and its medium in a temporary directory.
#[allow(missing_debug_implementations)]
pub struct Rig {
    pub drive: Drive<SimDrive>,
    pub control: SimControl,
    pub medium: PathBuf,
    _dir: tempfile::TempDir,
}

impl Rig {
    pub fn new(profile: Profile) -> Rig {
        Rig::with(profile, |_| {})
    }

    /// A rig whose configuration `adjust` may change before the drive opens.
    pub fn with(profile: Profile, adjust: impl FnOnce(&mut SimConfig)) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let medium = dir.path().join("disc.img");
        let mut config = SimConfig::new(&medium, profile);
        adjust(&mut config);
        let sim = SimDrive::open(config).unwrap();
        let control = sim.control();
        let mut drive = Drive::new(sim);
        // Polls need not wait in real time: SimDrive's operations finish on its own clock.
        drive.set_sleep(|d| std::thread::sleep(d.min(std::time::Duration::from_millis(2))));
        Rig {
            drive,
            control,
            medium,
            _dir: dir,
        }
    }

    /// Plans and burns `image` with `options`, collecting the events.
    pub fn burn(
        &mut self,
        image: &[u8],
        options: &BurnOptions,
    ) -> Result<(BurnReport, Vec<BurnEvent>), burnstation_hal::drive::BurnError> {
        let blocks = image.len() as u64 / 2048;
        let plan = self.drive.plan_burn(blocks, options)?;
        let mut events = Vec::new();
        let mut source = std::io::Cursor::new(image);
        let report =
            self.drive
                .burn(&plan, &mut source, &mut |e| events.push(e), &Cancel::new())?;
        Ok((report, events))
    }

    /// Reads `blocks` blocks back from block 0.
    pub fn read_back(&mut self, blocks: u64) -> (Vec<u8>, SectorMap) {
        let mut data = Vec::with_capacity(blocks as usize * 2048);
        let map = self
            .drive
            .read_back(
                0,
                blocks,
                &ReadBackOptions::default(),
                &mut |_, chunk| data.extend_from_slice(chunk),
                &mut |_| {},
                &Cancel::new(),
            )
            .unwrap();
        (data, map)
    }

    /// The commands that change something (queries and polls left out), consecutive
    /// repeats of one WRITE form collapsed, as readable tokens.
    pub fn actions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in self.control.commands() {
            let cdb = c.cdb();
            let token = match cdb[0] {
                0x1e => {
                    if cdb[4] & 1 == 1 {
                        "PREVENT".to_string()
                    } else {
                        "ALLOW".to_string()
                    }
                }
                0xb6 => "SET STREAMING".to_string(),
                0xbb => "SET CD SPEED".to_string(),
                0x55 => "MODE SELECT".to_string(),
                0x53 => format!(
                    "RESERVE {}",
                    u32::from_be_bytes([cdb[5], cdb[6], cdb[7], cdb[8]])
                ),
                0x2a => "WRITE(10)".to_string(),
                0xaa => format!(
                    "WRITE(12){}",
                    if cdb[10] & 0x80 != 0 {
                        " streaming"
                    } else {
                        ""
                    }
                ),
                0x35 => format!("SYNC{}", if cdb[1] & 2 != 0 { " immed" } else { "" }),
                0x5b => format!("CLOSE {:03b}", cdb[2] & 7),
                0xa1 => format!("BLANK {:03b}", cdb[1] & 7),
                0x04 => "FORMAT".to_string(),
                _ => continue,
            };
            if !c.result.is_good() {
                continue;
            }
            if out.last() == Some(&token) && token.starts_with("WRITE") {
                continue;
            }
            out.push(token);
        }
        out
    }

    /// The medium file's first `len` bytes.
    pub fn medium_bytes(&self, len: usize) -> Vec<u8> {
        read_prefix(&self.medium, len)
    }
}

pub fn read_prefix(path: &Path, len: usize) -> Vec<u8> {
    use std::io::Read;
    let mut buf = vec![0u8; len];
    let mut file = std::fs::File::open(path).unwrap();
    let mut got = 0;
    while got < len {
        let n = file.read(&mut buf[got..]).unwrap();
        if n == 0 {
            break;
        }
        got += n;
    }
    buf.truncate(got);
    buf
}

/// A deterministic image of `blocks` blocks whose every 4-byte word differs from its
/// neighbours, so a lost, repeated or shifted block is visible.
pub fn image(blocks: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    let mut out = Vec::with_capacity(blocks * 2048);
    for _ in 0..blocks * 512 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}
