//! The drive thread's scheduling priority while it writes a disc.
//!
//! A burner's own buffer lasts a tenth of a second at DVD 16x (2 MiB at 22 MB/s). The
//! thread that refills it sleeps between WRITEs, and on a board whose two or four cores are
//! busy (the sync's rsync and ssh, the image stream's hashing, the display) it may wake too
//! late: `docs/performance.md` measured the drive thread kept off the CPU for 0.1 to 0.75 s
//! under a heavy load, and each such wait is a buffer underrun. cdrecord answers this with
//! real-time priority for its writer. The station raises the *nice* value of the drive
//! thread only, and only while it writes: a thread at nice -10 weighs about ten times a
//! normal one when it wakes, which is what the waits needed, and unlike a real-time
//! priority it can never lock the box up if it spins.
//!
//! Raising a priority needs `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows it (the
//! station's systemd service sets `LimitNICE=-10`). Without either, the burn still runs, at
//! the normal priority, and the caller is told why.
//!
//! Linux keeps a nice value per thread (`setpriority(PRIO_PROCESS, tid)` affects that thread
//! alone), which is what makes a drive-thread-only priority possible.

use std::io;

/// The nice value the drive thread runs at while it writes, unless told otherwise.
pub const DRIVE_NICE: i32 = -10;

/// The calling thread runs at a raised priority until this is dropped; then it gets its
/// previous nice value back.
#[derive(Debug)]
pub struct RaisedPriority {
    thread: libc::id_t,
    previous: i32,
}

/// Why the priority could not be raised.
#[derive(Debug, thiserror::Error)]
pub enum PriorityError {
    /// Neither `CAP_SYS_NICE` nor `RLIMIT_NICE` allows it.
    #[error(
        "the drive thread runs at normal priority: raising it to nice {nice} needs CAP_SYS_NICE \
         or LimitNICE={nice} in the service (or root); on a busy machine the drive's buffer \
         may run empty, which costs time on a DVD or BD but not the disc"
    )]
    NotAllowed {
        /// The nice value asked for.
        nice: i32,
    },
    /// Any other failure.
    #[error("could not change the drive thread's priority ({0})")]
    Os(io::Error),
}

/// Sets the calling thread's nice value to `nice` (lower is more important) until the
/// returned guard is dropped. A value no higher than the thread's own leaves it alone.
pub fn raise_this_thread(nice: i32) -> Result<RaisedPriority, PriorityError> {
    // SAFETY: gettid has no arguments and cannot fail.
    let thread = unsafe { libc::gettid() } as libc::id_t;
    let previous = thread_nice(thread).map_err(PriorityError::Os)?;
    let guard = RaisedPriority { thread, previous };
    if nice >= previous {
        return Ok(guard);
    }
    set_thread_nice(thread, nice).map_err(|e| match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) => PriorityError::NotAllowed { nice },
        _ => PriorityError::Os(e),
    })?;
    Ok(guard)
}

impl RaisedPriority {
    /// The nice value the thread had before, and gets back.
    pub fn previous(&self) -> i32 {
        self.previous
    }
}

impl Drop for RaisedPriority {
    fn drop(&mut self) {
        // Lowering a priority is always allowed.
        if let Err(e) = set_thread_nice(self.thread, self.previous) {
            tracing::warn!("could not give the drive thread its priority back ({e})");
        }
    }
}

/// The nice value of thread `thread`.
pub fn thread_nice(thread: libc::id_t) -> io::Result<i32> {
    // getpriority returns -1 both as a value and as an error: only errno tells them apart.
    nix::errno::Errno::clear();
    // SAFETY: getpriority only reads the scheduler's value for a thread id; an id that is
    // not ours yields ESRCH, nothing worse.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, thread) };
    if nice == -1 && nix::errno::Errno::last_raw() != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(nice)
}

fn set_thread_nice(thread: libc::id_t, nice: i32) -> io::Result<()> {
    // SAFETY: setpriority changes only the scheduler's value for this thread id.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, thread, nice) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_nice() -> i32 {
        // SAFETY: as in `raise_this_thread`.
        thread_nice(unsafe { libc::gettid() } as libc::id_t).unwrap()
    }

    #[test]
    fn a_raise_lasts_as_long_as_its_guard_and_touches_only_this_thread() {
        let before = own_nice();
        // A sibling thread that stays alive while this one is raised.
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let sibling = std::thread::spawn(move || {
            // SAFETY: as in `raise_this_thread`.
            tid_tx
                .send(unsafe { libc::gettid() } as libc::id_t)
                .unwrap();
            rx.recv().unwrap();
        });
        let sibling_tid = tid_rx.recv().unwrap();
        match raise_this_thread(before - 5) {
            Ok(guard) => {
                assert_eq!(guard.previous(), before);
                assert_eq!(own_nice(), before - 5);
                assert_eq!(thread_nice(sibling_tid).unwrap(), before);
                drop(guard);
                assert_eq!(own_nice(), before);
            }
            // Not root and no RLIMIT_NICE: said so, and nothing changed.
            Err(PriorityError::NotAllowed { nice }) => {
                assert_eq!(nice, before - 5);
                assert_eq!(own_nice(), before);
            }
            Err(other) => panic!("{other}"),
        }
        tx.send(()).unwrap();
        sibling.join().unwrap();
    }

    #[test]
    fn a_lower_priority_than_the_threads_own_is_left_alone() {
        let before = own_nice();
        let guard = raise_this_thread(before + 3).unwrap();
        assert_eq!(own_nice(), before);
        drop(guard);
        assert_eq!(own_nice(), before);
    }
}
