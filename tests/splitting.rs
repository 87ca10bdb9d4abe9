//! Adaptive multilevel splitting (`src/simulate/splitting.rs`) against the certified exact
//! mean exit times (THEORY E13, E14; `src/certify/exit_time.rs`).
//!
//! Reference values: the certified enclosures themselves (interval quadrature of the E13/E14
//! integrals, `proofs/exit-time-formulas.md`), computed in the test.

use escapecert::certify::certify_minimizer;
use escapecert::certify::exit_time::{
    mean_exit_time_interval, mean_exit_time_radial_quadratic, DEFAULT_MAX_CELLS, DEFAULT_REL_TOL,
};
use escapecert::landscape::{Domain, Landscape, QuadraticHessian, Tape};
use escapecert::simulate::splitting::{estimate_mean_exit, Coordinate, SplittingConfig};
use escapecert::simulate::{Dynamics, Noise, SimConfig};
use inari::Interval;

fn tilted_dw() -> Landscape {
    Landscape::Expr(Tape::parse("x^4/4 - x^2/2 + 0.1*x", Some(1)).unwrap())
}

fn cfg(dynamics: Dynamics, kappa2: f64, seed: u64, dt: f64, start: Vec<f64>) -> SimConfig {
    SimConfig {
        dynamics,
        eta: kappa2,
        batch: 1,
        trials: 1,
        seed,
        max_steps: 100_000_000,
        dt,
        start,
        bridge: true,
        shard: Default::default(),
    }
}

fn split(particles: usize, replicas: usize, cycles: usize) -> SplittingConfig {
    SplittingConfig {
        particles,
        replicas,
        cycles,
        inner_level: None,
        outer_level: None,
    }
}

/// E13 enclosure for the tilted double well on (−2, 0) from x*, ε² = κ² (σ = 1).
fn dw_exact(kappa2: f64) -> (f64, f64, f64) {
    let m = certify_minimizer(&tilted_dw(), &[-1.0]).unwrap();
    let x0 = m.x[0];
    let e = Interval::try_from((kappa2, kappa2)).unwrap();
    let r = mean_exit_time_interval(
        &tilted_dw(),
        -2.0,
        0.0,
        x0,
        e,
        DEFAULT_REL_TOL,
        DEFAULT_MAX_CELLS,
    )
    .unwrap();
    (r.mean.inf(), r.mean.sup(), x0.mid())
}

fn radial_exact(kappa2: f64) -> (f64, f64) {
    let e = Interval::try_from((kappa2, kappa2)).unwrap();
    let r = mean_exit_time_radial_quadratic(10, 1.0, 1.0, e, DEFAULT_REL_TOL, DEFAULT_MAX_CELLS)
        .unwrap();
    (r.mean.inf(), r.mean.sup())
}

fn dw_estimate(k2: f64, seed: u64, xs: f64) -> escapecert::simulate::splitting::SplittingEstimate {
    estimate_mean_exit(
        &tilted_dw(),
        &Domain::Interval { lo: -2.0, hi: 0.0 },
        &Noise::Isotropic { sigma: 1.0 },
        &cfg(Dynamics::Continuous, k2, seed, 1e-3, vec![xs]),
        &split(50, 10, 200),
        &Coordinate::Distance { centre: vec![xs] },
        0.95,
    )
    .unwrap()
}

fn radial_estimate(k2: f64, seed: u64) -> escapecert::simulate::splitting::SplittingEstimate {
    estimate_mean_exit(
        &Landscape::Quadratic {
            dim: 10,
            hessian: QuadraticHessian::Scaled(1.0),
        },
        &Domain::Ball {
            center: vec![0.0; 10],
            radius: 1.0,
        },
        &Noise::Isotropic { sigma: 1.0 },
        &cfg(Dynamics::Continuous, k2, seed, 1e-3, vec![0.0; 10]),
        &split(50, 10, 200),
        &Coordinate::Quadratic {
            centre: vec![0.0; 10],
            p: (0..100)
                .map(|i| if i % 11 == 0 { 1.0 } else { 0.0 })
                .collect(),
        },
        0.95,
    )
    .unwrap()
}

