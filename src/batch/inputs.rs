//! The photos of a batch: files, folders (searched recursively) and glob patterns, expanded to
//! a sorted list, each with the path its outputs take under the output folder; and the
//! deterministic `--shard I/N` slice of that list.

use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File extensions read as photos (case-insensitive).
pub const PHOTO_EXTENSIONS: [&str; 9] = [
    "jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "gif", "jfif",
];

/// One photo of a batch.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// The photo.
    pub path: PathBuf,
    /// Its outputs' stem relative to the output folder: the photo's path relative to the folder
    /// given on the command line (without extension), or its file stem for a file or a glob
    /// match.
    pub stem: PathBuf,
}

/// True for a file whose extension is a photo's.
#[must_use]
pub fn is_photo(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Every photo under `dir`, recursively.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("{}: cannot list", dir.display()))?
            .path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_photo(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// `path` relative to `root` without its extension.
fn relative_stem(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).with_extension("")
}

/// Expands the command line's inputs. A folder gives every photo below it, a pattern with
/// `*`, `?` or `[` every photo it matches, a file itself (whatever its extension, so a broken
/// file is reported rather than skipped). Duplicates are dropped; the list is sorted by path.
///
/// # Errors
/// An input that is neither a file, a folder nor a pattern that matches something.
pub fn expand(inputs: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    let mut found: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    for input in inputs {
        let text = input.to_string_lossy();
        if input.is_dir() {
            let mut files = Vec::new();
            walk(input, &mut files)?;
            for f in files {
                let stem = relative_stem(&f, input);
                found.entry(f).or_insert(stem);
            }
        } else if input.is_file() {
            found
                .entry(input.clone())
                .or_insert_with(|| relative_stem(input, input.parent().unwrap_or(Path::new(""))));
        } else if text.contains(['*', '?', '[']) {
            let paths =
                glob::glob(&text).with_context(|| format!("{text}: not a valid pattern"))?;
            let before = found.len();
            for p in paths.flatten().filter(|p| p.is_file() && is_photo(p)) {
                let stem = relative_stem(&p, p.parent().unwrap_or(Path::new("")));
                found.entry(p).or_insert(stem);
            }
            anyhow::ensure!(found.len() > before, "{text}: matches no photo");
        } else {
            anyhow::bail!("{}: no such file or folder", input.display());
        }
    }
    Ok(found
        .into_iter()
        .map(|(path, stem)| Input { path, stem })
        .collect())
}

/// A `--shard I/N` slice: index `I` of `N`, `0 <= I < N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This slice.
    pub index: u64,
    /// Slices in all.
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("a shard is I/N with 0 <= I < N, got `{s}`");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        (count > 0 && index < count)
            .then_some(Self { index, count })
            .ok_or_else(bad)
    }
}

impl Shard {
    /// True when `input` belongs to this slice: FNV-1a of its output stem, modulo `count`, so
    /// the slice of a photo depends on nothing else (N machines split a collection without
    /// coordinating, and every photo lands in exactly one slice).
    #[must_use]
    pub fn contains(&self, input: &Input) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in input.stem.to_string_lossy().bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % self.count == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_files_and_patterns_expand_to_one_sorted_list() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sub")).unwrap();
        for f in ["a.jpg", "b.PNG", "notes.txt", "sub/c.webp"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        let list = expand(&[d.to_path_buf(), d.join("a.jpg")]).unwrap();
        let stems: Vec<String> = list
            .iter()
            .map(|i| i.stem.to_string_lossy().into_owned())
            .collect();
        assert_eq!(stems, ["a", "b", "sub/c"]);
        let pattern = d.join("*.jpg");
        assert_eq!(expand(&[pattern]).unwrap().len(), 1);
        assert!(expand(&[d.join("missing.jpg")]).is_err());
        assert!(expand(&[d.join("*.gif")]).is_err());
    }

    #[test]
    fn shards_partition_the_inputs() {
        let inputs: Vec<Input> = (0..200)
            .map(|i| Input {
                path: PathBuf::from(format!("p{i}.jpg")),
                stem: PathBuf::from(format!("p{i}")),
            })
            .collect();
        let shards: Vec<Shard> = (0..3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for input in &inputs {
            assert_eq!(shards.iter().filter(|s| s.contains(input)).count(), 1);
        }
        let sizes: Vec<usize> = shards
            .iter()
            .map(|s| inputs.iter().filter(|i| s.contains(i)).count())
            .collect();
        assert!(sizes.iter().all(|&n| n > 40), "{sizes:?}");
        assert!("3/3".parse::<Shard>().is_err() && "1-2".parse::<Shard>().is_err());
    }
}
