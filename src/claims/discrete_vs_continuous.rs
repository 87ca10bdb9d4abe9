//! T6 (THEORY §5, §8): discrete against continuous SGD. V̄_η = V̄(1 − ηλ/2) in the linear
//! 1-D case (E12), V̄_η < V̄ in general.
//!
//! What is measured: the difference of the two fitted exponents, V̂_η − V̂, with V̂ the
//! slope of log E[τ] (continuous, E3) and V̂_η that of log E[ν] (discrete, E1, at one η)
//! against 1/κ², from the same start (the first one). Each slope comes from the same model
//! as the T1/T2 claims (with the log-prefactor term from [`super::MIN_POINTS_PREFACTOR`]
//! distinct κ² on, the same pre-asymptotic cut), and each interval is taken at level
//! 1 − α/2 for a claim level 1 − α, so that the difference interval
//! [lo_η − hi, hi_η − lo] covers with probability ≥ 1 − α (Bonferroni, whatever the
//! dependence; the two sweeps use independent streams anyway).
//!
//! The certified side is the difference of the certified enclosures,
//! [V_lo^η − V_hi, V_hi^η − V_lo] (outward-rounded interval arithmetic); in the linear 1-D
//! case (both ends E12 / E7) it is intersected with the enclosure of −V̄·ηλ/2 that E12
//! gives (λ the certified sharpness), both being enclosures of the same number.
//!
//! Verdicts: FAIL when the difference interval misses the certified difference (and both
//! fits have the log-prefactor term; a straight-line slope is biased by the prefactor, so a
//! miss is then INCONCLUSIVE "model", as for T1/T2); INCONCLUSIVE when the certified
//! difference is too loose to decide (its half-width above [`MAX_RELATIVE_HALF_WIDTH`] of
//! its magnitude — typically when an E11 lower end is loose), or when the difference
//! interval is wider than that (with the trials that would decide); else PASS.
//! A PASS thus says that the measured exponent gap agrees with the certified one to within
//! half of its size.

use super::{
    percent, proofs_cited, trials_of, Claim, SweepPoint, Verdict, MAX_RELATIVE_HALF_WIDTH,
    MIN_BARRIER_RATIO, MIN_POINTS_PREFACTOR,
};
use crate::certify::Certified;
use crate::num::{iv, point};
use crate::simulate::Dynamics;
use crate::stats::{weighted_prefactor_fit, weighted_slope, Estimate};

/// One T6 claim: discrete SGD at `eta` against continuous SGD.
pub(super) struct T6Plan {
    pub eta: f64,
    pub discrete: Vec<usize>,
    pub continuous: Vec<usize>,
}

/// The slope of log E against 1/κ² over the usable points, at `level`: (interval, with the
/// log-prefactor term?, points used).
fn slope(
    sweep: &[SweepPoint],
    pts: &[usize],
    v_hi: f64,
    level: f64,
) -> Option<(Estimate, bool, Vec<usize>)> {
    let usable: Vec<usize> = pts
        .iter()
        .copied()
        .filter(|&i| sweep[i].has_estimate() && v_hi / sweep[i].kappa2 >= MIN_BARRIER_RATIO)
        .collect();
    let mut kappas: Vec<f64> = usable.iter().map(|&i| sweep[i].kappa2).collect();
    kappas.sort_by(f64::total_cmp);
    kappas.dedup();
    if kappas.len() < 2 {
        return None;
    }
    let x: Vec<f64> = usable.iter().map(|&i| 1.0 / sweep[i].kappa2).collect();
    let (y, se) = super::log_means(sweep, &usable);
    if kappas.len() >= MIN_POINTS_PREFACTOR {
        if let Ok(pf) = weighted_prefactor_fit(&x, &y, &se, level) {
            return Some((pf.slope, true, usable));
        }
    }
    weighted_slope(&x, &y, &se, level)
        .ok()
        .map(|f| (f.slope, false, usable))
}

