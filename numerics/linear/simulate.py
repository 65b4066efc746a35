"""Flows, gradient descent and SGD for linear predictors and deep linear networks.

Notation of :mod:`featcheck.theory.linear`: ``v = (0, 1)`` in the plane ``span(w, v)``,
``rho = ||w||``,
``zeta = 2 artanh(cos theta)``; the population gradient is
``grad L(w) = G(rho) w/rho - (c0/pi) v`` with ``G = c0/pi - K`` and
``K(rho) = E[|X| sigmoid(-rho |X|)]``.  The flow of depth ``N`` (``N = 1``: the linear
predictor, otherwise the induced flow (7)) is integrated in ``(rho, zeta)``:

    d rho/dt  = N rho^(2-2/N) (K(rho) - (2 c0/pi) sigmoid(-zeta)),
    d zeta/dt = (2 c0/pi) rho^(1-2/N),

which keeps ``1 - cos theta = 2 sigmoid(-zeta)`` accurate far below machine epsilon.  The
system is :func:`featcheck.theory.linear.flow_system`, compiled by
:func:`featcheck.numerics.ode.compile_system` with ``DataLaw.K`` as the numeric ``K`` and
integrated by :func:`featcheck.numerics.ode.integrate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
from scipy.special import expit, gammaln

from featcheck.numerics.ode import CompiledSystem, compile_system, integrate
from featcheck.theory.errors import DomainError, InputError, NumericalError
from featcheck.theory.linear import c0_closed_form, check_law, flow_system

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(80)
_NODES01 = (_NODES + 1) / 2
_WEIGHTS01 = _WEIGHTS / 2


@dataclass(frozen=True)
class DataLaw:
    """A rotation-invariant law of ``x`` in ``R^dim``: ``U(S^{dim-1})`` or ``N(0, I_dim)``."""

    kind: str = "sphere"
    dim: int = 2

    def __post_init__(self) -> None:
        check_law(self.kind, self.dim)

    @cached_property
    def c0(self) -> float:
        """``E ||x_2||`` (exact value from ``featcheck.theory.linear``)."""
        return float(c0_closed_form(self.kind, self.dim))

    @cached_property
    def _log_cd(self) -> float:
        d = self.dim
        return gammaln(d / 2) - 0.5 * math.log(math.pi) - gammaln((d - 1) / 2)

    @property
    def density_at_zero(self) -> float:
        """``f_X(0)`` of the one-dimensional marginal (enters the large-norm asymptotics)."""
        if self.kind == "gaussian":
            return 1 / math.sqrt(2 * math.pi)
        return math.exp(self._log_cd)

    def abs_expectation(self, h, rho: np.ndarray) -> np.ndarray:
        """``E h(|X|, rho)`` for each ``rho``, by two Gauss-Legendre panels.

        ``h(u, rho)`` is vectorised; the first panel ends where the integrand has decayed
        below ``e^-38`` of its scale (width ``1/rho`` for the sigmoid, ``1/sqrt(d)`` for
        the concentration of ``X``), so both panels see smooth integrands.
        """
        rho = np.atleast_1d(np.asarray(rho, dtype=float))[:, None]
        if self.kind == "gaussian":
            top = 12.0
            cut = np.minimum(top, 60.0 / np.maximum(rho, 1e-300))

            def integrand(u):
                return 2 * h(u, rho) * np.exp(-(u**2) / 2) / math.sqrt(2 * math.pi)

            first = cut * (integrand(cut * _NODES01) @ _WEIGHTS01)[:, None]
            second = (top - cut) * (integrand(cut + (top - cut) * _NODES01) @ _WEIGHTS01)[:, None]
            return (first + second)[:, 0]
        d = self.dim
        top = math.pi / 2
        cut = np.minimum(top, 60.0 / np.maximum(rho, 1e-300))
        if d > 2:
            cut = np.minimum(cut, 12.0 / math.sqrt(d - 2))
        log_cd = self._log_cd

        def integrand(psi):
            weight = np.exp(log_cd + (d - 2) * np.log(np.cos(psi)))
            return 2 * h(np.sin(psi), rho) * weight

        first = cut * (integrand(cut * _NODES01) @ _WEIGHTS01)[:, None]
        second = (top - cut) * (integrand(cut + (top - cut) * _NODES01) @ _WEIGHTS01)[:, None]
        return (first + second)[:, 0]

    def K(self, rho) -> np.ndarray:
        """``K(rho) = E[|X| sigmoid(-rho |X|)] = c0/pi - G(rho)``."""
        return self.abs_expectation(lambda u, p: u * expit(-p * u), rho)

    def K_derivative(self, rho) -> np.ndarray:
        """``K'(rho) = -E[X^2 sigmoid(rho |X|) sigmoid(-rho |X|)]``."""
        return self.abs_expectation(lambda u, p: -(u**2) * expit(p * u) * expit(-p * u), rho)

    def G(self, rho) -> np.ndarray:
        """``G(rho) = (1/2) E[|X| tanh(rho |X| / 2)]``."""
        return self.c0 / math.pi - self.K(rho)

    def softplus_mean(self, rho) -> np.ndarray:
        """``E ln(1 + exp(-rho |X|))``."""
        return self.abs_expectation(lambda u, p: np.log1p(np.exp(-p * u)), rho)

    def loss(self, rho, one_minus_cos) -> np.ndarray:
        """``L(w) = (c0 rho/pi)(1 - cos theta) + E ln(1 + exp(-rho |X|))``."""
        rho = np.asarray(rho, dtype=float)
        return self.c0 * rho / math.pi * np.asarray(one_minus_cos) + self.softplus_mean(
            rho.ravel()
        ).reshape(rho.shape)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Samples of ``x`` with shape ``shape + (dim,)``."""
        if self.kind == "sphere" and self.dim == 2:
            angle = rng.random(shape) * (2 * math.pi)
            return np.stack([np.cos(angle), np.sin(angle)], axis=-1)
        z = rng.standard_normal((*shape, self.dim))
        if self.kind == "gaussian":
            return z
        return z / np.linalg.norm(z, axis=-1, keepdims=True)


# Initial conditions --------------------------------------------------------------------
def polar_state(w0) -> tuple[float, float]:
    """``(rho, zeta)`` of ``w0 = (w_perp, w_v)`` with ``v = (0, 1)``, computed without
    cancellation (``tan(theta/2) = |w_perp| / (rho + w_v)``)."""
    w = np.asarray(w0, dtype=float).ravel()
    if w.shape != (2,) or not np.all(np.isfinite(w)):
        raise InputError(f"the initial weight must be two finite numbers X,Y, got {w0!r}")
    radius = float(np.hypot(w[0], w[1]))
    if radius == 0:
        raise DomainError("the initial weight is zero: the angle to v is undefined; use w != 0")
    if w[0] == 0:
        raise DomainError(
            "the initial weight is parallel to v = (0, 1): theta(0) is 0 or pi and the bounds "
            "involve ln|tan(theta(0)/2)|; give a first coordinate X != 0"
        )
    if w[1] >= 0:
        zeta0 = 2 * (math.log(radius + w[1]) - math.log(abs(w[0])))
    else:
        zeta0 = 2 * (math.log(abs(w[0])) - math.log(radius - w[1]))
    return radius, zeta0


def check_depth(depth: int) -> int:
    if not isinstance(depth, int | np.integer) or depth < 1:
        raise DomainError(f"the depth must be an integer >= 1, got {depth!r}")
    return int(depth)


# Flows ---------------------------------------------------------------------------------
@dataclass
class Flow:
    """An integrated flow with dense output in ``(rho, zeta)`` and the turning time ``T``."""

    law: DataLaw
    depth: int
    rho0: float
    zeta0: float
    t_max: float
    T: float
    rho_T: float
    zeta_T: float
    solution: object = field(repr=False)
    rtol: float = 1e-10

    def state(self, times) -> tuple[np.ndarray, np.ndarray]:
        times = np.clip(np.asarray(times, dtype=float), 0.0, self.t_max)
        y = self.solution(times)
        return y[0], y[1]

    def series(self, times) -> dict[str, np.ndarray]:
        """``t``, ``rho``, ``zeta``, ``cos_theta``, ``one_minus_cos``, ``theta`` and ``loss``."""
        times = np.asarray(times, dtype=float)
        rho, zeta = self.state(times)
        one_minus_cos = 2 * expit(-zeta)
        return {
            "t": times,
            "rho": rho,
            "zeta": zeta,
            "cos_theta": np.tanh(zeta / 2),
            "one_minus_cos": one_minus_cos,
            "theta": 2 * np.arctan(np.exp(-zeta / 2)),
            "loss": self.law.loss(rho, one_minus_cos),
        }


def _shaped(values):
    """``values(rho)`` for ``rho`` of any shape (``DataLaw`` works on flat arrays)."""

    def function(rho):
        rho = np.asarray(rho, dtype=float)
        return values(rho.ravel()).reshape(rho.shape)

    return function


@lru_cache(maxsize=16)
def _flow_system(depth: int):
    return flow_system(depth)


@lru_cache(maxsize=64)
def compiled_flow(law: DataLaw, depth: int) -> CompiledSystem:
    """:func:`featcheck.theory.linear.flow_system` of ``depth``, compiled with ``law``'s ``K``
    (once per law and depth; ``c0`` stays the parameter ``c_0``, one system per depth)."""
    namespace = {"RadialK": _shaped(law.K), "RadialKDerivative": _shaped(law.K_derivative)}
    return compile_system(_flow_system(depth), namespace=namespace)


def integrate_flow(
    law: DataLaw,
    depth: int,
    w0=None,
    *,
    rho0: float | None = None,
    zeta0: float | None = None,
    t_max: float = 30.0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> Flow:
    """Integrate the depth-``depth`` flow from ``w0`` (or from ``rho0, zeta0``) up to ``t_max``.

    ``T`` is the first time where ``d rho/dt`` turns from negative to non-negative (0 if the
    norm increases from the start; inf, with a NaN state, if it never turns before
    ``t_max``); it is an event of :func:`featcheck.numerics.ode.integrate` (DOP853).
    """
    depth = check_depth(depth)
    if w0 is not None:
        rho0, zeta0 = polar_state(w0)
    if rho0 is None or zeta0 is None or not rho0 > 0 or not math.isfinite(zeta0):
        raise DomainError("give w0 or a positive rho0 and a finite zeta0")
    if not (t_max > 0 and math.isfinite(t_max)):
        raise DomainError(f"t_max must be positive and finite, got {t_max}")
    compiled = compiled_flow(law, depth)
    p = compiled.parameters({"c_0": law.c0})

    def turning(_t, y):  # d rho/dt; rho > 0, so its sign is that of K - (2 c0/pi) sigmoid(-zeta)
        return float(compiled.rhs(y, p)[0])

    turning.direction = 1.0
    y0 = [float(rho0), float(zeta0)]
    trajectory = integrate(
        compiled,
        y0,
        {"c_0": law.c0},
        float(t_max),
        escape_observable=None,
        convergence_tol=None,
        blowup=math.inf,
        method="DOP853",
        rtol=rtol,
        atol=atol,
        events=[turning],
        dense_output=True,
    )
    times, states = trajectory.event_times[0], trajectory.event_states[0]
    if turning(0.0, y0) >= 0:
        T, rho_T, zeta_T = 0.0, float(rho0), float(zeta0)
    elif times.size:
        T = float(times[0])
        rho_T, zeta_T = (float(v) for v in states[0])
    else:
        T, rho_T, zeta_T = math.inf, math.nan, math.nan
    return Flow(
        law,
        depth,
        float(rho0),
        float(zeta0),
        float(t_max),
        T,
        rho_T,
        zeta_T,
        trajectory.dense,
        rtol,
    )


def time_grid(t_start: float, t_end: float, points: int = 400) -> np.ndarray:
    """Times in ``[t_start, t_end]``: geometric near ``t_start`` (bounds are tight there)
    and uniform elsewhere."""
    if not t_end > t_start:
        return np.array([t_start])
    span = t_end - t_start
    geometric = t_start + span * np.geomspace(1e-7, 1.0, points // 2)
    uniform = np.linspace(t_start, t_end, points - points // 2)
    return np.unique(np.concatenate([[t_start], geometric, uniform]))


# Gradient descent ----------------------------------------------------------------------
SCHEDULES = ("constant", "geometric", "power", "harmonic")


def step_sizes(kind: str, eta: float, steps: int, parameter: float | None = None) -> np.ndarray:
    """Step sizes ``eta_n``, ``n < steps``: constant ``eta``, geometric ``eta q^n``,
    power ``eta (n+1)^alpha`` or harmonic ``eta/(n+1)``."""
    if not (eta > 0 and math.isfinite(eta)):
        raise DomainError(f"the learning rate must be positive and finite, got {eta}")
    index = np.arange(steps, dtype=float)
    if kind == "constant":
        return np.full(steps, eta)
    if kind == "geometric":
        q = 1.01 if parameter is None else parameter
        if not q > 0:
            raise DomainError(f"the ratio q of a geometric schedule must be positive, got {q}")
        return eta * q**index
    if kind == "power":
        alpha = 0.5 if parameter is None else parameter
        return eta * (index + 1) ** alpha
    if kind == "harmonic":
        return eta / (index + 1)
    raise DomainError(f"unknown step schedule {kind!r}; use one of {', '.join(SCHEDULES)}")


@dataclass
class DescentPath:
    """Population gradient descent of the linear predictor, for ``M`` starts at once."""

    w: np.ndarray  # (steps + 1, M, 2)
    etas: np.ndarray  # (M, steps)

    @property
    def rho(self) -> np.ndarray:
        return np.hypot(self.w[..., 0], self.w[..., 1])

    @property
    def one_minus_cos(self) -> np.ndarray:
        """``1 - cos theta``, without cancellation for small angles."""
        rho, a, b = self.rho, self.w[..., 0], self.w[..., 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            small = a**2 / (rho * (rho + b))
            plain = 1 - b / rho
        return np.where(b > 0, small, plain)

    @property
    def cos_theta(self) -> np.ndarray:
        return self.w[..., 1] / self.rho


def gradient_descent(law: DataLaw, w0: np.ndarray, etas: np.ndarray) -> DescentPath:
    """``w(n+1) = w(n) - eta_n (G(rho) w/rho - (c0/pi) v)`` with the exact population gradient.

    ``w0`` has shape ``(M, 2)`` and ``etas`` shape ``(steps,)`` or ``(M, steps)``.
    """
    w = np.atleast_2d(np.asarray(w0, dtype=float)).copy()
    etas = np.broadcast_to(np.asarray(etas, dtype=float), (w.shape[0], np.shape(etas)[-1]))
    if np.any(~(etas > 0)):
        raise DomainError("every step size must be positive")
    steps = etas.shape[1]
    path = np.empty((steps + 1, *w.shape))
    path[0] = w
    pull = law.c0 / math.pi
    for k in range(steps):
        radius = np.hypot(w[:, 0], w[:, 1])
        scale = np.where(radius > 0, law.G(radius) / np.where(radius > 0, radius, 1.0), 0.0)
        grad = scale[:, None] * w
        grad[:, 1] -= pull
        w = w - etas[:, k, None] * grad
        path[k + 1] = w
    return DescentPath(path, np.array(etas))


# SGD on finite batches -------------------------------------------------------------------
def balanced_layers(w_e0, depth: int, width: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The paper's balanced initialisation (6): ``W_N = s u_N^T``, ``W_i = s u_{i+1} u_i^T``
    with unit ``u_i`` (``u_1 = w_e(0)/||w_e(0)||``) and ``s = ||w_e(0)||^(1/N)``, so that
    ``W_N ... W_1 = w_e(0)^T`` and ``W_{j+1}^T W_{j+1} = W_j W_j^T``."""
    w_e0 = np.asarray(w_e0, dtype=float)
    radius = float(np.linalg.norm(w_e0))
    if radius == 0:
        raise DomainError("the initial end-to-end weight is zero; use w_e(0) != 0")
    scale = radius ** (1 / depth)
    units = [w_e0 / radius]
    for _ in range(depth - 1):
        u = rng.standard_normal(width)
        units.append(u / np.linalg.norm(u))
    layers = [scale * np.outer(units[1], units[0])]
    for i in range(1, depth - 1):
        layers.append(scale * np.outer(units[i + 1], units[i]))
    layers.append(scale * units[depth - 1][None, :])
    return layers


