//! burnstation-hal: everything that touches hardware.
//!
//! This crate speaks to optical burners and nothing else knows how. It knows SCSI and MMC,
//! drives and media; it knows nothing about backups, snapshots or disc sets (that is
//! `burnstation-images` and `burnstation`). Library code here never prints and never exits:
//! it returns typed errors and reports progress through events.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]
