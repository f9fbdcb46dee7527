"""Churn features: one row per customer active before ``as_of``, from data strictly before it.

:func:`churn_features` is one lazy Ibis expression: the customer facts of
:func:`workbench.features.customer_facts` (RFM, windows, gaps) joined with aggregates of the
other tables the store has -- events (days since the last visit, login, product view and cart
add; recent visits and views; abandoned carts), customers (membership and consent as of the
date), messages (campaign opens, clicks, opt-outs), order lines (category mix, replenishment
cycle) and cancelled or returned orders. Every aggregate filters on a timestamp strictly before
local midnight of ``as_of``: nothing later can change the features (tested by appending future
orders and events to a store). Events are read for the year before ``as_of`` only
(:data:`EVENT_LOOKBACK_DAYS`). :func:`feature_frame` executes it and adds the BG/NBD
``p_alive`` fitted on the same history.

Groups are included when their table exists, so a store with orders only (CDNOW) gets the
order features and ``p_alive``; a saved model remembers its feature list and refuses a store
that lacks some of them (:mod:`workbench.churn.model`).

Consent as of a date
    ``customers`` holds consent *now*. A customer who opted out by a campaign message on or
    after ``as_of`` still had that channel's consent at ``as_of``, so it is restored from
    ``messages.unsubscribed_at``; membership counts only from ``signup_at`` before ``as_of``.
    Consent given after ``as_of`` with no trace in the tables cannot be undone: the flags are
    then slightly optimistic (documented, not leaked future orders).
"""

from __future__ import annotations

import logging
import warnings
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.clv import BetaGeo
from workbench.dates import epoch_us, midnight
from workbench.errors import ParameterError, WorkbenchError, WorkbenchWarning
from workbench.features import customer_facts
from workbench.i18n import tr
from workbench.queries import net_orders
from workbench.settings import Settings, load_settings

__all__ = ["BASE_FEATURES", "FEATURE_GROUPS", "categories_for", "churn_features",
           "feature_frame", "feature_group"]

_log = logging.getLogger(__name__)
_US_PER_DAY = 86_400_000_000
_SMS_LIKE = ("sms", "lms", "kakao")
#: Events older than this many days before ``as_of`` are not read: "days since the last visit"
#: (login, view, cart add) is null for a customer with none in the last year. Scoring time
#: then follows a year of events, not the whole history (the 1M sample, two years: 3.3 s
#: instead of 4.1 s), and a year without a visit says what an older date would.
EVENT_LOOKBACK_DAYS = 365

#: Features from the orders alone (always present).
ORDER_FEATURES = (
    "orders", "purchase_days", "net_revenue", "aov", "recency_days", "tenure_days",
    "mean_days_between", "orders_30d", "orders_90d", "orders_180d",
    "orders_365d", "net_revenue_30d", "net_revenue_90d", "net_revenue_180d", "net_revenue_365d",
    "frequency", "monetary_value", "orders_trend", "revenue_trend", "gap_overdue",
    "cancelled_returned",
)
EVENT_FEATURES = (
    "days_since_visit", "days_since_login", "days_since_view", "days_since_cart",
    "visits_30d", "visits_90d", "views_30d", "views_90d", "logins_90d", "carts_90d",
    "abandoned_carts_90d", "days_since_abandoned_cart", "days_visit_after_order",
)
CUSTOMER_FEATURES = ("is_member", "sms_opt_in", "email_opt_in", "push_opt_in")
MESSAGE_FEATURES = ("messages_sent", "messages_opened", "messages_clicked", "unsubscribed",
                    "days_since_click")
#: ``cycle_days``: mean ``products.replenish_days`` over the lines bought that have one.
ITEM_FEATURES = ("cycle_days", "cycle_overdue")
BGNBD_FEATURES = ("p_alive", "bgnbd_p_no_order")
#: Order features every model has.
BASE_FEATURES = ORDER_FEATURES

