"""One simulated gradient step with its predictions: the library behind ``featcheck onestep``.

:func:`onestep_a` runs model A (Moniri et al. 2024: ``eta = n^alpha``, isotropic data),
:func:`onestep_b` model B (Demir and Dogan 2025: strength ``beta``, weight ``alpha``,
Gaussian-mixture data), and :func:`onestep` picks the model from its arguments as the
command does.  Each returns a frozen dataclass whose ``to_json()`` is the command's
``--json`` output::

    >>> from featcheck.numerics.onestep.run import onestep_a
    >>> result = onestep_a(
    ...     activation="tanh", link="tanh", alpha=0.3, dim=100, samples=100, width=100
    ... )
    >>> result.predicted_spikes.degrees
    (1,)

Sizes follow the command's names: ``dim`` is the input dimension (``d`` in A, ``n`` in
B), ``samples`` the number of samples per batch (``n`` in A, ``m`` in B) and ``width``
the hidden width (``N`` in A, ``k`` in B).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from featcheck.numerics.jsonable import JsonResult
from featcheck.numerics.names import DATA, RIDGE_A, RIDGE_B
from featcheck.numerics.onestep.simulate import (
    MIN_SPECTRUM_SIZE,
    ConfigA,
    ConfigB,
    simulate_a,
    simulate_b,
)
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import FunctionLike, as_function
from featcheck.theory.onestep import (
    SpikeTermB,
    gradient_overlap,
    hermite_degree,
    predict_spikes,
    predict_spikes_b,
)

#: Distinct spike directions of the data, by law (a mixture has two unless aligned).
DIRECTIONS = {"isotropic": 0, "spiked": 1}
HERMITE_A = (
    "not defined for model A: the Hermite-model equivalence (degree L(beta)) is Theorem 4 of "
    "Demir and Dogan, stated in their normalisation (model B: give beta and weight); for "
    "model A the errors are characterised by the l(alpha) spikes (Moniri et al., abstract), "
    "read here as the initial features plus the spike features, whose training error is "
    "surrogate_train_error"
)
RULE_B = "a rank-one term separates iff its exponent e > 0 (spike/bulk ~ n^e)"


# ----------------------------------------------------------------------------
# Model A


@dataclass(frozen=True)
class PredictedSpikesA(JsonResult):
    """Model A: the spikes ``l(alpha)`` restricted to ``mu_k(sigma) != 0``."""

    count: int
    degrees: tuple[int, ...]
    l_alpha: int
    unresolved_degrees: tuple[int, ...]
    informative: bool  # mu_1(sigma*) != 0: the spikes carry the target direction


@dataclass(frozen=True)
class BulkEdgeA(JsonResult):
    """Model A: bulk edges of the centred features and the outlier threshold."""

    initial: float
    updated_deflated: float  # He_1..He_6 of X beta_hat projected out
    outlier_threshold: float


@dataclass(frozen=True)
class AlignmentA(JsonResult):
    """Model A: the ``outlier``-th left singular vector against the degree-``k`` features."""

    outlier: int
    degree: int
    is_outlier: bool
    learned_feature: float  # |<u, He_k(X beta_hat)>|
    target_feature: float  # <u, He_k(X beta*)>, u oriented along the learned feature
    target_feature_predicted: float  # overlap^k


@dataclass(frozen=True)
class GradientOverlapA(JsonResult):
    """Model A: overlap with ``beta*`` of ``beta_hat`` and of the gradient's top direction."""

    measured_beta_hat: float
    measured_gradient: float
    predicted: float


@dataclass(frozen=True)
class NoHermiteModel(JsonResult):
    """Model A has no Hermite-model equivalence; ``reason`` says what replaces it."""

    defined: bool = field(default=False, init=False)
    reason: str = HERMITE_A


@dataclass(frozen=True)
class OneStepA(JsonResult):
    """One run of model A beside its predictions (see :func:`onestep_a`)."""

    model: str = field(default="A (Moniri et al.)", init=False)
    eta: float
    predicted_spikes: PredictedSpikesA
    measured_spikes: int
    singular_values: tuple[float, ...]  # top of the centred updated features
    bulk_edge: BulkEdgeA
    alignments: tuple[AlignmentA, ...]
    train_error: float
    test_error: float
    hermite_model: NoHermiteModel
    gradient_overlap: GradientOverlapA
    surrogate_train_error: float | None


