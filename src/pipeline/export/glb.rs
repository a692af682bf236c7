//! Binary glTF 2.0 (GLB): one buffer holding positions, normals, optional `COLOR_0` and
//! `TEXCOORD_0`, `u32` indices and the optional PNG texture; one mesh, one node, one scene.

use super::super::mesh::Mesh;
use serde_json::{Value, json};
use std::io::{Error, ErrorKind, Write};

const FLOAT: u32 = 5126;
const UNSIGNED_INT: u32 = 5125;
const ARRAY_BUFFER: u32 = 34962;
const ELEMENT_ARRAY_BUFFER: u32 = 34963;

/// Accumulates the binary chunk and the JSON that describes its pieces.
#[derive(Default)]
struct Builder {
    bin: Vec<u8>,
    views: Vec<Value>,
    accessors: Vec<Value>,
}

impl Builder {
    /// Appends bytes as a 4-aligned buffer view; returns its index.
    fn view(&mut self, bytes: &[u8], target: Option<u32>) -> usize {
        while !self.bin.len().is_multiple_of(4) {
            self.bin.push(0);
        }
        let mut v = json!({"buffer": 0, "byteOffset": self.bin.len(), "byteLength": bytes.len()});
        if let Some(t) = target {
            v["target"] = json!(t);
        }
        self.bin.extend_from_slice(bytes);
        self.views.push(v);
        self.views.len() - 1
    }

    /// Appends float vectors of `N` components; returns the accessor index.
    fn floats<const N: usize>(&mut self, data: &[[f32; N]], kind: &str, bounds: bool) -> usize {
        let bytes: Vec<u8> = data
            .iter()
            .flatten()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let view = self.view(&bytes, Some(ARRAY_BUFFER));
        let mut a =
            json!({"bufferView": view, "componentType": FLOAT, "count": data.len(), "type": kind});
        if bounds {
            let mut lo = [f32::INFINITY; N];
            let mut hi = [f32::NEG_INFINITY; N];
            for v in data {
                for k in 0..N {
                    lo[k] = lo[k].min(v[k]);
                    hi[k] = hi[k].max(v[k]);
                }
            }
            a["min"] = json!(lo.to_vec());
            a["max"] = json!(hi.to_vec());
        }
        self.accessors.push(a);
        self.accessors.len() - 1
    }
}

pub(super) fn write(mesh: &Mesh, png: Option<&[u8]>, w: &mut dyn Write) -> std::io::Result<()> {
    let mut b = Builder::default();
    let mut attributes = json!({"POSITION": b.floats(&mesh.positions, "VEC3", true)});
    if !mesh.normals.is_empty() {
        attributes["NORMAL"] = json!(b.floats(&mesh.normals, "VEC3", false));
    }
    if !mesh.colors.is_empty() {
        // glTF requires colours in [0, 1]; sampling can land a rounding error above 1.
        let colors: Vec<[f32; 3]> = mesh
            .colors
            .iter()
            .map(|c| c.map(|v| v.clamp(0.0, 1.0)))
            .collect();
        attributes["COLOR_0"] = json!(b.floats(&colors, "VEC3", false));
    }
    let mut material = json!({"pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 1], "metallicFactor": 0.0, "roughnessFactor": 0.9}});
    let mut root = json!({"asset": {"version": "2.0", "generator": "Visage"}});
    if let Some(png) = png.filter(|_| !mesh.uvs.is_empty()) {
        attributes["TEXCOORD_0"] = json!(b.floats(&mesh.uvs, "VEC2", false));
        let view = b.view(png, None);
        root["images"] = json!([{"bufferView": view, "mimeType": "image/png"}]);
        root["samplers"] = json!([{"magFilter": 9729, "minFilter": 9729}]);
        root["textures"] = json!([{"source": 0, "sampler": 0}]);
        material["pbrMetallicRoughness"]["baseColorTexture"] = json!({"index": 0});
    }
    let indices: Vec<u8> = mesh
        .triangles
        .iter()
        .flatten()
        .flat_map(|i| i.to_le_bytes())
        .collect();
    let view = b.view(&indices, Some(ELEMENT_ARRAY_BUFFER));
    b.accessors.push(json!({"bufferView": view, "componentType": UNSIGNED_INT, "count": mesh.triangles.len() * 3, "type": "SCALAR"}));
    let index_accessor = b.accessors.len() - 1;
    while !b.bin.len().is_multiple_of(4) {
        b.bin.push(0);
    }
    root["buffers"] = json!([{"byteLength": b.bin.len()}]);
    root["bufferViews"] = Value::Array(b.views);
    root["accessors"] = Value::Array(b.accessors);
    root["materials"] = json!([material]);
    root["meshes"] = json!([{"primitives": [{"attributes": attributes, "indices": index_accessor, "material": 0, "mode": 4}]}]);
    root["nodes"] = json!([{"mesh": 0, "name": "face"}]);
    root["scenes"] = json!([{"nodes": [0]}]);
    root["scene"] = json!(0);
    let mut text = serde_json::to_vec(&root).map_err(|e| Error::new(ErrorKind::InvalidData, e))?;
    while !text.len().is_multiple_of(4) {
        text.push(b' ');
    }
    let too_big = || Error::new(ErrorKind::InvalidInput, "mesh too large for GLB");
    let total = u32::try_from(12 + 8 + text.len() + 8 + b.bin.len()).map_err(|_| too_big())?;
    w.write_all(b"glTF")?;
    w.write_all(&2u32.to_le_bytes())?;
    w.write_all(&total.to_le_bytes())?;
    for (chunk, kind) in [(&text, b"JSON"), (&b.bin, b"BIN\0")] {
        let len = u32::try_from(chunk.len()).map_err(|_| too_big())?;
        w.write_all(&len.to_le_bytes())?;
        w.write_all(kind)?;
        w.write_all(chunk)?;
    }
    Ok(())
}
