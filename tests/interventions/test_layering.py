"""The reference is a judge, not a supplier: no production module imports
``interventions.reference``, and the reference imports neither the production rules nor the
engine it judges. Read from the source (``ast``), so an import inside a function counts too."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {"tests", "node_modules", "__pycache__"}
REFERENCE = "interventions.reference"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def production_modules() -> Iterator[Path]:
    """Every Python file of the project outside the tests (and virtualenvs, hidden folders)."""
    for path in sorted(ROOT.rglob("*.py")):
        folders = path.relative_to(ROOT).parts[:-1]
        if any(part.startswith(".") or part in SKIPPED_DIRS for part in folders):
            continue
        if path.name.startswith("test_") or path.name == "conftest.py":
            continue
        yield path


def imported_modules(source: str, *, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, absolute; ``from a import b`` names both ``a`` and
    ``a.b`` (``b`` may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def imports_of(path: Path) -> set[str]:
    return imported_modules(
        path.read_text(encoding="utf-8"),
        module=module_name(path),
        is_package=path.name == "__init__.py",
    )


def test_the_walk_sees_the_production_modules():
    names = {module_name(path) for path in production_modules()}
    assert {"interventions.engine", "interventions.rules", "interventions.recompute"} <= names
    assert not any(name.startswith("tests") for name in names)


@pytest.mark.parametrize(
    ("source", "module", "imports_reference"),
    [
        ("from interventions import reference", "x.y", True),
        ("from interventions.reference import pct1", "x.y", True),
        ("import interventions.reference as ref", "x.y", True),
        ("def f():\n    from interventions import reference", "x.y", True),
        ("from . import reference", "interventions.views", True),
        ("from .reference import band_for", "interventions.views", True),
        ("from ..reference import band_for", "interventions.templatetags.x", True),
        ("from interventions import rules", "x.y", False),
        ("from . import reference", "registers.views", False),
    ],
)
def test_the_import_reader(source, module, imports_reference):
    assert (REFERENCE in imported_modules(source, module=module)) is imports_reference


def test_no_production_module_imports_the_reference():
    offenders = [
        str(path.relative_to(ROOT))
        for path in production_modules()
        if module_name(path) != REFERENCE and REFERENCE in imports_of(path)
    ]
    assert offenders == []


def test_the_reference_imports_nothing_it_judges():
    imports = imports_of(ROOT / "interventions" / "reference.py")
    assert sorted(name for name in imports if name.split(".")[0] == "interventions") == []


def test_the_rules_are_pure():
    # Django only for TextChoices (EventKind) and its labels' gettext_lazy (issue 9: Welsh):
    # no ORM queries, no models, no engine.
    imports = imports_of(ROOT / "interventions" / "rules.py")
    assert sorted(name for name in imports if name.split(".")[0] == "interventions") == []
    assert {name for name in imports if name.startswith("django")} <= {
        "django.db",
        "django.db.models",
        "django.utils.translation",
        "django.utils.translation.gettext_lazy",
    }
