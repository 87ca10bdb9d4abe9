//! Certified enclosures of the steepness s⁻(D) = inf s(θ) and s⁺(D) = sup s*(θ) over
//! D̄ ∖ {θ*} (THEORY E9, §4) by interval branch-and-bound over D̄ minus a small ball K
//! around the minimiser box X, with the Rayleigh bounds 1/λ_max(Σ) ≤ s ≤ s* ≤ 1/λ_min(Σ)
//! inside K. Works for every [`NoiseModel`]; the domain enters only through
//! [`meets_closure`], [`inside_closure`] and [`Domain::bounding_box`].
//!
//! Proof: `proofs/steepness-bounds.md` (§ branch-and-bound).

use super::bnb::{dist2, max_dist};
use super::evidence::{BnbTree, NodeId, TreeRecorder};
use crate::landscape::{Domain, Landscape, NoiseModel, Scratch};
use crate::num::imat::{isum, matvec, sym_eig_bounds, verified_solve};
use crate::num::{iv, point};
use inari::Interval;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Relative gap at which the steepness searches stop.
pub const STEEPNESS_REL_TOL: f64 = 1e-3;
/// Each steepness search uses `max_boxes / STEEPNESS_BUDGET_DIVISOR` boxes.
pub const STEEPNESS_BUDGET_DIVISOR: usize = 10;
/// Dimensions up to which the steepness searches bisect; above, one box (Rayleigh and
/// the box's own ratio enclosure) covers D̄.
pub const STEEPNESS_MAX_DIM: usize = 3;

/// Region test: `false` only when the box certainly misses D̄.
/// (A box-shaped domain equals its bounding box: it belongs to the `Interval` arm.)
pub fn meets_closure(domain: &Domain, b: &[Interval]) -> bool {
    match domain {
        Domain::Ball { center, radius } => dist2(b, center).inf() <= point(*radius).sqr().sup(),
        Domain::Interval { .. } | Domain::Box { .. } => true,
    }
}

/// Region test: `true` only when every point of the box certainly lies in D̄.
/// (A box-shaped domain: compare with its bounding box, as in the `Interval` arm.)
pub fn inside_closure(domain: &Domain, b: &[Interval]) -> bool {
    match domain {
        Domain::Ball { center, radius } => dist2(b, center).sup() <= point(*radius).sqr().inf(),
        Domain::Interval { .. } | Domain::Box { .. } => {
            let bb = domain.bounding_box();
            b.iter()
                .zip(&bb)
                .all(|(x, d)| x.inf() >= d.inf() && x.sup() <= d.sup())
        }
    }
}

/// A certified lower bound of dist(c, ∂D) for a point c ∈ D (0 when not certified).
/// (A box-shaped domain: the `Interval` arm, coordinate by coordinate.)
pub fn boundary_distance(domain: &Domain, c: &[f64]) -> f64 {
    let ci: Vec<Interval> = c.iter().map(|&v| point(v)).collect();
    match domain {
        Domain::Ball { center, radius } => {
            let o = max_dist(&ci, center);
            (point(*radius) - point(o)).inf().max(0.0)
        }
        Domain::Interval { .. } | Domain::Box { .. } => {
            let bb = domain.bounding_box();
            ci.iter()
                .zip(&bb)
                .map(|(x, d)| (*x - point(d.inf())).min(point(d.sup()) - *x).inf())
                .fold(f64::INFINITY, f64::min)
                .max(0.0)
        }
    }
}

/// The largest half-width of the bounding box of D̄ (a length scale).
pub fn domain_scale(domain: &Domain) -> f64 {
    domain
        .bounding_box()
        .iter()
        .fold(0.0f64, |a, x| a.max(0.5 * x.wid()))
}

