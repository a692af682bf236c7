//! The real-photo front end against MediaPipe's own runtime: detections, ROIs and landmarks on
//! the fixture photos, plus the no-face and several-faces cases.
//!
//! Reference numbers: tests/fixtures/mediapipe_reference.json, written by
//! `/work/venv-tools/bin/python tools/reference_mediapipe.py` (mediapipe==0.10.14, its
//! face_landmark_front_cpu graph in static-image mode).
//!
//! Run: `cargo test --release --test frontend -- --nocapture` (prints the measured errors).

use candle_core::Device;
use image::RgbImage;
use serde_json::Value;
use visage::pipeline::detect::{
    DetectError, DetectOptions, Detector, Face, Roi, decode::Network, landmarks68,
};

use super::common::fixture_photo as fixture;

fn reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/mediapipe_reference.json")).unwrap()
}

fn f(v: &Value) -> f32 {
    v.as_f64().unwrap() as f32
}

/// A detector with one whole-photo pass of `network`, as the wheel runs it.
fn wheel_like(network: Network) -> Detector {
    let mut det = Detector::new(&Device::Cpu).unwrap();
    det.options = DetectOptions::wheel(network);
    det
}

/// Largest normalised difference of box and keypoints between a face and a wheel detection
/// (`box`: xmin, ymin, width, height; `keypoints`: 6 x (x, y); all relative to the photo).
fn box_and_keypoint_error(face: &Face, want: &Value, w: f32, h: f32) -> (f32, f32) {
    let b = &want["box"];
    let mut box_err = 0f32;
    for (k, (got, scale)) in face.bbox.iter().zip([w, h, w, h]).enumerate() {
        box_err = box_err.max((got / scale - f(&b[k])).abs());
    }
    let mut kp_err = 0f32;
    for (k, kp) in face.keypoints.iter().enumerate() {
        kp_err = kp_err.max((kp[0] / w - f(&want["keypoints"][k][0])).abs());
        kp_err = kp_err.max((kp[1] / h - f(&want["keypoints"][k][1])).abs());
    }
    (box_err, kp_err)
}

/// Both BlazeFace networks against the wheel's face-detection solution
/// (`tests/fixtures/mediapipe_full_range.json`, tools/reference_mediapipe.py): every detection
/// on the fixtures and on a photo of three faces 27-60 px wide, same scores, boxes, keypoints.
#[test]
fn both_detectors_match_the_wheels_face_detection() {
    let reference: Value =
        serde_json::from_str(include_str!("../fixtures/mediapipe_full_range.json")).unwrap();
    for (network, key) in [(Network::ShortRange, "short"), (Network::FullRange, "full")] {
        let det = wheel_like(network);
        for name in [
            "astronaut.png",
            "grace_hopper.webp",
            "blazeface_full_input.png",
        ] {
            let img = fixture(name);
            let (w, h) = (img.width() as f32, img.height() as f32);
            let want = reference[name][key].as_array().unwrap();
            let mut faces = det.detect(&img).unwrap();
            assert_eq!(faces.len(), want.len(), "{name} {key}: {faces:?}");
            faces.sort_by(|a, b| b.score.total_cmp(&a.score));
            let (mut score_err, mut box_err, mut kp_err) = (0f32, 0f32, 0f32);
            for (face, want) in faces.iter().zip(want) {
                score_err = score_err.max((face.score - f(&want["score"])).abs());
                let (b, k) = box_and_keypoint_error(face, want, w, h);
                (box_err, kp_err) = (box_err.max(b), kp_err.max(k));
            }
            println!(
                "{key} range, {name}: {} faces, score err {score_err:.1e}, box {box_err:.1e}, keypoints {kp_err:.1e}",
                faces.len()
            );
            assert!(score_err < 1e-3, "{name} {key}: score error {score_err}");
            assert!(
                box_err < 1e-3 && kp_err < 1e-3,
                "{name} {key}: box {box_err}, keypoints {kp_err}"
            );
        }
    }
}

