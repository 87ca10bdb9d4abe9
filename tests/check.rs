//! Regression mode (`escapecert check`): a fresh baseline passes, doctored baselines are
//! caught and named, bad baselines are exit-2 errors naming the file.
//!
//! Every test here is deterministic: the re-run uses the spec's seed, so with unchanged
//! code the new report equals the baseline bit for bit (asserted in
//! `fresh_baseline_has_no_regression`), and each doctored baseline is a fixed edit; no
//! test depends on a random outcome, so none can fail by chance.

use escapecert::check::{self, CheckOptions, Status};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_escapecert");

/// 1-D quadratic L = x²/2 on (−1, 1), σ = 1: V̄ = λr²/σ² = 1 (E7). Four κ² with
/// V̄/κ² ≥ 4, so T1 has both a certified side and a fitted slope; 200 trials per point
/// (mean exit times ≈ 50–500), well under a second in release.
const CHEAP: &str = r#"name = "check_cheap"
description = "1-D quadratic, few trials (regression-mode tests)"
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
eta = [0.25, 0.22, 0.19, 0.16]
batch = 1
[monte_carlo]
trials = 200
seed = 7
confidence = 0.95
max_steps = 100000
dt = 0.01
dynamics = ["continuous"]
"#;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn escapecert(args: &[&std::ffi::OsStr]) -> Run {
    let o = Command::new(BIN)
        .args(args)
        .output()
        .expect("run escapecert");
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Writes the cheap spec (with `name` replaced if given) and its baseline report.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let spec = dir.join("cheap.toml");
    std::fs::write(&spec, CHEAP).unwrap();
    let out = dir.join("base");
    let r = escapecert(&[
        "verify".as_ref(),
        spec.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ]);
    assert!(
        matches!(r.code, Some(0) | Some(1)),
        "verify failed: {}",
        r.stderr
    );
    (spec, out.join("report.json"))
}

fn check_cli(spec: &Path, baseline: &Path, extra: &[&std::ffi::OsStr]) -> Run {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "check".as_ref(),
        spec.as_os_str(),
        "--baseline".as_ref(),
        baseline.as_os_str(),
        "--quiet".as_ref(),
    ];
    args.extend_from_slice(extra);
    escapecert(&args)
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// The status of the row naming `item` (exactly one row).
fn status_of(c: &check::Comparison, item: &str) -> Status {
    let rows: Vec<_> = c.rows.iter().filter(|r| r.item == item).collect();
    assert_eq!(rows.len(), 1, "rows named {item}: {:#?}", c.rows);
    rows[0].status
}

fn compare(base: &Value, new: &Value) -> check::Comparison {
    check::compare(
        &check::view(base).unwrap(),
        &check::view(new).unwrap(),
        &CheckOptions::default(),
    )
}

#[test]
fn fresh_baseline_has_no_regression() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, baseline) = setup(dir.path());
    let out = dir.path().join("new");
    let r = check_cli(&spec, &baseline, &["--out".as_ref(), out.as_os_str()]);
    assert_eq!(
        r.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    assert!(r.stdout.contains("check: no regression"), "{}", r.stdout);
    assert!(!r.stdout.contains("REGRESSION"), "{}", r.stdout);
    // The re-run is exactly `verify`: --out writes the baseline's bytes again.
    assert_eq!(
        std::fs::read(&baseline).unwrap(),
        std::fs::read(out.join("report.json")).unwrap()
    );
    assert!(out.join("report.md").exists());
    // The claims, the barrier and each sweep point are in the table.
    for item in [
        "T1",
        "T5",
        "V̄",
        "ΔL",
        "θ*[1]",
        "mean exit time (continuous, η = 0.25, B = 1)",
    ] {
        assert!(
            r.stdout.contains(item),
            "{item} missing from:\n{}",
            r.stdout
        );
    }
}

