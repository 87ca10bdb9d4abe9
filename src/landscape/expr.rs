//! Landscape expressions: parsed with pest, compiled to a tape (straight-line program)
//! that evaluates generically over any [`Scalar`], with reverse-mode gradients and
//! forward-over-reverse Hessians.
//!
//! Over intervals, the reverse sweep evaluates the chain rule on enclosures of every
//! intermediate value and local partial derivative, so each adjoint encloses the exact
//! partial derivative at every point of the argument box (each real adjoint is a sum
//! of products of real partials, each of which lies in its interval counterpart, and
//! every interval operation encloses its real counterpart pointwise). See
//! `proofs/interval-derivatives.md`.

use super::LandscapeError;
use crate::num::{Const, Dual, Scalar};
use inari::Interval;
use pest::iterators::Pairs;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;
use std::sync::OnceLock;

#[derive(pest_derive::Parser)]
#[grammar = "landscape/expr.pest"]
struct ExprParser;

/// Largest integer power accepted (keeps interval powers meaningful).
pub const MAX_POWER: i32 = 64;
/// Largest expression accepted, in tape nodes.
pub const MAX_NODES: usize = 100_000;

/// Unary functions of the expression language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Exp,
    Log,
    Sqrt,
    Tanh,
    Sin,
    Cos,
}

impl Func {
    fn name(self) -> &'static str {
        match self {
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Tanh => "tanh",
            Func::Sin => "sin",
            Func::Cos => "cos",
        }
    }
}

/// One tape node; operands are indices of earlier nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Node {
    Var(usize),
    Const(Const),
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    Neg(usize),
    Powi(usize, i32),
    Call(Func, usize),
}

/// A compiled expression in `dim` variables; the last node is the result.
#[derive(Clone, Debug)]
pub struct Tape {
    pub nodes: Vec<Node>,
    pub dim: usize,
    pub source: String,
}

/// Scratch buffers for tape evaluation (reuse across calls to avoid allocation).
#[derive(Clone, Debug, Default)]
pub struct Scratch<S> {
    vals: Vec<S>,
    adj: Vec<S>,
    /// One bit per node: its adjoint has been written in the current reverse sweep.
    touched: Vec<u64>,
}

impl<S> Scratch<S> {
    pub fn new() -> Self {
        Scratch {
            vals: Vec::new(),
            adj: Vec::new(),
            touched: Vec::new(),
        }
    }
}

/// The adjoints of a reverse sweep with their written-bits (see [`Tape::gradient`]).
struct Adjoints<'a, S> {
    adj: &'a mut [S],
    touched: &'a mut [u64],
}

impl<S: Scalar> Adjoints<'_, S> {
    #[inline(always)]
    fn written(&self, i: usize) -> bool {
        self.touched[i / 64] >> (i % 64) & 1 == 1
    }

    /// The adjoint of node `i` (zero when nothing was written).
    #[inline(always)]
    fn get(&self, i: usize) -> S {
        if self.written(i) {
            self.adj[i]
        } else {
            S::zero()
        }
    }

    /// adj[i] += c.
    #[inline(always)]
    fn add(&mut self, i: usize, c: S) {
        if self.written(i) {
            self.adj[i] = self.adj[i] + c;
        } else {
            self.adj[i] = c;
            self.touched[i / 64] |= 1 << (i % 64);
        }
    }

    /// adj[i] −= c.
    #[inline(always)]
    fn sub(&mut self, i: usize, c: S) {
        if self.written(i) {
            self.adj[i] = self.adj[i] - c;
        } else {
            self.adj[i] = -c;
            self.touched[i / 64] |= 1 << (i % 64);
        }
    }
}

// Intermediate AST, before variables are resolved and the tape is built.
#[derive(Debug)]
enum Ast {
    Num(String),
    Var(String),
    Neg(Box<Ast>),
    Bin(char, Box<Ast>, Box<Ast>),
    Call(Func, Box<Ast>),
}

fn pratt() -> &'static PrattParser<Rule> {
    static P: OnceLock<PrattParser<Rule>> = OnceLock::new();
    P.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
            .op(Op::prefix(Rule::neg) | Op::prefix(Rule::pos))
            .op(Op::infix(Rule::pow, Assoc::Right))
    })
}

