//! The mesh renderer: one pipeline built once, drawing a [`GpuMesh`] into the renderer's own
//! multisampled colour + depth targets, resolved into a single-sample sRGB texture that the app
//! shows as an egui texture and the headless path copies to an image.

use super::camera::OrbitCamera;
use super::gpu_mesh::{GpuMesh, GpuVertex};
use super::{Shading, ViewOptions, ViewportError};
use crate::pipeline::mesh::Mesh;
use eframe::wgpu;

/// Colour format of the resolved image (linear shader output, sRGB storage).
pub const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;
/// The same texture seen without sRGB decoding (for egui).
const DISPLAY_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
const SAMPLES: u32 = 4;
/// Background of lit and colour views (linear).
const BACKGROUND: wgpu::Color = wgpu::Color {
    r: 0.012,
    g: 0.013,
    b: 0.016,
    a: 1.0,
};

/// Uniforms of `mesh.wgsl` (`Uniforms`), std140-compatible: only vec4s and a mat4.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    clip_from_world: [[f32; 4]; 4],
    eye: [f32; 4],
    cam_right: [f32; 4],
    cam_up: [f32; 4],
    cam_forward: [f32; 4],
    params: [f32; 4],
    mode: [u32; 4],
}

/// The render targets at one size.
struct Targets {
    size: [u32; 2],
    msaa_view: wgpu::TextureView,
    depth_view: wgpu::TextureView,
    resolved: wgpu::Texture,
    resolved_view: wgpu::TextureView,
    /// The resolved texture seen as plain `Rgba8Unorm`: sampling returns the stored sRGB bytes,
    /// which is what egui (gamma-space textures) expects.
    display_view: wgpu::TextureView,
}

/// Draws meshes into its own textures; see the module docs.
pub struct MeshRenderer {
    pipeline: wgpu::RenderPipeline,
    uniforms: wgpu::Buffer,
    uniform_bind_group: wgpu::BindGroup,
    texture_layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    targets: Option<Targets>,
    generation: u64,
}

impl MeshRenderer {
    /// Builds the pipeline on `device`.
    #[must_use]
    pub fn new(device: &wgpu::Device) -> Self {
        let shader = device.create_shader_module(wgpu::include_wgsl!("mesh.wgsl"));
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("visage viewport uniforms"),
            size: std::mem::size_of::<Uniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let uniform_layout = layout(device, &[uniform_entry()]);
        let texture_layout = layout(device, &texture_entries());
        let uniform_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("visage viewport uniforms"),
            layout: &uniform_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: uniforms.as_entire_binding(),
            }],
        });
        let pipeline = pipeline(device, &shader, &[&uniform_layout, &texture_layout]);
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("visage albedo sampler"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..wgpu::SamplerDescriptor::default()
        });
        Self {
            pipeline,
            uniforms,
            uniform_bind_group,
            texture_layout,
            sampler,
            targets: None,
            generation: 0,
        }
    }

    /// Checks and uploads `mesh` for drawing with this renderer.
    ///
    /// # Errors
    /// See [`GpuMesh::upload`].
    pub fn upload(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        mesh: &Mesh,
    ) -> Result<GpuMesh, ViewportError> {
        GpuMesh::upload(device, queue, &self.texture_layout, &self.sampler, mesh)
    }

    /// Draws `mesh` (or just the background) seen by `camera` into a `size` image and returns
    /// the resolved colour view. The targets are recreated only when the size changes;
    /// [`Self::generation`] then changes.
    pub fn render(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        mesh: Option<&GpuMesh>,
        camera: &OrbitCamera,
        options: &ViewOptions,
        size: [u32; 2],
    ) -> &wgpu::TextureView {
        let size = [size[0].max(1), size[1].max(1)];
        if self.targets.as_ref().is_none_or(|t| t.size != size) {
            self.targets = Some(Targets::new(device, size));
            self.generation += 1;
        }
        let aspect = size[0] as f32 / size[1] as f32;
        let uniforms = uniforms(camera, options, mesh, aspect);
        queue.write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&uniforms));
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("visage viewport"),
        });
        let targets = self
            .targets
            .get_or_insert_with(|| Targets::new(device, size));
        {
            let mut pass = begin_pass(&mut encoder, targets, options.shading);
            if let Some(mesh) = mesh {
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &self.uniform_bind_group, &[]);
                pass.set_bind_group(1, &mesh.texture_bind_group, &[]);
                pass.set_vertex_buffer(0, mesh.vertices.slice(..));
                pass.draw(0..mesh.vertex_count, 0..1);
            }
        }
        queue.submit([encoder.finish()]);
        &targets.resolved_view
    }

    /// The resolved colour texture of the last render, if any.
    #[must_use]
    pub fn color_texture(&self) -> Option<&wgpu::Texture> {
        self.targets.as_ref().map(|t| &t.resolved)
    }

    /// The resolved colour of the last render as a non-sRGB view (stored sRGB bytes returned
    /// as they are), the view to register with egui, which treats textures as gamma-encoded.
    #[must_use]
    pub fn display_view(&self) -> Option<&wgpu::TextureView> {
        self.targets.as_ref().map(|t| &t.display_view)
    }

    /// Changes whenever the targets are recreated (a new texture to show).
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

