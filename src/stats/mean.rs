//! Confidence intervals for a mean: censored exponential (chi-square), Student t, bootstrap.

use super::quantile::{chi2_lower_quantile, chi2_upper_quantile, student_t_upper_quantile};
use super::{alpha_of, check_finite, check_times, Estimate, StatsError};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Mean of exponential exit times from right-censored runs, with the conservative
/// chi-square interval of THEORY.md §7 ("Censoring").
///
/// `exit_times` are the observed exit times; `censor_times` are the times at which the runs
/// that had not exited were stopped (e.g. the step cap `K`, or `K·h`). All must be finite and
/// `>= 0`, and there must be at least one run. With `m` exits and the total time on test
/// `T = Σ exit_times + Σ censor_times` (= `Σ_i min(τ_i, K_i)`), the estimate is the maximum
/// likelihood estimate `T/m`, and with `α = 1 − level` the interval is
///
/// ```text
///     [ 2T / χ²_{1−α/2}(2m+2) ,  2T / χ²_{α/2}(2m) ]
/// ```
///
/// where `χ²_p(k)` is the `p`-quantile of the chi-square law with `k` degrees of freedom.
/// With `m = 0` the estimate is `+inf`, `lo = 2T / χ²_{1−α/2}(2)` and `hi = +inf`.
/// `n` is the number of runs (`m` plus the number censored); the method is
/// `"censored-exponential-chi2"`.
///
/// Derivation (exponential life testing, time-truncated / Type-I censoring): for exit times
/// `τ_i ~ Exp(mean θ)`, memorylessness makes the exits, read on the *total-time-on-test*
/// clock (run 1's time on test, then run 2's, …), the points of a Poisson process of rate
/// `1/θ`. Observing it up to total time `T` gives `m` points, and the exact (Garwood)
/// interval for a Poisson mean `μ = T/θ` from a count `m` is
/// `[χ²_{α/2}(2m)/2, χ²_{1−α/2}(2m+2)/2]` (from `P(Poisson(μ) >= m) = P(χ²(2m) <= 2μ)`);
/// solving for `θ = T/μ` gives the interval above. The Garwood interval is conservative
/// (coverage `>= level` for a fixed `T`): it inverts the two one-sided exact tests of a
/// discrete count.
/// Without censoring, `2T/θ ~ χ²(2m)` exactly and the `2m`-dof interval would be exact;
/// the `2m+2` used here is then slightly conservative. That `T` is a stopping time of the
/// process rather than fixed makes the interval approximate in general; the coverage test
/// in `tests/stats.rs` checks it at a cap near the median. References: Epstein & Sobel
/// (1953); Lawless, *Statistical Models and Methods for Lifetime Data*, §3.5; Garwood (1936).
pub fn censored_exponential_mean(
    exit_times: &[f64],
    censor_times: &[f64],
    level: f64,
) -> Result<Estimate, StatsError> {
    let alpha = alpha_of(level)?;
    check_times(exit_times, "exit_times")?;
    check_times(censor_times, "censor_times")?;
    let m = exit_times.len();
    let n = m + censor_times.len();
    if n == 0 {
        return Err(StatsError::EmptySample {
            what: "exit_times and censor_times are both empty",
        });
    }
    let total: f64 = exit_times.iter().chain(censor_times.iter()).sum();
    let two_t = 2.0 * total;
    let lo = two_t / chi2_upper_quantile(alpha / 2.0, 2.0 * m as f64 + 2.0)?;
    let (estimate, hi) = if m == 0 {
        (f64::INFINITY, f64::INFINITY)
    } else {
        (
            total / m as f64,
            two_t / chi2_lower_quantile(alpha / 2.0, 2.0 * m as f64)?,
        )
    };
    Ok(Estimate {
        estimate,
        lo,
        hi,
        level,
        n,
        method: "censored-exponential-chi2".to_string(),
    })
}

/// Sample mean and (unbiased) sample standard deviation, computed in two passes.
fn mean_sd(samples: &[f64]) -> (f64, f64) {
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let ss: f64 = samples.iter().map(|x| (x - mean) * (x - mean)).sum();
    (mean, (ss / (n - 1.0)).sqrt())
}

