//! Visage: reconstruct a 3D face mesh from a single photo, including low-resolution ones.
//!
//! The library holds every stage as plain functions and types ([`pipeline`]), the networks
//! ([`nn`]), the metrics ([`metrics`]), figures ([`figure`]) and the command line ([`cli`]). The
//! `visage` binary is the desktop app and the CLI.

pub mod cli;
pub mod eval;
pub mod figure;
pub mod metrics;
pub mod nn;
pub mod pipeline;
pub mod synth;
pub mod train;
