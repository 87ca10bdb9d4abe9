//! Monte Carlo simulation of SGD exit times (THEORY §1, §7).
//!
//! Two models of SGD with gradient-noise covariance Σ(θ) and κ² = η/B:
//! - [`Dynamics::Continuous`] (E3): dθ = −∇L(θ) dt + κ Σ(θ)^{1/2} dW, integrated by
//!   Euler–Maruyama with step `dt`; the exit time τ is in time units, τ = k·dt for the
//!   first grid step k with θ_k ∉ D (with [`SimConfig::bridge`], also a step whose
//!   Brownian bridge crossed ∂D).
//! - [`Dynamics::Discrete`] (E1): θ_{k+1} = θ_k − η ∇L(θ_k) + (η/√B) Σ(θ_k)^{1/2} ξ_k,
//!   iterated exactly; the exit time ν = min{k : θ_k ∉ D} is counted in iterations.
//!
//! D is open, so a state on ∂D has exited ([`Domain::contains`] is false there). A run
//! that has not exited after `max_steps` steps is right-censored at its elapsed time
//! (`max_steps·dt`, or `max_steps`), never counted as an exit.
//!
//! Reproducibility: trajectory `i` draws its normals from its own generator, a pure
//! function of `(seed, i)` ([`trajectory_rng`]), and the uniforms of the bridge
//! correction from a second one ([`trajectory_streams`]); its outcome depends on nothing
//! else. Trajectories run 4 to 32 at a time in SIMD lanes (bitwise the arithmetic of one
//! trajectory at a time: [`crate::num::lanes`]) on every thread of the current rayon
//! pool, and outcomes are kept by trajectory index, so a [`SimResult`] is the same on any
//! number of threads, and a run split into shards ([`SimConfig::shard`]: trajectories k,
//! k+n, k+2n, …) gives parts that [`merge_results`] combines into exactly the unsharded
//! result ([`SimResult::outcomes`] keeps every trajectory's outcome for that).

mod general;
mod kernel;
pub mod minibatch;
mod noise;
mod normals;
#[cfg(test)]
mod reference;
mod rng;
pub mod splitting;
pub mod stop;

pub use kernel::Outcome;
pub use minibatch::simulate_minibatch;
pub use noise::Noise;
#[doc(hidden)]
pub use normals::lane_normals_probe;
pub use rng::trajectory_rng;

use crate::landscape::{Domain, Landscape};
use general::GeneralJob;
use kernel::{run_job, Integrator, Job};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Errors of the simulation module: invalid configurations, found before any work.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SimError {
    /// A scalar parameter out of range, e.g. "dt must be positive, got -0.1".
    #[error("{name} must be {requirement}, got {got}")]
    InvalidParameter {
        name: &'static str,
        requirement: &'static str,
        got: String,
    },
    /// The start point has the wrong number of coordinates.
    #[error("start has dimension {got}, but the landscape has dimension {expected}")]
    StartDimension { expected: usize, got: usize },
    /// The domain lives in a space of another dimension than the landscape.
    #[error("the domain has dimension {got}, but the landscape has dimension {expected}")]
    DomainDimension { expected: usize, got: usize },
    /// The start point is not inside the open domain.
    #[error("start {start:?} is not inside the domain, the {domain}")]
    StartOutsideDomain { start: Vec<f64>, domain: String },
    /// A shard selection that is not `k/n` with 0 ≤ k < n.
    #[error("shard {got}: expected k/n with n ≥ 1 and 0 ≤ k < n")]
    InvalidShard { got: String },
    /// A state-dependent Σ(θ_k) that has no Cholesky factor in f64 (see [`Noise`]'s
    /// positive-definiteness policy): the dynamics are undefined there.
    #[error(
        "the noise covariance Σ(θ) ({noise}) is not positive definite at θ = {theta:?} \
         (trajectory {trajectory}, step {step}): the dynamics are undefined there; \
         use a positive noise floor or a domain on which Σ is positive definite"
    )]
    NoisePositiveDefinite {
        noise: String,
        trajectory: u64,
        step: u64,
        theta: Vec<f64>,
    },
    /// Shard results that do not make up one run (see [`merge_results`]).
    #[error("cannot merge: {0}")]
    Merge(String),
    /// Minibatch SGD on a landscape that is not a data loss.
    #[error("minibatch SGD (E2) needs a data loss, got: {landscape}")]
    NotDataLoss { landscape: String },
    /// A stop was requested ([`stop::request_stop`]: a signal or a wall-clock limit)
    /// before every trajectory finished; nothing of this simulation is reported.
    #[error("interrupted: a stop was requested before every trajectory finished")]
    Interrupted,
    /// A minibatch larger than the data set (batches are drawn without replacement).
    #[error("batch size {batch} is larger than the data set ({rows} rows)")]
    BatchTooLarge { batch: u32, rows: usize },
}

