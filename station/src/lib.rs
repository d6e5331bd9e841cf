//! burnstation: the station's own logic, shared by the command line and the daemon.
//!
//! The hardware layer (`burnstation-hal`) knows drives and media; the image layer
//! (`burnstation-images`) knows what a disc holds. This crate joins them into the jobs a
//! person cares about: burn this tree, check this disc. Like the libraries below it, it never
//! prints: the `burnstation` binary (`src/main.rs`) is the only place that talks to a person.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod catalog;
pub mod device;
pub mod hashing;
pub mod job;
pub mod regions;
pub mod restore;
pub mod ui;
pub mod verify;
