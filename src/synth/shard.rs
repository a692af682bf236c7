//! Shards: many samples in one safetensors file, written once and read back fast by training.
//!
//! Tensors (N samples, S crop side, V face-area vertices, T face triangles; maps row-major,
//! rows going down; see [`crate::synth::sample::Sample`] for each field's meaning and frame):
//!
//! | name | dtype, shape |
//! |---|---|
//! | `ids` | I64 [N] global sample ids (the seeds) |
//! | `rgb`, `clean` | U8 [N, S, S, 3] degraded input, clean render |
//! | `depth`, `depth_back` | F32 [N, S, S] crop-frame z of the nearest / farthest surface |
//! | `normals` | F16 [N, S, S, 3] crop-frame unit normals |
//! | `mask`, `parts`, `occluder` | U8 [N, S, S] head mask, part labels, occluder mask |
//! | `landmarks_2d` | F32 [N, 68, 2] crop pixels (v down) |
//! | `landmarks_3d` | F32 [N, 68, 3] crop frame |
//! | `landmark_visible` | U8 [N, 68] |
//! | `identity`, `expression` | F32 [N, 100], [N, 53] shape coefficients |
//! | `pose` | F32 [N, 3] yaw, pitch, roll in degrees |
//! | `camera` | F32 [N, 18] see [`crate::synth::camera::Camera::to_row`] |
//! | `degrade` | F32 [N, 4] face px (0 = none), blur sigma, noise sigma, JPEG quality (0 = none) |
//! | `mesh` | F32 [N, V, 3] face-area vertices, crop frame |
//! | `mesh_triangles` | U32 [T, 3] face-area triangles, once per shard |
//!
//! The occupancy volume is not stored: [`Shard::volume`] rebuilds it exactly from `depth`,
//! `depth_back` and `mask` ([`crate::synth::volume`]). Metadata key `visage_synth` holds a JSON
//! [`ShardInfo`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};

use super::SynthError;
use super::sample::Sample;
use super::volume::occupancy;

/// Shard-wide facts, stored as JSON in the metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// Format version.
    pub version: u32,
    /// Crop side in pixels.
    pub size: usize,
    /// Depth bins of the occupancy volume.
    pub depth_bins: usize,
    /// Number of samples.
    pub count: usize,
    /// Expression names, in `expression` column order.
    pub expressions: Vec<String>,
}

