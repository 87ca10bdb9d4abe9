#!/usr/bin/env python3
"""Independent reference values for tests/elementary.rs.

For a fixed list of binary64 arguments x and each function f in {exp, ln, tanh, sin, cos},
prints the exact real value f(x) rounded DOWN and rounded UP to binary64
(lower = largest double <= f(x), upper = smallest double >= f(x); +inf if f(x) > f64::MAX).

Source: mpmath (version printed in the header) at mp.dps = 60. Every binary64 argument is
converted to mpmath exactly (mpf(float) is exact), the function is evaluated at 60 decimal
digits, and the directed roundings are found by exact comparison of that value with binary64
neighbours (math.nextafter), so no double rounding is involved.

Robustness: f(x) is transcendental for every binary64 x used here except the exact special
values (exp(0) = 1, ln(1) = 0, tanh(0) = sin(0) = 0, cos(0) = 1, which give lower == upper and
are asserted to come out exactly), so f(x) is never a binary64 number. The rounding decision is
accepted only if the computed value lies at relative distance > 10**-(dps-10) from both
bounds; otherwise the precision is doubled (e.g. exp(5e-324) = 1 + 5e-324 needs ~330 digits).
Each accepted decision is re-confirmed at dps + 40 digits. tanh(|x| >= 20) (where 1 - |tanh x|
< 2 exp(-40) cannot be resolved by any precision for huge x) is decided by the inequality
0 < 1 - tanh|x| < 2 exp(-40) < 2**-54, i.e. next_down(1) < tanh|x| < 1.

It also prints the directed roundings of pi, pi/2 and 2*pi (rows const_pi, const_frac_pi_2,
const_tau), against which the test checks inari's constant enclosures used by sin/cos.

Output (stdout), one line per case:
    <fn> <x bits, hex> <lower bits, hex> <upper bits, hex>  # x=<repr> lower=<repr> upper=<repr>

Usage:  python3 tests/reference/elementary_ref.py > tests/reference/elementary_ref.txt
"""

import math
import random
import struct
import sys

import mpmath
from mpmath import mp, mpf

MAX = sys.float_info.max
TINY = 5e-324  # smallest positive subnormal
MIN_NORMAL = sys.float_info.min


def bits(x: float) -> str:
    return "0x%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def up(x: float) -> float:
    return math.nextafter(x, math.inf)


def down(x: float) -> float:
    return math.nextafter(x, -math.inf)


def directed(v):
    """(largest double <= v, smallest double >= v) for a real mpf v (exact comparisons)."""
    if v > mpf(MAX):
        return MAX, math.inf
    if v < -mpf(MAX):
        return -math.inf, -MAX
    # Start near v; float(v) may be off by an ulp or so, then walk with exact comparisons.
    d = float(v)
    if math.isinf(d):
        d = math.copysign(MAX, d)
    lo = d
    while mpf(lo) > v:
        lo = down(lo)
    while up(lo) != math.inf and mpf(up(lo)) <= v:
        lo = up(lo)
    hi = lo if mpf(lo) == v else up(lo)
    assert mpf(lo) <= v <= mpf(hi)
    if lo == 0.0:
        lo = 0.0  # canonical +0
    if hi == 0.0:
        hi = 0.0
    return lo, hi


FUNS = {
    "exp": mpmath.exp,
    "ln": mpmath.log,
    "tanh": mpmath.tanh,
    "sin": mpmath.sin,
    "cos": mpmath.cos,
}


def with_neighbours(xs):
    out = []
    for x in xs:
        out += [down(x), x, up(x)]
    return out


def sym(xs):
    return xs + [-x for x in xs]


def log_uniform(rng, n, lo_exp, hi_exp, signed=True):
    out = []
    for _ in range(n):
        x = 10.0 ** rng.uniform(lo_exp, hi_exp)
        if signed and rng.random() < 0.5:
            x = -x
        out.append(x)
    return out


