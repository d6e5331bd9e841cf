//! Mode pages 05h (write parameters) and 2Ah (capabilities and mechanical status): their
//! bytes (`mmc.md` 1.7), and which write parameters this drive accepts for which medium.
//!
//! Page 05h matters only on CD and on DVD-R/-RW/-R DL in sequential mode; on DVD+R, DVD+RW,
//! formatted DVD-RW and BD it does not apply (PI BDR-203), so a MODE SELECT of it there is
//! taken and ignored (growisofs sends one on DVD+R anyway).

use crate::mmc::Profile;

use super::sense::{self, Sense};

/// Write type 0: packet / incremental.
pub(crate) const WRITE_TYPE_PACKET: u8 = 0;
/// Write type 1: track at once.
pub(crate) const WRITE_TYPE_TAO: u8 = 1;
/// Write type 2: session at once on CD ...
pub(crate) const WRITE_TYPE_SAO: u8 = 2;
/// ... and disc at once on DVD-R/-RW (the same code).
pub(crate) const WRITE_TYPE_DAO: u8 = 2;

/// Page 05h with its 2-byte header: page length 32h.
pub(crate) const WRITE_PAGE_LEN: usize = 0x32 + 2;

/// The fields of page 05h.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WriteParameters {
    pub(crate) buffer_underrun_protection: bool,
    pub(crate) ls_v: bool,
    pub(crate) test_write: bool,
    pub(crate) write_type: u8,
    /// 00b finalize at CLOSE SESSION, 11b keep appendable.
    pub(crate) multi_session: u8,
    pub(crate) fixed_packet: bool,
    pub(crate) copy: bool,
    pub(crate) track_mode: u8,
    pub(crate) data_block_type: u8,
    pub(crate) link_size: u8,
    pub(crate) host_application_code: u8,
    pub(crate) session_format: u8,
    pub(crate) packet_size: u32,
    pub(crate) audio_pause: u16,
    /// MCN, ISRC and subheader (bytes 16-51), kept as sent.
    pub(crate) tail: [u8; 36],
}

impl Default for WriteParameters {
    /// After power-on: BUFE on (PI: forced on), TAO, finalize, data track, 2048-byte mode 1.
    /// TAO is not a DVD write type, so a DVD-R burn must send its own page first.
    fn default() -> WriteParameters {
        WriteParameters {
            buffer_underrun_protection: true,
            ls_v: false,
            test_write: false,
            write_type: WRITE_TYPE_TAO,
            multi_session: 0,
            fixed_packet: false,
            copy: false,
            track_mode: 4,
            data_block_type: 8,
            link_size: 0,
            host_application_code: 0,
            session_format: 0,
            packet_size: 0,
            audio_pause: 150,
            tail: [0; 36],
        }
    }
}

impl WriteParameters {
    /// The page as MODE SENSE returns it.
    pub(crate) fn encode(&self) -> [u8; WRITE_PAGE_LEN] {
        let mut page = [0u8; WRITE_PAGE_LEN];
        page[0] = 0x05;
        page[1] = 0x32;
        page[2] = (u8::from(self.buffer_underrun_protection) << 6)
            | (u8::from(self.ls_v) << 5)
            | (u8::from(self.test_write) << 4)
            | (self.write_type & 0x0f);
        page[3] = ((self.multi_session & 3) << 6)
            | (u8::from(self.fixed_packet) << 5)
            | (u8::from(self.copy) << 4)
            | (self.track_mode & 0x0f);
        page[4] = self.data_block_type & 0x0f;
        page[5] = self.link_size;
        page[7] = self.host_application_code & 0x3f;
        page[8] = self.session_format;
        page[10..14].copy_from_slice(&self.packet_size.to_be_bytes());
        page[14..16].copy_from_slice(&self.audio_pause.to_be_bytes());
        page[16..].copy_from_slice(&self.tail);
        page
    }

