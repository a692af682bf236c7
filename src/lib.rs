//! Visage: reconstruct a 3D face mesh from a single photo, including low-resolution ones.
//!
//! The library holds every stage as plain functions and types ([`pipeline`]), the networks
//! ([`nn`]), the synthetic data engine ([`synth`]), training ([`train`]), evaluation
//! ([`eval`]), metrics ([`metrics`]), figures ([`figure`]), the compute device ([`device`]), the
//! 3D viewport ([`viewport`]), the worker thread ([`worker`]), the desktop app ([`app`]) and the
//! command line ([`cli`]). The `visage` binary is the desktop app and the CLI.
//!
//! # Architecture
//!
//! One path from photo to mesh: [`pipeline::reconstruct::photo_to_mesh`] (detect, landmark,
//! crop with the user's upscaler, then a [`pipeline::reconstruct::Reconstructor`]), called by the
//! app's worker, the CLI, the benchmark and the evaluation alike.
//!
//! Dependencies point one way (checked by a test in [`architecture`], which holds the table):
//! - `weights` (the embedded weight files), `device`, `timing`, `figure`: nothing else of the
//!   crate; `nn` (networks) -> `weights`;
//! - `metrics` -> `pipeline` (the mesh type); `pipeline` -> `nn`, `weights`, `metrics`, `timing`;
//! - `synth` -> `pipeline`, `nn`, `metrics`; `dataset` -> `synth`, `pipeline`, `metrics`;
//! - `train` and `eval` -> `dataset`, `synth`, `pipeline`, `nn`, `metrics`, `device`,
//!   `timing`, `figure` (and `eval` -> `viewport` for its figures), never each other;
//! - `worker` -> `pipeline`, `metrics`, `device`, `figure`, `timing`; `viewport` -> `pipeline`;
//! - `batch` -> `pipeline`, `device`, `timing`;
//! - `app` -> `worker`, `viewport`, `pipeline`, `device`, `figure`; `cli` -> everything.
//!
//! No two files import each other, directly or in a loop.

/// mimalloc keeps freed pages for reuse: every candle op allocates its output, and with glibc's
/// malloc the large ones went back to the operating system and were faulted in again on the next
/// inference (up to 1 ms per 96 x 96 layer; docs/frontend.md, "Speed").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod app;
pub mod architecture;
pub mod batch;
pub mod cli;
pub mod dataset;
pub mod device;
pub mod eval;
pub mod figure;
pub mod metrics;
pub mod nn;
pub mod pipeline;
pub mod synth;
pub mod timing;
pub mod train;
pub mod viewport;
pub mod weights;
pub mod worker;
