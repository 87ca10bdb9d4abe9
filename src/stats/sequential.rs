//! Sequential choice of the number of trials per point (`trials = "auto"`, THEORY.md §7:
//! "Sample sizes can be chosen by the tool to reach a requested relative precision").

use super::{alpha_of, Estimate, StatsError};
use serde::{Deserialize, Serialize};

/// A group-sequential plan: run trials in batches, look at the confidence interval after
/// each batch, stop once its relative half-width is at most `precision` (or the budget is
/// spent), and report an interval whose coverage is at least `level` whatever the stopping
/// time. This type is the pure decision part; running the trials is the caller's.
///
/// **Schedule.** The looks are at cumulative trial counts `n_1 < … < n_K = max_trials`
/// fixed by the plan before any trial is run ([`schedule`](Self::schedule)): doubling,
///
/// ```text
///     n_1 = first_batch,  n_{k+1} = min(2 n_k, max_trials),
/// ```
///
/// when that reaches `max_trials` within `max_looks` looks; otherwise `K = max_looks` looks
/// spaced geometrically from `first_batch` to `max_trials`,
/// `n_k = round(first_batch · r^{k−1})` with `r = (max_trials/first_batch)^{1/(K−1)} > 2`
/// (so the budget can always be spent, without one huge last step). With `max_looks = 1`
/// the plan is a fixed sample of `max_trials`.
///
/// **Per-look level.** Each look computes its interval `I_k` from the first `n_k` trials at
/// level `1 − α/K` ([`per_look_level`](Self::per_look_level)), `α = 1 − level`.
///
/// **Stopping rule.** After look `k`, stop if the relative half-width
/// `(hi − lo)/(2|estimate|)` of `I_k` is `<= precision`, or if `n_k = max_trials` (the last
/// look); otherwise run `n_{k+1} − n_k` more trials ([`next_batch`](Self::next_batch)).
///
/// **Coverage claim.** Let `θ` be the true value, `τ ∈ {1, …, K}` the look at which the
/// rule stops (a random variable: it depends on the data), and suppose each `I_k`, computed
/// at the *fixed* size `n_k`, covers `θ` with probability `>= 1 − α/K`. Then the reported
/// interval `I_τ` covers `θ` with probability `>= 1 − α = level`.
///
/// *Proof.* The rule always stops at one of the `K` scheduled looks, so the event
/// `{θ ∉ I_τ}` is contained in `{∃ k <= K : θ ∉ I_k}` (if the interval at the stopping look
/// misses `θ`, then some look's interval misses it). By the union bound,
/// `P(θ ∉ I_τ) <= Σ_{k=1}^{K} P(θ ∉ I_k) <= K · α/K = α`. ∎
///
/// The argument uses nothing about how the `I_k` depend on each other (they share
/// trials) nor about how `τ` is chosen — stopping early for any other reason (a time
/// budget) keeps the guarantee, as long as the reported interval is one of the scheduled
/// looks' intervals at the per-look level, computed on the first `n_k` trials of one fixed
/// sequence of independent runs. It is only as good as the per-look interval's own coverage
/// at a fixed sample size: exact for the chi-square interval without censoring, conservative
/// (Garwood) or asymptotic with censoring, see
/// [`censored_exponential_mean`](super::censored_exponential_mean). Looking at sizes other
/// than the scheduled ones breaks it (use [`check_look`](Self::check_look)).
///
/// **Cost.** The price of the guarantee is a larger quantile: with `K = 8` looks and
/// `level = 0.95` each look uses `z_{0.003125} = 2.73` instead of `z_{0.025} = 1.96`. For
/// exponential exit times the chi-square interval's relative half-width is about `z/√m` with
/// `m` exits, so precision `0.05` needs about `(2.73/0.05)² ≈ 3000` exits, and the doubling
/// schedule can overshoot the needed count by up to a factor 2. (Bonferroni over looks is
/// the simplest valid design; Pocock or O'Brien–Fleming boundaries would be tighter but need
/// the joint law of the looks' estimates.) References: Jennison & Turnbull,
/// *Group Sequential Methods with Applications to Clinical Trials* (2000), ch. 2 and 9
/// (repeated confidence intervals).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequentialPlan {
    /// Target relative half-width `(hi − lo)/(2|estimate|)`, e.g. `0.05`.
    pub precision: f64,
    /// Overall confidence level of the reported interval, e.g. `0.95`.
    pub level: f64,
    /// Budget: the largest number of trials.
    pub max_trials: usize,
    /// Trials before the first look.
    pub first_batch: usize,
    /// Largest number of looks `K` (Bonferroni over `K`: keep it small, e.g. 8–12).
    pub max_looks: usize,
}

impl SequentialPlan {
    /// A validated plan: `precision` finite and `> 0`, `level` in (0, 1),
    /// `1 <= first_batch <= max_trials`, `max_looks >= 1`.
    pub fn new(
        precision: f64,
        level: f64,
        max_trials: usize,
        first_batch: usize,
        max_looks: usize,
    ) -> Result<Self, StatsError> {
        let plan = SequentialPlan {
            precision,
            level,
            max_trials,
            first_batch,
            max_looks,
        };
        plan.validate()?;
        Ok(plan)
    }

