//! `burnstation run --config PATH`: the station daemon, as the box's service runs it, with
//! its front panel (the display and buttons of the settings, or a terminal standing in for
//! them).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use burnstation::config::{Config, DEFAULT_PATH};
use burnstation::daemon::{self, DaemonOptions, Until};
use burnstation::events::EventBus;
use burnstation::panel::{self, Presenter, TerminalPanel};
use burnstation::ui::config::{ButtonsConfig, DisplayConfig};
use burnstation::ui::view::DeviceInfo;
use burnstation::ui::{self, Request};
use burnstation_hal::buttons::GpioButtons;
use burnstation_hal::buttons::KeyboardButtons;
use burnstation_hal::buttons::{Button, ButtonError, ButtonEvent, ButtonSource};
use burnstation_hal::display::Display;

use super::interrupt::cancel_on_signals;

/// Arguments of `burnstation run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The settings file.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_PATH)]
    pub config: PathBuf,
    /// The drive, instead of the settings' `[drive] device` (also `sim-changer:DIR?...`).
    #[arg(long, value_name = "SPEC")]
    pub drive: Option<String>,
    /// Where `burnstation status` asks this daemon (default: `burnstation.sock` in the data
    /// directory).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Exit 0 when this happens (for tests and the demo): `set-complete`.
    #[arg(long, value_name = "WHEN", value_parser = parse_until)]
    pub until: Option<Until>,
    /// Where to show the front panel: `settings` (the `[display]` of the settings file),
    /// `terminal` (drawn on this terminal, for the demo), or `none`.
    #[arg(long, value_name = "WHERE", default_value = "settings", value_parser = ["settings", "terminal", "none"])]
    pub display: String,
    /// The buttons: `settings` (the `[buttons]` of the settings file), `keyboard` (this
    /// terminal's keys), or `none`.
    #[arg(long, value_name = "WHAT", default_value = "settings", value_parser = ["settings", "keyboard", "none"])]
    pub buttons: String,
}

fn parse_until(text: &str) -> Result<Until, String> {
    match text {
        "set-complete" => Ok(Until::SetComplete),
        other => Err(format!("{other:?}: the only choice is set-complete")),
    }
}

/// Runs the daemon until SIGTERM/SIGINT (or `--until`).
pub fn run(args: RunArgs) -> Result<()> {
    let bus = EventBus::new();
    let (request_tx, requests) = std::sync::mpsc::channel::<Request>();
    let cancel = cancel_on_signals();
    // The daemon reads the settings again and reports a bad file; the panel only needs to
    // know its hardware, and shows the daemon's verdict on a file it cannot read.
    let config = Config::load(&args.config).ok();
    let (display, buttons) = match &config {
        Some(c) => (c.display.clone(), c.buttons.clone()),
        None => (DisplayConfig::default(), ButtonsConfig::default()),
    };
    let name = config
        .as_ref()
        .map_or_else(|| "burnstation".to_string(), |c| c.station.name.0.clone());
    let mut raw_terminal = None;
    let ui = match args.display.as_str() {
        "terminal" => terminal_ui(),
        "none" => ui::Ui::new(Display::new(None), terminal_buttons(), saver_never()),
        _ => ui::Ui::from_config(&display, &buttons, Instant::now()),
    };
    let source: Box<dyn ButtonSource + Send> = match args.buttons.as_str() {
        "keyboard" => {
            raw_terminal = RawTerminal::enter();
            Box::new(KeyboardButtons::spawn(std::io::stdin()))
        }
        "none" => Box::new(NoButtons),
        _ => settings_buttons(&display, &buttons),
    };
    let device = DeviceInfo {
        name,
        ip: None,
        version: env!("CARGO_PKG_VERSION").to_string(),
        free_bytes: None,
        total_bytes: None,
    };
    let panel = panel::start(&bus, ui, source, request_tx, Presenter::new(device, None));
    let result = daemon::run(
        DaemonOptions {
            config: args.config,
            drive: args.drive,
            until: args.until,
            socket: args.socket,
        },
        bus,
        requests,
        cancel,
    );
    panel.stop();
    drop(raw_terminal);
    result?;
    Ok(())
}

/// A 128x64 panel drawn on this terminal, with the four buttons on keys.
fn terminal_ui() -> ui::Ui {
    let colour = std::io::stdout().is_terminal();
    let display: DisplayConfig = toml::from_str("kind = \"adafruit-oled-bonnet\"")
        .expect("a preset's name is a valid display setting");
    let spec = display.panel();
    let opened = Display::with_opener(
        spec,
        Box::new(move |_| {
            print!("\x1b[2J");
            Ok(Box::new(TerminalPanel::new(
                Box::new(std::io::stdout()),
                colour,
            )))
        }),
    );
    ui::Ui::new(opened, terminal_buttons(), saver_never())
}

fn terminal_buttons() -> ui::nav::ButtonSet {
    ui::nav::ButtonSet::of([Button::Select, Button::Next, Button::Previous, Button::Menu])
}

fn saver_never() -> ui::saver::ScreenSaver {
    ui::saver::ScreenSaver::new(None, None, Instant::now())
}

/// The GPIO buttons the settings describe, or none (a box without buttons still burns
/// when `burn.start = "auto"`).
fn settings_buttons(
    display: &DisplayConfig,
    buttons: &ButtonsConfig,
) -> Box<dyn ButtonSource + Send> {
    match buttons.resolve(display) {
        Ok(Some(spec)) => match GpioButtons::open(&spec) {
            Ok(gpio) => Box::new(gpio),
            Err(e) => {
                tracing::warn!("the buttons cannot be used, going on without them: {e}");
                Box::new(NoButtons)
            }
        },
        Ok(None) => Box::new(NoButtons),
        Err(e) => {
            tracing::warn!("the buttons are not set up right, going on without them: {e}");
            Box::new(NoButtons)
        }
    }
}

/// No buttons: every wait just passes.
struct NoButtons;

impl ButtonSource for NoButtons {
    fn next_event(&mut self, timeout: Duration) -> Result<Option<ButtonEvent>, ButtonError> {
        std::thread::sleep(timeout);
        Ok(None)
    }
}

/// This terminal in non-canonical mode without echo (keys arrive as they are pressed), put
/// back as it was when dropped.
struct RawTerminal {
    saved: libc::termios,
}

impl RawTerminal {
    fn enter() -> Option<RawTerminal> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        // SAFETY: `termios` is plain integers, so zeroes are a valid value for tcgetattr
        // to overwrite.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 is this process's stdin, which stays open, and `saved` is a valid,
        // writable termios.
        if unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
            return None;
        }
        let mut raw = saved;
        raw.c_lflag &= !(libc::ICANON | libc::ECHO);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // SAFETY: `raw` is a valid termios read from the same terminal.
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &raw) } != 0 {
            return None;
        }
        Some(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        // SAFETY: puts back the settings read from this same terminal in `enter`.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
}
