//! The daemon's loop: one [`Station`] holding the settings, the catalogue, the snapshot
//! store and the drive, taking one step of the job at a time.
//!
//! Each step reads the job's state, acts, and moves the job on with [`Station::enter`],
//! which commits the new state to the catalogue before anything else happens. What the
//! volunteer sees is published with [`Station::show`], once per change.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use burnstation_hal::drive::NotReady;
use burnstation_hal::mmc::capacity::NominalMedium;
use burnstation_hal::{
    BurnEvent, BurnOptions, Cancel, DiscStatus, DriveError, STATION_RING_BYTES, SpeedRequest,
};
use burnstation_images::plan::{DiscSet, PlanOptions, SetHashes, Snapshot as PlanSnapshot};
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::jobs::Job;
use super::{CATALOG_FILE, DaemonError, DaemonOptions, Ended, Until};
use crate::catalog::{BurnResult, Catalog, NewBurn, SetId, Verification};
use crate::config::{Config, DeviceChoice, MediaChoice, StartPolicy, WriteSpeed};
use crate::device::{self, AnyDrive};
use crate::events::{DiscOf, EventBus, NoticeLevel, Problem, ProblemKind, Progress, Stage, State};
use crate::hashing::{HashingEvent, hash_with_catalog};
use crate::notify::{self, Heartbeat, Notifier};
use crate::pipeline::{self, PipelineEvent, PipelineOptions};
use crate::schedule::{CLOCK_POLL, Clock, ClockTrust, SyncSchedule, SystemClock, judge_clock};
use crate::snapshots::{Snapshot, SnapshotStore};
use crate::sync::{SyncError, SyncSettings, sync};
use crate::ui::Request;

/// How often a wait looks at requests and at `cancel`.
const POLL: Duration = Duration::from_millis(100);
/// How often the drive is asked whether a disc went in or out.
const DRIVE_POLL: Duration = Duration::from_secs(1);
/// How long to wait before trying a drive that could not be opened again (it may be
/// plugged in meanwhile).
const DRIVE_RETRY: Duration = Duration::from_secs(3);
/// The watchdog is kicked only while the loop showed life this recently.
pub(super) const ALIVE_WITHIN: Duration = Duration::from_secs(15 * 60);
/// The start of every volume ID.
const LABEL_PREFIX: &str = "OSK";

/// A planned set held in memory while its discs are burnt.
#[derive(Clone)]
struct PreparedSet {
    id: SetId,
    set: Arc<DiscSet>,
    hashes: Arc<SetHashes>,
}

/// Whether the loop goes on.
enum Step {
    Continue,
    Stop(Ended),
}

/// What the daemon keeps on its data partition, opened: the snapshots and the catalogue.
pub(super) struct DataDir {
    store: SnapshotStore,
    catalog: Catalog,
}

impl DataDir {
    /// Opens (and makes, the first time) `config`'s data directory.
    pub(super) fn open(config: &Config) -> Result<DataDir, DaemonError> {
        let data_dir = config.data_dir();
        std::fs::create_dir_all(data_dir).map_err(|e| {
            DaemonError::Other(format!(
                "cannot create the data directory {} ({e})",
                data_dir.display()
            ))
        })?;
        Ok(DataDir {
            store: SnapshotStore::open(data_dir)?,
            catalog: Catalog::open(&data_dir.join(CATALOG_FILE))?,
        })
    }
}

/// The running daemon.
pub(super) struct Station {
    config: Config,
    drive_spec: Option<String>,
    until: Option<Until>,
    bus: EventBus,
    requests: Receiver<Request>,
    cancel: Cancel,
    catalog: Catalog,
    store: SnapshotStore,
    clock: SystemClock,
    schedule: SyncSchedule,
    runtime: tokio::runtime::Runtime,
    job: Job,
    drive: Option<AnyDrive>,
    prepared: Option<PreparedSet>,
    /// The last state shown, so each is published once.
    shown: Option<State>,
    /// The last sync's failure and its retry time, shown while idle.
    sync_problem: Option<(Problem, DateTime<Utc>)>,
    /// Why the job stopped, while it is `Failed`.
    failure: Option<Problem>,
    /// The volunteer pressed "burn": start the set now, burn the disc that is in.
    burn_asked: bool,
    /// Sync at once (a sync was interrupted, or the volunteer asked).
    sync_asked: bool,
    /// The disc in the drive was refused and ejected: not again until it changes.
    refused_disc: bool,
    /// Unix seconds of the loop's last sign of life, for the watchdog thread.
    heartbeat: Arc<Heartbeat>,
}

