//! Statistics for the Monte Carlo side of the suite (THEORY.md §7).
//!
//! * [`censored_exponential_mean`]: mean exit time from right-censored runs, with the
//!   conservative chi-square interval of THEORY §7;
//! * [`t_interval_mean`], [`bootstrap_mean`]: intervals for a mean without censoring;
//! * [`weighted_slope`]: weighted least squares for exponent fits (`log Ê[τ]` against
//!   `1/κ²`), with a goodness-of-fit statistic;
//! * [`log_mean_se`], [`log_interval`]: the log scale used by those fits;
//! * [`kaplan_meier_median`]: median exit time from right-censored runs (Kaplan–Meier,
//!   Brookmeyer–Crowley interval; exact order-statistic interval without censoring);
//! * [`exponential_gof`]: Lilliefors-type test of `τ/E[τ] ≈ Exp(1)` (claim T3), with and
//!   without censoring, p-value by simulation;
//! * [`SequentialPlan`]: how many trials to run for a requested relative precision
//!   (`trials = "auto"`), with the stopping rule accounted for in the interval's level;
//! * [`holm_bonferroni`], [`holm_adjusted_p_values`]: family-wise error control over
//!   several claims;
//! * [`quantile`]: chi-square / Student t / normal quantiles (statrs, polished);
//! * [`serde_f64_ext`]: serde helper so that `±inf` survives a JSON round trip.
//!
//! Every interval carries its level and the method that produced it ([`Estimate`]).

mod fit;
mod gof;
mod mean;
pub mod quantile;
mod sequential;
pub mod serde_f64_ext;
mod survival;

pub use fit::{
    t_or_normal_factor, weighted_corrected_fit, weighted_prefactor_fit, weighted_slope,
    weighted_two_regressor_fit, CorrectedFit, LinearFit, PrefactorFit,
};
pub use gof::{exponential_gof, GofTest};
pub use mean::{
    bootstrap_mean, censored_exponential_mean, log_interval, log_mean_se, t_interval_mean,
};
pub use sequential::SequentialPlan;
pub use survival::kaplan_meier_median;

use serde::{Deserialize, Serialize};

