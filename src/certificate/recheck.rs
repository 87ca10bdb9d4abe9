//! `escapecert recheck`: re-verifies every inequality of a certificate from the file alone
//! (`proofs/certificate-recheck.md`). Deliberately short and independent of the search
//! code: no branch-and-bound loop, no Newton, no candidate generation. It rebuilds the
//! landscape and noise from the embedded spec text, rebuilds every box of a bisection
//! tree from its root and splits, re-evaluates each leaf's condition in interval
//! arithmetic, and checks that every claimed bound follows from what it re-evaluated.

use super::{
    Certificate, DiscreteLower, DiscreteUpper, Formula, LowerEvidence, UpperEvidence, FORMAT,
    FORMAT_VERSION,
};
use crate::certify::evidence::{
    to_interval, BnbTree, Bnd, CQuadEvidence, DepthEvidence, InwardEvidence, Node, PathEvidence,
    SpectrumEvidence, SteepnessEvidence, F,
};
use crate::certify::hj::QuadCtx;
use crate::certify::steepness::box_bounds;
use crate::certify::{linear_barrier, Minimizer};
use crate::landscape::Scratch;
use crate::landscape::{Domain, Landscape, NoiseModel, Problem};
use crate::num::imat::{matmul, matvec, sym_eig_bounds, verified_solve};
use crate::num::{iv, point};
use crate::spec::{DomainSpec, Spec};
use inari::Interval;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// The result of one check: `Ok(what was verified)` or `Err(what failed)`.
type R<T> = Result<T, String>;

/// A certificate that cannot be rechecked at all (exit 2).
#[derive(Debug, Error, Clone, PartialEq)]
#[error("{}: {problem}", file.display())]
pub struct MalformedCertificate {
    pub file: PathBuf,
    pub problem: String,
}

