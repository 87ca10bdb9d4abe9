//! Integration tests of the certify stage (`src/certify/`) against closed forms and
//! high-precision reference values.
//!
//! Reference values: `tests/data/certify_reference.py` (mpmath 1.3.0, mp.dps = 50, printed to
//! 40 digits); the double-well minimiser also appears in the header of
//! `tests/reference/e13_reference.txt`. A 40-digit decimal is parsed to the nearest double
//! v̂; if the exact value v lies in a certified [lo, hi] with binary64 ends, then so does v̂
//! (rounding to nearest is monotone and fixes lo and hi), so `lo ≤ v̂ ≤ hi` is a necessary
//! consequence of a correct enclosure and is asserted without tolerance, except where
//! noted (the Styblinski–Tang ball is centred at the f64 midpoint of the minimiser box, not
//! at θ* itself).

use escapecert::certify::{certify, Certified, CertifyError};
use escapecert::landscape::{Domain, Problem};
use escapecert::run::{certify_spec, RunError};
use escapecert::spec::Spec;
use inari::Interval;
use std::path::Path;

fn spec(text: &str) -> Spec {
    Spec::from_str(Path::new("test.toml"), text)
        .unwrap_or_else(|e| panic!("spec should be valid: {e}"))
}

fn run(text: &str) -> Result<Certified, CertifyError> {
    let s = spec(text);
    let p = Problem::from_spec(&s).unwrap_or_else(|e| panic!("problem should build: {e}"));
    certify(&s, &p)
}

fn ok(text: &str) -> Certified {
    run(text).unwrap_or_else(|e| panic!("certify failed: {e}"))
}

/// Parses a reference decimal (nearest double, see the module comment).
fn r(s: &str) -> f64 {
    s.parse().unwrap()
}

#[track_caller]
fn assert_encloses(what: &str, x: Interval, v: f64, max_width: f64) {
    assert!(!x.is_empty(), "{what}: empty enclosure");
    assert!(
        x.inf() <= v && v <= x.sup(),
        "{what}: [{:e}, {:e}] does not contain {v:e}",
        x.inf(),
        x.sup()
    );
    assert!(
        x.wid() <= max_width,
        "{what}: [{:e}, {:e}] is wider than {max_width:e}",
        x.inf(),
        x.sup()
    );
}

fn hypotheses_hold(c: &Certified) {
    let names: Vec<&str> = c.hypotheses.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["H1", "H2"]);
    for h in &c.hypotheses {
        assert!(h.holds, "({}) not certified: {}", h.name, h.detail);
    }
    assert!(c.hypotheses_hold());
}

fn expr_spec(expr: &str, guess: &str, lo: f64, hi: f64, sigma: f64, eta: &str) -> String {
    format!(
        r#"
name = "t"
[landscape]
expr = "{expr}"
[minimum]
guess = [{guess}]
[domain]
kind = "interval"
lo = {lo:?}
hi = {hi:?}
[noise]
kind = "isotropic"
sigma = {sigma:?}
[sgd]
eta = {eta}
"#
    )
}

// ---------------------------------------------------------------------------------------
// Tilted double well L = x⁴/4 − x²/2 + 0.1x on (−2, 0).
// ---------------------------------------------------------------------------------------

/// Left root of L'(x) = x³ − x + 0.1 (certify_reference.py; e13_reference.txt header).
const DW_X_STAR: &str = "-1.046680531804602261158656311996043528748";
/// L(x*) (certify_reference.py).
const DW_L_STAR: &str = "-0.3523860738000364209754169550083691638742";
/// ΔL = min(L(−2), L(0)) − L* = L(0) − L* = −L*, since L(−2) = 1.8 > L(0) = 0.
const DW_DEPTH: &str = "0.3523860738000364209754169550083691638742";
/// V̄ = 2ΔL/σ² for σ = 1 (THEORY E7).
const DW_BARRIER_SIGMA1: &str = "0.7047721476000728419508339100167383277484";
/// L''(x*) = 3x*² − 1 (certify_reference.py).
const DW_SHARPNESS: &str = "2.286620406976295016662212779303990790617";

