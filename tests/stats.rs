//! Tests of `escapecert::stats` (THEORY.md §7): reference values, coverage, WLS, serde.
//!
//! Reference values marked "mpmath" were computed with mpmath 1.3.0 at mp.dps = 30 by
//! bracketed bisection on the regularized incomplete gamma / beta functions (and, for the
//! t law with 1e5 dof, on the quadrature of its density); each was cross-checked against
//! scipy 1.17.1 (`scipy.stats.chi2.ppf/isf/sf`, `scipy.stats.t.isf`, `scipy.stats.norm.isf`),
//! which agrees to ~1e-15. The script, for the record:
//!
//! ```python
//! from mpmath import mp, mpf; import mpmath; mp.dps = 30
//! def bisect(f, lo, hi, n=200):          # f increasing, f(lo) < 0 < f(hi)
//!     for _ in range(n):
//!         mid = (lo+hi)/2 if lo <= 0 or hi/lo < 4 else mpmath.sqrt(lo*hi)
//!         lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
//!     return (lo+hi)/2
//! chi2_lower = lambda p, k: bisect(lambda x: mpmath.gammainc(mpf(k)/2, 0, x/2, regularized=True) - p, mpf(0), 10*k+200)
//! chi2_upper = lambda q, k: bisect(lambda x: q - mpmath.gammainc(mpf(k)/2, x/2, mpmath.inf, regularized=True), mpf(0), 10*k+200)
//! t_upper = lambda q, nu: bisect(lambda x: q - mpmath.betainc(mpf(nu)/2, mpf(1)/2, 0, nu/(nu+x*x), regularized=True)/2, mpf(0), mpf(1000))
//! ```
//!
//! Coverage tests repeat an experiment 400 times with a fixed seed and count how often the
//! 95% interval covers the truth. Each threshold `k` is the smallest count with
//! `P(Binomial(400, p0) < k) < 1e-4` (scipy.stats.binom.cdf) for a stated lower bound `p0`
//! on the true coverage, so a correct implementation fails with probability < 1e-4 over
//! the choice of seed.

// reference values are pasted with all the digits their source printed
#![allow(clippy::excessive_precision)]

use escapecert::stats::quantile::{
    chi2_lower_quantile, chi2_sf, chi2_upper_quantile, normal_upper_quantile,
    student_t_upper_quantile,
};
use escapecert::stats::{
    bootstrap_mean, censored_exponential_mean, holm_adjusted_p_values, holm_bonferroni,
    holm_step_down, log_interval, log_mean_se, t_interval_mean, weighted_slope, Estimate,
    LinearFit, StatsError,
};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

fn assert_rel(got: f64, want: f64, tol: f64, what: &str) {
    let rel = ((got - want) / want).abs();
    assert!(
        rel <= tol,
        "{what}: got {got:e}, want {want:e}, rel err {rel:e} > {tol:e}"
    );
}

fn exp_sample(rng: &mut Xoshiro256PlusPlus, mean: f64) -> f64 {
    // inverse transform; 1 - U is in (0, 1]
    -mean * (1.0 - rng.random::<f64>()).ln()
}

