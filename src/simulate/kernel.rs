//! The per-trajectory hot loop: one integrator step, the exit test, and the loop with
//! its caller-owned workspace (no allocation per step or per trajectory).

use super::noise::Noise;
use crate::landscape::{Domain, Landscape, Scratch};
use rand::Rng;
use rand_distr::StandardNormal;

/// Target number of standard normals drawn per refill of a workspace's buffer.
///
/// Drawing normals in blocks, apart from the update, keeps the ziggurat's branches out of
/// the (latency-bound) update chain. The stream is unchanged: ξ_k is the same draw whatever
/// the block size, because each trajectory's generator is its own.
const NORMALS_PER_BLOCK: usize = 512;

/// One step of SGD in either model, as `θ' = θ − h ∇L(θ) + s Σ(θ)^{1/2} ξ`:
/// continuous (E3, Euler–Maruyama) with `h = dt`, `s = κ √dt`; discrete (E1) with
/// `h = η`, `s = η/√B`.
pub(crate) struct Integrator<'a> {
    pub landscape: &'a Landscape,
    pub noise: &'a Noise,
    /// h: the step multiplying −∇L.
    pub drift_step: f64,
    /// s: the factor multiplying Σ^{1/2} ξ.
    pub noise_scale: f64,
}

impl Integrator<'_> {
    #[inline]
    fn step(&self, theta: &[f64], xi: &[f64], next: &mut [f64], bufs: &mut StepBuffers) {
        self.landscape
            .gradient_with(theta, &mut bufs.grad, &mut bufs.scratch);
        self.noise.apply_noise(theta, xi, &mut bufs.noise);
        let (h, s) = (-self.drift_step, self.noise_scale);
        for (((y, &x), &g), &n) in next.iter_mut().zip(theta).zip(&bufs.grad).zip(&bufs.noise) {
            *y = s.mul_add(n, h.mul_add(g, x));
        }
    }
}

/// Decides whether a path left D on the step between two consecutive grid states.
/// `u` is a separate per-trajectory stream for rules that need extra randomness.
pub(crate) trait ExitRule {
    fn exited<R: Rng>(&self, prev: &[f64], next: &[f64], u: &mut R) -> bool;
}

/// Exit when the new grid state lies outside the open domain D.
///
/// Used for discrete SGD (exact: no path between iterates) and for continuous SGD when
/// the bridge correction is switched off.
pub(crate) struct GridExit<'a>(pub &'a Domain);

impl ExitRule for GridExit<'_> {
    #[inline]
    fn exited<R: Rng>(&self, _prev: &[f64], next: &[f64], _u: &mut R) -> bool {
        !self.0.contains(next)
    }
}

/// Grid exit plus the Brownian-bridge correction (THEORY §7, Gobet 2000): when both grid
/// states are inside D, the continuous path between them still crossed the (locally
/// flat) boundary with probability exp(−2 d_k d_{k+1} / (v h)), where d_k, d_{k+1} are the
/// distances to the boundary and v h = κ²σ² dt is the variance of the noise increment
/// along the normal. For an interval both ends are tested (crossing either), for a ball
/// the distance is r − |θ − c|. The uniforms come from the trajectory's second stream.
pub(crate) struct BridgeExit<'a> {
    pub domain: &'a Domain,
    /// v h = variance of one step's noise increment along the boundary normal.
    pub var_h: f64,
}

/// Bridge terms with 2 d_k d_{k+1}/(v h) above this have crossing probability below
/// e^{−40} ≈ 4e−18 and are skipped without drawing a uniform.
const BRIDGE_CUTOFF: f64 = 40.0;

