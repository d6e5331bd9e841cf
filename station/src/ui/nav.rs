//! The buttons' state machine: which page is up, and what a press on it does.
//!
//! One rule for every board: the select button does the obvious next step on a status
//! screen and picks the highlighted item in a list. Boards without a next button (a single
//! button) move through lists with short presses and pick with a long one; a long press of
//! select on a status screen opens the menu on every board. The menu button opens the menu
//! and, inside it, goes back. `docs/volunteer-guide.md` ("The screens") describes the same
//! rules; the tests in `tests/ui_buttons.rs` play its sequences.

use std::time::{Duration, Instant};

use burnstation_hal::buttons::{Button, ButtonEvent, PressKind};

use super::request::Request;
use super::view::{Problem, Status, View};

/// The menu's items, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MenuItem {
    /// Burn a disc set now.
    BurnNow,
    /// Sync from the server now.
    SyncNow,
    /// Open the tray.
    Eject,
    /// Check the disc in the drive.
    VerifyDisc,
    /// Erase a rewritable disc (asks first).
    EraseDisc,
    /// The box's IP address, version and free space.
    DeviceInfo,
    /// The box's ssh key, for the administrator.
    BoxKey,
    /// Leave the menu.
    Back,
}

impl MenuItem {
    /// Every item, top to bottom.
    pub const ALL: [MenuItem; 8] = [
        MenuItem::BurnNow,
        MenuItem::SyncNow,
        MenuItem::Eject,
        MenuItem::VerifyDisc,
        MenuItem::EraseDisc,
        MenuItem::DeviceInfo,
        MenuItem::BoxKey,
        MenuItem::Back,
    ];

    /// The item's words in the menu.
    pub fn label(self) -> &'static str {
        match self {
            MenuItem::BurnNow => "Burn now",
            MenuItem::SyncNow => "Sync now",
            MenuItem::Eject => "Eject",
            MenuItem::VerifyDisc => "Verify a disc",
            MenuItem::EraseDisc => "Erase disc",
            MenuItem::DeviceInfo => "Device info",
            MenuItem::BoxKey => "Box key",
            MenuItem::Back => "Back",
        }
    }

    fn index(self) -> usize {
        MenuItem::ALL.iter().position(|&i| i == self).unwrap_or(0)
    }

    fn step(self, by: isize) -> MenuItem {
        let n = MenuItem::ALL.len() as isize;
        MenuItem::ALL[(self.index() as isize + by).rem_euclid(n) as usize]
    }
}

/// The page on the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The status screen for the view's [`Status`].
    Status,
    /// The menu, with `selected` highlighted.
    Menu {
        /// The highlighted item.
        selected: MenuItem,
    },
    /// "Erase the disc?", with "Keep" or "Erase" highlighted ("Keep" first, so a stray
    /// press never erases).
    ConfirmErase {
        /// Whether "Erase" is highlighted.
        erase: bool,
    },
    /// IP address, version, free space.
    DeviceInfo,
    /// The box's ssh key as a QR code and fingerprint.
    BoxKey,
}

/// Which buttons the board has, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ButtonSet {
    /// A next (down) button exists: short select presses pick in lists.
    pub has_next: bool,
    /// A menu button exists.
    pub has_menu: bool,
}

impl ButtonSet {
    /// The set made of these buttons.
    pub fn of(buttons: impl IntoIterator<Item = Button>) -> Self {
        let mut set = ButtonSet {
            has_next: false,
            has_menu: false,
        };
        for b in buttons {
            set.has_next |= b == Button::Next;
            set.has_menu |= b == Button::Menu;
        }
        set
    }

    /// A single select button.
    pub const SINGLE: ButtonSet = ButtonSet {
        has_next: false,
        has_menu: false,
    };
}

/// How long a menu page stays up without a press before the status screen comes back.
pub const MENU_TIMEOUT: Duration = Duration::from_secs(60);
/// The key page stays longer: the administrator is reading a fingerprint out.
pub const KEY_PAGE_TIMEOUT: Duration = Duration::from_secs(300);

/// The menu state machine.
#[derive(Debug, Clone)]
pub struct Navigator {
    page: Page,
    buttons: ButtonSet,
    last_press: Option<Instant>,
}

impl Navigator {
    /// Starts on the status screen.
    pub fn new(buttons: ButtonSet) -> Self {
        Self {
            page: Page::Status,
            buttons,
            last_press: None,
        }
    }

