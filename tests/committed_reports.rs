//! The committed reports are exactly what the tool produces from the committed specs and
//! seeds (issue: "a test re-renders one cheap report and compares"). This re-runs the
//! cheapest committed example end to end (a [sweep] with certification per instance,
//! Monte Carlo, claims, Markdown, HTML and plots) and compares every file byte for byte.
//! Deterministic: trajectories are pure functions of (seed, index), independent of the
//! thread count, so this test cannot fail by chance; a difference means the tool's
//! output changed (regenerate the report deliberately with the README's main command).
//! `.ci/run` does the same for examples/tilted_double_well.

use std::path::{Path, PathBuf};
use std::process::Command;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn committed_sweep_report_is_reproduced_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = root.join("reports/sweep_depth_1d");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("sweep_depth_1d");
    let st = Command::new(env!("CARGO_BIN_EXE_escapecert"))
        .current_dir(root)
        .args(["verify", "examples/sweep_depth_1d.toml", "--out"])
        .arg(&dir)
        .arg("--quiet")
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0));
    let (a, b) = (files(&committed), files(&dir));
    assert_eq!(a, b, "the report folders hold different files");
    assert!(a.iter().any(|f| f.ends_with("report.json")));
    for f in &a {
        let x = std::fs::read(committed.join(f)).unwrap();
        let y = std::fs::read(dir.join(f)).unwrap();
        assert!(
            x == y,
            "{} differs from the committed report (regenerate it with `escapecert verify examples/sweep_depth_1d.toml --out reports/sweep_depth_1d` after a deliberate change)",
            f.display()
        );
    }
}
