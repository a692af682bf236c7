//! VRN's face pulled towards the morphable-model fit (issue 21's "lean on what is robust on real
//! photos").
//!
//! On real photos VRN's volume follows texture and lighting; the fit of the dense morphable model
//! to FaceMesh's landmarks does not. Inside the fit's coverage each column of VRN's volume (one
//! network pixel, all depth bins) is shifted along z so that its front surface moves a fraction
//! [`PriorOptions::weight`] of the way to the fit's front surface: the face takes the fit's
//! shape to that degree, the rest of the head (scalp, back, neck) stays VRN's. The shift fades in
//! over [`PriorOptions::feather`] network pixels from the edge of the fit's coverage so no step
//! appears there.
//!
//! Depth has no absolute offset in a single photo, so the fit's depth is first moved by the median
//! difference between VRN's front and the fit's over the columns where both have one.
//!
//! Units: columns and bins of the `[bins][n][n]` volume of [`super::vrn::VrnModel::volume`]; the
//! fit's crop-frame z (crop pixels, larger = closer) maps to bin `(z + S/2) / (S / bins) - 0.5`
//! for an `S`-pixel crop, as in [`crate::synth::volume`].

use crate::pipeline::mesh::from_volume::Volume;

/// How strongly the fit guides the volume.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PriorOptions {
    /// Fraction of the way from VRN's front surface to the fit's, 0 (VRN alone) to 1 (the fit's
    /// shape inside its coverage).
    pub weight: f32,
    /// Width of the fade-in from the coverage edge, network pixels.
    pub feather: f32,
    /// Largest shift of a column, bins (a guard against a wrong fit).
    pub max_shift: f32,
}

impl Default for PriorOptions {
    fn default() -> Self {
        Self {
            weight: 0.5,
            feather: 3.0,
            max_shift: 4.0,
        }
    }
}

/// The fit's front surface at the network's resolution: depth in bins, `NaN` outside the
/// coverage, `n x n` row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct FrontPrior {
    /// Side `n` of the network grid.
    pub n: usize,
    /// Front depth in bin units (`NaN`: not covered).
    pub bins_z: Vec<f32>,
}

impl FrontPrior {
    /// The prior of a crop-frame depth map `depth` (`side x side`, crop pixels, larger = closer)
    /// covered where `mask`, for a volume of `n x n` columns and `bins` bins spanning the crop.
    /// A network pixel is covered when every crop pixel under it is.
    #[must_use]
    pub fn from_depth(depth: &[f32], mask: &[bool], side: usize, n: usize, bins: usize) -> Self {
        let k = side / n;
        let dz = side as f32 / bins as f32;
        let z0 = -(side as f32) / 2.0;
        let mut bins_z = vec![f32::NAN; n * n];
        for (i, out) in bins_z.iter_mut().enumerate() {
            let (r, c) = (i / n, i % n);
            let cells = (0..k * k).map(|j| (r * k + j / k) * side + c * k + j % k);
            let mut sum = 0.0;
            let mut all = true;
            for p in cells {
                all &= mask[p];
                sum += depth[p];
            }
            if all {
                *out = (sum / (k * k) as f32 - z0) / dz - 0.5;
            }
        }
        Self { n, bins_z }
    }

    /// Distance (network pixels, 4-connected steps) from each covered column to the nearest
    /// uncovered one or the border.
    fn inner_distance(&self) -> Vec<f32> {
        let n = self.n;
        let big = (2 * n) as f32;
        let mut d: Vec<f32> = self
            .bins_z
            .iter()
            .map(|z| if z.is_nan() { 0.0 } else { big })
            .collect();
        let at = |d: &[f32], r: isize, c: isize| {
            if r < 0 || c < 0 || r >= n as isize || c >= n as isize {
                0.0
            } else {
                d[r as usize * n + c as usize]
            }
        };
        // Two chamfer passes (forward, backward) of the 4-neighbour distance.
        for i in 0..n * n {
            let (r, c) = ((i / n) as isize, (i % n) as isize);
            let v = d[i].min(at(&d, r - 1, c) + 1.0).min(at(&d, r, c - 1) + 1.0);
            d[i] = v;
        }
        for i in (0..n * n).rev() {
            let (r, c) = ((i / n) as isize, (i % n) as isize);
            let v = d[i].min(at(&d, r + 1, c) + 1.0).min(at(&d, r, c + 1) + 1.0);
            d[i] = v;
        }
        d
    }
}

/// The front surface of one column of occupancy values `column[k]` (`k = 0` farthest): the
/// nearest level crossing of `iso` coming from the camera, in bins, linearly interpolated; `None`
/// when nothing reaches `iso`.
fn column_front(column: &[f32], iso: f32) -> Option<f32> {
    let top = column.len() - 1;
    let k = (0..=top).rev().find(|&k| column[k] >= iso)?;
    if k == top {
        return Some(top as f32);
    }
    let (inside, outside) = (column[k], column[k + 1]);
    Some(k as f32 + (inside - iso) / (inside - outside).max(1e-6))
}

/// `column` moved by `shift` bins towards the camera (positive) or away, linearly resampled;
/// beyond the near end it is empty, beyond the far end it repeats the farthest value.
fn shifted(column: &[f32], shift: f32) -> Vec<f32> {
    let top = column.len() - 1;
    (0..column.len())
        .map(|k| {
            let src = k as f32 - shift;
            if src > top as f32 {
                0.0
            } else if src <= 0.0 {
                column[0]
            } else {
                let lo = src.floor() as usize;
                let t = src - lo as f32;
                let hi = (lo + 1).min(top);
                column[lo] * (1.0 - t) + column[hi] * t
            }
        })
        .collect()
}

