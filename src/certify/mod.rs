//! Certified enclosures (outward-rounded interval arithmetic only): the minimiser,
//! L*, the sharpness, the depth ΔL, the hypothesis (H1)/(H2) checks and the barrier
//! V̄ (THEORY §3–§5). Each bound names its proof in `proofs/`.

pub mod bnb;
pub mod exit_time;
pub mod minimizer;

use crate::landscape::NoiseModel;
use crate::landscape::{Domain, Landscape, Problem};
use crate::num::imat::verified_solve;
use crate::num::imat::{approx_extreme_eigvecs, sym_eig_bounds};
use crate::num::{iv, point};
use crate::spec::{DomainSpec, Spec};
use inari::Interval;
pub use minimizer::{certify_minimizer, Minimizer};
use thiserror::Error;

/// Errors of the certify stage (bad input discovered while certifying).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CertifyError {
    /// No certified strict minimum near the guess.
    #[error("no certified minimum: {reason}")]
    NoMinimum { reason: String },
    /// The certified minimiser is not inside the domain.
    #[error("the certified minimiser {minimizer} is not inside the domain {domain}")]
    MinimumOutsideDomain { minimizer: String, domain: String },
    /// The landscape is not defined (or not smooth) on the domain.
    #[error("{0}")]
    Undefined(String),
}

/// A certified hypothesis check.
#[derive(Clone, Debug, PartialEq)]
pub struct Hypothesis {
    /// "H1" or "H2" (THEORY §3).
    pub name: String,
    pub holds: bool,
    /// What was proved, or which sub-check failed and where.
    pub detail: String,
}

/// A certified quantity, or the reason it is not available.
#[derive(Clone, Debug)]
pub struct Bound {
    /// The enclosure; `None` when not available.
    pub value: Option<Interval>,
    /// How it was obtained (lemma and proof file), or why it is missing.
    pub method: String,
}

/// Enclosures of the steepness s⁻(D) = inf s(θ) and s⁺(D) = sup s*(θ) over D̄ ∖ {θ*} (E9).
#[derive(Clone, Debug)]
pub struct Steepness {
    pub s_minus: Interval,
    pub s_plus: Interval,
    pub method: String,
}

/// The discrete barrier for one learning rate.
#[derive(Clone, Debug)]
pub struct DiscreteBarrier {
    pub eta: f64,
    pub bound: Bound,
}

/// Everything the certify stage proves about a problem.
#[derive(Clone, Debug)]
pub struct Certified {
    pub minimizer: Minimizer,
    /// The resolved domain (a ball is centred at the midpoint of the minimiser box).
    pub domain: Domain,
    /// The start point of the simulations: the f64 midpoint of the minimiser box.
    pub start: Vec<f64>,
    pub loss_at_min: Interval,
    /// λ_max(∇²L(θ*)).
    pub sharpness: Interval,
    /// λ_min(∇²L(θ*)).
    pub lambda_min: Interval,
    /// ΔL = min_{∂D} L − L*.
    pub depth: Interval,
    pub depth_method: String,
    /// f64 approximation of the lowest boundary point.
    pub exit_point: Vec<f64>,
    pub hypotheses: Vec<Hypothesis>,
    /// V̄(D) for continuous SGD.
    pub barrier: Bound,
    /// Steepness enclosures s⁻(D), s⁺(D) (E9).
    pub steepness: Steepness,
    /// V̄_η(D) for discrete SGD, per learning rate of the spec.
    pub barrier_discrete: Vec<DiscreteBarrier>,
    /// Boxes processed by branch-and-bound searches.
    pub boxes: usize,
    /// Proof files the certified numbers rely on.
    pub proofs: Vec<String>,
}

impl Certified {
    /// True when every hypothesis was certified.
    pub fn hypotheses_hold(&self) -> bool {
        self.hypotheses.iter().all(|h| h.holds)
    }
}

fn fmt_box(b: &[Interval]) -> String {
    let parts: Vec<String> = b
        .iter()
        .map(|x| format!("[{:.17e}, {:.17e}]", x.inf(), x.sup()))
        .collect();
    parts.join(" × ")
}

/// Relative gap at which the sphere branch-and-bound stops.
pub const SPHERE_REL_TOL: f64 = 1e-8;
/// Dimensions up to which the sphere and annulus branch-and-bound searches run.
pub const BNB_MAX_DIM: usize = 3;

