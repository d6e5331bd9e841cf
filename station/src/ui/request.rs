//! What a button press asks the daemon to do.

use super::view::{Problem, Status};

/// A request from the volunteer, produced by the buttons through the menu
/// ([`super::Navigator`]). The daemon carries it out or answers "not now" on the display; the
/// UI never acts on the box itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Request {
    /// Burn: start the due disc set now, or burn the blank disc that is in.
    BurnNow,
    /// Sync from the server now instead of waiting for the schedule.
    SyncNow,
    /// Read the disc in the drive back against its own `SHA256SUMS`.
    VerifyDisc,
    /// Erase the rewritable disc in the drive. Only sent after the volunteer confirmed it.
    EraseDisc,
    /// Open the tray.
    Eject,
    /// The message on the screen has been read (disc labelled, set complete, check result).
    Dismiss,
}

impl Request {
    /// The words for the request in a button hint ("Press: burn now").
    pub fn verb(self) -> &'static str {
        match self {
            Request::BurnNow => "burn now",
            Request::SyncNow => "sync now",
            Request::VerifyDisc => "verify disc",
            Request::EraseDisc => "erase disc",
            Request::Eject => "eject",
            Request::Dismiss => "done",
        }
    }
}

impl Status {
    /// What a short press of the select button does on this screen: the obvious next step,
    /// if there is one. The screen's hint line says the same.
    pub fn next_step(&self) -> Option<Request> {
        match self {
            Status::Starting
            | Status::Syncing(_)
            | Status::Burning(_)
            | Status::Verifying(_)
            | Status::Erasing { .. } => None,
            Status::Idle(idle) => idle.burn_due.then_some(Request::BurnNow),
            // Slim burners' trays often open only on request: a press opens it for the disc.
            Status::WaitingForDisc { .. } => Some(Request::Eject),
            Status::ReadyToBurn { .. } => Some(Request::BurnNow),
            Status::DiscDone { .. } | Status::SetComplete { .. } | Status::DiscChecked { .. } => {
                Some(Request::Dismiss)
            }
            Status::Problem(problem) => problem.fix(),
        }
    }
}

impl Problem {
    /// The request that fixes the problem, when a button can: the rest need hands (a cable,
    /// the settings file, the administrator).
    pub fn fix(&self) -> Option<Request> {
        match self {
            Problem::DiscNotBlank { .. }
            | Problem::WrongDisc { .. }
            | Problem::DiscInterrupted
            | Problem::BurnFailed { .. }
            | Problem::VerifyFailed { .. } => Some(Request::Eject),
            // Erasing needs the confirmation page: the press opens it (see `Navigator`).
            Problem::DiscHoldsData { .. } => Some(Request::EraseDisc),
            Problem::SyncFailed { .. } => Some(Request::SyncNow),
            Problem::Settings { .. }
            | Problem::NoDrive
            | Problem::SlowLink { .. }
            | Problem::DriveNotResponding { .. }
            | Problem::HostKeyChanged
            | Problem::StorageFull { .. }
            | Problem::Internal { .. } => None,
        }
    }
}