fn normal_sample(rng: &mut Xoshiro256PlusPlus) -> f64 {
    // Box–Muller
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

// ---------------------------------------------------------------------------------------
// Quantiles against mpmath / scipy
// ---------------------------------------------------------------------------------------

#[test]
fn chi2_quantiles_match_mpmath() {
    // (dof, χ²_{0.025}(dof), χ²_{0.975}(dof)), mpmath dps 30 (see header).
    let table = [
        (2.0, 0.050635615968579750807, 7.3777589082278726057),
        (4.0, 0.4844185570879298058, 11.143286781877797194),
        (8.0, 2.1797307472526497506, 17.534546139484652079),
        (10.0, 3.2469727802368410762, 20.483177350807396552),
        (22.0, 10.982320734473676564, 36.780712084035557441),
        (42.0, 25.998661968152373565, 61.776755805349197713),
        (200.0, 162.72798250184628087, 241.05789550631092264),
    ];
    for (k, lo, hi) in table {
        assert_rel(
            chi2_lower_quantile(0.025, k).unwrap(),
            lo,
            1e-13,
            "chi2 lower",
        );
        assert_rel(
            chi2_upper_quantile(0.025, k).unwrap(),
            hi,
            1e-13,
            "chi2 upper",
        );
    }
    // far tails (statrs' own inverse_cdf returns NaN for the first two)
    assert_rel(
        chi2_lower_quantile(1e-10, 1.0).unwrap(),
        1.5707963267948966192e-20,
        1e-12,
        "chi2 lower p=1e-10 dof=1",
    );
    assert_rel(
        chi2_lower_quantile(1e-6, 2.0).unwrap(),
        2.0000010000006666672e-6,
        1e-12,
        "chi2 lower p=1e-6 dof=2",
    );
    assert_rel(
        chi2_upper_quantile(1e-10, 2.0).unwrap(),
        46.05170185988091368,
        1e-13,
        "chi2 upper q=1e-10 dof=2",
    );
    // P(χ²(5) > 10), mpmath
    assert_rel(
        chi2_sf(10.0, 5.0).unwrap(),
        0.075235246146512178722,
        1e-13,
        "chi2 sf",
    );
    assert_eq!(chi2_sf(0.0, 3.0).unwrap(), 1.0);
}

#[test]
fn t_and_normal_quantiles_match_mpmath() {
    // t_{0.975}(ν), mpmath dps 30 (ν = 1e5: quadrature of the density).
    let table = [
        (1.0, 12.706204736174704646),
        (4.0, 2.7764451051977943578),
        (9.0, 2.2621571627982055426),
        (199.0, 1.9719565442517538344),
        (100000.0, 1.9599877075346096386),
    ];
    for (nu, t) in table {
        assert_rel(
            student_t_upper_quantile(0.025, nu).unwrap(),
            t,
            1e-12,
            "t upper",
        );
        assert_rel(
            student_t_upper_quantile(0.975, nu).unwrap(),
            -t,
            1e-12,
            "t lower",
        );
    }
    assert_eq!(student_t_upper_quantile(0.5, 7.0).unwrap(), 0.0);
    assert_rel(
        normal_upper_quantile(0.025).unwrap(),
        1.9599639845400542355,
        1e-15,
        "z",
    );
}

#[test]
fn quantiles_reject_bad_arguments() {
    for p in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
        assert!(chi2_lower_quantile(p, 3.0).is_err());
        assert!(chi2_upper_quantile(p, 3.0).is_err());
        assert!(student_t_upper_quantile(p, 3.0).is_err());
        assert!(normal_upper_quantile(p).is_err());
    }
    for dof in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(chi2_lower_quantile(0.1, dof).is_err());
        assert!(student_t_upper_quantile(0.1, dof).is_err());
    }
}

// ---------------------------------------------------------------------------------------
// Censored exponential mean
// ---------------------------------------------------------------------------------------

#[test]
fn censored_mean_worked_example() {
    // m = 4 exits, 2 runs censored at 3.0: T = 9.8, estimate 2.45,
    // [2T/χ²_{0.975}(10), 2T/χ²_{0.025}(8)] (mpmath dps 30).
    let e = censored_exponential_mean(&[0.5, 1.2, 2.0, 0.1], &[3.0, 3.0], 0.95).unwrap();
    assert_rel(e.estimate, 2.45, 1e-15, "estimate");
    assert_rel(e.lo, 0.95688279529676659907, 1e-13, "lo");
    assert_rel(e.hi, 8.9919362860316570742, 1e-13, "hi");
    assert_eq!(e.n, 6);
    assert_eq!(e.level, 0.95);
    assert_eq!(e.method, "censored-exponential-chi2");
    assert!(e.contains(2.45) && !e.contains(0.9) && !e.contains(9.0));
}

#[test]
fn censored_mean_without_exits() {
    // m = 0: estimate +inf, lo = 2T/χ²_{0.975}(2) with T = 4.5 (mpmath), hi = +inf.
    let e = censored_exponential_mean(&[], &[1.0, 2.0, 1.5], 0.95).unwrap();
    assert_eq!(e.estimate, f64::INFINITY);
    assert_eq!(e.hi, f64::INFINITY);
    assert_rel(e.lo, 1.2198826380681755621, 1e-13, "lo");
    assert_eq!(e.n, 3);
}