/// Runs the certify stage.
pub fn certify(spec: &Spec, problem: &Problem) -> Result<Certified, CertifyError> {
    let l = &problem.landscape;
    let min = certify_minimizer(l, &problem.guess)?;
    let x = &min.x;
    let start: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    let domain = match spec.domain {
        DomainSpec::Interval { lo, hi } => Domain::Interval { lo, hi },
        DomainSpec::Ball { radius } => Domain::Ball {
            center: start.clone(),
            radius,
        },
    };
    // θ* must lie in the open domain.
    let inside = match &domain {
        Domain::Interval { lo, hi } => x[0].inf() > *lo && x[0].sup() < *hi,
        Domain::Ball { center, radius } => bnb::max_dist(x, center) < *radius,
    };
    if !inside {
        return Err(CertifyError::MinimumOutsideDomain {
            minimizer: fmt_box(x),
            domain: domain.describe(),
        });
    }
    let bbox = domain.bounding_box();
    l.check_domain(&bbox)
        .map_err(|e| CertifyError::Undefined(e.to_string()))?;
    let mut proofs = vec![
        "proofs/krawczyk.md".to_string(),
        "proofs/symmetric-eigenvalue-enclosure.md".to_string(),
        "proofs/interval-derivatives.md".to_string(),
        "proofs/elementary-enclosures.md".to_string(),
    ];
    if let Landscape::Data(_) = l {
        proofs.push("proofs/data-loss-enclosures.md".into());
    }
    let lstar = l.value(x);
    let mut boxes = 0usize;

    // Depth ΔL = min_{∂D} L − L*.
    let (depth, depth_method, exit_point) = match &domain {
        Domain::Interval { lo, hi } => {
            let a = l.value(&[point(*lo)]);
            let b = l.value(&[point(*hi)]);
            let m = a.min(b);
            let ep = if a.mid() <= b.mid() { *lo } else { *hi };
            (
                m - lstar,
                "exact at the two end points (interval evaluation)".to_string(),
                vec![ep],
            )
        }
        Domain::Ball { center, radius } => {
            let (dep, method, ep, nb) = ball_depth(l, center, *radius, x, lstar, spec.max_boxes);
            boxes += nb;
            (dep, method, ep)
        }
    };
    proofs.push("proofs/depth-branch-and-bound.md".into());

    let hypotheses = vec![
        check_h1(l, &domain, x, spec.max_boxes, &mut boxes),
        check_h2(l, &problem.noise, &domain),
    ];
    proofs.push("proofs/hypothesis-h1.md".into());

    let noise = &problem.noise;
    let (barrier, steepness) = continuous_barrier(
        l,
        &domain,
        noise,
        &min,
        depth,
        &exit_point,
        &hypotheses,
        &mut proofs,
    );
    let barrier_discrete = spec
        .eta
        .iter()
        .map(|&eta| DiscreteBarrier {
            eta,
            bound: discrete_barrier(l, &domain, &min, noise, eta),
        })
        .collect::<Vec<_>>();
    if barrier_discrete.iter().any(|b| b.bound.value.is_some()) {
        proofs.push("proofs/linear-discrete-barrier.md".into());
    }
    let sharpness = min.eig.max;
    let lambda_min = min.eig.min;
    Ok(Certified {
        minimizer: min,
        domain,
        start,
        loss_at_min: lstar,
        sharpness,
        lambda_min,
        depth,
        depth_method,
        exit_point,
        hypotheses,
        barrier,
        steepness,
        barrier_discrete,
        boxes,
        proofs,
    })
}

