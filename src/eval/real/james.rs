//! The james head scan (menpo3d, BSD-3-Clause; `../shared/real-eval/james/`) as real test
//! photos with dense ground truth: rendered with the project's rasterizer
//! ([`crate::pipeline::mesh::raster`]) and its real texture at yaws 0, +-30, +-60 and pitches
//! +-15, under a soft frontal and a hard side light, then put through the app's own path like any
//! photo and scored like the AFLW photos plus the dense scan-to-mesh distance.
//!
//! Frames: the scan is first moved to a canonical frame from its 68 landmarks (origin at their
//! centroid, +X from the outer corner of the image-left eye to that of the image-right eye, +Y
//! from the chin up towards the nose bridge, +Z out of the face; scan units, about mm). A view
//! rotates it (yaw about +Y, then pitch about +X) and projects it orthographically: image
//! column `W/2 + k x`, row `H/2 - k y`, depth `k z` (larger = nearer), `k` pixels per scan unit
//! chosen so the frontal face (68-landmark x-extent) is [`FULL_FACE_PX`] wide.
//!
//! Scan distance: the method's mesh (photo frame, back to the view frame in scan units) is
//! aligned to the scan by the 68 landmarks (the method's own against the scan's, rigid, no
//! scale), then by trimmed ICP of the scan's face-region vertices (inside the 68 landmarks'
//! outline, facing the camera) to the mesh; the mean distance of those vertices to the mesh is
//! reported in scan units and in % of the scan's outer interocular distance.

use super::data::load_james;
use super::{RealOptions, Row, Runner, Width, at_width, evaluate_image, own_landmarks};
use crate::eval::align::{SurfaceIndex, fit_rigid, icp};
use crate::pipeline::detect::warp::sample_bilinear;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::mesh::raster::{Cull, DepthTest, Projection, ScreenVertex, VisBuffer};
use crate::pipeline::reconstruct::{Prepared, Reconstruction};
use crate::synth::math::{cross, dot, sub};
use anyhow::Context;
use image::{Rgb, RgbImage};
use std::path::Path;

/// Width of the frontal face in the full-resolution renders, pixels.
pub const FULL_FACE_PX: f32 = 220.0;

/// The scan in its canonical frame.
pub struct Scan {
    /// Vertex positions, canonical frame.
    pub positions: Vec<[f32; 3]>,
    /// Unit vertex normals, canonical frame.
    pub normals: Vec<[f32; 3]>,
    /// Texture coordinates (OBJ convention: v up).
    pub uvs: Vec<[f32; 2]>,
    /// Triangles.
    pub triangles: Vec<[u32; 3]>,
    /// The texture.
    pub texture: RgbImage,
    /// The 68 landmarks (iBUG order), canonical frame.
    pub landmarks: Vec<[f32; 3]>,
    /// Vertices of the face region (see the module docs).
    pub face: Vec<usize>,
}

/// A view: pose and light.
#[derive(Clone, Copy, Debug)]
pub struct View {
    /// Yaw, degrees (positive turns the face to the image's right).
    pub yaw: f32,
    /// Pitch, degrees (positive tilts the face up).
    pub pitch: f32,
    /// Light: `false` soft frontal, `true` hard side light.
    pub side_light: bool,
}

impl View {
    /// The views of the evaluation: 7 poses x 2 lights.
    #[must_use]
    pub fn all() -> Vec<Self> {
        let poses = [
            (0.0, 0.0),
            (30.0, 0.0),
            (-30.0, 0.0),
            (60.0, 0.0),
            (-60.0, 0.0),
            (0.0, 15.0),
            (0.0, -15.0),
        ];
        poses
            .iter()
            .flat_map(|&(yaw, pitch)| {
                [false, true].map(|side_light| Self {
                    yaw,
                    pitch,
                    side_light,
                })
            })
            .collect()
    }

    /// A short name.
    #[must_use]
    pub fn name(&self) -> String {
        format!(
            "james yaw {:+.0} pitch {:+.0} {}",
            self.yaw,
            self.pitch,
            if self.side_light { "side" } else { "front" }
        )
    }

    /// The view rotation (row-major): pitch about +X after yaw about +Y.
    #[must_use]
    pub fn rotation(&self) -> [[f32; 3]; 3] {
        let (y, p) = (self.yaw.to_radians(), self.pitch.to_radians());
        let ry = [
            [y.cos(), 0.0, y.sin()],
            [0.0, 1.0, 0.0],
            [-y.sin(), 0.0, y.cos()],
        ];
        let rx = [
            [1.0, 0.0, 0.0],
            [0.0, p.cos(), -p.sin()],
            [0.0, p.sin(), p.cos()],
        ];
        mat_mul(&rx, &ry)
    }
}

