//! Number types the landscapes are evaluated in.
//!
//! Every landscape is written once, generic over [`Scalar`], and evaluated in
//! - `f64` (simulation, searches; never reported as certified),
//! - [`inari::Interval`] (outward-rounded enclosures; the only source of certified numbers),
//! - [`Dual`] over either of them (forward-mode derivatives, used for Hessians).
//!
//! Elementary functions of intervals come from [`elementary`]: correctly rounded
//! CORE-MATH values widened by one ulp (proof: `proofs/elementary-enclosures.md`).

pub mod dual;
pub mod elementary;
pub mod imat;
pub mod lanes;

pub use dual::Dual;
use inari::Interval;
use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// A real constant known by a rigorous enclosure `[lo, hi]` and a nearest value `mid`.
///
/// Decimal literals such as `0.1` are not binary64 numbers: f64 evaluation uses `mid`,
/// interval evaluation uses `[lo, hi]`, so the certified landscape contains both the
/// landscape the user wrote and the one the simulation runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Const {
    pub lo: f64,
    pub mid: f64,
    pub hi: f64,
}

impl Const {
    /// An exactly representable constant.
    pub fn exact(x: f64) -> Self {
        Const {
            lo: x,
            mid: x,
            hi: x,
        }
    }

    /// The enclosure of a decimal literal: exact when the binary64 value is exact
    /// (integers below 2^53), otherwise the nearest value widened by one ulp each side.
    /// Rust's float parser rounds to nearest, so the real value lies within half an ulp.
    pub fn from_decimal(text: &str) -> Option<Self> {
        let v: f64 = text.parse().ok()?;
        if !v.is_finite() {
            return None;
        }
        let is_integer_text = text.bytes().all(|b| b.is_ascii_digit());
        if is_integer_text && v.abs() < 9.007_199_254_740_992e15 {
            return Some(Const::exact(v));
        }
        Some(Const {
            lo: v.next_down(),
            mid: v,
            hi: v.next_up(),
        })
    }
}

/// The scalar field a landscape is evaluated in.
pub trait Scalar:
    Copy
    + Debug
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// An exactly representable number.
    fn from_f64(x: f64) -> Self;
    /// A constant known by an enclosure.
    fn from_const(c: Const) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn sqr(self) -> Self;
    fn powi(self, n: i32) -> Self;
    /// A representative f64 value (the midpoint for intervals, the value for duals).
    fn to_f64(self) -> f64;

    fn zero() -> Self {
        Self::from_f64(0.0)
    }
    fn one() -> Self {
        Self::from_f64(1.0)
    }
}

impl Scalar for f64 {
    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn from_const(c: Const) -> Self {
        c.mid
    }
    #[inline]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline]
    fn ln(self) -> Self {
        f64::ln(self)
    }
    #[inline]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline]
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    #[inline]
    fn sin(self) -> Self {
        f64::sin(self)
    }
    #[inline]
    fn cos(self) -> Self {
        f64::cos(self)
    }
    #[inline]
    fn sqr(self) -> Self {
        self * self
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        f64::powi(self, n)
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
}

impl Scalar for Interval {
    #[inline]
    fn from_f64(x: f64) -> Self {
        point(x)
    }
    #[inline]
    fn from_const(c: Const) -> Self {
        Interval::try_from((c.lo, c.hi)).unwrap_or(Interval::ENTIRE)
    }
    fn exp(self) -> Self {
        elementary::exp(self)
    }
    fn ln(self) -> Self {
        elementary::ln(self)
    }
    fn sqrt(self) -> Self {
        // inari's sqrt is set-based (drops negative parts); the domain pass of the
        // expression compiler rejects arguments that are not >= 0 before we get here.
        if self.is_empty() || self.inf() < 0.0 {
            return Interval::ENTIRE;
        }
        Interval::sqrt(self)
    }
    fn tanh(self) -> Self {
        elementary::tanh(self)
    }
    fn sin(self) -> Self {
        elementary::sin(self)
    }
    fn cos(self) -> Self {
        elementary::cos(self)
    }
    #[inline]
    fn sqr(self) -> Self {
        Interval::sqr(self)
    }
    fn powi(self, n: i32) -> Self {
        elementary::powi(self, n)
    }
    fn to_f64(self) -> f64 {
        self.mid()
    }
}

/// The singleton interval `[x, x]` (`ENTIRE` for a NaN, so that nothing is certified).
#[inline]
pub fn point(x: f64) -> Interval {
    Interval::try_from((x, x)).unwrap_or(Interval::ENTIRE)
}

/// `[lo, hi]`, or `ENTIRE` when the bounds are not an interval (NaN or inverted).
#[inline]
pub fn iv(lo: f64, hi: f64) -> Interval {
    Interval::try_from((lo, hi)).unwrap_or(Interval::ENTIRE)
}
