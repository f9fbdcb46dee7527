"""The dashboard server's spare kernel: started ahead, handed to the next page with its request.

A page served by the spare must behave exactly as one with a kernel started for it: the
request's variables (``QUERY_STRING`` with the page's language, ``SCRIPT_NAME``) and the
notebook's folder, and nothing of the spare's own start. Uses the small notebooks and server
helpers of tests/test_dashboard_security.py (a page renders in 1-2 s).
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.browser import free_port
from tests.test_dashboard_security import _children, _listening, _request, _wait, dashboard

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="process checks read /proc")

_PRINT_REQUEST = """\
import json, os, sys
print('REQUEST=' + json.dumps({'query': os.environ.get('QUERY_STRING'),
                               'script': os.environ.get('SCRIPT_NAME'), 'cwd': os.getcwd(),
                               'warm': 'ibis' in sys.modules}))
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks")
    for name in ("env", "other"):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(_PRINT_REQUEST)]
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def _shown(body: str) -> dict:
    start = body.index("REQUEST=") + len("REQUEST=")
    return json.loads(html.unescape(body[start:body.index("}", start) + 1]))


def test_a_page_gets_the_spare_with_its_own_request(folder, tmp_path):
    with dashboard(folder, tmp_path, "--max-kernels", "3") as server:
        _wait(lambda: "Spare kernel" in server.output(), server.proc, 120)
        status, _, body = _request(server.port, "/voila/render/env.ipynb?language=ko&x=1")
        assert status == 200
        assert "uses the spare kernel" in server.output()
        shown = _shown(body)
        assert shown == {"query": "language=ko&x=1", "script": "/voila/render/env.ipynb",
                         "cwd": str(folder), "warm": True}
        # The next page: a new spare (once the first page's kernel is idle), its own request.
        _wait(lambda: server.output().count("Spare kernel") >= 2, server.proc, 120)
        status, _, body = _request(server.port, "/voila/render/other.ipynb")
        assert status == 200 and server.output().count("uses the spare kernel") == 2
        assert _shown(body) == {"query": "", "script": "/voila/render/other.ipynb",
                                "cwd": str(folder), "warm": True}
        # Two pages open and a spare for the next: the cap (3) holds them all, no more.
        _wait(lambda: server.output().count("Spare kernel") >= 3, server.proc, 120)
        voila = _children(server.proc.pid, "workbench._dashboard_server")[0]
        assert len(_children(voila, "workbench._dashboard_kernel")) == 3
        assert _request(server.port, "/voila/render/env.ipynb?again=1")[0] == 200
        assert _request(server.port, "/voila/render/other.ipynb?again=1")[0] == 503


def test_no_spare_when_turned_off(folder, tmp_path):
    port = free_port()
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench._dashboard_server", str(folder), "--no-browser",
             f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
             "--DashboardKernelManager.spare_kernels=0"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: _listening(port), proc, 60)
            status, _, body = _request(port, "/voila/render/env.ipynb")
            assert status == 200 and _shown(body)["warm"] is False
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert "Spare kernel" not in (tmp_path / "server.log").read_text()
