//! Lemma HJ lower-bound certificates for the continuous barrier V̄(D) (THEORY §3):
//! - (C-loss) W = c(L − L*), c = 2s⁻: V̄ ≥ 2 s⁻ ΔL;
//! - (C-quad) W = γ·½(θ−c)ᵀP(θ−c), P = C⁻¹ with HC + CH = Σ at the minimiser box
//!   midpoint c (f64, a guide only), γ ∈ (0, 1] the largest value found by bisection for
//!   which the HJ inequality −∇W·∇L + ½∇WᵀΣ∇W ≤ 0 is certified on D̄ ∖ K by interval
//!   branch-and-bound, K = B̄(c, ρ) ⊇ X; then V̄ ≥ min_{∂D} W − sup_K W.
//!
//! Proofs: `proofs/hamilton-jacobi-lemma.md` (the lemma with the K correction),
//! `proofs/quadratic-hj-certificate.md` (C-quad), `proofs/steepness-bounds.md` (C-loss).

use super::bnb::{dist2, max_dist};
use super::evidence::{BnbTree, TreeRecorder};
use super::steepness::{boundary_distance, domain_scale, meets_closure};
use crate::landscape::{Domain, Landscape, NoiseModel, Scratch};
use crate::num::imat::{isum, matmul, matvec, sym_eig_bounds};
use crate::num::{iv, point};
use inari::Interval;
use nalgebra::{DMatrix, SymmetricEigen};

/// Which Lemma HJ family a certificate belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HjFamily {
    /// W = c(L − L*).
    CLoss,
    /// W = γ·½(θ−c)ᵀP(θ−c).
    CQuad,
}

impl HjFamily {
    /// "C-loss" or "C-quad" (THEORY §3).
    pub fn name(&self) -> &'static str {
        match self {
            HjFamily::CLoss => "C-loss",
            HjFamily::CQuad => "C-quad",
        }
    }
}

/// A certified Lemma HJ lower bound and its parameters.
#[derive(Clone, Debug)]
pub struct HjCertificate {
    pub family: HjFamily,
    /// Certified: V̄(D) ≥ lower (outward rounded).
    pub lower: f64,
    /// C-loss: the coefficient c = 2 s⁻_lo.
    pub coefficient: Option<f64>,
    /// C-quad: the scale γ ∈ (0, 1].
    pub gamma: Option<f64>,
    /// C-quad: the centre c (midpoint of the minimiser box).
    pub centre: Vec<f64>,
    /// C-quad: P, row-major d×d (f64, exact as given: the certificate uses these numbers).
    pub p: Vec<f64>,
    /// C-quad: radius ρ of K = B̄(c, ρ) ⊇ X where the inequality is not required.
    pub inner_radius: f64,
    /// C-quad: certified upper bound of sup_K W (subtracted from min_{∂D} W).
    pub correction: f64,
    /// Boxes processed (all γ trials).
    pub boxes: usize,
    /// C-quad: the bisection tree of the winning γ (certificate evidence): `Excluded`
    /// leaves miss D̄ or lie inside K; `Proved(Some(h))` leaves passed the natural
    /// enclosure h ∋ H(θ, ∇W) with sup h ≤ 0, `Proved(None)` leaves the mean-value matrix
    /// test ([`QuadCtx::matrix_test`]).
    pub tree: Option<BnbTree>,
    /// What was proved.
    pub detail: String,
}

/// (C-loss): V̄ ≥ 2 s⁻ ΔL with s⁻ ≥ `s_minus_lo` and ΔL ≥ `depth.inf()`
/// (`proofs/steepness-bounds.md` (1)). `None` when the bound is not positive.
pub fn c_loss(s_minus_lo: f64, depth: Interval) -> Option<HjCertificate> {
    if !(s_minus_lo > 0.0 && depth.inf() > 0.0) {
        return None;
    }
    let c = (point(2.0) * point(s_minus_lo)).inf();
    let lower = (point(c) * point(depth.inf())).inf();
    Some(HjCertificate {
        family: HjFamily::CLoss,
        lower,
        coefficient: Some(c),
        gamma: None,
        centre: Vec::new(),
        p: Vec::new(),
        inner_radius: 0.0,
        correction: 0.0,
        boxes: 0,
        tree: None,
        detail: format!(
            "W = c(L − L*) with c = 2s⁻ ≥ {c:.6e}: V̄ ≥ c·ΔL (proofs/steepness-bounds.md)"
        ),
    })
}