/// ΔL on a ball B(c, r): lower bounds from the Hessian (Taylor) bound and, in low
/// dimension, branch-and-bound over the sphere; upper bounds from interval-evaluated
/// sphere points (candidates: Hessian eigenvectors, coordinate axes, B&B midpoints).
fn ball_depth(
    l: &Landscape,
    c: &[f64],
    r: f64,
    x: &[Interval],
    lstar: Interval,
    max_boxes: usize,
) -> (Interval, String, Vec<f64>, usize) {
    let d = c.len();
    // Candidate sphere points for the upper bound.
    let mut hc = vec![0.0; d * d];
    l.hessian(c, &mut hc);
    let hci: Vec<Interval> = hc.iter().map(|&v| point(v)).collect();
    let (vmin, vmax) = approx_extreme_eigvecs(&hci, d);
    let mut cands: Vec<Vec<f64>> = Vec::new();
    for v in [&vmin, &vmax] {
        cands.push(c.iter().zip(v.iter()).map(|(a, b)| a + b).collect());
        cands.push(c.iter().zip(v.iter()).map(|(a, b)| a - b).collect());
    }
    for i in 0..d.min(64) {
        for s in [1.0, -1.0] {
            let mut p = c.to_vec();
            p[i] += s;
            cands.push(p);
        }
    }
    let mut best = (f64::INFINITY, c.to_vec());
    for p in &cands {
        if let Some(u) = bnb::sphere_point_upper(l, p, c, r) {
            if u < best.0 {
                best = (
                    u,
                    bnb::project_to_sphere(p, c, r)
                        .map(|q| q.iter().map(|t| t.mid()).collect())
                        .unwrap_or(p.clone()),
                );
            }
        }
    }
    // Refine the best candidate by projected gradient descent on the sphere (f64 guide).
    let refined = sphere_descent(l, c, r, &best.1);
    if let Some(u) = bnb::sphere_point_upper(l, &refined, c, r) {
        if u < best.0 {
            best = (u, refined);
        }
    }
    let mut methods = Vec::new();
    // Taylor bound: L(y) − L(θ*) ≥ ½ λ_lo |y − θ*|² with λ_lo ≤ λ_min(∇²L) on D̄ (convex),
    // ∇L(θ*) = 0 and |y − θ*| ≥ r − sup|X − c| for y on the sphere.
    let bbox: Vec<Interval> = c
        .iter()
        .map(|&ci| iv((point(ci) - point(r)).inf(), (point(ci) + point(r)).sup()))
        .collect();
    let mut hb = vec![point(0.0); d * d];
    l.hessian(&bbox, &mut hb);
    let mut lower = f64::NEG_INFINITY;
    if let Some(eig) = sym_eig_bounds(&hb, d) {
        let lam = eig.min.inf();
        let gap = (point(r) - point(bnb::max_dist(x, c))).inf();
        if lam > 0.0 && gap > 0.0 {
            lower = (point(0.5) * point(lam) * point(gap).sqr()).inf();
            methods.push("Taylor bound ½ λ_min(∇²L on D̄) (r − |θ* − c|)²".to_string());
        }
    }
    let mut nboxes = 0;
    let mut upper = (point(best.0) - lstar).sup();
    // The sphere search only when the Taylor bound has not already closed the gap.
    let gap_closed = upper - lower <= SPHERE_REL_TOL * (1.0 + upper.abs());
    if d <= BNB_MAX_DIM && !gap_closed {
        let sm = bnb::sphere_min(l, c, r, best.clone(), max_boxes, SPHERE_REL_TOL);
        nboxes = sm.boxes;
        let blo = (point(sm.lower) - lstar).inf();
        if blo > lower {
            lower = blo;
            methods.insert(
                0,
                format!(
                    "branch-and-bound over the sphere ({} boxes{})",
                    sm.boxes,
                    if sm.converged { "" } else { ", budget reached" }
                ),
            );
        }
        upper = upper.min((point(sm.upper) - lstar).sup());
        if sm.upper < best.0 {
            best = (sm.upper, sm.argmin);
        }
    }
    if lower == f64::NEG_INFINITY {
        methods.push("no positive lower bound (Hessian not positive definite on D̄ and d too large for branch-and-bound)".into());
    }
    let lower = lower.min(upper);
    let method = format!(
        "lower: {}; upper: interval evaluation at a point of the sphere",
        methods.join("; ")
    );
    (iv(lower, upper), method, best.1, nboxes)
}

