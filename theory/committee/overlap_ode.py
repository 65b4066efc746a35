r"""The overlap ODEs of a committee model, derived symbolically, and the generalisation error.

Exact one-step increments (``w_k <- w_k + (eta/d) delta_k x``, ``lambda = W x``, ``nu = U x``):

    Q'_kl = Q_kl + (eta/d)(delta_k lambda_l + delta_l lambda_k) + (eta/d)^2 delta_k delta_l |x|^2
    M'_km = M_km + (eta/d) delta_k nu_m
    a'_k  = a_k + (eta_a/d) (y - yhat) phi(lambda_k)          (trained second layer)

With ``t = steps/d``, ``|x|^2/d -> 1`` and the increments averaged over the fresh sample
(the fluctuations vanish as ``d -> infinity``; Saad and Solla, Phys. Rev. E 52, 4225 (1995);
Goldt et al., NeurIPS 2019, arXiv 1906.08632):

    dM_km/dt = eta E[delta_k nu_m]
    dQ_kl/dt = eta E[delta_k lambda_l + delta_l lambda_k] + eta^2 E[delta_k delta_l]
    da_k/dt  = eta_a E[(y - yhat) phi(lambda_k)]

where ``E`` is over the local fields ``(lambda, nu) ~ N(0, Omega)`` and the label noise;
``E[delta_k delta_l]`` gains ``sigma^2 a_k a_l E[phi'(lambda_k) phi'(lambda_l)]``.  Gradient
flow keeps the first-order terms only.  The generalisation error is
``eps_g = E[(F(nu) - yhat)^2]/2`` (without the label noise).

:func:`derive_ode` expands these into expectations of products of the activation, its
derivative, the fields and the teacher, evaluates each with
:func:`~featcheck.theory.committee.expectations.gaussian_expectation`, and returns an
:class:`~featcheck.theory.dynamics.OdeSystem` whose :class:`~featcheck.theory.derivation.Derivation`
records every step and the method of every expectation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from featcheck.theory.committee.expectations import (
    Expectation,
    NumericImplementation,
    closed_form_patterns,
    gaussian_expectation,
)
from featcheck.theory.committee.local_fields import LocalFields, local_fields
from featcheck.theory.committee.model import CommitteeModel
from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics import OdeSystem
from featcheck.theory.errors import InputError
from featcheck.theory.functions import z

ETA = sp.Symbol("eta", positive=True)
ETA_A = sp.Symbol("eta_a", positive=True)
TIME = sp.Symbol("t", nonnegative=True)

SAAD_SOLLA = "Saad and Solla, Phys. Rev. E 52, 4225 (1995)"
BIEHL_SCHWARZE = "Biehl and Schwarze, J. Phys. A 28 (1995)"
GOLDT = "Goldt, Advani, Saxe, Krzakala, Zdeborova, NeurIPS 2019 (arXiv 1906.08632)"


class Named(sp.Symbol):
    """A placeholder symbol printed in LaTeX as its name (used for ``E[...]`` in documents)."""

    def _latex(self, printer, exp=None):
        return self.name if exp is None else rf"{self.name}^{{{exp}}}"


Factor = tuple[str, int]  # (kind, index): kinds "dphi", "lam", "nu", "xi", "phi", "g", "F"
_ORDER = {"dphi": 0, "lam": 1, "nu": 2, "xi": 3, "phi": 4, "g": 5, "F": 6}


@dataclass
class _Book:
    """The expectations a derivation uses, each evaluated once."""

    model: CommitteeModel
    fields: LocalFields
    covariance: sp.Matrix
    entries: dict[tuple[Factor, ...], tuple[Named, Expectation]] = field(default_factory=dict)

    def function(self, factor: Factor) -> sp.Expr:
        kind, i = factor
        lam, nu = self.fields.lam, self.fields.nu
        phi = self.model.student.activation.expr
        if kind == "dphi":
            return sp.diff(phi, z).subs(z, lam[i])
        if kind == "phi":
            return phi.subs(z, lam[i])
        if kind == "lam":
            return lam[i]
        if kind == "nu":
            return nu[i]
        if kind == "xi":
            return self.fields.xi[i]
        if kind == "g":
            return self.model.teacher.activation.expr.subs(z, nu[i])
        variables = self.model.teacher.variables
        return self.model.teacher.link.xreplace(dict(zip(variables, nu, strict=True)))

    def latex(self, factor: Factor) -> str:
        kind, i = factor
        if kind == "dphi":
            return rf"\varphi'(\lambda_{{{i + 1}}})"
        if kind == "phi":
            return rf"\varphi(\lambda_{{{i + 1}}})"
        if kind == "lam":
            return rf"\lambda_{{{i + 1}}}"
        if kind == "nu":
            return rf"\nu_{{{i + 1}}}"
        if kind == "xi":
            return rf"\xi_{{{i + 1}}}"
        if kind == "g":
            return rf"g(\nu_{{{i + 1}}})"
        return r"F(\nu)"

    def __call__(self, *factors: Factor) -> Named:
        key = tuple(sorted(factors, key=lambda f: (_ORDER[f[0]], f[1])))
        if key not in self.entries:
            label = r"\mathbb{E}\left[" + r"\,".join(self.latex(f) for f in key) + r"\right]"
            integrand = sp.Mul(*[self.function(f) for f in key])
            expectation = gaussian_expectation(integrand, self.fields.fields, self.covariance)
            self.entries[key] = (Named(label), expectation)
        return self.entries[key][0]

    def closed_forms(self) -> dict[Named, sp.Expr]:
        return {symbol: e.value for symbol, e in self.entries.values()}


class JacobianEntry(sp.Function):
    """``d rhs_r / d y_s`` of a :class:`CommitteeSystem`, evaluated numerically.

    A generated subclass per system carries its right-hand side; the numpy evaluation
    (``featcheck.numerics.committee``) takes central differences of it.  The exact
    Jacobian (:meth:`CommitteeOde.exact_jacobian`) costs more to build than most
    integrations; the stiff solver and the fixed-point analysis need it only numerically.
    """

    backend_kind = "jacobian-entry"
    _imp_ = NumericImplementation()
    rhs: tuple[sp.Expr, ...] = ()
    arguments: tuple[sp.Symbol, ...] = ()

    def _latex(self, printer, exp=None):
        r, s = (int(v) for v in self.args[:2])
        return rf"\partial_{{{s + 1}}} f_{{{r + 1}}}"


@dataclass
class CommitteeSystem(OdeSystem):
    """An :class:`OdeSystem` whose :meth:`jacobian` is a matrix of :class:`JacobianEntry`
    symbols (evaluated by central differences of the right-hand side)."""

    def jacobian(self) -> sp.Matrix:
        arguments = (*self.state, *self.parameters)
        digest = hashlib.sha1(
            "|".join(sp.srepr(r) for r in (*self.rhs, *arguments)).encode()
        ).hexdigest()[:12]
        cls = type(
            f"JacobianEntry_{digest}",
            (JacobianEntry,),
            {"rhs": tuple(self.rhs), "arguments": arguments, "nargs": len(arguments) + 2},
        )
        n = self.dimension
        return sp.Matrix(n, n, lambda r, s: cls(sp.Integer(r), sp.Integer(s), *arguments))


@dataclass
class CommitteeOde:
    """The derived overlap ODEs of a model.

    ``system`` is the :class:`OdeSystem` (state: the upper triangle of ``Q`` row by row, then
    ``M`` row by row, then ``a`` when the second layer is trained; parameters ``eta`` and,
    when trained, ``eta_a``; observable ``generalization_error``).  ``named_rhs`` and
    ``named_error`` are the same equations written with the expectations as symbols;
    ``expectations`` maps each symbol to its :class:`Expectation`.
    """

    model: CommitteeModel
    fields: LocalFields
    system: OdeSystem
    named_rhs: tuple[sp.Expr, ...]
    named_error: sp.Expr
    expectations: dict[Named, Expectation]
    parameter_values: dict[str, float]
    substitutions: dict[sp.Symbol, sp.Expr]

    @property
    def derivation(self) -> Derivation:
        return self.system.derivation

    @property
    def generalization_error(self) -> sp.Expr:
        return self.system.observables["generalization_error"]

    @property
    def initial_state(self) -> tuple[sp.Expr, ...]:
        """The model's initial overlaps in the order of the state."""
        init, K, M = self.model.initial, self.model.K, self.model.M
        values = [init.Q[k][j] for k in range(K) for j in range(k, K)]
        values += [init.M[k][m] for k in range(K) for m in range(M)]
        values += [init.S[k][r] for k in range(K) for r in range(self.model.R)]
        if self.model.student.trained:
            values += list(self.model.student.second_layer)
        return tuple(values)

    @property
    def exact(self) -> bool:
        """True when every expectation is in closed form."""
        return all(e.exact for e in self.expectations.values())

    def exact_jacobian(self) -> sp.Matrix:
        """The exact Jacobian of the right-hand side, by the chain rule through the closed
        forms of the expectations (slow: each distinct closed form is differentiated)."""
        if self.model.R:
            # the expectations are in the generic Omega_ij: differentiate the explicit form
            return sp.Matrix(self.system.rhs).jacobian(sp.Matrix(self.system.state))
        return _jacobian(self.named_rhs, self.system.state, self.expectations, self.evaluate)

    def evaluate(self, expr: sp.Expr) -> sp.Expr:
        """An expression in the expectation symbols, made explicit in the order parameters."""
        closed = {symbol: e.value for symbol, e in self.expectations.items()}
        return sp.sympify(expr).xreplace(closed).xreplace(self.substitutions)

    def numeric_methods(self) -> list[str]:
        return sorted({e.method for e in self.expectations.values() if not e.exact})


