//! The discrete barrier V̄_η(D) of Gaussian SGD (THEORY §5, E1, E10–E12), certified for any
//! landscape and noise model:
//! - lower end: the discrete Hamilton–Jacobi certificate (E11) with the quadratic family
//!   W = γ·½(x − c)ᵀP(x − c), P = C⁻¹ from the Stein equation C = ACAᵀ + ηΣ(c), A = I − ηH(c)
//!   (f64 at the midpoint c of the minimiser box, a guide only), γ the largest value for
//!   which the explicit condition ½ m(x)ᵀ(P_γ⁻¹ − ηΣ(x))⁻¹m(x) ≤ W(x) is certified by
//!   interval branch-and-bound over D̄ (proof: `proofs/discrete-hj-certificate.md`);
//! - upper end: the discrete action (E10) of an explicit path θ* = x_0, …, x_n ∉ D, found
//!   in f64 (linearised optimal path refined by L-BFGS) and evaluated in interval
//!   arithmetic with x_0 ranging over the minimiser box (proof:
//!   `proofs/discrete-action-upper-bound.md`);
//! - the exact linear cases (E12 isotropic, Stein for constant Σ;
//!   `proofs/linear-discrete-barrier.md`) intersect the enclosure where they apply.

use super::bnb::{bisect, dist2};
use super::{linear_barrier, Bound, Minimizer};
use crate::landscape::{Domain, Landscape, NoiseModel, Scratch};
use crate::num::imat::{matmul, matvec, sym_eig_bounds, verified_solve};
use crate::num::{iv, point};
use inari::Interval;
use nalgebra::{DMatrix, DVector};

/// The discrete barrier for one learning rate.
#[derive(Clone, Debug)]
pub struct DiscreteBarrier {
    pub eta: f64,
    /// The combined enclosure [lo, hi] ∋ V̄_η(D) (`None` when neither side is available);
    /// `method` summarises both sides.
    pub bound: Bound,
    /// How the lower end was obtained (or why it is missing).
    pub lower_method: String,
    /// How the upper end was obtained (or why it is missing).
    pub upper_method: String,
    /// The E11 lower bound alone (certified), when the certificate succeeded.
    pub hj_lower: Option<f64>,
    /// The E10 upper bound alone (certified), when a path was certified.
    pub action_upper: Option<f64>,
    /// Which bound gave the lower end: "E11", "E12", "Stein" (E10–E12 linear case with
    /// constant Σ) or "none".
    pub lower_family: String,
    /// Which bound gave the upper end: "E10", "E12", "Stein" or "none".
    pub upper_family: String,
    /// The E11 certificate parameters.
    pub certificate: Option<HjCertificate>,
    /// The vertices x_1, …, x_n of the certified path (x_0 = θ* ∈ X is not listed).
    pub path: Option<Vec<Vec<f64>>>,
    /// Branch-and-bound boxes used by the E11 searches.
    pub boxes: usize,
}

/// Parameters of a certified discrete HJ certificate W = γ·½(x − c)ᵀP(x − c).
#[derive(Clone, Debug)]
pub struct HjCertificate {
    pub gamma: f64,
    /// P, row-major d×d (exact binary64 data; W is defined with this matrix).
    pub p: Vec<f64>,
    /// The centre c (midpoint of the minimiser box).
    pub center: Vec<f64>,
    /// Upper bound of max(sup_X W, sup_E G) subtracted from inf_{y∉D} W.
    pub correction: f64,
    /// Boxes of the exceptional set E near c where the condition was not checked.
    pub exceptional_boxes: usize,
    /// Boxes of the successful branch-and-bound run.
    pub boxes: usize,
}

/// Largest number of path steps of the E10 upper bound.
pub const PATH_MAX_STEPS: usize = 400;
/// Radius (relative to the domain size) of the ball around c in which boxes that fail the
/// E11 check are put into the exceptional set instead of being split.
pub const EXCEPTIONAL_REL_RADIUS: f64 = 1e-6;
/// Box budget of one trial γ (at most the spec's `certify.max_boxes`).
pub const GAMMA_RUN_BOXES: usize = 10_000;
/// γ bisection steps after a passing γ has been found.
pub const GAMMA_BISECTIONS: usize = 8;

impl DiscreteBarrier {
    /// No bound for this learning rate, with the reason (every method says it).
    pub fn unavailable(eta: f64, why: String) -> Self {
        DiscreteBarrier {
            eta,
            bound: Bound {
                value: None,
                method: why.clone(),
            },
            lower_method: why.clone(),
            upper_method: why,
            hj_lower: None,
            action_upper: None,
            lower_family: "none".into(),
            upper_family: "none".into(),
            certificate: None,
            path: None,
            boxes: 0,
        }
    }
}

/// Above this dimension the general E11/E10 bounds are not attempted where the exact linear
/// value (E12 or the Stein solve) applies.
pub const SKIP_GENERAL_DIM: usize = 12;

