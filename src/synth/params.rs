//! Everything random about one sample, drawn from [`SampleRng`] streams of its global id: shape
//! (identity ~ N(0,1), a sparse expression mix), pose, framing, appearance, lighting, background,
//! occluder and degradations. Sample `id` is the same whatever the run's count or thread count.

use rand::RngCore;

use super::math::{mix, normalize, srgb8};
use super::model::FaceModel;
use super::photo::params::Photo;
use super::rng::{SampleRng, chance, index, normal, uniform};

/// Head rotation in degrees (yaw about +Y, pitch about +X, roll about +Z of the model).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    /// Yaw, -90..90.
    pub yaw: f32,
    /// Pitch, -30..30.
    pub pitch: f32,
    /// Roll, -30..30.
    pub roll: f32,
}

/// Camera and crop placement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Framing {
    /// Distance from the camera to the head's pivot, cm (35-150: selfie to portrait lens).
    pub distance: f32,
    /// Head offset from the optical axis, cm `[x right, y down]`.
    pub offset: [f32; 2],
    /// Crop side measured at the head pivot's depth, cm (scale jitter).
    pub side: f32,
    /// Crop centre shift, fractions of the crop side `[x, y]` (translation jitter).
    pub shift: [f32; 2],
}

/// Generated appearance (colours are linear RGB in [0, 1]).
#[derive(Clone, Debug, PartialEq)]
pub struct Look {
    /// Skin tone position, 0 = very light, 1 = very dark.
    pub tone: f32,
    /// Skin albedo.
    pub skin: [f32; 3],
    /// Lip albedo.
    pub lip: [f32; 3],
    /// Hair and brow colour.
    pub hair: [f32; 3],
    /// Brow opacity.
    pub brow: f32,
    /// Hairline offset in cm (hair drawn above it), `None` = bald / shaved.
    pub hairline: Option<f32>,
    /// Iris colour.
    pub iris: [f32; 3],
    /// Stubble density in [0, 1].
    pub stubble: f32,
    /// Freckle density in [0, 1].
    pub freckles: f32,
    /// Low-frequency skin variation amplitude.
    pub mottling: f32,
    /// Specular strength and Blinn-Phong exponent.
    pub specular: f32,
    /// Blinn-Phong exponent.
    pub shininess: f32,
    /// Seed of the per-pixel skin noise.
    pub seed: u32,
}

/// Directional key and fill lights plus a sky/ground ambient, camera frame (x right, y down,
/// z forward); directions point towards the light.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lighting {
    /// Key light direction (casts shadows).
    pub key_dir: [f32; 3],
    /// Key light colour times intensity.
    pub key: [f32; 3],
    /// Fill light direction.
    pub fill_dir: [f32; 3],
    /// Fill light colour times intensity.
    pub fill: [f32; 3],
    /// Ambient from above.
    pub sky: [f32; 3],
    /// Ambient from below.
    pub ground: [f32; 3],
}

/// Occluder kinds drawn over a fraction of samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OccluderKind {
    /// A hand-like blob (palm and fingers).
    Hand,
    /// Glasses-like rims, bridge and temples around the eyes.
    Glasses,
    /// A bar across the face (pen, microphone, strap).
    Bar,
}

/// Degradations of the input image (the clean image keeps none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Degrade {
    /// Face width in pixels to downscale to and back, if any (24-64).
    pub face_px: Option<f32>,
    /// Gaussian blur sigma in pixels (0 = none).
    pub blur: f32,
    /// Gaussian noise sigma in 8-bit levels (0 = none).
    pub noise: f32,
    /// JPEG quality, if re-encoded.
    pub jpeg: Option<u8>,
}

/// All random choices of one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleParams {
    /// Global sample id (the seed).
    pub id: u64,
    /// Identity weights, one per identity mode, ~N(0, 1).
    pub identity: Vec<f32>,
    /// Expression weights in [0, 1], one per blendshape, mostly zero.
    pub expression: Vec<f32>,
    /// Head rotation.
    pub pose: Pose,
    /// Camera placement.
    pub framing: Framing,
    /// Appearance.
    pub look: Look,
    /// Lights.
    pub lighting: Lighting,
    /// Background style index and seed.
    pub background: (u32, u32),
    /// Optional occluder.
    pub occluder: Option<OccluderKind>,
    /// Input degradations.
    pub degrade: Degrade,
    /// The photo-like extras ([`crate::synth::photo`]); `None` in the classic style.
    pub photo: Option<Photo>,
}