def end_to_end(layers: list[np.ndarray]) -> np.ndarray:
    """``w_e = (W_N ... W_1)^T`` (for stacked replicas, the leading axis is kept)."""
    product = layers[0]
    for layer in layers[1:]:
        product = layer @ product
    return np.swapaxes(product, -1, -2)[..., 0]


@dataclass
class SGDRun:
    """SGD replicas recorded every ``record_every`` steps; ``t = lr * steps``."""

    t: np.ndarray  # (records,)
    w_e: np.ndarray  # (records, replicas, dim)

    @property
    def rho(self) -> np.ndarray:
        return np.linalg.norm(self.w_e, axis=-1)

    @property
    def cos_theta(self) -> np.ndarray:
        return self.w_e[..., 1] / self.rho


def sgd(
    law: DataLaw,
    w_e0,
    *,
    depth: int = 1,
    lr: float = 1e-3,
    batch: int = 1000,
    steps: int = 1000,
    replicas: int = 8,
    width: int = 3,
    record_every: int = 50,
    rng: np.random.Generator,
    initial_layers: list[np.ndarray] | None = None,
) -> SGDRun:
    """Minibatch SGD on the logistic loss with fresh samples every step, ``y = sgn(x_2)``.

    Depth 1 trains ``w`` directly; depth ``N > 1`` trains ``N`` layers of hidden width
    ``width`` from the balanced initialisation (one draw shared by the replicas, which
    differ only in their data).  Vectorised over replicas.
    """
    depth = check_depth(depth)
    if not (lr > 0 and math.isfinite(lr)):
        raise DomainError(f"the learning rate must be positive and finite, got {lr}")
    if batch < 1 or steps < 1 or replicas < 1 or record_every < 1:
        raise DomainError("batch, steps, replicas and record interval must be positive")
    w2 = np.asarray(w_e0, dtype=float).ravel()
    w_full = np.zeros(law.dim)
    w_full[:2] = w2
    if depth == 1:
        if np.linalg.norm(w_full) == 0:
            raise DomainError("the initial weight is zero; use w != 0")
        layers = [np.broadcast_to(w_full[None, :], (replicas, 1, law.dim)).copy()]
    else:
        base = initial_layers or balanced_layers(w_full, depth, width, rng)
        layers = [np.broadcast_to(m, (replicas, *m.shape)).copy() for m in base]
    records = steps // record_every + 1
    ts = np.empty(records)
    w_rec = np.empty((records, replicas, law.dim))
    ts[0], w_rec[0] = 0.0, end_to_end(layers)
    for step in range(1, steps + 1):
        x = law.sample(rng, (replicas, batch))  # (R, B, d)
        y = np.where(x[..., 1] >= 0, 1.0, -1.0)
        acts = [x]
        for layer in layers:  # a_j = a_{j-1} W_j^T, batched over replicas
            acts.append(acts[-1] @ np.swapaxes(layer, 1, 2))
        back = (-expit(-y * acts[-1][..., 0]) * y / batch)[..., None]  # dLoss/d out, (R, B, 1)
        grads = [None] * depth
        for j in range(depth - 1, -1, -1):
            grads[j] = np.swapaxes(back, 1, 2) @ acts[j]
            if j:
                back = back @ layers[j]
        with np.errstate(over="ignore", invalid="ignore"):
            for j in range(depth):
                layers[j] -= lr * grads[j]
        w_e = end_to_end(layers)
        _check_finite_weights(w_e, step, lr)
        if step % record_every == 0:
            index = step // record_every
            ts[index] = lr * step
            w_rec[index] = w_e
    return SGDRun(ts, w_rec)


