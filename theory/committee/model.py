"""A teacher-student committee model as data, its validation, and the TOML loader.

Convention (Saad and Solla, Phys. Rev. E 52, 4225 (1995); Biehl and Schwarze, J. Phys. A 28
(1995)): inputs ``x ~ N(0, I_d)``; teacher directions ``u_1, ..., u_M`` with overlaps
``P = U U^T``; the label ``y = F(nu) + sigma eps`` with ``nu_m = <u_m, x>`` and ``eps ~ N(0, 1)``,
where ``F(z_1, ..., z_M)`` is a committee ``sum_m a*_m g(z_m)`` or any multi-index link; the
student ``yhat = sum_k a_k phi(lambda_k)`` with ``lambda_k = <w_k, x>``; the square loss
``(y - yhat)^2 / 2``.  Online SGD takes one fresh sample per step,

    w_k <- w_k + (eta/d) delta_k x,   delta_k = a_k phi'(lambda_k) (y - yhat),

and, when the second layer is trained, ``a_k <- a_k + (eta_a/d) (y - yhat) phi(lambda_k)``;
time is ``t = steps/d``.  Gradient flow is the same drift without the fluctuation (the
``eta^2`` terms).  Other scalings are parameters of this one model: a ``1/K`` readout is
``second_layer = [1/K, ...]``; weights with entries of order one, ``lambda_k = <w_k, x> /
sqrt(d)``, moved by ``(eta/sqrt(d)) delta_k x`` per step (Goldt et al. 2019) are this
convention for ``w_k / sqrt(d)`` with the same ``eta``; a per-step rate ``eta' d^(-beta)`` is
``learning_rate = eta' d^(1 - beta)`` at that ``d``.

A spiked covariance (``[data] covariance = "spiked"``) replaces ``I_d`` by
``Sigma = I_d + sum_r kappa_r theta_r theta_r^T`` with orthonormal spikes ``theta_r`` and
fixed strengths ``kappa_r > -1`` (they do not grow with ``d``; the convention in which they
do is that of the spiked single-index flows, ``featcheck flow``).  The model then also gives
the teacher's overlaps with the spikes ``T = U Theta^T`` (``[teacher] spike_overlaps``) and
the student's initial ones ``S = W Theta^T`` (``[initial] S``).

:class:`CommitteeModel` is immutable and validated on construction; :func:`committee_model`
builds one from Python values, :func:`model_from_toml` and :func:`load_model` from TOML.
Every problem is one :class:`~featcheck.theory.errors.InputError` line naming the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mpmath
import sympy as sp

from featcheck.theory.errors import InputError
from featcheck.theory.functions import (
    ALLOWED_CONSTANTS,
    ALLOWED_FUNCTIONS,
    Function,
    FunctionLike,
    as_function,
    z,
)
from featcheck.theory.parsing import parse_expression

ALGORITHMS = ("online-sgd", "gradient-flow")
#: How a step moves ``w_k`` (see :class:`Learner`).
VARIANTS = ("plain", "spherical", "normalized", "preconditioned")
#: One-sample losses: ``(y - yhat)^2/2`` or ``-y yhat``.
LOSSES = ("square", "correlation")
COVARIANCES = ("isotropic", "spiked")
#: Scales of a spiked covariance: ``ba`` (``Sigma = I + sum_r kappa_r theta_r theta_r^T``) and
#: ``unit`` (the same divided by its largest eigenvalue), as in the spiked single-index flows.
SPIKE_CONVENTIONS = ("ba", "unit")
#: Widths above this make the overlap ODEs too large to derive in reasonable time.
MAX_WIDTH = 8
#: Link variables a user expression may name (``z1``, ..., ``z{MAX_LINK_INDEX}``).
MAX_LINK_INDEX = 64
#: Tolerance of the positive semi-definiteness check, relative to the largest entry.
PSD_TOLERANCE = 1e-12
#: Spikes of a spiked covariance the engine accepts.
MAX_SPIKES = 4

Number = sp.Expr
Matrix = tuple[tuple[sp.Expr, ...], ...]


def link_variables(count: int) -> tuple[sp.Symbol, ...]:
    """The real symbols ``z1, ..., z{count}`` of a multi-index link."""
    return tuple(sp.Symbol(f"z{j}", real=True) for j in range(1, count + 1))


# ----------------------------------------------------------------------------
# Components


@dataclass(frozen=True)
class Data:
    """The input law: ``isotropic`` (``x ~ N(0, I_d)``) or ``spiked``
    (``x ~ N(0, Sigma)``, ``Sigma = I_d + sum_r kappa_r theta_r theta_r^T`` with orthonormal
    ``theta_1, ..., theta_R`` and fixed strengths ``kappa_r > -1``, not growing with ``d``).
    """

    covariance: str = "isotropic"
    kappa: tuple[Number, ...] = ()
    convention: str = "ba"

    def __post_init__(self) -> None:
        if self.covariance not in COVARIANCES:
            raise InputError(
                f"[data] covariance must be one of {', '.join(COVARIANCES)}, "
                f"got {self.covariance!r}"
            )
        if self.convention not in SPIKE_CONVENTIONS:
            raise InputError(
                f"[data] convention must be one of {', '.join(SPIKE_CONVENTIONS)}, "
                f"got {self.convention!r}"
            )
        if self.covariance == "isotropic":
            if self.kappa:
                raise InputError("[data] kappa needs covariance = 'spiked'")
            if self.convention != "ba":
                raise InputError("[data] convention needs covariance = 'spiked'")
            return
        if not self.kappa:
            raise InputError("[data] covariance = 'spiked' needs kappa = [k1, ...] (one per spike)")
        if len(self.kappa) > MAX_SPIKES:
            raise InputError(f"[data] at most {MAX_SPIKES} spikes, got {len(self.kappa)}")
        for r, value in enumerate(self.kappa):
            if not value > -1:
                raise InputError(
                    f"[data] kappa[{r + 1}] must be greater than -1 (Sigma positive definite), "
                    f"got {value}"
                )

    @property
    def spiked(self) -> bool:
        return self.covariance == "spiked"

    @property
    def R(self) -> int:
        """The number of spikes (0 for isotropic data)."""
        return len(self.kappa)

    @property
    def alpha(self) -> Number:
        """The scale ``alpha`` in ``Sigma = alpha (I + sum_r kappa_r theta_r theta_r^T)``: 1 in
        the ``ba`` convention, ``1/(1 + max(0, kappa_r))`` in the ``unit`` one (largest
        eigenvalue 1)."""
        if self.convention == "ba" or not self.kappa:
            return sp.S.One
        return 1 / (1 + sp.Max(0, *self.kappa))

    def describe(self) -> str:
        text = "spiked covariance, kappa = (" + ", ".join(str(k) for k in self.kappa) + ")"
        return text if self.convention == "ba" else text + ", unit scale"


@dataclass(frozen=True)
class Teacher:
    """``y = link(<u_1, x>, ..., <u_M, x>) + noise * eps``, with ``P = U U^T = overlaps``.

    ``link`` is an expression in the symbols ``z1, ..., zM`` (:func:`link_variables`).  For a
    committee, ``activation`` is ``g`` and ``second_layer`` the weights ``a*_m``, and ``link``
    is ``sum_m a*_m g(z_m)``; for a general link both are ``None``.
    """

    width: int
    link: sp.Expr
    overlaps: Matrix
    noise: Number = sp.S.Zero
    activation: Function | None = None
    second_layer: tuple[Number, ...] | None = None
    link_text: str = ""
    spike_overlaps: Matrix = ()

    def __post_init__(self) -> None:
        _check_width(self.width, "teacher")
        if not isinstance(self.link, sp.Expr):
            raise InputError("[teacher] link must be a sympy expression in z1, ..., zM")
        allowed = set(link_variables(MAX_LINK_INDEX))
        free = self.link.free_symbols
        if free - allowed:
            names = ", ".join(sorted(str(s) for s in free - allowed))
            raise InputError(f"[teacher] link may only use z1, ..., z{self.width}; found {names}")
        used = sorted(int(str(s)[1:]) for s in free)
        if used and used[-1] > self.width:
            raise InputError(
                f"[teacher] link uses z{used[-1]} but the teacher has width {self.width}"
            )
        if self.link.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise InputError(f"[teacher] link {self.link} is not finite")
        _check_square(self.overlaps, self.width, "[teacher] overlaps")
        _check_symmetric(self.overlaps, "[teacher] overlaps")
        if not self.noise >= 0:
            raise InputError(f"[teacher] noise must be non-negative, got {self.noise}")
        if self.activation is not None and (
            self.second_layer is None or len(self.second_layer) != self.width
        ):
            raise InputError(f"[teacher] second_layer needs {self.width} entries")

    @property
    def is_committee(self) -> bool:
        return self.activation is not None

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        return link_variables(self.width)

    def describe(self) -> str:
        if self.activation is not None:
            weights = ", ".join(str(a) for a in self.second_layer or ())
            return f"committee of {self.width} x g = {self.activation.name}, a* = ({weights})"
        return f"link F = {self.link_text or self.link} (M = {self.width})"


@dataclass(frozen=True)
class Student:
    """``yhat = sum_k a_k phi(<w_k, x>)`` with ``K = width`` neurons.

    ``second_layer`` holds the fixed weights ``a_k`` or, when ``trained``, their initial values.
    """

    width: int
    activation: Function
    second_layer: tuple[Number, ...]
    trained: bool = False

    def __post_init__(self) -> None:
        _check_width(self.width, "student")
        if len(self.second_layer) != self.width:
            raise InputError(
                f"[student] second_layer needs {self.width} entries, got {len(self.second_layer)}"
            )
        derivative = sp.diff(self.activation.expr, z)
        if derivative.has(sp.DiracDelta):
            raise InputError(
                f"[student] activation {self.activation.name} has jumps; its gradient vanishes "
                "almost everywhere, so gradient descent does not move it: use a continuous "
                "activation"
            )


@dataclass(frozen=True)
class Learner:
    """``online-sgd`` (one fresh sample per step, ``eta^2`` terms kept) or ``gradient-flow``,
    in one of four variants (the three flows of the spiked single-index model and the plain
    one):

    * ``plain``: ``w_k <- w_k + (eta/d) delta_k x``;
    * ``spherical``: the same step, then ``w_k <- w_k/||w_k||`` (for gradient flow, the
      gradient projected on the tangent space of the sphere; the spiked flows' ``plain``);
    * ``normalized``: the student ``phi(<w_k, x>/||Sigma^(1/2) w_k||)``, its gradient step,
      then ``w_k <- w_k/||w_k||``;
    * ``preconditioned``: the normalized student, the step multiplied by ``Sigma^(-1)``, then
      ``w_k`` rescaled so that ``w_k^T Sigma w_k`` keeps its value (gradient flow conserves it;
      online SGD would let it grow at second order).

    ``loss`` is the one-sample loss: ``square`` ``(y - yhat)^2/2`` (``delta_k = a_k
    phi'(.)(y - yhat)``) or ``correlation`` ``-y yhat`` (``delta_k = a_k phi'(.) y``).
    """

    algorithm: str = "online-sgd"
    learning_rate: Number = sp.S.One
    second_layer_learning_rate: Number | None = None
    variant: str = "plain"
    loss: str = "square"

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise InputError(
                f"[learner] algorithm must be one of {', '.join(ALGORITHMS)}, "
                f"got {self.algorithm!r}"
            )
        if self.variant not in VARIANTS:
            raise InputError(
                f"[learner] variant must be one of {', '.join(VARIANTS)}, got {self.variant!r}"
            )
        if self.loss not in LOSSES:
            raise InputError(
                f"[learner] loss must be one of {', '.join(LOSSES)}, got {self.loss!r}"
            )
        for name in ("learning_rate", "second_layer_learning_rate"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise InputError(f"[learner] {name} must be positive, got {value}")

    @property
    def eta_second_layer(self) -> Number:
        rate = self.second_layer_learning_rate
        return self.learning_rate if rate is None else rate

    @property
    def stochastic(self) -> bool:
        return self.algorithm == "online-sgd"

    @property
    def normalized(self) -> bool:
        """The student's pre-activations are ``<w_k, x>/||Sigma^(1/2) w_k||``."""
        return self.variant in ("normalized", "preconditioned")

    @property
    def spherical(self) -> bool:
        """Each ``w_k`` is renormalised to the unit sphere after every step."""
        return self.variant in ("spherical", "normalized")


@dataclass(frozen=True)
class Initial:
    """Initial overlaps ``Q = W W^T`` (K x K), ``M = W U^T`` (K x M) and, under a spiked
    covariance, ``S = W Theta^T`` (K x R)."""

    Q: Matrix
    M: Matrix
    S: Matrix = ()


@dataclass(frozen=True)
class CommitteeModel:
    """A teacher-student model: input law, teacher, student, learner and initial overlaps."""

    teacher: Teacher
    student: Student
    learner: Learner
    initial: Initial
    data: Data = field(default_factory=Data)
    name: str = "model"

    def __post_init__(self) -> None:
        K, M = self.student.width, self.teacher.width
        _check_square(self.initial.Q, K, "[initial] Q")
        _check_symmetric(self.initial.Q, "[initial] Q")
        if len(self.initial.M) != K or any(len(row) != M for row in self.initial.M):
            raise InputError(f"[initial] M must be a {K} x {M} matrix (student x teacher)")
        self._check_spike()
        if self.learner.spherical:
            off = [k + 1 for k in range(K) if self.initial.Q[k][k] != 1]
            if off:
                raise InputError(
                    f"[initial] the {self.learner.variant} variant keeps every w_k on the unit "
                    f"sphere: Q[{off[0]}][{off[0]}] must be 1, got "
                    f"{self.initial.Q[off[0] - 1][off[0] - 1]}"
                )
        elif self.learner.normalized:
            zero = [k + 1 for k in range(K) if not self.initial.Q[k][k] > 0]
            if zero:
                raise InputError(
                    f"[initial] the normalized student needs w_k != 0: Q[{zero[0]}][{zero[0]}] "
                    "must be positive"
                )
        eigenvalues = _eigenvalues(self.omega0)
        scale = max(1.0, max(abs(float(v)) for row in self.omega0 for v in row))
        if eigenvalues[0] < -PSD_TOLERANCE * scale:
            raise InputError(
                "[initial] the overlaps [[Q, M], [M^T, P]] are not positive semi-definite "
                f"(smallest eigenvalue {eigenvalues[0]:.3g}): no vectors w_k, u_m have them"
            )
        if self.data.spiked:
            _check_psd(
                self.gram0,
                "[initial] the Gram matrix [[Q, M, S], [M^T, P, T], [S^T, T^T, I]] of "
                "(W, U, Theta) is not positive semi-definite",
            )

    def _check_spike(self) -> None:
        K, M, R = self.K, self.M, self.data.R
        T, S = self.teacher.spike_overlaps, self.initial.S
        if not self.data.spiked:
            if T:
                raise InputError("[teacher] spike_overlaps needs [data] covariance = 'spiked'")
            if S:
                raise InputError("[initial] S needs [data] covariance = 'spiked'")
            return
        if not T:
            raise InputError(
                f"[teacher] spike_overlaps is missing: a spiked covariance needs the teacher's "
                f"overlaps with the spikes (an {M} x {R} matrix)"
            )
        if not S:
            raise InputError(
                f"[initial] S is missing: a spiked covariance needs the student's initial "
                f"overlaps with the spikes (a {K} x {R} matrix)"
            )
        if len(T) != M or any(len(row) != R for row in T):
            raise InputError(
                f"[teacher] spike_overlaps must be a {M} x {R} matrix (teacher units x spikes, "
                f"one column per entry of [data] kappa)"
            )
        if len(S) != K or any(len(row) != R for row in S):
            raise InputError(
                f"[initial] S must be a {K} x {R} matrix (student units x spikes, one column "
                "per entry of [data] kappa)"
            )
        P = self.teacher.overlaps
        top = tuple(tuple(P[m]) + tuple(T[m]) for m in range(M))
        identity = _identity(R)
        bottom = tuple(tuple(T[m][r] for m in range(M)) + identity[r] for r in range(R))
        _check_psd(
            top + bottom,
            "[teacher] [[P, T], [T^T, I]] with T = spike_overlaps is not positive "
            "semi-definite: no teacher directions have these overlaps with orthonormal spikes",
        )

    @property
    def K(self) -> int:
        return self.student.width

    @property
    def M(self) -> int:
        return self.teacher.width

    @property
    def omega0(self) -> Matrix:
        """The initial covariance ``[[Q, M], [M^T, P]]`` of ``(lambda, nu)``."""
        Q, Mm, P = self.initial.Q, self.initial.M, self.teacher.overlaps
        top = tuple(tuple(Q[k]) + tuple(Mm[k]) for k in range(self.K))
        bottom = tuple(tuple(Mm[k][m] for k in range(self.K)) + tuple(P[m]) for m in range(self.M))
        return top + bottom

    @property
    def R(self) -> int:
        """The number of spikes of the input covariance (0 for isotropic data)."""
        return self.data.R

    @property
    def gram0(self) -> Matrix:
        """The initial Gram matrix of ``(w_1, ..., w_K, u_1, ..., u_M, theta_1, ...,
        theta_R)``: ``[[Q, M, S], [M^T, P, T], [S^T, T^T, I]]`` (``omega0`` when isotropic)."""
        if not self.data.spiked:
            return self.omega0
        K, M, R = self.K, self.M, self.R
        S, T = self.initial.S, self.teacher.spike_overlaps
        cross = tuple(tuple(S[k]) for k in range(K)) + tuple(tuple(T[m]) for m in range(M))
        top = tuple(row + cross[i] for i, row in enumerate(self.omega0))
        identity = _identity(R)
        bottom = tuple(tuple(cross[i][r] for i in range(K + M)) + identity[r] for r in range(R))
        return top + bottom

    def describe(self) -> str:
        """One line: teacher, student, learner (and the data when spiked)."""
        s = self.student
        weights = ", ".join(str(a) for a in s.second_layer)
        layer = f"a = ({weights}){' trained' if s.trained else ''}"
        learner = self.learner
        rate = f"eta = {learner.learning_rate}"
        algorithm = learner.algorithm
        details = [v for v in (learner.variant, learner.loss) if v not in ("plain", "square")]
        if details:
            algorithm += f" ({', '.join(details)})"
        return (
            f"teacher: {self.teacher.describe()}; student: K = {s.width}, "
            f"phi = {s.activation.name}, {layer}; {algorithm}, {rate}"
            + (f", noise sigma = {self.teacher.noise}" if self.teacher.noise else "")
            + (f"; {self.data.describe()}" if self.data.spiked else "")
        )


# ----------------------------------------------------------------------------
# Validation helpers


def _check_width(width: Any, who: str) -> None:
    if isinstance(width, bool) or not isinstance(width, int):
        raise InputError(f"[{who}] width must be a whole number, got {width!r}")
    if width < 1:
        raise InputError(f"[{who}] width must be at least 1, got {width}")
    if width > MAX_WIDTH:
        raise InputError(f"[{who}] width {width} exceeds the limit {MAX_WIDTH}")


def _check_square(matrix: Matrix, n: int, name: str) -> None:
    if len(matrix) != n or any(len(row) != n for row in matrix):
        raise InputError(f"{name} must be a {n} x {n} matrix")


def _check_symmetric(matrix: Matrix, name: str) -> None:
    for i, row in enumerate(matrix):
        for j in range(i):
            if sp.simplify(row[j] - matrix[j][i]) != 0:
                raise InputError(f"{name} must be symmetric: entry ({i + 1}, {j + 1}) differs")


def _check_psd(matrix: Matrix, message: str) -> None:
    eigenvalues = _eigenvalues(matrix)
    scale = max(1.0, max(abs(float(v)) for row in matrix for v in row))
    if eigenvalues[0] < -PSD_TOLERANCE * scale:
        raise InputError(f"{message} (smallest eigenvalue {eigenvalues[0]:.3g})")


def _eigenvalues(matrix: Matrix) -> list[float]:
    """The spectrum of a small symmetric matrix, to 30 digits, in increasing order."""
    with mpmath.workdps(30):
        values = mpmath.matrix([[mpmath.mpf(sp.N(v, 40)) for v in row] for row in matrix])
        eigenvalues = mpmath.eigsy(values, eigvals_only=True)
        return sorted(float(e) for e in eigenvalues)


# ----------------------------------------------------------------------------
# Values from Python or TOML


def number(value: Any, key: str) -> Number:
    """An exact real number from an int, a float (its decimal text) or a string such as
    ``"1/3"`` or ``"sqrt(2)/2"`` (parsed safely)."""
    if isinstance(value, bool):
        raise InputError(f"{key} must be a number, got {value!r}")
    if isinstance(value, sp.Expr) and value.is_number and value.is_real:
        return value
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{key} must be finite, got {value}")
        return sp.Rational(repr(value))
    if isinstance(value, str):
        parsed = parse_expression(
            value, variables={}, functions=ALLOWED_FUNCTIONS, constants=ALLOWED_CONSTANTS
        )
        if not (isinstance(parsed, sp.Expr) and parsed.is_number and parsed.is_real):
            raise InputError(f"{key} must be a real number, got {value!r}")
        if not math.isfinite(float(parsed)):
            raise InputError(f"{key} must be finite, got {value!r}")
        return parsed
    raise InputError(f"{key} must be a number, got {type(value).__name__} {value!r}")


def vector(value: Any, key: str) -> tuple[Number, ...]:
    if not isinstance(value, list | tuple):
        raise InputError(f"{key} must be a list of numbers, got {value!r}")
    return tuple(number(v, f"{key}[{i + 1}]") for i, v in enumerate(value))


def matrix(value: Any, key: str) -> Matrix:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, list | tuple) or not all(isinstance(r, list | tuple) for r in value):
        raise InputError(f"{key} must be a list of rows, such as [[1, 0], [0, 1]]")
    return tuple(
        tuple(number(v, f"{key}[{i + 1}][{j + 1}]") for j, v in enumerate(row))
        for i, row in enumerate(value)
    )


