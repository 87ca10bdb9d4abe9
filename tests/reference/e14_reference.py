#!/usr/bin/env python3
"""High-precision reference values for THEORY.md (E14), and for (E13) with a = -infinity.

Written to e14_reference.txt (next to this script). Every value is computed by two
independent methods that must agree to 1e-15 relative (they agree to ~1e-30 in practice);
the script exits non-zero otherwise.

1. kind `radial` (E14): L(theta) = U(|theta|), U(y) = lambda y^2 / 2 (the built-in quadratic
   with Hessian lambda I), isotropic noise eps^2 = (kappa sigma)^2, ball of radius r in R^d,
   start at theta = 0. Cases d = 1, 2, 10, 100 with several eps^2, E[tau] from ~1 to ~1e866.

   Method 1 (the formula of E14, a = 0):
       E_0[tau] = int_0^r s(y) M(y) dy,   s(y) = y^(1-d) exp(c U(y)),   c = 2 / eps^2,
       M(y) = int_0^y c z^(d-1) exp(-c U(z)) dz = c gamma(d/2, alpha y^2) / (2 alpha^(d/2)),
   alpha = c lambda / 2, gamma the lower incomplete gamma function (mpmath.gammainc);
   outer integral by tanh-sinh quadrature (mpmath.quad), split at the mode
   y* = sqrt((d-1)/(2 alpha)) of m and geometrically towards r, where s grows like
   exp(alpha y^2). mpmath numbers have an unbounded exponent, so no rescaling is needed.

   Method 2 (independent: the boundary-value problem, no integral formula): T(theta) =
   E_theta[tau] is radial, T = T(y), and solves the radial generator equation
       (eps^2/2) T'' + ((d-1) eps^2 / (2y) - lambda y) T' = -1,   T(r) = 0,
   with T smooth at 0. Its solution is an everywhere convergent power series in y^2,
   T = sum_k a_k y^(2k), with
       eps^2 (j+1)(2j+d) a_(j+1) = 2 lambda j a_j - [j = 0],
   so a_1 = -1/(eps^2 d) and all a_k (k >= 1) are negative; T(r) = 0 fixes a_0, and
       E_0[tau] = T(0) = a_0 = sum_(k>=1) |a_k| r^(2k)       (a series of positive terms).
   (T(|theta|) is smooth on R^d and solves (eps^2/2) Delta T - grad L . grad T = -1 in the
   ball with T = 0 on the sphere, so T(theta) = E_theta[tau] by Dynkin's formula.) The sum
   is stopped once the terms decrease and are below 1e-50 of the sum; the neglected tail is
   then below 1e-49 of the sum (the term ratio is < 1 and decreasing from there on, and
   tends to 0).
   For d = 1 the radial process is |X| and the values equal the E13 quadratic rows of
   e13_reference.txt (exit from (-r, r) from 0); the script checks that too.

2. kind `halfline` (E13 with a = -infinity, natural lower end, absorbing at b):
       E_x[tau] = int_x^b s(y) int_(-inf)^y m(z) dz dy
                = c int_x^b int_(-inf)^y exp(c (U(y) - U(z))) dz dy.
   Cases: tilted double well U(x) = x^4/4 - x^2/2 + 0.1 x on (-inf, 0) from its left
   minimiser and from -1; quadratic U(x) = x^2/2 on (-inf, 1) from 0.

   Method 1: nested tanh-sinh quadrature of the double integral above (exponents written
   as differences of potentials), split at the critical points of U.
   Method 2 (independent: an ODE): V(y) = T'(y) = -s(y) M(y) solves
       V' = c (U'(y) V - 1),
   which is stable forward in y where U' < 0 (the homogeneous solution exp(c U) decays to
   the right). Started at A = -4 with the asymptotic value V(A) = 1/U'(A) (V' ~ 0), the
   initial error is damped by exp(-c (U(A) - U(y))) <= exp(-c (U(-4) - U(-2.5))) < 1e-40
   on [x, b]; W' = V, W(A) = 0 then gives E_x[tau] = W(x) - W(b). Integrated with
   mpmath.odefun (high-order Taylor series). For the quadratic a third check uses
   int_(-inf)^y exp(-z^2/eps^2) dz = (eps sqrt(pi)/2)(1 + erf(y/eps)).

Run:  python3 tests/reference/e14_reference.py   (needs mpmath; takes about 4 minutes)
"""

import os
import sys

import mpmath
from mpmath import mp, mpf

mp.dps = 40
REL_TOL = mpf("1e-15")

