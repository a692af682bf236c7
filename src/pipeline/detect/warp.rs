//! Image warps: the 2D affine transform type, MediaPipe-exact network inputs and aligned crops.
//!
//! Two sampling conventions meet here. MediaPipe (OpenCV's `warpPerspective`) samples output
//! pixel `j` at `c + R (j s - S/2)` with integer coordinates at pixel *centres* and 1/32-pixel
//! fixed-point bilinear weights; [`mediapipe_input`] reproduces that bit for bit so the networks
//! see what they saw in the wheel. Everything else in Visage uses *continuous* coordinates: the
//! photo's top-left corner is (0, 0) and pixel (col, row) covers `[col, col+1) x [row, row+1)`;
//! [`warp_rgb`] samples each output pixel centre through an [`Affine2`].

use image::RgbImage;

/// A 2D affine map `p -> A p + t`, stored row-major as `[[a, b, tx], [c, d, ty]]`. Named
/// `target_from_source` where used (e.g. `crop_from_photo`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine2(pub [[f32; 3]; 2]);

impl Affine2 {
    /// The identity.
    pub const IDENTITY: Self = Self([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);

    /// Rotation by `angle` radians (image axes: x right, y down, so positive turns clockwise on
    /// screen), uniform `scale`, then translation.
    #[must_use]
    pub fn similarity(scale: f32, angle: f32, translation: [f32; 2]) -> Self {
        let (s, c) = angle.sin_cos();
        Self([
            [scale * c, -scale * s, translation[0]],
            [scale * s, scale * c, translation[1]],
        ])
    }

    /// Maps a point.
    #[must_use]
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        let m = &self.0;
        [
            m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
            m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
        ]
    }

    /// The scale factor of lengths, `sqrt(|det A|)`.
    #[must_use]
    pub fn scale(&self) -> f32 {
        let m = &self.0;
        (m[0][0] * m[1][1] - m[0][1] * m[1][0]).abs().sqrt()
    }

    /// The inverse map, or `None` when singular.
    #[must_use]
    pub fn inverse(&self) -> Option<Self> {
        let m = &self.0;
        let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let (a, b, c, d) = (m[1][1] / det, -m[0][1] / det, -m[1][0] / det, m[0][0] / det);
        let (tx, ty) = (m[0][2], m[1][2]);
        Some(Self([
            [a, b, -(a * tx + b * ty)],
            [c, d, -(c * tx + d * ty)],
        ]))
    }

    /// `self ∘ other`: first `other`, then `self`.
    #[must_use]
    pub fn compose(&self, other: &Self) -> Self {
        let (m, n) = (&self.0, &other.0);
        let row = |i: usize| {
            [
                m[i][0] * n[0][0] + m[i][1] * n[1][0],
                m[i][0] * n[0][1] + m[i][1] * n[1][1],
                m[i][0] * n[0][2] + m[i][1] * n[1][2] + m[i][2],
            ]
        };
        Self([row(0), row(1)])
    }
}

/// What a warp reads outside the photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Border {
    /// Black (BlazeFace's letterbox).
    Zero,
    /// The nearest edge pixel (FaceMesh's crop, aligned crops).
    Replicate,
}

/// A square MediaPipe network input: `size x size` RGB u8, row-major, output pixel (j, i)
/// sampled at `center + R(rotation) (j s - side/2, i s - side/2)`, `s = side / size`, with
/// OpenCV's fixed-point bilinear interpolation (1/32-pixel positions, 15-bit weights).
#[must_use]
pub fn mediapipe_input(
    img: &RgbImage,
    center: [f64; 2],
    side: f64,
    rotation: f64,
    size: usize,
    border: Border,
) -> Vec<u8> {
    let (sin, cos) = rotation.sin_cos();
    let s = side / size as f64;
    let mut out = Vec::with_capacity(size * size * 3);
    for i in 0..size {
        for j in 0..size {
            let (u, v) = (j as f64 * s - side / 2.0, i as f64 * s - side / 2.0);
            let x = center[0] + cos * u - sin * v;
            let y = center[1] + sin * u + cos * v;
            out.extend_from_slice(&sample_fixed_point(img, x, y, border));
        }
    }
    out
}

