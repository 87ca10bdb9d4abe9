//! Certified interval enclosures of elementary functions on [`inari::Interval`].
//!
//! inari is built without its `gmp` feature, so it has no transcendental functions. This
//! module supplies `exp`, `ln`, `tanh`, `sin`, `cos` and the integer power `powi`.
//!
//! Every transcendental bound is a CORE-MATH result (correctly rounded to nearest, see
//! `proofs/elementary-enclosures.md` §1) widened by one ulp on each side with
//! [`f64::next_down`] / [`f64::next_up`]; Lemma W of the proof shows that the exact real
//! value lies in the widened pair, including at binade boundaries, for subnormal results and
//! for overflow to ±∞. Ranges are then obtained from endpoints (monotone functions, §3), from
//! endpoints plus rigorously detected extrema (sin, cos, §4), or from outward-rounded inari
//! products (`powi`, §5). Results are intersected with the function's true range (§3.3).
//!
//! Contract, for every function `F` here and every non-empty `x`: for every real `t ∈ x`
//! in the natural domain of `f`, `f(t) ∈ F(x)`. Empty input gives empty output.
//!
//! Domain conventions (the caller checks domains before evaluating):
//! - [`ln`] returns `Interval::ENTIRE` when `x.inf() <= 0` (the argument is not certified to
//!   lie in `(0, ∞)`); `ENTIRE` is trivially an enclosure of anything, so it is never
//!   unsound, and it makes an unchecked domain violation visible as a useless bound.
//! - [`powi`] with `n < 0` returns `Interval::ENTIRE` when `0 ∈ x`, and `powi(x, 0)` is
//!   `[1, 1]` for every non-empty `x` (the convention `t^0 = 1`, including `0^0 = 1`).
//!
//! Assumption (A2 in the proof; A1 is CORE-MATH's correct rounding): the SSE rounding mode
//! is round-to-nearest whenever a CORE-MATH function is called. This is Rust's default and
//! inari restores MXCSR after each directed-rounding instruction; nothing in this module
//! changes the rounding mode.

use inari::Interval;

/// Widened enclosure `[next_down(y), next_up(y)]` of the exact value `v` whose
/// round-to-nearest binary64 image is `y` (proof: Lemma W). Also valid for `y = ±∞`
/// (overflow: `next_down(+∞) = f64::MAX`, `next_up(+∞) = +∞`) and `y = ±0` (underflow:
/// the neighbours are the smallest subnormals of either sign).
#[inline]
fn widen(y: f64) -> (f64, f64) {
    (y.next_down(), y.next_up())
}

/// `[lo, hi]` as an interval. The bounds built in this module always satisfy
/// `lo <= hi`, `lo < +∞`, `hi > -∞` and are not NaN; should that ever fail (a bug, or a NaN
/// from a library), the result is `ENTIRE`, which is still an enclosure.
#[inline]
fn from_bounds(lo: f64, hi: f64) -> Interval {
    match Interval::try_from((lo, hi)) {
        Ok(r) => r,
        Err(_) => {
            debug_assert!(false, "elementary: invalid bounds [{lo:?}, {hi:?}]");
            Interval::ENTIRE
        }
    }
}

/// The singleton `[t, t]` for a finite `t`.
#[inline]
fn point(t: f64) -> Interval {
    from_bounds(t, t)
}

/// `[-1, 1]`, the range of sin and cos.
const UNIT: Interval = inari::const_interval!(-1.0, 1.0);

// ---------------------------------------------------------------------------------------
// Point enclosures (proof §2, §3.2): enclosures of f(t) for a finite binary64 t.
// Exact special values are returned exactly (proof §3.2: exp(0) = 1, ln(1) = 0,
// tanh(0) = 0, sin(0) = 0, cos(0) = 1); everything else is Lemma W applied to the
// correctly rounded CORE-MATH value, intersected with the true range (§3.3).
// ---------------------------------------------------------------------------------------

