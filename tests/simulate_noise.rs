//! Simulation with non-isotropic noise (constant Σ, state-dependent Σ(θ)) and box domains
//! (`escapecert::simulate`, public API only).
//!
//! Statistical checks use fixed seeds (one per case, not tuned) and exact references; each
//! check fails spuriously with probability at most `ALPHA` = 1e-6 (normal approximation of
//! a mean of ≥ 4000 i.i.d. terms), and the file has 8 such checks, so it fails spuriously
//! with probability below 1e-5. The remaining checks are exact (bitwise) identities.
//!
//! Run with `cargo test --release --test simulate_noise`.

use escapecert::landscape::{Domain, Landscape, NoiseModel, QuadraticHessian, Tape};
use escapecert::simulate::{
    merge_results, sample_positions, simulate, simulate_one_at_a_time, Dynamics, Noise, Shard,
    SimConfig, SimError,
};
use statrs::distribution::{ContinuousCDF, Normal};

const ALPHA: f64 = 1e-6;

/// Φ^{-1}(1 − ALPHA/2) ≈ 4.89.
fn z_crit() -> f64 {
    Normal::new(0.0, 1.0)
        .unwrap()
        .inverse_cdf(1.0 - ALPHA / 2.0)
}

/// The non-commuting pair of issue 3: H = [[3, 1], [1, 2]], Σ = [[1, 0.5], [0.5, 2]].
const H: [f64; 4] = [3.0, 1.0, 1.0, 2.0];
const SIGMA: [f64; 4] = [1.0, 0.5, 0.5, 2.0];

fn quad_full(h: &[f64]) -> Landscape {
    Landscape::Quadratic {
        dim: 2,
        hessian: QuadraticHessian::Full(h.to_vec()),
    }
}

fn cfg(dynamics: Dynamics, eta: f64, dt: f64, trials: usize, seed: u64) -> SimConfig {
    SimConfig {
        dynamics,
        eta,
        batch: 1,
        trials,
        seed,
        max_steps: 1_000_000,
        dt,
        start: vec![0.0, 0.0],
        bridge: true,
        shard: Shard::WHOLE,
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// 2×2 matrices, row-major.
fn mul(a: &[f64; 4], b: &[f64; 4]) -> [f64; 4] {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
    ]
}
fn transpose(a: &[f64; 4]) -> [f64; 4] {
    [a[0], a[2], a[1], a[3]]
}

/// Solves the 4×4 system m x = b (Gaussian elimination, partial pivoting).
fn solve4(mut m: [[f64; 4]; 4], mut b: [f64; 4]) -> [f64; 4] {
    for c in 0..4 {
        let p = (c..4)
            .max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))
            .unwrap();
        m.swap(c, p);
        b.swap(c, p);
        for r in c + 1..4 {
            let f = m[r][c] / m[c][c];
            for k in c..4 {
                m[r][k] -= f * m[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0; 4];
    for r in (0..4).rev() {
        let s: f64 = (r + 1..4).map(|k| m[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / m[r][r];
    }
    x
}

/// The stationary covariance of θ' = Aθ + noise(Q): C = A C Aᵀ + Q (Stein), from the
/// linear system (I − A⊗A) vec C = vec Q.
fn stein(a: &[f64; 4], q: &[f64; 4]) -> [f64; 4] {
    let mut m = [[0.0; 4]; 4];
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..2 {
                for l in 0..2 {
                    m[i * 2 + j][k * 2 + l] =
                        f64::from(u8::from(i == k && j == l)) - a[i * 2 + k] * a[j * 2 + l];
                }
            }
        }
    }
    solve4(m, *q)
}

/// The stationary covariance of dθ = −Hθ dt + Σ^{1/2} dW·κ: HC + CHᵀ = κ²Σ (Lyapunov).
fn lyapunov(h: &[f64; 4], q: &[f64; 4]) -> [f64; 4] {
    let mut m = [[0.0; 4]; 4];
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..2 {
                m[i * 2 + j][k * 2 + j] += h[i * 2 + k];
                m[i * 2 + j][i * 2 + k] += h[j * 2 + k];
            }
        }
    }
    solve4(m, *q)
}

