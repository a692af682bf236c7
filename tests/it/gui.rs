//! The desktop app driven by egui_kittest on a windowless wgpu device (Mesa's lavapipe in CI):
//! open a mesh and check the viewport shows it, open a fixture photo and compare upscalers,
//! switch upscalers, run every reconstruction method, save a mesh and load it back, and keep
//! running after a bad photo. Files are opened by command, bypassing the dialogs.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use visage::app::{Command, Startup, Tab, VisageApp};
use visage::device::DeviceChoice;
use visage::pipeline::export::{MeshFormat, save};
use visage::pipeline::import;
use visage::pipeline::mesh::Mesh;
use visage::pipeline::reconstruct::morphable::MorphableModel;
use visage::pipeline::upscale::Upscaler;
use visage::worker::Method;

use super::common::fixture_path as fixture;

/// A closed UV sphere of radius 1 with a colour ramp, centred at the origin.
fn sphere() -> Mesh {
    let (rings, segments) = (24u32, 48u32);
    let mut positions = Vec::new();
    for r in 0..=rings {
        let theta = std::f32::consts::PI * r as f32 / rings as f32;
        for s in 0..segments {
            let phi = std::f32::consts::TAU * s as f32 / segments as f32;
            positions.push([
                theta.sin() * phi.sin(),
                theta.cos(),
                theta.sin() * phi.cos(),
            ]);
        }
    }
    let mut triangles = Vec::new();
    for r in 0..rings {
        for s in 0..segments {
            let (a, b) = (r * segments + s, r * segments + (s + 1) % segments);
            let (c, d) = (a + segments, b + segments);
            triangles.push([a, c, b]);
            triangles.push([b, c, d]);
        }
    }
    let mut mesh = Mesh::new(positions, triangles);
    mesh.colors = mesh
        .positions
        .iter()
        .map(|p| [0.5 + 0.5 * p[0], 0.3, 0.5 - 0.5 * p[0]])
        .collect();
    mesh
}

fn harness(startup: Startup) -> Harness<'static, VisageApp> {
    Harness::builder()
        .with_size(egui::vec2(1100.0, 700.0))
        .wgpu()
        .build_eframe(move |cc| VisageApp::new(cc, startup).expect("app starts"))
}

/// Steps until `done` holds (the worker answers from its own thread), at most 60 s.
fn wait_for(h: &mut Harness<'static, VisageApp>, what: &str, done: impl Fn(&VisageApp) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    for _ in 0..3 {
        h.step();
    }
}

fn idle(app: &VisageApp) -> bool {
    app.is_idle()
}

fn saved_sphere(dir: &Path) -> PathBuf {
    let path = dir.join("sphere.ply");
    save(&sphere(), &path).unwrap();
    path
}

/// The app with the test sphere (saved into `dir`) opened and shown.
fn sphere_app(dir: &Path) -> Harness<'static, VisageApp> {
    let startup = Startup {
        mesh: Some(saved_sphere(dir)),
        ..Startup::default()
    };
    let mut h = harness(startup);
    wait_for(&mut h, "the mesh", |a| {
        a.session.mesh.is_some() && a.is_idle()
    });
    h
}

#[test]
fn opened_mesh_appears_in_the_viewport() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = sphere_app(dir.path());
    assert!(
        h.state().session.errors.is_empty(),
        "{:?}",
        h.state().session.errors
    );
    assert_eq!(h.state().settings.tab, Tab::Viewport);
    let view = h.state().view.as_ref().expect("wgpu viewport");
    assert_eq!(view.triangle_count(), Some(24 * 48 * 2));
    let image = view.read_back().unwrap();
    let (w, ht) = image.dimensions();
    let bg = *image.get_pixel(2, 2);
    let centre = *image.get_pixel(w / 2, ht / 2);
    let diff = |a: &image::Rgba<u8>, b: &image::Rgba<u8>| {
        (0..3)
            .map(|i| i32::from(a[i]).abs_diff(i32::from(b[i])))
            .max()
            .unwrap()
    };
    assert!(
        diff(&centre, &bg) > 40,
        "centre {centre:?} vs background {bg:?}"
    );
    let covered = image.pixels().filter(|p| diff(p, &bg) > 12).count() as f64;
    let fraction = covered / f64::from(w * ht);
    // The sphere is framed with a 10% margin: it covers a disc well inside the view.
    assert!(
        (0.08..0.9).contains(&fraction),
        "mesh covers {fraction:.3} of the viewport"
    );
    // The same pixels reach the window: the rendered frame shows the mesh too.
    let frame = h.render().expect("harness renders");
    let tab = h.get_by_label("3D view").rect();
    let ppp = h.ctx.pixels_per_point();
    let (cx, cy) = (
        0.5 * (tab.left() + 1100.0) * ppp,
        0.5 * (tab.bottom() + 700.0) * ppp,
    );
    let px = frame.get_pixel(cx as u32, cy as u32);
    assert!(
        diff(px, &bg) > 40,
        "window pixel {px:?} at the viewport centre shows no mesh"
    );
}