/// P = C⁻¹ where HC + CH = Σ, in f64 (a guide: the certificate only uses P as given).
/// Solved in the eigenbasis of H: C̃_ij = Σ̃_ij/(λ_i + λ_j). `None` unless H ≻ 0 and C ≻ 0.
pub fn lyapunov_inverse(h: &[f64], sig: &[f64], d: usize) -> Option<Vec<f64>> {
    let hm = DMatrix::from_fn(d, d, |i, j| 0.5 * (h[i * d + j] + h[j * d + i]));
    let sm = DMatrix::from_fn(d, d, |i, j| 0.5 * (sig[i * d + j] + sig[j * d + i]));
    let eig = SymmetricEigen::new(hm);
    if eig.eigenvalues.iter().any(|&v| !(v > 0.0)) {
        return None;
    }
    let q = &eig.eigenvectors;
    let st = q.transpose() * sm * q;
    let ct = DMatrix::from_fn(d, d, |i, j| {
        st[(i, j)] / (eig.eigenvalues[i] + eig.eigenvalues[j])
    });
    let c = q * ct * q.transpose();
    let c = (&c + c.transpose()) * 0.5;
    let p = c.try_inverse()?;
    let p = (&p + p.transpose()) * 0.5;
    let pe = SymmetricEigen::new(p.clone());
    if pe.eigenvalues.iter().any(|&v| !(v > 0.0)) || p.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some((0..d * d).map(|t| p[(t / d, t % d)]).collect())
}

/// The data of one C-quad check.
pub struct QuadCtx<'a> {
    pub l: &'a Landscape,
    pub noise: &'a NoiseModel,
    pub domain: &'a Domain,
    pub c: Vec<f64>,
    /// P as point intervals.
    pub p: Vec<Interval>,
    /// K = B̄(c, ρ).
    pub rho: f64,
    /// Upper bound of |P ∇L(c)| (2-norm).
    pub pgc: f64,
}

impl<'a> QuadCtx<'a> {
    /// Builds the context (P must be exactly symmetric: ∇W = γP(θ − c)).
    pub fn new(
        l: &'a Landscape,
        noise: &'a NoiseModel,
        domain: &'a Domain,
        c: Vec<f64>,
        p: &[f64],
        rho: f64,
    ) -> Self {
        let d = c.len();
        let pi: Vec<Interval> = p.iter().map(|&v| point(v)).collect();
        let ci: Vec<Interval> = c.iter().map(|&v| point(v)).collect();
        let mut gc = vec![point(0.0); d];
        l.gradient(&ci, &mut gc);
        let pg = matvec(&pi, &gc, d, d);
        let pgc = isum(pg.iter().map(|v| v.sqr())).sqrt().sup();
        QuadCtx {
            l,
            noise,
            domain,
            c,
            p: pi,
            rho,
            pgc,
        }
    }

    /// Enclosure of H(θ, ∇W) = −γ eᵀP∇L + ½γ² eᵀPΣPe over the box (natural extension),
    /// e = θ − c.
    pub fn hamiltonian(
        &self,
        b: &[Interval],
        gamma: f64,
        scratch: &mut Scratch<Interval>,
    ) -> Interval {
        let d = b.len();
        let e: Vec<Interval> = b
            .iter()
            .zip(&self.c)
            .map(|(x, &ci)| *x - point(ci))
            .collect();
        let q: Vec<Interval> = matvec(&self.p, &e, d, d)
            .into_iter()
            .map(|v| point(gamma) * v)
            .collect();
        let mut g = vec![point(0.0); d];
        self.l.gradient_with(b, &mut g, scratch);
        let mut sig = vec![point(0.0); d * d];
        self.noise.covariance(self.l, b, &mut sig);
        let sq = matvec(&sig, &q, d, d);
        let qg = isum(q.iter().zip(&g).map(|(a, b)| *a * *b));
        let qsq = isum(q.iter().zip(&sq).map(|(a, b)| *a * *b));
        point(0.5) * qsq - qg
    }

    /// The mean-value test on a box: with A = ∇²L(hull(c, b)) and Σ = Σ(b),
    /// M = −γ·sym(PA) + ½γ²PΣP; if λ_max(M) ≤ −μ < 0 and μ·r ≥ γ|P∇L(c)| with
    /// r = inf |e| over b ∖ K, then H ≤ 0 on b ∖ K.
    pub fn matrix_test(&self, b: &[Interval], gamma: f64) -> bool {
        let d = b.len();
        let hull: Vec<Interval> = b
            .iter()
            .zip(&self.c)
            .map(|(x, &ci)| iv(x.inf().min(ci), x.sup().max(ci)))
            .collect();
        let mut a = vec![point(0.0); d * d];
        self.l.hessian(&hull, &mut a);
        let mut sig = vec![point(0.0); d * d];
        self.noise.covariance(self.l, b, &mut sig);
        let pa = matmul(&self.p, &a, d, d, d);
        let psp = matmul(&matmul(&self.p, &sig, d, d, d), &self.p, d, d, d);
        let g = point(gamma);
        let m: Vec<Interval> = (0..d * d)
            .map(|t| {
                let (i, j) = (t / d, t % d);
                -(g * point(0.5) * (pa[i * d + j] + pa[j * d + i])) + point(0.5) * g.sqr() * psp[t]
            })
            .collect();
        let Some(eig) = sym_eig_bounds(&m, d) else {
            return false;
        };
        let mu = -eig.max.sup();
        if !(mu > 0.0) {
            return false;
        }
        let r = dist2(b, &self.c).sqrt().inf().max(self.rho);
        (point(mu) * point(r)).inf() >= (g * point(self.pgc)).sup()
    }
}