RADIAL_CASES = [
    # (d, lambda, r, [eps2, ...])
    (1, "1", "1", ["1.0", "0.5", "0.25", "0.01", "0.0005"]),
    (2, "1", "1", ["1.0", "0.25", "0.05"]),
    (10, "3", "0.5", ["0.1", "0.03", "0.01"]),
    (100, "3", "0.1", ["0.0004", "0.0003", "0.0002", "0.00016"]),
]

# E13 quadratic rows (U = x^2/2 on (-1, 1) from 0), for the d = 1 consistency check.
E13_QUADRATIC = {
    "1.0": mpf("1.445245613388347228867664"),
    "0.5": mpf("4.501602416229074642597815"),
    "0.25": mpf("27.43273915249977038579061"),
}


def radial_integral(d, lam, r, eps2):
    """Method 1: the E14 formula, inner integral by the incomplete gamma function."""
    c = 2 / eps2
    alpha = c * lam / 2
    half_d = mpf(d) / 2

    def sm(y):
        if y == 0:
            return mpf(0)
        big_m = c * mpmath.gammainc(half_d, 0, alpha * y**2) / (2 * alpha**half_d)
        return y ** (1 - d) * mpmath.exp(alpha * y**2) * big_m

    pts = {mpf(0), r}
    ystar = mpmath.sqrt((d - 1) / (2 * alpha)) if d > 1 else mpf(0)
    for k in range(1, 9):
        for p in (ystar * k / 4, r * k / 8):
            if 0 < p < r:
                pts.add(p)
    ell = 1 / (2 * alpha * r)  # e-folding length of exp(alpha y^2) at y = r
    k = 1
    while k * ell < r:
        pts.add(r - k * ell)
        k *= 2
    pts = sorted(pts)
    return mpmath.quad(sm, pts, maxdegree=10)


def radial_series(d, lam, r, eps2):
    """Method 2: power series of the radial boundary-value problem."""
    term = r**2 / (eps2 * d)
    total = term
    j = 1
    while True:
        ratio = 2 * lam * j * r**2 / (eps2 * (j + 1) * (2 * j + d))
        term *= ratio
        total += term
        j += 1
        if ratio < 1 and term < total * mpf(10) ** -50:
            return total


def tilted_dw():
    U = lambda x: x**4 / 4 - x**2 / 2 + mpf("0.1") * x
    dU = lambda x: x**3 - x + mpf("0.1")
    return U, dU


def quadratic():
    return (lambda x: x**2 / 2), (lambda x: x)


def halfline_quad(U, b, x, eps2, breaks):
    """Method 1: nested quadrature of the half-line formula of E13."""
    c = 2 / eps2

    def pts(lo, hi):
        return [lo] + sorted(p for p in breaks if lo < p < hi) + [hi]

    def inner(y):
        Uy = U(y)
        inner_pts = [-mpmath.inf] + sorted(p for p in breaks + [mpf(-3)] if p < y) + [y]
        return c * mpmath.quad(lambda z: mpmath.exp(c * (Uy - U(z))), inner_pts)

    return mpmath.quad(inner, pts(x, b))


def halfline_ode(U, dU, b, x, eps2, A=mpf(-4)):
    """Method 2: V' = c (U' V - 1) from A with V(A) = 1/U'(A); W' = V; E = W(x) - W(b)."""
    c = 2 / eps2

    def rhs(t, y):
        v, w = y
        return [c * (dU(t) * v - 1), v]

    sol = mpmath.odefun(rhs, A, [1 / dU(A), mpf(0)])
    return sol(x)[1] - sol(b)[1]


def quadratic_halfline_erf(b, eps2):
    """Third check for U = x^2/2 on (-inf, b) from 0."""
    eps = mpmath.sqrt(eps2)
    f = lambda y: mpmath.exp(y**2 / eps2) * eps * mpmath.sqrt(mpmath.pi) / 2 * (1 + mpmath.erf(y / eps))
    return 2 / eps2 * mpmath.quad(f, [0, b])


def fmt(v, digits=30):
    return mpmath.nstr(v, digits, min_fixed=-mpmath.inf, max_fixed=mpmath.inf, strip_zeros=False)


def fmt_sci(v, digits=30):
    return mpmath.nstr(v, digits, min_fixed=1, max_fixed=0, strip_zeros=False)


def check(name, v1, v2):
    rel = abs(v1 - v2) / abs(v1)
    print(f"  {name}: rel diff = {mpmath.nstr(rel, 3)}", file=sys.stderr)
    if not rel < REL_TOL:
        raise SystemExit(f"methods disagree for {name}: {v1} vs {v2} (rel {rel})")
    return rel


