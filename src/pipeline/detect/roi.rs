//! Faces, regions of interest and landmarks in photo pixels, and the transforms between the photo
//! and a face's aligned crop.
//!
//! Photo coordinates are continuous pixels: x right, y down, the top-left corner at (0, 0)
//! (MediaPipe's normalised outputs times the photo's width / height).

use super::warp::Affine2;

/// One detected face, in photo pixels.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Face {
    /// Detector confidence in (0, 1).
    pub score: f32,
    /// Box `[x, y, width, height]` (top-left corner and size).
    pub bbox: [f32; 4],
    /// Subject's right eye, left eye, nose tip, mouth centre, right ear tragion, left ear
    /// tragion, each `[x, y]`.
    pub keypoints: [[f32; 2]; 6],
}

/// A rotated square around a face: the FaceMesh crop region.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Roi {
    /// Centre `[x, y]`, photo pixels.
    pub center: [f32; 2],
    /// Side of the square, photo pixels.
    pub size: f32,
    /// Rotation in radians that levels the eyes (positive: clockwise on screen).
    pub rotation: f32,
}

/// FaceMesh's crop is the detector box's longer side times this.
pub const ROI_SCALE: f32 = 1.5;

/// `angle` wrapped into [-pi, pi).
#[must_use]
pub fn normalize_radians(angle: f32) -> f32 {
    use std::f32::consts::PI;
    angle - 2.0 * PI * ((angle + PI) / (2.0 * PI)).floor()
}

impl Roi {
    /// MediaPipe's detection-to-ROI rule: rotation from keypoint 0 (right eye) to keypoint 1
    /// (left eye), centred on the box, the longer box side x 1.5.
    #[must_use]
    pub fn from_face(face: &Face) -> Self {
        let [x0, y0] = face.keypoints[0];
        let [x1, y1] = face.keypoints[1];
        let rotation = normalize_radians(-(-(y1 - y0)).atan2(x1 - x0));
        let [x, y, w, h] = face.bbox;
        Self {
            center: [x + w / 2.0, y + h / 2.0],
            size: w.max(h) * ROI_SCALE,
            rotation,
        }
    }

    /// MediaPipe's landmarks-to-ROI rule (its tracking step): rotation from landmark 33 to
    /// landmark 263 (the outer eye corners), centred on the landmarks' box in the rotated frame,
    /// its longer side x 1.5. `points` are photo pixels.
    #[must_use]
    pub fn from_landmarks(points: &[[f32; 3]]) -> Option<Self> {
        let (a, b) = (points.get(33)?, points.get(263)?);
        let rotation = normalize_radians(-(-(b[1] - a[1])).atan2(b[0] - a[0]));
        let un_rotate = Affine2::similarity(1.0, -rotation, [0.0, 0.0]);
        let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
        for p in points {
            let q = un_rotate.apply([p[0], p[1]]);
            for k in 0..2 {
                lo[k] = lo[k].min(q[k]);
                hi[k] = hi[k].max(q[k]);
            }
        }
        let mid = Affine2::similarity(1.0, rotation, [0.0, 0.0])
            .apply([(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0]);
        let size = (hi[0] - lo[0]).max(hi[1] - lo[1]) * ROI_SCALE;
        Some(Self {
            center: mid,
            size,
            rotation,
        })
    }

    /// The map from an `n x n` crop of this ROI to the photo (continuous coordinates): crop
    /// point (u, v) shows photo point `center + R(rotation) (u s - size/2, v s - size/2)`,
    /// `s = size / n`. This is also how FaceMesh's 192-pixel outputs map back to the photo.
    #[must_use]
    pub fn photo_from_crop(&self, n: f32) -> Affine2 {
        let s = self.size / n;
        let r = Affine2::similarity(1.0, self.rotation, [0.0, 0.0]);
        let offset = r.apply([-self.size / 2.0, -self.size / 2.0]);
        Affine2::similarity(
            s,
            self.rotation,
            [self.center[0] + offset[0], self.center[1] + offset[1]],
        )
    }

    /// The ROI in MediaPipe's normalised form `[x_center, y_center, width, height, rotation]`
    /// for a `width x height` photo.
    #[must_use]
    pub fn normalized(&self, width: u32, height: u32) -> [f32; 5] {
        let (w, h) = (width as f32, height as f32);
        [
            self.center[0] / w,
            self.center[1] / h,
            self.size / w,
            self.size / h,
            self.rotation,
        ]
    }
}

/// FaceMesh's output for one face, in photo pixels.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Landmarks {
    /// 468 points `[x, y, z]`: x, y photo pixels; z relative depth in the same units, smaller is
    /// nearer the camera (MediaPipe's convention), zero near the face's centre plane.
    pub points: Vec<[f32; 3]>,
    /// Face-presence probability in (0, 1).
    pub presence: f32,
    /// The crop region the points were computed in.
    pub roi: Roi,
}

impl Landmarks {
    /// A face box and keypoints derived from the landmarks (for faces found without the
    /// detector): the points' bounding box, eye centres, nose tip (1), mouth centre (13) and
    /// the face-oval points beside the ears (234, 454).
    #[must_use]
    pub fn to_face(&self, score: f32) -> Face {
        let p = |i: usize| self.points.get(i).map_or([0.0, 0.0], |q| [q[0], q[1]]);
        let mid = |a: usize, b: usize| {
            let (pa, pb) = (p(a), p(b));
            [(pa[0] + pb[0]) / 2.0, (pa[1] + pb[1]) / 2.0]
        };
        let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
        for q in &self.points {
            for k in 0..2 {
                lo[k] = lo[k].min(q[k]);
                hi[k] = hi[k].max(q[k]);
            }
        }
        Face {
            score,
            bbox: [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]],
            keypoints: [mid(33, 133), mid(362, 263), p(1), p(13), p(234), p(454)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_eyes_give_zero_rotation_and_square_roi() {
        let face = Face {
            score: 0.9,
            bbox: [10.0, 20.0, 40.0, 30.0],
            keypoints: [
                [20.0, 30.0],
                [40.0, 30.0],
                [0.0; 2],
                [0.0; 2],
                [0.0; 2],
                [0.0; 2],
            ],
        };
        let roi = Roi::from_face(&face);
        assert_eq!(roi.center, [30.0, 35.0]);
        assert_eq!(roi.size, 60.0);
        assert_eq!(roi.rotation, 0.0);
        // Crop corner (0, 0) is the ROI's top-left corner; the centre maps to the centre.
        let m = roi.photo_from_crop(192.0);
        assert_eq!(m.apply([0.0, 0.0]), [0.0, 5.0]);
        assert_eq!(m.apply([96.0, 96.0]), [30.0, 35.0]);
    }

    #[test]
    fn rotation_follows_the_eye_line() {
        // Left eye lower than the right one (y down): the head is rolled clockwise on screen.
        let kp = [
            [0.0, 0.0],
            [10.0, 10.0],
            [0.0; 2],
            [0.0; 2],
            [0.0; 2],
            [0.0; 2],
        ];
        let roi = Roi::from_face(&Face {
            score: 1.0,
            bbox: [0.0, 0.0, 10.0, 10.0],
            keypoints: kp,
        });
        assert!((roi.rotation - std::f32::consts::FRAC_PI_4).abs() < 1e-6);
    }
}
