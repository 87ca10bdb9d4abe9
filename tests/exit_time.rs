//! Certified enclosures of exact mean exit times (`src/certify/exit_time.rs`, THEORY E13/E14,
//! `proofs/exit-time-formulas.md`) against high-precision reference values.
//!
//! Reference values:
//! - `tests/reference/e13_reference.txt` (`e13_reference.py`, mpmath 1.3.0, mp.dps = 40:
//!   Green's function of E13 by nested quadrature, checked against ODE shooting);
//! - `tests/reference/e14_reference.txt` (`e14_reference.py`, mpmath 1.3.0, mp.dps = 40:
//!   E14 integral with the incomplete gamma function, checked against the power series of the
//!   radial boundary-value problem; E13 with a = −∞ by nested quadrature, checked against an
//!   ODE and an erf formula).
//!
//! A decimal reference value v is parsed to the nearest double v̂. If v lies in a certified
//! [lo, hi] with binary64 ends then so does v̂ (rounding to nearest is monotone and fixes lo
//! and hi), so `lo ≤ v̂ ≤ hi` is a necessary consequence of a correct enclosure and is
//! asserted without tolerance. Noise levels ε² are decimals (0.1 is not a binary64 number),
//! so they are passed as the enclosure of the decimal (`Const::from_decimal`), and the
//! result encloses E[τ] for the decimal ε² itself.

use escapecert::certify::certify_minimizer;
use escapecert::certify::exit_time::{
    mean_exit_time_interval, mean_exit_time_radial, mean_exit_time_radial_quadratic,
    ExitTimeEnclosure, ExitTimeError, Taylor, DEFAULT_MAX_CELLS, DEFAULT_REL_TOL,
};
use escapecert::landscape::{Landscape, QuadraticHessian, Tape};
use escapecert::num::{iv, point, Const, Dual, Scalar};
use inari::Interval;

/// The requested relative width in these tests (the default of the API).
const REL_TOL: f64 = DEFAULT_REL_TOL;

fn decimal(s: &str) -> Interval {
    let c = Const::from_decimal(s).unwrap();
    iv(c.lo, c.hi)
}

fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect()
}

fn tilted_dw() -> Landscape {
    Landscape::Expr(Tape::parse("x^4/4 - x^2/2 + 0.1*x", Some(1)).unwrap())
}

fn quadratic_1d() -> Landscape {
    Landscape::Quadratic {
        dim: 1,
        hessian: QuadraticHessian::Scaled(1.0),
    }
}

/// The certified minimiser box of the tilted double well (contains the exact x*).
fn dw_minimiser_box() -> Interval {
    let m = certify_minimizer(&tilted_dw(), &[-1.0]).unwrap();
    m.x[0]
}

#[track_caller]
fn assert_encloses_mean(what: &str, r: &ExitTimeEnclosure, v: f64) {
    assert!(
        r.mean.inf() <= v && v <= r.mean.sup(),
        "{what}: E[τ] enclosure [{:e}, {:e}] does not contain the reference {v:e}",
        r.mean.inf(),
        r.mean.sup()
    );
    assert_width(what, r);
}

#[track_caller]
fn assert_encloses_ln(what: &str, r: &ExitTimeEnclosure, ln_v: f64) {
    assert!(
        r.ln_mean.inf() <= ln_v && ln_v <= r.ln_mean.sup(),
        "{what}: ln E[τ] enclosure [{:.17e}, {:.17e}] does not contain the reference {ln_v:.17e}",
        r.ln_mean.inf(),
        r.ln_mean.sup()
    );
    assert_width(what, r);
}

