//! T4 (THEORY §8): the scaling laws. Across the problem instances of a `[sweep]` (one
//! landscape, domain or noise per value of a spec key, each certified on its own), log of
//! the mean exit time is regressed on x — the swept value, the certified depth ΔL or
//! 1/λ_max — and the fitted slope is compared with the slope predicted by the certified
//! barriers: the same weighted-least-squares slope functional applied to the certified
//! exponents V̄_i/κ² (continuous, E3) or V̄_η,i·B/η (discrete E1, minibatch E2), in
//! outward-rounded interval arithmetic over V̄_i ∈ [V_lo,i, V_hi,i]
//! (proofs/scaling-law-slope.md).

use super::{
    percent, Claim, SweepPoint, Verdict, MAX_RELATIVE_HALF_WIDTH, MIN_BARRIER_RATIO,
    MIN_POINTS_PREFACTOR,
};
use crate::num::imat::verified_solve;
use crate::num::{iv, point};
use crate::simulate::Dynamics;
use crate::spec::SweepAgainst;
use crate::stats::{weighted_slope, PrefactorFit};
use inari::Interval;

/// What T4 needs of one certified instance of a `[sweep]`.
#[derive(Clone, Debug)]
pub struct ScalingInstance {
    /// The swept value.
    pub value: f64,
    /// The dimension d of the landscape.
    pub dim: usize,
    /// Certified ΔL = min_{∂D} L − L*.
    pub depth: Interval,
    /// Certified λ_max(∇²L(θ*)).
    pub sharpness: Interval,
    /// Certified V̄(D) (continuous), `None` when not available.
    pub barrier: Option<Interval>,
    /// How `barrier` was obtained, or why it is missing.
    pub barrier_method: String,
    /// Per η: the certified V̄_η(D), or `None`, with its method.
    pub barrier_discrete: Vec<(f64, Option<Interval>, String)>,
    /// (name, certified, detail) of (H1), (H2).
    pub hypotheses: Vec<(String, bool, String)>,
}

/// The instances of a `[sweep]`, in the order of its values.
#[derive(Clone, Debug)]
pub struct ScalingSweep {
    /// The dotted spec key swept.
    pub key: String,
    pub against: SweepAgainst,
    pub instances: Vec<ScalingInstance>,
}

/// The smallest certified exponent V̄/κ² of a point used by T4 in dimension d:
/// max([`MIN_BARRIER_RATIO`], d/2). Below d/2 the stationary spread of |θ − θ*|² (about
/// d·κ²σ²/(2λ) for an isotropic quadratic) reaches the boundary, so exits are not rare
/// and log E is not governed by V̄/κ² (the entropic regime, THEORY E14);
/// proofs/scaling-law-slope.md, "Asymptotic regime".
pub fn pre_asymptotic_threshold(dim: usize) -> f64 {
    MIN_BARRIER_RATIO.max(0.5 * dim as f64)
}

/// Largest relative uncertainty of the abscissa (the largest radius of an x enclosure
/// over the range of x) for which the x midpoints are used as exact (the slope against
/// the midpoints then differs from that against the true x by a relative amount of the
/// same order, far below the Monte Carlo resolution); wider is INCONCLUSIVE.
pub const MAX_ABSCISSA_UNCERTAINTY: f64 = 1e-4;

/// Ratio of the slope half-widths (with / without the log-prefactor term) above which an
/// INCONCLUSIVE reason names the collinearity of the two regressors as the cause.
pub const COLLINEAR_INFLATION: f64 = 3.0;