/// V̄_η(D) ∈ [lo, hi] for one learning rate (see the module documentation).
pub fn discrete_barrier(
    l: &Landscape,
    domain: &Domain,
    min: &Minimizer,
    noise: &NoiseModel,
    eta: f64,
    max_boxes: usize,
    exit_point: &[f64],
) -> DiscreteBarrier {
    let none = |why: String| DiscreteBarrier::unavailable(eta, why);
    let e = point(eta);
    if !(eta > 0.0) {
        return none("η ≤ 0: no discrete dynamics".into());
    }
    if (e * min.eig.max).inf() >= 2.0 {
        return none(format!("ηλ ≥ 2 at θ* (η = {eta}, λ_max(∇²L(θ*)) ∈ [{:.6e}, {:.6e}]): the minimum is linearly unstable for discrete SGD, escape is not exponentially slow (V̄_η = 0 in the linear case, E12); no bound", min.eig.max.inf(), min.eig.max.sup()));
    }
    if !((e * min.eig.max).sup() < 2.0) {
        return none(format!("ηλ_max < 2 is not certified (η = {eta}, λ_max(∇²L(θ*)) ≤ {:.6e}): the minimum may be linearly unstable for discrete SGD, no exponential escape (E12); no bound", min.eig.max.sup()));
    }
    let c: Vec<f64> = min.x.iter().map(|v| v.mid()).collect();
    // The exact linear cases.
    let exact = linear_exact(l, domain, min, noise, eta);
    // Where the exact value applies in high dimension, the general E11/E10 searches (an
    // interval linear solve per box) cannot improve on it and take minutes at d = 100.
    let skip = exact.is_some() && c.len() > SKIP_GENERAL_DIM;
    let hj = if skip {
        Err((
            format!(
                "not attempted: the exact linear value applies and d = {} > {SKIP_GENERAL_DIM}",
                c.len()
            ),
            0,
        ))
    } else {
        hj_lower(l, domain, min, noise, eta, &c, max_boxes)
    };
    let (lo_hj, cert, lower_method, boxes) = match hj {
        Ok((v, cert)) => {
            let b = cert.boxes;
            let m = format!(
                "E11 discrete HJ certificate W = γ·½(x−c)ᵀP(x−c), γ = {:.6e}, P from the Stein equation at c, certified on D̄ by interval branch-and-bound ({} boxes; correction {:.3e}) (proofs/discrete-hj-certificate.md)",
                cert.gamma, cert.boxes, cert.correction
            );
            (Some(v), Some(cert), m, b)
        }
        Err((why, b)) => (None, None, format!("E11 certificate not found: {why}"), b),
    };
    let up = if skip {
        Err(format!(
            "not attempted: the exact linear value applies and d = {} > {SKIP_GENERAL_DIM}",
            c.len()
        ))
    } else {
        action_upper(l, domain, min, noise, eta, &c, exit_point)
    };
    let (hi_path, path, upper_method) = match up {
        Ok((v, p)) => (
            Some(v),
            Some(p.clone()),
            format!(
                "E10 discrete action of an explicit {}-step path from θ* ∈ X to outside D (f64 L-BFGS guide, action in interval arithmetic) (proofs/discrete-action-upper-bound.md)",
                p.len()
            ),
        ),
        Err(why) => (None, None, format!("E10 path bound not available: {why}")),
    };
    let exact_family = if noise.isotropic_sigma().is_some() {
        "E12"
    } else {
        "Stein"
    };
    let mut lower_family = if lo_hj.is_some() { "E11" } else { "none" };
    let mut upper_family = if hi_path.is_some() { "E10" } else { "none" };
    let (mut lo, mut lm) = match lo_hj {
        Some(v) => (v.max(0.0), lower_method),
        None => (0.0, format!("{lower_method}; trivial lower bound S_η ≥ 0")),
    };
    let (mut hi, mut um) = match hi_path {
        Some(v) => (v, upper_method),
        None => (f64::INFINITY, upper_method),
    };
    if let Some((v, m)) = &exact {
        if v.inf() > lo {
            lo = v.inf();
            lower_family = exact_family;
            lm = format!(
                "{m} (the E11 certificate gave {})",
                lo_hj.map_or("none".into(), |x| format!("{x:.17e}"))
            );
        }
        if v.sup() < hi {
            hi = v.sup();
            upper_family = exact_family;
            um = format!(
                "{m} (the E10 path gave {})",
                hi_path.map_or("none".into(), |x| format!("{x:.17e}"))
            );
        }
    }
    let value = if lo_hj.is_none() && hi_path.is_none() && exact.is_none() {
        None
    } else {
        Some(iv(lo.min(hi), hi))
    };
    DiscreteBarrier {
        eta,
        bound: Bound {
            value,
            method: format!("lower: {lm}; upper: {um}"),
        },
        lower_method: lm,
        upper_method: um,
        hj_lower: lo_hj,
        action_upper: hi_path,
        lower_family: lower_family.into(),
        upper_family: upper_family.into(),
        certificate: cert,
        path,
        boxes,
    }
}

