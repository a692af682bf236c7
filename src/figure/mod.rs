//! Figures written as PNG by the CLI and the GUI: labelled side-by-side image strips, stacked
//! into grids.
//!
//! Text is drawn with `ab_glyph` and the Ubuntu Light font that egui already ships
//! (`epaint_default_fonts`, Ubuntu Font Licence), so no font file is added to the repository.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage, imageops};

/// Height in pixels of the label band above each panel.
const LABEL_BAND: u32 = 28;
/// Gap between panels.
const GAP: u32 = 6;
const BACKGROUND: Rgb<u8> = Rgb([24, 24, 28]);
const INK: [f32; 3] = [235.0, 235.0, 235.0];

/// Errors of figure drawing.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    /// The bundled font could not be parsed (a build problem, not a user one).
    #[error("the bundled font is invalid: {0}")]
    Font(#[from] ab_glyph::InvalidFont),
    /// No panels were given.
    #[error("a figure needs at least one panel")]
    NoPanels,
}

fn font() -> Result<FontRef<'static>, FigureError> {
    Ok(FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT)?)
}

/// Draws `text` with its top-left corner at `(x, y)`, `size` pixels high, blending `INK` over
/// the image by glyph coverage. Text past the image edge is clipped.
///
/// # Errors
/// [`FigureError::Font`] if the bundled font is broken.
pub fn draw_text(
    image: &mut RgbImage,
    text: &str,
    x: f32,
    y: f32,
    size: f32,
) -> Result<(), FigureError> {
    let font = font()?;
    let scaled = font.as_scaled(PxScale::from(size));
    let mut caret = x;
    let baseline = y + scaled.ascent();
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(PxScale::from(size), point(caret, baseline));
        caret += scaled.h_advance(id);
        previous = Some(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let (px, py) = (
                (bounds.min.x as i64 + i64::from(gx)),
                (bounds.min.y as i64 + i64::from(gy)),
            );
            if px < 0 || py < 0 || px >= i64::from(image.width()) || py >= i64::from(image.height())
            {
                return;
            }
            let pixel = image.get_pixel_mut(px as u32, py as u32);
            for (channel, ink) in pixel.0.iter_mut().zip(INK) {
                let old = f32::from(*channel);
                let new = (old + (ink - old) * coverage.clamp(0.0, 1.0)).round() as u8;
                *channel = new;
            }
        });
    }
    Ok(())
}

/// One panel of a strip: an image and the lines printed above it.
pub struct Panel<'a> {
    /// The picture.
    pub image: &'a RgbImage,
    /// Label lines (the first is the title).
    pub lines: Vec<String>,
}

/// Places the panels left to right on a dark background, each under its label lines. Panels of
/// different heights are top-aligned.
///
/// # Errors
/// [`FigureError`] for no panels or a broken font.
pub fn side_by_side(panels: &[Panel<'_>]) -> Result<RgbImage, FigureError> {
    if panels.is_empty() {
        return Err(FigureError::NoPanels);
    }
    let lines = panels
        .iter()
        .map(|p| p.lines.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let band = LABEL_BAND * u32::try_from(lines).unwrap_or(1);
    let width = panels.iter().map(|p| p.image.width()).sum::<u32>()
        + GAP * (u32::try_from(panels.len()).unwrap_or(1) + 1);
    let height = panels.iter().map(|p| p.image.height()).max().unwrap_or(0) + band + 2 * GAP;
    let mut out = RgbImage::from_pixel(width, height, BACKGROUND);
    let mut x = GAP;
    for panel in panels {
        for (i, line) in panel.lines.iter().enumerate() {
            let y = (GAP + LABEL_BAND * u32::try_from(i).unwrap_or(0)) as f32;
            draw_text(&mut out, line, x as f32, y, 20.0)?;
        }
        imageops::replace(&mut out, panel.image, i64::from(x), i64::from(GAP + band));
        x += panel.image.width() + GAP;
    }
    Ok(out)
}

/// Stacks images top to bottom on the background colour, left-aligned, `GAP` apart.
///
/// # Errors
/// [`FigureError::NoPanels`] for no images.
pub fn stacked(images: &[RgbImage]) -> Result<RgbImage, FigureError> {
    if images.is_empty() {
        return Err(FigureError::NoPanels);
    }
    let width = images.iter().map(RgbImage::width).max().unwrap_or(0);
    let height = images.iter().map(RgbImage::height).sum::<u32>()
        + GAP * u32::try_from(images.len().saturating_sub(1)).unwrap_or(0);
    let mut out = RgbImage::from_pixel(width, height, BACKGROUND);
    let mut y = 0;
    for image in images {
        imageops::replace(&mut out, image, 0, i64::from(y));
        y += image.height() + GAP;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_has_room_for_every_panel() {
        let a = RgbImage::from_pixel(40, 30, Rgb([255, 0, 0]));
        let b = RgbImage::from_pixel(50, 20, Rgb([0, 255, 0]));
        let out = side_by_side(&[
            Panel {
                image: &a,
                lines: vec!["red".into()],
            },
            Panel {
                image: &b,
                lines: vec!["green".into(), "second".into()],
            },
        ])
        .unwrap();
        assert_eq!(out.width(), 40 + 50 + 3 * GAP);
        assert_eq!(out.height(), 30 + 2 * LABEL_BAND + 2 * GAP);
        // Panel pixels are where they belong.
        assert_eq!(out.get_pixel(GAP, GAP + 2 * LABEL_BAND).0, [255, 0, 0]);
        assert_eq!(
            out.get_pixel(2 * GAP + 40, GAP + 2 * LABEL_BAND).0,
            [0, 255, 0]
        );
    }

    #[test]
    fn text_leaves_ink() {
        let mut img = RgbImage::from_pixel(100, 30, BACKGROUND);
        draw_text(&mut img, "PSNR", 2.0, 2.0, 20.0).unwrap();
        let inked = img.pixels().filter(|p| p.0[0] > 128).count();
        assert!(inked > 20, "{inked}");
    }
}
