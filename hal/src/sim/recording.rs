//! The commands that change the medium: WRITE, READ (which must wait for the buffer),
//! SYNCHRONIZE CACHE, RESERVE TRACK, CLOSE TRACK/SESSION, BLANK and FORMAT UNIT.
//!
//! Each checks its CDB and the medium's rules, then either answers at once or starts a long
//! operation that keeps the drive busy (2/04/07, or 2/04/04 for a format) for as long as a
//! real drive would take at the current write speed. State changes that must survive a
//! power cut are saved before the command answers.

use crate::scsi::{Completion, DataTransfer, Status, TransportError};

use super::core::{Core, OperationKind, SAVE_EVERY_BLOCKS};
use super::faults::WriteTrigger;
use super::medium::{FormatJob, Kind, WorkBlocks};
use super::reply::{Step, be16, be24, be32, good};
use super::sense::{self, Sense};
use crate::mmc::BLOCK_SIZE;
use crate::mmc::Profile;

/// How long closing takes, as blocks written at the write speed: a track's run-out (2 MiB),
/// a session's lead-out (8 MiB), and as much again to finalize. Real drives vary (a DVD+R
/// finalize can take half a minute); these keep a paced burn's closing under 1 % of a full
/// disc's writing time, so burn benchmarks measure the host, not this guess.
const CLOSE_TRACK_WORK: WorkBlocks = 1_024;
const CLOSE_SESSION_WORK: WorkBlocks = 4_096;
const FINALIZE_WORK: WorkBlocks = 4_096;

fn io_failure(error: std::io::Error) -> Step {
    Step::Fail(TransportError::Io(error))
}

/// When the buffer still holds data, the step that waits for it to be burnt.
fn wait_for_empty_buffer(core: &Core) -> Option<Step> {
    let rate = core.pacing_rate()?;
    if core.buffer.is_empty() {
        return None;
    }
    let now = core.clock.now();
    Some(Step::RetryAt(now + core.buffer.time_until_empty(now, rate)))
}

/// Starts (or, unpaced, completes) an operation and answers as Immed asks.
fn run_operation(core: &mut Core, kind: OperationKind, work: WorkBlocks, immed: bool) -> Step {
    if let Err(e) = core.start_operation(kind, work) {
        return io_failure(e);
    }
    if core.operation.is_none() || immed {
        good(0)
    } else {
        Step::AfterOperation(Completion::good(0))
    }
}

pub(crate) fn reserve_track(core: &mut Core, cdb: &[u8]) -> Result<Step, Sense> {
    if cdb[1] & 0x01 != 0 {
        // ARSV (reserve by LBA) is not emulated.
        return Err(sense::INVALID_FIELD_IN_CDB);
    }
    let size = be32(&cdb[5..9]);
    let params = core.write_params.clone();
    core.need_medium_mut()?.reserve(size, &params)?;
    if let Err(e) = core.save_burnt() {
        return Ok(io_failure(e));
    }
    Ok(good(0))
}

pub(crate) fn write(
    core: &mut Core,
    cdb: &[u8],
    data: &mut DataTransfer<'_>,
) -> Result<Step, Sense> {
    let lba = be32(&cdb[2..6]);
    let (blocks, streaming) = if cdb[0] == 0x2a {
        (be16(&cdb[7..9]) as u32, false)
    } else {
        (be32(&cdb[6..10]), cdb[10] & 0x80 != 0)
    };
    core.need_medium()?;
    let length = blocks as usize * BLOCK_SIZE;
    let payload: &[u8] = match data {
        DataTransfer::ToDevice(bytes) if bytes.len() == length => bytes,
        DataTransfer::None if blocks == 0 => &[],
        // The host's buffer does not match the transfer length.
        _ => return Err(sense::INVALID_FIELD_IN_CDB),
    };
    if blocks == 0 {
        return Ok(good(0));
    }
    match core.faults.write_trigger(lba, blocks) {
        Some(WriteTrigger::Hang) => {
            core.faults.hung = true;
            return Ok(Step::RetryAt(core.clock.now()));
        }
        Some(WriteTrigger::PowerCut) => {
            core.power_cycle();
            return Ok(Step::Fail(TransportError::Gone));
        }
        Some(WriteTrigger::RemoveMedium) => {
            core.pull_medium();
            return Err(sense::NO_MEDIUM);
        }
        None => {}
    }
    if core.faults.take_long_write() {
        return Err(sense::LONG_WRITE_IN_PROGRESS);
    }
    let params = core.write_params.clone();
    let pacing = core.pacing_rate();
    let now = core.clock.now();
    let failing = core.faults.write_error_in(lba, blocks);
    let Core {
        medium,
        buffer,
        clock,
        ..
    } = core;
    let Some(medium) = medium.as_mut() else {
        return Err(sense::NO_MEDIUM);
    };
    if params.test_write && medium.is_sequential() {
        // A test write goes through the motions and records nothing. The NWA does not move,
        // so any address from it on is taken as the simulated one.
        medium.prepare_test_write(lba, blocks, &params)?;
        return Ok(good(length));
    }
    let target = medium.prepare_write(lba, blocks, streaming, &params)?;
    let accepted_blocks = failing.map_or(blocks, |bad| bad - lba);
    let accepted = &payload[..accepted_blocks as usize * BLOCK_SIZE];
    match pacing {
        Some(rate) => {
            if !buffer.fits(accepted.len()) {
                let wait = buffer.time_until_fits(accepted.len(), now, rate);
                if medium.profile().is_write_once() {
                    // The host waits and resends the same WRITE; on a virtual clock that
                    // wait is taken to be exactly long enough.
                    clock.advance_to(now + wait);
                    return Err(sense::LONG_WRITE_IN_PROGRESS);
                }
                // Rewritable media: the drive holds the command until there is room.
                return Ok(Step::RetryAt(now + wait));
            }
            if !accepted.is_empty() {
                let underruns = buffer.underruns();
                let emptied_at = buffer.emptied_at();
                buffer.push(now, lba, accepted);
                if buffer.underruns() > underruns {
                    tracing::debug!(
                        lba,
                        empty_for_ms =
                            now.saturating_sub(emptied_at.unwrap_or(now)).as_millis() as u64,
                        "drive buffer underrun: the host sent this WRITE after the buffer ran dry"
                    );
                }
            }
        }
        None => {
            if let Err(e) = medium.store(lba, accepted) {
                return Ok(io_failure(e));
            }
        }
    }
    medium.record(target, accepted_blocks, &params);
    if let Some(bad) = failing {
        medium.damage_at(bad);
        if let Err(e) = core.save_burnt() {
            return Ok(io_failure(e));
        }
        return Err(sense::WRITE_ERROR.at(bad));
    }
    core.unsaved_blocks += blocks as u64;
    if core.unsaved_blocks >= SAVE_EVERY_BLOCKS
        && let Err(e) = core.save_burnt()
    {
        return Ok(io_failure(e));
    }
    Ok(good(length))
}

