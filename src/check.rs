//! Regression mode: `escapecert check SPEC --baseline DIR/report.json`.
//!
//! The spec is re-run exactly as `verify` runs it (same seed, so with unchanged code every
//! number is reproduced bit for bit) and the new report is compared with the baseline,
//! item by item:
//!
//! * **claims** (matched by `id`): a verdict that got worse (PASS > INCONCLUSIVE > FAIL) is a
//!   regression, and so is a claim that disappeared; a new claim is reported, and is a
//!   regression only if it FAILs. The baseline's *point of agreement* of a claim is the
//!   midpoint of the overlap of its certified interval and its estimated interval (where
//!   both exist and overlap); the new certified interval must contain it. Where the
//!   baseline has no point of agreement, the two certified intervals must intersect. (A
//!   deliberate tightening that excludes the old point of agreement is flagged too: the
//!   claim's agreement then rests on other numbers, which a person should look at before
//!   regenerating the baseline.)
//! * **certified quantities without an estimate** (θ* per coordinate, L*, λ_max, λ_min, ΔL,
//!   s⁻, s⁺, V̄, V̄_η per η, the exact E[τ] per sweep point): the new enclosure must
//!   intersect the baseline's. Both are rigorous enclosures of the same number, so
//!   disjoint enclosures mean one of the two runs is wrong: a regression. A quantity that
//!   was certified and no longer is, is a regression too. An enclosure wider than the
//!   baseline's by more than the relative tolerance is a warning, not a failure.
//! * **estimates** (each claim's `estimated`, each sweep point's `mean_exit_time`): a
//!   regression when the new point estimate lies outside the baseline's interval (at the
//!   baseline's level), or the baseline's point estimate outside the new interval.
//!
//! False alarms of the estimate test. With the same seed and unchanged simulation code
//! the estimates are identical, so the test cannot raise a false alarm: any difference is
//! a change of the simulation (or of the statistics), which is what regression mode is
//! for. After a deliberate change of the simulation (other random streams, another
//! integrator) the two estimates are independent draws; for an approximately normal
//! estimate with interval ± z·se at level 1 − α, the difference of two draws has standard
//! error √2·se, so the test fires with probability ≈ 2(1 − Φ(z_{1−α/2}/√2)) per estimate
//! when nothing is wrong: ≈ 17 % at level 0.95, ≈ 11 % at 0.975, ≈ 5 % at 0.995 — and a
//! report has several estimates. After such a change, review the table and regenerate the
//! baseline with `verify`.
//!
//! The baseline is read through a lenient view of its JSON (`serde_json::Value`), not
//! through the strict report types: unknown fields are ignored, keys an older format
//! does not have are listed as not compared, and the fields compared are read from both
//! reports the same way (the new report is serialised first).

use crate::report::{self, json::Report, ReportError};
use crate::run::{self, Options, RunError};
use crate::spec::Spec;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The relative widening of a certified enclosure above which a warning is printed.
pub const DEFAULT_WIDTH_TOLERANCE: f64 = 0.1;

/// Widening below this many ulps of the enclosure's magnitude is never warned about (a
/// point enclosure of width 1e-16 may legitimately move by an ulp or two).
pub const WIDTH_ULP_SLACK: f64 = 8.0;

/// Errors of regression mode; every one is bad input (exit code 2) except `Run`, which
/// carries the `verify` error of the spec.
#[derive(Debug, Error)]
pub enum CheckError {
    /// The baseline cannot be read or is not a report.
    #[error("baseline {}: {problem}", file.display())]
    Baseline { file: PathBuf, problem: String },
    /// The baseline is a report of another spec or problem.
    #[error("baseline {} is not a report of {}: {problem}; compare against a report of this spec, or regenerate the baseline with `escapecert verify`", file.display(), spec.display())]
    OtherSpec {
        file: PathBuf,
        spec: PathBuf,
        problem: String,
    },
    /// Running the spec failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Writing the new report (`--out`) failed.
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// A certified enclosure read from a report (`null` ends read as unbounded).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Enclosure {
    pub lo: f64,
    pub hi: f64,
}

impl Enclosure {
    fn width(&self) -> f64 {
        self.hi - self.lo
    }
    fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
    fn intersects(&self, o: &Enclosure) -> bool {
        self.lo <= o.hi && o.lo <= self.hi
    }
}

