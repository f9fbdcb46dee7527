"""CLV and acquisition cost by acquisition channel: is a new customer worth its cost.

:func:`customer_covariates` builds, in the store's backend, what a customer brought when she
came: ``customers.acquisition_channel`` and whether her first net order before ``as_of`` used a
coupon (``orders.coupon_code``), with that order's amount and time. :func:`channel_value` turns
them into model covariates (channel dummies against the largest channel; channels with fewer
than :data:`MIN_CHANNEL_CUSTOMERS` customers share one dummy; the coupon flag), fits BG/NBD and
Gamma-Gamma with covariates (:mod:`workbench.clv.covariates`) and the plain models on the
same summary, and values the customers each channel brought in the ``window_months`` before
``as_of``.

The value of a new customer (``clv_*`` columns)
    The margin on her first order plus the discounted margin of the repeat purchases expected
    in the ``horizon_months`` after it: ``margin * (first order + sum_k E[spend] (E[X(t_k)] -
    E[X(t_{k-1})]) / (1 + d)^k)``, where ``E[X(t)]`` is the expected repeat purchases of a
    just-acquired customer (eq. (9) of Fader, Hardie & Lee 2005) and ``E[spend]`` the mean
    transaction value of a new customer (``p gamma / (q - 1)``), both with the customer's
    covariates (``clv_covariates``) or the same for everyone (``clv_plain``); ``t_k`` are the
    month ends of :func:`workbench.clv.value.month_ends`. It is what the acquisition cost
    bought, so ``clv_cac_ratio = clv_covariates / acquisition_cost``: above 1 the channel's new
    customers pay their cost back in margin within the horizon.

On the sample shop the latent purchase process does not depend on the channel: the
coefficients are near zero and the likelihood-ratio tests do not reject "no effect" (the
covariate model's differences between channels are then noise; the plain model's differ only
by the first orders).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.clv._base import data_check
from workbench.clv.bgnbd import BetaGeo
from workbench.clv.covariates import BetaGeoCovariates, GammaGammaCovariates, LikelihoodRatio
from workbench.clv.gamma_gamma import GammaGamma
from workbench.clv.summary import clv_summary
from workbench.clv.value import month_ends
from workbench.data.memo import Memo, memo_key
from workbench.errors import ParameterError, WorkbenchWarning
from workbench.i18n import format_money, format_number, tr
from workbench.queries import net_orders
from workbench.results import Readable, ResultMixin, Status
from workbench.settings import Settings
from workbench.viz.clv_channels import channel_value_figure

__all__ = ["CHANNEL_COLUMNS", "MIN_CHANNEL_CUSTOMERS", "ChannelValue", "channel_value",
           "channel_label", "clv_by_channel", "covariate_design", "customer_covariates",
           "ratio_text"]

#: Channels with fewer customers share the ``channel:(other)`` dummy (too few to estimate).
MIN_CHANNEL_CUSTOMERS = 30
#: Channel of customers without one.
UNKNOWN = "(unknown)"
#: Columns of :attr:`ChannelValue.table`.
CHANNEL_COLUMNS = ("acquisition_channel", "customers", "new_customers", "first_order_value",
                   "clv_covariates", "clv_plain", "acquisition_cost", "clv_cac_ratio",
                   "verdict")
_UNIT = "W"
_OTHER = "(other)"
#: Stored channel values with a label of their own (the sample's and the placeholders);
#: any other value is the shop's own name and shows as stored, like a product name.
LABELLED = {"naver": "naver", "instagram": "instagram", "kakao": "kakao", "google": "google",
            "direct": "direct", "referral": "referral", UNKNOWN: "unknown", _OTHER: "other"}


def channel_label(channel: str, language: str | None = None) -> str:
    """Return how a channel reads in ``language``: Korean names for the common ones.

    >>> channel_label("naver", "ko"), channel_label("naver", "en"), channel_label("tv", "ko")
    ('네이버', 'naver', 'tv')
    """
    key = LABELLED.get(channel)
    return tr(f"clv.channels.name.{key}", language=language) if key else channel


def customer_covariates(con: Any, as_of: date, *, settings: Settings) -> ibis.Table:
    """Return each customer's acquisition channel and first net order before ``as_of`` (lazy).

    Parameters
    ----------
    con
        Ibis backend of the store.
    as_of
        Only orders before local midnight of this date count.
    settings
        The shop's time zone.

    Returns
    -------
    ibis.Table
        One row per customer with a net order before ``as_of``: ``customer_id``,
        ``acquisition_channel`` (:data:`UNKNOWN` when missing), ``first_order_at``,
        ``first_order_amount`` and ``first_order_coupon`` (the first order's ``coupon_code``
        is not empty; orders at the same instant: either).
    """
    orders = net_orders(con.table("orders"), before=as_of, timezone=settings.timezone,
                        identified=True)
    code = orders.coupon_code.strip() if "coupon_code" in orders.columns else ibis.null("string")
    used = code.notnull() & (code != "")
    first = orders.group_by("customer_id").aggregate(
        first_order_at=orders.ordered_at.min(),
        first_order_amount=orders.amount.argmin(orders.ordered_at),
        first_order_coupon=used.argmin(orders.ordered_at))
    if "customers" in con.list_tables() and \
            "acquisition_channel" in con.table("customers").columns:
        people = con.table("customers").select("customer_id", "acquisition_channel")
        first = first.left_join(people, "customer_id").select(
            *first.columns, acquisition_channel=ibis._.acquisition_channel)
    else:
        first = first.mutate(acquisition_channel=ibis.null("string"))
    channel = first.acquisition_channel.strip().nullif("").fill_null(UNKNOWN)
    return first.mutate(acquisition_channel=channel,
                        first_order_coupon=first.first_order_coupon.fill_null(False))


def covariate_design(covariates: pd.DataFrame, *, reference: str | None = None
                     ) -> tuple[pd.DataFrame, str]:
    """Return model covariates: channel dummies against ``reference`` and the coupon flag.

    ``reference`` defaults to the largest channel. Channels with fewer than
    :data:`MIN_CHANNEL_CUSTOMERS` customers share ``channel:(other)``; a column with one value
    only (every first order with a coupon, one channel) is left out: it cannot be estimated.

    Examples
    --------
    >>> covs = pd.DataFrame({"acquisition_channel": ["naver"] * 40 + ["kakao"] * 35 + ["tv"],
    ...                      "first_order_coupon": [True, False] * 38})
    >>> design, ref = covariate_design(covs)
    >>> ref, list(design.columns)
    ('naver', ['channel:kakao', 'channel:(other)', 'first_order_coupon'])
    """
    channel = covariates["acquisition_channel"]
    counts = channel.value_counts(sort=False)
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")
    reference = reference or str(counts.index[0])
    small = [c for c, n in counts.items() if n < MIN_CHANNEL_CUSTOMERS and c != reference]
    grouped = channel.where(~channel.isin(small), _OTHER)
    levels = [c for c in counts.index if c != reference and c not in small]
    levels += [_OTHER] if small else []
    design = pd.DataFrame({f"channel:{c}": (grouped == c).astype(float) for c in levels},
                          index=covariates.index)
    design["first_order_coupon"] = covariates["first_order_coupon"].astype(float)
    keep = [c for c in design.columns if design[c].nunique() > 1]
    return design.loc[:, keep], reference


@dataclass(frozen=True, slots=True)
class _Fits:
    """The part that depends on the store, ``as_of`` and the margin (kept per process)."""

    status: Status
    reference: str = ""
    customers: pd.DataFrame | None = None  # per new customer: channel, clv_covariates, ...
    counts: pd.Series | None = None  # customers per channel (all)
    coefficients: pd.DataFrame | None = None
    purchase_test: LikelihoodRatio | None = None
    spend_test: LikelihoodRatio | None = None


_FITS = Memo("clv.channels", size=4)


@dataclass(frozen=True, slots=True, eq=False)
class ChannelValue(Readable, ResultMixin):
    """CLV of new customers and acquisition cost by channel, with the covariate model behind it.

    Parameters
    ----------
    as_of, currency, language, horizon_months, window_months, gross_margin
        What was computed and how it is shown.
    reference
        The channel the dummies are measured against (the largest).
    table
        :data:`CHANNEL_COLUMNS`, one row per channel (customers first): ``customers`` with a
        net order before ``as_of``, ``new_customers`` whose first one is in the
        ``window_months`` before it, their mean ``first_order_value``, the mean value of a new
        customer from the covariate and the plain model (see the module docstring; margin
        only), ``acquisition_cost`` per new customer (NaN: not set), ``clv_cac_ratio`` and
        ``verdict``: ``pays_back`` (ratio >= 1), ``loses`` (< 1), ``free`` (cost 0),
        ``no_cost`` (no ``[acquisition_cost]`` entry) or ``no_new_customers``.
    coefficients
        ``model`` (``bgnbd`` or ``gamma_gamma``), ``parameter`` (``gamma1:channel:kakao``, ...),
        ``estimate``, ``standard_error``, ``z``, ``p_value``.
    purchase_test, spend_test
        Likelihood-ratio tests of the covariates in BG/NBD and Gamma-Gamma (None without
        covariates).
    status
        ``OK``, ``NO_DATA`` or ``TOO_LITTLE_DATA`` (as :func:`workbench.clv.run_clv`).
    """

    as_of: date
    currency: str
    language: str
    horizon_months: int
    window_months: int
    gross_margin: float
    reference: str
    table: pd.DataFrame
    coefficients: pd.DataFrame
    purchase_test: LikelihoodRatio | None = None
    spend_test: LikelihoodRatio | None = None
    status: Status = Status.OK

    def __eq__(self, other: object) -> bool:
        """Return whether every field is equal (frames by value, as a fresh result's)."""
        if not isinstance(other, ChannelValue):
            return NotImplemented
        return all(getattr(self, f).equals(getattr(other, f))
                   if isinstance(getattr(self, f), pd.DataFrame)
                   else getattr(self, f) == getattr(other, f) for f in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def to_frame(self) -> pd.DataFrame:
        """Return the table by channel."""
        return self.table.copy()

    def message_in(self, language: str | None = None) -> str:
        """Return whether channel and coupon change the predictions (the LR tests), worded."""
        lang = language or self.language
        if not self.ok:
            return tr(f"clv.channels.status.{self.status.value}", language=lang)
        tests = [t for t in (self.purchase_test, self.spend_test) if t is not None]
        if not tests:
            return tr("clv.channels.no_covariates", language=lang)
        p = min(t.p_value for t in tests)
        key = "clv.channels.effects" if p < 0.05 else "clv.channels.no_effects"
        return tr(key, language=lang, reference=channel_label(self.reference, lang),
                  p_purchase=_p(self.purchase_test, lang), p_spend=_p(self.spend_test, lang))

    def verdict_in(self, channel: str, language: str | None = None) -> str:
        """Return the budget sentence of one channel (its numbers, in ``language``)."""
        lang = language or self.language
        row = self.table.set_index("acquisition_channel").loc[channel]
        money = {k: format_money(row[k], self.currency, language=lang)
                 for k in ("clv_covariates", "acquisition_cost") if pd.notna(row[k])}
        return tr(f"clv.channels.verdict.{row['verdict']}", language=lang,
                  channel=channel_label(channel, lang),
                  months=self.horizon_months, window=self.window_months,
                  ratio=ratio_text(float(row["clv_cac_ratio"]), lang), **money)

    def verdicts_in(self, language: str | None = None) -> list[str]:
        """Return :meth:`verdict_in` of every channel, in table order."""
        return [self.verdict_in(c, language) for c in self.table["acquisition_channel"]]

    def figure(self) -> go.Figure:
        """Return a new bar chart of new-customer value and acquisition cost by channel."""
        labels = [channel_label(c, self.language) for c in self.table["acquisition_channel"]]
        return channel_value_figure(self.table.assign(acquisition_channel=labels),
                                    currency=self.currency, language=self.language,
                                    months=self.horizon_months)


def ratio_text(ratio: float, language: str) -> str:
    """Return a CLV/CAC ratio rounded *down* to one decimal, so it stays on its side of 1.

    >>> ratio_text(0.996, "en"), ratio_text(2.19, "en"), ratio_text(float("nan"), "en")
    ('0.9', '2.1', '–')
    """
    if not math.isfinite(ratio):
        return "–"
    return format_number(math.floor(ratio * 10) / 10, digits=1, language=language)


def _p(test: LikelihoodRatio | None, language: str) -> str:
    if test is None:
        return "–"
    return "< 0.001" if test.p_value < 0.001 else format_number(test.p_value, digits=3,
                                                               language=language)


def channel_value(con: Any, as_of: date, settings: Settings, *, summary: pd.DataFrame | None
                  = None, store: tuple | None = None, margin: float | None = None,
                  language: str | None = None,
                  horizon_months: int = 12, window_months: int = 12,
                  monthly_discount_rate: float = 0.01) -> ChannelValue:
    """Return CLV and acquisition cost by acquisition channel as of ``as_of``.

    Parameters
    ----------
    con
        Ibis backend of the store.
    as_of
        Orders before this date are the history.
    settings
        Time zone, currency, language, ``gross_margin`` and ``acquisition_cost``.
    summary
        :func:`workbench.clv.clv_summary` in weeks for ``as_of`` when the caller has it.
    store
        :func:`workbench.data.memo.memo_key` of ``con`` when the caller has it: the fits are
        kept per process under it (a page's second call costs only the table).
    margin, language
        Default: the settings' ``gross_margin`` and ``language``.
    horizon_months
        Months of repeat purchases in a new customer's value (1-60; default 12).
    window_months
        Customers whose first order is in these months before ``as_of`` are the new ones
        (1-60; default 12).
    monthly_discount_rate
        Discount rate per month, in [0, 0.2].

    Returns
    -------
    ChannelValue
        ``NO_DATA`` without orders, ``TOO_LITTLE_DATA`` when the models refuse the data.
    """
    for name, value in (("horizon_months", horizon_months), ("window_months", window_months)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 60:
            raise ParameterError(tr("clv.channels.months", name=name, got=repr(value)))
    if not 0 <= monthly_discount_rate <= 0.2:
        raise ParameterError(tr("clv.value.discount", got=repr(monthly_discount_rate)))
    margin = float(margin or settings.gross_margin)
    key = (*(store or memo_key(con)), as_of, settings.timezone, margin, horizon_months,
           window_months, monthly_discount_rate)
    fits = _FITS.get(key, lambda: _fit(con, as_of, settings, summary, margin, horizon_months,
                                       window_months, monthly_discount_rate))
    base = {"as_of": as_of, "currency": settings.currency,
            "language": language or settings.language, "horizon_months": horizon_months,
            "window_months": window_months, "gross_margin": margin}
    if fits.status != Status.OK:
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in CHANNEL_COLUMNS})
        return ChannelValue(**base, reference="", table=empty,
                            coefficients=pd.DataFrame(), status=fits.status)
    return ChannelValue(**base, reference=fits.reference, table=_table(fits, settings),
                        coefficients=fits.coefficients.copy(), purchase_test=fits.purchase_test,
                        spend_test=fits.spend_test)


def clv_by_channel(con: Any, as_of: date, settings: Settings, **options: Any) -> pd.DataFrame:
    """Return :attr:`ChannelValue.table` of :func:`channel_value` (same arguments)."""
    return channel_value(con, as_of, settings, **options).table


def _fit(con: Any, as_of: date, settings: Settings, summary: pd.DataFrame | None,
         margin: float, horizon_months: int, window_months: int, rate: float) -> _Fits:
    if "orders" not in con.list_tables():
        return _Fits(Status.NO_DATA)
    if summary is None:
        summary = clv_summary(con, as_of, settings=settings, unit=_UNIT)
    if summary.empty:
        return _Fits(Status.NO_DATA)
    if not data_check(summary).enough:
        return _Fits(Status.TOO_LITTLE_DATA)
    covs = customer_covariates(con, as_of, settings=settings).to_pyarrow().to_pandas()
    covs = covs.set_index("customer_id").reindex(summary.index)
    covs = covs.fillna({"acquisition_channel": UNKNOWN, "first_order_coupon": False})
    design, reference = covariate_design(covs)
    frame = summary.join(design)
    names = tuple(design.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        purchase = BetaGeoCovariates(covariates=names).fit(frame)
        spend = GammaGammaCovariates(covariates=names).fit(frame)
        plain = purchase.plain_model_ or BetaGeo().fit(summary)  # None without covariates
        plain_spend = spend.plain_model_ or GammaGamma().fit(summary)
    since = pd.Timestamp(as_of).tz_localize(settings.timezone) - pd.DateOffset(
        months=window_months)
    first_at = pd.to_datetime(covs["first_order_at"], utc=True)
    new = frame[(first_at >= since).to_numpy()]
    ends = month_ends(as_of, horizon_months, _UNIT)
    discount = (1 + rate) ** -np.arange(1, horizon_months + 1)
    weights = discount - np.append(discount[1:], 0.0)
    first_value = covs.loc[new.index, "first_order_amount"].astype(float)
    repeat_cov = purchase.expected_purchases_new(ends, new) @ weights \
        * spend.expected_spend_new(new).to_numpy()
    repeat_plain = float(plain.expected_purchases_new(ends) @ weights) \
        * plain_spend.population_mean_
    customers = pd.DataFrame({
        "acquisition_channel": covs.loc[new.index, "acquisition_channel"],
        "first_order_value": first_value,
        "clv_covariates": margin * (first_value + repeat_cov),
        "clv_plain": margin * (first_value + repeat_plain)}, index=new.index)
    coefficients = pd.concat([
        purchase.coefficients_.assign(model="bgnbd"),
        spend.coefficients_.assign(model="gamma_gamma")]).rename_axis("parameter").reset_index()
    coefficients = coefficients.loc[:, ["model", "parameter", "estimate", "standard_error",
                                        "z", "p_value"]]
    return _Fits(Status.OK, reference, customers, covs["acquisition_channel"].value_counts(),
                 coefficients, purchase.lr_test_, spend.lr_test_)


def _table(fits: _Fits, settings: Settings) -> pd.DataFrame:
    """Return the table by channel with the settings' acquisition costs and the verdicts."""
    per = fits.customers.groupby("acquisition_channel").agg(
        new_customers=("clv_covariates", "size"),
        first_order_value=("first_order_value", "mean"),
        clv_covariates=("clv_covariates", "mean"), clv_plain=("clv_plain", "mean"))
    channels = list(fits.counts.index) + [c for c, _ in settings.acquisition_cost
                                          if c not in fits.counts.index]
    table = per.reindex(channels).rename_axis("acquisition_channel").reset_index()
    table.insert(1, "customers", fits.counts.reindex(channels).fillna(0).astype(int).to_numpy())
    table["new_customers"] = table["new_customers"].fillna(0).astype(int)
    cost = pd.Series([settings.cost_of(c) for c in channels], dtype=float)
    table["acquisition_cost"] = cost
    with np.errstate(divide="ignore", invalid="ignore"):
        table["clv_cac_ratio"] = np.where(cost > 0, table["clv_covariates"] / cost, np.nan)
    table["verdict"] = np.select(
        [table["new_customers"] == 0, cost.isna(), cost == 0, table["clv_cac_ratio"] >= 1],
        ["no_new_customers", "no_cost", "free", "pays_back"], "loses")
    return table.loc[:, list(CHANNEL_COLUMNS)]

