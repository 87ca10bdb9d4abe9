//! The hot loop: `L` trajectories advanced in lock-step ("lanes"), with per-lane random
//! streams, exit tests, censoring and refill.
//!
//! Every quantity of lane `l` is computed with exactly the f64 operations of a
//! one-trajectory-at-a-time simulation of the trajectory in that lane ([`Lanes`] is
//! lane-wise f64 arithmetic; the normals of [`BufferedNormals`] are bitwise those of
//! `rand_distr` on the trajectory's stream; the exit tests below are the scalar formulas
//! evaluated per lane, with cheap conservative pre-tests that only decide whether the
//! exact formula must run), so the lane a trajectory runs in, its neighbours and the
//! number of workers never change its outcome. `reference.rs` (tests only) keeps the
//! one-at-a-time implementation, and the tests compare the two bitwise.
//!
//! Work distribution: each worker owns `L` lanes (L = 32, 16, 8 or 4, see
//! [`lane_width`]) and pulls the next trajectory from a shared counter whenever one of its
//! lanes finishes, so lanes stay busy until the queue is empty; outcomes are written by
//! trajectory position, so the result does not depend on the scheduling. Idle lanes at
//! the end of the queue keep stepping (their results are dropped).

use super::normals::BufferedNormals;
use super::rng::trajectory_state;
use super::trajectory_streams;
use crate::landscape::{Domain, Landscape, QuadraticHessian, Scratch};
use crate::num::lanes::Lanes;
use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};

/// One step of SGD in either model, as `θ' = θ − h ∇L(θ) + s Σ(θ)^{1/2} ξ`:
/// continuous (E3, Euler–Maruyama) with `h = dt`, `s = κ √dt`; discrete (E1) with
/// `h = η`, `s = η/√B`. Computed as `s·n + (−h·g + θ)` with two fused multiply-adds.
/// The lanes run isotropic noise only, Σ^{1/2} ξ = σξ (other models run one trajectory at
/// a time: `general.rs`).
pub(crate) struct Integrator<'a> {
    pub landscape: &'a Landscape,
    /// σ of Σ = σ²I.
    pub sigma: f64,
    /// h: the step multiplying −∇L.
    pub drift_step: f64,
    /// s: the factor multiplying Σ^{1/2} ξ.
    pub noise_scale: f64,
}

/// Buffers of one worker's step (lane vectors of length d).
struct StepBuffers<const L: usize> {
    grad: Vec<Lanes<L>>,
    noise: Vec<Lanes<L>>,
    scratch: Scratch<Lanes<L>>,
}

impl Integrator<'_> {
    /// `next = θ − h ∇L(θ) + s Σ(θ)^{1/2} ξ` in every lane.
    #[inline]
    fn step<const L: usize>(
        &self,
        theta: &[Lanes<L>],
        xi: &[Lanes<L>],
        next: &mut [Lanes<L>],
        bufs: &mut StepBuffers<L>,
    ) {
        let h = Lanes::splat(-self.drift_step);
        let s = Lanes::splat(self.noise_scale);
        match self.landscape {
            // The commonest case in one pass: ∇L = λθ (as `Landscape::gradient_with`
            // computes it), isotropic noise σξ, and the update.
            Landscape::Quadratic {
                hessian: QuadraticHessian::Scaled(lambda),
                ..
            } => {
                let lambda = Lanes::splat(*lambda);
                let sigma = Lanes::splat(self.sigma);
                for ((y, &x), &z) in next.iter_mut().zip(theta).zip(xi) {
                    let g = lambda * x;
                    let n = sigma * z;
                    *y = s.mul_add(n, h.mul_add(g, x));
                }
            }
            _ => {
                gradient(self.landscape, theta, &mut bufs.grad, &mut bufs.scratch);
                let sigma = Lanes::splat(self.sigma);
                for (o, &z) in bufs.noise.iter_mut().zip(xi) {
                    *o = sigma * z;
                }
                for (((y, &x), &g), &n) in
                    next.iter_mut().zip(theta).zip(&bufs.grad).zip(&bufs.noise)
                {
                    *y = s.mul_add(n, h.mul_add(g, x));
                }
            }
        }
    }
}

