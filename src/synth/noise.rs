//! Hash-based value noise for procedural skin detail and backgrounds: deterministic, no tables,
//! evaluated per pixel from a 3D (rest-pose surface) or 2D (image) coordinate.

/// A well-mixed 32-bit hash of lattice coordinates and a seed.
#[must_use]
pub fn hash(x: i32, y: i32, z: i32, seed: u32) -> u32 {
    let mut h = seed ^ 0x9E37_79B9;
    for v in [x, y, z] {
        h ^= (v as u32).wrapping_mul(0x85EB_CA6B);
        h = h.rotate_left(13).wrapping_mul(0xC2B2_AE35) ^ (h >> 16);
    }
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^ (h >> 12)
}

/// Hash mapped to [0, 1).
#[must_use]
pub fn hash01(x: i32, y: i32, z: i32, seed: u32) -> f32 {
    (hash(x, y, z, seed) >> 8) as f32 / (1u32 << 24) as f32
}

fn fade(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

/// Trilinear value noise in [0, 1] with unit lattice spacing.
#[must_use]
pub fn value3(p: [f32; 3], seed: u32) -> f32 {
    let f = p.map(f32::floor);
    let i = f.map(|v| v as i32);
    let t = [fade(p[0] - f[0]), fade(p[1] - f[1]), fade(p[2] - f[2])];
    let lerp = |a: f32, b: f32, t: f32| a + (b - a) * t;
    let c = |dx: i32, dy: i32, dz: i32| hash01(i[0] + dx, i[1] + dy, i[2] + dz, seed);
    let x00 = lerp(c(0, 0, 0), c(1, 0, 0), t[0]);
    let x10 = lerp(c(0, 1, 0), c(1, 1, 0), t[0]);
    let x01 = lerp(c(0, 0, 1), c(1, 0, 1), t[0]);
    let x11 = lerp(c(0, 1, 1), c(1, 1, 1), t[0]);
    lerp(lerp(x00, x10, t[1]), lerp(x01, x11, t[1]), t[2])
}

/// Two-dimensional value noise in [0, 1].
#[must_use]
pub fn value2(x: f32, y: f32, seed: u32) -> f32 {
    value3([x, y, 0.0], seed)
}

/// Fractal sum of `octaves` octaves of [`value3`], normalised to [0, 1].
#[must_use]
pub fn fbm3(p: [f32; 3], octaves: u32, seed: u32) -> f32 {
    let (mut sum, mut amp, mut norm, mut q) = (0.0, 1.0, 0.0, p);
    for o in 0..octaves {
        sum += amp * value3(q, seed.wrapping_add(o));
        norm += amp;
        amp *= 0.5;
        q = q.map(|v| v * 2.03);
    }
    sum / norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_bounded_and_continuous() {
        let mut prev = value3([0.0, 0.3, 0.7], 5);
        for k in 1..1000 {
            let v = value3([k as f32 * 0.01, 0.3, 0.7], 5);
            assert!((0.0..=1.0).contains(&v));
            assert!((v - prev).abs() < 0.05);
            prev = v;
        }
    }
}
