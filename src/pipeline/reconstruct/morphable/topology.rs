//! The dense topology's fixed facts and checks: vertex `i < 468` is FaceMesh landmark `i`
//! (the fit reads those rows), and [`boundary_loops`] finds the open borders of a triangle mesh
//! (the model's face has exactly one: the outer rim; eyes and mouth are closed).

use std::collections::HashMap;

/// Number of FaceMesh landmarks: the first vertices of the dense topology.
pub const LANDMARKS: usize = 468;

/// The boundary loops of a triangle mesh, each as its vertices in the order of its directed
/// boundary edges (an edge `u -> v` of a triangle whose reverse `v -> u` is in no triangle).
/// Assumes a manifold border (one outgoing border edge per border vertex); a vertex where two
/// border loops touch ends one loop and starts the next.
#[must_use]
pub fn boundary_loops(triangles: &[[u32; 3]]) -> Vec<Vec<u32>> {
    let mut directed: HashMap<(u32, u32), usize> = HashMap::new();
    for t in triangles {
        for k in 0..3 {
            *directed.entry((t[k], t[(k + 1) % 3])).or_default() += 1;
        }
    }
    let mut next: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(u, v) in directed.keys() {
        if !directed.contains_key(&(v, u)) {
            next.entry(u).or_default().push(v);
        }
    }
    let mut starts: Vec<u32> = next.keys().copied().collect();
    starts.sort_unstable();
    let mut loops = Vec::new();
    for s in starts {
        let mut ring = Vec::new();
        let mut at = s;
        while let Some(v) = next.get_mut(&at).and_then(Vec::pop) {
            ring.push(at);
            at = v;
            if at == s {
                break;
            }
        }
        if !ring.is_empty() {
            loops.push(ring);
        }
    }
    loops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_with_a_hole_has_two_loops_and_a_closed_cap_none() {
        // A 4 x 4 grid of vertices, 3 x 3 quads, the middle quad left out.
        let mut tris = Vec::new();
        for y in 0..3u32 {
            for x in 0..3u32 {
                if (x, y) == (1, 1) {
                    continue;
                }
                let i = y * 4 + x;
                tris.push([i, i + 1, i + 5]);
                tris.push([i, i + 5, i + 4]);
            }
        }
        let mut loops = boundary_loops(&tris);
        loops.sort_by_key(Vec::len);
        assert_eq!(loops.iter().map(Vec::len).collect::<Vec<_>>(), [4, 12]);
        // Closing the hole (the grid's own winding) leaves one loop.
        tris.push([5, 6, 10]);
        tris.push([5, 10, 9]);
        assert_eq!(boundary_loops(&tris).len(), 1);
        // A closed tetrahedron has none.
        assert!(boundary_loops(&[[0, 1, 2], [0, 3, 1], [1, 3, 2], [2, 3, 0]]).is_empty());
    }
}
