"""``featcheck linear``, ``check-bound`` and ``derive linear`` from the command line."""

import json

import pytest

from featcheck.numerics.cli import main


def _json(capsys, argv):
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_linear_json_keys(capsys):
    code, payload = _json(capsys, ["linear", "--t-max", "6", "--points", "7", "--json"])
    assert code == 0
    assert payload["T"] == pytest.approx(2.4487, rel=1e-3)
    assert set(payload["trajectory"]) == {"t", "cos_theta", "zeta", "norm", "loss"}
    assert len(payload["trajectory"]["t"]) == 7
    bounds = payload["bounds"]
    assert bounds["theorem1.before-T"]["status"] == "holds"
    assert bounds["theorem1.after-T"]["status"] == "violated"
    values = bounds["theorem1.before-T"]["values"]
    assert values[0] == pytest.approx(-0.8) and values[-1] is None  # outside t <= T


def test_linear_deep_with_sgd(capsys):
    code, payload = _json(
        capsys,
        [
            "linear",
            "--depth",
            "4",
            "--init",
            "0.6,0.8",
            "--t-max",
            "0.2",
            "--points",
            "3",
            "--sgd",
            "--steps",
            "200",
            "--batch",
            "200",
            "--replicas",
            "2",
            "--json",
        ],
    )
    assert code == 0
    assert payload["T"] == 0.0
    assert "theorem5.upper" in payload["bounds"]
    assert len(payload["sgd"]["t"]) == 3
    assert payload["sgd"]["cos_theta_mean"][-1] == pytest.approx(
        payload["trajectory"]["cos_theta"][-1], abs=0.02
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["linear", "--init", "0,0"],
        ["linear", "--init", "1,2,3"],
        ["linear", "--depth", "0"],
        ["linear", "--sgd", "--lr", "-1e-3"],
        ["linear", "--lr", "0"],
        ["linear", "--points", "1"],
        ["linear", "--sgd", "--seed", "-1"],
        ["check-bound", "cos_theta >= 0", "--search", "-1"],
        ["check-bound", "cos_theta >= 0", "--rho-range", "2,1"],
        ["check-bound", "cos_theta >= k", "--constant", "k=0"],
        ["check-bound", "__import__('os').system('ls') >= 0"],
        ["check-bound", "cos_theta >="],
        ["check-bound", "cos_theta >= k", "--constant", "k"],
        ["derive", "linear", "--depth", "0"],
    ],
)
def test_bad_input_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        raise SystemExit(main(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_check_bound_reports_violation_and_tightest_constant(capsys):
    code, payload = _json(
        capsys,
        [
            "check-bound",
            "norm <= k*rho0",
            "--constant",
            "k=1",
            "--grid",
            "2",
            "--search",
            "0",
            "--t-max",
            "5",
            "--json",
        ],
    )
    assert code == 1
    assert payload["status"] == "violated"
    assert payload["tightest_constant"] > 1


def test_derive_writes_document(tmp_path, capsys):
    out = tmp_path / "linear.md"
    assert main(["derive", "linear", "--depth", "3", "-o", str(out)]) == 0
    text = out.read_text()
    assert "Lemma 1" in text and "Theorem 1 (t > T): derived reading" in text
