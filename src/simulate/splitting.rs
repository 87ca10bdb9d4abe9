//! Adaptive multilevel splitting (AMS) for mean exit times far beyond direct Monte Carlo.
//!
//! CONTRACT (interface fixed for the rare-event work; the implementation replaces the
//! bodies below). E[τ] ≈ E[cycle time] / P(reach ∂D before returning to A), with A the
//! small set {ξ ≤ inner_level} around θ*, P from independent AMS replicas (unbiased
//! estimator, generalized AMS with ties for discrete time) and the cycle time from direct
//! simulation; the confidence interval comes from the replicas.
//!
//! Identity (strong Markov property, i.i.d. cycles assumed; `proofs/splitting-mean-exit-time.md`,
//! THEORY E1/E2/E3, §7, checked against E13/E14):
//!   E_x[τ] = E_x[T₀] + q·((1/p − 1)·E[T_loop] + E[U] + E[V_reac]),
//! T₀ = min(τ, T_A) from the start, q = P(T_A < τ), T_loop a failed cycle (A → B → A),
//! U the A → B part of a cycle, V_reac the B → exit time, p = P(exit before A | B-entrance).
//! Direct chains estimate T₀, q, T_loop, U and sample B-entrance states; generalized AMS
//! (Bréhier et al. 2016: all particles at the minimum score killed, p̂ = Π(1 − K_j/N),
//! unbiased for any ξ) estimates p and V_reac. Interval: delta method on the identity with
//! a Student t quantile with R − 1 degrees of freedom (R replicas) on the log scale,
//! asymptotically valid. Automatic levels: median and 90 % quantile of ξ along a 20 000-step
//! pilot run from the start (first 10 % dropped).

use super::kernel::squared_distance;
use super::{Noise, SimConfig, SimError, Unit};
use crate::landscape::{Domain, Landscape, Scratch};
use serde::{Deserialize, Serialize};

/// The reaction coordinate ξ: small near θ*, growing towards ∂D.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Coordinate {
    /// ξ(θ) = |θ − centre| (Euclidean distance): the fallback.
    Distance { centre: Vec<f64> },
    /// ξ(θ) = ½(θ − centre)ᵀ P (θ − centre), P symmetric positive definite (row-major
    /// d×d): the C-quad Hamilton–Jacobi certificate's W up to its scale γ.
    Quadratic { centre: Vec<f64>, p: Vec<f64> },
    /// ξ(θ) = L(θ) − l_star: the C-loss certificate's W up to its coefficient.
    Loss { l_star: f64 },
    /// ξ(θ) = (θ − centre)·direction (direction a unit vector towards the exit): one-sided,
    /// where the level sets of the others also reach dead ends (a 1-D well's far side).
    Direction {
        centre: Vec<f64>,
        direction: Vec<f64>,
    },
}

impl Coordinate {
    /// ξ(θ).
    pub fn value(&self, landscape: &Landscape, theta: &[f64]) -> f64 {
        match self {
            Coordinate::Distance { centre } => squared_distance(theta, centre).sqrt(),
            Coordinate::Quadratic { centre, p } => quadratic_form(centre, p, theta),
            Coordinate::Loss { l_star } => landscape.value::<f64>(theta) - l_star,
            Coordinate::Direction { centre, direction } => theta
                .iter()
                .zip(centre)
                .zip(direction)
                .map(|((t, c), u)| (t - c) * u)
                .sum(),
        }
    }

    /// ξ(θ) with a reusable scratch (the hot path).
    fn value_with(&self, landscape: &Landscape, theta: &[f64], scratch: &mut Scratch<f64>) -> f64 {
        match self {
            Coordinate::Loss { l_star } => landscape.value_with(theta, scratch) - l_star,
            _ => self.value(landscape, theta),
        }
    }

    /// A one-line description for reports, e.g. "W = ½(θ−c)ᵀP(θ−c) (C-quad certificate)".
    pub fn describe(&self) -> String {
        match self {
            Coordinate::Distance { centre } => format!("ξ = |θ − c|, c = {centre:?}"),
            Coordinate::Quadratic { centre, .. } => {
                format!("W = ½(θ−c)ᵀP(θ−c) (C-quad certificate), c = {centre:?}")
            }
            Coordinate::Loss { l_star } => {
                format!("ξ = L(θ) − L* (C-loss W, or E7's W up to 2/σ²), L* = {l_star:e}")
            }
            Coordinate::Direction { centre, direction } => {
                format!("ξ = (θ − c)·u, c = {centre:?}, u = {direction:?} (towards the exit point)")
            }
        }
    }

