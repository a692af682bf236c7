//! The real-photo front end: find every face (BlazeFace), landmark a chosen one (FaceMesh, 468
//! 3D points), and cut an aligned crop of any size for the reconstructors.
//!
//! It follows MediaPipe's graphs (`mediapipe==0.10.14`, static-image mode) step by step:
//! letterbox to the detector's input (192x192 for the default full-range BlazeFace, 128x128 for
//! the face-mesh graph's short-range one, [`DetectOptions::network`]), decode the anchors,
//! weighted NMS (IoU 0.3), ROI = box x 1.5 rotated by the eye line, 192x192 crop, landmarks
//! projected back. The tests in `tests/it/frontend.rs` hold it to the wheel's own numbers.
//!
//! Small faces in large photos: tile passes of the same network ([`tiles`], [`Tiles`]).
//! Low resolution: a small photo is simply upscaled by the letterbox, and when the
//! detector finds nothing in a photo of at most [`DetectOptions::whole_image_max_side`] pixels,
//! the whole photo is treated as one face crop (FaceMesh's presence score decides) and the ROI
//! is re-centred on the landmarks once (see [`Detector::faces`]). `docs/frontend.md` measures it.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use visage::pipeline::{detect::Detector, photo::Photo};
//! let photo = Photo::load("face.jpg")?;
//! let detector = Detector::new(&candle_core::Device::Cpu)?;
//! let faces = detector.faces(&photo.rgb)?; // sorted by score, Err(NoFace) when none
//! let marks = detector.landmarks(&photo.rgb, &faces[0])?;
//! let crop = visage::pipeline::detect::aligned_crop(&photo.rgb, &marks.roi, 256);
//! # Ok(()) }
//! ```

pub mod contour68;
pub mod decode;
pub mod landmarks68;
pub mod overlay;
pub mod roi;
pub mod tiles;
pub mod warp;

pub use roi::{Face, Landmarks, Roi};
pub use warp::Affine2;

use crate::nn::{
    blazeface, blazeface::BlazeFace, blazeface_full::BlazeFaceFull, facemesh, facemesh::FaceMesh,
};
use candle_core::{Device, Tensor};
use decode::Network;
use image::RgbImage;
use warp::Border;

/// Why detection or landmarking failed.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// No face scored above the threshold (a wall, a blank image, a face too small).
    #[error("no face found in the {width} x {height} photo")]
    NoFace {
        /// Photo width.
        width: u32,
        /// Photo height.
        height: u32,
    },
    /// FaceMesh ran but does not see a face in the region.
    #[error("the landmark model sees no face in the region (presence {presence:.3})")]
    NoLandmarks {
        /// Face-presence probability.
        presence: f32,
    },
    /// The photo has no pixels.
    #[error("the photo is empty")]
    EmptyPhoto,
    /// A network failed (weights or device).
    #[error("network failure: {0}")]
    Network(#[from] candle_core::Error),
}

