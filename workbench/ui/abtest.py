"""The A/B test page: a campaign picker, the readout (sample-ratio check first) and a planner.

No statistics happen here: the page calls :func:`workbench.abtest.run_abtest`,
:func:`workbench.abtest.list_campaigns` / :func:`~workbench.abtest.campaign_overview` and the
planning functions of :mod:`workbench.abtest.power`.
"""

from __future__ import annotations

import html
import math
from datetime import date
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench.abtest.analysis import AbTestParams
from workbench.i18n import format_money, format_number, format_percent, tr
from workbench.results import Status
from workbench.ui.common import message_html
from workbench.ui.page import Page, show_figure

__all__ = ["AbTestPage", "planner_html", "show_abtest"]


def planner_html(baseline_rate: float, mde: float, *, alpha: float = 0.05, power: float = 0.8,
                 daily_customers: float = 0.0, arms: int = 2, holdout_share: float = 0.0,
                 audience: int = 0, language: str = "en") -> str:
    """Return the sample-size planner's answer as HTML (a readable message on bad input)."""
    from workbench.abtest.power import (
        expected_duration_days,
        minimum_detectable_effect,
        sample_size_per_arm,
    )
    from workbench.errors import ParameterError

    lang = language
    try:
        n = sample_size_per_arm(baseline_rate, mde, alpha=alpha, power=power)
        lines = [tr("abtest.ui.plan_n", language=lang, n=format_number(n, language=lang),
                    mde=f"{100 * mde:.1f}%", rate=f"{100 * baseline_rate:.2f}%",
                    power=f"{100 * power:.0f}%", alpha=f"{alpha:g}")]
        if daily_customers > 0:
            treated = (1 - holdout_share) / max(arms, 1)
            shares = {f"arm{i}": treated for i in range(max(arms, 1))}
            if holdout_share > 0:
                shares["holdout"] = holdout_share
            d = expected_duration_days(n, daily_customers, shares)
            lines.append(tr("abtest.ui.plan_days", language=lang, days=d.days,
                            total=format_number(d.total_customers, language=lang)))
        if audience > 0:
            per_arm = audience * (1 - holdout_share) / max(arms, 1)
            got = minimum_detectable_effect(max(per_arm, 1), baseline_rate, alpha=alpha,
                                            power=power)
            lines.append(tr("abtest.ui.plan_mde", language=lang,
                            audience=format_number(audience, language=lang),
                            mde="–" if math.isinf(got) else f"{100 * got:.1f}%"))
    except ParameterError as exc:
        return message_html(str(exc), level="warning")
    items = "".join(f"<li>{html.escape(x)}</li>" for x in lines)
    return f"<div class='wb-planner-result' data-n='{n}'><ul>{items}</ul></div>"


