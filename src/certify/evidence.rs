//! The evidence behind certified bounds, in a form that `escapecert recheck` re-verifies
//! from a certificate file alone (`src/certificate/recheck.rs`,
//! `proofs/certificate-recheck.md`).
//!
//! The central piece is the bisection tree [`BnbTree`] recorded by [`TreeRecorder`]:
//! the root box, and for every node either its split (coordinate, split point) or, for a
//! leaf, why the search is done there ([`Node::Excluded`]: the box does not meet the
//! region; [`Node::Proved`]: the inequality was proved on the box, with the enclosure
//! computed there). Coverage is structural: the recheck rebuilds every box from the root
//! and the splits, so a missing leaf breaks the tree.
//!
//! # Adopting the recorder in a branch-and-bound loop
//!
//! Carry a [`NodeId`] with every box of the work list and report what happens to it:
//!
//! ```ignore
//! let (mut rec, root_id) = TreeRecorder::new(&root_box);
//! let mut stack = vec![(root_id, root_box)];
//! while let Some((id, b)) = stack.pop() {
//!     if misses_region(&b) { rec.excluded(id); continue; }
//!     let enc = enclose(&b);                       // interval evaluation on the box
//!     if proved(enc) { rec.proved(id, Some(enc)); continue; }  // or `None`: a predicate
//!     let [(i1, b1), (i2, b2)] = rec.split(id, &b); // bisects like `bnb::bisect`
//!     stack.push((i1, b1));
//!     stack.push((i2, b2));
//! }
//! let tree: Option<BnbTree> = rec.finish();       // `None` if a box was left open
//! ```
//!
//! Boxes still in the work list when a search stops early (budget, best-first
//! termination) must also be closed (`proved` with the bound the search used for them),
//! otherwise `finish` returns `None`. The recheck side needs, per search, one function
//! that re-evaluates a leaf's condition on its rebuilt box and one inequality that the
//! claimed bound must satisfy given the leaves; see `recheck::walk_tree`.

use super::bnb::bisect_coord;
use crate::num::iv;
use inari::Interval;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An f64 that survives JSON: a finite value is a JSON number (written in shortest
/// round-trip form and parsed with serde_json's `float_roundtrip`, so bit-exact), ±∞ are
/// the strings "inf" and "-inf"; NaN is rejected when reading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct F(pub f64);

impl Serialize for F {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else if self.0 > 0.0 {
            s.serialize_str("inf")
        } else if self.0 < 0.0 {
            s.serialize_str("-inf")
        } else {
            s.serialize_str("nan")
        }
    }
}

impl<'de> Deserialize<'de> for F {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(f64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(v) => Ok(F(v)),
            Raw::S(s) if s == "inf" => Ok(F(f64::INFINITY)),
            Raw::S(s) if s == "-inf" => Ok(F(f64::NEG_INFINITY)),
            Raw::S(s) => Err(serde::de::Error::custom(format!(
                "expected a number, \"inf\" or \"-inf\", found \"{s}\""
            ))),
        }
    }
}

/// An interval `[lo, hi]` as written in a certificate.
pub type Bnd = [F; 2];

/// The certificate form of an interval.
pub fn bnd(x: Interval) -> Bnd {
    [F(x.inf()), F(x.sup())]
}

/// The interval of a [`Bnd`], or `None` when `lo > hi`.
pub fn to_interval(b: &Bnd) -> Option<Interval> {
    (b[0].0 <= b[1].0).then(|| iv(b[0].0, b[1].0))
}

/// The certificate form of an f64 vector.
pub fn fv(v: &[f64]) -> Vec<F> {
    v.iter().map(|&x| F(x)).collect()
}

/// One node of a bisection tree, in pre-order (a split is followed by the subtree of its
/// lower half `[inf, at]`, then that of its upper half `[at, sup]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// Internal node: split along coordinate `.0` at `.1`.
    Split(usize, F),
    /// Leaf: the box does not meet the region of the search (which region is the
    /// consumer's: outside a ball, missing a sphere, inside an excluded inner ball, …).
    Excluded,
    /// Leaf: the inequality of the search holds on the box; the enclosure computed there
    /// when the search's bound uses it (`None` for a pure predicate).
    Proved(Option<Bnd>),
}

/// A bisection tree: root box and nodes in pre-order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BnbTree {
    pub root: Vec<Bnd>,
    pub nodes: Vec<Node>,
}

impl BnbTree {
    /// Number of leaves.
    pub fn leaves(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| !matches!(n, Node::Split(..)))
            .count()
    }
}

