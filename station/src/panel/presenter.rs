//! Folds the event stream into what the display shows: one [`events::State`] becomes one
//! [`Status`] screen, progress events fill in its bars, rates and times, problems become the
//! problem screens with their fixes.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::events::{self, Event, ProblemKind, Stage, State};
use crate::ui::View;
use crate::ui::view::{
    BurnStage, Burning, DeviceInfo, DiscNo, Idle, NextSync, Problem, Progress, Status, Syncing,
    Verifying,
};

/// Bytes per second at 1x, by medium family, for the burn screen's "8x".
fn one_x(medium: Option<&str>) -> f64 {
    match medium.map(str::to_ascii_lowercase) {
        Some(m) if m.starts_with("cd") => 153_600.0,
        Some(m) if m.starts_with("bd") => 4_495_500.0,
        _ => 1_385_000.0,
    }
}

/// The view the display draws, kept up to date from events.
#[derive(Debug, Clone)]
pub struct Presenter {
    view: View,
    /// The medium of the disc being asked for or burnt (for the speed's multiple).
    medium: Option<String>,
}

impl Presenter {
    /// Starts on the "Starting" screen with the box's facts (`box_key`: its ssh public key
    /// line, shown with its fingerprint).
    pub fn new(device: DeviceInfo, box_key: Option<String>) -> Self {
        Self {
            view: View {
                status: Status::Starting,
                device,
                box_key,
            },
            medium: None,
        }
    }

    /// What to draw now.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// Free space on the data partition changed.
    pub fn set_free_space(&mut self, free: Option<u64>, total: Option<u64>) {
        self.view.device.free_bytes = free;
        self.view.device.total_bytes = total;
    }

    /// The box's address changed.
    pub fn set_ip(&mut self, ip: Option<String>) {
        self.view.device.ip = ip;
    }

    /// Takes one event; `now` turns the states' absolute times into "in 3 h". Returns
    /// whether the view changed.
    pub fn apply(&mut self, event: &Event, now: DateTime<Utc>) -> bool {
        let before = self.view.status.clone();
        match event {
            Event::State(change) => self.view.status = self.status_of(&change.state, now),
            Event::Progress(progress) => self.progress(progress),
            Event::Problem(problem) => {
                self.view.status = Status::Problem(self.problem_of(problem));
            }
            Event::Notice(_) | Event::Lagged { .. } => {}
        }
        self.view.status != before
    }

    fn status_of(&mut self, state: &State, now: DateTime<Utc>) -> Status {
        match state {
            // The UI has no planning screen: planning is short and shows as "starting".
            State::Starting | State::Planning => Status::Starting,
            State::ConfigInvalid { problem } => Status::Problem(Problem::Settings {
                line: None,
                detail: problem.to_string(),
            }),
            State::WaitingForClock => Status::Idle(Idle {
                last_sync_ago: None,
                next_sync: NextSync::WaitingForClock,
                set: None,
                burn_due: false,
            }),
            State::Idle { next_sync, .. } => Status::Idle(Idle {
                last_sync_ago: None,
                next_sync: match next_sync {
                    Some(at) => NextSync::In((*at - now).to_std().unwrap_or(Duration::ZERO)),
                    None => NextSync::NotConfigured,
                },
                set: None,
                burn_due: false,
            }),
            State::Syncing => Status::Syncing(Syncing {
                received: 0,
                progress: None,
                rate: None,
                eta: None,
            }),
            State::SyncFailed { problem, .. } | State::Stopped { problem } => {
                Status::Problem(self.problem_of(problem))
            }
            State::WaitingForDisc { disc, medium } => {
                self.medium = Some(medium.clone());
                Status::WaitingForDisc {
                    disc: disc_no(*disc),
                    medium: Some(medium.to_ascii_uppercase()),
                }
            }
            State::ReadyToBurn {
                disc,
                medium,
                bytes,
            } => {
                self.medium = Some(medium.clone());
                Status::ReadyToBurn {
                    disc: disc_no(*disc),
                    medium: medium.to_ascii_uppercase(),
                    bytes: *bytes,
                }
            }
            State::Burning { disc } => Status::Burning(Burning {
                disc: disc_no(*disc),
                stage: BurnStage::Preparing,
                progress: Progress { done: 0, total: 0 },
                speed_x: None,
                eta: None,
                buffer_percent: None,
            }),
            State::Verifying { disc } => Status::Verifying(Verifying {
                disc: disc.map(disc_no),
                progress: Progress { done: 0, total: 0 },
                eta: None,
            }),
            State::DiscDone { disc, label } => Status::DiscDone {
                disc: disc_no(*disc),
                label: label.clone(),
                ejected: false,
            },
            State::SetComplete { label, discs } => Status::SetComplete {
                label: label.clone(),
                discs: *discs,
            },
            State::Erasing => Status::Erasing { progress: None },
            State::DiscChecked { label, bad_files } => Status::DiscChecked {
                label: label.clone(),
                ok: *bad_files == 0,
                bad_files: *bad_files,
            },
        }
    }