impl Station {
    /// The daemon for `config`, keeping its state in `data`.
    pub(super) fn open(
        config: Config,
        data: DataDir,
        options: &DaemonOptions,
        bus: EventBus,
        requests: Receiver<Request>,
        cancel: &Cancel,
    ) -> Result<Station, DaemonError> {
        let DataDir { store, catalog } = data;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DaemonError::Other(format!("cannot start the async runtime ({e})")))?;
        let drive_spec = options.drive.clone().or(match &config.drive.device {
            DeviceChoice::Auto => None,
            DeviceChoice::Path(path) => Some(path.display().to_string()),
            DeviceChoice::Sim(spec) => Some(spec.clone()),
        });
        Ok(Station {
            schedule: SyncSchedule::new(&config.schedule),
            config,
            drive_spec,
            until: options.until,
            bus,
            requests,
            cancel: cancel.clone(),
            catalog,
            store,
            clock: SystemClock,
            runtime,
            job: Job::Idle,
            drive: None,
            prepared: None,
            shown: None,
            sync_problem: None,
            failure: None,
            burn_asked: false,
            sync_asked: false,
            refused_disc: false,
            heartbeat: Arc::new(Heartbeat::new()),
        })
    }

    /// Resumes from the catalogue, then takes steps until cancelled or `until` happens.
    pub(super) fn run(&mut self) -> Result<Ended, DaemonError> {
        let notifier = Arc::new(Notifier::from_env());
        self.resume()?;
        notifier.ready();
        notify::start_watchdog(
            Arc::clone(&notifier),
            Arc::clone(&self.heartbeat),
            ALIVE_WITHIN,
            self.cancel.clone(),
        );
        let ended = self.take_steps();
        // Whatever ended the loop, systemd hears of it before the process ends.
        notifier.stopping();
        ended
    }

    /// The job's steps, one after another, until cancelled or `until` happens.
    fn take_steps(&mut self) -> Result<Ended, DaemonError> {
        loop {
            if self.cancel.is_cancelled() {
                return Ok(Ended::Cancelled);
            }
            self.alive();
            let step = match self.job.clone() {
                Job::Idle => self.idle()?,
                Job::Syncing => self.sync()?,
                Job::Planning { snapshot } => self.plan(&snapshot)?,
                Job::WaitingForDisc { set, disc, of } => self.wait_for_disc(set, disc, of)?,
                Job::Burning { set, disc, of } | Job::Verifying { set, disc, of } => {
                    self.burn(set, disc, of)?
                }
                Job::DiscDone { set, disc, of } => self.disc_done(set, disc, of)?,
                Job::SetComplete { set, of } => self.set_complete(set, of)?,
                Job::Failed { what } => self.failed(&what)?,
            };
            if let Step::Stop(ended) = step {
                return Ok(ended);
            }
        }
    }

    // ----- the job's states -----

    /// Takes up the job the catalogue last recorded.
    fn resume(&mut self) -> Result<(), DaemonError> {
        let saved = match self.catalog.saved_job()? {
            None => Job::Idle,
            Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("the recorded job state is unreadable ({e}); starting idle");
                Job::Idle
            }),
        };
        let marked = self
            .catalog
            .mark_interrupted_burns(Utc::now().timestamp())?;
        if let (Some(disc), Job::Burning { of, .. } | Job::Verifying { of, .. }) =
            (saved.interrupted_disc(), &saved)
        {
            let problem = Problem {
                kind: ProblemKind::Medium,
                what: format!(
                    "disc {disc} of {of} was being written or checked when the station stopped \
                     (a power cut or a restart); it does not count"
                ),
                action: format!(
                    "take that disc out and put it aside; disc {disc} is burnt again on a blank \
                     disc"
                ),
            };
            tracing::warn!(burns = marked, "{problem}");
            self.bus.problem(problem);
        }
        if saved == Job::Syncing {
            self.bus.notice(
                NoticeLevel::Info,
                "a sync was interrupted when the station stopped; it starts again now",
            );
            self.sync_asked = true;
        }
        let job = saved.resumed();
        tracing::info!(?job, "resuming");
        self.enter(job)?;
        if matches!(self.job, Job::Idle | Job::Failed { .. })
            && let Some((set, disc, of)) = self.unfinished_set()?
        {
            self.enter(self.job.resume_set(set, disc, of)?)?;
        }
        Ok(())
    }

    /// Waits for the clock, then for the next sync (or the volunteer's press).
    fn idle(&mut self) -> Result<Step, DaemonError> {
        let newest = self.store.newest()?;
        let now = self.clock.now();
        let trust = judge_clock(
            now,
            &self.clock.evidence(),
            newest.as_ref().map(|s| s.taken_at),
        );
        if trust == ClockTrust::NotYet {
            self.show(State::WaitingForClock);
            self.wait(CLOCK_POLL);
            return Ok(Step::Continue);
        }
        let next = self.next_sync(newest.as_ref(), now);
        match &self.sync_problem {
            Some((problem, retry_at)) => self.show(State::SyncFailed {
                problem: problem.clone(),
                retry_at: *retry_at,
            }),
            None => self.show(State::Idle {
                next_sync: Some(next),
                last_snapshot: newest.as_ref().map(|s| s.name().to_string()),
            }),
        }
        if self.sync_asked || now >= next {
            self.sync_asked = false;
            self.enter(self.job.start_sync()?)?;
            return Ok(Step::Continue);
        }
        let left = (next - now).to_std().unwrap_or(Duration::ZERO);
        match self.wait(left.min(DRIVE_POLL)) {
            Some(Request::SyncNow) => self.sync_asked = true,
            Some(Request::BurnNow) => match newest {
                Some(newest) => {
                    self.burn_asked = true;
                    self.enter(self.job.plan_now(newest.name())?)?;
                }
                None => {
                    self.bus.notice(
                        NoticeLevel::Info,
                        "there is no snapshot to burn yet: syncing from the server first",
                    );
                    self.burn_asked = true;
                    self.sync_asked = true;
                }
            },
            Some(request) => self.not_now(request),
            None => {}
        }
        Ok(Step::Continue)
    }

    /// Copies the backup tree into a new snapshot.
    fn sync(&mut self) -> Result<Step, DaemonError> {
        self.show(State::Syncing);
        let result = match SyncSettings::from_config(&self.config) {
            Err(error) => Err(error),
            Ok(settings) => {
                let token = CancellationToken::new();
                let (cancel, heartbeat) = (self.cancel.clone(), Arc::clone(&self.heartbeat));
                let watch = token.clone();
                let (store, clock, bus) = (&self.store, &self.clock, &self.bus);
                self.runtime.block_on(async move {
                    // The hal's Cancel is a flag: look at it while rsync runs, and keep the
                    // watchdog fed (a long sync is alive as long as this runs).
                    let watcher = tokio::spawn(async move {
                        while !cancel.is_cancelled() {
                            heartbeat.beat();
                            tokio::time::sleep(POLL).await;
                        }
                        watch.cancel();
                    });
                    let result = sync(&settings, store, clock, bus, &token).await;
                    watcher.abort();
                    result
                })
            }
        };
        match result {
            Ok(outcome) => {
                self.schedule.record_success();
                self.sync_problem = None;
                let name = outcome.snapshot.name().to_string();
                self.bus.notice(
                    NoticeLevel::Info,
                    format!(
                        "snapshot {name}: {} files, {} bytes copied",
                        outcome.stats.files_transferred, outcome.stats.transferred_bytes
                    ),
                );
                self.prune()?;
                self.enter(self.job.synced(&name)?)?;
                Ok(Step::Continue)
            }
            // The job stays "syncing" in the catalogue: the next start redoes it.
            Err(SyncError::Cancelled) => Ok(Step::Stop(Ended::Cancelled)),
            Err(error) => {
                let retry_at = self.schedule.record_failure(self.clock.now());
                let problem = error.problem();
                tracing::warn!(retry_at = %retry_at, "sync failed: {problem}");
                self.sync_problem = Some((problem, retry_at));
                self.enter(self.job.sync_failed()?)?;
                Ok(Step::Continue)
            }
        }
    }

    /// Plans a set of `snapshot` when one is due, or takes up the unfinished one.
    fn plan(&mut self, snapshot: &str) -> Result<Step, DaemonError> {
        if let Some((set, disc, of)) = self.unfinished_set()? {
            self.enter(self.job.resume_set(set, disc, of)?)?;
            return Ok(Step::Continue);
        }
        if !self.burn_asked && !self.set_due()? {
            tracing::info!(snapshot, "no disc set is due yet");
            self.enter(self.job.not_due()?)?;
            return Ok(Step::Continue);
        }
        self.burn_asked = false;
        self.show(State::Planning);
        let Some(snapshot) = self
            .store
            .list()?
            .into_iter()
            .find(|s| s.name() == snapshot)
        else {
            return self.fail(Problem {
                kind: ProblemKind::Internal,
                what: format!("snapshot {snapshot} is gone from the data partition"),
                action: "press the button to sync again".to_string(),
            });
        };
        let (medium, capacity) = self.choose_medium();
        match self.prepare(&snapshot, medium, capacity, None) {
            Ok(prepared) => {
                let of = prepared.set.discs().len() as u32;
                tracing::info!(
                    set = prepared.id.0,
                    discs = of,
                    medium = medium.token,
                    "planned"
                );
                let id = prepared.id.0;
                self.prepared = Some(prepared);
                self.enter(self.job.planned(id, of)?)?;
                Ok(Step::Continue)
            }
            Err(_) if self.cancel.is_cancelled() => Ok(Step::Stop(Ended::Cancelled)),
            Err(error) => self.fail(Problem {
                kind: ProblemKind::Source,
                what: format!(
                    "the snapshot {} cannot be planned: {error}",
                    snapshot.name()
                ),
                action: "press the button to sync and try again; if it happens again, tell \
                         your administrator"
                    .to_string(),
            }),
        }
    }

    /// Waits for a usable blank disc (and the volunteer's press when the settings ask).
    fn wait_for_disc(&mut self, set: i64, disc: u32, of: u32) -> Result<Step, DaemonError> {
        let Some(prepared) = self.prepared_set(set)? else {
            return Ok(Step::Continue);
        };
        let medium = prepared.set.options().medium.clone();
        let bytes = prepared.set.disc(disc).map_or(0, |d| d.image_blocks * 2048);
        let disc_of = DiscOf { number: disc, of };
        let waiting = State::WaitingForDisc {
            disc: disc_of,
            medium: medium.clone(),
        };
        let burn_options = self.burn_options();
        let start = self.config.burn.start;
        let Some(drive) = self.open_drive() else {
            return Ok(Step::Continue);
        };
        let usable = match drive.media() {
            Err(DriveError::NotReady {
                reason: NotReady::NoMedium { .. },
                ..
            }) => {
                self.refused_disc = false;
                self.show(waiting);
                None
            }
            Err(error) => {
                self.drive_lost(&error);
                return Ok(Step::Continue);
            }
            Ok(info) => {
                let kind = NominalMedium::for_profile(info.profile).map(|m| m.token);
                let refusal = if kind != Some(medium.as_str()) {
                    Some(format!(
                        "this set is planned for {medium} discs, and the drive holds a {}",
                        info.profile
                    ))
                } else {
                    drive
                        .plan_burn(1, &burn_options)
                        .err()
                        .map(|e| e.to_string())
                };
                match refusal {
                    None => Some(info.profile.to_string()),
                    Some(why) => {
                        self.refuse_disc(why, &medium);
                        self.show(waiting);
                        None
                    }
                }
            }
        };
        if let Some(in_drive) = usable {
            if start == StartPolicy::Auto || self.burn_asked {
                self.burn_asked = false;
                self.enter(self.job.burn()?)?;
                return Ok(Step::Continue);
            }
            self.show(State::ReadyToBurn {
                disc: disc_of,
                medium: in_drive,
                bytes,
            });
        }
        match self.wait(DRIVE_POLL) {
            Some(Request::BurnNow) => self.burn_asked = true,
            Some(Request::Eject) => self.eject(),
            Some(request) => self.not_now(request),
            None => {}
        }
        Ok(Step::Continue)
    }

    /// Burns disc `disc` and reads it back (a restart in `Burning` or `Verifying` was
    /// turned into `WaitingForDisc` by [`Job::resumed`]: this starts from the beginning).
    fn burn(&mut self, set: i64, disc: u32, of: u32) -> Result<Step, DaemonError> {
        let Some(prepared) = self.prepared_set(set)? else {
            return Ok(Step::Continue);
        };
        let disc_of = DiscOf { number: disc, of };
        let options = PipelineOptions {
            burn: self.burn_options(),
            ring_bytes: STATION_RING_BYTES,
            ..PipelineOptions::default()
        };
        // Held here for the burn, and given back below whatever happens.
        let Some(mut drive) = self.drive.take() else {
            self.enter(self.job.disc_failed()?)?;
            return Ok(Step::Continue);
        };
        let medium = drive
            .media()
            .map(|m| m.profile.to_string())
            .unwrap_or_default();
        let burn_id = self.catalog.start_burn(&NewBurn {
            set: prepared.id,
            disc,
            drive: drive.name(),
            medium: &medium,
            speed_kbps: None,
            started_at: Utc::now().timestamp(),
        })?;
        self.show(State::Burning { disc: disc_of });
        let verifying = Job::Verifying { set, disc, of };
        let mut saved_verifying: Option<Result<(), DaemonError>> = None;
        let (catalog, bus, heartbeat) = (&mut self.catalog, &self.bus, &self.heartbeat);
        let mut on_event = |event: PipelineEvent| {
            heartbeat.beat();
            match event {
                PipelineEvent::Burn(BurnEvent::Progress(p)) => bus.progress(Progress {
                    stage: Stage::Burn,
                    disc: Some(disc_of),
                    done_bytes: p.written_bytes,
                    total_bytes: Some(p.total_bytes),
                    items_done: None,
                    items_total: None,
                    bytes_per_second: Some(p.bytes_per_sec),
                    eta_seconds: p.eta.map(|e| e.as_secs()),
                    buffer_fill: p.host_buffer.map(|b| b.fraction() as f32),
                }),
                PipelineEvent::Burn(BurnEvent::Note(note)) => bus.notice(NoticeLevel::Info, note),
                PipelineEvent::Note(note) => bus.notice(NoticeLevel::Warning, note),
                PipelineEvent::Warning(warning) => {
                    bus.notice(NoticeLevel::Warning, warning.to_string())
                }
                PipelineEvent::Verifying { .. } => {
                    // Committed before the first READ, like every other step.
                    saved_verifying = Some(save_job(catalog, &verifying));
                    bus.state(
                        State::Verifying {
                            disc: Some(disc_of),
                        },
                        Utc::now(),
                    );
                }
                PipelineEvent::ReadBack(r) => bus.progress(Progress {
                    stage: Stage::Verify,
                    disc: Some(disc_of),
                    done_bytes: r.read_bytes,
                    total_bytes: Some(r.total_bytes),
                    items_done: None,
                    items_total: None,
                    bytes_per_second: Some(r.bytes_per_sec),
                    eta_seconds: r.eta.map(|e| e.as_secs()),
                    buffer_fill: None,
                }),
                _ => {}
            }
        };
        let outcome = pipeline::burn_planned_disc(
            &mut drive,
            &prepared.set,
            disc,
            Arc::clone(&prepared.hashes),
            &options,
            &mut on_event,
            &self.cancel,
        );
        self.drive = Some(drive);
        if let Some(saved) = saved_verifying {
            saved?;
            self.job = verifying.clone();
            self.shown = Some(State::Verifying {
                disc: Some(disc_of),
            });
        }
        let now = Utc::now().timestamp();
        match outcome {
            Ok(outcome) => {
                self.catalog.finish_burn(
                    burn_id,
                    BurnResult::Done,
                    now,
                    None,
                    Some(outcome.image_sha256),
                )?;
                let passed = match &outcome.verify {
                    Some(report) => {
                        self.catalog.record_verification(
                            prepared.id,
                            disc,
                            Some(burn_id),
                            now,
                            &Verification::from(report),
                        )?;
                        report.passed()
                    }
                    None => true,
                };
                if !passed {
                    self.disc_failed(
                        format!("disc {disc} of {of} did not read back as written"),
                        disc,
                    )?;
                    return Ok(Step::Continue);
                }
                if self.job == (Job::Burning { set, disc, of }) {
                    self.job = verifying;
                }
                self.enter(self.job.disc_done()?)?;
                if self.config.burn.eject {
                    self.eject();
                }
                Ok(Step::Continue)
            }
            // Left as it is: a restart reports the disc as interrupted.
            Err(error) if self.cancel.is_cancelled() => {
                self.catalog.finish_burn(
                    burn_id,
                    BurnResult::Cancelled,
                    now,
                    Some(&error.to_string()),
                    None,
                )?;
                Ok(Step::Stop(Ended::Cancelled))
            }
            Err(error) => {
                let what = error.to_string();
                self.catalog
                    .finish_burn(burn_id, BurnResult::Failed, now, Some(&what), None)?;
                self.disc_failed(format!("disc {disc} of {of} failed: {what}"), disc)?;
                Ok(Step::Continue)
            }
        }
    }

    /// A disc is done: wait for it to be taken out and the next blank one to go in.
    fn disc_done(&mut self, set: i64, disc: u32, of: u32) -> Result<Step, DaemonError> {
        let label = self
            .prepared
            .as_ref()
            .filter(|p| p.id.0 == set)
            .and_then(|p| p.set.disc(disc).map(|d| d.volume_id.clone()))
            .unwrap_or_else(|| format!("disc {disc} of {of}"));
        self.show(State::DiscDone {
            disc: DiscOf { number: disc, of },
            label,
        });
        // The last disc leads straight to "set complete", which says to label it.
        if disc == of {
            self.enter(self.job.next_disc()?)?;
            return Ok(Step::Continue);
        }
        let blank_inside = match self.drive.as_mut().map(|d| d.media()) {
            Some(Ok(info)) => info.status == DiscStatus::Blank,
            _ => false,
        };
        if blank_inside {
            self.enter(self.job.next_disc()?)?;
            return Ok(Step::Continue);
        }
        match self.wait(DRIVE_POLL) {
            Some(Request::Dismiss) => self.enter(self.job.next_disc()?)?,
            Some(Request::Eject) => self.eject(),
            Some(request) => self.not_now(request),
            None => {}
        }
        Ok(Step::Continue)
    }

    /// Every disc is done: say so until dismissed or the next sync.
    fn set_complete(&mut self, set: i64, of: u32) -> Result<Step, DaemonError> {
        let label = self
            .catalog
            .set_history(SetId(set))
            .map(|h| h.summary.label)
            .unwrap_or_else(|_| format!("set {set}"));
        if !matches!(self.shown, Some(State::SetComplete { .. })) {
            // The daemon's own peak (rsync and ssh are processes of their own), for the
            // memory benchmark and for anyone watching a small board.
            tracing::info!(set, peak_rss_kib = ?peak_rss_kib(), "set complete");
        }
        self.show(State::SetComplete { label, discs: of });
        if self.until == Some(Until::SetComplete) {
            return Ok(Step::Stop(Ended::Reached(Until::SetComplete)));
        }
        self.prepared = None;
        let newest = self.store.newest()?;
        let now = self.clock.now();
        if self.sync_asked || now >= self.next_sync(newest.as_ref(), now) {
            self.sync_asked = false;
            self.enter(self.job.start_sync()?)?;
            return Ok(Step::Continue);
        }
        match self.wait(DRIVE_POLL) {
            Some(Request::Dismiss) => self.enter(self.job.dismissed()?)?,
            Some(Request::SyncNow) => self.sync_asked = true,
            Some(Request::Eject) => self.eject(),
            Some(request) => self.not_now(request),
            None => {}
        }
        Ok(Step::Continue)
    }

    /// Stopped until the volunteer acts (or the next scheduled sync tries again).
    fn failed(&mut self, what: &str) -> Result<Step, DaemonError> {
        let problem = self.failure.clone().unwrap_or_else(|| Problem {
            kind: ProblemKind::Internal,
            what: what.to_string(),
            action: "press the button to sync and try again".to_string(),
        });
        self.show(State::Stopped { problem });
        let newest = self.store.newest()?;
        let now = self.clock.now();
        if self.sync_asked || now >= self.next_sync(newest.as_ref(), now) {
            self.sync_asked = false;
            self.failure = None;
            self.enter(self.job.start_sync()?)?;
            return Ok(Step::Continue);
        }
        match self.wait(DRIVE_POLL) {
            Some(Request::SyncNow | Request::Dismiss) => self.sync_asked = true,
            Some(Request::BurnNow) => {
                self.burn_asked = true;
                self.sync_asked = true;
            }
            Some(Request::Eject) => self.eject(),
            Some(request) => self.not_now(request),
            None => {}
        }
        Ok(Step::Continue)
    }

    // ----- helpers -----

    /// Moves the job to `job`, committed to the catalogue first.
    fn enter(&mut self, job: Job) -> Result<(), DaemonError> {
        save_job(&mut self.catalog, &job)?;
        if job != self.job {
            tracing::debug!(?job, "job");
        }
        self.job = job;
        Ok(())
    }

    /// Publishes `state` unless it is the one shown.
    fn show(&mut self, state: State) {
        if self.shown.as_ref() != Some(&state) {
            self.bus.state(state.clone(), Utc::now());
            self.shown = Some(state);
        }
    }

    /// Stops the job for the volunteer to act.
    fn fail(&mut self, problem: Problem) -> Result<Step, DaemonError> {
        tracing::error!("{problem}");
        let job = self.job.fail(problem.what.clone());
        self.failure = Some(problem);
        self.enter(job)?;
        Ok(Step::Continue)
    }

    /// The disc failed: say why, open the tray, and ask for disc `disc` again.
    fn disc_failed(&mut self, what: String, disc: u32) -> Result<(), DaemonError> {
        let problem = Problem {
            kind: ProblemKind::Medium,
            what,
            action: format!("take the disc out and insert a blank one: disc {disc} is burnt again"),
        };
        tracing::warn!("{problem}");
        self.bus.problem(problem);
        self.enter(self.job.disc_failed()?)?;
        self.eject();
        self.refused_disc = true;
        Ok(())
    }

    /// Says why the disc in the drive cannot be used, and opens the tray once for it.
    fn refuse_disc(&mut self, why: String, medium: &str) {
        if self.refused_disc {
            return;
        }
        self.bus.problem(Problem {
            kind: ProblemKind::Medium,
            what: why,
            action: format!("take the disc out and insert a blank {medium}"),
        });
        self.refused_disc = true;
        self.eject();
    }

    /// Opens the tray, if there is a drive (a failure is only logged: the volunteer can
    /// press the drive's own button).
    fn eject(&mut self) {
        if let Some(drive) = self.drive.as_mut()
            && let Err(e) = drive.eject()
        {
            tracing::warn!("could not open the tray: {e}");
        }
    }

    /// The drive, opened if it is not yet; `None` (with the problem shown, after a pause)
    /// when there is none: it may be plugged in later.
    fn open_drive(&mut self) -> Option<&mut AnyDrive> {
        if self.drive.is_none() {
            match device::open(self.drive_spec.as_deref()) {
                Ok(drive) => {
                    tracing::info!(drive = drive.name(), "drive opened");
                    self.drive = Some(drive);
                }
                Err(error) => {
                    self.show(State::Stopped {
                        problem: Problem {
                            kind: ProblemKind::Drive,
                            what: error.to_string(),
                            action: "connect the burner (the station finds it by itself)"
                                .to_string(),
                        },
                    });
                    self.wait(DRIVE_RETRY);
                    return None;
                }
            }
        }
        self.drive.as_mut()
    }

    /// The drive stopped answering or went away: forget it, and find it again later.
    fn drive_lost(&mut self, error: &DriveError) {
        tracing::warn!("the drive failed: {error}");
        self.drive = None;
        self.show(State::Stopped {
            problem: Problem {
                kind: ProblemKind::Drive,
                what: format!("the drive does not answer ({error})"),
                action: "check the burner's cable and power; the station tries again by itself"
                    .to_string(),
            },
        });
        self.wait(DRIVE_RETRY);
    }

    /// The volunteer asked for something this state cannot do.
    fn not_now(&mut self, request: Request) {
        self.bus.notice(
            NoticeLevel::Info,
            format!("\"{}\" cannot be done now", request.verb()),
        );
    }

    /// Sleeps up to `period`, returning early with a request or when cancelled.
    fn wait(&mut self, period: Duration) -> Option<Request> {
        let until = Instant::now() + period;
        loop {
            self.alive();
            match self.requests.try_recv() {
                Ok(request) => {
                    tracing::info!(?request, "request");
                    return Some(request);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => {}
            }
            let now = Instant::now();
            if self.cancel.is_cancelled() || now >= until {
                return None;
            }
            std::thread::sleep(POLL.min(until - now));
        }
    }

    fn alive(&self) {
        self.heartbeat.beat();
    }

    /// When the next sync is due.
    fn next_sync(&self, newest: Option<&Snapshot>, now: DateTime<Utc>) -> DateTime<Utc> {
        self.schedule.next_sync(newest.map(|s| s.taken_at), now)
    }

    /// How to burn, from the settings.
    fn burn_options(&self) -> BurnOptions {
        BurnOptions {
            speed: match self.config.burn.speed {
                WriteSpeed::Max => SpeedRequest::Max,
                WriteSpeed::Times(times) => SpeedRequest::Times(times),
            },
            ..BurnOptions::default()
        }
    }

    /// The first set of the catalogue with a disc not yet burnt and verified: its id, that
    /// disc and the set's size.
    fn unfinished_set(&self) -> Result<Option<(i64, u32, u32)>, DaemonError> {
        let Some(set) = self.catalog.incomplete_sets()?.into_iter().next() else {
            return Ok(None);
        };
        let history = self.catalog.set_history(set.set)?;
        let next = history
            .discs
            .iter()
            .find(|d| {
                let burnt = d
                    .burns
                    .iter()
                    .filter(|b| b.result == "done")
                    .map(|b| b.started_at)
                    .min();
                let verified = d
                    .verifications
                    .iter()
                    .max_by_key(|v| v.at)
                    .filter(|v| v.result == "passed" && burnt.is_some_and(|b| v.at >= b));
                verified.is_none()
            })
            .map_or(1, |d| d.number);
        Ok(Some((set.set.0, next, set.discs)))
    }

    /// Whether a new set is due: none was ever made, the newest is older than the
    /// interval, or enough snapshots came since.
    fn set_due(&self) -> Result<bool, DaemonError> {
        let Some(newest) = self.catalog.sets()?.into_iter().next() else {
            return Ok(true);
        };
        let age = Utc::now().timestamp() - newest.created_at;
        if age >= self.config.burn.interval.duration().as_secs() as i64 {
            return Ok(true);
        }
        let every = self.config.burn.every_nth_snapshot;
        if every > 0 {
            let newer = self
                .store
                .list()?
                .iter()
                .filter(|s| s.taken_at.timestamp() > newest.snapshot_time)
                .count();
            return Ok(newer >= every as usize);
        }
        Ok(false)
    }

    /// The medium to plan for and the blocks each disc takes: the blank disc in the drive
    /// when the settings allow it, else the first medium they name (DVD+R for "auto").
    fn choose_medium(&mut self) -> (&'static NominalMedium, u64) {
        let in_drive = self
            .open_drive()
            .and_then(|drive| drive.media().ok())
            .filter(|info| info.status == DiscStatus::Blank)
            .and_then(|info| {
                let nominal = NominalMedium::for_profile(info.profile)?;
                // A smaller disc than the table's (a software drive's `capacity=`): whole
                // 32-block units of what it holds.
                let blocks = u64::from(info.free_blocks) / 32 * 32;
                Some((nominal, blocks.min(u64::from(nominal.image_blocks))))
            });
        let fallback: &'static NominalMedium =
            "dvd+r".parse().expect("dvd+r is in hal's table of media");
        match &self.config.burn.media {
            MediaChoice::Auto => in_drive.unwrap_or((fallback, u64::from(fallback.image_blocks))),
            MediaChoice::Prefer(list) => match in_drive {
                Some((nominal, blocks)) if list.iter().any(|m| m.token == nominal.token) => {
                    (nominal, blocks)
                }
                _ => {
                    let first = list.first().copied().unwrap_or(fallback);
                    (first, u64::from(first.image_blocks))
                }
            },
        }
    }

    /// The set in memory for `set`, planned again from its snapshot after a restart.
    fn prepared_set(&mut self, set: i64) -> Result<Option<PreparedSet>, DaemonError> {
        if let Some(prepared) = self.prepared.as_ref().filter(|p| p.id.0 == set) {
            return Ok(Some(prepared.clone()));
        }
        self.show(State::Planning);
        let Some(plan) = self.catalog.set_plan(SetId(set))? else {
            self.fail(Problem {
                kind: ProblemKind::Internal,
                what: format!("disc set {set} is not in the catalogue"),
                action: "press the button to sync and start a new set".to_string(),
            })?;
            return Ok(None);
        };
        let snapshot = self
            .store
            .list()?
            .into_iter()
            .find(|s| s.name() == plan.snapshot_name);
        let medium: Option<&'static NominalMedium> = plan.medium.parse().ok();
        let (Some(snapshot), Some(medium)) = (snapshot, medium) else {
            self.fail(Problem {
                kind: ProblemKind::Internal,
                what: format!(
                    "the snapshot {} of the unfinished disc set {set} is gone",
                    plan.snapshot_name
                ),
                action: "press the button to sync and start a new set".to_string(),
            })?;
            return Ok(None);
        };
        match self.prepare(&snapshot, medium, plan.capacity_blocks, Some(SetId(set))) {
            Ok(prepared) if prepared.set.plan_id() == plan.plan_id => {
                self.prepared = Some(prepared.clone());
                Ok(Some(prepared))
            }
            Ok(_) => {
                self.fail(Problem {
                    kind: ProblemKind::Source,
                    what: format!(
                        "the snapshot {} changed since its disc set was planned",
                        plan.snapshot_name
                    ),
                    action: "press the button to sync and start a new set".to_string(),
                })?;
                Ok(None)
            }
            Err(_) if self.cancel.is_cancelled() => Ok(None),
            Err(error) => {
                self.fail(Problem {
                    kind: ProblemKind::Source,
                    what: format!("disc set {set} cannot be planned again: {error}"),
                    action: "press the button to sync and start a new set".to_string(),
                })?;
                Ok(None)
            }
        }
    }

    /// Plans `snapshot` onto discs of `medium` holding `capacity` blocks, hashes its files
    /// (reading only those the catalogue does not know) and records the set, or uses the
    /// recorded set `recorded`.
    fn prepare(
        &mut self,
        snapshot: &Snapshot,
        medium: &'static NominalMedium,
        capacity: u64,
        recorded: Option<SetId>,
    ) -> Result<PreparedSet, DaemonError> {
        let other = |e: &dyn std::fmt::Display| DaemonError::Other(e.to_string());
        let tree = snapshot.tree();
        let time = snapshot.taken_at.timestamp();
        let scanned = Arc::new(PlanSnapshot::scan(&tree).map_err(|e| other(&e))?);
        let set = Arc::new(
            DiscSet::plan(
                Arc::clone(&scanned),
                PlanOptions {
                    capacity_blocks: capacity,
                    medium: medium.token.to_string(),
                    label_prefix: LABEL_PREFIX.to_string(),
                    snapshot_name: snapshot.name().to_string(),
                    snapshot_time: time,
                },
            )
            .map_err(|e| other(&e))?,
        );
        let snapshot_id = self.catalog.add_snapshot(
            snapshot.name(),
            &tree,
            time,
            scanned.files(),
            scanned.bytes(),
        )?;
        let (bus, heartbeat) = (&self.bus, &self.heartbeat);
        let mut to_read = 0;
        let mut read = 0;
        let mut last = Instant::now();
        let hashes = hash_with_catalog(
            &set,
            &mut self.catalog,
            snapshot_id,
            &mut |event| {
                heartbeat.beat();
                match event {
                    HashingEvent::Started { to_read: n, .. } => to_read = n,
                    HashingEvent::Hashed { .. } => read += 1,
                }
                if last.elapsed() >= Duration::from_millis(500) {
                    last = Instant::now();
                    bus.progress(Progress {
                        stage: Stage::Hash,
                        disc: None,
                        done_bytes: 0,
                        total_bytes: None,
                        items_done: Some(read),
                        items_total: Some(to_read),
                        bytes_per_second: None,
                        eta_seconds: None,
                        buffer_fill: None,
                    });
                }
            },
            &self.cancel,
        )
        .map_err(|e| other(&e))?;
        let hashes = Arc::new(hashes);
        let id = match recorded {
            Some(id) => id,
            None => self
                .catalog
                .record_set(snapshot_id, &set, &hashes, Utc::now().timestamp())?,
        };
        // The scan, the packing and the catalogue's writes freed much more than the set
        // keeps: give it back before the burn lays a disc out.
        self.catalog.release_memory()?;
        crate::memory::give_back_freed();
        Ok(PreparedSet { id, set, hashes })
    }

    /// Applies the retention rule, keeping every snapshot an unfinished set needs.
    fn prune(&mut self) -> Result<(), DaemonError> {
        let needed: Vec<String> = self
            .catalog
            .incomplete_sets()?
            .into_iter()
            .map(|s| s.snapshot)
            .collect();
        let keep = self.config.retention.keep_snapshots.0 as usize;
        for deleted in self
            .store
            .prune(keep, |s| needed.iter().any(|n| n == s.name()))?
        {
            self.bus.notice(
                NoticeLevel::Info,
                format!("deleted the old snapshot {}", deleted.name()),
            );
        }
        Ok(())
    }
}

/// This process's peak resident memory so far (`VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Commits `job` to the catalogue.
fn save_job(catalog: &mut Catalog, job: &Job) -> Result<(), DaemonError> {
    let text = serde_json::to_string(job).expect("a job always serialises");
    catalog.save_job(&text, Utc::now().timestamp())?;
    Ok(())
}