impl T6Plan {
    pub(super) fn decide(&self, cert: &Certified, sweep: &[SweepPoint], level: f64) -> Claim {
        let hyp = cert.hypotheses_hold();
        let statement = format!(
            "discrete against continuous SGD at η = {} (THEORY T6, E12): the fitted exponents differ as the certified barriers do, V̄_η − V̄ (= −V̄ηλ/2 in the linear 1-D case; V̄_η < V̄ in general)",
            self.eta
        );
        let mut c = Claim::blank(format!("T6 (η = {})", self.eta), statement, level, hyp);
        let mut pts = self.continuous.clone();
        pts.extend(&self.discrete);
        c.n = trials_of(sweep, &pts);
        c.variable = "1/κ²".into();
        let db = cert.barrier_discrete.iter().find(|b| b.eta == self.eta);
        let (Some(v), Some(vd)) = (cert.barrier.value, db.and_then(|b| b.bound.value)) else {
            c.inconclusive_cause = Some("no-certified-side".into());
            c.reason = format!(
                "no certified side: {}",
                match (cert.barrier.value, db) {
                    (None, _) => format!("no continuous barrier ({})", cert.barrier.method),
                    (_, Some(b)) => format!("no discrete barrier ({})", b.bound.method),
                    (_, None) => "no discrete barrier at this η".into(),
                }
            );
            return c;
        };
        let db = db.expect("checked above");
        let mut diff = iv(vd.inf(), vd.sup()) - iv(v.inf(), v.sup());
        let mut method = format!(
            "V̄_η − V̄ from the certified enclosures V̄_η ∈ [{:.6}, {:.6}] ({}) and V̄ ∈ [{:.6}, {:.6}] ({})",
            vd.inf(),
            vd.sup(),
            db.bound.method,
            v.inf(),
            v.sup(),
            cert.barrier.method
        );
        let linear_1d = db.lower_family == "E12" && db.upper_family == "E12";
        if linear_1d {
            // E12: V̄_η = V̄(1 − ηλ/2), so V̄_η − V̄ = −V̄·ηλ/2.
            let e12 = -(iv(v.inf(), v.sup()) * point(self.eta) * cert.sharpness / point(2.0));
            let both = diff.intersection(e12);
            if !both.is_empty() {
                diff = both;
            }
            method = format!(
                "{method}; E12 (linear 1-D): V̄_η − V̄ = −V̄ηλ/2 with λ ∈ [{:.6}, {:.6}]",
                cert.sharpness.inf(),
                cert.sharpness.sup()
            );
        }
        let (d_lo, d_hi) = (diff.inf(), diff.sup());
        c.certified = Some((d_lo, d_hi, method.clone()));
        c.proofs = proofs_cited(&method);
        if c.proofs.is_empty() {
            c.proofs = cert.proofs.clone();
        }
        if !hyp {
            c.inconclusive_cause = Some("hypotheses".into());
            c.reason = "hypotheses not certified".into();
            return c;
        }
        let alpha = 1.0 - level;
        let each = 1.0 - alpha / 2.0;
        let fc = slope(sweep, &self.continuous, v.sup(), each);
        let fd = slope(sweep, &self.discrete, vd.sup(), each);
        let (Some((ec, pc, uc)), Some((ed, pd, ud))) = (fc, fd) else {
            c.inconclusive_cause = Some("too-few-points".into());
            c.reason = format!(
                "too few points: each dynamics needs at least two κ² values with exits and V̄/κ² ≥ {MIN_BARRIER_RATIO}"
            );
            return c;
        };
        c.points = uc.iter().chain(&ud).copied().collect();
        c.model = format!(
            "continuous: {}; discrete: {}",
            if pc {
                "log E = a + V/κ² + b·log(1/κ²)"
            } else {
                "log E = a + V/κ²"
            },
            if pd {
                "log E = a + V/κ² + b·log(1/κ²)"
            } else {
                "log E = a + V/κ²"
            }
        );
        let est = Estimate {
            estimate: ed.estimate - ec.estimate,
            lo: ed.lo - ec.hi,
            hi: ed.hi - ec.lo,
            level,
            n: ec.n + ed.n,
            method: format!(
                "difference of two slopes, each at level {} (Bonferroni)",
                percent(each)
            ),
        };
        c.details = vec![
            format!(
                "continuous slope V̂ = {:.5} [{:.5}, {:.5}] ({} level, {} points)",
                ec.estimate,
                ec.lo,
                ec.hi,
                percent(each),
                ec.n
            ),
            format!(
                "discrete slope V̂_η = {:.5} [{:.5}, {:.5}] ({} level, {} points)",
                ed.estimate,
                ed.lo,
                ed.hi,
                percent(each),
                ed.n
            ),
            format!(
                "measured ratio V̂_η/V̂ = {:.4}; certified V̄_η/V̄ ∈ [{:.6}, {:.6}]",
                ed.estimate / ec.estimate,
                (vd.inf() / v.sup()),
                (vd.sup() / v.inf())
            ),
        ];
        c.test = format!(
            "interval of V̂_η − V̂ at level {} (two slope intervals at {} each) must overlap the certified difference",
            percent(level),
            percent(each)
        );
        c.estimated = Some(est.clone());
        let misses = !est.overlaps(d_lo, d_hi);
        c.disagrees = misses;
        let magnitude = 0.5 * (d_lo + d_hi).abs();
        let allowed = MAX_RELATIVE_HALF_WIDTH * magnitude;
        let cert_half = 0.5 * (d_hi - d_lo);
        let half = 0.5 * (est.hi - est.lo);
        let iv_txt = format!("[{:.5}, {:.5}]", est.lo, est.hi);
        let cert_txt = format!("[{d_lo:.6}, {d_hi:.6}]");
        if misses && !(pc && pd) {
            c.inconclusive_cause = Some("model".into());
            c.reason = format!(
                "the difference interval {iv_txt} misses the certified V̄_η − V̄ ∈ {cert_txt}, but a slope without the log-prefactor term (fewer than {MIN_POINTS_PREFACTOR} κ² values) is biased by it; add κ² values to decide"
            );
        } else if misses {
            c.verdict = Verdict::Fail;
            c.reason = format!(
                "the interval of V̂_η − V̂, {iv_txt} ({} level), misses the certified V̄_η − V̄ ∈ {cert_txt}",
                percent(level)
            );
        } else if !(cert_half <= allowed) {
            c.inconclusive_cause = Some("certified-too-loose".into());
            c.reason = format!(
                "certified side too loose to decide: V̄_η − V̄ ∈ {cert_txt} (half-width {cert_half:.4} > {MAX_RELATIVE_HALF_WIDTH} of its size {magnitude:.4}; the lower end of V̄_η is {}); the measured difference {iv_txt} overlaps it",
                db.lower_family
            );
        } else if !(half <= allowed) {
            let needed = ((half / allowed).powi(2) * c.n as f64).ceil();
            c.inconclusive_cause = Some("width".into());
            c.trials_needed = needed.is_finite().then_some(needed as usize);
            c.reason = format!(
                "intervals too wide: the measured V̂_η − V̂ ∈ {iv_txt} overlaps the certified {cert_txt} but its half-width {half:.4} exceeds {allowed:.4} ({MAX_RELATIVE_HALF_WIDTH} of the certified gap); about {needed:.0} trials in total (now {}) or a wider κ range would decide",
                c.n
            );
        } else {
            c.verdict = Verdict::Pass;
            c.reason = format!(
                "the measured V̂_η − V̂ ∈ {iv_txt} ({} level) overlaps the certified {cert_txt} and resolves the gap to within half its size",
                percent(level)
            );
        }
        c
    }
}