/// A statistical estimate read from a report.
#[derive(Clone, Debug, PartialEq)]
pub struct Est {
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
    pub level: f64,
}

impl Est {
    fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
    fn same(&self, o: &Est) -> bool {
        self.estimate.to_bits() == o.estimate.to_bits()
            && self.lo.to_bits() == o.lo.to_bits()
            && self.hi.to_bits() == o.hi.to_bits()
            && self.level.to_bits() == o.level.to_bits()
    }
}

/// One claim as far as regression mode compares it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimView {
    pub id: String,
    pub verdict: String,
    pub certified: Option<Enclosure>,
    pub estimated: Option<Est>,
}

/// The comparable content of a report.json (any format version).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportView {
    pub format_version: u64,
    pub spec_name: String,
    /// `problem.landscape`, `.dim`, `.domain`, `.noise` as text, where present.
    pub problem: Vec<(String, String)>,
    /// Every `settings` key and `problem.eta` / `problem.batch`, as compact JSON.
    pub settings: Vec<(String, String)>,
    /// `None` when the report has no `claims` array.
    pub claims: Option<Vec<ClaimView>>,
    /// Certified quantities: name → enclosure, or `None` where the report says `null`.
    pub certified: Vec<(String, Option<Enclosure>)>,
    /// Monte Carlo mean exit times, by sweep point.
    pub estimates: Vec<(String, Est)>,
    /// Whether some sweep point carries a `--check-dt` rerun.
    pub dt_check: bool,
    /// Keys of the v2 format absent from this report (not compared).
    pub missing: Vec<String>,
}

/// A baseline report: its path and its view.
#[derive(Clone, Debug)]
pub struct Baseline {
    pub file: PathBuf,
    pub view: ReportView,
}

/// Reads and checks a baseline report.json.
pub fn read_baseline(file: &Path) -> Result<Baseline, CheckError> {
    let err = |problem: String| CheckError::Baseline {
        file: file.to_path_buf(),
        problem,
    };
    let text = std::fs::read_to_string(file).map_err(|e| err(format!("cannot read: {e}")))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        err(format!(
            "not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    let view = view(&value).map_err(err)?;
    Ok(Baseline {
        file: file.to_path_buf(),
        view,
    })
}

/// The view of a report produced by this version of the tool.
pub fn view_of_report(rep: &Report) -> Result<ReportView, String> {
    let value = serde_json::to_value(rep).map_err(|e| format!("cannot serialise: {e}"))?;
    view(&value)
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// A number as report.json writes it: a JSON number, or `"inf"`, `"-inf"`, `"nan"`.
fn num(v: &Value, path: &str) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("key `{path}`: not a number")),
        Value::String(s) => match s.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            _ => Err(format!(
                "key `{path}`: expected a number, found the string {s:?}"
            )),
        },
        other => Err(format!("key `{path}`: expected a number, found {other}")),
    }
}

fn string(v: &Value, key: &str, path: &str) -> Result<String, String> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "key `{path}.{key}`: expected a string, found {other}"
        )),
        None => Err(format!("key `{path}.{key}` is missing")),
    }
}

fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("key `{path}`: expected an array, found {v}"))
}

/// `{lo, hi}` (a `null` end is unbounded), or `None` for `null`.
fn enclosure(v: &Value, path: &str) -> Result<Option<Enclosure>, String> {
    if v.is_null() {
        return Ok(None);
    }
    if !v.is_object() {
        return Err(format!(
            "key `{path}`: expected {{lo, hi}} or null, found {v}"
        ));
    }
    let end = |k: &str, unbounded: f64| match get(v, k) {
        None => Ok(unbounded),
        Some(x) => num(x, &format!("{path}.{k}")),
    };
    let lo = end("lo", f64::NEG_INFINITY)?;
    let hi = end("hi", f64::INFINITY)?;
    Ok(Some(Enclosure { lo, hi }))
}

fn estimate(v: &Value, path: &str) -> Result<Option<Est>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let field = |k: &str| match v.get(k) {
        Some(x) => num(x, &format!("{path}.{k}")),
        None => Err(format!("key `{path}.{k}` is missing")),
    };
    Ok(Some(Est {
        estimate: field("estimate")?,
        lo: field("lo")?,
        hi: field("hi")?,
        level: field("level")?,
    }))
}

