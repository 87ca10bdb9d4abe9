//! The pipeline: spec → landscape → certify / simulate → stats → claims → report.

use crate::certify::{certify, Certified, CertifyError};
use crate::claims::{evaluate, DtCheck, ExactMean, PointStatistics, SweepPoint};
use crate::landscape::Problem;
use crate::landscape::{Domain, Landscape, QuadraticHessian};
use crate::report::{self, json, ReportError};
use crate::simulate::{
    simulate_minibatch, simulate_with_progress, trajectory_rng, Dynamics, Noise, SimConfig,
    SimError, SimResult,
};
use crate::spec::defaults;
use crate::spec::{DynamicsSpec, Spec, SpecError};
use crate::stats::{
    bootstrap_mean, censored_exponential_mean, exponential_gof, kaplan_meier_median,
    t_interval_mean, Estimate, SequentialPlan, StatsError,
};
use rand::RngCore;
use std::path::PathBuf;
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
    start_index: usize,
    start: Vec<f64>,
    dynamics: Dynamics,
    eta: f64,
    batch: u32,
}

/// Runs the whole verification and returns report.json's content.
pub fn verify(spec: &Spec, opts: &Options) -> Result<json::Report, RunError> {
    let (problem, cert) = certify_spec(spec)?;
    // Minibatch SGD (E2) draws its noise from the data; the Gaussian dynamics need σ.
    let gaussian = spec
        .monte_carlo
        .dynamics
        .iter()
        .any(|d| *d != DynamicsSpec::Minibatch);
    if gaussian && problem.noise.isotropic_sigma().is_none() {
        return Err(RunError::Input {
            file: spec.file.clone(),
            key: "noise.kind".into(),
            problem: "the Monte Carlo of this version simulates isotropic noise only; `escapecert certify` certifies this noise model".into(),
        });
    }
    let mc = &spec.monte_carlo;
    let starts = if mc.starts.is_empty() {
        vec![cert.start.clone()]
    } else {
        mc.starts.clone()
    };
    for (i, p) in starts.iter().enumerate() {
        if !cert.domain.contains(p) {
            return Err(RunError::Input {
                file: spec.file.clone(),
                key: format!("monte_carlo.start[{i}]"),
                problem: format!(
                    "{p:?} is not inside the domain, the {}",
                    cert.domain.describe()
                ),
            });
        }
    }
    // Sweep order: start, dynamics, η, B (the point index fixes the point's seed).
    let mut plan = Vec::new();
    for (start_index, start) in starts.iter().enumerate() {
        for dynamics in &mc.dynamics {
            for &eta in &spec.eta {
                for &batch in &spec.batch {
                    plan.push(PointPlan {
                        index: plan.len(),
                        start_index,
                        start: start.clone(),
                        dynamics: match dynamics {
                            DynamicsSpec::Continuous => Dynamics::Continuous,
                            DynamicsSpec::Discrete => Dynamics::Discrete,
                            DynamicsSpec::Minibatch => Dynamics::Minibatch,
                        },
                        eta,
                        batch,
                    });
                }
            }
        }
    }
    let mut sweep = Vec::with_capacity(plan.len());
    let mut seeds = Vec::with_capacity(plan.len());
    for p in &plan {
        let seed = point_seed(mc.seed, p.index);
        sweep.push(run_point(spec, &problem, &cert, p, seed, opts)?);
        seeds.push(seed);
    }
    let claims = evaluate(&cert, &sweep, mc.confidence);
    Ok(report::build(
        spec, &problem, &cert, &sweep, &seeds, &claims,
    ))
}

/// Simulates one sweep point (and its `--check-dt` rerun) and estimates its mean exit time.
fn run_point(
    spec: &Spec,
    problem: &Problem,
    cert: &Certified,
    p: &PointPlan,
    seed: u64,
    opts: &Options,
) -> Result<SweepPoint, RunError> {
    let mc = &spec.monte_carlo;
    // `None` only for minibatch points (checked in verify), which take no Gaussian noise.
    let noise = problem
        .noise
        .isotropic_sigma()
        .map(|sigma| Noise::Isotropic { sigma });
    let name = format!("{:?}", p.dynamics).to_lowercase();
    let simulate_cfg = |cfg: &SimConfig, label: String, level: f64| -> Result<_, RunError> {
        let progress = Progress::new(cfg.trials as u64, label, opts.quiet);
        let t0 = Instant::now();
        let result = match &noise {
            _ if cfg.dynamics == Dynamics::Minibatch => {
                simulate_minibatch(&problem.landscape, &cert.domain, cfg, &|n| {
                    progress.update(n)
                })
            }
            Some(noise) => {
                simulate_with_progress(&problem.landscape, &cert.domain, noise, cfg, &|n| {
                    progress.update(n)
                })
            }
            None => unreachable!("checked in verify"),
        }
        .map_err(|source| RunError::Simulate {
            file: spec.file.clone(),
            source,
        })?;
        progress.finish();
        let mean = censored_exponential_mean(&result.exit_times, &result.censor_times, level)
            .map_err(|source| RunError::Stats {
                file: spec.file.clone(),
                source,
            })?;
        Ok((result, mean, t0.elapsed().as_secs_f64()))
    };
    let cfg = SimConfig {
        dynamics: p.dynamics,
        eta: p.eta,
        batch: p.batch,
        trials: mc.trials,
        seed,
        max_steps: mc.max_steps,
        dt: mc.dt,
        start: p.start.clone(),
        bridge: true,
        shard: Default::default(),
    };
    let label = format!("{name} η = {} B = {}", p.eta, p.batch);
    let (result, mean, secs) = match mc.precision {
        None => simulate_cfg(&cfg, label, mc.confidence)?,
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
    let exact = match (p.dynamics, problem.noise.isotropic_sigma()) {
        (Dynamics::Continuous, Some(sigma)) => exact_mean(problem, cert, p, sigma),
        _ => None,
    };
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
        // An independent stream, so that the two estimates are independent and the
        // overlap of their intervals is a fair comparison.
        let half = SimConfig {
            dt: 0.5 * mc.dt,
            max_steps: mc.max_steps.saturating_mul(2),
            seed: point_seed(mc.seed ^ DT_CHECK_SALT, p.index),
            trials: result.trials,
            ..cfg.clone()
        };
        let (_, m2, _) = simulate_cfg(
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
        dynamics: p.dynamics,
        eta: p.eta,
        batch: p.batch,
        kappa2: p.eta / p.batch as f64,
        start_index: p.start_index,
        start: p.start.clone(),
        result,
        mean,
        dt_check,
        statistics,
        exact,
    })
}

/// The certified exact E[τ] of a continuous point where E13 (1-D, interval domain, any
/// start) or E14 (quadratic built-in λI, ball centred at 0, start at 0) applies.
fn exact_mean(
    problem: &Problem,
    cert: &Certified,
    p: &PointPlan,
    sigma: f64,
) -> Option<Result<ExactMean, String>> {
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
pub const STAT_RESAMPLES: usize = 999;

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
