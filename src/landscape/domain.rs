//! Domains D (open, bounded) in which the minimum sits and from which SGD exits.

use crate::num::{iv, point};
use inari::Interval;

/// An open bounded domain.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// The 1-D open interval (lo, hi).
    Interval { lo: f64, hi: f64 },
    /// The open ball B(center, radius) in R^d.
    Ball { center: Vec<f64>, radius: f64 },
    /// The open box ∏_i (lo_i, hi_i) in R^d (lo_i < hi_i; `lo` and `hi` have length d).
    /// Its faces are {θ ∈ D̄ : θ_i = lo_i} and {θ ∈ D̄ : θ_i = hi_i}.
    Box { lo: Vec<f64>, hi: Vec<f64> },
}

impl Domain {
    /// The dimension of the ambient space.
    pub fn dim(&self) -> usize {
        match self {
            Domain::Interval { .. } => 1,
            Domain::Ball { center, .. } => center.len(),
            Domain::Box { lo, .. } => lo.len(),
        }
    }

    /// True when `x` lies in the open domain (f64 test, used by the simulation).
    #[inline]
    pub fn contains(&self, x: &[f64]) -> bool {
        match self {
            Domain::Interval { lo, hi } => x[0] > *lo && x[0] < *hi,
            Domain::Ball { center, radius } => {
                let mut s = 0.0;
                for (a, c) in x.iter().zip(center) {
                    let t = a - c;
                    s += t * t;
                }
                s < radius * radius
            }
            // NaN is outside (both comparisons false).
            Domain::Box { lo, hi } => x
                .iter()
                .zip(lo.iter().zip(hi))
                .all(|(&v, (&l, &h))| v > l && v < h),
        }
    }

    /// An interval box containing the closure D̄ (outward rounded).
    pub fn bounding_box(&self) -> Vec<Interval> {
        match self {
            Domain::Interval { lo, hi } => vec![iv(*lo, *hi)],
            Domain::Ball { center, radius } => center
                .iter()
                .map(|&c| {
                    let r = point(*radius);
                    iv((point(c) - r).inf(), (point(c) + r).sup())
                })
                .collect(),
            // Binary64 ends: the box is exactly D̄.
            Domain::Box { lo, hi } => lo.iter().zip(hi).map(|(&l, &h)| iv(l, h)).collect(),
        }
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Domain::Interval { lo, hi } => format!("interval ({lo}, {hi})"),
            Domain::Ball { radius, .. } => format!("ball of radius {radius} around the minimiser"),
            Domain::Box { lo, hi } => {
                let sides: Vec<String> = lo
                    .iter()
                    .zip(hi)
                    .map(|(l, h)| format!("({l}, {h})"))
                    .collect();
                format!("box {}", sides.join(" × "))
            }
        }
    }
}