/// Projected gradient descent of L on the sphere ∂B(c, r), in f64 (a guide only).
fn sphere_descent(l: &Landscape, c: &[f64], r: f64, p0: &[f64]) -> Vec<f64> {
    let d = c.len();
    let mut p = p0.to_vec();
    let mut g = vec![0.0; d];
    let mut step = 0.1 * r;
    let mut fp = l.gradient(&p, &mut g);
    for _ in 0..500 {
        // Tangential gradient.
        let u: Vec<f64> = p.iter().zip(c).map(|(a, b)| (a - b) / r).collect();
        let gu: f64 = g.iter().zip(&u).map(|(a, b)| a * b).sum();
        let gt: Vec<f64> = g.iter().zip(&u).map(|(a, b)| a - gu * b).collect();
        let gn = gt.iter().map(|v| v * v).sum::<f64>().sqrt();
        if gn < 1e-14 {
            break;
        }
        let q: Vec<f64> = p.iter().zip(&gt).map(|(a, b)| a - step * b / gn).collect();
        let nq = q
            .iter()
            .zip(c)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        let q: Vec<f64> = q.iter().zip(c).map(|(a, b)| b + r * (a - b) / nq).collect();
        let mut gq = vec![0.0; d];
        let fq = l.gradient(&q, &mut gq);
        if fq < fp {
            p = q;
            g = gq;
            fp = fq;
        } else {
            step *= 0.5;
            if step < 1e-14 * r {
                break;
            }
        }
    }
    p
}

/// (H1): θ* is the only critical point in D̄ and D is attracted to θ* (THEORY §3).
/// Certified by: ∇²L ≻ 0 on B̄(c, ρ) ⊇ X, and ∇L(θ)·(θ − c) > 0 on D̄ ∖ B(c, ρ).
/// Proof: `proofs/hypothesis-h1.md`.
fn check_h1(
    l: &Landscape,
    domain: &Domain,
    x: &[Interval],
    max_boxes: usize,
    boxes: &mut usize,
) -> Hypothesis {
    let c: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    let d = c.len();
    let rho_x = bnb::max_dist(x, &c);
    let (big, r_outer) = match domain {
        Domain::Interval { lo, hi } => ((c[0] - lo).max(hi - c[0]), None),
        Domain::Ball { radius, .. } => (*radius, Some(*radius)),
    };
    let fail = |detail: String| Hypothesis {
        name: "H1".into(),
        holds: false,
        detail,
    };
    let mut rho = big;
    let mut convex_rho = None;
    for _ in 0..40 {
        if rho <= rho_x {
            break;
        }
        let mut b: Vec<Interval> = c
            .iter()
            .map(|&ci| {
                iv(
                    (point(ci) - point(rho)).inf(),
                    (point(ci) + point(rho)).sup(),
                )
            })
            .collect();
        if let Domain::Interval { lo, hi } = domain {
            b[0] = b[0].intersection(iv(*lo, *hi));
        }
        let mut h = vec![point(0.0); d * d];
        l.hessian(&b, &mut h);
        if let Some(e) = sym_eig_bounds(&h, d) {
            if e.min.inf() > 0.0 {
                convex_rho = Some((rho, e.min.inf()));
                break;
            }
        }
        rho *= 0.5;
    }
    let Some((rho, lam)) = convex_rho else {
        return fail(format!(
            "no ball around the minimiser box (radius > {rho_x:.3e}) on which the Hessian is certified positive definite"
        ));
    };
    let covers_all = match domain {
        Domain::Ball { radius, .. } => rho >= *radius,
        Domain::Interval { lo, hi } => c[0] - rho <= *lo && c[0] + rho >= *hi,
    };
    let convex_note =
        format!("∇²L ≻ 0 (λ_min ≥ {lam:.6e}) on the ball of radius ρ = {rho:.6e} around c");
    let bbox = domain.bounding_box();
    if let (true, Domain::Ball { radius, .. }) = (covers_all, domain) {
        // ∇²L ⪰ λ on the convex D̄ and ∇L(θ*) = 0 give, for y on the sphere,
        // ∇L(y)·(y − θ*) ≥ λ|y − θ*|²; with y − c = (y − θ*) + (θ* − c):
        // ∇L(y)·(y − c) ≥ λ (r − ρ_X)² − sup_{D̄}|∇L| · ρ_X.
        let mut g = vec![point(0.0); d];
        l.gradient(&bbox, &mut g);
        let gnorm = g.iter().fold(point(0.0), |s, v| s + v.sqr()).sqrt().sup();
        let dist = (point(*radius) - point(rho_x)).inf();
        let margin = point(lam) * point(dist).sqr() - point(gnorm) * point(rho_x);
        if dist > 0.0 && margin.inf() > 0.0 {
            return Hypothesis {
                name: "H1".into(),
                holds: true,
                detail: format!(
                    "{convex_note} ⊇ D̄ (unique critical point); on ∂D, ∇L(θ)·(θ−c) ≥ λ_min (r − |θ*−c|)² − sup|∇L|·|θ*−c| > 0 (inward flow)"
                ),
            };
        }
    }
    if d > BNB_MAX_DIM {
        return fail(format!(
            "{convex_note}; the inward-flow condition ∇L·(θ−c) > 0 {} (d = {d} > {BNB_MAX_DIM}: no branch-and-bound)",
            if covers_all { "on ∂D was not certified by the convexity margin" } else { "on the annulus was not attempted" }
        ));
    }
    // The region D̄ ∖ B(c, inner) must contain ∂D (inward flow on the boundary).
    let inner = match domain {
        Domain::Ball { radius, .. } => rho.min(*radius * (1.0 - 1e-9)),
        Domain::Interval { lo, hi } => rho.min(c[0] - lo).min(hi - c[0]) * (1.0 - 1e-9),
    };
    let proof = bnb::prove_inward(l, bbox, &c, inner, r_outer, max_boxes);
    *boxes += proof.boxes;
    match proof.failure {
        None => Hypothesis {
            name: "H1".into(),
            holds: true,
            detail: format!(
                "{convex_note}; ∇L(θ)·(θ−c) > 0 on D̄ ∖ B(c, {inner:.6e}) ({} boxes); c = midpoint of the minimiser box",
                proof.boxes
            ),
        },
        Some(f) => fail(format!("{convex_note}; {f}")),
    }
}

