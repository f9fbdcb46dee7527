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
    amount_style = "man"              # plain | man: headline won as 6,620만 원 in Korean
    gross_margin = 0.3                # share of net revenue kept as margin (CLV, ROI)
    global_holdout = 0.0              # share of customers kept out of every CRM send (0: none)
    lock_timeout = 300                # seconds a write waits for another writer before failing
    earliest_date = 1990-01-01        # imported dates before this are refused as typos
    max_years_ahead = 10              # ... and so are dates more than this many years ahead
    friendtalk_quiet_hours = "20:00-08:00"  # the FriendTalk provider's no-ad window ("": none)

    [acquisition_cost]                # cost per new customer by acquisition channel (currency)
    instagram = 15000                 # the CLV page compares each channel's CLV with it
    naver = 9000

    [frequency_cap]                   # ads per customer, applied at every ad export
    ads_per_day = 1                   # ... on the send's calendar day (shop's zone)
    ads_per_week = 3                  # ... in any 7 calendar days that hold the send day
    # enabled = false                 # lift the cap (it is on by default)
    [frequency_cap.sms]               # optional, per channel: ads on that channel only
    ads_per_day = 1
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import get_currency_precision, list_currencies

from workbench._userfiles import read_toml
from workbench.errors import ParameterError
from workbench.i18n import AMOUNT_STYLES, set_default_amount_style, set_default_language, tr

__all__ = ["LANGUAGES", "ChannelCap", "FrequencyCap", "Settings", "load_settings"]

LANGUAGES = ("en", "ko")
_EXAMPLES = {"store": "data/workbench.duckdb", "timezone": "Asia/Seoul", "currency": "KRW",
             "language": "ko"}
_FILE_NAME = "workbench.toml"
#: ``friendtalk_quiet_hours``: two times joined by "-", or "" (parsed by
#: ``workbench.audience.kakao.quiet_window``; settings sit below the audience layer).
_QUIET_HOURS = re.compile(r"(?:(?:[01]\d|2[0-3]):[0-5]\d-(?:[01]\d|2[0-3]):[0-5]\d)?")
#: Channels a ``[frequency_cap.<channel>]`` table may name: ``workbench.data.schema``'s
#: ``CAMPAIGN_CHANNELS`` (settings sit below the data layer; a test keeps the two equal).
CAP_CHANNELS = ("sms", "lms", "email", "push", "alimtalk", "friendtalk", "kakao")
_CAP_KEYS = ("ads_per_day", "ads_per_week")
_CAP_MOST = 1000


@dataclass(frozen=True, slots=True)
class ChannelCap:
    """Most ads a customer gets on one channel, per calendar day and per 7 days (None: none)."""

    ads_per_day: int | None = None
    ads_per_week: int | None = None


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """Most ads a customer gets across channels, and per channel (``[frequency_cap]``).

    A day is a calendar day in the shop's zone; a week is any 7 consecutive calendar days. The
    export (:mod:`workbench.audience.history`) leaves out a customer whose ads already logged
    (exports and the ``messages`` table) would, with this one, exceed a limit.

    Parameters
    ----------
    enabled
        ``False`` lifts every limit.
    ads_per_day, ads_per_week
        Limits over every channel (default 1 a day and 3 a week: protects customers from three
        audiences' ads on one day; ``None`` in Python: no limit).
    channels
        ``(channel, ChannelCap)`` pairs: limits on the ads of that channel only.

    Examples
    --------
    >>> cap = FrequencyCap.from_table({"ads_per_week": 2, "sms": {"ads_per_day": 1}})
    >>> cap.ads_per_day, cap.ads_per_week, cap.for_channel("sms")
    (1, 2, ChannelCap(ads_per_day=1, ads_per_week=None))
    """

    enabled: bool = True
    ads_per_day: int | None = 1
    ads_per_week: int | None = 3
    channels: tuple[tuple[str, ChannelCap], ...] = ()

    def for_channel(self, channel: str) -> ChannelCap | None:
        """Return the limits of one channel (``None``: none configured)."""
        return dict(self.channels).get(channel)

    @classmethod
    def from_table(cls, table: object) -> FrequencyCap:
        """Build the cap from its TOML table, naming the key and the fix on any problem.

        Raises
        ------
        ParameterError
            Not a table, an unknown key or channel, a limit that is not 1-1000, or a weekly
            limit below the daily one.
        """
        if not isinstance(table, dict):
            raise _cap_error("frequency_cap_table", got=repr(table))
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _cap_error("frequency_cap_enabled", got=repr(enabled))
        channels = []
        for key, value in table.items():
            if key in ("enabled", *_CAP_KEYS):
                continue
            if key not in CAP_CHANNELS or not isinstance(value, dict):
                raise _cap_error("frequency_cap_key", section="frequency_cap", name=key,
                                 allowed=", ".join(("enabled", *_CAP_KEYS)),
                                 channels=", ".join(CAP_CHANNELS))
            channels.append((key, ChannelCap(**_limits(value, f"frequency_cap.{key}", {}))))
        defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.name in _CAP_KEYS}
        return cls(enabled, **_limits(table, "frequency_cap", defaults),
                   channels=tuple(channels))


