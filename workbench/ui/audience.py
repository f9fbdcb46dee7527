"""The audience builder: build a rule-based audience in a form, count it live, save and export.

No analysis happens here: the form edits an :class:`~workbench.audience.AudienceDefinition`,
and the page's :meth:`AudienceBuilder.run` asks :meth:`workbench.audience.Audience.result` for
the count, a masked preview, the SQL and the notes; :func:`~workbench.audience.export_audience`
writes the (logged) file, offered as a download. The audience package also says which values
each field offers (:meth:`~workbench.audience.FieldSpec.read_options`), how fields and types are
labelled, and where exports go (:func:`~workbench.audience.export_path`). Every change of a
field recounts through the :class:`~workbench.ui.page.Page` template; the count carries
``data-value`` and the time taken, so tests and benchmarks read the exact number.
"""

from __future__ import annotations

import base64
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from workbench import clock
from workbench.audience import (
    CONDITION_TYPES,
    PERSONAL_FIELDS,
    RECIPES,
    SEND_CHANNELS,
    Audience,
    AudienceDefinition,
    AudienceParams,
    AudienceResult,
    Condition,
    ExportResult,
    FieldSpec,
    Group,
    audiences_dir,
    choice_label,
    export_audience,
    export_path,
    field_label,
    legacy_channel,
    list_definitions,
    load_definition,
    new_definition,
    save_definition,
    saved_definitions,
)
from workbench.audience.durations import cooldown_duration
from workbench.audience.history import DEFAULT_COOLDOWN
from workbench.errors import ParameterError, WorkbenchError
from workbench.i18n import format_date, format_number, josa, tr, using_language
from workbench.rfm import load_segment_rules, load_tier_rules
from workbench.ui.common import message_html
from workbench.ui.page import Page, html_box

__all__ = ["AudienceBuilder", "AudienceParams", "show_audience_builder"]

Getter = Callable[[], Any]


def _t(key: str, lang: str, **fields: Any) -> str:
    return tr(f"audience.ui.{key}", language=lang, **fields)


@dataclass
class _ConditionRow:
    """The inputs of one condition in the form; :meth:`condition` reads them back."""

    type: str
    box: widgets.Widget
    w_not: widgets.Checkbox
    getters: dict[str, Getter]

    def condition(self) -> Condition:
        """Return the condition the inputs describe (raises ParameterError when invalid)."""
        return Condition.make(self.type, negate=self.w_not.value,
                              **{k: g() for k, g in self.getters.items()})


