//! The orbit camera and the little matrix algebra it needs.
//!
//! Axis convention (the mesh frame, see [`crate::pipeline::mesh`]): +X right, +Y up, +Z towards
//! the viewer. At yaw 0 and pitch 0 the camera sits on the +Z side of its target and looks down
//! -Z, so a reconstructed face is seen from the front. Matrices are column-major `[[f32; 4]; 4]`
//! (`m[column][row]`), as WGSL's `mat4x4<f32>` expects; clip space is wgpu's (depth in [0, 1]).

/// A column-major 4 x 4 matrix.
pub type Mat4 = [[f32; 4]; 4];

/// An orbiting perspective camera: it looks at `target` from `distance` away, turned by `yaw`
/// about +Y and raised by `pitch`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrbitCamera {
    /// The point looked at, in mesh units.
    pub target: [f32; 3],
    /// Rotation about +Y, degrees; positive moves the camera towards +X.
    pub yaw_deg: f32,
    /// Elevation, degrees in [-89, 89]; positive looks from above.
    pub pitch_deg: f32,
    /// Distance from the target, mesh units.
    pub distance: f32,
    /// Radius of the framed object, mesh units (sets the near and far planes).
    pub radius: f32,
    /// Vertical field of view, degrees.
    pub fov_y_deg: f32,
}

impl Default for OrbitCamera {
    fn default() -> Self {
        Self {
            target: [0.0; 3],
            yaw_deg: 0.0,
            pitch_deg: 0.0,
            distance: 3.0,
            radius: 1.0,
            fov_y_deg: 30.0,
        }
    }
}

impl OrbitCamera {
    /// A front view framing the axis-aligned box `(min, max)` with a small margin.
    #[must_use]
    pub fn framing(min: [f32; 3], max: [f32; 3]) -> Self {
        let target = [0, 1, 2].map(|i| 0.5 * (min[i] + max[i]));
        let half = [0, 1, 2].map(|i| 0.5 * (max[i] - min[i]));
        let radius = length(half).max(1e-6);
        let fov_y_deg = 30.0_f32;
        let distance = 1.1 * radius / (0.5 * fov_y_deg.to_radians()).sin();
        Self {
            target,
            distance,
            radius,
            fov_y_deg,
            ..Self::default()
        }
    }

    /// Turns the camera by `(dx, dy)` degrees of yaw and pitch; pitch stays within +-89.
    pub fn orbit(&mut self, dx_deg: f32, dy_deg: f32) {
        self.yaw_deg = (self.yaw_deg + dx_deg).rem_euclid(360.0);
        self.pitch_deg = (self.pitch_deg + dy_deg).clamp(-89.0, 89.0);
    }

    /// Moves closer (`steps > 0`) or further; each step scales the distance by 0.9 or 1/0.9.
    pub fn zoom(&mut self, steps: f32) {
        let d = self.distance * 0.9_f32.powf(steps);
        self.distance = d.clamp(self.radius * 0.05, self.radius * 50.0);
    }

    /// Slides the target sideways by `(dx, dy)` fractions of the view height (screen right/up).
    pub fn pan(&mut self, dx: f32, dy: f32) {
        let (right, up, _) = self.basis();
        let h = 2.0 * self.distance * (0.5 * self.fov_y_deg.to_radians()).tan();
        for i in 0..3 {
            self.target[i] += h * (dx * right[i] + dy * up[i]);
        }
    }

    /// The camera position.
    #[must_use]
    pub fn eye(&self) -> [f32; 3] {
        let (yaw, pitch) = (self.yaw_deg.to_radians(), self.pitch_deg.to_radians());
        let dir = [
            pitch.cos() * yaw.sin(),
            pitch.sin(),
            pitch.cos() * yaw.cos(),
        ];
        [0, 1, 2].map(|i| self.target[i] + self.distance * dir[i])
    }

    /// Unit vectors `(right, up, forward)` of the camera in world space; forward points from the
    /// eye to the target.
    #[must_use]
    pub fn basis(&self) -> ([f32; 3], [f32; 3], [f32; 3]) {
        let eye = self.eye();
        let forward = normalize([0, 1, 2].map(|i| self.target[i] - eye[i]));
        let right = normalize(cross(forward, [0.0, 1.0, 0.0]));
        let up = cross(right, forward);
        (right, up, forward)
    }

    /// Near and far plane distances that enclose the framed sphere.
    #[must_use]
    pub fn near_far(&self) -> (f32, f32) {
        let far = self.distance + 2.0 * self.radius;
        let near = (self.distance - 2.0 * self.radius).max(far * 1e-3);
        (near, far)
    }

