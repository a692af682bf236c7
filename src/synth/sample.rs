//! One synthetic sample: the [`Engine`] poses a sampled head, renders it (2x2 supersampled
//! colour with shadows over a procedural background, plus exact per-pixel ground truth at pixel
//! centres), draws occluders, degrades the input copy and collects landmarks, parameters and the
//! face-area mesh in the crop frame (see [`crate::synth::camera`]).

use image::RgbImage;

use super::SynthError;
use super::camera::Camera;
use super::colour::colour;
use super::degrade::degrade;
use super::engine::Style;
pub use super::engine::{Engine, EngineOptions};
use super::engine::{NEAR, Posed};
use super::math::interp;
use super::math::{normalize, to_srgb, vertex_normals};
use super::model::FaceModel;
use super::occluder::{Canvas, draw};
use super::params::SampleParams;
use super::photo::{Photo, clothing, hair, respond};
use super::raster::{Cull, DepthTest, Projection, ScreenVertex, VisBuffer};
use super::regions::Regions;
use super::rng::SampleRng;
pub use crate::pipeline::mesh::raster::background_z;

/// Everything one sample carries. Maps are row-major `size x size` (rows going down).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The parameters that produced it.
    pub params: SampleParams,
    /// Its camera.
    pub camera: Camera,
    /// Degraded RGB input, `[S, S, 3]` sRGB.
    pub rgb: Vec<u8>,
    /// Clean RGB (with occluders, without degradations), `[S, S, 3]`.
    pub clean: Vec<u8>,
    /// Crop-frame z of the nearest head surface (pixels, larger = closer), `[S, S]`;
    /// [`background_z`] where `mask` is 0.
    pub depth: Vec<f32>,
    /// Crop-frame z of the farthest head surface along the pixel's ray, `[S, S]`.
    pub depth_back: Vec<f32>,
    /// Unit surface normals, crop-frame axes, `[S, S, 3]`; zero where `mask` is 0.
    pub normals: Vec<f32>,
    /// 1 where the head covers the pixel centre, `[S, S]`.
    pub mask: Vec<u8>,
    /// Part label under the pixel centre ([`crate::synth::model::Part`] values, 0 = none).
    pub parts: Vec<u8>,
    /// 1 where an occluder covers at least half the pixel.
    pub occluder: Vec<u8>,
    /// 68 landmarks in crop pixels `[u, v]` (v down).
    pub landmarks_2d: Vec<[f32; 2]>,
    /// 68 landmarks in the crop frame.
    pub landmarks_3d: Vec<[f32; 3]>,
    /// 1 where the landmark vertex is the visible surface at its pixel.
    pub landmark_visible: Vec<u8>,
    /// Face-area vertices (`0..model.face_vertices`) in the crop frame.
    pub mesh: Vec<[f32; 3]>,
}

impl Engine {
    /// An engine for `model` with `options`.
    #[must_use]
    pub fn new(model: FaceModel, options: EngineOptions) -> Self {
        let lm: Vec<[f32; 3]> = model
            .landmarks
            .iter()
            .map(|&i| model.neutral[i as usize])
            .collect();
        let k = lm.len().max(1) as f32;
        let face_centre: [f32; 3] =
            std::array::from_fn(|a| lm.iter().map(|p| p[a]).sum::<f32>() / k);
        let pivot = [face_centre[0], face_centre[1], face_centre[2] - 6.0];
        let regions = Regions::new(&model);
        Self {
            model,
            regions,
            options,
            pivot,
            face_centre,
        }
    }

    /// Renders sample `id`.
    ///
    /// # Errors
    /// [`SynthError::Jpeg`] when the JPEG degradation fails.
    pub fn render(&self, id: u64) -> Result<Sample, SynthError> {
        self.render_params(match self.options.style {
            Style::Classic => SampleParams::draw(&self.model, id),
            Style::Photo => SampleParams::draw_photo(&self.model, id),
        })
    }