/// The exact linear cases kept from the previous version: E12 (quadratic built-in,
/// isotropic noise, domain centred at θ* = 0) and the Stein solve for constant Σ.
fn linear_exact(
    l: &Landscape,
    domain: &Domain,
    min: &Minimizer,
    noise: &NoiseModel,
    eta: f64,
) -> Option<(Interval, String)> {
    let Landscape::Quadratic { .. } = l else {
        return None;
    };
    if let Some(sigma) = noise.isotropic_sigma() {
        let e = point(eta);
        let f = |lam: Interval| lam * (point(2.0) - e * lam);
        let fmin = f(min.eig.min).min(f(min.eig.max));
        let r2 = match domain {
            Domain::Ball { center, radius } if center.iter().all(|&v| v == 0.0) => {
                point(*radius).sqr()
            }
            Domain::Interval { lo, hi } => point(*lo).sqr().min(point(*hi).sqr()),
            _ => return None,
        };
        let v = r2 * fmin / (point(2.0) * point(sigma).sqr());
        return Some((v, "E12 (linear case): V̄_η = min_{y∉D} ½ yᵀH(2I − ηH)y/σ² (proofs/linear-discrete-barrier.md)".into()));
    }
    match linear_barrier(l, domain, noise, min, Some(eta)) {
        Some(Ok(v)) => Some((v, "E10–E12, linear case with constant Σ: V̄_η = r²/(2λ_max(C_η)), C_η = ACAᵀ + ηΣ by a verified solve (proofs/linear-discrete-barrier.md)".into())),
        _ => None,
    }
}

fn ivec(x: &[f64]) -> Vec<Interval> {
    x.iter().map(|&v| point(v)).collect()
}

/// f64 Σ(x).
fn cov_f64(l: &Landscape, noise: &NoiseModel, x: &[f64]) -> DMatrix<f64> {
    let d = x.len();
    let mut s = vec![0.0; d * d];
    noise.covariance(l, x, &mut s);
    DMatrix::from_row_slice(d, d, &s)
}

fn hess_f64(l: &Landscape, x: &[f64]) -> DMatrix<f64> {
    let d = x.len();
    let mut h = vec![0.0; d * d];
    l.hessian(x, &mut h);
    DMatrix::from_row_slice(d, d, &h)
}

/// f64 solution of the Stein equation C = ACAᵀ + S by doubling (a guide only).
fn stein_f64(a: &DMatrix<f64>, s: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    let mut c = s.clone();
    let mut ak = a.clone();
    for _ in 0..80 {
        c = &c + &ak * &c * ak.transpose();
        ak = &ak * &ak;
        if ak.amax() < 1e-300 || !c.iter().all(|v| v.is_finite()) {
            break;
        }
        if ak.amax() < 1e-18 {
            break;
        }
    }
    let c = (&c + c.transpose()) * 0.5;
    (c.iter().all(|v| v.is_finite()) && c.clone().cholesky().is_some()).then_some(c)
}

/// The f64 guide P = C⁻¹ (symmetrised) and C.
fn stein_p(
    l: &Landscape,
    noise: &NoiseModel,
    eta: f64,
    c: &[f64],
) -> Option<(DMatrix<f64>, DMatrix<f64>)> {
    let d = c.len();
    let a = DMatrix::identity(d, d) - hess_f64(l, c) * eta;
    let s = cov_f64(l, noise, c) * eta;
    let cm = stein_f64(&a, &s)?;
    let p = cm.clone().try_inverse()?;
    let p = (&p + p.transpose()) * 0.5;
    p.clone().cholesky()?;
    Some((p, cm))
}

/// Interval enclosure of the inverses of all matrices in `m` (d×d), column by column.
fn inverse_enclosure(m: &[Interval], d: usize) -> Option<Vec<Interval>> {
    let mut inv = vec![point(0.0); d * d];
    for j in 0..d {
        let ej: Vec<Interval> = (0..d)
            .map(|i| point(if i == j { 1.0 } else { 0.0 }))
            .collect();
        let col = verified_solve(m, &ej, d)?;
        for i in 0..d {
            inv[i * d + j] = col[i];
        }
    }
    Some(inv)
}

fn quad_form(v: &[Interval], m: &[Interval], d: usize) -> Interval {
    let mv = matvec(m, v, d, d);
    v.iter().zip(&mv).fold(point(0.0), |s, (a, b)| s + *a * *b)
}

