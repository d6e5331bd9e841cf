//! Colours by role, for monochrome OLEDs and colour TFTs alike.
//!
//! Screens name what a colour is for (the headline, a problem, the progress bar); the theme
//! says what that is on the panel at hand. On a monochrome panel every role is "on" on "off"
//! except the inverted title bar; on a TFT the tone of the screen (normal, good, needs you,
//! problem) colours the title bar and the headline. A dimmed TFT (its backlight is only on or
//! off) is drawn with a darker palette.

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
use embedded_graphics::prelude::*;

/// What a screen is about, which sets its accent colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Working, nothing to do.
    Normal,
    /// Done and good.
    Good,
    /// Waiting for someone.
    Attention,
    /// Something is wrong.
    Problem,
}

/// The colours of one screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette<C> {
    /// Behind everything.
    pub background: C,
    /// Ordinary text.
    pub text: C,
    /// The headline.
    pub headline: C,
    /// Secondary text (the hint line).
    pub quiet: C,
    /// The title bar's fill.
    pub title_bg: C,
    /// The title bar's text.
    pub title_text: C,
    /// The progress bar's filled part.
    pub bar: C,
    /// The progress bar's outline and empty part.
    pub bar_track: C,
    /// A highlighted list item's fill.
    pub selected_bg: C,
    /// A highlighted list item's text.
    pub selected_text: C,
}

/// A colour type the screens can be drawn in.
pub trait UiColor: PixelColor + Default + 'static {
    /// The palette for a screen of `tone`, dimmed or not.
    fn palette(tone: Tone, dim: bool) -> Palette<Self>;
}

impl UiColor for BinaryColor {
    fn palette(_tone: Tone, _dim: bool) -> Palette<Self> {
        // The OLED dims itself (contrast); its tones are told apart by the words.
        let (on, off) = (BinaryColor::On, BinaryColor::Off);
        Palette {
            background: off,
            text: on,
            headline: on,
            quiet: on,
            title_bg: on,
            title_text: off,
            bar: on,
            bar_track: on,
            selected_bg: on,
            selected_text: off,
        }
    }
}

/// `c` at a third of its brightness.
fn darker(c: Rgb565) -> Rgb565 {
    Rgb565::new(c.r() / 3, c.g() / 3, c.b() / 3)
}

fn rgb(r: u8, g: u8, b: u8) -> Rgb565 {
    Rgb565::new(r >> 3, g >> 2, b >> 3)
}

impl UiColor for Rgb565 {
    fn palette(tone: Tone, dim: bool) -> Palette<Self> {
        let accent = match tone {
            Tone::Normal => rgb(0x3a, 0x8d, 0xde),
            Tone::Good => rgb(0x2e, 0xb8, 0x5c),
            Tone::Attention => rgb(0xf2, 0xb1, 0x1b),
            Tone::Problem => rgb(0xe0, 0x3c, 0x31),
        };
        let headline = match tone {
            Tone::Normal => Rgb565::WHITE,
            _ => accent,
        };
        let title_text = match tone {
            Tone::Attention => Rgb565::BLACK,
            _ => Rgb565::WHITE,
        };
        let palette = Palette {
            background: Rgb565::BLACK,
            text: rgb(0xe8, 0xe8, 0xe8),
            headline,
            quiet: rgb(0xa0, 0xa0, 0xa0),
            title_bg: accent,
            title_text,
            bar: accent,
            bar_track: rgb(0x50, 0x50, 0x50),
            selected_bg: rgb(0x3a, 0x8d, 0xde),
            selected_text: Rgb565::WHITE,
        };
        if !dim {
            return palette;
        }
        Palette {
            background: palette.background,
            text: darker(palette.text),
            headline: darker(palette.headline),
            quiet: darker(palette.quiet),
            title_bg: darker(palette.title_bg),
            title_text: darker(palette.title_text),
            bar: darker(palette.bar),
            bar_track: darker(palette.bar_track),
            selected_bg: darker(palette.selected_bg),
            selected_text: darker(palette.selected_text),
        }
    }
}
