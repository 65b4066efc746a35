r"""Order parameters and the joint Gaussian law of the local fields.

For ``x ~ N(0, I_d)`` the local fields ``lambda_k = <w_k, x>`` (student, ``k <= K``) and
``nu_m = <u_m, x>`` (teacher, ``m <= M``) are jointly Gaussian, centred, with covariance

    Omega = [[Q, M], [M^T, P]],   Q = W W^T,  M = W U^T,  P = U U^T,

whatever ``d``: an expectation over ``x`` of a function of the local fields is a
Gaussian integral over ``K + M`` variables whose covariance is made of the order parameters.
:class:`LocalFields` holds the symbols: the fields, the entries of ``Q`` (one per unordered
pair), ``M``, ``P``, the student's second layer ``a_k`` and the covariance ``Omega``.
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

    @cached_property
    def lam(self) -> tuple[sp.Symbol, ...]:
        """The student fields ``lambda_1, ..., lambda_K``."""
        return tuple(sp.Symbol(f"lambda_{k}", real=True) for k in range(1, self.K + 1))

    @cached_property
    def nu(self) -> tuple[sp.Symbol, ...]:
        """The teacher fields ``nu_1, ..., nu_M``."""
        return tuple(sp.Symbol(f"nu_{m}", real=True) for m in range(1, self.M + 1))

    @property
    def fields(self) -> tuple[sp.Symbol, ...]:
        """``(lambda_1, ..., lambda_K, nu_1, ..., nu_M)``, the order of ``Omega``."""
        return self.lam + self.nu

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
        """``Omega = [[Q, M], [M^T, P]]`` in the order of :attr:`fields`."""
        K, M = self.K, self.M

        def entry(i: int, j: int) -> sp.Symbol:
            if i < K and j < K:
                return self.q(i, j)
            if i < K:
                return self.m(i, j - K)
            if j < K:
                return self.m(j, i - K)
            return self.p(i - K, j - K)

        return sp.Matrix(K + M, K + M, entry)

    def index(self, field: sp.Symbol) -> int:
        return self.fields.index(field)


@lru_cache(maxsize=64)
def local_fields(K: int, M: int) -> LocalFields:
    return LocalFields(K, M)