/// The E11 lower bound: returns (certified lower bound, certificate) or (reason, boxes).
fn hj_lower(
    l: &Landscape,
    domain: &Domain,
    min: &Minimizer,
    noise: &NoiseModel,
    eta: f64,
    c: &[f64],
    max_boxes: usize,
) -> Result<(f64, HjCertificate), (String, usize)> {
    let d = c.len();
    let Some((p, _)) = stein_p(l, noise, eta, c) else {
        return Err((
            "the f64 Stein equation at c has no positive-definite solution".into(),
            0,
        ));
    };
    let pv: Vec<f64> = (0..d * d).map(|t| p[(t / d, t % d)]).collect();
    let pi = ivec(&pv);
    let Some(pinv) = inverse_enclosure(&pi, d) else {
        return Err(("P could not be inverted with verification".into(), 0));
    };
    let mut total = 0usize;
    let run = |gamma: f64, total: &mut usize| {
        let budget = max_boxes.min(GAMMA_RUN_BOXES);
        let r = check_gamma(l, domain, noise, eta, c, &pi, &pinv, gamma, budget);
        *total += match &r {
            Ok((b, _, _)) => *b,
            Err((_, b)) => *b,
        };
        r
    };
    // γ = 1 − 2⁻⁴⁰ first (the linear case is exact at γ = 1, where the check is tight);
    // then the largest γ = 1 − 2⁻ᵏ (bisection on k), then γ = 2⁻ʲ; then bisection in γ
    // between the best passing and the smallest failing value. Any passing γ is valid.
    let mut best: Option<(f64, usize, f64, usize)> = None;
    let mut last_err = String::new();
    let mut fail_g;
    match run(1.0 - 2f64.powi(-40), &mut total) {
        Ok((b, k, ne)) => best = Some((1.0 - 2f64.powi(-40), b, k, ne)),
        Err((why, _)) => {
            last_err = why;
            fail_g = 1.0 - 2f64.powi(-40);
            // Largest passing k in [1, 39], if γ = ½ passes.
            match run(0.5, &mut total) {
                Ok((b, k, ne)) => {
                    best = Some((0.5, b, k, ne));
                    // γ = 1 − 2⁻ᵏ passes at k_lo, fails at k_hi.
                    let (mut k_lo, mut k_hi) = (1u32, 40u32);
                    while k_hi - k_lo > 1 {
                        let km = (k_lo + k_hi) / 2;
                        let g = 1.0 - 2f64.powi(-(km as i32));
                        match run(g, &mut total) {
                            Ok((b, k, ne)) => {
                                best = Some((g, b, k, ne));
                                k_lo = km;
                            }
                            Err(_) => {
                                k_hi = km;
                                fail_g = g;
                            }
                        }
                    }
                }
                Err((why, _)) => {
                    last_err = why;
                    fail_g = 0.5;
                    let mut g = 0.25;
                    while g > 2f64.powi(-24) {
                        match run(g, &mut total) {
                            Ok((b, k, ne)) => {
                                best = Some((g, b, k, ne));
                                break;
                            }
                            Err((why, _)) => {
                                last_err = why;
                                fail_g = g;
                                g *= 0.5;
                            }
                        }
                    }
                }
            }
            if let Some((mut gp, ..)) = best {
                for _ in 0..GAMMA_BISECTIONS {
                    if fail_g - gp < 1e-4 * gp {
                        break;
                    }
                    let gm = 0.5 * (gp + fail_g);
                    match run(gm, &mut total) {
                        Ok((b, k, ne)) => {
                            best = Some((gm, b, k, ne));
                            gp = gm;
                        }
                        Err(_) => fail_g = gm,
                    }
                }
            }
        }
    }
    let Some((gamma, boxes, k, nexc)) = best else {
        return Err((
            format!("no γ ≥ 2⁻²⁴ certified; last failure: {last_err}"),
            total,
        ));
    };
    // sup_X W and the correction.
    let g = point(gamma);
    let z: Vec<Interval> = min.x.iter().zip(c).map(|(x, &ci)| *x - point(ci)).collect();
    let wx = (point(0.5) * g * quad_form(&z, &pi, d)).sup();
    let corr = wx.max(k).max(0.0);
    // inf over the complement of D of W.
    let winf = match domain {
        Domain::Ball { center, .. } if center.as_slice() != c => {
            return Err((
                "the ball is not centred at the midpoint c of the minimiser box".into(),
                total,
            ));
        }
        Domain::Ball { radius, .. } => {
            let Some(e) = sym_eig_bounds(&pi, d) else {
                return Err(("λ_min(P) could not be enclosed".into(), total));
            };
            point(0.5) * g * point(e.min.inf().max(0.0)) * point(*radius).sqr()
        }
        Domain::Interval { lo, hi } => {
            let w = |y: f64| point(0.5) * g * pi[0] * (point(y) - point(c[0])).sqr();
            w(*lo).min(w(*hi))
        }
        // Every y outside the open box has |y_i − c_i| ≥ δ = min_i min(c_i − lo_i, hi_i − c_i)
        // for some i, so |y − c| ≥ δ and W(y) ≥ ½γλ_min(P)δ².
        Domain::Box { lo, hi } => {
            let Some(e) = sym_eig_bounds(&pi, d) else {
                return Err(("λ_min(P) could not be enclosed".into(), total));
            };
            let delta = c
                .iter()
                .zip(lo.iter().zip(hi))
                .map(|(&ci, (&a, &b))| (point(ci) - point(a)).min(point(b) - point(ci)).inf())
                .fold(f64::INFINITY, f64::min)
                .max(0.0);
            point(0.5) * g * point(e.min.inf().max(0.0)) * point(delta).sqr()
        }
    };
    let v = (winf - point(corr)).inf();
    Ok((
        v,
        HjCertificate {
            gamma,
            p: pv,
            center: c.to_vec(),
            correction: corr,
            exceptional_boxes: nexc,
            boxes,
        },
    ))
}

