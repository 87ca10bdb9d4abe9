//! Small dense interval linear algebra (row-major `Vec<Interval>`), with the
//! eigenvalue enclosure of symmetric interval matrices used for sharpness and convexity.
//!
//! Proof of [`sym_eig_bounds`]: `proofs/symmetric-eigenvalue-enclosure.md`.

use super::{iv, point};
use inari::Interval;
use nalgebra::{DMatrix, SymmetricEigen};

/// Enclosures of the extreme eigenvalues, valid for every symmetric matrix in the box.
#[derive(Clone, Copy, Debug)]
pub struct SymEigBounds {
    /// Encloses λ_min(A) for every symmetric A in the interval matrix.
    pub min: Interval,
    /// Encloses λ_max(A) for every symmetric A in the interval matrix.
    pub max: Interval,
}

/// Sum of intervals (outward rounded).
pub fn isum(it: impl IntoIterator<Item = Interval>) -> Interval {
    it.into_iter().fold(point(0.0), |a, b| a + b)
}

/// `a · b` for row-major `n×k` and `k×m` interval matrices.
pub fn matmul(a: &[Interval], b: &[Interval], n: usize, k: usize, m: usize) -> Vec<Interval> {
    let mut c = vec![point(0.0); n * m];
    for i in 0..n {
        for l in 0..k {
            let ail = a[i * k + l];
            for j in 0..m {
                c[i * m + j] = ail.mul_add(b[l * m + j], c[i * m + j]);
            }
        }
    }
    c
}

/// `a · v` for a row-major `n×k` interval matrix.
pub fn matvec(a: &[Interval], v: &[Interval], n: usize, k: usize) -> Vec<Interval> {
    (0..n)
        .map(|i| (0..k).fold(point(0.0), |s, l| a[i * k + l].mul_add(v[l], s)))
        .collect()
}

/// The f64 midpoint matrix, symmetrised.
pub fn mid_sym(a: &[Interval], d: usize) -> DMatrix<f64> {
    DMatrix::from_fn(d, d, |i, j| 0.5 * (a[i * d + j].mid() + a[j * d + i].mid()))
}

/// Rigorous enclosures of λ_min and λ_max for all symmetric matrices in `a` (d×d).
///
/// Gershgorin's theorem applied to `T⁻¹ A T`, with `T` the approximate eigenvector
/// matrix of the midpoint, and `T⁻¹` enclosed by a Neumann series bound; the inner
/// bounds (λ_max from below, λ_min from above) are Rayleigh quotients with the
/// approximate extreme eigenvectors. Returns `None` if the f64 eigenvectors are too far
/// from orthogonal or an entry is not finite.
pub fn sym_eig_bounds(a: &[Interval], d: usize) -> Option<SymEigBounds> {
    assert_eq!(a.len(), d * d);
    if a.iter()
        .any(|x| x.is_empty() || !x.inf().is_finite() || !x.sup().is_finite())
    {
        return None;
    }
    let m = mid_sym(a, d);
    let eig = SymmetricEigen::new(m);
    let q = &eig.eigenvectors; // columns are eigenvectors
    if q.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let qi: Vec<Interval> = (0..d * d).map(|t| point(q[(t / d, t % d)])).collect();
    let qti: Vec<Interval> = (0..d * d).map(|t| point(q[(t % d, t / d)])).collect();
    // E = I - QᵀQ, eps ≥ ‖E‖_∞.
    let qtq = matmul(&qti, &qi, d, d, d);
    let mut eps = point(0.0);
    for i in 0..d {
        let row = isum((0..d).map(|j| {
            let e = if i == j {
                point(1.0) - qtq[i * d + j]
            } else {
                -qtq[i * d + j]
            };
            point(e.mag())
        }));
        eps = eps.max(row);
    }
    let eps = eps.sup();
    if !(eps < 0.5) {
        return None;
    }
    // (QᵀQ)⁻¹ = I + F with ‖F‖_∞ ≤ δ = ε/(1−ε), so every |F_ij| ≤ δ, and
    // T⁻¹ = (I + F) Qᵀ has entries Q_ji + [−δ s_j, δ s_j], s_j = Σ_k |Q_jk|.
    let delta = (point(eps) / (point(1.0) - point(eps))).sup();
    let mut tinv = qti.clone();
    for j in 0..d {
        let s_j = isum((0..d).map(|k| point(q[(j, k)].abs()))).sup();
        let w = (point(delta) * point(s_j)).sup();
        for i in 0..d {
            tinv[i * d + j] = tinv[i * d + j] + iv(-w, w);
        }
    }
    let b = matmul(&matmul(&tinv, a, d, d, d), &qi, d, d, d);
    // Gershgorin discs by rows and by columns; real eigenvalues lie in each union.
    let mut up_row = f64::NEG_INFINITY;
    let mut lo_row = f64::INFINITY;
    let mut up_col = f64::NEG_INFINITY;
    let mut lo_col = f64::INFINITY;
    for i in 0..d {
        let rr = isum(
            (0..d)
                .filter(|&j| j != i)
                .map(|j| point(b[i * d + j].mag())),
        );
        let rc = isum(
            (0..d)
                .filter(|&j| j != i)
                .map(|j| point(b[j * d + i].mag())),
        );
        let c = b[i * d + i];
        up_row = up_row.max((c + rr).sup());
        lo_row = lo_row.min((c - rr).inf());
        up_col = up_col.max((c + rc).sup());
        lo_col = lo_col.min((c - rc).inf());
    }
    let max_hi = up_row.min(up_col);
    let min_lo = lo_row.max(lo_col);
    // Rayleigh quotients: λ_max ≥ vᵀAv/vᵀv, λ_min ≤ uᵀAu/uᵀu for every A in the box.
    let (imin, imax) = extreme_indices(eig.eigenvalues.as_slice());
    let rayleigh = |col: usize| {
        let v: Vec<Interval> = (0..d).map(|r| point(q[(r, col)])).collect();
        let av = matvec(a, &v, d, d);
        let num = isum(v.iter().zip(&av).map(|(x, y)| *x * *y));
        let den = isum(v.iter().map(|x| x.sqr()));
        num / den
    };
    let max_lo = rayleigh(imax).inf().min(max_hi);
    let min_hi = rayleigh(imin).sup().max(min_lo);
    Some(SymEigBounds {
        min: iv(min_lo, min_hi),
        max: iv(max_lo, max_hi),
    })
}