fn compact(v: &Value) -> String {
    v.to_string()
}

/// The label of a sweep point: dynamics, η, B, and the start point when a report has
/// several.
fn point_labels(points: &[Value]) -> Vec<String> {
    let starts: Vec<String> = points
        .iter()
        .map(|p| p.get("start").map(compact).unwrap_or_default())
        .collect();
    let several_starts = starts.iter().any(|s| s != &starts[0]);
    let mut labels: Vec<String> = Vec::with_capacity(points.len());
    for (p, start) in points.iter().zip(&starts) {
        let text = |k: &str| match p.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => compact(v),
            None => "?".into(),
        };
        let mut label = format!(
            "{}, η = {}, B = {}",
            text("dynamics"),
            text("eta"),
            text("batch")
        );
        if several_starts {
            let _ = write!(label, ", start {start}");
        }
        let dup = labels
            .iter()
            .filter(|l| l.split(" (#").next() == Some(label.as_str()))
            .count();
        if dup > 0 {
            let _ = write!(label, " (#{})", dup + 1);
        }
        labels.push(label);
    }
    labels
}

/// The comparable content of a report.json value. Fails (naming the key) only when a key
/// that is present has the wrong type, or when `format_version` or `problem.spec_name` is
/// missing; absent keys are recorded in `missing`.
pub fn view(v: &Value) -> Result<ReportView, String> {
    if !v.is_object() {
        return Err("not a report.json: the top level is not a JSON object".into());
    }
    let format_version = match v.get("format_version") {
        Some(x) => x.as_u64().ok_or_else(|| {
            format!("key `format_version`: expected a non-negative integer, found {x}")
        })?,
        None => return Err("not a report.json: key `format_version` is missing".into()),
    };
    let problem = get(v, "problem")
        .ok_or("not a report.json: key `problem` is missing (needed: problem.spec_name)")?;
    let spec_name = string(problem, "spec_name", "problem")?;
    let mut r = ReportView {
        format_version,
        spec_name,
        ..Default::default()
    };
    for k in ["landscape", "dim", "domain", "noise"] {
        match problem.get(k) {
            Some(Value::String(s)) => r.problem.push((k.into(), s.clone())),
            Some(x) => r.problem.push((k.into(), compact(x))),
            None => r.missing.push(format!("problem.{k}")),
        }
    }
    for k in ["eta", "batch"] {
        if let Some(x) = problem.get(k) {
            r.settings.push((format!("problem.{k}"), compact(x)));
        }
    }
    match get(v, "settings").and_then(|s| s.as_object()) {
        Some(s) => {
            for (k, x) in s {
                r.settings.push((format!("settings.{k}"), compact(x)));
            }
        }
        None => r.missing.push("settings".into()),
    }

    // Claims.
    match get(v, "claims") {
        Some(cs) => {
            let mut claims = Vec::new();
            for (i, c) in array(cs, "claims")?.iter().enumerate() {
                let path = format!("claims[{i}]");
                let certified = match c.get("certified") {
                    Some(x) => enclosure(x, &format!("{path}.certified"))?,
                    None => None,
                };
                let estimated = match c.get("estimated") {
                    Some(x) => estimate(x, &format!("{path}.estimated"))?,
                    None => None,
                };
                claims.push(ClaimView {
                    id: string(c, "id", &path)?,
                    verdict: string(c, "verdict", &path)?,
                    certified,
                    estimated,
                });
            }
            r.claims = Some(claims);
        }
        None => r.missing.push("claims".into()),
    }

    // Certified quantities.
    match get(v, "certified") {
        Some(c) => {
            if let Some(m) = get(c, "minimizer") {
                let lo = array(
                    m.get("lo").unwrap_or(&Value::Null),
                    "certified.minimizer.lo",
                )?;
                let hi = array(
                    m.get("hi").unwrap_or(&Value::Null),
                    "certified.minimizer.hi",
                )?;
                if lo.len() != hi.len() {
                    return Err(
                        "keys `certified.minimizer.lo` and `.hi` have different lengths".into(),
                    );
                }
                for (i, (a, b)) in lo.iter().zip(hi).enumerate() {
                    r.certified.push((
                        format!("θ*[{}]", i + 1),
                        Some(Enclosure {
                            lo: num(a, &format!("certified.minimizer.lo[{i}]"))?,
                            hi: num(b, &format!("certified.minimizer.hi[{i}]"))?,
                        }),
                    ));
                }
            } else {
                r.missing.push("certified.minimizer".into());
            }
            let mut quantity = |name: &str, key: &str, x: Option<&Value>| -> Result<(), String> {
                match x {
                    Some(x) => {
                        let e = enclosure(x, &format!("certified.{key}"))?;
                        r.certified.push((name.into(), e));
                    }
                    None => r.missing.push(format!("certified.{key}")),
                }
                Ok(())
            };
            quantity("L*", "loss_at_min", c.get("loss_at_min"))?;
            quantity("λ_max", "sharpness", c.get("sharpness"))?;
            quantity("λ_min", "lambda_min", c.get("lambda_min"))?;
            quantity("ΔL", "depth", c.get("depth"))?;
            quantity("V̄", "barrier", c.get("barrier"))?;
            let st = c.get("steepness");
            quantity("s⁻", "steepness.s_minus", st.and_then(|s| s.get("s_minus")))?;
            quantity("s⁺", "steepness.s_plus", st.and_then(|s| s.get("s_plus")))?;
            match get(c, "barrier_discrete") {
                Some(ds) => {
                    for (i, d) in array(ds, "certified.barrier_discrete")?.iter().enumerate() {
                        let path = format!("certified.barrier_discrete[{i}]");
                        let eta = d
                            .get("eta")
                            .map(compact)
                            .ok_or(format!("key `{path}.eta` is missing"))?;
                        let e = enclosure(
                            d.get("barrier").unwrap_or(&Value::Null),
                            &format!("{path}.barrier"),
                        )?;
                        r.certified.push((format!("V̄_η (η = {eta})"), e));
                    }
                }
                None => r.missing.push("certified.barrier_discrete".into()),
            }
        }
        None => r.missing.push("certified".into()),
    }

    // Monte Carlo points: the mean exit time (estimate) and the exact E[τ] (certified).
    match get(v, "monte_carlo") {
        Some(ps) => {
            let ps = array(ps, "monte_carlo")?;
            let labels = point_labels(ps);
            for (i, (p, label)) in ps.iter().zip(&labels).enumerate() {
                let path = format!("monte_carlo[{i}]");
                if let Some(e) = estimate(
                    p.get("mean_exit_time").unwrap_or(&Value::Null),
                    &format!("{path}.mean_exit_time"),
                )? {
                    r.estimates.push((format!("mean exit time ({label})"), e));
                }
                if let Some(x) = p.get("mean_exit_time_exact") {
                    let e = enclosure(x, &format!("{path}.mean_exit_time_exact"))?;
                    // `null` where no formula applies: not a certified quantity.
                    if e.is_some() {
                        r.certified.push((format!("exact E[τ] ({label})"), e));
                    }
                }
                if get(p, "dt_check").is_some() {
                    r.dt_check = true;
                }
            }
        }
        None => r.missing.push("monte_carlo".into()),
    }
    Ok(r)
}

