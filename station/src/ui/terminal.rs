//! A frame as text for a terminal: two pixel rows per character cell with Unicode half
//! blocks, in 24-bit colour or plain. `cargo xtask demo` shows the display this way.

use burnstation_hal::display::Frame;

/// The frame as lines of half-block characters. With `colour`, each cell carries ANSI
/// 24-bit foreground (upper pixel) and background (lower pixel) colours; without, a cell is
/// lit where its pixel is brighter than half (for logs and terminals without colour).
pub fn half_blocks(frame: &Frame, colour: bool) -> String {
    let size = frame.size();
    let (w, h) = (size.width as usize, size.height as usize);
    let rgb = frame.to_rgb8();
    let px = |x: usize, y: usize| -> [u8; 3] {
        if y >= h {
            return [0, 0, 0];
        }
        let at = (y * w + x) * 3;
        [rgb[at], rgb[at + 1], rgb[at + 2]]
    };
    let lit = |p: [u8; 3]| u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2]) > 3 * 127;
    let mut out = String::new();
    for y in (0..h).step_by(2) {
        for x in 0..w {
            let (top, bottom) = (px(x, y), px(x, y + 1));
            if colour {
                out.push_str(&format!(
                    "\x1b[38;2;{};{};{}m\x1b[48;2;{};{};{}m\u{2580}",
                    top[0], top[1], top[2], bottom[0], bottom[1], bottom[2]
                ));
            } else {
                out.push(match (lit(top), lit(bottom)) {
                    (false, false) => ' ',
                    (true, false) => '\u{2580}',
                    (false, true) => '\u{2584}',
                    (true, true) => '\u{2588}',
                });
            }
        }
        if colour {
            out.push_str("\x1b[0m");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnstation_hal::display::Framebuffer;
    use embedded_graphics::pixelcolor::BinaryColor;
    use embedded_graphics::prelude::*;

    #[test]
    fn two_pixel_rows_make_one_line() {
        let mut fb = Framebuffer::<BinaryColor>::new(Size::new(3, 3));
        fb.draw_iter([
            Pixel(Point::new(0, 0), BinaryColor::On),
            Pixel(Point::new(1, 1), BinaryColor::On),
            Pixel(Point::new(2, 0), BinaryColor::On),
            Pixel(Point::new(2, 1), BinaryColor::On),
            Pixel(Point::new(0, 2), BinaryColor::On),
        ])
        .unwrap();
        let text = half_blocks(&Frame::Mono(fb), false);
        assert_eq!(text, "\u{2580}\u{2584}\u{2588}\n\u{2580}  \n");
    }
}
