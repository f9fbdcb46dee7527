"""Statistics more than one analysis uses: interval estimates for a proportion.

References
----------
.. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
   inference. Journal of the American Statistical Association 22(158), 209-212.
.. [2] Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion:
   comparison of seven methods. Statistics in Medicine 17(8), 857-872 (method 3).
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["wilson_interval"]


def wilson_interval(successes: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Return Wilson's score interval for ``successes`` in ``n`` trials (``n > 0``) [1]_ [2]_.

    ``(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)`` with ``p = successes/n`` and
    ``z`` the normal quantile at ``1 - alpha/2``, clipped to [0, 1] against rounding; equals
    statsmodels ``proportion_confint(..., method="wilson")``.

    Examples
    --------
    >>> [round(x, 4) for x in wilson_interval(12, 40)]
    [0.1807, 0.4543]
    """
    z = NormalDist().inv_cdf(1 - alpha / 2)
    p, z2 = successes / n, z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(centre - half, 0.0), min(centre + half, 1.0)
