//! Layers shared by the two MediaPipe networks (BlazeFace, FaceMesh): channels-last (NHWC)
//! depthwise-separable residual blocks with TFLite's SAME padding.
//!
//! TFLite pads SAME convolutions asymmetrically, the smaller half top/left: a 3x3 stride-2
//! convolution on an even size pads (0, 1), BlazeFace's 5x5 stride-2 stem pads (1, 2). candle
//! pads symmetrically, so every strided layer here pads explicitly ([`Padding`]).
//!
//! The depthwise 3x3 convolution is written as 9 shifted slices times per-channel weights (candle's
//! `groups = C` convolution runs C separate convolutions); 1x1 convolutions are one matmul over
//! `[B*H*W, C]`. Feature maps stay NHWC between layers, as in the TFLite graphs.

use candle_core::{D, Module, Result, Tensor};
use candle_nn::VarBuilder;

/// How strided layers pad their input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Padding {
    /// TFLite SAME: total padding `max((out - 1) * stride + k - in, 0)`, the smaller half first.
    #[default]
    TfliteSame,
    /// The same total split evenly (larger half first when odd), as PyTorch-style `padding =
    /// k / 2` does. Wrong for these weights; kept so tests can show the difference.
    Symmetric,
}

impl Padding {
    /// `(before, after)` padding of one spatial axis of size `size` for a kernel `k`, `stride`.
    #[must_use]
    pub fn amounts(self, size: usize, k: usize, stride: usize) -> (usize, usize) {
        let out = size.div_ceil(stride);
        let total = ((out - 1) * stride + k).saturating_sub(size);
        match self {
            Self::TfliteSame => (total / 2, total - total / 2),
            Self::Symmetric => (total - total / 2, total - total / 2),
        }
    }
}

/// A strided full convolution on an NCHW input, returning NHWC (the networks' first layer).
#[derive(Clone, Debug)]
pub struct Stem {
    weight: Tensor,
    /// The weight as `[k * k * I, O]` for the im2col + matmul form.
    matrix: Tensor,
    bias: Tensor,
    bias_values: Vec<f32>,
    k: usize,
    padding: Padding,
}

impl Stem {
    /// Loads `weight` [O, I, k, k] and `bias` [O].
    ///
    /// # Errors
    /// Missing tensors or wrong shapes.
    pub fn new(
        vb: VarBuilder,
        c_in: usize,
        c_out: usize,
        k: usize,
        padding: Padding,
    ) -> Result<Self> {
        let weight = vb.get((c_out, c_in, k, k), "weight")?;
        let matrix = weight
            .permute((2, 3, 1, 0))?
            .reshape((k * k * c_in, c_out))?
            .contiguous()?;
        let bias = vb.get(c_out, "bias")?;
        Ok(Self {
            weight,
            matrix,
            bias_values: bias.to_vec1()?,
            bias,
            k,
            padding,
        })
    }