#[test]
fn tilted_double_well_matches_closed_forms() {
    let c = ok(&expr_spec(
        "x^4/4 - x^2/2 + 0.1*x",
        "-1.0",
        -2.0,
        0.0,
        1.0,
        "0.3",
    ));
    assert_eq!(c.minimizer.x.len(), 1);
    assert_encloses("minimiser", c.minimizer.x[0], r(DW_X_STAR), 1e-8);
    assert!(
        c.minimizer.x[0].contains(c.start[0]),
        "start {:?} outside the minimiser box",
        c.start
    );
    assert_eq!(c.domain, Domain::Interval { lo: -2.0, hi: 0.0 });
    assert_encloses("L*", c.loss_at_min, r(DW_L_STAR), 1e-8);
    assert_encloses("ΔL", c.depth, r(DW_DEPTH), 1e-8);
    assert_eq!(
        c.exit_point,
        vec![0.0],
        "the lower end point is 0 (L(0) = 0 < L(−2) = 1.8)"
    );
    assert_encloses("sharpness", c.sharpness, r(DW_SHARPNESS), 1e-6);
    assert_encloses(
        "λ_min (1-D: = sharpness)",
        c.lambda_min,
        r(DW_SHARPNESS),
        1e-6,
    );
    assert!(c.lambda_min.inf() > 0.0);
    let v = c.barrier.value.expect("isotropic barrier is certified");
    assert_encloses("V̄ = 2ΔL/σ²", v, r(DW_BARRIER_SIGMA1), 1e-8);
    hypotheses_hold(&c);
    // The discrete barrier of a non-quadratic landscape: an enclosure (E11 / E10,
    // tests/certify_discrete.rs), not above the continuous upper end at this η.
    assert_eq!(c.barrier_discrete.len(), 1);
    assert_eq!(c.barrier_discrete[0].eta, 0.3);
    let db = c.barrier_discrete[0]
        .bound
        .value
        .expect("discrete enclosure");
    assert!(db.inf() <= db.sup() && db.inf() < v.sup());
    assert!(!c.barrier_discrete[0].bound.method.is_empty());
}

/// V̄ = 2ΔL/σ² scales as 1/σ² (E7): σ = 0.5 gives 8ΔL.
#[test]
fn tilted_double_well_barrier_scales_with_sigma() {
    let c = ok(&expr_spec(
        "x^4/4 - x^2/2 + 0.1*x",
        "-1.2",
        -2.0,
        0.0,
        0.5,
        "[0.3, 0.2]",
    ));
    let v = c.barrier.value.unwrap();
    // 8ΔL = 4 × (2ΔL): exact scaling of the 40-digit value by 4 keeps it the nearest double.
    assert_encloses("V̄ (σ = 0.5)", v, 4.0 * r(DW_BARRIER_SIGMA1), 1e-7);
    assert_encloses(
        "minimiser from another guess",
        c.minimizer.x[0],
        r(DW_X_STAR),
        1e-8,
    );
    assert_eq!(
        c.barrier_discrete.iter().map(|b| b.eta).collect::<Vec<_>>(),
        vec![0.3, 0.2]
    );
}

// ---------------------------------------------------------------------------------------
// Quadratic built-ins: V̄ = λr²/σ² (E7/E8), V̄_η = V̄(1 − ηλ/2) (E12).
// ---------------------------------------------------------------------------------------

fn quadratic_d10(eta: &str, sigma: f64) -> String {
    format!(
        r#"
name = "q10"
[landscape]
builtin = "quadratic"
dim = 10
sharpness = 2.0
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "isotropic"
sigma = {sigma:?}
[sgd]
eta = {eta}
"#
    )
}

