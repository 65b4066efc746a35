"""``featcheck sweep --config``: every TOML value is checked as its option is, the command
line wins by ``is not None`` (a 0 counts) and says so, and an undefined fit is reported as
such, never as NaN."""

from __future__ import annotations

import json

import pytest

from featcheck.numerics.cli import build_parser, main
from featcheck.numerics.commands.exponents import sweep_options


def _options(tmp_path, toml: str, *argv: str) -> dict:
    config = tmp_path / "sweep.toml"
    config.write_text(toml)
    args = build_parser().parse_args(["sweep", "--config", str(config), *argv])
    return sweep_options(args)


def test_a_falsy_command_line_value_wins_over_the_file(tmp_path, capsys):
    options = _options(tmp_path, "seed = 5\nr1 = 0.25\n", "--seed", "0", "--r1", "0")
    assert options["seed"] == 0 and options["r1"] == 0.0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert any("--seed 0 on the command line overrides seed = 5" in line for line in err)
    assert any("--r1 0.0 on the command line overrides r1 = 0.25" in line for line in err)


def test_the_file_fills_what_the_command_line_leaves_out(tmp_path, capsys):
    toml = 'seed = 5\nthreshold = 0.7\nno-cache = true\ndim = [50, 100]\ncache = "c"\n'
    options = _options(tmp_path, toml, "--replicas", "4")
    assert options["seed"] == 5 and options["threshold"] == 0.7 and options["no_cache"] is True
    assert options["dim"] == [50, 100] and options["replicas"] == 4
    assert options["learner"] is None  # the library's default applies
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("s = 2.5\n", "s = 2.5"),
        ("replicas = 3.9\n", "replicas = 3.9"),
        ("workers = -3\n", "workers = -3"),
        ('no_cache = "no"\n', "expected true or false"),
        ("seed = true\n", "seed = True"),
        ("threshold = 0\n", "between 0 and 1"),
        ("resamples = 1\n", "at least 100"),
        ("dim = []\n", "at least one value"),
        ("dim = [3, 1e12]\n", "the limit is"),
        ("replicas = [4, 5]\n", "one value"),
        ('learner = "smoothed"\n', "choose from"),
        ("learner = 5\n", "expected a string"),
        ("cache = 3\n", "expected a string"),
        ("dimension = [50, 100]\n", "unknown keys"),
        ("max-steps = 10\nmax_steps = 20\n", "twice"),
        ("[section]\nseed = 1\n", "unknown keys"),
        ("seed = \n", "not valid TOML"),
    ],
)
def test_a_bad_configuration_value_is_one_line_and_exit_2(tmp_path, capsys, toml, fragment):
    config = tmp_path / "sweep.toml"
    config.write_text(toml)
    assert main(["sweep", "--config", str(config), "--dim", "50", "100"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert fragment in err, err


def test_a_configuration_that_is_not_utf8_is_one_line_and_exit_2(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_bytes(b"seed = 1\n# \xff\xfe latin-1\n")
    assert main(["sweep", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not UTF-8" in err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--resamples", "1"], "at least 100"),
        (["--threshold", "0"], "between 0 and 1"),
        (["--replicas", "3.9"], "whole number"),
    ],
)
def test_command_line_values_are_checked_the_same_way(capsys, argv, fragment):
    with pytest.raises(SystemExit) as info:
        main(["sweep", "--dim", "50", "100", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err


def test_the_library_refuses_what_it_would_truncate(tmp_path):
    from featcheck.numerics.exponents.sweep import sweep
    from featcheck.theory.errors import InputError

    for bad in ({"replicas": 3.9}, {"s": 2.5}, {"no_cache": "no"}, {"resamples": 1}):
        with pytest.raises(InputError):
            sweep(dim=[50, 100], **bad)
    config = tmp_path / "sweep.toml"
    config.write_text("replicas = 3.9\n")
    with pytest.raises(InputError, match="replicas"):
        sweep(config=config, dim=[50, 100])


def test_a_fit_that_is_undefined_is_reported_without_a_number(tmp_path, capsys):
    argv = ["sweep", "--dim", "3", "4", "--replicas", "3", "--max-steps", "1000"]
    argv += ["--no-cache", "-o", str(tmp_path), "--json"]
    assert main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["measured_exponent"] is None and payload["interval"] is None
    curve = payload["curves"][0]
    assert "step 0" in curve["inconclusive"] and curve["contains_prediction"] is None
    text = (tmp_path / "sweep.json").read_text()
    assert "nan" not in text.lower()