fn build_ast(pairs: Pairs<Rule>) -> Ast {
    pratt()
        .map_primary(|p| match p.as_rule() {
            Rule::number => Ast::Num(p.as_str().to_string()),
            Rule::var => Ast::Var(p.as_str().to_string()),
            Rule::expr => build_ast(p.into_inner()),
            Rule::call => {
                let mut inner = p.into_inner();
                let f = match inner.next().map(|f| f.as_str()) {
                    Some("exp") => Func::Exp,
                    Some("log") => Func::Log,
                    Some("sqrt") => Func::Sqrt,
                    Some("tanh") => Func::Tanh,
                    Some("sin") => Func::Sin,
                    _ => Func::Cos,
                };
                let arg = inner.next().map(|a| build_ast(a.into_inner()));
                Ast::Call(f, Box::new(arg.unwrap_or(Ast::Num("0".into()))))
            }
            r => unreachable!("grammar produced {r:?} as a primary"),
        })
        .map_prefix(|op, rhs| match op.as_rule() {
            Rule::neg => Ast::Neg(Box::new(rhs)),
            _ => rhs,
        })
        .map_infix(|lhs, op, rhs| {
            let c = match op.as_rule() {
                Rule::add => '+',
                Rule::sub => '-',
                Rule::mul => '*',
                Rule::div => '/',
                _ => '^',
            };
            Ast::Bin(c, Box::new(lhs), Box::new(rhs))
        })
        .parse(pairs)
}

fn ast_depth(a: &Ast) -> usize {
    match a {
        Ast::Num(_) | Ast::Var(_) => 1,
        Ast::Neg(x) | Ast::Call(_, x) => 1 + ast_depth(x),
        Ast::Bin(_, x, y) => 1 + ast_depth(x).max(ast_depth(y)),
    }
}

fn integer_exponent(a: &Ast) -> Option<i32> {
    match a {
        Ast::Num(s) if s.bytes().all(|b| b.is_ascii_digit()) => s.parse::<i32>().ok(),
        Ast::Neg(x) => integer_exponent(x).map(|n| -n),
        _ => None,
    }
}

struct Builder {
    nodes: Vec<Node>,
    uses_plain_x: bool,
    uses_indexed: bool,
    max_index: usize,
}

impl Builder {
    fn push(&mut self, n: Node) -> Result<usize, String> {
        if self.nodes.len() >= MAX_NODES {
            return Err(format!("expression has more than {MAX_NODES} operations"));
        }
        self.nodes.push(n);
        Ok(self.nodes.len() - 1)
    }

    fn emit(&mut self, a: &Ast) -> Result<usize, String> {
        match a {
            Ast::Num(s) => {
                let c = Const::from_decimal(s)
                    .ok_or_else(|| format!("number `{s}` is not a finite double"))?;
                self.push(Node::Const(c))
            }
            Ast::Var(v) => {
                let idx = if v == "x" {
                    self.uses_plain_x = true;
                    0
                } else {
                    self.uses_indexed = true;
                    if v[1..].starts_with('0') {
                        return Err(format!("variable `{v}`: variables are numbered x1, x2, … without leading zeros"));
                    }
                    let i: usize = v[1..]
                        .parse()
                        .map_err(|_| format!("variable `{v}` has an index out of range"))?;
                    // The ceiling of `[limits] max_dimension`: no spec can allow more. The
                    // spec's own limit is checked on the built landscape
                    // (run::certify_spec), so that raising it admits larger expressions.
                    if i > crate::spec::defaults::MAX_DIM_CEILING {
                        return Err(format!(
                            "variable `{v}`: the dimension ceiling is {} (the largest [limits] max_dimension)",
                            crate::spec::defaults::MAX_DIM_CEILING
                        ));
                    }
                    self.max_index = self.max_index.max(i);
                    i - 1
                };
                self.push(Node::Var(idx))
            }
            Ast::Neg(x) => {
                let i = self.emit(x)?;
                self.push(Node::Neg(i))
            }
            Ast::Call(f, x) => {
                let i = self.emit(x)?;
                self.push(Node::Call(*f, i))
            }
            Ast::Bin('^', x, y) => {
                let n = integer_exponent(y).ok_or_else(|| {
                    "`^` takes an integer exponent (write exp(y*log(x)) for real powers)"
                        .to_string()
                })?;
                if n.abs() > MAX_POWER {
                    return Err(format!("exponent {n} exceeds the limit {MAX_POWER}"));
                }
                let i = self.emit(x)?;
                self.push(Node::Powi(i, n))
            }
            Ast::Bin(op, x, y) => {
                let i = self.emit(x)?;
                let j = self.emit(y)?;
                if *op == '/' {
                    if let Node::Const(c) = self.nodes[j] {
                        if let Some(r) = exact_reciprocal(c) {
                            // x / 2^k is x · 2^−k exactly, in f64 and in interval
                            // arithmetic (both round the same real number), and a
                            // multiplication is several times cheaper than a division.
                            // Node j is this literal's own node (no sharing).
                            self.nodes[j] = Node::Const(r);
                            return self.push(Node::Mul(i, j));
                        }
                    }
                }
                self.push(match op {
                    '+' => Node::Add(i, j),
                    '-' => Node::Sub(i, j),
                    '*' => Node::Mul(i, j),
                    _ => Node::Div(i, j),
                })
            }
        }
    }
}

