//! The report.json format (versioned; documented in README "Report format").
//! These are the format's own serialisation types; tests read them back.

use crate::stats::{serde_f64_ext, Estimate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The current format version. Bump on any incompatible change.
pub const FORMAT_VERSION: u32 = 3;

/// A certified enclosure [lo, hi] (outward rounded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    #[serde(with = "serde_f64_ext")]
    pub lo: f64,
    #[serde(with = "serde_f64_ext")]
    pub hi: f64,
}

/// A box, as coordinate-wise lower and upper ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoxBounds {
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub spec_name: String,
    pub spec_file: String,
    pub description: Option<String>,
    pub landscape: String,
    pub dim: usize,
    pub domain: String,
    pub noise: String,
    pub eta: Vec<f64>,
    pub batch: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Steepness {
    pub s_minus: Bounds,
    pub s_plus: Bounds,
    pub method: String,
    /// Boxes of the steepness branch-and-bound (0 when not run).
    pub boxes: usize,
}

/// How each end of the continuous barrier enclosure was obtained (format 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BarrierMethod {
    pub lower: String,
    pub upper: String,
}

/// A Lemma HJ lower-bound certificate (THEORY §3) and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HjCertificate {
    /// "C-loss" or "C-quad".
    pub family: String,
    /// Certified: V̄(D) ≥ lower.
    pub lower: f64,
    /// C-loss: W = c(L − L*) with this c (`null` for C-quad).
    pub coefficient: Option<f64>,
    /// C-quad: W = γ·½(θ−c)ᵀP(θ−c) with this γ (`null` for C-loss).
    pub gamma: Option<f64>,
    /// C-quad: the centre c (empty for C-loss).
    pub centre: Vec<f64>,
    /// C-quad: P by rows (empty for C-loss).
    pub p: Vec<Vec<f64>>,
    /// C-quad: radius ρ of the ball K = B̄(c, ρ) ⊇ X excluded from the HJ check.
    pub inner_radius: f64,
    /// C-quad: certified upper bound of sup_K W, subtracted from min_∂D W.
    pub correction: f64,
    pub boxes: usize,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscreteBarrier {
    pub eta: f64,
    /// `null` when no certificate is available; `method` says why.
    pub barrier: Option<Bounds>,
    pub method: String,
    /// How the lower end was obtained (E11 certificate, E12 closed form, or trivial 0).
    #[serde(default)]
    pub lower_method: String,
    /// How the upper end was obtained (E10 path action, E12 closed form), or why missing.
    #[serde(default)]
    pub upper_method: String,
    /// The E11 lower bound alone, `null` when the certificate was not found.
    #[serde(default, with = "serde_f64_opt")]
    pub lower_e11: Option<f64>,
    /// The E10 upper bound alone, `null` when no path was certified.
    #[serde(default, with = "serde_f64_opt")]
    pub upper_e10: Option<f64>,
    /// The E11 certificate W = γ·½(x − c)ᵀP(x − c), `null` when not found.
    #[serde(default)]
    pub certificate: Option<DiscreteCertificate>,
    /// The vertices x_1, …, x_n of the certified path (x_0 = θ* ∈ the minimiser box).
    #[serde(default)]
    pub path: Option<Vec<Vec<f64>>>,
}

/// Parameters of the discrete HJ certificate (THEORY E11, proofs/discrete-hj-certificate.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscreteCertificate {
    pub gamma: f64,
    /// P, row-major d×d.
    pub p: Vec<f64>,
    /// The centre c (midpoint of the minimiser box).
    pub center: Vec<f64>,
    /// max(sup_X W, sup_E G), subtracted from inf_{y∉D} W.
    pub correction: f64,
    pub boxes: usize,
    pub exceptional_boxes: usize,
}

