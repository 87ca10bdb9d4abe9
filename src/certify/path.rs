//! Certified upper bounds on the continuous barrier V̄(D) by Lemma P (THEORY §3, E6):
//! V̄(D) ≤ S_geo(ψ) for any curve ψ from θ* to a point outside the open domain D.
//!
//! The curve is θ* → c (straight, c the midpoint of the minimiser box X) followed by a
//! polyline c = v₀, v₁, …, v_n with v_n ∉ D certified in intervals. The geometric action
//! of each segment is enclosed by an adaptive interval Riemann sum: on a sub-segment
//! α ∈ [α₀, α₁] the integrand (E6) is enclosed over the box hull of the sub-segment, and
//! ∫ ∈ (α₁ − α₀) · F(hull). The piece θ* → c is bounded for every θ* ∈ X at once by the
//! enclosure of the integrand over X with ψ' ∈ c − X. Candidate polylines (straight segment,
//! reversed gradient flow, geometric minimum action method) are computed in f64; they only
//! guide, every reported number is an interval computation.
//!
//! Proof: `proofs/geometric-action-upper-bound.md`.

use super::bnb;
use crate::landscape::{Domain, Landscape, NoiseModel, Scratch};
use crate::num::imat::{matvec, sym_eig_bounds, verified_solve};
use crate::num::{iv, point};
use inari::Interval;
use nalgebra::DMatrix;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Tuning of the path certification (none of these affects soundness).
#[derive(Clone, Debug)]
pub struct PathOptions {
    /// Refine sub-segments until the summed enclosure widths are at most
    /// `rel_tol` times the certified value (or the budget is spent).
    pub rel_tol: f64,
    /// Budget of sub-segments per candidate polyline.
    pub max_subsegments: usize,
    /// Points of the gMAM string (including both ends).
    pub gmam_points: usize,
    /// L-BFGS iterations of the gMAM (in rounds of [`GMAM_ROUND`] between
    /// reparametrisations).
    pub gmam_iters: usize,
    /// Steps of the normalised gradient flow per distance |y − c|.
    pub flow_steps: usize,
    /// Tolerance of the first, coarse certification of every candidate; only candidates
    /// whose coarse enclosure can still beat the best are refined to `rel_tol`.
    pub coarse_rel_tol: f64,
}

impl Default for PathOptions {
    fn default() -> Self {
        PathOptions {
            rel_tol: 5e-4,
            max_subsegments: 200_000,
            gmam_points: 40,
            gmam_iters: 400,
            flow_steps: 400,
            coarse_rel_tol: 1e-2,
        }
    }
}

/// Iterations of L-BFGS between two arc-length reparametrisations of the gMAM string.
pub const GMAM_ROUND: usize = 50;

/// The certified bound of one candidate polyline.
#[derive(Clone, Debug)]
pub struct CandidateBound {
    /// "straight segment", "reversed gradient flow", "gMAM", …
    pub name: String,
    /// Enclosure of the total certified action (start piece + polyline); its upper end is
    /// the bound. `None` when the candidate is not available or could not be certified.
    pub value: Option<Interval>,
    /// Vertices v₀ = c, …, v_n (f64, exact as given).
    pub vertices: Vec<Vec<f64>>,
    /// For each segment, the sub-segment break points 0 = α₀ < … < α_m = 1.
    pub breakpoints: Vec<Vec<f64>>,
    /// Why the candidate is missing, or how it was built.
    pub note: String,
    /// Wall-clock seconds spent certifying this candidate (informational).
    pub seconds: f64,
}

/// The best certified Lemma P bound over the candidates, with the evidence to recheck it.
#[derive(Clone, Debug)]
pub struct PathBound {
    /// Enclosure of the certified action of the winning curve; V̄(D) ≤ `value.sup()`.
    /// `[0, +∞]` when no candidate was certified.
    pub value: Interval,
    /// Name of the winning candidate ("none" when no candidate was certified).
    pub candidate: String,
    /// Vertices of the winning polyline (v₀ = c, the midpoint of X; v_n ∉ D).
    pub vertices: Vec<Vec<f64>>,
    /// Sub-segment break points per segment of the winning polyline.
    pub breakpoints: Vec<Vec<f64>>,
    /// Total number of sub-segments of the winning polyline.
    pub subsegments: usize,
    /// Certified bound [0, sup] of the action of the piece θ* → c, for every θ* ∈ X.
    pub start_piece: Interval,
    /// Every candidate, certified or not.
    pub candidates: Vec<CandidateBound>,
}

impl PathBound {
    /// The certified upper bound on V̄(D) (+∞ when none).
    pub fn upper(&self) -> f64 {
        self.value.sup()
    }
}

// ---------------------------------------------------------------------------------------
// Boundary handling: the one place that knows the shape of D (extend here for new kinds).
// ---------------------------------------------------------------------------------------