    fn progress(&mut self, p: &events::Progress) {
        let eta = p.eta_seconds.map(Duration::from_secs);
        let bar = Progress {
            done: p.done_bytes,
            total: p.total_bytes.unwrap_or(0),
        };
        match (&mut self.view.status, p.stage) {
            (Status::Syncing(s), Stage::Sync) => {
                s.received = p.done_bytes;
                s.progress = p.total_bytes.map(|_| bar);
                s.rate = p.bytes_per_second.map(|r| r as u64);
                s.eta = eta;
            }
            (Status::Burning(b), Stage::Burn) => {
                b.progress = bar;
                b.stage = if bar.total > 0 && bar.done >= bar.total {
                    BurnStage::Closing
                } else {
                    BurnStage::Writing
                };
                b.speed_x = p
                    .bytes_per_second
                    .map(|r| (r / one_x(self.medium.as_deref())) as f32);
                b.eta = eta;
                b.buffer_percent = p.buffer_fill.map(|f| (f.clamp(0.0, 1.0) * 100.0) as u8);
            }
            (Status::Verifying(v), Stage::Verify) => {
                v.progress = bar;
                v.eta = eta;
            }
            (Status::Erasing { progress }, _) => *progress = p.total_bytes.map(|_| bar),
            // Progress of another stage than the screen's (hashing while planning): the
            // screen has nowhere to show it.
            _ => {}
        }
    }

    fn problem_of(&self, problem: &events::Problem) -> Problem {
        let detail = problem.to_string();
        match problem.kind {
            ProblemKind::Config => Problem::Settings { line: None, detail },
            ProblemKind::HostKey => Problem::HostKeyChanged,
            ProblemKind::DiskFull => Problem::StorageFull {
                free_bytes: self.view.device.free_bytes.unwrap_or(0),
            },
            ProblemKind::Drive if problem.what.to_ascii_lowercase().contains("no drive") => {
                Problem::NoDrive
            }
            ProblemKind::Drive => Problem::DriveNotResponding { detail },
            ProblemKind::Medium => Problem::WrongDisc {
                found: problem.what.clone(),
                wanted: self
                    .medium
                    .as_deref()
                    .map_or_else(|| "a blank disc".into(), str::to_ascii_uppercase),
            },
            ProblemKind::Clock
            | ProblemKind::Network
            | ProblemKind::Auth
            | ProblemKind::Source
            | ProblemKind::Busy => Problem::SyncFailed { detail },
            ProblemKind::Internal => Problem::Internal { detail },
        }
    }
}

