//! burnstation-images: what a disc holds.
//!
//! Turns a tree of files into the exact bytes of a disc image, as a stream in LBA order with
//! bounded memory, and reads such images back. It never touches hardware (that is
//! `burnstation-hal`); it only reads files and produces bytes. Library code here never prints
//! and never exits.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod digest;
pub mod iso9660;
pub mod plan;