/// The face-mesh graph's detection (short range), box, keypoints and ROI of the one face in
/// each fixture.
#[test]
fn detections_and_roi_match_the_wheel() {
    let det = wheel_like(Network::ShortRange);
    for name in ["grace_hopper.webp", "astronaut.png"] {
        let img = fixture(name);
        let (w, h) = (img.width() as f32, img.height() as f32);
        let r = &reference()[name];
        let faces = det.faces(&img).unwrap();
        assert_eq!(faces.len(), 1, "{name}: {faces:?}");
        let (face, want) = (&faces[0], &r["detections"][0]);
        let score_err = (face.score - f(&want["score"])).abs();
        let (box_err, kp_err) = box_and_keypoint_error(face, want, w, h);
        let roi = Roi::from_face(face).normalized(img.width(), img.height());
        let rr = &r["rois"][0];
        let keys = ["x_center", "y_center", "width", "height", "rotation"];
        let roi_err = roi
            .iter()
            .zip(keys)
            .map(|(g, k)| (g - f(&rr[k])).abs())
            .fold(0.0, f32::max);
        println!(
            "{name}: score err {score_err:.2e}, box {box_err:.2e}, keypoints {kp_err:.2e}, roi {roi_err:.2e}"
        );
        assert!(
            score_err < 1e-3,
            "{name}: score {} vs {}",
            face.score,
            want["score"]
        );
        assert!(
            box_err < 1e-3 && kp_err < 1e-3,
            "{name}: box {box_err}, keypoints {kp_err}"
        );
        assert!(roi_err < 1e-3, "{name}: roi {roi:?} vs {rr}");
    }
}

/// The 468 landmarks within 0.5 px (x, y) of the wheel's, z within 1 px.
#[test]
fn landmarks_match_the_wheel() {
    let det = wheel_like(Network::ShortRange);
    for name in ["grace_hopper.webp", "astronaut.png"] {
        let img = fixture(name);
        let want = &reference()[name]["landmarks"][0];
        let face = &det.faces(&img).unwrap()[0];
        let marks = det.landmarks(&img, face).unwrap();
        assert_eq!(marks.points.len(), 468);
        let (mut xy, mut z, mut mean) = (0f32, 0f32, 0f32);
        for (p, q) in marks.points.iter().zip(want.as_array().unwrap()) {
            let e = (p[0] - f(&q[0])).hypot(p[1] - f(&q[1]));
            xy = xy.max(e);
            mean += e / 468.0;
            z = z.max((p[2] - f(&q[2])).abs());
        }
        println!("{name}: landmark error max {xy:.3} px, mean {mean:.3} px, z max {z:.3} px");
        assert!(xy < 0.5, "{name}: max landmark error {xy} px");
        assert!(z < 1.0, "{name}: max z error {z} px");
        assert!(marks.presence > 0.9);
    }
}

/// A blank image and a textured wall give `NoFace`, not a guess.
#[test]
fn no_face_is_an_error() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let blank = RgbImage::from_pixel(300, 200, image::Rgb([128, 128, 128]));
    let wall = RgbImage::from_fn(400, 300, |x, y| {
        // Bricks: mortar lines every 20 rows, staggered every 50 columns.
        let mortar = y % 20 < 2 || (x + if (y / 20) % 2 == 0 { 0 } else { 25 }) % 50 < 2;
        let v = if mortar {
            200
        } else {
            120 + ((x * 7 + y * 13) % 23) as u8
        };
        image::Rgb([v, v / 2 + 20, v / 3])
    });
    let small_blank = RgbImage::from_pixel(64, 64, image::Rgb([30, 30, 30]));
    for (what, img) in [
        ("blank", blank),
        ("wall", wall),
        ("small blank", small_blank),
    ] {
        match det.faces(&img) {
            Err(DetectError::NoFace { .. }) => {}
            other => panic!("{what}: expected NoFace, got {other:?}"),
        }
    }
}

