//! Monte Carlo simulation of SGD exit times (THEORY §1, §7).
//!
//! Two models of SGD with gradient-noise covariance Σ(θ) and κ² = η/B:
//! - [`Dynamics::Continuous`] (E3): dθ = −∇L(θ) dt + κ Σ(θ)^{1/2} dW, integrated by
//!   Euler–Maruyama with step `dt`; the exit time τ is in time units, τ = k·dt for the
//!   first grid step k with θ_k ∉ D.
//! - [`Dynamics::Discrete`] (E1): θ_{k+1} = θ_k − η ∇L(θ_k) + (η/√B) Σ(θ_k)^{1/2} ξ_k,
//!   iterated exactly; the exit time ν = min{k : θ_k ∉ D} is counted in iterations.
//!
//! D is open, so a state on ∂D has exited ([`Domain::contains`] is false there). A run
//! that has not exited after `max_steps` steps is right-censored at its elapsed time
//! (`max_steps·dt`, or `max_steps`), never counted as an exit.
//!
//! Trajectories run in parallel (rayon). Trajectory `i` draws from its own generator,
//! a pure function of `(seed, i)` ([`trajectory_rng`]), and results are collected in
//! trajectory order, so a [`SimResult`] does not depend on the number of threads.
//!
//! Not yet: Brownian-bridge exit correction for the continuous model (the exit test is
//! one function in `kernel.rs` where it slots in), noise models other than isotropic.

mod kernel;
mod noise;
mod rng;

pub use noise::Noise;
pub use rng::trajectory_rng;

use crate::landscape::{Domain, Landscape};
use kernel::{
    run_trajectory, BridgeExit, ExitRule, GridExit, Integrator, NoExit, Outcome, Workspace,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
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
}

