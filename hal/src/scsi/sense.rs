//! Sense data: what a drive says went wrong, decoded and classified.
//!
//! Decodes both formats a Linux SG_IO caller can receive: fixed (70h current, 71h deferred)
//! and descriptor (72h/73h; the host side of a USB or ATA bridge sometimes answers with it,
//! mmc.md 1.14 / R4). Decoding never panics: sense that is too short to hold a sense key, or
//! that starts with an unknown response code, is a [`SenseError`].
//!
//! [`Sense::class`] turns key/ASC/ASCQ into what the burn logic does next ([`SenseClass`]);
//! [`Sense::meaning`] and `Display` give the plain-English sentence for people. This module
//! decides nothing about retries itself.

use std::fmt;

use super::asc::asc_meaning;

/// The sense key (SPC-4 table "Sense key descriptions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenseKey {
    /// 0h: nothing to report (or only a progress indication).
    NoSense,
    /// 1h: the command succeeded after the drive recovered from an error.
    RecoveredError,
    /// 2h: the drive cannot execute commands now.
    NotReady,
    /// 3h: a flaw in the medium or in the recorded data.
    MediumError,
    /// 4h: the drive itself failed.
    HardwareError,
    /// 5h: the command, or something in it, is not acceptable.
    IllegalRequest,
    /// 6h: something changed (medium, reset, parameters) since the last command.
    UnitAttention,
    /// 7h: the medium is protected against this operation.
    DataProtect,
    /// 8h: a blank (never written) area was read, or a written area was to be written.
    BlankCheck,
    /// 9h.
    VendorSpecific,
    /// Ah.
    CopyAborted,
    /// Bh: the drive aborted the command; the host may retry.
    AbortedCommand,
    /// Ch (obsolete EQUAL).
    Obsolete0C,
    /// Dh.
    VolumeOverflow,
    /// Eh: a verify found data that differs.
    Miscompare,
    /// Fh.
    Completed,
}

impl SenseKey {
    /// The key for the low four bits of `nibble`.
    pub fn from_nibble(nibble: u8) -> SenseKey {
        match nibble & 0x0f {
            0x0 => SenseKey::NoSense,
            0x1 => SenseKey::RecoveredError,
            0x2 => SenseKey::NotReady,
            0x3 => SenseKey::MediumError,
            0x4 => SenseKey::HardwareError,
            0x5 => SenseKey::IllegalRequest,
            0x6 => SenseKey::UnitAttention,
            0x7 => SenseKey::DataProtect,
            0x8 => SenseKey::BlankCheck,
            0x9 => SenseKey::VendorSpecific,
            0xa => SenseKey::CopyAborted,
            0xb => SenseKey::AbortedCommand,
            0xc => SenseKey::Obsolete0C,
            0xd => SenseKey::VolumeOverflow,
            0xe => SenseKey::Miscompare,
            _ => SenseKey::Completed,
        }
    }

    /// The key's number (0..=15).
    pub fn code(self) -> u8 {
        match self {
            SenseKey::NoSense => 0x0,
            SenseKey::RecoveredError => 0x1,
            SenseKey::NotReady => 0x2,
            SenseKey::MediumError => 0x3,
            SenseKey::HardwareError => 0x4,
            SenseKey::IllegalRequest => 0x5,
            SenseKey::UnitAttention => 0x6,
            SenseKey::DataProtect => 0x7,
            SenseKey::BlankCheck => 0x8,
            SenseKey::VendorSpecific => 0x9,
            SenseKey::CopyAborted => 0xa,
            SenseKey::AbortedCommand => 0xb,
            SenseKey::Obsolete0C => 0xc,
            SenseKey::VolumeOverflow => 0xd,
            SenseKey::Miscompare => 0xe,
            SenseKey::Completed => 0xf,
        }
    }