/// ∇L in every lane, as [`Landscape::gradient_with`] computes it (the value it also
/// returns is not needed here, and the built-ins skip it).
#[inline]
fn gradient<const L: usize>(
    landscape: &Landscape,
    x: &[Lanes<L>],
    g: &mut [Lanes<L>],
    scratch: &mut Scratch<Lanes<L>>,
) {
    match landscape {
        Landscape::Quadratic {
            hessian: QuadraticHessian::Scaled(lambda),
            ..
        } => {
            let lambda = Lanes::splat(*lambda);
            for (gi, &xi) in g.iter_mut().zip(x) {
                *gi = lambda * xi;
            }
        }
        Landscape::StyblinskiTang { .. } => {
            use crate::num::Scalar;
            let (two, sixteen, half5) = (Lanes::splat(2.0), Lanes::splat(16.0), Lanes::splat(2.5));
            for (gi, &v) in g.iter_mut().zip(x) {
                *gi = two * v.powi(3) - sixteen * v + half5;
            }
        }
        _ => {
            landscape.gradient_with(x, g, scratch);
        }
    }
}

/// Bridge terms with 2 d_k d_{k+1}/(v h) above this have crossing probability below
/// e^{−40} ≈ 4e−18 and are skipped without drawing a uniform.
pub(crate) const BRIDGE_CUTOFF: f64 = 40.0;

/// The exponent 2ab/(vh) of the Brownian-bridge crossing probability for distances `a`,
/// `b` of two consecutive grid states to a flat boundary.
#[inline(always)]
pub(crate) fn bridge_exponent(var_h: f64, a: f64, b: f64) -> f64 {
    2.0 * a * b / var_h
}

/// A bound `t` such that `2ab > t` implies `bridge_exponent(var_h, a, b) > BRIDGE_CUTOFF`
/// as computed in floating point, so that lanes with `2ab > t` can skip the division.
///
/// With t = fl(var_h · fl(40·(1 + 10⁻⁹))) ≥ 40·var_h·(1 + 2⁻⁵²) (two roundings of relative
/// size 2⁻⁵³ each are far smaller than 10⁻⁹), `q = 2ab > t` gives q/var_h > 40 + 40·2⁻⁵²,
/// more than half an ulp of 40 (2⁻⁴⁸) above 40, so fl(q/var_h) > 40. When var_h·40 is not
/// a normal number the bound is +∞ (no lane skips the exact test).
pub(crate) fn bridge_skip_bound(var_h: f64) -> f64 {
    let t = var_h * (BRIDGE_CUTOFF * (1.0 + 1e-9));
    if t.is_normal() {
        t
    } else {
        f64::INFINITY
    }
}

/// exp(−e), or 0 beyond [`BRIDGE_CUTOFF`].
#[inline(always)]
pub(crate) fn bridge_term(e: f64) -> f64 {
    if e > BRIDGE_CUTOFF {
        0.0
    } else {
        (-e).exp()
    }
}

/// Probability that the bridge between `prev` and `next` (both inside) crossed either
/// end of the interval (lo, hi).
#[inline]
pub(crate) fn interval_crossing(lo: f64, hi: f64, var_h: f64, prev: f64, next: f64) -> f64 {
    let p_lo = bridge_term(bridge_exponent(var_h, prev - lo, next - lo));
    let p_hi = bridge_term(bridge_exponent(var_h, hi - prev, hi - next));
    p_lo + p_hi - p_lo * p_hi
}

/// Probability that the bridge between `prev` and `next` (both inside) crossed some face
/// of the box ∏(lo_i, hi_i) (Gobet's approximation, each face treated as a flat boundary
/// with its own distances and its own normal variance `var_h(i)` = v h along e_i): with
/// p_f = exp(−2 d_f d′_f/(v_i h)) per face, the crossings of different faces are treated
/// as independent, q = 1 − Π_f (1 − p_f), accumulated face by face as q ← q + p − q p
/// (faces beyond the cutoff contribute p = 0). For d = 1 this is [`interval_crossing`].
#[inline]
pub(crate) fn box_crossing(
    lo: &[f64],
    hi: &[f64],
    var_h: impl Fn(usize) -> f64,
    prev: &[f64],
    next: &[f64],
) -> f64 {
    let mut q = 0.0;
    for i in 0..lo.len() {
        let v = var_h(i);
        let p_lo = bridge_term(bridge_exponent(v, prev[i] - lo[i], next[i] - lo[i]));
        q = q + p_lo - q * p_lo;
        let p_hi = bridge_term(bridge_exponent(v, hi[i] - prev[i], hi[i] - next[i]));
        q = q + p_hi - q * p_hi;
    }
    q
}