/// Mean with the Student t interval `x̄ ± t_{1−α/2}(n−1) · s/√n` (`α = 1 − level`, `s` the
/// sample standard deviation). Needs at least 2 finite samples. Exact for normal samples and
/// asymptotically valid otherwise (for skewed data such as exit times its coverage is a
/// little below `level` at moderate `n`). Method `"student-t"`.
pub fn t_interval_mean(samples: &[f64], level: f64) -> Result<Estimate, StatsError> {
    let alpha = alpha_of(level)?;
    check_finite(samples, "samples")?;
    let n = samples.len();
    if n < 2 {
        return Err(StatsError::TooFewPoints {
            what: "t interval",
            needed: 2,
            got: n,
        });
    }
    let (mean, sd) = mean_sd(samples);
    let t = student_t_upper_quantile(alpha / 2.0, (n - 1) as f64)?;
    let half = t * sd / (n as f64).sqrt();
    Ok(Estimate {
        estimate: mean,
        lo: mean - half,
        hi: mean + half,
        level,
        n,
        method: "student-t".to_string(),
    })
}

/// Mean with a percentile bootstrap interval: `resamples` resamples of size `n` drawn with
/// replacement (indices from `rand`'s uniform range sampling on a
/// `Xoshiro256PlusPlus::seed_from_u64(seed)` stream, so the result is a pure function of the
/// inputs), their means sorted as `θ*_(1) <= … <= θ*_(R)`, and with
/// `k = max(1, ⌊(R+1)·α/2⌋)` the interval `[θ*_(k), θ*_(R+1−k)]` (the `(R+1)α/2` convention
/// of Davison & Hinkley; e.g. `R = 999`, `level = 0.95` gives the 25th and 975th). The
/// estimate is the sample mean. Needs at least 2 finite samples and `resamples >= 1`
/// (use hundreds to thousands). Method `"bootstrap-percentile"`.
pub fn bootstrap_mean(
    samples: &[f64],
    level: f64,
    resamples: usize,
    seed: u64,
) -> Result<Estimate, StatsError> {
    let alpha = alpha_of(level)?;
    check_finite(samples, "samples")?;
    let n = samples.len();
    if n < 2 {
        return Err(StatsError::TooFewPoints {
            what: "bootstrap",
            needed: 2,
            got: n,
        });
    }
    if resamples == 0 {
        return Err(StatsError::InvalidArgument(
            "bootstrap needs at least one resample".to_string(),
        ));
    }
    let mean = samples.iter().sum::<f64>() / n as f64;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            let s: f64 = (0..n).map(|_| samples[rng.random_range(0..n)]).sum();
            s / n as f64
        })
        .collect();
    means.sort_by(|a, b| a.partial_cmp(b).expect("finite means"));
    let r = resamples;
    let k = (((r + 1) as f64 * alpha / 2.0).floor() as usize).clamp(1, r);
    let (lo, hi) = (means[k - 1], means[r - k]);
    Ok(Estimate {
        estimate: mean,
        lo: lo.min(hi),
        hi: hi.max(lo),
        level,
        n,
        method: "bootstrap-percentile".to_string(),
    })
}

/// Standard error of `log(T/m)`, the log of the censored-exponential mean estimate, from
/// `m` exits: `1/√m` (`+inf` for `m = 0`).
///
/// Delta method: without censoring `T ~ Gamma(m, θ)`, so `Var(T/m)/E[T/m]² = 1/m` and
/// `sd(log(T/m)) ≈ 1/√m`. With censoring the same holds for the maximum likelihood
/// estimate: in `φ = log θ` the log-likelihood is `−mφ − T e^{−φ}`, whose observed
/// information at the maximum is `T/θ̂ = m`. Use it as the per-point standard error of
/// `y_j = log Ê[τ]_j` in [`weighted_slope`](super::weighted_slope) exponent fits; it does
/// not depend on the unknown mean, which keeps the weights unbiased.
pub fn log_mean_se(m_exits: usize) -> f64 {
    if m_exits == 0 {
        f64::INFINITY
    } else {
        1.0 / (m_exits as f64).sqrt()
    }
}

/// The interval of `e` on the log scale, `(ln lo, ln hi)`: `lo = 0` maps to `-inf` and
/// `hi = +inf` to `+inf`. Meant for positive quantities (mean exit times); a negative `lo`
/// gives `NaN`.
pub fn log_interval(e: &Estimate) -> (f64, f64) {
    (e.lo.ln(), e.hi.ln())
}
