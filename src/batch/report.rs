//! The batch report: one [`PhotoRecord`] per photo, appended to `report.jsonl` as each photo
//! finishes (the journal a stopped run resumes from), then written whole as `report.json` and
//! `report.csv`.

use super::inputs::Input;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// How a photo went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// At least one mesh was written.
    #[serde(rename = "ok")]
    Ok,
    /// The photo was read but holds no face.
    #[serde(rename = "no face")]
    NoFace,
    /// The photo could not be read, or every face failed.
    #[serde(rename = "error")]
    Error,
}

impl Status {
    /// As in the report.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::NoFace => "no face",
            Self::Error => "error",
        }
    }
}

/// One face of a photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaceRecord {
    /// Rank by detection score (0 = best).
    pub index: usize,
    /// Face width in photo pixels (x-extent of its 68 landmarks).
    pub width_px: Option<f32>,
    /// Files written (mesh, and MTL + PNG for textured OBJ).
    pub files: Vec<String>,
    /// Why this face gave no mesh.
    pub error: Option<String>,
    /// True when the landmark model saw no face where the detector found one.
    #[serde(default)]
    pub no_face: bool,
}

/// One photo of the batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotoRecord {
    /// The photo's path as found.
    pub photo: String,
    /// Its output stem (relative to the output folder).
    pub stem: PathBuf,
    /// How it went.
    pub status: Status,
    /// The error, for `no face` and `error`.
    pub message: Option<String>,
    /// Faces detected.
    pub faces_found: usize,
    /// The faces reconstructed.
    pub faces: Vec<FaceRecord>,
    /// Milliseconds per stage (`detect`, `landmarks`, `crop`, `network`, `mesh`, `write`, ...).
    pub ms: BTreeMap<String, f64>,
    /// Milliseconds for the whole photo.
    pub total_ms: f64,
    /// Resident memory of the process after the photo, MiB (Linux), to watch for leaks.
    pub rss_mb: Option<f64>,
}

impl PhotoRecord {
    /// An empty record of `input`.
    #[must_use]
    pub fn new(input: &Input) -> Self {
        Self {
            photo: input.path.display().to_string(),
            stem: input.stem.clone(),
            status: Status::Error,
            message: None,
            faces_found: 0,
            faces: Vec::new(),
            ms: BTreeMap::new(),
            total_ms: 0.0,
            rss_mb: None,
        }
    }

    /// True when the photo needs no second run: its meshes all exist (or it had none to make).
    #[must_use]
    pub fn complete(&self) -> bool {
        self.faces
            .iter()
            .flat_map(|f| &f.files)
            .all(|f| Path::new(f).exists())
    }
}

/// The append-only journal.
pub struct Journal {
    file: std::fs::File,
    path: PathBuf,
}

impl Journal {
    /// Opens (creating) `path` for appending.
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one record as a JSON line and flushes it to the file.
    ///
    /// # Errors
    /// The write failed.
    pub fn append(&mut self, record: &PhotoRecord) -> anyhow::Result<()> {
        let line = serde_json::to_string(record)?;
        writeln!(self.file, "{line}")
            .and_then(|()| self.file.flush())
            .with_context(|| format!("{}: cannot write", self.path.display()))
    }
}

/// The records of a journal by output stem (the last line of a stem wins; a torn last line from
/// an interrupted write is ignored). Empty when the file does not exist.
///
/// # Errors
/// The file exists but cannot be read.
pub fn read_journal(path: &Path) -> anyhow::Result<BTreeMap<PathBuf, PhotoRecord>> {
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<PhotoRecord>(l).ok())
        .map(|r| (r.stem.clone(), r))
        .collect())
}

/// Writes `report.json` (every record) and `report.csv` (one row per photo) into `dir`.
///
/// # Errors
/// Unwritable files.
pub fn write_reports(dir: &Path, records: &BTreeMap<PathBuf, PhotoRecord>) -> anyhow::Result<()> {
    let mut rows: Vec<&PhotoRecord> = records.values().collect();
    rows.sort_by(|a, b| a.photo.cmp(&b.photo));
    let json = dir.join("report.json");
    std::fs::write(&json, serde_json::to_string_pretty(&rows)?)
        .with_context(|| format!("{}: cannot write", json.display()))?;
    let mut csv = String::from(
        "photo,status,faces_found,meshes,face_width_px,detect_ms,landmarks_ms,network_ms,total_ms,files,message\n",
    );
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for r in rows {
        let stage = |n: &str| r.ms.get(n).map_or(String::new(), |v| format!("{v:.1}"));
        let network = ["network", "fit", "refine"]
            .iter()
            .filter_map(|n| r.ms.get(*n))
            .fold(0.0, |a, b| a + b);
        let files: Vec<&str> = r
            .faces
            .iter()
            .flat_map(|f| f.files.first())
            .map(String::as_str)
            .collect();
        let width = r
            .faces
            .first()
            .and_then(|f| f.width_px)
            .map_or(String::new(), |w| format!("{w:.1}"));
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{:.1},{:.1},{},{}\n",
            quote(&r.photo),
            r.status.name(),
            r.faces_found,
            files.len(),
            width,
            stage("detect"),
            stage("landmarks"),
            network,
            r.total_ms,
            quote(&files.join(";")),
            quote(r.message.as_deref().unwrap_or(""))
        ));
    }
    let path = dir.join("report.csv");
    std::fs::write(&path, csv).with_context(|| format!("{}: cannot write", path.display()))
}

/// Resident set size of this process in MiB, from `/proc/self/status` (Linux only).
#[must_use]
pub fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_resumes_and_ignores_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.jsonl");
        let input = Input {
            path: PathBuf::from("a.jpg"),
            stem: PathBuf::from("a"),
        };
        let mut r = PhotoRecord::new(&input);
        r.status = Status::NoFace;
        let mut j = Journal::open(&path).unwrap();
        j.append(&r).unwrap();
        r.status = Status::Ok;
        j.append(&r).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"photo\": \"b.jp")
            .unwrap();
        let back = read_journal(&path).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[&PathBuf::from("a")].status, Status::Ok);
        write_reports(dir.path(), &back).unwrap();
        let csv = std::fs::read_to_string(dir.path().join("report.csv")).unwrap();
        assert_eq!(csv.lines().count(), 2);
        assert!(csv.lines().nth(1).unwrap().starts_with("\"a.jpg\",ok,"));
        // A record whose mesh is gone is not complete.
        r.faces.push(FaceRecord {
            index: 0,
            width_px: None,
            files: vec![dir.path().join("gone.obj").display().to_string()],
            error: None,
            no_face: false,
        });
        assert!(!r.complete());
    }
}
