//! The optional `[paper]` spec table and the report's "Comparison with the paper": claim
//! by claim, what the paper's figure showed next to what escapecert certified and
//! measured, and the verdict.
//!
//! ```toml
//! [paper]
//! source = "Ibayashi & Imaizumi, arXiv 2111.04004, Fig. …"
//! showed = { T2 = "log E[ν] affine in B", T4 = "…" }   # claim-id prefix → what it showed
//! ```

use crate::report::json;
use crate::spec::SpecError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The raw `[paper]` table (unknown keys are errors).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPaper {
    pub source: String,
    #[serde(default)]
    pub showed: BTreeMap<String, String>,
}

/// A validated `[paper]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct PaperSpec {
    pub source: String,
    /// Claim-id prefix ("T1" … "T6", optionally longer, e.g. "T2 minibatch") → what the
    /// paper's figure showed.
    pub showed: Vec<(String, String)>,
}

/// The claim ids a `showed` key may start with (THEORY §8).
pub const CLAIM_IDS: [&str; 6] = ["T1", "T2", "T3", "T4", "T5", "T6"];

/// Validates the raw table: a non-empty source; every `showed` key starts with a claim id
/// T1–T6 and every value is non-empty.
pub fn resolve(file: &Path, raw: RawPaper) -> Result<PaperSpec, SpecError> {
    if raw.source.trim().is_empty() {
        return Err(SpecError::new(file, "paper.source", "must not be empty"));
    }
    let mut showed = Vec::new();
    for (k, v) in raw.showed {
        let key = format!("paper.showed.{k}");
        if !CLAIM_IDS.iter().any(|id| k.starts_with(id)) {
            return Err(SpecError::new(
                file,
                &key,
                format!(
                    "must start with a claim id ({}), got `{k}`",
                    CLAIM_IDS.join(", ")
                ),
            ));
        }
        if v.trim().is_empty() {
            return Err(SpecError::new(file, &key, "must not be empty"));
        }
        showed.push((k, v));
    }
    Ok(PaperSpec {
        source: raw.source,
        showed,
    })
}

/// One row of the comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaperRow {
    /// The claim id ("—" when no claim of the report matches the prefix).
    pub claim: String,
    /// The `showed` key that matched.
    pub prefix: String,
    /// What the paper's figure showed.
    pub showed: String,
    /// What escapecert certified (the compared interval and its method), or why nothing.
    pub certified: String,
    /// What escapecert measured (the fitted slope with its interval and level), or why
    /// nothing.
    pub measured: String,
    /// PASS / FAIL / INCONCLUSIVE, or "not checked" when no claim matches.
    pub verdict: String,
    /// The claim's reason.
    pub reason: String,
}

/// The report's `paper` field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaperComparison {
    pub source: String,
    pub rows: Vec<PaperRow>,
}

/// Matches each `showed` prefix with the report's claims.
pub fn compare(paper: &PaperSpec, claims: &[json::Claim]) -> PaperComparison {
    let mut rows = Vec::new();
    for (prefix, showed) in &paper.showed {
        let matching: Vec<&json::Claim> = claims
            .iter()
            .filter(|c| c.id.starts_with(prefix.as_str()))
            .collect();
        if matching.is_empty() {
            rows.push(PaperRow {
                claim: "—".into(),
                prefix: prefix.clone(),
                showed: showed.clone(),
                certified: "—".into(),
                measured: "—".into(),
                verdict: "not checked".into(),
                reason: format!("this report has no claim whose id starts with `{prefix}`"),
            });
            continue;
        }
        for c in matching {
            let certified = match &c.certified {
                Some(s) => {
                    let pred = c
                        .predicted_slope
                        .as_ref()
                        .map(|p| {
                            format!(
                                "; predicted slope against {} [{:.6}, {:.6}]",
                                c.variable, p.lo, p.hi
                            )
                        })
                        .unwrap_or_default();
                    format!("[{:.6}, {:.6}] ({}){pred}", s.lo, s.hi, s.method)
                }
                None => "nothing certified for this claim".into(),
            };
            let measured = match &c.estimated {
                Some(e) => format!(
                    "{:.6} [{:.6}, {:.6}] at level {:.4} ({}, n = {})",
                    e.estimate, e.lo, e.hi, e.level, e.method, e.n
                ),
                None => "no estimate".into(),
            };
            rows.push(PaperRow {
                claim: c.id.clone(),
                prefix: prefix.clone(),
                showed: showed.clone(),
                certified,
                measured,
                verdict: c.verdict.clone(),
                reason: c.reason.clone(),
            });
        }
    }
    PaperComparison {
        source: paper.source.clone(),
        rows,
    }
}

/// The markdown section "Comparison with the paper".
pub fn markdown(pc: &PaperComparison) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "\n## Comparison with the paper\n");
    let _ = writeln!(s, "Source: {}\n", pc.source);
    let _ = writeln!(
        s,
        "| claim | the paper showed | escapecert certified | escapecert measured | verdict |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for r in &pc.rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | **{}** ({}) |",
            r.claim,
            r.showed.replace('|', "\\|"),
            r.certified.replace('|', "\\|"),
            r.measured.replace('|', "\\|"),
            r.verdict,
            r.reason.replace('|', "\\|")
        );
    }
    s
}
