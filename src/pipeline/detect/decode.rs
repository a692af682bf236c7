//! BlazeFace post-processing as MediaPipe's detection graphs do it: SSD anchors, box and
//! keypoint decoding, score threshold, weighted non-maximum suppression.
//!
//! [`decode`] returns coordinates normalised to [0, 1] over the network input; the detector maps
//! them to photo pixels (undoing the letterbox) before NMS, which a uniform scale leaves alone.

use crate::nn::{blazeface, blazeface_full};

/// Which BlazeFace network: its input side and anchor layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Network {
    /// `face_detection_short_range.tflite`: 128 x 128, 896 anchors (2 per cell of the 16x16
    /// map, 6 per cell of the 8x8 map), for faces filling a good part of the input.
    ShortRange,
    /// `face_detection_full_range_sparse.tflite`: 192 x 192, 2304 anchors (1 per cell of the
    /// 48x48 map), for small and distant faces.
    FullRange,
}

impl Network {
    /// Input side, pixels.
    #[must_use]
    pub fn input_size(self) -> usize {
        match self {
            Self::ShortRange => blazeface::INPUT_SIZE,
            Self::FullRange => blazeface_full::INPUT_SIZE,
        }
    }

    /// `(map side, anchors per cell)` of each output level, in output order.
    #[must_use]
    pub fn levels(self) -> &'static [(usize, usize)] {
        match self {
            Self::ShortRange => &[(16, 2), (8, 6)],
            Self::FullRange => &[(blazeface_full::GRID, 1)],
        }
    }

    /// The score threshold of MediaPipe's graph for this network (applied before NMS).
    #[must_use]
    pub fn min_score(self) -> f32 {
        match self {
            Self::ShortRange => 0.5,
            Self::FullRange => 0.6,
        }
    }

    /// Number of anchors (and of outputs).
    #[must_use]
    pub fn num_anchors(self) -> usize {
        self.levels().iter().map(|(s, k)| s * s * k).sum()
    }

    /// Anchor centres `(x, y)`, normalised, level by level, cells row-major (MediaPipe's
    /// `SsdAnchorsCalculator` with fixed unit anchor size).
    #[must_use]
    pub fn anchors(self) -> Vec<[f32; 2]> {
        let mut out = Vec::with_capacity(self.num_anchors());
        for &(size, per_cell) in self.levels() {
            for y in 0..size {
                for x in 0..size {
                    let c = [
                        (x as f32 + 0.5) / size as f32,
                        (y as f32 + 0.5) / size as f32,
                    ];
                    out.extend(std::iter::repeat_n(c, per_cell));
                }
            }
        }
        out
    }
}

/// Values per anchor: box (dx, dy, w, h), then 6 keypoints (x, y); the same for both networks.
const NUM_COORDS: usize = blazeface::NUM_COORDS;

/// A decoded detection in normalised coordinates (x right, y down).
#[derive(Clone, Debug, PartialEq)]
pub struct RawDetection {
    /// Sigmoid score in (0, 1).
    pub score: f32,
    /// `[xmin, ymin, xmax, ymax]`.
    pub corners: [f32; 4],
    /// The 6 keypoints: subject's right eye, left eye, nose tip, mouth centre, right ear
    /// tragion, left ear tragion.
    pub keypoints: [[f32; 2]; 6],
}

