//! The front panel: the display and the buttons, fed from the event stream.
//!
//! [`Presenter`] folds events into a `ui::View`; [`start`] runs a thread that keeps the
//! display up to date (a few frames a second at most) and turns button presses into
//! `ui::Request`s for the daemon. A missing or broken display never stops the box: `ui`'s
//! `Display` logs and retries. [`TerminalPanel`] draws frames in a terminal for the demo.

pub mod presenter;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use burnstation_hal::buttons::ButtonSource;
use burnstation_hal::display::{DisplayError, Frame, Panel, PanelPower};

use crate::events::{EventBus, TryRecv};
use crate::ui::{self, Request};

pub use presenter::Presenter;

/// Frames are drawn no more often than this.
const MIN_FRAME_GAP: Duration = Duration::from_millis(250);
/// And at least this often, so timed things happen (dimming, menu timeouts, paged text).
const MAX_FRAME_GAP: Duration = Duration::from_secs(1);

/// The running panel thread.
#[derive(Debug)]
pub struct PanelHandle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PanelHandle {
    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the front panel thread panicked");
        }
    }
}

/// Starts the panel thread: it reads `bus`, draws on `ui`, and sends what the presses ask
/// for to `requests`. It ends when stopped, or when the bus has no publishers left.
pub fn start(
    bus: &EventBus,
    mut ui: ui::Ui,
    mut buttons: Box<dyn ButtonSource + Send>,
    requests: Sender<Request>,
    mut presenter: Presenter,
) -> PanelHandle {
    let stop = Arc::new(AtomicBool::new(false));
    let mut events = bus.subscribe();
    let stopping = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("front-panel".into())
        .spawn(move || {
            let mut drawn_at: Option<Instant> = None;
            let mut dirty = true;
            let mut buttons_ok = true;
            while !stopping.load(Ordering::Relaxed) {
                loop {
                    match events.try_recv() {
                        TryRecv::Event(event) => {
                            dirty |= presenter.apply(&event, chrono::Utc::now());
                        }
                        TryRecv::Empty => break,
                        TryRecv::Closed => return,
                    }
                }
                let now = Instant::now();
                let since = drawn_at.map(|at| now.saturating_duration_since(at));
                if since.is_none_or(|s| (dirty && s >= MIN_FRAME_GAP) || s >= MAX_FRAME_GAP) {
                    ui.refresh(presenter.view(), now);
                    drawn_at = Some(now);
                    dirty = false;
                }
                let wait = Duration::from_millis(100);
                if !buttons_ok {
                    std::thread::sleep(wait);
                    continue;
                }
                match buttons.next_event(wait) {
                    Ok(Some(press)) => {
                        if let Some(request) = ui.press(press, presenter.view(), Instant::now()) {
                            tracing::info!(?request, "button request");
                            if requests.send(request).is_err() {
                                tracing::warn!("nobody takes button requests any more");
                            }
                        }
                        dirty = true;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!("buttons unusable, the box goes on without them: {e}");
                        buttons_ok = false;
                    }
                }
            }
        });
    let thread = match thread {
        Ok(thread) => Some(thread),
        Err(e) => {
            tracing::error!("cannot start the front panel thread, going on without it: {e}");
            None
        }
    };
    PanelHandle { stop, thread }
}

/// A panel drawn in a terminal with half blocks, redrawn in place.
pub struct TerminalPanel {
    out: Box<dyn Write + Send>,
    colour: bool,
}

impl std::fmt::Debug for TerminalPanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalPanel")
            .field("colour", &self.colour)
            .finish_non_exhaustive()
    }
}

impl TerminalPanel {
    /// Draws on `out` (a terminal: it moves the cursor home before each frame).
    pub fn new(out: Box<dyn Write + Send>, colour: bool) -> Self {
        Self { out, colour }
    }
}

impl Panel for TerminalPanel {
    fn show(&mut self, frame: &Frame) -> Result<(), DisplayError> {
        let text = ui::terminal::half_blocks(frame, self.colour);
        let io = |e: std::io::Error| DisplayError::NoAnswer {
            what: "the terminal".into(),
            detail: e.to_string(),
        };
        write!(self.out, "\x1b[H{text}").map_err(io)?;
        self.out.flush().map_err(io)
    }

    fn set_power(&mut self, _power: PanelPower) -> Result<(), DisplayError> {
        Ok(())
    }
}
