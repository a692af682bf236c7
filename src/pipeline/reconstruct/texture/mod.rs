//! The UV texture a reconstruction carries, in one of two layouts.
//!
//! * **Projective** ([`apply`]): the photo itself, at its full resolution, over the region the
//!   face's mesh covers, with each vertex's UV at the pixel it projects to (visibility-aware: a
//!   vertex facing away from the camera, or hidden behind the surface in front of it, takes a
//!   smooth skin-coloured fill instead of whatever the photo shows there). Layout: the photo
//!   region on top (rows `0..h`), a band of the face's median skin colour below it (rows
//!   `h..h + band`) that hidden vertices point into.
//! * **Baked** ([`bake`]): the photo resampled into a fixed, left-right mirror-symmetric UV
//!   layout (the morphable model's), [`LAYOUT_SIDE`] pixels square. The photo is sampled at the
//!   coarsest power-of-two fraction of that side (at least 128) whose texels over the face are
//!   at least as many as the photo's pixels there, and the result resampled bilinearly to the
//!   full side: finer texels would only interpolate between the same pixels. Each texel seen by the
//!   camera takes the photo's colour with a confidence that fades as the surface turns away;
//!   unseen texels take their mirror texel's colour where that one is seen; what neither side
//!   shows is filled by a pull-push (Gortler et al. 1996, "The Lumigraph") that fades from the
//!   nearby seen colours to their median, the skin colour; the gutter between UV islands takes
//!   the colour of the island edges, so that filtering there does not bleed.
//!
//! Both layouts tell hidden points from seen ones with the mesh's front surface along the view
//! axis, rasterised once into a depth map (`front`).
//!
//! UVs follow the [`Mesh`] convention (u right, v down, both in [0, 1]); the OBJ writer flips v
//! for the file.
//!
//! `cargo test --release --lib bake_timing -- --ignored --nocapture` times a bake of a
//! 10,000-vertex mesh.

use super::FaceCrop;
use crate::pipeline::mesh::Mesh;
use image::{Rgb, RgbImage};

/// Longest side of a texture, pixels (larger photo regions are resampled down).
pub const MAX_SIDE: u32 = 2048;

/// Margin around the mesh's projection, as a fraction of its size.
const MARGIN: f32 = 0.05;

mod bake;
mod front;

pub use bake::{LAYOUT_SIDE, bake};
use front::FrontSurface;

/// Gives `mesh` (crop frame of `face`) its texture and UVs from `photo`.
pub fn apply(mesh: &mut Mesh, photo: &RgbImage, face: &FaceCrop) {
    let _span = tracing::info_span!("texture").entered();
    if mesh.positions.is_empty() {
        return;
    }
    if mesh.normals.len() != mesh.positions.len() {
        mesh.compute_normals();
    }
    let m = face.photo_from_crop();
    let side = face.side();
    let at: Vec<[f32; 2]> = mesh
        .positions
        .iter()
        .map(|p| m.apply([p[0], side - p[1]]))
        .collect();
    let visible = visibility(mesh, side);
    let Some((x0, y0, w, h)) = region(&at, photo) else {
        return;
    };
    let mut region_img = image::imageops::crop_imm(photo, x0, y0, w, h).to_image();
    let longest = w.max(h);
    if longest > MAX_SIDE {
        let s = MAX_SIDE as f32 / longest as f32;
        let size = |v: u32| ((v as f32 * s).round() as u32).max(1);
        region_img = image::imageops::resize(
            &region_img,
            size(w),
            size(h),
            image::imageops::FilterType::Triangle,
        );
    }
    let (tw, th) = region_img.dimensions();
    let band = (th / 16).max(8);
    let skin = skin_colour(photo, &at, &visible);
    let mut texture = RgbImage::from_pixel(tw, th + band, skin);
    image::imageops::replace(&mut texture, &region_img, 0, 0);
    let total = (th + band) as f32;
    let fill = [0.5, (th as f32 + band as f32 / 2.0) / total];
    mesh.uvs = at
        .iter()
        .zip(&visible)
        .map(|(q, &vis)| {
            if vis {
                [
                    ((q[0] - x0 as f32) / w as f32).clamp(0.0, 1.0),
                    ((q[1] - y0 as f32) / h as f32 * th as f32 / total).clamp(0.0, 1.0),
                ]
            } else {
                fill
            }
        })
        .collect();
    mesh.texture = Some(texture);
}

/// True for the vertices the camera sees: facing it and on the front surface.
fn visibility(mesh: &Mesh, side: f32) -> Vec<bool> {
    let front = FrontSurface::new(mesh, side);
    mesh.positions
        .iter()
        .zip(&mesh.normals)
        .map(|(p, n)| n[2] > 0.0 && front.shows(*p))
        .collect()
}

/// The photo rectangle `(x, y, w, h)` around the projected vertices, with a margin, clamped to
/// the photo; `None` when it is empty.
fn region(at: &[[f32; 2]], photo: &RgbImage) -> Option<(u32, u32, u32, u32)> {
    let (lo, hi) = at.iter().fold(
        ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]),
        |(lo, hi), q| {
            (
                [lo[0].min(q[0]), lo[1].min(q[1])],
                [hi[0].max(q[0]), hi[1].max(q[1])],
            )
        },
    );
    let pad = MARGIN * (hi[0] - lo[0]).max(hi[1] - lo[1]);
    let clamp = |v: f32, max: u32| v.clamp(0.0, max as f32) as u32;
    let (x0, y0) = (
        clamp((lo[0] - pad).floor(), photo.width()),
        clamp((lo[1] - pad).floor(), photo.height()),
    );
    let (x1, y1) = (
        clamp((hi[0] + pad).ceil(), photo.width()),
        clamp((hi[1] + pad).ceil(), photo.height()),
    );
    (x1 > x0 && y1 > y0).then_some((x0, y0, x1 - x0, y1 - y0))
}

