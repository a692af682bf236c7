//! The pinhole camera of one sample and the frames it links.
//!
//! - model frame: the head model's centimetres (+X subject's left, +Y up, +Z out of the face);
//! - camera frame: centimetres, +X right, +Y down, +Z forward (into the scene);
//! - crop pixels: `(u, v)` with `v` going down, pixel centres at `+0.5`;
//! - crop frame (the [`crate::pipeline::mesh`] convention): `x = u`, `y = size - v`,
//!   `z = (z_ref - Z) * focal / z_ref` (crop pixels, +Z towards the camera, 0 at the head pivot's
//!   depth `z_ref`). `x, y` are exact perspective projections; `z` is the depth offset scaled to
//!   pixels at the pivot's depth.

use super::math::{Mat3, add, mul, rotation_ypr, sub};
use super::params::{Framing, Pose};
use super::raster::ScreenVertex;

/// Camera of one sample: `camera = rotation * (model - pivot) + translation`, then a pinhole
/// projection with focal `focal` (crop pixels) and principal point `centre`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// `camera_from_model` rotation (head pose times the axis flip).
    pub rotation: Mat3,
    /// Head pivot in the model frame, cm.
    pub pivot: [f32; 3],
    /// Pivot position in the camera frame, cm.
    pub translation: [f32; 3],
    /// Focal length in crop pixels.
    pub focal: f32,
    /// Principal point in crop pixels `[u, v]`.
    pub centre: [f32; 2],
    /// Crop side in pixels.
    pub size: usize,
}

impl Camera {
    /// Places the head (pivot `pivot`, face centre `face` in the model frame) by `pose` and
    /// `framing`, and frames a `size`-pixel square crop on the face centre.
    #[must_use]
    pub fn new(pivot: [f32; 3], face: [f32; 3], pose: Pose, framing: Framing, size: usize) -> Self {
        let r = rotation_ypr(pose.yaw, pose.pitch, pose.roll);
        let flip = [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]];
        let rotation = super::math::matmul(&flip, &r);
        let translation = [framing.offset[0], framing.offset[1], framing.distance];
        let s = size as f32;
        let focal = s * framing.distance / framing.side;
        let mut cam = Self {
            rotation,
            pivot,
            translation,
            focal,
            centre: [0.0, 0.0],
            size,
        };
        let fc = cam.to_camera(face);
        cam.centre = [
            s * (0.5 + framing.shift[0]) - focal * fc[0] / fc[2],
            s * (0.5 + framing.shift[1]) - focal * fc[1] / fc[2],
        ];
        cam
    }

    /// Model-frame point to the camera frame.
    #[must_use]
    pub fn to_camera(&self, p: [f32; 3]) -> [f32; 3] {
        add(mul(&self.rotation, sub(p, self.pivot)), self.translation)
    }

    /// Model-frame direction (e.g. a normal) to the camera frame.
    #[must_use]
    pub fn rotate(&self, n: [f32; 3]) -> [f32; 3] {
        mul(&self.rotation, n)
    }

    /// Camera-frame point to crop pixels, scaled by `ss` for a supersampled buffer.
    #[must_use]
    pub fn project(&self, p: [f32; 3], ss: f32) -> ScreenVertex {
        ScreenVertex {
            x: (self.focal * p[0] / p[2] + self.centre[0]) * ss,
            y: (self.focal * p[1] / p[2] + self.centre[1]) * ss,
            w: p[2],
        }
    }

    /// Depth of the head pivot, cm: the crop frame's `z = 0`.
    #[must_use]
    pub fn z_ref(&self) -> f32 {
        self.translation[2]
    }

    /// Camera-frame depth `w` (cm) to crop-frame `z` (pixels, larger = closer).
    #[must_use]
    pub fn crop_z(&self, w: f32) -> f32 {
        (self.z_ref() - w) * self.focal / self.z_ref()
    }

    /// Camera-frame point to the crop frame (see the module docs).
    #[must_use]
    pub fn crop_from_camera(&self, p: [f32; 3]) -> [f32; 3] {
        let v = self.project(p, 1.0);
        [v.x, self.size as f32 - v.y, self.crop_z(p[2])]
    }

    /// Camera-frame direction to crop-frame axes (+Y up, +Z towards the camera).
    #[must_use]
    pub fn crop_direction(n: [f32; 3]) -> [f32; 3] {
        [n[0], -n[1], -n[2]]
    }

    /// The camera as 18 numbers for the shards: focal (crop px), principal point `u, v` (crop
    /// px), translation (3, cm; its z is `z_ref`), the `camera_from_model` rotation (9,
    /// row-major) and the pivot in the model frame (3, cm).
    #[must_use]
    pub fn to_row(&self) -> [f32; 18] {
        let mut out = [0.0; 18];
        out[..3].copy_from_slice(&[self.focal, self.centre[0], self.centre[1]]);
        out[3..6].copy_from_slice(&self.translation);
        for r in 0..3 {
            out[6 + 3 * r..9 + 3 * r].copy_from_slice(&self.rotation[r]);
        }
        out[15..18].copy_from_slice(&self.pivot);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontal_face_is_centred_and_upright() {
        let framing = Framing {
            distance: 60.0,
            offset: [0.0; 2],
            side: 20.0,
            shift: [0.0; 2],
        };
        let pose = Pose {
            yaw: 0.0,
            pitch: 0.0,
            roll: 0.0,
        };
        let cam = Camera::new([0.0; 3], [0.0, 0.0, 5.0], pose, framing, 128);
        let c = cam.crop_from_camera(cam.to_camera([0.0, 0.0, 5.0]));
        assert!((c[0] - 64.0).abs() < 1e-3 && (c[1] - 64.0).abs() < 1e-3);
        // A point above the face centre (model +Y) is higher in the crop frame (+Y up), and the
        // subject's left (+X) is the image's right.
        let up = cam.crop_from_camera(cam.to_camera([0.0, 3.0, 5.0]));
        let left = cam.crop_from_camera(cam.to_camera([3.0, 0.0, 5.0]));
        assert!(up[1] > c[1] + 10.0 && left[0] > c[0] + 10.0);
        // Closer to the camera = larger crop z.
        assert!(c[2] > 0.0);
    }
}
