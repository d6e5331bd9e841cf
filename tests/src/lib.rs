//! Cross-crate and system tests of the burn station.
//!
//! The library part holds what several test files share; the tests themselves live in
//! `tests/tests/`. It is growing the emulated-burner harness: so far [`tgt`], a private tgtd
//! per test emulating a DVD burner, [`guest`], the cached guest (Debian's kernel, busybox)
//! that will drive it, and [`tools`], the host programs the harness runs.
//!
//! Like the library crates, this code never prints and never exits: it returns errors whose
//! messages say what happened and what to do, and the tests decide what to print.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod guest;
pub mod tgt;
pub mod tools;