/// Reads and rechecks a certificate file: the checks (exit 0 only if all are ok), or a
/// malformed file (exit 2).
pub fn recheck_file(path: &Path) -> Result<Vec<Check>, MalformedCertificate> {
    let bad = |problem: String| MalformedCertificate {
        file: path.to_path_buf(),
        problem,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read the file: {e}")))?;
    let cert: Certificate =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a certificate: {e}")))?;
    recheck(&cert).map_err(bad)
}

fn ivs(b: &[Bnd], what: &str) -> R<Vec<Interval>> {
    b.iter()
        .map(|x| to_interval(x).ok_or(format!("{what}: an interval has lo > hi")))
        .collect()
}

fn pts(v: &[F]) -> Vec<Interval> {
    v.iter().map(|x| point(x.0)).collect()
}

fn dist2(b: &[Interval], c: &[f64]) -> Interval {
    b.iter()
        .zip(c)
        .fold(point(0.0), |s, (x, &ci)| s + (*x - point(ci)).sqr())
}

/// Box c ± r, outward rounded.
fn ball_box(c: &[f64], r: f64) -> Vec<Interval> {
    c.iter()
        .map(|&ci| iv((point(ci) - point(r)).inf(), (point(ci) + point(r)).sup()))
        .collect()
}

/// claim ⊇ proven.
fn holds(claim: &Bnd, proven: Interval) -> bool {
    !proven.is_empty() && claim[0].0 <= proven.inf() && claim[1].0 >= proven.sup()
}

/// Rebuilds the boxes of a bisection tree and calls `leaf` on every leaf; fails if the
/// tree is not a complete bisection of its root (a missing or extra node, a split
/// outside its box, a wrong dimension).
pub fn walk_tree(
    t: &BnbTree,
    d: usize,
    mut leaf: impl FnMut(&[Interval], &Node) -> R<()>,
) -> R<()> {
    if t.root.len() != d {
        return Err(format!("the root box has dimension {} ≠ {d}", t.root.len()));
    }
    let mut stack = vec![ivs(&t.root, "root box")?];
    let mut i = 0;
    while let Some(b) = stack.pop() {
        let n = t.nodes.get(i).ok_or(format!(
            "the tree ends after {i} nodes with boxes still uncovered (a leaf is missing)"
        ))?;
        i += 1;
        match n {
            Node::Split(k, at) => {
                if *k >= d || !(b[*k].inf() <= at.0 && at.0 <= b[*k].sup()) {
                    return Err(format!("node {i}: split outside its box"));
                }
                let (mut lo, mut hi) = (b.clone(), b);
                lo[*k] = iv(lo[*k].inf(), at.0);
                hi[*k] = iv(at.0, hi[*k].sup());
                stack.push(hi);
                stack.push(lo);
            }
            _ => leaf(&b, n).map_err(|e| format!("leaf at node {i}: {e}"))?,
        }
    }
    if i != t.nodes.len() {
        return Err(format!(
            "{} nodes after the tree is complete",
            t.nodes.len() - i
        ));
    }
    Ok(())
}

fn covers(root: &[Bnd], b: &[Interval]) -> bool {
    root.len() == b.len()
        && root
            .iter()
            .zip(b)
            .all(|(r, x)| r[0].0 <= x.inf() && r[1].0 >= x.sup())
}

/// The mean-value enclosure of L over a box (as `bnb::enclose_value`), also intersected
/// with the natural extension of the value alone.
fn enclose(l: &Landscape, b: &[Interval]) -> Interval {
    let mut g = vec![point(0.0); b.len()];
    let natural = l.gradient(b, &mut g).intersection(l.value(b));
    let m: Vec<Interval> = b.iter().map(|x| point(x.mid())).collect();
    let mv = b
        .iter()
        .zip(&m)
        .zip(&g)
        .fold(l.value(&m), |s, ((x, mi), gi)| s + *gi * (*x - *mi));
    let both = natural.intersection(mv);
    if both.is_empty() {
        natural
    } else {
        both
    }
}

struct Ctx {
    l: Landscape,
    noise: NoiseModel,
    domain: Domain,
    x: Vec<Interval>,
    c: Vec<f64>,
    d: usize,
}

/// Rechecks a parsed certificate. `Err` = malformed (the reason).
pub fn recheck(cert: &Certificate) -> R<Vec<Check>> {
    if cert.format != FORMAT || cert.format_version != FORMAT_VERSION {
        return Err(format!(
            "format `{}` version {} (expected `{FORMAT}` version {FORMAT_VERSION})",
            cert.format, cert.format_version
        ));
    }
    let spec = Spec::from_str(Path::new(&cert.spec_file), &cert.spec_text)
        .map_err(|e| format!("the embedded spec: {e}"))?;
    let problem = Problem::from_spec(&spec).map_err(|e| format!("the embedded spec: {e}"))?;
    let (l, noise) = (problem.landscape, problem.noise);
    let d = l.dim();
    let m = &cert.minimizer;
    let k = &m.krawczyk;
    let bad_dims = m.x.len() != d
        || k.candidate.len() != d
        || k.y.len() != d * d
        || cert
            .steepness
            .as_ref()
            .is_some_and(|s| s.exit_point.len() != d)
        || cert
            .paths
            .iter()
            .flat_map(|p| &p.vertices)
            .any(|v| v.len() != d)
        || matches!(&cert.depth.evidence, DepthEvidence::Ball { upper_point, .. } | DepthEvidence::BoxFaces { upper_point, .. } if upper_point.len() != d);
    if bad_dims {
        return Err(format!(
            "a vector or matrix does not match the dimension d = {d}"
        ));
    }
    let x = ivs(&m.x, "minimizer.x")?;
    let c: Vec<f64> = x.iter().map(|v| v.mid()).collect();
    let domain = match spec.domain {
        DomainSpec::Interval { lo, hi } => Domain::Interval { lo, hi },
        DomainSpec::Ball { radius } => Domain::Ball {
            center: c.clone(),
            radius,
        },
        DomainSpec::Box { ref lo, ref hi } => Domain::Box {
            lo: lo.clone(),
            hi: hi.clone(),
        },
    };
    let cx = Ctx {
        l,
        noise,
        domain,
        x,
        c,
        d,
    };
    let mut out = Vec::new();
    let mut push = |name: &str, r: R<String>| {
        let (ok, detail) = match r {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        out.push(Check {
            name: name.into(),
            ok,
            detail,
        })
    };
    let min = match minimizer(&cx, cert) {
        Ok(m) => m,
        Err(e) => {
            push("minimizer", Err(e));
            return Ok(out);
        }
    };
    push(
        "minimizer",
        Ok(
            "K(X₀) ⊂ int X₀, K(X₀) ∩ X₀ ⊆ X ⊆ X₀ ⊂ D, ∇²L ≻ 0 on X; L*, λ_min, λ_max enclosed"
                .into(),
        ),
    );
    let lstar = cx.l.value(&cx.x);
    push("depth", depth(&cx, cert, lstar));
    let h1 = cert.h1.as_ref().map(|h| h1_check(&cx, h));
    let h1_ok = matches!(h1, Some(Ok(_)));
    if let Some(r) = h1 {
        push("H1", r);
    }
    let mut spec_ok = None;
    let mut h2_ok = false;
    if let Some(s) = &cert.spectrum {
        let r = spectrum(&cx, s);
        if r.is_ok() {
            spec_ok = Some((s.lambda_min_lo.0, s.lambda_max_hi.0));
            h2_ok = s.holds;
        }
        push("spectrum of Σ (H2)", r);
    }
    let mut steep_ok = false;
    if let Some(s) = &cert.steepness {
        let r = steepness(&cx, s, spec_ok);
        steep_ok = r.is_ok();
        push("steepness", r);
    }
    if let Some(b) = &cert.barrier {
        let r = barrier(&cx, cert, b, &min, h1_ok, h2_ok, steep_ok);
        push("barrier", r);
    }
    for b in &cert.barrier_discrete {
        let eta = b.eta.0;
        push(
            &format!("discrete barrier η = {eta}"),
            discrete(&cx, &min, b),
        );
    }
    for (i, p) in cert.paths.iter().enumerate() {
        let r = path_action(&cx.l, &cx.noise, &cx.x, &cx.domain, p).and_then(|a| {
            if a <= p.upper.0 {
                Ok(format!(
                    "recomputed action ≤ {a:e} ≤ claimed {:e}",
                    p.upper.0
                ))
            } else {
                Err(format!(
                    "recomputed action bound {a:e} > claimed {:e}",
                    p.upper.0
                ))
            }
        });
        push(&format!("path {}", i + 1), r);
    }
    Ok(out)
}

/// The continuous barrier claim: each end from its own evidence.
fn barrier(
    cx: &Ctx,
    cert: &Certificate,
    b: &super::BarrierClaim,
    min: &Minimizer,
    h1_ok: bool,
    h2_ok: bool,
    steep_ok: bool,
) -> R<String> {
    let dep = to_interval(&cert.depth.claim).ok_or("the depth claim has lo > hi")?;
    let sigma2 = || {
        cx.noise
            .isotropic_sigma()
            .map(|s| point(s).sqr())
            .ok_or("E7 needs isotropic noise".to_string())
    };
    let linear = || match linear_barrier(&cx.l, &cx.domain, &cx.noise, min, None) {
        Some(Ok(v)) => Ok(v),
        _ => Err("the Lyapunov solve is not verified".to_string()),
    };
    let steep = || {
        cert.steepness
            .as_ref()
            .filter(|_| steep_ok)
            .ok_or("no rechecked steepness claim".to_string())
    };
    let need_h2 = || {
        if h2_ok {
            Ok(())
        } else {
            Err("Lemma HJ needs (H2), which is not rechecked".to_string())
        }
    };
    let need_h1 = || {
        if h1_ok {
            Ok(())
        } else {
            Err("this upper end needs (H1), which is not rechecked".to_string())
        }
    };
    let lo = match &b.lower {
        LowerEvidence::E7 => (point(2.0) * dep / sigma2()?).inf(),
        LowerEvidence::Linear => linear()?.inf(),
        LowerEvidence::CLoss => {
            need_h2()?;
            let c = (point(2.0) * point(steep()?.s_minus[0].0)).inf();
            (point(c) * point(dep.inf())).inf()
        }
        LowerEvidence::CQuad(q) => {
            need_h2()?;
            c_quad(cx, q).map_err(|e| format!("C-quad: {e}"))?
        }
        LowerEvidence::Trivial => 0.0,
    };
    let hi = match &b.upper {
        UpperEvidence::E7 => {
            need_h1()?;
            (point(2.0) * dep / sigma2()?).sup()
        }
        UpperEvidence::Linear => linear()?.sup(),
        UpperEvidence::Steepness => {
            need_h1()?;
            (point(2.0) * point(steep()?.s_plus[1].0) * point(dep.sup())).sup()
        }
        UpperEvidence::Path(p) => {
            // Lemma P is applied under (H2) (proofs/geometric-action-upper-bound.md).
            need_h2()?;
            let a = path_action(&cx.l, &cx.noise, &cx.x, &cx.domain, p)
                .map_err(|e| format!("Lemma P path: {e}"))?;
            if a > p.upper.0 {
                return Err(format!(
                    "Lemma P path: recomputed action bound {a:e} > its claimed {:e}",
                    p.upper.0
                ));
            }
            a
        }
        UpperEvidence::Unbounded => f64::INFINITY,
    };
    let (cl, ch) = (b.claim[0].0, b.claim[1].0);
    if cl <= lo && ch >= hi && !lo.is_nan() && !hi.is_nan() {
        Ok(format!(
            "lower {:?}, upper {}: claim ⊇ [{lo:e}, {hi:e}]",
            lower_name(&b.lower),
            upper_name(&b.upper)
        ))
    } else {
        Err(format!(
            "lower {}, upper {} give [{lo:e}, {hi:e}], not inside the claim [{cl:e}, {ch:e}]",
            lower_name(&b.lower),
            upper_name(&b.upper)
        ))
    }
}

fn lower_name(l: &LowerEvidence) -> &'static str {
    match l {
        LowerEvidence::E7 => "E7",
        LowerEvidence::Linear => "E8",
        LowerEvidence::CLoss => "C-loss",
        LowerEvidence::CQuad(_) => "C-quad",
        LowerEvidence::Trivial => "trivial",
    }
}

fn upper_name(u: &UpperEvidence) -> &'static str {
    match u {
        UpperEvidence::E7 => "E7",
        UpperEvidence::Linear => "E8",
        UpperEvidence::Steepness => "2s⁺ΔL",
        UpperEvidence::Path(_) => "Lemma P",
        UpperEvidence::Unbounded => "none",
    }
}

