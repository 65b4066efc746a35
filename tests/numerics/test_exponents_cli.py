"""``featcheck exponent``, ``featcheck sweep`` and ``featcheck derive exponent``."""

import json

import pytest

from featcheck.numerics.cli import main


def _json(capsys, argv):
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_exponent_json(capsys):
    code, payload = _json(
        capsys,
        [
            "exponent",
            "--learner",
            "spiked-online",
            "--s",
            "3",
            "--r1",
            "0.25",
            "--r2",
            "0.7",
            "--json",
        ],
    )
    assert code == 0
    assert payload["exponent"] == "13/10" and payload["value"] == pytest.approx(1.3)
    assert payload["regime"].startswith("(iii)") and payload["convention"] == "A"
    assert all(payload["consistency"].values())
    code, payload = _json(capsys, ["exponent", "--learner", "online", "--s", "2", "--json"])
    assert payload["log_factor"] == "log(d)" and payload["sample_complexity"] == "d*log(d)"


@pytest.mark.parametrize(
    "argv",
    [
        ["exponent", "--learner", "smoothed", "--s", "1"],
        ["exponent", "--learner", "online", "--s", "3", "--r2", "0.5"],
        ["exponent", "--learner", "spiked-batch", "--s", "3", "--r1", "0.9", "--r2", "0.5"],
        ["exponent", "--learner", "online"],
        ["sweep", "--d", "100", "--s", "1"],
        ["sweep", "--d", "100", "1000", "--max-steps", "200"],
        ["sweep", "--d-grid", "100:10"],
        ["derive", "preconditioning-gain", "--comparator", "isotropic", "--plain"],
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_derive_exponent(tmp_path):
    out = tmp_path / "e.md"
    assert main(["derive", "exponent", "--learner", "spiked-online", "-o", str(out)]) == 0
    text = out.read_text()
    assert "Drift versus noise" in text and "Continuity at r2 = r1" in text


def test_derive_preconditioning_gain(tmp_path):
    out = tmp_path / "g.md"
    argv = ["derive", "preconditioning-gain", "--comparator", "normalized", "-o", str(out)]
    assert main(argv) == 0
    text = out.read_text()
    assert "Drift versus noise, anisotropic step" in text and "g = - r_{2}" in text


def test_sweep_json_plot_cache_and_toml(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(
        'learner = "online"\ns = [1]\nd = [50, 100, 200]\nreplicas = 6\nmax_steps = 100000\n'
        f'resamples = 99\ncache = "{tmp_path / "cache"}"\noutput = "{tmp_path / "out"}"\n'
    )
    code, payload = _json(capsys, ["sweep", "--config", str(config), "--json"])
    assert code == 0
    assert len(payload["interval"]) == 2 and payload["predicted_exponent"] == 1.0
    assert [p["d"] for p in payload["points"]] == [50, 100, 200]
    assert all(p["n_star"] > 0 and p["replicates"] == 6 for p in payload["points"])
    assert (tmp_path / "out" / "loglog.png").stat().st_size > 0
    code, again = _json(capsys, ["sweep", "--config", str(config), "--json"])
    assert again["computed_cells"] == 0 and again["points"] == payload["points"]


def test_sweep_reports_censored_points(tmp_path, capsys):
    argv = [
        "sweep",
        "--s",
        "3",
        "--d",
        "200",
        "400",
        "--replicas",
        "4",
        "--max-steps",
        "400",
        "--no-cache",
        "-o",
        str(tmp_path),
    ]
    assert main([*argv, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["measured_exponent"] is None and payload["interval"] is None
    assert all(p["n_star"] is None for p in payload["points"])
    assert main(argv) == 0
    assert "censored" in capsys.readouterr().out