def _check_finite_weights(w_e: np.ndarray, step: int, lr: float) -> None:
    """Raise :class:`NumericalError` once SGD has left double precision: a weight or its
    norm overflowed (a cosine computed from them would read 0 or NaN, not the truth)."""
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.all(np.isfinite(w_e)) and np.all(np.isfinite(np.linalg.norm(w_e, axis=-1)))
    if not finite:
        raise NumericalError(
            f"SGD diverged: the weights overflowed double precision by step {step} "
            f"(learning rate {lr:g}); choose a smaller learning rate"
        )


# Independent gradients (for checks of the reduction) ------------------------------------
def _logistic_weight(s: np.ndarray) -> np.ndarray:
    """``l'(s) = -sigmoid(-s)``."""
    return -expit(-s)


def gradient_by_quadrature(law: DataLaw, w) -> tuple[np.ndarray, float]:
    """``grad L(w) = E[l'(y <w,x>) y x]`` by adaptive quadrature over the circle (``d = 2``),
    not using the reduction; returns the gradient and the summed error estimate."""
    from scipy.integrate import quad

    if law.dim != 2:
        raise DomainError("quadrature gradients are implemented for dim = 2; use Monte Carlo")
    w = np.asarray(w, dtype=float)

    def angular(radius: float, component: int) -> tuple[float, float]:
        total, error = 0.0, 0.0
        for low, high, label in ((0.0, math.pi, 1.0), (math.pi, 2 * math.pi, -1.0)):

            def f(p, label=label):
                u = (math.cos(p), math.sin(p))
                margin = label * radius * (w[0] * u[0] + w[1] * u[1])
                return -expit(-margin) * label * radius * u[component] / (2 * math.pi)

            value, err = quad(f, low, high, epsabs=1e-14, epsrel=1e-12, limit=200)
            total, error = total + value, error + err
        return total, error

    grad, error = np.zeros(2), 0.0
    for component in range(2):
        if law.kind == "sphere":
            grad[component], error_c = angular(1.0, component)
        else:

            def radial(radius, component=component):
                return angular(radius, component)[0] * radius * math.exp(-(radius**2) / 2)

            grad[component], error_c = quad(radial, 0, math.inf, epsabs=1e-13, epsrel=1e-11)
        error += error_c
    return grad, error


