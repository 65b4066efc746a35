"""Hostile arguments in-process: every failure is one line, an exit status and no traceback.

Every generated command line carries at least one value its option refuses, so that no
example starts a computation; the expressions of ``hermite`` are the exception, at the
smallest degree and precision, under a short time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from featcheck.numerics.cli import build_parser, main

PARSER = build_parser()


def _leaves() -> dict[str, argparse.ArgumentParser]:
    found = {}

    def walk(parser, path):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs and path:
            found[" ".join(path)] = parser
        for action in subs:
            for name, sub in action.choices.items():
                walk(sub, (*path, name))

    walk(PARSER, ())
    return found


LEAVES = _leaves()
#: (command, option) pairs whose option takes a value checked while parsing
CHECKED = sorted(
    (command, action.option_strings[-1])
    for command, parser in LEAVES.items()
    for action in parser._actions
    if action.option_strings
    and (action.type not in (None, Path) or action.choices)
    and action.nargs != 0
)

NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "-inf", "1e308", "1e-320", "-0", "0x10", "1_000", "", " ", "--"]),
)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)
ODD = ["é", "\u202e", "z\u200b", "🙂", "\n\n", "a\nb", "\u0660\u0661,\u0662", "\t"]
HOSTILE = st.one_of(NUMBERS, TEXT, st.sampled_from(ODD))
#: values every checked option refuses: not a number, not a choice, not a pair
REFUSED = st.sampled_from(["nan", "-1e400", "x,", "--", "🙂", "1\n2"])
#: tokens that end parsing early with exit status 0 (help, version)
EARLY = ("-h", "--help", "--version")


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


def _assert_clean(code: int, err: str) -> None:
    assert code in (0, 1, 2, 3), (code, err)
    assert "Traceback" not in err, err
    if code:
        assert err.count("\n") <= 1 and err.endswith("\n"), err


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(CHECKED),
    REFUSED,
    st.lists(st.tuples(st.sampled_from(CHECKED), HOSTILE), max_size=4),
    st.lists(HOSTILE, max_size=3),
    st.randoms(use_true_random=False),
)
def test_hostile_options_are_refused_in_one_line(bad, refused, others, loose, random):
    command, option = bad
    tokens = [option, refused]
    for (_, other_option), value in others:  # options of other commands are refused too
        tokens += [other_option, value]
    tokens += loose
    position = random.randint(0, len(tokens) // 2) * 2  # the refused pair anywhere
    tokens = [*tokens[2:][:position], *tokens[:2], *tokens[2:][position:]]
    if any(t.strip() in EARLY for t in tokens):
        return
    argv = [*command.split(), *tokens]
    code, err = _run(argv)
    assert code == 2, (argv, err)
    _assert_clean(code, err)


@settings(max_examples=40, deadline=None)
@given(TEXT)
def test_hostile_expressions_fail_in_one_line(text):
    previous = os.environ.get("FEATCHECK_TIME_LIMIT")
    os.environ["FEATCHECK_TIME_LIMIT"] = "10"
    try:
        code, err = _run(["hermite", text, "--max-degree", "1", "--digits", "5"])
    finally:
        if previous is None:
            os.environ.pop("FEATCHECK_TIME_LIMIT")
        else:
            os.environ["FEATCHECK_TIME_LIMIT"] = previous
    _assert_clean(code, err)
