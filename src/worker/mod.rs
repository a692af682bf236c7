//! The worker: one named thread that owns everything heavy (photo decoding, degradation,
//! upscaling, reconstruction, and the networks once they exist, loaded lazily on first use) so
//! the UI thread never blocks.
//!
//! The UI sends a [`Job`] over a bounded channel and drains [`Event`]s with `try_recv` once per
//! frame; after every event the worker calls `request_repaint` on the egui context it holds. A
//! panic inside a job is caught and reported as [`Event::Error`]; the worker keeps serving. A job
//! is cancelled through a shared flag checked between stages ([`Worker::cancel`]).

mod jobs;
pub mod reconstruct;

pub use reconstruct::Method;

use crate::device::DeviceChoice;
use crate::pipeline::degrade::DegradeMethod;
use crate::pipeline::export::MeshFormat;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::photo::Photo;
use crate::pipeline::upscale::Upscaler;
use image::RgbImage;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

/// Jobs waiting in the queue at most.
const JOB_QUEUE: usize = 8;
/// Events waiting for the UI at most (the worker waits when the UI falls behind).
const EVENT_QUEUE: usize = 64;

/// A rectangle of a photo, in photo pixels (top-left corner and size).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CropRect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width, at least 1.
    pub width: u32,
    /// Height, at least 1.
    pub height: u32,
}

/// A simulated low-resolution capture: the face is brought down to `face_width` pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Simulation {
    /// Target face (crop) width in pixels: 128, 64, 32 or 24 in the app.
    pub face_width: u32,
    /// How the low-resolution image is formed.
    pub method: DegradeMethod,
}

/// What to reconstruct and how.
#[derive(Clone, Debug)]
pub struct ReconstructJob {
    /// The photo.
    pub photo: Arc<Photo>,
    /// The face rectangle; `None` uses the whole photo.
    pub crop: Option<CropRect>,
    /// Simulate a low-resolution capture first.
    pub simulation: Option<Simulation>,
    /// How the (simulated) low-resolution crop is brought back to size.
    pub upscaler: Upscaler,
    /// The reconstruction method.
    pub method: Method,
}

/// What a 3D comparison varies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CompareAxis {
    /// One panel per upscaler, with the chosen method.
    #[default]
    Upscalers,
    /// One panel per method, with the chosen upscaler.
    Methods,
}

/// One panel of a 3D comparison, as the worker sends it.
#[derive(Clone, Debug)]
pub struct Panel3d {
    /// Position in the grid.
    pub index: usize,
    /// Panels in all.
    pub count: usize,
    /// "espcn", "3dmm", ...
    pub label: String,
    /// The mesh (crop frame), textured.
    pub mesh: Arc<Mesh>,
    /// Photo-to-mesh time, milliseconds.
    pub ms: f64,
    /// Stage times of the run, milliseconds.
    pub stages: Vec<(&'static str, f64)>,
    /// With a simulated capture: depth51 (%) of this mesh against the same method on the
    /// original-resolution face, at that face's own 68 landmarks (as `visage eval real`).
    pub error_pct: Option<f32>,
}

/// Work for the worker thread.
#[derive(Clone, Debug)]
pub enum Job {
    /// Decode a photo and look for faces.
    LoadPhoto(PathBuf),
    /// Read a mesh file (OBJ, PLY, STL, GLB).
    OpenMesh(PathBuf),
    /// Crop, optionally degrade and upscale, then reconstruct a mesh.
    Reconstruct(ReconstructJob),
    /// Run every upscaler on the crop, scored against it when a simulation is given.
    Compare {
        /// The photo.
        photo: Arc<Photo>,
        /// The face rectangle; `None` uses the whole photo.
        crop: Option<CropRect>,
        /// The simulated capture, or `None` to upscale the crop itself x4.
        simulation: Option<Simulation>,
    },
    /// One face reconstructed several ways, panel by panel (see [`CompareAxis`]).
    Compare3d {
        /// What to reconstruct (its upscaler or method is the one held fixed).
        job: ReconstructJob,
        /// What varies.
        axis: CompareAxis,
    },
    /// Write a 3D comparison: the grid image and every panel's mesh into a folder.
    SaveComparison3d {
        /// The grid as shown.
        image: Arc<RgbImage>,
        /// Each panel's label and mesh.
        meshes: Vec<(String, Arc<Mesh>)>,
        /// Target folder.
        dir: PathBuf,
    },
    /// Write a mesh file; OBJ may add an MTL and a PNG beside it.
    SaveMesh {
        /// The mesh.
        mesh: Arc<Mesh>,
        /// Target file.
        path: PathBuf,
        /// File format.
        format: MeshFormat,
    },
    /// Write a comparison as one labelled side-by-side figure.
    SaveComparison {
        /// The comparison.
        comparison: Arc<UpscalerComparison>,
        /// Target file.
        path: PathBuf,
    },
    /// Write an image (PNG or what the extension names).
    SaveImage {
        /// The pixels.
        image: Arc<RgbImage>,
        /// Target file.
        path: PathBuf,
    },
    /// Run the networks on this device from now on (they reload on next use); a CUDA device
    /// that cannot be used falls back to the CPU with an error.
    SetDevice(DeviceChoice),
}

impl Job {
    /// A short name for progress and error messages.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::LoadPhoto(_) => "open photo",
            Self::OpenMesh(_) => "open mesh",
            Self::Reconstruct(_) => "reconstruct",
            Self::Compare { .. } => "compare upscalers",
            Self::Compare3d { .. } => "compare in 3D",
            Self::SaveComparison3d { .. } => "save 3D comparison",
            Self::SaveMesh { .. } => "save mesh",
            Self::SaveComparison { .. } => "save comparison",
            Self::SaveImage { .. } => "save image",
            Self::SetDevice(_) => "set device",
        }
    }
}