class AbTestPage(Page):
    """A/B readout of one campaign plus a sample-size planner; ``display(page)`` shows it."""

    def run(self) -> Any:
        """Run :func:`workbench.abtest.run_abtest` for the page's parameters."""
        from workbench.abtest.analysis import run_abtest

        return run_abtest(self.con, self.params, settings=self.settings)

    @property
    def ok(self) -> bool:
        """A readout is shown even when the split is off plan (the banner says so)."""
        return self.result is not None and self.result.status != Status.NO_DATA

    # ------------------------------------------------------------------ pieces
    def _verdict_html(self) -> str:
        """Return the split check first, then the takeaway as a title and the rest as a list."""
        from workbench.abtest.verdict import verdict_parts

        r = self.result
        parts = [p for p in verdict_parts(r) if p != r.srm.message]
        srm = self._srm_html()
        if not parts:
            return srm
        rest = "".join(f"<li>{html.escape(p)}</li>" for p in parts[1:])
        return (f"{srm}<h2 class='wb-title'>{html.escape(parts[0])}</h2>"
                f"<ul class='wb-verdict'>{rest}</ul>")

    def _srm_html(self) -> str:
        r = self.result
        level = "error" if r.srm.mismatch else "info"
        frame = r.srm.to_frame()
        rows = "".join(
            f"<tr><td>{html.escape(str(x.variant))}</td>"
            f"<td>{format_number(x.observed, language=self.language)}</td>"
            f"<td>{100 * x.observed_share:.1f}%</td><td>{100 * x.planned_share:.1f}%</td></tr>"
            for x in frame.itertuples())
        head = "".join(f"<th>{tr(f'abtest.ui.srm_{k}', language=self.language)}</th>"
                       for k in ("arm", "customers", "observed", "planned"))
        return (f"<div class='wb-srm' data-mismatch='{str(r.srm.mismatch).lower()}'>"
                f"{message_html(r.srm.message, level=level)}<table class='wb-table'>"
                f"<tr>{head}</tr>{rows}</table></div>")

    def _table_html(self) -> str:
        from workbench.abtest.verdict import format_effect, format_p, metric_label

        r, lang = self.result, self.language
        frame = r.to_frame()
        cols = ("metric", "variant", "control_value", "variant_value", "effect", "ci", "lift",
                "p", "p_adjusted", "prob")
        head = "".join(f"<th>{tr(f'abtest.ui.col_{c}', language=lang)}</th>" for c in cols)
        body = []
        for x in frame.itertuples():
            def val(v: float, x=x) -> str:
                if x.kind == "proportion" or x.metric in ("open_rate", "click_rate"):
                    return format_percent(v, digits=2, language=lang)
                return "–" if pd.isna(v) else format_money(v, r.currency, language=lang)

            eff = lambda v, x=x: format_effect(v, x.kind, x.metric, r.currency, lang,  # noqa: E731
                                               signed=True)
            def bare_p(p: float) -> str:
                return "–" if pd.isna(p) else format_p(p, lang).removeprefix("p = ").replace(
                    "p ", "")

            cells = [metric_label(x.metric, lang), x.variant, val(x.value_control),
                     val(x.value_variant), eff(x.effect), f"{eff(x.ci_low)} ~ {eff(x.ci_high)}",
                     format_percent(x.lift, signed=True, language=lang), bare_p(x.p_value),
                     bare_p(x.p_adjusted),
                     format_percent(x.prob_beat_control, digits=0, language=lang)]
            cls = " class='wb-significant'" if x.significant else ""
            body.append(f"<tr{cls} data-metric='{x.metric}' data-variant='"
                        f"{html.escape(str(x.variant))}' data-p='{x.p_value}'>"
                        + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        return (f"<table class='wb-table wb-abtest-table'><tr>{head}</tr>{''.join(body)}</table>")

    def _roi_html(self) -> str:
        r, lang = self.result, self.language
        if not r.roi:
            return ""
        money = lambda v: "–" if pd.isna(v) else format_money(v, r.currency,  # noqa: E731
                                                                language=lang)
        rows = "".join(
            f"<tr data-variant='{html.escape(x.variant)}' data-roi='{x.roi}'>"
            f"<td>{html.escape(x.variant)}</td>"
            f"<td>{format_number(x.incremental_conversions, language=lang)}</td>"
            f"<td>{money(x.incremental_revenue)}</td><td>{money(x.cost)}</td>"
            f"<td>{money(x.incremental_margin)}</td>"
            f"<td>{'–' if pd.isna(x.roi) else f'{100 * x.roi:.0f}%'}</td></tr>" for x in r.roi)
        head = "".join(f"<th>{tr(f'abtest.ui.roi_{k}', language=lang)}</th>"
                       for k in ("arm", "buyers", "revenue", "cost", "margin", "roi"))
        return (f"<h3>{tr('abtest.ui.roi_title', language=lang, holdout=r.baseline)}</h3>"
                f"<table class='wb-table wb-roi'><tr>{head}</tr>{rows}</table>")

    def _overview_html(self) -> str:
        from workbench.abtest.analysis import campaign_overview

        lang = self.language
        frame = campaign_overview(self.con, self.params.as_of, settings=self.settings,
                                  language=lang)
        if frame.empty:
            return ""
        rows = "".join(
            f"<tr><td>{html.escape(str(x.campaign_id))}</td><td>{html.escape(str(x.name))}</td>"
            f"<td>{tr(f'abtest.ui.state_{x.state}', language=lang)}</td>"
            f"<td>{format_number(x.customers, language=lang)}</td>"
            f"<td>{'✔' if x.srm_ok else '✖'}</td><td>{html.escape(str(x.verdict))}</td></tr>"
            for x in frame.itertuples())
        head = "".join(f"<th>{tr(f'abtest.ui.ov_{k}', language=lang)}</th>"
                       for k in ("campaign", "name", "state", "customers", "srm", "verdict"))
        return (f"<h3>{tr('abtest.ui.overview_title', language=lang)}</h3>"
                f"<table class='wb-table wb-campaigns'><tr>{head}</tr>{rows}</table>")

    def static_parts(self) -> list[Any]:
        """Return the comparisons, the charts, the ROI and all campaigns (below the verdict)."""
        r = self.result
        return [self._table_html(), r.figure(), r.figure_arms(), self._roi_html(),
                self._overview_html()]

    def display_static(self) -> None:
        """Show the readout as static HTML (also when the split is off plan)."""
        from IPython.display import HTML, display

        from workbench.reporting.run import record_headline

        r = self.result
        if not self.ok:
            display(HTML(message_html(r.message, level="warning")))
            return
        display(HTML(self._verdict_html()))
        for part in self.static_parts():
            display(HTML(part) if isinstance(part, str) else part)
        record_headline(r.headline())

    # ------------------------------------------------------------------ widgets
    def _campaign_options(self) -> list[tuple[str, str]]:
        from workbench.abtest.analysis import list_campaigns

        lang = self.language
        options = [(tr("abtest.ui.latest", language=lang), "")]
        if self.con is None or "campaigns" not in self.con.list_tables():
            return options
        listing = list_campaigns(self.con, self.params.as_of, settings=self.settings)
        for x in listing.itertuples():
            state = tr(f"abtest.ui.state_{x.state}", language=lang)
            options.append((f"{x.campaign_id} · {x.name} ({state})", str(x.campaign_id)))
        return options

    def form(self) -> list[widgets.Widget]:
        """Return the as-of date, the campaign picker, the window and the correction."""
        lang = self.language
        self.w_as_of = self.date_picker()
        options = self._campaign_options()
        value = self.params.campaign_id if self.params.campaign_id in dict(
            (v, k) for k, v in options) else ""
        self.w_campaign = widgets.Dropdown(options=options, value=value,
                                           description=tr("abtest.ui.campaign", language=lang))
        self.w_campaign.add_class("wb-campaign")
        self.w_window = widgets.BoundedIntText(
            value=int(self.params.window_days), min=1, max=365,
            description=tr("abtest.ui.window", language=lang),
            style={"description_width": "initial"}, layout={"width": "170px"})
        self.w_window.add_class("wb-window")
        self.w_correction = widgets.Dropdown(
            options=[(tr(f"abtest.ui.correction_{c}", language=lang), c)
                     for c in ("holm", "bh", "none")],
            value=self.params.correction, description=tr("abtest.ui.correction", language=lang))
        self.w_correction.add_class("wb-correction")
        for w in (self.w_as_of, self.w_campaign, self.w_window, self.w_correction):
            w.observe(self._on_change, names="value")
        return [self.w_as_of, self.w_campaign, self.w_window, self.w_correction]

    def _planner(self) -> widgets.Widget:
        lang = self.language
        style = {"description_width": "initial"}
        self.w_plan = {
            "baseline": widgets.BoundedFloatText(value=5.0, min=0.01, max=99.0, step=0.5,
                                                 description=tr("abtest.ui.plan_baseline",
                                                                language=lang), style=style),
            "mde": widgets.BoundedFloatText(value=10.0, min=0.1, max=500.0, step=1.0,
                                            description=tr("abtest.ui.plan_mde_input",
                                                           language=lang), style=style),
            "power": widgets.BoundedFloatText(value=80.0, min=50.0, max=99.0, step=5.0,
                                              description=tr("abtest.ui.plan_power",
                                                             language=lang), style=style),
            "arms": widgets.BoundedIntText(value=2, min=2, max=10,
                                           description=tr("abtest.ui.plan_arms", language=lang),
                                           style=style),
            "daily": widgets.BoundedIntText(value=1000, min=0, max=10_000_000,
                                            description=tr("abtest.ui.plan_daily",
                                                           language=lang), style=style),
        }
        for name, w in self.w_plan.items():
            w.add_class(f"wb-plan-{name}")
            w.observe(self._on_plan, names="value")
        self.w_plan_out = widgets.HTML()
        self.w_plan_out.add_class("wb-planner")
        self.w_plan_chart = widgets.Output()
        self._on_plan(None)
        title = widgets.HTML(f"<h3>{tr('abtest.ui.planner_title', language=lang)}</h3>")
        return widgets.VBox([title, widgets.HBox(list(self.w_plan.values())[:3]),
                             widgets.HBox(list(self.w_plan.values())[3:]), self.w_plan_out,
                             self.w_plan_chart])

    def _on_plan(self, _change: dict | None) -> None:
        from workbench.abtest.power import sample_size_per_arm
        from workbench.errors import ParameterError
        from workbench.viz.abtest import planner_figure

        p = {k: w.value for k, w in self.w_plan.items()}
        rate, mde, power = p["baseline"] / 100, p["mde"] / 100, p["power"] / 100
        audience = int(self.result.arms["n"].sum()) if self.ok else 0
        self.w_plan_out.value = planner_html(rate, mde, power=power, alpha=self.params.alpha,
                                             daily_customers=p["daily"], arms=p["arms"],
                                             audience=audience, language=self.language)
        grid = [m / 100 for m in (2, 3, 5, 7.5, 10, 15, 20, 30, 50)]
        try:
            sizes = [sample_size_per_arm(rate, m, power=power, alpha=self.params.alpha)
                     for m in grid]
        except ParameterError:
            self.w_plan_chart.clear_output()
            return
        show_figure(self.w_plan_chart, planner_figure(rate, grid, sizes, language=self.language))

    def body(self) -> list[widgets.Widget]:
        """Return the SRM banner, the table, the charts, the ROI and the planner (created once)."""
        if not hasattr(self, "w_srm"):
            self.w_srm = widgets.HTML()
            self.w_srm.add_class("wb-srm-box")
            self.w_table = widgets.HTML()
            self.w_table.add_class("wb-abtest-results")
            self.w_forest = widgets.Output()
            self.w_forest.add_class("wb-chart-forest")
            self.w_arms = widgets.Output()
            self.w_arms.add_class("wb-chart-arms")
            self.w_roi = widgets.HTML()
            self.w_roi.add_class("wb-roi-box")
            self.w_planner = self._planner()
        return [self.w_srm, self.w_table, self.w_forest, self.w_arms, self.w_roi,
                self.w_planner]

    def clear(self) -> None:
        """Empty the readout but keep the planner."""
        for w in (self.w_srm, self.w_table, self.w_roi):
            w.value = ""
        for out in (self.w_forest, self.w_arms):
            out.clear_output()

    def render(self) -> None:
        """Fill the readout from the result (the SRM check first)."""
        r = self.result
        self.w_message.value = self._verdict_html()  # the split check comes first
        self.w_srm.value = ""
        self.w_table.value = self._table_html()
        show_figure(self.w_forest, r.figure())
        show_figure(self.w_arms, r.figure_arms())
        self.w_roi.value = self._roi_html()
        if hasattr(self, "w_plan"):
            self._on_plan(None)

    def _on_change(self, _change: dict) -> None:
        as_of = self.w_as_of.value
        if isinstance(as_of, date):
            self.update(as_of=as_of, campaign_id=self.w_campaign.value,
                        window_days=int(self.w_window.value),
                        correction=self.w_correction.value)


def show_abtest(params: AbTestParams) -> AbTestPage:
    """Return the A/B test page for ``params``; the notebook's last expression displays it."""
    return AbTestPage(params)
