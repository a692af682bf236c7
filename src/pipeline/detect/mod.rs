//! The real-photo front end: find every face (BlazeFace), landmark a chosen one (FaceMesh, 468
//! 3D points), and cut an aligned crop of any size for the reconstructors.
//!
//! It follows MediaPipe's face-mesh graph (`mediapipe==0.10.14`, static-image mode) step by step:
//! letterbox to 128x128, decode 896 anchors, weighted NMS (IoU 0.3), ROI = box x 1.5 rotated by
//! the eye line, 192x192 crop, landmarks projected back. The tests in `tests/frontend.rs` hold
//! it to the wheel's own numbers on the fixtures.
//!
//! Low resolution: a small photo is simply upscaled by the 128-pixel letterbox, and when the
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

use crate::nn::{blazeface, blazeface::BlazeFace, facemesh, facemesh::FaceMesh};
use candle_core::{Device, Tensor};
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
    /// Minimum detection score (MediaPipe: 0.5).
    pub min_score: f32,
    /// IoU above which weighted NMS merges detections (MediaPipe: 0.3).
    pub nms_iou: f32,
    /// Minimum FaceMesh presence probability for landmarks to count (MediaPipe: 0.5).
    pub min_presence: f32,
    /// Photos up to this side (pixels) are tried as one face crop when the detector finds
    /// nothing; 0 disables the fallback.
    pub whole_image_max_side: u32,
    /// Smallest tile side (pixels) of the small-face tile passes (see [`tiles`]); 0 disables
    /// tiling.
    pub min_tile_side: u32,
    /// Most tiles per photo (each one BlazeFace pass, ~2-3 ms on one CPU core).
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
            min_score: 0.5,
            nms_iou: 0.3,
            min_presence: 0.5,
            whole_image_max_side: 160,
            min_tile_side: 128,
            max_tiles: 128,
            refine_below: 0.15,
        }
    }
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
    facemesh: FaceMesh,
    device: Device,
    /// Settings.
    pub options: DetectOptions,
}

impl Detector {
    /// Loads both networks from the embedded weights, default options.
    ///
    /// # Errors
    /// [`DetectError::Network`] when the weights cannot be loaded on `device`.
    pub fn new(device: &Device) -> Result<Self, DetectError> {
        Ok(Self {
            blazeface: BlazeFace::embedded(device)?,
            facemesh: FaceMesh::embedded(device)?,
            device: device.clone(),
            options: DetectOptions::default(),
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
    /// whole photo (exactly MediaPipe's) plus those only found on tiles (see [`tiles`]), sorted.
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
        let whole_dets = self
            .detect_squares(img, &[whole])?
            .into_iter()
            .flatten()
            .collect();
        let mut dets = decode::weighted_nms(whole_dets, self.options.nms_iou);
        if self.options.min_tile_side == 0 {
            return Ok(dets.iter().map(to_face).collect());
        }
        let mut found = Vec::new();
        let grid = tiles::grid(w, h, self.options.min_tile_side, self.options.max_tiles);
        for (tile, raw) in grid.iter().zip(self.detect_squares(img, &grid)?) {
            let in_tile = decode::weighted_nms(raw, self.options.nms_iou);
            found.extend(
                in_tile
                    .into_iter()
                    .filter(|d| !tiles::touches_inner_edge(d, tile, wf, hf, 0.02)),
            );
        }
        let found = decode::weighted_nms(found, self.options.nms_iou);
        tiles::sharpen(
            &mut dets,
            &found,
            self.options.nms_iou,
            self.options.refine_below * side,
        );
        let mut faces: Vec<Face> = dets.iter().map(to_face).collect();
        let new = tiles::new_faces(&dets, found, self.options.nms_iou);
        for face in new.iter().map(to_face) {
            let marks = self.landmarks_in(img, &Roi::from_face(&face))?;
            if marks.presence >= self.options.min_presence {
                faces.push(face);
            }
        }
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(faces)
    }

    /// BlazeFace on squares of the photo (zero outside them), one batch per
    /// [`TILE_BATCH`] squares; per square, its detections in photo pixels before NMS. The
    /// whole-photo square is MediaPipe's letterbox: NMS and IoU are unchanged by this uniform
    /// scaling, so mapping before NMS equals the wheel's letterbox removal after it.
    fn detect_squares(
        &self,
        img: &RgbImage,
        squares: &[tiles::Square],
    ) -> Result<Vec<Vec<decode::RawDetection>>, DetectError> {
        let n = blazeface::INPUT_SIZE;
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
            let res = self.blazeface.forward(&input)?;
            let logits: Vec<Vec<f32>> = res.logits.to_vec2()?;
            let regressors: Vec<f32> = res.regressors.flatten_all()?.to_vec1()?;
            let per = blazeface::NUM_ANCHORS * blazeface::NUM_COORDS;
            for (i, sq) in batch.iter().enumerate() {
                let regs = &regressors[i * per..(i + 1) * per];
                let map = |x: f32, y: f32| [sq.x + x * sq.side, sq.y + y * sq.side];
                let dets = decode::decode(&logits[i], regs, self.options.min_score)
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
        let mut marks = self.landmarks_in(img, &Roi::from_face(face))?;
        let long = img.width().max(img.height()) as f32;
        if face.bbox[2] < self.options.refine_below * long
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
        let out = self
            .facemesh
            .forward(&self.to_tensor(&pixels, 1, n, 1.0 / 255.0, 0.0)?)?;
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
