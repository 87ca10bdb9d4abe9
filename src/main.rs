//! The escapecert command line: a thin layer over the library.
//!
//! Exit codes: 0 no claim failed (every claim PASS, or some INCONCLUSIVE: the headline
//! verdict says which); 1 some claim FAILED, or with `verify --strict` also some claim
//! INCONCLUSIVE; 2 bad input (spec, landscape, domain) or an internal error.

use anyhow::Result;
use clap::{Parser, Subcommand};
use escapecert::report::{self, fmt_enclosure, json::Bounds};
use escapecert::run::{self, Options};
use escapecert::simulate::Shard;
use escapecert::spec::Spec;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "escapecert",
    version,
    about = "Certified bounds and controlled Monte Carlo for SGD escape from sharp minima"
)]
struct Cli {
    /// Worker threads for the Monte Carlo (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Certify, simulate, verdict every claim, and write a report folder.
    Verify {
        /// The spec file (TOML).
        spec: PathBuf,
        /// The output folder (report.md, report.json, report.html, plots/).
        #[arg(long)]
        out: PathBuf,
        /// No progress output.
        #[arg(long)]
        quiet: bool,
        /// Rerun each continuous point at dt/2 and report whether the estimates agree.
        #[arg(long)]
        check_dt: bool,
        /// Exit 1 also when some claim is INCONCLUSIVE (not only when one FAILED).
        #[arg(long)]
        strict: bool,
        /// Run only trajectories k, k+n, k+2n, … of every sweep point and write
        /// DIR/shard-k-of-n.json (outcomes only, no verdicts); combine the n shard files
        /// with `escapecert merge`.
        #[arg(long, value_name = "K/N", value_parser = parse_shard, allow_hyphen_values = true)]
        shard: Option<Shard>,
        /// Continue the run checkpointed in DIR (after Ctrl-C, SIGTERM, a kill or a
        /// wall-clock limit) instead of starting afresh; refused when the spec, seed,
        /// options or escapecert version changed.
        #[arg(long, conflicts_with = "shard")]
        resume: bool,
    },
    /// Combine the shard files of one run into exactly the report `verify` writes.
    Merge {
        /// The shard files (shard-k-of-n.json for every k < n), in any order.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// The output folder (report.md, report.json, report.html, plots/).
        #[arg(long)]
        out: PathBuf,
        /// No progress output.
        #[arg(long)]
        quiet: bool,
        /// Exit 1 also when some claim is INCONCLUSIVE (not only when one FAILED).
        #[arg(long)]
        strict: bool,
    },
    /// Print the certified quantities of a spec (no simulation).
    Certify {
        /// The spec file (TOML).
        spec: PathBuf,
        /// Also write the evidence behind every bound to this JSON file (for `recheck`).
        #[arg(long)]
        certificate: Option<PathBuf>,
    },
    /// Re-run a spec as `verify` does and compare with a baseline report.json (regression
    /// mode). Exit 0 no regression, 1 some regression, 2 bad input.
    Check {
        /// The spec file (TOML).
        spec: PathBuf,
        /// The baseline report.json (written by `verify` for the same spec).
        #[arg(long)]
        baseline: PathBuf,
        /// Also write the new report (report.md, report.json) to this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress output.
        #[arg(long)]
        quiet: bool,
        /// Warn when a certified enclosure is wider than (1 + this) × the baseline's.
        #[arg(long, default_value_t = escapecert::check::DEFAULT_WIDTH_TOLERANCE, value_parser = parse_tolerance)]
        width_tolerance: f64,
    },
    /// Re-verify every inequality of a certificate from the file alone.
    /// Exit 0 if all hold, 1 if some check fails, 2 if the file is malformed.
    Recheck {
        /// The certificate (JSON) written by `certify --certificate`.
        certificate: PathBuf,
    },
}

