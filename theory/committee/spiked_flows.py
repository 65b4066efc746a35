r"""The spiked single-index flows as instances of the committee engine.

The three flows of one neuron of Mousavi-Hosseini, Wu, Suzuki, Erdogdu (NeurIPS 2023,
arXiv 2309.03843), derived in :mod:`featcheck.theory.dynamics.spiked.flows` from the risk as
a function of ``w^T Sigma w`` and ``w^T Sigma u``, are committee models with ``K = M = 1``,
one spike and gradient flow:

* data ``Sigma = alpha (I + kappa theta theta^T)`` (the flows' convention: ``alpha = 1``,
  ``ba``, or ``1/(1 + kappa)``, ``unit``);
* teacher ``y = g(<u, x>/sigma_u)``, ``sigma_u^2 = u^T Sigma u = alpha (1 + kappa c^2)``,
  ``||u|| = 1``, ``c = <u, theta>``: a committee of one unit with activation
  ``g(z/sigma_u)``, ``P = 1``, ``T = c``;
* student ``phi``, second layer 1; learner variant ``spherical`` for the flows' ``plain``,
  ``normalized`` and ``preconditioned`` for theirs;
* summary statistics ``a = <w, theta> = S_11``, ``b = <w, u> = M_11``, ``q = ||w||^2 = Q_11``.

The engine evaluates its Gaussian expectations by Stein's lemma, tilting and sign laws; the
flows go through the Hermite coefficients of ``phi(sigma .)`` and the frame ``(w, theta, u)``.
Two independent routes to the same right-hand sides: :func:`instance_rates` evaluates both.

:func:`two_index_model` adds a second, orthogonal index to the same setting:
``y = g(<u_1, x>/sigma_1) + g(<u_2, x>/sigma_2)`` with ``u_1 = theta`` (aligned with the spike)
and ``u_2`` orthogonal to it, learned by one neuron.
"""

from __future__ import annotations

import math
from typing import Any

import sympy as sp

from featcheck.theory.committee.model import CommitteeModel, committee_model, link_variables
from featcheck.theory.committee.overlap_ode import ETA, derive_ode
from featcheck.theory.dynamics.spiked.flows import spiked_flow
from featcheck.theory.functions import FunctionLike, as_function, z
from featcheck.theory.models import SpikedCovariance
from featcheck.theory.models import a as A
from featcheck.theory.models import b as B
from featcheck.theory.models import c as C
from featcheck.theory.models import kappa as KAPPA

#: The engine's learner variant of each spiked flow.
VARIANT_OF_FLOW = {
    "plain": "spherical",
    "normalized": "normalized",
    "preconditioned": "preconditioned",
}


def spiked_flow_model(
    flow: str,
    activation: FunctionLike,
    link: FunctionLike,
    *,
    convention: str,
    kappa: sp.Expr,
    c: sp.Expr,
    a: sp.Expr,
    b: sp.Expr,
    q: sp.Expr = sp.S.One,
) -> CommitteeModel:
    """The committee model of the spiked ``flow`` at strength ``kappa``, alignment ``c`` and
    the state ``(a, b)`` (``q = ||w||^2`` too when preconditioned; 1 otherwise)."""
    kappa, c = sp.nsimplify(kappa), sp.nsimplify(c)
    sigma_u = sp.sqrt(SpikedCovariance(kappa, convention).sigma_u2(c))
    return single_index_model(
        flow,
        activation,
        link,
        sigma_u=sigma_u,
        convention=convention,
        kappa=kappa,
        c=c,
        a=a,
        b=b,
        q=q,
    )


def single_index_model(
    flow: str,
    activation: FunctionLike,
    link: FunctionLike,
    *,
    sigma_u: Any,
    convention: str,
    kappa: Any,
    c: Any,
    a: Any,
    b: Any,
    q: Any = 1,
    algorithm: str = "gradient-flow",
    learning_rate: Any = 1,
    loss: str = "square",
    noise: Any = 0,
    name: str | None = None,
) -> CommitteeModel:
    """One student, one teacher direction ``u`` and one spike ``theta`` with ``<u, theta> =
    c``: the teacher ``g(z/sigma_u)`` (``sigma_u = ||Sigma^(1/2) u||``, given exact or
    numeric), the engine's learner of ``flow`` (:data:`VARIANT_OF_FLOW`), the start
    ``<w, theta> = a``, ``<w, u> = b``, ``||w||^2 = q``."""
    g = as_function(link)
    return committee_model(
        student_activation=as_function(activation),
        student_width=1,
        teacher_activation=g.expr.subs(z, z / sigma_u),
        teacher_width=1,
        noise=noise,
        algorithm=algorithm,
        learning_rate=learning_rate,
        variant=VARIANT_OF_FLOW[flow],
        loss=loss,
        Q0=[[q]],
        M0=[[b]],
        covariance="spiked",
        kappa=[kappa],
        convention=convention,
        spike_overlaps=[[c]],
        S0=[[a]],
        name=name or f"spiked-{flow}",
    )