/// The status of one compared item, from harmless to fatal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Bit for bit the same.
    Same,
    /// Changed, but compatible with the baseline.
    Ok,
    /// Only in the new report (or newly certified).
    New,
    /// Compatible, but worth a look (a certified enclosure widened).
    Warning,
    /// A regression: exit code 1.
    Regression,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Same => "same",
            Status::Ok => "ok",
            Status::New => "new",
            Status::Warning => "warning",
            Status::Regression => "REGRESSION",
        }
    }
}

/// What a row of the diff table compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A claim (verdict, certified side, estimate).
    Claim,
    /// A certified quantity without an estimate.
    Certified,
    /// A sweep point's mean exit time.
    Estimate,
    /// A key of the report as a whole (present in the baseline, missing now).
    Section,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Claim => "claim",
            Kind::Certified => "certified",
            Kind::Estimate => "estimate",
            Kind::Section => "section",
        }
    }
}

/// One line of the diff table.
#[derive(Clone, Debug)]
pub struct Row {
    pub kind: Kind,
    pub item: String,
    pub baseline: String,
    pub new: String,
    pub status: Status,
    pub detail: String,
}

/// The result of a comparison.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    pub rows: Vec<Row>,
    /// Differences of settings, format notes and keys not compared.
    pub notes: Vec<String>,
}

