//! Certificates: the evidence behind every certified bound of `certify`, written as JSON
//! (`escapecert certify SPEC --certificate PATH`) and re-verified from the file alone by
//! [`recheck`] (`escapecert recheck PATH`). What is checked and why it suffices:
//! `proofs/certificate-recheck.md`.

pub mod recheck;

use crate::certify::evidence::{
    bnd, fv, Bnd, DepthEvidence, H1Evidence, KrawczykEvidence, PathEvidence, SpectrumEvidence, F,
};
use crate::certify::Certified;
use crate::spec::Spec;
use serde::{Deserialize, Serialize};

/// The `format` field of every certificate.
pub const FORMAT: &str = "escapecert-certificate";
/// Bumped on any incompatible change of the layout below.
pub const FORMAT_VERSION: u32 = 1;

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

/// V̄ ∈ claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarrierClaim {
    pub claim: Bnd,
    pub formula: Formula,
}

/// V̄_η ∈ claim for one learning rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscreteClaim {
    pub eta: F,
    pub claim: Bnd,
    pub formula: Formula,
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
    let h1 = if h1 { ev.h1.clone() } else { None };
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
    let steepness = if m.starts_with("isotropic") || m.starts_with("Rayleigh") {
        Some(SteepnessClaim {
            s_minus: bnd(c.steepness.s_minus),
            s_plus: bnd(c.steepness.s_plus),
            exit_point: fv(&c.exit_point),
        })
    } else {
        missing.push(format!("steepness: {m}"));
        None
    };
    let bm = &c.barrier.method;
    let formula = if bm.starts_with("E7") {
        Some(Formula::E7)
    } else if bm.starts_with("E8") {
        Some(Formula::Linear)
    } else if bm.starts_with("steepness") {
        Some(Formula::Steepness)
    } else {
        None
    };
    let formula = formula.filter(|f| *f != Formula::Steepness || steepness.is_some());
    let barrier = match (c.barrier.value, formula) {
        (Some(v), Some(formula)) => Some(BarrierClaim {
            claim: bnd(v),
            formula,
        }),
        _ => {
            missing.push(format!("V̄: {bm}"));
            None
        }
    };
    let mut barrier_discrete = Vec::new();
    for b in &c.barrier_discrete {
        let m = &b.bound.method;
        let formula = if m.starts_with("E12") {
            Some(Formula::E12)
        } else if m.starts_with("E10–E12, linear") {
            Some(Formula::Linear)
        } else {
            None
        };
        match (b.bound.value, formula) {
            (Some(v), Some(formula)) => barrier_discrete.push(DiscreteClaim {
                eta: F(b.eta),
                claim: bnd(v),
                formula,
            }),
            _ => missing.push(format!("V̄_η (η = {}): {m}", b.eta)),
        }
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
            claim: bnd(c.depth),
            evidence: ev.depth.clone().unwrap_or(DepthEvidence::Endpoints),
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
