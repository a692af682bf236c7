//! VRN training samples from synthetic shards: the degraded render, the depth maps that define
//! the occupancy volume and the 68 landmarks, augmented together by one random similarity
//! transform (scale, rotation, translation, optional mirror with the landmark ids swapped) plus a
//! colour jitter, then encoded as the network's input planes and target volume.
//!
//! Geometry: a sample is stored in its 128 px crop frame. The augmented view maps crop point `p`
//! to `q = s R (p - c) + c + t` (then halved to the 64 px input grid); the crop-frame depth
//! scales with `s` like x and y, and rotation about the view axis leaves it alone, so the target
//! volume is [`crate::synth::volume::occupancy`] of the warped, rescaled depth maps.

use crate::pipeline::reconstruct::vrn_input::{MIRROR_68, encode, half_size};
use crate::synth::shard::Shard;
use crate::synth::volume::occupancy;
use anyhow::Context;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use std::path::Path;

/// One stored sample at its shard's crop size `S`.
#[derive(Clone, Debug)]
pub struct VrnSample {
    /// Degraded input render, box-filtered to `S/2`, interleaved RGB8.
    pub rgb_half: Vec<u8>,
    /// Crop-frame z of the nearest / farthest head surface `[S, S]`.
    pub front: Vec<f32>,
    /// See `front`.
    pub back: Vec<f32>,
    /// Head mask `[S, S]`.
    pub mask: Vec<u8>,
    /// 68 landmarks in crop pixels (v down).
    pub landmarks: Vec<[f32; 2]>,
    /// FaceMesh's 68 landmarks on the render, same frame, when computed
    /// ([`super::vrn_landmarks`]).
    pub facemesh: Option<Vec<[f32; 2]>>,
    /// Crop side `S`.
    pub size: usize,
}

/// Augmentation strength.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// Scale factor range `[1 - scale, 1 + scale]`.
    pub scale: f32,
    /// Rotation range, degrees either way.
    pub rotate_deg: f32,
    /// Translation range, fraction of the side either way.
    pub shift: f32,
    /// Probability of mirroring.
    pub flip: f64,
    /// Colour jitter strength (gain, bias, contrast).
    pub colour: f32,
    /// Landmark noise standard deviation, pixels of the input.
    pub landmark_noise: f32,
    /// Probability of guiding with FaceMesh's landmarks instead of the true ones, where the
    /// sample has them.
    pub facemesh: f64,
}

impl Augment {
    /// The training default.
    pub const TRAIN: Self = Self {
        scale: 0.1,
        rotate_deg: 12.0,
        shift: 0.06,
        flip: 0.5,
        colour: 0.15,
        landmark_noise: 0.6,
        facemesh: 0.75,
    };
    /// No augmentation (validation).
    pub const NONE: Self = Self {
        scale: 0.0,
        rotate_deg: 0.0,
        shift: 0.0,
        flip: 0.0,
        colour: 0.0,
        landmark_noise: 0.0,
        facemesh: 0.0,
    };
}

/// Loads every sample of every `*.safetensors` shard in `dir` (sorted), at most `limit`.
///
/// # Errors
/// Unreadable folder or shard.
pub fn load_dir(dir: &Path, limit: usize) -> anyhow::Result<Vec<VrnSample>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let shard = Shard::open(&f)?;
        for i in 0..shard.len() {
            if out.len() >= limit {
                return Ok(out);
            }
            out.push(read_sample(&shard, i)?);
        }
    }
    Ok(out)
}

/// Sample `i` of `shard`.
///
/// # Errors
/// A shard without the needed tensors.
pub fn read_sample(shard: &Shard, i: usize) -> anyhow::Result<VrnSample> {
    let size = shard.info.size;
    let lm = shard.f32s("landmarks_2d", i)?;
    Ok(VrnSample {
        rgb_half: half_size(&shard.u8s("rgb", i)?, size),
        front: shard.f32s("depth", i)?,
        back: shard.f32s("depth_back", i)?,
        mask: shard.u8s("mask", i)?,
        landmarks: lm.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
        facemesh: None,
        size,
    })
}

/// The similarity of one augmented view, in crop pixels: `q = s R (m(p) - c) + c + t`, where `m`
/// mirrors x when `flip`.
#[derive(Clone, Copy, Debug)]
struct View {
    s: f32,
    cos: f32,
    sin: f32,
    t: [f32; 2],
    flip: bool,
    side: f32,
}

