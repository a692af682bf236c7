//! The `vrn` method: the landmark-guided volumetric regression network of [`crate::nn::vrn`].
//!
//! prepared face ([`FaceCrop`]: the 128 px crop framed like the synthetic training samples,
//! enlarged with the user's upscaler when smaller, and its 68 landmarks) -> 64 px network
//! input (RGB + 68 heatmaps) -> occupancy volume `[32 bins, 64, 64]`, averaged with the volume
//! of the mirrored input mapped back (test-time augmentation, [`Tta`]) -> the face's columns
//! shifted halfway to the `3dmm` fit inside its coverage ([`super::vrn_prior`]) -> isosurface at
//! occupancy 0.4 ([`Options::iso`]; on the validation split 0.4 beat 0.5, see the VRN model card;
//! [`Mesh::from_volume`], surface nets) -> largest component -> Taubin smoothing -> vertex
//! colours sampled from the photo.
//!
//! Frame: the crop frame of [`crate::pipeline::mesh`] for the 128 px face crop
//! ([`super::face::CROP_SIDE`]): +X right, +Y up (`128 - row`), +Z towards the camera, crop
//! pixels; z = 0 is the head's pivot depth as in [`world_from_voxel`] (the volume spans z in
//! [-64, 64]). The mesh is the whole visible head (face, scalp, neck) closed at the back.

use super::fit_prior::{FitFront, PriorOptions};
use super::morphable::MorphableModel;
use super::vrn_input::{MIRROR_68, encode, half_size};
use super::vrn_prior::pull_towards;
use super::{FaceCrop, Method, MethodError, Reconstruction, Reconstructor};
use crate::nn::vrn::{Vrn, VrnConfig, probabilities};
use crate::pipeline::mesh::from_volume::{Volume, VolumeError, world_from_voxel};
use crate::pipeline::mesh::smooth::TaubinOptions;
use crate::pipeline::mesh::{Mesh, MeshError};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use image::RgbImage;
use std::path::Path;

/// The trained weights (`visage train vrn`, see `weights/README.md`).
pub const WEIGHTS: &[u8] = crate::weights::VRN;

/// Why the method failed.
#[derive(Debug, thiserror::Error)]
pub enum VrnError {
    /// The landmarks lack the 68-point subset or are degenerate.
    #[error("the landmarks cannot frame a face crop")]
    BadLandmarks,
    /// The face crop given to the network has the wrong size.
    #[error("the face crop is {got:?} px, the network needs {want} x {want}")]
    CropSize {
        /// Width and height of the crop given.
        got: (u32, u32),
        /// The side it needs (twice the network input).
        want: usize,
    },
    /// The network failed.
    #[error("VRN network failure: {0}")]
    Network(#[from] candle_core::Error),
    /// The predicted volume holds no surface.
    #[error(transparent)]
    Volume(#[from] VolumeError),
    /// The morphable-model fit of the prior failed.
    #[error(transparent)]
    Fit(#[from] super::morphable::MorphableError),
    /// The mesh failed its sanity check.
    #[error("invalid VRN mesh: {0}")]
    Mesh(#[from] MeshError),
}

/// How the volume becomes a mesh.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Occupancy probability of the isosurface.
    pub iso: f32,
    /// Smoothing of the isosurface.
    pub smooth: TaubinOptions,
    /// How far the face is pulled towards the morphable-model fit ([`super::fit_prior`]);
    /// `None`: VRN's volume alone.
    pub prior: Option<PriorOptions>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            iso: 0.4,
            smooth: TaubinOptions::default(),
            prior: Some(PriorOptions::default()),
        }
    }
}

/// The loaded network.
#[derive(Clone, Debug)]
pub struct VrnModel {
    net: Vrn,
    device: Device,
    tta: Tta,
}

/// Test-time augmentation of [`VrnModel::volume`]: the network also sees transformed copies of
/// the crop, and their volumes, transformed back, are averaged with the crop's own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Tta {
    /// The crop alone (one view).
    None,
    /// The crop and its mirror image (two views, about 1.5x the network time of one).
    #[default]
    Mirror,
    /// The crop and its mirror image, each as is and shifted by one network pixel (two crop
    /// pixels) left, right, up and down (ten views, about 5x; on the validation split no better
    /// than [`Tta::Mirror`], see the VRN model card).
    MirrorShift,
}

