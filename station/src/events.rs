//! The station's one event stream: what it is doing, how far along it is, what went wrong
//! and what to do about it.
//!
//! Every part that does work publishes here (the sync, the drive thread, the daemon's state
//! machine) and every part that shows or keeps it reads from here: the display, the logs,
//! `burnstation status` over the daemon's Unix socket (one JSON object per line,
//! [`Event::to_json_line`]), and the command line's own progress output. An [`Event`] is plain
//! data that serde writes and reads back.
//!
//! Publishing never waits for a reader. The stream is a tokio broadcast channel of
//! [`CAPACITY`] events: a reader that falls that far behind (a display stuck on a slow bus)
//! loses the oldest events, and its next read says so ([`Event::Lagged`]) and hands it the
//! current state again, so it resynchronises instead of showing a stale screen. Burning never
//! slows down for a reader.
//!
//! Two consumers do not depend on a reader keeping up: the log, because [`EventBus::publish`]
//! writes every state change, problem and notice to `tracing` on the publisher's side; and the
//! catalogue, because the state machine commits a state to it *before* acting and publishing
//! (a lossy channel cannot be what a power cut is recovered from).

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How many events a reader may fall behind before it loses the oldest.
pub const CAPACITY: usize = 1024;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The station entered a new state.
    State(StateChange),
    /// How far the running stage is (a few times a second at most).
    Progress(Progress),
    /// Something went wrong: what, and what to do.
    Problem(Problem),
    /// Worth a line in the log, and maybe a moment on the display.
    Notice(Notice),
    /// This reader fell behind and missed `missed` events; the current state follows.
    Lagged {
        /// How many were lost.
        missed: u64,
    },
}

impl Event {
    /// The event as one line of JSON, newline included: the status socket's format.
    pub fn to_json_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("an event always serialises");
        line.push('\n');
        line
    }

    /// An event from one line of the status socket.
    pub fn from_json_line(line: &str) -> Result<Event, serde_json::Error> {
        serde_json::from_str(line.trim_end())
    }
}

/// A state and when it was entered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    /// The new state.
    pub state: State,
    /// When (UTC; as good as the box's clock, see `schedule`).
    pub at: DateTime<Utc>,
}

/// Disc `number` of a set of `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscOf {
    /// From 1.
    pub number: u32,
    /// The set's size.
    pub of: u32,
}

impl fmt::Display for DiscOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "disc {} of {}", self.number, self.of)
    }
}

/// What the station is doing, as `burnstation status` and the log show it. The daemon's state
/// machine (`jobs`) decides the transitions; this is what it tells the world. The display
/// reads the same facts through `ui::View`, which the daemon fills in from these states and
/// the progress events (one variant here per status screen there; here times are absolute,
/// there relative to now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
#[non_exhaustive]
pub enum State {
    /// Reading the settings, opening the catalogue, finding the drive.
    Starting,
    /// The settings file is wrong: nothing runs until it is corrected.
    ConfigInvalid {
        /// Which line and setting, and the fix.
        problem: Problem,
    },
    /// The clock has not been set from the network yet, so no schedule can be trusted.
    WaitingForClock,
    /// Nothing to do until the next sync (or the volunteer's press).
    Idle {
        /// When the next sync is due.
        next_sync: Option<DateTime<Utc>>,
        /// The newest good snapshot.
        last_snapshot: Option<String>,
    },
    /// Copying the backup tree from the server.
    Syncing,
    /// The last sync failed; the next try is at `retry_at`.
    SyncFailed {
        /// Why, and what to do.
        problem: Problem,
        /// When the station tries again by itself.
        retry_at: DateTime<Utc>,
    },
    /// Planning a disc set from a snapshot.
    Planning,
    /// Waiting for a blank disc.
    WaitingForDisc {
        /// Which disc of the set.
        disc: DiscOf,
        /// The medium to insert (`dvd+r`).
        medium: String,
    },
    /// A blank disc is in, and the settings say to ask before burning it.
    ReadyToBurn {
        /// Which disc of the set.
        disc: DiscOf,
        /// The medium in the drive (`dvd+r`).
        medium: String,
        /// How much will be written.
        bytes: u64,
    },
    /// Writing a disc.
    Burning {
        /// Which disc of the set.
        disc: DiscOf,
    },
    /// Reading a disc back.
    Verifying {
        /// Which disc of the set (`None`: a disc checked from the menu).
        disc: Option<DiscOf>,
    },
    /// A disc is burnt and verified: label it and put it away.
    DiscDone {
        /// Which disc of the set.
        disc: DiscOf,
        /// What to write on it.
        label: String,
    },
    /// Every disc of the set is burnt and verified.
    SetComplete {
        /// The set's label.
        label: String,
        /// How many discs it has.
        discs: u32,
    },
    /// Erasing a rewritable disc the volunteer chose to erase.
    Erasing,
    /// A disc checked from the menu: good, or how many files are damaged.
    DiscChecked {
        /// Its label, when the catalogue knows the disc.
        label: Option<String>,
        /// How many files differ or could not be read (0: good).
        bad_files: u32,
    },
    /// Stopped until the volunteer acts (a full data partition, a broken drive).
    Stopped {
        /// Why, and what to do.
        problem: Problem,
    },
}

