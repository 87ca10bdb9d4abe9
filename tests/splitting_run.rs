//! Splitting in the pipeline (`[monte_carlo] method`, README "Rare events"): the automatic
//! switch, the report's `method` and `splitting` fields, the T1 fit and the exact-mean claim
//! over direct and splitting points together, local slopes, checkpoint and resume of a
//! splitting point, and the refusals (exit 2, key named).
//!
//! Reference values: the certified E13 enclosures the run itself reports
//! (`mean_exit_time_exact`, interval quadrature, proofs/exit-time-formulas.md) and the
//! certified barrier (`certified.barrier`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_escapecert");

/// The tilted double well on (−2, 0), continuous SGD: direct at κ² = 0.13 and 0.1
/// (E[τ] ≈ 3.8e2 and 1.8e3), splitting at 0.05 and 0.035 (E[τ] ≈ 1.8e6 and 7.0e8, beyond
/// the budget of 1e6 Euler–Maruyama steps). Confidence 0.999: a statistical assertion
/// below fails with probability at most 1e-3 when the theory and the estimators hold.
const SPEC: &str = r#"name = "splitting_run"
description = "direct and splitting points in one sweep"
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
eta = [0.13, 0.1, 0.05, 0.035]
batch = 1
[monte_carlo]
trials = 400
seed = 5
confidence = 0.999
max_steps = 5_000_000
dt = 0.01
dynamics = ["continuous"]
method = "auto"
[splitting]
budget = 1e6
particles = 50
replicas = 10
cycles = 300
"#;

