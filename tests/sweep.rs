//! `[sweep]` (one certified problem instance per value of a spec key) and the T4
//! scaling-law claims (THEORY §8, proofs/scaling-law-slope.md).

use escapecert::claims::{predicted_ls_slope, predicted_prefactor_slope, prefactor_fit_g};
use escapecert::report::json::Report;
use escapecert::spec::{DomainSpec, LandscapeSpec, Spec, SpecError, SweepAgainst};
use escapecert::stats::weighted_slope;
use proptest::prelude::*;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_escapecert");

/// A valid sweep: a 1-D quadratic, the domain radius swept (cheap to certify).
const BASE: &str = r#"name = "sweep"
[landscape]
builtin = "quadratic"
dim = 1
sharpness = 1.0
[domain]
kind = "ball"
radius = 0.8
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = 0.125
batch = 2
[sweep]
key = "domain.radius"
values = [0.7, 0.75, 0.8, 0.85]
against = "depth"
[monte_carlo]
trials = 10
max_steps = 1000
dynamics = ["discrete"]
"#;

fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "`{from}` not in the base spec");
    BASE.replacen(from, to, 1)
}

fn parse(text: &str) -> Result<Spec, SpecError> {
    Spec::from_str(Path::new("s.toml"), text)
}

/// The error of a bad spec, checked to name `key`.
fn error(text: &str, key: &str) -> SpecError {
    let e = parse(text).expect_err("the spec must be rejected");
    assert_eq!(e.key, key, "{e}");
    e
}

#[test]
fn sweep_resolves_one_spec_per_value() {
    let s = parse(BASE).unwrap();
    let sw = s.sweep.as_ref().expect("sweep");
    assert_eq!(sw.key, "domain.radius");
    assert_eq!(sw.values, vec![0.7, 0.75, 0.8, 0.85]);
    assert_eq!(sw.against, SweepAgainst::Depth);
    assert_eq!(sw.instances.len(), 4);
    for (inst, &v) in sw.instances.iter().zip(&sw.values) {
        assert_eq!(inst.domain, DomainSpec::Ball { radius: v });
        assert!(inst.sweep.is_none());
    }
    // The top-level fields are those of the first instance.
    assert_eq!(s.domain, DomainSpec::Ball { radius: 0.7 });
    assert_eq!(s.instances().len(), 4);
}

#[test]
fn sweep_spec_errors_name_the_key() {
    let e = error(&edit("domain.radius\"", "domain.lo\""), "sweep.key");
    assert!(e.problem.contains("not set"), "{e}");
    let e = error(&edit("domain.radius\"", "landscape.builtin\""), "sweep.key");
    assert!(e.problem.contains("not a number"), "{e}");
    let e = error(&edit("domain.radius\"", "sgd.eta\""), "sweep.key");
    assert!(e.problem.contains("cannot be swept"), "{e}");
    error(&edit("domain.radius\"", "radius\""), "sweep.key");
    let e = error(&edit("[0.7, 0.75, 0.8, 0.85]", "[0.7]"), "sweep.values");
    assert!(e.problem.contains("at least 2"), "{e}");
    let e = error(
        &edit("[0.7, 0.75, 0.8, 0.85]", "[0.7, nan]"),
        "sweep.values[1]",
    );
    assert!(e.problem.contains("finite"), "{e}");
    error(
        &edit("[0.7, 0.75, 0.8, 0.85]", "[0.7, inf]"),
        "sweep.values[1]",
    );
    error(
        &edit("[0.7, 0.75, 0.8, 0.85]", "[0.7, \"a\"]"),
        "sweep.values[1]",
    );
    let e = error(
        &edit("[0.7, 0.75, 0.8, 0.85]", "[0.7, 0.7]"),
        "sweep.values[1]",
    );
    assert!(e.problem.contains("distinct"), "{e}");
    error(
        &edit("against = \"depth\"", "against = \"slope\""),
        "sweep.against",
    );
    error(&edit("eta = 0.125", "eta = [0.125, 0.1]"), "sgd.eta");
    error(&edit("key = ", "keys = "), "sweep.keys");
    // A value the instance rejects names the key, the value and the instance.
    let e = error(
        &edit("[0.7, 0.75, 0.8, 0.85]", "[0.7, -0.8]"),
        "domain.radius",
    );
    assert!(e.problem.contains("sweep.values[1]"), "{e}");
}