impl Tta {
    fn views(self) -> Vec<View> {
        let flips: &[bool] = match self {
            Self::None => &[false],
            Self::Mirror | Self::MirrorShift => &[false, true],
        };
        let shifts: &[[isize; 2]] = match self {
            Self::MirrorShift => &[[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]],
            _ => &[[0, 0]],
        };
        flips
            .iter()
            .flat_map(|&mirror| shifts.iter().map(move |&shift| View { mirror, shift }))
            .collect()
    }
}

/// One view of the network input: mirrored left-right (first), then shifted by `shift`
/// (`[dx, dy]` network pixels; the border pixels repeat).
#[derive(Clone, Copy, Debug)]
struct View {
    mirror: bool,
    shift: [isize; 2],
}

impl View {
    /// The view of an `n x n` interleaved RGB input and its landmarks (`n`-pixel units).
    fn apply(self, rgb: &[u8], landmarks: &[[f32; 2]], n: usize) -> (Vec<u8>, Vec<[f32; 2]>) {
        let (rgb, marks) = if self.mirror {
            (mirror_rgb(rgb, n), mirror_landmarks(landmarks, n))
        } else {
            (rgb.to_vec(), landmarks.to_vec())
        };
        let [dx, dy] = self.shift;
        let shifted = (0..n * n)
            .flat_map(|i| {
                let (r, c) = (clamp_index(i / n, -dy, n), clamp_index(i % n, -dx, n));
                let j = 3 * (r * n + c);
                [rgb[j], rgb[j + 1], rgb[j + 2]]
            })
            .collect();
        let (fx, fy) = (dx as f32, dy as f32);
        let marks = marks.iter().map(|p| [p[0] + fx, p[1] + fy]).collect();
        (shifted, marks)
    }

    /// Adds the view's volume `[bins][n][n]`, mapped back to the unmirrored, unshifted frame, to
    /// `out`.
    fn add_back(self, volume: &[f32], n: usize, out: &mut [f32]) {
        let [dx, dy] = self.shift;
        for (i, o) in out.iter_mut().enumerate() {
            let (plane, r, c) = (i / (n * n), i / n % n, i % n);
            let c = if self.mirror { n - 1 - c } else { c };
            let (r, c) = (clamp_index(r, dy, n), clamp_index(c, dx, n));
            *o += volume[plane * n * n + r * n + c];
        }
    }
}

/// `i + d` clamped to `0..n`.
fn clamp_index(i: usize, d: isize, n: usize) -> usize {
    i.saturating_add_signed(d).min(n - 1)
}

impl VrnModel {
    /// The committed weights on `device`.
    ///
    /// # Errors
    /// [`VrnError::Network`] when the weights do not fit [`VrnConfig::compact`].
    pub fn embedded(device: &Device) -> Result<Self, VrnError> {
        let vb = VarBuilder::from_buffered_safetensors(WEIGHTS.to_vec(), DType::F32, device)?;
        Self::new(VrnConfig::compact(), vb, device)
    }

