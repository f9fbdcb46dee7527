"""The A/B test page: a campaign picker, the readout (sample-ratio check first) and a planner.

No statistics happen here: the page calls :func:`workbench.abtest.run_abtest`,
:func:`workbench.abtest.list_campaigns` / :func:`~workbench.abtest.campaign_overview` and
:func:`workbench.abtest.plan_experiment`, and words their numbers in the page's language.
"""

from __future__ import annotations

import html
import math
from datetime import date
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML, display

import workbench.abtest as abtest
from workbench.abtest import (
    AbTestParams,
    ExperimentPlan,
    PlanStatus,
    campaign_overview,
    list_campaigns,
    plan_experiment,
    run_abtest,
)
from workbench.abtest.multiple import CORRECTIONS
from workbench.abtest.verdict import (
    arm_label,
    format_effect,
    format_level,
    format_metric_value,
    format_p,
    metric_label,
    roi_formula,
    verdict_parts,
)
from workbench.errors import ParameterError
from workbench.i18n import format_number, format_percent, format_value, tr, using_language
from workbench.results import Status
from workbench.ui.common import message_html, table_html
from workbench.ui.page import Page, chart_outputs, error_text, html_box, show_figure
from workbench.viz.abtest import planner_figure

__all__ = ["AbTestPage", "planner_html", "show_abtest"]

#: Relative lifts the planner's chart shows the sample size for.
#: Campaigns whose readouts refresh keeps ready, most recent first. A shop with two years of
#: campaigns lists about fifty; each readout costs 0.5-1.5 s per language at 20k-100k customers,
#: so keeping them all would add minutes to every refresh for pages few people open. An older
#: campaign is computed when picked (about a second) and then kept.
WARM_CAMPAIGNS = 8
_PLAN_GRID = tuple(m / 100 for m in (2, 3, 5, 7.5, 10, 15, 20, 30, 50))


def planner_html(baseline_rate: float, mde: float, *, alpha: float = 0.05, power: float = 0.8,
                 daily_customers: float = 0.0, arms: int = 2, holdout_share: float = 0.0,
                 audience: int = 0, language: str = "en") -> str:
    """Return the sample-size planner's answer as HTML (a readable message on bad input).

    The numbers come from :func:`workbench.abtest.plan_experiment`; with ``audience`` the
    last line says the smallest lift a treated arm detects against the baseline (the holdout
    when ``holdout_share`` is given, else another arm).
    """
    try:
        with using_language(language):  # an input error is worded in the page's language
            plan = plan_experiment(baseline_rate, mde=mde, audience=audience, arms=arms,
                                   holdout_share=holdout_share,
                                   daily_customers=daily_customers, alpha=alpha, power=power)
    except ParameterError as exc:
        return message_html(str(exc), level="warning")
    if plan.status == PlanStatus.LIFT_OUT_OF_RANGE:
        return message_html(tr("abtest.ui.plan_lift_out_of_range", language=language,
                               **_plan_fields(plan, language),
                               lifted=format_percent(plan.lifted_rate, digits=1,
                                                     language=language)), level="warning")
    items = "".join(f"<li>{html.escape(x)}</li>" for x in _plan_lines(plan, language))
    return f"<div class='wb-planner-result' data-n='{plan.n_per_arm}'><ul>{items}</ul></div>"


def _plan_fields(plan: ExperimentPlan, lang: str) -> dict[str, str]:
    return {"mde": format_percent(plan.mde, digits=1, language=lang),
            "rate": format_percent(plan.baseline_rate, digits=2, language=lang)}


