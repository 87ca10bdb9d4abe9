//! Spec files (TOML): parsed raw with serde, then resolved into a validated [`Spec`].
//!
//! Every error names the file, the key and the problem (exit code 2 in the CLI).
//! Unknown keys are errors: a typo must never be silently ignored.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A bad spec file: the file, the key (dotted path, empty for the whole file) and why.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("{}: {}{problem}", file.display(), if key.is_empty() { String::new() } else { format!("key `{key}`: ") })]
pub struct SpecError {
    pub file: PathBuf,
    pub key: String,
    pub problem: String,
}

impl SpecError {
    pub fn new(file: &Path, key: &str, problem: impl Into<String>) -> Self {
        SpecError {
            file: file.to_path_buf(),
            key: key.to_string(),
            problem: problem.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TrialsRaw {
    Count(i64),
    Word(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(x) => vec![x],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: String,
    description: Option<String>,
    landscape: RawLandscape,
    minimum: Option<RawMinimum>,
    domain: RawDomain,
    noise: RawNoise,
    sgd: RawSgd,
    monte_carlo: Option<RawMonteCarlo>,
    certify: Option<RawCertify>,
    claims: Option<RawClaims>,
    expect: Option<RawExpect>,
    sweep: Option<RawSweep>,
    /// `[paper]`: what the paper's figures showed (src/paper.rs).
    paper: Option<crate::paper::RawPaper>,
    limits: Option<RawLimits>,
    splitting: Option<RawSplitting>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_dimension: Option<i64>,
    max_trials: Option<i64>,
    max_steps: Option<i64>,
    certify_seconds: Option<f64>,
    simulate_seconds: Option<f64>,
}

/// `[limits]`: resource limits of a run (defaults in [`defaults`]). A value above an input
/// limit is refused (exit 2, naming the key that raises it); a time limit reached makes
/// every claim INCONCLUSIVE, never PASS.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Largest landscape dimension accepted (`landscape.dim`, a `hessian`'s order, an
    /// expression's variables, a data loss's parameters).
    pub max_dimension: usize,
    /// Largest number of trajectories per sweep point (`monte_carlo.trials`,
    /// `monte_carlo.max_trials`).
    pub max_trials: usize,
    /// Largest step cap per trajectory (`monte_carlo.max_steps`).
    pub max_steps: u64,
    /// Wall-clock limit of the certify stage, in seconds: when reached, the searches
    /// stop with what they proved (sound, possibly looser or uncertified bounds) and every
    /// claim is INCONCLUSIVE. `None`: no limit.
    pub certify_seconds: Option<f64>,
    /// Wall-clock limit of the simulate stage, in seconds: when reached, the run stops
    /// like an interruption (checkpoint, partial report, every claim INCONCLUSIVE) and
    /// can be continued with `--resume`. `None`: no limit.
    pub simulate_seconds: Option<f64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_dimension: defaults::MAX_DIM,
            max_trials: defaults::MAX_TRIALS,
            max_steps: defaults::MAX_STEPS_LIMIT,
            certify_seconds: None,
            simulate_seconds: None,
        }
    }
}

/// Resolves `[limits]`; each limit itself has a ceiling (what this machine's memory or a
/// u64 could hold), so that raising a limit cannot turn into an out-of-memory abort.
fn resolve_limits(f: &Path, raw: Option<&RawLimits>) -> Result<Limits, SpecError> {
    let d = Limits::default();
    let Some(l) = raw else {
        return Ok(d);
    };
    let seconds = |key: &str, v: Option<f64>| -> Result<Option<f64>, SpecError> {
        v.map(|v| positive(f, key, v)).transpose()
    };
    Ok(Limits {
        max_dimension: match l.max_dimension {
            Some(v) => count(
                f,
                "limits.max_dimension",
                v,
                defaults::MAX_DIM_CEILING as u64,
            )? as usize,
            None => d.max_dimension,
        },
        max_trials: match l.max_trials {
            Some(v) => count(
                f,
                "limits.max_trials",
                v,
                defaults::MAX_TRIALS_CEILING as u64,
            )? as usize,
            None => d.max_trials,
        },
        max_steps: match l.max_steps {
            Some(v) => count(f, "limits.max_steps", v, u64::MAX / 2)?,
            None => d.max_steps,
        },
        certify_seconds: seconds("limits.certify_seconds", l.certify_seconds)?,
        simulate_seconds: seconds("limits.simulate_seconds", l.simulate_seconds)?,
    })
}

/// Resolves `[splitting]` (defaults in [`defaults`]).
fn resolve_splitting(f: &Path, raw: Option<&RawSplitting>) -> Result<SplittingSpec, SpecError> {
    let d = SplittingSpec {
        particles: defaults::SPLITTING_PARTICLES,
        replicas: defaults::SPLITTING_REPLICAS,
        cycles: defaults::SPLITTING_CYCLES,
        coordinate: CoordinateChoice::Certificate,
        inner_level: None,
        outer_level: None,
        budget: defaults::SPLITTING_BUDGET,
    };
    let Some(r) = raw else {
        return Ok(d);
    };
    let at_least = |key: &str, v: Option<i64>, min: i64, dflt: usize| -> Result<usize, SpecError> {
        match v {
            None => Ok(dflt),
            Some(v) if v < min => Err(SpecError::new(
                f,
                key,
                format!("must be at least {min}, got {v}"),
            )),
            Some(v) => Ok(count(f, key, v, 10_000_000)? as usize),
        }
    };
    let inner_level = r
        .inner_level
        .map(|v| positive(f, "splitting.inner_level", v))
        .transpose()?;
    let outer_level = r
        .outer_level
        .map(|v| positive(f, "splitting.outer_level", v))
        .transpose()?;
    if let (Some(a), Some(b)) = (inner_level, outer_level) {
        if !(a < b) {
            return Err(SpecError::new(
                f,
                "splitting.outer_level",
                format!("must be larger than inner_level = {a}, got {b}"),
            ));
        }
    }
    Ok(SplittingSpec {
        particles: at_least("splitting.particles", r.particles, 2, d.particles)?,
        replicas: at_least("splitting.replicas", r.replicas, 2, d.replicas)?,
        cycles: at_least("splitting.cycles", r.cycles, 2, d.cycles)?,
        coordinate: match r.coordinate.as_deref() {
            None | Some("auto") | Some("certificate") => CoordinateChoice::Certificate,
            Some("distance") => CoordinateChoice::Distance,
            Some("exit_direction") => CoordinateChoice::ExitDirection,
            Some(other) => {
                return Err(SpecError::new(
                    f,
                    "splitting.coordinate",
                    format!("must be \"auto\", \"certificate\", \"distance\" or \"exit_direction\", got {other:?}"),
                ))
            }
        },
        inner_level,
        outer_level,
        budget: r
            .budget
            .map(|v| positive(f, "splitting.budget", v))
            .transpose()?
            .unwrap_or(d.budget),
    })
}

/// A positive integer at most `limit`, the value of `[limits] limit_key`: the error says
/// which key raises it.
fn limited(file: &Path, key: &str, v: i64, limit: u64, limit_key: &str) -> Result<u64, SpecError> {
    let v = count(file, key, v, u64::MAX)?;
    if v > limit {
        return Err(SpecError::new(
            file,
            key,
            format!("{v} exceeds the limit {limit} (raise `{limit_key}` in [limits] to allow it)"),
        ));
    }
    Ok(v)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaims {
    check: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    barrier: Option<Vec<f64>>,
    /// `[lo, hi]` (every η) or a list of `{ eta = …, barrier = [lo, hi] }`.
    barrier_discrete: Option<toml::Value>,
}

/// `[sweep]`: one problem instance per value of a spec key (THEORY T4).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    key: String,
    values: Vec<toml::Value>,
    against: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLandscape {
    kind: Option<String>,
    model: Option<String>,
    hidden: Option<i64>,
    data: Option<String>,
    dataset: Option<String>,
    target: Option<String>,
    threshold: Option<f64>,
    l2: Option<f64>,
    standardize: Option<bool>,
    rows: Option<i64>,
    expr: Option<String>,
    builtin: Option<String>,
    dim: Option<i64>,
    sharpness: Option<f64>,
    hessian: Option<Vec<Vec<f64>>>,
    params: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMinimum {
    guess: Vec<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDomain {
    kind: String,
    /// A number (interval) or a list of numbers (box): checked in [`Spec::resolve`].
    lo: Option<toml::Value>,
    hi: Option<toml::Value>,
    radius: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoise {
    kind: String,
    sigma: Option<f64>,
    cov: Option<Vec<Vec<f64>>>,
    scale: Option<f64>,
    floor: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSgd {
    eta: OneOrMany<f64>,
    batch: Option<OneOrMany<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMonteCarlo {
    trials: Option<TrialsRaw>,
    precision: Option<f64>,
    max_trials: Option<i64>,
    seed: Option<i64>,
    confidence: Option<f64>,
    max_steps: Option<i64>,
    dt: Option<f64>,
    dynamics: Option<Vec<String>>,
    start: Option<Vec<Vec<f64>>>,
    noise_scale: Option<f64>,
    method: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSplitting {
    particles: Option<i64>,
    replicas: Option<i64>,
    cycles: Option<i64>,
    coordinate: Option<String>,
    inner_level: Option<f64>,
    outer_level: Option<f64>,
    budget: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCertify {
    max_boxes: Option<i64>,
}

/// Which loss landscape.
#[derive(Clone, Debug, PartialEq)]
pub enum LandscapeSpec {
    /// An expression in `x` (1-D) or `x1 … xd`; `dim` if given explicitly.
    Expr { expr: String, dim: Option<usize> },
    /// ½ θᵀHθ with H = λI (`sharpness`) or a full symmetric `hessian`.
    Quadratic {
        dim: usize,
        sharpness: Option<f64>,
        hessian: Option<Vec<f64>>,
    },
    /// Styblinski–Tang, ½ Σ (θ_i⁴ − 16θ_i² + 5θ_i).
    StyblinskiTang { dim: usize },
    /// The Müller–Brown potential in 2-D (Müller & Brown 1979).
    MullerBrown,
    /// A data loss (`kind = "data"`).
    Data(DataSpec),
}

/// `[landscape] kind = "data"`: a model, a data set and how to prepare it.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSpec {
    pub model: crate::landscape::Model,
    /// A CSV file (resolved against the spec file's folder) or a shipped data set.
    pub source: crate::landscape::DataSource,
    /// The target column of a CSV file (default: the last column).
    pub target: Option<String>,
    /// Logistic only: targets above it become 1, the others 0.
    pub threshold: Option<f64>,
    /// Weight decay λ ≥ 0 (default [`defaults::L2`]).
    pub l2: f64,
    /// Standardise features (and the regression target), default true.
    pub standardize: bool,
    /// Keep a reproducible uniformly random subset of this many rows.
    pub rows: Option<usize>,
}

/// The domain D.
#[derive(Clone, Debug, PartialEq)]
pub enum DomainSpec {
    /// The 1-D interval (lo, hi).
    Interval { lo: f64, hi: f64 },
    /// A ball of this radius centred at the certified minimiser.
    Ball { radius: f64 },
    /// The box ∏_i (lo_i, hi_i) (absolute coordinates; lo_i < hi_i, equal lengths; the
    /// length is checked against the landscape in `Problem::from_spec`).
    Box { lo: Vec<f64>, hi: Vec<f64> },
}

/// The gradient-noise model.
#[derive(Clone, Debug, PartialEq)]
pub enum NoiseSpec {
    /// Σ = σ² I.
    Isotropic { sigma: f64 },
    /// A constant symmetric positive-definite Σ, row-major (`noise.cov`).
    Constant { cov: Vec<Vec<f64>> },
    /// Hessian-shaped, state-dependent: Σ(θ) = scale·∇²L(θ) + floor·I.
    Hessian { scale: f64, floor: f64 },
    /// The empirical per-example gradient covariance of a data loss.
    Data,
}

/// A dynamics to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DynamicsSpec {
    /// Continuous SGD (THEORY E3), Euler–Maruyama.
    Continuous,
    /// Discrete Gaussian SGD (THEORY E1).
    Discrete,
    /// Minibatch SGD on a data loss (THEORY E2).
    Minibatch,
}

/// Monte Carlo settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MonteCarloSpec {
    /// Trials per point; with `trials = "auto"`, the largest number allowed.
    pub trials: usize,
    /// `trials = "auto"`: the target relative half-width of the mean's interval.
    pub precision: Option<f64>,
    pub seed: u64,
    pub confidence: f64,
    pub max_steps: u64,
    pub dt: f64,
    pub dynamics: Vec<DynamicsSpec>,
    /// Start points; empty means the certified minimiser.
    pub starts: Vec<Vec<f64>>,
    /// Fault injection: the simulated noise is multiplied by this factor (Σ by its
    /// square); the certified side is not. 1 (the default) leaves every simulation
    /// unchanged bit for bit.
    pub noise_scale: f64,
    /// `method`: how each point's mean exit time is estimated.
    pub method: Method,
    /// `[splitting]`: the parameters of the splitting estimates.
    pub splitting: SplittingSpec,
}

/// `[monte_carlo] method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Brute-force trajectories to exit (the default).
    Direct,
    /// Adaptive multilevel splitting (src/simulate/splitting.rs) at every point.
    Splitting,
    /// Splitting where the mean exit time predicted from the certified barrier exceeds
    /// `[splitting] budget` steps, direct elsewhere (src/run.rs `predicted_steps`).
    Auto,
}

/// Which reaction coordinate the splitting estimates use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordinateChoice {
    /// From the certified Hamilton–Jacobi certificate (W of C-quad or C-loss), else the
    /// distance to θ*.
    Certificate,
    /// |θ − θ*|.
    Distance,
    /// (θ − θ*)·u, u the unit vector from θ* towards the certified exit point.
    ExitDirection,
}

/// `[splitting]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SplittingSpec {
    pub particles: usize,
    pub replicas: usize,
    pub cycles: usize,
    pub coordinate: CoordinateChoice,
    pub inner_level: Option<f64>,
    pub outer_level: Option<f64>,
    /// `method = "auto"`: splitting when the predicted E[exit time] exceeds this many
    /// steps (Euler–Maruyama steps or iterations).
    pub budget: f64,
}

/// `[expect]`: the user's assertions about certified quantities, verdicted as claims.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpectSpec {
    /// `barrier = [lo, hi]`: V̄ ∈ [lo, hi].
    pub barrier: Option<(f64, f64)>,
    /// `barrier_discrete`: (η, lo, hi), V̄_η ∈ [lo, hi]; η `None` = every η of the spec.
    pub barrier_discrete: Vec<(Option<f64>, f64, f64)>,
}

/// A validated spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub file: PathBuf,
    pub name: String,
    pub description: Option<String>,
    pub landscape: LandscapeSpec,
    pub guess: Option<Vec<f64>>,
    pub domain: DomainSpec,
    pub noise: NoiseSpec,
    pub eta: Vec<f64>,
    pub batch: Vec<u32>,
    pub monte_carlo: MonteCarloSpec,
    pub max_boxes: usize,
    /// `[claims] check`: the claim families to verdict; `None` = all that apply.
    pub claims_check: Option<Vec<String>>,
    /// `[expect]`.
    pub expect: ExpectSpec,
    /// The spec file's text, for the report's provenance.
    pub source_text: String,
    /// `[sweep]`: the problem instances (THEORY T4); the fields above are those of the
    /// first instance.
    pub sweep: Option<SweepSpec>,
    /// `[paper]`: what the paper's figures showed, claim by claim (src/paper.rs).
    pub paper: Option<crate::paper::PaperSpec>,
    /// `[limits]`.
    pub limits: Limits,
}

/// What a `[sweep]`'s scaling-law claim (T4) regresses log E[exit time] on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepAgainst {
    /// The swept value itself.
    Value,
    /// The certified depth ΔL of each instance (midpoint of its enclosure).
    Depth,
    /// 1/λ_max of each instance (midpoint of the enclosure of 1/[λ_lo, λ_hi]).
    InverseSharpness,
}