    /// `[B, I, H, W]` (H, W even) -> `[B, H/2, W/2, O]`, stride 2.
    ///
    /// # Errors
    /// Shape mismatches.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.forward_with(xs, None)
    }

    /// [`Stem::forward`] then `act`; on the CPU the bias and the activation are one pass.
    ///
    /// # Errors
    /// Shape mismatches.
    pub fn forward_with(&self, xs: &Tensor, act: Option<&Activation>) -> Result<Tensor> {
        let (b, _, h, w) = xs.dims4()?;
        let (t, bt) = self.padding.amounts(h, self.k, 2);
        let (l, r) = self.padding.amounts(w, self.k, 2);
        if xs.device().is_cpu() && xs.dtype() == candle_core::DType::F32 {
            let (ho, wo) = ((h + t + bt - self.k) / 2 + 1, (w + l + r - self.k) / 2 + 1);
            let op = super::cpu_kernels::Im2ColNhwc {
                k: self.k,
                stride: 2,
                pad_top: t,
                pad_left: l,
                out: (ho, wo),
            };
            let cols = xs
                .permute((0, 2, 3, 1))?
                .contiguous()?
                .apply_op1_no_bwd(&op)?;
            let op = super::cpu_kernels::BiasResidualAct {
                bias: self.bias_values.clone(),
                act: act.map_or(super::cpu_kernels::Act::Identity, Activation::kernel),
            };
            return cols
                .apply_op2_no_bwd(&self.matrix, &super::cpu_kernels::MatMul)?
                .apply_op1_no_bwd(&op)?
                .reshape((b, ho, wo, ()));
        }
        let ys = self.forward_conv(xs)?;
        match act {
            Some(a) => a.forward(&ys),
            None => Ok(ys),
        }
    }

    /// The portable form: explicit padding and candle's conv2d (any device).
    ///
    /// # Errors
    /// Shape mismatches.
    pub fn forward_conv(&self, xs: &Tensor) -> Result<Tensor> {
        let (_, _, h, w) = xs.dims4()?;
        let (t, bt) = self.padding.amounts(h, self.k, 2);
        let (l, r) = self.padding.amounts(w, self.k, 2);
        let xs = xs.pad_with_zeros(2, t, bt)?.pad_with_zeros(3, l, r)?;
        let bias = self.bias.reshape((1, (), 1, 1))?;
        let ys = xs.conv2d(&self.weight, 0, 2, 1, 1)?.broadcast_add(&bias)?;
        ys.permute((0, 2, 3, 1))?.contiguous()
    }
}

/// Depthwise 3x3 convolution, stride 1 or 2, on NHWC maps.
#[derive(Clone, Debug)]
pub struct Depthwise3x3 {
    taps: Vec<Tensor>,
    kernel: super::cpu_kernels::DepthwiseNhwc,
    bias: Tensor,
    stride: usize,
    padding: Padding,
}

impl Depthwise3x3 {
    /// Loads `weight` [C, 1, 3, 3] and `bias` [C].
    ///
    /// # Errors
    /// Missing tensors or wrong shapes.
    pub fn new(vb: VarBuilder, c: usize, stride: usize, padding: Padding) -> Result<Self> {
        let w = vb
            .get((c, 1, 3, 3), "weight")?
            .reshape((c, 9))?
            .t()?
            .contiguous()?;
        let taps = (0..9).map(|i| w.get(i)).collect::<Result<Vec<_>>>()?;
        let bias = vb.get(c, "bias")?;
        // The top/left padding of an even-sized input (the bottom/right follows from the size).
        let pad = if stride == 1 {
            1
        } else {
            padding.amounts(2, 3, 2).0
        };
        let kernel = super::cpu_kernels::DepthwiseNhwc {
            weights: w.flatten_all()?.to_vec1()?,
            bias: bias.to_vec1()?,
            stride,
            pad_top: pad,
            pad_left: pad,
        };
        Ok(Self {
            taps,
            kernel,
            bias,
            stride,
            padding,
        })
    }

