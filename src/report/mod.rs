//! Reports: `report.json` (versioned, see [`json`]) and `report.md` (for people),
//! written atomically into an output folder.

mod html;
pub mod json;
mod markdown;
pub mod plot;
pub mod regime;
pub mod slopes;

use crate::certify::Certified;
use crate::claims::{Claim, SweepPoint, Verdict};
use crate::landscape::Problem;
use crate::spec::{DynamicsSpec, Spec};
use inari::Interval;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub use html::render_html;
pub use markdown::{fmt_enclosure, fmt_lower, fmt_upper, render_markdown};

/// Errors while writing a report.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("cannot write the report to {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot serialise the report: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Plot(String),
}

fn bounds(x: Interval) -> json::Bounds {
    json::Bounds {
        lo: x.inf(),
        hi: x.sup(),
    }
}

/// The overall verdict: PASS only if every claim passed.
pub fn overall(claims: &[Claim]) -> Verdict {
    if claims.iter().any(|c| c.verdict == Verdict::Fail) {
        Verdict::Fail
    } else if !claims.is_empty() && claims.iter().all(|c| c.verdict == Verdict::Pass) {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    }
}

/// The CLI's exit code for a report with overall verdict `v`: 1 when some claim FAILED;
/// with `strict`, also when some claim is INCONCLUSIVE (or there is none); else 0.
pub fn exit_code(v: Verdict, strict: bool) -> i32 {
    match v {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Inconclusive => i32::from(strict),
    }
}

/// The certified quantities of one problem instance, as report.json holds them.
fn certified(cert: &Certified) -> json::Certified {
    json::Certified {
        minimizer: json::BoxBounds {
            lo: cert.minimizer.x.iter().map(|x| x.inf()).collect(),
            hi: cert.minimizer.x.iter().map(|x| x.sup()).collect(),
        },
        start: cert.start.clone(),
        loss_at_min: bounds(cert.loss_at_min),
        sharpness: bounds(cert.sharpness),
        lambda_min: bounds(cert.lambda_min),
        depth: bounds(cert.depth),
        depth_method: cert.depth_method.clone(),
        barrier: cert.barrier.value.map(bounds),
        steepness: json::Steepness {
            s_minus: bounds(cert.steepness.s_minus),
            s_plus: bounds(cert.steepness.s_plus),
            method: cert.steepness.method.clone(),
            boxes: cert.steepness.boxes,
        },
        barrier_method: json::BarrierMethod {
            lower: cert.barrier_methods.lower.clone(),
            upper: cert.barrier_methods.upper.clone(),
        },
        barrier_lower_family: cert.barrier_lower_family.clone(),
        hj: cert
            .hj
            .iter()
            .map(|h| {
                let d = h.centre.len().max(1);
                json::HjCertificate {
                    family: h.family.name().to_string(),
                    lower: h.lower,
                    coefficient: h.coefficient,
                    gamma: h.gamma,
                    centre: h.centre.clone(),
                    p: h.p.chunks(d).map(|r| r.to_vec()).collect(),
                    inner_radius: h.inner_radius,
                    correction: h.correction,
                    boxes: h.boxes,
                    detail: h.detail.clone(),
                }
            })
            .collect(),
        barrier_discrete: cert
            .barrier_discrete
            .iter()
            .map(|b| json::DiscreteBarrier {
                eta: b.eta,
                barrier: b.bound.value.map(bounds),
                method: b.bound.method.clone(),
                lower_method: b.lower_method.clone(),
                upper_method: b.upper_method.clone(),
                lower_e11: b.hj_lower,
                upper_e10: b.action_upper,
                certificate: b.certificate.as_ref().map(|c| json::DiscreteCertificate {
                    gamma: c.gamma,
                    p: c.p.clone(),
                    center: c.center.clone(),
                    correction: c.correction,
                    boxes: c.boxes,
                    exceptional_boxes: c.exceptional_boxes,
                }),
                path: b.path.clone(),
            })
            .collect(),
        hypotheses: cert
            .hypotheses
            .iter()
            .map(|h| (h.name.clone(), h.holds))
            .collect(),
        hypotheses_detail: cert
            .hypotheses
            .iter()
            .map(|h| (h.name.clone(), h.detail.clone()))
            .collect(),
        boxes: cert.boxes,
        proofs: cert.proofs.clone(),
        barrier_path: cert
            .barrier_path
            .as_ref()
            .filter(|pb| pb.upper().is_finite() && !pb.vertices.is_empty())
            .map(|pb| json::BarrierPath {
                candidate: pb.candidate.clone(),
                vertices: pb.vertices.clone(),
            }),
    }
}

