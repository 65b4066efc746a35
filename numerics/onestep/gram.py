r"""One Gram matrix of a feature matrix, reused for its spectrum and its ridge solves.

For a feature matrix ``F`` (``n x p``, rows = samples) every quantity the one-step
simulations need comes from the Gram matrix in the smaller dimension,
``K = F^T F`` (``p <= n``) or ``K = F F^T`` (``n < p``), formed once (BLAS ``syrk``):

* spectra of ``P F`` for a left projection ``P = I - B B^T`` (``B``: ``n x q``
  orthonormal; column centring is ``B = 1/sqrt(n)``, deflation adds probe
  features): ``(P F)^T (P F) = K - C^T C`` with ``C = B^T F`` (``q x p``), or
  ``P K P`` on the sample side; the top eigenvalues by Lanczos (ARPACK) on a
  linear operator, so no projected copy of ``F`` or of ``K`` is made;
* ridge: ``w = (F^T F + c I)^{-1} F^T y`` and the resolvent
  ``c (F F^T + c I)^{-1} v``, both from one Cholesky factor of ``K + c I``
  (push-through identity ``(F F^T + c I)^{-1} = (I - F (F^T F + c I)^{-1} F^T)/c``).

The Cholesky factor overwrites ``K``: take every spectrum before calling
:meth:`Gram.factor`.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from scipy.sparse.linalg import LinearOperator, eigsh

#: Below this Gram size the spectrum is computed by a dense eigensolver, above by Lanczos.
DENSE_LIMIT = 800
#: Relative accuracy asked of Lanczos; eigenvalues are then accurate to about this.
LANCZOS_TOL = 1e-9


class Gram:
    """The Gram matrix of ``features`` in the smaller dimension (see the module docstring)."""

    def __init__(self, features: np.ndarray):
        self.features = features
        n, p = features.shape
        self.sample_side = p > n  # K = F F^T (n x n) instead of F^T F (p x p)
        self.matrix = features @ features.T if self.sample_side else features.T @ features
        self.size = min(n, p)
        self._factor: tuple[np.ndarray, bool] | None = None
        self.penalty = 0.0

    # -- spectra -------------------------------------------------------------

    def _projected(self, basis: np.ndarray | None):
        """The projected Gram matrix ``(P F)^T (P F)`` or ``P K P`` as a linear operator."""
        if self._factor is not None:
            raise RuntimeError("the Gram matrix was overwritten by its Cholesky factor")
        k = self.matrix
        if basis is None or basis.shape[1] == 0:
            return LinearOperator(k.shape, matvec=k.__matmul__, matmat=k.__matmul__, dtype=float)
        if self.sample_side:
            b = basis

            def apply(v):
                v = v - b @ (b.T @ v)
                w = k @ v
                return w - b @ (b.T @ w)

        else:
            c = basis.T @ self.features  # q x p

            def apply(v):
                return k @ v - c.T @ (c @ v)

        return LinearOperator(k.shape, matvec=apply, matmat=apply, dtype=float)

    def top(
        self,
        count: int,
        rng: np.random.Generator,
        basis: np.ndarray | None = None,
        vectors: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The ``count`` largest singular values of ``P F`` (descending), optionally with
        unit left singular vectors (``n x count``)."""
        count = min(count, self.size - 1)
        operator = self._projected(basis)
        if self.size <= DENSE_LIMIT:
            dense = operator.matmat(np.eye(self.size))
            values, vecs = sla.eigh(
                (dense + dense.T) / 2, subset_by_index=(self.size - count, self.size - 1)
            )
        else:
            values, vecs = eigsh(
                operator, k=count, which="LA", v0=rng.standard_normal(self.size), tol=LANCZOS_TOL
            )
        order = np.argsort(values)[::-1]
        values, vecs = values[order], vecs[:, order]
        singular = np.sqrt(np.maximum(values, 0.0))
        if not vectors:
            return singular, None
        if not self.sample_side:  # left vectors u = P F v / s
            left = self.features @ vecs
            if basis is not None and basis.shape[1]:
                left -= basis @ (basis.T @ left)
            vecs = left / np.where(singular > 0, singular, 1.0)
        return singular, vecs

    # -- ridge ---------------------------------------------------------------

    def factor(self, penalty: float) -> None:
        """Cholesky factor of ``K + penalty I`` in place (the spectra are no longer available)."""
        if penalty <= 0:
            raise ValueError("the ridge penalty must be positive")
        if self._factor is not None:
            raise RuntimeError("the Gram matrix is already factored")
        self.matrix[np.diag_indices_from(self.matrix)] += penalty
        self._factor = sla.cho_factor(self.matrix, overwrite_a=True, check_finite=False)
        self.penalty = penalty

    def _solve(self, rhs: np.ndarray) -> np.ndarray:
        if self._factor is None:
            raise RuntimeError("call factor(penalty) first")
        return sla.cho_solve(self._factor, rhs, check_finite=False)

    def coefficients(self, y: np.ndarray) -> np.ndarray:
        """``argmin_w ||y - F w||^2 + c ||w||^2`` (``c`` the factored penalty)."""
        f = self.features
        if self.sample_side:
            return f.T @ self._solve(y)
        return self._solve(f.T @ y)

    def resolvent(self, v: np.ndarray) -> np.ndarray:
        """``c (F F^T + c I)^{-1} v`` for ``v`` of shape ``(n,)`` or ``(n, q)``."""
        if self.sample_side:
            return self.penalty * self._solve(v)
        f = self.features
        return v - f @ self._solve(f.T @ v)
