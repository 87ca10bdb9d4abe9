//! Data losses (THEORY §1): L(θ) = (1/N) Σ_i ℓ_i(θ), with
//! ℓ_i(θ) = ℓ(θ; z_i) + (λ/2)|θ|² (λ = `l2`, the weight decay, which makes minima strict),
//! for three models of a table of N examples z_i = (x_i, y_i), x_i ∈ R^p:
//!
//! - linear least squares: f(x) = w·x + b, ℓ = ½ (f(x) − y)²; θ = (w, b), d = p + 1;
//! - logistic regression (y ∈ {0, 1}): z = w·x + b, ℓ = log(1 + e^z) − y z, written
//!   (1 − y) z + log(1 + e^{−z}); θ = (w, b), d = p + 1;
//! - one-hidden-layer MLP with tanh and h hidden units: f(x) = Σ_j v_j tanh(W_j·x + c_j) + b,
//!   ℓ = ½ (f(x) − y)²; θ = (W row-major h×p, c, v, b), d = hp + 2h + 1.
//!
//! Everything is generic over [`Scalar`]: f64 (optimiser, simulation), intervals (the
//! certify stage: Krawczyk on the interval Hessian, noise spectrum) and duals. Per-example
//! gradients are written analytically; the Hessian is the forward-mode derivative (dual
//! numbers) of that gradient, one direction per parameter. Since the weight decay is in
//! every ℓ_i, the minibatch gradient (1/B) Σ_{i∈I} ∇ℓ_i (THEORY E2) is unbiased for ∇L and
//! the per-example covariance Σ(θ) = (1/N) Σ_i (∇ℓ_i − ∇L)(∇ℓ_i − ∇L)ᵀ does not depend on λ.

use super::dataset::Dataset;
use crate::num::{Dual, Scalar};
use nalgebra::{DMatrix, DVector};
use std::fmt;

/// The model of a data loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// Linear least squares.
    Linear,
    /// Logistic regression (targets 0/1).
    Logistic,
    /// One hidden layer of `hidden` tanh units, squared loss.
    Mlp { hidden: usize },
}

impl Model {
    /// The spec name (`model = "…"`).
    pub fn name(self) -> &'static str {
        match self {
            Model::Linear => "linear",
            Model::Logistic => "logistic",
            Model::Mlp { .. } => "mlp",
        }
    }
}

/// How a [`Dataset`] becomes the table of a data loss.
#[derive(Clone, Debug, PartialEq)]
pub struct Preparation {
    /// Centre each feature and scale it to unit (population) standard deviation, and, for
    /// the squared-loss models, the target too; in binary64, before anything else, so the
    /// loss that is certified and simulated is that of the prepared table.
    pub standardize: bool,
    /// Logistic only: a target y > threshold becomes 1, otherwise 0.
    pub threshold: Option<f64>,
}

/// A data loss; see the module documentation.
#[derive(Clone)]
pub struct DataLoss {
    pub model: Model,
    /// The weight decay λ ≥ 0.
    pub l2: f64,
    /// Examples N.
    pub n: usize,
    /// Features p.
    pub p: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    /// Where the table came from (file or shipped data set, and the preparation).
    pub source: String,
    /// FNV-1a of every number of the table, the model and λ (exact fingerprint).
    fingerprint: u64,
}

/// The table is summarised by its fingerprint (exact over every bit), so that the
/// simulation's problem fingerprint stays short.
impl fmt::Debug for DataLoss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataLoss")
            .field("model", &self.model)
            .field("l2", &self.l2)
            .field("n", &self.n)
            .field("p", &self.p)
            .field("source", &self.source)
            .field("data_fnv1a64", &format_args!("{:016x}", self.fingerprint))
            .finish()
    }
}

fn fnv1a(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
    }
}

/// Mean and population standard deviation.
fn mean_sd(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = v.clone().count() as f64;
    let m = v.clone().sum::<f64>() / n;
    let var = v.map(|a| (a - m) * (a - m)).sum::<f64>() / n;
    (m, var.sqrt())
}

