//! Lemma P (certified geometric action of a path, `certify::path`,
//! `proofs/geometric-action-upper-bound.md`) against closed forms (THEORY E7, E8) and an
//! independent f64 minimum-action computation (Hamiltonian ray shooting).

use escapecert::certify::path::{self, PathOptions};
use escapecert::certify::{certify, Certified};
use escapecert::landscape::Problem;
use escapecert::spec::Spec;
use proptest::prelude::*;
use std::path::Path;

fn run(text: &str) -> (Problem, Certified) {
    let s = Spec::from_str(Path::new("test.toml"), text).unwrap_or_else(|e| panic!("spec: {e}"));
    let p = Problem::from_spec(&s).unwrap_or_else(|e| panic!("problem: {e}"));
    let c = certify(&s, &p).unwrap_or_else(|e| panic!("certify: {e}"));
    (p, c)
}

fn path_bound(p: &Problem, c: &Certified) -> path::PathBound {
    path::path_upper_bound(
        &p.landscape,
        &p.noise,
        &c.domain,
        &c.minimizer.x,
        &c.exit_point,
        &PathOptions::default(),
    )
}

const DW: &str = r#"
name = "dw"
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
eta = 0.1
"#;

/// E7 (isotropic): V̄ = 2ΔL/σ², with ΔL the certified depth; the path bound must lie
/// above the certified lower end and within 1e-3 relative of the upper end.
#[test]
fn isotropic_double_well_meets_e7() {
    let (p, c) = run(DW);
    let e7 = escapecert::num::point(2.0) * c.depth; // σ = 1
    let pb = path_bound(&p, &c);
    let u = pb.upper();
    assert!(u >= e7.inf(), "bound {u} below E7 {e7:?}");
    assert!(u <= e7.sup() * (1.0 + 1e-3), "bound {u} vs E7 {e7:?}");
    // Recheck from the evidence alone reproduces the bound; a moved end point is rejected.
    let r = path::recheck(
        &p.landscape,
        &p.noise,
        &c.domain,
        &c.minimizer.x,
        &pb.vertices,
        &pb.breakpoints,
    )
    .expect("recheck");
    assert_eq!(r, u);
    let mut moved = pb.vertices.clone();
    let last = moved.len() - 1;
    moved[last][0] = -1.9;
    assert!(path::recheck(
        &p.landscape,
        &p.noise,
        &c.domain,
        &c.minimizer.x,
        &moved,
        &pb.breakpoints
    )
    .is_none());
}

fn quad_spec(noise: &str) -> String {
    format!(
        r#"
name = "q"
[landscape]
builtin = "quadratic"
dim = 2
hessian = [[3.0, 1.0], [1.0, 2.0]]
[domain]
kind = "ball"
radius = 1.0
[noise]
{noise}
[sgd]
eta = 0.01
"#
    )
}

/// E7 on a 2-D quadratic: V̄ = 2ΔL/σ² with ΔL = r²λ_min(H)/2, λ_min = (5 − √5)/2
/// (closed form for H = [[3,1],[1,2]]).
#[test]
fn isotropic_quadratic_2d_meets_e7() {
    let sigma = 0.5;
    let (p, c) = run(&quad_spec(&format!(
        "kind = \"isotropic\"\nsigma = {sigma}"
    )));
    let lam = (5.0 - 5f64.sqrt()) / 2.0;
    let exact = 2.0 * (0.5 * lam) / (sigma * sigma);
    let pb = path_bound(&p, &c);
    let u = pb.upper();
    assert!(u >= exact * (1.0 - 1e-12), "bound {u} below exact {exact}");
    assert!(
        u <= exact * (1.0 + 1e-3),
        "bound {u} vs exact {exact} ({})",
        pb.candidate
    );
}