impl SweepAgainst {
    /// The spec word: "value", "depth" or "inverse_sharpness".
    pub fn as_str(self) -> &'static str {
        match self {
            SweepAgainst::Value => "value",
            SweepAgainst::Depth => "depth",
            SweepAgainst::InverseSharpness => "inverse_sharpness",
        }
    }
}

/// A validated `[sweep]`: one full spec per value of `key`.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    /// The dotted key swept, e.g. "landscape.sharpness" or "landscape.params.a".
    pub key: String,
    /// The values, in order (≥ 2, finite, distinct).
    pub values: Vec<f64>,
    pub against: SweepAgainst,
    /// One validated spec per value (each without a sweep of its own).
    pub instances: Vec<Spec>,
}

/// Defaults, documented in the README.
pub mod defaults {
    pub const TRIALS: usize = 200;
    /// `trials = "auto"`: default target relative half-width.
    pub const PRECISION: f64 = 0.05;
    /// `trials = "auto"`: default budget of trials per point.
    pub const AUTO_MAX_TRIALS: usize = 20_000;
    /// `trials = "auto"`: trials before the first look, and the number of looks.
    pub const AUTO_FIRST_BATCH: usize = 100;
    pub const AUTO_MAX_LOOKS: usize = 8;
    pub const SEED: u64 = 0;
    pub const CONFIDENCE: f64 = 0.95;
    pub const MAX_STEPS: u64 = 10_000_000;
    pub const DT: f64 = 1e-3;
    pub const BATCH: u32 = 1;
    pub const MAX_BOXES: usize = 200_000;
    /// `[landscape] kind = "data"`: weight decay λ.
    pub const L2: f64 = 0.01;
    /// `[landscape] model = "mlp"`: hidden units.
    pub const HIDDEN: usize = 4;
    /// Largest dimension accepted.
    pub const MAX_DIM: usize = 10_000;
    /// Largest number of trials per sweep point accepted.
    pub const MAX_TRIALS: usize = 100_000_000;
    /// `[splitting]` defaults: particles per AMS replica, independent replicas, direct
    /// cycles for the mean cycle time, and the `method = "auto"` budget (steps).
    pub const SPLITTING_PARTICLES: usize = 100;
    pub const SPLITTING_REPLICAS: usize = 20;
    pub const SPLITTING_CYCLES: usize = 1000;
    pub const SPLITTING_BUDGET: f64 = 1e7;
    /// Largest `monte_carlo.max_steps` accepted (`[limits] max_steps`): 1e12 steps of one
    /// trajectory take hours.
    pub const MAX_STEPS_LIMIT: u64 = 1_000_000_000_000;
    /// Ceilings of `[limits] max_dimension` and `max_trials` (memory: a d × d interval
    /// matrix, 24 bytes of outcome per trajectory).
    pub const MAX_DIM_CEILING: usize = 1_000_000;
    pub const MAX_TRIALS_CEILING: usize = 1_000_000_000;
}

