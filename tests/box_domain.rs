//! Box domains `[domain] kind = "box"`: spec → certify (depth ΔL by branch-and-bound on the
//! faces, (H1) on a box) → verify. Reference values are closed forms (named per test) or,
//! for the non-separable depth, a dense f64 grid over the faces that brackets the
//! certified enclosure from above (a grid minimum is ≥ the true minimum).
//!
//! Run with `cargo test --release --test box_domain`.

use escapecert::certify::{certify, Certified};
use escapecert::landscape::{Domain, Problem};
use escapecert::spec::Spec;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_escapecert");

fn certified(text: &str) -> Certified {
    let spec = Spec::from_str(Path::new("box.toml"), text).unwrap();
    let problem = Problem::from_spec(&spec).unwrap();
    certify(&spec, &problem).unwrap()
}

fn box_spec(expr: &str, guess: &str, lo: &str, hi: &str, noise: &str) -> String {
    format!(
        "name = \"b\"\n[landscape]\nexpr = \"{expr}\"\n[minimum]\nguess = [{guess}]\n\
         [domain]\nkind = \"box\"\nlo = [{lo}]\nhi = [{hi}]\n[noise]\n{noise}\n\
         [sgd]\neta = 0.1\n[monte_carlo]\ntrials = 10\nmax_steps = 1000\n"
    )
}

const ISO: &str = "kind = \"isotropic\"\nsigma = 1.0";

/// examples/box_2d.toml: L = x1²/2 + x2² + x1⁴/8 on (−1, 1) × (−0.8, 0.8). Closed form:
/// on the faces x1 = ±1, L ≥ 5/8 with equality at x2 = 0; on x2 = ±0.8, L ≥ 0.64; so
/// ΔL = 0.625 and V̄ = 2ΔL/σ² = 1.25 (E7). (H1) and (H2) certified.
#[test]
fn example_box_depth_and_barrier() {
    let text = std::fs::read_to_string("examples/box_2d.toml").unwrap();
    let c = certified(&text);
    assert_eq!(
        c.domain,
        Domain::Box {
            lo: vec![-1.0, -0.8],
            hi: vec![1.0, 0.8]
        }
    );
    assert!(c.hypotheses_hold(), "{:?}", c.hypotheses);
    assert!(
        c.depth.contains(0.625) && c.depth.wid() < 1e-7,
        "{:?}",
        c.depth
    );
    let v = c.barrier.value.unwrap();
    assert!(v.contains(1.25) && v.wid() < 1e-7, "{v:?}");
    assert!((c.exit_point[0].abs() - 1.0).abs() < 1e-12 && c.exit_point[1].abs() < 1e-3);
}

/// A non-separable, non-quadratic landscape with an off-centre minimum: the certified depth
/// must satisfy lower ≤ (grid minimum over the faces) − L*, and be close to it.
#[test]
fn depth_brackets_a_dense_face_grid() {
    let expr = "(x1 - 0.2)^2 + x2^2 + 0.6*x1*x2 + 0.3*sin(2*x1) + x2^4";
    let (lo, hi) = ([-1.0, -0.7], [1.2, 0.9]);
    let c = certified(&box_spec(expr, "0.0, 0.0", "-1.0, -0.7", "1.2, 0.9", ISO));
    let l = |x1: f64, x2: f64| {
        (x1 - 0.2f64).powi(2) + x2 * x2 + 0.6 * x1 * x2 + 0.3 * (2.0 * x1).sin() + x2.powi(4)
    };
    let n = 20_000;
    let mut grid_min = f64::INFINITY;
    for k in 0..=n {
        let t = k as f64 / n as f64;
        let x1 = lo[0] + t * (hi[0] - lo[0]);
        let x2 = lo[1] + t * (hi[1] - lo[1]);
        grid_min = grid_min
            .min(l(lo[0], x2))
            .min(l(hi[0], x2))
            .min(l(x1, lo[1]))
            .min(l(x1, hi[1]));
    }
    let lstar = c.loss_at_min.mid();
    let grid_depth = grid_min - lstar;
    assert!(
        c.depth.inf() <= grid_depth + 1e-9,
        "{:?} vs {grid_depth}",
        c.depth
    );
    // The grid is fine enough (spacing ≤ 1.1e-4, |∇L| ≤ 10) to be within 2e-3 of the minimum.
    assert!(
        c.depth.sup() >= grid_depth - 2e-3,
        "{:?} vs {grid_depth}",
        c.depth
    );
    assert!(c.depth.wid() < 1e-6, "{:?}", c.depth);
    assert!(c.hypotheses_hold(), "{:?}", c.hypotheses);
}

/// (H1) fails when −∇L points outward somewhere on a face: L = (x1² + x2²)/2 − 0.9 x1 x2
/// on (−1, 1) × (−2, 2) has ∂L/∂x1 = x1 − 0.9 x2 = −0.8 < 0 at (1, 2): the flow leaves
/// through the face x1 = 1 near its end. The failure names that face.
#[test]
fn h1_fails_when_the_flow_leaves_through_a_face() {
    let c = certified(&box_spec(
        "(x1^2 + x2^2)/2 - 0.9*x1*x2",
        "0.1, 0.1",
        "-1.0, -2.0",
        "1.0, 2.0",
        ISO,
    ));
    let h1 = &c.hypotheses[0];
    assert!(!h1.holds);
    assert!(
        h1.detail.contains("does not point strictly inward"),
        "{}",
        h1.detail
    );
    assert!(h1.detail.contains("θ_1"), "{}", h1.detail);
    // Without (H1), E7 gives only the lower bound; a finite upper end can only come from
    // Lemma P (a certified path action bounds the infimum V̄ whatever the flow does).
    let v = c.barrier.value.unwrap();
    assert!(
        v.sup() == f64::INFINITY || c.barrier_methods.upper.contains("Lemma P"),
        "{v:?}: {}",
        c.barrier_methods.upper
    );
}