/// Enclosure of `exp(t)`, `t` finite. Lemma W; lower bound clamped at 0 because
/// `exp(t) > 0` (§3.3) — needed since `next_down(0) < 0` when `exp(t)` underflows to 0.
/// If `exp(t)` overflows, CORE-MATH returns +∞ and Lemma W(ii) gives `[f64::MAX, +∞]`.
/// Also `exp(t) > 1` for `t > 0` and `exp(t) < 1` for `t < 0` (§3.3), which keeps the
/// bounds monotone in `t` across the exact value `exp(0) = 1`.
#[inline]
fn exp_pt(t: f64) -> (f64, f64) {
    if t == 0.0 {
        return (1.0, 1.0); // exp(±0) = 1 exactly.
    }
    let (lo, hi) = widen(core_math::exp(t));
    if t > 0.0 {
        (lo.max(1.0), hi)
    } else {
        (lo.max(0.0), hi.min(1.0))
    }
}

/// Enclosure of `ln(t)`, `t > 0` finite. Lemma W (ln of a positive binary64 is in
/// [-745, 710], so no overflow); sign clamp `ln(t) > 0` for `t > 1`, `< 0` for `t < 1`
/// (§3.3).
#[inline]
fn ln_pt(t: f64) -> (f64, f64) {
    if t == 1.0 {
        return (0.0, 0.0); // ln(1) = 0 exactly.
    }
    let (lo, hi) = widen(core_math::log(t));
    if t > 1.0 {
        (lo.max(0.0), hi)
    } else {
        (lo, hi.min(0.0))
    }
}

/// Enclosure of `tanh(t)`, `t` finite. Lemma W, clamped to [-1, 1] (§3.3): for
/// |t| ≳ 19.06 CORE-MATH returns ±1 and `next_up(1) > 1` would be a needless bound.
/// Sign clamp: tanh(t) has the sign of t (§3.3).
#[inline]
fn tanh_pt(t: f64) -> (f64, f64) {
    if t == 0.0 {
        return (t, t); // tanh(±0) = ±0 exactly.
    }
    let (lo, hi) = widen(core_math::tanh(t));
    if t > 0.0 {
        (lo.max(0.0), hi.min(1.0))
    } else {
        (lo.max(-1.0), hi.min(0.0))
    }
}

/// Enclosure of `sin(t)`, `t` finite. Lemma W, clamped to [-1, 1] (§3.3). CORE-MATH is
/// correctly rounded for every finite t (which requires an exact argument reduction), so
/// this is valid and tight also for t = 1e22 or f64::MAX.
#[inline]
fn sin_pt(t: f64) -> (f64, f64) {
    if t == 0.0 {
        return (t, t); // sin(±0) = ±0 exactly.
    }
    let (lo, hi) = widen(core_math::sin(t));
    (lo.max(-1.0), hi.min(1.0))
}

/// Enclosure of `cos(t)`, `t` finite. Lemma W, clamped to [-1, 1] (§3.3).
#[inline]
fn cos_pt(t: f64) -> (f64, f64) {
    if t == 0.0 {
        return (1.0, 1.0); // cos(±0) = 1 exactly.
    }
    let (lo, hi) = widen(core_math::cos(t));
    (lo.max(-1.0), hi.min(1.0))
}

// ---------------------------------------------------------------------------------------
// Monotone functions (proof §3).
// ---------------------------------------------------------------------------------------

/// Certified enclosure of `exp` over `x`.
///
/// exp is increasing, so `exp(x) = [exp(a), exp(b)]` with the limits `exp(-∞) = 0`,
/// `exp(+∞) = +∞` (proof §3.1); each endpoint value is enclosed by `exp_pt` (Lemma W with
/// clamp at 0). Overflow of a finite endpoint gives the bound `f64::MAX` from below and
/// `+∞` from above (Lemma W(ii)).
pub fn exp(x: Interval) -> Interval {
    if x.is_empty() {
        return Interval::EMPTY;
    }
    let (a, b) = (x.inf(), x.sup());
    // Lower bound: inf over x of exp is exp(a) (a finite) or the limit 0 (a = -∞);
    // 0 is a lower bound of exp everywhere.
    let lo = if a == f64::NEG_INFINITY {
        0.0
    } else {
        exp_pt(a).0
    };
    // Upper bound: sup is exp(b) (b finite) or +∞ (b = +∞).
    let hi = if b == f64::INFINITY {
        f64::INFINITY
    } else {
        exp_pt(b).1
    };
    from_bounds(lo, hi)
}

