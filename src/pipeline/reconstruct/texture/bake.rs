//! Baking the photo into a fixed UV layout ([`bake`]): see the parent module's docs.

use super::{FaceCrop, FrontSurface, apply, median_colour};
use crate::pipeline::mesh::Mesh;
use image::RgbImage;
use rayon::prelude::*;
use std::ops::Range;

/// Side of a baked layout texture ([`bake`]), pixels.
pub const LAYOUT_SIDE: u32 = 512;

/// A baked texel's photo colour has no weight where its unit normal's z (the cosine between the
/// surface and the view axis) is at most this...
const FACING_NONE: f32 = 0.05;

/// ...and full weight from this z on (smoothstep between).
const FACING_FULL: f32 = 0.35;

/// Baked texels at least this confident vote for the skin colour.
const SKIN_CONFIDENCE: f32 = 0.5;

/// How far the seen colours reach into an unseen region before the skin colour takes over, as a
/// fraction of the baked texture's side.
const FILL_REACH: f32 = 1.0 / 32.0;

/// Rings of gutter texels around the UV islands that take the colour of the island edge.
const GUTTER_RINGS: usize = 8;

/// Barycentric tolerance of the texel-in-triangle test, so that shared edges leave no cracks.
const EDGE_TOL: f32 = 1e-4;

/// The confidence [`observe`] gives a texel outside every triangle.
const OUTSIDE: f32 = -1.0;

/// The coarsest side [`observe`] samples at (see [`observed_side`]).
const MIN_OBSERVED: usize = 128;

/// Rows of texture per parallel band of [`observe`].
const BAND_ROWS: usize = 32;

/// smooth skin-coloured fill (see the module docs). A layout whose length differs from the
/// vertex count is refused with a warning and the projective texture ([`apply`]) used instead.
pub fn bake(mesh: &mut Mesh, layout: &[[f32; 2]], photo: &RgbImage, face: &FaceCrop) {
    bake_at(mesh, layout, photo, face, LAYOUT_SIDE);
}

/// [`bake`] into a `side x side` texture.
fn bake_at(mesh: &mut Mesh, layout: &[[f32; 2]], photo: &RgbImage, face: &FaceCrop, side: u32) {
    if layout.len() != mesh.positions.len() {
        tracing::warn!(
            layout = layout.len(),
            vertices = mesh.positions.len(),
            "UV layout does not fit the mesh; using the projective texture"
        );
        apply(mesh, photo, face);
        return;
    }
    if mesh.positions.is_empty() || side == 0 {
        return;
    }
    // Entered after the fallback to `apply`, whose own span ("texture") would count twice.
    let _span = tracing::info_span!("texture_bake").entered();
    if mesh.normals.len() != mesh.positions.len() {
        mesh.compute_normals();
    }
    let (mut colour, mut weight, n) = observe(mesh, layout, photo, face, side as usize);
    let skin = median_colour(
        (colour.iter().zip(&weight))
            .filter(|(_, w)| **w >= SKIN_CONFIDENCE)
            .map(|(c, _)| c.map(to_u8)),
    )
    .0
    .map(f32::from);
    complete(&mut colour, &mut weight, skin, n);
    pull_push(&mut colour, &weight, n, n, skin);
    dilate(&mut colour, &mut weight, n);
    let bytes = upsampled(&colour, n, side as usize);
    if let Some(texture) = RgbImage::from_raw(side, side, bytes) {
        mesh.uvs = layout.to_vec();
        mesh.texture = Some(texture);
    }
}

/// The colours of an `n x n` texture (0..255, row-major) as the bytes of a `side x side` RGB
/// image, bilinearly resampled (texel centres aligned, edges replicated).
fn upsampled(colour: &[[f32; 3]], n: usize, side: usize) -> Vec<u8> {
    // Source texels and the second one's weight, for each output column (and row).
    let taps: Vec<(usize, usize, f32)> = (0..side)
        .map(|i| {
            let at = ((i as f32 + 0.5) * n as f32 / side as f32 - 0.5).clamp(0.0, (n - 1) as f32);
            let first = at as usize;
            (first, (first + 1).min(n - 1), at - first as f32)
        })
        .collect();
    let mut bytes = vec![0u8; 3 * side * side];
    (bytes.par_chunks_mut(3 * side))
        .zip(&taps)
        .for_each(|(row, &(y0, y1, fy))| {
            let (above, below) = (&colour[y0 * n..(y0 + 1) * n], &colour[y1 * n..(y1 + 1) * n]);
            for (texel, &(x0, x1, fx)) in row.chunks_exact_mut(3).zip(&taps) {
                for (k, b) in texel.iter_mut().enumerate() {
                    let top = above[x0][k] + fx * (above[x1][k] - above[x0][k]);
                    let bottom = below[x0][k] + fx * (below[x1][k] - below[x0][k]);
                    *b = to_u8(top + fy * (bottom - top));
                }
            }
        });
    bytes
}