    /// Weights from a safetensors file (e.g. a training checkpoint) on `device`.
    ///
    /// # Errors
    /// [`VrnError::Network`] for an unreadable file or weights that do not fit
    /// [`VrnConfig::compact`].
    pub fn from_file(path: &Path, device: &Device) -> Result<Self, VrnError> {
        let bytes = std::fs::read(path)
            .map_err(|e| candle_core::Error::Msg(format!("{}: {e}", path.display())))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device)?;
        Self::new(VrnConfig::compact(), vb, device)
    }

    /// A model from any variable builder (e.g. a training `VarMap`).
    ///
    /// # Errors
    /// Missing or misshapen weights.
    pub fn new(cfg: VrnConfig, vb: VarBuilder, device: &Device) -> Result<Self, VrnError> {
        Ok(Self {
            net: Vrn::new(cfg, vb)?,
            device: device.clone(),
            tta: Tta::default(),
        })
    }

    /// The test-time augmentation of [`VrnModel::volume`] ([`Tta::Mirror`] by default).
    #[must_use]
    pub fn with_tta(mut self, tta: Tta) -> Self {
        self.tta = tta;
        self
    }

    /// Occupancy probabilities `[bins][n][n]` (n = network input) of a `2n x 2n` face crop and its
    /// 68 landmarks in crop pixels (continuous, v down): the mean over the views of
    /// [`VrnModel::with_tta`], each mapped back to the crop's own frame.
    ///
    /// # Errors
    /// [`VrnError::CropSize`] for a crop of the wrong size, [`VrnError::BadLandmarks`] for a
    /// landmark count other than 68, or a network failure.
    pub fn volume(&self, crop: &RgbImage, landmarks68: &[[f32; 2]]) -> Result<Volume, VrnError> {
        let cfg = self.net.config();
        let n = cfg.input;
        let side = crop.width() as usize;
        if side != 2 * n || crop.height() as usize != side {
            return Err(VrnError::CropSize {
                got: crop.dimensions(),
                want: 2 * n,
            });
        }
        let k = side as f32 / n as f32;
        let lms: Vec<[f32; 2]> = landmarks68.iter().map(|p| [p[0] / k, p[1] / k]).collect();
        let half = half_size(crop.as_raw(), side);
        let views = self.tta.views();
        let mut input = Vec::new();
        for view in &views {
            let (rgb, marks) = view.apply(&half, &lms, n);
            let marks = cfg.guided.then_some(marks.as_slice());
            input.extend(encode(&rgb, n, marks).ok_or(VrnError::BadLandmarks)?);
        }
        let shape = (views.len(), cfg.in_channels(), n, n);
        let x = Tensor::from_vec(input, shape, &self.device)?;
        let p = probabilities(&self.net.forward(&x)?)?;
        let per = cfg.bins * n * n;
        let mut out = vec![0.0f32; per];
        for (view, vol) in views.iter().zip(p.chunks_exact(per)) {
            view.add_back(vol, n, &mut out);
        }
        let scale = 1.0 / views.len() as f32;
        out.iter_mut().for_each(|v| *v *= scale);
        Ok(Volume::new([n, n, cfg.bins], out)?)
    }
}

/// The `vrn` method: the network and how its volume is meshed.
#[derive(Clone, Debug)]
pub struct VrnReconstructor {
    /// The network.
    pub model: VrnModel,
    /// Iso level, smoothing and the prior's weight.
    pub options: Options,
    /// The morphable model whose fit guides the face ([`Options::prior`]).
    pub morphable: &'static MorphableModel,
}

impl VrnReconstructor {
    /// The committed weights, or the file `weights`, on `device`, default meshing.
    ///
    /// # Errors
    /// [`MethodError::Load`] for weights that do not load.
    pub fn load(device: &Device, weights: Option<&Path>) -> Result<Self, MethodError> {
        let model = match weights {
            Some(p) => VrnModel::from_file(p, device),
            None => VrnModel::embedded(device),
        }
        .map_err(|e| MethodError::load(Method::Vrn, e))?;
        let morphable = MorphableModel::shared().map_err(|e| MethodError::load(Method::Vrn, e))?;
        Ok(Self {
            model,
            options: Options::default(),
            morphable,
        })
    }