/// Enclosure of the weighted-least-squares slope Σ c_i y_i, c_i = w_i (x_i − x̄)/Σ w (x − x̄)²,
/// w_i = 1/se_i², x̄ = Σ w x / Σ w, over all y_i ∈ [lo_i, hi_i]: every real LS slope of
/// (x, y) with weights 1/se² and y in the box lies in it (interval arithmetic, outward
/// rounded; each y_i appears once, so the range of the linear form is enclosed without
/// overestimation beyond the enclosures of the c_i). `None` when the inputs are not
/// finite, an se is not positive, lengths differ, fewer than 2 points, or all x are equal.
pub fn predicted_ls_slope(x: &[f64], se: &[f64], lo: &[f64], hi: &[f64]) -> Option<Interval> {
    let n = x.len();
    if n < 2 || se.len() != n || lo.len() != n || hi.len() != n {
        return None;
    }

    if x.iter().chain(se).any(|v| !v.is_finite())
        || se.iter().any(|&s| s <= 0.0)
        || (0..n).any(|i| lo[i].is_nan() || hi[i].is_nan() || lo[i] > hi[i])
    {
        return None;
    }
    let w: Vec<Interval> = se.iter().map(|&s| point(1.0) / point(s).sqr()).collect();
    let sw = w.iter().fold(point(0.0), |a, &b| a + b);
    let sx = (0..n).fold(point(0.0), |a, i| a + w[i] * point(x[i]));
    let xbar = sx / sw;
    let dx: Vec<Interval> = x.iter().map(|&v| point(v) - xbar).collect();
    let sxx = (0..n).fold(point(0.0), |a, i| a + w[i] * dx[i].sqr());
    if !(sxx.inf() > 0.0) {
        return None;
    }
    let mut slope = point(0.0);
    for i in 0..n {
        let c = w[i] * dx[i] / sxx;
        slope = slope + c * iv(lo[i], hi[i]);
    }
    (!slope.is_empty()).then_some(slope)
}

/// Enclosure of the slope functional of the weighted least-squares fit of y on the
/// columns (1, x, g) — the model log E = a + s·x + b·g with g_i = ln of the certified
/// exponent's midpoint, the log-prefactor term — over all y_i ∈ [lo_i, hi_i]: with X the
/// n×3 design (x and g centred at f64 constants, which changes only the intercept), W =
/// diag(1/se²) and z the verified solution of (XᵀWX) z = e_s ([`verified_solve`]), the
/// slope is Σ_i c_i y_i with c_i = w_i (X z)_i. `None` when the inputs are invalid or the
/// system cannot be verified (x and g nearly collinear, or fewer than 3 points).
pub fn predicted_prefactor_slope(
    x: &[f64],
    g: &[f64],
    se: &[f64],
    lo: &[f64],
    hi: &[f64],
) -> Option<Interval> {
    let n = x.len();
    if n < 3 || g.len() != n || se.len() != n || lo.len() != n || hi.len() != n {
        return None;
    }
    if x.iter().chain(g).chain(se).any(|v| !v.is_finite())
        || se.iter().any(|&s| s <= 0.0)
        || (0..n).any(|i| lo[i].is_nan() || hi[i].is_nan() || lo[i] > hi[i])
    {
        return None;
    }
    let w: Vec<Interval> = se.iter().map(|&s| point(1.0) / point(s).sqr()).collect();
    let mean = |v: &[f64]| {
        let sw: f64 = se.iter().map(|s| 1.0 / (s * s)).sum();
        v.iter().zip(se).map(|(v, s)| v / (s * s)).sum::<f64>() / sw
    };
    let (mx, mg) = (mean(x), mean(g));
    let col = |i: usize, j: usize| match j {
        0 => point(1.0),
        1 => point(x[i]) - point(mx),
        _ => point(g[i]) - point(mg),
    };
    let mut m = vec![point(0.0); 9];
    for r in 0..3 {
        for c in 0..3 {
            m[r * 3 + c] = (0..n).fold(point(0.0), |a, i| a + w[i] * col(i, r) * col(i, c));
        }
    }
    let z = verified_solve(&m, &[point(0.0), point(1.0), point(0.0)], 3)?;
    let mut slope = point(0.0);
    for i in 0..n {
        let xz = (0..3).fold(point(0.0), |a, j| a + col(i, j) * z[j]);
        slope = slope + w[i] * xz * iv(lo[i], hi[i]);
    }
    (!slope.is_empty() && slope.inf().is_finite() && slope.sup().is_finite()).then_some(slope)
}

