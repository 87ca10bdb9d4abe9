//! Weighted least squares for exponent fits (THEORY.md §7, "Exponent fits").

use super::quantile::{chi2_sf, normal_upper_quantile, student_t_upper_quantile};
use super::{alpha_of, check_finite, serde_f64_ext, Estimate, StatsError};
use serde::{Deserialize, Serialize};

/// Result of a weighted straight-line fit `y = a + b x` ([`weighted_slope`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearFit {
    /// The slope `b` with its confidence interval.
    pub slope: Estimate,
    /// The intercept `a` with its confidence interval.
    pub intercept: Estimate,
    /// Goodness-of-fit statistic `χ² = Σ ((y_i − a − b x_i)/se_i)²`.
    #[serde(with = "serde_f64_ext")]
    pub chi2: f64,
    /// Degrees of freedom of `chi2`: `n_points − 2`.
    pub dof: usize,
    /// Upper-tail probability `P(χ²(dof) > chi2)`; by convention `1.0` when `dof = 0`.
    #[serde(with = "serde_f64_ext")]
    pub p_value: f64,
    /// Number of points fitted.
    pub n_points: usize,
}

/// Weighted least-squares fit of `y = a + b x` with weights `1/se²`, and confidence
/// intervals at `level` for the slope `b` and intercept `a`.
///
/// Inputs: equal-length slices `x`, `y`, `se` of finite values, `se > 0`, at least 2 points,
/// not all `x` equal. Estimates (computed about the weighted mean `x̄` for accuracy):
/// `b = Σw(x−x̄)(y−ȳ)/Σw(x−x̄)²`, `a = ȳ − b x̄`, with unscaled standard errors
/// `se(b) = 1/√(Σw(x−x̄)²)` and `se(a) = √(1/Σw + x̄²/Σw(x−x̄)²)` (exact when the `se` are
/// the true standard deviations of the `y`). Goodness of fit: `chi2 = Σ((y−ŷ)/se)²` with
/// `dof = n − 2` and `p_value = P(χ²(dof) > chi2)`.
///
/// * `n >= 3`: the half-width is `se · max(z_{α/2}, t_{α/2}(dof) · √(chi2/dof))`, the
///   wider of two intervals ([`t_or_normal_factor`]): the normal interval with the `se`
///   taken as known (for exit-time fits, se(log Ê) = 1/√m follows from the number of
///   exits m, it is not estimated from the scatter; nominal coverage when the model
///   holds), and the Student-t interval with the error scale estimated from the
///   residuals (exact when the `se` are right up to a common unknown factor, e.g. excess
///   scatter from a missing log-prefactor term). The wider of the two covers with at
///   least the nominal level under either assumption. Method `"wls-normal-or-student-t"`.
/// * `n = 2`: the line passes through both points, `chi2 = 0` and `dof = 0`, so no scatter
///   can be estimated; the intervals use the unscaled standard errors and the normal
///   quantile (valid only if the `se` are right). Method `"wls-normal-2pt-unscaled"`.
///   `p_value` is then `1.0` (no evidence against the model is possible; chosen over `NaN`
///   so that comparisons and [`holm_bonferroni`](super::holm_bonferroni) need no special
///   case — check `dof == 0` to tell).
///
/// The `n` of both estimates is the number of points.
pub fn weighted_slope(
    x: &[f64],
    y: &[f64],
    se: &[f64],
    level: f64,
) -> Result<LinearFit, StatsError> {
    let alpha = alpha_of(level)?;
    let n = check_fit_inputs(x, y, se, "straight-line fit", 2)?;

    let w: Vec<f64> = se.iter().map(|s| 1.0 / (s * s)).collect();
    let sw: f64 = w.iter().sum();
    let xbar = w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() / sw;
    let ybar = w.iter().zip(y).map(|(w, y)| w * y).sum::<f64>() / sw;
    let mut sxx = 0.0;
    let mut sxy = 0.0;
    for i in 0..n {
        let dx = x[i] - xbar;
        sxx += w[i] * dx * dx;
        sxy += w[i] * dx * (y[i] - ybar);
    }
    let xscale = x.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(xbar.abs());
    if sxx.is_nan() || sxx <= 0.0 || sxx <= (1e-14 * xscale).powi(2) * sw {
        return Err(StatsError::Degenerate("all x values are equal"));
    }
    let b = sxy / sxx;
    let a = ybar - b * xbar;
    let chi2: f64 = (0..n)
        .map(|i| {
            let r = (y[i] - a - b * x[i]) / se[i];
            r * r
        })
        .sum();
    let se_b = (1.0 / sxx).sqrt();
    let se_a = (1.0 / sw + xbar * xbar / sxx).sqrt();
    let dof = n - 2;

    let (factor, p_value, method) = if dof == 0 {
        (
            normal_upper_quantile(alpha / 2.0)?,
            1.0,
            "wls-normal-2pt-unscaled",
        )
    } else {
        (
            t_or_normal_factor(alpha, chi2, dof)?,
            chi2_sf(chi2, dof as f64)?,
            "wls-normal-or-student-t",
        )
    };
    let make = |value: f64, se: f64| {
        let half = factor * se;
        Estimate {
            estimate: value,
            lo: value - half,
            hi: value + half,
            level,
            n,
            method: method.to_string(),
        }
    };
    Ok(LinearFit {
        slope: make(b, se_b),
        intercept: make(a, se_a),
        chi2,
        dof,
        p_value,
        n_points: n,
    })
}

