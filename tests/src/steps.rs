//! Scenario steps: several commands in one guest run, each with its own exit code, stdout
//! and stderr.
//!
//! A guest run reports one exit code and two streams for the whole script. A scenario that
//! runs `burnstation burn` and then `burnstation verify` needs each command's own result, and
//! must go on after a command that is meant to fail. [`script`] puts a `step` shell function
//! in front of the scenario:
//!
//! ```sh
//! step burn burnstation burn "$FILES/tree"    # runs the command, whatever its exit code
//! step verify burnstation verify
//! ```
//!
//! and [`Steps::parse`] reads the guest's stdout back into one [`Step`] per name. A step's
//! output is kept in the guest's RAM until the command ends, then printed between marker
//! lines that no command of ours prints.
//!
//! This module only builds and reads text; it runs nothing.

use std::collections::BTreeMap;
use std::fmt;

/// The `step NAME COMMAND...` shell function (busybox `sh`).
const STEP_FUNCTION: &str = r#"# step NAME COMMAND...: runs COMMAND, then prints its exit code, stdout and stderr
# between marker lines (a last line without its newline gets one).
step() {
    step_name=$1
    shift
    "$@" > /tmp/step.stdout 2> /tmp/step.stderr
    step_code=$?
    echo "=== step $step_name exit $step_code"
    for step_stream in stdout stderr; do
        echo "=== step $step_name $step_stream"
        cat "/tmp/step.$step_stream"
        if [ -s "/tmp/step.$step_stream" ] && [ -n "$(tail -c 1 "/tmp/step.$step_stream")" ]; then
            echo
        fi
    done
    echo "=== step $step_name end"
    return 0
}
"#;

/// What one step's command did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// The command's exit code.
    pub exit_code: i32,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

/// Which output stream a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// Every step of a guest run, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steps {
    steps: BTreeMap<String, Step>,
}

/// A scenario script whose `body` can call `step`.
pub fn script(body: &str) -> String {
    format!("{STEP_FUNCTION}\n{body}")
}

impl Steps {
    /// The steps in a guest run's stdout. Lines outside any step are ignored; a step whose
    /// end marker is missing (the guest died during it) is left out.
    pub fn parse(stdout: &str) -> Steps {
        let mut steps = BTreeMap::new();
        // The step being read, and which of its streams the next lines belong to.
        let mut open: Option<(String, Step, Option<Stream>)> = None;
        for line in stdout.lines() {
            let marker: Vec<&str> = line
                .strip_prefix("=== step ")
                .map(|rest| rest.split(' ').collect())
                .unwrap_or_default();
            match (marker.as_slice(), open.as_mut()) {
                ([name, "exit", code], _) => {
                    let step = Step {
                        exit_code: code.parse().unwrap_or(-1),
                        ..Step::default()
                    };
                    open = Some((name.to_string(), step, None));
                }
                ([name, "stdout"], Some((current, _, stream))) if name == current => {
                    *stream = Some(Stream::Stdout);
                }
                ([name, "stderr"], Some((current, _, stream))) if name == current => {
                    *stream = Some(Stream::Stderr);
                }
                ([name, "end"], Some((current, _, _))) if name == current => {
                    if let Some((name, step, _)) = open.take() {
                        steps.insert(name, step);
                    }
                }
                (_, Some((_, step, Some(stream)))) => {
                    let text = match stream {
                        Stream::Stdout => &mut step.stdout,
                        Stream::Stderr => &mut step.stderr,
                    };
                    text.push_str(line);
                    text.push('\n');
                }
                _ => {}
            }
        }
        Steps { steps }
    }

    /// The step called `name`.
    pub fn get(&self, name: &str) -> Option<&Step> {
        self.steps.get(name)
    }

    /// The names of the steps that ran to their end, in name order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.steps.keys().map(String::as_str)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "exit code {}", self.exit_code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_come_back_with_their_own_exit_code_and_streams() {
        let stdout = "before\n\
                      === step burn exit 0\n\
                      === step burn stdout\n\
                      burnt 300 MB\n\
                      === step burn stderr\n\
                      writing...\n\
                      closing the disc...\n\
                      === step burn end\n\
                      between\n\
                      === step verify exit 1\n\
                      === step verify stdout\n\
                      === step verify stderr\n\
                      burnstation: the disc failed\n\
                      === step verify end\n";
        let steps = Steps::parse(stdout);
        assert_eq!(
            steps.get("burn"),
            Some(&Step {
                exit_code: 0,
                stdout: "burnt 300 MB\n".to_string(),
                stderr: "writing...\nclosing the disc...\n".to_string(),
            })
        );
        let verify = steps.get("verify").unwrap();
        assert_eq!(verify.exit_code, 1);
        assert_eq!(verify.stdout, "");
        assert_eq!(verify.stderr, "burnstation: the disc failed\n");
        assert_eq!(steps.names().collect::<Vec<_>>(), ["burn", "verify"]);
    }

    #[test]
    fn a_step_the_guest_never_finished_is_left_out() {
        let steps = Steps::parse("=== step burn exit 0\n=== step burn stdout\nhalf\n");
        assert_eq!(steps.get("burn"), None);
    }

    /// The function itself, run by the host's `sh`: exit codes, both streams, a last line
    /// without its newline, and a failing command that does not stop the script.
    #[test]
    fn the_step_function_reports_what_the_shell_ran() {
        let body = "step fails sh -c 'echo out; printf err >&2; exit 3'\nstep works echo fine\n";
        let output = std::process::Command::new("sh")
            .args(["-c", &script(body)])
            .output()
            .expect("sh runs");
        assert!(output.status.success());
        let steps = Steps::parse(&String::from_utf8_lossy(&output.stdout));
        let fails = steps.get("fails").expect("the failing step is reported");
        assert_eq!(
            (
                fails.exit_code,
                fails.stdout.as_str(),
                fails.stderr.as_str()
            ),
            (3, "out\n", "err\n")
        );
        assert_eq!(steps.get("works").map(|s| s.exit_code), Some(0));
        assert_eq!(
            steps.get("works").map(|s| s.stdout.as_str()),
            Some("fine\n")
        );
    }
}
