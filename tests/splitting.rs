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

#[test]
fn probe() {
    for &k2 in &[0.1, 0.05, 0.03, 0.025] {
        let (lo, hi, xs) = dw_exact(k2);
        let t = std::time::Instant::now();
        let e = estimate_mean_exit(
            &tilted_dw(),
            &Domain::Interval { lo: -2.0, hi: 0.0 },
            &Noise::Isotropic { sigma: 1.0 },
            &cfg(Dynamics::Continuous, k2, 1, 1e-3, vec![xs]),
            &split(100, 20, 400),
            &Coordinate::Distance { centre: vec![xs] },
            0.95,
        )
        .unwrap();
        println!(
            "dw k2={k2} exact [{lo:.4e},{hi:.4e}] ams {:.4e} [{:.4e},{:.4e}] p={:.3e} loop={:.3e} levels {:.3} {:.3} steps {} {:?}",
            e.mean, e.lower, e.upper, e.probability, e.cycle_mean, e.inner_level, e.outer_level, e.total_steps, t.elapsed()
        );
    }
    for &k2 in &[0.2, 0.1, 0.05] {
        let (lo, hi) = radial_exact(k2);
        let t = std::time::Instant::now();
        let e = estimate_mean_exit(
            &Landscape::Quadratic {
                dim: 10,
                hessian: QuadraticHessian::Scaled(1.0),
            },
            &Domain::Ball {
                center: vec![0.0; 10],
                radius: 1.0,
            },
            &Noise::Isotropic { sigma: 1.0 },
            &cfg(Dynamics::Continuous, k2, 1, 1e-3, vec![0.0; 10]),
            &split(100, 20, 400),
            &Coordinate::Distance {
                centre: vec![0.0; 10],
            },
            0.95,
        )
        .unwrap();
        println!(
            "rad k2={k2} exact [{lo:.4e},{hi:.4e}] ams {:.4e} [{:.4e},{:.4e}] p={:.3e} loop={:.3e} levels {:.3} {:.3} steps {} {:?}",
            e.mean, e.lower, e.upper, e.probability, e.cycle_mean, e.inner_level, e.outer_level, e.total_steps, t.elapsed()
        );
    }
}
