//! Reading mesh files back (OBJ, PLY, STL, GLB) for `visage mesh-info`, `visage render` and the
//! viewer, through the well-kept parser crates `tobj`, `ply-rs-bw`, `stl_io` and `gltf`.
//! Read: triangle geometry, normals, vertex colours, and a texture with its UVs (OBJ: the first
//! material's `map_Kd` image beside the file; GLB: the base-colour texture of the first
//! material).

use super::export::MeshFormat;
use super::mesh::Mesh;
use std::path::{Path, PathBuf};

/// Why a mesh file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The extension names no known format.
    #[error("{path}: unknown mesh format; use .obj, .ply, .stl or .glb")]
    UnknownFormat {
        /// File path.
        path: PathBuf,
    },
    /// The parser rejected the file.
    #[error("{path}: cannot read the mesh: {reason}")]
    Parse {
        /// File path.
        path: PathBuf,
        /// Parser message.
        reason: String,
    },
}

/// Loads a mesh file, format chosen by extension. Normals are recomputed when absent.
///
/// # Errors
/// [`ImportError`] naming the file.
pub fn load(path: &Path) -> Result<Mesh, ImportError> {
    let format = MeshFormat::from_path(path).ok_or_else(|| ImportError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let parse = |reason: String| ImportError::Parse {
        path: path.to_path_buf(),
        reason,
    };
    let mut mesh = match format {
        MeshFormat::Obj => load_obj(path),
        MeshFormat::Ply => load_ply(path),
        MeshFormat::Stl => load_stl(path),
        MeshFormat::Glb => load_glb(path),
    }
    .map_err(parse)?;
    if mesh.normals.len() != mesh.positions.len() {
        mesh.compute_normals();
    }
    mesh.sanity_check().map_err(|e| ImportError::Parse {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(mesh)
}

fn triples<T: Copy>(flat: &[T]) -> Vec<[T; 3]> {
    flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect()
}

fn load_obj(path: &Path) -> Result<Mesh, String> {
    let options = tobj::LoadOptions {
        triangulate: true,
        single_index: true,
        ..tobj::LoadOptions::default()
    };
    let (models, materials) = tobj::load_obj(path, &options).map_err(|e| e.to_string())?;
    let mut mesh = Mesh::default();
    for model in models {
        let m = model.mesh;
        let base = u32::try_from(mesh.positions.len()).map_err(|e| e.to_string())?;
        mesh.positions.extend(triples(&m.positions));
        mesh.normals.extend(triples(&m.normals));
        mesh.colors.extend(triples(&m.vertex_color));
        // OBJ's v points up; the mesh's UVs run down the image.
        mesh.uvs
            .extend(m.texcoords.chunks_exact(2).map(|c| [c[0], 1.0 - c[1]]));
        mesh.triangles
            .extend(triples(&m.indices).into_iter().map(|t| t.map(|i| i + base)));
    }
    let texture = materials
        .ok()
        .and_then(|ms| ms.into_iter().find_map(|m| m.diffuse_texture));
    match texture {
        Some(name) if mesh.uvs.len() == mesh.positions.len() => {
            let file = path.parent().unwrap_or(Path::new("")).join(name.trim());
            let image =
                image::open(&file).map_err(|e| format!("texture {}: {e}", file.display()))?;
            mesh.texture = Some(image.to_rgb8());
        }
        _ => mesh.uvs.clear(),
    }
    Ok(mesh)
}

fn load_ply(path: &Path) -> Result<Mesh, String> {
    use ply_rs_bw::parser::Parser;
    use ply_rs_bw::ply::{DefaultElement, Property};
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let ply = Parser::<DefaultElement>::new()
        .read_ply(&mut std::io::BufReader::new(file))
        .map_err(|e| e.to_string())?;
    let float = |e: &DefaultElement, k: &str| match e.get(k) {
        Some(Property::Float(v)) => Some(*v),
        Some(Property::Double(v)) => Some(*v as f32),
        Some(Property::UChar(v)) => Some(f32::from(*v) / 255.0),
        _ => None,
    };
    let mut mesh = Mesh::default();
    for v in ply.payload.get("vertex").map_or(&[][..], Vec::as_slice) {
        let get = |k| float(v, k).ok_or_else(|| format!("vertex without {k}"));
        mesh.positions.push([get("x")?, get("y")?, get("z")?]);
        if let (Some(x), Some(y), Some(z)) = (float(v, "nx"), float(v, "ny"), float(v, "nz")) {
            mesh.normals.push([x, y, z]);
        }
        if let (Some(r), Some(g), Some(b)) = (float(v, "red"), float(v, "green"), float(v, "blue"))
        {
            mesh.colors.push([r, g, b]);
        }
    }
    for f in ply.payload.get("face").map_or(&[][..], Vec::as_slice) {
        let idx: Vec<u32> = match f.get("vertex_indices").or_else(|| f.get("vertex_index")) {
            Some(Property::ListInt(l)) => l
                .iter()
                .map(|&i| u32::try_from(i).unwrap_or(u32::MAX))
                .collect(),
            Some(Property::ListUInt(l)) => l.clone(),
            _ => return Err("face without vertex_indices".into()),
        };
        // Fan-triangulate polygons.
        for k in 1..idx.len().saturating_sub(1) {
            mesh.triangles.push([idx[0], idx[k], idx[k + 1]]);
        }
    }
    Ok(mesh)
}

fn load_stl(path: &Path) -> Result<Mesh, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let stl = stl_io::read_stl(&mut std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
    let positions = stl.vertices.iter().map(|v| v.0).collect();
    let triangles = stl
        .faces
        .iter()
        .map(|f| f.vertices.map(|i| u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    Ok(Mesh::new(positions, triangles))
}

fn load_glb(path: &Path) -> Result<Mesh, String> {
    let (doc, buffers, images) = gltf::import(path).map_err(|e| e.to_string())?;
    let mut mesh = Mesh::default();
    for primitive in doc
        .meshes()
        .flat_map(|m| m.primitives().collect::<Vec<_>>())
    {
        let reader = primitive.reader(|b| buffers.get(b.index()).map(|d| &d.0[..]));
        let base = u32::try_from(mesh.positions.len()).map_err(|e| e.to_string())?;
        let positions: Vec<[f32; 3]> = reader
            .read_positions()
            .ok_or("primitive without positions")?
            .collect();
        let n = positions.len();
        mesh.positions.extend(positions);
        if let Some(normals) = reader.read_normals() {
            mesh.normals.extend(normals);
        }
        if let Some(colors) = reader.read_colors(0) {
            mesh.colors.extend(colors.into_rgb_f32());
        }
        if let Some(uvs) = reader.read_tex_coords(0) {
            mesh.uvs.extend(uvs.into_f32());
        }
        let indices: Vec<u32> = match reader.read_indices() {
            Some(i) => i.into_u32().collect(),
            None => (0..u32::try_from(n).map_err(|e| e.to_string())?).collect(),
        };
        mesh.triangles
            .extend(triples(&indices).into_iter().map(|t| t.map(|i| i + base)));
    }
    let texture = doc
        .materials()
        .find_map(|m| m.pbr_metallic_roughness().base_color_texture())
        .and_then(|info| images.get(info.texture().source().index()))
        .and_then(gltf_rgb);
    match texture {
        Some(t) if mesh.uvs.len() == mesh.positions.len() => mesh.texture = Some(t),
        _ => mesh.uvs.clear(),
    }
    Ok(mesh)
}

/// A decoded glTF image as RGB8 (8-bit RGB or RGBA; others are skipped).
fn gltf_rgb(data: &gltf::image::Data) -> Option<image::RgbImage> {
    use gltf::image::Format;
    let (w, h) = (data.width, data.height);
    match data.format {
        Format::R8G8B8 => image::RgbImage::from_raw(w, h, data.pixels.clone()),
        Format::R8G8B8A8 => image::RgbaImage::from_raw(w, h, data.pixels.clone())
            .map(|i| image::DynamicImage::ImageRgba8(i).to_rgb8()),
        _ => None,
    }
}
