"""Uplift targeting: whom a message moves, learned from past campaigns' holdouts (issue 17).

Past campaigns' randomized assignments (:func:`training_frame`: point-in-time features, the
campaign's channel and coupon, a net order within 14 days) train a meta-learner
(:class:`UpliftModel`, T- or X-learner on gradient boosting); :func:`evaluate_uplift` ranks the
latest campaigns' customers with it and compares the Qini coefficient and AUUC with targeting by
churn risk and with random targeting. ``workbench refresh`` writes each customer's
``uplift_score`` (:data:`SNAPSHOT_PART`) and the audience condition ``likely_to_respond``
selects on it::

    from workbench.uplift import evaluate_uplift
    evaluate_uplift(con, as_of=date(2026, 11, 16)).to_frame()
"""

from workbench.uplift.evaluate import (
    EVALUATION_COLUMNS,
    UpliftEvaluation,
    auuc,
    evaluate_uplift,
    qini_coefficient,
    qini_curve,
    uplift_curve,
    uplift_table,
)
from workbench.uplift.frame import (
    CAMPAIGN_FEATURES,
    FEATURES,
    campaign_coupons,
    scoring_frame,
    training_frame,
)
from workbench.uplift.model import LEARNERS, UpliftModel
from workbench.uplift.part import SNAPSHOT_PART, uplift_part, uplift_scores

__all__ = [
    "CAMPAIGN_FEATURES", "EVALUATION_COLUMNS", "FEATURES", "LEARNERS", "SNAPSHOT_PART",
    "UpliftEvaluation", "UpliftModel", "auuc", "campaign_coupons", "evaluate_uplift",
    "qini_coefficient", "qini_curve", "scoring_frame", "training_frame", "uplift_curve",
    "uplift_part", "uplift_scores", "uplift_table",
]
