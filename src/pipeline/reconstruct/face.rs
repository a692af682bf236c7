//! The prepared face every reconstructor starts from: one [`FaceCrop`] per photo and face, made
//! once by [`prepare`] (detection, FaceMesh, the crop framed like the synthetic training samples,
//! the user's upscaler when the face is smaller than the crop) and handed unchanged to whichever
//! [`super::Reconstructor`] the user picked. The app's worker, `visage reconstruct`, `visage
//! bench` and `visage eval` all prepare faces here, so what the evaluation measures is what a
//! user gets.
//!
//! Frames: the crop is [`CROP_SIDE`] pixels square, unrotated, framed by
//! [`super::crop::face_roi`]. Meshes come back in the crop frame of [`crate::pipeline::mesh`]
//! (+X right, +Y up = `CROP_SIDE - row`, +Z towards the camera, crop pixels);
//! [`FaceCrop::to_photo_frame`] maps them to the photo frame (+X right = column, +Y up = `-row`,
//! +Z towards the camera, photo pixels: x and y are the photo's pixel coordinates with y
//! negated, z on the same scale).

use super::MethodError;
use super::crop::face_roi;
use crate::pipeline::degrade::{DegradeMethod, shrink_face};
use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::detect::warp::Affine2;
use crate::pipeline::detect::{AlignedCrop, Detector, Landmarks, aligned_crop};
use crate::pipeline::mesh::Mesh;
use crate::pipeline::upscale::{Upscaler, upscale};
use image::RgbImage;
use std::borrow::Cow;

/// Side of the face crop every reconstructor works on, pixels (the synthetic sample side).
pub const CROP_SIDE: u32 = 128;

/// Smallest crop region cut from the photo before upscaling, pixels.
const MIN_NATIVE_SIDE: u32 = 8;

/// One face of one photo, prepared for the reconstructors.
#[derive(Clone, Debug)]
pub struct FaceCrop {
    /// The [`CROP_SIDE`] crop (enlarged with [`FaceCrop::upscaler`] when the face region was
    /// smaller) and photo -> crop pixels.
    pub crop: AlignedCrop,
    /// FaceMesh's 468 landmarks in crop pixels: x right, y down, z in x's units (smaller =
    /// nearer), as FaceMesh gives them.
    pub points: Vec<[f32; 3]>,
    /// The 68-point subset used by the networks, crop pixels (y down).
    pub landmarks68: Vec<[f32; 2]>,
    /// Side of the crop region in photo pixels (the face's own resolution).
    pub native_side: f32,
    /// How the region was enlarged to [`CROP_SIDE`] (unused when `native_side >= CROP_SIDE`).
    pub upscaler: Upscaler,
}

impl FaceCrop {
    /// The face of `photo` whose FaceMesh landmarks (photo pixels) are `landmarks`.
    ///
    /// # Errors
    /// [`MethodError::Crop`] for landmarks that cannot frame a crop, or an upscaler failure.
    pub fn from_landmarks(
        photo: &RgbImage,
        landmarks: &Landmarks,
        upscaler: Upscaler,
    ) -> Result<Self, MethodError> {
        let roi = face_roi(landmarks).ok_or(MethodError::Crop)?;
        let native = roi
            .size
            .round()
            .clamp(MIN_NATIVE_SIDE as f32, CROP_SIDE as f32) as u32;
        let crop = if native >= CROP_SIDE {
            aligned_crop(photo, &roi, CROP_SIDE)
        } else {
            let small = aligned_crop(photo, &roi, native);
            let image = upscale(&small.image, upscaler, CROP_SIDE, CROP_SIDE)?;
            let s = CROP_SIDE as f32 / native as f32;
            AlignedCrop {
                image,
                crop_from_photo: Affine2::similarity(s, 0.0, [0.0, 0.0])
                    .compose(&small.crop_from_photo),
            }
        };
        Self::framed(crop, &landmarks.points, roi.size, upscaler)
    }

    /// A face whose crop is already made (e.g. a synthetic test sample, or a crop the caller
    /// degraded), with FaceMesh's points given in photo pixels of the photo `crop` came from.
    ///
    /// # Errors
    /// [`MethodError::Crop`] when the points lack the 68-point subset.
    pub fn framed(
        crop: AlignedCrop,
        photo_points: &[[f32; 3]],
        native_side: f32,
        upscaler: Upscaler,
    ) -> Result<Self, MethodError> {
        let m = crop.crop_from_photo;
        let s = m.scale();
        let points: Vec<[f32; 3]> = photo_points
            .iter()
            .map(|p| {
                let q = m.apply([p[0], p[1]]);
                [q[0], q[1], p[2] * s]
            })
            .collect();
        let landmarks68 = to_68(&points)
            .ok_or(MethodError::Crop)?
            .iter()
            .map(|p| [p[0], p[1]])
            .collect();
        Ok(Self {
            crop,
            points,
            landmarks68,
            native_side,
            upscaler,
        })
    }