/// A certified lower bound of dist(c, ∂D) for c ∈ D (0 when not certified).
fn boundary_distance(domain: &Domain, c: &[f64]) -> f64 {
    match domain {
        Domain::Ball { center, radius } => {
            let o = dist2(&pts(&c.iter().map(|&v| F(v)).collect::<Vec<_>>()), center).sqrt();
            (point(*radius) - o).inf().max(0.0)
        }
        Domain::Interval { .. } | Domain::Box { .. } => domain
            .bounding_box()
            .iter()
            .zip(c)
            .map(|(d, &x)| {
                (point(x) - point(d.inf()))
                    .min(point(d.sup()) - point(x))
                    .inf()
            })
            .fold(f64::INFINITY, f64::min)
            .max(0.0),
    }
}

/// True only when the box certainly misses D̄.
fn misses_closure(domain: &Domain, b: &[Interval]) -> bool {
    matches!(domain, Domain::Ball { center, radius } if dist2(b, center).inf() > point(*radius).sqr().sup())
}

/// C-quad (`proofs/quadratic-hj-certificate.md`): K = B̄(c, ρ) ⊇ X, c ∈ D with
/// dist(c, ∂D) > ρ, P symmetric with λ_min(P) > 0, 0 < γ ≤ 1, every leaf of the tree
/// re-passes its test; then V̄ ≥ γ·½λ_min(P)·dist(c, ∂D)² − γ·½λ_max(P)ρ².
fn c_quad(cx: &Ctx, q: &CQuadEvidence) -> R<f64> {
    let d = cx.d;
    let (gamma, rho) = (q.gamma.0, q.rho.0);
    if q.centre.len() != d || q.p.len() != d * d {
        return Err("c or P does not match the dimension".into());
    }
    let c: Vec<f64> = q.centre.iter().map(|v| v.0).collect();
    let p: Vec<f64> = q.p.iter().map(|v| v.0).collect();
    if (0..d).any(|i| (0..d).any(|j| p[i * d + j] != p[j * d + i])) {
        return Err("P is not exactly symmetric".into());
    }
    if !(gamma > 0.0 && gamma <= 1.0) {
        return Err("γ ∉ (0, 1]".into());
    }
    let eig = sym_eig_bounds(&pts(&q.p), d).ok_or("the eigenvalues of P are not enclosed")?;
    if !(eig.min.inf() > 0.0) {
        return Err("λ_min(P) > 0 not certified".into());
    }
    let rho2 = point(rho).sqr();
    if !(dist2(&cx.x, &c).sup() <= rho2.inf()) {
        return Err("K = B̄(c, ρ) does not contain X".into());
    }
    let dist = boundary_distance(&cx.domain, &c);
    if !(cx.domain.contains(&c) && dist > rho) {
        return Err("dist(c, ∂D) > ρ not certified".into());
    }
    if !covers(&q.tree.root, &cx.domain.bounding_box()) {
        return Err("the tree's root does not contain D̄".into());
    }
    let ctx = QuadCtx::new(&cx.l, &cx.noise, &cx.domain, c.clone(), &p, rho);
    let mut scratch = Scratch::new();
    walk_tree(&q.tree, d, |b, n| match n {
        Node::Excluded if misses_closure(&cx.domain, b) || dist2(b, &c).sup() < rho2.inf() => {
            Ok(())
        }
        Node::Proved(Some(_)) if ctx.hamiltonian(b, gamma, &mut scratch).sup() <= 0.0 => Ok(()),
        Node::Proved(None) if ctx.matrix_test(b, gamma) => Ok(()),
        _ => Err("the HJ inequality is not re-proved on the box".into()),
    })
    .map_err(|e| format!("HJ tree: {e}"))?;
    let gi = point(gamma);
    let wmin = point(0.5) * gi * point(eig.min.inf()) * point(dist).sqr();
    let corr = (point(0.5) * gi * point(eig.max.sup()) * rho2).sup();
    Ok((wmin - point(corr)).inf().max(0.0))
}

