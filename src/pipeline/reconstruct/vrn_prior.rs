//! VRN's face pulled towards the morphable-model fit ([`super::fit_prior`]).
//!
//! Each column of VRN's volume (one network pixel, all depth bins) inside the fit's coverage is
//! shifted along z, by linear resampling, so that its front surface (the level crossing of the
//! isosurface value nearest the camera) moves the prior's weight of the way to the fit's front:
//! the face takes the fit's shape to that degree, and the volume keeps its own thickness and the
//! back of the head.
//!
//! Units: columns and bins of the `[bins][n][n]` volume of [`super::vrn::VrnModel::volume`]; the
//! crop spans `S` pixels in x, y and z (`[-S/2, S/2]`), so a bin is `S / bins` crop pixels and
//! crop-frame z maps to bin `(z + S/2) / (S / bins) - 0.5`, as in [`crate::synth::volume`].

use super::fit_prior::{FitFront, PriorOptions, median_gap};
use crate::pipeline::mesh::from_volume::Volume;

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

/// Pulls `volume` (dims `[n, n, bins]`, values `[bins][n][n]`, spanning a `crop_side` crop)
/// towards the fit's front `fit` (on the same `n` grid) as the module docs describe; `iso` is
/// the level whose surface is moved. Returns the number of columns moved.
#[must_use]
pub fn pull_towards(
    volume: &mut Volume,
    fit: &FitFront,
    crop_side: usize,
    iso: f32,
    opts: &PriorOptions,
) -> usize {
    let [n, ny, bins] = volume.dims;
    if n != fit.n || ny != n || opts.weight <= 0.0 {
        return 0;
    }
    let dz = crop_side as f32 / bins as f32;
    let to_bins = |z: f32| (z + crop_side as f32 / 2.0) / dz - 0.5;
    let plane = n * n;
    let column =
        |data: &[f32], i: usize| -> Vec<f32> { (0..bins).map(|k| data[k * plane + i]).collect() };
    let fronts: Vec<Option<f32>> = (0..plane)
        .map(|i| column_front(&column(&volume.data, i), iso))
        .collect();
    let gaps = (fronts.iter().zip(&fit.z)).filter_map(|(f, &z)| f.map(|f| f - to_bins(z)));
    let Some(offset) = median_gap(gaps) else {
        return 0;
    };
    let weights = fit.weights(opts);
    let limit = opts.max_shift / dz;
    let mut moved = 0;
    for i in 0..plane {
        let (Some(front), z) = (fronts[i], fit.z[i]) else {
            continue;
        };
        let shift = weights[i] * (to_bins(z) + offset - front);
        if !shift.is_finite() || shift.abs() < 1e-4 {
            continue;
        }
        let moved_column = shifted(&column(&volume.data, i), shift.clamp(-limit, limit));
        for (k, v) in moved_column.into_iter().enumerate() {
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
        // Occupied up to bin 2 (1.0), 0.2 at bin 3 (< 0.4): the front between 2 and 3.
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
        // A 16 px crop, 16 bins of 1 px: VRN's front is flat at bin 8; the fit covers the middle
        // 6 x 6 columns with a 2-bin bump over a flat part 3 bins behind: after the median
        // offset only the bump differs.
        let (n, bins) = (12, 16);
        let mut volume = slab(n, bins, &vec![8.0; n * n]);
        let bin_z = |b: f32| b + 0.5 - 8.0;
        let mut fit = FitFront {
            n,
            z: vec![f32::NAN; n * n],
        };
        for r in 3..9 {
            for c in 3..9 {
                let bump = (5..7).contains(&r) && (5..7).contains(&c);
                fit.z[r * n + c] = bin_z(if bump { 7.0 } else { 5.0 });
            }
        }
        let opts = PriorOptions {
            weight: 0.5,
            feather: 1.0,
            max_shift: 4.0,
        };
        let moved = pull_towards(&mut volume, &fit, 16, 0.5, &opts);
        assert!(moved >= 4, "{moved}");
        let front = |i: usize| {
            let col: Vec<f32> = (0..bins).map(|k| volume.data[k * n * n + i]).collect();
            column_front(&col, 0.5).unwrap()
        };
        // The bump comes forward by half of its 2 bins; flat and uncovered columns stay.
        assert!((front(5 * n + 5) - 9.0).abs() < 0.1, "{}", front(5 * n + 5));
        assert!((front(4 * n + 4) - 8.0).abs() < 0.1, "{}", front(4 * n + 4));
        assert!((front(0) - 8.0).abs() < 1e-4, "{}", front(0));
    }
}