    /// A short description for tables: "½(θ−c)ᵀP(θ−c) (C-quad W)", "L − L*", "|θ − θ*|".
    pub fn describe_short(&self) -> &'static str {
        match self {
            Coordinate::Distance { .. } => "|θ − θ*|",
            Coordinate::Quadratic { .. } => "½(θ−c)ᵀP(θ−c) (C-quad W)",
            Coordinate::Loss { .. } => "L − L*",
            Coordinate::Direction { .. } => "(θ − θ*)·u towards the exit",
        }
    }

    fn validate(&self, dim: usize) -> Result<(), SimError> {
        let bad = |got: String| SimError::InvalidParameter {
            name: "coordinate",
            requirement: "of the landscape's dimension with finite entries",
            got,
        };
        match self {
            Coordinate::Distance { centre } => {
                if centre.len() != dim || !centre.iter().all(|v| v.is_finite()) {
                    return Err(bad(format!("{centre:?}")));
                }
            }
            Coordinate::Quadratic { centre, p } => {
                if centre.len() != dim
                    || p.len() != dim * dim
                    || !centre.iter().chain(p).all(|v| v.is_finite())
                {
                    return Err(bad(format!("centre {centre:?}, p {p:?}")));
                }
            }
            Coordinate::Loss { l_star } => {
                if !l_star.is_finite() {
                    return Err(bad(format!("l_star = {l_star}")));
                }
            }
            Coordinate::Direction { centre, direction } => {
                let norm2: f64 = direction.iter().map(|u| u * u).sum();
                if centre.len() != dim
                    || direction.len() != dim
                    || !centre.iter().chain(direction).all(|v| v.is_finite())
                    || !(norm2 > 0.0)
                {
                    return Err(bad(format!("centre {centre:?}, direction {direction:?}")));
                }
            }
        }
        Ok(())
    }
}

fn quadratic_form(centre: &[f64], p: &[f64], theta: &[f64]) -> f64 {
    let d = centre.len();
    let mut s = 0.0;
    for i in 0..d {
        let ui = theta[i] - centre[i];
        let mut row = 0.0;
        for j in 0..d {
            row += p[i * d + j] * (theta[j] - centre[j]);
        }
        s += ui * row;
    }
    0.5 * s
}

/// Parameters of a splitting estimate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplittingConfig {
    /// Particles per AMS replica (N ≥ 2).
    pub particles: usize,
    /// Independent AMS replicas (≥ 2); the confidence interval comes from their spread.
    pub replicas: usize,
    /// Direct cycles (A → {ξ ≥ outer_level} → back to A or exit) for the mean cycle time.
    pub cycles: usize,
    /// The level of the small set A = {ξ ≤ inner_level}; `None`: chosen automatically.
    pub inner_level: Option<f64>,
    /// The level that starts an excursion (> inner_level); `None`: chosen automatically.
    pub outer_level: Option<f64>,
}

/// A splitting estimate of E[τ] from `cfg.start` (in `unit`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplittingEstimate {
    /// Point estimate of E[τ].
    pub mean: f64,
    /// Confidence interval of E[τ] at `level`.
    pub lower: f64,
    pub upper: f64,
    /// Confidence level of every interval here.
    pub level: f64,
    /// Standard error of ln E[τ] (delta method) and the degrees of freedom of its t
    /// quantile (replicas − 1): [lower, upper] = mean·exp(∓t·ln_se).
    pub ln_se: f64,
    pub dof: f64,
    /// P(reach ∂D before A), mean over replicas, and its interval.
    pub probability: f64,
    pub probability_lower: f64,
    pub probability_upper: f64,
    /// Mean cycle time and its interval.
    pub cycle_mean: f64,
    pub cycle_lower: f64,
    pub cycle_upper: f64,
    /// Effective number of replicas (Σp̂)²/Σp̂² (R when all replicas agree): well below R
    /// the replica estimates are dominated by a few large p̂, the heavy-tailed regime in
    /// which the replica spread understates the error (a poor reaction coordinate), and the
    /// interval may be too narrow. 0 when no replica reached ∂D.
    #[serde(default)]
    pub effective_replicas: f64,
    pub replicas: usize,
    pub particles: usize,
    pub cycles: usize,
    /// Levels used (resolved when the config left them to `None`).
    pub inner_level: f64,
    pub outer_level: f64,
    /// Particle-steps taken in all (AMS and cycles).
    pub total_steps: u64,
    pub unit: Unit,
    pub coordinate: Coordinate,
}