def onestep_a(
    *,
    activation: FunctionLike,
    link: FunctionLike = "tanh",
    alpha: float,
    dim: int = 500,
    samples: int = 500,
    width: int = 500,
    noise: float = 0.0,
    ridge: float = RIDGE_A,
    seed: int = 0,
) -> OneStepA:
    """Model A: one step with ``eta = samples^alpha`` on isotropic data, and the predictions.

    Simulates :func:`~featcheck.numerics.onestep.simulate.simulate_a` with the spike
    degrees :func:`~featcheck.theory.onestep.predict_spikes` predicts, and compares the
    measured overlap of the gradient with its limit
    :func:`~featcheck.theory.onestep.gradient_overlap` at ``psi = samples / dim``.
    ``noise`` is the standard deviation of the label noise, ``ridge`` the readout's
    penalty ``lambda``.
    """
    sigma, star = as_function(activation), as_function(link)
    _check_common(noise, seed)
    prediction = predict_spikes(sigma, star, alpha)
    config = ConfigA(
        sigma,
        star,
        alpha,
        samples,
        dim,
        width,
        noise=noise,
        ridge=ridge,
        spike_degrees=prediction.spike_degrees,
    )
    result = simulate_a(config, np.random.default_rng(seed))
    limit = gradient_overlap(star, samples / dim, noise**2)
    alignments = tuple(
        AlignmentA(
            outlier=i + 1,
            degree=k,
            is_outlier=i < result.outliers,
            learned_feature=result.alignment_learned[i],
            target_feature=result.alignment_target[i],
            target_feature_predicted=limit.alignment(k),
        )
        for i, k in enumerate(prediction.spike_degrees[: len(result.alignment_learned)])
    )
    return OneStepA(
        eta=result.eta,
        predicted_spikes=PredictedSpikesA(
            count=prediction.count,
            degrees=prediction.spike_degrees,
            l_alpha=prediction.unrestricted,
            unresolved_degrees=prediction.unresolved,
            informative=prediction.informative,
        ),
        measured_spikes=result.outliers,
        singular_values=_floats(result.singular_values),
        bulk_edge=BulkEdgeA(
            initial=result.bulk_edge_initial,
            updated_deflated=result.bulk_edge_updated,
            outlier_threshold=result.edge_threshold,
        ),
        alignments=alignments,
        train_error=result.train_error,
        test_error=result.test_error,
        hermite_model=NoHermiteModel(),
        gradient_overlap=GradientOverlapA(
            measured_beta_hat=result.overlap_beta_hat,
            measured_gradient=result.overlap_gradient,
            predicted=limit.value,
        ),
        surrogate_train_error=result.surrogate,
    )


# ----------------------------------------------------------------------------
# Model B


@dataclass(frozen=True)
class SpikeTermReport(JsonResult):
    """Model B: one family of rank-one terms of the updated features, as predicted."""

    mechanism: str  # spread, step or mixed
    degree: int
    exponent: sp.Rational  # spike/bulk ~ n^exponent
    multiplicity: int
    coefficient: str  # status of mu_degree(sigma(b .)): nonzero, zero or unresolved
    present: bool

    @classmethod
    def of(cls, term: SpikeTermB) -> SpikeTermReport:
        return cls(
            term.mechanism,
            term.degree,
            term.exponent,
            term.multiplicity,
            term.coefficient.status,
            term.present,
        )

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out["exponent"] = str(self.exponent)  # exact, e.g. "37/200"
        return out


@dataclass(frozen=True)
class PredictedSpikesB(JsonResult):
    """Model B: every term with exponent ``>= 0``, the undetermined ones, and the count."""

    count: int
    terms: tuple[SpikeTermReport, ...]
    undetermined: tuple[SpikeTermReport, ...]
    spike_directions: int
    rule: str = RULE_B


