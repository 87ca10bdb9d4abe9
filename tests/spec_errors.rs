//! The CLI on bad spec files (README exit codes; STYLE: "a bad file gets an error naming
//! the file, the key and what was expected, never a panic").
//!
//! Every case runs `escapecert verify FILE --out DIR --quiet` and asserts: exit code 2,
//! stderr names the file and the key (as "key `…`"), no panic, and no report written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_escapecert");

/// A valid, quick spec every case starts from.
const BASE: &str = r#"name = "base"
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
eta = 0.1
[monte_carlo]
trials = 10
max_steps = 1000
"#;

/// BASE with `from` replaced by `to` (which must occur).
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "`{from}` not in the base spec");
    BASE.replacen(from, to, 1)
}

fn expr_spec(expr: &str, guess: &str, lo: &str, hi: &str) -> String {
    format!(
        "name = \"e\"\n[landscape]\nexpr = \"{expr}\"\n[minimum]\nguess = [{guess}]\n[domain]\nkind = \"interval\"\nlo = {lo}\nhi = {hi}\n[noise]\nkind = \"isotropic\"\nsigma = 1.0\n[sgd]\neta = 0.1\n[monte_carlo]\ntrials = 10\nmax_steps = 1000\n"
    )
}

fn ball_spec(landscape: &str, extra: &str) -> String {
    format!(
        "name = \"b\"\n[landscape]\n{landscape}\n{extra}[domain]\nkind = \"ball\"\nradius = 1.0\n[noise]\nkind = \"isotropic\"\nsigma = 1.0\n[sgd]\neta = 0.1\n[monte_carlo]\ntrials = 10\nmax_steps = 1000\n"
    )
}

