//! MMC: typed commands for optical drives (MMC-5/6), one module per command family.
//!
//! Each command is a struct with its fields, an `OPCODE`, a [`Cdb`] builder and a default
//! timeout ([`Command`]). Where the drive answers with data, the command also says how to
//! find the length the drive announces ([`DataIn`]) and its response type has
//! `parse(bytes) -> Result<Self, ParseError>`. Parsers take the bytes as the drive sent
//! them, trust the length fields inside the data but never read past what was received, and
//! return an error (never a panic) when the data is short or inconsistent. Byte layouts and
//! the sources that agree on them are in `shared/notes/mmc.md`, section 1.
//!
//! [`query`] runs a data-in command the way libburn and growisofs do: ask for the header,
//! then ask again for the announced length (drives send min(allocation, available)).
//! [`run`] runs a command without a data-in phase. Neither retries.

use std::fmt;
use std::time::Duration;

use crate::scsi::{CommandError, DataTransfer, Transport, execute, opcode_name};

pub mod capacity;
pub mod config;
pub mod disc;
pub mod event;
pub mod mode;
pub mod performance;
pub mod profile;
pub mod track;
pub mod unit;
pub mod write;

pub use profile::{BLOCK_SIZE, MediaFamily, Profile};

/// Timeout for queries (INQUIRY, GET CONFIGURATION, READ DISC INFORMATION, ...): libburn's
/// default.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout for a long operation started with Immed: the drive only has to accept it.
pub const IMMED_TIMEOUT: Duration = Duration::from_secs(60);
/// Timeout for CLOSE, BLANK and SYNCHRONIZE CACHE without Immed: a full CD-RW blank at 4x
/// takes about 20 minutes, finalizing a DVD+R several.
pub const LONG_OPERATION_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// A CDB of 6, 10 or 12 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cdb {
    bytes: [u8; 12],
    len: u8,
}

impl Cdb {
    /// A zeroed CDB of `len` bytes (6, 10 or 12) starting with `opcode`.
    fn zeroed(opcode: u8, len: u8) -> Cdb {
        let mut bytes = [0u8; 12];
        bytes[0] = opcode;
        Cdb { bytes, len }
    }

    /// A 6-byte CDB.
    pub fn new6(opcode: u8) -> Cdb {
        Cdb::zeroed(opcode, 6)
    }

    /// A 10-byte CDB.
    pub fn new10(opcode: u8) -> Cdb {
        Cdb::zeroed(opcode, 10)
    }

    /// A 12-byte CDB.
    pub fn new12(opcode: u8) -> Cdb {
        Cdb::zeroed(opcode, 12)
    }

    /// The CDB bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The operation code.
    pub fn opcode(&self) -> u8 {
        self.bytes[0]
    }

    fn with(mut self, at: usize, value: u8) -> Cdb {
        self.bytes[at] = value;
        self
    }

    fn with_u16(mut self, at: usize, value: u16) -> Cdb {
        self.bytes[at..at + 2].copy_from_slice(&value.to_be_bytes());
        self
    }

    fn with_u32(mut self, at: usize, value: u32) -> Cdb {
        self.bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
        self
    }
}

impl fmt::Debug for Cdb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cdb({})", crate::scsi::CdbHex(self.as_bytes()))
    }
}

/// An MMC command: its opcode, CDB and default timeout.
pub trait Command {
    /// The operation code.
    const OPCODE: u8;

    /// The CDB for this command.
    fn cdb(&self) -> Cdb;

    /// How long the drive may take; queries default to [`QUERY_TIMEOUT`].
    fn timeout(&self) -> Duration {
        QUERY_TIMEOUT
    }

    /// The command's name ("READ DISC INFORMATION").
    fn name(&self) -> &'static str {
        opcode_name(Self::OPCODE)
    }
}

/// Where a response says how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthField {
    /// A big-endian field of `width` bytes at `offset`; the total length is its value plus
    /// `plus`.
    At {
        /// Byte offset of the field.
        offset: usize,
        /// 1, 2 or 4 bytes.
        width: usize,
        /// What to add to get the total length.
        plus: usize,
    },
    /// No length field, or asking twice would lose data (REQUEST SENSE clears the sense it
    /// returns): ask once with the command's allocation length.
    Once,
}