/// Krawczyk: K(X₀) ⊂ int X₀ with X₀ = x̂ ± ε; then K(X₀) ∩ X₀ ⊆ X ⊆ X₀, X ⊂ D, ∇²L ≻ 0 on X.
fn minimizer(cx: &Ctx, cert: &Certificate) -> R<Minimizer> {
    let (l, d, m) = (&cx.l, cx.d, &cert.minimizer);
    let k = &m.krawczyk;
    let xh: Vec<f64> = k.candidate.iter().map(|v| v.0).collect();
    let x0 = ball_box(&xh, k.eps.0);
    l.check_domain(&x0).map_err(|e| e.to_string())?;
    let xhi = pts(&k.candidate);
    let y = pts(&k.y);
    let mut g = vec![point(0.0); d];
    l.gradient(&xhi, &mut g);
    let mut j = vec![point(0.0); d * d];
    l.hessian(&x0, &mut j);
    let yg = matvec(&y, &g, d, d);
    let mut mm = matmul(&y, &j, d, d, d);
    for (t, e) in mm.iter_mut().enumerate() {
        *e = if t / d == t % d {
            point(1.0)
        } else {
            point(0.0)
        } - *e;
    }
    let dx: Vec<Interval> = x0.iter().zip(&xhi).map(|(a, b)| *a - *b).collect();
    let mdx = matvec(&mm, &dx, d, d);
    let kx: Vec<Interval> = (0..d).map(|i| xhi[i] - yg[i] + mdx[i]).collect();
    if !kx
        .iter()
        .zip(&x0)
        .all(|(a, b)| !a.is_empty() && a.interior(*b))
    {
        return Err("K(X₀) ⊄ int X₀".into());
    }
    for i in 0..d {
        let ref_i = kx[i].intersection(x0[i]);
        if !(cx.x[i].subset(x0[i]) && ref_i.subset(cx.x[i])) {
            return Err(format!(
                "coordinate {}: X is not between K(X₀) ∩ X₀ and X₀",
                i + 1
            ));
        }
    }
    let inside = match &cx.domain {
        Domain::Interval { lo, hi } => cx.x[0].inf() > *lo && cx.x[0].sup() < *hi,
        Domain::Ball { radius, .. } => dist2(&cx.x, &cx.c).sqrt().sup() < *radius,
        Domain::Box { lo, hi } => {
            cx.x.iter()
                .zip(lo.iter().zip(hi))
                .all(|(v, (a, b))| v.inf() > *a && v.sup() < *b)
        }
    };
    if !inside {
        return Err("X is not inside D".into());
    }
    l.check_domain(&cx.domain.bounding_box())
        .map_err(|e| e.to_string())?;
    let mut hx = vec![point(0.0); d * d];
    l.hessian(&cx.x, &mut hx);
    let eig = sym_eig_bounds(&hx, d).ok_or("the Hessian's eigenvalues on X are not enclosed")?;
    if !(eig.min.inf() > 0.0) {
        return Err("∇²L ≻ 0 on X is not certified".into());
    }
    if !(holds(&m.loss_at_min, l.value(&cx.x))
        && holds(&m.lambda_min, eig.min)
        && holds(&m.lambda_max, eig.max))
    {
        return Err("L*, λ_min or λ_max claim does not contain the recomputed enclosure".into());
    }
    Ok(Minimizer {
        x: cx.x.clone(),
        candidate: xh,
        hessian: hx,
        eig,
        radius: k.eps.0,
        precond: k.y.iter().map(|v| v.0).collect(),
    })
}

/// Radial projection c + r(p − c)/|p − c| (as `bnb::project_to_sphere`).
fn project(p: &[F], c: &[f64], r: f64) -> Option<Vec<Interval>> {
    let u: Vec<Interval> = p
        .iter()
        .zip(c)
        .map(|(a, &b)| point(a.0) - point(b))
        .collect();
    let n2 = u.iter().fold(point(0.0), |s, x| s + x.sqr());
    (n2.inf() > 0.0).then(|| {
        let n = n2.sqrt();
        u.iter()
            .zip(c)
            .map(|(x, &ci)| point(ci) + point(r) * *x / n)
            .collect()
    })
}

