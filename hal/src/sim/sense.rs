//! Sense data the software drive answers with, in the fixed format (70h) MMC drives send.
//!
//! Every CHECK CONDITION the [`SimDrive`](super::SimDrive) returns carries one of the named
//! [`Sense`] values below, so the conditions read like the table in `mmc.md` 2.4 and the
//! tests can compare against the same names. This module only encodes: deciding which sense
//! applies is the job of the command handlers.

/// One sense condition: sense key, additional sense code and qualifier, and the optional
/// information field (an LBA) and progress indication (bytes 16-17, of 65536).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sense {
    pub(crate) key: u8,
    pub(crate) asc: u8,
    pub(crate) ascq: u8,
    pub(crate) information: Option<u32>,
    pub(crate) progress: Option<u16>,
}

/// Length of the fixed-format sense data the drive returns (additional length 10).
pub(crate) const FIXED_SENSE_LEN: usize = 18;

impl Sense {
    pub(crate) const fn new(key: u8, asc: u8, ascq: u8) -> Sense {
        Sense {
            key,
            asc,
            ascq,
            information: None,
            progress: None,
        }
    }

    /// The same condition naming an LBA in the information field (Valid bit set).
    pub(crate) fn at(self, lba: u32) -> Sense {
        Sense {
            information: Some(lba),
            ..self
        }
    }

    /// The same condition with a progress indication (SKSV set, bytes 16-17).
    pub(crate) fn with_progress(self, progress: u16) -> Sense {
        Sense {
            progress: Some(progress),
            ..self
        }
    }

    /// Fixed-format sense data (SPC "fixed format sense data", current error 70h).
    pub(crate) fn to_fixed(self) -> [u8; FIXED_SENSE_LEN] {
        let mut bytes = [0u8; FIXED_SENSE_LEN];
        bytes[0] = 0x70;
        if let Some(lba) = self.information {
            bytes[0] |= 0x80;
            bytes[3..7].copy_from_slice(&lba.to_be_bytes());
        }
        bytes[2] = self.key & 0x0f;
        bytes[7] = (FIXED_SENSE_LEN - 8) as u8;
        bytes[12] = self.asc;
        bytes[13] = self.ascq;
        if let Some(progress) = self.progress {
            bytes[15] = 0x80;
            bytes[16..18].copy_from_slice(&progress.to_be_bytes());
        }
        bytes
    }
}