    /// FaceMesh's 468 points in the crop frame (+Y up, +Z towards the camera, crop pixels).
    #[must_use]
    pub fn points_crop_frame(&self) -> Vec<[f32; 3]> {
        let side = self.side();
        self.points
            .iter()
            .map(|p| [p[0], side - p[1], -p[2]])
            .collect()
    }

    /// Side of the crop, pixels.
    #[must_use]
    pub fn side(&self) -> f32 {
        self.crop.image.height() as f32
    }

    /// Crop pixels -> photo pixels.
    #[must_use]
    pub fn photo_from_crop(&self) -> Affine2 {
        self.crop
            .crop_from_photo
            .inverse()
            .unwrap_or(Affine2::IDENTITY)
    }

    /// A crop-frame point in the photo frame (see the module docs).
    #[must_use]
    pub fn photo_frame_point(&self, p: [f32; 3]) -> [f32; 3] {
        let m = self.photo_from_crop();
        let q = m.apply([p[0], self.side() - p[1]]);
        [q[0], -q[1], p[2] * m.scale()]
    }

    /// `mesh` (crop frame) moved to the photo frame; normals recomputed.
    #[must_use]
    pub fn to_photo_frame(&self, mesh: &Mesh) -> Mesh {
        let mut out = mesh.clone();
        for p in &mut out.positions {
            *p = self.photo_frame_point(*p);
        }
        if !out.normals.is_empty() {
            out.compute_normals();
        }
        out
    }

    /// The photo colour under each vertex of a crop-frame `mesh`, in [0, 1].
    #[must_use]
    pub fn colours(&self, photo: &RgbImage, positions: &[[f32; 3]]) -> Vec<[f32; 3]> {
        let m = self.photo_from_crop();
        let side = self.side();
        positions
            .iter()
            .map(|p| {
                let q = m.apply([p[0], side - p[1]]);
                crate::pipeline::detect::warp::sample_bilinear(photo, q).map(|v| v / 255.0)
            })
            .collect()
    }
}

/// Which face of a photo to prepare.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FacePick {
    /// By detection rank (0 = highest score).
    Rank(usize),
    /// The face whose detection box centre is nearest this photo point (pixels).
    Near([f32; 2]),
}

/// A simulated low-resolution capture: the photo shrunk so the face's landmarks span
/// `face_width` pixels ([`shrink_face`]), then prepared like any photo.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shrink {
    /// Target face width (68-landmark x-extent), pixels.
    pub face_width: f32,
    /// How the small image is formed.
    pub method: DegradeMethod,
}

/// A prepared face and the photo it belongs to (shrunk when a [`Shrink`] was asked for).
#[derive(Clone, Debug)]
pub struct Prepared<'a> {
    /// The photo the crop was cut from: the original, or its shrunk copy.
    pub photo: Cow<'a, RgbImage>,
    /// The prepared face.
    pub face: FaceCrop,
    /// FaceMesh's landmarks in `photo`'s pixels.
    pub landmarks: Landmarks,
    /// Pixels of `photo` per pixel of the original photo (1 without a shrink).
    pub scale: f32,
}

/// Detects the faces of `photo`, landmarks the one ranked `face_index` (0 = best score) and
/// prepares its crop, enlarging a small face with `upscaler`.
///
/// # Errors
/// No face, no such face, landmarks rejected or a failed crop.
pub fn prepare<'a>(
    detector: &Detector,
    photo: &'a RgbImage,
    face_index: usize,
    upscaler: Upscaler,
) -> Result<Prepared<'a>, MethodError> {
    prepare_face(detector, photo, FacePick::Rank(face_index), upscaler, None)
}

/// The one way a photo's face is prepared: detect, pick, landmark; with `shrink`, shrink the
/// photo so those landmarks span the target width and detect and landmark the small photo
/// again (as a real low-resolution photo would be); then crop, enlarging with `upscaler`.
///
/// # Errors
/// No face, no such face, landmarks rejected, a failed shrink or crop.
pub fn prepare_face<'a>(
    detector: &Detector,
    photo: &'a RgbImage,
    pick: FacePick,
    upscaler: Upscaler,
    shrink: Option<Shrink>,
) -> Result<Prepared<'a>, MethodError> {
    let landmarks = find(detector, photo, pick)?;
    let (photo, landmarks, scale) = match shrink {
        None => (Cow::Borrowed(photo), landmarks, 1.0),
        Some(sh) => {
            let width = to_68(&landmarks.points).map_or(0.0, |p| face_width(&flat(&p)));
            let (small, s) = {
                let _span = tracing::info_span!("shrink").entered();
                shrink_face(photo, width, sh.face_width, sh.method)?
            };
            let centre = centroid(&landmarks.points).map(|v| v * s);
            let marks = find(detector, &small, FacePick::Near(centre))?;
            (Cow::Owned(small), marks, s)
        }
    };
    let face = {
        let _span = tracing::info_span!("crop").entered();
        FaceCrop::from_landmarks(&photo, &landmarks, upscaler)?
    };
    Ok(Prepared {
        photo,
        face,
        landmarks,
        scale,
    })
}