    /// The key's name as a sentence start ("Not ready").
    pub fn name(self) -> &'static str {
        match self {
            SenseKey::NoSense => "No sense",
            SenseKey::RecoveredError => "Recovered error",
            SenseKey::NotReady => "Not ready",
            SenseKey::MediumError => "Medium error",
            SenseKey::HardwareError => "Hardware error",
            SenseKey::IllegalRequest => "Illegal request",
            SenseKey::UnitAttention => "Unit attention",
            SenseKey::DataProtect => "Data protect",
            SenseKey::BlankCheck => "Blank check",
            SenseKey::VendorSpecific => "Vendor specific",
            SenseKey::CopyAborted => "Copy aborted",
            SenseKey::AbortedCommand => "Aborted command",
            SenseKey::Obsolete0C => "Obsolete key 0Ch",
            SenseKey::VolumeOverflow => "Volume overflow",
            SenseKey::Miscompare => "Miscompare",
            SenseKey::Completed => "Completed",
        }
    }
}

/// Which of the two sense data formats the drive used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenseFormat {
    /// Response code 70h/71h.
    Fixed,
    /// Response code 72h/73h.
    Descriptor,
}

/// The three sense-key-specific bytes, decoded by what the key says they hold (SPC-4 4.5.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenseKeySpecific {
    /// Keys 0 and 2: progress of a long operation (FORMAT, BLANK, CLOSE, SYNCHRONIZE CACHE
    /// with Immed), in 1/65536 steps.
    Progress(u16),
    /// Key 5: which byte (and bit) of the CDB or parameter list was wrong.
    FieldPointer {
        /// True when the error is in the CDB, false when in the parameter list.
        in_cdb: bool,
        /// The bit within the byte, when the drive says which.
        bit: Option<u8>,
        /// The byte offset.
        byte: u16,
    },
    /// Keys 1, 3 and 4: how many retries the drive made.
    RetryCount(u16),
    /// Any other key: the raw bytes.
    Raw([u8; 3]),
}

/// Decoded sense data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sense {
    /// Fixed or descriptor format.
    pub format: SenseFormat,
    /// True for deferred errors (71h/73h): they belong to an earlier command, typically
    /// a WRITE whose data the drive had cached.
    pub deferred: bool,
    /// The sense key.
    pub key: SenseKey,
    /// Additional sense code.
    pub asc: u8,
    /// Additional sense code qualifier.
    pub ascq: u8,
    /// Incorrect length indicator.
    pub ili: bool,
    /// The information field when the drive marked it valid (often the failing LBA).
    pub information: Option<u64>,
    /// The command-specific information field, when present and non-zero.
    pub command_specific: Option<u64>,
    /// The sense-key-specific bytes, when the drive marked them valid (SKSV).
    pub key_specific: Option<SenseKeySpecific>,
    /// The field replaceable unit code, when non-zero.
    pub fru: Option<u8>,
}

/// What the burn logic does about a sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenseClass {
    /// Key 0 or 1: the command completed; nothing to do.
    Recovered,
    /// A transport or bus glitch (parity, CRC, data phase): resend the command at once.
    RetryNow,
    /// The drive is busy with something that will end (becoming ready, format, long write,
    /// operation in progress): wait a little and resend.
    WaitAndRetry,
    /// No disc in the drive (xx/3A/xx).
    NoMedium,
    /// Not ready for a reason waiting will not fix (needs a start command, manual help).
    NotReady,
    /// The disc cannot be used for this (wrong format, not formatted, not erasable:
    /// xx/30/xx).
    IncompatibleMedium,
    /// A flaw on the disc or in the recording (key 3): a bad disc, not a bad drive.
    MediumError,
    /// The drive failed (key 4).
    HardwareError,
    /// The drive refused the command as given (key 5): our bug, or a state the command
    /// does not apply to.
    IllegalRequest,
    /// The drive does not support the command or one of its fields (ASC 20h/00h or 24h/00h,
    /// whatever the key: tgt answers these with NOT READY): fall back to something else.
    Unsupported,
    /// Something changed since the last command (6/28 medium changed, 6/29 reset, ...).
    UnitAttention,
    /// The disc is write-protected against this (key 7).
    DataProtect,
    /// A blank area was read (key 8: reading past the written part of a CD).
    BlankCheck,
    /// The drive aborted the command (key Bh): retry once.
    Aborted,
    /// A verify miscompared (key Eh).
    Miscompare,
    /// Anything else.
    Other,
}

