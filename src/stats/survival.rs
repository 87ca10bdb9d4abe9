//! Median exit time from right-censored runs: Kaplan–Meier with the Brookmeyer–Crowley
//! interval, or the exact order-statistic interval when nothing is censored.

use super::quantile::normal_upper_quantile;
use super::{alpha_of, check_times, Estimate, StatsError};
use statrs::distribution::{Binomial, DiscreteCDF};

/// Median exit time with a confidence interval at `level`, from right-censored runs.
///
/// `exit_times` are the observed exit times, `censor_times` the times at which the runs
/// that had not exited were stopped; all finite and `>= 0`, at least one run in all. Unlike
/// [`censored_exponential_mean`](super::censored_exponential_mean) this assumes nothing
/// about the law of the exit time (only that censoring is independent of it).
///
/// **Estimate.** The Kaplan–Meier estimate `Ŝ(t) = Π_{t_j <= t} (1 − d_j/n_j)` over the
/// distinct exit times `t_j`, with `d_j` exits at `t_j` and `n_j` runs at risk (time
/// `>= t_j`; a run censored at `t_j` counts as at risk there). The median is the smallest
/// `t` with `Ŝ(t) <= 1/2`; if `Ŝ` equals `1/2` exactly on `[t_j, t_{j+1})` between two exit
/// times it is the midpoint `(t_j + t_{j+1})/2`, so that without censoring it is the usual
/// sample median ("exactly" allows the rounding of the product: `|Ŝ − 1/2| <= j·ε`).
/// If `Ŝ` stays above `1/2` (too much censoring) the estimate is `+inf`.
///
/// **Interval without censoring** (`censor_times` empty; method
/// `"median-order-statistic-binomial"`): `[x_(r), x_(n+1−r)]` from the sorted sample, with
/// `r` the largest integer such that `P(B <= r − 1) <= α/2` for `B ~ Binomial(n, 1/2)`,
/// `α = 1 − level`. Distribution-free and exact-conservative: the number of observations
/// below the true median `M` is `Binomial(n, 1/2)` for a continuous law, so
/// `P(x_(r) > M) = P(x_(n+1−r) < M) = P(B <= r − 1) <= α/2` and the coverage is `>= level`
/// for every `n`. If even `r = 1` is too large (`2^{−n} > α/2`, i.e. `n` tiny), the interval
/// is `[0, +inf)`. (E.g. `n = 100`, `level = 0.95`: `[x_(40), x_(61)]`.)
///
/// **Interval with censoring** (method `"kaplan-meier-brookmeyer-crowley-loglog"`):
/// Brookmeyer & Crowley (1982) — the median times for which the test of `S(t) = 1/2` is not
/// rejected — on the log(−log) scale (Kalbfleisch & Prentice; SAS LIFETEST's default,
/// lifelines' and R `survival`'s "log-log" band). With Greenwood's
/// `σ²(t) = Σ_{t_j <= t} d_j / (n_j (n_j − d_j))` and `z = z_{α/2}`, the pointwise band is
/// `S_L(t) = Ŝ(t)^{exp(+zσ/|ln Ŝ|)}`, `S_U(t) = Ŝ(t)^{exp(−zσ/|ln Ŝ|)}`, and
///
/// ```text
///     lo = first t with S_L(t) <= 1/2    (before it the data say S > 1/2, so M > t),
///     hi = first t with S_U(t) <= 1/2    (from there the data say S <= 1/2, so M <= t).
/// ```
///
/// If `S_L` never reaches `1/2`, `lo` is the last observed time (the median is beyond the
/// follow-up) and if `S_U` never does, `hi = +inf`. Where `Ŝ` drops to 0 (the last run at
/// risk exits) Greenwood's variance is infinite: there `S_L = 0` and `S_U` keeps its previous
/// value (conservative). Before the first exit `Ŝ = 1` and the band is `{1}`. The coverage
/// is asymptotic (`n → ∞`, median inside the follow-up); the log-log form keeps it close
/// to `level` at moderate `n` (`tests/stats_median.rs` measures it). Reference values: the
/// tests compare with lifelines 0.30 (`KaplanMeierFitter`, `median_survival_times` of its
/// log-log `confidence_interval_`).
///
/// The interval is widened if needed to contain the estimate. `n` is the number of runs.
///
/// References: Kaplan & Meier (1958); Brookmeyer & Crowley, *Biometrics* 38 (1982) 29–41;
/// Klein & Moeschberger, *Survival Analysis*, §4.5; David & Nagaraja, *Order Statistics*,
/// §7.1 (the distribution-free interval).
pub fn kaplan_meier_median(
    exit_times: &[f64],
    censor_times: &[f64],
    level: f64,
) -> Result<Estimate, StatsError> {
    let alpha = alpha_of(level)?;
    check_times(exit_times, "exit_times")?;
    check_times(censor_times, "censor_times")?;
    let n = exit_times.len() + censor_times.len();
    if n == 0 {
        return Err(StatsError::EmptySample {
            what: "exit_times and censor_times are both empty",
        });
    }
    let mut exits = exit_times.to_vec();
    exits.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    let mut censored = censor_times.to_vec();
    censored.sort_by(|a, b| a.partial_cmp(b).expect("finite"));

    let estimate = km_curve(&exits, &censored, None).median;
    let (lo, hi, method) = if censored.is_empty() {
        let (lo, hi) = order_statistic_interval(&exits, alpha)?;
        (lo, hi, "median-order-statistic-binomial")
    } else {
        let z = normal_upper_quantile(alpha / 2.0)?;
        let curve = km_curve(&exits, &censored, Some(z));
        let last_time = exits
            .last()
            .copied()
            .unwrap_or(0.0)
            .max(censored.last().copied().unwrap_or(0.0));
        (
            curve.lower_limit.unwrap_or(last_time),
            curve.upper_limit.unwrap_or(f64::INFINITY),
            "kaplan-meier-brookmeyer-crowley-loglog",
        )
    };
    Ok(Estimate {
        estimate,
        lo: lo.min(estimate),
        hi: hi.max(estimate),
        level,
        n,
        method: method.to_string(),
    })
}