/// Errors for invalid inputs to the statistics routines.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// A sample (or the union of samples) that must be non-empty is empty.
    #[error("empty sample: {what}")]
    EmptySample {
        /// Which input was empty.
        what: &'static str,
    },
    /// Fewer observations than the method needs (e.g. a variance from one point, or a
    /// line through fewer than two points).
    #[error("too few points for {what}: need at least {needed}, got {got}")]
    TooFewPoints {
        /// What was being computed.
        what: &'static str,
        /// Minimum number of points.
        needed: usize,
        /// Number of points given.
        got: usize,
    },
    /// A confidence level outside the open interval (0, 1), or NaN.
    #[error("confidence level must be in (0, 1), got {0}")]
    InvalidLevel(f64),
    /// A probability argument outside the open interval (0, 1), or NaN.
    #[error("{what} must be in (0, 1), got {value}")]
    InvalidProbability {
        /// Which argument.
        what: &'static str,
        /// The value given.
        value: f64,
    },
    /// A NaN or infinite value where a finite one is required.
    #[error("non-finite value in {what} at index {index}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Position of the first offending value.
        index: usize,
    },
    /// A negative value where a non-negative one is required (times).
    #[error("negative value {value} in {what} at index {index}")]
    Negative {
        /// Which input.
        what: &'static str,
        /// Position of the first offending value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A value that must be strictly positive (a standard error) is `<= 0`.
    #[error("non-positive value {value} in {what} at index {index}")]
    NotPositive {
        /// Which input.
        what: &'static str,
        /// Position of the first offending value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// Input slices that must have equal lengths do not.
    #[error("length mismatch: {what}")]
    LengthMismatch {
        /// Description of the lengths.
        what: String,
    },
    /// The data do not determine the requested quantity (e.g. all abscissae equal).
    #[error("degenerate input: {0}")]
    Degenerate(&'static str),
    /// Any other invalid argument (e.g. zero bootstrap resamples, bad degrees of freedom).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// A point estimate with a two-sided confidence interval `[lo, hi]` at confidence `level`
/// (e.g. 0.95), computed from `n` samples (runs, or points of a fit) by `method`.
///
/// `estimate`, `lo` and `hi` may be infinite (e.g. `hi = +inf` when no run exited); they
/// (de)serialize through [`serde_f64_ext`] so that infinities survive JSON as `"inf"`/`"-inf"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The point estimate.
    #[serde(with = "serde_f64_ext")]
    pub estimate: f64,
    /// Lower end of the confidence interval.
    #[serde(with = "serde_f64_ext")]
    pub lo: f64,
    /// Upper end of the confidence interval (may be `+inf`).
    #[serde(with = "serde_f64_ext")]
    pub hi: f64,
    /// Confidence level of `[lo, hi]`, in (0, 1).
    pub level: f64,
    /// Number of samples behind the estimate (runs, including censored ones; or fit points).
    pub n: usize,
    /// Name of the method (e.g. `"censored-exponential-chi2"`, `"student-t"`).
    pub method: String,
}

impl Estimate {
    /// Whether `x` lies in the closed interval `[lo, hi]`.
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// Whether `[lo, hi]` intersects the closed interval `[a, b]`.
    pub fn overlaps(&self, a: f64, b: f64) -> bool {
        self.lo <= b && a <= self.hi
    }
}

/// Check a confidence level is in the open interval (0, 1) and return `α = 1 − level`.
pub(crate) fn alpha_of(level: f64) -> Result<f64, StatsError> {
    if level.is_finite() && level > 0.0 && level < 1.0 {
        Ok(1.0 - level)
    } else {
        Err(StatsError::InvalidLevel(level))
    }
}

/// Check every value is finite.
pub(crate) fn check_finite(values: &[f64], what: &'static str) -> Result<(), StatsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(StatsError::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// Check every value is finite and `>= 0` (times).
pub(crate) fn check_times(values: &[f64], what: &'static str) -> Result<(), StatsError> {
    check_finite(values, what)?;
    match values.iter().position(|&v| v < 0.0) {
        Some(index) => Err(StatsError::Negative {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Holm–Bonferroni step-down procedure: which of the hypotheses with these p-values are
/// rejected at family-wise error rate `alpha` (THEORY §7, "Error control").
///
/// Sort the p-values increasingly, `p_(1) <= … <= p_(m)`; reject `H_(1), …, H_(k)` where
/// `k` is the largest index such that `p_(j) <= alpha / (m − j + 1)` for every `j <= k`.
/// Returns one flag per input, in input order (`true` = rejected). Controls the family-wise
/// error rate at `alpha` under any dependence between the tests.
///
/// Conventions (this function does not fail): a NaN p-value is never rejected and is
/// sorted last (it still counts in `m`, which is conservative); `alpha <= 0` or NaN rejects
/// nothing; an empty input gives an empty vector. Ties are handled by the stable sort, and
/// since the thresholds increase, tied p-values are rejected or kept together.
pub fn holm_bonferroni(p_values: &[f64], alpha: f64) -> Vec<bool> {
    let m = p_values.len();
    let mut reject = vec![false; m];
    if m == 0 || alpha.is_nan() || alpha <= 0.0 {
        return reject;
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (p_values[i], p_values[j]);
        match (a.is_nan(), b.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            (false, false) => a.partial_cmp(&b).expect("not NaN"),
        }
    });
    for (rank, &i) in order.iter().enumerate() {
        let p = p_values[i];
        let threshold = alpha / (m - rank) as f64;
        if p.is_nan() || p > threshold {
            break;
        }
        reject[i] = true;
    }
    reject
}

/// Holm's step-down procedure with the decisions made by intervals: `p_values[i]` is the
/// p-value of hypothesis `i`, and `rejects(i, level)` says whether its confidence interval
/// at `level` rejects it (misses the hypothesised set). With the p-values sorted, the
/// hypothesis of rank r (0-based, of m) is decided at level `1 − alpha/(m − r)` as long as
/// every hypothesis before it was rejected; from the first one not rejected on, every
/// hypothesis is decided at that same level. Returns, in input order, each hypothesis'
/// level and decision. When `rejects(i, 1 − a)` is "`p_values[i] ≤ a`" this is exactly
/// [`holm_bonferroni`] (family-wise error ≤ `alpha` under any dependence); the interval
/// form lets each decision state the level it was made at. NaN p-values sort last.
pub fn holm_step_down(
    p_values: &[f64],
    alpha: f64,
    mut rejects: impl FnMut(usize, f64) -> bool,
) -> Vec<(f64, bool)> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    // total_cmp puts a positive NaN last and a negative one first: move every NaN last.
    order.sort_by_key(|&i| p_values[i].is_nan());
    let mut out = vec![(f64::NAN, false); m];
    let mut stopped: Option<f64> = None;
    for (rank, &i) in order.iter().enumerate() {
        let level = stopped.unwrap_or(1.0 - alpha / (m - rank) as f64);
        let r = rejects(i, level);
        if stopped.is_none() && !r {
            stopped = Some(level);
        }
        out[i] = (level, r);
    }
    out
}

/// Holm-adjusted p-values: for `alpha < 1`, hypothesis `i` is rejected by
/// [`holm_bonferroni`] at family-wise level `alpha` when `adjusted[i] <= alpha` (up to
/// rounding in the case `(m − i + 1) p_(i) = alpha` exactly). Useful to show in a report how
/// far each claim is from the threshold.
///
/// With the p-values sorted, `p_(1) <= … <= p_(m)`, the adjusted value of `p_(j)` is
/// `max_{i <= j} min(1, (m − i + 1) p_(i))` (Wright, *Biometrics* 48 (1992) 1005–1013).
/// Returned in input order. NaN p-values sort last (they still count in `m`) and their
/// adjusted values are NaN.
pub fn holm_adjusted_p_values(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (p_values[i], p_values[j]);
        match (a.is_nan(), b.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            (false, false) => a.partial_cmp(&b).expect("not NaN"),
        }
    });
    let mut adjusted = vec![f64::NAN; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        let p = p_values[i];
        if p.is_nan() {
            break;
        }
        running = running.max(((m - rank) as f64 * p).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}