/// Which stage a progress event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Copying from the server.
    Sync,
    /// Reading a snapshot's files for their hashes.
    Hash,
    /// Writing a disc.
    Burn,
    /// Reading a disc back.
    Verify,
}

/// How far a stage is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The stage.
    pub stage: Stage,
    /// The disc, for a burn or a verify.
    pub disc: Option<DiscOf>,
    /// Bytes done.
    pub done_bytes: u64,
    /// Bytes in all, when known.
    pub total_bytes: Option<u64>,
    /// Items (files) done, when the stage counts them.
    pub items_done: Option<u64>,
    /// Items in all, when known.
    pub items_total: Option<u64>,
    /// Current rate.
    pub bytes_per_second: Option<f64>,
    /// Time left, when it can be told.
    pub eta_seconds: Option<u64>,
    /// How full the buffer between the image and the drive is (0 to 1), while burning.
    pub buffer_fill: Option<f32>,
}

impl Progress {
    /// Done as a fraction of the total (0 to 1): of the bytes when their total is known,
    /// else of the items.
    pub fn fraction(&self) -> Option<f64> {
        let of = |done: u64, total: Option<u64>| {
            total
                .filter(|total| *total > 0)
                .map(|total| (done as f64 / total as f64).min(1.0))
        };
        of(self.done_bytes, self.total_bytes)
            .or_else(|| of(self.items_done.unwrap_or(0), self.items_total))
    }
}

/// What kind of trouble, so the display can pick its icon and the state machine its reaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The settings file.
    Config,
    /// The clock is not set, or behind.
    Clock,
    /// The network or the server cannot be reached.
    Network,
    /// The server's host key is not the pinned one.
    HostKey,
    /// The server refused the box's key.
    Auth,
    /// The folder to copy is missing or changed during the copy.
    Source,
    /// The data partition is full.
    DiskFull,
    /// The drive.
    Drive,
    /// The disc.
    Medium,
    /// Another copy of the station holds what this one needs.
    Busy,
    /// A bug or a broken installation.
    Internal,
}

/// Something that went wrong, said for a person: what happened, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Its kind.
    pub kind: ProblemKind,
    /// What happened.
    pub what: String,
    /// What to do about it.
    pub action: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.what, self.action)
    }
}

/// How much a notice matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeLevel {
    /// For the record.
    Info,
    /// Not a failure, but worth a look.
    Warning,
}

/// A line for the log (and the display, when it has room).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// How much it matters.
    pub level: NoticeLevel,
    /// The line.
    pub text: String,
}

/// The publishing side. Cloning shares the stream; any thread may publish.
#[derive(Debug, Clone)]
pub struct EventBus {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    sender: broadcast::Sender<Event>,
    current: CurrentState,
    /// The running stage's latest progress, cleared by each state change: what
    /// `burnstation status` shows besides the state.
    progress: Mutex<Option<Progress>>,
}

/// The latest state, for readers that join late or fall behind. Readers hold this and not
/// the sender, so the stream ends when the last publisher is dropped.
type CurrentState = Arc<Mutex<Option<StateChange>>>;

fn lock(current: &CurrentState) -> std::sync::MutexGuard<'_, Option<StateChange>> {
    // A panic while holding this lock cannot leave a half-written Option behind.
    current
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Default for EventBus {
    fn default() -> EventBus {
        EventBus::new()
    }
}

impl EventBus {
    /// A stream that keeps [`CAPACITY`] events for slow readers.
    pub fn new() -> EventBus {
        EventBus::with_capacity(CAPACITY)
    }

    /// A stream that keeps `capacity` events for slow readers.
    pub fn with_capacity(capacity: usize) -> EventBus {
        let (sender, _) = broadcast::channel(capacity.max(1));
        EventBus {
            shared: Arc::new(Shared {
                sender,
                current: Arc::new(Mutex::new(None)),
                progress: Mutex::new(None),
            }),
        }
    }

