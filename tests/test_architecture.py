"""The layers: imports point one way, the snapshot is declared once, parameters declare rules."""

from __future__ import annotations

import ast
import dataclasses
from collections import defaultdict
from pathlib import Path

import pytest

import workbench

PACKAGE = Path(workbench.__file__).parent

#: Lower layers never import higher ones (a module may import its own layer or below).
LAYERS = [
    {"errors", "i18n", "settings", "_userfiles", "privacy", "results", "_progress"},
    {"data"},
    {"dates", "clock", "calendar", "queries", "stats", "params", "features", "_args",
     "_command"},
    {"kpi", "rfm", "clv", "churn", "abtest", "audience", "viz", "uplift", "recommend"},
    {"snapshot", "reporting", "ui", "dashboard", "_dashboard_server", "_dashboard_kernel",
     "_dashboard_home", "cli", "spark_submit"},
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules and m != name}


def _unit(module: str) -> str:
    """The layer unit of a module: ``workbench.kpi.overview`` -> ``kpi``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "workbench"


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_import_circles_between_packages(graph):
    edges = defaultdict(set)
    for module, targets in graph.items():
        for target in targets:
            if _unit(module) != _unit(target) and "workbench" not in (_unit(module),
                                                                      _unit(target)):
                edges[_unit(module)].add(_unit(target))
    # Tarjan's strongly connected components: any with two units is a circle.
    index, low, stack, on, circles = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for unit in list(edges):
        if unit not in index:
            visit(unit)
    assert circles == []


def test_imports_point_down_the_layers(graph):
    level = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}
    upward = sorted(
        (module, target) for module, targets in graph.items() for target in targets
        if _unit(module) in level and _unit(target) in level
        and level[_unit(target)] > level[_unit(module)])
    assert upward == []


def test_every_module_is_in_a_layer(graph):
    units = {_unit(m) for m in graph} - {"workbench"}
    known = set().union(*LAYERS)
    assert units <= known, sorted(units - known)


def test_snapshot_columns_are_the_union_of_the_declared_parts():
    from workbench.data.schema import TABLES
    from workbench.snapshot import SNAPSHOT_PARTS

    declared = [c for part in SNAPSHOT_PARTS for c in part.columns]
    assert len(declared) == len(set(declared)), "two parts declare the same column"
    assert set(TABLES["snapshot_customers"].names) == {"customer_id", *declared}


def test_notebook_parameters_declare_their_rules():
    from workbench.reporting import params_for
    from workbench.reporting.params import NOTEBOOK_PARAMS

    for notebook in NOTEBOOK_PARAMS:
        cls = params_for(notebook)
        own = [f for f in dataclasses.fields(cls)
               if f.name not in ("as_of", "store", "language")]
        assert all("rule" in f.metadata for f in own), (notebook, [
            f.name for f in own if "rule" not in f.metadata])


#: The imports left inside functions, each justified by a measured start-up cost written in a
#: comment beside it (module -> what it imports there). A new one fails until it is listed here
#: with its number in the code.
LAZY_IMPORTS = {
    "workbench._dashboard_home": {"workbench.data", "workbench.data.snapshot",
                                  "workbench.ui.common"},
    "workbench._dashboard_kernel": {"ipykernel"},  # after sys.path is cleaned, by design
    "workbench.abtest.segments": {"workbench.churn"},
    "workbench.calendar": {"holidays"},
    # the spark-submit launcher: help needs no Spark; run as a file, it fixes sys.path first
    "workbench.spark_submit": {"pyspark.sql", "workbench.cli"},
    # pyspark (and Ibis' PySpark backend, which imports it) only for a spark: store
    "workbench.data.spark": {"ibis.backends.pyspark", "ibis.backends.sql.compilers.pyspark",
                             "ibis.backends.pyspark.datatypes", "pyspark.sql", "pyspark.sql.types"},
    "workbench.data.store": {"workbench.data.lake", "workbench.data.spark"},  # they import it
    "workbench.churn.model": {"skops.io"},
    "workbench.cli": {"workbench.audience.cli", "workbench.churn", "workbench.churn.model",
                      "workbench.dashboard", "workbench.data", "workbench.data.load",
                      "workbench.data.sample", "workbench.data.serving",
                      "workbench.data.shop_files",
                      "workbench.data.simulate_sends", "workbench.data.store",
                      "workbench.reporting.run", "workbench.snapshot", "workbench.ui.warm"},
    "workbench.dashboard": {"workbench.reporting.notebooks", "workbench.reporting.run"},
    "workbench.data.readers": {"openpyxl"},
    "workbench.data.shop_files": {"openpyxl"},
    "workbench.reporting.html": {"nbconvert", "nbconvert.preprocessors"},
    "workbench.reporting.run": {"papermill", "workbench.snapshot"},
    "workbench.ui": {"workbench.audience.params"},
    "workbench.ui.abtest": {"workbench.reporting.run"},
    "workbench.ui.audience": {"workbench.abtest"},
    "workbench.ui.campaigns": {"workbench.reporting.run"},
    "workbench.ui.page": {"workbench.reporting.run", "workbench.viz.embed"},
}


def test_imports_inside_functions_are_the_measured_ones():
    found: dict[str, set[str]] = defaultdict(set)
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom):
                    found[name].add(node.module or "")
                elif isinstance(node, ast.Import):
                    found[name].update(alias.name for alias in node.names)
    assert dict(found) == LAZY_IMPORTS