#[test]
fn doctored_baseline_is_a_regression_named_in_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, baseline) = setup(dir.path());
    let fresh = read(&baseline);
    assert_eq!(fresh["claims"][0]["id"], "T1");
    assert_ne!(fresh["claims"][0]["verdict"], "FAIL");

    // Each doctoring alone is caught (library level: no re-run needed).
    // 1. A verdict changed to a better one: the real one is then worse. With 200 trials
    //    the slope interval of T1 is too wide to decide, so some claim is not PASS.
    let i = fresh["claims"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["verdict"] != "PASS")
        .expect("a claim that is not PASS (T1 is INCONCLUSIVE with 200 trials)");
    let id = fresh["claims"][i]["id"].as_str().unwrap().to_string();
    let mut b = fresh.clone();
    b["claims"][i]["verdict"] = json!("PASS");
    let c = compare(&b, &fresh);
    assert_eq!(status_of(&c, &id), Status::Regression);
    assert_eq!(c.regressions(), 1, "{}", c.render());
    let row = c.rows.iter().find(|r| r.item == id).unwrap();
    assert!(row.detail.contains("verdict got worse"), "{}", row.detail);
    // 2. A certified enclosure moved so that it is disjoint from the real one.
    let mut b = fresh.clone();
    b["certified"]["barrier"] = json!({"lo": 5.0, "hi": 6.0});
    let c = compare(&b, &fresh);
    assert_eq!(status_of(&c, "V̄"), Status::Regression);
    assert_eq!(c.regressions(), 1);
    // 3. The claim's certified side widened so that its point of agreement with the
    //    estimate (midpoint of the overlap) is no longer in the (unchanged) real interval,
    //    although the two certified intervals still intersect.
    let est = &fresh["claims"][0]["estimated"];
    let (e_lo, e_hi) = (est["lo"].as_f64().unwrap(), est["hi"].as_f64().unwrap());
    assert!(
        e_lo < 1.0 && 1.0 < e_hi,
        "T1's estimate should overlap V̄ = 1"
    );
    let mut b = fresh.clone();
    b["claims"][0]["certified"]["hi"] = json!(e_hi);
    let c = compare(&b, &fresh);
    assert_eq!(status_of(&c, "T1"), Status::Regression);
    let row = c.rows.iter().find(|r| r.item == "T1").unwrap();
    assert!(row.detail.contains("point of agreement"), "{}", row.detail);
    // 4. An estimate moved far (ten times larger, with its interval).
    let mut b = fresh.clone();
    for k in ["estimate", "lo", "hi"] {
        let x = b["monte_carlo"][0]["mean_exit_time"][k].as_f64().unwrap();
        b["monte_carlo"][0]["mean_exit_time"][k] = json!(10.0 * x);
    }
    let c = compare(&b, &fresh);
    assert_eq!(
        status_of(&c, "mean exit time (continuous, η = 0.25, B = 1)"),
        Status::Regression
    );
    // 5. A claim that disappeared is a regression; a new claim that does not FAIL is not.
    let mut b = fresh.clone();
    b["claims"].as_array_mut().unwrap().remove(0);
    let c = compare(&fresh, &b);
    assert_eq!(status_of(&c, "T1"), Status::Regression);
    let c = compare(&b, &fresh);
    assert_eq!(status_of(&c, "T1"), Status::New);
    assert_eq!(c.regressions(), 0);
    // 6. A widened certified enclosure is a warning, not a failure: the baseline's exact
    //    E[τ] at the first point narrowed to a quarter around its midpoint.
    let mut b = fresh.clone();
    let x = &mut b["monte_carlo"][0]["mean_exit_time_exact"];
    let (lo, hi) = (x["lo"].as_f64().unwrap(), x["hi"].as_f64().unwrap());
    let (m, q) = (0.5 * (lo + hi), 0.125 * (hi - lo));
    x["lo"] = json!(m - q);
    x["hi"] = json!(m + q);
    let c = compare(&b, &fresh);
    assert_eq!(
        status_of(&c, "exact E[τ] (continuous, η = 0.25, B = 1)"),
        Status::Warning
    );
    assert_eq!(c.exit_code(), 0);

    // All of them at once through the CLI: exit 1, every item named.
    let mut b = fresh.clone();
    b["claims"][0]["verdict"] = json!("PASS");
    b["claims"][0]["certified"]["hi"] = json!(e_hi);
    b["certified"]["barrier"] = json!({"lo": 5.0, "hi": 6.0});
    for k in ["estimate", "lo", "hi"] {
        let x = b["monte_carlo"][0]["mean_exit_time"][k].as_f64().unwrap();
        b["monte_carlo"][0]["mean_exit_time"][k] = json!(10.0 * x);
    }
    let doctored = dir.path().join("doctored.json");
    write(&doctored, &b);
    let r = check_cli(&spec, &doctored, &[]);
    assert_eq!(
        r.code,
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    let regressions: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("REGRESSION"))
        .collect();
    for item in ["T1", "V̄ ", "mean exit time (continuous, η = 0.25, B = 1)"] {
        assert!(
            regressions.iter().any(|l| l.contains(item)),
            "{item} not named as a regression in:\n{}",
            r.stdout
        );
    }
    assert!(r.stdout.contains("check: REGRESSION in"), "{}", r.stdout);
}

