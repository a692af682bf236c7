//! Binary little-endian PLY: vertices with position, normal and 8-bit colour (white when the
//! mesh has none), faces as `uchar`-counted `int` index lists.

use super::super::mesh::Mesh;
use super::to_u8;
use std::io::Write;

pub(super) fn write(mesh: &Mesh, w: &mut dyn Write) -> std::io::Result<()> {
    write!(
        w,
        "ply\nformat binary_little_endian 1.0\ncomment written by Visage\n\
         element vertex {}\nproperty float x\nproperty float y\nproperty float z\n\
         property float nx\nproperty float ny\nproperty float nz\n\
         property uchar red\nproperty uchar green\nproperty uchar blue\n\
         element face {}\nproperty list uchar int vertex_indices\nend_header\n",
        mesh.positions.len(),
        mesh.triangles.len()
    )?;
    for i in 0..mesh.positions.len() {
        let n = mesh.normals.get(i).copied().unwrap_or([0.0, 0.0, 1.0]);
        for x in mesh.positions[i].iter().chain(&n) {
            w.write_all(&x.to_le_bytes())?;
        }
        let c = mesh.colors.get(i).copied().unwrap_or([1.0; 3]);
        w.write_all(&c.map(to_u8))?;
    }
    for t in &mesh.triangles {
        w.write_all(&[3u8])?;
        for &i in t {
            w.write_all(&(i as i32).to_le_bytes())?;
        }
    }
    Ok(())
}