/// One branch-and-bound run of the E11 condition at a fixed γ over D̄. Returns
/// (boxes, sup of G over the exceptional set (or −∞), number of exceptional boxes), or the
/// failure and the boxes used.
#[allow(clippy::too_many_arguments)]
fn check_gamma(
    l: &Landscape,
    domain: &Domain,
    noise: &NoiseModel,
    eta: f64,
    c: &[f64],
    p: &[Interval],
    pinv: &[Interval],
    gamma: f64,
    max_boxes: usize,
) -> Result<(usize, f64, usize), (String, usize)> {
    let d = c.len();
    let g = point(gamma);
    let e = point(eta);
    let pg: Vec<Interval> = p.iter().map(|v| g * *v).collect();
    let pginv: Vec<Interval> = pinv.iter().map(|v| *v / g).collect();
    let bbox = domain.bounding_box();
    let size = bbox.iter().fold(0.0f64, |a, x| a.max(x.wid()));
    let rho = EXCEPTIONAL_REL_RADIUS * size;
    let rho2 = point(rho).sqr().inf();
    let w_min = 1e-12 * size;
    let r2 = match domain {
        Domain::Ball { radius, .. } => Some(point(*radius).sqr().sup()),
        // The bounding box is the domain's closure.
        Domain::Interval { .. } | Domain::Box { .. } => None,
    };
    // e = −η∇L(c).
    let ci = ivec(c);
    let mut gc = vec![point(0.0); d];
    l.gradient(&ci, &mut gc);
    let ev: Vec<Interval> = gc.iter().map(|v| -(e * *v)).collect();
    let e_zero = ev.iter().all(|v| v.inf() == 0.0 && v.sup() == 0.0);
    // Young's inequality parameter (exact when e = 0).
    let eps = if e_zero { 0.0 } else { 1e-3 * (1.0 - gamma) };
    let mut scratch = Scratch::new();
    let mut grad = vec![point(0.0); d];
    let mut sig = vec![point(0.0); d * d];
    let mut hh = vec![point(0.0); d * d];
    let const_noise = noise.is_constant();
    // A constant Σ is checked once.
    if const_noise {
        let mut s0 = vec![point(0.0); d * d];
        noise.covariance(l, &bbox, &mut s0);
        if !sym_eig_bounds(&s0, d).is_some_and(|e| e.min.inf() > 0.0) {
            return Err((
                "the constant Σ is not certified positive definite".into(),
                0,
            ));
        }
    }
    // Quick rejection on a grid of sample points of D̄ (d ≤ 3) before the search.
    if d <= 3 {
        let per = if d == 1 { 33 } else { 9 };
        let mut idx = vec![0usize; d];
        loop {
            let x: Vec<Interval> = bbox
                .iter()
                .zip(&idx)
                .map(|(bi, &i)| point(bi.inf() + bi.wid() * i as f64 / (per - 1) as f64))
                .collect();
            let dx = dist2(&x, c);
            let inside = r2.is_none_or(|r2| dx.sup() <= r2);
            if inside && dx.inf() > rho2 {
                if let Some(viol) = violated_at(l, noise, eta, c, &pg, &pginv, &x) {
                    return Err((viol, 0));
                }
            }
            let mut k = 0;
            while k < d {
                idx[k] += 1;
                if idx[k] < per {
                    break;
                }
                idx[k] = 0;
                k += 1;
            }
            if k == d {
                break;
            }
        }
    }
    let mut stack = vec![bbox];
    let mut boxes = 0usize;
    let mut k = f64::NEG_INFINITY;
    let mut nexc = 0usize;
    let desc = |b: &[Interval]| {
        b.iter()
            .map(|x| format!("[{:.6e}, {:.6e}]", x.inf(), x.sup()))
            .collect::<Vec<_>>()
            .join(" × ")
    };
    while let Some(b) = stack.pop() {
        let dz = dist2(&b, c);
        if let Some(r2) = r2 {
            if dz.inf() > r2 {
                continue; // outside D̄
            }
        }
        boxes += 1;
        if boxes > max_boxes || super::deadline::expired() {
            return Err((
                format!(
                    "{} ({max_boxes} boxes) at γ = {gamma:.6e}",
                    super::deadline::budget_reason(boxes, max_boxes + 1)
                ),
                boxes,
            ));
        }
        let width = b.iter().fold(0.0f64, |a, x| a.max(x.wid()));
        let split_or = |why: &str, stack: &mut Vec<Vec<Interval>>| {
            if width < w_min {
                Err((
                    format!("{why} on the box {} at γ = {gamma:.6e}", desc(&b)),
                    boxes,
                ))
            } else {
                let (b1, b2) = bisect(&b);
                stack.push(b1);
                stack.push(b2);
                Ok(())
            }
        };
        noise.covariance(l, &b, &mut sig);
        if !const_noise {
            match sym_eig_bounds(&sig, d) {
                Some(s) if s.min.inf() > 0.0 => {}
                _ => {
                    split_or("Σ(x) ≻ 0 not certified", &mut stack)?;
                    continue;
                }
            }
        }
        let m: Vec<Interval> = pginv.iter().zip(&sig).map(|(a, s)| *a - e * *s).collect();
        let ok_m = sym_eig_bounds(&m, d).is_some_and(|s| s.min.inf() > 0.0);
        let minv = if ok_m { inverse_enclosure(&m, d) } else { None };
        let Some(minv) = minv else {
            split_or("P_γ⁻¹ − ηΣ(x) ≻ 0 not certified", &mut stack)?;
            continue;
        };
        // Test 1: natural interval evaluation of W − G.
        l.gradient_with(&b, &mut grad, &mut scratch);
        let z: Vec<Interval> = b.iter().zip(c).map(|(x, &ci)| *x - point(ci)).collect();
        let mv: Vec<Interval> = z.iter().zip(&grad).map(|(zi, gi)| *zi - e * *gi).collect();
        let w = point(0.5) * quad_form(&z, &pg, d);
        let gq = point(0.5) * quad_form(&mv, &minv, d);
        if (w - gq).inf() >= 0.0 {
            continue;
        }
        // Test 2: mean value form m(x) = Ã(x − c) + e, Ã ∈ I − η∇²L(hull(B ∪ {c})):
        // G ≤ ½(1+ε) zᵀÃᵀM⁻¹Ãz + ½(1 + 1/ε) eᵀM⁻¹e, and W − that ≥ 0 if
        // λ_min(γP − (1+ε)ÃᵀM⁻¹Ã)|z|² ≥ (1 + 1/ε) eᵀM⁻¹e.
        let hull: Vec<Interval> = b
            .iter()
            .zip(c)
            .map(|(x, &ci)| x.convex_hull(point(ci)))
            .collect();
        l.hessian(&hull, &mut hh);
        let at: Vec<Interval> = (0..d * d)
            .map(|t| {
                let v = -(e * hh[t]);
                if t / d == t % d {
                    point(1.0) + v
                } else {
                    v
                }
            })
            .collect();
        let att: Vec<Interval> = (0..d * d).map(|t| at[(t % d) * d + t / d]).collect();
        let ama = matmul(&matmul(&att, &minv, d, d, d), &at, d, d, d);
        let n: Vec<Interval> = pg
            .iter()
            .zip(&ama)
            .map(|(pv, av)| *pv - point(1.0 + eps) * *av)
            .collect();
        if let Some(en) = sym_eig_bounds(&n, d) {
            let mu = en.min.inf();
            if e_zero && mu >= 0.0 {
                continue;
            }
            if mu > 0.0 && !e_zero {
                let eme = quad_form(&ev, &minv, d).sup();
                let need = (point(1.0 + 1.0 / eps) * point(eme)).sup();
                if (point(mu) * point(dz.inf())).inf() >= need {
                    continue;
                }
            }
        }
        // Failed: a certified violation at the midpoint (outside the exceptional ball,
        // where the condition must fail when ∇L(c) ≠ 0) ends this γ at once.
        let xm: Vec<Interval> = b.iter().map(|x| point(x.mid())).collect();
        if dist2(&xm, c).inf() > rho2 {
            if let Some(viol) = violated_at(l, noise, eta, c, &pg, &pginv, &xm) {
                return Err((viol, boxes));
            }
        }
        // Near c, put the box into the exceptional set E.
        if dz.sup() <= rho2 {
            let gs = gq.sup();
            if gs.is_finite() {
                k = k.max(gs);
                nexc += 1;
                continue;
            }
        }
        split_or("the E11 condition G(x) ≤ W(x) not certified", &mut stack)?;
    }
    Ok((boxes, k, nexc))
}

