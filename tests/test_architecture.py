"""docs/architecture.md stays true to the tree: it names every module."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_architecture_names_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = []
    for top in ("theory", "numerics"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if path.name == "__init__.py":
                if path.parent.name == top:
                    continue
                folder = path.parent
                spellings = [f"{folder.relative_to(ROOT)}/", f"`{folder.relative_to(ROOT / top)}/"]
            else:
                spellings = [
                    f"`{path.name}`",
                    str(path.relative_to(ROOT)),
                    str(path.relative_to(ROOT / top)),
                ]
            if not any(spelling in text for spelling in spellings):
                missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"docs/architecture.md does not mention: {', '.join(missing)}"


def test_architecture_names_no_module_that_is_gone():
    text = (ROOT / "docs" / "architecture.md").read_text()
    for gone in (
        "numerics/simulate/",
        "numerics/sweep.py",
        "numerics/bounds.py",
        "numerics/mixture.py",
        "scaled_quadrature",
        "theory/linear.py",
        "theory/exponents.py",
        "theory/onestep.py",
        "seed 00",
    ):
        assert gone not in text, gone


def test_api_page_names_every_public_name():
    import featcheck

    text = (ROOT / "docs" / "api.md").read_text()
    missing = [n for n in featcheck.__all__ if n != "__version__" and f"`{n}" not in text]
    assert not missing, f"docs/api.md does not mention: {', '.join(missing)}"
