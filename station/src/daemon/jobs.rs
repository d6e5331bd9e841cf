//! The job state machine: where the daemon is in sync -> plan -> burn every disc -> done.
