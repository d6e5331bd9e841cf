//! What failed in `cargo test`, said again at the end of `cargo xtask test`.
//!
//! CI keeps only the last lines of a run, and `cargo xtask test` runs the fuzzers after the
//! tests, so a failed test's name and panic would scroll out of what CI shows. This module
//! passes cargo's output through unchanged while it watches for the lines that say what
//! failed: libtest's `test NAME ... FAILED`, the `thread 'NAME' panicked at FILE:` line and
//! the message after it, and cargo's `to rerun pass ...` with the target that failed. The
//! summary then names each failed test with its first line of panic, and each failed target.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

/// The longest panic message kept for the summary, in characters.
const MESSAGE_CHARS: usize = 300;

/// What one `cargo test` run said failed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Failures {
    /// The failed tests, in the order libtest reported them.
    pub tests: Vec<FailedTest>,
    /// Cargo's way to rerun each failed target, e.g. `-p burnstation --test daemon`.
    pub targets: Vec<String>,
}

/// A test that failed, and where and why it panicked when libtest printed that.
#[derive(Debug, PartialEq, Eq)]
pub struct FailedTest {
    pub name: String,
    /// `FILE:LINE:COL: first line of the message`.
    pub panic: Option<String>,
}

/// Reads libtest's and cargo's lines one at a time. A panic's message is the line after
/// `panicked at`, so the reader remembers whose panic it is in.
#[derive(Debug, Default)]
struct Reader {
    failures: Failures,
    /// A panic seen, its message not yet: (test name, location).
    panic_at: Option<(String, String)>,
    /// Panics seen before libtest's `... FAILED` line for the test (libtest prints the
    /// captured output only at the end, but an uncaptured test prints it first).
    panics: Vec<(String, String)>,
}

impl Reader {
    fn line(&mut self, line: &str) {
        if let Some((name, at)) = self.panic_at.take() {
            let message: String = line.trim().chars().take(MESSAGE_CHARS).collect();
            self.record_panic(name, format!("{at}: {message}"));
            return;
        }
        if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|rest| rest.strip_suffix(" ... FAILED"))
        {
            let panic = self
                .panics
                .iter()
                .position(|(test, _)| test == name)
                .map(|i| self.panics.remove(i).1);
            self.failures.tests.push(FailedTest {
                name: name.to_string(),
                panic,
            });
        } else if let Some((name, at)) = panic_line(line) {
            self.panic_at = Some((name.to_string(), at.trim_end_matches(':').to_string()));
        } else if let Some((_, target)) = line.split_once("to rerun pass `") {
            let target = target.trim_end_matches('`').to_string();
            if !self.failures.targets.contains(&target) {
                self.failures.targets.push(target);
            }
        }
    }

    /// A panic belongs to the failed test of its name; the first panic of a test is the
    /// one that failed it.
    fn record_panic(&mut self, name: String, panic: String) {
        match self.failures.tests.iter_mut().find(|t| t.name == name) {
            Some(test) => {
                test.panic.get_or_insert(panic);
            }
            None if !self.panics.iter().any(|(test, _)| *test == name) => {
                self.panics.push((name, panic))
            }
            None => {}
        }
    }
}

/// The test's name and the location in `thread 'NAME' panicked at FILE:LINE:COL:`, or, as
/// newer Rust prints it, `thread 'NAME' (THREAD ID) panicked at ...`.
fn panic_line(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.strip_prefix("thread '")?.split_once('\'')?;
    let rest = rest.strip_prefix(' ')?;
    let rest = match rest.strip_prefix('(') {
        Some(id) => id.split_once(") ")?.1,
        None => rest,
    };
    Some((name, rest.strip_prefix("panicked at ")?))
}

impl Failures {
    /// The lines for the end of the summary: a failed test and its panic on one line each.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for test in &self.tests {
            match &test.panic {
                Some(panic) => lines.push(format!("  failed test {}: {panic}", test.name)),
                None => lines.push(format!("  failed test {}", test.name)),
            }
        }
        for target in &self.targets {
            lines.push(format!("  failed target: cargo test {target}"));
        }
        lines
    }
}

/// Runs `command` (a `cargo test`) with its output passed through to ours, and returns
/// whether it succeeded and what it said failed.
pub fn run(command: Command) -> (bool, Failures) {
    run_into(command, io::stdout(), io::stderr())
}

