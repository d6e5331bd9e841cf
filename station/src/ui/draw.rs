//! Laying out and drawing the three kinds of page, for a panel of any size.
//!
//! Every screen is one of three shapes: a [`Card`] (a title bar, one big headline, maybe a
//! progress bar, a few detail lines, and a hint saying what the buttons do), a [`List`]
//! (the menu, the erase confirmation) or the key page (a QR code and its fingerprint). The
//! layout is computed from the panel's size each time: fonts are tried from the largest
//! down until everything fits, so nothing is placed for one fixed resolution. Each draw
//! returns a [`Drawn`] record of where every piece of text landed, which the layout tests
//! check for overflow and overlap.
//!
//! Detail text that cannot fit even in the smallest font is split into pages that take
//! turns, each shown long enough to be read ([`page_dwell`]); nothing else moves by itself.

use std::time::Duration;

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle, Triangle};
use u8g2_fonts::FontRenderer;
use u8g2_fonts::types::HorizontalAlignment;

use super::text::{self, BOLD, REGULAR};
use super::theme::{Palette, Tone, UiColor};

/// What a drawn piece of the screen is, for the layout tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The title bar's text.
    Title,
    /// The small line above the headline.
    Lead,
    /// A line of the headline.
    Headline,
    /// The progress bar.
    Bar,
    /// A detail line.
    Detail,
    /// The hint line.
    Hint,
    /// A list item.
    Item,
    /// The QR code.
    Qr,
}

/// Where each piece landed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drawn {
    /// Every piece and its box.
    pub parts: Vec<(Part, Rectangle)>,
    /// The detail text took more than one page.
    pub paged: bool,
    /// The headline's font, as its index in [`BOLD`] (the tests check "large type").
    pub headline_font: Option<usize>,
    /// The detail lines' font, as its index in [`REGULAR`] (same pixel sizes as `BOLD`).
    pub detail_font: Option<usize>,
}

impl Drawn {
    fn add(&mut self, part: Part, rect: Option<Rectangle>) {
        if let Some(rect) = rect {
            self.parts.push((part, rect));
        }
    }
}

/// A status page: one big thing, and a little about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// Sets the colours.
    pub tone: Tone,
    /// The title bar ("Burning disc 2 of 3").
    pub title: String,
    /// A small line above the headline ("Label it:").
    pub lead: Option<String>,
    /// The one thing that matters, in the largest type that fits.
    pub headline: String,
    /// A progress bar, 0.0 to 1.0.
    pub bar: Option<f32>,
    /// Detail lines, each wrapped as needed.
    pub details: Vec<String>,
    /// What the buttons do ("Press: eject  Hold: menu").
    pub hint: Option<String>,
}

/// A list to choose from: the menu, the erase confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    /// The title bar.
    pub title: String,
    /// A question above the items.
    pub prompt: Option<String>,
    /// The items.
    pub items: Vec<String>,
    /// The highlighted item.
    pub selected: usize,
    /// What the buttons do.
    pub hint: Option<String>,
    /// Sets the colours.
    pub tone: Tone,
}

/// The page with the box's ssh key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPage {
    /// The title bar.
    pub title: String,
    /// The QR code's modules, row by row (`true` = dark), and its width in modules.
    pub qr: Option<(Vec<bool>, usize)>,
    /// The text beside or below it (the fingerprint).
    pub details: Vec<String>,
    /// What the buttons do.
    pub hint: Option<String>,
}

/// The frame's outer margin: a little air at the edges, more on bigger panels.
fn margin(size: Size) -> u32 {
    (size.width.min(size.height) / 40).max(2)
}

/// The largest font in `fonts[..=cap]` whose line height is at most `max`, else the smallest.
fn font_up_to(fonts: &'static [FontRenderer], cap: usize, max: u32) -> usize {
    (0..=cap.min(fonts.len() - 1))
        .rev()
        .find(|&i| text::line_height(&fonts[i]) <= max)
        .unwrap_or(0)
}

/// The chrome every page has: a title bar on top and a hint line at the bottom.
struct Chrome {
    body: Rectangle,
}

