//! Forward-mode dual numbers `v + d·ε` (ε² = 0) over any [`Scalar`].
//!
//! Over intervals every operation applies the chain rule to enclosures, so the tangent
//! part encloses the directional derivative at every point of the argument box.

use super::{Const, Scalar};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// A value and one directional derivative.
#[derive(Clone, Copy, Debug)]
pub struct Dual<S> {
    pub v: S,
    pub d: S,
}

impl<S: Scalar> Dual<S> {
    pub fn new(v: S, d: S) -> Self {
        Dual { v, d }
    }
    pub fn constant(v: S) -> Self {
        Dual { v, d: S::zero() }
    }
}

impl<S: Scalar> Add for Dual<S> {
    type Output = Self;
    #[inline]
    fn add(self, o: Self) -> Self {
        Dual::new(self.v + o.v, self.d + o.d)
    }
}
impl<S: Scalar> Sub for Dual<S> {
    type Output = Self;
    #[inline]
    fn sub(self, o: Self) -> Self {
        Dual::new(self.v - o.v, self.d - o.d)
    }
}
impl<S: Scalar> Mul for Dual<S> {
    type Output = Self;
    #[inline]
    fn mul(self, o: Self) -> Self {
        Dual::new(self.v * o.v, self.d * o.v + self.v * o.d)
    }
}
impl<S: Scalar> Div for Dual<S> {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let q = self.v / o.v;
        // (u/w)' = (u' - q w') / w
        Dual::new(q, (self.d - q * o.d) / o.v)
    }
}
impl<S: Scalar> Neg for Dual<S> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        Dual::new(-self.v, -self.d)
    }
}

impl<S: Scalar> Scalar for Dual<S> {
    fn from_f64(x: f64) -> Self {
        Dual::constant(S::from_f64(x))
    }
    fn from_const(c: Const) -> Self {
        Dual::constant(S::from_const(c))
    }
    fn exp(self) -> Self {
        let e = self.v.exp();
        Dual::new(e, e * self.d)
    }
    fn ln(self) -> Self {
        Dual::new(self.v.ln(), self.d / self.v)
    }
    fn sqrt(self) -> Self {
        let s = self.v.sqrt();
        Dual::new(s, self.d / (S::from_f64(2.0) * s))
    }
    fn tanh(self) -> Self {
        let t = self.v.tanh();
        Dual::new(t, (S::one() - t.sqr()) * self.d)
    }
    fn sin(self) -> Self {
        Dual::new(self.v.sin(), self.v.cos() * self.d)
    }
    fn cos(self) -> Self {
        Dual::new(self.v.cos(), -(self.v.sin() * self.d))
    }
    fn sqr(self) -> Self {
        Dual::new(self.v.sqr(), S::from_f64(2.0) * self.v * self.d)
    }
    fn powi(self, n: i32) -> Self {
        match n {
            0 => Dual::constant(S::one()),
            1 => self,
            _ => Dual::new(
                self.v.powi(n),
                S::from_f64(n as f64) * self.v.powi(n - 1) * self.d,
            ),
        }
    }
    fn to_f64(self) -> f64 {
        self.v.to_f64()
    }
}
