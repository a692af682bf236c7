//! Appearance regions learned once from a model's neutral mesh and its 68 landmarks: where the
//! lips, brows, beard and hairline are, and each eyeball's centre and gaze axis. Nothing here is
//! a stored vertex list: every weight is recomputed from the landmarks at load time, so the
//! same code serves the ICT model and the procedural test head.

use super::math::smoothstep;
use super::model::{FaceModel, Part};

/// One eyeball in the neutral pose, looking along the model's +Z.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eye {
    /// Front-most point of the cornea (cm): the pupil's centre.
    pub front: [f32; 3],
}

/// Per-vertex region weights in [0, 1] (and the hairline coordinate), one entry per vertex.
#[derive(Clone, Debug, PartialEq)]
pub struct Regions {
    /// Lip weight (inside the outer lip contour, landmarks 48-59).
    pub lip: Vec<f32>,
    /// Brow weight (near the brow polylines, landmarks 17-21 and 22-26).
    pub brow: Vec<f32>,
    /// Lash-line weight (along the eye contours, landmarks 36-41 and 42-47; stronger on the
    /// upper lids).
    pub lash: Vec<f32>,
    /// Beard / stubble area weight (below the nose, inside the jaw, off the lips).
    pub beard: Vec<f32>,
    /// Height above the hairline surface in cm (positive = hair area when hair is drawn).
    pub hair: Vec<f32>,
    /// Eyeballs in the neutral pose.
    pub eyes: Vec<Eye>,
}

impl Regions {
    /// Computes the regions of `model` from its neutral mesh and landmarks.
    #[must_use]
    pub fn new(model: &FaceModel) -> Self {
        let n = &model.neutral;
        let lm: Vec<[f32; 3]> = model.landmarks.iter().map(|&i| n[i as usize]).collect();
        let lip_poly: Vec<[f32; 2]> = lm[48..60].iter().map(|p| [p[0], p[1]]).collect();
        let lip_z = lm[48..60].iter().map(|p| p[2]).fold(f32::MAX, f32::min) - 1.5;
        let brow_y = lm[17..27].iter().map(|p| p[1]).sum::<f32>() / 10.0;
        let brow_z = lm[17..27].iter().map(|p| p[2]).sum::<f32>() / 10.0;
        let nose_y = lm[33][1];
        let jaw_x = (lm[16][0] - lm[0][0]).abs() * 0.5;
        let mid_x = (lm[16][0] + lm[0][0]) * 0.5;
        let chin_y = lm[8][1];
        let ring = |a: usize| [&lm[a..a + 6], &lm[a..=a]].concat();
        let (eye0, eye1) = (ring(36), ring(42));
        let eye_y = lm[36..48].iter().map(|p| p[1]).sum::<f32>() / 12.0;
        let eye_z = lm[36..48].iter().map(|p| p[2]).sum::<f32>() / 12.0;
        let skin = |i: usize| matches!(model.vertex_part[i], Part::Face | Part::Head);
        let mut out = Self {
            lip: vec![0.0; n.len()],
            brow: vec![0.0; n.len()],
            lash: vec![0.0; n.len()],
            beard: vec![0.0; n.len()],
            hair: vec![-100.0; n.len()],
            eyes: eyes(model),
        };
        for (i, p) in n.iter().enumerate().filter(|(i, _)| skin(*i)) {
            let xy = [p[0], p[1]];
            if p[2] > lip_z {
                let d = signed_distance(&lip_poly, xy);
                out.lip[i] = 1.0 - smoothstep(-0.12, 0.12, d);
            }
            if p[2] > brow_z - 2.5 {
                let d = polyline_distance(&lm[17..22], xy).min(polyline_distance(&lm[22..27], xy));
                out.brow[i] = 1.0 - smoothstep(0.25, 0.55, d);
            }
            if p[2] > eye_z - 1.0 {
                let d = polyline_distance(&eye0, xy).min(polyline_distance(&eye1, xy));
                let upper = if p[1] > eye_y { 1.0 } else { 0.45 };
                out.lash[i] = upper * (1.0 - smoothstep(0.04, 0.16, d));
            }
            if p[2] > lip_z - 3.0 && p[1] < nose_y - 0.4 && p[1] > chin_y - 2.5 {
                let side = 1.0 - smoothstep(0.6 * jaw_x, 1.0 * jaw_x, (p[0] - mid_x).abs());
                out.beard[i] =
                    side * (1.0 - out.lip[i]) * smoothstep(nose_y - 0.4, nose_y - 1.0, p[1]);
            }
            out.hair[i] = p[1] + 0.45 * (brow_z - p[2]) - brow_y;
        }
        out
    }
}