/// Every face of `photo` detected once, each prepared (landmarked and cropped) on its own, best
/// first: a face whose landmarks or crop fail gives its error in its place.
///
/// # Errors
/// Detection itself failed (e.g. no face at all).
pub fn prepare_all<'a>(
    detector: &Detector,
    photo: &'a RgbImage,
    upscaler: Upscaler,
) -> Result<Vec<Result<Prepared<'a>, MethodError>>, MethodError> {
    let faces = {
        let _span = tracing::info_span!("detect").entered();
        detector.faces(photo)?
    };
    Ok(faces
        .iter()
        .map(|face| {
            let landmarks = {
                let _span = tracing::info_span!("landmarks").entered();
                detector.landmarks_tracked(photo, face)?
            };
            let _span = tracing::info_span!("crop").entered();
            let prepared = FaceCrop::from_landmarks(photo, &landmarks, upscaler)?;
            Ok(Prepared {
                photo: Cow::Borrowed(photo),
                face: prepared,
                landmarks,
                scale: 1.0,
            })
        })
        .collect())
}

/// Detection, the pick, and FaceMesh.
fn find(detector: &Detector, photo: &RgbImage, pick: FacePick) -> Result<Landmarks, MethodError> {
    let faces = {
        let _span = tracing::info_span!("detect").entered();
        detector.faces(photo)?
    };
    let face = match pick {
        FacePick::Rank(index) => faces.get(index).ok_or(MethodError::NoSuchFace {
            index,
            count: faces.len(),
        })?,
        FacePick::Near(p) => faces
            .iter()
            .min_by(|a, b| distance(a.bbox, p).total_cmp(&distance(b.bbox, p)))
            .ok_or(MethodError::NoSuchFace { index: 0, count: 0 })?,
    };
    let _span = tracing::info_span!("landmarks").entered();
    Ok(detector.landmarks_tracked(photo, face)?)
}

/// Distance from the centre of an `[x, y, w, h]` box to `p`.
fn distance(b: [f32; 4], p: [f32; 2]) -> f32 {
    (b[0] + b[2] / 2.0 - p[0]).hypot(b[1] + b[3] / 2.0 - p[1])
}

/// Mean x, y of `points`.
fn centroid(points: &[[f32; 3]]) -> [f32; 2] {
    let n = points.len().max(1) as f32;
    let (x, y) = points
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
    [x / n, y / n]
}

/// The x, y of 3D points.
fn flat(points: &[[f32; 3]]) -> Vec<[f32; 2]> {
    points.iter().map(|p| [p[0], p[1]]).collect()
}

/// Width of a face in pixels: the x-extent of its 68 landmarks (the measure "a 32 px face"
/// refers to everywhere in Visage).
#[must_use]
pub fn face_width(landmarks68: &[[f32; 2]]) -> f32 {
    let (lo, hi) = landmarks68
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p[0]), hi.max(p[0]))
        });
    (hi - lo).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square_points(side: f32) -> Vec<[f32; 3]> {
        (0..468)
            .map(|i| {
                let t = i as f32 / 467.0;
                [100.0 + side * t, 200.0 + side * (1.0 - t), -5.0 * t]
            })
            .collect()
    }

    #[test]
    fn photo_frame_undoes_the_crop_transform() {
        let crop = AlignedCrop {
            image: RgbImage::new(CROP_SIDE, CROP_SIDE),
            // photo -> crop: scale 0.5, then shift.
            crop_from_photo: Affine2::similarity(0.5, 0.0, [-30.0, -80.0]),
        };
        let points = square_points(50.0);
        let face = FaceCrop::framed(crop, &points, 256.0, Upscaler::Bicubic).unwrap();
        // Every FaceMesh point, taken to the crop frame and back, lands on its photo pixel with
        // y negated and z (nearer = larger) in photo pixels.
        for (c, p) in face.points_crop_frame().iter().zip(&points) {
            let q = face.photo_frame_point(*c);
            assert!((q[0] - p[0]).abs() < 1e-3, "{q:?} {p:?}");
            assert!((q[1] + p[1]).abs() < 1e-3, "{q:?} {p:?}");
            assert!((q[2] + p[2]).abs() < 1e-3, "{q:?} {p:?}");
        }
    }

    #[test]
    fn face_width_is_the_landmark_extent() {
        assert!((face_width(&[[3.0, 0.0], [10.0, 5.0], [-2.0, 1.0]]) - 12.0).abs() < 1e-6);
    }
}
