"""Every example in README.md and docs/*.md runs as written.

Blocks are found with sybil's Markdown parsers and each becomes one test, named
``FILE:LINE`` after the line of its opening fence.

```console blocks: each line starting with ``$ `` is a command (a line ending in ``\\``
continues on the next), the lines after it are its documented output. The commands of
one block run one after another, each with ``bash -c``, in a fresh temporary directory
shared by that block only and holding a copy of the files of ``docs/examples/``, with
the running interpreter's ``bin`` directory first on ``PATH`` (so ``featcheck`` is the
one under test). Standard output and standard error
together are compared with the documented lines:

- text is exact up to trailing whitespace, and a run of spaces matches a run of spaces
  of any length (so a table may be shown with rounded numbers);
- a number matches when the actual number rounds to it at its printed precision: a
  documented ``0.3989`` matches ``0.398942280``, ``1.5e-34`` matches ``1.46e-34``;
- a line that is exactly ``...`` stands for any number of lines (none included).

The exit status must be 0, unless the documented output shows ``featcheck: error: ...``
(then 2) or a violated claim or bound (then 1): a ``featcheck verify`` summary or table
row that counts a violated or errored claim, or a ``featcheck check-bound`` line
``...: violated over N starts``.

```python blocks run in order in one namespace per document, in a temporary directory.

Only paper-scale runs are skipped, with sybil's marker and a reason right before the
block: ``<!-- skip: next "paper scale: about an hour on two cores" -->``.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

ROOT = Path(__file__).resolve().parent.parent
#: README.md and every page of docs/ (not docs/derivations/: generated documents,
#: checked by tests/test_committed_derivations.py and tests/test_latex.py)
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: The files of docs/examples/, which console examples use by name: each block runs in a
#: fresh directory holding a copy of them.
EXAMPLES = ROOT / "docs" / "examples"
COMMAND_TIMEOUT = 300  # seconds; a documented example takes a few

ELLIPSIS = "..."
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TOKENS = re.compile(rf"(?P<number>{NUMBER})|(?P<space>\s+)|(?P<text>.)")
_ERROR = re.compile(r"^featcheck: error: ")
_VIOLATED = (
    re.compile(
        r"^\d+ hold, (?:[1-9]\d* violated, \d+ inconclusive, \d+|\d+ violated, \d+ "
        r"inconclusive, [1-9]\d*) error\b"
    ),
    re.compile(r"^\S+\s+(?:violated|error)\s+\d+/\d+\s"),
    re.compile(r": violated over \d+ starts$"),
)


# --- comparison of output with the documented lines ---------------------------------------


def _line_pattern(expected: str) -> tuple[re.Pattern[str], list[Decimal]]:
    """A regex for one documented line and the numbers it documents, in order."""
    parts: list[str] = []
    numbers: list[Decimal] = []
    for token in _TOKENS.finditer(expected):
        if token.group("number"):
            parts.append(f"({NUMBER})")
            numbers.append(Decimal(token.group("number")))
        elif token.group("space"):
            parts.append(r"\s+")
        else:
            parts.append(re.escape(token.group("text")))
    return re.compile("".join(parts)), numbers


def _rounds_to(actual: str, documented: Decimal) -> bool:
    """``actual`` rounds to ``documented`` at the precision ``documented`` is printed to."""
    unit = Decimal(1).scaleb(documented.as_tuple().exponent)  # one unit in the last digit
    return abs(Decimal(actual) - documented) <= unit / 2


def line_matches(expected: str, actual: str) -> bool:
    expected, actual = expected.rstrip(), actual.rstrip()
    if expected == actual:
        return True
    pattern, numbers = _line_pattern(expected)
    found = pattern.fullmatch(actual)
    return found is not None and all(
        _rounds_to(a, d) for a, d in zip(found.groups(), numbers, strict=True)
    )


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line, with ``...`` lines eliding any number of actual lines."""
    positions = {0}  # how many actual lines the documented lines so far can account for
    for line in expected:
        if line.strip() == ELLIPSIS:
            positions = set(range(min(positions), len(actual) + 1))
        else:
            positions = {
                j + 1 for j in positions if j < len(actual) and line_matches(line, actual[j])
            }
        if not positions:
            return False
    return len(actual) in positions


def expected_status(expected: list[str]) -> int:
    if any(_ERROR.match(line) for line in expected):
        return 2
    if any(pattern.search(line.rstrip()) for line in expected for pattern in _VIOLATED):
        return 1
    return 0


