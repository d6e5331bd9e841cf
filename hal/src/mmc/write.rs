//! Recording and reading: RESERVE TRACK (53h), WRITE(10)/(12), READ(10)/(12), SYNCHRONIZE
//! CACHE (35h), CLOSE TRACK/SESSION (5Bh), BLANK (A1h) and FORMAT UNIT (04h)
//! (MMC-5 section 6; mmc.md 1.10-1.13).
//!
//! These only build CDBs and parameter lists. Which of them a medium accepts, in which
//! order, and with which alignment is the burn sequence's job (mmc.md 2.2, 2.3).

use std::time::Duration;

pub use super::disc::FormatType;
use super::disc::FormattableCapacity;
use super::{Cdb, Command, IMMED_TIMEOUT, LONG_OPERATION_TIMEOUT};

/// WRITE timeout: libburn's 200 s. A drive waiting for its buffer answers 2/04/08 well
/// before that.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(200);
/// READ timeout: room for the drive's own retries on a marginal sector.
pub const READ_TIMEOUT: Duration = Duration::from_secs(120);
/// SYNCHRONIZE CACHE without Immed: growisofs allows 15 minutes in DAO.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// FORMAT UNIT without Immed: a certifying BD-RE format takes hours.
pub const FORMAT_TIMEOUT: Duration = Duration::from_secs(3 * 60 * 60);

/// RESERVE TRACK (53h) by size (ARSV = 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReserveTrack {
    /// Bytes 5-8: blocks to reserve. DAO on DVD-R needs the exact, 16-block aligned size.
    pub blocks: u32,
}

impl Command for ReserveTrack {
    const OPCODE: u8 = 0x53;
    fn cdb(&self) -> Cdb {
        Cdb::new10(Self::OPCODE).with_u32(5, self.blocks)
    }
    fn timeout(&self) -> Duration {
        // Some drives write the reservation into the RMA at once.
        Duration::from_secs(120)
    }
}

/// WRITE(10) (2Ah).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Write10 {
    /// Bytes 2-5. Signed on CD: SAO starts at −150 (FFFFFF6Ah).
    pub lba: u32,
    /// Bytes 7-8.
    pub blocks: u16,
    /// Byte 1 bit 3: force unit access.
    pub fua: bool,
}

impl Command for Write10 {
    const OPCODE: u8 = 0x2a;
    fn cdb(&self) -> Cdb {
        Cdb::new10(Self::OPCODE)
            .with(1, (self.fua as u8) << 3)
            .with_u32(2, self.lba)
            .with_u16(7, self.blocks)
    }
    fn timeout(&self) -> Duration {
        WRITE_TIMEOUT
    }
}

/// WRITE(12) (AAh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Write12 {
    /// Bytes 2-5.
    pub lba: u32,
    /// Bytes 6-9.
    pub blocks: u32,
    /// Byte 10 bit 7: streaming (no verify-after-write or defect management on BD-RE and
    /// DVD-RAM; BD-RE then wants whole 64 KiB writes: mmc.md 1.13).
    pub streaming: bool,
    /// Byte 1 bit 3.
    pub fua: bool,
}

impl Command for Write12 {
    const OPCODE: u8 = 0xaa;
    fn cdb(&self) -> Cdb {
        Cdb::new12(Self::OPCODE)
            .with(1, (self.fua as u8) << 3)
            .with_u32(2, self.lba)
            .with_u32(6, self.blocks)
            .with(10, (self.streaming as u8) << 7)
    }
    fn timeout(&self) -> Duration {
        WRITE_TIMEOUT
    }
}

/// READ(10) (28h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read10 {
    /// Bytes 2-5.
    pub lba: u32,
    /// Bytes 7-8.
    pub blocks: u16,
    /// Byte 1 bit 3: read from the medium, not the cache (used by read-back verification).
    pub fua: bool,
}

impl Command for Read10 {
    const OPCODE: u8 = 0x28;
    fn cdb(&self) -> Cdb {
        Cdb::new10(Self::OPCODE)
            .with(1, (self.fua as u8) << 3)
            .with_u32(2, self.lba)
            .with_u16(7, self.blocks)
    }
    fn timeout(&self) -> Duration {
        READ_TIMEOUT
    }
}

