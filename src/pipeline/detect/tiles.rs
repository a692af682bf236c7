//! Small faces in large photos. The whole-photo pass sees the photo at 192 x 192 (full-range
//! BlazeFace), and that network finds faces down to about [`MIN_FACE_INPUT`] input pixels, so
//! a face narrower than 1/16 of the photo's longer side can be lost (a 32-pixel face in a
//! 1080p frame is 3 input pixels). The detector then also runs the same network on square
//! tiles and adds the faces the whole-photo pass missed (its own detections stay as they are).
//! More windows mean more chances of a false positive, so each tile-only face must be confirmed
//! by FaceMesh's face-presence score.
//!
//! Tile levels: the finest side is `16 x min_face` (so a face of `min_face` pixels is
//! [`MIN_FACE_INPUT`] input pixels), each next level 4 times larger, up to the photo's shorter
//! side; tiles of a level overlap by a quarter of their side, so every face up to that size lies
//! entirely inside one, and the next level's finest faces are a quarter of its side. A level
//! that would bring the total over the limit is left out with all finer ones.

use super::decode::{RawDetection, iou, weighted_nms};

/// Face width, in network input pixels, that full-range BlazeFace still finds reliably
/// (measured in `docs/frontend.md`: 15 of 16 faces at 10 input pixels, 5 of 16 at 7.7).
pub const MIN_FACE_INPUT: f32 = 12.0;

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

/// Start positions along an axis of length `len` for windows of `side`, stride `step`, the
/// last one flush with the end.
fn starts(len: u32, side: u32, step: u32) -> Vec<u32> {
    if side >= len {
        return vec![0];
    }
    let step = step.max(1);
    let mut out: Vec<u32> = (0..)
        .map(|k| k * step)
        .take_while(|&s| s + side < len)
        .collect();
    out.push(len - side);
    out
}

/// The tiles of every level for a `width x height` photo and network input side `input`,
/// coarse to fine (see the module notes): none when the whole-photo pass already sees faces of
/// `min_face` pixels at [`MIN_FACE_INPUT`] or more.
#[must_use]
pub fn grid(width: u32, height: u32, min_face: u32, input: usize, max_tiles: usize) -> Vec<Square> {
    let long = width.max(height) as f32;
    let short = width.min(height);
    if min_face == 0 || min_face as f32 * input as f32 / long >= MIN_FACE_INPUT {
        return Vec::new();
    }
    let finest = (min_face as f32 * input as f32 / MIN_FACE_INPUT).round() as u32;
    // The whole-photo pass finds faces from `whole_min` photo pixels up; a level of side s
    // finds those from s / 16 to s / 4 (the overlap).
    let whole_min = long * MIN_FACE_INPUT / input as f32;
    let mut sides = Vec::new();
    let mut side = finest.max(1);
    loop {
        sides.push(side.min(short));
        if side as f32 / 4.0 >= whole_min || side >= short {
            break;
        }
        side *= 4;
    }
    let mut out = Vec::new();
    for &side in sides.iter().rev() {
        let step = side - side / 4;
        let (ys, xs) = (starts(height, side, step), starts(width, side, step));
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
    fn grid_levels_reach_the_smallest_face() {
        assert_eq!(starts(1024, 600, 450), vec![0, 424]);
        assert_eq!(starts(600, 600, 450), vec![0]);
        // 1080p, 32-pixel faces: 512-pixel tiles (32 px -> 12 input px), stride 384: 5 x 3;
        // their quarter (128 px) reaches the whole-photo pass's 120 px.
        let g = grid(1920, 1080, 32, 192, 100);
        assert_eq!(g.len(), 15);
        assert!(g.iter().all(|t| t.side == 512.0));
        // Every point of the photo lies in a tile.
        for (x, y) in [(0.0, 0.0), (1919.0, 1079.0), (700.0, 500.0)] {
            assert!(
                g.iter()
                    .any(|t| t.x <= x && x < t.x + t.side && t.y <= y && y < t.y + t.side)
            );
        }
        // 12 megapixels: 2048-pixel tiles (3 x 2) for faces of 128-512 px, then 512 (11 x 8).
        let g = grid(4000, 3000, 32, 192, 200);
        assert_eq!(g.len(), 6 + 88);
        assert_eq!((g[0].side, g[6].side), (2048.0, 512.0));
        assert_eq!(grid(4000, 3000, 32, 192, 50).len(), 6);
        // The whole-photo pass already sees 32-pixel faces of a 500-pixel photo at 12.3 px.
        assert!(grid(500, 375, 32, 192, 100).is_empty());
        assert!(grid(1920, 1080, 0, 192, 100).is_empty());
        // Over the limit: the level is left out.
        assert!(grid(1920, 1080, 32, 192, 10).is_empty());
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
