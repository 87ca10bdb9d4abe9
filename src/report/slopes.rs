//! Local slopes of ln E[τ] against 1/κ² between neighbouring sweep points, next to the
//! certified barrier (THEORY T1/T2: κ² ln E[τ] → V̄ as κ² → 0).
//!
//! The exponent fits of the claims use every point at once; this table shows how the
//! slope between consecutive κ² values approaches the certified [V_lo, V_hi] as κ²
//! shrinks, which is what splitting points (mean exit times far beyond direct Monte
//! Carlo) make visible. For points i, j with κ²_i > κ²_j:
//!
//!   slope = (ln Ê_j − ln Ê_i) / (1/κ²_j − 1/κ²_i),
//!   se = √(se_i² + se_j²) / (1/κ²_j − 1/κ²_i)   (independent points),
//!
//! with se the standard error of ln Ê ([`SweepPoint::log_se`]), and a normal interval
//! at the report's confidence for each row on its own (no multiplicity adjustment: the
//! table is descriptive, the verdicts are the claims'). A local slope includes the
//! prefactor's change between the two κ², a correction of relative order κ²/V̄.

use crate::certify::Certified;
use crate::claims::SweepPoint;
use crate::simulate::Dynamics;
use crate::stats::quantile::normal_upper_quantile;
use serde::{Deserialize, Serialize};

/// The local slope between two neighbouring sweep points of one series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalSlope {
    /// "continuous", "discrete η = 0.1", "minibatch η = 0.1" (with ", start k" for
    /// starts other than the first).
    pub series: String,
    /// Monte Carlo rows (1-based, as in report.md) of the larger and the smaller κ².
    pub rows: [usize; 2],
    /// κ² of the two points.
    pub kappa2: [f64; 2],
    /// "direct" or "splitting" for each point.
    pub methods: [String; 2],
    /// The local slope, its normal interval at `level`, and the level.
    pub slope: f64,
    pub lo: f64,
    pub hi: f64,
    pub level: f64,
    /// The certified barrier of the series, [V_lo, V_hi] (`null` when not certified).
    pub certified: Option<[f64; 2]>,
}

/// The local slopes of every series of at least two κ² values with estimates (points of
/// one instance, dynamics, start and, for discrete and minibatch SGD, η).
pub fn local_slopes(cert: &Certified, sweep: &[SweepPoint], level: f64) -> Vec<LocalSlope> {
    let z = normal_upper_quantile((1.0 - level) / 2.0).unwrap_or(f64::NAN);
    let mut keys: Vec<(usize, Dynamics, usize, Option<u64>)> = Vec::new();
    for p in sweep {
        let k = key(p);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut out = Vec::new();
    for k in keys {
        // [sweep] instances have their own certificates: only instance 0 here.
        if k.0 != 0 {
            continue;
        }
        let mut rows: Vec<usize> = (0..sweep.len())
            .filter(|&i| key(&sweep[i]) == k && sweep[i].has_estimate())
            .collect();
        // Decreasing κ² (increasing 1/κ²); equal κ² keep the first row only.
        rows.sort_by(|&a, &b| sweep[b].kappa2.total_cmp(&sweep[a].kappa2).then(a.cmp(&b)));
        rows.dedup_by(|b, a| sweep[*a].kappa2 == sweep[*b].kappa2);
        let p0 = &sweep[rows.first().copied().unwrap_or(0)];
        let certified = match p0.dynamics {
            Dynamics::Continuous => cert.barrier.value,
            Dynamics::Discrete | Dynamics::Minibatch => cert
                .barrier_discrete
                .iter()
                .find(|b| b.eta == p0.eta)
                .and_then(|b| b.bound.value),
        }
        .map(|v| [v.inf(), v.sup()]);
        let mut series = match p0.dynamics {
            Dynamics::Continuous => "continuous".to_string(),
            d => format!("{} η = {}", format!("{d:?}").to_lowercase(), p0.eta),
        };
        if p0.start_index > 0 {
            series.push_str(&format!(", start {}", p0.start_index + 1));
        }
        for w in rows.windows(2) {
            let (a, b) = (&sweep[w[0]], &sweep[w[1]]);
            let dx = 1.0 / b.kappa2 - 1.0 / a.kappa2;
            let slope = (b.mean.estimate.ln() - a.mean.estimate.ln()) / dx;
            let se = a.log_se().hypot(b.log_se()) / dx;
            out.push(LocalSlope {
                series: series.clone(),
                rows: [w[0] + 1, w[1] + 1],
                kappa2: [a.kappa2, b.kappa2],
                methods: [a.method().into(), b.method().into()],
                slope,
                lo: slope - z * se,
                hi: slope + z * se,
                level,
                certified,
            });
        }
    }
    out
}

/// The series of a point: instance, dynamics, start, and η except for continuous SGD.
fn key(p: &SweepPoint) -> (usize, Dynamics, usize, Option<u64>) {
    let eta = (p.dynamics != Dynamics::Continuous).then_some(p.eta.to_bits());
    (p.instance, p.dynamics, p.start_index, eta)
}