    /// `[B, H, W, C]` -> `[B, H / stride, W / stride, C]` (H, W even when stride is 2).
    ///
    /// # Errors
    /// Shape mismatches.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        if xs.device().is_cpu() && xs.dtype() == candle_core::DType::F32 {
            return xs.contiguous()?.apply_op1_no_bwd(&self.kernel);
        }
        self.forward_slices(xs)
    }

    /// The portable form: 9 shifted slices times per-channel weights (any device).
    ///
    /// # Errors
    /// Shape mismatches.
    pub fn forward_slices(&self, xs: &Tensor) -> Result<Tensor> {
        let (b, h, w, c) = xs.dims4()?;
        if self.stride == 1 {
            let xs = xs.pad_with_zeros(1, 1, 1)?.pad_with_zeros(2, 1, 1)?;
            return self.sum_taps(|ky, kx| xs.narrow(1, ky, h)?.narrow(2, kx, w));
        }
        // Stride 2: pad to an even size, split into the four (row, column) parity phases; tap
        // (ky, kx) of output (i, j) reads phase (ky % 2, kx % 2) at (i + ky / 2, j + kx / 2).
        let (t, bt) = self.padding.amounts(h, 3, 2);
        let (l, r) = self.padding.amounts(w, 3, 2);
        let (bt, r) = (bt + (h + t + bt) % 2, r + (w + l + r) % 2);
        let xs = xs.pad_with_zeros(1, t, bt)?.pad_with_zeros(2, l, r)?;
        let (hp, wp) = ((h + t + bt) / 2, (w + l + r) / 2);
        let xs = xs.reshape((b, hp, 2, wp, 2, c))?;
        let phase = |a: usize, bb: usize| {
            xs.narrow(2, a, 1)?
                .narrow(4, bb, 1)?
                .reshape((b, hp, wp, c))
        };
        let phases = [[phase(0, 0)?, phase(0, 1)?], [phase(1, 0)?, phase(1, 1)?]];
        let (ho, wo) = (h / 2, w / 2);
        self.sum_taps(|ky, kx| {
            phases[ky % 2][kx % 2]
                .narrow(1, ky / 2, ho)?
                .narrow(2, kx / 2, wo)
        })
    }

    fn sum_taps(&self, slice: impl Fn(usize, usize) -> Result<Tensor>) -> Result<Tensor> {
        let mut acc = slice(0, 0)?.broadcast_mul(&self.taps[0])?;
        for (i, tap) in self.taps.iter().enumerate().skip(1) {
            acc = (acc + slice(i / 3, i % 3)?.broadcast_mul(tap)?)?;
        }
        acc.broadcast_add(&self.bias)
    }
}

/// A 1x1 convolution on NHWC maps, or (with `k > 1`) a VALID k x k convolution whose input is
/// exactly k x k (the networks' final layers): both are one matmul.
#[derive(Clone, Debug)]
pub struct Pointwise {
    weight: Tensor,
    bias: Tensor,
    bias_values: Vec<f32>,
    k: usize,
}

impl Pointwise {
    /// Loads `weight` [O, I, k, k] and `bias` [O].
    ///
    /// # Errors
    /// Missing tensors or wrong shapes.
    pub fn new(vb: VarBuilder, c_in: usize, c_out: usize, k: usize) -> Result<Self> {
        let w = vb.get((c_out, c_in, k, k), "weight")?;
        // OIHW -> [k * k * I, O] in the NHWC flattening order.
        let weight = w
            .permute((0, 2, 3, 1))?
            .reshape((c_out, k * k * c_in))?
            .t()?
            .contiguous()?;
        let bias = vb.get(c_out, "bias")?;
        Ok(Self {
            weight,
            bias_values: bias.to_vec1()?,
            bias,
            k,
        })
    }

    /// 1x1 only: `act(conv(x) + residual)`, the residual's missing trailing channels taken as
    /// zeros (a channel-growing block). On the CPU the bias, residual and activation are one
    /// fused pass after the matmul ([`super::cpu_kernels::BiasResidualAct`]).
    ///
    /// # Errors
    /// Shape mismatches.
    pub fn forward_with(
        &self,
        xs: &Tensor,
        residual: Option<&Tensor>,
        act: Option<&Activation>,
    ) -> Result<Tensor> {
        let (b, h, w, c) = xs.dims4()?;
        let c_out = self.weight.dim(1)?;
        if self.k == 1 && xs.device().is_cpu() && xs.dtype() == candle_core::DType::F32 {
            let op = super::cpu_kernels::BiasResidualAct {
                bias: self.bias_values.clone(),
                act: act.map_or(super::cpu_kernels::Act::Identity, Activation::kernel),
            };
            let ys = xs
                .reshape((b * h * w, c))?
                .apply_op2_no_bwd(&self.weight, &super::cpu_kernels::MatMul)?
                .reshape((b, h, w, c_out))?;
            return match residual {
                Some(r) => ys.apply_op2_no_bwd(&r.contiguous()?, &op),
                None => ys.apply_op1_no_bwd(&op),
            };
        }
        let mut ys = self.forward(xs)?;
        if let Some(r) = residual {
            let grow = c_out - r.dim(D::Minus1)?;
            ys = (ys + r.pad_with_zeros(D::Minus1, 0, grow)?)?;
        }
        match act {
            Some(a) => a.forward(&ys),
            None => Ok(ys),
        }
    }
}

