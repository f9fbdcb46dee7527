"""A synthetic Korean online shop with known ground truth, deterministic for a seed.

:func:`generate_sample` yields every table of the data contract (customers, orders, order_items,
products, events, campaigns, assignments, messages) plus ground-truth tables that analyses are
validated against; :func:`write_sample` writes them into the store in one all-or-nothing step.

What is in it
    Customers with consent flags and Korean names, phones and e-mails; orders from a
    buy-till-you-die process (BG/NBD [1]_ for most buyers, replenishment cycles of consumables
    for the others) with gamma-gamma spend [2]_; a catalogue of about 200 products; web events
    that agree with the orders and fade after a customer drops out; two years of CRM campaigns
    (about two a month on SMS, LMS, e-mail, app push and KakaoTalk FriendTalk, each with a
    10% holdout, some with coupons; the A/B tests CMP001 and CMP002 among them) whose effects
    differ between customers, use coupons on orders that would have come anyway and pull later
    orders forward; 5% of customers are a global holdout that never gets a message.

Ground truth
    ``truth_customers`` (each customer's latent rate, dropout probability, dropout time, mean
    order value, true 90-day churn probability and expected orders, responsiveness and true
    uplift of a standard message), ``truth_campaigns`` (each arm's expected conversion with and
    without the message, realised coupon costs and pulled-forward orders) and
    ``truth_parameters`` (the population parameters, e.g. BG/NBD ``r, alpha, a, b`` per day,
    and the global holdout's share and true effect).

Determinism
    Customers are generated in blocks of :data:`BLOCK_SIZE` (fixed: changing it would change
    the data); block ``k`` draws only from ``SeedSequence(seed, spawn_key=(1, k))`` (its
    member-export columns from ``spawn_key=(2, k)``, its customers' responsiveness and
    KakaoTalk friendship from ``spawn_key=(3, k)``), the catalogue from ``spawn_key=(0,)`` and
    the campaign programme from ``spawn_key=(4,)``, so the same seed and arguments give
    identical tables, and a full block is the same in any sample that contains it (below ten
    million customers, where ids widen). Nothing reads the clock: ``end`` is given, and every
    activity happens before midnight of ``end`` in the shop's zone.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the easy
   way: An alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.
.. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV: Using iso-value curves
   for customer base analysis. Journal of Marketing Research 42(4), 415-430.

Examples
--------
>>> import datetime
>>> tables = {}
>>> for name, chunk in generate_sample(200, seed=1, end=datetime.date(2026, 11, 16)):
...     tables[name] = tables.get(name, 0) + chunk.num_rows
>>> tables["customers"], tables["products"], tables["campaigns"]
(200, 200, 44)
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa

from workbench.data._sample_base import (
    BLOCK_SIZE,
    DAY_US,
    MODEL,
    ShopModel,
    ids,
    timestamps,
    whole_seconds,
)
from workbench.data._sample_campaigns import (
    COUPON_USE,
    GLOBAL_HOLDOUT_DAYS,
    GLOBAL_HOLDOUT_SHARE,
    PULL_FORWARD_DAYS,
    PULL_FORWARD_SHARE,
    RESPONSIVENESS_SIGMA,
    STANDARD_UPLIFT,
    TRUTH_SUMS,
    Campaign,
    campaigns_table,
    draw_traits,
    no_order_prob,
    orders_before,
    plan_campaigns,
    run_campaign,
    standard_uplift,
    truth_campaigns_table,
)
from workbench.data._sample_catalog import Catalog, build_catalog
from workbench.data._sample_events import build_events
from workbench.data._sample_orders import build_orders
from workbench.data._sample_people import (
    PROCESS_NAMES,
    customers_table,
    draw_history,
    draw_people,
    member_columns,
    truth_outlook,
)
from workbench.data._sample_programme import plan_programme
from workbench.data.store import StoreWriter, store_path, write_store
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.settings import Settings, load_settings

__all__ = ["BLOCK_SIZE", "SampleSummary", "generate_sample", "write_sample"]

Progress = Callable[[str, int, int], None]
#: Order ids keep the block in their first digits: at most 999 blocks.
MAX_CUSTOMERS = 999 * BLOCK_SIZE


@dataclass(frozen=True, slots=True)
class SampleSummary:
    """What :func:`write_sample` wrote: rows per table, seconds taken and the store's path."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    path: str = ""

    def summary(self) -> str:
        """Describe the sample in one paragraph (English or Korean, see ``workbench.i18n``)."""
        r = self.rows
        return tr("sample.summary", path=self.path, seconds=f"{self.seconds:,.1f}",
                  customers=f"{r.get('customers', 0):,}", orders=f"{r.get('orders', 0):,}",
                  items=f"{r.get('order_items', 0):,}", events=f"{r.get('events', 0):,}",
                  campaigns=f"{r.get('campaigns', 0):,}")


