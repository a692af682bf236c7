//! Helpers the test modules share: fixture paths and photos, and running the `visage` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tests/fixtures/NAME`.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The fixture photo `NAME`, decoded as the app decodes photos.
pub fn fixture_photo(name: &str) -> image::RgbImage {
    visage::pipeline::photo::Photo::load(fixture_path(name))
        .unwrap()
        .rgb
}

/// Runs `visage ARGS...`: (success, stdout, stderr).
pub fn run_visage(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_visage"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