impl Comparison {
    pub fn count(&self, s: Status) -> usize {
        self.rows.iter().filter(|r| r.status == s).count()
    }
    pub fn regressions(&self) -> usize {
        self.count(Status::Regression)
    }
    /// The exit code of `escapecert check`: 1 on any regression, else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.regressions() > 0)
    }

    /// The diff table, the notes and a one-line summary.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        let w_item = self
            .rows
            .iter()
            .map(|r| r.item.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let w_b = self
            .rows
            .iter()
            .map(|r| r.baseline.chars().count())
            .max()
            .unwrap_or(8)
            .max(8);
        let w_n = self
            .rows
            .iter()
            .filter(|r| r.status != Status::Same)
            .map(|r| r.new.chars().count())
            .max()
            .unwrap_or(3)
            .max(3);
        let pad =
            |t: &str, w: usize| format!("{t}{}", " ".repeat(w.saturating_sub(t.chars().count())));
        let _ = writeln!(
            s,
            "{} {} {} {} {} detail",
            pad("status", 10),
            pad("kind", 9),
            pad("item", w_item),
            pad("baseline", w_b),
            pad("new", w_n)
        );
        for r in &self.rows {
            let new = if r.status == Status::Same {
                "="
            } else {
                &r.new
            };
            let _ = writeln!(
                s,
                "{} {} {} {} {} {}",
                pad(r.status.as_str(), 10),
                pad(r.kind.as_str(), 9),
                pad(&r.item, w_item),
                pad(&r.baseline, w_b),
                pad(new, w_n),
                r.detail
            );
        }
        let n = self.rows.len();
        let k = self.regressions();
        if k == 0 {
            let _ = writeln!(
                s,
                "check: no regression ({n} items compared: {} same, {} ok, {} new, {} warning(s))",
                self.count(Status::Same),
                self.count(Status::Ok),
                self.count(Status::New),
                self.count(Status::Warning)
            );
        } else {
            let items: Vec<&str> = self
                .rows
                .iter()
                .filter(|r| r.status == Status::Regression)
                .map(|r| r.item.as_str())
                .collect();
            let _ = writeln!(
                s,
                "check: REGRESSION in {k} of {n} items: {}",
                items.join("; ")
            );
        }
        s
    }
}

/// Options of the comparison.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// A certified enclosure wider than (1 + this) × the baseline's width is a warning.
    pub width_tolerance: f64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            width_tolerance: DEFAULT_WIDTH_TOLERANCE,
        }
    }
}

/// Shortest round-trip decimal, so that a printed difference is a real one.
fn f(x: f64) -> String {
    format!("{x}")
}

fn fmt_encl(e: &Option<Enclosure>) -> String {
    match e {
        Some(e) => format!("[{}, {}]", f(e.lo), f(e.hi)),
        None => "not certified".into(),
    }
}

fn fmt_est(e: &Est) -> String {
    format!("{} [{}, {}] @{}", f(e.estimate), f(e.lo), f(e.hi), e.level)
}

fn verdict_rank(v: &str) -> Option<u8> {
    match v {
        "PASS" => Some(2),
        "INCONCLUSIVE" => Some(1),
        "FAIL" => Some(0),
        _ => None,
    }
}

fn same_encl(a: &Enclosure, b: &Enclosure) -> bool {
    a.lo.to_bits() == b.lo.to_bits() && a.hi.to_bits() == b.hi.to_bits()
}

/// A widening warning, if the new enclosure is wider than the baseline's by more than the
/// relative tolerance (plus a few ulps of the magnitude, so that point enclosures of width
/// 1e-16 do not warn on a one-ulp change).
fn widening(old: &Enclosure, new: &Enclosure, tol: f64) -> Option<String> {
    let (wo, wn) = (old.width(), new.width());
    if wn.is_nan() || wo.is_nan() {
        return None;
    }
    if wn.is_infinite() && wo.is_finite() {
        return Some("the enclosure became unbounded".into());
    }
    let slack = WIDTH_ULP_SLACK * f64::EPSILON * old.lo.abs().max(old.hi.abs());
    if wo.is_finite() && wn > wo * (1.0 + tol) + slack {
        let rel = if wo > 0.0 {
            format!("{:.3}×", wn / wo)
        } else {
            "from a point".into()
        };
        return Some(format!(
            "wider than the baseline's (width {wo:.3e} → {wn:.3e}, {rel}; tolerance {:.0} %)",
            tol * 100.0
        ));
    }
    None
}

