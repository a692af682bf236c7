//! Small faces in large photos: BlazeFace sees the whole photo at 128 x 128, so a face narrower
//! than about 1/6 of the photo's longer side is lost. The detector therefore also runs on
//! overlapping square tiles, each again scaled to 128 x 128, and adds the faces the whole-photo
//! pass missed (its own detections stay exactly MediaPipe's). More windows mean more chances
//! of a false positive, so the detector confirms each tile-only face with FaceMesh's
//! face-presence score. More windows mean more chances
//! of a false positive, so the detector confirms each tile-only face with FaceMesh's
//! face-presence score.
//!
//! Tile sides: the photo's shorter side (when the photo is not square), then halving while at
//! least [`super::DetectOptions::min_tile_side`] and the total stays within
//! [`super::DetectOptions::max_tiles`]; tiles overlap by half their side, so every face smaller
//! than half a tile lies entirely inside one. BlazeFace finds faces down to about a quarter of
//! its input, so 128-pixel tiles reach 32-pixel faces.

use super::decode::{RawDetection, iou, weighted_nms};

/// A square region of the photo, pixels: top-left corner and side.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Square {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Side.
    pub side: f32,
}

/// Start positions along an axis of length `len` for windows of `side`, stride `side / 2`, the
/// last one flush with the end.
fn starts(len: u32, side: u32) -> Vec<u32> {
    if side >= len {
        return vec![0];
    }
    let step = (side / 2).max(1);
    let mut out: Vec<u32> = (0..)
        .map(|k| k * step)
        .take_while(|&s| s + side < len)
        .collect();
    out.push(len - side);
    out
}

/// The tiles of every level for a `width x height` photo (none for a square photo smaller
/// than `2 * min_side`), coarse to fine; a level that would bring the total over `max_tiles`
/// is left out with all finer ones.
#[must_use]
pub fn grid(width: u32, height: u32, min_side: u32, max_tiles: usize) -> Vec<Square> {
    let mut side = width.min(height);
    if side == width.max(height) {
        side /= 2;
    }
    let mut out = Vec::new();
    while side >= min_side.max(1) {
        let (ys, xs) = (starts(height, side), starts(width, side));
        if out.len() + ys.len() * xs.len() > max_tiles {
            break;
        }
        for &y in &ys {
            for &x in &xs {
                out.push(Square {
                    x: x as f32,
                    y: y as f32,
                    side: side as f32,
                });
            }
        }
        side /= 2;
    }
    out
}

/// True when the detection's box comes within `margin` (fraction of the tile side) of a tile
/// edge that is not also a photo edge: the face may be cut off by the tile.
#[must_use]
pub fn touches_inner_edge(
    det: &RawDetection,
    tile: &Square,
    width: f32,
    height: f32,
    margin: f32,
) -> bool {
    let m = margin * tile.side;
    let c = det.corners;
    let (right, bottom) = (tile.x + tile.side, tile.y + tile.side);
    (tile.x > 0.0 && c[0] < tile.x + m)
        || (tile.y > 0.0 && c[1] < tile.y + m)
        || (right < width && c[2] > right - m)
        || (bottom < height && c[3] > bottom - m)
}

/// The tile detections, merged among themselves, that are new: none of the whole-photo
/// detections `full` overlaps them by more than `threshold` IoU or contains their centre.
#[must_use]
pub fn new_faces(
    full: &[RawDetection],
    tiles: Vec<RawDetection>,
    threshold: f32,
) -> Vec<RawDetection> {
    weighted_nms(tiles, threshold)
        .into_iter()
        .filter(|t| {
            full.iter().all(|f| {
                iou(&f.corners, &t.corners) <= threshold && !contains(&f.corners, &t.corners)
            })
        })
        .collect()
}

/// Whole-photo detections narrower than `min_width` pixels were seen by BlazeFace at a few
/// pixels; when a tile detection overlaps one by more than `threshold` IoU, its box and
/// keypoints, measured at a larger scale, replace the whole-photo ones (the score stays).
pub fn sharpen(full: &mut [RawDetection], tiles: &[RawDetection], threshold: f32, min_width: f32) {
    for det in full
        .iter_mut()
        .filter(|d| d.corners[2] - d.corners[0] < min_width)
    {
        let best = tiles
            .iter()
            .filter(|t| iou(&t.corners, &det.corners) > threshold)
            .max_by(|a, b| a.score.total_cmp(&b.score));
        if let Some(t) = best {
            det.corners = t.corners;
            det.keypoints = t.keypoints;
        }
    }
}

/// True when box `b`'s centre lies inside box `a`.
fn contains(a: &[f32; 4], b: &[f32; 4]) -> bool {
    let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    a[0] <= cx && cx <= a[2] && a[1] <= cy && cy <= a[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_covers_the_photo_with_half_overlap() {
        assert_eq!(starts(1024, 600), vec![0, 300, 424]);
        assert_eq!(starts(600, 600), vec![0]);
        let g = grid(1024, 600, 256, 100);
        // 600-pixel tiles: 3 x 1; 300-pixel tiles: 6 x 3.
        assert_eq!(g.len(), 3 + 18);
        assert!(grid(200, 200, 256, 100).is_empty());
        assert_eq!(grid(1024, 600, 256, 20).len(), 3);
        assert_eq!(grid(512, 512, 256, 100).len(), 9);
    }

    #[test]
    fn only_new_faces_are_added() {
        let d = |x: f32, s: f32| RawDetection {
            score: s,
            corners: [x, 0.0, x + 10.0, 10.0],
            keypoints: [[0.0; 2]; 6],
        };
        let out = new_faces(&[d(0.0, 0.8)], vec![d(1.0, 0.95), d(50.0, 0.7)], 0.3);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].corners[0], 50.0);
    }

    #[test]
    fn small_whole_photo_boxes_take_the_tile_box() {
        let d = |x: f32, w: f32, s: f32| RawDetection {
            score: s,
            corners: [x, 0.0, x + w, w],
            keypoints: [[x, 0.0]; 6],
        };
        let mut full = vec![d(0.0, 10.0, 0.9), d(100.0, 50.0, 0.9)];
        sharpen(
            &mut full,
            &[d(1.0, 10.0, 0.8), d(101.0, 50.0, 0.8)],
            0.3,
            20.0,
        );
        assert_eq!(full[0], d(1.0, 10.0, 0.9));
        assert_eq!(full[1], d(100.0, 50.0, 0.9));
    }

    #[test]
    fn inner_edges_only() {
        let tile = Square {
            x: 100.0,
            y: 0.0,
            side: 100.0,
        };
        let det = |x0: f32, x1: f32| RawDetection {
            score: 1.0,
            corners: [x0, 10.0, x1, 20.0],
            keypoints: [[0.0; 2]; 6],
        };
        assert!(touches_inner_edge(
            &det(101.0, 120.0),
            &tile,
            200.0,
            100.0,
            0.02
        ));
        assert!(!touches_inner_edge(
            &det(150.0, 199.5),
            &tile,
            200.0,
            100.0,
            0.02
        ));
    }
}