/// Coverage of the certified E[τ] by the 95 % AMS intervals, E[τ] from ≈ 1.8e3 to ≈ 2e12
/// (tilted double well, E13) and ≈ 2.5e3 to ≈ 1e8 (radial quadratic d = 10, E14), three
/// seeds each: 12 intervals. If each covered with probability ≥ 0.95 independently, ≥ 4
/// misses would have probability ≤ 2.2e-3 (binomial tail): the false-failure rate of
/// this test. (The intervals are asymptotic in the number of replicas, and dt = 1e-3
/// leaves an Euler–Maruyama bias, measured at a few % here, below the half-widths.)
#[test]
fn covers_certified_mean_exit_times() {
    let mut misses = 0;
    let mut lines = Vec::new();
    let xs = dw_exact(0.1).2;
    for &k2 in &[0.1, 0.025] {
        let (lo, hi, _) = dw_exact(k2);
        for seed in 1..=3 {
            let e = dw_estimate(k2, seed, xs);
            let ok = e.lower <= hi && lo <= e.upper;
            misses += usize::from(!ok);
            lines.push(format!(
                "dw κ²={k2} seed {seed}: exact [{lo:.4e}, {hi:.4e}], AMS {:.4e} [{:.4e}, {:.4e}]",
                e.mean, e.lower, e.upper
            ));
        }
    }
    for &k2 in &[0.05, 0.03] {
        let (lo, hi) = radial_exact(k2);
        for seed in 1..=3 {
            let e = radial_estimate(k2, seed);
            let ok = e.lower <= hi && lo <= e.upper;
            misses += usize::from(!ok);
            lines.push(format!("radial κ²={k2} seed {seed}: exact [{lo:.4e}, {hi:.4e}], AMS {:.4e} [{:.4e}, {:.4e}]", e.mean, e.lower, e.upper));
        }
    }
    for l in &lines {
        println!("{l}");
    }
    assert!(
        misses <= 3,
        "{misses} of 12 intervals miss:\n{}",
        lines.join("\n")
    );
}

/// Same seed ⇒ identical estimate (streams are pure functions of (seed, index)).
#[test]
fn reproducible() {
    let xs = dw_exact(0.1).2;
    let a = dw_estimate(0.1, 7, xs);
    let b = dw_estimate(0.1, 7, xs);
    assert_eq!(a, b);
    let c = dw_estimate(0.1, 8, xs);
    assert_ne!(a.mean, c.mean);
}

/// Direct mean and its 99.9 % t-interval half-width (every run exits: asserted).
fn direct(l: &Landscape, d: &Domain, cfg: &SimConfig) -> (f64, f64) {
    let r = escapecert::simulate::simulate(l, d, &Noise::Isotropic { sigma: 1.0 }, cfg).unwrap();
    assert_eq!(r.censored, 0);
    let n = r.exit_times.len() as f64;
    let m = r.exit_times.iter().sum::<f64>() / n;
    let v = r.exit_times.iter().map(|t| (t - m) * (t - m)).sum::<f64>() / (n - 1.0);
    (m, 3.29 * (v / n).sqrt())
}

/// AMS against direct Monte Carlo where both are feasible, for discrete (E1) SGD: the
/// 99.9 % AMS interval and the 99.9 % direct interval (normal approximation, 400 runs)
/// overlap. If both covered, they would overlap; each misses with probability ≈ 1e-3, so
/// the false-failure rate is ≈ 2e-3. (Minibatch E2 agreement: not yet tested.)
#[test]
fn agrees_with_direct_monte_carlo_discrete() {
    // Discrete E1 on the tilted double well, η = 0.1, B = 1 (κ² = 0.1).
    let xs = dw_exact(0.1).2;
    let dom = Domain::Interval { lo: -2.0, hi: 0.0 };
    let mut c = cfg(Dynamics::Discrete, 0.1, 3, 1.0, vec![xs]);
    let e = estimate_mean_exit(
        &tilted_dw(),
        &dom,
        &Noise::Isotropic { sigma: 1.0 },
        &c,
        &split(50, 20, 400),
        &Coordinate::Distance { centre: vec![xs] },
        0.999,
    )
    .unwrap();
    c.trials = 400;
    let (m, h) = direct(&tilted_dw(), &dom, &c);
    println!(
        "discrete: direct {m:.4e} ± {h:.2e}, AMS {:.4e} [{:.4e}, {:.4e}]",
        e.mean, e.lower, e.upper
    );
    assert!(e.lower <= m + h && m - h <= e.upper);
}
