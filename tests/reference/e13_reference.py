#!/usr/bin/env python3
"""High-precision reference values for THEORY.md (E13): mean exit times of 1-D diffusions.

Diffusion: dX = -U'(X) dt + eps dW on (a, b), both ends absorbing (eps^2 = (kappa sigma)^2).

Cases written to e13_reference.txt (next to this script):

* tilted_dw: U(x) = x^4/4 - x^2/2 + 0.1 x on (a, b) = (-2, 0), started at
  - x0 = the left minimiser of U (root of U'(x) = x^3 - x + 0.1 near -1.0466, found to
    40 digits by mpmath.findroot), and
  - x0 = -1.0 exactly,
  for eps^2 in {0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1}.
* quadratic: U(x) = x^2/2 on (-1, 1) from x0 = 0, eps^2 in {1.0, 0.5, 0.25}.

Method 1 (the value written): the two-absorbing-ends Green's function of (E13),
    E_x[tau] = int_a^b G(x, y) m(y) dy,
    G(x, y) = S(min(x, y)) (S(b) - S(max(x, y))) / S(b),
    s(y) = exp(2 U(y) / eps^2),  S(x) = int_a^x s,  m(y) = 2 / (eps^2 s(y)).
Splitting at y = x,
    E_x[tau] = (S(b) - S(x))/S(b) * int_a^x S(y) m(y) dy
             + S(x)/S(b)          * int_x^b (S(b) - S(y)) m(y) dy,
and S(y) m(y), (S(b) - S(y)) m(y) are written as inner integrals of
(2/eps^2) exp(2 (U(z) - U(y)) / eps^2), so that every exponent is a difference of
potentials (the rescaling that avoids overflow; the ratios S(x)/S(b) are computed with
s rescaled by exp(-2 U_ref / eps^2), U_ref = max of U over [a, b]).
Nested tanh-sinh quadrature (mpmath.quad), intervals split at x, at the critical points
of U inside (a, b).

Method 2 (independent check): the boundary-value problem
    (eps^2 / 2) T'' - U' T' = -1,  T(a) = T(b) = 0,
solved by linear shooting with mpmath.odefun (high-order Taylor series integrator):
T = T_p + c T_h, with T_p'' = (2/eps^2)(U' T_p' - 1), T_p(a) = T_p'(a) = 0 and
T_h'' = (2/eps^2) U' T_h', T_h(a) = 0, T_h'(a) = 1; c = -T_p(b)/T_h(b).
For the quadratic case a third check: by symmetry x = 0 is a reflecting point, so
the one-absorbing-end formula of (E13) on (0, 1) applies:
    E_0[tau] = (2/eps^2) int_0^1 exp(y^2/eps^2) int_0^y exp(-z^2/eps^2) dz dy
             = (2/eps^2) int_0^1 exp(y^2/eps^2) (eps sqrt(pi)/2) erf(y/eps) dy.
The script asserts that all methods agree to 1e-15 relative (in practice they agree to
~1e-30) and exits non-zero otherwise.

Run:  python3 tests/reference/e13_reference.py   (needs mpmath; takes a few minutes)
"""

import os
import sys

import mpmath
from mpmath import mp, mpf

mp.dps = 40
REL_TOL = mpf("1e-15")


def tilted_dw():
    U = lambda x: x**4 / 4 - x**2 / 2 + mpf("0.1") * x
    dU = lambda x: x**3 - x + mpf("0.1")
    return U, dU


def quadratic():
    U = lambda x: x**2 / 2
    dU = lambda x: x
    return U, dU


def green_mean_exit(U, a, b, x, eps2, breaks):
    """Method 1: Green's function of (E13), nested quadrature, exponents as differences."""
    c = 2 / eps2
    # rescaled scale density; the common factor cancels in S(x)/S(b)
    uref = max(U(a), U(b), *(U(p) for p in breaks))
    s_hat = lambda y: mpmath.exp(c * (U(y) - uref))

    def pts(lo, hi):
        inner = sorted(p for p in breaks if lo < p < hi)
        return [lo] + inner + [hi]

    S_b = mpmath.quad(s_hat, pts(a, b))
    S_x = mpmath.quad(s_hat, pts(a, x))
    # S(y) m(y) = int_a^y (2/eps^2) exp(c (U(z) - U(y))) dz
    def S_m(y):
        Uy = U(y)
        return c * mpmath.quad(lambda z: mpmath.exp(c * (U(z) - Uy)), pts(a, y))

    # (S(b) - S(y)) m(y) = int_y^b (2/eps^2) exp(c (U(z) - U(y))) dz
    def Sc_m(y):
        Uy = U(y)
        return c * mpmath.quad(lambda z: mpmath.exp(c * (U(z) - Uy)), pts(y, b))

    left = mpmath.quad(S_m, pts(a, x))
    right = mpmath.quad(Sc_m, pts(x, b))
    return (S_b - S_x) / S_b * left + S_x / S_b * right


