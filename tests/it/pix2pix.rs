//! The pix2pix reconstructor with the committed weights on the two real fixture portraits: the
//! mesh must look like a face seen from the front. Run:
//! `cargo test --release --test pix2pix -- --nocapture` (prints extents and the nose tip).

use candle_core::Device;
use visage::pipeline::detect::Detector;
use visage::pipeline::reconstruct::pix2pix::Pix2pixReconstructor;
use visage::pipeline::reconstruct::pix2pix_model::CROP_SIDE;
use visage::pipeline::reconstruct::{Reconstructor, prepare};
use visage::pipeline::upscale::Upscaler;

fn model() -> Pix2pixReconstructor {
    let path = format!("{}/weights/pix2pix.safetensors", env!("CARGO_MANIFEST_DIR"));
    Pix2pixReconstructor::load(&Device::Cpu, Some(std::path::Path::new(&path))).unwrap()
}

use super::common::fixture_photo as fixture;

#[test]
fn fixture_meshes_are_faces() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let model = model();
    let side = CROP_SIDE as f32;
    for name in ["astronaut.png", "grace_hopper.jpg"] {
        let photo = fixture(name);
        let prepared = prepare(&det, &photo, 0, Upscaler::Bicubic).unwrap();
        let result = model.reconstruct(&prepared.photo, &prepared.face).unwrap();
        let mesh = &result.mesh;
        mesh.sanity_check().unwrap();
        let (lo, hi) = mesh.bounds().unwrap();
        let ext = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
        // The nose tip: the point closest to the camera, among points in the central part of the
        // crop (hair or shoulders at the border are not the face).
        let tip = mesh
            .positions
            .iter()
            .max_by(|a, b| a[2].total_cmp(&b[2]))
            .unwrap();
        eprintln!(
            "{name}: {} vertices, {} triangles, extents {ext:?}, nose tip {tip:?}",
            mesh.vertex_count(),
            mesh.triangles.len()
        );
        // A head fills a good part of the crop and has depth, but is not a spike field.
        assert!(
            ext[0] > 0.4 * side && ext[0] <= side,
            "{name}: width {}",
            ext[0]
        );
        assert!(
            ext[1] > 0.4 * side && ext[1] <= side,
            "{name}: height {}",
            ext[1]
        );
        assert!(
            ext[2] > 0.1 * side && ext[2] < 0.8 * side,
            "{name}: depth {}",
            ext[2]
        );
        assert!(
            mesh.triangles.len() > 1000,
            "{name}: {}",
            mesh.triangles.len()
        );
        // The closest point is the nose, near the middle of the crop (the eyes sit at 0.39 of
        // the side apart around the centre; the nose tip a little below the crop centre).
        assert!(
            (tip[0] - side / 2.0).abs() < 0.15 * side,
            "{name}: tip {tip:?}"
        );
        assert!(
            (tip[1] - side / 2.0).abs() < 0.2 * side,
            "{name}: tip {tip:?}"
        );
    }
}

#[test]
fn small_faces_go_through_the_upscaler() {
    let det = Detector::new(&Device::Cpu).unwrap();
    let model = model();
    let photo = fixture("grace_hopper.jpg");
    // Shrink the portrait so the face crop is well under 128 px.
    let small = image::imageops::resize(&photo, 128, 150, image::imageops::FilterType::Triangle);
    let mut crops = Vec::new();
    for upscaler in Upscaler::ALL {
        let prepared = prepare(&det, &small, 0, upscaler).unwrap();
        let face = &prepared.face;
        assert_eq!(face.crop.image.dimensions(), (CROP_SIDE, CROP_SIDE));
        assert!(face.crop.crop_from_photo.scale() > 1.5, "{upscaler}");
        let result = model.reconstruct(&prepared.photo, face).unwrap();
        assert!(result.mesh.triangles.len() > 500, "{upscaler}");
        crops.push(face.crop.image.clone());
    }
    // Each upscaler gives the method a different input.
    for i in 0..crops.len() {
        for j in i + 1..crops.len() {
            assert_ne!(
                crops[i], crops[j],
                "upscalers {i} and {j} gave the same crop"
            );
        }
    }
}

#[test]
fn the_prior_brings_the_face_towards_the_fit() {
    let guided = model();
    let alone = model().with_prior_weight(0.0);
    super::common::assert_prior_pulls_towards_the_fit(&guided, &alone);
}

/// Closed loops of boundary edges (edges of one triangle): the outline plus one per hole.
fn border_loops(mesh: &visage::pipeline::mesh::Mesh) -> usize {
    let mut uses = std::collections::HashMap::new();
    for t in &mesh.triangles {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            *uses.entry((a.min(b), a.max(b))).or_insert(0) += 1;
        }
    }
    let mut parent: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    fn root(parent: &mut std::collections::HashMap<u32, u32>, v: u32) -> u32 {
        let p = *parent.entry(v).or_insert(v);
        if p == v {
            return v;
        }
        let r = root(parent, p);
        parent.insert(v, r);
        r
    }
    for (&(a, b), &n) in &uses {
        if n == 1 {
            let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
            parent.insert(ra, rb);
        }
    }
    let vertices: Vec<u32> = parent.keys().copied().collect();
    let roots: std::collections::HashSet<u32> =
        vertices.into_iter().map(|v| root(&mut parent, v)).collect();
    roots.len()
}

#[test]
fn the_prior_closes_the_face() {
    // Inside the fit's coverage the mesh is one sheet: only holes at the hair and the collar
    // (outside it) may remain.
    let det = Detector::new(&Device::Cpu).unwrap();
    let guided = model();
    let alone = model().with_prior_weight(0.0);
    for name in ["astronaut.png", "grace_hopper.jpg"] {
        let photo = fixture(name);
        let p = prepare(&det, &photo, 0, Upscaler::Bicubic).unwrap();
        let loops = |m: &Pix2pixReconstructor| {
            border_loops(&m.reconstruct(&p.photo, &p.face).unwrap().mesh)
        };
        let (before, after) = (loops(&alone), loops(&guided));
        eprintln!("{name}: border loops {before} -> {after}");
        assert!(after < before && after <= 4, "{name}: {before} -> {after}");
    }
}
