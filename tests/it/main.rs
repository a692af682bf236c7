//! Visage's integration tests, one binary (the candle / wgpu / egui stack links once instead of
//! once per file): the CLI, the app under kittest, the front end against MediaPipe, each method
//! on the real fixture portraits, exports, metrics, rendering and the evaluation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batch;
mod cli;
mod common;
mod eval_report;
mod export_roundtrip;
mod frontend;
mod gui;
mod metrics;
mod morphable;
mod one_path;
mod pix2pix;
mod real_eval;
mod refiner;
mod render;
mod synth_cli;
mod texture;
mod vrn;
