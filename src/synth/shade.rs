//! Lighting: a shadow map for the key light (an orthographic depth pass with the same
//! rasterizer) and the per-sample shading (wrapped Lambert key + fill, sky/ground ambient,
//! Blinn-Phong sheen, a crude cavity factor for the mouth and eye interiors).

use super::math::{add, cross, dot, mix, normalize, scale};
use super::model::Part;
use super::params::{Lighting, Look};
use super::raster::{Cull, DepthTest, Projection, ScreenVertex, VisBuffer};

/// Shadow map resolution (square).
const SHADOW_RES: usize = 192;

/// Depth of the nearest surface seen from the key light.
#[derive(Clone, Debug)]
pub struct ShadowMap {
    buffer: VisBuffer,
    u: [f32; 3],
    v: [f32; 3],
    l: [f32; 3],
    origin: [f32; 2],
    px_per_cm: f32,
}

impl ShadowMap {
    /// Renders the depth of `triangles` over camera-frame `positions` as seen from direction
    /// `light` (unit, pointing towards the light).
    #[must_use]
    pub fn build(positions: &[[f32; 3]], triangles: &[[u32; 3]], light: [f32; 3]) -> Self {
        let l = normalize(light);
        let helper = if l[1].abs() < 0.9 {
            [0.0, 1.0, 0.0]
        } else {
            [1.0, 0.0, 0.0]
        };
        let u = normalize(cross(helper, l));
        let v = cross(l, u);
        let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
        for p in positions {
            let q = [dot(*p, u), dot(*p, v)];
            for k in 0..2 {
                lo[k] = lo[k].min(q[k]);
                hi[k] = hi[k].max(q[k]);
            }
        }
        let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-3);
        let px_per_cm = (SHADOW_RES as f32 - 2.0) / extent;
        let mut map = Self {
            buffer: VisBuffer::new(SHADOW_RES, SHADOW_RES, DepthTest::Nearest),
            u,
            v,
            l,
            origin: lo,
            px_per_cm,
        };
        let verts: Vec<ScreenVertex> = positions.iter().map(|&p| map.to_light(p)).collect();
        map.buffer
            .draw(&verts, triangles, Projection::Orthographic, Cull::None, 0.0);
        map
    }

    fn to_light(&self, p: [f32; 3]) -> ScreenVertex {
        ScreenVertex {
            x: (dot(p, self.u) - self.origin[0]) * self.px_per_cm + 1.0,
            y: (dot(p, self.v) - self.origin[1]) * self.px_per_cm + 1.0,
            w: -dot(p, self.l),
        }
    }

    /// Fraction of the key light reaching camera-frame point `p`: percentage-closer filtering
    /// over 3x3 bilinearly weighted taps (soft, alias-free edges), depth bias `bias` cm.
    #[must_use]
    pub fn light(&self, p: [f32; 3], bias: f32) -> f32 {
        let q = self.to_light(p);
        let (gx, gy) = (q.x - 0.5, q.y - 0.5);
        let (bx, by) = (gx.floor(), gy.floor());
        let (fx, fy) = (gx - bx, gy - by);
        let n = SHADOW_RES as f32;
        let test = |x: f32, y: f32| {
            if x < 0.0 || y < 0.0 || x >= n || y >= n {
                return 1.0;
            }
            let d = self.buffer.depth[y as usize * SHADOW_RES + x as usize];
            if q.w <= d + bias { 1.0 } else { 0.0 }
        };
        let t: [[f32; 4]; 4] = std::array::from_fn(|j| {
            std::array::from_fn(|i| test(bx - 1.0 + i as f32, by - 1.0 + j as f32))
        });
        let mut sum = 0.0;
        for j in 0..3 {
            for i in 0..3 {
                let a = t[j][i] * (1.0 - fx) + t[j][i + 1] * fx;
                let b = t[j + 1][i] * (1.0 - fx) + t[j + 1][i + 1] * fx;
                sum += a * (1.0 - fy) + b * fy;
            }
        }
        sum / 9.0
    }
}

/// Everything the shading of one sample point needs, camera frame.
#[derive(Clone, Copy, Debug)]
pub struct ShadePoint {
    /// Position, cm.
    pub position: [f32; 3],
    /// Unit normal.
    pub normal: [f32; 3],
    /// Albedo with detail.
    pub albedo: [f32; 3],
    /// Part of the surface.
    pub part: Part,
    /// Key light visibility in [0, 1].
    pub lit: f32,
}

/// Linear radiance leaving `s` towards the camera.
#[must_use]
pub fn shade(light: &Lighting, look: &Look, s: &ShadePoint) -> [f32; 3] {
    let view = normalize(scale(s.position, -1.0));
    let n = if dot(s.normal, view) < 0.0 {
        scale(s.normal, -1.0)
    } else {
        s.normal
    };
    let (cavity, wrap, spec, shine) = match s.part {
        Part::Face | Part::Head => (1.0, 0.3, look.specular, look.shininess),
        Part::Eyeball => (0.8, 0.0, 0.5, 120.0),
        Part::Teeth => (0.45, 0.1, 0.15, 30.0),
        Part::Gums => (0.35, 0.2, 0.1, 20.0),
        Part::MouthSocket => (0.2, 0.2, 0.02, 10.0),
        Part::EyeSocket => (0.5, 0.2, 0.1, 20.0),
    };
    let ndl = dot(n, light.key_dir);
    let diffuse = ((ndl + wrap) / (1.0 + wrap)).max(0.0) * s.lit;
    let ambient = mix(light.ground, light.sky, 0.5 - 0.5 * n[1]);
    let fill = dot(n, light.fill_dir).max(0.0);
    let irradiance = add(
        scale(add(ambient, scale(light.fill, fill)), cavity),
        scale(light.key, diffuse * cavity.sqrt()),
    );
    let h = normalize(add(light.key_dir, view));
    let sheen = if ndl > 0.0 {
        spec * dot(n, h).max(0.0).powf(shine) * s.lit
    } else {
        0.0
    };
    [
        s.albedo[0] * irradiance[0] + sheen * light.key[0],
        s.albedo[1] * irradiance[1] + sheen * light.key[1],
        s.albedo[2] * irradiance[2] + sheen * light.key[2],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plate_shadows_what_lies_behind_it() {
        // A square plate at z = 10 between the light (towards -z, i.e. the camera side) and a
        // point at z = 20 behind it; a point beside the plate stays lit.
        let plate = [
            [-2.0, -2.0, 10.0],
            [2.0, -2.0, 10.0],
            [2.0, 2.0, 10.0],
            [-2.0, 2.0, 10.0],
        ];
        let mut positions = plate.to_vec();
        positions.extend([[-8.0, -8.0, 20.0], [8.0, 8.0, 20.0]]);
        let map = ShadowMap::build(&positions, &[[0, 1, 2], [0, 2, 3]], [0.0, 0.0, -1.0]);
        assert!(map.light([0.0, 0.0, 20.0], 0.1) < 0.01);
        assert!(map.light([6.0, 6.0, 20.0], 0.1) > 0.99);
        assert!(map.light([0.0, 0.0, 10.0], 0.1) > 0.99);
    }
}
