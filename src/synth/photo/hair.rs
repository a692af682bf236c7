//! Hair with volume, in image space over the rendered head: where the scalp's hair (above the
//! hairline), long hair (behind the ears, down to its length) or a fringe (over the forehead)
//! lies on the visible surface, the hair is drawn, and it grows outwards from there past the
//! head's outline into the background, the ears and the neck, by its volume, with a ragged
//! edge. It never covers the face area except as a fringe. The skin next to it gets a contact
//! shadow. The head's ground truth is left as it is; the caller marks the covered head pixels as
//! occluded.

use super::params::Hair;
use crate::synth::engine::Posed;
use crate::synth::math::{interp, interp1, mix, normalize, smoothstep};
use crate::synth::model::{FaceModel, Part};
use crate::synth::noise::{fbm3, value2, value3};
use crate::synth::params::{Lighting, Look};
use crate::synth::raster::VisBuffer;
use crate::synth::regions::Regions;
use crate::synth::shade::{ShadePoint, shade};

/// Model-frame z (cm) behind which long hair covers the head (just in front of the ears).
const BEHIND_EARS: f32 = 1.5;

/// What the hair is drawn over: the rendered head at pixel centres.
pub(crate) struct Scene<'a> {
    /// Side of the image.
    pub size: usize,
    /// The nearest-surface buffer at pixel centres.
    pub gt: &'a VisBuffer,
    /// The head model.
    pub model: &'a FaceModel,
    /// Its appearance regions.
    pub regions: &'a Regions,
    /// The posed head.
    pub posed: &'a Posed,
    /// Image pixels per cm at the head.
    pub px_per_cm: f32,
    /// The sample's look (hair colour, sheen).
    pub look: &'a Look,
    /// The sample's lights.
    pub lighting: &'a Lighting,
}

/// A visible surface point hair starts from.
#[derive(Clone, Copy)]
struct Root {
    pixel: usize,
    /// Growth radius, pixels.
    radius: f32,
}

/// Draws `hair` over `linear` (row-major, linear RGB); returns each pixel's hair coverage.
#[must_use]
pub(crate) fn draw(hair: &Hair, scene: &Scene, linear: &mut [[f32; 3]]) -> Vec<f32> {
    let n = scene.size;
    let roots = roots(hair, scene);
    // Nearest root of every pixel, by two chamfer sweeps (8-neighbour, Euclidean steps) that
    // go around the face area, not through it.
    let face: Vec<bool> = (0..n * n).map(|i| is_face(scene, i)).collect();
    let mut nearest: Vec<Option<(usize, f32)>> = vec![None; n * n];
    for r in roots.iter().flatten() {
        nearest[r.pixel] = Some((r.pixel, 0.0));
    }
    let step = |nearest: &mut Vec<Option<(usize, f32)>>, i: usize, j: usize, d: f32| {
        if face[i] && roots[i].is_none() {
            return;
        }
        if let Some((src, dist)) = nearest[j] {
            let better = nearest[i].is_none_or(|(_, own)| dist + d < own);
            if better {
                nearest[i] = Some((src, dist + d));
            }
        }
    };
    let diag = std::f32::consts::SQRT_2;
    for i in 0..n * n {
        let (y, x) = (i / n, i % n);
        if x > 0 {
            step(&mut nearest, i, i - 1, 1.0);
        }
        if y > 0 {
            step(&mut nearest, i, i - n, 1.0);
            if x > 0 {
                step(&mut nearest, i, i - n - 1, diag);
            }
            if x + 1 < n {
                step(&mut nearest, i, i - n + 1, diag);
            }
        }
    }
    for i in (0..n * n).rev() {
        let (y, x) = (i / n, i % n);
        if x + 1 < n {
            step(&mut nearest, i, i + 1, 1.0);
        }
        if y + 1 < n {
            step(&mut nearest, i, i + n, 1.0);
            if x + 1 < n {
                step(&mut nearest, i, i + n + 1, diag);
            }
            if x > 0 {
                step(&mut nearest, i, i + n - 1, diag);
            }
        }
    }
    let mut coverage = vec![0.0f32; n * n];
    let mut source: Vec<Option<usize>> = vec![None; n * n];
    for i in 0..n * n {
        let Some((src, dist)) = nearest[i] else {
            continue;
        };
        let Some(root) = roots[src] else {
            continue;
        };
        let (x, y) = ((i % n) as f32, (i / n) as f32);
        let ragged = 0.6 + 0.8 * value2(x * 0.08, y * 0.08, hair.seed);
        let a = 1.0 - smoothstep(root.radius * ragged - 1.0, root.radius * ragged, dist);
        if a > 0.0 {
            coverage[i] = a;
            source[i] = Some(src);
        }
    }
    fall(hair, scene, &face, &mut coverage, &mut source);
    for i in 0..n * n {
        if let Some(src) = source[i] {
            let at = [(i % n) as f32, (i / n) as f32];
            linear[i] = mix(linear[i], colour(hair, scene, src, at), coverage[i]);
        }
    }
    contact_shadow(scene, &coverage, linear);
    coverage
}

