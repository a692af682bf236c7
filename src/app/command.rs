//! Everything the panels can ask for. Panels return [`Command`]s; the app runs them in one place
//! (`VisageApp::execute`), so no widget talks to the worker or the file system itself.

use crate::device::DeviceChoice;
use crate::worker::CropRect;
use std::path::PathBuf;

/// A file dialog the app can open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialog {
    /// Pick a photo to open.
    OpenPhoto,
    /// Pick a mesh file to open.
    OpenMesh,
    /// Choose where to save the mesh.
    SaveMesh,
    /// Choose where to save the comparison figure.
    SaveComparison,
    /// Choose where to save the depth map.
    SaveDepth,
    /// Choose the folder for the 3D comparison (grid PNG and meshes).
    SaveComparison3d,
}

/// A request from a panel.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Show a file dialog (on a helper thread).
    Dialog(Dialog),
    /// Open this photo.
    LoadPhoto(PathBuf),
    /// Open this mesh file.
    OpenMesh(PathBuf),
    /// Reconstruct from the current photo and crop.
    Run,
    /// Cancel the running job.
    Cancel,
    /// Compare the upscalers on the current crop.
    Compare,
    /// Reconstruct the current face once per upscaler (or per method) side by side in 3D.
    Compare3d,
    /// Save the current mesh here.
    SaveMesh(PathBuf),
    /// Save the comparison figure here.
    SaveComparison(PathBuf),
    /// Save the depth map here.
    SaveDepth(PathBuf),
    /// Save the 3D comparison (grid PNG and every panel's mesh) into this folder.
    SaveComparison3d(PathBuf),
    /// Use this face rectangle (`None`: the whole photo).
    SetCrop(Option<CropRect>),
    /// Put the camera back in front of the mesh.
    ResetCamera,
    /// Hide the error with this index.
    DismissError(usize),
    /// Run the networks on this device from now on.
    SetDevice(DeviceChoice),
}