/// Certified steepness enclosures.
#[derive(Clone, Debug)]
pub struct SteepnessEnclosure {
    /// Encloses s⁻(D) = inf_{D̄∖{θ*}} s.
    pub s_minus: Interval,
    /// Encloses s⁺(D) = sup_{D̄∖{θ*}} s*.
    pub s_plus: Interval,
    /// Radius of the ball K = B̄(c, ρ) ⊇ X (c = midpoint of X) handled by Rayleigh bounds.
    pub inner_radius: f64,
    /// Boxes processed by both searches.
    pub boxes: usize,
    /// False when a search ran out of budget before its gap closed.
    pub converged: bool,
    /// The bisection trees of the s⁻ and s⁺ searches (certificate evidence): `Excluded`
    /// leaves miss D̄ or lie inside K, `Proved` leaves carry [lower bound of s, upper bound
    /// of s*] on the box ([`box_bounds`]).
    pub minus_tree: Option<BnbTree>,
    pub plus_tree: Option<BnbTree>,
    /// The points of D̄ whose values give the inner ends (s⁻ upper, s⁺ lower), if any.
    pub minus_point: Option<Vec<f64>>,
    pub plus_point: Option<Vec<f64>>,
}

fn dot(a: &[Interval], b: &[Interval]) -> Interval {
    isum(a.iter().zip(b).map(|(x, y)| *x * *y))
}

/// Rayleigh bounds over a box: (1/λ_max(Σ(b)), 1/λ_min(Σ(b))), the second +∞ when
/// λ_min(Σ(b)) is not certified positive.
fn rayleigh(sig: &[Interval], d: usize) -> (f64, f64) {
    match sym_eig_bounds(sig, d) {
        Some(e) => {
            let lo = if e.max.sup() > 0.0 {
                (point(1.0) / point(e.max.sup())).inf()
            } else {
                0.0
            };
            let hi = if e.min.inf() > 0.0 {
                (point(1.0) / point(e.min.inf())).sup()
            } else {
                f64::INFINITY
            };
            (lo, hi)
        }
        None => (0.0, f64::INFINITY),
    }
}

/// Certified (lower bound of s, upper bound of s*) over the points θ of the box `b` with
/// ∇L(θ) ≠ 0, assuming Σ ≻ 0 there ((H2)).
pub fn box_bounds(
    l: &Landscape,
    noise: &NoiseModel,
    b: &[Interval],
    scratch: &mut Scratch<Interval>,
) -> (f64, f64) {
    let d = b.len();
    let mut g = vec![point(0.0); d];
    l.gradient_with(b, &mut g, scratch);
    let mut sig = vec![point(0.0); d * d];
    noise.covariance(l, b, &mut sig);
    let (mut lo, mut hi) = rayleigh(&sig, d);
    let n2 = isum(g.iter().map(|v| v.sqr()));
    if n2.inf() > 0.0 {
        // s = |g|²/(gᵀΣg) = 1/(uᵀΣu), s* = uᵀΣ⁻¹u with u = g/|g| (|u_i| ≤ 1).
        let gsg = dot(&g, &matvec(&sig, &g, d, d));
        if gsg.inf() > 0.0 {
            lo = lo.max((n2 / gsg).inf());
        }
        let n = n2.sqrt();
        let u: Vec<Interval> = g
            .iter()
            .map(|gi| {
                let q = *gi / n;
                let c = q.intersection(iv(-1.0, 1.0));
                if c.is_empty() {
                    q
                } else {
                    c
                }
            })
            .collect();
        let usu = dot(&u, &matvec(&sig, &u, d, d));
        if usu.inf() > 0.0 {
            lo = lo.max((point(1.0) / usu).inf());
        }
        if let Some(x) = verified_solve(&sig, &u, d) {
            hi = hi.min(dot(&u, &x).sup());
        }
    }
    (lo, hi)
}

