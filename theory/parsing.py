"""Safe parsing of user expressions into sympy.

The text is parsed by :func:`ast.parse` (which never executes anything) and the
syntax tree is walked node by node: only numbers, whitelisted names, the
arithmetic operators, calls of whitelisted functions and (on request)
comparisons are accepted.  Everything else (attributes, subscripts, lambdas,
strings, keywords, dunder names) is rejected with :class:`UnsafeExpressionError`.
Before that, every character must belong to the grammar (:data:`ALLOWED_CHARACTERS`):
a ``#`` would otherwise start a comment that silently drops the rest of the text.
Raw text is never passed to ``eval`` or ``sympify``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp

from featcheck.theory.errors import ParseError, UnsafeExpressionError


@dataclass(frozen=True)
class Limits:
    """Size limits that keep a parsed expression from exhausting the machine."""

    max_length: int = 1000
    max_nodes: int = 400
    max_depth: int = 40
    max_integer: int = 10**12
    max_exponent: int = 64


DEFAULT_LIMITS = Limits()

#: Every character the grammar uses: ASCII letters and digits (names, numbers), the
#: operators, parentheses, the comma of calls, the point of decimals and white space.
ALLOWED_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-*/^()<>=.,\t\n\r "
)

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_UNARY = {ast.UAdd: lambda a: a, ast.USub: lambda a: -a}
_COMPARE = {
    ast.Lt: sp.StrictLessThan,
    ast.LtE: sp.LessThan,
    ast.Gt: sp.StrictGreaterThan,
    ast.GtE: sp.GreaterThan,
}

_FORBIDDEN_DESCRIPTIONS = {
    ast.Attribute: "attribute accesses",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda expressions",
    ast.ListComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.Starred: "starred arguments",
    ast.NamedExpr: "assignment expressions",
    ast.JoinedStr: "strings",
    ast.IfExp: "conditional expressions",
    ast.BoolOp: "boolean operators",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dictionaries",
    ast.Set: "sets",
    ast.Await: "await expressions",
}


def parse_expression(
    text: str,
    *,
    variables: Mapping[str, sp.Symbol],
    functions: Mapping[str, Callable[..., sp.Basic]],
    constants: Mapping[str, sp.Basic] | None = None,
    allow_comparisons: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> sp.Basic:
    """Parse ``text`` into a sympy expression using only the given names.

    ``^`` is read as a power, like ``**``.  Decimal literals become exact
    rationals (``0.1`` is ``1/10``).  A whitelisted function receives sympy
    arguments and may raise :class:`ParseError` to reject them.
    """
    if not isinstance(text, str):
        raise ParseError("expression must be a string")
    stripped = text.strip()
    if not stripped:
        raise ParseError("empty expression")
    if len(stripped) > limits.max_length:
        raise UnsafeExpressionError(
            f"expression is {len(stripped)} characters long; the limit is {limits.max_length}"
        )
    if "__" in stripped:
        raise UnsafeExpressionError("names with double underscores are not allowed")
    outside = sorted(set(stripped) - ALLOWED_CHARACTERS)
    if outside:
        shown = ", ".join(repr(c) for c in outside[:5])
        raise UnsafeExpressionError(
            f"character {shown} is not allowed in expressions"
            if len(outside) == 1
            else f"characters {shown} are not allowed in expressions"
        )
    try:
        tree = ast.parse(stripped.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise ParseError(f"cannot parse {stripped!r}: {exc.msg}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > limits.max_nodes:
        raise UnsafeExpressionError(
            f"expression has {count} syntax nodes; the limit is {limits.max_nodes}"
        )
    source = stripped.replace("^", "**")
    walker = _Walker(variables, functions, constants or {}, allow_comparisons, limits, source)
    return walker.visit(tree.body, depth=0)


class _Walker:
    def __init__(self, variables, functions, constants, allow_comparisons, limits, source):
        self.source = source
        self.variables = variables
        self.functions = functions
        self.constants = constants
        self.allow_comparisons = allow_comparisons
        self.limits = limits

    def visit(self, node: ast.AST, depth: int) -> sp.Basic:
        if depth > self.limits.max_depth:
            raise UnsafeExpressionError(
                f"expression is nested deeper than {self.limits.max_depth} levels"
            )
        for kind, description in _FORBIDDEN_DESCRIPTIONS.items():
            if isinstance(node, kind):
                raise UnsafeExpressionError(f"{description} are not allowed in expressions")
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise UnsafeExpressionError(
                f"{type(node).__name__} syntax is not allowed in expressions"
            )
        return method(node, depth + 1)

    def visit_Constant(self, node: ast.Constant, depth: int) -> sp.Basic:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UnsafeExpressionError(f"literal {value!r} is not a real number")
        if isinstance(value, int):
            if abs(value) > self.limits.max_integer:
                raise UnsafeExpressionError(
                    f"integer {value} exceeds the limit {self.limits.max_integer}"
                )
            return sp.Integer(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ParseError("literal is not a finite number")
        if abs(value) > self.limits.max_integer:
            raise UnsafeExpressionError(f"number {value} exceeds the limit")
        # The literal's own text keeps every digit the user wrote (a float would not).
        text = ast.get_source_segment(self.source, node) or repr(value)
        return sp.Rational(text.replace("_", ""))

    def visit_Name(self, node: ast.Name, depth: int) -> sp.Basic:
        if node.id in self.variables:
            return self.variables[node.id]
        if node.id in self.constants:
            return self.constants[node.id]
        if node.id in self.functions:
            raise ParseError(f"{node.id!r} is a function: call it, as in {node.id}(z)")
        allowed = sorted({*self.variables, *self.constants})
        raise UnsafeExpressionError(
            f"unknown name {node.id!r}; allowed names: {', '.join(allowed)}"
        )

    def visit_BinOp(self, node: ast.BinOp, depth: int) -> sp.Basic:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise UnsafeExpressionError(f"operator {type(node.op).__name__} is not allowed")
        left = self.visit(node.left, depth)
        right = self.visit(node.right, depth)
        if isinstance(node.op, ast.Pow):
            self._check_exponent(right)
        if isinstance(node.op, ast.Div) and right == 0:
            raise ParseError("division by zero")
        return op(left, right)

    def _check_exponent(self, exponent: sp.Basic) -> None:
        if exponent.free_symbols:
            return
        try:
            size = abs(float(exponent))
        except (TypeError, ValueError):
            return
        if size > self.limits.max_exponent:
            raise UnsafeExpressionError(
                f"exponent {exponent} exceeds the limit {self.limits.max_exponent}"
            )

    def visit_UnaryOp(self, node: ast.UnaryOp, depth: int) -> sp.Basic:
        op = _UNARY.get(type(node.op))
        if op is None:
            raise UnsafeExpressionError(f"operator {type(node.op).__name__} is not allowed")
        return op(self.visit(node.operand, depth))

    def visit_Compare(self, node: ast.Compare, depth: int) -> sp.Basic:
        if not self.allow_comparisons:
            raise UnsafeExpressionError("comparisons are not allowed in this expression")
        if len(node.ops) != 1:
            raise ParseError("write one comparison at a time, such as 'a <= b'")
        relation = _COMPARE.get(type(node.ops[0]))
        if relation is None:
            raise UnsafeExpressionError("only <, <=, > and >= comparisons are allowed")
        return relation(self.visit(node.left, depth), self.visit(node.comparators[0], depth))

    def visit_Call(self, node: ast.Call, depth: int) -> sp.Basic:
        if not isinstance(node.func, ast.Name):
            raise UnsafeExpressionError("only calls of whitelisted functions are allowed")
        name = node.func.id
        if name not in self.functions:
            raise UnsafeExpressionError(
                f"unknown function {name!r}; allowed: {', '.join(sorted(self.functions))}"
            )
        if node.keywords:
            raise UnsafeExpressionError("keyword arguments are not allowed")
        args = [self.visit(arg, depth) for arg in node.args]
        try:
            return self.functions[name](*args)
        except ParseError:
            raise
        except TypeError:
            raise ParseError(f"wrong number of arguments for {name}()") from None