impl DataLoss {
    /// Builds the loss of `data` for `model`. Errors are `(what, problem)` with `what` one
    /// of "target", "standardize", "hidden", "l2" (the spec key they concern).
    pub fn new(
        model: Model,
        mut data: Dataset,
        l2: f64,
        prep: &Preparation,
    ) -> Result<DataLoss, (&'static str, String)> {
        let n = data.rows();
        let p = data.features();
        if !(l2.is_finite() && l2 >= 0.0) {
            return Err(("l2", format!("must be a finite number ≥ 0, got {l2}")));
        }
        if let Model::Mlp { hidden } = model {
            if hidden == 0 {
                return Err(("hidden", "must be at least 1".into()));
            }
        }
        let mut notes = Vec::new();
        if let (Model::Logistic, Some(th)) = (model, prep.threshold) {
            for v in data.y.iter_mut() {
                *v = if *v > th { 1.0 } else { 0.0 };
            }
            notes.push(format!("target `{}` > {th} as 1", data.target_name));
        }
        if model == Model::Logistic {
            if let Some(i) = data.y.iter().position(|&v| v != 0.0 && v != 1.0) {
                return Err((
                    "target",
                    format!(
                        "{}: logistic regression needs targets 0 or 1, but data row {} has target `{}` = {} (set `threshold` to binarise)",
                        data.source,
                        i + 1,
                        data.target_name,
                        data.y[i]
                    ),
                ));
            }
        }
        if prep.standardize {
            for j in 0..p {
                let col = (0..n).map(|i| data.x[i * p + j]);
                let (m, s) = mean_sd(col);
                if !(s > 0.0) {
                    return Err((
                        "standardize",
                        format!(
                            "{}: feature `{}` is constant and cannot be standardised (remove the column or set standardize = false)",
                            data.source, data.feature_names[j]
                        ),
                    ));
                }
                for i in 0..n {
                    data.x[i * p + j] = (data.x[i * p + j] - m) / s;
                }
            }
            notes.push("features standardised".into());
            if model != Model::Logistic {
                let (m, s) = mean_sd(data.y.iter().copied());
                if s > 0.0 {
                    for v in data.y.iter_mut() {
                        *v = (*v - m) / s;
                    }
                    notes.push("target standardised".into());
                }
            }
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        fnv1a(&mut h, format!("{model:?} {l2:e} {n} {p}").as_bytes());
        for v in data.x.iter().chain(&data.y) {
            fnv1a(&mut h, &v.to_bits().to_le_bytes());
        }
        let source = if notes.is_empty() {
            data.source.clone()
        } else {
            format!("{}; {}", data.source, notes.join(", "))
        };
        Ok(DataLoss {
            model,
            l2,
            n,
            p,
            x: data.x,
            y: data.y,
            source,
            fingerprint: h,
        })
    }

    /// Dimension d of θ.
    pub fn dim(&self) -> usize {
        match self.model {
            Model::Linear | Model::Logistic => self.p + 1,
            Model::Mlp { hidden } => hidden * self.p + 2 * hidden + 1,
        }
    }

    fn hidden(&self) -> usize {
        match self.model {
            Model::Mlp { hidden } => hidden,
            _ => 0,
        }
    }

    /// A one-line description for reports.
    pub fn describe(&self) -> String {
        let m = match self.model {
            Model::Linear => "linear least squares".to_string(),
            Model::Logistic => "logistic regression".to_string(),
            Model::Mlp { hidden } => format!("one-hidden-layer tanh MLP, {hidden} hidden units"),
        };
        format!(
            "data loss: {m}, d = {}, N = {} rows, p = {} features, weight decay λ = {}; data: {}",
            self.dim(),
            self.n,
            self.p,
            self.l2,
            self.source
        )
    }

    #[inline]
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }

    #[inline]
    fn affine<S: Scalar>(th: &[S], x: &[f64]) -> S {
        let p = x.len();
        x.iter()
            .zip(th)
            .fold(th[p], |a, (&xk, &w)| a + w * S::from_f64(xk))
    }