impl LengthField {
    /// The total length the header in `head` announces, if `head` holds the field.
    pub fn announced(self, head: &[u8]) -> Option<usize> {
        match self {
            LengthField::At {
                offset,
                width,
                plus,
            } => {
                let field = head.get(offset..offset + width)?;
                let value = field.iter().fold(0usize, |acc, &b| (acc << 8) | b as usize);
                Some(value + plus)
            }
            LengthField::Once => None,
        }
    }

    /// Bytes needed to read the field (the probe allocation).
    pub fn probe_len(self) -> usize {
        match self {
            LengthField::At { offset, width, .. } => offset + width,
            LengthField::Once => 0,
        }
    }
}

/// A command whose drive answers with data.
pub trait DataIn: Command + Sized {
    /// The parsed answer.
    type Response;

    /// Where the answer says how long it is.
    const LENGTH: LengthField;

    /// The allocation length in the CDB (bytes).
    fn allocation_length(&self) -> u32;

    /// The same command with another allocation length (clamped to what the CDB field can
    /// hold).
    fn with_allocation_length(&self, len: u32) -> Self;

    /// Parses the answer.
    fn parse(bytes: &[u8]) -> Result<Self::Response, ParseError>;
}

/// Response data that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Fewer bytes than the fields that must be there.
    #[error("{what}: the drive sent {got} bytes, at least {need} are needed")]
    Short {
        /// What was being parsed.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes usable (received, clamped to the announced length).
        got: usize,
    },
    /// Fields that contradict each other or the standard.
    #[error("{what}: {detail}")]
    Inconsistent {
        /// What was being parsed.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl ParseError {
    fn short(what: &'static str, need: usize, got: usize) -> ParseError {
        ParseError::Short { what, need, got }
    }

    fn inconsistent(what: &'static str, detail: impl Into<String>) -> ParseError {
        ParseError::Inconsistent {
            what,
            detail: detail.into(),
        }
    }
}

/// A data-in command that failed, or whose answer could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The command failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The answer could not be parsed.
    #[error("{} answered with data that makes no sense: {source}", opcode_name(*.opcode))]
    Parse {
        /// The command's operation code.
        opcode: u8,
        /// What was wrong.
        #[source]
        source: ParseError,
    },
}

impl QueryError {
    /// The command error, when the command itself failed.
    pub fn command(&self) -> Option<&CommandError> {
        match self {
            QueryError::Command(e) => Some(e),
            QueryError::Parse { .. } => None,
        }
    }

    /// True when the drive does not support the command (see
    /// [`CommandError::is_unsupported`]).
    pub fn is_unsupported(&self) -> bool {
        self.command().is_some_and(CommandError::is_unsupported)
    }
}

/// Runs a command with no data phase.
pub fn run<T: Transport + ?Sized, C: Command>(t: &mut T, cmd: &C) -> Result<(), CommandError> {
    execute(t, cmd.cdb().as_bytes(), DataTransfer::None, cmd.timeout()).map(|_| ())
}

/// Runs a command that sends `data` to the drive.
pub fn send<T: Transport + ?Sized, C: Command>(
    t: &mut T,
    cmd: &C,
    data: &[u8],
) -> Result<usize, CommandError> {
    execute(
        t,
        cmd.cdb().as_bytes(),
        DataTransfer::ToDevice(data),
        cmd.timeout(),
    )
}

/// Runs a data-in command once with its own allocation length and returns the raw bytes
/// received (clamped to what the transport says it moved).
pub fn read_raw<T: Transport + ?Sized, C: Command + DataIn>(
    t: &mut T,
    cmd: &C,
) -> Result<Vec<u8>, CommandError> {
    let mut buf = vec![0u8; cmd.allocation_length() as usize];
    let n = execute(
        t,
        cmd.cdb().as_bytes(),
        DataTransfer::FromDevice(&mut buf),
        cmd.timeout(),
    )?;
    buf.truncate(n);
    Ok(buf)
}