/// As [`run`], with the command's output copied to `out` and `err`.
fn run_into(
    mut command: Command,
    out: impl Write + Send + 'static,
    err: impl Write + Send + 'static,
) -> (bool, Failures) {
    let reader = Arc::new(Mutex::new(Reader::default()));
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            eprintln!("could not start cargo test: {e}");
            return (false, Failures::default());
        }
    };
    let stdout = child.stdout.take().map(|stdout| {
        let reader = Arc::clone(&reader);
        thread::spawn(move || pass_through(stdout, out, &reader))
    });
    let stderr = child.stderr.take().map(|stderr| {
        let reader = Arc::clone(&reader);
        thread::spawn(move || pass_through(stderr, err, &reader))
    });
    for copier in [stdout, stderr].into_iter().flatten() {
        let _ = copier.join();
    }
    let passed = child.wait().is_ok_and(|status| status.success());
    let failures = match Arc::try_unwrap(reader) {
        Ok(reader) => reader.into_inner().map(|r| r.failures).unwrap_or_default(),
        Err(_) => Failures::default(),
    };
    (passed, failures)
}

/// Copies `from` to `to` line by line, showing each line to `reader`. Bytes that are not
/// UTF-8 pass through unchanged.
fn pass_through(from: impl Read, mut to: impl Write, reader: &Mutex<Reader>) {
    let mut from = BufReader::new(from);
    let mut line = Vec::new();
    loop {
        line.clear();
        match from.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let _ = to.write_all(&line);
                let _ = to.flush();
                let text = String::from_utf8_lossy(&line);
                if let Ok(mut reader) = reader.lock() {
                    reader.line(text.trim_end_matches(['\n', '\r']));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &str) -> Failures {
        let mut reader = Reader::default();
        for line in lines.lines() {
            reader.line(line);
        }
        reader.failures
    }

    #[test]
    fn a_failed_test_is_named_with_where_and_why_it_panicked() {
        let failures = read(
            "running 2 tests\n\
             test kill_9_during_a_burn ... ok\n\
             test kill_9_during_a_read_back ... FAILED\n\
             \n\
             failures:\n\
             \n\
             ---- kill_9_during_a_read_back stdout ----\n\
             \n\
             thread 'kill_9_during_a_read_back' panicked at station/tests/daemon.rs:120:17:\n\
             the daemon ended (exit status: 0) before reaching verifying:\n\
             more of the log\n\
             \n\
             failures:\n    kill_9_during_a_read_back\n\
             \n\
             test result: FAILED. 1 passed; 1 failed; 0 ignored\n\
             error: test failed, to rerun pass `-p burnstation --test daemon`\n",
        );
        assert_eq!(
            failures,
            Failures {
                tests: vec![FailedTest {
                    name: "kill_9_during_a_read_back".into(),
                    panic: Some(
                        "station/tests/daemon.rs:120:17: the daemon ended (exit status: 0) \
                         before reaching verifying:"
                            .into()
                    ),
                }],
                targets: vec!["-p burnstation --test daemon".into()],
            }
        );
        assert_eq!(
            failures.summary(),
            [
                "  failed test kill_9_during_a_read_back: station/tests/daemon.rs:120:17: \
                 the daemon ended (exit status: 0) before reaching verifying:",
                "  failed target: cargo test -p burnstation --test daemon",
            ]
        );
    }

    #[test]
    fn a_panic_printed_before_its_failed_line_still_belongs_to_its_test() {
        // --nocapture, or a panic in a thread the test spawned, prints at once.
        let failures = read(
            "thread 'pacing' (2657) panicked at hal/tests/sim/pacing.rs:40:5:\n\
             too slow\n\
             test pacing ... FAILED\n\
             thread 'other' panicked at a.rs:1:1:\n\
             not a failure of a failed test\n",
        );
        assert_eq!(
            failures.tests,
            [FailedTest {
                name: "pacing".into(),
                panic: Some("hal/tests/sim/pacing.rs:40:5: too slow".into()),
            }]
        );
    }

    #[test]
    fn passing_output_names_nothing() {
        let failures = read(
            "running 1 test\ntest a ... ok\n\ntest result: ok. 1 passed; 0 failed\n\
             test a_test_whose_name_ends_in_FAILED ... ok\n",
        );
        assert_eq!(failures, Failures::default());
        assert!(failures.summary().is_empty());
    }

    #[test]
    fn a_failing_command_is_seen_on_both_of_its_streams() {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "echo 'test t ... FAILED'; echo \"thread 't' panicked at x.rs:1:2:\"; echo boom; \
             echo 'error: test failed, to rerun pass `-p p --test t`' >&2; exit 101",
        ]);
        let (passed, failures) = run_into(command, io::sink(), io::sink());
        assert!(!passed);
        assert_eq!(
            failures.summary(),
            [
                "  failed test t: x.rs:1:2: boom",
                "  failed target: cargo test -p p --test t"
            ]
        );
    }

    #[test]
    fn the_output_passes_through_unchanged() {
        let text = b"test a ... FAILED\n\xff not utf-8\nno newline at the end";
        let reader = Mutex::new(Reader::default());
        let mut out = Vec::new();
        pass_through(&text[..], &mut out, &reader);
        assert_eq!(out, text);
        let failures = reader.into_inner().unwrap().failures;
        assert_eq!(failures.tests.len(), 1);
    }
}