# --- console blocks ---------------------------------------------------------------------------


@dataclass
class Command:
    line: int  # in the document
    text: str
    expected: list[str] = field(default_factory=list)


def parse_console(source: str, first_line: int) -> list[Command]:
    """Commands and their documented output; ``first_line`` is the line of the block's
    first source line in the document."""
    commands: list[Command] = []
    continued = False
    for offset, line in enumerate(source.splitlines()):
        if continued:
            text = line[2:] if line.startswith("> ") else line
            commands[-1].text = commands[-1].text + "\n" + text
        elif line.startswith("$ "):
            commands.append(Command(first_line + offset, line[2:]))
        elif commands:
            commands[-1].expected.append(line)
        elif line.strip():
            raise ValueError(f"line {first_line + offset}: output before any '$ ' command")
        continued = (
            bool(commands) and commands[-1].text.endswith("\\") and not (commands[-1].expected)
        )
    for command in commands:
        while command.expected and not command.expected[-1].strip():
            command.expected.pop()
    if not commands:
        raise ValueError(f"line {first_line}: a console block without a '$ ' command")
    return commands


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # The featcheck under test, also when it is imported from a source tree on sys.path.
    import featcheck

    package = Path(featcheck.__file__).resolve().parent
    if package.name == "featcheck":
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(package.parent), env.get("PYTHONPATH")) if p
        )
    # Output in the order a terminal shows it, at a fixed width, without a display.
    env.update(PYTHONUNBUFFERED="1", COLUMNS="80", MPLBACKEND="Agg")
    return env


def run_console(example: Example, directory: Path) -> None:
    env = _environment()
    for command in parse_console(example.parsed, example.line + 1):
        result = subprocess.run(
            ["bash", "-c", command.text],
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        actual = result.stdout.rstrip().splitlines()
        where = f"{Path(example.path).relative_to(ROOT)}:{command.line}: $ {command.text}"
        if not output_matches(command.expected, actual):
            pytest.fail(
                f"{where}\n--- documented output\n"
                + "\n".join(command.expected)
                + "\n--- actual output\n"
                + "\n".join(actual),
                pytrace=False,
            )
        status = expected_status(command.expected)
        if result.returncode != status:
            pytest.fail(
                f"{where}\nexit status {result.returncode}, expected {status}\n"
                + "\n".join(actual[-20:]),
                pytrace=False,
            )


def _console_evaluator(example: Example) -> None:  # pragma: no cover - run by the tests below
    raise AssertionError("console blocks are run by test_example")


# --- documents, blocks, skips -----------------------------------------------------------------

PARSERS = (
    CodeBlockParser(language="console", evaluator=_console_evaluator),
    PythonCodeBlockParser(),
    SkipParser(),
)


@dataclass
class Block:
    example: Example
    kind: str  # "console" or "python"
    skip: str | None  # the reason, when a skip marker applies


def _skip_reason(example: Example) -> tuple[str, str | None]:
    action, reason = example.parsed
    if reason is None:
        raise ValueError(f"line {example.line}: 'skip: {action}' needs a reason")
    if action == "end":
        return action, None
    text = ast.literal_eval(reason.strip())
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"line {example.line}: the reason of a skip must be a string")
    return action, text


def blocks(document: Document) -> list[Block]:
    """The document's code blocks with the skip markers applied."""
    found: list[Block] = []
    skip_next: str | None = None
    skip_all: str | None = None
    for example in document:
        if isinstance(example.parsed, tuple):  # a skip marker
            action, reason = _skip_reason(example)
            if action == "next":
                skip_next = reason
            elif action == "start":
                skip_all = reason
            else:
                skip_all = None
            continue
        kind = "console" if example.region.evaluator is _console_evaluator else "python"
        found.append(Block(example, kind, skip_next or skip_all))
        skip_next = None
    return found


def _collect() -> list[Any]:
    params = []
    for path in DOCUMENTS:
        document = Document.parse(str(path), *PARSERS)
        for index, block in enumerate(blocks(document)):
            name = f"{path.relative_to(ROOT)}:{block.example.line}"
            params.append(pytest.param(path, index, id=name))
    return params


#: One parsed document and its Python namespace per document and process, so that
#: Python blocks see the names defined by the blocks before them whatever runs first.
_STATE: dict[Path, tuple[list[Block], set[int]]] = {}


def _state(path: Path) -> tuple[list[Block], set[int]]:
    if path not in _STATE:
        _STATE[path] = (blocks(Document.parse(str(path), *PARSERS)), set())
    return _STATE[path]


