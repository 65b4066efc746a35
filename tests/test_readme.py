"""The README's quick start is what CI runs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.strip().splitlines() if line.strip()]


def test_quick_start_has_exactly_two_command_lines():
    lines = quick_start_lines()
    assert len(lines) == 2
    assert "featcheck verify --budget quick" in lines[0]
    assert "pytest" in lines[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert quick_start_lines()[1] in ci