#[test]
fn shading_modes_change_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = sphere_app(dir.path());
    let mut images = Vec::new();
    for shading in visage::viewport::Shading::ALL {
        h.state_mut().settings.shading = shading;
        h.step();
        images.push(h.state().view.as_ref().unwrap().read_back().unwrap());
    }
    for i in 0..images.len() {
        for j in i + 1..images.len() {
            assert_ne!(images[i], images[j], "shadings {i} and {j} look the same");
        }
    }
}

#[test]
fn comparison_shows_every_upscaler_and_switches() {
    let startup = Startup {
        photo: Some(fixture("grace_hopper.jpg")),
        crop: Some(visage::worker::CropRect {
            x: 150,
            y: 60,
            width: 220,
            height: 260,
        }),
        simulate: Some(32),
        compare: true,
        ..Startup::default()
    };
    let mut h = harness(startup);
    wait_for(&mut h, "the comparison", |a| {
        a.session.comparison.is_some() && a.is_idle()
    });
    assert_eq!(h.state().settings.tab, Tab::Compare);
    let c = &h.state().session.comparison.as_ref().unwrap().comparison;
    assert_eq!(c.rows.len(), Upscaler::ALL.len());
    // The *face* (its landmarks' extent), not the rectangle, is brought to about 32 px (the
    // nearest integer factor).
    let w = c.face_width.expect("the face was measured");
    assert!((28.0..=36.0).contains(&w), "simulated face {w} px wide");
    for row in &c.rows {
        let (psnr, ssim) = row.scores.expect("scored");
        assert!(
            psnr > 15.0 && psnr < 40.0 && ssim > 0.2 && ssim < 1.0,
            "{psnr} {ssim}"
        );
        assert_eq!(row.image.dimensions(), c.reference.dimensions());
    }
    h.state_mut().settings.upscaler = Upscaler::Bicubic;
    h.step();
    // Each column title in the comparison (right of the side panel) picks its upscaler.
    for upscaler in [Upscaler::Bilinear, Upscaler::Bicubic] {
        let side = h.get_by_label("Open photo…").rect().right() + 100.0;
        let title = h
            .get_all_by_label(upscaler.name())
            .find(|n| n.rect().left() > side)
            .expect("a column title");
        title.click();
        h.step();
        h.step();
        assert_eq!(h.state().settings.upscaler, upscaler);
    }
    assert!(
        h.state().session.errors.is_empty(),
        "{:?}",
        h.state().session.errors
    );
}

/// Runs the app's Run button with the current settings and returns the mesh it shows.
fn run_mesh(h: &mut Harness<'static, VisageApp>) -> std::sync::Arc<Mesh> {
    h.state_mut().session.errors.clear();
    h.state_mut().session.mesh = None;
    h.get_by_label("Run").click();
    h.step();
    wait_for(h, "the reconstruction", idle);
    let app = h.state();
    assert!(app.session.errors.is_empty(), "{:?}", app.session.errors);
    app.session
        .mesh
        .clone()
        .unwrap_or_else(|| panic!("no mesh: {:?}", app.session.errors))
}

