//! One trajectory at a time, for every noise model and every domain: the path for
//! non-isotropic noise (constant Σ with its Cholesky factor computed once, and
//! state-dependent Σ(θ) factored at every step, see [`super::noise`]).
//!
//! The arithmetic is the scalar form of the lane kernel's (`kernel.rs`): the same
//! per-trajectory streams ([`super::trajectory_streams`]: d normals per step, in order,
//! then the bridge uniforms from the second stream), the same update
//! `s·n + (−h·g + θ)` with two fused multiply-adds, the same exit tests. With isotropic
//! noise it reproduces the lane kernel bit for bit (tested), which ties the two paths.
//!
//! Brownian-bridge correction (continuous SGD, THEORY §7): the noise variance along the
//! boundary normal n is v = nᵀΣ(θ_k)n at the current grid state θ_k (the Σ of the step):
//! - interval, box: n = e_i for the faces θ_i = lo_i, hi_i, so v_i = Σ_ii; the faces are
//!   combined as 1 − Π(1 − p_f) (`kernel::box_crossing`, Gobet's approximation);
//! - ball: n = (θ_k − c)/|θ_k − c| (if θ_k = c, the direction of θ_{k+1} − c; if both are
//!   c, the bridge is not tested: both states are at distance r from ∂D and the crossing
//!   probability exp(−2r²/(vh)) is below the cutoff in any sensible run).
//!
//! For isotropic noise v h = (s σ)² exactly as in the lanes.
//!
//! Trajectories run in parallel on the current rayon pool; outcomes are kept by position,
//! so the result does not depend on the number of threads. A Σ(θ_k) that cannot be
//! factored stops the run with an error naming the lowest failing trajectory index
//! (deterministic: every trajectory runs until it ends or fails).

use super::kernel::{
    box_crossing, bridge_exponent, bridge_term, interval_crossing, squared_distance, Outcome,
};
use super::noise::{Noise, NoiseWork};
use super::{trajectory_rng, trajectory_streams, SimError};
use crate::landscape::{Domain, Landscape, Scratch};
use rand::Rng;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A run of the one-at-a-time engine: positions `0 .. count` are trajectories
/// `first + p·stride`.
pub(crate) struct GeneralJob<'a> {
    pub landscape: &'a Landscape,
    pub noise: &'a Noise,
    /// `None`: nothing exits (fixed-length runs).
    pub domain: Option<&'a Domain>,
    /// h: the step multiplying −∇L.
    pub drift_step: f64,
    /// s: the factor multiplying Σ^{1/2} ξ (the noise increment has covariance s²Σ).
    pub noise_scale: f64,
    /// Brownian-bridge correction (continuous dynamics only).
    pub bridge: bool,
    pub start: &'a [f64],
    pub max_steps: u64,
    pub seed: u64,
    pub first: u64,
    pub stride: u64,
    pub count: usize,
}

/// Σ(θ_k) could not be factored on trajectory `index` at step `step` (θ_k = `theta`).
struct Failure {
    index: u64,
    step: u64,
    theta: Vec<f64>,
}

struct Work {
    theta: Vec<f64>,
    next: Vec<f64>,
    xi: Vec<f64>,
    grad: Vec<f64>,
    noise: Vec<f64>,
    dir: Vec<f64>,
    nw: NoiseWork,
    scratch: Scratch<f64>,
}

impl Work {
    fn new(d: usize) -> Self {
        Work {
            theta: vec![0.0; d],
            next: vec![0.0; d],
            xi: vec![0.0; d],
            grad: vec![0.0; d],
            noise: vec![0.0; d],
            dir: vec![0.0; d],
            nw: NoiseWork::new(d),
            scratch: Scratch::new(),
        }
    }
}

