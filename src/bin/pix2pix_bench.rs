//! Benchmark of the pix2pix photo-to-mesh path on the CPU (not a test): median time of each
//! stage over repeated runs on each photo.
//!
//! ```text
//! cargo run --release --bin pix2pix_bench -- --repeats 10
//! ```

use anyhow::{Context, Result};
use candle_core::Device;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;
use visage::pipeline::detect::Detector;
use visage::pipeline::photo::Photo;
use visage::pipeline::reconstruct::pix2pix::{self, Options, StageTimes};
use visage::pipeline::reconstruct::pix2pix_model::Pix2pixModel;

/// Arguments.
#[derive(Debug, Parser)]
struct Args {
    /// Photos (default: the two test fixtures).
    photos: Vec<PathBuf>,
    /// Timed repetitions per photo (after one warm-up).
    #[arg(long, default_value_t = 10)]
    repeats: usize,
    /// Generator weights.
    #[arg(long, default_value = "weights/pix2pix.safetensors")]
    weights: PathBuf,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let photos = if args.photos.is_empty() {
        vec![
            root.join("tests/fixtures/grace_hopper.jpg"),
            root.join("tests/fixtures/astronaut.png"),
        ]
    } else {
        args.photos.clone()
    };
    let detector = Detector::new(&Device::Cpu).context("loading the face networks")?;
    let model = Pix2pixModel::load(&args.weights)?;
    println!("| photo | detect ms | landmarks ms | crop ms | network ms | mesh ms | total ms |");
    println!("|---|---|---|---|---|---|---|");
    for path in &photos {
        let photo = Photo::load(path)?;
        let mut runs: Vec<StageTimes> = Vec::new();
        for k in 0..=args.repeats {
            let face = pix2pix::reconstruct(&photo.rgb, &detector, &model, &Options::default())?;
            if k > 0 {
                runs.push(face.times);
            }
        }
        let stage = |f: fn(&StageTimes) -> Duration| median(runs.iter().map(f).collect());
        let total = median(
            runs.iter()
                .map(|t| t.detect + t.landmarks + t.crop + t.network + t.mesh)
                .collect(),
        );
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into()),
            ms(stage(|t| t.detect)),
            ms(stage(|t| t.landmarks)),
            ms(stage(|t| t.crop)),
            ms(stage(|t| t.network)),
            ms(stage(|t| t.mesh)),
            ms(total)
        );
    }
    Ok(())
}