/// What one pass over the Kaplan–Meier curve yields.
struct KmCurve {
    /// Median estimate (`+inf` if `Ŝ` stays above 1/2).
    median: f64,
    /// First exit time with `S_L <= 1/2` (only with a band).
    lower_limit: Option<f64>,
    /// First exit time with `S_U <= 1/2` (only with a band).
    upper_limit: Option<f64>,
}

/// Walk the Kaplan–Meier curve of sorted `exits` and sorted `censored` times; with
/// `z = Some(z)` also the log(−log) band at normal quantile `z` (see [`kaplan_meier_median`]).
fn km_curve(exits: &[f64], censored: &[f64], z: Option<f64>) -> KmCurve {
    let n = exits.len() + censored.len();
    let mut surv = 1.0f64;
    let mut greenwood = 0.0f64;
    let mut upper_band = 1.0f64;
    let mut median: Option<f64> = None;
    let mut at_half: Option<f64> = None; // Ŝ == 1/2 from this exit time on
    let mut lower_limit = None;
    let mut upper_limit = None;
    let mut c = 0usize; // censored runs with time < current exit time
    let mut i = 0usize;
    let mut factors = 0usize;
    while i < exits.len() {
        let t = exits[i];
        let mut d = 0usize;
        while i + d < exits.len() && exits[i + d] == t {
            d += 1;
        }
        while c < censored.len() && censored[c] < t {
            c += 1;
        }
        let at_risk = n - i - c;
        if let Some(t_half) = at_half {
            // Ŝ was exactly 1/2 on [t_half, t): the median is the midpoint.
            median = Some(0.5 * (t_half + t));
            at_half = None;
        }
        surv *= (at_risk - d) as f64 / at_risk as f64;
        factors += 1;
        if median.is_none() && at_half.is_none() {
            let tol = factors as f64 * f64::EPSILON;
            if (surv - 0.5).abs() <= tol {
                at_half = Some(t);
            } else if surv < 0.5 {
                median = Some(t);
            }
        }
        if let Some(z) = z {
            let (s_lo, s_hi) = if at_risk == d {
                greenwood = f64::INFINITY;
                (0.0, upper_band)
            } else {
                greenwood += d as f64 / (at_risk as f64 * (at_risk - d) as f64);
                let ln_s = surv.ln();
                let w = z * greenwood.sqrt() / ln_s.abs();
                (surv.powf(w.exp()), surv.powf((-w).exp()))
            };
            upper_band = s_hi;
            if lower_limit.is_none() && s_lo <= 0.5 {
                lower_limit = Some(t);
            }
            if upper_limit.is_none() && s_hi <= 0.5 {
                upper_limit = Some(t);
            }
        }
        i += d;
    }
    let median = median.or(at_half).unwrap_or(f64::INFINITY);
    KmCurve {
        median,
        lower_limit,
        upper_limit,
    }
}

/// The distribution-free interval `[x_(r), x_(n+1−r)]` for the median of the sorted
/// sample `x` (see [`kaplan_meier_median`]).
fn order_statistic_interval(x: &[f64], alpha: f64) -> Result<(f64, f64), StatsError> {
    let n = x.len();
    let r = order_statistic_rank(n, alpha / 2.0)?;
    if r == 0 {
        Ok((0.0, f64::INFINITY))
    } else {
        Ok((x[r - 1], x[n - r]))
    }
}

/// The largest `r` in `0..=n` with `P(Binomial(n, 1/2) <= r − 1) <= tail` (0 if none).
pub(crate) fn order_statistic_rank(n: usize, tail: f64) -> Result<usize, StatsError> {
    let b = Binomial::new(0.5, n as u64)
        .map_err(|e| StatsError::InvalidArgument(format!("Binomial(n = {n}, 1/2): {e}")))?;
    // cdf(k) is increasing in k; find the largest k in [0, n] with cdf(k) <= tail, then r = k+1.
    if b.cdf(0) > tail {
        return Ok(0);
    }
    let (mut good, mut bad) = (0u64, n as u64); // cdf(good) <= tail < cdf(bad) = 1
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if b.cdf(mid) <= tail {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Ok(good as usize + 1)
}