/// The factor multiplying an unscaled standard error for a two-sided interval at
/// `1 − alpha` from a weighted fit with goodness-of-fit `chi2` on `dof ≥ 1` degrees of
/// freedom: `max(z_{α/2}, t_{α/2}(dof) · √(chi2/dof))` — the wider of the known-`se`
/// normal interval and the Student-t interval with the residual scale (statrs quantiles).
pub fn t_or_normal_factor(alpha: f64, chi2: f64, dof: usize) -> Result<f64, StatsError> {
    let z = normal_upper_quantile(alpha / 2.0)?;
    if dof == 0 {
        return Ok(z);
    }
    let t = student_t_upper_quantile(alpha / 2.0, dof as f64)?;
    Ok(z.max(t * (chi2 / dof as f64).sqrt()))
}

/// Checks the inputs of a weighted fit: equal lengths, finite values, `se > 0`, at least
/// `needed` points; returns the number of points.
fn check_fit_inputs(
    x: &[f64],
    y: &[f64],
    se: &[f64],
    what: &'static str,
    needed: usize,
) -> Result<usize, StatsError> {
    if x.len() != y.len() || x.len() != se.len() {
        return Err(StatsError::LengthMismatch {
            what: format!(
                "x has {}, y has {}, se has {} values",
                x.len(),
                y.len(),
                se.len()
            ),
        });
    }
    check_finite(x, "x")?;
    check_finite(y, "y")?;
    check_finite(se, "se")?;
    if let Some(index) = se.iter().position(|&s| s <= 0.0) {
        return Err(StatsError::NotPositive {
            what: "se",
            index,
            value: se[index],
        });
    }
    if x.len() < needed {
        return Err(StatsError::TooFewPoints {
            what,
            needed,
            got: x.len(),
        });
    }
    Ok(x.len())
}

/// The abscissa of a fit with a `ln x` regressor is positive.
fn check_positive_x(x: &[f64]) -> Result<(), StatsError> {
    match x.iter().position(|&v| v <= 0.0) {
        Some(index) => Err(StatsError::NotPositive {
            what: "x",
            index,
            value: x[index],
        }),
        None => Ok(()),
    }
}

/// Result of the fit with a log-prefactor term, `y = a + V x + b ln x`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrefactorFit {
    /// The exponent `V` (coefficient of `x`) with its confidence interval.
    pub slope: Estimate,
    /// The log-prefactor power `b` (coefficient of `ln x`).
    pub log_coefficient: Estimate,
    /// The intercept `a`.
    pub intercept: Estimate,
    /// `Σ ((y − ŷ)/se)²`.
    #[serde(with = "serde_f64_ext")]
    pub chi2: f64,
    /// `n_points − 3`.
    pub dof: usize,
    /// `P(χ²(dof) > chi2)`.
    #[serde(with = "serde_f64_ext")]
    pub p_value: f64,
    pub n_points: usize,
}

