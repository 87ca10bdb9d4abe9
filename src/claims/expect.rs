//! `[expect]`: the user's own assertions about certified quantities, verdicted as claims
//! of the report's Holm family.
//!
//! `barrier = [lo, hi]` asserts V̄ ∈ [lo, hi]; `barrier_discrete` asserts V̄_η ∈ [lo, hi].
//! The comparison is with the certified enclosure [c_lo, c_hi] ∋ V̄, with no statistics:
//! - disjoint: the assertion is certainly false — FAIL, whatever the level (p-value 0: a
//!   certified disagreement holds with probability 1);
//! - [c_lo, c_hi] ⊆ [lo, hi]: the assertion is certainly true — PASS;
//! - partial overlap: INCONCLUSIVE, a tighter certificate would decide (p-value 1).

use super::{proofs_cited, Claim, Verdict};
use crate::certify::Certified;
use crate::spec::ExpectSpec;

/// One assertion: `eta = None` for the continuous barrier.
pub(super) struct ExpectPlan {
    pub eta: Option<f64>,
    pub lo: f64,
    pub hi: f64,
}

/// The plans of `[expect]`; an η-free `barrier_discrete` applies to every certified η.
pub(super) fn plans(cert: &Certified, expect: &ExpectSpec) -> Vec<ExpectPlan> {
    let mut out = Vec::new();
    if let Some((lo, hi)) = expect.barrier {
        out.push(ExpectPlan { eta: None, lo, hi });
    }
    for &(eta, lo, hi) in &expect.barrier_discrete {
        match eta {
            Some(e) => out.push(ExpectPlan {
                eta: Some(e),
                lo,
                hi,
            }),
            None => {
                for b in &cert.barrier_discrete {
                    out.push(ExpectPlan {
                        eta: Some(b.eta),
                        lo,
                        hi,
                    });
                }
            }
        }
    }
    out
}

impl ExpectPlan {
    /// The certified enclosure and its method.
    fn certified(&self, cert: &Certified) -> (Option<(f64, f64)>, String) {
        match self.eta {
            None => (
                cert.barrier.value.map(|v| (v.inf(), v.sup())),
                cert.barrier.method.clone(),
            ),
            Some(e) => match cert.barrier_discrete.iter().find(|b| b.eta == e) {
                Some(b) => (
                    b.bound.value.map(|v| (v.inf(), v.sup())),
                    b.bound.method.clone(),
                ),
                None => (
                    None,
                    format!("no discrete barrier was certified at η = {e}"),
                ),
            },
        }
    }

    /// 0 when the assertion is certainly false, else 1.
    pub(super) fn p_value(&self, cert: &Certified) -> f64 {
        match self.certified(cert).0 {
            Some((a, b)) if b < self.lo || a > self.hi => 0.0,
            _ => 1.0,
        }
    }

    pub(super) fn decide(&self, cert: &Certified, level: f64) -> Claim {
        let (what, id) = match self.eta {
            None => (
                "V̄ (continuous barrier)".to_string(),
                "expect barrier".to_string(),
            ),
            Some(e) => (
                format!("V̄_η (discrete barrier, η = {e})"),
                format!("expect barrier_discrete (η = {e})"),
            ),
        };
        let statement = format!(
            "user assertion ([expect]): {what} ∈ [{}, {}]",
            self.lo, self.hi
        );
        let mut c = Claim::blank(id, statement, level, cert.hypotheses_hold());
        c.test = "comparison of the asserted interval with the certified enclosure (no statistics: a disjoint pair is a certain disagreement)".into();
        let (enclosure, method) = self.certified(cert);
        c.proofs = proofs_cited(&method);
        let Some((a, b)) = enclosure else {
            c.inconclusive_cause = Some("no-certified-side".into());
            c.reason = format!("no certified side: {method}");
            return c;
        };
        c.certified = Some((a, b, method));
        let asserted = format!("[{}, {}]", self.lo, self.hi);
        let enc = format!("[{a:.10}, {b:.10}]");
        if b < self.lo || a > self.hi {
            c.verdict = Verdict::Fail;
            c.disagrees = true;
            c.reason = format!(
                "the certified enclosure {enc} is disjoint from the asserted {asserted}: the assertion is false (a certified disagreement, at any level)"
            );
        } else if self.lo <= a && b <= self.hi {
            c.verdict = Verdict::Pass;
            c.reason = format!("the certified enclosure {enc} lies inside the asserted {asserted}");
        } else {
            c.inconclusive_cause = Some("certified-too-loose".into());
            c.reason = format!(
                "the certified enclosure {enc} overlaps the asserted {asserted} only partly: a tighter certificate would decide"
            );
        }
        c
    }
}
