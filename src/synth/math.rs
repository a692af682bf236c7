//! Tiny 3-vector and 3x3 rotation helpers for the renderer (plain arrays, no dependency).

/// `a + b`.
#[must_use]
pub fn add(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// `a - b`.
#[must_use]
pub fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// `a * s`.
#[must_use]
pub fn scale(a: [f32; 3], s: f32) -> [f32; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

/// Dot product.
#[must_use]
pub fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Cross product.
#[must_use]
pub fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// `a` scaled to unit length, or +Z for a (near) zero vector.
#[must_use]
pub fn normalize(a: [f32; 3]) -> [f32; 3] {
    let l = dot(a, a).sqrt();
    if l > 1e-20 {
        scale(a, 1.0 / l)
    } else {
        [0.0, 0.0, 1.0]
    }
}

/// Linear interpolation `a + (b - a) t` per channel.
#[must_use]
pub fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Hermite step from 0 at `e0` to 1 at `e1`.
#[must_use]
pub fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// A row-major 3x3 matrix.
pub type Mat3 = [[f32; 3]; 3];

/// `m * v`.
#[must_use]
pub fn mul(m: &Mat3, v: [f32; 3]) -> [f32; 3] {
    [dot(m[0], v), dot(m[1], v), dot(m[2], v)]
}

/// `a * b`.
#[must_use]
pub fn matmul(a: &Mat3, b: &Mat3) -> Mat3 {
    std::array::from_fn(|r| std::array::from_fn(|c| (0..3).map(|k| a[r][k] * b[k][c]).sum()))
}

/// Rotation from Euler angles in degrees: `yaw` about +Y, `pitch` about +X, `roll` about +Z,
/// composed as `R = Ry * Rx * Rz` (roll first).
#[must_use]
pub fn rotation_ypr(yaw_deg: f32, pitch_deg: f32, roll_deg: f32) -> Mat3 {
    let (sy, cy) = yaw_deg.to_radians().sin_cos();
    let (sp, cp) = pitch_deg.to_radians().sin_cos();
    let (sr, cr) = roll_deg.to_radians().sin_cos();
    let ry = [[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]];
    let rx = [[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]];
    let rz = [[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]];
    matmul(&ry, &matmul(&rx, &rz))
}

/// sRGB-encoded value in [0, 1] from linear light.
#[must_use]
pub fn to_srgb(x: f32) -> f32 {
    let x = x.clamp(0.0, 1.0);
    if x <= 0.003_130_8 {
        12.92 * x
    } else {
        1.055 * x.powf(1.0 / 2.4) - 0.055
    }
}

/// Linear light from an sRGB-encoded value in [0, 1].
#[must_use]
pub fn from_srgb(x: f32) -> f32 {
    if x <= 0.040_45 {
        x / 12.92
    } else {
        ((x + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear RGB from 8-bit sRGB.
#[must_use]
pub fn srgb8(r: u8, g: u8, b: u8) -> [f32; 3] {
    [r, g, b].map(|c| from_srgb(f32::from(c) / 255.0))
}

/// Area-weighted unit vertex normals of a triangle mesh (counter-clockwise = outside).
#[must_use]
pub fn vertex_normals(positions: &[[f32; 3]], triangles: &[[u32; 3]]) -> Vec<[f32; 3]> {
    let mut acc = vec![[0.0f32; 3]; positions.len()];
    for t in triangles {
        let [a, b, c] = t.map(|i| positions[i as usize]);
        let n = cross(sub(b, a), sub(c, a));
        for &i in t {
            acc[i as usize] = add(acc[i as usize], n);
        }
    }
    acc.into_iter().map(normalize).collect()
}
/// Barycentric interpolation of a per-vertex vector attribute over triangle `tri`.
pub(crate) fn interp(attr: &[[f32; 3]], tri: [u32; 3], b: [f32; 2]) -> [f32; 3] {
    let [a0, a1, a2] = tri.map(|i| attr[i as usize]);
    let b0 = 1.0 - b[0] - b[1];
    std::array::from_fn(|k| b0 * a0[k] + b[0] * a1[k] + b[1] * a2[k])
}

/// Barycentric interpolation of a per-vertex scalar attribute over triangle `tri`.
pub(crate) fn interp1(attr: &[f32], tri: [u32; 3], b: [f32; 2]) -> f32 {
    let [a0, a1, a2] = tri.map(|i| attr[i as usize]);
    (1.0 - b[0] - b[1]) * a0 + b[0] * a1 + b[1] * a2
}