/// A share of a run's trajectories: shard `k/n` runs trajectories k, k+n, k+2n, … of
/// `0 .. trials` (possibly none). The default, `0/1`, is the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    /// k, in 0 .. count.
    pub index: u64,
    /// n ≥ 1.
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// The whole run.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Checks 0 ≤ index < count.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.count == 0 || self.index >= self.count {
            return Err(SimError::InvalidShard {
                got: format!("{}/{}", self.index, self.count),
            });
        }
        Ok(())
    }

    /// The number of trajectories of `0 .. trials` in this shard.
    pub fn len(&self, trials: usize) -> usize {
        let trials = trials as u64;
        if self.count == 0 || self.index >= trials {
            0
        } else {
            ((trials - 1 - self.index) / self.count + 1) as usize
        }
    }

    /// True when this shard has no trajectories of `0 .. trials`.
    pub fn is_empty(&self, trials: usize) -> bool {
        self.len(trials) == 0
    }

    /// The trajectory index of this shard's `pos`-th trajectory.
    pub fn trajectory(&self, pos: usize) -> u64 {
        self.index + pos as u64 * self.count
    }
}

/// `k/n`.
impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses `k/n` (e.g. `--shard 2/8`), checking 0 ≤ k < n.
impl FromStr for Shard {
    type Err = SimError;
    fn from_str(s: &str) -> Result<Self, SimError> {
        let bad = || SimError::InvalidShard { got: s.to_string() };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let shard = Shard {
            index: k.trim().parse().map_err(|_| bad())?,
            count: n.trim().parse().map_err(|_| bad())?,
        };
        shard.validate().map_err(|_| bad())?;
        Ok(shard)
    }
}

/// Which model of SGD to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dynamics {
    /// Continuous SGD (E3) by Euler–Maruyama; times in [`Unit::Time`].
    Continuous,
    /// Discrete Gaussian SGD (E1); times in [`Unit::Iterations`].
    Discrete,
    /// Minibatch SGD on a data loss (E2, [`minibatch`]); times in [`Unit::Iterations`].
    Minibatch,
}

/// The unit of the times in a [`SimResult`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// SDE time t = steps · dt.
    Time,
    /// SGD iterations.
    Iterations,
}

/// A simulation run. κ² = `eta / batch`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Continuous (E3) or discrete (E1) SGD.
    pub dynamics: Dynamics,
    /// Learning rate η > 0.
    pub eta: f64,
    /// Batch size B ≥ 1.
    pub batch: u32,
    /// Number of independent trajectories (≥ 1).
    pub trials: usize,
    /// Master seed; trajectory `i` uses [`trajectory_rng`]`(seed, i)`.
    pub seed: u64,
    /// Step cap per trajectory (≥ 1); runs still inside D then are censored.
    pub max_steps: u64,
    /// Euler–Maruyama step (continuous only; > 0, finite). Ignored by discrete dynamics.
    pub dt: f64,
    /// The start θ_0, inside D.
    pub start: Vec<f64>,
    /// Continuous only: test for crossings between grid points with the Brownian-bridge
    /// probability (THEORY §7). Without it E\[τ\] is over-estimated by O(√dt).
    pub bridge: bool,
    /// The trajectories to run: all of them ([`Shard::WHOLE`], the default) or one shard.
    #[serde(default)]
    pub shard: Shard,
}

impl SimConfig {
    /// κ² = η/B, the small-noise parameter.
    pub fn kappa_squared(&self) -> f64 {
        self.eta / f64::from(self.batch)
    }

    /// The unit the exit times of this configuration are measured in.
    pub fn unit(&self) -> Unit {
        match self.dynamics {
            Dynamics::Continuous => Unit::Time,
            Dynamics::Discrete | Dynamics::Minibatch => Unit::Iterations,
        }
    }