/// Assembles the report.json structure.
pub fn build(
    spec: &Spec,
    problem: &Problem,
    cert: &Certified,
    sweep: &[SweepPoint],
    point_seeds: &[u64],
    claims: &[Claim],
) -> json::Report {
    let mc = &spec.monte_carlo;
    let v = overall(claims);
    let mut report = json::Report {
        format_version: json::FORMAT_VERSION,
        tool: json::Tool {
            name: "escapecert".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        problem: json::Problem {
            spec_name: spec.name.clone(),
            spec_file: spec.file.display().to_string(),
            description: spec.description.clone(),
            landscape: problem.landscape.describe(),
            dim: problem.landscape.dim(),
            domain: cert.domain.describe(),
            noise: problem.noise.describe(),
            eta: spec.eta.clone(),
            batch: spec.batch.clone(),
        },
        settings: json::Settings {
            seed: mc.seed,
            trials: mc.trials,
            confidence: mc.confidence,
            max_steps: mc.max_steps,
            dt: mc.dt,
            dynamics: mc
                .dynamics
                .iter()
                .map(|d| match d {
                    DynamicsSpec::Continuous => "continuous".to_string(),
                    DynamicsSpec::Discrete => "discrete".to_string(),
                    DynamicsSpec::Minibatch => "minibatch".to_string(),
                })
                .collect(),
            max_boxes: spec.max_boxes,
        },
        certified: certified(cert),
        monte_carlo: sweep
            .iter()
            .zip(point_seeds)
            .map(|(p, &seed)| json::MonteCarloPoint {
                dynamics: match p.dynamics {
                    crate::simulate::Dynamics::Continuous => "continuous".into(),
                    crate::simulate::Dynamics::Discrete => "discrete".into(),
                    crate::simulate::Dynamics::Minibatch => "minibatch".into(),
                },
                eta: p.eta,
                batch: p.batch,
                kappa2: p.kappa2,
                method: p.method().into(),
                trials: p.result.trials,
                exits: p.result.exits,
                censored: p.result.censored,
                unit: match p.result.unit {
                    crate::simulate::Unit::Time => "time".into(),
                    crate::simulate::Unit::Iterations => "iterations".into(),
                },
                max_steps: mc.max_steps,
                dt: (p.dynamics == crate::simulate::Dynamics::Continuous).then_some(mc.dt),
                seed,
                start: p.start.clone(),
                mean_exit_time: p.mean.clone(),
                dt_check: p.dt_check.clone(),
                statistics: p.statistics.clone(),
                mean_exit_time_exact: p.exact.clone().and_then(|r| r.ok()),
                mean_exit_time_exact_error: p.exact.clone().and_then(|r| r.err()),
                exp_quantiles: plot::exp_quantiles(
                    &p.result.exit_times,
                    &p.result.censor_times,
                    p.mean.estimate,
                ),
                splitting: p.splitting.clone(),
                sweep: None,
            })
            .collect(),
        claims: claims
            .iter()
            .map(|c| json::Claim {
                id: c.id.clone(),
                statement: c.statement.clone(),
                verdict: c.verdict.as_str().into(),
                reason: c.reason.clone(),
                hypotheses_certified: c.hypotheses_certified,
                certified: c.certified.as_ref().map(|(lo, hi, m)| json::CertifiedSide {
                    lo: *lo,
                    hi: *hi,
                    method: m.clone(),
                    proofs: c.proofs.clone(),
                }),
                estimated: c.estimated.clone(),
                fit: c.fit.as_ref().map(|f| json::Fit {
                    slope: f.slope.clone(),
                    intercept: f.intercept.clone(),
                    chi2: f.chi2,
                    dof: f.dof,
                    p_value: f.p_value,
                }),
                prefactor_fit: c.prefactor_fit.as_ref().map(|f| json::PrefactorFit {
                    slope: f.slope.clone(),
                    log_coefficient: f.log_coefficient.clone(),
                    intercept: f.intercept.clone(),
                    chi2: f.chi2,
                    dof: f.dof,
                    p_value: f.p_value,
                }),
                corrected_fit: c.corrected_fit.clone(),
                model: c.model.clone(),
                points: c.points.clone(),
                excluded: c.excluded.clone(),
                variable: c.variable.clone(),
                predicted_slope: c.predicted_slope.map(|(lo, hi)| json::Bounds { lo, hi }),
                abscissa: c.abscissa.clone(),
                level: c.level,
                p_value: c.p_value,
                proofs: c.proofs.clone(),
                test: c.test.clone(),
                n: c.n,
                inconclusive_cause: c.inconclusive_cause.clone(),
                trials_needed: c.trials_needed,
                details: c.details.clone(),
            })
            .collect(),
        summary: json::Summary {
            verdict: v.as_str().into(),
            exit_code: exit_code(v, false),
            exit_code_strict: exit_code(v, true),
            confidence: mc.confidence,
            error_control: "holm-bonferroni".into(),
            claims: claims.len(),
        },
        landscape_plot: plot::landscape_plot(spec, problem, cert, sweep),
        sweep: None,
        regime: Some(regime::build(problem, cert, sweep)),
        paper: None,
        partial: None,
        local_slopes: slopes::local_slopes(cert, sweep, mc.confidence),
    };
    report.paper = spec
        .paper
        .as_ref()
        .map(|p| crate::paper::compare(p, &report.claims));
    report
}

/// Adds a `[sweep]`'s instances to a report built from its first instance: each
/// instance's certified quantities, and the instance of every Monte Carlo point.
pub fn add_sweep(
    report: &mut json::Report,
    sw: &crate::spec::SweepSpec,
    instances: &[(&Problem, &Certified)],
    sweep: &[SweepPoint],
) {
    for (m, p) in report.monte_carlo.iter_mut().zip(sweep) {
        m.sweep = Some(json::PointInstance {
            instance: p.instance,
            value: sw.values[p.instance],
        });
    }
    report.sweep = Some(json::Sweep {
        key: sw.key.clone(),
        against: sw.against.as_str().into(),
        instances: instances
            .iter()
            .zip(&sw.values)
            .enumerate()
            .map(|(k, ((problem, cert), &value))| json::SweepInstance {
                value,
                landscape: problem.landscape.describe(),
                domain: cert.domain.describe(),
                noise: problem.noise.describe(),
                certified: certified(cert),
                points: (0..sweep.len())
                    .filter(|&i| sweep[i].instance == k)
                    .collect(),
            })
            .collect(),
    });
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `contents` to `path` atomically: a temporary file in the same folder,
/// flushed to disk, then renamed over the target.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), ReportError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(contents).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// Writes `report.json`, `report.md`, `report.html` and `plots/*.svg` into `dir` (created
/// if missing). Everything is rendered in memory first, so a failure never leaves a
/// half-written report; each file is written atomically.
pub fn write(dir: &Path, report: &json::Report) -> Result<(), ReportError> {
    let mut js = serde_json::to_string_pretty(report)?;
    js.push('\n');
    let md = render_markdown(report);
    let plots = plot::render_all(report).map_err(ReportError::Plot)?;
    let html = render_html(report, &md, &plots);
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    if !plots.is_empty() {
        let pd = dir.join("plots");
        std::fs::create_dir_all(&pd).map_err(io_err(&pd))?;
        for (name, svg) in &plots {
            write_atomic(&pd.join(name), svg.as_bytes())?;
        }
    }
    // Plots of an earlier report in this folder (e.g. a partial one) that this report
    // does not have.
    if let Ok(entries) = std::fs::read_dir(dir.join("plots")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.ends_with(".svg") && !plots.iter().any(|(n, _)| *n == name) {
                std::fs::remove_file(e.path()).map_err(io_err(&e.path()))?;
            }
        }
    }
    write_atomic(&dir.join("report.json"), js.as_bytes())?;
    write_atomic(&dir.join("report.md"), md.as_bytes())?;
    write_atomic(&dir.join("report.html"), html.as_bytes())?;
    Ok(())
}