/// `1/c` when `c` is an exactly known power of two whose reciprocal is a normal number,
/// so that `x / c == x * (1/c)` for every f64 `x` and every interval.
fn exact_reciprocal(c: Const) -> Option<Const> {
    const MANTISSA: u64 = (1 << 52) - 1;
    let exact = c.lo == c.mid && c.mid == c.hi;
    let v = c.mid;
    let r = 1.0 / v;
    (exact && v.is_normal() && v.to_bits() & MANTISSA == 0 && r.is_normal())
        .then(|| Const::exact(r))
}

/// Deepest nesting accepted (the AST is built recursively).
pub const MAX_DEPTH: usize = 20_000;
/// Most operators and parentheses accepted in one expression.
pub const MAX_OPERATORS: usize = 50_000;
/// Longest expression accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;
/// Stack of the parser thread: enough for MAX_OPERATORS levels of recursion.
pub const PARSE_STACK_BYTES: usize = 512 << 20;

/// The expression for messages, shortened when long.
fn abbreviate(source: &str) -> String {
    if source.chars().count() <= 120 {
        source.to_string()
    } else {
        let head: String = source.chars().take(100).collect();
        format!("{head}… ({} bytes)", source.len())
    }
}

impl Tape {
    /// Parses and compiles `source`. The dimension is inferred from the variables
    /// (`x` means 1-D; `x1 … xd` mean d dimensions) unless `dim` is given.
    ///
    /// Parsing and compiling recurse over the expression's nesting, so they run on a
    /// thread with a large stack ([`PARSE_STACK_BYTES`]), and the number of operators is
    /// bounded ([`MAX_OPERATORS`]) first: deep or long inputs give an error, never a
    /// stack overflow.
    pub fn parse(source: &str, dim: Option<usize>) -> Result<Tape, LandscapeError> {
        let bad = |m: String| LandscapeError::Expression {
            expr: abbreviate(source),
            problem: m,
        };
        if source.len() > MAX_SOURCE_BYTES {
            return Err(bad(format!(
                "expression longer than {MAX_SOURCE_BYTES} bytes"
            )));
        }
        let ops = source.bytes().filter(|b| b"+-*/^(".contains(b)).count();
        if ops > MAX_OPERATORS {
            return Err(bad(format!(
                "expression has {ops} operators and parentheses; the limit is {MAX_OPERATORS}"
            )));
        }
        let src = source.to_string();
        let handle = std::thread::Builder::new()
            .name("expr-parse".into())
            .stack_size(PARSE_STACK_BYTES)
            .spawn(move || Tape::parse_on_this_thread(&src, dim));
        match handle {
            Ok(h) => h.join().unwrap_or_else(|_| {
                Err(bad(
                    "the expression could not be parsed (internal error)".into()
                ))
            }),
            Err(e) => Err(bad(format!("cannot start the parser thread: {e}"))),
        }
    }

