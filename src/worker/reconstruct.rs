//! The reconstruction methods the app offers and the one place that calls them. Adding a method
//! is one [`Method`] variant and one arm in [`reconstruct`]; heavy models go in [`Models`], loaded
//! on first use inside the worker thread (so loading shows progress and never blocks the UI).
//!
//! Faces are found by the BlazeFace + FaceMesh front end ([`crate::pipeline::detect`]). The
//! networks are loaded on first use on the device the app chose ([`Models::set_device`]; the
//! process-wide [`crate::device::current`] until then); ESPCN and the CGAN refiner always run on
//! the CPU.

use super::{CropRect, Faces};
use crate::device::{DeviceChoice, DeviceError, SelectedDevice};
use crate::pipeline::detect::Detector;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::morphable::{self, MorphableModel};
use crate::pipeline::reconstruct::pix2pix_model::Pix2pixModel;
use crate::pipeline::reconstruct::refiner_model::RefinerModel;
use crate::pipeline::reconstruct::vrn::VrnModel;
use crate::pipeline::reconstruct::{landmarks, pix2pix, vrn};
use anyhow::Context;
use image::RgbImage;

pub use crate::pipeline::reconstruct::Method;

/// The networks the worker has loaded so far (each on first use) and the device they run on.
#[derive(Debug, Default)]
pub struct Models {
    device: Option<SelectedDevice>,
    detector: Option<Detector>,
    vrn: Option<VrnModel>,
    pix2pix: Option<Pix2pixModel>,
    morphable: Option<MorphableModel>,
    refiner: Option<RefinerModel>,
}

impl Models {
    /// Opens `choice` for the networks loaded from now on and drops those already loaded. A
    /// CUDA device that cannot be used falls back to the CPU; its error comes back beside the
    /// description of the device now in use.
    pub fn set_device(&mut self, choice: DeviceChoice) -> (String, Option<DeviceError>) {
        let (selected, error) = crate::device::select_or_cpu(choice);
        let description = selected.description.clone();
        *self = Self {
            device: Some(selected),
            ..Self::default()
        };
        (description, error)
    }

    /// The device networks are loaded on.
    ///
    /// # Errors
    /// No device was set and the process-wide one cannot be opened.
    fn device(&mut self) -> anyhow::Result<candle_core::Device> {
        if let Some(selected) = &self.device {
            return Ok(selected.device.clone());
        }
        let selected = crate::device::current().map_err(anyhow::Error::msg)?;
        self.device = Some(selected.clone());
        Ok(selected.device.clone())
    }

    /// The face front end, loaded on first use.
    ///
    /// # Errors
    /// The device cannot be opened or the embedded weights do not load.
    pub fn detector(&mut self) -> anyhow::Result<&Detector> {
        if self.detector.is_none() {
            let device = self.device()?;
            self.detector = Some(Detector::new(&device).context("loading the face networks")?);
        }
        self.detector
            .as_ref()
            .context("the face networks are not loaded")
    }
}

/// Loads a model into `slot` on first use and returns it.
fn lazy<T>(slot: &mut Option<T>, load: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<&T> {
    if slot.is_none() {
        *slot = Some(load()?);
    }
    slot.as_ref().context("model not loaded")
}

/// Side of the face rectangle offered for a detected box, as a multiple of the box's longer
/// side: enough context for FaceMesh's own crop (1.5x) plus a margin.
const FACE_RECT_SCALE: f32 = 1.8;

/// A progress callback: `(stage, fraction of the method done)`; an error stops the method
/// (the job was cancelled).
pub type StageFn<'a> = dyn Fn(&'static str, f32) -> anyhow::Result<()> + 'a;

/// The faces in `photo`.
///
/// # Errors
/// A detector failure (missing weights, for one).
pub fn detect_faces(models: &mut Models, photo: &Photo) -> anyhow::Result<Faces> {
    let faces = models.detector()?.faces(&photo.rgb)?;
    let (w, h) = (photo.width() as f32, photo.height() as f32);
    let rects = faces
        .iter()
        .map(|f| {
            let [x, y, bw, bh] = f.bbox;
            let side = bw.max(bh) * FACE_RECT_SCALE;
            let (cx, cy) = (x + bw / 2.0, y + bh / 2.0);
            let x0 = (cx - side / 2.0).clamp(0.0, w - 1.0);
            let y0 = (cy - side / 2.0).clamp(0.0, h - 1.0);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            CropRect {
                x: x0 as u32,
                y: y0 as u32,
                width: ((cx + side / 2.0).min(w) - x0).max(1.0) as u32,
                height: ((cy + side / 2.0).min(h) - y0).max(1.0) as u32,
            }
        })
        .collect::<Faces>();
    Ok(rects)
}

/// Reconstructs a mesh from the prepared face crop `face` with `method`, reporting stages.
///
/// # Errors
/// [`ReconstructError`] or the method's own error.
pub fn reconstruct(
    models: &mut Models,
    method: Method,
    face: &RgbImage,
    stage: &StageFn<'_>,
) -> anyhow::Result<Mesh> {
    match method {
        Method::Landmarks => {
            stage("load face networks", 0.0)?;
            let detector = models.detector()?;
            stage("landmarks", 0.3)?;
            Ok(landmarks::reconstruct(face, detector, &landmarks::Options::default())?.mesh)
        }
        Method::Vrn => {
            stage("load VRN", 0.0)?;
            models.detector()?;
            let device = models.device()?;
            lazy(&mut models.vrn, || Ok(VrnModel::embedded(&device)?))?;
            stage("volume", 0.3)?;
            let (Some(detector), Some(net)) = (&models.detector, &models.vrn) else {
                anyhow::bail!("the VRN networks are not loaded");
            };
            Ok(net
                .reconstruct(face, detector, &vrn::Options::default())?
                .mesh)
        }
        Method::Pix2pix => {
            stage("load pix2pix", 0.0)?;
            models.detector()?;
            let device = models.device()?;
            lazy(&mut models.pix2pix, || {
                Ok(Pix2pixModel::embedded_on(&device)?)
            })?;
            stage("depth", 0.3)?;
            let (Some(detector), Some(net)) = (&models.detector, &models.pix2pix) else {
                anyhow::bail!("the pix2pix networks are not loaded");
            };
            Ok(pix2pix::reconstruct(face, detector, net, &pix2pix::Options::default())?.mesh)
        }
        Method::Morphable | Method::MorphableCgan => {
            let refine = method == Method::MorphableCgan;
            stage("load morphable model", 0.0)?;
            models.detector()?;
            lazy(&mut models.morphable, || Ok(MorphableModel::embedded()?))?;
            if refine {
                lazy(&mut models.refiner, || Ok(RefinerModel::embedded()?))?;
            }
            stage(if refine { "fit and refine" } else { "fit" }, 0.3)?;
            let (Some(detector), Some(model)) = (&models.detector, &models.morphable) else {
                anyhow::bail!("the morphable model is not loaded");
            };
            let refiner = if refine {
                models.refiner.as_ref()
            } else {
                None
            };
            let options = morphable::method::Options::default();
            Ok(morphable::method::reconstruct(face, detector, model, refiner, &options)?.mesh)
        }
    }
}
