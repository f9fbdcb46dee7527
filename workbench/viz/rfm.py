"""Figures of the RFM analysis: segment treemap, R x F heatmap, migration Sankey, loyalty tiers.

Data in, a new ``go.Figure`` out; no I/O. The frames are those of
:class:`workbench.rfm.RfmResult` (labels already in the chosen language); titles state the
takeaway, money is in the currency's minor units (KRW without decimals).
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import format_date, format_money, format_number, format_percent, tr
from workbench.viz.style import finish_figure, money_tickformat, money_unit

__all__ = ["empty_scores", "migration_sankey", "rf_heatmap_figure", "segment_treemap",
           "tier_figure"]

_BLUE, _GREEN, _RED, _GREY = "#1f5fbf", "#1a7f37", "#c62828", "#8a8f98"


def segment_treemap(segments: pd.DataFrame, *, currency: str = "KRW",
                    language: str = "en") -> go.Figure:
    """Return a treemap of segments sized by customers, coloured by revenue share.

    Parameters
    ----------
    segments
        One row per segment: ``segment``, ``label``, ``customers``, ``share``,
        ``net_revenue``, ``revenue_share``, ``avg_value``.
    currency, language
        Money formatting and label language.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Treemap`` trace: ``ids`` are the segment ids, ``values`` the customers.
    """
    data = segments[segments["customers"] > 0]
    fmt = money_tickformat(currency)
    custom = list(zip(data["share"], data["revenue_share"].fillna(0.0), data["avg_value"],
                      strict=True))
    fig = go.Figure(go.Treemap(
        ids=list(data["segment"]), labels=list(data["label"]), parents=[""] * len(data),
        values=[int(v) for v in data["customers"]], customdata=custom,
        marker={"colors": [float(v) for v in data["revenue_share"].fillna(0.0)],
                "colorscale": "Blues", "showscale": False},
        texttemplate="%{label}<br>%{value:,} · %{customdata[0]:.0%}",
        hovertemplate=(
            f"%{{label}}<br>{tr('rfm.viz.hover.customers', language=language)}: %{{value:,}}"
            f"<br>{tr('rfm.viz.hover.revenue_share', language=language)}: "
            "%{customdata[1]:.1%}"
            f"<br>{tr('rfm.viz.hover.avg_value', language=language)}: "
            f"%{{customdata[2]:{fmt}}} {money_unit(currency, language)}<extra></extra>"),
    ))
    if data.empty:
        title = tr("rfm.viz.title.treemap_empty", language=language)
    else:
        top = data.loc[data["revenue_share"].fillna(0.0).idxmax()]
        title = tr("rfm.viz.title.treemap", language=language, label=top["label"],
                   share=format_percent(top["share"], language=language),
                   revenue_share=format_percent(top["revenue_share"], language=language))
    fig = finish_figure(fig, title)
    fig.update_layout(margin={"l": 4, "r": 4, "t": 78, "b": 4})
    return fig


def empty_scores(grid: pd.DataFrame, column: str, bins: int) -> list[int]:
    """Return the scores of ``column`` that the grid reports with no customer in any cell.

    Only scores the grid has rows for count: a grid of a few cells says nothing about the
    others. Quantile scores leave a score empty when a block of tied customers is larger than
    a bin (43% of the sample's buyers ordered once: they all get F = 1 and the next block
    starts at F = 3).

    Examples
    --------
    >>> grid = pd.DataFrame({"r_score": [1, 1, 2, 2], "f_score": [1, 2, 1, 2],
    ...                      "customers": [4, 0, 3, 0]})
    >>> empty_scores(grid, "f_score", 2), empty_scores(grid, "r_score", 2)
    ([2], [])
    """
    if grid.empty:
        return []
    per = grid.groupby(column)["customers"].sum()
    return [int(s) for s in range(1, bins + 1) if s in per.index and per[s] == 0]


def rf_heatmap_figure(grid: pd.DataFrame, *, bins: int = 5, currency: str = "KRW",
                      language: str = "en") -> go.Figure:
    """Return the R x F heatmap of average net revenue, with customer counts in the cells.

    Parameters
    ----------
    grid
        ``r_score``, ``f_score``, ``customers``, ``avg_monetary`` (any subset of the cells).
    bins
        Score levels; the axes run 1..``bins``.
    currency, language
        Money formatting and label language.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` trace on category axes: ``x`` and ``y`` are the scores shown (as text),
        ``z[i][j]`` the average net revenue of cell (``y[i]``, ``x[j]``) (``None`` when empty),
        ``text`` the customer counts. A score the grid reports with no customers at all
        (:func:`empty_scores`) is left out rather than drawn as a column of zeros; with every
        score shown, ``z[r - 1][f - 1]`` is cell (r, f).
    """
    levels = list(range(1, bins + 1))
    r_levels = [r for r in levels if r not in empty_scores(grid, "r_score", bins)]
    f_levels = [f for f in levels if f not in empty_scores(grid, "f_score", bins)]
    cells = grid.set_index(["r_score", "f_score"])
    z, text = [], []
    for r in r_levels:
        row_z, row_t = [], []
        for f in f_levels:
            hit = (r, f) in cells.index
            avg = float(cells.loc[(r, f), "avg_monetary"]) if hit else math.nan
            row_z.append(None if math.isnan(avg) else avg)
            row_t.append(format_number(int(cells.loc[(r, f), "customers"]), language=language)
                         if hit else "")
        z.append(row_z)
        text.append(row_t)
    unit = money_unit(currency, language)
    fmt = money_tickformat(currency)
    fig = go.Figure(go.Heatmap(
        x=[str(f) for f in f_levels], y=[str(r) for r in r_levels], z=z, text=text,
        texttemplate="%{text}", colorscale="Blues",
        colorbar={"title": {"text": tr("rfm.viz.colorbar.avg_monetary", language=language,
                                       unit=unit)}, "tickformat": fmt},
        hovertemplate=(f"{tr('rfm.viz.hover.cell', language=language)}<br>"
                       f"{tr('rfm.viz.hover.avg_monetary', language=language)}: "
                       f"%{{z:{fmt}}} {unit}<br>"
                       f"{tr('rfm.viz.hover.customers', language=language)}: %{{text}}"
                       "<extra></extra>"),
    ))
    fig.update_layout(
        xaxis={"title": {"text": tr("rfm.viz.axis.frequency_score", language=language)},
               "type": "category"},
        yaxis={"title": {"text": tr("rfm.viz.axis.recency_score", language=language)},
               "type": "category"})
    filled = grid.dropna(subset=["avg_monetary"])
    if filled.empty:
        title = tr("rfm.viz.title.heatmap_empty", language=language)
    else:
        best = filled.loc[filled["avg_monetary"].idxmax()]
        title = tr("rfm.viz.title.heatmap", language=language, r=int(best["r_score"]),
                   f=int(best["f_score"]),
                   value=format_money(best["avg_monetary"], currency, language=language))
    return finish_figure(fig, title)


def migration_sankey(migration: pd.DataFrame, *, from_as_of: date, to_as_of: date,
                     language: str = "en") -> go.Figure:
    """Return a Sankey of customers moving from segments at ``from_as_of`` to ``to_as_of``.

    Parameters
    ----------
    migration
        ``from_segment``, ``to_segment``, ``from_label``, ``to_label``, ``customers``.
    from_as_of, to_as_of
        The two dates (node labels and title).
    language
        Label language.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Sankey`` trace; ``link.value`` equals ``migration.customers`` row by row.
    """
    start = format_date(from_as_of, language=language)
    end = format_date(to_as_of, language=language)
    left = list(dict.fromkeys(migration["from_segment"]))
    right = list(dict.fromkeys(migration["to_segment"]))
    labels_left = dict(zip(migration["from_segment"], migration["from_label"], strict=True))
    labels_right = dict(zip(migration["to_segment"], migration["to_label"], strict=True))
    nodes = ([tr("rfm.viz.node.before", language=language, label=labels_left[s], day=start)
              for s in left]
             + [tr("rfm.viz.node.before", language=language, label=labels_right[s], day=end)
                for s in right])
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": nodes, "pad": 10, "thickness": 12, "color": _BLUE},
        link={"source": [left.index(s) for s in migration["from_segment"]],
              "target": [len(left) + right.index(s) for s in migration["to_segment"]],
              "value": [int(v) for v in migration["customers"]],
              "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,}"
                               "<extra></extra>"},
    ))
    total = int(migration["customers"].sum())
    if not total:
        title = tr("rfm.viz.title.migration_empty", language=language)
    else:
        moved = int(migration.loc[migration["from_segment"] != migration["to_segment"],
                                  "customers"].sum())
        title = tr("rfm.viz.title.migration", language=language,
                   moved=format_number(moved, language=language),
                   total=format_number(total, language=language), start=start, end=end)
    fig = finish_figure(fig, title)
    fig.update_layout(height=520)
    return fig


def tier_figure(tiers: pd.DataFrame, movers: pd.DataFrame, *,
                language: str = "en") -> go.Figure:
    """Return customer and 12-month spend shares per tier, and next month's movers.

    Parameters
    ----------
    tiers
        One row per tier, highest first: ``tier``, ``label``, ``share``, ``revenue_share``.
    movers
        ``tier``, ``next_tier``, ``direction``, ``customers`` (see
        :func:`workbench.rfm.tier_movers`).
    language
        Label language.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces 0 and 1: bars of ``share`` and ``revenue_share`` (in %) by tier label; traces 2
        and 3: customers moving up and down *out of* each tier (right axis).
    """
    labels = list(tiers["label"])
    fig = go.Figure()
    fig.add_bar(x=labels, y=[100 * float(v) for v in tiers["share"].fillna(0.0)],
                name=tr("rfm.viz.trace.customer_share", language=language), marker_color=_BLUE,
                hovertemplate="%{x}: %{y:.1f}%<extra></extra>")
    fig.add_bar(x=labels, y=[100 * float(v) for v in tiers["revenue_share"].fillna(0.0)],
                name=tr("rfm.viz.trace.revenue_share", language=language), marker_color=_GREY,
                hovertemplate="%{x}: %{y:.1f}%<extra></extra>")
    counts = {d: movers[movers["direction"] == d].groupby("tier")["customers"].sum()
              for d in ("up", "down")}
    for direction, color in (("up", _GREEN), ("down", _RED)):
        fig.add_scatter(
            x=labels, y=[int(counts[direction].get(t, 0)) for t in tiers["tier"]],
            name=tr(f"rfm.viz.trace.moving_{direction}", language=language), mode="markers",
            marker={"color": color, "size": 10,
                    "symbol": "triangle-up" if direction == "up" else "triangle-down"},
            yaxis="y2", hovertemplate="%{x}: %{y:,}<extra></extra>")
    fig.update_layout(
        barmode="group",
        xaxis={"title": {"text": tr("rfm.viz.axis.tier", language=language)}},
        yaxis={"title": {"text": tr("rfm.viz.axis.share", language=language)},
               "ticksuffix": "%", "rangemode": "tozero"},
        yaxis2={"title": {"text": tr("rfm.viz.hover.customers", language=language)},
                "overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                "tickformat": ",.0f"})
    if tiers.empty or not tiers.get("customers", pd.Series([1])).sum():
        title = tr("rfm.viz.title.tiers_empty", language=language)
    else:
        title = tr("rfm.viz.title.tiers", language=language,
                   up=format_number(int(counts["up"].sum()), language=language),
                   down=format_number(int(counts["down"].sum()), language=language))
    return finish_figure(fig, title)