    fn parse_on_this_thread(source: &str, dim: Option<usize>) -> Result<Tape, LandscapeError> {
        let bad = |m: String| LandscapeError::Expression {
            expr: abbreviate(source),
            problem: m,
        };
        let mut pairs = ExprParser::parse(Rule::program, source).map_err(|e| {
            let (line, col) = match e.line_col {
                pest::error::LineColLocation::Pos(p) => p,
                pest::error::LineColLocation::Span(p, _) => p,
            };
            bad(format!("syntax error at line {line}, column {col}: expected a number, variable, function call or operator"))
        })?;
        let expr = pairs.next().ok_or_else(|| bad("empty expression".into()))?;
        let ast = build_ast(expr.into_inner());
        if ast_depth(&ast) > MAX_DEPTH {
            return Err(bad(format!("nesting deeper than {MAX_DEPTH}")));
        }
        let mut b = Builder {
            nodes: Vec::new(),
            uses_plain_x: false,
            uses_indexed: false,
            max_index: 0,
        };
        b.emit(&ast).map_err(bad)?;
        if b.uses_plain_x && b.uses_indexed {
            return Err(bad("mixes `x` with `x1 … xd`; use one naming".into()));
        }
        let inferred = b.max_index.max(1);
        let dim = match dim {
            Some(d) if d < inferred => {
                return Err(bad(format!("uses x{inferred} but the dimension is {d}")))
            }
            Some(d) if b.uses_plain_x && d != 1 => {
                return Err(bad(format!(
                    "`x` is for 1-D landscapes; with dim = {d} write x1 … x{d}"
                )))
            }
            Some(d) => d,
            None => inferred,
        };
        Ok(Tape {
            nodes: b.nodes,
            dim,
            source: source.to_string(),
        })
    }

    /// Every node's value into `vals` (resized to the tape's length).
    fn forward<S: Scalar>(&self, x: &[S], vals: &mut Vec<S>) {
        let n = self.nodes.len();
        if vals.len() != n {
            vals.clear();
            vals.resize(n, S::zero());
        }
        for (k, node) in self.nodes.iter().enumerate() {
            // Operands are earlier nodes: read `done`, write the first of `rest`.
            let (done, rest) = vals.split_at_mut(k);
            let out = &mut rest[0];
            match *node {
                Node::Var(i) => *out = x[i],
                Node::Const(c) => *out = S::from_const(c),
                Node::Add(a, b) => *out = done[a] + done[b],
                Node::Sub(a, b) => *out = done[a] - done[b],
                Node::Mul(a, b) => *out = done[a] * done[b],
                Node::Div(a, b) => *out = done[a] / done[b],
                Node::Neg(a) => *out = -done[a],
                Node::Powi(a, 2) => *out = done[a].sqr(),
                Node::Powi(a, k) => *out = done[a].powi(k),
                Node::Call(f, a) => {
                    let u = done[a];
                    *out = match f {
                        Func::Exp => u.exp(),
                        Func::Log => u.ln(),
                        Func::Sqrt => u.sqrt(),
                        Func::Tanh => u.tanh(),
                        Func::Sin => u.sin(),
                        Func::Cos => u.cos(),
                    }
                }
            }
        }
    }

    /// L(x).
    pub fn value<S: Scalar>(&self, x: &[S], scratch: &mut Scratch<S>) -> S {
        self.forward(x, &mut scratch.vals);
        *scratch.vals.last().expect("tape is never empty")
    }

