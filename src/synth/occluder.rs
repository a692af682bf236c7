//! Occluders drawn over the clean image in a fraction of samples: hand-like blobs (palm and
//! fingers), glasses-like rims with bridge and temples placed on the eyes, and bars across the
//! face. Shapes are signed-distance fields with one pixel of anti-aliasing; the covered pixels
//! are reported in the occluder mask (the depth and mesh ground truth stay the face's).

use super::math::{mix, smoothstep};
use super::params::OccluderKind;
use super::rng::{SampleRng, index, uniform};

/// A linear-RGB image being composed, row-major `size x size`.
pub struct Canvas<'a> {
    /// Pixels.
    pub pixels: &'a mut [[f32; 3]],
    /// Occluder coverage in [0, 1], same size.
    pub coverage: &'a mut [f32],
    /// Side in pixels.
    pub size: usize,
}

impl Canvas<'_> {
    /// Paints `colour(x, y, sdf)` where the signed distance `sdf(x, y)` (pixels) is negative,
    /// with `alpha` opacity.
    fn paint(
        &mut self,
        alpha: f32,
        sdf: impl Fn(f32, f32) -> f32,
        colour: impl Fn(f32, f32, f32) -> [f32; 3],
    ) {
        for row in 0..self.size {
            for col in 0..self.size {
                let (x, y) = (col as f32 + 0.5, row as f32 + 0.5);
                let d = sdf(x, y);
                let a = alpha * smoothstep(0.5, -0.5, d);
                if a > 0.0 {
                    let i = row * self.size + col;
                    self.pixels[i] = mix(self.pixels[i], colour(x, y, d), a);
                    self.coverage[i] = self.coverage[i].max(a);
                }
            }
        }
    }
}

fn capsule(p: [f32; 2], a: [f32; 2], b: [f32; 2], radius: f32) -> f32 {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let ap = [p[0] - a[0], p[1] - a[1]];
    let t = ((ap[0] * ab[0] + ap[1] * ab[1]) / (ab[0] * ab[0] + ab[1] * ab[1]).max(1e-6))
        .clamp(0.0, 1.0);
    ((ap[0] - t * ab[0]).powi(2) + (ap[1] - t * ab[1]).powi(2)).sqrt() - radius
}

fn ellipse(p: [f32; 2], c: [f32; 2], r: [f32; 2], angle: f32) -> f32 {
    let (s, co) = angle.sin_cos();
    let d = [p[0] - c[0], p[1] - c[1]];
    let q = [
        (d[0] * co + d[1] * s) / r[0],
        (-d[0] * s + d[1] * co) / r[1],
    ];
    ((q[0] * q[0] + q[1] * q[1]).sqrt() - 1.0) * r[0].min(r[1])
}

/// Draws an occluder of `kind` placed relative to the 68 landmarks `lm` (crop pixels, y down).
pub fn draw(canvas: &mut Canvas<'_>, kind: OccluderKind, lm: &[[f32; 2]], r: &mut SampleRng) {
    let s = canvas.size as f32;
    match kind {
        OccluderKind::Hand => hand(canvas, lm, r, s),
        OccluderKind::Glasses => glasses(canvas, lm, r, s),
        OccluderKind::Bar => {
            let c = lm.get(30).copied().unwrap_or([s * 0.5; 2]);
            let ang = uniform(r, 0.0, std::f32::consts::PI);
            let (dx, dy) = (ang.cos() * s, ang.sin() * s);
            let off = [uniform(r, -0.2, 0.2) * s, uniform(r, -0.2, 0.2) * s];
            let (a, b) = (
                [c[0] + off[0] - dx, c[1] + off[1] - dy],
                [c[0] + off[0] + dx, c[1] + off[1] + dy],
            );
            let rad = uniform(r, 0.025, 0.07) * s;
            let col = [
                uniform(r, 0.0, 0.7),
                uniform(r, 0.0, 0.7),
                uniform(r, 0.0, 0.7),
            ];
            canvas.paint(
                1.0,
                |x, y| capsule([x, y], a, b, rad),
                |_, _, d| col.map(|v| v * (0.6 + 0.4 * (-d / rad).min(1.0))),
            );
        }
    }
}

