//! The discrete barrier V̄_η (THEORY §5, E10–E12): the E11 certificate (lower end) and the
//! E10 path action (upper end), `src/certify/discrete.rs`.
//!
//! Reference values are closed forms: (E12) V̄_η = (λr²/σ²)(1 − ηλ/2) in 1-D, and
//! V̄_η = min_{|y|=r} ½ yᵀH(2I − ηH)y/σ² = r² min_i λ_i(2 − ηλ_i)/(2σ²) for a d-dim quadratic
//! with isotropic noise (proofs/linear-discrete-barrier.md §5). Both E11 and E10 are
//! computed independently of the closed form (the closed form is only intersected into the
//! combined enclosure); the tests read the E11/E10 values `hj_lower` / `action_upper`.
//! Tolerances: the E11 certificate uses γ = 1 − 2⁻⁴⁰ (relative loss 1e-12) and the path has
//! a linear tail a^{2n} ≤ 1e-12 plus the L-BFGS stopping error, so 1e-8 relative is ample.
//! No test here is random except the proptest, which has no false-failure rate (the
//! enclosure property is deterministic for each case).

use escapecert::certify::discrete::{action_enclosure, action_f64};
use escapecert::certify::{certify, Certified, DiscreteBarrier};
use escapecert::landscape::{Landscape, NoiseModel, Problem};
use escapecert::num::iv;
use escapecert::spec::Spec;
use proptest::prelude::*;
use std::path::Path;

fn ok(text: &str) -> Certified {
    let s = Spec::from_str(Path::new("test.toml"), text)
        .unwrap_or_else(|e| panic!("spec should be valid: {e}"));
    let p = Problem::from_spec(&s).unwrap_or_else(|e| panic!("problem should build: {e}"));
    certify(&s, &p).unwrap_or_else(|e| panic!("certify failed: {e}"))
}

/// Both E11 and E10 sides within `rel` of `want`, and lo ≤ hi.
#[track_caller]
fn meets(b: &DiscreteBarrier, want: f64, rel: f64) {
    let lo = b
        .hj_lower
        .unwrap_or_else(|| panic!("η = {}: no E11 bound: {}", b.eta, b.lower_method));
    let hi = b
        .action_upper
        .unwrap_or_else(|| panic!("η = {}: no E10 bound: {}", b.eta, b.upper_method));
    assert!(lo <= hi, "η = {}: {lo} > {hi}", b.eta);
    assert!(
        (lo - want).abs() <= rel * want && (hi - want).abs() <= rel * want,
        "η = {}: [{lo:.17e}, {hi:.17e}] vs closed form {want:.17e}",
        b.eta
    );
    let v = b.bound.value.expect("combined enclosure");
    assert!(v.inf() <= want * (1.0 + 1e-12) && want * (1.0 - 1e-12) <= v.sup());
}

/// E12 for L = λx²/2, λ = 4, σ = 5, on the interval (−1, 1) and on the ball of radius 1,
/// at ηλ ∈ {0.2, 0.5, 1, 1.6}; ηλ ∈ {2, 2.4} is rejected with the reason.
#[test]
fn e12_one_dimensional_quadratic() {
    for domain in [
        "kind = \"interval\"\nlo = -1.0\nhi = 1.0",
        "kind = \"ball\"\nradius = 1.0",
    ] {
        let c = ok(&format!(
            r#"name = "q1"
[landscape]
builtin = "quadratic"
dim = 1
sharpness = 4.0
[domain]
{domain}
[noise]
kind = "isotropic"
sigma = 5.0
[sgd]
eta = [0.05, 0.125, 0.25, 0.4, 0.5, 0.6]
"#
        ));
        let (lam, s2, r2) = (4.0, 25.0, 1.0);
        for b in &c.barrier_discrete[..4] {
            let want = lam * r2 / s2 * (1.0 - b.eta * lam / 2.0);
            meets(b, want, 1e-8);
            let cert = b.certificate.as_ref().expect("certificate");
            assert!(cert.gamma > 1.0 - 1e-9, "γ = {}", cert.gamma);
        }
        for b in &c.barrier_discrete[4..] {
            assert!(b.bound.value.is_none(), "η = {}: {:?}", b.eta, b.bound);
            assert!(b.bound.method.contains("ηλ ≥ 2"), "{}", b.bound.method);
        }
    }
}