    /// Which bits MODE SELECT may change (MODE SENSE page control 01b).
    pub(crate) fn changeable() -> [u8; WRITE_PAGE_LEN] {
        let mut mask = [0u8; WRITE_PAGE_LEN];
        mask[0] = 0x05;
        mask[1] = 0x32;
        mask[2] = 0x7f;
        mask[3] = 0xff;
        mask[4] = 0x0f;
        mask[5] = 0xff;
        mask[7] = 0x3f;
        mask[8] = 0xff;
        mask[10..16].fill(0xff);
        mask[16..].fill(0xff);
        mask
    }

    /// Reads a page 05h sent with MODE SELECT (`page` starts at the page code byte).
    pub(crate) fn decode(page: &[u8]) -> Result<WriteParameters, Sense> {
        if page.len() < WRITE_PAGE_LEN || page[1] != 0x32 {
            return Err(sense::INVALID_FIELD_IN_PARAMETER_LIST);
        }
        let mut tail = [0u8; 36];
        tail.copy_from_slice(&page[16..WRITE_PAGE_LEN]);
        Ok(WriteParameters {
            buffer_underrun_protection: page[2] & 0x40 != 0,
            ls_v: page[2] & 0x20 != 0,
            test_write: page[2] & 0x10 != 0,
            write_type: page[2] & 0x0f,
            multi_session: page[3] >> 6,
            fixed_packet: page[3] & 0x20 != 0,
            copy: page[3] & 0x10 != 0,
            track_mode: page[3] & 0x0f,
            data_block_type: page[4] & 0x0f,
            link_size: page[5],
            host_application_code: page[7] & 0x3f,
            session_format: page[8],
            packet_size: u32::from_be_bytes([page[10], page[11], page[12], page[13]]),
            audio_pause: u16::from_be_bytes([page[14], page[15]]),
            tail,
        })
    }

    /// Incremental writing on DVD-R/-RW: write type 0, link size 16 (LS_V), fixed packets of
    /// 16 blocks (`mmc.md` 2.2, burning-anchors B.3).
    pub(crate) fn dvd_incremental_ready(&self) -> bool {
        self.write_type == WRITE_TYPE_PACKET
            && self.ls_v
            && self.link_size == 16
            && self.fixed_packet
            && self.packet_size == 16
    }

    /// Checks the page against the medium in the drive: 5/26/00 for values the medium
    /// cannot take. Track mode is not checked: growisofs copies it from 52h.
    pub(crate) fn validate_for(&self, profile: Option<Profile>) -> Result<(), Sense> {
        let bad = Err(sense::INVALID_FIELD_IN_PARAMETER_LIST);
        if self.multi_session == 2 {
            return bad;
        }
        match profile {
            // CD: packet, TAO and SAO; raw writing is not emulated.
            Some(Profile::CdR | Profile::CdRw)
                if self.write_type > WRITE_TYPE_SAO
                    || (self.ls_v && self.link_size != 7)
                    || (self.fixed_packet && self.packet_size != 32)
                    || !matches!(self.data_block_type, 8 | 10) =>
            {
                return bad;
            }
            Some(
                Profile::DvdRSequential
                | Profile::DvdRwSequential
                | Profile::DvdRDualLayerSequential,
            ) if !matches!(self.write_type, WRITE_TYPE_PACKET | WRITE_TYPE_DAO)
                || (self.ls_v && self.link_size != 16)
                || (self.fixed_packet && self.packet_size != 16)
                || self.data_block_type != 8 =>
            {
                // DVD-R/-RW: incremental and DAO; layer jump is not emulated.
                return bad;
            }
            // The page does not apply: taken and ignored.
            _ => {}
        }
        Ok(())
    }
}

/// What page 2Ah reports about the drive.
#[derive(Debug, Clone)]
pub(crate) struct Capabilities {
    pub(crate) max_read_kbps: u16,
    pub(crate) current_read_kbps: u16,
    /// Offered write speeds, fastest first.
    pub(crate) write_kbps: Vec<u16>,
    pub(crate) current_write_kbps: u16,
    pub(crate) buffer_kib: u16,
    pub(crate) locked: bool,
}