@dataclass(frozen=True, slots=True)
class _Plan:
    seed: int
    customers: int
    horizon: float  # days of history
    first_day: dt.date
    end: dt.date
    start_us: int  # wall-clock microseconds of midnight of the first day
    timezone: str
    id_width: int
    catalog: Catalog
    campaigns: tuple[Campaign, ...]
    model: ShopModel = MODEL
    events: bool = True

    @property
    def blocks(self) -> int:
        return -(-self.customers // BLOCK_SIZE)


def _validate(customers: int, seed: int, end: dt.date, history_days: int, timezone: str) -> None:
    if isinstance(customers, bool) or not isinstance(customers, int | np.integer) or not (
            1 <= customers <= MAX_CUSTOMERS):
        raise ParameterError(tr("sample.bad_customers", value=repr(customers),
                                maximum=f"{MAX_CUSTOMERS:,}"))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(tr("sample.bad_seed", value=repr(seed)))
    if not isinstance(end, dt.date) or isinstance(end, dt.datetime) or not (
            dt.date(1901, 1, 1) <= end <= dt.date(2200, 12, 31)):
        raise ParameterError(tr("sample.bad_end", value=repr(end)))
    if isinstance(history_days, bool) or not isinstance(history_days, int | np.integer) or (
            history_days < 30):
        raise ParameterError(tr("sample.bad_history", value=repr(history_days)))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ParameterError(tr("sample.bad_timezone", value=repr(timezone))) from None


def _plan(customers: int, seed: int, end: dt.date, history_days: int, timezone: str,
          events: bool = True) -> _Plan:
    first_day = end - dt.timedelta(days=history_days)
    start_us = (first_day - dt.date(1970, 1, 1)).days * DAY_US
    catalog = build_catalog(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,))))
    return _Plan(seed=int(seed), customers=int(customers), horizon=float(history_days),
                 first_day=first_day, end=end, start_us=start_us, timezone=timezone,
                 id_width=max(7, len(str(customers))), catalog=catalog,
                 campaigns=_campaigns(seed, float(history_days), first_day), events=events)


def _campaigns(seed: int, horizon: float, first_day: dt.date) -> tuple[Campaign, ...]:
    """Return the two A/B campaigns and the programme around them, in the order of sending."""
    tests = plan_campaigns(horizon, first_day)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(4,)))
    programme = plan_programme(rng, horizon, first_day, tests)
    return tuple(sorted((*tests, *programme), key=lambda c: c.start))


