//! Checkpoints of a `verify` run, so that an interrupted run (Ctrl-C, SIGTERM, a kill, a
//! wall-clock limit) continues with `verify --resume` to exactly the report of an
//! uninterrupted run.
//!
//! Layout: `OUT/checkpoint/manifest.json` names the run (tool version, spec text and its
//! hash, seed, `--check-dt`, the problem fingerprint); every finished chunk of
//! trajectories is one file `OUT/checkpoint/p<point>-<run>-n<trials>-<k>of<n>.json`
//! holding its [`SimResult`] (outcomes of trajectories k, k+n, k+2n, … of that run of
//! that sweep point: a [`Shard`]). Every file is written atomically (a temporary file in
//! the same folder, fsync, rename), so a kill at any moment leaves only whole files.
//!
//! Why the resumed report is the same: trajectory i of a run depends only on (the
//! point's seed, i) (src/simulate/mod.rs), and [`crate::simulate::merge_results`]
//! combines the chunks of a run into exactly the unchunked [`SimResult`]; the statistics,
//! claims and report are a function of those results and the spec alone.

use crate::report::{self, json, ReportError};
use crate::run::RunError;
use crate::simulate::splitting::{Coordinate, SplittingConfig, SplittingEstimate};
use crate::simulate::{Shard, SimConfig, SimResult};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The checkpoint folder's name under the output folder.
pub const DIR_NAME: &str = "checkpoint";
/// The checkpoint format version. Bump on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;
/// Trajectories per chunk: a run of `trials` trajectories is simulated as
/// ⌈trials / CHUNK_TRIALS⌉ shards, each checkpointed when it finishes. Large enough that
/// the lanes stay full and a chunk's tail (waiting for its slowest trajectory) costs a few
/// percent; a kill loses at most the chunks that were running.
pub const CHUNK_TRIALS: usize = 4096;

/// What identifies a run: checkpoints ([`Manifest`]) and shard files
/// ([`crate::run::ShardFile`]) carry it, and `verify --resume` and `merge` compare it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub tool: json::Tool,
    /// The spec path as given to `verify` (report.json's `problem.spec_file`).
    pub spec_file: String,
    /// FNV-1a 64 of `spec_text` ([`crate::run::spec_hash`]).
    pub spec_hash: String,
    /// The spec file's text (a shard file needs nothing else to be merged).
    pub spec_text: String,
    /// `[monte_carlo] seed`.
    pub seed: u64,
    /// Whether the `--check-dt` reruns are part of the run.
    pub check_dt: bool,
    /// Fingerprint of the landscapes, domains and noise models simulated (a data file
    /// that changed under the same spec text changes it).
    pub problem: String,
}

/// A field in which two run identities differ: what it is, and its two values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub what: &'static str,
    pub this: String,
    pub other: String,
}

impl RunIdentity {
    /// The identity of a run of this tool.
    pub fn new(
        spec_file: &Path,
        spec_text: &str,
        seed: u64,
        check_dt: bool,
        problem: String,
    ) -> Self {
        RunIdentity {
            tool: json::Tool {
                name: "escapecert".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            spec_file: spec_file.display().to_string(),
            spec_hash: crate::run::spec_hash(spec_text),
            spec_text: spec_text.to_string(),
            seed,
            check_dt,
            problem,
        }
    }

    /// The first field in which `self` and `other` differ, in the order tool version, spec
    /// hash, seed, `--check-dt`, problem (`None`: the same run). The spec path may differ
    /// (a moved folder); the text is covered by its hash.
    pub fn difference(&self, other: &RunIdentity) -> Option<Difference> {
        let d = |what, this: String, other: String| Some(Difference { what, this, other });
        if self.tool != other.tool {
            return d(
                "the escapecert version",
                format!("{} {}", self.tool.name, self.tool.version),
                format!("{} {}", other.tool.name, other.tool.version),
            );
        }
        if self.spec_hash != other.spec_hash {
            return d(
                "the spec hash",
                self.spec_hash.clone(),
                other.spec_hash.clone(),
            );
        }
        if self.seed != other.seed {
            return d("the seed", self.seed.to_string(), other.seed.to_string());
        }
        if self.check_dt != other.check_dt {
            return d(
                "--check-dt",
                on_off(self.check_dt).into(),
                on_off(other.check_dt).into(),
            );
        }
        if self.problem != other.problem {
            return d("the problem", self.problem.clone(), other.problem.clone());
        }
        None
    }
}

/// What a checkpoint belongs to: a resume must match every field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always "escapecert-checkpoint".
    pub format: String,
    pub format_version: u32,
    #[serde(flatten)]
    pub run: RunIdentity,
}

