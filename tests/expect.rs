//! `[expect]` assertions, the `noise_scale` fault injection, `[claims] check`, and the exit
//! codes (0: no claim FAILED; 1: some claim FAILED, or INCONCLUSIVE with `--strict`;
//! 2: bad input), through the CLI.

use escapecert::report::json::Report;
use escapecert::spec::Spec;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_escapecert");

/// Runs `verify` on `spec` (a path) with extra subcommand flags; returns the exit code,
/// stderr and the report (if written).
fn verify(spec: &Path, out: &Path, flags: &[&str]) -> (Option<i32>, String, Option<Report>) {
    let o = Command::new(BIN)
        .arg("verify")
        .arg(spec)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(flags)
        .output()
        .expect("run escapecert");
    let rep = std::fs::read_to_string(out.join("report.json"))
        .ok()
        .map(|t| serde_json::from_str(&t).expect("report.json parses"));
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        rep,
    )
}

fn verify_text(text: &str, flags: &[&str]) -> (Option<i32>, String, Option<Report>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spec.toml");
    std::fs::write(&file, text).unwrap();
    verify(&file, &dir.path().join("out"), flags)
}

fn claim<'a>(rep: &'a Report, id: &str) -> &'a escapecert::report::json::Claim {
    rep.claims
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no claim {id}: {:?}", ids(rep)))
}

fn ids(rep: &Report) -> Vec<String> {
    rep.claims.iter().map(|c| c.id.clone()).collect()
}

/// L = x²/2 on (−1, 1), σ = 1: V̄ = 1 (E7), V̄_η = 1 − η/2 (E12). Tiny and fast.
const BASE: &str = r#"name = "expect"
[landscape]
builtin = "quadratic"
dim = 1
sharpness = 1.0
[domain]
kind = "interval"
lo = -1.0
hi = 1.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = [0.25, 0.2]
batch = 1
[monte_carlo]
trials = 50
seed = 1
max_steps = 200000
dt = 0.01
dynamics = ["continuous"]
"#;

/// examples/false_barrier.toml asserts V̄ ∈ [1.5, 2] while V̄ = 1 is certified: FAIL and exit 1.
/// The disagreement is certified (no statistics), so the false-pass rate is 0 and the
/// test cannot fail by chance; the other claims of the report do not change the exit code
/// (any FAIL already gives 1).
#[test]
fn false_barrier_example_fails_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, rep) = verify(
        Path::new("examples/false_barrier.toml"),
        &dir.path().join("out"),
        &[],
    );
    let rep = rep.unwrap_or_else(|| panic!("no report: {err}"));
    assert_eq!(code, Some(1), "{err}");
    let c = claim(&rep, "expect barrier");
    assert_eq!(c.verdict, "FAIL", "{}", c.reason);
    assert_eq!(c.p_value, 0.0);
    let cs = c.certified.as_ref().expect("certified side");
    assert!(cs.lo <= 1.0 && 1.0 <= cs.hi && cs.hi < 1.5);
    assert!(cs
        .proofs
        .contains(&"proofs/isotropic-barrier.md".to_string()));
    assert_eq!(rep.summary.verdict, "FAIL");
    assert_eq!(rep.summary.exit_code, 1);
}

/// examples/wrong_noise_scaling.toml simulates σ = 1.5 against a certificate for σ = 1.
/// T5 must FAIL and verify exit 1. False-pass rate: the certified E[τ] (27.43 at κ² = 0.25,
/// 66.23 at κ² = 0.2) is 7–12 times the simulated mean (measured 3.8 and 5.8, 400 exits
/// each). For T5 not to fail, the censored-exponential interval (level ≥ 1 − 0.05/2 per
/// point) would have to reach the certified value, i.e. the mean of 400 exponential exit
/// times would have to exceed about 5 times its expectation; by the Chernoff bound for the
/// Gamma(400) law that has probability below exp(−400·(5 − 1 − ln 5)) ≈ e^{−955}. The
/// verdict is therefore FAIL at every seed, not only at this one.
#[test]
fn wrong_noise_scaling_example_fails_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, rep) = verify(
        Path::new("examples/wrong_noise_scaling.toml"),
        &dir.path().join("out"),
        &[],
    );
    let rep = rep.unwrap_or_else(|| panic!("no report: {err}"));
    assert_eq!(code, Some(1), "{err}");
    let t5 = claim(&rep, "T5");
    assert_eq!(t5.verdict, "FAIL", "{}", t5.reason);
    assert!(t5
        .proofs
        .contains(&"proofs/exit-time-formulas.md".to_string()));
    assert!(!t5.test.is_empty() && t5.n == 800, "{} {}", t5.test, t5.n);
    assert_eq!(rep.summary.exit_code, 1);
}

/// `noise_scale = 1` (the default, written out) leaves every simulation bit for bit
/// unchanged: the Monte Carlo section of the report is identical. Deterministic.
#[test]
fn noise_scale_one_changes_nothing() {
    let (_, e1, a) = verify_text(BASE, &[]);
    let text = BASE.replace("dynamics = [", "noise_scale = 1.0\ndynamics = [");
    let (_, e2, b) = verify_text(&text, &[]);
    let (a, b) = (a.expect(&e1), b.expect(&e2));
    assert_eq!(
        serde_json::to_string(&a.monte_carlo).unwrap(),
        serde_json::to_string(&b.monte_carlo).unwrap()
    );
}