/// Detector settings.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectOptions {
    /// The network of the first whole-photo pass (short range: exactly MediaPipe's face-mesh
    /// graph, whose ROIs FaceMesh expects).
    pub network: Network,
    /// Minimum detection score, before NMS; `None`: MediaPipe's for each network (0.5 short
    /// range, 0.6 full range, [`Network::min_score`]).
    pub min_score: Option<f32>,
    /// IoU above which weighted NMS merges detections (MediaPipe: 0.3).
    pub nms_iou: f32,
    /// Minimum FaceMesh presence probability for landmarks to count (MediaPipe: 0.5).
    pub min_presence: f32,
    /// Photos up to this side (pixels) are tried as one face crop when the detector finds
    /// nothing; 0 disables the fallback.
    pub whole_image_max_side: u32,
    /// When the tile passes for small faces run (see [`tiles`]).
    pub tiles: Tiles,
    /// Width in pixels of the smallest face the tile passes look for (tiles of `16 x
    /// min_face`); 0 disables tiling.
    pub min_face: u32,
    /// With [`Tiles::Auto`], a first pass whose faces are all at least this fraction of the
    /// photo's longer side wide and score at least [`Self::portrait_score`] is a portrait (of
    /// one person or a few): nothing more runs. Short range's boxes over crowds of faces too
    /// small for it are wide too (0.15-0.31 of the side on the group set) but score 0.51-0.74.
    /// A lower fraction was measured and rejected: at 0.125 (as at anything under 0.18) a
    /// portrait next to a face half its size (Grace Hopper beside the astronaut,
    /// `several_faces_are_all_returned`) loses the smaller face, which short range does not see
    /// at 12 input pixels.
    pub portrait: f32,
    /// The score a portrait's face needs (short range gives faces it sees whole 0.9 and more,
    /// and a misplaced box over a crowd of faces too small for it 0.55-0.75).
    pub portrait_score: f32,
    /// Tiles run when the full-range whole-photo pass found no face or a face narrower than
    /// this fraction of the photo's longer side (a sign of a distant crowd), or always with
    /// [`Tiles::Always`].
    pub tile_below: f32,
    /// Most tiles per photo (each one full-range pass, about 10 ms on one CPU core here).
    pub max_tiles: usize,
    /// Faces narrower than this fraction of the photo's longer side (the whole-photo pass saw
    /// them at under `128 x fraction` pixels) take their box from a tile when one found them,
    /// and get their ROI re-centred on a first set of landmarks and are landmarked again; 0
    /// disables both.
    pub refine_below: f32,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            network: Network::ShortRange,
            min_score: None,
            nms_iou: 0.3,
            min_presence: 0.5,
            whole_image_max_side: 160,
            tiles: Tiles::Auto,
            min_face: 32,
            portrait: 0.25,
            portrait_score: 0.85,
            tile_below: 0.1,
            max_tiles: 128,
            refine_below: 0.15,
        }
    }
}

impl DetectOptions {
    /// MediaPipe's own rules for `network`: one whole-photo pass, its score threshold, no
    /// tiles (the small-photo fallback stays).
    #[must_use]
    pub fn wheel(network: Network) -> Self {
        Self {
            network,
            tiles: Tiles::Never,
            ..Self::default()
        }
    }
}

/// The detection policies a user picks from (`--detector`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Policy {
    /// Short-range BlazeFace on the whole photo (MediaPipe's face-mesh graph); unless that
    /// finds one large face, full-range BlazeFace on the whole photo, then tiles when faces
    /// may be too small for it (the default).
    #[default]
    Auto,
    /// Both whole-photo passes and the tiles, always: the most small faces, the most time.
    Tiles,
    /// Full-range BlazeFace on the whole photo only (MediaPipe's face detection, model 1).
    Full,
    /// Short-range BlazeFace on the whole photo only (MediaPipe's face-mesh graph).
    Short,
}

impl Policy {
    /// The detector settings of this policy; the tiles look for faces down to `min_face` px.
    #[must_use]
    pub fn options(self, min_face: u32) -> DetectOptions {
        let base = match self {
            Self::Auto => DetectOptions::default(),
            Self::Tiles => DetectOptions {
                tiles: Tiles::Always,
                ..DetectOptions::default()
            },
            Self::Full => DetectOptions::wheel(Network::FullRange),
            Self::Short => DetectOptions::wheel(Network::ShortRange),
        };
        DetectOptions { min_face, ..base }
    }
}

/// What runs after the first whole-photo pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tiles {
    /// Nothing: the first pass alone (MediaPipe's own rule).
    Never,
    /// Nothing after a portrait (see [`DetectOptions::portrait`]); otherwise a full-range
    /// whole-photo pass when the first was short range, then tiles when they can find faces
    /// the whole photo hides (see [`DetectOptions::tile_below`]).
    #[default]
    Auto,
    /// The full-range whole-photo pass and the tiles always (the most recall, the most time).
    Always,
}

/// Squares per BlazeFace batch in the tile passes.
pub const TILE_BATCH: usize = 32;

/// An aligned face crop and where it came from.
#[derive(Clone, Debug)]
pub struct AlignedCrop {
    /// The crop, `size x size` RGB.
    pub image: RgbImage,
    /// Photo pixels -> crop pixels (continuous coordinates, see [`warp`]).
    pub crop_from_photo: Affine2,
}