/// Certified bounds on the spectrum of Σ over D̄: `(λ_min lower bound, λ_max upper bound)`,
/// or `None` when an enclosure fails. A constant Σ is enclosed once; a state-dependent Σ
/// by bisecting the bounding box of D̄ (boxes outside a ball domain are dropped) until
/// each box's λ_min bound is positive or the budget [`NOISE_MAX_BOXES`] is spent; the
/// bounds are the extremes over the final boxes, which cover D̄.
fn noise_spectrum(l: &Landscape, noise: &NoiseModel, domain: &Domain) -> Option<(f64, f64)> {
    let bbox = domain.bounding_box();
    let d = bbox.len();
    let eig = |b: &[Interval]| {
        let mut sig = vec![point(0.0); d * d];
        noise.covariance(l, b, &mut sig);
        sym_eig_bounds(&sig, d)
    };
    if noise.is_constant() {
        let e = eig(&bbox)?;
        return Some((e.min.inf(), e.max.sup()));
    }
    // The per-example covariance of a data loss costs O(N d²) per box, and bisection
    // cannot cover a box of dimension d > BNB_MAX_DIM finely anyway: one box there.
    let budget = if matches!(noise, NoiseModel::Data) && d > BNB_MAX_DIM {
        1
    } else {
        NOISE_MAX_BOXES
    };
    let mut stack = vec![bbox];
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut boxes = 0usize;
    while let Some(b) = stack.pop() {
        if let Domain::Ball { center, radius } = domain {
            if bnb::dist2(&b, center).inf() > point(*radius).sqr().sup() {
                continue;
            }
        }
        boxes += 1;
        let e = eig(&b);
        let ok = e.is_some_and(|e| e.min.inf() > 0.0);
        if !ok && boxes + stack.len() < budget {
            let (b1, b2) = bnb::bisect(&b);
            stack.push(b1);
            stack.push(b2);
            continue;
        }
        let e = e?;
        lo = lo.min(e.min.inf());
        hi = hi.max(e.max.sup());
    }
    Some((lo, hi))
}

/// Box budget for enclosing the spectrum of a state-dependent Σ over D̄.
pub const NOISE_MAX_BOXES: usize = 4096;

/// (H2): Σ uniformly positive definite and Lipschitz on D̄ (THEORY §3).
fn check_h2(l: &Landscape, noise: &NoiseModel, domain: &Domain) -> Hypothesis {
    let h = |holds: bool, detail: String| Hypothesis {
        name: "H2".into(),
        holds,
        detail,
    };
    match noise {
        NoiseModel::Isotropic { sigma } => h(
            *sigma > 0.0,
            format!("Σ = σ²I with σ = {sigma} > 0 is constant: λ_min(Σ) = σ² > 0 and Lipschitz"),
        ),
        _ => match noise_spectrum(l, noise, domain) {
            Some((lo, _)) if lo > 0.0 => h(
                true,
                format!(
                    "λ_min(Σ(θ)) ≥ {lo:.6e} > 0 on D̄ (interval eigenvalue bounds over boxes covering D̄); Σ is {} on D̄",
                    if noise.is_constant() { "constant" } else { "C¹ (∇²L is), hence Lipschitz" }
                ),
            ),
            Some((lo, _)) => h(false, format!("λ_min(Σ(θ)) over D̄ is only bounded below by {lo:.6e} ≤ 0: positive definiteness not certified")),
            None => h(false, "the eigenvalues of Σ over D̄ could not be enclosed".into()),
        },
    }
}

