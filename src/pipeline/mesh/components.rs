//! Connected components: keep the largest piece of a mesh, dropping the small floating blobs
//! that isosurface extraction leaves behind (the clean-up VRN's pipeline applies).

use super::Mesh;

/// Union-find over vertex indices.
struct DisjointSets {
    parent: Vec<u32>,
}

impl DisjointSets {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n)
                .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
                .collect(),
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }
}

impl Mesh {
    /// Component label of each vertex (vertices joined by a triangle edge share a label).
    #[must_use]
    pub fn component_labels(&self) -> Vec<u32> {
        let mut sets = DisjointSets::new(self.positions.len());
        for t in &self.triangles {
            sets.union(t[0], t[1]);
            sets.union(t[1], t[2]);
        }
        (0..self.positions.len())
            .map(|i| sets.find(u32::try_from(i).unwrap_or(u32::MAX)))
            .collect()
    }

    /// The component with the most triangles, with unused vertices removed. A mesh without
    /// triangles comes back empty.
    #[must_use]
    pub fn largest_component(&self) -> Self {
        let labels = self.component_labels();
        let mut counts = std::collections::HashMap::<u32, usize>::new();
        for t in &self.triangles {
            *counts.entry(labels[t[0] as usize]).or_default() += 1;
        }
        // Ties go to the smallest label, so the result is deterministic.
        let Some(best) = counts
            .iter()
            .max_by_key(|&(&label, &count)| (count, std::cmp::Reverse(label)))
            .map(|(&label, _)| label)
        else {
            return Self::default();
        };
        let mut used = vec![false; self.positions.len()];
        for t in &self.triangles {
            if labels[t[0] as usize] == best {
                for &i in t {
                    used[i as usize] = true;
                }
            }
        }
        let keep: Vec<u32> = (0..self.positions.len())
            .filter(|&i| used[i])
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        self.select_vertices(&keep)
    }
}

#[cfg(test)]
mod tests {
    use crate::pipeline::mesh::{Mesh, tests::cube};

    #[test]
    fn keeps_the_bigger_of_two_pieces() {
        let big = cube();
        let mut m = big.clone();
        // A lone triangle far away.
        let base = u32::try_from(m.positions.len()).unwrap();
        m.positions
            .extend([[10.0, 0.0, 0.0], [11.0, 0.0, 0.0], [10.0, 1.0, 0.0]]);
        m.triangles.push([base, base + 1, base + 2]);
        m.compute_normals();
        let largest = m.largest_component();
        assert_eq!(largest.vertex_count(), 8);
        assert_eq!(largest.triangles.len(), 12);
        assert_eq!(largest.positions, big.positions);
    }

    #[test]
    fn empty_mesh_stays_empty() {
        assert_eq!(Mesh::default().largest_component(), Mesh::default());
    }
}
