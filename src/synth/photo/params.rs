//! The random choices of the photo style ([`super`]), drawn from random streams of their own so
//! that a sample's classic parameters stay those of the classic style with the same id. Data
//! only: what they do to the image is in [`super`], [`super::backdrop`] and [`super::hair`].

use rand::RngCore;

use crate::synth::math::srgb8;
use crate::synth::rng::{SampleRng, chance, index, normal, uniform};

/// Random stream of the photo style's extras (the classic style uses 1-11; 22 is the photo
/// style's lights, drawn in [`crate::synth::params`]).
const STREAM: u64 = 21;

/// Number of backdrop photos ([`super::backdrop`]).
pub const BACKDROPS: usize = 8;

/// The photo-like extras of one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Photo {
    /// A natural-photo backdrop, or `None` for the classic procedural background.
    pub backdrop: Option<Backdrop>,
    /// Hair, or `None` for a bald or shaved head.
    pub hair: Option<Hair>,
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

impl Response {
    /// The camera that changes nothing.
    pub const NEUTRAL: Self = Self {
        exposure: 1.0,
        balance: [1.0; 3],
        contrast: 0.0,
        vignette: 0.0,
        greyscale: false,
    };
}

impl Photo {
    /// Draws the photo extras of sample `id`.
    #[must_use]
    pub fn draw(id: u64) -> Self {
        let mut r = SampleRng::for_sample(id, STREAM);
        let backdrop = chance(&mut r, 0.7).then(|| Backdrop::draw(&mut r));
        let hair = chance(&mut r, 0.85).then(|| Hair::draw(&mut r));
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

/// One backdrop: which photo, which part of it, and what the lens and the light did to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backdrop {
    /// Index into the photos.
    pub source: usize,
    /// Crop side as a fraction of the photo's shorter side.
    pub zoom: f32,
    /// Crop corner as fractions of the free range.
    pub at: [f32; 2],
    /// Mirrored left-right.
    pub mirror: bool,
    /// Defocus blur sigma, as a fraction of the output side.
    pub defocus: f32,
    /// Per-channel gain (linear).
    pub tint: [f32; 3],
}

impl Backdrop {
    /// Draws a backdrop.
    #[must_use]
    pub fn draw(r: &mut SampleRng) -> Self {
        let brightness = uniform(r, 0.4, 1.3);
        Self {
            source: index(r, BACKDROPS),
            zoom: uniform(r, 0.3, 1.0),
            at: [uniform(r, 0.0, 1.0), uniform(r, 0.0, 1.0)],
            mirror: chance(r, 0.5),
            defocus: if chance(r, 0.6) {
                uniform(r, 0.0, 0.03)
            } else {
                0.0
            },
            tint: [
                uniform(r, 0.8, 1.2),
                uniform(r, 0.8, 1.2),
                uniform(r, 0.8, 1.2),
            ]
            .map(|t| t * brightness),
        }
    }
}

/// One hairstyle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hair {
    /// The hairline: scalp hair where the surface lies this far above the hairline surface (cm,
    /// `Regions::hair`; the classic style's `Look::hairline`).
    pub line: f32,
    /// Lowest model-frame height (cm) the hair reaches behind the ears: about 3 for short
    /// hair, -20 for hair to the shoulders.
    pub length: f32,
    /// How far the hair stands out past the head's outline, cm.
    pub volume: f32,
    /// How much further long hair (below the ears) spreads, cm.
    pub spread: f32,
    /// Model-frame height (cm) a fringe comes down to over the forehead, if any.
    pub fringe: Option<f32>,
    /// Noise seed.
    pub seed: u32,
}

impl Hair {
    /// Draws a hairstyle.
    #[must_use]
    pub fn draw(r: &mut SampleRng) -> Self {
        let long = chance(r, 0.5);
        Self {
            line: uniform(r, 3.0, 5.0),
            length: if long {
                uniform(r, -22.0, -4.0)
            } else {
                uniform(r, 1.0, 5.0)
            },
            volume: uniform(r, 0.4, 2.5),
            spread: if long { uniform(r, 0.5, 4.0) } else { 0.0 },
            fringe: chance(r, 0.3).then(|| uniform(r, 5.8, 9.0)),
            seed: r.next_u32(),
        }
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
