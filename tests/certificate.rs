//! Certificates: `certify --certificate` then `recheck` passes on the shipped examples, and
//! tampered certificates are rejected (proofs/certificate-recheck.md). All deterministic
//! (no randomness, so no false-failure rate).

use escapecert::certificate::recheck::{path_action, recheck, Check};
use escapecert::certificate::{
    build, Certificate, DiscreteLower, DiscreteUpper, LowerEvidence, UpperEvidence,
};
use escapecert::certify::evidence::{
    DepthEvidence, InwardEvidence, Node, PathEvidence, SpectrumEvidence, F,
};
use escapecert::landscape::{Domain, Problem};
use escapecert::run::certify_spec;
use escapecert::spec::Spec;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

fn cert_of(spec: &Spec) -> Certificate {
    let (_, c) = certify_spec(spec).expect("certifies");
    build(spec, &c)
}

fn example(name: &str) -> Certificate {
    let path = format!("{}/examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    cert_of(&Spec::from_file(Path::new(&path)).expect("valid spec"))
}

fn inline(text: &str) -> Certificate {
    cert_of(&Spec::from_str(Path::new("inline.toml"), text).expect("valid spec"))
}

/// The 2-D example (its sphere branch-and-bound takes about two seconds): computed once.
fn styblinski() -> &'static Certificate {
    static C: OnceLock<Certificate> = OnceLock::new();
    C.get_or_init(|| example("styblinski_tang_2d"))
}

/// The Hessian-noise case (C-quad lower end, Lemma P upper end; about one second).
fn hessian_noise() -> &'static Certificate {
    static C: OnceLock<Certificate> = OnceLock::new();
    C.get_or_init(|| inline(HESSIAN_NOISE))
}

fn double_well() -> &'static Certificate {
    static C: OnceLock<Certificate> = OnceLock::new();
    C.get_or_init(|| example("tilted_double_well"))
}

const HESSIAN_NOISE: &str = r#"name = "st_hessian_noise"
[landscape]
builtin = "styblinski_tang"
dim = 2
[minimum]
guess = [-2.9, -2.9]
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "hessian"
scale = 0.5
floor = 0.1
[sgd]
eta = 0.01
"#;

const ANISO: &str = r#"name = "aniso"
[landscape]
builtin = "quadratic"
dim = 2
hessian = [[3.0, 1.0], [1.0, 2.0]]
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "constant"
cov = [[1.0, 0.5], [0.5, 2.0]]
[sgd]
eta = [0.05, 0.1]
"#;

/// L = |θ|² (sharpness 2) in d = 2, σ = 1, ball of radius 1: ΔL = 1 and V̄ = 2ΔL/σ² = 2
/// (THEORY E7, closed form).
const QUAD2: &str = r#"name = "quad2"
[landscape]
builtin = "quadratic"
dim = 2
sharpness = 2.0
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = 0.1
"#;

fn failed(checks: &[Check]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.name.clone())
        .collect()
}

fn assert_all_hold(c: &Certificate) {
    let checks = recheck(c).expect("well formed");
    assert!(failed(&checks).is_empty(), "{checks:#?}");
}

/// Rechecks `c` and asserts that exactly the check named `name` fails.
fn assert_rejected(c: &Certificate, name: &str) {
    let checks = recheck(c).expect("well formed");
    let f = failed(&checks);
    assert!(
        f.iter().any(|n| n.starts_with(name)),
        "expected `{name}` to fail: {checks:#?}"
    );
}

fn up(x: &mut F) {
    x.0 = x.0.next_up();
}

#[test]
fn recheck_accepts_the_examples_and_each_evidence_kind() {
    assert_all_hold(double_well()); // interval domain, H1 tree in 1-D, E7
    assert_all_hold(styblinski()); // sphere tree, convexity margin, E7
    assert_all_hold(&example("quadratic_d10")); // Taylor bound in d = 10, E12
    assert_all_hold(&inline(ANISO)); // constant Σ: E8 and Stein verified solves, Rayleigh
    let h = hessian_noise(); // state-dependent Σ: spectrum tree, steepness trees
    assert!(matches!(
        h.spectrum.as_ref().map(|s| &s.evidence),
        Some(SpectrumEvidence::Tree(_))
    ));
    assert!(h.steepness.as_ref().is_some_and(|s| s.evidence.is_some()));
    let b = h.barrier.as_ref().expect("a barrier claim");
    assert!(matches!(b.lower, LowerEvidence::CQuad(_)), "{:?}", b.lower);
    assert!(matches!(b.upper, UpperEvidence::Path(_)));
    assert!(b.claim[0].0 > 0.0 && b.claim[1].0.is_finite());
    assert_all_hold(h);
}