/// C with HC + CH = Σ for 2×2 H, Σ (f64, the closed form E8 is in terms of C).
fn lyapunov2(h: [f64; 4], s: [f64; 4]) -> [f64; 4] {
    let a = nalgebra::Matrix3::new(
        2.0 * h[0],
        2.0 * h[1],
        0.0,
        h[1],
        h[0] + h[3],
        h[1],
        0.0,
        2.0 * h[1],
        2.0 * h[3],
    );
    let x = a
        .lu()
        .solve(&nalgebra::Vector3::new(s[0], s[1], s[3]))
        .expect("solvable");
    [x[0], x[1], x[1], x[2]]
}

fn lam_max2(m: [f64; 4]) -> f64 {
    let tr = m[0] + m[3];
    let det = m[0] * m[3] - m[1] * m[2];
    0.5 * (tr + (tr * tr - 4.0 * det).sqrt())
}

/// E8: the anisotropic quadratic with non-commuting constant Σ on the unit ball,
/// V̄ = r²λ_min(C⁻¹)/2 = r²/(2λ_max(C)). The gMAM candidate must be certified within 1 %.
#[test]
fn anisotropic_quadratic_gmam_within_one_percent() {
    let (p, c) = run(&quad_spec(
        "kind = \"constant\"\ncov = [[1.0, 0.5], [0.5, 2.0]]",
    ));
    let cm = lyapunov2([3.0, 1.0, 1.0, 2.0], [1.0, 0.5, 0.5, 2.0]);
    let exact = 1.0 / (2.0 * lam_max2(cm));
    let pb = path_bound(&p, &c);
    assert_eq!(pb.candidate, "gMAM", "{:?}", pb.candidates);
    let g = pb.value;
    eprintln!(
        "gMAM bound {} / exact {exact} = {}",
        g.sup(),
        g.sup() / exact
    );
    assert!(
        g.sup() >= exact * (1.0 - 1e-12),
        "gMAM {} below exact {exact}",
        g.sup()
    );
    assert!(g.sup() <= exact * 1.01, "gMAM {} vs exact {exact}", g.sup());
}

/// Hessian-shaped noise (the state-dependent branch: verified solves per sub-segment) on
/// L = ½λ|θ|²: Σ = (cλ + δ)I is constant in fact, so E7 gives V̄ = 2ΔL/(cλ + δ) with
/// ΔL = λr²/2 (closed form); the path bound must be above it and within 1e-3.
#[test]
fn hessian_noise_quadratic_meets_e7() {
    let text = r#"
name = "qh"
[landscape]
builtin = "quadratic"
dim = 2
sharpness = 2.0
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
    let (p, c) = run(text);
    let exact = 2.0 * (0.5 * 2.0) / (0.5 * 2.0 + 0.1);
    let pb = path_bound(&p, &c);
    let u = pb.upper();
    assert!(u >= exact * (1.0 - 1e-12), "bound {u} below exact {exact}");
    assert!(
        u <= exact * (1.0 + 1e-3),
        "bound {u} vs exact {exact} ({})",
        pb.candidate
    );
}

/// Müller–Brown: the minimiser boxes contain the published minima (to their 3 published
/// decimals) and on a small ball the path bound is finite and above the certified lower end.
#[test]
fn muller_brown_minima_path_bounds() {
    for (gx, gy) in [(-0.558, 1.442), (-0.050, 0.467), (0.623, 0.028)] {
        let text = format!(
            r#"
name = "mb"
[landscape]
builtin = "muller_brown"
[minimum]
guess = [{gx:?}, {gy:?}]
[domain]
kind = "ball"
radius = 0.05
[noise]
kind = "constant"
cov = [[4.0, 1.0], [1.0, 9.0]]
[sgd]
eta = 0.01
"#
        );
        let (p, c) = run(&text);
        for (xi, pub_v) in c.minimizer.x.iter().zip([gx, gy]) {
            assert!(
                (xi.mid() - pub_v).abs() <= 5e-4 + 1e-12,
                "minimiser {xi:?} vs published {pub_v}"
            );
        }
        let v = c.barrier.value.expect("barrier");
        let pb = c.barrier_path.clone().unwrap_or_else(|| path_bound(&p, &c));
        assert!(pb.upper().is_finite(), "{}", pb.candidate);
        assert!(
            pb.upper() >= v.inf(),
            "path {} below lower {}",
            pb.upper(),
            v.inf()
        );
        assert!(v.sup().is_finite() && v.inf() <= v.sup());
    }
}

