"""Korean leftovers of issue 15 (point 5): parameter errors, the stale-data note, commands.

- a notebook parameter that is wrong is reported in the parameters' language (``language="ko"``)
  even when the process runs in English;
- the note "the data ends before this week" writes its dates as every page does
  (:func:`workbench.i18n.format_date`: ``2026년 11월 15일 (일)``), not as ISO dates;
- a command quoted in a page's message (``'workbench refresh'``) is shown as code, so a Korean
  sentence has no English words in its running text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest

from workbench.errors import ParameterError
from workbench.i18n import format_date, get_language, tr
from workbench.params import NotebookParams, param
from workbench.reporting import RfmParams
from workbench.ui.common import message_html
from workbench.ui.page import Page

_HANGUL = re.compile(r"[가-힣]")


@dataclass(frozen=True, slots=True)
class _Params(NotebookParams):
    bins: int = param(5, low=2, high=10)


@pytest.mark.parametrize(("fields", "key", "expected"), [
    ({"mode": "dashbord"}, "params.choices", "'mode'는"),
    ({"as_of": "2026/11/16"}, "params.date", "'as_of'는"),
])
def test_a_bad_notebook_parameter_is_worded_in_the_parameters_language(fields, key, expected):
    assert get_language() == "en"
    with pytest.raises(ParameterError) as ko:
        RfmParams(language="ko", **fields)
    with pytest.raises(ParameterError) as en:
        RfmParams(language="en", **fields)
    with pytest.raises(ParameterError) as default:
        RfmParams(**fields)
    assert str(ko.value).startswith(f"RfmParams: {expected}")  # particle chosen, not 은(는)
    assert _HANGUL.search(str(ko.value)) and "must be" not in str(ko.value)
    assert not _HANGUL.search(str(en.value)) and str(en.value) == str(default.value)
    assert get_language() == "en"  # the process's language is left as it was


def test_range_and_type_errors_in_korean():
    with pytest.raises(ParameterError, match=re.escape("_Params: 'bins'는 2에서 10 사이여야")):
        _Params(language="ko", bins=99)
    with pytest.raises(ParameterError, match=re.escape(
            "'bins'는 {}여야 합니다".format(tr("params.kind.int", language="ko")))):
        _Params(language="ko", bins="다섯")
    with pytest.raises(ParameterError, match="'language' must be one of"):
        _Params(language="kr")  # an unknown language cannot be the wording's


class _NotePage(Page):
    def run(self):
        return None


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_stale_data_note_writes_dates_as_the_pages_do(sample_store, monkeypatch, language):
    # A dashboard opened three weeks after the sample's last order (Sun 15 Nov 2026).
    monkeypatch.setattr("workbench.ui.page.this_week", lambda settings=None: date(2026, 12, 7))
    page = _NotePage(_Params(store=str(sample_store), language=language, mode="dashboard"))
    assert page.params.as_of == date(2026, 11, 16)
    last, as_of = date(2026, 11, 15), date(2026, 11, 16)
    assert page.note == tr("ui.stale_default", language=language,
                           data_until=format_date(last, language=language),
                           as_of=format_date(as_of, language=language))
    assert "2026-11-1" not in page.note
    if language == "ko":
        assert "2026년 11월 15일 (일)" in page.note and "2026년 11월 16일 (월)" in page.note
    else:
        assert "Sun 15 Nov 2026" in page.note


def test_commands_in_messages_are_code_not_words():
    text = tr("churn.message.no_model", language="ko", definition="90일")
    shown = message_html(text)
    commands = re.findall(r"<code class='wb-command'>([^<]*)</code>", shown)
    assert commands == ["workbench refresh", "workbench churn train", "make demo"]
    # outside the code elements the Korean sentence has no Latin letters left
    prose = re.sub(r"<code[^>]*>[^<]*</code>|<[^>]+>", " ", shown)
    assert not re.search(r"[A-Za-z]{2,}", prose.replace("&#x27;", "'"))
    # a quoted word that is not a command stays text, escaped
    assert message_html("'a<b' 'workbench'").count("<code") == 0
    assert "&lt;" in message_html("'a<b'")
