//! DCE images: a depth map as three channels, depth, mean curvature and elevation of the normal,
//! as Galteri et al. (CVIU 2019, "Deep 3D morphable model refinement via progressive growing of
//! conditional Generative Adversarial Networks") feed their refiner.
//!
//! The same function encodes the coarse fit and the ground truth, so the refiner
//! ([`crate::nn::refiner`]) sees both in one convention. Input: a square depth map in the crop
//! frame of [`crate::pipeline::mesh`] (z in crop pixels, larger = closer), its mask, and the
//! grid spacing in crop pixels (2 for a 64 px map of a 128 px crop). Per masked pixel:
//!
//! - channel 0, depth: `(z - centre) / DEPTH_SCALE`, `centre` usually the mean of z over the mask
//!   ([`mask_mean`]);
//! - channel 1, mean curvature: `-H * CURVATURE_SCALE`, clamped to [-1, 1], where `H` (per crop
//!   pixel) is the mean curvature of the surface `z = f(x, y)` for its camera-facing normal; the
//!   sign makes a bump towards the camera positive (a sphere of radius R gives `1 / R`);
//! - channel 2, elevation: the angle between the surface normal and the view axis, divided by
//!   90 degrees (0 = facing the camera, 1 = grazing).
//!
//! Derivatives are finite differences over masked neighbours only: central where both
//! neighbours are in the mask, one-sided where one is; second derivatives (and so curvature) are
//! zero where a neighbour they need is missing. Pixels outside the mask are 0 in every channel.

/// Crop pixels of depth per unit of the depth channel.
pub const DEPTH_SCALE: f32 = 32.0;
/// Crop pixels per unit of curvature: a sphere of this radius has curvature channel 1.
pub const CURVATURE_SCALE: f32 = 8.0;

/// A three-channel DCE image, channels-first.
#[derive(Clone, Debug, PartialEq)]
pub struct Dce {
    /// Side of the square maps, pixels.
    pub side: usize,
    /// `[3, side, side]`: depth, curvature, elevation (see the module docs).
    pub data: Vec<f32>,
    /// The depth subtracted before scaling (crop pixels).
    pub centre: f32,
}

impl Dce {
    /// Channel `c` (0 depth, 1 curvature, 2 elevation), row-major `side x side`.
    #[must_use]
    pub fn channel(&self, c: usize) -> &[f32] {
        let n = self.side * self.side;
        &self.data[c * n..(c + 1) * n]
    }

    /// Depth in crop pixels back from a depth channel `d` of this image's convention.
    #[must_use]
    pub fn depth_from_channel(d: f32, centre: f32) -> f32 {
        d * DEPTH_SCALE + centre
    }
}

/// Mean of `depth` over `mask` (0 for an empty mask).
#[must_use]
pub fn mask_mean(depth: &[f32], mask: &[bool]) -> f32 {
    let (sum, n) = depth
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m)
        .fold((0.0f64, 0usize), |(s, n), (d, _)| {
            (s + f64::from(*d), n + 1)
        });
    if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
}

/// First and second derivatives of one pixel along one axis: `(f', f'')`, using only neighbours
/// in the mask (`None` = missing); `f''` needs both neighbours.
fn axis_derivatives(prev: Option<f32>, here: f32, next: Option<f32>, h: f32) -> (f32, Option<f32>) {
    match (prev, next) {
        (Some(a), Some(b)) => ((b - a) / (2.0 * h), Some((b - 2.0 * here + a) / (h * h))),
        (None, Some(b)) => ((b - here) / h, None),
        (Some(a), None) => ((here - a) / h, None),
        (None, None) => (0.0, None),
    }
}

