//! The egui side of the 3D viewport: input (drag to orbit, right/middle drag to pan, scroll to
//! zoom, double-click to reset), the turntable, and showing the renderer's colour texture as an
//! egui image. Renders only when something changed.

use super::command::Command;
use super::settings::Settings;
use crate::pipeline::mesh::Mesh;
use crate::viewport::headless::read_texture;
use crate::viewport::{
    GpuMesh, MeshRenderer, OrbitCamera, Shading, ViewOptions, ViewportError, framing_camera,
};
use eframe::egui_wgpu::RenderState;
use eframe::wgpu;
use egui::{Color32, Pos2, Rect, Sense, TextureId, Ui};

/// Degrees of orbit per point dragged.
const ORBIT_PER_POINT: f32 = 0.4;
/// Turntable speed, degrees per second.
const TURNTABLE_DEG_PER_S: f32 = 30.0;

/// The viewport's GPU state and camera.
pub struct View3d {
    gpu: RenderState,
    renderer: MeshRenderer,
    mesh: Option<GpuMesh>,
    camera: OrbitCamera,
    home: OrbitCamera,
    texture: Option<(TextureId, u64)>,
    last: Option<(OrbitCamera, ViewOptions, [u32; 2])>,
    /// Frames rendered so far (for tests and frame statistics).
    pub renders: u64,
}

impl View3d {
    /// Builds the renderer on eframe's wgpu device.
    #[must_use]
    pub fn new(gpu: RenderState) -> Self {
        let renderer = MeshRenderer::new(&gpu.device);
        Self {
            gpu,
            renderer,
            mesh: None,
            camera: OrbitCamera::default(),
            home: OrbitCamera::default(),
            texture: None,
            last: None,
            renders: 0,
        }
    }

    /// Uploads `mesh` and frames it.
    ///
    /// # Errors
    /// An invalid or oversized mesh.
    pub fn set_mesh(&mut self, mesh: &Mesh) -> Result<(), ViewportError> {
        self.mesh = Some(
            self.renderer
                .upload(&self.gpu.device, &self.gpu.queue, mesh)?,
        );
        self.home = framing_camera(mesh);
        self.camera = self.home;
        self.last = None;
        Ok(())
    }

    /// Triangles of the shown mesh.
    #[must_use]
    pub fn triangle_count(&self) -> Option<usize> {
        self.mesh.as_ref().map(|m| m.triangle_count)
    }

    /// Puts the camera back in front of the mesh.
    pub fn reset_camera(&mut self) {
        self.camera = self.home;
    }

    /// Turns the camera by yaw and pitch degrees.
    pub fn orbit(&mut self, yaw_deg: f32, pitch_deg: f32) {
        self.camera.orbit(yaw_deg, pitch_deg);
    }

    /// Renders the current mesh as a grey depth map (near white) at `size` and reads it back.
    ///
    /// # Errors
    /// No mesh, or a failed read-back.
    pub fn depth_image(&self, size: u32) -> Result<image::RgbImage, ViewportError> {
        let mesh = self
            .mesh
            .as_ref()
            .ok_or_else(|| ViewportError::Readback("no mesh to render".into()))?;
        let mut renderer = MeshRenderer::new(&self.gpu.device);
        let options = ViewOptions::new(Shading::DepthGray);
        let (device, queue) = (&self.gpu.device, &self.gpu.queue);
        renderer.render(
            device,
            queue,
            Some(mesh),
            &self.camera,
            &options,
            [size, size],
        );
        let texture = renderer
            .color_texture()
            .ok_or_else(|| ViewportError::Readback("nothing was rendered".into()))?;
        let rgba = read_texture(device, queue, texture)?;
        Ok(image::DynamicImage::ImageRgba8(rgba).into_rgb8())
    }

    /// The camera.
    #[must_use]
    pub fn camera(&self) -> OrbitCamera {
        self.camera
    }

    /// Puts the camera here (views whose cameras are linked).
    pub fn set_camera(&mut self, camera: OrbitCamera) {
        self.camera = camera;
    }

