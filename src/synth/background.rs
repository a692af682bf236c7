//! Procedural backgrounds (linear RGB): gradients, fractal noise, soft stripes and checks, and
//! defocused blobs, each with random colours, so the networks cannot key on a constant backdrop.

use super::math::{mix, smoothstep};
use super::noise::{fbm3, value2};
use super::rng::{SampleRng, uniform};

/// Number of background styles.
pub const STYLES: u32 = 4;

fn colour(r: &mut SampleRng) -> [f32; 3] {
    let v = uniform(r, 0.02, 0.8);
    let tint = [
        uniform(r, 0.3, 1.0),
        uniform(r, 0.3, 1.0),
        uniform(r, 0.3, 1.0),
    ];
    tint.map(|t| v * t)
}

/// A `size x size` background of style `style` (see [`STYLES`]) from `seed`, row-major.
#[must_use]
pub fn background(style: u32, seed: u32, size: usize) -> Vec<[f32; 3]> {
    let mut r = SampleRng::for_sample(u64::from(seed), 11);
    let (a, b) = (colour(&mut r), colour(&mut r));
    let angle = uniform(&mut r, 0.0, std::f32::consts::TAU);
    let (dx, dy) = (angle.cos(), angle.sin());
    let freq = uniform(&mut r, 2.0, 10.0) / size as f32;
    let blobs: Vec<([f32; 2], f32, [f32; 3])> = (0..8)
        .map(|_| {
            let c = [uniform(&mut r, 0.0, 1.0), uniform(&mut r, 0.0, 1.0)].map(|v| v * size as f32);
            (c, uniform(&mut r, 0.05, 0.3) * size as f32, colour(&mut r))
        })
        .collect();
    let s = size as f32;
    let mut out = Vec::with_capacity(size * size);
    for row in 0..size {
        for col in 0..size {
            let (x, y) = (col as f32 + 0.5, row as f32 + 0.5);
            let t = (x * dx + y * dy) / s * 0.5 + 0.5;
            let c = match style % STYLES {
                0 => mix(a, b, t.clamp(0.0, 1.0)),
                1 => mix(a, b, fbm3([x * freq, y * freq, 0.0], 4, seed)),
                2 => {
                    let u = (x * dx + y * dy) * freq * 0.5;
                    let v = (-x * dy + y * dx) * freq * 0.5 * (seed % 2) as f32;
                    let w = (u.rem_euclid(1.0) - 0.5)
                        .abs()
                        .max((v.rem_euclid(1.0) - 0.5).abs() * (seed % 2) as f32);
                    mix(a, b, smoothstep(0.2, 0.3, w))
                }
                _ => blobs.iter().fold(
                    mix(a, b, value2(x * freq, y * freq, seed)),
                    |c, (p, rad, bc)| {
                        let d = ((x - p[0]).powi(2) + (y - p[1]).powi(2)).sqrt();
                        mix(c, *bc, 0.6 * (1.0 - smoothstep(rad * 0.7, *rad, d)))
                    },
                ),
            };
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_style_varies_and_is_deterministic() {
        for style in 0..STYLES {
            let a = background(style, 9, 32);
            assert_eq!(a, background(style, 9, 32));
            let first = a[0];
            assert!(
                a.iter().any(|c| (c[0] - first[0]).abs() > 1e-3),
                "style {style}"
            );
            assert!(a.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}