def shooting_mean_exit(U, dU, a, b, x, eps2):
    """Method 2: (eps^2/2) T'' - U' T' = -1, T(a) = T(b) = 0, by linear shooting (odefun)."""
    c = 2 / eps2

    def rhs(t, y):
        tp, dtp, th, dth = y
        g = dU(t)
        return [dtp, c * (g * dtp - 1), dth, c * g * dth]

    sol = mpmath.odefun(rhs, a, [mpf(0), mpf(0), mpf(0), mpf(1)])
    tp_b, _, th_b, _ = sol(b)
    cc = -tp_b / th_b
    tp_x, _, th_x, _ = sol(x)
    return tp_x + cc * th_x


def quadratic_reflect_mean_exit(eps2):
    """Third check for U = x^2/2 on (-1, 1) from 0 (reflection at the symmetry point)."""
    eps = mpmath.sqrt(eps2)
    f = lambda y: mpmath.exp(y**2 / eps2) * eps * mpmath.sqrt(mpmath.pi) / 2 * mpmath.erf(y / eps)
    return 2 / eps2 * mpmath.quad(f, [0, 1])


def fmt(v, digits=25):
    return mpmath.nstr(v, digits, min_fixed=-mpmath.inf, max_fixed=mpmath.inf, strip_zeros=False)


def check(name, v1, v2):
    rel = abs(v1 - v2) / abs(v1)
    print(f"  {name}: rel diff = {mpmath.nstr(rel, 3)}", file=sys.stderr)
    if not rel < REL_TOL:
        raise SystemExit(f"methods disagree for {name}: {v1} vs {v2} (rel {rel})")
    return rel


def main():
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "e13_reference.txt")
    rows = []
    worst = mpf(0)

    U, dU = tilted_dw()
    a, b = mpf(-2), mpf(0)
    x_min = mpmath.findroot(dU, mpf("-1.0466"))
    # the saddle-free interval (-2, 0) contains only this critical point of U
    assert abs(dU(x_min)) < mpf(10) ** (-38)
    crit = [x_min]
    eps2_list = ["0.5", "0.4", "0.3", "0.25", "0.2", "0.15", "0.1"]
    for x0_name, x0 in (("min", x_min), ("m1", mpf(-1))):
        for e in eps2_list:
            eps2 = mpf(e)
            v1 = green_mean_exit(U, a, b, x0, eps2, crit)
            v2 = shooting_mean_exit(U, dU, a, b, x0, eps2)
            worst = max(worst, check(f"tilted_dw x0={x0_name} eps2={e}", v1, v2))
            rows.append(("tilted_dw", a, b, e, x0, v1))

    Uq, dUq = quadratic()
    a, b = mpf(-1), mpf(1)
    for e in ["1.0", "0.5", "0.25"]:
        eps2 = mpf(e)
        v1 = green_mean_exit(Uq, a, b, mpf(0), eps2, [mpf(0)])
        v2 = shooting_mean_exit(Uq, dUq, a, b, mpf(0), eps2)
        v3 = quadratic_reflect_mean_exit(eps2)
        worst = max(worst, check(f"quadratic eps2={e} (shooting)", v1, v2))
        worst = max(worst, check(f"quadratic eps2={e} (reflecting)", v1, v3))
        rows.append(("quadratic", a, b, e, mpf(0), v1))

    with open(out_path, "w") as f:
        f.write("# E_x[tau] for dX = -U'(X) dt + eps dW on (a, b), both ends absorbing (THEORY.md E13)\n")
        f.write("# generated by tests/reference/e13_reference.py\n")
        f.write("# method: Green's function of E13 by nested tanh-sinh quadrature (mpmath.quad);\n")
        f.write("#   checked against linear shooting on (eps^2/2)T'' - U'T' = -1 with mpmath.odefun\n")
        f.write("#   (and, for the quadratic, the reflecting-at-0 formula); max relative difference "
                + mpmath.nstr(worst, 3) + " (asserted < 1e-15)\n")
        f.write(f"# mpmath version: {mpmath.__version__}; mp.dps = {mp.dps}\n")
        f.write("# potentials: tilted_dw U(x) = x^4/4 - x^2/2 + 0.1 x; quadratic U(x) = x^2/2\n")
        f.write("# tilted_dw x0 = left minimiser of U (root of x^3 - x + 0.1 near -1.0466) to 40 digits: "
                + mpmath.nstr(x_min, 40) + "\n")
        f.write("# columns: potential a b eps2 x0 mean_exit_time (25 significant digits)\n")
        for name, a, b, e, x0, v in rows:
            f.write(f"{name} {mpmath.nstr(a, 3)} {mpmath.nstr(b, 3)} {e} {fmt(x0)} {fmt(v)}\n")
    print(f"wrote {out_path}; max relative difference between methods {mpmath.nstr(worst, 3)}", file=sys.stderr)


if __name__ == "__main__":
    main()
