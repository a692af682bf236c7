//! `visage render MESH -o view.png`: draws a mesh file with the app's viewport renderer on a
//! windowless GPU device (a software rasteriser such as Mesa's lavapipe is enough).

use crate::pipeline::import;
use crate::viewport::headless::HeadlessGpu;
use crate::viewport::{Shading, ViewOptions, framing_camera};
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `visage render`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The mesh file (OBJ, PLY, STL or GLB).
    pub mesh: PathBuf,
    /// Output image (PNG).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Surface shading.
    #[arg(long, value_enum, default_value_t = Shading::Lit)]
    pub shading: Shading,
    /// Width and height of the square image, pixels.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub size: u32,
    /// Camera turn about the vertical axis, degrees (positive looks from the mesh's right).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub yaw: f32,
    /// Camera elevation, degrees (positive looks from above), within +-89.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub pitch: f32,
}

/// Runs `visage render`.
///
/// # Errors
/// An unreadable mesh, no GPU device, or an unwritable output.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let mesh = import::load(&args.mesh)?;
    let gpu = HeadlessGpu::new().context("cannot render without a GPU device")?;
    let mut camera = framing_camera(&mesh);
    camera.orbit(args.yaw, args.pitch);
    let image = gpu.render(
        &mesh,
        &camera,
        &ViewOptions::new(args.shading),
        [args.size, args.size],
    )?;
    let rgb = image::DynamicImage::ImageRgba8(image).into_rgb8();
    super::save_image(&rgb, &args.output)?;
    println!(
        "wrote {} ({} triangles, {})",
        args.output.display(),
        mesh.triangles.len(),
        gpu.adapter
    );
    Ok(())
}
