//! Taubin smoothing (Taubin 1995, "A signal processing approach to fair surface design"):
//! alternating Laplacian steps with a positive and a negative factor remove noise without the
//! shrinkage of plain Laplacian smoothing.

use super::Mesh;

/// Parameters of [`Mesh::taubin_smooth`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TaubinOptions {
    /// Shrinking factor, 0 < lambda < 1.
    pub lambda: f32,
    /// Inflating factor, mu < -lambda.
    pub mu: f32,
    /// Number of (lambda, mu) pairs.
    pub iterations: usize,
}

impl Default for TaubinOptions {
    fn default() -> Self {
        Self {
            lambda: 0.5,
            mu: -0.53,
            iterations: 10,
        }
    }
}

impl Mesh {
    /// Smooths positions in place with Taubin's lambda/mu scheme over the edge graph (uniform
    /// weights), then recomputes normals. Topology and other attributes are unchanged.
    pub fn taubin_smooth(&mut self, options: TaubinOptions) {
        let neighbours = self.vertex_neighbours();
        for _ in 0..options.iterations {
            laplacian_step(&mut self.positions, &neighbours, options.lambda);
            laplacian_step(&mut self.positions, &neighbours, options.mu);
        }
        self.compute_normals();
    }

    /// Sorted, de-duplicated edge neighbours of every vertex.
    #[must_use]
    pub fn vertex_neighbours(&self) -> Vec<Vec<u32>> {
        let mut neighbours = vec![Vec::new(); self.positions.len()];
        for t in &self.triangles {
            for k in 0..3 {
                let (a, b) = (t[k], t[(k + 1) % 3]);
                neighbours[a as usize].push(b);
                neighbours[b as usize].push(a);
            }
        }
        for n in &mut neighbours {
            n.sort_unstable();
            n.dedup();
        }
        neighbours
    }
}

fn laplacian_step(positions: &mut [[f32; 3]], neighbours: &[Vec<u32>], factor: f32) {
    let old = positions.to_vec();
    for (p, (n, o)) in positions.iter_mut().zip(neighbours.iter().zip(&old)) {
        if n.is_empty() {
            continue;
        }
        let mut mean = [0.0f32; 3];
        for &j in n {
            let q = old[j as usize];
            mean = [mean[0] + q[0], mean[1] + q[1], mean[2] + q[2]];
        }
        let inv = 1.0 / n.len() as f32;
        for k in 0..3 {
            p[k] = o[k] + factor * (mean[k] * inv - o[k]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TaubinOptions;
    use crate::pipeline::mesh::Mesh;

    /// A flat grid of `n x n` vertices with z noise.
    fn noisy_grid(n: u32) -> Mesh {
        let mut positions = Vec::new();
        let mut triangles = Vec::new();
        for y in 0..n {
            for x in 0..n {
                // Deterministic pseudo-noise in [-0.25, 0.25].
                let noise = (((x * 7919 + y * 104_729) % 97) as f32 / 96.0 - 0.5) * 0.5;
                positions.push([x as f32, y as f32, noise]);
                if x + 1 < n && y + 1 < n {
                    let i = y * n + x;
                    triangles.push([i, i + 1, i + n + 1]);
                    triangles.push([i, i + n + 1, i + n]);
                }
            }
        }
        Mesh::new(positions, triangles)
    }

    fn interior_z_rms(m: &Mesh, n: u32) -> f32 {
        let mut sum = 0.0;
        let mut count = 0.0;
        for y in 1..n - 1 {
            for x in 1..n - 1 {
                let z = m.positions[(y * n + x) as usize][2];
                sum += z * z;
                count += 1.0;
            }
        }
        (sum / count).sqrt()
    }

    #[test]
    fn reduces_noise_and_keeps_extent() {
        let n = 20;
        let mut m = noisy_grid(n);
        let before = interior_z_rms(&m, n);
        let (lo0, hi0) = m.bounds().unwrap();
        m.taubin_smooth(TaubinOptions::default());
        let after = interior_z_rms(&m, n);
        assert!(after < before * 0.5, "rms {before} -> {after}");
        // Taubin does not shrink the grid's footprint noticeably.
        let (lo1, hi1) = m.bounds().unwrap();
        let width0 = hi0[0] - lo0[0];
        let width1 = hi1[0] - lo1[0];
        assert!(width1 > 0.95 * width0, "{width0} -> {width1}");
    }
}