pub(crate) fn read(
    core: &mut Core,
    cdb: &[u8],
    data: &mut DataTransfer<'_>,
) -> Result<Step, Sense> {
    let lba = be32(&cdb[2..6]);
    let blocks = if cdb[0] == 0x28 {
        be16(&cdb[7..9]) as u32
    } else {
        be32(&cdb[6..10])
    };
    core.need_medium()?;
    if blocks == 0 {
        return Ok(good(0));
    }
    let length = blocks as usize * BLOCK_SIZE;
    let buf = match data {
        DataTransfer::FromDevice(buf) if buf.len() >= length => &mut buf[..length],
        _ => return Err(sense::INVALID_FIELD_IN_CDB),
    };
    if core.buffer.overlaps(lba, blocks)
        && let Some(wait) = wait_for_empty_buffer(core)
    {
        return Ok(wait);
    }
    let medium = core.need_medium()?;
    let (mut readable, mut failure) = medium.check_read(lba, blocks);
    if let Some(bad) = core.faults.read_failure_in(lba, readable) {
        readable = bad - lba;
        failure = Some(sense::UNRECOVERED_READ_ERROR.at(bad));
    }
    let medium = core.need_medium()?;
    let good_bytes = readable as usize * BLOCK_SIZE;
    if let Err(e) = medium.load(lba, &mut buf[..good_bytes]) {
        return Ok(io_failure(e));
    }
    Ok(match failure {
        None => good(length),
        // The sectors before the bad one did arrive.
        Some(sense) => Step::Done(Completion {
            status: Status::CheckCondition,
            sense: sense.to_fixed().to_vec(),
            transferred: good_bytes,
        }),
    })
}

pub(crate) fn synchronize_cache(core: &mut Core, cdb: &[u8]) -> Result<Step, Sense> {
    let immed = cdb[1] & 0x02 != 0;
    core.need_medium()?;
    core.buffer.end_stream();
    Ok(run_operation(core, OperationKind::Synchronize, 0, immed))
}

/// What a CLOSE TRACK/SESSION function does on a medium (`mmc.md` 1.11).
enum CloseAction {
    Track(u32),
    Session { finalize: bool },
    StopBackgroundFormat { lead_out: bool },
    FinishQuickFormat,
    Nothing,
}

