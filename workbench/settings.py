"""Settings from ``workbench.toml``, read once and overridable by command-line flags.

Lookup order for the file: the ``path`` argument, the ``WORKBENCH_CONFIG`` environment variable,
then ``workbench.toml`` in the current directory or the nearest folder above it (so notebooks
opened from ``notebooks/`` find the project's settings). A missing file means the defaults.
Relative paths inside the file are resolved against the file's folder, so a scheduler running
from another directory sees the same store. ``WORKBENCH_STORE`` and ``WORKBENCH_LANGUAGE``, when
set, override the file (``workbench dashboard`` uses them to hand its flags to the dashboard
kernels).

Example ``workbench.toml``::

    [workbench]
    store = "data/workbench.duckdb"   # DuckDB file, or any Ibis URL (postgres://..., ...)
    timezone = "Asia/Seoul"           # the shop's time zone: weeks and days are cut here
    currency = "KRW"                  # ISO 4217; amounts are rounded to its minor unit
    language = "en"                   # en | ko: labels, messages and reports
    gross_margin = 0.3                # share of net revenue kept as margin (CLV, ROI)
    global_holdout = 0.0              # share of customers kept out of every CRM send (0: none)
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workbench.errors import ParameterError

__all__ = ["LANGUAGES", "Settings", "load_settings"]

LANGUAGES = ("en", "ko")
_FILE_NAME = "workbench.toml"


@dataclass(frozen=True, slots=True)
class Settings:
    """Shop-wide settings; every command and notebook reads the same values.

    Parameters
    ----------
    store
        Path of the DuckDB file or an Ibis connection URL.
    timezone
        IANA time zone of the shop; naive timestamps in imports are read in this zone.
    currency
        ISO 4217 code; amounts are stored rounded to its minor unit (0 decimals for KRW).
    language
        ``"en"`` or ``"ko"`` for labels, messages and reports.
    gross_margin
        Share of net revenue kept as gross margin, in (0, 1].
    global_holdout
        Share of customers in the persistent global holdout, in [0, 0.5): chosen by a hash of
        the customer id (:func:`workbench.abtest.in_global_holdout`), left out of every
        audience export, and compared with everyone else by
        :func:`workbench.abtest.run_global_holdout`. 0 (default): no global holdout.
    source
        The file the settings were read from, or ``None`` for the defaults.
    """

    store: str = "data/workbench.duckdb"
    timezone: str = "Asia/Seoul"
    currency: str = "KRW"
    language: str = "en"
    gross_margin: float = 0.3
    global_holdout: float = 0.0
    source: str | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ParameterError(
                f"settings: unknown time zone {self.timezone!r}; use an IANA name such as "
                "'Asia/Seoul' or 'UTC'."
            ) from None
        if self.language not in LANGUAGES:
            raise ParameterError(
                f"settings: 'language' must be one of {list(LANGUAGES)}; got {self.language!r}."
            )
        from babel.numbers import list_currencies

        if not (isinstance(self.currency, str) and self.currency in list_currencies()):
            raise ParameterError(
                f"settings: 'currency' must be a 3-letter ISO 4217 code such as 'KRW'; "
                f"got {self.currency!r}."
            )
        if not 0 < float(self.gross_margin) <= 1:
            raise ParameterError(
                f"settings: 'gross_margin' must be in (0, 1]; got {self.gross_margin!r}."
            )
        if not 0 <= float(self.global_holdout) < 0.5:
            raise ParameterError(
                "settings: 'global_holdout' must be a share in [0, 0.5), e.g. 0.05 for 5% of "
                f"customers; got {self.global_holdout!r}."
            )

    @property
    def tz(self) -> ZoneInfo:
        """The shop's time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    @property
    def currency_digits(self) -> int:
        """Minor-unit digits of the currency (0 for KRW and JPY, 2 for USD and EUR)."""
        from babel.numbers import get_currency_precision

        return int(get_currency_precision(self.currency.upper()))

    def replace(self, **overrides: object) -> Settings:
        """Return a copy with the given fields replaced; ``None`` values are ignored."""
        kept = {k: v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(kept) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ParameterError(f"settings: unknown setting(s) {unknown}.")
        return dataclasses.replace(self, **kept)


def _find_file(path: str | os.PathLike[str] | None) -> Path | None:
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ParameterError(f"settings: file {str(p)!r} does not exist.")
        return p
    env = os.environ.get("WORKBENCH_CONFIG")
    if env:
        return _find_file(env)
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / _FILE_NAME).is_file():
            return folder / _FILE_NAME
    return None


@lru_cache(maxsize=8)
def _read(path: Path | None) -> Settings:
    if path is None:
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"settings: {str(path)!r} is not valid TOML: {exc}.") from None
    table = raw.get("workbench", raw)
    fields = {f.name for f in dataclasses.fields(Settings)} - {"source"}
    unknown = sorted(set(table) - fields)
    if unknown:
        raise ParameterError(
            f"settings: unknown key(s) {unknown} in {str(path)!r}; allowed: {sorted(fields)}."
        )
    values = dict(table)
    store = values.get("store")
    if store and "://" not in store and not Path(store).is_absolute():
        values["store"] = str((path.parent / store).resolve())
    return Settings(**values, source=str(path))


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: object) -> Settings:
    """Read ``workbench.toml`` (once per file) and apply overrides.

    Parameters
    ----------
    path
        Settings file; by default ``$WORKBENCH_CONFIG`` or ``./workbench.toml``.
    **overrides
        Values that win over the file (command-line flags); ``None`` means "not given".

    Returns
    -------
    Settings
        The validated settings.

    Examples
    --------
    >>> load_settings(language="ko", timezone="UTC").language
    'ko'
    """
    found = _find_file(path)
    settings = _read(found.resolve() if found else None)
    for name in ("store", "language"):
        env = os.environ.get(f"WORKBENCH_{name.upper()}")
        if env and overrides.get(name) is None:
            overrides = {**overrides, name: env}
    return settings.replace(**overrides) if overrides else settings