    /// `view_from_world`: a right-handed look-at matrix.
    #[must_use]
    pub fn view_from_world(&self) -> Mat4 {
        let (r, u, f) = self.basis();
        let e = self.eye();
        [
            [r[0], u[0], -f[0], 0.0],
            [r[1], u[1], -f[1], 0.0],
            [r[2], u[2], -f[2], 0.0],
            [-dot(r, e), -dot(u, e), dot(f, e), 1.0],
        ]
    }

    /// `clip_from_view`: a perspective projection for an `aspect` (width / height) viewport.
    #[must_use]
    pub fn clip_from_view(&self, aspect: f32) -> Mat4 {
        let (near, far) = self.near_far();
        let t = 1.0 / (0.5 * self.fov_y_deg.to_radians()).tan();
        let a = far / (near - far);
        [
            [t / aspect.max(1e-6), 0.0, 0.0, 0.0],
            [0.0, t, 0.0, 0.0],
            [0.0, 0.0, a, -1.0],
            [0.0, 0.0, a * near, 0.0],
        ]
    }

    /// `clip_from_world` for an `aspect` (width / height) viewport.
    #[must_use]
    pub fn clip_from_world(&self, aspect: f32) -> Mat4 {
        mul(&self.clip_from_view(aspect), &self.view_from_world())
    }
}

/// The product `a * b` of two column-major matrices.
#[must_use]
pub fn mul(a: &Mat4, b: &Mat4) -> Mat4 {
    let mut out = [[0.0; 4]; 4];
    for (c, col) in out.iter_mut().enumerate() {
        for (r, v) in col.iter_mut().enumerate() {
            *v = (0..4).map(|k| a[k][r] * b[c][k]).sum();
        }
    }
    out
}

/// Applies `m` to the point `p` (w = 1) and returns the homogeneous result.
#[must_use]
pub fn transform(m: &Mat4, p: [f32; 3]) -> [f32; 4] {
    [0, 1, 2, 3].map(|r| m[0][r] * p[0] + m[1][r] * p[1] + m[2][r] * p[2] + m[3][r])
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn length(a: [f32; 3]) -> f32 {
    dot(a, a).sqrt()
}

fn normalize(a: [f32; 3]) -> [f32; 3] {
    let l = length(a).max(1e-12);
    a.map(|x| x / l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ndc(cam: &OrbitCamera, p: [f32; 3]) -> [f32; 3] {
        let c = transform(&cam.clip_from_world(1.0), p);
        [c[0] / c[3], c[1] / c[3], c[2] / c[3]]
    }

    #[test]
    fn target_projects_to_the_centre_within_depth_range() {
        let mut cam = OrbitCamera::framing([-1.0; 3], [1.0; 3]);
        cam.orbit(37.0, -20.0);
        let p = ndc(&cam, cam.target);
        assert!(p[0].abs() < 1e-5 && p[1].abs() < 1e-5, "{p:?}");
        assert!(p[2] > 0.0 && p[2] < 1.0, "{p:?}");
    }

    #[test]
    fn front_view_keeps_right_and_up() {
        let cam = OrbitCamera::framing([-1.0; 3], [1.0; 3]);
        let right = ndc(&cam, [0.5, 0.0, 0.0]);
        let up = ndc(&cam, [0.0, 0.5, 0.0]);
        assert!(right[0] > 0.1 && right[1].abs() < 1e-5);
        assert!(up[1] > 0.1 && up[0].abs() < 1e-5);
        // Nearer points have smaller depth.
        assert!(ndc(&cam, [0.0, 0.0, 1.0])[2] < ndc(&cam, [0.0, 0.0, -1.0])[2]);
    }

    #[test]
    fn framed_box_fits_the_view() {
        let cam = OrbitCamera::framing([0.0; 3], [2.0, 4.0, 1.0]);
        for corner in [[0.0, 0.0, 1.0], [2.0, 4.0, 1.0], [2.0, 0.0, 0.0]] {
            let p = ndc(&cam, corner);
            assert!(p[0].abs() <= 1.0 && p[1].abs() <= 1.0 && (0.0..=1.0).contains(&p[2]));
        }
    }

    #[test]
    fn pitch_is_clamped_and_zoom_bounded() {
        let mut cam = OrbitCamera::default();
        cam.orbit(0.0, 500.0);
        assert_eq!(cam.pitch_deg, 89.0);
        cam.zoom(1e4);
        assert!(cam.distance >= cam.radius * 0.05 - 1e-6);
    }
}