/// READ(12) (A8h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read12 {
    /// Bytes 2-5.
    pub lba: u32,
    /// Bytes 6-9.
    pub blocks: u32,
    /// Byte 10 bit 7: streaming (no retries; speed before accuracy).
    pub streaming: bool,
    /// Byte 1 bit 3.
    pub fua: bool,
}

impl Command for Read12 {
    const OPCODE: u8 = 0xa8;
    fn cdb(&self) -> Cdb {
        Cdb::new12(Self::OPCODE)
            .with(1, (self.fua as u8) << 3)
            .with_u32(2, self.lba)
            .with_u32(6, self.blocks)
            .with(10, (self.streaming as u8) << 7)
    }
    fn timeout(&self) -> Duration {
        READ_TIMEOUT
    }
}

/// SYNCHRONIZE CACHE(10) (35h) for the whole medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynchronizeCache {
    /// Byte 1 bit 1: return at once; poll TEST UNIT READY for the end (libburn, growisofs).
    pub immediate: bool,
}

impl Command for SynchronizeCache {
    const OPCODE: u8 = 0x35;
    fn cdb(&self) -> Cdb {
        Cdb::new10(Self::OPCODE).with(1, (self.immediate as u8) << 1)
    }
    fn timeout(&self) -> Duration {
        if self.immediate {
            IMMED_TIMEOUT
        } else {
            SYNC_TIMEOUT
        }
    }
}

/// CLOSE TRACK/SESSION close function (byte 2 bits 2-0). Which one a medium accepts is in
/// mmc.md 1.11's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseFunction {
    /// 000b: DVD+RW: stop background formatting (growisofs's "stop de-icing"); no error
    /// when none runs.
    StopBackgroundFormat,
    /// 001b: close the track (CD, DVD-R RZone, DVD+R fragment, BD-R).
    CloseTrack,
    /// 010b: close the session (DVD-R: the border; DVD+RW: quick stop with lead-out).
    CloseSession,
    /// 011b: valid on DVD+RW per Pioneer's table, which does not say what it does; kept so
    /// every function code can be sent.
    DvdPlusRwFunction3,
    /// 100b: DVD+R DL: close the session writing the middle zones.
    CloseSessionWithMiddleZones,
    /// 101b: DVD+R/+R DL: finalize with minimal radius (libburn; growisofs on +R DL).
    FinalizeMinimalRadius,
    /// 110b: finalize (DVD+R: growisofs `-dvd-compat`; BD-R: libburn).
    Finalize,
}

impl CloseFunction {
    /// The 3-bit code.
    pub fn code(self) -> u8 {
        match self {
            CloseFunction::StopBackgroundFormat => 0b000,
            CloseFunction::CloseTrack => 0b001,
            CloseFunction::CloseSession => 0b010,
            CloseFunction::DvdPlusRwFunction3 => 0b011,
            CloseFunction::CloseSessionWithMiddleZones => 0b100,
            CloseFunction::FinalizeMinimalRadius => 0b101,
            CloseFunction::Finalize => 0b110,
        }
    }
}

/// CLOSE TRACK/SESSION (5Bh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseTrackSession {
    /// What to close.
    pub function: CloseFunction,
    /// Bytes 4-5: the logical track number (DVD-R and BD-R want the real number, not FFh:
    /// growisofs).
    pub track: u16,
    /// Byte 1 bit 0.
    pub immediate: bool,
}

impl Command for CloseTrackSession {
    const OPCODE: u8 = 0x5b;
    fn cdb(&self) -> Cdb {
        Cdb::new10(Self::OPCODE)
            .with(1, self.immediate as u8)
            .with(2, self.function.code())
            .with_u16(4, self.track)
    }
    fn timeout(&self) -> Duration {
        if self.immediate {
            IMMED_TIMEOUT
        } else {
            LONG_OPERATION_TIMEOUT
        }
    }
}

/// BLANK type (byte 1 bits 2-0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlankType {
    /// 000b: the whole disc.
    Full,
    /// 001b: PMA, TOC and pregap only (fast; a DVD-RW loses feature 0021h: mmc.md 1.1).
    Minimal,
    /// 010b: one track.
    Track,
    /// 011b: unreserve a track.
    UnreserveTrack,
    /// 100b: the tail of a track.
    TrackTail,
    /// 101b: unclose the last session.
    UncloseLastSession,
    /// 110b: erase the last session.
    EraseSession,
}