fn draw_chrome<D: DrawTarget>(
    target: &mut D,
    palette: &Palette<D::Color>,
    title: &str,
    hint: Option<&str>,
    drawn: &mut Drawn,
) -> Chrome
where
    D::Color: UiColor,
{
    let size = target.bounding_box().size;
    let m = margin(size);
    let _ = target.clear(palette.background);
    let title_font = &BOLD[font_up_to(&BOLD, 3, size.height / 10)];
    let bar_h = text::line_height(title_font) + 2;
    let _ = Rectangle::new(Point::zero(), Size::new(size.width, bar_h))
        .into_styled(PrimitiveStyle::with_fill(palette.title_bg))
        .draw(target);
    let inner = size.width - 2 * m;
    let title = text::ellipsize(title_font, title, inner);
    drawn.add(
        Part::Title,
        text::draw_line(
            target,
            title_font,
            &title,
            (m as i32, inner, 1),
            HorizontalAlignment::Left,
            palette.title_text,
        ),
    );
    let mut bottom = size.height as i32 - m as i32;
    if let Some(hint) = hint {
        let cap = font_up_to(&REGULAR, 3, size.height / 11);
        let fits = (0..=cap)
            .rev()
            .find(|&i| text::width(&REGULAR[i], &text::plain(hint)) <= inner);
        let font = &REGULAR[fits.unwrap_or(0)];
        let hint = text::ellipsize(font, hint, inner);
        let top = bottom - text::line_height(font) as i32;
        drawn.add(
            Part::Hint,
            text::draw_line(
                target,
                font,
                &hint,
                (m as i32, inner, top),
                HorizontalAlignment::Center,
                palette.quiet,
            ),
        );
        bottom = top - 1;
    }
    let top = bar_h as i32 + m as i32;
    Chrome {
        body: Rectangle::new(
            Point::new(m as i32, top),
            Size::new(inner, (bottom - top).max(0) as u32),
        ),
    }
}

/// How long one page of paged text stays up: a person reads about four words a second
/// aloud and fewer on a small screen, so three words a second, and never under five seconds.
pub fn page_dwell(words: usize) -> Duration {
    Duration::from_millis((words as u64 * 333).max(5_000))
}

/// A card's content laid out in fonts that fit.
struct CardLayout {
    headline_font: usize,
    detail_font: usize,
    lead: Option<String>,
    headline: Vec<String>,
    detail_pages: Vec<Vec<String>>,
}

/// The height of the card's body content with these fonts and `detail_lines` lines.
fn card_height(layout: &CardLayout, bar_h: u32, detail_lines: usize, gap: u32) -> u32 {
    let head = text::line_height(&BOLD[layout.headline_font]) * layout.headline.len() as u32;
    let small = text::line_height(&REGULAR[layout.detail_font]);
    let lead = if layout.lead.is_some() { small } else { 0 };
    let bar = if bar_h > 0 { bar_h + gap } else { 0 };
    let details = if detail_lines > 0 {
        gap + small * detail_lines as u32
    } else {
        0
    };
    lead + head + bar + details
}

fn layout_card(card: &Card, body: Size, bar_h: u32, gap: u32) -> CardLayout {
    const MAX_HEADLINE_LINES: usize = 3;
    let w = body.width;
    // Details are never bigger than a third of what the headline could be.
    let detail_cap = font_up_to(&REGULAR, REGULAR.len() - 1, body.height / 6);
    for hf in (0..BOLD.len()).rev() {
        let headline = text::wrap(&BOLD[hf], &card.headline, w);
        if headline.len() > MAX_HEADLINE_LINES {
            continue;
        }
        // Details are a size smaller than the headline, so the headline stands out.
        for df in (0..=detail_cap.min(hf.saturating_sub(1))).rev() {
            let lead = card
                .lead
                .as_ref()
                .map(|l| text::ellipsize(&REGULAR[df], l, w));
            let details: Vec<String> = card
                .details
                .iter()
                .flat_map(|d| text::wrap(&REGULAR[df], d, w))
                .collect();
            let layout = CardLayout {
                headline_font: hf,
                detail_font: df,
                lead,
                headline: headline.clone(),
                detail_pages: vec![details],
            };
            let lines = layout.detail_pages[0].len();
            if card_height(&layout, bar_h, lines, gap) <= body.height {
                return layout;
            }
        }
    }
    // Nothing fits whole: smallest fonts, the headline cut to what fits, the details paged.
    let lead = card
        .lead
        .as_ref()
        .map(|l| text::ellipsize(&REGULAR[0], l, w));
    let mut headline = text::wrap(&BOLD[0], &card.headline, w);
    let small = text::line_height(&REGULAR[0]);
    let mut layout = CardLayout {
        headline_font: 0,
        detail_font: 0,
        lead,
        headline: Vec::new(),
        detail_pages: Vec::new(),
    };
    while !headline.is_empty() {
        layout.headline = headline.clone();
        // Keep room for at least one detail line if there are details.
        let want = usize::from(!card.details.is_empty());
        if card_height(&layout, bar_h, want, gap) <= body.height {
            break;
        }
        headline.pop();
        if let Some(last) = headline.last_mut() {
            *last = text::ellipsize(&BOLD[0], &format!("{last}..."), w);
        }
    }
    let per_page = {
        let fixed = card_height(&layout, bar_h, 0, gap) + gap;
        (body.height.saturating_sub(fixed) / small).max(1) as usize
    };
    let details: Vec<String> = card
        .details
        .iter()
        .flat_map(|d| text::wrap(&REGULAR[0], d, w))
        .collect();
    layout.detail_pages = details.chunks(per_page).map(<[String]>::to_vec).collect();
    layout
}

