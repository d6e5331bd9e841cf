//! burnstation: the station's own logic, shared by the command line and the daemon.
//!
//! The hardware layer (`burnstation-hal`) knows drives and media; the image layer
//! (`burnstation-images`) knows what a disc holds. This crate joins them into what a
//! person cares about: burn this tree onto a disc ([`pipeline`]), check this disc
//! ([`verify`]). Like the libraries below it, it never prints: the `burnstation` binary
//! (`src/main.rs`) is the only place that talks to a person.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod catalog;
pub mod config;
pub mod daemon;
pub mod device;
pub mod events;
pub mod hashing;
pub mod logging;
pub mod memory;
pub mod notify;
pub mod panel;
pub mod pipeline;
pub mod restore;
pub mod schedule;
pub mod snapshots;
pub mod status;
pub mod sync;
pub mod ui;
pub mod verify;

// One block size from the image down to the drive: images (which never touches hardware)
// and hal (which knows nothing of images) each state it, and they meet here.
const _: () = assert!(burnstation_images::iso9660::BLOCK == burnstation_hal::BLOCK_SIZE as u64);
