"""``featcheck flow`` and ``featcheck derive spiked``."""

import json

import numpy as np
import pytest

from featcheck.numerics.cli import main
from featcheck.numerics.spiked.flow import FlowResult, flow
from featcheck.theory.errors import InputError

KEYS = {
    "flow",
    "parameters",
    "final_overlap",
    "final_rho",
    "escape_time",
    "fixed_points",
    "trajectory",
}


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_plain_flow_fails_and_normalized_recovers(capsys):
    plain = _json(
        capsys, ["flow", "plain", "--link=-h(4)", "--kappa", "10", "--dim", "10000", "--json"]
    )
    assert set(plain) == KEYS
    assert plain["escape_time"] is None and abs(plain["final_rho"]) < 1e-6
    stable = [p["location"] for p in plain["fixed_points"] if p["stable"]]
    assert stable == [0.0]
    norm = _json(
        capsys, ["flow", "normalized", "--link=-h(4)", "--kappa", "10", "--dim", "10000", "--json"]
    )
    assert norm["final_rho"] > 0.999 and norm["escape_time"] > 0
    assert set(norm["trajectory"]) == {"t", "overlap"}


def test_monte_carlo_band(capsys):
    out = _json(
        capsys,
        [
            "flow",
            "normalized",
            "--link",
            "he(2)",
            "--kappa",
            "3",
            "--alignment",
            "0.7",
            "--dim",
            "50",
            "--init",
            "0.3",
            "--t-max",
            "5",
            "--replicas",
            "4",
            "--steps",
            "2000",
            "--lr",
            "0.002",
            "--json",
        ],
    )
    assert set(out) == KEYS | {"monte_carlo"}
    mc = out["monte_carlo"]
    assert (mc["replicas"], mc["steps"], mc["eta"]) == (4, 2000, 0.002)
    assert len(mc["t"]) == len(mc["mean"]) == len(mc["lower"]) == len(mc["upper"])
    assert all(
        lo <= m <= hi for lo, m, hi in zip(mc["lower"], mc["mean"], mc["upper"], strict=True)
    )
    assert {fp["variable"] for fp in out["fixed_points"]} == {"(a, b)"}  # general system


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--kappa", "-1"], "kappa"),
        (["--alignment", "1.5"], "alignment"),
        (["--dim", "2"], "dimension"),
        (["--init", "2"], "initial overlap"),
        (["--replicas", "0"], "positive"),
        (["--lr", "-0.1", "--replicas", "2"], "positive"),
        (["--seed", "-1", "--replicas", "2"], "non-negative"),
        (["--t-max", "0"], "positive"),
        (["--link", "he(3)"], "c_s(phi) g_s > 0"),
        (["--link", "import os"], ""),
        (["--activation", "max(z, 0)*tanh(z)"], "kinks"),
    ],
)
def test_bad_input_exits_2(argv, message, capsys):
    base = ["flow", "plain", "--link", "he(2)"]
    with pytest.raises(SystemExit) as exit_info:
        code = main(base + argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_derive_writes_document(tmp_path, capsys):
    target = tmp_path / "doc.md"
    assert (
        main(["derive", "spiked", "--flow", "normalized", "--link", "he(4)", "-o", str(target)])
        == 0
    )
    text = target.read_text()
    assert "Aligned reduction" in text and "FAILS" in text  # relu with he(4): c_4 g_4 < 0


def test_general_fixed_points_are_numeric_and_contain_the_flow_limit(capsys):
    argv = ["flow", "plain", "--link=-h(4)", "--kappa", "10", "--alignment", "0.5"]
    out = _json(capsys, [*argv, "--dim", "100", "--init", "0.9", "--json"])
    assert out["parameters"]["fixed_points"].startswith("numeric")
    stable = [fp for fp in out["fixed_points"] if fp["stability"] == "stable"]
    assert stable and all(fp["variable"] == "(a, b)" for fp in stable)
    assert all(max(fp["eigenvalues"]) < 0 for fp in stable)
    # the integrated flow stops at one of the reported stable points
    assert min(abs(fp["rho"] - out["final_rho"]) for fp in stable) < 1e-5
    assert min(abs(fp["location"][1] - out["final_overlap"]) for fp in stable) < 1e-5


def test_normalized_flow_reports_the_curve_rho_zero(capsys):
    argv = ["flow", "normalized", "--link", "he(2)", "--kappa", "3", "--alignment", "0.6"]
    out = _json(capsys, [*argv, "--dim", "200", "--init", "0.2", "--json"])
    curves = [fp for fp in out["fixed_points"] if "curve" in fp]
    assert len(curves) == 1 and abs(curves[0]["curve"]["rho"]) < 1e-6
    assert curves[0]["curve"]["points_found"] > 1
    ends = sorted(fp["rho"] for fp in out["fixed_points"] if fp["stability"] == "stable")
    assert ends == pytest.approx([-1.0, 1.0], abs=1e-9)


def test_preconditioned_fixed_points_in_the_whitened_overlap(capsys):
    argv = ["flow", "preconditioned", "--link=-h(4)", "--kappa", "10", "--alignment", "0.5"]
    out = _json(capsys, [*argv, "--dim", "10000", "--json"])
    assert [fp["variable"] for fp in out["fixed_points"]] == ["rho"] * 3
    assert [fp["stability"] for fp in out["fixed_points"]] == ["stable", "degenerate", "stable"]
    assert "every c" in out["parameters"]["fixed_points"]


def test_fixed_points_not_computed_for_c_minus_one_says_why(capsys):
    argv = ["flow", "normalized", "--link", "he(2)", "--kappa", "3", "--alignment", "-1"]
    out = _json(capsys, [*argv, "--dim", "50", "--json"])
    assert out["fixed_points"] == []
    assert out["parameters"]["fixed_points"].startswith("not computed")


def test_library_flow_matches_the_command(capsys):
    result = flow(variant="plain", activation="relu", link="-h(4)", kappa=10.0, dim=10000)
    assert isinstance(result, FlowResult)
    assert result.to_json() == _json(
        capsys, ["flow", "plain", "--link=-h(4)", "--kappa", "10", "--dim", "10000", "--json"]
    )
    assert result.init == pytest.approx(0.01)
    assert (
        len(result.t)
        == len(result.overlap)
        == len(result.rho)
        > len(result.to_json()["trajectory"]["t"])
    )
    assert np.isclose(result.overlap[-1], result.final_overlap)
    assert result.summary().splitlines()[0].startswith("plain flow: phi = relu, g = -h(4)")


@pytest.mark.parametrize(
    "changes",
    [{"seed": -1, "replicas": 2}, {"replicas": 0}, {"steps": 0}, {"eta": 0.0}, {"t_max": -1.0}],
)
def test_library_flow_rejects_bad_input_before_any_work(changes):
    with pytest.raises(InputError):
        flow(variant="normalized", activation="relu", link="he(2)", **changes)