#[track_caller]
fn assert_width(what: &str, r: &ExitTimeEnclosure) {
    assert!(
        r.rel_width <= REL_TOL,
        "{what}: relative width {:e}",
        r.rel_width
    );
    // the reported width is that of the returned interval
    let w = (r.ln_mean.sup() - r.ln_mean.inf()).exp_m1();
    assert!(w <= REL_TOL * (1.0 + 1e-9), "{what}: ln-width {w:e}");
    if r.mean.sup().is_finite() {
        assert!(
            r.mean.sup() - r.mean.inf() <= REL_TOL * r.mean.inf() * (1.0 + 1e-9),
            "{what}: mean [{:e}, {:e}]",
            r.mean.inf(),
            r.mean.sup()
        );
    }
}

// ---------------------------------------------------------------------------------------
// E13, both ends absorbing: every row of e13_reference.txt.
// ---------------------------------------------------------------------------------------

#[test]
fn e13_reference_rows_are_enclosed() {
    let text = include_str!("reference/e13_reference.txt");
    let dw = tilted_dw();
    let q = quadratic_1d();
    let xbox = dw_minimiser_box();
    let table = rows(text);
    assert_eq!(table.len(), 17);
    for row in table {
        let (lo, hi): (f64, f64) = (row[1].parse().unwrap(), row[2].parse().unwrap());
        let eps2 = decimal(row[3]);
        let reference: f64 = row[5].parse().unwrap();
        let (l, x0) = match (row[0], row[4]) {
            ("tilted_dw", x) if x.starts_with("-1.0466") => (&dw, xbox),
            ("tilted_dw", x) => (&dw, point(x.parse().unwrap())),
            ("quadratic", x) => (&q, point(x.parse().unwrap())),
            (p, _) => panic!("unknown potential {p}"),
        };
        let what = format!("{} x0={} eps2={}", row[0], row[4], row[3]);
        let r = mean_exit_time_interval(l, lo, hi, x0, eps2, REL_TOL, DEFAULT_MAX_CELLS)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_encloses_mean(&what, &r, reference);
    }
}

// ---------------------------------------------------------------------------------------
// E14, radial quadratic: every radial row of e14_reference.txt (d = 1, 2, 10, 100).
// ---------------------------------------------------------------------------------------

#[test]
fn e14_radial_reference_rows_are_enclosed() {
    let text = include_str!("reference/e14_reference.txt");
    assert!(text.contains("mpmath version: 1.3.0; mp.dps = 40"));
    assert!(text.contains("(asserted < 1e-15)"));
    let mut n = 0;
    for row in rows(text).into_iter().filter(|r| r[0] == "radial") {
        let d: usize = row[1].parse().unwrap();
        let lambda: f64 = row[2].parse().unwrap();
        let r: f64 = row[3].parse().unwrap();
        let eps2 = decimal(row[4]);
        let mean: f64 = row[6].parse().unwrap();
        let ln_mean: f64 = row[7].parse().unwrap();
        let what = format!("radial d={d} λ={lambda} r={r} eps2={}", row[4]);
        if row[3] == "0.1" {
            // The radius 0.1 is not a binary64 number; the reference is for the decimal
            // radius. E[τ] is increasing in r (τ_r ≤ τ_r' pathwise for r < r'), so the
            // enclosures for the two neighbouring doubles of 0.1 bracket it.
            let run = |r: f64| {
                mean_exit_time_radial_quadratic(d, lambda, r, eps2, REL_TOL, DEFAULT_MAX_CELLS)
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
            };
            let (lo, hi) = (run(0.1f64.next_down()), run(0.1f64.next_up()));
            assert!(
                lo.ln_mean.inf() <= ln_mean && ln_mean <= hi.ln_mean.sup(),
                "{what}: [{:.17e}, {:.17e}] ∌ {ln_mean:.17e}",
                lo.ln_mean.inf(),
                hi.ln_mean.sup()
            );
            assert_width(&what, &lo);
            assert_width(&what, &hi);
            // the two radii differ by 2 ulps: the hull is hardly wider than each enclosure
            let hull = lo.ln_mean.convex_hull(hi.ln_mean);
            assert!(hull.wid().exp_m1() <= 1.01 * REL_TOL, "{what}: {hull:?}");
        } else {
            let res =
                mean_exit_time_radial_quadratic(d, lambda, r, eps2, REL_TOL, DEFAULT_MAX_CELLS)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_encloses_ln(&what, &res, ln_mean);
            if mean.is_finite() {
                assert_encloses_mean(&what, &res, mean);
            }
        }
        n += 1;
    }
    assert_eq!(n, 15);
}

