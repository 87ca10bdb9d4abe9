//! Interval branch-and-bound searches over boxes (proof: `proofs/depth-branch-and-bound.md`,
//! `proofs/hypothesis-h1.md`).

use super::evidence::{BnbTree, NodeId, TreeRecorder};
use crate::landscape::{Landscape, Scratch};
use crate::num::{iv, point};
use inari::Interval;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// The split of [`bisect`]: the widest coordinate and its midpoint.
pub fn bisect_coord(b: &[Interval]) -> (usize, f64) {
    let (k, _) = b.iter().enumerate().fold((0, -1.0), |(bk, bw), (i, x)| {
        if x.wid() > bw {
            (i, x.wid())
        } else {
            (bk, bw)
        }
    });
    (k, b[k].mid())
}

/// Bisects a box along its widest coordinate.
pub fn bisect(b: &[Interval]) -> (Vec<Interval>, Vec<Interval>) {
    let (k, m) = bisect_coord(b);
    let mut l = b.to_vec();
    let mut r = b.to_vec();
    l[k] = iv(b[k].inf(), m);
    r[k] = iv(m, b[k].sup());
    (l, r)
}

/// Enclosure of |X − c|² over a box.
pub fn dist2(b: &[Interval], c: &[f64]) -> Interval {
    b.iter()
        .zip(c)
        .fold(point(0.0), |s, (x, &ci)| s + (*x - point(ci)).sqr())
}

/// Upper bound of sup |X − c| over a box.
pub fn max_dist(b: &[Interval], c: &[f64]) -> f64 {
    dist2(b, c).sqrt().sup()
}

/// Enclosure of L over a box: the natural interval extension intersected with the
/// mean-value form L(m) + ∇L(X)·(X − m), whose overestimation is second order in the width.
pub fn enclose_value(
    l: &Landscape,
    b: &[Interval],
    g: &mut [Interval],
    scratch: &mut Scratch<Interval>,
) -> Interval {
    let natural = l.gradient_with(b, g, scratch);
    let m: Vec<Interval> = b.iter().map(|x| point(x.mid())).collect();
    let lm = l.value_with(&m, scratch);
    let mv = b
        .iter()
        .zip(&m)
        .zip(g.iter())
        .fold(lm, |s, ((x, mi), gi)| s + *gi * (*x - *mi));
    let both = natural.intersection(mv);
    if both.is_empty() {
        natural
    } else {
        both
    }
}

struct Item {
    lb: f64,
    b: Vec<Interval>,
    id: NodeId,
}
impl PartialEq for Item {
    fn eq(&self, o: &Self) -> bool {
        self.lb == o.lb
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
        // Min-heap on the lower bound.
        o.lb.partial_cmp(&self.lb).unwrap_or(Ordering::Equal)
    }
}

/// Result of the minimum of L over the sphere ∂B(c, r).
#[derive(Clone, Debug)]
pub struct SphereMin {
    /// Certified: min over the sphere ≥ lower.
    pub lower: f64,
    /// Certified: some sphere point has L ≤ upper.
    pub upper: f64,
    /// f64 approximation of the argmin (guides paths and reports).
    pub argmin: Vec<f64>,
    pub boxes: usize,
    /// False when the box budget ran out before the gap closed.
    pub converged: bool,
    /// The point whose radial projection gave `upper`, when the search improved on the
    /// seed (`None`: `upper` is the seed's bound).
    pub upper_witness: Option<Vec<f64>>,
    /// The bisection tree: `Excluded` leaves miss the sphere, `Proved` leaves carry the
    /// lower bound of L used for them; `lower` = min of those bounds.
    pub tree: Option<BnbTree>,
}

/// Interval enclosure of the radial projection c + r (m − c)/|m − c| of a point m ≠ c:
/// a box that contains a point of the sphere, so L over it bounds the sphere minimum above.
pub fn project_to_sphere(m: &[f64], c: &[f64], r: f64) -> Option<Vec<Interval>> {
    let u: Vec<Interval> = m
        .iter()
        .zip(c)
        .map(|(&a, &b)| point(a) - point(b))
        .collect();
    let n2 = u.iter().fold(point(0.0), |s, x| s + x.sqr());
    if !(n2.inf() > 0.0) {
        return None;
    }
    let n = n2.sqrt();
    Some(
        u.iter()
            .zip(c)
            .map(|(x, &ci)| point(ci) + point(r) * *x / n)
            .collect(),
    )
}

/// Upper bound of L at a sphere point near the direction of `m` (interval evaluated).
pub fn sphere_point_upper(l: &Landscape, m: &[f64], c: &[f64], r: f64) -> Option<f64> {
    let p = project_to_sphere(m, c, r)?;
    let v = l.value(&p).sup();
    v.is_finite().then_some(v)
}

