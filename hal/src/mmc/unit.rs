//! The drive as a unit: TEST UNIT READY, REQUEST SENSE, INQUIRY, START STOP UNIT and
//! PREVENT ALLOW MEDIUM REMOVAL (SPC-4, MMC-5 section 6; mmc.md 1.13, 1.14).

use std::time::Duration;

use super::{Cdb, Command, DataIn, LengthField, ParseError, announced_slice, bit};
use crate::scsi::{Sense, SenseError};

/// TEST UNIT READY (00h): GOOD when a medium is ready, else CHECK CONDITION with why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestUnitReady;

impl Command for TestUnitReady {
    const OPCODE: u8 = 0x00;
    fn cdb(&self) -> Cdb {
        Cdb::new6(Self::OPCODE)
    }
}

/// REQUEST SENSE (03h): the sense of the last command, or the progress of a running
/// FORMAT/BLANK/CLOSE (mmc.md 1.14). Asked once: reading it clears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestSense {
    /// Ask for descriptor format (DESC bit); drives may ignore it.
    pub descriptor_format: bool,
    /// Allocation length (1 byte).
    pub allocation_length: u8,
}

impl Default for RequestSense {
    fn default() -> Self {
        RequestSense {
            descriptor_format: false,
            // Pioneer sends 22 bytes (a vendor loading status in byte 21); 252 is SPC's
            // maximum and costs nothing.
            allocation_length: 252,
        }
    }
}

impl Command for RequestSense {
    const OPCODE: u8 = 0x03;
    fn cdb(&self) -> Cdb {
        Cdb::new6(Self::OPCODE)
            .with(1, self.descriptor_format as u8)
            .with(4, self.allocation_length)
    }
}

impl DataIn for RequestSense {
    type Response = Sense;
    const LENGTH: LengthField = LengthField::Once;
    fn allocation_length(&self) -> u32 {
        self.allocation_length as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        RequestSense {
            allocation_length: len.min(255) as u8,
            ..*self
        }
    }
    fn parse(bytes: &[u8]) -> Result<Sense, ParseError> {
        Sense::parse(bytes).map_err(|e| match e {
            SenseError::Short { len } => ParseError::short("sense data", 3, len),
            other => ParseError::inconsistent("sense data", other.to_string()),
        })
    }
}

/// INQUIRY (12h), standard data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inquiry {
    /// Allocation length (2 bytes since SPC-3; old ATAPI drives read only byte 4, so keep
    /// it below 256).
    pub allocation_length: u16,
}

impl Default for Inquiry {
    fn default() -> Self {
        Inquiry {
            allocation_length: 96,
        }
    }
}

impl Command for Inquiry {
    const OPCODE: u8 = 0x12;
    fn cdb(&self) -> Cdb {
        Cdb::new6(Self::OPCODE).with_u16(3, self.allocation_length)
    }
}

/// The peripheral device type of an MMC drive (INQUIRY byte 0, SPC "CD/DVD device").
pub const PERIPHERAL_TYPE_MMC: u8 = 0x05;

/// Standard INQUIRY data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InquiryData {
    /// Byte 0 bits 7-5.
    pub peripheral_qualifier: u8,
    /// Byte 0 bits 4-0: 05h for an optical drive.
    pub peripheral_type: u8,
    /// Byte 1 bit 7.
    pub removable: bool,
    /// Byte 2: the SPC version claimed.
    pub version: u8,
    /// Bytes 8-15, trimmed.
    pub vendor: String,
    /// Bytes 16-31, trimmed.
    pub product: String,
    /// Bytes 32-35, trimmed.
    pub revision: String,
}

impl InquiryData {
    /// Parses standard INQUIRY data. Needs the 5-byte header; the identification strings
    /// are taken as far as they were sent.
    pub fn parse(bytes: &[u8]) -> Result<InquiryData, ParseError> {
        let b = announced_slice(bytes, Inquiry::LENGTH);
        if b.len() < 5 {
            return Err(ParseError::short("INQUIRY data", 5, b.len()));
        }
        let text = |from: usize, to: usize| -> String {
            let field = b.get(from..to.min(b.len())).unwrap_or(&[]);
            field
                .iter()
                .map(|&c| {
                    if (0x20..0x7f).contains(&c) {
                        c as char
                    } else {
                        ' '
                    }
                })
                .collect::<String>()
                .trim()
                .to_string()
        };
        Ok(InquiryData {
            peripheral_qualifier: b[0] >> 5,
            peripheral_type: b[0] & 0x1f,
            removable: bit(b, 1, 7),
            version: b[2],
            vendor: text(8, 16),
            product: text(16, 32),
            revision: text(32, 36),
        })
    }

    /// True when this is an optical (MMC) drive.
    pub fn is_optical(&self) -> bool {
        self.peripheral_type == PERIPHERAL_TYPE_MMC
    }
}

impl DataIn for Inquiry {
    type Response = InquiryData;
    const LENGTH: LengthField = LengthField::At {
        offset: 4,
        width: 1,
        plus: 5,
    };
    fn allocation_length(&self) -> u32 {
        self.allocation_length as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        Inquiry {
            allocation_length: len.min(255) as u16,
        }
    }
    fn parse(bytes: &[u8]) -> Result<InquiryData, ParseError> {
        InquiryData::parse(bytes)
    }
}