#[test]
fn quadratic_d10_barrier_is_exact() {
    let c = ok(&quadratic_d10("[0.0625, 0.25, 0.5, 0.05, 1.0]", 1.0));
    // θ* = 0, L* = 0, λ = 2, ΔL = λr²/2 = 1, V̄ = λr²/σ² = 2.
    for x in &c.minimizer.x {
        assert_encloses("θ*_i", *x, 0.0, 1e-8);
    }
    assert_encloses("L*", c.loss_at_min, 0.0, 1e-12);
    assert_encloses("sharpness", c.sharpness, 2.0, 1e-12);
    assert_encloses("λ_min", c.lambda_min, 2.0, 1e-12);
    assert_encloses("ΔL", c.depth, 1.0, 1e-12);
    assert_encloses("V̄", c.barrier.value.unwrap(), 2.0, 1e-12);
    hypotheses_hold(&c);
    // E12: V̄_η = (λr²/σ²)(1 − ηλ/2) = 2(1 − η) for dyadic η (exact doubles).
    let by_eta = |eta: f64| c.barrier_discrete.iter().find(|b| b.eta == eta).unwrap();
    for (eta, want) in [(0.0625, 1.875), (0.25, 1.5), (0.5, 1.0)] {
        let b = by_eta(eta);
        let v = b
            .bound
            .value
            .unwrap_or_else(|| panic!("η = {eta}: {}", b.bound.method));
        assert_encloses(&format!("V̄_η (η = {eta})"), v, want, 1e-12);
    }
    // η = 0.05 is not a double; V̄_η for the double nearest 0.05 is 2 − 2η ≈ 1.9.
    let v = by_eta(0.05).bound.value.unwrap();
    assert_encloses("V̄_η (η = 0.05)", v, 2.0 - 2.0 * 0.05, 1e-12);
    // ηλ = 2: linearly unstable, no exponential escape (E12), so no certificate.
    let b = by_eta(1.0);
    assert!(
        b.bound.value.is_none(),
        "ηλ = 2 must not be certified: {:?}",
        b.bound.value
    );
    assert!(b.bound.method.contains('2'), "{}", b.bound.method);
}

#[test]
fn quadratic_barrier_scales_with_sigma() {
    let c = ok(&quadratic_d10("0.125", 2.0));
    // V̄ = λr²/σ² = 2/4; V̄_η = V̄(1 − ηλ/2) = 0.5 × 0.875.
    assert_encloses("V̄ (σ = 2)", c.barrier.value.unwrap(), 0.5, 1e-12);
    assert_encloses(
        "V̄_η (σ = 2, η = 1/8)",
        c.barrier_discrete[0].bound.value.unwrap(),
        0.4375,
        1e-12,
    );
}