/// 0/00/00: nothing to report.
pub(crate) const NO_SENSE: Sense = Sense::new(0x0, 0x00, 0x00);
/// 2/04/01: becoming ready (spinning up after a load).
pub(crate) const BECOMING_READY: Sense = Sense::new(0x2, 0x04, 0x01);
/// 2/04/04: format in progress.
pub(crate) const FORMAT_IN_PROGRESS: Sense = Sense::new(0x2, 0x04, 0x04);
/// 2/04/07: operation in progress (synchronize, close, blank).
pub(crate) const OPERATION_IN_PROGRESS: Sense = Sense::new(0x2, 0x04, 0x07);
/// 2/04/08: long write in progress: the buffer is full, resend the same WRITE later.
pub(crate) const LONG_WRITE_IN_PROGRESS: Sense = Sense::new(0x2, 0x04, 0x08);
/// 2/3A/00: medium not present.
pub(crate) const NO_MEDIUM: Sense = Sense::new(0x2, 0x3a, 0x00);
/// 2/3A/01: medium not present, tray closed.
pub(crate) const NO_MEDIUM_TRAY_CLOSED: Sense = Sense::new(0x2, 0x3a, 0x01);
/// 2/3A/02: medium not present, tray open.
pub(crate) const NO_MEDIUM_TRAY_OPEN: Sense = Sense::new(0x2, 0x3a, 0x02);
/// 2/53/02: medium removal prevented, answered to an eject without a medium.
pub(crate) const REMOVAL_PREVENTED_NOT_READY: Sense = Sense::new(0x2, 0x53, 0x02);
/// 3/0C/00: write error.
pub(crate) const WRITE_ERROR: Sense = Sense::new(0x3, 0x0c, 0x00);
/// 3/11/00: unrecovered read error.
pub(crate) const UNRECOVERED_READ_ERROR: Sense = Sense::new(0x3, 0x11, 0x00);
/// 5/20/00: invalid command operation code.
pub(crate) const INVALID_OPCODE: Sense = Sense::new(0x5, 0x20, 0x00);
/// 5/21/00: logical block address out of range.
pub(crate) const LBA_OUT_OF_RANGE: Sense = Sense::new(0x5, 0x21, 0x00);
/// 5/21/02: invalid address for write.
pub(crate) const INVALID_ADDRESS_FOR_WRITE: Sense = Sense::new(0x5, 0x21, 0x02);
/// 5/24/00: invalid field in CDB.
pub(crate) const INVALID_FIELD_IN_CDB: Sense = Sense::new(0x5, 0x24, 0x00);
/// 5/26/00: invalid field in parameter list.
pub(crate) const INVALID_FIELD_IN_PARAMETER_LIST: Sense = Sense::new(0x5, 0x26, 0x00);
/// 5/2C/00: command sequence error.
pub(crate) const COMMAND_SEQUENCE_ERROR: Sense = Sense::new(0x5, 0x2c, 0x00);
/// 5/30/05: cannot write medium, incompatible format.
pub(crate) const CANNOT_WRITE_MEDIUM: Sense = Sense::new(0x5, 0x30, 0x05);
/// 5/30/06: cannot format (or blank) medium, incompatible medium.
pub(crate) const CANNOT_FORMAT_MEDIUM: Sense = Sense::new(0x5, 0x30, 0x06);
/// 5/30/10: medium not formatted.
pub(crate) const MEDIUM_NOT_FORMATTED: Sense = Sense::new(0x5, 0x30, 0x10);
/// 5/39/00: saving parameters not supported.
pub(crate) const SAVING_NOT_SUPPORTED: Sense = Sense::new(0x5, 0x39, 0x00);
/// 5/53/02: medium removal prevented.
pub(crate) const REMOVAL_PREVENTED: Sense = Sense::new(0x5, 0x53, 0x02);
/// 5/63/00: end of user area encountered on this track.
pub(crate) const END_OF_USER_AREA: Sense = Sense::new(0x5, 0x63, 0x00);
/// 5/64/00: illegal mode for this track.
pub(crate) const ILLEGAL_MODE_FOR_TRACK: Sense = Sense::new(0x5, 0x64, 0x00);
/// 5/72/03: session fixation error, incomplete track in session.
pub(crate) const INCOMPLETE_TRACK_IN_SESSION: Sense = Sense::new(0x5, 0x72, 0x03);
/// 5/72/04: empty or partially written reserved track.
pub(crate) const EMPTY_RESERVED_TRACK: Sense = Sense::new(0x5, 0x72, 0x04);
/// 6/28/00: not ready to ready change, medium may have changed.
pub(crate) const MEDIUM_CHANGED: Sense = Sense::new(0x6, 0x28, 0x00);
/// 6/29/00: power on, reset, or bus device reset occurred.
pub(crate) const POWER_ON_RESET: Sense = Sense::new(0x6, 0x29, 0x00);
/// 8/00/00: blank check (reading an unrecorded CD sector).
pub(crate) const BLANK_CHECK: Sense = Sense::new(0x8, 0x00, 0x00);

/// Progress of `done` out of `total`, scaled to the 16-bit field of sense bytes 16-17.
pub(crate) fn progress_fraction(done: u128, total: u128) -> u16 {
    if total == 0 {
        return 0;
    }
    (done.min(total) * 65535 / total) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_format_matches_spc_layout() {
        let bytes = WRITE_ERROR.at(0x330).to_fixed();
        assert_eq!(bytes[0], 0xf0, "current error with the Valid bit");
        assert_eq!(bytes[2], 0x03);
        assert_eq!(&bytes[3..7], &[0, 0, 0x03, 0x30]);
        assert_eq!(bytes[7], 10, "additional length counts bytes 8..17");
        assert_eq!((bytes[12], bytes[13]), (0x0c, 0x00));
        assert_eq!(bytes[15], 0, "no sense-key specific data");

        let busy = OPERATION_IN_PROGRESS.with_progress(0x8000).to_fixed();
        assert_eq!(busy[0], 0x70);
        assert_eq!(busy[2], 0x02);
        assert_eq!((busy[12], busy[13]), (0x04, 0x07));
        assert_eq!(busy[15], 0x80, "SKSV");
        assert_eq!(&busy[16..18], &[0x80, 0x00]);
    }

    #[test]
    fn progress_is_scaled_and_clamped() {
        assert_eq!(progress_fraction(0, 10), 0);
        assert_eq!(progress_fraction(5, 10), 32767);
        assert_eq!(progress_fraction(20, 10), 65535);
        assert_eq!(progress_fraction(1, 0), 0);
    }
}