/// OpenCV `INTER_LINEAR` on u8: position rounded to 1/32 pixel, integer weights summing to 2^15.
fn sample_fixed_point(img: &RgbImage, x: f64, y: f64, border: Border) -> [u8; 3] {
    let (xq, yq) = ((x * 32.0).round() as i64, (y * 32.0).round() as i64);
    let (x0, y0, fx, fy) = (xq >> 5, yq >> 5, xq & 31, yq & 31);
    let weights = [
        (32 - fy) * (32 - fx),
        (32 - fy) * fx,
        fy * (32 - fx),
        fy * fx,
    ];
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let raw = img.as_raw();
    let mut acc = [0i64; 3];
    for (k, &wt) in weights.iter().enumerate() {
        let (px, py) = (x0 + (k as i64 & 1), y0 + (k as i64 >> 1));
        let (px, py) = match border {
            Border::Zero if px < 0 || py < 0 || px >= w || py >= h => continue,
            Border::Zero => (px, py),
            Border::Replicate => (px.clamp(0, w - 1), py.clamp(0, h - 1)),
        };
        // In range by construction.
        let at = usize::try_from((py * w + px) * 3).unwrap_or(0);
        for (a, &v) in acc.iter_mut().zip(&raw[at..at + 3]) {
            *a += wt * 32 * i64::from(v);
        }
    }
    acc.map(|a| u8::try_from(((a + (1 << 14)) >> 15).clamp(0, 255)).unwrap_or(u8::MAX))
}

fn pixel(img: &RgbImage, x: i64, y: i64, border: Border) -> Option<[u8; 3]> {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let (x, y) = match border {
        Border::Zero if x < 0 || y < 0 || x >= w || y >= h => return None,
        Border::Zero => (x, y),
        Border::Replicate => (x.clamp(0, w - 1), y.clamp(0, h - 1)),
    };
    // In range by construction; u32 conversion cannot fail.
    Some(
        img.get_pixel(u32::try_from(x).ok()?, u32::try_from(y).ok()?)
            .0,
    )
}

/// Bilinear sample at a continuous photo point (pixel centres at +0.5), edge-replicated; RGB in
/// [0, 255].
#[must_use]
pub fn sample_bilinear(img: &RgbImage, p: [f32; 2]) -> [f32; 3] {
    let (x, y) = (p[0] - 0.5, p[1] - 0.5);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (xi, yi) = (x0 as i64, y0 as i64);
    let mut out = [0f32; 3];
    for (dx, dy, w) in [
        (0, 0, (1.0 - fx) * (1.0 - fy)),
        (1, 0, fx * (1.0 - fy)),
        (0, 1, (1.0 - fx) * fy),
        (1, 1, fx * fy),
    ] {
        if let Some(px) = pixel(img, xi + dx, yi + dy, Border::Replicate) {
            for (o, v) in out.iter_mut().zip(px) {
                *o += w * f32::from(v);
            }
        }
    }
    out
}

/// A `width x height` image whose pixel centre `(col + 0.5, row + 0.5)` shows the photo at
/// `photo_from_out` of it (continuous coordinates, bilinear, edge-replicated).
#[must_use]
pub fn warp_rgb(img: &RgbImage, photo_from_out: &Affine2, width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |col, row| {
        let p = photo_from_out.apply([col as f32 + 0.5, row as f32 + 0.5]);
        image::Rgb(sample_bilinear(img, p).map(|v| v.round().clamp(0.0, 255.0) as u8))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_and_compose_round_trip() {
        let a = Affine2::similarity(2.5, 0.3, [10.0, -4.0]);
        let id = a.compose(&a.inverse().unwrap());
        for (r, e) in
            id.0.iter()
                .flatten()
                .zip(Affine2::IDENTITY.0.iter().flatten())
        {
            assert!((r - e).abs() < 1e-5);
        }
        assert!((a.scale() - 2.5).abs() < 1e-5);
    }

    #[test]
    fn fixed_point_sampling_interpolates() {
        let img = RgbImage::from_fn(2, 1, |x, _| image::Rgb([if x == 0 { 0 } else { 200 }; 3]));
        assert_eq!(
            sample_fixed_point(&img, 0.5, 0.0, Border::Replicate),
            [100; 3]
        );
        assert_eq!(sample_fixed_point(&img, -1.0, 0.0, Border::Zero), [0; 3]);
        assert_eq!(
            sample_fixed_point(&img, 1.0, 0.0, Border::Replicate),
            [200; 3]
        );
    }

    #[test]
    fn identity_warp_copies() {
        let img = RgbImage::from_fn(5, 4, |x, y| image::Rgb([x as u8 * 40, y as u8 * 50, 7]));
        assert_eq!(warp_rgb(&img, &Affine2::IDENTITY, 5, 4), img);
    }
}