    /// ℓ(θ; z_i) without the weight decay; `t` is scratch of length ≥ hidden.
    fn example_loss_with<S: Scalar>(&self, th: &[S], i: usize, t: &mut [S]) -> S {
        let x = self.row(i);
        let y = S::from_f64(self.y[i]);
        match self.model {
            Model::Linear => S::from_f64(0.5) * (Self::affine(th, x) - y).sqr(),
            Model::Logistic => {
                let z = Self::affine(th, x);
                (S::one() - y) * z + (S::one() + (-z).exp()).ln()
            }
            Model::Mlp { .. } => S::from_f64(0.5) * (self.mlp_forward(th, x, t) - y).sqr(),
        }
    }

    /// f(x) of the MLP, leaving tanh(W_j·x + c_j) in `t`.
    #[inline]
    fn mlp_forward<S: Scalar>(&self, th: &[S], x: &[f64], t: &mut [S]) -> S {
        let (h, p) = (self.hidden(), self.p);
        let (w1, rest) = th.split_at(h * p);
        let (c, rest) = rest.split_at(h);
        let (v, rest) = rest.split_at(h);
        let mut out = rest[0];
        for j in 0..h {
            let a = x
                .iter()
                .zip(&w1[j * p..(j + 1) * p])
                .fold(c[j], |a, (&xk, &w)| a + w * S::from_f64(xk));
            t[j] = a.tanh();
            out = out + v[j] * t[j];
        }
        out
    }

    /// Adds `scale`·∇ℓ(θ; z_i) (without the weight decay) to `g`; `t` is scratch of
    /// length ≥ hidden.
    #[inline]
    fn add_example_gradient<S: Scalar>(
        &self,
        th: &[S],
        i: usize,
        scale: S,
        g: &mut [S],
        t: &mut [S],
    ) {
        let x = self.row(i);
        let y = S::from_f64(self.y[i]);
        let p = self.p;
        match self.model {
            Model::Linear | Model::Logistic => {
                let z = Self::affine(th, x);
                let r = if self.model == Model::Linear {
                    z - y
                } else {
                    S::one() / (S::one() + (-z).exp()) - y
                };
                let cr = scale * r;
                for (gk, &xk) in g.iter_mut().zip(x) {
                    *gk = *gk + cr * S::from_f64(xk);
                }
                g[p] = g[p] + cr;
            }
            Model::Mlp { hidden: h } => {
                let out = self.mlp_forward(th, x, t);
                let cr = scale * (out - y);
                let (oc, ov, ob) = (h * p, h * p + h, h * p + 2 * h);
                for j in 0..h {
                    g[ov + j] = g[ov + j] + cr * t[j];
                    let dj = cr * th[ov + j] * (S::one() - t[j].sqr());
                    g[oc + j] = g[oc + j] + dj;
                    for (gk, &xk) in g[j * p..(j + 1) * p].iter_mut().zip(x) {
                        *gk = *gk + dj * S::from_f64(xk);
                    }
                }
                g[ob] = g[ob] + cr;
            }
        }
    }

    fn scratch<S: Scalar>(&self) -> Vec<S> {
        vec![S::zero(); self.hidden().max(1)]
    }

    fn decay<S: Scalar>(&self, th: &[S]) -> S {
        S::from_f64(0.5) * S::from_f64(self.l2) * th.iter().fold(S::zero(), |a, &v| a + v.sqr())
    }

    /// ℓ_i(θ) = ℓ(θ; z_i) + (λ/2)|θ|².
    pub fn example_loss<S: Scalar>(&self, th: &[S], i: usize) -> S {
        let mut t = self.scratch();
        self.example_loss_with(th, i, &mut t) + self.decay(th)
    }

    /// ∇ℓ_i(θ) (with the weight decay) into `g`.
    pub fn example_gradient<S: Scalar>(&self, th: &[S], i: usize, g: &mut [S]) {
        let mut t = self.scratch();
        g.fill(S::zero());
        self.add_example_gradient(th, i, S::one(), g, &mut t);
        let l2 = S::from_f64(self.l2);
        for (gk, &v) in g.iter_mut().zip(th) {
            *gk = *gk + l2 * v;
        }
    }