def _block(plan: _Plan, block: int) -> tuple[list[tuple[str, pa.Table]], list[np.ndarray],
                                            np.ndarray]:
    """Generate every table of one block of customers from the block's own generator.

    Returns the tables, each campaign's per-arm truth sums and the global holdout's sums.
    """
    rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(1, block)))
    size = min(BLOCK_SIZE, plan.customers - block * BLOCK_SIZE)
    numbers = block * BLOCK_SIZE + np.arange(1, size + 1)
    h, model = plan.horizon, plan.model
    common = {"start_us": plan.start_us, "timezone": plan.timezone}
    people = draw_people(rng, numbers, h, model, plan.catalog)
    history = draw_history(rng, people, h, model)
    customer_ids = ids("C", numbers, plan.id_width)
    # The campaigns' latent traits draw from a stream of their own (spawn_key=(3, block)).
    draw_traits(np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(3, block))),
                people, customer_ids)
    crm_mass = np.zeros(size)
    sends = [run_campaign(rng, c, people, history, horizon=h, renewal_shape=model.replenish_shape,
                          customer_ids=customer_ids, crm_mass=crm_mass, **common)
             for c in plan.campaigns]
    orders = build_orders(rng, people, history, sends, plan.campaigns, plan.catalog, model=model,
                          horizon=h, block=block, customer_ids=customer_ids, **common)
    if plan.events:
        events = build_events(rng, people, history, orders, [s.clicks for s in sends],
                              plan.catalog, model=model, horizon=h, block=block,
                              customer_ids=customer_ids, id_width=plan.id_width, **common)
    else:
        events = _no_events(plan.timezone)
    churn, expected = truth_outlook(rng, people, history, h, model)
    customers = customers_table(rng, people, end_day=(plan.end - dt.date(1970, 1, 1)).days,
                                id_width=plan.id_width, seed=plan.seed, **common)
    # The member-export columns (2026-12) draw from a stream of their own, so every table and
    # column that existed before keeps its values for the same seed.
    members_rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(2, block)))
    customers = member_columns(members_rng, people, customers, orders.table, events)
    buyer = people.buyer

    def ts(days: np.ndarray) -> pa.Array:
        us = plan.start_us + whole_seconds(days) * 1_000_000
        return timestamps(us, plan.timezone, mask=np.isnan(days))

    relative, absolute = standard_uplift(people, history, h, model.replenish_shape)
    truth = pa.table({
        "customer_id": customer_ids,
        "purchase_process": pa.array(PROCESS_NAMES[people.process], type=pa.string()),
        "first_order_at": ts(np.where(buyer, people.first, np.nan)),
        "purchase_rate": pa.array(people.rate, type=pa.float64()),
        "dropout_prob": pa.array(people.p, type=pa.float64(), from_pandas=True),
        "dropout_at": ts(history.dropout),
        "is_alive": pa.array(buyer & ~history.dropped),
        "mean_order_value": pa.array(np.where(buyer, model.gg_p / people.nu, np.nan),
                                     type=pa.float64(), from_pandas=True),
        "churn_prob_90d": pa.array(churn, type=pa.float64()),
        "expected_orders_90d": pa.array(expected, type=pa.float64()),
        "responsiveness": pa.array(people.responsiveness, type=pa.float64()),
        "true_relative_uplift": pa.array(relative, type=pa.float64()),
        "true_uplift": pa.array(absolute, type=pa.float64()),
        "global_holdout": pa.array(people.held_out),
    })
    tables = [("customers", customers), ("orders", orders.table),
              ("order_items", orders.items), ("events", events),
              ("assignments", pa.concat_tables([s.assignments for s in sends])),
              ("messages", pa.concat_tables([s.messages for s in sends])),
              ("truth_customers", truth)]
    return tables, [s.truth for s in sends], _holdout_sums(plan, people, history, crm_mass)


def _no_events(timezone: str) -> pa.Table:
    return pa.table({name: pa.array([], type=pa.timestamp("us", tz=timezone) if name == "ts"
                                     else pa.string())
                     for name in ("customer_id", "visitor_id", "ts", "session_id", "type",
                                  "product_id", "query")})


