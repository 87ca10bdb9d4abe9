//! Certified enclosures of exact mean exit times of continuous SGD (THEORY §6, E13, E14).
//!
//! The diffusion is dX = −U'(X) dt + ε dW with ε² = κ²σ² (isotropic noise). With c = 2/ε²
//! and a *log density* G, the scale and speed densities are s = e^G and m = c·e^{−G}:
//! - E13 (1-D, any [`Landscape`] of dimension 1): G = c·U;
//! - E14 (radial quadratic in R^d): G(y) = c·λy²/2 − (d − 1) ln y.
//!
//! Three cases, each an interval evaluation of an exact formula (`proofs/exit-time-formulas.md`):
//! - both ends absorbing on (a, b): the Green's-function formula of E13
//!   ([`mean_exit_time_interval`] with finite `lo`);
//! - a = −∞ (natural lower end), absorbing at b: E_x\[τ\] = ∫_x^b s(y) ∫_{−∞}^y m dz dy, with a
//!   certified tail bound (Lemma T) ([`mean_exit_time_interval`] with `lo = −∞`);
//! - the radial quadratic on a ball from its centre, a = 0 an entrance boundary handled by an
//!   analytic enclosure near 0 (Lemma Z) ([`mean_exit_time_radial_quadratic`]).
//!
//! Method: the interval is cut into cells; on each cell the integrals ∫s, ∫m and the two
//! triangle integrals ∫∫_{z<y} s(y)m(z), ∫∫_{z<y} s(z)m(y) are enclosed by Taylor models of
//! order [`TAYLOR_ORDER`] (Taylor coefficients by interval automatic differentiation,
//! [`Taylor`]) intersected with crude range bounds; cumulative sums and the final formula
//! are evaluated in log scale with monotone, outward-rounded operations, so values like
//! e^2000 neither overflow nor lose accuracy. Cells are split adaptively (a heuristic that
//! only steers the work; every returned enclosure is rigorous whatever the partition) until
//! the enclosure of E\[τ\] has relative width ≤ `rel_tol` or `max_cells` is exceeded.

// `!(x > 0.0)` is used on purpose: it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use crate::landscape::expr::{Func, Node, Tape};
use crate::landscape::{Landscape, QuadraticHessian};
use crate::num::{elementary, iv, point, Const, Scalar};
use inari::Interval;
use std::ops::{Add, Div, Mul, Neg, Sub};
use thiserror::Error;

/// Default target relative width of the enclosure of E\[τ\].
pub const DEFAULT_REL_TOL: f64 = 1e-6;
/// Default work limit (number of cells).
pub const DEFAULT_MAX_CELLS: usize = 100_000;
/// Order of the Lagrange remainder of the Taylor model on each cell (even: proof §5, Lemma Q1).
pub const TAYLOR_ORDER: usize = 8;
/// Number of Taylor coefficients computed (degrees 0 ..= TAYLOR_ORDER).
const NC: usize = TAYLOR_ORDER + 1;
/// Largest number of refinement rounds.
const MAX_ROUNDS: usize = 400;
/// Refinement stops with an error when the cells have grown by this factor without halving
/// the width of the enclosure.
const STALL_FACTOR: usize = 16;
/// Number of cells each side of the start point in the initial partition.
const INITIAL_CELLS: usize = 8;

const ZERO: Interval = inari::const_interval!(0.0, 0.0);
const ONE: Interval = inari::const_interval!(1.0, 1.0);
const NEG_INF: f64 = f64::NEG_INFINITY;

/// A certified enclosure of a mean exit time.
#[derive(Clone, Debug)]
pub struct ExitTimeEnclosure {
    /// Enclosure of ln E_x\[τ\] (always finite for a successful result).
    pub ln_mean: Interval,
    /// Enclosure of E_x\[τ\] = exp(`ln_mean`); when E\[τ\] exceeds the binary64 range its upper
    /// end is +∞ and its lower end at most `f64::MAX` (still an enclosure; use `ln_mean`).
    pub mean: Interval,
    /// Relative width (E_hi − E_lo)/E_lo = exp(wid ln_mean) − 1 (computed in f64, not a
    /// certified number; it is what `rel_tol` is compared with).
    pub rel_width: f64,
    /// Number of cells of the final partition.
    pub cells: usize,
    /// Formula, method and proof file.
    pub method: String,
}

/// Errors of the exit-time enclosures.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ExitTimeError {
    /// Arguments out of range (interval, start point, noise, tolerance, work limit).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// E13 needs a 1-D landscape.
    #[error("the landscape has dimension {0}; the 1-D exit-time formula (E13) needs dimension 1")]
    NotOneDimensional(usize),
    /// E14 is implemented for the built-in quadratic with Hessian λI only.
    #[error("E14 (radial exit time) is implemented for the built-in quadratic with Hessian λ·I only: {0}")]
    NotRadial(String),
    /// The potential is not defined (or not smooth) on the interval.
    #[error("the potential is not defined or not smooth on the interval: {0}")]
    Undefined(String),
    /// No certified bound for the tail of the speed measure at −∞ (Lemma T).
    #[error("the tail at −∞ could not be certified: {0}")]
    TailNotCertified(String),
    /// The requested relative width was not reached within the work limit.
    #[error("relative width {achieved:.3e} > requested {requested:.3e} with {cells} cells (limit {max_cells}): {hint}")]
    ToleranceNotReached {
        achieved: f64,
        requested: f64,
        cells: usize,
        max_cells: usize,
        hint: String,
    },
}

// ---------------------------------------------------------------------------------------
// Taylor arithmetic (proof §4, Lemma TA): truncated power series with interval coefficients.
// ---------------------------------------------------------------------------------------

/// A truncated Taylor series Σ_{k<N} c_k t^k with interval coefficients.
///
/// Evaluating a function f (written once over [`Scalar`]) at [`Taylor::variable`]`(X)` gives
/// coefficients with `c_k ∋ f^{(k)}(ξ)/k!` for every ξ ∈ X (Lemma TA of
/// `proofs/exit-time-formulas.md`: every recurrence below is the real recurrence evaluated in
/// inclusion-isotone interval arithmetic). Where an operation is not certified to be smooth
/// on X (ln, sqrt of a non-positive argument, division by an interval containing 0) all
/// coefficients of its result are `ENTIRE`, which is trivially an enclosure.
#[derive(Clone, Copy, Debug)]
pub struct Taylor<const N: usize> {
    pub c: [Interval; N],
}

#[inline]
fn int(k: usize) -> Interval {
    point(k as f64)
}

impl<const N: usize> Taylor<N> {
    /// The constant function `v`.
    pub fn constant(v: Interval) -> Self {
        let mut c = [ZERO; N];
        c[0] = v;
        Taylor { c }
    }

    /// The independent variable ξ + t for ξ ∈ `x` (coefficients `x`, 1, 0, …).
    pub fn variable(x: Interval) -> Self {
        let mut c = [ZERO; N];
        c[0] = x;
        if N > 1 {
            c[1] = ONE;
        }
        Taylor { c }
    }

    fn entire() -> Self {
        Taylor {
            c: [Interval::ENTIRE; N],
        }
    }

    /// `self − v` for a constant `v`.
    fn shift(mut self, v: Interval) -> Self {
        self.c[0] -= v;
        self
    }
}

impl<const N: usize> Add for Taylor<N> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        let mut c = self.c;
        for (ck, ok) in c.iter_mut().zip(o.c) {
            *ck += ok;
        }
        Taylor { c }
    }
}

impl<const N: usize> Sub for Taylor<N> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        let mut c = self.c;
        for (ck, ok) in c.iter_mut().zip(o.c) {
            *ck -= ok;
        }
        Taylor { c }
    }
}

impl<const N: usize> Neg for Taylor<N> {
    type Output = Self;
    fn neg(self) -> Self {
        let mut c = self.c;
        for ck in c.iter_mut() {
            *ck = -*ck;
        }
        Taylor { c }
    }
}