/// The anisotropic constant-noise quadratic (E8 both ends, Stein for the discrete
/// barriers): everything it certifies is in the certificate.
#[test]
fn anisotropic_quadratic_is_fully_covered() {
    let c = inline(ANISO);
    assert!(
        c.not_in_certificate.is_empty(),
        "{:?}",
        c.not_in_certificate
    );
    assert_eq!(c.barrier_discrete.len(), 2);
    assert_all_hold(&c);
}

/// Box domain: ΔL from the face trees (one per face) rechecks; the face (H1) evidence is
/// not recorded, so (H1) and the E7 upper end resting on it are named, not claimed. A
/// face-tree leaf removed is rejected.
#[test]
fn box_domain_face_depth_rechecks_and_h1_is_named() {
    let c = example("box_2d");
    assert!(matches!(c.depth.evidence, DepthEvidence::BoxFaces { .. }));
    assert!(c.depth.claim[0].0 > 0.0);
    assert!(c.h1.is_none());
    assert!(c.not_in_certificate.iter().any(|m| m.starts_with("(H1)")));
    assert_all_hold(&c);
    let mut t = c.clone();
    let DepthEvidence::BoxFaces { faces, .. } = &mut t.depth.evidence else {
        unreachable!()
    };
    let f = faces
        .iter_mut()
        .max_by_key(|f| f.nodes.len())
        .expect("faces");
    f.nodes.pop();
    assert_rejected(&t, "depth");
}

/// The double well's discrete barriers: the E10 upper ends are in the certificate (path
/// rechecked for every θ* ∈ X); the E11 lower ends are certified but their search tree is
/// not recorded, so they are named in `not_in_certificate` and only V̄_η ≥ 0 is claimed.
/// A moved path point is rejected.
#[test]
fn discrete_e10_paths_recheck_and_a_moved_point_is_rejected() {
    let c = double_well();
    assert_eq!(c.barrier_discrete.len(), 5);
    for b in &c.barrier_discrete {
        assert!(
            matches!(b.upper, DiscreteUpper::Path { .. }),
            "{:?}",
            b.upper
        );
        assert_eq!(b.lower, DiscreteLower::Trivial);
    }
    assert_eq!(
        c.not_in_certificate
            .iter()
            .filter(|m| m.starts_with("V̄_η") && m.contains("E11"))
            .count(),
        5
    );
    let mut t = c.clone();
    let DiscreteUpper::Path { path } = &mut t.barrier_discrete[0].upper else {
        unreachable!()
    };
    let k = path.len() / 2;
    path[k][0].0 += 0.05;
    assert_rejected(&t, "discrete barrier");
}

#[test]
fn c_quad_and_lemma_p_tampering_is_rejected() {
    let base = hessian_noise();
    // A leaf removed from the C-quad tree.
    let mut c = base.clone();
    let Some(LowerEvidence::CQuad(q)) = c.barrier.as_mut().map(|b| &mut b.lower) else {
        panic!("C-quad lower end");
    };
    let i = q
        .tree
        .nodes
        .iter()
        .position(|n| matches!(n, Node::Proved(_)))
        .expect("a proved leaf");
    q.tree.nodes.remove(i);
    assert_rejected(&c, "barrier");
    // γ raised by half: a leaf no longer passes (or γ > 1).
    let mut c = base.clone();
    if let Some(LowerEvidence::CQuad(q)) = c.barrier.as_mut().map(|b| &mut b.lower) {
        q.gamma.0 *= 1.5;
    }
    assert_rejected(&c, "barrier");
    // The lower end raised by one ulp.
    let mut c = base.clone();
    if let Some(b) = c.barrier.as_mut() {
        up(&mut b.claim[0]);
    }
    assert_rejected(&c, "barrier");
    // A path vertex moved off the certified polyline.
    let mut c = base.clone();
    let Some(UpperEvidence::Path(p)) = c.barrier.as_mut().map(|b| &mut b.upper) else {
        panic!("Lemma P upper end");
    };
    let k = p.vertices.len() / 2;
    p.vertices[k][0].0 += 0.1;
    assert_rejected(&c, "barrier");
    // A leaf removed from the s⁻ steepness tree.
    let mut c = base.clone();
    let t = c
        .steepness
        .as_mut()
        .and_then(|s| s.evidence.as_mut())
        .and_then(|e| e.minus.as_mut())
        .expect("s⁻ tree");
    t.nodes.pop();
    assert_rejected(&c, "steepness");
}

