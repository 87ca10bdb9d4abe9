//! Certified enclosures (outward-rounded interval arithmetic only): the minimiser,
//! L*, the sharpness, the depth ΔL, the hypothesis (H1)/(H2) checks and the barrier
//! V̄ (THEORY §3–§5). Each bound names its proof in `proofs/`.

pub mod bnb;
pub mod boxdomain;
pub mod deadline;
pub mod discrete;
pub mod evidence;
pub mod exit_time;
pub mod hj;
pub mod minimizer;
pub mod path;
pub mod steepness;

use crate::landscape::NoiseModel;
use crate::landscape::{Domain, Landscape, Problem};
use crate::num::imat::verified_solve;
use crate::num::imat::{approx_extreme_eigvecs, sym_eig_bounds};
use crate::num::{iv, point};
use crate::spec::{DomainSpec, Spec};
pub use discrete::{DiscreteBarrier, HjCertificate};
use evidence::{
    fv, DepthEvidence, Evidence, H1Evidence, InwardEvidence, KrawczykEvidence, SpectrumEvidence,
    TaylorEvidence, TreeRecorder, F,
};
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
    /// Boxes processed by the steepness branch-and-bound (0 when not run).
    pub boxes: usize,
}

/// How each end of the continuous barrier enclosure was obtained.
#[derive(Clone, Debug, PartialEq)]
pub struct BarrierMethods {
    /// The lower end V_lo (exact formula E7/E8 or a Lemma HJ certificate).
    pub lower: String,
    /// The upper end V_hi.
    pub upper: String,
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
    /// V̄(D) for continuous SGD (`barrier.method` summarises both ends).
    pub barrier: Bound,
    /// The methods of the lower and upper ends of `barrier`.
    pub barrier_methods: BarrierMethods,
    /// Which bound gave the lower end: "E7", "E8", "C-loss", "C-quad" or "none".
    pub barrier_lower_family: String,
    /// Which bound gave the upper end: "E7", "E8", "steepness", "Lemma P" or "none".
    pub barrier_upper_family: String,
    /// The Lemma HJ certificates computed (C-loss, C-quad), with their parameters.
    pub hj: Vec<hj::HjCertificate>,
    /// Steepness enclosures s⁻(D), s⁺(D) (E9).
    pub steepness: Steepness,
    /// The Lemma P path certificate, when it was computed (the barrier enclosure was not
    /// already tight); `barrier`'s upper end is at most its bound.
    pub barrier_path: Option<path::PathBound>,
    /// V̄_η(D) for discrete SGD, per learning rate of the spec.
    pub barrier_discrete: Vec<DiscreteBarrier>,
    /// Boxes processed by branch-and-bound searches.
    pub boxes: usize,
    /// Proof files the certified numbers rely on.
    pub proofs: Vec<String>,
    /// The evidence behind the bounds, for a certificate (`src/certificate/`).
    pub evidence: Evidence,
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
/// Relative distance by which the f64 exit point is moved from the sphere towards the
/// centre, so that it is certified to lie in D̄ (rounding of the radial projection is
/// ~1e-16 relative).
pub const EXIT_POINT_INSET: f64 = 1e-12;
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
        DomainSpec::Box { ref lo, ref hi } => Domain::Box {
            lo: lo.clone(),
            hi: hi.clone(),
        },
    };
    // θ* must lie in the open domain.
    let inside = match &domain {
        Domain::Interval { lo, hi } => x[0].inf() > *lo && x[0].sup() < *hi,
        Domain::Ball { center, radius } => bnb::max_dist(x, center) < *radius,
        Domain::Box { lo, hi } => boxdomain::strictly_inside(x, lo, hi),
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
    let mut evidence = Evidence {
        krawczyk: Some(KrawczykEvidence {
            candidate: fv(&min.candidate),
            eps: F(min.radius),
            y: fv(&min.precond),
        }),
        depth: Some(DepthEvidence::Endpoints),
        ..Evidence::default()
    };

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
            let (dep, method, ep, nb, ev) =
                ball_depth(l, center, *radius, x, lstar, spec.max_boxes);
            boxes += nb;
            evidence.depth = Some(ev);
            (dep, method, ep)
        }
        Domain::Box { lo, hi } => {
            let (dep, method, ep, nb, ev) =
                boxdomain::box_depth(l, lo, hi, x, lstar, spec.max_boxes);
            evidence.depth = Some(ev.unwrap_or(DepthEvidence::NotRecorded));
            boxes += nb;
            (dep, method, ep)
        }
    };
    proofs.push("proofs/depth-branch-and-bound.md".into());

    let hypotheses = vec![
        check_h1(l, &domain, x, spec.max_boxes, &mut boxes, &mut evidence.h1),
        check_h2(l, &problem.noise, &domain),
    ];
    if let Some((b, ev)) = noise_spectrum_evidence(l, &problem.noise, &domain) {
        evidence.spectrum_bounds = Some(b);
        evidence.spectrum = Some(ev);
    }
    proofs.push("proofs/hypothesis-h1.md".into());

    let noise = &problem.noise;
    let mut cb = continuous_barrier(
        l,
        &domain,
        noise,
        &min,
        depth,
        &exit_point,
        &hypotheses,
        spec.max_boxes,
        &mut proofs,
    );
    boxes += cb.boxes;
    // Lemma P (upper bound by the certified geometric action of a path): see
    // `path::tighten_upper`; it only ever lowers the upper end of the barrier, and says
    // so in the method text, whose new part becomes the upper end's method.
    let before = cb.bound.method.clone();
    let skip = expensive_searches_skipped(l, noise, hypotheses.get(1).is_some_and(|h| h.holds));
    let barrier_path = match &skip {
        None => path::tighten_upper(
            &mut cb.bound,
            l,
            noise,
            &domain,
            &min.x,
            &exit_point,
            &mut proofs,
        ),
        Some(why) => {
            cb.bound.method = format!("{}; Lemma P path bound {why}", cb.bound.method);
            None
        }
    };
    if let (Some(pb), Some(v)) = (&barrier_path, cb.bound.value) {
        if pb.upper() == v.sup() && v.sup().is_finite() {
            cb.upper_family = "Lemma P".into();
        }
    }
    evidence.steepness = cb.steepness_evidence.take();
    if let Some(added) = cb.bound.method.strip_prefix(&format!("{before}; ")) {
        let h2 = hypotheses.get(1).is_some_and(|h| h.holds);
        cb.methods.upper = match added.strip_prefix("upper end: ") {
            // Lemma P itself needs neither hypothesis, but the barrier is the theorem's
            // exponent only under (H1), (H2): say so when (H2) failed.
            Some(lemma_p) if !h2 => {
                format!("COMPUTED UNDER A FAILED HYPOTHESIS ((H2) not certified): {lemma_p}")
            }
            Some(lemma_p) => lemma_p.to_string(),
            None => format!("{}; {added}", cb.methods.upper),
        };
    }
    // In high dimension the general discrete certificates (an interval linear solve per
    // box) take minutes; they are not computed when no discrete dynamics is simulated.
    let no_discrete = l.dim() > discrete::SKIP_GENERAL_DIM
        && !spec
            .monte_carlo
            .dynamics
            .iter()
            .any(|d| !matches!(d, crate::spec::DynamicsSpec::Continuous));
    let barrier_discrete = spec
        .eta
        .iter()
        .map(|&eta| match &skip {
            None if no_discrete => DiscreteBarrier::unavailable(
                eta,
                format!(
                    "not computed: d = {} > {} and no discrete dynamics is simulated",
                    l.dim(),
                    discrete::SKIP_GENERAL_DIM
                ),
            ),
            None => discrete::discrete_barrier(
                l,
                &domain,
                &min,
                noise,
                eta,
                spec.max_boxes,
                &exit_point,
            ),
            Some(why) => DiscreteBarrier::unavailable(eta, format!("E11/E10 certificates {why}")),
        })
        .collect::<Vec<_>>();
    boxes += barrier_discrete.iter().map(|b| b.boxes).sum::<usize>();
    if barrier_discrete
        .iter()
        .any(|b| b.bound.method.contains("proofs/linear-discrete-barrier.md"))
    {
        proofs.push("proofs/linear-discrete-barrier.md".into());
    }
    if barrier_discrete.iter().any(|b| b.hj_lower.is_some()) {
        proofs.push("proofs/discrete-hj-certificate.md".into());
    }
    if barrier_discrete.iter().any(|b| b.action_upper.is_some()) {
        proofs.push("proofs/discrete-action-upper-bound.md".into());
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
        barrier: cb.bound,
        barrier_methods: cb.methods,
        barrier_lower_family: cb.lower_family,
        barrier_upper_family: cb.upper_family,
        hj: cb.hj,
        steepness: cb.steepness,
        barrier_path,
        barrier_discrete,
        boxes,
        proofs,
        evidence,
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
) -> (Interval, String, Vec<f64>, usize, DepthEvidence) {
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
    // The point whose radial projection gives the upper bound (certificate evidence).
    let mut witness = c.to_vec();
    for p in &cands {
        if let Some(u) = bnb::sphere_point_upper(l, p, c, r) {
            if u < best.0 {
                witness = p.clone();
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
            witness = refined.clone();
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
    let mut taylor = None;
    let mut sphere = None;
    if let Some(eig) = sym_eig_bounds(&hb, d) {
        let lam = eig.min.inf();
        let gap = (point(r) - point(bnb::max_dist(x, c))).inf();
        if lam > 0.0 && gap > 0.0 {
            lower = (point(0.5) * point(lam) * point(gap).sqr()).inf();
            taylor = Some(TaylorEvidence {
                lambda_lo: F(lam),
                gap: F(gap),
            });
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
            sphere = sm.tree.clone();
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
            if let Some(w) = &sm.upper_witness {
                witness = w.clone();
            }
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
    let ev = DepthEvidence::Ball {
        taylor,
        sphere,
        upper_point: fv(&witness),
    };
    // The exit point (f64) is moved towards c so that it lies in D̄ despite rounding: the
    // steepness inner bounds evaluate s, s* there (E9 needs θ₀ ∈ D̄).
    let ep: Vec<f64> = best
        .1
        .iter()
        .zip(c)
        .map(|(p, ci)| ci + (p - ci) * (1.0 - EXIT_POINT_INSET))
        .collect();
    (iv(lower, upper), method, ep, nboxes, ev)
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
    evidence: &mut Option<H1Evidence>,
) -> Hypothesis {
    let c: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    let d = c.len();
    let rho_x = bnb::max_dist(x, &c);
    let (big, r_outer) = match domain {
        Domain::Interval { lo, hi } => ((c[0] - lo).max(hi - c[0]), None),
        Domain::Ball { radius, .. } => (*radius, Some(*radius)),
        Domain::Box { lo, hi } => return boxdomain::check_h1(l, lo, hi, x, max_boxes, boxes),
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
        Domain::Box { .. } => unreachable!("boxes returned above"),
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
            *evidence = Some(H1Evidence {
                rho: F(rho),
                lambda_lo: F(lam),
                inward: InwardEvidence::Margin,
            });
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
        Domain::Box { .. } => unreachable!("boxes returned above"),
    };
    let proof = bnb::prove_inward(l, bbox, &c, inner, r_outer, max_boxes);
    *boxes += proof.boxes;
    if let (None, Some(tree)) = (&proof.failure, proof.tree) {
        *evidence = Some(H1Evidence {
            rho: F(rho),
            lambda_lo: F(lam),
            inward: InwardEvidence::Tree {
                inner: F(inner),
                tree,
            },
        });
    }
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
    noise_spectrum_evidence(l, noise, domain).map(|(b, _)| b)
}

/// [`noise_spectrum`] with its evidence (the bisection tree for a state-dependent Σ).
fn noise_spectrum_evidence(
    l: &Landscape,
    noise: &NoiseModel,
    domain: &Domain,
) -> Option<((f64, f64), SpectrumEvidence)> {
    let bbox = domain.bounding_box();
    let d = bbox.len();
    let eig = |b: &[Interval]| {
        let mut sig = vec![point(0.0); d * d];
        noise.covariance(l, b, &mut sig);
        sym_eig_bounds(&sig, d)
    };
    if noise.is_constant() {
        let e = eig(&bbox)?;
        let ev = if noise.isotropic_sigma().is_some() {
            SpectrumEvidence::Isotropic
        } else {
            SpectrumEvidence::Constant
        };
        return Some(((e.min.inf(), e.max.sup()), ev));
    }
    // The per-example covariance of a data loss costs O(N d²) per box, and bisection
    // cannot cover a box of dimension d > BNB_MAX_DIM finely anyway: one box there.
    let budget = if matches!(noise, NoiseModel::Data) && d > BNB_MAX_DIM {
        1
    } else {
        NOISE_MAX_BOXES
    };
    let (mut rec, root) = TreeRecorder::new(&bbox);
    let mut stack = vec![(root, bbox)];
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut boxes = 0usize;
    while let Some((id, b)) = stack.pop() {
        if let Domain::Ball { center, radius } = domain {
            if bnb::dist2(&b, center).inf() > point(*radius).sqr().sup() {
                rec.excluded(id);
                continue;
            }
        }
        boxes += 1;
        let e = eig(&b);
        let ok = e.is_some_and(|e| e.min.inf() > 0.0);
        if !ok && boxes + stack.len() < budget {
            let [c1, c2] = rec.split(id, &b);
            stack.push(c1);
            stack.push(c2);
            continue;
        }
        let e = e?;
        rec.proved(id, Some(iv(e.min.inf(), e.max.sup())));
        lo = lo.min(e.min.inf());
        hi = hi.max(e.max.sup());
    }
    Some(((lo, hi), SpectrumEvidence::Tree(rec.finish()?)))
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
pub(crate) fn linear_barrier(
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
        Domain::Box { .. } => return Some(Err("not available for box domains".into())),
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

/// The continuous barrier with its provenance.
pub struct ContinuousBarrier {
    pub bound: Bound,
    pub methods: BarrierMethods,
    pub lower_family: String,
    pub hj: Vec<hj::HjCertificate>,
    pub steepness: Steepness,
    /// The steepness search trees (certificate evidence), when the search ran.
    pub steepness_evidence: Option<evidence::SteepnessEvidence>,
    /// Which bound gave the upper end: "E7", "E8", "steepness" or "none".
    pub upper_family: String,
    pub boxes: usize,
}

/// V̄ for continuous SGD and the steepness enclosures, for any noise model.
/// Lower end: the best of
/// - E7 (isotropic, V̄ = 2ΔL/σ²; `proofs/isotropic-barrier.md`),
/// - E8 (quadratic built-in, constant Σ: V̄ = r²/(2λ_max(C)), HC + CH = Σ;
///   `proofs/linear-discrete-barrier.md`),
/// - Lemma HJ with C-loss, V̄ ≥ 2s⁻ΔL (s⁻ by branch-and-bound, `steepness.rs`), and
///   C-quad (`hj.rs`); both for every non-isotropic noise (for isotropic noise C-loss is
///   E7).
///
/// Upper end: E7/E8 when they apply, else 2s⁺ΔL (Lemma P along the reversed gradient
/// flow, needs (H1); +∞ without it). Proofs: `proofs/hamilton-jacobi-lemma.md`,
/// `proofs/quadratic-hj-certificate.md`, `proofs/steepness-bounds.md`.
#[allow(clippy::too_many_arguments)]
fn continuous_barrier(
    l: &Landscape,
    domain: &Domain,
    noise: &NoiseModel,
    min: &Minimizer,
    depth: Interval,
    exit_point: &[f64],
    hypotheses: &[Hypothesis],
    max_boxes: usize,
    proofs: &mut Vec<String>,
) -> ContinuousBarrier {
    let h1 = hypotheses.first().is_some_and(|h| h.holds);
    let h2 = hypotheses.get(1).is_some_and(|h| h.holds);
    let mut boxes = 0usize;
    let mut steep_ev = None;
    // Steepness (E9).
    let steep = if let Some(sigma) = noise.isotropic_sigma() {
        let s = point(1.0) / point(sigma).sqr();
        Steepness {
            s_minus: s,
            s_plus: s,
            method: "isotropic: s = s* = 1/σ² everywhere (E9)".to_string(),
            boxes: 0,
        }
    } else if h2 {
        let e = steepness::steepness_enclosure(
            l,
            noise,
            domain,
            &min.x,
            &[exit_point.to_vec()],
            max_boxes,
        );
        boxes += e.boxes;
        steep_ev = Some(evidence::SteepnessEvidence {
            inner: F(e.inner_radius),
            minus: e.minus_tree.clone(),
            plus: e.plus_tree.clone(),
            witnesses: [&e.minus_point, &e.plus_point]
                .into_iter()
                .flatten()
                .map(|p| fv(p))
                .collect(),
        });
        Steepness {
            s_minus: e.s_minus,
            s_plus: e.s_plus,
            method: format!(
                "interval branch-and-bound of s and s* over D̄ ∖ B̄(c, {:.3e}) ({} boxes{}), Rayleigh bounds 1/λ_max(Σ) ≤ s ≤ s* ≤ 1/λ_min(Σ) inside the ball; inner ends from points of D̄ (E9, proofs/steepness-bounds.md)",
                e.inner_radius,
                e.boxes,
                if e.converged { "" } else { ", budget reached" }
            ),
            boxes: e.boxes,
        }
    } else {
        Steepness {
            s_minus: iv(0.0, f64::INFINITY),
            s_plus: iv(0.0, f64::INFINITY),
            method: "not available: Σ is not certified positive definite on D̄ ((H2) failed)"
                .to_string(),
            boxes: 0,
        }
    };
    let mut hjs = Vec::new();
    // Candidates for the lower end: (value, family, method); exact formulas first so
    // that they win ties.
    let mut lowers: Vec<(f64, String, String)> = Vec::new();
    let mut upper: Option<(f64, String)> = None;
    let mut upper_family = "none";
    let mut summary: Option<String> = None;
    if let Some(sigma) = noise.isotropic_sigma() {
        proofs.push("proofs/isotropic-barrier.md".into());
        let e7 = point(2.0) * depth / point(sigma).sqr();
        lowers.push((
            e7.inf(),
            "E7".into(),
            "E7: V̄ ≥ 2ΔL/σ² (Lemma HJ with W = 2(L − L*)/σ², proofs/isotropic-barrier.md)".into(),
        ));
        if h1 {
            upper_family = "E7";
            upper = Some((
                e7.sup(),
                "E7: V̄ ≤ 2ΔL/σ² (reversed gradient flow, needs (H1); proofs/isotropic-barrier.md)"
                    .into(),
            ));
            summary =
                Some("E7: V̄ = 2ΔL/σ² for isotropic noise (proofs/isotropic-barrier.md)".into());
        } else {
            summary = Some("E7 lower bound 2ΔL/σ² only: (H1) not certified, so no upper bound (proofs/isotropic-barrier.md)".into());
        }
    } else if let Some(Ok(v)) = linear_barrier(l, domain, noise, min, None) {
        proofs.push("proofs/linear-discrete-barrier.md".into());
        let m = "E8, linear case with constant Σ: V̄ = r²/(2λ_max(C)), HC + CH = Σ by a verified solve (proofs/linear-discrete-barrier.md)";
        lowers.push((v.inf(), "E8".into(), m.into()));
        upper_family = "E8";
        upper = Some((v.sup(), m.into()));
    }
    let exact = !lowers.is_empty();
    // The Lemma HJ families for every non-isotropic noise (for E8 they confirm the exact
    // value; for isotropic noise C-loss is E7 itself).
    if noise.isotropic_sigma().is_none() {
        if let Some(c) = hj::c_loss(steep.s_minus.inf(), depth) {
            proofs.push("proofs/steepness-bounds.md".into());
            proofs.push("proofs/hamilton-jacobi-lemma.md".into());
            lowers.push((c.lower, "C-loss".into(), c.detail.clone()));
            hjs.push(c);
        }
        let quad = match expensive_searches_skipped(l, noise, h2) {
            None => hj::c_quad(l, noise, domain, &min.x, max_boxes),
            Some(why) => Err(why),
        };
        match quad {
            Ok(c) => {
                boxes += c.boxes;
                if !proofs
                    .iter()
                    .any(|p| p == "proofs/hamilton-jacobi-lemma.md")
                {
                    proofs.push("proofs/hamilton-jacobi-lemma.md".into());
                }
                proofs.push("proofs/quadratic-hj-certificate.md".into());
                lowers.push((c.lower, "C-quad".into(), c.detail.clone()));
                hjs.push(c);
            }
            Err(why) => lowers.push((0.0, "none".into(), format!("C-quad not certified: {why}"))),
        }
        if !exact && h1 && steep.s_plus.sup().is_finite() {
            if !proofs.iter().any(|p| p == "proofs/steepness-bounds.md") {
                proofs.push("proofs/steepness-bounds.md".into());
            }
            upper_family = "steepness";
            upper = Some((
                (point(2.0) * point(steep.s_plus.sup()) * point(depth.sup())).sup(),
                "2s⁺ΔL (Lemma P along the reversed gradient flow from the lowest boundary point, needs (H1); proofs/steepness-bounds.md)".into(),
            ));
        }
    }
    // The best lower end (first wins ties); V̄ ≥ 0 always.
    let mut best = (
        0.0f64,
        "none".to_string(),
        "trivial: V̄ ≥ 0 (no certificate)".to_string(),
    );
    for (v, fam, m) in &lowers {
        if fam != "none" && *v > best.0 {
            best = (*v, fam.clone(), m.clone());
        }
    }
    let (lo, lower_family, mut lower_method) = best;
    if noise.isotropic_sigma().is_none() {
        // Name the certificates that lost, or why one is missing.
        let others: Vec<String> = lowers
            .iter()
            .filter(|(_, f, _)| *f != lower_family)
            .map(|(v, f, m)| {
                if f == "none" {
                    m.clone()
                } else {
                    format!("{f} gave {v:.6e}")
                }
            })
            .collect();
        if !others.is_empty() {
            lower_method = format!("{lower_method} [{}]", others.join("; "));
        }
    }
    if !h2 && noise.isotropic_sigma().is_none() {
        lower_method = format!(
            "COMPUTED UNDER A FAILED HYPOTHESIS ((H2) not certified: Lemma HJ needs Σ ≻ 0 on D̄): {lower_method}"
        );
    }
    let (hi, upper_method) = match upper {
        Some(u) => u,
        None => (
            f64::INFINITY,
            if h1 && !h2 {
                "none: (H2) not certified, so s⁺ is not bounded".to_string()
            } else if h1 {
                "none: s⁺ is not bounded".to_string()
            } else {
                "none: (H1) not certified, so no upper bound".to_string()
            },
        ),
    };
    let methods = BarrierMethods {
        lower: lower_method,
        upper: upper_method,
    };
    let method =
        summary.unwrap_or_else(|| format!("lower: {}; upper: {}", methods.lower, methods.upper));
    ContinuousBarrier {
        bound: Bound {
            value: Some(iv(lo, hi.max(lo))),
            method,
        },
        methods,
        lower_family,
        hj: hjs,
        steepness: steep,
        steepness_evidence: steep_ev,
        upper_family: upper_family.to_string(),
        boxes,
    }
}

/// `Some(reason)` when the C-quad, Lemma P and E11/E10 searches are not attempted: for
/// the data covariance every interval evaluation of Σ costs O(N d²) over the whole data
/// set; in d > [`BNB_MAX_DIM`] the searches do not bisect, and without (H2) their bounds
/// would be labelled anyway, so they would spend minutes to certify little. The bounds they would give are then reported as not
/// available, never guessed.
fn expensive_searches_skipped(l: &Landscape, noise: &NoiseModel, h2: bool) -> Option<String> {
    let d = l.dim();
    if !matches!(noise, NoiseModel::Data) {
        return None;
    }
    if d > BNB_MAX_DIM {
        return Some(format!(
            "not attempted: the data covariance costs O(N d²) per interval evaluation and the searches do not bisect in d = {d} > {BNB_MAX_DIM} (limit of this version)"
        ));
    }
    (!h2).then(|| {
        "not attempted: (H2) is not certified for the data covariance, so any bound would be labelled as computed under a failed hypothesis, and each interval evaluation costs O(N d²) (limit of this version)".to_string()
    })
}

/// Largest dimension for the dense Lyapunov/Stein solve (d² unknowns).
pub const LINEAR_MAX_DIM: usize = 12;