def args_exp(rng):
    hard = [
        0.0, TINY, -TINY, 1e-300, -1e-300, 2.0**-60, -(2.0**-60), 2.0**-27, 1e-8, -1e-8,
        0.5, -0.5, 1.0, -1.0, 2.0, 10.0, -10.0, 100.0, -100.0,
        # overflow threshold: ln(f64::MAX) = 709.78271289338399678...
        709.782712893384, 709.7827128933839, 709.78, 709.0, 710.0, 711.0, 1000.0, 1e10, MAX,
        # subnormal threshold ln(2^-1022) = -708.3964185322641...
        -708.3964185322641, -708.39641853226408, -708.5, -709.0,
        # underflow to zero threshold ln(2^-1075) = -745.13321910194110842...
        -745.1332191019411, -745.13321910194122, -745.0, -745.2, -746.0, -1000.0, -1e10, -MAX,
        # classic hard-to-round cases for exp (Lefevre-Muller list)
        7.5417527749959590085206221e-10, -4.3553e-8, 0.00048828125, 2.0**-30 * 3,
        3.5567836774599965e-01, 1.3093089540436345e+02,
    ]
    hard = with_neighbours([709.782712893384, -745.1332191019411, 1.0]) + hard
    rnd = log_uniform(rng, 70, -20, 2.85) + [rng.uniform(-700, 700) for _ in range(60)]
    return hard + rnd


def args_ln(rng):
    hard = [
        TINY, 2 * TINY, 1e-320, MIN_NORMAL, down(MIN_NORMAL), up(MIN_NORMAL), 1e-300, 1e-100,
        0.5, 1.0, up(1.0), down(1.0), up(up(1.0)), 1.0 + 2.0**-30, 1.0 - 2.0**-30,
        1.0 + 1e-10, 0.9999999, 2.0, math.e, up(math.e), down(math.e), 3.0, 10.0, 100.0,
        1e10, 1e100, 1e300, MAX, down(MAX), 2.0**1023, 2.0**-1022, 2.0**-1074,
        # known hard-to-round logarithm arguments
        1.0000000000000002, 7.4e-01, 6.0e+03, 1.1000000000000001,
    ]
    rnd = log_uniform(rng, 100, -320, 308, signed=False) + [
        rng.uniform(0.5, 2.0) for _ in range(60)
    ]
    return hard + rnd


def args_tanh(rng):
    hard = sym([
        TINY, 1e-320, MIN_NORMAL, 1e-300, 1e-150, 2.0**-27, 1e-8, 1e-5, 1e-3, 0.01, 0.1,
        0.25, 0.5, 0.549306144334054, 1.0, 2.0, 5.0, 10.0, 18.0, 19.0, 19.06, 19.07, 19.1,
        20.0, 22.0, 36.0, 40.0, 100.0, 710.0, 1e10, MAX,
    ]) + [0.0]
    rnd = log_uniform(rng, 70, -20, 1.6) + [rng.uniform(-25, 25) for _ in range(60)]
    return hard + rnd


def near_pi_multiples():
    pts = []
    pi = mp.pi
    for k in list(range(1, 13)) + [63, 64, 100, 1000, 10**6, 10**9]:
        for m in (k * pi / 2, -k * pi / 2):
            pts.append(float(m))
    return with_neighbours(pts)


def args_trig(rng):
    hard = [0.0, TINY, -TINY, 1e-300, 1e-8, -1e-8, 2.0**-26, 0.5, 1.0, -1.0, 2.0, 3.0,
            math.pi, math.pi / 2, 2 * math.pi, 355.0, 103993.0, 104348.0, 312689.0,
            1e6, -1e6, 1e15, 2.0**52, 2.0**53, 1e22, -1e22, up(1e22), down(1e22), 1e100,
            1e300, 2.0**1023, MAX, -MAX,
            # worst case for argument reduction (Kahan/McDonald):
            6381956970095103.0 * 2.0**797,
            1.8014398509481984e16, 5.319372648326541e+255, 1.6312200000000000e+04]
    rnd = log_uniform(rng, 50, -10, 3) + log_uniform(rng, 30, 3, 22) + [
        rng.uniform(-20, 20) for _ in range(30)
    ]
    return hard + near_pi_multiples() + rnd


EXACT = {("exp", 0.0): 1.0, ("ln", 1.0): 0.0, ("tanh", 0.0): 0.0, ("sin", 0.0): 0.0,
         ("cos", 0.0): 1.0}


