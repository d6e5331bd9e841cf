//! Every page the display shows, as words: the view model and the menu state turned into
//! [`Card`]s, [`List`]s and the key page, which `draw` lays out for the panel at hand.
//!
//! Words are few and plain: a volunteer glances at the box from across a room. The headline
//! is the one thing that matters on each screen (the percentage while burning, the label to
//! write on a finished disc, the problem); the hint line says what a press does, and agrees
//! with [`Status::next_step`] by construction.

use super::draw::{Card, KeyPage, List};
use super::format;
use super::key;
use super::nav::{ButtonSet, MenuItem, Page};
use super::request::Request;
use super::theme::Tone;
use super::view::{BurnStage, DiscNo, NextSync, Problem, Status, View};

/// What one page is, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// A status or information card.
    Card(Card),
    /// A list to choose from.
    List(List),
    /// The key page.
    Key(KeyPage),
}

/// The page `page` of `view`, with hints for `buttons`.
pub fn screen(view: &View, page: Page, buttons: ButtonSet) -> Screen {
    match page {
        Page::Status => Screen::Card(status_card(&view.status, buttons)),
        Page::Menu { selected } => Screen::List(List {
            title: "Menu".into(),
            prompt: None,
            items: MenuItem::ALL.iter().map(|i| i.label().to_owned()).collect(),
            selected: MenuItem::ALL
                .iter()
                .position(|&i| i == selected)
                .unwrap_or(0),
            hint: list_hint(buttons),
            tone: Tone::Normal,
        }),
        Page::ConfirmErase { erase } => Screen::List(List {
            title: "Erase disc?".into(),
            prompt: Some("Everything on the disc in the drive will be lost.".into()),
            items: vec!["Keep it".into(), "Erase it".into()],
            selected: usize::from(erase),
            hint: list_hint(buttons),
            tone: Tone::Attention,
        }),
        Page::DeviceInfo => Screen::Card(device_card(view)),
        Page::BoxKey => Screen::Key(key_page(view)),
    }
}

fn list_hint(buttons: ButtonSet) -> Option<String> {
    (!buttons.has_next).then(|| "Press: next  Hold: choose".to_owned())
}

fn back_hint() -> Option<String> {
    Some("Press: back".into())
}

/// The hint under a status screen: what a press does, and how to reach the menu.
fn status_hint(step: Option<Request>, buttons: ButtonSet) -> Option<String> {
    let press = step.map(|r| format!("Press: {}", r.verb()));
    match (press, buttons.has_menu) {
        (Some(press), true) => Some(press),
        (Some(press), false) => Some(format!("{press}  Hold: menu")),
        (None, true) => None,
        (None, false) => Some("Hold: menu".into()),
    }
}

