//! Certificates: the evidence behind every certified bound of `certify`, written as JSON
//! (`escapecert certify SPEC --certificate PATH`) and re-verified from the file alone by
//! [`recheck`] (`escapecert recheck PATH`). What is checked and why it suffices:
//! `proofs/certificate-recheck.md`.

pub mod recheck;

use crate::certify::evidence::{
    bnd, fv, Bnd, CQuadEvidence, DepthEvidence, H1Evidence, KrawczykEvidence, PathEvidence,
    SpectrumEvidence, SteepnessEvidence, F,
};
use crate::certify::hj::HjFamily;
use crate::certify::Certified;
use crate::landscape::Problem;
use crate::spec::Spec;
use serde::{Deserialize, Serialize};

/// The `format` field of every certificate.
pub const FORMAT: &str = "escapecert-certificate";
/// Bumped on any incompatible change of the layout below.
pub const FORMAT_VERSION: u32 = 2;

/// A certificate file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub format: String,
    pub format_version: u32,
    /// The escapecert version that wrote the file (informational).
    pub tool_version: String,
    /// The spec's path (used in messages only) and its full text: the recheck rebuilds the
    /// landscape, domain and noise from the text with the ordinary spec parser.
    pub spec_file: String,
    pub spec_text: String,
    pub minimizer: MinimizerClaim,
    pub depth: DepthClaim,
    /// Present when (H1) is claimed.
    pub h1: Option<H1Evidence>,
    /// Spectrum of Σ over D̄; (H2) is claimed when `holds`.
    pub spectrum: Option<SpectrumClaim>,
    pub steepness: Option<SteepnessClaim>,
    pub barrier: Option<BarrierClaim>,
    pub barrier_discrete: Vec<DiscreteClaim>,
    /// Certified geometric-action upper bounds of polylines (E6).
    pub paths: Vec<PathEvidence>,
    /// Certified quantities of `certify` that this certificate does not cover, and why.
    pub not_in_certificate: Vec<String>,
}

/// θ* ∈ x, with its Krawczyk data, L* and the Hessian's extreme eigenvalues over x.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimizerClaim {
    pub x: Vec<Bnd>,
    pub krawczyk: KrawczykEvidence,
    pub loss_at_min: Bnd,
    pub lambda_min: Bnd,
    pub lambda_max: Bnd,
}

/// ΔL ∈ claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthClaim {
    pub claim: Bnd,
    pub evidence: DepthEvidence,
}

/// λ_min(Σ(θ)) ≥ lambda_min_lo and λ_max(Σ(θ)) ≤ lambda_max_hi for θ ∈ D̄.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpectrumClaim {
    pub lambda_min_lo: F,
    pub lambda_max_hi: F,
    /// (H2) claimed (needs lambda_min_lo > 0).
    pub holds: bool,
    pub evidence: SpectrumEvidence,
}

/// s⁻ ∈ s_minus, s⁺ ∈ s_plus (E9); the inner ends come from the exit point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SteepnessClaim {
    pub s_minus: Bnd,
    pub s_plus: Bnd,
    pub exit_point: Vec<F>,
    /// The branch-and-bound trees (non-isotropic Σ); without them only the Rayleigh
    /// bounds over D̄ back the outer ends.
    pub evidence: Option<SteepnessEvidence>,
}

/// Which formula a barrier claim rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Formula {
    /// E7: V̄ = 2ΔL/σ² (upper end needs (H1)).
    E7,
    /// E8 (continuous) or E10–E12 Stein (discrete): linear case, verified solve.
    Linear,
    /// 2s⁻ΔL ≤ V̄ ≤ 2s⁺ΔL (upper end needs (H1)).
    Steepness,
    /// E12: isotropic quadratic, V̄_η = r² min λ(2 − ηλ)/(2σ²).
    E12,
}

/// What backs the lower end of the continuous barrier claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LowerEvidence {
    /// E7: V̄ ≥ 2ΔL/σ².
    E7,
    /// E8: the verified Lyapunov solve.
    Linear,
    /// C-loss: V̄ ≥ 2s⁻ΔL with the rechecked steepness claim (needs (H2)).
    CLoss,
    /// C-quad: the HJ-inequality tree (needs (H2)).
    CQuad(CQuadEvidence),
    /// V̄ ≥ 0 only.
    Trivial,
}

/// What backs the upper end of the continuous barrier claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum UpperEvidence {
    /// E7: V̄ ≤ 2ΔL/σ² (needs (H1)).
    E7,
    /// E8: the verified Lyapunov solve.
    Linear,
    /// V̄ ≤ 2s⁺ΔL (needs (H1)).
    Steepness,
    /// Lemma P: V̄ ≤ the certified geometric action of the polyline.
    Path(PathEvidence),
    /// No upper end (+∞).
    Unbounded,
}

