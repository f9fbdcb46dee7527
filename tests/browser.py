"""Opening Voila pages in browser tests, with the README's known issue handled as users do.

Voila 0.5.13 now and then never finishes a page (the kernel sits idle; README, "Known issue"),
on the order of one page load in ten or twenty on this machine. The workaround the README gives
users is to open the page again in a new tab; :func:`open_dashboard` does the same, with a
warning in the test report, so a rare hang of a third-party server does not fail a test about
our pages, while a page of ours that never renders still fails after every attempt.
"""

from __future__ import annotations

import warnings
from typing import Any


def open_dashboard(page: Any, url: str, ready: str, *, attempts: int = 3,
                   timeout: float = 90_000) -> Any:
    """Navigate to ``url`` until ``ready`` (a CSS selector) appears; return the page that did.

    Each retry uses a new tab of the same browser context (same viewport and download settings).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(1, attempts + 1):
        try:
            page.goto(url, timeout=timeout)
            page.wait_for_selector(ready, timeout=timeout)
            return page
        except PlaywrightTimeout:
            if attempt == attempts:
                raise
            warnings.warn(f"{url} did not finish loading within {timeout / 1000:.0f} s "
                          f"(attempt {attempt} of {attempts}; Voila known issue in the README): "
                          "opening it again in a new tab", stacklevel=2)
            page = page.context.new_page()
    raise AssertionError("unreachable")