#[test]
fn a_removed_leaf_breaks_the_tree() {
    // Sphere tree of the depth (2-D).
    let mut c = styblinski().clone();
    let DepthEvidence::Ball {
        sphere: Some(t), ..
    } = &mut c.depth.evidence
    else {
        panic!("the 2-D depth uses the sphere branch-and-bound");
    };
    let leaves: Vec<usize> = (0..t.nodes.len())
        .filter(|&i| !matches!(t.nodes[i], Node::Split(..)))
        .collect();
    t.nodes.remove(leaves[leaves.len() / 2]);
    assert_rejected(&c, "depth");
    // Inward-flow tree of (H1) (1-D): the last leaf, then an extra node.
    let mut c = double_well().clone();
    let Some(InwardEvidence::Tree { tree, .. }) = c.h1.as_mut().map(|h| &mut h.inward) else {
        panic!("the double well's (H1) uses the inward-flow tree");
    };
    let mut extra = tree.clone();
    tree.nodes.pop();
    assert_rejected(&c, "H1");
    extra.nodes.push(Node::Excluded);
    if let Some(h) = c.h1.as_mut() {
        if let InwardEvidence::Tree { tree, .. } = &mut h.inward {
            *tree = extra;
        }
    }
    assert_rejected(&c, "H1");
}

#[test]
fn a_claim_nudged_one_ulp_stronger_is_rejected_and_weaker_accepted() {
    // Depth lower end raised by one ulp, on the interval and on the ball.
    for base in [double_well(), styblinski()] {
        let mut c = base.clone();
        up(&mut c.depth.claim[0]);
        assert_rejected(&c, "depth");
        // One ulp weaker still holds (the check is not failing everything); the barrier
        // computed from the weaker ΔL then no longer fits its claim, so only `depth` is
        // asserted.
        let mut c = base.clone();
        c.depth.claim[0].0 = c.depth.claim[0].0.next_down();
        let checks = recheck(&c).expect("well formed");
        assert!(
            checks.iter().any(|k| k.name == "depth" && k.ok),
            "{checks:#?}"
        );
    }
    // Barrier (E7) lower end raised by one ulp.
    let mut c = double_well().clone();
    if let Some(b) = c.barrier.as_mut() {
        up(&mut b.claim[0]);
    }
    assert_rejected(&c, "barrier");
    // Minimiser box shrunk by one ulp: θ* may be outside it.
    let mut c = double_well().clone();
    up(&mut c.minimizer.x[0][0]);
    assert_rejected(&c, "minimizer");
    // Discrete E12 upper end lowered by one ulp.
    let mut c = example("quadratic_d10");
    c.barrier_discrete[0].claim[1].0 = c.barrier_discrete[0].claim[1].0.next_down();
    assert_rejected(&c, "discrete barrier");
}

#[test]
fn an_edited_spec_text_is_rejected() {
    let mut c = double_well().clone();
    c.spec_text = c.spec_text.replace("sigma = 1.0", "sigma = 1.1");
    assert_rejected(&c, "barrier");
    let mut c = double_well().clone();
    c.spec_text = c.spec_text.replace("0.1*x", "0.2*x");
    assert_rejected(&c, "minimizer");
}

/// A hand-made polyline on the isotropic quadratic: the straight radial path from θ* = 0
/// to the sphere has geometric action exactly 2ΔL/σ² = 2 (E6 with ψ' ∥ ∇L); its certified
/// upper bound lies in [2, 2(1 + 1/n)] (the per-sub-segment sup of |∇L| on a radial path
/// overestimates by at most one sub-segment length).
#[test]
fn path_action_bound_and_a_moved_vertex() {
    let c = inline(QUAD2);
    let spec = Spec::from_str(Path::new("inline.toml"), QUAD2).expect("valid");
    let p = Problem::from_spec(&spec).expect("valid");
    let x: Vec<_> = c
        .minimizer
        .x
        .iter()
        .map(|b| inari::Interval::try_from((b[0].0, b[1].0)).unwrap())
        .collect();
    let centre: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    let domain = Domain::Ball {
        center: centre,
        radius: 1.0,
    };
    let n = 2000;
    let path = |v: Vec<Vec<f64>>| PathEvidence {
        from_minimizer: true,
        vertices: v
            .into_iter()
            .map(|v| v.into_iter().map(F).collect())
            .collect(),
        subsegments: n,
        breakpoints: None,
        upper: F(0.0),
    };
    let straight = path(vec![vec![0.5, 0.0], vec![1.0, 0.0]]);
    let a = path_action(&p.landscape, &p.noise, &x, &domain, &straight).expect("bounded");
    assert!(a >= 2.0 && a <= 2.0 * (1.0 + 1.0 / n as f64) + 1e-9, "{a}");
    let mut cert = c.clone();
    cert.paths = vec![PathEvidence {
        upper: F(a),
        ..straight.clone()
    }];
    assert_all_hold(&cert);
    // A vertex moved off the ray: the recomputed bound exceeds the claim.
    let mut moved = cert.clone();
    moved.paths[0].vertices[0] = vec![F(0.5), F(0.2)];
    assert_rejected(&moved, "path 1");
    // A vertex moved along the ray: accepted exactly when the recomputed bound is ≤ claim.
    let mut along = cert.clone();
    along.paths[0].vertices[0] = vec![F(0.6), F(0.0)];
    let b = path_action(&p.landscape, &p.noise, &x, &domain, &along.paths[0]).expect("bounded");
    let ok = failed(&recheck(&along).expect("well formed")).is_empty();
    assert_eq!(ok, b <= a, "{b} vs {a}");
    // The end moved inside the ball: the path no longer reaches ∂D.
    let mut short = cert.clone();
    short.paths[0].vertices[1] = vec![F(0.9), F(0.0)];
    assert_rejected(&short, "path 1");
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_escapecert"))
}