/// Two fixtures side by side: both faces, each matching its own photo's detection.
#[test]
fn several_faces_are_all_returned() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let (a, b) = (fixture("grace_hopper.webp"), fixture("astronaut.png"));
    let mut both = RgbImage::new(a.width() + b.width(), a.height().max(b.height()));
    image::imageops::replace(&mut both, &a, 0, 0);
    image::imageops::replace(&mut both, &b, i64::from(a.width()), 0);
    let faces = det.faces(&both).unwrap();
    assert_eq!(faces.len(), 2, "{faces:?}");
    assert!(faces[0].score >= faces[1].score);
    let centre_x = |i: usize| faces[i].bbox[0] + faces[i].bbox[2] / 2.0;
    let (left, right) = if centre_x(0) < centre_x(1) {
        (0, 1)
    } else {
        (1, 0)
    };
    assert!(centre_x(left) < a.width() as f32 && centre_x(right) > a.width() as f32);
}

/// The 68-point table puts subject-right points on the photo's left on a frontal face, the
/// chin lowest, the nose between the eyes.
#[test]
fn landmarks68_are_anatomically_ordered() {
    let want = &reference()["grace_hopper.webp"]["landmarks"][0];
    let pts: Vec<[f32; 2]> = want
        .as_array()
        .unwrap()
        .iter()
        .map(|q| [f(&q[0]), f(&q[1])])
        .collect();
    let p = landmarks68::to_68(&pts).unwrap();
    for i in 0..8 {
        assert!(p[i][0] < p[8][0] && p[16 - i][0] > p[8][0], "jaw {i}");
    }
    assert!(
        p.iter().all(|q| q[1] <= p[8][1] + 1.0),
        "chin is the lowest point"
    );
    assert!(
        p[36][0] < p[39][0] && p[39][0] < p[30][0] && p[30][0] < p[42][0] && p[42][0] < p[45][0]
    );
    assert!(p[17][0] < p[21][0] && p[22][0] < p[26][0] && p[21][1] < p[39][1]);
    assert!(p[48][0] < p[51][0] && p[51][0] < p[54][0] && p[51][1] < p[57][1]);
    assert!(p[27][1] < p[30][1] && p[30][1] < p[33][1] && p[33][1] < p[51][1]);
    assert!(p[62][1] < p[66][1] && p[60][0] < p[64][0]);
}

/// The `landmarks` method: 468 coloured vertices in the crop frame, facing the camera.
#[test]
fn landmark_mesh_faces_the_camera() {
    use visage::pipeline::reconstruct::{Method, load, prepare};
    use visage::pipeline::upscale::Upscaler;
    let det = Detector::new(&Device::Cpu).unwrap();
    let photo = fixture("grace_hopper.webp");
    let prepared = prepare(&det, &photo, 0, Upscaler::Bicubic).unwrap();
    let method = load(Method::Landmarks, &Device::Cpu, None).unwrap();
    let result = method.reconstruct(&prepared.photo, &prepared.face).unwrap();
    let mesh = &result.mesh;
    assert_eq!(
        (
            mesh.positions.len(),
            mesh.triangles.len(),
            mesh.colors.len()
        ),
        (468, 852, 468)
    );
    let (lo, hi) = mesh.bounds().unwrap();
    // The face fills most of the 128-pixel crop (eye corners 0.39 of the side apart).
    assert!(
        lo[0] > 0.0 && hi[0] < 128.0 && lo[1] > 0.0 && hi[1] < 128.0,
        "{lo:?} {hi:?}"
    );
    assert!(hi[0] - lo[0] > 60.0, "{lo:?} {hi:?}");
    // The nose tip (vertex 1) is nearer the camera than the ear-side oval points, and above the chin.
    let p = &mesh.positions;
    assert!(p[1][2] > p[234][2] + 5.0 && p[1][2] > p[454][2] + 5.0);
    assert!(p[1][1] > p[152][1]);
    let facing = mesh
        .triangles
        .iter()
        .filter(|t| {
            let [a, b, c] = t.map(|i| p[i as usize]);
            (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) > 0.0
        })
        .count();
    assert!(facing > 800, "only {facing} of 852 triangles face +Z");
}

