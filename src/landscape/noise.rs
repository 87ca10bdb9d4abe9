//! Gradient-noise covariance models Σ(θ) (THEORY §1), evaluated generically over
//! [`Scalar`] like the landscapes, so the Σ that is simulated and the Σ that is
//! certified are the same function.

use super::Landscape;
use crate::num::Scalar;

/// A gradient-noise covariance model.
#[derive(Clone, Debug, PartialEq)]
pub enum NoiseModel {
    /// Σ = σ²I.
    Isotropic { sigma: f64 },
    /// A constant symmetric positive-definite Σ, row-major d×d.
    Constant { cov: Vec<f64> },
    /// Σ(θ) = scale·∇²L(θ) + floor·I (state-dependent).
    Hessian { scale: f64, floor: f64 },
    /// The empirical per-example covariance of a data loss (state-dependent):
    /// Σ(θ) = (1/N) Σ_i (∇ℓ_i − ∇L)(∇ℓ_i − ∇L)ᵀ ([`super::DataLoss::covariance`]).
    /// Defined for [`Landscape::Data`] only (the spec checks this); for any other
    /// landscape every entry is NaN (ENTIRE over intervals), so nothing is certified.
    Data,
}

impl NoiseModel {
    /// Σ(x), row-major d×d, into `out`.
    pub fn covariance<S: Scalar>(&self, l: &Landscape, x: &[S], out: &mut [S]) {
        let d = x.len();
        match self {
            NoiseModel::Isotropic { sigma } => {
                let s2 = S::from_f64(*sigma).sqr();
                for i in 0..d {
                    for j in 0..d {
                        out[i * d + j] = if i == j { s2 } else { S::zero() };
                    }
                }
            }
            NoiseModel::Constant { cov } => {
                for (o, &c) in out.iter_mut().zip(cov) {
                    *o = S::from_f64(c);
                }
            }
            NoiseModel::Hessian { scale, floor } => {
                l.hessian(x, out);
                let c = S::from_f64(*scale);
                for i in 0..d {
                    for j in 0..d {
                        let v = c * out[i * d + j];
                        out[i * d + j] = if i == j { v + S::from_f64(*floor) } else { v };
                    }
                }
            }
            NoiseModel::Data => match l {
                Landscape::Data(dl) => dl.covariance(x, out),
                _ => out.fill(S::from_f64(f64::NAN)),
            },
        }
    }

    /// σ when the model is isotropic.
    pub fn isotropic_sigma(&self) -> Option<f64> {
        match self {
            NoiseModel::Isotropic { sigma } => Some(*sigma),
            _ => None,
        }
    }

    /// True when Σ does not depend on θ.
    pub fn is_constant(&self) -> bool {
        !matches!(self, NoiseModel::Hessian { .. } | NoiseModel::Data)
    }

    /// A one-line description for reports.
    pub fn describe(&self) -> String {
        match self {
            NoiseModel::Isotropic { sigma } => format!("isotropic, Σ = σ²I with σ = {sigma}"),
            NoiseModel::Constant { cov } => {
                let d = (cov.len() as f64).sqrt() as usize;
                let rows: Vec<String> = cov
                    .chunks(d.max(1))
                    .map(|r| {
                        format!(
                            "[{}]",
                            r.iter()
                                .map(|v| v.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .collect();
                format!("constant Σ = [{}]", rows.join(", "))
            }
            NoiseModel::Hessian { scale, floor } => {
                format!("Hessian-shaped, Σ(θ) = {scale}·∇²L(θ) + {floor}·I")
            }
            NoiseModel::Data => {
                "empirical per-example gradient covariance Σ(θ) = (1/N) Σ_i (∇ℓ_i − ∇L)(∇ℓ_i − ∇L)ᵀ"
                    .into()
            }
        }
    }
}
