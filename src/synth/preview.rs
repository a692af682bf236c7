//! Contact sheets: each tile shows a sample's clean render, its degraded input and its depth map
//! (nearest surface, brighter = closer, normalised per sample over the head mask), tiles in a
//! grid; used by `visage synth --preview` and for `docs/synth_contact_sheet.png`.

use image::{Rgb, RgbImage};

use super::sample::Sample;

/// Builds a contact sheet of `samples` with `columns` tiles per row.
#[must_use]
pub fn contact_sheet(samples: &[Sample], size: usize, columns: usize) -> RgbImage {
    let columns = columns.max(1);
    let rows = samples.len().div_ceil(columns);
    let (tile_w, tile_h) = (3 * size + 4, size + 4);
    let w = u32::try_from(columns * tile_w).unwrap_or(0);
    let h = u32::try_from(rows * tile_h).unwrap_or(0);
    let mut sheet = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    for (k, s) in samples.iter().enumerate() {
        let (x0, y0) = ((k % columns) * tile_w, (k / columns) * tile_h);
        let depth = depth_rgb(s);
        for (panel, pixels) in [&s.clean, &s.rgb, &depth].into_iter().enumerate() {
            for i in 0..size * size {
                let (x, y) = (x0 + panel * size + i % size, y0 + i / size);
                let px = Rgb([pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]]);
                if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) {
                    sheet.put_pixel(x, y, px);
                }
            }
        }
    }
    sheet
}

/// Depth as grey levels over the mask (black background), RGB bytes.
fn depth_rgb(s: &Sample) -> Vec<u8> {
    let masked = s
        .depth
        .iter()
        .zip(&s.mask)
        .filter(|(_, m)| **m != 0)
        .map(|(d, _)| *d);
    let (lo, hi) = masked.fold((f32::MAX, f32::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
    let range = (hi - lo).max(1e-3);
    s.depth
        .iter()
        .zip(&s.mask)
        .flat_map(|(d, m)| {
            let v = if *m == 0 {
                0
            } else {
                (40.0 + 215.0 * (d - lo) / range) as u8
            };
            [v, v, v]
        })
        .collect()
}