#[test]
fn cli_certify_writes_and_recheck_exits_0_1_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.json");
    let spec = format!(
        "{}/examples/tilted_double_well.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let st = bin()
        .args(["certify", &spec, "--certificate"])
        .arg(&cert)
        .output()
        .expect("runs");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let rc = |p: &Path| {
        bin()
            .arg("recheck")
            .arg(p)
            .output()
            .expect("runs")
            .status
            .code()
    };
    assert_eq!(rc(&cert), Some(0));
    // Tampered (depth raised one ulp): exit 1, naming the check.
    let text = std::fs::read_to_string(&cert).expect("written");
    let mut c: Certificate = serde_json::from_str(&text).expect("parses");
    up(&mut c.depth.claim[0]);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, serde_json::to_string(&c).expect("serialises")).expect("write");
    let out = bin().arg("recheck").arg(&bad).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL depth"));
    // Malformed: truncated, unknown key, wrong version, missing file → exit 2.
    let cases = [
        text[..text.len() / 2].to_string(),
        text.replacen("{", "{\"extra\":1,", 1),
        text.replacen("\"format_version\":2", "\"format_version\":99", 1),
    ];
    for (i, t) in cases.iter().enumerate() {
        let p = dir.path().join(format!("m{i}.json"));
        std::fs::write(&p, t).expect("write");
        assert_eq!(rc(&p), Some(2), "case {i}");
    }
    assert_eq!(rc(&dir.path().join("missing.json")), Some(2));
}

mod enclosure {
    use super::*;
    use proptest::prelude::*;

    /// f64 midpoint quadrature of the E6 integrand for L = |θ|² (∇L = 2θ), σ = 1, on the
    /// straight segment a → b (an estimate, not a bound; its relative error with 20 000
    /// points is far below the 1e-6 slack used below).
    fn action_estimate(a: [f64; 2], b: [f64; 2]) -> f64 {
        let n = 20_000;
        let v = [b[0] - a[0], b[1] - a[1]];
        let nv = v[0].hypot(v[1]);
        (0..n)
            .map(|k| {
                let t = (k as f64 + 0.5) / n as f64;
                let g = [2.0 * (a[0] + t * v[0]), 2.0 * (a[1] + t * v[1])];
                nv * g[0].hypot(g[1]) + v[0] * g[0] + v[1] * g[1]
            })
            .sum::<f64>()
            / n as f64
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Enclosure property of `path_action`: the certified bound is ≥ the action. No
        /// false-failure rate: the slack exceeds the quadrature error for every input.
        #[test]
        fn path_action_bounds_the_action(
            ax in -2.0f64..2.0, ay in -2.0f64..2.0,
            phi in 0.0f64..6.28, rb in 0.2f64..2.0, n in 1usize..40,
        ) {
            let spec = Spec::from_str(Path::new("inline.toml"), QUAD2).expect("valid");
            let p = Problem::from_spec(&spec).expect("valid");
            let b = [rb * phi.cos(), rb * phi.sin()];
            let x = vec![inari::Interval::try_from((ax, ax)).unwrap(), inari::Interval::try_from((ay, ay)).unwrap()];
            let domain = Domain::Ball { center: vec![0.0, 0.0], radius: 0.1 };
            let path = PathEvidence {
                from_minimizer: false,
                vertices: vec![vec![F(ax), F(ay)], vec![F(b[0]), F(b[1])]],
                subsegments: n,
                breakpoints: None,
                upper: F(0.0),
            };
            let bound = path_action(&p.landscape, &p.noise, &x, &domain, &path).expect("bounded");
            let est = action_estimate([ax, ay], b);
            prop_assert!(bound >= est - 1e-6 * (1.0 + est), "{} < {}", bound, est);
        }
    }
}
