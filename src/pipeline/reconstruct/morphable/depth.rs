//! A fitted mesh rasterised into its crop as a depth map and mask, with the synthetic data
//! engine's rasteriser ([`crate::synth::raster`], orthographic: the fit is scaled-orthographic).
//!
//! Units and frame match the shards' `depth` tensor ([`crate::synth::Sample::depth`]): row-major
//! `side x side` (rows going down), crop-frame z in crop pixels, larger = closer to the camera,
//! sampled at pixel centres. A single photo gives depth only up to an offset, so the coarse depth
//! is centred: its mean over the mask is 0. Pixels outside the mask hold
//! [`crate::synth::sample::background_z`] (`-side / 2`), as in the shards; use the mask, not the
//! value, to tell them apart.

use crate::pipeline::mesh::raster::{
    Cull, DepthTest, Projection, ScreenVertex, VisBuffer, background_z,
};

/// The coarse face of a crop: the fitted model's depth map and coverage mask.
#[derive(Clone, Debug, PartialEq)]
pub struct CoarseDepth {
    /// Crop-frame z (crop pixels, larger = closer), `side * side` row-major, mean 0 over the
    /// mask, `-side / 2` elsewhere.
    pub depth: Vec<f32>,
    /// True where the fitted mesh covers the pixel centre, `side * side`.
    pub mask: Vec<bool>,
    /// Side of the crop (and of both maps), pixels: 128 for the synthetic crops.
    pub side: usize,
}

/// Rasterises `vertices` (crop frame: +Y up, +Z towards the camera, crop pixels) with
/// `triangles` into a `side x side` [`CoarseDepth`] (nearest surface, both windings drawn).
#[must_use]
pub fn render(vertices: &[[f32; 3]], triangles: &[[u32; 3]], side: usize) -> CoarseDepth {
    let (raw, mask) = rasterise(vertices, triangles, side);
    CoarseDepth::centred(&raw, mask).0
}

impl CoarseDepth {
    /// The map of [`rasterise`]'s uncentred depth `raw` on `mask` (square): centred on the
    /// mask, `-side / 2` elsewhere; and the mean subtracted (the crop-frame z of its zero).
    #[must_use]
    pub fn centred(raw: &[f32], mask: Vec<bool>) -> (Self, f32) {
        let side = mask.len().isqrt();
        let count = mask.iter().filter(|&&m| m).count();
        let mean = raw
            .iter()
            .zip(&mask)
            .filter(|(_, m)| **m)
            .map(|(z, _)| z)
            .sum::<f32>()
            / count.max(1) as f32;
        let bz = background_z(side);
        let depth = raw
            .iter()
            .zip(&mask)
            .map(|(&z, &m)| if m { z - mean } else { bz })
            .collect();
        (Self { depth, mask, side }, mean)
    }
}

/// The uncentred crop-frame z of the nearest surface at each pixel centre (`-inf` where
/// uncovered) and the coverage mask, `side x side` row-major.
#[must_use]
pub fn rasterise(
    vertices: &[[f32; 3]],
    triangles: &[[u32; 3]],
    side: usize,
) -> (Vec<f32>, Vec<bool>) {
    let h = side as f32;
    let screen: Vec<ScreenVertex> = vertices
        .iter()
        .map(|p| ScreenVertex {
            x: p[0],
            y: h - p[1],
            w: -p[2],
        })
        .collect();
    let mut vb = VisBuffer::new(side, side, DepthTest::Nearest);
    vb.draw(
        &screen,
        triangles,
        Projection::Orthographic,
        Cull::None,
        0.0,
    );
    let mask = (0..side * side).map(|i| vb.covered(i)).collect();
    (vb.depth.iter().map(|w| -w).collect(), mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tilted_square_gives_its_plane_centred() {
        // A square over pixels 8..24 with z = 0.5 x (closer to the right).
        let v = [
            [8.0, 8.0, 4.0],
            [24.0, 8.0, 12.0],
            [24.0, 24.0, 12.0],
            [8.0, 24.0, 4.0],
        ];
        let d = render(&v, &[[0, 1, 2], [0, 2, 3]], 32);
        assert_eq!(d.mask.iter().filter(|&&m| m).count(), 256);
        // Row 10 from the top is y = 21.5 (inside); column 20 is x = 20.5, z = 10.25; the mean
        // z over the square is 8.
        let i = 10 * 32 + 20;
        assert!(d.mask[i]);
        assert!((d.depth[i] - 2.25).abs() < 1e-4, "{}", d.depth[i]);
        assert!(!d.mask[0] && d.depth[0] == -16.0);
    }
}
