//! The photo-like style of the synthetic renders (`visage synth --style photo`): what the
//! classic style lacks against real photos, drawn from streams of their own so that a sample's
//! shape, pose, skin and lights stay those of the classic style with the same id.
//!
//! - backdrops cut from natural photos ([`backdrop`]: CC0 / public-domain images under
//!   `assets/backdrops/`), defocused and colour-shifted, instead of procedural patterns;
//! - hair with volume ([`hair`]): the scalp's hair grown outwards past the head's outline, long
//!   hair over the ears and the neck, fringes over the forehead, and a contact shadow on the skin;
//! - clothing on the shoulders below the neck;
//! - harsh single lights with hard shadows, and a camera response: exposure, white balance,
//!   contrast, vignetting and greyscale photos.
//!
//! None of it touches the ground truth: depth, normals, masks and landmarks are the head's, as
//! in the classic style; hair over the head is marked in the occluder map.

pub mod backdrop;
pub mod hair;
pub mod params;

pub use params::{Backdrop, Hair, Photo, Response};

use super::math::{mix, smoothstep};
use super::noise::fbm3;
use crate::synth::params::Lighting;

/// Applies `response` to a row-major `size x size` linear image.
pub fn respond(response: &Response, linear: &mut [[f32; 3]], size: usize) {
    let half = size as f32 / 2.0;
    for (i, px) in linear.iter_mut().enumerate() {
        let (x, y) = (
            (i % size) as f32 + 0.5 - half,
            (i / size) as f32 + 0.5 - half,
        );
        let r2 = (x * x + y * y) / (2.0 * half * half);
        let gain = response.exposure * (1.0 - response.vignette * r2);
        let mut c = std::array::from_fn(|k| px[k] * gain * response.balance[k]);
        if response.greyscale {
            let l = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
            c = [l; 3];
        }
        // Highlights roll off instead of clipping hard, then the S-curve (on the encoded
        // scale's square root, about perceptual) bends the mid-tones.
        *px = c.map(|v| {
            let v = v.max(0.0);
            let v = if v > 0.8 {
                0.8 + 0.2 * (1.0 - (-(v - 0.8) / 0.2).exp())
            } else {
                v
            };
            let s = v.sqrt();
            let curved = s + (smoothstep(0.0, 1.0, s) - s) * response.contrast;
            curved * curved
        });
    }
}

/// Clothing on the shoulders: the pixels below the neck that nothing else covers (`free`),
/// as a soft-folded cloth of `colour` lit from the key light's side.
#[allow(clippy::too_many_arguments)]
pub fn clothing(
    linear: &mut [[f32; 3]],
    free: &[bool],
    size: usize,
    neck: [f32; 2],
    down: [f32; 2],
    px_per_cm: f32,
    colour: [f32; 3],
    light: &Lighting,
    seed: u32,
) {
    let side = [-down[1], down[0]];
    let lit_side = light.key_dir[0].signum();
    let key = light.key.iter().sum::<f32>() / 3.0;
    let sky = light.sky.iter().sum::<f32>() / 3.0;
    for (i, px) in linear.iter_mut().enumerate() {
        if !free[i] {
            continue;
        }
        let q = [
            (i % size) as f32 + 0.5 - neck[0],
            (i / size) as f32 + 0.5 - neck[1],
        ];
        let t = (q[0] * down[0] + q[1] * down[1]) / px_per_cm;
        let x = (q[0] * side[0] + q[1] * side[1]) / px_per_cm;
        // Shoulders fall away from the neck; the cloth edge is soft over a pixel.
        let edge = t - (0.02 * x * x - 1.0);
        let a = smoothstep(0.0, 1.0 / px_per_cm + 0.05, edge) * f32::from(x.abs() < 30.0);
        if a <= 0.0 {
            continue;
        }
        let folds = fbm3([x * 0.3, t * 0.15, 0.0], 3, seed);
        let shade = 0.25 + 0.5 * (0.5 + 0.5 * lit_side * (x / 20.0).clamp(-1.0, 1.0));
        let c = colour.map(|v| v * (sky + key * shade) * (0.7 + 0.6 * folds));
        *px = mix(*px, c, a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_response_greys_darkens_corners_and_keeps_black_black() {
        let response = Response {
            exposure: 1.0,
            balance: [1.0; 3],
            contrast: 0.4,
            vignette: 0.5,
            greyscale: true,
        };
        let mut img = vec![[0.5f32, 0.2, 0.1]; 16 * 16];
        img[0] = [0.0; 3];
        respond(&response, &mut img, 16);
        assert_eq!(img[0], [0.0; 3]);
        let centre = img[8 * 16 + 8];
        assert!(
            centre[0] == centre[1] && centre[1] == centre[2],
            "{centre:?}"
        );
        assert!(
            img[1][0] < centre[0],
            "corner {:?} centre {centre:?}",
            img[1]
        );
        // Highlights roll off below 1 instead of clipping.
        let mut bright = vec![[1.5f32; 3]; 4];
        respond(
            &Response {
                contrast: 0.0,
                vignette: 0.0,
                ..response
            },
            &mut bright,
            2,
        );
        assert!(
            bright.iter().all(|c| c[0] > 0.9 && c[0] < 1.0),
            "{bright:?}"
        );
    }
}