/// The signal that stopped the run (0: none).
static SIGNAL: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// SIGINT and SIGTERM: the first asks the simulation to stop (the run then checkpoints and
/// writes a partial report); a second one exits at once with 128 + its number (the
/// checkpoint files are written atomically, so nothing is left half-written).
fn watch_signals() -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::spawn(move || {
        let mut seen = false;
        for sig in signals.forever() {
            if seen {
                std::process::exit(128 + sig);
            }
            seen = true;
            let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
            SIGNAL.store(sig, std::sync::atomic::Ordering::SeqCst);
            eprintln!("escapecert: {name} received: stopping after the running trajectories (again to exit at once)");
            escapecert::simulate::stop::request_stop(format!("interrupted by {name}"));
        }
    });
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(n) = cli.threads {
        if n == 0 {
            anyhow::bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()?;
    }
    match cli.command {
        Command::Verify {
            spec,
            out,
            quiet,
            check_dt,
            strict,
            shard,
            resume,
        } => {
            let spec = Spec::from_file(&spec)?;
            if !quiet {
                eprintln!("escapecert {}: {}", env!("CARGO_PKG_VERSION"), spec.name);
            }
            let t0 = std::time::Instant::now();
            let opts = Options { quiet, check_dt };
            if let Some(shard) = shard {
                let file = run::verify_shard(&spec, &opts, shard)?;
                let path = run::write_shard(&out, &file)?;
                println!(
                    "shard {shard}: {} sweep point(s) written to {} ({:.1} s); combine all {} shards with `escapecert merge`",
                    file.points.len(),
                    path.display(),
                    t0.elapsed().as_secs_f64(),
                    shard.count
                );
                return Ok(ExitCode::SUCCESS);
            }
            watch_signals()?;
            let (rep, checkpoint) = run::verify_checkpointed(&spec, &opts, &out, resume)?;
            report::write(&out, &rep)?;
            match &rep.partial {
                None => {
                    checkpoint.remove()?;
                    Ok(print_summary(&rep, &out, t0, strict))
                }
                Some(part) => {
                    eprintln!(
                        "escapecert: {}; {} of {} sweep points finished and checkpointed ({:.1} s). PARTIAL report written to {} (every claim INCONCLUSIVE). Continue with: escapecert verify {} --out {} --resume",
                        part.reason,
                        part.finished_points,
                        part.points,
                        t0.elapsed().as_secs_f64(),
                        out.display(),
                        spec.file.display(),
                        out.display()
                    );
                    let sig = SIGNAL.load(std::sync::atomic::Ordering::SeqCst);
                    Ok(if sig > 0 {
                        // The shell convention for a run ended by a signal.
                        ExitCode::from((128 + sig) as u8)
                    } else {
                        ExitCode::from(if strict {
                            rep.summary.exit_code_strict
                        } else {
                            rep.summary.exit_code
                        } as u8)
                    })
                }
            }
        }
        Command::Merge {
            shards,
            out,
            quiet,
            strict,
        } => {
            let t0 = std::time::Instant::now();
            let rep = run::merge(
                &shards,
                &Options {
                    quiet,
                    check_dt: false,
                },
            )?;
            report::write(&out, &rep)?;
            Ok(print_summary(&rep, &out, t0, strict))
        }
        Command::Check {
            spec,
            baseline,
            out,
            quiet,
            width_tolerance,
        } => {
            use escapecert::check;
            let base = check::read_baseline(&baseline)?;
            let spec = Spec::from_file(&spec)?;
            if !quiet {
                eprintln!(
                    "escapecert {}: {} against {}",
                    env!("CARGO_PKG_VERSION"),
                    spec.name,
                    baseline.display()
                );
            }
            let (cmp, _) = check::check(
                &spec,
                &base,
                quiet,
                out.as_deref(),
                &check::CheckOptions { width_tolerance },
            )?;
            print!("{}", cmp.render());
            Ok(ExitCode::from(cmp.exit_code()))
        }
        Command::Recheck { certificate } => {
            let checks = escapecert::certificate::recheck::recheck_file(&certificate)?;
            for c in &checks {
                println!(
                    "{:<4} {}: {}",
                    if c.ok { "ok" } else { "FAIL" },
                    c.name,
                    c.detail
                );
            }
            let failed = checks.iter().filter(|c| !c.ok).count();
            if failed == 0 {
                println!(
                    "certificate {}: all {} checks hold",
                    certificate.display(),
                    checks.len()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "certificate {}: {failed} of {} checks FAILED",
                    certificate.display(),
                    checks.len()
                );
                Ok(ExitCode::from(1))
            }
        }
        Command::Certify { spec, certificate } => {
            let spec = Spec::from_file(&spec)?;
            let (problem, c) = run::certify_spec(&spec)?;
            if let Some(path) = &certificate {
                let cert = escapecert::certificate::build(&spec, &c);
                let text = escapecert::certificate::to_json(&cert)?;
                report::write_atomic(path, text.as_bytes())?;
                eprintln!(
                    "certificate written to {} ({} bytes)",
                    path.display(),
                    text.len()
                );
                for m in &cert.not_in_certificate {
                    eprintln!("note: not in the certificate: {m}");
                }
            }
            let b = |x: inari::Interval| {
                fmt_enclosure(&Bounds {
                    lo: x.inf(),
                    hi: x.sup(),
                })
            };
            println!("{}: {}", spec.name, problem.landscape.describe());
            println!("domain: {}", c.domain.describe());
            println!("noise: {}", problem.noise.describe());
            for (i, x) in c.minimizer.x.iter().enumerate().take(12) {
                println!("θ*[{}] ∈ {}", i + 1, b(*x));
            }
            println!("L* ∈ {}", b(c.loss_at_min));
            println!("sharpness ∈ {}", b(c.sharpness));
            println!("ΔL ∈ {}  ({})", b(c.depth), c.depth_method);
            println!(
                "s⁻ ∈ {}, s⁺ ∈ {}  ({})",
                b(c.steepness.s_minus),
                b(c.steepness.s_plus),
                c.steepness.method
            );
            if let Some(v) = c.barrier.value {
                println!("V̄ ∈ {}", b(v));
                println!(
                    "  lower ({}): {}",
                    c.barrier_lower_family, c.barrier_methods.lower
                );
                println!("  upper: {}", c.barrier_methods.upper);
            }
            for d in &c.barrier_discrete {
                match d.bound.value {
                    Some(v) => println!("V̄_η (η = {}) ∈ {}", d.eta, b(v)),
                    None => println!("V̄_η (η = {}): {}", d.eta, d.bound.method),
                }
            }
            for h in &c.hypotheses {
                println!(
                    "({}) {}: {}",
                    h.name,
                    if h.holds {
                        "certified"
                    } else {
                        "NOT certified"
                    },
                    h.detail
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Parses `--shard k/n`.
fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse::<Shard>().map_err(|e| e.to_string())
}

/// Parses `--width-tolerance` (a finite number ≥ 0).
fn parse_tolerance(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("expected a finite number ≥ 0, found {s:?}")),
    }
}

/// Prints the claims table and the overall verdict; returns the exit code.
fn print_summary(
    rep: &escapecert::report::json::Report,
    out: &std::path::Path,
    t0: std::time::Instant,
    strict: bool,
) -> ExitCode {
    println!(
        "{:<22} {:<13} {:<28} {}",
        "claim", "verdict", "certified", "estimated"
    );
    for c in &rep.claims {
        let cert = c.certified.as_ref().map_or("—".into(), |b| {
            fmt_enclosure(&Bounds { lo: b.lo, hi: b.hi })
        });
        let est = c.estimated.as_ref().map_or("—".into(), |e| {
            format!("{:.4} [{:.4}, {:.4}]", e.estimate, e.lo, e.hi)
        });
        println!("{:<22} {:<13} {:<28} {}", c.id, c.verdict, cert, est);
    }
    println!(
        "verdict: {} — report written to {} ({:.1} s)",
        rep.summary.verdict,
        out.display(),
        t0.elapsed().as_secs_f64()
    );
    let code = if strict {
        rep.summary.exit_code_strict
    } else {
        rep.summary.exit_code
    };
    ExitCode::from(code as u8)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Every error message already includes its cause; `{e:#}` would repeat it.
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
