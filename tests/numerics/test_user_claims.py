"""Users' own claims: --claims files and modules, the entry-point group, featcheck.testing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import featcheck
from featcheck.numerics.claims import load_user_claims
from featcheck.numerics.claims.base import REGISTRY
from featcheck.testing import ClaimFailed, ClaimInconclusive, assert_claim_holds

CLAIM_TEMPLATE = """
import featcheck

@featcheck.claim(
    "{id}",
    provenance=featcheck.printed(featcheck.Paper("T. User", 2026, "Notes"), "Lemma 1"),
    statement="two plus two is {value}",
)
def {name}(ctx):
    return featcheck.Evidence([featcheck.within("2 + 2", {value}, 2 + 2, 0)])
"""


def _write(path: Path, claim_id: str, value: int = 4, name: str = "lemma") -> Path:
    path.write_text(CLAIM_TEMPLATE.format(id=claim_id, value=value, name=name))
    return path


def _featcheck(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "featcheck", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def test_verify_runs_a_claims_file_and_only_its_claims(tmp_path):
    _write(tmp_path / "ok.py", "user.ok")
    _write(tmp_path / "wrong.py", "user.wrong", value=5)
    result = _featcheck(
        "verify", "--claims", "ok.py", "--claims", "wrong.py", "--output", "out", cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    payload = json.loads((tmp_path / "out" / "results.json").read_text())
    statuses = {c["id"]: c["status"] for c in payload["claims"]}
    assert statuses == {"user.ok": "holds", "user.wrong": "violated"}
    wrong = next(c for c in payload["claims"] if c["id"] == "user.wrong")
    assert wrong["provenance"] == {
        "paper": "T. User (2026), Notes",
        "arxiv": None,
        "where": "Lemma 1",
        "kind": "printed",
        "derivation": None,
    }
    assert "user.wrong is violated" in result.stdout
    assert "counterexample: 2 + 2: predicted 5, measured 4, tol 0" in result.stdout


def test_verify_loads_a_module_by_name(tmp_path):
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    _write(package / "claims.py", "mypkg.lemma")
    result = _featcheck(
        "verify",
        "--claims",
        "mypkg.claims",
        "--json",
        cwd=tmp_path / "..",
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert [c["id"] for c in json.loads(result.stdout)["claims"]] == ["mypkg.lemma"]


def test_an_installed_package_ships_claims_through_the_entry_point_group(tmp_path):
    _write(tmp_path / "shipped_claims.py", "shipped.lemma")
    info = tmp_path / "shipped-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shipped\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[featcheck.claims]\nshipped = shipped_claims\n")
    listed = _featcheck(
        "verify", "--list", "shipped", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("shipped.lemma\tT. User (2026), Lemma 1 [printed]")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "claims file missing.py does not exist"),
        (lambda d: (d / "bad.py").write_text("def f(:\n"), "syntax error in bad.py line 1"),
        (lambda d: (d / "bad.py").write_text("raise RuntimeError('boom')\n"), "RuntimeError: boom"),
        (lambda d: (d / "bad.py").write_text("import featcheck\n"), "registers no claims"),
        (lambda d: (d / "bad.py").write_text("import no_such_module_xyz\n"), "no_such_module_xyz"),
    ],
)
def test_bad_claim_sources_are_one_line_and_exit_2(tmp_path, setup, message):
    setup(tmp_path)
    name = "missing.py" if "missing" in message else "bad.py"
    result = _featcheck("verify", "--claims", name, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_the_same_id_from_two_definitions_is_refused(tmp_path):
    _write(tmp_path / "one.py", "user.same")
    _write(tmp_path / "two.py", "user.same")
    result = _featcheck("verify", "--claims", "one.py", "--claims", "two.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "claim id 'user.same' is defined twice" in result.stderr
    assert "Traceback" not in result.stderr


def test_loading_the_same_file_again_replaces_its_claims(tmp_path):
    path = _write(tmp_path / "again.py", "user.again")
    try:
        first = load_user_claims(path)
        path.write_text(CLAIM_TEMPLATE.format(id="user.again", value=5, name="lemma"))
        second = load_user_claims(path)
        assert [c.id for c in first] == [c.id for c in second] == ["user.again"]
        assert REGISTRY["user.again"] is second[0] and second[0] is not first[0]
    finally:
        REGISTRY.pop("user.again", None)


def test_re_running_a_notebook_cell_replaces_the_claim():
    code = CLAIM_TEMPLATE.format(id="user.cell", value=4, name="cell")
    namespace = {"__name__": "__main__"}
    try:
        exec(code, namespace)
        first = REGISTRY["user.cell"]
        exec(code, dict(namespace))
        assert REGISTRY["user.cell"] is not first
        assert REGISTRY["user.cell"].definition == first.definition == ("__main__", "cell")
    finally:
        REGISTRY.pop("user.cell", None)


def _register(claim_id: str, evidence: featcheck.Evidence):
    def run(ctx):
        return evidence

    run.__qualname__ = f"run_{claim_id}"
    featcheck.claim(
        claim_id, provenance=featcheck.reading(None, "a test"), statement="a test claim"
    )(run)
    return run


def test_assert_claim_holds_reports_the_counterexample():
    try:
        run = _register("user.fails", featcheck.Evidence([featcheck.within("x", 0, 1, 0.5, d=7)]))
        with pytest.raises(ClaimFailed) as failure:
            assert_claim_holds(run)
        text = str(failure.value)
        assert "claim user.fails is violated" in text
        assert "counterexample: x: predicted 0, measured 1, tol 0.5" in text and "d=7" in text
        assert failure.value.evidence.status == "violated"
        assert assert_claim_holds("hermite.information-exponent").status == "holds"
    finally:
        REGISTRY.pop("user.fails", None)


def test_an_inconclusive_claim_fails_or_skips_and_says_why():
    evidence = featcheck.Evidence([featcheck.within("x", 0, 0, 1)], note="too small a d")
    evidence.inconclusive = True
    try:
        run = _register("user.undecided", evidence)
        with pytest.raises(ClaimInconclusive, match="could not decide: too small a d"):
            assert_claim_holds(run)
        with pytest.raises(pytest.skip.Exception, match="too small a d"):
            assert_claim_holds(run, inconclusive="skip")
    finally:
        REGISTRY.pop("user.undecided", None)


def test_bad_ids_and_sources_are_input_errors():
    with pytest.raises(featcheck.InputError, match="claim id"):
        featcheck.claim("has space", provenance=featcheck.reading(None, "x"), statement="")
    with pytest.raises(featcheck.InputError, match="provenance"):
        featcheck.claim("ok.id", provenance="a string", statement="")
    with pytest.raises(featcheck.InputError, match="derivation"):
        featcheck.Provenance(None, "Lemma 1", "derived")
    with pytest.raises(featcheck.InputError, match="kind"):
        featcheck.Provenance(None, "Lemma 1", "proved")


def test_the_worked_example_of_the_guide_runs(tmp_path):
    """docs/your-own-claims.md: the example file through the command."""
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "my_claims.py"
    result = _featcheck("verify", "--claims", str(example), "--output", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert "mynotes.lemma2        holds" in result.stdout
    assert "mynotes.lemma2-draft  violated" in result.stdout


def test_the_guide_shows_the_example_files_as_they_are():
    root = Path(__file__).resolve().parents[2]
    guide = (root / "docs" / "your-own-claims.md").read_text()
    for name in ("my_claims.py", "test_my_claims.py"):
        text = (root / "docs" / "examples" / name).read_text()
        assert f"```python\n{text}```" in guide, name
