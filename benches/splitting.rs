//! Cost to reach a ±10 % relative 95 % confidence interval of the mean exit time, as a
//! function of the barrier: adaptive multilevel splitting (`simulate::splitting`) against
//! direct Monte Carlo (`simulate::simulate`).
//!
//! Problem: continuous SGD on the tilted double well L = x⁴/4 − x²/2 + 0.1x, D = (−2, 0),
//! start at the certified minimiser x* ≈ −1.05, σ = 1, κ² ∈ {0.2, 0.1, 0.05, 0.035, 0.025},
//! dt = 1e-3, Brownian-bridge exit correction on (as in `tests/splitting.rs`). The exact
//! E[τ] is the certified E13 enclosure (`certify::exit_time::mean_exit_time_interval`);
//! the barrier is V̄/κ² with V̄ = 2ΔL/σ² and ΔL = L(0) − L(x*) from an interval evaluation
//! of L on the certified minimiser box (so E[τ] grows like exp(V̄/κ²)).
//!
//! Splitting (N = 100 particles per replica, automatic levels, 20 direct cycles per
//! replica, so the cycle part of the variance shrinks with R like the AMS part): a pilot
//! with R₀ = 20 replicas gives the standard error s₀ of ln E[τ]; since s ∝ 1/√R, the
//! replica count for ±10 % is the smallest R with exp(t_{R−1}·s₀·√(R₀/R)) − 1 ≤ 0.10
//! (t the Student quantile of the estimator's interval). One estimate at that R (another
//! seed) is run once to record its achieved relative half-width
//! max(upper/mean − 1, 1 − lower/mean) and its particle-steps (`total_steps`, machine
//! independent; the pilot's are not included). The pilot's s₀ is noisy, so when the
//! achieved half-width exceeds 10 % R is re-chosen from that estimate's own s and a new
//! seed is run (at most twice; the achieved half-width is reported either way). Criterion
//! times the final seeded estimate (identical work each iteration) when one estimate takes
//! at most `CRITERION_MAX_SECONDS`; above that the summary reports the single timed run
//! (labelled "single run").
//!
//! Direct: a ±10 % interval of an exponential mean needs n = ⌈(1.96/0.1)²⌉ = 385 exits,
//! ≈ 385·E[τ]/dt particle-steps. The full 385-trajectory run is measured at κ² = 0.2 and
//! 0.1 (steps and achieved half-width from the run itself; criterion times it under the
//! same `CRITERION_MAX_SECONDS` rule). At every larger barrier the direct cost is
//! EXTRAPOLATED: steps = 385·E[τ]/dt with the certified E[τ], seconds = steps / the
//! particle-step throughput of the κ² = 0.1 run.
//!
//! At the end a summary table (Markdown) is printed; its seconds are the medians of the
//! per-iteration times criterion measured (warm-up included), or the single timed run.
//! Runs on the global rayon pool (both cores). `cargo bench --bench splitting` takes about
//! 8 minutes on the project's loaded 2-core machine (most of it the single runs at
//! κ² ≤ 0.05, which criterion does not repeat);
//! `ESCAPECERT_BENCH_QUICK=1` shortens criterion's measurement (same table). Under
//! `cargo test --benches` (criterion's test mode, no `--bench` argument) only κ² = 0.2 runs
//! with tiny settings, as a smoke test. The pilots and the runs that fix R and record the
//! half-widths are not benchmarks: a criterion filter (`-- direct`) skips only the timing.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use escapecert::certify::certify_minimizer;
use escapecert::certify::exit_time::{mean_exit_time_interval, DEFAULT_MAX_CELLS, DEFAULT_REL_TOL};
use escapecert::landscape::{Domain, Landscape, Tape};
use escapecert::simulate::splitting::{
    estimate_mean_exit, Coordinate, SplittingConfig, SplittingEstimate,
};
use escapecert::simulate::{simulate, Dynamics, Noise, SimConfig, SimResult};
use escapecert::stats::quantile::student_t_upper_quantile;
use inari::Interval;
use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

