//! SimDrive driven with raw CDBs, the way a host (libburn, growisofs, our Drive) would, and
//! checked against the MMC tables and real drives' answers (`mmc.md`).
//!
//! One test binary (one link) with a module per theme.

mod host;

mod faults;
mod identify;
mod oracles;
mod overwritable;
mod pacing;
mod persistence;
mod sequences;
mod sequential;
mod shapes;
