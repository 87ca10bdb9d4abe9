//! "Hypotheses and asymptotic regime": whether a report's setting meets the theorem's
//! hypotheses ((H1), (H2), THEORY §3) and how far its sweep is from the asymptotic regime
//! κ → 0 in which Theorem FW's exponent V̄ governs log E[τ].
//!
//! - Every report: (H1)/(H2) as certified, V̄/κ² per sweep point (points below
//!   [`MIN_BARRIER_RATIO`] are left out of the fits by `claims`), and η·λ_max for discrete
//!   points (linear stability of the iteration needs ηλ_max < 2, THEORY E12).
//! - The isotropic quadratic in a ball centred at its minimum (THEORY E14, the radial case):
//!   the entropic ratio κ²σ²/(λr²/d) (binary64, a guide), and from the certified exact mean
//!   E_exact[τ] of the continuous model (E3) at each point's κ²
//!   ([`mean_exit_time_radial`], `proofs/exit-time-formulas.md`): the exponent it implies,
//!   κ² ln E_exact[τ], against the certified V̄, and the secant slope of ln E_exact[τ]
//!   against the swept variable (B, 1/η or 1/κ²) against the slope the asymptotic law
//!   predicts (V̄/η, V̄·B or V̄, `proofs/predicted-slope.md`). Both are outward-rounded
//!   interval computations: a certified statement of how far the finite-κ slope is from
//!   the asymptotic one. Discrete points use the continuous model at the same κ² (its E[τ]
//!   in SDE time; the discrete E[ν] ≈ E[τ]/η adds ln(1/η), a prefactor term).

use crate::certify::exit_time::mean_exit_time_radial;
use crate::certify::Certified;
use crate::claims::{SweepPoint, MIN_BARRIER_RATIO};
use crate::landscape::{Domain, Landscape, Problem, QuadraticHessian};
use crate::num::{iv, point};
use crate::simulate::Dynamics;
use inari::Interval;
use serde::{Deserialize, Serialize};

/// Relative width asked of the E14 enclosures here (looser than the T5 default: these
/// values are compared with slopes, not with Monte Carlo intervals).
pub const REGIME_REL_TOL: f64 = 1e-4;
/// Cell budget of each E14 enclosure here.
pub const REGIME_MAX_CELLS: usize = 20_000;

/// An outward-rounded enclosure [lo, hi].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Range {
    #[serde(with = "crate::stats::serde_f64_ext")]
    pub lo: f64,
    #[serde(with = "crate::stats::serde_f64_ext")]
    pub hi: f64,
}

fn range(x: Interval) -> Range {
    Range {
        lo: x.inf(),
        hi: x.sup(),
    }
}

/// The regime of one sweep point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegimePoint {
    pub dynamics: String,
    pub eta: f64,
    pub batch: u32,
    pub kappa2: f64,
    /// Certified V̄/κ² (V̄_η for discrete and minibatch points when certified, else V̄);
    /// `null` when no barrier is certified.
    pub barrier_ratio: Option<Range>,
    /// Whether the point is pre-asymptotic (upper end of V̄/κ² below the threshold).
    pub pre_asymptotic: Option<bool>,
    /// Certified η·λ_max (discrete and minibatch points only).
    pub eta_lambda_max: Option<Range>,
    /// Radial case: κ²σ²/(λr²/d), in binary64 (a guide, not a bound).
    pub entropic_ratio: Option<f64>,
    /// Radial case: certified κ²·ln E_exact\[τ\] of the continuous model (E14).
    pub exact_exponent: Option<Range>,
    /// Radial case: certified ln E_exact\[τ\] (SDE time units).
    pub exact_ln_mean: Option<Range>,
}

/// The radial (E14) comparison of the finite-κ slope with the asymptotic one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RadialSlope {
    /// "B", "1/η" or "1/κ²".
    pub variable: String,
    /// Which dynamics' sweep points were used.
    pub dynamics: String,
    /// The two ends of the sweep used for the secant.
    pub from: f64,
    pub to: f64,
    /// Certified secant slope of ln E_exact\[τ\] between them.
    pub exact_slope: Range,
    /// Certified asymptotic slope predicted from V̄.
    pub predicted_slope: Range,
    /// Certified exact_slope / predicted_slope.
    pub ratio: Range,
}

