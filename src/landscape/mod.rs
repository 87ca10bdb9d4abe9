//! Loss landscapes, written once and evaluated generically over [`Scalar`]
//! (f64 for simulation, intervals for certification, duals for derivatives).

pub mod data;
pub mod dataset;
pub mod domain;
pub mod expr;
pub mod noise;
pub use data::{DataLoss, Model};
pub use dataset::{DataSource, Dataset, DatasetError, Shipped};
pub use domain::Domain;
pub use noise::NoiseModel;

use crate::num::Scalar;
pub use expr::{Scratch, Tape};
use inari::Interval;
use thiserror::Error;

/// Errors of landscape construction and domain checks.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum LandscapeError {
    #[error("expression `{expr}`: {problem}")]
    Expression { expr: String, problem: String },
    #[error("expression `{expr}` is not defined or not smooth on the domain: {problem}")]
    Undefined { expr: String, problem: String },
    #[error("{0}")]
    Invalid(String),
}

/// The Hessian of a quadratic landscape.
#[derive(Clone, Debug, PartialEq)]
pub enum QuadraticHessian {
    /// λ·I.
    Scaled(f64),
    /// A full symmetric matrix, row-major.
    Full(Vec<f64>),
}

/// A loss landscape L: R^d → R.
#[derive(Clone, Debug)]
pub enum Landscape {
    /// A user expression (see `expr.pest` for the grammar).
    Expr(Tape),
    /// L(θ) = ½ θᵀ H θ, minimum at 0 with L* = 0.
    Quadratic {
        dim: usize,
        hessian: QuadraticHessian,
    },
    /// L(θ) = ½ Σ (θ_i⁴ − 16 θ_i² + 5 θ_i).
    StyblinskiTang { dim: usize },
    /// A data loss (1/N) Σ ℓ(θ; z_i) + (λ/2)|θ|² ([`data`]).
    Data(std::sync::Arc<DataLoss>),
}

impl Landscape {
    /// Dimension d.
    pub fn dim(&self) -> usize {
        match self {
            Landscape::Expr(t) => t.dim,
            Landscape::Quadratic { dim, .. } | Landscape::StyblinskiTang { dim } => *dim,
            Landscape::Data(dl) => dl.dim(),
        }
    }

    /// A one-line description for reports.
    pub fn describe(&self) -> String {
        match self {
            Landscape::Expr(t) => format!("L(x) = {}", t.source),
            Landscape::Quadratic {
                dim,
                hessian: QuadraticHessian::Scaled(l),
            } => {
                format!("quadratic, d = {dim}, H = {l}·I")
            }
            Landscape::Quadratic { dim, .. } => format!("quadratic, d = {dim}, full Hessian"),
            Landscape::StyblinskiTang { dim } => format!("Styblinski–Tang, d = {dim}"),
            Landscape::Data(dl) => dl.describe(),
        }
    }

    /// L(x) with caller-owned scratch space.
    pub fn value_with<S: Scalar>(&self, x: &[S], scratch: &mut Scratch<S>) -> S {
        match self {
            Landscape::Expr(t) => t.value(x, scratch),
            Landscape::Quadratic { hessian, .. } => match hessian {
                QuadraticHessian::Scaled(l) => {
                    S::from_f64(0.5)
                        * S::from_f64(*l)
                        * x.iter().fold(S::zero(), |s, &v| s + v.sqr())
                }
                QuadraticHessian::Full(h) => {
                    let d = x.len();
                    let mut s = S::zero();
                    for i in 0..d {
                        let row =
                            (0..d).fold(S::zero(), |a, j| a + S::from_f64(h[i * d + j]) * x[j]);
                        s = s + x[i] * row;
                    }
                    S::from_f64(0.5) * s
                }
            },
            Landscape::StyblinskiTang { .. } => {
                let s = x.iter().fold(S::zero(), |s, &v| {
                    s + v.powi(4) - S::from_f64(16.0) * v.sqr() + S::from_f64(5.0) * v
                });
                S::from_f64(0.5) * s
            }
            Landscape::Data(dl) => dl.value(x),
        }
    }

    /// L(x).
    pub fn value<S: Scalar>(&self, x: &[S]) -> S {
        self.value_with(x, &mut Scratch::new())
    }

    /// ∇L(x) into `g`, returning L(x), with caller-owned scratch space.
    pub fn gradient_with<S: Scalar>(&self, x: &[S], g: &mut [S], scratch: &mut Scratch<S>) -> S {
        match self {
            Landscape::Expr(t) => t.gradient(x, g, scratch),
            Landscape::Quadratic { hessian, .. } => {
                match hessian {
                    QuadraticHessian::Scaled(l) => {
                        let l = S::from_f64(*l);
                        for (gi, &xi) in g.iter_mut().zip(x) {
                            *gi = l * xi;
                        }
                    }
                    QuadraticHessian::Full(h) => {
                        let d = x.len();
                        for i in 0..d {
                            g[i] =
                                (0..d).fold(S::zero(), |a, j| a + S::from_f64(h[i * d + j]) * x[j]);
                        }
                    }
                }
                // ½ xᵀHx = ½ xᵀg
                S::from_f64(0.5)
                    * x.iter()
                        .zip(g.iter())
                        .fold(S::zero(), |s, (&a, &b)| s + a * b)
            }
            Landscape::StyblinskiTang { .. } => {
                for (gi, &v) in g.iter_mut().zip(x) {
                    *gi = S::from_f64(2.0) * v.powi(3) - S::from_f64(16.0) * v + S::from_f64(2.5);
                }
                self.value_with(x, scratch)
            }
            Landscape::Data(dl) => dl.gradient(x, g),
        }
    }