/// Weighted least squares of `y = a + V x + b ln x` (THEORY §7: the optional
/// log-prefactor term; `x = 1/κ²` > 0), weights `1/se²`. Needs at least 4 points with at
/// least 3 distinct `x`. Intervals: the wider of the known-`se` normal and the
/// residual-scale Student-t intervals, as in [`weighted_slope`] ([`t_or_normal_factor`];
/// normal when `dof = 0`). Method `"wls-prefactor-normal-or-student-t"`.
pub fn weighted_prefactor_fit(
    x: &[f64],
    y: &[f64],
    se: &[f64],
    level: f64,
) -> Result<PrefactorFit, StatsError> {
    check_fit_inputs(x, y, se, "prefactor fit", 4)?;
    check_positive_x(x)?;
    let ln_x: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    weighted_two_regressor_fit(x, &ln_x, y, se, level).map_err(|e| match e {
        StatsError::Degenerate(_) => {
            StatsError::Degenerate("x and ln x are collinear (need 3 distinct x values)")
        }
        e => e,
    })
}

/// The weighted least-squares fit y = a + s·x + b·g with a general second regressor g
/// (`weighted_prefactor_fit` is the case g = ln x; T4 uses g = ln(V̄/κ²)): columns centred
/// at the weighted means, slope and coefficient intervals the wider of the known-se normal
/// and the residual-scale Student-t intervals.
pub fn weighted_two_regressor_fit(
    x: &[f64],
    g: &[f64],
    y: &[f64],
    se: &[f64],
    level: f64,
) -> Result<PrefactorFit, StatsError> {
    check_fit_inputs(x, y, se, "prefactor fit", 4)?;
    if g.len() != x.len() {
        return Err(StatsError::Degenerate(
            "the second regressor has another length than x",
        ));
    }
    let f = weighted_regressors(
        &[x, g],
        y,
        se,
        level,
        "x and the second regressor are collinear",
        "wls-prefactor-normal-or-student-t",
    )?;
    let [intercept, slope, log_coefficient]: [Estimate; 3] =
        f.coefficients.try_into().expect("three coefficients");
    Ok(PrefactorFit {
        slope,
        log_coefficient,
        intercept,
        chi2: f.chi2,
        dof: f.dof,
        p_value: f.p_value,
        n_points: f.n_points,
    })
}

/// A weighted least-squares fit y = a + Σ_j β_j·c_j over the columns `cols`.
struct RegressorFit {
    /// a, then β_1 … β_k, each with its interval.
    coefficients: Vec<Estimate>,
    chi2: f64,
    dof: usize,
    p_value: f64,
    n_points: usize,
}

/// The weighted least squares of y on an intercept and the columns `cols` (weights 1/se²;
/// inputs checked by the caller): columns centred at their weighted means for
/// conditioning; coefficient intervals the wider of the known-se normal and the
/// residual-scale Student-t intervals ([`t_or_normal_factor`]; normal when dof = 0);
/// `collinear` is the error when the normal matrix is singular.
fn weighted_regressors(
    cols: &[&[f64]],
    y: &[f64],
    se: &[f64],
    level: f64,
    collinear: &'static str,
    method: &str,
) -> Result<RegressorFit, StatsError> {
    let alpha = alpha_of(level)?;
    let (n, k) = (y.len(), cols.len());
    let w: Vec<f64> = se.iter().map(|s| 1.0 / (s * s)).collect();
    let sw: f64 = w.iter().sum();
    let means: Vec<f64> = cols
        .iter()
        .map(|c| (0..n).map(|i| w[i] * c[i]).sum::<f64>() / sw)
        .collect();
    let design = nalgebra::DMatrix::from_fn(n, k + 1, |i, j| match j {
        0 => 1.0,
        j => cols[j - 1][i] - means[j - 1],
    });
    let wm = nalgebra::DMatrix::from_diagonal(&nalgebra::DVector::from_vec(w.clone()));
    let xtwx = design.transpose() * &wm * &design;
    let inv = xtwx
        .try_inverse()
        .ok_or(StatsError::Degenerate(collinear))?;
    let yv = nalgebra::DVector::from_column_slice(y);
    let beta = &inv * (design.transpose() * &wm * yv);
    let chi2: f64 = (0..n)
        .map(|i| {
            let fit = (1..=k).fold(beta[0], |acc, j| {
                acc + beta[j] * (cols[j - 1][i] - means[j - 1])
            });
            let r = y[i] - fit;
            w[i] * r * r
        })
        .sum();
    let dof = n - (k + 1);
    let factor = t_or_normal_factor(alpha, chi2, dof)?;
    let p_value = if dof > 0 {
        chi2_sf(chi2, dof as f64)?
    } else {
        1.0
    };
    // The uncentred intercept a = β0 − Σ β_j m_j; its variance from the covariance of β
    // via the gradient (1, −m_1, …, −m_k).
    let a = (1..=k).fold(beta[0], |acc, j| acc - beta[j] * means[j - 1]);
    let grad = nalgebra::DVector::from_fn(k + 1, |j, _| if j == 0 { 1.0 } else { -means[j - 1] });
    let var_a = (grad.transpose() * &inv * &grad)[(0, 0)];
    let est = |v: f64, var: f64| {
        let h = factor * var.max(0.0).sqrt();
        Estimate {
            estimate: v,
            lo: v - h,
            hi: v + h,
            level,
            n,
            method: method.to_string(),
        }
    };
    let mut coefficients = vec![est(a, var_a)];
    coefficients.extend((1..=k).map(|j| est(beta[j], inv[(j, j)])));
    Ok(RegressorFit {
        coefficients,
        chi2,
        dof,
        p_value,
        n_points: n,
    })
}