/// Interval values (s(p), s*(p)) at a point p with ∇L(p) certified non-zero (so p ≠ θ*);
/// `None` otherwise. s*(p) is `None` when Σ(p)⁻¹∇L(p) could not be enclosed.
pub fn point_values(
    l: &Landscape,
    noise: &NoiseModel,
    p: &[f64],
) -> Option<(Interval, Option<Interval>)> {
    let d = p.len();
    let pi: Vec<Interval> = p.iter().map(|&v| point(v)).collect();
    let mut g = vec![point(0.0); d];
    l.gradient(&pi, &mut g);
    let n2 = isum(g.iter().map(|v| v.sqr()));
    if !(n2.inf() > 0.0) {
        return None;
    }
    let mut sig = vec![point(0.0); d * d];
    noise.covariance(l, &pi, &mut sig);
    let gsg = dot(&g, &matvec(&sig, &g, d, d));
    if !(gsg.inf() > 0.0) {
        return None;
    }
    let s = n2 / gsg;
    let sstar = verified_solve(&sig, &g, d).map(|x| dot(&g, &x) / n2);
    Some((s, sstar))
}

struct Item {
    key: f64,
    b: Vec<Interval>,
    id: NodeId,
    bounds: (f64, f64),
}
impl PartialEq for Item {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        // Min-heap on the key.
        o.key.partial_cmp(&self.key).unwrap_or(Ordering::Equal)
    }
}

/// One best-first search of min_{θ ∈ D̄ ∖ K} f(θ), f = s (`maximise_sstar` false) or
/// f = −s* (true). Returns (certified lower bound over D̄ ∖ K, certified upper bound
/// from a point of D̄ ∖ {θ*}, boxes, converged). Boxes inside K are skipped.
#[allow(clippy::too_many_arguments)]
fn search(
    l: &Landscape,
    noise: &NoiseModel,
    domain: &Domain,
    c: &[f64],
    rho: f64,
    seeds: &[Vec<f64>],
    maximise_sstar: bool,
    max_boxes: usize,
    bisect_ok: bool,
) -> (f64, f64, usize, bool, Option<BnbTree>, Option<Vec<f64>>) {
    let rho2 = point(rho).sqr();
    let mut scratch = Scratch::new();
    let key = |bounds: (f64, f64)| {
        if maximise_sstar {
            -bounds.1
        } else {
            bounds.0
        }
    };
    let pval = |p: &[f64]| -> Option<f64> {
        let pi: Vec<Interval> = p.iter().map(|&v| point(v)).collect();
        if !inside_closure(domain, &pi) {
            return None;
        }
        let (s, sstar) = point_values(l, noise, p)?;
        if maximise_sstar {
            sstar.map(|v| -v.inf())
        } else {
            Some(s.sup())
        }
    };
    let mut ub = f64::INFINITY;
    // The point attaining `ub` (certificate evidence for the inner end).
    let mut arg: Option<Vec<f64>> = None;
    for p in seeds {
        if let Some(v) = pval(p) {
            if v < ub {
                ub = v;
                arg = Some(p.clone());
            }
        }
    }
    let mut heap = BinaryHeap::new();
    let bx = domain.bounding_box();
    let (mut rec, root) = TreeRecorder::new(&bx);
    let bounds = box_bounds(l, noise, &bx, &mut scratch);
    heap.push(Item {
        key: key(bounds),
        b: bx,
        id: root,
        bounds,
    });
    let mut boxes = 1usize;
    // Closes the popped box and every box still queued with the bounds the search used.
    let close = |mut rec: TreeRecorder, heap: BinaryHeap<Item>, it: Item| {
        // s ≤ s*, so lo ≤ hi; widening both ends keeps them valid if rounding crossed them.
        let enc = |(lo, hi): (f64, f64)| Some(iv(lo.min(hi), hi.max(lo)));
        rec.proved(it.id, enc(it.bounds));
        for o in heap {
            rec.proved(o.id, enc(o.bounds));
        }
        rec.finish()
    };
    while let Some(it) = heap.pop() {
        let lb = it.key;
        let mid: Vec<f64> = it.b.iter().map(|x| x.mid()).collect();
        if let Some(v) = pval(&mid) {
            if v < ub {
                ub = v;
                arg = Some(mid);
            }
        }
        if lb >= ub - STEEPNESS_REL_TOL * ub.abs() {
            return (lb, ub, boxes, true, close(rec, heap, it), arg);
        }
        let w = it.b.iter().fold(0.0f64, |a, x| a.max(x.wid()));
        if !bisect_ok || super::deadline::out_of_budget(boxes, max_boxes) || w < 1e-12 {
            return (lb, ub, boxes, false, close(rec, heap, it), arg);
        }
        for (id, child) in rec.split(it.id, &it.b) {
            if !meets_closure(domain, &child) || dist2(&child, c).sup() < rho2.inf() {
                rec.excluded(id);
                continue; // misses D̄, or lies inside K
            }
            boxes += 1;
            let bounds = box_bounds(l, noise, &child, &mut scratch);
            heap.push(Item {
                key: key(bounds),
                b: child,
                id,
                bounds,
            });
        }
    }
    // Every box was dropped: D̄ ∖ K is covered by nothing left to search.
    (f64::INFINITY, ub, boxes, true, rec.finish(), arg)
}