def _state(fields: LocalFields, trained: bool) -> tuple[sp.Symbol, ...]:
    state = fields.q_entries + fields.m_entries + fields.s_entries
    return state + fields.second_layer if trained else state


def derive_ode(model: CommitteeModel) -> CommitteeOde:
    """The overlap ODEs of ``model``, with their derivation (cached per model)."""
    return _derive(model)


#: Models whose ODE needs more Gaussian expectations than this are refused (deriving
#: and compiling them would take minutes).
MAX_EXPECTATIONS = 1000


def expectation_count(model: CommitteeModel) -> int:
    """An upper bound on the number of distinct expectations the derivation evaluates."""
    K, M = model.K, model.M
    functions = K + (M if model.teacher.is_committee else 1)
    pairs = functions * (functions + 1) // 2
    count = 2 * K * (K + M + model.R) * functions + pairs  # E[phi' x h] and eps_g
    if model.learner.stochastic:
        count += K * (K + 1) // 2 * (pairs + 1)  # E[phi' phi' h h'] and E[phi' phi']
    if model.student.trained:
        count += K * functions
    return count


@lru_cache(maxsize=32)
def _derive(model: CommitteeModel) -> CommitteeOde:
    K, M = model.K, model.M
    count = expectation_count(model)
    if count > MAX_EXPECTATIONS:
        raise InputError(
            f"the overlap ODE of K = {K}, M = {M} needs up to {count} Gaussian expectations; "
            f"the limit is {MAX_EXPECTATIONS} (use fewer units)"
        )
    R = model.R
    fields = local_fields(K, M, R)
    learner = model.learner
    normalized, spherical = learner.normalized, learner.spherical
    preconditioned = learner.variant == "preconditioned"
    generic = bool(R) or normalized
    book = _Book(model, fields, fields.generic_covariance if generic else fields.covariance)
    trained = model.student.trained
    sgd = learner.stochastic
    a = fields.second_layer if trained else model.student.second_layer
    committee = model.teacher.is_committee
    a_star = model.teacher.second_layer if committee else None
    sigma2 = model.teacher.noise**2

    def teacher(*factors: Factor) -> sp.Expr:
        """``E[factors * F(nu)]``, split over a committee's terms."""
        if committee:
            return sp.Add(*[a_star[m] * book(*factors, ("g", m)) for m in range(M)])
        return book(*factors, ("F", 0))

    def student(*factors: Factor) -> sp.Expr:
        return sp.Add(*[a[j] * book(*factors, ("phi", j)) for j in range(K)])

    correlation = learner.loss == "correlation"

    def residual(*factors: Factor) -> sp.Expr:
        """``E[factors * (F(nu) - yhat)]``; ``E[factors * F(nu)]`` for the correlation loss
        ``-y yhat`` (whose ``delta_k`` is ``a_k phi' y``)."""
        if correlation:
            return teacher(*factors)
        return teacher(*factors) - student(*factors)

    def square(*factors: Factor, loss: bool = False) -> sp.Expr:
        """``E[factors * (F(nu) - yhat)^2]`` (with ``loss``, for the correlation loss:
        ``E[factors * F(nu)^2]``, the square of its ``delta_k/(a_k phi')`` without noise)."""
        if committee:
            tt = sp.Add(
                *[
                    (1 if m == n else 2)
                    * a_star[m]
                    * a_star[n]
                    * book(*factors, ("g", m), ("g", n))
                    for m in range(M)
                    for n in range(m, M)
                ]
            )
        else:
            tt = book(*factors, ("F", 0), ("F", 0))
        if loss and correlation:
            return tt
        ts = sp.Add(*[a[j] * teacher(*factors, ("phi", j)) for j in range(K)])
        ss = sp.Add(
            *[
                (1 if i == j else 2) * a[i] * a[j] * book(*factors, ("phi", i), ("phi", j))
                for i in range(K)
                for j in range(i, K)
            ]
        )
        return tt - 2 * ts + ss

    # The covariance of the raw fields (lambda, nu, xi) in the state symbols, and the Gram
    # matrix of (W, U, Theta); P and T are numbers.
    fixed = {fields.p(m, n): model.teacher.overlaps[m][n] for m in range(M) for n in range(M)}
    fixed.update(
        {fields.t(m, r): model.teacher.spike_overlaps[m][r] for m in range(M) for r in range(R)}
    )
    alpha = model.data.alpha
    if R:
        raw = alpha * fields.spiked_covariance(
            model.data.kappa, model.teacher.overlaps, model.teacher.spike_overlaps
        )
    else:
        raw = fields.covariance.xreplace(fixed)
    gram = fields.gram.xreplace(fixed)
    norms = [sp.sqrt(raw[k, k]) for k in range(K)]  # ||Sigma^(1/2) w_k||
    kinds = ["lam"] * K + ["nu"] * M + ["xi"] * R
    basis = [(kinds[j], j - (0 if j < K else K if j < K + M else K + M)) for j in range(K + M + R)]

    def drive(k: int, j: int) -> sp.Expr:
        """``E[delta_k <x, v_j>]`` for the j-th vector of ``(W, U, Theta)`` (raw field)."""
        value = a[k] * residual(("dphi", k), basis[j])
        return norms[j] * value if normalized and j < K else value

    def first(k: int, j: int) -> sp.Expr:
        """``(d/eta) E[<h_k, v_j>]``: the mean first-order change of ``<w_k, v_j>``."""
        if not normalized:
            return drive(k, j)
        if preconditioned:  # <x, Sigma^-1 v> with Sigma^-1 = (I - sum_r k_r/(1+k_r) th th^T)/alpha
            base = drive(k, j) - sp.Add(
                *[
                    model.data.kappa[r]
                    / (1 + model.data.kappa[r])
                    * gram[j, K + M + r]
                    * drive(k, K + M + r)
                    for r in range(R)
                ]
            )
            base, cross = base / alpha, gram[k, j]
        else:
            base, cross = drive(k, j), raw[k, j]
        along = a[k] * residual(("dphi", k), ("lam", k))  # E[delta_k lambda_k/||Sigma^1/2 w_k||]
        return base / norms[k] - along * cross / norms[k] ** 2

    def second(k: int, j: int) -> sp.Expr:
        """``(d/eta)^2 E[<h_k, h_j>]``: ``E[delta_k delta_j] ||x||^2/d``, ``||x||^2/d ->
        alpha`` (``1/alpha`` for ``Sigma^-1 x`` when preconditioned)."""
        noise = sigma2 * book(("dphi", k), ("dphi", j)) if sigma2 else 0
        value = a[k] * a[j] * (square(("dphi", k), ("dphi", j), loss=True) + noise)
        if normalized:
            value = value / (norms[k] * norms[j])
        return value * (1 / alpha if preconditioned else alpha)

    def renormalise(k: int) -> sp.Expr:
        """The rate of ``log ||w_k||`` (spherical variants) or of ``log ||Sigma^(1/2) w_k||``
        (preconditioned online SGD) that the rescaling after each step removes.

        Spherical: divided by ``Q_kk`` (1 on the sphere), so that the projection ``I - w_k
        w_k^T/||w_k||^2`` conserves ``Q_kk`` exactly and the integrator cannot drift off the
        sphere.  Preconditioned: the step is Sigma-orthogonal to ``w_k``, so ``s_k`` grows by
        ``<Sigma h_k, h_k> = (eta/d)^2 dt_k^2 ||z||^2/s_k`` only (``x = Sigma^(1/2) z``), a
        rate ``eta^2 E[dt_k^2]/(2 s_k^2) = eta^2 alpha g_kk/(2 s_k)`` of ``log sqrt(s_k)``."""
        if preconditioned:
            return ETA**2 * alpha * second(k, k) / (2 * norms[k] ** 2)
        return (ETA * first(k, k) + (ETA**2 * second(k, k) / 2 if sgd else 0)) / fields.q(k, k)

    rescaled = spherical or (preconditioned and sgd)

    named: list[sp.Expr] = []
    for k in range(K):
        for j in range(k, K):
            rhs = ETA * (first(k, j) + first(j, k))
            if sgd:
                rhs += ETA**2 * second(k, j)
            if rescaled:
                rhs -= fields.q(k, j) * (renormalise(k) + renormalise(j))
            named.append(rhs)
    for start, stop in ((K, K + M), (K + M, K + M + R)):  # M row by row, then S
        for k in range(K):
            for j in range(start, stop):
                rhs = ETA * first(k, j)
                if rescaled:
                    rhs -= gram[k, j] * renormalise(k)
                named.append(rhs)
    parameters: tuple[sp.Symbol, ...] = (ETA,)
    values = {"eta": float(learner.learning_rate)}
    if trained:
        for k in range(K):
            named.append(ETA_A * residual(("phi", k)))
        parameters += (ETA_A,)
        values["eta_a"] = float(learner.eta_second_layer)
    named_error = square() / 2

    if generic:
        # the expectations are in the generic Omega_ij: the covariance of the fields the
        # student sees (lambda_k/||Sigma^(1/2) w_k|| when normalized)
        scale = [1 / norms[i] if normalized and i < K else 1 for i in range(K + M + R)]
        n = K + M + R
        substitutions = {
            fields.omega(i, j): raw[i, j] * scale[i] * scale[j]
            for i in range(n)
            for j in range(i, n)
        }
    else:
        substitutions = {
            fields.p(m, n): model.teacher.overlaps[m][n] for m in range(M) for n in range(m, M)
        }
    closed = book.closed_forms()

    def evaluate(expr: sp.Expr) -> sp.Expr:
        return sp.sympify(expr).xreplace(closed).xreplace(substitutions)

    state = _state(fields, trained)
    rhs = tuple(evaluate(r) for r in named)
    error = evaluate(named_error)
    expectations = {symbol: e for symbol, e in book.entries.values()}
    derivation = _derivation(model, fields, state, named, named_error, book, substitutions)
    system = CommitteeSystem(
        name=f"committee overlap ODE ({model.name})",
        state=state,
        parameters=parameters,
        rhs=rhs,
        derivation=derivation,
        observables={"generalization_error": error},
        notes=[model.describe()],
    )
    return CommitteeOde(
        model,
        fields,
        system,
        tuple(named),
        named_error,
        expectations,
        values,
        substitutions,
    )