    /// The same method with the face pulled a fraction `weight` of the way to the morphable
    /// fit ([`super::vrn_prior`]; 0: VRN's volume alone).
    #[must_use]
    pub fn with_prior_weight(mut self, weight: f32) -> Self {
        self.options.prior = PriorOptions::at(weight);
        self
    }

    fn mesh(&self, photo: &RgbImage, face: &FaceCrop) -> Result<Mesh, VrnError> {
        let volume = {
            let _span = tracing::info_span!("network").entered();
            self.model.volume(&face.crop.image, &face.landmarks68)?
        };
        let volume = match &self.options.prior {
            Some(opts) => self.guided(volume, face, opts)?,
            None => volume,
        };
        let _span = tracing::info_span!("mesh").entered();
        let mut mesh = mesh_from_volume(&volume, face.crop.image.width(), &self.options)?;
        mesh.colors = face.colours(photo, &mesh.positions);
        mesh.sanity_check()?;
        Ok(mesh)
    }
}

impl VrnReconstructor {
    /// `volume` pulled towards the morphable-model fit of `face` ([`super::vrn_prior`]).
    fn guided(
        &self,
        mut volume: Volume,
        face: &FaceCrop,
        opts: &PriorOptions,
    ) -> Result<Volume, VrnError> {
        let _span = tracing::info_span!("prior").entered();
        let fit = FitFront::of_face(self.morphable, face, volume.dims[0])?;
        let side = face.crop.image.width() as usize;
        let _ = pull_towards(&mut volume, &fit, side, self.options.iso, opts);
        Ok(volume)
    }
}

impl Reconstructor for VrnReconstructor {
    fn method(&self) -> Method {
        Method::Vrn
    }

    fn reconstruct(
        &self,
        photo: &RgbImage,
        face: &FaceCrop,
    ) -> Result<Reconstruction, MethodError> {
        let mesh = self
            .mesh(photo, face)
            .map_err(|e| MethodError::failed(Method::Vrn, e))?;
        Ok(Reconstruction {
            mesh,
            landmark_vertices: None,
            uv_layout: None,
            depth: None,
        })
    }
}

/// The smoothed largest component of the isosurface of `volume` (`[n, n, bins]` dims as
/// [`VrnModel::volume`] returns), in the crop frame of a `crop_side`-pixel crop.
///
/// # Errors
/// [`VrnError::Volume`] when nothing is above the iso level.
pub fn mesh_from_volume(
    volume: &Volume,
    crop_side: u32,
    options: &Options,
) -> Result<Mesh, VrnError> {
    let (n, bins) = (volume.dims[0], volume.dims[2]);
    let mut xf = world_from_voxel(n, bins);
    let k = crop_side as f32 / n as f32;
    xf.scale = xf.scale.map(|s| s * k);
    xf.offset = xf.offset.map(|o| o * k);
    let mut mesh = Mesh::from_volume(volume, options.iso, xf)?.largest_component();
    mesh.taubin_smooth(options.smooth);
    Ok(mesh)
}

/// Interleaved RGB8 `n x n` mirrored left-right.
fn mirror_rgb(rgb: &[u8], n: usize) -> Vec<u8> {
    rgb.chunks_exact(3 * n)
        .flat_map(|row| row.chunks_exact(3).rev().flatten().copied())
        .collect()
}