    /// The page to draw.
    pub fn page(&self) -> Page {
        self.page
    }

    /// The board's buttons.
    pub fn buttons(&self) -> ButtonSet {
        self.buttons
    }

    /// Goes back to the status screen when a page has been left alone too long.
    pub fn tick(&mut self, now: Instant) {
        let timeout = match self.page {
            Page::Status => return,
            Page::BoxKey => KEY_PAGE_TIMEOUT,
            _ => MENU_TIMEOUT,
        };
        if self
            .last_press
            .is_some_and(|at| now.saturating_duration_since(at) >= timeout)
        {
            self.page = Page::Status;
        }
    }

    /// Takes a press; returns what it asks the daemon to do, if anything.
    pub fn press(&mut self, event: ButtonEvent, view: &View, now: Instant) -> Option<Request> {
        self.tick(now);
        self.last_press = Some(now);
        let (page, request) = self.transition(event, &view.status);
        self.page = page;
        request
    }

    /// What a press on a list does: move down, move up, pick, or leave.
    fn list_action(&self, event: ButtonEvent) -> ListAction {
        use PressKind::{Long, Short};
        match (event.button, event.kind) {
            (Button::Next, _) => ListAction::Down,
            (Button::Previous, _) => ListAction::Up,
            (Button::Menu, _) => ListAction::Leave,
            (Button::Select, Long) => ListAction::Pick,
            (Button::Select, Short) if self.buttons.has_next => ListAction::Pick,
            (Button::Select, Short) => ListAction::Down,
        }
    }

    fn transition(&self, event: ButtonEvent, status: &Status) -> (Page, Option<Request>) {
        let menu_at = |selected| Page::Menu { selected };
        match self.page {
            Page::Status => match (event.button, event.kind) {
                (Button::Select, PressKind::Short) => match status.next_step() {
                    // Erasing is never one press away: the fix for a disc holding data is
                    // the same confirmation page the menu leads to.
                    Some(Request::EraseDisc) => (Page::ConfirmErase { erase: false }, None),
                    step => (Page::Status, step),
                },
                _ => (menu_at(MenuItem::ALL[0]), None),
            },
            Page::Menu { selected } => match self.list_action(event) {
                ListAction::Down => (menu_at(selected.step(1)), None),
                ListAction::Up => (menu_at(selected.step(-1)), None),
                ListAction::Leave => (Page::Status, None),
                ListAction::Pick => pick(selected),
            },
            Page::ConfirmErase { erase } => match self.list_action(event) {
                ListAction::Down | ListAction::Up => (Page::ConfirmErase { erase: !erase }, None),
                ListAction::Leave => (menu_at(MenuItem::EraseDisc), None),
                ListAction::Pick if erase => (Page::Status, Some(Request::EraseDisc)),
                ListAction::Pick => (menu_at(MenuItem::EraseDisc), None),
            },
            Page::DeviceInfo => (menu_at(MenuItem::DeviceInfo), None),
            Page::BoxKey => (menu_at(MenuItem::BoxKey), None),
        }
    }
}

enum ListAction {
    Down,
    Up,
    Pick,
    Leave,
}

/// Picking a menu item: a request, or another page.
fn pick(item: MenuItem) -> (Page, Option<Request>) {
    let request = |r| (Page::Status, Some(r));
    match item {
        MenuItem::BurnNow => request(Request::BurnNow),
        MenuItem::SyncNow => request(Request::SyncNow),
        MenuItem::Eject => request(Request::Eject),
        MenuItem::VerifyDisc => request(Request::VerifyDisc),
        MenuItem::EraseDisc => (Page::ConfirmErase { erase: false }, None),
        MenuItem::DeviceInfo => (Page::DeviceInfo, None),
        MenuItem::BoxKey => (Page::BoxKey, None),
        MenuItem::Back => (Page::Status, None),
    }
}

/// Whether a status wants someone's attention (the screen never goes fully dark on it).
pub fn needs_attention(status: &Status) -> bool {
    match status {
        Status::WaitingForDisc { .. }
        | Status::ReadyToBurn { .. }
        | Status::DiscDone { .. }
        | Status::SetComplete { .. }
        | Status::DiscChecked { .. } => true,
        Status::Problem(p) => !matches!(p, Problem::SyncFailed { .. }),
        Status::Idle(idle) => idle.burn_due,
        Status::Starting
        | Status::Syncing(_)
        | Status::Burning(_)
        | Status::Verifying(_)
        | Status::Erasing { .. } => false,
    }
}
