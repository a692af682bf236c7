//! Area-weighted vertex normals.

use super::Mesh;

/// Cross product.
pub(crate) fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// `a - b`.
pub(crate) fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Euclidean length.
pub(crate) fn length(a: [f32; 3]) -> f32 {
    (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt()
}

/// `a` scaled to unit length, or +Z for a zero vector.
pub(crate) fn normalize(a: [f32; 3]) -> [f32; 3] {
    let l = length(a);
    if l > 1e-20 {
        [a[0] / l, a[1] / l, a[2] / l]
    } else {
        [0.0, 0.0, 1.0]
    }
}

impl Mesh {
    /// Recomputes `normals` as the area-weighted mean of the adjacent face normals (counter-
    /// clockwise winding faces outwards). Isolated vertices get +Z.
    pub fn compute_normals(&mut self) {
        let mut acc = vec![[0.0f32; 3]; self.positions.len()];
        for t in &self.triangles {
            let [a, b, c] = t.map(|i| self.positions[i as usize]);
            // Unnormalised: its length is twice the triangle's area.
            let n = cross(sub(b, a), sub(c, a));
            for &i in t {
                let s = &mut acc[i as usize];
                s[0] += n[0];
                s[1] += n[1];
                s[2] += n[2];
            }
        }
        self.normals = acc.into_iter().map(normalize).collect();
    }
}

#[cfg(test)]
mod tests {
    use crate::pipeline::mesh::tests::cube;

    #[test]
    fn cube_corner_normals_point_outwards() {
        let m = cube();
        for (p, n) in m.positions.iter().zip(&m.normals) {
            // Every component points away from the centre (area weighting makes the corner
            // normal lean towards the face with more incident triangles, but never inwards).
            for k in 0..3 {
                assert!((p[k] - 0.5) * n[k] > 0.0, "{p:?} {n:?}");
            }
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            assert!((len - 1.0).abs() < 1e-6);
        }
    }
}
