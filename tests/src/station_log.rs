//! Reading what `burnstation -vvv` logged: every command it sent the drive, how the drive
//! answered, and what the drive layer did about each refusal.
//!
//! At `-vvv` the station logs each command the drive answered (`good command="..."
//! cdb=... transferred=N`) and each it refused (`check condition command="..." cdb=...
//! sense=...`), and its drive layer logs the fallbacks it takes ("GET PERFORMANCE (write
//! speeds) failed, using page 2Ah: ..."). [`StationLog::parse`] turns that text into
//! [`LogLine`]s, so a system test can say which commands the emulated burner refused and
//! check that the station answered every refusal with a fallback instead of failing or
//! ignoring it.
//!
//! The format read here is `tracing_subscriber`'s default, without colours (the station
//! writes colour codes only to a terminal): `TIMESTAMP LEVEL TARGET: MESSAGE FIELDS`.

/// One command the station sent, as its log tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCommand {
    /// The command's name (`GET CONFIGURATION`).
    pub name: String,
    /// Its CDB in hex (`46 02 00 00 ...`).
    pub cdb: String,
    /// How the drive answered.
    pub answer: Answer,
}

/// How the drive answered a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// GOOD (or a recovered error), with the bytes the transport says moved.
    Good {
        /// The transfer count (through QEMU's iSCSI pass-through: the whole allocation).
        transferred: usize,
    },
    /// CHECK CONDITION, with the station's reading of the sense.
    Refused {
        /// "Illegal request: invalid command operation code (5/20/00)".
        sense: String,
    },
}

/// One line of the log, as far as these tests care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogLine {
    /// A command and its answer.
    Command(SentCommand),
    /// Something the drive layer (`burnstation_hal::drive...`) said: a fallback taken, a
    /// unit attention consumed, a write retried.
    DriveNote {
        /// `INFO`, `DEBUG`...
        level: String,
        /// The message and its fields.
        text: String,
    },
    /// Anything else (progress, other modules).
    Other(String),
}

/// A parsed `-vvv` log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationLog {
    /// Every line, in order.
    pub lines: Vec<LogLine>,
}

/// The tracing target of the station's command log.
const COMMAND_TARGET: &str = "burnstation_hal::scsi::command:";
/// The tracing target prefix of the drive layer.
const DRIVE_TARGET: &str = "burnstation_hal::drive";

impl StationLog {
    /// Reads a log (the stderr of `burnstation -vvv ...`).
    pub fn parse(text: &str) -> StationLog {
        StationLog {
            lines: text.lines().map(parse_line).collect(),
        }
    }

    /// Every command, in the order it was sent.
    pub fn commands(&self) -> impl Iterator<Item = &SentCommand> {
        self.lines.iter().filter_map(|line| match line {
            LogLine::Command(command) => Some(command),
            _ => None,
        })
    }

    /// The commands the drive refused.
    pub fn refused(&self) -> impl Iterator<Item = &SentCommand> {
        self.commands()
            .filter(|command| matches!(command.answer, Answer::Refused { .. }))
    }

    /// What the drive layer said at `INFO` (the fallbacks it took, and other notes).
    pub fn drive_notes(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|line| match line {
            LogLine::DriveNote { level, text } if level == "INFO" => Some(text.as_str()),
            _ => None,
        })
    }

    /// Refusals the station did nothing about: a refused command (other than TEST UNIT
    /// READY, whose "not ready" answers are what the station polls for) that no drive-layer
    /// line follows before the next command goes out. Each is either a fallback nobody
    /// logged or an answer the station ignored.
    pub fn unanswered_refusals(&self) -> Vec<&SentCommand> {
        let mut unanswered = Vec::new();
        let mut pending: Option<&SentCommand> = None;
        for line in &self.lines {
            match line {
                LogLine::Command(command) => {
                    unanswered.extend(pending.take());
                    if matches!(command.answer, Answer::Refused { .. })
                        && command.name != "TEST UNIT READY"
                    {
                        pending = Some(command);
                    }
                }
                LogLine::DriveNote { .. } => pending = None,
                LogLine::Other(_) => {}
            }
        }
        unanswered.extend(pending);
        unanswered
    }
}

fn parse_line(line: &str) -> LogLine {
    let Some((level, target, message)) = split_line(line) else {
        return LogLine::Other(line.to_string());
    };
    if target == COMMAND_TARGET
        && let Some(command) = parse_command(message)
    {
        return LogLine::Command(command);
    }
    if target.starts_with(DRIVE_TARGET) {
        return LogLine::DriveNote {
            level: level.to_string(),
            text: message.to_string(),
        };
    }
    LogLine::Other(line.to_string())
}

