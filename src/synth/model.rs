//! The linear head model the engine samples shapes from: a neutral mesh, identity modes,
//! expression blendshapes, triangles with a part label each, and 68 landmark vertex ids.
//!
//! [`FaceModel::load_ict`] reads the ICT Face Model (USC ICT, MIT) from its safetensors file
//! (`../shared/ict-face-model/`, never committed to this repository); tests build a tiny
//! procedural head instead ([`crate::synth::procedural`]). Units are centimetres in the model's
//! own frame: +X the subject's left, +Y up, +Z out of the face.

use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use super::SynthError;

/// What a triangle (and a pixel covered by it) belongs to. Values are the labels of the
/// per-pixel part map in the shards (0 = background).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Part {
    /// The face area (forehead to chin, ear to ear): the vertices written to the shards.
    Face = 1,
    /// Scalp, back of the head, ears and neck.
    Head = 2,
    /// Inside of the mouth.
    MouthSocket = 3,
    /// Skin inside the eyelids around the eyeball.
    EyeSocket = 4,
    /// Gums and tongue.
    Gums = 5,
    /// Teeth.
    Teeth = 6,
    /// Eyeballs (sclera and iris).
    Eyeball = 7,
}

/// ICT vertex ranges (first, last inclusive) of each rendered part, from the model's README.
/// Vertices from 24591 on (lacrimal fluid, eye blend, occlusion shells, eyelashes) are dropped.
const ICT_PARTS: [(usize, usize, Part); 8] = [
    (0, 9408, Part::Face),
    (9409, 11247, Part::Head),
    (11248, 13293, Part::MouthSocket),
    (13294, 14061, Part::EyeSocket),
    (14062, 17038, Part::Gums),
    (17039, 21450, Part::Teeth),
    (21451, 23020, Part::Eyeball),
    (23021, 24590, Part::Eyeball),
];
/// The two eyeball vertex ranges (left, right), half-open.
const ICT_EYES: [(usize, usize); 2] = [(21451, 23021), (23021, 24591)];
/// Number of ICT vertices kept (everything up to the eyeballs).
const ICT_KEPT: usize = 24591;
/// Number of leading ICT vertices that form the face area.
const ICT_FACE: usize = 9409;

/// A linear head model. Shapes are `neutral + identity^T w_id + expression^T w_ex`.
#[derive(Clone, Debug)]
pub struct FaceModel {
    /// Neutral positions, `[V]`, centimetres.
    pub neutral: Vec<[f32; 3]>,
    /// Identity modes, `[n_identity, V * 3]` row-major, offsets at +1 sigma.
    pub identity: Vec<f32>,
    /// Number of identity modes.
    pub n_identity: usize,
    /// Expression blendshapes, `[n_expression, V * 3]`, offsets at weight 1.
    pub expression: Vec<f32>,
    /// Expression names (ARKit style for ICT), `n_expression` of them.
    pub expression_names: Vec<String>,
    /// Rendered triangles (counter-clockwise seen from outside).
    pub triangles: Vec<[u32; 3]>,
    /// Part of each triangle.
    pub triangle_part: Vec<Part>,
    /// Part of each vertex.
    pub vertex_part: Vec<Part>,
    /// The 68 Multi-PIE landmark vertex ids.
    pub landmarks: Vec<u32>,
    /// Vertices `0..face_vertices` are the face area written to the shards.
    pub face_vertices: usize,
    /// Eyeball vertex ranges (half-open), for iris placement.
    pub eyes: Vec<(usize, usize)>,
}

impl FaceModel {
    /// Number of vertices.
    #[must_use]
    pub fn vertex_count(&self) -> usize {
        self.neutral.len()
    }

    /// Number of expression blendshapes.
    #[must_use]
    pub fn n_expression(&self) -> usize {
        self.expression_names.len()
    }

    /// Triangles whose three corners are face-area vertices (the shard's mesh topology).
    #[must_use]
    pub fn face_triangles(&self) -> Vec<[u32; 3]> {
        let n = self.face_vertices as u32;
        self.triangles
            .iter()
            .copied()
            .filter(|t| t.iter().all(|&i| i < n))
            .collect()
    }