impl SplittingEstimate {
    /// The interval of E[τ] at another confidence `level` (same delta-method standard
    /// error and t quantile with `dof` degrees of freedom): used for Bonferroni-adjusted
    /// comparisons. (0, ∞) when there is no estimate (no replica reached ∂D).
    pub fn interval_at(&self, level: f64) -> (f64, f64) {
        if !(self.mean.is_finite() && self.ln_se.is_finite() && self.mean > 0.0) {
            return (self.lower.min(self.mean), f64::INFINITY);
        }
        let t = crate::stats::quantile::student_t_upper_quantile((1.0 - level) / 2.0, self.dof)
            .unwrap_or(f64::INFINITY);
        (
            self.mean * (-t * self.ln_se).exp(),
            self.mean * (t * self.ln_se).exp(),
        )
    }

    /// Whether there is a finite estimate (some replica reached ∂D).
    pub fn is_finite(&self) -> bool {
        self.mean.is_finite() && self.mean > 0.0 && self.ln_se.is_finite()
    }
}

/// Estimates E[τ] for the dynamics of `cfg` (continuous, discrete or minibatch; `cfg.seed`
/// fixes every random number, `cfg.max_steps` caps each simulated segment) by AMS.
pub fn estimate_mean_exit(
    landscape: &Landscape,
    domain: &Domain,
    noise: &Noise,
    cfg: &SimConfig,
    split: &SplittingConfig,
    coordinate: &Coordinate,
    confidence: f64,
) -> Result<SplittingEstimate, SimError> {
    engine::estimate(landscape, domain, noise, cfg, split, coordinate, confidence)
}

mod engine {
    use super::super::kernel::{
        box_crossing, bridge_exponent, bridge_term, interval_crossing, squared_distance,
    };
    use super::super::minibatch::{data_loss, draw_batch, uniform_below};
    use super::super::noise::NoiseWork;
    use super::super::{trajectory_rng, Dynamics, Noise, SimConfig, SimError};
    use super::{Coordinate, SplittingConfig, SplittingEstimate};
    use crate::landscape::{DataLoss, Domain, Landscape, Scratch};
    use crate::stats::quantile::student_t_upper_quantile;
    use rand::Rng;
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rayon::prelude::*;

    /// Stream indices (disjoint ranges of `trajectory_rng(seed, ·)`).
    const PILOT_STREAM: u64 = 1 << 62;
    const CHAIN_STREAM: u64 = (1 << 62) + (1 << 40);
    const REPLICA_STREAM: u64 = (1 << 62) + (2 << 40);
    /// Number of independent direct chains that share the `cycles`.
    const CHAINS: usize = 16;
    /// Pilot run length (steps) for the automatic levels.
    const PILOT_STEPS: u64 = 20_000;
    /// Automatic levels: quantiles of ξ along the pilot run (after its first 10 %).
    const INNER_QUANTILE: f64 = 0.5;
    const OUTER_QUANTILE: f64 = 0.9;

