"""``featcheck exponent``, ``featcheck sweep``, ``featcheck derive exponent`` and the library
functions behind them."""

import json

import pytest
import sympy as sp

from featcheck.numerics.cli import main
from featcheck.theory.errors import DomainError, InputError


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
        ["sweep", "--dim", "100", "--s", "1"],
        ["sweep", "--dim", "100", "1000", "--max-steps", "200"],
        ["sweep", "--dim-grid", "100:10"],
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
    assert "Stationary overlap: the effective start" in text and "g = - r_{2} s" in text


def test_sweep_json_plot_cache_and_toml(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(
        'learner = "online"\ns = [1]\ndim = [50, 100, 200]\nreplicas = 6\nmax_steps = 100000\n'
        f'resamples = 100\ncache = "{tmp_path / "cache"}"\noutput = "{tmp_path / "out"}"\n'
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
        "--dim",
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


# ---------------------------------------------------------------------------
# the library functions behind the commands


def test_exponent_library_matches_the_command(capsys):
    from featcheck.numerics.exponents.predicted import ExponentReport, exponent

    report = exponent(learner="spiked-online", s=3, r1=0.25, r2=0.7)
    assert isinstance(report, ExponentReport)
    assert report.exact == sp.Rational(13, 10) and report.regime.startswith("(iii)")
    argv = ["exponent", "--learner", "spiked-online", "--s", "3", "--r1", "0.25", "--r2", "0.7"]
    _, payload = _json(capsys, [*argv, "--json"])
    assert report.to_json() == payload
    rho0 = exponent(learner="rho0", r1=0.25, r2=0.375)
    assert rho0.s is None and rho0.sample_complexity == "rho0 ~ d**(-3/8)"
    assert "consistency" not in rho0.to_json()
    with pytest.raises(DomainError, match="r1 and r2 apply"):
        exponent(learner="online", s=3, r2=0.5)


def test_sweep_library_reads_toml_and_keywords_win(tmp_path):
    from featcheck.numerics.exponents.sweep import SweepReport, sweep

    config = tmp_path / "sweep.toml"
    config.write_text("s = [1]\ndim = [50, 100]\nreplicas = 4\nmax-steps = 100000\nseed = 7\n")
    report = sweep(config=config, replicas=5, no_cache=True, resamples=100)
    assert isinstance(report, SweepReport)
    assert report.spec.replicas == 5 and report.spec.seed == 7  # keyword over file over default
    assert report.spec.ds == (50, 100) and report.cache is None and report.output is None
    payload = report.to_json()
    assert payload["predicted_exponent"] == 1.0 and len(payload["points"]) == 2
    data, figure = report.write(tmp_path / "out")
    assert json.loads(data.read_text()) == json.loads(report.dumps())
    assert figure.stat().st_size > 0
    with pytest.raises(InputError, match="unknown keys"):
        config.write_text("dimension = [50, 100]\n")
        sweep(config=config)
