//! Gradient-noise models Σ(θ) (THEORY §1).
//!
//! The simulation draws standard normal vectors ξ and turns them into noise with
//! covariance Σ(θ) through one function, [`Noise::apply_noise`], which computes
//! Σ(θ)^{1/2} ξ. New models (constant matrix, Hessian-shaped, empirical data covariance)
//! are new variants with their own arm there and in [`Noise::validate`]; the integrators
//! do not change.

use super::SimError;
use crate::num::Scalar;
use serde::{Deserialize, Serialize};

/// A gradient-noise covariance model Σ(θ).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Noise {
    /// Σ = σ² I.
    Isotropic {
        /// The per-coordinate standard deviation σ > 0.
        sigma: f64,
    },
}

impl Noise {
    /// Writes `out = Σ(θ)^{1/2} ξ`, a draw with covariance Σ(θ) when ξ ~ N(0, I).
    ///
    /// All three slices have the landscape's dimension. This is the only place where
    /// the noise model enters the dynamics.
    /// Generic over the number type so that the simulation can apply it to [`Lanes`] of
    /// trajectories (lane-wise the f64 computation).
    ///
    /// [`Lanes`]: crate::num::lanes::Lanes
    #[inline]
    pub fn apply_noise<S: Scalar>(&self, theta: &[S], xi: &[S], out: &mut [S]) {
        debug_assert_eq!(theta.len(), xi.len());
        debug_assert_eq!(xi.len(), out.len());
        match self {
            Noise::Isotropic { sigma } => {
                let sigma = S::from_f64(*sigma);
                for (o, &z) in out.iter_mut().zip(xi) {
                    *o = sigma * z;
                }
            }
        }
    }

    /// Checks the model's parameters (for dimension `dim`).
    pub fn validate(&self, _dim: usize) -> Result<(), SimError> {
        match self {
            Noise::Isotropic { sigma } => super::positive_finite("sigma", *sigma),
        }
    }

    /// Standard deviation √(nᵀΣn) of the noise along a boundary normal n (|n| = 1), for
    /// the Brownian-bridge correction. For isotropic noise it is σ for every normal.
    pub fn normal_scale(&self) -> f64 {
        match self {
            Noise::Isotropic { sigma } => *sigma,
        }
    }

    /// A one-line description for reports.
    pub fn describe(&self) -> String {
        match self {
            Noise::Isotropic { sigma } => format!("isotropic, σ = {sigma}"),
        }
    }
}
