//! The escapecert command line: a thin layer over the library.
//!
//! Exit codes: 0 every claim passed; 1 a claim failed or was inconclusive;
//! 2 bad input (spec, landscape, domain) or an internal error.

use anyhow::Result;
use clap::{Parser, Subcommand};
use escapecert::report::{self, fmt_enclosure, json::Bounds};
use escapecert::run::{self, Options};
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
        /// The output folder (report.md, report.json).
        #[arg(long)]
        out: PathBuf,
        /// No progress output.
        #[arg(long)]
        quiet: bool,
        /// Rerun each continuous point at dt/2 and report whether the estimates agree.
        #[arg(long)]
        check_dt: bool,
    },
    /// Print the certified quantities of a spec (no simulation).
    Certify {
        /// The spec file (TOML).
        spec: PathBuf,
    },
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
        } => {
            let spec = Spec::from_file(&spec)?;
            if !quiet {
                eprintln!("escapecert {}: {}", env!("CARGO_PKG_VERSION"), spec.name);
            }
            let t0 = std::time::Instant::now();
            let rep = run::verify(&spec, &Options { quiet, check_dt })?;
            report::write(&out, &rep)?;
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
            Ok(ExitCode::from(rep.summary.exit_code as u8))
        }
        Command::Certify { spec } => {
            let spec = Spec::from_file(&spec)?;
            let (problem, c) = run::certify_spec(&spec)?;
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