#[test]
fn expression_parameters_are_substituted_as_decimal_constants() {
    let text = r#"name = "p"
[landscape]
expr = "a*x^2/2 + b*x^4 + exp1*0 + 1e-3*a"
params = { a = 2.5, b = 1, exp1 = 0.1 }
[minimum]
guess = [0.0]
[domain]
kind = "interval"
lo = -1.0
hi = 1.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = 0.1
[sweep]
key = "landscape.params.a"
values = [2.5, 3]
"#;
    let s = parse(text).unwrap();
    let exprs: Vec<String> = s
        .sweep
        .as_ref()
        .unwrap()
        .instances
        .iter()
        .map(|i| match &i.landscape {
            LandscapeSpec::Expr { expr, .. } => expr.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        exprs,
        vec![
            "(2.5)*x^2/2 + (1)*x^4 + (0.1)*0 + 1e-3*(2.5)",
            "(3)*x^2/2 + (1)*x^4 + (0.1)*0 + 1e-3*(3)"
        ]
    );
    let bad = text.replace("exp1 = 0.1", "exp = 0.1");
    error(&bad, "landscape.params.exp");
    let unused = text.replace("exp1 = 0.1", "exp1 = 0.1, c = 1");
    error(&unused, "landscape.params.c");
    let with_builtin = BASE.replace("sharpness = 1.0", "sharpness = 1.0\nparams = { a = 1 }");
    error(&with_builtin, "landscape.params");
}

#[test]
fn a_bad_sweep_exits_2_without_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bad.toml");
    std::fs::write(&spec, edit("domain.radius\"", "domain.nothing\"")).unwrap();
    let out = dir.path().join("out");
    let o = Command::new(BIN)
        .args([
            "verify",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("`sweep.key`"),
        "{err}"
    );
    assert!(!out.join("report.json").exists());
}

proptest! {
    /// Lemma 1 of proofs/scaling-law-slope.md: for y anywhere in the boxes, the
    /// weighted least-squares slope lies in the predicted enclosure. The reference slope is
    /// the f64 fit; y is drawn strictly inside boxes of relative width ≥ 1e-6, far wider
    /// than the f64 fit's rounding.
    #[test]
    fn predicted_slope_encloses_every_ls_slope(
        pts in prop::collection::vec((-5.0f64..5.0, 0.05f64..1.0, -50.0f64..50.0, 1e-6f64..2.0, 0.0f64..1.0), 2..8)
    ) {
        let x: Vec<f64> = pts.iter().map(|p| p.0).collect();
        prop_assume!(x.iter().any(|&v| (v - x[0]).abs() > 1e-3));
        let se: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let lo: Vec<f64> = pts.iter().map(|p| p.2).collect();
        let hi: Vec<f64> = pts.iter().map(|p| p.2 + p.3 * (1.0 + p.2.abs())).collect();
        let t: Vec<f64> = pts.iter().map(|p| 0.001 + 0.998 * p.4).collect();
        let y: Vec<f64> = (0..x.len()).map(|i| lo[i] + t[i] * (hi[i] - lo[i])).collect();
        let enc = predicted_ls_slope(&x, &se, &lo, &hi).expect("enclosure");
        let fit = weighted_slope(&x, &y, &se, 0.95).expect("fit");
        prop_assert!(enc.inf() <= fit.slope.estimate && fit.slope.estimate <= enc.sup(),
            "{} not in [{}, {}]", fit.slope.estimate, enc.inf(), enc.sup());
    }

    /// Lemma 2: the same for the fit with the log-prefactor term.
    #[test]
    fn predicted_prefactor_slope_encloses_every_fit(
        pts in prop::collection::vec((0.05f64..1.0, -50.0f64..50.0, 1e-4f64..2.0, 0.0f64..1.0), 4..8)
    ) {
        let n = pts.len();
        let x: Vec<f64> = (0..n).map(|i| 1.0 + i as f64 * 0.5).collect();
        let g: Vec<f64> = x.iter().map(|v| (3.0 + 2.0 * v).ln()).collect();
        let se: Vec<f64> = pts.iter().map(|p| p.0).collect();
        let lo: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let hi: Vec<f64> = pts.iter().map(|p| p.1 + p.2 * (1.0 + p.1.abs())).collect();
        let y: Vec<f64> = (0..n).map(|i| lo[i] + (0.001 + 0.998 * pts[i].3) * (hi[i] - lo[i])).collect();
        let enc = predicted_prefactor_slope(&x, &g, &se, &lo, &hi).expect("enclosure");
        let fit = prefactor_fit_g(&x, &g, &y, &se, 0.95).expect("fit");
        prop_assert!(enc.inf() <= fit.slope.estimate && fit.slope.estimate <= enc.sup(),
            "{} not in [{}, {}]", fit.slope.estimate, enc.inf(), enc.sup());
    }
}

/// Lemma 3: when the exponents are exactly affine in x, the prediction is the slope.
#[test]
fn affine_exponents_predict_their_slope() {
    let x = [0.1, 0.2, 0.35, 0.5, 0.7];
    let se = [0.05, 0.1, 0.07, 0.2, 0.05];
    let y: Vec<f64> = x.iter().map(|v| 3.0 + 32.0 * v).collect();
    let g: Vec<f64> = y.iter().map(|v: &f64| v.ln()).collect();
    let a = predicted_ls_slope(&x, &se, &y, &y).unwrap();
    let b = predicted_prefactor_slope(&x, &g, &se, &y, &y).unwrap();
    for e in [a, b] {
        assert!(
            e.inf() <= 32.0 && 32.0 <= e.sup() && e.sup() - e.inf() < 1e-6,
            "{e:?}"
        );
    }
}

/// End to end: a 1-D depth sweep (six radii) (discrete SGD, exact iteration, E12 certified V̄_η)
/// PASSes T4. At a fixed seed; the claim is decided at family level 95% (Holm), so if the
/// scaling law with the log-prefactor term holds the false-failure rate is ≤ 5%.
#[test]
fn tiny_depth_sweep_passes_t4() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("s.toml");
    let text = edit(
        "trials = 10\nmax_steps = 1000",
        "trials = 400\nseed = 11\nmax_steps = 50_000_000",
    )
    .replace(
        "[0.7, 0.75, 0.8, 0.85]",
        "[0.6, 0.65, 0.7, 0.75, 0.8, 0.85]",
    );
    std::fs::write(&spec, text).unwrap();
    let out = dir.path().join("out");
    let o = Command::new(BIN)
        .args([
            "verify",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .output()
        .unwrap();
    let rep: Report =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(rep.format_version, 3);
    let t4 = rep
        .claims
        .iter()
        .find(|c| c.id.starts_with("T4 discrete"))
        .expect("a T4 claim");
    assert_eq!(t4.verdict, "PASS", "{}", t4.reason);
    assert_eq!(t4.variable, "ΔL");
    // Predicted slope: 2(1 − ηλ/2)/(σ²κ²) = 2·(15/16)·16 = 30 (E7, E12).
    let p = t4.predicted_slope.as_ref().unwrap();
    assert!(p.lo <= 30.0 && 30.0 <= p.hi && p.hi - p.lo < 1e-6, "{p:?}");
    assert_eq!(t4.abscissa.len(), t4.points.len());
    let sw = rep.sweep.as_ref().expect("instances in the report");
    assert_eq!(sw.instances.len(), 6);
    for (k, inst) in sw.instances.iter().enumerate() {
        // ΔL = r²/2 certified per instance.
        let r = [0.6, 0.65, 0.7, 0.75, 0.8, 0.85][k];
        assert!(inst.certified.depth.lo <= r * r / 2.0 && r * r / 2.0 <= inst.certified.depth.hi);
        assert_eq!(inst.points, vec![k]);
        assert_eq!(rep.monte_carlo[k].sweep.as_ref().unwrap().instance, k);
    }
    assert_eq!(rep.certified, sw.instances[0].certified);
}

/// T4's decision on exit times with a known truth: at six instances x = 1…6 the exit
/// times are the n stratified quantiles of an exponential law with mean exp(10 + 3x), so
/// log Ê is exactly affine in x with slope 3 (no randomness, hence no false-failure rate).
/// Certified barriers that predict slope 3 PASS; barriers twice too large (as a noise
/// variance off by a factor 2 would give) predict 6 and FAIL.
#[test]
fn t4_fails_when_the_certified_barriers_predict_the_wrong_slope() {
    use escapecert::claims::{
        evaluate_with, ClaimOptions, PointStatistics, ScalingInstance, ScalingSweep, SweepPoint,
        Verdict,
    };
    use escapecert::num::iv;
    use escapecert::simulate::{Dynamics, Shard, SimConfig, SimResult, Unit};
    use escapecert::stats::censored_exponential_mean;
    let spec = parse(BASE).unwrap();
    let (_, cert) = escapecert::run::certify_spec(&spec).unwrap();
    let (eta, n) = (0.1, 1000usize);
    let xs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let points: Vec<SweepPoint> = xs
        .iter()
        .enumerate()
        .map(|(k, &x)| {
            let mean = (10.0f64 + 3.0 * x).exp();
            let times: Vec<f64> = (0..n)
                .map(|j| -mean * (1.0 - (j as f64 + 0.5) / n as f64).ln())
                .collect();
            let config = SimConfig {
                dynamics: Dynamics::Discrete,
                eta,
                batch: 1,
                trials: n,
                seed: 0,
                max_steps: u64::MAX / 4,
                dt: 1e-3,
                start: vec![0.0],
                bridge: true,
                shard: Shard::WHOLE,
            };
            let est = censored_exponential_mean(&times, &[], 0.95).unwrap();
            SweepPoint {
                instance: k,
                dynamics: Dynamics::Discrete,
                eta,
                batch: 1,
                kappa2: eta,
                start_index: 0,
                start: vec![0.0],
                result: SimResult {
                    exit_times: times,
                    censor_times: vec![],
                    trials: n,
                    exits: n,
                    censored: 0,
                    unit: Unit::Iterations,
                    total_steps: 0,
                    config,
                    problem: String::new(),
                    outcomes: vec![],
                },
                mean: est,
                dt_check: None,
                statistics: PointStatistics::default(),
                exact: None,
                splitting: None,
            }
        })
        .collect();
    let sweep_with = |factor: f64| ScalingSweep {
        key: "landscape.params.a".into(),
        against: SweepAgainst::Value,
        instances: xs
            .iter()
            .map(|&x| {
                // V̄_η with V̄_η/κ² = 10 + 3x (times `factor`), enclosed.
                let v = factor * (10.0 + 3.0 * x) * eta;
                ScalingInstance {
                    value: x,
                    dim: 1,
                    depth: iv(v, v),
                    sharpness: iv(1.0, 1.0),
                    barrier: None,
                    barrier_method: String::new(),
                    barrier_discrete: vec![(
                        eta,
                        Some(iv(v * (1.0 - 1e-12), v * (1.0 + 1e-12))),
                        "test".into(),
                    )],
                    hypotheses: vec![("H1".into(), true, String::new())],
                }
            })
            .collect(),
    };
    for (factor, want) in [(1.0, Verdict::Pass), (2.0, Verdict::Fail)] {
        let sc = sweep_with(factor);
        let claims = evaluate_with(&cert, Some(&sc), &points, 0.95, &ClaimOptions::default());
        assert_eq!(claims.len(), 1);
        let c = &claims[0];
        assert!(c.id.starts_with("T4 discrete"), "{}", c.id);
        assert_eq!(c.verdict, want, "factor {factor}: {}", c.reason);
        let p = c.predicted_slope.unwrap();
        assert!(
            p.0 <= 3.0 * factor + 1e-6 && 3.0 * factor - 1e-6 <= p.1,
            "{p:?}"
        );
        assert_eq!(c.abscissa, xs.to_vec());
    }
}
