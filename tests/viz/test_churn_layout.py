"""Churn figures leave room for their texts (issue 15, 7: the scatter's axis title and title).

The browser check (tests/test_korean_browser.py) measures the drawn texts; this checks, without
a browser, the layout that gives them room: the value axis title on two short lines in a
taller plot, and a wrapped chart title pushed above the definition line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.viz.churn import risk_distribution, risk_value_scatter
from workbench.viz.style import finish_figure


def _customers(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    risk = rng.uniform(0, 1, n)
    value = rng.gamma(1.5, 200_000, n)
    return pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(n)], "churn_risk": risk,
                         "value": value, "value_at_risk": risk * value,
                         "risk_band": np.where(risk > .9, "high",
                                               np.where(risk > .7, "medium", "low"))})


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_value_axis_title_is_two_short_lines_in_a_taller_plot(language):
    fig = risk_value_scatter(_customers(), value_source="clv_if_retained", language=language)
    lines = fig.layout.yaxis.title.text.split("<br>")
    assert len(lines) == 2 and lines[1].startswith("(") and lines[1].endswith(")")
    assert "CLV" in lines[1] and ("KRW" if language == "en" else "원") in lines[1]
    plain = finish_figure(risk_distribution(_customers(), language=language), "t")
    assert fig.layout.height > plain.layout.height


def test_a_wrapped_title_gets_a_line_of_margin_above_the_definition():
    one = risk_distribution(_customers(), definition="d", language="ko")  # short: one line
    two = risk_distribution(_customers(), definition="d", language="en")
    assert "<br>" not in one.layout.title.text and "<br>" in two.layout.title.text
    assert two.layout.margin.t == one.layout.margin.t + 20
    assert two.layout.title.yref == "container" and two.layout.title.yanchor == "top"
