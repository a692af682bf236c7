//! Native file dialogs that never block the UI thread: each runs rfd's blocking dialog on a
//! short-lived helper thread and sends the resulting [`Command`] back; the app polls once per
//! frame. One dialog is open at a time.

use super::command::{Command, Dialog};
use crate::pipeline::export::MeshFormat;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Photo extensions offered by the open dialog.
const PHOTO_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "gif"];

/// Runs file dialogs off the UI thread.
pub struct Dialogs {
    tx: SyncSender<Option<Command>>,
    rx: Receiver<Option<Command>>,
    open: bool,
}

impl Default for Dialogs {
    fn default() -> Self {
        let (tx, rx) = sync_channel(2);
        Self {
            tx,
            rx,
            open: false,
        }
    }
}

impl Dialogs {
    /// Shows `dialog` starting in `dir`; `format` names the mesh format to save.
    ///
    /// # Errors
    /// When the helper thread cannot start.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        dialog: Dialog,
        dir: Option<&Path>,
        format: MeshFormat,
    ) -> std::io::Result<()> {
        if self.open {
            return Ok(());
        }
        let mut picker = rfd::FileDialog::new();
        if let Some(dir) = dir {
            picker = picker.set_directory(dir);
        }
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        std::thread::Builder::new()
            .name("visage-dialog".into())
            .spawn(move || {
                let command = run(picker, dialog, format);
                let _ = tx.send(command);
                ctx.request_repaint();
            })?;
        self.open = true;
        Ok(())
    }

    /// The command of a dialog that has closed, if any (never blocks).
    pub fn poll(&mut self) -> Option<Command> {
        let answer = self.rx.try_recv().ok()?;
        self.open = false;
        answer
    }
}

fn run(picker: rfd::FileDialog, dialog: Dialog, format: MeshFormat) -> Option<Command> {
    let meshes = MeshFormat::ALL.map(MeshFormat::extension);
    match dialog {
        Dialog::OpenPhoto => picker
            .set_title("Open a photo")
            .add_filter("Photos", &PHOTO_EXTENSIONS)
            .pick_file()
            .map(Command::LoadPhoto),
        Dialog::OpenMesh => picker
            .set_title("Open a mesh")
            .add_filter("Meshes", &meshes)
            .pick_file()
            .map(Command::OpenMesh),
        Dialog::SaveMesh => picker
            .set_title("Save the mesh")
            .add_filter(format.extension().to_uppercase(), &[format.extension()])
            .set_file_name(format!("face.{}", format.extension()))
            .save_file()
            .map(Command::SaveMesh),
        Dialog::SaveComparison => {
            png(picker, "Save the comparison", "comparison.png").map(Command::SaveComparison)
        }
        Dialog::SaveDepth => png(picker, "Save the depth map", "depth.png").map(Command::SaveDepth),
        Dialog::SaveComparison3d => picker
            .set_title("Folder for the 3D comparison (grid image and meshes)")
            .pick_folder()
            .map(Command::SaveComparison3d),
    }
}

fn png(picker: rfd::FileDialog, title: &str, name: &str) -> Option<PathBuf> {
    picker
        .set_title(title)
        .add_filter("PNG", &["png"])
        .set_file_name(name)
        .save_file()
}
