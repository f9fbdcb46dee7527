"""Campaign return on investment measured against the holdout.

The holdout answers "what would these customers have done without the message?", so every
figure here is *incremental*: the treated arm minus what the holdout predicts for it.

* incremental conversions ``= n_t (p_t - p_h)`` and incremental revenue
  ``= n_t (rev_t - rev_h)``, with ``rev`` the mean revenue per customer in the attribution
  window, each with the interval of the underlying difference (z / Welch) scaled by ``n_t``;
* cost ``= messages sent x cost per message + campaign coupon discounts actually redeemed``;
* incremental margin ``= margin x base - cost`` with the margin base
  ``base = n_t (gross_t - gross_h)``, where ``gross`` is revenue
  per customer *before the campaign's own coupons*. The coupons are taken out of revenue and
  counted once, as a cost; otherwise the discount on orders customers would have placed anyway
  (the real price of a coupon) would be hidden inside a smaller revenue figure and also not
  scaled correctly by the margin. The base is rounded to the currency's minor unit (whole won)
  before the margin is taken, so the three numbers a page shows (base, cost, margin) reproduce
  the margin exactly; the base is therefore a field of its own (``margin_base``), not the
  net incremental revenue next to it;
* ROI ``= incremental margin / cost``; its interval follows from the revenue interval because
  the cost is known exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import pandas as pd

from workbench.abtest._checks import check_non_negative
from workbench.abtest.frequentist import compare_proportions, welch_ttest
from workbench.abtest.stats import AbStatus, MeanStats, ProportionStats
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["RoiResult", "campaign_roi"]


@dataclass(frozen=True, slots=True)
class RoiResult:
    """Incremental outcome and cost of a campaign arm against the holdout."""

    variant: str
    holdout: str
    n_treated: int
    n_holdout: int
    messages_sent: int
    message_cost: float
    coupon_cost: float
    cost: float
    incremental_conversions: float
    incremental_conversions_ci: tuple[float, float]
    incremental_revenue: float
    incremental_revenue_ci: tuple[float, float]
    incremental_margin: float
    incremental_margin_ci: tuple[float, float]
    roi: float
    roi_ci: tuple[float, float]
    margin_rate: float
    status: AbStatus = AbStatus.OK
    margin_base: float = math.nan

    def to_dict(self) -> dict[str, object]:
        """Return flat fields (intervals as ``*_low`` / ``*_high``)."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                stem = f.name.removesuffix("_ci")
                out[f"{stem}_low"], out[f"{stem}_high"] = value
            else:
                out[f.name] = str(value) if f.name == "status" else value
        return out

    def to_frame(self) -> pd.DataFrame:
        """Return one tidy row."""
        return pd.DataFrame([self.to_dict()])


def campaign_roi(
    treated_conversions: ProportionStats,
    holdout_conversions: ProportionStats,
    treated_revenue: MeanStats,
    holdout_revenue: MeanStats,
    treated_gross: MeanStats,
    holdout_gross: MeanStats,
    *,
    messages_sent: int,
    cost_per_message: float,
    coupon_cost: float,
    margin_rate: float,
    alpha: float = 0.05,
    names: tuple[str, str] = ("holdout", "B"),
    money_digits: int = 0,
) -> RoiResult:
    """Return incremental conversions, revenue, margin and ROI of one arm against the holdout.

    Parameters
    ----------
    treated_conversions, holdout_conversions
        Customers and converters per arm in the attribution window.
    treated_revenue, holdout_revenue
        Net revenue per customer (sums and sums of squares).
    treated_gross, holdout_gross
        Net revenue plus the campaign's own coupon discounts, per customer.
    messages_sent, cost_per_message
        Messages actually sent to the arm and the price of one.
    coupon_cost
        Campaign coupon discounts redeemed by the arm in the window.
    margin_rate
        Share of revenue kept as gross margin (settings ``gross_margin``).
    money_digits
        Minor-unit digits of the currency (KRW: 0); the margin base is rounded to them.

    Examples
    --------
    >>> r = campaign_roi(ProportionStats(9000, 630), ProportionStats(1000, 60),
    ...                  MeanStats(9000, 9000 * 3500.0, 9000 * 3500.0**2 * 20),
    ...                  MeanStats(1000, 1000 * 3000.0, 1000 * 3000.0**2 * 20),
    ...                  MeanStats(9000, 9000 * 3600.0, 9000 * 3600.0**2 * 20),
    ...                  MeanStats(1000, 1000 * 3000.0, 1000 * 3000.0**2 * 20),
    ...                  messages_sent=9000, cost_per_message=10.0, coupon_cost=900_000.0,
    ...                  margin_rate=0.3)
    >>> r.cost, round(r.incremental_revenue), round(r.roi, 3)
    (990000.0, 4500000, 0.636)
    """
    if not 0 < margin_rate <= 1:
        raise ParameterError(tr("abtest.error.margin_rate", func="campaign_roi",
                                got=repr(margin_rate)))
    check_non_negative("campaign_roi", messages_sent=messages_sent,
                       cost_per_message=cost_per_message, coupon_cost=coupon_cost)
    n_t = treated_conversions.n
    conv = compare_proportions(holdout_conversions, treated_conversions, alpha=alpha,
                               names=names, exact=False)
    rev = welch_ttest(holdout_revenue, treated_revenue, alpha=alpha, names=names)
    gross = welch_ttest(holdout_gross, treated_gross, alpha=alpha, names=names)
    message_cost = float(messages_sent) * float(cost_per_message)
    cost = message_cost + float(coupon_cost)

    def scaled(x: float) -> float:
        return n_t * x if math.isfinite(x) else math.nan

    base = scaled(gross.effect)
    base = round(base, money_digits) if math.isfinite(base) else math.nan
    margin = base * margin_rate - cost
    margin_ci = (scaled(gross.ci_low) * margin_rate - cost,
                 scaled(gross.ci_high) * margin_rate - cost)
    roi = margin / cost if cost > 0 else math.nan
    roi_ci = (margin_ci[0] / cost, margin_ci[1] / cost) if cost > 0 else (math.nan, math.nan)
    status = next((s for s in (conv.status, rev.status) if s != AbStatus.OK), AbStatus.OK)
    return RoiResult(
        variant=names[1], holdout=names[0], n_treated=n_t, n_holdout=holdout_conversions.n,
        messages_sent=int(messages_sent), message_cost=message_cost,
        coupon_cost=float(coupon_cost), cost=cost,
        incremental_conversions=scaled(conv.effect),
        incremental_conversions_ci=(scaled(conv.ci_low), scaled(conv.ci_high)),
        incremental_revenue=scaled(rev.effect),
        incremental_revenue_ci=(scaled(rev.ci_low), scaled(rev.ci_high)),
        incremental_margin=margin, incremental_margin_ci=margin_ci, roi=roi, roi_ci=roi_ci,
        margin_rate=float(margin_rate), status=status, margin_base=base,
    )
