//! Helpers the test modules share: fixture paths and photos, and running the `visage` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tests/fixtures/NAME`.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The fixture photo `NAME`, decoded as the app decodes photos.
pub fn fixture_photo(name: &str) -> image::RgbImage {
    visage::pipeline::photo::Photo::load(fixture_path(name))
        .unwrap()
        .rgb
}

/// Runs `visage ARGS...`: (success, stdout, stderr).
pub fn run_visage(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_visage"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Root-mean-square difference of the depths of the inner 51 of two sets of 68 points, after
/// removing their median difference (depth has no absolute offset in one photo).
fn depth51_rms(a: &[Option<[f32; 3]>], b: &[Option<[f32; 3]>]) -> f32 {
    let mut d: Vec<f32> = a[17..]
        .iter()
        .zip(&b[17..])
        .filter_map(|(p, q)| Some(p.as_ref()?[2] - q.as_ref()?[2]))
        .collect();
    assert!(d.len() >= 45, "only {} points on both meshes", d.len());
    d.sort_by(f32::total_cmp);
    let median = d[d.len() / 2];
    (d.iter().map(|v| (v - median).powi(2)).sum::<f32>() / d.len() as f32).sqrt()
}

/// On both fixture portraits, the inner-51 depths of `guided` (a method with the morphable
/// prior) lie clearly closer to the `3dmm` fit's than those of `alone` (the same method without
/// it).
pub fn assert_prior_pulls_towards_the_fit(
    guided: &dyn visage::pipeline::reconstruct::Reconstructor,
    alone: &dyn visage::pipeline::reconstruct::Reconstructor,
) {
    use visage::pipeline::reconstruct::morphable::method::MorphableReconstructor;
    use visage::pipeline::reconstruct::{Reconstructor, prepare};
    let device = candle_core::Device::Cpu;
    let det = visage::pipeline::detect::Detector::new(&device).unwrap();
    let fit = MorphableReconstructor::load(None, None, &device).unwrap();
    for name in ["astronaut.png", "grace_hopper.jpg"] {
        let photo = fixture_photo(name);
        let p = prepare(
            &det,
            &photo,
            0,
            visage::pipeline::upscale::Upscaler::Bicubic,
        )
        .unwrap();
        let points = |m: &dyn Reconstructor| {
            m.reconstruct(&p.photo, &p.face)
                .unwrap()
                .landmarks68(&p.face)
        };
        let target = points(&fit);
        let before = depth51_rms(&points(alone), &target);
        let after = depth51_rms(&points(guided), &target);
        println!(
            "{} {name}: inner-51 depth vs the fit, rms {before:.2} -> {after:.2} crop px",
            guided.method().name()
        );
        // Halfway to the fit roughly halves the difference; smoothing and the fade at the
        // coverage edge take some of that back.
        assert!(after < 0.8 * before, "{name}: {before} -> {after}");
    }
}