def _holdout_sums(plan: _Plan, people, history, crm_mass: np.ndarray) -> np.ndarray:
    """Sum the truth of the customers ``run_global_holdout`` compares at the end.

    Returns the count of customers outside the global holdout and their summed chance of
    ordering (any status) in the last :data:`GLOBAL_HOLDOUT_DAYS` days with the messages and
    without them. Customers alive at the
    period's start order with ``1 - p0`` untreated and ``1 - p0 exp(-m)`` treated (``m``: the
    extra-order intensity of their messages inside the period); those whose first order falls
    in it order for sure; the others never. Orders a pulled-forward order removed are ignored.
    """
    n = len(people.number)
    lo = plan.horizon - GLOBAL_HOLDOUT_DAYS
    who = np.arange(n)
    alive = people.buyer & (people.first < lo) & ~(history.dropped & (history.dropout < lo))
    last, _ = orders_before(history, n, who, lo)
    p0 = no_order_prob(people, who, alive, last, np.full(n, lo), np.full(n, GLOBAL_HOLDOUT_DAYS),
                       plan.model.replenish_shape)
    born = people.buyer & (people.first >= lo)
    untreated = np.where(alive, 1 - p0, born.astype(float))
    treated = np.where(alive, 1 - p0 * np.exp(-crm_mass), untreated)
    with np.errstate(invalid="ignore"):
        eligible = ~people.held_out & ~(people.signup >= lo)
    return np.array([eligible.sum(), treated[eligible].sum(), untreated[eligible].sum()])


def generate_sample(customers: int, *, seed: int = 42, end: dt.date, history_days: int = 730,
                    timezone: str = "Asia/Seoul", progress: Progress | None = None,
                    events: bool = True) -> Iterator[tuple[str, pa.Table]]:
    """Generate a synthetic shop, yielding ``(table_name, arrow_chunk)`` pairs.

    Parameters
    ----------
    customers
        Number of customers (members, keyed guests and sign-ups who never buy). The shop
        averages about ten orders per customer over two years, a few percent of them guest
        orders without a customer id.
    seed
        Random seed: the same seed and arguments give identical tables.
    end
        First day after the data (exclusive): everything happens before its midnight in
        ``timezone``.
    history_days
        Days of history before ``end`` (at least 30).
    timezone
        The shop's IANA time zone; timestamps are time-zone aware.
    progress
        Called as ``progress(stage, customers_done, customers_total)`` after every block.
    events
        ``False`` leaves ``events`` empty (and ``last_login_at`` null): about twice as fast,
        for simulations that need no web data. Every other table is the same.

    Returns
    -------
    Iterator[tuple[str, pyarrow.Table]]
        ``products`` and ``campaigns`` first, then per block of customers ``customers``,
        ``orders``, ``order_items``, ``events``, ``assignments``, ``messages`` and
        ``truth_customers``, and finally ``truth_campaigns`` and ``truth_parameters``. Columns
        and types follow :data:`workbench.data.schema.TABLES`.

    Raises
    ------
    ParameterError
        An argument is out of range.
    """
    _validate(customers, seed, end, history_days, timezone)
    plan = _plan(customers, seed, end, history_days, timezone, events=bool(events))
    yield "products", plan.catalog.table()
    yield "campaigns", campaigns_table(plan.campaigns, start_us=plan.start_us,
                                       horizon=plan.horizon, timezone=timezone)
    sums = [np.zeros((len(c.arms), TRUTH_SUMS)) for c in plan.campaigns]
    holdout = np.zeros(3)
    stage = tr("sample.stage")
    for block in range(plan.blocks):
        tables, block_sums, block_holdout = _block(plan, block)
        for total, part in zip(sums, block_sums, strict=True):
            total += part
        holdout += block_holdout
        yield from tables
        if progress is not None:
            progress(stage, min((block + 1) * BLOCK_SIZE, plan.customers), plan.customers)
    yield "truth_campaigns", truth_campaigns_table(plan.campaigns, sums)
    rows = [*plan.model.parameters(), *_campaign_parameters(holdout)]
    yield "truth_parameters", pa.table({
        "parameter": [r[0] for r in rows],
        "value": pa.array([float(r[1]) for r in rows], type=pa.float64()),
        "description": [r[2] for r in rows],
    })


