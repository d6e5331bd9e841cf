//! Ctrl-C: the first asks the running command to stop at the next safe point, the second
//! kills it. Whether the command was interrupted decides its exit status (130), whatever
//! error the stop then surfaced as.

use std::sync::atomic::{AtomicBool, Ordering};

use burnstation_hal::Cancel;

use crate::Exit;

/// Set once Ctrl-C was pressed.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// True once Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Records an interruption that a command noticed through its own signal handling (the
/// sync's, on its async runtime), so that it exits 130 like a command stopped through
/// [`cancel_on_interrupt`].
pub fn record_interrupted() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// A cancel flag raised by Ctrl-C, so an interrupted burn stops between two WRITEs, leaves
/// the drive flushed and the tray unlocked, and says what state the disc is in.
pub fn cancel_on_interrupt() -> Cancel {
    let cancel = Cancel::new();
    let raised = cancel.clone();
    if let Err(e) = ctrlc::set_handler(move || {
        eprintln!("\nstopping at the next safe point (interrupt again to kill)...");
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(Exit::Interrupted.code()));
        }
        raised.cancel();
    }) {
        tracing::info!(error = %e, "Ctrl-C will kill the command instead of stopping it cleanly");
    }
    cancel
}
