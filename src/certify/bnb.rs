//! Interval branch-and-bound searches over boxes (proof: `proofs/depth-branch-and-bound.md`,
//! `proofs/hypothesis-h1.md`).

use crate::landscape::{Landscape, Scratch};
use crate::num::{iv, point};
use inari::Interval;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Bisects a box along its widest coordinate.
pub fn bisect(b: &[Interval]) -> (Vec<Interval>, Vec<Interval>) {
    let (k, _) = b.iter().enumerate().fold((0, -1.0), |(bk, bw), (i, x)| {
        if x.wid() > bw {
            (i, x.wid())
        } else {
            (bk, bw)
        }
    });
    let m = b[k].mid();
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
    let lb0 = l.value_with(&bx, &mut scratch).inf();
    heap.push(Item { lb: lb0, b: bx });
    while let Some(Item { lb, b }) = heap.pop() {
        if lb >= ub - rel_tol * (1.0 + ub.abs()) {
            // Every remaining box has a lower bound ≥ lb.
            return SphereMin {
                lower: pruned_min.min(lb),
                upper: ub,
                argmin,
                boxes,
                converged: true,
            };
        }
        if boxes >= max_boxes {
            return SphereMin {
                lower: pruned_min.min(lb),
                upper: ub,
                argmin,
                boxes,
                converged: false,
            };
        }
        boxes += 1;
        let (b1, b2) = bisect(&b);
        for child in [b1, b2] {
            let d2 = dist2(&child, c);
            if d2.sup() < r2.inf() || d2.inf() > r2.sup() {
                continue; // misses the sphere
            }
            let clb = enclose_value(l, &child, &mut g, &mut scratch).inf();
            let mid: Vec<f64> = child.iter().map(|x| x.mid()).collect();
            if let Some(u) = sphere_point_upper(l, &mid, c, r) {
                if u < ub {
                    ub = u;
                    argmin = project_to_sphere(&mid, c, r)
                        .map(|p| p.iter().map(|x| x.mid()).collect())
                        .unwrap_or(mid);
                }
            }
            if clb >= ub {
                pruned_min = pruned_min.min(clb);
                continue;
            }
            heap.push(Item { lb: clb, b: child });
        }
    }
    SphereMin {
        lower: pruned_min.min(ub),
        upper: ub,
        argmin,
        boxes,
        converged: true,
    }
}

/// Outcome of a branch-and-bound proof over a region.
#[derive(Clone, Debug)]
pub struct Proof {
    pub boxes: usize,
    /// None when proved; otherwise the box where the proof failed and why.
    pub failure: Option<String>,
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
    let mut stack = vec![bx];
    let mut g = vec![point(0.0); d];
    let mut scratch = Scratch::new();
    let mut boxes = 0usize;
    while let Some(b) = stack.pop() {
        boxes += 1;
        let d2 = dist2(&b, c);
        if d2.sup() < rho2.inf() {
            continue; // inside the open inner ball
        }
        if let Some(ro2) = ro2 {
            if d2.inf() > ro2.sup() {
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
            continue;
        }
        let w = b.iter().fold(0.0f64, |a, x| a.max(x.wid()));
        if boxes >= max_boxes || w < 1e-12 {
            let desc: Vec<String> = b
                .iter()
                .map(|x| format!("[{:.6e}, {:.6e}]", x.inf(), x.sup()))
                .collect();
            return Proof {
                boxes,
                failure: Some(format!(
                    "∇L·(θ−c) > 0 not certified on the box {} ({})",
                    desc.join(" × "),
                    if boxes >= max_boxes {
                        "box budget reached"
                    } else {
                        "box too small to split"
                    }
                )),
            };
        }
        let (b1, b2) = bisect(&b);
        stack.push(b1);
        stack.push(b2);
    }
    Proof {
        boxes,
        failure: None,
    }
}
