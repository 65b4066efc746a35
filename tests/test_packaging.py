"""One import root: what the distribution installs; what a working directory cannot break."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import featcheck

ROOT = Path(__file__).resolve().parent.parent


def _package_directories() -> set[str]:
    found = {"featcheck"}
    for top in ("theory", "numerics"):
        for init in (ROOT / top).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT)
            found.add(".".join(("featcheck", *relative.parts)))
    return found


def test_pyproject_lists_every_package_directory():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"featcheck": "."}
    assert set(config["packages"]) == _package_directories()


def test_public_api_is_listed_and_importable():
    exported = set(featcheck.__all__) - {"__version__"}
    assert exported == set(featcheck._EXPORTS)
    for name in featcheck.__all__:
        assert getattr(featcheck, name) is not None, name
    assert featcheck.__version__ != "0+unknown"
    with pytest.raises(AttributeError):
        _ = featcheck.no_such_name


@pytest.mark.slow
def test_wheel_installs_only_featcheck(tmp_path):
    """A regular (non-editable) build puts one top-level package into site-packages."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("featcheck-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"featcheck", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "featcheck/theory/hermite.py" in names
    assert "featcheck/numerics/cli.py" in names
    assert not any(name.startswith("featcheck/tests/") for name in names)


def test_local_theory_and_numerics_modules_break_nothing(tmp_path):
    """A theorist's own theory.py and numerics.py beside their notebook shadow nothing."""
    (tmp_path / "theory.py").write_text("raise RuntimeError('the user module was imported')\n")
    (tmp_path / "numerics.py").write_text("raise RuntimeError('the user module was imported')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = (
        "import featcheck\n"
        "e = featcheck.hermite_coefficients('relu', 2)\n"
        "print(e.coefficients[1].exact, featcheck.claim.__module__)\n"
    )
    api = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert api.returncode == 0, api.stderr
    assert api.stdout.split() == ["1/2", "featcheck.numerics.claims.base"]
    cli = subprocess.run(
        [sys.executable, "-m", "featcheck", "hermite", "relu", "--max-degree", "1", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stderr
    assert '"1/2"' in cli.stdout


def test_the_version_is_set_in_one_place():
    """pyproject.toml sets it; the package metadata, featcheck.__version__ and the
    citation file follow."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert featcheck.__version__ == version
    citation = (ROOT / "CITATION.cff").read_text()
    assert f"\nversion: {version}\n" in citation


def test_numba_caches_outside_the_package(tmp_path):
    """Compiled kernels go to the user's cache directory: files left inside an installed
    package outlive an uninstall and shadow a later editable install."""
    package = Path(featcheck.__file__).resolve().parent / "numerics"
    before = set(package.rglob("*.nbi"))
    code = (
        "import numpy as np\n"
        "from featcheck.numerics.committee.kernels import cholesky_psd\n"
        "cholesky_psd(np.eye(2), np.zeros((2, 2)))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    assert list((tmp_path / "featcheck" / "numba").rglob("kernels.cholesky_psd-*.nbi"))
    assert set(package.rglob("*.nbi")) == before
