//! Visage: reconstruct a 3D face mesh from a single photo, including low-resolution ones.
//!
//! The library holds every stage as plain functions and types ([`pipeline`]), the networks
//! ([`nn`]), the synthetic data engine ([`synth`]), training ([`train`]), evaluation
//! ([`eval`]), metrics ([`metrics`]), figures ([`figure`]), the compute device ([`device`]), the
//! 3D viewport ([`viewport`]), the worker thread ([`worker`]), the desktop app ([`app`]) and the
//! command line ([`cli`]). The `visage` binary is the desktop app and the CLI.

pub mod app;
pub mod cli;
pub mod device;
pub mod eval;
pub mod figure;
pub mod metrics;
pub mod nn;
pub mod pipeline;
pub mod synth;
pub mod train;
pub mod viewport;
pub mod worker;
