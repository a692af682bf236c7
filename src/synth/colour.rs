//! The colour pass: a 2x2 supersampled visibility buffer, shaded with the sample's appearance,
//! lights and shadow map, and composited over its background (linear RGB, one value per output
//! pixel).
//!
//! Interior pixels (all four samples on the same part) are shaded once from the average of the
//! four samples' interpolated attributes; silhouette and part-boundary pixels are shaded per
//! sample, so edges keep their anti-aliasing at a quarter of the shading cost elsewhere.

use super::appearance::{Surface, detail, vertex_albedo};
use super::background::background;
use super::camera::Camera;
use super::engine::{Engine, NEAR, Posed};
use super::math::{add, normalize, scale};
use super::math::{interp, interp1};
use super::params::SampleParams;
use super::raster::{Cull, DepthTest, Projection, ScreenVertex, VisBuffer};
use super::shade::{ShadePoint, ShadowMap, shade};

/// Supersampling factor per axis.
const SS: usize = 2;

/// Interpolated attributes of one visibility sample.
#[derive(Clone, Copy, Debug)]
struct Fragment {
    position: [f32; 3],
    normal: [f32; 3],
    surface: Surface,
}

/// Linear colour of every output pixel of the sample, row-major `size x size`.
pub(crate) fn colour(
    engine: &Engine,
    params: &SampleParams,
    camera: &Camera,
    posed: &Posed,
) -> Vec<[f32; 3]> {
    let size = engine.options.size;
    let n = size * SS;
    let tris = &engine.model.triangles;
    let screen: Vec<ScreenVertex> = posed
        .positions
        .iter()
        .map(|&p| camera.project(p, SS as f32))
        .collect();
    let mut vb = VisBuffer::new(n, n, DepthTest::Nearest);
    vb.draw(&screen, tris, Projection::Perspective, Cull::Back, NEAR);
    let albedo = vertex_albedo(&params.look, &engine.regions, &engine.model.vertex_part);
    let shadow = ShadowMap::build(&posed.positions, tris, params.lighting.key_dir);
    let backdrop = params.photo.as_ref().and_then(|p| p.backdrop);
    let mut out = match backdrop {
        Some(b) => b.render(size),
        None => background(params.background.0, params.background.1, size),
    };
    let weight = 1.0 / (SS * SS) as f32;
    let mut frags: Vec<Option<Fragment>> = Vec::with_capacity(SS * SS);
    for (i, px) in out.iter_mut().enumerate() {
        let (row, col) = (i / size, i % size);
        frags.clear();
        frags.extend((0..SS * SS).map(|s| {
            let j = (row * SS + s / SS) * n + col * SS + s % SS;
            vb.covered(j)
                .then(|| fragment(engine, posed, &albedo, &vb, j))
        }));
        let shade_one = |f: &Fragment| shade_fragment(engine, params, &shadow, f);
        if let Some(mean) = uniform_mean(&frags) {
            *px = shade_one(&mean);
            continue;
        }
        let mut acc = [0.0f32; 3];
        for f in &frags {
            let c = f.as_ref().map_or(*px, shade_one);
            acc = add(acc, scale(c, weight));
        }
        *px = acc;
    }
    out
}

fn fragment(
    engine: &Engine,
    posed: &Posed,
    albedo: &[[f32; 3]],
    vb: &VisBuffer,
    j: usize,
) -> Fragment {
    let t = vb.triangle[j] as usize;
    let tri = engine.model.triangles[t];
    let b = vb.bary[j];
    Fragment {
        position: interp(&posed.positions, tri, b),
        normal: interp(&posed.normals, tri, b),
        surface: Surface {
            albedo: interp(albedo, tri, b),
            rest: interp(&engine.model.neutral, tri, b),
            beard: interp1(&engine.regions.beard, tri, b),
            hair: interp1(&engine.regions.hair, tri, b),
            part: engine.model.triangle_part[t],
        },
    }
}

/// The mean fragment when every sample is covered by the same part, else `None`.
fn uniform_mean(frags: &[Option<Fragment>]) -> Option<Fragment> {
    let first = frags.first().copied().flatten()?;
    let mut sum = first;
    for f in &frags[1..] {
        let f = (*f)?;
        if f.surface.part != first.surface.part {
            return None;
        }
        sum.position = add(sum.position, f.position);
        sum.normal = add(sum.normal, f.normal);
        sum.surface.albedo = add(sum.surface.albedo, f.surface.albedo);
        sum.surface.rest = add(sum.surface.rest, f.surface.rest);
        sum.surface.beard += f.surface.beard;
        sum.surface.hair += f.surface.hair;
    }
    let k = 1.0 / frags.len() as f32;
    sum.position = scale(sum.position, k);
    sum.surface.albedo = scale(sum.surface.albedo, k);
    sum.surface.rest = scale(sum.surface.rest, k);
    sum.surface.beard *= k;
    sum.surface.hair *= k;
    Some(sum)
}

fn shade_fragment(
    engine: &Engine,
    params: &SampleParams,
    shadow: &ShadowMap,
    f: &Fragment,
) -> [f32; 3] {
    let normal = normalize(f.normal);
    // Normal-offset lookup against shadow acne on grazing surfaces.
    let lit = shadow.light(add(f.position, scale(normal, 0.35)), 0.3);
    let point = ShadePoint {
        position: f.position,
        normal,
        albedo: detail(&params.look, &engine.regions, &f.surface),
        part: f.surface.part,
        lit,
    };
    shade(&params.lighting, &params.look, &point)
}
