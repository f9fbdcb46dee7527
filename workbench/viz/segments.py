"""The lift-by-segment forest chart: each segment's raw effect and its shrunk effect.

Data in (:meth:`workbench.abtest.segments.SegmentLiftResult.to_frame` with ``label`` and
``arm`` columns added), a new ``go.Figure`` out; no I/O. The raw interval is drawn in grey,
the shrunk one in blue just below it, so the reader sees how far each segment was pulled
toward the overall effect (the dashed line).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import tr
from workbench.viz.style import BLUE, GREY, finish_figure

__all__ = ["segment_forest"]


def _scale(metric: str) -> float:
    return 100.0 if metric == "conversion" else 1.0


def segment_forest(frame: pd.DataFrame, *, metric: str, by: str, overall: dict[str, float],
                   language: str = "en") -> go.Figure:
    """Return a forest chart of per-segment effects, raw and shrunk, with their intervals.

    Parameters
    ----------
    frame
        Rows of the per-segment readout with ``label`` (the segment's name) and ``arm``.
    metric
        ``conversion`` (effects in percentage points) or ``revenue_per_user`` (money).
    by
        The breakdown's name for people, in the title.
    overall
        Arm name -> the overall (random-effects) effect, drawn as a dashed line.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> f = pd.DataFrame({"label": ["a"], "arm": ["send"], "effect": [0.02], "ci_low": [0.0],
    ...                   "ci_high": [0.04], "shrunk_effect": [0.015], "shrunk_ci_low": [0.0],
    ...                   "shrunk_ci_high": [0.03]})
    >>> len(segment_forest(f, metric="conversion", by="tier", overall={"send": 0.01}).data)
    2
    """
    # only tested segments: a segment without an interval (too few customers, nobody
    # converted) has nothing to draw
    data = frame[frame["ci_low"].notna()] if len(frame) else frame
    fig = go.Figure()
    if data.empty:
        return finish_figure(fig, tr("segments.viz.empty", language=language, by=by),
                             language)
    k = _scale(metric)
    several = data["arm"].nunique() > 1
    labels = [f"{a} · {s}" if several else str(s) for a, s in zip(data["arm"], data["label"],
                                                                   strict=True)]
    for key, col, colour in (("raw", "effect", GREY), ("shrunk", "shrunk_effect", BLUE)):
        x = k * data[col]
        fig.add_trace(go.Scatter(
            x=x, y=labels, mode="markers", name=tr(f"segments.viz.{key}", language=language),
            marker={"color": colour, "size": 9 if key == "raw" else 11,
                    "symbol": "circle-open" if key == "raw" else "diamond"},
            error_x={"type": "data", "symmetric": False,
                     "array": k * (data[f"{_prefix(col)}ci_high"] - data[col]),
                     "arrayminus": k * (data[col] - data[f"{_prefix(col)}ci_low"])},
            orientation="h", offsetgroup=key, hovertemplate="%{y}<br>%{x:.2f}<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#444", "width": 1})
    for value in overall.values():
        if pd.notna(value):
            fig.add_vline(x=k * value, line={"color": BLUE, "width": 1, "dash": "dash"})
    unit = "points" if metric == "conversion" else "money"
    fig.update_xaxes(title=tr(f"segments.viz.axis_{unit}", language=language))
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    fig.update_layout(scattermode="group")
    fig = finish_figure(fig, tr("segments.viz.title", language=language, by=by), language)
    fig.update_layout(height=max(280, 90 + 46 * len(data)))
    return fig


def _prefix(col: str) -> str:
    return "shrunk_" if col.startswith("shrunk") else ""