    /// Check the fields (as [`new`](Self::new) does).
    pub fn validate(&self) -> Result<(), StatsError> {
        alpha_of(self.level)?;
        if !(self.precision.is_finite() && self.precision > 0.0) {
            return Err(StatsError::InvalidArgument(format!(
                "precision must be finite and > 0, got {}",
                self.precision
            )));
        }
        if self.first_batch == 0 || self.first_batch > self.max_trials {
            return Err(StatsError::InvalidArgument(format!(
                "need 1 <= first_batch <= max_trials, got first_batch = {}, max_trials = {}",
                self.first_batch, self.max_trials
            )));
        }
        if self.max_looks == 0 {
            return Err(StatsError::InvalidArgument(
                "max_looks must be >= 1".to_string(),
            ));
        }
        Ok(())
    }

    /// The cumulative trial counts `n_1 < n_2 < … < n_K = max_trials` at which the looks
    /// happen (see the type's documentation). Fields out of range (a plan not built by
    /// [`new`](Self::new)) are clamped: `max_trials`, `first_batch` and `max_looks` to at
    /// least 1, `first_batch` to at most `max_trials`.
    pub fn schedule(&self) -> Vec<usize> {
        let max = self.max_trials.max(1);
        let first = self.first_batch.clamp(1, max);
        let looks = self.max_looks.max(1);
        if looks == 1 {
            return vec![max];
        }
        let mut sizes = vec![first];
        while sizes.len() < looks {
            let last = *sizes.last().expect("non-empty");
            if last >= max {
                return sizes;
            }
            sizes.push(last.saturating_mul(2).min(max));
        }
        if *sizes.last().expect("non-empty") == max {
            return sizes;
        }
        // Doubling is too slow: first·2^(looks−1) < max, so the ratio below is > 2 and the
        // rounded sizes increase strictly.
        let ratio = (max as f64 / first as f64).powf(1.0 / (looks - 1) as f64);
        let mut sizes: Vec<usize> = (0..looks)
            .map(|k| (first as f64 * ratio.powi(k as i32)).round() as usize)
            .collect();
        sizes[0] = first;
        sizes[looks - 1] = max;
        for k in 1..looks {
            sizes[k] = sizes[k].clamp(sizes[k - 1] + 1, max);
        }
        sizes
    }

    /// The number of looks `K = schedule().len()`.
    pub fn looks(&self) -> usize {
        self.schedule().len()
    }

    /// The level of each look's interval, `1 − (1 − level)/K`.
    pub fn per_look_level(&self) -> f64 {
        1.0 - (1.0 - self.level) / self.looks() as f64
    }

    /// Relative half-width `(hi − lo)/(2|estimate|)` of an interval; `+inf` when an end or
    /// the estimate is not finite, or the estimate is 0.
    pub fn relative_half_width(e: &Estimate) -> f64 {
        let r = (e.hi - e.lo) / (2.0 * e.estimate.abs());
        if e.lo.is_finite() && e.hi.is_finite() && e.estimate.is_finite() && r.is_finite() {
            r
        } else {
            f64::INFINITY
        }
    }

    /// Whether `e` meets the target: relative half-width `<= precision`.
    pub fn precision_reached(&self, e: &Estimate) -> bool {
        Self::relative_half_width(e) <= self.precision
    }

    /// The decision after a look: `None` to stop, `Some(b)` to run `b` more trials.
    ///
    /// `done` is the number of trials run so far and `current` the interval from them at
    /// [`per_look_level`](Self::per_look_level). If `done` is below the first look,
    /// `current` is ignored and the answer is the rest of the first batch (start with
    /// `next_batch(0, _)`). Otherwise: stop if `done >= max_trials` or
    /// [`precision_reached`](Self::precision_reached); else `Some(n_next − done)` with
    /// `n_next` the next scheduled size above `done`. Call it only with `done` on the
    /// schedule ([`check_look`](Self::check_look) verifies this and the level).
    pub fn next_batch(&self, done: usize, current: &Estimate) -> Option<usize> {
        let sizes = self.schedule();
        if done < sizes[0] {
            return Some(sizes[0] - done);
        }
        if done >= self.max_trials || self.precision_reached(current) {
            return None;
        }
        sizes.iter().find(|&&s| s > done).map(|&s| s - done)
    }

    /// Check that a look is one the coverage claim allows: `done` is a scheduled size,
    /// `current.n == done` and `current.level >= per_look_level()` (up to `1e-12`).
    pub fn check_look(&self, done: usize, current: &Estimate) -> Result<(), StatsError> {
        let sizes = self.schedule();
        if !sizes.contains(&done) {
            return Err(StatsError::InvalidArgument(format!(
                "a look after {done} trials is not on the schedule {sizes:?}"
            )));
        }
        if current.n != done {
            return Err(StatsError::InvalidArgument(format!(
                "the look's estimate is from {} runs, not the {done} done",
                current.n
            )));
        }
        let need = self.per_look_level();
        if current.level.is_nan() || current.level < need - 1e-12 {
            return Err(StatsError::InvalidArgument(format!(
                "the look's interval has level {}, the plan needs {need}",
                current.level
            )));
        }
        Ok(())
    }

    /// The interval to report once the rule has stopped: the last look's interval, with
    /// `"+seq-bonferroni-K"` appended to its method and its `level` replaced by the level
    /// the coverage claim guarantees: the plan's `level` when the look was at level
    /// `ℓ >= per_look_level()` (as it should be), and only `1 − K(1 − ℓ)` for a look at a
    /// lower level.
    pub fn final_estimate(&self, last_look: &Estimate) -> Estimate {
        let k = self.looks() as f64;
        let guaranteed = 1.0 - k * (1.0 - last_look.level);
        let level = if guaranteed >= self.level - 1e-12 {
            self.level
        } else {
            guaranteed
        };
        Estimate {
            level,
            method: format!("{}+seq-bonferroni-{}", last_look.method, self.looks()),
            ..last_look.clone()
        }
    }
}
