//! The side panel: open a photo or mesh, the photo with its face rectangle, "simulate low
//! resolution", the upscaler, method and device choices, Run / Cancel, progress and saving.

use super::Session;
use super::command::{Command, Dialog};
use super::photo_view::photo_view;
use super::settings::{FACE_WIDTHS, Settings};
use crate::device::DeviceChoice;
use crate::pipeline::degrade::DegradeMethod;
use crate::pipeline::export::MeshFormat;
use crate::pipeline::upscale::Upscaler;
use crate::worker::Method;
use egui::Ui;

/// Draws the side panel and returns what the user asked for.
pub fn side_panel(ui: &mut Ui, settings: &mut Settings, session: &mut Session) -> Vec<Command> {
    let mut commands = Vec::new();
    ui.horizontal(|ui| {
        if ui.button("Open photo…").clicked() {
            commands.push(Command::Dialog(Dialog::OpenPhoto));
        }
        if ui.button("Open mesh…").clicked() {
            commands.push(Command::Dialog(Dialog::OpenMesh));
        }
    });
    ui.separator();
    photo_section(ui, session, &mut commands);
    face_gauge(ui, settings, session);
    ui.separator();
    pipeline_section(ui, settings);
    device_section(ui, session, &mut commands);
    ui.separator();
    run_section(ui, session, &mut commands);
    ui.separator();
    save_section(ui, settings, session, &mut commands);
    commands
}

fn photo_section(ui: &mut Ui, session: &mut Session, commands: &mut Vec<Command>) {
    let Some(photo) = session.photo.clone() else {
        ui.label("No photo: open one or drop it on the window.");
        return;
    };
    let name = photo
        .path
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or_else(|| "photo".to_owned(), |n| n.to_string_lossy().into_owned());
    ui.label(format!("{name}  ({}x{})", photo.width(), photo.height()));
    if let Some(texture) = &session.photo_texture {
        let size = [photo.width(), photo.height()];
        commands.extend(photo_view(
            ui,
            texture,
            size,
            &session.faces,
            session.crop,
            &mut session.drag_start,
        ));
    }
    let hint = if session.faces.is_empty() {
        "No face found: drag a rectangle around the face."
    } else {
        "Click a face to choose it, or drag a rectangle."
    };
    ui.label(egui::RichText::new(hint).small());
    ui.horizontal(|ui| {
        match session.crop {
            Some(c) => ui.label(format!(
                "Face {}x{} at ({}, {})",
                c.width, c.height, c.x, c.y
            )),
            None => ui.label("Face: the whole photo"),
        };
        if session.crop.is_some() && ui.small_button("Clear").clicked() {
            commands.push(Command::SetCrop(None));
        }
    });
}

/// The chosen face's size, coloured by whether the methods were measured at that size, with the
/// real-photo depth51 of the chosen method there (`visage eval real`, compiled in).
fn face_gauge(ui: &mut Ui, settings: &Settings, session: &Session) {
    let chosen = session
        .crop
        .and_then(|c| session.faces.iter().position(|f| *f == c))
        .unwrap_or(0);
    let Some(Some(size)) = session.face_sizes.get(chosen) else {
        return;
    };
    let (width, eye, note) = match settings.simulation() {
        Some(sim) if (sim.face_width as f32) < size.width_px => {
            let k = sim.face_width as f32 / size.width_px;
            (sim.face_width as f32, size.eye_px * k, " (simulated)")
        }
        _ => (size.width_px, size.eye_px, ""),
    };
    let colour = if width >= 48.0 {
        egui::Color32::LIGHT_GREEN
    } else if width >= 24.0 {
        egui::Color32::YELLOW
    } else {
        egui::Color32::LIGHT_RED
    };
    ui.colored_label(
        colour,
        format!("Face {width:.0} px wide, eyes {eye:.0} px apart{note}"),
    )
    .on_hover_text(
        "Width: x-extent of the face's 68 landmarks. Green: 48 px and more; yellow: 24-48 px \
         (measured down to 24 px); red: below what the methods were measured on.",
    );
    let m = settings.method;
    ui.label(
        egui::RichText::new(format!(
            "{m} at this width: depth51 {:.2} % on real photos",
            m.real_depth51_at(width)
        ))
        .small(),
    );
}

