//! The pipeline: spec → landscape → certify / simulate → stats → claims → report.

use crate::certify::{certify, Certified, CertifyError};
use crate::claims::{evaluate, DtCheck, SweepPoint};
use crate::landscape::Problem;
use crate::report::{self, json, ReportError};
use crate::simulate::{
    simulate_with_progress, trajectory_rng, Dynamics, Noise, SimConfig, SimError,
};
use crate::spec::{DynamicsSpec, NoiseSpec, Spec, SpecError};
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

/// Runs the whole verification and returns report.json's content.
pub fn verify(spec: &Spec, opts: &Options) -> Result<json::Report, RunError> {
    let (problem, cert) = certify_spec(spec)?;
    let NoiseSpec::Isotropic { sigma } = spec.noise;
    let noise = Noise::Isotropic { sigma };
    let mc = &spec.monte_carlo;
    let mut sweep = Vec::new();
    let mut seeds = Vec::new();
    for dynamics in &mc.dynamics {
        for &eta in &spec.eta {
            for &batch in &spec.batch {
                let index = sweep.len();
                let seed = point_seed(mc.seed, index);
                let dyn_ = match dynamics {
                    DynamicsSpec::Continuous => Dynamics::Continuous,
                    DynamicsSpec::Discrete => Dynamics::Discrete,
                };
                let cfg = SimConfig {
                    dynamics: dyn_,
                    eta,
                    batch,
                    trials: mc.trials,
                    seed,
                    max_steps: mc.max_steps,
                    dt: mc.dt,
                    start: cert.start.clone(),
                    bridge: true,
                };
                let t0 = Instant::now();
                let progress = Progress::new(
                    mc.trials as u64,
                    format!(
                        "{} η = {eta} B = {batch}",
                        format!("{dyn_:?}").to_lowercase()
                    ),
                    opts.quiet,
                );
                let result =
                    simulate_with_progress(&problem.landscape, &cert.domain, &noise, &cfg, &|n| {
                        progress.update(n)
                    })
                    .map_err(|source| RunError::Simulate {
                        file: spec.file.clone(),
                        source,
                    })?;
                progress.finish();
                let mean = censored_exponential_mean(
                    &result.exit_times,
                    &result.censor_times,
                    mc.confidence,
                )
                .map_err(|source| RunError::Stats {
                    file: spec.file.clone(),
                    source,
                })?;
                if !opts.quiet {
                    eprintln!(
                        "  {:<10} η = {:<8} B = {:<4} κ² = {:<10.4e} {} trials, {} exits, {} censored, mean {:.4e} [{:.4e}, {:.4e}] ({:.1} s)",
                        format!("{dyn_:?}").to_lowercase(),
                        eta,
                        batch,
                        eta / batch as f64,
                        result.trials,
                        result.exits,
                        result.censored,
                        mean.estimate,
                        mean.lo,
                        mean.hi,
                        t0.elapsed().as_secs_f64()
                    );
                }
                let dt_check = if opts.check_dt && dyn_ == Dynamics::Continuous {
                    // An independent stream, so that the two estimates are independent
                    // and the overlap of their intervals is a fair comparison.
                    let half = SimConfig {
                        dt: 0.5 * mc.dt,
                        max_steps: mc.max_steps.saturating_mul(2),
                        seed: point_seed(mc.seed ^ DT_CHECK_SALT, index),
                        ..cfg.clone()
                    };
                    let progress = Progress::new(
                        mc.trials as u64,
                        format!("dt check η = {eta} B = {batch} at dt = {}", half.dt),
                        opts.quiet,
                    );
                    let r2 = simulate_with_progress(
                        &problem.landscape,
                        &cert.domain,
                        &noise,
                        &half,
                        &|n| progress.update(n),
                    )
                    .map_err(|source| RunError::Simulate {
                        file: spec.file.clone(),
                        source,
                    })?;
                    progress.finish();
                    let m2 =
                        censored_exponential_mean(&r2.exit_times, &r2.censor_times, mc.confidence)
                            .map_err(|source| RunError::Stats {
                                file: spec.file.clone(),
                                source,
                            })?;
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
                sweep.push(SweepPoint {
                    dynamics: dyn_,
                    eta,
                    batch,
                    kappa2: eta / batch as f64,
                    result,
                    mean,
                    dt_check,
                });
                seeds.push(seed);
            }
        }
    }
    let claims = evaluate(&cert, &sweep, mc.confidence);
    Ok(report::build(
        spec, &problem, &cert, &sweep, &seeds, &claims,
    ))
}