class AudienceBuilder(Page):
    """The audience form; ``display(builder)`` shows it (widgets, or static HTML in reports)."""

    prefers_snapshot = True
    name = "audience_builder"
    #: The result follows the form (conditions, name, channel), not only the parameters: a
    #: result kept under the parameters' key would be the count of another definition.
    cacheable = False

    def __init__(self, params: AudienceParams, **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        if self.params.store:  # exports log into the store the page reads
            self.settings = self.settings.replace(store=str(self.params.store))
        self.folder = Path(params.audiences_dir) if params.audiences_dir else audiences_dir(
            self.settings)
        with using_language(self.language):  # the library's errors in the page's language
            self.definition = self._start(params.start)
        self.rows: list[_ConditionRow] = []
        self.nested: list[Group] = []
        self.cache: dict = {}  # condition members kept between recounts (see Audience)
        self._offers: dict[tuple, list[tuple[str, str]]] = {}  # values offered, per source
        self._rule_sets: dict[str, Any] = {}  # segment and tier rules naming snapshot keys
        self._quiet = False
        self._form = False  # the widgets exist: run() counts what they show
        self._started = time.perf_counter()

    # ------------------------------------------------------------------ definitions
    def _start(self, start: str) -> AudienceDefinition:
        return load_definition(start, self.folder) if start else new_definition()

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
        if not self._form:
            return self.definition
        items: list[Condition | Group] = [self._condition(row) for row in self.rows]
        rules = Group(self.w_op.value, (*items, *self.nested))
        return self.definition.replace(
            name=self.w_name.value.strip(), description=self.w_description.value,
            purpose=self.w_purpose.value, channel=self.w_channel.value, is_ad=self.w_is_ad.value,
            rules=rules)

    def _condition(self, row: _ConditionRow) -> Condition:
        """Return a row's condition; a problem names the condition and field as the form does.

        The library's message names them by key (``condition 'rfm_segment': 'values'``), which
        the author of a YAML file needs; the form shows their labels ("RFM 세그먼트", "값").
        """
        try:
            return row.condition()
        except ParameterError as exc:
            kind = CONDITION_TYPES[row.type]
            names = {row.type: kind.label(self.language)}
            names |= {f.name: field_label(f.name, self.language) for f in kind.fields}
            raise ParameterError(_with_labels(str(exc), names)) from None

    # ------------------------------------------------------------------ the analysis
    def run(self) -> AudienceResult:
        """Count the definition the form shows (in a report: the one the page started from).

        The cut-off is the as-of day at the form's time (``as_of_time``), as ``workbench
        audience count NAME --as-of "YYYY-MM-DD HH:MM"`` cuts it.
        """
        audience = Audience(self.current(), self.con, as_of=self.params.moment(),
                            settings=self.settings, cache=self.cache)
        return audience.result()

    def static_parts(self) -> list[Any]:
        """Return the count marker, the definition as YAML and the masked preview."""
        r = self.result
        return [_count_html(r, self.language),
                f"<pre>{html.escape(self.definition.to_yaml())}</pre>",
                _members_html(r.members, self.language)]

    # ------------------------------------------------------------------ inputs
    def _offered(self, spec: FieldSpec) -> list[tuple[str, str]]:
        """Return the ``(label, value)`` pairs the store offers for a field (read once a page)."""
        if spec.options not in self._offers:
            self._offers[spec.options] = spec.read_options(self.con)
        return self._offers[spec.options]

    def _observe(self, *inputs: widgets.Widget) -> None:
        for w in inputs:
            w.observe(lambda _c: self._changed(), names="value")

    def _duration_input(self, spec: FieldSpec, value: Any, label: str
                        ) -> tuple[widgets.Widget, Getter]:
        lang = self.language
        n, unit = (int(value[:-1]), value[-1]) if value else (0, "")
        w_n = widgets.BoundedIntText(value=n, min=0, max=36500,
                                     layout=widgets.Layout(width="70px"))
        w_u = widgets.Dropdown(options=[(_t("unit.h", lang), "h"), (_t("unit.d", lang), "d"),
                                        (_t("unit.none", lang), "")], value=unit,
                               layout=widgets.Layout(width="110px"))
        box = widgets.HBox([widgets.Label(label), w_n, w_u])
        self._observe(w_n, w_u)
        return box, lambda: f"{w_n.value}{w_u.value}" if w_u.value else None

    def _number_input(self, spec: FieldSpec, value: Any, label: str
                      ) -> tuple[widgets.Widget, Getter]:
        w = widgets.Text(value="" if value is None else f"{value:g}",
                         placeholder=_t("any", self.language), description=label,
                         continuous_update=False, style={"description_width": "initial"},
                         layout=widgets.Layout(width="170px"))
        self._observe(w)
        return w, lambda: w.value.strip() or None

    def _bool_input(self, spec: FieldSpec, value: Any, label: str
                    ) -> tuple[widgets.Widget, Getter]:
        w = widgets.Checkbox(value=bool(value), description=label, indent=False,
                             layout=widgets.Layout(width="auto"))
        self._observe(w)
        return w, lambda: w.value

    def _value_label(self, type_name: str, value: str) -> str:
        """Return how the form names a value the store offers (a segment key by its name).

        Snapshot columns hold keys (``at_risk``, ``gold``, ``high``); the form shows the
        segment's, tier's or band's name in the page's language. Other values (categories,
        products) are the shop's own data and are shown as they are.
        """
        lang = self.language
        if type_name == "rfm_segment":
            return self._rules("segments").label(value, lang)
        if type_name == "tier":
            return self._rules("tiers").label(value, lang)
        if type_name in ("churn_risk", "clv_band") and value in ("high", "medium", "low"):
            return _t(f"band.{value}", lang)
        return value

    def _choice_name(self, spec: FieldSpec, value: Any) -> str:
        """Return a list choice's name (order statuses have their own: 'delivered' is a state)."""
        if spec.name == "statuses":
            return _t(f"status.{value}", self.language)
        return choice_label(value, self.language)

    def _rules(self, kind: str) -> Any:
        if kind not in self._rule_sets:  # read once a page
            self._rule_sets[kind] = (load_segment_rules() if kind == "segments"
                                     else load_tier_rules())
        return self._rule_sets[kind]

    def _choice_input(self, spec: FieldSpec, value: Any, label: str
                      ) -> tuple[widgets.Widget, Getter]:
        opts = [(choice_label(c, self.language), c) for c in spec.choices]
        w = widgets.Dropdown(options=opts, value=spec.choices[0] if value is None else value,
                             description=label, style={"description_width": "initial"},
                             layout=widgets.Layout(width="auto"))
        self._observe(w)
        return w, lambda: w.value

    def _list_input(self, spec: FieldSpec, value: Any, label: str, type_name: str = ""
                    ) -> tuple[widgets.Widget, Getter]:
        chosen = tuple(value or ())
        if spec.kind == "choices":
            options: list[Any] = [(self._choice_name(spec, c), c) for c in spec.choices]
        elif spec.searchable():
            return self._search_input(spec, chosen, label)
        else:  # the values the store holds, and the chosen ones even if it no longer does
            values = sorted({v for _, v in self._offered(spec)} | set(chosen))
            labelled = [(self._value_label(type_name, v), v) for v in values]
            options = labelled if any(k != v for k, v in labelled) else values
        w = widgets.SelectMultiple(options=options, value=chosen, description=label, rows=4,
                                   style={"description_width": "initial"})
        self._observe(w)
        return w, lambda: list(w.value) or None

    def _search_input(self, spec: FieldSpec, chosen: tuple[str, ...], label: str
                      ) -> tuple[widgets.Widget, Getter]:
        """Return a search box over the options (id or name) and a multi-select of matches."""
        everything = list(self._offered(spec))
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
        self._observe(select)
        return widgets.VBox([search, select]), lambda: list(select.value) or None

    def _text_input(self, spec: FieldSpec, value: Any, label: str
                    ) -> tuple[widgets.Widget, Getter]:
        w = widgets.Text(value=value or "", description=label, continuous_update=False,
                         style={"description_width": "initial"})
        self._observe(w)
        return w, lambda: w.value

    def _input(self, spec: FieldSpec, value: Any, type_name: str = ""
               ) -> tuple[widgets.Widget, Getter]:
        """Return the input of one field (class ``wb-field-<name>``) and how to read it."""
        label = field_label(spec.name, self.language)
        if spec.kind in ("choices", "texts"):
            w, getter = self._list_input(spec, value, label, type_name)
        else:
            make = {"duration": self._duration_input, "int": self._number_input,
                    "number": self._number_input, "bool": self._bool_input,
                    "choice": self._choice_input, "month": self._choice_input,
                    "text": self._text_input}[spec.kind]
            w, getter = make(spec, value, label)
        if not spec.searchable():  # the search picker marks its multi-select itself
            w.add_class(f"wb-field-{spec.name}")
        return w, getter

    def _row(self, type_name: str, params: dict[str, Any], negate: bool = False
             ) -> _ConditionRow:
        lang = self.language
        kind = CONDITION_TYPES[type_name]
        getters: dict[str, Getter] = {}
        inputs: list[widgets.Widget] = []
        for spec in kind.fields:
            box, getters[spec.name] = self._input(spec, params.get(spec.name), type_name)
            inputs.append(box)
        # NOT and Remove keep their width; the inputs wrap instead (a wide row such as the
        # cart's used to squeeze the button to "Re...").
        w_not = widgets.Checkbox(value=negate, description=_t("not", lang), indent=False,
                                 layout=widgets.Layout(width="70px", flex="0 0 70px"))
        w_not.add_class("wb-not")
        self._observe(w_not)
        remove = widgets.Button(description=_t("remove", lang), button_style="warning",
                                layout=widgets.Layout(width="80px", flex="0 0 80px"))
        remove.add_class("wb-remove")
        title = widgets.HTML(f"<b>{html.escape(kind.label(lang))}</b>",
                             layout=widgets.Layout(width="170px", flex="0 0 170px"))
        box = widgets.HBox([title, widgets.HBox(inputs, layout=widgets.Layout(
            flex_flow="row wrap", flex="1 1 auto", min_width="0")), w_not, remove])
        box.add_class("wb-condition")
        box.add_class(f"wb-condition-{type_name}")
        row = _ConditionRow(type_name, box, w_not, getters)
        remove.on_click(lambda _b: self._remove(row))
        return row

    # ------------------------------------------------------------------ the page
    def form(self) -> list[widgets.Widget]:
        """Return the form: start, as-of date, name and channel, the conditions, "add"."""
        lang = self.language
        self.w_as_of = self.date_picker()
        self.w_as_of.observe(self._on_date, names="value")
        self.w_as_of_time = self._time_picker()
        self.w_start = widgets.Dropdown(options=self._options(), value=None,
                                        description=_t("start", lang),
                                        style={"description_width": "initial"})
        self.w_start.add_class("wb-start")
        self.w_start.observe(self._on_start, names="value")
        self.w_name = self._text("name", "wb-name")
        self.w_description = self._text("description", "wb-description", width="420px")
        self.w_purpose = self._text("purpose", "wb-purpose")
        self.w_channel = widgets.Dropdown(
            options=[(choice_label(c, lang), c) for c in SEND_CHANNELS],
            description=_t("channel", lang))
        self.w_channel.add_class("wb-channel")
        self.w_is_ad = widgets.Checkbox(description=_t("is_ad", lang), indent=False)
        self.w_op = widgets.ToggleButtons(options=[(_t("op.and", lang), "and"),
                                                   (_t("op.or", lang), "or")])
        self.w_op.add_class("wb-op")
        self._observe(self.w_channel, self.w_is_ad, self.w_op)
        self.w_conditions = widgets.VBox()
        self.w_conditions.add_class("wb-conditions")
        self.w_add_type = widgets.Dropdown(
            options=[(t.label(lang), name) for name, t in CONDITION_TYPES.items()],
            description=_t("add_condition", lang), style={"description_width": "initial"})
        self.w_add_type.add_class("wb-add-type")
        add = widgets.Button(description=_t("add", lang), button_style="primary")
        add.add_class("wb-add")
        add.on_click(lambda _b: self._add(self.w_add_type.value))
        self._form = True
        self._load(self.definition, count=False)  # the template counts once the page is built
        return [widgets.VBox([
            widgets.HBox([self.w_as_of, self.w_as_of_time, self.w_start]),
            widgets.HBox([self.w_name, self.w_channel, self.w_is_ad]),
            widgets.HBox([self.w_description, self.w_purpose]), self.w_op, self.w_conditions,
            widgets.HBox([self.w_add_type, add])])]

    def body(self) -> list[widgets.Widget]:
        """Return the count, notes, preview, SQL, MDE, save and export (created once)."""
        if not hasattr(self, "w_count"):
            lang = self.language
            self.w_count = html_box("wb-audience-count-box")
            self.w_notes = html_box("wb-audience-message")
            self.w_preview = html_box("wb-preview")
            self.w_sql = html_box("wb-sql")
            self.w_baseline = widgets.BoundedFloatText(value=0.05, min=0.001, max=0.9, step=0.01,
                                                       description=_t("baseline", lang),
                                                       style={"description_width": "initial"})
            self.w_baseline.observe(lambda _c: self._show_mde(), names="value")
            self.w_mde = html_box("wb-mde")
            self._boxes = [
                widgets.Accordion(children=[self.w_sql], titles=(_t("sql", lang),),
                                  selected_index=None),
                widgets.HBox([self.w_baseline, self.w_mde]), self._save_box(),
                self._export_box()]
        return [self.w_count, self.w_notes, self.w_preview, *self._boxes]

    def refresh_view(self) -> None:
        """Recount and redraw (the count's ``data-seconds`` is the time from the change)."""
        self._started = time.perf_counter()
        super().refresh_view()

    def render(self) -> None:
        """Fill the count, the notes, the preview, the SQL and the MDE from the result."""
        r = self.result
        lang = self.language
        self.w_count.value = _count_html(r, lang, time.perf_counter() - self._started)
        notes = r.notes_text()
        self.w_notes.value = message_html(notes, level="info") if notes else ""
        self.w_preview.value = _members_html(r.members, lang)
        self.w_sql.value = f"<pre class='wb-sql-text'>{html.escape(r.sql)}</pre>"
        self._show_mde()

    def clear(self) -> None:
        """Empty the count, preview, SQL and MDE (the form has a problem)."""
        super().clear()
        self.w_sql.value = self.w_mde.value = ""

    def _text(self, key: str, cls: str, width: str = "280px") -> widgets.Text:
        w = widgets.Text(description=_t(key, self.language), continuous_update=False,
                         style={"description_width": "initial"},
                         layout=widgets.Layout(width=width))
        w.add_class(cls)
        self._observe(w)
        return w

    def _load(self, d: AudienceDefinition, *, count: bool = True) -> None:
        self._quiet = True
        try:
            self.definition = d
            self.w_name.value, self.w_description.value = d.name, d.description
            # an old 'kakao' shows as what an export reads it as (FriendTalk or AlimTalk)
            self.w_purpose.value = d.purpose
            self.w_channel.value = legacy_channel(d.channel, d.is_ad)
            self.w_is_ad.value, self.w_op.value = d.is_ad, d.rules.op
            if hasattr(self, "w_cooldown"):  # the export box exists: its cooldown follows
                self.w_cooldown.value = d.cooldown or DEFAULT_COOLDOWN
            self.nested = [i for i in d.rules.items if isinstance(i, Group)]
            self.rows = [self._row(i.type, i.params, i.negate) for i in d.rules.items
                         if isinstance(i, Condition)]
            self._redraw_rows()
        finally:
            self._quiet = False
        if count:
            self._changed()

    def _redraw_rows(self) -> None:
        nested = [widgets.HTML(f"<i class='wb-nested'>{html.escape(_t('nested', self.language))}"
                               f" ({len(g.conditions())})</i>") for g in self.nested]
        self.w_conditions.children = [r.box for r in self.rows] + nested

    def _add(self, type_name: str) -> None:
        """Add a condition with its starting fields (required choices take the first one)."""
        self.rows.append(self._row(type_name, CONDITION_TYPES[type_name].initial()))
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
            with using_language(self.language):
                definition = self._start(change["new"])
        except Exception as exc:  # a broken saved file shows a banner, not a dead page
            self.w_message.value = message_html(_problem(exc), level="error")
            return
        self._load(definition)

    def _on_date(self, _change: dict) -> None:
        if isinstance(self.w_as_of.value, date):
            self.update(as_of=self.w_as_of.value)
            self._follow_send_at()

    def _default_send_at(self) -> str:
        """Return the send time the form proposes: the cut-off's hour, else 10:00 that day.

        An hourly scenario (cart +1 h) is sent when it is counted; a day-level audience in the
        morning, after the night window.
        """
        day = self.params.as_of or clock.today(self.settings)
        return f"{day.isoformat()} {self.params.as_of_time or '10:00'}"

    def _follow_send_at(self) -> None:
        """Move the proposed send time with the cut-off, unless the manager typed their own."""
        if not hasattr(self, "w_send_at"):
            return
        new = self._default_send_at()
        if self.w_send_at.value == self._send_default:
            self.w_send_at.value = new
        self._send_default = new

    def _time_picker(self) -> widgets.Dropdown:
        """Return the cut-off's time on the as-of day: the start of the day or a whole hour.

        A time the parameters give off the hour (``as_of_time="14:30"``) is offered too.
        """
        lang = self.language
        hours = [f"{h:02d}:00" for h in range(1, 24)]
        chosen = self.params.as_of_time
        if chosen and chosen not in hours:
            hours = sorted([*hours, chosen])
        w = widgets.Dropdown(options=[(_t("start_of_day", lang), ""), *((h, h) for h in hours)],
                             value=chosen, description=_t("as_of_time", lang),
                             style={"description_width": "initial"},
                             # room for "00:00 (start of day)" clear of the dropdown arrow
                             layout=widgets.Layout(width="270px"))
        w.add_class("wb-as-of-time")
        def _on_time(change: dict) -> None:
            self.update(as_of_time=change["new"])
            self._follow_send_at()

        w.observe(_on_time, names="value")
        return w

    def _changed(self) -> None:
        if not self._quiet and hasattr(self, "w_count"):
            self.refresh_view()

    def _show_mde(self) -> None:
        if not self.ok:
            return
        self.w_mde.value = _mde_html(self.result.count, self.w_holdout.value,
                                     self.w_baseline.value, self.language)

    # ------------------------------------------------------------------ save and export
    def _save_box(self) -> widgets.Widget:
        lang = self.language
        save = widgets.Button(description=_t("save", lang), button_style="success")
        save.add_class("wb-save")
        dup = widgets.Button(description=_t("duplicate", lang))
        dup.add_class("wb-duplicate")
        self.w_saved = html_box("wb-saved")
        save.on_click(lambda _b: self._save())
        dup.on_click(lambda _b: self._duplicate())
        return widgets.HBox([save, dup, self.w_saved])

    def _save(self) -> None:
        try:
            with using_language(self.language):
                saved = save_definition(self.current(), self.folder)
        except Exception as exc:  # invalid fields, an unwritable folder: a banner
            self.w_saved.value = message_html(_problem(exc), level="warning")
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
        self.definition = self.definition.replace(created_at=None, version=1)
        self._save()

    def _export_box(self) -> widgets.Widget:
        lang = self.language
        self.w_holdout = widgets.BoundedFloatText(value=0.1, min=0.0, max=0.5, step=0.05,
                                                  description=_t("holdout", lang),
                                                  style={"description_width": "initial"},
                                                  layout=widgets.Layout(width="170px"))
        self.w_holdout.add_class("wb-holdout")
        self.w_holdout.observe(lambda _c: self._show_mde(), names="value")
        self._send_default = self._default_send_at()
        self.w_send_at = widgets.Text(value=self._send_default,
                                      description=_t("send_at", lang), continuous_update=False,
                                      style={"description_width": "initial"})
        self.w_send_at.add_class("wb-send-at")
        self.w_sender = widgets.Text(description=_t("sender", lang),
                                     style={"description_width": "initial"})
        self.w_sender.add_class("wb-sender")
        self.w_subject = widgets.Text(description=_t("subject", lang),
                                      style={"description_width": "initial"})
        self.w_template = widgets.Text(description=_t("template_code", lang),
                                       style={"description_width": "initial"})
        self.w_template.add_class("wb-template-code")
        self.w_text = widgets.Textarea(placeholder=_t("message_placeholder", lang),
                                       layout=widgets.Layout(width="520px", height="80px"))
        self.w_text.add_class("wb-message-text")
        self._personal_widgets(lang)
        # the label is a whole sentence: as wide as it needs (ipywidgets cut it at 300 px)
        self.w_exemption = widgets.Checkbox(description=_t("exemption", lang), indent=False,
                                            layout=widgets.Layout(width="auto"))
        self._history_widgets(lang)
        export = widgets.Button(description=_t("export", lang), button_style="primary")
        export.add_class("wb-export")
        export.on_click(lambda _b: self._export())
        self.w_export = html_box("wb-export-result")
        title = widgets.HTML(f"<h3>{html.escape(_t('export_title', lang))}</h3>")
        return widgets.VBox([title, widgets.HBox([self.w_holdout, self.w_send_at]),
                             widgets.HBox([self.w_sender, self.w_subject, self.w_template]),
                             self.w_text, self.w_text_b,
                             widgets.HBox([self.w_fields, widgets.VBox(
                                 [self.w_export_purpose, self.w_coupon])]),
                             self.w_exemption,
                             widgets.HBox([self.w_since_last_export, self.w_cooldown]),
                             export, self.w_export])

    def _history_widgets(self, lang: str) -> None:
        """Add "leave out customers already exported" and its cooldown to the export box."""
        self.w_since_last_export = widgets.Checkbox(description=_t("since_last_export", lang),
                                                    indent=False,
                                                    layout=widgets.Layout(width="auto"))
        self.w_since_last_export.add_class("wb-since-last-export")
        self.w_cooldown = widgets.Text(value=self.definition.cooldown or DEFAULT_COOLDOWN,
                                       description=_t("cooldown", lang), disabled=True,
                                       continuous_update=False,
                                       style={"description_width": "initial"},
                                       layout=widgets.Layout(width="200px",
                                                             margin="2px 0 0 24px"))
        self.w_cooldown.add_class("wb-cooldown")

        def _toggle(change: dict) -> None:
            self.w_cooldown.disabled = not change["new"]

        self.w_since_last_export.observe(_toggle, names="value")

    def _cooldown(self) -> str | None:
        """Return the form's cooldown in canonical form (``None``: the box is not ticked)."""
        if not self.w_since_last_export.value:
            return None
        text = self.w_cooldown.value.strip()
        try:
            return cooldown_duration(text, "cooldown")
        except ParameterError:
            raise ParameterError(_t("bad_cooldown", self.language, got=repr(text))) from None

    def _personal_widgets(self, lang: str) -> None:
        """Add the A/B test's second message and the personalisation columns to the form."""
        wide = {"style": {"description_width": "initial"}}
        self.w_text_b = widgets.Textarea(placeholder=_t("message_b_placeholder", lang),
                                         layout=widgets.Layout(width="520px", height="80px"))
        self.w_text_b.add_class("wb-message-text-b")
        self.w_fields = widgets.SelectMultiple(
            options=[(f.label(lang), f.name) for f in PERSONAL_FIELDS.values()],
            description=_t("fields", lang), rows=len(PERSONAL_FIELDS),
            layout=widgets.Layout(width="520px"), **wide)
        self.w_fields.add_class("wb-fields")
        # As wide as the fields list beside them: the labels are long and a code list such
        # as "A=WIN10,B=WIN20" must show whole.
        side = widgets.Layout(width="460px")
        self.w_export_purpose = widgets.Text(description=_t("export_purpose", lang),
                                             layout=side, **wide)
        self.w_export_purpose.add_class("wb-export-purpose")
        self.w_coupon = widgets.Text(description=_t("coupon_code", lang),
                                     placeholder="WINTER10 / A=WIN10,B=WIN20",
                                     layout=widgets.Layout(width="460px"), **wide)
        self.w_coupon.add_class("wb-coupon-code")

    def _personal_arguments(self) -> dict[str, Any]:
        """Return the export's message, variants, fields, coupon and purpose from the form."""
        text_a, text_b = self.w_text.value.strip(), self.w_text_b.value.strip()
        return {"message": None if text_b else (text_a or None),
                "variants": {"A": text_a, "B": text_b} if text_b else None,
                "fields": tuple(self.w_fields.value),
                "coupon_code": self.w_coupon.value.strip() or None,
                "purpose": self.w_export_purpose.value.strip() or None}

    def _send_at(self) -> datetime:
        text = self.w_send_at.value.strip()
        try:
            return datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            raise ParameterError(_t("bad_send_at", self.language, got=repr(text))) from None

    def _export(self) -> None:
        lang = self.language
        self.w_export.value = message_html(tr("ui.loading", language=lang))
        try:
            if not self.ok:
                raise ParameterError(_t("fix_first", lang))
            with using_language(self.language):
                audience = Audience(self.current(), self.con, as_of=self.params.moment(),
                                    settings=self.settings, cache=self.cache)
                cooldown = self._cooldown()
                result = export_audience(
                    audience, out=export_path(audience.name, self.folder,
                                              at=clock.now(self.settings)),
                    holdout=self.w_holdout.value, send_at=self._send_at(),
                    **self._personal_arguments(),
                    sender=self.w_sender.value or None, subject=self.w_subject.value or None,
                    template_code=self.w_template.value.strip() or None, author=None,
                    transaction_exemption=self.w_exemption.value,
                    since_last_export=cooldown is not None, cooldown=cooldown,
                    store=self.settings.store)
        except (ValueError, WorkbenchError) as exc:  # refused exports say why
            self.w_export.value = message_html(_problem(exc), level="warning")
            return
        self.w_export.value = _export_html(result, lang)


_PARTICLES = {"이": "이/가", "가": "이/가", "은": "은/는", "는": "은/는", "을": "을/를",
              "를": "을/를", "과": "과/와", "와": "과/와"}


def _with_labels(message: str, names: dict[str, str]) -> str:
    """Replace quoted keys (``'rfm_segment'``) by their labels, with the particle after them."""
    def swap(match: re.Match[str]) -> str:
        label = f"'{names[match.group(1)]}'"
        particle = match.group(2)
        return josa(label, _PARTICLES[particle]) if particle else label

    keys = "|".join(re.escape(k) for k in sorted(names, key=len, reverse=True))
    return re.sub(rf"'({keys})'(이|가|은|는|을|를|과|와)?", swap, message)


def _problem(exc: Exception) -> str:
    """Return what a banner says about a refused action: the library's sentence, or the kind."""
    return str(exc) if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}"