impl GeneralJob<'_> {
    /// v h along e_i (interval ends, box faces).
    #[inline]
    fn var_h_coordinate(&self, i: usize, nw: &NoiseWork) -> f64 {
        let s = self.noise_scale;
        match self.noise.normal_scale() {
            Some(sigma) => {
                let t = s * sigma;
                t * t
            }
            None => s * s * self.noise.variance_coordinate(i, self.start.len(), nw),
        }
    }

    /// Crossing probability of the bridge from `prev` to `next` (both inside D).
    fn crossing(&self, domain: &Domain, prev: &[f64], next: &[f64], w: &mut Work) -> f64 {
        match domain {
            Domain::Interval { lo, hi } => {
                let v = self.var_h_coordinate(0, &w.nw);
                interval_crossing(*lo, *hi, v, prev[0], next[0])
            }
            Domain::Box { lo, hi } => {
                box_crossing(lo, hi, |i| self.var_h_coordinate(i, &w.nw), prev, next)
            }
            Domain::Ball { center, radius } => {
                let var_h = match self.noise.normal_scale() {
                    Some(sigma) => {
                        let t = self.noise_scale * sigma;
                        t * t
                    }
                    None => {
                        let base = if prev == center.as_slice() {
                            next
                        } else {
                            prev
                        };
                        for ((o, a), c) in w.dir.iter_mut().zip(base).zip(center) {
                            *o = a - c;
                        }
                        if w.dir.iter().all(|&v| v == 0.0) {
                            return 0.0;
                        }
                        let s = self.noise_scale;
                        s * s * self.noise.variance_along(&w.dir, &w.nw)
                    }
                };
                let a = radius - squared_distance(prev, center).sqrt();
                let b = radius - squared_distance(next, center).sqrt();
                bridge_term(bridge_exponent(var_h, a, b))
            }
        }
    }

    /// Runs trajectory `index`; with `final_state`, the last state is left in `w.theta`.
    fn run_one(&self, index: u64, w: &mut Work) -> Result<Outcome, Failure> {
        // The first stream of `trajectory_streams` (the second, built by a long jump, only
        // when the bridge first needs a uniform).
        let mut rng = trajectory_rng(self.seed, index);
        let mut bridge_rng: Option<Xoshiro256PlusPlus> = None;
        w.theta.copy_from_slice(self.start);
        let (h, s) = (-self.drift_step, self.noise_scale);
        for k in 0..self.max_steps {
            if super::stop::poll(k + 1) {
                // Cut short: the caller discards the whole run (SimError::Interrupted).
                break;
            }
            for z in w.xi.iter_mut() {
                *z = rng.sample(StandardNormal);
            }
            self.landscape
                .gradient_with(&w.theta, &mut w.grad, &mut w.scratch);
            if self
                .noise
                .apply(self.landscape, &w.theta, &w.xi, &mut w.noise, &mut w.nw)
                .is_err()
            {
                return Err(Failure {
                    index,
                    step: k,
                    theta: w.theta.clone(),
                });
            }
            for (((y, &x), &g), &n) in w.next.iter_mut().zip(&w.theta).zip(&w.grad).zip(&w.noise) {
                *y = s.mul_add(n, h.mul_add(g, x));
            }
            let exited = match self.domain {
                None => false,
                Some(domain) => {
                    if !domain.contains(&w.next) {
                        true
                    } else if self.bridge {
                        let (prev, next) =
                            (std::mem::take(&mut w.theta), std::mem::take(&mut w.next));
                        let p = self.crossing(domain, &prev, &next, w);
                        (w.theta, w.next) = (prev, next);
                        p > 0.0
                            && bridge_rng
                                .get_or_insert_with(|| trajectory_streams(self.seed, index).1)
                                .random::<f64>()
                                < p
                    } else {
                        false
                    }
                }
            };
            std::mem::swap(&mut w.theta, &mut w.next);
            if exited {
                return Ok(Outcome {
                    steps: k + 1,
                    exited: true,
                });
            }
        }
        Ok(Outcome {
            steps: self.max_steps,
            exited: false,
        })
    }

    /// Runs every trajectory on the current rayon pool; outcomes (and, with
    /// `final_states`, last states) by position.
    pub fn run(
        &self,
        final_states: bool,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(Vec<Outcome>, Vec<Vec<f64>>), SimError> {
        let d = self.start.len();
        let finished = AtomicUsize::new(0);
        let results: Vec<Result<(Outcome, Vec<f64>), Failure>> = (0..self.count)
            .into_par_iter()
            .with_max_len(1)
            .map_init(
                || Work::new(d),
                |w, p| {
                    let index = self.first + p as u64 * self.stride;
                    let r = self.run_one(index, w).map(|o| {
                        let state = if final_states {
                            w.theta.clone()
                        } else {
                            Vec::new()
                        };
                        (o, state)
                    });
                    progress(finished.fetch_add(1, Ordering::Relaxed) + 1);
                    r
                },
            )
            .collect();
        let mut outcomes = Vec::with_capacity(self.count);
        let mut states = Vec::with_capacity(if final_states { self.count } else { 0 });
        for r in results {
            match r {
                Ok((o, s)) => {
                    outcomes.push(o);
                    if final_states {
                        states.push(s);
                    }
                }
                // Positions increase with the trajectory index: this is the lowest one.
                Err(f) => {
                    return Err(SimError::NoisePositiveDefinite {
                        noise: self.noise.describe(),
                        trajectory: f.index,
                        step: f.step,
                        theta: f.theta,
                    })
                }
            }
        }
        Ok((outcomes, states))
    }
}