/// `Some(reason)` when the E11 condition is certified to fail at the point `x` (as a
/// point box): M(x) = P_γ⁻¹ − ηΣ(x) not positive definite, or G(x) > W(x).
fn violated_at(
    l: &Landscape,
    noise: &NoiseModel,
    eta: f64,
    c: &[f64],
    pg: &[Interval],
    pginv: &[Interval],
    x: &[Interval],
) -> Option<String> {
    let d = c.len();
    let e = point(eta);
    let mut sig = vec![point(0.0); d * d];
    noise.covariance(l, x, &mut sig);
    let m: Vec<Interval> = pginv.iter().zip(&sig).map(|(a, s)| *a - e * *s).collect();
    let at = x.iter().map(|v| v.mid()).collect::<Vec<_>>();
    let eig = sym_eig_bounds(&m, d)?;
    if eig.min.sup() < 0.0 {
        return Some(format!(
            "P_γ⁻¹ − ηΣ(x) is not positive definite at x = {at:?}"
        ));
    }
    if !(eig.min.inf() > 0.0) {
        return None;
    }
    let mut g = vec![point(0.0); d];
    l.gradient(x, &mut g);
    let z: Vec<Interval> = x.iter().zip(c).map(|(xi, &ci)| *xi - point(ci)).collect();
    let mv: Vec<Interval> = z.iter().zip(&g).map(|(zi, gi)| *zi - e * *gi).collect();
    let u = verified_solve(&m, &mv, d)?;
    let gq = point(0.5) * mv.iter().zip(&u).fold(point(0.0), |a, (p, q)| a + *p * *q);
    let w = point(0.5) * quad_form(&z, pg, d);
    (gq.inf() > w.sup()).then(|| format!("G(x) > W(x) at x = {at:?}"))
}

/// f64 term |x₁ − x₀ + η∇L(x₀)|²_{Σ(x₀)⁻¹}/(2η) (a guide).
fn term_f64(l: &Landscape, noise: &NoiseModel, eta: f64, x0: &[f64], x1: &[f64]) -> f64 {
    let d = x0.len();
    let mut g = vec![0.0; d];
    l.gradient(x0, &mut g);
    let v = DVector::from_fn(d, |i, _| x1[i] - x0[i] + eta * g[i]);
    let s = cov_f64(l, noise, x0);
    match s.cholesky() {
        Some(ch) => v.dot(&ch.solve(&v)) / (2.0 * eta),
        None => f64::INFINITY,
    }
}

/// The f64 discrete action S_η of a path (a guide).
pub fn action_f64(l: &Landscape, noise: &NoiseModel, eta: f64, path: &[Vec<f64>]) -> f64 {
    path.windows(2)
        .map(|w| term_f64(l, noise, eta, &w[0], &w[1]))
        .sum()
}

