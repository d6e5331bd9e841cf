//! `burnstation sync --config PATH`: copy the backup tree from the server into a new
//! snapshot now, as the daemon's schedule would, and say how it went.
//!
//! For a volunteer or administrator checking the settings (does the box reach the server, is
//! the host key right), and for tests. Progress goes to stderr (a bar on a terminal, a line
//! every few seconds otherwise), the result to stdout. Exit 0 when a snapshot was made, 2
//! when not (the message says why and what to do), 130 or 143 when
//! stopped by SIGINT or SIGTERM.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use burnstation::config::{ByteSize, Config, DEFAULT_PATH};
use burnstation::events::{Event, EventBus, NoticeLevel, Progress, Stage};
use burnstation::schedule::{Clock, ClockTrust, SystemClock, judge_clock};
use burnstation::snapshots::SnapshotStore;
use burnstation::sync::{SyncError, SyncSettings, sync};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::interrupt;

/// How often a plain progress line is printed when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// Arguments of `burnstation sync`.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The settings file.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_PATH)]
    pub config: PathBuf,
}

/// Runs one sync, then applies the retention rule.
pub fn run(args: SyncArgs) -> Result<()> {
    let config = Config::load(&args.config)?;
    let settings = SyncSettings::from_config(&config)?;
    let store = SnapshotStore::open(config.data_dir())?;
    let newest = store.newest()?;
    let clock = SystemClock;
    let now = clock.now();
    if judge_clock(now, &clock.evidence(), newest.as_ref().map(|s| s.taken_at))
        == ClockTrust::NotYet
    {
        bail!(
            "the clock ({}) has not been set from the network yet, so the snapshot would get a \
             wrong date; wait until the box has been online for a minute and try again",
            now.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow!("could not start the async runtime ({e}); try again"))?;
    let keep = config.retention.keep_snapshots.0 as usize;
    runtime.block_on(async {
        let events = EventBus::new();
        let cancel = CancellationToken::new();
        let printer = tokio::spawn(show(events.subscribe()));
        let interrupted = tokio::spawn(cancel_on_signal(cancel.clone()));
        let result = sync(&settings, &store, &clock, &events, &cancel).await;
        drop(events);
        let _ = printer.await;
        interrupted.abort();
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(SyncError::Cancelled) => bail!(
                "the sync was stopped; the last good snapshot is as it was, and the next sync \
                 resumes where this one stopped"
            ),
            Err(error) => return Err(error.into()),
        };
        let linked = outcome
            .linked_to
            .as_ref()
            .map(|previous| format!(", unchanged files linked to {}", previous.name()))
            .unwrap_or_default();
        let stats = &outcome.stats;
        println!(
            "snapshot {}: {} entries, {}; {} files ({}) copied in {} s{linked}",
            outcome.snapshot.name(),
            stats.files,
            ByteSize(stats.tree_bytes),
            stats.files_transferred,
            ByteSize(stats.transferred_bytes),
            outcome.took.as_secs()
        );
        println!("{}", outcome.snapshot.tree().display());
        // No disc sets exist yet outside the daemon, so none protects a snapshot here.
        let deleted = store.prune(keep, |_| false)?;
        for snapshot in deleted {
            println!(
                "deleted old snapshot {} (retention.keep_snapshots = {keep})",
                snapshot.name()
            );
        }
        Ok(())
    })
}

/// Raises `cancel` on SIGINT or SIGTERM.
async fn cancel_on_signal(cancel: CancellationToken) {
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::info!("signals cannot stop the sync cleanly; Ctrl-C will kill it");
        return;
    };
    let signal = tokio::select! {
        _ = interrupt.recv() => signal_hook::consts::SIGINT,
        _ = terminate.recv() => signal_hook::consts::SIGTERM,
    };
    eprintln!("\nstopping the sync...");
    interrupt::record_signal(signal);
    cancel.cancel();
}

/// Prints the sync's progress and notices on stderr until the stream ends.
async fn show(mut events: burnstation::events::Subscription) {
    let terminal = std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>8} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.set_message("syncing");
        bar
    });
    let mut last_plain = Instant::now() - PLAIN_EVERY;
    while let Some(event) = events.recv().await {
        match event {
            Event::Progress(progress) if progress.stage == Stage::Sync => match &bar {
                Some(bar) => {
                    bar.set_length(progress.total_bytes.unwrap_or(progress.done_bytes));
                    bar.set_position(progress.done_bytes);
                }
                None if last_plain.elapsed() >= PLAIN_EVERY && progress.done_bytes > 0 => {
                    eprintln!("{}", plain_line(&progress));
                    last_plain = Instant::now();
                }
                None => {}
            },
            Event::Notice(notice) => {
                let text = match notice.level {
                    NoticeLevel::Info => notice.text,
                    NoticeLevel::Warning => format!("warning: {}", notice.text),
                };
                match &bar {
                    Some(bar) => bar.println(text),
                    None => eprintln!("{text}"),
                }
            }
            _ => {}
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

fn plain_line(progress: &Progress) -> String {
    let percent = progress
        .fraction()
        .map(|f| format!(" ({:.0}%)", f * 100.0))
        .unwrap_or_default();
    let rate = progress
        .bytes_per_second
        .map(|r| format!(", {}/s", ByteSize(r as u64)))
        .unwrap_or_default();
    let files = match (progress.items_done, progress.items_total) {
        (Some(done), Some(all)) => format!(", {done} of {all} files checked"),
        _ => String::new(),
    };
    format!(
        "copied {}{percent}{rate}{files}",
        ByteSize(progress.done_bytes)
    )
}