    /// Sends `event` to every reader, without waiting for any, and logs it.
    pub fn publish(&self, event: Event) {
        log(&event);
        match &event {
            Event::State(change) => {
                // Updated before sending: a reader that subscribes in between sees the new
                // state twice, never an old one.
                *lock(&self.shared.current) = Some(change.clone());
                *lock_progress(&self.shared.progress) = None;
            }
            Event::Progress(progress) => {
                *lock_progress(&self.shared.progress) = Some(progress.clone());
            }
            _ => {}
        }
        // An error only means nobody is listening, which is fine.
        let _ = self.shared.sender.send(event);
    }

    /// Publishes a state change at `at`.
    pub fn state(&self, state: State, at: DateTime<Utc>) {
        self.publish(Event::State(StateChange { state, at }));
    }

    /// Publishes progress.
    pub fn progress(&self, progress: Progress) {
        self.publish(Event::Progress(progress));
    }

    /// Publishes a problem.
    pub fn problem(&self, problem: Problem) {
        self.publish(Event::Problem(problem));
    }

    /// Publishes a notice.
    pub fn notice(&self, level: NoticeLevel, text: impl Into<String>) {
        self.publish(Event::Notice(Notice {
            level,
            text: text.into(),
        }));
    }

    /// The latest state published, if any.
    pub fn current_state(&self) -> Option<StateChange> {
        lock(&self.shared.current).clone()
    }

    /// The running stage's latest progress, if it reported any since the last state change.
    pub fn current_progress(&self) -> Option<Progress> {
        lock_progress(&self.shared.progress).clone()
    }

    /// A new reader. Its first event is the current state (if there is one yet).
    pub fn subscribe(&self) -> Subscription {
        let receiver = self.shared.sender.subscribe();
        let pending = self.current_state().map(Event::State).into_iter().collect();
        Subscription {
            receiver,
            current: Arc::clone(&self.shared.current),
            pending,
        }
    }
}

fn lock_progress(
    progress: &Mutex<Option<Progress>>,
) -> std::sync::MutexGuard<'_, Option<Progress>> {
    // As for the state: a panic cannot leave a half-written Option behind.
    progress
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The log's view of the stream: every event but progress, at its level.
fn log(event: &Event) {
    match event {
        Event::State(change) => tracing::info!(state = ?change.state, "state"),
        Event::Progress(progress) => tracing::trace!(?progress, "progress"),
        Event::Problem(problem) => {
            tracing::warn!(kind = ?problem.kind, "{problem}");
        }
        Event::Notice(notice) => match notice.level {
            NoticeLevel::Info => tracing::info!("{}", notice.text),
            NoticeLevel::Warning => tracing::warn!("{}", notice.text),
        },
        Event::Lagged { .. } => {}
    }
}

/// One reader of the stream.
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<Event>,
    current: CurrentState,
    pending: VecDeque<Event>,
}

/// What [`Subscription::try_recv`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum TryRecv {
    /// The next event.
    Event(Event),
    /// Nothing new yet.
    Empty,
    /// Every publisher is gone: the stream has ended.
    Closed,
}

impl Subscription {
    /// The next event; `None` once every publisher is gone.
    pub async fn recv(&mut self) -> Option<Event> {
        if let Some(event) = self.pending.pop_front() {
            return Some(event);
        }
        let received = self.receiver.recv().await;
        self.take(received)
    }

    /// The state this reader started from (the first event it would read), taken out of its
    /// queue: for a reader that shows the state in its own way before the stream.
    pub fn take_current(&mut self) -> Option<StateChange> {
        match self.pending.front() {
            Some(Event::State(_)) => match self.pending.pop_front() {
                Some(Event::State(change)) => Some(change),
                _ => None,
            },
            _ => None,
        }
    }

