//! Rendering without a window: a wgpu device made from no surface (any adapter, software
//! rasterisers such as Mesa's lavapipe included) and a read-back of the renderer's colour
//! texture into an image. `visage render` and the tests use it.

use super::{MeshRenderer, OrbitCamera, ViewOptions, ViewportError};
use crate::pipeline::mesh::Mesh;
use eframe::wgpu;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll, Wake, Waker};

/// A device and queue with no window attached.
pub struct HeadlessGpu {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// Adapter name and backend, for reports.
    pub adapter: String,
}

impl HeadlessGpu {
    /// Creates a device on the first adapter wgpu offers (high-performance preferred).
    ///
    /// # Errors
    /// [`ViewportError::NoDevice`] when no adapter or device is available.
    pub fn new() -> Result<Self, ViewportError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            ..wgpu::RequestAdapterOptions::default()
        }))
        .map_err(|e| ViewportError::NoDevice(e.to_string()))?;
        let info = adapter.get_info();
        let (device, queue) = block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("visage headless"),
            required_limits: adapter.limits(),
            ..wgpu::DeviceDescriptor::default()
        }))
        .map_err(|e| ViewportError::NoDevice(e.to_string()))?;
        Ok(Self {
            device,
            queue,
            adapter: format!("{} ({:?})", info.name, info.backend),
        })
    }

    /// Renders `mesh` at `size` pixels and returns the image (sRGB bytes).
    ///
    /// # Errors
    /// An invalid or oversized mesh, or a failed read-back.
    pub fn render(
        &self,
        mesh: &Mesh,
        camera: &OrbitCamera,
        options: &ViewOptions,
        size: [u32; 2],
    ) -> Result<image::RgbaImage, ViewportError> {
        let mut renderer = MeshRenderer::new(&self.device);
        let gpu = renderer.upload(&self.device, &self.queue, mesh)?;
        renderer.render(&self.device, &self.queue, Some(&gpu), camera, options, size);
        let texture = renderer
            .color_texture()
            .ok_or_else(|| ViewportError::Readback("nothing was rendered".into()))?;
        read_texture(&self.device, &self.queue, texture)
    }
}

/// Copies an RGBA8 texture (as rendered by [`MeshRenderer`]) into an image.
///
/// # Errors
/// [`ViewportError::Readback`] when mapping the staging buffer fails.
pub fn read_texture(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    texture: &wgpu::Texture,
) -> Result<image::RgbaImage, ViewportError> {
    let (width, height) = (texture.width(), texture.height());
    let row = 4 * width;
    let padded =
        row.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("visage readback"),
        size: u64::from(padded) * u64::from(height),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: Some(height),
            },
        },
        texture.size(),
    );
    queue.submit([encoder.finish()]);
    let (tx, rx) = mpsc::channel();
    buffer
        .slice(..)
        .map_async(wgpu::MapMode::Read, move |r| drop(tx.send(r)));
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| ViewportError::Readback(e.to_string()))?;
    rx.recv()
        .map_err(|e| ViewportError::Readback(e.to_string()))?
        .map_err(|e| ViewportError::Readback(e.to_string()))?;
    let data = buffer
        .slice(..)
        .get_mapped_range()
        .map_err(|e| ViewportError::Readback(e.to_string()))?;
    let mut pixels = Vec::with_capacity((row * height) as usize);
    for r in data.chunks(padded as usize).take(height as usize) {
        pixels.extend_from_slice(&r[..row as usize]);
    }
    drop(data);
    buffer.unmap();
    image::RgbaImage::from_raw(width, height, pixels)
        .ok_or_else(|| ViewportError::Readback("wrong buffer size".into()))
}

/// Wakes a parked thread.
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread (wgpu's adapter and device requests resolve
/// immediately on native backends; this avoids an async runtime dependency).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}