/// The exact linear case (THEORY E8, E10–E12): L = ½θᵀHθ (the quadratic built-in), constant
/// Σ, domain centred exactly at θ* = 0. The stationary covariance C solves the Lyapunov
/// equation HC + CH = Σ (continuous) or the Stein equation C = ACAᵀ + ηΣ, A = I − ηH
/// (discrete); V(y) = ½yᵀC⁻¹y, so on a ball of radius r, V̄ = r²/(2λ_max(C)), and on a 1-D
/// interval V̄ = min(lo², hi²)/(2C). C is enclosed by a verified linear solve.
/// Proof: `proofs/linear-discrete-barrier.md` (§ constant noise).
fn linear_barrier(
    l: &Landscape,
    domain: &Domain,
    noise: &NoiseModel,
    min: &Minimizer,
    eta: Option<f64>,
) -> Option<Result<Interval, String>> {
    let Landscape::Quadratic { .. } = l else {
        return None;
    };
    if !noise.is_constant() {
        return None;
    }
    let d = l.dim();
    if d > LINEAR_MAX_DIM {
        return Some(Err(format!(
            "the Lyapunov/Stein system has {} unknowns (d = {d} > {LINEAR_MAX_DIM})",
            d * d
        )));
    }
    let r2 = match domain {
        Domain::Ball { center, radius } if center.iter().all(|&v| v == 0.0) => point(*radius).sqr(),
        Domain::Interval { lo, hi } => point(*lo).sqr().min(point(*hi).sqr()),
        _ => return Some(Err("the ball is not centred exactly at θ* = 0".into())),
    };
    let zero = vec![point(0.0); d];
    let mut h = vec![point(0.0); d * d];
    l.hessian(&zero, &mut h);
    let mut sig = vec![point(0.0); d * d];
    noise.covariance(l, &zero, &mut sig);
    let n = d * d;
    let mut a = vec![point(0.0); n * n];
    let mut b = sig.clone();
    match eta {
        None => {
            // (HC + CH)_ij = Σ_k H_ik C_kj + Σ_k C_ik H_kj.
            for i in 0..d {
                for j in 0..d {
                    for k in 0..d {
                        a[(i * d + j) * n + k * d + j] =
                            a[(i * d + j) * n + k * d + j] + h[i * d + k];
                        a[(i * d + j) * n + i * d + k] =
                            a[(i * d + j) * n + i * d + k] + h[k * d + j];
                    }
                }
            }
        }
        Some(eta) => {
            if !((point(eta) * min.eig.max).sup() < 2.0 && (point(eta) * min.eig.min).inf() > 0.0) {
                return Some(Err("0 < ηλ < 2 is not certified for every eigenvalue: the discrete iteration may be unstable (E12)".into()));
            }
            // C − (I − ηH) C (I − ηH)ᵀ = ηΣ: coefficient of C_kl in equation (i, j) is
            // δ_ik δ_jl − A_ik A_jl.
            let am: Vec<Interval> = (0..d * d)
                .map(|t| {
                    if t / d == t % d {
                        point(1.0) - point(eta) * h[t]
                    } else {
                        -(point(eta) * h[t])
                    }
                })
                .collect();
            for i in 0..d {
                for j in 0..d {
                    for k in 0..d {
                        for m in 0..d {
                            let delta = if i == k && j == m {
                                point(1.0)
                            } else {
                                point(0.0)
                            };
                            a[(i * d + j) * n + k * d + m] = delta - am[i * d + k] * am[j * d + m];
                        }
                    }
                }
            }
            for v in b.iter_mut() {
                *v = point(eta) * *v;
            }
        }
    }
    let c = match verified_solve(&a, &b, n) {
        Some(c) => c,
        None => {
            return Some(Err(
                "the Lyapunov/Stein equation could not be solved with verification".into(),
            ))
        }
    };
    let cmax = match sym_eig_bounds(&c, d) {
        Some(e) if e.max.inf() > 0.0 => e.max,
        _ => return Some(Err("λ_max(C) could not be enclosed away from 0".into())),
    };
    Some(Ok(r2 / (point(2.0) * cmax)))
}

