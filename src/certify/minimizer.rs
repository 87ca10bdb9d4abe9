//! Certified minimiser: f64 Newton to find a candidate, then a Krawczyk proof that ∇L
//! has exactly one zero in a small box, and positive definiteness of ∇²L on that box.
//! Proof: `proofs/krawczyk.md`.

use super::CertifyError;
use crate::landscape::Landscape;
use crate::num::imat::{matmul, matvec, sym_eig_bounds, SymEigBounds};
use crate::num::{iv, point};
use inari::Interval;
use nalgebra::{DMatrix, DVector};

/// A certified strict local minimiser.
#[derive(Clone, Debug)]
pub struct Minimizer {
    /// The box X: ∇L has exactly one zero θ* in X.
    pub x: Vec<Interval>,
    /// The f64 Newton candidate.
    pub candidate: Vec<f64>,
    /// Enclosure of ∇²L over X: contains ∇²L(θ*).
    pub hessian: Vec<Interval>,
    /// Eigenvalue enclosures over X (λ_min > 0 certifies a strict minimum).
    pub eig: SymEigBounds,
    /// Half-width ε of the box in which Krawczyk succeeded.
    pub radius: f64,
    /// The Krawczyk preconditioner Y ≈ ∇²L(x̂)⁻¹ (row-major d×d, exact f64 entries): with
    /// X₀ = x̂ ± ε, K(X₀) ⊂ int X₀ and `x` = K(X₀) ∩ X₀ (certificate evidence).
    pub precond: Vec<f64>,
}

/// Newton's method in f64 (guides the search only).
pub fn newton(l: &Landscape, guess: &[f64]) -> Vec<f64> {
    let d = guess.len();
    let mut x = guess.to_vec();
    let mut g = vec![0.0; d];
    let mut h = vec![0.0; d * d];
    for _ in 0..100 {
        l.gradient(&x, &mut g);
        l.hessian(&x, &mut h);
        let hm = DMatrix::from_row_slice(d, d, &h);
        let Some(step) = hm.lu().solve(&DVector::from_column_slice(&g)) else {
            break;
        };
        let mut moved = 0.0f64;
        for i in 0..d {
            x[i] -= step[i];
            moved = moved.max(step[i].abs() / (1.0 + x[i].abs()));
        }
        if !x.iter().all(|v| v.is_finite()) {
            return guess.to_vec();
        }
        if moved < 1e-15 {
            break;
        }
    }
    x
}

/// Krawczyk operator K(X) = x̂ − Y∇L(x̂) + (I − Y∇²L(X))(X − x̂).
/// If K(X) lies in the interior of X, ∇L has exactly one zero in X, and it lies in K(X).
fn krawczyk(
    l: &Landscape,
    xh: &[f64],
    y: &[Interval],
    eps: f64,
) -> Option<(Vec<Interval>, Vec<Interval>)> {
    let d = xh.len();
    let x: Vec<Interval> = xh
        .iter()
        .map(|&c| iv((point(c) - point(eps)).inf(), (point(c) + point(eps)).sup()))
        .collect();
    let xhi: Vec<Interval> = xh.iter().map(|&c| point(c)).collect();
    // Krawczyk's theorem needs ∇L to be C¹ on X: check every operation is defined there.
    l.check_domain(&x).ok()?;
    let mut g = vec![point(0.0); d];
    l.gradient(&xhi, &mut g);
    let mut j = vec![point(0.0); d * d];
    l.hessian(&x, &mut j);
    let yg = matvec(y, &g, d, d);
    let yj = matmul(y, &j, d, d, d);
    let mut m = yj;
    for (k, e) in m.iter_mut().enumerate() {
        let id = if k / d == k % d {
            point(1.0)
        } else {
            point(0.0)
        };
        *e = id - *e;
    }
    let dx: Vec<Interval> = x.iter().zip(&xhi).map(|(a, b)| *a - *b).collect();
    let mdx = matvec(&m, &dx, d, d);
    let k: Vec<Interval> = (0..d).map(|i| xhi[i] - yg[i] + mdx[i]).collect();
    // inari's `interior` holds for an empty component, which must not count.
    let inside = k
        .iter()
        .zip(&x)
        .all(|(ki, xi)| !ki.is_empty() && ki.interior(*xi));
    if inside {
        let refined: Vec<Interval> = k.iter().zip(&x).map(|(a, b)| a.intersection(*b)).collect();
        Some((refined, j))
    } else {
        None
    }
}

/// Certifies a strict local minimiser near `guess`.
pub fn certify_minimizer(l: &Landscape, guess: &[f64]) -> Result<Minimizer, CertifyError> {
    let d = guess.len();
    let xh = newton(l, guess);
    let mut h = vec![0.0; d * d];
    l.hessian(&xh, &mut h);
    let hm = DMatrix::from_row_slice(d, d, &h);
    let inv = hm.try_inverse().ok_or_else(|| CertifyError::NoMinimum {
        reason: format!("the Hessian is singular at the Newton point {xh:?}"),
    })?;
    let precond: Vec<f64> = (0..d * d).map(|k| inv[(k / d, k % d)]).collect();
    let y: Vec<Interval> = precond.iter().map(|&v| point(v)).collect();
    let scale = 1.0 + xh.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for exp10 in [-12, -10, -8, -6, -4, -3, -2] {
        let eps = scale * 10f64.powi(exp10);
        if let Some((x, _)) = krawczyk(l, &xh, &y, eps) {
            // Hessian over the refined box: contains ∇²L(θ*).
            let mut hx = vec![point(0.0); d * d];
            l.hessian(&x, &mut hx);
            let eig = sym_eig_bounds(&hx, d).ok_or_else(|| CertifyError::NoMinimum {
                reason: "could not enclose the Hessian's eigenvalues at the minimiser".into(),
            })?;
            if !(eig.min.inf() > 0.0) {
                return Err(CertifyError::NoMinimum {
                    reason: format!(
                        "the critical point near {xh:?} is not a certified strict minimum (λ_min of the Hessian encloses [{}, {}])",
                        eig.min.inf(),
                        eig.min.sup()
                    ),
                });
            }
            return Ok(Minimizer {
                x,
                candidate: xh,
                hessian: hx,
                eig,
                radius: eps,
                precond,
            });
        }
    }
    Err(CertifyError::NoMinimum {
        reason: format!(
            "no Krawczyk proof of a unique critical point near {xh:?} (from guess {guess:?})"
        ),
    })
}