/// `Option<f64>` as a number or `null` (finite values only are produced).
mod serde_f64_opt {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.filter(|x| x.is_finite()).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<f64>::deserialize(d)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Certified {
    /// Box containing the unique critical point θ* (Krawczyk).
    pub minimizer: BoxBounds,
    /// The f64 point the simulations start from and the ball is centred at.
    pub start: Vec<f64>,
    pub loss_at_min: Bounds,
    /// λ_max(∇²L(θ*)).
    pub sharpness: Bounds,
    /// λ_min(∇²L(θ*)).
    pub lambda_min: Bounds,
    /// ΔL = min over ∂D of L − L*.
    pub depth: Bounds,
    pub depth_method: String,
    /// V̄(D) for continuous SGD.
    pub barrier: Option<Bounds>,
    /// Steepness s⁻(D), s⁺(D) (THEORY E9).
    pub steepness: Steepness,
    /// Methods of the lower and upper ends of `barrier`.
    pub barrier_method: BarrierMethod,
    /// Which bound gave the lower end: "E7", "E8", "C-loss", "C-quad" or "none".
    pub barrier_lower_family: String,
    /// The Lemma HJ certificates computed (empty when an exact formula applies).
    pub hj: Vec<HjCertificate>,
    pub barrier_discrete: Vec<DiscreteBarrier>,
    /// Hypothesis name → certified or not.
    pub hypotheses: BTreeMap<String, bool>,
    /// Hypothesis name → what was proved, or what failed and where.
    pub hypotheses_detail: BTreeMap<String, String>,
    /// Boxes processed by branch-and-bound.
    pub boxes: usize,
    /// Proof files the certified numbers rely on.
    pub proofs: Vec<String>,
    /// The polyline whose certified action bounds V̄(D) from above (Lemma P), `null` when
    /// none was certified.
    #[serde(default)]
    pub barrier_path: Option<BarrierPath>,
}

/// The winning polyline of Lemma P (proofs cited in `barrier_method.upper`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BarrierPath {
    /// Name of the winning candidate curve.
    pub candidate: String,
    /// Vertices v₀ = midpoint of the minimiser box, …, v_n ∉ D.
    pub vertices: Vec<Vec<f64>>,
}

/// f64 data of the landscape plot of a 2-D problem (an illustration: nothing here is
/// certified or a statistic).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LandscapePlot {
    /// The grid's x range and number of nodes.
    pub x_lo: f64,
    pub x_hi: f64,
    pub nx: usize,
    pub y_lo: f64,
    pub y_hi: f64,
    pub ny: usize,
    /// L at the nodes in f64, row by row (y outer, x inner); `null` where not finite.
    pub values: Vec<Option<f64>>,
    /// The boundary of D as a closed polyline.
    pub boundary: Vec<[f64; 2]>,
    /// Sample trajectories of continuous SGD (E3), each a polyline ending at the first
    /// recorded point outside D (or at the step cap).
    pub trajectories: Vec<Vec<[f64; 2]>>,
    /// κ² of the trajectories (the largest of the sweep), their seed, step, and step cap.
    pub kappa2: f64,
    pub seed: u64,
    pub dt: f64,
    pub max_steps: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonteCarloPoint {
    /// "continuous" (E3) or "discrete" (E1).
    pub dynamics: String,
    pub eta: f64,
    pub batch: u32,
    /// κ² = η/B.
    pub kappa2: f64,
    /// How the mean exit time was estimated: "direct" (trajectories to exit) or
    /// "splitting" (adaptive multilevel splitting; `trials` = 0 and the details in
    /// `splitting`).
    pub method: String,
    pub trials: usize,
    pub exits: usize,
    pub censored: usize,
    /// "time" (continuous) or "iterations" (discrete).
    pub unit: String,
    /// Step cap (Euler–Maruyama steps or iterations).
    pub max_steps: u64,
    /// Euler–Maruyama step (continuous only).
    pub dt: Option<f64>,
    /// Seed of this point's trajectories (derived from the spec seed and the point index).
    pub seed: u64,
    /// The start point θ_0 of the trajectories.
    pub start: Vec<f64>,
    pub mean_exit_time: Estimate,
    /// `--check-dt`: the same point at dt/2 (continuous only), or `null`.
    pub dt_check: Option<crate::claims::DtCheck>,
    /// t and bootstrap intervals (uncensored points), Kaplan–Meier median, Exp(1) test.
    pub statistics: crate::claims::PointStatistics,
    /// Certified exact E[τ] (E13/E14), `null` where no formula applies.
    pub mean_exit_time_exact: Option<crate::claims::ExactMean>,
    /// Why the exact E[τ] could not be certified at this point, if it was attempted.
    pub mean_exit_time_exact_error: Option<String>,
    /// Quantiles of τ/mean (`mean` = `mean_exit_time.estimate`) at the probabilities
    /// p = 0.01, 0.02, …, 0.99, from the Kaplan–Meier curve (the empirical distribution
    /// when nothing is censored); `null` where the curve never reaches p (censoring).
    /// Drawn against the Exp(1) quantiles −ln(1 − p) in plots/exp_qq.svg.
    #[serde(default)]
    pub exp_quantiles: Vec<Option<f64>>,
    /// The splitting estimate of a point whose `method` is "splitting": the probability
    /// of reaching ∂D before the small set A, the cycle time, the levels, the reaction
    /// coordinate, the replicas and particles, the particle-steps used; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splitting: Option<crate::simulate::splitting::SplittingEstimate>,
    /// `[sweep]` (format 3): the problem instance this point simulates; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<PointInstance>,
}

