//! The `3dmm-cgan` step: the CGAN refiner's depth correction applied to a fitted mesh.
//!
//! The fit is rasterised into its crop ([`super::depth`]), the refiner turns that coarse depth map
//! into a refined one of the same side, mask and offset ([`RefinerModel::refine_coarse`]), and
//! every vertex on the visible surface moves along the view axis by the refined-minus-coarse
//! depth at its pixel. Vertices the surface hides (the far cheek of a turned head) have no
//! refined depth and keep their fitted place; between 1 and 3 crop pixels behind the surface
//! the correction fades out, so the seam stays smooth. The mesh keeps the model's topology, so
//! the refined face is as complete as the coarse one and the two compare vertex for vertex.

use super::depth::{CoarseDepth, rasterise};
use crate::pipeline::reconstruct::refiner_model::{RefinerError, RefinerModel};
use image::RgbImage;

/// Depth behind the visible surface (crop pixels) up to which a vertex gets the full
/// correction.
const FULL_BELOW: f32 = 1.0;
/// Depth behind the visible surface (crop pixels) from which a vertex gets none.
const NONE_BEYOND: f32 = 3.0;

/// A refined fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Refinement {
    /// The refined vertices, crop frame.
    pub vertices: Vec<[f32; 3]>,
    /// The fit's depth map (centred, see [`CoarseDepth`]).
    pub coarse: CoarseDepth,
    /// The refined depth map, same convention and mask as `coarse`.
    pub refined: Vec<f32>,
    /// Crop-frame z of the maps' zero (the fitted surface's mean depth over the mask).
    pub offset: f32,
}

/// Refines the fitted `vertices` (crop frame of `crop`, `triangles` of the model) with
/// `refiner`; see the module docs.
///
/// # Errors
/// Refiner failures (a crop whose side is not a multiple of the refiner's grid).
pub fn refine_vertices(
    vertices: &[[f32; 3]],
    triangles: &[[u32; 3]],
    crop: &RgbImage,
    refiner: &RefinerModel,
) -> Result<Refinement, RefinerError> {
    let side = crop.width() as usize;
    let (raw, mask) = rasterise(vertices, triangles, side);
    let (coarse, offset) = CoarseDepth::centred(&raw, mask);
    let refined = refiner.refine_coarse(&coarse, crop)?;
    let h = side as f32;
    let moved = vertices
        .iter()
        .map(|&[x, y, z]| {
            let (c, r) = (x.floor() as isize, (h - y).floor() as isize);
            let inside = (0..side as isize).contains(&c) && (0..side as isize).contains(&r);
            if !inside {
                return [x, y, z];
            }
            let i = r as usize * side + c as usize;
            if !coarse.mask[i] {
                return [x, y, z];
            }
            let behind = raw[i] - z;
            let weight = ((NONE_BEYOND - behind) / (NONE_BEYOND - FULL_BELOW)).clamp(0.0, 1.0);
            [x, y, z + weight * (refined[i] - coarse.depth[i])]
        })
        .collect();
    Ok(Refinement {
        vertices: moved,
        coarse,
        refined,
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::refiner::{Refiner, RefinerConfig};
    use candle_core::{DType, Device};
    use candle_nn::{VarBuilder, VarMap};

    /// A 16 x 16 grid over pixels 32..96 of a 128 px crop at z = 20, and a copy of it 10 px
    /// behind (hidden everywhere), as one vertex list.
    fn two_sheets() -> (Vec<[f32; 3]>, Vec<[u32; 3]>) {
        let (n, step) = (16u32, 64.0 / 15.0);
        let mut vertices = Vec::new();
        let mut triangles = Vec::new();
        for (sheet, z) in [20.0f32, 10.0].into_iter().enumerate() {
            let base = u32::try_from(sheet).unwrap() * n * n;
            for r in 0..n {
                for c in 0..n {
                    vertices.push([32.0 + c as f32 * step, 32.0 + r as f32 * step, z]);
                    if r + 1 < n && c + 1 < n {
                        let i = base + r * n + c;
                        triangles.push([i, i + 1, i + n + 1]);
                        triangles.push([i, i + n + 1, i + n]);
                    }
                }
            }
        }
        (vertices, triangles)
    }

    #[test]
    fn visible_vertices_take_the_correction_and_hidden_ones_stay() {
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
        let refiner =
            RefinerModel::from_net(Refiner::new(&RefinerConfig::tiny(false), vb).unwrap());
        let (vertices, triangles) = two_sheets();
        let crop = RgbImage::from_pixel(128, 128, image::Rgb([120, 90, 80]));
        let r = refine_vertices(&vertices, &triangles, &crop, &refiner).unwrap();
        assert_eq!(r.vertices.len(), vertices.len());
        let half = vertices.len() / 2;
        let mut moved = 0;
        for (k, (a, b)) in vertices.iter().zip(&r.vertices).enumerate() {
            assert_eq!([a[0], a[1]], [b[0], b[1]]);
            let (c, row) = (a[0].floor() as usize, (128.0 - a[1]).floor() as usize);
            let i = row * 128 + c;
            if k >= half || !r.coarse.mask[i] {
                // Behind the front sheet, or on the grid's outer edge outside the raster.
                assert_eq!(a[2], b[2], "vertex {k} moved");
            } else {
                let want = r.refined[i] - r.coarse.depth[i];
                assert!((b[2] - a[2] - want).abs() < 1e-4, "vertex {k}");
                moved += usize::from(want.abs() > 1e-6);
            }
        }
        // A random network's correction is not zero.
        assert!(moved > half / 2, "{moved} of {half} front vertices moved");
    }
}
