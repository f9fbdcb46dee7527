"""The audience builder: build a rule-based audience in a form, count it live, save and export.

No analysis happens here: the form edits an :class:`~workbench.audience.AudienceDefinition`,
and :class:`~workbench.audience.Audience` counts it, lists masked members and shows its SQL;
:func:`~workbench.audience.export_audience` writes the (logged) file, offered as a download.
Every change of a field recounts; the count carries ``data-value`` and the time taken, so tests
and benchmarks read the exact number.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML, display

from workbench.audience import (
    CONDITION_TYPES,
    RECIPES,
    Audience,
    AudienceDefinition,
    Condition,
    Group,
    audiences_dir,
    export_audience,
    list_definitions,
    load_definition,
    load_recipe,
    save_definition,
    saved_definitions,
)
from workbench.audience.params import AudienceParams
from workbench.audience.rules import FieldSpec
from workbench.data.schema import CAMPAIGN_CHANNELS
from workbench.errors import ParameterError
from workbench.i18n import format_number, tr
from workbench.ui.common import message_html
from workbench.ui.page import Page

__all__ = ["AudienceBuilder", "AudienceParams", "show_audience_builder"]

PREVIEW_ROWS = 20


def _t(key: str, lang: str, **fields: Any) -> str:
    return tr(f"audience.ui.{key}", language=lang, **fields)


class _ConditionRow:
    """The inputs of one condition; :meth:`condition` reads them back."""

    def __init__(self, builder: AudienceBuilder, type_name: str, params: dict[str, Any],
                 negate: bool = False) -> None:
        self.builder, self.type, lang = builder, type_name, builder.language
        self.getters: dict[str, Any] = {}
        inputs: list[widgets.Widget] = []
        for spec in CONDITION_TYPES[type_name].fields:
            box, getter = builder._input(spec, params.get(spec.name), type_name)
            self.getters[spec.name] = getter
            inputs.append(box)
        self.w_not = widgets.Checkbox(value=negate, description=_t("not", lang),
                                      indent=False, layout=widgets.Layout(width="70px"))
        self.w_not.add_class("wb-not")
        self.w_not.observe(lambda _c: builder._changed(), names="value")
        remove = widgets.Button(description=_t("remove", lang), button_style="warning",
                                layout=widgets.Layout(width="80px"))
        remove.add_class("wb-remove")
        remove.on_click(lambda _b: builder._remove(self))
        title = widgets.HTML(f"<b>{html.escape(_t('type.' + type_name, lang))}</b>",
                             layout=widgets.Layout(width="170px"))
        self.box = widgets.HBox([title, widgets.HBox(inputs, layout=widgets.Layout(
            flex_flow="row wrap")), self.w_not, remove])
        self.box.add_class("wb-condition")
        self.box.add_class(f"wb-condition-{type_name}")

    def condition(self) -> Condition:
        """Return the condition the inputs describe (raises ParameterError when invalid)."""
        return Condition.make(self.type, negate=self.w_not.value,
                              **{k: g() for k, g in self.getters.items()})


class AudienceBuilder(Page):
    """The audience form; ``display(builder)`` shows it (widgets, or static HTML in reports)."""

    prefers_snapshot = True

    def __init__(self, params: AudienceParams, **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        if self.params.store:  # exports log into the store the page reads
            self.settings = self.settings.replace(store=str(self.params.store))
        self.folder = Path(params.audiences_dir) if params.audiences_dir else audiences_dir(
            self.settings)
        self.definition = self._start(params.start)
        self.rows: list[_ConditionRow] = []
        self.nested: list[Group] = []
        self.audience: Audience | None = None
        self.cache: dict = {}  # condition members kept between recounts (see Audience)
        self._quiet = False

    # ------------------------------------------------------------------ definitions
    def _start(self, start: str) -> AudienceDefinition:
        if not start:
            return AudienceDefinition("new_audience", rules=Group())
        if start in {p.stem for p in list_definitions(self.folder)}:
            return load_definition(start, self.folder)
        return load_recipe(start)

    def _options(self) -> list[tuple[str, str]]:
        lang = self.language
        opts = [(_t("scratch", lang), "")]
        opts += [(f"{_t('recipe', lang)}: {n}", n) for n in RECIPES]
        # An invalid file stays pickable but is marked; picking it shows why in a banner.
        opts += [(f"{_t('saved', lang)}: {s.path.stem}"
                  + ("" if s.definition else f" ({_t('saved_invalid', lang)})"), s.path.stem)
                 for s in saved_definitions(self.folder) if s.path.stem not in RECIPES]
        return opts

    def current(self) -> AudienceDefinition:
        """Return the definition the form shows (raises ParameterError when a field is invalid)."""
        items: list[Condition | Group] = [row.condition() for row in self.rows]
        rules = Group(self.w_op.value, (*items, *self.nested))
        return self.definition.replace(
            name=self.w_name.value.strip(), description=self.w_description.value,
            purpose=self.w_purpose.value, channel=self.w_channel.value, is_ad=self.w_is_ad.value,
            rules=rules)

    # ------------------------------------------------------------------ inputs
    def _choices(self, name: str) -> list[str]:
        """Values offered in multi-selects, read from the store (small distinct lists)."""
        if self.con is None:
            return []
        tables = set(self.con.list_tables())
        source = {"region": ("customers", "region"), "categories": ("products", "category"),
                  "tier": ("snapshot_customers", "tier"),
                  "rfm_segment": ("snapshot_customers", "segment"),
                  "churn_risk": ("snapshot_customers", "risk_band"),
                  "clv_band": ("snapshot_customers", "clv_band")}.get(name)
        if not source or source[0] not in tables or source[1] not in self.con.table(
                source[0]).columns:
            return []
        t = self.con.table(source[0])
        values = t.filter(t[source[1]].notnull()).select(v=t[source[1]]).distinct().limit(500)
        return sorted(str(v) for v in values.to_pandas()["v"] if v)

    def _products(self) -> list[tuple[str, str]]:
        if not hasattr(self, "_product_list"):
            self._product_list = []
            if self.con is not None and "products" in self.con.list_tables():
                p = self.con.table("products").select("product_id", "name").order_by(
                    "product_id").limit(5000).to_pandas()
                self._product_list = [(f"{r.product_id} {r.name or ''}".strip(), r.product_id)
                                      for r in p.itertuples()]
        return self._product_list

    def _input(self, spec: FieldSpec, value: Any, type_name: str
               ) -> tuple[widgets.Widget, Any]:  # noqa: C901 - one branch per kind of field
        lang = self.language
        label = _t(f"field.{spec.name}", lang)
        width = widgets.Layout(width="auto")
        if spec.kind == "duration":
            n, unit = (int(value[:-1]), value[-1]) if value else (0, "")
            w_n = widgets.BoundedIntText(value=n, min=0, max=36500, layout=widgets.Layout(
                width="70px"))
            w_u = widgets.Dropdown(options=[(_t("unit.h", lang), "h"), (_t("unit.d", lang), "d"),
                                            (_t("unit.none", lang), "")], value=unit,
                                   layout=widgets.Layout(width="110px"))
            box = widgets.HBox([widgets.Label(label), w_n, w_u])
            box.add_class(f"wb-field-{spec.name}")
            for w in (w_n, w_u):
                w.observe(lambda _c: self._changed(), names="value")
            return box, lambda: f"{w_n.value}{w_u.value}" if w_u.value else None
        if spec.kind in ("int", "number"):
            w = widgets.Text(value="" if value is None else f"{value:g}",
                             placeholder=_t("any", lang), description=label,
                             continuous_update=False, style={"description_width": "initial"},
                             layout=widgets.Layout(width="170px"))
        elif spec.kind == "bool":
            w = widgets.Checkbox(value=bool(value), description=label, indent=False,
                                 layout=width)
        elif spec.kind in ("choice", "month"):
            opts = [(_t(f"choice.{c}", lang) if isinstance(c, str) else str(c), c)
                    for c in spec.choices]
            w = widgets.Dropdown(options=opts, value=value if value is not None else
                                 spec.choices[0], description=label,
                                 style={"description_width": "initial"}, layout=width)
        elif spec.kind == "choices":
            w = widgets.SelectMultiple(options=list(spec.choices), value=tuple(value or ()),
                                       description=label, rows=4,
                                       style={"description_width": "initial"})
        elif spec.kind == "texts" and spec.name in ("products", "keys"):
            return self._product_picker(spec, label, value)
        elif spec.kind == "texts":
            key = spec.name if spec.name != "values" else type_name
            options = sorted(set(self._choices(key)) | set(value or ()))
            w = widgets.SelectMultiple(options=options, value=tuple(value or ()),
                                       description=label, rows=4,
                                       style={"description_width": "initial"})
        else:  # text
            w = widgets.Text(value=value or "", description=label, continuous_update=False,
                             style={"description_width": "initial"})
        w.add_class(f"wb-field-{spec.name}")
        w.observe(lambda _c: self._changed(), names="value")
        if spec.kind in ("int", "number"):
            return w, lambda: w.value.strip() or None
        if spec.kind in ("choices", "texts"):
            return w, lambda: list(w.value) or None
        return w, lambda: w.value

    def _product_picker(self, spec: FieldSpec, label: str, value: Any
                        ) -> tuple[widgets.Widget, Any]:
        """Return a search box over products (id or name) and a multi-select of the matches."""
        everything = list(self._products())
        if spec.name == "keys":  # replenishment: categories or products
            everything = [(c, c) for c in self._choices("categories")] + everything
        chosen = tuple(value or ())
        known = {v for _, v in everything}
        everything += [(v, v) for v in chosen if v not in known]
        search = widgets.Text(placeholder=_t("search_products", self.language),
                              layout=widgets.Layout(width="160px"))
        search.add_class("wb-product-search")
        select = widgets.SelectMultiple(options=everything[:200] if not chosen else everything,
                                        value=chosen, rows=4, description=label,
                                        style={"description_width": "initial"})
        select.add_class(f"wb-field-{spec.name}")

        def _filter(change: dict) -> None:
            text = str(change["new"]).strip().lower()
            keep = set(select.value)
            opts = [o for o in everything if not text or text in o[0].lower() or o[1] in keep]
            self._quiet = True
            try:
                select.options = opts[:200] + [o for o in opts[200:] if o[1] in keep]
                select.value = tuple(v for v in keep if v in {o[1] for o in select.options})
            finally:
                self._quiet = False

        search.observe(_filter, names="value")
        select.observe(lambda _c: self._changed(), names="value")
        return widgets.VBox([search, select]), lambda: list(select.value) or None

    # ------------------------------------------------------------------ the page
    def run(self) -> Any:  # pragma: no cover - the builder draws itself (see widget())
        """Not used: the builder counts on every change instead of running one analysis."""
        return None

    def widget(self) -> widgets.Widget:
        """Build the form (start, fields, conditions), the count, preview, SQL, MDE and export."""
        lang = self.language
        self.w_note = widgets.HTML(message_html(self.note, level="info") if self.note else "")
        self.w_note.add_class("wb-note")
        self.w_as_of = self.date_picker()
        self.w_as_of.observe(lambda _c: self._changed(), names="value")
        self.w_start = widgets.Dropdown(options=self._options(), value=None,
                                        description=_t("start", lang),
                                        style={"description_width": "initial"})
        self.w_start.add_class("wb-start")
        self.w_start.observe(self._on_start, names="value")
        self.w_name = self._text("name", "wb-name")
        self.w_description = self._text("description", "wb-description", width="420px")
        self.w_purpose = self._text("purpose", "wb-purpose")
        self.w_channel = widgets.Dropdown(options=list(CAMPAIGN_CHANNELS),
                                          description=_t("channel", lang))
        self.w_channel.add_class("wb-channel")
        self.w_is_ad = widgets.Checkbox(description=_t("is_ad", lang), indent=False)
        self.w_op = widgets.ToggleButtons(options=[(_t("op.and", lang), "and"),
                                                   (_t("op.or", lang), "or")])
        self.w_op.add_class("wb-op")
        for w in (self.w_channel, self.w_is_ad, self.w_op):
            w.observe(lambda _c: self._changed(), names="value")
        self.w_conditions = widgets.VBox()
        self.w_conditions.add_class("wb-conditions")
        self.w_add_type = widgets.Dropdown(
            options=[(_t("type." + t, lang), t) for t in CONDITION_TYPES],
            description=_t("add_condition", lang), style={"description_width": "initial"})
        self.w_add_type.add_class("wb-add-type")
        add = widgets.Button(description=_t("add", lang), button_style="primary")
        add.add_class("wb-add")
        add.on_click(lambda _b: self._add(self.w_add_type.value))
        self.w_count = widgets.HTML()
        self.w_count.add_class("wb-audience-count-box")
        self.w_status = widgets.HTML()
        self.w_status.add_class("wb-status")
        self.w_message = widgets.HTML()
        self.w_message.add_class("wb-audience-message")
        self.w_preview = widgets.HTML()
        self.w_preview.add_class("wb-preview")
        self.w_sql = widgets.HTML()
        self.w_sql.add_class("wb-sql")
        sql_box = widgets.Accordion(children=[self.w_sql], titles=(_t("sql", lang),),
                                    selected_index=None)
        self.w_baseline = widgets.BoundedFloatText(value=0.05, min=0.001, max=0.9, step=0.01,
                                                   description=_t("baseline", lang),
                                                   style={"description_width": "initial"})
        self.w_baseline.observe(lambda _c: self._show_mde(), names="value")
        self.w_mde = widgets.HTML()
        self.w_mde.add_class("wb-mde")
        self.w_footer = widgets.HTML()
        self._load(self.definition)
        page = widgets.VBox([
            widgets.HBox([self.w_as_of, self.w_start]), self.w_note,
            widgets.HBox([self.w_name, self.w_channel, self.w_is_ad]),
            widgets.HBox([self.w_description, self.w_purpose]), self.w_op, self.w_conditions,
            widgets.HBox([self.w_add_type, add]), self.w_status, self.w_count, self.w_message,
            self.w_preview, sql_box, widgets.HBox([self.w_baseline, self.w_mde]),
            self._save_box(), self._export_box(), self.w_footer])
        page.add_class("wb-page-audiencebuilder")
        return page

    def _text(self, key: str, cls: str, width: str = "280px") -> widgets.Text:
        w = widgets.Text(description=_t(key, self.language), continuous_update=False,
                         style={"description_width": "initial"},
                         layout=widgets.Layout(width=width))
        w.add_class(cls)
        w.observe(lambda _c: self._changed(), names="value")
        return w

    def _load(self, d: AudienceDefinition) -> None:
        self._quiet = True
        try:
            self.definition = d
            self.w_name.value, self.w_description.value = d.name, d.description
            self.w_purpose.value, self.w_channel.value = d.purpose, d.channel
            self.w_is_ad.value, self.w_op.value = d.is_ad, d.rules.op
            self.rows = []
            self.nested = [i for i in d.rules.items if isinstance(i, Group)]
            for item in d.rules.items:
                if isinstance(item, Condition):
                    self.rows.append(_ConditionRow(self, item.type, item.params, item.negate))
            self._redraw_rows()
        finally:
            self._quiet = False
        self._changed()

    def _redraw_rows(self) -> None:
        nested = [widgets.HTML(f"<i class='wb-nested'>{html.escape(_t('nested', self.language))}"
                               f" ({len(g.conditions())})</i>") for g in self.nested]
        self.w_conditions.children = [r.box for r in self.rows] + nested

    def _add(self, type_name: str) -> None:
        """Add a condition with its default fields (required choices take the first one)."""
        params = {f.name: f.default if f.default is not None or not f.choices else f.choices[0]
                  for f in CONDITION_TYPES[type_name].fields}
        self.rows.append(_ConditionRow(self, type_name, params))
        self._redraw_rows()
        self._changed()

    def _remove(self, row: _ConditionRow) -> None:
        self.rows = [r for r in self.rows if r is not row]
        self._redraw_rows()
        self._changed()

    def _on_start(self, change: dict) -> None:
        if change["new"] is None:
            return
        try:
            self._load(self._start(change["new"]))
        except Exception as exc:  # a broken saved file shows a banner, not a dead page
            self.w_message.value = message_html(str(exc), level="error")

    # ------------------------------------------------------------------ live count
    def _changed(self) -> None:
        if self._quiet or not hasattr(self, "w_count"):
            return
        started = time.perf_counter()
        self.w_status.value = message_html(tr("ui.loading", language=self.language))
        self.w_message.value = ""
        if self.con is None:
            self.w_message.value = message_html(self.error or "", level="warning")
            self.mark_done(started)
            return
        try:
            definition = self.current()
            as_of = self.w_as_of.value if isinstance(self.w_as_of.value, date) else (
                self.params.as_of)
            self.audience = Audience(definition, self.con, as_of=as_of, settings=self.settings,
                                     cache=self.cache)
            n = self.audience.count()
        except Exception as exc:  # invalid fields and data problems are shown, not raised
            self.audience = None
            self.w_count.value = ""
            self.w_message.value = message_html(str(exc), level="warning")
            self.mark_done(started)
            return
        seconds = time.perf_counter() - started
        self.w_count.value = (
            f"<h2 class='wb-audience-count' data-value='{n}' data-seconds='{seconds:.3f}'>"
            f"{html.escape(self._count_text(n))}</h2>")
        notes = " ".join(self.audience.notes)
        self.w_message.value = message_html(notes, level="info") if notes else ""
        self.n = n
        self._show_details()
        self.w_footer.value = self.footer()
        self.mark_done(started)

    def _count_text(self, n: int) -> str:
        return _t("count", self.language, count=format_number(n, language=self.language))

    def _show_details(self) -> None:
        aud = self.audience
        members = aud.members(limit=PREVIEW_ROWS)
        self.w_preview.value = _members_html(members, self.language)
        self.w_sql.value = f"<pre class='wb-sql-text'>{html.escape(aud.to_sql())}</pre>"
        self._show_mde()

    def _show_mde(self) -> None:
        if self.audience is None:
            return
        self.w_mde.value = _mde_html(getattr(self, "n", 0), self.w_holdout.value if hasattr(
            self, "w_holdout") else 0.1, self.w_baseline.value, self.language)

    # ------------------------------------------------------------------ save and export
    def _save_box(self) -> widgets.Widget:
        lang = self.language
        save = widgets.Button(description=_t("save", lang), button_style="success")
        save.add_class("wb-save")
        dup = widgets.Button(description=_t("duplicate", lang))
        dup.add_class("wb-duplicate")
        self.w_saved = widgets.HTML()
        self.w_saved.add_class("wb-saved")
        save.on_click(lambda _b: self._save())
        dup.on_click(lambda _b: self._duplicate())
        return widgets.HBox([save, dup, self.w_saved])

    def _save(self) -> None:
        try:
            saved = save_definition(self.current(), self.folder)
        except Exception as exc:
            self.w_saved.value = message_html(str(exc), level="warning")
            return
        self.definition = saved
        text = _t("saved_as", self.language, name=saved.name, version=saved.version,
                  folder=str(self.folder))
        self.w_saved.value = (f"<span class='wb-saved-ok' data-version='{saved.version}'>"
                              f"{html.escape(text)}</span>")

    def _duplicate(self) -> None:
        names = {p.stem for p in list_definitions(self.folder)}
        base, k = self.w_name.value.strip() or "audience", 2
        while f"{base}_copy{k if k > 2 else ''}" in names:
            k += 1
        self._quiet = True
        self.w_name.value = f"{base}_copy{k if k > 2 else ''}"[:64]
        self._quiet = False
        self.definition = dataclasses.replace(self.definition, created_at=None, version=1)
        self._save()

    def _export_box(self) -> widgets.Widget:
        lang = self.language
        day = self.params.as_of or date.today()
        self.w_holdout = widgets.BoundedFloatText(value=0.1, min=0.0, max=0.5, step=0.05,
                                                  description=_t("holdout", lang),
                                                  style={"description_width": "initial"},
                                                  layout=widgets.Layout(width="170px"))
        self.w_holdout.add_class("wb-holdout")
        self.w_holdout.observe(lambda _c: self._show_mde(), names="value")
        self.w_send_at = widgets.Text(value=f"{day.isoformat()} 10:00",
                                      description=_t("send_at", lang), continuous_update=False,
                                      style={"description_width": "initial"})
        self.w_send_at.add_class("wb-send-at")
        self.w_sender = widgets.Text(description=_t("sender", lang),
                                     style={"description_width": "initial"})
        self.w_sender.add_class("wb-sender")
        self.w_subject = widgets.Text(description=_t("subject", lang),
                                      style={"description_width": "initial"})
        self.w_text = widgets.Textarea(placeholder=_t("message_placeholder", lang),
                                       layout=widgets.Layout(width="520px", height="80px"))
        self.w_text.add_class("wb-message-text")
        self.w_exemption = widgets.Checkbox(description=_t("exemption", lang), indent=False)
        export = widgets.Button(description=_t("export", lang), button_style="primary")
        export.add_class("wb-export")
        export.on_click(lambda _b: self._export())
        self.w_export = widgets.HTML()
        self.w_export.add_class("wb-export-result")
        title = widgets.HTML(f"<h3>{html.escape(_t('export_title', lang))}</h3>")
        return widgets.VBox([title, widgets.HBox([self.w_holdout, self.w_send_at]),
                             widgets.HBox([self.w_sender, self.w_subject]), self.w_text,
                             self.w_exemption, export, self.w_export])

    def _export(self) -> None:
        lang = self.language
        self.w_export.value = message_html(tr("ui.loading", language=lang))
        try:
            if self.audience is None:
                raise ParameterError(_t("fix_first", lang))
            send_at = datetime.fromisoformat(self.w_send_at.value.strip().replace(" ", "T", 1))
            folder = self.folder.parent / "exports"
            d = self.audience.definition
            out = folder / f"{d.name}-{datetime.now():%Y%m%d-%H%M%S}.csv"
            result = export_audience(
                self.audience, out=out, holdout=self.w_holdout.value, send_at=send_at,
                message=self.w_text.value.strip() or None, sender=self.w_sender.value or None,
                subject=self.w_subject.value or None, author=None,
                transaction_exemption=self.w_exemption.value, store=self.settings.store)
        except ValueError as exc:
            self.w_export.value = message_html(str(exc), level="warning")
            return
        data = base64.b64encode(result.path.read_bytes()).decode()
        rows = "".join(f"<tr data-step='{s}'><td>{html.escape(_step(s, lang))}</td>"
                       f"<td style='text-align:right'>{format_number(n, language=lang)}</td></tr>"
                       for s, n in result.to_frame().itertuples(index=False))
        self.w_export.value = (
            f"<div class='wb-export-done' data-rows='{result.rows}' data-sha256='{result.sha256}'"
            f" data-export-id='{html.escape(result.export_id)}'>"
            f"<p>{html.escape(result.summary())}</p><table class='wb-table'>{rows}</table>"
            f"<a class='wb-download' download='{html.escape(result.path.name)}' "
            f"href='data:text/csv;base64,{data}'>{html.escape(_t('download', lang))}</a></div>")

    # ------------------------------------------------------------------ report mode
    def _ipython_display_(self) -> None:
        if self.mode != "report":
            display(self.widget())
            return
        if self.con is None:
            display(HTML(message_html(self.error or "", level="warning")))
            return
        aud = Audience(self.definition, self.con, as_of=self.params.as_of,
                       settings=self.settings)
        n = aud.count()
        display(HTML(f"<h2 class='wb-audience-count' data-value='{n}'>"
                     f"{html.escape(self._count_text(n))}</h2>"))
        display(HTML(f"<pre>{html.escape(self.definition.to_yaml())}</pre>"))
        display(HTML(_members_html(aud.members(limit=PREVIEW_ROWS), self.language)))


def _step(step: str, lang: str) -> str:
    if step in ("members", "holdout", "rows"):
        return _t(f"step.{step}", lang)
    return tr(f"audience.rule.{step}", language=lang)


def _members_html(members: Any, lang: str) -> str:
    cols = [c for c in members.columns if c != "signup_at"]
    head = "".join(f"<th>{html.escape(_t('col.' + c, lang))}</th>" for c in cols)
    body = "".join("<tr class='wb-member'>" + "".join(
        f"<td>{html.escape('–' if v is None or v != v else str(v))}</td>"
        for v in row) + "</tr>" for row in members[cols].itertuples(index=False))
    return (f"<p>{html.escape(_t('preview', lang, n=len(members)))}</p>"
            f"<table class='wb-table wb-members'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _mde_html(n: int, holdout: float, baseline: float, lang: str) -> str:
    try:
        from workbench.abtest import minimum_detectable_effect
    except ImportError:  # the A/B package is optional for the builder
        return ""
    share = holdout if holdout > 0 else 0.5
    held, sent = n * share, n * (1 - share)
    if held < 2 or sent < 2:
        small = html.escape(_t("mde_small", lang))
        return f"<span class='wb-mde-value' data-value=''>{small}</span>"
    mde = minimum_detectable_effect(held, baseline, ratio=sent / held)
    text = _t("mde", lang, mde=format_number(100 * mde, digits=1, language=lang),
              baseline=format_number(100 * baseline, digits=1, language=lang),
              holdout=format_number(100 * share, language=lang))
    return f"<span class='wb-mde-value' data-value='{mde:.6f}'>{html.escape(text)}</span>"


def show_audience_builder(params: AudienceParams) -> AudienceBuilder:
    """Return the audience builder for ``params``; the notebook's last expression displays it."""
    return AudienceBuilder(params)
