"""One exception hierarchy for the whole toolkit.

Every error a user can cause derives from :class:`InputError`; the command
prints its message on one line and exits with status 2.  A method that cannot
deliver the accuracy or the result it promises raises :class:`NumericalError`
(exit status 3).  Anything else reaching the command is a bug: one line says so
(exit status 70), and ``--debug`` or ``FEATCHECK_DEBUG=1`` shows the traceback.
"""


class FeatcheckError(Exception):
    """Base class of every error raised on purpose by featcheck."""


class InputError(FeatcheckError, ValueError):
    """Bad input that the user can correct (exit status 2)."""


class ParseError(InputError):
    """A user expression that cannot be parsed."""


class UnsafeExpressionError(ParseError):
    """A user expression that uses something outside the whitelist."""


class UnknownFunctionError(InputError):
    """A function name that is neither in the catalogue nor a valid expression."""


class NotSquareIntegrableError(InputError):
    """A function with ``E[f(Z)^2] = inf`` under the standard Gaussian."""


class DomainError(InputError):
    """A parameter outside the range where a statement or a method is defined."""


class NumericalError(FeatcheckError):
    """A numerical method that did not reach the accuracy it promised (exit status 3)."""


class BudgetExceeded(NumericalError):
    """A computation that did not finish within its time budget."""