/// E12 in 1-D on an asymmetric interval: V̄_η = min(lo², hi²) λ(2 − ηλ)/(2σ²).
/// λ = 4, D = (−0.5, 1), σ = 1: ΔL = λ·0.25/2 = 0.5, V̄ = 1, V̄_η = V̄(1 − ηλ/2) = 0.75 at η = 1/8.
#[test]
fn quadratic_1d_interval_discrete_barrier() {
    let c = ok(r#"
name = "q1"
[landscape]
builtin = "quadratic"
dim = 1
sharpness = 4.0
[domain]
kind = "interval"
lo = -0.5
hi = 1.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = [0.125, 0.5]
"#);
    assert_encloses("ΔL", c.depth, 0.5, 1e-12);
    assert_eq!(c.exit_point, vec![-0.5]);
    assert_encloses("V̄", c.barrier.value.unwrap(), 1.0, 1e-12);
    assert_encloses(
        "V̄_η (η = 1/8)",
        c.barrier_discrete[0].bound.value.unwrap(),
        0.75,
        1e-12,
    );
    // ηλ = 2 at η = 1/2.
    assert!(c.barrier_discrete[1].bound.value.is_none());
    hypotheses_hold(&c);
}

/// λ_min/λ_max of [[3, 1], [1, 2]] = (5 ∓ √5)/2 (certify_reference.py).
const Q2_LMIN: &str = "1.38196601125010515179541316563436188228";
const Q2_LMAX: &str = "3.61803398874989484820458683436563811772";
/// ΔL on the unit ball = r²λ_min/2 (minimum of ½θᵀHθ on the sphere, along the λ_min eigenvector).
const Q2_DEPTH: &str = "0.6909830056250525758977065828171809411398";
/// V̄_η = r² min_λ λ(2 − ηλ)/(2σ²) over the spectrum (E12 per eigen-direction), r = σ = 1.
const Q2_DISCRETE_1_16: &str = "1.322283821992276221827379858503992838173";
const Q2_DISCRETE_1_4: &str = "1.143237254218789431923279937112885705855";

#[test]
fn quadratic_full_hessian_2d() {
    let c = ok(r#"
name = "q2"
[landscape]
builtin = "quadratic"
dim = 2
hessian = [[3.0, 1.0], [1.0, 2.0]]
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = [0.0625, 0.25]
"#);
    for x in &c.minimizer.x {
        assert_encloses("θ*_i", *x, 0.0, 1e-8);
    }
    assert_encloses("λ_min", c.lambda_min, r(Q2_LMIN), 1e-9);
    assert_encloses("λ_max", c.sharpness, r(Q2_LMAX), 1e-9);
    assert_encloses("ΔL", c.depth, r(Q2_DEPTH), 1e-6);
    // V̄ = 2ΔL/σ² = r²λ_min/σ².
    assert_encloses("V̄", c.barrier.value.unwrap(), r(Q2_LMIN), 2e-6);
    hypotheses_hold(&c);
    for (b, want) in c
        .barrier_discrete
        .iter()
        .zip([Q2_DISCRETE_1_16, Q2_DISCRETE_1_4])
    {
        let v = b
            .bound
            .value
            .unwrap_or_else(|| panic!("η = {}: {}", b.eta, b.bound.method));
        assert_encloses(&format!("V̄_η (η = {})", b.eta), v, r(want), 1e-8);
    }
    // The lowest boundary point lies along the λ_min eigenvector (1, −(1 + √5)/2)/‖·‖, up to sign.
    let e = &c.exit_point;
    let n = (e[0] * e[0] + e[1] * e[1]).sqrt();
    assert!(
        (n - 1.0).abs() < 1e-6,
        "exit point {e:?} not on the unit sphere"
    );
    let golden = (1.0 + 5f64.sqrt()) / 2.0;
    assert!(
        (e[1] / e[0] + golden).abs() < 1e-3,
        "exit point {e:?} not along the λ_min eigenvector"
    );
}

// ---------------------------------------------------------------------------------------
// Styblinski–Tang, d = 2.
// ---------------------------------------------------------------------------------------

/// Root of 2t³ − 16t + 2.5 = 0 near −2.9035 (certify_reference.py).
const ST_T_STAR: &str = "-2.903534027771177095118917595508922358948";
/// L* = Σ ½(t*⁴ − 16t*² + 5t*) over 2 coordinates.
const ST_L_STAR_2D: &str = "-78.33233140754283092778633947895373068064";
/// ∂²L/∂t² at t* = 6t*² − 16 (both eigenvalues, the Hessian being diagonal).
const ST_SHARPNESS: &str = "34.58305910255068761581779887184645387594";
/// min of L − L* on the unit circle around (t*, t*): attained at angle 0, i.e. one
/// coordinate moving up by 1 towards the other well (certify_reference.py).
const ST_DEPTH_2D: &str = "11.98446149573298961767106424490538222007";

#[test]
fn styblinski_tang_2d() {
    let c = ok(r#"
name = "st"
[landscape]
builtin = "styblinski_tang"
dim = 2
[minimum]
guess = [-2.9, -2.9]
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "isotropic"
sigma = 2.0
[sgd]
eta = 0.3
"#);
    for x in &c.minimizer.x {
        assert_encloses("θ*_i", *x, r(ST_T_STAR), 1e-8);
        assert!((x.mid() - (-2.903534027771178)).abs() < 1e-12);
    }
    assert_encloses("L*", c.loss_at_min, r(ST_L_STAR_2D), 1e-7);
    assert_encloses("λ_max", c.sharpness, r(ST_SHARPNESS), 1e-6);
    assert_encloses("λ_min", c.lambda_min, r(ST_SHARPNESS), 1e-6);
    hypotheses_hold(&c);
    // The ball is centred at the f64 midpoint c of the minimiser box, |c − θ*| ≲ 1e-15, and
    // |∇L| ≤ 30 on the sphere, so the exact depth for centre c is within 1e-12 of the
    // reference (computed for centre θ*).
    let (lo, hi) = (c.depth.inf(), c.depth.sup());
    let want = r(ST_DEPTH_2D);
    assert!(
        lo <= want + 1e-12 && want - 1e-12 <= hi,
        "ΔL [{lo}, {hi}] vs {want}"
    );
    assert!(hi - lo <= 1e-5 * want, "ΔL [{lo}, {hi}] too wide");
    let v = c.barrier.value.unwrap();
    let vwant = want / 2.0; // 2ΔL/σ², σ = 2
    assert!(
        v.inf() <= vwant + 1e-12 && vwant - 1e-12 <= v.sup(),
        "V̄ {v:?} vs {vwant}"
    );
}

// ---------------------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------------------

#[test]
fn no_minimum_near_the_guess() {
    // exp has no critical point: Newton runs away, Krawczyk finds nothing.
    match run(&expr_spec("exp(x)", "0.0", -1.0, 1.0, 1.0, "0.1")) {
        Err(CertifyError::NoMinimum { reason }) => assert!(!reason.is_empty()),
        other => panic!("expected NoMinimum, got {:?}", other.map(|c| c.minimizer.x)),
    }
    // A linear loss has a singular Hessian.
    assert!(matches!(
        run(&expr_spec("2*x + 1", "0.0", -1.0, 1.0, 1.0, "0.1")),
        Err(CertifyError::NoMinimum { .. })
    ));
    // A guess near the local maximum of the double well (x ≈ 0.101): a critical point, not a minimum.
    match run(&expr_spec(
        "x^4/4 - x^2/2 + 0.1*x",
        "0.1",
        -0.5,
        0.5,
        1.0,
        "0.1",
    )) {
        Err(CertifyError::NoMinimum { reason }) => assert!(
            reason.contains("not a certified strict minimum"),
            "{reason}"
        ),
        other => panic!("expected NoMinimum, got {:?}", other.map(|c| c.minimizer.x)),
    }
    // A saddle of a 2-D expression (x1² − x2² at 0).
    let saddle = r#"
name = "saddle"
[landscape]
expr = "x1^2 - x2^2"
[minimum]
guess = [0.1, 0.1]
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = 0.1
"#;
    assert!(matches!(run(saddle), Err(CertifyError::NoMinimum { .. })));
    // An indefinite quadratic (eigenvalues −1 and 3): 0 is a saddle.
    let indefinite = r#"
name = "indefinite"
[landscape]
builtin = "quadratic"
dim = 2
hessian = [[1.0, 2.0], [2.0, 1.0]]
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = 0.1
"#;
    match run(indefinite) {
        Err(CertifyError::NoMinimum { reason }) => assert!(
            reason.contains("not a certified strict minimum"),
            "{reason}"
        ),
        other => panic!("expected NoMinimum, got {:?}", other.map(|c| c.minimizer.x)),
    }
}

#[test]
fn minimum_outside_the_domain() {
    // The left minimum x* ≈ −1.0467 is certified, but D = (−0.5, 0) does not contain it.
    match run(&expr_spec(
        "x^4/4 - x^2/2 + 0.1*x",
        "-1.0",
        -0.5,
        0.0,
        1.0,
        "0.1",
    )) {
        Err(CertifyError::MinimumOutsideDomain { minimizer, domain }) => {
            assert!(minimizer.contains("-1.0466805318046"), "{minimizer}");
            assert!(domain.contains("-0.5"), "{domain}");
        }
        other => panic!(
            "expected MinimumOutsideDomain, got {:?}",
            other.map(|c| c.minimizer.x)
        ),
    }
    // The end point just to the right of x*.
    assert!(matches!(
        run(&expr_spec(
            "x^4/4 - x^2/2 + 0.1*x",
            "-1.0",
            -1.0466,
            0.0,
            1.0,
            "0.1"
        )),
        Err(CertifyError::MinimumOutsideDomain { .. })
    ));
}

#[test]
fn undefined_on_the_domain() {
    // x − log x has its minimum at 1, but log is undefined at 0 ∈ D = (−1, 3).
    match run(&expr_spec("x - log(x)", "1.5", -1.0, 3.0, 1.0, "0.1")) {
        Err(CertifyError::Undefined(msg)) => assert!(msg.contains("log"), "{msg}"),
        other => panic!("expected Undefined, got {:?}", other.map(|c| c.minimizer.x)),
    }
    // On (0.1, 3) it is fine: minimum 1, L* = 1, ΔL = min(L(0.1), L(3)) − 1 = 3 − log 3 − 1.
    let c = ok(&expr_spec("x - log(x)", "1.5", 0.1, 3.0, 1.0, "0.1"));
    assert_encloses("θ*", c.minimizer.x[0], 1.0, 1e-8);
    assert_encloses("L*", c.loss_at_min, 1.0, 1e-8);
    // 2 − log 3 (certify_reference.py).
    assert_encloses(
        "ΔL",
        c.depth,
        r("0.9013877113318903086047547630774742953525"),
        1e-8,
    );
    hypotheses_hold(&c);
}

/// `run::certify_spec` maps each certify error to the spec key it concerns.
#[test]
fn certify_errors_name_the_spec_key() {
    let key_of = |text: &str| match certify_spec(&spec(text)) {
        Err(RunError::Certify { key, file, .. }) => {
            assert_eq!(file, Path::new("test.toml"));
            key
        }
        Err(e) => panic!("expected a certify error, got {e}"),
        Ok(_) => panic!("expected a certify error"),
    };
    assert_eq!(
        key_of(&expr_spec("exp(x)", "0.0", -1.0, 1.0, 1.0, "0.1")),
        "minimum.guess"
    );
    assert_eq!(
        key_of(&expr_spec(
            "x^4/4 - x^2/2 + 0.1*x",
            "-1.0",
            -0.5,
            0.0,
            1.0,
            "0.1"
        )),
        "domain"
    );
    assert_eq!(
        key_of(&expr_spec("x - log(x)", "1.5", -1.0, 3.0, 1.0, "0.1")),
        "landscape.expr"
    );
    // Problem errors (before certification) are spec errors naming their key.
    match certify_spec(&spec(&expr_spec("x^2", "0.5, 0.5", -1.0, 1.0, 1.0, "0.1"))) {
        Err(RunError::Spec(e)) => assert_eq!(e.key, "minimum.guess"),
        other => panic!("expected a spec error, got {:?}", other.err()),
    }
    match certify_spec(&spec(&expr_spec("x^0.5", "0.5", 0.1, 1.0, 1.0, "0.1"))) {
        Err(RunError::Spec(e)) => assert_eq!(e.key, "landscape.expr"),
        other => panic!("expected a spec error, got {:?}", other.err()),
    }
}

// ---------------------------------------------------------------------------------------
// Soundness of (H1): a domain holding another critical point must not certify it.
// ---------------------------------------------------------------------------------------

#[test]
fn h1_fails_when_the_domain_holds_another_critical_point() {
    // (−2, 0.5) holds the local maximum x ≈ 0.101 of the double well.
    let c = ok(&expr_spec(
        "x^4/4 - x^2/2 + 0.1*x",
        "-1.0",
        -2.0,
        0.5,
        1.0,
        "0.1",
    ));
    let h1 = c.hypotheses.iter().find(|h| h.name == "H1").unwrap();
    assert!(
        !h1.holds,
        "H1 certified on a domain with a second critical point: {}",
        h1.detail
    );
    assert!(!c.hypotheses_hold());
    // (−2, 1.5) holds the right minimum x ≈ 0.945 as well.
    let c = ok(&expr_spec(
        "x^4/4 - x^2/2 + 0.1*x",
        "-1.0",
        -2.0,
        1.5,
        1.0,
        "0.1",
    ));
    assert!(!c.hypotheses_hold());
    // Styblinski–Tang 2-D: the ball of radius 3.2 around (t*, t*) reaches the saddle
    // (0.1567, t*) at distance 3.06.
    let c = ok(r#"
name = "st-big"
[landscape]
builtin = "styblinski_tang"
dim = 2
[minimum]
guess = [-2.9, -2.9]
[domain]
kind = "ball"
radius = 3.2
[noise]
kind = "isotropic"
sigma = 2.0
[sgd]
eta = 0.3
[certify]
max_boxes = 20000
"#);
    let h1 = c.hypotheses.iter().find(|h| h.name == "H1").unwrap();
    assert!(
        !h1.holds,
        "H1 certified on a ball containing a saddle: {}",
        h1.detail
    );
}

/// THEORY E8 with a constant, non-commuting Σ: L = ½θᵀHθ, H = [[3,1],[1,2]],
/// Σ = [[1,0.5],[0.5,2]], ball of radius 1. HC + CH = Σ and V̄ = r²/(2λ_max(C)).
/// Reference: mpmath (40 digits) solving the 3×3 linear system for (c11, c12, c22) and
/// `eigsy`; the discrete values solve C − ACAᵀ = ηΣ, A = I − ηH, the same way.
#[test]
fn anisotropic_constant_noise_quadratic_matches_lyapunov() {
    let c = ok(r#"name = "aniso"
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
eta = [0.05, 0.1]
"#);
    hypotheses_hold(&c);
    let v = c.barrier.value.expect("certified");
    assert_encloses("V̄", v, r("0.95302993496885974748255197658"), 1e-9);
    let d: Vec<Interval> = c
        .barrier_discrete
        .iter()
        .map(|b| b.bound.value.expect("certified"))
        .collect();
    assert_encloses(
        "V̄_η(0.05)",
        d[0],
        r("0.912358669289978485454216580857"),
        1e-9,
    );
    assert_encloses("V̄_η(0.1)", d[1], r("0.87042558977555846926022940884"), 1e-9);
    // Discrete SGD escapes with a smaller exponent (THEORY T6).
    assert!(d[1].sup() < d[0].inf() && d[0].sup() < v.inf());
    // Steepness: 1/λ_max(Σ) ≤ s⁻ ≤ s⁺ ≤ 1/λ_min(Σ), λ(Σ) = (3 ∓ √2)/2.
    let lmax = (3.0 + 2f64.sqrt()) / 2.0;
    let lmin = (3.0 - 2f64.sqrt()) / 2.0;
    assert!(c.steepness.s_minus.inf() <= 1.0 / lmax * (1.0 + 1e-12));
    assert!(c.steepness.s_plus.sup() >= 1.0 / lmin * (1.0 - 1e-12));
    assert!(
        c.steepness.s_minus.inf() > 0.0 && c.steepness.s_minus.sup() <= c.steepness.s_plus.sup()
    );
}

/// Hessian-shaped noise on a non-quadratic landscape: both sides certified, V_lo ≤ V_hi,
/// and (H2) certified from the interval Hessian over the ball.
#[test]
fn hessian_noise_styblinski_tang_is_bracketed() {
    let c = ok(r#"name = "st_hessian_noise"
[landscape]
builtin = "styblinski_tang"
dim = 2
[minimum]
guess = [-2.9, -2.9]
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "hessian"
scale = 0.5
floor = 0.1
[sgd]
eta = 0.01
"#);
    hypotheses_hold(&c);
    let v = c.barrier.value.expect("certified");
    assert!(
        v.inf() > 0.0 && v.inf() <= v.sup() && v.sup().is_finite(),
        "{v:?}"
    );
    // Steepness bracket: V_lo is at least the C-loss bound 2 s⁻_lo ΔL_lo (C-quad may beat
    // it); the upper end is at most 2 s⁺_hi ΔL_hi (it is the smaller of that and the
    // Lemma P path bound).
    assert!(c.steepness.s_minus.inf() > 0.0);
    let vlo = 2.0 * c.steepness.s_minus.inf() * c.depth.inf();
    let vhi = 2.0 * c.steepness.s_plus.sup() * c.depth.sup();
    assert!(
        v.inf() >= vlo * (1.0 - 1e-12) && v.sup() <= vhi * (1.0 + 1e-12),
        "{v:?} vs [{vlo}, {vhi}]"
    );
    let db = c.barrier_discrete[0]
        .bound
        .value
        .expect("discrete enclosure");
    assert!(db.inf() <= db.sup());
}

/// The Müller–Brown potential (built-in): the certified minimiser boxes lie within the
/// rounding of the three published minima (Müller & Brown 1979, to 3 decimals:
/// (−0.558, 1.442), (0.623, 0.028), (−0.050, 0.467)), and on a ball around each the
/// barrier is certified with V_lo ≤ V_hi, for isotropic and for Hessian-shaped noise.
#[test]
fn muller_brown_minima_and_barriers() {
    for (x, y) in [(-0.558, 1.442), (0.623, 0.028), (-0.050, 0.467)] {
        for noise in [
            "kind = \"isotropic\"\nsigma = 4.0",
            // A smaller box budget keeps the steepness and C-quad searches short here.
            "kind = \"hessian\"\nscale = 0.05\nfloor = 1.0\n[certify]\nmax_boxes = 40000",
        ] {
            let c = ok(&format!(
                "name = \"mb\"\n[landscape]\nbuiltin = \"muller_brown\"\n[minimum]\nguess = [{x}, {y}]\n[domain]\nkind = \"ball\"\nradius = 0.1\n[sgd]\neta = 0.1\n[noise]\n{noise}\n"
            ));
            for (b, p) in c.minimizer.x.iter().zip([x, y]) {
                assert!(b.wid() < 1e-8, "{b:?}");
                assert!(
                    (b.mid() - p).abs() <= 5e-4 + 1e-12,
                    "minimiser {b:?} vs published {p}"
                );
            }
            hypotheses_hold(&c);
            let v = c.barrier.value.expect("certified");
            assert!(
                v.inf() > 0.0 && v.inf() <= v.sup() && v.sup().is_finite(),
                "{v:?}"
            );
        }
    }
}
