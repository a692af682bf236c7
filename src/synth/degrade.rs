//! Degradations of the network input (the clean image keeps none), in camera-pipeline order:
//! downscale so the face is 24-64 px wide and back up (low-resolution robustness), Gaussian
//! blur, Gaussian sensor noise, JPEG re-encoding (the `image` crate's encoder and decoder).

use image::imageops::{self, FilterType};
use image::{ImageFormat, RgbImage};

use super::SynthError;
use super::params::Degrade;
use super::rng::{SampleRng, normal};

/// Applies `d` to `clean`, whose face is `face_width` pixels wide; `rng` drives the noise.
///
/// # Errors
/// [`SynthError::Jpeg`] when the JPEG round trip fails.
pub fn degrade(
    clean: &RgbImage,
    face_width: f32,
    d: &Degrade,
    rng: &mut SampleRng,
) -> Result<RgbImage, SynthError> {
    let (w, h) = clean.dimensions();
    let mut img = clean.clone();
    if let Some(face_px) = d.face_px {
        let f = (face_px / face_width.max(1.0)).min(1.0);
        let (sw, sh) = (
            (w as f32 * f).round().max(4.0) as u32,
            (h as f32 * f).round().max(4.0) as u32,
        );
        if sw < w {
            let small = imageops::resize(&img, sw, sh, FilterType::Triangle);
            img = imageops::resize(&small, w, h, FilterType::Triangle);
        }
    }
    if d.blur > 0.0 {
        img = imageops::blur(&img, d.blur);
    }
    if d.noise > 0.0 {
        for v in img.iter_mut() {
            *v = (f32::from(*v) + d.noise * normal(rng))
                .round()
                .clamp(0.0, 255.0) as u8;
        }
    }
    if let Some(q) = d.jpeg {
        img = jpeg_round_trip(&img, q)?;
    }
    Ok(img)
}

/// Encodes `img` as JPEG at `quality` (1-100) and decodes it again.
///
/// # Errors
/// [`SynthError::Jpeg`] when encoding or decoding fails.
pub fn jpeg_round_trip(img: &RgbImage, quality: u8) -> Result<RgbImage, SynthError> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100))
        .encode_image(img)
        .map_err(|e| SynthError::Jpeg(e.to_string()))?;
    let decoded = image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg)
        .map_err(|e| SynthError::Jpeg(e.to_string()))?;
    Ok(decoded.to_rgb8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker() -> RgbImage {
        RgbImage::from_fn(64, 64, |x, y| {
            let v = if (x / 2 + y / 2) % 2 == 0 { 230 } else { 20 };
            image::Rgb([v, v / 2, 255 - v])
        })
    }

    fn energy(img: &RgbImage) -> f64 {
        let mut e = 0.0;
        for y in 0..img.height() {
            for x in 1..img.width() {
                e += (f64::from(img.get_pixel(x, y)[0]) - f64::from(img.get_pixel(x - 1, y)[0]))
                    .abs();
            }
        }
        e
    }

    #[test]
    fn degradations_remove_detail_and_are_deterministic() {
        let clean = checker();
        let d = Degrade {
            face_px: Some(24.0),
            blur: 0.8,
            noise: 3.0,
            jpeg: Some(40),
        };
        let a = degrade(&clean, 48.0, &d, &mut SampleRng::for_sample(1, 7)).unwrap();
        let b = degrade(&clean, 48.0, &d, &mut SampleRng::for_sample(1, 7)).unwrap();
        assert_eq!(a, b);
        assert!(
            energy(&a) < 0.5 * energy(&clean),
            "{} {}",
            energy(&a),
            energy(&clean)
        );
        let none = Degrade {
            face_px: None,
            blur: 0.0,
            noise: 0.0,
            jpeg: None,
        };
        assert_eq!(
            degrade(&clean, 48.0, &none, &mut SampleRng::for_sample(1, 7)).unwrap(),
            clean
        );
    }
}
