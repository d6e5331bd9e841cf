//! `burnstation`: the burn station's command line.
//!
//! Each subcommand maps onto something a person wants to do with the box. The libraries
//! below (`burnstation-hal`, `burnstation-images`) do the work and return typed errors; this
//! binary is the only place that prints, and it turns every error into one sentence that
//! says what happened and what to do.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

/// Burn the OpenSkills backup tree onto optical discs, and read every disc back.
#[derive(Debug, Parser)]
#[command(name = "burnstation", version, about, long_about = None)]
struct Cli {
    /// Log more (repeat for even more): -v info, -vv debug, -vvv trace.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: cmd::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("burnstation: {}", one_sentence(&err));
            ExitCode::from(cmd::exit::code_for(&err))
        }
    }
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
fn init_logging(verbose: u8) {
    burnstation::logging::init(burnstation::logging::Role::Command, verbose);
}