/// Pulls `volume` (dims `[n, n, bins]`, values `[bins][n][n]`) towards `prior` as the module
/// docs describe; `iso` is the level whose surface is moved. Returns the number of columns moved.
#[must_use]
pub fn pull_towards(
    volume: &mut Volume,
    prior: &FrontPrior,
    iso: f32,
    opts: &PriorOptions,
) -> usize {
    let [n, ny, bins] = volume.dims;
    if n != prior.n || ny != n || opts.weight <= 0.0 {
        return 0;
    }
    let plane = n * n;
    let column =
        |data: &[f32], i: usize| -> Vec<f32> { (0..bins).map(|k| data[k * plane + i]).collect() };
    let fronts: Vec<Option<f32>> = (0..plane)
        .map(|i| column_front(&column(&volume.data, i), iso))
        .collect();
    let mut gaps: Vec<f32> = fronts
        .iter()
        .zip(&prior.bins_z)
        .filter_map(|(f, z)| f.filter(|_| !z.is_nan()).map(|f| f - z))
        .collect();
    if gaps.is_empty() {
        return 0;
    }
    gaps.sort_by(f32::total_cmp);
    let offset = gaps[gaps.len() / 2];
    let fade = prior.inner_distance();
    let mut moved = 0;
    for i in 0..plane {
        let (Some(front), z) = (fronts[i], prior.bins_z[i]) else {
            continue;
        };
        if z.is_nan() {
            continue;
        }
        let w = opts.weight * ((fade[i] - 0.5) / opts.feather.max(1e-3)).clamp(0.0, 1.0);
        let shift = (w * (z + offset - front)).clamp(-opts.max_shift, opts.max_shift);
        if shift.abs() < 1e-4 {
            continue;
        }
        for (k, v) in shifted(&column(&volume.data, i), shift)
            .into_iter()
            .enumerate()
        {
            volume.data[k * plane + i] = v;
        }
        moved += 1;
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_is_found_between_bins() {
        // Occupied up to bin 2 (1.0), half at bin 3 (0.2 < 0.4): front between 2 and 3.
        let col = [1.0, 1.0, 1.0, 0.2, 0.0];
        let f = column_front(&col, 0.4).unwrap();
        assert!((f - (2.0 + 0.6 / 0.8)).abs() < 1e-5, "{f}");
        assert_eq!(column_front(&[0.1, 0.0], 0.4), None);
    }

    #[test]
    fn a_shift_moves_the_front_by_that_much() {
        let col = [1.0, 1.0, 1.0, 0.2, 0.0, 0.0, 0.0];
        let before = column_front(&col, 0.4).unwrap();
        let after = column_front(&shifted(&col, 1.5), 0.4).unwrap();
        assert!((after - before - 1.5).abs() < 0.2, "{before} -> {after}");
        let back = column_front(&shifted(&col, -1.0), 0.4).unwrap();
        assert!((before - back - 1.0).abs() < 1e-4, "{before} -> {back}");
    }

    /// A volume whose every column is filled up to `front[i]` (bins, sharp edge at iso 0.5).
    fn slab(n: usize, bins: usize, front: &[f32]) -> Volume {
        let mut data = vec![0.0; bins * n * n];
        for (i, f) in front.iter().enumerate() {
            for k in 0..bins {
                data[k * n * n + i] = (f + 0.5 - k as f32).clamp(0.0, 1.0);
            }
        }
        Volume::new([n, n, bins], data).unwrap()
    }

    #[test]
    fn the_face_moves_halfway_to_the_fit_and_the_rest_stays() {
        // VRN's front is flat at bin 8; the fit covers the middle 6 x 6 columns with a bump of 2
        // bins over a flat part at (offset) 5 bins: after alignment only the bump is a difference.
        let (n, bins) = (12, 16);
        let vrn = vec![8.0; n * n];
        let mut volume = slab(n, bins, &vrn);
        let mut prior = FrontPrior {
            n,
            bins_z: vec![f32::NAN; n * n],
        };
        for r in 3..9 {
            for c in 3..9 {
                let bump = if (5..7).contains(&r) && (5..7).contains(&c) {
                    2.0
                } else {
                    0.0
                };
                prior.bins_z[r * n + c] = 5.0 + bump;
            }
        }
        let opts = PriorOptions {
            weight: 0.5,
            feather: 1.0,
            max_shift: 4.0,
        };
        let moved = pull_towards(&mut volume, &prior, 0.5, &opts);
        assert!(moved >= 4, "{moved}");
        let front = |i: usize| {
            let col: Vec<f32> = (0..bins).map(|k| volume.data[k * n * n + i]).collect();
            column_front(&col, 0.5).unwrap()
        };
        // The bump's columns come forward by half of 2 bins; flat fit columns and uncovered
        // ones stay.
        assert!((front(5 * n + 5) - 9.0).abs() < 0.1, "{}", front(5 * n + 5));
        assert!((front(4 * n + 4) - 8.0).abs() < 0.1, "{}", front(4 * n + 4));
        assert!((front(0) - 8.0).abs() < 1e-4, "{}", front(0));
    }

    #[test]
    fn the_prior_takes_whole_covered_cells() {
        // A 4 px crop, 2 x 2 network, 4 bins of 1 px: z = 0.5 -> bin (0.5 + 2) / 1 - 0.5 = 2.
        let depth = vec![0.5; 16];
        let mut mask = vec![true; 16];
        mask[15] = false;
        let p = FrontPrior::from_depth(&depth, &mask, 4, 2, 4);
        assert!((p.bins_z[0] - 2.0).abs() < 1e-6);
        assert!(p.bins_z[3].is_nan(), "the cell with an uncovered pixel");
    }
}