#: Feature groups: the unit of explanations (a reason replaces a whole group).
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "no_recent_order": ("recency_days", "orders_30d", "orders_90d", "net_revenue_30d",
                        "net_revenue_90d"),
    "overdue": ("gap_overdue", "cycle_overdue", "mean_days_between", "cycle_days"),
    "slowing_down": ("orders_trend", "revenue_trend", "orders_180d", "orders_365d",
                     "net_revenue_180d", "net_revenue_365d"),
    "few_orders": ("orders", "purchase_days", "frequency", "tenure_days", "net_revenue", "aov",
                   "monetary_value", "cancelled_returned"),
    "no_visits": ("days_since_visit", "days_since_login", "visits_30d", "visits_90d",
                  "logins_90d", "days_visit_after_order"),
    "no_browsing": ("days_since_view", "views_30d", "views_90d"),
    "abandoned_carts": ("days_since_cart", "carts_90d", "abandoned_carts_90d",
                        "days_since_abandoned_cart"),
    "ignores_messages": MESSAGE_FEATURES,
    "no_consent": CUSTOMER_FEATURES,
    "category": ("cat_share_",),  # prefix: the category-mix columns
    "low_p_alive": BGNBD_FEATURES,
}


def feature_group(feature: str) -> str:
    """Return the explanation group of a feature column.

    >>> feature_group("days_since_visit"), feature_group("cat_share_beauty")
    ('no_visits', 'category')
    """
    for group, members in FEATURE_GROUPS.items():
        if feature in members or any(m.endswith("_") and feature.startswith(m) for m in members):
            return group
    raise ParameterError(tr("churn.features.unknown", feature=repr(feature)))


def _days_since(end_us: int, ts: ir.TimestampValue) -> ir.FloatingValue:
    return (end_us - epoch_us(ts)) / _US_PER_DAY