/// One upscaler's output in a comparison.
#[derive(Clone, Debug)]
pub struct ComparedUpscaler {
    /// The upscaler.
    pub upscaler: Upscaler,
    /// Its output.
    pub image: RgbImage,
    /// `(PSNR dB, SSIM)` on RGB against the original crop, when a simulation was run.
    pub scores: Option<(f64, f64)>,
}

/// The upscaler comparison of one crop.
#[derive(Clone, Debug)]
pub struct UpscalerComparison {
    /// The crop all outputs are compared with (the original pixels).
    pub reference: RgbImage,
    /// The input every upscaler saw (the simulated capture or the crop itself).
    pub low: RgbImage,
    /// Upscaling factor.
    pub factor: u32,
    /// Width of the face (68-landmark x-extent) in `low`, pixels, when it was measured.
    pub face_width: Option<f32>,
    /// The simulation, if one was run.
    pub simulation: Option<Simulation>,
    /// One entry per upscaler, in [`Upscaler::ALL`] order.
    pub rows: Vec<ComparedUpscaler>,
}

/// How large a face is in its photo: what decides whether a reconstruction can be trusted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceSize {
    /// Width: the x-extent of the 68 landmarks, pixels.
    pub width_px: f32,
    /// Distance between the outer eye corners, pixels.
    pub eye_px: f32,
}

/// Faces found in a photo: the detector's face rectangles, best first (empty: no face found).
pub type Faces = Vec<CropRect>;

/// What the worker reports.
#[derive(Clone, Debug)]
pub enum Event {
    /// A job started.
    Started(&'static str),
    /// A stage of the running job began; `fraction` of the job is done, in [0, 1].
    Progress {
        /// Stage name ("crop", "upscale", ...).
        stage: &'static str,
        /// Done so far, in [0, 1].
        fraction: f32,
    },
    /// A photo was decoded.
    PhotoLoaded {
        /// The photo.
        photo: Arc<Photo>,
        /// Faces found in it.
        faces: Faces,
        /// The size of each face (`None` where its landmarks failed).
        sizes: Vec<Option<FaceSize>>,
    },
    /// A mesh is ready (opened or reconstructed).
    Mesh {
        /// The mesh, already checked.
        mesh: Arc<Mesh>,
        /// Where it came from, for the title ("file.obj", "landmarks").
        source: String,
        /// Milliseconds per stage of the reconstruction (empty for an opened file).
        stages: Vec<(&'static str, f64)>,
    },
    /// A panel of a 3D comparison is ready.
    Panel(Panel3d),
    /// An upscaler comparison is ready.
    Comparison(Arc<UpscalerComparison>),
    /// Files were written.
    Saved(Vec<PathBuf>),
    /// The networks run on a new device: sent when the worker starts (the process-wide
    /// choice) and after [`Job::SetDevice`].
    Device {
        /// What was asked for.
        choice: DeviceChoice,
        /// The device in use, for the user ("CUDA device 0", "CPU (requested)").
        description: String,
    },
    /// The job failed; the message is for the user.
    Error(String),
    /// The job stopped because it was cancelled.
    Cancelled,
    /// The job ended (after its result, error or cancellation).
    Finished,
}

/// The UI's handle on the worker thread.
pub struct Worker {
    jobs: Option<SyncSender<Job>>,
    events: Receiver<Event>,
    cancel: Arc<AtomicBool>,
}

/// Why a job was not queued.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The queue is full.
    #[error("the worker is busy; try again when the current jobs finish")]
    Busy,
    /// The worker thread is gone.
    #[error("the worker thread has stopped")]
    Stopped,
    /// The thread could not be started.
    #[error("cannot start the worker thread: {0}")]
    Spawn(#[from] std::io::Error),
}

impl Worker {
    /// Starts the named worker thread; it repaints `ctx` after every event.
    ///
    /// # Errors
    /// [`WorkerError::Spawn`] when the OS refuses a thread.
    pub fn spawn(ctx: egui::Context) -> Result<Self, WorkerError> {
        let (job_tx, job_rx) = sync_channel::<Job>(JOB_QUEUE);
        let (event_tx, event_rx) = sync_channel::<Event>(EVENT_QUEUE);
        let cancel = Arc::new(AtomicBool::new(false));
        let reporter = jobs::Reporter::new(event_tx, ctx, Arc::clone(&cancel));
        std::thread::Builder::new()
            .name("visage-worker".into())
            .spawn(move || jobs::serve(&job_rx, &reporter))?;
        Ok(Self {
            jobs: Some(job_tx),
            events: event_rx,
            cancel,
        })
    }

    /// Queues a job without blocking.
    ///
    /// # Errors
    /// [`WorkerError::Busy`] when the queue is full, [`WorkerError::Stopped`] when the thread
    /// has ended.
    pub fn send(&self, job: Job) -> Result<(), WorkerError> {
        let tx = self.jobs.as_ref().ok_or(WorkerError::Stopped)?;
        tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => WorkerError::Busy,
            TrySendError::Disconnected(_) => WorkerError::Stopped,
        })
    }

    /// Asks the running job to stop at its next stage boundary.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// The next event, if one is waiting (never blocks).
    #[must_use]
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the job channel ends the thread after its current job.
        self.cancel();
        self.jobs = None;
    }
}