def _plan_lines(plan: ExperimentPlan, lang: str) -> list[str]:
    lines = [tr("abtest.ui.plan_n", language=lang, **_plan_fields(plan, lang),
                n=format_number(plan.n_per_arm, language=lang),
                power=format_percent(plan.power, digits=0, language=lang),
                alpha=f"{plan.alpha:g}")]
    if plan.days is not None:
        lines.append(tr("abtest.ui.plan_days", language=lang, days=plan.days,
                        total=format_number(plan.total_customers, language=lang)))
    if plan.audience > 0:
        got = plan.detectable_mde
        lines.append(tr("abtest.ui.plan_mde", language=lang,
                        audience=format_number(plan.audience, language=lang),
                        mde="–" if got is None or math.isinf(got)
                        else format_percent(got, digits=1, language=lang)))
    return lines


def _head(prefix: str, keys: tuple[str, ...], lang: str) -> list[str]:
    return [tr(f"abtest.ui.{prefix}{k}", language=lang) for k in keys]


def _row(cells: list[Any], css: str = "", **data: Any) -> str:
    """Return a ``<tr>`` of escaped cells; ``data`` become ``data-*`` attributes."""
    attrs = "".join(f" data-{k}='{html.escape(str(v))}'" for k, v in data.items())
    cls = f" class='{css}'" if css else ""
    return f"<tr{cls}{attrs}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"


def _comparison_row(x: Any, label: str, currency: str, lang: str) -> str:
    """Return one row of the comparisons table (a ``to_frame()`` row; ``label`` names the arm).

    The interval cell is the decision interval with its level, the one the verdict reads, so
    the highlighted rows are exactly those whose interval excludes 0.
    """
    def value(v: float) -> str:
        return format_metric_value(v, x.kind, x.metric, currency, lang)

    def effect(v: float) -> str:
        return format_effect(v, x.kind, x.metric, currency, lang, signed=True)

    interval = "–" if math.isnan(x.decision_ci_low) else (
        f"{effect(x.decision_ci_low)} ~ {effect(x.decision_ci_high)} "
        f"({format_level(1 - x.decision_level, lang)}%)")
    cells = [metric_label(x.metric, lang), label, value(x.value_control),
             value(x.value_variant), effect(x.effect), interval,
             format_percent(x.lift, signed=True, language=lang),
             format_p(x.p_value, lang, prefix=False), format_p(x.p_adjusted, lang, prefix=False),
             format_percent(x.prob_beat_control, digits=0, language=lang)]
    return _row(cells, "wb-significant" if x.significant else "", metric=x.metric,
                variant=x.variant, control=x.control, p=x.p_value)


