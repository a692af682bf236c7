//! The dense topology of the morphable model, built once from the ICT Face Model's face area
//! and FaceMesh's 468 landmarks embedded on it ([`crate::train::morphable`]):
//!
//! 1. Vertex `i < 468` is FaceMesh landmark `i`: each embedded landmark is inserted into the ICT
//!    triangle it lies in (that triangle, or the piece of it holding the point, split in three).
//! 2. Then the ICT face-area vertices (9,409 before the cut below), in ICT order.
//! 3. The lids' inner sides are cut away along FaceMesh's eye contours; the three holes (two
//!    eyes, the mouth) are closed by cones of three rings each: eyes towards the front of the
//!    eyeball, the mouth towards a point of the mouth socket 1.5 cm behind the lips, so a closed
//!    mouth is a seam and an open one stays open. Vertices no triangle uses any more are dropped.
//!
//! Every dense vertex is a fixed linear combination of ICT vertices ([`Combo`]), so any ICT
//! shape (and every ICT mode) maps linearly onto the dense topology. UVs: a cylindrical layout
//! of the neutral face about the vertical axis, mirror symmetric about u = 0.5; the holes' cones
//! fill the holes' own (otherwise empty) places in it.

use crate::pipeline::reconstruct::morphable::topology::{LANDMARKS, boundary_loops};
use crate::synth::FaceModel;
use crate::synth::model::Part;
use std::collections::HashMap;

/// A dense vertex as weights over ICT vertices.
#[derive(Clone, Debug, PartialEq)]
pub struct Combo(pub Vec<(u32, f32)>);

impl Combo {
    /// The point of `positions` (ICT vertices, or one ICT mode) this combination gives.
    #[must_use]
    pub fn on(&self, positions: &[[f32; 3]]) -> [f32; 3] {
        let mut p = [0.0; 3];
        for &(i, w) in &self.0 {
            for (o, v) in p.iter_mut().zip(positions[i as usize]) {
                *o += w * v;
            }
        }
        p
    }

    fn mix(&self, other: &Self, t: f32) -> Self {
        let mut all: Vec<(u32, f32)> = self.0.iter().map(|&(i, w)| (i, (1.0 - t) * w)).collect();
        all.extend(other.0.iter().map(|&(i, w)| (i, t * w)));
        Self(all)
    }
}

/// A landmark embedded on the face area: triangle index (of
/// [`FaceModel::face_triangles`]) and barycentrics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Embedded {
    /// Index into the face-area triangles.
    pub triangle: usize,
    /// Barycentrics in that triangle.
    pub bary: [f32; 3],
}

/// The dense topology.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseTopology {
    /// Each dense vertex as ICT vertex weights.
    pub points: Vec<Combo>,
    /// Triangles (counter-clockwise seen from outside, like the ICT mesh).
    pub triangles: Vec<[u32; 3]>,
    /// Texture coordinates, one per dense vertex.
    pub uvs: Vec<[f32; 2]>,
    /// The ICT model's 68 landmarks as dense vertex ids.
    pub landmarks68: Vec<u32>,
}

/// Builds the topology from `model` (ICT, face area first) and the 468 embedded landmarks.
///
/// # Errors
/// When the face area does not have the expected one outer border and three holes, or a
/// landmark lies outside the face area.
pub fn build(model: &FaceModel, landmarks: &[Embedded]) -> anyhow::Result<DenseTopology> {
    anyhow::ensure!(landmarks.len() == LANDMARKS, "need {LANDMARKS} landmarks");
    let face = model.face_triangles();
    let base = LANDMARKS as u32;
    let mut points: Vec<Combo> = landmarks
        .iter()
        .map(|e| {
            let t = face[e.triangle];
            Combo((0..3).map(|k| (t[k], e.bary[k])).collect())
        })
        .collect();
    points.extend((0..model.face_vertices as u32).map(|j| Combo(vec![(j, 1.0)])));
    let mut triangles = insert_landmarks(&face, landmarks, base)?;
    let neutral_at = |c: &Combo| c.on(&model.neutral);
    let positions: Vec<[f32; 3]> = points.iter().map(neutral_at).collect();
    for contour in EYES {
        triangles = cut_inside(&triangles, contour, &positions)?;
    }
    let landmarks68 = model.landmarks.iter().map(|&i| base + i).collect();
    let (mut points, mut triangles, landmarks68) =
        compact(points, triangles, landmarks68, &positions)?;
    let mut loops = boundary_loops(&triangles);
    loops.sort_by_key(|l| std::cmp::Reverse(l.len()));
    anyhow::ensure!(
        loops.len() == 4,
        "the face area has {} borders, expected 4 (rim, two eyes, mouth)",
        loops.len()
    );
    let mut uvs = cylindrical_uvs(&points.iter().map(neutral_at).collect::<Vec<_>>());
    for ring in &loops[1..] {
        let centre = centroid(ring.iter().map(|&i| neutral_at(&points[i as usize])));
        let apex = apex_vertex(model, centre)?;
        close_hole(
            ring,
            &Combo(vec![(apex, 1.0)]),
            &mut points,
            &mut uvs,
            &mut triangles,
        );
    }
    Ok(DenseTopology {
        points,
        triangles,
        uvs,
        landmarks68,
    })
}