    /// L(θ).
    pub fn value<S: Scalar>(&self, th: &[S]) -> S {
        let mut t = self.scratch();
        let s = (0..self.n).fold(S::zero(), |a, i| a + self.example_loss_with(th, i, &mut t));
        s / S::from_f64(self.n as f64) + self.decay(th)
    }

    /// ∇L(θ) into `g`; returns L(θ).
    pub fn gradient<S: Scalar>(&self, th: &[S], g: &mut [S]) -> S {
        let mut t = self.scratch();
        g.fill(S::zero());
        let mut s = S::zero();
        for i in 0..self.n {
            s = s + self.example_loss_with(th, i, &mut t);
            self.add_example_gradient(th, i, S::one(), g, &mut t);
        }
        let n = S::from_f64(self.n as f64);
        let l2 = S::from_f64(self.l2);
        for (gk, &v) in g.iter_mut().zip(th) {
            *gk = *gk / n + l2 * v;
        }
        s / n + self.decay(th)
    }

    /// Adds the upper triangle (with the diagonal) of ∇²ℓ(θ; z_i) (without the weight
    /// decay) to `h` (row-major d×d); `t` is scratch of length ≥ hidden, `jac` of length d.
    ///
    /// With f the model output and J = ∇f: linear, ∇²ℓ = J Jᵀ with J = (x, 1); logistic,
    /// ∇²ℓ = σ(z)(1 − σ(z)) J Jᵀ; MLP, ∇²ℓ = J Jᵀ + (f − y) ∇²f, where for unit j with
    /// a_j = W_j·x + c_j, t_j = tanh a_j, s_j = 1 − t_j² and u = (x, 1) over (W_j, c_j):
    /// ∂²f/∂(W_j,c_j)² = −2 v_j t_j s_j u uᵀ, ∂²f/∂v_j∂(W_j,c_j) = s_j u, all else 0.
    fn add_example_hessian<S: Scalar>(
        &self,
        th: &[S],
        i: usize,
        h: &mut [S],
        t: &mut [S],
        jac: &mut [S],
    ) {
        let x = self.row(i);
        let p = self.p;
        let d = self.dim();
        let w = match self.model {
            Model::Linear | Model::Logistic => {
                for (jk, &xk) in jac.iter_mut().zip(x) {
                    *jk = S::from_f64(xk);
                }
                jac[p] = S::one();
                if self.model == Model::Linear {
                    None
                } else {
                    let z = Self::affine(th, x);
                    let s = S::one() / (S::one() + (-z).exp());
                    Some(s * (S::one() - s))
                }
            }
            Model::Mlp { hidden: hh } => {
                let r = self.mlp_forward(th, x, t) - S::from_f64(self.y[i]);
                let (oc, ov, ob) = (hh * p, hh * p + hh, hh * p + 2 * hh);
                for j in 0..hh {
                    let s = S::one() - t[j].sqr();
                    let vs = th[ov + j] * s;
                    for (k, &xk) in x.iter().enumerate() {
                        jac[j * p + k] = vs * S::from_f64(xk);
                    }
                    jac[oc + j] = vs;
                    jac[ov + j] = t[j];
                    // r ∇²f, upper triangle: W/c indices precede v_j's.
                    let q = r * th[ov + j] * S::from_f64(-2.0) * t[j] * s;
                    let rs = r * s;
                    for k in 0..p {
                        let row = (j * p + k) * d;
                        let qx = q * S::from_f64(x[k]);
                        for l in k..p {
                            h[row + j * p + l] = h[row + j * p + l] + qx * S::from_f64(x[l]);
                        }
                        h[row + oc + j] = h[row + oc + j] + qx;
                        h[row + ov + j] = h[row + ov + j] + rs * S::from_f64(x[k]);
                    }
                    h[(oc + j) * d + oc + j] = h[(oc + j) * d + oc + j] + q;
                    h[(oc + j) * d + ov + j] = h[(oc + j) * d + ov + j] + rs;
                }
                jac[ob] = S::one();
                None
            }
        };
        for a in 0..d {
            let wa = match w {
                Some(w) => w * jac[a],
                None => jac[a],
            };
            for b in a..d {
                h[a * d + b] = h[a * d + b] + wa * jac[b];
            }
        }
    }

