"""The one direction of imports: featcheck.theory never imports featcheck.numerics."""

import pkgutil
import subprocess
import sys

import featcheck.theory


def test_theory_never_imports_numerics():
    modules = [
        f"featcheck.theory.{m.name}" for m in pkgutil.walk_packages(featcheck.theory.__path__)
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.startswith('featcheck.numerics'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert len(modules) >= 5
    assert result.stdout.strip() == ""


def test_ode_path_is_family_free():
    """The one compile-and-integrate path imports no family's code."""
    code = (
        "import sys, featcheck.numerics.ode\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('featcheck.')"
        " and m.split('.')[-1] in ('spiked', 'linear', 'onestep', 'exponents', 'committee'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