/// C_k after k steps from θ_0 = 0: C_k = A C_{k−1} Aᵀ + Q.
fn covariance_after(a: &[f64; 4], q: &[f64; 4], k: u64) -> [f64; 4] {
    let mut c = [0.0; 4];
    for _ in 0..k {
        let t = mul(&mul(a, &c), &transpose(a));
        c = [t[0] + q[0], t[1] + q[1], t[2] + q[2], t[3] + q[3]];
    }
    c
}

/// Checks the sample second moments of zero-mean Gaussian samples against `c`, each entry
/// within z·se + `bias` (se² = (C_ii C_jj + C_ij²)/n, the exact variance of x_i x_j).
#[track_caller]
fn check_covariance(xs: &[Vec<f64>], c: &[f64; 4], bias: f64) {
    let n = xs.len() as f64;
    let z = z_crit();
    for (i, j) in [(0, 0), (0, 1), (1, 1)] {
        let m = xs.iter().map(|x| x[i] * x[j]).sum::<f64>() / n;
        let want = c[i * 2 + j];
        let se = ((c[i * 2 + i] * c[j * 2 + j] + want * want) / n).sqrt();
        assert!(
            (m - want).abs() <= z * se + bias,
            "C[{i}][{j}]: sample {m}, exact {want} (se {se}, bias allowance {bias})"
        );
    }
}

/// Discrete SGD (E1) on L = ½θᵀHθ with constant Σ is the AR(1) θ' = (I − ηH)θ + (η/√B)Fξ;
/// its stationary covariance solves the Stein equation C = ACAᵀ + (η²/B)Σ. After k = 300
/// steps from 0 the covariance C_k differs from C by < 1e-12 (checked), so the states of
/// 20 000 independent trajectories (no domain: nothing exits) are i.i.d. N(0, C_k).
#[test]
fn discrete_constant_noise_matches_stein() {
    let (eta, k) = (0.1, 300);
    let l = quad_full(&H);
    let noise = Noise::constant(SIGMA.to_vec(), 2).unwrap();
    let a = [1.0 - eta * H[0], -eta * H[1], -eta * H[2], 1.0 - eta * H[3]];
    let q = SIGMA.map(|s| eta * eta * s);
    let c = stein(&a, &q);
    let ck = covariance_after(&a, &q, k);
    assert!(c.iter().zip(&ck).all(|(x, y)| (x - y).abs() < 1e-12));
    let xs = sample_positions(
        &l,
        &noise,
        &cfg(Dynamics::Discrete, eta, 0.0, 20_000, 41),
        k,
    )
    .unwrap();
    check_covariance(&xs, &c, 1e-12);
}

/// Continuous SGD (E3) with constant Σ: the OU process dθ = −Hθ dt + κF dW has stationary
/// covariance C solving the Lyapunov equation HC + CH = κ²Σ. Euler–Maruyama with step dt
/// is the AR(1) with A = I − dt H, Q = κ² dt Σ, whose covariance after k steps (computed
/// exactly) differs from C by O(dt) + the transient; that deterministic difference is added
/// to the statistical tolerance (it is < 1 % of C here, the tolerance about 8 %).
#[test]
fn continuous_constant_noise_matches_lyapunov() {
    let (eta, dt, k) = (0.5, 0.002, 3000);
    let l = quad_full(&H);
    let noise = Noise::constant(SIGMA.to_vec(), 2).unwrap();
    let c = lyapunov(&H, &SIGMA.map(|s| eta * s));
    let a = [1.0 - dt * H[0], -dt * H[1], -dt * H[2], 1.0 - dt * H[3]];
    let ck = covariance_after(&a, &SIGMA.map(|s| eta * dt * s), k);
    let bias = c
        .iter()
        .zip(&ck)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(bias < 0.01 * c[0].min(c[3]), "EM bias {bias} vs C {c:?}");
    let xs =
        sample_positions(&l, &noise, &cfg(Dynamics::Continuous, eta, dt, 4000, 42), k).unwrap();
    check_covariance(&xs, &c, bias);
}