/// Sense bytes that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenseError {
    /// Fewer bytes than the format's sense key needs.
    #[error("the drive sent {len} sense bytes, too few to hold a sense key")]
    Short {
        /// How many bytes there were.
        len: usize,
    },
    /// The response code is neither 70h-73h.
    #[error("the drive sent sense data with unknown response code {code:#04x}")]
    UnknownResponseCode {
        /// Byte 0 & 7Fh.
        code: u8,
    },
}

impl Sense {
    /// Decodes fixed or descriptor sense data. Trusts the additional length byte (7) only up
    /// to what was received, as the Linux kernel does (`scsi_normalize_sense`): fields past
    /// the end read as absent.
    pub fn parse(bytes: &[u8]) -> Result<Sense, SenseError> {
        let Some(&first) = bytes.first() else {
            return Err(SenseError::Short { len: 0 });
        };
        match first & 0x7f {
            code @ (0x70 | 0x71) => Self::parse_fixed(bytes, code == 0x71),
            code @ (0x72 | 0x73) => Self::parse_descriptor(bytes, code == 0x73),
            code => Err(SenseError::UnknownResponseCode { code }),
        }
    }

    fn parse_fixed(bytes: &[u8], deferred: bool) -> Result<Sense, SenseError> {
        if bytes.len() < 3 {
            return Err(SenseError::Short { len: bytes.len() });
        }
        let len = match bytes.get(7) {
            Some(&additional) => bytes.len().min(8 + additional as usize),
            None => bytes.len(),
        };
        let b = &bytes[..len];
        let key = SenseKey::from_nibble(b[2]);
        let info_valid = b[0] & 0x80 != 0;
        let information = match (info_valid, b.get(3..7)) {
            (true, Some(f)) => Some(u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as u64),
            _ => None,
        };
        let command_specific = b
            .get(8..12)
            .map(|f| u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as u64)
            .filter(|&v| v != 0);
        let key_specific = match b.get(15..18) {
            Some(f) if f[0] & 0x80 != 0 => Some(decode_key_specific(key, [f[0], f[1], f[2]])),
            _ => None,
        };
        Ok(Sense {
            format: SenseFormat::Fixed,
            deferred,
            key,
            asc: b.get(12).copied().unwrap_or(0),
            ascq: b.get(13).copied().unwrap_or(0),
            ili: b[2] & 0x20 != 0,
            information,
            command_specific,
            key_specific,
            fru: b.get(14).copied().filter(|&v| v != 0),
        })
    }

    fn parse_descriptor(bytes: &[u8], deferred: bool) -> Result<Sense, SenseError> {
        if bytes.len() < 4 {
            return Err(SenseError::Short { len: bytes.len() });
        }
        let key = SenseKey::from_nibble(bytes[1]);
        let mut sense = Sense {
            format: SenseFormat::Descriptor,
            deferred,
            key,
            asc: bytes[2],
            ascq: bytes[3],
            ili: false,
            information: None,
            command_specific: None,
            key_specific: None,
            fru: None,
        };
        let end = match bytes.get(7) {
            Some(&additional) => bytes.len().min(8 + additional as usize),
            None => return Ok(sense),
        };
        // Descriptors: type, additional length, then that many bytes (SPC-4 4.5.2.1). A
        // descriptor that runs past the end is ignored rather than trusted.
        let mut at = 8;
        while at + 2 <= end {
            let kind = bytes[at];
            let body_end = at + 2 + bytes[at + 1] as usize;
            if body_end > end {
                break;
            }
            let d = &bytes[at..body_end];
            match kind {
                0x00 if d.len() >= 12 && d[2] & 0x80 != 0 => {
                    sense.information = Some(be_u64(&d[4..12]));
                }
                0x01 if d.len() >= 12 => {
                    sense.command_specific = Some(be_u64(&d[4..12])).filter(|&v| v != 0);
                }
                0x02 if d.len() >= 7 && d[4] & 0x80 != 0 => {
                    sense.key_specific = Some(decode_key_specific(key, [d[4], d[5], d[6]]));
                }
                0x03 if d.len() >= 4 => sense.fru = Some(d[3]).filter(|&v| v != 0),
                // Stream commands (04h) and block commands (05h) both carry ILI in byte 3.
                0x04 | 0x05 if d.len() >= 4 => sense.ili = d[3] & 0x20 != 0,
                _ => {}
            }
            at = body_end;
        }
        Ok(sense)
    }