/// Which `[sweep]` instance a Monte Carlo point belongs to (format 3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointInstance {
    /// Index into `sweep.instances`.
    pub instance: usize,
    /// The swept key's value at that instance.
    pub value: f64,
}

/// `[sweep]` (format 3): the key swept and every instance's certified quantities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// The dotted spec key swept, e.g. "landscape.sharpness".
    pub key: String,
    /// What T4 regresses log E on: "value", "depth" or "inverse_sharpness".
    pub against: String,
    pub instances: Vec<SweepInstance>,
}

/// One `[sweep]` instance: its value, problem and certified quantities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepInstance {
    pub value: f64,
    /// The landscape, domain and noise of this instance (as in `problem`).
    pub landscape: String,
    pub domain: String,
    pub noise: String,
    /// Everything certified for this instance (the top-level `certified` is instance 0's).
    pub certified: Certified,
    /// Indices into `monte_carlo` of this instance's points.
    pub points: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CertifiedSide {
    #[serde(with = "serde_f64_ext")]
    pub lo: f64,
    #[serde(with = "serde_f64_ext")]
    pub hi: f64,
    pub method: String,
    /// Proof files behind this enclosure.
    #[serde(default)]
    pub proofs: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub slope: Estimate,
    pub intercept: Estimate,
    pub chi2: f64,
    pub dof: usize,
    pub p_value: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrefactorFit {
    pub slope: Estimate,
    pub log_coefficient: Estimate,
    pub intercept: Estimate,
    pub chi2: f64,
    pub dof: usize,
    pub p_value: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub id: String,
    pub statement: String,
    /// "PASS", "FAIL" or "INCONCLUSIVE".
    pub verdict: String,
    pub reason: String,
    pub hypotheses_certified: bool,
    /// The certified interval compared (`null` if none).
    pub certified: Option<CertifiedSide>,
    /// The estimated interval compared (the fitted exponent; `null` if none).
    pub estimated: Option<Estimate>,
    pub fit: Option<Fit>,
    /// The fit with a log-prefactor term (5 or more distinct κ²), `null` otherwise.
    pub prefactor_fit: Option<PrefactorFit>,
    /// The fit with the prefactor's first correction (log E = a + V/κ² + b log(1/κ²) + cκ²),
    /// made when the prefactor fit misses the prediction with 5 or more distinct κ²;
    /// absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_fit: Option<crate::stats::CorrectedFit>,
    /// Which fit gave `estimated`.
    pub model: String,
    /// Indices into `monte_carlo` of the points used.
    pub points: Vec<usize>,
    /// Indices of points left out as pre-asymptotic (V̄/κ² below the threshold).
    pub excluded: Vec<usize>,
    /// What the exponent fit regresses log E on: "1/κ²", "B" or "1/η" ("" without a fit).
    #[serde(default)]
    pub variable: String,
    /// The slope against `variable` predicted by the certified barrier (`null` if none).
    #[serde(default)]
    pub predicted_slope: Option<Bounds>,
    /// The x of each point in `points` against which log E was fitted (its `variable`:
    /// 1/κ², B, 1/η or a swept value); empty for claims without a fit.
    #[serde(default)]
    pub abscissa: Vec<f64>,
    /// The level this claim was decided at (Holm–Bonferroni adjusted).
    #[serde(default)]
    pub level: f64,
    /// The p-value of the claim's test (smallest α' whose 1 − α' interval misses the
    /// certified side; 1 if none).
    #[serde(default)]
    pub p_value: f64,
    /// Proof files behind the certified side (also for claims whose certified side is
    /// per point, like T5, and so has no single `certified` interval).
    #[serde(default)]
    pub proofs: Vec<String>,
    /// The statistical test that decides the claim ("" when none).
    #[serde(default)]
    pub test: String,
    /// Sample size of the statistical side: trajectories behind the points used.
    #[serde(default)]
    pub n: usize,
    /// Why INCONCLUSIVE: "hypotheses", "no-certified-side", "certified-too-loose",
    /// "too-few-points", "width", "model", "resolution" or "not-applicable"; `null` for
    /// PASS and FAIL.
    #[serde(default)]
    pub inconclusive_cause: Option<String>,
    /// With cause "width": about how many trajectories in total would decide.
    #[serde(default)]
    pub trials_needed: Option<usize>,
    /// Further evidence, one line each (per-start slopes, per-point Exp(1) p-values, …).
    #[serde(default)]
    pub details: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// "PASS" if every claim passed, "FAIL" if any failed, else "INCONCLUSIVE".
    pub verdict: String,
    /// The CLI's exit code for this report: 1 when some claim FAILED, else 0.
    pub exit_code: i32,
    /// The exit code under `verify --strict`: 0 only when every claim PASSED.
    #[serde(default)]
    pub exit_code_strict: i32,
    /// Family-wise level 1 − α: claims decided by Holm–Bonferroni at family error α.
    pub confidence: f64,
    /// The family-wise error control: "holm-bonferroni".
    #[serde(default)]
    pub error_control: String,
    pub claims: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub seed: u64,
    pub trials: usize,
    pub confidence: f64,
    pub max_steps: u64,
    pub dt: f64,
    pub dynamics: Vec<String>,
    pub max_boxes: usize,
}

/// The whole report.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format_version: u32,
    pub tool: Tool,
    pub problem: Problem,
    pub settings: Settings,
    pub certified: Certified,
    pub monte_carlo: Vec<MonteCarloPoint>,
    pub claims: Vec<Claim>,
    pub summary: Summary,
    /// Data of the 2-D landscape plot (`null` unless d = 2).
    #[serde(default)]
    pub landscape_plot: Option<LandscapePlot>,
    /// `[sweep]` (format 3): the instances; absent without a sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
    /// Hypotheses and asymptotic regime (src/report/regime.rs); absent in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regime: Option<super::regime::Regime>,
    /// Comparison with the paper, from the spec's `[paper]` table (src/paper.rs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<crate::paper::PaperComparison>,
    /// Present only in a partial report: the run stopped before every sweep point
    /// finished (a signal, a wall-clock limit); every claim is then INCONCLUSIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
    /// Local slopes of ln E[τ] against 1/κ² between neighbouring κ² of each series, next
    /// to the certified barrier (src/report/slopes.rs); absent when no series has two κ².
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_slopes: Vec<super::slopes::LocalSlope>,
}

/// Why a report is partial, and how to continue the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    /// What stopped the run, e.g. "interrupted by SIGINT".
    pub reason: String,
    /// Sweep points finished (the rows of `monte_carlo`) and planned.
    pub finished_points: usize,
    pub points: usize,
    /// The command that continues the run from its checkpoint.
    pub resume: String,
}