/// The per-channel median of the photo under the visible vertices (mid grey when none).
fn skin_colour(photo: &RgbImage, at: &[[f32; 2]], visible: &[bool]) -> Rgb<u8> {
    median_colour(
        at.iter()
            .zip(visible)
            .filter(|(_, v)| **v)
            .filter_map(|(q, _)| {
                let (x, y) = (q[0].round(), q[1].round());
                (x >= 0.0 && y >= 0.0 && (x as u32) < photo.width() && (y as u32) < photo.height())
                    .then(|| photo.get_pixel(x as u32, y as u32).0)
            }),
    )
}

/// The per-channel median of `pixels` (the upper one of an even count; mid grey when empty).
fn median_colour(pixels: impl IntoIterator<Item = [u8; 3]>) -> Rgb<u8> {
    let mut histograms = [[0usize; 256]; 3];
    let mut count = 0;
    for p in pixels {
        count += 1;
        for (h, v) in histograms.iter_mut().zip(p) {
            h[usize::from(v)] += 1;
        }
    }
    Rgb(histograms.map(|h| {
        let mut below = 0;
        for (v, &k) in (0..=u8::MAX).zip(&h) {
            below += k;
            if below > count / 2 {
                return v;
            }
        }
        128
    }))
}

/// Bakes `photo` into the UV layout `layout` and gives `mesh` (crop frame of `face`: +X right,
/// +Y up, +Z towards the camera, crop pixels) those UVs and a [`LAYOUT_SIDE`]-square texture.
///
/// `layout` holds one UV per mesh vertex (u right, v down, in [0, 1]) and is mirror symmetric
/// about u = 0.5: texels (u, v) and (1 - u, v) show the two sides of the face. Texels the camera
/// sees take the photo's colour; the rest are completed from their mirror texel, then from a
#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::detect::AlignedCrop;
    use crate::pipeline::detect::warp::Affine2;
    use crate::pipeline::upscale::Upscaler;

    /// A face crop that is `photo` itself (a row of made-up landmarks frames it).
    pub(super) fn identity_face(photo: &RgbImage) -> FaceCrop {
        let crop = AlignedCrop {
            image: photo.clone(),
            crop_from_photo: Affine2::IDENTITY,
        };
        let points: Vec<[f32; 3]> = (0..468)
            .map(|i| [20.0 + (i % 80) as f32, 30.0, 0.0])
            .collect();
        FaceCrop::framed(crop, &points, 128.0, Upscaler::Bicubic).unwrap()
    }

    #[test]
    fn visible_vertices_sample_the_photo_and_hidden_ones_the_fill() {
        // A photo: left half red, right half blue; the crop is the photo itself.
        let photo = RgbImage::from_fn(128, 128, |x, _| {
            if x < 64 {
                Rgb([200, 0, 0])
            } else {
                Rgb([0, 0, 200])
            }
        });
        let face = identity_face(&photo);
        // Two quads facing the camera (z up the crop frame's +Z), one over each half, and one
        // facing away.
        let positions = vec![
            [10.0, 10.0, 5.0],
            [50.0, 10.0, 5.0],
            [50.0, 50.0, 5.0],
            [80.0, 10.0, 5.0],
            [120.0, 10.0, 5.0],
            [120.0, 50.0, 5.0],
            [10.0, 80.0, 5.0],
            [50.0, 120.0, 5.0],
            [50.0, 80.0, 5.0],
        ];
        let mut mesh = Mesh::new(positions, vec![[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
        mesh.compute_normals();
        apply(&mut mesh, &photo, &face);
        let tex = mesh.texture.as_ref().unwrap();
        let sample = |uv: [f32; 2]| {
            let (x, y) = (
                uv[0] * (tex.width() - 1) as f32,
                uv[1] * (tex.height() - 1) as f32,
            );
            *tex.get_pixel(x.round() as u32, y.round() as u32)
        };
        assert_eq!(sample(mesh.uvs[0]), Rgb([200, 0, 0]));
        assert_eq!(sample(mesh.uvs[4]), Rgb([0, 0, 200]));
        // The back-facing triangle points into the skin band below the photo region.
        let fill = mesh.uvs[6];
        assert!(fill[1] > 0.9, "{fill:?}");
        assert_eq!(mesh.uvs[7], fill);
        mesh.sanity_check().unwrap();
    }

    /// A face whose crop is `photo` itself (128 x 128, identity transform).
    #[test]
    fn median_colour_is_the_upper_median_per_channel() {
        let pixels = [[1, 5, 9], [3, 2, 7], [2, 8, 8], [4, 1, 0]];
        assert_eq!(median_colour(pixels), Rgb([3, 5, 8]));
        assert_eq!(median_colour(pixels[..3].iter().copied()), Rgb([2, 5, 8]));
        assert_eq!(median_colour([]), Rgb([128; 3]));
    }
}