def admissible_state(c: float, q: float, along: float, across: float) -> tuple[float, float]:
    """``(a, b)`` of a ``w`` with ``||w||^2 = q`` beside unit ``theta`` and ``u``,
    ``<u, theta> = c``: ``a = along sqrt(q)`` and ``b = a c + across sqrt((q - a^2)(1 - c^2))``,
    so the Gram matrix ``[[q, b, a], [b, 1, c], [a, c, 1]]`` is positive semi-definite for
    ``|along|, |across| <= 1`` (definite when both are below 1 and ``|c| < 1``)."""
    a = along * math.sqrt(q)
    return a, a * c + across * math.sqrt((q - a * a) * (1 - c * c))


def instance_rates(
    flow: str,
    activation: FunctionLike,
    link: FunctionLike,
    *,
    convention: str,
    kappa: sp.Expr,
    c: sp.Expr,
    a: sp.Expr,
    b: sp.Expr,
    q: sp.Expr = sp.S.One,
    digits: int = 30,
) -> tuple[list[sp.Float], list[sp.Float]]:
    """``(engine, flows)``: the rates ``(da/dt, db/dt[, dq/dt])`` of both derivations at one
    point, evaluated to ``digits`` significant digits."""
    point = {"kappa": kappa, "c": c, "a": a, "b": b, "q": q}
    point = {k: sp.nsimplify(v) for k, v in point.items()}
    model = spiked_flow_model(flow, activation, link, convention=convention, **point)
    ode = derive_ode(model)
    Q11, M11, S11 = ode.system.state
    values = {Q11: point["q"], M11: point["b"], S11: point["a"], ETA: 1}
    engine = {
        s: sp.N(r.xreplace(values), digits)
        for s, r in zip(ode.system.state, ode.system.rhs, strict=True)
    }
    family = spiked_flow(flow, activation, link, convention=convention).general
    at = {A: point["a"], B: point["b"], C: point["c"], KAPPA: point["kappa"]}
    if len(family.state) == 3:
        at[family.state[2]] = point["q"]
    theirs = [sp.N(r.xreplace(at), digits) for r in family.rhs]
    ours = [engine[S11], engine[M11]] + ([engine[Q11]] if len(family.state) == 3 else [])
    return ours, theirs


def two_index_model(
    variant: str,
    *,
    kappa: sp.Expr,
    start: tuple[sp.Expr, sp.Expr],
    activation: FunctionLike = "relu",
    link: FunctionLike = "-he(4, z)/sqrt(24)",
    algorithm: str = "gradient-flow",
    learning_rate: sp.Expr = sp.S.One,
) -> CommitteeModel:
    """One neuron learning ``F = g(nu_1/sigma_1) + g(nu_2/sigma_2)`` under ``Sigma = (I + kappa
    theta theta^T)/(1 + kappa)`` (the unit scale), ``u_1 = theta``, ``u_2`` orthogonal to
    ``theta``, so ``sigma_1 = 1`` and ``sigma_2^2 = 1/(1 + kappa)``; the neuron starts on the unit
    sphere with ``<w, u_1> = <w, theta> = start[0]`` and ``<w, u_2> = start[1]``.

    ``variant`` is a learner variant of the engine (``spherical`` is the spiked flows' plain
    flow); the default link ``-h_4`` (``h_4 = He_4/sqrt(24)``) is the one under which the plain
    single-index flow of a ReLU neuron fails to leave the equator.
    """
    kappa = sp.nsimplify(kappa)
    g = as_function(link)
    sigma_2 = sp.sqrt(1 / (1 + kappa))
    z1, z2 = link_variables(2)
    expr = g.expr.subs(z, z1) + g.expr.subs(z, z2 / sigma_2)
    m1, m2 = (sp.nsimplify(v) for v in start)
    return committee_model(
        student_activation=activation,
        student_width=1,
        link=expr,
        teacher_width=2,
        algorithm=algorithm,
        learning_rate=learning_rate,
        variant=variant,
        Q0=[[1]],
        M0=[[m1, m2]],
        covariance="spiked",
        kappa=[kappa],
        convention="unit",
        spike_overlaps=[[1], [0]],
        S0=[[m1]],
        name=f"spiked-two-index-{variant}",
    )