fn hand(canvas: &mut Canvas<'_>, lm: &[[f32; 2]], r: &mut SampleRng, s: f32) {
    let anchor = lm
        .get([3, 5, 8, 11, 13, 48, 54, 57][index(r, 8)])
        .copied()
        .unwrap_or([s * 0.5; 2]);
    let c = [
        anchor[0] + uniform(r, -0.1, 0.1) * s,
        anchor[1] + uniform(r, 0.0, 0.15) * s,
    ];
    let ang = uniform(r, -0.9, 0.9) - std::f32::consts::FRAC_PI_2;
    let palm = [uniform(r, 0.13, 0.2) * s, uniform(r, 0.1, 0.15) * s];
    let tone = uniform(r, 0.0, 1.0);
    let skin = mix([0.75, 0.52, 0.4], [0.06, 0.035, 0.025], tone);
    let (dir, side) = ([ang.cos(), ang.sin()], [-ang.sin(), ang.cos()]);
    let fingers: Vec<([f32; 2], [f32; 2])> = (0..4)
        .map(|k| {
            let o = (k as f32 - 1.5) * 0.45 * palm[1];
            let base = [
                c[0] + dir[0] * palm[0] * 0.6 + side[0] * o,
                c[1] + dir[1] * palm[0] * 0.6 + side[1] * o,
            ];
            let len = palm[0] * uniform(r, 0.8, 1.3);
            (base, [base[0] + dir[0] * len, base[1] + dir[1] * len])
        })
        .collect();
    let fr = palm[1] * 0.2;
    let sdf = |x: f32, y: f32| {
        let e = ellipse([x, y], c, palm, ang);
        fingers
            .iter()
            .fold(e, |m, (a, b)| m.min(capsule([x, y], *a, *b, fr)))
    };
    canvas.paint(1.0, sdf, |x, _, d| {
        skin.map(|v| v * (0.55 + 0.45 * (-d / fr).min(1.0)) * (0.85 + 0.3 * x / s))
    });
}

fn glasses(canvas: &mut Canvas<'_>, lm: &[[f32; 2]], r: &mut SampleRng, s: f32) {
    if lm.len() < 48 {
        return;
    }
    let centre = |a: usize, b: usize| {
        let k = (b - a) as f32;
        [
            lm[a..b].iter().map(|p| p[0]).sum::<f32>() / k,
            lm[a..b].iter().map(|p| p[1]).sum::<f32>() / k,
        ]
    };
    let (e0, e1) = (centre(36, 42), centre(42, 48));
    let (dx, dy) = (e1[0] - e0[0], e1[1] - e0[1]);
    let dist = (dx * dx + dy * dy).sqrt().max(0.05 * s);
    let ang = dy.atan2(dx);
    let rim = [dist * uniform(r, 0.38, 0.48), dist * uniform(r, 0.28, 0.38)];
    let thick = uniform(r, 0.005, 0.014) * s;
    let frame = [
        uniform(r, 0.0, 0.15),
        uniform(r, 0.0, 0.12),
        uniform(r, 0.0, 0.1),
    ];
    let tint = uniform(r, 0.0, 0.5);
    let u = [dx / dist, dy / dist];
    let out0 = [e0[0] - u[0] * rim[0], e0[1] - u[1] * rim[0]];
    let out1 = [e1[0] + u[0] * rim[0], e1[1] + u[1] * rim[0]];
    let lens = |x: f32, y: f32| ellipse([x, y], e0, rim, ang).min(ellipse([x, y], e1, rim, ang));
    canvas.paint(tint, lens, |_, _, _| [0.02, 0.025, 0.03]);
    let sdf = |x: f32, y: f32| {
        let p = [x, y];
        let rims =
            (ellipse(p, e0, rim, ang).abs() - thick).min(ellipse(p, e1, rim, ang).abs() - thick);
        let in0 = [e0[0] + u[0] * rim[0], e0[1] + u[1] * rim[0]];
        let in1 = [e1[0] - u[0] * rim[0], e1[1] - u[1] * rim[0]];
        let bridge = capsule(p, in0, in1, thick * 0.8);
        let t0 = capsule(
            p,
            out0,
            [out0[0] - u[0] * 0.4 * s, out0[1] - u[1] * 0.4 * s],
            thick * 0.8,
        );
        let t1 = capsule(
            p,
            out1,
            [out1[0] + u[0] * 0.4 * s, out1[1] + u[1] * 0.4 * s],
            thick * 0.8,
        );
        rims.min(bridge).min(t0).min(t1)
    };
    canvas.paint(1.0, sdf, |_, _, _| frame);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occluders_cover_part_of_the_face() {
        let lm: Vec<[f32; 2]> = (0..68)
            .map(|k| [30.0 + (k % 10) as f32 * 7.0, 30.0 + (k / 10) as f32 * 9.0])
            .collect();
        for kind in [OccluderKind::Hand, OccluderKind::Glasses, OccluderKind::Bar] {
            let mut px = vec![[0.5f32; 3]; 128 * 128];
            let mut cov = vec![0.0f32; 128 * 128];
            let mut canvas = Canvas {
                pixels: &mut px,
                coverage: &mut cov,
                size: 128,
            };
            draw(&mut canvas, kind, &lm, &mut SampleRng::for_sample(4, 0));
            let covered = cov.iter().filter(|&&c| c > 0.5).count();
            assert!(
                covered > 50 && covered < 128 * 128 / 2,
                "{kind:?} {covered}"
            );
        }
    }
}