impl Manifest {
    /// The manifest of a run of this tool.
    pub fn new(run: RunIdentity) -> Self {
        Manifest {
            format: "escapecert-checkpoint".into(),
            format_version: FORMAT_VERSION,
            run,
        }
    }

    /// Why a checkpoint with manifest `self` cannot be resumed by a run whose manifest is
    /// `now` (`None`: it can).
    pub fn mismatch(&self, now: &Manifest) -> Option<String> {
        if self.format != now.format || self.format_version != now.format_version {
            return Some(format!(
                "the checkpoint has format {:?} version {}, this escapecert writes {:?} version {}",
                self.format, self.format_version, now.format, now.format_version
            ));
        }
        let Difference { what, this, other } = self.run.difference(&now.run)?;
        Some(match what {
            "the escapecert version" => format!(
                "the checkpoint was written by {this}, this is {other}: resume with the version that started the run, or start afresh without --resume"
            ),
            "the spec hash" => format!(
                "the spec changed since the checkpoint was written (spec hash {this} then, {other} now, {}): start afresh without --resume",
                now.run.spec_file
            ),
            "--check-dt" => format!(
                "--check-dt was {this} then and is {other} now: resume with the same options"
            ),
            "the problem" => format!(
                "the spec now gives another problem ({other}) than the checkpoint simulated ({this}): has a data file changed?"
            ),
            _ => format!("{what} changed ({this} then, {other} now)"),
        })
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// A checkpoint folder in use.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| {
        RunError::Report(ReportError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

impl Checkpoint {
    /// The checkpoint folder of output folder `out`.
    pub fn dir_of(out: &Path) -> PathBuf {
        out.join(DIR_NAME)
    }

    /// Starts a fresh checkpoint under `out`, removing any earlier one.
    pub fn create(out: &Path, manifest: &Manifest) -> Result<Self, RunError> {
        let dir = Self::dir_of(out);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut js = serde_json::to_string_pretty(manifest).map_err(ReportError::from)?;
        js.push('\n');
        report::write_atomic(&dir.join("manifest.json"), js.as_bytes())?;
        Ok(Checkpoint { dir })
    }

    /// Opens the checkpoint under `out` to resume the run described by `now`; errors
    /// (exit code 2) when there is none or when it belongs to another run (saying why).
    pub fn resume(out: &Path, now: &Manifest) -> Result<Self, RunError> {
        let dir = Self::dir_of(out);
        let path = dir.join("manifest.json");
        let refuse = |problem: String| RunError::Resume {
            dir: out.to_path_buf(),
            problem,
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(refuse(format!(
                    "there is no checkpoint to resume ({} does not exist): the run finished, or never started; run without --resume",
                    path.display()
                )))
            }
            Err(e) => return Err(refuse(format!("cannot read {}: {e}", path.display()))),
        };
        let old: Manifest = serde_json::from_str(&text).map_err(|e| {
            refuse(format!(
                "{} is not an escapecert checkpoint manifest (line {}, column {}: {e})",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        if crate::run::spec_hash(&old.run.spec_text) != old.run.spec_hash {
            return Err(refuse(format!(
                "{}: the recorded spec text does not have the recorded hash (the file was altered)",
                path.display()
            )));
        }
        if let Some(why) = old.mismatch(now) {
            return Err(refuse(format!("cannot resume: {why}")));
        }
        Ok(Checkpoint { dir })
    }

    /// The file of chunk `shard` of the run `kind` ("main" or "dtcheck") with `trials`
    /// trajectories of sweep point `point`.
    fn chunk_path(&self, point: usize, kind: &str, trials: usize, shard: Shard) -> PathBuf {
        self.dir.join(format!(
            "p{point:05}-{kind}-n{trials}-{}of{}.json",
            shard.index, shard.count
        ))
    }

    /// The checkpointed result of the chunk `cfg` (whose `shard` is the chunk) of sweep
    /// point `point`, if a valid one is stored: the same configuration, and outcomes that
    /// agree with its times and totals. A file that does not pass is ignored (the chunk
    /// is simulated again).
    pub fn load(&self, point: usize, kind: &str, cfg: &SimConfig) -> Option<SimResult> {
        let path = self.chunk_path(point, kind, cfg.trials, cfg.shard);
        let text = std::fs::read_to_string(path).ok()?;
        let r: SimResult = serde_json::from_str(&text).ok()?;
        let check = SimResult::from_outcomes(&r.config, r.problem.clone(), r.outcomes.clone());
        (r.config == *cfg && check == r && r.outcomes.len() == cfg.shard.len(cfg.trials))
            .then_some(r)
    }

    /// Stores a finished chunk atomically.
    pub fn save(&self, point: usize, kind: &str, result: &SimResult) -> Result<(), RunError> {
        let cfg = &result.config;
        let path = self.chunk_path(point, kind, cfg.trials, cfg.shard);
        let js = serde_json::to_string(result).map_err(ReportError::from)?;
        report::write_atomic(&path, js.as_bytes())?;
        Ok(())
    }

    /// The file of the splitting estimate of sweep point `point`.
    fn splitting_path(&self, point: usize) -> PathBuf {
        self.dir.join(format!("p{point:05}-splitting.json"))
    }

    /// The checkpointed splitting estimate of sweep point `point`, if one is stored for
    /// exactly this configuration, splitting parameters and reaction coordinate.
    pub fn load_splitting(
        &self,
        point: usize,
        cfg: &SimConfig,
        split: &SplittingConfig,
        coordinate: &Coordinate,
    ) -> Option<SplittingEstimate> {
        let text = std::fs::read_to_string(self.splitting_path(point)).ok()?;
        let s: SplittingChunk = serde_json::from_str(&text).ok()?;
        (s.config == *cfg && s.splitting == *split && s.coordinate == *coordinate)
            .then_some(s.estimate)
    }

    /// Stores a finished splitting estimate atomically.
    pub fn save_splitting(
        &self,
        point: usize,
        cfg: &SimConfig,
        split: &SplittingConfig,
        coordinate: &Coordinate,
        estimate: &SplittingEstimate,
    ) -> Result<(), RunError> {
        let chunk = SplittingChunk {
            config: cfg.clone(),
            splitting: split.clone(),
            coordinate: coordinate.clone(),
            estimate: estimate.clone(),
        };
        let js = serde_json::to_string(&chunk).map_err(ReportError::from)?;
        report::write_atomic(&self.splitting_path(point), js.as_bytes())?;
        Ok(())
    }

    /// Removes the checkpoint (after the complete report was written).
    pub fn remove(self) -> Result<(), RunError> {
        std::fs::remove_dir_all(&self.dir).map_err(io(&self.dir))
    }
}

/// A checkpointed splitting point: what it was run with, and its estimate.
#[derive(Serialize, Deserialize)]
struct SplittingChunk {
    config: SimConfig,
    splitting: SplittingConfig,
    coordinate: Coordinate,
    estimate: SplittingEstimate,
}

/// The chunks of a run of `trials` trajectories: shards k/n, n = ⌈trials/CHUNK_TRIALS⌉.
pub fn chunks(trials: usize) -> impl Iterator<Item = Shard> {
    let n = trials.div_ceil(CHUNK_TRIALS).max(1) as u64;
    (0..n).map(move |index| Shard { index, count: n })
}