/// Certified enclosure of the natural logarithm over `x`.
///
/// Domain convention: if `x.inf() <= 0` the result is `Interval::ENTIRE` (the caller is
/// expected to have checked `x ⊂ (0, ∞)`; ENTIRE is a trivially valid enclosure of every
/// defined value). Otherwise ln is increasing on `x ⊂ (0, ∞)`, so the range is
/// `[ln a, ln b]` with `ln(+∞) = +∞` (proof §3.1), endpoints enclosed by Lemma W.
pub fn ln(x: Interval) -> Interval {
    if x.is_empty() {
        return Interval::EMPTY;
    }
    let (a, b) = (x.inf(), x.sup());
    // a is not NaN (x is non-empty), so `a <= 0.0` is exactly "a not certified positive".
    if a <= 0.0 {
        return Interval::ENTIRE;
    }
    // a > 0 is finite (inari intervals have inf < +∞).
    let lo = ln_pt(a).0;
    let hi = if b == f64::INFINITY {
        f64::INFINITY
    } else {
        ln_pt(b).1
    };
    from_bounds(lo, hi)
}

/// Certified enclosure of `tanh` over `x`.
///
/// tanh is increasing with limits ∓1 at ∓∞, so the range is within `[tanh a, tanh b]`,
/// with `tanh(-∞) := -1`, `tanh(+∞) := 1` (proof §3.1); endpoints by Lemma W, clamped
/// to [-1, 1] (§3.3).
pub fn tanh(x: Interval) -> Interval {
    if x.is_empty() {
        return Interval::EMPTY;
    }
    let (a, b) = (x.inf(), x.sup());
    let lo = if a == f64::NEG_INFINITY {
        -1.0
    } else {
        tanh_pt(a).0
    };
    let hi = if b == f64::INFINITY {
        1.0
    } else {
        tanh_pt(b).1
    };
    from_bounds(lo, hi)
}

// ---------------------------------------------------------------------------------------
// sin and cos (proof §4).
// ---------------------------------------------------------------------------------------

/// Description of `f = sin(· + φ)` for the shared sin/cos code.
struct Trig {
    /// Point enclosure of f.
    f: fn(f64) -> (f64, f64),
    /// Point enclosure of f' (cos for sin, -sin for cos).
    df: fn(f64) -> (f64, f64),
    /// Enclosure of the phase p_max: the maximum points of f are p_max + 2kπ, k ∈ ℤ.
    max_phase: Interval,
    /// Enclosure of the phase p_min: the minimum points of f are p_min + 2kπ, k ∈ ℤ.
    min_phase: Interval,
}

fn neg_sin_pt(t: f64) -> (f64, f64) {
    let (lo, hi) = sin_pt(t);
    (-hi, -lo) // Negation is exact.
}

const SIN: Trig = Trig {
    f: sin_pt,
    df: cos_pt,
    max_phase: Interval::FRAC_PI_2, // sin max at π/2 + 2kπ
    // sin min at -π/2 + 2kπ; the enclosure of -π/2 is the exact negation of FRAC_PI_2.
    min_phase: inari::const_interval!(-FRAC_PI_2_UP, -FRAC_PI_2_DOWN),
};

/// π/2 rounded down and up to binary64 (the bounds of `Interval::FRAC_PI_2`; checked against
/// mpmath in tests/reference/elementary_ref.txt, row `const_frac_pi_2`).
const FRAC_PI_2_DOWN: f64 = f64::from_bits(0x3ff9_21fb_5444_2d18);
const FRAC_PI_2_UP: f64 = f64::from_bits(0x3ff9_21fb_5444_2d19);

const COS: Trig = Trig {
    f: cos_pt,
    df: neg_sin_pt,
    max_phase: inari::const_interval!(0.0, 0.0), // cos max at 2kπ
    min_phase: Interval::PI,                     // cos min at π + 2kπ
};