@pytest.fixture(scope="module")
def python_directory(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("python-blocks")


@pytest.mark.parametrize(("path", "index"), _collect())
def test_example(path, index, tmp_path, python_directory, monkeypatch):
    document_blocks, done = _state(path)
    block = document_blocks[index]
    if block.skip is not None:
        pytest.skip(block.skip)
    if block.kind == "console":
        for example_file in EXAMPLES.glob("*"):
            if example_file.is_file():
                shutil.copy(example_file, tmp_path / example_file.name)
        run_console(block.example, tmp_path)
        return
    monkeypatch.chdir(python_directory)
    # The Python blocks before this one, in order, each once per process.
    for earlier in document_blocks[:index]:
        if earlier.kind == "python" and earlier.skip is None and id(earlier) not in done:
            done.add(id(earlier))
            earlier.example.evaluate()
    done.add(id(block))
    block.example.evaluate()


# --- the comparison rules themselves ----------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        (
            "  0  0.3989  0  sqrt(2)",
            "  0  0.398942280401432677939946059934          0  sqrt(2)",
            True,
        ),
        ("c_1 = 0.3990", "c_1 = 0.398942", False),
        ("error 1.5e-34", "error 1.46e-34", True),
        ("error 1.5e-34", "error 1.44e-34", False),
        ("14 claims", "14 claims   ", True),
        ("14 claims", "15 claims", False),
        ("he(3) c_5: measured 1e-15", "he(3) c_5: measured 1.34337e-15", True),
        ("information exponent: 1", "information exponent: 2", False),
        ("relu  (Max(0, z))", "relu (Max(0, z))", True),
        ("relu (Max(0, z))", "relu (Max(0,z))", False),
        ("-0.0814", "-0.0814337519838", True),
        ("-0.0814", "0.0814337519838", False),
    ],
)
def test_line_comparison(expected, actual, matches):
    assert line_matches(expected, actual) is matches


def test_ellipsis_elides_any_number_of_lines():
    assert output_matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert output_matches(["a", "...", "d"], ["a", "d"])
    assert output_matches(["...", "d"], ["a", "d"])
    assert not output_matches(["a", "...", "d"], ["a", "b", "c"])
    assert not output_matches(["a", "d"], ["a", "b", "d"])
    assert not output_matches(["a"], ["a", "b"])
    assert output_matches(["a", "...", "x", "...", "z"], ["a", "x", "b", "x", "z"])
    assert output_matches(["..."], [str(k) for k in range(5000)])


def test_documented_output_sets_the_expected_exit_status():
    assert expected_status(["featcheck: error: bad input"]) == 2
    assert (
        expected_status(["7 hold, 0 violated, 0 inconclusive, 0 error (budget quick, seed 0)"]) == 0
    )
    assert expected_status(["6 hold, 1 violated, 0 inconclusive, 0 error (budget quick)"]) == 1
    assert expected_status(["6 hold, 0 violated, 0 inconclusive, 1 error (budget quick)"]) == 1
    assert expected_status(["onestep.spikes  violated  3/4  ..."]) == 1
    assert expected_status(["x <= 1: violated over 64 starts"]) == 1
    assert expected_status(["thm3-lower           violated (smallest margin -0.1 at t = 2)"]) == 0


def test_console_blocks_are_split_into_commands_and_output():
    source = "$ featcheck a \\\n  --b\nout 1\n\n$ echo x\nx\n"
    commands = parse_console(source, 10)
    assert [(c.line, c.text, c.expected) for c in commands] == [
        (10, "featcheck a \\\n  --b", ["out 1"]),
        (14, "echo x", ["x"]),
    ]
    with pytest.raises(ValueError, match="output before"):
        parse_console("out\n$ echo x\n", 1)


def test_skip_markers_need_a_reason_and_apply_to_the_next_block(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        '<!-- skip: next "paper scale: hours" -->\n\n```console\n$ featcheck verify\n```\n\n'
        "```python\nx = 1\n```\n"
    )
    found = blocks(Document.parse(str(page), *PARSERS))
    assert [(b.kind, b.skip) for b in found] == [
        ("console", "paper scale: hours"),
        ("python", None),
    ]
    page.write_text("<!-- skip: next -->\n\n```python\nx = 1\n```\n")
    with pytest.raises(ValueError, match="needs a reason"):
        blocks(Document.parse(str(page), *PARSERS))