/// Whether a triangle's points are on the front surface (not occluded), decided from its
/// corners where they agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Front {
    /// All three corners are on the front surface.
    Yes,
    /// No corner is.
    No,
    /// The corners disagree: ask the depth probe point by point.
    Probe,
}

/// A mesh triangle laid out in an `n x n` texture: its barycentric weights as affine functions
/// of the texel position (texel centres at half-integers), the texel columns and rows its
/// bounding box holds, and its corners' photo positions, crop-frame positions and normals.
#[derive(Clone, Debug)]
struct LaidOut {
    /// Corner k's weight at (x, y) is `bary[k][0] x + bary[k][1] y + bary[k][2]`.
    bary: [[f32; 3]; 3],
    cols: Range<usize>,
    rows: Range<usize>,
    photo: [[f32; 2]; 3],
    position: [[f32; 3]; 3],
    normal: [[f32; 3]; 3],
    front: Front,
}

/// The triangles of `mesh` laid out by `layout` in an `n x n` texture, `photo` giving each
/// vertex's photo position and `front` telling which vertices are on the front surface.
/// Triangles with an index out of range, a degenerate (or non-finite) UV triangle or no texel
/// centre in their bounding box are left out.
fn lay_out(
    mesh: &Mesh,
    layout: &[[f32; 2]],
    photo: &[[f32; 2]],
    front: &[bool],
    n: usize,
) -> Vec<LaidOut> {
    let len = (layout.len().min(mesh.normals.len()))
        .min(front.len())
        .min(photo.len());
    let scale = n as f32;
    let texels = |uv: &[[f32; 2]; 3], k: usize| {
        let (lo, hi) = (uv.iter()).fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p[k]), hi.max(p[k]))
        });
        let first = (lo - 0.5).ceil().clamp(0.0, scale) as usize;
        let end = ((hi - 0.5).floor() + 1.0).clamp(0.0, scale) as usize;
        first..end
    };
    (mesh.triangles.par_iter())
        .map(|t| t.map(|i| i as usize))
        .filter(|t| t.iter().all(|&i| i < len))
        .filter_map(|t| {
            let uv = t.map(|i| layout[i].map(|v| v * scale));
            let area = edge(uv[0], uv[1], uv[2]);
            let (cols, rows) = (texels(&uv, 0), texels(&uv, 1));
            let covers = !cols.is_empty() && !rows.is_empty();
            (covers && area.abs() > 1e-9 && area.is_finite()).then(|| LaidOut {
                bary: std::array::from_fn(|k| {
                    edge_coefficients(uv[(k + 1) % 3], uv[(k + 2) % 3], area.recip())
                }),
                cols,
                rows,
                photo: t.map(|i| photo[i]),
                position: t.map(|i| mesh.positions[i]),
                normal: t.map(|i| mesh.normals[i]),
                front: match t.map(|i| front[i]) {
                    [true, true, true] => Front::Yes,
                    [false, false, false] => Front::No,
                    _ => Front::Probe,
                },
            })
        })
        .collect()
}

/// `[a, b, c]` with `edge(p0, p1, (x, y)) * scale = a x + b y + c`.
fn edge_coefficients(p0: [f32; 2], p1: [f32; 2], scale: f32) -> [f32; 3] {
    let (dx, dy) = (p1[0] - p0[0], p1[1] - p0[1]);
    [-dy * scale, dx * scale, (dy * p0[0] - dx * p0[1]) * scale]
}