/// Mean landmark distance to the wheel's full-resolution landmarks (scaled by `s`), in % of the
/// outer interocular distance (points 33 and 263).
fn nme(points: &[[f32; 3]], want: &Value, s: f32, offset: [f32; 2]) -> f32 {
    let q: Vec<[f32; 2]> = want
        .as_array()
        .unwrap()
        .iter()
        .map(|q| [f(&q[0]), f(&q[1])])
        .collect();
    let iod = (q[33][0] - q[263][0]).hypot(q[33][1] - q[263][1]);
    let mean: f32 = points
        .iter()
        .zip(&q)
        .map(|(p, q)| ((p[0] - offset[0]) * s - q[0]).hypot((p[1] - offset[1]) * s - q[1]))
        .sum::<f32>()
        / 468.0;
    100.0 * mean / iod
}

/// A 32-pixel-wide face is found and landmarked: as a small photo, and inside a large one.
#[test]
fn a_32_pixel_face_is_found_and_landmarked() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let img = fixture("grace_hopper.webp");
    let want = &reference()["grace_hopper.webp"]["landmarks"][0];
    let face_width =
        f(&reference()["grace_hopper.webp"]["detections"][0]["box"][2]) * img.width() as f32;
    let s = face_width / 32.0;
    let (w, h) = (
        (img.width() as f32 / s).round() as u32,
        (img.height() as f32 / s).round() as u32,
    );
    let small = image::imageops::resize(&img, w, h, image::imageops::FilterType::CatmullRom);
    let sx = img.width() as f32 / w as f32;
    let face = &det.faces(&small).unwrap()[0];
    assert!((face.bbox[2] - 32.0).abs() < 4.0, "{face:?}");
    let err = nme(
        &det.landmarks(&small, face).unwrap().points,
        want,
        sx,
        [0.0, 0.0],
    );
    println!("32 px face, small photo: NME {err:.2} % IOD");
    assert!(err < 6.0, "{err}");
    // The same small face in a 600 x 600 grey photo: the whole-photo pass sees it at 7 px.
    let mut canvas = RgbImage::from_pixel(600, 600, image::Rgb([128, 128, 128]));
    image::imageops::replace(&mut canvas, &small, 300, 250);
    let faces = det.faces(&canvas).unwrap();
    let err = nme(
        &det.landmarks(&canvas, &faces[0]).unwrap().points,
        want,
        sx,
        [300.0, 250.0],
    );
    println!("32 px face in a 600 px photo: NME {err:.2} % IOD");
    assert!(err < 6.0, "{err}");
    // In a 1080p frame the whole-photo passes see it at 3 px: the tiles find it.
    let mut frame = RgbImage::from_pixel(1920, 1080, image::Rgb([128, 128, 128]));
    image::imageops::replace(&mut frame, &small, 1500, 700);
    let faces = det.faces(&frame).unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
    assert!((faces[0].bbox[2] - 32.0).abs() < 5.0, "{faces:?}");
    let err = nme(
        &det.landmarks(&frame, &faces[0]).unwrap().points,
        want,
        sx,
        [1500.0, 700.0],
    );
    println!("32 px face in a 1920 x 1080 photo: NME {err:.2} % IOD");
    assert!(err < 6.0, "{err}");
    let mut plain = Detector::new(&Device::Cpu).unwrap();
    plain.options = DetectOptions::wheel(Network::FullRange);
    assert!(plain.detect(&frame).unwrap().is_empty());
}

/// When BlazeFace finds nothing in a small photo, the whole photo is tried as one face crop.
#[test]
fn small_photo_fallback_finds_the_face() {
    let mut det = Detector::new(&Device::Cpu).unwrap();
    // Make BlazeFace find nothing (scores are below 1), so only the fallback can answer.
    det.options.min_score = Some(1.1);
    let img = fixture("astronaut.png");
    let want = &reference()["astronaut.png"]["landmarks"][0];
    // The face region, 3 px per 1 of the original: the face is about 32 px wide.
    let crop = image::imageops::crop_imm(&img, 120, 40, 210, 210).to_image();
    let small = image::imageops::resize(&crop, 70, 70, image::imageops::FilterType::CatmullRom);
    assert!(det.detect(&small).unwrap().is_empty());
    let faces = det.faces(&small).unwrap();
    let marks = det.landmarks(&small, &faces[0]).unwrap();
    let err = nme(&marks.points, want, 3.0, [-40.0, -40.0 / 3.0]);
    println!("fallback on a 70 px crop: NME {err:.2} % IOD");
    assert!(err < 8.0, "{err}");
    det.options.whole_image_max_side = 0;
    assert!(matches!(det.faces(&small), Err(DetectError::NoFace { .. })));
}

