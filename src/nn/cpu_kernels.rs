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
        let dims = DepthwiseDims { h, w, c, ho, wo };
        self.run(src, &mut out, &dims);
        Ok((CpuStorage::F32(out), Shape::from((b, ho, wo, c))))
    }
}

/// Input and output sizes of one depthwise call (the batch is the output's row count / `ho`).
struct DepthwiseDims {
    h: usize,
    w: usize,
    c: usize,
    ho: usize,
    wo: usize,
}

impl DepthwiseNhwc {
    /// The loops: one output row at a time; per tap, the range of output columns whose input
    /// column is inside the image is computed once, so the inner loops carry no bounds logic.
    fn run(&self, src: &[f32], out: &mut [f32], d: &DepthwiseDims) {
        let DepthwiseDims {
            h, w, c, ho, wo, ..
        } = *d;
        let s = self.stride;
        // Output columns j with 0 <= j * s + kx - pad_left < w.
        let cols = |kx: usize| {
            let first = self.pad_left.saturating_sub(kx).div_ceil(s);
            let end = (w + self.pad_left).saturating_sub(kx).div_ceil(s).min(wo);
            first..end.max(first)
        };
        let ranges = [cols(0), cols(1), cols(2)];
        for (r, row) in out.chunks_exact_mut(wo * c).enumerate() {
            let (bi, i) = (r / ho, r % ho);
            for dst in row.chunks_exact_mut(c) {
                dst.copy_from_slice(&self.bias);
            }
            for ky in 0..3 {
                let Some(y) = (i * s + ky).checked_sub(self.pad_top).filter(|&y| y < h) else {
                    continue;
                };
                let src_row = &src[(bi * h + y) * w * c..(bi * h + y + 1) * w * c];
                for (kx, range) in ranges.iter().enumerate() {
                    let tap = ky * 3 + kx;
                    let wt = &self.weights[tap * c..(tap + 1) * c];
                    for j in range.clone() {
                        let x = j * s + kx - self.pad_left;
                        multiply_add(
                            &mut row[j * c..(j + 1) * c],
                            &src_row[x * c..(x + 1) * c],
                            wt,
                        );
                    }
                }
            }
        }
    }
}

