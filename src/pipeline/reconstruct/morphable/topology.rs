//! The dense topology of the morphable model: FaceMesh's 468 landmarks and 852 triangles
//! ([`crate::pipeline::reconstruct::landmarks::triangles`]) subdivided once at the edge midpoints.
//!
//! Vertex `i < 468` is FaceMesh landmark `i`; vertex `468 + e` is the midpoint of edge `e` of
//! [`Dense::edges`] (edges numbered in order of first use by the triangle list). Every triangle
//! becomes four with the same winding (counter-clockwise seen from the camera), so the dense mesh
//! has `468 + E` vertices and `4 x 852` triangles.

use std::collections::HashMap;

/// Number of FaceMesh landmarks: the first vertices of the dense topology.
pub const LANDMARKS: usize = 468;

/// The subdivided topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dense {
    /// The two parent landmarks of each midpoint vertex (`468 + e`).
    pub edges: Vec<[u32; 2]>,
    /// Triangles over `468 + edges.len()` vertices.
    pub triangles: Vec<[u32; 3]>,
}

impl Dense {
    /// Number of vertices.
    #[must_use]
    pub fn vertex_count(&self) -> usize {
        LANDMARKS + self.edges.len()
    }
}

/// Subdivides `triangles` (indices below [`LANDMARKS`]) once at the edge midpoints.
#[must_use]
pub fn subdivide(triangles: &[[u32; 3]]) -> Dense {
    let mut index: HashMap<(u32, u32), u32> = HashMap::new();
    let mut edges = Vec::new();
    let mut mid = |a: u32, b: u32| -> u32 {
        let key = (a.min(b), a.max(b));
        *index.entry(key).or_insert_with(|| {
            edges.push([key.0, key.1]);
            u32::try_from(LANDMARKS + edges.len() - 1).unwrap_or(u32::MAX)
        })
    };
    let mut out = Vec::with_capacity(4 * triangles.len());
    for &[a, b, c] in triangles {
        let (ab, bc, ca) = (mid(a, b), mid(b, c), mid(c, a));
        out.extend([[a, ab, ca], [ab, b, bc], [ca, bc, c], [ab, bc, ca]]);
    }
    Dense {
        edges,
        triangles: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facemesh_subdivides_into_a_disc_with_three_holes() {
        let tris = crate::pipeline::reconstruct::landmarks::triangles().unwrap();
        let dense = subdivide(tris);
        // Euler: V - E + F = -2 for FaceMesh, so E = 468 + 852 + 2.
        assert_eq!(dense.edges.len(), 1322);
        assert_eq!(dense.triangles.len(), 4 * 852);
        let v = dense.vertex_count() as i64;
        let mut undirected = std::collections::HashSet::new();
        for t in &dense.triangles {
            for k in 0..3 {
                undirected.insert((t[k].min(t[(k + 1) % 3]), t[k].max(t[(k + 1) % 3])));
            }
        }
        assert_eq!(
            v - undirected.len() as i64 + dense.triangles.len() as i64,
            -2
        );
    }
}