    /// The camera that frames the mesh (where [`View3d::reset_camera`] goes).
    #[must_use]
    pub fn home(&self) -> OrbitCamera {
        self.home
    }

    /// Draws the viewport filling `ui`, handling its input.
    pub fn ui(&mut self, ui: &mut Ui, settings: &Settings) -> Option<Command> {
        let rect = ui.available_rect_before_wrap();
        self.ui_in(ui, rect, settings)
    }

    /// Draws the viewport in `rect` of `ui`, handling its input.
    pub fn ui_in(&mut self, ui: &mut Ui, rect: Rect, settings: &Settings) -> Option<Command> {
        let response = ui.allocate_rect(rect, Sense::click_and_drag());
        let command = self.handle_input(ui, &response);
        if settings.turntable && self.mesh.is_some() {
            let dt = ui.input(|i| i.stable_dt).min(0.1);
            self.camera.orbit(TURNTABLE_DEG_PER_S * dt, 0.0);
            ui.ctx().request_repaint();
        }
        let ppp = ui.pixels_per_point();
        let size = [(rect.width() * ppp) as u32, (rect.height() * ppp) as u32];
        if size[0] < 2 || size[1] < 2 {
            return command;
        }
        let options = ViewOptions {
            shading: settings.shading,
            wireframe: settings.wireframe,
        };
        if let Some(id) = self.draw(options, size) {
            let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
            ui.painter().image(id, rect, uv, Color32::WHITE);
        }
        if self.mesh.is_none() {
            ui.painter().text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "No mesh yet: run a reconstruction, or open or drop a mesh file",
                egui::FontId::proportional(16.0),
                ui.visuals().weak_text_color(),
            );
        }
        command
    }

    fn handle_input(&mut self, ui: &Ui, response: &egui::Response) -> Option<Command> {
        let delta = response.drag_delta();
        if response.dragged_by(egui::PointerButton::Primary) {
            self.camera
                .orbit(-delta.x * ORBIT_PER_POINT, delta.y * ORBIT_PER_POINT);
        } else if response.dragged_by(egui::PointerButton::Secondary)
            || response.dragged_by(egui::PointerButton::Middle)
        {
            let h = response.rect.height().max(1.0);
            self.camera.pan(-delta.x / h, delta.y / h);
        }
        if response.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                self.camera.zoom(scroll / 50.0);
            }
        }
        response.double_clicked().then_some(Command::ResetCamera)
    }

    /// Renders when the camera, options or size changed; returns the texture to show.
    fn draw(&mut self, options: ViewOptions, size: [u32; 2]) -> Option<TextureId> {
        let state = (self.camera, options, size);
        if self.last != Some(state) || self.texture.is_none() {
            let (device, queue) = (&self.gpu.device, &self.gpu.queue);
            self.renderer.render(
                device,
                queue,
                self.mesh.as_ref(),
                &self.camera,
                &options,
                size,
            );
            let generation = self.renderer.generation();
            let view = self.renderer.display_view()?;
            let mut egui_renderer = self.gpu.renderer.write();
            match self.texture {
                Some((_, g)) if g == generation => {}
                Some((id, _)) => {
                    egui_renderer.update_egui_texture_from_wgpu_texture(
                        device,
                        view,
                        wgpu::FilterMode::Linear,
                        id,
                    );
                    self.texture = Some((id, generation));
                }
                None => {
                    let id = egui_renderer.register_native_texture(
                        device,
                        view,
                        wgpu::FilterMode::Linear,
                    );
                    self.texture = Some((id, generation));
                }
            }
            self.last = Some(state);
            self.renders += 1;
        }
        self.texture.map(|(id, _)| id)
    }

    /// Reads the last rendered colour image back (for tests).
    ///
    /// # Errors
    /// Nothing rendered yet, or a failed read-back.
    pub fn read_back(&self) -> Result<image::RgbaImage, ViewportError> {
        let texture = self
            .renderer
            .color_texture()
            .ok_or_else(|| ViewportError::Readback("nothing was rendered".into()))?;
        read_texture(&self.gpu.device, &self.gpu.queue, texture)
    }
}
