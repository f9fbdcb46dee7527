"""notebooks/abtest.ipynb: thin, parameters equal AbTestParams, runs in every mode.

(tests/test_notebooks.py covers it too once AbTestParams is registered with
``workbench.reporting.params_for``.)
"""

from __future__ import annotations

import dataclasses
import re

import nbformat
import papermill as pm
import pytest

from workbench.abtest import AbTestParams
from workbench.reporting.notebooks import kernel_environment, notebooks_dir

NOTEBOOK = notebooks_dir() / "abtest.ipynb"


def test_thin_and_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert "hide" in code[1].metadata.get("tags", [])
    for cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None
    for cell in code[1:]:
        assert not re.search(r"^\s*(def|class|for|while) ", cell.source, re.M)
        assert len(cell.source.splitlines()) <= 8


def test_parameters_equal_the_dataclass() -> None:
    inspected = pm.inspect_notebook(str(NOTEBOOK))
    fields = dataclasses.fields(AbTestParams)
    assert list(inspected) == [f.name for f in fields]
    for f in fields:
        info = inspected[f.name]
        default = f.default if f.default is not None else ""
        assert info["help"] and eval(info["default"]) == default, f.name  # noqa: S307
        assert info["inferred_type_name"] == type(default).__name__, f.name


@pytest.mark.parametrize("mode", ["interactive", "dashboard", "report"])
def test_executes_on_the_sample_store(mode: str, sample_store, tmp_path) -> None:
    renderer = {"PLOTLY_RENDERER": "notebook"} if mode == "report" else {}
    with kernel_environment(**renderer):
        nb = pm.execute_notebook(
            str(NOTEBOOK), str(tmp_path / "abtest.ipynb"), kernel_name="python3",
            parameters={"as_of": "2026-11-16", "store": str(sample_store), "mode": mode,
                        "language": "ko" if mode == "report" else "en"},
            cwd=str(notebooks_dir()), progress_bar=False, execution_timeout=300)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    kinds = {k for o in outputs for k in o.get("data", {})}
    if mode == "report":
        html = "".join(o["data"].get("text/html", "") for o in outputs if "data" in o)
        assert "wb-srm" in html and "wb-campaigns" in html and "신뢰구간" in html
    else:
        assert "application/vnd.jupyter.widget-view+json" in kinds