#[test]
fn older_or_extended_baseline_is_read_leniently() {
    let dir = tempfile::tempdir().unwrap();
    let (_, baseline) = setup(dir.path());
    let fresh = read(&baseline);
    // Additive fields anywhere (as later formats add them) are ignored.
    let mut b = fresh.clone();
    b["format_version"] = json!(99);
    b["instances"] = json!([{"anything": 1}]);
    b["claims"][0]["new_field"] = json!({"x": [1, 2]});
    b["certified"]["new_quantity"] = json!({"lo": 0.0, "hi": 1.0});
    let c = compare(&b, &fresh);
    assert_eq!(c.regressions(), 0, "{}", c.render());
    assert!(c.notes.iter().any(|n| n.contains("format 99")));
    // An older baseline without some keys: what it has is compared, the rest is noted.
    let mut b = fresh.clone();
    b["format_version"] = json!(1);
    b["certified"].as_object_mut().unwrap().remove("steepness");
    b.as_object_mut().unwrap().remove("settings");
    let c = compare(&b, &fresh);
    assert_eq!(c.regressions(), 0, "{}", c.render());
    assert!(c
        .notes
        .iter()
        .any(|n| n.contains("certified.steepness.s_minus")));
    assert_eq!(status_of(&c, "V̄"), Status::Same);
    // The other way round (the new report lacks a section the baseline has, as after a
    // format change that moved it), nothing would be compared: a regression, not a pass.
    let mut n = fresh.clone();
    n.as_object_mut().unwrap().remove("claims");
    let c = compare(&fresh, &n);
    assert_eq!(status_of(&c, "`claims`"), Status::Regression);
}

#[test]
fn baseline_of_another_spec_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, baseline) = setup(dir.path());
    // Another spec name: refused before anything runs.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, CHEAP.replace("check_cheap", "another_spec")).unwrap();
    let r = check_cli(&other, &baseline, &[]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("is not a report of"), "{}", r.stderr);
    assert!(r.stderr.contains("\"check_cheap\""), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    // The same name with another landscape: refused after the run, no report written.
    let changed = dir.path().join("changed.toml");
    std::fs::write(
        &changed,
        CHEAP.replace("sharpness = 1.0", "sharpness = 2.0"),
    )
    .unwrap();
    let out = dir.path().join("not-written");
    let r = check_cli(&changed, &baseline, &["--out".as_ref(), out.as_os_str()]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("problem.landscape"), "{}", r.stderr);
    assert!(!out.exists());
    let _ = spec;
}

#[test]
fn malformed_baseline_is_bad_input_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("cheap.toml");
    std::fs::write(&spec, CHEAP).unwrap();
    let bad = dir.path().join("broken-report.json");
    let cases: [(&str, &str); 4] = [
        ("{ \"format_version\": 2, ", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (
            "{\"format_version\": 2, \"problem\": {\"spec_name\": \"check_cheap\"}, \"claims\": 3}",
            "`claims`",
        ),
        ("{\"format_version\": 2}", "`problem`"),
    ];
    for (text, problem) in cases {
        std::fs::write(&bad, text).unwrap();
        let r = check_cli(&spec, &bad, &[]);
        assert_eq!(r.code, Some(2), "{text}: {}", r.stderr);
        assert!(r.stderr.contains("broken-report.json"), "{}", r.stderr);
        assert!(r.stderr.contains(problem), "{text}: {}", r.stderr);
    }
    let missing = dir.path().join("no-such-report.json");
    let r = check_cli(&spec, &missing, &[]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("no-such-report.json") && r.stderr.contains("cannot read"));
}
