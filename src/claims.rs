//! Claims of the theory (THEORY §8) with verdicts that put the certified bound and
//! the measured rate side by side.
//!
//! This slice verdicts T1 (continuous exponent) and T2 (discrete exponent). Each
//! claim's statistical interval is taken at level 1 − α/k (Bonferroni over the k claims
//! of the report), so the probability that any claim of a report is FAIL while its
//! statistics hold is at most α = 1 − `confidence`.

use crate::certify::Certified;
use crate::simulate::{Dynamics, SimResult};
use crate::stats::{weighted_prefactor_fit, weighted_slope, Estimate, LinearFit, PrefactorFit};
use serde::{Deserialize, Serialize};

/// PASS, FAIL or INCONCLUSIVE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// The statistics agree with the certificate at the stated level.
    Pass,
    /// They disagree at that level.
    Fail,
    /// Hypotheses not certified, a certificate missing, or intervals too wide to decide.
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// One Monte Carlo sweep point with its mean exit time.
#[derive(Clone, Debug)]
pub struct SweepPoint {
    pub dynamics: Dynamics,
    pub eta: f64,
    pub batch: u32,
    pub kappa2: f64,
    /// Which start point (index into the spec's list; 0 is the minimiser by default).
    pub start_index: usize,
    pub start: Vec<f64>,
    pub result: SimResult,
    /// Mean exit time with its interval (censored-exponential χ², THEORY §7).
    pub mean: Estimate,
    /// The time-step check of a continuous point (`--check-dt`), if run.
    pub dt_check: Option<DtCheck>,
    /// Further statistics of the exit times.
    pub statistics: PointStatistics,
    /// Certified exact mean exit time (E13/E14) where a formula applies, else the reason.
    pub exact: Option<Result<ExactMean, String>>,
}

/// A certified enclosure of the exact E[τ] of one continuous sweep point (THEORY E13/E14).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExactMean {
    /// Enclosure of E[τ] (upper end +∞ when beyond the binary64 range).
    pub lo: f64,
    pub hi: f64,
    /// Enclosure of ln E[τ].
    pub ln_lo: f64,
    pub ln_hi: f64,
    pub method: String,
}

/// Further statistics of one point's exit times (THEORY §7).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PointStatistics {
    /// Student-t interval of the mean (only when no run is censored).
    pub mean_t: Option<Estimate>,
    /// Percentile-bootstrap interval of the mean (only when no run is censored).
    pub mean_bootstrap: Option<Estimate>,
    /// Kaplan–Meier median with its interval.
    pub median: Option<Estimate>,
    /// Goodness of fit of τ/mean to Exp(1) (Lilliefors-type, Monte Carlo p-value).
    pub exponential_gof: Option<crate::stats::GofTest>,
}

/// The same continuous sweep point rerun at half the time step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DtCheck {
    /// The halved step.
    pub dt: f64,
    /// The mean exit time at that step, with its interval.
    pub mean_exit_time: Estimate,
    /// Whether the intervals at dt and dt/2 overlap (no time-step effect detected).
    pub agrees: bool,
}

/// A verdicted claim and the evidence behind it.
#[derive(Clone, Debug)]
pub struct Claim {
    /// "T1", or "T2 (η = 0.05)".
    pub id: String,
    pub statement: String,
    pub verdict: Verdict,
    /// Why this verdict.
    pub reason: String,
    /// The certified interval compared, with its method.
    pub certified: Option<(f64, f64, String)>,
    /// The estimated interval compared (the fitted slope).
    pub estimated: Option<Estimate>,
    /// The straight-line fit log E = a + V/κ².
    pub fit: Option<LinearFit>,
    /// The fit with a log-prefactor term, log E = a + V/κ² + b log(1/κ²) (≥ 4 distinct κ²).
    pub prefactor_fit: Option<PrefactorFit>,
    /// Which fit gave `estimated`.
    pub model: String,
    /// Whether (H1) and (H2) were certified.
    pub hypotheses_certified: bool,
    /// Indices into the sweep of the points the fit used.
    pub points: Vec<usize>,
    /// Indices of points left out as pre-asymptotic (V̄/κ² < [`MIN_BARRIER_RATIO`]).
    pub excluded: Vec<usize>,
}

/// A PASS needs a slope interval no wider than this fraction of the certified barrier
/// on each side; wider intervals are INCONCLUSIVE (a test that cannot fail is no test).
pub const MAX_RELATIVE_HALF_WIDTH: f64 = 0.5;