/// Certified: the f64 point `y` is not in the open domain D (so y ∈ ∂D or y ∉ D̄).
pub fn certified_outside(domain: &Domain, y: &[f64]) -> bool {
    match domain {
        Domain::Interval { lo, hi } => y[0] <= *lo || y[0] >= *hi,
        Domain::Ball { center, radius } => {
            let p: Vec<Interval> = y.iter().map(|&v| point(v)).collect();
            bnb::dist2(&p, center).inf() >= point(*radius).sqr().sup()
        }
        // Exact f64 comparisons: some coordinate on or beyond its face.
        Domain::Box { lo, hi } => y
            .iter()
            .zip(lo.iter().zip(hi))
            .any(|(v, (a, b))| *v <= *a || *v >= *b),
    }
}

/// An f64 approximation of the point of ∂D nearest to `p` (a guide only).
pub fn project_to_boundary(domain: &Domain, p: &[f64]) -> Vec<f64> {
    match domain {
        Domain::Interval { lo, hi } => {
            if (p[0] - lo).abs() <= (p[0] - hi).abs() {
                vec![*lo]
            } else {
                vec![*hi]
            }
        }
        Domain::Ball { center, radius } => {
            let n = p
                .iter()
                .zip(center)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
            if n > 0.0 {
                p.iter()
                    .zip(center)
                    .map(|(a, b)| b + radius * (a - b) / n)
                    .collect()
            } else {
                let mut q = center.clone();
                q[0] += radius;
                q
            }
        }
        Domain::Box { lo, hi } => {
            // The nearest face: set that coordinate to the face, clamp the others.
            let mut q: Vec<f64> = p
                .iter()
                .zip(lo.iter().zip(hi))
                .map(|(v, (a, b))| v.clamp(*a, *b))
                .collect();
            let mut best = (f64::INFINITY, 0usize, lo[0]);
            for i in 0..q.len() {
                for face in [lo[i], hi[i]] {
                    let dist = (q[i] - face).abs();
                    if dist < best.0 {
                        best = (dist, i, face);
                    }
                }
            }
            q[best.1] = best.2;
            q
        }
    }
}

/// A boundary point near `p` nudged outward until [`certified_outside`] proves it is not
/// in D (the nudge is a few ulps of the radius).
pub fn push_outside(domain: &Domain, p: &[f64]) -> Option<Vec<f64>> {
    let q = project_to_boundary(domain, p);
    match domain {
        Domain::Interval { .. } | Domain::Box { .. } => certified_outside(domain, &q).then_some(q),
        Domain::Ball { center, radius } => {
            let mut f = 1e-15;
            for _ in 0..40 {
                let y: Vec<f64> = q
                    .iter()
                    .zip(center)
                    .map(|(a, b)| b + (a - b) * (1.0 + f))
                    .collect();
                if certified_outside(domain, &y) {
                    return Some(y);
                }
                f *= 2.0;
                if f > 1e-6 * radius.max(1.0) {
                    break;
                }
            }
            None
        }
    }
}

// ---------------------------------------------------------------------------------------
// The interval integrand of E6.
// ---------------------------------------------------------------------------------------

enum SigmaInv {
    /// 1/σ² enclosed.
    Iso(Interval),
    /// An enclosure of Σ⁻¹ (verified solve per column).
    Const(Vec<Interval>),
    /// Σ(θ) depends on θ: verified solves per box.
    State,
}

/// Interval enclosure of f(θ, δ) = |δ|_{Σ⁻¹(θ)} |∇L(θ)|_{Σ⁻¹(θ)} + ⟨δ, ∇L(θ)⟩_{Σ⁻¹(θ)}
/// over a box of θ and a box of δ.
pub struct Integrand<'a> {
    l: &'a Landscape,
    noise: &'a NoiseModel,
    d: usize,
    sinv: SigmaInv,
    scratch: Scratch<Interval>,
    g: Vec<Interval>,
    sig: Vec<Interval>,
}

fn sqrt0(x: Interval) -> Option<Interval> {
    if x.is_empty() || !(x.sup() >= 0.0) || !x.sup().is_finite() {
        return None;
    }
    Some(iv(x.inf().max(0.0), x.sup()).sqrt())
}

fn dot(a: &[Interval], b: &[Interval]) -> Interval {
    a.iter()
        .zip(b)
        .fold(point(0.0), |s, (x, y)| x.mul_add(*y, s))
}

impl<'a> Integrand<'a> {
    /// Prepares the integrand; `Err` when Σ is not certified positive definite at the
    /// minimiser box `x` (needed for the sign argument of the proof, §2).
    pub fn new(l: &'a Landscape, noise: &'a NoiseModel, x: &[Interval]) -> Result<Self, String> {
        let d = x.len();
        let mut sig = vec![point(0.0); d * d];
        noise.covariance(l, x, &mut sig);
        let pd = sym_eig_bounds(&sig, d).is_some_and(|e| e.min.inf() > 0.0);
        if !pd {
            return Err("Σ is not certified positive definite on the minimiser box".into());
        }
        let sinv = match noise {
            NoiseModel::Isotropic { sigma } => SigmaInv::Iso(point(1.0) / point(*sigma).sqr()),
            NoiseModel::Constant { .. } => {
                let mut inv = vec![point(0.0); d * d];
                for j in 0..d {
                    let e: Vec<Interval> = (0..d)
                        .map(|i| point(if i == j { 1.0 } else { 0.0 }))
                        .collect();
                    let col = verified_solve(&sig, &e, d)
                        .ok_or("Σ⁻¹ could not be enclosed by a verified solve")?;
                    for i in 0..d {
                        inv[i * d + j] = col[i];
                    }
                }
                SigmaInv::Const(inv)
            }
            NoiseModel::Hessian { .. } | NoiseModel::Data => SigmaInv::State,
        };
        Ok(Integrand {
            l,
            noise,
            d,
            sinv,
            scratch: Scratch::new(),
            g: vec![point(0.0); d],
            sig,
        })
    }