def _count_if(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.cast("int64").sum()


def _max_if(cond: ir.BooleanValue, ts: ir.TimestampValue) -> ir.TimestampValue:
    return cond.ifelse(ts, ibis.null(ts.type())).max()


def _event_part(events: ir.Table, *, as_of: date, tz: str, end_us: int) -> ir.Table:
    end = midnight(as_of, tz)
    d30, d90, start = (midnight(as_of - timedelta(days=n), tz)
                       for n in (30, 90, EVENT_LOOKBACK_DAYS))
    ev = events.filter(events.customer_id.notnull(), events.ts < end, events.ts >= start,
                       events.type.isin(["visit", "login", "product_view", "cart_add",
                                         "checkout_start"]))
    t = ev.type
    per = ev.group_by("customer_id").aggregate(
        last_visit=_max_if(t == "visit", ev.ts), last_login=_max_if(t == "login", ev.ts),
        last_view=_max_if(t == "product_view", ev.ts), last_cart=_max_if(t == "cart_add", ev.ts),
        visits_30d=_count_if((t == "visit") & (ev.ts >= d30)),
        visits_90d=_count_if((t == "visit") & (ev.ts >= d90)),
        views_30d=_count_if((t == "product_view") & (ev.ts >= d30)),
        views_90d=_count_if((t == "product_view") & (ev.ts >= d90)),
        logins_90d=_count_if((t == "login") & (ev.ts >= d90)),
        carts_90d=_count_if((t == "cart_add") & (ev.ts >= d90)),
    )
    # A cart is abandoned when its session adds to the cart and never starts a checkout. Only
    # the last 90 days are scanned at session level: the group-by over sessions is the
    # costliest part of the features on a large store.
    carts = ev.filter(ev.type.isin(["cart_add", "checkout_start"]), ev.ts >= d90)
    sessions = carts.group_by("customer_id", "session_id").aggregate(
        cart=_count_if(carts.type == "cart_add"),
        checkout=_count_if(carts.type == "checkout_start"), at=carts.ts.max())
    abandoned = sessions.filter(sessions.cart > 0, sessions.checkout == 0)
    ab = abandoned.group_by("customer_id").aggregate(
        abandoned_carts_90d=abandoned.count(), last_abandoned=abandoned.at.max())
    per = per.left_join(ab, "customer_id").drop("customer_id_right")
    return per.select(
        "customer_id",
        days_since_visit=_days_since(end_us, per.last_visit),
        days_since_login=_days_since(end_us, per.last_login),
        days_since_view=_days_since(end_us, per.last_view),
        days_since_cart=_days_since(end_us, per.last_cart),
        visits_30d=per.visits_30d, visits_90d=per.visits_90d, views_30d=per.views_30d,
        views_90d=per.views_90d, logins_90d=per.logins_90d, carts_90d=per.carts_90d,
        abandoned_carts_90d=per.abandoned_carts_90d.fill_null(0),
        days_since_abandoned_cart=_days_since(end_us, per.last_abandoned),
    )


def _customer_part(con: Any, *, as_of: date, tz: str) -> ir.Table:
    end = midnight(as_of, tz)
    people = con.table("customers")
    restored = None
    tables = set(con.list_tables())
    if {"messages", "campaigns"} <= tables:
        msg, camp = con.table("messages"), con.table("campaigns")
        later = msg.filter(msg.unsubscribed_at >= end).join(
            camp.select("campaign_id", "channel"), "campaign_id")
        restored = later.group_by("customer_id").aggregate(
            back_sms=_count_if(later.channel.isin(_SMS_LIKE)) > 0,
            back_email=_count_if(later.channel == "email") > 0,
            back_push=_count_if(later.channel == "push") > 0)
        people = people.left_join(restored, "customer_id").drop("customer_id_right")

    def flag(name: str, back: str) -> ir.IntegerValue:
        value = people[name].fill_null(False)
        if restored is not None:
            value = value | people[back].fill_null(False)
        return value.cast("int64")

    member = people.is_member.fill_null(False) & (people.signup_at.isnull()
                                                  | (people.signup_at < end))
    return people.select("customer_id", is_member=member.cast("int64"),
                         sms_opt_in=flag("sms_opt_in", "back_sms"),
                         email_opt_in=flag("email_opt_in", "back_email"),
                         push_opt_in=flag("push_opt_in", "back_push"))


def _message_part(messages: ir.Table, *, as_of: date, tz: str, end_us: int) -> ir.Table:
    end = midnight(as_of, tz)
    m = messages.filter(messages.sent_at < end, messages.customer_id.notnull())
    per = m.group_by("customer_id").aggregate(
        messages_sent=m.count(), messages_opened=_count_if(m.opened_at < end),
        messages_clicked=_count_if(m.clicked_at < end),
        unsubscribed=_count_if(m.unsubscribed_at < end),
        last_click=_max_if(m.clicked_at < end, m.clicked_at))
    return per.select("customer_id", "messages_sent", "messages_opened", "messages_clicked",
                      unsubscribed=(per.unsubscribed > 0).cast("int64"),
                      days_since_click=_days_since(end_us, per.last_click))


def _item_part(con: Any, net: ir.Table, categories: tuple[str, ...],
               with_cycle: bool, with_top: bool = True) -> ir.Table:
    """Category mix, top category and mean replenishment cycle of the lines bought.

    One join of the lines with the counted orders, reduced to (customer, category) first; the
    top category follows :func:`workbench.features.customer_facts` (largest line amount, ties
    by name, lines without a category ignored), so the facts need not join the lines again.
    ``with_top=False`` leaves it out (a window over every customer's categories).
    """
    items = con.table("order_items")
    lines = items.select("order_id", "product_id", "category", "line_amount").join(
        net.select("order_id", "customer_id"), "order_id")
    if with_cycle:
        products = con.table("products").select("product_id", cycle="replenish_days")
        lines = lines.left_join(products, "product_id").drop("product_id_right")
        cyc = {"cycle_sum": lines.cycle.cast("float64").sum(), "cycle_n": lines.cycle.count()}
    else:
        cyc = {}
    by_cat = lines.group_by("customer_id", "category").aggregate(
        value=lines.line_amount.sum(), **cyc)
    total = by_cat.value.sum()
    aggs: dict[str, ir.Value] = {
        f"cat_share_{_slug(c)}": (by_cat.category == c).ifelse(by_cat.value, 0.0).sum()
        / total.nullif(0) for c in categories}
    if with_cycle:
        aggs["cycle_days"] = by_cat.cycle_sum.sum() / by_cat.cycle_n.sum().nullif(0)
    per = by_cat.group_by("customer_id").aggregate(**aggs)
    if not with_top:
        return per
    named = by_cat.filter(by_cat.category.notnull())
    rank = ibis.row_number().over(group_by="customer_id",
                                  order_by=[ibis.desc("value"), ibis.asc("category")])
    named = named.mutate(rank=rank)
    top = named.filter(named["rank"] == 0).select("customer_id", top_category="category")
    return per.left_join(top, "customer_id").drop("customer_id_right")


def _slug(category: str) -> str:
    text = "".join(ch if ch.isalnum() else "_" for ch in str(category).lower())
    return text or "blank"


def categories_for(con: Any, as_of: date, *, settings: Settings | None = None,
                   top: int = 6) -> tuple[str, ...]:
    """Return the ``top`` categories by net line amount before ``as_of`` (the category-mix columns).

    A model fixes this list when it is trained, so scoring builds the same columns.
    """
    settings = settings or load_settings()
    if "order_items" not in con.list_tables():
        return ()
    orders, items = con.table("orders"), con.table("order_items")
    net = net_orders(orders, before=as_of, timezone=settings.timezone, identified=True)
    lines = items.filter(items.category.notnull()).join(net.select("order_id"), "order_id")
    top_cats = (lines.group_by("category").aggregate(v=lines.line_amount.sum())
                .order_by([ibis.desc("v"), "category"]).limit(int(top)))
    return tuple(str(c) for c in top_cats.to_pyarrow().column("category").to_pylist())


def churn_features(con: Any, as_of: date, *, settings: Settings | None = None,
                   categories: tuple[str, ...] | None = None,
                   top_category: bool = True, median: bool = False) -> ir.Table:
    """Return the churn features of every customer active before ``as_of`` (lazy Ibis table).

    Parameters
    ----------
    con
        Ibis backend of the store.
    as_of
        Cutoff (exclusive): only orders, events and messages before local midnight count.
    settings
        Time zone; default: ``workbench.toml``.
    categories
        Categories of the ``cat_share_*`` columns (default: :func:`categories_for`).
    top_category, median
        Include ``top_category`` and ``median_days_between``, which are not features: the
        labels of the relative churn definition need them, scoring does not.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``top_category`` (unless left out), ``days_since_last_order`` and the
        feature columns (:data:`ORDER_FEATURES`, then those of the tables the store has, all
        float64); one row per customer with a net order before ``as_of``. Counts are 0 and
        "days since" are null when there was nothing.

    Raises
    ------
    ParameterError
        ``as_of`` is not a date.
    """
    if not isinstance(as_of, date):
        raise ParameterError(tr("churn.features.as_of", got=type(as_of).__name__))
    settings = settings or load_settings()
    tz = settings.timezone
    tables = set(con.list_tables())
    end = midnight(as_of, tz)
    end_us = pd.Timestamp(as_of).tz_localize(tz).value // 1_000
    orders = con.table("orders")
    # Lines are joined once, in _item_part (which also gives the top category).
    # Without the median gap: the window it needs is a third of the facts' time, and the mean
    # gap predicts as well (backtests, 100k sample: AUC 0.9320 / 0.9341 / 0.9364 with the mean
    # against 0.9317 / 0.9344 / 0.9365 with the median; CDNOW 0.8116 / 0.8174 / 0.8319
    # against 0.8109 / 0.8160 / 0.8334). Labels by the customer's own rhythm still need it.
    facts = customer_facts(orders, as_of=as_of, timezone=tz, median=median)
    before = orders.filter(orders.customer_id.notnull(), orders.ordered_at < end)
    bad = before.group_by("customer_id").aggregate(
        cancelled_returned=_count_if(before.status.isin(["cancelled", "returned"])))
    f = facts.left_join(bad, "customer_id").drop("customer_id_right")
    older = f.orders_180d - f.orders_90d
    older_rev = f.net_revenue_180d - f.net_revenue_90d
    out = f.mutate(
        orders_trend=(f.orders_90d - older).cast("float64"),
        revenue_trend=(f.net_revenue_90d - older_rev) / (f.net_revenue_90d + older_rev + 1.0),
        gap_overdue=f.recency_days / f.mean_days_between.nullif(0),
        cancelled_returned=f.cancelled_returned.fill_null(0),
        days_since_last_order=f.recency_days,
        bg_recency=f.recency, bg_T=f["T"],
    )
    columns = ["customer_id", "top_category", "days_since_last_order", "bg_recency", "bg_T",
               *(["median_days_between"] if median else []), *ORDER_FEATURES]
    if "events" in tables:
        ev = _event_part(con.table("events"), as_of=as_of, tz=tz, end_us=end_us)
        out = out.left_join(ev, "customer_id").drop("customer_id_right")
        zero = ("visits_30d", "visits_90d", "views_30d", "views_90d", "logins_90d", "carts_90d",
                "abandoned_carts_90d")
        # Browsing after the last order: how long the customer kept visiting without buying.
        out = out.mutate(**{c: out[c].fill_null(0) for c in zero},
                         days_visit_after_order=out.recency_days - out.days_since_visit)
        columns += EVENT_FEATURES
    if "customers" in tables:
        out = out.left_join(_customer_part(con, as_of=as_of, tz=tz), "customer_id").drop(
            "customer_id_right")
        columns += CUSTOMER_FEATURES
    if "messages" in tables:
        msg = _message_part(con.table("messages"), as_of=as_of, tz=tz, end_us=end_us)
        out = out.left_join(msg, "customer_id").drop("customer_id_right")
        out = out.mutate(**{c: out[c].fill_null(0) for c in MESSAGE_FEATURES
                            if c != "days_since_click"})
        columns += MESSAGE_FEATURES
    if "order_items" in tables:
        cats = categories_for(con, as_of, settings=settings) if categories is None else categories
        with_cycle = "products" in tables
        net = net_orders(before)
        items = _item_part(con, net, tuple(cats), with_cycle, with_top=top_category)
        out = out.drop("top_category").left_join(items, "customer_id").drop("customer_id_right")
        columns += [f"cat_share_{_slug(c)}" for c in cats]
        if with_cycle:
            out = out.mutate(cycle_overdue=out.recency_days / out.cycle_days.nullif(0))
            columns += ITEM_FEATURES
    if not top_category:
        columns.remove("top_category")
    # Every feature as float64 in the backend: the frame then needs no conversion in pandas.
    return out.select(*[out[c] if c in ("customer_id", "top_category")
                        else out[c].cast("float64").name(c) for c in columns])


def feature_frame(con: Any, as_of: date, *, settings: Settings | None = None,
                  categories: tuple[str, ...] | None = None, p_alive: bool = True,
                  horizon_days: int = 90, bgnbd_max_customers: int = 200_000,
                  seed: int = 0, sort: bool = True, top_category: bool = True,
                  median: bool = False) -> pd.DataFrame:
    """Execute :func:`churn_features` and add the BG/NBD columns; one row per customer.

    Rows are sorted by ``customer_id``, so that fitting on the frame is reproducible (row
    samples and the trees' bin thresholds follow row order). ``sort=False`` leaves them in the
    backend's order, which differs between runs: scoring predicts row by row and does not need
    the sort (1.1 s at 1M customers). The BG/NBD columns do not depend on the row order.

    ``p_alive`` is P(alive) of a BG/NBD model [1]_ (``workbench.clv.BetaGeo``) fitted on the
    purchase summary as of the same date (weeks), eq. (A.10) of [1]_; ``bgnbd_p_no_order`` is
    the model's probability of no purchase in the next ``horizon_days``,
    ``1 - P_alive + P_alive ((alpha + T) / (alpha + T + t))^(r + x)`` (given alive the rate
    is Gamma(r + x, alpha + T)). The
    fit uses a random sample of at most ``bgnbd_max_customers`` customers: the four population
    parameters do not need a million rows, and the fit then takes seconds.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the
       easy way: An alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.
    """
    table = churn_features(con, as_of, settings=settings, categories=categories,
                           top_category=top_category, median=median)
    if sort:
        table = table.order_by("customer_id")  # the backend sorts faster than pandas
    frame = table.to_pyarrow().to_pandas().set_index("customer_id")
    if p_alive and len(frame):
        summary = pd.DataFrame({"frequency": frame["frequency"], "recency": frame["bg_recency"] / 7,
                                "T": frame["bg_T"] / 7}, index=frame.index)
        columns = bgnbd_columns(summary, as_of=as_of, horizon_days=horizon_days,
                                max_customers=bgnbd_max_customers, seed=seed)
        for name in columns.columns:  # the same index: no join needed
            frame[name] = columns[name].to_numpy()
    return frame


def bgnbd_columns(summary: pd.DataFrame, *, as_of: date, horizon_days: int = 90,
                  max_customers: int = 200_000, seed: int = 0) -> pd.DataFrame:
    """Return ``p_alive`` and ``bgnbd_p_no_order`` per customer (see :func:`feature_frame`).

    ``summary`` has ``frequency``, ``recency`` and ``T`` in weeks, as
    ``workbench.clv.clv_summary(con, as_of, unit="W")`` gives them (the same customer facts).
    """
    fit_on = summary
    if len(summary) > max_customers:
        # The customers with the smallest hashes of their id, in hash order: the same sample
        # and the same sums, whatever order the rows come in.
        key = f"{seed:016d}"[-16:]
        hashes = pd.util.hash_array(summary.index.to_numpy(), hash_key=key, categorize=False)
        pick = np.argpartition(hashes, max_customers - 1)[:max_customers]
        fit_on = summary.iloc[pick[np.argsort(hashes[pick], kind="stable")]]
    try:
        # check_data=False: on a short or small history P(alive) is rough, but it is one
        # feature among many and the trees weigh it by what it predicts.
        with warnings.catch_warnings():
            # A fit that stops short of the optimum on a small store still ranks customers;
            # it is logged rather than shown on every dashboard load.
            warnings.simplefilter("ignore", WorkbenchWarning)
            model = BetaGeo(check_data=False).fit(fit_on)
    except (WorkbenchError, ValueError, FloatingPointError) as exc:
        warnings.warn(tr("churn.features.no_p_alive", as_of=as_of.isoformat(), error=str(exc)),
                      WorkbenchWarning, stacklevel=2)
        empty = np.full(len(summary), np.nan)
        return pd.DataFrame({"p_alive": empty, "bgnbd_p_no_order": empty},
                            index=summary.index.rename("customer_id"))
    if not model.converged_:
        _log.info("BG/NBD as of %s did not converge: %s", as_of, model.convergence_message_)
    alive = model.p_alive(summary).to_numpy(float)
    # P(X(T, T + t) = 0) of the BG/NBD model, t in weeks.
    none = model.prob_purchases(0, horizon_days / 7.0, summary).to_numpy(float)
    return pd.DataFrame({"p_alive": alive, "bgnbd_p_no_order": none},
                        index=summary.index.rename("customer_id"))