/// What START STOP UNIT (1Bh) does (byte 4: LoEj bit 1, Start bit 0; mmc.md 1.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartStopAction {
    /// 00h: spin down.
    Stop,
    /// 01h: spin up and make the medium ready.
    Start,
    /// 02h: open the tray.
    Eject,
    /// 03h: close the tray and load the disc.
    Load,
}

/// START STOP UNIT (1Bh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartStopUnit {
    /// What to do.
    pub action: StartStopAction,
    /// Return before the mechanism finishes (byte 1 bit 0). growisofs uses an Immed STOP
    /// as a barrier after CLOSE on Pioneer drives.
    pub immediate: bool,
}

impl Command for StartStopUnit {
    const OPCODE: u8 = 0x1b;
    fn cdb(&self) -> Cdb {
        let byte4 = match self.action {
            StartStopAction::Stop => 0x00,
            StartStopAction::Start => 0x01,
            StartStopAction::Eject => 0x02,
            StartStopAction::Load => 0x03,
        };
        Cdb::new6(Self::OPCODE)
            .with(1, self.immediate as u8)
            .with(4, byte4)
    }
    fn timeout(&self) -> Duration {
        // Tray mechanics and spin-up take seconds; a slim USB drive may need many.
        Duration::from_secs(60)
    }
}

/// PREVENT ALLOW MEDIUM REMOVAL (1Eh): lock or unlock the tray.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreventAllowMediumRemoval {
    /// True to lock (byte 4 bit 0).
    pub prevent: bool,
}

impl Command for PreventAllowMediumRemoval {
    const OPCODE: u8 = 0x1e;
    fn cdb(&self) -> Cdb {
        Cdb::new6(Self::OPCODE).with(4, self.prevent as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmc::testutil::hex;
    use crate::scsi::SenseKey;

    #[test]
    fn cdbs() {
        assert_eq!(TestUnitReady.cdb().as_bytes(), hex("00 00 00 00 00 00"));
        assert_eq!(
            RequestSense::default().cdb().as_bytes(),
            hex("03 00 00 00 fc 00")
        );
        assert_eq!(
            RequestSense {
                descriptor_format: true,
                allocation_length: 18
            }
            .cdb()
            .as_bytes(),
            hex("03 01 00 00 12 00")
        );
        assert_eq!(
            Inquiry::default().cdb().as_bytes(),
            hex("12 00 00 00 60 00")
        );
        let ssu = |action, immediate| StartStopUnit { action, immediate }.cdb();
        assert_eq!(
            ssu(StartStopAction::Eject, false).as_bytes(),
            hex("1b 00 00 00 02 00")
        );
        assert_eq!(
            ssu(StartStopAction::Load, false).as_bytes(),
            hex("1b 00 00 00 03 00")
        );
        assert_eq!(
            ssu(StartStopAction::Start, true).as_bytes(),
            hex("1b 01 00 00 01 00")
        );
        assert_eq!(
            ssu(StartStopAction::Stop, true).as_bytes(),
            hex("1b 01 00 00 00 00")
        );
        assert_eq!(
            PreventAllowMediumRemoval { prevent: true }.cdb().as_bytes(),
            hex("1e 00 00 00 01 00")
        );
        assert_eq!(
            PreventAllowMediumRemoval { prevent: false }
                .cdb()
                .as_bytes(),
            hex("1e 00 00 00 00 00")
        );
        assert_eq!(
            Inquiry::default()
                .with_allocation_length(5)
                .cdb()
                .as_bytes(),
            hex("12 00 00 00 05 00")
        );
    }

    fn gp60n_inquiry() -> Vec<u8> {
        // The R1 drive: HL-DT-ST DVD+-RW GP60N A300 (mmc.md R1), ATAPI behind USB.
        let mut b = vec![0x05, 0x80, 0x00, 0x32, 0x1f, 0, 0, 0];
        b.extend_from_slice(b"HL-DT-ST");
        b.extend_from_slice(b"DVD+-RW GP60N   ");
        b.extend_from_slice(b"A300");
        b
    }

    #[test]
    fn inquiry_of_a_burner() {
        let d = InquiryData::parse(&gp60n_inquiry()).unwrap();
        assert_eq!(d.vendor, "HL-DT-ST");
        assert_eq!(d.product, "DVD+-RW GP60N");
        assert_eq!(d.revision, "A300");
        assert!(d.is_optical() && d.removable);
    }

    #[test]
    fn inquiry_short_and_odd() {
        assert!(matches!(
            InquiryData::parse(&[0x05, 0x80, 0, 0]),
            Err(ParseError::Short {
                need: 5,
                got: 4,
                ..
            })
        ));
        // Additional length says 3: identification strings absent, not garbage.
        let mut b = gp60n_inquiry();
        b[4] = 3;
        let d = InquiryData::parse(&b).unwrap();
        assert_eq!(d.vendor, "");
        // A disk, not a burner.
        let mut b = gp60n_inquiry();
        b[0] = 0x00;
        assert!(!InquiryData::parse(&b).unwrap().is_optical());
    }

    #[test]
    fn request_sense_parses_r4() {
        let b = hex("70 00 02 00 00 00 00 0a 00 00 00 00 04 08 00 80 00 00");
        let s = RequestSense::parse(&b).unwrap();
        assert_eq!(s.key, SenseKey::NotReady);
        assert!(matches!(
            RequestSense::parse(&[0x70]),
            Err(ParseError::Short { .. })
        ));
        assert!(matches!(
            RequestSense::parse(&[0x00; 18]),
            Err(ParseError::Inconsistent { .. })
        ));
    }
}