/// Draws a card; `shown_for` is how long it has been on screen (which page of paged details).
pub fn draw_card<D>(target: &mut D, card: &Card, dim: bool, shown_for: Duration) -> Drawn
where
    D: DrawTarget,
    D::Color: UiColor,
{
    let palette = D::Color::palette(card.tone, dim);
    let mut drawn = Drawn::default();
    let chrome = draw_chrome(
        target,
        &palette,
        &card.title,
        card.hint.as_deref(),
        &mut drawn,
    );
    let body = chrome.body;
    let size = target.bounding_box().size;
    let gap = margin(size);
    let bar_h = if card.bar.is_some() {
        (size.height / 14).max(5)
    } else {
        0
    };
    let layout = layout_card(card, body.size, bar_h, gap);
    let pages = layout.detail_pages.len().max(1);
    let page = if pages > 1 {
        // The title says which page this is; the body's geometry does not depend on it.
        drawn = Drawn::default();
        let page = pick_page(&layout.detail_pages, shown_for);
        let title = format!("{} ({}/{pages})", card.title, page + 1);
        draw_chrome(target, &palette, &title, card.hint.as_deref(), &mut drawn);
        drawn.paged = true;
        page
    } else {
        0
    };
    drawn.headline_font = Some(layout.headline_font);
    drawn.detail_font = Some(layout.detail_font);
    let details = layout.detail_pages.get(page).cloned().unwrap_or_default();
    let lines = layout.detail_pages.iter().map(Vec::len).max().unwrap_or(0);
    let height = card_height(&layout, bar_h, lines, gap);
    let mut y = body.top_left.y + (body.size.height.saturating_sub(height) / 2) as i32;
    let (left, w) = (body.top_left.x, body.size.width);
    let center = HorizontalAlignment::Center;
    let small = &REGULAR[layout.detail_font];
    if let Some(lead) = &layout.lead {
        let r = text::draw_line(target, small, lead, (left, w, y), center, palette.text);
        drawn.add(Part::Lead, r);
        y += text::line_height(small) as i32;
    }
    let big = &BOLD[layout.headline_font];
    for line in &layout.headline {
        let r = text::draw_line(target, big, line, (left, w, y), center, palette.headline);
        drawn.add(Part::Headline, r);
        y += text::line_height(big) as i32;
    }
    if let Some(fraction) = card.bar {
        y += gap as i32;
        let rect = Rectangle::new(Point::new(left, y), Size::new(w, bar_h));
        draw_bar(target, &palette, rect, fraction);
        drawn.add(Part::Bar, Some(rect));
        y += bar_h as i32;
    }
    if !details.is_empty() {
        y += gap as i32;
    }
    for line in &details {
        let r = text::draw_line(target, small, line, (left, w, y), center, palette.text);
        drawn.add(Part::Detail, r);
        y += text::line_height(small) as i32;
    }
    drawn
}

/// Which page is up after `shown_for`, each page staying up for its [`page_dwell`].
fn pick_page(pages: &[Vec<String>], shown_for: Duration) -> usize {
    let dwell: Vec<Duration> = pages
        .iter()
        .map(|p| page_dwell(p.iter().map(|l| l.split_whitespace().count()).sum()))
        .collect();
    let cycle: Duration = dwell.iter().sum();
    if cycle.is_zero() {
        return 0;
    }
    let mut t = Duration::from_nanos((shown_for.as_nanos() % cycle.as_nanos()) as u64);
    for (i, d) in dwell.iter().enumerate() {
        if t < *d {
            return i;
        }
        t -= *d;
    }
    0
}

