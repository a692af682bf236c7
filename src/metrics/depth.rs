//! Depth-map error on the face mask, as Galteri et al. (2019) report it: the mean absolute
//! difference between predicted and ground-truth depth over the ground-truth mask, after
//! removing each map's mean over that mask (a monocular depth map has no absolute offset).

/// Mean absolute depth error over the pixels where `mask` is true, both maps centred on their
/// mean over the mask first. Same units as the maps; `None` for an empty mask.
#[must_use]
pub fn centred_mae(pred: &[f32], truth: &[f32], mask: &[bool]) -> Option<f32> {
    let idx: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
    if idx.is_empty() {
        return None;
    }
    let n = idx.len() as f32;
    let mp = idx.iter().map(|&i| pred[i]).sum::<f32>() / n;
    let mt = idx.iter().map(|&i| truth[i]).sum::<f32>() / n;
    Some(
        idx.iter()
            .map(|&i| ((pred[i] - mp) - (truth[i] - mt)).abs())
            .sum::<f32>()
            / n,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_ignored_and_mask_respected() {
        let truth = [1.0, 2.0, 3.0, 100.0];
        let pred = [11.0, 12.0, 15.0, -7.0];
        let mask = [true, true, true, false];
        // Centred: truth [-1, 0, 1], pred [-5/3, -2/3, 7/3] -> |diffs| 2/3, 2/3, 4/3 -> 8/9.
        let e = centred_mae(&pred, &truth, &mask).unwrap();
        assert!((e - 8.0 / 9.0).abs() < 1e-6, "{e}");
        assert!(centred_mae(&pred, &truth, &[false; 4]).is_none());
    }
}
