//! Interruption and resume (README "Interruption and resume"): a run killed at random
//! moments (SIGINT, SIGTERM, SIGKILL), continued with `verify --resume` each time, ends
//! with exactly the report of an uninterrupted run; a changed spec or tool version is
//! refused.
//!
//! The kill points come from a seeded generator (`RESUME_SEED`, default below). This is
//! not a tuned seed: every seed must pass, since the resumed report is a deterministic
//! function of the spec (trajectory i of a point depends only on (seed, i), chunks merge
//! exactly, checkpoint files are written atomically). The test has no false-failure rate.

use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_escapecert");

/// A small multi-point sweep: discrete Gaussian SGD on ½θ², exit from |θ| < 0.8, four
/// (η, B) points of 9000 trajectories each (three checkpoint chunks per point): about
/// 3 s uninterrupted on the 2-core development machine.
const SPEC: &str = r#"name = "resume_kill"
description = "kill-and-resume test sweep"
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
eta = [0.125, 0.25]
batch = [1, 2]
[monte_carlo]
trials = 9000
seed = 11
max_steps = 50_000_000
dynamics = ["discrete"]
"#;

fn verify(spec: &Path, out: &Path, resume: bool) -> Command {
    let mut c = Command::new(BIN);
    c.arg("verify")
        .arg(spec)
        .arg("--out")
        .arg(out)
        .arg("--quiet");
    if resume {
        c.arg("--resume");
    }
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn setup(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join(format!("{name}.toml"));
    std::fs::write(&spec, SPEC).unwrap();
    (dir, spec)
}

/// Checks the report a run stopped by SIGINT/SIGTERM wrote: marked partial, no PASS.
fn check_partial(out: &Path) {
    let js: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    let part = &js["partial"];
    assert!(
        part.is_object(),
        "a stopped run's report.json has `partial`"
    );
    assert!(part["finished_points"].as_u64().unwrap() <= part["points"].as_u64().unwrap());
    for c in js["claims"].as_array().unwrap() {
        assert_eq!(c["verdict"], "INCONCLUSIVE", "partial report claim {c}");
    }
    assert!(read(&out.join("report.md")).contains("PARTIAL REPORT"));
}

#[test]
fn twenty_random_kills_then_resume_give_the_uninterrupted_report() {
    let (dir, spec) = setup("resume_kill");
    let reference = dir.path().join("reference");
    let st = verify(&spec, &reference, false).status().unwrap();
    assert_eq!(st.code(), Some(0));
    assert!(
        !reference.join("checkpoint").exists(),
        "a complete run removes its checkpoint"
    );
    let ref_json = read(&reference.join("report.json"));
    let ref_md = read(&reference.join("report.md"));

    let seed: u64 = std::env::var("RESUME_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261127);
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let out = dir.path().join("out");
    let mut kills = 0;
    let mut resume = false;
    let mut completed_chains = 0;
    let compare = |what: &str| {
        assert_eq!(
            read(&out.join("report.json")),
            ref_json,
            "{what}: report.json differs from the uninterrupted run's (seed {seed})"
        );
        assert_eq!(read(&out.join("report.md")), ref_md, "{what}: report.md");
        assert!(!out.join("checkpoint").exists());
    };
    while kills < 20 {
        let mut child = verify(&spec, &out, resume).spawn().unwrap();
        let delay = Duration::from_millis(rng.random_range(30..2500));
        let signal = ["INT", "TERM", "KILL"][rng.random_range(0..3)];
        std::thread::sleep(delay);
        if let Some(st) = child.try_wait().unwrap() {
            // Finished before the kill point: the chain is complete.
            assert_eq!(st.code(), Some(0), "{:?}", child.stderr.take());
            compare(&format!("chain {completed_chains} (completed)"));
            completed_chains += 1;
            resume = false;
            continue;
        }
        if signal == "KILL" {
            child.kill().unwrap();
        } else {
            let st = Command::new("kill")
                .args(["-s", signal, &child.id().to_string()])
                .status()
                .unwrap();
            assert!(st.success());
        }
        let st: ExitStatus = child.wait().unwrap();
        kills += 1;
        match (signal, st.code()) {
            ("KILL", _) => {}
            ("INT", Some(130)) | ("TERM", Some(143)) => check_partial(&out),
            // The signal came as the run was finishing: a complete report.
            (_, Some(0)) => {
                compare(&format!("kill {kills} after completion"));
                completed_chains += 1;
                resume = false;
                continue;
            }
            (s, c) => panic!("SIG{s} after {delay:?}: exit {c:?}"),
        }
        resume = true;
    }
    // Continue the last chain to its end.
    if resume {
        let st = verify(&spec, &out, true).status().unwrap();
        assert_eq!(st.code(), Some(0));
    }
    compare("final");
    eprintln!("20 kills (seed {seed}), {completed_chains} chains completed before the last");
}

#[test]
fn resume_is_refused_for_a_changed_spec_or_tool_and_without_checkpoint() {
    let (dir, spec) = setup("resume_refuse");
    let out = dir.path().join("out");
    // No checkpoint: refused with exit 2.
    let o = verify(&spec, &out, true).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no checkpoint"), "{err}");

    // A checkpoint left by a stopped run: stop it at once with a zero wall-clock limit.
    let limited = SPEC.replace(
        "[monte_carlo]",
        "[limits]\nsimulate_seconds = 1e-9\n[monte_carlo]",
    );
    std::fs::write(&spec, &limited).unwrap();
    let st = verify(&spec, &out, false).status().unwrap();
    assert_eq!(
        st.code(),
        Some(0),
        "a wall-clock limit: INCONCLUSIVE, exit 0"
    );
    check_partial(&out);
    let js: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    let reason = js["partial"]["reason"].as_str().unwrap();
    assert!(reason.contains("limits.simulate_seconds"), "{reason}");
    let st = verify(&spec, &out, false).arg("--strict").status().unwrap();
    assert_eq!(st.code(), Some(1), "--strict: INCONCLUSIVE exits 1");

    // The spec changed: refused, naming both hashes.
    std::fs::write(&spec, limited.replace("seed = 11", "seed = 12")).unwrap();
    let o = verify(&spec, &out, true).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("the spec changed") && err.matches("fnv1a64:").count() == 2,
        "{err}"
    );

    // Another tool version wrote the checkpoint: refused.
    std::fs::write(&spec, &limited).unwrap();
    let manifest = out.join("checkpoint").join("manifest.json");
    let text = read(&manifest).replace(
        &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"version\": \"0.0.0-other\"",
    );
    std::fs::write(&manifest, text).unwrap();
    let o = verify(&spec, &out, true).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("0.0.0-other"), "{err}");

    // Without --resume, a stale checkpoint is discarded and the run starts afresh.
    std::fs::write(&spec, SPEC).unwrap();
    let st = verify(&spec, &out, false).status().unwrap();
    assert_eq!(st.code(), Some(0));
    assert!(!out.join("checkpoint").exists());
    let js: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert!(js.get("partial").is_none());
}
