//! T3 (THEORY §2 "Non-stationary regime", §8): the exponent does not depend on the start
//! point, and τ/E[τ] ≈ Exp(1) from every start.
//!
//! The claim is one hypothesis of the report's Holm family, made of J component tests,
//! each with its own p-value:
//!
//! (a) **Equal exponents from every start** (only with several `[monte_carlo] start`
//!     points). For each group of points that one exponent describes (continuous SGD;
//!     discrete or minibatch SGD at one η), each start k with at least two κ² values gives
//!     the straight-line slope b_k of log E against 1/κ² with its standard error s_k. The
//!     test of equal slopes is the weighted χ² (Cochran) homogeneity test:
//!     Q = Σ_k (b_k − b̄)²/s_k², b̄ = Σ b_k/s_k² / Σ 1/s_k², p = P(χ²(K − 1) > Q).
//!     Why this test: the starts are simulated with independent streams (the point seed is
//!     a function of the point index), so the b_k are independent, and with known s_k Q is
//!     exactly χ²(K − 1) under equal slopes (normal b_k); pairwise Bonferroni intervals would
//!     lose power as K grows. Why straight-line slopes (not the log-prefactor model): the
//!     prefactor of E_x[τ] does not depend on x asymptotically (THEORY §2: the whole law of
//!     τ/E_x[τ] is the same from every x), so on the same κ² grid its bias on the slope is
//!     the same for every start and cancels from the differences, while the prefactor
//!     model's slopes are several times wider. s_k is the known-se standard error
//!     1/√(Σw(x − x̄)²) (se(log Ê) = 1/√m, m exits) inflated by √(χ²_k/dof_k) when the
//!     fit's scatter exceeds it; inflating only makes Q smaller, so the test keeps its
//!     level when the s_k are right and is robust to a common excess scatter.
//!     Whether each start's exponent agrees with the certified side is the claim
//!     "T1 from start k" (or "T2 … from start k") of the same family; testing it again here
//!     would count one disagreement twice, so T3 lists it as evidence only.
//! (b) **The Exp(1) law.** Each point's Lilliefors-type test of τ/mean against Exp(1)
//!     ([`crate::stats::exponential_gof`], Monte Carlo p-value from
//!     [`GOF_SIMULATIONS`] simulated samples) is one component. Points with censored runs
//!     (one common cap) use the censored parametric-bootstrap variant, whose level is
//!     asymptotic, not exact; points censored at different caps, or with fewer than
//!     [`MIN_GOF_EXITS`] exits, have no usable test and are left out (listed in the
//!     claim's details); points outside the asymptotic regime (V̄/κ² below
//!     [`super::MIN_BARRIER_RATIO`], as for the exponent fits, or a mean exit time shorter
//!     than [`MIN_RELAXATION_TIMES`] relaxation times 1/λ_min) are left out, since the
//!     exponential law is a small-noise limit.
//!
//! The J components are combined by Bonferroni (equivalently the first step of Holm, which
//! is all that a single "some component rejects" decision uses): at claim level 1 − α the
//! claim disagrees when some component has p ≤ α/J, and its p-value is min(1, J·min p).
//! Its false-FAIL probability is at most α under any dependence between the components.

use super::{percent, trials_of, Claim, SweepPoint, Verdict, MAX_RELATIVE_HALF_WIDTH};
use crate::certify::Certified;
use crate::simulate::Dynamics;
use crate::stats::quantile::{chi2_sf, normal_upper_quantile};

/// Simulated samples behind each point's exponential-law p-value (the run's resamples);
/// the smallest p-value is 1/(GOF_SIMULATIONS + 1).
pub const GOF_SIMULATIONS: usize = 999;

/// A point's Exp(1) test counts for T3 only with at least this many exits (fewer give a
/// test with little power: a PASS on them would say little).
pub const MIN_GOF_EXITS: usize = 30;