/// FaceMesh's contours of the eyes' lid margins, in order round each. The ICT surface inside
/// them (the lids' inner sides, rolling in towards the eyeball) is cut away, so the closed eyes
/// start where FaceMesh sees the opening. (The same cut along the inner lips removes FaceMesh
/// landmarks with it: the inner-lip points sit where the lips touch.)
const EYES: [&[u32]; 2] = [
    &[
        33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
    ],
    &[
        263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
    ],
];

/// `triangles` without those inside the closed path through `contour` (shortest mesh paths
/// between consecutive contour vertices): the part reachable from the hole the contour
/// surrounds without crossing the path.
fn cut_inside(
    triangles: &[[u32; 3]],
    contour: &[u32],
    positions: &[[f32; 3]],
) -> anyhow::Result<Vec<[u32; 3]>> {
    let mut neighbours: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut edge_triangles: HashMap<(u32, u32), Vec<usize>> = HashMap::new();
    for (t, tri) in triangles.iter().enumerate() {
        for k in 0..3 {
            let (a, b) = (tri[k], tri[(k + 1) % 3]);
            neighbours.entry(a).or_default().push(b);
            neighbours.entry(b).or_default().push(a);
            edge_triangles
                .entry((a.min(b), a.max(b)))
                .or_default()
                .push(t);
        }
    }
    // Paths keep off the open borders: a path through a border vertex would let the hole's
    // side of the cut reach round it.
    let on_border: std::collections::HashSet<u32> =
        boundary_loops(triangles).into_iter().flatten().collect();
    let mut cut = std::collections::HashSet::new();
    for (i, &from) in contour.iter().enumerate() {
        let to = contour[(i + 1) % contour.len()];
        let path = shortest_path(&neighbours, &on_border, positions, from, to)
            .ok_or_else(|| anyhow::anyhow!("no mesh path from landmark {from} to {to}"))?;
        for w in path.windows(2) {
            cut.insert((w[0].min(w[1]), w[0].max(w[1])));
        }
    }
    // Seeds: triangles on the open border (a hole) nearest the contour's centre.
    let centre = centroid(contour.iter().map(|&i| positions[i as usize]));
    let border = boundary_loops(triangles)
        .into_iter()
        .min_by(|a, b| {
            let d =
                |l: &Vec<u32>| dist2(centroid(l.iter().map(|&i| positions[i as usize])), centre);
            d(a).total_cmp(&d(b))
        })
        .ok_or_else(|| anyhow::anyhow!("no hole to cut towards"))?;
    // Seeds: the triangles on the hole's border edges that the cut does not run along.
    let mut inside = vec![false; triangles.len()];
    let mut stack: Vec<usize> = (0..border.len())
        .map(|i| {
            let (a, b) = (border[i], border[(i + 1) % border.len()]);
            (a.min(b), a.max(b))
        })
        .filter(|key| !cut.contains(key))
        .flat_map(|key| edge_triangles[&key].clone())
        .collect();
    while let Some(t) = stack.pop() {
        if std::mem::replace(&mut inside[t], true) {
            continue;
        }
        let tri = triangles[t];
        for k in 0..3 {
            let key = (tri[k].min(tri[(k + 1) % 3]), tri[k].max(tri[(k + 1) % 3]));
            if cut.contains(&key) {
                continue;
            }
            stack.extend(edge_triangles[&key].iter().filter(|&&o| !inside[o]));
        }
    }
    let removed = inside.iter().filter(|&&r| r).count();
    anyhow::ensure!(
        removed < triangles.len() / 10,
        "the cut along the opening leaks ({removed} of {} triangles inside)",
        triangles.len()
    );
    Ok(triangles
        .iter()
        .zip(&inside)
        .filter(|(_, r)| !**r)
        .map(|(t, _)| *t)
        .collect())
}

