"""Sympy expressions as small stack-machine programs that numba evaluates.

The simulators evaluate the activation, its derivative and the teacher's link millions of
times per second inside numba-compiled loops.  Rather than generating and compiling Python
code per model (numba would recompile the simulator for each), an expression is translated
once into a postfix program (opcodes, operand indices, constants) and run by one compiled
interpreter, :func:`run`.  Translation walks the sympy tree; nothing is ever ``eval``-ed.

Supported: numbers, the variables, ``+``, ``*``, powers, ``erf``, ``erfc``, ``exp``, ``log``,
``sqrt``, ``tanh``, ``sin``, ``cos``, ``tan``, ``sinh``, ``cosh``, ``atan``, ``atanh``,
``asin``, ``acos``, ``abs``, ``sign``, the step ``Heaviside`` (1/2 at 0), ``max``, ``min``;
``DiracDelta`` evaluates to 0 (it only appears in derivatives of discontinuous functions, and
a Gaussian sample hits its support with probability zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import sympy as sp

from featcheck.theory.errors import InputError

CONST, VAR, ADD, MUL, POW, SQRT = 0, 1, 2, 3, 4, 5
MAX, MIN, POWI = 6, 7, 8
ERF, ERFC, EXP, LOG, TANH, SIN, COS, TAN, SINH, COSH = 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
ATAN, ATANH, ASIN, ACOS, ABS, SIGN, STEP = 20, 21, 22, 23, 24, 25, 26

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


def _emit(expr: sp.Expr, index, ops, operands, constants) -> int:
    """Append the postfix code of ``expr``; return the stack depth it needs."""
    if expr.is_Number or expr in (sp.pi, sp.E) or (expr.is_number and not expr.free_symbols):
        value = complex(expr)
        if value.imag != 0 or not math.isfinite(value.real):
            raise InputError(f"cannot simulate with the constant {expr}")
        constants.append(value.real)
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
        if code in (ADD, MUL):  # fold the numeric terms or factors into one constant
            numbers = [a for a in args if a.is_number and not a.free_symbols]
            if len(numbers) > 1:
                folded = sp.Add(*numbers) if code == ADD else sp.Mul(*numbers)
                args = [folded] + [a for a in args if a not in numbers]
        depth = _emit(args[0], index, ops, operands, constants)
        for arg in args[1:]:
            depth = max(depth, 1 + _emit(arg, index, ops, operands, constants))
            ops.append(code)
            operands.append(0)
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