impl SampleParams {
    /// Draws the parameters of sample `id` for `model`.
    #[must_use]
    pub fn draw(model: &FaceModel, id: u64) -> Self {
        let mut r = SampleRng::for_sample(id, 1);
        let identity = (0..model.n_identity).map(|_| normal(&mut r)).collect();
        let expression = expressions(model, &mut SampleRng::for_sample(id, 2));
        let mut r3 = SampleRng::for_sample(id, 3);
        let pose = Pose {
            yaw: spread(&mut r3, 90.0, 0.5),
            pitch: spread(&mut r3, 30.0, 0.4),
            roll: spread(&mut r3, 30.0, 0.3),
        };
        let framing = Framing {
            distance: uniform(&mut r3, 35.0, 150.0),
            offset: [normal(&mut r3) * 4.0, normal(&mut r3) * 3.0],
            side: uniform(&mut r3, 20.0, 28.0),
            shift: [normal(&mut r3) * 0.03, normal(&mut r3) * 0.03],
        };
        let mut r4 = SampleRng::for_sample(id, 4);
        let look = look(id, &mut r4);
        let lighting = lighting(&mut SampleRng::for_sample(id, 5));
        let mut r6 = SampleRng::for_sample(id, 6);
        let background = (index(&mut r6, 4) as u32, r6.next_u32());
        let occluder = chance(&mut r6, 0.25).then(|| match index(&mut r6, 20) {
            0..=8 => OccluderKind::Hand,
            // Glasses are drawn in 2D on the eye landmarks: only plausible up to ~40 degrees.
            9..=16 if pose.yaw.abs() < 40.0 => OccluderKind::Glasses,
            9..=16 => OccluderKind::Hand,
            _ => OccluderKind::Bar,
        });
        let degrade = degrade(&mut SampleRng::for_sample(id, 7));
        Self {
            id,
            identity,
            expression,
            pose,
            framing,
            look,
            lighting,
            background,
            occluder,
            degrade,
            photo: None,
        }
    }

    /// Draws the parameters of sample `id` in the photo-like style: the classic draw (same
    /// shape, pose, framing, skin and light directions), plus [`Photo`]'s extras, a third of
    /// the samples under one harsh light, and the hairline of the hair, if any.
    #[must_use]
    pub fn draw_photo(model: &FaceModel, id: u64) -> Self {
        let mut p = Self::draw(model, id);
        let photo = Photo::draw(id);
        if let Some(hair) = &photo.hair {
            p.look.hairline = Some(hair.line);
        }
        p.lighting = photo_lighting(id, p.lighting);
        p.photo = Some(photo);
        p
    }
}

/// Random stream of the photo style's lights.
const PHOTO_LIGHT_STREAM: u64 = 22;

