"""Hooks for every test, the doctests in workbench/ included."""

from __future__ import annotations

import importlib.util

import pytest

from tests._xdist import make_scheduler
from workbench import i18n

#: Modules of optional extras, collected for their doctests only where the extra is installed.
collect_ignore = ([] if importlib.util.find_spec("implicit")
                  else ["workbench/recommend/als.py"])


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unused without the plugin
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """With ``-n 2 --dist loadgroup``, keep what shares a fixture together (tests/_xdist.py)."""
    return make_scheduler(config, log) if config.getvalue("dist") == "loadgroup" else None


@pytest.fixture(autouse=True)
def _fresh_message_language():
    """Start every test with no language chosen, so none leaks from the test before."""
    i18n._state.update(language=None, default=None)
    yield
    i18n._state.update(language=None, default=None)
