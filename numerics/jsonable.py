"""Plain JSON values from numpy, mpmath and sympy numbers; the ``to_json`` of result objects.

JSON has no NaN or infinity: a non-finite float becomes the string ``"nan"``, ``"inf"``
or ``"-inf"``, so that a reader sees it instead of a parser choking on it.  What the
command prints as a result goes through :func:`finite_plain`, which refuses such a value
with a :class:`~featcheck.theory.errors.NumericalError` naming the field: a result is a
number or an explicit ``null`` with its reason, never a NaN.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

from featcheck.theory.errors import NumericalError

#: How :func:`plain` writes a non-finite float.
NON_FINITE = ("nan", "inf", "-inf")


def plain(value: Any) -> Any:
    """Convert numpy, mpmath and sympy numbers (and containers of them) to JSON-ready values."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    # a numpy value exists only once numpy is loaded: the commands that print no array
    # (featcheck hermite) do not import it for this
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            return plain(value.tolist())
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return plain(float(value))
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to_json = getattr(value, "to_json", None)
        return to_json() if callable(to_json) else plain(dataclasses.asdict(value))
    try:
        return plain(float(value))
    except (TypeError, ValueError):
        return str(value)


def finite_plain(value: Any, name: str = "result") -> Any:
    """:func:`plain` of ``value``, refusing NaN and infinity anywhere inside it.

    Raises :class:`~featcheck.theory.errors.NumericalError` naming the first non-finite
    field (as ``name.key[index]``); the strings ``"nan"``, ``"inf"`` and ``"-inf"`` count
    as non-finite, since :func:`plain` writes non-finite floats that way.
    """
    data = plain(value)
    _require_finite(data, name)
    return data


def _require_finite(data: Any, where: str) -> None:
    if isinstance(data, dict):
        for key, item in data.items():
            _require_finite(item, f"{where}.{key}")
    elif isinstance(data, list):
        for index, item in enumerate(data):
            _require_finite(item, f"{where}[{index}]")
    elif (isinstance(data, float) and not math.isfinite(data)) or (
        isinstance(data, str) and data in NON_FINITE
    ):
        raise NumericalError(
            f"the computation produced a non-finite value ({data}) for {where}; "
            "the inputs are beyond what double precision resolves here"
        )


class JsonResult:
    """Mixin for the dataclasses the library returns: ``to_json()`` gives plain JSON data.

    Fields are emitted in declaration order; override :meth:`to_json` where the JSON
    keys differ from the field names.
    """

    def to_json(self) -> dict[str, Any]:
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        return {f.name: plain(getattr(self, f.name)) for f in fields}

    def dumps(self, indent: int | None = 2) -> str:
        """The JSON text of :meth:`to_json`."""
        return json.dumps(self.to_json(), indent=indent)