    /// Enclosure of f over θ ∈ `b`, δ ∈ `delta`, intersected with [0, ∞) (f ≥ 0 where Σ ≻ 0,
    /// by Cauchy–Schwarz); `None` when no finite enclosure was obtained.
    pub fn eval(&mut self, b: &[Interval], delta: &[Interval]) -> Option<Interval> {
        self.l.gradient_with(b, &mut self.g, &mut self.scratch);
        let g = &self.g;
        let (dd, gg, dg, scale) = match &self.sinv {
            SigmaInv::Iso(s) => (dot(delta, delta), dot(g, g), dot(delta, g), Some(*s)),
            SigmaInv::Const(m) => {
                let u = matvec(m, g, self.d, self.d);
                let w = matvec(m, delta, self.d, self.d);
                (dot(delta, &w), dot(g, &u), dot(delta, &u), None)
            }
            SigmaInv::State => {
                self.noise.covariance(self.l, b, &mut self.sig);
                let u = verified_solve(&self.sig, g, self.d)?;
                let w = verified_solve(&self.sig, delta, self.d)?;
                (dot(delta, &w), dot(g, &u), dot(delta, &u), None)
            }
        };
        let mut f = sqrt0(dd)? * sqrt0(gg)? + dg;
        if let Some(s) = scale {
            f *= s;
        }
        let f = f.intersection(iv(0.0, f64::INFINITY));
        (!f.is_empty() && f.sup().is_finite()).then_some(f)
    }
}

// ---------------------------------------------------------------------------------------
// Adaptive interval quadrature along a polyline.
// ---------------------------------------------------------------------------------------