def parse_link(text: str, width: int | None = None) -> tuple[sp.Expr, int]:
    """A multi-index link in ``z1, z2, ...`` (safe parser) and the largest index it uses."""
    if not isinstance(text, str):
        raise InputError(f"[teacher] link must be a string, got {text!r}")
    names = {str(s): s for s in link_variables(MAX_LINK_INDEX)}
    expr = parse_expression(
        text,
        variables=names,
        functions=ALLOWED_FUNCTIONS,
        constants=ALLOWED_CONSTANTS,
    )
    if not isinstance(expr, sp.Expr) or isinstance(expr, sp.Rel):
        raise InputError(f"[teacher] link {text!r} is not a real-valued expression")
    used = sorted(int(str(s)[1:]) for s in expr.free_symbols)
    if not used:
        raise InputError(f"[teacher] link {text!r} does not depend on any z_j")
    if width is not None and used[-1] > width:
        raise InputError(f"[teacher] link uses z{used[-1]} but the teacher has width {width}")
    return expr, used[-1]


def _identity(n: int) -> Matrix:
    return tuple(tuple(sp.Integer(int(i == j)) for j in range(n)) for i in range(n))


def committee_model(
    *,
    student_activation: FunctionLike,
    student_width: int,
    teacher_activation: FunctionLike | None = None,
    teacher_width: int | None = None,
    link: str | sp.Expr | None = None,
    teacher_overlaps: Any = None,
    teacher_second_layer: Sequence[Any] | None = None,
    noise: Any = 0,
    student_second_layer: Sequence[Any] | None = None,
    train_second_layer: bool = False,
    algorithm: str = "online-sgd",
    learning_rate: Any = 1,
    second_layer_learning_rate: Any = None,
    variant: str = "plain",
    loss: str = "square",
    Q0: Any,
    M0: Any,
    covariance: str = "isotropic",
    kappa: Sequence[Any] | None = None,
    convention: str = "ba",
    spike_overlaps: Any = None,
    S0: Any = None,
    name: str = "model",
) -> CommitteeModel:
    """A validated :class:`CommitteeModel` from Python values (activation first, then target).

    Give either ``teacher_activation`` (a committee, with ``teacher_width`` and optional
    ``teacher_second_layer``, default all ones) or ``link`` (an expression in ``z1, ..., zM``).
    ``teacher_overlaps`` defaults to the identity, ``student_second_layer`` to all ones.
    A spiked covariance (``covariance="spiked"``) takes the strengths ``kappa`` (``R`` of
    them), the teacher's overlaps with the spikes ``spike_overlaps`` (``T = U Theta^T``,
    ``M x R``) and the student's initial ones ``S0`` (``W Theta^T``, ``K x R``);
    ``convention="unit"`` divides ``Sigma`` by its largest eigenvalue.  ``variant`` is one of
    :data:`VARIANTS` (see :class:`Learner`).
    """
    phi = as_function(student_activation)
    if (teacher_activation is None) == (link is None):
        raise InputError("[teacher] give either activation (a committee) or link, not both")
    if not isinstance(student_width, int) or isinstance(student_width, bool):
        raise InputError(f"[student] width must be a whole number, got {student_width!r}")
    if teacher_activation is not None:
        if teacher_width is None:
            raise InputError("[teacher] width is required with activation")
        _check_width(teacher_width, "teacher")
        g = as_function(teacher_activation)
        weights = (
            tuple(sp.Integer(1) for _ in range(teacher_width))
            if teacher_second_layer is None
            else vector(list(teacher_second_layer), "[teacher] second_layer")
        )
        if len(weights) != teacher_width:
            raise InputError(f"[teacher] second_layer needs {teacher_width} entries")
        zs = link_variables(teacher_width)
        expr = sp.Add(*[a * g.expr.subs(z, zj) for a, zj in zip(weights, zs, strict=True)])
        width, text = teacher_width, ""
    else:
        if teacher_second_layer is not None:
            raise InputError("[teacher] second_layer goes with activation, not with link")
        if isinstance(link, sp.Expr):
            expr = link
            used = sorted(int(str(s)[1:]) for s in expr.free_symbols if str(s)[1:].isdigit())
            top = used[-1] if used else 1
            text = str(link)
        else:
            expr, top = parse_link(link, teacher_width)
            text = " ".join(str(link).split())
        width = teacher_width if teacher_width is not None else top
        g, weights = None, None
    overlaps = (
        _identity(width)
        if teacher_overlaps is None
        else matrix(teacher_overlaps, "[teacher] overlaps")
    )
    teacher = Teacher(
        width=width,
        link=expr,
        overlaps=overlaps,
        noise=number(noise, "[teacher] noise"),
        activation=g,
        second_layer=weights,
        link_text=text,
        spike_overlaps=()
        if spike_overlaps is None
        else matrix(spike_overlaps, "[teacher] spike_overlaps"),
    )
    a = (
        tuple(sp.Integer(1) for _ in range(student_width))
        if student_second_layer is None
        else vector(list(student_second_layer), "[student] second_layer")
    )
    student = Student(student_width, phi, a, bool(train_second_layer))
    learner = Learner(
        algorithm,
        number(learning_rate, "[learner] learning_rate"),
        None
        if second_layer_learning_rate is None
        else number(second_layer_learning_rate, "[learner] second_layer_learning_rate"),
        variant,
        loss,
    )
    initial = Initial(
        matrix(Q0, "[initial] Q"),
        matrix(M0, "[initial] M"),
        () if S0 is None else matrix(S0, "[initial] S"),
    )
    data = Data(
        covariance, () if kappa is None else vector(list(kappa), "[data] kappa"), convention
    )
    return CommitteeModel(teacher, student, learner, initial, data, name)