/// Steepness enclosures over D̄ ∖ {θ*} for the minimiser box `x`, with `seeds` extra
/// points (e.g. the exit point) for the inner ends. Needs (H2): Σ ≻ 0 on D̄ (the caller
/// checks it). `max_boxes / STEEPNESS_BUDGET_DIVISOR` bounds each of the two searches.
pub fn steepness_enclosure(
    l: &Landscape,
    noise: &NoiseModel,
    domain: &Domain,
    x: &[Interval],
    seeds: &[Vec<f64>],
    max_boxes: usize,
) -> SteepnessEnclosure {
    let d = x.len();
    let c: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    // K = B̄(c, ρ) ⊇ X, small against D (the Rayleigh bounds are nearly sharp near θ*:
    // ∇L(θ)/|∇L(θ)| takes every direction there).
    let rho_x = max_dist(x, &c);
    let rho = (2.0 * rho_x)
        .max(1e-3 * domain_scale(domain))
        .min(0.5 * boundary_distance(domain, &c))
        .max(rho_x);
    let kbox: Vec<Interval> = c
        .iter()
        .map(|&ci| {
            iv(
                (point(ci) - point(rho)).inf(),
                (point(ci) + point(rho)).sup(),
            )
        })
        .collect();
    let mut sig = vec![point(0.0); d * d];
    noise.covariance(l, &kbox, &mut sig);
    let (k_lo, k_hi) = rayleigh(&sig, d);
    let bisect_ok = d <= STEEPNESS_MAX_DIM;
    let max_boxes = (max_boxes / STEEPNESS_BUDGET_DIVISOR).max(1);
    let (lo_m, ub_m, b1, c1, minus_tree, minus_point) = search(
        l, noise, domain, &c, rho, seeds, false, max_boxes, bisect_ok,
    );
    let (lo_p, ub_p, b2, c2, plus_tree, plus_point) =
        search(l, noise, domain, &c, rho, seeds, true, max_boxes, bisect_ok);
    let s_minus_lo = lo_m.min(k_lo);
    let s_minus_hi = ub_m.max(s_minus_lo);
    let s_plus_hi = (-lo_p).max(k_hi);
    let s_plus_lo = (-ub_p).min(s_plus_hi);
    SteepnessEnclosure {
        s_minus: iv(s_minus_lo, s_minus_hi),
        s_plus: iv(s_plus_lo.max(0.0), s_plus_hi),
        inner_radius: rho,
        boxes: b1 + b2,
        converged: c1 && c2,
        minus_tree,
        plus_tree,
        minus_point,
        plus_point,
    }
}
