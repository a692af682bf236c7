//! `visage mesh-info FILE`: what a mesh file holds.

use crate::pipeline::import;
use std::path::PathBuf;

/// Arguments of `visage mesh-info`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Mesh file: .obj, .ply, .stl or .glb.
    pub file: PathBuf,
}

/// Runs `visage mesh-info`.
///
/// # Errors
/// Unknown format or a file the parser rejects.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let mesh = import::load(&args.file)?;
    let components = {
        let mut labels = mesh.component_labels();
        labels.sort_unstable();
        labels.dedup();
        labels.len()
    };
    println!("file:       {}", args.file.display());
    println!("vertices:   {}", mesh.vertex_count());
    println!("triangles:  {}", mesh.triangles.len());
    println!("components: {components}");
    if let Some((lo, hi)) = mesh.bounds() {
        println!("bounds min: [{:.4}, {:.4}, {:.4}]", lo[0], lo[1], lo[2]);
        println!("bounds max: [{:.4}, {:.4}, {:.4}]", hi[0], hi[1], hi[2]);
    }
    println!(
        "colours:    {}",
        if mesh.has_colors() {
            "per vertex"
        } else {
            "none"
        }
    );
    match &mesh.texture {
        Some(t) if mesh.has_texture() => {
            println!(
                "texture:    {} x {} px, UVs per vertex",
                t.width(),
                t.height()
            );
        }
        _ => println!("texture:    none"),
    }
    Ok(())
}
