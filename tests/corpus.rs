//! Replays the fuzzing corpus (README "### Fuzzing"): inputs that once crashed, hung or
//! were accepted wrongly, and edge cases of the limits.
//!
//! - tests/corpus/spec/*.toml: every file is a bad spec. `escapecert verify FILE --out
//!   DIR --quiet` exits 2, stderr names the file and a key (or a line/column), no panic
//!   message, and DIR holds no report file (never a half-written report). The
//!   `undefined_*` files have expressions undefined or not smooth somewhere on the
//!   closed domain (log/sqrt reaching 0, a denominator or negative-power base reaching 0,
//!   sqrt((x−0.3)²) = |x−0.3|) or a Hessian-shaped Σ that is not positive definite on D:
//!   they must never reach a certified claim.
//! - Deep or huge inputs are generated here (too large to commit): 100 000-deep
//!   parentheses, minus signs and exp( calls, a 1 MB expression, TOML arrays and inline
//!   tables nested 100 000 deep.
//! - tests/corpus/expr/*.txt: expressions; parsing and evaluation never panic.

use escapecert::landscape::expr::{Scratch, Tape};
use inari::Interval;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_escapecert");

fn corpus(sub: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(sub);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// Runs `verify` on `spec` and checks the rejection; returns stderr.
fn rejected(spec: &Path) -> String {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("verify")
        .arg(spec)
        .arg("--out")
        .arg(out_dir.path())
        .arg("--quiet")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let name = spec.display().to_string();
    assert_eq!(out.status.code(), Some(2), "{name}: stderr {err}");
    assert!(!err.contains("panicked"), "{name}: {err}");
    assert!(
        err.contains(&name),
        "{name}: stderr does not name the file: {err}"
    );
    assert!(
        err.contains("key `") || err.contains("line "),
        "{name}: stderr names no key: {err}"
    );
    for f in [
        "report.json",
        "report.md",
        "report.html",
        "certificate.json",
    ] {
        assert!(
            !out_dir.path().join(f).exists(),
            "{name}: {f} written on a rejected spec"
        );
    }
    err
}

#[test]
fn spec_corpus_is_rejected_with_file_and_key() {
    let files = corpus("spec", "toml");
    assert!(files.len() >= 20);
    for f in &files {
        let err = rejected(f);
        let stem = f.file_stem().unwrap().to_string_lossy();
        if stem.starts_with("undefined_") && !stem.contains("hess") {
            assert!(
                err.contains("key `landscape.expr`") && err.contains("not defined or not smooth"),
                "{stem}: {err}"
            );
        }
    }
}

#[test]
fn generated_deep_and_huge_specs_are_rejected() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tilted_double_well.toml"),
    )
    .unwrap();
    let old = "expr = \"x^4/4 - x^2/2 + 0.1*x\"";
    assert!(base.contains(old));
    let n = 100_000;
    let with_expr = |e: String| base.replace(old, &format!("expr = \"{e}\""));
    let cases = [
        (
            "parens",
            with_expr(format!("{}x{}", "(".repeat(n), ")".repeat(n))),
        ),
        ("minus", with_expr(format!("{}x", "-".repeat(n)))),
        (
            "exp",
            with_expr(format!("{}x{}", "exp(".repeat(n), ")".repeat(n))),
        ),
        ("megabyte", with_expr(vec!["x"; 500_000].join("+"))),
        (
            "long_literal",
            with_expr(format!("1{}*x", "0".repeat(900_000))),
        ),
        (
            "toml_arrays",
            format!("{base}\nfoo = {}{}\n", "[".repeat(n), "]".repeat(n)),
        ),
        (
            "toml_tables",
            format!("{base}\nz = {}1{}\n", "{a = ".repeat(n), "}".repeat(n)),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in cases {
        let p = dir.path().join(format!("{name}.toml"));
        std::fs::write(&p, text).unwrap();
        rejected(&p);
    }
}

#[test]
fn expression_corpus_never_panics() {
    let files = corpus("expr", "txt");
    assert!(files.len() >= 20);
    let bx = [Interval::try_from((-2.0, 3.0)).unwrap(); 2];
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let r = std::panic::catch_unwind(|| {
            if let Ok(t) = Tape::parse(&src, None) {
                let d = t.dim;
                let bx = &bx[..d.min(2)];
                if d <= 2 {
                    let _ = t.check_domain(bx);
                    let mut g = vec![Interval::EMPTY; d];
                    t.gradient(bx, &mut g, &mut Scratch::new());
                }
            }
        });
        assert!(r.is_ok(), "{}: panic", f.display());
    }
}