fn finite(file: &Path, key: &str, v: f64) -> Result<f64, SpecError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(SpecError::new(
            file,
            key,
            format!("must be a finite number, got {v}"),
        ))
    }
}

fn positive(file: &Path, key: &str, v: f64) -> Result<f64, SpecError> {
    let v = finite(file, key, v)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err(SpecError::new(
            file,
            key,
            format!("must be positive, got {v}"),
        ))
    }
}

fn count(file: &Path, key: &str, v: i64, max: u64) -> Result<u64, SpecError> {
    if v < 1 {
        return Err(SpecError::new(
            file,
            key,
            format!("must be a positive integer, got {v}"),
        ));
    }
    if v as u64 > max {
        return Err(SpecError::new(
            file,
            key,
            format!("must be at most {max}, got {v}"),
        ));
    }
    Ok(v as u64)
}

/// A TOML number (float or integer) as f64.
fn number(file: &Path, key: &str, v: &toml::Value) -> Result<f64, SpecError> {
    match v {
        toml::Value::Float(x) => finite(file, key, *x),
        toml::Value::Integer(i) => Ok(*i as f64),
        toml::Value::Array(_) => Err(SpecError::new(
            file,
            key,
            "must be a number here (lists are for kind = \"box\")",
        )),
        other => Err(SpecError::new(
            file,
            key,
            format!("must be a number, got {other}"),
        )),
    }
}

/// A non-empty TOML list of finite numbers; entries are named `key[i]`.
fn number_list(file: &Path, key: &str, v: &toml::Value) -> Result<Vec<f64>, SpecError> {
    let toml::Value::Array(items) = v else {
        return Err(SpecError::new(
            file,
            key,
            format!("must be a list of numbers (one per coordinate) for kind = \"box\", got {v}"),
        ));
    };
    if items.is_empty() {
        return Err(SpecError::new(file, key, "must not be an empty list"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, x)| number(file, &format!("{key}[{i}]"), x))
        .collect()
}

/// Locates a 1-based (line, column) for a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The dotted key a toml error at `offset` concerns, best effort, for messages:
/// - "missing field `f`": the table the error's span starts in (or the top level), plus `f`;
/// - an error on a table header line: the last key before it (a value left unterminated
///   there is only detected at the next header);
/// - otherwise the key on the error's line, or the last key before it.
fn key_for_error(text: &str, offset: usize, message: &str) -> String {
    let line = line_col(text, offset).0;
    let mut table = String::new();
    let mut key = String::new();
    let mut last_key_before = String::new();
    let join = |t: &str, k: &str| match (t.is_empty(), k.is_empty()) {
        (true, _) => k.to_string(),
        (false, true) => t.to_string(),
        (false, false) => format!("{t}.{k}"),
    };
    let mut header_at_error = false;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if i + 1 == line {
            header_at_error = t.starts_with('[');
        }
        if t.starts_with('[') {
            if i + 1 <= line {
                last_key_before = join(&table, &key);
            }
            if i + 1 < line
                || (i + 1 == line && !header_at_error)
                || (i + 1 == line && message.starts_with("missing field"))
            {
                table = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
                key.clear();
            }
        } else if let Some((k, _)) = t.split_once('=') {
            if i + 1 <= line {
                key = k.trim().to_string();
            }
        }
        if i + 1 == line {
            break;
        }
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let tbl = if offset == 0 && !text.trim_start().starts_with('[') {
            String::new()
        } else {
            table
        };
        return join(&tbl, field);
    }
    if header_at_error && !last_key_before.is_empty() {
        return last_key_before;
    }
    join(&table, &key)
}

