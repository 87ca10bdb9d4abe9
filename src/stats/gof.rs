//! Goodness of fit of exit times to the exponential law (THEORY.md §8, claim T3:
//! `τ/E[τ] ≈ Exp(1)`), with the mean estimated from the data.

use super::{check_times, serde_f64_ext, StatsError};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// Result of a goodness-of-fit test ([`exponential_gof`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GofTest {
    /// The test statistic (for [`exponential_gof`]: a Kolmogorov–Smirnov distance).
    #[serde(with = "serde_f64_ext")]
    pub statistic: f64,
    /// The Monte Carlo p-value `(1 + k)/(B + 1)`, with `k` of the `B` simulated statistics
    /// `>=` the observed one.
    #[serde(with = "serde_f64_ext")]
    pub p_value: f64,
    /// Simulation standard error of `p_value`: `√(p(1 − p)/B)`.
    #[serde(with = "serde_f64_ext")]
    pub p_value_se: f64,
    /// Number of runs (exits plus censored).
    pub n: usize,
    /// Name of the method.
    pub method: String,
}

/// Relative spread allowed between censoring times that are meant to be one common cap
/// (they are usually the same expression, `K·h`, evaluated per run).
const CAP_REL_TOL: f64 = 1e-12;

/// Test that exit times are exponential with an unknown mean (THEORY T3), by a
/// Lilliefors-type Kolmogorov–Smirnov test with a Monte Carlo p-value.
///
/// Inputs: `exit_times` (observed exits) and `censor_times` (runs stopped before exiting),
/// finite and `>= 0`; at least 2 runs and at least 1 exit; `simulations = B >= 1` (use
/// about 2000: the p-value's standard error is then at most 0.011, and 0.0049 at p = 0.05);
/// `seed` fixes the simulation (a `Xoshiro256PlusPlus::seed_from_u64(seed)` stream, so the
/// result is a pure function of the inputs).
///
/// **Without censoring** (method `"lilliefors-exponential-ks-monte-carlo"`): with
/// `θ̂ = x̄` (the maximum likelihood estimate) and `F(t) = 1 − e^{−t/θ̂}`, the statistic is
/// `D = sup_t |F_n(t) − F(t)|` (`F_n` the empirical cdf). Using the plain KS p-value for `D`
/// would be wrong (far too conservative: `θ̂` is fitted to the same data). But `D` depends
/// on the data only through `x/x̄`, so under the null hypothesis its law is the same for every
/// mean — it is pivotal — and the law for `Exp(1)` samples of size `n` is simulated: with
/// `D*_1, …, D*_B` from `B` such samples and `k = #{b : D*_b >= D}`, the p-value is
/// `p = (1 + k)/(B + 1)`. Since `D, D*_1, …, D*_B` are exchangeable with a continuous law,
/// `P(p <= j/(B+1)) = j/(B+1)` exactly: the test has exactly its nominal size at levels
/// that are multiples of `1/(B+1)` and is conservative in between, for every `n` and every
/// `B` (Barnard 1963; Lilliefors, *JASA* 64 (1969) 387–389, with its table replaced by
/// simulation; Davison & Hinkley, *Bootstrap Methods*, §4.2).
///
/// **With censoring at a common cap `c`** (type-I censoring, every `censor_times` value
/// equal to `c` up to a relative `1e-12`, every exit `<= c`; method
/// `"lilliefors-exponential-ks-censored-parametric-bootstrap"`): the maximum likelihood
/// estimate is `θ̂ = T/m` (`m` exits, `T` the total time on test, as in
/// [`censored_exponential_mean`](super::censored_exponential_mean)); the Kaplan–Meier
/// estimate equals the empirical cdf `F_n` (all `n` runs in the denominator) on `[0, c)`, and
/// `D = sup_{0 <= t <= c} |F_n(t) − F(t)|`. Now the law of `D` depends on the scaled cap
/// `c/θ` (through the censored fraction), so the simulation draws `Exp(1)` samples of size
/// `n` censored at `c/θ̂`, refits `θ̂*` to each and computes `D*` the same way (parametric
/// bootstrap). `D` is scale invariant, so this is the law of `D` under `Exp(θ̂)` censored at
/// `c`. The p-value is again `(1 + k)/(B + 1)`. Its level is asymptotically exact (`θ̂` is
/// consistent and the law of `D` depends continuously on `c/θ`), not exact;
/// `tests/stats_gof.rs` measures its size. A simulated sample without exits has `θ̂* = ∞`,
/// `F ≡ 0 ≡ F_n` on `[0, c)` and `D* = 0`.
///
/// If no run is censored the uncensored test is used even if the runs had a cap: that is
/// the test conditional on no censoring, a negligible difference when `P(τ > c)` is small
/// enough that `n` runs all exit.
///
/// Runs censored at different times are not supported (`InvalidArgument`): the parametric
/// bootstrap would need the censoring law.
pub fn exponential_gof(
    exit_times: &[f64],
    censor_times: &[f64],
    simulations: usize,
    seed: u64,
) -> Result<GofTest, StatsError> {
    check_times(exit_times, "exit_times")?;
    check_times(censor_times, "censor_times")?;
    let m = exit_times.len();
    let n = m + censor_times.len();
    if n < 2 {
        return Err(StatsError::TooFewPoints {
            what: "exponential goodness of fit (runs)",
            needed: 2,
            got: n,
        });
    }
    if m == 0 {
        return Err(StatsError::TooFewPoints {
            what: "exponential goodness of fit (exits)",
            needed: 1,
            got: 0,
        });
    }
    if simulations == 0 {
        return Err(StatsError::InvalidArgument(
            "exponential goodness of fit needs at least one simulation".to_string(),
        ));
    }
    let cap = common_cap(exit_times, censor_times)?;
    if cap.is_none() && exit_times.iter().all(|&x| x == 0.0) {
        return Err(StatsError::Degenerate("all exit times are 0"));
    }
    let mut exits = exit_times.to_vec();
    exits.sort_by(f64::total_cmp);
    let statistic = ks_exponential(&exits, n, cap);

    // Simulate on the Exp(1) scale; with a cap, at the cap scaled by the fitted mean.
    let sim_cap = cap.map(|c| {
        let total = exits.iter().sum::<f64>() + (n - m) as f64 * c;
        c / (total / m as f64)
    });
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut sample = Vec::with_capacity(n);
    let mut exceed = 0usize;
    for _ in 0..simulations {
        sample.clear();
        for _ in 0..n {
            let y: f64 = Exp1.sample(&mut rng);
            match sim_cap {
                Some(c) if y >= c => {}
                _ => sample.push(y),
            }
        }
        sample.sort_by(f64::total_cmp);
        if ks_exponential(&sample, n, sim_cap) >= statistic {
            exceed += 1;
        }
    }
    let b = simulations as f64;
    let p_value = (1.0 + exceed as f64) / (b + 1.0);
    let p_value_se = (p_value * (1.0 - p_value) / b).sqrt();
    let method = if cap.is_some() {
        "lilliefors-exponential-ks-censored-parametric-bootstrap"
    } else {
        "lilliefors-exponential-ks-monte-carlo"
    };
    Ok(GofTest {
        statistic,
        p_value,
        p_value_se,
        n,
        method: method.to_string(),
    })
}