    /// The elapsed time after `steps` steps, in [`SimConfig::unit`].
    pub fn elapsed(&self, steps: u64) -> f64 {
        match self.dynamics {
            Dynamics::Continuous => steps as f64 * self.dt,
            Dynamics::Discrete | Dynamics::Minibatch => steps as f64,
        }
    }

    /// Checks every parameter except `max_steps` and the start's position relative to
    /// a domain.
    fn validate(&self, dim: usize) -> Result<(), SimError> {
        if dim == 0 {
            return Err(at_least_one("the landscape dimension", 0));
        }
        if self.trials == 0 {
            return Err(at_least_one("trials", 0));
        }
        if self.batch == 0 {
            return Err(at_least_one("batch", 0));
        }
        self.shard.validate()?;
        positive_finite("eta", self.eta)?;
        if self.dynamics == Dynamics::Continuous {
            positive_finite("dt", self.dt)?;
        }
        if self.start.len() != dim {
            return Err(SimError::StartDimension {
                expected: dim,
                got: self.start.len(),
            });
        }
        if !self.start.iter().all(|v| v.is_finite()) {
            return Err(SimError::InvalidParameter {
                name: "start",
                requirement: "finite",
                got: format!("{:?}", self.start),
            });
        }
        Ok(())
    }

    /// The trajectories of this configuration's shard, run for at most `max_steps` steps.
    fn job<'a>(&'a self, integrator: Integrator<'a>, max_steps: u64) -> Job<'a> {
        Job {
            integrator,
            start: &self.start,
            max_steps,
            seed: self.seed,
            first: self.shard.index,
            stride: self.shard.count,
            count: self.shard.len(self.trials),
        }
    }

    /// (h, s) of θ' = θ − h∇L + s Σ^{1/2} ξ.
    fn steps(&self) -> (f64, f64) {
        match self.dynamics {
            Dynamics::Continuous => (self.dt, self.kappa_squared().sqrt() * self.dt.sqrt()),
            // Minibatch runs never reach the Gaussian kernel (see `simulate_with_progress`).
            Dynamics::Discrete | Dynamics::Minibatch => {
                (self.eta, self.eta / f64::from(self.batch).sqrt())
            }
        }
    }

    /// The lane integrator for isotropic noise σ: θ' = θ − h∇L + s σ ξ.
    fn integrator<'a>(&self, landscape: &'a Landscape, sigma: f64) -> Integrator<'a> {
        let (drift_step, noise_scale) = self.steps();
        Integrator {
            landscape,
            sigma,
            drift_step,
            noise_scale,
        }
    }

    /// The one-at-a-time job of this configuration's shard (any noise model).
    fn general_job<'a>(
        &'a self,
        landscape: &'a Landscape,
        noise: &'a Noise,
        domain: Option<&'a Domain>,
        max_steps: u64,
    ) -> GeneralJob<'a> {
        let (drift_step, noise_scale) = self.steps();
        GeneralJob {
            landscape,
            noise,
            domain,
            drift_step,
            noise_scale,
            bridge: self.dynamics == Dynamics::Continuous && self.bridge,
            start: &self.start,
            max_steps,
            seed: self.seed,
            first: self.shard.index,
            stride: self.shard.count,
            count: self.shard.len(self.trials),
        }
    }
}

/// The configuration of a run in dimension `dim`: every parameter, and `max_steps` ≥ 1
/// (shared by the direct, minibatch and splitting engines).
fn check_config(cfg: &SimConfig, dim: usize) -> Result<(), SimError> {
    cfg.validate(dim)?;
    if cfg.max_steps == 0 {
        return Err(at_least_one("max_steps", 0));
    }
    Ok(())
}

/// The domain has dimension `dim` and contains the start.
fn check_domain(cfg: &SimConfig, domain: &Domain, dim: usize) -> Result<(), SimError> {
    if domain.dim() != dim {
        return Err(SimError::DomainDimension {
            expected: dim,
            got: domain.dim(),
        });
    }
    if !domain.contains(&cfg.start) {
        return Err(SimError::StartOutsideDomain {
            start: cfg.start.clone(),
            domain: domain.describe(),
        });
    }
    Ok(())
}

