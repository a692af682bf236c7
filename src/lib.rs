//! Visage: reconstruct a 3D face mesh from a single photo, including low-resolution ones.
//!
//! The library holds every stage as plain functions and types ([`pipeline`]), the metrics
//! ([`metrics`]), figures ([`figure`]) and the command line ([`cli`]), the
//! 3D viewport ([`viewport`]), the worker thread ([`worker`]) and the desktop app ([`app`]). The `visage` binary is
//! the desktop app and the CLI.

pub mod app;
pub mod cli;
pub mod figure;
pub mod metrics;
pub mod pipeline;
pub mod viewport;
pub mod worker;
