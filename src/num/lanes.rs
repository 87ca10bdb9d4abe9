//! [`Lanes`]: `N` independent f64 values processed in lock-step, a [`Scalar`] whose
//! arithmetic is, lane by lane, exactly the f64 arithmetic of [`Scalar for f64`].
//!
//! The simulation runs `N` trajectories through one evaluation of the landscape's
//! gradient (one tape walk for `N` particles instead of `N` walks), and the compiler
//! turns the per-lane loops below into SIMD instructions. Every operation is the IEEE
//! operation of the f64 implementation applied to each lane, in the same order, so lane
//! `l` of any computation is bitwise the f64 computation on the lane-`l` inputs:
//! - `+ − × ÷`, negation, `sqrt`, [`Lanes::mul_add`]: correctly rounded per lane;
//! - `exp`, `ln`, `tanh`, `sin`, `cos`: the same `f64` library function per lane;
//! - [`Scalar::powi`]: binary powering in the order of LLVM's `powi` lowering and of the
//!   `__powidf2` runtime routine that `f64::powi` calls for exponents not known at
//!   compile time (`r = 1; loop { if n odd { r *= a }; n /= 2; if n == 0 break; a *= a }`,
//!   then `1/r` for negative `n`). The tests compare it with `f64::powi` bitwise.
//!
//! [`Scalar for f64`]: Scalar

use super::{Const, Scalar};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// `N` f64 lanes (`N` = 4, 8 or 16 in the simulation).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(32))]
pub struct Lanes<const N: usize>(pub [f64; N]);

/// x86-64 with AVX2 and FMA (the crate's build target): lane groups of four as
/// `__m256d`. Written with intrinsics so that the compiler keeps each group in one
/// register instead of re-vectorising loops over lane vectors across their elements.
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma"
))]
mod simd {
    pub use std::arch::x86_64::*;

    /// Whether `Lanes<N>` is processed as `N/4` groups of four.
    pub const fn grouped(n: usize) -> bool {
        n % 4 == 0
    }
}

impl<const N: usize> Lanes<N> {
    /// All lanes equal to `x`.
    #[inline(always)]
    pub fn splat(x: f64) -> Self {
        Lanes([x; N])
    }

    /// Lane-wise `f(self[l])`.
    #[inline(always)]
    pub fn map(self, f: impl Fn(f64) -> f64) -> Self {
        let mut out = self.0;
        for v in out.iter_mut() {
            *v = f(*v);
        }
        Lanes(out)
    }

    /// Lane-wise `f(self[l], other[l])`.
    #[inline(always)]
    pub fn zip(self, other: Self, f: impl Fn(f64, f64) -> f64) -> Self {
        let mut out = self.0;
        for (v, w) in out.iter_mut().zip(other.0) {
            *v = f(*v, w);
        }
        Lanes(out)
    }

    /// Lane-wise `f(self[l], other[l])`, with `g` doing the same on groups of four.
    #[inline(always)]
    #[allow(unused_variables)]
    fn zip4(
        self,
        other: Self,
        #[cfg(all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        ))]
        g: impl Fn(simd::__m256d, simd::__m256d) -> simd::__m256d,
        f: impl Fn(f64, f64) -> f64,
    ) -> Self {
        #[cfg(all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        ))]
        if simd::grouped(N) {
            let mut out = [0.0; N];
            for c in (0..N).step_by(4) {
                // SAFETY: c + 4 ≤ N; AVX2 is enabled at compile time.
                unsafe {
                    let a = simd::_mm256_loadu_pd(self.0.as_ptr().add(c));
                    let b = simd::_mm256_loadu_pd(other.0.as_ptr().add(c));
                    simd::_mm256_storeu_pd(out.as_mut_ptr().add(c), g(a, b));
                }
            }
            return Lanes(out);
        }
        self.zip(other, f)
    }