    /// The next event if there is one, without waiting (a display loop between frames).
    pub fn try_recv(&mut self) -> TryRecv {
        if let Some(event) = self.pending.pop_front() {
            return TryRecv::Event(event);
        }
        match self.receiver.try_recv() {
            Ok(event) => TryRecv::Event(event),
            Err(broadcast::error::TryRecvError::Empty) => TryRecv::Empty,
            Err(broadcast::error::TryRecvError::Closed) => TryRecv::Closed,
            Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                TryRecv::Event(self.lagged(missed))
            }
        }
    }

    /// The next event, blocking this thread: for a reader on an OS thread of its own, never
    /// on the async runtime.
    pub fn blocking_recv(&mut self) -> Option<Event> {
        if let Some(event) = self.pending.pop_front() {
            return Some(event);
        }
        let received = self.receiver.blocking_recv();
        self.take(received)
    }

    fn take(&mut self, received: Result<Event, broadcast::error::RecvError>) -> Option<Event> {
        match received {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Closed) => None,
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(self.lagged(missed)),
        }
    }

    /// Reports the loss, and queues the current state so the reader catches up at once.
    fn lagged(&mut self, missed: u64) -> Event {
        let current = lock(&self.current).clone();
        self.pending.extend(current.map(Event::State));
        Event::Lagged { missed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn sync_progress(done: u64) -> Progress {
        Progress {
            stage: Stage::Sync,
            disc: None,
            done_bytes: done,
            total_bytes: Some(1000),
            items_done: None,
            items_total: None,
            bytes_per_second: Some(10.0),
            eta_seconds: Some(99),
            buffer_fill: None,
        }
    }

    fn problem() -> Problem {
        Problem {
            kind: ProblemKind::Network,
            what: "backup.example.org did not answer".into(),
            action: "check the network cable".into(),
        }
    }

    #[test]
    fn every_event_survives_a_json_line() {
        let disc = DiscOf { number: 2, of: 3 };
        let events = vec![
            Event::State(StateChange {
                state: State::Idle {
                    next_sync: Some(at(1_800_000_000)),
                    last_snapshot: Some("2026-11-26T030000Z".into()),
                },
                at: at(1_700_000_000),
            }),
            Event::State(StateChange {
                state: State::WaitingForDisc {
                    disc,
                    medium: "dvd+r".into(),
                },
                at: at(0),
            }),
            Event::State(StateChange {
                state: State::SyncFailed {
                    problem: problem(),
                    retry_at: at(5),
                },
                at: at(0),
            }),
            Event::Progress(Progress {
                disc: Some(disc),
                buffer_fill: Some(0.75),
                ..sync_progress(500)
            }),
            Event::Problem(problem()),
            Event::Notice(Notice {
                level: NoticeLevel::Warning,
                text: "the burner is on a full-speed USB link".into(),
            }),
            Event::Lagged { missed: 7 },
        ];
        for event in events {
            let line = event.to_json_line();
            assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
            assert_eq!(Event::from_json_line(&line).unwrap(), event, "{line}");
        }
        let line = Event::State(StateChange {
            state: State::Syncing,
            at: at(0),
        })
        .to_json_line();
        assert_eq!(
            line,
            "{\"event\":\"state\",\"state\":{\"name\":\"syncing\"},\"at\":\"1970-01-01T00:00:00Z\"}\n"
        );
    }

    #[tokio::test]
    async fn a_late_reader_starts_from_the_current_state() {
        let bus = EventBus::new();
        bus.state(State::Starting, at(1));
        bus.state(State::Syncing, at(2));
        let mut reader = bus.subscribe();
        bus.progress(sync_progress(1));
        let first = reader.recv().await.unwrap();
        assert_eq!(
            first,
            Event::State(StateChange {
                state: State::Syncing,
                at: at(2)
            })
        );
        assert_eq!(reader.recv().await, Some(Event::Progress(sync_progress(1))));
        assert_eq!(reader.try_recv(), TryRecv::Empty);
        drop(bus);
        assert_eq!(reader.recv().await, None);
    }

    #[tokio::test]
    async fn a_slow_reader_never_holds_up_the_publisher_and_resynchronises() {
        let bus = EventBus::with_capacity(4);
        let mut slow = bus.subscribe();
        bus.state(State::Syncing, at(1));
        // Far more than the reader keeps; publishing must not wait for it.
        for done in 0..100 {
            bus.progress(sync_progress(done));
        }
        match slow.recv().await.unwrap() {
            Event::Lagged { missed } => assert_eq!(missed, 97),
            other => panic!("expected a lag report, got {other:?}"),
        }
        assert_eq!(
            slow.recv().await.unwrap(),
            Event::State(StateChange {
                state: State::Syncing,
                at: at(1)
            })
        );
        // Then the newest events the channel still holds, in order.
        let mut seen = Vec::new();
        while let TryRecv::Event(Event::Progress(p)) = slow.try_recv() {
            seen.push(p.done_bytes);
        }
        assert_eq!(seen, vec![96, 97, 98, 99]);
    }

    #[test]
    fn a_reader_on_its_own_thread_blocks_until_an_event() {
        let bus = EventBus::new();
        let mut reader = bus.subscribe();
        let thread = std::thread::spawn(move || reader.blocking_recv());
        bus.problem(problem());
        assert_eq!(thread.join().unwrap(), Some(Event::Problem(problem())));
    }

    #[test]
    fn the_latest_progress_is_kept_until_the_state_changes() {
        let bus = EventBus::new();
        assert_eq!(bus.current_progress(), None);
        bus.state(State::Syncing, at(1));
        bus.progress(sync_progress(1));
        bus.notice(NoticeLevel::Info, "a line");
        bus.progress(sync_progress(2));
        assert_eq!(bus.current_progress(), Some(sync_progress(2)));
        bus.state(State::Planning, at(2));
        assert_eq!(bus.current_progress(), None);
    }
}
