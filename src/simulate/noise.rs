//! Gradient-noise models Σ(θ) for the simulation (THEORY §1).
//!
//! The simulation draws standard normal vectors ξ and turns them into noise with
//! covariance Σ(θ) as `F ξ`, F the lower-triangular Cholesky factor of Σ (F Fᵀ = Σ):
//! - [`Noise::Isotropic`]: F = σI, so `F ξ = σξ` (the SIMD-lane fast path);
//! - [`Noise::Constant`]: F computed once ([`Noise::constant`]);
//! - [`Noise::StateDependent`]: Σ(θ_k) evaluated by [`NoiseModel::covariance`]`::<f64>` at
//!   every step and factored there. This path is generic: any [`NoiseModel`] (the
//!   Hessian-shaped one today, the empirical data covariance when it is added) works
//!   without changes here.
//!
//! **Positive-definiteness policy (state-dependent Σ).** The factorisation at θ_k must
//! succeed in f64: every pivot of the Cholesky recursion must be > 0 (a NaN pivot fails
//! too). If it fails, Σ(θ_k) has no square root there and the dynamics (E1)/(E3) are
//! undefined, so the run stops with [`SimError::NoisePositiveDefinite`] naming the first
//! trajectory (by index, whatever the thread count) that met such a θ_k, the step and the
//! point — no result is returned and nothing is censored silently. The remedy is a larger
//! `noise.floor` or a domain where Σ is positive definite ((H2) certifies exactly this).

use super::SimError;
use crate::landscape::{Landscape, NoiseModel};
use serde::{Deserialize, Serialize};

/// A gradient-noise covariance model Σ(θ), ready for simulation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Noise {
    /// Σ = σ² I.
    Isotropic {
        /// The per-coordinate standard deviation σ > 0.
        sigma: f64,
    },
    /// A constant symmetric positive-definite Σ (row-major d×d) and its lower-triangular
    /// Cholesky factor F (row-major, zeros above the diagonal), F Fᵀ = Σ. Build it with
    /// [`Noise::constant`]; [`Noise::validate`] checks that `factor` is the factor of `cov`.
    Constant { cov: Vec<f64>, factor: Vec<f64> },
    /// Σ(θ) = `model.covariance(L, θ)`, factored at every step (see the module docs for
    /// what happens where it is not positive definite).
    #[serde(skip)]
    StateDependent { model: NoiseModel },
}

/// The Cholesky factorisation of a symmetric matrix failed at pivot `pivot`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NotPositiveDefinite {
    pub pivot: usize,
}

/// Lower-triangular Cholesky factor of the symmetric `a` (row-major d×d; only its lower
/// triangle is read) into `f` (row-major, zeros above the diagonal). Fails when a pivot is
/// not > 0 (including NaN).
pub(crate) fn cholesky(a: &[f64], f: &mut [f64], d: usize) -> Result<(), NotPositiveDefinite> {
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= f[j * d + k] * f[j * d + k];
        }
        if !(s > 0.0) {
            return Err(NotPositiveDefinite { pivot: j });
        }
        let fjj = s.sqrt();
        f[j * d + j] = fjj;
        for i in j + 1..d {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= f[i * d + k] * f[j * d + k];
            }
            f[i * d + j] = s / fjj;
        }
        for k in j + 1..d {
            f[j * d + k] = 0.0;
        }
    }
    Ok(())
}

/// `out = F ξ` for a lower-triangular row-major F, summed in column order.
#[inline]
pub(crate) fn lower_times(f: &[f64], xi: &[f64], out: &mut [f64]) {
    let d = xi.len();
    for (i, o) in out.iter_mut().enumerate() {
        let row = &f[i * d..i * d + i + 1];
        let mut s = 0.0;
        for (a, b) in row.iter().zip(xi) {
            s += a * b;
        }
        *o = s;
    }
}

/// nᵀ Σ n / |n|² for a symmetric row-major Σ and a non-zero `n` (the noise variance along
/// the direction of `n`).
pub(crate) fn rayleigh(sigma: &[f64], n: &[f64]) -> f64 {
    let d = n.len();
    let mut q = 0.0;
    let mut nn = 0.0;
    for i in 0..d {
        let mut s = 0.0;
        for j in 0..d {
            s += sigma[i * d + j] * n[j];
        }
        q += n[i] * s;
        nn += n[i] * n[i];
    }
    q / nn
}

impl Noise {
    /// A constant Σ (row-major d×d, symmetric, positive definite), factored once.
    pub fn constant(cov: Vec<f64>, dim: usize) -> Result<Noise, SimError> {
        check_constant(&cov, dim)?;
        let mut factor = vec![0.0; dim * dim];
        cholesky(&cov, &mut factor, dim).map_err(|e| not_pd_constant(e.pivot))?;
        Ok(Noise::Constant { cov, factor })
    }

    /// The simulation's form of a certified problem's noise model: isotropic stays
    /// isotropic (the lane fast path), a constant Σ is factored once, anything else is
    /// state-dependent.
    pub fn from_model(model: &NoiseModel, dim: usize) -> Result<Noise, SimError> {
        match model {
            NoiseModel::Isotropic { sigma } => Ok(Noise::Isotropic { sigma: *sigma }),
            NoiseModel::Constant { cov } => Noise::constant(cov.clone(), dim),
            other => Ok(Noise::StateDependent {
                model: other.clone(),
            }),
        }
    }

