//! A display in memory: what every screen is drawn into before it reaches a panel.
//!
//! Screens are drawn into a [`Framebuffer`] and the finished frame is then sent to the
//! panel in one go. That keeps drawing independent of the bus (an ST7789 over spidev is far
//! faster fed one full frame than thousands of small windows), lets the display wrapper skip
//! frames that did not change, and gives tests and the simulators (PNG files, the terminal
//! renderer) exactly the pixels a panel would get.

use embedded_graphics_core::pixelcolor::{BinaryColor, Rgb565, Rgb888};
use embedded_graphics_core::prelude::*;

/// A frame in memory of `width x height` pixels of colour `C`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framebuffer<C> {
    size: Size,
    pixels: Vec<C>,
}

impl<C: PixelColor + Default> Framebuffer<C> {
    /// A frame of the given size, every pixel `C::default()` (off, or black).
    pub fn new(size: Size) -> Self {
        let count = size.width as usize * size.height as usize;
        Self {
            size,
            pixels: vec![C::default(); count],
        }
    }
}

impl<C: PixelColor> Framebuffer<C> {
    /// The colour at `(x, y)`, or `None` outside the frame.
    pub fn pixel(&self, x: u32, y: u32) -> Option<C> {
        (x < self.size.width && y < self.size.height)
            .then(|| self.pixels[(y * self.size.width + x) as usize])
    }

    /// Every pixel, row by row from the top left.
    pub fn pixels(&self) -> &[C] {
        &self.pixels
    }

    /// Sets every pixel to `color`.
    pub fn fill(&mut self, color: C) {
        self.pixels.fill(color);
    }
}

impl<C: PixelColor + Into<Rgb888>> Framebuffer<C> {
    /// The frame as 8-bit RGB triples, row by row: what a PNG of it holds.
    pub fn to_rgb8(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.pixels.len() * 3);
        for &pixel in &self.pixels {
            let rgb: Rgb888 = pixel.into();
            out.extend_from_slice(&[rgb.r(), rgb.g(), rgb.b()]);
        }
        out
    }

    /// The frame as a PNG file (8-bit RGB), `scale` screen pixels to one frame pixel, so a
    /// 128x64 screen can be looked at on a desktop without a blurry upscale.
    pub fn to_png(&self, scale: u32) -> Vec<u8> {
        let scale = scale.max(1);
        let (w, h) = (self.size.width * scale, self.size.height * scale);
        let rgb = self.to_rgb8();
        let mut scaled = Vec::with_capacity(w as usize * h as usize * 3);
        for y in 0..h {
            let row = (y / scale) as usize * self.size.width as usize;
            for x in 0..w {
                let at = (row + (x / scale) as usize) * 3;
                scaled.extend_from_slice(&rgb[at..at + 3]);
            }
        }
        encode_png(w, h, &scaled)
    }
}

/// Encodes 8-bit RGB rows as a PNG. Writing into a `Vec` cannot fail, and the sizes are the
/// frame's own, so the encoder's errors cannot happen here.
fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .expect("a PNG header for a frame's own size is valid");
    writer
        .write_image_data(rgb)
        .expect("the image data is exactly width x height RGB triples");
    writer.finish().expect("finishing a PNG in memory");
    out
}

/// A PNG file read back as `(width, height, 8-bit RGB rows)`, for comparing a frame with a
/// stored picture of it. Fails on anything but 8-bit RGB or RGBA (alpha is dropped).
pub fn decode_png_rgb8(bytes: &[u8]) -> std::io::Result<(u32, u32, Vec<u8>)> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .map_err(std::io::Error::other)?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut buf).map_err(std::io::Error::other)?;
    buf.truncate(info.buffer_size());
    let rgb = match (info.color_type, info.bit_depth) {
        (png::ColorType::Rgb, png::BitDepth::Eight) => buf,
        (png::ColorType::Rgba, png::BitDepth::Eight) => buf
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        (color, depth) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("expected an 8-bit RGB PNG, found {color:?} at {depth:?}"),
            ));
        }
    };
    Ok((info.width, info.height, rgb))
}

