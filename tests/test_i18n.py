import re
import string
from datetime import date

import numpy as np
import pandas as pd
import pytest

from workbench.i18n import _catalog, format_date, format_money, format_percent, format_value, tr


def test_every_message_has_english_and_korean_with_the_same_fields():
    fmt = string.Formatter()
    for key, entry in _catalog().items():
        assert set(entry) >= {"en", "ko"}, key
        fields = {f for lang in ("en", "ko") for _, f, _, _ in fmt.parse(entry[lang]) if f}
        en = {f for _, f, _, _ in fmt.parse(entry["en"]) if f}
        ko = {f for _, f, _, _ in fmt.parse(entry["ko"]) if f}
        assert en == ko == fields, key


def test_formats():
    assert format_money(1234567, "KRW", language="en") == "₩1,234,567"
    assert format_money(12.5, "USD", language="en") == "$12.50"
    assert format_date(date(2026, 11, 16), language="en") == "Mon 16 Nov 2026"
    assert format_date(date(2026, 11, 16), language="ko") == "2026-11-16 (월)"
    assert re.search("저장소", tr("cli.store_missing", language="ko", path="p"))


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT, np.float32("nan")],
                         ids=["none", "nan", "np-nan", "pd-na", "nat", "float32-nan"])
def test_missing_values_show_as_a_dash(missing):
    assert format_value(missing, "money") == "–"
    assert format_value(missing, "share") == "–"
    assert format_percent(missing) == "–"


def test_numbers_are_not_taken_for_missing():
    assert format_value(np.int64(0), "count", language="en") == "0"
    assert format_percent(np.float64(0.25), language="en") == "25.0%"