    /// σ when Σ = σ²I.
    pub fn isotropic_sigma(&self) -> Option<f64> {
        match self {
            Noise::Isotropic { sigma } => Some(*sigma),
            _ => None,
        }
    }

    /// Checks the model's parameters (for dimension `dim`).
    pub fn validate(&self, dim: usize) -> Result<(), SimError> {
        match self {
            Noise::Isotropic { sigma } => super::positive_finite("sigma", *sigma),
            Noise::Constant { cov, factor } => {
                check_constant(cov, dim)?;
                let mut f = vec![0.0; dim * dim];
                cholesky(cov, &mut f, dim).map_err(|e| not_pd_constant(e.pivot))?;
                if factor.len() != f.len()
                    || factor
                        .iter()
                        .zip(&f)
                        .any(|(a, b)| a.to_bits() != b.to_bits())
                {
                    return Err(SimError::InvalidParameter {
                        name: "noise factor",
                        requirement: "the Cholesky factor of cov (build it with Noise::constant)",
                        got: format!("{factor:?}"),
                    });
                }
                Ok(())
            }
            Noise::StateDependent { .. } => Ok(()),
        }
    }

    /// Standard deviation √(nᵀΣn) of the noise along a boundary normal n (|n| = 1) when it
    /// is the same for every normal and every θ (isotropic noise: σ); otherwise `None`
    /// (the bridge correction then computes nᵀΣ(θ_k)n per step).
    pub fn normal_scale(&self) -> Option<f64> {
        self.isotropic_sigma()
    }

    /// A one-line description for reports.
    pub fn describe(&self) -> String {
        match self {
            Noise::Isotropic { sigma } => format!("isotropic, σ = {sigma}"),
            Noise::Constant { cov, .. } => format!("constant Σ = {cov:?} (row-major)"),
            Noise::StateDependent { model } => model.describe(),
        }
    }
}

fn check_constant(cov: &[f64], dim: usize) -> Result<(), SimError> {
    if cov.len() != dim * dim {
        return Err(SimError::InvalidParameter {
            name: "noise cov",
            requirement: "a d×d matrix for the landscape's dimension d",
            got: format!("{} entries for d = {dim}", cov.len()),
        });
    }
    if cov.iter().any(|v| !v.is_finite()) {
        return Err(SimError::InvalidParameter {
            name: "noise cov",
            requirement: "finite",
            got: format!("{cov:?}"),
        });
    }
    for i in 0..dim {
        for j in 0..i {
            if cov[i * dim + j] != cov[j * dim + i] {
                return Err(SimError::InvalidParameter {
                    name: "noise cov",
                    requirement: "symmetric",
                    got: format!("entries [{i}][{j}] and [{j}][{i}] differ"),
                });
            }
        }
    }
    Ok(())
}

fn not_pd_constant(pivot: usize) -> SimError {
    SimError::InvalidParameter {
        name: "noise cov",
        requirement: "positive definite (f64 Cholesky)",
        got: format!("a non-positive pivot at row {pivot}"),
    }
}

/// Per-worker buffers of the one-at-a-time engine's noise.
pub(crate) struct NoiseWork {
    /// Σ(θ_k) (state-dependent models only).
    pub sigma: Vec<f64>,
    /// Its Cholesky factor.
    pub factor: Vec<f64>,
}

impl NoiseWork {
    pub fn new(d: usize) -> Self {
        NoiseWork {
            sigma: vec![0.0; d * d],
            factor: vec![0.0; d * d],
        }
    }
}

impl Noise {
    /// `out = Σ(θ)^{1/2} ξ` (as F ξ, F the Cholesky factor) in f64; for a state-dependent
    /// model Σ(θ) is evaluated and factored into `work` (read by [`Noise::variance_along`]).
    #[inline]
    pub(crate) fn apply(
        &self,
        landscape: &Landscape,
        theta: &[f64],
        xi: &[f64],
        out: &mut [f64],
        work: &mut NoiseWork,
    ) -> Result<(), NotPositiveDefinite> {
        match self {
            Noise::Isotropic { sigma } => {
                for (o, &z) in out.iter_mut().zip(xi) {
                    *o = sigma * z;
                }
            }
            Noise::Constant { factor, .. } => lower_times(factor, xi, out),
            Noise::StateDependent { model } => {
                model.covariance::<f64>(landscape, theta, &mut work.sigma);
                cholesky(&work.sigma, &mut work.factor, theta.len())?;
                lower_times(&work.factor, xi, out);
            }
        }
        Ok(())
    }

    /// nᵀΣn/|n|² for the Σ of the last [`Noise::apply`] (the current point θ_k).
    #[inline]
    pub(crate) fn variance_along(&self, n: &[f64], work: &NoiseWork) -> f64 {
        match self {
            Noise::Isotropic { sigma } => sigma * sigma,
            Noise::Constant { cov, .. } => rayleigh(cov, n),
            Noise::StateDependent { .. } => rayleigh(&work.sigma, n),
        }
    }

    /// Σ_ii for the Σ of the last [`Noise::apply`] (the variance along the normal e_i of
    /// a face of a box or an end of an interval).
    #[inline]
    pub(crate) fn variance_coordinate(&self, i: usize, d: usize, work: &NoiseWork) -> f64 {
        match self {
            Noise::Isotropic { sigma } => sigma * sigma,
            Noise::Constant { cov, .. } => cov[i * d + i],
            Noise::StateDependent { .. } => work.sigma[i * d + i],
        }
    }
}