def _jacobian(named, state, placeholders: dict, evaluate) -> sp.Matrix:
    """``d rhs / d state``: the right-hand sides are linear in the expectations, whose
    derivatives come from their cached closed forms."""
    cache: dict[tuple[Named, sp.Symbol], sp.Expr] = {}

    def d_expectation(symbol: Named, variable: sp.Symbol) -> sp.Expr:
        if (symbol, variable) not in cache:
            cache[(symbol, variable)] = placeholders[symbol].diff(variable)
        return cache[(symbol, variable)]

    rows = []
    for rhs in named:
        rhs = sp.sympify(rhs)
        used = [p for p in rhs.free_symbols if p in placeholders]
        row = []
        for variable in state:
            chain = sp.Add(*[sp.diff(rhs, p) * d_expectation(p, variable) for p in used])
            row.append(evaluate(sp.diff(rhs, variable) + chain))
        rows.append(row)
    return sp.Matrix(rows)


# ----------------------------------------------------------------------------
# The derivation document


def _latex_matrix(rows: list[list[str]]) -> str:
    body = r" \\ ".join(" & ".join(row) for row in rows)
    return r"\begin{pmatrix} " + body + r" \end{pmatrix}"


def _derivation(
    model: CommitteeModel,
    fields: LocalFields,
    state: tuple[sp.Symbol, ...],
    named: list[sp.Expr],
    named_error: sp.Expr,
    book: _Book,
    substitutions: dict[sp.Symbol, sp.Expr],
) -> Derivation:
    K, M = model.K, model.M
    teacher = model.teacher
    phi = model.student.activation
    derivation = Derivation(
        f"Overlap ODEs of the committee model {model.name}",
        "Online learning of a two-layer student from a teacher in the high-dimensional limit: "
        "the order parameters, the law of the local fields, the exact one-step increments, "
        "the limit ODEs and every Gaussian expectation they need, with the method that "
        f"evaluated it. Model: {model.describe()}.",
    )
    if teacher.is_committee:
        link = (
            r"F(\nu) = \sum_{m=1}^{"
            + str(M)
            + r"} a^*_m\, g(\nu_m),\quad g(z) = "
            + sp.latex(teacher.activation.expr)
            + r",\quad a^* = ("
            + ", ".join(sp.latex(v) for v in teacher.second_layer)
            + ")"
        )
    else:
        zs = teacher.variables
        shown = teacher.link.xreplace({zj: sp.Symbol(f"z_{j + 1}") for j, zj in enumerate(zs)})
        link = r"F(z_1, \dots, z_{" + str(M) + "}) = " + sp.latex(shown)
    a_text = (
        (r"a_k(0) = " if model.student.trained else r"a = ")
        + "("
        + ", ".join(sp.latex(v) for v in model.student.second_layer)
        + ")"
    )
    spiked = model.data.spiked
    R = model.R
    unit = model.data.convention == "unit"
    law = (
        r"x \sim \mathcal{N}(0, \Sigma),\quad \Sigma = "
        + (r"\alpha\,\big(" if unit else "")
        + r"I_d + \sum_{r=1}^{"
        + str(R)
        + r"} \kappa_r \theta_r \theta_r^\top"
        + (r"\big)" if unit else "")
        + r",\quad \kappa = ("
        + ", ".join(sp.latex(v) for v in model.data.kappa)
        + ")"
        + (r",\quad \alpha = " + sp.latex(model.data.alpha) if unit else "")
        if spiked
        else r"x \sim \mathcal{N}(0, I_d)"
    )
    plain = model.learner.variant == "plain"
    correlation = model.learner.loss == "correlation"
    statements = [
        r"y = F(\nu) + \sigma \varepsilon,\quad \nu_m = \langle u_m, x \rangle,\quad "
        + law
        + r",\quad \varepsilon \sim \mathcal{N}(0, 1),\quad \sigma = "
        + sp.latex(teacher.noise),
        link,
        r"\hat y = \sum_{k=1}^{"
        + str(K)
        + r"} a_k \varphi(\lambda_k),\quad \lambda_k = \langle w_k, x \rangle,\quad "
        + r"\varphi(z) = "
        + sp.latex(phi.expr)
        + r",\quad "
        + a_text,
        (r"w_k \leftarrow w_k + \frac{\eta}{d} \delta_k x,\quad " if plain else "")
        + r"\delta_k = a_k \varphi'(\lambda_k) "
        + (r"y" if correlation else r"(y - \hat y)")
        + r",\quad t = \frac{\text{steps}}{d},"
        r"\quad \eta = " + sp.latex(model.learner.learning_rate),
    ]
    if model.student.trained:
        statements.append(
            r"a_k \leftarrow a_k + \frac{\eta_a}{d} "
            + (r"y" if correlation else r"(y - \hat y)")
            + r" \varphi(\lambda_k),\quad "
            r"\eta_a = " + sp.latex(model.learner.eta_second_layer)
        )
    derivation.add(
        "Model and conventions",
        statements,
        ("Correlation loss -y yhat" if correlation else "Square loss (y - yhat)^2/2")
        + "; one fresh sample per step; time t counts steps in units "
        f"of d. Learner: {model.learner.algorithm}"
        + ("" if plain else f", {model.learner.variant} variant (its step below)")
        + (
            " (the eta^2 terms, from the fluctuation of the fresh sample, are kept)."
            if model.learner.stochastic
            else " (gradient flow: the drift of online SGD without its eta^2 terms)."
        ),
        f"{SAAD_SOLLA}; {BIEHL_SCHWARZE}",
    )
    names = [r"\lambda_{" + str(k + 1) + "}" for k in range(K)]
    names += [r"\nu_{" + str(m + 1) + "}" for m in range(M)]
    omega = fields.covariance
    rows = [[sp.latex(omega[i, j]) for j in range(K + M)] for i in range(K + M)]
    if spiked:
        _spiked_fields(derivation, model, fields, substitutions)
    else:
        derivation.add(
            "The local fields are jointly Gaussian",
            [
                r"Q = W W^\top,\quad M = W U^\top,\quad P = U U^\top",
                r"\left("
                + ", ".join(names)
                + r"\right) \sim \mathcal{N}\left(0, "
                + _latex_matrix(rows)
                + r"\right)",
                r"P = " + _latex_matrix([[sp.latex(v) for v in row] for row in teacher.overlaps]),
            ],
            "For x ~ N(0, I_d), (W x, U x) is a centred Gaussian vector with covariance "
            "[[Q, M], [M^T, P]] whatever d: every expectation over x of a function of the local "
            "fields is a Gaussian integral in K + M variables with that covariance.",
        )
    if plain:
        _plain_step(derivation, model)
    else:
        _variant_step(derivation, model)
    methods: dict[str, list[str]] = {}
    for symbol, expectation in book.entries.values():
        methods.setdefault(expectation.method, []).append(symbol.name)
    derivation.add(
        "Which expectations, and how each was evaluated",
        [rf"\text{{{method}}}:\ " + r",\ ".join(labels) for method, labels in methods.items()],
        "Rules (all exact unless marked numeric): Isserlis/Wick for polynomials; Gaussian "
        "tilting E[exp(-x^T A x/2) G(x)] = det(I + C A)^(-1/2) E'[G(x)] with covariance "
        "C' = (C^-1 + A)^-1; Stein's lemma E[x_i G(x)] = sum_j C_ij E[d_j G(x)]; "
        "conditioning E[delta(x_j) G(x)] = (2 pi C_jj)^(-1/2) E[G(x) | x_j = 0]; and the "
        "sign laws E[sign(u) sign(v)] = (2/pi) arcsin(rho_uv), erf(b z) = E[sign(z + eta)] "
        "with eta ~ N(0, 1/(2 b^2)) independent. Four signs: Plackett's identity, a "
        "one-dimensional integral evaluated numerically; anything else: tensor quadrature in "
        "the whitened fields (numeric), Gauss-Hermite for an entire integrand and, where poles "
        "bound the strip of analyticity (tanh, sigmoid, softplus), in each coordinate the "
        "trapezoidal rule or Gauss-Hermite, whichever reaches the target error with fewer "
        "nodes, with an error bound certified at each state when the integrand "
        "is analytic in a strip (the trapezoidal rule's aliasing and truncation bounds); steps "
        "of single fields, at most three fields with kinks or not polynomial (four when the "
        "integrand is polynomial in one of them): Gauss-Legendre quadrature cut at the kinks, "
        "a polynomial coordinate integrated exactly from truncated Gaussian moments (numeric); "
        "with either rule, fields in which the integrand is a polynomial without kinks (a "
        "polynomial link's) by Gauss-Hermite exact for its degree. Four signs, and "
        "polynomials between the kinks of steps (kinks in at most four fields, at most six "
        "fields in all), are "
        "certified at each state against their exact reduction (Stein's lemma and "
        "conditioning on the kinks) to Gaussian orthant probabilities, each a one-dimensional "
        "integral (Sheppard, Plackett) enclosed by rigorous quadrature in ball arithmetic.",
    )
    patterns = closed_form_patterns([e for _, e in book.entries.values()])
    if patterns:
        derivation.add(
            "Closed forms",
            [
                r"\mathbb{E}\left[" + sp.latex(integrand) + r"\right] = " + sp.latex(value)
                for integrand, value in patterns
            ],
            "Each distinct integrand pattern on generic fields y_1, y_2, ... with covariance "
            "c_ij (c_ii the variances); every expectation above is one of these with c "
            "replaced by the entries of the covariance of the local fields.",
        )
    equations = [sp.Eq(sp.Derivative(s, TIME), rhs) for s, rhs in zip(state, named, strict=True)]
    derivation.add(
        "The overlap equations",
        equations,
        f"Teacher overlaps P = {_plain_matrix(teacher.overlaps)} are constants."
        + (
            f" So are its overlaps with the spikes T = {_plain_matrix(teacher.spike_overlaps)}."
            if spiked
            else ""
        )
        + (" The student's second layer is trained." if model.student.trained else ""),
    )
    derivation.add(
        "Generalisation error",
        sp.Eq(sp.Symbol(r"\varepsilon_g"), named_error),
        "eps_g = E[(F(nu) - yhat)^2]/2 over a fresh input, without the label noise.",
    )
    return derivation


