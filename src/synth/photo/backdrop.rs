//! Backdrops cut from natural photos: a random crop of one of the images in
//! `assets/backdrops/` (CC0 or public domain; their sources are in that folder's README),
//! mirrored, defocused and colour-shifted, so the networks see real-photo clutter, edges and
//! textures behind and around the head. `tools/backdrops.py` rebuilds the folder.

use std::sync::OnceLock;

use image::Rgb32FImage;
use image::imageops::{FilterType, blur, crop_imm, resize};

use super::params::{BACKDROPS, Backdrop};
use crate::synth::math::from_srgb;
#[cfg(test)]
use crate::synth::rng::SampleRng;

/// The backdrop photos, JPEG.
const SOURCES: [&[u8]; BACKDROPS] = [
    include_bytes!("../../../assets/backdrops/chelsea.jpg"),
    include_bytes!("../../../assets/backdrops/coffee.jpg"),
    include_bytes!("../../../assets/backdrops/rocket.jpg"),
    include_bytes!("../../../assets/backdrops/brick.jpg"),
    include_bytes!("../../../assets/backdrops/grass.jpg"),
    include_bytes!("../../../assets/backdrops/gravel.jpg"),
    include_bytes!("../../../assets/backdrops/coins.jpg"),
    include_bytes!("../../../assets/backdrops/hubble_deep_field.jpg"),
];

impl Backdrop {
    /// The backdrop as a row-major `size x size` linear image.
    #[must_use]
    pub fn render(&self, size: usize) -> Vec<[f32; 3]> {
        let photo = &photos()[self.source % SOURCES.len()];
        let (w, h) = photo.dimensions();
        let side = ((w.min(h) as f32 * self.zoom) as u32).clamp(8, w.min(h));
        let x = ((w - side) as f32 * self.at[0]) as u32;
        let y = ((h - side) as f32 * self.at[1]) as u32;
        let n = u32::try_from(size).unwrap_or(1).max(1);
        let mut img = resize(
            &crop_imm(photo, x, y, side, side).to_image(),
            n,
            n,
            FilterType::Triangle,
        );
        if self.defocus > 0.0 {
            img = blur(&img, self.defocus * size as f32);
        }
        let mut out = Vec::with_capacity(size * size);
        for row in 0..n {
            for col in 0..n {
                let c = if self.mirror { n - 1 - col } else { col };
                let p = img.get_pixel(c, row).0;
                out.push(std::array::from_fn(|k| from_srgb(p[k]) * self.tint[k]));
            }
        }
        out
    }
}

/// The decoded photos (sRGB in [0, 1]), decoded once per process.
fn photos() -> &'static [Rgb32FImage] {
    static PHOTOS: OnceLock<Vec<Rgb32FImage>> = OnceLock::new();
    PHOTOS.get_or_init(|| {
        SOURCES
            .iter()
            .map(|bytes| {
                image::load_from_memory(bytes)
                    .map_or_else(|_| Rgb32FImage::new(8, 8), |i| i.to_rgb32f())
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_photo_decodes_and_a_crop_is_deterministic_and_varied() {
        for (k, p) in photos().iter().enumerate() {
            assert!(p.width() >= 200 && p.height() >= 200, "photo {k}");
        }
        let mut r = SampleRng::for_sample(5, 0);
        let b = Backdrop {
            source: 1,
            ..Backdrop::draw(&mut r)
        };
        let img = b.render(32);
        assert_eq!(img.len(), 32 * 32);
        assert_eq!(img, b.render(32));
        let mean: f32 = img.iter().map(|c| c[1]).sum::<f32>() / img.len() as f32;
        let var: f32 = img.iter().map(|c| (c[1] - mean).powi(2)).sum::<f32>() / img.len() as f32;
        assert!(var > 1e-4, "a flat crop: variance {var}");
        let mirrored = Backdrop {
            mirror: !b.mirror,
            ..b
        }
        .render(32);
        assert_eq!(mirrored[0], img[31]);
    }
}
