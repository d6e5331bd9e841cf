//! Fonts, measuring and wrapping: how words are fitted into a box of any size.
//!
//! The fonts are U8g2's bitmap fonts (through `u8g2-fonts`): Adobe Helvetica bold and
//! regular from 8 to 24 pixels, and FreeUniversal bold from 30 to 42 pixels for headlines on
//! the larger panels. Layouts pick the largest size that fits, so the same screen reads from
//! across a room on a 240x240 TFT and still fits a 128x64 OLED.

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use u8g2_fonts::FontRenderer;
use u8g2_fonts::fonts;
use u8g2_fonts::types::{FontColor, HorizontalAlignment, VerticalPosition};

/// Bold fonts, smallest first: headlines, titles, menu items.
pub static BOLD: [FontRenderer; 9] = [
    FontRenderer::new::<fonts::u8g2_font_helvB08_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_helvB10_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_helvB12_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_helvB14_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_helvB18_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_helvB24_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_fub30_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_fub35_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_fub42_tf>().with_ignore_unknown_chars(true),
];

/// Regular fonts, smallest first: details and hints.
pub static REGULAR: [FontRenderer; 6] = [
    FontRenderer::new::<fonts::u8g2_font_helvR08_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_helvR10_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_helvR12_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_helvR14_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_helvR18_tf>().with_ignore_unknown_chars(true),
    FontRenderer::new::<fonts::u8g2_font_helvR24_tf>().with_ignore_unknown_chars(true),
];

/// The height of one line of `font`, its spacing included.
pub fn line_height(font: &FontRenderer) -> u32 {
    let body = i32::from(font.get_ascent()) - i32::from(font.get_descent());
    body.max(1) as u32 + leading(font)
}

/// The space between lines: a tenth of the font, at least one pixel.
fn leading(font: &FontRenderer) -> u32 {
    (font.get_ascent().max(1) as u32 / 10).max(1)
}

/// How wide `text` is in `font`.
pub fn width(font: &FontRenderer, text: &str) -> u32 {
    match font.get_rendered_dimensions(text, Point::zero(), VerticalPosition::Baseline) {
        Ok(d) => {
            let ink = d
                .bounding_box
                .map_or(0, |b| b.top_left.x + b.size.width as i32);
            d.advance.x.max(ink).max(0) as u32
        }
        Err(_) => u32::MAX,
    }
}

/// Replaces typographic characters the fonts lack with their plain forms, so an error
/// message with curly quotes or dashes loses no letters.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201b}' => out.push('\''),
            '\u{201c}' | '\u{201d}' => out.push('"'),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
            '\u{2026}' => out.push_str("..."),
            '\u{00a0}' | '\u{2009}' | '\u{202f}' => out.push(' '),
            '\n' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Breaks `text` into lines no wider than `max`, between words, splitting a word only when
/// it alone is wider than a line (a key fingerprint, a long path).
pub fn wrap(font: &FontRenderer, text: &str, max: u32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in plain(text).split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if width(font, &candidate) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if width(font, word) <= max {
            line = word.to_owned();
            continue;
        }
        for c in word.chars() {
            let mut next = line.clone();
            next.push(c);
            if width(font, &next) > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                next = c.to_string();
            }
            line = next;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` cut to fit `max`, ending in "..." when it was cut.
pub fn ellipsize(font: &FontRenderer, text: &str, max: u32) -> String {
    let text = plain(text);
    if width(font, &text) <= max {
        return text;
    }
    let mut cut: String = text.clone();
    while !cut.is_empty() {
        cut.pop();
        let candidate = format!("{}...", cut.trim_end());
        if width(font, &candidate) <= max {
            return candidate;
        }
    }
    String::new()
}

/// Draws one line of `text` with its top at `top`, aligned in `[left, left + width)`
/// (`(left, width, top)`).
/// Returns the box of the pixels drawn (`None` for blank text).
pub fn draw_line<D: DrawTarget>(
    target: &mut D,
    font: &FontRenderer,
    text: &str,
    (left, width, top): (i32, u32, i32),
    align: HorizontalAlignment,
    color: D::Color,
) -> Option<Rectangle> {
    let x = match align {
        HorizontalAlignment::Left => left,
        HorizontalAlignment::Center => left + width as i32 / 2,
        HorizontalAlignment::Right => left + width as i32,
    };
    let baseline = top + i32::from(font.get_ascent());
    font.render_aligned(
        text,
        Point::new(x, baseline),
        VerticalPosition::Baseline,
        align,
        FontColor::Transparent(color),
        target,
    )
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lines_fit_and_keep_every_letter() {
        let font = &BOLD[0];
        let text = "Insert a blank DVD+R for disc 12345 of 12345 SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
        let lines = wrap(font, text, 60);
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(width(font, line) <= 60, "{line:?} is too wide");
        }
        let joined: String = lines.concat();
        let letters: String = text.chars().filter(|c| *c != ' ').collect();
        assert_eq!(joined.replace(' ', ""), letters);
    }

    #[test]
    fn ellipsized_text_fits_and_says_it_was_cut() {
        let font = &REGULAR[0];
        let cut = ellipsize(font, "a very long hint that cannot possibly fit", 50);
        assert!(width(font, &cut) <= 50);
        assert!(cut.ends_with("..."));
        assert_eq!(ellipsize(font, "fits", 50), "fits");
    }

    #[test]
    fn typographic_characters_become_plain_ones() {
        assert_eq!(plain("it\u{2019}s \u{2013} done\u{2026}"), "it's - done...");
    }
}