    /// ∇²L(θ), row-major d×d, from the analytic per-example Hessians
    /// ([`DataLoss::add_example_hessian`]): (1/N) Σ_i ∇²ℓ(θ; z_i) + λI, upper triangle
    /// summed and mirrored (so exactly symmetric).
    pub fn hessian<S: Scalar>(&self, th: &[S], h: &mut [S]) {
        let d = self.dim();
        let mut t = self.scratch();
        let mut jac = vec![S::zero(); d];
        h.fill(S::zero());
        for i in 0..self.n {
            self.add_example_hessian(th, i, h, &mut t, &mut jac);
        }
        let n = S::from_f64(self.n as f64);
        let l2 = S::from_f64(self.l2);
        for a in 0..d {
            h[a * d + a] = h[a * d + a] / n + l2;
            for b in a + 1..d {
                let v = h[a * d + b] / n;
                h[a * d + b] = v;
                h[b * d + a] = v;
            }
        }
    }

    /// ∇²L(θ) another way, as a cross-check of [`DataLoss::hessian`]: column j is the
    /// derivative of ∇L along e_j (dual numbers over the analytic gradient), then
    /// symmetrised as (H + Hᵀ)/2 (over intervals this still encloses the symmetric true
    /// Hessian, since both entries enclose the same number). d times slower.
    pub fn hessian_dual<S: Scalar>(&self, th: &[S], h: &mut [S]) {
        let d = self.dim();
        let mut td: Vec<Dual<S>> = th.iter().map(|&v| Dual::constant(v)).collect();
        let mut g = vec![Dual::<S>::zero(); d];
        let mut t = self.scratch::<Dual<S>>();
        let n = S::from_f64(self.n as f64);
        let l2 = S::from_f64(self.l2);
        for j in 0..d {
            td[j].d = S::one();
            g.fill(Dual::zero());
            for i in 0..self.n {
                self.add_example_gradient(&td, i, Dual::one(), &mut g, &mut t);
            }
            for k in 0..d {
                let v = g[k].d / n;
                h[k * d + j] = if k == j { v + l2 } else { v };
            }
            td[j].d = S::zero();
        }
        let half = S::from_f64(0.5);
        for a in 0..d {
            for b in a + 1..d {
                let s = (h[a * d + b] + h[b * d + a]) * half;
                h[a * d + b] = s;
                h[b * d + a] = s;
            }
        }
    }

    /// Σ(θ) = (1/N) Σ_i (∇ℓ_i − ∇L)(∇ℓ_i − ∇L)ᵀ, row-major d×d (THEORY §1). Computed with
    /// the weight decay left out of both terms (it cancels), centred, diagonal by squares;
    /// over intervals every operation is an enclosure, so the result encloses Σ(θ) for
    /// every θ in the box.
    pub fn covariance<S: Scalar>(&self, th: &[S], out: &mut [S]) {
        let d = self.dim();
        let mut t = self.scratch();
        let mut mean = vec![S::zero(); d];
        for i in 0..self.n {
            self.add_example_gradient(th, i, S::one(), &mut mean, &mut t);
        }
        let n = S::from_f64(self.n as f64);
        for m in mean.iter_mut() {
            *m = *m / n;
        }
        out.fill(S::zero());
        let mut gi = vec![S::zero(); d];
        for i in 0..self.n {
            gi.fill(S::zero());
            self.add_example_gradient(th, i, S::one(), &mut gi, &mut t);
            for (g, m) in gi.iter_mut().zip(&mean) {
                *g = *g - *m;
            }
            for a in 0..d {
                out[a * d + a] = out[a * d + a] + gi[a].sqr();
                for b in a + 1..d {
                    out[a * d + b] = out[a * d + b] + gi[a] * gi[b];
                }
            }
        }
        for a in 0..d {
            out[a * d + a] = out[a * d + a] / n;
            for b in a + 1..d {
                let v = out[a * d + b] / n;
                out[a * d + b] = v;
                out[b * d + a] = v;
            }
        }
    }

