r"""Order parameters and the joint Gaussian law of the local fields.

For ``x ~ N(0, I_d)`` the local fields ``lambda_k = <w_k, x>`` (student, ``k <= K``) and
``nu_m = <u_m, x>`` (teacher, ``m <= M``) are jointly Gaussian, centred, with covariance

    Omega = [[Q, M], [M^T, P]],   Q = W W^T,  M = W U^T,  P = U U^T,

whatever ``d``: an expectation over ``x`` of a function of the local fields is a
Gaussian integral over ``K + M`` variables whose covariance is made of the order parameters.
:class:`LocalFields` holds the symbols: the fields, the entries of ``Q`` (one per unordered
pair), ``M``, ``P``, the student's second layer ``a_k`` and the covariance ``Omega``.

Under a spiked covariance ``Sigma = I_d + sum_r kappa_r theta_r theta_r^T`` (orthonormal
``theta_r``, ``R`` spikes) the spike fields ``xi_r = <theta_r, x>`` join them, with the
overlaps ``S = W Theta^T`` (state) and ``T = U Theta^T`` (fixed); with ``K = diag(kappa)``,

    Cov(lambda) = Q + S K S^T,      Cov(lambda, nu) = M + S K T^T,   Cov(nu) = P + T K T^T,
    Cov(lambda, xi) = S (I + K),    Cov(nu, xi) = T (I + K),         Cov(xi) = I + K.

The expectations are then taken with a covariance of generic symbols ``Omega_ij``
(:attr:`LocalFields.covariance`), replaced by these entries afterwards
(:meth:`LocalFields.spiked_covariance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import sympy as sp


@dataclass(frozen=True)
class LocalFields:
    """Symbols of the order parameters and of the local fields for widths ``K`` and ``M``."""

    K: int
    M: int
    R: int = 0

    @cached_property
    def lam(self) -> tuple[sp.Symbol, ...]:
        """The student fields ``lambda_1, ..., lambda_K``."""
        return tuple(sp.Symbol(f"lambda_{k}", real=True) for k in range(1, self.K + 1))

    @cached_property
    def nu(self) -> tuple[sp.Symbol, ...]:
        """The teacher fields ``nu_1, ..., nu_M``."""
        return tuple(sp.Symbol(f"nu_{m}", real=True) for m in range(1, self.M + 1))

    @cached_property
    def xi(self) -> tuple[sp.Symbol, ...]:
        """The spike fields ``xi_1, ..., xi_R`` (none for isotropic data)."""
        return tuple(sp.Symbol(f"xi_{r}", real=True) for r in range(1, self.R + 1))

    @property
    def fields(self) -> tuple[sp.Symbol, ...]:
        """``(lambda_1, ..., lambda_K, nu_1, ..., nu_M, xi_1, ..., xi_R)``, the order of
        ``Omega``."""
        return self.lam + self.nu + self.xi

    def s(self, k: int, r: int) -> sp.Symbol:
        """``S_kr = <w_k, theta_r>``."""
        return sp.Symbol(f"S_{k + 1}{r + 1}", real=True)

    @cached_property
    def s_entries(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.s(k, r) for k in range(self.K) for r in range(self.R))

    def omega(self, i: int, j: int) -> sp.Symbol:
        """The generic covariance entry ``Omega_ij`` of fields ``i`` and ``j`` (0-based)."""
        i, j = min(i, j), max(i, j)
        name = f"Omega_{i + 1}{j + 1}" if j < 9 else f"Omega_{i + 1},{j + 1}"
        return sp.Symbol(name, positive=True) if i == j else sp.Symbol(name, real=True)

    def q(self, k: int, j: int) -> sp.Symbol:
        """``Q_kj = <w_k, w_j>`` (0-based indices; one symbol per unordered pair)."""
        i, j = min(k, j), max(k, j)
        name = f"Q_{i + 1}{j + 1}"
        return sp.Symbol(name, positive=True) if i == j else sp.Symbol(name, real=True)

    def m(self, k: int, m: int) -> sp.Symbol:
        """``M_km = <w_k, u_m>``."""
        return sp.Symbol(f"M_{k + 1}{m + 1}", real=True)

    def p(self, m: int, n: int) -> sp.Symbol:
        """``P_mn = <u_m, u_n>`` (fixed by the teacher)."""
        i, j = min(m, n), max(m, n)
        name = f"P_{i + 1}{j + 1}"
        return sp.Symbol(name, positive=True) if i == j else sp.Symbol(name, real=True)

    def a(self, k: int) -> sp.Symbol:
        """The student's second-layer weight ``a_k``."""
        return sp.Symbol(f"a_{k + 1}", real=True)

    @cached_property
    def q_entries(self) -> tuple[sp.Symbol, ...]:
        """``Q_11, Q_12, ..., Q_KK`` (upper triangle, row by row)."""
        return tuple(self.q(k, j) for k in range(self.K) for j in range(k, self.K))

    @cached_property
    def m_entries(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.m(k, m) for k in range(self.K) for m in range(self.M))

    @cached_property
    def p_entries(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.p(m, n) for m in range(self.M) for n in range(m, self.M))

    @cached_property
    def second_layer(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.a(k) for k in range(self.K))

    @cached_property
    def covariance(self) -> sp.Matrix:
        """``Omega = [[Q, M], [M^T, P]]`` in the order of :attr:`fields`; under a spiked
        covariance, the generic symbols ``Omega_ij`` (see :meth:`spiked_covariance`)."""
        K, M = self.K, self.M
        if self.R:
            n = K + M + self.R
            return sp.Matrix(n, n, lambda i, j: self.omega(i, j))

        def entry(i: int, j: int) -> sp.Symbol:
            if i < K and j < K:
                return self.q(i, j)
            if i < K:
                return self.m(i, j - K)
            if j < K:
                return self.m(j, i - K)
            return self.p(i - K, j - K)

        return sp.Matrix(K + M, K + M, entry)

    @cached_property
    def generic_covariance(self) -> sp.Matrix:
        """The covariance of :attr:`fields` as generic symbols ``Omega_ij`` (any ``R``)."""
        n = len(self.fields)
        return sp.Matrix(n, n, lambda i, j: self.omega(i, j))

    @cached_property
    def gram(self) -> sp.Matrix:
        """The Gram matrix of ``(w_1, ..., w_K, u_1, ..., u_M, theta_1, ..., theta_R)`` in the
        symbols ``Q``, ``M``, ``P``, ``S`` and ``T_mr`` (``[[Q, M, S], [M^T, P, T],
        [S^T, T^T, I]]``)."""
        K, M, R = self.K, self.M, self.R

        def entry(i: int, j: int) -> sp.Expr:
            if i > j:
                return entry(j, i)
            if j < K:
                return self.q(i, j)
            if i < K and j < K + M:
                return self.m(i, j - K)
            if i < K:
                return self.s(i, j - K - M)
            if j < K + M:
                return self.p(i - K, j - K)
            if i < K + M:
                return self.t(i - K, j - K - M)
            return sp.Integer(int(i == j))

        n = K + M + R
        return sp.Matrix(n, n, entry)

    def t(self, m: int, r: int) -> sp.Symbol:
        """``T_mr = <u_m, theta_r>`` (fixed by the teacher)."""
        return sp.Symbol(f"T_{m + 1}{r + 1}", real=True)

    def spiked_covariance(self, kappa, P, T) -> sp.Matrix:
        """The covariance of ``(lambda, nu, xi)`` under ``Sigma = I + Theta^T diag(kappa)
        Theta``, in the state symbols ``Q``, ``M``, ``S`` and the fixed ``P``, ``T``."""
        K, M, R = self.K, self.M, self.R
        kap = sp.diag(*kappa)
        Q = sp.Matrix(K, K, lambda k, j: self.q(k, j))
        Mm = sp.Matrix(K, M, lambda k, m: self.m(k, m))
        S = sp.Matrix(K, R, lambda k, r: self.s(k, r))
        P = sp.Matrix(P)
        T = sp.Matrix(T)
        one = sp.eye(R) + kap
        top = (Q + S * kap * S.T).row_join(Mm + S * kap * T.T).row_join(S * one)
        middle = (Mm + S * kap * T.T).T.row_join(P + T * kap * T.T).row_join(T * one)
        bottom = (S * one).T.row_join((T * one).T).row_join(one)
        return top.col_join(middle).col_join(bottom).applyfunc(sp.expand)

    def index(self, field: sp.Symbol) -> int:
        return self.fields.index(field)


@lru_cache(maxsize=64)
def local_fields(K: int, M: int, R: int = 0) -> LocalFields:
    return LocalFields(K, M, R)
