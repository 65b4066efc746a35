"""The library behind ``featcheck onestep``: results, model choice, bad input."""

import dataclasses
import json

import pytest
import sympy as sp

from featcheck.numerics.cli import main
from featcheck.numerics.onestep.run import OneStepB, onestep, onestep_a, onestep_b
from featcheck.theory.errors import InputError
from featcheck.theory.functions import parse_function, z

SMALL = {"dim": 60, "samples": 60, "width": 60}


def test_command_prints_the_library_result(capsys):
    result = onestep(activation="relu", link="tanh", beta=0.6, weight=0.9, **SMALL, seed=3)
    assert isinstance(result, OneStepB)
    argv = ["onestep", "--activation", "relu", "--beta", "0.6", "--weight", "0.9"]
    sizes = ["--dim", "60", "--samples", "60", "--width", "60", "--seed", "3", "--json"]
    assert main([*argv, *sizes]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(result.dumps())


def test_model_a_result_is_frozen_and_typed():
    result = onestep_a(activation="tanh", link="tanh", alpha=0.355, **SMALL)
    assert result.model.startswith("A") and result.predicted_spikes.degrees == (1, 3)
    assert result.hermite_model.defined is False
    assert all(isinstance(s, float) for s in result.singular_values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.eta = 0.0  # type: ignore[misc]
    payload = result.to_json()
    assert payload["predicted_spikes"]["degrees"] == [1, 3]
    assert payload["alignments"][0]["outlier"] == 1


def test_every_function_like_gives_the_same_run():
    by_name = onestep_a(activation="tanh", link="relu", alpha=0.3, **SMALL)
    by_expr = onestep_a(activation=sp.tanh(z), link=parse_function("relu"), alpha=0.3, **SMALL)
    assert by_name == by_expr


def test_model_b_terms_keep_exact_exponents():
    result = onestep_b(activation="relu", link="tanh", beta=0.74, weight=0.5, **SMALL)
    spread = [t for t in result.predicted_spikes.terms if t.present]
    assert [(t.mechanism, t.degree) for t in spread] == [("spread", 1)]
    assert spread[0].exponent == sp.Rational(37, 200)
    assert result.to_json()["predicted_spikes"]["terms"][0]["exponent"] == "37/200"
    assert result.hermite_model.degree == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "either alpha"),
        ({"alpha": 0.3, "beta": 0.6}, "either alpha"),
        ({"alpha": 0.3, "weight": 0.5}, "weight belongs to model B"),
        ({"alpha": 0.3, "data": "mixture"}, "isotropic data"),
        ({"beta": 0.6}, "needs weight"),
        ({"alpha": 0.3, "noise": -1.0}, "noise"),
        ({"alpha": 0.3, "seed": -1}, "seed"),
        ({"beta": 0.6, "weight": 0.5, "data": "sphere"}, "unknown data"),
        ({"beta": 0.6, "weight": 0.5, "dim": 40}, "at least 50"),
    ],
)
def test_bad_input_is_an_input_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        onestep(activation="tanh", link="tanh", **{**SMALL, **kwargs})