impl BridgeExit<'_> {
    /// Probability that the bridge between the two grid states crossed ∂D.
    #[inline]
    pub fn crossing_probability(&self, prev: &[f64], next: &[f64]) -> f64 {
        let one = |a: f64, b: f64| {
            let e = 2.0 * a * b / self.var_h;
            if e > BRIDGE_CUTOFF {
                0.0
            } else {
                (-e).exp()
            }
        };
        match self.domain {
            Domain::Interval { lo, hi } => {
                let p_lo = one(prev[0] - lo, next[0] - lo);
                let p_hi = one(hi - prev[0], hi - next[0]);
                p_lo + p_hi - p_lo * p_hi
            }
            Domain::Ball { center, radius } => {
                let dist = |x: &[f64]| {
                    let mut s = 0.0;
                    for (a, c) in x.iter().zip(center) {
                        let t = a - c;
                        s += t * t;
                    }
                    radius - s.sqrt()
                };
                one(dist(prev), dist(next))
            }
        }
    }
}

impl ExitRule for BridgeExit<'_> {
    #[inline]
    fn exited<R: Rng>(&self, prev: &[f64], next: &[f64], u: &mut R) -> bool {
        if !self.domain.contains(next) {
            return true;
        }
        let p = self.crossing_probability(prev, next);
        p > 0.0 && u.random::<f64>() < p
    }
}

/// Never exits (fixed-length runs, e.g. [`super::sample_positions`]).
pub(crate) struct NoExit;

impl ExitRule for NoExit {
    #[inline]
    fn exited<R: Rng>(&self, _prev: &[f64], _next: &[f64], _u: &mut R) -> bool {
        false
    }
}

/// Buffers the step writes into besides the state.
struct StepBuffers {
    grad: Vec<f64>,
    noise: Vec<f64>,
    scratch: Scratch<f64>,
}

/// Caller-owned buffers for one worker; reused for every trajectory it runs.
pub(crate) struct Workspace {
    dim: usize,
    /// The current state θ_k; after a run, the final state (the exit point if it exited).
    pub theta: Vec<f64>,
    next: Vec<f64>,
    normals: Vec<f64>,
    block_steps: u64,
    bufs: StepBuffers,
}

impl Workspace {
    pub fn new(dim: usize) -> Self {
        let block_steps = (NORMALS_PER_BLOCK / dim.max(1)).max(1);
        Workspace {
            dim,
            theta: vec![0.0; dim],
            next: vec![0.0; dim],
            normals: vec![0.0; block_steps * dim],
            block_steps: block_steps as u64,
            bufs: StepBuffers {
                grad: vec![0.0; dim],
                noise: vec![0.0; dim],
                scratch: Scratch::new(),
            },
        }
    }
}

/// How one trajectory ended.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Outcome {
    /// Steps taken: the exit step, or `max_steps` when censored.
    pub steps: u64,
    pub exited: bool,
}

/// Runs one trajectory from `start` for at most `max_steps` steps.
///
/// Exit is tested after every step k = 1, 2, …: θ_0 = `start` is never tested (callers
/// check it lies in D). A run that reaches `max_steps` without exiting is censored.
pub(crate) fn run_trajectory<E: ExitRule, R: Rng>(
    integrator: &Integrator,
    exit: &E,
    start: &[f64],
    max_steps: u64,
    rng: &mut R,
    bridge_rng: &mut R,
    ws: &mut Workspace,
) -> Outcome {
    let d = ws.dim;
    let Workspace {
        theta,
        next,
        normals,
        block_steps,
        bufs,
        ..
    } = ws;
    theta.copy_from_slice(start);
    let mut k = 0u64;
    while k < max_steps {
        // Never draw normals past the cap (short runs would waste most of a block).
        let n = (*block_steps).min(max_steps - k) as usize;
        let block = &mut normals[..n * d];
        for z in block.iter_mut() {
            *z = rng.sample(StandardNormal);
        }
        for xi in block.chunks_exact(d) {
            integrator.step(theta, xi, next, bufs);
            k += 1;
            let out = exit.exited(theta, next, bridge_rng);
            std::mem::swap(theta, next);
            if out {
                return Outcome {
                    steps: k,
                    exited: true,
                };
            }
        }
    }
    Outcome {
        steps: max_steps,
        exited: false,
    }
}