/// 68 landmarks (pixels of an `n`-pixel image) of the mirrored image: x reflected, ids swapped
/// left for right.
fn mirror_landmarks(landmarks: &[[f32; 2]], n: usize) -> Vec<[f32; 2]> {
    let w = n as f32;
    let mut out = landmarks.to_vec();
    for (i, p) in landmarks.iter().enumerate() {
        if let Some(o) = MIRROR_68.get(i).and_then(|&j| out.get_mut(j)) {
            *o = [w - p[0], p[1]];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirroring_swaps_sides_and_undoes_itself() {
        let n = 4;
        let rgb: Vec<u8> = (0..n * n * 3).map(|v| u8::try_from(v).unwrap()).collect();
        let once = mirror_rgb(&rgb, n);
        // Pixel (row 0, col 0) becomes (row 0, col 3).
        assert_eq!(&once[9..12], &rgb[0..3]);
        assert_eq!(mirror_rgb(&once, n), rgb);
        let marks: Vec<[f32; 2]> = (0..68).map(|i| [i as f32 * 0.05, i as f32]).collect();
        let m = mirror_landmarks(&marks, n);
        // The right eye's outer corner (36) lands on the left one's (45), x reflected.
        assert_eq!(m[45], [4.0 - marks[36][0], marks[36][1]]);
        assert_eq!(
            m[30],
            [4.0 - marks[30][0], marks[30][1]],
            "nose tip keeps its id"
        );
        let back = mirror_landmarks(&m, n);
        assert!(
            back.iter()
                .zip(&marks)
                .all(|(a, b)| (a[0] - b[0]).abs() < 1e-5 && a[1] == b[1])
        );
    }

    #[test]
    fn mirrored_volume_is_the_mean_of_both_views() {
        let dev = Device::Cpu;
        let vars = candle_nn::VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, &dev);
        let model = VrnModel::new(VrnConfig::tiny(), vb, &dev).unwrap();
        let n = VrnConfig::tiny().input;
        let crop = RgbImage::from_fn(2 * n as u32, 2 * n as u32, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 5) as u8, 90])
        });
        let marks: Vec<[f32; 2]> = (0..68)
            .map(|i| [4.0 + (i % 9) as f32, 6.0 + i as f32 / 4.0])
            .collect();
        let plain = model
            .clone()
            .with_tta(Tta::None)
            .volume(&crop, &marks)
            .unwrap();
        let both = model
            .clone()
            .with_tta(Tta::Mirror)
            .volume(&crop, &marks)
            .unwrap();
        let flipped = RgbImage::from_fn(crop.width(), crop.height(), |x, y| {
            *crop.get_pixel(crop.width() - 1 - x, y)
        });
        let marks_flipped = mirror_landmarks(&marks, 2 * n);
        let other = model
            .clone()
            .with_tta(Tta::None)
            .volume(&flipped, &marks_flipped)
            .unwrap();
        // Voxel i of a row of n reads voxel n - 1 - i of the flipped view's row.
        for (i, v) in both.data.iter().enumerate() {
            let j = i / n * n + n - 1 - i % n;
            let want = 0.5 * (plain.data[i] + other.data[j]);
            assert!((v - want).abs() < 1e-4, "voxel {i}: {v} vs {want}");
        }
    }

    #[test]
    fn every_view_maps_back_onto_the_crop() {
        // A stand-in network that outputs its input's red channel: mapped back, every view must
        // give the original red channel (away from the border the shifts repeat).
        let n = 6;
        let rgb: Vec<u8> = (0..n * n)
            .flat_map(|i| [(i * 7 % 251) as u8, 0, 0])
            .collect();
        let marks = vec![[2.5f32, 3.5]; 68];
        let views = Tta::MirrorShift.views();
        assert_eq!(views.len(), 10);
        for view in views {
            let (seen, seen_marks) = view.apply(&rgb, &marks, n);
            let red: Vec<f32> = seen.chunks_exact(3).map(|p| f32::from(p[0])).collect();
            let mut back = vec![0.0; n * n];
            view.add_back(&red, n, &mut back);
            for r in 1..n - 1 {
                for c in 1..n - 1 {
                    assert_eq!(back[r * n + c], f32::from(rgb[3 * (r * n + c)]), "{view:?}");
                }
            }
            // The landmark moves with the image.
            let [dx, dy] = view.shift;
            let x = if view.mirror { n as f32 - 2.5 } else { 2.5 };
            assert_eq!(seen_marks[30], [x + dx as f32, 3.5 + dy as f32], "{view:?}");
        }
    }
}
