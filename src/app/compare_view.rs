//! The upscaler comparison: the simulated capture and every upscaler's output of the current
//! crop side by side at the same zoom, with PSNR/SSIM against the original crop when the low
//! resolution was simulated. Clicking an upscaler's title makes it the pipeline's upscaler.

use super::command::{Command, Dialog};
use super::settings::Settings;
use crate::worker::UpscalerComparison;
use egui::{Color32, RichText, Ui, Vec2};

/// Textures of one comparison, made once when it arrives.
pub struct ComparisonTextures {
    /// The comparison.
    pub comparison: std::sync::Arc<UpscalerComparison>,
    /// The original crop.
    pub reference: egui::TextureHandle,
    /// The input the upscalers saw.
    pub low: egui::TextureHandle,
    /// One per row of the comparison.
    pub rows: Vec<egui::TextureHandle>,
}

/// Uploads a comparison's images as egui textures (nearest filtering: pixels stay visible).
#[must_use]
pub fn textures(ctx: &egui::Context, c: std::sync::Arc<UpscalerComparison>) -> ComparisonTextures {
    let load = |name: String, img: &image::RgbImage| {
        let size = [img.width() as usize, img.height() as usize];
        let color = egui::ColorImage::from_rgb(size, img.as_raw());
        ctx.load_texture(name, color, egui::TextureOptions::NEAREST)
    };
    let rows = c
        .rows
        .iter()
        .map(|r| load(format!("compare-{}", r.upscaler), &r.image))
        .collect();
    ComparisonTextures {
        reference: load("compare-reference".into(), &c.reference),
        low: load("compare-low".into(), &c.low),
        rows,
        comparison: c,
    }
}

/// Draws the comparison (or a hint when there is none).
pub fn compare_view(
    ui: &mut Ui,
    settings: &mut Settings,
    textures: Option<&ComparisonTextures>,
    can_compare: bool,
) -> Vec<Command> {
    let mut commands = Vec::new();
    ui.horizontal(|ui| {
        if ui
            .add_enabled(can_compare, egui::Button::new("Compare upscalers"))
            .clicked()
        {
            commands.push(Command::Compare);
        }
        if ui
            .add_enabled(textures.is_some(), egui::Button::new("Save comparison…"))
            .clicked()
        {
            commands.push(Command::Dialog(Dialog::SaveComparison));
        }
    });
    let Some(t) = textures else {
        ui.label("Open a photo, then press \"Compare upscalers\".");
        return commands;
    };
    let c = &t.comparison;
    ui.label(describe(c));
    let count = c.rows.len() + 2;
    // Every column fits the width: image, its frame and the spacing between columns.
    let spacing = ui.spacing().item_spacing.x + 6.0;
    let cell = ((ui.available_width() - spacing * count as f32) / count as f32).clamp(64.0, 512.0);
    let aspect = c.reference.height() as f32 / c.reference.width().max(1) as f32;
    let size = Vec2::new(cell, cell * aspect);
    egui::ScrollArea::horizontal().show(ui, |ui| {
        ui.horizontal_top(|ui| {
            column(ui, "original", None, &t.reference, size);
            let low_title = if c.simulation.is_some() {
                "low resolution"
            } else {
                "input"
            };
            column(ui, low_title, None, &t.low, size);
            for (row, texture) in c.rows.iter().zip(&t.rows) {
                let chosen = settings.upscaler == row.upscaler;
                ui.vertical(|ui| {
                    if ui.selectable_label(chosen, row.upscaler.name()).clicked() {
                        settings.upscaler = row.upscaler;
                    }
                    let scores = row
                        .scores
                        .map_or_else(String::new, |(p, s)| format!("PSNR {p:.2} dB\nSSIM {s:.4}"));
                    ui.label(RichText::new(scores).monospace());
                    let frame = if chosen {
                        Color32::YELLOW
                    } else {
                        Color32::TRANSPARENT
                    };
                    egui::Frame::new().stroke((2.0, frame)).show(ui, |ui| {
                        ui.add(egui::Image::new((texture.id(), size)));
                    });
                });
            }
        });
    });
    commands
}

fn column(
    ui: &mut Ui,
    title: &str,
    scores: Option<&str>,
    texture: &egui::TextureHandle,
    size: Vec2,
) {
    ui.vertical(|ui| {
        ui.label(RichText::new(title).strong());
        ui.label(RichText::new(scores.unwrap_or(" \n ")).monospace());
        egui::Frame::new()
            .stroke((2.0, Color32::TRANSPARENT))
            .show(ui, |ui| {
                ui.add(egui::Image::new((texture.id(), size)));
            });
    });
}

fn describe(c: &UpscalerComparison) -> String {
    match c.simulation {
        Some(sim) => format!(
            "Crop {}x{} shrunk x{} ({}) so the face is {} px wide (asked {} px), upscaled back; \
             scores vs the original crop",
            c.reference.width(),
            c.reference.height(),
            c.factor,
            sim.method.name(),
            c.face_width
                .map_or_else(|| "?".to_owned(), |w| format!("{w:.0}")),
            sim.face_width,
        ),
        None => format!(
            "Crop {}x{} upscaled x{} (no simulated capture, so no scores)",
            c.reference.width(),
            c.reference.height(),
            c.factor
        ),
    }
}