const KAPPA2: [f64; 5] = [0.2, 0.1, 0.05, 0.035, 0.025];
const DT: f64 = 1e-3;
const LEVEL: f64 = 0.95;
/// Target relative half-width.
const TARGET: f64 = 0.10;
const PARTICLES: usize = 100;
const PILOT_REPLICAS: usize = 20;
const CYCLES_PER_REPLICA: usize = 20;
/// Exits for a ±10 % 95 % interval of an exponential mean: ⌈(1.96/0.1)²⌉.
const DIRECT_EXITS: usize = 385;
/// κ² at which the full 385-exit direct run is measured.
const DIRECT_MEASURED: [f64; 2] = [0.2, 0.1];
/// Criterion times a splitting estimate only up to this single-run time (s).
const CRITERION_MAX_SECONDS: f64 = 12.0;

fn landscape() -> Landscape {
    Landscape::Expr(Tape::parse("x^4/4 - x^2/2 + 0.1*x", Some(1)).unwrap())
}

fn domain() -> Domain {
    Domain::Interval { lo: -2.0, hi: 0.0 }
}

fn noise() -> Noise {
    Noise::Isotropic { sigma: 1.0 }
}

fn sim_cfg(kappa2: f64, seed: u64, trials: usize, start: f64) -> SimConfig {
    SimConfig {
        dynamics: Dynamics::Continuous,
        eta: kappa2,
        batch: 1,
        trials,
        seed,
        max_steps: 1_000_000_000,
        dt: DT,
        start: vec![start],
        bridge: true,
        shard: Default::default(),
    }
}

fn quick() -> bool {
    std::env::var_os("ESCAPECERT_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Criterion's test mode (`cargo test --benches`): no `--bench` argument.
fn test_mode() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// The certified start x*, ΔL = L(0) − L(x*) (enclosure) and E13's E[τ] (enclosure).
struct Exact {
    start: f64,
    depth: Interval,
    mean: Interval,
}

fn exact(kappa2: f64) -> Exact {
    let l = landscape();
    let m = certify_minimizer(&l, &[-1.0]).unwrap();
    let x = m.x[0];
    let depth =
        l.value::<Interval>(&[Interval::try_from((0.0, 0.0)).unwrap()]) - l.value::<Interval>(&[x]);
    let e2 = Interval::try_from((kappa2, kappa2)).unwrap();
    let r =
        mean_exit_time_interval(&l, -2.0, 0.0, x, e2, DEFAULT_REL_TOL, DEFAULT_MAX_CELLS).unwrap();
    Exact {
        start: x.mid(),
        depth,
        mean: r.mean,
    }
}

fn split_cfg(particles: usize, replicas: usize) -> SplittingConfig {
    SplittingConfig {
        particles,
        replicas,
        cycles: CYCLES_PER_REPLICA * replicas,
        inner_level: None,
        outer_level: None,
    }
}

fn splitting(kappa2: f64, start: f64, seed: u64, split: &SplittingConfig) -> SplittingEstimate {
    estimate_mean_exit(
        &landscape(),
        &domain(),
        &noise(),
        &sim_cfg(kappa2, seed, 1, start),
        split,
        &Coordinate::Distance {
            centre: vec![start],
        },
        LEVEL,
    )
    .unwrap()
}

/// max(upper/mean − 1, 1 − lower/mean).
fn rel_half_width(mean: f64, lower: f64, upper: f64) -> f64 {
    (upper / mean - 1.0).max(1.0 - lower / mean)
}

/// Smallest R with exp(t_{R−1}·s₀·√(R₀/R)) − 1 ≤ TARGET (s ∝ 1/√R).
fn replicas_needed(pilot: &SplittingEstimate) -> usize {
    let r0 = pilot.replicas as f64;
    let goal = (1.0 + TARGET).ln();
    let mut r = 2usize;
    loop {
        let t = student_t_upper_quantile((1.0 - LEVEL) / 2.0, r as f64 - 1.0).unwrap();
        if t * pilot.ln_se * (r0 / r as f64).sqrt() <= goal {
            return r;
        }
        r += 1;
    }
}

/// Direct mean, relative half-width of its 95 % normal interval, steps.
fn direct_stats(r: &SimResult) -> (f64, f64, u64) {
    assert_eq!(r.censored, 0, "direct runs must all exit");
    let n = r.exit_times.len() as f64;
    let m = r.exit_times.iter().sum::<f64>() / n;
    let v = r.exit_times.iter().map(|t| (t - m) * (t - m)).sum::<f64>() / (n - 1.0);
    (m, 1.96 * (v / n).sqrt() / m, r.total_steps)
}

/// Median; `None` for no values (a criterion filter skipped the benchmark).
fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some(0.5 * (v[n / 2 - 1] + v[n / 2])),
    }
}

