"""Fill the page cache after a refresh, so every dashboard opens and answers its form at once.

For each analysis page and each language, :func:`warm` builds the page as a dashboard builds it
(the same default date, the same settings), computes its result and the result of every value
its form offers beside the defaults (:meth:`workbench.ui.Page.variants`: the CLV horizons and
models, the churn band rules and horizons, the cohort level, the overview period, the A/B
corrections and campaigns), and keeps each in the store's page cache
(:mod:`workbench.ui.cache`). ``workbench refresh`` and ``workbench report weekly`` call it;
``workbench refresh --no-warm`` skips it.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workbench.data.store import store_path
from workbench.i18n import tr
from workbench.reporting.params import params_for
from workbench.settings import LANGUAGES, Settings, load_settings
from workbench.ui import cache

__all__ = ["PAGES", "WarmReport", "warm"]

log = logging.getLogger(__name__)

#: Notebook -> (module in workbench.ui, page class) of the pages whose results are kept. The
#: audience builder is not among them: its result follows its form, not its parameters.
PAGES: dict[str, tuple[str, str]] = {
    "overview": ("overview", "OverviewPage"),
    "rfm": ("rfm", "RfmPage"),
    "cohorts": ("cohorts", "CohortPage"),
    "products": ("products", "ProductsPage"),
    "clv": ("clv", "ClvPage"),
    "churn": ("churn", "ChurnPage"),
    "abtest": ("abtest", "AbTestPage"),
    "campaigns": ("campaigns", "CampaignsPage"),
}


@dataclass(frozen=True, slots=True)
class WarmReport:
    """What :func:`warm` kept: results written, pages that failed, seconds taken."""

    results: int
    failed: tuple[str, ...]
    seconds: float

    def summary(self, language: str | None = None) -> str:
        """One sentence for people."""
        if not self.results and not self.failed:
            return tr("cache.warm_none", language=language)
        return tr("cache.warm_done", language=language, results=self.results,
                  seconds=f"{self.seconds:.1f}")


def warm(store: str | None = None, *, settings: Settings | None = None,
         languages: Sequence[str] = LANGUAGES, notebooks: Sequence[str] | None = None,
         progress: Callable[[str, int, int], None] | None = None) -> WarmReport:
    """Compute and keep the results the dashboards show by default and on a form change.

    Parameters
    ----------
    store
        The store file (default: the settings' store). A URL store has no cache: nothing is
        done.
    settings
        Settings the dashboards use (default: ``workbench.toml``).
    languages
        Languages to keep results in (default: English and Korean).
    notebooks
        Pages to warm (default: :data:`PAGES`).
    progress
        Called with ``(page, done, total)`` after each page and language.
    """
    started = time.perf_counter()
    settings = settings or load_settings()
    location = store_path(store, settings)
    if cache.cache_dir(location) is None or not cache.enabled():
        return WarmReport(0, (), 0.0)
    names = [n for n in (notebooks or PAGES) if n in PAGES]
    total, done, written, failed = len(names) * len(languages), 0, 0, []
    for name in names:
        module, class_name = PAGES[name]
        page_class = getattr(importlib.import_module(f"workbench.ui.{module}"), class_name)
        for language in languages:
            params = params_for(name)(store=location, language=language, mode="dashboard")
            page = page_class(params, settings=settings)
            try:
                if page.con is None:
                    failed.append(name)
                    continue
                base = page.params
                for changes in [{}, *page.variants()]:
                    page.params = base.replace(**changes)
                    page.compute()
                    if page.error:
                        log.warning("page cache: %s %s %s: %s", name, language, changes,
                                    page.error)
                        failed.append(name)
                    else:
                        written += 1
            finally:
                if page.con is not None:
                    page.con.disconnect()
                done += 1
                if progress:
                    progress(name, done, total)
    return WarmReport(written, tuple(dict.fromkeys(failed)), time.perf_counter() - started)