/// |x − c|², summed in coordinate order (as [`Domain::contains`] sums it).
#[inline]
pub(crate) fn squared_distance(x: &[f64], center: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, c) in x.iter().zip(center) {
        let t = a - c;
        s += t * t;
    }
    s
}

/// The bridge-correction streams of the trajectories in a worker's lanes: trajectory
/// `i`'s second stream of [`trajectory_streams`], built (one `long_jump`) only when the
/// trajectory first needs a uniform.
pub(crate) struct BridgeStreams<const L: usize> {
    seed: u64,
    index: [u64; L],
    rng: [Option<Xoshiro256PlusPlus>; L],
}

impl<const L: usize> BridgeStreams<L> {
    fn new(seed: u64) -> Self {
        BridgeStreams {
            seed,
            index: [0; L],
            rng: std::array::from_fn(|_| None),
        }
    }

    fn start(&mut self, l: usize, index: u64) {
        self.index[l] = index;
        self.rng[l] = None;
    }

    /// Lane `l`'s next uniform in [0, 1), as `rand`'s `random::<f64>()`.
    #[cold]
    fn uniform(&mut self, l: usize) -> f64 {
        let (seed, index) = (self.seed, self.index[l]);
        self.rng[l]
            .get_or_insert_with(|| trajectory_streams(seed, index).1)
            .random::<f64>()
    }
}

/// The exit test of one step for all lanes: a bit mask of the lanes that left D between
/// the grid states `prev` and `next`. `memo[l]` is the rule's per-lane memory (the
/// squared distance of the previous state for balls), set by `start_lane`.
pub(crate) trait LaneExit<const L: usize>: Sync {
    fn start_lane(&self, _memo: &mut [f64; L], _l: usize, _start: &[f64]) {}
    fn exited(
        &self,
        prev: &[Lanes<L>],
        next: &[Lanes<L>],
        memo: &mut [f64; L],
        bridge: &mut BridgeStreams<L>,
    ) -> u64;
}

/// Never exits (fixed-length runs).
pub(crate) struct NoExit;

impl<const L: usize> LaneExit<L> for NoExit {
    #[inline]
    fn exited(
        &self,
        _: &[Lanes<L>],
        _: &[Lanes<L>],
        _: &mut [f64; L],
        _: &mut BridgeStreams<L>,
    ) -> u64 {
        0
    }
}

/// Exit when the new grid state lies outside the open interval (lo, hi): exact for
/// discrete SGD, and the uncorrected test for continuous SGD.
pub(crate) struct IntervalGrid {
    pub lo: f64,
    pub hi: f64,
}

/// Lanes with `!(lo < x && x < hi)` (NaN is outside).
#[inline(always)]
fn interval_outside<const L: usize>(lo: f64, hi: f64, x: &Lanes<L>) -> u64 {
    let inside = Lanes::splat(lo).lt_mask(*x) & x.lt_mask(Lanes::splat(hi));
    !inside & Lanes::<L>::full_mask()
}

impl<const L: usize> LaneExit<L> for IntervalGrid {
    #[inline]
    fn exited(
        &self,
        _: &[Lanes<L>],
        next: &[Lanes<L>],
        _: &mut [f64; L],
        _: &mut BridgeStreams<L>,
    ) -> u64 {
        interval_outside(self.lo, self.hi, &next[0])
    }
}

/// Exit when the new grid state lies outside the open ball |θ − c| < r.
pub(crate) struct BallGrid<'a> {
    pub center: &'a [f64],
    pub radius: f64,
}

/// |θ − c|² in every lane, summed in coordinate order.
#[inline(always)]
fn lane_squared_distance<const L: usize>(x: &[Lanes<L>], center: &[f64]) -> Lanes<L> {
    let mut s = Lanes::splat(0.0);
    for (a, &c) in x.iter().zip(center) {
        let t = *a - Lanes::splat(c);
        s = s + t * t;
    }
    s
}

/// Lanes with `!(s < r²)` (NaN is outside).
#[inline(always)]
fn ball_outside<const L: usize>(s: &Lanes<L>, r2: f64) -> u64 {
    !s.lt_mask(Lanes::splat(r2)) & Lanes::<L>::full_mask()
}