/// V̄ for continuous SGD and the steepness enclosures, for any noise model:
/// - isotropic: E7, V̄ = 2ΔL/σ² (upper end needs (H1));
/// - linear (quadratic built-in, constant Σ): E8, V̄ = r²/(2λ_max(C)), HC + CH = Σ;
/// - otherwise: 2 s⁻ ΔL ≤ V̄ ≤ 2 s⁺ ΔL (Lemma HJ with W = 2s⁻(L − L*); Lemma P along the
///   reversed gradient flow from the lowest boundary point, which needs (H1)), with
///   s⁻ ≥ 1/sup λ_max(Σ) and s⁺ ≤ 1/inf λ_min(Σ) over D̄ (Rayleigh).
/// Proofs: `proofs/isotropic-barrier.md`, `proofs/steepness-bounds.md`,
/// `proofs/linear-discrete-barrier.md`.
#[allow(clippy::too_many_arguments)]
fn continuous_barrier(
    l: &Landscape,
    domain: &Domain,
    noise: &NoiseModel,
    min: &Minimizer,
    depth: Interval,
    exit_point: &[f64],
    hypotheses: &[Hypothesis],
    proofs: &mut Vec<String>,
) -> (Bound, Steepness) {
    let h1 = hypotheses.first().is_some_and(|h| h.holds);
    let d = l.dim();
    // Steepness: Rayleigh bounds over D̄, and point values at the exit point.
    let spec_bounds = noise_spectrum(l, noise, domain);
    let (s_minus, s_plus, s_method) = match (noise.isotropic_sigma(), spec_bounds) {
        (Some(sigma), _) => {
            let s = point(1.0) / point(sigma).sqr();
            (s, s, "isotropic: s = s* = 1/σ² everywhere (E9)".to_string())
        }
        (None, Some((lmin, lmax))) if lmin > 0.0 => {
            let lo_minus = (point(1.0) / point(lmax)).inf();
            let hi_plus = (point(1.0) / point(lmin)).sup();
            // s⁻ ≤ s(θ₀) and s⁺ ≥ s*(θ₀) at any θ₀ ∈ D̄ with ∇L(θ₀) ≠ 0.
            let (mut hi_minus, mut lo_plus) = (hi_plus, lo_minus);
            let p: Vec<Interval> = exit_point.iter().map(|&v| point(v)).collect();
            let mut g = vec![point(0.0); d];
            l.gradient(&p, &mut g);
            let mut sig = vec![point(0.0); d * d];
            noise.covariance(l, &p, &mut sig);
            let g2 = g.iter().fold(point(0.0), |a, v| a + v.sqr());
            if g2.inf() > 0.0 {
                let sg = crate::num::imat::matvec(&sig, &g, d, d);
                let gsg = g.iter().zip(&sg).fold(point(0.0), |a, (x, y)| a + *x * *y);
                hi_minus = hi_minus.min((g2 / gsg).sup());
                if let Some(u) = verified_solve(&sig, &g, d) {
                    let gu = g.iter().zip(&u).fold(point(0.0), |a, (x, y)| a + *x * *y);
                    lo_plus = lo_plus.max((gu / g2).inf());
                }
            }
            (
                iv(lo_minus, hi_minus.max(lo_minus)),
                iv(lo_plus.min(hi_plus), hi_plus),
                "Rayleigh bounds 1/λ_max(Σ) ≤ s ≤ s* ≤ 1/λ_min(Σ) over D̄; inner ends from the exit point (E9)".to_string(),
            )
        }
        _ => (
            iv(0.0, f64::INFINITY),
            iv(0.0, f64::INFINITY),
            "not available: Σ is not certified positive definite on D̄".to_string(),
        ),
    };
    let steep = Steepness {
        s_minus,
        s_plus,
        method: s_method,
    };
    if let Some(sigma) = noise.isotropic_sigma() {
        proofs.push("proofs/isotropic-barrier.md".into());
        let e7 = point(2.0) * depth / point(sigma).sqr();
        let b = if h1 {
            Bound {
                value: Some(e7),
                method: "E7: V̄ = 2ΔL/σ² for isotropic noise (proofs/isotropic-barrier.md)".into(),
            }
        } else {
            Bound {
                value: Some(iv(e7.inf(), f64::INFINITY)),
                method: "E7 lower bound 2ΔL/σ² only: (H1) not certified, so no upper bound (proofs/isotropic-barrier.md)".into(),
            }
        };
        return (b, steep);
    }
    if let Some(Ok(v)) = linear_barrier(l, domain, noise, min, None) {
        proofs.push("proofs/linear-discrete-barrier.md".into());
        return (
            Bound {
                value: Some(v),
                method: "E8, linear case with constant Σ: V̄ = r²/(2λ_max(C)), HC + CH = Σ by a verified solve (proofs/linear-discrete-barrier.md)".into(),
            },
            steep,
        );
    }
    proofs.push("proofs/steepness-bounds.md".into());
    let lo = (point(2.0) * point(steep.s_minus.inf()) * point(depth.inf())).inf();
    let hi = if h1 {
        (point(2.0) * point(steep.s_plus.sup()) * point(depth.sup())).sup()
    } else {
        f64::INFINITY
    };
    let method = if h1 {
        "steepness bound 2s⁻ΔL ≤ V̄ ≤ 2s⁺ΔL (Lemma HJ with W = 2s⁻(L − L*); Lemma P along the reversed gradient flow) (proofs/steepness-bounds.md)"
    } else {
        "steepness lower bound 2s⁻ΔL only: (H1) not certified, so no upper bound (proofs/steepness-bounds.md)"
    };
    (
        Bound {
            value: Some(iv(lo, hi.max(lo))),
            method: method.into(),
        },
        steep,
    )
}

