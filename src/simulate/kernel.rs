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
pub(crate) trait ExitRule {
    fn exited(&self, prev: &[f64], next: &[f64]) -> bool;
}

/// Exit when the new grid state lies outside the open domain D.
///
/// This slice tests grid points only. For continuous dynamics the Brownian-bridge
/// correction of THEORY §7 (Gobet 2000) belongs here, as another rule: with distances
/// d_k, d_{k+1} > 0 of `prev` and `next` to the (locally flat) boundary and normal noise
/// variance v, the path also crossed with probability exp(−2 d_k d_{k+1}/(v h)). Its
/// uniforms should come from a second per-trajectory stream so the normals, and hence
/// the uncorrected paths, stay the same.
pub(crate) struct GridExit<'a>(pub &'a Domain);

impl ExitRule for GridExit<'_> {
    #[inline]
    fn exited(&self, _prev: &[f64], next: &[f64]) -> bool {
        !self.0.contains(next)
    }
}

/// Never exits (fixed-length runs, e.g. [`super::sample_positions`]).
pub(crate) struct NoExit;

impl ExitRule for NoExit {
    #[inline]
    fn exited(&self, _prev: &[f64], _next: &[f64]) -> bool {
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
            let out = exit.exited(theta, next);
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