    /// Lane-wise fused `self · a + b` (one rounding), as [`f64::mul_add`].
    #[inline(always)]
    pub fn mul_add(self, a: Self, b: Self) -> Self {
        #[cfg(all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        ))]
        if simd::grouped(N) {
            let mut out = [0.0; N];
            for c in (0..N).step_by(4) {
                // SAFETY: c + 4 ≤ N; AVX2 and FMA are enabled at compile time.
                unsafe {
                    let x = simd::_mm256_loadu_pd(self.0.as_ptr().add(c));
                    let y = simd::_mm256_loadu_pd(a.0.as_ptr().add(c));
                    let z = simd::_mm256_loadu_pd(b.0.as_ptr().add(c));
                    simd::_mm256_storeu_pd(out.as_mut_ptr().add(c), simd::_mm256_fmadd_pd(x, y, z));
                }
            }
            return Lanes(out);
        }
        let mut out = self.0;
        for ((v, x), y) in out.iter_mut().zip(a.0).zip(b.0) {
            *v = v.mul_add(x, y);
        }
        Lanes(out)
    }

    /// Bit `l` set when `self[l] < other[l]` (false for NaN).
    #[inline(always)]
    pub fn lt_mask(self, other: Self) -> u64 {
        #[cfg(all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        ))]
        if simd::grouped(N) {
            let mut m = 0u64;
            for c in (0..N).step_by(4) {
                // SAFETY: c + 4 ≤ N; AVX2 is enabled at compile time.
                unsafe {
                    let a = simd::_mm256_loadu_pd(self.0.as_ptr().add(c));
                    let b = simd::_mm256_loadu_pd(other.0.as_ptr().add(c));
                    let k =
                        simd::_mm256_movemask_pd(simd::_mm256_cmp_pd::<{ simd::_CMP_LT_OQ }>(a, b));
                    m |= (k as u64) << c;
                }
            }
            return m;
        }
        let mut m = 0u64;
        for l in 0..N {
            m |= u64::from(self.0[l] < other.0[l]) << l;
        }
        m
    }

    /// Lane-wise comparison as a bit pattern: all ones where `self[l] < other[l]`, zero
    /// otherwise (also for NaN). Combine with [`Self::and`], [`Self::and_not`]; read with
    /// [`Self::bits`] or [`Self::all`].
    #[inline(always)]
    pub fn lt(self, other: Self) -> Self {
        self.zip4(
            other,
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "avx2",
                target_feature = "fma"
            ))]
            |a, b| unsafe { simd::_mm256_cmp_pd::<{ simd::_CMP_LT_OQ }>(a, b) },
            |a, b| f64::from_bits(if a < b { u64::MAX } else { 0 }),
        )
    }

    /// Bitwise `self & other` of comparison patterns.
    #[inline(always)]
    pub fn and(self, other: Self) -> Self {
        self.zip4(
            other,
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "avx2",
                target_feature = "fma"
            ))]
            |a, b| unsafe { simd::_mm256_and_pd(a, b) },
            |a, b| f64::from_bits(a.to_bits() & b.to_bits()),
        )
    }

    /// Bitwise `self & !other` of comparison patterns.
    #[inline(always)]
    pub fn and_not(self, other: Self) -> Self {
        self.zip4(
            other,
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "avx2",
                target_feature = "fma"
            ))]
            |a, b| unsafe { simd::_mm256_andnot_pd(b, a) },
            |a, b| f64::from_bits(a.to_bits() & !b.to_bits()),
        )
    }

    /// Bit `l` = the sign bit of lane `l` (set for an all-ones comparison pattern).
    #[inline(always)]
    pub fn bits(self) -> u64 {
        #[cfg(all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        ))]
        if simd::grouped(N) {
            let mut m = 0u64;
            for c in (0..N).step_by(4) {
                // SAFETY: c + 4 ≤ N; AVX2 is enabled at compile time.
                unsafe {
                    let a = simd::_mm256_loadu_pd(self.0.as_ptr().add(c));
                    m |= (simd::_mm256_movemask_pd(a) as u64) << c;
                }
            }
            return m;
        }
        let mut m = 0u64;
        for l in 0..N {
            m |= (self.0[l].to_bits() >> 63) << l;
        }
        m
    }

    /// Whether every lane's sign bit is set (every comparison held).
    #[inline(always)]
    pub fn all(self) -> bool {
        #[cfg(all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        ))]
        if simd::grouped(N) {
            // SAFETY: c + 4 ≤ N; AVX2 is enabled at compile time.
            unsafe {
                let mut acc = simd::_mm256_loadu_pd(self.0.as_ptr());
                for c in (4..N).step_by(4) {
                    acc = simd::_mm256_and_pd(acc, simd::_mm256_loadu_pd(self.0.as_ptr().add(c)));
                }
                return simd::_mm256_movemask_pd(acc) == 0xf;
            }
        }
        self.bits() == Self::full_mask()
    }

    /// The mask with the low `N` bits set.
    #[inline(always)]
    pub const fn full_mask() -> u64 {
        if N >= 64 {
            u64::MAX
        } else {
            (1u64 << N) - 1
        }
    }
}