def _spiked_fields(
    derivation: Derivation,
    model: CommitteeModel,
    fields: LocalFields,
    substitutions: dict[sp.Symbol, sp.Expr],
) -> None:
    """The law of the local fields under a spiked covariance, as a derivation step."""
    K, M, R = model.K, model.M, model.R
    n = K + M + R
    names = [sp.latex(f) for f in fields.fields]
    generic = [[sp.latex(fields.omega(i, j)) for j in range(n)] for i in range(n)]
    entries = [
        sp.latex(sp.Eq(fields.omega(i, j), substitutions[fields.omega(i, j)], evaluate=False))
        for i in range(n)
        for j in range(i, n)
    ]
    derivation.add(
        "The local fields are jointly Gaussian",
        [
            r"Q = W W^\top,\quad M = W U^\top,\quad P = U U^\top,\quad S = W \Theta^\top,"
            r"\quad T = U \Theta^\top,\quad \Theta \Theta^\top = I_R,\quad "
            r"\mathcal{K} = \operatorname{diag}(\kappa)",
            r"\xi_r = \langle \theta_r, x \rangle,\quad \left("
            + ", ".join(names)
            + r"\right) \sim \mathcal{N}\left(0, "
            + _latex_matrix(generic)
            + r"\right)",
            r"\Omega = \begin{pmatrix} Q + S \mathcal{K} S^\top & M + S \mathcal{K} T^\top "
            r"& S (I + \mathcal{K}) \\ \cdot & P + T \mathcal{K} T^\top & T (I + \mathcal{K})"
            r" \\ \cdot & \cdot & I + \mathcal{K} \end{pmatrix}",
            *entries,
        ],
        "For x ~ N(0, Sigma), (W x, U x, Theta x) is a centred Gaussian vector with covariance "
        "(W; U; Theta) Sigma (W; U; Theta)^T whatever d; with Sigma = I + Theta^T K Theta, "
        "w^T Sigma v = <w, v> + sum_r kappa_r <w, theta_r><v, theta_r> and Sigma theta_r = "
        "(1 + kappa_r) theta_r. Every expectation is taken with generic entries Omega_ij and "
        "these are substituted at the end. The spike fields xi_r enter linearly (only in "
        "E[delta_k xi_r]), and Stein's lemma E[xi_r G] = sum_j Cov(xi_r, y_j) E[d_j G] keeps "
        "closed forms closed. The generalisation error involves (lambda, nu) only. The "
        "strengths kappa_r are fixed as d grows (the convention in which kappa grows with d "
        "is that of the spiked single-index flows, not this one).",
    )