/// Outcome of one branch-and-bound check of the HJ inequality for a fixed γ.
#[derive(Clone, Debug)]
pub struct HjRun {
    pub holds: bool,
    pub boxes: usize,
    /// Where it failed (when it did).
    pub failure: Option<String>,
    /// The bisection tree when it holds (see [`HjCertificate::tree`]).
    pub tree: Option<BnbTree>,
}

/// Certifies H(θ, ∇W) ≤ 0 on D̄ ∖ K for W = γ·½eᵀPe by depth-first interval bisection
/// of the bounding box of D̄ (boxes missing D̄ or inside K are dropped; a box passes the
/// natural enclosure or the mean-value matrix test).
pub fn hj_check(ctx: &QuadCtx, gamma: f64, max_boxes: usize) -> HjRun {
    let rho2 = point(ctx.rho).sqr();
    let scale = domain_scale(ctx.domain);
    let tiny = 1e-12 * scale;
    let mut scratch = Scratch::new();
    let bbox = ctx.domain.bounding_box();
    let (mut rec, root) = TreeRecorder::new(&bbox);
    let mut stack = vec![(root, bbox)];
    let mut boxes = 0usize;
    let fail = |boxes, why: String| HjRun {
        holds: false,
        boxes,
        failure: Some(why),
        tree: None,
    };
    while let Some((id, b)) = stack.pop() {
        if !meets_closure(ctx.domain, &b) || dist2(&b, &ctx.c).sup() < rho2.inf() {
            rec.excluded(id);
            continue;
        }
        boxes += 1;
        // The matrix test pays off near c (and on the first boxes, where it settles a
        // linear problem at once); far from c the hull's Hessian is too wide.
        let near = boxes <= 4 || dist2(&b, &ctx.c).sup().sqrt() <= 0.25 * scale;
        let h = ctx.hamiltonian(&b, gamma, &mut scratch);
        if h.sup() <= 0.0 {
            rec.proved(id, Some(h));
            continue;
        }
        if near && ctx.matrix_test(&b, gamma) {
            rec.proved(id, None);
            continue;
        }
        // A certain violation at the midpoint (in D and outside K) ends the search.
        let mid: Vec<f64> = b.iter().map(|x| x.mid()).collect();
        let midi: Vec<Interval> = mid.iter().map(|&v| point(v)).collect();
        if ctx.domain.contains(&mid)
            && dist2(&midi, &ctx.c).inf() > rho2.sup()
            && ctx.hamiltonian(&midi, gamma, &mut scratch).inf() > 0.0
        {
            return fail(boxes, format!("the HJ inequality is violated at {mid:?}"));
        }
        let w = b.iter().fold(0.0f64, |a, x| a.max(x.wid()));
        if super::deadline::out_of_budget(boxes, max_boxes) || w < tiny {
            return fail(
                boxes,
                format!(
                    "not certified near {mid:?} ({})",
                    if super::deadline::out_of_budget(boxes, max_boxes) {
                        super::deadline::budget_reason(boxes, max_boxes)
                    } else {
                        "box too small to split"
                    }
                ),
            );
        }
        let [c1, c2] = rec.split(id, &b);
        stack.push(c1);
        stack.push(c2);
    }
    HjRun {
        holds: true,
        boxes,
        failure: None,
        tree: rec.finish(),
    }
}

/// γ candidates: 1 − 10⁻⁶ first (exact quadratic case), then halving, then bisection.
pub const GAMMA_TOP: f64 = 1.0 - 1e-6;
/// Bisection steps on γ after a certified and a failed value are known.
pub const GAMMA_BISECTIONS: usize = 6;
/// Smallest γ tried: 2^-GAMMA_MIN_LOG2.
pub const GAMMA_MIN_LOG2: i32 = 8;
/// The C-quad search uses `max_boxes / HJ_BUDGET_DIVISOR` boxes over all γ trials.
pub const HJ_BUDGET_DIVISOR: usize = 4;
/// Dimensions up to which the HJ check bisects boxes; above, a few boxes only.
pub const HJ_MAX_DIM: usize = 3;

