"""One vocabulary across the subcommands: help with defaults, --json, --output, --seed."""

from __future__ import annotations

import argparse

import pytest

from featcheck.numerics.cli import build_parser, main
from featcheck.numerics.commands.common import non_negative_int

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