#[test]
fn censored_mean_rejects_bad_input() {
    assert!(matches!(
        censored_exponential_mean(&[], &[], 0.95),
        Err(StatsError::EmptySample { .. })
    ));
    assert!(matches!(
        censored_exponential_mean(&[1.0], &[], 1.0),
        Err(StatsError::InvalidLevel(_))
    ));
    assert!(matches!(
        censored_exponential_mean(&[1.0], &[], 0.0),
        Err(StatsError::InvalidLevel(_))
    ));
    assert!(matches!(
        censored_exponential_mean(&[1.0, f64::NAN], &[], 0.95),
        Err(StatsError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        censored_exponential_mean(&[1.0], &[f64::INFINITY], 0.95),
        Err(StatsError::NonFinite { .. })
    ));
    assert!(matches!(
        censored_exponential_mean(&[1.0, -2.0], &[], 0.95),
        Err(StatsError::Negative { index: 1, .. })
    ));
}

#[test]
fn censored_mean_coverage() {
    // 400 experiments: 40 runs with exponential exit times of mean 2, each stopped at the
    // median cap 2 ln 2 (about half censored). Measured coverage of this design: 0.9608
    // (2e5 repetitions, numpy/scipy); the interval is conservative, so p0 = 0.95 and the
    // threshold is 362: P(Binomial(400, 0.95) <= 361) = 6.7e-5 < 1e-4.
    let mean = 2.0;
    let cap = mean * std::f64::consts::LN_2;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(20240513);
    let mut covered = 0;
    let mut exits = Vec::new();
    let mut censored = Vec::new();
    for _ in 0..400 {
        exits.clear();
        censored.clear();
        for _ in 0..40 {
            let tau = exp_sample(&mut rng, mean);
            if tau < cap {
                exits.push(tau);
            } else {
                censored.push(cap);
            }
        }
        let e = censored_exponential_mean(&exits, &censored, 0.95).unwrap();
        assert!(e.lo <= e.estimate && e.estimate <= e.hi);
        if e.contains(mean) {
            covered += 1;
        }
    }
    eprintln!("censored-exponential coverage: {covered}/400");
    assert!(covered >= 362, "censored coverage {covered}/400 < 362");
}

// ---------------------------------------------------------------------------------------
// t interval and bootstrap
// ---------------------------------------------------------------------------------------

#[test]
fn t_interval_worked_example() {
    // 1..5: mean 3, s = sqrt(2.5), 3 ± t_{0.975}(4) s/sqrt(5) (mpmath).
    let e = t_interval_mean(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap();
    assert_rel(e.estimate, 3.0, 1e-15, "mean");
    assert_rel(e.lo, 1.0367568385224423023, 1e-13, "lo");
    assert_rel(e.hi, 4.9632431614775576977, 1e-13, "hi");
    assert_eq!((e.n, e.method.as_str()), (5, "student-t"));
    assert!(matches!(
        t_interval_mean(&[1.0], 0.95),
        Err(StatsError::TooFewPoints { .. })
    ));
    assert!(t_interval_mean(&[], 0.95).is_err());
    assert!(t_interval_mean(&[1.0, f64::NAN], 0.95).is_err());
    assert!(t_interval_mean(&[1.0, 2.0], 1.5).is_err());
}

#[test]
fn t_interval_coverage_exponential() {
    // n = 200 exponential samples of mean 1. The t interval is only asymptotically exact;
    // for this skewed law its measured coverage is 0.9462 (1e5 repetitions, numpy/scipy).
    // p0 = 0.94 gives threshold 357: P(Binomial(400, 0.94) <= 356) = 9.3e-5 < 1e-4.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut covered = 0;
    let mut x = vec![0.0; 200];
    for _ in 0..400 {
        for v in x.iter_mut() {
            *v = exp_sample(&mut rng, 1.0);
        }
        if t_interval_mean(&x, 0.95).unwrap().contains(1.0) {
            covered += 1;
        }
    }
    eprintln!("t-interval coverage: {covered}/400");
    assert!(covered >= 357, "t coverage {covered}/400 < 357");
}

#[test]
fn bootstrap_is_deterministic_and_sane() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let x: Vec<f64> = (0..500).map(|_| exp_sample(&mut rng, 1.0)).collect();
    let a = bootstrap_mean(&x, 0.95, 999, 42).unwrap();
    let b = bootstrap_mean(&x, 0.95, 999, 42).unwrap();
    let c = bootstrap_mean(&x, 0.95, 999, 43).unwrap();
    assert_eq!(a, b);
    assert_ne!((a.lo, a.hi), (c.lo, c.hi));
    assert_eq!((a.n, a.method.as_str()), (500, "bootstrap-percentile"));
    assert!(a.lo < a.estimate && a.estimate < a.hi);
    // close to the t interval for n = 500 (both ≈ ±1.96 s/√n)
    let t = t_interval_mean(&x, 0.95).unwrap();
    assert_rel(a.estimate, t.estimate, 1e-14, "mean");
    let (wb, wt) = (a.hi - a.lo, t.hi - t.lo);
    assert!(
        (wb / wt - 1.0).abs() < 0.15,
        "bootstrap width {wb} vs t width {wt}"
    );
    assert!(bootstrap_mean(&x, 0.95, 0, 1).is_err());
    assert!(bootstrap_mean(&x[..1], 0.95, 10, 1).is_err());
    assert!(bootstrap_mean(&x, f64::NAN, 10, 1).is_err());
}

#[test]
fn bootstrap_coverage_exponential() {
    // n = 200 exponential samples, 499 resamples. Measured coverage 0.945 ± 0.003 (6000
    // repetitions, numpy); p0 = 0.93 gives threshold 351:
    // P(Binomial(400, 0.93) <= 350) = 5.8e-5 < 1e-4.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let mut covered = 0;
    let mut x = vec![0.0; 200];
    for rep in 0..400u64 {
        for v in x.iter_mut() {
            *v = exp_sample(&mut rng, 1.0);
        }
        if bootstrap_mean(&x, 0.95, 499, 1000 + rep)
            .unwrap()
            .contains(1.0)
        {
            covered += 1;
        }
    }
    eprintln!("bootstrap coverage: {covered}/400");
    assert!(covered >= 351, "bootstrap coverage {covered}/400 < 351");
}

// ---------------------------------------------------------------------------------------
// Weighted least squares
// ---------------------------------------------------------------------------------------

#[test]
fn wls_exact_affine_data() {
    // y = -1.25 + 3.5 x exactly, with tiny stated errors: exact slope, tiny interval.
    let x: Vec<f64> = (0..10).map(|i| 0.5 + i as f64 * 0.75).collect();
    let y: Vec<f64> = x.iter().map(|x| -1.25 + 3.5 * x).collect();
    let se: Vec<f64> = (0..10).map(|i| 1e-9 * (1.0 + i as f64)).collect();
    let f = weighted_slope(&x, &y, &se, 0.95).unwrap();
    assert!(
        (f.slope.estimate - 3.5).abs() < 1e-12,
        "{}",
        f.slope.estimate
    );
    assert!((f.intercept.estimate + 1.25).abs() < 1e-12);
    assert!(f.slope.hi - f.slope.lo < 1e-7 && f.slope.contains(3.5));
    assert!(f.intercept.hi - f.intercept.lo < 1e-7 && f.intercept.contains(-1.25));
    assert!(f.chi2 < 1e-6, "chi2 {}", f.chi2);
    assert_eq!((f.dof, f.n_points), (8, 10));
    assert!(f.p_value > 0.999);
    assert_eq!(f.slope.method, "wls-normal-or-student-t");
    assert_eq!(f.slope.n, 10);
}

#[test]
fn wls_worked_example() {
    // x = [0,1,2], y = [1,3,4], se = 1: b = 3/2, a = 7/6, chi2 = 1/6, dof = 1
    // (scipy.stats.linregress gives the same slope and intercept). Half-widths:
    // max(z_{0.975}, t_{0.975}(1)·√(chi2/dof)) × (1/√2 for b, √(5/6) for a), where
    // t_{0.975}(1) = tan(0.475π) (Cauchy, closed form) wins: 12.706·0.408 > 1.96.
    // p = P(χ²(1) > 1/6) (mpmath).
    let f = weighted_slope(&[0.0, 1.0, 2.0], &[1.0, 3.0, 4.0], &[1.0; 3], 0.95).unwrap();
    assert_rel(f.slope.estimate, 1.5, 1e-15, "b");
    assert_rel(f.intercept.estimate, 7.0 / 6.0, 1e-15, "a");
    assert_rel(f.chi2, 1.0 / 6.0, 1e-14, "chi2");
    let factor = (0.475 * std::f64::consts::PI).tan() * (1.0f64 / 6.0).sqrt();
    let hb = factor / 2f64.sqrt();
    let ha = factor * (5.0f64 / 6.0).sqrt();
    assert_rel(f.slope.lo, 1.5 - hb, 1e-10, "b lo");
    assert_rel(f.slope.hi, 1.5 + hb, 1e-10, "b hi");
    assert_rel(f.intercept.lo, 7.0 / 6.0 - ha, 1e-10, "a lo");
    assert_rel(f.intercept.hi, 7.0 / 6.0 + ha, 1e-10, "a hi");
    assert_rel(f.p_value, 0.68309139830960870332, 1e-12, "p");
    assert_eq!(f.dof, 1);
}

#[test]
fn wls_scales_errors_when_underfitting() {
    // Scatter 10x the stated se: the interval must widen by ≈ sqrt(chi2/dof).
    let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    let noise = [0.5, -0.7, 0.2, 0.9, -0.6, -0.3];
    let y: Vec<f64> = x
        .iter()
        .zip(noise)
        .map(|(x, n)| 1.0 + 2.0 * x + n)
        .collect();
    let se = [0.05; 6];
    let f = weighted_slope(&x, &y, &se, 0.95).unwrap();
    assert!(f.chi2 / f.dof as f64 > 50.0);
    assert!(f.p_value < 1e-10);
    let sxx: f64 = x.iter().map(|x| (x - 2.5f64).powi(2)).sum::<f64>() / (0.05 * 0.05);
    // The Student-t interval with the residual scale wins: t_{0.975}(4) = 2.7764451051977987,
    // the root of F(t) = 1/2 + x(3 − x²)/4 = 0.975 with x = t/√(4 + t²) (the closed-form
    // Student-t CDF for 4 dof), solved by bisection to 1e-15.
    let t4 = 2.7764451051977987;
    let expected_half = t4 * (f.chi2 / 4.0).sqrt() / sxx.sqrt();
    assert_rel(
        (f.slope.hi - f.slope.lo) / 2.0,
        expected_half,
        1e-12,
        "scaled half width",
    );
    assert!(f.slope.contains(2.0));
}

#[test]
fn wls_two_points() {
    // Exactly 2 points: unscaled se, normal quantile, dof 0, p_value 1 by convention.
    let f = weighted_slope(&[0.0, 2.0], &[1.0, 5.0], &[1.0, 1.0], 0.95).unwrap();
    assert_rel(f.slope.estimate, 2.0, 1e-15, "b");
    assert_rel(f.intercept.estimate, 1.0, 1e-15, "a");
    assert_eq!((f.dof, f.p_value, f.chi2), (0, 1.0, 0.0));
    assert_eq!(f.slope.method, "wls-normal-2pt-unscaled");
    // half width z_{0.975}/√2 (mpmath)
    assert_rel(
        (f.slope.hi - f.slope.lo) / 2.0,
        1.3859038243496779453,
        1e-14,
        "2-point half width",
    );
}

#[test]
fn wls_rejects_bad_input() {
    let ok = [1.0, 2.0, 3.0];
    assert!(matches!(
        weighted_slope(&ok, &ok, &[1.0, 0.0, 1.0], 0.95),
        Err(StatsError::NotPositive { index: 1, .. })
    ));
    assert!(matches!(
        weighted_slope(&ok, &ok, &[1.0, -1.0, 1.0], 0.95),
        Err(StatsError::NotPositive { .. })
    ));
    assert!(matches!(
        weighted_slope(&ok, &[1.0, 2.0], &ok, 0.95),
        Err(StatsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        weighted_slope(&[1.0], &[1.0], &[1.0], 0.95),
        Err(StatsError::TooFewPoints { .. })
    ));
    assert!(matches!(
        weighted_slope(&[2.0, 2.0, 2.0], &ok, &ok, 0.95),
        Err(StatsError::Degenerate(_))
    ));
    assert!(matches!(
        weighted_slope(&ok, &[1.0, f64::NAN, 2.0], &ok, 0.95),
        Err(StatsError::NonFinite { .. })
    ));
    assert!(matches!(
        weighted_slope(&ok, &ok, &ok, 1.0),
        Err(StatsError::InvalidLevel(_))
    ));
}

#[test]
fn wls_coverage_noisy_line() {
    // 10 points, y = 0.3 + 1.7 x + se_i·N(0,1) with known heteroscedastic se_i. With the
    // stated se correct, the unscaled normal interval has coverage exactly 0.95; the
    // t(8) quantile and the sqrt(max(1, chi2/dof)) factor only widen it, so p0 = 0.95:
    // threshold 362, P(Binomial(400, 0.95) <= 361) = 6.7e-5 < 1e-4.
    let x: Vec<f64> = (0..10).map(|i| 5.0 + i as f64).collect();
    let se: Vec<f64> = (0..10).map(|i| 0.05 * (1.0 + 0.3 * i as f64)).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    let mut covered = (0, 0);
    let mut y = vec![0.0; 10];
    for _ in 0..400 {
        for i in 0..10 {
            y[i] = 0.3 + 1.7 * x[i] + se[i] * normal_sample(&mut rng);
        }
        let f = weighted_slope(&x, &y, &se, 0.95).unwrap();
        covered.0 += f.slope.contains(1.7) as usize;
        covered.1 += f.intercept.contains(0.3) as usize;
    }
    eprintln!(
        "WLS coverage: slope {}/400, intercept {}/400",
        covered.0, covered.1
    );
    assert!(covered.0 >= 362, "slope coverage {}/400", covered.0);
    assert!(covered.1 >= 362, "intercept coverage {}/400", covered.1);
}

// ---------------------------------------------------------------------------------------
// Log scale, Holm, serde
// ---------------------------------------------------------------------------------------

#[test]
fn log_helpers() {
    assert_eq!(log_mean_se(0), f64::INFINITY);
    assert_eq!(log_mean_se(1), 1.0);
    assert_rel(log_mean_se(100), 0.1, 1e-15, "1/sqrt(100)");
    let e = censored_exponential_mean(&[], &[1.0], 0.95).unwrap();
    let (lo, hi) = log_interval(&e);
    assert_rel(lo, e.lo.ln(), 1e-15, "ln lo");
    assert_eq!(hi, f64::INFINITY);
}

#[test]
fn log_mean_se_matches_simulation() {
    // sd of log(T/m) over 2000 uncensored samples of m = 25 exponentials ≈ 1/5
    // (exact: sqrt(trigamma(25)) = 0.2020); tolerance ±8% covers its sampling error (~1.6%).
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let logs: Vec<f64> = (0..2000)
        .map(|_| {
            let t: f64 = (0..25).map(|_| exp_sample(&mut rng, 3.0)).sum();
            (t / 25.0).ln()
        })
        .collect();
    let m = logs.iter().sum::<f64>() / logs.len() as f64;
    let sd = (logs.iter().map(|l| (l - m).powi(2)).sum::<f64>() / (logs.len() - 1) as f64).sqrt();
    assert!((sd / log_mean_se(25) - 1.0).abs() < 0.08, "sd {sd}");
}

#[test]
fn holm_bonferroni_examples() {
    // sorted: 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2 -> stop.
    assert_eq!(
        holm_bonferroni(&[0.01, 0.04, 0.03, 0.005], 0.05),
        vec![true, false, false, true]
    );
    // all small enough: 0.01 <= 0.05/3, 0.02 <= 0.05/2, 0.04 <= 0.05
    assert_eq!(holm_bonferroni(&[0.04, 0.01, 0.02], 0.05), vec![true; 3]);
    // step-down stops at the first failure even if a later p is below alpha
    assert_eq!(holm_bonferroni(&[0.03, 0.03], 0.05), vec![false, false]);
    assert_eq!(holm_bonferroni(&[0.02, 0.025], 0.05), vec![true, true]);
    assert_eq!(holm_bonferroni(&[], 0.05), Vec::<bool>::new());
    assert_eq!(holm_bonferroni(&[f64::NAN, 0.001], 0.05), vec![false, true]);
    assert_eq!(holm_bonferroni(&[0.0, 0.001], 0.0), vec![false, false]);
}

#[test]
fn holm_adjusted_p_values_examples() {
    // Sorted 0.005, 0.01, 0.03, 0.04 -> 4·0.005, 3·0.01, 2·0.03, max(1·0.04, 0.06).
    let adj = holm_adjusted_p_values(&[0.01, 0.04, 0.03, 0.005]);
    let want = [0.03, 0.06, 0.06, 0.02];
    for (a, w) in adj.iter().zip(want) {
        assert!((a - w).abs() < 1e-15, "{adj:?}");
    }
    assert_eq!(holm_adjusted_p_values(&[0.6, 0.9]), [1.0, 1.0]);
    assert!(holm_adjusted_p_values(&[]).is_empty());
    let adj = holm_adjusted_p_values(&[f64::NAN, 0.01]);
    assert!(adj[0].is_nan() && adj[1] == 0.02);
    // Agrees with holm_bonferroni on random p-values (away from exact boundaries).
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(77);
    for _ in 0..200 {
        let m = rng.random_range(1..8);
        let p: Vec<f64> = (0..m).map(|_| rng.random::<f64>() * 0.1).collect();
        let adj = holm_adjusted_p_values(&p);
        for alpha in [0.01, 0.05, 0.1] {
            let by_adj: Vec<bool> = adj.iter().map(|&a| a <= alpha).collect();
            assert_eq!(by_adj, holm_bonferroni(&p, alpha), "{p:?} at {alpha}");
        }
    }
}

#[test]
fn estimate_serde_round_trips_infinities() {
    let e = censored_exponential_mean(&[], &[1.0, 2.0], 0.9).unwrap();
    let s = serde_json::to_string(&e).unwrap();
    assert!(
        s.contains(r#""estimate":"inf""#) && s.contains(r#""hi":"inf""#),
        "{s}"
    );
    let back: Estimate = serde_json::from_str(&s).unwrap();
    assert_eq!(back, e);

    let neg = Estimate {
        estimate: 0.5,
        lo: f64::NEG_INFINITY,
        hi: 1.0,
        level: 0.95,
        n: 3,
        method: "x".into(),
    };
    let s = serde_json::to_string(&neg).unwrap();
    assert!(s.contains(r#""lo":"-inf""#), "{s}");
    assert_eq!(serde_json::from_str::<Estimate>(&s).unwrap(), neg);
    // plain numbers, integers and null (NaN) also read back
    let e: Estimate = serde_json::from_str(
        r#"{"estimate":2,"lo":null,"hi":"Infinity","level":0.95,"n":1,"method":"m"}"#,
    )
    .unwrap();
    assert_eq!((e.estimate, e.hi), (2.0, f64::INFINITY));
    assert!(e.lo.is_nan());
    assert!(serde_json::from_str::<Estimate>(
        r#"{"estimate":"abc","lo":0,"hi":1,"level":0.95,"n":1,"method":"m"}"#
    )
    .is_err());

    let f: LinearFit = weighted_slope(&[0.0, 1.0, 2.0], &[0.0, 1.0, 2.5], &[1.0; 3], 0.95).unwrap();
    let back: LinearFit = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
    assert_eq!(back, f);
}

#[test]
fn serde_f64_ext_option_and_vec() {
    use escapecert::stats::serde_f64_ext;
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct S {
        #[serde(with = "serde_f64_ext::option")]
        a: Option<f64>,
        #[serde(with = "serde_f64_ext::option")]
        b: Option<f64>,
        #[serde(with = "serde_f64_ext::vec")]
        v: Vec<f64>,
    }
    let s = S {
        a: Some(f64::NEG_INFINITY),
        b: None,
        v: vec![1.5, f64::INFINITY, -2.0],
    };
    let j = serde_json::to_string(&s).unwrap();
    assert_eq!(j, r#"{"a":"-inf","b":null,"v":[1.5,"inf",-2.0]}"#);
    assert_eq!(serde_json::from_str::<S>(&j).unwrap(), s);
}

// ---------------------------------------------------------------------------------------
// The E13 reference file (tests/reference/e13_reference.txt) is well formed
// ---------------------------------------------------------------------------------------

#[test]
fn e13_reference_file_parses() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/e13_reference.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("mpmath version") && text.contains("dps = 40"));
    let rows: Vec<(String, f64, f64)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(c.len(), 6, "{l}");
            // 25 significant digits in the value column
            let digits = c[5].chars().filter(|ch| ch.is_ascii_digit()).count();
            assert_eq!(digits, 25, "{l}");
            let eps2: f64 = c[3].parse().unwrap();
            (c[0].to_string(), eps2, c[5].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 17);
    // within each group, E[τ] increases as eps² decreases
    for group in [&rows[0..7], &rows[7..14], &rows[14..17]] {
        for w in group.windows(2) {
            assert_eq!(w[0].0, w[1].0);
            assert!(w[1].1 < w[0].1 && w[1].2 > w[0].2, "{w:?}");
        }
    }
}

#[test]
fn corrected_fit_recovers_exact_coefficients() {
    // y = 0.3 + 1.7 x − 2.5 ln x + 4/x exactly, tiny stated errors.
    let x: Vec<f64> = (0..8).map(|i| 4.0 + 1.1 * i as f64).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|x| 0.3 + 1.7 * x - 2.5 * x.ln() + 4.0 / x)
        .collect();
    let se = vec![1e-9; 8];
    let f = escapecert::stats::weighted_corrected_fit(&x, &y, &se, 0.95).unwrap();
    assert!(
        (f.slope.estimate - 1.7).abs() < 1e-6,
        "{}",
        f.slope.estimate
    );
    assert!((f.log_coefficient.estimate + 2.5).abs() < 1e-5);
    assert!((f.correction.estimate - 4.0).abs() < 1e-4);
    assert!((f.intercept.estimate - 0.3).abs() < 1e-4);
    assert!(f.slope.contains(1.7));
    assert_eq!((f.dof, f.n_points), (4, 8));
    // Too few points, non-positive x: errors.
    assert!(escapecert::stats::weighted_corrected_fit(&x[..4], &y[..4], &se[..4], 0.95).is_err());
    let mut xb = x.clone();
    xb[0] = -1.0;
    assert!(escapecert::stats::weighted_corrected_fit(&xb, &y, &se, 0.95).is_err());
}

/// Why T1/T2 refit with the prefactor's first correction: on the certified exact E14 mean
/// exit times of the d = 10 quadratic (λ = 2, r = 1, σ = 1: V̄ = 2) for κ² from 0.2 to
/// 0.04, the log-prefactor model's slope is biased by more than 0.03, the corrected
/// model's by less than 0.01 (deterministic: the data are the certified enclosures'
/// midpoints, reference src/certify/exit_time.rs, proofs/exit-time-formulas.md).
#[test]
fn corrected_fit_removes_the_prefactor_bias_on_exact_e14_values() {
    use escapecert::certify::exit_time::{
        mean_exit_time_radial_quadratic, DEFAULT_MAX_CELLS, DEFAULT_REL_TOL,
    };
    let kappa2 = [0.2, 0.16, 0.13, 0.1, 0.08, 0.065, 0.055, 0.045, 0.04];
    let x: Vec<f64> = kappa2.iter().map(|k| 1.0 / k).collect();
    let y: Vec<f64> = kappa2
        .iter()
        .map(|&k| {
            let e = inari::Interval::try_from((k, k)).unwrap();
            let r = mean_exit_time_radial_quadratic(
                10,
                2.0,
                1.0,
                e,
                DEFAULT_REL_TOL,
                DEFAULT_MAX_CELLS,
            )
            .unwrap();
            r.ln_mean.mid()
        })
        .collect();
    let se = vec![0.05; kappa2.len()];
    let p = escapecert::stats::weighted_prefactor_fit(&x, &y, &se, 0.95).unwrap();
    let c = escapecert::stats::weighted_corrected_fit(&x, &y, &se, 0.95).unwrap();
    eprintln!(
        "E14 d = 10: prefactor slope {:.4}, corrected slope {:.4}",
        p.slope.estimate, c.slope.estimate
    );
    assert!(
        (p.slope.estimate - 2.0).abs() > 0.03,
        "{}",
        p.slope.estimate
    );
    assert!(
        (c.slope.estimate - 2.0).abs() < 0.01,
        "{}",
        c.slope.estimate
    );
}

#[test]
fn prefactor_fit_recovers_exact_coefficients() {
    // y = 0.3 + 1.7 x − 2.5 ln x exactly, tiny stated errors: exact V and b, tiny intervals.
    let x: Vec<f64> = (0..7).map(|i| 4.0 + 1.1 * i as f64).collect();
    let y: Vec<f64> = x.iter().map(|x| 0.3 + 1.7 * x - 2.5 * x.ln()).collect();
    let se = vec![1e-9; 7];
    let f = escapecert::stats::weighted_prefactor_fit(&x, &y, &se, 0.95).unwrap();
    assert!(
        (f.slope.estimate - 1.7).abs() < 1e-7,
        "{}",
        f.slope.estimate
    );
    assert!((f.log_coefficient.estimate + 2.5).abs() < 1e-6);
    assert!((f.intercept.estimate - 0.3).abs() < 1e-5);
    assert!(f.slope.contains(1.7) && f.slope.hi - f.slope.lo < 1e-6);
    assert_eq!((f.dof, f.n_points), (4, 7));
    // Too few points, non-positive x, collinear design: errors.
    assert!(escapecert::stats::weighted_prefactor_fit(&x[..3], &y[..3], &se[..3], 0.95).is_err());
    let mut xb = x.clone();
    xb[0] = 0.0;
    assert!(escapecert::stats::weighted_prefactor_fit(&xb, &y, &se, 0.95).is_err());
    assert!(
        escapecert::stats::weighted_prefactor_fit(&[2.0; 5], &[1.0; 5], &[0.1; 5], 0.95).is_err()
    );
}

#[test]
fn holm_step_down_by_intervals() {
    // With "rejects at level 1 − a" ⇔ p ≤ a, the interval form is holm_bonferroni, and the
    // levels are 1 − α/m, 1 − α/(m − 1), … down the rejected chain, then constant.
    let p = [0.01, 0.04, 0.03, 0.005, 0.5];
    let alpha = 0.05;
    let out = holm_step_down(&p, alpha, |i, level| p[i] <= 1.0 - level + 1e-15);
    let decisions: Vec<bool> = out.iter().map(|o| o.1).collect();
    assert_eq!(decisions, holm_bonferroni(&p, alpha));
    assert_eq!(decisions, vec![true, false, false, true, false]);
    // Ranks: 0.005 (1 − α/5), 0.01 (1 − α/4), 0.03 (1 − α/3, not rejected: 0.03 > 0.0167),
    // then 0.04 and 0.5 at that same level.
    let want = [
        1.0 - alpha / 4.0,
        1.0 - alpha / 3.0,
        1.0 - alpha / 3.0,
        1.0 - alpha / 5.0,
        1.0 - alpha / 3.0,
    ];
    for (o, w) in out.iter().zip(want) {
        assert!((o.0 - w).abs() < 1e-15, "{out:?}");
    }
    // Random p-values: always the same decisions as holm_bonferroni.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    for _ in 0..200 {
        let m = rng.random_range(1..8);
        let p: Vec<f64> = (0..m).map(|_| rng.random::<f64>().powi(3)).collect();
        let out = holm_step_down(&p, alpha, |i, level| p[i] <= 1.0 - level);
        let d: Vec<bool> = out.iter().map(|o| o.1).collect();
        assert_eq!(d, holm_bonferroni(&p, alpha), "{p:?}");
    }
    // A NaN p-value is decided last.
    let out = holm_step_down(&[f64::NAN, 0.001], alpha, |i, _| i == 1);
    assert_eq!(out[1], (1.0 - alpha / 2.0, true));
    assert_eq!(out[0], (1.0 - alpha, false));
}
