//! Tabular data sets for data losses (THEORY §1: L(θ) = (1/N) Σ_i ℓ(θ; z_i)): CSV files
//! given by path, and real data sets shipped by the `linfa-datasets` crate.
//!
//! A CSV file has a header row of column names, then one row per example, every cell a
//! number. Errors name the file and, where there is one, the line (the header is line 1)
//! and the column.

use std::path::{Path, PathBuf};
use thiserror::Error;

/// A bad data file: what is wrong and where.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DatasetError {
    #[error("{}: cannot read the file: {reason}", file.display())]
    Unreadable { file: PathBuf, reason: String },
    #[error("{}: the file is empty (expected a header row of column names, then one row of numbers per example)", file.display())]
    Empty { file: PathBuf },
    #[error("{}: the file has a header row but no data rows", file.display())]
    NoRows { file: PathBuf },
    #[error("{}: line {line}: {got} cells, but the header has {expected} columns (ragged rows)", file.display())]
    Ragged {
        file: PathBuf,
        line: u64,
        expected: usize,
        got: usize,
    },
    #[error("{}: line {line}, column {column} (`{name}`): `{cell}` is not a finite number", file.display())]
    NonNumeric {
        file: PathBuf,
        line: u64,
        column: usize,
        name: String,
        cell: String,
    },
    #[error("{}: no column named `{target}` (the columns are: {columns})", file.display())]
    MissingTarget {
        file: PathBuf,
        target: String,
        columns: String,
    },
    #[error("{}: {problem}", file.display())]
    Invalid { file: PathBuf, problem: String },
}

/// A real data set a crate ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shipped {
    /// Red wine quality (Cortez, Cerdeira, Almeida, Matos & Reis, Decision Support Systems
    /// 47, 2009; UCI Machine Learning Repository, CC BY 4.0): 1599 wines, 11
    /// physico-chemical features, target the quality score 3…8. From `linfa-datasets` 0.8.1.
    WineQuality,
    /// Diabetes (Efron, Hastie, Johnstone & Tibshirani, Annals of Statistics 32, 2004):
    /// 10 baseline features (centred and scaled by the source), target a measure of disease
    /// progression one year later. From `linfa-datasets` 0.8.1, which reads the first of the
    /// 442 rows as a header, so 441 rows.
    Diabetes,
}

impl Shipped {
    /// The spec name (`dataset = "…"`).
    pub fn name(self) -> &'static str {
        match self {
            Shipped::WineQuality => "winequality",
            Shipped::Diabetes => "diabetes",
        }
    }

    /// Parses a spec name.
    pub fn from_name(s: &str) -> Option<Shipped> {
        match s {
            "winequality" => Some(Shipped::WineQuality),
            "diabetes" => Some(Shipped::Diabetes),
            _ => None,
        }
    }

    /// The names accepted by [`Shipped::from_name`], for messages.
    pub const NAMES: &'static str = "\"winequality\" or \"diabetes\"";
}

/// Where a data set comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// A CSV file (path as resolved: relative paths in a spec are taken relative to the
    /// spec file's folder).
    Csv(PathBuf),
    /// A shipped data set.
    Shipped(Shipped),
}

/// A numeric table: N examples, p features and one target, all binary64.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Where it came from, for messages and reports.
    pub source: String,
    pub feature_names: Vec<String>,
    pub target_name: String,
    /// Features, row-major N×p.
    pub x: Vec<f64>,
    /// Targets, N.
    pub y: Vec<f64>,
}

impl Dataset {
    /// Number of examples N.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Number of features p.
    pub fn features(&self) -> usize {
        self.feature_names.len()
    }

    /// Loads a data set; `target` names the target column of a CSV file (default: the
    /// last column). Shipped data sets have a fixed target.
    pub fn load(source: &DataSource, target: Option<&str>) -> Result<Dataset, DatasetError> {
        match source {
            DataSource::Csv(path) => Dataset::from_csv(path, target),
            DataSource::Shipped(s) => Ok(Dataset::shipped(*s)),
        }
    }