/// Dijkstra over mesh edges (Euclidean lengths) avoiding the vertices `blocked`: the vertices
/// from `from` to `to`.
fn shortest_path(
    neighbours: &HashMap<u32, Vec<u32>>,
    blocked: &std::collections::HashSet<u32>,
    positions: &[[f32; 3]],
    from: u32,
    to: u32,
) -> Option<Vec<u32>> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut best: HashMap<u32, (f32, u32)> = HashMap::from([(from, (0.0, from))]);
    let mut heap = BinaryHeap::from([(Reverse(0u64), from)]);
    while let Some((Reverse(_), v)) = heap.pop() {
        if v == to {
            let mut path = vec![to];
            while let Some(&last) = path.last() {
                let prev = best[&last].1;
                if prev == last {
                    break;
                }
                path.push(prev);
            }
            path.reverse();
            return Some(path);
        }
        let dv = best[&v].0;
        for &n in neighbours.get(&v)?.iter().filter(|n| !blocked.contains(n)) {
            let d = dv + dist2(positions[v as usize], positions[n as usize]).sqrt();
            if best.get(&n).is_none_or(|&(old, _)| d < old) {
                best.insert(n, (d, v));
                // Distances as micrometre integers for the heap's total order.
                heap.push((Reverse((d * 1e4) as u64), n));
            }
        }
    }
    None
}

/// Drops the vertices no triangle uses (renumbering the rest in order); a landmark id of a
/// dropped vertex moves to the nearest kept vertex.
#[allow(clippy::type_complexity)]
fn compact(
    points: Vec<Combo>,
    triangles: Vec<[u32; 3]>,
    landmarks68: Vec<u32>,
    positions: &[[f32; 3]],
) -> anyhow::Result<(Vec<Combo>, Vec<[u32; 3]>, Vec<u32>)> {
    let mut used = vec![false; points.len()];
    for &v in triangles.iter().flatten() {
        used[v as usize] = true;
    }
    let lost: Vec<usize> = (0..LANDMARKS).filter(|&i| !used[i]).collect();
    anyhow::ensure!(
        lost.is_empty(),
        "FaceMesh landmarks {lost:?} fell inside an opening"
    );
    let mut new_id = vec![u32::MAX; points.len()];
    let mut kept = Vec::new();
    for (i, p) in points.into_iter().enumerate() {
        if used[i] {
            new_id[i] = kept.len() as u32;
            kept.push(p);
        }
    }
    let landmarks68 = landmarks68
        .iter()
        .map(|&l| {
            let l = l as usize;
            if used[l] {
                return new_id[l];
            }
            let near = (0..positions.len())
                .filter(|&i| used[i])
                .min_by(|&a, &b| {
                    dist2(positions[a], positions[l]).total_cmp(&dist2(positions[b], positions[l]))
                })
                .unwrap_or(0);
            new_id[near]
        })
        .collect();
    let triangles = triangles
        .into_iter()
        .map(|t| t.map(|v| new_id[v as usize]))
        .collect();
    Ok((kept, triangles, landmarks68))
}

/// A piece of a split ICT triangle: its dense vertex ids and their barycentrics in that
/// triangle.
type Piece = ([u32; 3], [[f32; 3]; 3]);

