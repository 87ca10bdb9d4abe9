//! `[limits]` (README "Limits"): an input above a limit is refused with exit code 2 and
//! a message naming the key and the `[limits]` key that raises it; raising the limit
//! accepts it; a wall-clock limit reached makes every claim INCONCLUSIVE, never PASS.
//! (`[limits] simulate_seconds` is tested with the checkpoints in tests/resume.rs.)

use escapecert::spec::Spec;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_escapecert");

/// A cheap 1-D spec (quadratic, discrete SGD at two batch sizes: T2 and T3 are decided
/// in about 0.7 s).
const BASE: &str = r#"name = "limits"
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
batch = [1, 2]
[monte_carlo]
trials = 1000
seed = 3
max_steps = 10_000_000
dynamics = ["discrete"]
"#;

fn parse(text: &str) -> Result<Spec, String> {
    Spec::from_str(Path::new("limits.toml"), text).map_err(|e| e.to_string())
}

fn with_limits(text: &str, limits: &str) -> String {
    format!("{text}[limits]\n{limits}\n")
}

#[test]
fn input_limits_name_the_key_that_raises_them() {
    let cases = [
        ("dim = 1", "dim = 20000", "landscape.dim", "max_dimension"),
        (
            "trials = 1000",
            "trials = 200000000",
            "monte_carlo.trials",
            "max_trials",
        ),
        (
            "max_steps = 10_000_000",
            "max_steps = 2_000_000_000_000",
            "monte_carlo.max_steps",
            "max_steps",
        ),
    ];
    for (from, to, key, limit) in cases {
        let text = BASE.replace(from, to);
        let e = parse(&text).expect_err(to);
        assert!(
            e.contains("limits.toml")
                && e.contains(key)
                && e.contains("exceeds the limit")
                && e.contains(limit),
            "{to}: {e}"
        );
        // Raising the limit accepts the value.
        let raised = with_limits(&text, &format!("{limit} = 3_000_000_000_000"));
        let raised = if limit == "max_dimension" {
            with_limits(&text, "max_dimension = 20000")
        } else if limit == "max_trials" {
            with_limits(&text, "max_trials = 300000000")
        } else {
            raised
        };
        parse(&raised).unwrap_or_else(|e| panic!("{to} with the limit raised: {e}"));
    }
    // trials = "auto": its budget is bounded too.
    let auto = BASE.replace("trials = 1000", "trials = \"auto\"\nmax_trials = 500000000");
    let e = parse(&auto).unwrap_err();
    assert!(
        e.contains("monte_carlo.max_trials") && e.contains("max_trials"),
        "{e}"
    );
}

#[test]
fn limits_have_ceilings_and_are_validated() {
    for (l, key) in [
        ("max_dimension = 1_000_000_000", "limits.max_dimension"),
        ("max_trials = 100_000_000_000", "limits.max_trials"),
        ("max_steps = 0", "limits.max_steps"),
        ("certify_seconds = -1.0", "limits.certify_seconds"),
        ("simulate_seconds = nan", "limits.simulate_seconds"),
        ("wall_clock = 3", "wall_clock"),
    ] {
        let e = parse(&with_limits(BASE, l)).expect_err(l);
        assert!(e.contains(key), "{l}: {e}");
    }
}

#[test]
fn the_cli_refuses_an_input_above_a_limit_with_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("hessian.toml");
    // An expression in 3 variables with max_dimension = 2: found when the landscape is
    // built.
    let text = with_limits(
        &BASE.replace(
            "builtin = \"quadratic\"\ndim = 1\nsharpness = 1.0",
            "expr = \"x1^2 + x2^2 + x3^2\"\n[minimum]\nguess = [0.1, 0.1, 0.1]",
        ),
        "max_dimension = 2",
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
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("hessian.toml")
            && err.contains("dimension 3")
            && err.contains("max_dimension"),
        "{err}"
    );
    assert!(!out.join("report.json").exists());
}

#[test]
fn a_certify_time_limit_reached_makes_every_claim_inconclusive() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("timed.toml");
    // A deadline that has passed when the first search starts: deterministic.
    std::fs::write(&spec, with_limits(BASE, "certify_seconds = 1e-9")).unwrap();
    let out = dir.path().join("out");
    let run = |strict: bool| {
        let mut c = Command::new(BIN);
        c.args([
            "verify",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        if strict {
            c.arg("--strict");
        }
        c.output().unwrap()
    };
    assert_eq!(run(false).status.code(), Some(0), "INCONCLUSIVE exits 0");
    assert_eq!(
        run(true).status.code(),
        Some(1),
        "--strict: INCONCLUSIVE exits 1"
    );
    let js: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let claims = js["claims"].as_array().unwrap();
    assert!(!claims.is_empty());
    for c in claims {
        assert_eq!(c["verdict"], "INCONCLUSIVE", "{c}");
        let reason = c["reason"].as_str().unwrap();
        assert!(reason.contains("limits.certify_seconds"), "{reason}");
    }
    // Without the limit no claim mentions it (the limit, not the statistics, made the
    // verdicts above INCONCLUSIVE).
    std::fs::write(&spec, BASE).unwrap();
    let o = run(false);
    assert!(matches!(o.status.code(), Some(0) | Some(1)));
    let js: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    for c in js["claims"].as_array().unwrap() {
        assert!(
            !c["reason"].as_str().unwrap().contains("certify_seconds"),
            "{c}"
        );
    }
}

/// An expression's variable indices are bounded at parse time only by the ceiling of
/// `[limits] max_dimension` (10⁶), so that raising the limit admits larger expressions; the
/// spec's own limit is enforced on the built landscape (test above).
#[test]
fn expression_variables_are_bounded_by_the_ceiling_at_parse_time() {
    use escapecert::landscape::Tape;
    let t = Tape::parse("x1^2 + x12000^2", None).expect("12000 variables parse");
    assert_eq!(t.dim, 12000);
    let e = Tape::parse("x1000001", None).expect_err("above the ceiling");
    assert!(e.to_string().contains("ceiling"), "{e}");
}