/// BlazeFace + FaceMesh on one device.
#[derive(Clone, Debug)]
pub struct Detector {
    blazeface: BlazeFace,
    full_range: BlazeFaceFull,
    anchors: [Vec<[f32; 2]>; 2],
    facemesh: FaceMesh,
    device: Device,
    /// Settings.
    pub options: DetectOptions,
}

impl Detector {
    /// Loads the networks from the embedded weights, default options.
    ///
    /// # Errors
    /// [`DetectError::Network`] when the weights cannot be loaded on `device`.
    pub fn new(device: &Device) -> Result<Self, DetectError> {
        Self::with_options(device, DetectOptions::default())
    }

    /// Loads the networks from the embedded weights, with `options`.
    ///
    /// # Errors
    /// [`DetectError::Network`] when the weights cannot be loaded on `device`.
    pub fn with_options(device: &Device, options: DetectOptions) -> Result<Self, DetectError> {
        Ok(Self {
            blazeface: BlazeFace::embedded(device)?,
            full_range: BlazeFaceFull::embedded(device)?,
            anchors: [Network::ShortRange.anchors(), Network::FullRange.anchors()],
            facemesh: FaceMesh::embedded(device)?,
            device: device.clone(),
            options,
        })
    }

    /// Every face in the photo, highest score first.
    ///
    /// # Errors
    /// [`DetectError::NoFace`] when there is none (after the small-photo fallback).
    pub fn faces(&self, img: &RgbImage) -> Result<Vec<Face>, DetectError> {
        let faces = self.detect(img)?;
        if !faces.is_empty() {
            return Ok(faces);
        }
        let (w, h) = img.dimensions();
        if w.max(h) <= self.options.whole_image_max_side
            && let Some(face) = self.whole_image_face(img)?
        {
            return Ok(vec![face]);
        }
        Err(DetectError::NoFace {
            width: w,
            height: h,
        })
    }

    /// BlazeFace alone (no whole-image fallback): the faces scoring at least `min_score` on the
    /// whole photo (exactly MediaPipe's) plus, when [`DetectOptions::tiles`] says so, those
    /// only found on tiles (see [`tiles`]), sorted.
    ///
    /// # Errors
    /// [`DetectError::EmptyPhoto`], [`DetectError::Network`].
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Face>, DetectError> {
        let (w, h) = img.dimensions();
        if w == 0 || h == 0 {
            return Err(DetectError::EmptyPhoto);
        }
        let (wf, hf) = (w as f32, h as f32);
        let side = wf.max(hf);
        let whole = tiles::Square {
            x: (wf - side) / 2.0,
            y: (hf - side) / 2.0,
            side,
        };
        let first = self.options.network;
        let mut dets = self.whole_photo(first, img, whole)?;
        let portrait = !dets.is_empty()
            && dets.iter().all(|d| {
                d.corners[2] - d.corners[0] >= self.options.portrait * side
                    && d.score >= self.options.portrait_score
            });
        match self.options.tiles {
            Tiles::Never => return Ok(sorted_faces(&dets)),
            Tiles::Auto if portrait => return Ok(sorted_faces(&dets)),
            Tiles::Auto | Tiles::Always => {}
        }
        // The full-range pass's faces (the first pass's when it was full range) decide on
        // tiles: a short-range box over a crowd too small for it says little.
        let full = if first == Network::ShortRange {
            self.whole_photo(Network::FullRange, img, whole)?
        } else {
            dets.clone()
        };
        let smallest = full
            .iter()
            .map(|d| d.corners[2] - d.corners[0])
            .fold(f32::INFINITY, f32::min);
        let tile = self.options.tiles == Tiles::Always
            || full.is_empty()
            || smallest < self.options.tile_below * side;
        if first == Network::ShortRange {
            // A face short range saw at a few input pixels takes the full-range box (seen at 1.5
            // times the size), as tiles do below.
            self.merge(&mut dets, full, side);
        }
        if !tile {
            return Ok(sorted_faces(&dets));
        }
        let grid = tiles::grid(
            w,
            h,
            self.options.min_face,
            Network::FullRange.input_size(),
            self.options.max_tiles,
        );
        self.with_tile_faces(img, dets, &grid)
    }