impl<const L: usize> LaneExit<L> for BallGrid<'_> {
    #[inline]
    fn exited(
        &self,
        _: &[Lanes<L>],
        next: &[Lanes<L>],
        _: &mut [f64; L],
        _: &mut BridgeStreams<L>,
    ) -> u64 {
        let s = lane_squared_distance(next, self.center);
        ball_outside(&s, self.radius * self.radius)
    }
}

/// Grid exit plus the Brownian-bridge correction (THEORY §7, Gobet 2000): when both grid
/// states are inside D, the continuous path between them still crossed the (locally
/// flat) boundary with probability exp(−2 d_k d_{k+1} / (v h)), where d_k, d_{k+1} are
/// the distances to the boundary and v h = κ²σ² dt is the variance of the noise increment
/// along the normal. For an interval both ends are tested (crossing either), for a ball
/// the distance is r − |θ − c|. A uniform is drawn from the trajectory's second stream
/// only when the probability is positive.
pub(crate) struct IntervalBridge {
    pub lo: f64,
    pub hi: f64,
    /// v h = variance of one step's noise increment along the boundary normal.
    pub var_h: f64,
    /// [`bridge_skip_bound`]`(var_h)`.
    pub skip: f64,
}

impl<const L: usize> LaneExit<L> for IntervalBridge {
    #[inline]
    fn exited(
        &self,
        prev: &[Lanes<L>],
        next: &[Lanes<L>],
        _: &mut [f64; L],
        bridge: &mut BridgeStreams<L>,
    ) -> u64 {
        let (lo, hi, var_h) = (self.lo, self.hi, self.var_h);
        let (p, n) = (prev[0], next[0]);
        let (lo_l, hi_l) = (Lanes::splat(lo), Lanes::splat(hi));
        let inside = lo_l.lt(n).and(n.lt(hi_l));
        // Lanes whose crossing probability is 0 for sure: both terms beyond the cutoff
        // (2ab as `bridge_exponent` computes it, compared without dividing).
        let two = Lanes::splat(2.0);
        let skip = Lanes::splat(self.skip);
        let q_lo = two * (p - lo_l) * (n - lo_l);
        let q_hi = two * (hi_l - p) * (hi_l - n);
        let far = skip.lt(q_lo).and(skip.lt(q_hi));
        if inside.and(far).all() {
            return 0;
        }
        let out = !inside.bits() & Lanes::<L>::full_mask();
        let mut todo = inside.and_not(far).bits();
        let mut crossed = 0u64;
        while todo != 0 {
            let l = todo.trailing_zeros() as usize;
            todo &= todo - 1;
            let q = interval_crossing(lo, hi, var_h, p.0[l], n.0[l]);
            if q > 0.0 && bridge.uniform(l) < q {
                crossed |= 1 << l;
            }
        }
        out | crossed
    }
}

/// [`IntervalBridge`] for a ball; `memo[l]` holds |θ_k − c|² of the lane's current state.
pub(crate) struct BallBridge<'a> {
    pub center: &'a [f64],
    pub radius: f64,
    pub var_h: f64,
    /// [`bridge_skip_bound`]`(var_h)`.
    pub skip: f64,
}

impl<const L: usize> LaneExit<L> for BallBridge<'_> {
    fn start_lane(&self, memo: &mut [f64; L], l: usize, start: &[f64]) {
        memo[l] = squared_distance(start, self.center);
    }

    #[inline]
    fn exited(
        &self,
        _prev: &[Lanes<L>],
        next: &[Lanes<L>],
        memo: &mut [f64; L],
        bridge: &mut BridgeStreams<L>,
    ) -> u64 {
        use crate::num::Scalar;
        let (r, var_h) = (self.radius, self.var_h);
        let s = lane_squared_distance(next, self.center);
        let out = ball_outside(&s, r * r);
        let r_l = Lanes::splat(r);
        let a = r_l - Lanes(*memo).sqrt();
        let b = r_l - s.sqrt();
        let q = Lanes::splat(2.0) * a * b;
        let far = Lanes::splat(self.skip).lt_mask(q);
        *memo = s.0;
        let mut todo = !far & !out & Lanes::<L>::full_mask();
        let mut crossed = 0u64;
        while todo != 0 {
            let l = todo.trailing_zeros() as usize;
            todo &= todo - 1;
            let p = bridge_term(bridge_exponent(var_h, a.0[l], b.0[l]));
            if p > 0.0 && bridge.uniform(l) < p {
                crossed |= 1 << l;
            }
        }
        out | crossed
    }
}