impl Module for Pointwise {
    /// 1x1: `[B, H, W, I]` -> `[B, H, W, O]`; k x k: `[B, k, k, I]` -> `[B, O]`.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (b, h, w, _) = xs.dims4()?;
        let c_out = self.weight.dim(1)?;
        let rows = if self.k == 1 { b * h * w } else { b };
        let xs = xs.reshape((rows, ()))?;
        let ys = if xs.device().is_cpu() && xs.dtype() == candle_core::DType::F32 {
            xs.contiguous()?
                .apply_op2_no_bwd(&self.weight, &super::cpu_kernels::MatMul)?
        } else {
            xs.matmul(&self.weight)?
        };
        let ys = ys.broadcast_add(&self.bias)?;
        if self.k == 1 {
            ys.reshape((b, h, w, c_out))
        } else {
            Ok(ys)
        }
    }
}

/// The activation after each block: ReLU (BlazeFace) or per-channel PReLU (FaceMesh).
#[derive(Clone, Debug)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `max(x, 0) + a_c * min(x, 0)` with one slope per channel, `weight` [C] (and its values).
    PRelu(Tensor, Vec<f32>),
}

impl Activation {
    /// Loads a PReLU's `weight` [C].
    ///
    /// # Errors
    /// Missing tensor or wrong shape.
    pub fn prelu(vb: VarBuilder, c: usize) -> Result<Self> {
        let weight = vb.get(c, "weight")?;
        let values = weight.to_vec1()?;
        Ok(Self::PRelu(weight, values))
    }

    /// The same activation for the fused CPU kernel.
    fn kernel(&self) -> super::cpu_kernels::Act {
        match self {
            Self::Relu => super::cpu_kernels::Act::Relu,
            Self::PRelu(_, slope) => super::cpu_kernels::Act::PRelu(slope.clone()),
        }
    }
}

impl Module for Activation {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Self::Relu => xs.relu(),
            Self::PRelu(a, _) => {
                let pos = xs.relu()?;
                pos.clone() + (xs - pos)?.broadcast_mul(a)?
            }
        }
    }
}

/// `act(residual + pointwise(depthwise(x)))`; stride-2 blocks max-pool the residual 2x2 and
/// growing blocks zero-pad it at the end of the channel axis.
#[derive(Clone, Debug)]
pub struct ResBlock {
    dw: Depthwise3x3,
    pw: Pointwise,
    act: Activation,
    stride: usize,
}

impl ResBlock {
    /// Loads `dw.*`, `pw.*` and, for PReLU networks (`prelu`), `act.weight`.
    ///
    /// # Errors
    /// Missing tensors or wrong shapes.
    pub fn new(
        vb: VarBuilder,
        c_in: usize,
        c_out: usize,
        stride: usize,
        prelu: bool,
        padding: Padding,
    ) -> Result<Self> {
        let act = if prelu {
            Activation::prelu(vb.pp("act"), c_out)?
        } else {
            Activation::Relu
        };
        Ok(Self {
            dw: Depthwise3x3::new(vb.pp("dw"), c_in, stride, padding)?,
            pw: Pointwise::new(vb.pp("pw"), c_in, c_out, 1)?,
            act,
            stride,
        })
    }
}

impl Module for ResBlock {
    /// `[B, H, W, I]` -> `[B, H / stride, W / stride, O]`.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let res = if self.stride == 2 {
            max_pool2(xs)?
        } else {
            xs.clone()
        };
        self.pw
            .forward_with(&self.dw.forward(xs)?, Some(&res), Some(&self.act))
    }
}