#[test]
fn every_reconstruction_method_gives_its_own_mesh() {
    let startup = Startup {
        photo: Some(fixture("grace_hopper.jpg")),
        ..Startup::default()
    };
    let mut h = harness(startup);
    wait_for(&mut h, "the photo", |a| {
        a.session.photo.is_some() && a.is_idle()
    });
    let dense = MorphableModel::shared().unwrap().vertex_count();
    let mut meshes = Vec::new();
    for method in Method::ALL {
        h.state_mut().settings.method = method;
        let mesh = run_mesh(&mut h);
        assert_eq!(h.state().session.mesh_source, method.name());
        // The vertex count tells the methods' topologies apart.
        match method {
            Method::Landmarks => assert_eq!(mesh.vertex_count(), 468),
            Method::Morphable | Method::MorphableCgan => assert_eq!(mesh.vertex_count(), dense),
            Method::Vrn | Method::Pix2pix => assert!(mesh.vertex_count() > 2000, "{method}"),
        }
        meshes.push((method, mesh));
    }
    for (i, (a, ma)) in meshes.iter().enumerate() {
        for (b, mb) in &meshes[i + 1..] {
            assert_ne!(ma.positions, mb.positions, "{a} and {b} gave the same mesh");
        }
    }
    // The app is still alive and responsive.
    h.step();
    assert!(h.state().is_idle());
}

#[test]
fn each_upscaler_reconstructs_a_small_face_differently() {
    // Simulating a 32 px face makes the face smaller than the 128 px crop, so the chosen
    // upscaler enlarges it and the VRN sees (and returns) something different for each.
    let startup = Startup {
        photo: Some(fixture("grace_hopper.jpg")),
        simulate: Some(32),
        ..Startup::default()
    };
    let mut h = harness(startup);
    wait_for(&mut h, "the photo", |a| {
        a.session.photo.is_some() && a.is_idle()
    });
    h.state_mut().settings.method = Method::Vrn;
    let mut meshes = Vec::new();
    for upscaler in Upscaler::ALL {
        h.state_mut().settings.upscaler = upscaler;
        meshes.push((upscaler, run_mesh(&mut h)));
    }
    for (i, (a, ma)) in meshes.iter().enumerate() {
        for (b, mb) in &meshes[i + 1..] {
            assert_ne!(ma.positions, mb.positions, "{a} and {b} gave the same mesh");
        }
    }
}

#[test]
fn saved_mesh_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = sphere_app(dir.path());
    for format in MeshFormat::ALL {
        let target = dir.path().join(format!("out.{}", format.extension()));
        h.state_mut().settings.mesh_format = format;
        let ctx = h.ctx.clone();
        h.state_mut()
            .execute(&ctx, Command::SaveMesh(target.clone()));
        wait_for(&mut h, "the save", idle);
        assert!(
            h.state().session.errors.is_empty(),
            "{:?}",
            h.state().session.errors
        );
        assert!(
            h.state().session.status.contains("Saved"),
            "{}",
            h.state().session.status
        );
        let back = import::load(&target).unwrap();
        assert_eq!(back.triangles.len(), 24 * 48 * 2, "{format:?}");
        let ctx = h.ctx.clone();
        h.state_mut().session.mesh = None;
        h.state_mut().execute(&ctx, Command::OpenMesh(target));
        wait_for(&mut h, "the mesh back", |a| {
            a.session.mesh.is_some() && a.is_idle()
        });
        assert_eq!(
            h.state().view.as_ref().unwrap().triangle_count(),
            Some(24 * 48 * 2)
        );
    }
}

#[test]
fn bad_photo_is_a_message_and_the_app_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not_a_photo.jpg");
    std::fs::write(&bad, b"this is text, not a JPEG").unwrap();
    let startup = Startup {
        photo: Some(bad),
        ..Startup::default()
    };
    let mut h = harness(startup);
    wait_for(&mut h, "the error", |a| {
        !a.session.errors.is_empty() && a.is_idle()
    });
    let errors = h.state().session.errors.join("\n");
    assert!(errors.contains("not_a_photo.jpg"), "{errors}");
    // The error is in the window, and the app goes on to open a good photo.
    h.get_by_label_contains("not_a_photo.jpg");
    let ctx = h.ctx.clone();
    h.state_mut()
        .execute(&ctx, Command::LoadPhoto(fixture("astronaut.png")));
    wait_for(&mut h, "the good photo", |a| {
        a.session.photo.is_some() && a.is_idle()
    });
}

