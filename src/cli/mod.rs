//! The command line: one file per subcommand, each with its clap `Args` and a `run` function.
//! `visage` without a subcommand opens the desktop app.

pub mod compare;
pub mod degrade;
pub mod mesh_info;
pub mod render;
pub mod upscale;

use clap::{Parser, Subcommand};

/// Visage: reconstruct a 3D face mesh from a single photo, even a low-resolution one.
///
/// Run without a subcommand to open the desktop app.
#[derive(Debug, Parser)]
#[command(name = "visage", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; none opens the desktop app.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Start-up options of the desktop app (without a subcommand).
    #[command(flatten)]
    pub app: crate::app::Startup,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a low-resolution capture: downscale a photo by 2, 4 or 8.
    Degrade(degrade::Args),
    /// Upscale a photo with one of the upscalers.
    Upscale(upscale::Args),
    /// Degrade a photo, run every upscaler, print PSNR/SSIM and write a side-by-side PNG.
    Compare(compare::Args),
    /// Print counts, bounds and attributes of a mesh file (OBJ, PLY, STL, GLB).
    MeshInfo(mesh_info::Args),
    /// Render a mesh file to a PNG with the viewport's renderer (no window needed).
    Render(render::Args),
}

impl Command {
    /// Runs the subcommand.
    ///
    /// # Errors
    /// Whatever the subcommand reports; the binary prints it as one line and exits non-zero.
    pub fn run(&self) -> anyhow::Result<()> {
        match self {
            Self::Degrade(a) => degrade::run(a),
            Self::Upscale(a) => upscale::run(a),
            Self::Compare(a) => compare::run(a),
            Self::MeshInfo(a) => mesh_info::run(a),
            Self::Render(a) => render::run(a),
        }
    }
}

/// Saves an image as PNG (or the format its extension names), with the path in any error.
///
/// # Errors
/// The encoder's or the file system's error, with the path.
pub fn save_image(image: &image::RgbImage, path: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    }
    image
        .save(path)
        .with_context(|| format!("{}: cannot write the image", path.display()))
}