/// V̄ ∈ claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarrierClaim {
    pub claim: Bnd,
    pub lower: LowerEvidence,
    pub upper: UpperEvidence,
}

/// What backs the lower end of a discrete barrier claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DiscreteLower {
    /// An exact linear formula (E12 or the Stein solve).
    Exact(Formula),
    /// V̄_η ≥ 0 only.
    Trivial,
}

/// What backs the upper end of a discrete barrier claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DiscreteUpper {
    /// An exact linear formula (E12 or the Stein solve).
    Exact(Formula),
    /// E10: V̄_η ≤ S_η(θ*, x_1, …, x_n) for every θ* ∈ X; `path` = x_1, …, x_n, x_n ∉ D.
    Path { path: Vec<Vec<F>> },
    /// No upper end (+∞).
    Unbounded,
}

/// V̄_η ∈ claim for one learning rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscreteClaim {
    pub eta: F,
    pub claim: Bnd,
    pub lower: DiscreteLower,
    pub upper: DiscreteUpper,
}

/// Builds the certificate of a certified spec.
pub fn build(spec: &Spec, c: &Certified) -> Certificate {
    let ev = &c.evidence;
    let mut missing = Vec::new();
    let krawczyk = ev.krawczyk.clone().unwrap_or_else(|| KrawczykEvidence {
        candidate: fv(&c.minimizer.candidate),
        eps: F(c.minimizer.radius),
        y: fv(&c.minimizer.precond),
    });
    let h1 = c.hypotheses.first().is_some_and(|h| h.holds);
    if h1 && ev.h1.is_none() {
        missing.push("(H1): certified, but its evidence is not recorded in this certificate format (box domains); not claimed".into());
    }
    let h1 = if h1 { ev.h1.clone() } else { None };
    let depth_ev = ev.depth.clone().unwrap_or(DepthEvidence::Endpoints);
    let depth_ok = depth_ev != DepthEvidence::NotRecorded;
    if !depth_ok {
        missing.push(format!(
            "ΔL ∈ [{:e}, {:e}]: the face branch-and-bound of box domains is not recorded in this certificate format; not claimed",
            c.depth.inf(),
            c.depth.sup()
        ));
    }
    let h2 = c.hypotheses.get(1).is_some_and(|h| h.holds);
    let spectrum = match (&ev.spectrum, ev.spectrum_bounds) {
        (Some(e), Some((lo, hi))) => Some(SpectrumClaim {
            lambda_min_lo: F(lo),
            lambda_max_hi: F(hi),
            holds: h2 && lo > 0.0,
            evidence: e.clone(),
        }),
        _ => {
            missing.push("spectrum of Σ: not enclosed".to_string());
            None
        }
    };
    let m = &c.steepness.method;
    let iso = c.barrier_lower_family == "E7" || m.starts_with("isotropic");
    let steepness = if iso || ev.steepness.is_some() {
        Some(SteepnessClaim {
            s_minus: bnd(c.steepness.s_minus),
            s_plus: bnd(c.steepness.s_plus),
            exit_point: fv(&c.exit_point),
            evidence: ev.steepness.clone(),
        })
    } else {
        missing.push(format!("steepness: {m}"));
        None
    };
    let barrier = c.barrier.value.map(|v| {
        let mut lo = v.inf();
        let lower = match c.barrier_lower_family.as_str() {
            "E7" if depth_ok => Some(LowerEvidence::E7),
            "E8" => Some(LowerEvidence::Linear),
            "C-loss" if h2 && depth_ok && steepness.is_some() => Some(LowerEvidence::CLoss),
            "C-quad" if h2 => c
                .hj
                .iter()
                .find(|h| h.family == HjFamily::CQuad)
                .and_then(|h| {
                    Some(LowerEvidence::CQuad(CQuadEvidence {
                        gamma: F(h.gamma?),
                        centre: fv(&h.centre),
                        p: fv(&h.p),
                        rho: F(h.inner_radius),
                        tree: h.tree.clone()?,
                    }))
                }),
            "none" => Some(LowerEvidence::Trivial),
            _ => None,
        };
        let lower = lower.unwrap_or_else(|| {
            missing.push(format!(
                "V̄ lower end {lo:e} ({}): {}",
                c.barrier_lower_family,
                if !depth_ok {
                    "it rests on ΔL, which is not in the certificate"
                } else if h2 {
                    "its evidence was not recorded"
                } else {
                    "computed under a failed hypothesis ((H2) not certified)"
                }
            ));
            lo = 0.0;
            LowerEvidence::Trivial
        });
        let mut hi = v.sup();
        let upper = match c.barrier_upper_family.as_str() {
            "E7" if depth_ok && h1.is_some() => Some(UpperEvidence::E7),
            "E8" => Some(UpperEvidence::Linear),
            "steepness" if depth_ok && h1.is_some() && steepness.is_some() => {
                Some(UpperEvidence::Steepness)
            }
            "Lemma P" if h2 => c.barrier_path.as_ref().and_then(|pb| {
                let problem = Problem::from_spec(spec).ok()?;
                let mut bps = vec![vec![F(0.0), F(1.0)]];
                bps.extend(pb.breakpoints.iter().map(|b| fv(b)));
                let mut pe = PathEvidence {
                    from_minimizer: true,
                    vertices: pb.vertices.iter().map(|v| fv(v)).collect(),
                    subsegments: 1,
                    breakpoints: Some(bps),
                    upper: F(f64::INFINITY),
                };
                // The claim is what the certificate's own quadrature gives (it may differ
                // from the search's enclosure by rounding).
                let a = recheck::path_action(
                    &problem.landscape,
                    &problem.noise,
                    &c.minimizer.x,
                    &c.domain,
                    &pe,
                )
                .ok()?;
                pe.upper = F(a);
                if a > hi {
                    missing.push(format!(
                        "V̄ upper end {hi:e} (Lemma P): the certificate's own quadrature of the same polyline gives {a:e}, which is claimed instead"
                    ));
                    hi = a;
                }
                Some(UpperEvidence::Path(pe))
            }),
            _ if hi == f64::INFINITY => Some(UpperEvidence::Unbounded),
            _ => None,
        };
        let upper = upper.unwrap_or_else(|| {
            missing.push(format!(
                "V̄ upper end {hi:e} ({}): its evidence (or that of ΔL or (H1)) is not recorded",
                c.barrier_upper_family
            ));
            hi = f64::INFINITY;
            UpperEvidence::Unbounded
        });
        BarrierClaim {
            claim: [F(lo), F(hi)],
            lower,
            upper,
        }
    });
    if barrier.is_none() {
        missing.push(format!("V̄: {}", c.barrier.method));
    }
    let mut barrier_discrete = Vec::new();
    for b in &c.barrier_discrete {
        let Some(v) = b.bound.value else {
            missing.push(format!("V̄_η (η = {}): {}", b.eta, b.bound.method));
            continue;
        };
        let formula = |f: &str| match f {
            "E12" => Some(Formula::E12),
            "Stein" => Some(Formula::Linear),
            _ => None,
        };
        let (lower, lo) = match formula(&b.lower_family) {
            Some(f) => (DiscreteLower::Exact(f), v.inf()),
            None => {
                if b.lower_family != "none" {
                    missing.push(format!(
                        "V̄_η (η = {}) lower end {:e} ({}): the E11 search tree is not recorded in this certificate format; claimed ≥ 0 only",
                        b.eta,
                        v.inf(),
                        b.lower_family
                    ));
                }
                (DiscreteLower::Trivial, 0.0)
            }
        };
        let (upper, hi) = match (formula(&b.upper_family), &b.path) {
            (Some(f), _) => (DiscreteUpper::Exact(f), v.sup()),
            (None, Some(path)) if b.upper_family == "E10" => (
                DiscreteUpper::Path {
                    path: path.iter().map(|x| fv(x)).collect(),
                },
                v.sup(),
            ),
            _ => {
                if v.sup().is_finite() {
                    missing.push(format!(
                        "V̄_η (η = {}) upper end {:e} ({}): evidence not recorded; not claimed",
                        b.eta,
                        v.sup(),
                        b.upper_family
                    ));
                }
                (DiscreteUpper::Unbounded, f64::INFINITY)
            }
        };
        barrier_discrete.push(DiscreteClaim {
            eta: F(b.eta),
            claim: [F(lo), F(hi)],
            lower,
            upper,
        });
    }
    Certificate {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        spec_file: spec.file.display().to_string(),
        spec_text: spec.source_text.clone(),
        minimizer: MinimizerClaim {
            x: c.minimizer.x.iter().map(|v| bnd(*v)).collect(),
            krawczyk,
            loss_at_min: bnd(c.loss_at_min),
            lambda_min: bnd(c.lambda_min),
            lambda_max: bnd(c.sharpness),
        },
        depth: DepthClaim {
            claim: if depth_ok {
                bnd(c.depth)
            } else {
                [F(f64::NEG_INFINITY), F(f64::INFINITY)]
            },
            evidence: depth_ev,
        },
        h1,
        spectrum,
        steepness,
        barrier,
        barrier_discrete,
        paths: ev.paths.clone(),
        not_in_certificate: missing,
    }
}

/// The certificate as JSON text (compact; one line).
pub fn to_json(c: &Certificate) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string(c)?;
    s.push('\n');
    Ok(s)
}