struct Run {
    code: Option<i32>,
    stderr: String,
    file: PathBuf,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

fn verify_file(file: &Path, out: &Path) -> Output {
    Command::new(BIN)
        .args(["verify"])
        .arg(file)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .output()
        .expect("run escapecert")
}

fn verify_text(text: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("out");
    let o = verify_file(&file, &out);
    Run {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        file,
        out,
        _dir: dir,
    }
}

/// The common assertions: exit 2, file and key named, no panic, no report.
#[track_caller]
fn assert_rejected(r: &Run, key: Option<&str>) {
    let what = format!("stderr: {}", r.stderr.trim());
    assert_eq!(r.code, Some(2), "exit code; {what}");
    assert!(!r.stderr.contains("panicked"), "panic; {what}");
    assert!(
        r.stderr.contains(&r.file.display().to_string()),
        "file not named; {what}"
    );
    if let Some(key) = key {
        assert!(
            r.stderr.contains(&format!("key `{key}`")),
            "key `{key}` not named; {what}"
        );
    }
    assert!(
        !r.out.join("report.json").exists(),
        "a report.json was written; {what}"
    );
    assert!(
        !r.out.join("report.md").exists(),
        "a report.md was written; {what}"
    );
}

#[track_caller]
fn rejected(text: &str, key: &str) -> Run {
    let r = verify_text(text);
    assert_rejected(&r, Some(key));
    r
}

#[test]
fn base_spec_is_valid() {
    // Guards the cases below: the unedited spec runs and writes a report.
    let r = verify_text(BASE);
    assert!(matches!(r.code, Some(0) | Some(1)), "stderr: {}", r.stderr);
    assert!(r.out.join("report.json").exists());
}

#[test]
fn malformed_toml() {
    let r = rejected(&edit("sigma = 1.0", "sigma = = 1.0"), "noise.sigma");
    assert!(r.stderr.contains("line 12"), "{}", r.stderr);
    rejected(
        &edit("kind = \"isotropic\"", "kind = \"isotropic"),
        "noise.kind",
    );
    // Not TOML at all (no key to name).
    assert_rejected(&verify_text("this is { not toml"), None);
    assert_rejected(&verify_text(""), None);
}

/// Bug: for an unterminated array the error is blamed on the next table header. The TOML
/// parser fails at the `[monte_carlo]` line (it reads `[` as a nested array), and
/// `key_at` (src/spec.rs) names the table header on the error line, so the message says
/// "key `monte_carlo`" although the bad value is `sgd.eta` on the line before.
/// Fix: when the error line is a table header but the error column is past its `[`, or
/// more generally, name the last `key =` whose value had not ended before the error offset.
#[test]
fn malformed_toml_unterminated_array_names_the_key() {
    rejected(&edit("eta = 0.1", "eta = [0.1,"), "sgd.eta");
}

#[test]
fn unknown_key() {
    let r = rejected(&edit("eta = 0.1", "eta = 0.1\netaa = 0.2"), "sgd.etaa");
    assert!(r.stderr.contains("unknown field"), "{}", r.stderr);
    rejected(&edit("eta = 0.1", "etaa = 0.1"), "sgd.etaa");
    rejected(
        &edit("[noise]", "colour = \"red\"\n[noise]"),
        "domain.colour",
    );
    rejected(
        &edit("name = \"base\"", "name = \"base\"\nseed = 3"),
        "seed",
    );
}

#[test]
fn bad_eta() {
    let r = rejected(&edit("eta = 0.1", "eta = -0.1"), "sgd.eta");
    assert!(r.stderr.contains("positive"), "{}", r.stderr);
    rejected(&edit("eta = 0.1", "eta = 0.0"), "sgd.eta");
    let r = rejected(&edit("eta = 0.1", "eta = nan"), "sgd.eta");
    assert!(r.stderr.contains("finite"), "{}", r.stderr);
    rejected(&edit("eta = 0.1", "eta = inf"), "sgd.eta");
    rejected(&edit("eta = 0.1", "eta = [0.1, -0.2]"), "sgd.eta[1]");
    rejected(&edit("eta = 0.1", "eta = []"), "sgd.eta");
    rejected(&edit("eta = 0.1", "eta = \"fast\""), "sgd.eta");
}

#[test]
fn missing_eta() {
    let r = rejected(&edit("eta = 0.1", ""), "sgd.eta");
    assert!(r.stderr.contains("eta"), "{}", r.stderr);
}

#[test]
fn wrong_guess_length() {
    let r = rejected(
        &edit("[domain]", "[minimum]\nguess = [0.0, 1.0]\n[domain]"),
        "minimum.guess",
    );
    assert!(r.stderr.contains("dimension 1"), "{}", r.stderr);
    rejected(
        &ball_spec(
            "builtin = \"styblinski_tang\"\ndim = 3",
            "[minimum]\nguess = [-2.9, -2.9]\n",
        ),
        "minimum.guess",
    );
    rejected(
        &edit("[domain]", "[minimum]\nguess = []\n[domain]"),
        "minimum.guess",
    );
    rejected(
        &edit("[domain]", "[minimum]\nguess = [nan]\n[domain]"),
        "minimum.guess[0]",
    );
    // An expression landscape needs a guess.
    rejected(
        &expr_spec("x^2", "0.0", "-1.0", "1.0").replace("[minimum]\nguess = [0.0]\n", ""),
        "minimum.guess",
    );
}

#[test]
fn bad_monte_carlo_settings() {
    rejected(&edit("trials = 10", "trials = 0"), "monte_carlo.trials");
    rejected(&edit("trials = 10", "trials = -5"), "monte_carlo.trials");
    rejected(&edit("trials = 10", "trials = 1.5"), "monte_carlo.trials");
    rejected(
        &edit("max_steps = 1000", "max_steps = 0"),
        "monte_carlo.max_steps",
    );
    rejected(&edit("max_steps = 1000", "seed = -1"), "monte_carlo.seed");
    rejected(
        &edit("max_steps = 1000", "confidence = 1.5"),
        "monte_carlo.confidence",
    );
    rejected(
        &edit("max_steps = 1000", "confidence = nan"),
        "monte_carlo.confidence",
    );
    rejected(&edit("max_steps = 1000", "dt = -0.1"), "monte_carlo.dt");
    rejected(
        &edit("max_steps = 1000", "dynamics = [\"foo\"]"),
        "monte_carlo.dynamics[0]",
    );
    rejected(
        &edit("max_steps = 1000", "dynamics = []"),
        "monte_carlo.dynamics",
    );
    rejected(&edit("eta = 0.1", "eta = 0.1\nbatch = 0"), "sgd.batch");
}

#[test]
fn bad_landscape() {
    let r = rejected(&edit("\"quadratic\"", "\"quadratik\""), "landscape.builtin");
    assert!(r.stderr.contains("quadratik"), "{}", r.stderr);
    rejected(&edit("dim = 1", "dim = 0"), "landscape.dim");
    rejected(&edit("dim = 1\n", ""), "landscape.dim");
    rejected(
        &edit("sharpness = 1.0", "sharpness = -1.0"),
        "landscape.sharpness",
    );
    rejected(
        &edit("sharpness = 1.0", "sharpness = 1.0\nexpr = \"x^2\""),
        "landscape",
    );
    rejected(
        &edit("sharpness = 1.0", "sharpness = 1.0\nhessian = [[1.0]]"),
        "landscape",
    );
    let r = rejected(&expr_spec("x^0.5", "0.5", "0.1", "1.0"), "landscape.expr");
    assert!(r.stderr.contains("integer exponent"), "{}", r.stderr);
    rejected(&expr_spec("foo(x)", "0.5", "0.1", "1.0"), "landscape.expr");
    rejected(&expr_spec("((x)", "0.5", "0.1", "1.0"), "landscape.expr");
    // More parentheses than MAX_OPERATORS (50 000).
    let deep = format!("{}x{}", "(".repeat(60_000), ")".repeat(60_000));
    rejected(&expr_spec(&deep, "0.5", "0.1", "1.0"), "landscape.expr");
}

#[test]
fn missing_sigma() {
    let r = rejected(&edit("sigma = 1.0\n", ""), "noise.sigma");
    assert!(r.stderr.contains("required"), "{}", r.stderr);
    rejected(&edit("sigma = 1.0", "sigma = 0.0"), "noise.sigma");
    // `sigma` does not belong to the Hessian-shaped model.
    rejected(
        &edit("kind = \"isotropic\"", "kind = \"hessian\""),
        "noise.sigma",
    );
}

/// Bug: a missing required table is blamed on the first key of the file. toml's
/// "missing field `noise`" error spans the whole document, so `key_at(text, 1)`
/// (src/spec.rs, `Spec::from_str`) names `name`, the key on line 1: the message reads
/// "key `name`: line 1, column 1: missing field `noise`". Fix: for "missing field `f`"
/// errors, name the key `<table at the span>.f` (here `noise`).
#[test]
fn missing_table_names_the_table() {
    let text = BASE.replace("[noise]\nkind = \"isotropic\"\nsigma = 1.0\n", "");
    rejected(&text, "noise");
}

#[test]
fn non_symmetric_hessian() {
    let r = rejected(
        &ball_spec(
            "builtin = \"quadratic\"\ndim = 2\nhessian = [[3.0, 1.0], [1.5, 2.0]]",
            "",
        ),
        "landscape.hessian",
    );
    assert!(r.stderr.contains("symmetric"), "{}", r.stderr);
    rejected(
        &ball_spec(
            "builtin = \"quadratic\"\ndim = 2\nhessian = [[3.0, 1.0]]",
            "",
        ),
        "landscape.hessian",
    );
    rejected(
        &ball_spec(
            "builtin = \"quadratic\"\ndim = 2\nhessian = [[3.0, 1.0], [1.0, nan]]",
            "",
        ),
        "landscape.hessian[1][1]",
    );
}

#[test]
fn bad_domain() {
    rejected(&edit("lo = -1.0", "lo = 2.0"), "domain");
    rejected(
        &edit("kind = \"interval\"", "kind = \"cube\""),
        "domain.kind",
    );
    rejected(&edit("hi = 1.0", "hi = 1.0\nradius = 1.0"), "domain.radius");
    rejected(&edit("lo = -1.0\n", ""), "domain.lo");
    rejected(&edit("dim = 1", "dim = 2"), "domain.kind"); // an interval for a 2-D landscape
    rejected(
        &ball_spec("builtin = \"quadratic\"\ndim = 2\nsharpness = 1.0", "")
            .replace("radius = 1.0", "radius = -1.0"),
        "domain.radius",
    );
}

/// `[domain] kind = "box"`: `lo` and `hi` are lists, one entry per coordinate of the
/// landscape, lo[i] < hi[i], the minimiser inside; every error names its key.
#[test]
fn bad_box_domain() {
    let boxed = |lo: &str, hi: &str, extra: &str| {
        ball_spec("builtin = \"quadratic\"\ndim = 2\nsharpness = 1.0", "").replace(
            "kind = \"ball\"\nradius = 1.0",
            &format!("kind = \"box\"\nlo = {lo}\nhi = {hi}{extra}"),
        )
    };
    // The unedited box spec is valid.
    let r = verify_text(&boxed("[-1.0, -1.0]", "[1.0, 1.0]", ""));
    assert!(matches!(r.code, Some(0) | Some(1)), "stderr: {}", r.stderr);
    rejected(&boxed("-1.0", "[1.0, 1.0]", ""), "domain.lo"); // not a list
    rejected(&boxed("[-1.0, -1.0]", "[1.0]", ""), "domain.hi"); // lengths differ
    rejected(&boxed("[-1.0, 1.0]", "[1.0, 1.0]", ""), "domain"); // lo[1] = hi[1]
    rejected(
        &boxed("[-1.0, -1.0, -1.0]", "[1.0, 1.0, 1.0]", ""),
        "domain.lo",
    ); // 3 ≠ dim 2
    rejected(&boxed("[-1.0, \"a\"]", "[1.0, 1.0]", ""), "domain.lo[1]");
    rejected(&boxed("[-1.0, nan]", "[1.0, 1.0]", ""), "domain.lo[1]");
    rejected(&boxed("[]", "[]", ""), "domain.lo");
    rejected(
        &boxed("[-1.0, -1.0]", "[1.0, 1.0]", "\nradius = 1.0"),
        "domain.radius",
    );
    rejected(&boxed("[0.5, -1.0]", "[1.0, 1.0]", ""), "domain"); // minimiser 0 outside
    let no_hi = boxed("[-1.0, -1.0]", "[1.0, 1.0]", "").replace("hi = [1.0, 1.0]\n", "");
    rejected(&no_hi, "domain.hi");
    // A list for an interval.
    rejected(&edit("lo = -1.0", "lo = [-1.0]"), "domain.lo");
}

/// Problems found while certifying are bad input too (exit 2, key named).
#[test]
fn certify_errors() {
    let r = rejected(
        &expr_spec("x - log(x)", "1.5", "-1.0", "3.0"),
        "landscape.expr",
    );
    assert!(r.stderr.contains("log"), "{}", r.stderr);
    rejected(
        &expr_spec("x^4/4 - x^2/2 + 0.1*x", "-1.0", "-0.5", "0.0"),
        "domain",
    );
    rejected(&expr_spec("exp(x)", "0.0", "-1.0", "1.0"), "minimum.guess");
}

/// Bug: errors raised after the spec is read (Problem::from_spec and certify errors) are
/// printed twice on one line, e.g. "error: case.toml: key `minimum.guess`: has 2 entries …:
/// case.toml: key `minimum.guess`: has 2 entries …". `RunError::Spec` (src/run.rs) is
/// `#[error("{0}")]` with `#[from]` (which makes the SpecError its `source()` as well) and
/// `RunError::Certify` prints `{source}` from a field named `source`; main.rs prints
/// `{e:#}`, which appends every source in the chain. Fix: `#[error(transparent)]` on
/// `Spec` (and `Report`), and drop `{source}` from Certify's message or print `{e}` in
/// main.rs.
#[test]
fn error_message_is_printed_once() {
    for (text, key) in [
        (
            edit("[domain]", "[minimum]\nguess = [0.0, 1.0]\n[domain]"),
            "minimum.guess",
        ),
        (
            expr_spec("x - log(x)", "1.5", "-1.0", "3.0"),
            "landscape.expr",
        ),
        (expr_spec("x^0.5", "0.5", "0.1", "1.0"), "landscape.expr"),
    ] {
        let r = rejected(&text, key);
        let n = r.stderr.matches(&format!("key `{key}`")).count();
        assert_eq!(n, 1, "message repeated {n} times: {}", r.stderr.trim());
    }
}

/// Bug: a long chain of operators without parentheses crashes the CLI with a stack
/// overflow (SIGABRT, no exit code) instead of exit 2; see
/// `deep_operator_chains_are_an_error_not_a_stack_overflow` in tests/landscape.rs.
#[test]
fn deep_operator_chain_is_rejected_not_a_crash() {
    let expr = format!("{}x", "-".repeat(100_000));
    rejected(&expr_spec(&expr, "0.5", "0.1", "1.0"), "landscape.expr");
}

#[test]
fn spec_file_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("no-such-spec.toml");
    let out = dir.path().join("out");
    let o = verify_file(&file, &out);
    let r = Run {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        file,
        out,
        _dir: dir,
    };
    assert_rejected(&r, None);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
    assert!(!r.out.exists(), "the output folder was created");
}