/// Lemma T2 (π-enclosure test). Returns `false` only if it is proved that no point
/// `p + 2kπ` (k ∈ ℤ, p ∈ `phase`) lies in `[a, b]` (a, b finite).
///
/// A point p + 2kπ ∈ [a, b] iff the integer k lies in `[(a-p)/(2π), (b-p)/(2π)]`. inari
/// arithmetic with the enclosures `phase ∋ p`, `TAU ∋ 2π` gives intervals `ka`, `kb`
/// containing these two reals (inclusion isotonicity). If an integer k exists then
/// `ceil(ka.inf()) <= k <= kb.sup()`; so `ceil(ka.inf()) > kb.sup()` excludes every k.
fn may_contain_phase(a: f64, b: f64, phase: Interval) -> bool {
    let ka = (point(a) - phase) / Interval::TAU;
    let kb = (point(b) - phase) / Interval::TAU;
    ka.inf().ceil() <= kb.sup()
}

fn trig(x: Interval, g: &Trig) -> Interval {
    if x.is_empty() {
        return Interval::EMPTY;
    }
    let (a, b) = (x.inf(), x.sup());
    // Unbounded x (§4.1): the range of sin/cos over any half-line is [-1, 1].
    if !a.is_finite() || !b.is_finite() {
        return UNIT;
    }
    let (fa_lo, fa_hi) = (g.f)(a);
    // Singleton (§4.1): the range is {f(a)}, enclosed by Lemma W.
    if a == b {
        return from_bounds(fa_lo, fa_hi);
    }
    // Width test (§4.1): RU(b - a) >= b - a, and TAU.inf() <= 2π. If RU(b - a) < TAU.inf()
    // the width is < 2π; otherwise we return [-1, 1], which always encloses sin/cos.
    let width_up = (point(b) - point(a)).sup();
    if width_up >= Interval::TAU.inf() {
        return UNIT;
    }
    let (fb_lo, fb_hi) = (g.f)(b);
    // Extremum principle (Lemma T1): the max of f on [a, b] is f(a), f(b) or 1 at a
    // maximum point in [a, b]; the min is f(a), f(b) or -1 at a minimum point in [a, b].
    let mut may_max = may_contain_phase(a, b, g.max_phase);
    let mut may_min = may_contain_phase(a, b, g.min_phase);
    // Lemma T3 (derivative-sign test), used only when the π-test could not exclude an
    // extremum and the width is certainly < π. It remains sharp for huge |a| where the
    // π-enclosure test is too coarse. If b - a < π and a maximum point m lies in [a, b],
    // then f'(a) >= 0 and f'(b) <= 0; for a minimum point, f'(a) <= 0 and f'(b) >= 0.
    if (may_max || may_min) && width_up < Interval::PI.inf() {
        let (da_lo, da_hi) = (g.df)(a);
        let (db_lo, db_hi) = (g.df)(b);
        // f'(a) certainly < 0 (da_hi < 0) or f'(b) certainly > 0 (db_lo > 0): no maximum.
        if da_hi < 0.0 || db_lo > 0.0 {
            may_max = false;
        }
        // f'(a) certainly > 0 or f'(b) certainly < 0: no minimum.
        if da_lo > 0.0 || db_hi < 0.0 {
            may_min = false;
        }
    }
    let mut lo = fa_lo.min(fb_lo);
    let mut hi = fa_hi.max(fb_hi);
    if may_max {
        hi = 1.0;
    }
    if may_min {
        lo = -1.0;
    }
    // Clamp to the true range [-1, 1] (§3.3); the point enclosures are already clamped.
    from_bounds(lo.max(-1.0), hi.min(1.0))
}

/// Certified enclosure of `sin` over `x` (proof §4).
///
/// Unbounded or width ≥ 2π (rigorously: `RU(b - a) >= TAU.inf()`): `[-1, 1]`. Otherwise
/// the hull of the Lemma-W enclosures of sin(a), sin(b), plus 1 if a maximum point
/// π/2 + 2kπ cannot be excluded from x, plus -1 if a minimum point -π/2 + 2kπ cannot be
/// excluded (Lemmas T1–T3).
pub fn sin(x: Interval) -> Interval {
    trig(x, &SIN)
}

/// Certified enclosure of `cos` over `x` (proof §4). As [`sin`], with maximum points
/// 2kπ and minimum points π + 2kπ.
pub fn cos(x: Interval) -> Interval {
    trig(x, &COS)
}