/// The report's "Hypotheses and asymptotic regime" section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Regime {
    /// (H1) certified.
    pub h1: bool,
    /// (H2) certified.
    pub h2: bool,
    /// The threshold below which points are pre-asymptotic (V̄/κ²).
    pub min_barrier_ratio: f64,
    pub points: Vec<RegimePoint>,
    /// Radial case only.
    pub radial_slope: Option<RadialSlope>,
    /// Plain-language conclusions, in order.
    pub notes: Vec<String>,
}

fn dyn_name(d: Dynamics) -> &'static str {
    match d {
        Dynamics::Continuous => "continuous",
        Dynamics::Discrete => "discrete",
        Dynamics::Minibatch => "minibatch",
    }
}

/// The radial setting (λ, r, σ, d) if THEORY E14 applies: built-in quadratic λI, isotropic
/// noise, ball centred at the minimiser 0.
fn radial_setting(problem: &Problem, cert: &Certified) -> Option<(f64, f64, f64, usize)> {
    let sigma = problem.noise.isotropic_sigma()?;
    match (&problem.landscape, &cert.domain) {
        (
            Landscape::Quadratic {
                dim,
                hessian: QuadraticHessian::Scaled(lambda),
            },
            Domain::Ball { center, radius },
        ) if center.iter().all(|&c| c == 0.0) => Some((*lambda, *radius, sigma, *dim)),
        _ => None,
    }
}

/// Certified ln E_exact[τ] of the continuous model at κ² = η/B (E14), if it encloses.
pub fn radial_ln_mean(
    problem: &Problem,
    radius: f64,
    sigma: f64,
    eta: f64,
    batch: u32,
) -> Option<Interval> {
    let eps2 = point(eta) / point(batch as f64) * point(sigma).sqr();
    mean_exit_time_radial(
        &problem.landscape,
        radius,
        eps2,
        REGIME_REL_TOL,
        REGIME_MAX_CELLS,
    )
    .ok()
    .map(|e| e.ln_mean)
}

/// Builds the regime section. Cheap except in the radial case (one E14 enclosure per
/// distinct (η, B)).
pub fn build(problem: &Problem, cert: &Certified, sweep: &[SweepPoint]) -> Regime {
    let holds = |n: &str| cert.hypotheses.iter().any(|h| h.name == n && h.holds);
    let (h1, h2) = (holds("H1"), holds("H2"));
    let radial = radial_setting(problem, cert);
    let mut cache: Vec<((u64, u32), Option<Interval>)> = Vec::new();
    let mut ln_mean = |eta: f64, batch: u32| -> Option<Interval> {
        let (_, r, sigma, _) = radial?;
        let key = (eta.to_bits(), batch);
        if let Some((_, v)) = cache.iter().find(|(k, _)| *k == key) {
            return *v;
        }
        let v = radial_ln_mean(problem, r, sigma, eta, batch);
        cache.push((key, v));
        v
    };
    let mut points = Vec::new();
    for p in sweep {
        let k2 = point(p.eta) / point(p.batch as f64);
        let barrier = match p.dynamics {
            Dynamics::Continuous => cert.barrier.value,
            _ => cert
                .barrier_discrete
                .iter()
                .find(|b| b.eta == p.eta)
                .and_then(|b| b.bound.value)
                .or(cert.barrier.value),
        };
        let ratio = barrier.map(|v| v / k2);
        let eta_lambda =
            (p.dynamics != Dynamics::Continuous).then(|| point(p.eta) * cert.sharpness);
        let (entropic, exact_exp, exact_ln) = match radial {
            Some((lambda, r, sigma, d)) => {
                let e = p.kappa2 * sigma * sigma / (lambda * r * r / d as f64);
                let ln = ln_mean(p.eta, p.batch);
                (Some(e), ln.map(|l| range(l * k2)), ln.map(range))
            }
            None => (None, None, None),
        };
        points.push(RegimePoint {
            dynamics: dyn_name(p.dynamics).into(),
            eta: p.eta,
            batch: p.batch,
            kappa2: p.kappa2,
            barrier_ratio: ratio.map(range),
            pre_asymptotic: ratio.map(|r| r.sup() < MIN_BARRIER_RATIO),
            eta_lambda_max: eta_lambda.map(range),
            entropic_ratio: entropic,
            exact_exponent: exact_exp,
            exact_ln_mean: exact_ln,
        });
    }
    let radial_slope = radial.and_then(|_| radial_slope(sweep, cert, &points));
    let notes = notes(
        h1,
        h2,
        cert,
        &points,
        radial_slope.as_ref(),
        radial.is_some(),
    );
    Regime {
        h1,
        h2,
        min_barrier_ratio: MIN_BARRIER_RATIO,
        points,
        radial_slope,
        notes,
    }
}

