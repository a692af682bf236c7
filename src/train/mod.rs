//! Training loops for the project's own networks. Training never runs in CI; the tests run each
//! loop for a few steps on tiny data to prove it learns and resumes.
//!
//! - [`sr_data`]: super-resolution training pairs cut from a folder of images.
//! - [`espcn`]: `visage train espcn`.
//! - [`vrn_data`], [`vrn`]: `visage train vrn` on synthetic shards.
//! - [`pix2pix`], [`pix2pix_data`]: `visage train pix2pix` on synthetic shards.
//! - [`checkpoint`]: resumable checkpoints shared by every loop.

pub mod checkpoint;
pub mod espcn;
pub mod morphable;
pub mod pix2pix;
pub mod pix2pix_data;
pub mod sr_data;
pub mod vrn;
pub mod vrn_data;