impl<const N: usize> Add for Lanes<N> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self.zip4(
            o,
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "avx2",
                target_feature = "fma"
            ))]
            |a, b| unsafe { simd::_mm256_add_pd(a, b) },
            |a, b| a + b,
        )
    }
}

impl<const N: usize> Sub for Lanes<N> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self.zip4(
            o,
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "avx2",
                target_feature = "fma"
            ))]
            |a, b| unsafe { simd::_mm256_sub_pd(a, b) },
            |a, b| a - b,
        )
    }
}

impl<const N: usize> Mul for Lanes<N> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self.zip4(
            o,
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "avx2",
                target_feature = "fma"
            ))]
            |a, b| unsafe { simd::_mm256_mul_pd(a, b) },
            |a, b| a * b,
        )
    }
}

impl<const N: usize> Div for Lanes<N> {
    type Output = Self;
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        self.zip4(
            o,
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "avx2",
                target_feature = "fma"
            ))]
            |a, b| unsafe { simd::_mm256_div_pd(a, b) },
            |a, b| a / b,
        )
    }
}

impl<const N: usize> Neg for Lanes<N> {
    type Output = Self;
    /// Flips the sign bit, as f64 negation does (also for NaN).
    #[inline(always)]
    fn neg(self) -> Self {
        self.zip4(
            Lanes::splat(-0.0),
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "avx2",
                target_feature = "fma"
            ))]
            |a, b| unsafe { simd::_mm256_xor_pd(a, b) },
            |a, _| -a,
        )
    }
}