    /// A shipped data set.
    pub fn shipped(s: Shipped) -> Dataset {
        match s {
            Shipped::WineQuality => {
                let ds = linfa_datasets::winequality();
                let names = ds.feature_names().iter().map(|n| n.to_string()).collect();
                Dataset {
                    source: "winequality (red wine quality, Cortez et al. 2009, via linfa-datasets 0.8.1)".into(),
                    feature_names: names,
                    target_name: "quality".into(),
                    x: ds.records().iter().copied().collect(),
                    y: ds.targets().iter().map(|&q| q as f64).collect(),
                }
            }
            Shipped::Diabetes => {
                let ds = linfa_datasets::diabetes();
                let names = ds.feature_names().iter().map(|n| n.to_string()).collect();
                Dataset {
                    source: "diabetes (Efron et al. 2004, via linfa-datasets 0.8.1)".into(),
                    feature_names: names,
                    target_name: "progression".into(),
                    x: ds.records().iter().copied().collect(),
                    y: ds.targets().iter().copied().collect(),
                }
            }
        }
    }

    /// Reads a CSV file with a header row; every cell must be a finite number.
    pub fn from_csv(path: &Path, target: Option<&str>) -> Result<Dataset, DatasetError> {
        let file = path.to_path_buf();
        let bytes = std::fs::read(path).map_err(|e| DatasetError::Unreadable {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(DatasetError::Empty { file });
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes.as_slice());
        let csv_err = |e: csv::Error| {
            let at = e
                .position()
                .map(|p| format!("line {}: ", p.line()))
                .unwrap_or_default();
            DatasetError::Unreadable {
                file: path.to_path_buf(),
                reason: format!("{at}{e}"),
            }
        };
        let header: Vec<String> = reader
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(|s| s.to_string())
            .collect();
        if header.is_empty() || header.iter().all(|h| h.is_empty()) {
            return Err(DatasetError::Empty { file });
        }
        if header.len() < 2 {
            return Err(DatasetError::Invalid {
                file,
                problem: format!(
                    "the header has {} column; a data set needs at least one feature and a target",
                    header.len()
                ),
            });
        }
        let t = match target {
            Some(name) => header.iter().position(|h| h == name).ok_or_else(|| {
                DatasetError::MissingTarget {
                    file: file.clone(),
                    target: name.to_string(),
                    columns: header
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?,
            None => header.len() - 1,
        };
        let p = header.len() - 1;
        let mut x = Vec::new();
        let mut y = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(csv_err)?;
            let line = rec.position().map_or(0, |p| p.line());
            // A blank line is skipped by the reader; a line of only commas is not data.
            if rec.len() != header.len() {
                return Err(DatasetError::Ragged {
                    file,
                    line,
                    expected: header.len(),
                    got: rec.len(),
                });
            }
            for (j, cell) in rec.iter().enumerate() {
                let v: f64 = match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() => v,
                    _ => {
                        return Err(DatasetError::NonNumeric {
                            file,
                            line,
                            column: j + 1,
                            name: header[j].clone(),
                            cell: cell.to_string(),
                        })
                    }
                };
                if j == t {
                    y.push(v);
                } else {
                    x.push(v);
                }
            }
        }
        if y.is_empty() {
            return Err(DatasetError::NoRows { file });
        }
        debug_assert_eq!(x.len(), y.len() * p);
        Ok(Dataset {
            source: path.display().to_string(),
            feature_names: header
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != t)
                .map(|(_, h)| h.clone())
                .collect(),
            target_name: header[t].clone(),
            x,
            y,
        })
    }

    /// Keeps a uniformly random subset of `n` rows (in their original order), drawn with a
    /// fixed generator (xoshiro256++ seeded from 0) so that the subset is reproducible.
    /// Does nothing when `n ≥ N`.
    pub fn subsample(&mut self, n: usize) {
        use rand::{Rng, SeedableRng};
        let total = self.rows();
        if n >= total {
            return;
        }
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0);
        let mut idx: Vec<usize> = (0..total).collect();
        for j in 0..n {
            let k = j + rng.random_range(0..(total - j) as u64) as usize;
            idx.swap(j, k);
        }
        let mut keep = idx[..n].to_vec();
        keep.sort_unstable();
        let p = self.features();
        let x = keep
            .iter()
            .flat_map(|&i| self.x[i * p..(i + 1) * p].iter().copied())
            .collect();
        let y = keep.iter().map(|&i| self.y[i]).collect();
        self.x = x;
        self.y = y;
        self.source = format!("{} ({n} of {total} rows)", self.source);
    }
}
