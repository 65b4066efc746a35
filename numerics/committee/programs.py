"""Sympy expressions as small stack-machine programs that numba evaluates.

The simulators evaluate the activation, its derivative and the teacher's link millions of
times per second inside numba-compiled loops.  Rather than generating and compiling Python
code per model (numba would recompile the simulator for each), an expression is translated
once into a postfix program (opcodes, operand indices, constants) and run by one compiled
interpreter, :func:`featcheck.numerics.committee.kernels.run`.  Translation walks the sympy
tree; nothing is ever ``eval``-ed.

Supported: numbers, the variables, ``+``, ``*``, powers, ``erf``, ``erfc``, ``exp``, ``log``,
``sqrt``, ``tanh``, ``sin``, ``cos``, ``tan``, ``sinh``, ``cosh``, ``atan``, ``atanh``,
``asin``, ``acos``, ``abs``, ``sign``, the step ``Heaviside`` (1/2 at 0), ``max``, ``min``;
``DiracDelta`` evaluates to 0 (it only appears in derivatives of discontinuous functions, and
a Gaussian sample hits its support with probability zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from featcheck.numerics.committee.kernels import (
    ABS,
    ACOS,
    ADD,
    ADDC,
    ASIN,
    ATAN,
    ATANH,
    CONST,
    COS,
    COSH,
    ERF,
    ERFC,
    EXP,
    LOG,
    MAX,
    MIN,
    MUL,
    MULC,
    POW,
    POWI,
    SIGN,
    SIN,
    SINH,
    SQRT,
    STEP,
    TAN,
    TANH,
    VAR,
    run,
)
from featcheck.theory.errors import InputError

UNARY = {
    sp.erf: ERF,
    sp.erfc: ERFC,
    sp.exp: EXP,
    sp.log: LOG,
    sp.tanh: TANH,
    sp.sin: SIN,
    sp.cos: COS,
    sp.tan: TAN,
    sp.sinh: SINH,
    sp.cosh: COSH,
    sp.atan: ATAN,
    sp.atanh: ATANH,
    sp.asin: ASIN,
    sp.acos: ACOS,
    sp.Abs: ABS,
    sp.sign: SIGN,
}


@dataclass(frozen=True)
class Programs:
    """Several programs in shared arrays: program ``p`` is ``ops[starts[p]:ends[p]]``."""

    ops: np.ndarray
    operands: np.ndarray
    constants: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    depth: int


def compile_programs(expressions: list[sp.Expr], variables: list[sp.Symbol]) -> Programs:
    """Translate expressions in ``variables`` (variable ``j`` reads ``x[j]``)."""
    ops: list[int] = []
    operands: list[int] = []
    constants: list[float] = []
    starts, ends = [], []
    depth = 1
    index = {v: j for j, v in enumerate(variables)}
    for expr in expressions:
        starts.append(len(ops))
        depth = max(depth, _emit(sp.sympify(expr), index, ops, operands, constants))
        ends.append(len(ops))
    return Programs(
        np.asarray(ops, dtype=np.int64),
        np.asarray(operands, dtype=np.int64),
        np.asarray(constants or [0.0], dtype=np.float64),
        np.asarray(starts, dtype=np.int64),
        np.asarray(ends, dtype=np.int64),
        depth + 1,
    )


def _constant(expr: sp.Expr) -> float:
    value = complex(expr)
    if value.imag != 0 or not math.isfinite(value.real):
        raise InputError(f"cannot simulate with the constant {expr}")
    return value.real


def _emit(expr: sp.Expr, index, ops, operands, constants) -> int:
    """Append the postfix code of ``expr``; return the stack depth it needs."""
    if expr.is_Number or expr in (sp.pi, sp.E) or (expr.is_number and not expr.free_symbols):
        constants.append(_constant(expr))
        ops.append(CONST)
        operands.append(len(constants) - 1)
        return 1
    if expr.is_Symbol:
        if expr not in index:
            raise InputError(f"cannot simulate: unknown variable {expr}")
        ops.append(VAR)
        operands.append(index[expr])
        return 1
    if isinstance(expr, sp.DiracDelta):
        return _emit(sp.Integer(0), index, ops, operands, constants)
    if isinstance(expr, sp.Add | sp.Mul | sp.Max | sp.Min):
        code = {sp.Add: ADD, sp.Mul: MUL, sp.Max: MAX, sp.Min: MIN}[type(expr)]
        args = list(expr.args)
        folded = None
        if code in (ADD, MUL):  # the numeric terms or factors: one constant, applied last
            numbers = [a for a in args if a.is_number and not a.free_symbols]
            rest = [a for a in args if a not in numbers]
            if numbers and rest:
                folded = sp.Add(*numbers) if code == ADD else sp.Mul(*numbers)
                args = rest
        depth = _emit(args[0], index, ops, operands, constants)
        for arg in args[1:]:
            depth = max(depth, 1 + _emit(arg, index, ops, operands, constants))
            ops.append(code)
            operands.append(0)
        if folded is not None:
            constants.append(_constant(folded))
            ops.append(ADDC if code == ADD else MULC)
            operands.append(len(constants) - 1)
        return depth
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        if exponent == sp.Rational(1, 2):
            depth = _emit(base, index, ops, operands, constants)
            ops.append(SQRT)
            operands.append(0)
            return depth
        if exponent.is_Integer and 1 <= abs(int(exponent)) <= 8:
            depth = _emit(base, index, ops, operands, constants)
            ops.append(POWI)  # repeated multiplication; a negative power is a reciprocal
            operands.append(int(exponent))
            return depth
        depth = _emit(base, index, ops, operands, constants)
        depth = max(depth, 1 + _emit(exponent, index, ops, operands, constants))
        ops.append(POW)
        operands.append(0)
        return depth
    if isinstance(expr, sp.Heaviside):
        depth = _emit(expr.args[0], index, ops, operands, constants)
        ops.append(STEP)
        operands.append(0)
        return depth
    code = UNARY.get(type(expr))
    if code is None or len(expr.args) != 1:
        raise InputError(f"cannot simulate: {type(expr).__name__} is not supported ({expr})")
    depth = _emit(expr.args[0], index, ops, operands, constants)
    ops.append(code)
    operands.append(0)
    return depth


def evaluate(programs: Programs, p: int, x: np.ndarray) -> float:
    """Run program ``p`` from Python (for tests and checks)."""
    stack = np.empty(programs.depth)
    return run(
        programs.ops,
        programs.operands,
        programs.constants,
        programs.starts[p],
        programs.ends[p],
        np.asarray(x, dtype=np.float64),
        stack,
    )