/// The certified secant slope of ln E_exact[τ] across the sweep (first dynamics listed),
/// against B (only B varies), 1/η (only η varies) or 1/κ².
fn radial_slope(
    sweep: &[SweepPoint],
    cert: &Certified,
    points: &[RegimePoint],
) -> Option<RadialSlope> {
    let v = cert.barrier.value?;
    let first = sweep.first()?.dynamics;
    let idx: Vec<usize> = (0..sweep.len())
        .filter(|&i| sweep[i].dynamics == first)
        .collect();
    let etas_vary = idx.iter().any(|&i| sweep[i].eta != sweep[idx[0]].eta);
    let batches_vary = idx.iter().any(|&i| sweep[i].batch != sweep[idx[0]].batch);
    // x = the swept variable, as an enclosure; slope factor: d(1/κ²)/dx.
    let (variable, x_of, factor): (&str, Box<dyn Fn(&SweepPoint) -> Interval>, Interval) =
        if batches_vary && !etas_vary {
            let eta = sweep[idx[0]].eta;
            (
                "B",
                Box::new(|p: &SweepPoint| point(p.batch as f64)),
                point(1.0) / point(eta),
            )
        } else if etas_vary && !batches_vary {
            let b = sweep[idx[0]].batch as f64;
            (
                "1/η",
                Box::new(|p: &SweepPoint| point(1.0) / point(p.eta)),
                point(b),
            )
        } else {
            (
                "1/κ²",
                Box::new(|p: &SweepPoint| point(p.batch as f64) / point(p.eta)),
                point(1.0),
            )
        };
    let with_ln: Vec<(usize, Interval)> = idx
        .iter()
        .filter_map(|&i| {
            points[i]
                .exact_ln_mean
                .as_ref()
                .map(|r| (i, iv(r.lo, r.hi)))
        })
        .collect();
    let lo = with_ln
        .iter()
        .min_by(|a, b| x_of(&sweep[a.0]).mid().total_cmp(&x_of(&sweep[b.0]).mid()))?;
    let hi = with_ln
        .iter()
        .max_by(|a, b| x_of(&sweep[a.0]).mid().total_cmp(&x_of(&sweep[b.0]).mid()))?;
    let (x0, x1) = (x_of(&sweep[lo.0]), x_of(&sweep[hi.0]));
    if !(x1.inf() > x0.sup()) {
        return None;
    }
    let slope = (hi.1 - lo.1) / (x1 - x0);
    let predicted = v * factor;
    let ratio = slope / predicted;
    Some(RadialSlope {
        variable: variable.into(),
        dynamics: dyn_name(first).into(),
        from: x0.mid(),
        to: x1.mid(),
        exact_slope: range(slope),
        predicted_slope: range(predicted),
        ratio: range(ratio),
    })
}