fn verify(spec: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("verify")
        .arg(spec)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write_spec(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs a spec expected to be refused: exit 2, the key and the file named, no report.
fn refused(dir: &Path, name: &str, text: &str, extra: &[&str], key: &str) -> String {
    let spec = write_spec(dir, name, text);
    let out = dir.join(format!("{name}-out"));
    let o: Output = verify(&spec, &out, extra).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{name}: {err}");
    assert!(err.contains(key), "{name}: the error names `{key}`: {err}");
    assert!(
        err.contains(&format!("{name}.toml")),
        "{name}: names the file: {err}"
    );
    assert!(
        !out.join("report.json").exists(),
        "{name}: no report written"
    );
    err
}

#[test]
fn auto_switches_to_splitting_and_the_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "splitting_run", SPEC);
    let out = dir.path().join("out");
    let o = verify(&spec, &out, &[]).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let js: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    let mc = js["monte_carlo"].as_array().unwrap();
    let methods: Vec<&str> = mc.iter().map(|m| m["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["direct", "direct", "splitting", "splitting"]);
    for m in mc {
        let split = &m["splitting"];
        if m["method"] == "splitting" {
            assert_eq!(
                m["trials"], 0,
                "a splitting point has no direct trajectories"
            );
            assert_eq!(split["replicas"], 10);
            assert_eq!(split["particles"], 50);
            // 1-D: the default coordinate is the signed distance towards the certified
            // exit point (x = 0 from x* ≈ −1.05: direction +1).
            assert_eq!(split["coordinate"]["kind"], "direction", "{split}");
            assert_eq!(split["coordinate"]["direction"][0], 1.0);
            assert!(split["total_steps"].as_u64().unwrap() > 0);
            let (p, lo, hi) = (
                split["probability"].as_f64().unwrap(),
                split["probability_lower"].as_f64().unwrap(),
                split["probability_upper"].as_f64().unwrap(),
            );
            assert!(0.0 < lo && lo <= p && p <= hi && hi < 1.0, "{split}");
            assert!(m["mean_exit_time"]["method"]
                .as_str()
                .unwrap()
                .contains("splitting"));
        } else {
            assert!(split.is_null(), "direct points carry no splitting object");
            assert_eq!(m["trials"], 400);
        }
        // Every point is continuous with E13: the certified exact E[τ] is reported.
        assert!(m["mean_exit_time_exact"]["lo"].is_number(), "{m}");
    }
    // The predicted E[τ] of the splitting points is far beyond direct simulation.
    let exact_lo = mc[3]["mean_exit_time_exact"]["lo"].as_f64().unwrap();
    assert!(exact_lo > 1e8, "κ² = 0.035: E[τ] = {exact_lo:e}");

    // T1 fits direct and splitting points together; the exact-mean claim covers all four.
    let claims = js["claims"].as_array().unwrap();
    let t1 = claims.iter().find(|c| c["id"] == "T1").expect("T1");
    let pts: Vec<u64> = t1["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(
        pts.contains(&2) && pts.contains(&3),
        "T1 uses the splitting points: {pts:?}"
    );
    // Under the theorem (certified barrier) and valid intervals, FAIL has probability at
    // most 1 − confidence = 1e-3 (Holm over the claims keeps the family-wise rate).
    for c in claims {
        assert_ne!(c["verdict"], "FAIL", "{c}");
    }
    let t5 = claims.iter().find(|c| c["id"] == "T5").expect("T5");
    assert!(
        !t5["reason"].as_str().unwrap().contains("misses"),
        "no point misses its certified E[τ]: {}",
        t5["reason"]
    );

    // Local slopes: three neighbouring pairs, the last two involving splitting points,
    // next to the certified barrier.
    let ls = js["local_slopes"].as_array().unwrap();
    assert_eq!(ls.len(), 3);
    assert_eq!(ls[2]["methods"][0], "splitting");
    let v = &js["certified"]["barrier"];
    assert!(ls[2]["certified"][0].as_f64().unwrap() > 0.0, "{v}");

    let md = read(&out.join("report.md"));
    assert!(
        md.contains("| splitting |"),
        "the Monte Carlo table names the method"
    );
    assert!(md.contains("Splitting points (adaptive multilevel splitting"));
    assert!(md.contains("Local slopes of ln E[τ]"));
    assert!(
        !out.join("checkpoint").exists(),
        "a complete run removes its checkpoint"
    );
}

/// A run stopped during the sweep (SIGINT) keeps its finished splitting points in the
/// checkpoint; `--resume` ends with the uninterrupted report byte for byte. The kill
/// moments are fractions k/9 of the uninterrupted run's duration, tried in turn until one
/// lands after a splitting point was checkpointed (the resumed report is deterministic, so
/// the test has no false-failure rate; it fails if no kill moment of eight finds a
/// checkpointed splitting point).
#[test]
fn a_splitting_sweep_resumes_to_the_uninterrupted_report() {
    let dir = tempfile::tempdir().unwrap();
    // Splitting at every point, so that the kill lands inside or between splitting points.
    let text = SPEC
        .replace("method = \"auto\"", "method = \"splitting\"")
        .replace(
            "eta = [0.13, 0.1, 0.05, 0.035]",
            "eta = [0.1, 0.07, 0.05, 0.035]",
        );
    let spec = write_spec(dir.path(), "splitting_resume", &text);
    let reference = dir.path().join("reference");
    let t0 = std::time::Instant::now();
    assert_eq!(
        verify(&spec, &reference, &[]).status().unwrap().code(),
        Some(0)
    );
    let duration = t0.elapsed();
    let has_split = |out: &Path| {
        std::fs::read_dir(out.join("checkpoint")).is_ok_and(|mut d| {
            d.any(|e| {
                e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with("-splitting.json")
            })
        })
    };
    for k in 1..=8u32 {
        let out = dir.path().join(format!("out{k}"));
        let mut child = verify(&spec, &out, &[]).spawn().unwrap();
        std::thread::sleep(duration * k / 9);
        if child.try_wait().unwrap().is_none() {
            Command::new("kill")
                .args(["-s", "INT", &child.id().to_string()])
                .status()
                .unwrap();
        }
        let code = child.wait().unwrap().code();
        assert!(matches!(code, Some(0) | Some(130)), "exit {code:?}");
        if code != Some(130) || !has_split(&out) {
            continue;
        }
        let js: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
        assert!(
            js["partial"].is_object(),
            "the stopped run's report is partial"
        );
        assert_eq!(
            verify(&spec, &out, &["--resume"]).status().unwrap().code(),
            Some(0)
        );
        assert_eq!(
            read(&out.join("report.json")),
            read(&reference.join("report.json")),
            "resumed after a kill at {k}/9 of {duration:?}"
        );
        assert_eq!(
            read(&out.join("report.md")),
            read(&reference.join("report.md"))
        );
        assert!(!out.join("checkpoint").exists());
        return;
    }
    panic!("no kill moment found a checkpointed splitting point (run of {duration:?})");
}

#[test]
fn bad_splitting_input_is_refused_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    refused(
        d,
        "bad_method",
        &SPEC.replace("method = \"auto\"", "method = \"brute\""),
        &[],
        "monte_carlo.method",
    );
    refused(
        d,
        "few_particles",
        &SPEC.replace("particles = 50", "particles = 1"),
        &[],
        "splitting.particles",
    );
    refused(
        d,
        "levels_inverted",
        &SPEC.replace(
            "cycles = 300",
            "cycles = 300\ninner_level = 0.3\nouter_level = 0.2",
        ),
        &[],
        "splitting.outer_level",
    );
    refused(
        d,
        "bad_coordinate",
        &SPEC.replace("cycles = 300", "cycles = 300\ncoordinate = \"committor\""),
        &[],
        "splitting.coordinate",
    );
    refused(
        d,
        "nan_budget",
        &SPEC.replace("budget = 1e6", "budget = nan"),
        &[],
        "splitting.budget",
    );
    refused(
        d,
        "auto_trials",
        &SPEC.replace("trials = 400", "trials = \"auto\""),
        &[],
        "monte_carlo.method",
    );
    refused(
        d,
        "unknown_key",
        &SPEC.replace("cycles = 300", "cycles = 300\nreplica = 3"),
        &[],
        "replica",
    );
    // An outer level no direct cycle reaches: named under [splitting].
    refused(
        d,
        "unreachable_level",
        &SPEC.replace(
            "cycles = 300",
            "cycles = 300\ninner_level = 0.05\nouter_level = 5.0",
        ),
        &[],
        "splitting",
    );
    // Shards split direct trajectories only.
    let err = refused(
        d,
        "sharded",
        &SPEC.replace("method = \"auto\"", "method = \"splitting\""),
        &["--shard", "1/2"],
        "monte_carlo.method",
    );
    assert!(err.contains("--shard"), "{err}");
}

/// Minibatch splitting needs explicit levels (exit 2 naming them otherwise).
#[test]
fn minibatch_splitting_without_levels_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/wine_red_good.csv");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/logistic_csv.toml"),
    )
    .unwrap()
    .replace(
        "data = \"data/wine_red_good.csv\"",
        &format!("data = {:?}", data.display().to_string()),
    )
    .replace(
        "dynamics = [\"minibatch\", \"discrete\"]",
        "dynamics = [\"minibatch\"]\nmethod = \"splitting\"",
    );
    let err = refused(
        dir.path(),
        "minibatch_levels",
        &text,
        &[],
        "splitting.inner_level",
    );
    assert!(err.contains("minibatch"), "{err}");
}
