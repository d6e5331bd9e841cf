//! Decoding CDBs and answering the commands that inspect the drive and its medium.
//!
//! [`handle`] is the entry for every command: it brings the drive up to date, decides
//! whether a pending unit attention, a not-ready fault or a running operation answers
//! first, and dispatches by operation code. The commands that change the medium (WRITE,
//! READ, SYNCHRONIZE CACHE, RESERVE TRACK, CLOSE, BLANK, FORMAT UNIT) live in `recording`.
//! Replies are built as bytes from the MMC tables (`mmc.md` part 1), then cut to the
//! allocation length.

use crate::mmc::{BLOCK_SIZE, MediaFamily};
use crate::scsi::{DataTransfer, TransportError};

use super::core::{Core, MediaEvent};
use super::features;
use super::medium::{CapacityType, DiscStatus, Kind, TrackView};
use super::pages::{Capabilities, WriteParameters};
use super::reply::{Step, be16, be32, check, good, send};
use super::sense::{self, Sense};

/// The commands the drive knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    TestUnitReady,
    RequestSense,
    FormatUnit,
    Inquiry,
    StartStopUnit,
    PreventAllow,
    ReadFormatCapacities,
    ReadCapacity,
    Read10,
    Write10,
    SynchronizeCache,
    ReadToc,
    GetConfiguration,
    GetEventStatus,
    ReadDiscInformation,
    ReadTrackInformation,
    ReserveTrack,
    ModeSelect10,
    ModeSense10,
    CloseTrackSession,
    ReadBufferCapacity,
    Blank,
    Read12,
    Write12,
    GetPerformance,
    SetStreaming,
    SetCdSpeed,
}

impl Command {
    fn from_opcode(opcode: u8) -> Option<Command> {
        Some(match opcode {
            0x00 => Command::TestUnitReady,
            0x03 => Command::RequestSense,
            0x04 => Command::FormatUnit,
            0x12 => Command::Inquiry,
            0x1b => Command::StartStopUnit,
            0x1e => Command::PreventAllow,
            0x23 => Command::ReadFormatCapacities,
            0x25 => Command::ReadCapacity,
            0x28 => Command::Read10,
            0x2a => Command::Write10,
            0x35 => Command::SynchronizeCache,
            0x43 => Command::ReadToc,
            0x46 => Command::GetConfiguration,
            0x4a => Command::GetEventStatus,
            0x51 => Command::ReadDiscInformation,
            0x52 => Command::ReadTrackInformation,
            0x53 => Command::ReserveTrack,
            0x55 => Command::ModeSelect10,
            0x5a => Command::ModeSense10,
            0x5b => Command::CloseTrackSession,
            0x5c => Command::ReadBufferCapacity,
            0xa1 => Command::Blank,
            0xa8 => Command::Read12,
            0xaa => Command::Write12,
            0xac => Command::GetPerformance,
            0xb6 => Command::SetStreaming,
            0xbb => Command::SetCdSpeed,
            _ => return None,
        })
    }

    /// CDB length by operation code group (SPC).
    fn cdb_len(opcode: u8) -> usize {
        match opcode >> 5 {
            0 => 6,
            1 | 2 => 10,
            4 => 16,
            5 => 12,
            _ => 6,
        }
    }

    /// Commands that report, not consume, a pending unit attention (SPC: INQUIRY, REQUEST
    /// SENSE; `mmc.md` 2.4: keep GET CONFIGURATION and GESN answering).
    fn ignores_attention(self) -> bool {
        matches!(
            self,
            Command::Inquiry
                | Command::RequestSense
                | Command::GetConfiguration
                | Command::GetEventStatus
        )
    }

    /// Commands a drive answers while it is busy with an operation.
    fn allowed_while_busy(self) -> bool {
        matches!(
            self,
            Command::Inquiry
                | Command::RequestSense
                | Command::GetConfiguration
                | Command::GetEventStatus
                | Command::ModeSense10
                | Command::ReadBufferCapacity
                | Command::GetPerformance
        )
    }
}