#[test]
fn device_is_shown_and_can_be_chosen() {
    let mut h = harness(Startup::default());
    wait_for(&mut h, "the device", |a| {
        !a.session.device_label.is_empty() && a.is_idle()
    });
    h.get_by_label_contains("Networks on:");
    let ctx = h.ctx.clone();
    h.state_mut()
        .execute(&ctx, Command::SetDevice(DeviceChoice::Cpu));
    wait_for(&mut h, "the CPU", |a| {
        a.session.device == DeviceChoice::Cpu && a.is_idle()
    });
    assert_eq!(h.state().session.device_label, "CPU (requested)");
    h.get_by_label_contains("Networks on: CPU (requested)");
    // A CUDA device that cannot be opened (no GPU, or no CUDA in this build): an error, and the
    // networks stay usable on the CPU.
    h.state_mut()
        .execute(&ctx, Command::SetDevice(DeviceChoice::Cuda(7)));
    wait_for(&mut h, "the fallback", |a| {
        !a.session.errors.is_empty() && a.is_idle()
    });
    let errors = h.state().session.errors.join("\n");
    assert!(errors.contains("cuda:7"), "{errors}");
    assert!(h.state().session.device_label.starts_with("CPU ("));
}

/// Drags the pointer with the primary button from `from` to `to` (screen points).
fn drag(h: &mut Harness<'static, VisageApp>, from: egui::Pos2, to: egui::Pos2) {
    let button = |pressed, pos| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    h.input_mut().events.push(egui::Event::PointerMoved(from));
    h.step();
    h.input_mut().events.push(button(true, from));
    h.step();
    for k in 1..=5 {
        let p = from + (to - from) * (k as f32 / 5.0);
        h.input_mut().events.push(egui::Event::PointerMoved(p));
        h.step();
    }
    h.input_mut().events.push(button(false, to));
    h.step();
    h.step();
}

#[test]
fn upscalers_compared_in_3d_with_linked_cameras_and_saved() {
    let startup = Startup {
        photo: Some(fixture("grace_hopper.jpg")),
        simulate: Some(32),
        method: Some(Method::Morphable),
        ..Startup::default()
    };
    let mut h = harness(startup);
    wait_for(&mut h, "the photo", |a| {
        a.session.photo.is_some() && a.is_idle()
    });
    let ctx = h.ctx.clone();
    h.state_mut().execute(&ctx, Command::Compare3d);
    wait_for(&mut h, "the 3D comparison", |a| {
        a.is_idle() && a.compare3d.as_ref().is_some_and(|c| c.done().count() == 3)
    });
    let app = h.state();
    assert!(app.session.errors.is_empty(), "{:?}", app.session.errors);
    assert_eq!(app.settings.tab, Tab::Compare3d);
    let c = app.compare3d.as_ref().unwrap();
    let labels: Vec<String> = c.done().map(|p| p.info.label.clone()).collect();
    assert_eq!(labels, ["bilinear", "bicubic", "espcn"]);
    // Simulated at 32 px: every panel is scored against the full-resolution face.
    for p in c.done() {
        let e = p.info.error_pct.expect("an error against full resolution");
        assert!(e > 0.0 && e < 10.0, "{}: {e}", p.info.label);
        assert!(p.info.mesh.has_texture(), "{}", p.info.label);
    }
    let before = c.cameras();
    assert!(before.windows(2).all(|w| w[0] == w[1]));
    // Orbit the first panel: every camera follows.
    let rect = c.rects[0];
    drag(
        &mut h,
        rect.center(),
        rect.center() + egui::vec2(60.0, 20.0),
    );
    let after = h.state().compare3d.as_ref().unwrap().cameras();
    assert_ne!(after[0], before[0], "the dragged panel did not turn");
    assert!(after.windows(2).all(|w| w[0] == w[1]), "{after:?}");
    // Save the grid and the meshes.
    let dense = MorphableModel::shared().unwrap().vertex_count();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    h.state_mut()
        .execute(&ctx, Command::SaveComparison3d(out.clone()));
    wait_for(&mut h, "the save", idle);
    assert!(
        h.state().session.errors.is_empty(),
        "{:?}",
        h.state().session.errors
    );
    let grid = image::open(out.join("comparison.png")).unwrap();
    assert!(grid.width() > 300 && grid.height() > 100);
    for label in labels {
        let mesh = import::load(&out.join(format!("{label}.obj"))).unwrap();
        assert_eq!(mesh.vertex_count(), dense, "{label}");
        assert!(mesh.has_texture(), "{label}");
    }
}