fn at_least_one(name: &'static str, got: u64) -> SimError {
    SimError::InvalidParameter {
        name,
        requirement: "at least 1",
        got: got.to_string(),
    }
}

/// `Ok` when `v` is finite and > 0; the error names the parameter.
pub(crate) fn positive_finite(name: &'static str, v: f64) -> Result<(), SimError> {
    let requirement = if v.is_nan() || v <= 0.0 {
        "positive"
    } else if !v.is_finite() {
        "finite"
    } else {
        return Ok(());
    };
    Err(SimError::InvalidParameter {
        name,
        requirement,
        got: v.to_string(),
    })
}

/// Exit and censoring times of a simulation (or of one shard of it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    /// Exit times of the trajectories that exited, in trajectory-index order.
    pub exit_times: Vec<f64>,
    /// Elapsed times of the censored trajectories (all equal to the cap), in index order.
    pub censor_times: Vec<f64>,
    /// Number of trajectories run (`config.trials`, or the shard's share of them).
    pub trials: usize,
    /// Number that exited (`exit_times.len()`).
    pub exits: usize,
    /// Number censored at the cap (`censor_times.len()`).
    pub censored: usize,
    /// Unit of the times: [`Unit::Time`] (continuous) or [`Unit::Iterations`] (discrete).
    pub unit: Unit,
    /// Particle-steps taken, summed over trajectories.
    pub total_steps: u64,
    /// The configuration that produced this result (its `shard` says which trajectories).
    pub config: SimConfig,
    /// Fingerprint of the landscape, domain and noise model ([`problem_fingerprint`]), so
    /// that shards of different problems are not merged.
    pub problem: String,
    /// Every trajectory's outcome: the `p`-th is trajectory `config.shard.trajectory(p)`.
    pub outcomes: Vec<Outcome>,
}

impl SimResult {
    /// The result of the trajectories `outcomes` (in shard order) of `cfg`, on the
    /// problem with fingerprint `problem` ([`problem_fingerprint`]). Used to rebuild a
    /// shard's result from its stored outcomes; [`merge_results`] checks the counts.
    pub fn from_outcomes(cfg: &SimConfig, problem: String, outcomes: Vec<Outcome>) -> SimResult {
        let mut res = SimResult {
            exit_times: Vec::new(),
            censor_times: Vec::new(),
            trials: outcomes.len(),
            exits: 0,
            censored: 0,
            unit: cfg.unit(),
            total_steps: 0,
            config: cfg.clone(),
            problem,
            outcomes,
        };
        for o in &res.outcomes {
            res.total_steps += o.steps;
            if o.exited {
                res.exit_times.push(cfg.elapsed(o.steps));
            } else {
                res.censor_times.push(cfg.elapsed(o.steps));
            }
        }
        res.exits = res.exit_times.len();
        res.censored = res.censor_times.len();
        res
    }
}

impl SimResult {
    /// The result of the first `trials` trajectories of this whole (unsharded) run: what a
    /// run of the same configuration with `trials` trajectories gives, since trajectory
    /// `i` depends only on `(seed, i)`. `None` for a shard or when `trials` exceeds the
    /// trajectories run.
    pub fn prefix(&self, trials: usize) -> Option<SimResult> {
        if self.config.shard != Shard::WHOLE || trials > self.outcomes.len() {
            return None;
        }
        let cfg = SimConfig {
            trials,
            ..self.config.clone()
        };
        Some(SimResult::from_outcomes(
            &cfg,
            self.problem.clone(),
            self.outcomes[..trials].to_vec(),
        ))
    }
}