/// A point's Exp(1) test counts for T3 only when its mean exit time is at least this many
/// relaxation times 1/λ_min (λ_min the certified lower end of λ_min(∇²L(θ*)); time =
/// iterations·η for discrete points). τ/E[τ] → Exp(1) is a small-noise limit: before
/// leaving, a trajectory first relaxes to the quasi-stationary law near θ* (time ≈ 1/λ_min
/// for the linearised drift), and the law of τ/E[τ] differs from Exp(1) by a term of
/// order (1/λ_min)/E[τ], which a KS test on a few thousand runs (resolution ≈ 1/√n) detects
/// when E[τ] is only a few relaxation times. Measured with the first version of this claim,
/// which had no such cut: the Exp(1) test rejected (p = 0.001 of 999 simulations) at
/// λ_min·E[τ] = 5.9 and 10.0 (examples/quadratic_d10.toml) and 10.6
/// (examples/box_2d.toml), and accepted everywhere from 15 on except p = 0.005 at 31.
/// 50 keeps the O(1/(λ_min E[τ])) departure at about 2 %, below the KS resolution of the
/// examples' sample sizes.
pub const MIN_RELAXATION_TIMES: f64 = 50.0;

/// One component test of T3.
struct Component {
    p: f64,
    what: String,
}

/// Everything T3 computes from the sweep (independent of the level).
struct Analysis {
    components: Vec<Component>,
    details: Vec<String>,
    /// Number of start points in the sweep.
    starts: usize,
    /// Groups in which at least two starts had a slope (part (a) tested).
    groups_tested: usize,
    /// Part (a): the widest start slope half-width (at the normal 1 − α/2 quantile of
    /// the claim's level, computed at decision time from `widest_se`) and the scale it is
    /// judged against, with the trials of its group.
    widest_se: Option<(f64, f64, usize)>,
    /// Part (b): points with a usable exponential-law test.
    gof_points: Vec<usize>,
    censored_gof: usize,
    left_out: Vec<usize>,
}

/// The certified upper end of the barrier that governs a point (for the pre-asymptotic
/// cut), if certified.
fn barrier_hi(cert: &Certified, p: &SweepPoint) -> Option<f64> {
    match p.dynamics {
        Dynamics::Continuous => cert.barrier.value.map(|v| v.sup()),
        _ => cert
            .barrier_discrete
            .iter()
            .find(|b| b.eta == p.eta)
            .and_then(|b| b.bound.value)
            .map(|v| v.sup()),
    }
}

fn pre_asymptotic(cert: &Certified, p: &SweepPoint) -> bool {
    barrier_hi(cert, p).is_some_and(|v| v / p.kappa2 < super::MIN_BARRIER_RATIO)
}

/// The mean exit time of a point in relaxation times 1/λ_min (`None` when λ_min is not
/// certified positive).
fn relaxation_times(cert: &Certified, p: &SweepPoint) -> Option<f64> {
    let lambda = cert.lambda_min.inf();
    if !(lambda > 0.0) {
        return None;
    }
    let time = match p.result.unit {
        crate::simulate::Unit::Time => p.mean.estimate,
        crate::simulate::Unit::Iterations => p.mean.estimate * p.eta,
    };
    Some(time * lambda)
}

/// Whether the point's exit-time law is tested against Exp(1): enough exits, inside the
/// asymptotic regime (V̄/κ² and E[τ]·λ_min large enough).
fn gof_usable(cert: &Certified, p: &SweepPoint) -> bool {
    p.result.exits >= MIN_GOF_EXITS
        && !pre_asymptotic(cert, p)
        && relaxation_times(cert, p).map_or(true, |r| r >= MIN_RELAXATION_TIMES)
}

