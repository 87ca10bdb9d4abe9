//! Minibatch SGD on a data loss (THEORY E2):
//!
//!   θ_{k+1} = θ_k − η (1/B) Σ_{i ∈ I_k} ∇ℓ_i(θ_k),
//!
//! I_k a uniformly random B-subset of {1 … N}, drawn without replacement and independently
//! at every step. Its noise has covariance Σ(θ)/B · (N − B)/(N − 1), with Σ the per-example
//! covariance of [`crate::landscape::DataLoss::covariance`]; κ² = η/B as for E1. The exit
//! time ν = min{k : θ_k ∉ D} is counted in iterations; a run still inside D after
//! `max_steps` iterations is censored there.
//!
//! Subsets: each trajectory keeps a permutation of 0 … N−1 and, at every step, runs the
//! first B steps of a Fisher–Yates shuffle on it (position j swapped with a uniform
//! position in j … N−1); the first B entries are then a uniformly random B-subset whatever
//! the permutation was before (each ordered B-tuple of distinct indices has probability
//! (N−B)!/N!). Uniform integers below s use Lemire's multiply-and-reject method (Lemire,
//! "Fast random integer generation in an interval", ACM TOMACS 29, 2019), exact for every s.
//!
//! Reproducibility: trajectory `i` draws from [`trajectory_rng`]`(seed, i)` only, and
//! outcomes are collected by trajectory index, so a result is the same on any number of
//! threads and its shards merge into exactly the unsharded result ([`super::merge_results`]).

use super::{Outcome, SimConfig, SimError, SimResult};
use crate::landscape::{DataLoss, Domain, Landscape};
use crate::simulate::trajectory_rng;
use rand::RngCore;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A uniform integer in 0 … s−1 (s ≥ 1), Lemire's method.
#[inline]
pub fn uniform_below<R: RngCore>(rng: &mut R, s: u64) -> u64 {
    debug_assert!(s >= 1);
    let mut m = u128::from(rng.next_u64()) * u128::from(s);
    let mut low = m as u64;
    if low < s {
        let t = s.wrapping_neg() % s;
        while low < t {
            m = u128::from(rng.next_u64()) * u128::from(s);
            low = m as u64;
        }
    }
    (m >> 64) as u64
}

/// Makes `perm[..b]` a uniformly random b-subset of the entries of `perm` (partial
/// Fisher–Yates; see the module documentation).
#[inline]
pub fn draw_batch<R: RngCore>(rng: &mut R, perm: &mut [usize], b: usize) {
    let n = perm.len();
    for j in 0..b {
        let k = j + uniform_below(rng, (n - j) as u64) as usize;
        perm.swap(j, k);
    }
}

/// One draw of the minibatch gradient at `theta` (E2's stochastic gradient), with the same
/// subset sampler as the simulation; `perm` is a permutation of 0 … N−1 kept between draws.
pub fn sample_minibatch_gradient<R: RngCore>(
    dl: &DataLoss,
    theta: &[f64],
    batch: usize,
    rng: &mut R,
    perm: &mut [usize],
    g: &mut [f64],
) {
    draw_batch(rng, perm, batch);
    let mut t = vec![0.0; dl.dim()];
    dl.minibatch_gradient(theta, &perm[..batch], g, &mut t);
}

/// The data loss of a minibatch configuration, with its checks.
pub(super) fn data_loss<'a>(
    landscape: &'a Landscape,
    cfg: &SimConfig,
) -> Result<&'a DataLoss, SimError> {
    let Landscape::Data(dl) = landscape else {
        return Err(SimError::NotDataLoss {
            landscape: landscape.describe(),
        });
    };
    if cfg.batch as usize > dl.n {
        return Err(SimError::BatchTooLarge {
            batch: cfg.batch,
            rows: dl.n,
        });
    }
    Ok(dl)
}

/// One trajectory: its outcome (exit iteration, or censored at `max_steps`).
fn run_one(dl: &DataLoss, domain: &Domain, cfg: &SimConfig, index: u64) -> Outcome {
    let mut rng = trajectory_rng(cfg.seed, index);
    let d = dl.dim();
    let b = cfg.batch as usize;
    let mut perm: Vec<usize> = (0..dl.n).collect();
    let mut th = cfg.start.clone();
    let mut g = vec![0.0; d];
    let mut t = vec![0.0; d];
    for k in 1..=cfg.max_steps {
        if super::stop::poll(k) {
            // Cut short: the caller discards the whole run (SimError::Interrupted).
            break;
        }
        draw_batch(&mut rng, &mut perm, b);
        dl.minibatch_gradient(&th, &perm[..b], &mut g, &mut t);
        for (x, gk) in th.iter_mut().zip(&g) {
            *x -= cfg.eta * gk;
        }
        // D is open: a state on ∂D (or a non-finite one) has exited.
        if !domain.contains(&th) {
            return Outcome {
                steps: k,
                exited: true,
            };
        }
    }
    Outcome {
        steps: cfg.max_steps,
        exited: false,
    }
}

/// Simulates the minibatch SGD trajectories of `cfg` (dynamics [`super::Dynamics::Minibatch`];
/// all `cfg.trials`, or those of `cfg.shard`) from `cfg.start` until they leave `domain` or
/// reach `cfg.max_steps`, in parallel on the current rayon pool; `progress(n)` as in
/// [`super::simulate_with_progress`].
pub fn simulate_minibatch(
    landscape: &Landscape,
    domain: &Domain,
    cfg: &SimConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<SimResult, SimError> {
    let dim = landscape.dim();
    super::check_config(cfg, dim)?;
    let dl = data_loss(landscape, cfg)?;
    super::check_domain(cfg, domain, dim)?;
    let done = AtomicUsize::new(0);
    let outcomes: Vec<Outcome> = (0..cfg.shard.len(cfg.trials))
        .into_par_iter()
        .map(|pos| {
            let o = run_one(dl, domain, cfg, cfg.shard.trajectory(pos));
            progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            o
        })
        .collect();
    if super::stop::stop_requested() {
        return Err(SimError::Interrupted);
    }
    Ok(SimResult::from_outcomes(
        cfg,
        minibatch_fingerprint(landscape, domain),
        outcomes,
    ))
}

/// The problem fingerprint of a minibatch run (no Gaussian noise model: the noise is the
/// data's).
fn minibatch_fingerprint(landscape: &Landscape, domain: &Domain) -> String {
    let text = format!("{landscape:?}\n{domain:?}\nminibatch");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Lemire's method is exactly uniform: over all 2^8 outputs of an 8-bit analogue it
    /// would be; here we check the cheap consequences on a 64-bit generator: range, and
    /// that every value of a small range appears with frequency within 6 standard
    /// deviations of 1/s (false-failure rate below 1e-8 for these 7 cells).
    #[test]
    fn uniform_below_is_in_range_and_balanced() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let s = 7u64;
        let n = 70_000;
        let mut counts = [0usize; 7];
        for _ in 0..n {
            let v = uniform_below(&mut rng, s);
            assert!(v < s);
            counts[v as usize] += 1;
        }
        let p = 1.0 / s as f64;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        for c in counts {
            assert!((c as f64 - n as f64 * p).abs() < 6.0 * sd, "{counts:?}");
        }
        assert_eq!(uniform_below(&mut rng, 1), 0);
    }

    #[test]
    fn batch_is_a_subset_without_repetition() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
        let mut perm: Vec<usize> = (0..10).collect();
        for _ in 0..100 {
            draw_batch(&mut rng, &mut perm, 4);
            let mut sorted = perm.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        }
    }
}
