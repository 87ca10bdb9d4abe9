//! The pipeline: spec → landscape → certify / simulate → stats → claims → report.

use crate::certify::hj::HjFamily;
use crate::certify::{certify, Certified, CertifyError};
use crate::checkpoint::{self, Checkpoint, Manifest, RunIdentity};
use crate::claims::{
    evaluate_with, ClaimOptions, DtCheck, ExactMean, PointStatistics, ScalingInstance,
    ScalingSweep, SweepPoint, Verdict,
};
use crate::landscape::{Domain, Landscape, QuadraticHessian};
use crate::landscape::{NoiseModel, Problem};
use crate::report::{self, json, ReportError};
use crate::simulate::splitting::{
    estimate_mean_exit, Coordinate, SplittingConfig, SplittingEstimate,
};
use crate::simulate::{
    merge_results, problem_fingerprint, simulate_with_progress, stop, trajectory_rng, Dynamics,
    Noise, Outcome, Shard, SimConfig, SimError, SimResult,
};
use crate::spec::defaults;
use crate::spec::{CoordinateChoice, DynamicsSpec, Method, Spec, SpecError};
use crate::stats::{
    bootstrap_mean, censored_exponential_mean, exponential_gof, kaplan_meier_median,
    t_interval_mean, Estimate, SequentialPlan, StatsError,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use thiserror::Error;

/// Everything that can stop a run. All of these exit with code 2.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("{0}")]
    Spec(#[from] SpecError),
    #[error("{}: key `{key}`: {source}", file.display())]
    Certify {
        file: PathBuf,
        key: &'static str,
        source: CertifyError,
    },
    #[error("{}: {source}", file.display())]
    Simulate { file: PathBuf, source: SimError },
    #[error("{}: statistics: {source}", file.display())]
    Stats { file: PathBuf, source: StatsError },
    #[error("{0}")]
    Report(#[from] ReportError),
    #[error("{}: key `{key}`: {problem}", file.display())]
    Input {
        file: PathBuf,
        key: String,
        problem: String,
    },
    /// A shard file that cannot be read, or shard files that do not make up one run.
    #[error("{}: {problem}", file.display())]
    Shard { file: PathBuf, problem: String },
    /// `verify --resume` into a folder whose checkpoint is missing or of another run.
    #[error("{}: {problem}", dir.display())]
    Resume { dir: PathBuf, problem: String },
}

impl RunError {
    /// Whether this is a simulation stopped by [`crate::simulate::stop::request_stop`].
    pub fn is_interrupted(&self) -> bool {
        matches!(
            self,
            RunError::Simulate {
                source: SimError::Interrupted,
                ..
            }
        )
    }
}

/// Options of a run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// No progress output on standard error.
    pub quiet: bool,
    /// Rerun every continuous point at dt/2 and report whether the estimates agree.
    pub check_dt: bool,
}

/// A progress bar for one sweep point: drawn on standard error only when it is a
/// terminal, not `quiet`, and once the point has run for more than a second.
struct Progress {
    bar: indicatif::ProgressBar,
    start: Instant,
    shown: std::sync::atomic::AtomicBool,
    enabled: bool,
}

impl Progress {
    fn new(len: u64, message: String, quiet: bool) -> Self {
        use std::io::IsTerminal;
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(len),
            indicatif::ProgressDrawTarget::hidden(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "  {msg} [{bar:30}] {pos}/{len} trajectories ({elapsed}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(message);
        Progress {
            bar,
            start: Instant::now(),
            shown: std::sync::atomic::AtomicBool::new(false),
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    fn update(&self, done: usize) {
        if !self.enabled {
            return;
        }
        if !self.shown.load(std::sync::atomic::Ordering::Relaxed)
            && self.start.elapsed().as_secs_f64() > 1.0
        {
            self.shown.store(true, std::sync::atomic::Ordering::Relaxed);
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        self.bar.set_position(done as u64);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Certifies a spec's problem, mapping failures to the spec key they concern.
pub fn certify_spec(spec: &Spec) -> Result<(Problem, Certified), RunError> {
    let problem = Problem::from_spec(spec)?;
    let d = problem.landscape.dim();
    if d > spec.limits.max_dimension {
        return Err(RunError::Input {
            file: spec.file.clone(),
            key: "landscape".into(),
            problem: format!(
                "the landscape has dimension {d}, above the limit {} (raise `max_dimension` in [limits] to allow it)",
                spec.limits.max_dimension
            ),
        });
    }
    let cert = certify(spec, &problem).map_err(|e| RunError::Certify {
        file: spec.file.clone(),
        key: match e {
            CertifyError::NoMinimum { .. } => "minimum.guess",
            CertifyError::MinimumOutsideDomain { .. } => "domain",
            CertifyError::Undefined(_) => "landscape.expr",
        },
        source: e,
    })?;
    Ok((problem, cert))
}

/// One certified problem instance: the spec itself, or one value of its `[sweep]`.
pub struct Instance<'a> {
    pub spec: &'a Spec,
    pub problem: Problem,
    pub cert: Certified,
}

/// Certifies every problem instance of a spec (one per `[sweep]` value, in order).
pub fn certify_instances(spec: &Spec) -> Result<Vec<Instance<'_>>, RunError> {
    spec.instances()
        .into_iter()
        .map(|s| {
            let (problem, cert) = certify_spec(s)?;
            Ok(Instance {
                spec: s,
                problem,
                cert,
            })
        })
        .collect()
}

/// What the T4 claims need of each instance (THEORY T4; the claims module does not see
/// the spec).
fn scaling_sweep(spec: &Spec, insts: &[Instance<'_>]) -> Option<ScalingSweep> {
    let sw = spec.sweep.as_ref()?;
    Some(ScalingSweep {
        key: sw.key.clone(),
        against: sw.against,
        instances: insts
            .iter()
            .zip(&sw.values)
            .map(|(i, &value)| ScalingInstance {
                value,
                dim: i.problem.landscape.dim(),
                depth: i.cert.depth,
                sharpness: i.cert.sharpness,
                barrier: i.cert.barrier.value,
                barrier_method: i.cert.barrier.method.clone(),
                barrier_discrete: i
                    .cert
                    .barrier_discrete
                    .iter()
                    .map(|b| (b.eta, b.bound.value, b.bound.method.clone()))
                    .collect(),
                hypotheses: i
                    .cert
                    .hypotheses
                    .iter()
                    .map(|h| (h.name.clone(), h.holds, h.detail.clone()))
                    .collect(),
            })
            .collect(),
    })
}

/// Mixed into the spec seed for the `--check-dt` reruns.
pub const DT_CHECK_SALT: u64 = 0x6474_2f32_6368_6b21;

/// The seed of sweep point `index`: a pure function of the spec seed and the index.
pub fn point_seed(seed: u64, index: usize) -> u64 {
    // Reuse the trajectory stream construction with a reserved index range.
    trajectory_rng(seed, u64::MAX - index as u64).next_u64()
}

/// One sweep point to simulate.
struct PointPlan {
    index: usize,
    /// Which problem instance (index into [`certify_instances`]; 0 without `[sweep]`).
    instance: usize,
    start_index: usize,
    start: Vec<f64>,
    dynamics: Dynamics,
    eta: f64,
    batch: u32,
    /// How its mean exit time is estimated (`[monte_carlo] method`).
    method: PointMethod,
}

/// How one sweep point's mean exit time is estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PointMethod {
    /// Trajectories run to exit (or to the step cap).
    Direct,
    /// Adaptive multilevel splitting (src/simulate/splitting.rs).
    Splitting,
}

/// The simulation noise of a problem: every noise model is simulated (isotropic in SIMD
/// lanes, constant Σ by its Cholesky factor, state-dependent Σ(θ) factored at each step).
///
/// `[monte_carlo] noise_scale = c ≠ 1` (fault injection) simulates c²Σ instead of Σ: σ
/// becomes cσ, a constant Σ becomes c²Σ. The certified side keeps Σ, so the verdicts must
/// detect the mismatch. With c = 1 the model is used as it is (bit for bit unchanged).
fn simulation_noise(spec: &Spec, problem: &Problem) -> Result<Noise, RunError> {
    let c = spec.monte_carlo.noise_scale;
    let scaled;
    let model = if c == 1.0 {
        &problem.noise
    } else {
        scaled = match &problem.noise {
            NoiseModel::Isotropic { sigma } => NoiseModel::Isotropic { sigma: c * sigma },
            NoiseModel::Constant { cov } => NoiseModel::Constant {
                cov: cov.iter().map(|v| c * c * v).collect(),
            },
            other => {
                return Err(RunError::Input {
                    file: spec.file.clone(),
                    key: "monte_carlo.noise_scale".into(),
                    problem: format!("cannot scale the noise model {}", other.describe()),
                })
            }
        };
        &scaled
    };
    Noise::from_model(model, problem.landscape.dim()).map_err(|e| RunError::Input {
        file: spec.file.clone(),
        key: "noise".into(),
        problem: e.to_string(),
    })
}

/// The sweep points of a spec, in the order that fixes each point's seed.
fn sweep_plan(spec: &Spec, insts: &[Instance<'_>]) -> Result<Vec<PointPlan>, RunError> {
    let mc = &spec.monte_carlo;
    // Sweep order: instance, start, dynamics, η, B (the point index fixes the point's
    // seed; without [sweep] there is one instance and the order is as before).
    let mut plan = Vec::new();
    for (instance, inst) in insts.iter().enumerate() {
        let (spec, cert) = (inst.spec, &inst.cert);
        let starts = if mc.starts.is_empty() {
            vec![cert.start.clone()]
        } else {
            mc.starts.clone()
        };
        for (i, p) in starts.iter().enumerate() {
            if !cert.domain.contains(p) {
                let within = if insts.len() > 1 {
                    format!(" (instance {} of [sweep])", instance + 1)
                } else {
                    String::new()
                };
                return Err(RunError::Input {
                    file: spec.file.clone(),
                    key: format!("monte_carlo.start[{i}]"),
                    problem: format!(
                        "{p:?} is not inside the domain, the {}{within}",
                        cert.domain.describe()
                    ),
                });
            }
        }
        for (start_index, start) in starts.iter().enumerate() {
            for dynamics in &mc.dynamics {
                for &eta in &spec.eta {
                    for &batch in &spec.batch {
                        plan.push(PointPlan {
                            index: plan.len(),
                            instance,
                            start_index,
                            start: start.clone(),
                            dynamics: match dynamics {
                                DynamicsSpec::Continuous => Dynamics::Continuous,
                                DynamicsSpec::Discrete => Dynamics::Discrete,
                                DynamicsSpec::Minibatch => Dynamics::Minibatch,
                            },
                            eta,
                            batch,
                            method: PointMethod::Direct,
                        });
                    }
                }
            }
        }
    }
    for p in &mut plan {
        p.method = choose_method(spec, &insts[p.instance], p)?;
    }
    Ok(plan)
}

/// The method of a point: `[monte_carlo] method`, and for `"auto"` splitting exactly when
/// the predicted mean exit time ([`predicted_steps`]) exceeds `[splitting] budget` steps.
fn choose_method(spec: &Spec, inst: &Instance<'_>, p: &PointPlan) -> Result<PointMethod, RunError> {
    let mc = &spec.monte_carlo;
    let method = match mc.method {
        Method::Direct => PointMethod::Direct,
        Method::Splitting => PointMethod::Splitting,
        Method::Auto => {
            if predicted_steps(inst, p) > mc.splitting.budget {
                PointMethod::Splitting
            } else {
                PointMethod::Direct
            }
        }
    };
    let split = &mc.splitting;
    if method == PointMethod::Splitting
        && p.dynamics == Dynamics::Minibatch
        && (split.inner_level.is_none() || split.outer_level.is_none())
    {
        return Err(RunError::Input {
            file: spec.file.clone(),
            key: "splitting.inner_level".into(),
            problem: format!(
                "sweep point {} (minibatch η = {} B = {}) uses splitting, which for minibatch SGD needs explicit inner_level and outer_level: the automatic levels come from a short pilot run, which under minibatch noise does not settle near θ*",
                p.index + 1,
                p.eta,
                p.batch
            ),
        });
    }
    Ok(method)
}

/// The mean exit time predicted for a point, in simulation steps (Euler–Maruyama steps of
/// `dt`, or iterations): the lower end of the certified exact E[τ] (E13/E14) where one
/// applies, else exp(V_lo/κ²) from the certified barrier's lower end (THEORY T1/T2:
/// κ² log E → V̄; the discrete barrier V̄_η where certified). A guide for `method = "auto"`,
/// not a bound: the prefactor is left out, and without a certified barrier the prediction
/// is 0 (direct simulation).
fn predicted_steps(inst: &Instance<'_>, p: &PointPlan) -> f64 {
    let (problem, cert) = (&inst.problem, &inst.cert);
    let kappa2 = p.eta / p.batch as f64;
    let dt = inst.spec.monte_carlo.dt;
    if let Some(Ok(ex)) = exact_mean(problem, cert, p) {
        return ex.lo / dt;
    }
    let discrete = cert
        .barrier_discrete
        .iter()
        .find(|b| b.eta == p.eta)
        .and_then(|b| b.bound.value);
    let barrier = match p.dynamics {
        Dynamics::Continuous => cert.barrier.value,
        Dynamics::Discrete | Dynamics::Minibatch => discrete.or(cert.barrier.value),
    };
    let Some(v) = barrier else {
        return 0.0;
    };
    let time = (v.inf().max(0.0) / kappa2).exp();
    match p.dynamics {
        Dynamics::Continuous => time / dt,
        Dynamics::Discrete | Dynamics::Minibatch => time,
    }
}

/// The reaction coordinate of the splitting estimates (`[splitting] coordinate`): with
/// `"certificate"` (the default) in 1-D the signed distance towards the certified exit
/// point, in d > 1 the W of the certified Hamilton–Jacobi certificate with the
/// largest lower bound (C-quad: ½(θ−c)ᵀP(θ−c); C-loss: L − L*; THEORY §3); without one,
/// under isotropic noise, W = 2(L − L*)/σ² (E7: the quasi-potential itself for gradient
/// dynamics with isotropic noise), used as L − L*; else the distance to the certified
/// minimiser.
fn splitting_coordinate(spec: &Spec, problem: &Problem, cert: &Certified) -> Coordinate {
    let distance = Coordinate::Distance {
        centre: cert.start.clone(),
    };
    // (θ − θ*)·u, u the unit vector from θ* towards the certified exit point.
    let towards_exit = || {
        let u: Vec<f64> = cert
            .exit_point
            .iter()
            .zip(&cert.start)
            .map(|(e, c)| e - c)
            .collect();
        let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
        (norm > 0.0 && norm.is_finite()).then(|| Coordinate::Direction {
            centre: cert.start.clone(),
            direction: u.iter().map(|v| v / norm).collect(),
        })
    };
    match spec.monte_carlo.splitting.coordinate {
        CoordinateChoice::Distance => return distance,
        CoordinateChoice::ExitDirection => return towards_exit().unwrap_or(distance),
        CoordinateChoice::Certificate => {}
    }
    // In 1-D the committor of exit is monotone along the line towards the exit point, so
    // that direction orders states as the ideal coordinate does; W and the distance have
    // two-sided level sets whose far side is a dead end (measured on the tilted double
    // well at κ² = 0.035, 200 replicas: effective replicas 165 against 82 for L − L*,
    // intervals ±9 % against ±19 %).
    if cert.start.len() == 1 {
        if let Some(c) = towards_exit() {
            return c;
        }
    }
    let best = cert
        .hj
        .iter()
        .filter(|h| h.lower.is_finite() && h.lower > 0.0)
        .max_by(|a, b| a.lower.total_cmp(&b.lower));
    match best {
        Some(h) if h.family == HjFamily::CQuad && !h.p.is_empty() => Coordinate::Quadratic {
            centre: h.centre.clone(),
            p: h.p.clone(),
        },
        Some(h) if h.family == HjFamily::CLoss => Coordinate::Loss {
            l_star: cert.loss_at_min.mid(),
        },
        _ if problem.noise.isotropic_sigma().is_some() => Coordinate::Loss {
            l_star: cert.loss_at_min.mid(),
        },
        _ => distance,
    }
}

/// The splitting parameters of a spec.
fn splitting_config(spec: &Spec) -> SplittingConfig {
    let s = &spec.monte_carlo.splitting;
    SplittingConfig {
        particles: s.particles,
        replicas: s.replicas,
        cycles: s.cycles,
        inner_level: s.inner_level,
        outer_level: s.outer_level,
    }
}

/// The simulation of a point with `trials` trajectories (all of them).
fn point_config(spec: &Spec, p: &PointPlan, trials: usize) -> SimConfig {
    let mc = &spec.monte_carlo;
    SimConfig {
        dynamics: p.dynamics,
        eta: p.eta,
        batch: p.batch,
        trials,
        seed: point_seed(mc.seed, p.index),
        max_steps: mc.max_steps,
        dt: mc.dt,
        start: p.start.clone(),
        bridge: true,
        shard: Shard::WHOLE,
    }
}

/// The `--check-dt` rerun of a point at dt/2 with `trials` trajectories. An independent
/// stream, so that the two estimates are independent and the overlap of their intervals
/// is a fair comparison.
fn dt_check_config(spec: &Spec, p: &PointPlan, trials: usize) -> SimConfig {
    let mc = &spec.monte_carlo;
    SimConfig {
        dt: 0.5 * mc.dt,
        max_steps: mc.max_steps.saturating_mul(2),
        seed: point_seed(mc.seed ^ DT_CHECK_SALT, p.index),
        ..point_config(spec, p, trials)
    }
}

/// Which run of a point a simulation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunKind {
    /// The point itself (each look of `trials = "auto"`).
    Main,
    /// Its `--check-dt` rerun at dt/2.
    DtCheck,
}

/// Where a point's trajectories come from: a simulation (`verify`), or the merged outcomes
/// of shard files (`merge`). Either way a configuration gives the same result.
type Source<'a> =
    dyn Fn(&PointPlan, RunKind, &SimConfig, String) -> Result<SimResult, RunError> + 'a;

/// Where a splitting point's estimate comes from: the engine (`verify`), or a checkpoint.
type SplitSource<'a> = dyn Fn(
        &PointPlan,
        &SimConfig,
        &SplittingConfig,
        &Coordinate,
        String,
    ) -> Result<SplittingEstimate, RunError>
    + 'a;

/// [`certify_instances`] under `[limits] certify_seconds`
/// ([`crate::certify::deadline`]): the searches stop at the deadline with what they
/// proved, and [`analyse`] then makes every claim INCONCLUSIVE.
fn certify_limited(spec: &Spec) -> Result<Vec<Instance<'_>>, RunError> {
    use crate::certify::deadline;
    deadline::arm(
        spec.limits
            .certify_seconds
            .map(|s| Instant::now() + std::time::Duration::from_secs_f64(s.min(1e9))),
    );
    let insts = certify_instances(spec);
    deadline::disarm();
    insts
}

/// Certifies every instance, builds each instance's simulation noise and the sweep plan
/// (shared by [`verify`] and [`verify_shard`]).
fn prepare(spec: &Spec) -> Result<(Vec<Instance<'_>>, Vec<Noise>, Vec<PointPlan>), RunError> {
    let insts = certify_limited(spec)?;
    let noises = insts
        .iter()
        .map(|i| simulation_noise(i.spec, &i.problem))
        .collect::<Result<Vec<_>, _>>()?;
    let plan = sweep_plan(spec, &insts)?;
    Ok((insts, noises, plan))
}

/// Runs the whole verification and returns report.json's content.
pub fn verify(spec: &Spec, opts: &Options) -> Result<json::Report, RunError> {
    let (insts, noises, plan) = prepare(spec)?;
    let source = |p: &PointPlan, _: RunKind, cfg: &SimConfig, label: String| {
        let i = &insts[p.instance];
        simulate_point(
            spec,
            &i.problem,
            &i.cert,
            &noises[p.instance],
            cfg,
            label,
            opts.quiet,
        )
    };
    let split_source = |p: &PointPlan,
                        cfg: &SimConfig,
                        split: &SplittingConfig,
                        coord: &Coordinate,
                        label: String| {
        let i = &insts[p.instance];
        estimate_point(
            spec,
            &i.problem,
            &i.cert,
            &noises[p.instance],
            (cfg, split, coord),
            label,
            opts.quiet,
        )
    };
    analyse(spec, &insts, &plan, opts, &source, &split_source)
}

/// [`verify`] with checkpoints under `out` (src/checkpoint.rs): every finished chunk of
/// trajectories is stored, so that a run stopped by
/// [`crate::simulate::stop::request_stop`] (a signal, `[limits] simulate_seconds`) or
/// killed continues with `resume = true` to exactly the report of an uninterrupted run.
///
/// Returns the complete report, or when a stop was requested a partial one
/// (`report.partial` set: the finished sweep points, every claim INCONCLUSIVE) — the
/// checkpoint then stays for the resume. Without `resume`, an earlier checkpoint under
/// `out` is discarded; with it, a checkpoint of another spec, seed, option or tool
/// version is refused ([`RunError::Resume`]). The checkpoint is left in place either way;
/// [`Checkpoint::remove`] it once the complete report is written.
pub fn verify_checkpointed(
    spec: &Spec,
    opts: &Options,
    out: &Path,
    resume: bool,
) -> Result<(json::Report, Checkpoint), RunError> {
    let (insts, noises, plan) = prepare(spec)?;
    let manifest = Manifest::new(RunIdentity::new(
        &spec.file,
        &spec.source_text,
        spec.monte_carlo.seed,
        opts.check_dt,
        fingerprint(&insts, &noises),
    ));
    let ck = if resume {
        Checkpoint::resume(out, &manifest)?
    } else {
        Checkpoint::create(out, &manifest)?
    };
    let _deadline = spec.limits.simulate_seconds.map(|secs| {
        Deadline::start(
            secs,
            format!("the wall-clock limit of the simulate stage (limits.simulate_seconds = {secs}) was reached"),
        )
    });
    let source = |p: &PointPlan, kind: RunKind, cfg: &SimConfig, label: String| {
        let i = &insts[p.instance];
        let kind = match kind {
            RunKind::Main => "main",
            RunKind::DtCheck => "dtcheck",
        };
        let mut parts = Vec::new();
        for shard in checkpoint::chunks(cfg.trials) {
            let chunk = SimConfig {
                shard,
                ..cfg.clone()
            };
            if let Some(r) = ck.load(p.index, kind, &chunk) {
                parts.push(r);
                continue;
            }
            if stop::stop_requested() {
                return Err(RunError::Simulate {
                    file: spec.file.clone(),
                    source: SimError::Interrupted,
                });
            }
            let label = if shard.count > 1 {
                format!("{label} (chunk {}/{})", shard.index + 1, shard.count)
            } else {
                label.clone()
            };
            let r = simulate_point(
                spec,
                &i.problem,
                &i.cert,
                &noises[p.instance],
                &chunk,
                label,
                opts.quiet,
            )?;
            ck.save(p.index, kind, &r)?;
            parts.push(r);
        }
        if parts.len() == 1 {
            return Ok(parts.pop().expect("one part"));
        }
        merge_results(&parts).map_err(|source| RunError::Simulate {
            file: spec.file.clone(),
            source,
        })
    };
    let split_source = |p: &PointPlan,
                        cfg: &SimConfig,
                        split: &SplittingConfig,
                        coord: &Coordinate,
                        label: String| {
        if let Some(e) = ck.load_splitting(p.index, cfg, split, coord) {
            return Ok(e);
        }
        if stop::stop_requested() {
            return Err(RunError::Simulate {
                file: spec.file.clone(),
                source: SimError::Interrupted,
            });
        }
        let i = &insts[p.instance];
        let e = estimate_point(
            spec,
            &i.problem,
            &i.cert,
            &noises[p.instance],
            (cfg, split, coord),
            label,
            opts.quiet,
        )?;
        ck.save_splitting(p.index, cfg, split, coord, &e)?;
        Ok(e)
    };
    let rep = analyse(spec, &insts, &plan, opts, &source, &split_source)?;
    Ok((rep, ck))
}

/// A wall-clock limit: a thread that requests a stop when `seconds` have passed, unless
/// the limit is dropped first.
struct Deadline {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Deadline {
    fn start(seconds: f64, reason: String) -> Self {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        let until = Instant::now() + std::time::Duration::from_secs_f64(seconds.min(1e9));
        std::thread::spawn(move || loop {
            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            let now = Instant::now();
            if now >= until {
                stop::request_stop(reason);
                return;
            }
            std::thread::sleep((until - now).min(std::time::Duration::from_millis(50)));
        });
        Deadline { done }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Simulates one configuration (all trajectories, or its shard) with a progress bar
/// counting the trajectories actually run.
fn simulate_point(
    spec: &Spec,
    problem: &Problem,
    cert: &Certified,
    noise: &Noise,
    cfg: &SimConfig,
    label: String,
    quiet: bool,
) -> Result<SimResult, RunError> {
    let progress = Progress::new(cfg.shard.len(cfg.trials) as u64, label, quiet);
    let result = simulate_with_progress(&problem.landscape, &cert.domain, noise, cfg, &|n| {
        progress.update(n)
    })
    .map_err(|source| match source {
        // The noise model is undefined somewhere in D: bad input, named by its key.
        e @ SimError::NoisePositiveDefinite { .. } => RunError::Input {
            file: spec.file.clone(),
            key: "noise".into(),
            problem: e.to_string(),
        },
        source => RunError::Simulate {
            file: spec.file.clone(),
            source,
        },
    })?;
    progress.finish();
    Ok(result)
}

/// A splitting estimate of one point (all replicas) with its error mapped to the spec.
fn estimate_point(
    spec: &Spec,
    problem: &Problem,
    cert: &Certified,
    noise: &Noise,
    (cfg, split, coord): (&SimConfig, &SplittingConfig, &Coordinate),
    label: String,
    quiet: bool,
) -> Result<SplittingEstimate, RunError> {
    if !quiet {
        eprintln!(
            "  {label}: splitting, {} replicas of {} particles, {} cycles",
            split.replicas, split.particles, split.cycles
        );
    }
    estimate_mean_exit(
        &problem.landscape,
        &cert.domain,
        noise,
        cfg,
        split,
        coord,
        spec.monte_carlo.confidence,
    )
    .map_err(|source| match source {
        e @ SimError::NoisePositiveDefinite { .. } => RunError::Input {
            file: spec.file.clone(),
            key: "noise".into(),
            problem: e.to_string(),
        },
        // A level the direct cycles never reach, inner ≥ outer: the [splitting] keys.
        e @ SimError::InvalidParameter { .. } => RunError::Input {
            file: spec.file.clone(),
            key: "splitting".into(),
            problem: e.to_string(),
        },
        source => RunError::Simulate {
            file: spec.file.clone(),
            source,
        },
    })
}

/// Statistics, claims and report from a sweep whose trajectories come from `source`
/// (direct points) and `split_source` (splitting points).
fn analyse(
    spec: &Spec,
    insts: &[Instance<'_>],
    plan: &[PointPlan],
    opts: &Options,
    source: &Source<'_>,
    split_source: &SplitSource<'_>,
) -> Result<json::Report, RunError> {
    let mc = &spec.monte_carlo;
    let mut sweep = Vec::with_capacity(plan.len());
    let mut seeds = Vec::with_capacity(plan.len());
    let mut stopped = false;
    for p in plan {
        let seed = point_seed(mc.seed, p.index);
        let i = &insts[p.instance];
        let point = match p.method {
            PointMethod::Direct => run_point(spec, &i.problem, &i.cert, p, seed, opts, source),
            PointMethod::Splitting => {
                splitting_point(spec, &i.problem, &i.cert, p, seed, opts, split_source)
            }
        };
        match point {
            Ok(point) => sweep.push(point),
            // A requested stop: report what finished, as a partial report.
            Err(e) if e.is_interrupted() => {
                stopped = true;
                break;
            }
            Err(e) => return Err(e),
        }
        seeds.push(seed);
    }
    let (problem, cert) = (&insts[0].problem, &insts[0].cert);
    let scaling = scaling_sweep(spec, insts);
    let mut claims = evaluate_with(
        cert,
        scaling.as_ref(),
        &sweep,
        mc.confidence,
        &ClaimOptions {
            check: spec.claims_check.clone(),
            expect: spec.expect.clone(),
        },
    );
    let partial = stopped.then(|| {
        let reason = stop::stop_reason()
            .unwrap_or("a stop was requested")
            .to_string();
        let (k, n) = (sweep.len(), plan.len());
        // Never a verdict from part of a run: every claim INCONCLUSIVE, saying why.
        overrule(
            &mut claims,
            "partial",
            &format!("partial run: {reason} after {k} of {n} sweep points; `verify --resume` continues it. On the finished points alone:"),
        );
        json::Partial {
            reason,
            finished_points: k,
            points: n,
            resume: format!(
                "escapecert verify {} --out <this folder> --resume",
                spec.file.display()
            ),
        }
    });
    if let (true, Some(secs)) = (
        crate::certify::deadline::reached(),
        spec.limits.certify_seconds,
    ) {
        overrule(
            &mut claims,
            "limit",
            &format!("the certify stage reached its wall-clock limit (limits.certify_seconds = {secs}): its searches stopped with what they had proved, so the bounds depend on this machine's speed and no verdict rests on them; raise the limit."),
        );
    }
    let mut rep = report::build(spec, problem, cert, &sweep, &seeds, &claims);
    rep.partial = partial;
    if let Some(sw) = &spec.sweep {
        let certs: Vec<(&Problem, &Certified)> =
            insts.iter().map(|i| (&i.problem, &i.cert)).collect();
        report::add_sweep(&mut rep, sw, &certs, &sweep);
    }
    Ok(rep)
}

/// Makes every claim INCONCLUSIVE with `cause`, its reason prefixed by `why` (a partial
/// run, a time limit reached: no verdict rests on such a run).
fn overrule(claims: &mut [crate::claims::Claim], cause: &str, why: &str) {
    for c in claims {
        c.verdict = Verdict::Inconclusive;
        c.reason = format!("{why} {}", c.reason);
        c.inconclusive_cause = Some(cause.into());
        c.trials_needed = None;
    }
}

/// The shard file format version. Bump on any incompatible change.
pub const SHARD_FORMAT_VERSION: u32 = 1;

/// What `verify --shard k/n` writes: the outcomes of trajectories k, k+n, … of every
/// sweep point (and of its `--check-dt` rerun), with what `merge` needs to check that
/// shards belong together and to rebuild the report: the spec text itself, its hash,
/// the tool version, the seed. No statistics, no verdicts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardFile {
    /// Always "escapecert-shard".
    pub format: String,
    pub format_version: u32,
    /// The run: tool, spec file, text and hash, seed, `--check-dt`, problem fingerprint.
    #[serde(flatten)]
    pub run: RunIdentity,
    /// Which shard: trajectories `index`, `index + count`, … of each point.
    pub shard: Shard,
    pub points: Vec<ShardPoint>,
}

/// One sweep point's share of trajectories in a shard file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardPoint {
    /// The point's index in the sweep (its row in report.json's `monte_carlo`).
    pub index: usize,
    pub dynamics: Dynamics,
    pub eta: f64,
    pub batch: u32,
    pub start_index: usize,
    /// The point's seed.
    pub seed: u64,
    /// Trajectories of the whole run of the point (`trials`, or the budget of
    /// `trials = "auto"`, whose looks `merge` replays on the merged outcomes).
    pub trials: usize,
    /// Outcomes of this shard's trajectories, in order (trajectory `shard.index + p·count`).
    pub outcomes: Vec<Outcome>,
    /// The `--check-dt` rerun's share, if run.
    pub dt_check: Option<ShardRun>,
}

/// A shard's share of the `--check-dt` rerun of a point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardRun {
    pub seed: u64,
    pub trials: usize,
    pub outcomes: Vec<Outcome>,
}

/// FNV-1a 64 of a spec's text, as `fnv1a64:<hex>`.
pub fn spec_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// The file name of a shard: `shard-k-of-n.json`.
pub fn shard_file_name(shard: Shard) -> String {
    format!("shard-{}-of-{}.json", shard.index, shard.count)
}

/// Runs shard `shard` of every sweep point (and of its `--check-dt` rerun): the part of
/// `verify` that `merge` cannot redo. With `trials = "auto"` the whole budget is run,
/// since where the sequential plan stops depends on all shards' outcomes.
pub fn verify_shard(spec: &Spec, opts: &Options, shard: Shard) -> Result<ShardFile, RunError> {
    shard.validate().map_err(|source| RunError::Simulate {
        file: spec.file.clone(),
        source,
    })?;
    let (insts, noises, plan) = prepare(spec)?;
    if let Some(p) = plan.iter().find(|p| p.method == PointMethod::Splitting) {
        return Err(RunError::Input {
            file: spec.file.clone(),
            key: "monte_carlo.method".into(),
            problem: format!(
                "--shard splits direct trajectories between machines, but sweep point {} ({} η = {} B = {}) uses splitting, whose replicas are not sharded in this version; run it without --shard, or with method = \"direct\"",
                p.index + 1,
                format!("{:?}", p.dynamics).to_lowercase(),
                p.eta,
                p.batch
            ),
        });
    }
    let mc = &spec.monte_carlo;
    let mut points = Vec::with_capacity(plan.len());
    for p in &plan {
        let (problem, cert, noise) = (
            &insts[p.instance].problem,
            &insts[p.instance].cert,
            &noises[p.instance],
        );
        let name = format!("{:?}", p.dynamics).to_lowercase();
        let cfg = SimConfig {
            shard,
            ..point_config(spec, p, mc.trials)
        };
        let label = format!("{name} η = {} B = {} shard {shard}", p.eta, p.batch);
        let r = simulate_point(spec, problem, cert, noise, &cfg, label, opts.quiet)?;
        let dt_check = if opts.check_dt && p.dynamics == Dynamics::Continuous {
            let half = SimConfig {
                shard,
                ..dt_check_config(spec, p, mc.trials)
            };
            let label = format!("dt check η = {} B = {} shard {shard}", p.eta, p.batch);
            let r2 = simulate_point(spec, problem, cert, noise, &half, label, opts.quiet)?;
            Some(ShardRun {
                seed: half.seed,
                trials: half.trials,
                outcomes: r2.outcomes,
            })
        } else {
            None
        };
        if !opts.quiet {
            eprintln!(
                "  {:<10} η = {:<8} B = {:<4} shard {shard}: {} trajectories, {} exits",
                name, p.eta, p.batch, r.trials, r.exits
            );
        }
        points.push(ShardPoint {
            index: p.index,
            dynamics: p.dynamics,
            eta: p.eta,
            batch: p.batch,
            start_index: p.start_index,
            seed: cfg.seed,
            trials: cfg.trials,
            outcomes: r.outcomes,
            dt_check,
        });
    }
    Ok(ShardFile {
        format: "escapecert-shard".into(),
        format_version: SHARD_FORMAT_VERSION,
        run: RunIdentity::new(
            &spec.file,
            &spec.source_text,
            mc.seed,
            opts.check_dt,
            fingerprint(&insts, &noises),
        ),
        shard,
        points,
    })
}

/// Writes a shard file atomically into `dir` (created if missing) as
/// [`shard_file_name`]; returns its path.
pub fn write_shard(dir: &Path, file: &ShardFile) -> Result<PathBuf, RunError> {
    std::fs::create_dir_all(dir).map_err(|source| {
        RunError::Report(ReportError::Io {
            path: dir.to_path_buf(),
            source,
        })
    })?;
    let path = dir.join(shard_file_name(file.shard));
    let mut js = serde_json::to_string(file).map_err(|e| RunError::Report(e.into()))?;
    js.push('\n');
    report::write_atomic(&path, js.as_bytes())?;
    Ok(path)
}

/// Reads a shard file.
pub fn read_shard(path: &Path) -> Result<ShardFile, RunError> {
    let err = |problem: String| RunError::Shard {
        file: path.to_path_buf(),
        problem,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| err(format!("cannot read the file: {e}")))?;
    let f: ShardFile = serde_json::from_str(&text).map_err(|e| {
        err(format!(
            "not an escapecert shard file (line {}, column {}: {e})",
            e.line(),
            e.column()
        ))
    })?;
    if f.format != "escapecert-shard" {
        return Err(err(format!(
            "`format` is {:?}, not \"escapecert-shard\"",
            f.format
        )));
    }
    if f.format_version != SHARD_FORMAT_VERSION {
        return Err(err(format!(
            "shard format version {} (this escapecert reads version {SHARD_FORMAT_VERSION})",
            f.format_version
        )));
    }
    if spec_hash(&f.run.spec_text) != f.run.spec_hash {
        return Err(err(format!(
            "the embedded spec text does not have the recorded hash {} (the file was altered)",
            f.run.spec_hash
        )));
    }
    Ok(f)
}

/// Combines shard files of one run (`verify --shard k/n` for every k < n, any order)
/// into exactly the report the unsharded `verify` writes. Checks that they belong
/// together: same tool version, spec (hash of the text; the path may differ between
/// machines, the report names shard 0's), seed, `--check-dt`, shard count, every shard
/// present exactly once, and the same problem as the embedded spec now certifies.
pub fn merge(paths: &[PathBuf], opts: &Options) -> Result<json::Report, RunError> {
    let Some(first_path) = paths.first() else {
        return Err(RunError::Shard {
            file: PathBuf::from("(no files)"),
            problem: "merge needs at least one shard file".into(),
        });
    };
    let files: Vec<ShardFile> = paths
        .iter()
        .map(|p| read_shard(p))
        .collect::<Result<_, _>>()?;
    let first = &files[0];
    let err = |i: usize, problem: String| RunError::Shard {
        file: paths[i].clone(),
        problem,
    };
    for (i, f) in files.iter().enumerate() {
        let differs = |what: &str, a: String, b: String| {
            err(
                i,
                format!(
                    "{what} is {a}, but {b} in {}: these shards are not of one run",
                    first_path.display()
                ),
            )
        };
        if let Some(d) = f.run.difference(&first.run) {
            return Err(differs(d.what, d.this, d.other));
        }
        if f.shard.count != first.shard.count {
            return Err(differs(
                "the shard count n",
                f.shard.to_string(),
                first.shard.to_string(),
            ));
        }
        if f.run.tool.version != env!("CARGO_PKG_VERSION") {
            return Err(err(
                i,
                format!(
                    "written by escapecert {}, but this is {}: merge with the version that ran the shards",
                    f.run.tool.version,
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
        if let Err(e) = f.shard.validate() {
            return Err(err(i, e.to_string()));
        }
        if let Some(j) = files[..i].iter().position(|g| g.shard == f.shard) {
            return Err(err(
                i,
                format!(
                    "shard {} is given twice (also {})",
                    f.shard,
                    paths[j].display()
                ),
            ));
        }
    }
    let n = first.shard.count;
    if let Some(k) = (0..n).find(|&k| !files.iter().any(|f| f.shard.index == k)) {
        return Err(err(
            0,
            format!("shard {k}/{n} is missing: give all {n} shard files of the run"),
        ));
    }
    // The spec as shard 0 named it (the same text in every shard; only the path given
    // on each machine may differ), so the report does not depend on the files' order.
    let zero = files
        .iter()
        .find(|f| f.shard.index == 0)
        .expect("shard 0 is given");
    let spec = Spec::from_str(Path::new(&zero.run.spec_file), &zero.run.spec_text)?;
    let insts = certify_limited(&spec)?;
    let noises = insts
        .iter()
        .map(|i| simulation_noise(i.spec, &i.problem))
        .collect::<Result<Vec<_>, _>>()?;
    let fp = fingerprint(&insts, &noises);
    let fps: Vec<String> = insts
        .iter()
        .zip(&noises)
        .map(|(i, n)| problem_fingerprint(&i.problem.landscape, &i.cert.domain, n))
        .collect();
    if fp != first.run.problem {
        return Err(err(
            0,
            format!(
                "the spec now gives another problem ({fp}) than the shards simulated ({}): has a data file changed?",
                first.run.problem
            ),
        ));
    }
    let plan = sweep_plan(&spec, &insts)?;
    let mc = &spec.monte_carlo;
    // Per point: the merged whole run, and that of its dt check.
    let mut merged: Vec<(SimResult, Option<SimResult>)> = Vec::with_capacity(plan.len());
    for p in &plan {
        let main = point_config(&spec, p, mc.trials);
        let half = (first.run.check_dt && p.dynamics == Dynamics::Continuous)
            .then(|| dt_check_config(&spec, p, mc.trials));
        let mut parts = Vec::new();
        let mut half_parts = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let Some(sp) = f.points.iter().find(|q| q.index == p.index) else {
                return Err(err(i, format!("sweep point {} is missing", p.index + 1)));
            };
            if sp.seed != main.seed || sp.trials != main.trials {
                return Err(err(
                    i,
                    format!(
                        "sweep point {}: seed {} and {} trials, but the spec gives seed {} and {} trials",
                        p.index + 1,
                        sp.seed,
                        sp.trials,
                        main.seed,
                        main.trials
                    ),
                ));
            }
            let cfg = SimConfig {
                shard: f.shard,
                ..main.clone()
            };
            parts.push(SimResult::from_outcomes(
                &cfg,
                fps[p.instance].clone(),
                sp.outcomes.clone(),
            ));
            match (&half, &sp.dt_check) {
                (Some(h), Some(run)) if run.seed == h.seed && run.trials == h.trials => {
                    let cfg = SimConfig {
                        shard: f.shard,
                        ..h.clone()
                    };
                    half_parts.push(SimResult::from_outcomes(
                        &cfg,
                        fps[p.instance].clone(),
                        run.outcomes.clone(),
                    ));
                }
                (None, None) => {}
                _ => {
                    return Err(err(
                        i,
                        format!(
                            "sweep point {}: its --check-dt run does not match the spec",
                            p.index + 1
                        ),
                    ))
                }
            }
        }
        let merge_err = |e: SimError| RunError::Shard {
            file: first_path.clone(),
            problem: format!("sweep point {}: {e}", p.index + 1),
        };
        let whole = merge_results(&parts).map_err(merge_err)?;
        let whole_half = if half.is_some() {
            Some(merge_results(&half_parts).map_err(merge_err)?)
        } else {
            None
        };
        merged.push((whole, whole_half));
    }
    for (i, f) in files.iter().enumerate() {
        if f.points.len() != plan.len() {
            return Err(err(
                i,
                format!(
                    "{} sweep points, but the spec has {}",
                    f.points.len(),
                    plan.len()
                ),
            ));
        }
    }
    let source = |p: &PointPlan, kind: RunKind, cfg: &SimConfig, _: String| {
        let whole = match kind {
            RunKind::Main => Some(&merged[p.index].0),
            RunKind::DtCheck => merged[p.index].1.as_ref(),
        };
        let same = |w: &SimResult| {
            SimConfig {
                trials: w.config.trials,
                ..cfg.clone()
            } == w.config
        };
        whole
            .filter(|w| same(w))
            .and_then(|w| w.prefix(cfg.trials))
            .ok_or_else(|| RunError::Shard {
                file: first_path.clone(),
                problem: format!(
                    "sweep point {}: the shards hold no run of {} trajectories at seed {} (dt = {})",
                    p.index + 1,
                    cfg.trials,
                    cfg.seed,
                    cfg.dt
                ),
            })
    };
    // verify --shard refuses splitting points, so shards never hold one.
    let split_source =
        |p: &PointPlan, _: &SimConfig, _: &SplittingConfig, _: &Coordinate, _: String| {
            Err(RunError::Shard {
                file: first_path.clone(),
                problem: format!(
                    "sweep point {} uses splitting, which is not sharded",
                    p.index + 1
                ),
            })
        };
    let opts = Options {
        check_dt: first.run.check_dt,
        ..opts.clone()
    };
    analyse(&spec, &insts, &plan, &opts, &source, &split_source)
}

/// The fingerprint of the problems simulated: that of the one instance, or of each
/// `[sweep]` instance joined by `;`.
fn fingerprint(insts: &[Instance<'_>], noises: &[Noise]) -> String {
    insts
        .iter()
        .zip(noises)
        .map(|(i, n)| problem_fingerprint(&i.problem.landscape, &i.cert.domain, n))
        .collect::<Vec<_>>()
        .join(";")
}

/// Estimates one sweep point's mean exit time (and its `--check-dt` rerun), with the
/// trajectories from `source`.
fn run_point(
    spec: &Spec,
    problem: &Problem,
    cert: &Certified,
    p: &PointPlan,
    seed: u64,
    opts: &Options,
    source: &Source<'_>,
) -> Result<SweepPoint, RunError> {
    let mc = &spec.monte_carlo;
    let name = format!("{:?}", p.dynamics).to_lowercase();
    let simulate_cfg =
        |kind: RunKind, cfg: &SimConfig, label: String, level: f64| -> Result<_, RunError> {
            let t0 = Instant::now();
            let result = source(p, kind, cfg, label)?;
            let mean = censored_exponential_mean(&result.exit_times, &result.censor_times, level)
                .map_err(|source| RunError::Stats {
                file: spec.file.clone(),
                source,
            })?;
            Ok((result, mean, t0.elapsed().as_secs_f64()))
        };
    let cfg = point_config(spec, p, mc.trials);
    debug_assert_eq!(cfg.seed, seed);
    let label = format!("{name} η = {} B = {}", p.eta, p.batch);
    let (result, mean, secs) = match mc.precision {
        None => simulate_cfg(RunKind::Main, &cfg, label, mc.confidence)?,
        Some(precision) => {
            // trials = "auto": a group-sequential plan (stats::SequentialPlan): looks at
            // scheduled sizes, each at level 1 − α/K, stop at the requested precision. The
            // first n trajectories of a run are the same whatever its length, so each look
            // reruns trajectories 0..n (at most twice the work of the last look).
            let stats_err = |source| RunError::Stats {
                file: spec.file.clone(),
                source,
            };
            let plan = SequentialPlan::new(
                precision,
                mc.confidence,
                mc.trials,
                defaults::AUTO_FIRST_BATCH.min(mc.trials),
                defaults::AUTO_MAX_LOOKS,
            )
            .map_err(stats_err)?;
            let t0 = Instant::now();
            let mut done = 0;
            let mut last: Option<(SimResult, Estimate)> = None;
            let placeholder = Estimate {
                estimate: f64::NAN,
                lo: f64::NAN,
                hi: f64::NAN,
                level: 0.0,
                n: 0,
                method: String::new(),
            };
            while let Some(more) =
                plan.next_batch(done, last.as_ref().map_or(&placeholder, |l| &l.1))
            {
                let n = done + more;
                let (r, m, _) = simulate_cfg(
                    RunKind::Main,
                    &SimConfig {
                        trials: n,
                        ..cfg.clone()
                    },
                    format!("{label} (look at {n})"),
                    plan.per_look_level(),
                )?;
                done = n;
                last = Some((r, m));
            }
            let (r, m) = last.expect("the plan runs at least one look");
            (r, plan.final_estimate(&m), t0.elapsed().as_secs_f64())
        }
    };
    let statistics = point_statistics(&result, mc.confidence, seed);
    let exact = exact_mean(problem, cert, p);
    if !opts.quiet {
        eprintln!(
            "  {:<10} η = {:<8} B = {:<4} κ² = {:<10.4e} {} trials, {} exits, {} censored, mean {:.4e} [{:.4e}, {:.4e}] ({:.1} s)",
            name,
            p.eta,
            p.batch,
            p.eta / p.batch as f64,
            result.trials,
            result.exits,
            result.censored,
            mean.estimate,
            mean.lo,
            mean.hi,
            secs
        );
    }
    let dt_check = if opts.check_dt && p.dynamics == Dynamics::Continuous {
        let half = dt_check_config(spec, p, result.trials);
        let (_, m2, _) = simulate_cfg(
            RunKind::DtCheck,
            &half,
            format!("dt check η = {} B = {} at dt = {}", p.eta, p.batch, half.dt),
            mc.confidence,
        )?;
        let agrees = m2.overlaps(mean.lo, mean.hi);
        if !opts.quiet {
            eprintln!(
                "    dt check at dt = {}: mean {:.4e} [{:.4e}, {:.4e}] {}",
                half.dt,
                m2.estimate,
                m2.lo,
                m2.hi,
                if agrees { "agrees" } else { "DISAGREES" }
            );
        }
        Some(DtCheck {
            dt: half.dt,
            mean_exit_time: m2,
            agrees,
        })
    } else {
        None
    };
    Ok(SweepPoint {
        instance: p.instance,
        dynamics: p.dynamics,
        eta: p.eta,
        batch: p.batch,
        kappa2: p.eta / p.batch as f64,
        start_index: p.start_index,
        start: p.start.clone(),
        result,
        mean,
        splitting: None,
        dt_check,
        statistics,
        exact,
    })
}

/// Estimates one sweep point's mean exit time by splitting (src/simulate/splitting.rs).
/// The point has no direct trajectories (`result.trials` = 0, no further statistics, no
/// `--check-dt` rerun); its interval is the splitting estimate's.
fn splitting_point(
    spec: &Spec,
    problem: &Problem,
    cert: &Certified,
    p: &PointPlan,
    seed: u64,
    opts: &Options,
    split_source: &SplitSource<'_>,
) -> Result<SweepPoint, RunError> {
    let mc = &spec.monte_carlo;
    let name = format!("{:?}", p.dynamics).to_lowercase();
    let cfg = point_config(spec, p, mc.trials);
    debug_assert_eq!(cfg.seed, seed);
    let split = splitting_config(spec);
    let coord = splitting_coordinate(spec, problem, cert);
    let t0 = Instant::now();
    let label = format!("{name} η = {} B = {}", p.eta, p.batch);
    let e = split_source(p, &cfg, &split, &coord, label)?;
    let mean = Estimate {
        estimate: e.mean,
        lo: e.lower,
        hi: e.upper,
        level: e.level,
        n: e.replicas,
        method: format!(
            "adaptive-multilevel-splitting (E[τ] = E[T0] + q((1/p − 1)E[T_loop] + E[U] + E[V]); delta method over {} replicas, Student t with {} dof on the log scale)",
            e.replicas, e.dof
        ),
    };
    if !opts.quiet {
        eprintln!(
            "  {:<10} η = {:<8} B = {:<4} κ² = {:<10.4e} splitting: P(exit before A) = {:.3e}, mean {:.4e} [{:.4e}, {:.4e}], {} particle-steps ({:.1} s)",
            name,
            p.eta,
            p.batch,
            p.eta / p.batch as f64,
            e.probability,
            e.mean,
            e.lower,
            e.upper,
            e.total_steps,
            t0.elapsed().as_secs_f64()
        );
    }
    let exact = exact_mean(problem, cert, p);
    Ok(SweepPoint {
        instance: p.instance,
        dynamics: p.dynamics,
        eta: p.eta,
        batch: p.batch,
        kappa2: p.eta / p.batch as f64,
        start_index: p.start_index,
        start: p.start.clone(),
        result: SimResult::from_outcomes(&cfg, String::new(), Vec::new()),
        mean,
        splitting: Some(e),
        dt_check: None,
        statistics: PointStatistics::default(),
        exact,
    })
}

/// The certified exact E[τ] of a continuous point under isotropic noise where E13 (1-D,
/// interval domain, any start) or E14 (quadratic built-in λI, ball centred at 0, start at
/// 0) applies; `None` elsewhere.
fn exact_mean(
    problem: &Problem,
    cert: &Certified,
    p: &PointPlan,
) -> Option<Result<ExactMean, String>> {
    let sigma = match (p.dynamics, problem.noise.isotropic_sigma()) {
        (Dynamics::Continuous, Some(sigma)) => sigma,
        _ => return None,
    };
    use crate::certify::exit_time::{
        mean_exit_time_interval, mean_exit_time_radial, DEFAULT_MAX_CELLS, DEFAULT_REL_TOL,
    };
    use crate::num::point;
    use inari::Interval;
    let eps2 = point(p.eta) / point(p.batch as f64) * point(sigma).sqr();
    let r = match (&cert.domain, &problem.landscape) {
        (Domain::Interval { lo, hi }, l) => {
            // Start at the minimiser: the result holds for every θ* in the certified box.
            let x0: Interval = if p.start == cert.start {
                cert.minimizer.x[0]
            } else {
                point(p.start[0])
            };
            mean_exit_time_interval(l, *lo, *hi, x0, eps2, DEFAULT_REL_TOL, DEFAULT_MAX_CELLS)
        }
        (
            Domain::Ball { center, radius },
            l @ Landscape::Quadratic {
                hessian: QuadraticHessian::Scaled(_),
                ..
            },
        ) if center.iter().all(|&c| c == 0.0) && p.start.iter().all(|&c| c == 0.0) => {
            mean_exit_time_radial(l, *radius, eps2, DEFAULT_REL_TOL, DEFAULT_MAX_CELLS)
        }
        _ => return None,
    };
    Some(
        r.map(|e| ExactMean {
            lo: e.mean.inf(),
            hi: e.mean.sup(),
            ln_lo: e.ln_mean.inf(),
            ln_hi: e.ln_mean.sup(),
            method: e.method,
        })
        .map_err(|e| e.to_string()),
    )
}

/// Resamples and simulations of the bootstrap and of the exponential-law test.
pub const STAT_RESAMPLES: usize = crate::claims::GOF_SIMULATIONS;

/// The further statistics of a point: t and bootstrap intervals when nothing is censored,
/// the Kaplan–Meier median, and the exponential-law test of τ/E[τ] (THEORY §7, T3).
/// A statistic that cannot be computed (too few exits) is left out.
fn point_statistics(r: &SimResult, level: f64, seed: u64) -> PointStatistics {
    let uncensored = r.censored == 0;
    PointStatistics {
        mean_t: uncensored
            .then(|| t_interval_mean(&r.exit_times, level).ok())
            .flatten(),
        mean_bootstrap: uncensored
            .then(|| bootstrap_mean(&r.exit_times, level, STAT_RESAMPLES, seed).ok())
            .flatten(),
        median: kaplan_meier_median(&r.exit_times, &r.censor_times, level).ok(),
        exponential_gof: exponential_gof(&r.exit_times, &r.censor_times, STAT_RESAMPLES, seed).ok(),
    }
}