/// Stages without box support say so instead of failing: the linear (Lyapunov/Stein)
/// closed forms. The continuous barrier comes from the Lemma HJ certificates and Lemma P,
/// the discrete one from the E11/E10 certificates, which handle boxes.
#[test]
fn linear_certificates_are_not_available_for_boxes() {
    let text = "name = \"q\"\n[landscape]\nbuiltin = \"quadratic\"\ndim = 2\n\
        hessian = [[3.0, 1.0], [1.0, 2.0]]\n[domain]\nkind = \"box\"\nlo = [-1.0, -1.0]\n\
        hi = [1.0, 1.0]\n[noise]\nkind = \"constant\"\ncov = [[1.0, 0.5], [0.5, 2.0]]\n\
        [sgd]\neta = 0.1\n";
    let c = certified(text);
    assert!(c.hypotheses_hold(), "{:?}", c.hypotheses);
    assert!(!c.barrier.method.contains("E8"), "{}", c.barrier.method);
    let b = c.barrier.value.unwrap();
    assert!(b.inf() > 0.0 && b.inf() <= b.sup());
    // The box contains the unit ball, whose exact barrier (E8, r²λ_min(C⁻¹)/2 = 0.9530299,
    // tests/certify_hj.rs) is therefore a lower bound of the box's: V_hi must be above it.
    assert!(b.sup() >= 0.95302, "{b:?}");
    let disc = &c.barrier_discrete[0];
    assert!(
        !disc.bound.method.contains("E12")
            && !disc
                .lower_method
                .contains("Stein equation by a verified solve"),
        "{}",
        disc.bound.method
    );
    if let Some(v) = disc.bound.value {
        assert!(v.inf() >= 0.0 && v.inf() <= v.sup(), "{v:?}");
    }
}

/// `verify examples/box_2d.toml` runs (isotropic noise, per-face bridge) and writes a
/// report: exit 0 (no claim FAILED) or 1 (a claim FAILED), never 2. The T1
/// claim is a statistical test at level 0.95, so a correct implementation gets FAIL at
/// about 5 % of seeds; at the example's seed (the project's usual 20261126, not tuned) the
/// verdict is PASS, which the README quotes; this test therefore does not require exit 0.
#[test]
fn verify_example_box_2d() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["verify", "examples/box_2d.toml", "--quiet", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "{stderr}");
    let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(report.contains("box (-1, 1) × (-0.8, 0.8)"), "{report}");
    assert!(report.contains("(H1) certified"), "{report}");
}

use escapecert::certify::boxdomain::{faces_min, prove_faces_inward};
use escapecert::landscape::{Landscape, Tape};
use escapecert::num::point;
use inari::Interval;
use proptest::prelude::*;

/// L(y) at a real point y (binary64 coordinates), interval evaluated.
fn at(l: &Landscape, y: &[f64]) -> Interval {
    let p: Vec<Interval> = y.iter().map(|&v| point(v)).collect();
    l.value(&p)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Enclosure property of the box certificates, for random boxes and landscapes of a
    /// small family L = a(x1 − p)² + b x2² + c x1 x2 + e sin(x1 + x2): (1) the certified
    /// lower bound of min over the faces is below L at random points of random faces, and
    /// lower ≤ upper; (2) when `prove_faces_inward` succeeds, the interval gradient at
    /// random face points has the certified sign.
    #[test]
    fn face_certificates_enclose(
        a in 0.3f64..2.0, b in 0.3f64..2.0, c in -0.5f64..0.5, e in -0.3f64..0.3,
        p in -0.3f64..0.3,
        lo1 in -1.5f64..-0.5, hi1 in 0.5f64..1.5, lo2 in -1.5f64..-0.5, hi2 in 0.5f64..1.5,
        ts in proptest::collection::vec((0usize..4, 0.0f64..1.0), 16),
    ) {
        let expr = format!("{a}*(x1 - {p})^2 + {b}*x2^2 + {c}*x1*x2 + {e}*sin(x1 + x2)");
        let l = Landscape::Expr(Tape::parse(&expr, Some(2)).unwrap());
        let (lo, hi) = ([lo1, lo2], [hi1, hi2]);
        let fm = faces_min(&l, &lo, &hi, &[], 20_000, 1e-8);
        prop_assert!(fm.lower <= fm.upper);
        let (_, failure) = prove_faces_inward(&l, &lo, &hi, 20_000);
        for (f, t) in ts {
            let (i, upper) = (f / 2, f % 2 == 1);
            let mut y = [lo1 + t * (hi1 - lo1), lo2 + t * (hi2 - lo2)];
            y[i] = if upper { hi[i] } else { lo[i] };
            prop_assert!(at(&l, &y).sup() >= fm.lower, "{expr}: L{y:?} < {}", fm.lower);
            if failure.is_none() {
                let mut g = [point(0.0); 2];
                let yi = [point(y[0]), point(y[1])];
                l.gradient(&yi, &mut g);
                // The enclosure contains the true ∂_iL(y), which has the certified sign.
                let ok = if upper { g[i].sup() > 0.0 } else { g[i].inf() < 0.0 };
                prop_assert!(ok, "{}: ∂L/∂x{} at {:?}: {:?}", expr, i + 1, y, g[i]);
            }
        }
    }
}
