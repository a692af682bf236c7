//! CPU kernels for channels-last (NHWC) maps, as candle custom ops: the 3x3 depthwise
//! convolution (bias included), im2col for the strided stem convolutions, and the 2x2 max-pool.
//!
//! candle has no channels-last depthwise convolution: its `groups = C` convolution runs C
//! separate convolutions, and the portable 9-shifted-slices form in [`super::layers`] spends
//! most of its time in strided element-wise ops; its conv2d on 3 input channels and its
//! reductions over non-last axes are slow too. These loops read each pixel's channel vector
//! contiguously and let the compiler vectorise. Inference only (no backward); other devices use
//! the portable tensor forms in [`super::layers`], which tests check against these.

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, bail};

/// The op: weights tap-major `[9][C]`, bias `[C]`, stride and the top/left zero padding (the
/// bottom/right padding is implied by the output size `ceil(in / stride)`).
#[derive(Clone, Debug)]
pub struct DepthwiseNhwc {
    /// `weights[(ky * 3 + kx) * C + c]`.
    pub weights: Vec<f32>,
    /// `bias[c]`.
    pub bias: Vec<f32>,
    /// 1 or 2.
    pub stride: usize,
    /// Rows of zeros above the input.
    pub pad_top: usize,
    /// Columns of zeros left of the input.
    pub pad_left: usize,
}

impl CustomOp1 for DepthwiseNhwc {
    fn name(&self) -> &'static str {
        "depthwise3x3-nhwc"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (b, h, w, c) = layout.shape().dims4()?;
        let CpuStorage::F32(data) = storage else {
            bail!("depthwise3x3-nhwc: f32 only")
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("depthwise3x3-nhwc: contiguous input only")
        };
        if self.bias.len() != c || self.weights.len() != 9 * c {
            bail!(
                "depthwise3x3-nhwc: {c} channels but weights for {}",
                self.bias.len()
            );
        }
        let src = &data[start..end];
        let (ho, wo) = (h.div_ceil(self.stride), w.div_ceil(self.stride));
        let mut out = vec![0f32; b * ho * wo * c];
        for (pix, dst) in out.chunks_exact_mut(c).enumerate() {
            let (bi, i, j) = (pix / (ho * wo), (pix / wo) % ho, pix % wo);
            dst.copy_from_slice(&self.bias);
            for ky in 0..3 {
                let Some(y) = (i * self.stride + ky)
                    .checked_sub(self.pad_top)
                    .filter(|&y| y < h)
                else {
                    continue;
                };
                for kx in 0..3 {
                    let Some(x) = (j * self.stride + kx)
                        .checked_sub(self.pad_left)
                        .filter(|&x| x < w)
                    else {
                        continue;
                    };
                    let at = ((bi * h + y) * w + x) * c;
                    let inp = &src[at..at + c];
                    let wt = &self.weights[(ky * 3 + kx) * c..(ky * 3 + kx + 1) * c];
                    for ((d, &v), &k) in dst.iter_mut().zip(inp).zip(wt) {
                        *d += v * k;
                    }
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((b, ho, wo, c))))
    }
}

/// Zero-padded im2col on NHWC maps: `[B, H, W, C]` -> `[B * Ho * Wo, k * k * C]`, rows in output
/// pixel order, columns `(ky, kx, c)`.
#[derive(Clone, Debug)]
pub struct Im2ColNhwc {
    /// Kernel side.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Rows of zeros above the input.
    pub pad_top: usize,
    /// Columns of zeros left of the input.
    pub pad_left: usize,
    /// Output height and width.
    pub out: (usize, usize),
}

impl CustomOp1 for Im2ColNhwc {
    fn name(&self) -> &'static str {
        "im2col-nhwc"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (b, h, w, c) = layout.shape().dims4()?;
        let CpuStorage::F32(data) = storage else {
            bail!("im2col-nhwc: f32 only")
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("im2col-nhwc: contiguous input only")
        };
        let src = &data[start..end];
        let (ho, wo) = self.out;
        let row_len = self.k * self.k * c;
        let mut out = vec![0f32; b * ho * wo * row_len];
        for (pix, row) in out.chunks_exact_mut(row_len).enumerate() {
            let (bi, i, j) = (pix / (ho * wo), (pix / wo) % ho, pix % wo);
            for ky in 0..self.k {
                let Some(y) = (i * self.stride + ky)
                    .checked_sub(self.pad_top)
                    .filter(|&y| y < h)
                else {
                    continue;
                };
                for kx in 0..self.k {
                    let Some(x) = (j * self.stride + kx)
                        .checked_sub(self.pad_left)
                        .filter(|&x| x < w)
                    else {
                        continue;
                    };
                    let at = ((bi * h + y) * w + x) * c;
                    let to = (ky * self.k + kx) * c;
                    row[to..to + c].copy_from_slice(&src[at..at + c]);
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((b * ho * wo, row_len))))
    }
}

/// 2x2 max-pool, stride 2, on NHWC maps with even H and W.
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2Nhwc;

impl CustomOp1 for MaxPool2Nhwc {
    fn name(&self) -> &'static str {
        "maxpool2-nhwc"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (b, h, w, c) = layout.shape().dims4()?;
        let CpuStorage::F32(data) = storage else {
            bail!("maxpool2-nhwc: f32 only")
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("maxpool2-nhwc: contiguous input only")
        };
        let src = &data[start..end];
        let (ho, wo) = (h / 2, w / 2);
        let mut out = vec![f32::NEG_INFINITY; b * ho * wo * c];
        for (pix, dst) in out.chunks_exact_mut(c).enumerate() {
            let (bi, i, j) = (pix / (ho * wo), (pix / wo) % ho, pix % wo);
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let at = ((bi * h + 2 * i + dy) * w + 2 * j + dx) * c;
                for (d, &v) in dst.iter_mut().zip(&src[at..at + c]) {
                    *d = d.max(v);
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((b, ho, wo, c))))
    }
}