/// (C-quad) for the minimiser box `x`: P from the Lyapunov equation at c = mid X, γ by
/// bisection, V̄ ≥ γ·½λ_min(P)·dist(c, ∂D)² − γ·½λ_max(P)ρ² (K = B̄(c, ρ) ⊇ X).
/// `max_boxes / HJ_BUDGET_DIVISOR` is the total budget of all γ trials.
pub fn c_quad(
    l: &Landscape,
    noise: &NoiseModel,
    domain: &Domain,
    x: &[Interval],
    max_boxes: usize,
) -> Result<HjCertificate, String> {
    let d = x.len();
    let c: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    let mut h = vec![0.0; d * d];
    l.hessian(&c, &mut h);
    let mut sig = vec![0.0; d * d];
    noise.covariance(l, &c, &mut sig);
    let mut p = lyapunov_inverse(&h, &sig, d).ok_or(
        "the Lyapunov equation HC + CH = Σ at the minimiser has no positive-definite solution in f64",
    )?;
    // ∇W = γP(θ − c) needs P exactly symmetric: copy the upper triangle down.
    for i in 0..d {
        for j in 0..i {
            p[i * d + j] = p[j * d + i];
        }
    }
    let pi: Vec<Interval> = p.iter().map(|&v| point(v)).collect();
    let eig_p = sym_eig_bounds(&pi, d).ok_or("the eigenvalues of P could not be enclosed")?;
    if !(eig_p.min.inf() > 0.0) {
        return Err("λ_min(P) is not certified positive".into());
    }
    let rho_x = max_dist(x, &c);
    let dist = boundary_distance(domain, &c);
    let rho = (2.0 * rho_x)
        .max(1e-4 * domain_scale(domain))
        .min(0.5 * dist);
    if !(rho >= rho_x && dist > rho) {
        return Err("the minimiser box is not well inside D".into());
    }
    let ctx = QuadCtx::new(l, noise, domain, c.clone(), &p, rho);
    let runs_max = 2 + GAMMA_MIN_LOG2 as usize + GAMMA_BISECTIONS;
    let per_run = if d <= HJ_MAX_DIM {
        (max_boxes / HJ_BUDGET_DIVISOR / runs_max).max(1)
    } else {
        64
    };
    let mut boxes = 0usize;
    let mut tree = None;
    let mut try_gamma = |g: f64| {
        let mut r = hj_check(&ctx, g, per_run);
        boxes += r.boxes;
        if r.holds {
            // Every certified γ is larger than the previous one: keep the last tree.
            tree = r.tree.take();
        }
        r
    };
    let mut gamma;
    let mut stop: Option<String> = None;
    let first = try_gamma(GAMMA_TOP);
    let mut last_failure = first.failure.clone();
    if first.holds {
        gamma = GAMMA_TOP;
    } else {
        let mut hi = GAMMA_TOP;
        let mut lo = None;
        for k in 1..=GAMMA_MIN_LOG2 {
            let g = 0.5f64.powi(k);
            let r = try_gamma(g);
            if r.holds {
                lo = Some(g);
                break;
            }
            last_failure = r.failure;
            hi = g;
        }
        let Some(mut lo) = lo else {
            return Err(format!(
                "the HJ inequality was not certified for any γ ≥ 2^-{GAMMA_MIN_LOG2} ({})",
                last_failure.unwrap_or_default()
            ));
        };
        for _ in 0..GAMMA_BISECTIONS {
            let g = 0.5 * (lo + hi);
            let r = try_gamma(g);
            if r.holds {
                lo = g;
            } else {
                hi = g;
                last_failure = r.failure;
            }
        }
        stop = Some(format!(
            "; γ = {hi:.6}: {}",
            last_failure.clone().unwrap_or_default()
        ));
        gamma = lo;
    }
    gamma = gamma.min(1.0);
    let gi = point(gamma);
    let wmin = point(0.5) * gi * point(eig_p.min.inf()) * point(dist).sqr();
    let corr = (point(0.5) * gi * point(eig_p.max.sup()) * point(rho).sqr()).sup();
    let lower = (wmin - point(corr)).inf().max(0.0);
    Ok(HjCertificate {
        family: HjFamily::CQuad,
        lower,
        coefficient: None,
        gamma: Some(gamma),
        centre: c,
        p,
        inner_radius: rho,
        correction: corr,
        boxes,
        tree,
        detail: format!(
            "W = γ·½(θ−c)ᵀP(θ−c), P = C⁻¹ (HC + CH = Σ at c, f64), γ = {gamma:.6}: HJ inequality certified on D̄ ∖ B̄(c, {rho:.3e}) ({boxes} boxes over all γ trials); V̄ ≥ γ·½λ_min(P)·dist(c, ∂D)² − γ·½λ_max(P)ρ² (proofs/quadratic-hj-certificate.md){}",
            stop.unwrap_or_default()
        ),
    })
}