/// Sweep points with V̄/κ² below this are pre-asymptotic and left out of exponent fits.
pub const MIN_BARRIER_RATIO: f64 = 4.0;

/// Distinct κ² values from which the log-prefactor model is fitted (dof ≥ 1). With fewer,
/// the straight-line fit is reported, and a disagreement is INCONCLUSIVE, not FAIL: the
/// power-law prefactor biases a straight-line slope at finite κ.
pub const MIN_POINTS_PREFACTOR: usize = 4;

/// Verdicts every claim that applies to the sweep.
pub fn evaluate(cert: &Certified, sweep: &[SweepPoint], confidence: f64) -> Vec<Claim> {
    let mut plans: Vec<(String, String, Vec<usize>, Option<(f64, f64, String)>)> = Vec::new();
    let mut starts: Vec<usize> = sweep.iter().map(|p| p.start_index).collect();
    starts.sort_unstable();
    starts.dedup();
    for &s in &starts {
        // With several start points, each gets its own claims (THEORY T3: the exponent
        // does not depend on the start).
        let from = if starts.len() > 1 {
            format!(" from start {}", s + 1)
        } else {
            String::new()
        };
        let cont: Vec<usize> = (0..sweep.len())
            .filter(|&i| sweep[i].dynamics == Dynamics::Continuous && sweep[i].start_index == s)
            .collect();
        if !cont.is_empty() {
            let cb = cert
                .barrier
                .value
                .map(|v| (v.inf(), v.sup(), cert.barrier.method.clone()));
            plans.push((
                format!("T1{from}"),
                "continuous SGD (E3): κ² log E[τ] → V̄, so log E[τ] against 1/κ² has slope V̄ (THEORY T1)".into(),
                cont,
                cb,
            ));
        }
        for db in &cert.barrier_discrete {
            let pts: Vec<usize> = (0..sweep.len())
                .filter(|&i| {
                    sweep[i].dynamics == Dynamics::Discrete
                        && sweep[i].eta == db.eta
                        && sweep[i].start_index == s
                })
                .collect();
            if pts.is_empty() {
                continue;
            }
            let mut statement = format!(
                "discrete Gaussian SGD (E1) at η = {}: log E[ν] against B/η = 1/κ² has slope V̄_η (THEORY T2)",
                db.eta
            );
            if db.bound.value.is_none() {
                statement = format!("{statement} — certified side: {}", db.bound.method);
            }
            plans.push((
                format!("T2 (η = {}){from}", db.eta),
                statement,
                pts,
                db.bound
                    .value
                    .map(|v| (v.inf(), v.sup(), db.bound.method.clone())),
            ));
        }
        // Minibatch SGD (E2): the same claim with κ² = η/B.
        for db in &cert.barrier_discrete {
            let pts: Vec<usize> = (0..sweep.len())
                .filter(|&i| {
                    sweep[i].dynamics == Dynamics::Minibatch
                        && sweep[i].eta == db.eta
                        && sweep[i].start_index == s
                })
                .collect();
            if pts.is_empty() {
                continue;
            }
            let mut statement = format!(
                "minibatch SGD (E2) at η = {}: log E[ν] against B/η = 1/κ² has slope V̄_η (THEORY T2)",
                db.eta
            );
            if db.bound.value.is_none() {
                statement = format!("{statement} — certified side: {}", db.bound.method);
            }
            plans.push((
                format!("T2 minibatch (η = {}){from}", db.eta),
                statement,
                pts,
                db.bound
                    .value
                    .map(|v| (v.inf(), v.sup(), db.bound.method.clone())),
            ));
        }
    }
    let exact_pts: Vec<usize> = (0..sweep.len())
        .filter(|&i| matches!(sweep[i].exact, Some(Ok(_))))
        .collect();
    let k = (plans.len() + usize::from(!exact_pts.is_empty())).max(1) as f64;
    let level = 1.0 - (1.0 - confidence) / k;
    let mut claims: Vec<Claim> = plans
        .into_iter()
        .map(|(id, statement, pts, cb)| exponent_claim(id, statement, cert, sweep, &pts, cb, level))
        .collect();
    if !exact_pts.is_empty() {
        claims.push(exact_mean_claim(cert, sweep, &exact_pts, level));
    }
    claims
}