def _limits(table: dict, section: str, defaults: dict) -> dict[str, int | None]:
    if section != "frequency_cap":
        for key in table:
            if key not in _CAP_KEYS:
                raise _cap_error("frequency_cap_key", section=section, name=key,
                                 allowed=", ".join(_CAP_KEYS), channels=", ".join(CAP_CHANNELS))
    out = {}
    for key in _CAP_KEYS:
        value = table.get(key, defaults.get(key))
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= _CAP_MOST):
            raise _cap_error("frequency_cap_value", section=section, name=key, got=repr(value))
        out[key] = value
    day, week = out["ads_per_day"], out["ads_per_week"]
    if day is not None and week is not None and week < day:
        raise _cap_error("frequency_cap_order", section=section, day=day, week=week)
    return out


def _cap_error(message: str, **fields: object) -> ParameterError:
    # English, as for the file's other problems: the language is itself a setting being read.
    return ParameterError(tr(f"settings.{message}", language="en", **fields))


@dataclass(frozen=True, slots=True)
class SparkSettings:
    """How workbench starts Spark for a ``spark:`` store (``[spark]`` in ``workbench.toml``).

    Parameters
    ----------
    master
        Spark master URL: ``local[2]`` (default: two cores of this machine), ``yarn``,
        ``k8s://...``, ``spark://host:7077``. Ignored when a session already runs
        (``spark-submit``, a notebook's own session).
    driver_memory
        Memory of the driver JVM, such as ``"2g"``.
    shuffle_partitions
        ``spark.sql.shuffle.partitions``: partitions of every group-by and join (Spark's 200 is
        made for clusters; on a laptop a handful is faster).
    ui
        Start Spark's web UI (on 127.0.0.1 only); off by default.
    retention_hours
        Hours a lake keeps table versions that are no longer current, so that readers still
        using them finish (default 24).
    conf
        Other ``spark.*`` options as ``(key, value)`` pairs (``[spark.conf]`` in the file).
    serve_from
        Local DuckDB file that ``workbench refresh`` copies the lake's current version into and
        that dashboards and the weekly report read (:mod:`workbench.data.serving`); relative to
        the settings file's folder. Empty (default): none, and those commands ask for one.
    """

    master: str = "local[2]"
    driver_memory: str = "2g"
    shuffle_partitions: int = 8
    ui: bool = False
    retention_hours: float = 24.0
    conf: tuple[tuple[str, str], ...] = ()
    serve_from: str = ""

    @classmethod
    def from_table(cls, table: object) -> SparkSettings:
        """Build the settings from the ``[spark]`` table, naming the key and fix on a problem."""
        if not isinstance(table, dict):
            raise _cap_error("spark_table", got=repr(table))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise _cap_error("spark_key", names=", ".join(unknown),
                             allowed=", ".join(sorted(known)))
        values = dict(table)
        conf = values.get("conf", {})
        if not isinstance(conf, dict) or not all(
                isinstance(k, str) and k.startswith("spark.") for k in conf):
            raise _cap_error("spark_conf", got=repr(conf))
        values["conf"] = tuple((k, str(v)) for k, v in conf.items())
        spark = cls(**values)
        if not isinstance(spark.master, str) or not spark.master.strip():
            raise _cap_error("spark_value", name="master", got=repr(spark.master))
        if not isinstance(spark.driver_memory, str) or not _MEMORY.fullmatch(spark.driver_memory):
            raise _cap_error("spark_value", name="driver_memory", got=repr(spark.driver_memory))
        partitions = spark.shuffle_partitions
        if isinstance(partitions, bool) or not isinstance(partitions, int) or not (
                1 <= partitions <= 100_000):
            raise _cap_error("spark_value", name="shuffle_partitions", got=repr(partitions))
        if not isinstance(spark.ui, bool):
            raise _cap_error("spark_value", name="ui", got=repr(spark.ui))
        if not 0 <= _number(spark.retention_hours) <= 24 * 365:
            raise _cap_error("spark_value", name="retention_hours",
                             got=repr(spark.retention_hours))
        if not isinstance(spark.serve_from, str) or "://" in spark.serve_from or (
                spark.serve_from.startswith("spark:")):
            raise _cap_error("spark_serve_from", got=repr(spark.serve_from))
        return spark