fn draw_bar<D: DrawTarget>(target: &mut D, palette: &Palette<D::Color>, rect: Rectangle, f: f32) {
    let _ = rect
        .into_styled(PrimitiveStyle::with_stroke(palette.bar_track, 1))
        .draw(target);
    let inner = rect.offset(-2);
    let fill = (inner.size.width as f32 * f.clamp(0.0, 1.0)).round() as u32;
    if fill > 0 && inner.size.height > 0 {
        let _ = Rectangle::new(inner.top_left, Size::new(fill, inner.size.height))
            .into_styled(PrimitiveStyle::with_fill(palette.bar))
            .draw(target);
    }
}

/// Draws a list with its highlighted item always in view.
pub fn draw_list<D>(target: &mut D, list: &List, dim: bool) -> Drawn
where
    D: DrawTarget,
    D::Color: UiColor,
{
    let palette = D::Color::palette(list.tone, dim);
    let mut drawn = Drawn::default();
    let chrome = draw_chrome(
        target,
        &palette,
        &list.title,
        list.hint.as_deref(),
        &mut drawn,
    );
    let body = chrome.body;
    let (left, w) = (body.top_left.x, body.size.width);
    let mut y = body.top_left.y;
    let mut height = body.size.height;
    if let Some(prompt) = &list.prompt {
        let font = &REGULAR[font_up_to(&REGULAR, 3, body.size.height / 5)];
        let lines = text::wrap(font, prompt, w);
        for line in lines.iter().take(2) {
            let r = text::draw_line(
                target,
                font,
                line,
                (left, w, y),
                HorizontalAlignment::Center,
                palette.text,
            );
            drawn.add(Part::Lead, r);
            y += text::line_height(font) as i32;
        }
        y += 1;
        height = height.saturating_sub((y - body.top_left.y) as u32);
    }
    // The largest font that shows at least four rows (or all, if fewer) of the longest item.
    let pad = 2u32;
    let want = list.items.len().clamp(1, 4) as u32;
    let longest = |f: &FontRenderer| list.items.iter().map(|i| text::width(f, i)).max();
    let index = (0..=4)
        .rev()
        .find(|&i| {
            let row = text::line_height(&BOLD[i]) + 2 * pad;
            row * want <= height && longest(&BOLD[i]).unwrap_or(0) + 2 * pad + 8 <= w
        })
        .unwrap_or(0);
    let font = &BOLD[index];
    let row = text::line_height(font) + 2 * pad;
    let rows = (height / row).max(1) as usize;
    let first = list
        .selected
        .saturating_sub(rows - 1)
        .min(list.items.len().saturating_sub(rows));
    for (i, item) in list.items.iter().enumerate().skip(first).take(rows) {
        let rect = Rectangle::new(Point::new(left, y), Size::new(w, row));
        let color = if i == list.selected {
            let _ = rect
                .into_styled(PrimitiveStyle::with_fill(palette.selected_bg))
                .draw(target);
            palette.selected_text
        } else {
            palette.text
        };
        let label = text::ellipsize(font, item, w - 2 * pad - 8);
        let r = text::draw_line(
            target,
            font,
            &label,
            (left + pad as i32, w - 2 * pad, y + pad as i32),
            HorizontalAlignment::Left,
            color,
        );
        drawn.add(Part::Item, r);
        y += row as i32;
    }
    // Arrows at the right edge when items are out of view above or below.
    let arrow = |up: bool, at: i32| {
        let x = left + w as i32 - 4;
        if up {
            Triangle::new(
                Point::new(x, at),
                Point::new(x - 3, at + 4),
                Point::new(x + 3, at + 4),
            )
        } else {
            Triangle::new(
                Point::new(x, at + 4),
                Point::new(x - 3, at),
                Point::new(x + 3, at),
            )
        }
    };
    let top_row = body.top_left.y + (body.size.height - height) as i32;
    if first > 0 {
        let _ = arrow(true, top_row + 1)
            .into_styled(PrimitiveStyle::with_fill(palette.quiet))
            .draw(target);
    }
    if first + rows < list.items.len() {
        let _ = arrow(false, y - 6)
            .into_styled(PrimitiveStyle::with_fill(palette.quiet))
            .draw(target);
    }
    drawn.headline_font = Some(index);
    drawn
}