/// Decodes the anchors of `network` scoring at least `min_score`. `logits` has one entry per
/// anchor, `regressors` 16 per anchor (box centre offset, size, then keypoints, in input pixels).
#[must_use]
pub fn decode(
    network: Network,
    anchors: &[[f32; 2]],
    logits: &[f32],
    regressors: &[f32],
    min_score: f32,
) -> Vec<RawDetection> {
    let scale = network.input_size() as f32;
    let mut out = Vec::new();
    for (i, anchor) in anchors.iter().enumerate() {
        let (Some(&logit), Some(r)) = (
            logits.get(i),
            regressors.get(i * NUM_COORDS..(i + 1) * NUM_COORDS),
        ) else {
            break;
        };
        let score = 1.0 / (1.0 + (-logit.clamp(-100.0, 100.0)).exp());
        if score < min_score {
            continue;
        }
        let (cx, cy) = (r[0] / scale + anchor[0], r[1] / scale + anchor[1]);
        let (w, h) = (r[2] / scale, r[3] / scale);
        let mut keypoints = [[0f32; 2]; 6];
        for (k, kp) in keypoints.iter_mut().enumerate() {
            *kp = [
                r[4 + 2 * k] / scale + anchor[0],
                r[5 + 2 * k] / scale + anchor[1],
            ];
        }
        let corners = [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0];
        out.push(RawDetection {
            score,
            corners,
            keypoints,
        });
    }
    out
}

/// Intersection over union of two `[xmin, ymin, xmax, ymax]` boxes (0 when either is empty).
#[must_use]
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// Weighted NMS: the best remaining detection absorbs every detection overlapping it by more
/// than `threshold` IoU (itself included); the merged box and keypoints are the score-weighted
/// means, the score stays the best one's. Output sorted by score, highest first.
#[must_use]
pub fn weighted_nms(mut dets: Vec<RawDetection>, threshold: f32) -> Vec<RawDetection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while let Some(best) = dets.first().cloned() {
        let (group, rest): (Vec<_>, Vec<_>) = dets
            .into_iter()
            .partition(|d| iou(&best.corners, &d.corners) > threshold);
        let total: f32 = group.iter().map(|d| d.score).sum();
        let mut merged = RawDetection {
            score: best.score,
            corners: [0.0; 4],
            keypoints: [[0.0; 2]; 6],
        };
        for d in &group {
            let w = d.score / total;
            for (m, v) in merged.corners.iter_mut().zip(&d.corners) {
                *m += w * v;
            }
            for (m, v) in merged.keypoints.iter_mut().zip(&d.keypoints) {
                m[0] += w * v[0];
                m[1] += w * v[1];
            }
        }
        if group.is_empty() {
            // A degenerate best box (zero area, IoU 0 even with itself) is kept as it is.
            dets = rest.into_iter().skip(1).collect();
            out.push(best);
        } else {
            dets = rest;
            out.push(merged);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_layout() {
        let a = Network::ShortRange.anchors();
        assert_eq!(a.len(), blazeface::NUM_ANCHORS);
        assert_eq!(a[0], [1.0 / 32.0, 1.0 / 32.0]);
        assert_eq!(a[1], a[0]);
        assert_eq!(a[2], [3.0 / 32.0, 1.0 / 32.0]);
        assert_eq!(a[512], [1.0 / 16.0, 1.0 / 16.0]);
        assert_eq!(a[895], [15.0 / 16.0, 15.0 / 16.0]);
        let f = Network::FullRange.anchors();
        assert_eq!(f.len(), blazeface_full::NUM_ANCHORS);
        assert_eq!(f[0], [1.0 / 96.0, 1.0 / 96.0]);
        assert_eq!(f[49], [3.0 / 96.0, 3.0 / 96.0]);
    }

    fn det(score: f32, x: f32) -> RawDetection {
        RawDetection {
            score,
            corners: [x, 0.0, x + 1.0, 1.0],
            keypoints: [[x, 0.5]; 6],
        }
    }

    #[test]
    fn nms_merges_overlaps_and_keeps_separate_faces() {
        let out = weighted_nms(vec![det(0.6, 0.2), det(0.9, 0.0), det(0.7, 5.0)], 0.3);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        // (0.9 * 0.0 + 0.6 * 0.2) / 1.5 = 0.08
        assert!((out[0].corners[0] - 0.08).abs() < 1e-6);
        assert_eq!(out[1].corners[0], 5.0);
    }
}