/// Hessian-shaped noise Σ(θ) = c∇²L(θ) + δI on a quadratic is the constant Σ = cH + δI
/// (entries computed as `NoiseModel::covariance` computes them): the state-dependent path
/// (covariance and Cholesky at every step) and the constant path (Cholesky once) give the
/// same trajectories bit for bit, with the bridge correction (nᵀΣn) in a ball and a box.
#[test]
fn hessian_noise_on_a_quadratic_equals_constant_noise() {
    let (c, delta) = (0.5, 0.2);
    let l = quad_full(&H);
    let state = Noise::from_model(
        &NoiseModel::Hessian {
            scale: c,
            floor: delta,
        },
        2,
    )
    .unwrap();
    assert!(matches!(state, Noise::StateDependent { .. }));
    let cov: Vec<f64> = (0..4)
        .map(|t| {
            let v = c * H[t];
            if t % 3 == 0 {
                v + delta
            } else {
                v
            }
        })
        .collect();
    let constant = Noise::constant(cov, 2).unwrap();
    let domains = [
        Domain::Ball {
            center: vec![0.0, 0.0],
            radius: 0.5,
        },
        Domain::Box {
            lo: vec![-0.4, -0.6],
            hi: vec![0.5, 0.3],
        },
    ];
    for domain in &domains {
        for (dynamics, eta) in [(Dynamics::Continuous, 0.3), (Dynamics::Discrete, 0.05)] {
            let cf = cfg(dynamics, eta, 0.01, 64, 7);
            let a = simulate(&l, domain, &state, &cf).unwrap();
            let b = simulate(&l, domain, &constant, &cf).unwrap();
            assert!(a.exits > 0);
            assert_eq!(a.outcomes, b.outcomes, "{domain:?} {dynamics:?}");
        }
    }
    let cf = cfg(Dynamics::Continuous, 0.3, 0.01, 16, 8);
    let bits = |v: Vec<Vec<f64>>| -> Vec<Vec<u64>> {
        v.iter()
            .map(|x| x.iter().map(|y| y.to_bits()).collect())
            .collect()
    };
    assert_eq!(
        bits(sample_positions(&l, &state, &cf, 200).unwrap()),
        bits(sample_positions(&l, &constant, &cf, 200).unwrap())
    );
}

/// With isotropic noise the one-at-a-time engine (the path of every other noise model)
/// reproduces the SIMD lane kernel bit for bit: interval, ball and box domains, with and
/// without the bridge, continuous and discrete.
#[test]
fn one_at_a_time_engine_equals_lanes_for_isotropic_noise() {
    let dw = Landscape::Expr(Tape::parse("x^4/4 - x^2/2", None).unwrap());
    let l2 = Landscape::Expr(Tape::parse("x1^2/2 + x2^2 + x1^4/8 + 0.3*x1*x2", None).unwrap());
    let noise = Noise::Isotropic { sigma: 0.9 };
    let cases: Vec<(&Landscape, Domain, Vec<f64>)> = vec![
        (&dw, Domain::Interval { lo: -1.6, hi: 0.0 }, vec![-1.0]),
        (
            &l2,
            Domain::Ball {
                center: vec![0.0, 0.0],
                radius: 0.8,
            },
            vec![0.1, 0.0],
        ),
        (
            &l2,
            Domain::Box {
                lo: vec![-0.7, -0.5],
                hi: vec![0.9, 0.6],
            },
            vec![0.0, 0.0],
        ),
    ];
    for (l, domain, start) in &cases {
        for (dynamics, eta) in [(Dynamics::Continuous, 0.4), (Dynamics::Discrete, 0.1)] {
            for bridge in [false, true] {
                let cf = SimConfig {
                    start: start.clone(),
                    bridge,
                    max_steps: 2000,
                    ..cfg(dynamics, eta, 0.01, 45, 3)
                };
                let lanes = simulate(l, domain, &noise, &cf).unwrap();
                let one = simulate_one_at_a_time(l, domain, &noise, &cf).unwrap();
                assert!(lanes.exits > 0, "{domain:?}");
                assert_eq!(lanes, one, "{domain:?} {dynamics:?} bridge {bridge}");
            }
        }
    }
}

