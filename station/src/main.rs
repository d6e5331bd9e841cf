//! `burnstation`: the burn station's command line.
//!
//! Each subcommand maps onto something a person wants to do with the box. The libraries
//! below (`burnstation-hal`, `burnstation-images`) do the work and return typed errors; this
//! binary is the only place that prints, and it turns every error into one sentence that
//! says what happened and what to do.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

use cmd::Verdict;

/// The exit statuses, for `--help`; [`Exit`] is what they mean in the code.
const EXIT_STATUS_HELP: &str = "\
Exit status:
  0    done: every disc burnt or checked holds exactly what it should
  1    verification found damage: the disc must not be counted as a good copy
  2    error: the drive, the disc, the input, the settings or the server (the message
       says what to do)
  130  interrupted (Ctrl-C); a burn stops between two writes and says where the disc stands
  143  terminated (SIGTERM, as systemd sends), stopped the same way";

/// Burn the OpenSkills backup tree onto optical discs, and read every disc back.
#[derive(Debug, Parser)]
#[command(name = "burnstation", version, about, long_about = None, after_help = EXIT_STATUS_HELP)]
struct Cli {
    /// Log more (repeat for even more): -v info, -vv debug, -vvv trace.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: cmd::Command,
}

/// What the exit status tells a script: one code per outcome, documented in `--help`
/// ([`EXIT_STATUS_HELP`]) and the README. A signal that stops a command maps to 128 + its
/// number, as a shell reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// Done; every disc burnt or checked holds what it should.
    Ok,
    /// A disc was read back and found damaged.
    Damaged,
    /// The command failed: the drive, the medium or the input.
    Error,
    /// Ctrl-C (SIGINT) stopped the command.
    Interrupted,
    /// SIGTERM (systemd stopping the service, `kill`) stopped the command.
    Terminated,
}

impl Exit {
    /// The status the process ends with.
    fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Damaged => 1,
            Exit::Error => 2,
            Exit::Interrupted => 128 + 2,
            Exit::Terminated => 128 + 15,
        }
    }
}

fn main() -> ExitCode {
    burnstation::memory::tune_allocator();
    let cli = Cli::parse();
    init_logging(&cli.command, cli.verbose);
    let exit = match cli.command.run() {
        Ok(Verdict::Done) => Exit::Ok,
        Ok(Verdict::Damaged) => {
            eprintln!(
                "burnstation: the disc failed verification and must not be counted as a good copy"
            );
            Exit::Damaged
        }
        Err(err) => {
            eprintln!("burnstation: {}", one_sentence(&err));
            // However the stop surfaced (a cancelled burn, a cancelled read-back), the
            // signal was its cause.
            cmd::interrupt::stopped_by().unwrap_or(Exit::Error)
        }
    };
    ExitCode::from(exit.code())
}

/// The error and its causes on one line. The libraries' messages already name their
/// cause, so a cause whose text the line holds already is not repeated.
fn one_sentence(err: &anyhow::Error) -> String {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

/// Logs go to stderr so that a command's own output on stdout stays machine-readable (or to
/// the journal, when stderr is the journal: see `burnstation::logging`). `RUST_LOG` overrides
/// the level chosen with `-v`.
fn init_logging(command: &cmd::Command, verbose: u8) {
    use burnstation::logging::Role;
    let role = match command {
        cmd::Command::Run(_) => Role::Daemon,
        _ => Role::Command,
    };
    burnstation::logging::init(role, verbose);
}
