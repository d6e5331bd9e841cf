//! burnstation-hal: everything that touches hardware.
//!
//! This crate speaks to optical burners and nothing else knows how. It knows SCSI and MMC,
//! drives and media; it knows nothing about backups, snapshots or disc sets (that is
//! `burnstation-images` and `burnstation`). Library code here never prints and never exits:
//! it returns typed errors and reports progress through events.
//!
//! - [`scsi`]: the [`Transport`](scsi::Transport) seam (one CDB in, status and sense out),
//!   the Linux SG_IO transport, and sense decoding.
//! - [`mmc`]: typed MMC commands: CDB builders and response parsers.
//! - [`sim`]: SimDrive, an MMC burner in software behind the same transport, with its medium
//!   in a file, paced writes and injectable faults.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod mmc;
pub mod scsi;
pub mod sim;
