//! Tests of the Monte Carlo simulator (`escapecert::simulate`), public API only.
//!
//! Statistical tests use fixed seeds (one per parameter set, not tuned) and exact
//! reference laws, each with a stated false-failure rate: the probability that the test
//! fails although the simulator is correct. Every check below uses `ALPHA` unless it
//! says otherwise, so the whole file fails spuriously with probability below 2e-5.
//!
//! Run with `cargo test --release --test simulate`.

use escapecert::landscape::{Domain, Landscape, QuadraticHessian, Tape};
use escapecert::simulate::{
    merge_results, sample_positions, simulate, simulate_with_progress, trajectory_rng, Dynamics,
    Noise, Shard, SimConfig, SimError, SimResult, Unit,
};
use rand::RngCore;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// False-failure rate of each statistical check (two-sided unless stated).
const ALPHA: f64 = 1e-6;

// ---------------------------------------------------------------- helpers

fn quadratic(dim: usize, lambda: f64) -> Landscape {
    Landscape::Quadratic {
        dim,
        hessian: QuadraticHessian::Scaled(lambda),
    }
}

fn double_well() -> Landscape {
    Landscape::Expr(Tape::parse("x^4/4 - x^2/2", None).unwrap())
}

fn config(
    dynamics: Dynamics,
    eta: f64,
    batch: u32,
    dt: f64,
    trials: usize,
    seed: u64,
) -> SimConfig {
    SimConfig {
        dynamics,
        eta,
        batch,
        trials,
        seed,
        max_steps: 1_000_000,
        dt,
        start: vec![0.0],
        bridge: false,
        shard: Default::default(),
    }
}

/// A domain nothing leaves in the tests' horizons.
fn huge_interval() -> Domain {
    Domain::Interval { lo: -1e9, hi: 1e9 }
}