impl View {
    fn random(aug: &Augment, side: f32, rng: &mut impl Rng) -> Self {
        let u = |rng: &mut dyn rand::RngCore, a: f32| {
            if a > 0.0 {
                rng.random_range(-a..a)
            } else {
                0.0
            }
        };
        let angle = u(rng, aug.rotate_deg).to_radians();
        Self {
            s: 1.0 + u(rng, aug.scale),
            cos: angle.cos(),
            sin: angle.sin(),
            t: [u(rng, aug.shift) * side, u(rng, aug.shift) * side],
            flip: aug.flip > 0.0 && rng.random_bool(aug.flip),
            side,
        }
    }

    fn forward(&self, p: [f32; 2]) -> [f32; 2] {
        let c = self.side / 2.0;
        let x = if self.flip { self.side - p[0] } else { p[0] } - c;
        let y = p[1] - c;
        [
            self.s * (self.cos * x - self.sin * y) + c + self.t[0],
            self.s * (self.sin * x + self.cos * y) + c + self.t[1],
        ]
    }

    fn inverse(&self, q: [f32; 2]) -> [f32; 2] {
        let c = self.side / 2.0;
        let (x, y) = (
            (q[0] - c - self.t[0]) / self.s,
            (q[1] - c - self.t[1]) / self.s,
        );
        let px = self.cos * x + self.sin * y + c;
        let py = -self.sin * x + self.cos * y + c;
        [if self.flip { self.side - px } else { px }, py]
    }
}

/// An encoded training pair: input planes `[C, n, n]` and target occupancy `[bins, n, n]`.
pub struct Encoded {
    /// Network input (see [`encode`]).
    pub input: Vec<f32>,
    /// Occupancy in {0, 1}, `k = 0` farthest.
    pub target: Vec<f32>,
}

/// Augments and encodes `sample` for an `n`-pixel network with `bins` depth bins (`n` = half the
/// crop side), with landmarks when `guided`.
///
/// # Errors
/// Inconsistent sample sizes.
pub fn make_pair(
    sample: &VrnSample,
    n: usize,
    bins: usize,
    guided: bool,
    aug: &Augment,
    rng: &mut impl Rng,
) -> anyhow::Result<Encoded> {
    let side = sample.size as f32;
    let view = View::random(aug, side, rng);
    let k = side / n as f32;
    let (rgb, front, back, mask) = warp_maps(sample, &view, n, k);
    let rgb = jitter(&rgb, aug.colour, rng);
    let noise = Normal::new(0.0f32, aug.landmark_noise.max(1e-6))?;
    let guide = match &sample.facemesh {
        Some(f) if aug.facemesh > 0.0 && rng.random_bool(aug.facemesh.min(1.0)) => f,
        _ => &sample.landmarks,
    };
    let mut lms = vec![[0.0f32; 2]; 68];
    for (i, p) in guide.iter().enumerate().take(68) {
        let q = view.forward(*p);
        let id = if view.flip { MIRROR_68[i] } else { i };
        lms[id] = [q[0] / k + noise.sample(rng), q[1] / k + noise.sample(rng)];
    }
    let input =
        encode(&rgb, n, guided.then_some(lms.as_slice())).context("sample of inconsistent size")?;
    let target = occupancy(&front, &back, &mask, n, bins)
        .into_iter()
        .map(f32::from)
        .collect();
    Ok(Encoded { input, target })
}

/// Warps the sample's maps into the `n x n` view grid (`k` crop pixels per view pixel): RGB
/// bilinear from the half-size render, depth and mask nearest, depths rescaled to view pixels.
fn warp_maps(
    sample: &VrnSample,
    view: &View,
    n: usize,
    k: f32,
) -> (Vec<u8>, Vec<f32>, Vec<f32>, Vec<u8>) {
    let s = sample.size;
    let h = s / 2;
    let (mut rgb, mut front, mut back, mut mask) = (
        vec![0u8; n * n * 3],
        vec![0f32; n * n],
        vec![0f32; n * n],
        vec![0u8; n * n],
    );
    for r in 0..n {
        for c in 0..n {
            let q = [(c as f32 + 0.5) * k, (r as f32 + 0.5) * k];
            let p = view.inverse(q);
            let o = r * n + c;
            let px = bilinear(&sample.rgb_half, h, [p[0] / 2.0, p[1] / 2.0]);
            rgb[o * 3..o * 3 + 3].copy_from_slice(&px);
            let (x, y) = (p[0].floor() as isize, p[1].floor() as isize);
            if (0..s as isize).contains(&x) && (0..s as isize).contains(&y) {
                let i = y as usize * s + x as usize;
                mask[o] = sample.mask[i];
                front[o] = sample.front[i] * view.s / k;
                back[o] = sample.back[i] * view.s / k;
            }
        }
    }
    (rgb, front, back, mask)
}

