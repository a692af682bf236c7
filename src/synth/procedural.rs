//! A tiny procedural head for tests and machines without the ICT model: an ellipsoid (the
//! head) with a nose bump, three identity modes, two expressions and 68 synthetic landmark
//! vertices laid out like the Multi-PIE scheme on its front. Same frame and units as ICT
//! (centimetres, +X the subject's left, +Y up, +Z out of the face).

use super::model::{FaceModel, Part};

const N_LAT: usize = 60;
const N_LON: usize = 72;
const RADII: [f32; 3] = [7.5, 10.5, 9.5];

/// Builds the procedural head model.
#[must_use]
pub fn head() -> FaceModel {
    let mut neutral = Vec::with_capacity((N_LAT + 1) * N_LON);
    let mut dirs = Vec::with_capacity(neutral.capacity());
    for i in 0..=N_LAT {
        let theta = std::f32::consts::PI * i as f32 / N_LAT as f32;
        for j in 0..N_LON {
            let phi = std::f32::consts::TAU * j as f32 / N_LON as f32;
            let d = [
                theta.sin() * phi.sin(),
                theta.cos(),
                theta.sin() * phi.cos(),
            ];
            let bump = 2.0 * (-(d[0] * d[0] + (d[1] + 0.05).powi(2)) / 0.04).exp() * d[2].max(0.0);
            neutral.push([d[0] * RADII[0], d[1] * RADII[1], d[2] * (RADII[2] + bump)]);
            dirs.push(d);
        }
    }
    let v = neutral.len();
    let mut triangles = Vec::with_capacity(2 * N_LAT * N_LON);
    for i in 0..N_LAT {
        for j in 0..N_LON {
            let at = |ii: usize, jj: usize| (ii * N_LON + jj % N_LON) as u32;
            let (a, b, c, d) = (at(i, j), at(i + 1, j), at(i, j + 1), at(i + 1, j + 1));
            triangles.push([a, b, c]);
            triangles.push([c, b, d]);
        }
    }
    let vertex_part: Vec<Part> = dirs
        .iter()
        .map(|d| if d[2] > 0.0 { Part::Face } else { Part::Head })
        .collect();
    let triangle_part = triangles
        .iter()
        .map(|t| vertex_part[t[0] as usize])
        .collect();
    let landmarks = template_landmarks()
        .iter()
        .map(|&p| nearest_front(&neutral, p))
        .collect();
    FaceModel {
        identity: identity_modes(&neutral, &dirs),
        n_identity: 3,
        expression: expression_modes(&neutral),
        expression_names: vec!["jawOpen".into(), "browInnerUp".into()],
        triangles,
        triangle_part,
        vertex_part,
        landmarks,
        face_vertices: v,
        eyes: Vec::new(),
        neutral,
    }
}

fn identity_modes(neutral: &[[f32; 3]], dirs: &[[f32; 3]]) -> Vec<f32> {
    let mut out = Vec::with_capacity(3 * neutral.len() * 3);
    // Wider head, longer head, bigger nose.
    out.extend(neutral.iter().flat_map(|p| [p[0] * 0.08, 0.0, 0.0]));
    out.extend(neutral.iter().flat_map(|p| [0.0, p[1] * 0.08, 0.0]));
    out.extend(dirs.iter().flat_map(|d| {
        let nose = (-(d[0] * d[0] + (d[1] + 0.05).powi(2)) / 0.04).exp() * d[2].max(0.0);
        [0.0, 0.0, 0.8 * nose]
    }));
    out
}

fn expression_modes(neutral: &[[f32; 3]]) -> Vec<f32> {
    let mut out = Vec::with_capacity(2 * neutral.len() * 3);
    // jawOpen: the lower front drops; browInnerUp: the upper front rises.
    out.extend(neutral.iter().flat_map(|p| {
        let w = (-(p[1] + 3.0) / 2.0).clamp(0.0, 1.0) * (p[2] > 0.0) as u8 as f32;
        [0.0, -1.5 * w, 0.0]
    }));
    out.extend(neutral.iter().flat_map(|p| {
        let w = ((p[1] - 2.0) / 2.0).clamp(0.0, 1.0) * (p[2] > 0.0) as u8 as f32;
        [0.0, 0.6 * w, 0.0]
    }));
    out
}

/// 68 points `(x, y)` in centimetres on the face front, in the Multi-PIE order: jaw (0-16),
/// brows (17-26), nose (27-35), eyes (36-47), outer and inner lips (48-67).
fn template_landmarks() -> Vec<[f32; 2]> {
    let mut p = Vec::with_capacity(68);
    for k in 0..17 {
        let a = std::f32::consts::PI * (k as f32 / 16.0);
        p.push([-6.0 * a.cos(), 1.0 - 8.0 * a.sin()]);
    }
    for k in 0..10 {
        let t = (k % 5) as f32 / 4.0;
        let x = if k < 5 { -5.0 + 4.0 * t } else { 1.0 + 4.0 * t };
        p.push([x, 3.0 + 0.4 * (1.0 - (2.0 * t - 1.0).powi(2))]);
    }
    for k in 0..4 {
        p.push([0.0, 1.8 - 1.2 * k as f32]);
    }
    for k in 0..5 {
        p.push([-1.2 + 0.6 * k as f32, -2.0]);
    }
    for cx in [-2.8f32, 2.8] {
        for k in 0..6 {
            let a = std::f32::consts::TAU * k as f32 / 6.0;
            p.push([cx - 1.2 * a.cos(), 1.6 + 0.45 * a.sin()]);
        }
    }
    for k in 0..12 {
        let a = std::f32::consts::TAU * k as f32 / 12.0;
        p.push([-2.4 * a.cos(), -4.2 + 0.9 * a.sin()]);
    }
    for k in 0..8 {
        let a = std::f32::consts::TAU * k as f32 / 8.0;
        p.push([-1.6 * a.cos(), -4.2 + 0.3 * a.sin()]);
    }
    p
}

fn nearest_front(neutral: &[[f32; 3]], q: [f32; 2]) -> u32 {
    let d2 = |p: &[f32; 3]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
    let best = neutral
        .iter()
        .enumerate()
        .filter(|(_, p)| p[2] > 0.0)
        .min_by(|a, b| d2(a.1).total_cmp(&d2(b.1)))
        .map_or(0, |(i, _)| i);
    u32::try_from(best).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedural_head_is_consistent() {
        let m = head();
        assert_eq!(m.landmarks.len(), 68);
        assert_eq!(m.identity.len(), m.n_identity * m.vertex_count() * 3);
        assert_eq!(m.expression.len(), m.n_expression() * m.vertex_count() * 3);
        let nose = m.neutral.iter().map(|p| p[2]).fold(f32::MIN, f32::max);
        assert!(nose > RADII[2] + 1.5, "{nose}");
        let open = m.shape(&[], &[1.0, 0.0]);
        let chin = m.landmarks[8] as usize;
        assert!(open[chin][1] < m.neutral[chin][1] - 1.0);
    }
}