/// Largest dimension for the dense Lyapunov/Stein solve (d² unknowns).
pub const LINEAR_MAX_DIM: usize = 12;

/// V̄_η for the linear case (quadratic built-in, isotropic noise, domain centred at θ* = 0):
/// V̄_η = min_{y ∉ D} ½ yᵀ C_η⁻¹ y with C_η⁻¹ = H(2I − ηH)/σ² (proofs/linear-discrete-barrier.md).
fn discrete_barrier(
    l: &Landscape,
    domain: &Domain,
    min: &Minimizer,
    noise: &NoiseModel,
    eta: f64,
) -> Bound {
    let unavailable = |why: &str| Bound {
        value: None,
        method: why.to_string(),
    };
    let Some(sigma) = noise.isotropic_sigma() else {
        return match linear_barrier(l, domain, noise, min, Some(eta)) {
            Some(Ok(v)) => Bound {
                value: Some(v),
                method: "E10–E12, linear case with constant Σ: V̄_η = r²/(2λ_max(C_η)), C_η = ACAᵀ + ηΣ by a verified solve (proofs/linear-discrete-barrier.md)".into(),
            },
            Some(Err(why)) => unavailable(&format!("linear case not certified: {why}")),
            None => unavailable("not available for this landscape and noise in this version: needs the discrete Hamilton–Jacobi certificate (THEORY E11)"),
        };
    };
    let Landscape::Quadratic { .. } = l else {
        return unavailable("not available for this landscape in this version: needs the discrete Hamilton–Jacobi certificate (THEORY E11)");
    };
    let lmin = min.eig.min;
    let lmax = min.eig.max;
    let e = point(eta);
    if !((e * lmax).sup() < 2.0) {
        return unavailable("ηλ_max ≥ 2 is not excluded: the minimum may be linearly unstable for discrete SGD, no exponential escape (E12)");
    }
    // f(λ) = λ(2 − ηλ) is concave, so its minimum over the spectrum is at λ_min or λ_max.
    let f = |lam: Interval| lam * (point(2.0) - e * lam);
    let fmin = f(lmin).min(f(lmax));
    let s2 = point(sigma).sqr();
    let r2 = match domain {
        Domain::Ball { center, radius } if center.iter().all(|&v| v == 0.0) => point(*radius).sqr(),
        Domain::Interval { lo, hi } => point(*lo).sqr().min(point(*hi).sqr()),
        _ => return unavailable("the ball is not centred exactly at θ* = 0"),
    };
    let v = r2 * fmin / (point(2.0) * s2);
    Bound {
        value: Some(v),
        method: "E12 (linear case): V̄_η = min_{y∉D} ½ yᵀH(2I − ηH)y/σ² (proofs/linear-discrete-barrier.md)".into(),
    }
}