    /// Renders a sample from explicit parameters (e.g. a drawn set with the pose overridden);
    /// `params.id` seeds the occluder and degradation noise.
    ///
    /// # Errors
    /// [`SynthError::Jpeg`] when the JPEG degradation fails.
    pub fn render_params(&self, params: SampleParams) -> Result<Sample, SynthError> {
        let id = params.id;
        let size = self.options.size;
        let camera = Camera::new(
            self.pivot,
            self.face_centre,
            params.pose,
            params.framing,
            size,
        );
        let posed = self.pose(&params, &camera);
        let (gt, back) = self.visibility(&camera, &posed);
        let (landmarks_2d, landmarks_3d, landmark_visible) = self.landmarks(&camera, &posed, &gt);
        let (clean, occluder) = self.clean_image(&params, &camera, &posed, &gt, &landmarks_2d);
        let mut rng = SampleRng::for_sample(id, 9);
        let rgb = degrade(&clean, extent(&landmarks_2d), &params.degrade, &mut rng)?;
        let (depth, normals, mask, parts) = self.ground_truth(&camera, &posed, &gt);
        let bz = background_z(size);
        let depth_back = back
            .depth
            .iter()
            .map(|&w| if w.is_finite() { camera.crop_z(w) } else { bz })
            .collect();
        let mesh = posed.positions[..self.model.face_vertices]
            .iter()
            .map(|&p| camera.crop_from_camera(p))
            .collect();
        Ok(Sample {
            params,
            camera,
            rgb: rgb.into_raw(),
            clean: clean.into_raw(),
            depth,
            depth_back,
            normals,
            mask,
            parts,
            occluder,
            landmarks_2d,
            landmarks_3d,
            landmark_visible,
            mesh,
        })
    }

    /// The exact ground-truth passes at pixel centres: nearest and farthest surfaces.
    fn visibility(&self, camera: &Camera, posed: &Posed) -> (VisBuffer, VisBuffer) {
        let size = self.options.size;
        let screen: Vec<ScreenVertex> = posed
            .positions
            .iter()
            .map(|&p| camera.project(p, 1.0))
            .collect();
        let tris = &self.model.triangles;
        let mut gt = VisBuffer::new(size, size, DepthTest::Nearest);
        gt.draw(&screen, tris, Projection::Perspective, Cull::Back, NEAR);
        let mut back = VisBuffer::new(size, size, DepthTest::Farthest);
        back.draw(&screen, tris, Projection::Perspective, Cull::None, NEAR);
        (gt, back)
    }

    /// The clean image (render, background, occluders) and the occluder mask.
    fn clean_image(
        &self,
        params: &SampleParams,
        camera: &Camera,
        posed: &Posed,
        gt: &VisBuffer,
        landmarks_2d: &[[f32; 2]],
    ) -> (RgbImage, Vec<u8>) {
        let size = self.options.size;
        let mut linear = colour(self, params, camera, posed);
        let mut coverage = vec![0.0f32; size * size];
        if let Some(photo) = &params.photo {
            self.dress(params, photo, camera, posed, gt, &mut linear, &mut coverage);
        }
        if let Some(kind) = params.occluder {
            let mut canvas = Canvas {
                pixels: &mut linear,
                coverage: &mut coverage,
                size,
            };
            let mut rng = SampleRng::for_sample(params.id, 8);
            draw(&mut canvas, kind, landmarks_2d, &mut rng);
        }
        if let Some(photo) = &params.photo {
            respond(&photo.response, &mut linear, size);
        }
        let mask = coverage.iter().map(|&c| u8::from(c >= 0.5)).collect();
        (to_image(&linear, size), mask)
    }