/// d = 2, H = [[3, 1], [1, 2]], σ = 0.8, ball of radius 1: both sides meet
/// r² min_i λ_i(2 − ηλ_i)/(2σ²), λ = (5 ∓ √5)/2.
#[test]
fn quadratic_2d_isotropic_meets_closed_form() {
    let c = ok(r#"name = "q2"
[landscape]
builtin = "quadratic"
dim = 2
hessian = [[3.0, 1.0], [1.0, 2.0]]
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "isotropic"
sigma = 0.8
[sgd]
eta = [0.0625, 0.25, 0.45]
"#);
    let l1 = (5.0 - 5f64.sqrt()) / 2.0;
    let l2 = (5.0 + 5f64.sqrt()) / 2.0;
    for b in &c.barrier_discrete {
        let f = |l: f64| l * (2.0 - b.eta * l);
        let want = f(l1).min(f(l2)) / (2.0 * 0.64);
        meets(b, want, 1e-8);
    }
}

fn tilted(eta: &str) -> Certified {
    ok(&format!(
        r#"name = "tdw"
[landscape]
expr = "x^4/4 - x^2/2 + 0.1*x"
[minimum]
guess = [-1.0]
[domain]
kind = "interval"
lo = -2.0
hi = 0.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = {eta}
"#
    ))
}

/// The tilted double well (examples/tilted_double_well.toml's landscape): a finite
/// enclosure 0 < lo ≤ hi, below the continuous barrier's upper end; as η → 0 the path
/// path bound approaches the continuous V̄ = 2ΔL/σ² (E7).
#[test]
fn tilted_double_well_bracketed_and_small_eta_limit() {
    let c = tilted("[0.175, 0.1, 0.03]");
    let v = c.barrier.value.expect("continuous barrier");
    let mut prev_gap = f64::INFINITY;
    for b in &c.barrier_discrete {
        let lo = b.hj_lower.expect("E11");
        let hi = b.action_upper.expect("E10");
        assert!(0.0 < lo && lo <= hi && hi.is_finite(), "{lo} {hi}");
        assert!(lo < v.sup(), "η = {}: {lo} vs V̄ ≤ {}", b.eta, v.sup());
        let gap = (hi - v.mid()).abs();
        assert!(gap < prev_gap, "η = {}: gap {gap} ≥ {prev_gap}", b.eta);
        prev_gap = gap;
        assert!(!b.path.as_ref().unwrap().is_empty());
    }
    // At η = 0.03 the path action is within 1 % of V̄.
    assert!(prev_gap < 0.01 * v.mid(), "gap {prev_gap}");
}

/// Constant anisotropic noise on a 2-D quadratic: as η → 0 both discrete ends approach
/// the continuous E8 value (which is exact), with error O(ηλ_max).
#[test]
fn constant_noise_small_eta_approaches_continuous() {
    let c = ok(r#"name = "q2c"
[landscape]
builtin = "quadratic"
dim = 2
hessian = [[3.0, 1.0], [1.0, 2.0]]
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "constant"
cov = [[1.0, 0.5], [0.5, 2.0]]
[sgd]
eta = [0.1, 0.03, 0.01]
"#);
    let v = c.barrier.value.expect("E8").mid();
    let lmax = (5.0 + 5f64.sqrt()) / 2.0;
    let mut prev = f64::INFINITY;
    for b in &c.barrier_discrete {
        let lo = b.hj_lower.expect("E11");
        let hi = b.action_upper.expect("E10");
        assert!(
            lo <= hi && hi <= v,
            "η = {}: [{lo}, {hi}] vs V̄ = {v}",
            b.eta
        );
        // The path of n steps misses the linear tail: S_n = S_∞/(1 − a^{2n}) with
        // a = 1 − ηλ_min (proofs/linear-discrete-barrier.md, Lemma 2).
        let n = b.path.as_ref().unwrap().len() as i32;
        let tail = (1.0 - b.eta * (5.0 - 5f64.sqrt()) / 2.0).powi(2 * n);
        assert!(
            (hi - lo) <= (1e-8 + 2.0 * tail) * hi,
            "η = {}: [{lo}, {hi}]",
            b.eta
        );
        let gap = v - lo;
        assert!(
            gap <= b.eta * lmax * v && gap < prev,
            "η = {}: gap {gap}",
            b.eta
        );
        prev = gap;
    }
}

/// A 2-D Hessian-shaped noise case on a non-quadratic landscape (Styblinski–Tang): a
/// finite enclosure 0 < lo ≤ hi with lo below the continuous upper end.
#[test]
fn hessian_noise_two_dimensional() {
    let c = ok(r#"name = "st"
[landscape]
builtin = "styblinski_tang"
dim = 2
[minimum]
guess = [-2.9, -2.9]
[domain]
kind = "ball"
radius = 0.5
[noise]
kind = "hessian"
scale = 0.5
floor = 0.1
[sgd]
eta = 0.01
"#);
    let v = c.barrier.value.expect("continuous");
    let b = &c.barrier_discrete[0];
    let lo = b.hj_lower.unwrap_or_else(|| panic!("{}", b.lower_method));
    let hi = b
        .action_upper
        .unwrap_or_else(|| panic!("{}", b.upper_method));
    assert!(0.0 < lo && lo <= hi && hi.is_finite(), "[{lo}, {hi}]");
    assert!(lo < v.sup(), "{lo} vs {v:?}");
    let cert = b.certificate.as_ref().unwrap();
    eprintln!(
        "{}\n{}\n[{lo}, {hi}] vs V̄ {v:?}",
        b.lower_method, b.upper_method
    );
    assert!(cert.gamma > 0.0 && cert.gamma <= 1.0 && cert.p.len() == 4);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Enclosure property of the E10 action: for random paths and a random θ in a box X,
    /// the f64 action S_η(θ, x_1, …, x_n) lies in the certified enclosure (the f64 value
    /// itself carries rounding error, allowed for by 1e-12 relative).
    #[test]
    fn action_enclosure_contains_f64_action(
        x0 in -1.5f64..-0.5, w in 0.0f64..1e-3, t in 0.0f64..1.0,
        pts in proptest::collection::vec((-2.0f64..0.5, -1.0f64..1.0), 1..12),
        eta in 0.01f64..0.3, hess_noise in any::<bool>(),
    ) {
        // Σ(x) = 0.01·∇²L + 0.5·I ⪰ 0.34·I since ∇²L ⪰ −16·I everywhere.
        let l = Landscape::StyblinskiTang { dim: 2 };
        let noise = if hess_noise {
            NoiseModel::Hessian { scale: 0.01, floor: 0.5 }
        } else {
            NoiseModel::Constant { cov: vec![1.0, 0.3, 0.3, 0.5] }
        };
        let xb = vec![iv(x0, x0 + w), iv(x0 - w, x0)];
        let theta = vec![x0 + t * w, x0 - t * w];
        let rest: Vec<Vec<f64>> = pts.iter().map(|&(a, b)| vec![a, b]).collect();
        let s = action_enclosure(&l, &noise, eta, &xb, &rest).expect("enclosure");
        let mut full = vec![theta];
        full.extend(rest.iter().cloned());
        let f = action_f64(&l, &noise, eta, &full);
        let tol = 1e-12 * f.abs();
        prop_assert!(s.inf() - tol <= f && f <= s.sup() + tol, "{f} not in {s:?}");
    }
}
