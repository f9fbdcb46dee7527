"""The dashboard's cell executor finishes a page whose last ``execute_reply`` never arrives.

The README's former "known issue" (a page load that never finished) was Voila waiting for ever
on the shell-channel reply of a cell the kernel had already finished (see
``workbench._dashboard_server.DashboardExecutor``). These tests run a real kernel: one cell
with its real reply, and one whose shell channel never delivers (what was caught in the hang).
"""

from __future__ import annotations

import asyncio
import logging
import time

import nbformat
import zmq

from workbench._dashboard_server import DashboardExecutor
from workbench.reporting.notebooks import kernel_environment


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print('first')"),
        nbformat.v4.new_code_cell("print('second'); 6 * 7"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


async def _never(*_args, **_kwargs):
    await asyncio.Event().wait()  # a poll that never completes, as in the hang


def _run(trouble: str | None) -> tuple[list[nbformat.NotebookNode], list[float], list[str]]:
    """Run the two cells; the second one's reply is ``"unnoticed"`` or ``"lost"`` if asked."""
    nb = _notebook()
    executor = DashboardExecutor(nb, kernel_name="python3", timeout=60, startup_timeout=60)
    executor.reply_grace = 1.0
    warnings: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings.append(record.getMessage())  # type: ignore[method-assign]
    cells, seconds = [], []

    async def run() -> None:
        async with executor.async_setup_kernel():
            kc = executor.kc
            for index, cell in enumerate(nb.cells):
                if index == 1 and trouble:
                    # the shell poll never completes, as caught in the hang
                    kc.shell_channel.get_msg = _never
                if index == 1 and trouble == "lost":
                    send = kc.execute

                    def execute(*args, _send=send, **kwargs):
                        msg_id = _send(*args, **kwargs)
                        # the reply goes to a socket nobody reads any more
                        kc.shell_channel.socket = kc.context.socket(zmq.DEALER)
                        return msg_id

                    kc.execute = execute
                started = time.perf_counter()
                cells.append(await executor.execute_cell(cell, None, index, store_history=False))
                seconds.append(time.perf_counter() - started)

    executor.log.addHandler(handler)
    try:
        with kernel_environment():
            asyncio.run(run())
    finally:
        executor.log.removeHandler(handler)
    return cells, seconds, warnings


def _text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_cells_with_their_replies_run_as_before():
    cells, _, warnings = _run(None)
    assert [_text(c).strip() for c in cells] == ["first", "second"]
    assert cells[1].outputs[-1]["data"]["text/plain"] == "42"
    assert cells[1].execution_count is not None  # from the real execute_reply
    assert warnings == []


def test_a_reply_the_poll_does_not_notice_is_read_from_the_socket():
    cells, seconds, warnings = _run("unnoticed")
    assert _text(cells[1]).strip() == "second"
    assert cells[1].execution_count is not None  # the kernel's own reply, read directly
    assert seconds[1] < 30.0
    assert any("read it directly" in w for w in warnings)


def test_a_lost_reply_after_idle_ends_the_cell_after_the_grace_period():
    cells, seconds, warnings = _run("lost")
    # the cell's outputs all came on IOPub and are kept; the page goes on instead of hanging
    assert _text(cells[1]).strip() == "second"
    assert cells[1].outputs[-1]["data"]["text/plain"] == "42"
    assert 1.0 <= seconds[1] < 30.0
    assert any("going on without it" in w for w in warnings)
