//! The display and the buttons: status at a glance, a burn at a press.
//!
//! The daemon owns a [`Ui`] and tells it two things: what the box is doing, as a [`View`]
//! (call [`Ui::refresh`] whenever the view changes, and about once a second so timed things
//! happen: dimming, the menu timing out, paged text), and each button press
//! ([`Ui::press`]), which may come back as a [`Request`] for the daemon to carry out. The
//! UI never acts on the box itself, and knows nothing of the daemon.
//!
//! - [`view`]: the view model; [`request`]: what presses ask for;
//! - [`nav`]: the menu state machine ([`Navigator`], [`Page`]);
//! - [`screens`]: pages as words; [`draw`]: laid out and drawn for any panel size, in
//!   [`text`]'s fonts and [`theme`]'s colours; [`key`]: the box key's QR code and fingerprint;
//! - [`saver`]: dimming and the screen saver;
//! - [`config`]: the `[display]` and `[buttons]` settings and the boards' presets;
//! - [`terminal`]: frames as text; [`gallery`]: every screen with sample values.
//!
//! `burnstation_hal::display` holds the panels and the framebuffer, and
//! `burnstation_hal::buttons` the button sources.

pub mod config;
pub mod draw;
pub mod format;
pub mod gallery;
pub mod key;
pub mod nav;
pub mod request;
pub mod saver;
pub mod screens;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod view;

use std::mem::Discriminant;
use std::time::{Duration, Instant};

use burnstation_hal::buttons::ButtonEvent;
use burnstation_hal::display::{Display, Frame, PanelPower};
use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
use embedded_graphics::prelude::*;

pub use draw::Drawn;
pub use nav::{ButtonSet, MenuItem, Navigator, Page};
pub use request::Request;
pub use saver::ScreenSaver;
pub use screens::Screen;
pub use view::View;

/// Draws `screen` into `frame`. `dim` darkens a colour palette; `shown_for` is how long
/// the page has been up (for details too long for one page).
pub fn draw_screen(frame: &mut Frame, screen: &Screen, dim: bool, shown_for: Duration) -> Drawn {
    fn on<D>(target: &mut D, screen: &Screen, dim: bool, shown_for: Duration) -> Drawn
    where
        D: DrawTarget,
        D::Color: theme::UiColor,
    {
        match screen {
            Screen::Card(card) => draw::draw_card(target, card, dim, shown_for),
            Screen::List(list) => draw::draw_list(target, list, dim),
            Screen::Key(page) => draw::draw_key(target, page, dim),
        }
    }
    match frame {
        Frame::Mono(fb) => {
            on::<burnstation_hal::display::Framebuffer<BinaryColor>>(fb, screen, dim, shown_for)
        }
        Frame::Colour(fb) => {
            on::<burnstation_hal::display::Framebuffer<Rgb565>>(fb, screen, dim, shown_for)
        }
    }
}

/// Renders one page of a view into a new frame of `size`: what the simulators and the
/// golden pictures use.
pub fn render(
    view: &View,
    page: Page,
    buttons: ButtonSet,
    size: Size,
    colour: bool,
) -> (Frame, Drawn) {
    let mut frame = Frame::blank(size, colour);
    let screen = screens::screen(view, page, buttons);
    let drawn = draw_screen(&mut frame, &screen, false, Duration::ZERO);
    (frame, drawn)
}

/// The display and buttons as the daemon uses them.
#[derive(Debug)]
pub struct Ui {
    display: Display,
    nav: Navigator,
    saver: ScreenSaver,
    frame: Frame,
    /// The page and status kind on screen, and since when (for paged text).
    showing: Option<(Page, Discriminant<view::Status>, Instant)>,
}

impl Ui {
    /// A UI on `display`, for a board with `buttons`, dimming as `saver` says.
    pub fn new(display: Display, buttons: ButtonSet, saver: ScreenSaver) -> Self {
        let (size, colour) = display.frame_size();
        Self {
            display,
            nav: Navigator::new(buttons),
            saver,
            frame: Frame::blank(size, colour),
            showing: None,
        }
    }

    /// A UI built from the `[display]` and `[buttons]` settings (already validated).
    pub fn from_config(
        display: &config::DisplayConfig,
        buttons: &config::ButtonsConfig,
        now: Instant,
    ) -> Self {
        let saver = ScreenSaver::new(display.dim_after(), display.off_after(), now);
        Self::new(
            Display::new(display.panel()),
            buttons.button_set(display),
            saver,
        )
    }

    /// Takes a button press. Returns what it asks for, if anything; a press that only wakes
    /// a dark screen asks for nothing. Call [`Ui::refresh`] after it to show the result.
    pub fn press(&mut self, event: ButtonEvent, view: &View, now: Instant) -> Option<Request> {
        if self.saver.press(&view.status, now) {
            return None;
        }
        self.nav.press(event, view, now)
    }

    /// Draws the current page of `view` and sends it to the panel (if there is one).
    pub fn refresh(&mut self, view: &View, now: Instant) {
        self.nav.tick(now);
        self.saver.observe(&view.status, now);
        let page = self.nav.page();
        let kind = std::mem::discriminant(&view.status);
        let since = match self.showing {
            Some((p, k, since)) if p == page && k == kind => since,
            _ => now,
        };
        self.showing = Some((page, kind, since));
        let power = self.saver.power(&view.status, now);
        let screen = screens::screen(view, page, self.nav.buttons());
        let dim = power != PanelPower::Full;
        draw_screen(
            &mut self.frame,
            &screen,
            dim,
            now.saturating_duration_since(since),
        );
        self.display.show(&self.frame, power, now);
    }

    /// The last frame drawn (what the panel shows, or would).
    pub fn frame(&self) -> &Frame {
        &self.frame
    }

    /// The page on screen.
    pub fn page(&self) -> Page {
        self.nav.page()
    }

    /// Whether the panel is working.
    pub fn display_state(&self) -> &burnstation_hal::display::DisplayState {
        self.display.state()
    }
}