fn notes(
    h1: bool,
    h2: bool,
    cert: &Certified,
    points: &[RegimePoint],
    slope: Option<&RadialSlope>,
    radial: bool,
) -> Vec<String> {
    let mut n = Vec::new();
    n.push(match (h1, h2) {
        (true, true) => "(H1) and (H2) are certified: the theorem's hypotheses hold on the closed domain.".to_string(),
        _ => format!(
            "Not every hypothesis is certified ((H1) {}, (H2) {}): no claim can PASS; the theorem is not known to apply to this setting.",
            if h1 { "certified" } else { "not certified" },
            if h2 { "certified" } else { "not certified" }
        ),
    });
    if cert.barrier.value.is_none() {
        n.push("No barrier V̄ is certified, so V̄/κ² (the distance to the asymptotic regime) is unknown; exponent claims are INCONCLUSIVE.".into());
    } else {
        let with: Vec<&RegimePoint> = points
            .iter()
            .filter(|p| p.barrier_ratio.is_some())
            .collect();
        let pre = with
            .iter()
            .filter(|p| p.pre_asymptotic == Some(true))
            .count();
        let lo = with
            .iter()
            .map(|p| p.barrier_ratio.as_ref().unwrap().lo)
            .fold(f64::INFINITY, f64::min);
        let hi = with
            .iter()
            .map(|p| p.barrier_ratio.as_ref().unwrap().hi)
            .fold(f64::NEG_INFINITY, f64::max);
        if !with.is_empty() {
            n.push(format!(
                "V̄/κ² ranges over [{lo:.4}, {hi:.4}] across the sweep; {pre} of {} point(s) are below {MIN_BARRIER_RATIO} (pre-asymptotic, left out of the exponent fits).",
                with.len()
            ));
        }
    }
    let unstable = points
        .iter()
        .filter(|p| p.eta_lambda_max.as_ref().is_some_and(|r| r.hi >= 2.0))
        .count();
    let max_el = points
        .iter()
        .filter_map(|p| p.eta_lambda_max.as_ref().map(|r| r.hi))
        .fold(f64::NEG_INFINITY, f64::max);
    if max_el.is_finite() {
        n.push(if unstable == 0 {
            format!("Discrete stability: η·λ_max ≤ {max_el:.4} < 2 at every discrete point (the iteration is linearly stable at the minimum).")
        } else {
            format!("Discrete stability: η·λ_max ≥ 2 is not excluded at {unstable} point(s): escape is then not exponential (THEORY E12).")
        });
    }
    if radial {
        let e: Vec<f64> = points.iter().filter_map(|p| p.entropic_ratio).collect();
        if let (Some(lo), Some(hi)) = (
            e.iter().cloned().reduce(f64::min),
            e.iter().cloned().reduce(f64::max),
        ) {
            let verdict = if lo >= 2.0 {
                "κ²σ² ≥ 2λr²/d at every point: the stationary spread d·κ²σ²/(2λ) is at least r², the exit is diffusive (entropy-dominated), not activated, and the asymptotic law log E[τ] ≈ V̄/κ² does not describe it"
            } else if hi >= 0.02 {
                "κ²σ² is not small against λr²/d: the entropic term of E14 (THEORY §6) matters and the finite-κ slope of log E[τ] differs from the asymptotic one"
            } else {
                "κ²σ² is small against λr²/d: the entropic term is a moderate correction"
            };
            n.push(format!(
                "Radial case (E14): κ²σ²/(λr²/d) ranges over [{lo:.4}, {hi:.4}] (binary64): {verdict}."
            ));
        }
        if let Some(s) = slope {
            n.push(format!(
                "Certified by E14: the secant slope of ln E_exact[τ] against {} from {:.6} to {:.6} is [{:.6}, {:.6}], the asymptotic slope from V̄ is [{:.6}, {:.6}]: ratio [{:.4}, {:.4}].",
                s.variable, s.from, s.to, s.exact_slope.lo, s.exact_slope.hi, s.predicted_slope.lo, s.predicted_slope.hi, s.ratio.lo, s.ratio.hi
            ));
        }
    }
    n
}

fn fmt_range(r: &Option<Range>) -> String {
    r.as_ref()
        .map_or("—".to_string(), |r| format!("[{:.6}, {:.6}]", r.lo, r.hi))
}

/// The markdown section "Hypotheses and asymptotic regime".
pub fn markdown(r: &Regime) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "\n## Hypotheses and asymptotic regime\n");
    for n in &r.notes {
        let _ = writeln!(s, "- {n}");
    }
    let radial = r.points.iter().any(|p| p.entropic_ratio.is_some());
    let _ = writeln!(s);
    if radial {
        let _ = writeln!(
            s,
            "| dynamics | η | B | κ² | V̄/κ² (certified) | η·λ_max (certified) | κ²σ²/(λr²/d) (binary64) | κ² ln E_exact[τ] (certified, E14) |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    } else {
        let _ = writeln!(
            s,
            "| dynamics | η | B | κ² | V̄/κ² (certified) | η·λ_max (certified) |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|");
    }
    for p in &r.points {
        let _ = write!(
            s,
            "| {} | {} | {} | {:.6e} | {}{} | {} |",
            p.dynamics,
            p.eta,
            p.batch,
            p.kappa2,
            fmt_range(&p.barrier_ratio),
            if p.pre_asymptotic == Some(true) {
                " (pre-asymptotic)"
            } else {
                ""
            },
            fmt_range(&p.eta_lambda_max)
        );
        if radial {
            let _ = write!(
                s,
                " {} | {} |",
                p.entropic_ratio
                    .map_or("—".to_string(), |e| format!("{e:.4}")),
                fmt_range(&p.exact_exponent)
            );
        }
        let _ = writeln!(s);
    }
    if radial {
        let _ = writeln!(
            s,
            "\nThe exact mean is that of the continuous model (E3) at the point's κ², in SDE time (proofs/exit-time-formulas.md); at finite κ, κ² ln E_exact[τ] differs from V̄ by the prefactor, which in d dimensions includes the entropic term of THEORY E14."
        );
    }
    s
}