    /// Adds the faces of a later pass to `dets`: small boxes of `dets` take the overlapping
    /// later box ([`tiles::sharpen`]), faces no earlier detection overlaps are appended.
    /// Returns how many were appended (at the end of `dets`).
    fn merge(
        &self,
        dets: &mut Vec<decode::RawDetection>,
        later: Vec<decode::RawDetection>,
        side: f32,
    ) -> usize {
        let iou = self.options.nms_iou;
        tiles::sharpen(dets, &later, iou, self.options.refine_below * side);
        let new = tiles::new_faces(dets, later, iou);
        let n = new.len();
        dets.extend(new);
        n
    }

    /// The tile passes over `grid` on top of the whole-photo detections `dets`: every face,
    /// sorted; faces found only on tiles must pass FaceMesh's presence check.
    fn with_tile_faces(
        &self,
        img: &RgbImage,
        mut dets: Vec<decode::RawDetection>,
        grid: &[tiles::Square],
    ) -> Result<Vec<Face>, DetectError> {
        let (wf, hf) = (img.width() as f32, img.height() as f32);
        let mut found = Vec::new();
        for (tile, raw) in grid
            .iter()
            .zip(self.detect_squares(Network::FullRange, img, grid)?)
        {
            let in_tile = decode::weighted_nms(raw, self.options.nms_iou);
            found.extend(
                in_tile
                    .into_iter()
                    .filter(|d| !tiles::touches_inner_edge(d, tile, wf, hf, 0.02)),
            );
        }
        let found = decode::weighted_nms(found, self.options.nms_iou);
        let appended = self.merge(&mut dets, found, wf.max(hf));
        let whole = dets.len() - appended;
        let mut faces: Vec<Face> = dets[..whole].iter().map(to_face).collect();
        for face in dets[whole..].iter().map(to_face) {
            let marks = self.landmarks_in(img, &Roi::from_face(&face))?;
            if marks.presence >= self.options.min_presence {
                faces.push(face);
            }
        }
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(faces)
    }

    /// One whole-photo pass of `network` (MediaPipe's letterbox), after NMS.
    fn whole_photo(
        &self,
        network: Network,
        img: &RgbImage,
        whole: tiles::Square,
    ) -> Result<Vec<decode::RawDetection>, DetectError> {
        let raw = self
            .detect_squares(network, img, &[whole])?
            .into_iter()
            .flatten()
            .collect();
        Ok(decode::weighted_nms(raw, self.options.nms_iou))
    }

    /// BlazeFace on squares of the photo (zero outside them), one batch per
    /// [`TILE_BATCH`] squares; per square, its detections in photo pixels before NMS. The
    /// whole-photo square is MediaPipe's letterbox: NMS and IoU are unchanged by this uniform
    /// scaling, so mapping before NMS equals the wheel's letterbox removal after it.
    fn detect_squares(
        &self,
        network: Network,
        img: &RgbImage,
        squares: &[tiles::Square],
    ) -> Result<Vec<Vec<decode::RawDetection>>, DetectError> {
        let n = network.input_size();
        let anchors = &self.anchors[usize::from(network == Network::FullRange)];
        let mut out = Vec::with_capacity(squares.len());
        for batch in squares.chunks(TILE_BATCH) {
            let mut pixels = Vec::with_capacity(batch.len() * n * n * 3);
            for sq in batch {
                let side = f64::from(sq.side);
                let center = [f64::from(sq.x) + side / 2.0, f64::from(sq.y) + side / 2.0];
                pixels.extend(warp::mediapipe_input(
                    img,
                    center,
                    side,
                    0.0,
                    n,
                    Border::Zero,
                ));
            }
            let input = self.to_tensor(&pixels, batch.len(), n, 2.0 / 255.0, -1.0)?;
            let forward = || -> candle_core::Result<(Tensor, Tensor)> {
                Ok(match network {
                    Network::ShortRange => {
                        let res = self.blazeface.forward(&input)?;
                        (res.logits, res.regressors)
                    }
                    Network::FullRange => {
                        let res = self.full_range.forward(&input)?;
                        (res.logits, res.regressors)
                    }
                })
            };
            // One photo's pass is too small to gain from candle's threads; tile batches are not.
            let (logits, regressors) = if batch.len() == 1 {
                one_thread(forward)?
            } else {
                forward()?
            };
            let logits: Vec<Vec<f32>> = logits.to_vec2()?;
            let regressors: Vec<f32> = regressors.flatten_all()?.to_vec1()?;
            let per = anchors.len() * blazeface::NUM_COORDS;
            for (i, sq) in batch.iter().enumerate() {
                let regs = &regressors[i * per..(i + 1) * per];
                let map = |x: f32, y: f32| [sq.x + x * sq.side, sq.y + y * sq.side];
                let min_score = self
                    .options
                    .min_score
                    .unwrap_or_else(|| network.min_score());
                let dets = decode::decode(network, anchors, &logits[i], regs, min_score)
                    .into_iter()
                    .map(|d| {
                        let (a, b) = (
                            map(d.corners[0], d.corners[1]),
                            map(d.corners[2], d.corners[3]),
                        );
                        decode::RawDetection {
                            score: d.score,
                            corners: [a[0], a[1], b[0], b[1]],
                            keypoints: d.keypoints.map(|k| map(k[0], k[1])),
                        }
                    });
                out.push(dets.collect());
            }
        }
        Ok(out)
    }

