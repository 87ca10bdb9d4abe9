"""Reference values for tests/paper_regime.rs: ln E_0[τ] of THEORY E14 for
L = λ|θ|²/2 in R^d, isotropic noise ε = κ²σ², ball of radius r, start at 0:
E[τ] = ∫_0^r s(y) ∫_0^y m(z) dz dy with s(y) = y^{-(d-1)} exp(λy²/ε),
m(z) = (2/ε) z^{d-1} exp(-λz²/ε). Substituting y = r·u, z = r·u·t:
E[τ] = (2r²/ε) ∫_0^1 u ∫_0^1 t^{d-1} exp((λr²/ε) u² (1 − t²)) dt du.
mpmath at 40 digits; run: python3 tests/reference/e14_radial_d10.py"""
import mpmath as mp

mp.mp.dps = 40
d, lam, r, sigma = 10, 2, 1, 1
for kappa2 in ["0.1", "0.05"]:
    eps = mp.mpf(kappa2) * sigma**2
    x = lam * r**2 / eps
    inner = lambda u: u * mp.quad(lambda t: t ** (d - 1) * mp.exp(x * u * u * (1 - t * t)), [0, 0.5, 0.9, 1])
    e = 2 * r**2 / eps * mp.quad(inner, [0, 0.5, 0.8, 0.9, 0.95, 1])
    print(kappa2, mp.nstr(mp.log(e), 20))