/// The certified discrete action (E10) of the path x_0 ∈ `x0` (a box), x_1, …, x_n (points):
/// an interval containing S_η(θ, x_1, …, x_n) for every θ ∈ `x0`, or `None` if an
/// enclosure fails. Proof: `proofs/discrete-action-upper-bound.md`.
pub fn action_enclosure(
    l: &Landscape,
    noise: &NoiseModel,
    eta: f64,
    x0: &[Interval],
    rest: &[Vec<f64>],
) -> Option<Interval> {
    let d = x0.len();
    let e = point(eta);
    let mut prev: Vec<Interval> = x0.to_vec();
    let mut g = vec![point(0.0); d];
    let mut sig = vec![point(0.0); d * d];
    let mut s = point(0.0);
    for x in rest {
        l.gradient(&prev, &mut g);
        noise.covariance(l, &prev, &mut sig);
        if !sym_eig_bounds(&sig, d).is_some_and(|e| e.min.inf() > 0.0) {
            return None;
        }
        let v: Vec<Interval> = (0..d).map(|i| point(x[i]) - prev[i] + e * g[i]).collect();
        let u = verified_solve(&sig, &v, d)?;
        let q = v.iter().zip(&u).fold(point(0.0), |a, (p, q)| a + *p * *q);
        s = s + q / (point(2.0) * e);
        prev = ivec(x);
    }
    (!s.is_empty() && s.sup().is_finite()).then_some(s)
}

/// The E10 upper bound: (certified upper bound, path x_1..x_n).
fn action_upper(
    l: &Landscape,
    domain: &Domain,
    min: &Minimizer,
    noise: &NoiseModel,
    eta: f64,
    c: &[f64],
    exit_point: &[f64],
) -> Result<(f64, Vec<Vec<f64>>), String> {
    let d = c.len();
    let Some((p, _)) = stein_p(l, noise, eta, c) else {
        return Err("the f64 Stein equation at c has no positive-definite solution".into());
    };
    // Steps: the linear tail a^{2n} ≤ 1e-12 for the slowest mode, capped.
    let a_max = [min.eig.min.mid(), min.eig.max.mid()]
        .iter()
        .map(|lam| (1.0 - eta * lam).abs())
        .fold(0.0f64, f64::max);
    let n = if a_max <= 0.0 {
        8
    } else {
        ((1e-12f64.ln() / (2.0 * a_max.ln())).ceil() as usize).clamp(8, PATH_MAX_STEPS)
    };
    // Candidate end points outside D.
    let mut ends: Vec<Vec<f64>> = Vec::new();
    match domain {
        Domain::Interval { lo, hi } => {
            ends.push(vec![*lo]);
            ends.push(vec![*hi]);
        }
        Domain::Box { lo, hi } => {
            // The centre of each face's projection: c with one coordinate on its face.
            for i in 0..d {
                for face in [lo[i], hi[i]] {
                    let mut y = c.to_vec();
                    y[i] = face;
                    ends.push(y);
                }
            }
        }
        Domain::Ball { radius, .. } => {
            let eig = nalgebra::SymmetricEigen::new(p.clone());
            let mut dirs: Vec<Vec<f64>> = Vec::new();
            let (mut imin, mut imax) = (0, 0);
            for i in 0..d {
                if eig.eigenvalues[i] < eig.eigenvalues[imin] {
                    imin = i;
                }
                if eig.eigenvalues[i] > eig.eigenvalues[imax] {
                    imax = i;
                }
            }
            for i in [imin, imax] {
                let v: Vec<f64> = (0..d).map(|r| eig.eigenvectors[(r, i)]).collect();
                dirs.push(v.clone());
                dirs.push(v.iter().map(|x| -x).collect());
            }
            let ep: Vec<f64> = exit_point.iter().zip(c).map(|(a, b)| a - b).collect();
            if ep.iter().any(|v| *v != 0.0) {
                dirs.push(ep);
            }
            for v in dirs {
                ends.push(sphere_out(c, *radius, &v));
            }
        }
    }
    let a = DMatrix::identity(d, d) - hess_f64(l, c) * eta;
    let s = cov_f64(l, noise, c) * eta;
    let mut best: Option<(f64, Vec<Vec<f64>>)> = None;
    let mut why = String::from("no candidate path");
    for end in ends.iter().filter(|y| outside(domain, y)) {
        let init = linear_path(&a, &s, c, end, n);
        let Some(init) = init else {
            why = "the linearised path could not be built".into();
            continue;
        };
        let path = refine_path(l, noise, eta, c, init);
        match action_enclosure(l, noise, eta, &min.x, &path[1..]) {
            Some(v) => {
                if best.as_ref().is_none_or(|(b, _)| v.sup() < *b) {
                    best = Some((v.sup(), path[1..].to_vec()));
                }
            }
            None => why = "the action of the path could not be enclosed".into(),
        }
    }
    best.ok_or(why)
}

/// A point just outside the sphere of radius r around c in direction v, certified
/// |y − c| ≥ r (the factor is increased until the interval check passes).
fn sphere_out(c: &[f64], r: f64, v: &[f64]) -> Vec<f64> {
    let nv = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut f = 1.0 + 1e-12;
    loop {
        let y: Vec<f64> = c
            .iter()
            .zip(v)
            .map(|(ci, vi)| ci + r * f * vi / nv)
            .collect();
        if dist2(&ivec(&y), c).inf() >= point(r).sqr().sup() || f > 2.0 {
            return y;
        }
        f = 1.0 + 2.0 * (f - 1.0);
    }
}