/// The face-area triangles with each landmark inserted (dense ids: ICT vertex `j` is
/// `base + j`, landmark `i` is `i`).
fn insert_landmarks(
    face: &[[u32; 3]],
    landmarks: &[Embedded],
    base: u32,
) -> anyhow::Result<Vec<[u32; 3]>> {
    // Pieces of each split ICT triangle: dense ids and their barycentrics in that triangle.
    let mut pieces: HashMap<usize, Vec<Piece>> = HashMap::new();
    let unit = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for (l, e) in landmarks.iter().enumerate() {
        let tri = *face
            .get(e.triangle)
            .ok_or_else(|| anyhow::anyhow!("landmark {l}: no triangle {}", e.triangle))?;
        // Nudged inside so that no piece is degenerate (a few hundredths of a millimetre).
        let b = e.bary.map(|v| 0.97 * v + 0.01);
        let list = pieces
            .entry(e.triangle)
            .or_insert_with(|| vec![(tri.map(|j| base + j), unit)]);
        let (best, _) = list
            .iter()
            .enumerate()
            .map(|(i, (_, corners))| (i, min_barycentric(corners, b)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .ok_or_else(|| anyhow::anyhow!("empty triangle list"))?;
        let (ids, c) = list.swap_remove(best);
        let l = l as u32;
        list.push(([ids[0], ids[1], l], [c[0], c[1], b]));
        list.push(([ids[1], ids[2], l], [c[1], c[2], b]));
        list.push(([ids[2], ids[0], l], [c[2], c[0], b]));
    }
    let mut out: Vec<[u32; 3]> = face
        .iter()
        .enumerate()
        .filter(|(t, _)| !pieces.contains_key(t))
        .map(|(_, tri)| tri.map(|j| base + j))
        .collect();
    let mut split: Vec<_> = pieces.into_iter().collect();
    split.sort_by_key(|(t, _)| *t);
    out.extend(
        split
            .into_iter()
            .flat_map(|(_, l)| l.into_iter().map(|(ids, _)| ids)),
    );
    Ok(out)
}

/// The smallest barycentric coordinate of `b` in the sub-triangle `corners` (all in the
/// parent's barycentrics): non-negative when `b` is inside.
fn min_barycentric(corners: &[[f32; 3]; 3], b: [f32; 3]) -> f32 {
    let [p, q, r] = corners.map(|c| [c[0], c[1]]);
    let det = (q[1] - r[1]) * (p[0] - r[0]) + (r[0] - q[0]) * (p[1] - r[1]);
    if det.abs() < 1e-12 {
        return f32::NEG_INFINITY;
    }
    let l0 = ((q[1] - r[1]) * (b[0] - r[0]) + (r[0] - q[0]) * (b[1] - r[1])) / det;
    let l1 = ((r[1] - p[1]) * (b[0] - r[0]) + (p[0] - r[0]) * (b[1] - r[1])) / det;
    l0.min(l1).min(1.0 - l0 - l1)
}

/// The ICT vertex a hole's cone closes towards: the front of the nearer eyeball for an eye
/// (a hole above the nose tip), else a mouth-socket point 1.5 cm behind the lips.
fn apex_vertex(model: &FaceModel, centre: [f32; 3]) -> anyhow::Result<u32> {
    let near = |part: Part, target: [f32; 3], radius: f32| {
        model
            .vertex_part
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == part)
            .map(|(i, _)| (i, model.neutral[i]))
            .filter(|(_, p)| dist2(*p, target) < radius * radius)
            .min_by(|a, b| dist2(a.1, target).total_cmp(&dist2(b.1, target)))
            .map(|(i, _)| i as u32)
    };
    let nose_y = model
        .landmarks
        .get(30)
        .map_or(0.0, |&i| model.neutral[i as usize][1]);
    let found = if centre[1] > nose_y {
        // The eyeball point straight in front of the hole's centre.
        near(Part::Eyeball, [centre[0], centre[1], centre[2] + 2.0], 3.0)
    } else {
        near(
            Part::MouthSocket,
            [centre[0], centre[1], centre[2] - 1.5],
            3.0,
        )
    };
    found.ok_or_else(|| anyhow::anyhow!("no eyeball or mouth socket behind a hole at {centre:?}"))
}

/// Closes the hole `ring` (its vertices in the order of the mesh's directed border edges) with a
/// cone of three rings towards `apex`; UVs of the new vertices shrink the ring's UVs towards their
/// centroid.
fn close_hole(
    ring: &[u32],
    apex: &Combo,
    points: &mut Vec<Combo>,
    uvs: &mut Vec<[f32; 2]>,
    triangles: &mut Vec<[u32; 3]>,
) {
    let n = ring.len();
    let uv_centre = {
        let s = ring.iter().fold([0.0f32; 2], |s, &i| {
            let q = uvs[i as usize];
            [s[0] + q[0], s[1] + q[1]]
        });
        [s[0] / n as f32, s[1] / n as f32]
    };
    let mut outer: Vec<u32> = ring.to_vec();
    for t in [0.25, 0.5, 0.75] {
        let inner: Vec<u32> = ring
            .iter()
            .map(|&i| {
                let id = points.len() as u32;
                points.push(points[i as usize].mix(apex, t));
                let q = uvs[i as usize];
                uvs.push([
                    q[0] + t * (uv_centre[0] - q[0]),
                    q[1] + t * (uv_centre[1] - q[1]),
                ]);
                id
            })
            .collect();
        for i in 0..n {
            let j = (i + 1) % n;
            triangles.push([outer[j], outer[i], inner[i]]);
            triangles.push([outer[j], inner[i], inner[j]]);
        }
        outer = inner;
    }
    let tip = points.len() as u32;
    points.push(apex.clone());
    uvs.push(uv_centre);
    for i in 0..n {
        triangles.push([outer[(i + 1) % n], outer[i], tip]);
    }
}

/// A cylindrical layout about the vertical axis through the face's middle (x = 0, z a little
/// behind the ears' plane): u from the angle, v from the height, with a 2 % margin.
fn cylindrical_uvs(positions: &[[f32; 3]]) -> Vec<[f32; 2]> {
    let z_axis = positions.iter().map(|p| p[2]).fold(f32::INFINITY, f32::min) - 1.0;
    let angle = |p: &[f32; 3]| p[0].atan2(p[2] - z_axis);
    let reach = positions
        .iter()
        .map(|p| angle(p).abs())
        .fold(1e-6, f32::max);
    let (lo, hi) = positions
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p[1]), hi.max(p[1]))
        });
    positions
        .iter()
        .map(|p| {
            [
                0.5 + 0.48 * angle(p) / reach,
                0.02 + 0.96 * (hi - p[1]) / (hi - lo).max(1e-6),
            ]
        })
        .collect()
}