/// What the photo shows of each texel of an `n x n` layout texture (row-major), `n` the
/// [`observed_side`] for a texture at most `largest` texels square: colours in 0..255,
/// confidences and `n`. A texel whose surface point faces the camera, is on the front surface
/// and projects into the photo takes the photo's bilinear colour there, with a confidence rising
/// smoothly from 0 to 1 as its normal's z goes from [`FACING_NONE`] to [`FACING_FULL`]; other
/// texels are black with confidence 0, or [`OUTSIDE`] outside every triangle.
fn observe(
    mesh: &Mesh,
    layout: &[[f32; 2]],
    photo: &RgbImage,
    face: &FaceCrop,
    largest: usize,
) -> (Vec<[f32; 3]>, Vec<f32>, usize) {
    let side = face.side();
    let surface = FrontSurface::new(mesh, side);
    let front: Vec<bool> = (mesh.positions.iter()).map(|p| surface.shows(*p)).collect();
    let photo_from_crop = face.photo_from_crop();
    let at: Vec<[f32; 2]> = (mesh.positions.iter())
        .map(|p| photo_from_crop.apply([p[0], side - p[1]]))
        .collect();
    let n = observed_side(mesh, layout, &at, &front, largest);
    let triangles = lay_out(mesh, layout, &at, &front, n);
    let (w, h) = (photo.width() as f32, photo.height() as f32);
    let shade = |q: [f32; 2], facing: f32, probe: Option<[f32; 3]>| {
        let confidence = smoothstep(FACING_NONE, FACING_FULL, facing);
        let seen = confidence > 0.0
            && (0.0..=w).contains(&q[0])
            && (0.0..=h).contains(&q[1])
            && probe.is_none_or(|p| surface.shows(p));
        if seen {
            (sample_photo(photo, q), confidence)
        } else {
            ([0.0; 3], 0.0)
        }
    };
    let mut colour = vec![[0.0; 3]; n * n];
    let mut confidence = vec![OUTSIDE; n * n];
    (colour.par_chunks_mut(BAND_ROWS * n))
        .zip(confidence.par_chunks_mut(BAND_ROWS * n))
        .zip(bands(&triangles, n))
        .enumerate()
        .for_each(|(band, ((colour, confidence), triangles))| {
            let rows = band * BAND_ROWS..band * BAND_ROWS + confidence.len() / n;
            for t in triangles {
                rasterise((colour, confidence), &rows, n, t, &shade);
            }
        });
    (colour, confidence, n)
}

/// The side at which [`observe`] samples the photo: the smallest power-of-two fraction of
/// `largest` (at least [`MIN_OBSERVED`]) at which the texels of the face's seen, camera-facing
/// triangles are at least as many as the photo pixels they cover. Finer texels would only
/// interpolate between the same pixels, so the texture is sampled at this side and resampled to
/// `largest`.
fn observed_side(
    mesh: &Mesh,
    layout: &[[f32; 2]],
    photo: &[[f32; 2]],
    front: &[bool],
    largest: usize,
) -> usize {
    let area = |p: [[f32; 2]; 3]| f64::from(edge(p[0], p[1], p[2]).abs());
    let (mut pixels, mut uv) = (0.0, 0.0);
    for t in &mesh.triangles {
        let t = t.map(|i| i as usize);
        let facing = t.iter().all(|&i| {
            i < layout.len() && i < photo.len() && front[i] && mesh.normals[i][2] >= FACING_FULL
        });
        if facing {
            pixels += area(t.map(|i| photo[i]));
            uv += area(t.map(|i| layout[i]));
        }
    }
    let mut n = largest;
    while n / 2 >= MIN_OBSERVED && n.is_multiple_of(2) && uv * ((n / 2) as f64).powi(2) >= pixels {
        n /= 2;
    }
    n
}

/// `triangles` by the bands of [`BAND_ROWS`] rows of an `n x n` texture their rows touch.
fn bands(triangles: &[LaidOut], n: usize) -> Vec<Vec<&LaidOut>> {
    let mut bands = vec![Vec::new(); n.div_ceil(BAND_ROWS)];
    for t in triangles.iter().filter(|t| !t.rows.is_empty()) {
        for band in &mut bands[t.rows.start / BAND_ROWS..=(t.rows.end - 1) / BAND_ROWS] {
            band.push(t);
        }
    }
    bands
}

/// Shades the texels of `out` (colours and confidences of rows `rows` of an `n x n` texture)
/// whose centres lie in `t`, with `shade(photo position, normal z, point)` of the surface point
/// the barycentrics give; `point` (its crop-frame position) is given only where `t`'s corners
/// disagree about being on the front surface. Texels of a triangle whose corners are all hidden
/// are left black with confidence 0.
fn rasterise(
    out: (&mut [[f32; 3]], &mut [f32]),
    rows: &Range<usize>,
    n: usize,
    t: &LaidOut,
    shade: &impl Fn([f32; 2], f32, Option<[f32; 3]>) -> ([f32; 3], f32),
) {
    let [b0, b1, b2] = t.bary;
    for y in t.rows.start.max(rows.start)..t.rows.end.min(rows.end) {
        let yc = y as f32 + 0.5;
        let r = [b0, b1, b2].map(|b| b[1] * yc + b[2]);
        for x in t.cols.clone() {
            let xc = x as f32 + 0.5;
            let w = [b0[0] * xc + r[0], b1[0] * xc + r[1], b2[0] * xc + r[2]];
            if w.iter().any(|&wi| wi < -EDGE_TOL) {
                continue;
            }
            let i = (y - rows.start) * n + x;
            if t.front == Front::No {
                (out.0[i], out.1[i]) = ([0.0; 3], 0.0);
                continue;
            }
            let normal = interpolate(t.normal, w);
            let length = normal.iter().map(|v| v * v).sum::<f32>().sqrt();
            let facing = if length > 0.0 {
                normal[2] / length
            } else {
                -1.0
            };
            let q = std::array::from_fn(|k| {
                w[0] * t.photo[0][k] + w[1] * t.photo[1][k] + w[2] * t.photo[2][k]
            });
            let point = (t.front == Front::Probe).then(|| interpolate(t.position, w));
            (out.0[i], out.1[i]) = shade(q, facing, point);
        }
    }
}