# ----------------------------------------------------------------------------
# TOML

#: Every key the TOML format accepts, by table (anything else is an error).
TOML_KEYS: dict[str, tuple[str, ...]] = {
    "data": ("covariance", "kappa", "convention"),
    "teacher": (
        "activation",
        "link",
        "width",
        "overlaps",
        "second_layer",
        "noise",
        "spike_overlaps",
    ),
    "student": ("activation", "width", "second_layer", "trained"),
    "learner": ("algorithm", "variant", "loss", "learning_rate", "second_layer_learning_rate"),
    "initial": ("Q", "M", "S"),
}
REQUIRED_TABLES = ("teacher", "student", "initial")


def _table(spec: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = spec.get(name, {})
    if not isinstance(value, dict):
        raise InputError(f"[{name}] must be a table")
    unknown = sorted(set(value) - set(TOML_KEYS[name]))
    if unknown:
        raise InputError(
            f"[{name}] unknown key {unknown[0]!r}; known keys: {', '.join(TOML_KEYS[name])}"
        )
    return value


def _string(table: dict, key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(f"[{where}] {key} must be a string, got {value!r}")
    return value


def _int(table: dict, key: str, where: str) -> int | None:
    value = table.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InputError(f"[{where}] {key} must be a whole number, got {value!r}")
    return value


def model_from_mapping(spec: Mapping[str, Any], name: str = "model") -> CommitteeModel:
    """A model from the parsed TOML tables (see :data:`TOML_KEYS`)."""
    unknown = sorted(set(spec) - set(TOML_KEYS))
    if unknown:
        raise InputError(
            f"unknown table or key {unknown[0]!r}; the tables are {', '.join(TOML_KEYS)}"
        )
    for required in REQUIRED_TABLES:
        if required not in spec:
            raise InputError(f"the table [{required}] is missing")
    data = _table(spec, "data")
    teacher = _table(spec, "teacher")
    student = _table(spec, "student")
    learner = _table(spec, "learner")
    initial = _table(spec, "initial")
    covariance = _string(data, "covariance", "data") or "isotropic"
    kappa = vector(data["kappa"], "[data] kappa") if "kappa" in data else ()
    convention = _string(data, "convention", "data") or "ba"
    Data(covariance, kappa, convention)
    for key in ("Q", "M"):
        if key not in initial:
            raise InputError(f"[initial] {key} is missing")
    activation = _string(teacher, "activation", "teacher")
    link = _string(teacher, "link", "teacher")
    if activation is not None and "width" not in teacher:
        raise InputError("[teacher] width is missing")
    for key in ("activation", "width"):
        if key not in student:
            raise InputError(f"[student] {key} is missing")
    trained = student.get("trained", False)
    if not isinstance(trained, bool):
        raise InputError(f"[student] trained must be true or false, got {trained!r}")
    student_activation = _string(student, "activation", "student")
    if "learning_rate" not in learner and learner.get("algorithm", "online-sgd") == "online-sgd":
        raise InputError("[learner] learning_rate is missing")
    return committee_model(
        student_activation=_activation(student_activation, "student"),
        student_width=_int(student, "width", "student"),
        teacher_activation=_activation(activation, "teacher") if activation is not None else None,
        teacher_width=_int(teacher, "width", "teacher"),
        link=link,
        teacher_overlaps=teacher.get("overlaps"),
        teacher_second_layer=teacher.get("second_layer"),
        noise=teacher.get("noise", 0),
        student_second_layer=student.get("second_layer"),
        train_second_layer=trained,
        algorithm=_string(learner, "algorithm", "learner") or "online-sgd",
        learning_rate=learner.get("learning_rate", 1),
        second_layer_learning_rate=learner.get("second_layer_learning_rate"),
        variant=_string(learner, "variant", "learner") or "plain",
        loss=_string(learner, "loss", "learner") or "square",
        Q0=initial["Q"],
        M0=initial["M"],
        covariance=covariance,
        kappa=kappa,
        convention=convention,
        spike_overlaps=teacher.get("spike_overlaps"),
        S0=initial.get("S"),
        name=name,
    )


def _activation(text: str, who: str) -> Function:
    try:
        return as_function(text)
    except InputError as exc:
        raise InputError(f"[{who}] activation: {exc}") from None


def model_from_toml(text: str, name: str = "model") -> CommitteeModel:
    """A model from TOML text."""
    try:
        spec = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}") from None
    return model_from_mapping(spec, name)


#: Models shipped with featcheck (``docs/examples/<name>.toml``), loadable by name.
EXAMPLES = (
    "saad-solla",
    "staircase",
    "single-index",
    "spiked-single-index",
    "spiked-normalized",
)


def example_path(name: str) -> Path:
    """The TOML file of a bundled example model."""
    if name not in EXAMPLES:
        raise InputError(f"no bundled example {name!r}; the examples are {', '.join(EXAMPLES)}")
    return Path(__file__).resolve().parents[2] / "docs" / "examples" / f"{name}.toml"


def load_model(path: str | Path) -> CommitteeModel:
    """A model from a TOML file (its name is the file's stem), or a bundled example by name
    (:data:`EXAMPLES`) when no such file exists."""
    path = Path(path)
    if not path.is_file() and str(path) in EXAMPLES:
        path = example_path(str(path))
    if not path.is_file():
        raise InputError(
            f"model file {path} does not exist (bundled examples: {', '.join(EXAMPLES)})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    try:
        return model_from_toml(text, path.stem)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None