/// The keys of `[landscape] kind = "data"`.
fn resolve_data(f: &Path, l: &RawLandscape) -> Result<DataSpec, SpecError> {
    use crate::landscape::{DataSource, Model, Shipped};
    for (k, present) in [
        ("expr", l.expr.is_some()),
        ("builtin", l.builtin.is_some()),
        ("dim", l.dim.is_some()),
        ("sharpness", l.sharpness.is_some()),
        ("hessian", l.hessian.is_some()),
        ("params", l.params.is_some()),
    ] {
        if present {
            return Err(SpecError::new(
                f,
                &format!("landscape.{k}"),
                "does not belong to kind = \"data\" (the dimension follows from the model and the data)",
            ));
        }
    }
    let model = match l.model.as_deref() {
        None => {
            return Err(SpecError::new(
                f,
                "landscape.model",
                "is required for kind = \"data\": \"linear\", \"logistic\" or \"mlp\"",
            ))
        }
        Some("linear") => Model::Linear,
        Some("logistic") => Model::Logistic,
        Some("mlp") => Model::Mlp {
            hidden: match l.hidden {
                Some(h) => count(f, "landscape.hidden", h, 1024)? as usize,
                None => defaults::HIDDEN,
            },
        },
        Some(other) => {
            return Err(SpecError::new(
                f,
                "landscape.model",
                format!("unknown model `{other}`; expected \"linear\", \"logistic\" or \"mlp\""),
            ))
        }
    };
    if l.hidden.is_some() && !matches!(model, Model::Mlp { .. }) {
        return Err(SpecError::new(
            f,
            "landscape.hidden",
            "belongs to model = \"mlp\"",
        ));
    }
    if l.threshold.is_some() && model != Model::Logistic {
        return Err(SpecError::new(
            f,
            "landscape.threshold",
            "belongs to model = \"logistic\"",
        ));
    }
    let source = match (&l.data, &l.dataset) {
        (Some(_), Some(_)) => {
            return Err(SpecError::new(
                f,
                "landscape",
                "give either `data` (a CSV file) or `dataset` (a shipped data set), not both",
            ))
        }
        (None, None) => {
            return Err(SpecError::new(
                f,
                "landscape.data",
                format!(
                    "kind = \"data\" needs `data` (a CSV file) or `dataset` ({})",
                    Shipped::NAMES
                ),
            ))
        }
        (Some(path), None) => {
            if path.trim().is_empty() {
                return Err(SpecError::new(f, "landscape.data", "must not be empty"));
            }
            let p = Path::new(path);
            let dir = f.parent().unwrap_or(Path::new(""));
            DataSource::Csv(if p.is_absolute() {
                p.to_path_buf()
            } else {
                dir.join(p)
            })
        }
        (None, Some(name)) => {
            if l.target.is_some() {
                return Err(SpecError::new(
                    f,
                    "landscape.target",
                    "belongs to `data` (a CSV file); a shipped data set has a fixed target",
                ));
            }
            DataSource::Shipped(Shipped::from_name(name).ok_or_else(|| {
                SpecError::new(
                    f,
                    "landscape.dataset",
                    format!("unknown data set `{name}`; expected {}", Shipped::NAMES),
                )
            })?)
        }
    };
    let l2 = match l.l2 {
        Some(v) => {
            let v = finite(f, "landscape.l2", v)?;
            if v < 0.0 {
                return Err(SpecError::new(
                    f,
                    "landscape.l2",
                    format!("must be ≥ 0, got {v}"),
                ));
            }
            v
        }
        None => defaults::L2,
    };
    let threshold = match l.threshold {
        Some(v) => Some(finite(f, "landscape.threshold", v)?),
        None => None,
    };
    let rows = match l.rows {
        Some(r) => Some(count(f, "landscape.rows", r, usize::MAX as u64 / 2)? as usize),
        None => None,
    };
    Ok(DataSpec {
        model,
        source,
        target: l.target.clone(),
        threshold,
        l2,
        standardize: l.standardize.unwrap_or(true),
        rows,
    })
}

/// Names an expression cannot use for a parameter: its functions and variables.
fn reserved_name(name: &str) -> bool {
    ["exp", "log", "sqrt", "tanh", "sin", "cos"].contains(&name)
        || (name.starts_with('x') && name[1..].bytes().all(|b| b.is_ascii_digit()))
}

/// `[landscape] params`: substitutes each named constant into the expression as a
/// parenthesised decimal literal, so that it is enclosed exactly as the expression's own
/// constants are (`num::Const::from_decimal`). A TOML integer is written as its digits
/// (exact below 2^53); a TOML float as the shortest decimal that reads back to the same
/// double, with a `.` or an exponent, so that its enclosure is that double widened by one
/// ulp on each side: it contains every real number that rounds to that double, in
/// particular the decimal the user wrote.
fn substitute_params(f: &Path, expr: &str, params: &toml::Table) -> Result<String, SpecError> {
    let mut text = std::collections::BTreeMap::new();
    for (name, v) in params {
        let key = format!("landscape.params.{name}");
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(SpecError::new(
                f,
                &key,
                "a parameter name is a letter or `_` followed by letters, digits or `_`",
            ));
        }
        if reserved_name(name) {
            return Err(SpecError::new(
                f,
                &key,
                format!("`{name}` is a function or variable of expressions; choose another name"),
            ));
        }
        let lit = match v {
            toml::Value::Integer(i) => format!("{i}"),
            toml::Value::Float(x) if x.is_finite() => format!("{x:?}"),
            toml::Value::Float(x) => {
                return Err(SpecError::new(
                    f,
                    &key,
                    format!("must be a finite number, got {x}"),
                ))
            }
            other => {
                return Err(SpecError::new(
                    f,
                    &key,
                    format!("must be a number, got {other}"),
                ))
            }
        };
        text.insert(name.clone(), (format!("({lit})"), false));
    }
    // Scan identifiers (numbers are skipped whole, so the `e` of `1e5` is not one).
    let b = expr.as_bytes();
    let mut out = String::with_capacity(expr.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || c == b'.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    i = j;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            out.push_str(&expr[start..i]);
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &expr[start..i];
            match text.get_mut(word) {
                Some((lit, used)) => {
                    *used = true;
                    out.push_str(lit);
                }
                None => out.push_str(word),
            }
        } else {
            let ch = expr[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    if let Some((name, _)) = text.iter().find(|(_, (_, used))| !used) {
        return Err(SpecError::new(
            f,
            &format!("landscape.params.{name}"),
            "is not used in landscape.expr",
        ));
    }
    Ok(out)
}

/// The keys `[sweep] key` may name: those that define the problem.
const SWEEP_TABLES: [&str; 3] = ["landscape", "domain", "noise"];

/// Resolves `[sweep]`: substitutes each value into the raw TOML tree at `key` and
/// validates every instance as a spec of its own.
fn resolve_sweep(file: &Path, text: &str, sw: RawSweep) -> Result<Spec, SpecError> {
    let f = file;
    let against = match sw.against.as_deref() {
        None | Some("value") => SweepAgainst::Value,
        Some("depth") => SweepAgainst::Depth,
        Some("inverse_sharpness") => SweepAgainst::InverseSharpness,
        Some(other) => {
            return Err(SpecError::new(
                f,
                "sweep.against",
                format!(
                    "unknown `{other}`; expected \"value\", \"depth\" or \"inverse_sharpness\""
                ),
            ))
        }
    };
    if sw.values.len() < 2 {
        return Err(SpecError::new(
            f,
            "sweep.values",
            format!(
                "needs at least 2 values (a slope needs two points), got {}",
                sw.values.len()
            ),
        ));
    }
    let mut values = Vec::with_capacity(sw.values.len());
    for (i, v) in sw.values.iter().enumerate() {
        let key = format!("sweep.values[{i}]");
        let x = match v {
            toml::Value::Integer(n) => *n as f64,
            toml::Value::Float(x) => finite(f, &key, *x)?,
            other => {
                return Err(SpecError::new(
                    f,
                    &key,
                    format!("must be a number, got {other}"),
                ))
            }
        };
        if let Some(j) = values.iter().position(|&y| y == x) {
            return Err(SpecError::new(
                f,
                &key,
                format!("repeats sweep.values[{j}] = {x}: the values must be distinct"),
            ));
        }
        values.push(x);
    }
    let path: Vec<&str> = sw.key.split('.').collect();
    if path.len() < 2 || path.iter().any(|p| p.trim().is_empty()) {
        return Err(SpecError::new(
            f,
            "sweep.key",
            format!(
                "`{}` is not a dotted key such as \"landscape.sharpness\" or \"domain.radius\"",
                sw.key
            ),
        ));
    }
    if !SWEEP_TABLES.contains(&path[0]) {
        return Err(SpecError::new(
            f,
            "sweep.key",
            format!(
                "`{}` cannot be swept: [sweep] varies the problem, a key under [landscape], [domain] or [noise] (list `sgd.eta` or `sgd.batch` values for a κ sweep)",
                sw.key
            ),
        ));
    }
    let mut tree: toml::Table =
        toml::from_str(text).map_err(|e| SpecError::new(f, "", e.message().replace('\n', " ")))?;
    tree.remove("sweep");
    {
        let mut node: &toml::Table = &tree;
        for (depth, seg) in path.iter().enumerate() {
            let here = path[..=depth].join(".");
            match node.get(*seg) {
                None => {
                    return Err(SpecError::new(
                        f,
                        "sweep.key",
                        format!("`{}` is not set in the spec (`{here}` is missing): give the key a value to sweep", sw.key),
                    ))
                }
                Some(toml::Value::Table(t)) if depth + 1 < path.len() => node = t,
                Some(v) if depth + 1 < path.len() => {
                    return Err(SpecError::new(
                        f,
                        "sweep.key",
                        format!("`{here}` is {}, not a table, so `{}` does not exist", v.type_str(), sw.key),
                    ))
                }
                Some(toml::Value::Integer(_) | toml::Value::Float(_)) => {}
                Some(v) => {
                    return Err(SpecError::new(
                        f,
                        "sweep.key",
                        format!("`{}` is {} ({v}), not a number", sw.key, v.type_str()),
                    ))
                }
            }
        }
    }
    let mut instances = Vec::with_capacity(values.len());
    for (i, v) in sw.values.iter().enumerate() {
        let mut t = tree.clone();
        let mut node = &mut t;
        for seg in &path[..path.len() - 1] {
            node = match node.get_mut(*seg) {
                Some(toml::Value::Table(t)) => t,
                _ => unreachable!("checked above"),
            };
        }
        node.insert(path[path.len() - 1].to_string(), v.clone());
        let within = |e: SpecError| SpecError {
            problem: format!(
                "{} (in the instance {} = {}, sweep.values[{i}])",
                e.problem, sw.key, values[i]
            ),
            ..e
        };
        let raw: RawSpec = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| {
                within(SpecError::new(f, &sw.key, e.message().replace('\n', " ")))
            })?;
        let spec = Spec::resolve(f, raw, text).map_err(within)?;
        for (key, n) in [("sgd.eta", spec.eta.len()), ("sgd.batch", spec.batch.len())] {
            if n != 1 {
                return Err(SpecError::new(
                    f,
                    key,
                    format!("with [sweep], give a single value ({n} given): each instance is simulated at one η and one B, and T4 fits across the instances"),
                ));
            }
        }
        instances.push(spec);
    }
    let mut base = instances[0].clone();
    base.sweep = Some(SweepSpec {
        key: sw.key,
        values,
        against,
        instances,
    });
    Ok(base)
}