/// Runs a data-in command and parses the answer: first with an allocation just large enough
/// for the length field, then, if the drive announces more, again with the announced length
/// (capped at the command's own allocation length). libburn and growisofs read this way
/// (mmc.md section 0) because drives send min(allocation, available) and some misbehave
/// when asked for far more than they have.
pub fn query<T: Transport + ?Sized, C: DataIn>(
    t: &mut T,
    cmd: &C,
) -> Result<C::Response, QueryError> {
    let cap = cmd.allocation_length();
    let bytes = match C::LENGTH {
        LengthField::Once => read_raw(t, cmd)?,
        field => {
            let probe_len = (field.probe_len() as u32).min(cap);
            let probe = read_raw(t, &cmd.with_allocation_length(probe_len))?;
            match field.announced(&probe) {
                Some(total) if total > probe.len() && probe_len < cap => {
                    let want = (total as u32).min(cap);
                    read_raw(t, &cmd.with_allocation_length(want))?
                }
                _ => probe,
            }
        }
    };
    C::parse(&bytes).map_err(|source| QueryError::Parse {
        opcode: C::OPCODE,
        source,
    })
}

/// Clamps a response to the length its own header announces (never longer than received).
fn announced_slice(bytes: &[u8], field: LengthField) -> &[u8] {
    match field.announced(bytes) {
        Some(total) => &bytes[..total.min(bytes.len())],
        None => bytes,
    }
}

/// Big-endian readers that never panic: missing bytes read as zero. Used only after the
/// parser has checked that the fields it must have are there.
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([byte(b, at), byte(b, at + 1)])
}

fn be24(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([0, byte(b, at), byte(b, at + 1), byte(b, at + 2)])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([
        byte(b, at),
        byte(b, at + 1),
        byte(b, at + 2),
        byte(b, at + 3),
    ])
}

fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

fn bit(b: &[u8], at: usize, bit: u8) -> bool {
    byte(b, at) & (1 << bit) != 0
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers for the command tests: hex vectors as the spec tables write them.

    /// Parses "2a 00 00 …" into bytes.
    pub fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scsi::{Completion, TransportError};

    #[test]
    fn length_fields() {
        let two = LengthField::At {
            offset: 0,
            width: 2,
            plus: 2,
        };
        assert_eq!(two.announced(&[0x00, 0x20, 0xff]), Some(34));
        assert_eq!(two.announced(&[0x00]), None);
        assert_eq!(two.probe_len(), 2);
        let four = LengthField::At {
            offset: 0,
            width: 4,
            plus: 4,
        };
        assert_eq!(four.announced(&[0, 0, 1, 0]), Some(260));
        assert_eq!(LengthField::Once.announced(&[1, 2]), None);
    }

    /// Answers READ DISC INFORMATION from a fixed 34-byte block, honouring the allocation
    /// length like a drive, and records the allocations asked for.
    struct Announcing {
        data: Vec<u8>,
        asked: Vec<usize>,
    }

    impl Transport for Announcing {
        fn execute(
            &mut self,
            cdb: &[u8],
            data: DataTransfer<'_>,
            _timeout: Duration,
        ) -> Result<Completion, TransportError> {
            let alloc = u16::from_be_bytes([cdb[7], cdb[8]]) as usize;
            self.asked.push(alloc);
            let DataTransfer::FromDevice(buf) = data else {
                panic!("expected data in");
            };
            let n = alloc.min(self.data.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            Ok(Completion::good(n))
        }
        fn name(&self) -> &str {
            "announcing"
        }
    }

    #[test]
    fn query_asks_for_the_header_then_the_announced_length() {
        let mut data = vec![0u8; 34];
        data[1] = 32;
        data[2] = 0x0d; // complete session, appendable disc
        data[4] = 1;
        let mut t = Announcing {
            data,
            asked: vec![],
        };
        let info = query(&mut t, &disc::ReadDiscInformation::new()).unwrap();
        assert_eq!(t.asked, vec![2, 34]);
        assert_eq!(info.status, disc::DiscStatus::Appendable);
    }

    #[test]
    fn cdb_debug_is_hex() {
        let cdb = Cdb::new10(0x2a).with_u32(2, 0x1234).with_u16(7, 16);
        assert_eq!(format!("{cdb:?}"), "Cdb(2a 00 00 00 12 34 00 00 10 00)");
        assert_eq!(cdb.opcode(), 0x2a);
    }
}