    /// L(x) and ∇L(x) by one forward and one reverse sweep.
    ///
    /// Adjoints are accumulated without a zeroed buffer: a bit per node records whether
    /// its adjoint has received a contribution in this sweep; the first one is stored
    /// (`c` instead of `0 + c`, `−c` instead of `0 − c`), later ones are added, and a node
    /// that received none counts as zero. The values agree with accumulating into zeros
    /// (up to the sign of zero intermediate adjoints, which cannot reach ∇L: its entries
    /// start at +0 and only have adjoints added to them; as sets for intervals). Literal
    /// constants take no part in the reverse sweep (their adjoints are never read).
    pub fn gradient<S: Scalar>(&self, x: &[S], g: &mut [S], scratch: &mut Scratch<S>) -> S {
        self.forward(x, &mut scratch.vals);
        let vals = &scratch.vals;
        let n = vals.len();
        let adj = &mut scratch.adj;
        if adj.len() != n {
            adj.clear();
            adj.resize(n, S::zero());
        }
        let touched = &mut scratch.touched;
        touched.clear();
        touched.resize(n.div_ceil(64), 0);
        let last = n - 1;
        let mut sum = Adjoints { adj, touched };
        sum.add(last, S::one());
        for gi in g.iter_mut() {
            *gi = S::zero();
        }
        let nodes = &self.nodes[..n];
        // Literal constants: nothing reads their adjoints, so none is ever written and the
        // sweep skips them.
        let live = |i: usize| !matches!(nodes[i], Node::Const(_));
        for k in (0..=last).rev() {
            let node = nodes[k];
            if !live(k) {
                continue;
            }
            let w = sum.get(k);
            match node {
                Node::Var(i) => g[i] = g[i] + w,
                Node::Const(_) => {}
                Node::Add(a, b) => {
                    if live(a) {
                        sum.add(a, w);
                    }
                    if live(b) {
                        sum.add(b, w);
                    }
                }
                Node::Sub(a, b) => {
                    if live(a) {
                        sum.add(a, w);
                    }
                    if live(b) {
                        sum.sub(b, w);
                    }
                }
                Node::Mul(a, b) => {
                    if live(a) {
                        sum.add(a, w * vals[b]);
                    }
                    if live(b) {
                        sum.add(b, w * vals[a]);
                    }
                }
                Node::Div(a, b) => {
                    // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −(a/b)/b
                    if live(a) {
                        sum.add(a, w / vals[b]);
                    }
                    if live(b) {
                        sum.sub(b, w * vals[k] / vals[b]);
                    }
                }
                Node::Neg(a) => {
                    if live(a) {
                        sum.sub(a, w);
                    }
                }
                Node::Powi(a, n) => {
                    if live(a) {
                        let d = match n {
                            0 => S::zero(),
                            1 => S::one(),
                            2 => S::from_f64(2.0) * vals[a],
                            _ => S::from_f64(n as f64) * vals[a].powi(n - 1),
                        };
                        sum.add(a, w * d);
                    }
                }
                Node::Call(_, a) if !live(a) => {}
                Node::Call(f, a) => {
                    let u = vals[a];
                    let d = match f {
                        Func::Exp => vals[k],
                        Func::Log => S::one() / u,
                        Func::Sqrt => S::one() / (S::from_f64(2.0) * vals[k]),
                        Func::Tanh => S::one() - vals[k].sqr(),
                        Func::Sin => u.cos(),
                        Func::Cos => -u.sin(),
                    };
                    sum.add(a, w * d);
                }
            }
        }
        vals[last]
    }

    /// ∇²L(x), row-major, by differentiating the reverse sweep in each coordinate
    /// direction with [`Dual`] numbers (forward-over-reverse).
    pub fn hessian<S: Scalar>(&self, x: &[S], h: &mut [S]) {
        let d = self.dim;
        let mut scratch = Scratch::<Dual<S>>::new();
        let mut xd: Vec<Dual<S>> = x.iter().map(|&v| Dual::constant(v)).collect();
        let mut g = vec![Dual::constant(S::zero()); d];
        for j in 0..d {
            xd[j].d = S::one();
            self.gradient(&xd, &mut g, &mut scratch);
            for i in 0..d {
                h[i * d + j] = g[i].d;
            }
            xd[j].d = S::zero();
        }
    }