/// Certified bounds on min_{|θ−c|=r} L(θ) by best-first branch-and-bound over boxes that
/// meet the sphere, seeded with an upper bound `ub0` from candidate points.
pub fn sphere_min(
    l: &Landscape,
    c: &[f64],
    r: f64,
    ub0: (f64, Vec<f64>),
    max_boxes: usize,
    rel_tol: f64,
) -> SphereMin {
    let r2 = point(r).sqr();
    let bx: Vec<Interval> = c
        .iter()
        .map(|&ci| iv((point(ci) - point(r)).inf(), (point(ci) + point(r)).sup()))
        .collect();
    let mut scratch = Scratch::new();
    let mut g = vec![point(0.0); c.len()];
    let (mut ub, mut argmin) = ub0;
    let mut heap = BinaryHeap::new();
    let mut pruned_min = f64::INFINITY;
    let mut boxes = 0usize;
    let mut witness = None;
    let (mut rec, root) = TreeRecorder::new(&bx);
    let lb0 = l.value_with(&bx, &mut scratch).inf();
    heap.push(Item {
        lb: lb0,
        b: bx,
        id: root,
    });
    // Closes the open boxes as leaves carrying their lower bounds.
    let close = |mut rec: TreeRecorder, heap: BinaryHeap<Item>| {
        for it in heap {
            rec.proved(it.id, Some(iv(it.lb, f64::INFINITY)));
        }
        rec.finish()
    };
    while let Some(Item { lb, b, id }) = heap.pop() {
        let converged = lb >= ub - rel_tol * (1.0 + ub.abs());
        if converged || super::deadline::out_of_budget(boxes, max_boxes) {
            // Every remaining box has a lower bound ≥ lb.
            rec.proved(id, Some(iv(lb, f64::INFINITY)));
            return SphereMin {
                lower: pruned_min.min(lb),
                upper: ub,
                argmin,
                boxes,
                converged,
                upper_witness: witness,
                tree: close(rec, heap),
            };
        }
        boxes += 1;
        for (cid, child) in rec.split(id, &b) {
            let d2 = dist2(&child, c);
            if d2.sup() < r2.inf() || d2.inf() > r2.sup() {
                rec.excluded(cid);
                continue; // misses the sphere
            }
            let clb = enclose_value(l, &child, &mut g, &mut scratch).inf();
            let mid: Vec<f64> = child.iter().map(|x| x.mid()).collect();
            if let Some(u) = sphere_point_upper(l, &mid, c, r) {
                if u < ub {
                    ub = u;
                    argmin = project_to_sphere(&mid, c, r)
                        .map(|p| p.iter().map(|x| x.mid()).collect())
                        .unwrap_or(mid.clone());
                    witness = Some(mid);
                }
            }
            if clb >= ub {
                pruned_min = pruned_min.min(clb);
                rec.proved(cid, Some(iv(clb, f64::INFINITY)));
                continue;
            }
            heap.push(Item {
                lb: clb,
                b: child,
                id: cid,
            });
        }
    }
    SphereMin {
        lower: pruned_min.min(ub),
        upper: ub,
        argmin,
        boxes,
        converged: true,
        upper_witness: witness,
        tree: rec.finish(),
    }
}

/// Outcome of a branch-and-bound proof over a region.
#[derive(Clone, Debug)]
pub struct Proof {
    pub boxes: usize,
    /// None when proved; otherwise the box where the proof failed and why.
    pub failure: Option<String>,
    /// When proved: the bisection tree (`Excluded` leaves lie inside B(c, ρ) or outside
    /// the region, `Proved(None)` leaves satisfy the inequality).
    pub tree: Option<BnbTree>,
}

/// Proves ∇L(θ)·(θ − c) > 0 for all θ ∈ region ∖ B(c, ρ), where `region` is the box
/// `bx` intersected with the closed ball B̄(c, r_outer) when `r_outer` is given.
pub fn prove_inward(
    l: &Landscape,
    bx: Vec<Interval>,
    c: &[f64],
    rho: f64,
    r_outer: Option<f64>,
    max_boxes: usize,
) -> Proof {
    let d = c.len();
    let rho2 = point(rho).sqr();
    let ro2 = r_outer.map(|r| point(r).sqr());
    let (mut rec, root) = TreeRecorder::new(&bx);
    let mut stack = vec![(root, bx)];
    let mut g = vec![point(0.0); d];
    let mut scratch = Scratch::new();
    let mut boxes = 0usize;
    while let Some((id, b)) = stack.pop() {
        boxes += 1;
        let d2 = dist2(&b, c);
        if d2.sup() < rho2.inf() {
            rec.excluded(id);
            continue; // inside the open inner ball
        }
        if let Some(ro2) = ro2 {
            if d2.inf() > ro2.sup() {
                rec.excluded(id);
                continue; // outside the closed domain
            }
        }
        l.gradient_with(&b, &mut g, &mut scratch);
        let q = b
            .iter()
            .zip(c)
            .zip(&g)
            .fold(point(0.0), |s, ((x, &ci), gi)| s + *gi * (*x - point(ci)));
        if q.inf() > 0.0 {
            rec.proved(id, None);
            continue;
        }
        let w = b.iter().fold(0.0f64, |a, x| a.max(x.wid()));
        if super::deadline::out_of_budget(boxes, max_boxes) || w < 1e-12 {
            let desc: Vec<String> = b
                .iter()
                .map(|x| format!("[{:.6e}, {:.6e}]", x.inf(), x.sup()))
                .collect();
            return Proof {
                boxes,
                failure: Some(format!(
                    "∇L·(θ−c) > 0 not certified on the box {} ({})",
                    desc.join(" × "),
                    if super::deadline::out_of_budget(boxes, max_boxes) {
                        super::deadline::budget_reason(boxes, max_boxes)
                    } else {
                        "box too small to split"
                    }
                )),
                tree: None,
            };
        }
        let [c1, c2] = rec.split(id, &b);
        stack.push(c1);
        stack.push(c2);
    }
    Proof {
        boxes,
        failure: None,
        tree: rec.finish(),
    }
}