/// Runs one command.
pub(crate) fn handle(core: &mut Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Step {
    if let Err(e) = core.settle() {
        return Step::Fail(TransportError::Io(e));
    }
    let Some(&opcode) = cdb.first() else {
        return check(sense::INVALID_OPCODE);
    };
    let command = Command::from_opcode(opcode).filter(|_| !core.config.lacks.contains(&opcode));
    let Some(command) = command else {
        return check(sense::INVALID_OPCODE);
    };
    if cdb.len() < Command::cdb_len(opcode) {
        return check(sense::INVALID_FIELD_IN_CDB);
    }
    if !command.ignores_attention() {
        if let Some(attention) = core.attentions.pop_front() {
            return check(attention);
        }
        if core.faults.take_not_ready() {
            return check(sense::BECOMING_READY);
        }
    }
    if !command.allowed_while_busy()
        && let Some(busy) = core.busy_sense()
    {
        core.pass_poll_interval();
        return check(busy);
    }
    match respond(core, command, cdb, data) {
        Ok(step) => step,
        Err(sense) => check(sense),
    }
}

fn respond(
    core: &mut Core,
    command: Command,
    cdb: &[u8],
    data: &mut DataTransfer<'_>,
) -> Result<Step, Sense> {
    match command {
        Command::TestUnitReady => {
            core.need_medium()?;
            Ok(good(0))
        }
        Command::RequestSense => request_sense(core, cdb, data),
        Command::Inquiry => inquiry(core, cdb, data),
        Command::GetConfiguration => {
            let rt = cdb[1] & 3;
            let start = be16(&cdb[2..4]);
            let reply = features::get_configuration(core.loaded(), rt, start)?;
            Ok(send(data, &reply, be16(&cdb[7..9]) as usize))
        }
        Command::GetEventStatus => event_status(core, cdb, data),
        Command::ReadDiscInformation => disc_information(core, cdb, data),
        Command::ReadTrackInformation => track_information(core, cdb, data),
        Command::ReadCapacity => {
            let medium = core.need_medium()?;
            let mut reply = [0u8; 8];
            reply[0..4].copy_from_slice(&medium.read_capacity_last_lba().to_be_bytes());
            reply[4..8].copy_from_slice(&(BLOCK_SIZE as u32).to_be_bytes());
            Ok(send(data, &reply, 8))
        }
        Command::ReadFormatCapacities => format_capacities(core, cdb, data),
        Command::ReadToc => read_toc(core, cdb, data),
        Command::ModeSense10 => mode_sense(core, cdb, data),
        Command::ModeSelect10 => mode_select(core, cdb, data),
        Command::GetPerformance => get_performance(core, cdb, data),
        Command::SetStreaming => set_streaming(core, cdb, data),
        Command::SetCdSpeed => {
            let read = be16(&cdb[2..4]);
            let write = be16(&cdb[4..6]);
            let kbps = |v: u16| (v != 0xffff).then_some(v as u64 * 1000);
            set_speeds(core, kbps(read), kbps(write));
            Ok(good(0))
        }
        Command::ReadBufferCapacity => {
            let blocks = cdb[1] & 1 == 1;
            let unit = if blocks { BLOCK_SIZE } else { 1 };
            let mut reply = [0u8; 12];
            reply[1] = 0x0a;
            reply[3] = u8::from(blocks);
            let length = (core.buffer.capacity() / unit) as u32;
            let free = (core.buffer.free() / unit) as u32;
            reply[4..8].copy_from_slice(&length.to_be_bytes());
            reply[8..12].copy_from_slice(&free.to_be_bytes());
            Ok(send(data, &reply, be16(&cdb[7..9]) as usize))
        }
        Command::StartStopUnit => start_stop(core, cdb),
        Command::PreventAllow => {
            core.locked = cdb[4] & 3 != 0;
            Ok(good(0))
        }
        Command::ReserveTrack => super::recording::reserve_track(core, cdb),
        Command::Write10 | Command::Write12 => super::recording::write(core, cdb, data),
        Command::Read10 | Command::Read12 => super::recording::read(core, cdb, data),
        Command::SynchronizeCache => super::recording::synchronize_cache(core, cdb),
        Command::CloseTrackSession => super::recording::close(core, cdb),
        Command::Blank => super::recording::blank(core, cdb),
        Command::FormatUnit => super::recording::format_unit(core, cdb, data),
    }
}

fn request_sense(core: &mut Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    if cdb[1] & 1 != 0 {
        // Descriptor format is not offered.
        return Err(sense::INVALID_FIELD_IN_CDB);
    }
    let condition = if let Some(busy) = core.busy_sense() {
        core.pass_poll_interval();
        busy
    } else if let Some(attention) = core.attentions.pop_front() {
        attention
    } else if core.faults.take_not_ready() {
        sense::BECOMING_READY
    } else if let Err(missing) = core.need_medium() {
        missing
    } else if let Some((done, super::medium::BackgroundFormat::Running)) =
        core.loaded().and_then(|m| m.background_format())
    {
        let total = core.loaded().map_or(1, |m| m.capacity());
        sense::NO_SENSE.with_progress(sense::progress_fraction(done as u128, total as u128))
    } else {
        sense::NO_SENSE
    };
    Ok(send(data, &condition.to_fixed(), cdb[4] as usize))
}

fn inquiry(core: &Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    let allocation = be16(&cdb[3..5]) as usize;
    if cdb[1] & 0x02 != 0 {
        return Err(sense::INVALID_FIELD_IN_CDB);
    }
    if cdb[1] & 0x01 != 0 {
        let reply: Vec<u8> = match cdb[2] {
            0x00 => vec![0x05, 0x00, 0, 2, 0x00, 0x80],
            0x80 => {
                let serial = b"SIM0000000000001";
                let mut page = vec![0x05, 0x80, 0, serial.len() as u8];
                page.extend_from_slice(serial);
                page
            }
            _ => return Err(sense::INVALID_FIELD_IN_CDB),
        };
        return Ok(send(data, &reply, allocation));
    }
    if cdb[2] != 0 {
        return Err(sense::INVALID_FIELD_IN_CDB);
    }
    let identity = &core.config.identity;
    let mut reply = [b' '; 36];
    reply[0] = 0x05; // CD/DVD device
    reply[1] = 0x80; // removable
    reply[2] = 0x05; // SPC-3
    reply[3] = 0x02; // response data format
    reply[4] = 31;
    reply[5..8].fill(0);
    let mut field = |at: usize, len: usize, text: &str| {
        let bytes = text.as_bytes();
        let n = bytes.len().min(len);
        reply[at..at + n].copy_from_slice(&bytes[..n]);
    };
    field(8, 8, &identity.vendor);
    field(16, 16, &identity.product);
    field(32, 4, &identity.revision);
    Ok(send(data, &reply, allocation))
}

fn event_status(core: &mut Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    if cdb[1] & 1 == 0 {
        // Asynchronous notification is not supported (QE, CE).
        return Err(sense::INVALID_FIELD_IN_CDB);
    }
    let allocation = be16(&cdb[7..9]) as usize;
    const MEDIA_CLASS: u8 = 0x10;
    if cdb[4] & MEDIA_CLASS == 0 {
        // No supported class asked for: NEA, header only.
        return Ok(send(data, &[0, 2, 0x80, MEDIA_CLASS], allocation));
    }
    let event = core.events.pop_front().map_or(0, |e| e as u8);
    let present = core.loaded().is_some();
    let status = (u8::from(present) << 1) | u8::from(core.tray_open);
    // Event descriptor length 6 (`mmc.md` 1.9: what LB and Windows accept).
    let reply = [0, 6, 0x04, MEDIA_CLASS, event, status, 0, 0];
    Ok(send(data, &reply, allocation))
}

/// An address in 51h/TOC fields: LBA, or 00 M S F on CD (`mmc.md` 1.2, 1.6).
fn address(lba: i64, msf: bool) -> [u8; 4] {
    if !msf {
        return (lba as i32).to_be_bytes();
    }
    // Lead-in addresses are negative LBAs, counted back from 100 minutes (MSF 00:00:00 is
    // LBA −150).
    let frames = if lba < -150 { lba + 450_150 } else { lba + 150 };
    let frames = frames.max(0) as u32;
    [
        0,
        (frames / 4500) as u8,
        ((frames / 75) % 60) as u8,
        (frames % 75) as u8,
    ]
}

fn disc_information(core: &Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    // Byte 1 bits 2-0 are the data type; bit 4 (where dvd+rw-mediainfo puts its POW request)
    // is reserved and ignored, so that request gets the standard block.
    if cdb[1] & 0x07 != 0 {
        return Err(sense::INVALID_FIELD_IN_CDB);
    }
    let medium = core.need_medium()?;
    let (disc, session) = medium.disc_status();
    let sessions = medium.session_count();
    let (first, last) = medium.last_session_tracks();
    let mut reply = [0u8; 34];
    reply[1] = 32;
    reply[2] = (u8::from(medium.is_erasable()) << 4) | ((session as u8) << 2) | disc as u8;
    reply[3] = 1;
    reply[4] = sessions as u8;
    reply[9] = (sessions >> 8) as u8;
    reply[5] = first as u8;
    reply[10] = (first >> 8) as u8;
    reply[6] = last as u8;
    reply[11] = (last >> 8) as u8;
    let background = match medium.background_format() {
        None => 0,
        Some((_, super::medium::BackgroundFormat::Suspended)) => 1,
        Some((_, super::medium::BackgroundFormat::Running)) => 2,
        Some((_, super::medium::BackgroundFormat::Complete)) => 3,
    };
    reply[7] = 0x20 | background; // URU: unrestricted use
    reply[8] = 0x00;
    let cd = medium.family() == MediaFamily::Cd;
    if disc == DiscStatus::Complete {
        reply[16..24].fill(0xff);
    } else {
        let session_start = medium.last_session_start() as i64;
        let lead_in = if !cd {
            session_start
        } else if medium.state.closed_sessions == 0 {
            // R11: an 80-minute CD-R's first lead-in starts at 97:15:35.
            -12_490
        } else {
            session_start - 4_650
        };
        reply[16..20].copy_from_slice(&address(lead_in, cd));
        reply[20..24].copy_from_slice(&address(medium.capacity() as i64, cd));
    }
    Ok(send(data, &reply, be16(&cdb[7..9]) as usize))
}

fn track_information(core: &Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    let medium = core.need_medium()?;
    let value = be32(&cdb[2..6]);
    let view = match cdb[1] & 3 {
        0 => medium.track_at(value),
        1 if value == 0xff => {
            // The invisible track exists by that number on CD and DVD+R only (`mmc.md` 1.3).
            if matches!(medium.kind(), Kind::Cd { .. } | Kind::DvdPlusR { .. }) {
                medium.invisible_track()
            } else {
                None
            }
        }
        1 => medium.track_view(value),
        2 => medium.first_track_of_session(value),
        _ => None,
    };
    // Past the last track: 5/24/00 (hp dvd200i, GI comment).
    let view = view.ok_or(sense::INVALID_FIELD_IN_CDB)?;
    let long = medium.family() != MediaFamily::Cd;
    let reply = encode_track(&view, long, medium.kind());
    Ok(send(data, &reply, be16(&cdb[7..9]) as usize))
}

fn encode_track(view: &TrackView, long: bool, kind: Kind) -> Vec<u8> {
    let mut reply = vec![0u8; if long { 48 } else { 36 }];
    let length = (reply.len() - 2) as u16;
    reply[0..2].copy_from_slice(&length.to_be_bytes());
    reply[2] = view.number as u8;
    reply[3] = view.session as u8;
    reply[32] = (view.number >> 8) as u8;
    reply[33] = (view.session >> 8) as u8;
    reply[5] = (u8::from(view.damaged) << 5) | view.track_mode;
    reply[6] = (u8::from(view.reserved) << 7)
        | (u8::from(view.blank) << 6)
        | (u8::from(view.packet) << 5)
        | (u8::from(view.fixed_packet) << 4)
        | 0x01; // data mode 1
    // LRA_V is never set on DVD+R/+RW (PI R11), NWA_V never on DVD+RW (R1).
    let lra_valid = view.last_recorded.is_some() && !matches!(kind, Kind::DvdPlusRw);
    reply[7] = (u8::from(lra_valid) << 1) | u8::from(view.next_writable.is_some());
    reply[8..12].copy_from_slice(&view.start.to_be_bytes());
    reply[12..16].copy_from_slice(&view.next_writable.unwrap_or(0).to_be_bytes());
    reply[16..20].copy_from_slice(&view.free.to_be_bytes());
    reply[20..24].copy_from_slice(&view.packet_size.to_be_bytes());
    reply[24..28].copy_from_slice(&view.size.to_be_bytes());
    if lra_valid {
        reply[28..32].copy_from_slice(&view.last_recorded.unwrap_or(0).to_be_bytes());
    }
    reply
}

fn format_capacities(core: &Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    let allocation = be16(&cdb[7..9]) as usize;
    let ((blocks, kind), offers) = match core.loaded() {
        Some(medium) => medium.format_capacities(),
        None => ((0, CapacityType::Unknown), Vec::new()),
    };
    let mut reply = vec![0u8; 4];
    reply[3] = (8 * (1 + offers.len())) as u8;
    reply.extend_from_slice(&blocks.to_be_bytes());
    reply.push(kind as u8);
    reply.extend_from_slice(&(BLOCK_SIZE as u32).to_be_bytes()[1..]);
    for (blocks, format_type, tdp) in offers {
        reply.extend_from_slice(&blocks.to_be_bytes());
        reply.push(format_type << 2);
        reply.extend_from_slice(&tdp.to_be_bytes()[1..]);
    }
    Ok(send(data, &reply, allocation))
}

fn read_toc(core: &Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    let medium = core.need_medium()?;
    let msf = cdb[1] & 0x02 != 0;
    let mut format = cdb[2] & 0x0f;
    if format == 0 && cdb[9] & 0xc0 != 0 {
        // The pre-MMC place of the format: control byte bits 7-6 (GI's "SONY" probe).
        format = cdb[9] >> 6;
    }
    let allocation = be16(&cdb[7..9]) as usize;
    let tracks = medium.closed_tracks();
    let (Some(first), Some(last)) = (tracks.first(), tracks.last()) else {
        // Nothing closed yet: no TOC to read.
        return Err(sense::INVALID_FIELD_IN_CDB);
    };
    // ADR 1, CONTROL 4 (data track), as drives send on DVD and BD (PI R8).
    const ADR_CONTROL: u8 = 0x14;
    let mut reply = vec![0u8; 4];
    match format {
        0 => {
            let wanted = cdb[6] as u32;
            if wanted != 0xaa && wanted > last.0 {
                return Err(sense::INVALID_FIELD_IN_CDB);
            }
            reply[2] = first.0 as u8;
            reply[3] = last.0 as u8;
            for (number, _, start) in tracks.iter().filter(|t| wanted != 0xaa && t.0 >= wanted) {
                reply.extend_from_slice(&[0, ADR_CONTROL, *number as u8, 0]);
                reply.extend_from_slice(&address(*start as i64, msf));
            }
            reply.extend_from_slice(&[0, ADR_CONTROL, 0xaa, 0]);
            reply.extend_from_slice(&address(medium.closed_area_end() as i64, msf));
        }
        1 => {
            let complete = medium.complete_sessions();
            let (number, _, start) = tracks
                .iter()
                .find(|t| t.1 == complete)
                .copied()
                .unwrap_or(*first);
            reply[2] = 1;
            reply[3] = complete as u8;
            reply.extend_from_slice(&[0, ADR_CONTROL, number as u8, 0]);
            reply.extend_from_slice(&address(start as i64, msf));
        }
        _ => return Err(sense::INVALID_FIELD_IN_CDB),
    }
    let length = (reply.len() - 2) as u16;
    reply[0..2].copy_from_slice(&length.to_be_bytes());
    Ok(send(data, &reply, allocation))
}

fn capabilities(core: &Core) -> Capabilities {
    let kbps = |rate: u64| (rate / 1000).min(u16::MAX as u64) as u16;
    Capabilities {
        max_read_kbps: kbps(core.read_rate().max(core.max_write_rate())),
        current_read_kbps: kbps(core.read_rate()),
        write_kbps: core.offered_write_rates().into_iter().map(kbps).collect(),
        current_write_kbps: kbps(core.write_rate()),
        buffer_kib: (core.buffer.capacity() / 1024).min(u16::MAX as usize) as u16,
        locked: core.locked,
    }
}

fn mode_sense(core: &Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    let control = cdb[2] >> 6;
    let page = cdb[2] & 0x3f;
    let allocation = be16(&cdb[7..9]) as usize;
    if control == 3 {
        return Err(sense::SAVING_NOT_SUPPORTED);
    }
    let write_page = match control {
        0 => core.write_params.encode(),
        1 => WriteParameters::changeable(),
        _ => WriteParameters::default().encode(),
    };
    let mut caps = capabilities(core).encode();
    if control == 1 {
        // Nothing in page 2Ah can be changed.
        caps[2..].fill(0);
    }
    let mut reply = vec![0u8; 8];
    match page {
        0x05 => reply.extend_from_slice(&write_page),
        0x2a => reply.extend_from_slice(&caps),
        0x3f => {
            reply.extend_from_slice(&write_page);
            reply.extend_from_slice(&caps);
        }
        _ => return Err(sense::INVALID_FIELD_IN_CDB),
    }
    let length = (reply.len() - 2) as u16;
    reply[0..2].copy_from_slice(&length.to_be_bytes());
    Ok(send(data, &reply, allocation))
}

fn mode_select(core: &mut Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    if cdb[1] & 0x01 != 0 {
        // SP: saving pages is not supported.
        return Err(sense::INVALID_FIELD_IN_CDB);
    }
    let length = be16(&cdb[7..9]) as usize;
    if length == 0 {
        return Ok(good(0));
    }
    let list = match data {
        DataTransfer::ToDevice(bytes) if bytes.len() >= length => &bytes[..length],
        _ => return Err(sense::INVALID_FIELD_IN_CDB),
    };
    if list.len() < 8 {
        return Err(sense::INVALID_FIELD_IN_PARAMETER_LIST);
    }
    let mut at = 8 + be16(&list[6..8]) as usize;
    let mut new_params = None;
    while at < list.len() {
        if at + 2 > list.len() {
            return Err(sense::INVALID_FIELD_IN_PARAMETER_LIST);
        }
        let code = list[at] & 0x3f;
        let end = at + 2 + list[at + 1] as usize;
        if end > list.len() {
            return Err(sense::INVALID_FIELD_IN_PARAMETER_LIST);
        }
        match code {
            0x05 => {
                let params = WriteParameters::decode(&list[at..end])?;
                params.validate_for(core.loaded().map(|m| m.profile()))?;
                new_params = Some(params);
            }
            // Page 2Ah has nothing changeable; what comes back is ignored.
            0x2a => {}
            _ => return Err(sense::INVALID_FIELD_IN_PARAMETER_LIST),
        }
        at = end;
    }
    if let Some(params) = new_params {
        core.write_params = params;
    }
    Ok(good(0))
}

fn get_performance(core: &Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    let medium = core.need_medium()?;
    let end_lba = medium.capacity().saturating_sub(1);
    let max_descriptors = be16(&cdb[8..10]) as usize;
    let kbps = |rate: u64| (rate / 1000) as u32;
    let mut descriptors: Vec<[u8; 16]> = Vec::new();
    let mut header_flags = 0u8;
    match cdb[10] {
        0x00 => {
            let write = cdb[1] & 0x04 != 0;
            let except = cdb[1] & 0x03;
            header_flags = (u8::from(write) << 1) | u8::from(except != 0);
            if except == 0 {
                let speed = if write {
                    kbps(core.write_rate())
                } else {
                    kbps(core.read_rate())
                };
                let mut d = [0u8; 16];
                d[4..8].copy_from_slice(&speed.to_be_bytes());
                d[8..12].copy_from_slice(&end_lba.to_be_bytes());
                d[12..16].copy_from_slice(&speed.to_be_bytes());
                descriptors.push(d);
            }
        }
        0x03 => {
            for rate in core.offered_write_rates() {
                let mut d = [0u8; 16];
                d[4..8].copy_from_slice(&end_lba.to_be_bytes());
                d[8..12].copy_from_slice(&kbps(core.read_rate()).to_be_bytes());
                d[12..16].copy_from_slice(&kbps(rate).to_be_bytes());
                descriptors.push(d);
            }
        }
        _ => return Err(sense::INVALID_FIELD_IN_CDB),
    }
    // The header announces every descriptor; the reply holds as many as were asked for.
    let mut reply = vec![0u8; 8];
    let length = (4 + 16 * descriptors.len()) as u32;
    reply[0..4].copy_from_slice(&length.to_be_bytes());
    reply[4] = header_flags;
    for d in descriptors.iter().take(max_descriptors) {
        reply.extend_from_slice(d);
    }
    Ok(send(data, &reply, reply.len()))
}

fn set_speeds(core: &mut Core, read: Option<u64>, write: Option<u64>) {
    // The drain rate changes from now on.
    let now = core.clock.now();
    core.buffer.rebase(now);
    core.requested_read = read;
    core.requested_write = write;
}

fn set_streaming(core: &mut Core, cdb: &[u8], data: &mut DataTransfer<'_>) -> Result<Step, Sense> {
    let length = be16(&cdb[9..11]) as usize;
    match cdb[8] {
        0x00 => {}
        _ => return Err(sense::INVALID_FIELD_IN_CDB),
    }
    let descriptor = match data {
        DataTransfer::ToDevice(bytes) if length >= 28 && bytes.len() >= 28 => &bytes[..28],
        _ => return Err(sense::INVALID_FIELD_IN_CDB),
    };
    if descriptor[0] & 0x04 != 0 {
        // RDD: back to the drive's defaults.
        set_speeds(core, None, None);
        return Ok(good(0));
    }
    let rate = |size: &[u8], time: &[u8]| -> Result<u64, Sense> {
        let (size, time) = (be32(size) as u64, be32(time) as u64);
        if time == 0 {
            return Err(sense::INVALID_FIELD_IN_PARAMETER_LIST);
        }
        // Sizes in kB, times in ms: kB/s is size * 1000 / time, and bytes/s 1000 times that.
        Ok(size * 1_000_000 / time)
    };
    let read = rate(&descriptor[12..16], &descriptor[16..20])?;
    let write = rate(&descriptor[20..24], &descriptor[24..28])?;
    set_speeds(core, Some(read), Some(write));
    Ok(good(0))
}

fn start_stop(core: &mut Core, cdb: &[u8]) -> Result<Step, Sense> {
    let power_condition = cdb[4] >> 4;
    let load_eject = cdb[4] & 0x02 != 0;
    let start = cdb[4] & 0x01 != 0;
    if power_condition != 0 || !load_eject {
        return Ok(good(0));
    }
    if start {
        if core.tray_open {
            core.tray_open = false;
            if core.medium.is_some() {
                core.attentions.push_back(sense::MEDIUM_CHANGED);
                core.events.push_back(MediaEvent::NewMedia);
            } else {
                core.no_medium = sense::NO_MEDIUM_TRAY_CLOSED;
            }
        }
        return Ok(good(0));
    }
    if core.locked {
        // QE: 5/53/02 with a medium in the drive, 2/53/02 without.
        return Err(if core.loaded().is_some() {
            sense::REMOVAL_PREVENTED
        } else {
            sense::REMOVAL_PREVENTED_NOT_READY
        });
    }
    if let Some(rate) = core.pacing_rate().filter(|_| !core.buffer.is_empty()) {
        // The drive burns what it holds before it lets the disc go.
        let now = core.clock.now();
        return Ok(Step::RetryAt(now + core.buffer.time_until_empty(now, rate)));
    }
    if !core.tray_open {
        if core.medium.is_some() {
            core.events.push_back(MediaEvent::MediaRemoval);
        }
        core.save_burnt().map_err(|_| sense::WRITE_ERROR)?;
        core.tray_open = true;
    }
    Ok(good(0))
}
