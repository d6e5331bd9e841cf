//! Cancellation from another thread.
//!
//! A burn or a read-back runs on the drive's own thread for many minutes; the person at the
//! box (a button, Ctrl-C on the command line, the daemon shutting down) must be able to stop
//! it. The long-running loop checks its [`Cancel`] between commands, never in the middle of
//! one, so the drive is always left between two complete commands and the disc in a state
//! the caller can report.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag shared by whoever may cancel and whoever checks. Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    requested: Arc<AtomicBool>,
}

impl Cancel {
    /// A flag that nobody has raised yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the work to stop at its next safe point.
    pub fn cancel(&self) {
        self.requested.store(true, Ordering::SeqCst);
    }

    /// True once [`cancel`](Cancel::cancel) was called on any clone.
    pub fn is_cancelled(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_sees_the_cancel() {
        let cancel = Cancel::new();
        let seen_by_worker = cancel.clone();
        assert!(!seen_by_worker.is_cancelled());
        std::thread::spawn(move || cancel.cancel()).join().unwrap();
        assert!(seen_by_worker.is_cancelled());
    }
}