impl<C: PixelColor> OriginDimensions for Framebuffer<C> {
    fn size(&self) -> Size {
        self.size
    }
}

impl<C: PixelColor> DrawTarget for Framebuffer<C> {
    type Color = C;
    type Error = core::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        let (w, h) = (self.size.width as i32, self.size.height as i32);
        for Pixel(point, color) in pixels {
            // Drawing outside is clipped, as on a real panel; the layout tests check that
            // nothing meant to be seen is drawn there.
            if (0..w).contains(&point.x) && (0..h).contains(&point.y) {
                self.pixels[(point.y * w + point.x) as usize] = color;
            }
        }
        Ok(())
    }

    fn clear(&mut self, color: Self::Color) -> Result<(), Self::Error> {
        self.fill(color);
        Ok(())
    }
}

/// One finished frame, in the colour format of its panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A monochrome OLED (SSD1306): a pixel is on or off.
    Mono(Framebuffer<BinaryColor>),
    /// A colour TFT (ST7789): 16-bit colour.
    Colour(Framebuffer<Rgb565>),
}

impl Frame {
    /// A blank frame for a panel of this size and kind.
    pub fn blank(size: Size, colour: bool) -> Self {
        if colour {
            Frame::Colour(Framebuffer::new(size))
        } else {
            Frame::Mono(Framebuffer::new(size))
        }
    }

    /// The frame's size in pixels.
    pub fn size(&self) -> Size {
        match self {
            Frame::Mono(fb) => fb.size(),
            Frame::Colour(fb) => fb.size(),
        }
    }

    /// The frame as 8-bit RGB triples, row by row (monochrome: on = white).
    pub fn to_rgb8(&self) -> Vec<u8> {
        match self {
            Frame::Mono(fb) => fb.to_rgb8(),
            Frame::Colour(fb) => fb.to_rgb8(),
        }
    }

    /// The frame as a PNG file, `scale` file pixels per frame pixel.
    pub fn to_png(&self, scale: u32) -> Vec<u8> {
        match self {
            Frame::Mono(fb) => fb.to_png(scale),
            Frame::Colour(fb) => fb.to_png(scale),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawing_outside_is_clipped_and_inside_is_kept() {
        let mut fb = Framebuffer::<BinaryColor>::new(Size::new(4, 2));
        fb.draw_iter([
            Pixel(Point::new(3, 1), BinaryColor::On),
            Pixel(Point::new(4, 0), BinaryColor::On),
            Pixel(Point::new(-1, 0), BinaryColor::On),
        ])
        .unwrap();
        let on: Vec<_> = fb.pixels().iter().map(|p| p.is_on()).collect();
        assert_eq!(on, [false, false, false, false, false, false, false, true]);
    }

    #[test]
    fn png_round_trips_the_pixels_at_any_scale() {
        let mut fb = Framebuffer::<Rgb565>::new(Size::new(3, 2));
        fb.draw_iter([
            Pixel(Point::new(0, 0), Rgb565::RED),
            Pixel(Point::new(2, 1), Rgb565::BLUE),
        ])
        .unwrap();
        let (w, h, rgb) = decode_png_rgb8(&fb.to_png(1)).unwrap();
        assert_eq!((w, h), (3, 2));
        assert_eq!(rgb, fb.to_rgb8());
        assert_eq!(&rgb[0..3], &[255, 0, 0]);

        let (w, h, rgb) = decode_png_rgb8(&fb.to_png(2)).unwrap();
        assert_eq!((w, h), (6, 4));
        // The blue pixel (2, 1) covers (4..6, 2..4) at scale 2.
        let at = |x: usize, y: usize| &rgb[(y * 6 + x) * 3..(y * 6 + x) * 3 + 3];
        assert_eq!(at(5, 3), &[0, 0, 255]);
        assert_eq!(at(4, 2), &[0, 0, 255]);
        assert_eq!(at(3, 2), &[0, 0, 0]);
    }
}
