//! Every mesh format written by Visage is read back by an independent parser crate with the same
//! counts, positions (within 1e-5) and colours.

use visage::pipeline::export::{MeshFormat, save};
use visage::pipeline::mesh::Mesh;

/// A small coloured, textured pyramid with non-trivial coordinates.
fn pyramid() -> Mesh {
    let positions = vec![
        [-1.25, -0.5, 0.125],
        [1.5, -0.5, 0.0],
        [0.0, 1.75, -0.25],
        [0.0, 0.0, 2.0625],
    ];
    let triangles = vec![[0, 2, 1], [0, 1, 3], [1, 2, 3], [2, 0, 3]];
    let mut m = Mesh::new(positions, triangles);
    m.colors = vec![
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.2, 0.4, 0.6],
    ];
    m
}

fn textured() -> Mesh {
    let mut m = pyramid();
    m.uvs = vec![[0.0, 0.0], [1.0, 0.0], [0.5, 1.0], [0.5, 0.5]];
    m.texture = Some(image::RgbImage::from_fn(8, 8, |x, y| {
        image::Rgb([(x * 30) as u8, (y * 30) as u8, 90])
    }));
    m
}

/// Per-triangle-corner values of a per-vertex attribute.
fn corners_of(mesh: &Mesh, values: &[[f32; 3]]) -> Vec<[f32; 3]> {
    mesh.triangles
        .iter()
        .flatten()
        .map(|&i| values[i as usize])
        .collect()
}

fn close(a: &[[f32; 3]], b: &[[f32; 3]], tol: f32) {
    assert_eq!(a.len(), b.len());
    for (p, q) in a.iter().zip(b) {
        for k in 0..3 {
            assert!((p[k] - q[k]).abs() <= tol, "{p:?} vs {q:?}");
        }
    }
}

#[test]
fn obj_round_trips_through_tobj() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("face.obj");
    let mesh = textured();
    let files = save(&mesh, &path).unwrap();
    assert_eq!(files.len(), 3, "obj + png + mtl: {files:?}");
    let opts = tobj::LoadOptions {
        triangulate: true,
        single_index: true,
        ..Default::default()
    };
    let (models, materials) = tobj::load_obj(&path, &opts).unwrap();
    let materials = materials.unwrap();
    assert_eq!(materials[0].diffuse_texture.as_deref(), Some("face.png"));
    assert!(dir.path().join("face.png").exists());
    let m = &models[0].mesh;
    // tobj renumbers vertices in face order: compare triangle corners.
    let corners = |flat: &[f32]| -> Vec<[f32; 3]> {
        m.indices
            .iter()
            .map(|&i| {
                let i = i as usize * 3;
                [flat[i], flat[i + 1], flat[i + 2]]
            })
            .collect()
    };
    assert_eq!(m.indices.len(), 12);
    close(
        &corners(&m.positions),
        &corners_of(&mesh, &mesh.positions),
        1e-5,
    );
    close(
        &corners(&m.vertex_color),
        &corners_of(&mesh, &mesh.colors),
        1e-5,
    );

    // OBJ flips v: our vertex 0 (first in face order) has uv (0, 0), so vt (0, 1).
    assert_eq!(&m.texcoords[..2], &[0.0, 1.0]);
}

#[test]
fn ply_round_trips_through_ply_rs() {
    use ply_rs_bw::parser::Parser;
    use ply_rs_bw::ply::{DefaultElement, Property};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("face.ply");
    let mesh = pyramid();
    save(&mesh, &path).unwrap();
    let mut f = std::fs::File::open(&path).unwrap();
    let ply = Parser::<DefaultElement>::new().read_ply(&mut f).unwrap();
    let vertices = &ply.payload["vertex"];
    assert_eq!(vertices.len(), 4);
    assert_eq!(ply.payload["face"].len(), 4);
    let get = |e: &DefaultElement, k: &str| match e[k] {
        Property::Float(v) => v,
        Property::UChar(v) => f32::from(v),
        ref other => panic!("{k}: {other:?}"),
    };
    for (v, (p, c)) in vertices.iter().zip(mesh.positions.iter().zip(&mesh.colors)) {
        close(&[[get(v, "x"), get(v, "y"), get(v, "z")]], &[*p], 1e-5);
        let rgb = [get(v, "red"), get(v, "green"), get(v, "blue")];
        let want = c.map(|x| (x * 255.0).round());
        assert_eq!(rgb, want);
    }
}

#[test]
fn stl_round_trips_through_stl_io() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("face.stl");
    let mesh = pyramid();
    save(&mesh, &path).unwrap();
    let stl = stl_io::read_stl(&mut std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(stl.faces.len(), 4);
    assert_eq!(stl.vertices.len(), 4);
    for face in &stl.faces {
        for &i in &face.vertices {
            let v = stl.vertices[i].0;
            assert!(
                mesh.positions
                    .iter()
                    .any(|p| (0..3).all(|k| (p[k] - v[k]).abs() < 1e-5))
            );
        }
    }
}

#[test]
fn glb_round_trips_through_gltf() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("face.glb");
    let mesh = textured();
    save(&mesh, &path).unwrap();
    let (doc, buffers, images) = gltf::import(&path).unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!((images[0].width, images[0].height), (8, 8));
    let prim = doc.meshes().next().unwrap().primitives().next().unwrap();
    let reader = prim.reader(|b| Some(&buffers[b.index()].0[..]));
    let positions: Vec<[f32; 3]> = reader.read_positions().unwrap().collect();
    let colors: Vec<[f32; 3]> = reader.read_colors(0).unwrap().into_rgb_f32().collect();
    let indices: Vec<u32> = reader.read_indices().unwrap().into_u32().collect();
    close(&positions, &mesh.positions, 1e-5);
    close(&colors, &mesh.colors, 1e-5);
    assert_eq!(indices.len(), 12);
    assert_eq!(reader.read_tex_coords(0).unwrap().into_f32().count(), 4);
}

#[test]
fn every_format_loads_back_with_visage_import() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = pyramid();
    for f in MeshFormat::ALL {
        let path = dir.path().join(format!("m.{}", f.extension()));
        save(&mesh, &path).unwrap();
        let back = visage::pipeline::import::load(&path).unwrap();
        assert_eq!(back.triangles.len(), 4, "{f:?}");
        close(
            &corners_of(&back, &back.positions),
            &corners_of(&mesh, &mesh.positions),
            1e-5,
        );
        if f != MeshFormat::Stl {
            close(
                &corners_of(&back, &back.colors),
                &corners_of(&mesh, &mesh.colors),
                1.0 / 255.0,
            );
        }
    }
}

#[test]
fn failed_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = pyramid();
    bad.triangles.push([0, 1, 99]);
    let path = dir.path().join("bad.ply");
    assert!(save(&bad, &path).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // A missing folder is an error naming the path, and nothing is created.
    let missing = dir.path().join("no/such/dir/face.stl");
    let err = save(&pyramid(), &missing).unwrap_err().to_string();
    assert!(err.contains("face.stl"), "{err}");
}
