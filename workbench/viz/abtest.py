"""Figures of the A/B readout: a forest plot of relative lifts and the arms' conversion rates.

Data in, a new ``go.Figure`` out; no I/O. The frames are :meth:`AbTestResult.to_frame` and
:attr:`AbTestResult.arms`. Titles state the takeaway; a failed sample-ratio check is said in
the forest plot's title, because then no interval on it can be trusted.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from scipy import stats

from workbench.i18n import format_percent, tr
from workbench.viz.style import BLUE, GREEN, GREY, RED, finish_figure

__all__ = ["arms_figure", "forest_plot", "planner_figure"]

_BLUE, _GREEN, _RED, _GREY = BLUE, GREEN, RED, GREY


def _metric(metric: str, language: str) -> str:
    return tr(f"abtest.metric.{metric}", language=language)


def forest_plot(frame: pd.DataFrame, *, srm_ok: bool = True, language: str = "en") -> go.Figure:
    """Return a forest plot: one row per (variant, metric), relative lift with its interval.

    Parameters
    ----------
    frame
        :meth:`AbTestResult.to_frame`: ``metric``, ``variant``, ``control``, ``lift``,
        ``lift_ci_low``, ``lift_ci_high``, ``significant``, ``guardrail``, ``status``.
    srm_ok
        False when the sample-ratio check failed (said in the title).

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Scatter`` trace per colour (better, worse, unclear) with error bars; lifts in %.
    """
    data = frame[frame["lift"].notna()] if len(frame) else frame
    fig = go.Figure()
    if data.empty:
        return finish_figure(fig, tr("abtest.viz.forest_empty", language=language))
    labels = [f"{v} · {_metric(m, language)}" for v, m in zip(data["variant"], data["metric"],
                                                            strict=True)]
    harmful = data["guardrail"].astype(bool)
    # A comparison with a data warning (too few customers or orders) is never coloured.
    clear = data["significant"].astype(bool) & (data["status"] == "ok")
    better = clear & ((data["lift"] > 0) ^ harmful)
    worse = clear & ~better
    groups = (("better", better, _GREEN), ("worse", worse, _RED),
              ("unclear", ~(better | worse), _GREY))
    for key, mask, colour in groups:
        part = data[mask.to_numpy()]
        if part.empty:
            continue
        y = [lab for lab, m in zip(labels, mask, strict=True) if m]
        fig.add_trace(go.Scatter(
            x=100 * part["lift"], y=y, mode="markers", name=tr(f"abtest.viz.{key}",
                                                               language=language),
            marker={"color": colour, "size": 10},
            error_x={"type": "data", "symmetric": False,
                     "array": 100 * (part["lift_ci_high"] - part["lift"]),
                     "arrayminus": 100 * (part["lift"] - part["lift_ci_low"])},
            hovertemplate="%{y}<br>%{x:.1f}%<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#444", "width": 1})
    fig.update_xaxes(title=tr("abtest.viz.lift_axis", language=language), ticksuffix="%")
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    if not srm_ok:
        title = tr("abtest.viz.forest_srm", language=language)
    elif better.any():
        best = data[better.to_numpy()].sort_values("lift", ascending=False).iloc[0]
        title = tr("abtest.viz.forest_win", language=language, variant=best["variant"],
                   metric=_metric(best["metric"], language),
                   lift=format_percent(best["lift"], signed=True, language=language))
    else:
        title = tr("abtest.viz.forest_none", language=language)
    fig = finish_figure(fig, title)
    fig.update_layout(height=max(260, 60 + 42 * len(data)))
    return fig


def arms_figure(arms: pd.DataFrame, *, alpha: float = 0.05, language: str = "en") -> go.Figure:
    """Return a bar chart of each arm's conversion rate with a Wald interval.

    Parameters
    ----------
    arms
        :attr:`AbTestResult.arms`: ``variant``, ``n``, ``conversions``, ``conversion_rate``.
    """
    fig = go.Figure()
    if arms.empty:
        return finish_figure(fig, tr("abtest.viz.forest_empty", language=language))
    z = float(stats.norm.isf(alpha / 2))
    rate = arms["conversion_rate"].astype(float)
    n = arms["n"].astype(float).where(arms["n"] > 0)
    half = z * (rate * (1 - rate) / n) ** 0.5
    fig.add_trace(go.Bar(
        x=list(arms["variant"]), y=100 * rate, marker_color=_BLUE,
        error_y={"type": "data", "array": 100 * half.fillna(0.0)},
        customdata=list(zip(arms["n"].astype(int), arms["conversions"].astype(int),
                            strict=True)),
        hovertemplate=("%{x}<br>%{y:.2f}%<br>%{customdata[1]:,} / %{customdata[0]:,}"
                       "<extra></extra>"),
        name=tr("abtest.metric.conversion", language=language)))
    fig.update_yaxes(title=tr("abtest.viz.rate_axis", language=language), ticksuffix="%")
    top = arms.loc[rate.idxmax()] if rate.notna().any() else None
    title = (tr("abtest.viz.arms_title", language=language, variant=top["variant"],
                rate=format_percent(top["conversion_rate"], language=language))
             if top is not None else tr("abtest.viz.forest_empty", language=language))
    return finish_figure(fig, title)


def planner_figure(baseline_rate: float, mdes: list[float], sizes: list[int], *,
                   language: str = "en") -> go.Figure:
    """Return the customers needed per arm against the relative MDE (log scale).

    Parameters
    ----------
    baseline_rate
        Conversion rate of the control arm (for the title).
    mdes, sizes
        Relative minimum detectable effects and the matching sample sizes per arm.
    """
    fig = go.Figure(go.Scatter(
        x=[100 * m for m in mdes], y=sizes, mode="lines+markers", line={"color": _BLUE},
        hovertemplate="%{x:.1f}%<br>%{y:,}<extra></extra>",
        name=tr("abtest.viz.per_arm", language=language)))
    fig.update_xaxes(title=tr("abtest.viz.mde_axis", language=language), ticksuffix="%")
    fig.update_yaxes(title=tr("abtest.viz.per_arm", language=language), type="log")
    return finish_figure(fig, tr("abtest.viz.planner_title", language=language,
                           rate=format_percent(baseline_rate, language=language)))