/// Long hair falls: straight down the image (gravity, for an upright camera) from every hair
/// pixel whose root lies above the hair's length, over anything but the face area, until the
/// length (ragged per column) is used up.
fn fall(
    hair: &Hair,
    scene: &Scene,
    face: &[bool],
    coverage: &mut [f32],
    source: &mut [Option<usize>],
) {
    let n = scene.size;
    let mut left = vec![0.0f32; n * n];
    for i in 0..n * n {
        if let Some(src) = source[i].filter(|_| coverage[i] >= 0.5) {
            left[i] = (rest_of(scene, src)[1] - hair.length).max(0.0) * scene.px_per_cm;
        }
    }
    for i in n..n * n {
        let above = i - n;
        if face[i] || coverage[i] >= 0.5 || left[above] <= 0.0 {
            continue;
        }
        let x = (i % n) as f32;
        let stop = 1.0 + 0.6 * value2(x * 0.15, 0.0, hair.seed ^ 0xFA);
        left[i] = left[above] - stop;
        coverage[i] = coverage[above].min(smoothstep(0.0, 2.0, left[i]));
        source[i] = source[above];
    }
}

fn rest_of(scene: &Scene, pixel: usize) -> [f32; 3] {
    let t = scene.gt.triangle[pixel] as usize;
    interp(
        &scene.model.neutral,
        scene.model.triangles[t],
        scene.gt.bary[pixel],
    )
}

/// The roots: visible scalp, long-hair and fringe pixels, each with its growth radius.
fn roots(hair: &Hair, scene: &Scene) -> Vec<Option<Root>> {
    let n = scene.size;
    (0..n * n)
        .map(|i| {
            if !scene.gt.covered(i) {
                return None;
            }
            let t = scene.gt.triangle[i] as usize;
            let part = scene.model.triangle_part[t];
            if !matches!(part, Part::Face | Part::Head) {
                return None;
            }
            let tri = scene.model.triangles[t];
            let b = scene.gt.bary[i];
            let rest = rest_of(scene, i);
            let ragged = 0.8 * (value3(rest.map(|v| v * 1.5), hair.seed) - 0.5);
            let above_line = interp1(&scene.regions.hair, tri, b) + ragged > hair.line;
            let long =
                part == Part::Head && rest[2] < BEHIND_EARS && rest[1] + ragged > hair.length;
            let fringe = part == Part::Face
                && rest[0].abs() < 7.0
                && hair.fringe.is_some_and(|f| rest[1] + 2.0 * ragged > f);
            let volume = hair.volume * scene.px_per_cm;
            if long && rest[1] < 3.0 {
                Some(Root {
                    pixel: i,
                    radius: volume + hair.spread * scene.px_per_cm,
                })
            } else {
                (above_line || long || fringe).then_some(Root {
                    pixel: i,
                    radius: volume,
                })
            }
        })
        .collect()
}

fn is_face(scene: &Scene, i: usize) -> bool {
    scene.gt.covered(i) && scene.model.triangle_part[scene.gt.triangle[i] as usize] != Part::Head
}

/// The lit colour of hair grown from the root at pixel `src`, seen at pixel `at`.
fn colour(hair: &Hair, scene: &Scene, src: usize, at: [f32; 2]) -> [f32; 3] {
    let t = scene.gt.triangle[src] as usize;
    let tri = scene.model.triangles[t];
    let b = scene.gt.bary[src];
    let rest = rest_of(scene, src);
    let position = interp(&scene.posed.positions, tri, b);
    let normal = normalize(interp(&scene.posed.normals, tri, b));
    let n = scene.size as f32;
    // Strands run down the head; grown pixels add a little of their own position.
    let strands = fbm3(
        [
            rest[0] * 4.0 + at[0] / n * 40.0,
            rest[1] * 0.7 + at[1] / n * 2.0,
            rest[2] * 4.0,
        ],
        3,
        hair.seed ^ 0x5B,
    );
    let albedo = scene.look.hair.map(|v| v * (0.55 + 0.9 * strands));
    let point = ShadePoint {
        position,
        normal,
        albedo,
        part: Part::Head,
        lit: 1.0,
    };
    shade(scene.lighting, scene.look, &point)
}

/// Darkens face pixels within two pixels of the hair.
fn contact_shadow(scene: &Scene, coverage: &[f32], linear: &mut [[f32; 3]]) {
    let n = scene.size;
    let reach = 2i64;
    for i in 0..n * n {
        if !is_face(scene, i) || coverage[i] > 0.0 {
            continue;
        }
        let (y, x) = ((i / n) as i64, (i % n) as i64);
        let mut near = 0.0f32;
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let (yy, xx) = (y + dy, x + dx);
                if yy >= 0 && xx >= 0 && (yy as usize) < n && (xx as usize) < n {
                    near = near.max(coverage[yy as usize * n + xx as usize]);
                }
            }
        }
        linear[i] = linear[i].map(|v| v * (1.0 - 0.35 * near));
    }
}