/// T5: the Monte Carlo mean exit time agrees with the certified exact E[τ] (E13/E14) at
/// every point that has one. Each point's censored-exponential interval is recomputed at
/// level 1 − (1 − `level`)/m for the m points (Bonferroni within the claim).
fn exact_mean_claim(cert: &Certified, sweep: &[SweepPoint], pts: &[usize], level: f64) -> Claim {
    let m = pts.len() as f64;
    let point_level = 1.0 - (1.0 - level) / m;
    let mut misses = Vec::new();
    let mut worst = 0.0f64;
    let mut widest: Option<Estimate> = None;
    for &i in pts {
        let Some(Ok(ex)) = &sweep[i].exact else {
            continue;
        };
        let r = &sweep[i].result;
        let Ok(e) =
            crate::stats::censored_exponential_mean(&r.exit_times, &r.censor_times, point_level)
        else {
            continue;
        };
        if !e.overlaps(ex.lo, ex.hi) {
            misses.push(format!(
                "row {}: Monte Carlo [{:.5e}, {:.5e}] vs certified [{:.7e}, {:.7e}]",
                i + 1,
                e.lo,
                e.hi,
                ex.lo,
                ex.hi
            ));
        }
        // An interval without an upper end (no exits) is infinitely wide, never precise.
        let rel = if e.hi.is_finite() && e.estimate.is_finite() && e.estimate > 0.0 {
            (e.hi - e.lo) / (2.0 * e.estimate)
        } else {
            f64::INFINITY
        };
        if rel > worst || widest.is_none() {
            worst = rel;
            widest = Some(e);
        }
    }
    let hyp = cert.hypotheses_hold();
    let (verdict, reason) = if !misses.is_empty() {
        (
            Verdict::Fail,
            format!(
                "the Monte Carlo interval misses the certified E[τ] at {}",
                misses.join("; ")
            ),
        )
    } else if worst > MAX_RELATIVE_HALF_WIDTH {
        (
            Verdict::Inconclusive,
            format!("every Monte Carlo interval overlaps the certified E[τ], but the widest has relative half-width {worst:.3} > {MAX_RELATIVE_HALF_WIDTH}"),
        )
    } else {
        (
            Verdict::Pass,
            format!(
                "at all {} points the Monte Carlo mean's interval (each at {} level) overlaps the certified exact E[τ]",
                pts.len(),
                percent(point_level)
            ),
        )
    };
    Claim {
        id: "T5".into(),
        statement: "the Monte Carlo mean exit time of continuous SGD agrees with the exact E[τ] (THEORY T5, E13/E14), certified by interval quadrature".into(),
        verdict,
        reason,
        certified: None,
        estimated: widest,
        fit: None,
        prefactor_fit: None,
        model: String::new(),
        hypotheses_certified: hyp,
        points: pts.to_vec(),
        excluded: Vec::new(),
    }
}