/// True when the end point is certified outside D.
fn outside(domain: &Domain, y: &[f64]) -> bool {
    match domain {
        Domain::Interval { lo, hi } => y[0] <= *lo || y[0] >= *hi,
        Domain::Ball { center, radius } => {
            dist2(&ivec(y), center).inf() >= point(*radius).sqr().sup()
        }
        Domain::Box { lo, hi } => y
            .iter()
            .zip(lo.iter().zip(hi))
            .any(|(v, (a, b))| *v <= *a || *v >= *b),
    }
}

/// The optimal n-step path of the linearised problem from c to `end`:
/// x_k = c + C_k (Aᵀ)^{n−k} C_n⁻¹ (end − c), C_{k+1} = A C_k Aᵀ + S (proofs/linear-discrete-barrier.md, Lemma 1).
fn linear_path(
    a: &DMatrix<f64>,
    s: &DMatrix<f64>,
    c: &[f64],
    end: &[f64],
    n: usize,
) -> Option<Vec<Vec<f64>>> {
    let d = c.len();
    let mut ck = vec![DMatrix::zeros(d, d)];
    for k in 0..n {
        let next = a * &ck[k] * a.transpose() + s;
        ck.push(next);
    }
    let y = DVector::from_fn(d, |i, _| end[i] - c[i]);
    let w = ck[n].clone().try_inverse()? * y;
    let mut path = vec![c.to_vec(); n + 1];
    let mut v = w; // (Aᵀ)^{n−k} w
    for k in (1..n).rev() {
        v = a.transpose() * v;
        let x = &ck[k] * &v;
        path[k] = (0..d).map(|i| c[i] + x[i]).collect();
    }
    path[n] = end.to_vec();
    path.iter()
        .all(|p| p.iter().all(|v| v.is_finite()))
        .then_some(path)
}

/// L-BFGS in f64 on the interior points x_1..x_{n−1} (the end point is fixed outside D),
/// finite-difference gradient of the local terms. A guide only.
fn refine_path(
    l: &Landscape,
    noise: &NoiseModel,
    eta: f64,
    c: &[f64],
    mut path: Vec<Vec<f64>>,
) -> Vec<Vec<f64>> {
    let d = c.len();
    let n = path.len() - 1;
    if n < 2 {
        return path;
    }
    let nv = (n - 1) * d;
    let pack = |p: &[Vec<f64>]| -> Vec<f64> { p[1..n].iter().flatten().copied().collect() };
    let unpack = |v: &[f64], p: &mut Vec<Vec<f64>>| {
        for k in 1..n {
            p[k].copy_from_slice(&v[(k - 1) * d..k * d]);
        }
    };
    let f = |p: &[Vec<f64>]| action_f64(l, noise, eta, p);
    let grad = |p: &mut Vec<Vec<f64>>| -> Vec<f64> {
        let mut g = vec![0.0; nv];
        for k in 1..n {
            for j in 0..d {
                let x = p[k][j];
                let h = 1e-7 * (1.0 + x.abs());
                let local = |p: &[Vec<f64>]| {
                    term_f64(l, noise, eta, &p[k - 1], &p[k])
                        + term_f64(l, noise, eta, &p[k], &p[k + 1])
                };
                p[k][j] = x + h;
                let fp = local(p);
                p[k][j] = x - h;
                let fm = local(p);
                p[k][j] = x;
                g[(k - 1) * d + j] = (fp - fm) / (2.0 * h);
            }
        }
        g
    };
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut x = pack(&path);
    let mut fx = f(&path);
    let mut g = grad(&mut path);
    let mut hist: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    let mut work = path.clone();
    for _ in 0..300 {
        // Two-loop recursion.
        let mut q = g.clone();
        let mut alphas = Vec::new();
        for (s, y) in hist.iter().rev() {
            let rho = 1.0 / dot(y, s);
            let al = rho * dot(s, &q);
            for (qi, yi) in q.iter_mut().zip(y) {
                *qi -= al * yi;
            }
            alphas.push((al, rho));
        }
        if let Some((s, y)) = hist.last() {
            let gam = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|v| *v *= gam);
        } else {
            let gn = dot(&g, &g).sqrt();
            if gn > 0.0 {
                let scale = 1e-3 / gn;
                q.iter_mut().for_each(|v| *v *= scale);
            }
        }
        for ((s, y), (al, rho)) in hist.iter().zip(alphas.iter().rev()) {
            let be = rho * dot(y, &q);
            for (qi, si) in q.iter_mut().zip(s) {
                *qi += (al - be) * si;
            }
        }
        let slope = -dot(&g, &q);
        if !(slope < 0.0) {
            hist.clear();
            if dot(&g, &g) == 0.0 {
                break;
            }
            continue;
        }
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let xn: Vec<f64> = x.iter().zip(&q).map(|(a, b)| a - t * b).collect();
            unpack(&xn, &mut work);
            let fnew = f(&work);
            if fnew.is_finite() && fnew <= fx + 1e-4 * t * slope {
                accepted = Some((xn, fnew));
                break;
            }
            t *= 0.5;
        }
        let Some((xn, fnew)) = accepted else {
            break;
        };
        let gn = grad(&mut work);
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let improved = fx - fnew;
        x = xn;
        g = gn;
        if dot(&s, &y) > 0.0 {
            hist.push((s, y));
            if hist.len() > 8 {
                hist.remove(0);
            }
        }
        let done = improved <= 1e-15 * fx.abs();
        fx = fnew;
        if done {
            break;
        }
    }
    unpack(&x, &mut path);
    path
}
