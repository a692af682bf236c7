//! Super-resolution training pairs: random high-resolution patches cut from a set of images,
//! flipped and rotated, degraded exactly as the app degrades (`pipeline::degrade`), with the
//! bicubic enlargement of the low-resolution patch as the network's skip input.

use crate::pipeline::degrade::{DegradeMethod, degrade};
use crate::pipeline::photo::Photo;
use anyhow::Context;
use candle_core::{Device, Tensor};
use image::RgbImage;
use image::imageops::{FilterType, resize};
use rand::Rng;
use std::path::Path;

/// A batch: `lr [B, 3, p, p]`, `base [B, 3, r p, r p]` (bicubic of lr), `hr` like `base`, all in
/// [0, 1].
pub struct SrBatch {
    /// Low-resolution inputs.
    pub lr: Tensor,
    /// Bicubic enlargements of `lr`.
    pub base: Tensor,
    /// Targets.
    pub hr: Tensor,
}

impl SrBatch {
    /// The batch on `device`.
    ///
    /// # Errors
    /// Candle transfer errors.
    pub fn to_device(self, device: &Device) -> candle_core::Result<Self> {
        Ok(Self {
            lr: self.lr.to_device(device)?,
            base: self.base.to_device(device)?,
            hr: self.hr.to_device(device)?,
        })
    }
}

/// Every image under `dirs`, recursively, in sorted file order: image files (png, jpg, jpeg,
/// webp, bmp, tif, tiff) as they are, and synthetic-face shards (`*.safetensors` written by
/// `visage synth`) as their clean renders.
///
/// # Errors
/// Unreadable folders or images.
pub fn load_images(dirs: &[impl AsRef<Path>]) -> anyhow::Result<Vec<RgbImage>> {
    let mut files = Vec::new();
    for dir in dirs {
        collect(dir.as_ref(), &mut files)?;
    }
    files.sort();
    let mut images = Vec::new();
    for f in &files {
        if f.extension().is_some_and(|e| e == "safetensors") {
            images.extend(shard_images(f)?);
        } else {
            images.push(Photo::load(f)?.rgb);
        }
    }
    Ok(images)
}

/// The clean renders of a synthetic shard.
fn shard_images(path: &Path) -> anyhow::Result<Vec<RgbImage>> {
    let shard = crate::synth::shard::Shard::open(path)?;
    let side = u32::try_from(shard.info.size)?;
    (0..shard.len())
        .map(|i| {
            RgbImage::from_raw(side, side, shard.u8s("clean", i)?)
                .with_context(|| format!("{}: sample {i} has the wrong size", path.display()))
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            [
                "png",
                "jpg",
                "jpeg",
                "webp",
                "bmp",
                "tif",
                "tiff",
                "safetensors",
            ]
            .contains(&e.to_ascii_lowercase().as_str())
        }) {
            files.push(path);
        }
    }
    Ok(())
}

/// One training pair from a random place of a random image (`None` if the image is too small).
fn sample_pair(
    images: &[RgbImage],
    patch: u32,
    scale: u32,
    method: DegradeMethod,
    rng: &mut impl Rng,
) -> Option<(RgbImage, RgbImage, RgbImage)> {
    let hr_size = patch * scale;
    let img = &images[rng.random_range(0..images.len())];
    if img.width() < hr_size || img.height() < hr_size {
        return None;
    }
    let x = rng.random_range(0..=img.width() - hr_size);
    let y = rng.random_range(0..=img.height() - hr_size);
    let mut hr = image::imageops::crop_imm(img, x, y, hr_size, hr_size).to_image();
    if rng.random_bool(0.5) {
        hr = image::imageops::flip_horizontal(&hr);
    }
    hr = match rng.random_range(0..4) {
        1 => image::imageops::rotate90(&hr),
        2 => image::imageops::rotate180(&hr),
        3 => image::imageops::rotate270(&hr),
        _ => hr,
    };
    let lr = degrade(&hr, scale, method).ok()?;
    let base = resize(&lr, hr_size, hr_size, FilterType::CatmullRom);
    Some((lr, base, hr))
}

/// A batch of `batch` random pairs. Images smaller than a patch are skipped.
///
/// # Errors
/// No image large enough for the patch, or candle errors.
pub fn sample_batch(
    images: &[RgbImage],
    batch: usize,
    patch: u32,
    scale: u32,
    method: DegradeMethod,
    rng: &mut impl Rng,
) -> anyhow::Result<SrBatch> {
    anyhow::ensure!(!images.is_empty(), "no training images");
    let mut parts: [Vec<f32>; 3] = Default::default();
    let mut got = 0;
    for _ in 0..batch * 50 {
        if got == batch {
            break;
        }
        if let Some(pair) = sample_pair(images, patch, scale, method, rng) {
            for (buf, img) in parts.iter_mut().zip([&pair.0, &pair.1, &pair.2]) {
                buf.extend(chw(img));
            }
            got += 1;
        }
    }
    anyhow::ensure!(
        got == batch,
        "no image is at least {} px square",
        patch * scale
    );
    let (p, q) = (patch as usize, (patch * scale) as usize);
    let [lr, base, hr] = parts;
    Ok(SrBatch {
        lr: Tensor::from_vec(lr, (batch, 3, p, p), &Device::Cpu)?,
        base: Tensor::from_vec(base, (batch, 3, q, q), &Device::Cpu)?,
        hr: Tensor::from_vec(hr, (batch, 3, q, q), &Device::Cpu)?,
    })
}

/// Planar (CHW) f32 values in [0, 1].
fn chw(img: &RgbImage) -> Vec<f32> {
    let n = (img.width() * img.height()) as usize;
    let mut out = vec![0.0; 3 * n];
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            out[c * n + i] = f32::from(p.0[c]) / 255.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn batch_shapes_and_base_is_bicubic_of_lr() {
        let img = RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 4) as u8, 100])
        });
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let b = sample_batch(&[img], 3, 8, 4, DegradeMethod::Bicubic, &mut rng).unwrap();
        assert_eq!(b.lr.dims(), &[3, 3, 8, 8]);
        assert_eq!(b.base.dims(), &[3, 3, 32, 32]);
        assert_eq!(b.hr.dims(), &[3, 3, 32, 32]);
        // The bicubic base of a smooth ramp is close to the target.
        let err = (b.base - &b.hr)
            .unwrap()
            .abs()
            .unwrap()
            .mean_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(err < 0.02, "{err}");
    }

    #[test]
    fn too_small_images_are_reported() {
        let img = RgbImage::new(10, 10);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert!(sample_batch(&[img], 2, 8, 4, DegradeMethod::Bicubic, &mut rng).is_err());
    }
}