fn extreme_indices(ev: &[f64]) -> (usize, usize) {
    let mut imin = 0;
    let mut imax = 0;
    for (i, &x) in ev.iter().enumerate() {
        if x < ev[imin] {
            imin = i;
        }
        if x > ev[imax] {
            imax = i;
        }
    }
    (imin, imax)
}

/// The approximate extreme eigenvectors of the midpoint matrix (f64; guides searches).
pub fn approx_extreme_eigvecs(a: &[Interval], d: usize) -> (Vec<f64>, Vec<f64>) {
    let eig = SymmetricEigen::new(mid_sym(a, d));
    let (imin, imax) = extreme_indices(eig.eigenvalues.as_slice());
    let col = |c: usize| (0..d).map(|r| eig.eigenvectors[(r, c)]).collect::<Vec<_>>();
    (col(imin), col(imax))
}

/// Verified solution of A x = b for every A in the interval matrix `a` (n×n, row-major)
/// and every b in `b`: returns an interval vector containing all those solutions, or
/// `None` when the verification fails (e.g. A nearly singular).
///
/// With x̃ an f64 solution of the midpoint system and R ≈ mid(A)⁻¹, if
/// β ≥ ‖I − RA‖_∞ with β < 1, then RA is invertible with ‖(RA)⁻¹‖_∞ ≤ 1/(1 − β) and
/// x − x̃ = (RA)⁻¹ R(b − A x̃), so |x − x̃|_∞ ≤ ‖R(b − A x̃)‖_∞ / (1 − β)
/// (Rump's verification; proof in `proofs/symmetric-eigenvalue-enclosure.md` §5).
pub fn verified_solve(a: &[Interval], b: &[Interval], n: usize) -> Option<Vec<Interval>> {
    use nalgebra::DVector;
    let am = DMatrix::from_fn(n, n, |i, j| a[i * n + j].mid());
    let r = am.clone().try_inverse()?;
    let bm = DVector::from_fn(n, |i, _| b[i].mid());
    let xt = &r * bm;
    if xt.iter().chain(r.iter()).any(|v| !v.is_finite()) {
        return None;
    }
    let ri: Vec<Interval> = (0..n * n).map(|k| point(r[(k / n, k % n)])).collect();
    let xti: Vec<Interval> = xt.iter().map(|&v| point(v)).collect();
    let axt = matvec(a, &xti, n, n);
    let res: Vec<Interval> = b.iter().zip(&axt).map(|(bi, ai)| *bi - *ai).collect();
    let rres = matvec(&ri, &res, n, n);
    let ra = matmul(&ri, a, n, n, n);
    let mut beta = point(0.0);
    for i in 0..n {
        let row = isum((0..n).map(|j| {
            let g = if i == j {
                point(1.0) - ra[i * n + j]
            } else {
                -ra[i * n + j]
            };
            point(g.mag())
        }));
        beta = beta.max(row);
    }
    let beta = beta.sup();
    if !(beta < 1.0) {
        return None;
    }
    let num = rres.iter().fold(0.0f64, |m, v| m.max(v.mag()));
    let e = (point(num) / (point(1.0) - point(beta))).sup();
    if !e.is_finite() {
        return None;
    }
    Some(xt.iter().map(|&v| point(v) + iv(-e, e)).collect())
}