def _plain_step(derivation: Derivation, model: CommitteeModel) -> None:
    """The plain step, exactly, and its limit of large d."""
    spiked = model.data.spiked
    step = [
        r"Q'_{kl} = Q_{kl} + \frac{\eta}{d}(\delta_k \lambda_l + \delta_l \lambda_k)"
        r" + \frac{\eta^2}{d^2} \delta_k \delta_l \lVert x \rVert^2",
        r"M'_{km} = M_{km} + \frac{\eta}{d} \delta_k \nu_m",
    ]
    if spiked:
        step.append(r"S'_{kr} = S_{kr} + \frac{\eta}{d} \delta_k \xi_r")
    derivation.add(
        "One step, exactly",
        step,
        "The update adds a multiple of x to each w_k, so the new overlaps depend on x only "
        "through the local fields and ||x||^2. These increments are exact in every dimension "
        "(the reduced simulator samples them)."
        + (
            " U and Theta do not move, so P, T and the spikes' Gram matrix I stay fixed."
            if spiked
            else ""
        ),
    )
    limit = [
        r"\frac{dM_{km}}{dt} = \eta\, \mathbb{E}[\delta_k \nu_m]",
        r"\frac{dQ_{kl}}{dt} = \eta\, \mathbb{E}[\delta_k \lambda_l + \delta_l \lambda_k]"
        + (
            r" + \eta^2 \left(\mathbb{E}[\delta_k \delta_l] + \sigma^2 a_k a_l "
            r"\mathbb{E}[\varphi'(\lambda_k)\varphi'(\lambda_l)]\right)"
            if model.learner.stochastic
            else ""
        ),
    ]
    if spiked:
        limit.insert(1, r"\frac{dS_{kr}}{dt} = \eta\, \mathbb{E}[\delta_k \xi_r]")
    if model.student.trained:
        limit.append(
            r"\frac{da_k}{dt} = \eta_a\, \mathbb{E}[(F(\nu) - \hat y)\, \varphi(\lambda_k)]"
        )
    derivation.add(
        "The limit of large d",
        limit,
        "Over t = 1 there are d steps; by the law of large numbers the increments add up to "
        "their mean (||x||^2/d -> 1"
        + (
            ": E||x||^2/d = tr(Sigma)/d = 1 + (kappa_1 + ... + kappa_R)/d -> 1 with the "
            "kappa_r fixed, and the part of ||x||^2 in the span of W, U, Theta is O(1)"
            if spiked
            else ""
        )
        + ") and their fluctuations, of order d^(-1/2), vanish. "
        "delta_k is expanded into products of phi', the fields and the teacher, so each "
        "term is a Gaussian expectation of the local fields.",
        f"{SAAD_SOLLA}; {GOLDT}",
    )


