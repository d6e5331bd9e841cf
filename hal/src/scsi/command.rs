//! Executing one command and turning what came back into `Ok` or a typed, decoded error.
//!
//! [`execute`] is the one place where a [`Completion`](super::Completion) becomes a result:
//! GOOD (and CHECK CONDITION with a RECOVERED ERROR or NO SENSE key, which SPC counts as
//! success) is `Ok(bytes transferred)`; any other CHECK CONDITION becomes
//! [`CommandError::Check`] with the decoded [`Sense`]. It never retries: retry policy lives
//! in the drive layer, driven by [`SenseClass`].

use std::time::Duration;

use super::sense::{Sense, SenseClass, SenseError, SenseKey};
use super::{CdbHex, DataTransfer, Status, Transport, TransportError};

/// A command that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The command never got an answer.
    #[error("{}: {source}", opcode_name(*.opcode))]
    Transport {
        /// The command's operation code.
        opcode: u8,
        /// What went wrong below.
        #[source]
        source: TransportError,
    },
    /// The drive answered CHECK CONDITION with this sense.
    #[error("{} failed: {sense}", opcode_name(*.opcode))]
    Check {
        /// The command's operation code.
        opcode: u8,
        /// The decoded sense.
        sense: Sense,
    },
    /// The drive answered with a status other than GOOD or CHECK CONDITION.
    #[error("{} failed: the drive answered with status {status:?}", opcode_name(*.opcode))]
    Status {
        /// The command's operation code.
        opcode: u8,
        /// The status.
        status: Status,
    },
    /// CHECK CONDITION with sense that cannot be decoded.
    #[error("{} failed and the drive's sense data [{}] could not be read: {reason}",
        opcode_name(*.opcode), CdbHex(.sense))]
    BadSense {
        /// The command's operation code.
        opcode: u8,
        /// The raw sense bytes.
        sense: Vec<u8>,
        /// Why they could not be decoded.
        reason: SenseError,
    },
    /// The CDB given to [`execute`] was empty.
    #[error("internal error: an empty command was about to be sent to the drive")]
    EmptyCdb,
}

impl CommandError {
    /// The decoded sense, for CHECK CONDITION errors.
    pub fn sense(&self) -> Option<&Sense> {
        match self {
            CommandError::Check { sense, .. } => Some(sense),
            _ => None,
        }
    }

    /// What to do about this error, where the sense (or status) says.
    pub fn class(&self) -> Option<SenseClass> {
        match self {
            CommandError::Check { sense, .. } => Some(sense.class()),
            CommandError::Status {
                status: Status::Busy | Status::TaskSetFull,
                ..
            } => Some(SenseClass::WaitAndRetry),
            _ => None,
        }
    }

    /// True when the drive does not support the command or one of its fields
    /// ([`Sense::is_unsupported`]): the caller should fall back, not fail.
    pub fn is_unsupported(&self) -> bool {
        self.sense().is_some_and(Sense::is_unsupported)
    }

    /// The operation code of the failed command (0 for [`CommandError::EmptyCdb`]).
    pub fn opcode(&self) -> u8 {
        match self {
            CommandError::Transport { opcode, .. }
            | CommandError::Check { opcode, .. }
            | CommandError::Status { opcode, .. }
            | CommandError::BadSense { opcode, .. } => *opcode,
            CommandError::EmptyCdb => 0,
        }
    }
}

/// Executes one command on `transport` and returns how many bytes moved in the data phase.
pub fn execute<T: Transport + ?Sized>(
    transport: &mut T,
    cdb: &[u8],
    data: DataTransfer<'_>,
    timeout: Duration,
) -> Result<usize, CommandError> {
    let Some(&opcode) = cdb.first() else {
        return Err(CommandError::EmptyCdb);
    };
    let offered = data.len();
    let completion = transport
        .execute(cdb, data, timeout)
        .map_err(|source| CommandError::Transport { opcode, source })?;
    let transferred = completion.transferred.min(offered);
    match completion.status {
        Status::Good | Status::ConditionMet => {
            // Every command a drive answered, for a person (or a system test) who needs to
            // know exactly what went to a drive: `-vvv`. Failures are logged below.
            tracing::trace!(command = opcode_name(opcode), cdb = %CdbHex(cdb), transferred, "good");
            Ok(transferred)
        }
        Status::CheckCondition => {
            let sense =
                Sense::parse(&completion.sense).map_err(|reason| CommandError::BadSense {
                    opcode,
                    sense: completion.sense.clone(),
                    reason,
                })?;
            if matches!(sense.key, SenseKey::NoSense | SenseKey::RecoveredError) {
                tracing::debug!(
                    command = opcode_name(opcode),
                    cdb = %CdbHex(cdb),
                    %sense,
                    "completed with a recovered condition"
                );
                return Ok(transferred);
            }
            tracing::debug!(command = opcode_name(opcode), cdb = %CdbHex(cdb), %sense, "check condition");
            Err(CommandError::Check { opcode, sense })
        }
        status => Err(CommandError::Status { opcode, status }),
    }
}

