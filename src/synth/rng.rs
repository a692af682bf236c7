//! The per-sample random generator: PCG-XSH-RR 32 (O'Neill 2014) seeded through SplitMix64,
//! written out here so that sample `i` is the same bytes on every machine and every version of
//! the `rand` crate. Sample `i` of a run gets `SampleRng::for_sample(i)`, whatever the count.

use rand::RngCore;

/// A small, fast, portable generator for one synthetic sample.
#[derive(Clone, Debug)]
pub struct SampleRng {
    state: u64,
    inc: u64,
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SampleRng {
    /// The generator of global sample id `id` (see [`crate::synth::TEST_SPLIT_START`]); `stream`
    /// separates independent draws of one sample (e.g. appearance vs. degradation).
    #[must_use]
    pub fn for_sample(id: u64, stream: u64) -> Self {
        let mut s = id ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let state = splitmix64(&mut s);
        let inc = splitmix64(&mut s) | 1;
        let mut rng = Self { state, inc };
        rng.next_u32();
        rng
    }
}

impl RngCore for SampleRng {
    fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    fn next_u64(&mut self) -> u64 {
        (u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(4) {
            let bytes = self.next_u32().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Uniform draw in `[lo, hi)`, from 24 random bits (portable, unlike float sampling helpers).
pub fn uniform(rng: &mut SampleRng, lo: f32, hi: f32) -> f32 {
    let u = (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
    lo + (hi - lo) * u
}

/// Standard normal draw (Box-Muller).
pub fn normal(rng: &mut SampleRng) -> f32 {
    let u1 = uniform(rng, 0.0, 1.0).max(1e-7);
    let u2 = uniform(rng, 0.0, 1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// True with probability `p`.
pub fn chance(rng: &mut SampleRng, p: f32) -> bool {
    uniform(rng, 0.0, 1.0) < p
}

/// Uniform index in `0..n` (`n > 0`).
pub fn index(rng: &mut SampleRng, n: usize) -> usize {
    ((uniform(rng, 0.0, 1.0) * n as f32) as usize).min(n.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_id_same_stream() {
        let mut a = SampleRng::for_sample(7, 1);
        let mut b = SampleRng::for_sample(7, 1);
        let mut c = SampleRng::for_sample(8, 1);
        let xs: Vec<u32> = (0..8).map(|_| a.next_u32()).collect();
        let ys: Vec<u32> = (0..8).map(|_| b.next_u32()).collect();
        let zs: Vec<u32> = (0..8).map(|_| c.next_u32()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut r = SampleRng::for_sample(1, 0);
        let xs: Vec<f32> = (0..20_000).map(|_| normal(&mut r)).collect();
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / xs.len() as f32;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
