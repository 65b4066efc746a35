"""featcheck: check theorems about gradient-based feature learning.

The public API. Everything listed in ``__all__`` is importable from ``featcheck``
directly; the rest of :mod:`featcheck.theory` (exact mathematics: sympy, mpmath)
and :mod:`featcheck.numerics` (floating point: numpy, scipy, numba) is
implementation. Names load on first use, so ``import featcheck`` is cheap::

    >>> import featcheck
    >>> expansion = featcheck.hermite_coefficients("relu", 4)
    >>> [str(c.exact) for c in expansion.coefficients[:3]]
    ['sqrt(2)/(2*sqrt(pi))', '1/2', '1/(2*sqrt(pi))']

Groups (see ``docs/api.md`` for each name):

* Hermite analysis: :func:`hermite_coefficients`, :func:`information_exponent`,
  :func:`second_moment`, :class:`HermiteExpansion`, :func:`hermite_he`, :func:`hermite_h`.
* Functions and the safe parser: :class:`Function`, :func:`parse_function`,
  :func:`parse_expression`.
* Gaussian identities: :func:`mehler` (the Mehler kernel ``psi_{f,g}(rho)``).
* Models and flows: :func:`spiked_model`, :func:`isotropic_model`,
  :class:`SpikedCovariance`, :func:`spiked_flow`, :class:`OdeSystem`,
  :func:`compile_system`, :func:`integrate`.
* What the commands compute, as functions with keyword arguments returning results
  with ``to_json()``: :func:`flow` (``featcheck flow``), :func:`linear_flow` and
  :func:`check_bound` (``featcheck linear``, ``check-bound``), :func:`onestep`,
  :func:`exponent` and :func:`sweep`.
* Committee models (teacher-student two-layer networks) as data, their overlap ODEs
  derived symbolically, integrated and simulated exactly: :func:`committee_model`,
  :func:`load_committee_model`, :func:`derive_ode`, :func:`integrate_committee`,
  :func:`simulate_committee`, :func:`gaussian_expectation`, :func:`link_exponents`.
* Exponents: :func:`predict_exponent`, :func:`preconditioning_gain`.
* Derivation documents: :class:`Derivation`.
* Claims: :func:`claim`, :class:`Provenance` (with :func:`printed`, :func:`derived`,
  :func:`reading`, :func:`open_question`, :class:`Paper`), :class:`ClaimContext`, :class:`Evidence`,
  :class:`Check`, the rules :func:`within`, :func:`contains`, :func:`holds_if`,
  :func:`run_claim`, :func:`load_claims`, :func:`load_user_claims`; pytest helpers in
  :mod:`featcheck.testing`.
* Property testing: :mod:`featcheck.strategies` (hypothesis strategies).
* Errors: :class:`FeatcheckError`, :class:`InputError`, :class:`NumericalError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str

#: public name -> "module:attribute" (attribute empty: the module itself)
_EXPORTS: dict[str, str] = {
    # Hermite analysis
    "hermite_coefficients": "featcheck.theory.hermite:hermite_coefficients",
    "information_exponent": "featcheck.theory.hermite:information_exponent",
    "second_moment": "featcheck.theory.hermite:second_moment",
    "HermiteExpansion": "featcheck.theory.hermite:HermiteExpansion",
    "Coefficient": "featcheck.theory.hermite:Coefficient",
    "hermite_he": "featcheck.theory.functions:hermite_he",
    "hermite_h": "featcheck.theory.functions:hermite_h",
    # functions and the parser
    "Function": "featcheck.theory.functions:Function",
    "parse_function": "featcheck.theory.functions:parse_function",
    "parse_expression": "featcheck.theory.parsing:parse_expression",
    # Gaussian identities
    "mehler": "featcheck.theory.gaussian:mehler",
    "MehlerKernel": "featcheck.theory.gaussian:MehlerKernel",
    # models and flows
    "SpikedCovariance": "featcheck.theory.models:SpikedCovariance",
    "SingleIndexModel": "featcheck.theory.models:SingleIndexModel",
    "spiked_model": "featcheck.theory.models:spiked_model",
    "isotropic_model": "featcheck.theory.models:isotropic_model",
    "spiked_flow": "featcheck.theory.dynamics.spiked:spiked_flow",
    "OdeSystem": "featcheck.theory.dynamics:OdeSystem",
    "FixedPoint": "featcheck.theory.dynamics:FixedPoint",
    "compile_system": "featcheck.numerics.ode:compile_system",
    "integrate": "featcheck.numerics.ode:integrate",
    # what the commands compute, as library functions returning JSON-ready results
    "flow": "featcheck.numerics.spiked.flow:flow",
    "FlowResult": "featcheck.numerics.spiked.flow:FlowResult",
    "linear_flow": "featcheck.numerics.linear.trajectory:linear_flow",
    "LinearFlowResult": "featcheck.numerics.linear.trajectory:LinearFlowResult",
    "check_bound": "featcheck.numerics.linear.bounds:check_bound",
    "BoundCheck": "featcheck.numerics.linear.bounds:BoundCheck",
    "onestep": "featcheck.numerics.onestep.run:onestep",
    "OneStepA": "featcheck.numerics.onestep.run:OneStepA",
    "OneStepB": "featcheck.numerics.onestep.run:OneStepB",
    "exponent": "featcheck.numerics.exponents.predicted:exponent",
    "ExponentReport": "featcheck.numerics.exponents.predicted:ExponentReport",
    "sweep": "featcheck.numerics.exponents.sweep:sweep",
    "SweepReport": "featcheck.numerics.exponents.sweep:SweepReport",
    # committee models: the dynamics engine
    "CommitteeModel": "featcheck.theory.committee.model:CommitteeModel",
    "committee_model": "featcheck.theory.committee.model:committee_model",
    "load_committee_model": "featcheck.theory.committee.model:load_model",
    "derive_ode": "featcheck.theory.committee.overlap_ode:derive_ode",
    "CommitteeOde": "featcheck.theory.committee.overlap_ode:CommitteeOde",
    "gaussian_expectation": "featcheck.theory.committee.expectations:gaussian_expectation",
    "symmetric_subspace": "featcheck.theory.committee.plateaus:symmetric_subspace",
    "link_exponents": "featcheck.theory.committee.leap:link_exponents",
    "LinkExponents": "featcheck.theory.committee.leap:LinkExponents",
    "integrate_committee": "featcheck.numerics.committee.dynamics:integrate_committee",
    "CommitteeTrajectory": "featcheck.numerics.committee.dynamics:CommitteeTrajectory",
    "simulate_committee": "featcheck.numerics.committee.dynamics:simulate_committee",
    "CommitteeSimulation": "featcheck.numerics.committee.dynamics:CommitteeSimulation",
    # exponents
    "predict_exponent": "featcheck.theory.exponents:predict",
    "preconditioning_gain": "featcheck.theory.exponents:preconditioning_gain",
    # derivation documents
    "Derivation": "featcheck.theory.derivation:Derivation",
    # claims
    "claim": "featcheck.numerics.claims.base:claim",
    "Claim": "featcheck.numerics.claims.base:Claim",
    "ClaimContext": "featcheck.numerics.claims.base:ClaimContext",
    "Evidence": "featcheck.numerics.claims.base:Evidence",
    "Check": "featcheck.numerics.claims.base:Check",
    "Status": "featcheck.numerics.claims.base:Status",
    "within": "featcheck.numerics.claims.base:within",
    "contains": "featcheck.numerics.claims.base:contains",
    "holds_if": "featcheck.numerics.claims.base:holds_if",
    "run_claim": "featcheck.numerics.claims.base:run_claim",
    "load_claims": "featcheck.numerics.claims:load",
    "load_user_claims": "featcheck.numerics.claims:load_user_claims",
    "testing": "featcheck.testing:",
    "Provenance": "featcheck.numerics.claims.provenance:Provenance",
    "Paper": "featcheck.numerics.claims.provenance:Paper",
    "printed": "featcheck.numerics.claims.provenance:printed",
    "derived": "featcheck.numerics.claims.provenance:derived",
    "reading": "featcheck.numerics.claims.provenance:reading",
    "open_question": "featcheck.numerics.claims.provenance:open_question",
    # property testing
    "strategies": "featcheck.numerics.strategies:",
    # errors
    "FeatcheckError": "featcheck.theory.errors:FeatcheckError",
    "InputError": "featcheck.theory.errors:InputError",
    "NumericalError": "featcheck.theory.errors:NumericalError",
}

__all__ = [
    "BoundCheck",
    "Check",
    "Claim",
    "ClaimContext",
    "Coefficient",
    "CommitteeModel",
    "CommitteeOde",
    "CommitteeSimulation",
    "CommitteeTrajectory",
    "Derivation",
    "Evidence",
    "ExponentReport",
    "FeatcheckError",
    "FixedPoint",
    "FlowResult",
    "Function",
    "HermiteExpansion",
    "InputError",
    "LinearFlowResult",
    "LinkExponents",
    "MehlerKernel",
    "NumericalError",
    "OdeSystem",
    "OneStepA",
    "OneStepB",
    "Paper",
    "Provenance",
    "SingleIndexModel",
    "SpikedCovariance",
    "Status",
    "SweepReport",
    "__version__",
    "check_bound",
    "claim",
    "committee_model",
    "compile_system",
    "contains",
    "derive_ode",
    "derived",
    "exponent",
    "flow",
    "gaussian_expectation",
    "hermite_coefficients",
    "hermite_h",
    "hermite_he",
    "holds_if",
    "information_exponent",
    "integrate",
    "integrate_committee",
    "isotropic_model",
    "linear_flow",
    "link_exponents",
    "load_claims",
    "load_committee_model",
    "load_user_claims",
    "mehler",
    "onestep",
    "open_question",
    "parse_expression",
    "parse_function",
    "preconditioning_gain",
    "predict_exponent",
    "printed",
    "reading",
    "run_claim",
    "second_moment",
    "simulate_committee",
    "spiked_flow",
    "spiked_model",
    "strategies",
    "sweep",
    "symmetric_subspace",
    "testing",
    "within",
]


def _package_version() -> str:
    # read on first use: importlib.metadata costs more than the rest of ``import featcheck``
    from importlib import metadata

    try:
        return metadata.version("featcheck")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()[name] = version = _package_version()
        return version
    try:
        target = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'featcheck' has no attribute {name!r}") from None
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static analysers see the real objects
    from featcheck import testing
    from featcheck.numerics import strategies
    from featcheck.numerics.claims import load as load_claims
    from featcheck.numerics.claims import load_user_claims
    from featcheck.numerics.claims.base import (
        Check,
        Claim,
        ClaimContext,
        Evidence,
        Status,
        claim,
        contains,
        holds_if,
        run_claim,
        within,
    )
    from featcheck.numerics.claims.provenance import (
        Paper,
        Provenance,
        derived,
        open_question,
        printed,
        reading,
    )
    from featcheck.numerics.committee.dynamics import (
        CommitteeSimulation,
        CommitteeTrajectory,
        integrate_committee,
        simulate_committee,
    )
    from featcheck.numerics.exponents.predicted import ExponentReport, exponent
    from featcheck.numerics.exponents.sweep import SweepReport, sweep
    from featcheck.numerics.linear.bounds import BoundCheck, check_bound
    from featcheck.numerics.linear.trajectory import LinearFlowResult, linear_flow
    from featcheck.numerics.ode import compile_system, integrate
    from featcheck.numerics.onestep.run import OneStepA, OneStepB, onestep
    from featcheck.numerics.spiked.flow import FlowResult, flow
    from featcheck.theory.committee.expectations import gaussian_expectation
    from featcheck.theory.committee.leap import LinkExponents, link_exponents
    from featcheck.theory.committee.model import CommitteeModel, committee_model
    from featcheck.theory.committee.model import load_model as load_committee_model
    from featcheck.theory.committee.overlap_ode import CommitteeOde, derive_ode
    from featcheck.theory.committee.plateaus import symmetric_subspace
    from featcheck.theory.derivation import Derivation
    from featcheck.theory.dynamics import FixedPoint, OdeSystem
    from featcheck.theory.dynamics.spiked import spiked_flow
    from featcheck.theory.errors import FeatcheckError, InputError, NumericalError
    from featcheck.theory.exponents import preconditioning_gain
    from featcheck.theory.exponents import predict as predict_exponent
    from featcheck.theory.functions import Function, hermite_h, hermite_he, parse_function
    from featcheck.theory.gaussian import MehlerKernel, mehler
    from featcheck.theory.hermite import (
        Coefficient,
        HermiteExpansion,
        hermite_coefficients,
        information_exponent,
        second_moment,
    )
    from featcheck.theory.models import (
        SingleIndexModel,
        SpikedCovariance,
        isotropic_model,
        spiked_model,
    )
    from featcheck.theory.parsing import parse_expression