/// The weighted least-squares fit of log E = a + s·x + b·g (statistics in f64), with the
/// intervals of [`crate::stats::weighted_prefactor_fit`]: the wider of the known-se normal
/// and residual-scale Student-t intervals.
pub fn prefactor_fit_g(
    x: &[f64],
    g: &[f64],
    y: &[f64],
    se: &[f64],
    level: f64,
) -> Option<PrefactorFit> {
    let f = crate::stats::weighted_two_regressor_fit(x, g, y, se, level).ok()?;
    [
        f.slope.estimate,
        f.log_coefficient.estimate,
        f.intercept.estimate,
        f.chi2,
    ]
    .iter()
    .all(|v| v.is_finite())
    .then_some(f)
}

/// One T4 claim to decide: one dynamics (and start) across the instances.
pub(super) struct ScalingPlan {
    id: String,
    statement: String,
    /// Sweep points, one per instance, in instance order.
    pts: Vec<usize>,
    /// Per point: the enclosure of its abscissa.
    x: Vec<Interval>,
    /// Per point: the certified exponent V̄/κ² (or V̄_η/κ²), `None` with the reason.
    exponent: Vec<Result<Interval, String>>,
    /// Per point: failed hypotheses of its instance, "" when all certified.
    failed_hypotheses: Vec<String>,
    variable: String,
    threshold: f64,
    key: String,
}

fn dynamics_name(d: Dynamics) -> (&'static str, &'static str) {
    match d {
        Dynamics::Continuous => ("continuous", "E[τ]"),
        Dynamics::Discrete => ("discrete", "E[ν]"),
        Dynamics::Minibatch => ("minibatch", "E[ν]"),
    }
}

