//! Degradation: simulate a low-resolution capture as the seed experiments did, by downscaling a
//! photo by x2, x4, x8 (or to a target face width) with either bicubic resampling or Gaussian
//! blur followed by subsampling (the degradation of the ESPCN paper).

use image::RgbImage;
use image::imageops::{FilterType, blur, resize};

/// How the low-resolution image is formed.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum DegradeMethod {
    /// Bicubic (Catmull-Rom) resampling with its anti-aliasing support widened by the factor.
    #[default]
    Bicubic,
    /// Gaussian blur (sigma = 0.5 x factor) then keeping every factor-th pixel.
    BlurSubsample,
}

impl DegradeMethod {
    /// Short name, as on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Bicubic => "bicubic",
            Self::BlurSubsample => "blur-subsample",
        }
    }
}

/// Errors of [`degrade`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DegradeError {
    /// The factor is zero.
    #[error("the downscale factor must be at least 1, got {0}")]
    BadFactor(u32),
    /// The image would vanish.
    #[error("a {width}x{height} image downscaled by {factor} has no pixels left")]
    TooSmall {
        /// Source width.
        width: u32,
        /// Source height.
        height: u32,
        /// Factor.
        factor: u32,
    },
}

/// Downscales `image` by an integer `factor` (output `floor(w / f) x floor(h / f)`).
///
/// # Errors
/// [`DegradeError`] for a zero factor or an image smaller than the factor.
pub fn degrade(
    image: &RgbImage,
    factor: u32,
    method: DegradeMethod,
) -> Result<RgbImage, DegradeError> {
    if factor == 0 {
        return Err(DegradeError::BadFactor(factor));
    }
    let (w, h) = (image.width() / factor, image.height() / factor);
    if w == 0 || h == 0 {
        return Err(DegradeError::TooSmall {
            width: image.width(),
            height: image.height(),
            factor,
        });
    }
    if factor == 1 {
        return Ok(image.clone());
    }
    Ok(match method {
        DegradeMethod::Bicubic => resize(image, w, h, FilterType::CatmullRom),
        DegradeMethod::BlurSubsample => {
            let blurred = blur(image, 0.5 * factor as f32);
            let offset = factor / 2;
            RgbImage::from_fn(w, h, |x, y| {
                *blurred.get_pixel(x * factor + offset, y * factor + offset)
            })
        }
    })
}

/// The factor (rounded, at least 1) that brings a face `face_width` pixels wide down to
/// `target_width` pixels.
#[must_use]
pub fn factor_for_face_width(face_width: f32, target_width: f32) -> u32 {
    if target_width <= 0.0 || face_width <= target_width {
        return 1;
    }
    let f = (face_width / target_width).round() as u32;
    f.max(1)
}

/// The one "face at width w" simulation of Visage (the app's "Simulate low resolution", `visage
/// eval`'s face widths): `photo` scaled by `target_width / face_width` (a real factor, so the face
/// ends up `target_width` pixels wide, up to rounding of the image size) with `method`'s
/// anti-aliasing, or left alone (factor 1) when the face is no wider than the target. Returns the
/// image and the factor applied (new pixels per old pixel).
///
/// # Errors
/// [`DegradeError::TooSmall`] when the photo would shrink below 1 pixel.
pub fn shrink_face(
    photo: &RgbImage,
    face_width: f32,
    target_width: f32,
    method: DegradeMethod,
) -> Result<(RgbImage, f32), DegradeError> {
    if !(target_width > 0.0 && face_width > target_width) {
        return Ok((photo.clone(), 1.0));
    }
    let s = target_width / face_width;
    let size = |v: u32| (v as f32 * s).round() as u32;
    let (w, h) = (size(photo.width()), size(photo.height()));
    if w == 0 || h == 0 {
        return Err(DegradeError::TooSmall {
            width: photo.width(),
            height: photo.height(),
            factor: (1.0 / s).round() as u32,
        });
    }
    // The factor actually applied, from the rounded size (x and y differ by at most a pixel).
    let applied = w as f32 / photo.width() as f32;
    let out = match method {
        DegradeMethod::Bicubic => resize(photo, w, h, FilterType::CatmullRom),
        DegradeMethod::BlurSubsample => {
            let blurred = blur(photo, 0.5 / s);
            RgbImage::from_fn(w, h, |x, y| {
                // The source pixel under the centre of the output pixel.
                let at = |v: u32, max: u32| (((v as f32 + 0.5) / s) as u32).min(max - 1);
                *blurred.get_pixel(at(x, photo.width()), at(y, photo.height()))
            })
        }
    };
    Ok((out, applied))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_factor() {
        let img = RgbImage::new(130, 64);
        for m in [DegradeMethod::Bicubic, DegradeMethod::BlurSubsample] {
            for f in [2, 4, 8] {
                let out = degrade(&img, f, m).unwrap();
                assert_eq!(out.dimensions(), (130 / f, 64 / f));
            }
        }
    }

    #[test]
    fn blur_subsample_averages_a_checkerboard() {
        let img = RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([if (x + y) % 2 == 0 { 255 } else { 0 }; 3])
        });
        let out = degrade(&img, 4, DegradeMethod::BlurSubsample).unwrap();
        let p = out.get_pixel(8, 8).0[0];
        assert!((120..=135).contains(&p), "{p}");
    }

    #[test]
    fn bad_factors_are_errors() {
        let img = RgbImage::new(8, 8);
        assert_eq!(
            degrade(&img, 0, DegradeMethod::Bicubic),
            Err(DegradeError::BadFactor(0))
        );
        assert!(matches!(
            degrade(&img, 9, DegradeMethod::Bicubic),
            Err(DegradeError::TooSmall { .. })
        ));
    }

    #[test]
    fn shrinking_brings_the_face_to_the_target_width() {
        let photo = RgbImage::new(400, 300);
        for m in [DegradeMethod::Bicubic, DegradeMethod::BlurSubsample] {
            // A 160 px face to 32 px: the photo scales by 0.2.
            let (small, s) = shrink_face(&photo, 160.0, 32.0, m).unwrap();
            assert_eq!(small.dimensions(), (80, 60));
            assert!((s - 0.2).abs() < 1e-6);
            assert!((160.0 * s - 32.0).abs() < 0.5);
            // A face already narrower than the target is left alone.
            let (same, s) = shrink_face(&photo, 20.0, 32.0, m).unwrap();
            assert_eq!((same.dimensions(), s), ((400, 300), 1.0));
        }
    }

    #[test]
    fn face_width_factor() {
        assert_eq!(factor_for_face_width(256.0, 32.0), 8);
        assert_eq!(factor_for_face_width(100.0, 32.0), 3);
        assert_eq!(factor_for_face_width(20.0, 32.0), 1);
    }
}
