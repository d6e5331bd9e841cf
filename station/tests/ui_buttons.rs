//! Button sequences from the volunteer guide ("The screens" in docs/volunteer-guide.md),
//! played through a scripted button source into the UI, with a panel in memory: each gives
//! the requests the guide promises, and nothing else.

use std::time::{Duration, Instant};

use burnstation::ui::gallery;
use burnstation::ui::view::{DiscNo, Problem, Status, View};
use burnstation::ui::{ButtonSet, MenuItem, Page, Request, ScreenSaver, Ui};
use burnstation_hal::buttons::{Button, ButtonSource, ScriptedButtons};
use burnstation_hal::display::{Display, DisplayState, FakePanel, I2cSpec, OledSize, PanelSpec};

fn view(name: &str) -> View {
    gallery::typical()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no sample {name}"))
        .view
}

fn oled() -> PanelSpec {
    PanelSpec::Ssd1306 {
        i2c: I2cSpec {
            bus: "/dev/i2c-1".into(),
            address: 0x3c,
        },
        size: OledSize::W128H64,
        rotated: false,
    }
}

fn ui(buttons: ButtonSet, panel: &FakePanel, now: Instant) -> Ui {
    let panel = panel.clone();
    let display = Display::with_opener(Some(oled()), Box::new(move |_| panel.open()));
    Ui::new(display, buttons, ScreenSaver::new(None, None, now))
}

/// Plays `script` on `view`, a second between presses; returns the requests and the page
/// the UI ends on.
fn play(buttons: ButtonSet, view: &View, script: &str) -> (Vec<Request>, Page) {
    let t0 = Instant::now();
    let panel = FakePanel::new();
    let mut ui = ui(buttons, &panel, t0);
    let mut source = ScriptedButtons::from_script(script).unwrap();
    let mut requests = Vec::new();
    let mut now = t0;
    ui.refresh(view, now);
    while let Some(event) = source.next_event(Duration::ZERO).unwrap() {
        now += Duration::from_secs(1);
        requests.extend(ui.press(event, view, now));
        ui.refresh(view, now);
    }
    assert!(
        !panel.state().frames.is_empty(),
        "the panel was shown frames"
    );
    (requests, ui.page())
}

const SINGLE: ButtonSet = ButtonSet::SINGLE;

fn joystick() -> ButtonSet {
    ButtonSet::of([Button::Select, Button::Next, Button::Previous, Button::Menu])
}

fn two_buttons() -> ButtonSet {
    ButtonSet::of([Button::Select, Button::Next])
}

#[test]
fn one_press_does_the_obvious_next_step() {
    for buttons in [SINGLE, joystick(), two_buttons()] {
        let cases = [
            ("idle-burn-due", vec![Request::BurnNow]),
            ("ready-to-burn", vec![Request::BurnNow]),
            ("waiting-for-disc", vec![Request::Eject]),
            ("disc-done", vec![Request::Dismiss]),
            ("set-complete", vec![Request::Dismiss]),
            ("problem-disc-not-blank", vec![Request::Eject]),
            ("problem-sync-failed", vec![Request::SyncNow]),
            ("burning", vec![]),
            ("idle", vec![]),
            ("problem-no-drive", vec![]),
        ];
        for (name, want) in cases {
            let (got, page) = play(buttons, &view(name), "press select");
            assert_eq!(got, want, "{name} with {buttons:?}");
            assert_eq!(page, Page::Status);
        }
    }
}

