use escapecert::landscape::*;
use escapecert::num::{Const, Scalar};
use std::ops::*;
use std::time::Instant;
#[derive(Clone, Copy, Debug)]
struct L8([f64; 8]);
macro_rules! bin { ($tr:ident, $f:ident, $op:tt) => {
    impl $tr for L8 { type Output = L8; #[inline(always)] fn $f(self, o: L8) -> L8 { let mut r = [0.0; 8]; for i in 0..8 { r[i] = self.0[i] $op o.0[i]; } L8(r) } }
}}
bin!(Add, add, +); bin!(Sub, sub, -); bin!(Mul, mul, *); bin!(Div, div, /);
impl Neg for L8 { type Output = L8; #[inline(always)] fn neg(self) -> L8 { L8(self.0.map(|v| -v)) } }
impl Scalar for L8 {
    fn from_f64(x: f64) -> Self { L8([x; 8]) }
    fn from_const(c: Const) -> Self { L8([c.mid; 8]) }
    fn exp(self) -> Self { L8(self.0.map(f64::exp)) }
    fn ln(self) -> Self { L8(self.0.map(f64::ln)) }
    fn sqrt(self) -> Self { L8(self.0.map(f64::sqrt)) }
    fn tanh(self) -> Self { L8(self.0.map(f64::tanh)) }
    fn sin(self) -> Self { L8(self.0.map(f64::sin)) }
    fn cos(self) -> Self { L8(self.0.map(f64::cos)) }
    #[inline(always)] fn sqr(self) -> Self { self * self }
    #[inline(always)] fn powi(self, n: i32) -> Self { L8(self.0.map(|v| v.powi(n))) }
    fn to_f64(self) -> f64 { self.0[0] }
}
fn main() {
    let l = Landscape::Expr(Tape::parse("x^4/4 - x^2/2", None).unwrap());
    let n = 2_000_000;
    let mut s1 = Scratch::<f64>::new(); let mut g1 = [0.0];
    let mut x = -1.0f64; let t = Instant::now();
    for _ in 0..n { l.gradient_with(&[x], &mut g1, &mut s1); x = std::hint::black_box(x - 1e-9 * g1[0]); }
    println!("scalar tape: {:.2} ns/gradient", t.elapsed().as_nanos() as f64 / n as f64);
    let mut s8 = Scratch::<L8>::new(); let mut g8 = [L8([0.0; 8])];
    let mut x8 = L8([-1.0, -0.9, -0.8, -0.7, -0.6, -0.5, -0.4, -0.3]); let t = Instant::now();
    for _ in 0..n / 8 { l.gradient_with(&[x8], &mut g8, &mut s8); x8 = std::hint::black_box(x8 - L8::from_f64(1e-9) * g8[0]); }
    println!("lanes8 tape: {:.2} ns/particle-gradient", t.elapsed().as_nanos() as f64 / n as f64);
}