/// Straight-line slope of log Ê against 1/κ² over `pts` with its (scatter-inflated)
/// standard error; `None` with fewer than two κ² values.
fn start_slope(sweep: &[SweepPoint], pts: &[usize]) -> Option<(f64, f64)> {
    let x: Vec<f64> = pts.iter().map(|&i| 1.0 / sweep[i].kappa2).collect();
    let (y, se) = super::log_means(sweep, pts);
    // Any level gives the same estimate; the standard error is recovered below.
    let fit = crate::stats::weighted_slope(&x, &y, &se, 0.95).ok()?;
    let w: Vec<f64> = se.iter().map(|s| 1.0 / (s * s)).collect();
    let sw: f64 = w.iter().sum();
    let xbar = w.iter().zip(&x).map(|(w, x)| w * x).sum::<f64>() / sw;
    let sxx: f64 = w.iter().zip(&x).map(|(w, x)| w * (x - xbar).powi(2)).sum();
    let inflate = if fit.dof > 0 {
        (fit.chi2 / fit.dof as f64).sqrt().max(1.0)
    } else {
        1.0
    };
    Some((fit.slope.estimate, inflate / sxx.sqrt()))
}

fn analyse(cert: &Certified, sweep: &[SweepPoint]) -> Analysis {
    let mut starts: Vec<usize> = sweep.iter().map(|p| p.start_index).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut a = Analysis {
        components: Vec::new(),
        details: Vec::new(),
        starts: starts.len(),
        groups_tested: 0,
        widest_se: None,
        gof_points: Vec::new(),
        censored_gof: 0,
        left_out: Vec::new(),
    };
    // (a) groups: continuous; discrete and minibatch per η.
    let mut groups: Vec<(Dynamics, Option<f64>)> = Vec::new();
    for p in sweep {
        let key = match p.dynamics {
            Dynamics::Continuous => (p.dynamics, None),
            d => (d, Some(p.eta)),
        };
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    if starts.len() > 1 {
        for (dynamics, eta) in groups {
            let name = match (dynamics, eta) {
                (Dynamics::Continuous, _) => "continuous".to_string(),
                (d, Some(e)) => format!("{} η = {e}", format!("{d:?}").to_lowercase()),
                (d, None) => format!("{d:?}").to_lowercase(),
            };
            let mut slopes: Vec<(usize, f64, f64, usize)> = Vec::new();
            for &s in &starts {
                let pts: Vec<usize> = (0..sweep.len())
                    .filter(|&i| {
                        let p = &sweep[i];
                        p.dynamics == dynamics
                            && eta.map_or(true, |e| p.eta == e)
                            && p.start_index == s
                            && p.has_estimate()
                            && !pre_asymptotic(cert, p)
                    })
                    .collect();
                if let Some((b, se)) = start_slope(sweep, &pts) {
                    slopes.push((s, b, se, trials_of(sweep, &pts)));
                    a.details.push(format!(
                        "{name}, start {}: straight-line slope of log E against 1/κ² {b:.5} (standard error {se:.5}, {} points); its agreement with the certified barrier is decided by the claim from start {}",
                        s + 1,
                        pts.len(),
                        s + 1
                    ));
                }
            }
            if slopes.len() < 2 {
                continue;
            }
            a.groups_tested += 1;
            let w: Vec<f64> = slopes.iter().map(|s| 1.0 / (s.2 * s.2)).collect();
            let bbar =
                slopes.iter().zip(&w).map(|(s, w)| w * s.1).sum::<f64>() / w.iter().sum::<f64>();
            let q: f64 = slopes
                .iter()
                .zip(&w)
                .map(|(s, w)| w * (s.1 - bbar).powi(2))
                .sum();
            let dof = (slopes.len() - 1) as f64;
            let p = chi2_sf(q, dof).unwrap_or(1.0);
            a.components.push(Component {
                p,
                what: format!(
                    "{name}: equal slopes from {} starts (weighted χ² Q = {q:.3} on {dof} dof, common slope {bbar:.5})",
                    slopes.len()
                ),
            });
            // Width: judged against the certified barrier of the group (or the common
            // slope when none is certified).
            let scale = match (dynamics, eta) {
                (Dynamics::Continuous, _) => cert.barrier.value.map(|v| v.sup()),
                (_, Some(e)) => cert
                    .barrier_discrete
                    .iter()
                    .find(|b| b.eta == e)
                    .and_then(|b| b.bound.value)
                    .map(|v| v.sup()),
                _ => None,
            }
            .unwrap_or(bbar.abs());
            for s in &slopes {
                if a.widest_se
                    .map_or(true, |(se, sc, _)| s.2 / scale > se / sc)
                {
                    a.widest_se = Some((s.2, scale, s.3));
                }
            }
        }
    }
    // (b) the exponential law at every point.
    for (i, p) in sweep.iter().enumerate() {
        match &p.statistics.exponential_gof {
            Some(g) if gof_usable(cert, p) => {
                let censored = p.result.censored > 0;
                if censored {
                    a.censored_gof += 1;
                }
                a.gof_points.push(i);
                a.components.push(Component {
                    p: g.p_value,
                    what: format!(
                        "row {}: τ/mean against Exp(1), KS distance {:.4}, Monte Carlo p = {:.4}{}",
                        i + 1,
                        g.statistic,
                        g.p_value,
                        if censored {
                            format!(" ({} runs censored at the step cap)", p.result.censored)
                        } else {
                            String::new()
                        }
                    ),
                });
            }
            _ => a.left_out.push(i),
        }
    }
    for c in &a.components {
        a.details.push(c.what.clone());
    }
    if !a.left_out.is_empty() {
        a.details.push(format!(
            "left out of the Exp(1) part (no usable test: fewer than {MIN_GOF_EXITS} exits, censoring at different caps, V̄/κ² < {}, or E[τ] shorter than {MIN_RELAXATION_TIMES} relaxation times 1/λ_min): Monte Carlo rows {:?}",
            super::MIN_BARRIER_RATIO,
            a.left_out.iter().map(|i| i + 1).collect::<Vec<_>>()
        ));
    }
    a
}

/// The T3 plan of a sweep (it applies to every sweep with points).
pub(super) struct T3Plan;

impl T3Plan {
    /// The claim's p-value: min(1, J·min p) over its J components (Bonferroni), 1 when the
    /// hypotheses are not certified (the claim then cannot be decided).
    pub(super) fn p_value(&self, cert: &Certified, sweep: &[SweepPoint]) -> f64 {
        if !cert.hypotheses_hold() {
            return 1.0;
        }
        let a = analyse(cert, sweep);
        if a.components.is_empty() {
            return 1.0;
        }
        let j = a.components.len() as f64;
        let min = a.components.iter().map(|c| c.p).fold(1.0, f64::min);
        (j * min).min(1.0)
    }

    pub(super) fn decide(&self, cert: &Certified, sweep: &[SweepPoint], level: f64) -> Claim {
        let hyp = cert.hypotheses_hold();
        let a = analyse(cert, sweep);
        let one = a.starts == 1;
        let statement = if one {
            "non-stationary regime (THEORY T3): τ/E[τ] ≈ Exp(1); from one start (the minimiser), so only the exponential law is tested".to_string()
        } else {
            format!("non-stationary regime (THEORY T3): the exponent is the same from each of the {} starts, and τ/E[τ] ≈ Exp(1) from every start", a.starts)
        };
        let mut c = Claim::blank("T3".into(), statement, level, hyp);
        let j = a.components.len();
        let alpha = 1.0 - level;
        let threshold = alpha / j.max(1) as f64;
        let mut pts = a.gof_points.clone();
        pts.sort_unstable();
        c.points = pts;
        c.excluded = a.left_out.clone();
        c.n = trials_of(sweep, &(0..sweep.len()).collect::<Vec<_>>());
        c.details = a.details.clone();
        c.test = format!(
            "{}Lilliefors-type KS test of τ/mean against Exp(1) at each point (Monte Carlo p-value, {GOF_SIMULATIONS} simulations; censored points: parametric bootstrap); the {j} component(s) combined by Bonferroni, each at α/{j} = {threshold:.3e}",
            if one {
                String::new()
            } else {
                "weighted χ² homogeneity test of the straight-line slopes from the starts; "
                    .to_string()
            }
        );
        let rejected: Vec<&Component> = a.components.iter().filter(|k| k.p <= threshold).collect();
        let from = if one { "from one start: " } else { "" };
        let min_p_gof = 1.0 / (GOF_SIMULATIONS + 1) as f64;
        if !hyp {
            c.inconclusive_cause = Some("hypotheses".into());
            let failed: Vec<String> = cert
                .hypotheses
                .iter()
                .filter(|h| !h.holds)
                .map(|h| format!("{}: {}", h.name, h.detail))
                .collect();
            c.reason = format!("hypotheses not certified ({})", failed.join("; "));
            return c;
        }
        if j == 0 {
            c.inconclusive_cause = Some("too-few-points".into());
            c.reason = format!(
                "{from}too few exits: no point has an exponential-law test with at least {MIN_GOF_EXITS} exits inside the asymptotic regime (V̄/κ² ≥ {}, E[τ] ≥ {MIN_RELAXATION_TIMES}/λ_min){}",
                super::MIN_BARRIER_RATIO,
                if one { "" } else { ", and no group has slopes from two starts" }
            );
            return c;
        }
        if !rejected.is_empty() {
            c.disagrees = true;
            c.verdict = Verdict::Fail;
            c.reason = format!(
                "{from}rejected at level {} (Bonferroni over {j} component(s), each at {threshold:.3e}): {}",
                percent(level),
                rejected
                    .iter()
                    .map(|k| k.what.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            return c;
        }
        if !a.gof_points.is_empty() && threshold < min_p_gof {
            c.inconclusive_cause = Some("resolution".into());
            c.reason = format!(
                "{from}no component rejects, but the per-component threshold {threshold:.3e} is below the smallest Monte Carlo p-value 1/{} of the Exp(1) tests, which therefore cannot reject: fewer points, or a lower confidence, would decide",
                GOF_SIMULATIONS + 1
            );
            return c;
        }
        if a.gof_points.is_empty() {
            c.inconclusive_cause = Some("too-few-points".into());
            c.reason = format!(
                "the exponents from the starts agree, but no point has {MIN_GOF_EXITS} or more exits inside the asymptotic regime to test τ/E[τ] ≈ Exp(1)"
            );
            return c;
        }
        if !one && a.groups_tested == 0 {
            c.inconclusive_cause = Some("too-few-points".into());
            c.reason = "τ/E[τ] ≈ Exp(1) is not rejected, but no dynamics has slopes from two starts (each start needs two κ² values with exits inside the asymptotic regime) to compare the exponents".into();
            return c;
        }
        if let Some((se, scale, trials)) = a.widest_se {
            let z = normal_upper_quantile(alpha / 2.0).unwrap_or(f64::INFINITY);
            let half = z * se;
            let allowed = MAX_RELATIVE_HALF_WIDTH * scale;
            if !(half <= allowed) {
                let needed = ((half / allowed).powi(2) * trials as f64).ceil();
                c.inconclusive_cause = Some("width".into());
                c.trials_needed = needed.is_finite().then_some(needed as usize);
                c.reason = format!(
                    "intervals too wide: no component rejects, but a start's slope has half-width {half:.4} > {allowed:.4} ({MAX_RELATIVE_HALF_WIDTH} of the barrier {scale:.4}), so equal slopes are not shown; about {needed:.0} trials for that start's points (now {trials}) or a wider κ range would decide"
                );
                return c;
            }
        }
        c.verdict = Verdict::Pass;
        let gof_part = format!(
            "τ/mean is not rejected as Exp(1) at any of the {} point(s){}",
            a.gof_points.len(),
            if a.censored_gof > 0 {
                format!(
                    " ({} with censored runs, tested by the censored parametric bootstrap)",
                    a.censored_gof
                )
            } else {
                String::new()
            }
        );
        c.reason = if one {
            format!(
                "from one start: {gof_part} (level {}, Bonferroni over {j} test(s), smallest p = {:.4})",
                percent(level),
                a.components.iter().map(|k| k.p).fold(1.0, f64::min)
            )
        } else {
            format!(
                "the slopes from the {} starts agree (χ² homogeneity in {} group(s)) and {gof_part} (level {}, Bonferroni over {j} test(s), smallest p = {:.4})",
                a.starts,
                a.groups_tested,
                percent(level),
                a.components.iter().map(|k| k.p).fold(1.0, f64::min)
            )
        };
        c
    }
}
