//! Quantiles and tail probabilities of the chi-square, Student t and normal distributions.
//!
//! The distribution functions (cdf, survival function, density) are statrs 0.18's. Its
//! `inverse_cdf` is only used as a starting guess: for the chi-square it returns `NaN` for
//! small probabilities at 1 or 2 degrees of freedom and loses relative precision in the upper
//! tail (it inverts `cdf`, not `sf`), and for Student t it is accurate to ~1e-13 only. Each
//! quantile here is therefore polished by a bracketed, safeguarded Newton iteration on the
//! statrs cdf (lower tail) or survival function (upper tail), to a few ulps of the root of
//! the statrs function. The tests check them against scipy/mpmath values.
//!
//! Naming: a *lower* quantile `x` for probability `p` satisfies `P(X <= x) = p`; an *upper*
//! quantile `x` for probability `q` satisfies `P(X > x) = q`. In THEORY §7 notation
//! `χ²_{α/2}(k)` is [`chi2_lower_quantile`]`(α/2, k)` and `χ²_{1−α/2}(k)` is
//! [`chi2_upper_quantile`]`(α/2, k)`.

use super::StatsError;
use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};
use statrs::function::gamma::ln_gamma;

fn check_prob(p: f64, what: &'static str) -> Result<(), StatsError> {
    if p.is_finite() && p > 0.0 && p < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidProbability { what, value: p })
    }
}

fn check_dof(dof: f64) -> Result<(), StatsError> {
    if dof.is_finite() && dof > 0.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidArgument(format!(
            "degrees of freedom must be finite and > 0, got {dof}"
        )))
    }
}

fn chi2(dof: f64) -> Result<ChiSquared, StatsError> {
    check_dof(dof)?;
    ChiSquared::new(dof).map_err(|e| StatsError::InvalidArgument(format!("chi-square({dof}): {e}")))
}

/// Midpoint of a bracket: geometric when the bracket is positive and spans more than a
/// factor 8 (so tiny roots are reached quickly), arithmetic otherwise.
fn midpoint(lo: f64, hi: f64) -> f64 {
    if lo > 0.0 && hi / lo > 8.0 {
        (lo.sqrt()) * (hi.sqrt())
    } else {
        0.5 * (lo + hi)
    }
}

/// Root of an increasing function `h` on `[lo, hi]` with `h(lo) <= 0 <= h(hi)`, by Newton
/// steps (derivative `dh`) kept inside the current bracket and falling back to bisection when
/// a step leaves the bracket or does not halve `|h|`.
fn solve_increasing(
    h: impl Fn(f64) -> f64,
    dh: impl Fn(f64) -> f64,
    mut lo: f64,
    mut hi: f64,
    x0: f64,
) -> f64 {
    let mut x = if x0 > lo && x0 < hi {
        x0
    } else {
        midpoint(lo, hi)
    };
    let mut prev_abs = f64::INFINITY;
    for _ in 0..400 {
        let hx = h(x);
        if hx == 0.0 {
            return x;
        }
        if hx < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let d = dh(x);
        let newton = x - hx / d;
        let use_newton = d > 0.0
            && newton.is_finite()
            && newton > lo
            && newton < hi
            && hx.abs() < 0.5 * prev_abs;
        prev_abs = hx.abs();
        let next = if use_newton { newton } else { midpoint(lo, hi) };
        let tol = 2.0 * f64::EPSILON * next.abs().max(f64::MIN_POSITIVE);
        if (next - x).abs() <= tol || hi - lo <= tol {
            return next;
        }
        x = next;
    }
    x
}

/// Bracket `[lo, hi] ⊂ [0, ∞)` around the root of an increasing `h` by doubling/halving from
/// a positive starting point.
fn bracket_positive(h: &impl Fn(f64) -> f64, start: f64) -> (f64, f64) {
    let start = if start.is_finite() && start > 0.0 {
        start
    } else {
        1.0
    };
    if h(start) < 0.0 {
        let mut lo = start;
        let mut hi = 2.0 * start;
        while h(hi) < 0.0 && hi < f64::MAX / 4.0 {
            lo = hi;
            hi *= 2.0;
        }
        (lo, hi)
    } else {
        let mut hi = start;
        let mut lo = 0.5 * start;
        while h(lo) > 0.0 && lo > 1e-300 {
            hi = lo;
            lo *= 0.5;
        }
        if h(lo) > 0.0 {
            lo = 0.0;
        }
        (lo, hi)
    }
}

