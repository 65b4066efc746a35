"""The one direction of imports: theory never imports numerics."""

import pkgutil
import subprocess
import sys

import theory


def test_theory_never_imports_numerics():
    modules = [f"theory.{m.name}" for m in pkgutil.walk_packages(theory.__path__)]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'numerics' or m.startswith('numerics.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert len(modules) >= 5
    assert result.stdout.strip() == ""
