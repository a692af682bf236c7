//! The GPU side of a mesh (rerun's `CpuMesh` / `GpuMesh` split): [`Mesh`] is the checked CPU
//! mesh every stage shares; [`GpuMesh`] is what the viewport uploads from it after
//! [`Mesh::sanity_check`].
//!
//! Triangles are expanded into three vertices each, so every corner carries a barycentric
//! coordinate for the wireframe overlay (no line-polygon GPU feature needed, works on lavapipe).

use super::ViewportError;
use crate::pipeline::mesh::Mesh;
use eframe::wgpu;
use eframe::wgpu::util::DeviceExt;

/// One expanded triangle corner, as the vertex shader reads it (`mesh.wgsl`, `VsIn`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct GpuVertex {
    /// Position in the mesh frame.
    pub position: [f32; 3],
    /// Unit normal.
    pub normal: [f32; 3],
    /// sRGB display colour in [0, 1] (grey when the mesh has none).
    pub color: [f32; 3],
    /// Texture coordinate, (0, 0) = top-left.
    pub uv: [f32; 2],
    /// Barycentric coordinate of this corner: (1,0,0), (0,1,0) or (0,0,1).
    pub bary: [f32; 3],
}

impl GpuVertex {
    /// The vertex buffer layout matching `VsIn` in `mesh.wgsl`.
    pub const LAYOUT: wgpu::VertexBufferLayout<'static> = wgpu::VertexBufferLayout {
        array_stride: std::mem::size_of::<Self>() as wgpu::BufferAddress,
        step_mode: wgpu::VertexStepMode::Vertex,
        attributes: &wgpu::vertex_attr_array![
            0 => Float32x3, 1 => Float32x3, 2 => Float32x3, 3 => Float32x2, 4 => Float32x3
        ],
    };
}

/// A mesh on the GPU: its expanded vertex buffer, its texture (or a 1 x 1 white one) and where
/// it sits.
pub struct GpuMesh {
    /// Expanded vertices, three per triangle.
    pub vertices: wgpu::Buffer,
    /// Number of vertices in `vertices`.
    pub vertex_count: u32,
    /// Texture bind group (group 1 of `mesh.wgsl`).
    pub texture_bind_group: wgpu::BindGroup,
    /// True when the mesh carries a texture and UVs.
    pub has_texture: bool,
    /// True when the mesh carries vertex colours.
    pub has_colors: bool,
    /// Axis-aligned bounds `(min, max)` in the mesh frame.
    pub bounds: ([f32; 3], [f32; 3]),
    /// Number of source triangles.
    pub triangle_count: usize,
}

/// Expands `mesh` into per-corner vertices. The mesh must have passed `sanity_check`.
#[must_use]
pub fn expand(mesh: &Mesh) -> Vec<GpuVertex> {
    const BARY: [[f32; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let mut out = Vec::with_capacity(mesh.triangles.len() * 3);
    for tri in &mesh.triangles {
        for (corner, &index) in tri.iter().enumerate() {
            let i = index as usize;
            out.push(GpuVertex {
                position: mesh.positions[i],
                normal: mesh.normals.get(i).copied().unwrap_or([0.0, 0.0, 1.0]),
                color: mesh.colors.get(i).copied().unwrap_or([0.78; 3]),
                uv: mesh.uvs.get(i).copied().unwrap_or([0.0; 2]),
                bary: BARY[corner],
            });
        }
    }
    out
}

impl GpuMesh {
    /// Checks `mesh` and uploads it; `layout` is the renderer's texture bind group layout.
    ///
    /// # Errors
    /// [`ViewportError::InvalidMesh`] when the mesh breaks an invariant,
    /// [`ViewportError::TooLarge`] when it exceeds the device's buffer limit.
    pub fn upload(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        layout: &wgpu::BindGroupLayout,
        sampler: &wgpu::Sampler,
        mesh: &Mesh,
    ) -> Result<Self, ViewportError> {
        mesh.sanity_check()?;
        let mut mesh = std::borrow::Cow::Borrowed(mesh);
        if mesh.normals.is_empty() {
            mesh.to_mut().compute_normals();
        }
        let vertices = expand(&mesh);
        let bytes = std::mem::size_of_val(vertices.as_slice()) as u64;
        if bytes > device.limits().max_buffer_size {
            return Err(ViewportError::TooLarge { bytes });
        }
        let vertex_count =
            u32::try_from(vertices.len()).map_err(|_| ViewportError::TooLarge { bytes })?;
        let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("visage mesh vertices"),
            contents: bytemuck::cast_slice(&vertices),
            usage: wgpu::BufferUsages::VERTEX,
        });
        let has_texture = mesh.has_texture();
        let texture = match mesh.texture.as_ref().filter(|_| has_texture) {
            Some(rgb) => upload_texture(device, queue, rgb),
            None => upload_texture(
                device,
                queue,
                &image::RgbImage::from_pixel(1, 1, image::Rgb([255; 3])),
            ),
        };
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let texture_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("visage mesh texture"),
            layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&view),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Sampler(sampler),
                },
            ],
        });
        Ok(Self {
            vertices: buffer,
            vertex_count,
            texture_bind_group,
            has_texture,
            has_colors: mesh.has_colors(),
            bounds: mesh.bounds().unwrap_or(([0.0; 3], [0.0; 3])),
            triangle_count: mesh.triangles.len(),
        })
    }
}

/// Uploads an RGB image as an sRGB RGBA texture.
fn upload_texture(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    rgb: &image::RgbImage,
) -> wgpu::Texture {
    let rgba = image::DynamicImage::ImageRgb8(rgb.clone()).into_rgba8();
    device.create_texture_with_data(
        queue,
        &wgpu::TextureDescriptor {
            label: Some("visage mesh albedo"),
            size: wgpu::Extent3d {
                width: rgba.width(),
                height: rgba.height(),
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8UnormSrgb,
            usage: wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        },
        wgpu::util::TextureDataOrder::LayerMajor,
        rgba.as_raw(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_gives_three_corners_per_triangle() {
        let mesh = Mesh::new(
            vec![[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]],
            vec![[0, 1, 2], [1, 3, 2]],
        );
        let v = expand(&mesh);
        assert_eq!(v.len(), 6);
        assert_eq!(v[4].position, [1.0, 1.0, 0.0]);
        assert_eq!(v[5].bary, [0.0, 0.0, 1.0]);
        assert_eq!(std::mem::size_of::<GpuVertex>(), 56);
    }
}
