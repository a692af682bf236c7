//! The morphable-model fit as a prior for the learned methods (issues 21 and 22: "lean on what is
//! robust on real photos").
//!
//! On real photos the networks of `vrn` and `pix2pix` follow texture and lighting; the fit of the
//! dense morphable model to FaceMesh's 468 landmarks does not. Both methods move their own front
//! surface a fraction [`PriorOptions::weight`] of the way to the fit's inside the fit's coverage,
//! fading in over [`PriorOptions::feather`] grid cells from its edge so that no step appears
//! there; everything outside the coverage (scalp, neck, the back of the head) stays the
//! network's. Depth has no absolute offset in a single photo, so the fit's depth is first moved by
//! the median gap between the two surfaces where both exist ([`median_gap`]).
//!
//! This module holds what both share: the fit's front surface on a method's grid ([`FitFront`])
//! and the per-cell weights; [`super::vrn_prior`] and
//! [`super::pix2pix_model::DepthPrediction::pulled_towards`] apply them.

use super::FaceCrop;
use super::morphable::depth::rasterise;
use super::morphable::fit::{FitOptions, fit};
use super::morphable::{MorphableError, MorphableModel};

/// How strongly the fit guides a method's surface.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PriorOptions {
    /// Fraction of the way from the network's surface to the fit's, 0 (the network alone) to 1
    /// (the fit's shape inside its coverage).
    pub weight: f32,
    /// Width of the fade-in from the coverage edge, grid cells.
    pub feather: f32,
    /// Largest move of one cell, crop pixels (a guard against a wrong fit).
    pub max_shift: f32,
}

impl Default for PriorOptions {
    fn default() -> Self {
        Self {
            weight: 0.5,
            feather: 3.0,
            max_shift: 16.0,
        }
    }
}

impl PriorOptions {
    /// The default options at `weight` (0: no prior).
    #[must_use]
    pub fn at(weight: f32) -> Option<Self> {
        (weight > 0.0).then(|| Self {
            weight,
            ..Self::default()
        })
    }
}

/// The fit's front surface on an `n x n` grid over the crop: crop-frame z (crop pixels, larger =
/// closer, uncentred), `NaN` where the fit does not cover the whole cell; row-major, rows going
/// down.
#[derive(Clone, Debug, PartialEq)]
pub struct FitFront {
    /// Side `n` of the grid.
    pub n: usize,
    /// Front z per cell, `NaN` outside the coverage.
    pub z: Vec<f32>,
}

impl FitFront {
    /// The fit of `model` to the face's 468 landmarks, rasterised on an `n`-cell grid over its
    /// crop.
    ///
    /// # Errors
    /// A failed fit.
    pub fn of_face(
        model: &MorphableModel,
        face: &FaceCrop,
        n: usize,
    ) -> Result<Self, MorphableError> {
        let fitted = fit(model, &face.points_crop_frame(), &FitOptions::default())?;
        let side = face.crop.image.width() as usize;
        let (depth, mask) = rasterise(&fitted.vertices(model), &model.triangles, side);
        Ok(Self::from_depth(&depth, &mask, side, n))
    }

    /// The front of a `side x side` crop-frame depth map covered where `mask`, on `n` cells
    /// (`side` a multiple of `n`): a cell is covered when every pixel under it is; its z is their
    /// mean.
    #[must_use]
    pub fn from_depth(depth: &[f32], mask: &[bool], side: usize, n: usize) -> Self {
        let k = side / n;
        let z = (0..n * n)
            .map(|i| {
                let (r, c) = (i / n, i % n);
                let cells = (0..k * k).map(|j| (r * k + j / k) * side + c * k + j % k);
                let mut sum = 0.0;
                for p in cells {
                    if !mask[p] {
                        return f32::NAN;
                    }
                    sum += depth[p];
                }
                sum / (k * k) as f32
            })
            .collect();
        Self { n, z }
    }

    /// The weight of the fit at each cell: `opts.weight` inside the coverage, fading to 0 over
    /// `opts.feather` cells towards its edge (4-connected steps to the nearest uncovered cell or
    /// the border), 0 outside.
    #[must_use]
    pub fn weights(&self, opts: &PriorOptions) -> Vec<f32> {
        let n = self.n;
        let mut d: Vec<f32> = (self.z.iter())
            .map(|z| if z.is_nan() { 0.0 } else { (2 * n) as f32 })
            .collect();
        let at = |d: &[f32], r: isize, c: isize| {
            let inside = (0..n as isize).contains(&r) && (0..n as isize).contains(&c);
            if inside {
                d[r as usize * n + c as usize]
            } else {
                0.0
            }
        };
        // Two chamfer passes (forward, backward) of the 4-neighbour distance.
        for i in 0..n * n {
            let (r, c) = ((i / n) as isize, (i % n) as isize);
            d[i] = d[i].min(at(&d, r - 1, c) + 1.0).min(at(&d, r, c - 1) + 1.0);
        }
        for i in (0..n * n).rev() {
            let (r, c) = ((i / n) as isize, (i % n) as isize);
            d[i] = d[i].min(at(&d, r + 1, c) + 1.0).min(at(&d, r, c + 1) + 1.0);
        }
        d.iter()
            .map(|&v| opts.weight * ((v - 0.5) / opts.feather.max(1e-3)).clamp(0.0, 1.0))
            .collect()
    }
}

/// The median of `gaps` (the method's surface minus the fit's where both exist), `None` when
/// there are none.
#[must_use]
pub fn median_gap(gaps: impl Iterator<Item = f32>) -> Option<f32> {
    let mut g: Vec<f32> = gaps.filter(|v| v.is_finite()).collect();
    if g.is_empty() {
        return None;
    }
    g.sort_by(f32::total_cmp);
    Some(g[g.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_takes_whole_covered_cells() {
        // A 4 px crop on 2 x 2 cells: the cell with an uncovered pixel is not covered.
        let depth: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let mut mask = vec![true; 16];
        mask[15] = false;
        let f = FitFront::from_depth(&depth, &mask, 4, 2);
        assert!((f.z[0] - (0.0 + 1.0 + 4.0 + 5.0) / 4.0).abs() < 1e-6);
        assert!(f.z[3].is_nan());
    }

    #[test]
    fn weights_fade_in_from_the_coverage_edge() {
        // A covered 7 x 7 block in a 9 x 9 grid: the edge ring gets a sixth of the weight with a
        // feather of 3, the centre (4 steps in) all of it, the uncovered ring none.
        let n = 9;
        let z = (0..n * n)
            .map(|i| {
                let (r, c) = (i / n, i % n);
                if (1..8).contains(&r) && (1..8).contains(&c) {
                    1.0
                } else {
                    f32::NAN
                }
            })
            .collect();
        let w = FitFront { n, z }.weights(&PriorOptions::default());
        assert_eq!(w[0], 0.0);
        assert!((w[n + 1] - 0.5 / 6.0).abs() < 1e-6, "{}", w[n + 1]);
        assert!((w[4 * n + 4] - 0.5).abs() < 1e-6, "{}", w[4 * n + 4]);
    }

    #[test]
    fn the_median_gap_skips_non_finite_values() {
        let g = median_gap([3.0, f32::NAN, 1.0, 2.0].into_iter());
        assert_eq!(g, Some(2.0));
        assert_eq!(median_gap(std::iter::empty()), None);
    }
}
