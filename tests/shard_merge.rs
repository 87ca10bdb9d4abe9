//! `verify --shard k/n` and `merge`: the shards of a run, merged in any order, give
//! byte for byte the report of the unsharded run (THEORY §7, reproducibility: each
//! trajectory's stream is a pure function of (seed, index)). Deterministic: no
//! false-failure rate.

use escapecert::report::json::Report;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_escapecert");

/// 1-D quadratic L = x²/2 on (−1, 1), σ = 1: V̄ = 1 (E7), V̄_η = 1 − η/2 (E12). A batch
/// sweep at fixed η (so the exponent fits run against B), continuous and discrete, with
/// some runs censored at the step cap. Runs in well under a second.
const SPEC: &str = r#"name = "shard-merge"
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
eta = 0.25
batch = [1, 2, 3]
[monte_carlo]
trials = 50
seed = 11
confidence = 0.9
max_steps = 3000
dt = 0.01
dynamics = ["continuous", "discrete"]
"#;

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run escapecert")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs the unsharded verify and the n shards, merges them (shards in reverse order),
/// and compares report.json and report.md byte for byte.
fn check_merge_equals_unsharded(spec_text: &str, n: usize, extra: &[&str]) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.toml");
    std::fs::write(&spec, spec_text).unwrap();
    let full = dir.path().join("full");
    let mut args = vec!["verify", s(&spec), "--out", s(&full), "--quiet"];
    args.extend_from_slice(extra);
    let a = run(&args);
    assert!(
        matches!(a.status.code(), Some(0) | Some(1)),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    let shards = dir.path().join("shards");
    let mut files: Vec<PathBuf> = Vec::new();
    for k in 0..n {
        let sh = format!("{k}/{n}");
        // Alternate thread counts: the shard's outcomes do not depend on them.
        let threads = if k % 2 == 0 { "1" } else { "2" };
        let mut args = vec![
            "--threads",
            threads,
            "verify",
            s(&spec),
            "--out",
            s(&shards),
            "--quiet",
            "--shard",
            &sh,
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "shard {sh}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let f = shards.join(format!("shard-{k}-of-{n}.json"));
        assert!(f.exists(), "{} not written", f.display());
        // No verdicts, no statistics in a shard file.
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains("verdict") && !text.contains("mean_exit_time"));
        files.push(f);
    }
    files.reverse();
    let merged = dir.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(files.iter().map(|f| s(f)));
    args.extend(["--out", s(&merged), "--quiet"]);
    let m = run(&args);
    assert_eq!(
        m.status.code(),
        a.status.code(),
        "merge: {}",
        String::from_utf8_lossy(&m.stderr)
    );
    for name in ["report.json", "report.md"] {
        let x = std::fs::read(full.join(name)).unwrap();
        let y = std::fs::read(merged.join(name)).unwrap();
        assert!(
            x == y,
            "{name} of the merged shards differs from the unsharded run"
        );
    }
    serde_json::from_slice(&std::fs::read(full.join("report.json")).unwrap()).unwrap()
}

#[test]
fn three_shards_merge_to_the_unsharded_report() {
    let rep = check_merge_equals_unsharded(SPEC, 3, &[]);
    // Not vacuous: exits, censored runs and fitted exponents against B are in the report.
    assert!(rep.monte_carlo.iter().any(|m| m.exits > 0));
    assert!(rep.monte_carlo.iter().any(|m| m.censored > 0));
    assert!(rep
        .claims
        .iter()
        .any(|c| c.variable == "B" && c.fit.is_some()));
    // The predicted slope against B at η = 0.25 is the certified barrier / η: V̄/η = 4
    // (T1, V̄ = 1 by E7) and V̄_η/η = (1 − η/2)/η = 3.5 (T2, E12).
    for (id, want) in [("T1", 4.0), ("T2 (η = 0.25)", 3.5)] {
        let c = rep.claims.iter().find(|c| c.id == id).expect(id);
        assert_eq!(c.variable, "B", "{id}");
        let p = c.predicted_slope.as_ref().expect("predicted slope");
        assert!(
            p.lo <= want && want <= p.hi && p.hi - p.lo < 1e-9,
            "{id}: {p:?}"
        );
        assert!(c.level > 0.9 && c.level < 1.0 && (0.0..=1.0).contains(&c.p_value));
    }
}

#[test]
fn shards_merge_with_check_dt_and_auto_trials() {
    // --check-dt reruns, and the sequential plan of trials = "auto" (replayed by merge on
    // the merged outcomes); with 7 shards the shards hold unequal numbers of
    // trajectories (50 = 7·7 + 1).
    let auto = SPEC.replace(
        "trials = 50",
        "trials = \"auto\"\nprecision = 0.3\nmax_trials = 400",
    );
    check_merge_equals_unsharded(&auto, 7, &["--check-dt"]);
    check_merge_equals_unsharded(SPEC, 7, &["--check-dt"]);
}

/// A `[sweep]` (one certified instance per domain radius) merges to the unsharded report:
/// the point index, which fixes each point's seed, runs over all instances.
#[test]
fn sharded_sweep_merges_to_the_unsharded_report() {
    let spec = r#"name = "sweep"
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
values = [0.6, 0.65, 0.7]
against = "depth"
[monte_carlo]
trials = 40
seed = 3
max_steps = 1_000_000
dynamics = ["discrete"]
"#;
    let rep = check_merge_equals_unsharded(spec, 2, &[]);
    let sw = rep.sweep.as_ref().expect("sweep instances");
    assert_eq!(sw.instances.len(), 3);
    let seeds: std::collections::BTreeSet<u64> = rep.monte_carlo.iter().map(|m| m.seed).collect();
    assert_eq!(seeds.len(), 3, "distinct seeds per instance");
}
