//! MMC: typed commands for optical drives (MMC-5/6), one module per command family.
//!
//! Each command is a type that builds its CDB, and, where the drive answers with data, a
//! response type with a parser. Parsers take the bytes as the drive sent them and return an
//! error (never a panic) when they are short or inconsistent.

pub mod profile;

pub use profile::{MediaFamily, Profile};
