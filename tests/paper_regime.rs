//! The paper experiments' support: the regime computation on a small radial case
//! (THEORY E14, d = 10) and the `[paper]` spec table's errors.

use escapecert::landscape::Problem;
use escapecert::report::regime::radial_ln_mean;
use escapecert::spec::Spec;
use std::path::Path;

const RADIAL_D10: &str = r#"name = "radial_d10"
[landscape]
builtin = "quadratic"
dim = 10
sharpness = 2.0
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = [0.1, 0.05]
"#;

/// ln E_0[τ] of E14 for d = 10, λ = 2, r = 1, σ = 1 at κ² = 0.1 and 0.05: mpmath at 40
/// digits, tests/reference/e14_radial_d10.py.
const LN_E_REF: [(f64, f64); 2] = [(0.1, 7.129_625_577_089_28), (0.05, 23.485_284_909_160_05)];

/// The regime section's certified E14 values contain the references, and the certified
/// secant slope of ln E against 1/κ² is below the asymptotic V̄ = λr²/σ² = 2 by the
/// entropic term: the Laplace expansion ln E = V̄/κ² − (d/2) ln(1/κ²) + c + o(1) predicts
/// the secant 2 − 5·ln 2/10 ≈ 1.653; the exact one is ≈ 1.636.
#[test]
fn radial_d10_exact_slope_against_asymptotic_barrier() {
    let s = Spec::from_str(Path::new("radial_d10.toml"), RADIAL_D10).unwrap();
    let p = Problem::from_spec(&s).unwrap();
    let ln: Vec<_> = LN_E_REF
        .iter()
        .map(|&(k2, reference)| {
            let e = radial_ln_mean(&p, 1.0, 1.0, k2, 1).expect("E14 encloses");
            // The enclosure has relative width ≤ 1e-4 in E, so ≤ 1e-4 absolute in ln E.
            assert!(
                e.inf() <= reference && reference <= e.sup(),
                "κ² = {k2}: [{}, {}] misses the mpmath value {reference}",
                e.inf(),
                e.sup()
            );
            assert!(e.wid() < 2e-4, "too wide: {}", e.wid());
            e
        })
        .collect();
    // Secant slope against 1/κ² (10 → 20), in interval arithmetic.
    let slope = (ln[1] - ln[0]) / escapecert::num::point(10.0);
    assert!(
        slope.sup() < 2.0 && slope.inf() > 1.6 && slope.sup() < 1.653,
        "secant slope {slope:?}"
    );
}

fn spec_err(extra: &str) -> escapecert::spec::SpecError {
    Spec::from_str(Path::new("p.toml"), &format!("{RADIAL_D10}{extra}"))
        .expect_err("the [paper] table should be rejected")
}

#[test]
fn paper_table_errors_name_the_key() {
    let ok = Spec::from_str(
        Path::new("p.toml"),
        &format!("{RADIAL_D10}[paper]\nsource = \"arXiv 2111.04004\"\nshowed = {{ T2 = \"log E affine in B\" }}\n"),
    )
    .unwrap();
    assert_eq!(ok.paper.unwrap().showed.len(), 1);
    let e = spec_err("[paper]\nsource = \"x\"\nfigure = 3\n");
    assert!(e.to_string().contains("figure"), "{e}");
    let e = spec_err("[paper]\nsource = \"x\"\nshowed = { X9 = \"y\" }\n");
    assert_eq!(e.key, "paper.showed.X9");
    let e = spec_err("[paper]\nsource = \" \"\n");
    assert_eq!(e.key, "paper.source");
    let e = spec_err("[paper]\nsource = \"x\"\nshowed = { T4 = \"\" }\n");
    assert_eq!(e.key, "paper.showed.T4");
    let e = spec_err("[paper]\nshowed = { T4 = \"y\" }\n");
    assert!(e.to_string().contains("source"), "{e}");
}

/// Bad `[paper]` input through the CLI: exit code 2 and no report.
#[test]
fn paper_table_error_exits_2() {
    let dir = std::env::temp_dir().join(format!("escapecert-paper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad_paper.toml");
    std::fs::write(
        &file,
        format!("{RADIAL_D10}[paper]\nsource = \"x\"\nshowed = {{ Q1 = \"y\" }}\n"),
    )
    .unwrap();
    let out_dir = dir.join("out");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_escapecert"))
        .args([
            "verify",
            file.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--quiet",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        err.contains("paper.showed.Q1") && err.contains("bad_paper.toml"),
        "{err}"
    );
    assert!(!out_dir.join("report.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