    /// The photo style's hair and clothing over the rendered head; hair over the head counts
    /// as occluding it.
    #[allow(clippy::too_many_arguments)]
    fn dress(
        &self,
        params: &SampleParams,
        photo: &Photo,
        camera: &Camera,
        posed: &Posed,
        gt: &VisBuffer,
        linear: &mut [[f32; 3]],
        coverage: &mut [f32],
    ) {
        let size = self.options.size;
        let px_per_cm = camera.focal / camera.z_ref();
        let mut hair_cover = vec![0.0f32; size * size];
        if let Some(hair) = &photo.hair {
            let scene = hair::Scene {
                size,
                gt,
                model: &self.model,
                regions: &self.regions,
                posed,
                px_per_cm,
                look: &params.look,
                lighting: &params.lighting,
            };
            hair_cover = hair::draw(hair, &scene, linear);
            for (i, c) in coverage.iter_mut().enumerate() {
                if gt.covered(i) {
                    *c = c.max(hair_cover[i]);
                }
            }
        }
        if let Some(cloth) = photo.clothing {
            // The shoulders start below the neck's top (model frame, cm).
            let neck = camera.project(camera.to_camera([0.0, -11.0, 0.0]), 1.0);
            let below = camera.project(camera.to_camera([0.0, -12.0, 0.0]), 1.0);
            let down = [below.x - neck.x, below.y - neck.y];
            let len = (down[0] * down[0] + down[1] * down[1]).sqrt().max(1e-6);
            let free: Vec<bool> = (0..size * size)
                .map(|i| !gt.covered(i) && hair_cover[i] < 0.5)
                .collect();
            clothing(
                linear,
                &free,
                size,
                [neck.x, neck.y],
                [down[0] / len, down[1] / len],
                px_per_cm,
                cloth,
                &params.lighting,
                params.look.seed,
            );
        }
    }

    fn pose(&self, params: &SampleParams, camera: &Camera) -> Posed {
        let shape = self.model.shape(&params.identity, &params.expression);
        let normals = vertex_normals(&shape, &self.model.triangles);
        Posed {
            positions: shape.iter().map(|&p| camera.to_camera(p)).collect(),
            normals: normals.iter().map(|&n| camera.rotate(n)).collect(),
        }
    }

    /// Depth, normals, mask and part maps at pixel centres from the ground-truth buffer.
    fn ground_truth(
        &self,
        camera: &Camera,
        posed: &Posed,
        gt: &VisBuffer,
    ) -> (Vec<f32>, Vec<f32>, Vec<u8>, Vec<u8>) {
        let size = self.options.size;
        let bz = background_z(size);
        let (mut depth, mut normals) = (vec![bz; size * size], vec![0.0f32; size * size * 3]);
        let (mut mask, mut parts) = (vec![0u8; size * size], vec![0u8; size * size]);
        for i in (0..size * size).filter(|&i| gt.covered(i)) {
            let t = gt.triangle[i] as usize;
            let tri = self.model.triangles[t];
            depth[i] = camera.crop_z(gt.depth[i]);
            let n = Camera::crop_direction(normalize(interp(&posed.normals, tri, gt.bary[i])));
            normals[3 * i..3 * i + 3].copy_from_slice(&n);
            mask[i] = 1;
            parts[i] = self.model.triangle_part[t] as u8;
        }
        (depth, normals, mask, parts)
    }

    /// Projected landmarks, their crop-frame positions and visibility (the landmark is within
    /// 0.5 cm of the visible surface at its pixel).
    fn landmarks(
        &self,
        camera: &Camera,
        posed: &Posed,
        gt: &VisBuffer,
    ) -> (Vec<[f32; 2]>, Vec<[f32; 3]>, Vec<u8>) {
        let size = self.options.size;
        let mut l2 = Vec::with_capacity(68);
        let mut l3 = Vec::with_capacity(68);
        let mut vis = Vec::with_capacity(68);
        for &i in &self.model.landmarks {
            let p = posed.positions[i as usize];
            let v = camera.project(p, 1.0);
            l2.push([v.x, v.y]);
            l3.push(camera.crop_from_camera(p));
            let inside = v.x >= 0.0 && v.y >= 0.0 && v.x < size as f32 && v.y < size as f32;
            let seen = inside && {
                let j = v.y as usize * size + v.x as usize;
                gt.covered(j) && p[2] <= gt.depth[j] + 0.5
            };
            vis.push(u8::from(seen));
        }
        (l2, l3, vis)
    }
}

/// Larger side of the landmarks' bounding box, pixels.
fn extent(points: &[[f32; 2]]) -> f32 {
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in points {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1.0)
}

fn to_image(linear: &[[f32; 3]], size: usize) -> RgbImage {
    let raw: Vec<u8> = linear
        .iter()
        .flat_map(|c| c.map(|v| (to_srgb(v) * 255.0 + 0.5) as u8))
        .collect();
    let side = u32::try_from(size).unwrap_or(0);
    RgbImage::from_raw(side, side, raw).unwrap_or_else(|| RgbImage::new(side, side))
}