impl Spec {
    /// The problem instances to certify and simulate: those of `[sweep]`, or the spec
    /// itself.
    pub fn instances(&self) -> Vec<&Spec> {
        match &self.sweep {
            Some(s) => s.instances.iter().collect(),
            None => vec![self],
        }
    }

    /// Reads and validates a spec file.
    pub fn from_file(path: &Path) -> Result<Spec, SpecError> {
        let bytes = std::fs::read(path)
            .map_err(|e| SpecError::new(path, "", format!("cannot read the file: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            // Name the position of the first invalid byte (TOML files are UTF-8).
            let ok = e.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&e.as_bytes()[..ok]).unwrap_or("");
            let (line, col) = line_col(valid, valid.len());
            SpecError::new(
                path,
                "",
                format!("line {line}, column {col}: the file is not valid UTF-8 (byte {ok})"),
            )
        })?;
        Spec::from_str(path, &text)
    }

    /// Parses and validates spec text; `file` is used in messages.
    pub fn from_str(file: &Path, text: &str) -> Result<Spec, SpecError> {
        let raw: RawSpec = toml::from_str(text).map_err(|e| {
            let msg = e.message().replace('\n', " ");
            match e.span() {
                Some(span) => {
                    let (line, col) = line_col(text, span.start);
                    SpecError::new(
                        file,
                        &key_for_error(text, span.start, &msg),
                        format!("line {line}, column {col}: {msg}"),
                    )
                }
                None => SpecError::new(file, "", msg),
            }
        })?;
        let mut raw = raw;
        match raw.sweep.take() {
            Some(sw) => resolve_sweep(file, text, sw),
            None => Spec::resolve(file, raw, text),
        }
    }

