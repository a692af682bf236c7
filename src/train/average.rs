//! Weight averaging of checkpoints (`visage train average`): the element-wise mean of several
//! saved states of one network, e.g. the snapshots of a constant-rate stretch of training
//! (stochastic weight averaging, Izmailov et al. 2018). Meant for networks without batch
//! statistics (VRN has no normalisation layer), whose averaged weights need no re-estimation.

use anyhow::Context;
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The element-wise mean of the tensors of the safetensors files `paths`.
///
/// # Errors
/// No files, an unreadable file, or files whose tensor names, shapes or types differ.
pub fn average_files(paths: &[PathBuf]) -> anyhow::Result<HashMap<String, Tensor>> {
    let (first, rest) = paths
        .split_first()
        .context("weight averaging needs at least one file")?;
    let mut sum = load(first)?;
    for path in rest {
        let other = load(path)?;
        anyhow::ensure!(
            other.len() == sum.len(),
            "{}: {} tensors, {} has {}",
            path.display(),
            other.len(),
            first.display(),
            sum.len()
        );
        for (name, acc) in &mut sum {
            let t = other
                .get(name)
                .with_context(|| format!("{}: no tensor {name}", path.display()))?;
            anyhow::ensure!(
                t.shape() == acc.shape() && t.dtype() == acc.dtype(),
                "{}: tensor {name} is {:?} {:?}, {} has {:?} {:?}",
                path.display(),
                t.dtype(),
                t.shape(),
                first.display(),
                acc.dtype(),
                acc.shape()
            );
            *acc = (&*acc + t)?;
        }
    }
    let n = paths.len() as f64;
    sum.into_iter()
        .map(|(name, t)| Ok((name, (t / n)?)))
        .collect()
}

fn load(path: &Path) -> anyhow::Result<HashMap<String, Tensor>> {
    candle_core::safetensors::load(path, &Device::Cpu)
        .with_context(|| format!("{}: not a readable safetensors file", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, tensors: &[(&str, Tensor)]) -> PathBuf {
        let path = dir.join(name);
        let map: HashMap<String, Tensor> = tensors
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        candle_core::safetensors::save(&map, &path).unwrap();
        path
    }

    #[test]
    fn the_mean_of_three_files_is_taken_per_element() {
        let dir = tempfile::tempdir().unwrap();
        let dev = Device::Cpu;
        let files: Vec<PathBuf> = [1.0f32, 2.0, 6.0]
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let a = Tensor::new(&[v, -v, 0.5 * v], &dev).unwrap();
                let b = Tensor::new(&[[v * 10.0]], &dev).unwrap();
                write(
                    dir.path(),
                    &format!("{i}.safetensors"),
                    &[("a", a), ("b", b)],
                )
            })
            .collect();
        let mean = average_files(&files).unwrap();
        let a: Vec<f32> = mean["a"].to_vec1().unwrap();
        assert_eq!(a, vec![3.0, -3.0, 1.5]);
        let b: Vec<Vec<f32>> = mean["b"].to_vec2().unwrap();
        assert_eq!(b, vec![vec![30.0]]);
    }

    #[test]
    fn files_of_different_networks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dev = Device::Cpu;
        let one = write(
            dir.path(),
            "one.safetensors",
            &[("a", Tensor::new(&[1.0f32, 2.0], &dev).unwrap())],
        );
        let shape = write(
            dir.path(),
            "shape.safetensors",
            &[("a", Tensor::new(&[1.0f32, 2.0, 3.0], &dev).unwrap())],
        );
        let name = write(
            dir.path(),
            "name.safetensors",
            &[("z", Tensor::new(&[1.0f32, 2.0], &dev).unwrap())],
        );
        let err = average_files(&[one.clone(), shape]).unwrap_err();
        assert!(err.to_string().contains("tensor a"), "{err}");
        let err = average_files(&[one, name]).unwrap_err();
        assert!(err.to_string().contains("no tensor a"), "{err}");
        assert!(average_files(&[]).is_err());
    }
}