/// d = 1: the radial process is |X|, so E14 with d = 1 and the E13 two-ends formula on
/// (−r, r) from 0 are the same number, computed by different formulas and cell layouts.
#[test]
fn radial_d1_agrees_with_e13_on_the_symmetric_interval() {
    let q = quadratic_1d();
    for e in ["1.0", "0.25", "0.01"] {
        let eps2 = decimal(e);
        let a =
            mean_exit_time_radial_quadratic(1, 1.0, 1.0, eps2, REL_TOL, DEFAULT_MAX_CELLS).unwrap();
        let b =
            mean_exit_time_interval(&q, -1.0, 1.0, point(0.0), eps2, REL_TOL, DEFAULT_MAX_CELLS)
                .unwrap();
        assert!(
            !a.ln_mean.intersection(b.ln_mean).is_empty(),
            "eps2={e}: {:?} vs {:?}",
            a.ln_mean,
            b.ln_mean
        );
    }
}

// ---------------------------------------------------------------------------------------
// Huge values: ln E ≈ 2000 (E ≈ 7.7e866) without overflow.
// ---------------------------------------------------------------------------------------

#[test]
fn huge_mean_exit_time_in_log_scale() {
    // Reference: e14_reference.txt, radial d = 1, λ = 1, r = 1, eps2 = 0.0005.
    let ln_ref: f64 = "1996.07901668903676745613879785".parse().unwrap();
    let eps2 = decimal("0.0005");
    let q = quadratic_1d();
    let r = mean_exit_time_interval(&q, -1.0, 1.0, point(0.0), eps2, REL_TOL, DEFAULT_MAX_CELLS)
        .unwrap();
    assert_encloses_ln("E13 quadratic on (−1, 1), eps2 = 5e-4", &r, ln_ref);
    // E ≈ 7.7e866 is beyond binary64: the mean enclosure is [f64::MAX or less, +∞].
    assert_eq!(r.mean.sup(), f64::INFINITY);
    assert!(r.mean.inf() > 1e300);
    let r1 =
        mean_exit_time_radial_quadratic(1, 1.0, 1.0, eps2, REL_TOL, DEFAULT_MAX_CELLS).unwrap();
    assert_encloses_ln("E14 d = 1, eps2 = 5e-4", &r1, ln_ref);
    // Through the landscape entry point.
    let r2 = mean_exit_time_radial(&q, 1.0, eps2, REL_TOL, DEFAULT_MAX_CELLS).unwrap();
    assert_encloses_ln("E14 via the landscape", &r2, ln_ref);
}

// ---------------------------------------------------------------------------------------
// E13 with a = −∞ (natural lower end): every halfline row of e14_reference.txt.
// ---------------------------------------------------------------------------------------