fn disc_of(d: DiscNo) -> String {
    format!("disc {} of {}", d.n, d.of)
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn card(tone: Tone, title: impl Into<String>, headline: impl Into<String>) -> Card {
    Card {
        tone,
        title: title.into(),
        lead: None,
        headline: headline.into(),
        bar: None,
        details: Vec::new(),
        hint: None,
    }
}

/// The card of a status screen.
pub fn status_card(status: &Status, buttons: ButtonSet) -> Card {
    let mut c = match status {
        Status::Starting => card(Tone::Normal, "Burn station", "Starting"),
        Status::Idle(idle) => {
            let headline = match (&idle.set, idle.burn_due, idle.last_sync_ago) {
                (_, true, _) => "New disc set due".to_owned(),
                (_, _, None) => "No backup yet".to_owned(),
                (Some(set), _, _) if set.verified < set.total => {
                    format!("{} of {} discs done", set.verified, set.total)
                }
                _ => "All discs done".to_owned(),
            };
            let tone = if idle.burn_due {
                Tone::Attention
            } else {
                Tone::Good
            };
            let mut c = card(tone, "Ready", headline);
            c.details.push(match idle.last_sync_ago {
                Some(ago) => format!("Last sync {} ago", format::span(ago)),
                None => "Never synced".into(),
            });
            c.details.push(match idle.next_sync {
                NextSync::In(d) => format!("Next sync in {}", format::span(d)),
                NextSync::WaitingForClock => "Next sync: waiting for the clock".into(),
                NextSync::NotConfigured => "No sync: server key not set".into(),
            });
            // The headline already counts the discs; an unfinished set says which set.
            if let Some(set) = idle.set.as_ref().filter(|s| s.verified < s.total) {
                c.details
                    .push(format!("{}: {} burnt", set.label, set.burnt));
            }
            c
        }
        Status::Syncing(sync) => {
            let mut c = match sync.progress {
                Some(p) => {
                    let mut c = card(Tone::Normal, "Syncing", format!("{}%", p.percent()));
                    c.bar = Some(p.fraction());
                    c
                }
                None => card(Tone::Normal, "Syncing", format::bytes(sync.received)),
            };
            let mut line = format::bytes(sync.received);
            if let Some(rate) = sync.rate {
                line = format!("{line} at {}", format::rate(rate));
            }
            if sync.progress.is_some() || sync.rate.is_some() {
                c.details.push(line);
            }
            if let Some(eta) = sync.eta {
                c.details.push(format::left(eta));
            }
            c
        }
        Status::WaitingForDisc { disc, medium } => {
            let what = medium.as_deref().unwrap_or("disc");
            let mut c = card(
                Tone::Attention,
                capitalised(&disc_of(*disc)),
                format!("Insert blank {what}"),
            );
            c.details.push(capitalised(&disc_of(*disc)));
            c
        }
        Status::ReadyToBurn {
            disc,
            medium,
            bytes,
        } => {
            let mut c = card(
                Tone::Attention,
                capitalised(&disc_of(*disc)),
                "Press to burn",
            );
            c.details
                .push(format!("{medium}, {} to write", format::bytes(*bytes)));
            c
        }
        Status::Burning(burn) => {
            let title = format!("Burning {}", disc_of(burn.disc));
            match burn.stage {
                BurnStage::Preparing => {
                    let mut c = card(Tone::Normal, title, "Preparing");
                    c.details.push("The drive is getting the disc ready".into());
                    c
                }
                BurnStage::Closing => {
                    let mut c = card(Tone::Normal, title, "Closing disc");
                    c.details.push("This can take a few minutes".into());
                    c
                }
                BurnStage::Writing => {
                    let mut c = card(Tone::Normal, title, format!("{}%", burn.progress.percent()));
                    c.bar = Some(burn.progress.fraction());
                    let mut line = Vec::new();
                    if let Some(x) = burn.speed_x {
                        line.push(format::speed(x));
                    }
                    if let Some(eta) = burn.eta {
                        line.push(format::left(eta));
                    }
                    if !line.is_empty() {
                        c.details.push(line.join(", "));
                    }
                    if let Some(buffer) = burn.buffer_percent {
                        c.details.push(format!("Buffer {buffer}%"));
                    }
                    c
                }
            }
        }
        Status::Verifying(v) => {
            let title = match v.disc {
                Some(d) => format!("Checking {}", disc_of(d)),
                None => "Checking disc".into(),
            };
            let mut c = card(Tone::Normal, title, format!("{}%", v.progress.percent()));
            c.bar = Some(v.progress.fraction());
            c.details.push(match v.eta {
                Some(eta) => format!("Reading back, {}", format::left(eta)),
                None => "Reading back every byte".into(),
            });
            c
        }
        Status::DiscDone {
            disc,
            label,
            ejected,
        } => {
            let mut c = card(
                Tone::Good,
                format!("{} done", capitalised(&disc_of(*disc))),
                label.clone(),
            );
            c.lead = Some("Label it:".into());
            c.details.push(if *ejected {
                "Write this on the disc".into()
            } else {
                "Eject it, write this on it".into()
            });
            c
        }
        Status::SetComplete { label, discs } => {
            let mut c = card(
                Tone::Good,
                "Set complete",
                if *discs == 1 {
                    "The disc is verified".to_owned()
                } else {
                    format!("All {discs} discs verified")
                },
            );
            c.details.push(label.clone());
            c
        }
        Status::Erasing { progress } => {
            let mut c = card(Tone::Normal, "Erasing", "Erasing disc");
            if let Some(p) = progress {
                c.headline = format!("{}%", p.percent());
                c.bar = Some(p.fraction());
                c.details.push("Erasing the disc".into());
            }
            c
        }
        Status::DiscChecked {
            label,
            ok,
            bad_files,
        } => {
            let mut c = if *ok {
                card(Tone::Good, "Disc check", "Disc is good")
            } else {
                let mut c = card(Tone::Problem, "Disc check", "Disc has errors");
                c.details
                    .push(format!("{bad_files} files differ or cannot be read"));
                c
            };
            if let Some(label) = label {
                c.details.insert(0, label.clone());
            }
            c
        }
        Status::Problem(problem) => problem_card(problem),
    };
    c.hint = status_hint(status.next_step(), buttons);
    c
}

/// A problem: what is wrong as the headline, what happened and what fixes it below.
fn problem_card(problem: &Problem) -> Card {
    let (headline, detail, fix): (String, Option<String>, String) = match problem {
        Problem::Settings { line, detail } => (
            "Settings error".into(),
            Some(match line {
                Some(line) => format!("Line {line}: {detail}"),
                None => detail.clone(),
            }),
            "Fix burnstation.toml on the SD card".into(),
        ),
        Problem::NoDrive => ("No burner".into(), None, "Plug the USB burner in".into()),
        Problem::SlowLink { detail } => (
            "Burner too slow".into(),
            Some(detail.clone()),
            "Use a USB 2 port and cable".into(),
        ),
        Problem::DriveNotResponding { detail } => (
            "Burner not answering".into(),
            Some(detail.clone()),
            "Unplug the burner and plug it in again".into(),
        ),
        Problem::DiscNotBlank { wanted } => (
            "Disc not blank".into(),
            None,
            format!("Insert a blank {}", wanted.as_deref().unwrap_or("disc")),
        ),
        Problem::DiscHoldsData { medium } => (
            format!("{medium} holds data"),
            None,
            "Erase it, or insert a blank disc".into(),
        ),
        Problem::WrongDisc { found, wanted } => (
            format!("{found} cannot be used"),
            None,
            format!("Insert a blank {wanted}"),
        ),
        Problem::DiscInterrupted => (
            "Unfinished disc".into(),
            Some("A burn on it stopped before the end".into()),
            "Use a new disc".into(),
        ),
        Problem::BurnFailed { disc, detail } => (
            format!("Burn failed ({}/{})", disc.n, disc.of),
            Some(detail.clone()),
            "Throw the disc away and insert a new one".into(),
        ),
        Problem::VerifyFailed { disc, bad_files } => (
            format!("Disc {}/{} is bad", disc.n, disc.of),
            Some(format!("{bad_files} files did not read back right")),
            "Throw it away and insert a new disc".into(),
        ),
        Problem::SyncFailed { detail } => (
            "Sync failed".into(),
            Some(detail.clone()),
            "The box tries again later".into(),
        ),
        Problem::HostKeyChanged => (
            "Server key changed".into(),
            None,
            "Ask your administrator before syncing".into(),
        ),
        Problem::StorageFull { free_bytes } => (
            "SD card full".into(),
            Some(format!("{} free", format::bytes(*free_bytes))),
            "Lower keep_snapshots, or use a bigger card".into(),
        ),
        Problem::Internal { detail } => (
            "Internal error".into(),
            Some(detail.clone()),
            "Restart the box and tell your administrator".into(),
        ),
    };
    let mut c = card(Tone::Problem, "Problem", headline);
    c.details.extend(detail.map(|d| capitalised(&d)));
    c.details.push(fix);
    c
}

fn device_card(view: &View) -> Card {
    let d = &view.device;
    let mut c = card(
        Tone::Normal,
        "Device info",
        d.ip.clone().unwrap_or_else(|| "No network".into()),
    );
    c.lead = Some("IP address".into());
    c.details.push(format!("{} {}", d.name, d.version));
    c.details.push(match (d.free_bytes, d.total_bytes) {
        (Some(free), Some(total)) => {
            format!("{} free of {}", format::bytes(free), format::bytes(total))
        }
        (Some(free), None) => format!("{} free", format::bytes(free)),
        _ => "Free space unknown".into(),
    });
    c.hint = back_hint();
    c
}

fn key_page(view: &View) -> KeyPage {
    let line = view.box_key.as_deref().unwrap_or("");
    let (qr, details) = match key::fingerprint(line) {
        Some(fp) => (key::qr_modules(line), vec![fp]),
        None => (None, vec!["The box makes its key at first start".into()]),
    };
    KeyPage {
        title: "Box key".into(),
        qr,
        details,
        hint: back_hint(),
    }
}
