//! Box domains D = ∏_i (lo_i, hi_i): the depth ΔL = min over the faces of L − L* and the
//! hypothesis (H1), certified by interval branch-and-bound on the faces.
//! Proofs: `proofs/depth-branch-and-bound.md` (§ Box), `proofs/hypothesis-h1.md` (§ Box).
//!
//! A face is the closed set F_i^± = {θ ∈ D̄ : θ_i = lo_i (−) or hi_i (+)}, an interval box
//! of D̄ = ∏[lo_i, hi_i] whose i-th side is the point lo_i or hi_i (binary64, so exact);
//! ∂D is the union of the 2d faces.

use super::bnb::{self, bisect, enclose_value};
use super::evidence::{fv, BnbTree, DepthEvidence, NodeId, TaylorEvidence, TreeRecorder, F};
use super::{Hypothesis, BNB_MAX_DIM, SPHERE_REL_TOL};
use crate::landscape::{Landscape, Scratch};
use crate::num::imat::sym_eig_bounds;
use crate::num::{iv, point};
use inari::Interval;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// True when the box `x` lies in the open box ∏(lo_i, hi_i) (binary64 comparisons of
/// exact ends: no rounding).
pub fn strictly_inside(x: &[Interval], lo: &[f64], hi: &[f64]) -> bool {
    x.iter()
        .zip(lo.iter().zip(hi))
        .all(|(v, (&l, &h))| v.inf() > l && v.sup() < h)
}

/// The face F_i^− (`upper = false`) or F_i^+ of the box, as an interval box.
pub fn face(lo: &[f64], hi: &[f64], i: usize, upper: bool) -> Vec<Interval> {
    let mut b: Vec<Interval> = lo.iter().zip(hi).map(|(&l, &h)| iv(l, h)).collect();
    let v = if upper { hi[i] } else { lo[i] };
    b[i] = point(v);
    b
}

/// A short name of a face for messages, e.g. "θ_2 = hi_2 = 1.5".
fn face_name(lo: &[f64], hi: &[f64], i: usize, upper: bool) -> String {
    if upper {
        format!("θ_{} = hi_{} = {}", i + 1, i + 1, hi[i])
    } else {
        format!("θ_{} = lo_{} = {}", i + 1, i + 1, lo[i])
    }
}

