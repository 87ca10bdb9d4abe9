#!/usr/bin/env python3
"""Reference values for tests/certify.rs (mpmath 1.3.0, mp.dps = 50; printed to 40 digits).

Run: python3 tests/data/certify_reference.py   (the output is pasted, with this file named
as its source, next to each constant in tests/certify.rs).
"""
import mpmath
from mpmath import mp, mpf, findroot, sqrt, cos, sin, pi

mp.dps = 50
p = lambda v: mp.nstr(v, 40)

# Tilted double well L = x^4/4 - x^2/2 + x/10 on (-2, 0): L' = x^3 - x + 0.1.
r = findroot(lambda x: x**3 - x + mpf("0.1"), mpf("-1.0466"))
L = lambda x: x**4 / 4 - x**2 / 2 + x / 10
print("double well: x* =", p(r))  # same as tests/reference/e13_reference.txt header
print("double well: L* =", p(L(r)))
print("double well: L(-2) =", p(L(mpf(-2))), " L(0) =", p(L(mpf(0))))
print("double well: dL = L(0) - L* =", p(-L(r)))
print("double well: barrier 2 dL / sigma^2 (sigma = 1) =", p(-2 * L(r)))
print("double well: sharpness L''(x*) = 3x*^2 - 1 =", p(3 * r**2 - 1))

# Full-Hessian quadratic H = [[3, 1], [1, 2]]: eigenvalues (5 -+ sqrt 5)/2.
lmin, lmax = (5 - sqrt(5)) / 2, (5 + sqrt(5)) / 2
print("quadratic [[3,1],[1,2]]: lambda_min =", p(lmin), " lambda_max =", p(lmax))
print("quadratic [[3,1],[1,2]]: depth r^2 lambda_min / 2 (r = 1) =", p(lmin / 2))
print("quadratic [[3,1],[1,2]]: barrier r^2 lambda_min / sigma^2 (r = sigma = 1) =", p(lmin))
for eta in [mpf(1) / 16, mpf(1) / 4]:
    f = lambda lam: lam * (2 - eta * lam)
    print(f"quadratic [[3,1],[1,2]]: discrete barrier eta = {eta}: r^2 min f(lambda) / (2 sigma^2) =",
          p(min(f(lmin), f(lmax)) / 2))

# Styblinski-Tang 2-D: L = 1/2 sum (t^4 - 16 t^2 + 5 t); dL/dt = 2t^3 - 16t + 2.5.
s = findroot(lambda t: 2 * t**3 - 16 * t + mpf("2.5"), mpf("-2.9035"))
l1 = lambda t: (t**4 - 16 * t**2 + 5 * t) / 2
print("Styblinski-Tang: theta*_i =", p(s))
print("Styblinski-Tang 2-D: L* =", p(2 * l1(s)))
print("Styblinski-Tang: sharpness 6 t*^2 - 16 =", p(6 * s**2 - 16))
# Depth on the circle of radius 1 around (s, s): minimise over the angle.
F = lambda a: l1(s + cos(a)) + l1(s + sin(a))
best = None
for k in range(64):
    try:
        a = findroot(lambda a: mp.diff(F, a), 2 * pi * k / 64)
    except Exception:
        continue
    if best is None or F(a) < best[0]:
        best = (F(a), a)
print("Styblinski-Tang 2-D: depth on the unit circle =", p(best[0] - 2 * l1(s)), " at angle", mp.nstr(best[1], 10))
print("Styblinski-Tang 2-D: barrier 2 dL / sigma^2 (sigma = 2) =", p((best[0] - 2 * l1(s)) / 2))

# x - log(x) on (0.1, 3): minimum at 1, L* = 1, dL = min(L(0.1), L(3)) - 1 = L(3) - 1 = 2 - log 3.
print("x - log x: dL = 2 - log 3 =", p(2 - mpmath.log(3)), " (L(0.1) - 1 =", p(mpf("0.1") - mpmath.log(mpf("0.1")) - 1), ")")