@dataclass(frozen=True)
class BulkEdgeB(JsonResult):
    """Model B: deflated bulk edges before and after the step, and the outlier threshold."""

    initial_deflated: float
    updated_deflated: float
    outlier_threshold: float


@dataclass(frozen=True)
class AlignmentB(JsonResult):
    """Model B: a probe's share in the span of the outliers, before and after the step."""

    mechanism: str
    group: int
    degree: int
    updated: float
    initial: float
    predicted_spike: bool


@dataclass(frozen=True)
class HermiteModelB(JsonResult):
    """Model B: errors of the Hermite model of degree ``L(beta)`` and of the linear model."""

    defined: bool = field(default=True, init=False)
    degree: int
    scale_b: float
    train_error: float
    test_error: float
    linear_train_error: float
    linear_test_error: float


@dataclass(frozen=True)
class GradientOverlapB(JsonResult):
    """Model B: ``c_hat`` and the gradient's top direction against ``c* = E[x y]``.

    ``direction`` is ``None`` for classification, where ``c* = 0`` (no direction is
    learned at first order) and the overlaps are ``None``.
    """

    direction: str | None
    measured_c_hat: float | None
    measured_gradient: float | None
    predicted: float
    c_hat_norm_squared: float
    c_hat_norm_squared_predicted: float


@dataclass(frozen=True)
class GradientSpikeB(JsonResult):
    """Model B: the gradient's top singular values against ``|mu_1| ||w|| ||c_hat||/sqrt(k)``."""

    top_singular_values: tuple[float, ...]
    predicted_top: float
    alignment_with_c_hat: float


@dataclass(frozen=True)
class OneStepB(JsonResult):
    """One run of model B beside its predictions (see :func:`onestep_b`)."""

    model: str = field(default="B (Demir and Dogan)", init=False)
    eta: float
    spike_size: float
    predicted_spikes: PredictedSpikesB
    measured_spikes: int
    measured_spikes_initial: int
    singular_values: tuple[float, ...]
    bulk_edge: BulkEdgeB
    alignments: tuple[AlignmentB, ...]
    train_error: float
    test_error: float
    hermite_model: HermiteModelB
    gradient_overlap: GradientOverlapB
    gradient_spike: GradientSpikeB


