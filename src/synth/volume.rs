//! The occupancy volume VRN trains on, derived from a sample's front and back depth maps.
//!
//! Its voxels map to the crop frame by [`crate::pipeline::mesh::from_volume::world_from_voxel`].
//!
//! Voxel `(k, row, col)` of a `[D, S, S]` volume (`k` slowest) is the crop-frame point
//! `(col + 0.5, S - row - 0.5, -S/2 + (k + 0.5) S/D)`: the depth axis spans `[-S/2, S/2]` crop
//! pixels around the head pivot (the same scale as x and y), `k = 0` farthest from the camera.
//!
//! How the back of the head is closed: a voxel is occupied when its centre lies between the
//! farthest and the nearest head surface that the pixel's ray meets (`depth_back <= z <=
//! depth`). The rendered head (face, scalp, neck, mouth and eye interiors) is nearly closed, so
//! this fills the skull; concavities along a ray (e.g. between the nose and the far cheek in
//! profile) are filled too, and surfaces beyond `+-S/2` are clipped to the volume.

/// Occupancy `[D, S, S]` (1 = inside) from the nearest (`front`) and farthest (`back`)
/// crop-frame depth maps `[S, S]` and the head mask.
#[must_use]
pub fn occupancy(front: &[f32], back: &[f32], mask: &[u8], size: usize, bins: usize) -> Vec<u8> {
    let mut out = vec![0u8; bins * size * size];
    let dz = size as f32 / bins as f32;
    let z0 = -(size as f32) / 2.0;
    for i in (0..size * size).filter(|&i| mask[i] != 0) {
        let (lo, hi) = (back[i].min(front[i]), front[i].max(back[i]));
        // Bins whose centre z0 + (k + 0.5) dz lies in [lo, hi].
        let k0 = ((lo - z0) / dz - 0.5).ceil().max(0.0) as usize;
        let k1 = ((hi - z0) / dz - 0.5).floor();
        if k1 < 0.0 {
            continue;
        }
        for k in k0..=(k1 as usize).min(bins - 1) {
            out[k * size * size + i] = 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::mesh::from_volume::world_from_voxel;

    #[test]
    fn a_slab_fills_the_bins_between_its_faces() {
        let (size, bins) = (4, 8);
        // Bin centres at z = -2 + 0.25 + 0.5 k: -1.75, -1.25, ..., 1.75.
        let front = vec![1.0f32; 16];
        let back = vec![-0.6f32; 16];
        let mut mask = vec![1u8; 16];
        mask[5] = 0;
        let v = occupancy(&front, &back, &mask, size, bins);
        let column: Vec<u8> = (0..bins).map(|k| v[k * 16]).collect();
        assert_eq!(column, vec![0, 0, 0, 1, 1, 1, 0, 0]);
        assert!((0..bins).all(|k| v[k * 16 + 5] == 0));
        let w = world_from_voxel(size, bins);
        assert!((w.apply([0.0, 0.0, 3.0])[2] - (-0.25)).abs() < 1e-6);
        assert!((w.apply([0.0, 0.0, 0.0])[1] - 3.5).abs() < 1e-6);
    }
}