/// The same results on 1 and 2 threads and when split into 3 shards and merged, for
/// constant and state-dependent noise in a box (continuous with bridge, and discrete).
#[test]
fn new_paths_are_thread_and_shard_invariant() {
    let l = Landscape::Expr(Tape::parse("x1^2/2 + x2^2 + x1^4/8", None).unwrap());
    let domain = Domain::Box {
        lo: vec![-0.8, -0.6],
        hi: vec![0.8, 0.6],
    };
    let noises = [
        Noise::constant(SIGMA.to_vec(), 2).unwrap(),
        Noise::from_model(
            &NoiseModel::Hessian {
                scale: 0.5,
                floor: 0.1,
            },
            2,
        )
        .unwrap(),
    ];
    for noise in &noises {
        for (dynamics, eta) in [(Dynamics::Continuous, 0.3), (Dynamics::Discrete, 0.1)] {
            let cf = cfg(dynamics, eta, 0.01, 50, 11);
            let one = pool(1).install(|| simulate(&l, &domain, noise, &cf).unwrap());
            let two = pool(2).install(|| simulate(&l, &domain, noise, &cf).unwrap());
            assert!(one.exits > 10, "{noise:?}");
            assert_eq!(one, two);
            let parts: Vec<_> = (0..3)
                .map(|k| {
                    let c = SimConfig {
                        shard: Shard { index: k, count: 3 },
                        ..cf.clone()
                    };
                    pool(2).install(|| simulate(&l, &domain, noise, &c).unwrap())
                })
                .collect();
            assert_eq!(merge_results(&parts).unwrap(), one);
        }
    }
}

/// The box exit time against the product structure: for L = (λ₁θ₁² + λ₂θ₂²)/2 and
/// isotropic noise the coordinates are independent, also under Euler–Maruyama and the
/// per-face bridge rule (1 − Π(1 − p) over independent coordinates is exactly the
/// probability that one of the two independent 1-D bridges crossed), so the exit step from
/// the box has the law of min(ν₁, ν₂) with ν_i independent exit steps of the 1-D problems
/// from their intervals (simulated by the interval path, other seeds). Two-sample z-tests
/// of the mean exit step: the box by the lane kernel, and by the one-at-a-time engine with
/// the constant Σ = I (the non-isotropic code path), each against the product reference.
/// 2 checks at ALPHA.
#[test]
fn box_exit_is_the_minimum_of_independent_coordinate_exits() {
    let (l1, l2, a1, a2) = (1.0, 2.0, 1.0, 0.8);
    let n = 4000;
    let l = quad_full(&[l1, 0.0, 0.0, l2]);
    let domain = Domain::Box {
        lo: vec![-a1, -a2],
        hi: vec![a1, a2],
    };
    let base = SimConfig {
        max_steps: 100_000_000,
        ..cfg(Dynamics::Continuous, 0.5, 0.01, n, 101)
    };
    let one_d = |lambda: f64, a: f64, seed: u64| {
        let l = Landscape::Quadratic {
            dim: 1,
            hessian: QuadraticHessian::Scaled(lambda),
        };
        let c = SimConfig {
            start: vec![0.0],
            seed,
            ..base.clone()
        };
        let r = simulate(
            &l,
            &Domain::Interval { lo: -a, hi: a },
            &Noise::Isotropic { sigma: 1.0 },
            &c,
        )
        .unwrap();
        assert_eq!(r.censored, 0);
        r.outcomes
            .iter()
            .map(|o| o.steps as f64)
            .collect::<Vec<_>>()
    };
    let (s1, s2) = (one_d(l1, a1, 102), one_d(l2, a2, 103));
    let reference: Vec<f64> = s1.iter().zip(&s2).map(|(a, b)| a.min(*b)).collect();
    let mean_var = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64;
        (m, var / v.len() as f64)
    };
    let (mr, vr) = mean_var(&reference);
    for (name, result) in [
        (
            "lanes",
            simulate(&l, &domain, &Noise::Isotropic { sigma: 1.0 }, &base).unwrap(),
        ),
        (
            "constant Σ = I",
            simulate(
                &l,
                &domain,
                &Noise::constant(vec![1.0, 0.0, 0.0, 1.0], 2).unwrap(),
                &base,
            )
            .unwrap(),
        ),
    ] {
        assert_eq!(result.censored, 0);
        let steps: Vec<f64> = result.outcomes.iter().map(|o| o.steps as f64).collect();
        let (mb, vb) = mean_var(&steps);
        let z = (mb - mr) / (vb + vr).sqrt();
        assert!(
            z.abs() < z_crit(),
            "{name}: box mean {mb} steps, product reference {mr}, z = {z}"
        );
    }
}