/// Exit when the new grid state lies outside the open box ∏(lo_i, hi_i).
pub(crate) struct BoxGrid<'a> {
    pub lo: &'a [f64],
    pub hi: &'a [f64],
}

/// Lanes with some coordinate outside its (lo_i, hi_i) (NaN is outside).
#[inline(always)]
fn box_outside<const L: usize>(lo: &[f64], hi: &[f64], x: &[Lanes<L>]) -> u64 {
    let mut out = 0u64;
    for ((v, &l), &h) in x.iter().zip(lo).zip(hi) {
        out |= interval_outside(l, h, v);
    }
    out
}

impl<const L: usize> LaneExit<L> for BoxGrid<'_> {
    #[inline]
    fn exited(
        &self,
        _: &[Lanes<L>],
        next: &[Lanes<L>],
        _: &mut [f64; L],
        _: &mut BridgeStreams<L>,
    ) -> u64 {
        box_outside(self.lo, self.hi, next)
    }
}

/// [`IntervalBridge`] for a box, every face with the same normal variance (isotropic
/// noise): [`box_crossing`] per lane, after a conservative pre-test.
pub(crate) struct BoxBridge<'a> {
    pub lo: &'a [f64],
    pub hi: &'a [f64],
    pub var_h: f64,
    /// [`bridge_skip_bound`]`(var_h)`.
    pub skip: f64,
}

impl<const L: usize> LaneExit<L> for BoxBridge<'_> {
    #[inline]
    fn exited(
        &self,
        prev: &[Lanes<L>],
        next: &[Lanes<L>],
        _: &mut [f64; L],
        bridge: &mut BridgeStreams<L>,
    ) -> u64 {
        let out = box_outside(self.lo, self.hi, next);
        // Lanes whose every face term is beyond the cutoff (2ab as `bridge_exponent`
        // computes it, compared without dividing) cannot cross.
        let two = Lanes::splat(2.0);
        let skip = Lanes::splat(self.skip);
        let mut near = 0u64;
        for (((p, n), &lo), &hi) in prev.iter().zip(next).zip(self.lo).zip(self.hi) {
            let (lo_l, hi_l) = (Lanes::splat(lo), Lanes::splat(hi));
            let q_lo = two * (*p - lo_l) * (*n - lo_l);
            let q_hi = two * (hi_l - *p) * (hi_l - *n);
            near |= !skip.lt(q_lo).and(skip.lt(q_hi)).bits();
        }
        let mut todo = near & !out & Lanes::<L>::full_mask();
        let mut crossed = 0u64;
        let d = self.lo.len();
        let (mut a, mut b) = (vec![0.0; d], vec![0.0; d]);
        while todo != 0 {
            let l = todo.trailing_zeros() as usize;
            todo &= todo - 1;
            for i in 0..d {
                a[i] = prev[i].0[l];
                b[i] = next[i].0[l];
            }
            let q = box_crossing(self.lo, self.hi, |_| self.var_h, &a, &b);
            if q > 0.0 && bridge.uniform(l) < q {
                crossed |= 1 << l;
            }
        }
        out | crossed
    }
}

/// How one trajectory ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Steps taken: the exit step, or `max_steps` when censored.
    pub steps: u64,
    /// Whether it left D (otherwise it was censored at `max_steps`).
    pub exited: bool,
}

/// The trajectories of a run (or of one shard of it): position `p = 0 .. count` is
/// trajectory `first + p·stride`.
pub(crate) struct Job<'a> {
    pub integrator: Integrator<'a>,
    pub start: &'a [f64],
    /// Step cap (≥ 1); a trajectory still running then is censored.
    pub max_steps: u64,
    pub seed: u64,
    pub first: u64,
    pub stride: u64,
    pub count: usize,
}

impl Job<'_> {
    fn index(&self, pos: usize) -> u64 {
        self.first + pos as u64 * self.stride
    }
}

