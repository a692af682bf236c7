//! The ground-truth vertices a single view can see.
//!
//! The NME of [`super::recon::nme`] measures every face-area vertex of the ground truth, from ear
//! to ear, including the ones the camera cannot see (the far cheek of a turned head, under the
//! jaw). A depth-map method (pix2pix, a refined 3DMM depth) has no surface there by
//! construction, so its NME is dominated by those vertices: on the first 40 test samples about
//! 38 % of the face-area vertices are hidden, and a mesh of the *true* depth map scores an NME of
//! about 0.15. The "visible NME" measures only the vertices that lie on the visible surface, so
//! it tells how well the visible face was reconstructed.
//!
//! A vertex is visible when it projects inside the head mask and its depth is not below the
//! nearest visible depth of the 3 x 3 pixels around its projection by more than a tolerance
//! (the neighbourhood keeps steep slopes, where depth changes by several pixels per pixel,
//! from reading as occlusion).

/// Tolerance of the depth test, crop pixels.
pub const DEPTH_TOLERANCE: f32 = 1.0;

/// The vertices of `mesh` (crop frame: `x = u`, `y = side - v`, `z` larger = closer) that lie on
/// the visible surface of the `side x side` depth map `depth` (crop-frame z of the nearest
/// surface, row-major, rows going down) inside `mask`.
#[must_use]
pub fn visible_vertices(
    mesh: &[[f32; 3]],
    depth: &[f32],
    mask: &[u8],
    side: usize,
) -> Vec<[f32; 3]> {
    let inside = |v: f32| v.is_finite() && v >= 0.0 && v < side as f32;
    mesh.iter()
        .filter(|p| {
            let (u, v) = (p[0], side as f32 - p[1]);
            if !inside(u) || !inside(v) {
                return false;
            }
            let (col, row) = (u as usize, v as usize);
            if mask[row * side + col] == 0 {
                return false;
            }
            let nearest = (row.saturating_sub(1)..=(row + 1).min(side - 1))
                .flat_map(|r| {
                    (col.saturating_sub(1)..=(col + 1).min(side - 1)).map(move |c| (r, c))
                })
                .filter(|&(r, c)| mask[r * side + c] > 0)
                .map(|(r, c)| depth[r * side + c])
                .fold(f32::INFINITY, f32::min);
            p[2] >= nearest - DEPTH_TOLERANCE
        })
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_behind_the_surface_or_off_the_mask_are_hidden() {
        // A 4 x 4 plane at z = 10 covering the left half (columns 0-1).
        let side = 4;
        let depth = vec![10.0; side * side];
        let mask: Vec<u8> = (0..side * side).map(|i| u8::from(i % side < 2)).collect();
        let on = [0.5, 3.5, 10.0];
        let slightly_in = [1.5, 2.5, 9.5];
        let behind = [1.5, 1.5, 4.0];
        let off_mask = [3.5, 2.5, 10.0];
        let outside = [-1.0, 2.0, 10.0];
        let kept = visible_vertices(
            &[on, slightly_in, behind, off_mask, outside],
            &depth,
            &mask,
            side,
        );
        assert_eq!(kept, vec![on, slightly_in]);
    }
}