struct Leaf {
    w: f64,
    seg: usize,
    a0: f64,
    a1: f64,
    contrib: Option<Interval>,
}
impl PartialEq for Leaf {
    fn eq(&self, o: &Self) -> bool {
        self.w == o.w
    }
}
impl Eq for Leaf {}
impl PartialOrd for Leaf {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Leaf {
    fn cmp(&self, o: &Self) -> Ordering {
        self.w.partial_cmp(&o.w).unwrap_or(Ordering::Equal)
    }
}

/// The enclosure (α₁ − α₀)·F(hull) of ∫_{α₀}^{α₁} f(ψ(α), b − a) dα on the segment a → b.
fn sub_contrib(ig: &mut Integrand, a: &[f64], b: &[f64], a0: f64, a1: f64) -> Option<Interval> {
    let delta: Vec<Interval> = a
        .iter()
        .zip(b)
        .map(|(&p, &q)| point(q) - point(p))
        .collect();
    let hull: Vec<Interval> = a
        .iter()
        .zip(&delta)
        .map(|(&p, dl)| {
            let x0 = point(p) + point(a0) * *dl;
            let x1 = point(p) + point(a1) * *dl;
            iv(x0.inf().min(x1.inf()), x0.sup().max(x1.sup()))
        })
        .collect();
    let f = ig.eval(&hull, &delta)?;
    Some((point(a1) - point(a0)) * f)
}

/// Enclosure of the geometric action of the polyline `verts` with the given sub-segment
/// break points (no refinement): the recheck path for a certificate. `None` when a
/// sub-segment has no finite enclosure or the break points are malformed.
pub fn enclose_polyline_fixed(
    ig: &mut Integrand,
    verts: &[Vec<f64>],
    breakpoints: &[Vec<f64>],
) -> Option<Interval> {
    if breakpoints.len() + 1 != verts.len() {
        return None;
    }
    let mut total = point(0.0);
    for (k, bp) in breakpoints.iter().enumerate() {
        let ok = bp.len() >= 2
            && bp[0] == 0.0
            && *bp.last().unwrap() == 1.0
            && bp.windows(2).all(|w| w[0] < w[1]);
        if !ok {
            return None;
        }
        for w in bp.windows(2) {
            total += sub_contrib(ig, &verts[k], &verts[k + 1], w[0], w[1])?;
        }
    }
    Some(total)
}

/// Adaptive version: starts with one sub-segment per segment and bisects the sub-segment
/// with the widest contribution until the summed widths are ≤ `rel_tol` × the value or
/// `budget` sub-segments exist. Returns the enclosure and the break points.
pub fn enclose_polyline(
    ig: &mut Integrand,
    verts: &[Vec<f64>],
    rel_tol: f64,
    budget: usize,
) -> (Option<Interval>, Vec<Vec<f64>>) {
    let nseg = verts.len().saturating_sub(1);
    let mut heap = BinaryHeap::new();
    let push = |heap: &mut BinaryHeap<Leaf>, ig: &mut Integrand, seg: usize, a0, a1| {
        let c = sub_contrib(ig, &verts[seg], &verts[seg + 1], a0, a1);
        let w = c.map_or(f64::INFINITY, |c| c.wid());
        heap.push(Leaf {
            w,
            seg,
            a0,
            a1,
            contrib: c,
        });
    };
    for k in 0..nseg {
        push(&mut heap, ig, k, 0.0, 1.0);
    }
    let sums = |heap: &BinaryHeap<Leaf>| {
        heap.iter().fold((0.0f64, 0.0f64), |(w, v), l| {
            (w + l.w, v + l.contrib.map_or(0.0, |c| c.inf()))
        })
    };
    let mut check_every = nseg.max(16);
    let mut since = 0usize;
    while heap.len() < budget {
        since += 1;
        if since >= check_every {
            since = 0;
            let (w, v) = sums(&heap);
            if w <= rel_tol * v {
                break;
            }
            check_every = (heap.len() / 8).max(16);
        }
        let Some(top) = heap.peek() else { break };
        if top.w == 0.0 || top.a1 - top.a0 < 1e-12 {
            break;
        }
        let top = heap.pop().unwrap();
        let m = 0.5 * (top.a0 + top.a1);
        push(&mut heap, ig, top.seg, top.a0, m);
        push(&mut heap, ig, top.seg, m, top.a1);
    }
    let mut bps: Vec<Vec<f64>> = vec![vec![1.0]; nseg];
    let mut all_finite = true;
    for leaf in heap.iter() {
        bps[leaf.seg].push(leaf.a0);
        all_finite &= leaf.contrib.is_some();
    }
    for b in bps.iter_mut() {
        b.sort_by(|a, c| a.partial_cmp(c).unwrap());
    }
    if !all_finite {
        return (None, bps);
    }
    // The reported sum is the one a recheck computes (same order, same rounding).
    (enclose_polyline_fixed(ig, verts, &bps), bps)
}

/// Certified bound [0, sup] on the action of the straight piece θ* → c for every θ* ∈ X:
/// ψ(α) = θ* + α(c − θ*) stays in the box X (c is its midpoint) and ψ' = c − θ* ∈ c − X,
/// so the integral over α ∈ [0, 1] is ≤ sup F(X, c − X).
pub fn start_piece(ig: &mut Integrand, x: &[Interval], c: &[f64]) -> Option<Interval> {
    let delta: Vec<Interval> = x.iter().zip(c).map(|(xi, &ci)| point(ci) - *xi).collect();
    let f = ig.eval(x, &delta)?;
    Some(iv(0.0, f.sup()))
}

// ---------------------------------------------------------------------------------------
// Candidates (f64 guides).
// ---------------------------------------------------------------------------------------

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// The normalised gradient flow θ' = −∇L/|∇L| (RK4, arc-length steps) from `y`; returns
/// the visited points and whether it came within 1.5 steps of `c`.
fn gradient_flow(l: &Landscape, y: &[f64], c: &[f64], steps: usize) -> (Vec<Vec<f64>>, bool) {
    let d = y.len();
    let ds = dist(y, c) / steps as f64;
    let field = |p: &[f64]| -> Option<Vec<f64>> {
        let mut g = vec![0.0; d];
        l.gradient(p, &mut g);
        let n = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        (n > 0.0 && n.is_finite()).then(|| g.iter().map(|v| -v / n).collect())
    };
    let add = |p: &[f64], k: &[f64], h: f64| -> Vec<f64> {
        p.iter().zip(k).map(|(a, b)| a + h * b).collect()
    };
    let mut pts = vec![y.to_vec()];
    let mut p = y.to_vec();
    for _ in 0..20 * steps {
        if dist(&p, c) < 1.5 * ds {
            return (pts, true);
        }
        let Some(k1) = field(&p) else { break };
        let Some(k2) = field(&add(&p, &k1, 0.5 * ds)) else {
            break;
        };
        let Some(k3) = field(&add(&p, &k2, 0.5 * ds)) else {
            break;
        };
        let Some(k4) = field(&add(&p, &k3, ds)) else {
            break;
        };
        p = p
            .iter()
            .enumerate()
            .map(|(i, v)| v + ds / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
            .collect();
        pts.push(p.clone());
    }
    let ok = dist(&p, c) < 1.5 * ds;
    (pts, ok)
}

/// f64 evaluation of the discretised geometric action (a guide only): Σ⁻¹ precomputed
/// for constant noise, scratch space reused.
struct F64Action<'a> {
    l: &'a Landscape,
    noise: &'a NoiseModel,
    const_inv: Option<DMatrix<f64>>,
    scratch: std::cell::RefCell<Scratch<f64>>,
}

impl<'a> F64Action<'a> {
    fn new(l: &'a Landscape, noise: &'a NoiseModel, d: usize) -> Self {
        let const_inv = if noise.is_constant() {
            sigma_inv_f64(l, noise, &vec![0.0; d])
        } else {
            None
        };
        F64Action {
            l,
            noise,
            const_inv,
            scratch: std::cell::RefCell::new(Scratch::new()),
        }
    }

