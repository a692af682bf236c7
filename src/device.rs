//! Compute device choice: candle on CUDA when the build has the `cuda` feature and a GPU
//! answers, the CPU otherwise. The CLI's `--device` and the GUI share [`DeviceChoice`].
//!
//! The default build has no CUDA code; `cargo build --release --features cuda` adds it (see
//! README for the toolkit it needs). `auto` falls back to the CPU with a message when CUDA is
//! compiled in but no device or driver is found; an explicit `cuda:N` that fails is an error in
//! the CLI, while the app falls back to the CPU and shows the error ([`select_or_cpu`]).

use candle_core::Device;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

static CHOICE: OnceLock<DeviceChoice> = OnceLock::new();
static SELECTED: OnceLock<Result<SelectedDevice, String>> = OnceLock::new();

/// Sets the process-wide device choice (the CLI's `--device`, the GUI's setting) before the
/// first [`current`] call; later calls are ignored. Returns whether it took effect.
pub fn set_choice(choice: DeviceChoice) -> bool {
    CHOICE.set(choice).is_ok()
}

/// The process-wide choice: the one given to [`set_choice`], else `auto`.
#[must_use]
pub fn choice() -> DeviceChoice {
    CHOICE.get().copied().unwrap_or_default()
}

/// The process-wide device, opened once from the [`set_choice`] choice (default `auto`).
///
/// # Errors
/// The message of a [`DeviceError`] for an explicit CUDA device that cannot be used.
pub fn current() -> Result<&'static SelectedDevice, String> {
    SELECTED
        .get_or_init(|| select(choice()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Where networks run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DeviceChoice {
    /// CUDA device 0 if available, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device `n`.
    Cuda(usize),
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// A `--device` value that is not `auto`, `cpu`, `cuda` or `cuda:N`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown device {0:?}: use auto, cpu, cuda or cuda:N")]
pub struct ParseDeviceError(String);

impl FromStr for DeviceChoice {
    type Err = ParseDeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| ParseDeviceError(s.to_string())),
        }
    }
}

/// Why an explicitly requested device cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// This binary was built without CUDA.
    #[error(
        "cuda:{0} was requested but this build has no CUDA support (rebuild with --features cuda)"
    )]
    NotCompiled(usize),
    /// CUDA is compiled in but the device did not open.
    #[error("cuda:{index} could not be opened: {reason}")]
    Unavailable {
        /// Device index.
        index: usize,
        /// Driver or runtime message.
        reason: String,
    },
}

/// The opened device and a sentence for the user saying which one runs and why.
#[derive(Clone, Debug)]
pub struct SelectedDevice {
    /// The candle device.
    pub device: Device,
    /// E.g. "CPU (this build has no CUDA support)".
    pub description: String,
}

/// True when this binary was built with the `cuda` feature.
#[must_use]
pub fn cuda_compiled() -> bool {
    cfg!(feature = "cuda")
}

/// Opens the device for `choice`.
///
/// # Errors
/// [`DeviceError`] only for an explicit `cuda:N`; `auto` always falls back to the CPU.
pub fn select(choice: DeviceChoice) -> Result<SelectedDevice, DeviceError> {
    let cpu = |why: String| SelectedDevice {
        device: Device::Cpu,
        description: format!("CPU ({why})"),
    };
    match choice {
        DeviceChoice::Cpu => Ok(cpu("requested".into())),
        DeviceChoice::Auto if !cuda_compiled() => Ok(cpu("this build has no CUDA support".into())),
        DeviceChoice::Auto => Ok(match Device::new_cuda(0) {
            Ok(device) => SelectedDevice {
                device,
                description: "CUDA device 0".into(),
            },
            Err(e) => cpu(format!("no usable CUDA device: {}", first_line(&e))),
        }),
        DeviceChoice::Cuda(index) if !cuda_compiled() => Err(DeviceError::NotCompiled(index)),
        DeviceChoice::Cuda(index) => Device::new_cuda(index)
            .map(|device| SelectedDevice {
                device,
                description: format!("CUDA device {index}"),
            })
            .map_err(|e| DeviceError::Unavailable {
                index,
                reason: first_line(&e),
            }),
    }
}

/// The first line of a candle error (its message without the backtrace candle appends when
/// `RUST_BACKTRACE` is set).
fn first_line(e: &candle_core::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}

/// Like [`select`], but an explicit CUDA device that cannot be used falls back to the CPU as
/// well (the app's behaviour); the error comes back beside the CPU for the caller to show.
#[must_use]
pub fn select_or_cpu(choice: DeviceChoice) -> (SelectedDevice, Option<DeviceError>) {
    match select(choice) {
        Ok(selected) => (selected, None),
        Err(e) => (
            SelectedDevice {
                device: Device::Cpu,
                description: format!("CPU ({e})"),
            },
            Some(e),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        assert_eq!("auto".parse(), Ok(DeviceChoice::Auto));
        assert_eq!("CPU".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(3)));
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
        assert_eq!(DeviceChoice::Cuda(2).to_string(), "cuda:2");
    }

    #[test]
    fn auto_and_cpu_always_give_a_device() {
        let auto = select(DeviceChoice::Auto).unwrap();
        assert!(!auto.description.is_empty());
        assert!(select(DeviceChoice::Cpu).unwrap().device.is_cpu());
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn explicit_cuda_without_the_feature_is_a_clear_error() {
        let err = select(DeviceChoice::Cuda(0)).unwrap_err().to_string();
        assert!(err.contains("--features cuda"), "{err}");
        let (fallback, err) = select_or_cpu(DeviceChoice::Cuda(1));
        assert!(fallback.device.is_cpu());
        assert!(
            fallback.description.contains("cuda:1"),
            "{}",
            fallback.description
        );
        assert!(err.is_some());
    }
}