fn centroid(points: impl Iterator<Item = [f32; 3]>) -> [f32; 3] {
    let (mut s, mut n) = ([0.0f32; 3], 0.0f32);
    for p in points {
        for k in 0..3 {
            s[k] += p[k];
        }
        n += 1.0;
    }
    s.map(|v| v / n.max(1.0))
}

fn dist2(a: [f32; 3], b: [f32; 3]) -> f32 {
    (0..3).map(|k| (a[k] - b[k]).powi(2)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserting_points_splits_their_triangle_and_keeps_the_winding() {
        let face = [[0, 1, 2], [2, 1, 3]];
        let lm = |triangle, bary| Embedded { triangle, bary };
        let mut marks = vec![lm(0, [0.2, 0.3, 0.5]); LANDMARKS];
        marks[1] = lm(0, [0.6, 0.2, 0.2]);
        marks[2] = lm(1, [0.0, 0.5, 0.5]);
        for (i, m) in marks.iter_mut().enumerate().skip(3) {
            let t = (i % 7) as f32 / 10.0 + 0.1;
            *m = lm(i % 2, [t, 0.9 - t, 0.1]);
        }
        let tris = insert_landmarks(&face, &marks, 1000).unwrap();
        // Each insertion turns one triangle into three.
        assert_eq!(tris.len(), 2 + 2 * LANDMARKS);
        // Every landmark is a vertex, the original corners too.
        for id in (0..LANDMARKS as u32).chain(1000..1004) {
            assert!(
                tris.iter().flatten().any(|&v| v == id),
                "vertex {id} missing"
            );
        }
        // Still a disc: one border loop of the four original corners, in the original winding.
        let loops = boundary_loops(&tris);
        assert_eq!(loops.len(), 1);
        let mut rim = loops[0].clone();
        rim.sort_unstable();
        assert_eq!(rim, [1000, 1001, 1002, 1003]);
    }

    #[test]
    fn a_closed_hole_leaves_no_border_and_new_points_mix_towards_the_apex() {
        // A square ring of 8 vertices around a square hole (vertices 0-7 inner, 8-15 outer).
        let inner = [
            [-1.0, -1.0],
            [0.0, -1.0],
            [1.0, -1.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [-1.0, 1.0],
            [-1.0, 0.0],
        ];
        let mut points: Vec<Combo> = (0..16).map(|i| Combo(vec![(i, 1.0)])).collect();
        let mut uvs: Vec<[f32; 2]> = (0..16)
            .map(|i| {
                let s = if i < 8 { 1.0 } else { 2.0 };
                let q = inner[i % 8];
                [0.5 + 0.1 * s * q[0], 0.5 + 0.1 * s * q[1]]
            })
            .collect();
        let mut triangles = Vec::new();
        for i in 0..8u32 {
            let j = (i + 1) % 8;
            triangles.push([i, j, 8 + j]);
            triangles.push([i, 8 + j, 8 + i]);
        }
        let mut loops = boundary_loops(&triangles);
        loops.sort_by_key(Vec::len);
        assert_eq!(loops.len(), 2);
        let hole = loops[0].clone();
        close_hole(
            &hole,
            &Combo(vec![(99, 1.0)]),
            &mut points,
            &mut uvs,
            &mut triangles,
        );
        assert_eq!(boundary_loops(&triangles).len(), 1);
        assert_eq!(points.len(), 16 + 3 * 8 + 1);
        assert_eq!(uvs.len(), points.len());
        // The first ring is a quarter of the way to the apex.
        let first = &points[16].0;
        assert!(first.contains(&(99, 0.25)), "{first:?}");
        assert_eq!(uvs[40], [0.5, 0.5]);
    }
}
