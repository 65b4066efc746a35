"""The numba kernels of the committee simulators, in one module.

Numba caches a compiled function per source file and does not notice changes in the files it
calls into, so the stack-machine interpreter, its opcodes and the online-SGD kernel that
inlines it live together here: editing any of them invalidates all their caches.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from featcheck.numerics.numba_cache import use_user_cache

use_user_cache()  # before any cache=True kernel is defined

CONST, VAR, ADD, MUL, POW, SQRT = 0, 1, 2, 3, 4, 5
MAX, MIN, POWI = 6, 7, 8
ERF, ERFC, EXP, LOG, TANH, SIN, COS, TAN, SINH, COSH = 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
ATAN, ATANH, ASIN, ACOS, ABS, SIGN, STEP = 20, 21, 22, 23, 24, 25, 26


@numba.njit(cache=True, nogil=True)
def run(ops, operands, constants, start, end, x, stack):
    """Run one program on the variables ``x`` with the scratch ``stack``."""
    top = 0
    for i in range(start, end):
        op = ops[i]
        if op == CONST:
            stack[top] = constants[operands[i]]
            top += 1
        elif op == VAR:
            stack[top] = x[operands[i]]
            top += 1
        elif op == ADD:
            top -= 1
            stack[top - 1] += stack[top]
        elif op == MUL:
            top -= 1
            stack[top - 1] *= stack[top]
        elif op == POW:
            top -= 1
            stack[top - 1] = stack[top - 1] ** stack[top]
        elif op == MAX:
            top -= 1
            stack[top - 1] = max(stack[top - 1], stack[top])
        elif op == MIN:
            top -= 1
            stack[top - 1] = min(stack[top - 1], stack[top])
        else:
            v = stack[top - 1]
            if op == POWI:
                n = operands[i]
                w = v
                for _ in range(abs(n) - 1):
                    w *= v
                v = w if n > 0 else 1.0 / w
            elif op == SQRT:
                v = math.sqrt(v)
            elif op == ERF:
                v = math.erf(v)
            elif op == ERFC:
                v = math.erfc(v)
            elif op == EXP:
                v = math.exp(v)
            elif op == LOG:
                v = math.log(v)
            elif op == TANH:
                v = math.tanh(v)
            elif op == SIN:
                v = math.sin(v)
            elif op == COS:
                v = math.cos(v)
            elif op == TAN:
                v = math.tan(v)
            elif op == SINH:
                v = math.sinh(v)
            elif op == COSH:
                v = math.cosh(v)
            elif op == ATAN:
                v = math.atan(v)
            elif op == ATANH:
                v = math.atanh(v)
            elif op == ASIN:
                v = math.asin(v)
            elif op == ACOS:
                v = math.acos(v)
            elif op == ABS:
                v = abs(v)
            elif op == SIGN:
                v = 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)
            elif op == STEP:
                v = 1.0 if v > 0 else (0.0 if v < 0 else 0.5)
            stack[top - 1] = v
    return stack[0]


@numba.njit(cache=True, nogil=True)
def cholesky_psd(A, L):
    """``L L^T = A`` for a positive semi-definite ``A`` (zero columns where a pivot is zero)."""
    n = A.shape[0]
    scale = 0.0
    for i in range(n):
        scale = max(scale, abs(A[i, i]))
    tiny = 1e-14 * max(scale, 1e-300)
    for j in range(n):
        for i in range(n):
            L[i, j] = 0.0
    for j in range(n):
        s = A[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if s <= tiny:
            continue
        root = math.sqrt(s)
        L[j, j] = root
        for i in range(j + 1, n):
            t = A[i, j]
            for k in range(j):
                t -= L[i, k] * L[j, k]
            L[i, j] = t / root


@numba.njit(cache=True, nogil=True)
def replica(
    gen,
    d,
    eta,
    eta_a,
    sigma,
    Q,
    Mm,
    P,
    Sm,
    T,
    spike,
    a,
    trained,
    ops,
    operands,
    constants,
    starts,
    ends,
    depth,
    snap_steps,
    out_Q,
    out_M,
    out_S,
    out_a,
):
    """One replica of online SGD in the overlaps; ``Q``, ``Mm``, ``Sm``, ``a`` are updated in
    place.  ``Sm`` (K x R) and ``T`` (M x R) are the overlaps with the spikes and ``spike``
    holds ``sqrt(1 + kappa_r) - 1`` (R = 0 for isotropic data).

    The Gram matrix of ``(w, u, theta)`` is ``L L^T``; the rows ``l_r`` of ``L`` for the spikes
    are orthonormal, so with ``g ~ N(0, I_n)`` the coordinates of ``x = Sigma^(1/2) z`` are
    ``h = g + sum_r (sqrt(1 + kappa_r) - 1) <l_r, g> l_r``, the fields ``L h`` and
    ``|x|^2 = |h|^2 + chi^2_(d-n)``.

    Returns -1, or the step at which the overlaps stopped being finite or exceeded 1e8.
    """
    K = Q.shape[0]
    M = Mm.shape[1]
    R = Sm.shape[1]
    n = K + M + R
    omega = np.empty((n, n))
    L = np.empty((n, n))
    g = np.empty(n)
    field = np.empty(n)
    phi = np.empty(K)
    dphi = np.empty(K)
    delta = np.empty(K)
    stack = np.empty(depth)
    x = np.empty(max(M, 1))
    for m in range(M):
        for o in range(M):
            omega[K + m, K + o] = P[m, o]
    for r in range(R):
        for m in range(M):
            omega[K + m, K + M + r] = T[m, r]
            omega[K + M + r, K + m] = T[m, r]
        for q in range(R):
            omega[K + M + r, K + M + q] = 1.0 if r == q else 0.0
    df = float(d - n)
    c = eta / d
    c_a = eta_a / d
    total = snap_steps[-1]
    j = 0
    while j < snap_steps.size and snap_steps[j] == 0:
        out_Q[j] = Q
        out_M[j] = Mm
        out_S[j] = Sm
        out_a[j] = a
        j += 1
    for step in range(1, total + 1):
        for k in range(K):
            for o in range(K):
                omega[k, o] = Q[k, o]
            for m in range(M):
                omega[k, K + m] = Mm[k, m]
                omega[K + m, k] = Mm[k, m]
            for r in range(R):
                omega[k, K + M + r] = Sm[k, r]
                omega[K + M + r, k] = Sm[k, r]
        cholesky_psd(omega, L)
        for i in range(n):
            g[i] = gen.standard_normal()
        for r in range(R):
            row = K + M + r
            s = 0.0
            for i in range(n):
                s += L[row, i] * g[i]
            s *= spike[r]
            for i in range(n):
                g[i] += s * L[row, i]
        norm2 = 0.0
        for i in range(n):
            norm2 += g[i] * g[i]
        if df > 0:
            norm2 += gen.chisquare(df)
        for i in range(n):
            s = 0.0
            for k in range(i + 1):
                s += L[i, k] * g[k]
            field[i] = s
        for m in range(M):
            x[m] = field[K + m]
        y = run(ops, operands, constants, starts[2], ends[2], x, stack)
        if sigma > 0:
            y += sigma * gen.standard_normal()
        yhat = 0.0
        for k in range(K):
            x[0] = field[k]
            phi[k] = run(ops, operands, constants, starts[0], ends[0], x, stack)
            dphi[k] = run(ops, operands, constants, starts[1], ends[1], x, stack)
            yhat += a[k] * phi[k]
        error = y - yhat
        for k in range(K):
            delta[k] = a[k] * dphi[k] * error
        for k in range(K):
            for o in range(k, K):
                value = Q[k, o] + c * (delta[k] * field[o] + delta[o] * field[k])
                value += c * c * delta[k] * delta[o] * norm2
                Q[k, o] = value
                Q[o, k] = value
            for m in range(M):
                Mm[k, m] += c * delta[k] * field[K + m]
            for r in range(R):
                Sm[k, r] += c * delta[k] * field[K + M + r]
        if trained:
            for k in range(K):
                a[k] += c_a * error * phi[k]
        bad = False
        for k in range(K):
            if not (abs(Q[k, k]) < 1e8):  # also catches nan
                bad = True
        if bad:
            return step
        while j < snap_steps.size and snap_steps[j] == step:
            out_Q[j] = Q
            out_M[j] = Mm
            out_S[j] = Sm
            out_a[j] = a
            j += 1
    return -1