fn mat_mul(a: &[[f32; 3]; 3], b: &[[f32; 3]; 3]) -> [[f32; 3]; 3] {
    let mut m = [[0.0; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    m
}

fn rotate(r: &[[f32; 3]; 3], p: [f32; 3]) -> [f32; 3] {
    [0, 1, 2].map(|i| r[i][0] * p[0] + r[i][1] * p[1] + r[i][2] * p[2])
}

fn unit(a: [f32; 3]) -> [f32; 3] {
    let n = dot(a, a).sqrt().max(1e-12);
    a.map(|v| v / n)
}

impl Scan {
    /// Loads the scan from the real-eval folder `dir` and moves it to the canonical frame.
    ///
    /// # Errors
    /// Missing or unreadable files, missing landmarks, or a scan whose nose does not point out
    /// of the face in the frame its landmarks define.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let folder = dir.join("james");
        let obj = folder.join("james.obj");
        let (models, _) = tobj::load_obj(
            &obj,
            &tobj::LoadOptions {
                single_index: true,
                triangulate: true,
                ..tobj::LoadOptions::default()
            },
        )
        .with_context(|| format!("{}: cannot read the scan", obj.display()))?;
        let m = &models.first().context("the scan has no mesh")?.mesh;
        let raw: Vec<[f32; 3]> = m
            .positions
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        let uvs: Vec<[f32; 2]> = m.texcoords.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
        anyhow::ensure!(
            uvs.len() == raw.len(),
            "{}: the scan has no UVs",
            obj.display()
        );
        let triangles = m
            .indices
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        let tex_path = folder.join("james.jpg");
        let texture = image::open(&tex_path)
            .with_context(|| format!("{}: cannot read the texture", tex_path.display()))?
            .to_rgb8();
        let marks = load_james(dir)?;
        let lm: Vec<[f32; 3]> = marks
            .points
            .iter()
            .map(|p| p.context("the scan misses a landmark"))
            .collect::<anyhow::Result<_>>()?;
        anyhow::ensure!(
            lm.len() == 68,
            "the scan has {} landmarks, not 68",
            lm.len()
        );
        let (origin, r) = canonical(&lm);
        let to = |p: [f32; 3]| rotate(&r, sub(p, origin));
        let positions: Vec<[f32; 3]> = raw.iter().map(|&p| to(p)).collect();
        let landmarks: Vec<[f32; 3]> = lm.iter().map(|&p| to(p)).collect();
        let eyes_z = (landmarks[36][2] + landmarks[45][2]) / 2.0;
        anyhow::ensure!(
            landmarks[30][2] > eyes_z,
            "the scan's nose tip is not in front of its eyes in the landmarks' frame"
        );
        let mut mesh = Mesh::new(positions, triangles);
        mesh.compute_normals();
        let face = face_region(&mesh, &landmarks);
        Ok(Self {
            positions: mesh.positions,
            normals: mesh.normals,
            uvs,
            triangles: mesh.triangles,
            texture,
            landmarks,
            face,
        })
    }

    /// Outer interocular distance (landmarks 36-45), scan units.
    #[must_use]
    pub fn interocular(&self) -> f32 {
        let d = sub(self.landmarks[45], self.landmarks[36]);
        dot(d, d).sqrt()
    }

    /// Pixels per scan unit that make the frontal face [`FULL_FACE_PX`] wide.
    #[must_use]
    pub fn scale(&self) -> f32 {
        let (lo, hi) = self
            .landmarks
            .iter()
            .fold((f32::MAX, f32::MIN), |(l, h), p| (l.min(p[0]), h.max(p[0])));
        FULL_FACE_PX / (hi - lo).max(1e-6)
    }
}

/// The canonical frame of the module docs: its origin and the rotation into it.
fn canonical(lm: &[[f32; 3]]) -> ([f32; 3], [[f32; 3]; 3]) {
    let n = lm.len() as f32;
    let origin = lm
        .iter()
        .fold([0.0; 3], |a, p| [a[0] + p[0], a[1] + p[1], a[2] + p[2]])
        .map(|v| v / n);
    let ex = unit(sub(lm[45], lm[36]));
    let up = sub(lm[27], lm[8]);
    let ey = unit(sub(up, ex.map(|v| v * dot(up, ex))));
    let ez = cross(ex, ey);
    (origin, [ex, ey, ez])
}

/// Vertices inside the convex outline of the landmarks (x, y), facing the camera and not far
/// behind the face.
fn face_region(mesh: &Mesh, landmarks: &[[f32; 3]]) -> Vec<usize> {
    let hull = convex_hull(&landmarks.iter().map(|p| [p[0], p[1]]).collect::<Vec<_>>());
    let zmin = landmarks.iter().map(|p| p[2]).fold(f32::MAX, f32::min);
    (0..mesh.positions.len())
        .filter(|&i| {
            let p = mesh.positions[i];
            mesh.normals[i][2] > 0.1 && p[2] > zmin - 10.0 && inside(&hull, [p[0], p[1]])
        })
        .collect()
}

/// Counter-clockwise convex hull (monotone chain).
fn convex_hull(points: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut p = points.to_vec();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    let turn = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f32; 2]> = Vec::new();
    for pass in [p.clone(), p.iter().rev().copied().collect()] {
        let start = hull.len();
        for q in pass {
            while hull.len() >= start + 2
                && turn(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// True inside a counter-clockwise convex polygon.
fn inside(hull: &[[f32; 2]], p: [f32; 2]) -> bool {
    hull.len() >= 3
        && (0..hull.len()).all(|i| {
            let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
            (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0.0
        })
}

/// One render: the image, its true 68 landmarks (image frame) and its size.
pub struct Render {
    /// The photo.
    pub image: RgbImage,
    /// The 68 landmarks: column, row, depth (pixels, larger = nearer).
    pub truth: Vec<[f32; 3]>,
}

/// Renders the scan under `view` (see the module docs).
#[must_use]
pub fn render(scan: &Scan, view: &View) -> Render {
    let k = scan.scale();
    let (w, h) = (
        (FULL_FACE_PX * 2.0).round() as usize,
        (FULL_FACE_PX * 2.4).round() as usize,
    );
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let r = view.rotation();
    let project = |p: [f32; 3]| {
        let q = rotate(&r, p);
        [cx + k * q[0], cy - k * q[1], k * q[2]]
    };
    let screen: Vec<ScreenVertex> = scan
        .positions
        .iter()
        .map(|&p| {
            let s = project(p);
            ScreenVertex {
                x: s[0],
                y: s[1],
                w: -s[2],
            }
        })
        .collect();
    let mut buffer = VisBuffer::new(w, h, DepthTest::Nearest);
    buffer.draw(
        &screen,
        &scan.triangles,
        Projection::Orthographic,
        Cull::None,
        0.0,
    );
    let light = if view.side_light {
        (unit([0.75, 0.25, 0.6]), 0.15, 0.95)
    } else {
        ([0.0, 0.0, 1.0], 0.35, 0.7)
    };
    let image = RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let i = y as usize * w + x as usize;
        if !buffer.covered(i) {
            return background(x, y, h);
        }
        let tri = scan.triangles[buffer.triangle[i] as usize];
        let [b1, b2] = buffer.bary[i];
        let wts = [1.0 - b1 - b2, b1, b2];
        let mix = |f: &dyn Fn(usize) -> [f32; 3]| {
            (0..3).fold([0.0; 3], |a, c| {
                let v = f(tri[c] as usize);
                [
                    a[0] + wts[c] * v[0],
                    a[1] + wts[c] * v[1],
                    a[2] + wts[c] * v[2],
                ]
            })
        };
        let uv = mix(&|v| [scan.uvs[v][0], scan.uvs[v][1], 0.0]);
        let n = unit(rotate(&r, mix(&|v| scan.normals[v])));
        let (tw, th) = (scan.texture.width() as f32, scan.texture.height() as f32);
        let albedo = sample_bilinear(&scan.texture, [uv[0] * tw, (1.0 - uv[1]) * th]);
        let shade = light.1 + light.2 * dot(n, light.0).max(0.0);
        Rgb(albedo.map(|c| (c * shade).clamp(0.0, 255.0) as u8))
    });
    Render {
        image,
        truth: scan.landmarks.iter().map(|&p| project(p)).collect(),
    }
}

/// A soft vertical grey-blue gradient.
fn background(_x: u32, y: u32, h: usize) -> Rgb<u8> {
    let t = y as f32 / h.max(1) as f32;
    let v = |a: f32, b: f32| (a + (b - a) * t) as u8;
    Rgb([v(150.0, 90.0), v(160.0, 100.0), v(175.0, 120.0)])
}

/// Mean scan-to-mesh distance (scan units) over the face region, after the landmark start and
/// ICP (see the module docs). `shrink` is the photo's scale against the full render.
#[must_use]
pub fn scan_distance(
    scan: &Scan,
    view: &View,
    shrink: f32,
    prepared: &Prepared,
    result: &Reconstruction,
) -> Option<f32> {
    let k = scan.scale() * shrink;
    let (cx, cy) = (
        (FULL_FACE_PX * 2.0).round() * shrink / 2.0,
        (FULL_FACE_PX * 2.4).round() * shrink / 2.0,
    );
    // Image frame (small photo pixels) -> view frame (scan units).
    let to_view = |p: [f32; 3]| [(p[0] - cx) / k, (cy - p[1]) / k, p[2] / k];
    let photo = prepared.face.to_photo_frame(&result.mesh);
    let positions = photo
        .positions
        .iter()
        .map(|p| to_view([p[0], -p[1], p[2]]))
        .collect();
    let mesh = Mesh::new(positions, photo.triangles);
    let r = view.rotation();
    let own: Vec<[f32; 3]> = own_landmarks(prepared, result)
        .iter()
        .map(|&p| to_view(p))
        .collect();
    let truth: Vec<[f32; 3]> = scan.landmarks.iter().map(|&p| rotate(&r, p)).collect();
    let start = fit_rigid(&truth, &own);
    let points: Vec<[f32; 3]> = scan
        .face
        .iter()
        .map(|&i| start.apply(rotate(&r, scan.positions[i])))
        .collect();
    let index = SurfaceIndex::new(&mesh);
    let xf = icp(&points, &index, 10, 0.9);
    let (sum, n) = points.iter().fold((0.0f64, 0usize), |(s, n), &p| {
        let m = xf.apply(p);
        match index.closest(m) {
            Some(q) => {
                let d = sub(q, m);
                (s + f64::from(dot(d, d).sqrt()), n + 1)
            }
            None => (s, n),
        }
    });
    (n > 0).then(|| (sum / n as f64) as f32)
}

/// The james rows: every view under every condition.
///
/// # Errors
/// Missing or unreadable scan files.
pub fn evaluate(runner: &Runner, options: &RealOptions) -> anyhow::Result<Vec<Row>> {
    let scan = Scan::load(&options.data)?;
    let iod = scan.interocular();
    let mut rows = Vec::new();
    let conditions: Vec<(Width, crate::pipeline::upscale::Upscaler)> = options
        .widths
        .iter()
        .map(|&w| (w, options.james_upscaler))
        .collect();
    for view in View::all() {
        let rendered = render(&scan, &view);
        let name = view.name();
        for condition in &conditions {
            let (small, truth) = at_width(&rendered.image, &rendered.truth, condition.0)?;
            let shrink = small.width() as f32 / rendered.image.width() as f32;
            let mut extra = |row: &mut Row, p: &Prepared, r: &Reconstruction| {
                if let Some(d) = scan_distance(&scan, &view, shrink, p, r) {
                    row.scan_mm = Some(d);
                    row.scan_pct = Some(100.0 * d / iod);
                }
            };
            rows.extend(evaluate_image(
                runner, "james", &name, &small, &truth, *condition, true, &mut extra,
            ));
        }
        eprintln!("{name}: done");
    }
    Ok(rows)
}

/// A contact sheet of the renders (the frontal soft-light and the side-light views), for the
/// docs.
#[must_use]
pub fn contact_sheet(scan: &Scan) -> RgbImage {
    let renders: Vec<RgbImage> = View::all().iter().map(|v| render(scan, v).image).collect();
    let (w, h) = renders
        .first()
        .map_or((1, 1), |r| (r.width() / 2, r.height() / 2));
    let cols = 7u32;
    let rows_n = u32::try_from(renders.len()).unwrap_or(0).div_ceil(cols);
    let mut sheet = RgbImage::new(w * cols, h * rows_n);
    // Views come as (pose, front), (pose, side): front lights on the first row.
    for (i, r) in renders.iter().enumerate() {
        let small = image::imageops::resize(r, w, h, image::imageops::FilterType::Triangle);
        let i = u32::try_from(i).unwrap_or(0);
        let (col, row) = (i / 2, i % 2);
        image::imageops::overlay(&mut sheet, &small, i64::from(col * w), i64::from(row * h));
    }
    sheet
}