impl<const N: usize> Mul for Taylor<N> {
    type Output = Self;
    /// Cauchy product: (ab)_k = Σ_{j≤k} a_j b_{k−j}.
    fn mul(self, o: Self) -> Self {
        let (a, b) = (&self.c, &o.c);
        let mut c = [ZERO; N];
        for k in 0..N {
            let mut s = a[0] * b[k];
            for j in 1..=k {
                s += a[j] * b[k - j];
            }
            c[k] = s;
        }
        Taylor { c }
    }
}

impl<const N: usize> Div for Taylor<N> {
    type Output = Self;
    /// q = a/b from b·q = a: q_k = (a_k − Σ_{j=1}^k b_j q_{k−j}) / b_0.
    fn div(self, o: Self) -> Self {
        let (a, b) = (&self.c, &o.c);
        if b[0].is_empty() || b[0].contains(0.0) {
            return Self::entire();
        }
        let mut q = [ZERO; N];
        for k in 0..N {
            let mut s = a[k];
            for j in 1..=k {
                s -= b[j] * q[k - j];
            }
            q[k] = s / b[0];
        }
        Taylor { c: q }
    }
}

impl<const N: usize> Taylor<N> {
    /// e = exp(a): e' = a'e, so k e_k = Σ_{j=1}^k j a_j e_{k−j}.
    fn exp_series(&self) -> Self {
        let a = &self.c;
        let mut e = [ZERO; N];
        e[0] = elementary::exp(a[0]);
        for k in 1..N {
            let mut s = ZERO;
            for j in 1..=k {
                s += int(j) * a[j] * e[k - j];
            }
            e[k] = s / int(k);
        }
        Taylor { c: e }
    }

    /// Binary exponentiation for n ≥ 1 (products of enclosures).
    fn powu(self, n: u32) -> Self {
        let mut result: Option<Self> = None;
        let mut base = self;
        let mut e = n;
        while e > 0 {
            if e & 1 == 1 {
                result = Some(match result {
                    None => base,
                    Some(r) => r * base,
                });
            }
            e >>= 1;
            if e > 0 {
                base = base.sqr();
            }
        }
        result.unwrap_or(Self::constant(ONE))
    }
}

impl<const N: usize> Scalar for Taylor<N> {
    fn from_f64(x: f64) -> Self {
        Self::constant(point(x))
    }
    fn from_const(c: Const) -> Self {
        Self::constant(<Interval as Scalar>::from_const(c))
    }
    fn exp(self) -> Self {
        self.exp_series()
    }
    /// l = ln a: a l' = a', so l_k = (k a_k − Σ_{i=1}^{k−1} i l_i a_{k−i}) / (k a_0).
    fn ln(self) -> Self {
        let a = &self.c;
        if !(a[0].inf() > 0.0) {
            return Self::entire();
        }
        let mut l = [ZERO; N];
        l[0] = elementary::ln(a[0]);
        for k in 1..N {
            let mut s = int(k) * a[k];
            for i in 1..k {
                s -= int(i) * l[i] * a[k - i];
            }
            l[k] = s / (int(k) * a[0]);
        }
        Taylor { c: l }
    }
    /// r = √a: r² = a, so r_k = (a_k − Σ_{j=1}^{k−1} r_j r_{k−j}) / (2 r_0).
    fn sqrt(self) -> Self {
        let a = &self.c;
        if !(a[0].inf() > 0.0) {
            return Self::entire();
        }
        let mut r = [ZERO; N];
        r[0] = a[0].sqrt();
        for k in 1..N {
            let mut s = a[k];
            for j in 1..k {
                s -= r[j] * r[k - j];
            }
            r[k] = s / (int(2) * r[0]);
        }
        Taylor { c: r }
    }
    /// t = tanh a: t' = (1 − t²) a', so k t_k = Σ_{j=1}^k j a_j v_{k−j}, v = 1 − t².
    fn tanh(self) -> Self {
        let a = &self.c;
        let mut t = [ZERO; N];
        let mut v = [ZERO; N];
        t[0] = elementary::tanh(a[0]);
        v[0] = ONE - t[0].sqr();
        for k in 1..N {
            let mut s = ZERO;
            for j in 1..=k {
                s += int(j) * a[j] * v[k - j];
            }
            t[k] = s / int(k);
            // v_k = −Σ_{i=0}^k t_i t_{k−i}
            let mut w = ZERO;
            for i in 0..=k {
                w += t[i] * t[k - i];
            }
            v[k] = -w;
        }
        Taylor { c: t }
    }
    /// s' = a' cos a, c' = −a' sin a: k s_k = Σ j a_j c_{k−j}, k c_k = −Σ j a_j s_{k−j}.
    fn sin(self) -> Self {
        sin_cos(&self).0
    }
    fn cos(self) -> Self {
        sin_cos(&self).1
    }
    /// Symmetric Cauchy product; the constant term is `a_0.sqr()` (≥ 0).
    fn sqr(self) -> Self {
        let a = &self.c;
        let mut c = [ZERO; N];
        c[0] = a[0].sqr();
        for k in 1..N {
            let mut s = ZERO;
            let mut j = 0;
            while 2 * j < k {
                s += a[j] * a[k - j];
                j += 1;
            }
            s = int(2) * s;
            if k % 2 == 0 {
                s += a[k / 2].sqr();
            }
            c[k] = s;
        }
        Taylor { c }
    }
    /// Integer powers by binary exponentiation (1/a^|n| for n < 0); the constant term is the
    /// range enclosure `elementary::powi(a_0, n)`.
    fn powi(self, n: i32) -> Self {
        let a0 = self.c[0];
        if n == 0 {
            return Self::constant(ONE);
        }
        let mut p = self.powu(n.unsigned_abs());
        if n < 0 {
            if a0.contains(0.0) {
                return Self::entire();
            }
            p = Self::constant(ONE) / p;
        }
        p.c[0] = elementary::powi(a0, n);
        p
    }
    fn to_f64(self) -> f64 {
        self.c[0].mid()
    }
}

fn sin_cos<const N: usize>(x: &Taylor<N>) -> (Taylor<N>, Taylor<N>) {
    let a = &x.c;
    let mut s = [ZERO; N];
    let mut c = [ZERO; N];
    s[0] = elementary::sin(a[0]);
    c[0] = elementary::cos(a[0]);
    for k in 1..N {
        let mut ss = ZERO;
        let mut cc = ZERO;
        for j in 1..=k {
            ss += int(j) * a[j] * c[k - j];
            cc += int(j) * a[j] * s[k - j];
        }
        s[k] = ss / int(k);
        c[k] = -cc / int(k);
    }
    (Taylor { c: s }, Taylor { c })
}

// ---------------------------------------------------------------------------------------
// Log-scale positive numbers (proof §7, Lemma L).
// ---------------------------------------------------------------------------------------

/// A real q ≥ 0 known by e^lo ≤ q ≤ e^hi (e^{−∞} = 0; `hi = −∞` means q = 0 exactly).
/// The bounds are binary64 numbers obtained by outward rounding.
#[derive(Clone, Copy, Debug, PartialEq)]
struct LogPos {
    lo: f64,
    hi: f64,
}

impl LogPos {
    const ZERO: LogPos = LogPos {
        lo: NEG_INF,
        hi: NEG_INF,
    };

    /// From an enclosure of ln q.
    fn from_ln(x: Interval) -> LogPos {
        if x.is_empty() {
            return LogPos {
                lo: NEG_INF,
                hi: f64::INFINITY,
            };
        }
        LogPos {
            lo: x.inf(),
            hi: x.sup(),
        }
    }

    /// Product (sum of logarithms), rounded outward.
    fn mul(self, o: LogPos) -> LogPos {
        LogPos {
            lo: add_down(self.lo, o.lo),
            hi: add_up(self.hi, o.hi),
        }
    }

    /// Sum (log-sum-exp of the endpoints; ln(e^x + e^y) is increasing in x and y).
    fn add(self, o: LogPos) -> LogPos {
        LogPos {
            lo: lse_down(self.lo, o.lo),
            hi: lse_up(self.hi, o.hi),
        }
    }

