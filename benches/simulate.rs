//! Throughput of the Monte Carlo simulator in particle-steps per second (one particle-step
//! = one update of one trajectory, gradient and exit test included).
//!
//! The problems are those of `/work/shared/bench/peers` (README there), so the numbers
//! compare with its NumPy, PyTorch and hand-written Rust loops:
//! - `dw`: 1-D double well L = x⁴/4 − x²/2 (an expression landscape, evaluated by the
//!   tape), start −1, exit at x > 0, κσ = 0.40, dt = 0.01 (mean exit ≈ 6·10³ steps);
//! - `quad`: d = 100, L = (3/2)|θ|² (built-in quadratic), start 0, exit at |θ| > 0.1,
//!   κσ = 0.020, dt = 0.01 (mean exit ≈ 3·10³ steps);
//! - `ou1d_builtin` / `ou1d_tape`: L = x²/2 as the built-in quadratic and as the
//!   expression "x^2/2", a fixed number of steps (`sample_positions`), which isolates the
//!   cost of the tape against a closed-form gradient.
//!
//! Each simulation is seeded, so every iteration does the same work; the element count is
//! the run's `total_steps`, measured once before timing. Runs on a 1-thread rayon pool
//! (comparable to the peers' single-thread loops) and on a pool with all cores.
//!
//! `cargo bench --bench simulate` (about a minute).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use escapecert::landscape::{Domain, Landscape, QuadraticHessian, Tape};
use escapecert::simulate::{sample_positions, simulate, Dynamics, Noise, SimConfig};
use std::time::Duration;

struct Problem {
    name: &'static str,
    landscape: Landscape,
    domain: Domain,
    noise: Noise,
    cfg: SimConfig,
}

/// κ = 1 (η = B = 1), so σ is κσ.
fn continuous(trials: usize, start: Vec<f64>) -> SimConfig {
    SimConfig {
        dynamics: Dynamics::Continuous,
        eta: 1.0,
        batch: 1,
        trials,
        seed: 20_261_126,
        max_steps: 100_000_000,
        dt: 0.01,
        start,
        bridge: false,
    }
}

fn problems() -> Vec<Problem> {
    vec![
        Problem {
            name: "dw",
            landscape: Landscape::Expr(Tape::parse("x^4/4 - x^2/2", None).unwrap()),
            domain: Domain::Interval { lo: -1e9, hi: 0.0 },
            noise: Noise::Isotropic { sigma: 0.40 },
            cfg: continuous(64, vec![-1.0]),
        },
        Problem {
            name: "quad",
            landscape: Landscape::Quadratic {
                dim: 100,
                hessian: QuadraticHessian::Scaled(3.0),
            },
            domain: Domain::Ball {
                center: vec![0.0; 100],
                radius: 0.1,
            },
            noise: Noise::Isotropic { sigma: 0.020 },
            cfg: continuous(32, vec![0.0; 100]),
        },
    ]
}

fn thread_counts() -> Vec<usize> {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    if all > 1 {
        vec![1, all]
    } else {
        vec![1]
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn exit_times(c: &mut Criterion) {
    for p in problems() {
        let steps = simulate(&p.landscape, &p.domain, &p.noise, &p.cfg)
            .unwrap()
            .total_steps;
        let mut group = c.benchmark_group(p.name);
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(4));
        group.throughput(Throughput::Elements(steps));
        for threads in thread_counts() {
            let pool = pool(threads);
            group.bench_function(BenchmarkId::new("threads", threads), |b| {
                b.iter(|| {
                    pool.install(|| {
                        simulate(
                            black_box(&p.landscape),
                            black_box(&p.domain),
                            black_box(&p.noise),
                            black_box(&p.cfg),
                        )
                        .unwrap()
                    })
                })
            });
        }
        group.finish();
    }
}

fn tape_overhead(c: &mut Criterion) {
    let (trials, steps) = (64usize, 10_000u64);
    let cfg = continuous(trials, vec![0.0]);
    let noise = Noise::Isotropic { sigma: 0.5 };
    let mut group = c.benchmark_group("ou1d");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(trials as u64 * steps));
    let one = pool(1);
    for (name, landscape) in [
        (
            "builtin",
            Landscape::Quadratic {
                dim: 1,
                hessian: QuadraticHessian::Scaled(1.0),
            },
        ),
        ("tape", Landscape::Expr(Tape::parse("x^2/2", None).unwrap())),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                one.install(|| {
                    sample_positions(black_box(&landscape), &noise, black_box(&cfg), steps).unwrap()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, exit_times, tape_overhead);
criterion_main!(benches);
