//! Held-out faces for evaluation: the synthetic test split (sample ids from
//! [`crate::synth::TEST_SPLIT_START`], never used for training), rendered on the fly from the ICT
//! model, and the two real fixture portraits cropped by the front end exactly as the
//! reconstructors crop real photos.

use crate::pipeline::detect::Detector;
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::crop::face_crop;
use crate::synth::{Engine, EngineOptions, FaceModel, TEST_SPLIT_START};
use anyhow::Context;
use image::RgbImage;
use std::path::Path;

/// A named face image.
#[derive(Clone, Debug)]
pub struct NamedFace {
    /// Where it came from (`synth:1000003`, `astronaut.png`).
    pub name: String,
    /// The face crop.
    pub image: RgbImage,
}

/// The first `count` faces of the synthetic test split, clean renders of `size` px.
///
/// # Errors
/// The ICT model is missing or a render fails.
pub fn synthetic_test_faces(ict: &Path, count: u64, size: usize) -> anyhow::Result<Vec<NamedFace>> {
    let model = FaceModel::load_ict(ict).with_context(|| {
        format!(
            "{}: the synthetic test split needs the ICT face model",
            ict.display()
        )
    })?;
    let engine = Engine::new(
        model,
        EngineOptions {
            size,
            ..EngineOptions::default()
        },
    );
    let side = u32::try_from(size)?;
    (TEST_SPLIT_START..TEST_SPLIT_START + count)
        .map(|id| {
            let s = engine.render(id)?;
            Ok(NamedFace {
                name: format!("synth:{id}"),
                image: RgbImage::from_raw(side, side, s.clean).context("render size")?,
            })
        })
        .collect()
}

/// Face crops (`size` px, framed like synthetic samples) of the real fixture portraits, found
/// by `detector`.
///
/// # Errors
/// A fixture is missing or no face is found in it.
pub fn real_fixture_faces(
    detector: &Detector,
    fixtures: &Path,
    size: u32,
) -> anyhow::Result<Vec<NamedFace>> {
    ["astronaut.png", "grace_hopper.jpg"]
        .iter()
        .map(|name| {
            let photo = Photo::load(fixtures.join(name))?.rgb;
            let face = detector
                .detect(&photo)?
                .into_iter()
                .next()
                .with_context(|| format!("{name}: no face"))?;
            let lm = detector.landmarks(&photo, &face)?;
            let crop = face_crop(&photo, &lm, size).with_context(|| format!("{name}: no crop"))?;
            Ok(NamedFace {
                name: (*name).to_string(),
                image: crop.image,
            })
        })
        .collect()
}