/// `dst += a * b`, element-wise.
#[inline(always)]
fn multiply_add(dst: &mut [f32], a: &[f32], b: &[f32]) {
    for ((d, &x), &y) in dst.iter_mut().zip(a).zip(b) {
        *d += x * y;
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

/// The activation of [`BiasResidualAct`].
#[derive(Clone, Debug, PartialEq)]
pub enum Act {
    /// None (linear).
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x >= 0`, `slope[c] * x` below.
    PRelu(Vec<f32>),
}

/// `act(x + bias + residual)` on NHWC maps in one pass: `x` `[..., C]` (a 1x1 convolution's
/// product before its bias), `residual` `[..., R]` with `R <= C` (a block's skip; its missing
/// channels are zeros, as the networks' channel-growing blocks pad them), or none.
#[derive(Clone, Debug)]
pub struct BiasResidualAct {
    /// `bias[c]`.
    pub bias: Vec<f32>,
    /// The activation.
    pub act: Act,
}

impl BiasResidualAct {
    fn run(&self, x: &[f32], res: Option<(&[f32], usize)>) -> Vec<f32> {
        let c = self.bias.len();
        let mut out = x.to_vec();
        // `(x + bias) + residual` in this order (the portable form's, so results do not move),
        // then the activation; branch-free loops the compiler vectorises.
        for px in out.chunks_exact_mut(c) {
            px.iter_mut().zip(&self.bias).for_each(|(v, b)| *v += b);
        }
        match res {
            Some((r, rc)) if rc == c => out.iter_mut().zip(r).for_each(|(v, s)| *v += s),
            Some((r, rc)) => {
                for (px, rp) in out.chunks_exact_mut(c).zip(r.chunks_exact(rc.max(1))) {
                    px.iter_mut().zip(rp).for_each(|(v, s)| *v += s);
                }
            }
            None => {}
        }
        match &self.act {
            Act::Identity => {}
            Act::Relu => out.iter_mut().for_each(|v| *v = v.max(0.0)),
            Act::PRelu(slope) => {
                for px in out.chunks_exact_mut(c) {
                    for (v, a) in px.iter_mut().zip(slope) {
                        *v = v.max(0.0) + a * v.min(0.0);
                    }
                }
            }
        }
        out
    }
}

/// The contiguous f32 data of a CPU storage, or an error naming `op`.
fn contiguous<'a>(op: &str, storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        bail!("{op}: f32 only")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("{op}: contiguous input only")
    };
    Ok(&data[start..end])
}

impl CustomOp1 for BiasResidualAct {
    fn name(&self) -> &'static str {
        "bias-act-nhwc"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = contiguous(self.name(), storage, layout)?;
        if layout.shape().dims().last() != Some(&self.bias.len()) {
            bail!(
                "bias-act-nhwc: {:?} vs {} channels",
                layout.shape(),
                self.bias.len()
            );
        }
        Ok((CpuStorage::F32(self.run(x, None)), layout.shape().clone()))
    }
}

impl candle_core::CustomOp2 for BiasResidualAct {
    fn name(&self) -> &'static str {
        "bias-residual-act-nhwc"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous("bias-residual-act-nhwc", s1, l1)?;
        let r = contiguous("bias-residual-act-nhwc", s2, l2)?;
        let c = self.bias.len();
        let rc = l2.shape().dims().last().copied().unwrap_or(0);
        if l1.shape().dims().last() != Some(&c)
            || rc > c
            || x.len() / c.max(1) != r.len() / rc.max(1)
        {
            bail!(
                "bias-residual-act-nhwc: {:?} + {:?}, {c} channels",
                l1.shape(),
                l2.shape()
            );
        }
        Ok((
            CpuStorage::F32(self.run(x, Some((r, rc)))),
            l1.shape().clone(),
        ))
    }
}

/// `[M, K] x [K, N]` (both contiguous, row-major) on the calling thread, through nalgebra's
/// product (matrixmultiply's kernels). candle's CPU matmul asks for its thread count on every
/// call, and with `RAYON_NUM_THREADS` unset that count is read from `/proc/cpuinfo`: about 120
/// reads per photo for BlazeFace and FaceMesh, 3 ms of the 19 ms they take on `astronaut.png`
/// here. These networks' products are small enough for one thread (see
/// `pipeline::detect::one_thread`).
#[derive(Clone, Copy, Debug)]
pub struct MatMul;

impl candle_core::CustomOp2 for MatMul {
    fn name(&self) -> &'static str {
        "matmul-one-thread"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let a = contiguous(self.name(), s1, l1)?;
        let b = contiguous(self.name(), s2, l2)?;
        let (m, k) = l1.shape().dims2()?;
        let (kb, n) = l2.shape().dims2()?;
        if k != kb {
            bail!("matmul-one-thread: {:?} x {:?}", l1.shape(), l2.shape());
        }
        let mut out = vec![0.0f32; m * n];
        if k > 0 {
            // Row-major buffers read as column-major are the transposes: C^T = B^T A^T.
            let at = nalgebra::DMatrixView::from_slice(a, k, m);
            let bt = nalgebra::DMatrixView::from_slice(b, n, k);
            let mut ct = nalgebra::DMatrixViewMut::from_slice(&mut out, n, m);
            ct.gemm(1.0, &bt, &at, 0.0);
        }
        Ok((CpuStorage::F32(out), Shape::from((m, n))))
    }
}

#[cfg(test)]
mod matmul_tests {
    use super::MatMul;
    use candle_core::{Device, Tensor};

    /// The one-thread product equals candle's on shapes the networks use (single rows and
    /// columns included).
    #[test]
    fn matmul_matches_candles() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        for (m, k, n) in [
            (1, 3, 1),
            (1, 1404, 1),
            (7, 5, 3),
            (64, 24, 48),
            (4096, 32, 16),
            (1, 1152, 1404),
            (2, 3, 64),
        ] {
            let a = Tensor::randn(0f32, 1.0, (m, k), &dev)?;
            let b = Tensor::randn(0f32, 1.0, (k, n), &dev)?;
            let ours = a.apply_op2_no_bwd(&b, &MatMul)?;
            let theirs = a.matmul(&b)?;
            let diff = (ours - theirs)?
                .abs()?
                .flatten_all()?
                .max(0)?
                .to_scalar::<f32>()?;
            assert!(diff < 1e-3, "{m}x{k}x{n}: {diff}");
        }
        Ok(())
    }
}