/// Which model of SGD to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dynamics {
    /// Continuous SGD (E3) by Euler–Maruyama; times in [`Unit::Time`].
    Continuous,
    /// Discrete Gaussian SGD (E1); times in [`Unit::Iterations`].
    Discrete,
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
    /// probability (THEORY §7). Without it E[τ] is over-estimated by O(√dt).
    pub bridge: bool,
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
            Dynamics::Discrete => Unit::Iterations,
        }
    }

    /// The elapsed time after `steps` steps, in [`SimConfig::unit`].
    pub fn elapsed(&self, steps: u64) -> f64 {
        match self.dynamics {
            Dynamics::Continuous => steps as f64 * self.dt,
            Dynamics::Discrete => steps as f64,
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

    /// The integrator for this configuration: θ' = θ − h∇L + s Σ^{1/2} ξ.
    fn integrator<'a>(&self, landscape: &'a Landscape, noise: &'a Noise) -> Integrator<'a> {
        let (drift_step, noise_scale) = match self.dynamics {
            Dynamics::Continuous => (self.dt, self.kappa_squared().sqrt() * self.dt.sqrt()),
            Dynamics::Discrete => (self.eta, self.eta / f64::from(self.batch).sqrt()),
        };
        Integrator {
            landscape,
            noise,
            drift_step,
            noise_scale,
        }
    }
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

/// Exit and censoring times of a simulation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    /// Exit times of the trajectories that exited, in trajectory-index order.
    pub exit_times: Vec<f64>,
    /// Elapsed times of the censored trajectories (all equal to the cap), in index order.
    pub censor_times: Vec<f64>,
    /// Number of trajectories run.
    pub trials: usize,
    /// Number that exited (`exit_times.len()`).
    pub exits: usize,
    /// Number censored at the cap (`censor_times.len()`).
    pub censored: usize,
    /// Unit of the times: [`Unit::Time`] (continuous) or [`Unit::Iterations`] (discrete).
    pub unit: Unit,
    /// Particle-steps taken, summed over trajectories.
    pub total_steps: u64,
}

/// Simulates `cfg.trials` trajectories from `cfg.start` until they leave `domain` or
/// reach `cfg.max_steps`.
pub fn simulate(
    landscape: &Landscape,
    domain: &Domain,
    noise: &Noise,
    cfg: &SimConfig,
) -> Result<SimResult, SimError> {
    simulate_with_progress(landscape, domain, noise, cfg, &|_| {})
}

/// [`simulate`], calling `progress(n)` each time a trajectory finishes, where `n` is the
/// number finished so far (1 ..= trials, each value once). Calls come from worker
/// threads, so they can arrive out of order; keep the callback cheap.
pub fn simulate_with_progress(
    landscape: &Landscape,
    domain: &Domain,
    noise: &Noise,
    cfg: &SimConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<SimResult, SimError> {
    let dim = landscape.dim();
    cfg.validate(dim)?;
    if cfg.max_steps == 0 {
        return Err(at_least_one("max_steps", 0));
    }
    noise.validate(dim)?;
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
    let integrator = cfg.integrator(landscape, noise);
    let outcomes = if cfg.dynamics == Dynamics::Continuous && cfg.bridge {
        let scale = integrator.noise_scale * noise.normal_scale();
        let exit = BridgeExit {
            domain,
            var_h: scale * scale,
        };
        run_all(&integrator, &exit, cfg, dim, progress)
    } else {
        run_all(&integrator, &GridExit(domain), cfg, dim, progress)
    };

    let mut res = SimResult {
        exit_times: Vec::new(),
        censor_times: Vec::new(),
        trials: cfg.trials,
        exits: 0,
        censored: 0,
        unit: cfg.unit(),
        total_steps: 0,
    };
    for o in &outcomes {
        res.total_steps += o.steps;
        if o.exited {
            res.exit_times.push(cfg.elapsed(o.steps));
        } else {
            res.censor_times.push(cfg.elapsed(o.steps));
        }
    }
    res.exits = res.exit_times.len();
    res.censored = res.censor_times.len();
    Ok(res)
}

/// Runs every trajectory of `cfg` with the exit rule `exit`, in parallel, collected in
/// trajectory-index order.
fn run_all<E: ExitRule + Sync>(
    integrator: &Integrator,
    exit: &E,
    cfg: &SimConfig,
    dim: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Vec<Outcome> {
    let finished = AtomicUsize::new(0);
    (0..cfg.trials)
        .into_par_iter()
        .map_init(
            || Workspace::new(dim),
            |ws, i| {
                let (mut rng, mut bridge_rng) = trajectory_streams(cfg.seed, i as u64);
                let o = run_trajectory(
                    integrator,
                    exit,
                    &cfg.start,
                    cfg.max_steps,
                    &mut rng,
                    &mut bridge_rng,
                    ws,
                );
                progress(finished.fetch_add(1, Ordering::Relaxed) + 1);
                o
            },
        )
        .collect()
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

/// The states θ_steps of `cfg.trials` trajectories run for exactly `steps` steps from
/// `cfg.start` with no domain (nothing exits), in trajectory-index order.
///
/// Trajectory `i` uses the same stream as in [`simulate`], so it follows the same path
/// there until that path exits. `cfg.max_steps` is ignored; the other fields are
/// validated as in [`simulate`]; `steps = 0` returns copies of the start. Non-finite states (a diverging discrete iteration)
/// are returned as they are.
pub fn sample_positions(
    landscape: &Landscape,
    noise: &Noise,
    cfg: &SimConfig,
    steps: u64,
) -> Result<Vec<Vec<f64>>, SimError> {
    let dim = landscape.dim();
    cfg.validate(dim)?;
    noise.validate(dim)?;
    let integrator = cfg.integrator(landscape, noise);
    Ok((0..cfg.trials)
        .into_par_iter()
        .map_init(
            || Workspace::new(dim),
            |ws, i| {
                let (mut rng, mut unused) = trajectory_streams(cfg.seed, i as u64);
                run_trajectory(
                    &integrator,
                    &NoExit,
                    &cfg.start,
                    steps,
                    &mut rng,
                    &mut unused,
                    ws,
                );
                ws.theta.clone()
            },
        )
        .collect())
}