impl<const N: usize> Scalar for Lanes<N> {
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        Lanes::splat(x)
    }
    #[inline(always)]
    fn from_const(c: Const) -> Self {
        Lanes::splat(c.mid)
    }
    #[inline]
    fn exp(self) -> Self {
        self.map(f64::exp)
    }
    #[inline]
    fn ln(self) -> Self {
        self.map(f64::ln)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        self.zip4(
            self,
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "avx2",
                target_feature = "fma"
            ))]
            |a, _| unsafe { simd::_mm256_sqrt_pd(a) },
            |a, _| a.sqrt(),
        )
    }
    #[inline]
    fn tanh(self) -> Self {
        self.map(f64::tanh)
    }
    #[inline]
    fn sin(self) -> Self {
        self.map(f64::sin)
    }
    #[inline]
    fn cos(self) -> Self {
        self.map(f64::cos)
    }
    #[inline(always)]
    fn sqr(self) -> Self {
        self * self
    }
    /// Binary powering, bitwise equal to `f64::powi` in every lane (module docs).
    #[inline]
    fn powi(self, n: i32) -> Self {
        match n {
            // The sequences below are the general loop unrolled: r = 1·a is a exactly.
            0 => Lanes::splat(1.0),
            1 => self,
            2 => self * self,
            3 => {
                let a2 = self * self;
                self * a2
            }
            4 => {
                let a2 = self * self;
                a2 * a2
            }
            _ => {
                let mut a = self;
                let mut pow = n.unsigned_abs();
                let mut r = Lanes::splat(1.0);
                loop {
                    if pow & 1 != 0 {
                        r = r * a;
                    }
                    pow >>= 1;
                    if pow == 0 {
                        break;
                    }
                    a = a * a;
                }
                if n < 0 {
                    Lanes::splat(1.0) / r
                } else {
                    r
                }
            }
        }
    }
    /// Lane 0.
    #[inline]
    fn to_f64(self) -> f64 {
        self.0[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    fn samples() -> Vec<f64> {
        let mut v = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            -0.7,
            1.0 + f64::EPSILON,
            3.3,
            -12.5,
            1e-3,
            123.456,
            1e150,
            1e-160,
            f64::MIN_POSITIVE,
            5e-324,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        // A deterministic spread of mantissas and exponents.
        let mut z = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200 {
            z = z
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let m = (z >> 11) as f64 / (1u64 << 53) as f64;
            let e = ((z >> 3) % 40) as i32 - 20;
            v.push((if z & 1 == 0 { m } else { -m }) * 2f64.powi(e) * 1.7);
        }
        v
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// `powi` equals `f64::powi` (with a runtime exponent, as the tape calls it) bitwise.
    #[test]
    fn powi_is_bitwise_f64_powi() {
        let xs = samples();
        for n in -9..=40 {
            for c in xs.chunks(4) {
                let mut lanes = [1.5; 4];
                lanes[..c.len()].copy_from_slice(c);
                let p = Lanes(lanes).powi(black_box(n));
                for (l, &x) in lanes.iter().enumerate() {
                    let want = f64::powi(x, black_box(n));
                    assert!(same(p.0[l], want), "{x}^{n}: {} vs {want}", p.0[l]);
                    assert!(same(Scalar::powi(x, black_box(n)), want));
                }
            }
        }
    }

    /// Comparison patterns and masks, with NaN comparing false.
    #[test]
    fn comparisons_and_masks() {
        let a = Lanes::<8>([1.0, 2.0, f64::NAN, -0.0, 5.0, 0.0, -3.0, 7.0]);
        let b = Lanes::<8>([2.0, 2.0, 1.0, 0.0, 4.0, f64::NAN, -2.0, 8.0]);
        let lt = a.lt(b);
        assert_eq!(lt.bits(), 0b1100_0001);
        assert_eq!(a.lt_mask(b), 0b1100_0001);
        assert_eq!(b.lt(a).bits(), 0b0001_0000);
        assert_eq!(lt.and(b.lt(Lanes::splat(3.0))).bits(), 0b0100_0001);
        assert_eq!(lt.and_not(b.lt(Lanes::splat(3.0))).bits(), 0b1000_0000);
        assert!(!lt.all());
        assert!(Lanes::<8>::splat(0.0).lt(Lanes::splat(1.0)).all());
        assert_eq!(Lanes::<8>::full_mask(), 0xff);
        assert_eq!(Lanes::<32>::full_mask(), 0xffff_ffff);
        // The portable path (4 is grouped too; 2 is not).
        let c = Lanes::<2>([1.0, f64::NAN]).lt(Lanes([2.0, 0.0]));
        assert_eq!(c.bits(), 0b01);
        assert!(!c.all());
    }

    /// Every other operation equals the f64 operation lane by lane.
    #[test]
    fn operations_are_lanewise_f64() {
        let xs = samples();
        let ys: Vec<f64> = xs.iter().rev().copied().collect();
        for (cx, cy) in xs.chunks_exact(8).zip(ys.chunks_exact(8)) {
            let a = Lanes::<8>(cx.try_into().unwrap());
            let b = Lanes::<8>(cy.try_into().unwrap());
            let c = Lanes::<8>::splat(0.37);
            type Op<'a> = (Lanes<8>, &'a dyn Fn(f64, f64) -> f64);
            let ops: [Op; 13] = [
                (a + b, &|x, y| x + y),
                (a - b, &|x, y| x - y),
                (a * b, &|x, y| x * y),
                (a / b, &|x, y| x / y),
                (-a, &|x, _| -x),
                (a.exp(), &|x, _| x.exp()),
                (a.ln(), &|x, _| x.ln()),
                (Scalar::sqrt(a), &|x, _| x.sqrt()),
                (a.tanh(), &|x, _| x.tanh()),
                (a.sin(), &|x, _| x.sin()),
                (a.cos(), &|x, _| x.cos()),
                (a.sqr(), &|x, _| x * x),
                (a.mul_add(b, c), &|x, y| x.mul_add(y, 0.37)),
            ];
            let a2 = Lanes::<2>([a.0[0], a.0[1]]);
            let b2 = Lanes::<2>([b.0[0], b.0[1]]);
            for l in 0..2 {
                assert!(same((a2 / b2).0[l], a.0[l] / b.0[l]));
                assert!(same(
                    a2.mul_add(b2, Lanes::splat(0.37)).0[l],
                    a.0[l].mul_add(b.0[l], 0.37)
                ));
                assert!(same((-a2).0[l], -a.0[l]));
            }
            for (k, (got, f)) in ops.iter().enumerate() {
                for l in 0..8 {
                    let want = f(a.0[l], b.0[l]);
                    assert!(
                        same(got.0[l], want),
                        "op {k} lane {l}: {:?} vs {want}",
                        got.0[l]
                    );
                }
            }
        }
    }
}