fn uniforms(
    camera: &OrbitCamera,
    options: &ViewOptions,
    mesh: Option<&GpuMesh>,
    aspect: f32,
) -> Uniforms {
    let (right, up, forward) = camera.basis();
    let v4 = |v: [f32; 3]| [v[0], v[1], v[2], 0.0];
    let eye = camera.eye();
    let near = camera.distance - camera.radius;
    let far = camera.distance + camera.radius;
    Uniforms {
        clip_from_world: camera.clip_from_world(aspect),
        eye: [eye[0], eye[1], eye[2], 1.0],
        cam_right: v4(right),
        cam_up: v4(up),
        cam_forward: v4(forward),
        params: [near, far, 1.2, 0.0],
        mode: [
            options.shading.shader_mode(),
            u32::from(options.draws_edges()),
            u32::from(mesh.is_some_and(|m| m.has_texture)),
            u32::from(mesh.is_some_and(|m| m.has_colors)),
        ],
    }
}

fn begin_pass<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    targets: &Targets,
    shading: Shading,
) -> wgpu::RenderPass<'e> {
    let clear = if shading.is_depth() {
        wgpu::Color::BLACK
    } else {
        BACKGROUND
    };
    encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("visage viewport"),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view: &targets.msaa_view,
            depth_slice: None,
            resolve_target: Some(&targets.resolved_view),
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Clear(clear),
                store: wgpu::StoreOp::Discard,
            },
        })],
        depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
            view: &targets.depth_view,
            depth_ops: Some(wgpu::Operations {
                load: wgpu::LoadOp::Clear(1.0),
                store: wgpu::StoreOp::Discard,
            }),
            stencil_ops: None,
        }),
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    })
}

impl Targets {
    fn new(device: &wgpu::Device, size: [u32; 2]) -> Self {
        let texture = |label, format, samples, usage, view_formats: &[wgpu::TextureFormat]| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d {
                    width: size[0],
                    height: size[1],
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: samples,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats,
            })
        };
        let attach = wgpu::TextureUsages::RENDER_ATTACHMENT;
        let msaa = texture("visage viewport msaa", COLOR_FORMAT, SAMPLES, attach, &[]);
        let depth = texture("visage viewport depth", DEPTH_FORMAT, SAMPLES, attach, &[]);
        let resolved = texture(
            "visage viewport colour",
            COLOR_FORMAT,
            1,
            attach | wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_SRC,
            &[DISPLAY_FORMAT],
        );
        let display_view = resolved.create_view(&wgpu::TextureViewDescriptor {
            format: Some(DISPLAY_FORMAT),
            ..wgpu::TextureViewDescriptor::default()
        });
        let view = |t: &wgpu::Texture| t.create_view(&wgpu::TextureViewDescriptor::default());
        Self {
            size,
            msaa_view: view(&msaa),
            depth_view: view(&depth),
            resolved_view: view(&resolved),
            display_view,
            resolved,
        }
    }
}

fn uniform_entry() -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

fn texture_entries() -> [wgpu::BindGroupLayoutEntry; 2] {
    [
        wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        },
        wgpu::BindGroupLayoutEntry {
            binding: 1,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
            count: None,
        },
    ]
}

fn layout(device: &wgpu::Device, entries: &[wgpu::BindGroupLayoutEntry]) -> wgpu::BindGroupLayout {
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("visage viewport"),
        entries,
    })
}

fn pipeline(
    device: &wgpu::Device,
    shader: &wgpu::ShaderModule,
    layouts: &[&wgpu::BindGroupLayout],
) -> wgpu::RenderPipeline {
    let layouts: Vec<Option<&wgpu::BindGroupLayout>> = layouts.iter().map(|l| Some(*l)).collect();
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("visage viewport"),
        bind_group_layouts: &layouts,
        immediate_size: 0,
    });
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("visage viewport"),
        layout: Some(&pipeline_layout),
        vertex: wgpu::VertexState {
            module: shader,
            entry_point: Some("vs_main"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            buffers: &[Some(GpuVertex::LAYOUT)],
        },
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: Some(wgpu::DepthStencilState {
            format: DEPTH_FORMAT,
            depth_write_enabled: Some(true),
            depth_compare: Some(wgpu::CompareFunction::Less),
            stencil: wgpu::StencilState::default(),
            bias: wgpu::DepthBiasState::default(),
        }),
        multisample: wgpu::MultisampleState {
            count: SAMPLES,
            ..wgpu::MultisampleState::default()
        },
        fragment: Some(wgpu::FragmentState {
            module: shader,
            entry_point: Some("fs_main"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            targets: &[Some(COLOR_FORMAT.into())],
        }),
        multiview_mask: None,
        cache: None,
    })
}