_MEMORY = re.compile(r"[1-9][0-9]{0,6}[kmgt]", re.IGNORECASE)


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
    amount_style
        How headline amounts read in Korean: ``"man"`` in 만 and 억 (``6,620만 원``,
        ``12억 3,457만 원``, rounded to the nearest 만 from 100만 on) or ``"plain"``
        (``₩66,200,000``). ``None`` (default): ``"man"`` when the language is Korean. English
        text and tables or exports are always exact (:func:`workbench.i18n.format_money`).
    gross_margin
        Share of net revenue kept as gross margin, in (0, 1].
    global_holdout
        Share of customers in the persistent global holdout, in [0, 0.5): chosen by a hash of
        the customer id (:func:`workbench.abtest.in_global_holdout`), left out of every
        audience export, and compared with everyone else by
        :func:`workbench.abtest.run_global_holdout`. 0 (default): no global holdout.
    lock_timeout
        Seconds a write (load, refresh, report, export) waits for another process that is
        writing the store before it gives up; 0 fails at once.
    earliest_date
        Imported timestamps and dates before this day are refused (a year typed as 0202 or a
        system's "empty" 1900-01-01); birth dates are checked against 1900-01-01 instead.
    max_years_ahead
        Imported timestamps and dates more than this many years after today are refused
        (9999-12-31 placeholders); dates in the near future are loaded with a warning.
    frequency_cap
        Most ads a customer gets a day and a week (:class:`FrequencyCap`; a mapping such as
        the ``[frequency_cap]`` table is accepted). Default: 1 a day and 3 a week.
    friendtalk_quiet_hours
        ``"HH:MM-HH:MM"`` in the shop's zone (may wrap midnight) in which the FriendTalk
        provider blocks ad sends, on top of the legal 21:00-08:00 night rule; an ad FriendTalk
        export scheduled inside it leaves everyone out (rule ``provider_quiet_hours``).
        Default ``"20:00-08:00"`` (some dealers use 20:50); ``""``: no provider window.
    acquisition_cost
        Cost of one new customer per acquisition channel (``customers.acquisition_channel``),
        in the shop's currency: ``(channel, cost)`` pairs (the ``[acquisition_cost]`` table
        is accepted). The CLV page sets each channel's value of a new customer (margin on the
        first order and the next 12 months) against it. Default: none (the page says so per
        channel).
    source
        The file the settings were read from, or ``None`` for the defaults.
    """

    store: str = "data/workbench.duckdb"
    timezone: str = "Asia/Seoul"
    currency: str = "KRW"
    language: str = "en"
    amount_style: str | None = None
    gross_margin: float = 0.3
    global_holdout: float = 0.0
    lock_timeout: float = 300.0
    earliest_date: date = date(1990, 1, 1)
    max_years_ahead: int = 10
    frequency_cap: FrequencyCap = dataclasses.field(default_factory=FrequencyCap)
    friendtalk_quiet_hours: str = "20:00-08:00"
    spark: SparkSettings = dataclasses.field(default_factory=SparkSettings)
    acquisition_cost: tuple[tuple[str, float], ...] = ()
    source: str | None = None

    def __post_init__(self) -> None:
        for name in ("store", "timezone", "currency", "language"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise self._error("text", name=name, example=_EXAMPLES[name], got=repr(value))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise self._error("timezone", got=repr(self.timezone)) from None
        if self.language not in LANGUAGES:
            raise self._error("language", allowed=", ".join(LANGUAGES), got=repr(self.language))
        if self.amount_style is not None and self.amount_style not in AMOUNT_STYLES:
            raise self._error("amount_style", allowed=", ".join(AMOUNT_STYLES),
                              got=repr(self.amount_style))
        if not (isinstance(self.currency, str) and self.currency in list_currencies()):
            raise self._error("currency", got=repr(self.currency))
        if not 0 < _number(self.gross_margin) <= 1:
            raise self._error("gross_margin", got=repr(self.gross_margin))
        if not 0 <= _number(self.global_holdout) < 0.5:
            raise self._error("global_holdout", got=repr(self.global_holdout))

        self._check_limits()
        if not isinstance(self.frequency_cap, FrequencyCap):
            object.__setattr__(self, "frequency_cap", FrequencyCap.from_table(self.frequency_cap))
        if not isinstance(self.spark, SparkSettings):
            object.__setattr__(self, "spark", SparkSettings.from_table(self.spark))
        object.__setattr__(self, "acquisition_cost", self._acquisition_cost())

    def _acquisition_cost(self) -> tuple[tuple[str, float], ...]:
        """Return ``[acquisition_cost]`` (channel -> cost per new customer) as checked pairs."""
        table = self.acquisition_cost
        if isinstance(table, tuple):
            table = dict(table)
        if not isinstance(table, dict):
            raise self._error("acquisition_cost_table", got=repr(table))
        pairs = []
        for channel, cost in table.items():
            if not isinstance(channel, str) or not channel.strip() or isinstance(cost, bool) \
                    or not isinstance(cost, (int, float)) or not 0 <= cost < float("inf"):
                raise self._error("acquisition_cost_value", name=str(channel), got=repr(cost))
            pairs.append((channel, float(cost)))
        return tuple(pairs)

    def cost_of(self, channel: str) -> float | None:
        """Return the ``[acquisition_cost]`` of a channel per new customer (None: not set)."""
        return dict(self.acquisition_cost).get(channel)

    def _check_limits(self) -> None:
        if not 0 <= _number(self.lock_timeout) <= 86_400:
            raise self._error("lock_timeout", got=repr(self.lock_timeout))
        earliest = self.earliest_date
        if isinstance(earliest, datetime):
            earliest = earliest.date()
            object.__setattr__(self, "earliest_date", earliest)
        if isinstance(earliest, str):
            try:
                earliest = date.fromisoformat(earliest)
            except ValueError:
                earliest = None
            else:
                object.__setattr__(self, "earliest_date", earliest)
        if not isinstance(earliest, date) or not date(1900, 1, 1) <= earliest <= date(2100, 1, 1):
            raise self._error("earliest_date", got=repr(self.earliest_date))
        years = self.max_years_ahead
        if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 100:
            raise self._error("max_years_ahead", got=repr(years))
        quiet = self.friendtalk_quiet_hours
        if not isinstance(quiet, str) or not _QUIET_HOURS.fullmatch(quiet) or (
                quiet and quiet[:5] == quiet[-5:]):
            raise self._error("friendtalk_quiet_hours", got=repr(quiet))

    def _error(self, key: str, **fields: object) -> ParameterError:
        """Return a settings error in the language these settings name (English if invalid).

        The active language cannot be asked for: it is one of the settings being checked.
        """
        language = self.language if self.language in LANGUAGES else "en"
        return ParameterError(tr(f"settings.{key}", language=language, **fields))

    @property
    def tz(self) -> ZoneInfo:
        """The shop's time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    @property
    def currency_digits(self) -> int:
        """Minor-unit digits of the currency (0 for KRW and JPY, 2 for USD and EUR)."""
        return int(get_currency_precision(self.currency.upper()))

    def replace(self, **overrides: object) -> Settings:
        """Return a copy with the given fields replaced; ``None`` values are ignored."""
        kept = {k: v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(kept) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise self._error("unknown_override", names=", ".join(unknown))
        return dataclasses.replace(self, **kept)


def _number(value: object) -> float:
    """Return a setting as a float, or NaN (which fails every range check) when it is none."""
    if isinstance(value, bool):
        return float("nan")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _find_file(path: str | os.PathLike[str] | None) -> Path | None:
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ParameterError(tr("settings.file_missing", path=repr(str(p))))
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
    # English: the language to use is one of the settings being read (tr would read them).
    raw = read_toml(path, context="load.settings_invalid", language="en")
    table = raw.get("workbench", raw)
    if not isinstance(table, dict):
        raise ParameterError(tr("settings.not_a_table", path=repr(str(path)), got=repr(table),
                                language="en"))
    for section in ("frequency_cap", "spark", "acquisition_cost"):  # tables beside [workbench]
        if table is not raw and section in raw:
            table = {**table, section: raw[section]}
    fields = {f.name for f in dataclasses.fields(Settings)} - {"source"}
    unknown = sorted(set(table) - fields)
    if unknown:
        raise ParameterError(tr("settings.unknown_keys", unknown=unknown, path=repr(str(path)),
                                allowed=sorted(fields), language="en"))
    values = dict(table)
    store = values.get("store")
    if isinstance(store, str) and store.startswith("spark:") and not store.startswith(
            "spark://") and not Path(store[6:]).expanduser().is_absolute():
        values["store"] = "spark:" + str((path.parent / store[6:]).resolve())
    elif isinstance(store, str) and store and "://" not in store and not Path(store).is_absolute():
        values["store"] = str((path.parent / store).resolve())
    serve = values["spark"].get("serve_from") if isinstance(values.get("spark"), dict) else None
    if isinstance(serve, str) and serve and ":" not in serve and not Path(
            serve).expanduser().is_absolute():
        values["spark"] = {**values["spark"], "serve_from": str((path.parent / serve).resolve())}
    try:
        settings = Settings(**values, source=str(path))
    except ParameterError as exc:  # name the file: the user fixes it there
        raise ParameterError(f"{path}: {exc}") from None
    return settings


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
    if path is None:  # the shop's own settings: their language is the default of messages
        set_default_language(settings.language)
        set_default_amount_style(settings.amount_style)
    for name in ("store", "language"):
        env = os.environ.get(f"WORKBENCH_{name.upper()}")
        if env and overrides.get(name) is None:
            overrides = {**overrides, name: env}
    return settings.replace(**overrides) if overrides else settings
