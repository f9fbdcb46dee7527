"""A figure as a piece of HTML drawn by the page's own plotly.js (the dashboards' charts).

``workbench dashboard`` pages load plotly.js once, in the page's head, while the page's kernel
is still running the notebook (``workbench/_dashboard_template/index.html.j2``); the promise
``window.wbPlotly`` resolves with it. A chart is then a ``<div>`` and a small script that waits
for that promise and calls ``Plotly.newPlot``: no JupyterLab renderer extension is needed.

Why not the Plotly mime bundle (``display(figure)``) in dashboards: it is drawn by the
``jupyterlab-plotly`` extension, whose 4.7 MB bundle is fetched and compiled only after the
page's HTML has arrived, and which draws every chart a second time (``Plotly.toImage``, to keep
a PNG copy in a notebook model that Voila never saves). Measured in Chromium on the 100k store:
see ``benchmarks/bench_dashboard.py`` and the commit that introduced this module.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import plotly.io as pio

__all__ = ["PLOTLY_PROMISE", "figure_html"]

#: Name of the page's promise of plotly.js (set by the dashboards' template).
PLOTLY_PROMISE = "wbPlotly"
#: Charts follow their container's width (the mime renderer did this on each resize).
CONFIG = {"responsive": True}

_DRAW = """<script>(function () {{
  var id = {id}, fig = {figure}, config = {config}, tries = 0;
  function find() {{
    var s = document.currentScript, p = s && s.parentNode;
    return (p && p.querySelector('[data-wb-figure="' + id + '"]')) || document.getElementById(id);
  }}
  var el = find();
  function draw(Plotly) {{
    // Drawn once in the page with a width: a chart drawn detached would take Plotly's 700 px.
    if ((!el.isConnected || !el.offsetWidth) && tries++ < 500) {{
      setTimeout(function () {{ draw(Plotly); }}, 20);
      return;
    }}
    Plotly.newPlot(el, fig.data, fig.layout, config);
  }}
  if (el && window.{promise}) window.{promise}.then(draw);
}})();</script>"""


def _script_json(value: Any) -> str:
    """Return ``value`` as JSON that cannot end or open an HTML element inside ``<script>``."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def figure_html(figure: Any, *, config: dict | None = None) -> str:
    """Return ``figure`` as a ``<div>`` and a script drawing it with the page's plotly.js.

    Parameters
    ----------
    figure
        A ``plotly.graph_objects.Figure`` (or its dict).
    config
        Plotly's ``config`` (default: responsive to the container's width).

    Returns
    -------
    str
        HTML for an output shown in a ``workbench dashboard`` page. The figure's JSON is the
        same as in Plotly's mime bundle (``plotly.io.to_json``); every ``<``, ``>`` and ``&``
        in it is escaped, so text from the data cannot close the script.

    Examples
    --------
    >>> import plotly.graph_objects as go
    >>> html = figure_html(go.Figure(go.Bar(x=["</script>"], y=[1])))
    >>> html.count("</script>"), "wbPlotly" in html
    (1, True)
    """
    div = f"wb-figure-{uuid.uuid4().hex}"
    data = pio.to_json(figure, validate=False, remove_uids=False)
    layout = figure.get("layout", {}) if isinstance(figure, dict) else figure.layout
    height = layout.get("height") if isinstance(layout, dict) else layout.height
    script = _DRAW.format(id=json.dumps(div), figure=_script_json(data),
                          config=_script_json(CONFIG if config is None else config),
                          promise=PLOTLY_PROMISE)
    return (f'<div id="{div}" data-wb-figure="{div}" class="wb-figure" '
            f'style="width:100%;height:{int(height or 450)}px"></div>{script}')