    /// ∇L(x).
    pub fn gradient<S: Scalar>(&self, x: &[S], g: &mut [S]) -> S {
        self.gradient_with(x, g, &mut Scratch::new())
    }

    /// ∇²L(x), row-major d×d.
    pub fn hessian<S: Scalar>(&self, x: &[S], h: &mut [S]) {
        let d = self.dim();
        match self {
            Landscape::Expr(t) => t.hessian(x, h),
            Landscape::Quadratic { hessian, .. } => {
                for i in 0..d {
                    for j in 0..d {
                        h[i * d + j] = S::from_f64(match hessian {
                            QuadraticHessian::Scaled(l) => {
                                if i == j {
                                    *l
                                } else {
                                    0.0
                                }
                            }
                            QuadraticHessian::Full(m) => m[i * d + j],
                        });
                    }
                }
            }
            Landscape::StyblinskiTang { .. } => {
                for i in 0..d {
                    for j in 0..d {
                        h[i * d + j] = if i == j {
                            S::from_f64(6.0) * x[i].sqr() - S::from_f64(16.0)
                        } else {
                            S::zero()
                        };
                    }
                }
            }
            Landscape::Data(dl) => dl.hessian(x, h),
        }
    }

    /// Checks that L is defined and C² on the box `bx` (only expressions can fail).
    pub fn check_domain(&self, bx: &[Interval]) -> Result<(), LandscapeError> {
        match self {
            Landscape::Expr(t) => t.check_domain(bx),
            _ => Ok(()),
        }
    }

    /// A known exact minimiser, for built-ins whose minimum is known in closed form.
    pub fn known_minimizer(&self) -> Option<Vec<f64>> {
        match self {
            Landscape::Quadratic { dim, .. } => Some(vec![0.0; *dim]),
            _ => None,
        }
    }
}

/// The Müller–Brown potential (Müller & Brown, Theor. Chim. Acta 53, 1979):
/// Σ_k A_k exp(a_k (x−x_k)² + b_k (x−x_k)(y−y_k) + c_k (y−y_k)²) with
/// A = (−200, −100, −170, 15), a = (−1, −1, −6.5, 0.7), b = (0, 0, 11, 0.6),
/// c = (−10, −10, −6.5, 0.7), x_k = (1, 0, −0.5, −1), y_k = (0, 0.5, 1.5, 1); x = x1, y = x2.
/// Built as an expression so that its decimal constants are enclosed rigorously.
pub const MULLER_BROWN: &str = "-200*exp(-(x1-1)^2 - 10*x2^2) \
    - 100*exp(-x1^2 - 10*(x2-0.5)^2) \
    - 170*exp(-6.5*(x1+0.5)^2 + 11*(x1+0.5)*(x2-1.5) - 6.5*(x2-1.5)^2) \
    + 15*exp(0.7*(x1+1)^2 + 0.6*(x1+1)*(x2-1) + 0.7*(x2-1)^2)";

/// Iteration cap of the full-batch optimiser for data losses.
pub const DATA_MAX_ITER: usize = 200;

/// Loads and prepares the data loss of `[landscape] kind = "data"`; errors name the key.
fn data_loss(
    f: &std::path::Path,
    ds: &crate::spec::DataSpec,
) -> Result<DataLoss, crate::spec::SpecError> {
    use crate::spec::SpecError;
    let key = match ds.source {
        DataSource::Csv(_) => "landscape.data",
        DataSource::Shipped(_) => "landscape.dataset",
    };
    let mut table = Dataset::load(&ds.source, ds.target.as_deref()).map_err(|e| {
        let k = if matches!(e, DatasetError::MissingTarget { .. }) {
            "landscape.target"
        } else {
            key
        };
        SpecError::new(f, k, e.to_string())
    })?;
    if let Some(n) = ds.rows {
        table.subsample(n);
    }
    let prep = data::Preparation {
        standardize: ds.standardize,
        threshold: ds.threshold,
    };
    DataLoss::new(ds.model, table, ds.l2, &prep)
        .map_err(|(what, problem)| SpecError::new(f, &format!("landscape.{what}"), problem))
}

/// The landscape and start guess a spec describes (dimensions checked).
#[derive(Clone, Debug)]
pub struct Problem {
    pub landscape: Landscape,
    /// The gradient-noise covariance model.
    pub noise: NoiseModel,
    /// Guess for the minimiser (`minimum.guess`, or the known minimiser of a built-in).
    pub guess: Vec<f64>,
}