fn pipeline_section(ui: &mut Ui, settings: &mut Settings) {
    ui.checkbox(&mut settings.simulate, "Simulate low resolution");
    ui.add_enabled_ui(settings.simulate, |ui| {
        ui.horizontal(|ui| {
            ui.label("Face width");
            for w in FACE_WIDTHS {
                ui.selectable_value(&mut settings.face_width, w, format!("{w} px"));
            }
        });
        ui.horizontal(|ui| {
            ui.label("Degradation");
            ui.selectable_value(&mut settings.degrade, DegradeMethod::Bicubic, "bicubic");
            ui.selectable_value(
                &mut settings.degrade,
                DegradeMethod::BlurSubsample,
                "blur + subsample",
            );
        });
    });
    egui::ComboBox::from_label("Upscaler")
        .selected_text(settings.upscaler.name())
        .show_ui(ui, |ui| {
            for u in Upscaler::ALL {
                ui.selectable_value(&mut settings.upscaler, u, u.name());
            }
        });
    let short = |m: Method| {
        if m.is_experimental() {
            format!("{} (experimental)", m.name())
        } else {
            m.name().to_owned()
        }
    };
    egui::ComboBox::from_label("Reconstruction")
        .selected_text(short(settings.method))
        .show_ui(ui, |ui| {
            for m in Method::ALL {
                ui.selectable_value(&mut settings.method, m, m.label());
            }
        })
        .response
        .on_hover_text(settings.method.label());
}

/// The device choice (auto, CPU, CUDA 0, and `--device`'s `cuda:N` when it named another) and
/// the device in use as the worker reported it.
fn device_section(ui: &mut Ui, session: &Session, commands: &mut Vec<Command>) {
    let mut choices = vec![DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Cuda(0)];
    if !choices.contains(&session.device) {
        choices.push(session.device);
    }
    let mut chosen = session.device;
    egui::ComboBox::from_label("Device")
        .selected_text(chosen.to_string())
        .show_ui(ui, |ui| {
            for c in choices {
                ui.selectable_value(&mut chosen, c, c.to_string());
            }
        });
    if chosen != session.device {
        commands.push(Command::SetDevice(chosen));
    }
    let running = if session.device_label.is_empty() {
        "…"
    } else {
        &session.device_label
    };
    ui.label(egui::RichText::new(format!("Networks on: {running}")).small())
        .on_hover_text(
            "BlazeFace, FaceMesh, VRN and pix2pix run here; the ESPCN upscaler always runs on \
             the CPU.",
        );
}

fn run_section(ui: &mut Ui, session: &Session, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        let idle = session.busy.is_none();
        if ui
            .add_enabled(idle && session.photo.is_some(), egui::Button::new("Run"))
            .clicked()
        {
            commands.push(Command::Run);
        }
        if ui.add_enabled(!idle, egui::Button::new("Cancel")).clicked() {
            commands.push(Command::Cancel);
        }
    });
    if let Some(job) = session.busy {
        let (stage, fraction) = session.progress.unwrap_or(("starting", 0.0));
        ui.add(
            egui::ProgressBar::new(fraction)
                .text(format!("{job}: {stage}"))
                .animate(true),
        );
    } else if !session.status.is_empty() {
        ui.label(egui::RichText::new(&session.status).small());
    }
    if session.busy.is_none() && !session.stages.is_empty() {
        let line: Vec<String> = session
            .stages
            .iter()
            .map(|(name, ms)| format!("{name} {ms:.0} ms"))
            .collect();
        ui.label(egui::RichText::new(line.join(", ")).small().weak());
    }
}

fn save_section(
    ui: &mut Ui,
    settings: &mut Settings,
    session: &Session,
    commands: &mut Vec<Command>,
) {
    let has_mesh = session.mesh.is_some();
    ui.horizontal(|ui| {
        egui::ComboBox::from_label("Format")
            .selected_text(settings.mesh_format.extension().to_uppercase())
            .show_ui(ui, |ui| {
                for f in MeshFormat::ALL {
                    ui.selectable_value(&mut settings.mesh_format, f, f.extension().to_uppercase());
                }
            });
        if ui
            .add_enabled(has_mesh, egui::Button::new("Save mesh…"))
            .clicked()
        {
            commands.push(Command::Dialog(Dialog::SaveMesh));
        }
    });
    if ui
        .add_enabled(has_mesh, egui::Button::new("Save depth map…"))
        .clicked()
    {
        commands.push(Command::Dialog(Dialog::SaveDepth));
    }
}