    /// Quotient self/o (o > 0), rounded outward.
    fn div(self, o: LogPos) -> LogPos {
        let lo = if self.lo == NEG_INF || o.hi == f64::INFINITY || o.hi == NEG_INF {
            NEG_INF
        } else if self.lo == f64::INFINITY {
            f64::INFINITY
        } else {
            (point(self.lo) - point(o.hi)).inf()
        };
        let hi = if self.hi == NEG_INF {
            NEG_INF
        } else if self.hi == f64::INFINITY || o.lo == NEG_INF {
            f64::INFINITY
        } else {
            (point(self.hi) - point(o.lo)).sup()
        };
        LogPos { lo, hi }
    }

    /// An f64 estimate of ln(q_hi − q_lo), the log of the absolute width (refinement only).
    fn ln_width(self) -> f64 {
        if self.hi == f64::INFINITY {
            return f64::INFINITY;
        }
        if self.lo == NEG_INF {
            return self.hi;
        }
        let d = self.lo - self.hi;
        if d >= 0.0 {
            return NEG_INF;
        }
        self.hi + (-d.exp_m1()).ln()
    }
}

fn add_down(a: f64, b: f64) -> f64 {
    if a == NEG_INF || b == NEG_INF {
        NEG_INF
    } else if a == f64::INFINITY || b == f64::INFINITY {
        f64::INFINITY
    } else {
        (point(a) + point(b)).inf()
    }
}

fn add_up(a: f64, b: f64) -> f64 {
    if a == NEG_INF || b == NEG_INF {
        NEG_INF
    } else if a == f64::INFINITY || b == f64::INFINITY {
        f64::INFINITY
    } else {
        (point(a) + point(b)).sup()
    }
}

/// Enclosure of ln(e^x + e^y) for finite x, y: max + ln(1 + e^{min − max}).
fn lse_pt(x: f64, y: f64) -> Interval {
    let (mx, mn) = if x >= y { (x, y) } else { (y, x) };
    let d = point(mn) - point(mx);
    point(mx) + elementary::ln(ONE + elementary::exp(d))
}

fn lse_down(x: f64, y: f64) -> f64 {
    if x == NEG_INF {
        y
    } else if y == NEG_INF {
        x
    } else if x == f64::INFINITY || y == f64::INFINITY {
        f64::INFINITY
    } else {
        lse_pt(x, y).inf()
    }
}

fn lse_up(x: f64, y: f64) -> f64 {
    if x == NEG_INF {
        y
    } else if y == NEG_INF {
        x
    } else if x == f64::INFINITY || y == f64::INFINITY {
        f64::INFINITY
    } else {
        lse_pt(x, y).sup()
    }
}

/// Enclosure of softplus(t) = ln(1 + e^t) for a finite t (t + ln(1 + e^{−t}) for t > 0).
fn softplus_pt(t: f64) -> Interval {
    if t > 0.0 {
        point(t) + elementary::ln(ONE + elementary::exp(point(-t)))
    } else {
        elementary::ln(ONE + elementary::exp(point(t)))
    }
}

fn softplus_down(t: f64) -> f64 {
    if t == NEG_INF {
        0.0
    } else if t == f64::INFINITY {
        f64::INFINITY
    } else {
        softplus_pt(t).inf()
    }
}

fn softplus_up(t: f64) -> f64 {
    if t == NEG_INF {
        0.0
    } else if t == f64::INFINITY {
        f64::INFINITY
    } else {
        softplus_pt(t).sup()
    }
}

/// ln(1/(1 + ρ)) for ρ ∈ [e^lo, e^hi]: decreasing in ρ, so [−sp(hi), −sp(lo)].
fn ln_inv_one_plus(r: LogPos) -> LogPos {
    LogPos {
        lo: -softplus_up(r.hi),
        hi: -softplus_down(r.lo),
    }
}

/// f64 log-sum-exp (refinement estimates only).
fn lse_f(x: f64, y: f64) -> f64 {
    if x == NEG_INF {
        return y;
    }
    if y == NEG_INF {
        return x;
    }
    let (mx, mn) = if x >= y { (x, y) } else { (y, x) };
    if mx == f64::INFINITY {
        return mx;
    }
    mx + (mn - mx).exp().ln_1p()
}

// ---------------------------------------------------------------------------------------
// Densities (proof §1, §2).
// ---------------------------------------------------------------------------------------

/// The log scale density G (s = e^G, m = c e^{−G}).
#[derive(Clone, Copy)]
enum Density<'a> {
    /// G = c·U, U a 1-D landscape (E13).
    Landscape { l: &'a Landscape, c: Interval },
    /// G = c·λy²/2 − (d − 1) ln y (E14, built-in quadratic).
    RadialQuadratic {
        d_minus_1: f64,
        half_lambda: Interval,
        c: Interval,
    },
}

