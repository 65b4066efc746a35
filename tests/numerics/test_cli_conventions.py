"""One vocabulary across the subcommands: help with defaults, --json, --output, --seed."""

from __future__ import annotations

import argparse

import pytest

from featcheck.numerics.cli import build_parser, main
from featcheck.numerics.commands.common import non_negative_int, positive_int

#: spellings that other programs use for "write a file here"; featcheck says --output
OTHER_OUTPUT_SPELLINGS = {"--out", "--save", "--write", "--plot", "--figure", "--report", "--dir"}


def _commands() -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if path:
            found[" ".join(path)] = parser
        for action in subs:
            for name, sub in action.choices.items():
                walk(sub, (*path, name))

    walk(build_parser(), ())
    return found


COMMANDS = _commands()
LEAVES = sorted(
    name
    for name, parser in COMMANDS.items()
    if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
)


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.option_strings and not isinstance(a, argparse._HelpAction | argparse._VersionAction)
    ]


@pytest.mark.parametrize("command", LEAVES)
def test_every_option_has_help_that_states_its_default(command):
    parser = COMMANDS[command]
    formatter = parser._get_formatter()
    for action in _options(parser):
        assert action.help, f"featcheck {command} {action.option_strings[0]} has no help text"
        text = formatter._get_help_string(action)
        flag = action.nargs == 0
        if not (flag or action.required):
            assert "default" in text, (
                f"featcheck {command} {action.option_strings[0]}: help does not state the "
                f"default: {text!r}"
            )


@pytest.mark.parametrize("command", LEAVES)
def test_json_seed_and_output_mean_the_same_everywhere(command):
    options = {s: a for a in _options(COMMANDS[command]) for s in a.option_strings}
    if "--json" in options:
        assert options["--json"].nargs == 0, f"featcheck {command} --json must be a flag"
    if "--seed" in options:
        assert options["--seed"].type is non_negative_int, f"featcheck {command} --seed"
    assert not OTHER_OUTPUT_SPELLINGS & set(options), f"featcheck {command}: use --output"
    if "--samples" in options:
        assert "sample" in options["--samples"].help and "step" not in options["--samples"].help


@pytest.mark.parametrize(
    "command", [c for c in LEAVES if "--seed" in COMMANDS[c]._option_string_actions]
)
def test_negative_seed_is_one_line_and_exit_2(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command.split(), "--seed", "-1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "--seed" in err and "non-negative" in err


def test_no_command_prints_usage_to_stderr(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("usage: featcheck")


def _integer_options() -> list[tuple[str, str]]:
    """``(command, option)`` for every option that takes a whole number, except --seed."""
    found = []
    for command in LEAVES:
        for action in _options(COMMANDS[command]):
            integer = action.type in (int, non_negative_int, positive_int) or hasattr(
                action.type, "maximum"
            )
            if integer and "--seed" not in action.option_strings:
                found.append((command, action.option_strings[0]))
    return found


INTEGER_OPTIONS = _integer_options()


def test_the_size_options_are_found():
    assert len(INTEGER_OPTIONS) >= 25
    expected = [("linear", "--batch"), ("flow", "--dim"), ("onestep", "--samples")]
    expected += [("sweep", "--replicas"), ("simulate", "--threads"), ("hermite", "--digits")]
    assert set(expected) <= set(INTEGER_OPTIONS)


@pytest.mark.parametrize(("command", "option"), INTEGER_OPTIONS)
def test_every_size_option_has_an_upper_bound_checked_while_parsing(command, option, capsys):
    action = COMMANDS[command]._option_string_actions[option]
    assert hasattr(action.type, "maximum"), f"featcheck {command} {option} has no upper bound"
    with pytest.raises(SystemExit) as exit_info:
        main([*command.split(), option, str(10**12)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert option in err and "the limit is" in err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (
            ["linear", "--sgd", "--dim", "10000", "--batch", "100000", "--replicas", "100"],
            "--replicas 100, --batch 100000 with --dim 10000 needs ~",
        ),
        (
            ["onestep", "--activation", "relu", "--alpha", "0.3", "--dim", "1000000"],
            "--samples 500, --dim 1000000 with --width 500 needs ~",
        ),
        (
            ["flow", "plain", "--link", "he(3)", "--dim", "100000000", "--replicas", "1000"],
            "--dim 100000000 with --replicas 1000 needs ~",
        ),
        (
            ["simulate", "single-index", "--full", "--dim", "10000000", "--replicas", "1000"],
            "--dim 10000000 with --replicas 1000 needs ~",
        ),
    ],
)
def test_sizes_whose_memory_exceeds_the_limit_are_refused_before_allocating(
    argv, named, monkeypatch, capsys
):
    monkeypatch.setenv("FEATCHECK_MEMORY_LIMIT", "1G")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and "the limit is 1 GB" in err