    /// Geometric action of one segment p → q (midpoint rule).
    fn seg(&self, p: &[f64], q: &[f64]) -> f64 {
        let d = p.len();
        let m: Vec<f64> = p.iter().zip(q).map(|(a, b)| 0.5 * (a + b)).collect();
        let dl: Vec<f64> = p.iter().zip(q).map(|(a, b)| b - a).collect();
        let mut g = vec![0.0; d];
        self.l
            .gradient_with(&m, &mut g, &mut self.scratch.borrow_mut());
        let owned;
        let mi = match &self.const_inv {
            Some(mi) => mi,
            None => match sigma_inv_f64(self.l, self.noise, &m) {
                Some(x) => {
                    owned = x;
                    &owned
                }
                None => return f64::INFINITY,
            },
        };
        let quad = |u: &[f64], v: &[f64]| -> f64 {
            let mut s = 0.0;
            for i in 0..d {
                for j in 0..d {
                    s += u[i] * mi[(i, j)] * v[j];
                }
            }
            s
        };
        quad(&dl, &dl).max(0.0).sqrt() * quad(&g, &g).max(0.0).sqrt() + quad(&dl, &g)
    }

    fn polyline(&self, verts: &[Vec<f64>]) -> f64 {
        verts.windows(2).map(|w| self.seg(&w[0], &w[1])).sum()
    }
}

/// f64 Σ(m)⁻¹ (a guide only).
fn sigma_inv_f64(l: &Landscape, noise: &NoiseModel, m: &[f64]) -> Option<DMatrix<f64>> {
    let d = m.len();
    let mut s = vec![0.0; d * d];
    noise.covariance(l, m, &mut s);
    let sm = DMatrix::from_row_slice(d, d, &s);
    sm.cholesky().map(|c| c.inverse())
}

/// f64 geometric action of a polyline (midpoint rule; a guide only).
pub fn polyline_action_f64(l: &Landscape, noise: &NoiseModel, verts: &[Vec<f64>]) -> f64 {
    let d = verts.first().map_or(0, |v| v.len());
    F64Action::new(l, noise, d).polyline(verts)
}

/// Resamples a polyline to `n` points equally spaced in arc length (ends kept).
fn resample(verts: &[Vec<f64>], n: usize) -> Vec<Vec<f64>> {
    let mut cum = vec![0.0];
    for w in verts.windows(2) {
        cum.push(cum.last().unwrap() + dist(&w[0], &w[1]));
    }
    let total = *cum.last().unwrap();
    if total <= 0.0 || verts.len() < 2 {
        return verts.to_vec();
    }
    let mut out = Vec::with_capacity(n);
    let mut k = 0;
    for i in 0..n {
        let s = total * i as f64 / (n - 1) as f64;
        while k + 2 < cum.len() && cum[k + 1] < s {
            k += 1;
        }
        let seg = cum[k + 1] - cum[k];
        let t = if seg > 0.0 {
            ((s - cum[k]) / seg).clamp(0.0, 1.0)
        } else {
            0.0
        };
        out.push(
            verts[k]
                .iter()
                .zip(&verts[k + 1])
                .map(|(a, b)| a + t * (b - a))
                .collect(),
        );
    }
    out[0] = verts[0].clone();
    out[n - 1] = verts.last().unwrap().clone();
    out
}

/// Geometric minimum action method in f64 (a guide only): the discretised geometric
/// action Σ_k S_seg(φ_k, φ_{k+1}) (midpoint rule) is minimised over the interior points
/// and the free end point (kept on ∂D by [`project_to_boundary`]) by L-BFGS with local
/// central-difference gradients, reparametrising by arc length every [`GMAM_ROUND`]
/// iterations (string method). φ₀ = c is fixed.
pub fn gmam(
    l: &Landscape,
    noise: &NoiseModel,
    domain: &Domain,
    init: &[Vec<f64>],
    points: usize,
    iters: usize,
) -> Vec<Vec<f64>> {
    let d = init[0].len();
    let n = points.max(3);
    let mut path = resample(init, n);
    let scale = dist(&path[0], &path[n - 1]).max(1e-300);
    let c = path[0].clone();
    let unpack = |x: &[f64]| -> Vec<Vec<f64>> {
        let mut p = vec![c.clone()];
        for k in 0..n - 1 {
            p.push(x[k * d..(k + 1) * d].to_vec());
        }
        let last = p.pop().unwrap();
        p.push(project_to_boundary(domain, &last));
        p
    };
    let act = F64Action::new(l, noise, d);
    let objective = |x: &[f64]| act.polyline(&unpack(x));
    // Local central differences: moving point k changes only its two segments.
    let grad = |x: &[f64]| -> Vec<f64> {
        let h = 1e-7 * scale;
        let p = unpack(x);
        let mut gr = vec![0.0; x.len()];
        for k in 1..n {
            for i in 0..d {
                let mut xp = x[(k - 1) * d..k * d].to_vec();
                let eval = |v: &[f64]| -> f64 {
                    let q = if k == n - 1 {
                        project_to_boundary(domain, v)
                    } else {
                        v.to_vec()
                    };
                    let mut s = act.seg(&p[k - 1], &q);
                    if k + 1 < n {
                        s += act.seg(&q, &p[k + 1]);
                    }
                    s
                };
                xp[i] += h;
                let fp = eval(&xp);
                xp[i] -= 2.0 * h;
                let fm = eval(&xp);
                gr[(k - 1) * d + i] = (fp - fm) / (2.0 * h);
            }
        }
        gr
    };
    let mut done = 0;
    let mut prev = act.polyline(&path);
    while done < iters {
        let mut x: Vec<f64> = path[1..].iter().flatten().copied().collect();
        lbfgs(&objective, &grad, &mut x, GMAM_ROUND.min(iters - done));
        done += GMAM_ROUND;
        let p = unpack(&x);
        if p.iter().flatten().any(|v| !v.is_finite()) {
            break;
        }
        path = resample(&p, n);
        let last = path.pop().unwrap();
        path.push(project_to_boundary(domain, &last));
        // Stop when a round (L-BFGS and reparametrisation) no longer improves the action.
        let now = act.polyline(&path);
        if !(now < prev - 1e-6 * prev.abs()) {
            break;
        }
        prev = now;
    }
    path
}

/// A small L-BFGS (memory 8) with Armijo backtracking; stops early when no descent.
fn lbfgs(
    f: &dyn Fn(&[f64]) -> f64,
    grad: &dyn Fn(&[f64]) -> Vec<f64>,
    x: &mut Vec<f64>,
    iters: usize,
) {
    let dotf = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
    let mut fx = f(x);
    let mut g = grad(x);
    let mut hist: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    for _ in 0..iters {
        // Two-loop recursion.
        let mut q = g.clone();
        let mut alphas = Vec::new();
        for (s, y, rho) in hist.iter().rev() {
            let a = rho * dotf(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        if let Some((s, y, _)) = hist.last() {
            let gamma = dotf(s, y) / dotf(y, y);
            q.iter_mut().for_each(|v| *v *= gamma);
        } else {
            let gn = dotf(&g, &g).sqrt().max(1e-300);
            let xn = dotf(x, x).sqrt().max(1.0);
            q.iter_mut().for_each(|v| *v *= 1e-3 * xn / gn);
        }
        for ((s, y, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let b = rho * dotf(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dotf(&g, &dir);
        if !(slope < 0.0) {
            hist.clear();
            dir = g.iter().map(|v| -v * 1e-3).collect();
            slope = dotf(&g, &dir);
            if !(slope < 0.0) {
                return;
            }
        }
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let xn: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a + t * b).collect();
            let fnew = f(&xn);
            if fnew.is_finite() && fnew <= fx + 1e-4 * t * slope {
                accepted = Some((xn, fnew));
                break;
            }
            t *= 0.5;
        }
        let Some((xn, fnew)) = accepted else { return };
        let gn = grad(&xn);
        let s: Vec<f64> = xn.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dotf(&s, &y);
        if sy > 1e-300 {
            hist.push((s, y, 1.0 / sy));
            if hist.len() > 8 {
                hist.remove(0);
            }
        }
        let improvement = fx - fnew;
        *x = xn;
        fx = fnew;
        g = gn;
        if improvement <= 1e-12 * fx.abs() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Certification of candidates and the public entry point.
// ---------------------------------------------------------------------------------------

/// Certifies one polyline v₀ = c, …, v_n: checks v₀ = c, v_n ∉ D, that L is defined on the
/// bounding box of the polyline, then encloses the action. Returns the candidate record.
#[allow(clippy::too_many_arguments)]
fn certify_candidate(
    name: &str,
    l: &Landscape,
    ig: &mut Integrand,
    domain: &Domain,
    c: &[f64],
    start: Interval,
    verts: Vec<Vec<f64>>,
    opts: &PathOptions,
    rel_tol: f64,
    note: String,
) -> CandidateBound {
    let t0 = std::time::Instant::now();
    let fail = |why: String, verts: Vec<Vec<f64>>| CandidateBound {
        name: name.to_string(),
        value: None,
        vertices: verts,
        breakpoints: Vec::new(),
        note: why,
        seconds: t0.elapsed().as_secs_f64(),
    };
    if verts.len() < 2 || verts[0] != c {
        return fail("the polyline does not start at c".into(), verts);
    }
    if verts.iter().flatten().any(|v| !v.is_finite()) {
        return fail("a vertex is not finite".into(), verts);
    }
    if !certified_outside(domain, verts.last().unwrap()) {
        return fail(
            "the last vertex is not certified to lie outside the open domain".into(),
            verts,
        );
    }
    let d = c.len();
    let hull: Vec<Interval> = (0..d)
        .map(|i| {
            let lo = verts.iter().map(|v| v[i]).fold(f64::INFINITY, f64::min);
            let hi = verts.iter().map(|v| v[i]).fold(f64::NEG_INFINITY, f64::max);
            iv(lo, hi)
        })
        .collect();
    if let Err(e) = l.check_domain(&hull) {
        return fail(
            format!("the landscape is not certified smooth along the path: {e}"),
            verts,
        );
    }
    let (val, bps) = enclose_polyline(ig, &verts, rel_tol, opts.max_subsegments);
    match val {
        Some(v) => CandidateBound {
            name: name.to_string(),
            value: Some(start + v),
            vertices: verts,
            breakpoints: bps,
            note,
            seconds: t0.elapsed().as_secs_f64(),
        },
        None => CandidateBound {
            name: name.to_string(),
            value: None,
            vertices: verts,
            breakpoints: bps,
            note: "some sub-segment has no finite enclosure of the integrand (e.g. Σ(θ) not certified invertible there) within the sub-segment budget".into(),
            seconds: t0.elapsed().as_secs_f64(),
        },
    }
}

/// Lemma P: the smallest certified upper bound on V̄(D) over the candidate curves
/// (straight segment c → exit point, reversed gradient flow from the exit point,
/// and — for d ≥ 2 — the gMAM path initialised from the better of the two), each
/// preceded by the piece θ* → c bounded for every θ* in the minimiser box `x`.
/// Needs neither (H1) nor (H2); see `proofs/geometric-action-upper-bound.md`.
pub fn path_upper_bound(
    l: &Landscape,
    noise: &NoiseModel,
    domain: &Domain,
    x: &[Interval],
    exit_point: &[f64],
    opts: &PathOptions,
) -> PathBound {
    let c: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    let d = c.len();
    let none = |why: String, start: Interval, candidates: Vec<CandidateBound>| PathBound {
        value: iv(0.0, f64::INFINITY),
        candidate: format!("none: {why}"),
        vertices: Vec::new(),
        breakpoints: Vec::new(),
        subsegments: 0,
        start_piece: start,
        candidates,
    };
    let mut ig = match Integrand::new(l, noise, x) {
        Ok(ig) => ig,
        Err(e) => return none(e, iv(0.0, f64::INFINITY), Vec::new()),
    };
    let Some(start) = start_piece(&mut ig, x, &c) else {
        return none(
            "the integrand has no finite enclosure on the minimiser box".into(),
            iv(0.0, f64::INFINITY),
            Vec::new(),
        );
    };
    let mut cands: Vec<CandidateBound> = Vec::new();
    let coarse = opts.coarse_rel_tol.max(opts.rel_tol);
    let y = push_outside(domain, exit_point);
    let Some(y) = y else {
        return none(
            "no boundary point could be certified outside the domain".into(),
            start,
            cands,
        );
    };
    // 1. The straight segment c → y.
    cands.push(certify_candidate(
        "straight segment",
        l,
        &mut ig,
        domain,
        &c,
        start,
        vec![c.clone(), y.clone()],
        opts,
        coarse,
        "c → lowest boundary point".into(),
    ));
    if let Domain::Interval { lo, hi } = domain {
        // The other end of the interval.
        let other = if y[0] <= *lo { vec![*hi] } else { vec![*lo] };
        cands.push(certify_candidate(
            "straight segment (other end)",
            l,
            &mut ig,
            domain,
            &c,
            start,
            vec![c.clone(), other],
            opts,
            coarse,
            "c → the other end point".into(),
        ));
    }
    // 2. The reversed gradient flow from y.
    let (flow, reached) = gradient_flow(l, &y, &c, opts.flow_steps);
    if reached {
        let mut verts: Vec<Vec<f64>> = vec![c.clone()];
        let stride = (flow.len() / 200).max(1);
        let mut rev: Vec<Vec<f64>> = flow.iter().rev().step_by(stride).cloned().collect();
        // Make sure the polyline ends exactly at the certified outside point y.
        if rev.last() != Some(&y) {
            rev.push(y.clone());
        }
        verts.extend(rev);
        cands.push(certify_candidate(
            "reversed gradient flow",
            l,
            &mut ig,
            domain,
            &c,
            start,
            verts,
            opts,
            coarse,
            format!(
                "normalised gradient flow from the exit point, {} RK4 steps, reversed; straight piece to c",
                flow.len() - 1
            ),
        ));
    } else {
        cands.push(CandidateBound {
            name: "reversed gradient flow".into(),
            value: None,
            vertices: Vec::new(),
            breakpoints: Vec::new(),
            note: "not available: the gradient flow from the exit point did not come close to the minimiser".into(),
            seconds: 0.0,
        });
    }
    // 3. gMAM from the better of the two (d ≥ 2; in 1-D every monotone path is a
    // reparametrisation of the straight segment).
    if d >= 2 {
        let init = cands
            .iter()
            .filter(|c| c.value.is_some())
            .min_by(|a, b| {
                a.value
                    .unwrap()
                    .sup()
                    .partial_cmp(&b.value.unwrap().sup())
                    .unwrap_or(Ordering::Equal)
            })
            .map(|c| (c.vertices.clone(), c.name.clone()));
        if let Some((init, from)) = init {
            let tg = std::time::Instant::now();
            let p = gmam(l, noise, domain, &init, opts.gmam_points, opts.gmam_iters);
            let tg = tg.elapsed().as_secs_f64();
            let mut verts = p;
            let last = verts.pop().unwrap();
            match push_outside(domain, &last) {
                Some(e) => {
                    verts.push(e);
                    verts[0] = c.clone();
                    cands.push(certify_candidate(
                        "gMAM",
                        l,
                        &mut ig,
                        domain,
                        &c,
                        start,
                        verts,
                        opts,
                        coarse,
                        format!(
                            "geometric minimum action method, {} points, initialised from the {from}",
                            opts.gmam_points
                        ),
                    ));
                    if let Some(k) = cands.last_mut() {
                        k.seconds += tg;
                    }
                }
                None => cands.push(CandidateBound {
                    name: "gMAM".into(),
                    value: None,
                    vertices: verts,
                    breakpoints: Vec::new(),
                    note: "the end point could not be certified outside the domain".into(),
                    seconds: 0.0,
                }),
            }
        }
    }
    // Refine, to `rel_tol`, the candidate with the smallest coarse midpoint (the most
    // promising); the others keep their coarse (equally certified) bounds.
    let promising = cands
        .iter()
        .enumerate()
        .filter_map(|(i, k)| k.value.map(|v| (i, v.mid())))
        .min_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal))
        .map(|(i, _)| i);
    if coarse > opts.rel_tol {
        for (i, k) in cands.iter_mut().enumerate() {
            if Some(i) == promising {
                let note = k.note.clone();
                let secs = k.seconds;
                let mut fine = certify_candidate(
                    &k.name,
                    l,
                    &mut ig,
                    domain,
                    &c,
                    start,
                    k.vertices.clone(),
                    opts,
                    opts.rel_tol,
                    note,
                );
                fine.seconds += secs;
                // Keep the coarse result if the refinement failed (it is still certified).
                if fine.value.is_some() {
                    *k = fine;
                }
            }
        }
    }
    let best = cands
        .iter()
        .filter(|c| c.value.is_some())
        .min_by(|a, b| {
            a.value
                .unwrap()
                .sup()
                .partial_cmp(&b.value.unwrap().sup())
                .unwrap_or(Ordering::Equal)
        })
        .cloned();
    match best {
        Some(b) => PathBound {
            value: b.value.unwrap(),
            candidate: b.name.clone(),
            subsegments: b.breakpoints.iter().map(|v| v.len() - 1).sum(),
            vertices: b.vertices,
            breakpoints: b.breakpoints,
            start_piece: start,
            candidates: cands,
        },
        None => none("no candidate could be certified".into(), start, cands),
    }
}

/// Rechecks a Lemma P bound from its evidence alone (vertices and break points): the
/// first vertex is the midpoint of `x`, the last is certified outside D, and the action
/// enclosure is recomputed on the given sub-segments. Returns the certified bound.
pub fn recheck(
    l: &Landscape,
    noise: &NoiseModel,
    domain: &Domain,
    x: &[Interval],
    vertices: &[Vec<f64>],
    breakpoints: &[Vec<f64>],
) -> Option<f64> {
    let c: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    if vertices.first() != Some(&c) || !certified_outside(domain, vertices.last()?) {
        return None;
    }
    let d = c.len();
    let hull: Vec<Interval> = (0..d)
        .map(|i| {
            let lo = vertices.iter().map(|v| v[i]).fold(f64::INFINITY, f64::min);
            let hi = vertices
                .iter()
                .map(|v| v[i])
                .fold(f64::NEG_INFINITY, f64::max);
            iv(lo, hi)
        })
        .collect();
    l.check_domain(&hull).ok()?;
    let mut ig = Integrand::new(l, noise, x).ok()?;
    let s = start_piece(&mut ig, x, &c)?;
    let v = enclose_polyline_fixed(&mut ig, vertices, breakpoints)?;
    Some((s + v).sup())
}

/// Relative width below which the barrier enclosure counts as tight (E7 with (H1), E8),
/// so that the path certificate is not computed.
pub const TIGHT_REL_WIDTH: f64 = 1e-6;

/// Lowers the upper end of `barrier` to the Lemma P bound when that is smaller; the
/// method text then names the candidate and the proof. Skipped (returns `None`) when
/// the enclosure is already tight. Returns the path certificate when computed.
pub fn tighten_upper(
    barrier: &mut super::Bound,
    l: &Landscape,
    noise: &NoiseModel,
    domain: &Domain,
    x: &[Interval],
    exit_point: &[f64],
    proofs: &mut Vec<String>,
) -> Option<PathBound> {
    if let Some(v) = barrier.value {
        if v.sup().is_finite() && v.wid() <= TIGHT_REL_WIDTH * v.sup().abs() {
            return None;
        }
    }
    let pb = path_upper_bound(l, noise, domain, x, exit_point, &PathOptions::default());
    let up = pb.upper();
    let (lo, hi) = barrier
        .value
        .map_or((0.0, f64::INFINITY), |v| (v.inf(), v.sup()));
    if up < hi {
        if up >= lo {
            barrier.value = Some(iv(lo, up));
            barrier.method = format!(
                "{}; upper end: Lemma P, certified geometric action of the {} polyline ({} vertices, {} sub-segments) (proofs/geometric-action-upper-bound.md)",
                barrier.method,
                pb.candidate,
                pb.vertices.len(),
                pb.subsegments
            );
            proofs.push("proofs/geometric-action-upper-bound.md".into());
        } else {
            barrier.method = format!(
                "{}; WARNING: the Lemma P path bound {up:.6e} is below the lower end: contradiction, not used",
                barrier.method
            );
        }
    }
    Some(pb)
}