/// Index of a node in a [`TreeRecorder`].
pub type NodeId = usize;

#[derive(Clone, Debug)]
enum Slot {
    Open,
    Split(usize, f64, NodeId, NodeId),
    Leaf(Node),
}

/// Records a branch-and-bound search as a bisection tree (see the module docs for how to
/// adopt it). Nodes may be closed in any order (depth-first, best-first, …).
#[derive(Clone, Debug)]
pub struct TreeRecorder {
    root: Vec<Interval>,
    slots: Vec<Slot>,
}

impl TreeRecorder {
    /// A recorder whose root is `root`; returns the root's id.
    pub fn new(root: &[Interval]) -> (TreeRecorder, NodeId) {
        (
            TreeRecorder {
                root: root.to_vec(),
                slots: vec![Slot::Open],
            },
            0,
        )
    }

    /// Bisects box `b` of node `id` along its widest coordinate (exactly as
    /// `bnb::bisect`), records the split and returns the two children with their ids.
    pub fn split(&mut self, id: NodeId, b: &[Interval]) -> [(NodeId, Vec<Interval>); 2] {
        let (k, m) = bisect_coord(b);
        let mut lo = b.to_vec();
        let mut hi = b.to_vec();
        lo[k] = iv(b[k].inf(), m);
        hi[k] = iv(m, b[k].sup());
        let i1 = self.slots.len();
        self.slots.push(Slot::Open);
        self.slots.push(Slot::Open);
        self.slots[id] = Slot::Split(k, m, i1, i1 + 1);
        [(i1, lo), (i1 + 1, hi)]
    }

    /// Closes node `id`: its box does not meet the region.
    pub fn excluded(&mut self, id: NodeId) {
        self.slots[id] = Slot::Leaf(Node::Excluded);
    }

    /// Closes node `id`: the inequality holds on its box, with enclosure `enc`.
    pub fn proved(&mut self, id: NodeId, enc: Option<Interval>) {
        self.slots[id] = Slot::Leaf(Node::Proved(enc.map(bnd)));
    }

    /// Number of nodes so far.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when only the root exists.
    pub fn is_empty(&self) -> bool {
        self.slots.len() <= 1
    }

    /// The tree in pre-order, or `None` when some node is still open.
    pub fn finish(self) -> Option<BnbTree> {
        let mut nodes = Vec::with_capacity(self.slots.len());
        let mut stack = vec![0usize];
        while let Some(i) = stack.pop() {
            match &self.slots[i] {
                Slot::Open => return None,
                Slot::Split(k, m, a, b) => {
                    nodes.push(Node::Split(*k, F(*m)));
                    stack.push(*b);
                    stack.push(*a);
                }
                Slot::Leaf(n) => nodes.push(n.clone()),
            }
        }
        Some(BnbTree {
            root: self.root.iter().map(|x| bnd(*x)).collect(),
            nodes,
        })
    }
}

/// Krawczyk data of the minimiser (`proofs/krawczyk.md`): X₀ = [x̂ − ε, x̂ + ε] is the box
/// in which K(X₀) ⊂ int X₀ was proved with the preconditioner Y.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KrawczykEvidence {
    pub candidate: Vec<F>,
    pub eps: F,
    /// Y, row-major d×d (f64 entries, used as exact intervals).
    pub y: Vec<F>,
}

/// Parameters of the Taylor lower bound ΔL ≥ ½ λ (r − ρ_X)² (proofs/depth-branch-and-bound.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaylorEvidence {
    /// λ ≤ λ_min(∇²L) on the bounding box of D̄.
    pub lambda_lo: F,
    /// gap ≤ r − sup_{θ∈X}|θ − c|.
    pub gap: F,
}

/// Evidence for the depth ΔL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DepthEvidence {
    /// Interval domain: ΔL = min(L(lo), L(hi)) − L*, evaluated directly.
    Endpoints,
    /// No evidence recorded (box domains in this format version): the depth is not
    /// claimed, the claim must be [−∞, +∞].
    NotRecorded,
    /// Box domain: one tree per face (F_1^−, F_1^+, F_2^−, …; root = the face box), every
    /// leaf `Proved` with a lower bound of L on the box; the Taylor bound with the gap to
    /// the nearest face; a point of ∂D for the upper bound.
    BoxFaces {
        taylor: Option<TaylorEvidence>,
        faces: Vec<BnbTree>,
        upper_point: Vec<F>,
    },
    /// Ball domain.
    Ball {
        taylor: Option<TaylorEvidence>,
        /// Sphere branch-and-bound: `Excluded` leaves miss the sphere, `Proved` leaves
        /// carry a lower bound of L on the box.
        sphere: Option<BnbTree>,
        /// A point whose radial projection onto the sphere gives the upper bound.
        upper_point: Vec<F>,
    },
}