/// Writes `samples` (all of one size) with face triangles `triangles` to `path`.
///
/// # Errors
/// [`SynthError::Io`] or [`SynthError::Shard`] when serialisation fails.
pub fn write(
    path: &Path,
    samples: &[Sample],
    triangles: &[[u32; 3]],
    info: &ShardInfo,
) -> Result<(), SynthError> {
    let n = samples.len();
    let s = info.size;
    let cat_u8 = |f: &dyn Fn(&Sample) -> &[u8]| {
        samples
            .iter()
            .flat_map(|x| f(x).iter().copied())
            .collect::<Vec<u8>>()
    };
    let cat_f32 = |f: &dyn Fn(&Sample) -> Vec<f32>| {
        samples
            .iter()
            .flat_map(f)
            .flat_map(f32::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let first = samples.first();
    let (v, n_id, n_ex) = first.map_or((0, 0, 0), |x| {
        (
            x.mesh.len(),
            x.params.identity.len(),
            x.params.expression.len(),
        )
    });
    let mut t: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)> = vec![
        (
            "ids",
            Dtype::I64,
            vec![n],
            samples
                .iter()
                .flat_map(|x| (x.params.id as i64).to_le_bytes())
                .collect(),
        ),
        ("rgb", Dtype::U8, vec![n, s, s, 3], cat_u8(&|x| &x.rgb)),
        ("clean", Dtype::U8, vec![n, s, s, 3], cat_u8(&|x| &x.clean)),
        ("mask", Dtype::U8, vec![n, s, s], cat_u8(&|x| &x.mask)),
        ("parts", Dtype::U8, vec![n, s, s], cat_u8(&|x| &x.parts)),
        (
            "occluder",
            Dtype::U8,
            vec![n, s, s],
            cat_u8(&|x| &x.occluder),
        ),
        (
            "landmark_visible",
            Dtype::U8,
            vec![n, 68],
            cat_u8(&|x| &x.landmark_visible),
        ),
        (
            "depth",
            Dtype::F32,
            vec![n, s, s],
            cat_f32(&|x| x.depth.clone()),
        ),
        (
            "depth_back",
            Dtype::F32,
            vec![n, s, s],
            cat_f32(&|x| x.depth_back.clone()),
        ),
        (
            "landmarks_2d",
            Dtype::F32,
            vec![n, 68, 2],
            cat_f32(&|x| x.landmarks_2d.iter().flatten().copied().collect()),
        ),
        (
            "landmarks_3d",
            Dtype::F32,
            vec![n, 68, 3],
            cat_f32(&|x| x.landmarks_3d.iter().flatten().copied().collect()),
        ),
        (
            "identity",
            Dtype::F32,
            vec![n, n_id],
            cat_f32(&|x| x.params.identity.clone()),
        ),
        (
            "expression",
            Dtype::F32,
            vec![n, n_ex],
            cat_f32(&|x| x.params.expression.clone()),
        ),
        (
            "pose",
            Dtype::F32,
            vec![n, 3],
            cat_f32(&|x| vec![x.params.pose.yaw, x.params.pose.pitch, x.params.pose.roll]),
        ),
        (
            "camera",
            Dtype::F32,
            vec![n, 18],
            cat_f32(&|x| x.camera.to_row().to_vec()),
        ),
        (
            "degrade",
            Dtype::F32,
            vec![n, 4],
            cat_f32(&|x| degrade_row(x)),
        ),
        (
            "mesh",
            Dtype::F32,
            vec![n, v, 3],
            cat_f32(&|x| x.mesh.iter().flatten().copied().collect()),
        ),
    ];
    let normals: Vec<u8> = samples
        .iter()
        .flat_map(|x| x.normals.iter())
        .flat_map(|&f| half::f16::from_f32(f).to_le_bytes())
        .collect();
    t.push(("normals", Dtype::F16, vec![n, s, s, 3], normals));
    let tris: Vec<u8> = triangles
        .iter()
        .flatten()
        .flat_map(|i| i.to_le_bytes())
        .collect();
    t.push(("mesh_triangles", Dtype::U32, vec![triangles.len(), 3], tris));
    let views = t
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|view| (*name, view))
                .map_err(|e| SynthError::Shard(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let json = serde_json::to_string(info).map_err(|e| SynthError::Shard(e.to_string()))?;
    let meta = HashMap::from([("visage_synth".to_string(), json)]);
    safetensors::serialize_to_file(views, Some(meta), path)
        .map_err(|e| SynthError::Shard(format!("{}: {e}", path.display())))
}

fn degrade_row(x: &Sample) -> Vec<f32> {
    let d = &x.params.degrade;
    vec![
        d.face_px.unwrap_or(0.0),
        d.blur,
        d.noise,
        f32::from(d.jpeg.unwrap_or(0)),
    ]
}

/// A shard read back into memory.
#[derive(Debug)]
pub struct Shard {
    path: PathBuf,
    bytes: Vec<u8>,
    /// Name -> (dtype, shape, absolute byte range).
    index: HashMap<String, (Dtype, Vec<usize>, std::ops::Range<usize>)>,
    /// Shard-wide facts.
    pub info: ShardInfo,
}

impl Shard {
    /// Reads the shard at `path`.
    ///
    /// # Errors
    /// [`SynthError::Io`] when unreadable, [`SynthError::Shard`] when it is not a Visage shard.
    pub fn open(path: &Path) -> Result<Self, SynthError> {
        let bytes = std::fs::read(path).map_err(|source| SynthError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |what: String| SynthError::Shard(format!("{}: {what}", path.display()));
        let (header, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
        let index = meta
            .tensors()
            .into_iter()
            .map(|(name, t)| {
                let (a, b) = t.data_offsets;
                (
                    name,
                    (t.dtype, t.shape.clone(), 8 + header + a..8 + header + b),
                )
            })
            .collect();
        let json = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("visage_synth").cloned())
            .ok_or_else(|| bad("no visage_synth metadata".into()))?;
        let info = serde_json::from_str(&json).map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            path: path.to_path_buf(),
            bytes,
            index,
            info,
        })
    }

    /// Number of samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.info.count
    }

    /// True for a shard without samples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.info.count == 0
    }

    /// Every tensor of the shard as candle tensors on the CPU (whole-shard batches).
    ///
    /// # Errors
    /// [`SynthError::Shard`] when candle cannot read the file.
    pub fn tensors(&self) -> Result<HashMap<String, Tensor>, SynthError> {
        candle_core::safetensors::load_buffer(&self.bytes, &Device::Cpu)
            .map_err(|e| SynthError::Shard(format!("{}: {e}", self.path.display())))
    }

    /// Raw little-endian bytes of sample `i` of tensor `name` (its first axis is the sample).
    ///
    /// # Errors
    /// [`SynthError::Shard`] for an unknown tensor or a sample out of range.
    pub fn bytes(&self, name: &str, i: usize) -> Result<&[u8], SynthError> {
        let unknown = || SynthError::Shard(format!("{}: no tensor {name}", self.path.display()));
        let (_, shape, range) = self.index.get(name).ok_or_else(unknown)?;
        let n = shape.first().copied().unwrap_or(0);
        if i >= n {
            return Err(SynthError::Shard(format!(
                "sample {i} out of range ({n}) in {name}"
            )));
        }
        let per = range.len() / n;
        let start = range.start + i * per;
        Ok(&self.bytes[start..start + per])
    }

    /// Sample `i` of an 8-bit tensor (`rgb`, `clean`, `mask`, `parts`, `occluder`, ...).
    ///
    /// # Errors
    /// As [`Shard::bytes`].
    pub fn u8s(&self, name: &str, i: usize) -> Result<Vec<u8>, SynthError> {
        self.bytes(name, i).map(<[u8]>::to_vec)
    }

    /// Sample `i` of an F32 tensor, or of `normals` (F16) widened to f32.
    ///
    /// # Errors
    /// As [`Shard::bytes`].
    pub fn f32s(&self, name: &str, i: usize) -> Result<Vec<f32>, SynthError> {
        let b = self.bytes(name, i)?;
        Ok(if name == "normals" {
            b.chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect()
        } else {
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        })
    }

    /// The occupancy volume `[D, S, S]` of sample `i` (see [`crate::synth::volume`]).
    ///
    /// # Errors
    /// As [`Shard::bytes`].
    pub fn volume(&self, i: usize) -> Result<Vec<u8>, SynthError> {
        let (front, back, mask) = (
            self.f32s("depth", i)?,
            self.f32s("depth_back", i)?,
            self.u8s("mask", i)?,
        );
        Ok(occupancy(
            &front,
            &back,
            &mask,
            self.info.size,
            self.info.depth_bins,
        ))
    }
}