/// Draws the key page: the QR code as large as it fits, the fingerprint beside it on a
/// wide panel and below it on a square one.
pub fn draw_key<D>(target: &mut D, page: &KeyPage, dim: bool) -> Drawn
where
    D: DrawTarget,
    D::Color: UiColor,
{
    let palette = D::Color::palette(Tone::Normal, dim);
    let mut drawn = Drawn::default();
    let mut chrome = draw_chrome(
        target,
        &palette,
        &page.title,
        page.hint.as_deref(),
        &mut drawn,
    );
    let needed = page.qr.as_ref().map_or(0, |(_, w)| *w as u32 + 4);
    if chrome.body.size.height < needed {
        // A small panel gives the QR code the hint's line: it must be whole to be read.
        drawn = Drawn::default();
        chrome = draw_chrome(target, &palette, &page.title, None, &mut drawn);
    }
    let body = chrome.body;
    let gap = margin(target.bounding_box().size) as i32;
    let Some((modules, width)) = &page.qr else {
        let card = Card {
            tone: Tone::Attention,
            title: page.title.clone(),
            lead: None,
            headline: "No key yet".into(),
            bar: None,
            details: page.details.clone(),
            hint: page.hint.clone(),
        };
        return draw_card(target, &card, dim, Duration::ZERO);
    };
    // A QR code needs a light border ("quiet zone") of a few modules to be read.
    let quiet = 2u32;
    let span = *width as u32 + 2 * quiet;
    let wide = body.size.width >= body.size.height * 3 / 2;
    let room = if wide {
        body.size.height
    } else {
        // Leave three lines of text under it.
        let font = &REGULAR[font_up_to(&REGULAR, 2, body.size.height / 10)];
        body.size
            .height
            .saturating_sub(3 * text::line_height(font) + gap as u32)
    }
    .min(body.size.width);
    let scale = (room / span).max(1);
    let side = span * scale;
    let origin = if wide {
        body.top_left
    } else {
        Point::new(
            body.top_left.x + (body.size.width as i32 - side as i32) / 2,
            body.top_left.y,
        )
    };
    let qr_rect = Rectangle::new(origin, Size::new(side, side));
    // Dark modules on a light ground, whatever the panel's own colours.
    let _ = qr_rect
        .into_styled(PrimitiveStyle::with_fill(palette.text))
        .draw(target);
    for (i, &dark) in modules.iter().enumerate() {
        if dark {
            let (x, y) = ((i % width) as u32 + quiet, (i / width) as u32 + quiet);
            let at = origin + Point::new((x * scale) as i32, (y * scale) as i32);
            let _ = Rectangle::new(at, Size::new(scale, scale))
                .into_styled(PrimitiveStyle::with_fill(palette.background))
                .draw(target);
        }
    }
    drawn.add(Part::Qr, Some(qr_rect));
    let text_area = if wide {
        let x = origin.x + side as i32 + gap;
        Rectangle::new(
            Point::new(x, body.top_left.y),
            Size::new(
                (body.top_left.x + body.size.width as i32 - x).max(0) as u32,
                body.size.height,
            ),
        )
    } else {
        let y = origin.y + side as i32 + gap;
        Rectangle::new(
            Point::new(body.top_left.x, y),
            Size::new(
                body.size.width,
                (body.top_left.y + body.size.height as i32 - y).max(0) as u32,
            ),
        )
    };
    // The largest font in which the whole fingerprint fits.
    let fit = (0..REGULAR.len()).rev().find_map(|i| {
        let font = &REGULAR[i];
        let lines: Vec<String> = page
            .details
            .iter()
            .flat_map(|d| text::wrap(font, d, text_area.size.width))
            .collect();
        (text::line_height(font) * lines.len() as u32 <= text_area.size.height)
            .then_some((i, lines))
    });
    let (index, lines) = fit.unwrap_or_else(|| {
        let font = &REGULAR[0];
        let lines = page
            .details
            .iter()
            .flat_map(|d| text::wrap(font, d, text_area.size.width))
            .take((text_area.size.height / text::line_height(font)) as usize)
            .collect();
        (0, lines)
    });
    let font = &REGULAR[index];
    let mut y = text_area.top_left.y;
    for line in &lines {
        let r = text::draw_line(
            target,
            font,
            line,
            (text_area.top_left.x, text_area.size.width, y),
            if wide {
                HorizontalAlignment::Left
            } else {
                HorizontalAlignment::Center
            },
            palette.text,
        );
        drawn.add(Part::Detail, r);
        y += text::line_height(font) as i32;
    }
    drawn
}
