"""Online spherical SGD of the exponents family, run by the committee simulators.

A configuration :class:`~featcheck.numerics.exponents.spherical_sgd.OnlineSGD` is a committee
model with one student and one teacher direction (:func:`committee_model_of`): ``x ~ N(0,
Sigma)``, ``Sigma = (I + kappa theta theta^T)/(1 + kappa)`` (the ``unit`` convention),
``<u, theta> = c``, the teacher ``g(z/sigma_u)``, and the learners

* ``plain``: the committee ``spherical`` learner (the gradient projected on the sphere's
  tangent space, then renormalised);
* ``normalized`` and ``preconditioned``: the committee learners of those names (the
  preconditioned one keeps ``||Sigma^(1/2) w|| = 1``).

The family's step size ``eta`` is the committee learning rate ``eta d`` (whose step is
``eta/d``).  Every replica starts uniformly on the Euclidean sphere (moved along its own
direction to the ``Sigma``-sphere when preconditioned), drawn exactly in the overlaps, and
stops at its hitting time.  :func:`simulate` runs the exact reduced simulator
(:func:`featcheck.numerics.committee.simulators.simulate_reduced`, ``O(1)`` work per step in
``d``), :func:`simulate_full` the full-dimensional one, which is the oracle; the derivation
of the reduction is ``docs/derivations/exponent-reduced-simulator.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from featcheck.numerics.exponents.spherical_sgd import RELU, Link, OnlineSGD, whitened_overlap
from featcheck.theory.committee.model import CommitteeModel
from featcheck.theory.committee.spiked_flows import single_index_model
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import z

#: Bump when the simulator's law or output changes: cached cells of the old version are
#: then ignored (:mod:`featcheck.numerics.exponents.cell_cache`).
SIMULATOR_VERSION = "committee-1"


@dataclass
class RunResult:
    """Hitting steps (``-1``: censored at ``max_steps``) and snapshots ``(a, b, overlap)``
    with ``a = <w, theta>``, ``b = <w, u>`` and the overlap the hitting rule watches (signed)."""

    hits: np.ndarray
    snapshots: np.ndarray  # (replicas, len(snapshot_steps), 3), NaN where not reached
    snapshot_steps: np.ndarray
    max_steps: int

    @property
    def censored(self) -> np.ndarray:
        return self.hits < 0


def link_expression(link: Link) -> sp.Expr:
    """The function of ``z`` a :class:`Link` stands for: ReLU, or its monic Hermite series
    ``sum_k c_k He_k(z)``."""
    if link.kind == RELU:
        return sp.Max(z, 0)
    return sp.Add(
        *(sp.Float(c, 17) * sp.hermite_prob(k, z) for k, c in enumerate(link.coefficients) if c)
    )


@lru_cache(maxsize=256)
def committee_model_of(config: OnlineSGD) -> CommitteeModel:
    """The committee model of ``config``: one spike ``theta`` (of strength 0 for isotropic
    data), the step size ``eta d``; the initial overlaps are a placeholder, as every run
    starts uniformly on the sphere."""
    kappa, c = float(config.kappa), float(config.c)
    return single_index_model(
        config.variant,
        link_expression(config.student),
        link_expression(config.link),
        sigma_u=sp.Float(np.sqrt((1 + kappa * c * c) / (1 + kappa)), 17),
        convention="unit",
        kappa=kappa,
        c=c,
        a=0,
        b=0,
        algorithm="online-sgd",
        learning_rate=float(config.eta) * int(config.d),
        loss=config.loss,
        noise=float(config.noise),
        name=f"online-sgd-{config.variant}",
    )


def _run(
    config: OnlineSGD,
    replicas: int,
    max_steps: int,
    seed: int | np.random.SeedSequence,
    snapshot_steps,
    stop_at_hit: bool,
    full: bool,
) -> RunResult:
    from featcheck.numerics.committee.simulators import Hitting, simulate_full, simulate_reduced

    if replicas < 1:
        raise DomainError(f"need at least one replica, got {replicas}")
    if max_steps < 1:
        raise DomainError(f"the step budget must be at least 1, got {max_steps}")
    steps = np.asarray(sorted(int(t) for t in snapshot_steps), dtype=np.int64)
    if steps.size and (steps[0] < 0 or steps[-1] > max_steps):
        raise DomainError(f"snapshot steps must lie in [0, {max_steps}]")
    d = int(config.d)
    model = committee_model_of(config)
    overlap = config.overlap
    hitting = Hitting(float(config.threshold), overlap, bool(config.absolute), bool(stop_at_hit))
    simulate = simulate_full if full else simulate_reduced
    run = simulate(
        model,
        dim=d,
        replicas=replicas,
        times=(steps if steps.size else np.zeros(1, dtype=np.int64)) / d,
        seed=seed,
        start="uniform",
        hitting=hitting,
        until=max_steps / d,
    )
    snapshots = np.full((replicas, steps.size, 3), np.nan)
    if steps.size:
        snapshots[:, :, 1] = run.M[:, :, 0, 0]
        q = run.Q[:, :, 0, 0]
        a = snapshots[:, :, 0] = run.S[:, :, 0, 0]
        b = snapshots[:, :, 1]
        if overlap == "u":
            snapshots[:, :, 2] = b / np.sqrt(q)
        else:
            snapshots[:, :, 2] = whitened_overlap(a, b, float(config.kappa), float(config.c), q)
    return RunResult(run.hits, snapshots, steps, int(max_steps))


def simulate(
    config: OnlineSGD,
    replicas: int,
    max_steps: int,
    seed: int | np.random.SeedSequence,
    snapshot_steps=(),
    stop_at_hit: bool = True,
) -> RunResult:
    """Run ``replicas`` independent replicas of ``config`` for at most ``max_steps`` steps with
    the exact reduced simulator.

    ``stop_at_hit``: stop a replica at its hitting time (snapshots after it are NaN);
    otherwise every replica runs to the last snapshot (or to its hit, whichever is later).
    """
    return _run(config, replicas, max_steps, seed, snapshot_steps, stop_at_hit, full=False)


def simulate_full(
    config: OnlineSGD,
    replicas: int,
    max_steps: int,
    seed: int | np.random.SeedSequence,
    snapshot_steps=(),
    stop_at_hit: bool = True,
) -> RunResult:
    """As :func:`simulate`, with the weights in ``R^d`` (the oracle)."""
    return _run(config, replicas, max_steps, seed, snapshot_steps, stop_at_hit, full=True)