    /// A current, fixed-format sense with just key/ASC/ASCQ (for transports that make up
    /// sense themselves, and for tests).
    pub fn new(key: SenseKey, asc: u8, ascq: u8) -> Sense {
        Sense {
            format: SenseFormat::Fixed,
            deferred: false,
            key,
            asc,
            ascq,
            ili: false,
            information: None,
            command_specific: None,
            key_specific: None,
            fru: None,
        }
    }

    /// Encodes this sense in fixed format (18 bytes). Values that do not fit the fixed
    /// format's 4-byte fields are truncated to their low 32 bits.
    pub fn to_fixed(&self) -> [u8; 18] {
        let mut b = [0u8; 18];
        b[0] = if self.deferred { 0x71 } else { 0x70 };
        if let Some(info) = self.information {
            b[0] |= 0x80;
            b[3..7].copy_from_slice(&(info as u32).to_be_bytes());
        }
        b[2] = self.key.code() | if self.ili { 0x20 } else { 0 };
        b[7] = 10;
        if let Some(cs) = self.command_specific {
            b[8..12].copy_from_slice(&(cs as u32).to_be_bytes());
        }
        b[12] = self.asc;
        b[13] = self.ascq;
        b[14] = self.fru.unwrap_or(0);
        if let Some(ks) = self.key_specific {
            b[15..18].copy_from_slice(&encode_key_specific(ks));
        }
        b
    }

    /// The plain-English meaning of ASC/ASCQ, or a fallback naming the pair's range.
    pub fn meaning(&self) -> &'static str {
        asc_meaning(self.asc, self.ascq).unwrap_or("condition not described by the standards")
    }

    /// Progress of a long operation as a fraction 0.0..1.0, when the drive reports one.
    pub fn progress(&self) -> Option<f64> {
        match self.key_specific {
            Some(SenseKeySpecific::Progress(p)) => Some(p as f64 / 65536.0),
            _ => None,
        }
    }

    /// True for ASC 20h/00h (invalid opcode) or 24h/00h (invalid field in CDB), whatever the
    /// key: tgt reports both with NOT READY (mmc.md section 0), real drives with ILLEGAL
    /// REQUEST. Either way the caller should fall back, not fail.
    pub fn is_unsupported(&self) -> bool {
        matches!((self.asc, self.ascq), (0x20, 0x00) | (0x24, 0x00))
    }

    /// What the burn logic should do about this sense.
    pub fn class(&self) -> SenseClass {
        if self.is_unsupported() {
            return SenseClass::Unsupported;
        }
        if self.asc == 0x3a {
            return SenseClass::NoMedium;
        }
        match self.key {
            SenseKey::NoSense | SenseKey::RecoveredError => SenseClass::Recovered,
            SenseKey::NotReady => match (self.asc, self.ascq) {
                // libburn and growisofs treat ASC 04h as "try again later" (burning-anchors
                // B.4); 04/00 is what some drives say while spinning up.
                (0x04, 0x00 | 0x01 | 0x04 | 0x07 | 0x08 | 0x09 | 0x1a | 0x1b) => {
                    SenseClass::WaitAndRetry
                }
                (0x3e, 0x00) | (0x2c, 0x07) => SenseClass::WaitAndRetry,
                (0x30, _) => SenseClass::IncompatibleMedium,
                _ => SenseClass::NotReady,
            },
            SenseKey::MediumError => SenseClass::MediumError,
            SenseKey::HardwareError => SenseClass::HardwareError,
            SenseKey::IllegalRequest => match self.asc {
                0x30 => SenseClass::IncompatibleMedium,
                _ => SenseClass::IllegalRequest,
            },
            SenseKey::UnitAttention => SenseClass::UnitAttention,
            SenseKey::DataProtect => SenseClass::DataProtect,
            SenseKey::BlankCheck => SenseClass::BlankCheck,
            SenseKey::AbortedCommand => match self.asc {
                // Link-level trouble between host and drive: the command never ran.
                0x08 | 0x47 | 0x48 | 0x4b | 0x4e => SenseClass::RetryNow,
                _ => SenseClass::Aborted,
            },
            SenseKey::Miscompare => SenseClass::Miscompare,
            _ => SenseClass::Other,
        }
    }

    /// True for 2/04/08 "long write in progress": the drive's buffer is full; resend the
    /// same WRITE after a short wait (mmc.md 2.4, PI R11).
    pub fn is_long_write_in_progress(&self) -> bool {
        self.key == SenseKey::NotReady && self.asc == 0x04 && self.ascq == 0x08
    }
}