impl Capabilities {
    /// Page 2Ah with one write speed descriptor per offered speed.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut page = vec![0u8; 32 + 4 * self.write_kbps.len()];
        page[0] = 0x2a;
        page[1] = (page.len() - 2) as u8;
        // Reads CD-R, CD-RW, method 2, DVD-ROM, DVD-R; writes CD-R, CD-RW, test, DVD-R.
        page[2] = 0x1f;
        page[3] = 0x17;
        // BUF (underrun protection) and multi-session.
        page[4] = 0xc0;
        // Tray loading, eject, lock, and the lock state.
        page[6] = 0x20 | 0x08 | 0x01 | (u8::from(self.locked) << 1);
        page[8..10].copy_from_slice(&self.max_read_kbps.to_be_bytes());
        page[12..14].copy_from_slice(&self.buffer_kib.to_be_bytes());
        page[14..16].copy_from_slice(&self.current_read_kbps.to_be_bytes());
        let max_write = self.write_kbps.first().copied().unwrap_or(0);
        page[18..20].copy_from_slice(&max_write.to_be_bytes());
        page[20..22].copy_from_slice(&self.current_write_kbps.to_be_bytes());
        page[28..30].copy_from_slice(&self.current_write_kbps.to_be_bytes());
        page[30..32].copy_from_slice(&(self.write_kbps.len() as u16).to_be_bytes());
        for (i, speed) in self.write_kbps.iter().enumerate() {
            page[32 + 4 * i + 2..32 + 4 * i + 4].copy_from_slice(&speed.to_be_bytes());
        }
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_page_round_trips() {
        let params = WriteParameters {
            ls_v: true,
            write_type: WRITE_TYPE_PACKET,
            multi_session: 3,
            fixed_packet: true,
            track_mode: 5,
            link_size: 16,
            packet_size: 16,
            ..WriteParameters::default()
        };
        let page = params.encode();
        assert_eq!(&page[..6], &[0x05, 0x32, 0x60, 0xe5, 0x08, 0x10]);
        assert_eq!(&page[10..16], &[0, 0, 0, 16, 0, 150]);
        assert_eq!(WriteParameters::decode(&page).unwrap(), params);
        assert!(params.dvd_incremental_ready());
    }

    #[test]
    fn page_is_checked_against_the_medium() {
        let dvd = Some(Profile::DvdRSequential);
        let mut params = WriteParameters::default();
        assert!(
            params.validate_for(dvd).is_err(),
            "TAO is not a DVD write type"
        );
        params.write_type = WRITE_TYPE_DAO;
        assert!(params.validate_for(dvd).is_ok());
        params.ls_v = true;
        params.link_size = 7;
        assert!(params.validate_for(dvd).is_err(), "DVD link size is 16");
        assert!(params.validate_for(Some(Profile::CdR)).is_ok(), "7 on CD");
        params.link_size = 99;
        assert!(
            params.validate_for(Some(Profile::DvdPlusR)).is_ok(),
            "does not apply to DVD+R"
        );
        let short = &WriteParameters::default().encode()[..20];
        assert!(WriteParameters::decode(short).is_err());
    }

    #[test]
    fn capabilities_list_speeds() {
        let caps = Capabilities {
            max_read_kbps: 22160,
            current_read_kbps: 22160,
            write_kbps: vec![22160, 11080],
            current_write_kbps: 11080,
            buffer_kib: 2048,
            locked: true,
        };
        let page = caps.encode();
        assert_eq!(page.len(), 40);
        assert_eq!(page[1] as usize, 38);
        assert_eq!(page[6] & 0x02, 0x02, "lock state");
        assert_eq!(&page[12..14], &2048u16.to_be_bytes());
        assert_eq!(&page[28..32], &[0x2b, 0x48, 0, 2]);
        assert_eq!(&page[34..36], &22160u16.to_be_bytes());
        assert_eq!(&page[38..40], &11080u16.to_be_bytes());
    }
}
