//! The CGAN refiner with the committed weights on the two real fixture portraits: the embedded
//! weights load, and refining the morphable-model fit of each face crop returns a finite depth
//! map of the same size and mask that stays close to the fit (a correction, not a new face).
//! Run: `cargo test --release --test refiner -- --nocapture` (prints the mean correction).

use candle_core::Device;
use visage::pipeline::detect::Detector;
use visage::pipeline::photo::Photo;
use visage::pipeline::reconstruct::morphable::{MorphableModel, coarse_depth};
use visage::pipeline::reconstruct::prepare;
use visage::pipeline::reconstruct::refiner_model::RefinerModel;
use visage::pipeline::upscale::Upscaler;

#[test]
fn embedded_refiner_corrects_fixture_fits() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let morphable = MorphableModel::embedded().unwrap();
    let refiner = RefinerModel::embedded(&Device::Cpu).unwrap();
    for name in ["astronaut.png", "grace_hopper.jpg"] {
        let photo = Photo::load(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .rgb;
        let crop = prepare(&det, &photo, 0, Upscaler::Bicubic)
            .unwrap()
            .face
            .crop
            .image;
        let coarse = coarse_depth(&crop, &det, &morphable).unwrap();
        let refined = refiner.refine_coarse(&coarse, &crop).unwrap();
        assert_eq!(refined.len(), coarse.side * coarse.side);
        let inside: Vec<usize> = (0..refined.len()).filter(|&i| coarse.mask[i]).collect();
        assert!(
            inside.len() > 1000,
            "{name}: fit covers {} pixels",
            inside.len()
        );
        assert!(refined.iter().all(|v| v.is_finite()));
        // Off the mask the coarse values are kept.
        assert!(
            (0..refined.len())
                .filter(|&i| !coarse.mask[i])
                .all(|i| refined[i] == coarse.depth[i])
        );
        let change = inside
            .iter()
            .map(|&i| (refined[i] - coarse.depth[i]).abs())
            .sum::<f32>()
            / inside.len() as f32;
        println!("{name}: mean |refined - coarse| = {change:.3} crop px");
        assert!(change > 1e-3, "{name}: the refiner changed nothing");
        assert!(
            change < 8.0,
            "{name}: correction of {change} px is not a refinement"
        );
    }
}