def _count_html(r: AudienceResult, lang: str, seconds: float | None = None) -> str:
    """Return the count marker: ``data-value`` (customers) and ``data-seconds`` (time taken)."""
    shown = format_date(r.as_of, language=lang)
    if isinstance(r.as_of, datetime):  # a cut within the day (an hour-based condition)
        shown += f" {r.as_of:%H:%M}"
    timing = "" if seconds is None else f" data-seconds='{seconds:.3f}'"
    text = _t("counted", lang, as_of=shown)
    return (f"<p class='wb-audience-count' data-value='{r.count}'{timing}>"
            f"{html.escape(text)}</p>")


def _step(step: str, lang: str) -> str:
    if step in ("members", "holdout", "rows"):
        return _t(f"step.{step}", lang)
    if step.startswith("rows_"):  # an A/B/n arm's file
        return _t("step.arm_rows", lang, arm=step.removeprefix("rows_"))
    return tr(f"audience.rule.{step}", language=lang)


def _export_html(result: ExportResult, lang: str) -> str:
    """Return what an export wrote (steps and counts) and the file as a download link."""
    files = [a.path for a in result.arms] or [result.path]
    label = _t("download", lang)
    links = "".join(
        f"<a class='wb-download' download='{html.escape(p.name)}' "
        f"href='data:text/csv;base64,{base64.b64encode(p.read_bytes()).decode()}'>"
        f"{html.escape(label if len(files) == 1 else f'{label} ({p.name})')}</a> "
        for p in files)
    rows = "".join(f"<tr data-step='{s}'><td>{html.escape(_step(s, lang))}</td>"
                   f"<td style='text-align:right;padding-left:16px'>"
                   f"{format_number(n, language=lang)}</td></tr>"
                   for s, n in result.to_frame().itertuples(index=False))
    with using_language(lang):  # the page's language, not the kernel's
        summary = result.summary()
    return (f"<div class='wb-export-done' data-rows='{result.rows}' "
            f"data-sha256='{result.sha256}' data-export-id='{html.escape(result.export_id)}'>"
            f"<p>{html.escape(summary).replace(chr(10), '<br>')}</p>"
            f"<table class='wb-table'>{rows}</table>"
            f"{links}{_fallback_links(result, lang)}</div>")


