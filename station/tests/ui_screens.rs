//! Every screen, drawn at the three sizes the station is built for, against its golden
//! picture in `docs/screens/`, pixel for pixel; and the longest values each screen can show,
//! checked for text that leaves the panel or runs into other text.
//!
//! After changing a screen on purpose, look at the new pictures and update them:
//! `BURNSTATION_UPDATE_GOLDEN=1 cargo test -p burnstation --test ui_screens`.

use std::path::PathBuf;

use burnstation::ui::draw::Part;
use burnstation::ui::gallery::{self, Sample};
use burnstation::ui::{ButtonSet, Page, render};
use burnstation_hal::buttons::Button;
use burnstation_hal::display::decode_png_rgb8;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;

/// A target the station is drawn for: its directory in `docs/screens/`, size, colour, and
/// the buttons of the board that has it.
struct Target {
    dir: &'static str,
    size: Size,
    colour: bool,
    buttons: ButtonSet,
}

fn targets() -> [Target; 3] {
    use Button::*;
    [
        // Adafruit OLED Bonnet: joystick and two buttons.
        Target {
            dir: "oled-128x64",
            size: Size::new(128, 64),
            colour: false,
            buttons: ButtonSet::of([Select, Next, Previous, Menu]),
        },
        // Waveshare 1.3" LCD HAT: joystick and three keys.
        Target {
            dir: "tft-240x240",
            size: Size::new(240, 240),
            colour: true,
            buttons: ButtonSet::of([Select, Next, Previous, Menu]),
        },
        // Adafruit Mini PiTFT 1.14": two buttons, no menu button.
        Target {
            dir: "tft-240x135",
            size: Size::new(240, 135),
            colour: true,
            buttons: ButtonSet::of([Select, Next]),
        },
    ]
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screens")
}

#[test]
fn every_screen_matches_its_golden_picture() {
    let update = std::env::var_os("BURNSTATION_UPDATE_GOLDEN").is_some();
    let mut differ = Vec::new();
    for target in targets() {
        let dir = golden_dir().join(target.dir);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
        }
        for Sample { name, view, page } in gallery::typical() {
            let (frame, _) = render(&view, page, target.buttons, target.size, target.colour);
            let path = dir.join(format!("{name}.png"));
            if update {
                std::fs::write(&path, frame.to_png(1)).unwrap();
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                differ.push(format!("{} is missing", path.display()));
                continue;
            };
            let (w, h, rgb) = decode_png_rgb8(&bytes).unwrap();
            if (w, h) != (target.size.width, target.size.height) || rgb != frame.to_rgb8() {
                differ.push(format!("{} differs", path.display()));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "screens changed; look at them and set BURNSTATION_UPDATE_GOLDEN=1 to accept:\n{}",
        differ.join("\n")
    );
}

/// The text and bar boxes stay inside the panel and never overlap.
fn check_layout(name: &str, target: &Target, buttons: ButtonSet, sample: &Sample) {
    let (_, drawn) = render(
        &sample.view,
        sample.page,
        buttons,
        target.size,
        target.colour,
    );
    let panel = Rectangle::new(Point::zero(), target.size);
    let texts: Vec<&(Part, Rectangle)> = drawn.parts.iter().collect();
    assert!(
        texts.iter().any(|(p, _)| *p == Part::Title),
        "{name}: no title drawn"
    );
    for (part, rect) in &texts {
        let inside = panel.contains(rect.top_left)
            && panel.contains(rect.bottom_right().unwrap_or(rect.top_left));
        assert!(
            inside,
            "{name} at {}: {part:?} {rect:?} leaves the panel",
            target.dir
        );
    }
    for (i, (a_part, a)) in texts.iter().enumerate() {
        for (b_part, b) in &texts[i + 1..] {
            assert!(
                a.intersection(b).is_zero_sized(),
                "{name} at {}: {a_part:?} {a:?} overlaps {b_part:?} {b:?}",
                target.dir
            );
        }
    }
}

#[test]
fn the_longest_values_fit_every_screen_at_every_size() {
    for target in targets() {
        for buttons in [target.buttons, ButtonSet::SINGLE] {
            for sample in gallery::longest().iter().chain(&gallery::typical()) {
                check_layout(sample.name, &target, buttons, sample);
            }
        }
    }
}

#[test]
fn status_screens_put_the_one_thing_that_matters_in_large_type() {
    let mut wrong = Vec::new();
    // Font indexes: 0 is 8 px, 1 is 10, 2 is 12, 3 is 14, 4 is 18, 5 is 24, 6 and up 30+.
    for target in targets() {
        let smallest = match target.size.height {
            200.. => 5,
            100.. => 4,
            _ => 0,
        };
        for sample in gallery::typical() {
            if sample.page != Page::Status {
                continue;
            }
            let (_, drawn) = render(
                &sample.view,
                sample.page,
                target.buttons,
                target.size,
                target.colour,
            );
            let (headline, detail) = (drawn.headline_font.unwrap(), drawn.detail_font.unwrap());
            let at = format!("{} at {}", sample.name, target.dir);
            if headline < smallest {
                wrong.push(format!(
                    "{at}: headline in font {headline}, wanted {smallest}+"
                ));
            }
            if headline <= detail && headline != 0 {
                wrong.push(format!(
                    "{at}: headline ({headline}) not above details ({detail})"
                ));
            }
            // A problem's own sentence and its fix may take turns on the smallest panel.
            let may_page = target.size.height < 100
                && matches!(
                    sample.view.status,
                    burnstation::ui::view::Status::Problem(_)
                );
            if drawn.paged && !may_page {
                wrong.push(format!("{at}: a typical screen needs no paging"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The QR code on the key page, read back off the drawn picture by zbar (an independent
/// reader), holds the box's public key, at every size.
#[test]
fn the_key_page_qr_code_reads_back_as_the_public_key() {
    let sample = gallery::typical()
        .into_iter()
        .find(|s| s.name == "box-key")
        .unwrap();
    let key = sample.view.box_key.clone().unwrap();
    let want: Vec<&str> = key.split_whitespace().take(2).collect();
    let dir = tempfile::tempdir().unwrap();
    for target in targets() {
        let (frame, _) = render(
            &sample.view,
            sample.page,
            target.buttons,
            target.size,
            target.colour,
        );
        // zbar wants a few pixels per module; scale the picture as a phone camera would.
        let path = dir.path().join(format!("{}.png", target.dir));
        std::fs::write(&path, frame.to_png(4)).unwrap();
        let out = std::process::Command::new("zbarimg")
            .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
            .arg(&path)
            .output()
            .expect("zbarimg (zbar-tools) is installed by cargo xtask test");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text.trim(),
            want.join(" "),
            "{}: {}",
            target.dir,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