    /// The blended shape for identity weights `id` (~N(0,1)) and expression weights `ex`
    /// (in [0, 1]); missing weights count as 0. Positions in centimetres, model frame.
    #[must_use]
    pub fn shape(&self, id: &[f32], ex: &[f32]) -> Vec<[f32; 3]> {
        let n = self.neutral.len() * 3;
        let mut flat: Vec<f32> = self.neutral.iter().flatten().copied().collect();
        let modes = self.identity.chunks_exact(n).zip(id);
        let blends = self.expression.chunks_exact(n).zip(ex);
        for (mode, &w) in modes.chain(blends) {
            if w != 0.0 {
                for (o, m) in flat.iter_mut().zip(mode) {
                    *o += w * m;
                }
            }
        }
        flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect()
    }

    /// Loads the ICT Face Model from its safetensors file, keeping the face, head, mouth, eye
    /// socket, gum, teeth and eyeball parts.
    ///
    /// # Errors
    /// [`SynthError::ModelMissing`] when the file does not exist, [`SynthError::ModelFormat`] when
    /// it is not the expected layout.
    pub fn load_ict(path: &Path) -> Result<Self, SynthError> {
        let bytes = std::fs::read(path).map_err(|source| SynthError::ModelMissing {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |what: String| SynthError::ModelFormat {
            path: path.to_path_buf(),
            what,
        };
        let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        let v = ICT_KEPT;
        let neutral = f32s(&st, "neutral", v * 3).map_err(bad)?;
        let id_all = f32s(&st, "identity_modes", 0).map_err(bad)?;
        let ex_all = f32s(&st, "expression_modes", 0).map_err(bad)?;
        let full = id_all.len() / 100;
        let keep = |all: &[f32]| -> Vec<f32> {
            all.chunks_exact(full)
                .flat_map(|m| m[..v * 3].iter().copied())
                .collect()
        };
        let tris = i32s(&st, "triangles").map_err(bad)?;
        let landmarks = i32s(&st, "landmarks68").map_err(bad)?;
        let names = expression_names(&bytes).map_err(bad)?;
        if full < v * 3 || ex_all.len() != names.len() * full || landmarks.len() != 68 {
            return Err(bad("unexpected array sizes".into()));
        }
        let vertex_part = ict_vertex_parts();
        let triangles: Vec<[u32; 3]> = tris
            .chunks_exact(3)
            .filter_map(|t| {
                let t = [t[0], t[1], t[2]].map(|i| u32::try_from(i).unwrap_or(u32::MAX));
                t.iter().all(|&i| (i as usize) < v).then_some(t)
            })
            .collect();
        let triangle_part = triangles
            .iter()
            .map(|t| vertex_part[t[0] as usize])
            .collect();
        Ok(Self {
            neutral: neutral
                .chunks_exact(3)
                .map(|c| [c[0], c[1], c[2]])
                .collect(),
            identity: keep(&id_all),
            n_identity: 100,
            expression: keep(&ex_all),
            expression_names: names,
            triangles,
            triangle_part,
            vertex_part,
            landmarks: landmarks
                .iter()
                .map(|&i| u32::try_from(i).unwrap_or(0))
                .collect(),
            face_vertices: ICT_FACE,
            eyes: ICT_EYES.to_vec(),
        })
    }

    /// Index of the expression called `name`, if the model has it.
    #[must_use]
    pub fn expression_index(&self, name: &str) -> Option<usize> {
        self.expression_names.iter().position(|n| n == name)
    }
}

fn ict_vertex_parts() -> Vec<Part> {
    let mut parts = vec![Part::Head; ICT_KEPT];
    for (lo, hi, part) in ICT_PARTS {
        parts[lo..=hi].fill(part);
    }
    parts
}

fn f32s(st: &SafeTensors<'_>, name: &str, len: usize) -> Result<Vec<f32>, String> {
    let t = st.tensor(name).map_err(|e| e.to_string())?;
    if t.dtype() != Dtype::F32 {
        return Err(format!("{name} is {:?}, expected F32", t.dtype()));
    }
    let all = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    Ok(if len == 0 {
        all.collect()
    } else {
        all.take(len).collect()
    })
}

fn i32s(st: &SafeTensors<'_>, name: &str) -> Result<Vec<i32>, String> {
    let t = st.tensor(name).map_err(|e| e.to_string())?;
    if t.dtype() != Dtype::I32 {
        return Err(format!("{name} is {:?}, expected I32", t.dtype()));
    }
    Ok(t.data()
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn expression_names(bytes: &[u8]) -> Result<Vec<String>, String> {
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| e.to_string())?;
    let json = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("expressions").cloned())
        .ok_or("no `expressions` metadata")?;
    serde_json::from_str(&json).map_err(|e| e.to_string())
}