    /// The 468 landmarks of `face`, in its MediaPipe ROI; small faces (see
    /// [`DetectOptions::refine_below`]) are landmarked a second time in the ROI of the first
    /// landmarks, as MediaPipe's video tracking does.
    ///
    /// # Errors
    /// [`DetectError::NoLandmarks`] when FaceMesh's presence is below `min_presence`.
    pub fn landmarks(&self, img: &RgbImage, face: &Face) -> Result<Landmarks, DetectError> {
        let long = img.width().max(img.height()) as f32;
        self.landmarks_passes(img, face, face.bbox[2] < self.options.refine_below * long)
    }

    /// The landmarks the reconstructions use: FaceMesh in the detection ROI, then, for every
    /// face (not only the small ones of [`Self::landmarks`]), once more in the ROI of those
    /// landmarks (MediaPipe's tracking step: the crop FaceMesh sees on every video frame after
    /// the first). On the real-photo evaluation sets this lowers the depth error of the meshes
    /// at full resolution and down to 32 px faces, while the 2D error of the 68 points rises
    /// for faces of 64 px and less (docs/frontend.md, "A second FaceMesh pass").
    ///
    /// # Errors
    /// [`DetectError::NoLandmarks`] when FaceMesh's presence is below `min_presence`.
    pub fn landmarks_tracked(&self, img: &RgbImage, face: &Face) -> Result<Landmarks, DetectError> {
        self.landmarks_passes(img, face, true)
    }

    /// FaceMesh in the face's detection ROI and, with `again`, once more in the ROI of its
    /// landmarks (kept when FaceMesh still sees a face there).
    fn landmarks_passes(
        &self,
        img: &RgbImage,
        face: &Face,
        again: bool,
    ) -> Result<Landmarks, DetectError> {
        let mut marks = self.landmarks_in(img, &Roi::from_face(face))?;
        if again
            && marks.presence >= self.options.min_presence
            && let Some(roi) = Roi::from_landmarks(&marks.points)
        {
            let refined = self.landmarks_in(img, &roi)?;
            if refined.presence >= self.options.min_presence {
                marks = refined;
            }
        }
        if marks.presence < self.options.min_presence {
            return Err(DetectError::NoLandmarks {
                presence: marks.presence,
            });
        }
        Ok(marks)
    }

