//! The `3dmm` method (the learned morphable model fitted to FaceMesh's landmarks) and `3dmm-cgan`
//! (the fit refined by the committed CGAN) on the two real fixture portraits: both meshes must
//! look like a face seen from the front, the refinement must be a bounded correction of the
//! fit, and the coarse depth map of the face crop must be a face-shaped depth relief. Run:
//! `cargo test --release --test morphable -- --nocapture` (prints extents, nose tip, fit times).

use candle_core::Device;
use visage::pipeline::detect::Detector;
use visage::pipeline::reconstruct::morphable::method::MorphableReconstructor;
use visage::pipeline::reconstruct::morphable::topology::boundary_loops;
use visage::pipeline::reconstruct::morphable::{FitOptions, MorphableModel, coarse_depth, fit};
use visage::pipeline::reconstruct::{CROP_SIDE, Reconstructor, prepare};
use visage::pipeline::upscale::Upscaler;

use super::common::fixture_photo as fixture;

#[test]
fn fixture_meshes_are_faces() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let plain = MorphableReconstructor::load(None, None, &Device::Cpu).unwrap();
    let refined = MorphableReconstructor::load_cgan(None, &Device::Cpu).unwrap();
    let side = CROP_SIDE as f32;
    for name in ["astronaut.png", "grace_hopper.jpg"] {
        let photo = fixture(name);
        let prepared = prepare(&det, &photo, 0, Upscaler::Bicubic).unwrap();
        let fitted = fit::fit(
            &plain.model,
            &prepared.face.points_crop_frame(),
            &FitOptions::default(),
        )
        .unwrap();
        let coarse = plain.reconstruct(&prepared.photo, &prepared.face).unwrap();
        let fine = refined
            .reconstruct(&prepared.photo, &prepared.face)
            .unwrap();
        assert_ne!(
            coarse.mesh, fine.mesh,
            "{name}: the refinement changed nothing"
        );
        for (result, refine) in [(&coarse, false), (&fine, true)] {
            let name = format!("{name} refined {refine}");
            let mesh = &result.mesh;
            mesh.sanity_check().unwrap();
            assert_eq!(mesh.vertex_count(), plain.model.vertex_count());
            // Closed around the eyes and the mouth: the only border is the face area's rim.
            let borders = boundary_loops(&mesh.triangles);
            assert_eq!(borders.len(), 1, "{name}: {} border loops", borders.len());
            let (lo, hi) = mesh.bounds().unwrap();
            let ext = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
            let tip = mesh
                .positions
                .iter()
                .max_by(|a, b| a[2].total_cmp(&b[2]))
                .unwrap();
            eprintln!(
                "{name}: extents {ext:?}, nose tip {tip:?}, fit rms {:.2} px",
                fitted.rms
            );
            // The face area (ear to ear, hairline to neck) is about the width of the 128 px
            // crop's face and taller than it, and about as deep as it is wide (ears to nose tip).
            assert!(
                (0.5 * side..side).contains(&ext[0]),
                "{name}: width {}",
                ext[0]
            );
            assert!(
                (0.8 * side..1.4 * side).contains(&ext[1]),
                "{name}: height {}",
                ext[1]
            );
            assert!(
                (0.5 * ext[0]..1.2 * ext[0]).contains(&ext[2]),
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
            assert!(fitted.rms < 4.0, "{name}: rms {}", fitted.rms);
            // Coloured from the photo (not all one colour).
            let c0 = mesh.colors[0];
            assert!(mesh.colors.iter().any(|c| (c[0] - c0[0]).abs() > 0.1));
        }
        // The refinement moves vertices along z only, by a few pixels, and really moves them.
        let dz: Vec<f32> = coarse
            .mesh
            .positions
            .iter()
            .zip(&fine.mesh.positions)
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
    }
}

#[test]
fn fixture_crops_give_a_coarse_depth_relief() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let model = MorphableModel::embedded().unwrap();
    for name in ["astronaut.png", "grace_hopper.jpg"] {
        let photo = fixture(name);
        let prepared = prepare(&det, &photo, 0, Upscaler::Bicubic).unwrap();
        let coarse = coarse_depth(&prepared.face.crop.image, &det, &model).unwrap();
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