/// The common censoring cap (`None` without censoring), checked against the exits.
fn common_cap(exits: &[f64], censor_times: &[f64]) -> Result<Option<f64>, StatsError> {
    let Some(cap) = censor_times.iter().copied().reduce(f64::max) else {
        return Ok(None);
    };
    let min = censor_times.iter().copied().fold(f64::INFINITY, f64::min);
    if cap - min > CAP_REL_TOL * cap {
        return Err(StatsError::InvalidArgument(format!(
            "exponential goodness of fit needs one common censoring cap, got censoring \
             times from {min} to {cap}"
        )));
    }
    if cap <= 0.0 {
        return Err(StatsError::InvalidArgument(
            "censoring cap must be > 0".to_string(),
        ));
    }
    if let Some(index) = exits.iter().position(|&x| x > cap) {
        return Err(StatsError::InvalidArgument(format!(
            "exit time {} (index {index}) is after the censoring cap {cap}",
            exits[index]
        )));
    }
    Ok(Some(cap))
}

/// Kolmogorov–Smirnov distance between the empirical cdf of `n` runs, of which the sorted
/// `exits` exited and the others were censored at `cap`, and the exponential cdf with the
/// maximum likelihood mean `θ̂ = T/m`, over `[0, cap]` (over `[0, ∞)` without a cap).
///
/// `F_n` jumps from `(i−1)/n` to `i/n` at the i-th exit (ties: one jump per copy, which
/// gives the same supremum), and after the last exit stays at `m/n` up to the cap, where
/// `F` is largest; hence the formula below. No exits: `θ̂ = ∞`, `F ≡ 0 ≡ F_n`, `D = 0`.
fn ks_exponential(exits: &[f64], n: usize, cap: Option<f64>) -> f64 {
    let m = exits.len();
    if m == 0 {
        return 0.0;
    }
    let censored_time = cap.map_or(0.0, |c| (n - m) as f64 * c);
    let theta = (exits.iter().sum::<f64>() + censored_time) / m as f64;
    let nf = n as f64;
    let cdf = |t: f64| -(-t / theta).exp_m1();
    let mut d = 0.0f64;
    for (i, &x) in exits.iter().enumerate() {
        let f = cdf(x);
        d = d.max((i + 1) as f64 / nf - f).max(f - i as f64 / nf);
    }
    if let Some(c) = cap {
        d = d.max(cdf(c) - m as f64 / nf);
    }
    d
}