struct Item {
    lb: f64,
    b: Vec<Interval>,
    /// (face index, node id) in the face recorders.
    id: (usize, NodeId),
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

/// Certified bounds on min_{∂D} L for a box: `lower ≤ min ≤ upper`.
#[derive(Clone, Debug)]
pub struct FacesMin {
    pub lower: f64,
    pub upper: f64,
    /// f64 approximation of the argmin (a point of ∂D; guides paths and reports).
    pub argmin: Vec<f64>,
    pub boxes: usize,
    /// False when the box budget ran out before the gap closed.
    pub converged: bool,
    /// One bisection tree per face, in the order F_1^−, F_1^+, F_2^−, … (certificate
    /// evidence): every leaf is `Proved` with the mean-value enclosure's lower end.
    pub trees: Option<Vec<BnbTree>>,
}

/// Upper bound of L at the real point `m` (binary64 coordinates), interval evaluated.
fn point_upper(l: &Landscape, m: &[f64], scratch: &mut Scratch<Interval>) -> f64 {
    let p: Vec<Interval> = m.iter().map(|&v| point(v)).collect();
    l.value_with(&p, scratch).sup()
}

/// Best-first branch-and-bound of L over all 2d faces at once (one heap, one incumbent):
/// lower bounds by the mean-value form ([`enclose_value`]) of each face box, upper bounds
/// by interval evaluation at real points of the faces (the box midpoints, whose fixed
/// coordinate is exactly lo_i or hi_i, and the candidates `cands`, each a point of ∂D).
pub fn faces_min(
    l: &Landscape,
    lo: &[f64],
    hi: &[f64],
    cands: &[Vec<f64>],
    max_boxes: usize,
    rel_tol: f64,
) -> FacesMin {
    let d = lo.len();
    let mut scratch = Scratch::new();
    let mut g = vec![point(0.0); d];
    let (mut ub, mut argmin) = (f64::INFINITY, lo.to_vec());
    for c in cands {
        let u = point_upper(l, c, &mut scratch);
        if u < ub {
            ub = u;
            argmin = c.clone();
        }
    }
    let mut heap = BinaryHeap::new();
    let mut recs = Vec::with_capacity(2 * d);
    for i in 0..d {
        for upper in [false, true] {
            let b = face(lo, hi, i, upper);
            let (rec, root) = TreeRecorder::new(&b);
            let lb = enclose_value(l, &b, &mut g, &mut scratch).inf();
            heap.push(Item {
                lb,
                b,
                id: (recs.len(), root),
            });
            recs.push(rec);
        }
    }
    let mut pruned_min = f64::INFINITY;
    let mut boxes = 0usize;
    let lower_bound = |v: f64| {
        Some(iv(
            if v.is_nan() { f64::NEG_INFINITY } else { v },
            f64::INFINITY,
        ))
    };
    while let Some(Item { lb, b, id }) = heap.pop() {
        let closed = lb >= ub - rel_tol * (1.0 + ub.abs());
        if closed || super::deadline::out_of_budget(boxes, max_boxes) {
            recs[id.0].proved(id.1, lower_bound(lb));
            for o in heap {
                recs[o.id.0].proved(o.id.1, lower_bound(o.lb));
            }
            return FacesMin {
                lower: pruned_min.min(lb),
                upper: ub,
                argmin,
                boxes,
                converged: closed,
                trees: recs.into_iter().map(TreeRecorder::finish).collect(),
            };
        }
        boxes += 1;
        for (cid, child) in recs[id.0].split(id.1, &b) {
            let clb = enclose_value(l, &child, &mut g, &mut scratch).inf();
            let mid: Vec<f64> = child.iter().map(|x| x.mid()).collect();
            let u = point_upper(l, &mid, &mut scratch);
            if u < ub {
                ub = u;
                argmin = mid;
            }
            if clb >= ub {
                pruned_min = pruned_min.min(clb);
                recs[id.0].proved(cid, lower_bound(clb));
                continue;
            }
            heap.push(Item {
                lb: clb,
                b: child,
                id: (id.0, cid),
            });
        }
    }
    FacesMin {
        lower: pruned_min.min(ub),
        upper: ub,
        argmin,
        boxes,
        converged: true,
        trees: recs.into_iter().map(TreeRecorder::finish).collect(),
    }
}

/// ΔL on a box: lower bound the larger of the face branch-and-bound ([`faces_min`]) and,
/// when ∇²L ≻ 0 on D̄, the Taylor bound ½ λ_lo gap² (gap = distance from the minimiser
/// box X to ∂D); upper bound from the interval evaluation at the best face point.
/// Returns (ΔL, method, argmin, boxes) and the certificate evidence (when the face trees
/// were recorded). Proof: `proofs/depth-branch-and-bound.md` § Box.
pub fn box_depth(
    l: &Landscape,
    lo: &[f64],
    hi: &[f64],
    x: &[Interval],
    lstar: Interval,
    max_boxes: usize,
) -> (Interval, String, Vec<f64>, usize, Option<DepthEvidence>) {
    let d = lo.len();
    // Candidates (f64 guides): the projection of the minimiser box midpoint onto each face.
    let c: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    let mut cands = Vec::with_capacity(2 * d);
    for i in 0..d {
        for v in [lo[i], hi[i]] {
            let mut p = c.clone();
            p[i] = v;
            cands.push(p);
        }
    }
    let fm = faces_min(l, lo, hi, &cands, max_boxes, SPHERE_REL_TOL);
    let mut methods = Vec::new();
    let mut lower = (point(fm.lower) - lstar).inf();
    methods.push(format!(
        "branch-and-bound over the {} faces ({} boxes{})",
        2 * d,
        fm.boxes,
        if fm.converged { "" } else { ", budget reached" }
    ));
    // Taylor: for y on the face θ_i = lo_i, |y − θ*| ≥ θ*_i − lo_i ≥ inf X_i − lo_i.
    let bbox: Vec<Interval> = lo.iter().zip(hi).map(|(&a, &b)| iv(a, b)).collect();
    let mut taylor = None;
    let mut hb = vec![point(0.0); d * d];
    l.hessian(&bbox, &mut hb);
    if let Some(eig) = sym_eig_bounds(&hb, d) {
        let lam = eig.min.inf();
        let gap = x
            .iter()
            .zip(lo.iter().zip(hi))
            .map(|(v, (&a, &b))| {
                (point(v.inf()) - point(a))
                    .inf()
                    .min((point(b) - point(v.sup())).inf())
            })
            .fold(f64::INFINITY, f64::min);
        if lam > 0.0 && gap > 0.0 {
            let t = (point(0.5) * point(lam) * point(gap).sqr()).inf();
            taylor = Some(TaylorEvidence {
                lambda_lo: F(lam),
                gap: F(gap),
            });
            if t > lower {
                lower = t;
                methods.insert(0, "Taylor bound ½ λ_min(∇²L on D̄) dist(X, ∂D)²".to_string());
            }
        }
    }
    let upper = (point(fm.upper) - lstar).sup();
    let lower = lower.min(upper);
    let method = format!(
        "lower: {}; upper: interval evaluation at a point of a face",
        methods.join("; ")
    );
    let ev = fm.trees.map(|faces| DepthEvidence::BoxFaces {
        taylor,
        faces,
        upper_point: fv(&fm.argmin),
    });
    (iv(lower, upper), method, fm.argmin, fm.boxes, ev)
}

/// Proves that −∇L points strictly into D on every face: ∂_iL < 0 on F_i^− and ∂_iL > 0
/// on F_i^+, by bisecting each face until the interval partial derivative has the sign.
/// Returns the boxes used, or a failure naming the face and the box.
pub fn prove_faces_inward(
    l: &Landscape,
    lo: &[f64],
    hi: &[f64],
    max_boxes: usize,
) -> (usize, Option<String>) {
    let d = lo.len();
    let mut g = vec![point(0.0); d];
    let mut scratch = Scratch::new();
    let mut boxes = 0usize;
    for i in 0..d {
        for upper in [false, true] {
            let mut stack = vec![face(lo, hi, i, upper)];
            while let Some(b) = stack.pop() {
                boxes += 1;
                l.gradient_with(&b, &mut g, &mut scratch);
                let ok = if upper {
                    g[i].inf() > 0.0
                } else {
                    g[i].sup() < 0.0
                };
                if ok {
                    continue;
                }
                let w = b.iter().fold(0.0f64, |a, x| a.max(x.wid()));
                if super::deadline::out_of_budget(boxes, max_boxes) || w < 1e-12 {
                    let desc: Vec<String> = b
                        .iter()
                        .map(|x| format!("[{:.6e}, {:.6e}]", x.inf(), x.sup()))
                        .collect();
                    return (
                        boxes,
                        Some(format!(
                            "−∇L does not point strictly inward on the face {}: ∂L/∂θ_{} {} 0 not certified on the box {} ({})",
                            face_name(lo, hi, i, upper),
                            i + 1,
                            if upper { ">" } else { "<" },
                            desc.join(" × "),
                            if super::deadline::out_of_budget(boxes, max_boxes) {
                                super::deadline::budget_reason(boxes, max_boxes)
                            } else {
                                "box too small to split"
                            }
                        )),
                    );
                }
                let (b1, b2) = bisect(&b);
                stack.push(b1);
                stack.push(b2);
            }
        }
    }
    (boxes, None)
}

/// (H1) on a box (THEORY §3): θ* is the only critical point in D̄ and the flow enters D
/// through every face. Certified by (a) ∇²L ≻ 0 on C(c, ρ) ∩ D̄ (C the cube of half-width
/// ρ around c = mid X, ρ > ρ_X); (b) unless (a) covers D̄, ∇L(θ)·(θ − c) > 0 on
/// D̄ ∖ B(c, ρ_in), ρ_in ≤ ρ (`bnb::prove_inward`, d ≤ 3); (c) [`prove_faces_inward`].
/// Proof: `proofs/hypothesis-h1.md` § Box.
pub fn check_h1(
    l: &Landscape,
    lo: &[f64],
    hi: &[f64],
    x: &[Interval],
    max_boxes: usize,
    boxes: &mut usize,
) -> Hypothesis {
    let c: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    let d = c.len();
    let rho_x = bnb::max_dist(x, &c);
    let fail = |detail: String| Hypothesis {
        name: "H1".into(),
        holds: false,
        detail,
    };
    let bbox: Vec<Interval> = lo.iter().zip(hi).map(|(&a, &b)| iv(a, b)).collect();
    // (a) The largest cube C(c, ρ) = ∏[c_i − ρ, c_i + ρ] (ρ halved from the half-width of
    // the smallest cube ⊇ D̄) on whose intersection with D̄ the Hessian is positive definite.
    let mut rho = (0..d)
        .map(|i| (c[i] - lo[i]).max(hi[i] - c[i]))
        .fold(0.0f64, f64::max);
    let mut convex = None;
    for _ in 0..40 {
        if rho <= rho_x {
            break;
        }
        let b: Vec<Interval> = c
            .iter()
            .zip(&bbox)
            .map(|(&ci, dom)| {
                iv(
                    (point(ci) - point(rho)).inf(),
                    (point(ci) + point(rho)).sup(),
                )
                .intersection(*dom)
            })
            .collect();
        let mut h = vec![point(0.0); d * d];
        l.hessian(&b, &mut h);
        if let Some(e) = sym_eig_bounds(&h, d) {
            if e.min.inf() > 0.0 {
                convex = Some((rho, e.min.inf()));
                break;
            }
        }
        rho *= 0.5;
    }
    let Some((rho, lam)) = convex else {
        return fail(format!(
            "no cube around the minimiser box (half-width > {rho_x:.3e}) on which the Hessian is certified positive definite"
        ));
    };
    let covers_all = (0..d).all(|i| c[i] - rho <= lo[i] && c[i] + rho >= hi[i]);
    let mut notes = vec![format!(
        "∇²L ≻ 0 (λ_min ≥ {lam:.6e}) on the cube of half-width ρ = {rho:.6e} around c ∩ D̄{}",
        if covers_all {
            " = D̄ (unique critical point)"
        } else {
            ""
        }
    )];
    // (b) No other critical point outside the convex part.
    if !covers_all {
        if d > BNB_MAX_DIM {
            return fail(format!(
                "{}; ∇L·(θ−c) > 0 outside it was not attempted (d = {d} > {BNB_MAX_DIM}: no branch-and-bound)",
                notes[0]
            ));
        }
        let proof = bnb::prove_inward(l, bbox.clone(), &c, rho, None, max_boxes);
        *boxes += proof.boxes;
        if let Some(f) = proof.failure {
            return fail(format!("{}; {f}", notes[0]));
        }
        notes.push(format!(
            "∇L(θ)·(θ−c) > 0 on D̄ ∖ B(c, {rho:.6e}) ({} boxes)",
            proof.boxes
        ));
    }
    // (c) Strictly inward flow on every face.
    let (nb, failure) = prove_faces_inward(l, lo, hi, max_boxes);
    *boxes += nb;
    if let Some(f) = failure {
        return fail(format!("{}; {f}", notes.join("; ")));
    }
    notes.push(format!(
        "−∇L points strictly inward on all {} faces (∂L/∂θ_i < 0 on θ_i = lo_i, > 0 on θ_i = hi_i; {nb} boxes); c = midpoint of the minimiser box",
        2 * d
    ));
    Hypothesis {
        name: "H1".into(),
        holds: true,
        detail: notes.join("; "),
    }
}