#[test]
fn e13_half_line_reference_rows_are_enclosed() {
    let text = include_str!("reference/e14_reference.txt");
    let dw = tilted_dw();
    let q = quadratic_1d();
    let xbox = dw_minimiser_box();
    let mut n = 0;
    for row in rows(text).into_iter().filter(|r| r[0] == "halfline") {
        assert_eq!(row[2], "-inf");
        let b: f64 = row[3].parse().unwrap();
        let eps2 = decimal(row[4]);
        let mean: f64 = row[6].parse().unwrap();
        let (l, x0) = match (row[1], row[5]) {
            ("tilted_dw", x) if x.starts_with("-1.0466") => (&dw, xbox),
            ("tilted_dw", x) => (&dw, point(x.parse().unwrap())),
            ("quadratic", x) => (&q, point(x.parse().unwrap())),
            (p, _) => panic!("unknown potential {p}"),
        };
        let what = format!("halfline {} x0={} eps2={}", row[1], row[5], row[4]);
        let r = mean_exit_time_interval(
            l,
            f64::NEG_INFINITY,
            b,
            x0,
            eps2,
            REL_TOL,
            DEFAULT_MAX_CELLS,
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(r.method.contains("Lemma T"), "{}", r.method);
        assert_encloses_mean(&what, &r, mean);
        n += 1;
    }
    assert_eq!(n, 8);
}

// ---------------------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------------------

#[test]
fn tail_that_cannot_be_certified_is_an_error() {
    // U(x) = x: ∫_{−∞} e^{−cU} diverges (E[τ] = ∞ on (−∞, b)); no tail bound exists.
    let l = Landscape::Expr(Tape::parse("x", Some(1)).unwrap());
    let e = mean_exit_time_interval(
        &l,
        f64::NEG_INFINITY,
        1.0,
        point(0.0),
        point(1.0),
        REL_TOL,
        DEFAULT_MAX_CELLS,
    )
    .unwrap_err();
    assert!(matches!(e, ExitTimeError::TailNotCertified(_)), "{e}");
    // U(x) = −log(2 − x) → −∞ as x → −∞ (−U' = −1/(2 − x) < 0): no tail bound either.
    // U(x) = x²/2 + log(x + 10) is not defined on (−∞, −10]: the tail must not be certified
    // even though the quadratic part grows.
    for src in ["-log(2 - x)", "x^2/2 + log(x + 10)"] {
        let l = Landscape::Expr(Tape::parse(src, Some(1)).unwrap());
        let e = mean_exit_time_interval(
            &l,
            f64::NEG_INFINITY,
            1.0,
            point(0.0),
            point(1.0),
            REL_TOL,
            DEFAULT_MAX_CELLS,
        )
        .unwrap_err();
        assert!(
            matches!(e, ExitTimeError::TailNotCertified(_)),
            "{src}: {e}"
        );
    }
}

/// A start box [x1, x2]: the enclosure over the box contains E_x for every x in it, so it
/// meets the enclosures at points of the box.
#[test]
fn start_box_encloses_the_values_at_its_points() {
    let dw = tilted_dw();
    let eps2 = decimal("0.1");
    for lo in [-2.0, f64::NEG_INFINITY] {
        let bx =
            mean_exit_time_interval(&dw, lo, 0.0, iv(-1.047, -1.046), eps2, 1e-4, 10_000).unwrap();
        assert!(bx.rel_width <= 1e-4);
        for x in [-1.047, -1.0466, -1.0463, -1.046] {
            let p = mean_exit_time_interval(&dw, lo, 0.0, point(x), eps2, 1e-8, 10_000).unwrap();
            assert!(
                !bx.ln_mean.intersection(p.ln_mean).is_empty(),
                "lo={lo} x={x}: {:?} vs {:?}",
                bx.ln_mean,
                p.ln_mean
            );
        }
    }
}

/// When E varies over the start box by more than rel_tol, the error says so (and comes
/// quickly, without exhausting the work limit).
#[test]
fn too_wide_start_box_is_reported() {
    let dw = tilted_dw();
    for lo in [-2.0, f64::NEG_INFINITY] {
        let e = mean_exit_time_interval(
            &dw,
            lo,
            0.0,
            iv(-1.2, -0.9),
            decimal("0.1"),
            REL_TOL,
            DEFAULT_MAX_CELLS,
        )
        .unwrap_err();
        match e {
            ExitTimeError::ToleranceNotReached { hint, cells, .. } => {
                assert!(hint.contains("start box"), "{hint}");
                assert!(cells < 1000, "{cells}");
            }
            other => panic!("unexpected {other}"),
        }
    }
}

#[test]
fn work_limit_gives_a_clear_error() {
    let e = mean_exit_time_interval(
        &tilted_dw(),
        -2.0,
        0.0,
        point(-1.0),
        decimal("0.1"),
        1e-12,
        64,
    )
    .unwrap_err();
    match e {
        ExitTimeError::ToleranceNotReached {
            achieved,
            requested,
            max_cells,
            ..
        } => {
            assert!(achieved > requested);
            assert_eq!(max_cells, 64);
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn bad_inputs_are_rejected() {
    let q = quadratic_1d();
    let one = point(1.0);
    let bad = |r: Result<ExitTimeEnclosure, ExitTimeError>| {
        assert!(matches!(r, Err(ExitTimeError::InvalidInput(_))), "{r:?}")
    };
    bad(mean_exit_time_interval(
        &q,
        -1.0,
        1.0,
        point(1.0),
        one,
        REL_TOL,
        1000,
    ));
    bad(mean_exit_time_interval(
        &q,
        1.0,
        -1.0,
        point(0.0),
        one,
        REL_TOL,
        1000,
    ));
    bad(mean_exit_time_interval(
        &q,
        -1.0,
        1.0,
        point(0.0),
        point(0.0),
        REL_TOL,
        1000,
    ));
    bad(mean_exit_time_interval(
        &q,
        -1.0,
        1.0,
        point(0.0),
        one,
        0.0,
        1000,
    ));
    bad(mean_exit_time_interval(
        &q,
        -1.0,
        f64::INFINITY,
        point(0.0),
        one,
        REL_TOL,
        1000,
    ));
    bad(mean_exit_time_radial_quadratic(
        0, 1.0, 1.0, one, REL_TOL, 1000,
    ));
    bad(mean_exit_time_radial_quadratic(
        3, -1.0, 1.0, one, REL_TOL, 1000,
    ));
    let q3 = Landscape::Quadratic {
        dim: 3,
        hessian: QuadraticHessian::Scaled(1.0),
    };
    assert!(matches!(
        mean_exit_time_interval(&q3, -1.0, 1.0, point(0.0), one, REL_TOL, 1000),
        Err(ExitTimeError::NotOneDimensional(3))
    ));
    assert!(matches!(
        mean_exit_time_radial(
            &Landscape::StyblinskiTang { dim: 2 },
            1.0,
            one,
            REL_TOL,
            1000
        ),
        Err(ExitTimeError::NotRadial(_))
    ));
    // log(x) is undefined on part of (−1, 1)
    let l = Landscape::Expr(Tape::parse("log(x)", Some(1)).unwrap());
    assert!(matches!(
        mean_exit_time_interval(&l, -1.0, 1.0, point(0.5), one, REL_TOL, 1000),
        Err(ExitTimeError::Undefined(_))
    ));
}

// ---------------------------------------------------------------------------------------
// Taylor arithmetic (Lemma TA): consistency with certified dual numbers, closed forms.
// ---------------------------------------------------------------------------------------

/// Coefficients 0..=2 of a Taylor<6> evaluation over a box and of Dual<Dual<Interval>>
/// over the same box enclose the same real numbers f^{(k)}(ξ)/k! at every ξ: evaluated at
/// a point they must intersect, and over a box the Taylor enclosure at a point inside must
/// intersect the box enclosure.
#[test]
fn taylor_coefficients_agree_with_nested_duals() {
    let src =
        "exp(sin(x)) / (1 + x^2) + sqrt(2 + cos(x)) * tanh(x) - log(3 + x^4) + x^-2 + (x - 1)^3";
    let l = Landscape::Expr(Tape::parse(src, Some(1)).unwrap());
    for &x in &[0.3, 1.7, -2.4, 5.0] {
        for &w in &[0.0, 1e-3, 0.1] {
            let bx = iv(x, x + w);
            let t: Taylor<6> = l.value(&[Taylor::variable(bx)]);
            let dd: Dual<Dual<Interval>> = l.value(&[Dual::new(
                Dual::new(bx, point(1.0)),
                Dual::new(point(1.0), point(0.0)),
            )]);
            let f = dd.v.v;
            let f1 = dd.v.d;
            let f2_half = dd.d.d / point(2.0);
            for (k, (a, b)) in [(t.c[0], f), (t.c[1], f1), (t.c[2], f2_half)]
                .into_iter()
                .enumerate()
            {
                assert!(
                    !a.intersection(b).is_empty(),
                    "x={x} w={w} k={k}: {a:?} vs {b:?}"
                );
                if w == 0.0 {
                    assert!(a.wid() <= 1e-12 * (1.0 + a.mag()), "k={k}: {a:?}");
                }
            }
            // the point enclosure at x lies in the box enclosure (inclusion isotonicity)
            let tp: Taylor<6> = l.value(&[Taylor::variable(point(x))]);
            for k in 0..6 {
                assert!(
                    !tp.c[k].intersection(t.c[k]).is_empty(),
                    "x={x} w={w} k={k}: {:?} ⊄ {:?}",
                    tp.c[k],
                    t.c[k]
                );
            }
        }
    }
}

#[test]
fn taylor_closed_forms() {
    // exp at 0: 1/k!
    let e: Taylor<9> = Taylor::variable(point(0.0)).exp();
    let mut fact = 1.0;
    for k in 0..9 {
        if k > 0 {
            fact *= k as f64;
        }
        assert!(e.c[k].contains(1.0 / fact), "k={k}: {:?}", e.c[k]);
    }
    // ln(1 + t) at 0: (−1)^{k+1}/k
    let l: Taylor<9> = (Taylor::variable(point(0.0)) + Taylor::from_f64(1.0)).ln();
    for k in 1..9 {
        let v = if k % 2 == 1 { 1.0 } else { -1.0 } / k as f64;
        assert!(l.c[k].contains(v), "k={k}: {:?}", l.c[k]);
    }
    // 1/(1 − t) = Σ t^k; sin, cos at 0; sqrt(1 + t) = 1 + t/2 − t²/8 + t³/16
    let g: Taylor<6> =
        Taylor::from_f64(1.0) / (Taylor::from_f64(1.0) - Taylor::variable(point(0.0)));
    assert!(g.c.iter().all(|c| c.contains(1.0)));
    let s: Taylor<6> = Taylor::variable(point(0.0)).sin();
    let c: Taylor<6> = Taylor::variable(point(0.0)).cos();
    for (k, v) in [0.0, 1.0, 0.0, -1.0 / 6.0, 0.0, 1.0 / 120.0]
        .iter()
        .enumerate()
    {
        assert!(s.c[k].contains(*v) && s.c[k].wid() < 1e-15, "sin k={k}");
    }
    for (k, v) in [1.0, 0.0, -0.5, 0.0, 1.0 / 24.0, 0.0].iter().enumerate() {
        assert!(c.c[k].contains(*v) && c.c[k].wid() < 1e-15, "cos k={k}");
    }
    let r: Taylor<4> = (Taylor::variable(point(0.0)) + Taylor::from_f64(1.0)).sqrt();
    for (k, v) in [1.0, 0.5, -0.125, 0.0625].iter().enumerate() {
        assert!(r.c[k].contains(*v), "sqrt k={k}");
    }
    // x^-2 at 1: (1 + t)^-2 = Σ (−1)^k (k + 1) t^k
    let p: Taylor<5> = Taylor::variable(point(1.0)).powi(-2);
    for k in 0..5 {
        let v = if k % 2 == 0 { 1.0 } else { -1.0 } * (k + 1) as f64;
        assert!(p.c[k].contains(v), "powi k={k}: {:?}", p.c[k]);
    }
}