/// Criterion with `iter_custom`, recording each iteration's time; returns their median (s),
/// or `None` when a criterion filter skipped it.
fn timed<O>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    f: impl Fn() -> O,
) -> Option<f64> {
    let times = RefCell::new(Vec::new());
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            let d = start.elapsed();
            times.borrow_mut().push(d.as_secs_f64() / iters as f64);
            d
        })
    });
    median(times.into_inner())
}

fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(if quick() { 100 } else { 500 }))
        .measurement_time(Duration::from_secs(if quick() { 1 } else { 3 }));
}

struct DirectRow {
    kappa2: f64,
    hw: f64,
    steps: u64,
    seconds: f64,
    criterion: bool,
}

struct SplitRow {
    kappa2: f64,
    exact: Exact,
    pilot: SplittingEstimate,
    pilot_seconds: f64,
    est: SplittingEstimate,
    seconds: f64,
    criterion: bool,
}

fn bench(c: &mut Criterion) {
    let test = test_mode();
    let kappas: &[f64] = if test { &KAPPA2[..1] } else { &KAPPA2 };
    let (particles, pilot_r) = if test {
        (20, 4)
    } else {
        (PARTICLES, PILOT_REPLICAS)
    };

    let mut rows = Vec::new();
    let mut group = c.benchmark_group("splitting");
    configure(&mut group);
    for &k2 in kappas {
        let ex = exact(k2);
        let t = Instant::now();
        let pilot = splitting(k2, ex.start, 1, &split_cfg(particles, pilot_r));
        let pilot_seconds = t.elapsed().as_secs_f64();
        let r = if test {
            pilot_r
        } else {
            replicas_needed(&pilot)
        };
        let mut split = split_cfg(particles, r);
        let t = Instant::now();
        let mut est = splitting(k2, ex.start, 2, &split);
        let mut seconds = t.elapsed().as_secs_f64();
        let mut seed = 2;
        // The pilot's 20-replica standard error is itself noisy (heavy-tailed p̂): when the
        // estimate at R misses the target, R is re-chosen from that estimate's own (better)
        // standard error and a new seed is run, at most twice.
        for _ in 0..2 {
            if test || rel_half_width(est.mean, est.lower, est.upper) <= TARGET {
                break;
            }
            eprintln!(
                "  κ²={k2}: R={} gave ±{:.1} %; re-choosing R",
                est.replicas,
                100.0 * rel_half_width(est.mean, est.lower, est.upper)
            );
            seed += 1;
            split = split_cfg(particles, replicas_needed(&est).max(est.replicas + 1));
            let t = Instant::now();
            est = splitting(k2, ex.start, seed, &split);
            seconds = t.elapsed().as_secs_f64();
        }
        let r = split.replicas;
        eprintln!(
            "splitting κ²={k2}: pilot R={pilot_r} ±{:.1} % ({pilot_seconds:.1} s) → R={r}: \
             {:.4e} [{:.4e}, {:.4e}] ±{:.1} %, {} steps, {seconds:.1} s; exact [{:.4e}, {:.4e}]",
            100.0 * rel_half_width(pilot.mean, pilot.lower, pilot.upper),
            est.mean,
            est.lower,
            est.upper,
            100.0 * rel_half_width(est.mean, est.lower, est.upper),
            est.total_steps,
            ex.mean.inf(),
            ex.mean.sup(),
        );
        let mut criterion = seconds <= CRITERION_MAX_SECONDS;
        if criterion {
            let start = ex.start;
            match timed(
                &mut group,
                BenchmarkId::new(format!("kappa2={k2}"), format!("R={r}")),
                || splitting(k2, start, seed, &split),
            ) {
                Some(t) => seconds = t,
                // Skipped by a filter: keep the single timed run.
                None => criterion = false,
            }
        }
        rows.push(SplitRow {
            kappa2: k2,
            exact: ex,
            pilot,
            pilot_seconds,
            est,
            seconds,
            criterion,
        });
    }
    group.finish();

    // Direct Monte Carlo: the full ±10 % runs where feasible.
    let mut group = c.benchmark_group("direct");
    configure(&mut group);
    let start = rows[0].exact.start;
    let trials = if test { 16 } else { DIRECT_EXITS };
    let mut direct = Vec::new();
    let measured: &[f64] = if test {
        &DIRECT_MEASURED[..1]
    } else {
        &DIRECT_MEASURED
    };
    for &k2 in measured {
        let cfg = sim_cfg(k2, 3, trials, start);
        let t = Instant::now();
        let r = simulate(&landscape(), &domain(), &noise(), &cfg).unwrap();
        let mut seconds = t.elapsed().as_secs_f64();
        let (mean, hw, steps) = direct_stats(&r);
        let mut criterion = seconds <= CRITERION_MAX_SECONDS;
        if criterion {
            match timed(
                &mut group,
                BenchmarkId::new(format!("kappa2={k2}"), trials),
                || simulate(&landscape(), &domain(), &noise(), &cfg).unwrap(),
            ) {
                Some(t) => seconds = t,
                // Skipped by a filter: keep the single timed run.
                None => criterion = false,
            }
        }
        eprintln!(
            "direct κ²={k2}: {trials} exits, mean {mean:.4e} ±{:.1} %, {steps} steps, \
             {seconds:.2} s: {:.3e} particle-steps/s",
            100.0 * hw,
            steps as f64 / seconds
        );
        direct.push(DirectRow {
            kappa2: k2,
            hw,
            steps,
            seconds,
            criterion,
        });
    }
    group.finish();
    // Throughput for the extrapolation: the largest measured run.
    let last = direct.last().unwrap();
    let (rate_k2, rate) = (last.kappa2, last.steps as f64 / last.seconds);
    // Summary.
    println!();
    println!(
        "| κ² | V̄/κ² | exact E[τ] (E13) | AMS R | AMS particle-steps | AMS s | AMS ±rel (95 %) \
         | AMS interval ∋ E13? | direct steps for ±10 % | direct s | ratio direct/AMS s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let e = &row.est;
        let mean_exact = 0.5 * (row.exact.mean.inf() + row.exact.mean.sup());
        let two = Interval::try_from((2.0, 2.0)).unwrap();
        let vbar = two * row.exact.depth / Interval::try_from((row.kappa2, row.kappa2)).unwrap();
        let ams_s = format!(
            "{:.2}{}",
            row.seconds,
            if row.criterion { "" } else { " (single run)" }
        );
        let (steps, direct_s, label) = match direct.iter().find(|d| d.kappa2 == row.kappa2) {
            Some(d) => (
                format!("{:.2e} (measured, ±{:.1} %)", d.steps as f64, 100.0 * d.hw),
                d.seconds,
                if d.criterion {
                    "measured"
                } else {
                    "measured, single run"
                },
            ),
            None => {
                let steps = DIRECT_EXITS as f64 * mean_exact / DT;
                (
                    format!("{steps:.2e} (extrapolated)"),
                    steps / rate,
                    "extrapolated",
                )
            }
        };
        println!(
            "| {} | {:.1} | {:.3e} | {} | {:.2e} | {ams_s} | {:.1} % | {} | {steps} | {} ({label}) | {:.1e} |",
            row.kappa2,
            vbar.mid(),
            mean_exact,
            e.replicas,
            e.total_steps as f64,
            100.0 * rel_half_width(e.mean, e.lower, e.upper),
            if e.lower <= row.exact.mean.sup() && row.exact.mean.inf() <= e.upper {
                "yes"
            } else {
                "no"
            },
            human_seconds(direct_s),
            direct_s / row.seconds,
        );
        eprintln!(
            "  κ²={}: pilot R={} ±{:.1} % in {:.1} s ({} steps); AMS {:.4e} [{:.4e}, {:.4e}], \
             levels ({:.3}, {:.3}), {} cycles",
            row.kappa2,
            row.pilot.replicas,
            100.0 * rel_half_width(row.pilot.mean, row.pilot.lower, row.pilot.upper),
            row.pilot_seconds,
            row.pilot.total_steps,
            e.mean,
            e.lower,
            e.upper,
            e.inner_level,
            e.outer_level,
            e.cycles,
        );
    }
    println!(
        "direct throughput for the extrapolation (κ² = {rate_k2}, {trials} trajectories): \
         {rate:.3e} particle-steps/s"
    );
}

fn human_seconds(s: f64) -> String {
    const YEAR: f64 = 365.25 * 86400.0;
    if s < 600.0 {
        format!("{s:.1} s")
    } else if s < 2.0 * 86400.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s < YEAR {
        format!("{:.0} d", s / 86400.0)
    } else {
        format!("{:.1e} years", s / YEAR)
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
