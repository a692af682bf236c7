//! Visage: reconstruct a 3D face mesh from a single photo, including low-resolution ones.
//!
//! The library holds every stage as plain functions and types (`pipeline`), the networks
//! (`nn`), and the front ends' shared parts. The `visage` binary is the GUI and the CLI.

pub mod cli;
pub mod pipeline;
pub mod synth;