impl BlankType {
    /// The 3-bit code.
    pub fn code(self) -> u8 {
        match self {
            BlankType::Full => 0b000,
            BlankType::Minimal => 0b001,
            BlankType::Track => 0b010,
            BlankType::UnreserveTrack => 0b011,
            BlankType::TrackTail => 0b100,
            BlankType::UncloseLastSession => 0b101,
            BlankType::EraseSession => 0b110,
        }
    }
}

/// BLANK (A1h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blank {
    /// What to blank.
    pub blank_type: BlankType,
    /// Bytes 2-5: start address or track number (types 010b, 011b, 100b).
    pub address: u32,
    /// Byte 1 bit 4.
    pub immediate: bool,
}

impl Command for Blank {
    const OPCODE: u8 = 0xa1;
    fn cdb(&self) -> Cdb {
        Cdb::new12(Self::OPCODE)
            .with(1, (self.immediate as u8) << 4 | self.blank_type.code())
            .with_u32(2, self.address)
    }
    fn timeout(&self) -> Duration {
        if self.immediate {
            IMMED_TIMEOUT
        } else {
            LONG_OPERATION_TIMEOUT
        }
    }
}

/// FORMAT UNIT (04h) with FmtData=1 and format code 001b, and its 12-byte parameter list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatUnit {
    /// Format type.
    pub format_type: FormatType,
    /// Sub-type (byte 8 bits 1-0): BD-RE 30h certification choice, BD-R 00h/32h SRM±POW.
    pub subtype: u8,
    /// Bytes 4-7: number of blocks (FFFFFFFFh allowed for 26h).
    pub blocks: u32,
    /// Bytes 9-11: type-dependent parameter, copied from READ FORMAT CAPACITIES.
    pub type_dependent: u32,
    /// DVD+RW 26h only: restart a suspended background format (byte 11 bit 0).
    pub restart: bool,
    /// Header byte 1 bit 1: return at once and report progress in sense bytes 16-17.
    pub immediate: bool,
}

impl FormatUnit {
    /// A format built from an offer in READ FORMAT CAPACITIES, as libburn and growisofs do:
    /// copy the descriptor and change only what the type allows (mmc.md 1.12).
    pub fn from_offer(offer: &FormattableCapacity, subtype: u8, immediate: bool) -> FormatUnit {
        FormatUnit {
            format_type: offer.format_type,
            subtype,
            blocks: offer.blocks,
            type_dependent: offer.type_dependent,
            restart: false,
            immediate,
        }
    }

    /// The 12-byte parameter list: 4-byte header (FOV=0, Immed, descriptor length 8) and
    /// one format descriptor.
    pub fn parameter_list(&self) -> [u8; 12] {
        let mut p = [0u8; 12];
        p[1] = (self.immediate as u8) << 1;
        p[3] = 8;
        p[4..8].copy_from_slice(&self.blocks.to_be_bytes());
        p[8] = self.format_type.code() << 2 | (self.subtype & 0x03);
        let tdp = self.type_dependent.to_be_bytes();
        p[9..12].copy_from_slice(&tdp[1..4]);
        if self.restart {
            p[11] |= 0x01;
        }
        p
    }
}