    /// The minibatch gradient (1/B) Σ_{i ∈ batch} ∇ℓ_i(θ) (THEORY E2) into `g`, in f64;
    /// `t` is scratch of length ≥ max(hidden, 1).
    pub fn minibatch_gradient(&self, th: &[f64], batch: &[usize], g: &mut [f64], t: &mut [f64]) {
        g.fill(0.0);
        for &i in batch {
            self.add_example_gradient(th, i, 1.0, g, t);
        }
        let inv_b = 1.0 / batch.len() as f64;
        for (gk, &v) in g.iter_mut().zip(th) {
            *gk = *gk * inv_b + self.l2 * v;
        }
    }

    /// The default start of the optimiser: 0 for the linear models; for the MLP (where 0 is
    /// a saddle) first-layer weights uniform on ±1/√p and output weights uniform on ±1/√h,
    /// from xoshiro256++ seeded with 0, biases 0.
    pub fn default_init(&self) -> Vec<f64> {
        use rand::{Rng, SeedableRng};
        let d = self.dim();
        let mut th = vec![0.0; d];
        if let Model::Mlp { hidden: h } = self.model {
            let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0);
            let (a, b) = (1.0 / (self.p as f64).sqrt(), 1.0 / (h as f64).sqrt());
            for v in th[..h * self.p].iter_mut() {
                *v = rng.random_range(-a..a);
            }
            for v in th[h * self.p + h..h * self.p + 2 * h].iter_mut() {
                *v = rng.random_range(-b..b);
            }
        }
        th
    }

    /// Full-batch minimisation in f64 (a guide for the certify stage, never a bound):
    /// Newton steps on |∇²L| (eigenvalues replaced by max(|λ|, δ), so a saddle is left
    /// along negative curvature) with Armijo backtracking, until the gradient vanishes to
    /// rounding level or no step decreases L. Returns the last point and the iterations.
    pub fn minimize(&self, init: &[f64], max_iter: usize) -> (Vec<f64>, usize) {
        let d = self.dim();
        let mut x = init.to_vec();
        let mut g = vec![0.0; d];
        let mut h = vec![0.0; d * d];
        let mut f = self.gradient(&x, &mut g);
        let mut it = 0;
        while it < max_iter {
            it += 1;
            let gn = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            if !(gn > 1e-14 * (1.0 + f.abs())) {
                break;
            }
            self.hessian(&x, &mut h);
            let eig = DMatrix::from_row_slice(d, d, &h).symmetric_eigen();
            let lmax = eig.eigenvalues.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            let delta = (1e-10 * lmax).max(1e-300);
            let gv = eig.eigenvectors.transpose() * DVector::from_column_slice(&g);
            let mut step = DVector::zeros(d);
            for k in 0..d {
                let lam = eig.eigenvalues[k].abs().max(delta);
                step -= eig.eigenvectors.column(k) * (gv[k] / lam);
            }
            let slope: f64 = step.iter().zip(&g).map(|(a, b)| a * b).sum();
            let mut s = 1.0;
            let mut moved = false;
            for _ in 0..60 {
                let y: Vec<f64> = x.iter().zip(step.iter()).map(|(a, b)| a + s * b).collect();
                let fy = self.value(&y);
                if fy.is_finite() && fy <= f + 1e-4 * s * slope {
                    moved = y != x;
                    x = y;
                    break;
                }
                s *= 0.5;
            }
            if !moved {
                break;
            }
            f = self.gradient(&x, &mut g);
            let dx = step.iter().fold(0.0f64, |a, v| a.max((s * v).abs()));
            let xn = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            if dx <= 1e-15 * (1.0 + xn) {
                break;
            }
        }
        (x, it)
    }
}
