"""Personalisation columns of an export: the registry of fields and how each is computed.

``export_audience(..., fields=("name", "last_product", "coupon_code"), purpose="...")`` (CLI:
``--fields name,last_product,coupon_code --purpose "..."``) adds these columns after the
contact column, for the sending service's template variables (``#{name}``):

========================  =====================================================================
field                     value
========================  =====================================================================
``name``                  the given name only: 김철수 -> 철수, 남궁민수 -> 민수, John Smith -> John
``name_full``             the full name as stored (opt-in: only when asked for by this name)
``last_product``          product of the last line of the last net order before the cut-off
``last_cart_product``     the product most recently added to the cart and still in it
``next_order_date``       expected next order date if within 90 days (snapshot, YYYY-MM-DD)
``recommended_product``   name of the product to recommend next (snapshot, co-purchase model)
``coupon_code``           the code given with ``coupon_code`` (one code, or one per arm)
========================  =====================================================================

Rules (PIPA data minimisation: personal data leaves the store only for a stated purpose):

- **An explicit purpose.** Fields need the ``purpose`` argument (``--purpose``) at export; the
  audience definition's default purpose does not count, because it was written for the
  contact list, not for names in a file. The fields are logged in ``audience_exports.fields``.
- **Nothing the channel needs is masked**, and nothing else is added: the given name is what
  the message greets with, so it is written as stored (no ``김**``).
- **Empty cells** where a customer has no value (no name, no order); the export's notes count
  them, so a template does not greet "님" unnoticed.
- Every cell passes :func:`~workbench.audience.export.excel_safe`.
- **Filled lengths.** An SMS or LMS text holds a byte budget (90 and 2,000 CP949 bytes); the
  message check counts the template, so the export also counts every customer's text with the
  ``#{field}`` variables of the file's columns filled in (:func:`filled_bytes`) and notes how
  many exceed the channel's limit (AlimTalk's SMS/LMS fallback picks LMS instead).

Given names
    A Hangul name is written family name first: the first syllable is dropped (김철수 -> 철수),
    or the first two for a two-syllable family name (:data:`COMPOUND_FAMILY_NAMES`) in a name of
    four syllables (남궁민수 -> 민수) or of three (제갈량 -> 량). ``서문`` is read as a compound
    name only in four syllables: 서 is far more common than 서문 (2015 census: about 750,000
    against 2,000 people), so 서문영 is 서 + 문영 -> 문영. A Hangul name with spaces drops its
    first word (김 철수 -> 철수); any other name keeps its first word (John Smith -> John).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from workbench.audience.compliance import cp949_bytes
from workbench.data.schema import NET_STATUSES
from workbench.errors import ParameterError, SchemaError
from workbench.i18n import get_language, tr

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

__all__ = ["COMPOUND_FAMILY_NAMES", "FIELDS", "TEMPLATE_VARIABLE", "PersonalField",
           "check_fields", "field_columns", "field_help", "filled_bytes", "given_names"]

#: A template variable of the sending services (Kakao, most Korean SMS services): ``#{name}``.
TEMPLATE_VARIABLE = re.compile(r"#\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class PersonalField:
    """One personalisation column: its name, what it holds (en/ko) and the tables it reads."""

    name: str
    en: str
    ko: str
    reads: tuple[str, ...] = ()

    form_ko: str = ""

    def help(self, language: str | None = None) -> str:
        """Return what the column holds, in ``language`` (default: the active one)."""
        return self.ko if (language or get_language()) == "ko" else self.en

    def label(self, language: str | None = None) -> str:
        """Return the builder form's option: the template variable, then what it holds.

        ``#{name}`` is what the manager types into the message (code, like a command); the
        Korean text leaves out the Latin examples and command options of :meth:`help`.
        """
        ko = (language or get_language()) == "ko"
        return f"#{{{self.name}}} {self.form_ko or self.ko if ko else self.en}"


#: The personalisation columns an export may add, in the order ``--help`` lists them.
FIELDS: dict[str, PersonalField] = {f.name: f for f in (
    PersonalField("name", "given name only (김철수 -> 철수, John Smith -> John)",
                  "성을 뺀 이름(김철수 -> 철수, John Smith -> John)", ("customers",),
                  form_ko="성을 뺀 이름(김철수 → 철수)"),
    PersonalField("name_full", "full name as stored (opt-in)", "저장된 전체 이름(명시할 때만)",
                  ("customers",)),
    PersonalField("last_product", "product of the last net order before the cut-off",
                  "기준 시점 전 마지막 순주문의 상품", ("orders", "order_items")),
    PersonalField("last_cart_product", "product last added to the cart and still in it",
                  "장바구니에 마지막으로 담아 아직 남아 있는 상품", ("events", "products")),
    PersonalField("next_order_date", "expected date of the next order, if within 90 days "
                  "(latest snapshot; YYYY-MM-DD)",
                  "90일 안에 주문한다면 예상되는 다음 주문 날짜(최근 스냅샷, 예: 2026-12-15)",
                  ("snapshot_customers",)),
    PersonalField("recommended_product", "name of the product to recommend next (latest "
                  "snapshot: co-purchase model, not just bought, still sold)",
                  "다음에 추천할 상품 이름(최근 스냅샷: 함께 구매 모델, 최근 산 상품 제외, "
                  "판매 중)",
                  ("snapshot_customers",)),
    PersonalField("coupon_code", "the --coupon-code (one code, or one per arm)",
                  "--coupon-code로 준 쿠폰 코드(하나, 또는 그룹별)",
                  form_ko="쿠폰 코드 칸에 적은 코드(하나, 또는 그룹별)"),
)}

#: Two-syllable family names (복성) dropped as a whole from a given name.
COMPOUND_FAMILY_NAMES = ("남궁", "제갈", "선우", "황보", "독고", "사공", "서문")
#: Compound names that are far rarer than their first syllable as a family name (서 + 문X):
#: read as compound only in four-syllable names.
_RARE_COMPOUNDS = ("서문",)


def field_help(language: str | None = None) -> str:
    """Return ``name: what it holds`` for every field, comma separated (for ``--help``)."""
    return "; ".join(f"{f.name}: {f.help(language)}" for f in FIELDS.values())


def check_fields(fields: Iterable[str] | str | None, *, purpose: str | None,
                 coupon_code: object = None) -> tuple[str, ...]:
    """Return the requested fields in order, without repeats, after checking them.

    Raises
    ------
    ParameterError
        An unknown field (the known ones listed), fields without an explicit ``purpose``,
        ``coupon_code`` asked for without a code, or a code given without the field.

    Examples
    --------
    >>> check_fields("name, coupon_code,name", purpose="winter sale", coupon_code="W10")
    ('name', 'coupon_code')
    """
    if fields is None:
        fields = ()
    if isinstance(fields, str):
        fields = fields.split(",")
    names = tuple(dict.fromkeys(str(f).strip() for f in fields if str(f).strip()))
    for name in names:
        if name not in FIELDS:
            close = difflib.get_close_matches(name, list(FIELDS), n=1)
            raise ParameterError(tr(
                "audience.fields.unknown", got=repr(name), known=", ".join(FIELDS),
                hint=tr("params.did_you_mean", suggestion=close[0]) if close else ""))
    if names and not (purpose or "").strip():
        raise ParameterError(tr("audience.fields.purpose", fields=",".join(names)))
    if "coupon_code" in names and coupon_code is None:
        raise ParameterError(tr("audience.fields.no_coupon"))
    if coupon_code is not None and "coupon_code" not in names:
        raise ParameterError(tr("audience.fields.coupon_unused"))
    return names


def given_names(names: pd.Series) -> pd.Series:
    """Return the given name of each full name (see the module docstring); nulls stay null.

    >>> given_names(pd.Series(["김철수", "남궁민수", "제갈량", "서문영", "이 영희",
    ...                        "John Smith", "호", None])).tolist()
    ['철수', '민수', '량', '문영', '영희', 'John', '호', None]
    """
    text = names.astype("string").str.strip()
    hangul = text.str.fullmatch(r"[가-힣]+").fillna(False).astype(bool)
    spaced = text.str.fullmatch(r"[가-힣]+(\s+[가-힣]+)+").fillna(False).astype(bool)
    length = text.str.len()
    head = text.str[:2]
    compound = head.isin(COMPOUND_FAMILY_NAMES) & (
        (length >= 4) | ((length == 3) & ~head.isin(_RARE_COMPOUNDS)))
    rest = text.str.replace(r"^\S+\s+", "", regex=True).str.replace(r"\s+", " ", regex=True)
    choices = [text.str[2:], text.str[1:], rest, text.str.extract(r"^(\S+)", expand=False)]
    out = np.select([hangul & compound, hangul & (length >= 2), spaced],
                    [c.to_numpy(dtype=object, na_value=None) for c in choices[:3]],
                    default=choices[3].to_numpy(dtype=object, na_value=None))
    result = pd.Series(out, index=names.index, dtype=object, name=names.name)
    return result.where((text.notna() & (text != "")).to_numpy(dtype=bool), None)


def field_columns(con: BaseBackend, members: ir.Table, fields: Iterable[str], *,
                  cutoff: pd.Timestamp) -> pd.DataFrame:
    """Return the store-based field columns for the audience's members, indexed by customer.

    ``coupon_code`` is not read from the store (the export adds it per arm); the other fields
    are read with everything strictly before ``cutoff``.

    Raises
    ------
    SchemaError
        A table a field reads is missing from the store.
    """
    wanted = [f for f in fields if f != "coupon_code"]
    ids = members.select("customer_id")
    tables = set(con.list_tables())
    columns = {}
    for name in wanted:
        missing = [t for t in FIELDS[name].reads if t not in tables]
        if missing:
            raise SchemaError(tr("audience.fields.no_table", field=name, table=missing[0]))
        columns[name] = _COMPUTE[name](con, ids, ibis.literal(cutoff), tables)
    frame = pd.DataFrame(columns, dtype=object)
    frame.index.name = "customer_id"
    return frame


def _names(con: BaseBackend, ids: ir.Table, cut: ir.Value, tables: set[str]) -> pd.Series:
    c = con.table("customers")
    frame = c.filter(c.customer_id.isin(ids.customer_id)).select("customer_id", "name")
    frame = frame.to_pyarrow().to_pandas()
    return frame.set_index(frame["customer_id"].astype(str))["name"]


def _last_product(con: BaseBackend, ids: ir.Table, cut: ir.Value, tables: set[str]
                  ) -> pd.Series:
    o = con.table("orders")
    o = o.filter(o.status.isin(NET_STATUSES), o.ordered_at < cut, o.customer_id.isin(
        ids.customer_id))
    rank = ibis.row_number().over(group_by=o.customer_id,
                                  order_by=[ibis.desc(o.ordered_at), ibis.desc(o.order_id)])
    last = o.mutate(rank=rank).filter(lambda t: t.rank == 0).select("customer_id", "order_id")
    items = con.table("order_items")
    j = last.inner_join(items, "order_id")
    line = ibis.row_number().over(group_by=j.customer_id, order_by=ibis.desc(j.line_no))
    j = j.mutate(line=line).filter(lambda t: t.line == 0)
    name = j.product_name if "product_name" in items.columns else ibis.null("string")
    if "products" in tables:
        p = con.table("products").select(pid="product_id", pname="name")
        j = j.left_join(p, j.product_id == p.pid)
        name = j.product_name.coalesce(j.pname) if "product_name" in items.columns else j.pname
    return _by_customer(j.select("customer_id", value=name))


def _last_cart_product(con: BaseBackend, ids: ir.Table, cut: ir.Value, tables: set[str]
                       ) -> pd.Series:
    ev = con.table("events")
    ev = ev.filter(ev.type.isin(["cart_add", "cart_remove"]), ev.ts < cut,
                   ev.product_id.notnull(), ev.customer_id.isin(ids.customer_id))
    per_item = ev.group_by(["customer_id", "product_id"]).aggregate(
        last_add=ev.ts.max(where=ev.type == "cart_add"),
        last_remove=ev.ts.max(where=ev.type == "cart_remove"))
    in_cart = per_item.filter(per_item.last_add.notnull(), per_item.last_remove.isnull()
                              | (per_item.last_remove < per_item.last_add))
    rank = ibis.row_number().over(group_by=in_cart.customer_id,
                                  order_by=[ibis.desc(in_cart.last_add),
                                            ibis.desc(in_cart.product_id)])
    last = in_cart.mutate(rank=rank).filter(lambda t: t.rank == 0)
    p = con.table("products").select(pid="product_id", pname="name")
    j = last.left_join(p, last.product_id == p.pid)
    return _by_customer(j.select("customer_id", value=j.pname))


def _by_customer(expr: ir.Table) -> pd.Series:
    frame = expr.to_pyarrow().to_pandas()
    return frame.set_index(frame["customer_id"].astype(str))["value"]


def _next_order_date(con: BaseBackend, ids: ir.Table, cut: ir.Value, tables: set[str]
                     ) -> pd.Series:
    # The prediction is made at the refresh: the latest snapshot's, whatever the cut-off.
    snap = con.table("snapshot_customers")
    if "next_order_date" not in snap.columns:
        raise SchemaError(tr("audience.fields.no_column", field="next_order_date",
                             column="snapshot_customers.next_order_date"))
    snap = snap.filter(snap.customer_id.isin(ids.customer_id), snap.next_order_date.notnull())
    series = _by_customer(snap.select("customer_id", value=snap.next_order_date.cast("string")))
    return series.astype(object)


def _recommended_product(con: BaseBackend, ids: ir.Table, cut: ir.Value, tables: set[str]
                         ) -> pd.Series:
    # Like next_order_date: the model runs at the refresh, so the latest snapshot's.
    snap = con.table("snapshot_customers")
    if "recommended_product_name" not in snap.columns:
        raise SchemaError(tr("audience.fields.no_column", field="recommended_product",
                             column="snapshot_customers.recommended_product_name"))
    snap = snap.filter(snap.customer_id.isin(ids.customer_id),
                       snap.recommended_product_name.notnull())
    return _by_customer(snap.select("customer_id", value=snap.recommended_product_name))


_COMPUTE = {
    "name": lambda con, ids, cut, tables: given_names(_names(con, ids, cut, tables)),
    "next_order_date": _next_order_date,
    "recommended_product": _recommended_product,
    "name_full": _names,
    "last_product": _last_product,
    "last_cart_product": _last_cart_product,
}


def coupon_column(arm: pd.Series, codes: Mapping[str, str]) -> pd.Series:
    """Return each customer's coupon code from their arm.

    >>> coupon_column(pd.Series(["A", "B"], index=["c1", "c2"]), {"A": "W10", "B": "W20"}
    ...               ).tolist()
    ['W10', 'W20']
    """
    return arm.map(dict(codes)).rename("coupon_code")


def filled_bytes(template: str, cells: pd.DataFrame) -> pd.Series:
    """Return the CP949 byte length of ``template`` per row, its variables filled from ``cells``.

    Every ``#{column}`` naming a column of ``cells`` is replaced by the row's cell (an empty
    cell by nothing); other variables, and the rest of the text, count as written. Characters
    CP949 cannot encode are not counted (as in :func:`~workbench.audience.cp949_bytes`).

    >>> cells = pd.DataFrame({"name": ["민수", None], "phone": ["010", "011"]})
    >>> filled_bytes("#{name}님 #{name}님 #{coupon}", cells).tolist()
    [23, 15]
    """
    uses = Counter(v for v in TEMPLATE_VARIABLE.findall(template) if v in cells.columns)
    rest = TEMPLATE_VARIABLE.sub(lambda m: "" if m.group(1) in uses else m.group(0), template)
    total = pd.Series(cp949_bytes(rest)[0], index=cells.index, dtype="int64")
    for name, times in uses.items():
        column = cells[name]
        sizes = {v: cp949_bytes(str(v))[0] for v in column.dropna().unique()}
        total += times * column.map(sizes).fillna(0).astype("int64")
    return total
