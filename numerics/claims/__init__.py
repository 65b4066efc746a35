"""Registered claims: featcheck's own (one module per paper), users' claim files and
modules, and claims that installed packages ship through the ``featcheck.claims``
entry-point group.

:func:`load` imports featcheck's modules and every entry point and returns the
registry; :func:`load_user_claims` adds a user's file or module; :func:`select`
picks claims by id or id prefix.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from importlib import metadata
from pathlib import Path

from featcheck.numerics.claims.base import REGISTRY, Claim
from featcheck.theory.errors import InputError

CLAIM_MODULES = (
    "featcheck.numerics.claims.hermite",
    "featcheck.numerics.claims.linear",
    "featcheck.numerics.claims.onestep_moniri2024",
    "featcheck.numerics.claims.onestep_demir_dogan2025",
    "featcheck.numerics.claims.exponents",
    "featcheck.numerics.claims.spiked",
    "featcheck.numerics.claims.committee",
)

#: The entry-point group through which an installed package ships claims: each entry
#: point names a module (``mypackage.claims``) that registers claims when imported.
ENTRY_POINT_GROUP = "featcheck.claims"


def load() -> dict[str, Claim]:
    """Import featcheck's claim modules and every ``featcheck.claims`` entry point;
    return the registry (id -> claim)."""
    for name in CLAIM_MODULES:
        importlib.import_module(name)
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {entry_point.name!r} ({entry_point.value})"
        _import_reporting(lambda ep=entry_point: ep.load(), origin)
    return REGISTRY


def load_user_claims(spec: str | Path) -> list[Claim]:
    """Import a user's claims from a ``.py`` file path or an importable module name,
    and return the claims it registered.

    A file is imported under a name derived from its absolute path, so loading the same
    file twice replaces its claims rather than duplicating them. Bad input (no such file
    or module, an import that fails, a file that registers no claim, an id already taken
    by another definition) raises :class:`InputError` with one line.
    """
    text = str(spec)
    path = Path(text).expanduser()
    if text.endswith(".py") or path.suffix == ".py" or "/" in text or path.exists():
        module_name = _load_file(path)
    else:
        module_name = text
        if not all(part.isidentifier() for part in text.split(".")):
            raise InputError(f"--claims {text!r}: neither a .py file nor a module name")
        _import_reporting(lambda: _reimport(module_name), f"module {text!r}")
    claims = [c for c in REGISTRY.values() if c.module == module_name]
    if not claims:
        raise InputError(f"{text} registers no claims (decorate functions with featcheck.claim)")
    return claims


def _load_file(path: Path) -> str:
    if not path.is_file():
        raise InputError(f"claims file {path} does not exist")
    resolved = path.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
    stem = "".join(ch if ch.isalnum() else "_" for ch in resolved.stem)
    module_name = f"featcheck_user_claims.{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        raise InputError(f"cannot import {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module

    def execute() -> None:
        try:
            spec.loader.exec_module(module)  # type: ignore[union-attr]
        except BaseException:
            sys.modules.pop(module_name, None)
            raise

    _import_reporting(execute, str(path))
    return module_name


def _reimport(name: str) -> None:
    """Import ``name``; run it again if it was imported before (a notebook re-run)."""
    if name in sys.modules:
        importlib.reload(sys.modules[name])
    else:
        importlib.import_module(name)


def _import_reporting(action, origin: str) -> None:
    """Run an import; turn any failure into one :class:`InputError` line naming ``origin``."""
    try:
        action()
    except InputError as exc:
        raise InputError(f"{origin}: {exc}") from None
    except ModuleNotFoundError as exc:
        raise InputError(f"{origin}: no module named {exc.name!r}") from None
    except SyntaxError as exc:
        raise InputError(
            f"{origin}: syntax error in {Path(exc.filename or '?').name} line {exc.lineno}: "
            f"{exc.msg}"
        ) from None
    except Exception as exc:  # a user's module may raise anything while importing
        raise InputError(f"{origin}: importing it raised {type(exc).__name__}: {exc}") from None


def select(patterns: list[str], claims: list[Claim] | None = None) -> list[Claim]:
    """Claims whose id equals a pattern or starts with ``pattern.``; all when empty.

    ``claims`` restricts the choice (default: every registered claim).
    """
    pool = list(load().values()) if claims is None else claims
    if not patterns:
        return pool
    chosen: list[Claim] = []
    for pattern in patterns:
        matches = [c for c in pool if c.id == pattern or c.id.startswith(pattern.rstrip(".") + ".")]
        if not matches:
            raise InputError(
                f"no claim matches {pattern!r}; known ids start with: "
                + ", ".join(sorted({c.id.split(".")[0] for c in pool}))
            )
        chosen += [c for c in matches if c not in chosen]
    return chosen
