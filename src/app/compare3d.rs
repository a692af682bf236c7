//! The 3D comparison tab: one face reconstructed once per upscaler (or once per method), each in
//! its own viewport panel of a grid, all orbiting together (drag any panel: every camera
//! follows), with a caption per panel: the upscaler or method, the time taken, and, when the low
//! resolution is simulated, the depth51 error against the same method on the original-resolution
//! face (computed by the worker with `visage eval real`'s metric).

use super::command::{Command, Dialog};
use super::settings::Settings;
use super::view3d::View3d;
use crate::figure::{Panel, side_by_side, stacked};
use crate::viewport::OrbitCamera;
use crate::worker::{CompareAxis, Panel3d};
use eframe::egui_wgpu::RenderState;
use egui::{Rect, Ui, Vec2};

/// Height of a panel's caption, points.
const CAPTION: f32 = 38.0;

/// One shown panel: what the worker sent and its viewport.
pub struct PanelView {
    /// The worker's panel.
    pub info: Panel3d,
    /// Its viewport.
    pub view: View3d,
}

/// A 3D comparison in progress or done.
pub struct Compare3d {
    /// What varies.
    pub axis: CompareAxis,
    /// The simulated face width, if any.
    pub simulated: Option<u32>,
    /// The panels, in grid order (`None` until the worker sends it).
    pub panels: Vec<Option<PanelView>>,
    /// The camera every panel shows.
    pub camera: Option<OrbitCamera>,
    /// Where each panel was drawn last (screen points), for tests.
    pub rects: Vec<Rect>,
}

impl Compare3d {
    /// An empty comparison of `count` panels.
    #[must_use]
    pub fn new(axis: CompareAxis, simulated: Option<u32>, count: usize) -> Self {
        Self {
            axis,
            simulated,
            panels: (0..count).map(|_| None).collect(),
            camera: None,
            rects: Vec::new(),
        }
    }

    /// Adds a panel from the worker (its mesh uploaded to a new viewport).
    ///
    /// # Errors
    /// An invalid mesh for the GPU.
    pub fn add(
        &mut self,
        gpu: &RenderState,
        info: Panel3d,
    ) -> Result<(), crate::viewport::ViewportError> {
        if self.panels.len() != info.count {
            self.panels.resize_with(info.count, || None);
        }
        let mut view = View3d::new(gpu.clone());
        view.set_mesh(&info.mesh)?;
        let camera = *self.camera.get_or_insert(view.home());
        view.set_camera(camera);
        if let Some(slot) = self.panels.get_mut(info.index) {
            *slot = Some(PanelView { info, view });
        }
        Ok(())
    }

    /// The panels that have arrived.
    pub fn done(&self) -> impl Iterator<Item = &PanelView> {
        self.panels.iter().flatten()
    }

    /// The cameras of the panels (for tests: linked cameras are all equal).
    #[must_use]
    pub fn cameras(&self) -> Vec<OrbitCamera> {
        self.done().map(|p| p.view.camera()).collect()
    }

    /// The caption of a panel.
    #[must_use]
    pub fn caption(&self, p: &Panel3d) -> String {
        let error = match (self.simulated, p.error_pct) {
            (Some(_), Some(e)) => format!(", depth51 {e:.2} % vs full resolution"),
            (Some(_), None) => ", no error (mesh misses the landmarks)".to_owned(),
            (None, _) => String::new(),
        };
        let experimental = crate::worker::Method::ALL
            .iter()
            .any(|m| m.name() == p.label && m.is_experimental());
        format!(
            "{}{}: {:.0} ms, {} vertices{error}",
            p.label,
            if experimental { " (experimental)" } else { "" },
            p.ms,
            p.mesh.vertex_count()
        )
    }

    /// The grid as one image with captions (each panel read back from its viewport).
    ///
    /// # Errors
    /// A failed read-back or an empty grid.
    pub fn image(&self) -> anyhow::Result<image::RgbImage> {
        let tiles: Vec<(image::RgbImage, String)> = self
            .done()
            .map(|p| {
                let rgba = p.view.read_back()?;
                Ok((
                    image::DynamicImage::ImageRgba8(rgba).into_rgb8(),
                    self.caption(&p.info),
                ))
            })
            .collect::<anyhow::Result<_>>()?;
        anyhow::ensure!(!tiles.is_empty(), "no panel to save yet");
        let columns = columns(tiles.len());
        let rows: Vec<image::RgbImage> = tiles
            .chunks(columns)
            .map(|row| {
                let panels: Vec<Panel> = row
                    .iter()
                    .map(|(image, caption)| Panel {
                        image,
                        lines: vec![caption.clone()],
                    })
                    .collect();
                side_by_side(&panels)
            })
            .collect::<Result<_, _>>()?;
        Ok(stacked(&rows)?)
    }
}

