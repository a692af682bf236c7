//! The pipeline stages, each a plain function or struct shared by the GUI, the CLI, the tests
//! and the training code: photo loading, face detection and landmarks, degradation, upscaling,
//! reconstruction, meshes and their files.

pub mod compare;
pub mod dce;
pub mod degrade;
pub mod detect;
pub mod export;
pub mod import;
pub mod mesh;
pub mod photo;
pub mod reconstruct;
pub mod upscale;
