"""The numba kernels of the committee simulators, in one module.

Numba caches a compiled function per source file and does not notice changes in the files it
calls into, so the stack-machine interpreter, its opcodes and the online-SGD kernel that
inlines it live together here: editing any of them invalidates all their caches.

Every kernel uses numpy's floating-point error model (``error_model="numpy"``): a division
by zero gives ``inf`` or ``nan`` (which the blow-up check then reports) instead of raising,
and the checks that Python's model adds to every division and power cost about 70 ns per
call of the interpreter, most of a step.  Results are unchanged bit for bit.

The simulator runs programs with :func:`run_many`, which decodes each opcode once for a batch
of points (the students of a step, the teacher over many steps); :func:`run` evaluates one
point and serves :func:`featcheck.numerics.committee.programs.evaluate`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from featcheck.numerics.names import HIT_OVERLAPS
from featcheck.numerics.numba_cache import use_user_cache

use_user_cache()  # before any cache=True kernel is defined

CONST, VAR, ADD, MUL, POW, SQRT = 0, 1, 2, 3, 4, 5
MAX, MIN, POWI = 6, 7, 8
ERF, ERFC, EXP, LOG, TANH, SIN, COS, TAN, SINH, COSH = 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
ATAN, ATANH, ASIN, ACOS, ABS, SIGN, STEP = 20, 21, 22, 23, 24, 25, 26
ADDC, MULC = 27, 28  # add or multiply the top of the stack by constants[operand]


@numba.njit(cache=True, nogil=True, error_model="numpy")
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
        elif op == MULC:
            stack[top - 1] *= constants[operands[i]]
        elif op == ADDC:
            stack[top - 1] += constants[operands[i]]
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


@numba.njit(cache=True, nogil=True, error_model="numpy")
def run_many(ops, operands, constants, start, end, x, count, stack):
    """Run one program on ``count`` points at once: variable ``j`` of point ``b`` is
    ``x[j, b]``; the values end in ``stack[0, :count]`` (``stack`` is ``depth x count`` or
    wider).  Each opcode is decoded once for all the points, so the interpreter's dispatch is
    paid once per batch rather than once per point."""
    top = 0
    for i in range(start, end):
        op = ops[i]
        if op == VAR:
            j = operands[i]
            for b in range(count):
                stack[top, b] = x[j, b]
            top += 1
        elif op == MULC:
            value = constants[operands[i]]
            for b in range(count):
                stack[top - 1, b] *= value
        elif op == ADDC:
            value = constants[operands[i]]
            for b in range(count):
                stack[top - 1, b] += value
        elif op == CONST:
            value = constants[operands[i]]
            for b in range(count):
                stack[top, b] = value
            top += 1
        elif op == ADD:
            top -= 1
            for b in range(count):
                stack[top - 1, b] += stack[top, b]
        elif op == MUL:
            top -= 1
            for b in range(count):
                stack[top - 1, b] *= stack[top, b]
        elif op == POW:
            top -= 1
            for b in range(count):
                stack[top - 1, b] = stack[top - 1, b] ** stack[top, b]
        elif op == MAX:
            top -= 1
            for b in range(count):
                stack[top - 1, b] = max(stack[top - 1, b], stack[top, b])
        elif op == MIN:
            top -= 1
            for b in range(count):
                stack[top - 1, b] = min(stack[top - 1, b], stack[top, b])
        elif op == POWI:
            n = operands[i]
            for b in range(count):
                v = stack[top - 1, b]
                w = v
                for _ in range(abs(n) - 1):
                    w *= v
                stack[top - 1, b] = w if n > 0 else 1.0 / w
        elif op == ERF:
            for b in range(count):
                stack[top - 1, b] = math.erf(stack[top - 1, b])
        elif op == EXP:
            for b in range(count):
                stack[top - 1, b] = math.exp(stack[top - 1, b])
        elif op == TANH:
            for b in range(count):
                stack[top - 1, b] = math.tanh(stack[top - 1, b])
        elif op == STEP:
            for b in range(count):
                v = stack[top - 1, b]
                stack[top - 1, b] = 1.0 if v > 0 else (0.0 if v < 0 else 0.5)
        else:
            for b in range(count):
                stack[top - 1, b] = unary(op, stack[top - 1, b])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def unary(op, v):
    """The less common one-argument opcodes of :func:`run_many`."""
    if op == SQRT:
        return math.sqrt(v)
    if op == ERFC:
        return math.erfc(v)
    if op == LOG:
        return math.log(v)
    if op == SIN:
        return math.sin(v)
    if op == COS:
        return math.cos(v)
    if op == TAN:
        return math.tan(v)
    if op == SINH:
        return math.sinh(v)
    if op == COSH:
        return math.cosh(v)
    if op == ATAN:
        return math.atan(v)
    if op == ATANH:
        return math.atanh(v)
    if op == ASIN:
        return math.asin(v)
    if op == ACOS:
        return math.acos(v)
    if op == ABS:
        return abs(v)
    if op == SIGN:
        return 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)
    return v


@numba.njit(cache=True, nogil=True, error_model="numpy")
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


#: The learner variants, as the kernels see them (both simulators use this table).
PLAIN, SPHERICAL, NORMALIZED, PRECONDITIONED = 0, 1, 2, 3
#: Steps whose teacher fields and labels :func:`replica` draws and evaluates at once.
BATCH = 64
VARIANT_CODES = {
    "plain": PLAIN,
    "spherical": SPHERICAL,
    "normalized": NORMALIZED,
    "preconditioned": PRECONDITIONED,
}
#: The one-sample losses, as the kernels see them: ``(y - yhat)^2/2`` and ``-y yhat``.
SQUARE, CORRELATION = 0, 1
LOSS_CODES = {"square": SQUARE, "correlation": CORRELATION}


@numba.njit(cache=True, nogil=True, error_model="numpy")
def renormalise(Q, Mm, Sm, norms):
    """``w_k <- w_k/||w_k||`` on the overlaps (:func:`scale_students` by
    ``f_k = 1/sqrt(Q_kk)``; ``norms`` is scratch of length K)."""
    for k in range(Q.shape[0]):
        norms[k] = 1.0 / math.sqrt(Q[k, k])
    scale_students(Q, Mm, Sm, norms)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def restore_sigma_norms(Q, Mm, Sm, kappa, alpha, target, factors):
    """``w_k <- w_k sqrt(target_k/s_k)`` with ``s_k = w_k^T Sigma w_k = alpha (Q_kk + sum_r
    kappa_r S_kr^2)`` on the overlaps (:func:`scale_students` by ``f_k = sqrt(target_k/s_k)``;
    ``factors`` is scratch of length K)."""
    for k in range(Q.shape[0]):
        s = Q[k, k]
        for r in range(Sm.shape[1]):
            s += kappa[r] * Sm[k, r] * Sm[k, r]
        factors[k] = math.sqrt(target[k] / (alpha * s))
    scale_students(Q, Mm, Sm, factors)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def scale_students(Q, Mm, Sm, factors):
    """``w_k <- f_k w_k`` on the overlaps: ``Q_kl *= f_k f_l``, ``M_km *= f_k``,
    ``S_kr *= f_k``."""
    K = Q.shape[0]
    for k in range(K):
        for o in range(K):
            Q[k, o] *= factors[k] * factors[o]
        for m in range(Mm.shape[1]):
            Mm[k, m] *= factors[k]
        for r in range(Sm.shape[1]):
            Sm[k, r] *= factors[k]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def normalized_step(
    variant, c, alpha, kappa, omega, field, lt, norm2, delta, Q, Mm, Sm, A, B, pi, Y, mu, tau
):
    """One step of the normalized or preconditioned learner, exactly, on the overlaps.

    ``omega`` is the Gram matrix of ``v = (w_1, ..., w_K, u_1, ..., u_M, theta_1, ...,
    theta_R)`` before the step, ``field[i] = <v_i, x>`` (so ``lambda_k``, ``nu_m``, ``xi_r``),
    ``lt[k] = lambda_k/sqrt(s_k)`` with ``s_k = w_k^T Sigma w_k``, ``delta[k] = dt_k``
    (``a_k phi'(lt_k)(y - yhat)`` for the square loss, ``a_k phi'(lt_k) y`` for the
    correlation loss) and ``norm2 = (|x_V|^2, chi^2)``: the squared norm of the part
    of ``x`` in ``V = span(v)`` and the chi-square of the complement (there
    ``x = sqrt(alpha) z``, so its squared norm is ``alpha chi^2``).  With ``c = eta/d``,
    ``A_k = c dt_k/sqrt(s_k)`` and ``B_k = c dt_k lt_k/s_k``, both steps are

        Delta_k = A_k p - B_k y_k,
        normalized:      p = x,            y_k = Sigma w_k,
        preconditioned:  p = Sigma^(-1) x, y_k = w_k,

    and with ``pi_i = <v_i, p>``, ``Y_ik = <v_i, y_k>``, ``mu_k = <p, y_k>``,
    ``tau_kl = <y_k, y_l>`` the new overlaps are exactly

        Q'_kl = Q_kl + A_l pi_k - B_l Y_kl + A_k pi_l - B_k Y_lk
                + A_k A_l |p|^2 - A_k B_l mu_l - B_k A_l mu_k + B_k B_l tau_kl,
        M'_km = M_km + A_k pi_(u_m) - B_k Y_(u_m)k,
        S'_kr = S_kr + A_k pi_(theta_r) - B_k Y_(theta_r)k.

    With ``Sigma = alpha (I + sum_r kappa_r theta_r theta_r^T)``:

    * normalized: ``pi_i = field[i]``, ``|p|^2 = |x_V|^2 + alpha chi^2``,
      ``Y_ik = <v_i, Sigma w_k> = alpha (omega_ik + sum_r kappa_r omega_(i theta_r) S_kr)``,
      ``mu_k = <x, Sigma w_k> = alpha (lambda_k + sum_r kappa_r S_kr xi_r)``,
      ``tau_kl = alpha^2 (Q_kl + sum_r kappa_r (2 + kappa_r) S_kr S_lr)``;
    * preconditioned: with ``b_r = kappa_r/(1 + kappa_r)``,
      ``Sigma^(-1) v = (v - sum_r b_r <theta_r, v> theta_r)/alpha``, so
      ``pi_i = (field[i] - sum_r b_r omega_(i theta_r) xi_r)/alpha``,
      ``|p|^2 = (|x_V|^2 - sum_r b_r (2 - b_r) xi_r^2)/alpha^2 + chi^2/alpha``,
      ``Y_ik = omega_ik``, ``mu_k = pi_k``, ``tau_kl = Q_kl``.

    In both, ``A_k lambda_k - B_k s_k = 0``: the step is orthogonal to ``w_k`` (normalized)
    or ``Sigma``-orthogonal to it (preconditioned), so ``s_k`` changes only by the
    second-order ``Delta_k^T Sigma Delta_k``.  The caller then undoes that: the normalized
    learner renormalises (:func:`renormalise`), the preconditioned one rescales ``w_k`` so
    that ``s_k`` keeps its value before the step (:func:`restore_sigma_norms`).
    """
    K = Q.shape[0]
    M = Mm.shape[1]
    R = Sm.shape[1]
    n = K + M + R
    base = K + M
    for k in range(K):
        s = omega[k, k]
        for r in range(R):
            s += kappa[r] * omega[k, base + r] * omega[k, base + r]
        s *= alpha
        A[k] = c * delta[k] / math.sqrt(s)
        B[k] = c * delta[k] * lt[k] / s
    if variant == NORMALIZED:
        for i in range(n):
            pi[i] = field[i]
        pp = norm2[0] + alpha * norm2[1]
        for k in range(K):
            for i in range(n):
                v = omega[i, k]
                for r in range(R):
                    v += kappa[r] * omega[i, base + r] * omega[k, base + r]
                Y[i, k] = alpha * v
            v = field[k]
            for r in range(R):
                v += kappa[r] * omega[k, base + r] * field[base + r]
            mu[k] = alpha * v
            for o in range(K):
                v = omega[k, o]
                for r in range(R):
                    v += kappa[r] * (2.0 + kappa[r]) * omega[k, base + r] * omega[o, base + r]
                tau[k, o] = alpha * alpha * v
    else:
        for i in range(n):
            v = field[i]
            for r in range(R):
                v -= kappa[r] / (1.0 + kappa[r]) * omega[i, base + r] * field[base + r]
            pi[i] = v / alpha
        pp = norm2[0]
        for r in range(R):
            b = kappa[r] / (1.0 + kappa[r])
            pp -= b * (2.0 - b) * field[base + r] * field[base + r]
        pp = pp / (alpha * alpha) + norm2[1] / alpha
        for k in range(K):
            for i in range(n):
                Y[i, k] = omega[i, k]
            mu[k] = pi[k]
            for o in range(K):
                tau[k, o] = omega[k, o]
    for k in range(K):
        for o in range(k, K):
            v = omega[k, o] + A[o] * pi[k] - B[o] * Y[k, o] + A[k] * pi[o] - B[k] * Y[o, k]
            v += A[k] * A[o] * pp - A[k] * B[o] * mu[o] - B[k] * A[o] * mu[k]
            v += B[k] * B[o] * tau[k, o]
            Q[k, o] = v
            Q[o, k] = v
        for m in range(M):
            Mm[k, m] = omega[k, K + m] + A[k] * pi[K + m] - B[k] * Y[K + m, k]
        for r in range(R):
            Sm[k, r] = omega[k, base + r] + A[k] * pi[base + r] - B[k] * Y[base + r, k]


#: Hitting rules of :func:`replica`: none, the cosine of ``w_k`` with ``u_1``, or the
#: whitened overlap ``w_k^T Sigma u_1/sqrt(s_k u_1^T Sigma u_1)``.
NO_HIT, HIT_COSINE, HIT_WHITENED = 0, 1, 2
HIT_CODES = dict(zip(HIT_OVERLAPS, (HIT_COSINE, HIT_WHITENED), strict=True))


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def chisquare(gen, b, c):
    """A ``chi^2_df`` draw for ``df > 2``, given ``b = df/2 - 1/3`` and ``c = 1/sqrt(9 b)``:
    ``2 Gamma(df/2)`` by Marsaglia and Tsang's method, the one ``Generator.chisquare`` runs
    (the same draws give the same result), with its two constants computed once per replica
    instead of once per call."""
    while True:
        x = gen.standard_normal()
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = gen.random()
        if u < 1.0 - 0.0331 * (x * x) * (x * x):
            return 2.0 * b * v
        if math.log(u) < 0.5 * x * x + b * (1.0 - v + math.log(v)):
            return 2.0 * b * v


@numba.njit(cache=True, nogil=True, error_model="numpy")
def hitting_overlap(kind, absolute, Q, Mm, Sm, P, T, kappa):
    """The largest over the students of the overlap the hitting rule ``kind`` watches
    (:data:`HIT_CODES`), in absolute value if ``absolute``: ``M_k1/sqrt(Q_kk P_11)``, or
    ``(M_k1 + sum_r kappa_r S_kr T_1r)/sqrt((Q_kk + sum_r kappa_r S_kr^2)(P_11 + sum_r
    kappa_r T_1r^2))`` (the scale ``alpha`` of ``Sigma`` cancels)."""
    K = Q.shape[0]
    R = Sm.shape[1]
    best = -math.inf
    pu = P[0, 0]
    if kind == HIT_WHITENED:
        for r in range(R):
            pu += kappa[r] * T[0, r] * T[0, r]
    for k in range(K):
        num = Mm[k, 0]
        qk = Q[k, k]
        if kind == HIT_WHITENED:
            for r in range(R):
                num += kappa[r] * Sm[k, r] * T[0, r]
                qk += kappa[r] * Sm[k, r] * Sm[k, r]
        value = num / math.sqrt(qk * pu)
        if absolute:
            value = abs(value)
        best = max(best, value)
    return best


@numba.njit(cache=True, nogil=True, error_model="numpy")
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
    kappa,
    alpha,
    variant,
    a,
    trained,
    loss,
    ops,
    operands,
    constants,
    starts,
    ends,
    depth,
    snap_steps,
    total,
    hit_rule,
    hit_out,
    out_Q,
    out_M,
    out_S,
    out_a,
):
    """One replica of online SGD in the overlaps, for ``total`` steps; ``Q``, ``Mm``, ``Sm``,
    ``a`` are updated in place.  ``hit_rule = (kind, threshold, absolute, stop)``: with ``kind``
    of :data:`HIT_CODES` the first step at which :func:`hitting_overlap` reaches ``threshold``
    goes to ``hit_out[0]`` (-1 if none), and the replica stops there if ``stop`` (its later
    snapshots are left as they were).  ``Sm`` (K x R) and ``T`` (M x R) are the overlaps with
    the spikes, ``spike`` holds ``sqrt(1 + kappa_r) - 1`` and ``kappa`` the strengths (R = 0
    for isotropic data), ``alpha`` the scale of ``Sigma = alpha (I + sum_r kappa_r theta_r
    theta_r^T)``, ``variant`` a code of :data:`VARIANT_CODES` and ``loss`` one of
    :data:`LOSS_CODES`.

    The Gram matrix of ``(theta, u, w)``, in that order, is ``L L^T`` with ``L`` lower
    triangular.  The spikes are orthonormal, so their rows of ``L`` are ``e_1, ..., e_R`` and
    with ``g ~ N(0, I_n)`` the coordinates of ``x = Sigma^(1/2) z`` are ``h = sqrt(alpha) g``
    with ``g_r`` scaled by ``sqrt(1 + kappa_r)``; the fields are ``L h`` and ``|x|^2 = |h|^2 +
    alpha chi^2_(d-n)``.  The rows of the spikes and the teacher do not change: they are
    factored once, and each step computes only the students' K rows (forward substitution on
    the fixed rows, then a square-root-free ``U D U^T`` factorisation of the Schur complement;
    a zero column where a pivot vanishes).  The teacher's fields ``nu = L_u h``
    and labels ``y = F(nu) (+ noise)`` depend only on the first ``R + M`` coordinates, so they
    are drawn and evaluated :data:`BATCH` steps at a time (one pass of the interpreter for the
    batch); each step then draws the students' ``K`` coordinates and the chi-square
    (Marsaglia and Tsang's exact gamma sampler with its constants computed once).  Programs 0
    and 1 (``phi`` and ``phi'``) are stored one after the other and run as one, for all ``K``
    students at once.  The law is that of independent fresh inputs at every step, and each
    replica's numbers depend only on its generator.

    With ``c = eta/d``, ``lambda_k = <w_k, x>``, the error ``e = y - yhat`` for the square loss
    ``(y - yhat)^2/2`` and ``e = y`` for the correlation loss ``-y yhat`` (``y`` with its label
    noise), and ``delta_k = a_k phi'(lambda_k) e``, the plain step ``w_k <- w_k + c delta_k x``
    gives

        Q'_kl = Q_kl + c (delta_k lambda_l + delta_l lambda_k) + c^2 delta_k delta_l |x|^2,
        M'_km = M_km + c delta_k nu_m,      S'_kr = S_kr + c delta_k xi_r.

    The spherical step projects the gradient on the tangent space first, ``w_k <- w_k + c
    delta_k (x - g_k w_k)`` with ``g_k = lambda_k/Q_kk``:

        Q'_kl = Q_kl + c delta_l (lambda_k - g_l Q_kl) + c delta_k (lambda_l - g_k Q_kl)
                + c^2 delta_k delta_l (|x|^2 - g_k lambda_k - g_l lambda_l + g_k g_l Q_kl),
        M'_km = M_km + c delta_k (nu_m - g_k M_km),   S'_kr = S_kr + c delta_k (xi_r - g_k S_kr),

    and then renormalises (:func:`renormalise`).  The normalized and
    preconditioned students see ``lt_k = lambda_k/sqrt(s_k)``, ``s_k = w_k^T Sigma w_k =
    alpha (Q_kk + sum_r kappa_r S_kr^2)`` and ``delta_k = a_k phi'(lt_k) e``; their step is
    :func:`normalized_step`, after which the normalized student renormalises and the
    preconditioned one rescales ``w_k <- w_k sqrt(s_k/s'_k)`` (``s_k`` before the step,
    ``s'_k`` after; :func:`restore_sigma_norms`), so that ``s_k`` keeps its initial value.  A
    trained second layer moves by ``a_k <- a_k + (eta_a/d) e phi(lt_k)`` (``lt_k = lambda_k``
    for the plain and spherical students).

    Returns -1, or the step at which the overlaps stopped being finite or exceeded 1e8.
    """
    K = Q.shape[0]
    M = Mm.shape[1]
    R = Sm.shape[1]
    F = R + M  # the fixed rows: the spikes, then the teacher
    n = K + F
    normalized = variant in (NORMALIZED, PRECONDITIONED)
    omega = np.empty((n, n))
    L = np.zeros((n, F))  # the factor in the order (theta, u, w), its first F columns
    inverse = np.zeros(F)  # 1/L[j, j] on the fixed rows, 0 for a zero pivot
    unit = np.zeros((K, K))  # the students' block of the factor is unit sqrt(pivot)
    pivot = np.empty(K)
    inverse_pivot = np.empty(K)
    root = np.empty(K)
    e = np.empty(K)
    h = np.empty(n)
    field = np.empty(n)
    phi = np.empty(K)
    dphi = np.empty(K)
    delta = np.empty(K)
    lt = np.empty((1, K))
    norms = np.empty(K)
    sigma_norm = np.empty(K)  # s_k before the step
    A = np.empty(K)
    B = np.empty(K)
    pi = np.empty(n)
    Y = np.empty((n, K))
    mu = np.empty(K)
    tau = np.empty((K, K))
    norm2_parts = np.empty(2)
    batch = BATCH
    fixed = np.empty((F, batch))  # the fixed rows' fields over a batch of steps
    fixed_h = np.empty((F, batch))
    fixed_norm2 = np.empty(batch)
    labels = np.empty(batch)
    stack = np.empty((depth, max(batch, K)))
    for m in range(M):
        for o in range(M):
            omega[K + m, K + o] = P[m, o]
    for r in range(R):
        for m in range(M):
            omega[K + m, K + M + r] = T[m, r]
            omega[K + M + r, K + m] = T[m, r]
        for q in range(R):
            omega[K + M + r, K + M + q] = 1.0 if r == q else 0.0
    # the Gram matrix of (theta, u) and its factor, once: the spikes' rows are e_r
    gram = np.zeros((F, F))
    for r in range(R):
        gram[r, r] = 1.0
        for m in range(M):
            gram[R + m, r] = T[m, r]
            gram[r, R + m] = T[m, r]
    for m in range(M):
        for o in range(M):
            gram[R + m, R + o] = P[m, o]
    fixed_L = np.empty((F, F))
    cholesky_psd(gram, fixed_L)
    fixed_scale = 0.0
    for i in range(F):
        fixed_scale = max(fixed_scale, gram[i, i])
        for j in range(i + 1):
            L[i, j] = fixed_L[i, j]
        if L[i, i] > 0:
            inverse[i] = 1.0 / L[i, i]
    # h = sqrt(alpha) A g: the spikes' coordinates are scaled by sqrt(1 + kappa_r)
    scale_h = np.empty(n)
    root_alpha = math.sqrt(alpha)
    for i in range(n):
        scale_h[i] = root_alpha
    for r in range(R):
        scale_h[r] = root_alpha * (1.0 + spike[r])
    df = float(d - n)
    # chi^2_df = 2 Gamma(df/2) by Marsaglia and Tsang's method, its constants once
    gamma_b = df / 2.0 - 1.0 / 3.0
    gamma_c = 1.0 / math.sqrt(9.0 * gamma_b) if df > 2.0 else 0.0
    c = eta / d
    c_a = eta_a / d
    hit_kind = int(hit_rule[0])
    threshold = hit_rule[1]
    absolute = hit_rule[2] != 0.0
    stop_at_hit = hit_rule[3] != 0.0
    hit_out[0] = -1
    j = 0
    while j < snap_steps.size and snap_steps[j] == 0:
        out_Q[j] = Q
        out_M[j] = Mm
        out_S[j] = Sm
        out_a[j] = a
        j += 1
    if (
        hit_kind != NO_HIT
        and hitting_overlap(hit_kind, absolute, Q, Mm, Sm, P, T, kappa) >= threshold
    ):
        hit_out[0] = 0
        if stop_at_hit:
            return -1
    used = batch
    for step in range(1, total + 1):
        if used == batch:
            # the teacher's and spikes' fields, labels and noise for the next batch of steps
            # (they do not depend on the student)
            for b in range(batch):
                s2 = 0.0
                for i in range(F):
                    v = scale_h[i] * gen.standard_normal()
                    fixed_h[i, b] = v
                    s2 += v * v
                fixed_norm2[b] = s2
                for i in range(F):
                    s = 0.0
                    for k in range(i + 1):
                        s += L[i, k] * fixed_h[k, b]
                    fixed[i, b] = s
            run_many(ops, operands, constants, starts[2], ends[2], fixed[R:], batch, stack)
            for b in range(batch):
                labels[b] = stack[0, b]
            if sigma > 0:
                for b in range(batch):
                    labels[b] += sigma * gen.standard_normal()
            used = 0
        # the students' rows of the factor: their coordinates on the fixed rows, C L_F^(-T) by
        # forward substitution, then the Schur complement Q - X X^T factored as U D U^T
        # (unit lower U, so no square root lies between one pivot and the next; the factor's
        # block is U sqrt(D), a zero column where a pivot vanishes)
        scale = fixed_scale
        for k in range(K):
            scale = max(scale, abs(Q[k, k]))
        tiny = 1e-14 * max(scale, 1e-300)
        for k in range(K):
            i = F + k
            for col in range(F):
                s = Sm[k, col] if col < R else Mm[k, col - R]
                for q in range(col):
                    s -= L[i, q] * L[col, q]
                L[i, col] = s * inverse[col]
        for k in range(K):
            i = F + k
            for o in range(k + 1):
                s = Q[k, o]
                for q in range(F):
                    s -= L[i, q] * L[F + o, q]
                for q in range(o):
                    s -= unit[k, q] * unit[o, q] * pivot[q]
                if o < k:
                    unit[k, o] = s * inverse_pivot[o]
                elif s > tiny:
                    pivot[k] = s
                    inverse_pivot[k] = 1.0 / s
                    root[k] = math.sqrt(s)
                else:
                    pivot[k] = 0.0
                    inverse_pivot[k] = 0.0
                    root[k] = 0.0
        for i in range(F):
            h[i] = fixed_h[i, used]
        norm2 = fixed_norm2[used]
        for k in range(K):
            v = scale_h[F + k] * gen.standard_normal()
            h[F + k] = v
            norm2 += v * v
        if df > 2.0:
            chi2 = chisquare(gen, gamma_b, gamma_c)
        elif df > 0:
            chi2 = gen.chisquare(df)
        else:
            chi2 = 0.0
        norm2_parts[0] = norm2
        norm2_parts[1] = chi2
        if df > 0:
            norm2 += alpha * chi2
        for m in range(M):
            field[K + m] = fixed[R + m, used]
        for r in range(R):
            field[K + M + r] = fixed[r, used]
        for k in range(K):
            e[k] = root[k] * h[F + k]
        for k in range(K):
            i = F + k
            s = e[k]
            for q in range(F):
                s += L[i, q] * h[q]
            for o in range(k):
                s += unit[k, o] * e[o]
            field[k] = s
        y = labels[used]
        used += 1
        if normalized:
            for k in range(K):
                for o in range(K):
                    omega[k, o] = Q[k, o]
                for m in range(M):
                    omega[k, K + m] = Mm[k, m]
                    omega[K + m, k] = Mm[k, m]
                for r in range(R):
                    omega[k, K + M + r] = Sm[k, r]
                    omega[K + M + r, k] = Sm[k, r]
            for k in range(K):
                s = Q[k, k]
                for r in range(R):
                    s += kappa[r] * Sm[k, r] * Sm[k, r]
                sigma_norm[k] = alpha * s
                lt[0, k] = field[k] / math.sqrt(alpha * s)
        else:
            for k in range(K):
                lt[0, k] = field[k]
        # phi and phi' are programs 0 and 1, one after the other: run as one, they leave
        # phi on the first row of the stack and phi' on the second
        run_many(ops, operands, constants, starts[0], ends[1], lt, K, stack)
        yhat = 0.0
        for k in range(K):
            phi[k] = stack[0, k]
            yhat += a[k] * phi[k]
        # the square loss's error, or the label itself for the correlation loss
        error = y - yhat if loss == SQUARE else y
        for k in range(K):
            dphi[k] = stack[1, k]
            delta[k] = a[k] * dphi[k] * error
        if normalized:
            normalized_step(
                variant,
                c,
                alpha,
                kappa,
                omega,
                field,
                lt[0],
                norm2_parts,
                delta,
                Q,
                Mm,
                Sm,
                A,
                B,
                pi,
                Y,
                mu,
                tau,
            )
        elif variant == SPHERICAL:
            # the step c delta_k (x - g_k w_k), g_k = lambda_k/Q_kk: the gradient projected on
            # the sphere's tangent space at w_k
            for k in range(K):
                norms[k] = field[k] / Q[k, k]
            for k in range(K):
                for o in range(k, K):
                    q = Q[k, o]
                    value = q + c * delta[o] * (field[k] - norms[o] * q)
                    value += c * delta[k] * (field[o] - norms[k] * q)
                    inner = norm2 - norms[o] * field[o] - norms[k] * field[k]
                    value += c * c * delta[k] * delta[o] * (inner + norms[k] * norms[o] * q)
                    Q[k, o] = value
                    Q[o, k] = value
                for m in range(M):
                    Mm[k, m] += c * delta[k] * (field[K + m] - norms[k] * Mm[k, m])
                for r in range(R):
                    Sm[k, r] += c * delta[k] * (field[K + M + r] - norms[k] * Sm[k, r])
        else:
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
        if variant in (SPHERICAL, NORMALIZED):
            renormalise(Q, Mm, Sm, norms)
        elif variant == PRECONDITIONED:
            restore_sigma_norms(Q, Mm, Sm, kappa, alpha, sigma_norm, norms)
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
        if (
            hit_kind != NO_HIT
            and hit_out[0] < 0
            and hitting_overlap(hit_kind, absolute, Q, Mm, Sm, P, T, kappa) >= threshold
        ):
            hit_out[0] = step
            if stop_at_hit:
                return -1
        if j >= snap_steps.size and (hit_kind == NO_HIT or hit_out[0] >= 0):
            return -1
    return -1
