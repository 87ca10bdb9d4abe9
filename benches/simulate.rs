//! Throughput of the Monte Carlo simulator in particle-steps per second (one particle-step
//! = one update of one trajectory; gradient, exit test, Brownian-bridge correction and
//! bookkeeping included).
//!
//! The problems are those of `/work/shared/bench/peers` (README there), so the numbers
//! compare with its NumPy, PyTorch and hand-written Rust loops (`benches/peers.sh` runs
//! them side by side and prints the ratios; `benches/peers.md` has today's table):
//! - `dw`: 1-D double well L = x⁴/4 − x²/2 (an expression landscape, evaluated by the
//!   tape), start −1, exit at x > 0, κσ = 0.40, dt = 0.01 (mean exit ≈ 6·10³ steps);
//! - `quad`: d = 100, L = (3/2)|θ|² (built-in quadratic), start 0, exit at |θ| > 0.1,
//!   κσ = 0.020, dt = 0.01 (mean exit ≈ 1.6·10³ steps with the bridge correction, which
//!   also counts the crossings between grid points);
//! - `ou1d/builtin`, `ou1d/tape`: L = x²/2 as the built-in quadratic and as the
//!   expression "x^2/2", a fixed number of steps (`sample_positions`), which isolates the
//!   cost of the tape against a closed-form gradient;
//! - `noise2d/*`: the cost of the noise models in a 2-D box (L = x1²/2 + x2² + x1⁴/8,
//!   D = (−1, 1) × (−0.8, 0.8), κ² = 0.3, dt = 0.005, bridge on, 1 thread): `isotropic`
//!   (σ = 1, SIMD lanes), `constant_identity` (Σ = I through the one-at-a-time engine:
//!   bitwise the same trajectories as `isotropic`, so the ratio is the engine's cost),
//!   `constant` (Σ = [[1, 0.3], [0.3, 0.5]], Cholesky once) and `hessian`
//!   (Σ(θ) = 0.5∇²L(θ) + 0.1I: covariance and Cholesky at every step);
//! - `normals`: the lane generator of standard normals (xoshiro256++ and the ziggurat of
//!   `rand_distr`, 4 lanes per AVX2 instruction) against `rand_distr` one at a time, in
//!   normals per second.
//!
//! Both exit problems run with `bridge = true`, as `escapecert verify` does. Each
//! simulation is seeded, so every iteration does the same work; the element count is the
//! run's `total_steps`, measured once before timing. Runs on a 1-thread rayon pool (per
//! core, comparable to the peers' single-thread loops) and on a 2-thread pool.
//!
//! `cargo bench --bench simulate` (about a minute; `ESCAPECERT_BENCH_QUICK=1` for a
//! shorter, noisier run).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use escapecert::landscape::{Domain, Landscape, QuadraticHessian, Tape};
use escapecert::simulate::{
    lane_normals_probe, sample_positions, simulate, Dynamics, Noise, SimConfig,
};
use rand::{Rng, SeedableRng};
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
        bridge: true,
        shard: Default::default(),
    }
}

fn problems() -> Vec<Problem> {
    vec![
        Problem {
            name: "dw",
            landscape: Landscape::Expr(Tape::parse("x^4/4 - x^2/2", None).unwrap()),
            domain: Domain::Interval { lo: -1e9, hi: 0.0 },
            noise: Noise::Isotropic { sigma: 0.40 },
            cfg: continuous(4096, vec![-1.0]),
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
            cfg: continuous(512, vec![0.0; 100]),
        },
    ]
}

fn quick() -> bool {
    std::env::var_os("ESCAPECERT_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Measurement time per benchmark.
fn seconds(normal: u64) -> Duration {
    Duration::from_secs(if quick() { 1.max(normal / 2) } else { normal })
}

/// 1 and 2 threads (the scaling target), or just 1 on a single core.
fn thread_counts() -> Vec<usize> {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    if all > 1 {
        vec![1, 2]
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
        group.sample_size(10).measurement_time(seconds(4));
        if quick() {
            group.warm_up_time(Duration::from_millis(500));
        }
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
    let (trials, steps) = (256usize, 10_000u64);
    let cfg = continuous(trials, vec![0.0]);
    let noise = Noise::Isotropic { sigma: 0.5 };
    let mut group = c.benchmark_group("ou1d");
    group.sample_size(10).measurement_time(seconds(3));
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

fn noise_models(c: &mut Criterion) {
    use escapecert::landscape::NoiseModel;
    let landscape = Landscape::Expr(Tape::parse("x1^2/2 + x2^2 + x1^4/8", Some(2)).unwrap());
    let domain = Domain::Box {
        lo: vec![-1.0, -0.8],
        hi: vec![1.0, 0.8],
    };
    let cfg = SimConfig {
        eta: 0.3,
        dt: 0.005,
        ..continuous(512, vec![0.0, 0.0])
    };
    let hessian = NoiseModel::Hessian {
        scale: 0.5,
        floor: 0.1,
    };
    let models = [
        ("isotropic", Noise::Isotropic { sigma: 1.0 }),
        (
            "constant_identity",
            Noise::constant(vec![1.0, 0.0, 0.0, 1.0], 2).unwrap(),
        ),
        (
            "constant",
            Noise::constant(vec![1.0, 0.3, 0.3, 0.5], 2).unwrap(),
        ),
        ("hessian", Noise::from_model(&hessian, 2).unwrap()),
    ];
    let one = pool(1);
    let mut group = c.benchmark_group("noise2d");
    group.sample_size(10).measurement_time(seconds(3));
    if quick() {
        group.warm_up_time(Duration::from_millis(500));
    }
    for (name, noise) in &models {
        let steps = simulate(&landscape, &domain, noise, &cfg)
            .unwrap()
            .total_steps;
        group.throughput(Throughput::Elements(steps));
        group.bench_function(*name, |b| {
            b.iter(|| {
                one.install(|| {
                    simulate(black_box(&landscape), &domain, noise, black_box(&cfg)).unwrap()
                })
            })
        });
    }
    group.finish();
}

fn normals(c: &mut Criterion) {
    let n = 1usize << 20;
    let mut group = c.benchmark_group("normals");
    group.sample_size(10).measurement_time(seconds(2));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("lanes4", |b| {
        b.iter(|| lane_normals_probe::<4>(black_box(n / 4), 128))
    });
    group.bench_function("lanes16", |b| {
        b.iter(|| lane_normals_probe::<16>(black_box(n / 16), 1))
    });
    group.bench_function("rand_distr", |b| {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
        let mut buf = vec![0.0f64; 512];
        b.iter(|| {
            let mut acc = 0.0;
            for _ in 0..n / buf.len() {
                for v in buf.iter_mut() {
                    *v = rng.sample(rand_distr::StandardNormal);
                }
                acc += buf[0];
            }
            acc
        })
    });
    group.finish();
}

criterion_group!(benches, exit_times, tape_overhead, noise_models, normals);
criterion_main!(benches);
