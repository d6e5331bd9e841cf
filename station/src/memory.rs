//! How the process's allocator behaves: the station has 64 MiB for burning a full DVD of
//! 100 000 files (docs/performance.md, "The daemon"), and glibc's defaults keep memory
//! resident that the burn no longer uses.
//!
//! Two of glibc's defaults cost most (measured on the full-DVD burn, 8 MiB ring: 65.0 MiB
//! with the defaults, 57.7 with both settings below):
//!
//! - The mmap threshold is dynamic: each time a block larger than the threshold is freed
//!   (the scanned entry list, a grown vector), glibc raises the threshold to that size, up
//!   to 32 MiB. From then on the ring, the 1 MiB hashing chunks and the layout's large
//!   vectors come from the heap instead of their own mappings, and when they are freed
//!   their pages mostly stay resident. A fixed threshold keeps every large buffer in a
//!   mapping of its own, given back to the kernel when it is freed.
//! - Every thread that allocates gets an arena of its own (up to 8 per core), each keeping
//!   its own free memory: the burn has four such threads (the drive, the image producer and
//!   its two hashing helpers). Two arenas are shared by all; the threads that move the
//!   image's bytes recycle their buffers and hardly allocate, so they do not wait on each
//!   other for the allocator's lock.
//!
//! Other C libraries (musl) have neither behaviour: there this does nothing.

/// Large blocks from this size on get a mapping of their own (glibc's initial default).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;
/// Arenas shared by every thread.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENA_MAX: libc::c_int = 2;

/// Sets the allocator up for a small board. Call it first thing in `main`, before any
/// thread is started; calling it again changes nothing.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes glibc's malloc parameters; it is called with valid
        // parameter numbers and values, and is safe to call at any time.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX);
        }
    }
}

/// Gives the pages of freed memory in the middle of the heap back to the kernel (glibc
/// only gives back the top of the heap by itself): for a long-lived process after a phase
/// that allocated and freed much, such as planning a set.
pub fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own; no pointer the
    // program holds is affected.
    unsafe {
        libc::malloc_trim(0);
    }
}
