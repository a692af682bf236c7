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

use super::math::{mix, smoothstep, srgb8};
use super::noise::fbm3;
use super::params::Lighting;
use super::rng::{SampleRng, chance, index, normal, uniform};

/// Random streams of the photo style (the classic style uses 1-11).
const STREAM: u64 = 21;

/// The photo-like extras of one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Photo {
    /// A natural-photo backdrop, or `None` for the classic procedural background.
    pub backdrop: Option<backdrop::Backdrop>,
    /// Hair, or `None` for a bald or shaved head.
    pub hair: Option<hair::Hair>,
    /// Clothing colour (linear RGB) on the shoulders, if any.
    pub clothing: Option<[f32; 3]>,
    /// The camera's response.
    pub response: Response,
}

/// What the camera does to the light: applied to the whole linear image before sRGB encoding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Response {
    /// Exposure gain (1 = as rendered).
    pub exposure: f32,
    /// White-balance gains per channel.
    pub balance: [f32; 3],
    /// S-curve strength in [0, 1] (0 = linear).
    pub contrast: f32,
    /// Corner darkening in [0, 1].
    pub vignette: f32,
    /// A black-and-white photo.
    pub greyscale: bool,
}

impl Photo {
    /// Draws the photo extras of sample `id`.
    #[must_use]
    pub fn draw(id: u64) -> Self {
        let mut r = SampleRng::for_sample(id, STREAM);
        let backdrop = chance(&mut r, 0.7).then(|| backdrop::Backdrop::draw(&mut r));
        let hair = chance(&mut r, 0.85).then(|| hair::Hair::draw(&mut r));
        let clothing = chance(&mut r, 0.7).then(|| clothing_colour(&mut r));
        let response = Response {
            exposure: 2f32.powf((normal(&mut r) * 0.45).clamp(-1.2, 1.2)),
            balance: [uniform(&mut r, 0.8, 1.2), 1.0, uniform(&mut r, 0.75, 1.2)],
            contrast: uniform(&mut r, 0.0, 0.6),
            vignette: if chance(&mut r, 0.4) {
                uniform(&mut r, 0.1, 0.5)
            } else {
                0.0
            },
            greyscale: chance(&mut r, 0.1),
        };
        Self {
            backdrop,
            hair,
            clothing,
            response,
        }
    }
}

/// The lights of the photo style: the classic lights, or (a third of the samples) one harsh
/// light with little ambient, which casts hard shadows.
#[must_use]
pub fn lighting(id: u64, classic: Lighting) -> Lighting {
    let mut r = SampleRng::for_sample(id, STREAM + 1);
    if !chance(&mut r, 0.33) {
        return classic;
    }
    let key = uniform(&mut r, 1.5, 2.6);
    let ambient = uniform(&mut r, 0.02, 0.1);
    let peak = classic.key.iter().copied().fold(1e-3f32, f32::max);
    Lighting {
        key: classic.key.map(|c| c / peak * key),
        fill: [0.0; 3],
        sky: [ambient; 3],
        ground: [ambient * 0.5; 3],
        ..classic
    }
}

/// Clothing colours, sRGB.
const CLOTHING: [[u8; 3]; 7] = [
    [20, 20, 24],
    [235, 235, 230],
    [40, 50, 90],
    [120, 30, 35],
    [90, 90, 95],
    [60, 80, 50],
    [180, 150, 110],
];

fn clothing_colour(r: &mut SampleRng) -> [f32; 3] {
    let [red, green, blue] = CLOTHING[index(r, CLOTHING.len())];
    srgb8(red, green, blue).map(|v| v * uniform(r, 0.7, 1.2))
}

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
        let key = light.key.iter().sum::<f32>() / 3.0;
        let sky = light.sky.iter().sum::<f32>() / 3.0;
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

    #[test]
    fn harsh_lights_drop_the_fill_and_the_ambient() {
        let classic =
            super::super::params::SampleParams::draw(&super::super::procedural::head(), 0).lighting;
        let harsh = (0..40)
            .map(|id| lighting(id, classic))
            .filter(|l| *l != classic)
            .collect::<Vec<_>>();
        assert!(harsh.len() > 5 && harsh.len() < 25, "{}", harsh.len());
        for l in harsh {
            assert_eq!(l.fill, [0.0; 3]);
            assert!(l.sky[0] <= 0.1 && l.key.iter().copied().fold(0.0, f32::max) >= 1.5);
            assert_eq!(l.key_dir, classic.key_dir);
        }
    }
}