/// Runs every trajectory of `job` on `L` lanes per worker, with as many workers as the
/// current rayon pool has threads. Returns the outcomes by position and, when
/// `final_states`, each trajectory's last state (the exit point, or θ at the cap).
pub(crate) fn run_lanes<const L: usize, E: LaneExit<L>>(
    job: &Job,
    exit: &E,
    final_states: bool,
    progress: &(dyn Fn(usize) + Sync),
) -> (Vec<Outcome>, Vec<Vec<f64>>) {
    let queue = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let workers = rayon::current_num_threads()
        .min(job.count.div_ceil(L))
        .max(1);
    let parts: Vec<Vec<Record>> = (0..workers)
        .into_par_iter()
        .map(|_| {
            let mut records = Vec::new();
            worker::<L, E>(job, exit, final_states, &queue, &mut |r| {
                records.push(r);
                progress(finished.fetch_add(1, Ordering::Relaxed) + 1);
            });
            records
        })
        .collect();
    let mut outcomes = vec![
        Outcome {
            steps: 0,
            exited: false
        };
        job.count
    ];
    let mut states = vec![Vec::new(); if final_states { job.count } else { 0 }];
    for r in parts.into_iter().flatten() {
        outcomes[r.pos] = r.outcome;
        if final_states {
            states[r.pos] = r.state;
        }
    }
    (outcomes, states)
}

/// A finished trajectory.
struct Record {
    pos: usize,
    outcome: Outcome,
    state: Vec<f64>,
}

/// One worker: `L` lanes, refilled from `queue` until it is exhausted.
fn worker<const L: usize, E: LaneExit<L>>(
    job: &Job,
    exit: &E,
    final_states: bool,
    queue: &AtomicUsize,
    sink: &mut dyn FnMut(Record),
) {
    let d = job.start.len();
    let zero = Lanes::<L>::splat(0.0);
    let mut theta = vec![zero; d];
    let mut next = vec![zero; d];
    let mut bufs = StepBuffers {
        grad: vec![zero; d],
        noise: vec![zero; d],
        scratch: Scratch::new(),
    };
    // Idle lanes keep stepping on this stream (never all zero); their results are unused.
    let mut normals = BufferedNormals::<L>::new(trajectory_state(job.seed, job.first), d);
    let mut bridge = BridgeStreams::<L>::new(job.seed);
    let mut memo = [0.0f64; L];
    let mut pos = [0usize; L];
    // Steps are counted by one clock per worker: lane l's trajectory has taken
    // `clock − born[l]` steps, and the earliest cap of the active lanes is `next_cap`.
    let mut clock = 0u64;
    let mut born = [0u64; L];
    let mut next_cap = u64::MAX;
    let mut active = 0u64;
    let max_steps = job.max_steps;
    let earliest_cap = |active: u64, born: &[u64; L]| {
        (0..L)
            .filter(|&l| active >> l & 1 == 1)
            .map(|l| born[l].saturating_add(max_steps))
            .min()
            .unwrap_or(u64::MAX)
    };

    let take = || {
        let p = queue.fetch_add(1, Ordering::Relaxed);
        (p < job.count).then_some(p)
    };
    let start_lane = |l: usize,
                      index: u64,
                      theta: &mut [Lanes<L>],
                      normals: &mut BufferedNormals<L>,
                      bridge: &mut BridgeStreams<L>,
                      memo: &mut [f64; L]| {
        for (t, &s) in theta.iter_mut().zip(job.start) {
            t.0[l] = s;
        }
        normals.set_lane(l, trajectory_state(job.seed, index));
        bridge.start(l, index);
        exit.start_lane(memo, l, job.start);
    };
    for l in 0..L {
        match take() {
            Some(p) => {
                start_lane(
                    l,
                    job.index(p),
                    &mut theta,
                    &mut normals,
                    &mut bridge,
                    &mut memo,
                );
                (pos[l], born[l]) = (p, clock);
                active |= 1 << l;
            }
            None => break,
        }
    }
    next_cap = next_cap.min(earliest_cap(active, &born));
    while active != 0 {
        if super::stop::poll(clock + 1) {
            // Cut short: the caller discards the whole run (SimError::Interrupted).
            return;
        }
        let xi = normals.next_step();
        job.integrator.step(&theta, xi, &mut next, &mut bufs);
        let out = exit.exited(&theta, &next, &mut memo, &mut bridge);
        std::mem::swap(&mut theta, &mut next);
        clock += 1;
        let mut done = out & active;
        if clock == next_cap {
            for (l, &b) in born.iter().enumerate() {
                done |= u64::from(clock - b >= max_steps) << l;
            }
            done &= active;
        }
        if done == 0 {
            continue;
        }
        while done != 0 {
            let l = done.trailing_zeros() as usize;
            done &= done - 1;
            let state = if final_states {
                theta.iter().map(|t| t.0[l]).collect()
            } else {
                Vec::new()
            };
            sink(Record {
                pos: pos[l],
                outcome: Outcome {
                    steps: clock - born[l],
                    exited: out >> l & 1 == 1,
                },
                state,
            });
            match take() {
                Some(p) => {
                    start_lane(
                        l,
                        job.index(p),
                        &mut theta,
                        &mut normals,
                        &mut bridge,
                        &mut memo,
                    );
                    (pos[l], born[l]) = (p, clock);
                }
                None => active &= !(1 << l),
            }
        }
        next_cap = earliest_cap(active, &born);
    }
}