    enum Kind<'a> {
        /// θ' = θ − h∇L + s Σ^{1/2} ξ (E1, E3), with the bridge test for E3.
        Gaussian { h: f64, s: f64, bridge: bool },
        /// E2.
        Minibatch {
            dl: &'a DataLoss,
            eta: f64,
            b: usize,
        },
    }

    struct Dyn<'a> {
        landscape: &'a Landscape,
        noise: &'a Noise,
        domain: &'a Domain,
        coord: &'a Coordinate,
        kind: Kind<'a>,
        max_steps: u64,
    }

    struct Walker {
        theta: Vec<f64>,
        next: Vec<f64>,
        xi: Vec<f64>,
        grad: Vec<f64>,
        noise: Vec<f64>,
        dir: Vec<f64>,
        t: Vec<f64>,
        perm: Vec<usize>,
        nw: NoiseWork,
        scratch: Scratch<f64>,
    }

    impl Walker {
        fn new(d: usize, n_data: usize) -> Self {
            Walker {
                theta: vec![0.0; d],
                next: vec![0.0; d],
                xi: vec![0.0; d],
                grad: vec![0.0; d],
                noise: vec![0.0; d],
                dir: vec![0.0; d],
                t: vec![0.0; d],
                perm: (0..n_data).collect(),
                nw: NoiseWork::new(d),
                scratch: Scratch::new(),
            }
        }
    }

    fn segment_too_long(max_steps: u64) -> SimError {
        SimError::InvalidParameter {
            name: "max_steps",
            requirement: "large enough for every splitting segment (a segment reached it)",
            got: max_steps.to_string(),
        }
    }

    impl Dyn<'_> {
        fn xi(&self, w: &mut Walker) -> f64 {
            self.coord
                .value_with(self.landscape, &w.theta, &mut w.scratch)
        }

        /// One step of the dynamics from `w.theta` (the new state is left in `w.theta`);
        /// `true` if the path left D during the step (state outside D, or a bridge crossing).
        fn step(&self, w: &mut Walker, rng: &mut Xoshiro256PlusPlus) -> Result<bool, SimError> {
            match self.kind {
                Kind::Minibatch { dl, eta, b } => {
                    draw_batch(rng, &mut w.perm, b);
                    dl.minibatch_gradient(&w.theta, &w.perm[..b], &mut w.grad, &mut w.t);
                    for (x, g) in w.theta.iter_mut().zip(&w.grad) {
                        *x -= eta * g;
                    }
                    Ok(!self.domain.contains(&w.theta))
                }
                Kind::Gaussian { h, s, bridge } => {
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
                        return Err(SimError::NoisePositiveDefinite {
                            noise: self.noise.describe(),
                            trajectory: 0,
                            step: 0,
                            theta: w.theta.clone(),
                        });
                    }
                    let mh = -h;
                    for (((y, &x), &g), &n) in
                        w.next.iter_mut().zip(&w.theta).zip(&w.grad).zip(&w.noise)
                    {
                        *y = s.mul_add(n, mh.mul_add(g, x));
                    }
                    let exited = if !self.domain.contains(&w.next) {
                        true
                    } else if bridge {
                        let p = self.crossing(w, s);
                        p > 0.0 && rng.random::<f64>() < p
                    } else {
                        false
                    };
                    std::mem::swap(&mut w.theta, &mut w.next);
                    Ok(exited)
                }
            }
        }

        /// Brownian-bridge crossing probability between `w.theta` and `w.next` (THEORY §7),
        /// as in `general.rs`.
        fn crossing(&self, w: &mut Walker, s: f64) -> f64 {
            let d = w.theta.len();
            let (prev, next) = (&w.theta, &w.next);
            let var_coord = |i: usize| match self.noise.normal_scale() {
                Some(sigma) => (s * sigma) * (s * sigma),
                None => s * s * self.noise.variance_coordinate(i, d, &w.nw),
            };
            match self.domain {
                Domain::Interval { lo, hi } => {
                    interval_crossing(*lo, *hi, var_coord(0), prev[0], next[0])
                }
                Domain::Box { lo, hi } => box_crossing(lo, hi, var_coord, prev, next),
                Domain::Ball { center, radius } => {
                    let var_h = match self.noise.normal_scale() {
                        Some(sigma) => (s * sigma) * (s * sigma),
                        None => {
                            let base = if prev == center { next } else { prev };
                            let mut dir = std::mem::take(&mut w.dir);
                            for ((o, a), c) in dir.iter_mut().zip(base).zip(center) {
                                *o = a - c;
                            }
                            let zero = dir.iter().all(|&v| v == 0.0);
                            let v = self.noise.variance_along(&dir, &w.nw);
                            w.dir = dir;
                            if zero {
                                return 0.0;
                            }
                            s * s * v
                        }
                    };
                    let a = radius - squared_distance(prev, center).sqrt();
                    let b = radius - squared_distance(next, center).sqrt();
                    bridge_term(bridge_exponent(var_h, a, b))
                }
            }
        }
    }

    /// The record points of an AMS path: the states where ξ reaches a new running maximum
    /// (the first time the path exceeds any level z is one of them).
    #[derive(Clone)]
    struct Path {
        xi: Vec<f64>,
        steps: Vec<u64>,
        states: Vec<f64>,
        /// max ξ along the path; +∞ if it left D.
        score: f64,
        /// Steps from the excursion's entrance state to its end.
        len: u64,
    }

    /// What the direct chains measure.
    #[derive(Default)]
    struct Direct {
        /// Per segment from the start: (time to reach A or leave D, reached A?).
        t0: Vec<(f64, bool)>,
        /// Time from an A-entrance to the next B-entrance (every cycle reaching B).
        up: Vec<f64>,
        /// Failed cycles: A-entrance → B → A-entrance.
        loops: Vec<f64>,
        /// Entrance states of B (ξ ≥ b or left D), with "left D".
        entrances: Vec<(Vec<f64>, bool)>,
        /// Cycles that left D directly.
        direct_exits: usize,
        steps: u64,
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn estimate(
        landscape: &Landscape,
        domain: &Domain,
        noise: &Noise,
        cfg: &SimConfig,
        split: &SplittingConfig,
        coordinate: &Coordinate,
        confidence: f64,
    ) -> Result<SplittingEstimate, SimError> {
        let dim = landscape.dim();
        super::super::check_config(cfg, dim)?;
        super::super::check_domain(cfg, domain, dim)?;
        coordinate.validate(dim)?;
        let param = |name: &'static str, requirement: &'static str, got: String| {
            SimError::InvalidParameter {
                name,
                requirement,
                got,
            }
        };
        if split.particles < 2 {
            return Err(param(
                "particles",
                "at least 2",
                split.particles.to_string(),
            ));
        }
        if split.replicas < 2 {
            return Err(param("replicas", "at least 2", split.replicas.to_string()));
        }
        if split.cycles < 2 {
            return Err(param("cycles", "at least 2", split.cycles.to_string()));
        }
        if !(confidence > 0.0 && confidence < 1.0) {
            return Err(param("confidence", "in (0, 1)", confidence.to_string()));
        }
        let (kind, n_data) = match cfg.dynamics {
            Dynamics::Minibatch => {
                let dl = data_loss(landscape, cfg)?;
                (
                    Kind::Minibatch {
                        dl,
                        eta: cfg.eta,
                        b: cfg.batch as usize,
                    },
                    dl.n,
                )
            }
            Dynamics::Continuous | Dynamics::Discrete => {
                noise.validate(dim)?;
                let (h, s) = cfg.steps();
                let bridge = cfg.dynamics == Dynamics::Continuous && cfg.bridge;
                (Kind::Gaussian { h, s, bridge }, 0)
            }
        };
        let dy = Dyn {
            landscape,
            noise,
            domain,
            coord: coordinate,
            kind,
            max_steps: cfg.max_steps,
        };
        let mut total_steps = 0u64;
        let (inner, outer) = match (split.inner_level, split.outer_level) {
            (Some(a), Some(b)) => (a, b),
            (a, b) => {
                let (qa, qb, used) = pilot_levels(&dy, cfg, dim, n_data)?;
                total_steps += used;
                (a.unwrap_or(qa), b.unwrap_or(qb))
            }
        };
        if !(inner.is_finite() && outer.is_finite() && inner < outer) {
            return Err(param(
                "inner_level, outer_level",
                "finite with inner_level < outer_level",
                format!("{inner}, {outer}"),
            ));
        }

        // Direct chains: first passages from the start, cycles, B-entrance states.
        let per_chain = split.cycles.div_ceil(CHAINS.min(split.cycles));
        let chains = CHAINS.min(split.cycles);
        let parts: Vec<Result<Direct, SimError>> = (0..chains)
            .into_par_iter()
            .with_max_len(1)
            .map(|c| run_chain(&dy, cfg, dim, n_data, inner, outer, c as u64, per_chain))
            .collect();
        let mut direct = Direct::default();
        for p in parts {
            let p = p?;
            direct.t0.extend(p.t0);
            direct.up.extend(p.up);
            direct.loops.extend(p.loops);
            direct.entrances.extend(p.entrances);
            direct.direct_exits += p.direct_exits;
            direct.steps += p.steps;
        }
        total_steps += direct.steps;
        if direct.entrances.is_empty() {
            return Err(param(
                "outer_level",
                "reached by the direct cycles (no cycle reached it)",
                outer.to_string(),
            ));
        }

        // Independent AMS replicas.
        let reps: Vec<Result<(f64, f64, u64), SimError>> = (0..split.replicas)
            .into_par_iter()
            .with_max_len(1)
            .map(|r| {
                ams_replica(
                    &dy,
                    dim,
                    n_data,
                    inner,
                    &direct.entrances,
                    split.particles,
                    trajectory_rng(cfg.seed, REPLICA_STREAM + r as u64),
                )
            })
            .collect();
        let mut ps = Vec::with_capacity(split.replicas);
        let mut reac = Vec::with_capacity(split.replicas);
        for r in reps {
            let (p, v, steps) = r?;
            total_steps += steps;
            ps.push(p);
            if p > 0.0 {
                reac.push(cfg.elapsed(0) + v * cfg.elapsed(1));
            }
        }
        if super::super::stop::stop_requested() {
            return Err(SimError::Interrupted);
        }

        let rr = split.replicas as f64;
        let t = student_t_upper_quantile((1.0 - confidence) / 2.0, rr - 1.0).map_err(|e| {
            param(
                "confidence",
                "a level with a Student t quantile",
                e.to_string(),
            )
        })?;
        let (p_mean, p_var) = mean_var(&ps);
        let p_se = (p_var / rr).sqrt();
        let t0s: Vec<f64> = direct.t0.iter().map(|x| x.0).collect();
        let reached: Vec<f64> = direct
            .t0
            .iter()
            .map(|x| if x.1 { 1.0 } else { 0.0 })
            .collect();
        let (t0, t0_var) = mean_var(&t0s);
        let (q, q_var) = mean_var(&reached);
        let (lp, lp_var) = mean_var(&direct.loops);
        let (up, up_var) = mean_var(&direct.up);
        let (rc, rc_var) = mean_var(&reac);
        let n = |v: &Vec<f64>| (v.len() as f64).max(1.0);
        let (var_t0, var_q) = (t0_var / n(&t0s), q_var / n(&reached));
        let (var_lp, var_up) = (lp_var / n(&direct.loops), up_var / n(&direct.up));
        let var_rc = rc_var / n(&reac);
        let cycle_t = student_t_upper_quantile(
            (1.0 - confidence) / 2.0,
            (direct.loops.len() as f64 - 1.0).max(1.0),
        )
        .unwrap_or(t);

        // E[τ] = E[T₀] + q·((1/p − 1)·E[T_loop] + E[T_up] + E[T_reac]) (module docs).
        let (mean, lower, upper, ln_se) = if p_mean > 0.0 {
            let cyc = (1.0 / p_mean - 1.0) * lp + up + rc;
            let m = t0 + q * cyc;
            let var = var_t0
                + cyc * cyc * var_q
                + q * q
                    * ((lp / (p_mean * p_mean)).powi(2) * p_var / rr
                        + (1.0 / p_mean - 1.0).powi(2) * var_lp
                        + var_up
                        + var_rc);
            let rel = var.sqrt() / m;
            (m, m * (-t * rel).exp(), m * (t * rel).exp(), rel)
        } else {
            (f64::INFINITY, t0, f64::INFINITY, f64::INFINITY)
        };
        let (pl, pu) = if p_mean > 0.0 {
            let rel = p_se / p_mean;
            (p_mean * (-t * rel).exp(), p_mean * (t * rel).exp())
        } else {
            (0.0, 0.0)
        };
        let lp_se = var_lp.sqrt();
        Ok(SplittingEstimate {
            mean,
            lower,
            upper,
            level: confidence,
            ln_se,
            dof: rr - 1.0,
            probability: p_mean,
            probability_lower: pl,
            probability_upper: pu,
            cycle_mean: lp,
            cycle_lower: (lp - cycle_t * lp_se).max(0.0),
            cycle_upper: lp + cycle_t * lp_se,
            replicas: split.replicas,
            effective_replicas: {
                let (s1, s2) = ps.iter().fold((0.0, 0.0), |(a, b), p| (a + p, b + p * p));
                if s2 > 0.0 {
                    s1 * s1 / s2
                } else {
                    0.0
                }
            },
            particles: split.particles,
            cycles: direct.loops.len() + direct.direct_exits,
            inner_level: inner,
            outer_level: outer,
            total_steps,
            unit: cfg.unit(),
            coordinate: coordinate.clone(),
        })
    }

    /// Sample mean and (n − 1)-variance (0 for fewer than two values).
    fn mean_var(x: &[f64]) -> (f64, f64) {
        if x.is_empty() {
            return (0.0, 0.0);
        }
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        if x.len() < 2 {
            return (m, 0.0);
        }
        let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
        (m, v)
    }

    /// Automatic levels: one direct run from the start (stream `PILOT_STREAM`) of
    /// `PILOT_STEPS` steps (or until it leaves D); ξ along it, without its first 10 %,
    /// gives inner = its `INNER_QUANTILE` and outer = its `OUTER_QUANTILE`.
    fn pilot_levels(
        dy: &Dyn,
        cfg: &SimConfig,
        dim: usize,
        n_data: usize,
    ) -> Result<(f64, f64, u64), SimError> {
        let mut w = Walker::new(dim, n_data);
        w.theta.copy_from_slice(&cfg.start);
        let mut rng = trajectory_rng(cfg.seed, PILOT_STREAM);
        let mut xs = Vec::new();
        let steps = PILOT_STEPS.min(dy.max_steps);
        let mut used = 0;
        for _ in 0..steps {
            used += 1;
            if dy.step(&mut w, &mut rng)? {
                break;
            }
            xs.push(dy.xi(&mut w));
        }
        let xs: Vec<f64> = xs[xs.len() / 10..].to_vec();
        if xs.len() < 100 {
            return Err(SimError::InvalidParameter {
                name: "inner_level, outer_level",
                requirement: "given explicitly (the pilot run for automatic levels left D \
                              within 100 steps)",
                got: "automatic".into(),
            });
        }
        let mut s = xs;
        s.sort_by(f64::total_cmp);
        let qa = s[((s.len() - 1) as f64 * INNER_QUANTILE) as usize];
        let qb = s[((s.len() - 1) as f64 * OUTER_QUANTILE) as usize];
        Ok((qa, qb, used))
    }

    /// Steps the walker until ξ satisfies `stop_at` or D is left: (steps, whether D was
    /// left). A segment longer than `max_steps` is an error; a stop request interrupts.
    fn walk(
        dy: &Dyn,
        w: &mut Walker,
        rng: &mut Xoshiro256PlusPlus,
        stop_at: impl Fn(f64) -> bool,
    ) -> Result<(u64, bool), SimError> {
        let mut k = 0u64;
        loop {
            if k >= dy.max_steps {
                return Err(segment_too_long(dy.max_steps));
            }
            if super::super::stop::poll(k + 1) {
                return Err(SimError::Interrupted);
            }
            k += 1;
            if dy.step(w, rng)? {
                return Ok((k, true));
            }
            if stop_at(dy.xi(w)) {
                return Ok((k, false));
            }
        }
    }

    /// One direct chain: from the start until A (or D is left, then again from the start),
    /// then `quota` cycles from A-entrances.
    #[allow(clippy::too_many_arguments)]
    fn run_chain(
        dy: &Dyn,
        cfg: &SimConfig,
        dim: usize,
        n_data: usize,
        inner: f64,
        outer: f64,
        chain: u64,
        quota: usize,
    ) -> Result<Direct, SimError> {
        let mut out = Direct::default();
        let mut rng = trajectory_rng(cfg.seed, CHAIN_STREAM + chain);
        let mut w = Walker::new(dim, n_data);
        let el = |k: u64| cfg.elapsed(k);
        let mut cycles = 0;
        'restart: while cycles < quota {
            // First passage from the start to A.
            w.theta.copy_from_slice(&cfg.start);
            let mut k = 0u64;
            if dy.xi(&mut w) > inner {
                let (steps, left) = walk(dy, &mut w, &mut rng, |x| x <= inner)?;
                k = steps;
                if left {
                    out.steps += k;
                    out.t0.push((el(k), false));
                    continue 'restart;
                }
            }
            out.steps += k;
            out.t0.push((el(k), true));
            // Cycles.
            while cycles < quota {
                // A-entrance → B-entrance (or D left).
                let (k, left) = walk(dy, &mut w, &mut rng, |x| x >= outer)?;
                out.steps += k;
                let up = k;
                out.up.push(el(up));
                out.entrances.push((w.theta.clone(), left));
                cycles += 1;
                if left {
                    out.direct_exits += 1;
                    continue 'restart;
                }
                // B-entrance → A (failed cycle) or D left.
                let (k, left) = walk(dy, &mut w, &mut rng, |x| x <= inner)?;
                out.steps += k;
                if left {
                    out.direct_exits += 1;
                    continue 'restart;
                }
                out.loops.push(el(up + k));
            }
        }
        Ok(out)
    }

    /// Continues `path` from its last record state (ξ = its last record) until ξ ≤ `inner`
    /// or D is left; appends the new records.
    fn extend(
        dy: &Dyn,
        w: &mut Walker,
        rng: &mut Xoshiro256PlusPlus,
        inner: f64,
        path: &mut Path,
    ) -> Result<u64, SimError> {
        let d = w.theta.len();
        let last = path.xi.len() - 1;
        w.theta
            .copy_from_slice(&path.states[last * d..(last + 1) * d]);
        let mut max = path.xi[last];
        let mut k = path.steps[last];
        let k0 = k;
        loop {
            if k - k0 >= dy.max_steps {
                return Err(segment_too_long(dy.max_steps));
            }
            if super::super::stop::poll(k - k0 + 1) {
                return Err(SimError::Interrupted);
            }
            k += 1;
            if dy.step(w, rng)? {
                // The exit is the path's last record (ξ = +∞): a level above every
                // finite record is first exceeded there.
                path.score = f64::INFINITY;
                path.xi.push(f64::INFINITY);
                path.steps.push(k);
                path.states.extend_from_slice(&w.theta);
                break;
            }
            let x = dy.xi(w);
            if x <= inner {
                path.score = max;
                break;
            }
            if x > max {
                max = x;
                path.xi.push(x);
                path.steps.push(k);
                path.states.extend_from_slice(&w.theta);
            }
        }
        path.len = k;
        Ok(k - k0)
    }

    /// One generalized AMS replica (Bréhier et al. 2016): returns (p̂, mean steps of the
    /// particles at the end (all left D) when p̂ > 0, steps used).
    fn ams_replica(
        dy: &Dyn,
        dim: usize,
        n_data: usize,
        inner: f64,
        entrances: &[(Vec<f64>, bool)],
        n: usize,
        mut rng: Xoshiro256PlusPlus,
    ) -> Result<(f64, f64, u64), SimError> {
        let mut w = Walker::new(dim, n_data);
        let mut steps = 0u64;
        let mut paths = Vec::with_capacity(n);
        for _ in 0..n {
            let (x0, left) = &entrances[uniform_below(&mut rng, entrances.len() as u64) as usize];
            w.theta.copy_from_slice(x0);
            let mut path = Path {
                xi: vec![if *left { f64::INFINITY } else { dy.xi(&mut w) }],
                steps: vec![0],
                states: x0.clone(),
                score: f64::INFINITY,
                len: 0,
            };
            if !left {
                steps += extend(dy, &mut w, &mut rng, inner, &mut path)?;
            }
            paths.push(path);
        }
        let mut p = 1.0f64;
        loop {
            let z = paths.iter().map(|p| p.score).fold(f64::INFINITY, f64::min);
            if z == f64::INFINITY {
                break;
            }
            let killed: Vec<usize> = (0..n).filter(|&i| paths[i].score <= z).collect();
            let survivors: Vec<usize> = (0..n).filter(|&i| paths[i].score > z).collect();
            if survivors.is_empty() {
                return Ok((0.0, 0.0, steps));
            }
            p *= 1.0 - killed.len() as f64 / n as f64;
            for &i in &killed {
                let j = survivors[uniform_below(&mut rng, survivors.len() as u64) as usize];
                let src = &paths[j];
                // The first record above z: the branching point.
                let r = src.xi.partition_point(|&x| x <= z);
                if src.xi[r] == f64::INFINITY {
                    // Branching at the exit itself: the clone is the whole path.
                    paths[i] = paths[j].clone();
                    continue;
                }
                let mut path = Path {
                    xi: src.xi[..=r].to_vec(),
                    steps: src.steps[..=r].to_vec(),
                    states: src.states[..(r + 1) * dim].to_vec(),
                    score: f64::INFINITY,
                    len: 0,
                };
                steps += extend(dy, &mut w, &mut rng, inner, &mut path)?;
                paths[i] = path;
            }
        }
        let mean_len = paths.iter().map(|p| p.len as f64).sum::<f64>() / n as f64;
        Ok((p, mean_len, steps))
    }
}
