//! Cross-crate and system tests of the burn station.
//!
//! The library part holds what several test files share, here and in the other crates'
//! tests (the [`awkward`] tree and its oracles, the disc-set tests' [`sets`] tree); the tests themselves live in `tests/tests/`. Most of it is the emulated-burner harness (see `docs/testing.md`): a
//! [`tgt`] daemon emulating a DVD burner, a cached [`guest`] (Debian's kernel, busybox), a
//! [`share`] that carries the binaries under test in and the results out, and [`qemu`]
//! booting the guest with the burner attached over USB or virtio-scsi. [`burner`] ties them
//! into the API the tests use: [`EmulatedBurner`]. A scenario of several commands uses
//! [`steps`] to get each command's own result, and [`station_log`] to read what the station
//! sent the drive. The sync tests copy from a real OpenSSH server on loopback: [`sshd`].
//!
//! Like the library crates, this code never prints and never exits: it returns errors whose
//! messages say what happened and what to do, and the tests decide what to print.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod awkward;
pub mod burner;
pub mod card;
pub mod fixtures;
pub mod guest;
pub mod host_build;
pub mod image_tree;
pub mod procfs;
pub mod qemu;
pub mod sets;
pub mod share;
pub mod sshd;
pub mod station_log;
pub mod steps;
pub mod systemd_guest;
pub mod tgt;
pub mod tools;

pub use burner::{DiscState, EmulatedBurner, GuestRun, GuestSession, SystestError};
pub use qemu::Attach;