def main():
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "e14_reference.txt")
    rows = []
    worst = mpf(0)

    for d, lam_s, r_s, eps_list in RADIAL_CASES:
        lam, r = mpf(lam_s), mpf(r_s)
        for e in eps_list:
            eps2 = mpf(e)
            v1 = radial_integral(d, lam, r, eps2)
            v2 = radial_series(d, lam, r, eps2)
            worst = max(worst, check(f"radial d={d} eps2={e}", v1, v2))
            if d == 1 and r == 1 and lam == 1 and e in E13_QUADRATIC:
                # e13_reference.txt prints 25 significant digits
                rel = abs(v1 - E13_QUADRATIC[e]) / v1
                print(f"  radial d=1 eps2={e} vs e13 quadratic row: rel diff = {mpmath.nstr(rel, 3)}", file=sys.stderr)
                if not rel < mpf("1e-23"):
                    raise SystemExit(f"d = 1 radial value differs from the E13 quadratic row for eps2={e}")
            rows.append(("radial", str(d), lam_s, r_s, e, "0", v1))

    U, dU = tilted_dw()
    x_min = mpmath.findroot(dU, mpf("-1.0466"))
    assert abs(dU(x_min)) < mpf(10) ** (-38)
    for x0_name, x0 in (("min", x_min), ("m1", mpf(-1))):
        for e in ["0.5", "0.25", "0.1"]:
            eps2 = mpf(e)
            v1 = halfline_quad(U, mpf(0), x0, eps2, [x_min])
            v2 = halfline_ode(U, dU, mpf(0), x0, eps2)
            worst = max(worst, check(f"halfline tilted_dw x0={x0_name} eps2={e}", v1, v2))
            rows.append(("halfline", "tilted_dw", "-inf", "0", e, fmt(x0, 25), v1))

    Uq, dUq = quadratic()
    for e in ["1.0", "0.25"]:
        eps2 = mpf(e)
        v1 = halfline_quad(Uq, mpf(1), mpf(0), eps2, [mpf(0)])
        v2 = halfline_ode(Uq, dUq, mpf(1), mpf(0), eps2, A=mpf(-12))
        v3 = quadratic_halfline_erf(mpf(1), eps2)
        worst = max(worst, check(f"halfline quadratic eps2={e} (ode)", v1, v2))
        worst = max(worst, check(f"halfline quadratic eps2={e} (erf)", v1, v3))
        rows.append(("halfline", "quadratic", "-inf", "1", e, "0", v1))

    with open(out_path, "w") as f:
        f.write("# Mean exit times, THEORY.md (E14) radial quadratic and (E13) with a = -inf\n")
        f.write("# generated by tests/reference/e14_reference.py\n")
        f.write("# radial: L(theta) = lambda |theta|^2 / 2 in R^d, ball of radius r, start 0, eps^2 = (kappa sigma)^2;\n")
        f.write("#   method: E14 integral (inner integral = lower incomplete gamma, outer by mpmath.quad),\n")
        f.write("#   checked against the power-series solution of the radial boundary-value problem\n")
        f.write("#   (and, for d = 1, against the E13 quadratic rows of e13_reference.txt)\n")
        f.write("# halfline: dX = -U'(X) dt + eps dW on (-inf, b), absorbing at b, from x0;\n")
        f.write("#   method: nested mpmath.quad of c int_x^b int_-inf^y exp(c (U(y) - U(z))) dz dy, c = 2/eps^2,\n")
        f.write("#   checked against the ODE V' = c (U' V - 1) (mpmath.odefun) and, for the quadratic, an erf formula\n")
        f.write("#   potentials: tilted_dw U(x) = x^4/4 - x^2/2 + 0.1 x; quadratic U(x) = x^2/2\n")
        f.write("#   tilted_dw x0 = left minimiser of U (root of x^3 - x + 0.1 near -1.0466) to 40 digits: "
                + mpmath.nstr(x_min, 40) + "\n")
        f.write("# max relative difference between methods " + mpmath.nstr(worst, 3) + " (asserted < 1e-15)\n")
        f.write(f"# mpmath version: {mpmath.__version__}; mp.dps = {mp.dps}\n")
        f.write("# columns: kind, then for radial: d lambda r eps2 x0 mean ln_mean\n")
        f.write("#                   for halfline: potential a b eps2 x0 mean ln_mean\n")
        f.write("# (mean and ln_mean to 30 significant digits; mean in scientific notation)\n")
        for kind, p1, p2, p3, e, x0, v in rows:
            f.write(f"{kind} {p1} {p2} {p3} {e} {x0} {fmt_sci(v)} {fmt(mpmath.log(v))}\n")
    print(f"wrote {out_path}; max relative difference between methods {mpmath.nstr(worst, 3)}", file=sys.stderr)


if __name__ == "__main__":
    main()