def _fallback_links(result: ExportResult, lang: str) -> str:
    """Return AlimTalk's SMS/LMS fallback file(s) as download links (empty without one)."""
    if result.fallback is None:
        return ""
    label = _t("download_fallback", lang, channel=result.fallback.channel.upper())
    return "".join(
        f"<a class='wb-download-fallback' download='{html.escape(p.name)}' "
        f"href='data:text/csv;base64,{base64.b64encode(p.read_bytes()).decode()}'>"
        f"{html.escape(label)} ({html.escape(p.name)})</a> " for p in result.fallback.paths)


def _cell(value: Any, lang: str) -> str:
    """Return a preview cell's text: yes/no words for flags (Member), a dash when missing."""
    if isinstance(value, bool | np.bool_):
        return _t("yes" if value else "no", lang)
    return "–" if value is None or value != value else str(value)


def _members_html(members: pd.DataFrame, lang: str) -> str:
    cols = [c for c in members.columns if c != "signup_at"]
    head = "".join(f"<th>{html.escape(_t('col.' + c, lang))}</th>" for c in cols)
    body = "".join("<tr class='wb-member'>" + "".join(
        f"<td>{html.escape(_cell(v, lang))}</td>"
        for v in row) + "</tr>" for row in members[cols].itertuples(index=False))
    return (f"<p>{html.escape(_t('preview', lang, n=len(members)))}</p>"
            f"<table class='wb-table wb-members'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _mde_html(n: int, holdout: float, baseline: float, lang: str) -> str:
    # Imported on first use: the A/B planning functions load scipy (0.86-0.97 s after this
    # module, three runs with perf_counter on 2 cores), which a report of this page never needs.
    from workbench.abtest import PlanStatus, plan_experiment

    # With a holdout the send is measured against it; without one, as a 50/50 test.
    plan = plan_experiment(baseline, audience=n, holdout_share=holdout,
                           arms=1 if holdout > 0 else 2)
    if plan.status == PlanStatus.AUDIENCE_TOO_SMALL or plan.detectable_mde is None:
        small = html.escape(_t("mde_small", lang))
        return f"<span class='wb-mde-value' data-value=''>{small}</span>"
    mde = plan.detectable_mde
    text = _t("mde", lang, mde=format_number(100 * mde, digits=1, language=lang),
              baseline=format_number(100 * baseline, digits=1, language=lang),
              holdout=format_number(100 * plan.baseline_size / n, language=lang))
    return f"<span class='wb-mde-value' data-value='{mde:.6f}'>{html.escape(text)}</span>"


def show_audience_builder(params: AudienceParams) -> AudienceBuilder:
    """Return the audience builder for ``params``; the notebook's last expression displays it."""
    return AudienceBuilder(params)
