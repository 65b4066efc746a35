"""``predict(learner)``: the prediction of one learner, built once and then copied.

Learners (:data:`LEARNERS`): the isotropic table ``online``, ``smoothed``, ``csq``,
``kernel`` (:mod:`featcheck.theory.exponents.isotropic`), the spiked conventions
``spiked-online`` (A) and ``spiked-batch`` (B) (:mod:`featcheck.theory.exponents.spiked`)
and the order of the initial overlap ``rho0`` (:mod:`featcheck.theory.exponents.rho0`).
"""

from __future__ import annotations

import copy
from functools import cache

from featcheck.theory.errors import DomainError
from featcheck.theory.exponents.isotropic import (
    csq_prediction,
    kernel_prediction,
    online_prediction,
    smoothed_prediction,
)
from featcheck.theory.exponents.prediction import Prediction
from featcheck.theory.exponents.rho0 import rho0_prediction
from featcheck.theory.exponents.spiked import spiked_prediction
from featcheck.theory.names import LEARNERS, SPIKED_LEARNERS


def _check(learner: str, effective_dimension: bool) -> None:
    if learner not in LEARNERS:
        raise DomainError(f"unknown learner {learner!r}: choose one of {', '.join(LEARNERS)}")
    if effective_dimension and learner not in SPIKED_LEARNERS:
        raise DomainError("the effective-dimension switch applies to spiked learners only")


def predict(learner: str, effective_dimension: bool = False) -> Prediction:
    """The :class:`Prediction` of one learner (see :data:`LEARNERS`).

    ``effective_dimension`` (spiked learners only) replaces the prefactor ``d`` by
    ``d/kappa``.  The result is a copy: changing it does not change later predictions.
    """
    _check(learner, effective_dimension)
    return copy.deepcopy(_predict(learner, effective_dimension))


@cache
def _predict(learner: str, effective_dimension: bool) -> Prediction:
    builders = {
        "online": online_prediction,
        "smoothed": smoothed_prediction,
        "csq": csq_prediction,
        "kernel": kernel_prediction,
        "rho0": rho0_prediction,
        "spiked-online": lambda: spiked_prediction("A", effective_dimension),
        "spiked-batch": lambda: spiked_prediction("B", effective_dimension),
    }
    return builders[learner]()