// ---------------------------------------------------------------------------------------
// Soundness: an independent f64 minimum-action computation.
// ---------------------------------------------------------------------------------------

/// L(θ) = ½θᵀHθ + a x³ + b x²y + e x y² + f y³ + q(x⁴ + y⁴), coded by hand here
/// (independently of the expression tape).
#[derive(Clone, Debug)]
struct Fam {
    h: [f64; 4],
    k: [f64; 5],
}

impl Fam {
    fn grad(&self, t: [f64; 2]) -> [f64; 2] {
        let (x, y) = (t[0], t[1]);
        let [a, b, e, f, q] = self.k;
        [
            self.h[0] * x
                + self.h[1] * y
                + 3.0 * a * x * x
                + 2.0 * b * x * y
                + e * y * y
                + 4.0 * q * x * x * x,
            self.h[2] * x
                + self.h[3] * y
                + b * x * x
                + 2.0 * e * x * y
                + 3.0 * f * y * y
                + 4.0 * q * y * y * y,
        ]
    }
    fn hess(&self, t: [f64; 2]) -> [f64; 4] {
        let (x, y) = (t[0], t[1]);
        let [a, b, e, f, q] = self.k;
        let hxy = self.h[1] + 2.0 * b * x + 2.0 * e * y;
        [
            self.h[0] + 6.0 * a * x + 2.0 * b * y + 12.0 * q * x * x,
            hxy,
            hxy,
            self.h[3] + 2.0 * e * x + 6.0 * f * y + 12.0 * q * y * y,
        ]
    }
    fn expr(&self) -> String {
        let [a, b, e, f, q] = self.k;
        format!(
            "0.5*(({:?})*x1^2 + 2*({:?})*x1*x2 + ({:?})*x2^2) + ({a:?})*x1^3 + ({b:?})*x1^2*x2 + ({e:?})*x1*x2^2 + ({f:?})*x2^3 + ({q:?})*(x1^4 + x2^4)",
            self.h[0], self.h[1], self.h[3]
        )
    }
}