/// `TIMESTAMP LEVEL TARGET: MESSAGE` into (level, target with its colon, message). The
/// level is right-aligned to five characters (" INFO"), so words are split on runs of spaces.
fn split_line(line: &str) -> Option<(&str, &str, &str)> {
    let (_timestamp, rest) = line.trim_start().split_once(' ')?;
    let (level, rest) = rest.trim_start().split_once(' ')?;
    if !matches!(level, "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR") {
        return None;
    }
    let (target, message) = rest.trim_start().split_once(' ')?;
    target.ends_with(':').then_some((level, target, message))
}

/// `good command="X" cdb=.. transferred=N` or `check condition command="X" cdb=.. sense=S`.
fn parse_command(message: &str) -> Option<SentCommand> {
    let (_, after) = message.split_once("command=\"")?;
    let (name, after) = after.split_once('"')?;
    let (_, after) = after.split_once("cdb=")?;
    if let Some((cdb, transferred)) = after.split_once(" transferred=") {
        return Some(SentCommand {
            name: name.to_string(),
            cdb: cdb.to_string(),
            answer: Answer::Good {
                transferred: transferred.trim().parse().ok()?,
            },
        });
    }
    let (cdb, sense) = after.split_once(" sense=")?;
    if message.starts_with("completed with a recovered condition") {
        // SPC counts a recovered error as success; the log gives no transfer count.
        return Some(SentCommand {
            name: name.to_string(),
            cdb: cdb.to_string(),
            answer: Answer::Good { transferred: 0 },
        });
    }
    Some(SentCommand {
        name: name.to_string(),
        cdb: cdb.to_string(),
        answer: Answer::Refused {
            sense: sense.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as `burnstation -vvv` writes them to a pipe.
    const LOG: &str = "\
2026-11-26T12:11:13.276448Z TRACE burnstation_hal::scsi::command: good command=\"TEST UNIT READY\" cdb=00 00 00 00 00 00 transferred=0
2026-11-26T12:11:13.304891Z TRACE burnstation_hal::scsi::command: good command=\"GET PERFORMANCE\" cdb=ac 00 00 00 00 00 00 00 00 40 03 00 transferred=1032
2026-11-26T12:11:13.304891Z DEBUG burnstation_hal::scsi::command: check condition command=\"MODE SENSE(10)\" cdb=5a 08 2a 00 00 00 00 00 02 00 sense=Not ready: invalid field in CDB (2/24/00)
2026-11-26T12:11:13.305000Z  INFO burnstation_hal::drive: MODE SENSE page 2Ah failed: MODE SENSE(10) failed: Not ready: invalid field in CDB (2/24/00) device=\"/dev/sr0\"
2026-11-26T12:11:13.306000Z DEBUG burnstation_hal::scsi::command: check condition command=\"TEST UNIT READY\" cdb=00 00 00 00 00 00 sense=Not ready: no disc in the drive (2/3A/00)
writing...
2026-11-26T12:11:13.307000Z DEBUG burnstation_hal::scsi::command: check condition command=\"READ DISC STRUCTURE\" cdb=ad 00 sense=Illegal request: invalid command operation code (5/20/00)
";

    #[test]
    fn commands_answers_and_notes_are_read_in_order() {
        let log = StationLog::parse(LOG);
        let names: Vec<&str> = log.commands().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "TEST UNIT READY",
                "GET PERFORMANCE",
                "MODE SENSE(10)",
                "TEST UNIT READY",
                "READ DISC STRUCTURE"
            ]
        );
        let performance = log.commands().nth(1).unwrap();
        assert_eq!(performance.cdb, "ac 00 00 00 00 00 00 00 00 40 03 00");
        assert_eq!(performance.answer, Answer::Good { transferred: 1032 });
        assert_eq!(
            log.refused().next().unwrap().answer,
            Answer::Refused {
                sense: "Not ready: invalid field in CDB (2/24/00)".to_string()
            }
        );
        assert_eq!(
            log.drive_notes().collect::<Vec<_>>(),
            [
                "MODE SENSE page 2Ah failed: MODE SENSE(10) failed: Not ready: invalid field in CDB \
              (2/24/00) device=\"/dev/sr0\""
            ]
        );
        assert!(matches!(&log.lines[5], LogLine::Other(text) if text == "writing..."));
    }

    #[test]
    fn a_refusal_without_a_fallback_is_unanswered_but_a_not_ready_poll_is_not() {
        let log = StationLog::parse(LOG);
        let unanswered: Vec<&str> = log
            .unanswered_refusals()
            .into_iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(unanswered, ["READ DISC STRUCTURE"]);
    }
}