class AbTestPage(Page):
    """A/B readout of one campaign plus a sample-size planner; ``display(page)`` shows it."""

    def run(self) -> Any:
        """Run :func:`workbench.abtest.run_abtest` for the page's parameters."""
        return run_abtest(self.con, self.params, settings=self.settings)

    def variants(self) -> list[dict[str, Any]]:
        """Return the other corrections and the most recent campaigns the form lists."""
        p = self.params
        out: list[dict[str, Any]] = [{"correction": c} for c in CORRECTIONS if c != p.correction]
        recent = [value for _, value in self._campaign_options() if value]
        return out + [{"campaign_id": value} for value in recent[:WARM_CAMPAIGNS]
                      if value != p.campaign_id]

    @property
    def ok(self) -> bool:
        """A readout is shown even when the split is off plan (the banner says so)."""
        return self.result is not None and self.result.status != Status.NO_DATA

    # ------------------------------------------------------------------ pieces
    def _verdict_html(self) -> str:
        """Return the split check first, then the takeaway as a title and the rest as a list."""
        parts = verdict_parts(self.result, self.language, with_srm=False)
        srm = self._srm_html()
        if not parts:
            return srm
        rest = "".join(f"<li>{html.escape(p)}</li>" for p in parts[1:])
        return (f"{srm}<h2 class='wb-title'>{html.escape(parts[0])}</h2>"
                f"<ul class='wb-verdict'>{rest}</ul>")

    def _srm_html(self) -> str:
        r, lang = self.result, self.language
        level = "error" if r.srm.mismatch else "info"
        rows = [_row([arm_label(x.variant, lang), format_number(x.observed, language=lang),
                      format_percent(x.observed_share, language=lang),
                      format_percent(x.planned_share, language=lang)])
                for x in r.srm.to_frame().itertuples()]
        table = table_html("", _head("srm_", ("arm", "customers", "observed", "planned"), lang),
                           rows)
        return (f"<div class='wb-srm' data-mismatch='{str(r.srm.mismatch).lower()}'>"
                f"{message_html(r.srm.summary(lang), level=level)}{table}</div>")

    def _table_html(self) -> str:
        r, lang = self.result, self.language
        cols = ("metric", "variant", "control_value", "variant_value", "effect", "ci", "lift",
                "p", "p_adjusted", "prob")
        # the median order value rows follow the comparisons (bootstrap interval, no p-value)
        rows = [_comparison_row(x, r.pair_label(c), r.currency, lang)
                for x, c in zip(r.to_frame().itertuples(), (*r.comparisons, *r.quantiles),
                                strict=True)]
        cap = r.cap_sentence(lang)
        note = f"<p class='wb-revenue-cap'>{html.escape(cap)}</p>" if cap else ""
        return table_html("wb-abtest-table", _head("col_", cols, lang), rows) + note

    def _roi_html(self) -> str:
        r, lang = self.result, self.language
        if not r.roi:
            return ""

        def money(value: float) -> str:
            return format_value(value, "money", r.currency, language=lang)

        rows = [_row([arm_label(x.variant, lang),
                      format_number(x.incremental_conversions, language=lang),
                      money(x.incremental_revenue), money(x.margin_base), money(x.cost),
                      money(x.incremental_margin), format_percent(x.roi, digits=0, language=lang)],
                     variant=x.variant, roi=x.roi) for x in r.roi]
        head = _head("roi_", ("arm", "buyers", "revenue", "base", "cost", "margin", "roi"), lang)
        # The arithmetic under the table, exact to the won, so the margin can be checked by hand.
        formulas = "".join(
            f"<li data-variant='{html.escape(x.variant)}'>{html.escape(arm_label(x.variant, lang))}"
            f": {html.escape(roi_formula(x, r.currency, lang))}</li>" for x in r.roi)
        title = tr("abtest.ui.roi_title", language=lang, holdout=arm_label(r.baseline, lang))
        return (f"<h3>{html.escape(title)}</h3>{table_html('wb-roi', head, rows)}"
                f"<ul class='wb-roi-formula'>{formulas}</ul>")

    def _overview_html(self) -> str:
        lang = self.language
        frame = campaign_overview(self.con, self.params.as_of, settings=self.settings,
                                  language=lang)
        if frame.empty:
            return ""
        rows = [_row([x.campaign_id, x.name, tr(f"abtest.ui.state_{x.state}", language=lang),
                      format_number(x.customers, language=lang), "✔" if x.srm_ok else "✖",
                      x.verdict]) for x in frame.itertuples()]
        head = _head("ov_", ("campaign", "name", "state", "customers", "srm", "verdict"), lang)
        return (f"<h3>{tr('abtest.ui.overview_title', language=lang)}</h3>"
                f"{table_html('wb-campaigns', head, rows)}")

    def static_parts(self) -> list[Any]:
        """Return the comparisons, the charts, the ROI and all campaigns (below the verdict)."""
        r = self.result
        return [self._table_html(), r.figure(), r.figure_arms(), self._roi_html(),
                self._overview_html()]

    def display_static(self) -> None:
        """Show the readout as static HTML (also when the split is off plan)."""
        # Only reports record headlines; importing the report runner with the page would add
        # 0.17-0.32 s to every dashboard's start (measured after workbench.ui.abtest).
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
                     for c in CORRECTIONS],
            value=self.params.correction, description=tr("abtest.ui.correction", language=lang),
            style={"description_width": "initial"})  # "다중 비교 보정" is wider than 80 px
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
        self.w_plan_out = html_box("wb-planner")
        self.w_plan_chart = widgets.Output()
        self._on_plan(None)
        title = widgets.HTML(f"<h3>{tr('abtest.ui.planner_title', language=lang)}</h3>")
        return widgets.VBox([title, widgets.HBox(list(self.w_plan.values())[:3]),
                             widgets.HBox(list(self.w_plan.values())[3:]), self.w_plan_out,
                             self.w_plan_chart])

    def _on_plan(self, _change: dict | None) -> None:
        p = {k: w.value for k, w in self.w_plan.items()}
        rate, mde, power = p["baseline"] / 100, p["mde"] / 100, p["power"] / 100
        audience = int(self.result.arms["n"].sum()) if self.ok else 0
        self.w_plan_out.value = planner_html(rate, mde, power=power, alpha=self.params.alpha,
                                             daily_customers=p["daily"], arms=p["arms"],
                                             audience=audience, language=self.language)
        plans = [plan_experiment(rate, mde=m, power=power, alpha=self.params.alpha)
                 for m in _PLAN_GRID]
        if any(plan.status != PlanStatus.OK for plan in plans):  # a lift the rate cannot take
            self.w_plan_chart.clear_output()
            return
        show_figure(self.w_plan_chart, planner_figure(
            rate, list(_PLAN_GRID), [plan.n_per_arm for plan in plans], language=self.language))

    def body(self) -> list[widgets.Widget]:
        """Return the SRM banner, the table, the charts, the ROI and the planner (created once)."""
        if not hasattr(self, "w_srm"):
            self.w_srm = html_box("wb-srm-box")
            self.w_table = html_box("wb-abtest-results")
            charts = chart_outputs(("forest", "arms"))
            self.w_forest, self.w_arms = charts["forest"], charts["arms"]
            self.w_roi = html_box("wb-roi-box")
            self.w_segments = self._segments_section()
            self.w_planner = self._planner()
        return [self.w_srm, self.w_table, self.w_forest, self.w_arms, self.w_roi,
                self.w_segments, self.w_planner]

    def clear(self) -> None:
        """Empty the readout but keep the planner."""
        for w in (self.w_srm, self.w_table, self.w_roi):
            w.value = ""
        for out in (self.w_forest, self.w_arms):
            out.clear_output()
        self._reset_segments()

    # ------------------------------------------------------------------ lift by segment
    def _segments_section(self) -> widgets.Widget:
        """Return the "break down by" dropdown and where its table and chart go (empty)."""
        lang = self.language
        options = [(tr("segments.ui.choose", language=lang), "")]
        if self.con is not None:
            options += [(abtest.segment_by_label(c, lang), c)
                        for c in abtest.segment_choices(self.con)]
        self.w_by = widgets.Dropdown(options=options, value="",
                                     description=tr("segments.ui.break_down", language=lang),
                                     style={"description_width": "initial"})
        self.w_by.add_class("wb-break-down")
        self.w_by.observe(self._on_segments, names="value")
        self.w_seg_table = html_box("wb-segments")
        self.w_seg_chart = chart_outputs(("segments",))["segments"]
        return widgets.VBox([self.w_by, self.w_seg_table, self.w_seg_chart])

    def _reset_segments(self) -> None:
        if hasattr(self, "w_by"):
            self.w_by.value = ""  # observed: empties the table and the chart
            self.w_seg_table.value = ""
            self.w_seg_chart.clear_output()

    def _on_segments(self, _change: dict | None) -> None:
        """Compute the breakdown the user picked, on demand (never at page load)."""
        by = self.w_by.value
        self.w_seg_chart.clear_output()
        if not by or not self.ok:
            self.w_seg_table.value = ""
            return
        self.w_seg_table.value = message_html(tr("ui.loading", language=self.language))
        try:
            with using_language(self.language):
                result = abtest.lift_by_segment(
                    self.con, self.params.replace(campaign_id=self.result.campaign_id),
                    by=by, settings=self.settings)
        except Exception as exc:  # a banner instead of a blank section
            self.w_seg_table.value = message_html(error_text(exc, self.language),
                                                  level="warning")
            return
        self.w_seg_table.value = segments_html(result, self.language)
        if result.to_frame()["ci_low"].notna().any():  # no chart of only "too few" rows
            show_figure(self.w_seg_chart, result.figure())

    def render(self) -> None:
        """Fill the readout from the result (the SRM check first)."""
        r = self.result
        self.w_message.value = self._verdict_html()  # the split check comes first
        self.w_srm.value = ""
        self.w_table.value = self._table_html()
        show_figure(self.w_forest, r.figure())
        show_figure(self.w_arms, r.figure_arms())
        self.w_roi.value = self._roi_html()
        self._reset_segments()  # a breakdown of the previous campaign no longer applies
        if hasattr(self, "w_plan"):
            self._on_plan(None)

    def _on_change(self, _change: dict) -> None:
        as_of = self.w_as_of.value
        if isinstance(as_of, date):
            self.update(as_of=as_of, campaign_id=self.w_campaign.value,
                        window_days=int(self.w_window.value),
                        correction=self.w_correction.value)