// ---------------------------------------------------------------------------------------
// Integer powers (proof §5).
// ---------------------------------------------------------------------------------------

/// Enclosure of `m^n` for finite `m >= 0`, by binary exponentiation with inari's
/// outward-rounded `*` and `sqr` on intervals that start as the singleton `[m, m]`
/// (inclusion isotonicity, Lemma P1 in §5.1). Overflow gives `[f64::MAX, +∞]`, underflow `[0, tiny]`.
fn pow_nonneg(m: f64, n: u32) -> Interval {
    let mut result = point(1.0);
    let mut base = point(m);
    let mut e = n;
    while e > 0 {
        if e & 1 == 1 {
            result *= base;
        }
        e >>= 1;
        if e > 0 {
            base = base.sqr();
        }
    }
    result
}

/// Enclosure of `t^n` for finite `t` and odd `n`: `t^n = -(|t|^n)` for `t < 0`
/// (negation is exact).
fn pow_odd(t: f64, n: u32) -> Interval {
    if t < 0.0 {
        -pow_nonneg(-t, n)
    } else {
        pow_nonneg(t, n)
    }
}

/// Enclosure of `{t^n : t ∈ x}` for `n >= 0` and non-empty `x`.
fn powu(x: Interval, n: u32) -> Interval {
    let (a, b) = (x.inf(), x.sup());
    if n == 0 {
        // §5.5: convention t^0 = 1 for every t (including 0^0).
        return point(1.0);
    }
    if n % 2 == 1 {
        // Odd n (§5.2): t ↦ t^n is increasing on ℝ, so the range is [a^n, b^n] with
        // (-∞)^n = -∞, (+∞)^n = +∞.
        let lo = if a == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else {
            pow_odd(a, n).inf()
        };
        let hi = if b == f64::INFINITY {
            f64::INFINITY
        } else {
            pow_odd(b, n).sup()
        };
        from_bounds(lo, hi)
    } else {
        // Even n (§5.3): t^n = |t|^n and |t| ranges exactly over [mig(x), mag(x)]
        // (both computed exactly by inari); s ↦ s^n is increasing on [0, ∞).
        let (mig, mag) = (x.mig(), x.mag());
        let lo = pow_nonneg(mig, n).inf();
        let hi = if mag == f64::INFINITY {
            f64::INFINITY
        } else {
            pow_nonneg(mag, n).sup()
        };
        from_bounds(lo, hi)
    }
}

/// Certified enclosure of the integer power `t^n` over `x` (proof §5).
///
/// - `n = 0`: `[1, 1]` (convention `t^0 = 1`, also for `t = 0`).
/// - odd `n > 0`: monotone endpoints, each endpoint power an outward-rounded inari product.
/// - even `n > 0`: `[mig(x)^n, mag(x)^n]`, outward rounded.
/// - `n < 0`: `recip(powi(x, |n|))` (inari's outward-rounded reciprocal), or
///   `Interval::ENTIRE` if `0 ∈ x`.
pub fn powi(x: Interval, n: i32) -> Interval {
    if x.is_empty() {
        return Interval::EMPTY;
    }
    let m = n.unsigned_abs(); // |n| without overflow for i32::MIN.
    if n >= 0 {
        return powu(x, m);
    }
    // n < 0 (§5.4): t^n = 1 / t^|n| for t ≠ 0. If 0 ∈ x the function is undefined at a point
    // of x; by convention return ENTIRE.
    if x.contains(0.0) {
        return Interval::ENTIRE;
    }
    // 0 ∉ x, so every t^|n| is non-zero and P = powu(x, |n|) ∋ t^|n|; P lies in [0, ∞) or
    // (-∞, 0] (it may touch 0 after underflow), and recip is inclusion-isotone and gives
    // [1/u, +∞] for [0, u], so recip(P) ∋ 1/t^|n|.
    powu(x, m).recip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_constants_are_exact_negations() {
        assert_eq!(SIN.min_phase, -Interval::FRAC_PI_2);
        assert_eq!(SIN.max_phase, Interval::FRAC_PI_2);
        assert_eq!(COS.min_phase, Interval::PI);
        assert_eq!(COS.max_phase, point(0.0));
    }
}