def _campaign_parameters(holdout: np.ndarray) -> list[tuple[str, float, str]]:
    count, treated, untreated = holdout
    days = f"{GLOBAL_HOLDOUT_DAYS:g}"
    treated, untreated = (x / count if count else 0.0 for x in (treated, untreated))
    return [
        ("global_holdout_share", GLOBAL_HOLDOUT_SHARE,
         "customers in the global holdout (default salt): never messaged"),
        ("global_holdout_days", GLOBAL_HOLDOUT_DAYS,
         "days before the end over which the CRM arm's conversion truth is computed"),
        ("crm_customers", float(count),
         f"customers outside the global holdout signed up {days} days before the end"),
        ("crm_conversion", treated,
         f"their expected share ordering (any status) in the last {days} days"),
        ("crm_conversion_untreated", untreated, "the same had no campaign reached them"),
        ("crm_absolute_uplift", treated - untreated,
         "crm_conversion - crm_conversion_untreated (the global holdout's true effect)"),
        ("responsiveness_sigma", RESPONSIVENESS_SIGMA,
         "log-normal spread of each customer's responsiveness (mean 1)"),
        ("standard_uplift", STANDARD_UPLIFT,
         "relative uplift of the standard message behind truth_customers.true_uplift"),
        ("coupon_use", COUPON_USE,
         "chance that an order of a treated customer in a coupon arm's window uses it"),
        ("pull_forward_share", PULL_FORWARD_SHARE,
         "share of extra orders that remove a later own order"),
        ("pull_forward_days", PULL_FORWARD_DAYS,
         "days after a campaign's end in which that own order is removed"),
    ]


#: The table generate_sample yields last for every block of customers.
_LAST_OF_BLOCK = "truth_customers"


def _commit_block(writer: StoreWriter) -> None:
    """Commit what a block wrote and go on in a new transaction.

    DuckDB keeps the rows appended by an open transaction in memory (about 400 MB per block of
    50,000 customers: 9 GB for a million in one transaction). ``write_store(fresh=True)`` writes
    a private temporary file that replaces the store only when everything succeeded, so
    committing between blocks keeps the sample all-or-nothing while bounding memory.
    """
    writer.con.execute("COMMIT")
    writer.con.execute("BEGIN TRANSACTION")


def write_sample(path: str | os.PathLike[str] | None, customers: int, *, seed: int = 42,
                 end: dt.date, settings: Settings | None = None,
                 progress: Progress | None = None, events: bool = True
                 ) -> SampleSummary:
    """Write a synthetic shop into the store, replacing everything in it.

    The store is written as a new file and swapped in only when everything succeeded
    (:func:`workbench.data.write_store` with ``fresh=True``): a failure or an interrupt leaves
    the old store as it was.

    Parameters
    ----------
    path
        The DuckDB file (``None``: the ``store`` setting).
    customers, seed, end, progress, events
        See :func:`generate_sample`.
    settings
        Settings (time zone); default: ``workbench.toml``.

    Returns
    -------
    SampleSummary
        Rows written per table, seconds taken and the store's path.

    Examples
    --------
    >>> import datetime, pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "shop.duckdb"
    >>> result = write_sample(target, 300, seed=3, end=datetime.date(2026, 11, 16))
    >>> result.rows["customers"]
    300
    """
    settings = settings or load_settings()
    location = store_path(path, settings)
    started = time.perf_counter()
    rows: dict[str, int] = {}
    source = f"sample customers={customers} seed={seed} end={end}"
    with write_store(location, settings=settings, fresh=True) as writer:
        for name, chunk in generate_sample(customers, seed=seed, end=end,
                                           timezone=settings.timezone, progress=progress,
                                           events=events):
            rows[name] = rows.get(name, 0) + writer.write(name, chunk)
            if name == _LAST_OF_BLOCK:
                _commit_block(writer)
        for name, count in rows.items():
            writer.log_load(name, source=source, mapping=None, mode="replace", rows_in=count,
                            rows_written=count, fingerprint=source)
    return SampleSummary(rows=rows, seconds=time.perf_counter() - started, path=str(location))
