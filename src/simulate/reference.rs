//! The one-trajectory-at-a-time simulation (tests only): the implementation before
//! lanes, kept as the reference that the lane kernel must reproduce bitwise.

use super::noise::Noise;
use super::{kernel, trajectory_streams, Dynamics, SimConfig, SimResult};
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
pub(crate) struct ScalarIntegrator<'a> {
    pub landscape: &'a Landscape,
    pub noise: &'a Noise,
    /// h: the step multiplying −∇L.
    pub drift_step: f64,
    /// s: the factor multiplying Σ^{1/2} ξ.
    pub noise_scale: f64,
}

impl ScalarIntegrator<'_> {
    #[inline]
    fn step(&self, theta: &[f64], xi: &[f64], next: &mut [f64], bufs: &mut StepBuffers) {
        self.landscape
            .gradient_with(theta, &mut bufs.grad, &mut bufs.scratch);
        let sigma = self
            .noise
            .isotropic_sigma()
            .expect("the reference is isotropic");
        for (o, &z) in bufs.noise.iter_mut().zip(xi) {
            *o = sigma * z;
        }
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
            Domain::Box { lo, hi } => kernel::box_crossing(lo, hi, |_| self.var_h, prev, next),
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
    integrator: &ScalarIntegrator,
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

/// [`super::simulate`] one trajectory at a time (validation aside).
pub(crate) fn simulate_reference(
    landscape: &Landscape,
    domain: &Domain,
    noise: &Noise,
    cfg: &SimConfig,
) -> SimResult {
    let integrator = scalar_integrator(cfg, landscape, noise);
    let bridge = BridgeExit {
        domain,
        var_h: {
            let s = integrator.noise_scale * noise.normal_scale().expect("isotropic");
            s * s
        },
    };
    let grid = GridExit(domain);
    let mut ws = Workspace::new(landscape.dim());
    let outcomes = (0..cfg.shard.len(cfg.trials))
        .map(|p| {
            let (mut rng, mut bridge_rng) = trajectory_streams(cfg.seed, cfg.shard.trajectory(p));
            let o = if cfg.dynamics == Dynamics::Continuous && cfg.bridge {
                run_trajectory(
                    &integrator,
                    &bridge,
                    &cfg.start,
                    cfg.max_steps,
                    &mut rng,
                    &mut bridge_rng,
                    &mut ws,
                )
            } else {
                run_trajectory(
                    &integrator,
                    &grid,
                    &cfg.start,
                    cfg.max_steps,
                    &mut rng,
                    &mut bridge_rng,
                    &mut ws,
                )
            };
            super::Outcome {
                steps: o.steps,
                exited: o.exited,
            }
        })
        .collect();
    SimResult::from_outcomes(
        cfg,
        super::problem_fingerprint(landscape, domain, noise),
        outcomes,
    )
}

/// [`super::sample_positions`] one trajectory at a time.
pub(crate) fn sample_positions_reference(
    landscape: &Landscape,
    noise: &Noise,
    cfg: &SimConfig,
    steps: u64,
) -> Vec<Vec<f64>> {
    let integrator = scalar_integrator(cfg, landscape, noise);
    let mut ws = Workspace::new(landscape.dim());
    (0..cfg.shard.len(cfg.trials))
        .map(|p| {
            let (mut rng, mut unused) = trajectory_streams(cfg.seed, cfg.shard.trajectory(p));
            run_trajectory(
                &integrator,
                &NoExit,
                &cfg.start,
                steps,
                &mut rng,
                &mut unused,
                &mut ws,
            );
            ws.theta.clone()
        })
        .collect()
}

fn scalar_integrator<'a>(
    cfg: &SimConfig,
    landscape: &'a Landscape,
    noise: &'a Noise,
) -> ScalarIntegrator<'a> {
    let (drift_step, noise_scale) = match cfg.dynamics {
        Dynamics::Continuous => (cfg.dt, cfg.kappa_squared().sqrt() * cfg.dt.sqrt()),
        Dynamics::Discrete | Dynamics::Minibatch => {
            (cfg.eta, cfg.eta / f64::from(cfg.batch).sqrt())
        }
    };
    ScalarIntegrator {
        landscape,
        noise,
        drift_step,
        noise_scale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{QuadraticHessian, Tape};
    use crate::simulate::{sample_positions, simulate, Shard};

    fn cfg(
        dynamics: Dynamics,
        eta: f64,
        trials: usize,
        max_steps: u64,
        start: Vec<f64>,
    ) -> SimConfig {
        SimConfig {
            dynamics,
            eta,
            batch: 1,
            trials,
            seed: 99,
            max_steps,
            dt: 0.01,
            start,
            bridge: false,
            shard: Shard::WHOLE,
        }
    }

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    /// The lane kernel equals the one-at-a-time simulation exactly (every outcome), on
    /// 1 and 2 threads, with and without the bridge, for every kind of landscape and
    /// domain, with exits, censoring and diverging (non-finite) states.
    fn check(landscape: &Landscape, domain: &Domain, sigma: f64, c: &SimConfig) {
        let noise = Noise::Isotropic { sigma };
        let mut outcomes = Vec::new();
        for bridge in [false, true] {
            let c = SimConfig {
                bridge,
                ..c.clone()
            };
            let want = simulate_reference(landscape, domain, &noise, &c);
            assert!(want.exits > 0, "{landscape:?}: no exits");
            for threads in [1, 2] {
                // 0: the width chosen for the run (4 for these small runs).
                for lanes in [0, 4, 8, 16, 32] {
                    let got = pool(threads).install(|| {
                        kernel::FORCE_LANES.with(|f| f.set(lanes));
                        let r = simulate(landscape, domain, &noise, &c).unwrap();
                        kernel::FORCE_LANES.with(|f| f.set(0));
                        r
                    });
                    assert_eq!(
                        got, want,
                        "{landscape:?}, bridge {bridge}, {threads} threads, {lanes} lanes"
                    );
                }
            }
            outcomes.push(want.outcomes);
        }
        // The bridge correction really acted (continuous dynamics only).
        assert_eq!(
            outcomes[0] != outcomes[1],
            c.dynamics == Dynamics::Continuous
        );
    }

    #[test]
    fn lanes_equal_one_at_a_time_double_well_tape() {
        let dw = Landscape::Expr(Tape::parse("x^4/4 - x^2/2", None).unwrap());
        let d = Domain::Interval { lo: -1.6, hi: 0.0 };
        // 37 trajectories: lanes refill and drain; the cap censors some.
        check(
            &dw,
            &d,
            0.8,
            &cfg(Dynamics::Continuous, 1.0, 37, 900, vec![-1.0]),
        );
        check(
            &dw,
            &d,
            0.8,
            &cfg(Dynamics::Discrete, 0.3, 37, 400, vec![-1.0]),
        );
    }

    #[test]
    fn lanes_equal_one_at_a_time_general_tape_in_a_ball() {
        let src = "log(1 + x1^2) + 0.3*sin(x2)*tanh(x1) + sqrt(1 + x2^2)/3 + x1^3/7 \
                   - exp(-x2^2) + cos(x1*x2)/(2 + x1^2) + x2^-2*0 + 0.5*x2^2 + (x1 - x2)^6";
        let l = Landscape::Expr(Tape::parse(src, Some(2)).unwrap());
        let d = Domain::Ball {
            center: vec![0.1, 0.5],
            radius: 1.2,
        };
        check(
            &l,
            &d,
            1.0,
            &cfg(Dynamics::Continuous, 0.7, 21, 600, vec![0.2, 0.6]),
        );
    }

    #[test]
    fn lanes_equal_one_at_a_time_builtins() {
        let q = Landscape::Quadratic {
            dim: 5,
            hessian: QuadraticHessian::Scaled(2.0),
        };
        let ball = |d: usize, r: f64| Domain::Ball {
            center: vec![0.0; d],
            radius: r,
        };
        check(
            &q,
            &ball(5, 0.5),
            1.0,
            &cfg(Dynamics::Continuous, 0.1, 19, 2_000, vec![0.0; 5]),
        );
        check(
            &q,
            &ball(5, 0.5),
            1.0,
            &cfg(Dynamics::Discrete, 0.1, 19, 300, vec![0.0; 5]),
        );
        let q60 = Landscape::Quadratic {
            dim: 60,
            hessian: QuadraticHessian::Scaled(3.0),
        };
        check(
            &q60,
            &ball(60, 0.5),
            0.5,
            &cfg(Dynamics::Continuous, 0.1, 13, 3_000, vec![0.0; 60]),
        );
        let full = Landscape::Quadratic {
            dim: 2,
            hessian: QuadraticHessian::Full(vec![2.0, 0.5, 0.5, 1.0]),
        };
        check(
            &full,
            &ball(2, 0.6),
            1.0,
            &cfg(Dynamics::Continuous, 0.2, 25, 3_000, vec![0.0; 2]),
        );
        let st = Landscape::StyblinskiTang { dim: 3 };
        let m = -2.903534;
        let d = Domain::Ball {
            center: vec![m; 3],
            radius: 2.0,
        };
        check(
            &st,
            &d,
            3.0,
            &cfg(Dynamics::Continuous, 1.0, 40, 5_000, vec![m; 3]),
        );
    }

    /// A discrete iteration that blows up: states become infinite and NaN, which count
    /// as exits in both implementations.
    #[test]
    fn lanes_equal_one_at_a_time_when_diverging() {
        let q = Landscape::Expr(Tape::parse("x^4", None).unwrap());
        let d = Domain::Interval {
            lo: -1e300,
            hi: 1e300,
        };
        check(
            &q,
            &d,
            5.0,
            &cfg(Dynamics::Discrete, 3.0, 20, 50, vec![0.5]),
        );
    }

    #[test]
    fn sample_positions_equal_one_at_a_time() {
        let l = Landscape::Expr(Tape::parse("x1^2/2 + x1*x2/3 + x2^4", None).unwrap());
        let noise = Noise::Isotropic { sigma: 0.7 };
        let c = cfg(Dynamics::Continuous, 1.0, 23, 1, vec![0.3, -0.2]);
        for steps in [0, 1, 17, 250] {
            let want = sample_positions_reference(&l, &noise, &c, steps);
            let bits = |v: &Vec<Vec<f64>>| -> Vec<Vec<u64>> {
                v.iter()
                    .map(|x| x.iter().map(|y| y.to_bits()).collect())
                    .collect()
            };
            for lanes in [0, 4, 32] {
                kernel::FORCE_LANES.with(|f| f.set(lanes));
                let got = sample_positions(&l, &noise, &c, steps).unwrap();
                kernel::FORCE_LANES.with(|f| f.set(0));
                assert_eq!(bits(&got), bits(&want), "{steps} steps, {lanes} lanes");
            }
        }
    }
}