/// The name of an SPC/MMC operation code ("WRITE(10)"), for messages and logs.
pub fn opcode_name(opcode: u8) -> &'static str {
    match opcode {
        0x00 => "TEST UNIT READY",
        0x03 => "REQUEST SENSE",
        0x04 => "FORMAT UNIT",
        0x12 => "INQUIRY",
        0x1b => "START STOP UNIT",
        0x1e => "PREVENT ALLOW MEDIUM REMOVAL",
        0x23 => "READ FORMAT CAPACITIES",
        0x25 => "READ CAPACITY",
        0x28 => "READ(10)",
        0x2a => "WRITE(10)",
        0x2b => "SEEK(10)",
        0x2e => "WRITE AND VERIFY(10)",
        0x2f => "VERIFY(10)",
        0x35 => "SYNCHRONIZE CACHE",
        0x3b => "WRITE BUFFER",
        0x3c => "READ BUFFER",
        0x42 => "READ SUB-CHANNEL",
        0x43 => "READ TOC/PMA/ATIP",
        0x46 => "GET CONFIGURATION",
        0x4a => "GET EVENT STATUS NOTIFICATION",
        0x51 => "READ DISC INFORMATION",
        0x52 => "READ TRACK INFORMATION",
        0x53 => "RESERVE TRACK",
        0x54 => "SEND OPC INFORMATION",
        0x55 => "MODE SELECT(10)",
        0x5a => "MODE SENSE(10)",
        0x5b => "CLOSE TRACK/SESSION",
        0x5c => "READ BUFFER CAPACITY",
        0x5d => "SEND CUE SHEET",
        0xa0 => "REPORT LUNS",
        0xa1 => "BLANK",
        0xa2 => "SECURITY PROTOCOL IN",
        0xa3 => "SEND KEY",
        0xa4 => "REPORT KEY",
        0xa6 => "LOAD/UNLOAD MEDIUM",
        0xa7 => "SET READ AHEAD",
        0xa8 => "READ(12)",
        0xaa => "WRITE(12)",
        0xac => "GET PERFORMANCE",
        0xad => "READ DISC STRUCTURE",
        0xb5 => "SECURITY PROTOCOL OUT",
        0xb6 => "SET STREAMING",
        0xb9 => "READ CD MSF",
        0xbb => "SET CD SPEED",
        0xbd => "MECHANISM STATUS",
        0xbe => "READ CD",
        0xbf => "SEND DISC STRUCTURE",
        _ => "an unknown command",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scsi::Completion;

    /// A transport that answers every command with one canned result.
    struct Canned(Option<Result<Completion, TransportError>>);

    impl Transport for Canned {
        fn execute(
            &mut self,
            _cdb: &[u8],
            _data: DataTransfer<'_>,
            _timeout: Duration,
        ) -> Result<Completion, TransportError> {
            self.0.take().expect("one command only")
        }
        fn name(&self) -> &str {
            "canned"
        }
    }

    fn run(answer: Result<Completion, TransportError>, cdb: &[u8]) -> Result<usize, CommandError> {
        let mut buf = [0u8; 64];
        execute(
            &mut Canned(Some(answer)),
            cdb,
            DataTransfer::FromDevice(&mut buf),
            Duration::from_secs(1),
        )
    }

    #[test]
    fn good_returns_transferred_clamped_to_the_buffer() {
        assert_eq!(run(Ok(Completion::good(8)), &[0x25]).unwrap(), 8);
        assert_eq!(run(Ok(Completion::good(1000)), &[0x25]).unwrap(), 64);
    }

    #[test]
    fn check_condition_is_decoded_and_named() {
        let sense = Sense::new(SenseKey::NotReady, 0x04, 0x08)
            .to_fixed()
            .to_vec();
        let err = run(
            Ok(Completion::check_condition(sense)),
            &[0x2a, 0, 0, 0, 0x12, 0x34, 0, 0, 0x10, 0],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "WRITE(10) failed: Not ready: long write in progress (2/04/08)"
        );
        assert_eq!(err.class(), Some(SenseClass::WaitAndRetry));
        assert_eq!(err.opcode(), 0x2a);
        assert!(!err.is_unsupported());
    }

    #[test]
    fn recovered_error_is_success() {
        let sense = Sense::new(SenseKey::RecoveredError, 0x17, 0x01)
            .to_fixed()
            .to_vec();
        let mut c = Completion::check_condition(sense);
        c.transferred = 2048;
        assert_eq!(run(Ok(c), &[0x28]).unwrap(), 64);
    }

    #[test]
    fn unsupported_whatever_the_key() {
        let sense = Sense::new(SenseKey::NotReady, 0x24, 0x00)
            .to_fixed()
            .to_vec();
        let err = run(Ok(Completion::check_condition(sense)), &[0x23]).unwrap_err();
        assert!(err.is_unsupported());
        assert!(
            err.to_string()
                .starts_with("READ FORMAT CAPACITIES failed: Not ready: invalid field"),
            "{err}"
        );
    }

    #[test]
    fn bad_sense_status_and_transport_errors() {
        let err = run(Ok(Completion::check_condition(vec![])), &[0x00]).unwrap_err();
        assert!(matches!(err, CommandError::BadSense { opcode: 0, .. }));
        assert!(
            err.to_string().starts_with(
                "TEST UNIT READY failed and the drive's sense data [] could not be read"
            ),
            "{err}"
        );

        let busy = Completion {
            status: Status::Busy,
            sense: vec![],
            transferred: 0,
        };
        let err = run(Ok(busy), &[0x00]).unwrap_err();
        assert_eq!(err.class(), Some(SenseClass::WaitAndRetry));
        assert_eq!(
            err.to_string(),
            "TEST UNIT READY failed: the drive answered with status Busy"
        );

        let err = run(
            Err(TransportError::Timeout {
                after: Duration::from_secs(200),
            }),
            &[0x2a],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "WRITE(10): the drive did not answer within 200 s"
        );

        assert!(matches!(
            run(Ok(Completion::good(0)), &[]),
            Err(CommandError::EmptyCdb)
        ));
    }
}