/// The T6 plans of a sweep: one per η with discrete (E1) points, when continuous points
/// were simulated from the same (first) start. Empty when either dynamics is missing.
pub(super) fn plans(cert: &Certified, sweep: &[SweepPoint]) -> Vec<T6Plan> {
    let first = sweep.iter().map(|p| p.start_index).min().unwrap_or(0);
    let cont: Vec<usize> = (0..sweep.len())
        .filter(|&i| sweep[i].dynamics == Dynamics::Continuous && sweep[i].start_index == first)
        .collect();
    if cont.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for db in &cert.barrier_discrete {
        let disc: Vec<usize> = (0..sweep.len())
            .filter(|&i| {
                sweep[i].dynamics == Dynamics::Discrete
                    && sweep[i].eta == db.eta
                    && sweep[i].start_index == first
            })
            .collect();
        if disc.is_empty() {
            continue;
        }
        // Continuous points at the same η when they span two κ² values, else all of them
        // (the slope against 1/κ² does not depend on how κ² was varied).
        let same: Vec<usize> = cont
            .iter()
            .copied()
            .filter(|&i| sweep[i].eta == db.eta)
            .collect();
        let mut ks: Vec<f64> = same.iter().map(|&i| sweep[i].kappa2).collect();
        ks.sort_by(f64::total_cmp);
        ks.dedup();
        out.push(T6Plan {
            eta: db.eta,
            discrete: disc,
            continuous: if ks.len() >= 2 { same } else { cont.clone() },
        });
    }
    out
}