/// The DCE image of `depth` (crop pixels, `side x side`, row-major) on `mask`, with grid
/// `spacing` crop pixels per pixel and the depth channel centred on `centre`.
///
/// # Panics
/// Never for consistent input; `depth` and `mask` shorter than `side * side` are an error of
/// the caller and panic on indexing.
#[must_use]
pub fn dce(depth: &[f32], mask: &[bool], side: usize, spacing: f32, centre: f32) -> Dce {
    let n = side * side;
    let mut data = vec![0.0f32; 3 * n];
    let at = |r: usize, c: usize| {
        let i = r * side + c;
        mask[i].then(|| depth[i])
    };
    let h = spacing.max(1e-6);
    for r in 0..side {
        for c in 0..side {
            let i = r * side + c;
            if !mask[i] {
                continue;
            }
            let z = depth[i];
            let left = c.checked_sub(1).and_then(|cc| at(r, cc));
            let right = (c + 1 < side).then(|| at(r, c + 1)).flatten();
            let up = r.checked_sub(1).and_then(|rr| at(rr, c));
            let down = (r + 1 < side).then(|| at(r + 1, c)).flatten();
            let (fx, fxx) = axis_derivatives(left, z, right, h);
            // Rows go down, so this is -df/dy; H and the elevation do not depend on that sign.
            let (fy, fyy) = axis_derivatives(up, z, down, h);
            let diagonal = match (r.checked_sub(1), c.checked_sub(1)) {
                (Some(ru), Some(cl)) if r + 1 < side && c + 1 < side => {
                    match (at(ru, cl), at(ru, c + 1), at(r + 1, cl), at(r + 1, c + 1)) {
                        (Some(a), Some(b), Some(d), Some(e)) => {
                            Some((e - d - b + a) / (4.0 * h * h))
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            let g2 = fx * fx + fy * fy;
            let w = (1.0 + g2).sqrt();
            let curvature = match (fxx, fyy, diagonal) {
                (Some(fxx), Some(fyy), Some(fxy)) => {
                    let h_mean = ((1.0 + fy * fy) * fxx - 2.0 * fx * fy * fxy
                        + (1.0 + fx * fx) * fyy)
                        / (2.0 * w * w * w);
                    (-h_mean * CURVATURE_SCALE).clamp(-1.0, 1.0)
                }
                _ => 0.0,
            };
            data[i] = (z - centre) / DEPTH_SCALE;
            data[n + i] = curvature;
            data[2 * n + i] = g2.sqrt().atan() / std::f32::consts::FRAC_PI_2;
        }
    }
    Dce { side, data, centre }
}

/// Block mean of a masked map: `side x side` to `out x out` (`side` a multiple of `out`). An
/// output pixel is in the mask when at least half of its block is; its value is the mean of the
/// block's masked pixels (0 outside the mask).
#[must_use]
pub fn downsample_masked(
    values: &[f32],
    mask: &[bool],
    side: usize,
    out: usize,
) -> (Vec<f32>, Vec<bool>) {
    let k = (side / out.max(1)).max(1);
    let mut v = vec![0.0f32; out * out];
    let mut m = vec![false; out * out];
    for r in 0..out {
        for c in 0..out {
            let (mut sum, mut n) = (0.0, 0usize);
            for dr in 0..k {
                for dc in 0..k {
                    let i = (r * k + dr) * side + c * k + dc;
                    if mask.get(i).copied().unwrap_or(false) {
                        sum += values[i];
                        n += 1;
                    }
                }
            }
            if n > 0 && 2 * n >= k * k {
                v[r * out + c] = sum / n as f32;
                m[r * out + c] = true;
            }
        }
    }
    (v, m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surface(side: usize, f: impl Fn(f32, f32) -> Option<f32>) -> (Vec<f32>, Vec<bool>) {
        let mut depth = vec![0.0; side * side];
        let mut mask = vec![false; side * side];
        for r in 0..side {
            for c in 0..side {
                if let Some(z) = f(c as f32, r as f32) {
                    depth[r * side + c] = z;
                    mask[r * side + c] = true;
                }
            }
        }
        (depth, mask)
    }

    #[test]
    fn plane_has_no_curvature_and_constant_elevation() {
        // z = 0.5 x - 0.25 y + 3 on a disc: slope |grad| = sqrt(0.3125), elevation atan of it.
        let (depth, mask) = surface(32, |x, y| {
            ((x - 16.0).powi(2) + (y - 16.0).powi(2) < 144.0).then_some(0.5 * x - 0.25 * y + 3.0)
        });
        let centre = mask_mean(&depth, &mask);
        let img = dce(&depth, &mask, 32, 1.0, centre);
        let expected = 0.3125f32.sqrt().atan() / std::f32::consts::FRAC_PI_2;
        for i in (0..32 * 32).filter(|&i| mask[i]) {
            assert!(img.channel(1)[i].abs() < 1e-5, "curvature at {i}");
            assert!(
                (img.channel(2)[i] - expected).abs() < 1e-5,
                "elevation at {i}"
            );
            let back = Dce::depth_from_channel(img.channel(0)[i], img.centre);
            assert!((back - depth[i]).abs() < 1e-4);
        }
        // Outside the mask every channel is 0.
        assert!((0..3).all(|c| img.channel(c)[0] == 0.0));
        // Centred: the depth channel averages to 0 over the mask.
        assert!(mask_mean(img.channel(0), &mask).abs() < 1e-5);
    }

    #[test]
    fn sphere_has_curvature_one_over_radius() {
        // A sphere of radius R = 40 crop pixels bulging towards the camera, sampled every 2 crop
        // pixels; near the apex the elevation is small and the curvature channel is
        // CURVATURE_SCALE / R = 0.2, far from the apex the elevation angle is asin(r / R).
        let (side, spacing, radius) = (64usize, 2.0f32, 40.0f32);
        let (depth, mask) = surface(side, |x, y| {
            let (dx, dy) = ((x - 32.0) * spacing, (y - 32.0) * spacing);
            let r2 = dx * dx + dy * dy;
            (r2 < (0.8 * radius).powi(2)).then(|| (radius * radius - r2).sqrt())
        });
        let img = dce(&depth, &mask, side, spacing, mask_mean(&depth, &mask));
        let apex = 32 * side + 32;
        let want = CURVATURE_SCALE / radius;
        assert!(img.channel(2)[apex] < 1e-6);
        let mut worst = 0.0f32;
        for r in 22..43 {
            for c in 22..43 {
                let i = r * side + c;
                worst = worst.max((img.channel(1)[i] - want).abs() / want);
                let (dx, dy) = ((c as f32 - 32.0) * spacing, (r as f32 - 32.0) * spacing);
                let angle = ((dx * dx + dy * dy).sqrt() / radius).asin();
                let got = img.channel(2)[i] * std::f32::consts::FRAC_PI_2;
                assert!(
                    (got - angle).abs() < 0.02,
                    "elevation {got} vs {angle} at {r},{c}"
                );
            }
        }
        assert!(worst < 0.03, "relative curvature error {worst}");
        // A dent (the sphere seen from inside) flips the sign.
        let inverted: Vec<f32> = depth.iter().map(|z| -z).collect();
        let dent = dce(&inverted, &mask, side, spacing, 0.0);
        assert!((dent.channel(1)[apex] + want).abs() < 0.03 * want);
    }

    #[test]
    fn downsampling_keeps_majority_blocks() {
        // 4x4 -> 2x2: top-left block full (mean 2.5), top-right 1 of 4 masked (out), bottom-left
        // 2 of 4 (in, mean of those two), bottom-right empty.
        let values: Vec<f32> = (0..16).map(|i| i as f32).collect();
        let mut mask = vec![false; 16];
        for i in [0, 1, 4, 5, 2, 8, 12] {
            mask[i] = true;
        }
        let (v, m) = downsample_masked(&values, &mask, 4, 2);
        assert_eq!(m, vec![true, false, true, false]);
        assert!((v[0] - 2.5).abs() < 1e-6 && (v[2] - 10.0).abs() < 1e-6);
        assert_eq!(v[1], 0.0);
    }
}
