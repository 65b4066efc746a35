"""Named link and activation functions, and user expressions in ``z``.

A :class:`Function` wraps a sympy expression in the real symbol ``z``.  The
catalogue covers the usual links and activations; anything else is a user
expression parsed safely by :func:`featcheck.theory.parsing.parse_expression`, built from
the same whitelisted names.  ``parse_function`` accepts both.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property

import mpmath
import sympy as sp

from featcheck.theory.errors import (
    InputError,
    NotSquareIntegrableError,
    ParseError,
    UnknownFunctionError,
)
from featcheck.theory.parsing import parse_expression

z = sp.Symbol("z", real=True)

MAX_HERMITE_INDEX = 400

#: Bounds on the work an expression can cause downstream (the parser's own limits bound
#: only its text): the degree of the polynomial it expands to, the size of the exact
#: numbers it holds, and how deeply transcendental functions nest.
MAX_EXPANDED_DEGREE = 400
MAX_CONSTANT_DIGITS = 300
MAX_TRANSCENDENTAL_NESTING = 3


def degree_bound(expr: sp.Expr) -> int:
    """An upper bound on the degree in ``z`` of ``expr`` once expanded, computed on the
    unexpanded tree (a sum: the largest; a product: the sum; a power ``b^n``: ``n``
    times; inside a non-polynomial function: the argument's bound)."""
    if not expr.has(z):
        return 0
    if expr == z:
        return 1
    if isinstance(expr, sp.Add):
        return max(degree_bound(a) for a in expr.args)
    if isinstance(expr, sp.Mul):
        return sum(degree_bound(a) for a in expr.args)
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        if exponent.is_Integer:
            return abs(int(exponent)) * degree_bound(base)
        return degree_bound(base)
    return max((degree_bound(a) for a in expr.args), default=0)


def transcendental_nesting(expr: sp.Expr) -> int:
    """How many non-polynomial functions of ``z`` sit inside one another."""
    if not expr.has(z) or not expr.args:
        return 0
    inner = max(transcendental_nesting(a) for a in expr.args)
    polynomial_node = isinstance(expr, sp.Add | sp.Mul) or (
        isinstance(expr, sp.Pow) and expr.args[1].is_Integer
    )
    return inner if polynomial_node else inner + 1


def check_work_bounds(expr: sp.Expr, text: str = "") -> None:
    """Raise :class:`InputError` when ``expr`` would cost more than the bounds above."""
    shown = text or str(expr)
    degree = degree_bound(expr)
    if degree > MAX_EXPANDED_DEGREE:
        raise InputError(
            f"{shown} expands to degree up to {degree}; the limit is {MAX_EXPANDED_DEGREE}"
        )
    for number in expr.atoms(sp.Rational):
        digits = max(len(str(abs(number.p))), len(str(number.q)))
        if digits > MAX_CONSTANT_DIGITS:
            raise InputError(
                f"{shown} holds a number of {digits} digits; the limit is {MAX_CONSTANT_DIGITS}"
            )
    nesting = transcendental_nesting(expr)
    if nesting > MAX_TRANSCENDENTAL_NESTING:  # exp(exp(z)) nests 2 deep
        raise InputError(
            f"{shown} nests functions {nesting} deep; the limit is {MAX_TRANSCENDENTAL_NESTING}"
        )


def hermite_he(k: int, x: sp.Expr = z) -> sp.Expr:
    """Probabilists' Hermite polynomial ``He_k(x)`` (expanded)."""
    if k < 0:
        raise InputError(f"Hermite degree must be non-negative, got {k}")
    if x != z and x.is_polynomial(z) and x.has(z):
        # He_k of a polynomial by the recurrence He_(n+1) = x He_n - n He_(n-1) on dense
        # polynomials: expanding the composition symbolically costs far more.
        p = sp.Poly(x, z)
        previous, current = sp.Poly(1, z), p
        if k == 0:
            return sp.Integer(1)
        for n in range(1, k):
            previous, current = current, p * current - n * previous
        return current.as_expr()
    return sp.expand(sp.hermite_prob(k, x))


def hermite_h(k: int, x: sp.Expr = z) -> sp.Expr:
    """Orthonormal Hermite polynomial ``h_k = He_k / sqrt(k!)``."""
    return hermite_he(k, x) / sp.sqrt(sp.factorial(k))


def _relu(x: sp.Expr) -> sp.Expr:
    return sp.Max(x, 0)


def _step(x: sp.Expr) -> sp.Expr:
    return sp.Heaviside(x, sp.Rational(1, 2))


def _sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


def _softplus(x: sp.Expr) -> sp.Expr:
    return sp.log(1 + sp.exp(x))


def _degree(k: sp.Basic, name: str) -> int:
    if not (isinstance(k, sp.Integer) or (k.is_integer and k.is_number)):
        raise ParseError(f"{name}(k) needs a whole-number degree k, got {k}")
    k = int(k)
    if k < 0:
        raise ParseError(f"{name}(k) needs a non-negative degree, got {k}")
    if k > MAX_HERMITE_INDEX:
        raise ParseError(f"{name}(k) degree {k} exceeds the limit {MAX_HERMITE_INDEX}")
    return k


def _he(k: sp.Basic, x: sp.Expr = z) -> sp.Expr:
    return hermite_he(_composed_degree(k, x, "he"), x)


def _h(k: sp.Basic, x: sp.Expr = z) -> sp.Expr:
    return hermite_h(_composed_degree(k, x, "h"), x)


def _composed_degree(k: sp.Basic, x: sp.Expr, name: str) -> int:
    """The degree of ``name(k, x)``, refused before expanding when ``He_k(x)`` would have
    degree above :data:`MAX_EXPANDED_DEGREE`."""
    k = _degree(k, name)
    if k * degree_bound(x) > MAX_EXPANDED_DEGREE:
        raise ParseError(
            f"{name}({k}, ...) of an argument of degree {degree_bound(x)} expands to degree "
            f"{k * degree_bound(x)}; the limit is {MAX_EXPANDED_DEGREE}"
        )
    return k


def _max(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    return sp.Max(a, b)


def _min(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    return sp.Min(a, b)


#: Functions a user expression may call.
ALLOWED_FUNCTIONS = {
    "relu": _relu,
    "abs": sp.Abs,
    "sign": sp.sign,
    "step": _step,
    "tanh": sp.tanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "erf": sp.erf,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tan": sp.tan,
    "atan": sp.atan,
    "atanh": sp.atanh,
    "max": _max,
    "min": _min,
    "he": _he,
    "h": _h,
}
ALLOWED_CONSTANTS = {"pi": sp.pi, "e": sp.E}

#: The named catalogue: a name alone stands for the function applied to ``z``.
CATALOGUE: dict[str, str] = {
    "relu": "max(z, 0)",
    "abs": "|z|",
    "sign": "sign(z)",
    "step": "1 for z > 0, 0 for z < 0",
    "tanh": "tanh(z)",
    "sigmoid": "1/(1 + exp(-z))",
    "softplus": "log(1 + exp(z))",
    "erf": "erf(z)",
    "he(k)": "He_k(z), probabilists' Hermite polynomial (also written he3, he4, ...)",
    "h(k)": "h_k(z) = He_k(z)/sqrt(k!)",
    "relu(z+b)": "max(z + b, 0), ReLU with bias b",
    "<polynomial>": "any polynomial in z, such as z^3 - 3*z",
}

#: Names of catalogue functions that the claims sweep over, with parameters.
CATALOGUE_EXAMPLES = (
    "relu",
    "relu(z+1/2)",
    "relu(z-1)",
    "abs",
    "sign",
    "step",
    "tanh",
    "sigmoid",
    "softplus",
    "erf",
    "erf(2*z)",
    "he(3)",
    "h(4)",
    "z^3 - 2*z + 1",
    "z^2*exp(-z^2/2)",
    "(1 + z)*erf(z/2)",
    "max(z, 0) - max(z - 1, 0)",
)


@dataclass(frozen=True)
class Function:
    """A real function of one real variable ``z``, as an exact sympy expression."""

    expr: sp.Expr
    name: str

    def __str__(self) -> str:
        return self.name

    def __call__(self, value: float) -> float:
        return float(self.mp(value))

    @cached_property
    def mp(self):
        """The function as an mpmath callable (for high-precision quadrature)."""
        return sp.lambdify(z, self.expr, modules=["mpmath"])

    @cached_property
    def np(self):
        """The function as a vectorized numpy callable."""
        return sp.lambdify(z, self.expr, modules=["numpy", "scipy"])

    def scaled(self, sigma: sp.Expr | float | int) -> Function:
        """The function ``z -> f(sigma z)`` (a Gaussian of variance ``sigma^2``)."""
        sigma = sp.nsimplify(sigma) if isinstance(sigma, float) else sp.sympify(sigma)
        if not (sigma.is_positive):
            raise InputError(f"scale sigma must be positive, got {sigma}")
        return Function(sp.sympify(self.expr).subs(z, sigma * z), f"{self.name} at scale {sigma}")

    @cached_property
    def is_polynomial(self) -> bool:
        return bool(self.expr.is_polynomial(z))

    @cached_property
    def breakpoints(self) -> tuple[sp.Expr, ...]:
        """Real points where a piecewise primitive (abs, max, sign, step, ...) switches."""
        return _breakpoints(self.expr)

    @cached_property
    def symmetry(self) -> tuple[int | None, int | None]:
        """Degrees of the even and odd parts of ``f`` when they are polynomials.

        ``(d_even, d_odd)``: the even part ``(f(z) + f(-z))/2`` is a polynomial of
        degree ``d_even`` (``-1`` when it is zero), or ``None`` when that could
        not be proved; likewise the odd part.  Then ``c_k = 0`` exactly for even
        ``k > d_even`` and for odd ``k > d_odd``.
        """
        reflected = self.expr.subs(z, -z)
        return (
            _polynomial_degree((self.expr + reflected) / 2),
            _polynomial_degree((self.expr - reflected) / 2),
        )

    def vanishes_by_symmetry(self, k: int) -> bool:
        """True when ``c_k(f) = 0`` follows from the symmetry of ``f``."""
        d_even, d_odd = self.symmetry
        degree = d_even if k % 2 == 0 else d_odd
        return degree is not None and k > degree


SWITCHES = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min, sp.Piecewise)


def _resolve_at(expr: sp.Expr, point: sp.Expr) -> sp.Expr:
    """Replace every switching primitive by its branch at the test ``point``."""

    def sign_at(u: sp.Expr) -> int:
        value = sp.sign(sp.nsimplify(u.subs(z, point)))
        return int(value)

    def choose(node: sp.Expr) -> sp.Expr:
        if isinstance(node, sp.Abs):
            return node.args[0] * sign_at(node.args[0])
        if isinstance(node, sp.sign):
            return sp.Integer(sign_at(node.args[0]))
        if isinstance(node, sp.Heaviside):
            return sp.Integer(1 if sign_at(node.args[0]) > 0 else 0)
        if isinstance(node, sp.Max | sp.Min):
            values = [(arg.subs(z, point), arg) for arg in node.args]
            pick = max if isinstance(node, sp.Max) else min
            return pick(values, key=lambda pair: float(pair[0]))[1]
        for branch, condition in node.args:  # Piecewise
            if condition.subs(z, point) == sp.true:
                return branch
        return sp.nan

    return expr.replace(lambda e: isinstance(e, SWITCHES), choose)


def branches(expr: sp.Expr, points: tuple[sp.Expr, ...]) -> list[tuple[sp.Expr, sp.Expr, sp.Expr]]:
    """``(a, b, branch)`` on each interval between consecutive switching points."""
    cuts = [-sp.oo, *points, sp.oo]
    out = []
    for a, b in itertools.pairwise(cuts):
        if a == -sp.oo:
            test = b - 1
        elif b == sp.oo:
            test = a + 1
        else:
            test = (a + b) / 2
        out.append((a, b, _resolve_at(expr, test)))
    return out


def _polynomial_degree(expr: sp.Expr) -> int | None:
    expr = sp.expand(expr)
    if expr.has(*SWITCHES):
        pieces = {sp.expand(branch) for *_, branch in branches(expr, _breakpoints(expr))}
        if len(pieces) == 1:
            expr = pieces.pop()
    if expr.is_polynomial(z):
        return -1 if expr == 0 else sp.Poly(expr, z).degree()
    try:
        simplified = sp.expand(sp.simplify(expr.rewrite(sp.exp)))
    except Exception:  # simplify can fail on exotic expressions: then no proof
        return None
    if simplified.is_polynomial(z):
        return -1 if simplified == 0 else sp.Poly(simplified, z).degree()
    return None


def _real_roots(expr: sp.Expr) -> list[sp.Expr]:
    expr = sp.together(expr)
    numerator, _ = sp.fraction(expr)
    if not numerator.has(z):
        return []
    if numerator.is_polynomial(z):
        poly = sp.Poly(numerator, z)
        if all(c.is_rational for c in poly.all_coeffs()):
            return list(dict.fromkeys(sp.real_roots(poly)))
    roots = sp.solveset(numerator, z, domain=sp.S.Reals)
    if isinstance(roots, sp.FiniteSet):
        return list(roots)
    raise InputError(f"cannot locate the switching points of {expr} exactly")


def _breakpoints(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    points: list[sp.Expr] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Abs | sp.sign | sp.Heaviside):
            points += _real_roots(node.args[0])
        elif isinstance(node, sp.Max | sp.Min):
            args = node.args
            for i in range(len(args)):
                for j in range(i + 1, len(args)):
                    points += _real_roots(args[i] - args[j])
        elif isinstance(node, sp.Piecewise):
            for _, condition in node.args:
                if isinstance(condition, sp.Rel):
                    points += _real_roots(condition.lhs - condition.rhs)
    unique = {sp.nsimplify(p) if p.is_Float else p for p in points if p.is_real}
    return tuple(sorted(unique, key=lambda p: float(p)))


def parse_function(text: str) -> Function:
    """A catalogue name (``relu``, ``tanh``, ``he(3)``, ...) or a safe expression in ``z``."""
    if not isinstance(text, str) or not text.strip():
        raise UnknownFunctionError("empty function: give a catalogue name or an expression in z")
    name = " ".join(text.split())
    # Shorthand: he3 is he(3) and h4 is h(4), alone or inside an expression.
    name = re.sub(r"\b(he|h)(\d+)\b", r"\1(\2)", name)
    if name in ALLOWED_FUNCTIONS and name not in ("he", "h", "max", "min"):
        expr = ALLOWED_FUNCTIONS[name](z)
    else:
        try:
            expr = parse_expression(
                name,
                variables={"z": z},
                functions=ALLOWED_FUNCTIONS,
                constants=ALLOWED_CONSTANTS,
            )
        except ParseError as exc:
            if name.isidentifier():
                raise UnknownFunctionError(
                    f"unknown function {name!r}: catalogue names are "
                    f"{', '.join(k for k in CATALOGUE if not k.startswith('<'))}, "
                    "or write an expression in z"
                ) from None
            raise exc
    if not isinstance(expr, sp.Expr) or isinstance(expr, sp.Rel):
        raise ParseError(f"{name!r} is not a real-valued expression")
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise InputError(f"{name!r} is not finite")
    if expr.has(sp.I) or expr.is_real is False:
        raise InputError(f"{name!r} is not real-valued")
    check_work_bounds(expr, name)
    function = Function(expr, name)
    check_square_integrable(function)
    return function


FunctionLike = Function | sp.Expr | str
"""What every API that asks for a link or an activation accepts."""


def as_function(value: FunctionLike) -> Function:
    """A :class:`Function` from a catalogue name or expression string (parsed safely),
    a sympy expression in ``z``, or a :class:`Function` (returned as it is)."""
    if isinstance(value, Function):
        return value
    if isinstance(value, str):
        return parse_function(value)
    if isinstance(value, sp.Expr):
        free = value.free_symbols - {z}
        if free:
            names = ", ".join(sorted(str(s) for s in free))
            raise InputError(f"a function of z may not contain other symbols ({names})")
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise InputError(f"{value} is not finite")
        if value.has(sp.I):
            raise InputError(f"{value} is not real-valued")
        check_work_bounds(value)
        function = Function(value, str(value))
        check_square_integrable(function)
        return function
    raise InputError(
        f"expected a Function, a sympy expression in z or a string, got {type(value).__name__}"
    )


def check_square_integrable(function: Function) -> None:
    """Raise :class:`NotSquareIntegrableError` unless ``E[f(Z)^2] < inf`` looks certain.

    Exact for polynomials and for the catalogue; for other expressions the
    function is checked to be real and finite on the line (switching points
    allowed) and its square against the Gaussian weight must decay faster
    than ``|z|^(-1.1)`` in both tails, or be below ``exp(-60)`` at ``|z| = 80``.
    """
    expr = function.expr
    if function.is_polynomial:
        return
    try:
        domain = sp.calculus.util.continuous_domain(expr, z, sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError):
        domain = sp.S.Reals
    excluded = sp.Complement(sp.S.Reals, domain)
    if excluded != sp.S.EmptySet:
        if not isinstance(excluded, sp.FiniteSet):
            raise NotSquareIntegrableError(
                f"{function.name} is not defined on the whole real line (fails on {excluded})"
            )
        for point in excluded:
            _check_local_singularity(function, point)
    with mpmath.workdps(40):
        for sign in (1, -1):
            log_weight = []
            for radius in (40, 80):
                try:
                    value = function.mp(mpmath.mpf(sign * radius))
                except (OverflowError, MemoryError, ZeroDivisionError, ValueError):
                    raise NotSquareIntegrableError(
                        f"{function.name} cannot be evaluated at z = {sign * radius} (it "
                        "overflows): it is not square-integrable, or too large to check"
                    ) from None
                if not isinstance(value, mpmath.mpf | mpmath.mpc | int | float):
                    value = mpmath.mpf(value)
                if mpmath.im(value) != 0:
                    raise NotSquareIntegrableError(
                        f"{function.name} is not real at z = {sign * radius}"
                    )
                value = abs(mpmath.re(value))
                log_weight.append(
                    2 * mpmath.log(value) - radius**2 / 2 if value > 0 else mpmath.mpf(-(10**6))
                )
            decay = (log_weight[0] - log_weight[1]) / mpmath.log(2)
            if log_weight[1] > -60 and decay < 1.1:
                raise NotSquareIntegrableError(
                    f"{function.name} is not square-integrable under the standard Gaussian: "
                    f"f(z)^2 exp(-z^2/2) does not decay as z -> {'+' if sign > 0 else '-'}inf"
                )


def _check_local_singularity(function: Function, point: sp.Expr) -> None:
    """Reject ``f`` with ``|f(z)| >~ |z - p|^(-1/2)`` near an excluded point ``p``."""
    with mpmath.workdps(60):
        p = mpmath.mpf(sp.N(point, 60))
        for side in (1, -1):
            values = []
            for exponent in (10, 20):
                eps = mpmath.mpf(10) ** (-exponent)
                value = function.mp(p + side * eps)
                if mpmath.im(value) != 0 or not mpmath.isfinite(value):
                    raise NotSquareIntegrableError(
                        f"{function.name} is not real and finite next to z = {point}"
                    )
                values.append(abs(value))
            if values[1] > 1 and values[0] > 0:
                alpha = mpmath.log(values[1] / values[0]) / mpmath.log(10**10)
                if alpha >= 0.45:
                    raise NotSquareIntegrableError(
                        f"{function.name} blows up like |z - {point}|^-{float(alpha):.2f} "
                        "near that point, so E[f(Z)^2] is infinite"
                    )