pub(crate) fn close(core: &mut Core, cdb: &[u8]) -> Result<Step, Sense> {
    let immed = cdb[1] & 0x01 != 0;
    let function = cdb[2] & 0x07;
    let number = be16(&cdb[4..6]) as u32;
    let keep_appendable = core.write_params.multi_session != 0;
    let medium = core.need_medium()?;
    if medium.state.finalized || medium.kind() == Kind::Rom {
        return Err(sense::COMMAND_SEQUENCE_ERROR);
    }
    let action = match (medium.kind(), function) {
        (Kind::DvdPlusRw, 0b000) => CloseAction::StopBackgroundFormat { lead_out: false },
        (Kind::DvdPlusRw, 0b010) => CloseAction::StopBackgroundFormat { lead_out: true },
        (Kind::DvdPlusRw, 0b011) => CloseAction::Nothing,
        (Kind::DvdMinus { .. }, 0b010) if medium.profile() == Profile::DvdRwRestrictedOverwrite => {
            CloseAction::FinishQuickFormat
        }
        (Kind::DvdMinus { .. }, _) if medium.profile() == Profile::DvdRwRestrictedOverwrite => {
            return Err(sense::INVALID_FIELD_IN_CDB);
        }
        (Kind::Cd { .. } | Kind::DvdMinus { .. } | Kind::DvdPlusR { .. } | Kind::BdR, 0b001) => {
            CloseAction::Track(number)
        }
        // The multi-session bits of page 05h decide; DVD-R DL cannot stay appendable.
        (Kind::Cd { .. } | Kind::DvdMinus { .. }, 0b010) => CloseAction::Session {
            finalize: !keep_appendable,
        },
        (Kind::DvdPlusR { .. } | Kind::BdR, 0b010) => CloseAction::Session { finalize: false },
        (Kind::DvdPlusR { dual_layer: true }, 0b100) => CloseAction::Session { finalize: false },
        (Kind::DvdPlusR { .. }, 0b101 | 0b110) | (Kind::BdR, 0b110) => {
            CloseAction::Session { finalize: true }
        }
        _ => return Err(sense::INVALID_FIELD_IN_CDB),
    };
    if let Some(wait) = wait_for_empty_buffer(core) {
        return Ok(wait);
    }
    let medium = core.need_medium_mut()?;
    let work = match action {
        CloseAction::Track(number) => {
            medium.close_track(number)?;
            CLOSE_TRACK_WORK
        }
        CloseAction::Session { finalize } => {
            medium.close_session(finalize)?;
            CLOSE_SESSION_WORK
                + if medium.state.finalized {
                    FINALIZE_WORK
                } else {
                    0
                }
        }
        CloseAction::StopBackgroundFormat { lead_out } => {
            medium.suspend_background_format();
            core.background_anchor = None;
            if lead_out { CLOSE_TRACK_WORK } else { 0 }
        }
        CloseAction::FinishQuickFormat => {
            medium.finish_quick_format();
            CLOSE_SESSION_WORK
        }
        CloseAction::Nothing => 0,
    };
    core.buffer.end_stream();
    if let Err(e) = core.save_burnt() {
        return Ok(io_failure(e));
    }
    Ok(run_operation(core, OperationKind::Closing, work, immed))
}

pub(crate) fn blank(core: &mut Core, cdb: &[u8]) -> Result<Step, Sense> {
    let immed = cdb[1] & 0x10 != 0;
    let blank_type = cdb[1] & 0x07;
    let work = core.need_medium()?.check_blank(blank_type)?;
    if let Some(wait) = wait_for_empty_buffer(core) {
        return Ok(wait);
    }
    let medium = core.need_medium_mut()?;
    if let Err(e) = medium.blank(blank_type == 0) {
        return Ok(io_failure(e));
    }
    if let Err(e) = core.save_burnt() {
        return Ok(io_failure(e));
    }
    Ok(run_operation(core, OperationKind::Blanking, work, immed))
}

pub(crate) fn format_unit(
    core: &mut Core,
    cdb: &[u8],
    data: &mut DataTransfer<'_>,
) -> Result<Step, Sense> {
    // FmtData with format code 001b (11h) is the only form MMC uses.
    if cdb[1] & 0x10 == 0 || cdb[1] & 0x07 != 1 {
        return Err(sense::INVALID_FIELD_IN_CDB);
    }
    let list = match data {
        DataTransfer::ToDevice(bytes) if bytes.len() >= 12 => &bytes[..12],
        _ => return Err(sense::INVALID_FIELD_IN_PARAMETER_LIST),
    };
    if be16(&list[2..4]) != 8 {
        return Err(sense::INVALID_FIELD_IN_PARAMETER_LIST);
    }
    let immed = list[1] & 0x02 != 0;
    let blocks = be32(&list[4..8]);
    let format_type = list[8] >> 2;
    let sub_type = list[8] & 0x03;
    let tdp = be24(&list[9..12]);
    let (job, work) = core
        .need_medium()?
        .check_format(format_type, sub_type, blocks, tdp)?;
    if let Some(wait) = wait_for_empty_buffer(core) {
        return Ok(wait);
    }
    let now = core.clock.now();
    let medium = core.need_medium_mut()?;
    if let Err(e) = medium.apply_format(job) {
        return Ok(io_failure(e));
    }
    let background = medium.background_format();
    if let Err(e) = core.save_burnt() {
        return Ok(io_failure(e));
    }
    if let FormatJob::PlusRwBackground { .. } = job {
        // Writing may start at once; the format carries on in the background.
        core.background_anchor = background.map(|(done, _)| (now, done));
        return Ok(good(0));
    }
    Ok(run_operation(core, OperationKind::Formatting, work, immed))
}