/// Independent f64 estimate of V̄ on the ball B(0, r) for constant Σ, by Hamiltonian ray
/// shooting: minimum-action paths solve θ̇ = −∇L + Σp, ṗ = ∇²L p (H(θ,p) = −p·∇L +
/// ½pᵀΣp = 0) with dV = p·dθ. Rays start at ε·u(φ) with p = C⁻¹θ (the linearisation at
/// θ* = 0, HC + CH = Σ) and V₀ = ½εuᵀC⁻¹εu; each is an actual path, so its action at the
/// first crossing of the sphere is ≥ V̄ (up to the O(ε³) start), and the minimum over
/// angles (144 start angles, then golden-section search) approximates V̄. Rays are
/// parametrised by the angle of the point where their linearisation crosses the circle of
/// radius 0.02 r (see `pull`). Stated tolerance: 1e-4·V + 1e-9 (RK4 with dt = 0.02/λ_max(H),
/// a start at |θ₀| ≤ 1e-5 r and 40 golden-section steps give errors far below it).
fn ray_barrier(fam: &Fam, sig: [f64; 4], r: f64) -> f64 {
    let c = lyapunov2(fam.h, sig);
    let det = c[0] * c[3] - c[1] * c[2];
    let p_m = [c[3] / det, -c[1] / det, -c[2] / det, c[0] / det];
    let dt = 0.02 / lam_max2(fam.h);
    let eps = 1e-5 * r;
    let rhs = |s: [f64; 5]| -> [f64; 5] {
        let g = fam.grad([s[0], s[1]]);
        let hm = fam.hess([s[0], s[1]]);
        let (p0, p1) = (s[2], s[3]);
        let t0 = -g[0] + sig[0] * p0 + sig[1] * p1;
        let t1 = -g[1] + sig[2] * p0 + sig[3] * p1;
        [
            t0,
            t1,
            hm[0] * p0 + hm[1] * p1,
            hm[2] * p0 + hm[3] * p1,
            p0 * t0 + p1 * t1,
        ]
    };
    let rk4 = |s: [f64; 5], h: f64| -> [f64; 5] {
        let add = |a: [f64; 5], k: [f64; 5], w: f64| {
            let mut o = a;
            for i in 0..5 {
                o[i] += w * k[i];
            }
            o
        };
        let k1 = rhs(s);
        let k2 = rhs(add(s, k1, 0.5 * h));
        let k3 = rhs(add(s, k2, 0.5 * h));
        let k4 = rhs(add(s, k3, h));
        let mut o = s;
        for i in 0..5 {
            o[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
        o
    };
    // Start points: w(φ) on the circle of radius ρ = 0.02 r pulled back by the linearised
    // flow, θ₀ = e^{−Kτ} w with K = CHC⁻¹ (so e^{−Kτ} = C e^{−Hτ} C⁻¹) and
    // τ = ln(ρ/ε)/λ_min(H): the linearised ray through θ₀ passes through w, so the start
    // angle of w controls the ray without the exponential focusing of the fast direction.
    let hs = nalgebra::Matrix2::new(fam.h[0], fam.h[1], fam.h[2], fam.h[3]).symmetric_eigen();
    let lmin = hs.eigenvalues.min();
    let rho = 0.02 * r;
    let tau = (rho / eps).ln() / lmin;
    let e_h = hs.eigenvectors
        * nalgebra::Matrix2::from_diagonal(&hs.eigenvalues.map(|l| (-l * tau).exp()))
        * hs.eigenvectors.transpose();
    let cmat = nalgebra::Matrix2::new(c[0], c[1], c[2], c[3]);
    let pull = cmat * e_h * cmat.try_inverse().expect("C invertible");
    let ray = |phi: f64| -> f64 {
        let w = nalgebra::Vector2::new(rho * phi.cos(), rho * phi.sin());
        let t0 = pull * w;
        let u = [t0[0], t0[1]];
        let p = [p_m[0] * u[0] + p_m[1] * u[1], p_m[2] * u[0] + p_m[3] * u[1]];
        let mut s = [u[0], u[1], p[0], p[1], 0.5 * (u[0] * p[0] + u[1] * p[1])];
        for _ in 0..200_000 {
            let n = rk4(s, dt);
            if n[0].hypot(n[1]) >= r {
                // Bisect the step length to the crossing.
                let (mut lo, mut hi) = (0.0, dt);
                for _ in 0..50 {
                    let m = 0.5 * (lo + hi);
                    if rk4(s, m)[0].hypot(rk4(s, m)[1]) >= r {
                        hi = m;
                    } else {
                        lo = m;
                    }
                }
                return rk4(s, hi)[4];
            }
            s = n;
        }
        f64::INFINITY
    };
    let n = 144;
    let vals: Vec<f64> = (0..n)
        .map(|i| ray(2.0 * std::f64::consts::PI * i as f64 / n as f64))
        .collect();
    let mut best = f64::INFINITY;
    for i in 0..n {
        let (a, b) = (
            2.0 * std::f64::consts::PI * (i as f64 - 1.0) / n as f64,
            2.0 * std::f64::consts::PI * (i as f64 + 1.0) / n as f64,
        );
        if vals[i] <= vals[(i + n - 1) % n] && vals[i] <= vals[(i + 1) % n] {
            // Golden-section search on [a, b].
            let g = 0.5 * (5f64.sqrt() - 1.0);
            let (mut a, mut b) = (a, b);
            let mut x1 = b - g * (b - a);
            let mut x2 = a + g * (b - a);
            let (mut f1, mut f2) = (ray(x1), ray(x2));
            for _ in 0..40 {
                if f1 < f2 {
                    b = x2;
                    x2 = x1;
                    f2 = f1;
                    x1 = b - g * (b - a);
                    f1 = ray(x1);
                } else {
                    a = x1;
                    x1 = x2;
                    f1 = f2;
                    x2 = a + g * (b - a);
                    f2 = ray(x2);
                }
            }
            best = best.min(f1.min(f2)).min(vals[i]);
        }
    }
    best
}

fn fam_strategy() -> impl Strategy<Value = (Fam, [f64; 4], bool)> {
    (
        1.0f64..3.0,
        1.0f64..3.0,
        0.0f64..std::f64::consts::PI,
        prop::array::uniform5(-0.2f64..0.2),
        (0.5f64..2.0, 0.5f64..2.0, -0.5f64..0.5),
        any::<bool>(),
    )
        .prop_map(|(l1, l2, phi, k, (s1, s2, rho), iso)| {
            let (cs, sn) = (phi.cos(), phi.sin());
            let h = [
                l1 * cs * cs + l2 * sn * sn,
                (l1 - l2) * cs * sn,
                (l1 - l2) * cs * sn,
                l1 * sn * sn + l2 * cs * cs,
            ];
            let mut k = k;
            k[4] = k[4].abs(); // quartic term ≥ 0
            let sig = if iso {
                [s1 * s1, 0.0, 0.0, s1 * s1]
            } else {
                let off = rho * s1 * s2;
                [s1 * s1, off, off, s2 * s2]
            };
            (Fam { h, k }, sig, iso)
        })
}

proptest! {
    // 16 cases: each certifies a 2-D landscape (sphere branch-and-bound, path candidates)
    // and shoots about 150 rays; a few seconds in release. The comparison is numerical,
    // not statistical: the certified side is rigorous and the ray-shooting reference has
    // the stated tolerance, so a failure is a bug (or a reference inaccurate beyond its
    // tolerance), never chance. The case generator has a fixed seed, so this test is
    // reproducible; `CERTIFY_PATH_CASES=N` runs N cases from the same seed for a longer
    // search by hand.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("CERTIFY_PATH_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16),
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_2026),
        ..ProptestConfig::default()
    })]
    #[test]
    fn certified_barrier_contains_independent_minimum_action((fam, sig, iso) in fam_strategy()) {
        let r = 0.5;
        let noise = if iso {
            format!("kind = \"isotropic\"\nsigma = {:?}", sig[0].sqrt())
        } else {
            format!("kind = \"constant\"\ncov = [[{:?}, {:?}], [{:?}, {:?}]]", sig[0], sig[1], sig[2], sig[3])
        };
        let text = format!(
            "name = \"p\"\n[landscape]\nexpr = \"{}\"\n[minimum]\nguess = [0.0, 0.0]\n[domain]\nkind = \"ball\"\nradius = {r:?}\n[noise]\n{noise}\n[sgd]\neta = 0.01\n[certify]\nmax_boxes = 4000\n",
            fam.expr()
        );
        let (_, c) = run(&text);
        // Σ as certify sees it (σ parsed back from its decimal).
        let sig = if iso { let s: f64 = sig[0].sqrt(); [s * s, 0.0, 0.0, s * s] } else { sig };
        let v = c.barrier.value.expect("barrier");
        let est = ray_barrier(&fam, sig, r);
        let tol = 1e-4 * est + 1e-9;
        prop_assert!(v.inf() <= v.sup(), "inverted {v:?}");
        prop_assert!(v.inf() <= est + tol, "lower {} above estimate {est}", v.inf());
        prop_assert!(est - tol <= v.sup(), "upper {} below estimate {est} ({})", v.sup(), c.barrier.method);
        prop_assert!(v.sup().is_finite(), "no upper bound: {}", c.barrier.method);
    }
}
