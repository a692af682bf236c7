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
    let mut columns = map_columns(samples, info.size);
    columns.extend(param_columns(samples));
    let tris = triangles
        .iter()
        .flatten()
        .flat_map(|i| i.to_le_bytes())
        .collect();
    columns.push(Column {
        name: "mesh_triangles",
        dtype: Dtype::U32,
        shape: vec![triangles.len(), 3],
        bytes: tris,
    });
    let views = columns
        .iter()
        .map(|c| {
            TensorView::new(c.dtype, c.shape.clone(), &c.bytes)
                .map(|view| (c.name, view))
                .map_err(|e| SynthError::Shard(format!("{}: {e}", c.name)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let json = serde_json::to_string(info).map_err(|e| SynthError::Shard(e.to_string()))?;
    let meta = HashMap::from([("visage_synth".to_string(), json)]);
    safetensors::serialize_to_file(views, Some(meta), path)
        .map_err(|e| SynthError::Shard(format!("{}: {e}", path.display())))
}

/// One tensor of a shard being written.
struct Column {
    name: &'static str,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

/// Concatenates a U8 field of every sample; `shape` excludes the sample axis.
fn u8s(
    name: &'static str,
    shape: &[usize],
    samples: &[Sample],
    f: impl Fn(&Sample) -> &[u8],
) -> Column {
    let bytes = samples.iter().flat_map(|x| f(x).iter().copied()).collect();
    Column {
        name,
        dtype: Dtype::U8,
        shape: [&[samples.len()], shape].concat(),
        bytes,
    }
}

/// Concatenates an F32 field of every sample; `shape` excludes the sample axis.
fn f32s(
    name: &'static str,
    shape: &[usize],
    samples: &[Sample],
    f: impl Fn(&Sample) -> Vec<f32>,
) -> Column {
    let bytes = samples
        .iter()
        .flat_map(f)
        .flat_map(f32::to_le_bytes)
        .collect();
    Column {
        name,
        dtype: Dtype::F32,
        shape: [&[samples.len()], shape].concat(),
        bytes,
    }
}

/// The per-pixel maps and images.
fn map_columns(samples: &[Sample], s: usize) -> Vec<Column> {
    let normals = samples
        .iter()
        .flat_map(|x| x.normals.iter())
        .flat_map(|&f| half::f16::from_f32(f).to_le_bytes())
        .collect();
    vec![
        u8s("rgb", &[s, s, 3], samples, |x| &x.rgb),
        u8s("clean", &[s, s, 3], samples, |x| &x.clean),
        u8s("mask", &[s, s], samples, |x| &x.mask),
        u8s("parts", &[s, s], samples, |x| &x.parts),
        u8s("occluder", &[s, s], samples, |x| &x.occluder),
        f32s("depth", &[s, s], samples, |x| x.depth.clone()),
        f32s("depth_back", &[s, s], samples, |x| x.depth_back.clone()),
        Column {
            name: "normals",
            dtype: Dtype::F16,
            shape: vec![samples.len(), s, s, 3],
            bytes: normals,
        },
    ]
}

/// Landmarks, parameters, camera, degradations and the mesh.
fn param_columns(samples: &[Sample]) -> Vec<Column> {
    let first = samples.first();
    let n_id = first.map_or(0, |x| x.params.identity.len());
    let n_ex = first.map_or(0, |x| x.params.expression.len());
    let v = first.map_or(0, |x| x.mesh.len());
    let ids = samples
        .iter()
        .flat_map(|x| (x.params.id as i64).to_le_bytes())
        .collect();
    vec![
        Column {
            name: "ids",
            dtype: Dtype::I64,
            shape: vec![samples.len()],
            bytes: ids,
        },
        u8s("landmark_visible", &[68], samples, |x| &x.landmark_visible),
        f32s("landmarks_2d", &[68, 2], samples, |x| {
            x.landmarks_2d.concat()
        }),
        f32s("landmarks_3d", &[68, 3], samples, |x| {
            x.landmarks_3d.concat()
        }),
        f32s("identity", &[n_id], samples, |x| x.params.identity.clone()),
        f32s("expression", &[n_ex], samples, |x| {
            x.params.expression.clone()
        }),
        f32s("pose", &[3], samples, |x| {
            let p = x.params.pose;
            vec![p.yaw, p.pitch, p.roll]
        }),
        f32s("camera", &[18], samples, |x| x.camera.to_row().to_vec()),
        f32s("degrade", &[4], samples, degrade_row),
        f32s("mesh", &[v, 3], samples, |x| x.mesh.concat()),
    ]
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