def resolved(v, lo, hi, dps):
    """True if the directed rounding (lo, hi) of v cannot be changed by an error of
    10**-(dps-10) relative in v (mpmath's result is accurate to about 10**-dps relative)."""
    margin = abs(v) * mpf(10) ** -(dps - 10)
    ok_lo = v - mpf(lo) > margin
    ok_hi = math.isinf(hi) or mpf(hi) - v > margin
    return ok_lo and ok_hi


def reference(name, x):
    """Directed roundings (lower, upper) of f(x), and the precision (digits) used."""
    if (name, x) in EXACT:
        mp.dps = 60
        v = FUNS[name](mpf(x))
        assert v == mpf(EXACT[(name, x)])
        return EXACT[(name, x)], EXACT[(name, x)], 60
    if name == "tanh" and abs(x) >= 20.0:
        # 0 < 1 - tanh|x| = 2/(exp(2|x|) + 1) < 2 exp(-40) < 2**-54 < 1 - next_down(1), so
        # next_down(1) < tanh|x| < 1 exactly (precision cannot resolve 1 - 2e^(-2x) for
        # x up to 1.8e308, so this case is decided by this inequality).
        mp.dps = 60
        assert 2 * mpmath.exp(-40) < mpf(2) ** -54
        return (down(1.0), 1.0, 0) if x > 0 else (-1.0, up(-1.0), 0)
    # f(x) is transcendental for these binary64 x (Lindemann-Weierstrass), hence not a binary64
    # number: raise the precision until the rounding decision is clear, then confirm it at 40
    # more digits.
    dps = 60
    while True:
        mp.dps = dps
        v = FUNS[name](mpf(x))
        lo, hi = directed(v)
        if lo != hi and resolved(v, lo, hi, dps):
            mp.dps = dps + 40
            v2 = FUNS[name](mpf(x))
            lo2, hi2 = directed(v2)
            assert (bits(lo2), bits(hi2)) == (bits(lo), bits(hi)), (name, x)
            return lo, hi, dps
        dps *= 2
        assert dps <= 4000, ("unresolved", name, x)


def main():
    rng = random.Random(20240611)
    cases = []
    for name, gen in (("exp", args_exp), ("ln", args_ln), ("tanh", args_tanh),
                      ("sin", args_trig), ("cos", args_trig)):
        mp.dps = 60
        xs = gen(rng)
        seen = set()
        for x in xs:
            if math.isnan(x) or math.isinf(x) or bits(x) in seen:
                continue
            seen.add(bits(x))
            cases.append((name, x))
    rows = [(name, x) + reference(name, x) for name, x in cases]
    raised = sum(1 for r in rows if r[4] > 60)
    print("# Reference values for tests/elementary.rs, generated by tests/reference/elementary_ref.py")
    print("# Source: mpmath %s, mp.dps = 60; precision raised automatically (%d cases, up to"
          % (mpmath.__version__, raised))
    print("# %d digits) where 60 digits cannot separate f(x) from a binary64 number; each"
          % max(r[4] for r in rows))
    print("# decision re-confirmed at +40 digits. tanh(|x| >= 20) from the inequality in the script.")
    print("# Python %s." % sys.version.split()[0])
    print("# lower/upper = exact f(x) rounded down/up to binary64 (upper = +inf on overflow).")
    print("# Columns: fn  x_bits  lower_bits  upper_bits  # decimal reprs")
    for name, x, lo, hi, _ in rows:
        print("%s %s %s %s  # x=%r lower=%r upper=%r"
              % (name, bits(x), bits(lo), bits(hi), x, lo, hi))
    # Constants used by the sin/cos extremum test (x column unused, 0).
    mp.dps = 60
    for name, c in (("const_pi", mp.pi), ("const_frac_pi_2", mp.pi / 2), ("const_tau", 2 * mp.pi)):
        lo, hi = directed(c)
        assert lo != hi
        print("%s %s %s %s  # lower=%r upper=%r" % (name, bits(0.0), bits(lo), bits(hi), lo, hi))


if __name__ == "__main__":
    main()