/// Bilinear sample of interleaved RGB8 `[h, h, 3]` at continuous `p` (edges replicated).
fn bilinear(img: &[u8], h: usize, p: [f32; 2]) -> [u8; 3] {
    let hi = (h - 1) as f32;
    let x = (p[0] - 0.5).clamp(0.0, hi);
    let y = (p[1] - 0.5).clamp(0.0, hi);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(h - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let mut out = [0u8; 3];
    for (k, o) in out.iter_mut().enumerate() {
        let at = |xx: usize, yy: usize| f32::from(img[(yy * h + xx) * 3 + k]);
        let v = (at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx) * (1.0 - fy)
            + (at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx) * fy;
        let b = v.round().clamp(0.0, 255.0) as u8;
        *o = b;
    }
    out
}

/// Per-channel gain, a bias and a contrast change around the mean; `strength` 0 is a no-op.
fn jitter(rgb: &[u8], strength: f32, rng: &mut impl Rng) -> Vec<u8> {
    if strength <= 0.0 {
        return rgb.to_vec();
    }
    let mut r = |a: f32| rng.random_range(-a..a);
    let gain = [1.0 + r(strength), 1.0 + r(strength), 1.0 + r(strength)];
    let bias = r(strength) * 255.0 * 0.5;
    let contrast = 1.0 + r(strength * 2.0);
    let mean = rgb.iter().map(|&v| f32::from(v)).sum::<f32>() / rgb.len().max(1) as f32;
    rgb.iter()
        .enumerate()
        .map(|(i, &v)| {
            let x = (f32::from(v) * gain[i % 3] - mean) * contrast + mean + bias;
            x.round().clamp(0.0, 255.0) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn view_inverse_undoes_forward() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let aug = Augment {
            flip: 1.0,
            ..Augment::TRAIN
        };
        let v = View::random(&aug, 128.0, &mut rng);
        let p = [31.0, 77.5];
        let q = v.inverse(v.forward(p));
        assert!(
            (q[0] - p[0]).abs() < 1e-3 && (q[1] - p[1]).abs() < 1e-3,
            "{q:?}"
        );
    }

    #[test]
    fn facemesh_landmarks_guide_when_drawn() {
        // A 32 px crop (16 px input) whose true landmarks sit at (8, 8) and FaceMesh's at
        // (24, 24): the first heatmap peaks where the chosen set puts it.
        let s = VrnSample {
            rgb_half: vec![100; 16 * 16 * 3],
            front: vec![1.0; 32 * 32],
            back: vec![-1.0; 32 * 32],
            mask: vec![1; 32 * 32],
            landmarks: vec![[8.0, 8.0]; 68],
            facemesh: Some(vec![[24.0, 24.0]; 68]),
            size: 32,
        };
        let peak = |facemesh: f64| {
            let aug = Augment {
                facemesh,
                ..Augment::NONE
            };
            let mut rng = rand::rngs::StdRng::seed_from_u64(5);
            let e = make_pair(&s, 16, 4, true, &aug, &mut rng).unwrap();
            let plane = &e.input[3 * 256..4 * 256];
            let best = (0..256)
                .max_by(|&a, &b| plane[a].total_cmp(&plane[b]))
                .unwrap();
            (best % 16, best / 16)
        };
        // Input pixels are half the crop's: (8, 8) -> pixel 3 or 4, (24, 24) -> 11 or 12.
        let truth = peak(0.0);
        let facemesh = peak(1.0);
        assert!(
            (3..=4).contains(&truth.0) && (3..=4).contains(&truth.1),
            "{truth:?}"
        );
        assert!(
            (11..=12).contains(&facemesh.0) && (11..=12).contains(&facemesh.1),
            "{facemesh:?}"
        );
    }

    #[test]
    fn identity_view_keeps_a_slab_volume() {
        // A 4 px crop whose every pixel spans z in [-1, 1]: a centred slab.
        let s = VrnSample {
            rgb_half: vec![100; 2 * 2 * 3],
            front: vec![1.0; 16],
            back: vec![-1.0; 16],
            mask: vec![1; 16],
            landmarks: vec![[2.0, 2.0]; 68],
            facemesh: None,
            size: 4,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let e = make_pair(&s, 2, 4, true, &Augment::NONE, &mut rng).unwrap();
        assert_eq!(e.input.len(), 71 * 4);
        // View depth in [-0.5, 0.5] of a 2 px grid with 4 bins of 0.5: the middle two bins.
        let column: Vec<f32> = (0..4).map(|b| e.target[b * 4]).collect();
        assert_eq!(column, vec![0.0, 1.0, 1.0, 0.0]);
    }
}
