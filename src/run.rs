//! The pipeline: spec → landscape → certify / simulate → stats → claims → report.

use crate::certify::{certify, Certified, CertifyError};
use crate::claims::{evaluate, DtCheck, SweepPoint};
use crate::landscape::Problem;
use crate::report::{self, json, ReportError};
use crate::simulate::{
    simulate_with_progress, trajectory_rng, Dynamics, Noise, SimConfig, SimError,
};
use crate::spec::{DynamicsSpec, Spec, SpecError};
use crate::stats::{censored_exponential_mean, StatsError};
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
    if problem.noise.isotropic_sigma().is_none() {
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
    let Some(sigma) = problem.noise.isotropic_sigma() else {
        unreachable!("checked in verify")
    };
    let noise = Noise::Isotropic { sigma };
    let name = format!("{:?}", p.dynamics).to_lowercase();
    let simulate_cfg = |cfg: &SimConfig, label: String| -> Result<_, RunError> {
        let progress = Progress::new(mc.trials as u64, label, opts.quiet);
        let t0 = Instant::now();
        let result = simulate_with_progress(&problem.landscape, &cert.domain, &noise, cfg, &|n| {
            progress.update(n)
        })
        .map_err(|source| RunError::Simulate {
            file: spec.file.clone(),
            source,
        })?;
        progress.finish();
        let mean =
            censored_exponential_mean(&result.exit_times, &result.censor_times, mc.confidence)
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
    };
    let (result, mean, secs) = simulate_cfg(&cfg, format!("{name} η = {} B = {}", p.eta, p.batch))?;
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
            ..cfg.clone()
        };
        let (_, m2, _) = simulate_cfg(
            &half,
            format!("dt check η = {} B = {} at dt = {}", p.eta, p.batch, half.dt),
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
    })
}
