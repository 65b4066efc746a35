"""Committee models whose initial overlaps are those of actual random vectors, shared by the
simulator tests of the learner variants and losses."""

from __future__ import annotations

import numpy as np

from featcheck.theory.committee.model import CommitteeModel, committee_model

ERF = "erf(z/sqrt(2))"


def vector_model(
    variant: str,
    K: int,
    M: int,
    kappa=(),
    *,
    convention: str = "ba",
    eta="1",
    trained: bool = False,
    loss: str | None = None,
    noise=0,
    seed_offset: int = 0,
) -> CommitteeModel:
    """erf student and committee teacher; the overlaps of random unit teacher directions,
    orthonormal spikes and random students (unit for the variants that keep them on the
    sphere, of norm 0.8 otherwise), drawn with seed ``1000 K + 100 M + 10 R + seed_offset``;
    ``loss=None`` leaves the model's default loss."""
    R = len(kappa)
    rng = np.random.default_rng(1000 * K + 100 * M + 10 * R + seed_offset)
    n = K + M + R
    Theta = np.eye(n + 2)[:R]
    U = rng.standard_normal((M, n + 2))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    W = rng.standard_normal((K, n + 2))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    if variant in ("plain", "preconditioned"):
        W *= 0.8
    Q0 = np.round(W @ W.T, 8)
    if variant in ("spherical", "normalized"):
        np.fill_diagonal(Q0, 1.0)
    spiked = (
        dict(
            covariance="spiked",
            kappa=list(kappa),
            convention=convention,
            spike_overlaps=np.round(U @ Theta.T, 8).tolist(),
            S0=np.round(W @ Theta.T, 8).tolist(),
        )
        if R
        else {}
    )
    chosen = {} if loss is None else {"loss": loss}
    return committee_model(
        student_activation=ERF,
        student_width=K,
        teacher_activation=ERF,
        teacher_width=M,
        teacher_overlaps=np.round(U @ U.T, 8).tolist(),
        learning_rate=eta,
        variant=variant,
        noise=noise,
        Q0=Q0.tolist(),
        M0=np.round(W @ U.T, 8).tolist(),
        train_second_layer=trained,
        **spiked,
        **chosen,
    )