    /// FaceMesh on an arbitrary ROI, whatever its presence score.
    ///
    /// # Errors
    /// [`DetectError::Network`].
    pub fn landmarks_in(&self, img: &RgbImage, roi: &Roi) -> Result<Landmarks, DetectError> {
        let n = facemesh::INPUT_SIZE;
        let center = [f64::from(roi.center[0]), f64::from(roi.center[1])];
        let pixels = warp::mediapipe_input(
            img,
            center,
            f64::from(roi.size),
            f64::from(roi.rotation),
            n,
            Border::Replicate,
        );
        let input = self.to_tensor(&pixels, 1, n, 1.0 / 255.0, 0.0)?;
        let out = one_thread(|| self.facemesh.forward(&input))?;
        let raw: Vec<Vec<f32>> = out.landmarks.squeeze(0)?.to_vec2()?;
        let logit: Vec<f32> = out.presence.to_vec1()?;
        let photo_from_crop = roi.photo_from_crop(n as f32);
        let s = photo_from_crop.scale();
        let points = raw
            .iter()
            .map(|p| {
                let q = photo_from_crop.apply([p[0], p[1]]);
                [q[0], q[1], p[2] * s]
            })
            .collect();
        let presence = logit.first().map_or(0.0, |l| 1.0 / (1.0 + (-l).exp()));
        Ok(Landmarks {
            points,
            presence,
            roi: *roi,
        })
    }

    /// The small-photo fallback: FaceMesh on the whole photo, then once more on the ROI of the
    /// landmarks it found.
    fn whole_image_face(&self, img: &RgbImage) -> Result<Option<Face>, DetectError> {
        let (w, h) = img.dimensions();
        let roi = Roi {
            center: [w as f32 / 2.0, h as f32 / 2.0],
            size: w.max(h) as f32,
            rotation: 0.0,
        };
        let first = self.landmarks_in(img, &roi)?;
        if first.presence < self.options.min_presence {
            return Ok(None);
        }
        let Some(refined) = Roi::from_landmarks(&first.points) else {
            return Ok(None);
        };
        let second = self.landmarks_in(img, &refined)?;
        let best = if second.presence >= first.presence {
            second
        } else {
            first
        };
        Ok(Some(best.to_face(best.presence)))
    }

    /// `batch x size x size x 3` u8 pixels -> `[batch, 3, size, size]` f32, `u8 * scale + offset`.
    fn to_tensor(
        &self,
        pixels: &[u8],
        batch: usize,
        size: usize,
        scale: f32,
        offset: f32,
    ) -> Result<Tensor, DetectError> {
        let data: Vec<f32> = pixels
            .iter()
            .map(|&v| f32::from(v) * scale + offset)
            .collect();
        Ok(Tensor::from_vec(data, (batch, size, size, 3), &self.device)?.permute((0, 3, 1, 2))?)
    }
}

/// The detections as faces, highest score first.
fn sorted_faces(dets: &[decode::RawDetection]) -> Vec<Face> {
    let mut faces: Vec<Face> = dets.iter().map(to_face).collect();
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    faces
}

fn to_face(d: &decode::RawDetection) -> Face {
    let c = d.corners;
    Face {
        score: d.score,
        bbox: [c[0], c[1], c[2] - c[0], c[3] - c[1]],
        keypoints: d.keypoints,
    }
}

/// An `size x size` crop of `roi` (eyes level) and its `crop_from_photo` transform.
#[must_use]
pub fn aligned_crop(img: &RgbImage, roi: &Roi, size: u32) -> AlignedCrop {
    let photo_from_crop = roi.photo_from_crop(size as f32);
    let image = warp::warp_rgb(img, &photo_from_crop, size, size);
    let crop_from_photo = photo_from_crop.inverse().unwrap_or(Affine2::IDENTITY);
    AlignedCrop {
        image,
        crop_from_photo,
    }
}

thread_local! {
    /// A one-thread pool per calling thread (see [`one_thread`]).
    static ONE_THREAD: Option<rayon::ThreadPool> =
        rayon::ThreadPoolBuilder::new().num_threads(1).build().ok();
}

/// Runs `f` (a network's forward pass) in a one-thread rayon pool of the calling thread, so that
/// candle's matrix products run on this thread alone: on these small networks its threaded
/// products cost more than they gain (`visage bench` on astronaut.png here, FaceMesh twice:
/// 12.6 ms with candle's two threads, 10.6 ms in this pool). Callers on different threads keep
/// running side by side.
fn one_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    ONE_THREAD.with(|pool| match pool {
        Some(pool) => pool.install(f),
        None => f(),
    })
}
