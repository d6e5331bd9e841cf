//! Writes every screen as a PNG, at the three sizes the station is drawn for, so they can be
//! looked at without hardware: `cargo run -p burnstation --example screens -- OUT_DIR [SCALE]`.
//! With `--longest`, the screens show the longest values they can hold.

use std::path::PathBuf;

use burnstation::ui::gallery;
use burnstation::ui::{ButtonSet, render};
use burnstation_hal::buttons::Button;
use embedded_graphics::prelude::*;

fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let longest = args.iter().any(|a| a == "--longest");
    args.retain(|a| a != "--longest");
    let out = PathBuf::from(args.first().map_or("screens", String::as_str));
    let scale: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let samples = if longest {
        gallery::longest()
    } else {
        gallery::typical()
    };
    let all = [Button::Select, Button::Next, Button::Previous, Button::Menu];
    let targets = [
        ("oled-128x64", Size::new(128, 64), false, ButtonSet::of(all)),
        ("tft-240x240", Size::new(240, 240), true, ButtonSet::of(all)),
        (
            "tft-240x135",
            Size::new(240, 135),
            true,
            ButtonSet::of([Button::Select, Button::Next]),
        ),
        (
            "single-button-128x64",
            Size::new(128, 64),
            false,
            ButtonSet::SINGLE,
        ),
    ];
    for (dir, size, colour, buttons) in targets {
        std::fs::create_dir_all(out.join(dir))?;
        for s in &samples {
            let (frame, _) = render(&s.view, s.page, buttons, size, colour);
            std::fs::write(
                out.join(dir).join(format!("{}.png", s.name)),
                frame.to_png(scale),
            )?;
        }
    }
    println!(
        "wrote {} screens to {}",
        samples.len() * targets.len(),
        out.display()
    );
    Ok(())
}