/// Result of the fit with a log-prefactor term and the first prefactor correction,
/// `y = a + V x + b ln x + c/x` ([`weighted_corrected_fit`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorrectedFit {
    /// The exponent `V` (coefficient of `x`) with its confidence interval.
    pub slope: Estimate,
    /// The log-prefactor power `b` (coefficient of `ln x`).
    pub log_coefficient: Estimate,
    /// The correction `c` (coefficient of `1/x`, i.e. of κ² up to the abscissa's scale).
    pub correction: Estimate,
    /// The intercept `a`.
    pub intercept: Estimate,
    /// `Σ ((y − ŷ)/se)²`.
    #[serde(with = "serde_f64_ext")]
    pub chi2: f64,
    /// `n_points − 4`.
    pub dof: usize,
    /// `P(χ²(dof) > chi2)` (1 when `dof = 0`).
    #[serde(with = "serde_f64_ext")]
    pub p_value: f64,
    pub n_points: usize,
}

/// Weighted least squares of `y = a + V x + b ln x + c/x` (`x = 1/κ²` up to a positive
/// scale, > 0), weights `1/se²`: the log-prefactor model of [`weighted_prefactor_fit`]
/// with the next term of the small-noise expansion of the prefactor,
/// C κ^β (1 + c₁κ² + O(κ⁴)), whose logarithm adds c₁κ² + O(κ⁴) (THEORY §7 "Exponent
/// fits"; e.g. E14's radial integral in d = 10). Over a wide κ range (splitting points)
/// the power-law prefactor alone biases V by more than the statistical error. Needs at
/// least 5 points with 4 distinct `x`. Intervals as in [`weighted_prefactor_fit`]: the
/// wider of the known-`se` normal and the residual-scale Student-t intervals. Method
/// `"wls-corrected-normal-or-student-t"`.
pub fn weighted_corrected_fit(
    x: &[f64],
    y: &[f64],
    se: &[f64],
    level: f64,
) -> Result<CorrectedFit, StatsError> {
    check_fit_inputs(x, y, se, "corrected prefactor fit", 5)?;
    check_positive_x(x)?;
    let ln_x: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let inv_x: Vec<f64> = x.iter().map(|v| 1.0 / v).collect();
    let f = weighted_regressors(
        &[x, &ln_x, &inv_x],
        y,
        se,
        level,
        "x, ln x and 1/x are collinear (need 4 distinct x values)",
        "wls-corrected-normal-or-student-t",
    )?;
    let [intercept, slope, log_coefficient, correction]: [Estimate; 4] =
        f.coefficients.try_into().expect("four coefficients");
    Ok(CorrectedFit {
        slope,
        log_coefficient,
        correction,
        intercept,
        chi2: f.chi2,
        dof: f.dof,
        p_value: f.p_value,
        n_points: f.n_points,
    })
}