fn disc_no(disc: events::DiscOf) -> DiscNo {
    DiscNo {
        n: disc.number,
        of: disc.of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{DiscOf, StateChange};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn shown(state: State) -> Status {
        let mut p = Presenter::new(DeviceInfo::default(), None);
        p.apply(&Event::State(StateChange { state, at: now() }), now());
        p.view().status.clone()
    }

    fn problem(kind: ProblemKind) -> events::Problem {
        events::Problem {
            kind,
            what: "it broke".into(),
            action: "fix it".into(),
        }
    }

    const D2: DiscOf = DiscOf { number: 2, of: 3 };
    const N2: DiscNo = DiscNo { n: 2, of: 3 };

    #[test]
    fn every_state_has_its_screen() {
        assert_eq!(shown(State::Starting), Status::Starting);
        assert_eq!(shown(State::Planning), Status::Starting);
        assert!(matches!(
            shown(State::ConfigInvalid { problem: problem(ProblemKind::Config) }),
            Status::Problem(Problem::Settings { detail, .. }) if detail == "it broke; fix it"
        ));
        assert!(matches!(
            shown(State::WaitingForClock),
            Status::Idle(Idle {
                next_sync: NextSync::WaitingForClock,
                ..
            })
        ));
        assert!(matches!(
            shown(State::Idle {
                next_sync: Some(now() + chrono::Duration::hours(3)),
                last_snapshot: None
            }),
            Status::Idle(Idle { next_sync: NextSync::In(d), .. }) if d == Duration::from_secs(3 * 3600)
        ));
        assert!(matches!(shown(State::Syncing), Status::Syncing(_)));
        assert!(matches!(
            shown(State::SyncFailed {
                problem: problem(ProblemKind::HostKey),
                retry_at: now()
            }),
            Status::Problem(Problem::HostKeyChanged)
        ));
        assert!(matches!(
            shown(State::SyncFailed {
                problem: problem(ProblemKind::Network),
                retry_at: now()
            }),
            Status::Problem(Problem::SyncFailed { .. })
        ));
        assert_eq!(
            shown(State::WaitingForDisc {
                disc: D2,
                medium: "dvd+r".into()
            }),
            Status::WaitingForDisc {
                disc: N2,
                medium: Some("DVD+R".into())
            }
        );
        assert_eq!(
            shown(State::ReadyToBurn {
                disc: D2,
                medium: "dvd+r".into(),
                bytes: 7
            }),
            Status::ReadyToBurn {
                disc: N2,
                medium: "DVD+R".into(),
                bytes: 7
            }
        );
        assert!(matches!(
            shown(State::Burning { disc: D2 }),
            Status::Burning(Burning {
                disc: N2,
                stage: BurnStage::Preparing,
                ..
            })
        ));
        assert!(matches!(
            shown(State::Verifying { disc: Some(D2) }),
            Status::Verifying(Verifying { disc: Some(N2), .. })
        ));
        assert_eq!(
            shown(State::DiscDone {
                disc: D2,
                label: "OSK 2/3".into()
            }),
            Status::DiscDone {
                disc: N2,
                label: "OSK 2/3".into(),
                ejected: false
            }
        );
        assert_eq!(
            shown(State::SetComplete {
                label: "OSK".into(),
                discs: 3
            }),
            Status::SetComplete {
                label: "OSK".into(),
                discs: 3
            }
        );
        assert_eq!(shown(State::Erasing), Status::Erasing { progress: None });
        assert_eq!(
            shown(State::DiscChecked {
                label: None,
                bad_files: 2
            }),
            Status::DiscChecked {
                label: None,
                ok: false,
                bad_files: 2
            }
        );
        assert!(matches!(
            shown(State::Stopped {
                problem: problem(ProblemKind::DiskFull)
            }),
            Status::Problem(Problem::StorageFull { .. })
        ));
        assert!(matches!(
            shown(State::Stopped {
                problem: problem(ProblemKind::Drive)
            }),
            Status::Problem(Problem::DriveNotResponding { .. })
        ));
    }

    #[test]
    fn burn_progress_fills_the_bar_speed_and_buffer() {
        let mut p = Presenter::new(DeviceInfo::default(), None);
        for state in [
            State::WaitingForDisc {
                disc: D2,
                medium: "dvd+r".into(),
            },
            State::Burning { disc: D2 },
        ] {
            p.apply(&Event::State(StateChange { state, at: now() }), now());
        }
        let changed = p.apply(
            &Event::Progress(events::Progress {
                stage: Stage::Burn,
                disc: Some(D2),
                done_bytes: 50,
                total_bytes: Some(200),
                items_done: None,
                items_total: None,
                bytes_per_second: Some(4.0 * 1_385_000.0),
                eta_seconds: Some(30),
                buffer_fill: Some(0.75),
            }),
            now(),
        );
        assert!(changed);
        let Status::Burning(b) = &p.view().status else {
            panic!("{:?}", p.view().status)
        };
        assert_eq!(b.stage, BurnStage::Writing);
        assert_eq!(
            b.progress,
            Progress {
                done: 50,
                total: 200
            }
        );
        assert_eq!(b.speed_x, Some(4.0));
        assert_eq!(b.eta, Some(Duration::from_secs(30)));
        assert_eq!(b.buffer_percent, Some(75));
    }

    #[test]
    fn sync_progress_shows_rate_and_eta_and_problems_replace_the_screen() {
        let mut p = Presenter::new(DeviceInfo::default(), Some("ssh-ed25519 AAAA x".into()));
        p.apply(
            &Event::State(StateChange {
                state: State::Syncing,
                at: now(),
            }),
            now(),
        );
        p.apply(
            &Event::Progress(events::Progress {
                stage: Stage::Sync,
                disc: None,
                done_bytes: 10,
                total_bytes: Some(100),
                items_done: None,
                items_total: None,
                bytes_per_second: Some(5.0),
                eta_seconds: Some(18),
                buffer_fill: None,
            }),
            now(),
        );
        assert_eq!(
            p.view().status,
            Status::Syncing(Syncing {
                received: 10,
                progress: Some(Progress {
                    done: 10,
                    total: 100
                }),
                rate: Some(5),
                eta: Some(Duration::from_secs(18)),
            })
        );
        p.apply(&Event::Problem(problem(ProblemKind::Source)), now());
        assert!(matches!(
            p.view().status,
            Status::Problem(Problem::SyncFailed { .. })
        ));
        assert_eq!(p.view().box_key.as_deref(), Some("ssh-ed25519 AAAA x"));
    }
}
