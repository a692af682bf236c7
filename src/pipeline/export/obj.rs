//! Wavefront OBJ: `v x y z [r g b]` (vertex colours as the common extension that Blender and
//! MeshLab read), `vn`, `vt` and a material library with a PNG texture when the mesh has one.

use super::super::mesh::Mesh;
use super::{ExportError, atomic, encode_png};
use std::io::Write;
use std::path::{Path, PathBuf};

pub(super) fn write(mesh: &Mesh, path: &Path) -> Result<Vec<PathBuf>, ExportError> {
    let mut written = Vec::new();
    let mtl_name = if let Some(texture) = &mesh.texture {
        let png_path = path.with_extension("png");
        let mtl_path = path.with_extension("mtl");
        let png = encode_png(texture, &png_path)?;
        atomic::write(&png_path, |w| w.write_all(&png))?;
        let png_file = file_name(&png_path);
        atomic::write(&mtl_path, |w| {
            write!(
                w,
                "# written by Visage\nnewmtl face\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nillum 1\nmap_Kd {png_file}\n"
            )
        })?;
        written.extend([png_path, mtl_path.clone()]);
        Some(file_name(&mtl_path))
    } else {
        None
    };
    atomic::write(path, |w| write_obj(mesh, mtl_name.as_deref(), w))?;
    written.insert(0, path.to_path_buf());
    Ok(written)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn write_obj(mesh: &Mesh, mtl: Option<&str>, w: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        w,
        "# written by Visage: {} vertices, {} triangles",
        mesh.positions.len(),
        mesh.triangles.len()
    )?;
    if let Some(mtl) = mtl {
        writeln!(w, "mtllib {mtl}")?;
    }
    for (i, p) in mesh.positions.iter().enumerate() {
        match mesh.colors.get(i) {
            Some(c) => writeln!(w, "v {} {} {} {} {} {}", p[0], p[1], p[2], c[0], c[1], c[2])?,
            None => writeln!(w, "v {} {} {}", p[0], p[1], p[2])?,
        }
    }
    for n in &mesh.normals {
        writeln!(w, "vn {} {} {}", n[0], n[1], n[2])?;
    }
    let textured = mtl.is_some();
    if textured {
        // OBJ's texture origin is bottom-left; ours is top-left.
        for uv in &mesh.uvs {
            writeln!(w, "vt {} {}", uv[0], 1.0 - uv[1])?;
        }
        writeln!(w, "usemtl face")?;
    }
    let has_normals = !mesh.normals.is_empty();
    for t in &mesh.triangles {
        let [a, b, c] = t.map(|i| i + 1);
        match (textured, has_normals) {
            (true, true) => writeln!(w, "f {a}/{a}/{a} {b}/{b}/{b} {c}/{c}/{c}")?,
            (true, false) => writeln!(w, "f {a}/{a} {b}/{b} {c}/{c}")?,
            (false, true) => writeln!(w, "f {a}//{a} {b}//{b} {c}//{c}")?,
            (false, false) => writeln!(w, "f {a} {b} {c}")?,
        }
    }
    Ok(())
}
