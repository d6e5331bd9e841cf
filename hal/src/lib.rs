//! burnstation-hal: everything that touches hardware.
//!
//! This crate speaks to optical burners and nothing else knows how. It knows SCSI and MMC,
//! drives and media; it knows nothing about backups, snapshots or disc sets (that is
//! `burnstation-images` and `burnstation`). Library code here never prints and never exits:
//! it returns typed errors and reports progress through events.
//!
//! - [`scsi`]: the [`Transport`] seam (one CDB in, status and sense out),
//!   the Linux SG_IO transport, and sense decoding.
//! - [`mmc`]: typed MMC commands: CDB builders and response parsers.
//! - [`drive`]: [`Drive`], an optical drive over any transport: identify it, wait until it
//!   is ready, read what medium it holds, lock/eject the tray, read blocks.
//! - [`ring`]: the bounded buffer between the image producer and the drive thread.
//! - [`cancel`]: stopping a long operation from another thread.
//! - [`discovery`]: which optical drives exist (udev, sysfs), their hotplug and media
//!   events, and the USB identity, link speed and reset of USB burners.
//! - [`display`]: the panels (SSD1306 OLED over I2C, ST7789 TFT over SPI), the frame they
//!   show, and a wrapper that lets the box work on when a display is missing.
//! - [`buttons`]: front-panel buttons on GPIO lines (kernel-debounced), a keyboard
//!   stand-in, and a scripted source for tests.
//! - [`recovery`]: the policy that brings a hung burner back (SCSI reset, USB reset, reopen),
//!   and [`open_local`], which opens a burner on this machine with it.
//! - [`sim`]: SimDrive, an MMC burner in software behind the same transport, with its medium
//!   in a file, paced writes and injectable faults.
//!
//! What the station uses is re-exported here, so that code above this crate names
//! `burnstation_hal::X` and never a module path or a raw MMC field.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod buttons;
pub mod cancel;
pub mod discovery;
pub mod display;
pub mod drive;
pub mod mmc;
pub mod priority;
pub mod recovery;
pub mod ring;
pub mod scsi;
pub mod sim;

pub use cancel::Cancel;
pub use drive::{
    BLOCK_SIZE, BurnError, BurnEvent, BurnOptions, BurnPhase, BurnPlan, BurnReport, DiscReader,
    Drive, DriveError, DriveInfo, FormatState, InterruptedDisc, MediaInfo, Method, NotReady,
    ReadBackError, ReadBackOptions, ReadProgress, SectorMap, SpeedRequest, WriteProgress,
    interrupted_burn,
};
pub use mmc::disc::{DiscStatus, SessionState};
pub use mmc::{MediaFamily, Profile};
#[cfg(target_os = "linux")]
pub use recovery::open_local;
pub use recovery::{Recovering, UsbPort};
pub use ring::{
    DEFAULT_RING_BYTES, MAX_RING_BYTES, MIN_RING_BYTES, RingReader, RingWriter, STATION_RING_BYTES,
    ring,
};
pub use scsi::{CommandError, Sense, SenseClass, SenseKey, Transport, TransportError};
#[cfg(target_os = "linux")]
pub use scsi::{OpenError, SgDevice};
pub use sim::{SimConfig, SimControl, SimDrive, SimError};
