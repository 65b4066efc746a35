r"""One large gradient step on the first layer of a two-layer network.

Two papers, two notations; this module keeps them apart and converts only at
the boundary (the derivation documents state the dictionary).

**Model A** (Moniri, Lee, Hassani, Dobriban, ICML 2024; seed ``003``).
``n`` samples, input dimension ``d``, width ``N``, ``psi = n / d``.  Data
``x ~ N(0, I_d)``, target ``y = sigma*(<x, beta*>) + eps`` with ``||beta*|| = 1``
and ``Var eps = sigma_eps^2``.  Network ``F(x) = a^T sigma(W x)``, rows of ``W0``
uniform on the sphere, ``a ~ N(0, I_N / N)``, one step ``W1 = W0 + eta G`` with
``eta = eta0 n^alpha`` and ``G = (1/n) [(y a^T) o sigma'(X W0^T)]^T X`` (the
gradient of the squared loss with the initial output set to zero).

* ``G = mu_1(sigma) a beta_hat^T + (small in operator norm)``, ``beta_hat = X^T y / n``.
* Taylor expansion of ``sigma`` entrywise: the ``k``-th term of the updated
  features is ``(mu_k(sigma)/k!) (eta mu_1(sigma))^k (X beta_hat)^{o k} (a^{o k})^T``
  plus a part negligible in operator norm; its operator norm grows like
  ``eta^k sqrt(n) N^{(1-k)/2}`` against a bulk ``~ sqrt(n)``.  It separates iff
  ``alpha > (k-1)/(2k)``: the spike count is ``l(alpha) = #{k : (k-1)/(2k) < alpha}``,
  restricted to degrees with ``mu_k(sigma) != 0``.
* Overlap ``<beta_hat/||beta_hat||, beta*> -> mu_1(sigma*) /
  sqrt(mu_1(sigma*)^2 + (E[sigma*(Z)^2] + sigma_eps^2)/psi)``.

**Model B** (Demir and Dogan, ICLR 2025; seed ``002``).  Input dimension ``n``,
``m`` samples, width ``k``; strength ``beta`` and weight ``alpha`` with
``eta = n^(beta alpha)`` and spike size ``n^(beta (1 - alpha))``.  The Hermite
model of degree ``L(beta) = floor(1/(1 - beta))`` replaces ``sigma`` in the
readout by ``sum_{i<=L} h_i He_i(u/b) + s_L eps`` with ``b = sqrt(n / tr)``,
``h_i = E[sigma(b Z) He_i(Z)] / i!`` and ``s_L^2 = E[sigma(b Z)^2] - sum_{i<=L} i! h_i^2``.

Note that ``alpha`` and ``beta`` mean different things in A and B; every public
function here names its model in its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy as sp

from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.functions import Function, FunctionLike, as_function
from featcheck.theory.hermite import Coefficient, Quantity, hermite_coefficients

#: Degrees examined for spikes; ``l(alpha) <= 1/(1 - 2 alpha)``, so this covers ``alpha < 0.49``.
MAX_SPIKE_DEGREE = 50


# ----------------------------------------------------------------------------
# Model A: spike count


def _rational(value: float | int | sp.Rational | Fraction, name: str) -> sp.Rational:
    """An exact rational from user input (floats by their shortest decimal form)."""
    if isinstance(value, sp.Rational):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise DomainError(f"{name} must be finite, got {value}")
        return sp.Rational(repr(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, int):
        return sp.Integer(value)
    raise InputError(f"{name} must be a number, got {value!r}")


#: Inputs this close (relatively) to a boundary are treated as the boundary: a float such
#: as 0.6666666666666666 stands for 2/3.
BOUNDARY_TOLERANCE = 1e-9


def _at_integer(x: sp.Rational) -> bool:
    return bool(x.is_integer) or abs(float(x) - round(float(x))) <= BOUNDARY_TOLERANCE * float(x)


def spike_threshold(k: int) -> sp.Rational:
    """Model A: the degree-``k`` spike separates from the bulk iff ``alpha > (k-1)/(2k)``."""
    if k < 1:
        raise DomainError(f"spike degree must be at least 1, got {k}")
    return sp.Rational(k - 1, 2 * k)


def spike_count(alpha: float | sp.Rational) -> int:
    """Model A: ``l(alpha)``, the number of degrees ``k >= 1`` with ``(k-1)/(2k) < alpha``.

    Defined for ``alpha`` in ``(0, 1/2)`` away from the thresholds ``(k-1)/(2k)``
    (at a threshold the spike strength stays of the order of the bulk and the
    count is not determined by the scaling argument).
    """
    a = _rational(alpha, "alpha")
    if not (0 < a < sp.Rational(1, 2)):
        raise DomainError(f"alpha must lie in (0, 1/2), got {alpha}")
    # (k-1)/(2k) < a  <=>  k < 1/(1 - 2a)
    bound = 1 / (1 - 2 * a)
    if _at_integer(bound):
        bound = sp.Integer(round(float(bound)))
        raise DomainError(
            f"alpha = {a} is the threshold (k-1)/(2k) of degree k = {bound}: the spike "
            "count is undefined there; move alpha off the threshold"
        )
    return int(sp.ceiling(bound)) - 1


@dataclass(frozen=True)
class DegreeStatus:
    """Whether ``mu_k(sigma)`` is non-zero: ``nonzero``, ``zero`` (exact) or ``unresolved``."""

    degree: int
    coefficient: Coefficient
    status: str

    @property
    def counts(self) -> bool:
        return self.status == "nonzero"


def coefficient_status(c: Coefficient) -> str:
    """``zero`` only when exactly zero; ``nonzero`` when exact non-zero or beyond its error."""
    if c.is_exact:
        return "zero" if c.exact == 0 else "nonzero"
    return "nonzero" if abs(c.value) > c.error else "unresolved"


@dataclass(frozen=True)
class SpikePrediction:
    """Model A: which spikes the updated feature matrix carries at step exponent ``alpha``."""

    alpha: sp.Rational
    unrestricted: int  # l(alpha)
    degrees: tuple[DegreeStatus, ...]  # k = 1 .. l(alpha)
    mu1_activation: DegreeStatus
    mu1_target: DegreeStatus

    @property
    def spike_degrees(self) -> tuple[int, ...]:
        """Degrees ``k <= l(alpha)`` whose spike is present (``mu_k(sigma)`` provably non-zero)."""
        if not self.mu1_activation.counts:
            return ()
        return tuple(s.degree for s in self.degrees if s.counts)

    @property
    def count(self) -> int:
        return len(self.spike_degrees)

    @property
    def informative(self) -> bool:
        """The spikes carry the target direction iff ``mu_1(sigma*) != 0``."""
        return self.mu1_target.counts

    @property
    def unresolved(self) -> tuple[int, ...]:
        return tuple(s.degree for s in self.degrees if s.status == "unresolved")


def predict_spikes(
    activation: FunctionLike, target: FunctionLike, alpha: float, *, digits: int = 30
) -> SpikePrediction:
    """Model A: ``l(alpha)`` restricted to ``mu_k(sigma) != 0``, with the status of each degree.

    ``mu_k`` are monic Hermite coefficients from
    :func:`featcheck.theory.hermite.hermite_coefficients`,
    exact where the foundation is exact; a numeric coefficient within its error
    bound of zero is ``unresolved`` and not counted (reported separately).
    """
    sigma = as_function(activation)
    star = as_function(target)
    l_alpha = spike_count(alpha)
    expansion = hermite_coefficients(sigma, l_alpha, basis="monic", digits=digits)
    degrees = tuple(
        DegreeStatus(k, expansion[k], coefficient_status(expansion[k]))
        for k in range(1, l_alpha + 1)
    )
    target_mu1 = hermite_coefficients(star, 1, basis="monic", digits=digits)[1]
    return SpikePrediction(
        _rational(alpha, "alpha"),
        l_alpha,
        degrees,
        degrees[0],
        DegreeStatus(1, target_mu1, coefficient_status(target_mu1)),
    )


def spike_strength(
    mu_k: float, mu_1: float, k: int, eta: float, beta_hat_norm: float, n: int, width: int
) -> float:
    """Model A: typical operator norm of the degree-``k`` rank-one term.

    ``|mu_k|/k! |eta mu_1|^k ||(X beta_hat)^{o k}|| ||a^{o k}||`` with
    ``E||(X beta_hat)^{o k}||^2 = n ||beta_hat||^{2k} (2k-1)!!`` and
    ``E||a^{o k}||^2 = N (2k-1)!! N^{-k}`` for ``a ~ N(0, I_N/N)``.
    """
    double_factorial = float(sp.factorial2(2 * k - 1))
    return (
        abs(mu_k)
        / float(sp.factorial(k))
        * abs(eta * mu_1) ** k
        * beta_hat_norm**k
        * double_factorial
        * (n**0.5)
        * width ** ((1 - k) / 2)
    )


# ----------------------------------------------------------------------------
# Model A: gradient overlap


@dataclass(frozen=True)
class OverlapLimit:
    """Model A: the limits of ``||beta_hat||^2`` and ``<beta_hat/||beta_hat||, beta*>``."""

    mu1_target: Quantity
    target_second_moment: Quantity
    noise_variance: sp.Rational
    psi: sp.Rational
    norm_squared: sp.Expr
    overlap: sp.Expr

    @property
    def value(self) -> float:
        return float(self.overlap)

    def alignment(self, k: int) -> float:
        """Predicted ``corr(He_k(X beta_hat/||beta_hat||), He_k(X beta*)) = overlap^k``."""
        return float(self.overlap) ** k


def _quantity_expr(q: Quantity) -> sp.Expr:
    return q.exact if q.exact is not None else sp.Float(q.value, 30)


def overlap_symbolic() -> tuple[sp.Expr, sp.Expr, dict[str, sp.Symbol]]:
    """``E||beta_hat||^2`` at finite ``(n, d)`` and its proportional limit, from first principles.

    ``beta_hat = (1/n) sum_i x_i y_i``: the ``n`` diagonal terms give
    ``E[y^2 ||x||^2]/n = ((d - 1) E[y^2] + E[sigma*(Z)^2 Z^2] + sigma_eps^2)/n`` and the
    ``n(n-1)`` off-diagonal ones ``||E[x y]||^2 = mu_1(sigma*)^2``.
    """
    n, d, psi = sp.symbols("n d psi", positive=True)
    mu1, m2, m2z, s2 = sp.symbols(r"\mu_1 m_2 m_{2Z} \sigma_\varepsilon^2", positive=True)
    ey2 = m2 + s2
    finite = ((d - 1) * ey2 + m2z + s2) / n**2 * n + (n - 1) / n * mu1**2
    limit = sp.limit(finite.subs(d, n / psi), n, sp.oo)
    return sp.simplify(finite), sp.simplify(limit), {"mu1": mu1, "m2": m2, "s2": s2, "psi": psi}


def gradient_overlap(
    target: FunctionLike, psi: float, noise_variance: float = 0.0, *, digits: int = 30
) -> OverlapLimit:
    """Model A: ``<beta_hat/||beta_hat||, beta*> -> mu_1(sigma*)/sqrt(||beta_hat||^2_limit)``.

    Re-derived in :func:`overlap_symbolic`; the overlap along ``beta*`` is
    ``mu_1(sigma*)`` because the noise part of ``beta_hat`` has a vanishing
    component along any fixed direction.
    """
    star = as_function(target)
    psi_r = _rational(psi, "psi")
    noise = _rational(noise_variance, "noise variance")
    if psi_r <= 0:
        raise DomainError(f"psi = n/d must be positive, got {psi}")
    if noise < 0:
        raise DomainError(f"noise variance must be non-negative, got {noise_variance}")
    expansion = hermite_coefficients(star, 1, basis="monic", digits=digits)
    mu1, m2 = expansion[1], expansion.second_moment
    _, limit, s = overlap_symbolic()
    norm_sq = limit.subs(
        {
            s["mu1"]: _quantity_expr(mu1),
            s["m2"]: _quantity_expr(m2),
            s["s2"]: noise,
            s["psi"]: psi_r,
        }
    )
    overlap = _quantity_expr(mu1) / sp.sqrt(norm_sq)
    return OverlapLimit(mu1, m2, noise, psi_r, sp.simplify(norm_sq), overlap)


# ----------------------------------------------------------------------------
# Model B: Hermite-model degree and coefficients


def hermite_degree(beta: float | sp.Rational) -> int:
    """Model B: ``L(beta) = floor(1/(1 - beta))`` for ``beta`` in ``(0, 1)``.

    Theorem 4's intervals ``(l-2)/(l-1) < beta < (l-1)/l`` give ``L = l - 1``; the
    model is undefined at the boundaries ``beta = 1 - 1/j`` (``1/2, 2/3, 3/4, ...``).
    """
    b = _rational(beta, "beta")
    if not (0 < b < 1):
        raise DomainError(f"beta must lie in (0, 1), got {beta}")
    inverse = 1 / (1 - b)
    if _at_integer(inverse):
        inverse = sp.Integer(round(float(inverse)))
        raise DomainError(
            f"beta = {b} is the boundary 1 - 1/{inverse} between Hermite degrees "
            f"{int(inverse) - 1} and {int(inverse)}: the Hermite model is undefined there"
        )
    return int(sp.floor(inverse))


def degree_interval(L: int) -> tuple[sp.Rational, sp.Rational]:
    """Model B: the open interval of ``beta`` on which ``L(beta) = L``."""
    if L < 1:
        raise DomainError(f"Hermite degree must be at least 1, got {L}")
    return sp.Rational(L - 1, L), sp.Rational(L, L + 1)


def rational_scale(b: float, tolerance: float = 1e-12) -> sp.Rational:
    """A rational within relative ``tolerance`` of ``b > 0`` (keeps exact Hermite paths exact)."""
    if not b > 0:
        raise DomainError(f"scale must be positive, got {b}")
    fraction = Fraction(b).limit_denominator(int(1 / tolerance))
    return sp.Rational(fraction.numerator, fraction.denominator)


@dataclass(frozen=True)
class HermiteModel:
    """Model B: ``sigma_L(u) = sum_{i<=L} h_i He_i(u/b) + s_L eps`` for ``sigma(b .)``."""

    activation: Function
    scale: sp.Rational
    degree: int
    method: str
    mu: tuple[Coefficient, ...]  # mu_i(sigma(b .)) = i! h_i, i = 0..L
    second_moment: Quantity
    residual_variance: Quantity  # s_L^2

    @property
    def h(self) -> tuple[float, ...]:
        """``h_i = mu_i / i!`` as floats."""
        return tuple(float(c.value) / float(sp.factorial(c.degree)) for c in self.mu)

    @property
    def residual_std(self) -> float:
        return float(mpmath.sqrt(max(self.residual_variance.value, 0)))


def hermite_model(activation: FunctionLike, scale: float, degree: int) -> HermiteModel:
    """Model B: coefficients and residual variance of the degree-``L`` Hermite model.

    ``mu_i = E[sigma(b Z) He_i(Z)]`` (monic basis of ``sigma(b .)`` via
    :meth:`Function.scaled`), ``h_i = mu_i / i!`` and
    ``s_L^2 = E[sigma(b Z)^2] - sum_{i<=L} mu_i^2 / i!`` (Parseval), exact when
    the foundation is exact for ``sigma(b .)``; otherwise each error bound is
    carried through.  ``scale`` is replaced by a rational within ``1e-12``.
    """
    sigma = as_function(activation)
    if not isinstance(degree, int) or degree < 0:
        raise DomainError(f"Hermite degree must be a non-negative integer, got {degree}")
    b = rational_scale(float(scale))
    expansion = hermite_coefficients(sigma.scaled(b), degree, basis="monic")
    mus = expansion.coefficients
    m2 = expansion.second_moment
    if expansion.method == "exact" and m2.is_exact and all(c.is_exact for c in mus):
        exact = m2.exact - sum(c.exact**2 / sp.factorial(c.degree) for c in mus)
        exact = sp.nsimplify(sp.simplify(exact)) if exact.is_number else exact
        value = mpmath.mpf(sp.N(exact, 40))
        residual = Quantity(exact, value, mpmath.mpf(0))
    else:
        value = m2.value - sum(c.value**2 / mpmath.factorial(c.degree) for c in mus)
        error = m2.error + sum(
            (2 * abs(c.value) * c.error + c.error**2) / mpmath.factorial(c.degree) for c in mus
        )
        residual = Quantity(None, value, error)
    if residual.value + residual.error < 0:
        raise DomainError("negative residual variance: the coefficients are inconsistent")
    return HermiteModel(sigma, b, degree, expansion.method, mus, m2, residual)


# ----------------------------------------------------------------------------
# Model B: spikes of the updated feature matrix


def spread_exponent(beta, weight, degree: int) -> sp.Rational:
    r"""Model B: the degree-``j`` data-spread spike over the bulk grows like ``n^e``,
    ``e = 1/2 - j (1 - beta (1 - alpha)) / 2``.

    A component ``I + theta gamma gamma^T`` (``theta = n^(beta (1 - alpha))``) puts
    ``s (gamma^T z) (F gamma)`` in every pre-activation, ``s = sqrt(1 + theta)``,
    entries ``~ sqrt(theta / n)``; the ``j``-th Taylor term of ``sigma`` is the
    rank-one matrix ``(mu_j/j!) s^j g^{o j} ((F gamma)^{o j})^T / sqrt(k)`` of norm
    ``~ sqrt(m) (theta/n)^{j/2}`` against a bulk of order one.
    """
    b, a = _rational(beta, "beta"), _rational(weight, "weight")
    return sp.Rational(1, 2) - degree * (1 - b * (1 - a)) / 2


def step_exponent(beta, weight, degree: int) -> sp.Rational:
    r"""Model B: the degree-``j`` learning-rate spike grows like ``n^e``,
    ``e = 1/2 - j (1 - beta alpha)``.

    The gradient is ``mu_1 (w/sqrt(k)) c_hat^T`` plus a smaller part (``w ~ N(0, I/k)``),
    so the step moves pre-activations by ``eta mu_1 (w_i/sqrt(k)) (x . c_hat)``,
    entries ``~ eta / k``; the ``j``-th term ``(mu_j/j!) (eta mu_1)^j (X c_hat)^{o j}
    ((w/sqrt(k))^{o j})^T / sqrt(k)`` has norm ``~ sqrt(m) eta^j k^{-j}``.
    """
    b, a = _rational(beta, "beta"), _rational(weight, "weight")
    return sp.Rational(1, 2) - degree * (1 - b * a)


def mixed_exponent(beta, weight, spread: int, step: int) -> sp.Rational:
    """Model B: a product of ``spread`` data-spread and ``step`` learning-rate factors."""
    b, a = _rational(beta, "beta"), _rational(weight, "weight")
    return sp.Rational(1, 2) - spread * (1 - b * (1 - a)) / 2 - step * (1 - b * a)


@dataclass(frozen=True)
class SpikeTermB:
    """Model B: one family of rank-one terms of the updated features (degree ``spread + step``)."""

    mechanism: str  # "spread", "step" or "mixed"
    spread: int
    step: int
    exponent: sp.Rational
    multiplicity: int  # number of rank-one terms of this kind
    coefficient: DegreeStatus

    @property
    def degree(self) -> int:
        return self.spread + self.step

    @property
    def boundary(self) -> bool:
        return abs(float(self.exponent)) <= BOUNDARY_TOLERANCE

    @property
    def present(self) -> bool:
        return self.exponent > 0 and not self.boundary and self.coefficient.counts


@dataclass(frozen=True)
class SpikePredictionB:
    """Model B: which rank-one terms separate from the bulk of ``sigma(X F_1^T)/sqrt(k)``."""

    beta: sp.Rational
    weight: sp.Rational
    directions: int  # distinct spike subspaces of the data (0 isotropic, 1, 2 mixture)
    rank: int
    terms: tuple[SpikeTermB, ...]  # every term with a non-negative exponent

    @property
    def present(self) -> tuple[SpikeTermB, ...]:
        return tuple(t for t in self.terms if t.present)

    @property
    def count(self) -> int:
        return sum(t.multiplicity for t in self.present)

    @property
    def undetermined(self) -> tuple[SpikeTermB, ...]:
        """Terms at a boundary (exponent 0) or with an unresolved coefficient."""
        return tuple(
            t
            for t in self.terms
            if (t.boundary and t.coefficient.status != "zero")
            or (t.exponent > 0 and t.coefficient.status == "unresolved")
        )


def predict_spikes_b(
    activation: FunctionLike,
    beta: float,
    weight: float,
    *,
    directions: int,
    rank: int = 1,
    scale: float = 1.0,
    digits: int = 30,
) -> SpikePredictionB:
    """Model B: the spikes of the updated features, by mechanism and degree.

    Terms of degree ``j`` are products of ``i`` data-spread factors and ``j - i``
    learning-rate factors, exponent :func:`mixed_exponent`; a term is present iff
    its exponent is positive and ``mu_j(sigma(b .)) != 0`` (step terms also need
    ``mu_1 != 0``, the gradient's rank-one part).  Multiplicity: ``directions``
    times the number of degree-``i`` monomials in ``rank`` spike coordinates for
    spread terms, one for step terms.  For ``beta < 1`` mixed terms never
    separate (their exponent is below ``1/2 - (1-beta(1-alpha))/2 - (1-beta alpha)
    < 0``); they are listed when their exponent is non-negative.
    """
    b, a = _rational(beta, "beta"), _rational(weight, "weight")
    if not (0 < b < 1):
        raise DomainError(f"beta must lie in (0, 1), got {beta}")
    if not (0 <= a <= 1):
        raise DomainError(f"weight alpha must lie in [0, 1], got {weight}")
    if directions < 0 or rank < 1:
        raise DomainError("need directions >= 0 and rank >= 1")
    sigma = as_function(activation)
    # spread terms stop at j >= 1/(1 - beta(1 - alpha)), step terms at j >= 1/(2(1 - beta alpha))
    max_degree = int(sp.floor(1 / (1 - b))) + 1
    expansion = hermite_coefficients(
        sigma.scaled(rational_scale(float(scale))), max_degree, basis="monic", digits=digits
    )
    status = {
        j: DegreeStatus(j, expansion[j], coefficient_status(expansion[j]))
        for j in range(1, max_degree + 1)
    }
    mu1 = status[1]
    terms = []
    for j in range(1, max_degree + 1):
        for i in range(j + 1):
            if i > 0 and directions == 0:
                continue
            exponent = mixed_exponent(b, a, i, j - i)
            if exponent < 0 and abs(float(exponent)) > BOUNDARY_TOLERANCE:
                continue
            coefficient = status[j]
            if i < j and not mu1.counts:  # no rank-one gradient: no step factor
                coefficient = DegreeStatus(
                    j, expansion[j], "zero" if mu1.status == "zero" else "unresolved"
                )
            mechanism = "spread" if i == j else "step" if i == 0 else "mixed"
            multiplicity = (directions * int(sp.binomial(rank + i - 1, i))) if i else 1
            terms.append(SpikeTermB(mechanism, i, j - i, exponent, multiplicity, coefficient))
    return SpikePredictionB(b, a, directions, rank, tuple(terms))
