//! The committed VRN weights on the two real fixture portraits: the mesh is one closed, plausibly
//! sized head in the 128 px crop frame, and its point nearest the camera in the middle of the face
//! is the nose tip (FaceMesh's landmark 4, 68-point id 30).
//!
//! With the morphable prior (the default) its face lies closer to the 3DMM fit than VRN's own.
//!
//! Run: `cargo test --release --test it vrn -- --nocapture` (prints extents and the nose offset).

use candle_core::Device;
use visage::pipeline::detect::Detector;
use visage::pipeline::photo::Photo;
use visage::pipeline::reconstruct::vrn::{VrnError, VrnModel, VrnReconstructor};
use visage::pipeline::reconstruct::{Reconstructor, prepare};
use visage::pipeline::upscale::Upscaler;

#[test]
fn fixture_meshes_are_faces_with_the_nose_in_front() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let vrn = VrnReconstructor::load(&Device::Cpu, None).unwrap();
    for name in ["astronaut.png", "grace_hopper.jpg"] {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let photo = Photo::load(path).unwrap().rgb;
        let prepared = prepare(&det, &photo, 0, Upscaler::Bicubic).unwrap();
        let result = vrn.reconstruct(&prepared.photo, &prepared.face).unwrap();
        let mesh = &result.mesh;
        mesh.sanity_check().unwrap();
        assert_eq!(mesh.colors.len(), mesh.vertex_count());
        let (lo, hi) = mesh.bounds().unwrap();
        let ext = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
        println!("{name}: {} vertices, extents {ext:?}", mesh.vertex_count());
        // A head in a 128 px crop whose eye corners are ~50 px apart.
        assert!((60.0..=130.0).contains(&ext[0]), "{name}: width {ext:?}");
        assert!((60.0..=130.0).contains(&ext[1]), "{name}: height {ext:?}");
        assert!((40.0..=130.0).contains(&ext[2]), "{name}: depth {ext:?}");
        // The nose tip in the crop frame (x right, y up).
        let q = prepared.face.landmarks68[30];
        let nose_xy = [q[0], 128.0 - q[1]];
        let front = mesh
            .positions
            .iter()
            .filter(|p| (32.0..96.0).contains(&p[0]) && (32.0..96.0).contains(&p[1]))
            .max_by(|a, b| a[2].total_cmp(&b[2]))
            .unwrap();
        let off = ((front[0] - nose_xy[0]).powi(2) + (front[1] - nose_xy[1]).powi(2)).sqrt();
        println!("{name}: nearest point {front:?}, nose tip at {nose_xy:?}, {off:.1} px apart");
        assert!(
            off < 10.0,
            "{name}: the front-most point is {off} px from the nose tip"
        );
    }
}

#[test]
fn committed_weights_give_a_volume_of_the_right_shape() {
    let model = VrnModel::embedded(&Device::Cpu).unwrap();
    let crop = image::RgbImage::from_pixel(128, 128, image::Rgb([120, 90, 80]));
    let lms = vec![[64.0f32, 64.0]; 68];
    let v = model.volume(&crop, &lms).unwrap();
    assert_eq!(v.dims, [64, 64, 32]);
    // Sigmoid outputs: this only catches NaN from broken weights.
    assert!(v.data.iter().all(|p| !p.is_nan()));
    // Wrong crop sizes are refused, not mis-read.
    let small = image::RgbImage::new(100, 100);
    assert!(model.volume(&small, &lms).is_err());
    assert!(matches!(
        model.volume(&small, &lms),
        Err(VrnError::CropSize {
            got: (100, 100),
            want: 128
        })
    ));
}

#[test]
fn the_prior_brings_the_face_towards_the_fit() {
    let guided = VrnReconstructor::load(&Device::Cpu, None).unwrap();
    let alone = guided.clone().with_prior_weight(0.0);
    super::common::assert_prior_pulls_towards_the_fit(&guided, &alone);
}