/// The p-quantile of χ²(k), by bisection on statrs' CDF (the regularised incomplete
/// gamma function); statrs' own inverse stops after a fixed number of iterations.
fn chi2_quantile(k: f64, p: f64) -> f64 {
    let d = ChiSquared::new(k).unwrap();
    let (mut lo, mut hi) = (0.0, k + 100.0 * (2.0 * k).sqrt() + 100.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if d.cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Φ^{-1}(1 − ALPHA/2), the two-sided normal critical value (≈ 4.89).
fn z_crit() -> f64 {
    Normal::standard().inverse_cdf(1.0 - ALPHA / 2.0)
}

/// Checks that the x_i are i.i.d. N(mean, var) in scale: T = Σ (x_i − mean)² / var is
/// χ²(n) exactly when they are, so T outside the central 1 − ALPHA range of χ²(n)
/// happens with probability ALPHA. Also checks the sample mean (z-test, rate ALPHA).
fn assert_normal_sample(xs: &[f64], mean: f64, var: f64, what: &str) {
    let n = xs.len() as f64;
    let t: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / var;
    let (lo, hi) = (
        chi2_quantile(n, ALPHA / 2.0),
        chi2_quantile(n, 1.0 - ALPHA / 2.0),
    );
    assert!(
        lo < t && t < hi,
        "{what}: sum of squares / var = {t}, expected in ({lo}, {hi}) for chi2({n}); \
         empirical variance {} vs exact {var}",
        t / n * var
    );
    let z = (xs.iter().sum::<f64>() / n - mean) / (var / n).sqrt();
    assert!(
        z.abs() < z_crit(),
        "{what}: sample mean z-score {z}, exact mean {mean}"
    );
}

/// Var(x_n) for x_{k+1} = a x_k + b ξ_k, x_0 fixed: b² (1 − a^{2n}) / (1 − a²).
fn ar1_variance(a: f64, b: f64, n: u64) -> f64 {
    b * b * (1.0 - a.powi(2 * n as i32)) / (1.0 - a * a)
}

fn run_in_pool(threads: usize, f: impl FnOnce() -> SimResult + Send) -> SimResult {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

// ---------------------------------------------------------------- (1) reproducibility

/// A continuous double-well run with exits and some censoring.
fn dw_run(seed: u64) -> SimResult {
    let mut cfg = config(Dynamics::Continuous, 1.0, 1, 0.01, 400, seed);
    cfg.start = vec![-1.0];
    cfg.max_steps = 3_000;
    simulate(
        &double_well(),
        &Domain::Interval { lo: -10.0, hi: 0.0 },
        &Noise::Isotropic { sigma: 0.6 },
        &cfg,
    )
    .unwrap()
}

/// A discrete 3-D quadratic run leaving a ball.
fn ball_run(seed: u64) -> SimResult {
    let mut cfg = config(Dynamics::Discrete, 0.1, 2, 0.0, 300, seed);
    cfg.start = vec![0.0; 3];
    cfg.max_steps = 100;
    let domain = Domain::Ball {
        center: vec![0.0; 3],
        radius: 0.35,
    };
    simulate(
        &quadratic(3, 2.0),
        &domain,
        &Noise::Isotropic { sigma: 1.0 },
        &cfg,
    )
    .unwrap()
}

#[test]
fn results_do_not_depend_on_thread_count() {
    for run in [dw_run as fn(u64) -> SimResult, ball_run] {
        let one = run_in_pool(1, || run(7));
        let two = run_in_pool(2, || run(7));
        assert_eq!(one, two);
        // Both outcomes occur, so ordering and bookkeeping are really compared. This fails
        // spuriously with probability about 3e-7: 3.7% of double-well runs are censored
        // (estimated from 4000 runs), and 0.963^400 ≈ 3e-7; for the ball, 17%.
        assert!(
            one.exits > 0 && one.censored > 0,
            "exits {} censored {}",
            one.exits,
            one.censored
        );
        assert_eq!(one.exits + one.censored, one.trials);
    }
}

#[test]
fn same_seed_same_result_other_seed_other_result() {
    let a = dw_run(11);
    assert_eq!(a, dw_run(11));
    let b = dw_run(12);
    assert_ne!(a.exit_times, b.exit_times);
    assert_ne!(ball_run(11).exit_times, ball_run(12).exit_times);
}

/// Trajectory i depends only on (seed, i): a longer run extends a shorter one.
#[test]
fn trajectories_do_not_depend_on_trial_count() {
    let mut cfg = config(Dynamics::Discrete, 0.5, 1, 0.0, 50, 3);
    let domain = Domain::Interval { lo: -1.0, hi: 1.0 };
    let noise = Noise::Isotropic { sigma: 1.0 };
    let short = simulate(&quadratic(1, 1.0), &domain, &noise, &cfg).unwrap();
    cfg.trials = 200;
    let long = simulate(&quadratic(1, 1.0), &domain, &noise, &cfg).unwrap();
    assert_eq!(short.censored + long.censored, 0);
    assert_eq!(short.exit_times[..], long.exit_times[..50]);
}

/// Value stability: pins the streams. A change here changes every published result for
/// a given seed, so it must be deliberate (values from this implementation, 2026).
#[test]
fn trajectory_streams_are_pinned() {
    let first = |seed, i| {
        let mut r = trajectory_rng(seed, i);
        [r.next_u64(), r.next_u64()]
    };
    assert_eq!(first(0, 0), PINNED_0_0);
    assert_eq!(first(42, 7), PINNED_42_7);
    assert_ne!(first(0, 0), first(0, 1));
    assert_ne!(first(0, 0), first(1, 0));
}
const PINNED_0_0: [u64; 2] = [9579327875526494010, 14425024493257680155];
const PINNED_42_7: [u64; 2] = [5456055315174493317, 7429705275682227825];

#[test]
fn progress_is_called_once_per_trajectory() {
    let calls = AtomicUsize::new(0);
    let seen = Mutex::new(Vec::new());
    let cfg = config(Dynamics::Discrete, 0.5, 1, 0.0, 37, 1);
    simulate_with_progress(
        &quadratic(1, 1.0),
        &Domain::Interval { lo: -1.0, hi: 1.0 },
        &Noise::Isotropic { sigma: 1.0 },
        &cfg,
        &|n| {
            calls.fetch_add(1, Ordering::Relaxed);
            seen.lock().unwrap().push(n);
        },
    )
    .unwrap();
    let mut seen = seen.into_inner().unwrap();
    seen.sort_unstable();
    assert_eq!(calls.into_inner(), 37);
    assert_eq!(seen, (1..=37).collect::<Vec<_>>());
}

// ---------------------------------------------------------------- (1b) shards

/// A continuous double-well run with the bridge correction (exits, bridge crossings and
/// censoring), as one run or one shard of it.
fn dw_bridge_run(seed: u64, shard: Shard) -> SimResult {
    let mut cfg = config(Dynamics::Continuous, 1.0, 1, 0.01, 301, seed);
    cfg.start = vec![-1.0];
    cfg.max_steps = 3_000;
    cfg.bridge = true;
    cfg.shard = shard;
    simulate(
        &double_well(),
        &Domain::Interval { lo: -10.0, hi: 0.0 },
        &Noise::Isotropic { sigma: 0.6 },
        &cfg,
    )
    .unwrap()
}

/// A discrete 3-D quadratic leaving a ball, as one run or one shard of it.
fn ball_shard_run(seed: u64, shard: Shard) -> SimResult {
    let mut cfg = config(Dynamics::Discrete, 0.1, 2, 0.0, 200, seed);
    cfg.start = vec![0.0; 3];
    cfg.max_steps = 100;
    cfg.shard = shard;
    let domain = Domain::Ball {
        center: vec![0.0; 3],
        radius: 0.35,
    };
    simulate(
        &quadratic(3, 2.0),
        &domain,
        &Noise::Isotropic { sigma: 1.0 },
        &cfg,
    )
    .unwrap()
}

fn shard(index: u64, count: u64) -> Shard {
    Shard { index, count }
}

#[test]
fn bridge_results_do_not_depend_on_thread_count() {
    let one = run_in_pool(1, || dw_bridge_run(5, Shard::default()));
    let two = run_in_pool(2, || dw_bridge_run(5, Shard::default()));
    assert_eq!(one, two);
    assert!(one.exits > 0 && one.censored > 0);
    assert_eq!(one.outcomes.len(), one.trials);
}

/// Shards k/3 run trajectories k, k+3, …; merged in any order they are exactly the
/// unsharded result (every field, times in trajectory-index order).
#[test]
fn merged_shards_equal_the_unsharded_run() {
    for run in [dw_bridge_run as fn(u64, Shard) -> SimResult, ball_shard_run] {
        let whole = run(9, Shard::default());
        let parts: Vec<SimResult> = (0..3).map(|k| run(9, shard(k, 3))).collect();
        // 301 = 3·100 + 1 and 200 = 3·66 + 2 trajectories: shards of unequal size.
        let sizes: Vec<usize> = parts.iter().map(|p| p.trials).collect();
        assert_eq!(sizes.iter().sum::<usize>(), whole.trials);
        assert!(sizes[0] > sizes[2], "{sizes:?}");
        // Each shard's outcomes are the unsharded run's outcomes k, k+3, …
        for (k, p) in parts.iter().enumerate() {
            let want: Vec<_> = whole.outcomes.iter().skip(k).step_by(3).copied().collect();
            assert_eq!(p.outcomes, want);
        }
        assert_eq!(merge_results(&parts).unwrap(), whole);
        let reordered = [parts[2].clone(), parts[0].clone(), parts[1].clone()];
        assert_eq!(merge_results(&reordered).unwrap(), whole);
        // Two threads for the shards, one for the whole: still equal.
        let parts2: Vec<SimResult> = (0..3)
            .map(|k| run_in_pool(2, || run(9, shard(k, 3))))
            .collect();
        assert_eq!(merge_results(&parts2).unwrap(), whole);
        // One shard of one is the whole run.
        assert_eq!(merge_results(std::slice::from_ref(&whole)).unwrap(), whole);
    }
}

/// More shards than trajectories: the surplus shards are empty and still merge.
#[test]
fn shards_may_be_empty() {
    let run = |s: Shard| {
        let mut cfg = config(Dynamics::Discrete, 0.5, 1, 0.0, 3, 4);
        cfg.shard = s;
        simulate(
            &quadratic(1, 1.0),
            &Domain::Interval { lo: -1.0, hi: 1.0 },
            &Noise::Isotropic { sigma: 1.0 },
            &cfg,
        )
        .unwrap()
    };
    let parts: Vec<SimResult> = (0..5).map(|k| run(shard(k, 5))).collect();
    assert_eq!(parts[4].trials, 0);
    assert!(parts[4].exit_times.is_empty() && parts[4].total_steps == 0);
    assert_eq!(merge_results(&parts).unwrap(), run(Shard::default()));
}

#[test]
fn merging_parts_of_different_runs_is_an_error() {
    let parts: Vec<SimResult> = (0..3).map(|k| ball_shard_run(9, shard(k, 3))).collect();
    let is_merge_error = |r: Result<SimResult, SimError>, what: &str| match r {
        Err(SimError::Merge(m)) => m,
        other => panic!("{what}: expected a merge error, got {other:?}"),
    };
    // Missing and repeated shards.
    let m = is_merge_error(merge_results(&parts[..2]), "missing");
    assert!(m.contains("2/3 is missing"), "{m}");
    let m = is_merge_error(
        merge_results(&[parts[0].clone(), parts[1].clone(), parts[1].clone()]),
        "twice",
    );
    assert!(m.contains("missing") || m.contains("twice"), "{m}");
    let m = is_merge_error(
        merge_results(&[
            parts[0].clone(),
            parts[1].clone(),
            parts[2].clone(),
            parts[1].clone(),
        ]),
        "overlap",
    );
    assert!(m.contains("1/3 is given twice"), "{m}");
    is_merge_error(merge_results(&[]), "no parts");
    // Another seed, another configuration, another problem, another split.
    let other_seed = ball_shard_run(10, shard(2, 3));
    let m = is_merge_error(
        merge_results(&[parts[0].clone(), parts[1].clone(), other_seed]),
        "seed",
    );
    assert!(m.contains("different configurations"), "{m}");
    let mut other_cap = parts[2].clone();
    other_cap.config.max_steps += 1;
    is_merge_error(
        merge_results(&[parts[0].clone(), parts[1].clone(), other_cap]),
        "max_steps",
    );
    let mut other_problem = parts[2].clone();
    other_problem.problem = dw_bridge_run(9, shard(2, 3)).problem;
    let m = is_merge_error(
        merge_results(&[parts[0].clone(), parts[1].clone(), other_problem]),
        "problem",
    );
    assert!(m.contains("another problem"), "{m}");
    let quarter = ball_shard_run(9, shard(2, 4));
    let m = is_merge_error(
        merge_results(&[parts[0].clone(), parts[1].clone(), quarter]),
        "split",
    );
    assert!(m.contains("split into 4"), "{m}");
    // A part whose records do not match its times or totals.
    let mut tampered = parts[1].clone();
    tampered.outcomes.pop();
    is_merge_error(
        merge_results(&[parts[0].clone(), tampered, parts[2].clone()]),
        "records",
    );
    let mut tampered = parts[1].clone();
    tampered.exit_times[0] *= 2.0;
    is_merge_error(
        merge_results(&[parts[0].clone(), tampered, parts[2].clone()]),
        "times",
    );
    // Different noise is another problem too.
    let mut cfg = parts[0].config.clone();
    cfg.shard = shard(0, 3);
    let noisier = simulate(
        &quadratic(3, 2.0),
        &Domain::Ball {
            center: vec![0.0; 3],
            radius: 0.35,
        },
        &Noise::Isotropic { sigma: 1.1 },
        &cfg,
    )
    .unwrap();
    is_merge_error(
        merge_results(&[noisier, parts[1].clone(), parts[2].clone()]),
        "noise",
    );
}

#[test]
fn shards_parse_print_and_validate() {
    assert_eq!("2/8".parse::<Shard>().unwrap(), shard(2, 8));
    assert_eq!(" 0 / 1 ".parse::<Shard>().unwrap(), Shard::default());
    assert_eq!(shard(3, 5).to_string(), "3/5");
    for bad in ["3/3", "1/0", "x/2", "2", "-1/2", "1/2/3", ""] {
        assert!(
            matches!(bad.parse::<Shard>(), Err(SimError::InvalidShard { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(shard(0, 3).len(301), 101);
    assert_eq!(shard(2, 3).len(301), 100);
    assert_eq!(shard(4, 5).len(3), 0);
    assert_eq!(shard(2, 3).trajectory(10), 32);
    let mut cfg = config(Dynamics::Discrete, 0.5, 1, 0.0, 10, 1);
    cfg.shard = shard(3, 3);
    let err = simulate(
        &quadratic(1, 1.0),
        &huge_interval(),
        &Noise::Isotropic { sigma: 1.0 },
        &cfg,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "shard 3/3: expected k/n with n ≥ 1 and 0 ≤ k < n"
    );
    // A config without a shard (older JSON) is the whole run.
    let mut json: serde_json::Value =
        serde_json::to_value(config(Dynamics::Discrete, 0.5, 1, 0.0, 10, 1)).unwrap();
    json.as_object_mut().unwrap().remove("shard");
    let back: SimConfig = serde_json::from_value(json).unwrap();
    assert_eq!(back.shard, Shard::default());
}

// ---------------------------------------------------------------- (2) censoring

#[test]
fn runs_at_the_cap_are_censored_not_exits() {
    for (dynamics, dt, cap_time) in [
        (Dynamics::Continuous, 0.01, 3.0 * 0.01),
        (Dynamics::Discrete, 0.0, 3.0),
    ] {
        let mut cfg = config(dynamics, 0.1, 1, dt, 100, 5);
        cfg.max_steps = 3;
        let r = simulate(
            &double_well(),
            &huge_interval(),
            &Noise::Isotropic { sigma: 1.0 },
            &cfg,
        )
        .unwrap();
        assert_eq!((r.exits, r.censored, r.trials), (0, 100, 100));
        assert!(r.exit_times.is_empty());
        assert!(
            r.censor_times.iter().all(|&t| t == cap_time),
            "{:?}",
            r.censor_times
        );
        assert_eq!(r.total_steps, 300);
        assert_eq!(
            r.unit,
            if dynamics == Dynamics::Continuous {
                Unit::Time
            } else {
                Unit::Iterations
            }
        );
    }
}

// ------------------------------------------------- exact exit-time law (geometric)

/// With h·λ = 1 the step θ' = θ − hλθ + sσξ forgets θ: θ_k = sσ ξ_k are i.i.d., so the
/// exit step from (−r, r) is Geometric(p), p = P(|sσξ| ≥ r) = 2(1 − Φ(r/(sσ))), for
/// both models. With the cap K the cells "exit at step k" (k = 1..K) and "censored"
/// have probabilities p(1−p)^{k−1} and (1−p)^K. Pearson's statistic over these K+1
/// cells is approximately χ²(K); rejecting above its 1 − ALPHA quantile fails a correct
/// simulator with probability ≈ ALPHA (chi-square approximation; every expected count
/// is ≥ 700 here). An off-by-one in the step count or a censored run counted as an exit
/// moves whole cells and fails by hundreds of standard deviations.
fn check_geometric_exit_law(
    dynamics: Dynamics,
    lambda: f64,
    eta: f64,
    batch: u32,
    dt: f64,
    seed: u64,
) {
    let (n, cap, sigma) = (20_000usize, 10u64, 1.0);
    let (h, s) = match dynamics {
        Dynamics::Continuous => (dt, (eta / batch as f64).sqrt() * dt.sqrt()),
        Dynamics::Discrete => (eta, eta / (batch as f64).sqrt()),
        Dynamics::Minibatch => unreachable!("a Gaussian-noise case"),
    };
    assert_eq!(h * lambda, 1.0);
    let unit_time = if dynamics == Dynamics::Continuous {
        dt
    } else {
        1.0
    };
    // r so that p = 0.1.
    let r = s * sigma * Normal::standard().inverse_cdf(0.95);
    let p = 2.0 * (1.0 - Normal::standard().cdf(r / (s * sigma)));
    let mut cfg = config(dynamics, eta, batch, dt, n, seed);
    cfg.max_steps = cap;
    let res = simulate(
        &quadratic(1, lambda),
        &Domain::Interval { lo: -r, hi: r },
        &Noise::Isotropic { sigma },
        &cfg,
    )
    .unwrap();

    let mut counts = vec![0usize; cap as usize + 1];
    for &t in &res.exit_times {
        let k = t / unit_time;
        assert!(
            k == k.round() && (1.0..=cap as f64).contains(&k),
            "exit time {t} is not k·{unit_time}, 1 ≤ k ≤ {cap}"
        );
        counts[k as usize - 1] += 1;
    }
    assert!(res
        .censor_times
        .iter()
        .all(|&t| t == cap as f64 * unit_time));
    counts[cap as usize] = res.censored;
    let mut stat = 0.0;
    for (k, &c) in counts.iter().enumerate() {
        let prob = if k < cap as usize {
            p * (1.0 - p).powi(k as i32)
        } else {
            (1.0 - p).powi(cap as i32)
        };
        let e = n as f64 * prob;
        assert!(e >= 700.0);
        stat += (c as f64 - e).powi(2) / e;
    }
    let crit = chi2_quantile(cap as f64, 1.0 - ALPHA);
    assert!(
        stat < crit,
        "{dynamics:?}: Pearson statistic {stat} ≥ {crit}; counts {counts:?}, p = {p}"
    );
    assert_eq!(
        res.total_steps,
        counts
            .iter()
            .enumerate()
            .map(|(k, &c)| (k as u64 + 1).min(cap) * c as u64)
            .sum::<u64>()
    );
}

#[test]
fn discrete_exit_step_is_geometric_when_memoryless() {
    check_geometric_exit_law(Dynamics::Discrete, 2.0, 0.5, 4, 0.0, 101);
}

#[test]
fn continuous_exit_time_is_geometric_when_memoryless() {
    check_geometric_exit_law(Dynamics::Continuous, 4.0, 0.5, 2, 0.25, 102);
}

// ---------------------------------------------------------------- (3) discrete AR(1)

/// Discrete SGD on L = λx²/2 is the AR(1) x_{k+1} = (1 − ηλ) x_k + (ησ/√B) ξ_k, so from
/// a fixed x_0 the state x_n is exactly N(a^n x_0, b²(1 − a^{2n})/(1 − a²)), a = 1 − ηλ,
/// b = ησ/√B; for large n the variance is the stationary η²σ²/B / (1 − (1 − ηλ)²).
struct Ar1 {
    dim: usize,
    lambda: f64,
    eta: f64,
    batch: u32,
    sigma: f64,
    x0: f64,
    steps: u64,
    trials: usize,
    seed: u64,
}

fn check_discrete_ar1(c: Ar1) {
    let mut cfg = config(Dynamics::Discrete, c.eta, c.batch, 0.0, c.trials, c.seed);
    cfg.start = vec![c.x0; c.dim];
    let noise = Noise::Isotropic { sigma: c.sigma };
    let xs: Vec<f64> = sample_positions(&quadratic(c.dim, c.lambda), &noise, &cfg, c.steps)
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(xs.len(), c.dim * c.trials);
    let (a, b) = (
        1.0 - c.eta * c.lambda,
        c.eta * c.sigma / (c.batch as f64).sqrt(),
    );
    let what = format!(
        "discrete AR(1) d={} λ={} η={} B={} σ={} x0={} n={}",
        c.dim, c.lambda, c.eta, c.batch, c.sigma, c.x0, c.steps
    );
    let mean = a.powi(c.steps as i32) * c.x0;
    assert_normal_sample(&xs, mean, ar1_variance(a, b, c.steps), &what);
}

/// Stationary regime: 0.81^400 < 1e-36, so the variance is the stationary one.
#[test]
fn discrete_quadratic_stationary_variance() {
    check_discrete_ar1(Ar1 {
        dim: 1,
        lambda: 1.0,
        eta: 0.1,
        batch: 4,
        sigma: 1.0,
        x0: 0.0,
        steps: 200,
        trials: 20_000,
        seed: 201,
    });
}

/// ηλ = 1.5: a = −0.5, an oscillating iteration whose variance (b²/0.75) is far from the
/// continuous model's ησ²/(2λB).
#[test]
fn discrete_quadratic_stationary_variance_large_step() {
    check_discrete_ar1(Ar1 {
        dim: 1,
        lambda: 3.0,
        eta: 0.5,
        batch: 1,
        sigma: 0.7,
        x0: 0.0,
        steps: 60,
        trials: 20_000,
        seed: 202,
    });
}

/// Transient from x_0 = 1 after 10 steps (mean 0.9^10): the non-stationary law, in d = 5
/// (coordinates are independent, so 4000 trials give 20 000 samples).
#[test]
fn discrete_quadratic_transient_in_five_dimensions() {
    check_discrete_ar1(Ar1 {
        dim: 5,
        lambda: 1.0,
        eta: 0.1,
        batch: 4,
        sigma: 1.0,
        x0: 1.0,
        steps: 10,
        trials: 4_000,
        seed: 203,
    });
}

// ---------------------------------------------------------------- (4) continuous EM OU

/// Euler–Maruyama for dX = −λX dt + κσ dW is x_{k+1} = (1 − λdt) x_k + κσ√dt ξ_k, an
/// AR(1) with stationary variance κ²σ²dt / (1 − (1 − λdt)²) = κ²σ²/(λ(2 − λdt))
/// = [κ²σ²/(2λ)] / (1 − λdt/2): the SDE's variance inflated by 1/(1 − λdt/2).
/// At λdt = 0.2 that factor is 1.11, which the test resolves: the second check, that
/// the SDE's own variance κ²σ²/(2λ) is rejected, fails only if the estimate is > 6
/// standard errors off (probability < 1e-9).
#[test]
fn euler_maruyama_ou_stationary_variance() {
    let (lambda, eta, batch, sigma, dt, n) = (1.0, 0.5, 2u32, 0.8, 0.2, 150u64);
    let cfg = config(Dynamics::Continuous, eta, batch, dt, 20_000, 301);
    let xs: Vec<f64> =
        sample_positions(&quadratic(1, lambda), &Noise::Isotropic { sigma }, &cfg, n)
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
    let k2 = eta / batch as f64;
    let a = 1.0 - lambda * dt;
    let b = (k2 * dt).sqrt() * sigma;
    let exact_em = k2 * sigma * sigma / (lambda * (2.0 - lambda * dt));
    assert!((ar1_variance(a, b, n) / exact_em - 1.0).abs() < 1e-12);
    assert_normal_sample(&xs, 0.0, exact_em, "Euler–Maruyama OU");

    let sde = k2 * sigma * sigma / (2.0 * lambda);
    let emp = xs.iter().map(|x| x * x).sum::<f64>() / xs.len() as f64;
    let se = sde * (2.0 / xs.len() as f64).sqrt();
    assert!(
        (emp - sde).abs() > 4.0 * se,
        "the EM variance {emp} should differ from the SDE's {sde}"
    );
}

// ---------------------------------------------------------------- (5) bad configurations

fn err_of(cfg: &SimConfig, landscape: &Landscape, domain: &Domain, noise: &Noise) -> SimError {
    simulate(landscape, domain, noise, cfg).expect_err("configuration should be rejected")
}

#[test]
fn bad_configurations_are_rejected_with_the_parameter_named() {
    let good = || {
        let mut c = config(Dynamics::Continuous, 0.1, 4, 0.01, 10, 0);
        c.max_steps = 10;
        c
    };
    let l = quadratic(1, 1.0);
    let dom = Domain::Interval { lo: -1.0, hi: 1.0 };
    let iso = Noise::Isotropic { sigma: 1.0 };
    assert!(simulate(&l, &dom, &iso, &good()).is_ok());

    type Edit = Box<dyn Fn(&mut SimConfig)>;
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|c| c.dt = -0.1), "dt must be positive, got -0.1"),
        (Box::new(|c| c.dt = 0.0), "dt must be positive, got 0"),
        (
            Box::new(|c| c.dt = f64::NAN),
            "dt must be positive, got NaN",
        ),
        (
            Box::new(|c| c.dt = f64::INFINITY),
            "dt must be finite, got inf",
        ),
        (Box::new(|c| c.eta = 0.0), "eta must be positive, got 0"),
        (Box::new(|c| c.eta = -1.0), "eta must be positive, got -1"),
        (Box::new(|c| c.batch = 0), "batch must be at least 1, got 0"),
        (
            Box::new(|c| c.trials = 0),
            "trials must be at least 1, got 0",
        ),
        (
            Box::new(|c| c.max_steps = 0),
            "max_steps must be at least 1, got 0",
        ),
        (
            Box::new(|c| c.start = vec![0.0, 0.0]),
            "start has dimension 2, but the landscape has dimension 1",
        ),
        (
            Box::new(|c| c.start = vec![f64::NAN]),
            "start must be finite, got [NaN]",
        ),
        (
            Box::new(|c| c.start = vec![1.0]),
            "start [1.0] is not inside the domain",
        ),
        (
            Box::new(|c| c.start = vec![5.0]),
            "start [5.0] is not inside the domain",
        ),
    ];
    for (edit, message) in cases {
        let mut c = good();
        edit(&mut c);
        let e = err_of(&c, &l, &dom, &iso).to_string();
        assert!(e.starts_with(message), "got `{e}`, expected `{message}…`");
    }
    for sigma in [0.0, -2.0, f64::NAN] {
        let e = err_of(&good(), &l, &dom, &Noise::Isotropic { sigma }).to_string();
        assert!(e.starts_with("sigma must be positive"), "{e}");
    }
    let ball = Domain::Ball {
        center: vec![0.0; 2],
        radius: 1.0,
    };
    assert_eq!(
        err_of(&good(), &l, &ball, &iso),
        SimError::DomainDimension {
            expected: 1,
            got: 2
        }
    );
    // dt is not used by discrete dynamics, so it is not checked there.
    let mut c = good();
    c.dynamics = Dynamics::Discrete;
    c.dt = -0.1;
    assert!(simulate(&l, &dom, &iso, &c).is_ok());
    // sample_positions validates the same fields (max_steps aside).
    let mut c = good();
    c.eta = f64::NAN;
    assert!(sample_positions(&l, &iso, &c, 5)
        .unwrap_err()
        .to_string()
        .starts_with("eta must be positive"));
}

// ---------------------------------------------------------------- serde

#[test]
fn enums_serialise_lowercase_and_results_round_trip() {
    assert_eq!(
        serde_json::to_string(&Dynamics::Continuous).unwrap(),
        "\"continuous\""
    );
    assert_eq!(
        serde_json::to_string(&Dynamics::Discrete).unwrap(),
        "\"discrete\""
    );
    assert_eq!(
        serde_json::to_string(&Unit::Iterations).unwrap(),
        "\"iterations\""
    );
    let r = ball_run(1);
    let back: SimResult = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(r, back);
}