fn eyes(model: &FaceModel) -> Vec<Eye> {
    model
        .eyes
        .iter()
        .filter(|(lo, hi)| lo < hi && *hi <= model.neutral.len())
        .map(|&(lo, hi)| {
            let front =
                model.neutral[lo..hi]
                    .iter()
                    .copied()
                    .fold(
                        [0.0, 0.0, f32::MIN],
                        |best, p| if p[2] > best[2] { p } else { best },
                    );
            Eye { front }
        })
        .collect()
}

/// Distance in cm of rest-pose point `p` from the gaze axis of the nearest eye, for points on
/// the eyeball's front (within 0.8 cm behind the cornea); `f32::MAX` elsewhere. The iris spans
/// about 0.6 cm, the pupil about 0.2 cm.
#[must_use]
pub fn eye_radius(eyes: &[Eye], p: [f32; 3]) -> f32 {
    let d2 = |e: &Eye| (p[0] - e.front[0]).powi(2) + (p[1] - e.front[1]).powi(2);
    eyes.iter()
        .min_by(|a, b| d2(a).total_cmp(&d2(b)))
        .filter(|e| p[2] > e.front[2] - 0.8)
        .map_or(f32::MAX, |e| d2(e).sqrt())
}

/// Signed distance from `q` to a closed polygon (negative inside).
fn signed_distance(poly: &[[f32; 2]], q: [f32; 2]) -> f32 {
    let mut inside = false;
    let mut best = f32::MAX;
    for k in 0..poly.len() {
        let (a, b) = (poly[k], poly[(k + 1) % poly.len()]);
        if (a[1] > q[1]) != (b[1] > q[1]) {
            let x = a[0] + (q[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if q[0] < x {
                inside = !inside;
            }
        }
        best = best.min(segment_distance(a, b, q));
    }
    if inside { -best } else { best }
}

fn polyline_distance(points: &[[f32; 3]], q: [f32; 2]) -> f32 {
    points
        .windows(2)
        .map(|w| segment_distance([w[0][0], w[0][1]], [w[1][0], w[1][1]], q))
        .fold(f32::MAX, f32::min)
}

fn segment_distance(a: [f32; 2], b: [f32; 2], q: [f32; 2]) -> f32 {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let aq = [q[0] - a[0], q[1] - a[1]];
    let len2 = ab[0] * ab[0] + ab[1] * ab[1];
    let t = if len2 > 0.0 {
        ((aq[0] * ab[0] + aq[1] * ab[1]) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((aq[0] - t * ab[0]).powi(2) + (aq[1] - t * ab[1]).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedural_head_has_lips_and_brows() {
        let m = crate::synth::procedural::head();
        let r = Regions::new(&m);
        assert!(r.lip.iter().filter(|&&w| w > 0.5).count() > 5);
        assert!(r.brow.iter().filter(|&&w| w > 0.5).count() > 3);
        assert!(r.beard.iter().filter(|&&w| w > 0.5).count() > 5);
        let square = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]];
        assert!((signed_distance(&square, [1.0, 1.0]) + 1.0).abs() < 1e-6);
        assert!((signed_distance(&square, [3.0, 1.0]) - 1.0).abs() < 1e-6);
    }
}