/// Doubled signed area of (a, b, p).
fn edge(a: [f32; 2], b: [f32; 2], p: [f32; 2]) -> f32 {
    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
}

/// `w[0] v[0] + w[1] v[1] + w[2] v[2]`.
fn interpolate(v: [[f32; 3]; 3], w: [f32; 3]) -> [f32; 3] {
    std::array::from_fn(|k| w[0] * v[0][k] + w[1] * v[1][k] + w[2] * v[2][k])
}

/// 0 below `lo`, 1 above `hi`, a cubic step between.
fn smoothstep(lo: f32, hi: f32, x: f32) -> f32 {
    let t = ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Completes each covered texel of `colour`, `weight` (`n x n`, row-major; colours and
/// confidences from [`observe`]) from its mirror texel (same row, column `n - 1 - x`), which
/// fills what the texel's own confidence leaves, and a weak `skin` prior for what both leave.
/// Leaves the pull-push weights in `weight`: in (0, 1] on the covered texels, 0 elsewhere.
fn complete(colour: &mut [[f32; 3]], weight: &mut [f32], skin: [f32; 3], n: usize) {
    // A block of `r x r` unseen texels, r = FILL_REACH n, sums to full weight.
    let prior = (FILL_REACH * n as f32).powi(-2).min(1.0);
    let fill = |own: ([f32; 3], f32), mirror: ([f32; 3], f32)| {
        if own.1 < 0.0 {
            return (skin, 0.0);
        }
        let w_own = own.1;
        let w_mirror = mirror.1.max(0.0) * (1.0 - w_own);
        let w_skin = prior * (1.0 - w_own - w_mirror);
        let total = w_own + w_mirror + w_skin;
        let colour = std::array::from_fn(|k| {
            (w_own * own.0[k] + w_mirror * mirror.0[k] + w_skin * skin[k]) / total
        });
        (colour, total.min(1.0))
    };
    (colour.par_chunks_mut(n))
        .zip(weight.par_chunks_mut(n))
        .for_each(|(colour, weight)| {
            for x in 0..n.div_ceil(2) {
                let m = n - 1 - x;
                let (a, b) = ((colour[x], weight[x]), (colour[m], weight[m]));
                (colour[x], weight[x]) = fill(a, b);
                (colour[m], weight[m]) = fill(b, a);
            }
        });
}

/// Pull-push (Gortler et al. 1996): fills `colour` (`width x height`, row-major) where `weight`
/// (in [0, 1]) is below 1. Each coarser level averages 2 x 2 blocks by weight (weights summed,
/// capped at 1); back down, every texel blends its own colour with the bilinearly upsampled
/// coarser level by its weight. `fallback` stands in above the coarsest level.
fn pull_push(
    colour: &mut [[f32; 3]],
    weight: &[f32],
    width: usize,
    height: usize,
    fallback: [f32; 3],
) {
    if weight.iter().all(|&w| w >= 1.0) {
        return;
    }
    if width * height <= 1 {
        for (c, &w) in colour.iter_mut().zip(weight) {
            *c = std::array::from_fn(|k| w * c[k] + (1.0 - w) * fallback[k]);
        }
        return;
    }
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    let mut coarse = vec![[0.0f32; 3]; cw * ch];
    let mut coarse_weight = vec![0.0f32; cw * ch];
    (coarse.par_chunks_mut(cw))
        .zip(coarse_weight.par_chunks_mut(cw))
        .enumerate()
        .for_each(|(cy, (coarse, coarse_weight))| {
            for y in 2 * cy..(2 * cy + 2).min(height) {
                for x in 0..width {
                    let (i, w) = (y * width + x, weight[y * width + x]);
                    coarse_weight[x / 2] += w;
                    for k in 0..3 {
                        coarse[x / 2][k] += w * colour[i][k];
                    }
                }
            }
            for (c, w) in coarse.iter_mut().zip(coarse_weight) {
                if *w > 0.0 {
                    *c = c.map(|v| v / *w);
                }
                *w = w.min(1.0);
            }
        });
    pull_push(&mut coarse, &coarse_weight, cw, ch, fallback);
    (colour.par_chunks_mut(width))
        .zip(weight.par_chunks(width))
        .enumerate()
        .for_each(|(y, (colour, weight))| {
            let cy = ((y as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (ch - 1) as f32);
            for (x, (c, &w)) in colour.iter_mut().zip(weight).enumerate() {
                if w < 1.0 {
                    let cx = ((x as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (cw - 1) as f32);
                    let up = bilinear(&coarse, cw, ch, cx, cy);
                    *c = std::array::from_fn(|k| w * c[k] + (1.0 - w) * up[k]);
                }
            }
        });
}

/// Extends the colours of the covered texels of `colour` (`n x n`, row-major; those of positive
/// `filled`, the pull-push weights) over up to [`GUTTER_RINGS`] rings of the uncovered ones
/// around them, so that filtering at an island's edge sees the edge's colour: each ring's
/// texels take the mean of their filled 8-neighbours (and are marked filled with weight 1).
fn dilate(colour: &mut [[f32; 3]], filled: &mut [f32], n: usize) {
    let mut ring: Vec<usize> = (0..n * n)
        .filter(|&i| filled[i] <= 0.0 && neighbours(i, n).any(|j| filled[j] > 0.0))
        .collect();
    for _ in 0..GUTTER_RINGS {
        if ring.is_empty() {
            break;
        }
        let means: Vec<[f32; 3]> = ring
            .iter()
            .map(|&i| {
                let (sum, count) = neighbours(i, n)
                    .filter(|&j| filled[j] > 0.0)
                    .fold(([0.0f32; 3], 0.0f32), |(s, c), j| {
                        (std::array::from_fn(|k| s[k] + colour[j][k]), c + 1.0)
                    });
                sum.map(|v| v / count)
            })
            .collect();
        for (&i, mean) in ring.iter().zip(means) {
            colour[i] = mean;
            filled[i] = 1.0;
        }
        ring = ring
            .iter()
            .flat_map(|&i| neighbours(i, n))
            .filter(|&j| filled[j] <= 0.0)
            .collect();
        ring.sort_unstable();
        ring.dedup();
    }
}

/// The in-range 8-neighbours of texel `i` of an `n x n` grid (row-major).
fn neighbours(i: usize, n: usize) -> impl Iterator<Item = usize> {
    let (y, x) = (i / n, i % n);
    (y.saturating_sub(1)..(y + 2).min(n))
        .flat_map(move |ny| (x.saturating_sub(1)..(x + 2).min(n)).map(move |nx| ny * n + nx))
        .filter(move |&j| j != i)
}

/// `grid` (`width x height`, row-major) at the in-range point (x, y), texel centres at
/// integers.
fn bilinear(grid: &[[f32; 3]], width: usize, height: usize, x: f32, y: f32) -> [f32; 3] {
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |x: usize, y: usize| grid[y * width + x];
    let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
    std::array::from_fn(|k| {
        (1.0 - fy) * ((1.0 - fx) * a[k] + fx * b[k]) + fy * ((1.0 - fx) * c[k] + fx * d[k])
    })
}

/// A 0..255 colour channel as a byte, rounded (half up; `as` truncates the non-negative sum,
/// cheaper than `f32::round`, a libm call on baseline x86-64).
fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 255.0) + 0.5) as u8
}

/// [`sample_bilinear`](crate::pipeline::detect::warp::sample_bilinear) of `photo` at a point `q` in `[0, width] x [0, height]` (pixel centres
/// at half-integers, edges replicated), read straight from the buffer: the hot loop of
/// [`bake`] samples up to a million points, about six times faster so.
fn sample_photo(photo: &RgbImage, q: [f32; 2]) -> [f32; 3] {
    let (w, h) = (photo.width() as usize, photo.height() as usize);
    // q - 0.5 + 1 >= 0.5, so truncation is floor + 1.
    let (x, y) = (q[0] + 0.5, q[1] + 0.5);
    let (x1, y1) = (x as usize, y as usize);
    let (fx, fy) = (x - x1 as f32, y - y1 as f32);
    let (x0, y0) = (
        x1.saturating_sub(1).min(w - 1),
        y1.saturating_sub(1).min(h - 1),
    );
    let (x1, y1) = (x1.min(w - 1), y1.min(h - 1));
    let raw = photo.as_raw();
    let at = |x: usize, y: usize| {
        let i = 3 * (y * w + x);
        [raw[i], raw[i + 1], raw[i + 2]].map(f32::from)
    };
    let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
    std::array::from_fn(|k| {
        (1.0 - fy) * ((1.0 - fx) * a[k] + fx * b[k]) + fy * ((1.0 - fx) * c[k] + fx * d[k])
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::identity_face;
    use super::*;
    use crate::pipeline::detect::AlignedCrop;
    use crate::pipeline::detect::warp::{Affine2, sample_bilinear};
    use crate::pipeline::upscale::Upscaler;
    use image::Rgb;

    /// Two triangles per cell of a `cols x rows` vertex grid (row-major).
    fn grid_triangles(cols: u32, rows: u32) -> Vec<[u32; 3]> {
        let mut triangles = Vec::new();
        for j in 0..rows - 1 {
            for i in 0..cols - 1 {
                let a = j * cols + i;
                triangles.push([a, a + 1, a + cols + 1]);
                triangles.push([a, a + cols + 1, a + cols]);
            }
        }
        triangles
    }

    const RED: Rgb<u8> = Rgb([200, 60, 40]);
    const GREEN: Rgb<u8> = Rgb([40, 180, 40]);
    const BLUE: Rgb<u8> = Rgb([0, 0, 200]);

    /// A flat 25 x 25 grid over the crop with UVs in [0.125, 0.875] (a mirror-symmetric layout,
    /// texel = 2 crop pixels at side 64) and normals that face the camera on the layout's left
    /// half below v = 0.35 and away from it elsewhere.
    fn half_turned_grid() -> (Mesh, Vec<[f32; 2]>) {
        let k = 25;
        let layout: Vec<[f32; 2]> = (0..k * k)
            .map(|i| [0.125 + (i % k) as f32 / 32.0, 0.125 + (i / k) as f32 / 32.0])
            .collect();
        let positions = layout
            .iter()
            .map(|t| [128.0 * t[0], 128.0 * (1.0 - t[1]), 0.0])
            .collect();
        let mut mesh = Mesh::new(positions, grid_triangles(k as u32, k as u32));
        mesh.normals = layout
            .iter()
            .map(|t| {
                if t[0] > 0.5 || t[1] < 0.35 {
                    [0.0, 0.6, -0.8]
                } else {
                    [0.0, 0.0, 1.0]
                }
            })
            .collect();
        (mesh, layout)
    }

    #[test]
    fn bake_takes_seen_texels_then_the_mirror_then_skin() {
        // The photo (= crop): left half red with a green band at rows 48..64, right half blue.
        let photo = RgbImage::from_fn(128, 128, |x, y| match (x, y) {
            (64.., _) => BLUE,
            (_, 48..64) => GREEN,
            _ => RED,
        });
        let (mut mesh, layout) = half_turned_grid();
        bake_at(&mut mesh, &layout, &photo, &identity_face(&photo), 64);
        mesh.sanity_check().unwrap();
        assert_eq!(mesh.uvs, layout);
        let tex = mesh.texture.as_ref().unwrap();
        assert_eq!(tex.dimensions(), (64, 64));
        // Seen texels (left half) show the photo under them; hidden ones on the right the
        // mirror texel's colour (green in the band, which the skin fill would not give).
        assert_eq!(*tex.get_pixel(19, 28), GREEN);
        assert_eq!(*tex.get_pixel(44, 28), GREEN);
        assert_eq!(*tex.get_pixel(19, 45), RED);
        assert_eq!(*tex.get_pixel(44, 45), RED);
        // Seen from neither side (the top band): the median skin colour (red, the majority),
        // though the nearest seen texels are green.
        let near = |a: Rgb<u8>, b: Rgb<u8>| a.0.iter().zip(b.0).all(|(&x, y)| x.abs_diff(y) <= 12);
        for x in [19, 44] {
            assert!(
                near(*tex.get_pixel(x, 12), RED),
                "{:?}",
                tex.get_pixel(x, 12)
            );
        }
        // The gutter (outside u, v in [0.125, 0.875]) takes the island edge's colour; nothing
        // is black, and the blue half of the photo shows nowhere but in the grid cells right of
        // u = 0.5 (texels 32..34), whose interpolated normals still face the camera.
        assert!(
            near(*tex.get_pixel(2, 45), RED),
            "{:?}",
            tex.get_pixel(2, 45)
        );
        assert!(
            near(*tex.get_pixel(57, 28), GREEN),
            "{:?}",
            tex.get_pixel(57, 28)
        );
        for (x, y, p) in tex.enumerate_pixels() {
            assert!(p.0.iter().any(|&c| c >= 40), "black texel ({x}, {y})");
            if !(32..=34).contains(&x) {
                assert!(p.0[2] < 100, "blue texel ({x}, {y}): {p:?}");
            }
        }
    }

    #[test]
    fn bake_hides_texels_behind_the_front_surface() {
        // Left half red, right half blue. A quad over the left half (z = 50) in front of a strip
        // over the whole crop (z = 0) whose columns at x = 0, 40, 80, 128 make a triangle pair
        // wholly hidden, one half hidden (probed texel by texel) and one wholly seen. Each is
        // laid out over u in [0.1, 0.9] (texel column c shows x = 160 (c + 0.5) / 64 - 16).
        let photo = RgbImage::from_fn(128, 128, |x, _| if x < 64 { RED } else { BLUE });
        let xs = [0.0, 64.0, 0.0, 40.0, 80.0, 128.0];
        let zs = [50.0, 50.0, 0.0, 0.0, 0.0, 0.0];
        let mut positions = Vec::new();
        let mut layout = Vec::new();
        for (k, (x, z)) in xs.into_iter().zip(zs).enumerate() {
            let (x1, v0) = if k < 2 { (64.0, 0.05) } else { (128.0, 0.55) };
            for (y, v) in [(128.0, v0), (0.0, v0 + 0.4)] {
                positions.push([x, y, z]);
                layout.push([0.1 + 0.8 * x / x1, v]);
            }
        }
        let triangles = [0, 4, 6, 8]
            .into_iter()
            .flat_map(|a| [[a, a + 1, a + 3], [a, a + 3, a + 2]])
            .collect();
        let mut mesh = Mesh::new(positions, triangles);
        mesh.normals = vec![[0.0, 0.0, 1.0]; 12];
        bake_at(&mut mesh, &layout, &photo, &identity_face(&photo), 64);
        mesh.sanity_check().unwrap();
        let tex = mesh.texture.as_ref().unwrap();
        // The front quad is red throughout.
        assert_eq!(*tex.get_pixel(19, 16), RED);
        assert_eq!(*tex.get_pixel(44, 16), RED);
        // The strip is seen (blue) right of the front quad, in the wholly seen triangles (x = 88)
        // and in the half-hidden ones (x = 73); behind the red front quad, in the wholly hidden
        // triangles (x = 15) and the half-hidden ones (x = 55), it takes its mirror texel's blue.
        for c in [41, 35, 12, 28] {
            assert_eq!(*tex.get_pixel(c, 48), BLUE, "column {c}");
        }
    }

    #[test]
    fn bake_uses_the_layout_side_and_refuses_a_mismatched_layout() {
        const { assert!(LAYOUT_SIDE >= 512) };
        let photo = RgbImage::from_pixel(128, 128, RED);
        let face = identity_face(&photo);
        let (mut mesh, layout) = half_turned_grid();
        bake(&mut mesh, &layout, &photo, &face);
        mesh.sanity_check().unwrap();
        let tex = mesh.texture.as_ref().unwrap();
        assert_eq!(tex.dimensions(), (LAYOUT_SIDE, LAYOUT_SIDE));
        assert!(tex.pixels().all(|p| *p == RED));
        // A layout short of the vertex count falls back to the projective texture.
        let (mut mesh, layout) = half_turned_grid();
        bake(&mut mesh, &layout[1..], &photo, &face);
        mesh.sanity_check().unwrap();
        assert_eq!(mesh.uvs.len(), mesh.positions.len());
        assert_ne!(mesh.texture.as_ref().unwrap().width(), LAYOUT_SIDE);
    }

    #[test]
    fn sample_photo_matches_sample_bilinear() {
        let photo = RgbImage::from_fn(7, 5, |x, y| {
            Rgb([x as u8 * 30, y as u8 * 50, (x * y) as u8])
        });
        for i in 0..=70 {
            for j in 0..=50 {
                let q = [i as f32 * 0.1, j as f32 * 0.1];
                let (a, b) = (sample_photo(&photo, q), sample_bilinear(&photo, q));
                assert!(
                    a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-3),
                    "{q:?}: {a:?} {b:?}"
                );
            }
        }
        assert_eq!(
            [0.0, 0.49, 0.5, 254.5, 300.0, -3.0].map(to_u8),
            [0, 0, 1, 255, 255, 0]
        );
    }

    #[test]
    fn pull_push_spreads_known_texels_and_keeps_them() {
        // A 5 x 3 grid with one red and one blue texel at full weight, one half-weight texel.
        let mut colour = vec![[0.0; 3]; 15];
        let mut weight = vec![0.0; 15];
        (colour[0], weight[0]) = ([255.0, 0.0, 0.0], 1.0);
        (colour[14], weight[14]) = ([0.0, 0.0, 255.0], 1.0);
        (colour[7], weight[7]) = ([0.0, 255.0, 0.0], 0.5);
        pull_push(&mut colour, &weight, 5, 3, [9.0; 3]);
        assert_eq!(colour[0], [255.0, 0.0, 0.0]);
        assert_eq!(colour[14], [0.0, 0.0, 255.0]);
        assert!(
            colour[7][1] > 127.0 && colour[7][1] < 255.0,
            "{:?}",
            colour[7]
        );
        // Every texel is a blend of the known colours (no black, no fallback).
        for c in &colour {
            let sum: f32 = c.iter().sum();
            assert!((sum - 255.0).abs() < 1e-2, "{c:?}");
        }
        assert!(colour[1][0] > colour[13][0] && colour[13][2] > colour[1][2]);
    }

    /// A flat camera-facing square whose layout fills the texture, covering `pixels` photo
    /// pixels: its observed side is the smallest halving of 512 (not below 128) with at least
    /// as many texels as pixels.
    #[test]
    fn the_observed_side_follows_the_photo_pixels() {
        let side_for = |pixels: f32| {
            let mut mesh = Mesh::new(
                vec![
                    [0.0, 0.0, 0.0],
                    [1.0, 0.0, 0.0],
                    [1.0, 1.0, 0.0],
                    [0.0, 1.0, 0.0],
                ],
                vec![[0, 1, 2], [0, 2, 3]],
            );
            mesh.normals = vec![[0.0, 0.0, 1.0]; 4];
            let layout = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
            let s = pixels.sqrt();
            let photo = layout.map(|uv| [uv[0] * s, uv[1] * s]);
            observed_side(&mesh, &layout, &photo, &[true; 4], 512)
        };
        assert_eq!(side_for(100_000.0), 512);
        assert_eq!(side_for(65_536.0), 256);
        assert_eq!(side_for(20_000.0), 256);
        assert_eq!(side_for(16_384.0), 128);
        assert_eq!(side_for(900.0), 128);
    }

    /// Resampling 2 x 2 texels to 4 x 4 keeps the corner texels' colours at the corners and
    /// blends 3:1 next to them; at the same side it only rounds.
    #[test]
    fn upsampling_is_bilinear_with_centres_aligned() {
        let colour = [
            [0.0, 0.0, 0.0],
            [100.0, 0.0, 0.0],
            [0.0, 200.0, 0.0],
            [100.0, 200.0, 0.0],
        ];
        let bytes = upsampled(&colour, 2, 4);
        let texel = |x: usize, y: usize| &bytes[3 * (y * 4 + x)..3 * (y * 4 + x) + 3];
        assert_eq!(texel(0, 0), [0, 0, 0]);
        assert_eq!(texel(3, 3), [100, 200, 0]);
        assert_eq!(texel(1, 0), [25, 0, 0]);
        assert_eq!(texel(2, 1), [75, 50, 0]);
        assert_eq!(
            upsampled(&colour, 2, 2),
            [0, 0, 0, 100, 0, 0, 0, 200, 0, 100, 200, 0]
        );
    }

    /// Times [`bake`] on a 100 x 100-vertex sphere (10,000 vertices, 19,602 triangles) turned
    /// 30 degrees, its layout filling the whole texture, from a 1024 x 1024 photo.
    /// `cargo test --release --lib bake_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "timing, prints only"]
    fn bake_timing() {
        let photo = RgbImage::from_fn(1024, 1024, |x, y| Rgb([x as u8, y as u8, 128]));
        let crop_from_photo = Affine2::similarity(0.125, 0.0, [0.0, 0.0]);
        let crop = AlignedCrop {
            image: image::imageops::thumbnail(&photo, 128, 128),
            crop_from_photo,
        };
        let points: Vec<[f32; 3]> = (0..468)
            .map(|i| [160.0 + (8 * (i % 80)) as f32, 240.0, 0.0])
            .collect();
        let face = FaceCrop::framed(crop, &points, 128.0, Upscaler::Bicubic).unwrap();
        let k = 100u32;
        let layout: Vec<[f32; 2]> = (0..k * k)
            .map(|i| {
                [
                    (i % k) as f32 / (k - 1) as f32,
                    (i / k) as f32 / (k - 1) as f32,
                ]
            })
            .collect();
        let normals: Vec<[f32; 3]> = layout
            .iter()
            .map(|t| {
                let theta = (t[0] - 0.5) * 1.6 * std::f32::consts::PI + 0.5;
                let phi = (t[1] - 0.5) * 0.9 * std::f32::consts::PI;
                [theta.sin() * phi.cos(), -phi.sin(), theta.cos() * phi.cos()]
            })
            .collect();
        let positions = normals
            .iter()
            .map(|n| [64.0 + 50.0 * n[0], 64.0 + 50.0 * n[1], 50.0 * n[2]])
            .collect();
        let mut mesh = Mesh::new(positions, grid_triangles(k, k));
        mesh.normals = normals;
        let mut times: Vec<f64> = (0..10)
            .map(|_| {
                let start = std::time::Instant::now();
                bake(&mut mesh, &layout, &photo, &face);
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        eprintln!(
            "bake: {} vertices, {} triangles, {LAYOUT_SIDE}^2: min {:.1} ms, median {:.1} ms",
            mesh.positions.len(),
            mesh.triangles.len(),
            times[0],
            times[times.len() / 2]
        );
        mesh.sanity_check().unwrap();
    }
}