impl Problem {
    /// Builds the landscape of a validated spec; errors name the spec key.
    pub fn from_spec(spec: &crate::spec::Spec) -> Result<Problem, crate::spec::SpecError> {
        use crate::spec::{LandscapeSpec, SpecError};
        let f = spec.file.as_path();
        let landscape = match &spec.landscape {
            LandscapeSpec::Expr { expr, dim } => {
                let tape = Tape::parse(expr, *dim)
                    .map_err(|e| SpecError::new(f, "landscape.expr", e.to_string()))?;
                Landscape::Expr(tape)
            }
            LandscapeSpec::Quadratic {
                dim,
                sharpness,
                hessian,
            } => Landscape::Quadratic {
                dim: *dim,
                hessian: match (sharpness, hessian) {
                    (Some(l), _) => QuadraticHessian::Scaled(*l),
                    (None, Some(h)) => QuadraticHessian::Full(h.clone()),
                    (None, None) => unreachable!("validated by the spec"),
                },
            },
            LandscapeSpec::StyblinskiTang { dim } => Landscape::StyblinskiTang { dim: *dim },
            LandscapeSpec::MullerBrown => Landscape::Expr(
                Tape::parse(MULLER_BROWN, Some(2))
                    .expect("the built-in Müller–Brown expression parses"),
            ),
            LandscapeSpec::Data(ds) => Landscape::Data(std::sync::Arc::new(data_loss(f, ds)?)),
        };
        let d = landscape.dim();
        let guess = match (&spec.guess, landscape.known_minimizer(), &landscape) {
            (Some(g), _, _) if g.len() != d => g.clone(), // reported below
            // A data loss: the full-batch optimiser from the guess or the default start;
            // the certify stage proves (or refutes) a minimum near its result.
            (g, _, Landscape::Data(dl)) => {
                let init = g.clone().unwrap_or_else(|| dl.default_init());
                dl.minimize(&init, DATA_MAX_ITER).0
            }
            (Some(g), _, _) => g.clone(),
            (None, Some(k), _) => k,
            (None, None, _) => {
                return Err(SpecError::new(
                    f,
                    "minimum.guess",
                    "is required for this landscape",
                ))
            }
        };
        if guess.len() != d {
            return Err(SpecError::new(
                f,
                "minimum.guess",
                format!(
                    "has {} entries but the landscape has dimension {d}",
                    guess.len()
                ),
            ));
        }
        for (i, p) in spec.monte_carlo.starts.iter().enumerate() {
            if p.len() != d {
                return Err(SpecError::new(
                    f,
                    &format!("monte_carlo.start[{i}]"),
                    format!(
                        "has {} entries but the landscape has dimension {d}",
                        p.len()
                    ),
                ));
            }
        }
        if let crate::spec::DomainSpec::Interval { .. } = spec.domain {
            if d != 1 {
                return Err(SpecError::new(
                    f,
                    "domain.kind",
                    format!("\"interval\" is for 1-D landscapes; this one has dimension {d} (use \"ball\")"),
                ));
            }
        }
        if let crate::spec::DomainSpec::Box { lo, .. } = &spec.domain {
            if lo.len() != d {
                return Err(SpecError::new(
                    f,
                    "domain.lo",
                    format!(
                        "has {} entries but the landscape has dimension {d} (one per coordinate)",
                        lo.len()
                    ),
                ));
            }
        }
        let noise = match &spec.noise {
            crate::spec::NoiseSpec::Isotropic { sigma } => NoiseModel::Isotropic { sigma: *sigma },
            crate::spec::NoiseSpec::Constant { cov } => {
                if cov.len() != d {
                    return Err(SpecError::new(
                        f,
                        "noise.cov",
                        format!("is {0}×{0} but the landscape has dimension {d}", cov.len()),
                    ));
                }
                let flat: Vec<f64> = cov.iter().flatten().copied().collect();
                // Positive definiteness in f64 (Cholesky) as an input check; (H2) is
                // certified later in interval arithmetic.
                if nalgebra::DMatrix::from_row_slice(d, d, &flat)
                    .cholesky()
                    .is_none()
                {
                    return Err(SpecError::new(f, "noise.cov", "must be positive definite"));
                }
                NoiseModel::Constant { cov: flat }
            }
            crate::spec::NoiseSpec::Hessian { scale, floor } => NoiseModel::Hessian {
                scale: *scale,
                floor: *floor,
            },
            crate::spec::NoiseSpec::Data => NoiseModel::Data,
        };
        if let Landscape::Data(dl) = &landscape {
            if spec
                .monte_carlo
                .dynamics
                .contains(&crate::spec::DynamicsSpec::Minibatch)
            {
                for (i, &b) in spec.batch.iter().enumerate() {
                    if b as usize > dl.n {
                        let key = if spec.batch.len() == 1 {
                            "sgd.batch".to_string()
                        } else {
                            format!("sgd.batch[{i}]")
                        };
                        return Err(SpecError::new(
                            f,
                            &key,
                            format!(
                                "batch size {b} is larger than the data set ({} rows of {}); minibatches are drawn without replacement",
                                dl.n, dl.source
                            ),
                        ));
                    }
                }
            }
        }
        Ok(Problem {
            landscape,
            noise,
            guess,
        })
    }
}
