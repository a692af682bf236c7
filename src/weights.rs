//! Every weight file the app needs, embedded in the binary (nothing is downloaded at run time):
//! the one place that names `weights/`. Each file's model card (source, command that rebuilt
//! it, data, measured numbers, licence) is in `weights/README.md`; the networks load these
//! bytes with their own `embedded` constructors.

/// FaceMesh (468 landmarks), converted from the `mediapipe==0.10.14` wheel (Apache-2.0). `weights/facemesh.safetensors`.
pub const FACEMESH: &[u8] = include_bytes!("../weights/facemesh.safetensors");

/// ESPCN x2 upscaler, trained by the project. `weights/espcn_x2.safetensors`.
pub const ESPCN_X2: &[u8] = include_bytes!("../weights/espcn_x2.safetensors");

/// ESPCN x4 upscaler, trained by the project. `weights/espcn_x4.safetensors`.
pub const ESPCN_X4: &[u8] = include_bytes!("../weights/espcn_x4.safetensors");

/// BlazeFace short range, converted from the `mediapipe==0.10.14` wheel (Apache-2.0). `weights/blazeface.safetensors`.
pub const BLAZEFACE: &[u8] = include_bytes!("../weights/blazeface.safetensors");

/// MediaPipe's full-range BlazeFace detector (Apache-2.0). `weights/blazeface_full.safetensors`.
pub const BLAZEFACE_FULL: &[u8] = include_bytes!("../weights/blazeface_full.safetensors");

/// The pix2pix U-Net depth generator, trained by the project. `weights/pix2pix.safetensors`.
pub const PIX2PIX: &[u8] = include_bytes!("../weights/pix2pix.safetensors");

/// The CGAN refiner generator of `3dmm-cgan`, trained by the project. `weights/refiner.safetensors`.
pub const REFINER: &[u8] = include_bytes!("../weights/refiner.safetensors");

/// The landmark-guided VRN, trained by the project. `weights/vrn.safetensors`.
pub const VRN: &[u8] = include_bytes!("../weights/vrn.safetensors");

/// The learned morphable model, built by `visage morphable build` from the ICT Face Model. `weights/morphable.safetensors`.
pub const MORPHABLE: &[u8] = include_bytes!("../weights/morphable.safetensors");

/// The ridge map from FaceMesh's 468 points to the 68 landmarks in the 3D-contour convention,
/// fitted by `visage train contour68`. `weights/contour68.safetensors`.
pub const CONTOUR68: &[u8] = include_bytes!("../weights/contour68.safetensors");