fn depth(cx: &Ctx, cert: &Certificate, lstar: Interval) -> R<String> {
    let (l, claim) = (&cx.l, &cert.depth.claim);
    let proven = match (&cx.domain, &cert.depth.evidence) {
        (_, DepthEvidence::NotRecorded) => {
            return if claim[0].0 == f64::NEG_INFINITY && claim[1].0 == f64::INFINITY {
                Ok("not claimed".into())
            } else {
                Err("a depth is claimed without evidence".into())
            };
        }
        (
            Domain::Box { lo, hi },
            DepthEvidence::BoxFaces {
                taylor,
                faces,
                upper_point,
            },
        ) => {
            let d = cx.d;
            let mut lower = f64::NEG_INFINITY;
            if let Some(t) = taylor {
                let bbox = cx.domain.bounding_box();
                let mut h = vec![point(0.0); d * d];
                l.hessian(&bbox, &mut h);
                let lam = sym_eig_bounds(&h, d).map_or(f64::NEG_INFINITY, |e| e.min.inf());
                // |y − θ*| ≥ inf X_i − lo_i (resp. hi_i − sup X_i) on the face of coordinate i.
                let gap =
                    cx.x.iter()
                        .zip(lo.iter().zip(hi))
                        .map(|(v, (&a, &b))| {
                            (point(v.inf()) - point(a))
                                .inf()
                                .min((point(b) - point(v.sup())).inf())
                        })
                        .fold(f64::INFINITY, f64::min);
                if !(t.lambda_lo.0 > 0.0 && t.gap.0 > 0.0 && t.lambda_lo.0 <= lam && t.gap.0 <= gap)
                {
                    return Err("Taylor bound parameters not certified".into());
                }
                lower = (point(0.5) * point(t.lambda_lo.0) * point(t.gap.0).sqr()).inf();
            }
            if faces.len() != 2 * d {
                return Err(format!(
                    "{} face trees for 2d = {} faces",
                    faces.len(),
                    2 * d
                ));
            }
            let mut lb = f64::INFINITY;
            for (k, t) in faces.iter().enumerate() {
                let (i, v) = (k / 2, if k % 2 == 0 { lo[k / 2] } else { hi[k / 2] });
                let face: Vec<Interval> = (0..d)
                    .map(|j| if j == i { point(v) } else { iv(lo[j], hi[j]) })
                    .collect();
                if !covers(&t.root, &face) {
                    return Err(format!(
                        "face tree {}: the root does not contain its face",
                        k + 1
                    ));
                }
                walk_tree(t, d, |b, n| match n {
                    Node::Proved(Some(e)) => {
                        let enc = enclose(l, b);
                        if enc.is_empty() || enc.inf() < e[0].0 {
                            return Err(format!("L ≥ {:e} not certified on the box", e[0].0));
                        }
                        lb = lb.min(e[0].0);
                        Ok(())
                    }
                    _ => Err("face box without a bound".into()),
                })
                .map_err(|e| format!("face tree {}: {e}", k + 1))?;
            }
            lower = lower.max((point(lb) - lstar).inf());
            // The upper point must lie on ∂D: inside D̄ with a coordinate on its face.
            let p: Vec<f64> = upper_point.iter().map(|v| v.0).collect();
            let on_boundary = p
                .iter()
                .zip(lo.iter().zip(hi))
                .all(|(x, (a, b))| a <= x && x <= b)
                && p.iter()
                    .zip(lo.iter().zip(hi))
                    .any(|(x, (a, b))| x == a || x == b);
            let upper = if on_boundary {
                (point(l.value(&pts(upper_point)).sup()) - lstar).sup()
            } else {
                f64::INFINITY
            };
            if !(claim[0].0 <= lower && claim[1].0 >= upper) {
                return Err(format!(
                    "claim [{:e}, {:e}] ⊉ proven [{lower:e}, {upper:e}]",
                    claim[0].0, claim[1].0
                ));
            }
            return Ok(format!(
                "ΔL ∈ [{lower:e}, {upper:e}] ⊆ claim ({} faces)",
                2 * d
            ));
        }
        (Domain::Interval { lo, hi }, DepthEvidence::Endpoints) => {
            l.value(&[point(*lo)]).min(l.value(&[point(*hi)])) - lstar
        }
        (
            Domain::Ball { center, radius },
            DepthEvidence::Ball {
                taylor,
                sphere,
                upper_point,
            },
        ) => {
            let (c, r) = (center, *radius);
            let mut lower = f64::NEG_INFINITY;
            if let Some(t) = taylor {
                let mut h = vec![point(0.0); cx.d * cx.d];
                l.hessian(&ball_box(c, r), &mut h);
                let lam = sym_eig_bounds(&h, cx.d).map_or(f64::NEG_INFINITY, |e| e.min.inf());
                let gap = (point(r) - point(dist2(&cx.x, c).sqrt().sup())).inf();
                if !(t.lambda_lo.0 > 0.0 && t.gap.0 > 0.0 && t.lambda_lo.0 <= lam && t.gap.0 <= gap)
                {
                    return Err("Taylor bound parameters not certified".into());
                }
                lower = (point(0.5) * point(t.lambda_lo.0) * point(t.gap.0).sqr()).inf();
            }
            if let Some(t) = sphere {
                if !covers(&t.root, &ball_box(c, r)) {
                    return Err("the sphere tree's root does not contain the sphere".into());
                }
                let r2 = point(r).sqr();
                let mut lb = f64::INFINITY;
                walk_tree(t, cx.d, |b, n| {
                    let d2 = dist2(b, c);
                    match n {
                        Node::Excluded if d2.sup() < r2.inf() || d2.inf() > r2.sup() => Ok(()),
                        Node::Proved(Some(e)) => {
                            let enc = enclose(l, b);
                            if enc.is_empty() || enc.inf() < e[0].0 {
                                return Err(format!("L ≥ {:e} not certified on the box", e[0].0));
                            }
                            lb = lb.min(e[0].0);
                            Ok(())
                        }
                        _ => Err("box meets the sphere but has no bound".into()),
                    }
                })
                .map_err(|e| format!("sphere tree: {e}"))?;
                lower = lower.max((point(lb) - lstar).inf());
            }
            let upper = project(upper_point, c, r)
                .map_or(f64::INFINITY, |p| (point(l.value(&p).sup()) - lstar).sup());
            if !(claim[0].0 <= lower && claim[1].0 >= upper) {
                return Err(format!(
                    "claim [{:e}, {:e}] ⊉ proven [{lower:e}, {upper:e}]",
                    claim[0].0, claim[1].0
                ));
            }
            return Ok(format!("ΔL ∈ [{lower:e}, {upper:e}] ⊆ claim"));
        }
        _ => return Err("the depth evidence does not match the domain kind".into()),
    };
    if holds(claim, proven) {
        Ok(format!(
            "ΔL ∈ [{:e}, {:e}] ⊆ claim",
            proven.inf(),
            proven.sup()
        ))
    } else {
        Err(format!(
            "claim [{:e}, {:e}] ⊉ proven [{:e}, {:e}]",
            claim[0].0,
            claim[1].0,
            proven.inf(),
            proven.sup()
        ))
    }
}

fn h1_check(cx: &Ctx, h: &crate::certify::evidence::H1Evidence) -> R<String> {
    let (l, c, d) = (&cx.l, &cx.c, cx.d);
    let (rho, lam) = (h.rho.0, h.lambda_lo.0);
    let rho_x = dist2(&cx.x, c).sqrt().sup();
    let mut b = ball_box(c, rho);
    if let Domain::Interval { lo, hi } = cx.domain {
        b[0] = b[0].intersection(iv(lo, hi));
    }
    let mut hm = vec![point(0.0); d * d];
    l.hessian(&b, &mut hm);
    let e =
        sym_eig_bounds(&hm, d).ok_or("Hessian eigenvalues on the convexity ball not enclosed")?;
    if !(rho > rho_x && lam > 0.0 && e.min.inf() >= lam) {
        return Err("∇²L ⪰ λ > 0 on B̄(c, ρ) with ρ > ρ_X not certified".into());
    }
    let bbox = cx.domain.bounding_box();
    match (&h.inward, &cx.domain) {
        (InwardEvidence::Margin, Domain::Ball { radius, .. }) if rho >= *radius => {
            let mut g = vec![point(0.0); d];
            l.gradient(&bbox, &mut g);
            let gnorm = g.iter().fold(point(0.0), |s, v| s + v.sqr()).sqrt().sup();
            let dist = (point(*radius) - point(rho_x)).inf();
            let margin = point(lam) * point(dist).sqr() - point(gnorm) * point(rho_x);
            if dist > 0.0 && margin.inf() > 0.0 {
                Ok("convex on D̄; inward flow on ∂D by the convexity margin".into())
            } else {
                Err("convexity margin not positive".into())
            }
        }
        (InwardEvidence::Tree { inner, tree }, dom) => {
            let inner = inner.0;
            let ann_ok = inner <= rho
                && match dom {
                    Domain::Ball { radius, .. } => inner < *radius,
                    Domain::Interval { lo, hi } => {
                        (point(c[0]) - point(*lo)).inf() > inner
                            && (point(*hi) - point(c[0])).inf() > inner
                    }
                    // Box domains carry no inward-flow tree in this format version.
                    Domain::Box { .. } => false,
                };
            if !ann_ok || !covers(&tree.root, &bbox) {
                return Err("the inner radius or the tree's root does not fit the domain".into());
            }
            let in2 = point(inner).sqr();
            let mut g = vec![point(0.0); d];
            walk_tree(tree, d, |b, n| {
                let d2 = dist2(b, c);
                let outside = matches!(dom, Domain::Ball { radius, .. } if d2.inf() > point(*radius).sqr().sup());
                match n {
                    Node::Excluded if d2.sup() < in2.inf() || outside => Ok(()),
                    Node::Proved(None) => {
                        l.gradient(b, &mut g);
                        let q = b.iter().zip(c).zip(&g).fold(point(0.0), |s, ((x, &ci), gi)| s + *gi * (*x - point(ci)));
                        if !q.is_empty() && q.inf() > 0.0 {
                            Ok(())
                        } else {
                            Err("∇L·(θ−c) > 0 not certified".into())
                        }
                    }
                    _ => Err("box meets the annulus but is not proved".into()),
                }
            })
            .map_err(|e| format!("inward-flow tree: {e}"))?;
            Ok(format!(
                "convex on B̄(c, {rho:e}); ∇L·(θ−c) > 0 on D̄ ∖ B(c, {inner:e}) ({} leaves)",
                tree.leaves()
            ))
        }
        _ => Err("the inward-flow evidence does not match the domain".into()),
    }
}

