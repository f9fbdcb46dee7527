"""Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma models, holdout validation.

Fit a purchase model on a customer summary, then predict per customer::

    from workbench.clv import BetaGeo, GammaGamma, clv_summary, customer_value
    summary = clv_summary(con, as_of)          # frequency, recency, T, monetary_value (weeks)
    model = BetaGeo().fit(summary)
    model.p_alive(summary)                     # pd.Series indexed by customer_id
    model.expected_purchases(13, summary)      # next 13 weeks
    spend = GammaGamma().fit(summary).expected_spend(summary)
    customer_value(model, summary, spend, margin=0.3)   # 12-month discounted margin

The report (:func:`run_clv`) adds value bands, value by RFM segment and a holdout check.
Predictions a model refuses for thin data raise :class:`TooLittleDataError` (one type for the
condition across the package; ``run_clv`` returns it as a status instead).
"""

from workbench.clv.analysis import (
    PART_COLUMNS,
    ClvParams,
    ClvResult,
    clv_part,
    clv_predictions,
    run_clv,
)
from workbench.clv.bgnbd import BetaGeo
from workbench.clv.channels import (
    ChannelValue,
    channel_label,
    channel_value,
    clv_by_channel,
    ratio_text,
)
from workbench.clv.covariates import BetaGeoCovariates, GammaGammaCovariates
from workbench.clv.gamma_gamma import GammaGamma
from workbench.clv.intervals import clv_intervals
from workbench.clv.pareto_nbd import ParetoNBD
from workbench.clv.summary import SUMMARY_COLUMNS, clv_summary
from workbench.clv.validation import (
    by_frequency,
    calibration_holdout,
    compare_models,
    tracking_data,
)
from workbench.clv.value import customer_value
from workbench.errors import TooLittleDataError

__all__ = [
    "PART_COLUMNS",
    "SUMMARY_COLUMNS",
    "BetaGeo",
    "BetaGeoCovariates",
    "ChannelValue",
    "ClvParams",
    "ClvResult",
    "GammaGamma",
    "GammaGammaCovariates",
    "ParetoNBD",
    "TooLittleDataError",
    "by_frequency",
    "calibration_holdout",
    "clv_intervals",
    "channel_label",
    "channel_value",
    "clv_by_channel",
    "clv_part",
    "clv_predictions",
    "clv_summary",
    "compare_models",
    "customer_value",
    "ratio_text",
    "run_clv",
    "tracking_data",
]
