//! The worker's models and its use of the one photo-to-mesh path of
//! [`crate::pipeline::reconstruct`]: the detector and each method's [`Reconstructor`] are loaded
//! on first use inside the worker thread (so loading shows progress and never blocks the UI).
//!
//! Faces are found by the BlazeFace + FaceMesh front end ([`crate::pipeline::detect`]). The
//! networks are loaded on first use on the device the app chose ([`Models::set_device`]; the
//! process-wide [`crate::device::current`] until then); ESPCN and the CGAN refiner always run on
//! the CPU.

use super::{CropRect, FaceSize, Faces};
use crate::device::{DeviceChoice, DeviceError, SelectedDevice};
use crate::pipeline::detect::Detector;
use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::face::face_width;
use crate::pipeline::reconstruct::{FacePick, Reconstructor, Shrink, photo_to_mesh};
use crate::pipeline::upscale::Upscaler;
use crate::timing::{Stages, measure};
use anyhow::Context;
use std::collections::HashMap;

pub use crate::pipeline::reconstruct::Method;

/// The networks the worker has loaded so far (each on first use) and the device they run on.
#[derive(Default)]
pub struct Models {
    device: Option<SelectedDevice>,
    detector: Option<Detector>,
    methods: HashMap<Method, Box<dyn Reconstructor>>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models")
            .field("device", &self.device)
            .field("detector", &self.detector.is_some())
            .field("methods", &self.methods.keys().collect::<Vec<_>>())
            .finish()
    }
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

    /// The reconstructor of `method`, loaded on first use.
    ///
    /// # Errors
    /// The device cannot be opened or the weights do not load.
    pub fn reconstructor(&mut self, method: Method) -> anyhow::Result<&dyn Reconstructor> {
        if !self.methods.contains_key(&method) {
            let device = self.device()?;
            let loaded = crate::pipeline::reconstruct::load(method, &device, None)?;
            self.methods.insert(method, loaded);
        }
        self.methods
            .get(&method)
            .map(AsRef::as_ref)
            .context("the method is not loaded")
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

/// Side of the face rectangle offered for a detected box, as a multiple of the box's longer
/// side: enough context for FaceMesh's own crop (1.5x) plus a margin.
const FACE_RECT_SCALE: f32 = 1.8;

/// A progress callback: `(stage, fraction of the method done)`; an error stops the method
/// (the job was cancelled).
pub type StageFn<'a> = dyn Fn(&'static str, f32) -> anyhow::Result<()> + 'a;

/// The size of each face of `photo` (its landmarks' width and eye distance).
///
/// # Errors
/// A detector failure.
pub fn face_sizes(models: &mut Models, photo: &Photo) -> anyhow::Result<Vec<Option<FaceSize>>> {
    let detector = models.detector()?;
    let faces = match detector.faces(&photo.rgb) {
        Ok(f) => f,
        Err(crate::pipeline::detect::DetectError::NoFace { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    Ok(faces
        .iter()
        .map(|f| {
            let lm = detector.landmarks(&photo.rgb, f).ok()?;
            let p = to_68(&lm.points)?;
            let xy: Vec<[f32; 2]> = p.iter().map(|q| [q[0], q[1]]).collect();
            let (l, r) = (p[36], p[45]);
            Some(FaceSize {
                width_px: face_width(&xy),
                eye_px: (l[0] - r[0]).hypot(l[1] - r[1]),
            })
        })
        .collect())
}

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

/// What to reconstruct: a face of a photo (the one nearest the rectangle's centre, or the best),
/// optionally shrunk to a simulated face width, enlarged with `upscaler`.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// The chosen face's rectangle, or `None` for the best face.
    pub face: Option<CropRect>,
    /// The simulated low-resolution capture, if any.
    pub shrink: Option<Shrink>,
    /// How a face smaller than the crop is enlarged.
    pub upscaler: Upscaler,
    /// The method.
    pub method: Method,
}

/// The face nearest the centre of `rect`, or the best face.
#[must_use]
pub fn pick(rect: Option<CropRect>) -> FacePick {
    rect.map_or(FacePick::Rank(0), |r| {
        let c = [
            r.x as f32 + r.width as f32 / 2.0,
            r.y as f32 + r.height as f32 / 2.0,
        ];
        FacePick::Near(c)
    })
}

/// The mesh of `request` on `photo`, through the one photo-to-mesh path, reporting stages.
///
/// # Errors
/// No face, a failed method, or a cancelled job.
pub fn reconstruct(
    models: &mut Models,
    photo: &Photo,
    request: &Request,
    stage: &StageFn<'_>,
) -> anyhow::Result<Mesh> {
    Ok(reconstruct_timed(models, photo, request, stage)?.mesh)
}

/// A reconstruction as the comparison needs it.
pub struct Timed {
    /// The mesh in the crop frame (what the viewport shows and files store).
    pub mesh: Mesh,
    /// The same surface in the original photo's image frame (x right, y down, z nearer,
    /// pixels of the photo before any simulated shrink).
    pub image_positions: Vec<[f32; 3]>,
    /// The reconstruction's own 68 points in that frame (NaN where the mesh has none).
    pub landmarks: Vec<[f32; 3]>,
    /// Time per stage.
    pub stages: Stages,
}

/// [`reconstruct`], with the mesh also in the original photo's frame, the reconstruction's
/// landmarks and the time per stage.
///
/// # Errors
/// As [`reconstruct`].
pub fn reconstruct_timed(
    models: &mut Models,
    photo: &Photo,
    request: &Request,
    stage: &StageFn<'_>,
) -> anyhow::Result<Timed> {
    stage("load networks", 0.0)?;
    models.detector()?;
    models.reconstructor(request.method)?;
    let (Some(detector), Some(method)) = (&models.detector, models.methods.get(&request.method))
    else {
        anyhow::bail!("the {} networks are not loaded", request.method);
    };
    stage("reconstruct", 0.2)?;
    let pick = pick(request.face);
    let (outcome, stages) = measure(|| {
        photo_to_mesh(
            detector,
            method.as_ref(),
            &photo.rgb,
            pick,
            request.upscaler,
            request.shrink,
        )
    });
    let (prepared, result) = outcome?;
    // Back in the original photo's pixels: undo the simulated shrink.
    let s = prepared.scale;
    let to_image = |p: [f32; 3]| {
        let q = prepared.face.photo_frame_point(p);
        [q[0] / s, -q[1] / s, q[2] / s]
    };
    let landmarks = result
        .landmarks68(&prepared.face)
        .into_iter()
        .map(|p| p.map_or([f32::NAN; 3], to_image))
        .collect();
    let image_positions = result.mesh.positions.iter().map(|&p| to_image(p)).collect();
    Ok(Timed {
        mesh: result.mesh,
        image_positions,
        landmarks,
        stages,
    })
}
