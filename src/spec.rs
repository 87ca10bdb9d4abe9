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
    /// `[paper]`: what the paper's figures showed (src/paper.rs).
    paper: Option<crate::paper::RawPaper>,
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
    /// The spec file's text, for the report's provenance.
    pub source_text: String,
    /// `[paper]`: what the paper's figures showed, claim by claim (src/paper.rs).
    pub paper: Option<crate::paper::PaperSpec>,
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

impl Spec {
    /// Reads and validates a spec file.
    pub fn from_file(path: &Path) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SpecError::new(path, "", format!("cannot read the file: {e}")))?;
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
        Spec::resolve(file, raw, text)
    }

    fn resolve(file: &Path, raw: RawSpec, text: &str) -> Result<Spec, SpecError> {
        let f = file;
        if raw.name.trim().is_empty() {
            return Err(SpecError::new(f, "name", "must not be empty"));
        }
        let dim = match raw.landscape.dim {
            Some(d) => Some(count(f, "landscape.dim", d, defaults::MAX_DIM as u64)? as usize),
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
                LandscapeSpec::Expr {
                    expr: e.clone(),
                    dim,
                }
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
                    count(f, "monte_carlo.trials", *t, defaults::MAX_TRIALS as u64)? as usize,
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
                    Some(m) => {
                        count(f, "monte_carlo.max_trials", m, defaults::MAX_TRIALS as u64)? as usize
                    }
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
            Some(m) => count(f, "monte_carlo.max_steps", m, u64::MAX / 2)?,
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
            },
            max_boxes,
            source_text: text.to_string(),
            paper,
        })
    }
}
