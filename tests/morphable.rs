//! The `3dmm` method (the learned morphable model fitted to FaceMesh's landmarks) and `3dmm-cgan`
//! (the fit refined by the committed CGAN) on the two real fixture portraits: both meshes must
//! look like a face seen from the front, the refinement must be a bounded correction of the
//! fit, and the coarse depth map of the face crop must be a face-shaped depth relief. Run:
//! `cargo test --release --test morphable -- --nocapture` (prints extents, nose tip, fit times).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use candle_core::Device;
use visage::pipeline::detect::Detector;
use visage::pipeline::photo::Photo;
use visage::pipeline::reconstruct::morphable::method::{self, Options};
use visage::pipeline::reconstruct::morphable::{MorphableModel, coarse_depth};
use visage::pipeline::reconstruct::pix2pix_model::CROP_SIDE;
use visage::pipeline::reconstruct::refiner_model::RefinerModel;

fn fixture(name: &str) -> image::RgbImage {
    Photo::load(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .rgb
}

#[test]
fn fixture_meshes_are_faces() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let model = MorphableModel::embedded().unwrap();
    let refiner = RefinerModel::embedded().unwrap();
    let side = CROP_SIDE as f32;
    let names = ["astronaut.png", "grace_hopper.jpg"];
    for (name, refine) in names.iter().flat_map(|n| [(n, None), (n, Some(&refiner))]) {
        let photo = fixture(name);
        let face = method::reconstruct(&photo, &det, &model, refine, &Options::default()).unwrap();
        let name = format!("{name} refined {}", refine.is_some());
        let mesh = &face.mesh;
        mesh.sanity_check().unwrap();
        assert_eq!(mesh.vertex_count(), 1790);
        let (lo, hi) = mesh.bounds().unwrap();
        let ext = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
        let tip = mesh
            .positions
            .iter()
            .max_by(|a, b| a[2].total_cmp(&b[2]))
            .unwrap();
        eprintln!(
            "{name}: extents {ext:?}, nose tip {tip:?}, fit rms {:.2} px, fit {:?}",
            face.fit.rms, face.times.fit
        );
        // FaceMesh's region (brows to chin, cheek to cheek) fills much of the 128 px crop, with
        // a relief of a few tens of pixels (a face is about 0.6 as deep as it is wide).
        assert!(
            (0.45 * side..side).contains(&ext[0]),
            "{name}: width {}",
            ext[0]
        );
        assert!(
            (0.45 * side..side).contains(&ext[1]),
            "{name}: height {}",
            ext[1]
        );
        assert!(
            (0.2 * ext[0]..0.9 * ext[0]).contains(&ext[2]),
            "{name}: depth {}",
            ext[2]
        );
        // The point nearest the camera is the nose: near the middle of the crop and within a
        // few pixels of FaceMesh's nose-tip landmark (id 1).
        assert!(
            (tip[0] - side / 2.0).abs() < 0.15 * side,
            "{name}: tip {tip:?}"
        );
        assert!(
            (tip[1] - side / 2.0).abs() < 0.2 * side,
            "{name}: tip {tip:?}"
        );
        let nose = mesh.positions[1];
        let d = ((tip[0] - nose[0]).powi(2) + (tip[1] - nose[1]).powi(2)).sqrt();
        assert!(d < 6.0, "{name}: tip {tip:?} vs landmark 1 {nose:?}");
        // The fit explains the landmarks to a few pixels.
        assert!(face.fit.rms < 4.0, "{name}: rms {}", face.fit.rms);
        // Coloured from the photo (not all one colour).
        let c0 = mesh.colors[0];
        assert!(mesh.colors.iter().any(|c| (c[0] - c0[0]).abs() > 0.1));
        // The refinement moves vertices along z only, by a few pixels, and really moves them.
        if let Some(r) = &face.refinement {
            let fitted = face.fit.vertices(&model);
            let dz: Vec<f32> = fitted
                .iter()
                .zip(&mesh.positions)
                .map(|(a, b)| {
                    assert_eq!([a[0], a[1]], [b[0], b[1]], "{name}: moved in x or y");
                    (b[2] - a[2]).abs()
                })
                .collect();
            let moved = dz.iter().filter(|&&d| d > 0.05).count();
            let max = dz.iter().copied().fold(0.0f32, f32::max);
            eprintln!(
                "{name}: {moved} of {} vertices moved, at most {max:.2} px",
                dz.len()
            );
            assert!(moved > dz.len() / 4, "{name}: only {moved} vertices moved");
            assert!(max < 0.1 * side, "{name}: a correction of {max} px");
            assert_eq!(r.refined.len(), r.coarse.depth.len());
        }
    }
}

#[test]
fn fixture_crops_give_a_coarse_depth_relief() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let model = MorphableModel::embedded().unwrap();
    for name in ["astronaut.png", "grace_hopper.jpg"] {
        let face =
            method::reconstruct(&fixture(name), &det, &model, None, &Options::default()).unwrap();
        let coarse = coarse_depth(&face.crop.image, &det, &model).unwrap();
        let n = coarse.side;
        assert_eq!(
            (n, coarse.depth.len(), coarse.mask.len()),
            (128, n * n, n * n)
        );
        let covered = coarse.mask.iter().filter(|&&m| m).count();
        // FaceMesh's region covers roughly a third to two thirds of a synthetic-style crop.
        assert!(
            (n * n / 5..n * n * 3 / 4).contains(&covered),
            "{name}: {covered}"
        );
        let mean: f32 = (0..n * n)
            .filter(|&i| coarse.mask[i])
            .map(|i| coarse.depth[i])
            .sum::<f32>()
            / covered as f32;
        assert!(mean.abs() < 1e-3, "{name}: centred mean {mean}");
        // The nearest pixel is near the crop centre (the nose).
        let best = (0..n * n)
            .filter(|&i| coarse.mask[i])
            .max_by(|&a, &b| coarse.depth[a].total_cmp(&coarse.depth[b]))
            .unwrap();
        let (r, c) = ((best / n) as f32, (best % n) as f32);
        assert!(
            (c - 64.0).abs() < 20.0 && (r - 64.0).abs() < 26.0,
            "{name}: nearest at {r},{c}"
        );
    }
}
