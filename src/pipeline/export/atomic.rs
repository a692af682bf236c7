//! Atomic file writes: write into a temporary file beside the target, then rename it over the
//! target. A failure (or a crash) leaves the old file, or nothing, never a partial file.

use super::ExportError;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `path` through `fill`, atomically.
///
/// # Errors
/// [`ExportError::Io`] naming `path`.
pub(super) fn write(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".visage-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        fill(&mut w).map_err(io)?;
        w.flush().map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
