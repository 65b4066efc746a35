"""The featcheck command: output, JSON keys, derivations and exit codes."""

import json
import subprocess
import sys

import pytest

from featcheck.numerics.cli import main


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "featcheck.numerics.cli", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_hermite_json(capsys):
    assert main(["hermite", "relu", "--max-degree", "4", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {"function", "basis", "method", "information_exponent", "coefficients"} <= set(payload)
    assert payload["method"] == "exact" and payload["information_exponent"] == 1
    first = payload["coefficients"][2]
    assert set(first) >= {"degree", "exact", "value", "error"}
    assert first["exact"] == "1/(2*sqrt(pi))" and first["error"] == 0


def test_hermite_numeric_json_carries_errors(capsys):
    assert main(["hermite", "tanh", "--max-degree", "3", "--basis", "monic", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    c1 = payload["coefficients"][1]
    assert payload["method"] == "numeric" and c1["exact"] is None and 0 < c1["error"] < 1e-25


def test_hermite_table(capsys):
    assert main(["hermite", "abs", "--max-degree", "4"]) == 0
    out = capsys.readouterr().out
    assert "information exponent: 2" in out and "sqrt(2)/sqrt(pi)" in out


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_derive_hermite(fmt, capsys):
    assert main(["derive", "hermite", "relu(z+1)", "--max-degree", "4", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "Information exponent" in out
    if fmt == "tex":
        assert out.startswith("\\documentclass") and out.rstrip().endswith("\\end{document}")


@pytest.mark.parametrize(
    "args",
    [
        ["hermite", "gelu"],
        ["hermite", "exp(z^2)"],
        ["hermite", "__import__('os')"],
        ["hermite", "z.real"],
        ["hermite", "relu", "--max-degree", "-3"],
        ["hermite", "relu", "--basis", "other"],
        ["hermite", "relu", "--digits", "2"],
        ["hermite", "1/z"],
        ["verify", "no-such-claim"],
        ["derive", "hermite", "he(-1)"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args):
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "error" in result.stderr


def test_verify_writes_json_and_report(tmp_path):
    report = tmp_path / "report"
    json_path = report / "results.json"
    result = run(
        "verify",
        "hermite.information-exponent",
        "hermite.scaling",
        "--output",
        str(report),
        "--seed",
        "5",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hermite.scaling" in result.stdout and "2 hold" in result.stdout
    payload = json.loads(json_path.read_text())
    on_stdout = run("verify", "hermite.scaling", "--output", str(report), "--json", "--seed", "5")
    assert on_stdout.returncode == 0, on_stdout.stderr
    assert json.loads(on_stdout.stdout)["claims"][0]["id"] == "hermite.scaling"
    assert "1 hold" in on_stdout.stderr
    assert payload["provenance"]["seed"] == 5 and payload["provenance"]["budget"] == "quick"
    assert payload["provenance"]["versions"]["sympy"]
    claim = payload["claims"][0]
    assert set(claim) >= {
        "id",
        "source",
        "provenance",
        "statement",
        "status",
        "predicted",
        "measured",
        "tolerance",
        "counterexample",
    }
    assert set(claim["provenance"]) >= {"paper", "arxiv", "where", "kind"}
    assert (report / "report.md").read_text().startswith("# featcheck verification report")


def test_verify_exits_1_when_a_claim_is_violated(tmp_path, monkeypatch):
    from featcheck.numerics import claims
    from featcheck.numerics.claims import base

    failing = base.Claim(
        "zz.fails",
        base.Provenance(None, "a test", "reading"),
        "always violated",
        lambda ctx: base.Evidence([base.within("x", 0, 1, 0.5)]),
    )
    monkeypatch.setitem(base.REGISTRY, "zz.fails", failing)
    monkeypatch.setattr(claims, "select", lambda patterns, pool=None: [failing])
    assert main(["verify", "zz", "--output", str(tmp_path)]) == 1