def _segment_row(x: Any, result: Any, lang: str) -> str:
    """Return one row of the breakdown table (a ``SegmentLiftResult.to_frame()`` row)."""
    def effect(v: float) -> str:
        return format_effect(v, "mean" if result.metric != "conversion" else "proportion",
                             result.metric, result.currency, lang, signed=True)

    def interval(mid: float, low: float, high: float) -> str:
        # no interval (nobody converted in the segment, or too few): no difference to show
        if math.isnan(mid) or math.isnan(low):
            return "–"
        return f"{effect(mid)} ({effect(low)} ~ {effect(high)})"

    def value(v: float) -> str:
        return format_metric_value(v, "proportion", result.metric, result.currency, lang)

    small = x.status == "too_small"
    cells = [abtest.segment_label(result.by, x.segment, lang),
             arm_label(x.variant, lang),
             f"{format_number(x.n_control, language=lang)} / "
             f"{format_number(x.n_variant, language=lang)}",
             f"{value(x.value_control)} / {value(x.value_variant)}",
             tr("segments.ui.too_small", language=lang) if small
             else interval(x.effect, x.ci_low, x.ci_high),
             "–" if small else format_percent(x.lift, signed=True, language=lang),
             "–" if small else format_p(x.p_adjusted, lang, prefix=False),
             "–" if small else interval(x.shrunk_effect, x.shrunk_ci_low, x.shrunk_ci_high)]
    return _row(cells, "wb-significant" if x.significant else "", segment=x.segment,
                variant=x.variant, status=x.status)


def segments_html(result: Any, language: str) -> str:
    """Return the breakdown's title, message, table and method note as HTML."""
    lang = language
    by = abtest.segment_by_label(result.by, lang)
    title = f"<h3>{html.escape(tr('segments.ui.title', language=lang, by=by))}</h3>"
    level = "info" if result.status == Status.OK else "warning"
    frame = result.to_frame()
    if frame.empty:
        return title + message_html(result.summary(lang), level=level)
    rows = [_segment_row(x, result, lang) for x in frame.itertuples()]
    head = [tr(f"segments.ui.col_{k}", language=lang) for k in (
        "segment", "arm", "customers", "rates", "effect", "lift", "p", "shrunk")]
    method = html.escape(tr('segments.ui.method', language=lang))
    note = f"<p class='wb-segments-method'>{method}</p>"
    return (title + message_html(result.summary(lang), level=level)
            + table_html("wb-segments-table", head, rows) + note)


def show_abtest(params: AbTestParams) -> AbTestPage:
    """Return the A/B test page for ``params``; the notebook's last expression displays it."""
    return AbTestPage(params)