/// The estimate test: each point estimate must lie in the other run's interval.
fn estimate_moved(old: &Est, new: &Est) -> Option<String> {
    let mut why = Vec::new();
    if !old.contains(new.estimate) {
        why.push(format!(
            "the new estimate {} lies outside the baseline's interval [{}, {}] (level {})",
            f(new.estimate),
            f(old.lo),
            f(old.hi),
            old.level
        ));
    }
    if !new.contains(old.estimate) {
        why.push(format!(
            "the baseline's estimate {} lies outside the new interval [{}, {}] (level {})",
            f(old.estimate),
            f(new.lo),
            f(new.hi),
            new.level
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// The baseline's point of agreement of a claim: the midpoint of the overlap of its
/// certified and estimated intervals (a finite end where the overlap is unbounded).
pub fn point_of_agreement(certified: &Enclosure, estimated: &Est) -> Option<f64> {
    let lo = certified.lo.max(estimated.lo);
    let hi = certified.hi.min(estimated.hi);
    if !(lo <= hi) {
        return None;
    }
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) => Some(lo + 0.5 * (hi - lo)),
        (true, false) => Some(lo),
        (false, true) => Some(hi),
        (false, false) => None,
    }
}

fn compare_claim(old: &ClaimView, new: &ClaimView, tol: f64) -> Row {
    let mut status = Status::Same;
    let mut detail: Vec<String> = Vec::new();
    let mut raise = |s: Status, d: String, status: &mut Status| {
        *status = (*status).max(s);
        detail.push(d);
    };
    let changed = old != new;
    if changed {
        status = Status::Ok;
    }
    match (verdict_rank(&old.verdict), verdict_rank(&new.verdict)) {
        (Some(a), Some(b)) if b < a => raise(
            Status::Regression,
            format!("verdict got worse: {} → {}", old.verdict, new.verdict),
            &mut status,
        ),
        (Some(a), Some(b)) if b > a => raise(
            Status::Ok,
            format!("verdict improved: {} → {}", old.verdict, new.verdict),
            &mut status,
        ),
        (_, None) => raise(
            Status::Regression,
            format!("unknown verdict {:?} in the new report", new.verdict),
            &mut status,
        ),
        _ => {}
    }
    // The certified side.
    match (&old.certified, &new.certified) {
        (Some(oc), Some(nc)) => {
            let agreement = old
                .estimated
                .as_ref()
                .and_then(|e| point_of_agreement(oc, e));
            match agreement {
                Some(p) if !nc.contains(p) => raise(
                    Status::Regression,
                    format!(
                        "the new certified interval {} does not contain the baseline's point of agreement {}",
                        fmt_encl(&Some(*nc)),
                        f(p)
                    ),
                    &mut status,
                ),
                None if !oc.intersects(nc) => raise(
                    Status::Regression,
                    format!(
                        "the certified intervals are disjoint: baseline {}, new {}",
                        fmt_encl(&Some(*oc)),
                        fmt_encl(&Some(*nc))
                    ),
                    &mut status,
                ),
                _ => {}
            }
            if let Some(w) = widening(oc, nc, tol) {
                raise(Status::Warning, format!("certified side {w}"), &mut status);
            }
        }
        (Some(_), None) => raise(
            Status::Regression,
            "the certified side disappeared".into(),
            &mut status,
        ),
        (None, Some(_)) => raise(Status::Ok, "now has a certified side".into(), &mut status),
        (None, None) => {}
    }
    // The estimated side.
    match (&old.estimated, &new.estimated) {
        (Some(oe), Some(ne)) if !oe.same(ne) => {
            if let Some(why) = estimate_moved(oe, ne) {
                raise(
                    Status::Regression,
                    format!("estimate moved: {why}"),
                    &mut status,
                );
            }
        }
        (Some(_), None) => raise(
            Status::Regression,
            "the estimate disappeared".into(),
            &mut status,
        ),
        _ => {}
    }
    if changed && detail.is_empty() {
        detail.push("changed within what the baseline allows".into());
    }
    Row {
        kind: Kind::Claim,
        item: old.id.clone(),
        baseline: claim_summary(old),
        new: claim_summary(new),
        status,
        detail: detail.join("; "),
    }
}

fn claim_summary(c: &ClaimView) -> String {
    match &c.estimated {
        Some(e) => format!("{} ({})", c.verdict, f(e.estimate)),
        None => c.verdict.clone(),
    }
}

fn compare_certified(
    name: &str,
    old: &Option<Enclosure>,
    new: &Option<Enclosure>,
    tol: f64,
) -> Row {
    let (status, detail) = match (old, new) {
        (Some(o), Some(n)) if same_encl(o, n) => (Status::Same, String::new()),
        (Some(o), Some(n)) if !o.intersects(n) => (
            Status::Regression,
            "the enclosures are disjoint: one of the two runs is wrong".into(),
        ),
        (Some(o), Some(n)) => match widening(o, n, tol) {
            Some(w) => (Status::Warning, w),
            None => (Status::Ok, "the enclosures intersect".into()),
        },
        (Some(_), None) => (Status::Regression, "no longer certified".into()),
        (None, Some(_)) => (Status::New, "now certified".into()),
        (None, None) => (Status::Same, String::new()),
    };
    Row {
        kind: Kind::Certified,
        item: name.into(),
        baseline: fmt_encl(old),
        new: fmt_encl(new),
        status,
        detail,
    }
}

fn compare_estimate(name: &str, old: &Est, new: &Est) -> Row {
    let (status, detail) = if old.same(new) {
        (Status::Same, String::new())
    } else {
        match estimate_moved(old, new) {
            Some(why) => (Status::Regression, format!("estimate moved: {why}")),
            None => (
                Status::Ok,
                "each estimate lies in the other's interval".into(),
            ),
        }
    };
    Row {
        kind: Kind::Estimate,
        item: name.into(),
        baseline: fmt_est(old),
        new: fmt_est(new),
        status,
        detail,
    }
}

/// Refuses a baseline of another problem: the spec name, and (where the baseline states
/// them) the landscape, dimension, domain and noise must agree.
pub fn same_problem(base: &ReportView, new: &ReportView) -> Result<(), String> {
    if base.spec_name != new.spec_name {
        return Err(format!(
            "the baseline is a report of spec {:?}, the spec is {:?}",
            base.spec_name, new.spec_name
        ));
    }
    for (k, b) in &base.problem {
        if let Some((_, n)) = new.problem.iter().find(|(kn, _)| kn == k) {
            if n != b {
                return Err(format!(
                    "problem.{k} is {b:?} in the baseline and {n:?} for the spec"
                ));
            }
        }
    }
    Ok(())
}

/// Takes the first not-yet-used entry named `name`.
fn take<'a, T>(list: &'a [(String, T)], used: &mut [bool], name: &str) -> Option<&'a T> {
    let i = list
        .iter()
        .enumerate()
        .position(|(i, (n, _))| !used[i] && n == name)?;
    used[i] = true;
    Some(&list[i].1)
}