def onestep_b(
    *,
    activation: FunctionLike,
    link: FunctionLike = "tanh",
    beta: float,
    weight: float,
    dim: int = 500,
    samples: int = 500,
    width: int = 500,
    data: str = "mixture",
    noise: float = 0.0,
    ridge: float = RIDGE_B,
    seed: int = 0,
) -> OneStepB:
    """Model B: one step with ``eta = dim^(beta weight)``, spikes of size
    ``dim^(beta (1 - weight))``, the Hermite model of degree ``L(beta)`` and the predictions.

    ``weight`` is the paper's ``alpha`` (the share of the learning rate, in ``[0, 1]``);
    ``data`` is ``mixture`` (two components with rank-one spikes), ``spiked`` or
    ``isotropic``.  Simulates :func:`~featcheck.numerics.onestep.simulate.simulate_b` with
    the spectral analysis, beside :func:`~featcheck.theory.onestep.predict_spikes_b`.
    """
    sigma, star = as_function(activation), as_function(link)
    _check_common(noise, seed)
    if data not in DATA:
        raise DomainError(f"unknown data {data!r}: {', '.join(DATA)}")
    degree = hermite_degree(beta)
    config = ConfigB(
        sigma,
        dim,
        samples,
        width,
        alpha=weight,
        beta=beta,
        ridge=ridge,
        noise=noise,
        data=data,
        target=star,
    )
    if min(dim, samples, width) < MIN_SPECTRUM_SIZE:
        raise DomainError(
            f"dim, samples and width must be at least {MIN_SPECTRUM_SIZE} for a spectrum "
            f"(got {dim}, {samples}, {width})"
        )
    result = simulate_b(config, np.random.default_rng(seed), degrees=(degree, 1), spectrum=True)
    model = result.models[degree]
    spectrum = result.spectrum
    directions = DIRECTIONS.get(config.data, 1 if abs(config.alignment) == 1 else 2)
    prediction = predict_spikes_b(sigma, beta, weight, directions=directions, scale=result.scale)
    present = {(t.mechanism, t.degree) for t in prediction.present}
    gradient = spectrum.gradient
    return OneStepB(
        eta=config.eta,
        spike_size=config.spike,
        predicted_spikes=PredictedSpikesB(
            count=prediction.count,
            terms=tuple(SpikeTermReport.of(t) for t in prediction.terms),
            undetermined=tuple(SpikeTermReport.of(t) for t in prediction.undetermined),
            spike_directions=directions,
        ),
        measured_spikes=spectrum.outliers,
        measured_spikes_initial=spectrum.initial_outliers,
        singular_values=_floats(spectrum.singular_values),
        bulk_edge=BulkEdgeB(
            initial_deflated=spectrum.bulk_edge_initial,
            updated_deflated=spectrum.bulk_edge_updated,
            outlier_threshold=spectrum.threshold,
        ),
        alignments=tuple(
            AlignmentB(**a, predicted_spike=(a["mechanism"], a["degree"]) in present)
            for a in spectrum.alignments
        ),
        train_error=result.network.train,
        test_error=result.network.test,
        hermite_model=HermiteModelB(
            degree=degree,
            scale_b=result.scale,
            train_error=model.train,
            test_error=model.test,
            linear_train_error=result.models[1].train,
            linear_test_error=result.models[1].test,
        ),
        gradient_overlap=GradientOverlapB(
            direction="c* = E[x y]" if config.task == "regression" else None,
            measured_c_hat=gradient["overlap_c_hat"],
            measured_gradient=gradient["overlap_gradient"],
            predicted=gradient["overlap_predicted"],
            c_hat_norm_squared=gradient["c_hat_norm_squared"],
            c_hat_norm_squared_predicted=gradient["c_hat_norm_squared_predicted"],
        ),
        gradient_spike=GradientSpikeB(
            top_singular_values=_floats(gradient["top_singular_values"]),
            predicted_top=gradient["predicted_top"],
            alignment_with_c_hat=gradient["c_hat_vs_gradient"],
        ),
    )


# ----------------------------------------------------------------------------
# Either model


def onestep(
    *,
    activation: FunctionLike,
    link: FunctionLike = "tanh",
    alpha: float | None = None,
    beta: float | None = None,
    weight: float | None = None,
    dim: int = 500,
    samples: int = 500,
    width: int = 500,
    data: str | None = None,
    noise: float = 0.0,
    ridge: float | None = None,
    seed: int = 0,
) -> OneStepA | OneStepB:
    """Model A when ``alpha`` is given, model B when ``beta`` and ``weight`` are.

    ``data`` defaults to isotropic data for model A (the only law it takes) and to the
    two-component mixture for model B; ``ridge`` to ``1e-2`` for A and ``1e-4`` for B.
    """
    sigma, star = as_function(activation), as_function(link)
    if (alpha is None) == (beta is None):
        raise DomainError("give either alpha (model A) or beta and weight (model B)")
    sizes = {"dim": dim, "samples": samples, "width": width}
    if alpha is not None:
        if weight is not None:
            raise DomainError("weight belongs to model B (beta); model A takes alpha only")
        if data not in (None, "isotropic"):
            raise DomainError("model A (alpha) takes isotropic data; leave data unset or use beta")
        return onestep_a(
            activation=sigma,
            link=star,
            alpha=alpha,
            **sizes,
            noise=noise,
            ridge=RIDGE_A if ridge is None else ridge,
            seed=seed,
        )
    if weight is None:
        raise DomainError("beta needs weight (the share of the learning rate, in [0, 1])")
    return onestep_b(
        activation=sigma,
        link=star,
        beta=beta,
        weight=weight,
        **sizes,
        data=data or "mixture",
        noise=noise,
        ridge=RIDGE_B if ridge is None else ridge,
        seed=seed,
    )


def _check_common(noise: float, seed: int) -> None:
    if not noise >= 0:
        raise DomainError(f"noise must be non-negative, got {noise}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DomainError(f"seed must be a non-negative integer, got {seed!r}")


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(values, dtype=float))
