//! GET EVENT STATUS NOTIFICATION (4Ah), polled, media class (MMC-5 6.6; mmc.md 1.9): tray
//! and disc events without relying on the kernel's media uevents.

use super::{Cdb, Command, DataIn, LengthField, ParseError, announced_slice};

/// The media event class bit in the class request byte.
pub const MEDIA_CLASS: u8 = 0x10;

/// GET EVENT STATUS NOTIFICATION (4Ah).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetEventStatusNotification {
    /// Class request bitmap (byte 4); [`MEDIA_CLASS`] for media events.
    pub classes: u8,
    /// Allocation length (bytes 7-8).
    pub allocation_length: u16,
}

impl Default for GetEventStatusNotification {
    fn default() -> Self {
        // What Linux's sr driver polls: `4a 01 00 00 10 00 00 00 08 00`.
        GetEventStatusNotification {
            classes: MEDIA_CLASS,
            allocation_length: 8,
        }
    }
}

impl Command for GetEventStatusNotification {
    const OPCODE: u8 = 0x4a;
    fn cdb(&self) -> Cdb {
        // Byte 1 bit 0 Polled: asynchronous notification is refused (5/24/00) by drives
        // and emulators alike.
        Cdb::new10(Self::OPCODE)
            .with(1, 0x01)
            .with(4, self.classes)
            .with_u16(7, self.allocation_length)
    }
}

/// A media event (descriptor byte 0 bits 3-0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEventKind {
    /// 0h.
    NoChange,
    /// 1h: the user pressed the eject button.
    EjectRequest,
    /// 2h: a medium was inserted.
    NewMedia,
    /// 3h: the medium was removed.
    MediaRemoval,
    /// 4h: the medium changed.
    MediaChanged,
    /// 5h: background format completed.
    BgFormatCompleted,
    /// 6h: background format restarted.
    BgFormatRestarted,
    /// Other codes.
    Other(u8),
}

/// The media status the drive reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaEvent {
    /// The event.
    pub kind: MediaEventKind,
    /// Descriptor byte 1 bit 1: a medium is present.
    pub present: bool,
    /// Descriptor byte 1 bit 0: the tray is open.
    pub tray_open: bool,
}

/// The answer to a GESN poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventStatus {
    /// Byte 2 bit 7: no event available for the requested classes.
    pub no_event_available: bool,
    /// Byte 2 bits 2-0: the class reported.
    pub class: u8,
    /// Byte 3: supported classes.
    pub supported_classes: u8,
    /// The media descriptor, when the reported class is media (4).
    pub media: Option<MediaEvent>,
}

impl EventStatus {
    /// Parses the header and, for the media class, its 4-byte descriptor. Like libburn,
    /// requires the announced length to cover the descriptor (QEMU's short length is
    /// rejected, mmc.md 1.9).
    pub fn parse(bytes: &[u8]) -> Result<EventStatus, ParseError> {
        const WHAT: &str = "event status";
        if bytes.len() < 4 {
            return Err(ParseError::short(WHAT, 4, bytes.len()));
        }
        let b = announced_slice(bytes, GetEventStatusNotification::LENGTH);
        if b.len() < 4 {
            return Err(ParseError::short(WHAT, 4, b.len()));
        }
        let no_event_available = b[2] & 0x80 != 0;
        let class = b[2] & 0x07;
        let media = if !no_event_available && class == 4 {
            if b.len() < 8 {
                return Err(ParseError::short("media event", 8, b.len()));
            }
            Some(MediaEvent {
                kind: match b[4] & 0x0f {
                    0 => MediaEventKind::NoChange,
                    1 => MediaEventKind::EjectRequest,
                    2 => MediaEventKind::NewMedia,
                    3 => MediaEventKind::MediaRemoval,
                    4 => MediaEventKind::MediaChanged,
                    5 => MediaEventKind::BgFormatCompleted,
                    6 => MediaEventKind::BgFormatRestarted,
                    other => MediaEventKind::Other(other),
                },
                present: b[5] & 0x02 != 0,
                tray_open: b[5] & 0x01 != 0,
            })
        } else {
            None
        };
        Ok(EventStatus {
            no_event_available,
            class,
            supported_classes: b[3],
            media,
        })
    }
}

impl DataIn for GetEventStatusNotification {
    type Response = EventStatus;
    const LENGTH: LengthField = LengthField::At {
        offset: 0,
        width: 2,
        plus: 2,
    };
    fn allocation_length(&self) -> u32 {
        self.allocation_length as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        GetEventStatusNotification {
            allocation_length: len.min(0xffff) as u16,
            ..*self
        }
    }
    fn parse(bytes: &[u8]) -> Result<EventStatus, ParseError> {
        EventStatus::parse(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmc::testutil::hex;

    #[test]
    fn cdb_is_what_linux_polls() {
        assert_eq!(
            GetEventStatusNotification::default().cdb().as_bytes(),
            hex("4a 01 00 00 10 00 00 00 08 00")
        );
    }

    #[test]
    fn media_events() {
        // New media, present, tray closed; media + others supported (length 6, as CE sends).
        let e = EventStatus::parse(&hex("00 06 04 5e 02 02 00 00")).unwrap();
        assert_eq!(e.class, 4);
        assert_eq!(e.supported_classes, 0x5e);
        assert_eq!(
            e.media,
            Some(MediaEvent {
                kind: MediaEventKind::NewMedia,
                present: true,
                tray_open: false
            })
        );
        // Tray open, nothing in it.
        let e = EventStatus::parse(&hex("00 06 04 5e 00 01 00 00")).unwrap();
        let m = e.media.unwrap();
        assert!(m.tray_open && !m.present);
        assert_eq!(m.kind, MediaEventKind::NoChange);
        // No event available.
        let e = EventStatus::parse(&hex("00 02 80 5e")).unwrap();
        assert!(e.no_event_available && e.media.is_none());
    }

    #[test]
    fn short_event_data() {
        assert!(matches!(
            EventStatus::parse(&hex("00 06 04")),
            Err(ParseError::Short { .. })
        ));
        // QEMU's length 4 (total − 4) cuts the media descriptor: rejected, like libburn.
        assert!(matches!(
            EventStatus::parse(&hex("00 04 04 5e 02 02 00 00")),
            Err(ParseError::Short {
                need: 8,
                got: 6,
                ..
            })
        ));
        // Length 1: even the header is cut.
        assert!(matches!(
            EventStatus::parse(&hex("00 01 04 5e")),
            Err(ParseError::Short { got: 3, .. })
        ));
    }
}