def population_gradient(law: DataLaw, w) -> np.ndarray:
    """The reduced closed form ``G(rho) w/rho - (c0/pi) v`` (``v = e_2``), shape ``(..., 2)``."""
    w = np.asarray(w, dtype=float)
    radius = np.linalg.norm(w, axis=-1, keepdims=True)
    scale = np.where(
        radius > 0, law.G(radius.ravel()).reshape(radius.shape) / np.where(radius > 0, radius, 1), 0
    )
    grad = scale * w
    grad[..., 1] -= law.c0 / math.pi
    return grad


def layer_gradients(layers: list[np.ndarray], grad_e: np.ndarray) -> list[np.ndarray]:
    """``dL/dW_j = (W_N...W_{j+1})^T grad L(w_e)^T (W_{j-1}...W_1)^T`` for one network."""
    depth = len(layers)
    out = []
    for j in range(depth):
        left = np.eye(layers[-1].shape[0])
        for layer in reversed(layers[j + 1 :]):
            left = left @ layer
        right = np.eye(layers[0].shape[1])
        for layer in layers[:j]:
            right = layer @ right
        out.append(left.T @ grad_e[None, :] @ right.T)
    return out


def layer_gradient_descent(
    law: DataLaw, layers: list[np.ndarray], lr: float, steps: int, record_every: int
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic layer-wise gradient descent on the population loss (``dim = 2``):
    the noiseless counterpart of :func:`sgd`; returns times and end-to-end weights."""
    layers = [m.copy() for m in layers]
    times, weights = [0.0], [end_to_end(layers)]
    for step in range(1, steps + 1):
        grad_e = population_gradient(law, end_to_end(layers))
        for layer, grad in zip(layers, layer_gradients(layers, grad_e), strict=True):
            layer -= lr * grad
        if step % record_every == 0:
            times.append(lr * step)
            weights.append(end_to_end(layers))
    return np.array(times), np.array(weights)