impl fmt::Display for Sense {
    /// "Not ready: long write in progress (2/04/08)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.deferred {
            f.write_str("deferred error: ")?;
        }
        write!(
            f,
            "{}: {} ({:X}/{:02X}/{:02X})",
            self.key.name(),
            self.meaning(),
            self.key.code(),
            self.asc,
            self.ascq
        )?;
        // Progress means something for long operations; a long write in progress carries
        // SKSV with 0 (R4), which would only confuse a reader.
        if let Some(p) = self
            .progress()
            .filter(|_| !self.is_long_write_in_progress())
        {
            write!(f, ", {:.0}% done", p * 100.0)?;
        }
        Ok(())
    }
}

fn be_u64(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

fn decode_key_specific(key: SenseKey, f: [u8; 3]) -> SenseKeySpecific {
    let value = u16::from_be_bytes([f[1], f[2]]);
    match key {
        SenseKey::NoSense | SenseKey::NotReady => SenseKeySpecific::Progress(value),
        SenseKey::IllegalRequest => SenseKeySpecific::FieldPointer {
            in_cdb: f[0] & 0x40 != 0,
            bit: (f[0] & 0x08 != 0).then_some(f[0] & 0x07),
            byte: value,
        },
        SenseKey::RecoveredError | SenseKey::MediumError | SenseKey::HardwareError => {
            SenseKeySpecific::RetryCount(value)
        }
        _ => SenseKeySpecific::Raw(f),
    }
}

fn encode_key_specific(ks: SenseKeySpecific) -> [u8; 3] {
    let with = |first: u8, value: u16| {
        let [hi, lo] = value.to_be_bytes();
        [first, hi, lo]
    };
    match ks {
        SenseKeySpecific::Progress(v) | SenseKeySpecific::RetryCount(v) => with(0x80, v),
        SenseKeySpecific::FieldPointer { in_cdb, bit, byte } => {
            let mut first = 0x80 | if in_cdb { 0x40 } else { 0 };
            if let Some(bit) = bit {
                first |= 0x08 | (bit & 0x07);
            }
            with(first, byte)
        }
        SenseKeySpecific::Raw(raw) => [raw[0] | 0x80, raw[1], raw[2]],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mmc.md R4: the TUR after a timed-out DAO WRITE on a GMA-4082N answered
    /// `70 00 02 … 0C 04 08 00 80`: 2/04/08 with SKSV set and progress 0.
    const R4_SENSE: [u8; 18] = [
        0x70, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x04, 0x08, 0x00,
        0x80, 0x00, 0x00,
    ];

    #[test]
    fn r4_long_write_in_progress() {
        let s = Sense::parse(&R4_SENSE).unwrap();
        assert_eq!(s.format, SenseFormat::Fixed);
        assert_eq!(s.key, SenseKey::NotReady);
        assert_eq!((s.asc, s.ascq), (0x04, 0x08));
        assert!(!s.deferred && !s.ili);
        assert_eq!(s.information, None);
        assert_eq!(s.key_specific, Some(SenseKeySpecific::Progress(0)));
        assert_eq!(s.progress(), Some(0.0));
        assert_eq!(s.class(), SenseClass::WaitAndRetry);
        assert!(s.is_long_write_in_progress());
        assert_eq!(s.to_string(), "Not ready: long write in progress (2/04/08)");
    }

    #[test]
    fn fixed_with_information_progress_and_deferred() {
        // A deferred medium error at LBA 0x1234 after a cached write.
        let mut b = Sense::new(SenseKey::MediumError, 0x0c, 0x00).to_fixed();
        b[0] = 0xf1;
        b[3..7].copy_from_slice(&0x1234u32.to_be_bytes());
        let s = Sense::parse(&b).unwrap();
        assert!(s.deferred);
        assert_eq!(s.information, Some(0x1234));
        assert_eq!(s.class(), SenseClass::MediumError);
        assert_eq!(
            s.to_string(),
            "deferred error: Medium error: write error (3/0C/00)"
        );

        // FORMAT in progress, half done.
        let mut b = Sense::new(SenseKey::NotReady, 0x04, 0x04).to_fixed();
        b[15..18].copy_from_slice(&[0x80, 0x80, 0x00]);
        let s = Sense::parse(&b).unwrap();
        assert_eq!(s.progress(), Some(0.5));
        assert!(s.to_string().ends_with("(2/04/04), 50% done"), "{s}");
    }

    #[test]
    fn field_pointer_on_illegal_request() {
        let mut b = Sense::new(SenseKey::IllegalRequest, 0x24, 0x00).to_fixed();
        b[15..18].copy_from_slice(&[0xcb, 0x00, 0x02]); // CDB byte 2, bit 3
        let s = Sense::parse(&b).unwrap();
        assert_eq!(
            s.key_specific,
            Some(SenseKeySpecific::FieldPointer {
                in_cdb: true,
                bit: Some(3),
                byte: 2
            })
        );
    }

    #[test]
    fn fixed_round_trips() {
        let mut s = Sense::new(SenseKey::IllegalRequest, 0x21, 0x02);
        s.information = Some(0x0023_0540);
        s.ili = true;
        s.fru = Some(7);
        s.command_specific = Some(9);
        s.key_specific = Some(SenseKeySpecific::FieldPointer {
            in_cdb: false,
            bit: None,
            byte: 300,
        });
        assert_eq!(Sense::parse(&s.to_fixed()).unwrap(), s);
    }

    #[test]
    fn descriptor_format_from_an_ata_bridge() {
        // mmc.md R4: `72 0B 00 00 …` key Bh with an ATA status return descriptor (09h).
        let b = [
            0x72, 0x0b, 0x00, 0x00, 0, 0, 0, 0x0e, 0x09, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x51,
        ];
        let s = Sense::parse(&b).unwrap();
        assert_eq!(s.format, SenseFormat::Descriptor);
        assert_eq!(s.key, SenseKey::AbortedCommand);
        assert_eq!(s.class(), SenseClass::Aborted);
        assert_eq!(
            s.to_string(),
            "Aborted command: no additional information (B/00/00)"
        );
    }

    #[test]
    fn descriptor_information_and_progress() {
        let b = [
            0x73, 0x02, 0x04, 0x07, 0, 0, 0, 20, // header, 20 bytes of descriptors
            0x00, 0x0a, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0x12, 0x34, // information
            0x02, 0x06, 0, 0, 0x80, 0x40, 0x00, 0, // sense key specific: progress 1/4
        ];
        let s = Sense::parse(&b).unwrap();
        assert!(s.deferred);
        assert_eq!(s.information, Some(0x1234));
        assert_eq!(s.progress(), Some(0.25));
        assert_eq!(s.class(), SenseClass::WaitAndRetry);
    }

    #[test]
    fn short_and_garbage_sense_are_errors() {
        assert_eq!(Sense::parse(&[]), Err(SenseError::Short { len: 0 }));
        assert_eq!(Sense::parse(&[0x70, 0]), Err(SenseError::Short { len: 2 }));
        assert_eq!(
            Sense::parse(&[0x72, 0x02, 0x04]),
            Err(SenseError::Short { len: 3 })
        );
        assert_eq!(
            Sense::parse(&[0x00; 18]),
            Err(SenseError::UnknownResponseCode { code: 0 })
        );
        // A descriptor that claims to run past the end is ignored, not trusted.
        let b = [
            0x72, 0x03, 0x11, 0x00, 0, 0, 0, 6, 0x00, 0x0a, 0x80, 0, 0, 0,
        ];
        let s = Sense::parse(&b).unwrap();
        assert_eq!(s.information, None);
    }

    #[test]
    fn additional_length_limits_the_fields() {
        // Additional length 4: the sense ends at byte 11, so ASC/ASCQ read as absent.
        let mut b = R4_SENSE;
        b[7] = 4;
        let s = Sense::parse(&b).unwrap();
        assert_eq!((s.asc, s.ascq), (0, 0));
        assert_eq!(s.key, SenseKey::NotReady);
    }

    #[test]
    fn classification() {
        let class = |k: u8, asc, ascq| Sense::new(SenseKey::from_nibble(k), asc, ascq).class();
        assert_eq!(class(0, 0, 0), SenseClass::Recovered);
        assert_eq!(class(1, 0x17, 0x01), SenseClass::Recovered);
        for q in [0x01, 0x04, 0x07, 0x08] {
            assert_eq!(class(2, 0x04, q), SenseClass::WaitAndRetry, "2/04/{q:02x}");
        }
        assert_eq!(class(2, 0x04, 0x02), SenseClass::NotReady);
        assert_eq!(class(2, 0x3a, 0x00), SenseClass::NoMedium);
        assert_eq!(class(2, 0x3a, 0x02), SenseClass::NoMedium);
        assert_eq!(class(3, 0x0c, 0x00), SenseClass::MediumError);
        assert_eq!(class(3, 0x11, 0x00), SenseClass::MediumError);
        assert_eq!(class(3, 0x73, 0x03), SenseClass::MediumError);
        assert_eq!(class(4, 0x44, 0x00), SenseClass::HardwareError);
        assert_eq!(class(5, 0x21, 0x02), SenseClass::IllegalRequest);
        assert_eq!(class(5, 0x30, 0x06), SenseClass::IncompatibleMedium);
        assert_eq!(class(5, 0x20, 0x00), SenseClass::Unsupported);
        assert_eq!(class(5, 0x24, 0x00), SenseClass::Unsupported);
        // tgt's quirk: unsupported commands answered with NOT READY.
        assert_eq!(class(2, 0x20, 0x00), SenseClass::Unsupported);
        assert_eq!(class(2, 0x24, 0x00), SenseClass::Unsupported);
        assert_eq!(class(6, 0x28, 0x00), SenseClass::UnitAttention);
        assert_eq!(class(6, 0x29, 0x00), SenseClass::UnitAttention);
        assert_eq!(class(7, 0x27, 0x00), SenseClass::DataProtect);
        assert_eq!(class(8, 0x00, 0x00), SenseClass::BlankCheck);
        assert_eq!(class(0xb, 0x00, 0x00), SenseClass::Aborted);
        assert_eq!(class(0xb, 0x47, 0x00), SenseClass::RetryNow);
        assert_eq!(class(0xe, 0x1d, 0x00), SenseClass::Miscompare);
        assert_eq!(class(0xd, 0x00, 0x00), SenseClass::Other);
    }

    #[test]
    fn unknown_pair_still_displays_its_numbers() {
        let s = Sense::new(SenseKey::MediumError, 0x0f, 0x00);
        assert_eq!(
            s.to_string(),
            "Medium error: condition not described by the standards (3/0F/00)"
        );
    }

    #[test]
    fn every_key_round_trips() {
        for n in 0..16u8 {
            assert_eq!(SenseKey::from_nibble(n).code(), n);
        }
    }
}