/// Columns of a grid of `n` panels: 3 for 3 upscalers, 3 for 5 methods (3 + 2).
#[must_use]
pub fn columns(n: usize) -> usize {
    n.clamp(1, 3)
}

/// The tab: controls, then the grid. Drags in any panel turn every panel's camera.
pub fn compare3d_view(
    ui: &mut Ui,
    settings: &mut Settings,
    comparison: Option<&mut Compare3d>,
    can_run: bool,
) -> Vec<Command> {
    let mut commands = Vec::new();
    ui.horizontal_wrapped(|ui| {
        ui.label("One panel per");
        ui.selectable_value(
            &mut settings.compare_axis,
            CompareAxis::Upscalers,
            "upscaler",
        );
        ui.selectable_value(&mut settings.compare_axis, CompareAxis::Methods, "method");
        let what = match settings.compare_axis {
            CompareAxis::Upscalers => format!("(method {})", settings.method),
            CompareAxis::Methods => format!("(upscaler {})", settings.upscaler),
        };
        ui.label(what);
        if ui
            .add_enabled(can_run, egui::Button::new("Compare in 3D"))
            .clicked()
        {
            commands.push(Command::Compare3d);
        }
        let has = comparison
            .as_ref()
            .is_some_and(|c| c.done().next().is_some());
        if ui
            .add_enabled(has, egui::Button::new("Save comparison…"))
            .clicked()
        {
            commands.push(Command::Dialog(Dialog::SaveComparison3d));
        }
    });
    let Some(c) = comparison else {
        ui.label(
            "Reconstruct the chosen face once per upscaler or per method, side by side; with \
             \"Simulate low resolution\" on, each panel is scored against the original \
             resolution.",
        );
        return commands;
    };
    ui.label(match c.simulated {
        Some(w) => format!(
            "Face simulated at {w} px wide; error = depth51 vs the same method at full resolution"
        ),
        None => "Face at its own resolution".to_owned(),
    });
    grid(ui, settings, c);
    commands
}

/// The panels in a grid that fills the space left, cameras linked.
fn grid(ui: &mut Ui, settings: &Settings, c: &mut Compare3d) {
    let n = c.panels.len().max(1);
    let cols = columns(n);
    let rows = n.div_ceil(cols);
    let area = ui.available_rect_before_wrap();
    let gap = 6.0;
    let w = ((area.width() - gap * (cols as f32 - 1.0)) / cols as f32).max(40.0);
    let h = ((area.height() - gap * (rows as f32 - 1.0)) / rows as f32 - CAPTION).max(40.0);
    let side = w.min(h);
    let mut moved = None;
    let camera = c.camera;
    c.rects.clear();
    let captions: Vec<Option<String>> = c
        .panels
        .iter()
        .map(|p| p.as_ref().map(|p| c.caption(&p.info)))
        .collect();
    for (k, slot) in c.panels.iter_mut().enumerate() {
        let (col, row) = ((k % cols) as f32, (k / cols) as f32);
        let min = area.min + Vec2::new(col * (side + gap), row * (side + CAPTION + gap));
        let rect = Rect::from_min_size(min, Vec2::splat(side));
        c.rects.push(rect);
        match slot {
            Some(p) => {
                if let Some(cam) = camera {
                    p.view.set_camera(cam);
                }
                // A double click frames the face again, in every panel.
                if p.view.ui_in(ui, rect, settings) == Some(Command::ResetCamera) {
                    p.view.reset_camera();
                }
                if Some(p.view.camera()) != camera {
                    moved = Some(p.view.camera());
                }
            }
            None => {
                ui.painter().rect_stroke(
                    rect,
                    4.0,
                    (1.0, ui.visuals().weak_text_color()),
                    egui::StrokeKind::Inside,
                );
            }
        }
        let text = captions[k].clone().unwrap_or_else(|| "waiting…".to_owned());
        let caption =
            Rect::from_min_size(min + Vec2::new(0.0, side + 2.0), Vec2::new(side, CAPTION));
        ui.put(caption, egui::Label::new(text).wrap());
    }
    if let Some(cam) = moved {
        c.camera = Some(cam);
        for p in c.panels.iter_mut().flatten() {
            p.view.set_camera(cam);
        }
        ui.ctx().request_repaint();
    }
}
