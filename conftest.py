"""Hooks for every test, the doctests in workbench/ included."""

from __future__ import annotations

import pytest

from workbench import i18n


@pytest.fixture(autouse=True)
def _fresh_message_language():
    """Start every test with no language chosen, so none leaks from the test before."""
    i18n._state.update(language=None, default=None)
    yield
    i18n._state.update(language=None, default=None)