/// 2x2 max-pool with stride 2 on NHWC maps (H, W even).
///
/// # Errors
/// Odd sizes.
pub fn max_pool2(xs: &Tensor) -> Result<Tensor> {
    if xs.device().is_cpu() && xs.dtype() == candle_core::DType::F32 {
        return xs
            .contiguous()?
            .apply_op1_no_bwd(&super::cpu_kernels::MaxPool2Nhwc);
    }
    max_pool2_reshape(xs)
}

/// The portable 2x2 max-pool: a reshape and two reductions (any device).
///
/// # Errors
/// Odd sizes.
pub fn max_pool2_reshape(xs: &Tensor) -> Result<Tensor> {
    let (b, h, w, c) = xs.dims4()?;
    xs.reshape((b, h / 2, 2, w / 2, 2, c))?.max(4)?.max(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    /// The fused CPU kernel and the portable slices agree, for both strides and paddings.
    #[test]
    fn depthwise_kernel_matches_slices() {
        let dev = Device::Cpu;
        let mut map = std::collections::HashMap::new();
        map.insert(
            "weight".to_string(),
            Tensor::randn(0f32, 1.0, (5, 1, 3, 3), &dev).unwrap(),
        );
        map.insert(
            "bias".to_string(),
            Tensor::randn(0f32, 1.0, 5, &dev).unwrap(),
        );
        let vb = VarBuilder::from_tensors(map, DType::F32, &dev);
        let xs = Tensor::randn(0f32, 1.0, (2, 8, 6, 5), &dev).unwrap();
        for (stride, padding) in [
            (1, Padding::TfliteSame),
            (2, Padding::TfliteSame),
            (2, Padding::Symmetric),
        ] {
            let dw = Depthwise3x3::new(vb.clone(), 5, stride, padding).unwrap();
            let diff = (dw.forward(&xs).unwrap() - dw.forward_slices(&xs).unwrap()).unwrap();
            let err: f32 = diff.abs().unwrap().max_all().unwrap().to_scalar().unwrap();
            assert!(err < 1e-5, "stride {stride} {padding:?}: {err}");
        }
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar()
            .unwrap()
    }

    /// The im2col stem and the CPU max-pool agree with candle's conv2d and reductions.
    #[test]
    fn cpu_stem_and_pool_match_portable_forms() {
        let dev = Device::Cpu;
        let mut map = std::collections::HashMap::new();
        map.insert(
            "weight".to_string(),
            Tensor::randn(0f32, 1.0, (4, 3, 5, 5), &dev).unwrap(),
        );
        map.insert(
            "bias".to_string(),
            Tensor::randn(0f32, 1.0, 4, &dev).unwrap(),
        );
        let vb = VarBuilder::from_tensors(map, DType::F32, &dev);
        let xs = Tensor::randn(0f32, 1.0, (2, 3, 16, 12), &dev).unwrap();
        for padding in [Padding::TfliteSame, Padding::Symmetric] {
            let stem = Stem::new(vb.clone(), 3, 4, 5, padding).unwrap();
            let err = max_abs_diff(
                &stem.forward(&xs).unwrap(),
                &stem.forward_conv(&xs).unwrap(),
            );
            assert!(err < 1e-4, "{padding:?}: {err}");
        }
        let maps = Tensor::randn(0f32, 1.0, (2, 6, 4, 3), &dev).unwrap();
        assert_eq!(
            max_abs_diff(
                &max_pool2(&maps).unwrap(),
                &max_pool2_reshape(&maps).unwrap()
            ),
            0.0
        );
    }

    #[test]
    fn tflite_same_amounts() {
        assert_eq!(Padding::TfliteSame.amounts(128, 5, 2), (1, 2));
        assert_eq!(Padding::TfliteSame.amounts(64, 3, 2), (0, 1));
        assert_eq!(Padding::TfliteSame.amounts(64, 3, 1), (1, 1));
        assert_eq!(Padding::Symmetric.amounts(64, 3, 2), (1, 1));
    }
}
