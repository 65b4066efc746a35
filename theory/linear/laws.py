"""The data laws (uniform sphere, standard Gaussian), their marginals and ``c0 = E ||x_2||``."""

from __future__ import annotations

import sympy as sp

from featcheck.theory.errors import DomainError
from featcheck.theory.linear.symbols import r, x
from featcheck.theory.names import LAWS, MAX_DIM


def check_law(law: str, dim: int) -> None:
    """Reject unknown laws and dimensions outside ``2 <= dim <= MAX_DIM``."""
    if law not in LAWS:
        raise DomainError(f"unknown data law {law!r}: use 'sphere' or 'gaussian'")
    if not isinstance(dim, int) or dim < 2:
        raise DomainError(f"the data dimension must be an integer >= 2, got {dim!r}")
    if dim > MAX_DIM:
        raise DomainError(f"the data dimension {dim} exceeds the supported maximum {MAX_DIM}")


def radius_density(law: str, dim: int) -> tuple[sp.Expr, tuple[sp.Expr, sp.Expr]] | None:
    """Density of ``R = ||x_2||`` (two-dimensional marginal) and its support.

    ``None`` for the uniform circle ``d = 2``, where ``R = 1``.  For ``U(S^{d-1})`` with
    ``d >= 3`` the pair ``(x_1, x_2)`` has density ``(d-2)/(2 pi) (1 - r^2)^{(d-4)/2}`` on
    the unit disc, so ``R`` has density ``(d-2) r (1-r^2)^{(d-4)/2}``; for ``N(0, I_d)``
    ``R`` is Rayleigh, ``r exp(-r^2/2)``.
    """
    check_law(law, dim)
    if law == "gaussian":
        return r * sp.exp(-(r**2) / 2), (sp.Integer(0), sp.oo)
    if dim == 2:
        return None
    return (dim - 2) * r * (1 - r**2) ** sp.Rational(dim - 4, 2), (sp.Integer(0), sp.Integer(1))


def c0_closed_form(law: str, dim: int) -> sp.Expr:
    """``c0 = E ||x_2||`` in closed form.

    Sphere: ``c0 = (d-2)/2 * B(3/2, (d-2)/2) = sqrt(pi) Gamma(d/2) / (2 Gamma((d+1)/2))``
    (``= 1`` for ``d = 2``, ``pi/4`` for ``d = 3``); Gaussian: ``sqrt(pi/2)`` in every
    dimension.
    """
    check_law(law, dim)
    if law == "gaussian":
        return sp.sqrt(sp.pi / 2)
    d = sp.Integer(dim)
    return sp.simplify(sp.sqrt(sp.pi) * sp.gamma(d / 2) / (2 * sp.gamma((d + 1) / 2)))


def c0_by_integration(law: str, dim: int) -> sp.Expr:
    """``E R`` integrated by sympy from :func:`radius_density` (an independent route)."""
    density = radius_density(law, dim)
    if density is None:
        return sp.Integer(1)
    expr, (low, high) = density
    if law == "gaussian":
        return sp.simplify(sp.integrate(r * expr, (r, low, high)))
    # r = sin(beta) turns the half-integer powers of 1 - r^2 into powers of cos(beta)
    beta = sp.Symbol("beta", positive=True)
    integrand = (dim - 2) * sp.sin(beta) ** 2 * sp.cos(beta) ** (dim - 3)
    return sp.simplify(sp.integrate(integrand, (beta, 0, sp.pi / 2)))


def one_dim_density(law: str, dim: int) -> sp.Expr:
    """Density of ``X = <e, x>`` for a unit vector ``e`` (on ``[-1, 1]`` for the sphere)."""
    check_law(law, dim)
    if law == "gaussian":
        return sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)
    d = sp.Integer(dim)
    constant = sp.gamma(d / 2) / (sp.sqrt(sp.pi) * sp.gamma((d - 1) / 2))
    return constant * (1 - x**2) ** sp.Rational(dim - 3, 2)