def _variant_step(derivation: Derivation, model: CommitteeModel) -> None:
    """The step of a spherical, normalized or preconditioned learner and its limit."""
    learner = model.learner
    sgd = learner.stochastic
    precond_sgd = learner.variant == "preconditioned" and sgd
    rescaled = learner.spherical or precond_sgd
    eqs = []
    if learner.normalized:
        eqs.append(
            r"\hat y = \sum_k a_k \varphi(\tilde\lambda_k),\quad \tilde\lambda_k = "
            r"\frac{\lambda_k}{\sqrt{s_k}},\quad s_k = w_k^\top \Sigma w_k,\quad "
            r"\tilde\delta_k = a_k \varphi'(\tilde\lambda_k)"
            + (r" y" if learner.loss == "correlation" else r"(y - \hat y)")
        )
        direction = (
            r"\Sigma^{-1} x / \sqrt{s_k} - \tilde\lambda_k w_k / s_k"
            if learner.variant == "preconditioned"
            else r"x / \sqrt{s_k} - \tilde\lambda_k \Sigma w_k / s_k"
        )
        eqs.append(
            r"w_k \leftarrow w_k + \frac{\eta}{d} \tilde\delta_k \left(" + direction + r"\right)"
        )
    elif learner.spherical:
        # the gradient projected on the tangent space; its part along w_k is the first-order
        # part of the renormalisation rate r_k, so the equations are those of the plain step
        # followed by the renormalisation
        eqs.append(
            r"w_k \leftarrow w_k + \frac{\eta}{d} \delta_k \left(x - "
            r"\frac{\lambda_k}{Q_{kk}} w_k\right)"
        )
    else:
        eqs.append(r"w_k \leftarrow w_k + \frac{\eta}{d} \delta_k x")
    if learner.spherical:
        eqs.append(r"w_k \leftarrow w_k / \lVert w_k \rVert")
    if precond_sgd:
        eqs.append(r"w_k \leftarrow w_k \sqrt{s_k / s_k'},\quad s_k' = w_k^\top \Sigma w_k")
    eqs.append(
        r"\frac{d \langle w_k, v \rangle}{dt} = \eta\, f_k(v)"
        + (r" - \langle w_k, v \rangle\, r_k" if rescaled else "")
        + r",\quad v \in \{u_m, \theta_r\}"
    )
    eqs.append(
        r"\frac{dQ_{kl}}{dt} = \eta\,(f_k(w_l) + f_l(w_k))"
        + (r" + \eta^2 g_{kl}" if sgd else "")
        + (r" - Q_{kl}(r_k + r_l)" if rescaled else "")
    )
    if precond_sgd:
        eqs.append(r"r_k = \frac{\eta^2 \alpha\, g_{kk}}{2 s_k}")
    if learner.spherical:
        eqs.append(
            r"r_k = \big(\eta\, f_k(w_k)"
            + (r" + \tfrac{\eta^2}{2} g_{kk}" if sgd else "")
            + r"\big) / Q_{kk}"
        )
    if learner.variant == "preconditioned":
        f = (
            r"f_k(v) = \frac{\mathbb{E}[\tilde\delta_k \langle x, \Sigma^{-1} v \rangle]}"
            r"{\sqrt{s_k}} - \mathbb{E}[\tilde\delta_k \tilde\lambda_k] "
            r"\frac{\langle w_k, v \rangle}{s_k},\quad \Sigma^{-1} v = \frac{1}{\alpha}"
            r"\Big(v - \sum_r \frac{\kappa_r}{1 + \kappa_r} \langle \theta_r, v \rangle "
            r"\theta_r\Big)"
        )
    elif learner.normalized:
        f = (
            r"f_k(v) = \frac{\mathbb{E}[\tilde\delta_k \langle x, v \rangle]}{\sqrt{s_k}}"
            r" - \mathbb{E}[\tilde\delta_k \tilde\lambda_k] \frac{\langle \Sigma w_k, v "
            r"\rangle}{s_k}"
        )
    else:
        f = r"f_k(v) = \mathbb{E}[\delta_k \langle x, v \rangle]"
    eqs.append(f)
    if sgd:
        scale = r"\alpha^{-1}" if learner.variant == "preconditioned" else r"\alpha"
        norm = r"/\sqrt{s_k s_l}" if learner.normalized else ""
        eqs.append(
            r"g_{kl} = "
            + scale
            + r"\, \mathbb{E}[\delta_k \delta_l]"
            + norm
            + (r"\ (\tilde\delta\ \text{for}\ \delta)" if learner.normalized else "")
        )
    derivation.add(
        f"The {learner.variant} learner",
        eqs,
        "Inner products of the step with w_l, u_m and theta_r are linear in the fields "
        "(lambda, nu, xi) and in the Gram matrix of (W, U, Theta), so the increments stay "
        "exact. Renormalising w_k (spherical, normalized) divides <w_k, v> by "
        "||w_k + h_k|| = 1 + <w_k, h_k> + ||h_k||^2/2 + ..., with <w_k, h_k> of order 1/d "
        "and ||h_k||^2 = (eta/d)^2 delta_k^2 ||x||^2 of order 1/d too: the rate r_k (divided "
        "by Q_kk = 1, so that dQ_kk/dt = 0 holds identically and not only on the sphere). "
        "||x||^2/d -> alpha (||Sigma^(-1) x||^2/d -> 1/alpha); the preconditioned step is "
        "Sigma-orthogonal to w_k, so rescaling to keep s_k removes only its second-order "
        "growth <Sigma h_k, h_k> = (eta/d)^2 dt_k^2 ||z||^2/s_k (x = Sigma^(1/2) z): the rate "
        "r_k there; the parts of the step along "
        "Sigma w_k or w_k add O(1/d^2) to ||h_k||^2. The normalized fields lambda_k/sqrt(s_k) "
        "have unit variance: every expectation is taken in them and the covariance entries "
        "divided by sqrt(s_k s_l). For the normalized student E[delta_k lambda_k]/sqrt(s_k) "
        "= E[delta_k tilde-lambda_k], so f_k(w_k) = 0: the gradient is orthogonal to w_k.",
        "Mousavi-Hosseini, Wu, Suzuki, Erdogdu, NeurIPS 2023 (arXiv 2309.03843)",
    )


def _plain_matrix(matrix) -> str:
    return "[" + ", ".join("[" + ", ".join(str(v) for v in row) + "]" for row in matrix) + "]"
