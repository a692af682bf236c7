//! What the VRN sees: an RGB face crop plus (for the guided variant) one Gaussian heatmap per
//! 68-point landmark, packed as the `[C, S, S]` planes of [`crate::nn::vrn`]. Training (synthetic
//! `landmarks_2d`) and inference (FaceMesh's 68-point subset mapped into the crop) both build
//! their inputs here, so they cannot drift apart.

use crate::nn::vrn::LANDMARKS;

/// Heatmap standard deviation in pixels of a 64 px input (scaled with the input side).
pub const SIGMA_AT_64: f32 = 1.5;

/// The 68-point id that a landmark becomes when the face is mirrored left-right (300-W order:
/// jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, lips 48-67).
pub const MIRROR_68: [usize; 68] = {
    let mut m = [0usize; 68];
    let mut i = 0;
    while i < 68 {
        m[i] = i;
        i += 1;
    }
    let pairs: [(usize, usize); 29] = [
        (0, 16),
        (1, 15),
        (2, 14),
        (3, 13),
        (4, 12),
        (5, 11),
        (6, 10),
        (7, 9),
        (17, 26),
        (18, 25),
        (19, 24),
        (20, 23),
        (21, 22),
        (31, 35),
        (32, 34),
        (36, 45),
        (37, 44),
        (38, 43),
        (39, 42),
        (40, 47),
        (41, 46),
        (48, 54),
        (49, 53),
        (50, 52),
        (55, 59),
        (56, 58),
        (60, 64),
        (61, 63),
        (65, 67),
    ];
    let mut k = 0;
    while k < pairs.len() {
        let (a, b) = pairs[k];
        m[a] = b;
        m[b] = a;
        k += 1;
    }
    m
};

/// Appends `size x size` Gaussian heatmaps (peak 1) of `points` (pixel coordinates of this
/// `size`-pixel input, continuous: pixel `(c, r)` has its centre at `(c + 0.5, r + 0.5)`) to
/// `out`, one plane per point in order. Points outside the image give (nearly) empty planes.
pub fn push_heatmaps(out: &mut Vec<f32>, points: &[[f32; 2]], size: usize) {
    let sigma = SIGMA_AT_64 * size as f32 / 64.0;
    let inv = -0.5 / (sigma * sigma);
    let reach = 3.0 * sigma;
    for p in points {
        let start = out.len();
        out.resize(start + size * size, 0.0);
        let plane = &mut out[start..];
        for r in 0..size {
            let dy = r as f32 + 0.5 - p[1];
            if dy.abs() > reach {
                continue;
            }
            for c in 0..size {
                let dx = c as f32 + 0.5 - p[0];
                if dx.abs() <= reach {
                    plane[r * size + c] = ((dx * dx + dy * dy) * inv).exp();
                }
            }
        }
    }
}

/// The network input `[C, S, S]` (flattened) from interleaved RGB8 pixels of an `S x S` crop and,
/// when `landmarks` is given, the 68 landmarks in that crop's pixels.
///
/// # Errors
/// `None` when `rgb` is not `S * S * 3` bytes or the landmark count is not 68.
#[must_use]
pub fn encode(rgb: &[u8], size: usize, landmarks: Option<&[[f32; 2]]>) -> Option<Vec<f32>> {
    let n = size * size;
    if rgb.len() != 3 * n || landmarks.is_some_and(|l| l.len() != LANDMARKS) {
        return None;
    }
    let mut out = vec![0.0f32; 3 * n];
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        for c in 0..3 {
            out[c * n + i] = f32::from(px[c]) / 255.0;
        }
    }
    if let Some(l) = landmarks {
        push_heatmaps(&mut out, l, size);
    }
    Some(out)
}

/// 2x2 box filter of interleaved RGB8 `[S, S, 3]` -> `[S/2, S/2, 3]`.
#[must_use]
pub fn half_size(rgb: &[u8], size: usize) -> Vec<u8> {
    let h = size / 2;
    let mut out = vec![0u8; h * h * 3];
    for r in 0..h {
        for c in 0..h {
            for k in 0..3 {
                let at = |rr: usize, cc: usize| u32::from(rgb[(rr * size + cc) * 3 + k]);
                let s = at(2 * r, 2 * c)
                    + at(2 * r, 2 * c + 1)
                    + at(2 * r + 1, 2 * c)
                    + at(2 * r + 1, 2 * c + 1);
                out[(r * h + c) * 3 + k] = u8::try_from((s + 2) / 4).unwrap_or(255);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_is_an_involution_that_swaps_the_eyes() {
        for i in 0..68 {
            assert_eq!(MIRROR_68[MIRROR_68[i]], i);
        }
        assert_eq!(MIRROR_68[36], 45);
        assert_eq!(MIRROR_68[30], 30);
        assert_eq!(MIRROR_68[57], 57);
        assert_eq!(MIRROR_68[0], 16);
        let fixed = (0..68).filter(|&i| MIRROR_68[i] == i).count();
        // Nose bridge 27-30, 33, lips 51, 57, 62, 66, chin 8.
        assert_eq!(fixed, 10);
    }

    #[test]
    fn heatmap_peaks_at_the_point() {
        let mut v = Vec::new();
        push_heatmaps(&mut v, &[[10.5, 5.5]], 16);
        let (arg, max) = v
            .iter()
            .enumerate()
            .fold((0, 0.0f32), |a, (i, &x)| if x > a.1 { (i, x) } else { a });
        assert_eq!(arg, 5 * 16 + 10);
        assert!((max - 1.0).abs() < 1e-6);
    }

    #[test]
    fn encode_checks_sizes() {
        assert!(encode(&[0; 12], 2, None).is_some());
        assert!(encode(&[0; 11], 2, None).is_none());
        assert!(encode(&[0; 12], 2, Some(&[[0.0; 2]; 3])).is_none());
        assert_eq!(
            encode(&[255; 12], 2, Some(&[[0.0; 2]; 68])).unwrap().len(),
            71 * 4
        );
    }
}