/// Lower chi-square quantile: `x` with `P(χ²(dof) <= x) = p`, for `p ∈ (0, 1)`, `dof > 0`.
pub fn chi2_lower_quantile(p: f64, dof: f64) -> Result<f64, StatsError> {
    check_prob(p, "probability")?;
    let d = chi2(dof)?;
    // Far lower tail: statrs' regularized gamma returns 0 for arguments below ~1e-15, so
    // invert the leading term of the series P(χ²(k) <= x) = (x/2)^{k/2} / Γ(k/2 + 1)
    // · (1 + O(x)) instead, whose relative error is O(x) < 1e-13 there.
    let half_k = 0.5 * dof;
    let x_series = 2.0 * ((p.ln() + ln_gamma(half_k + 1.0)) / half_k).exp();
    if x_series < 1e-13 {
        return Ok(x_series);
    }
    let h = |x: f64| d.cdf(x) - p;
    let guess = d.inverse_cdf(p);
    let (lo, hi) = bracket_positive(&h, if guess > 0.0 { guess } else { dof });
    Ok(solve_increasing(h, |x| d.pdf(x), lo, hi, guess))
}

/// Upper chi-square quantile: `x` with `P(χ²(dof) > x) = q`, for `q ∈ (0, 1)`, `dof > 0`.
/// Computed from the survival function, so it keeps full relative precision for small `q`.
pub fn chi2_upper_quantile(q: f64, dof: f64) -> Result<f64, StatsError> {
    check_prob(q, "probability")?;
    let d = chi2(dof)?;
    let h = |x: f64| q - d.sf(x);
    let guess = d.inverse_cdf(1.0 - q);
    let (lo, hi) = bracket_positive(&h, if guess > 0.0 { guess } else { dof });
    Ok(solve_increasing(h, |x| d.pdf(x), lo, hi, guess))
}

/// Chi-square survival function `P(χ²(dof) > x)` (the p-value of a goodness-of-fit
/// statistic `x`). `x <= 0` gives 1.
pub fn chi2_sf(x: f64, dof: f64) -> Result<f64, StatsError> {
    if x.is_nan() {
        return Err(StatsError::NonFinite {
            what: "chi-square statistic",
            index: 0,
        });
    }
    let d = chi2(dof)?;
    Ok(if x <= 0.0 { 1.0 } else { d.sf(x) })
}

/// Upper Student t quantile: `x` with `P(T(dof) > x) = q`, for `q ∈ (0, 1)`, `dof > 0`
/// (negative for `q > 1/2`, by symmetry).
pub fn student_t_upper_quantile(q: f64, dof: f64) -> Result<f64, StatsError> {
    check_prob(q, "probability")?;
    check_dof(dof)?;
    if q == 0.5 {
        return Ok(0.0);
    }
    if q > 0.5 {
        return student_t_upper_quantile(1.0 - q, dof).map(|x| -x);
    }
    if dof > T_EXPANSION_DOF {
        return Ok(student_t_expansion(normal_upper_quantile(q)?, dof));
    }
    let d = StudentsT::new(0.0, 1.0, dof)
        .map_err(|e| StatsError::InvalidArgument(format!("Student t({dof}): {e}")))?;
    let h = |x: f64| q - d.sf(x);
    let guess = d.inverse_cdf(1.0 - q);
    let (lo, hi) = bracket_positive(&h, guess);
    Ok(solve_increasing(h, |x| d.pdf(x), lo, hi, guess))
}

/// Above this many degrees of freedom the Student t quantile comes from the Cornish–Fisher
/// expansion: statrs' t distribution function (through the incomplete beta function) loses
/// digits there (relative error ~1e-12 at 1e4 dof, ~1e-11 at 1e5), while the expansion's
/// truncation error, O(z^11/ν^5), is below 1e-13 even at z = 6.4 (q = 1e-10).
const T_EXPANSION_DOF: f64 = 4000.0;

/// Cornish–Fisher expansion of the Student t quantile in powers of 1/ν around the normal
/// quantile `z` (Abramowitz & Stegun 26.7.5; Hill 1970).
fn student_t_expansion(z: f64, nu: f64) -> f64 {
    let z2 = z * z;
    let g1 = z * (z2 + 1.0) / 4.0;
    let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
    let r = 1.0 / nu;
    z + r * (g1 + r * (g2 + r * (g3 + r * g4)))
}

/// Upper standard normal quantile: `z` with `P(Z > z) = q`, for `q ∈ (0, 1)`
/// (e.g. `normal_upper_quantile(0.025) = 1.959963984540054`).
pub fn normal_upper_quantile(q: f64) -> Result<f64, StatsError> {
    check_prob(q, "probability")?;
    let d = Normal::new(0.0, 1.0).expect("standard normal");
    // statrs computes the normal quantile through erfc_inv, accurate to a few ulps.
    Ok(-d.inverse_cdf(q))
}
