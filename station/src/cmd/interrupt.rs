//! Stopping a command from outside: Ctrl-C (SIGINT) and SIGTERM (what systemd, `kill` and a
//! shutting-down box send). Either asks the running command to stop at its next safe point
//! (a burn: between two WRITEs, once the drive has burnt what it was sent, the tray
//! unlocked), and the command then says where the disc stands. A second signal, of either
//! kind, is answered the same way: dying in the middle of a write is what a person pressing
//! Ctrl-C twice wants least, and a write-once disc must end in a state that is reported
//! truly. The first signal decides the exit status: 130 for SIGINT, 143 for SIGTERM
//! (128 + its number, as a shell reports a process it killed).
//!
//! The signals are read on a thread of their own (signal-hook's iterator), so the reaction
//! may print and take locks; the handler itself only writes to a pipe.

use std::sync::atomic::{AtomicI32, Ordering};

use burnstation_hal::Cancel;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::Exit;

/// The first stopping signal received, 0 before any.
static FIRST_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// How the command was stopped from outside, if it was: the exit status that says so.
pub fn stopped_by() -> Option<Exit> {
    match FIRST_SIGNAL.load(Ordering::SeqCst) {
        SIGINT => Some(Exit::Interrupted),
        SIGTERM => Some(Exit::Terminated),
        _ => None,
    }
}

/// Records a stopping signal that a command noticed through its own signal handling (the
/// sync's, on its async runtime), so that it exits 130 or 143 like a command stopped
/// through [`cancel_on_signals`].
pub fn record_signal(signal: i32) {
    let _ = FIRST_SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
}

/// A cancel flag raised by SIGINT or SIGTERM. From here on those signals no longer kill
/// the process: the command checks the flag at its safe points and ends by itself.
pub fn cancel_on_signals() -> Cancel {
    let cancel = Cancel::new();
    let raised = cancel.clone();
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(e) => {
            tracing::info!(error = %e, "Ctrl-C and SIGTERM will kill the command instead of stopping it cleanly");
            return cancel;
        }
    };
    let watcher = std::thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            for signal in signals.forever() {
                let name = if signal == SIGTERM { "SIGTERM" } else { "Ctrl-C" };
                let first = FIRST_SIGNAL
                    .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok();
                if first {
                    eprintln!("\n{name}: stopping at the next safe point...");
                } else {
                    eprintln!(
                        "\n{name}: already stopping at the next safe point, so that the disc is left in a state this command can report; wait for it"
                    );
                }
                raised.cancel();
            }
        });
    if let Err(e) = watcher {
        tracing::info!(error = %e, "no thread to watch for Ctrl-C and SIGTERM");
    }
    cancel
}