/// `[expect]` verdicts: inside → PASS, disjoint → FAIL, partial overlap → INCONCLUSIVE;
/// `barrier_discrete` as a table per η (V̄_η = 1 − η/2: 0.875 at η = 0.25, 0.9 at
/// η = 0.2). Certified comparisons only: deterministic.
#[test]
fn expect_verdicts() {
    let text = format!(
        "{BASE}[claims]\ncheck = [\"T1\"]\n[expect]\nbarrier = [0.5, 1.5]\nbarrier_discrete = [{{ eta = 0.25, barrier = [0.8, 0.9] }}, {{ eta = 0.2, barrier = [0.9, 2.0] }}]\n"
    );
    let (code, err, rep) = verify_text(&text, &[]);
    let rep = rep.unwrap_or_else(|| panic!("{err}"));
    assert_eq!(claim(&rep, "expect barrier").verdict, "PASS");
    assert_eq!(
        claim(&rep, "expect barrier_discrete (η = 0.25)").verdict,
        "PASS"
    );
    // 0.9 = 1 − 0.2/2 is the certified value itself: the enclosure straddles the asserted
    // lower end, so the assertion can neither be confirmed nor refuted.
    let partial = claim(&rep, "expect barrier_discrete (η = 0.2)");
    assert_eq!(partial.verdict, "INCONCLUSIVE", "{}", partial.reason);
    assert_eq!(
        partial.inconclusive_cause.as_deref(),
        Some("certified-too-loose")
    );
    // Only T1 of the theory's claims was asked for.
    assert!(rep
        .claims
        .iter()
        .all(|c| c.id == "T1" || c.id.starts_with("expect")));
    let t1 = claim(&rep, "T1");
    let want = if t1.verdict == "FAIL" { 1 } else { 0 };
    assert_eq!(code, Some(want));
    // A disjoint discrete assertion, asserted for every η: FAIL, exit 1.
    let text =
        format!("{BASE}[claims]\ncheck = [\"T6\"]\n[expect]\nbarrier_discrete = [2.0, 3.0]\n");
    let (code, err, rep) = verify_text(&text, &[]);
    let rep = rep.unwrap_or_else(|| panic!("{err}"));
    assert_eq!(code, Some(1));
    assert_eq!(
        claim(&rep, "expect barrier_discrete (η = 0.25)").verdict,
        "FAIL"
    );
    assert_eq!(
        claim(&rep, "expect barrier_discrete (η = 0.2)").verdict,
        "FAIL"
    );
}

/// `[claims] check` with a claim that does not apply: INCONCLUSIVE "not applicable: …",
/// exit 0; with `--strict`, exit 1. Deterministic (no statistical claim is checked).
#[test]
fn not_applicable_claim_and_strict_exit_codes() {
    let text = format!("{BASE}[claims]\ncheck = [\"T6\"]\n");
    let (code, err, rep) = verify_text(&text, &[]);
    let rep = rep.unwrap_or_else(|| panic!("{err}"));
    assert_eq!(ids(&rep), ["T6"]);
    let t6 = claim(&rep, "T6");
    assert_eq!(t6.verdict, "INCONCLUSIVE");
    assert!(t6.reason.starts_with("not applicable: "), "{}", t6.reason);
    assert_eq!(t6.inconclusive_cause.as_deref(), Some("not-applicable"));
    assert_eq!(code, Some(0));
    assert_eq!(rep.summary.verdict, "INCONCLUSIVE");
    assert_eq!(
        (rep.summary.exit_code, rep.summary.exit_code_strict),
        (0, 1)
    );
    let (code, err, _) = verify_text(&text, &["--strict"]);
    assert_eq!(code, Some(1), "{err}");
}

/// Bad `[claims]`/`[expect]`/`noise_scale` input: exit 2 naming the key (one CLI run; the
/// other cases through the library's SpecError, which the CLI prints as is).
#[test]
fn bad_claims_and_expect_keys() {
    let (code, err, rep) = verify_text(&format!("{BASE}[claims]\ncheck = [\"T1\", \"T7\"]\n"), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("claims.check") && err.contains("T7"), "{err}");
    assert!(rep.is_none(), "no report on bad input");
    for (extra, key) in [
        ("[claims]\ncheck = []\n", "claims.check"),
        ("[expect]\nbarrier = [2.0, 1.0]\n", "expect.barrier"),
        ("[expect]\nbarrier = [1.0]\n", "expect.barrier"),
        (
            "[expect]\nbarrier_discrete = [{ eta = 0.3, barrier = [0.1, 0.2] }]\n",
            "expect.barrier_discrete[0].eta",
        ),
        (
            "[expect]\nbarrier_discrete = [{ eta = 0.25, range = [0.1, 0.2] }]\n",
            "expect.barrier_discrete[0]",
        ),
        (
            "[expect]\nbarrier_discrete = \"x\"\n",
            "expect.barrier_discrete",
        ),
        ("[expect]\nwhat = 1\n", ""),
    ] {
        let e = Spec::from_str(Path::new("t.toml"), &format!("{BASE}{extra}")).expect_err(extra);
        assert!(
            key.is_empty() || e.key == key,
            "{extra}: key {:?}, want {key:?}: {e}",
            e.key
        );
    }
    for bad in ["0.0", "-1.0", "nan"] {
        let text = BASE.replace(
            "dynamics = [",
            &format!("noise_scale = {bad}\ndynamics = ["),
        );
        let e = Spec::from_str(Path::new("t.toml"), &text).expect_err(bad);
        assert_eq!(e.key, "monte_carlo.noise_scale", "{e}");
    }
}