#[test]
fn single_button_hold_opens_the_menu_presses_move_and_a_hold_picks() {
    let idle = view("idle");
    // The guide: hold for the menu; press to move down; hold to choose.
    let (got, page) = play(SINGLE, &idle, "hold select, press select, hold select");
    assert_eq!(got, [Request::SyncNow]);
    assert_eq!(page, Page::Status);
    let (got, _) = play(
        SINGLE,
        &idle,
        "hold select, press select, press select, hold select",
    );
    assert_eq!(got, [Request::Eject]);
    let (got, _) = play(SINGLE, &idle, "hold select, hold select");
    assert_eq!(got, [Request::BurnNow]);
    // Eight items: seven presses reach "Back", which leaves the menu asking nothing.
    let back = format!("hold select,{} hold select", " press select,".repeat(7));
    let (got, page) = play(SINGLE, &idle, &back);
    assert!(got.is_empty());
    assert_eq!(page, Page::Status);
}

#[test]
fn erasing_always_asks_first_and_keep_is_the_default() {
    let idle = view("idle");
    let to_erase = "hold select, press select, press select, press select, press select";
    // Choosing "Erase disc" opens the question; holding again picks "Keep it".
    let (got, page) = play(SINGLE, &idle, &format!("{to_erase}, hold select"));
    assert!(got.is_empty());
    assert_eq!(page, Page::ConfirmErase { erase: false });
    let (got, page) = play(
        SINGLE,
        &idle,
        &format!("{to_erase}, hold select, hold select"),
    );
    assert!(got.is_empty(), "Keep it erases nothing");
    assert_eq!(
        page,
        Page::Menu {
            selected: MenuItem::EraseDisc
        }
    );
    let (got, _) = play(
        SINGLE,
        &idle,
        &format!("{to_erase}, hold select, press select, hold select"),
    );
    assert_eq!(got, [Request::EraseDisc]);

    // A rewritable disc holding data: the press opens the same question.
    let holds_data = view("problem-disc-holds-data");
    let (got, page) = play(joystick(), &holds_data, "press select");
    assert!(got.is_empty());
    assert_eq!(page, Page::ConfirmErase { erase: false });
    let (got, _) = play(
        joystick(),
        &holds_data,
        "press select, press next, press select",
    );
    assert_eq!(got, [Request::EraseDisc]);
    let (got, page) = play(joystick(), &holds_data, "press select, press select");
    assert!(got.is_empty());
    assert_eq!(
        page,
        Page::Menu {
            selected: MenuItem::EraseDisc
        }
    );
}

#[test]
fn joystick_boards_move_with_next_and_previous_and_pick_with_a_press() {
    let idle = view("idle");
    let (got, _) = play(
        joystick(),
        &idle,
        "press menu, press next, press next, press next, press select",
    );
    assert_eq!(got, [Request::VerifyDisc]);
    // Up from the top wraps to "Back".
    let (got, page) = play(
        joystick(),
        &idle,
        "press menu, press previous, press select",
    );
    assert!(got.is_empty());
    assert_eq!(page, Page::Status);
    // The menu button leaves the menu.
    let (got, page) = play(joystick(), &idle, "press menu, press next, press menu");
    assert!(got.is_empty());
    assert_eq!(page, Page::Status);
    // Two buttons: the lower one opens the menu and moves down.
    let (got, _) = play(two_buttons(), &idle, "press next, press next, press select");
    assert_eq!(got, [Request::SyncNow]);
}

#[test]
fn info_pages_open_from_the_menu_and_any_press_goes_back() {
    let idle = view("idle");
    let five_down = "press next, press next, press next, press next, press next";
    let (_, page) = play(
        joystick(),
        &idle,
        &format!("press menu, {five_down}, press select"),
    );
    assert_eq!(page, Page::DeviceInfo);
    let (_, page) = play(
        joystick(),
        &idle,
        &format!("press menu, {five_down}, press next, press select"),
    );
    assert_eq!(page, Page::BoxKey);
    let (got, page) = play(
        joystick(),
        &idle,
        &format!("press menu, {five_down}, press select, press select"),
    );
    assert!(got.is_empty());
    assert_eq!(
        page,
        Page::Menu {
            selected: MenuItem::DeviceInfo
        }
    );
}