/// A fingerprint of the problem a simulation runs on: FNV-1a (64 bit) of the `Debug`
/// forms of the landscape, domain and noise model (exact for every number in them).
pub fn problem_fingerprint(landscape: &Landscape, domain: &Domain, noise: &Noise) -> String {
    let text = format!("{landscape:?}\n{domain:?}\n{noise:?}");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// Simulates the trajectories of `cfg` (all `cfg.trials`, or those of `cfg.shard`) from
/// `cfg.start` until they leave `domain` or reach `cfg.max_steps`.
pub fn simulate(
    landscape: &Landscape,
    domain: &Domain,
    noise: &Noise,
    cfg: &SimConfig,
) -> Result<SimResult, SimError> {
    simulate_with_progress(landscape, domain, noise, cfg, &|_| {})
}

/// [`simulate`], calling `progress(n)` each time a trajectory finishes, where `n` is the
/// number finished so far (1 ..= the number run, each value once). Calls come from worker
/// threads, so they can arrive out of order; keep the callback cheap.
///
/// [`Dynamics::Minibatch`] runs [`simulate_minibatch`], which ignores `noise` (the noise
/// is the data's).
pub fn simulate_with_progress(
    landscape: &Landscape,
    domain: &Domain,
    noise: &Noise,
    cfg: &SimConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<SimResult, SimError> {
    if cfg.dynamics == Dynamics::Minibatch {
        return simulate_minibatch(landscape, domain, cfg, progress);
    }
    let dim = landscape.dim();
    check_config(cfg, dim)?;
    noise.validate(dim)?;
    check_domain(cfg, domain, dim)?;
    if let Domain::Box { lo, hi } = domain {
        if hi.len() != lo.len() {
            return Err(SimError::DomainDimension {
                expected: dim,
                got: hi.len(),
            });
        }
        if let Some(i) = (0..dim).find(|&i| !(lo[i] < hi[i])) {
            return Err(SimError::InvalidParameter {
                name: "box domain",
                requirement: "lo[i] < hi[i] for every coordinate",
                got: format!("lo[{i}] = {}, hi[{i}] = {}", lo[i], hi[i]),
            });
        }
    }
    let outcomes = match noise.isotropic_sigma() {
        Some(sigma) => {
            let integrator = cfg.integrator(landscape, sigma);
            let var_h = (cfg.dynamics == Dynamics::Continuous && cfg.bridge).then(|| {
                let scale = integrator.noise_scale * sigma;
                scale * scale
            });
            let job = cfg.job(integrator, cfg.max_steps);
            run_job(&job, Some(domain), var_h, false, progress).0
        }
        None => {
            cfg.general_job(landscape, noise, Some(domain), cfg.max_steps)
                .run(false, progress)?
                .0
        }
    };
    if stop::stop_requested() {
        return Err(SimError::Interrupted);
    }
    Ok(SimResult::from_outcomes(
        cfg,
        problem_fingerprint(landscape, domain, noise),
        outcomes,
    ))
}

/// [`simulate`] forced onto the one-trajectory-at-a-time engine whatever the noise model
/// (tests: with isotropic noise it must equal the lane kernel bit for bit).
#[doc(hidden)]
pub fn simulate_one_at_a_time(
    landscape: &Landscape,
    domain: &Domain,
    noise: &Noise,
    cfg: &SimConfig,
) -> Result<SimResult, SimError> {
    let dim = landscape.dim();
    cfg.validate(dim)?;
    noise.validate(dim)?;
    if domain.dim() != dim || !domain.contains(&cfg.start) {
        return Err(SimError::StartOutsideDomain {
            start: cfg.start.clone(),
            domain: domain.describe(),
        });
    }
    let (outcomes, _) = cfg
        .general_job(landscape, noise, Some(domain), cfg.max_steps)
        .run(false, &|_| {})?;
    Ok(SimResult::from_outcomes(
        cfg,
        problem_fingerprint(landscape, domain, noise),
        outcomes,
    ))
}

/// Combines the results of the shards `0/n, 1/n, …, (n−1)/n` of one run (in any order)
/// into exactly the result of the unsharded run (`==`, with `config.shard` = `0/1`).
///
/// Errors when the parts do not make up one run: no parts, different problems or
/// configurations (anything but the shard index), different shard counts, a shard
/// missing or given twice, or a part whose outcome records do not match its totals.
pub fn merge_results(parts: &[SimResult]) -> Result<SimResult, SimError> {
    let merr = |m: String| SimError::Merge(m);
    let first = parts
        .first()
        .ok_or_else(|| merr("no shard results given".into()))?;
    let n = first.config.shard.count;
    let whole = SimConfig {
        shard: Shard::WHOLE,
        ..first.config.clone()
    };
    for p in parts {
        let s = p.config.shard;
        s.validate()?;
        if p.problem != first.problem {
            return Err(merr(format!(
                "shard {s} simulates another problem ({}) than shard {} ({})",
                p.problem, first.config.shard, first.problem
            )));
        }
        if s.count != n {
            return Err(merr(format!(
                "shard {s} belongs to a split into {} parts, shard {} to one into {n}",
                s.count, first.config.shard
            )));
        }
        let cfg = SimConfig {
            shard: Shard::WHOLE,
            ..p.config.clone()
        };
        if cfg != whole {
            return Err(merr(format!(
                "shard {s} and shard {} come from different configurations \
                 (seeds {} and {}): {cfg:?} vs {whole:?}",
                first.config.shard, p.config.seed, first.config.seed
            )));
        }
        let expected = s.len(whole.trials);
        let check = SimResult::from_outcomes(&p.config, p.problem.clone(), p.outcomes.clone());
        if p.outcomes.len() != expected || &check != p {
            return Err(merr(format!(
                "shard {s} is inconsistent: {} outcome records for {expected} trajectories, \
                 or times and totals that do not match them",
                p.outcomes.len()
            )));
        }
    }
    let given = |k: u64| parts.iter().any(|p| p.config.shard.index == k);
    if let Some(k) = (0..n).find(|&k| !given(k)) {
        return Err(merr(format!("shard {k}/{n} is missing")));
    }
    // Every k < n is given, so n ≤ parts.len().
    let n = n as usize;
    let mut slot: Vec<Option<&SimResult>> = vec![None; n];
    for p in parts {
        if slot[p.config.shard.index as usize].replace(p).is_some() {
            return Err(merr(format!("shard {} is given twice", p.config.shard)));
        }
    }
    let outcomes = (0..whole.trials)
        .map(|i| slot[i % n].expect("every shard is given").outcomes[i / n])
        .collect();
    Ok(SimResult::from_outcomes(
        &whole,
        first.problem.clone(),
        outcomes,
    ))
}

/// The two streams of trajectory `index`: the normals, and (2^192 draws further on, by
/// `long_jump`, so they never overlap) the uniforms of the bridge correction. The normal
/// stream is the same with or without the correction.
pub fn trajectory_streams(
    seed: u64,
    index: u64,
) -> (
    rand_xoshiro::Xoshiro256PlusPlus,
    rand_xoshiro::Xoshiro256PlusPlus,
) {
    let rng = trajectory_rng(seed, index);
    let mut second = rng.clone();
    second.long_jump();
    (rng, second)
}

/// The states θ_steps of the trajectories of `cfg` (all `cfg.trials`, or those of
/// `cfg.shard`) run for exactly `steps` steps from `cfg.start` with no domain (nothing
/// exits), in trajectory-index order.
///
/// Trajectory `i` uses the same stream as in [`simulate`], so it follows the same path
/// there until that path exits. `cfg.max_steps` is ignored; the other fields are
/// validated as in [`simulate`]; `steps = 0` returns copies of the start. Non-finite
/// states (a diverging discrete iteration) are returned as they are with isotropic or
/// constant noise; a state-dependent Σ at a non-finite (or any non-positive-definite)
/// state is the error [`SimError::NoisePositiveDefinite`].
pub fn sample_positions(
    landscape: &Landscape,
    noise: &Noise,
    cfg: &SimConfig,
    steps: u64,
) -> Result<Vec<Vec<f64>>, SimError> {
    let dim = landscape.dim();
    cfg.validate(dim)?;
    noise.validate(dim)?;
    if cfg.dynamics == Dynamics::Minibatch {
        return Err(SimError::InvalidParameter {
            name: "dynamics",
            requirement: "continuous or discrete for sample_positions",
            got: "minibatch".into(),
        });
    }
    let count = cfg.shard.len(cfg.trials);
    if steps == 0 {
        return Ok(vec![cfg.start.clone(); count]);
    }
    match noise.isotropic_sigma() {
        Some(sigma) => {
            let job = cfg.job(cfg.integrator(landscape, sigma), steps);
            let states = run_job(&job, None, None, true, &|_| {}).1;
            if stop::stop_requested() {
                return Err(SimError::Interrupted);
            }
            Ok(states)
        }
        None => {
            let states = cfg
                .general_job(landscape, noise, None, steps)
                .run(true, &|_| {})?
                .1;
            if stop::stop_requested() {
                return Err(SimError::Interrupted);
            }
            Ok(states)
        }
    }
}