fn spectrum(cx: &Ctx, s: &super::SpectrumClaim) -> R<String> {
    let (l, noise, d) = (&cx.l, &cx.noise, cx.d);
    let eig = |b: &[Interval]| {
        let mut sig = vec![point(0.0); d * d];
        noise.covariance(l, b, &mut sig);
        sym_eig_bounds(&sig, d).filter(|e| !e.min.is_empty() && !e.max.is_empty())
    };
    let bbox = cx.domain.bounding_box();
    let (lo, hi) = match (&s.evidence, noise) {
        (SpectrumEvidence::Isotropic, NoiseModel::Isotropic { .. })
        | (SpectrumEvidence::Constant, NoiseModel::Constant { .. }) => {
            let e = eig(&bbox).ok_or("Σ's eigenvalues not enclosed")?;
            (e.min.inf(), e.max.sup())
        }
        (SpectrumEvidence::Tree(t), NoiseModel::Hessian { .. }) => {
            if !covers(&t.root, &bbox) {
                return Err("the tree's root does not contain D̄".into());
            }
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            walk_tree(t, d, |b, n| match n {
                Node::Excluded => match &cx.domain {
                    Domain::Ball { center, radius }
                        if dist2(b, center).inf() > point(*radius).sqr().sup() =>
                    {
                        Ok(())
                    }
                    _ => Err("box is not outside D̄".into()),
                },
                Node::Proved(Some(e)) => {
                    let ev = eig(b).ok_or("Σ's eigenvalues not enclosed")?;
                    if ev.min.inf() < e[0].0 || ev.max.sup() > e[1].0 {
                        return Err("recomputed eigenvalue bounds exceed the leaf's".into());
                    }
                    lo = lo.min(e[0].0);
                    hi = hi.max(e[1].0);
                    Ok(())
                }
                _ => Err("leaf without eigenvalue bounds".into()),
            })
            .map_err(|e| format!("spectrum tree: {e}"))?;
            (lo, hi)
        }
        _ => return Err("the spectrum evidence does not match the noise model".into()),
    };
    if !(s.lambda_min_lo.0 <= lo && s.lambda_max_hi.0 >= hi) {
        return Err(format!(
            "claimed [{:e}, {:e}] ⊉ proven [{lo:e}, {hi:e}]",
            s.lambda_min_lo.0, s.lambda_max_hi.0
        ));
    }
    if s.holds && !(s.lambda_min_lo.0 > 0.0) {
        return Err("(H2) claimed but λ_min(Σ) ≤ 0 is not excluded".into());
    }
    Ok(format!(
        "λ(Σ) ⊆ [{lo:e}, {hi:e}] on D̄{}",
        if s.holds { "; (H2) holds" } else { "" }
    ))
}

fn steepness(cx: &Ctx, s: &super::SteepnessClaim, spec: Option<(f64, f64)>) -> R<String> {
    let (l, noise, d) = (&cx.l, &cx.noise, cx.d);
    let (sm, sp) = (&s.s_minus, &s.s_plus);
    if let Some(sigma) = noise.isotropic_sigma() {
        let v = point(1.0) / point(sigma).sqr();
        return if holds(sm, v) && holds(sp, v) {
            Ok("s = s* = 1/σ²".into())
        } else {
            Err("claims ⊉ 1/σ²".into())
        };
    }
    let (lmin, lmax) = spec.ok_or("needs a rechecked spectrum of Σ")?;
    if !(lmin > 0.0) {
        return Err("Σ not certified positive definite".into());
    }
    let (lo_minus, hi_plus) = (
        (point(1.0) / point(lmax)).inf(),
        (point(1.0) / point(lmin)).sup(),
    );
    let (mut lo_minus, mut hi_plus) = (lo_minus, hi_plus);
    if let Some(ev) = &s.evidence {
        let (tm, tp) = steepness_trees(cx, ev)?;
        lo_minus = lo_minus.max(tm);
        hi_plus = hi_plus.min(tp);
    }
    let (mut hi_minus, mut lo_plus) = (hi_plus, lo_minus);
    let mut points = vec![&s.exit_point];
    if let Some(ev) = &s.evidence {
        points.extend(ev.witnesses.iter());
    }
    for q in points {
        if q.len() != d {
            return Err("a witness point does not match the dimension".into());
        }
        let p = pts(q);
        let mut g = vec![point(0.0); d];
        l.gradient(&p, &mut g);
        let mut sig = vec![point(0.0); d * d];
        noise.covariance(l, &p, &mut sig);
        let g2 = g.iter().fold(point(0.0), |a, v| a + v.sqr());
        let inside = match &cx.domain {
            Domain::Interval { lo, hi } => *lo <= p[0].inf() && p[0].sup() <= *hi,
            Domain::Ball { center, radius } => {
                dist2(&p, center).sup() <= point(*radius).sqr().inf()
            }
            Domain::Box { lo, hi } => p
                .iter()
                .zip(lo.iter().zip(hi))
                .all(|(v, (a, b))| *a <= v.inf() && v.sup() <= *b),
        };
        if g2.inf() > 0.0 && inside {
            let sg = matvec(&sig, &g, d, d);
            let gsg = g.iter().zip(&sg).fold(point(0.0), |a, (x, y)| a + *x * *y);
            hi_minus = hi_minus.min((g2 / gsg).sup());
            if let Some(u) = verified_solve(&sig, &g, d) {
                let gu = g.iter().zip(&u).fold(point(0.0), |a, (x, y)| a + *x * *y);
                lo_plus = lo_plus.max((gu / g2).inf());
            }
        }
    }
    if sm[0].0 <= lo_minus && sm[1].0 >= hi_minus && sp[0].0 <= lo_plus && sp[1].0 >= hi_plus {
        Ok(format!(
            "s⁻ ∈ [{lo_minus:e}, {hi_minus:e}], s⁺ ∈ [{lo_plus:e}, {hi_plus:e}]"
        ))
    } else {
        Err("a steepness claim is not implied by the Rayleigh bounds and the exit point".into())
    }
}

