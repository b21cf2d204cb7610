"""The package structure of ``ingestion`` (docs/architecture.md): imports go one way, and never in a cycle.

Layers, bottom to top: ``core`` (warehouse, configuration, redaction, record shapes) <- ``isams``, ``seemis`` and ``ops``
(the source system; the ``ops`` tables) <- ``validation`` <- ``app`` (command line, pipeline, dbt runner,
console views). ``sandbox`` stands in for the outside world (an iSAMS server, a throwaway PostgreSQL): the
product never needs it, so only the commands that start one (``demo``, ``sandbox``, ``simulate``) import it.

Imports inside ``if TYPE_CHECKING:`` are types only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ingestion"
LAYER = {"core": 0, "isams": 1, "seemis": 1, "ops": 1, "sandbox": 2, "validation": 2, "app": 3}
# modules of the application allowed to start a stand-in (the sandbox server or a throwaway cluster)
STARTS_STAND_INS = {"ingestion.app.cli", "ingestion.app.demo", "ingestion.app.simulate"}



def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """Modules of ``ingestion`` imported anywhere in ``tree`` (functions too), except under TYPE_CHECKING."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m.startswith("ingestion.") and m in modules}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module(p) for p in paths}
    return {_module(p): _imports(ast.parse(p.read_text()), modules) - {_module(p)} for p in paths}


def _package(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def test_every_module_is_in_a_layer(graph):
    loose = sorted(m for m in graph if m != "ingestion" and _package(m) not in LAYER)
    assert not loose, f"modules outside the layered packages {sorted(LAYER)}: {loose}"


def test_no_upward_import(graph):
    upward = sorted(
        f"{m} imports {d}" for m, deps in graph.items() for d in deps
        if m != "ingestion" and LAYER[_package(d)] > LAYER[_package(m)]
    )
    assert not upward, "imports must go down the layers (core <- isams/ops <- validation <- app):\n" + "\n".join(upward)


def test_sideways_imports_only_where_drawn(graph):
    """Same layer, different package: isams and ops know nothing of each other; validation and sandbox
    neither."""
    sideways = sorted(
        f"{m} imports {d}" for m, deps in graph.items() for d in deps
        if m != "ingestion" and _package(d) != _package(m) and LAYER[_package(d)] == LAYER[_package(m)]
    )
    assert not sideways, "\n".join(sideways)


def test_production_path_never_imports_the_stand_ins(graph):
    bad = sorted(f"{m} imports {d}" for m, deps in graph.items() for d in deps
                 if _package(d) == "sandbox" and _package(m) != "sandbox" and m not in STARTS_STAND_INS)
    assert not bad, "\n".join(bad)


def test_no_import_cycle(graph):
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (cycle := walk(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := walk(module)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def test_the_checks_can_fail():
    """The graph builder sees function-level imports and ignores TYPE_CHECKING ones."""
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ingestion.app import views\n"
                     "def f():\n    from ingestion.app.pipeline import build\n")
    assert _imports(tree, {"ingestion.app.views", "ingestion.app.pipeline", "ingestion.app"}) == {
        "ingestion.app.pipeline"}


TELEMETRY_NAMES = ("DO_NOT_TRACK", "DBT_SEND_ANONYMOUS_USAGE_STATS", "RUNTIME__DLTHUB_TELEMETRY", "GX_ANALYTICS_ENABLED")


def test_telemetry_is_switched_off_in_one_place():
    """Only ``core/telemetry.py`` names the telemetry switches, and importing the package applies them."""
    import os
    import subprocess
    import sys

    root = PACKAGE.parent
    naming = sorted(
        str(p.relative_to(root)) for p in [*PACKAGE.rglob("*.py"), *(root / "tests").rglob("*.py"),
                                           *(root / "benchmarks").rglob("*.py"), root / "Makefile"]
        if p != PACKAGE / "core" / "telemetry.py" and p != Path(__file__).resolve()
        and any(name in p.read_text() for name in TELEMETRY_NAMES)
    )
    assert not naming, f"telemetry switched off outside ingestion/core/telemetry.py: {naming}"
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_NAMES}
    code = "import os, ingestion; print(' '.join(os.environ.get(n, '-') for n in %r))" % (TELEMETRY_NAMES,)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "False", "false", "False"]