/// Σ(θ) not positive definite (Hessian-shaped noise with no floor where L is concave in
/// one direction): an error naming the lowest failing trajectory, the same on 1 and 2
/// threads; never a result.
#[test]
fn non_positive_definite_noise_is_an_error() {
    let l = Landscape::Expr(Tape::parse("x1^2/2 + x2^2/2 - x2^4", None).unwrap());
    let noise = Noise::from_model(
        &NoiseModel::Hessian {
            scale: 1.0,
            floor: 0.0,
        },
        2,
    )
    .unwrap();
    let domain = Domain::Box {
        lo: vec![-1.0, -0.6],
        hi: vec![1.0, 0.6],
    };
    let cf = cfg(Dynamics::Continuous, 0.5, 0.01, 20, 5);
    let e1 = pool(1).install(|| simulate(&l, &domain, &noise, &cf).unwrap_err());
    let e2 = pool(2).install(|| simulate(&l, &domain, &noise, &cf).unwrap_err());
    assert_eq!(e1, e2);
    let SimError::NoisePositiveDefinite { theta, .. } = &e1 else {
        panic!("{e1}")
    };
    // ∂²L/∂θ₂² = 1 − 12θ₂² ≤ 0 only for |θ₂| ≥ 1/√12.
    assert!(theta[1].abs() >= 1.0 / 12f64.sqrt() - 1e-12, "{e1}");
    assert!(e1.to_string().contains("not positive definite"));
}

/// Bad constant Σ: not symmetric, not positive definite, wrong size.
#[test]
fn bad_constant_noise_is_rejected() {
    assert!(Noise::constant(vec![1.0, 0.5, 0.4, 1.0], 2).is_err());
    assert!(Noise::constant(vec![1.0, 2.0, 2.0, 1.0], 2).is_err());
    assert!(Noise::constant(vec![1.0], 2).is_err());
    let forged = Noise::Constant {
        cov: vec![4.0],
        factor: vec![1.0],
    };
    let l = Landscape::Quadratic {
        dim: 1,
        hessian: QuadraticHessian::Scaled(1.0),
    };
    let c = SimConfig {
        start: vec![0.0],
        ..cfg(Dynamics::Discrete, 0.1, 0.0, 2, 1)
    };
    assert!(simulate(&l, &Domain::Interval { lo: -1.0, hi: 1.0 }, &forged, &c).is_err());
}
