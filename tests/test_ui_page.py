"""The page template: errors reach the manager as a sentence in the page's language."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.data import write_store
from workbench.errors import ParameterError
from workbench.i18n import get_language, set_language, tr, using_language
from workbench.params import NotebookParams, param
from workbench.ui.page import Page, error_text


@dataclass(frozen=True, slots=True)
class _Params(NotebookParams):
    bins: int = param(5, low=2, high=10)


class _FailingPage(Page):
    def run(self):
        # as a library function would: no language given, so the active one is used
        _Params(bins=99)


def test_errors_are_worded_in_the_pages_language_not_the_processes(tmp_path):
    store = tmp_path / "s.duckdb"
    with write_store(store):
        pass
    set_language("en")
    page = _FailingPage(_Params(store=str(store), language="ko", mode="dashboard",
                                as_of="2026-11-16"))
    page.compute()
    assert page.result is None
    assert page.error.startswith(
        "이 화면을 계산하지 못했습니다: _Params: 'bins'은(는) 2에서 10 사이")
    assert get_language() == "en"  # the process language is back


def test_unexpected_errors_show_their_kind():
    assert error_text(KeyError("x"), "en").startswith("This view could not be computed (KeyError")
    with using_language("ko"):
        known = ParameterError(tr("params.at_least", owner="P", name="n", low="1", got="0"))
    assert error_text(known, "ko") == (
        "이 화면을 계산하지 못했습니다: P: 'n'은(는) 1 이상이어야 합니다. 받은 값: 0.")