impl Density<'_> {
    fn c(&self) -> Interval {
        match *self {
            Density::Landscape { c, .. } | Density::RadialQuadratic { c, .. } => c,
        }
    }

    fn g<const N: usize>(&self, y: Taylor<N>) -> Taylor<N> {
        match *self {
            Density::Landscape { l, c } => Taylor::constant(c) * l.value(&[y]),
            Density::RadialQuadratic {
                d_minus_1,
                half_lambda,
                c,
            } => {
                let u = Taylor::constant(c * half_lambda) * y.sqr();
                if d_minus_1 == 0.0 {
                    u
                } else {
                    u - Taylor::constant(point(d_minus_1)) * y.ln()
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// One cell (proof §3, §5, §6).
// ---------------------------------------------------------------------------------------

/// Enclosures (log scale) of the cell integrals on [u, v]:
/// s = ∫ s, m = ∫ m, a = ∫∫_{u≤z≤y≤v} s(y) m(z), b = ∫∫_{u≤z≤y≤v} s(z) m(y).
#[derive(Clone, Copy, Debug)]
struct Cell {
    u: f64,
    v: f64,
    s: LogPos,
    m: LogPos,
    a: LogPos,
    b: LogPos,
    /// Enclosure of G over the cell.
    g: Interval,
    /// The cell lies in the start box [x1, x2] (x1 < x2).
    in_box: bool,
}

/// Σ_{k<ORDER} p_k J_k + r·J_ORDER, J_k = ∫ t^k over the cell: the integral of the Taylor
/// model (remainder r·t^ORDER with t^ORDER ≥ 0 since ORDER is even).
fn model_integral(p: &[Interval], r: Interval, jk: &[Interval]) -> Interval {
    let mut s = r * jk[TAYLOR_ORDER];
    for k in 0..TAYLOR_ORDER {
        s += p[k] * jk[k];
    }
    s
}

/// ∫_{t_lo}^{t_hi} P(t) ∫_{t_lo}^t Q(τ) dτ dt for Taylor models P + r_p t^ORDER,
/// Q + r_q τ^ORDER (proof §6, Lemma Q2): exact integral of the polynomial parts plus a bound on the rest.
#[allow(clippy::too_many_arguments)]
fn triangle(
    p: &[Interval],
    rp: Interval,
    q: &[Interval],
    rq: Interval,
    pw_lo: &[Interval],
    jk: &[Interval],
    rho: Interval,
    area: Interval,
) -> Interval {
    // inner(t) = Σ_k q_k (t^{k+1} − t_lo^{k+1})/(k+1), a polynomial of degree ORDER.
    let mut w = [ZERO; TAYLOR_ORDER + 1];
    for k in 0..TAYLOR_ORDER {
        let qk = q[k] / int(k + 1);
        w[k + 1] = qk;
        w[0] -= qk * pw_lo[k + 1];
    }
    let mut main = ZERO;
    for (i, pi) in p.iter().enumerate().take(TAYLOR_ORDER) {
        for (j, wj) in w.iter().enumerate() {
            main += *pi * *wj * jk[i + j];
        }
    }
    // |P| ≤ Σ|p_i| ρ^i, |remainder of P| ≤ |r_p| ρ^ORDER on the cell; same for Q.
    let bound = |c: &[Interval]| {
        let mut s = ZERO;
        let mut rk = ONE;
        for ci in c.iter().take(TAYLOR_ORDER) {
            s += point(ci.mag()) * rk;
            rk *= rho;
        }
        s
    };
    let rpow = elementary::powi(rho, TAYLOR_ORDER as i32);
    let ep = point(rp.mag()) * rpow;
    let eq = point(rq.mag()) * rpow;
    let delta = (area * (bound(p) * eq + ep * bound(q) + ep * eq)).sup();
    main + iv(-delta, delta)
}

/// Intersects two enclosures of the same number (both valid, so the intersection is
/// non-empty); if rounding ever made it empty, keeps the first.
fn meet(a: Interval, b: Interval) -> Interval {
    let m = a.intersection(b);
    if m.is_empty() {
        debug_assert!(false, "disjoint enclosures {a:?} {b:?}");
        a
    } else {
        m
    }
}

fn compute_cell(dens: &Density, u: f64, v: f64, in_box: bool) -> Cell {
    let c = dens.c();
    let ln_c = elementary::ln(c);
    let h = point(v) - point(u);
    let ln_h = elementary::ln(h);
    let area = h.sqr() / int(2);
    let ln_area = elementary::ln(area);
    let gc: Taylor<NC> = dens.g(Taylor::variable(iv(u, v)));
    let g_range = gc.c[0];
    // Crude bounds (proof §5, Lemma Q0): range of the integrands times the measure of the region.
    let mut s = ln_h + g_range;
    let mut m = ln_c + ln_h - g_range;
    // G(y) − G(z) for y, z in the cell lies in [−w, w], w = sup G − inf G (rounded up).
    let osc = (point(g_range.sup()) - point(g_range.inf())).sup();
    let mut a = ln_c + ln_area + iv(-osc, osc);
    let mut b = a;
    let mut mid = 0.5 * u + 0.5 * v;
    if !(mid >= u && mid <= v) {
        mid = u;
    }
    let gp: Taylor<NC> = dens.g(Taylor::variable(point(mid)));
    let gamma = gp.c[0].mid();
    if gamma.is_finite() && g_range.inf().is_finite() && g_range.sup().is_finite() {
        let gpg = gp.shift(point(gamma));
        let gcg = gc.shift(point(gamma));
        let fp = gpg.exp_series(); // e^{G − γ} at the midpoint
        let fm = (-gpg).exp_series(); // e^{−(G − γ)} at the midpoint
        let rp = gcg.exp_series().c[TAYLOR_ORDER]; // remainder coefficients over the cell
        let rm = (-gcg).exp_series().c[TAYLOR_ORDER];
        let t_lo = point(u) - point(mid);
        let t_hi = point(v) - point(mid);
        const NP: usize = 2 * TAYLOR_ORDER + 1;
        let mut pw_lo = [ONE; NP];
        let mut pw_hi = [ONE; NP];
        for k in 1..NP {
            pw_lo[k] = pw_lo[k - 1] * t_lo;
            pw_hi[k] = pw_hi[k - 1] * t_hi;
        }
        let mut jk = [ZERO; 2 * TAYLOR_ORDER];
        for (k, j) in jk.iter_mut().enumerate() {
            *j = (pw_hi[k + 1] - pw_lo[k + 1]) / int(k + 1);
        }
        let rho = point(t_lo.mag().max(t_hi.mag()));
        let ip = model_integral(&fp.c, rp, &jk);
        if ip.inf() > 0.0 {
            s = meet(s, point(gamma) + elementary::ln(ip));
        }
        let im = model_integral(&fm.c, rm, &jk);
        if im.inf() > 0.0 {
            m = meet(m, ln_c - point(gamma) + elementary::ln(im));
        }
        let ta = triangle(&fp.c, rp, &fm.c, rm, &pw_lo, &jk, rho, area);
        if ta.inf() > 0.0 {
            a = meet(a, ln_c + elementary::ln(ta));
        }
        let tb = triangle(&fm.c, rm, &fp.c, rp, &pw_lo, &jk, rho, area);
        if tb.inf() > 0.0 {
            b = meet(b, ln_c + elementary::ln(tb));
        }
    }
    Cell {
        u,
        v,
        s: LogPos::from_ln(s),
        m: LogPos::from_ln(m),
        a: LogPos::from_ln(a),
        b: LogPos::from_ln(b),
        g: g_range,
        in_box,
    }
}

// ---------------------------------------------------------------------------------------
// Assembly of the formulas (proof §1, §3, §7, §8).
// ---------------------------------------------------------------------------------------

/// Which exact formula is assembled from the cells.
#[derive(Clone, Copy, Debug)]
enum Formula {
    /// Both ends absorbing: E = w I1 + (1 − w) I2 (E13, Green's function).
    TwoEnds,
    /// Absorbing at the right end only: E(x) = e0 + Σ_{k ≥ k_x} (M_{k−1} s_k + a_k), with
    /// M_{k−1} = m0 + Σ_{j<k} m_j; m0 = ∫ m left of the first cell, e0 = the part of the outer
    /// integral left of the first cell.
    OneEnd { m0: LogPos, e0: LogPos },
}

struct Assembly {
    ln_e: LogPos,
    /// f64 estimates of each cell's contribution to the width of E (ln scale).
    contrib: Vec<f64>,
    /// Same for the parts outside the cells (tail, near-zero enclosure).
    special: f64,
    /// A lower bound (f64 estimate) on the relative width of any enclosure of E over the
    /// start box: the relative gap between certified values of E at points of the box.
    box_gap: f64,
}

/// Data shared by the mean-value enclosures of E over sub-boxes of the start box (two
/// absorbing ends, proof §8, Lemma MV): M prefix sums from a (M(a) = 0) and ln C, where
/// C = ∫_a^b s M / S(b) = Σ_k (M_{k−1} s_k + a_k) / S(b).
struct MeanValueData {
    mz: Vec<LogPos>,
    ln_c: LogPos,
}

impl MeanValueData {
    fn new(cells: &[Cell], s_total: LogPos) -> Self {
        let n = cells.len();
        let mut mz = vec![LogPos::ZERO; n + 1];
        for k in 0..n {
            mz[k + 1] = mz[k].add(cells[k].m);
        }
        let mut jsum = LogPos::ZERO;
        for k in 0..n {
            jsum = jsum.add(mz[k].mul(cells[k].s)).add(cells[k].a);
        }
        MeanValueData {
            mz,
            ln_c: jsum.div(s_total),
        }
    }

    /// Mean-value enclosure of E over the sub-box [t_k, t_{k+1}] = cell k (proof §8, Lemma MV):
    /// T'(x) = s(x)(C − M(x)), so for ξ in the cell E(ξ) ∈ E(t_k) + T'(X)·[0, h] and
    /// E(ξ) ∈ E(t_{k+1}) − T'(X)·[0, h], evaluated as E(t)·(1 + D) with
    /// D = e^{G(X) + ln M(t_k) − ln E(t)}·(C/M(t_k) − M(X)/M(t_k))·(±[0, h]).
    /// `e_lo`, `e_hi` enclose E(t_k), E(t_{k+1}). `None` when useless (overflow, 1 + D ≤ 0).
    fn enclose(&self, cell: &Cell, k: usize, e_lo: LogPos, e_hi: LogPos) -> Option<LogPos> {
        let to_iv = |x: LogPos| {
            if x.hi == NEG_INF || x.lo == f64::INFINITY {
                None
            } else {
                Some(iv(x.lo, x.hi))
            }
        };
        let m_ref = self.mz[k];
        let m_box = LogPos {
            lo: self.mz[k].lo,
            hi: self.mz[k + 1].hi,
        };
        let ratio_c = elementary::exp(to_iv(self.ln_c.div(m_ref))?);
        let ratio_m = elementary::exp(to_iv(m_box.div(m_ref))?);
        let diff = ratio_c - ratio_m;
        let h = iv(0.0, (point(cell.v) - point(cell.u)).sup());
        let mut out: Option<LogPos> = None;
        for (e_t, sign) in [(e_lo, 1.0), (e_hi, -1.0)] {
            let factor = LogPos::from_ln(cell.g).mul(m_ref).div(e_t);
            let d = elementary::exp(to_iv(factor)?) * diff * (point(sign) * h);
            let one_d = ONE + d;
            if !(one_d.inf() > 0.0) || !one_d.sup().is_finite() {
                continue;
            }
            let l1 = elementary::ln(one_d);
            let r = LogPos {
                lo: add_down(e_t.lo, l1.inf()),
                hi: add_up(e_t.hi, l1.sup()),
            };
            out = Some(match out {
                None => r,
                Some(o) => LogPos {
                    lo: o.lo.max(r.lo),
                    hi: o.hi.min(r.hi),
                },
            });
        }
        out
    }
}

/// f64 estimate of (e^{x.hi} − e^{x.lo}) / e^{r}.
fn rel_abs_width(x: LogPos, r: f64) -> f64 {
    if !(x.lo.is_finite() && x.hi.is_finite()) {
        return f64::INFINITY;
    }
    (x.hi - r).exp() - (x.lo - r).exp()
}

fn assemble(cells: &[Cell], f: Formula, kx1: usize, kx2: usize) -> Assembly {
    let n = cells.len();
    let mut contrib = vec![NEG_INF; n];
    // f64 suffix sums of s (upper ends) and prefix sums of m, for the sensitivities.
    let mut ss_f = vec![NEG_INF; n + 1];
    for k in (0..n).rev() {
        ss_f[k] = lse_f(ss_f[k + 1], cells[k].s.hi);
    }
    let mut mp_f = vec![NEG_INF; n + 1];
    for k in 0..n {
        mp_f[k + 1] = lse_f(mp_f[k], cells[k].m.hi);
    }
    match f {
        Formula::OneEnd { m0, e0 } => {
            let mut mpre = vec![m0; n + 1];
            for k in 0..n {
                mpre[k + 1] = mpre[k].add(cells[k].m);
            }
            let mut esuf = vec![LogPos::ZERO; n + 1];
            for k in (0..n).rev() {
                esuf[k] = esuf[k + 1].add(mpre[k].mul(cells[k].s)).add(cells[k].a);
            }
            let hull = LogPos {
                lo: esuf[kx2].lo,
                hi: esuf[kx1].hi,
            };
            let ln_e = hull.add(e0);
            for (j, cell) in cells.iter().enumerate() {
                let mut w = cell.m.ln_width() + ss_f[(j + 1).max(kx1)];
                if j >= kx1 {
                    w = lse_f(w, cell.s.ln_width() + mpre[j].hi);
                    w = lse_f(w, cell.a.ln_width());
                }
                contrib[j] = w;
            }
            let special = lse_f(m0.ln_width() + ss_f[kx1], e0.ln_width());
            // E is decreasing in x, so E(x1) ≥ E(x2) and the hull is [E(x2), E(x1)];
            // the gap between the two point enclosures is a lower bound on its width.
            let box_gap = if esuf[kx1].lo > esuf[kx2].hi {
                (esuf[kx1].lo - esuf[kx2].hi).exp_m1()
            } else {
                0.0
            };
            Assembly {
                ln_e,
                contrib,
                special,
                box_gap,
            }
        }
        Formula::TwoEnds => {
            let mut ps = vec![LogPos::ZERO; n + 1];
            for k in 0..n {
                ps[k + 1] = ps[k].add(cells[k].s);
            }
            let mut ss = vec![LogPos::ZERO; n + 1];
            for k in (0..n).rev() {
                ss[k] = ss[k + 1].add(cells[k].s);
            }
            let mut i1 = vec![LogPos::ZERO; n + 1];
            for k in 0..n {
                i1[k + 1] = i1[k].add(ps[k].mul(cells[k].m)).add(cells[k].b);
            }
            let mut i2 = vec![LogPos::ZERO; n + 1];
            for k in (0..n).rev() {
                i2[k] = i2[k + 1].add(ss[k + 1].mul(cells[k].m)).add(cells[k].a);
            }
            // E for x in the box between the boundaries k_lo ≤ k_hi: S_L, I1 increase and
            // S_R, I2 decrease with x (proof §8, Lemma X), so their hulls over the box are enclosures.
            let at = |k_lo: usize, k_hi: usize| {
                let s_l = LogPos {
                    lo: ps[k_lo].lo,
                    hi: ps[k_hi].hi,
                };
                let s_r = LogPos {
                    lo: ss[k_hi].lo,
                    hi: ss[k_lo].hi,
                };
                let j1 = LogPos {
                    lo: i1[k_lo].lo,
                    hi: i1[k_hi].hi,
                };
                let j2 = LogPos {
                    lo: i2[k_hi].lo,
                    hi: i2[k_lo].hi,
                };
                let rho = s_l.div(s_r);
                let rho_inv = LogPos {
                    lo: -rho.hi,
                    hi: -rho.lo,
                };
                let w = ln_inv_one_plus(rho); // w = S_R / (S_L + S_R)
                let w1 = ln_inv_one_plus(rho_inv); // 1 − w = S_L / (S_L + S_R)
                (w.mul(j1).add(w1.mul(j2)), s_l, s_r, j1, j2, w, w1)
            };
            let (mut ln_e, s_l, s_r, j1, j2, w, w1) = at(kx1, kx2);
            let mut box_gap = 0.0;
            if kx1 < kx2 {
                // The start box is the union of cells kx1..kx2: the hull over the cells of
                // (hull formula ∩ mean-value form) encloses E over the box.
                let mv = MeanValueData::new(cells, ps[n]);
                let points: Vec<LogPos> = (kx1..=kx2).map(|k| at(k, k).0).collect();
                let mut hull: Option<LogPos> = None;
                let mut subs = Vec::with_capacity(kx2 - kx1);
                for k in kx1..kx2 {
                    let mut sub = at(k, k + 1).0;
                    if let Some(e) = mv.enclose(&cells[k], k, points[k - kx1], points[k + 1 - kx1])
                    {
                        sub = LogPos {
                            lo: sub.lo.max(e.lo),
                            hi: sub.hi.min(e.hi),
                        };
                    }
                    subs.push(sub);
                    hull = Some(match hull {
                        None => sub,
                        Some(h) => LogPos {
                            lo: h.lo.min(sub.lo),
                            hi: h.hi.max(sub.hi),
                        },
                    });
                }
                if let Some(h) = hull {
                    ln_e = LogPos {
                        lo: ln_e.lo.max(h.lo),
                        hi: ln_e.hi.min(h.hi),
                    };
                }
                // E takes values in every point enclosure, so the result is at least as wide
                // as the gap between them: a lower bound on the achievable relative width.
                let top = points.iter().map(|p| p.lo).fold(NEG_INF, f64::max);
                let bottom = points.iter().map(|p| p.hi).fold(f64::INFINITY, f64::min);
                if top > bottom {
                    box_gap = (top - bottom).exp_m1();
                }
                // Refinement estimate for a box cell: the width of its enclosure beyond that
                // of the point enclosures at its ends.
                let r = ln_e.lo;
                for (i, sub) in subs.iter().enumerate() {
                    let k = kx1 + i;
                    let extra = rel_abs_width(*sub, r)
                        - rel_abs_width(points[i], r).max(rel_abs_width(points[i + 1], r));
                    if extra > 0.0 {
                        contrib[k] = r + extra.ln();
                    }
                }
            }
            let vi = lse_f(j1.hi, j2.hi);
            for (j, cell) in cells.iter().enumerate() {
                if cell.in_box {
                    continue;
                }
                let ws = cell.s.ln_width();
                let c = if j < kx1 {
                    let inner = lse_f(
                        lse_f(cell.m.ln_width() + ps[j].hi, cell.b.ln_width()),
                        ws + mp_f[kx1],
                    );
                    lse_f(w.hi + inner, ws + w.hi + w1.hi + vi - s_l.hi)
                } else {
                    let inner = lse_f(
                        lse_f(cell.m.ln_width() + ss[j + 1].hi, cell.a.ln_width()),
                        ws + mp_f[j],
                    );
                    lse_f(w1.hi + inner, ws + w.hi + w1.hi + vi - s_r.hi)
                };
                contrib[j] = c;
            }
            Assembly {
                ln_e,
                contrib,
                special: NEG_INF,
                box_gap,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Left ends: absorbing, −∞ with a tail bound (Lemma T), entrance at 0 (Lemma Z).
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum LeftEnd<'a> {
    /// Absorbing at a finite a (two-ends formula).
    Absorbing,
    /// Natural end at −∞; `k` is a certified lower bound of −U' on (−∞, first].
    Tail {
        l: &'a Landscape,
        c: Interval,
        k: f64,
        /// −U' is known to be non-increasing on (−∞, first] (Lemma T with J ≥ 2).
        monotone: bool,
    },
    /// Entrance at 0 (radial quadratic): analytic enclosure on [0, first].
    Entrance {
        d: usize,
        half_lambda: Interval,
        c: Interval,
    },
}

impl LeftEnd<'_> {
    fn formula(&self, first: f64) -> Formula {
        match *self {
            LeftEnd::Absorbing => Formula::TwoEnds,
            LeftEnd::Tail { l, c, k, .. } => {
                // Lemma T: ∫_{−∞}^{a0} m ≤ e^{−c U(a0)} / k.
                let u = l.value(&[point(first)]);
                let hi = (-(c * u) - elementary::ln(point(k))).sup();
                Formula::OneEnd {
                    m0: LogPos { lo: NEG_INF, hi },
                    e0: LogPos::ZERO,
                }
            }
            LeftEnd::Entrance { d, half_lambda, c } => {
                // Lemma Z with U(y0) = λ y0²/2 ≥ U(z) ≥ 0 on [0, y0]:
                // M(y0) ∈ (c y0^d / d)[e^{−cU(y0)}, 1], ∫_0^{y0} s M ∈ (c y0²/(2d))[1, e^{cU(y0)}].
                let y0 = point(first);
                let ln_y0 = elementary::ln(y0);
                let cu = c * half_lambda * y0.sqr();
                let ln_c = elementary::ln(c);
                let ln_d = elementary::ln(int(d));
                let base_m = ln_c + int(d) * ln_y0 - ln_d;
                let m0 = LogPos {
                    lo: (base_m - cu).inf(),
                    hi: base_m.sup(),
                };
                let base_e = ln_c + int(2) * ln_y0 - ln_d - elementary::ln(int(2));
                let e0 = LogPos {
                    lo: base_e.inf(),
                    hi: (base_e + cu).sup(),
                };
                Formula::OneEnd { m0, e0 }
            }
        }
    }

    /// A new, smaller first boundary when the part left of the cells is too uncertain.
    fn extend(&mut self, first: f64, b: f64) -> Option<f64> {
        match self {
            LeftEnd::Absorbing => None,
            LeftEnd::Tail { l, k, monotone, .. } => {
                let new = first - (b - first);
                if !new.is_finite() {
                    return None;
                }
                // −U' ≥ k holds on every subset of (−∞, first]. If −U' is non-increasing
                // there (J ≥ 2 in Lemma T), −U' ≥ −U'(new) on (−∞, new], so a certified
                // evaluation at `new` may improve k.
                if *monotone {
                    let mut g = [point(0.0)];
                    l.gradient(&[point(new)], &mut g);
                    let k_new = (-g[0]).inf();
                    if k_new > *k {
                        *k = k_new;
                    }
                }
                Some(new)
            }
            LeftEnd::Entrance { .. } => {
                let new = 0.5 * first;
                (new > 0.0).then_some(new)
            }
        }
    }
}

/// Checks that every operation of the tape is defined (hence analytic) at every point of
/// `x`, which may be unbounded: log/sqrt arguments > 0, denominators and bases of negative
/// powers ≠ 0. Unlike `Tape::check_domain`, unbounded intermediate values are allowed.
fn tape_defined_on(tape: &Tape, x: Interval) -> Result<(), String> {
    let mut vals: Vec<Interval> = Vec::with_capacity(tape.nodes.len());
    for n in &tape.nodes {
        let v = match *n {
            Node::Var(_) => x,
            Node::Const(c) => <Interval as Scalar>::from_const(c),
            Node::Add(a, b) => vals[a] + vals[b],
            Node::Sub(a, b) => vals[a] - vals[b],
            Node::Mul(a, b) => vals[a] * vals[b],
            Node::Div(a, b) => {
                if vals[b].contains(0.0) {
                    return Err(format!(
                        "a denominator ranges over [{}, {}], which contains 0",
                        vals[b].inf(),
                        vals[b].sup()
                    ));
                }
                vals[a] / vals[b]
            }
            Node::Neg(a) => -vals[a],
            Node::Powi(a, k) => {
                if k < 0 && vals[a].contains(0.0) {
                    return Err("a negative power of an argument that may be 0".into());
                }
                elementary::powi(vals[a], k)
            }
            Node::Call(f, a) => {
                let u = vals[a];
                match f {
                    Func::Log | Func::Sqrt if !(u.inf() > 0.0) => {
                        return Err(format!(
                            "log/sqrt argument ranges over [{}, {}], not certified positive",
                            u.inf(),
                            u.sup()
                        ));
                    }
                    Func::Exp => elementary::exp(u),
                    Func::Log => elementary::ln(u),
                    Func::Sqrt => u.sqrt(),
                    Func::Tanh => elementary::tanh(u),
                    Func::Sin => elementary::sin(u),
                    Func::Cos => elementary::cos(u),
                }
            }
        };
        if v.is_empty() {
            return Err("an intermediate value is undefined".into());
        }
        vals.push(v);
    }
    Ok(())
}

/// Lemma T: a certified k > 0 with −U'(z) ≥ k for all z ≤ a0, from sign conditions on the
/// Taylor coefficients u_j = U^{(j)}/j! over H = (−∞, a0] and at a0:
/// either u_1(H) < 0 (then k = −sup u_1(H)), or for some J ≥ 2, (−1)^J u_J(H) ≥ 0 and
/// (−1)^j u_j(a0) ≥ 0 for 2 ≤ j < J (then k = −sup u_1(a0), if positive).
/// Returns (k, monotone), monotone = true when −U' is proved non-increasing (J ≥ 2).
fn tail_slope(l: &Landscape, a0: f64) -> Result<(f64, bool), String> {
    if let Landscape::Expr(t) = l {
        tape_defined_on(t, iv(NEG_INF, a0))?;
    }
    let uh: Taylor<NC> = l.value(&[Taylor::variable(iv(NEG_INF, a0))]);
    let ua: Taylor<NC> = l.value(&[Taylor::variable(point(a0))]);
    let d1h = uh.c[1];
    if d1h.sup() < 0.0 {
        return Ok((-d1h.sup(), false));
    }
    let k = -ua.c[1].sup();
    if !(k > 0.0) {
        return Err(format!("U'({a0}) is not certified negative"));
    }
    let signed = |j: usize, x: Interval| if j % 2 == 0 { x } else { -x };
    for big_j in 2..NC {
        if !(signed(big_j, uh.c[big_j]).inf() >= 0.0) {
            continue;
        }
        if (2..big_j).all(|j| signed(j, ua.c[j]).inf() >= 0.0) {
            return Ok((k, true));
        }
    }
    Err(format!(
        "no derivative order J ≤ {TAYLOR_ORDER} with (−1)^J U^(J) ≥ 0 on (−∞, {a0}] and the sign conditions at {a0}"
    ))
}

// ---------------------------------------------------------------------------------------
// Adaptive driver.
// ---------------------------------------------------------------------------------------

struct Problem<'a> {
    dens: Density<'a>,
    left: LeftEnd<'a>,
    /// Boundaries of the initial partition (must contain x1 and x2).
    bounds: Vec<f64>,
    x1: f64,
    x2: f64,
    b: f64,
    rel_tol: f64,
    max_cells: usize,
    method: String,
}

fn rel_width(ln_e: LogPos) -> f64 {
    if !(ln_e.lo.is_finite() && ln_e.hi.is_finite()) {
        return f64::INFINITY;
    }
    let w = (point(ln_e.hi) - point(ln_e.lo)).sup();
    // exp_m1 in f64 with a small safety factor (a tolerance check, not a certified bound).
    w.exp_m1() * (1.0 + 1e-12)
}

fn solve(mut p: Problem) -> Result<ExitTimeEnclosure, ExitTimeError> {
    let in_box = |u: f64, v: f64| p.x1 < p.x2 && u >= p.x1 && v <= p.x2;
    let mut cells: Vec<Cell> = p
        .bounds
        .windows(2)
        .map(|w| compute_cell(&p.dens, w[0], w[1], in_box(w[0], w[1])))
        .collect();
    let mut goal = 0.25;
    let mut last_rel = f64::INFINITY;
    // Stagnation: the best width so far and the number of cells when it was reached.
    let mut best = (f64::INFINITY, cells.len());
    for _round in 0..MAX_ROUNDS {
        let first = cells[0].u;
        let formula = p.left.formula(first);
        let kx1 = match &p.left {
            LeftEnd::Entrance { .. } => 0,
            _ => cells
                .iter()
                .position(|c| c.u >= p.x1)
                .unwrap_or(cells.len()),
        };
        let kx2 = match &p.left {
            LeftEnd::Entrance { .. } => 0,
            _ => cells
                .iter()
                .position(|c| c.u >= p.x2)
                .unwrap_or(cells.len()),
        };
        let asm = assemble(&cells, formula, kx1, kx2);
        let rel = rel_width(asm.ln_e);
        last_rel = rel;
        if rel <= p.rel_tol {
            let ln_mean = iv(asm.ln_e.lo, asm.ln_e.hi);
            return Ok(ExitTimeEnclosure {
                ln_mean,
                mean: elementary::exp(ln_mean),
                rel_width: rel,
                cells: cells.len(),
                method: format!(
                    "{}; Taylor models of order {TAYLOR_ORDER} on {} cells, log-scale interval arithmetic (proofs/exit-time-formulas.md)",
                    p.method,
                    cells.len()
                ),
            });
        }
        if rel < 0.5 * best.0 || !best.0.is_finite() {
            best = (rel, cells.len());
        } else if cells.len() > STALL_FACTOR * best.1 + 64 {
            return Err(ExitTimeError::ToleranceNotReached {
                achieved: rel,
                requested: p.rel_tol,
                cells: cells.len(),
                max_cells: p.max_cells,
                hint: format!(
                    "the width stopped shrinking ({:.3e} with {} cells): rounding of binary64 bounds or the start box limit it",
                    best.0, best.1
                ),
            });
        }
        if asm.box_gap > p.rel_tol {
            return Err(ExitTimeError::ToleranceNotReached {
                achieved: rel,
                requested: p.rel_tol,
                cells: cells.len(),
                max_cells: p.max_cells,
                hint: format!(
                    "E[τ] varies by at least {:.3e} (relative) over the start box [{}, {}]",
                    asm.box_gap, p.x1, p.x2
                ),
            });
        }
        // Target for the estimated total width: goal · rel_tol · E.
        let ln_e_est = if asm.ln_e.lo.is_finite() {
            asm.ln_e.lo
        } else {
            asm.ln_e.hi
        };
        let mut g = ln_e_est + (goal * p.rel_tol).ln();
        let total = asm.contrib.iter().fold(asm.special, |t, &c| lse_f(t, c));
        if !g.is_finite() {
            g = f64::INFINITY;
        }
        if total <= g {
            // The estimate is met but the rigorous width is not (dependency, rounding, the
            // start box): ask for more.
            goal *= 0.25;
            if goal < 1e-8 {
                break;
            }
            continue;
        }
        let n = cells.len();
        let thr = g - ((n + 2) as f64).ln();
        let mut changed = false;
        let mut prepended = false;
        if asm.special > thr {
            if let Some(new) = p.left.extend(first, p.b) {
                check_extension(&p.left, new, p.b)?;
                let c = compute_cell(&p.dens, new, first, false);
                cells.insert(0, c);
                changed = true;
                prepended = true;
            }
        }
        let mut next = Vec::with_capacity(2 * cells.len());
        for (j, cell) in cells.iter().enumerate() {
            // Index shift if a cell was prepended: contributions refer to the old cells.
            let jj = if prepended { j.checked_sub(1) } else { Some(j) };
            let split = match jj {
                Some(jj) => asm.contrib[jj] > thr,
                None => false,
            };
            let mid = 0.5 * cell.u + 0.5 * cell.v;
            if split && mid > cell.u && mid < cell.v {
                next.push(compute_cell(&p.dens, cell.u, mid, cell.in_box));
                next.push(compute_cell(&p.dens, mid, cell.v, cell.in_box));
                changed = true;
            } else {
                next.push(*cell);
            }
        }
        cells = next;
        if cells.len() > p.max_cells {
            return Err(ExitTimeError::ToleranceNotReached {
                achieved: rel,
                requested: p.rel_tol,
                cells: cells.len(),
                max_cells: p.max_cells,
                hint: "raise max_cells or rel_tol".into(),
            });
        }
        if !changed {
            goal *= 0.25;
            if goal < 1e-8 {
                break;
            }
        }
    }
    let hint = if p.x1 < p.x2 {
        "the start box [x1, x2] may be too wide for this tolerance"
    } else {
        "no refinement reduces the width further (cells at the resolution of binary64?)"
    };
    p.max_cells = p.max_cells.max(cells.len());
    Err(ExitTimeError::ToleranceNotReached {
        achieved: last_rel,
        requested: p.rel_tol,
        cells: cells.len(),
        max_cells: p.max_cells,
        hint: hint.into(),
    })
}

fn check_extension(left: &LeftEnd, new: f64, b: f64) -> Result<(), ExitTimeError> {
    if let LeftEnd::Tail { l, .. } = left {
        l.check_domain(&[iv(new, b)])
            .map_err(|e| ExitTimeError::Undefined(e.to_string()))?;
    }
    Ok(())
}

fn check_common(eps2: Interval, rel_tol: f64, max_cells: usize) -> Result<Interval, ExitTimeError> {
    if eps2.is_empty() || !(eps2.inf() > 0.0) || !eps2.sup().is_finite() {
        return Err(ExitTimeError::InvalidInput(format!(
            "eps2 = ε² must be a finite positive interval, got {eps2:?}"
        )));
    }
    if !(rel_tol > 0.0 && rel_tol.is_finite()) {
        return Err(ExitTimeError::InvalidInput(format!(
            "rel_tol must be positive and finite, got {rel_tol}"
        )));
    }
    if max_cells < 4 * INITIAL_CELLS {
        return Err(ExitTimeError::InvalidInput(format!(
            "max_cells must be at least {}, got {max_cells}",
            4 * INITIAL_CELLS
        )));
    }
    Ok(int(2) / eps2)
}

/// Boundaries a < … < x1 ≤ x2 < … < b: [a, x1] and [x2, b] cut into `INITIAL_CELLS` equal
/// cells each, and [x1, x2] one cell when x1 < x2. x1 and x2 are boundaries.
fn initial_partition(a: f64, x1: f64, x2: f64, b: f64) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    let mut push = |x: f64| {
        if out.last().is_none_or(|&l| x > l) {
            out.push(x);
        }
    };
    for (lo, hi) in [(a, x1), (x2, b)] {
        for i in 0..INITIAL_CELLS {
            let t = i as f64 / INITIAL_CELLS as f64;
            let x = lo + (hi - lo) * t;
            if x < hi {
                push(x);
            }
        }
        push(hi);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Public API.
// ---------------------------------------------------------------------------------------

/// Certified enclosure of E_{x0}\[τ\] for dX = −U'(X) dt + ε dW on (lo, hi), U = `l` (a 1-D
/// landscape), ε² ∈ `eps2`, for every start x0 ∈ `x0` (THEORY E13).
///
/// - `lo` finite: both ends absorbing (Green's-function formula).
/// - `lo = −∞`: natural lower end, absorbing at `hi`; needs a certified tail bound (Lemma T
///   of `proofs/exit-time-formulas.md`: for some a0 < x0, U'(a0) < 0 and a sign condition on
///   a derivative of U over (−∞, a0]; fails with [`ExitTimeError::TailNotCertified`]).
///
/// `x0` may be a box (e.g. the certified minimiser box): the result encloses E_x\[τ\] for all
/// x in it. `eps2` is an enclosure of ε² = κ²σ² (use `num::point` for an exact value). The
/// enclosure is refined until its relative width is ≤ `rel_tol`, with at most `max_cells`
/// cells.
pub fn mean_exit_time_interval(
    l: &Landscape,
    lo: f64,
    hi: f64,
    x0: Interval,
    eps2: Interval,
    rel_tol: f64,
    max_cells: usize,
) -> Result<ExitTimeEnclosure, ExitTimeError> {
    if l.dim() != 1 {
        return Err(ExitTimeError::NotOneDimensional(l.dim()));
    }
    let c = check_common(eps2, rel_tol, max_cells)?;
    if !hi.is_finite() || lo.is_nan() || lo == f64::INFINITY || !(lo < hi) {
        return Err(ExitTimeError::InvalidInput(format!(
            "need lo < hi with hi finite (lo may be −∞), got ({lo}, {hi})"
        )));
    }
    if x0.is_empty() || !(x0.inf() > lo && x0.sup() < hi) {
        return Err(ExitTimeError::InvalidInput(format!(
            "the start x0 = [{}, {}] must lie inside ({lo}, {hi})",
            x0.inf(),
            x0.sup()
        )));
    }
    let (x1, x2) = (x0.inf(), x0.sup());
    let dens = Density::Landscape { l, c };
    if lo.is_finite() {
        l.check_domain(&[iv(lo, hi)])
            .map_err(|e| ExitTimeError::Undefined(e.to_string()))?;
        let bounds = initial_partition(lo, x1, x2, hi);
        return solve(Problem {
            dens,
            left: LeftEnd::Absorbing,
            bounds,
            x1,
            x2,
            b: hi,
            rel_tol,
            max_cells,
            method: "E13, both ends absorbing: E = w I1 + (1 − w) I2 (Green's function)".into(),
        });
    }
    // a = −∞: find a0 < x1 with a certified tail bound that is negligible a priori.
    let scale = 1f64.max(x1.abs()).max(hi - x1);
    let mut last_err = String::from("no candidate a0 tried");
    let mut found = None;
    for i in 0..48 {
        let a0 = x1 - scale * 2f64.powi(i - 2);
        if !a0.is_finite() {
            break;
        }
        match tail_slope(l, a0) {
            Err(e) => last_err = e,
            Ok((k, monotone)) => {
                if let Err(e) = l.check_domain(&[iv(a0, hi)]) {
                    return Err(ExitTimeError::Undefined(e.to_string()));
                }
                // Compare with a crude lower bound of ∫_{x1−δ}^{x1} m, δ = (x1 − a0)/2.
                let delta = 0.5 * (x1 - a0);
                let u_near = l.value(&[iv(x1 - delta, x1)]);
                let ln_m_near =
                    (elementary::ln(c) + elementary::ln(point(delta)) - c * u_near).inf();
                let u_a0 = l.value(&[point(a0)]);
                let ln_tail = (-(c * u_a0) - elementary::ln(point(k))).sup();
                if ln_tail <= ln_m_near + (1e-3 * rel_tol).ln() {
                    found = Some((a0, k, monotone));
                    break;
                }
                last_err = format!("the tail bound at a0 = {a0} is not yet negligible");
            }
        }
    }
    let Some((a0, k, monotone)) = found else {
        return Err(ExitTimeError::TailNotCertified(format!(
            "needs a0 < x0 with U'(a0) < 0 and (−1)^J U^(J) ≥ 0 on (−∞, a0] for some J (Lemma T), and e^(−cU(a0))/k negligible; last attempt: {last_err}"
        )));
    };
    let bounds = initial_partition(a0, x1, x2, hi);
    solve(Problem {
        dens,
        left: LeftEnd::Tail { l, c, k, monotone },
        bounds,
        x1,
        x2,
        b: hi,
        rel_tol,
        max_cells,
        method: format!(
            "E13, natural end at −∞ and absorbing at {hi}: E = ∫_x^b s ∫_(−∞)^y m, tail beyond a0 = {a0:.6e} by Lemma T (−U' ≥ {k:.6e})"
        ),
    })
}

/// Certified enclosure of E_0\[τ\] for continuous SGD on L(θ) = λ|θ|²/2 in R^`dim` (the
/// built-in quadratic with Hessian λI), isotropic noise with ε² ∈ `eps2`, exit from the
/// ball of radius `radius` centred at the minimiser 0, started at 0 (THEORY E14).
pub fn mean_exit_time_radial_quadratic(
    dim: usize,
    lambda: f64,
    radius: f64,
    eps2: Interval,
    rel_tol: f64,
    max_cells: usize,
) -> Result<ExitTimeEnclosure, ExitTimeError> {
    let c = check_common(eps2, rel_tol, max_cells)?;
    if dim == 0 || dim > 1_000_000 {
        return Err(ExitTimeError::InvalidInput(format!(
            "dim must be between 1 and 1e6, got {dim}"
        )));
    }
    if !(lambda > 0.0 && lambda.is_finite()) {
        return Err(ExitTimeError::InvalidInput(format!(
            "λ must be positive and finite (0 must be a strict minimum), got {lambda}"
        )));
    }
    if !(radius > 0.0 && radius.is_finite()) {
        return Err(ExitTimeError::InvalidInput(format!(
            "the radius must be positive and finite, got {radius}"
        )));
    }
    let half_lambda = point(0.5) * point(lambda);
    // Lemma Z widths are ≈ cλy0²/2 relative; start with ≤ 0.05·rel_tol.
    let y0 = (0.25 * radius).min((0.1 * rel_tol / (c.sup() * lambda)).sqrt());
    if !(y0 > 0.0) {
        return Err(ExitTimeError::InvalidInput(
            "the radius is too small for the near-zero enclosure".into(),
        ));
    }
    let mut bounds = vec![y0];
    let mut y = 2.0 * y0;
    while y < radius / INITIAL_CELLS as f64 {
        bounds.push(y);
        y *= 2.0;
    }
    let first_uniform = radius / INITIAL_CELLS as f64;
    for i in 1..=INITIAL_CELLS {
        let x = if i == INITIAL_CELLS {
            radius
        } else {
            first_uniform * i as f64
        };
        if x > *bounds.last().unwrap() {
            bounds.push(x);
        }
    }
    let dens = Density::RadialQuadratic {
        d_minus_1: (dim - 1) as f64,
        half_lambda,
        c,
    };
    solve(Problem {
        dens,
        left: LeftEnd::Entrance {
            d: dim,
            half_lambda,
            c,
        },
        bounds,
        x1: 0.0,
        x2: 0.0,
        b: radius,
        rel_tol,
        max_cells,
        method: format!(
            "E14, radial process in d = {dim}: E = ∫_0^r s ∫_0^y m, near-zero part by Lemma Z"
        ),
    })
}

/// [`mean_exit_time_radial_quadratic`] for a landscape: the built-in quadratic with Hessian
/// λI (its minimiser is 0), ball of radius `radius` around 0, start at 0.
pub fn mean_exit_time_radial(
    l: &Landscape,
    radius: f64,
    eps2: Interval,
    rel_tol: f64,
    max_cells: usize,
) -> Result<ExitTimeEnclosure, ExitTimeError> {
    match l {
        Landscape::Quadratic {
            dim,
            hessian: QuadraticHessian::Scaled(lambda),
        } => mean_exit_time_radial_quadratic(*dim, *lambda, radius, eps2, rel_tol, max_cells),
        other => Err(ExitTimeError::NotRadial(other.describe())),
    }
}