impl Command for FormatUnit {
    const OPCODE: u8 = 0x04;
    fn cdb(&self) -> Cdb {
        // FmtData (bit 4) + format code 001b: 11h, as every reference sends it.
        Cdb::new6(Self::OPCODE).with(1, 0x11)
    }
    fn timeout(&self) -> Duration {
        if self.immediate {
            IMMED_TIMEOUT
        } else {
            FORMAT_TIMEOUT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmc::testutil::hex;

    #[test]
    fn write_and_read_cdbs() {
        // The brief's example: 16 blocks at LBA 0x1234.
        let w = Write10 {
            lba: 0x1234,
            blocks: 16,
            fua: false,
        };
        assert_eq!(w.cdb().as_bytes(), hex("2a 00 00 00 12 34 00 00 10 00"));
        // R4's wodim DAO write: 31 blocks at LBA 0.
        assert_eq!(
            Write10 {
                lba: 0,
                blocks: 0x1f,
                fua: false
            }
            .cdb()
            .as_bytes(),
            hex("2a 00 00 00 00 00 00 00 1f 00")
        );
        // CD SAO starts at −150.
        assert_eq!(
            Write10 {
                lba: (-150i32) as u32,
                blocks: 1,
                fua: true
            }
            .cdb()
            .as_bytes(),
            hex("2a 08 ff ff ff 6a 00 00 01 00")
        );
        assert_eq!(w.timeout(), Duration::from_secs(200));
        let w12 = Write12 {
            lba: 0x0010_0000,
            blocks: 32,
            streaming: true,
            fua: false,
        };
        assert_eq!(
            w12.cdb().as_bytes(),
            hex("aa 00 00 10 00 00 00 00 00 20 80 00")
        );
        let w12 = Write12 {
            streaming: false,
            ..w12
        };
        assert_eq!(
            w12.cdb().as_bytes(),
            hex("aa 00 00 10 00 00 00 00 00 20 00 00")
        );
        assert_eq!(
            Read10 {
                lba: 0x00ab_cdef,
                blocks: 16,
                fua: false
            }
            .cdb()
            .as_bytes(),
            hex("28 00 00 ab cd ef 00 00 10 00")
        );
        assert_eq!(
            Read12 {
                lba: 16,
                blocks: 0x0001_0000,
                streaming: true,
                fua: true
            }
            .cdb()
            .as_bytes(),
            hex("a8 08 00 00 00 10 00 01 00 00 80 00")
        );
    }

    #[test]
    fn reserve_and_sync_cdbs() {
        // 411158 blocks (R4's image) rounded up to 16: 411168 = 00064620h.
        assert_eq!(
            ReserveTrack { blocks: 411_168 }.cdb().as_bytes(),
            hex("53 00 00 00 00 00 06 46 20 00")
        );
        assert_eq!(
            SynchronizeCache { immediate: true }.cdb().as_bytes(),
            hex("35 02 00 00 00 00 00 00 00 00")
        );
        assert_eq!(
            SynchronizeCache { immediate: false }.cdb().as_bytes(),
            hex("35 00 00 00 00 00 00 00 00 00")
        );
        assert_eq!(
            SynchronizeCache { immediate: false }.timeout(),
            SYNC_TIMEOUT
        );
    }

    #[test]
    fn every_close_function() {
        let close = |function, track, immediate| CloseTrackSession {
            function,
            track,
            immediate,
        };
        let cases = [
            (
                CloseFunction::StopBackgroundFormat,
                0,
                "5b 00 00 00 00 00 00 00 00 00",
            ),
            (
                CloseFunction::CloseTrack,
                1,
                "5b 00 01 00 00 01 00 00 00 00",
            ),
            (
                CloseFunction::CloseSession,
                0,
                "5b 00 02 00 00 00 00 00 00 00",
            ),
            (
                CloseFunction::DvdPlusRwFunction3,
                0,
                "5b 00 03 00 00 00 00 00 00 00",
            ),
            (
                CloseFunction::CloseSessionWithMiddleZones,
                0,
                "5b 00 04 00 00 00 00 00 00 00",
            ),
            (
                CloseFunction::FinalizeMinimalRadius,
                0,
                "5b 00 05 00 00 00 00 00 00 00",
            ),
            (
                CloseFunction::Finalize,
                0x0102,
                "5b 00 06 00 01 02 00 00 00 00",
            ),
        ];
        for (function, track, expected) in cases {
            assert_eq!(
                close(function, track, false).cdb().as_bytes(),
                hex(expected),
                "{function:?}"
            );
        }
        let immed = close(CloseFunction::CloseTrack, 0xff, true);
        assert_eq!(immed.cdb().as_bytes(), hex("5b 01 01 00 00 ff 00 00 00 00"));
        assert_eq!(immed.timeout(), IMMED_TIMEOUT);
        assert_eq!(
            close(CloseFunction::Finalize, 1, false).timeout(),
            LONG_OPERATION_TIMEOUT
        );
    }

    #[test]
    fn every_blank_type() {
        let cases = [
            (BlankType::Full, "a1 00"),
            (BlankType::Minimal, "a1 01"),
            (BlankType::Track, "a1 02"),
            (BlankType::UnreserveTrack, "a1 03"),
            (BlankType::TrackTail, "a1 04"),
            (BlankType::UncloseLastSession, "a1 05"),
            (BlankType::EraseSession, "a1 06"),
        ];
        for (blank_type, head) in cases {
            let cdb = Blank {
                blank_type,
                address: 0,
                immediate: false,
            }
            .cdb();
            assert_eq!(
                cdb.as_bytes(),
                hex(&format!("{head} 00 00 00 00 00 00 00 00 00 00"))
            );
        }
        // R7: `a1 11 …` = Immed, minimal.
        let r7 = Blank {
            blank_type: BlankType::Minimal,
            address: 0,
            immediate: true,
        };
        assert_eq!(
            r7.cdb().as_bytes(),
            hex("a1 11 00 00 00 00 00 00 00 00 00 00")
        );
        let tail = Blank {
            blank_type: BlankType::TrackTail,
            address: 0x1234,
            immediate: true,
        };
        assert_eq!(
            tail.cdb().as_bytes(),
            hex("a1 14 00 00 12 34 00 00 00 00 00 00")
        );
    }

    #[test]
    fn format_unit_cdb_and_parameter_lists() {
        // DVD+RW de-icing (growisofs): Immed, FFFFFFFFh blocks, type 26h.
        let plus_rw = FormatUnit {
            format_type: FormatType::DvdPlusRwBasic,
            subtype: 0,
            blocks: 0xffff_ffff,
            type_dependent: 0,
            restart: false,
            immediate: true,
        };
        assert_eq!(plus_rw.cdb().as_bytes(), hex("04 11 00 00 00 00"));
        assert_eq!(
            plus_rw.parameter_list(),
            hex("00 02 00 08 ff ff ff ff 98 00 00 00")[..]
        );
        let restart = FormatUnit {
            restart: true,
            ..plus_rw
        };
        assert_eq!(
            restart.parameter_list(),
            hex("00 02 00 08 ff ff ff ff 98 00 00 01")[..]
        );

        let cases = [
            // (type, subtype, blocks, TDP, expected bytes 4-11)
            (
                FormatType::Full,
                0,
                2_297_888,
                0x800,
                "00 23 10 20 00 00 08 00",
            ), // R3 00h(800)
            (
                FormatType::DvdRwFull,
                0,
                2_297_888,
                0x10,
                "00 23 10 20 40 00 00 10",
            ), // R3 10h(10)
            (
                FormatType::DvdRwGrowSession,
                0,
                2_297_888,
                0x10,
                "00 23 10 20 44 00 00 10",
            ),
            (
                FormatType::DvdRwQuickGrow,
                0,
                0,
                0x10,
                "00 00 00 00 4c 00 00 10",
            ),
            (
                FormatType::DvdRwQuick,
                0,
                0,
                0x10,
                "00 00 00 00 54 00 00 10",
            ),
            (
                FormatType::BdReWithSpare,
                0b10,
                11_826_176,
                0x3000,
                "00 b4 74 00 c2 00 30 00",
            ), // R10, full cert
            (
                FormatType::BdReWithoutSpare,
                0,
                12_219_392,
                0x800,
                "00 ba 74 00 c4 00 08 00",
            ), // R10 31h
            (
                FormatType::BdRWithSpare,
                0b01,
                47_305_728,
                0,
                "02 d1 d4 00 c9 00 00 00",
            ), // R2, SRM-POW
            (FormatType::Full, 0b10, 0, 0xc000, "00 00 00 00 02 00 c0 00"), // BD-R RRM
        ];
        for (format_type, subtype, blocks, type_dependent, tail) in cases {
            let f = FormatUnit {
                format_type,
                subtype,
                blocks,
                type_dependent,
                restart: false,
                immediate: false,
            };
            let mut expected = hex("00 00 00 08");
            expected.extend(hex(tail));
            assert_eq!(f.parameter_list(), expected[..], "{format_type:?}");
        }
        assert_eq!(
            FormatUnit {
                immediate: false,
                ..plus_rw
            }
            .timeout(),
            FORMAT_TIMEOUT
        );
    }

    #[test]
    fn format_from_an_offer() {
        let offer = FormattableCapacity {
            blocks: 12_088_320,
            format_type: FormatType::BdReWithSpare,
            type_dependent: 0x1000,
        };
        let f = FormatUnit::from_offer(&offer, 0b11, true);
        assert_eq!(
            f.parameter_list(),
            hex("00 02 00 08 00 b8 74 00 c3 00 10 00")[..]
        );
    }

    #[test]
    fn format_type_codes_round_trip() {
        for code in 0..64u8 {
            assert_eq!(FormatType::from_code(code).code(), code);
        }
    }
}
