//! Generated appearance: per-vertex albedo from a [`Look`] and the model's [`Regions`] (skin,
//! lips, brows, hair cap, mouth interior, teeth, eyes), and per-pixel detail from value noise on
//! the rest-pose surface (mottling, pores, freckles, stubble, iris and pupil).

use super::math::{mix, smoothstep};
use super::model::Part;
use super::noise::{fbm3, hash01, value3};
use super::params::Look;
use super::regions::{Regions, eye_radius};

/// Sclera albedo (linear).
const SCLERA: [f32; 3] = [0.62, 0.58, 0.55];
/// Teeth albedo.
const TEETH: [f32; 3] = [0.62, 0.56, 0.44];
/// Gum and tongue albedo.
const GUMS: [f32; 3] = [0.42, 0.09, 0.09];
/// Mouth socket albedo.
const MOUTH: [f32; 3] = [0.16, 0.03, 0.03];

/// Per-vertex albedo (linear RGB) of every vertex of the model.
#[must_use]
pub fn vertex_albedo(look: &Look, regions: &Regions, parts: &[Part]) -> Vec<[f32; 3]> {
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| match part {
            Part::Face | Part::Head => skin_albedo(look, regions, i),
            Part::MouthSocket => MOUTH,
            Part::EyeSocket => mix(look.skin, [0.45, 0.15, 0.13], 0.6),
            Part::Gums => GUMS,
            Part::Teeth => TEETH,
            Part::Eyeball => SCLERA,
        })
        .collect()
}

fn skin_albedo(look: &Look, regions: &Regions, i: usize) -> [f32; 3] {
    let c = mix(look.skin, look.lip, regions.lip[i]);
    let c = mix(c, look.hair, regions.brow[i] * look.brow);
    mix(c, look.hair.map(|v| v * 0.3), 0.85 * regions.lash[i])
}

/// Rest-pose surface point data a pixel interpolates for its detail.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Surface {
    /// Interpolated albedo.
    pub albedo: [f32; 3],
    /// Rest-pose (neutral) position, cm.
    pub rest: [f32; 3],
    /// Beard-area weight.
    pub beard: f32,
    /// Height above the hairline surface, cm ([`Regions::hair`]).
    pub hair: f32,
    /// Part of the covering triangle.
    pub part: Part,
}

/// Albedo of one pixel with its procedural detail.
#[must_use]
pub fn detail(look: &Look, regions: &Regions, s: &Surface) -> [f32; 3] {
    match s.part {
        Part::Face | Part::Head => skin_detail(look, s),
        Part::Eyeball => eye_detail(look, regions, s),
        _ => s.albedo,
    }
}

fn skin_detail(look: &Look, s: &Surface) -> [f32; 3] {
    let p = s.rest;
    let m = fbm3(p.map(|v| v * 0.6), 2, look.seed);
    let pores = value3(p.map(|v| v * 9.0), look.seed ^ 0x55);
    let gain = 1.0 + look.mottling * (2.0 * m - 1.0) + 0.05 * (pores - 0.5);
    let mut c = s.albedo.map(|v| v * gain);
    if look.freckles > 0.0 && s.part == Part::Face {
        let f = value3(p.map(|v| v * 3.5), look.seed ^ 0xF2);
        let k = look.freckles * 0.3 * smoothstep(0.76, 0.84, f);
        c = [
            c[0] * (1.0 - 0.8 * k),
            c[1] * (1.0 - k),
            c[2] * (1.0 - 1.1 * k).max(0.0),
        ];
    }
    if let Some(line) = look.hairline {
        // A ragged hairline and strand-like streaks (noise stretched along the model's Y).
        let ragged = 0.8 * (value3(p.map(|v| v * 1.5), look.seed ^ 0x4A) - 0.5);
        let w = smoothstep(line - 0.25, line + 0.25, s.hair + ragged);
        if w > 0.0 {
            let strands = fbm3([p[0] * 4.0, p[1] * 0.7, p[2] * 4.0], 3, look.seed ^ 0x5B);
            c = mix(c, look.hair.map(|v| v * (0.55 + 0.9 * strands)), w);
        }
    }
    if look.stubble > 0.0 && s.beard > 0.0 {
        let cell = p.map(|v| (v * 9.0).floor() as i32);
        let h = hash01(cell[0], cell[1], cell[2], look.seed ^ 0xBEA);
        if h < look.stubble * s.beard * 0.45 {
            c = mix(c, look.hair, 0.4);
        } else {
            c = mix(c, look.hair, 0.2 * look.stubble * s.beard);
        }
    }
    c
}

fn eye_detail(look: &Look, regions: &Regions, s: &Surface) -> [f32; 3] {
    let r = eye_radius(&regions.eyes, s.rest);
    let iris = 1.0 - smoothstep(0.55, 0.62, r);
    let pupil = 1.0 - smoothstep(0.17, 0.23, r);
    let rays = value3(s.rest.map(|v| v * 14.0), look.seed ^ 0x1E);
    let limbal = 1.0 - 0.5 * smoothstep(0.42, 0.58, r);
    let iris_c = look.iris.map(|v| v * (0.7 + 0.6 * rays) * limbal);
    let c = mix(s.albedo, iris_c, iris);
    mix(c, [0.01, 0.01, 0.012], pupil)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::params::SampleParams;

    #[test]
    fn lips_differ_from_skin_and_hair_covers_the_scalp() {
        let model = crate::synth::procedural::head();
        let regions = Regions::new(&model);
        let mut look = SampleParams::draw(&model, 3).look;
        look.hairline = Some(4.0);
        let albedo = vertex_albedo(&look, &regions, &model.vertex_part);
        let lip = (0..albedo.len()).max_by(|&a, &b| regions.lip[a].total_cmp(&regions.lip[b]));
        let lip = lip.map_or([0.0; 3], |i| albedo[i]);
        assert!((lip[1] - look.skin[1]).abs() > 1e-3);
        let top = model
            .neutral
            .iter()
            .enumerate()
            .max_by(|a, b| a.1[1].total_cmp(&b.1[1]));
        let top = top.map_or(0, |(i, _)| i);
        look.hair = [0.02, 0.015, 0.01];
        let surface = Surface {
            albedo: albedo[top],
            rest: model.neutral[top],
            beard: 0.0,
            hair: regions.hair[top],
            part: Part::Head,
        };
        let c = detail(&look, &regions, &surface);
        assert!(c[0] < 0.5 * look.skin[0], "{c:?} vs skin {:?}", look.skin);
    }
}