#[cfg(test)]
thread_local! {
    /// Tests: the lane width for runs started on this thread (0: chosen as usual).
    pub(crate) static FORCE_LANES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The lane width for `count` trajectories in dimension `d` on `workers` workers.
///
/// Measured on the benchmark problems (1-D tape, d = 100 quadratic): wide lanes amortise
/// the tape walk for small d; for large d the lane vectors of θ, ξ, ∇L and the tape must
/// stay in the L1 cache. Lanes also cost a tail: once the queue is empty, a worker steps
/// all its lanes until its last trajectory ends (about ln L mean exit times), so the
/// width is halved (down to 4) until each lane gets at least 8 trajectories.
fn lane_width(d: usize, count: usize, workers: usize) -> usize {
    #[cfg(test)]
    {
        let forced = FORCE_LANES.with(|f| f.get());
        if forced != 0 {
            return forced;
        }
    }
    let mut lanes = match d {
        0..=2 => 32,
        3..=4 => 16,
        5..=47 => 8,
        _ => 4,
    };
    let per_worker = count.div_ceil(workers.max(1));
    while lanes > 4 && per_worker < 8 * lanes {
        lanes /= 2;
    }
    lanes
}

/// Runs `job` with the exit rule for `domain` (`None`: no exit; `bridge_var_h`: the
/// bridge correction with that variance) on every thread of the current rayon pool,
/// returning outcomes (and final states) by position.
pub(crate) fn run_job(
    job: &Job,
    domain: Option<&Domain>,
    bridge_var_h: Option<f64>,
    final_states: bool,
    progress: &(dyn Fn(usize) + Sync),
) -> (Vec<Outcome>, Vec<Vec<f64>>) {
    let (b, f, p) = (bridge_var_h, final_states, progress);
    match lane_width(job.start.len(), job.count, rayon::current_num_threads()) {
        32 => run_with::<32>(job, domain, b, f, p),
        16 => run_with::<16>(job, domain, b, f, p),
        8 => run_with::<8>(job, domain, b, f, p),
        _ => run_with::<4>(job, domain, b, f, p),
    }
}

fn run_with<const L: usize>(
    job: &Job,
    domain: Option<&Domain>,
    bridge_var_h: Option<f64>,
    final_states: bool,
    progress: &(dyn Fn(usize) + Sync),
) -> (Vec<Outcome>, Vec<Vec<f64>>) {
    let p = progress;
    match (domain, bridge_var_h) {
        (None, _) => run_lanes::<L, _>(job, &NoExit, final_states, p),
        (Some(Domain::Interval { lo, hi }), None) => {
            run_lanes::<L, _>(job, &IntervalGrid { lo: *lo, hi: *hi }, final_states, p)
        }
        (Some(Domain::Interval { lo, hi }), Some(var_h)) => run_lanes::<L, _>(
            job,
            &IntervalBridge {
                lo: *lo,
                hi: *hi,
                var_h,
                skip: bridge_skip_bound(var_h),
            },
            final_states,
            p,
        ),
        (Some(Domain::Ball { center, radius }), None) => run_lanes::<L, _>(
            job,
            &BallGrid {
                center,
                radius: *radius,
            },
            final_states,
            p,
        ),
        (Some(Domain::Box { lo, hi }), None) => {
            run_lanes::<L, _>(job, &BoxGrid { lo, hi }, final_states, p)
        }
        (Some(Domain::Box { lo, hi }), Some(var_h)) => run_lanes::<L, _>(
            job,
            &BoxBridge {
                lo,
                hi,
                var_h,
                skip: bridge_skip_bound(var_h),
            },
            final_states,
            p,
        ),
        (Some(Domain::Ball { center, radius }), Some(var_h)) => run_lanes::<L, _>(
            job,
            &BallBridge {
                center,
                radius: *radius,
                var_h,
                skip: bridge_skip_bound(var_h),
            },
            final_states,
            p,
        ),
    }
}