/// How the inward-flow part of (H1) was proved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum InwardEvidence {
    /// Ball domain inside the convexity ball: λ(r − ρ_X)² − sup|∇L|·ρ_X > 0.
    Margin,
    /// ∇L(θ)·(θ − c) > 0 on D̄ ∖ B(c, inner): `Excluded` leaves lie inside B(c, inner) or
    /// outside D̄, `Proved` leaves satisfy the inequality.
    Tree { inner: F, tree: BnbTree },
}

/// Evidence for (H1) (`proofs/hypothesis-h1.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct H1Evidence {
    /// ∇²L ⪰ lambda_lo > 0 on the box c ± rho (∩ D̄ for an interval).
    pub rho: F,
    pub lambda_lo: F,
    pub inward: InwardEvidence,
}

/// Evidence for the spectrum bounds of Σ over D̄ (H2, steepness).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SpectrumEvidence {
    /// Σ = σ²I.
    Isotropic,
    /// Constant Σ: one enclosure over the bounding box.
    Constant,
    /// State-dependent Σ: `Excluded` leaves are outside the ball domain, `Proved` leaves
    /// carry [λ_min lower bound, λ_max upper bound] of Σ on the box.
    Tree(BnbTree),
}

/// Evidence for a certified upper bound of the geometric action (E6) of a polyline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathEvidence {
    /// When true the path starts at θ* (anywhere in the minimiser box X) and `vertices`
    /// are the following vertices; otherwise `vertices[0]` is the start.
    pub from_minimizer: bool,
    pub vertices: Vec<Vec<F>>,
    /// Equal sub-segments per segment in the quadrature (when `breakpoints` is absent).
    pub subsegments: usize,
    /// Optional sub-segment break points per segment (including the segment X → first
    /// vertex when `from_minimizer`): 0 = α₀ < α₁ < … < α_m = 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakpoints: Option<Vec<Vec<F>>>,
    /// Claimed: S_geo(path) ≤ upper.
    pub upper: F,
}

/// Evidence for the steepness enclosures (E9) beyond the Rayleigh bounds over D̄
/// (`proofs/steepness-bounds.md`): bisection trees of the bounding box of D̄ whose
/// `Excluded` leaves miss D̄ or lie inside K = B̄(c, inner) (c = midpoint of X; the
/// Rayleigh bounds of Σ on the box c ± inner cover K), and whose `Proved` leaves carry
/// [lower bound of s, upper bound of s*] on the box.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SteepnessEvidence {
    pub inner: F,
    /// The tree of the s⁻ search (its leaves' lower ends bound s⁻ from below).
    pub minus: Option<BnbTree>,
    /// The tree of the s⁺ search (its leaves' upper ends bound s⁺ from above).
    pub plus: Option<BnbTree>,
    /// Points of D̄ with ∇L ≠ 0 whose s (resp. s*) gives the inner end of s⁻ (resp. s⁺).
    pub witnesses: Vec<Vec<F>>,
}

/// Evidence for the C-quad lower bound (`proofs/quadratic-hj-certificate.md`):
/// W = γ·½(θ−c)ᵀP(θ−c); the HJ inequality on D̄ ∖ K, K = B̄(c, ρ) ⊇ X, by a bisection
/// tree of the bounding box of D̄: `Excluded` leaves miss D̄ or lie inside K,
/// `Proved(Some(h))` leaves passed the natural enclosure (sup h ≤ 0), `Proved(None)` the
/// mean-value matrix test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CQuadEvidence {
    pub gamma: F,
    pub centre: Vec<F>,
    /// P, row-major d×d, exactly symmetric.
    pub p: Vec<F>,
    pub rho: F,
    pub tree: BnbTree,
}

/// Everything the searches record for the certificate (filled by `certify`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evidence {
    pub krawczyk: Option<KrawczykEvidence>,
    pub depth: Option<DepthEvidence>,
    pub h1: Option<H1Evidence>,
    pub spectrum: Option<SpectrumEvidence>,
    /// Spectrum bounds (λ_min lower, λ_max upper) of Σ over D̄ when enclosed.
    pub spectrum_bounds: Option<(f64, f64)>,
    /// The steepness search trees (non-isotropic Σ).
    pub steepness: Option<SteepnessEvidence>,
    pub paths: Vec<PathEvidence>,
}