    fn resolve(file: &Path, raw: RawSpec, text: &str) -> Result<Spec, SpecError> {
        let f = file;
        if raw.name.trim().is_empty() {
            return Err(SpecError::new(f, "name", "must not be empty"));
        }
        let limits = resolve_limits(f, raw.limits.as_ref())?;
        let dim = match raw.landscape.dim {
            Some(d) => Some(limited(
                f,
                "landscape.dim",
                d,
                limits.max_dimension as u64,
                "max_dimension",
            )? as usize),
            None => None,
        };
        let l = &raw.landscape;
        let data_keys = [
            ("model", l.model.is_some()),
            ("hidden", l.hidden.is_some()),
            ("data", l.data.is_some()),
            ("dataset", l.dataset.is_some()),
            ("target", l.target.is_some()),
            ("threshold", l.threshold.is_some()),
            ("l2", l.l2.is_some()),
            ("standardize", l.standardize.is_some()),
            ("rows", l.rows.is_some()),
        ];
        match l.kind.as_deref() {
            Some("data") => {}
            Some(other) => {
                return Err(SpecError::new(
                    f,
                    "landscape.kind",
                    format!("unknown kind `{other}`; expected \"data\" (expressions and built-ins are given by `expr` or `builtin` alone)"),
                ))
            }
            None => {
                if let Some((k, _)) = data_keys.iter().find(|(_, present)| *present) {
                    return Err(SpecError::new(
                        f,
                        &format!("landscape.{k}"),
                        "belongs to kind = \"data\"",
                    ));
                }
            }
        }
        if l.params.is_some() && l.expr.is_none() {
            return Err(SpecError::new(
                f,
                "landscape.params",
                "belongs to `expr`: named constants substituted into the expression",
            ));
        }
        let landscape = if l.kind.is_some() {
            LandscapeSpec::Data(resolve_data(f, l)?)
        } else {
            match (&l.expr, &l.builtin) {
            (Some(_), Some(_)) => {
                return Err(SpecError::new(
                    f,
                    "landscape",
                    "give either `expr` or `builtin`, not both",
                ))
            }
            (None, None) => {
                return Err(SpecError::new(f, "landscape", "needs `expr` or `builtin`"))
            }
            (Some(e), None) => {
                if l.sharpness.is_some() || l.hessian.is_some() {
                    return Err(SpecError::new(
                        f,
                        "landscape",
                        "`sharpness` and `hessian` belong to builtin = \"quadratic\"",
                    ));
                }
                let expr = match &l.params {
                    Some(params) => substitute_params(f, e, params)?,
                    None => e.clone(),
                };
                LandscapeSpec::Expr { expr, dim }
            }
            (None, Some(b)) => match b.as_str() {
                "quadratic" => {
                    let dim = dim.ok_or_else(|| {
                        SpecError::new(
                            f,
                            "landscape.dim",
                            "is required for builtin = \"quadratic\"",
                        )
                    })?;
                    let sharpness = match l.sharpness {
                        Some(s) => Some(positive(f, "landscape.sharpness", s)?),
                        None => None,
                    };
                    let hessian = match &l.hessian {
                        Some(rows) => {
                            if rows.len() != dim || rows.iter().any(|r| r.len() != dim) {
                                return Err(SpecError::new(
                                    f,
                                    "landscape.hessian",
                                    format!("must be a {dim}×{dim} matrix (landscape.dim = {dim})"),
                                ));
                            }
                            let mut h = Vec::with_capacity(dim * dim);
                            for (i, r) in rows.iter().enumerate() {
                                for (j, &v) in r.iter().enumerate() {
                                    h.push(finite(f, &format!("landscape.hessian[{i}][{j}]"), v)?);
                                }
                            }
                            for i in 0..dim {
                                for j in 0..i {
                                    if h[i * dim + j] != h[j * dim + i] {
                                        return Err(SpecError::new(
                                            f,
                                            "landscape.hessian",
                                            format!("must be symmetric; entries [{i}][{j}] and [{j}][{i}] differ"),
                                        ));
                                    }
                                }
                            }
                            Some(h)
                        }
                        None => None,
                    };
                    if sharpness.is_some() == hessian.is_some() {
                        return Err(SpecError::new(
                            f,
                            "landscape",
                            "builtin = \"quadratic\" needs exactly one of `sharpness` or `hessian`",
                        ));
                    }
                    LandscapeSpec::Quadratic {
                        dim,
                        sharpness,
                        hessian,
                    }
                }
                "styblinski_tang" => {
                    if l.sharpness.is_some() || l.hessian.is_some() {
                        return Err(SpecError::new(
                            f,
                            "landscape",
                            "`sharpness` and `hessian` belong to builtin = \"quadratic\"",
                        ));
                    }
                    let dim = dim.ok_or_else(|| {
                        SpecError::new(
                            f,
                            "landscape.dim",
                            "is required for builtin = \"styblinski_tang\"",
                        )
                    })?;
                    LandscapeSpec::StyblinskiTang { dim }
                }
                "muller_brown" => {
                    if l.sharpness.is_some() || l.hessian.is_some() {
                        return Err(SpecError::new(
                            f,
                            "landscape",
                            "`sharpness` and `hessian` belong to builtin = \"quadratic\"",
                        ));
                    }
                    if let Some(d) = dim {
                        if d != 2 {
                            return Err(SpecError::new(
                                f,
                                "landscape.dim",
                                format!("the Müller–Brown potential is 2-D, got dim = {d}"),
                            ));
                        }
                    }
                    LandscapeSpec::MullerBrown
                }
                other => {
                    return Err(SpecError::new(
                        f,
                        "landscape.builtin",
                        format!(
                            "unknown builtin `{other}`; expected \"quadratic\", \"styblinski_tang\" or \"muller_brown\""
                        ),
                    ))
                }
            },
        }
        };
        let guess = match raw.minimum {
            Some(m) => {
                let mut g = Vec::with_capacity(m.guess.len());
                for (i, &v) in m.guess.iter().enumerate() {
                    g.push(finite(f, &format!("minimum.guess[{i}]"), v)?);
                }
                if g.is_empty() {
                    return Err(SpecError::new(f, "minimum.guess", "must not be empty"));
                }
                Some(g)
            }
            None => None,
        };
        let d = &raw.domain;
        let domain = match d.kind.as_str() {
            "interval" => {
                if d.radius.is_some() {
                    return Err(SpecError::new(
                        f,
                        "domain.radius",
                        "belongs to kind = \"ball\"",
                    ));
                }
                let lo = number(
                    f,
                    "domain.lo",
                    d.lo.as_ref().ok_or_else(|| {
                        SpecError::new(f, "domain.lo", "is required for kind = \"interval\"")
                    })?,
                )?;
                let hi = number(
                    f,
                    "domain.hi",
                    d.hi.as_ref().ok_or_else(|| {
                        SpecError::new(f, "domain.hi", "is required for kind = \"interval\"")
                    })?,
                )?;
                if !(lo < hi) {
                    return Err(SpecError::new(
                        f,
                        "domain",
                        format!("needs lo < hi, got lo = {lo}, hi = {hi}"),
                    ));
                }
                DomainSpec::Interval { lo, hi }
            }
            "ball" => {
                if d.lo.is_some() || d.hi.is_some() {
                    return Err(SpecError::new(
                        f,
                        "domain",
                        "`lo` and `hi` belong to kind = \"interval\" or \"box\"",
                    ));
                }
                let r = d.radius.ok_or_else(|| {
                    SpecError::new(f, "domain.radius", "is required for kind = \"ball\"")
                })?;
                DomainSpec::Ball {
                    radius: positive(f, "domain.radius", r)?,
                }
            }
            "box" => {
                if d.radius.is_some() {
                    return Err(SpecError::new(
                        f,
                        "domain.radius",
                        "belongs to kind = \"ball\"",
                    ));
                }
                let list = |key: &str, v: &Option<toml::Value>| {
                    number_list(
                        f,
                        key,
                        v.as_ref().ok_or_else(|| {
                            SpecError::new(f, key, "is required for kind = \"box\"")
                        })?,
                    )
                };
                let lo = list("domain.lo", &d.lo)?;
                let hi = list("domain.hi", &d.hi)?;
                if lo.len() != hi.len() {
                    return Err(SpecError::new(
                        f,
                        "domain.hi",
                        format!(
                            "has {} entries but domain.lo has {}: one pair per coordinate",
                            hi.len(),
                            lo.len()
                        ),
                    ));
                }
                if let Some(i) = (0..lo.len()).find(|&i| !(lo[i] < hi[i])) {
                    return Err(SpecError::new(
                        f,
                        "domain",
                        format!(
                            "needs lo[{i}] < hi[{i}], got lo[{i}] = {}, hi[{i}] = {}",
                            lo[i], hi[i]
                        ),
                    ));
                }
                DomainSpec::Box { lo, hi }
            }
            other => {
                return Err(SpecError::new(
                    f,
                    "domain.kind",
                    format!("unknown kind `{other}`; expected \"interval\", \"ball\" or \"box\""),
                ))
            }
        };
        let n = &raw.noise;
        let only = |allowed: &[&str], kind: &str| -> Result<(), SpecError> {
            for (key, present) in [
                ("sigma", n.sigma.is_some()),
                ("cov", n.cov.is_some()),
                ("scale", n.scale.is_some()),
                ("floor", n.floor.is_some()),
            ] {
                if present && !allowed.contains(&key) {
                    return Err(SpecError::new(
                        f,
                        &format!("noise.{key}"),
                        format!("does not belong to kind = \"{kind}\""),
                    ));
                }
            }
            Ok(())
        };
        let noise = match n.kind.as_str() {
            "isotropic" => {
                only(&["sigma"], "isotropic")?;
                let s = n.sigma.ok_or_else(|| {
                    SpecError::new(f, "noise.sigma", "is required for kind = \"isotropic\"")
                })?;
                NoiseSpec::Isotropic {
                    sigma: positive(f, "noise.sigma", s)?,
                }
            }
            "constant" => {
                only(&["cov"], "constant")?;
                let rows = n.cov.clone().ok_or_else(|| {
                    SpecError::new(f, "noise.cov", "is required for kind = \"constant\"")
                })?;
                let d = rows.len();
                if d == 0 || rows.iter().any(|r| r.len() != d) {
                    return Err(SpecError::new(f, "noise.cov", "must be a square matrix"));
                }
                for (i, r) in rows.iter().enumerate() {
                    for (j, &v) in r.iter().enumerate() {
                        finite(f, &format!("noise.cov[{i}][{j}]"), v)?;
                    }
                }
                for i in 0..d {
                    for j in 0..i {
                        if rows[i][j] != rows[j][i] {
                            return Err(SpecError::new(
                                f,
                                "noise.cov",
                                format!(
                                    "must be symmetric; entries [{i}][{j}] and [{j}][{i}] differ"
                                ),
                            ));
                        }
                    }
                }
                NoiseSpec::Constant { cov: rows }
            }
            "hessian" => {
                only(&["scale", "floor"], "hessian")?;
                let scale = n.scale.ok_or_else(|| {
                    SpecError::new(f, "noise.scale", "is required for kind = \"hessian\"")
                })?;
                let scale = positive(f, "noise.scale", scale)?;
                let floor = finite(f, "noise.floor", n.floor.unwrap_or(0.0))?;
                if floor < 0.0 {
                    return Err(SpecError::new(
                        f,
                        "noise.floor",
                        format!("must be ≥ 0, got {floor}"),
                    ));
                }
                NoiseSpec::Hessian { scale, floor }
            }
            "data" => {
                only(&[], "data")?;
                if !matches!(landscape, LandscapeSpec::Data(_)) {
                    return Err(SpecError::new(
                        f,
                        "noise.kind",
                        "kind = \"data\" (the per-example gradient covariance) needs a data loss: [landscape] kind = \"data\"",
                    ));
                }
                NoiseSpec::Data
            }
            other => {
                return Err(SpecError::new(
                    f,
                    "noise.kind",
                    format!(
                    "unknown kind `{other}`; expected \"isotropic\", \"constant\", \"hessian\" or \"data\""
                ),
                ))
            }
        };
        let eta_raw = raw.sgd.eta.into_vec();
        if eta_raw.is_empty() {
            return Err(SpecError::new(f, "sgd.eta", "must not be an empty list"));
        }
        let mut eta = Vec::with_capacity(eta_raw.len());
        for (i, &e) in eta_raw.iter().enumerate() {
            let key = if eta_raw.len() == 1 {
                "sgd.eta".to_string()
            } else {
                format!("sgd.eta[{i}]")
            };
            eta.push(positive(f, &key, e)?);
        }
        let batch_raw = raw
            .sgd
            .batch
            .map(|b| b.into_vec())
            .unwrap_or_else(|| vec![defaults::BATCH as i64]);
        if batch_raw.is_empty() {
            return Err(SpecError::new(f, "sgd.batch", "must not be an empty list"));
        }
        let mut batch = Vec::with_capacity(batch_raw.len());
        for (i, &b) in batch_raw.iter().enumerate() {
            let key = if batch_raw.len() == 1 {
                "sgd.batch".to_string()
            } else {
                format!("sgd.batch[{i}]")
            };
            batch.push(count(f, &key, b, u32::MAX as u64)? as u32);
        }
        let mc = raw.monte_carlo.unwrap_or(RawMonteCarlo {
            trials: None,
            seed: None,
            confidence: None,
            max_steps: None,
            dt: None,
            dynamics: None,
            start: None,
            precision: None,
            max_trials: None,
            noise_scale: None,
            method: None,
        });
        let (trials, precision) = match &mc.trials {
            Some(TrialsRaw::Count(t)) => {
                if mc.precision.is_some() || mc.max_trials.is_some() {
                    return Err(SpecError::new(
                        f,
                        "monte_carlo.precision",
                        "`precision` and `max_trials` belong to trials = \"auto\"",
                    ));
                }
                (
                    limited(
                        f,
                        "monte_carlo.trials",
                        *t,
                        limits.max_trials as u64,
                        "max_trials",
                    )? as usize,
                    None,
                )
            }
            Some(TrialsRaw::Word(w)) if w == "auto" => {
                let p = mc.precision.unwrap_or(defaults::PRECISION);
                if !(p.is_finite() && p > 0.0 && p < 1.0) {
                    return Err(SpecError::new(
                        f,
                        "monte_carlo.precision",
                        format!("must lie strictly between 0 and 1, got {p}"),
                    ));
                }
                let m = match mc.max_trials {
                    Some(m) => limited(
                        f,
                        "monte_carlo.max_trials",
                        m,
                        limits.max_trials as u64,
                        "max_trials",
                    )? as usize,
                    None => defaults::AUTO_MAX_TRIALS,
                };
                (m, Some(p))
            }
            Some(TrialsRaw::Word(w)) => {
                return Err(SpecError::new(
                    f,
                    "monte_carlo.trials",
                    format!("must be a positive integer or \"auto\", got \"{w}\""),
                ))
            }
            None => {
                if mc.precision.is_some() || mc.max_trials.is_some() {
                    return Err(SpecError::new(
                        f,
                        "monte_carlo.precision",
                        "`precision` and `max_trials` belong to trials = \"auto\"",
                    ));
                }
                (defaults::TRIALS, None)
            }
        };
        let seed = match mc.seed {
            Some(s) if s < 0 => {
                return Err(SpecError::new(
                    f,
                    "monte_carlo.seed",
                    format!("must be ≥ 0, got {s}"),
                ))
            }
            Some(s) => s as u64,
            None => defaults::SEED,
        };
        let confidence = match mc.confidence {
            Some(c) if !(c > 0.0 && c < 1.0) => {
                return Err(SpecError::new(
                    f,
                    "monte_carlo.confidence",
                    format!("must lie strictly between 0 and 1, got {c}"),
                ))
            }
            Some(c) => c,
            None => defaults::CONFIDENCE,
        };
        let max_steps = match mc.max_steps {
            Some(m) => limited(f, "monte_carlo.max_steps", m, limits.max_steps, "max_steps")?,
            None => defaults::MAX_STEPS,
        };
        let dt = match mc.dt {
            Some(v) => positive(f, "monte_carlo.dt", v)?,
            None => defaults::DT,
        };
        let dynamics = match mc.dynamics {
            Some(list) => {
                if list.is_empty() {
                    return Err(SpecError::new(
                        f,
                        "monte_carlo.dynamics",
                        "must not be empty",
                    ));
                }
                let mut out = Vec::new();
                for (i, s) in list.iter().enumerate() {
                    let d = match s.as_str() {
                        "continuous" => DynamicsSpec::Continuous,
                        "discrete" => DynamicsSpec::Discrete,
                        "minibatch" => {
                            if !matches!(landscape, LandscapeSpec::Data(_)) {
                                return Err(SpecError::new(
                                    f,
                                    &format!("monte_carlo.dynamics[{i}]"),
                                    "\"minibatch\" (THEORY E2) samples examples of a data loss: it needs [landscape] kind = \"data\"",
                                ));
                            }
                            if noise != NoiseSpec::Data {
                                return Err(SpecError::new(
                                    f,
                                    &format!("monte_carlo.dynamics[{i}]"),
                                    "\"minibatch\" draws its noise from the data; set [noise] kind = \"data\" so that the certified side describes that noise",
                                ));
                            }
                            DynamicsSpec::Minibatch
                        }
                        other => {
                            return Err(SpecError::new(
                                f,
                                &format!("monte_carlo.dynamics[{i}]"),
                                format!("unknown dynamics `{other}`; expected \"continuous\", \"discrete\" or \"minibatch\""),
                            ))
                        }
                    };
                    if !out.contains(&d) {
                        out.push(d);
                    }
                }
                out
            }
            // A data loss with its own noise: minibatch SGD (the Gaussian models of the
            // per-example covariance are simulated once the simulation takes a
            // state-dependent Σ).
            None if noise == NoiseSpec::Data => vec![DynamicsSpec::Minibatch],
            None => vec![DynamicsSpec::Continuous, DynamicsSpec::Discrete],
        };
        let mut starts = Vec::new();
        if let Some(list) = &mc.start {
            if list.is_empty() {
                return Err(SpecError::new(
                    f,
                    "monte_carlo.start",
                    "must not be an empty list (omit it to start at the minimiser)",
                ));
            }
            for (i, p) in list.iter().enumerate() {
                if p.is_empty() {
                    return Err(SpecError::new(
                        f,
                        &format!("monte_carlo.start[{i}]"),
                        "must not be empty",
                    ));
                }
                for (j, &v) in p.iter().enumerate() {
                    finite(f, &format!("monte_carlo.start[{i}][{j}]"), v)?;
                }
                starts.push(p.clone());
            }
        }
        let noise_scale = match mc.noise_scale {
            None => 1.0,
            Some(v) => {
                let v = positive(f, "monte_carlo.noise_scale", v)?;
                if v != 1.0
                    && !matches!(
                        noise,
                        NoiseSpec::Isotropic { .. } | NoiseSpec::Constant { .. }
                    )
                {
                    return Err(SpecError::new(
                        f,
                        "monte_carlo.noise_scale",
                        "scales isotropic or constant noise only ([noise] kind = \"isotropic\" or \"constant\")",
                    ));
                }
                if v != 1.0 && dynamics.contains(&DynamicsSpec::Minibatch) {
                    return Err(SpecError::new(
                        f,
                        "monte_carlo.noise_scale",
                        "minibatch SGD draws its noise from the data and cannot be scaled",
                    ));
                }
                v
            }
        };
        let method = match mc.method.as_deref() {
            None | Some("direct") => Method::Direct,
            Some("splitting") => Method::Splitting,
            Some("auto") => Method::Auto,
            Some(other) => {
                return Err(SpecError::new(
                    f,
                    "monte_carlo.method",
                    format!("must be \"direct\", \"splitting\" or \"auto\", got {other:?}"),
                ))
            }
        };
        let splitting = resolve_splitting(f, raw.splitting.as_ref())?;
        if method != Method::Direct && precision.is_some() {
            return Err(SpecError::new(
                f,
                "monte_carlo.method",
                "splitting takes its sample sizes from [splitting] (particles, replicas, cycles), not trials = \"auto\"",
            ));
        }
        let claims_check = match raw.claims.and_then(|c| c.check) {
            None => None,
            Some(list) => {
                let known = crate::claims::CLAIM_IDS;
                let mut out: Vec<String> = Vec::new();
                for (i, id) in list.iter().enumerate() {
                    if !known.contains(&id.as_str()) {
                        return Err(SpecError::new(
                            f,
                            "claims.check",
                            format!(
                                "unknown claim `{id}` (entry {i}); expected some of {}",
                                known.join(", ")
                            ),
                        ));
                    }
                    if !out.contains(id) {
                        out.push(id.clone());
                    }
                }
                if out.is_empty() {
                    return Err(SpecError::new(
                        f,
                        "claims.check",
                        "must not be empty (omit it to check every claim that applies)",
                    ));
                }
                Some(out)
            }
        };
        let expect = match raw.expect {
            None => ExpectSpec::default(),
            Some(e) => {
                let range = |key: &str, v: &[f64]| -> Result<(f64, f64), SpecError> {
                    if v.len() != 2 {
                        return Err(SpecError::new(
                            f,
                            key,
                            format!("must be [lo, hi], got {} number(s)", v.len()),
                        ));
                    }
                    let lo = finite(f, key, v[0])?;
                    let hi = finite(f, key, v[1])?;
                    if lo > hi {
                        return Err(SpecError::new(
                            f,
                            key,
                            format!("lo = {lo} is above hi = {hi}"),
                        ));
                    }
                    Ok((lo, hi))
                };
                let barrier = match &e.barrier {
                    Some(v) => Some(range("expect.barrier", v)?),
                    None => None,
                };
                let mut barrier_discrete = Vec::new();
                let numbers = |key: &str, v: &toml::Value| -> Result<Vec<f64>, SpecError> {
                    let bad = || {
                        SpecError::new(
                            f,
                            key,
                            "must be [lo, hi] (numbers), or a list of { eta = …, barrier = [lo, hi] }",
                        )
                    };
                    v.as_array()
                        .ok_or_else(bad)?
                        .iter()
                        .map(|x| {
                            x.as_float()
                                .or_else(|| x.as_integer().map(|i| i as f64))
                                .ok_or_else(bad)
                        })
                        .collect()
                };
                match &e.barrier_discrete {
                    None => {}
                    Some(v) => {
                        let key = "expect.barrier_discrete";
                        let arr = v.as_array().ok_or_else(|| {
                            SpecError::new(
                                f,
                                key,
                                "must be [lo, hi] or a list of { eta = …, barrier = [lo, hi] }",
                            )
                        })?;
                        if arr.iter().all(|x| x.is_table()) && !arr.is_empty() {
                            for (i, t) in arr.iter().enumerate() {
                                let k = format!("{key}[{i}]");
                                let t = t.as_table().expect("checked");
                                if let Some(extra) =
                                    t.keys().find(|k| *k != "eta" && *k != "barrier")
                                {
                                    return Err(SpecError::new(
                                        f,
                                        &k,
                                        format!(
                                            "unknown key `{extra}`; expected `eta` and `barrier`"
                                        ),
                                    ));
                                }
                                let at = t
                                    .get("eta")
                                    .and_then(|x| {
                                        x.as_float().or_else(|| x.as_integer().map(|i| i as f64))
                                    })
                                    .ok_or_else(|| {
                                        SpecError::new(
                                            f,
                                            &format!("{k}.eta"),
                                            "missing or not a number",
                                        )
                                    })?;
                                if !eta.contains(&at) {
                                    return Err(SpecError::new(
                                        f,
                                        &format!("{k}.eta"),
                                        format!("η = {at} is not one of [sgd] eta {eta:?}"),
                                    ));
                                }
                                let b = t.get("barrier").ok_or_else(|| {
                                    SpecError::new(
                                        f,
                                        &format!("{k}.barrier"),
                                        "missing: give [lo, hi]",
                                    )
                                })?;
                                let (lo, hi) = range(
                                    &format!("{k}.barrier"),
                                    &numbers(&format!("{k}.barrier"), b)?,
                                )?;
                                barrier_discrete.push((Some(at), lo, hi));
                            }
                        } else {
                            let (lo, hi) = range(key, &numbers(key, v)?)?;
                            barrier_discrete.push((None, lo, hi));
                        }
                    }
                }
                ExpectSpec {
                    barrier,
                    barrier_discrete,
                }
            }
        };
        let max_boxes = match raw.certify.and_then(|c| c.max_boxes) {
            Some(m) => count(f, "certify.max_boxes", m, 1 << 40)? as usize,
            None => defaults::MAX_BOXES,
        };
        let paper = match raw.paper {
            Some(p) => Some(crate::paper::resolve(f, p)?),
            None => None,
        };

        Ok(Spec {
            file: file.to_path_buf(),
            name: raw.name,
            description: raw.description,
            landscape,
            guess,
            domain,
            noise,
            eta,
            batch,
            monte_carlo: MonteCarloSpec {
                trials,
                precision,
                seed,
                confidence,
                max_steps,
                dt,
                dynamics,
                starts,
                noise_scale,
                method,
                splitting,
            },
            max_boxes,
            claims_check,
            expect,
            source_text: text.to_string(),
            sweep: None,
            paper,
            limits,
        })
    }
}
