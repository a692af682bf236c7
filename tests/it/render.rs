//! The viewport renderer without a window (a software rasteriser is enough) and the
//! `visage render` command: a mesh is drawn where the camera looks, shading modes differ,
//! turning the camera changes the picture, and depth grows darker with distance.

use std::path::Path;
use std::process::Command;
use visage::pipeline::mesh::Mesh;
use visage::viewport::headless::HeadlessGpu;
use visage::viewport::{OrbitCamera, Shading, ViewOptions, framing_camera};

/// A square plate tilted so its top edge leans away from the viewer, with a bump in the middle.
fn plate() -> Mesh {
    let n = 32u32;
    let mut positions = Vec::new();
    for j in 0..=n {
        for i in 0..=n {
            let (x, y) = (i as f32 / n as f32 - 0.5, j as f32 / n as f32 - 0.5);
            let bump = 0.15 * (-(x * x + y * y) * 30.0).exp();
            positions.push([x, y, bump - 0.5 * y]);
        }
    }
    let mut triangles = Vec::new();
    for j in 0..n {
        for i in 0..n {
            let a = j * (n + 1) + i;
            let (b, c, d) = (a + 1, a + n + 1, a + n + 2);
            triangles.push([a, b, d]);
            triangles.push([a, d, c]);
        }
    }
    Mesh::new(positions, triangles)
}

fn luma(p: &image::Rgba<u8>) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

fn render(gpu: &HeadlessGpu, mesh: &Mesh, cam: &OrbitCamera, shading: Shading) -> image::RgbaImage {
    gpu.render(mesh, cam, &ViewOptions::new(shading), [128, 128])
        .unwrap()
}

#[test]
fn headless_render_draws_the_mesh_in_every_mode() {
    let gpu = HeadlessGpu::new().expect("a wgpu adapter (Mesa lavapipe in CI)");
    let mesh = plate();
    let cam = framing_camera(&mesh);
    let lit = render(&gpu, &mesh, &cam, Shading::Lit);
    let bg = luma(lit.get_pixel(1, 1));
    assert!(bg < 40.0, "background {bg}");
    assert!(luma(lit.get_pixel(64, 64)) > bg + 60.0, "the plate is lit");
    let images: Vec<_> = [Shading::Lit, Shading::Color, Shading::Wire, Shading::Depth]
        .iter()
        .map(|&s| render(&gpu, &mesh, &cam, s))
        .collect();
    for i in 0..images.len() {
        for j in i + 1..images.len() {
            assert_ne!(images[i], images[j], "modes {i} and {j}");
        }
    }
    // Grey depth: near white, far black. The plate's bottom edge is nearer than its top.
    let depth = render(&gpu, &mesh, &cam, Shading::DepthGray);
    let (top, bottom) = (luma(depth.get_pixel(64, 40)), luma(depth.get_pixel(64, 88)));
    assert!(bottom > top + 20.0, "near {bottom} vs far {top}");
    assert_eq!(*depth.get_pixel(1, 1), image::Rgba([0, 0, 0, 255]));
}

#[test]
fn turning_the_camera_changes_the_picture() {
    let gpu = HeadlessGpu::new().unwrap();
    let mesh = plate();
    let front = framing_camera(&mesh);
    let mut side = front;
    side.orbit(80.0, 0.0);
    let a = render(&gpu, &mesh, &front, Shading::Lit);
    let b = render(&gpu, &mesh, &side, Shading::Lit);
    let covered = |img: &image::RgbaImage| img.pixels().filter(|p| luma(p) > 45.0).count();
    // Seen almost edge-on the plate covers far fewer pixels.
    assert!(
        covered(&b) * 2 < covered(&a),
        "{} vs {}",
        covered(&b),
        covered(&a)
    );
}

#[test]
fn render_command_writes_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let mesh_path = dir.path().join("plate.ply");
    visage::pipeline::export::save(&plate(), &mesh_path).unwrap();
    let out = dir.path().join("view.png");
    let status = Command::new(env!("CARGO_BIN_EXE_visage"))
        .args([
            "render",
            mesh_path.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .args([
            "--shading",
            "depth",
            "--size",
            "96",
            "--yaw",
            "-20",
            "--pitch",
            "10",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let img = image::open(&out).unwrap().into_rgb8();
    assert_eq!(img.dimensions(), (96, 96));
    assert!(
        img.pixels().any(|p| p[0] > 100),
        "some of the depth colormap is drawn"
    );
    let missing = Command::new(env!("CARGO_BIN_EXE_visage"))
        .args(["render", "nope.obj", "-o"])
        .arg(Path::new(dir.path()).join("x.png"))
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.obj"));
}