#[test]
fn spec_path_is_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spec.toml");
    std::fs::create_dir(&file).unwrap();
    let out = dir.path().join("out");
    let o = verify_file(&file, &out);
    let r = Run {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        file,
        out,
        _dir: dir,
    };
    assert_rejected(&r, None);
}

/// A rejected spec leaves an existing output folder untouched (no stale report replaced).
#[test]
fn existing_output_folder_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.toml");
    std::fs::write(&file, edit("eta = 0.1", "eta = -0.1")).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("report.json"), "old").unwrap();
    let o = verify_file(&file, &out);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(out.join("report.json")).unwrap(),
        "old"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}

#[test]
fn bad_command_line() {
    // clap usage errors exit 2 too (README).
    for args in [
        vec!["verify"],
        vec!["verify", "x.toml"],
        vec!["frobnicate"],
        vec!["--threads", "0", "certify", "x.toml"],
    ] {
        let o = Command::new(BIN).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn bad_start_points() {
    // BASE is 1-D on (−1, 1).
    rejected(
        &edit(
            "max_steps = 1000",
            "max_steps = 1000\nstart = [[0.0], [1.5]]",
        ),
        "monte_carlo.start[1]",
    );
    rejected(
        &edit("max_steps = 1000", "max_steps = 1000\nstart = [[0.0, 0.1]]"),
        "monte_carlo.start[0]",
    );
    rejected(
        &edit("max_steps = 1000", "max_steps = 1000\nstart = [[nan]]"),
        "monte_carlo.start[0][0]",
    );
    rejected(
        &edit("max_steps = 1000", "max_steps = 1000\nstart = []"),
        "monte_carlo.start",
    );
}

#[test]
fn bad_noise_models() {
    let with_noise = |noise: &str| edit("kind = \"isotropic\"\nsigma = 1.0", noise);
    rejected(&with_noise("kind = \"constant\""), "noise.cov");
    rejected(
        &with_noise("kind = \"constant\"\ncov = [[1.0, 0.0], [0.0, 1.0]]"),
        "noise.cov",
    );
    rejected(
        &with_noise("kind = \"constant\"\ncov = [[-1.0]]"),
        "noise.cov",
    );
    rejected(
        &with_noise("kind = \"constant\"\ncov = [[nan]]"),
        "noise.cov[0][0]",
    );
    rejected(
        &with_noise("kind = \"constant\"\ncov = [[1.0]]\nsigma = 1.0"),
        "noise.sigma",
    );
    rejected(
        &with_noise("kind = \"hessian\"\nscale = 0.0"),
        "noise.scale",
    );
    rejected(
        &with_noise("kind = \"hessian\"\nscale = 1.0\nfloor = -0.5"),
        "noise.floor",
    );
    rejected(&with_noise("kind = \"hessian\""), "noise.scale");
    rejected(&with_noise("kind = \"gaussian\""), "noise.kind");
    // A valid constant Σ is simulated (a report, exit 0 or 1).
    let r = verify_text(&with_noise("kind = \"constant\"\ncov = [[2.0]]"));
    assert!(matches!(r.code, Some(0) | Some(1)), "stderr: {}", r.stderr);
    // Hessian-shaped noise without a floor where L is concave (L'' = 1 − 12x² < 0 for
    // |x| > 0.29): Σ(θ) has no square root there, so the dynamics are undefined. Every
    // path to the ends ±0.6 passes through that region, so the run stops with an error
    // naming the `noise` key (the simulation's positive-definiteness policy).
    let text = expr_spec("x^2/2 - x^4", "0.1", "-0.6", "0.6")
        .replace(
            "kind = \"isotropic\"\nsigma = 1.0",
            "kind = \"hessian\"\nscale = 1.0",
        )
        .replace("max_steps = 1000", "max_steps = 1000000");
    let r = rejected(&text, "noise");
    assert!(r.stderr.contains("not positive definite"), "{}", r.stderr);
}

#[test]
fn bad_auto_trials() {
    rejected(
        &edit("trials = 10", "trials = \"many\""),
        "monte_carlo.trials",
    );
    rejected(
        &edit("trials = 10", "trials = \"auto\"\nprecision = 0.0"),
        "monte_carlo.precision",
    );
    rejected(
        &edit("trials = 10", "trials = \"auto\"\nprecision = 1.5"),
        "monte_carlo.precision",
    );
    rejected(
        &edit("trials = 10", "trials = \"auto\"\nmax_trials = 0"),
        "monte_carlo.max_trials",
    );
    rejected(
        &edit("trials = 10", "trials = 10\nprecision = 0.1"),
        "monte_carlo.precision",
    );
}

// ---------------------------------------------------------------------------------------
// Statistics and CLI (issue 4): trials = 0, dt ≤ 0 (also on the sharded path), malformed
// --shard, merging shard files that do not make up one run.
// ---------------------------------------------------------------------------------------

/// `escapecert ARGS…` in `dir`.
fn cli(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run escapecert")
}

#[test]
fn zero_trials_and_non_positive_dt_also_when_sharded() {
    rejected(&edit("trials = 10", "trials = 0"), "monte_carlo.trials");
    rejected(&edit("max_steps = 1000", "dt = 0.0"), "monte_carlo.dt");
    rejected(&edit("max_steps = 1000", "dt = -1e-3"), "monte_carlo.dt");
    for (from, to, key) in [
        ("trials = 10", "trials = 0", "monte_carlo.trials"),
        ("max_steps = 1000", "dt = 0.0", "monte_carlo.dt"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("case.toml");
        std::fs::write(&file, edit(from, to)).unwrap();
        let out = dir.path().join("out");
        let o = cli(&[
            "verify",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--shard",
            "0/2",
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(&format!("key `{key}`")), "{err}");
        assert!(!out.join("shard-0-of-2.json").exists(), "{err}");
    }
}

#[test]
fn malformed_shard_argument() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.toml");
    std::fs::write(&file, BASE).unwrap();
    let out = dir.path().join("out");
    for bad in ["3/3", "1/0", "0/0", "a/b", "2", "-1/3", "1/2/3", ""] {
        let o = cli(&[
            "verify",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--shard",
            bad,
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "--shard {bad:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            err.contains("--shard") && err.contains("k/n"),
            "--shard {bad:?}: unclear message {err}"
        );
        assert!(!out.exists(), "--shard {bad:?} wrote output");
    }
}

/// Writes the shard `k/n` of `text` into `dir/name/`; returns the shard file.
fn write_shard(dir: &Path, name: &str, text: &str, k: usize, n: usize) -> PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    let out = dir.join(name);
    let o = cli(&[
        "verify",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--shard",
        &format!("{k}/{n}"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out.join(format!("shard-{k}-of-{n}.json"))
}

/// `merge FILES` must exit 2 naming one of the files and `what`, writing no report.
#[track_caller]
fn merge_rejected(files: &[&Path], what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec!["merge"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    args.extend(["--out", out.to_str().unwrap(), "--quiet"]);
    let o = cli(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        files.iter().any(|f| err.contains(&f.display().to_string())),
        "no file named: {err}"
    );
    assert!(err.contains(what), "`{what}` not in: {err}");
    assert!(!out.join("report.json").exists() && !out.join("report.md").exists());
}

#[test]
fn merging_incompatible_shards() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let a0 = write_shard(dir, "a", BASE, 0, 2);
    let a1 = write_shard(dir, "a", BASE, 1, 2);
    let b1 = write_shard(
        dir,
        "b",
        &edit("max_steps = 1000", "max_steps = 1000\nseed = 99"),
        1,
        2,
    );
    let c1 = write_shard(dir, "c", BASE, 1, 3);
    // The two halves of one run do merge (the cases below are not vacuous).
    let ok = dir.join("ok");
    let o = cli(&[
        "merge",
        a0.to_str().unwrap(),
        a1.to_str().unwrap(),
        "--out",
        ok.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Another spec (here: another seed) has another hash.
    merge_rejected(&[&a0, &b1], "spec hash");
    // Another split.
    merge_rejected(&[&a0, &c1], "shard count");
    // A shard missing, or given twice.
    merge_rejected(&[&a0], "shard 1/2 is missing");
    merge_rejected(&[&a0, &a0, &a1], "given twice");
    // Not a shard file; a truncated one; an altered one; one of a future format.
    let not = dir.join("not.json");
    std::fs::write(&not, "{\"hello\": 1}").unwrap();
    merge_rejected(&[&a0, &not], "not an escapecert shard file");
    let text = std::fs::read_to_string(&a1).unwrap();
    let cut = dir.join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    merge_rejected(&[&a0, &cut], "not an escapecert shard file");
    let altered = dir.join("altered.json");
    std::fs::write(&altered, text.replace("trials = 10", "trials = 11")).unwrap();
    merge_rejected(&[&a0, &altered], "hash");
    let future = dir.join("future.json");
    std::fs::write(
        &future,
        text.replace("\"format_version\":1", "\"format_version\":99"),
    )
    .unwrap();
    merge_rejected(&[&a0, &future], "format version 99");
    // Outcomes that do not match the trajectory count of the shard.
    let short = dir.join("short.json");
    let pos = text.find("{\"steps\"").expect("an outcome record");
    let end = pos + text[pos..].find('}').unwrap() + 2; // the record and its comma
    std::fs::write(&short, format!("{}{}", &text[..pos], &text[end..])).unwrap();
    merge_rejected(&[&a0, &short], "inconsistent");
    // A file that does not exist.
    merge_rejected(&[&a0, &dir.join("nowhere.json")], "cannot read");
}

/// A data-loss spec whose CSV (`data.csv`, written beside the spec) has `csv` as content.
fn data_case(csv: Option<&str>, landscape_extra: &str, batch: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    if let Some(text) = csv {
        std::fs::write(dir.path().join("data.csv"), text).unwrap();
    }
    let file = dir.path().join("case.toml");
    let model = if landscape_extra.contains("model =") {
        ""
    } else {
        "model = \"linear\"\n"
    };
    let spec = format!(
        "name = \"d\"\n[landscape]\nkind = \"data\"\n{model}data = \"data.csv\"\n{landscape_extra}\n[domain]\nkind = \"ball\"\nradius = 0.5\n[noise]\nkind = \"data\"\n[sgd]\neta = 0.1\nbatch = {batch}\n[monte_carlo]\ntrials = 10\nmax_steps = 100\n[certify]\nmax_boxes = 1000\n"
    );
    std::fs::write(&file, spec).unwrap();
    let out = dir.path().join("out");
    let o = verify_file(&file, &out);
    Run {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        file,
        out,
        _dir: dir,
    }
}

const GOOD_CSV: &str = "a,b,y\n0.1,1.0,0.3\n0.5,-1.0,0.1\n-0.7,0.2,0.9\n1.2,0.4,-0.2\n";

#[track_caller]
fn data_rejected(csv: Option<&str>, extra: &str, batch: &str, key: &str, needles: &[&str]) {
    let r = data_case(csv, extra, batch);
    assert_rejected(&r, Some(key));
    for n in needles {
        assert!(r.stderr.contains(n), "`{n}` not in: {}", r.stderr.trim());
    }
}

#[test]
fn data_loss_inputs() {
    // Guards the cases below: the good CSV runs and writes a report.
    let r = data_case(Some(GOOD_CSV), "", "2");
    assert!(matches!(r.code, Some(0) | Some(1)), "stderr: {}", r.stderr);
    assert!(r.out.join("report.json").exists());
    // A batch larger than the data set (4 rows), minibatches being without replacement.
    data_rejected(
        Some(GOOD_CSV),
        "",
        "5",
        "sgd.batch",
        &["data.csv", "4 rows"],
    );
    data_rejected(Some(GOOD_CSV), "", "[2, 9]", "sgd.batch[1]", &["4 rows"]);
    // Unreadable (missing) file, empty file, header only.
    data_rejected(
        None,
        "",
        "1",
        "landscape.data",
        &["data.csv", "cannot read"],
    );
    data_rejected(Some(""), "", "1", "landscape.data", &["data.csv", "empty"]);
    data_rejected(
        Some("a,b,y\n"),
        "",
        "1",
        "landscape.data",
        &["no data rows"],
    );
    // A non-numeric cell: line 3 (the header is line 1), column 2 (`b`).
    data_rejected(
        Some("a,b,y\n0.1,1.0,0.3\n0.5,abc,0.1\n"),
        "",
        "1",
        "landscape.data",
        &["data.csv", "line 3", "column 2", "`b`", "abc"],
    );
    // Ragged rows.
    data_rejected(
        Some("a,b,y\n0.1,1.0,0.3\n0.5,0.1\n"),
        "",
        "1",
        "landscape.data",
        &["data.csv", "line 3", "2 cells", "3 columns"],
    );
    // A target column that does not exist.
    data_rejected(
        Some(GOOD_CSV),
        "target = \"z\"",
        "1",
        "landscape.target",
        &["data.csv", "`z`", "`a`, `b`, `y`"],
    );
    // A constant feature cannot be standardised.
    data_rejected(
        Some("a,b,y\n1,1.0,0.3\n1,-1.0,0.1\n1,0.2,0.9\n"),
        "",
        "1",
        "landscape.standardize",
        &["`a`", "constant"],
    );
    // Logistic targets must be 0/1.
    data_rejected(
        Some(GOOD_CSV),
        "model = \"logistic\"",
        "1",
        "landscape.target",
        &["data.csv", "data row 1", "0 or 1"],
    );
    // Keys of the data kind.
    data_rejected(
        Some(GOOD_CSV),
        "hidden = 3",
        "1",
        "landscape.hidden",
        &["mlp"],
    );
    data_rejected(
        Some(GOOD_CSV),
        "dataset = \"iris\"",
        "1",
        "landscape",
        &["not both"],
    );
    data_rejected(Some(GOOD_CSV), "l2 = -1.0", "1", "landscape.l2", &[]);
    data_rejected(Some(GOOD_CSV), "dim = 3", "1", "landscape.dim", &[]);
}

#[test]
fn data_keys_elsewhere() {
    // Data keys without kind = "data"; data noise or minibatch without a data loss.
    rejected(
        &edit("sharpness = 1.0", "sharpness = 1.0\nmodel = \"mlp\""),
        "landscape.model",
    );
    rejected(
        &edit("kind = \"isotropic\"\nsigma = 1.0", "kind = \"data\""),
        "noise.kind",
    );
    rejected(
        &edit(
            "max_steps = 1000",
            "max_steps = 1000\ndynamics = [\"minibatch\"]",
        ),
        "monte_carlo.dynamics[0]",
    );
    rejected(
        &edit(
            "builtin = \"quadratic\"",
            "kind = \"dataset\"\nbuiltin = \"quadratic\"",
        ),
        "landscape.kind",
    );
}
