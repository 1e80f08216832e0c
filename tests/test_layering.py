"""The apps form layers: schools (the tenant) < registers < interventions < letters < demo.
Each imports only the layers below it, with one exception: registers schedules the attendance
recompute after a change of marks (``interventions.tasks``). Checked on the source with
``ast``, so an import inside a function or under ``TYPE_CHECKING`` counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_APPS = ("schools", "registers", "interventions", "letters")


LAYERS = ("schools", "registers", "interventions", "letters", "demo")
# The one upward import: a change of marks queues the recompute of its pupils after commit.
ALLOWED_UPWARD = {("registers", "interventions.tasks")}


def _imports(app: str, *, whole: bool = False) -> list[tuple[str, str]]:
    """(module path, imported top-level package) for every import in ``app`` (the whole
    dotted module with ``whole``)."""
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [
                (str(path.relative_to(ROOT)), name if whole else name.split(".")[0])
                for name in names
            ]
    return found


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_no_domain_app_imports_the_demo(app):
    assert _imports(app)  # the walk found the app's modules
    assert [path for path, package in _imports(app) if package == "demo"] == []


def test_schools_imports_no_app_built_on_it():
    # Its only upward imports were the demo trust's (interventions' band presets, registers'
    # demo marks), which now live in demo/.
    upward = {"registers", "interventions", "letters"}
    assert [(path, package) for path, package in _imports("schools") if package in upward] == []


@pytest.mark.parametrize("app", LAYERS)
def test_each_app_imports_only_the_layers_below_it(app):
    above = set(LAYERS[LAYERS.index(app) + 1 :])
    upward = [
        (path, module)
        for path, module in _imports(app, whole=True)
        if module.split(".")[0] in above and (app, module) not in ALLOWED_UPWARD
    ]
    assert upward == []
