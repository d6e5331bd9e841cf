//! What a command handler gives back: a [`Step`] for the execution loop, built from raw
//! reply bytes, and the big-endian field readers every handler uses on CDBs.

use std::time::Duration;

use crate::scsi::{Completion, DataTransfer, TransportError};

use super::sense::Sense;

/// What the handlers tell the execution loop.
#[derive(Debug)]
pub(crate) enum Step {
    /// The command is answered.
    Done(Completion),
    /// The drive cannot take the command before this time: run it again then.
    RetryAt(Duration),
    /// Answer with this completion once the running operation has finished.
    AfterOperation(Completion),
    /// No answer at all.
    Fail(TransportError),
}

pub(crate) fn be16(bytes: &[u8]) -> u16 {
    u16::from_be_bytes([bytes[0], bytes[1]])
}

pub(crate) fn be24(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]])
}

pub(crate) fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// A CHECK CONDITION step.
pub(crate) fn check(sense: Sense) -> Step {
    Step::Done(Completion::check_condition(sense.to_fixed().to_vec()))
}

/// A GOOD step that moved `transferred` bytes.
pub(crate) fn good(transferred: usize) -> Step {
    Step::Done(Completion::good(transferred))
}

/// Sends `reply`, cut to the allocation length and the host's buffer.
pub(crate) fn send(data: &mut DataTransfer<'_>, reply: &[u8], allocation: usize) -> Step {
    let sent = match data {
        DataTransfer::FromDevice(buf) => {
            let n = reply.len().min(allocation).min(buf.len());
            buf[..n].copy_from_slice(&reply[..n]);
            n
        }
        _ => 0,
    };
    good(sent)
}
