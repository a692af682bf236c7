//! A small symmetric eigen-solver (cyclic Jacobi rotations) for the 4x4 matrices of Horn's
//! absolute-orientation method ([`super::nme::best_rigid`]).

/// The unit eigenvector of the largest eigenvalue of the symmetric matrix `m`.
#[must_use]
pub fn max_eigenvector(m: &[[f64; 4]; 4]) -> [f64; 4] {
    let mut a = *m;
    let mut v = [[0.0f64; 4]; 4];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _sweep in 0..50 {
        let off: f64 = (0..4)
            .flat_map(|i| (0..4).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..3 {
            for q in p + 1..4 {
                rotate(&mut a, &mut v, p, q);
            }
        }
    }
    let best = (0..4)
        .max_by(|&i, &j| a[i][i].total_cmp(&a[j][j]))
        .unwrap_or(0);
    let e = [v[0][best], v[1][best], v[2][best], v[3][best]];
    let n = e.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
    e.map(|x| x / n)
}

/// One Jacobi rotation zeroing `a[p][q]`; accumulates the eigenvectors as columns of `v`.
fn rotate(a: &mut [[f64; 4]; 4], v: &mut [[f64; 4]; 4], p: usize, q: usize) {
    if a[p][q].abs() < 1e-300 {
        return;
    }
    let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let t = if theta == 0.0 { 1.0 } else { t };
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for row in a.iter_mut() {
        let (akp, akq) = (row[p], row[q]);
        row[p] = c * akp - s * akq;
        row[q] = s * akp + c * akq;
    }
    let (mut rp, mut rq) = (a[p], a[q]);
    for (x, y) in rp.iter_mut().zip(rq.iter_mut()) {
        let (apk, aqk) = (*x, *y);
        *x = c * apk - s * aqk;
        *y = s * apk + c * aqk;
    }
    a[p] = rp;
    a[q] = rq;
    for row in v.iter_mut() {
        let (vp, vq) = (row[p], row[q]);
        row[p] = c * vp - s * vq;
        row[q] = s * vp + c * vq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_dominant_eigenvector() {
        // diag(1, 5, 2, -3) rotated in the (0, 1) plane by 30 degrees: the top eigenvector is
        // the rotated e1 = (-sin 30, cos 30, 0, 0) up to sign.
        let (s, c) = (0.5f64, 3f64.sqrt() / 2.0);
        let d = [1.0, 5.0, 2.0, -3.0];
        let r = [
            [c, -s, 0.0, 0.0],
            [s, c, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        let m: [[f64; 4]; 4] = std::array::from_fn(|i| {
            std::array::from_fn(|j| (0..4).map(|k| r[i][k] * d[k] * r[j][k]).sum())
        });
        let e = max_eigenvector(&m);
        let expect = [-s, c, 0.0, 0.0];
        let dot: f64 = e.iter().zip(expect).map(|(a, b)| a * b).sum();
        assert!((dot.abs() - 1.0).abs() < 1e-9, "{e:?}");
    }
}