/// The lights of the photo style: the classic lights, or (a third of the samples) one harsh
/// light with little ambient, which casts hard shadows.
#[must_use]
pub fn photo_lighting(id: u64, classic: Lighting) -> Lighting {
    let mut r = SampleRng::for_sample(id, PHOTO_LIGHT_STREAM);
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

/// Half uniform over `[-max, max]`, half a clipped normal of sigma `frac * max` (more
/// near-frontal samples while still covering the whole range).
fn spread(r: &mut SampleRng, max: f32, frac: f32) -> f32 {
    if chance(r, 0.5) {
        uniform(r, -max, max)
    } else {
        (normal(r) * frac * max).clamp(-max, max)
    }
}

fn expressions(model: &FaceModel, r: &mut SampleRng) -> Vec<f32> {
    let n = model.n_expression();
    let mut w = vec![0.0f32; n];
    if n == 0 {
        return w;
    }
    let count = [0, 1, 1, 2, 2, 3, 3, 4, 5, 6][index(r, 10)];
    for _ in 0..count {
        let k = index(r, n);
        w[k] = uniform(r, 0.15, 1.0);
        let name = &model.expression_names[k];
        let mirror = name
            .strip_suffix("_L")
            .map(|s| format!("{s}_R"))
            .or_else(|| name.strip_suffix("_R").map(|s| format!("{s}_L")));
        if let Some(m) = mirror.and_then(|m| model.expression_index(&m))
            && chance(r, 0.6)
        {
            w[m] = w[k];
        }
    }
    if let Some(j) = model.expression_index("jawOpen")
        && chance(r, 0.35)
    {
        w[j] = uniform(r, 0.2, 1.0);
    }
    w
}

/// Skin tone anchors, sRGB, from very light to very dark.
const SKIN: [[u8; 3]; 6] = [
    [246, 220, 204],
    [226, 186, 158],
    [198, 148, 112],
    [158, 106, 72],
    [104, 66, 44],
    [54, 35, 26],
];

fn skin_tone(t: f32, r: &mut SampleRng) -> [f32; 3] {
    let x = t.clamp(0.0, 1.0) * (SKIN.len() - 1) as f32;
    let k = (x as usize).min(SKIN.len() - 2);
    let [a, b] = [SKIN[k], SKIN[k + 1]].map(|c| srgb8(c[0], c[1], c[2]));
    let base = mix(a, b, x - k as f32);
    let (red, yellow, gain) = (
        uniform(r, -0.06, 0.06),
        uniform(r, -0.06, 0.06),
        uniform(r, 0.9, 1.1),
    );
    [
        base[0] * (1.0 + red) * gain,
        base[1] * gain,
        base[2] * (1.0 - yellow) * gain,
    ]
}

fn look(id: u64, r: &mut SampleRng) -> Look {
    // Low-discrepancy tone so any run of consecutive ids spans the whole range evenly.
    let tone =
        ((id as f64 * 0.618_033_988_7).fract() as f32 + uniform(r, -0.05, 0.05)).clamp(0.0, 1.0);
    let skin = skin_tone(tone, r);
    let hairs = [
        srgb8(20, 16, 14),
        srgb8(45, 32, 24),
        srgb8(90, 62, 40),
        srgb8(170, 135, 85),
        srgb8(140, 70, 35),
        srgb8(150, 150, 150),
    ];
    let hair = hairs[if tone > 0.55 && chance(r, 0.8) {
        index(r, 2)
    } else {
        index(r, hairs.len())
    }];
    let irises = [
        srgb8(70, 40, 20),
        srgb8(35, 22, 14),
        srgb8(110, 85, 40),
        srgb8(70, 110, 70),
        srgb8(80, 120, 170),
        srgb8(110, 120, 130),
    ];
    let lip_tint = if chance(r, 0.12) {
        [srgb8(150, 20, 40), srgb8(190, 80, 100), srgb8(90, 30, 40)][index(r, 3)]
    } else {
        mix(
            [skin[0] * 0.9, skin[1] * 0.5, skin[2] * 0.55],
            srgb8(150, 70, 75),
            0.25 * (1.0 - tone),
        )
    };
    Look {
        tone,
        skin,
        lip: mix(skin, lip_tint, uniform(r, 0.55, 0.9)),
        hair,
        brow: uniform(r, 0.45, 0.95),
        hairline: chance(r, 0.75).then(|| uniform(r, 3.0, 6.0)),
        iris: irises[if tone > 0.5 {
            index(r, 3)
        } else {
            index(r, irises.len())
        }],
        stubble: if chance(r, 0.3) {
            uniform(r, 0.2, 0.9)
        } else {
            0.0
        },
        freckles: if chance(r, 0.2) {
            uniform(r, 0.2, 1.0)
        } else {
            0.0
        },
        mottling: uniform(r, 0.03, 0.15),
        specular: uniform(r, 0.02, 0.2),
        shininess: uniform(r, 8.0, 40.0),
        seed: r.next_u32(),
    }
}

fn lighting(r: &mut SampleRng) -> Lighting {
    let dir = |az: f32, el: f32| {
        let (a, e) = (az.to_radians(), el.to_radians());
        normalize([a.sin() * e.cos(), -e.sin(), -a.cos() * e.cos()])
    };
    let warm = uniform(r, -0.15, 0.15);
    let tint = [1.0 + warm, 1.0, 1.0 - warm];
    let key_i = uniform(r, 0.6, 1.3);
    let az = uniform(r, -80.0, 80.0);
    let sky_i = uniform(r, 0.12, 0.45);
    Lighting {
        key_dir: dir(az, uniform(r, -15.0, 60.0)),
        key: tint.map(|c| c * key_i),
        fill_dir: dir(-az * uniform(r, 0.5, 1.2), uniform(r, -10.0, 30.0)),
        fill: [uniform(r, 0.0, 0.35); 3],
        sky: [sky_i, sky_i, sky_i * uniform(r, 0.95, 1.15)],
        ground: [sky_i * uniform(r, 0.2, 0.6); 3],
    }
}

fn degrade(r: &mut SampleRng) -> Degrade {
    Degrade {
        face_px: chance(r, 0.5).then(|| uniform(r, 24.0, 64.0)),
        blur: if chance(r, 0.35) {
            uniform(r, 0.3, 1.5)
        } else {
            0.0
        },
        noise: if chance(r, 0.5) {
            uniform(r, 1.0, 10.0)
        } else {
            0.0
        },
        jpeg: chance(r, 0.5).then(|| uniform(r, 20.0, 92.0) as u8),
    }
}
