//! A software disc changer, `sim-changer:DIR?options`: a SimDrive that, whenever its tray is
//! opened, gets a new blank disc as a volunteer would put one in.
//!
//! The daemon burns a set disc after disc and ejects each one; with a plain `sim:` drive
//! somebody would have to swap the medium file between discs. The changer does it: each
//! eject (START STOP UNIT with LoEj) is passed to the drive, which takes the disc out, and
//! then the next file `DIR/disc-NNN.img` goes in as a blank disc of the spec's profile. The
//! burnt discs stay in DIR, each readable with `isoinfo -i`, `xorriso -indev` or `7z`.
//!
//! Every disc's file (and its `.state.json`) outlives the process, so a daemon killed
//! mid-burn and started again finds the half-burnt disc still in the drive: the newest
//! `disc-NNN.img` in DIR is the one loaded at start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use burnstation_hal::scsi::{Completion, DataTransfer, Status};
use burnstation_hal::{
    Profile, SimConfig, SimControl, SimDrive, SimError, Transport, TransportError,
};

/// START STOP UNIT.
const START_STOP_UNIT: u8 = 0x1B;

/// The prefix of a changer's spec.
pub const PREFIX: &str = "sim-changer:";

/// A SimDrive with a stack of blank discs.
#[derive(Debug)]
pub struct SimChanger {
    drive: SimDrive,
    control: SimControl,
    dir: PathBuf,
    profile: Profile,
    /// The number of the disc in the drive.
    loaded: u32,
    name: String,
}

impl SimChanger {
    /// Opens the changer `spec` names (`sim-changer:DIR?profile=...&capacity=...`, the
    /// options of a `sim:` drive), with the newest disc in DIR loaded, or a first blank one.
    pub fn open(spec: &str, command_log_limit: usize) -> Result<SimChanger, SimError> {
        let rest = spec.strip_prefix(PREFIX).unwrap_or(spec);
        let (dir, options) = rest.split_once('?').unwrap_or((rest, ""));
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).map_err(|source| {
            SimError::Medium(burnstation_hal::sim::MediumError::Io {
                path: dir.clone(),
                source,
            })
        })?;
        let loaded = newest_disc(&dir).unwrap_or(1);
        let sim_spec = format!("sim:{}?{options}", disc_path(&dir, loaded).display());
        let mut config = SimConfig::from_spec(&sim_spec)?;
        config.command_log_limit = Some(command_log_limit);
        let profile = config.profile;
        let drive = SimDrive::open(config)?;
        let control = drive.control();
        Ok(SimChanger {
            drive,
            control,
            name: spec.to_string(),
            dir,
            profile,
            loaded,
        })
    }

    /// The file of the disc in the drive.
    pub fn loaded_disc(&self) -> PathBuf {
        disc_path(&self.dir, self.loaded)
    }

    /// Takes the disc out and puts the next blank one in.
    fn change_disc(&mut self) -> Result<(), TransportError> {
        let next = self.loaded + 1;
        let path = disc_path(&self.dir, next);
        self.control
            .insert_medium(&path, self.profile)
            .map_err(|e| {
                TransportError::Io(std::io::Error::other(format!(
                    "the software changer could not load {}: {e}",
                    path.display()
                )))
            })?;
        tracing::info!(disc = %path.display(), "software changer: a blank disc went in");
        self.loaded = next;
        Ok(())
    }
}

/// `DIR/disc-007.img`.
pub fn disc_path(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("disc-{number:03}.img"))
}

/// The highest disc number with a file in `dir`.
fn newest_disc(dir: &Path) -> Option<u32> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("disc-")?
                .strip_suffix(".img")?
                .parse()
                .ok()
        })
        .max()
}

/// Whether `cdb` opens the tray: START STOP UNIT with LoEj set and Start clear.
fn is_eject(cdb: &[u8]) -> bool {
    cdb.len() >= 6 && cdb[0] == START_STOP_UNIT && cdb[4] & 0b11 == 0b10
}

impl Transport for SimChanger {
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataTransfer<'_>,
        timeout: Duration,
    ) -> Result<Completion, TransportError> {
        let completion = self.drive.execute(cdb, data, timeout)?;
        if is_eject(cdb) && completion.status == Status::Good {
            self.change_disc()?;
        }
        Ok(completion)
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        self.drive.reset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_eject_changes_the_disc() {
        assert!(is_eject(&[0x1B, 0, 0, 0, 0b10, 0]));
        assert!(!is_eject(&[0x1B, 0, 0, 0, 0b11, 0]), "load");
        assert!(!is_eject(&[0x1B, 0, 0, 0, 0b01, 0]), "start");
        assert!(!is_eject(&[0x00, 0, 0, 0, 0b10, 0]), "another command");
    }

    #[test]
    fn the_newest_disc_file_is_loaded_again() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(newest_disc(dir.path()), None);
        for n in [1, 2, 10] {
            std::fs::write(disc_path(dir.path(), n), b"").unwrap();
        }
        std::fs::write(dir.path().join("disc-002.img.state.json"), b"{}").unwrap();
        assert_eq!(newest_disc(dir.path()), Some(10));
    }
}