/// FaceMesh's landmarks of the first face found in `grace_hopper.webp`.
fn grace_hopper_landmarks() -> visage::pipeline::detect::Landmarks {
    let det = Detector::new(&Device::Cpu).unwrap();
    let photo = fixture("grace_hopper.webp");
    let face = det.detect(&photo).unwrap().remove(0);
    det.landmarks(&photo, &face).unwrap()
}

/// The ridge map's 68 points with the jaw in the 3D-contour convention (the committed
/// regressor): the inner 51 are FaceMesh's own vertices, the jaw runs from ear to ear below the
/// mouth, and `visage detect --landmarks p68-ridge` prints them.
#[test]
fn contour_68_jaw_runs_under_the_mouth() {
    use visage::pipeline::detect::contour68::contour_68;
    let lm = grace_hopper_landmarks();
    let c = contour_68(&lm.points).unwrap().unwrap();
    let fixed = visage::pipeline::detect::landmarks68::to_68(&lm.points).unwrap();
    assert_eq!(c.len(), 68);
    for k in 17..68 {
        assert_eq!(
            [c[k][0], c[k][1]],
            [fixed[k][0], fixed[k][1]],
            "inner point {k}"
        );
    }
    // Jaw: left to right, the chin (8) below the lower lip (57), the ends level with the eyes'
    // height or below.
    assert!(
        c[0][0] < c[8][0] && c[8][0] < c[16][0],
        "{:?} {:?} {:?}",
        c[0],
        c[8],
        c[16]
    );
    assert!(c[8][1] > c[57][1] + 5.0, "chin {:?} lip {:?}", c[8], c[57]);
    assert!(c[0][1] > c[36][1] - 10.0 && c[16][1] > c[45][1] - 10.0);
    // It differs from the fixed map's silhouette jaw.
    let moved = (0..17).filter(|&k| (c[k][0] - fixed[k][0]).hypot(c[k][1] - fixed[k][1]) > 1.0);
    assert!(moved.count() > 8);
}

/// The front end's 68 points (`visage detect --landmarks p68`): the landmark vertices of the
/// morphable model fitted to FaceMesh's points. They sit on the face FaceMesh found (the eye
/// corners within a few pixels of FaceMesh's), the jaw runs from ear to ear below the mouth,
/// and the nose tip is nearer the camera than the jaw's ends.
#[test]
fn fitted_68_points_sit_on_the_face() {
    use visage::pipeline::reconstruct::morphable::MorphableModel;
    use visage::pipeline::reconstruct::morphable::landmarks::fitted_68;
    let lm = grace_hopper_landmarks();
    let f = fitted_68(MorphableModel::shared().unwrap(), &lm.points).unwrap();
    let fixed = visage::pipeline::detect::landmarks68::to_68(&lm.points).unwrap();
    assert_eq!(f.len(), 68);
    for k in [36, 39, 42, 45] {
        let d = (f[k][0] - fixed[k][0]).hypot(f[k][1] - fixed[k][1]);
        assert!(d < 6.0, "eye corner {k}: {:?} vs {:?}", f[k], fixed[k]);
    }
    assert!(
        f[0][0] < f[8][0] && f[8][0] < f[16][0],
        "{:?} {:?} {:?}",
        f[0],
        f[8],
        f[16]
    );
    assert!(f[8][1] > f[57][1] + 5.0, "chin {:?} lip {:?}", f[8], f[57]);
    assert!(
        f[30][2] > f[0][2] && f[30][2] > f[16][2],
        "nose {:?} jaw {:?} {:?}",
        f[30],
        f[0],
        f[16]
    );
}