#[test]
fn a_menu_left_alone_returns_to_the_status_screen() {
    let t0 = Instant::now();
    let panel = FakePanel::new();
    let mut ui = ui(SINGLE, &panel, t0);
    let idle = view("idle");
    ui.press(
        burnstation_hal::buttons::ButtonEvent::long(Button::Select),
        &idle,
        t0,
    );
    ui.refresh(&idle, t0 + Duration::from_secs(59));
    assert!(matches!(ui.page(), Page::Menu { .. }));
    ui.refresh(&idle, t0 + Duration::from_secs(60));
    assert_eq!(ui.page(), Page::Status);
}

#[test]
fn a_press_on_a_dark_screen_only_wakes_it() {
    let t0 = Instant::now();
    let panel = FakePanel::new();
    let display = {
        let panel = panel.clone();
        Display::with_opener(Some(oled()), Box::new(move |_| panel.open()))
    };
    let saver = ScreenSaver::new(
        Some(Duration::from_secs(60)),
        Some(Duration::from_secs(600)),
        t0,
    );
    let mut ui = Ui::new(display, SINGLE, saver);
    // A plain idle screen goes dark (one that waits for someone would only dim).
    let idle = view("idle");
    ui.refresh(&idle, t0);
    let late = t0 + Duration::from_secs(3600);
    ui.refresh(&idle, late);
    assert_eq!(
        panel.state().power,
        Some(burnstation_hal::display::PanelPower::Off)
    );
    assert_eq!(
        ui.press(
            burnstation_hal::buttons::ButtonEvent::long(Button::Select),
            &idle,
            late
        ),
        None
    );
    ui.refresh(&idle, late);
    assert_eq!(ui.page(), Page::Status, "the waking press opened nothing");
    assert_eq!(
        panel.state().power,
        Some(burnstation_hal::display::PanelPower::Full)
    );
}

#[test]
fn a_missing_display_is_retried_and_the_buttons_keep_working() {
    let t0 = Instant::now();
    let panel = FakePanel::new();
    panel.state().failing = true;
    let mut ui = ui(SINGLE, &panel, t0);
    let waiting = View {
        status: Status::WaitingForDisc {
            disc: DiscNo { n: 1, of: 2 },
            medium: None,
        },
        ..view("idle")
    };
    ui.refresh(&waiting, t0);
    assert!(matches!(ui.display_state(), DisplayState::Missing { .. }));
    // Buttons work without a display.
    let press = burnstation_hal::buttons::ButtonEvent::short(Button::Select);
    assert_eq!(ui.press(press, &waiting, t0), Some(Request::Eject));
    // The panel is connected; it is not tried again before the retry time...
    panel.state().failing = false;
    ui.refresh(&waiting, t0 + Duration::from_secs(10));
    assert_eq!(panel.state().opened, 0);
    // ... and then it is, and shows the current screen.
    ui.refresh(&waiting, t0 + Duration::from_secs(31));
    assert_eq!(panel.state().opened, 1);
    assert_eq!(*ui.display_state(), DisplayState::Working);
    assert_eq!(panel.state().frames.last(), Some(ui.frame()));
    // A panel that stops answering mid-way is dropped and the box goes on.
    panel.state().failing = true;
    let problem = View {
        status: Status::Problem(Problem::NoDrive),
        ..view("idle")
    };
    ui.refresh(&problem, t0 + Duration::from_secs(40));
    assert!(matches!(ui.display_state(), DisplayState::Missing { .. }));
}

#[test]
fn an_unchanged_screen_is_not_sent_again() {
    let t0 = Instant::now();
    let panel = FakePanel::new();
    let mut ui = ui(SINGLE, &panel, t0);
    let idle = view("idle");
    ui.refresh(&idle, t0);
    ui.refresh(&idle, t0 + Duration::from_secs(1));
    assert_eq!(panel.state().frames.len(), 1);
    ui.refresh(&view("burning"), t0 + Duration::from_secs(2));
    assert_eq!(panel.state().frames.len(), 2);
}