/// The T4 claims of a sweep: one per dynamics (and start) with points at ≥ 2 instances.
pub(super) fn plans(sc: &ScalingSweep, sweep: &[SweepPoint]) -> Vec<ScalingPlan> {
    let mut keys: Vec<(Dynamics, usize)> = Vec::new();
    for p in sweep {
        if !keys.contains(&(p.dynamics, p.start_index)) {
            keys.push((p.dynamics, p.start_index));
        }
    }
    let several_starts = keys.iter().any(|k| k.1 > 0);
    let dim = sc.instances.iter().map(|i| i.dim).max().unwrap_or(1);
    let (variable, what) = match sc.against {
        SweepAgainst::Value => (sc.key.clone(), format!("the swept {}", sc.key)),
        SweepAgainst::Depth => ("ΔL".to_string(), "the certified depth ΔL".to_string()),
        SweepAgainst::InverseSharpness => (
            "1/λ_max".to_string(),
            "1/λ_max (certified sharpness)".to_string(),
        ),
    };
    let mut out = Vec::new();
    for (dynamics, start) in keys {
        let pts: Vec<usize> = (0..sweep.len())
            .filter(|&i| sweep[i].dynamics == dynamics && sweep[i].start_index == start)
            .collect();
        let mut inst: Vec<usize> = pts.iter().map(|&i| sweep[i].instance).collect();
        inst.dedup();
        if inst.len() < 2 {
            continue;
        }
        let (dname, mean) = dynamics_name(dynamics);
        let from = if several_starts {
            format!(" from start {}", start + 1)
        } else {
            String::new()
        };
        let mut x = Vec::new();
        let mut exponent = Vec::new();
        let mut failed = Vec::new();
        for &i in &pts {
            let p = &sweep[i];
            let ins = &sc.instances[p.instance];
            x.push(match sc.against {
                SweepAgainst::Value => point(ins.value),
                SweepAgainst::Depth => ins.depth,
                SweepAgainst::InverseSharpness => point(1.0) / ins.sharpness,
            });
            // κ² = η/B; the exponent is V̄/κ² = V̄·B/η (outward rounded).
            let inv_k2 = point(f64::from(p.batch)) / point(p.eta);
            let bar = match dynamics {
                Dynamics::Continuous => ins.barrier.ok_or_else(|| ins.barrier_method.clone()),
                _ => match ins.barrier_discrete.iter().find(|b| b.0 == p.eta) {
                    Some((_, Some(v), _)) => Ok(*v),
                    Some((_, None, m)) => Err(m.clone()),
                    None => Err(format!("no discrete barrier certified at η = {}", p.eta)),
                },
            };
            exponent.push(bar.map(|v| v * inv_k2));
            failed.push(
                ins.hypotheses
                    .iter()
                    .filter(|h| !h.1)
                    .map(|h| format!("{}: {}", h.0, h.2))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
        }
        let (bar_name, law) = match dynamics {
            Dynamics::Continuous => ("V̄_i/κ²", "κ² log E[τ] → V̄ (T1)"),
            _ => ("V̄_η,i·B/η", "κ² log E[ν] → V̄_η (T2)"),
        };
        out.push(ScalingPlan {
            id: format!("T4 {dname} (log {mean} against {variable}){from}"),
            statement: format!(
                "{dname} SGD across the {} instances of [sweep] {}: log {mean} is affine in {what}, with the slope the certified exponents {bar_name} predict ({law}; THEORY T4, proofs/scaling-law-slope.md)",
                inst.len(),
                sc.key
            ),
            pts,
            x,
            exponent,
            failed_hypotheses: failed,
            variable: variable.clone(),
            threshold: pre_asymptotic_threshold(dim),
            key: sc.key.clone(),
        });
    }
    out
}

impl ScalingPlan {
    pub(super) fn decide(&self, sweep: &[SweepPoint], level: f64) -> Claim {
        let mut claim = Claim::blank(
            self.id.clone(),
            self.statement.clone(),
            level,
            self.failed_hypotheses.iter().all(|f| f.is_empty()),
        );
        claim.model = "log E = a + s·x".into();
        claim.variable = self.variable.clone();
        claim.proofs = vec!["proofs/scaling-law-slope.md".into()];
        claim.n = self.pts.iter().map(|&i| sweep[i].result.trials).sum();
        claim.test = format!("weighted least-squares slope of ln E[exit time] against {} across the [sweep] instances (Student-t ∨ normal interval) against the certified slope enclosure", self.variable);
        let value = |k: usize| sweep[self.pts[k]].instance + 1;
        if let Some(k) = (0..self.pts.len()).find(|&k| !self.failed_hypotheses[k].is_empty()) {
            claim.reason = format!(
                "hypotheses not certified at instance {} ({}): {}",
                value(k),
                self.key,
                self.failed_hypotheses[k]
            );
            claim.inconclusive_cause = Some("hypotheses".into());
            return claim;
        }
        if let Some((k, why)) = self
            .exponent
            .iter()
            .enumerate()
            .find_map(|(k, e)| e.as_ref().err().map(|w| (k, w)))
        {
            claim.reason = format!(
                "no certified barrier at instance {}, so no predicted slope: {why}",
                value(k)
            );
            claim.inconclusive_cause = Some("no-certified-side".into());
            return claim;
        }
        let exps: Vec<Interval> = self
            .exponent
            .iter()
            .map(|e| *e.as_ref().expect("checked"))
            .collect();
        // Pre-asymptotic points (certified exponent below the threshold) are left out.
        let mut used = Vec::new();
        for k in 0..self.pts.len() {
            let p = &sweep[self.pts[k]];
            if exps[k].sup() < self.threshold {
                claim.excluded.push(self.pts[k]);
            } else if p.has_estimate() {
                used.push(k);
            }
        }
        let mut xs: Vec<f64> = used.iter().map(|&k| self.x[k].mid()).collect();
        claim.points = used.iter().map(|&k| self.pts[k]).collect();
        claim.abscissa = xs.clone();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        if xs.len() < 2 {
            let v_lo = exps.iter().map(|e| e.inf()).fold(f64::INFINITY, f64::min);
            claim.reason = format!(
                "needs at least two instances with exits whose certified exponent V̄/κ² is ≥ {} (pre-asymptotic below: the entropic prefactor of d dimensions, THEORY E14); have {} usable, {} left out as pre-asymptotic (largest certified exponent {:.4}); a κ² = η/B about {:.3} times smaller would decide",
                self.threshold,
                xs.len(),
                claim.excluded.len(),
                exps.iter().map(|e| e.sup()).fold(0.0, f64::max),
                (self.threshold / v_lo.max(f64::MIN_POSITIVE)).max(1.0)
            );
            claim.inconclusive_cause = Some("too-few-points".into());
            return claim;
        }
        let range = xs[xs.len() - 1] - xs[0];
        let x_unc = used.iter().map(|&k| self.x[k].rad()).fold(0.0, f64::max) / range;
        let x: Vec<f64> = claim.abscissa.clone();
        // claim.points are the used points, in order.
        let (y, se) = super::log_means(sweep, &claim.points);
        let lo: Vec<f64> = used.iter().map(|&k| exps[k].inf()).collect();
        let hi: Vec<f64> = used.iter().map(|&k| exps[k].sup()).collect();
        // The straight line (its χ² is the test of "affine"), and with enough instances
        // the fit with the log-prefactor term b·ln(V̄/κ²), whose slope is compared (a
        // prefactor power of the exponent, e.g. the entropic term, biases a straight
        // line's slope by a relative O(κ²/V̄) at finite κ).
        let line = match weighted_slope(&x, &y, &se, level) {
            Ok(f) => f,
            Err(e) => {
                claim.reason = format!("the slope fit failed: {e}");
                claim.inconclusive_cause = Some("too-few-points".into());
                return claim;
            }
        };
        let g: Vec<f64> = used.iter().map(|&k| exps[k].mid().ln()).collect();
        let with_prefactor = xs.len() >= MIN_POINTS_PREFACTOR;
        let (pred, s) = if with_prefactor {
            let pred = predicted_prefactor_slope(&x, &g, &se, &lo, &hi);
            let fit = prefactor_fit_g(&x, &g, &y, &se, level);
            match (pred, fit) {
                (Some(p), Some(f)) => {
                    let s = f.slope.clone();
                    claim.prefactor_fit = Some(f);
                    claim.model = "log E = a + s·x + b·ln(V̄/κ²)".into();
                    (p, s)
                }
                _ => {
                    claim.reason = "the fit with the log-prefactor term could not be computed or its predicted slope not verified (x and ln(V̄/κ²) nearly collinear); a wider range of the swept value would decide".into();
                    claim.fit = Some(line);
                    claim.inconclusive_cause = Some("model".into());
                    return claim;
                }
            }
        } else {
            let Some(p) = predicted_ls_slope(&x, &se, &lo, &hi) else {
                claim.reason =
                    "the predicted slope could not be enclosed (degenerate abscissae)".into();
                claim.inconclusive_cause = Some("too-few-points".into());
                return claim;
            };
            (p, line.slope.clone())
        };
        let (plo, phi) = (pred.inf(), pred.sup());
        claim.predicted_slope = Some((plo, phi));
        claim.certified = Some((
            plo,
            phi,
            format!("the slope functional of the fit ({}) applied to the certified exponents over their enclosures, interval arithmetic (proofs/scaling-law-slope.md); abscissa: {}", claim.model, self.variable),
        ));
        claim.estimated = Some(s.clone());
        let gof = if line.dof > 0 {
            format!(
                "straight line: χ² = {:.3} on {} dof, p = {:.3}",
                line.chi2, line.dof, line.p_value
            )
        } else {
            "two instances: no test of the straight line".to_string()
        };
        let gof = match &claim.prefactor_fit {
            Some(f) => format!(
                "{gof}; with the log-prefactor term: b = {:.3} [{:.3}, {:.3}], χ² = {:.3} on {} dof, p = {:.3}",
                f.log_coefficient.estimate, f.log_coefficient.lo, f.log_coefficient.hi, f.chi2, f.dof, f.p_value
            ),
            None => gof,
        };
        let line_half = 0.5 * (line.slope.hi - line.slope.lo);
        claim.fit = Some(line);
        claim.disagrees = !s.overlaps(plo, phi);
        let half = 0.5 * (s.hi - s.lo);
        // With the log-prefactor term, a wide slope interval may come from the second
        // regressor being nearly collinear with the first, not from too few trials: say
        // which (the ratio of the two slopes' half-widths is the variance inflation's √).
        let inflation = if with_prefactor && line_half > 0.0 {
            half / line_half
        } else {
            1.0
        };
        let collinear = if inflation > COLLINEAR_INFLATION {
            format!(
                " (the log-prefactor regressor ln(V̄/κ²) is nearly collinear with {}: it widens the slope's interval {inflation:.1}× over the straight line's; a wider range of {} reduces that, more trials narrow both as 1/√n)",
                self.variable, self.key
            )
        } else {
            String::new()
        };
        let allowed = MAX_RELATIVE_HALF_WIDTH * plo.abs().max(phi.abs());
        let total: usize = used.iter().map(|&k| sweep[self.pts[k]].result.trials).sum();
        let var = &self.variable;
        claim.reason = if x_unc > MAX_ABSCISSA_UNCERTAINTY {
            claim.inconclusive_cause = Some("certified-too-loose".into());
            format!(
                "the abscissa enclosures are too wide to use their midpoints (largest radius {x_unc:.2e} of the range of {var} > {MAX_ABSCISSA_UNCERTAINTY:e}); a tighter certification (certify.max_boxes) would decide"
            )
        } else if claim.disagrees && !with_prefactor {
            claim.inconclusive_cause = Some("model".into());
            format!(
                "the straight-line slope [{:.6}, {:.6}] of log E against {var} misses the predicted [{plo:.6}, {phi:.6}], but with fewer than {MIN_POINTS_PREFACTOR} instances the log-prefactor term cannot be fitted and biases this slope at finite κ; more instances would decide; {gof}",
                s.lo, s.hi
            )
        } else if claim.disagrees {
            claim.verdict = Verdict::Fail;
            format!(
                "the fitted slope [{:.6}, {:.6}] of log E against {var} ({} level, {} instances) misses the slope predicted by the certified barriers [{plo:.6}, {phi:.6}]; {gof}",
                s.lo,
                s.hi,
                percent(s.level),
                s.n
            )
        } else if half > allowed {
            claim.inconclusive_cause = Some("width".into());
            claim.trials_needed = Some(((half / allowed).powi(2) * total as f64).ceil() as usize);
            format!(
                "the fitted slope [{:.6}, {:.6}] against {var} overlaps the predicted [{plo:.6}, {phi:.6}] but is too wide to decide (half-width {half:.4} > {allowed:.4}){collinear}; about {:.0} trials in total (now {total}), or a wider range of {}, would decide; {gof}",
                s.lo,
                s.hi,
                (half / allowed).powi(2) * total as f64,
                self.key
            )
        } else {
            claim.verdict = Verdict::Pass;
            format!(
                "the fitted slope [{:.6}, {:.6}] of log E against {var} ({} level, {} instances) overlaps the slope predicted by the certified barriers [{plo:.6}, {phi:.6}]; {gof}",
                s.lo,
                s.hi,
                percent(s.level),
                s.n
            )
        };
        claim
    }
}