/// Compares a new report with its baseline.
pub fn compare(base: &ReportView, new: &ReportView, opts: &CheckOptions) -> Comparison {
    let tol = opts.width_tolerance;
    let mut c = Comparison::default();
    if base.format_version != new.format_version {
        c.notes.push(format!(
            "the baseline is report format {}, this tool writes format {}: the keys both have are compared",
            base.format_version, new.format_version
        ));
    }
    for k in &base.missing {
        if !new.missing.contains(k) {
            c.notes
                .push(format!("the baseline has no `{k}`: not compared"));
        }
    }
    // A key the baseline has and the new report lacks would otherwise compare nothing and
    // pass silently (e.g. after a format change that moved it): a regression, by name.
    for k in &new.missing {
        if !base.missing.contains(k) {
            c.rows.push(Row {
                kind: Kind::Section,
                item: format!("`{k}`"),
                baseline: "present".into(),
                new: "—".into(),
                status: Status::Regression,
                detail: format!(
                    "the new report (format {}) has no `{k}`: not compared",
                    new.format_version
                ),
            });
        }
    }
    for (k, b) in &base.settings {
        match new.settings.iter().find(|(kn, _)| kn == k) {
            Some((_, n)) if n != b => c.notes.push(format!(
                "{k} changed: {b} → {n} (results are not reproduced bit for bit; see the false-alarm rate of the estimate test in the README)"
            )),
            _ => {}
        }
    }

    // Claims.
    match (&base.claims, &new.claims) {
        (Some(bc), Some(nc)) => {
            let mut used = vec![false; nc.len()];
            for o in bc {
                let hit = nc
                    .iter()
                    .enumerate()
                    .position(|(i, n)| !used[i] && n.id == o.id);
                match hit {
                    Some(i) => {
                        used[i] = true;
                        c.rows.push(compare_claim(o, &nc[i], tol));
                    }
                    None => c.rows.push(Row {
                        kind: Kind::Claim,
                        item: o.id.clone(),
                        baseline: claim_summary(o),
                        new: "—".into(),
                        status: Status::Regression,
                        detail: "the claim disappeared".into(),
                    }),
                }
            }
            for (i, n) in nc.iter().enumerate().filter(|(i, _)| !used[*i]) {
                let _ = i;
                let fail = n.verdict == "FAIL";
                c.rows.push(Row {
                    kind: Kind::Claim,
                    item: n.id.clone(),
                    baseline: "—".into(),
                    new: claim_summary(n),
                    status: if fail {
                        Status::Regression
                    } else {
                        Status::New
                    },
                    detail: if fail {
                        "a new claim that FAILs".into()
                    } else {
                        "a new claim".into()
                    },
                });
            }
        }
        _ => {}
    }

    // Certified quantities.
    let mut used = vec![false; new.certified.len()];
    for (name, o) in &base.certified {
        match take(&new.certified, &mut used, name) {
            Some(n) => c.rows.push(compare_certified(name, o, n, tol)),
            None => {
                let row = compare_certified(name, o, &None, tol);
                c.rows.push(Row {
                    new: "—".into(),
                    detail: if o.is_some() {
                        "not in the new report".into()
                    } else {
                        row.detail.clone()
                    },
                    ..row
                });
            }
        }
    }
    for (i, (name, n)) in new.certified.iter().enumerate() {
        if !used[i] {
            c.rows.push(Row {
                kind: Kind::Certified,
                item: name.clone(),
                baseline: "—".into(),
                new: fmt_encl(n),
                status: Status::New,
                detail: "not in the baseline".into(),
            });
        }
    }

    // Estimates.
    let mut used = vec![false; new.estimates.len()];
    for (name, o) in &base.estimates {
        match take(&new.estimates, &mut used, name) {
            Some(n) => c.rows.push(compare_estimate(name, o, n)),
            None => c.rows.push(Row {
                kind: Kind::Estimate,
                item: name.clone(),
                baseline: fmt_est(o),
                new: "—".into(),
                status: Status::Regression,
                detail: "the sweep point disappeared".into(),
            }),
        }
    }
    for (i, (name, n)) in new.estimates.iter().enumerate() {
        if !used[i] {
            c.rows.push(Row {
                kind: Kind::Estimate,
                item: name.clone(),
                baseline: "—".into(),
                new: fmt_est(n),
                status: Status::New,
                detail: "not in the baseline".into(),
            });
        }
    }
    c
}

/// Re-runs `spec` as `verify` does (with `--check-dt` if the baseline had it), refuses a
/// baseline of another problem, writes the new report to `out` if given, and compares.
pub fn check(
    spec: &Spec,
    base: &Baseline,
    quiet: bool,
    out: Option<&Path>,
    opts: &CheckOptions,
) -> Result<(Comparison, Report), CheckError> {
    let other = |problem: String| CheckError::OtherSpec {
        file: base.file.clone(),
        spec: spec.file.clone(),
        problem,
    };
    if base.view.spec_name != spec.name {
        return Err(other(format!(
            "the baseline is a report of spec {:?}, the spec is {:?}",
            base.view.spec_name, spec.name
        )));
    }
    let rep = run::verify(
        spec,
        &Options {
            quiet,
            check_dt: base.view.dt_check,
        },
    )?;
    let new = view_of_report(&rep).map_err(|problem| CheckError::Baseline {
        file: PathBuf::from("(the new report)"),
        problem,
    })?;
    same_problem(&base.view, &new).map_err(other)?;
    if let Some(out) = out {
        report::write(out, &rep)?;
    }
    Ok((compare(&base.view, &new, opts), rep))
}
