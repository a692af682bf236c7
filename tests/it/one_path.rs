//! The one photo-to-mesh path: the app's worker, `visage reconstruct` and the evaluation give the
//! same mesh for the same photo, method and upscaler; a simulated 32 px face really is 32 px
//! wide; meshes in the photo frame sit on the photo's landmarks.

use candle_core::Device;
use std::path::Path;
use std::process::Command;
use visage::pipeline::degrade::DegradeMethod;
use visage::pipeline::detect::Detector;
use visage::pipeline::detect::landmarks68::to_68;
use visage::pipeline::photo::Photo;
use visage::pipeline::reconstruct::face::face_width;
use visage::pipeline::reconstruct::{
    FacePick, Method, Shrink, load, photo_to_mesh, prepare, prepare_face,
};
use visage::pipeline::upscale::Upscaler;
use visage::worker::reconstruct::{Models, Request, reconstruct};

use super::common::fixture_path as fixture;

#[test]
fn worker_cli_and_evaluation_give_the_same_mesh() {
    let dir = tempfile::tempdir().unwrap();
    // A small face (the photo shrunk so the face is about 50 px wide), so the upscaler matters.
    let photo = Photo::load(fixture("grace_hopper.jpg")).unwrap();
    let small = image::imageops::resize(
        &photo.rgb,
        photo.width() / 3,
        photo.height() / 3,
        image::imageops::FilterType::Triangle,
    );
    let path = dir.path().join("small.png");
    small.save(&path).unwrap();
    let photo = Photo::load(&path).unwrap();
    for (method, upscaler) in [
        (Method::Vrn, Upscaler::Espcn),
        (Method::Morphable, Upscaler::Bilinear),
    ] {
        // The app's worker.
        let mut models = Models::default();
        let request = Request {
            face: None,
            shrink: None,
            upscaler,
            method,
        };
        let app = reconstruct(&mut models, &photo, &request, &|_, _| Ok(())).unwrap();
        // The CLI.
        let out = dir.path().join(format!("{method}.ply"));
        let status = Command::new(env!("CARGO_BIN_EXE_visage"))
            .args([
                "reconstruct",
                path.to_str().unwrap(),
                "--method",
                method.name(),
            ])
            .args(["--upscaler", upscaler.name(), "-o", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let cli = visage::pipeline::import::load(&out).unwrap();
        // The evaluation (`visage eval real`'s preparation: the face nearest the truth, here
        // the detected landmarks themselves).
        let detector = Detector::new(&Device::Cpu).unwrap();
        let found = prepare(&detector, &photo.rgb, 0, upscaler).unwrap();
        let truth: Vec<[f32; 3]> = to_68(&found.landmarks.points).unwrap();
        let prepared =
            visage::eval::real::prepare_for(&detector, &photo.rgb, &truth, upscaler).unwrap();
        let eval = load(method, &Device::Cpu, None)
            .unwrap()
            .reconstruct(&prepared.photo, &prepared.face)
            .unwrap()
            .mesh;
        assert!(app.vertex_count() > 400, "{method}");
        assert_eq!(app.positions, eval.positions, "{method}: app vs evaluation");
        assert_eq!(app.triangles, eval.triangles, "{method}: app vs evaluation");
        assert_eq!(app.positions, cli.positions, "{method}: app vs CLI");
    }
}

#[test]
fn a_simulated_32_px_face_spans_32_px() {
    let detector = Detector::new(&Device::Cpu).unwrap();
    for name in ["grace_hopper.jpg", "astronaut.png"] {
        let photo = Photo::load(fixture(name)).unwrap();
        let shrink = Shrink {
            face_width: 32.0,
            method: DegradeMethod::Bicubic,
        };
        let p = prepare_face(
            &detector,
            &photo.rgb,
            FacePick::Rank(0),
            Upscaler::Bicubic,
            Some(shrink),
        )
        .unwrap();
        let p68: Vec<[f32; 2]> = to_68(&p.landmarks.points)
            .unwrap()
            .iter()
            .map(|q| [q[0], q[1]])
            .collect();
        let w = face_width(&p68);
        // FaceMesh on the small photo measures the face it was shrunk by, within a pixel or two.
        assert!((w - 32.0).abs() < 2.5, "{name}: the face is {w} px wide");
        assert!(p.scale < 0.5, "{name}: scale {}", p.scale);
        // The crop is enlarged from the face's own few pixels.
        assert!(p.face.native_side < 100.0, "{name}: {}", p.face.native_side);
    }
}

#[test]
fn photo_frame_landmark_vertices_sit_on_the_detected_landmarks() {
    let detector = Detector::new(&Device::Cpu).unwrap();
    let method = load(Method::Landmarks, &Device::Cpu, None).unwrap();
    let photo = Photo::load(fixture("astronaut.png")).unwrap();
    let (p, result) = photo_to_mesh(
        &detector,
        method.as_ref(),
        &photo.rgb,
        FacePick::Rank(0),
        Upscaler::Bicubic,
        None,
    )
    .unwrap();
    let mesh = p.face.to_photo_frame(&result.mesh);
    let ids = result.landmark_vertices.clone().unwrap();
    let detected = to_68(&p.landmarks.points).unwrap();
    assert_eq!(ids.len(), 68);
    for (k, (&i, d)) in ids.iter().zip(&detected).enumerate() {
        let v = mesh.positions[i as usize];
        // Photo frame: x = column, y = -row.
        assert!(
            (v[0] - d[0]).abs() < 0.01 && (v[1] + d[1]).abs() < 0.01,
            "landmark {k}: vertex {v:?}, detected {d:?}"
        );
    }
    // The nose tip (30) is nearer the camera than the outer eye corners in the photo frame too.
    let z = |k: usize| mesh.positions[ids[k] as usize][2];
    assert!(z(30) > z(36) && z(30) > z(45));
    // The reconstruction's own landmarks are the same points.
    let own = result.landmarks68(&p.face);
    let q = p.face.photo_frame_point(own[30].unwrap());
    assert!((q[0] - detected[30][0]).abs() < 0.01);
}

#[test]
fn reconstruct_writes_photo_frame_meshes_and_landmarks() {
    let dir = tempfile::tempdir().unwrap();
    let (mesh, lm) = (dir.path().join("face.obj"), dir.path().join("lm.json"));
    let out = Command::new(env!("CARGO_BIN_EXE_visage"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args([
            "reconstruct",
            "tests/fixtures/astronaut.png",
            "--method",
            "vrn",
        ])
        .args(["--frame", "photo", "-o", mesh.to_str().unwrap()])
        .args(["--landmarks", lm.to_str().unwrap(), "--timings"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Stage times come from the pipeline's spans.
    for stage in ["detect", "landmarks", "crop", "network", "mesh"] {
        assert!(stdout.contains(&format!("{stage} ")), "{stage}: {stdout}");
    }
    let m = visage::pipeline::import::load(&mesh).unwrap();
    let (lo, hi) = m.bounds().unwrap();
    // The astronaut's face is around column 200-280, row 60-170 of the 512 px photo.
    assert!(lo[0] > 100.0 && hi[0] < 400.0, "{lo:?} {hi:?}");
    assert!(hi[1] < -20.0 && lo[1] > -300.0, "{lo:?} {hi:?}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lm).unwrap()).unwrap();
    assert_eq!(json["frame"], "photo");
    let points = json["points"].as_array().unwrap();
    assert_eq!(points.len(), 68);
    let covered: Vec<&serde_json::Value> = points.iter().filter(|p| !p.is_null()).collect();
    assert!(covered.len() > 50, "{} covered", covered.len());
    // Lifted onto the VRN surface: inside the mesh's bounds.
    for p in covered {
        let x = p[0].as_f64().unwrap() as f32;
        assert!(x >= lo[0] - 1.0 && x <= hi[0] + 1.0, "{p}");
    }
}