fn exponent_claim(
    id: String,
    statement: String,
    cert: &Certified,
    sweep: &[SweepPoint],
    pts: &[usize],
    certified: Option<(f64, f64, String)>,
    level: f64,
) -> Claim {
    let hyp = cert.hypotheses_hold();
    let mut claim = Claim {
        id,
        statement,
        verdict: Verdict::Inconclusive,
        reason: String::new(),
        certified: certified.clone(),
        estimated: None,
        fit: None,
        prefactor_fit: None,
        model: String::new(),
        hypotheses_certified: hyp,
        points: Vec::new(),
        excluded: Vec::new(),
    };
    // Points with at least one exit give a finite log-mean with standard error 1/√m.
    // Points with V̄/κ² below MIN_BARRIER_RATIO are outside the asymptotic regime the
    // theorem speaks of (corrections of relative order κ²/V̄) and are left out of the fit.
    let v_hi = certified.as_ref().map_or(f64::INFINITY, |c| c.1);
    let pre_asymptotic: Vec<usize> = pts
        .iter()
        .copied()
        .filter(|&i| v_hi / sweep[i].kappa2 < MIN_BARRIER_RATIO)
        .collect();
    let usable: Vec<usize> = pts
        .iter()
        .copied()
        .filter(|&i| sweep[i].result.exits > 0 && !pre_asymptotic.contains(&i))
        .collect();
    claim.excluded = pre_asymptotic;
    let mut kappas: Vec<f64> = usable.iter().map(|&i| sweep[i].kappa2).collect();
    kappas.sort_by(f64::total_cmp);
    kappas.dedup();
    claim.points = usable.clone();
    if kappas.len() >= 2 {
        let x: Vec<f64> = usable.iter().map(|&i| 1.0 / sweep[i].kappa2).collect();
        let y: Vec<f64> = usable
            .iter()
            .map(|&i| sweep[i].mean.estimate.ln())
            .collect();
        let se: Vec<f64> = usable
            .iter()
            .map(|&i| crate::stats::log_mean_se(sweep[i].result.exits))
            .collect();
        match weighted_slope(&x, &y, &se, level) {
            Ok(fit) => {
                claim.estimated = Some(fit.slope.clone());
                claim.model = "log E = a + V/κ²".into();
                claim.fit = Some(fit);
            }
            Err(e) => claim.reason = format!("the exponent fit failed: {e}"),
        }
        // With enough distinct κ², the prefactor's power of κ (e.g. the entropic term of
        // a d-dimensional ball) is fitted too, so the slope estimates V̄ itself.
        if kappas.len() >= MIN_POINTS_PREFACTOR {
            if let Ok(pf) = weighted_prefactor_fit(&x, &y, &se, level) {
                claim.estimated = Some(pf.slope.clone());
                claim.model = "log E = a + V/κ² + b·log(1/κ²)".into();
                claim.prefactor_fit = Some(pf);
            }
        }
    }
    let missing_hyp = || {
        let failed: Vec<String> = cert
            .hypotheses
            .iter()
            .filter(|h| !h.holds)
            .map(|h| format!("{}: {}", h.name, h.detail))
            .collect();
        failed.join("; ")
    };
    claim.reason = match (&certified, &claim.estimated) {
        (None, _) => "no certified barrier for this claim in this version (see the statement)".into(),
        (Some(_), _) if !hyp => format!("hypotheses not certified ({})", missing_hyp()),
        (Some(_), None) if claim.reason.is_empty() => format!(
            "needs at least two sweep values of κ² with exits and V̄/κ² ≥ {MIN_BARRIER_RATIO}; have {} ({} point(s) left out as pre-asymptotic)",
            kappas.len(),
            claim.excluded.len()
        ),
        (Some(_), None) => claim.reason.clone(),
        (Some((lo, hi, _)), Some(s)) => {
            let total_trials: usize = pts.iter().map(|&i| sweep[i].result.trials).sum();
            let half = 0.5 * (s.hi - s.lo);
            let allowed = MAX_RELATIVE_HALF_WIDTH * hi.abs().max(lo.abs());
            if !s.overlaps(*lo, *hi) && claim.prefactor_fit.is_none() {
                format!(
                    "the straight-line slope interval [{:.4}, {:.4}] misses the certified [{lo:.6}, {hi:.6}], but with fewer than {MIN_POINTS_PREFACTOR} κ² values the prefactor's power of κ cannot be fitted and biases this slope; add κ² values to decide",
                    s.lo, s.hi
                )
            } else if !s.overlaps(*lo, *hi) {
                claim.verdict = Verdict::Fail;
                format!(
                    "the exponent interval [{:.4}, {:.4}] ({} level, model {}) misses the certified [{lo:.6}, {hi:.6}]",
                    s.lo,
                    s.hi,
                    percent(s.level),
                    claim.model
                )
            } else if half > allowed {
                let factor = (half / allowed).powi(2);
                format!(
                    "the exponent interval [{:.4}, {:.4}] overlaps the certified [{lo:.6}, {hi:.6}] but is too wide to decide (half-width {half:.3} > {allowed:.3}); about {:.0} trials in total (now {total_trials}) or a wider κ range would decide",
                    s.lo,
                    s.hi,
                    factor * total_trials as f64
                )
            } else {
                claim.verdict = Verdict::Pass;
                format!(
                    "the exponent interval [{:.4}, {:.4}] ({} level, {} points, model {}) overlaps the certified [{lo:.6}, {hi:.6}]",
                    s.lo,
                    s.hi,
                    percent(s.level),
                    s.n,
                    claim.model
                )
            }
        }
    };
    claim
}

/// A level as a percentage without trailing zeros (0.975 → "97.5%").
fn percent(level: f64) -> String {
    let p = format!("{:.4}", 100.0 * level);
    format!("{}%", p.trim_end_matches('0').trim_end_matches('.'))
}