    /// Checks that every operation is defined and differentiable on the box `bx`
    /// (log and sqrt of arguments > 0, nonzero denominators and negative-power bases,
    /// finite intermediate values). The check is a statement about every point of the
    /// box (each interval encloses the real intermediate value at that point), so it
    /// holds on every sub-box, and L is C² on a neighbourhood of each point of `bx`.
    pub fn check_domain(&self, bx: &[Interval]) -> Result<(), LandscapeError> {
        let mut vals = Vec::with_capacity(self.nodes.len());
        self.forward(bx, &mut vals);
        let bad = |m: String| LandscapeError::Undefined {
            expr: self.source.clone(),
            problem: m,
        };
        for (k, n) in self.nodes.iter().enumerate() {
            let arg = |a: usize| vals[a];
            match *n {
                Node::Call(Func::Log, a) | Node::Call(Func::Sqrt, a) if !(arg(a).inf() > 0.0) => {
                    let f = if let Node::Call(f, _) = *n {
                        f.name()
                    } else {
                        ""
                    };
                    return Err(bad(format!(
                        "{f} needs a positive argument, but its argument ranges over [{}, {}] on the domain",
                        arg(a).inf(),
                        arg(a).sup()
                    )));
                }
                Node::Div(_, b) if arg(b).contains(0.0) => {
                    return Err(bad(format!(
                        "a denominator ranges over [{}, {}], which contains 0, on the domain",
                        arg(b).inf(),
                        arg(b).sup()
                    )));
                }
                Node::Powi(a, p) if p < 0 && arg(a).contains(0.0) => {
                    return Err(bad(format!(
                        "a negative power of an argument that ranges over [{}, {}], which contains 0",
                        arg(a).inf(),
                        arg(a).sup()
                    )));
                }
                _ => {}
            }
            let v = vals[k];
            if v.is_empty() || !v.inf().is_finite() || !v.sup().is_finite() {
                return Err(bad(
                    "an intermediate value overflows or is undefined on the domain".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::lanes::Lanes;

    /// The reverse sweep as first written: adjoints accumulated into a zeroed buffer,
    /// constants included.
    fn gradient_zero_initialised<S: Scalar>(t: &Tape, x: &[S], g: &mut [S]) -> S {
        let mut vals = Vec::new();
        t.forward(x, &mut vals);
        let mut adj = vec![S::zero(); vals.len()];
        let last = vals.len() - 1;
        adj[last] = S::one();
        g.iter_mut().for_each(|v| *v = S::zero());
        for k in (0..=last).rev() {
            let w = adj[k];
            match t.nodes[k] {
                Node::Var(i) => g[i] = g[i] + w,
                Node::Const(_) => {}
                Node::Add(a, b) => {
                    adj[a] = adj[a] + w;
                    adj[b] = adj[b] + w;
                }
                Node::Sub(a, b) => {
                    adj[a] = adj[a] + w;
                    adj[b] = adj[b] - w;
                }
                Node::Mul(a, b) => {
                    adj[a] = adj[a] + w * vals[b];
                    adj[b] = adj[b] + w * vals[a];
                }
                Node::Div(a, b) => {
                    adj[a] = adj[a] + w / vals[b];
                    adj[b] = adj[b] - w * vals[k] / vals[b];
                }
                Node::Neg(a) => adj[a] = adj[a] - w,
                Node::Powi(a, n) => {
                    let d = match n {
                        0 => S::zero(),
                        1 => S::one(),
                        2 => S::from_f64(2.0) * vals[a],
                        _ => S::from_f64(n as f64) * vals[a].powi(n - 1),
                    };
                    adj[a] = adj[a] + w * d;
                }
                Node::Call(f, a) => {
                    let u = vals[a];
                    let d = match f {
                        Func::Exp => vals[k],
                        Func::Log => S::one() / u,
                        Func::Sqrt => S::one() / (S::from_f64(2.0) * vals[k]),
                        Func::Tanh => S::one() - vals[k].sqr(),
                        Func::Sin => u.cos(),
                        Func::Cos => -u.sin(),
                    };
                    adj[a] = adj[a] + w * d;
                }
            }
        }
        vals[last]
    }

    fn tapes() -> Vec<Tape> {
        let mut v: Vec<Tape> = [
            ("x^4/4 - x^2/2", None),
            ("x^3/3 + 0.25*x - x^-2/8", None),
            (
                "log(1 + x1^2) + 0.3*sin(x2)*tanh(x1) + sqrt(1 + x2^2)/3 - exp(-x2^2) \
                 + cos(x1*x2)/(2 + x1^2) - -x1/0.5 + (x1 - x2)^6 + x2^7/1024",
                Some(2),
            ),
        ]
        .iter()
        .map(|(s, d)| Tape::parse(s, *d).unwrap())
        .collect();
        // A tape with shared nodes (parsing never makes one): x1·x2 used three times.
        v.push(Tape {
            nodes: vec![
                Node::Var(0),
                Node::Var(1),
                Node::Mul(0, 1),
                Node::Add(2, 0),
                Node::Mul(3, 2),
                Node::Const(Const::exact(3.0)),
                Node::Div(4, 5),
                Node::Sub(6, 2),
                Node::Neg(7),
                Node::Call(Func::Exp, 2),
                Node::Add(8, 9),
            ],
            dim: 2,
            source: "dag".into(),
        });
        v
    }

    /// Dividing by a power of two compiles to multiplying by its reciprocal.
    #[test]
    fn division_by_powers_of_two_becomes_multiplication() {
        // 0.5 is a decimal literal with a (one-ulp) enclosure, not an exact constant; 3 is
        // not a power of two.
        let t = Tape::parse("x/4 + x/1024 + x/3 + x/0.5", None).unwrap();
        let divs = t
            .nodes
            .iter()
            .filter(|n| matches!(n, Node::Div(..)))
            .count();
        assert_eq!(divs, 2, "{:?}", t.nodes);
        assert!(t.nodes.contains(&Node::Const(Const::exact(0.25))));
        assert!(t.nodes.contains(&Node::Const(Const::exact(1.0 / 1024.0))));
        assert_eq!(exact_reciprocal(Const::exact(2f64.powi(1023))), None);
        assert_eq!(
            exact_reciprocal(Const::exact(2f64.powi(-1022))),
            Some(Const::exact(2f64.powi(1022)))
        );
    }

    /// The sweep with written-bits equals accumulation into zeros: bitwise in f64 and in
    /// lanes of f64, and as intervals, also on a tape with shared nodes.
    #[test]
    fn gradient_equals_zero_initialised_accumulation() {
        let mut f = Scratch::<f64>::new();
        let mut iv = Scratch::<Interval>::new();
        let mut ln = Scratch::<Lanes<4>>::new();
        for t in tapes() {
            let d = t.dim;
            for p in [0.3, -0.7, 1.9, 0.05] {
                let x: Vec<f64> = (0..d).map(|i| p + 0.37 * i as f64).collect();
                let (mut g, mut h) = (vec![0.0; d], vec![0.0; d]);
                let v = t.gradient(&x, &mut g, &mut f);
                let w = gradient_zero_initialised(&t, &x, &mut h);
                assert_eq!(v.to_bits(), w.to_bits(), "{}", t.source);
                for (a, b) in g.iter().zip(&h) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{} at {x:?}", t.source);
                }
                let xi: Vec<Interval> = x.iter().map(|&v| crate::num::iv(v, v + 1e-3)).collect();
                let (mut gi, mut hi) = (vec![Interval::EMPTY; d], vec![Interval::EMPTY; d]);
                t.gradient(&xi, &mut gi, &mut iv);
                gradient_zero_initialised(&t, &xi, &mut hi);
                assert_eq!(gi, hi, "{}", t.source);
                let xl: Vec<Lanes<4>> = x
                    .iter()
                    .map(|&v| Lanes([v, v * 0.5, -v, v + 1.0]))
                    .collect();
                let mut gl = vec![Lanes::splat(0.0); d];
                t.gradient(&xl, &mut gl, &mut ln);
                for l in 0..4 {
                    let xs: Vec<f64> = xl.iter().map(|v| v.0[l]).collect();
                    let mut gs = vec![0.0; d];
                    gradient_zero_initialised(&t, &xs, &mut gs);
                    for (a, b) in gl.iter().map(|v| v.0[l]).zip(&gs) {
                        assert_eq!(a.to_bits(), b.to_bits(), "{} lane {l}", t.source);
                    }
                }
            }
        }
    }
}
