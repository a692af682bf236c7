//! Binary STL: an 80-byte header, a triangle count, and per triangle a facet normal, three
//! corners and a zero attribute word. Geometry only.

use super::super::mesh::Mesh;
use super::super::mesh::normals::{cross, normalize, sub};
use std::io::{Error, ErrorKind, Write};

pub(super) fn write(mesh: &Mesh, w: &mut dyn Write) -> std::io::Result<()> {
    let mut header = [0u8; 80];
    let text = b"binary STL written by Visage";
    header[..text.len()].copy_from_slice(text);
    w.write_all(&header)?;
    let count = u32::try_from(mesh.triangles.len())
        .map_err(|_| Error::new(ErrorKind::InvalidInput, "too many triangles for STL"))?;
    w.write_all(&count.to_le_bytes())?;
    for t in &mesh.triangles {
        let [a, b, c] = t.map(|i| mesh.positions[i as usize]);
        let n = normalize(cross(sub(b, a), sub(c, a)));
        for v in [n, a, b, c] {
            for x in v {
                w.write_all(&x.to_le_bytes())?;
            }
        }
        w.write_all(&0u16.to_le_bytes())?;
    }
    Ok(())
}