/// The steepness trees: (lower bound of s⁻, upper bound of s⁺) over D̄ ∖ {θ*} from the
/// leaves outside K = B̄(c, inner) and the Rayleigh bounds of Σ on the box c ± inner.
fn steepness_trees(cx: &Ctx, ev: &SteepnessEvidence) -> R<(f64, f64)> {
    let (l, noise, d, c) = (&cx.l, &cx.noise, cx.d, &cx.c);
    let inner = ev.inner.0;
    if !(inner >= 0.0) {
        return Err("negative inner radius".into());
    }
    let mut sig = vec![point(0.0); d * d];
    noise.covariance(l, &ball_box(c, inner), &mut sig);
    let (k_lo, k_hi) = match sym_eig_bounds(&sig, d) {
        Some(e) => (
            if e.max.sup() > 0.0 {
                (point(1.0) / point(e.max.sup())).inf()
            } else {
                0.0
            },
            if e.min.inf() > 0.0 {
                (point(1.0) / point(e.min.inf())).sup()
            } else {
                f64::INFINITY
            },
        ),
        None => (0.0, f64::INFINITY),
    };
    let in2 = point(inner).sqr();
    let bbox = cx.domain.bounding_box();
    let mut scratch = Scratch::new();
    let mut run = |t: &BnbTree, minus: bool| -> R<f64> {
        if !covers(&t.root, &bbox) {
            return Err("a steepness tree's root does not contain D̄".into());
        }
        let mut acc = if minus {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
        walk_tree(t, d, |b, n| match n {
            Node::Excluded if misses_closure(&cx.domain, b) || dist2(b, c).sup() < in2.inf() => {
                Ok(())
            }
            Node::Proved(Some(e)) => {
                let (lo, hi) = box_bounds(l, noise, b, &mut scratch);
                if minus && lo >= e[0].0 {
                    acc = acc.min(e[0].0);
                    Ok(())
                } else if !minus && hi <= e[1].0 {
                    acc = acc.max(e[1].0);
                    Ok(())
                } else {
                    Err("the recomputed steepness bound is weaker than the leaf's".into())
                }
            }
            _ => Err("box meets D̄ ∖ K but has no bound".into()),
        })
        .map_err(|e| format!("steepness tree: {e}"))?;
        Ok(acc)
    };
    let lo = match &ev.minus {
        Some(t) => run(t, true)?.min(k_lo),
        None => 0.0,
    };
    let hi = match &ev.plus {
        Some(t) => run(t, false)?.max(k_hi),
        None => f64::INFINITY,
    };
    Ok((lo, hi))
}

/// One discrete barrier claim: each end from its own evidence.
fn discrete(cx: &Ctx, min: &Minimizer, b: &super::DiscreteClaim) -> R<String> {
    let eta = b.eta.0;
    let exact = |f: &Formula| match f {
        Formula::Linear => match linear_barrier(&cx.l, &cx.domain, &cx.noise, min, Some(eta)) {
            Some(Ok(v)) => Ok(v),
            _ => Err("the Stein solve is not verified".to_string()),
        },
        Formula::E12 => e12(cx, min, eta),
        f => Err(format!("{f:?} is not a discrete formula")),
    };
    let lo = match &b.lower {
        DiscreteLower::Exact(f) => exact(f)?.inf(),
        DiscreteLower::Trivial => 0.0,
    };
    let hi = match &b.upper {
        DiscreteUpper::Exact(f) => exact(f)?.sup(),
        DiscreteUpper::Path { path } => discrete_action(cx, eta, path)?,
        DiscreteUpper::Unbounded => f64::INFINITY,
    };
    let (cl, ch) = (b.claim[0].0, b.claim[1].0);
    if cl <= lo && ch >= hi {
        Ok(format!("claim ⊇ [{lo:e}, {hi:e}]"))
    } else {
        Err(format!(
            "the evidence gives [{lo:e}, {hi:e}], not inside the claim [{cl:e}, {ch:e}]"
        ))
    }
}

/// E10 (`proofs/discrete-action-upper-bound.md`): the certified upper bound of
/// S_η(θ*, x_1, …, x_n) = Σ_k |x_{k+1} − x_k + η∇L(x_k)|²_{Σ(x_k)⁻¹}/(2η) for every
/// θ* = x_0 ∈ X, with x_n certified outside D and Σ ≻ 0 certified at every x_k.
fn discrete_action(cx: &Ctx, eta: f64, path: &[Vec<F>]) -> R<f64> {
    let (l, noise, d) = (&cx.l, &cx.noise, cx.d);
    if !(eta > 0.0) || path.is_empty() || path.iter().any(|x| x.len() != d) {
        return Err("E10 path: needs η > 0 and points of dimension d".into());
    }
    let end = pts(&path[path.len() - 1]);
    let out = match &cx.domain {
        Domain::Interval { lo, hi } => end[0].sup() <= *lo || end[0].inf() >= *hi,
        Domain::Ball { center, radius } => dist2(&end, center).inf() >= point(*radius).sqr().sup(),
        Domain::Box { lo, hi } => end
            .iter()
            .zip(lo.iter().zip(hi))
            .any(|(v, (a, b))| v.sup() <= *a || v.inf() >= *b),
    };
    if !out {
        return Err("E10 path: the last point is not certified outside D".into());
    }
    let e = point(eta);
    let mut prev = cx.x.clone();
    let mut g = vec![point(0.0); d];
    let mut sig = vec![point(0.0); d * d];
    let mut s = point(0.0);
    for x in path {
        l.gradient(&prev, &mut g);
        noise.covariance(l, &prev, &mut sig);
        if !sym_eig_bounds(&sig, d).is_some_and(|e| e.min.inf() > 0.0) {
            return Err("E10 path: Σ ≻ 0 not certified at a point".into());
        }
        let v: Vec<Interval> = (0..d).map(|i| point(x[i].0) - prev[i] + e * g[i]).collect();
        let u = verified_solve(&sig, &v, d).ok_or("E10 path: Σ⁻¹v not enclosed")?;
        let q = v.iter().zip(&u).fold(point(0.0), |a, (p, q)| a + *p * *q);
        s = s + q / (point(2.0) * e);
        prev = pts(x);
    }
    if s.is_empty() || !s.sup().is_finite() {
        return Err("E10 path: the action is not enclosed".into());
    }
    Ok(s.sup())
}

/// E12 (isotropic quadratic, domain centred at θ* = 0): V̄_η = r² min λ(2 − ηλ)/(2σ²).
fn e12(cx: &Ctx, min: &Minimizer, eta: f64) -> R<Interval> {
    let (Landscape::Quadratic { .. }, Some(sigma)) = (&cx.l, cx.noise.isotropic_sigma()) else {
        return Err("E12 needs the quadratic built-in and isotropic noise".into());
    };
    let e = point(eta);
    if !((e * min.eig.max).sup() < 2.0) {
        return Err("ηλ_max < 2 not certified".into());
    }
    let f = |lam: Interval| lam * (point(2.0) - e * lam);
    let r2 = match &cx.domain {
        Domain::Ball { center, radius } if center.iter().all(|&v| v == 0.0) => point(*radius).sqr(),
        Domain::Interval { lo, hi } => point(*lo).sqr().min(point(*hi).sqr()),
        _ => return Err("the ball is not centred exactly at 0".into()),
    };
    Ok(r2 * f(min.eig.min).min(f(min.eig.max)) / (point(2.0) * point(sigma).sqr()))
}

/// Largest sub-segment count per segment that `path_action` accepts (bounds its run time).
pub const MAX_SUBSEGMENTS: usize = 10_000_000;

/// A certified upper bound of the geometric action (E6) of a polyline: per equal
/// sub-segment [p, q] (velocity v = q − p), the sup over the hull box H of p and q of
/// |v|_{Σ⁻¹}|∇L|_{Σ⁻¹} + ⟨v, ∇L⟩_{Σ⁻¹}, summed with outward rounding. With
/// `from_minimizer` the first vertex is the whole box X (the bound holds for every
/// θ* ∈ X). The last vertex must be certified outside the open domain D.
pub fn path_action(
    l: &Landscape,
    noise: &NoiseModel,
    x: &[Interval],
    domain: &Domain,
    p: &PathEvidence,
) -> R<f64> {
    let d = x.len();
    let mut vs: Vec<Vec<Interval>> = p.vertices.iter().map(|v| pts(v)).collect();
    if p.from_minimizer {
        vs.insert(0, x.to_vec());
    }
    let ok = vs.len() >= 2 && (1..=MAX_SUBSEGMENTS).contains(&p.subsegments);
    let last = vs.last().filter(|_| ok).ok_or(format!(
        "needs two vertices and 1 to {MAX_SUBSEGMENTS} sub-segments"
    ))?;
    let out = match domain {
        Domain::Interval { lo, hi } => last[0].sup() <= *lo || last[0].inf() >= *hi,
        Domain::Ball { center, radius } => dist2(last, center).inf() >= point(*radius).sqr().sup(),
        Domain::Box { lo, hi } => last
            .iter()
            .zip(lo.iter().zip(hi))
            .any(|(v, (a, b))| v.sup() <= *a || v.inf() >= *b),
    };
    if !out {
        return Err("the last vertex is not certified outside D".into());
    }
    let n = p.subsegments;
    let nseg = vs.len() - 1;
    // α break points per segment: the given ones, or n equal sub-segments.
    let breaks: Vec<Vec<f64>> = match &p.breakpoints {
        Some(bp) => {
            let ok = bp.len() == nseg
                && bp.iter().map(|b| b.len().saturating_sub(1)).sum::<usize>() <= MAX_SUBSEGMENTS
                && bp.iter().all(|b| {
                    b.len() >= 2
                        && b[0].0 == 0.0
                        && b[b.len() - 1].0 == 1.0
                        && b.windows(2).all(|w| w[0].0 < w[1].0)
                });
            if !ok {
                return Err("malformed break points (one list 0 < … < 1 per segment)".into());
            }
            bp.iter().map(|b| b.iter().map(|x| x.0).collect()).collect()
        }
        None => vec![(0..=n).map(|t| t as f64 / n as f64).collect(); nseg],
    };
    let mut total = point(0.0);
    let mut g = vec![point(0.0); d];
    let mut sig = vec![point(0.0); d * d];
    let dot =
        |a: &[Interval], b: &[Interval]| a.iter().zip(b).fold(point(0.0), |s, (x, y)| s + *x * *y);
    for (w, al) in vs.windows(2).zip(&breaks) {
        let at = |a: f64| -> Vec<Interval> {
            (0..d)
                .map(|i| w[0][i] + (w[1][i] - w[0][i]) * point(a))
                .collect()
        };
        for ab in al.windows(2) {
            let (a, b) = (at(ab[0]), at(ab[1]));
            let v: Vec<Interval> = (0..d)
                .map(|i| (w[1][i] - w[0][i]) * (point(ab[1]) - point(ab[0])))
                .collect();
            let h: Vec<Interval> = a.iter().zip(&b).map(|(s, t)| s.convex_hull(*t)).collect();
            l.gradient(&h, &mut g);
            let f = match noise.isotropic_sigma() {
                Some(s) => (dot(&v, &v).sqrt() * dot(&g, &g).sqrt() + dot(&v, &g)) / point(s).sqr(),
                None => {
                    noise.covariance(l, &h, &mut sig);
                    let u = verified_solve(&sig, &g, d).ok_or("Σ⁻¹∇L not enclosed")?;
                    let wv = verified_solve(&sig, &v, d).ok_or("Σ⁻¹v not enclosed")?;
                    dot(&v, &wv).sqrt() * dot(&g, &u).sqrt() + dot(&v, &u)
                }
            };
            if f.is_empty() || !f.sup().is_finite() {
                return Err("the integrand is not enclosed on a sub-segment".into());
            }
            total = total + point(f.sup());
        }
    }
    Ok(total.sup())
}
