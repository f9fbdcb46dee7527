# ruff: noqa: E501 - the hand-made tables read best one row per line
"""Hour-level cut-offs, ``--since-last-export`` (the cooldown) and the frequency cap.

The send day is Monday 2026-11-16 in Seoul; every customer of the cap store consents to SMS
ads at night, has a phone and is in the audience, so the only rules that leave anyone out are
the send history's. Each customer's history is worked out by hand beside its rows.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.audience.conftest import kst
from workbench.audience import Audience, AudienceDefinition, Condition, Group, export_audience
from workbench.audience.compliance import EXCLUSION_RULES
from workbench.audience.history import capped, resolve_cooldown
from workbench.data import connect, write_store
from workbench.data.schema import CAMPAIGN_CHANNELS
from workbench.errors import ParameterError
from workbench.settings import CAP_CHANNELS, FrequencyCap, Settings

SEND = datetime(2026, 11, 16, 10, 0)
NOW = pd.Timestamp("2026-11-16 00:30", tz="UTC").to_pydatetime()
MESSAGE = "(광고) 워크샵 겨울 세일 무료거부 080-123-4567"
IDS = [f"C{i:02d}" for i in range(1, 14)]


def _customers(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ids, "phone": [f"0101234{i:04d}" for i in range(len(ids))],
        "email": [f"{c.lower()}@x.kr" for c in ids], "sms_opt_in": True, "email_opt_in": True,
        "night_opt_in": True, "consent_at": kst("2026-06-01 09:00"), "is_member": True})


def _members(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns="export_id customer_id audience channel is_ad variant send_at".split())
    df["send_at"] = df["send_at"].map(kst)
    return df


# Earlier exports (export_members). D = 2026-11-16 (Monday).
MEMBERS = _members([
    ("e1", "C01", "other", "sms", True, "send", "2026-11-16 08:00"),      # C01: an ad today -> day cap
    ("e1", "C02", "other", "sms", True, "holdout", "2026-11-16 08:00"),   # C02: holdout: no message
    ("e2", "C05", "other", "sms", True, "send", "2026-11-17 10:00"),      # C05: D+1, D+2, D+3 already
    ("e3", "C05", "other", "sms", True, "send", "2026-11-18 10:00"),      #      exported: 3 in the
    ("e4", "C05", "other", "sms", True, "A", "2026-11-19 10:00"),         #      window D-3..D+3
    ("e5", "C06", "other", "sms", True, "send", "2026-11-10 10:00"),      # C06: D-6, D-3, D+6: no
    ("e6", "C06", "other", "sms", True, "send", "2026-11-13 10:00"),      #      7-day window holds
    ("e7", "C06", "other", "sms", True, "send", "2026-11-22 10:00"),      #      3 -> kept
    ("K8", "C08", "other", "sms", True, "send", "2026-11-15 09:00"),      # C08: export K8 and its
    ("e9", "C09", "promo", "sms", True, "send", "2026-11-16 10:00"),      # C09: this audience, this
    ("e10", "C10", "other", "sms", True, "send", "2026-11-15 23:59"),     # C10: yesterday 23:59 and
    ("e11", "C10", "other", "sms", True, "send", "2026-11-17 00:00"),     #      tomorrow 00:00: kept
    ("e12", "C11", "other", "push", False, "send", "2026-11-16 08:00"),   # C11: not an ad -> kept
])
CAMPAIGNS = pd.DataFrame({
    "campaign_id": ["K1", "K2", "K3", "K8", "KN", "KE"],
    "channel": ["sms", "sms", "sms", "sms", "sms", "email"],
    "is_ad": [True, True, True, True, False, True],
    "started_at": kst("2026-11-01 10:00")})
MESSAGES = pd.DataFrame([
    ("K1", "C03", "2026-11-15 09:00", "sent", None),      # C03: D-1, D-3, D-5 -> week cap
    ("K2", "C03", "2026-11-13 09:00", None, None),        #      (status null: sent)
    ("K3", "C03", "2026-11-11 09:00", "sent", None),
    ("K1", "C04", "2026-11-14 09:00", "sent", None),      # C04: D-2, D-4 and a failed D-1 -> 2: kept
    ("K2", "C04", "2026-11-12 09:00", "sent", None),
    ("K3", "C04", "2026-11-15 09:00", "failed", None),
    ("KN", "C07", "2026-11-16 09:00", "sent", None),      # C07: not an ad -> kept
    ("K8", "C08", "2026-11-15 09:05", "sent", None),      # C08: ...its send report: one message,
    ("K2", "C08", "2026-11-14 09:00", "sent", None),      #      + D-2 = 2 -> kept
    ("KE", "C12", "2026-11-16 08:00", "sent", None),      # C12: an email ad today -> day cap
    ("KE", "C13", "2026-11-16 08:00", "sent", "sms"),     # C13: an ad today, sent as SMS -> day cap
], columns="campaign_id customer_id sent_at status channel".split())
MESSAGES["sent_at"] = MESSAGES["sent_at"].map(kst)
# C09: audience "promo" at this very send time: a redo of that export, not a second message.


@pytest.fixture
def cap_store(tmp_path):
    path = tmp_path / "cap.duckdb"
    with write_store(path, settings=Settings(), fresh=True) as w:
        w.write("customers", _customers(IDS))
        w.write("campaigns", CAMPAIGNS)
        w.write("messages", MESSAGES)
        w.write("export_members", MEMBERS)
    return path


def _audience(path, *, name="promo", channel="sms", is_ad=True, cooldown=None, as_of=date(2026, 11, 16),
              **settings):
    d = AudienceDefinition(name, rules=Group("and", ()), channel=channel, is_ad=is_ad,
                           purpose="winter sale", cooldown=cooldown)
    s = Settings(store=str(path), **settings)
    return Audience(d, connect(path, settings=s), as_of=as_of, settings=s)


def _export(aud, out, **kwargs):
    kwargs.setdefault("send_at", SEND)
    kwargs.setdefault("now", NOW)
    try:
        return export_audience(aud, out=out, **kwargs)
    finally:
        aud.con.disconnect()


def _rows(path) -> list[str]:
    return [next(iter(r.values())) for r in csv.DictReader(io.StringIO(path.read_text("utf-8-sig")))]


def _expected(**counts: int) -> dict[str, int]:
    return dict.fromkeys(EXCLUSION_RULES, 0) | counts


# --------------------------------------------------------------------------- frequency cap


def _sms_ad(cap_store, tmp_path, name="promo", **settings):
    return _export(_audience(cap_store, name=name, **settings), tmp_path / f"{name}.csv",
                   message=MESSAGE, sender="워크샵")


def test_default_cap_counts_exports_and_messages(cap_store, tmp_path):
    r = _sms_ad(cap_store, tmp_path)
    # day: C01 (exported today), C12 (an email ad today), C13 (an ad today, sent as SMS);
    # week: C03 (3 messages D-5..D-1), C05 (3 exports D+1..D+3).
    assert r.excluded == _expected(frequency_cap_day=3, frequency_cap_week=2)
    assert (r.members, r.rows) == (13, 8)
    kept = {"C02", "C04", "C06", "C07", "C08", "C09", "C10", "C11"}
    phones = dict(zip(_customers(IDS)["phone"], IDS, strict=True))
    assert {phones[p] for p in _rows(tmp_path / "promo.csv")} == kept


def test_the_cap_reads_members_by_rule(cap_store):
    con = connect(cap_store, settings=Settings())
    hits = capped(con, channel="sms", send=pd.Timestamp(SEND).tz_localize("Asia/Seoul"),
                  timezone="Asia/Seoul", cap=FrequencyCap(), audience="promo")
    con.disconnect()
    assert dict(zip(hits["customer_id"], hits["reason"], strict=True)) == {
        "C01": "frequency_cap_day", "C12": "frequency_cap_day", "C13": "frequency_cap_day",
        "C03": "frequency_cap_week", "C05": "frequency_cap_week"}


def test_another_audience_at_the_same_time_is_not_a_redo(cap_store, tmp_path):
    r = _sms_ad(cap_store, tmp_path, name="flash")  # C09's "promo" export now counts
    assert r.excluded == _expected(frequency_cap_day=4, frequency_cap_week=2)


def test_per_channel_caps_count_their_channel_only(cap_store, tmp_path):
    cap = {"ads_per_day": 2, "ads_per_week": 5, "sms": {"ads_per_day": 1}}
    r = _sms_ad(cap_store, tmp_path, frequency_cap=cap)
    # SMS today: C01 (export) and C13 (message sent as SMS); C12's email ad is 1 of 2 overall.
    assert r.excluded == _expected(frequency_cap_day=2)
    email = _export(_audience(cap_store, name="mail", channel="email", frequency_cap=cap),
                    tmp_path / "mail.csv", subject="(광고) 세일",
                    message="(광고) 워크샵 세일 수신거부 help@x.kr", sender="워크샵")
    # The SMS limit does not apply to email; 2 a day overall does: C12 and C13 had an ad today
    # and were just exported in the SMS file above (C01 was not: capped there).
    assert email.excluded == _expected(frequency_cap_day=2) and email.rows == 11


def test_a_stricter_week_and_a_disabled_cap(cap_store, tmp_path):
    week2 = _sms_ad(cap_store, tmp_path, frequency_cap={"ads_per_week": 2})
    # 2 a week: also C04 (2 messages), C06 (D-6, D-3), C08 (D-2, D-1) and C10 (D-1, D+1).
    assert week2.excluded == _expected(frequency_cap_day=3, frequency_cap_week=6)
    off = _sms_ad(cap_store, tmp_path, name="free", frequency_cap={"enabled": False})
    assert off.excluded == _expected() and off.rows == 13


def test_non_ads_are_not_capped(cap_store, tmp_path):
    r = _export(_audience(cap_store, name="notice", channel="push", is_ad=False),
                tmp_path / "n.csv")
    assert r.excluded == _expected() and r.rows == 13


@st.composite
def _histories(draw):
    rows = draw(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]),
                                   st.integers(-8, 8), st.integers(0, 23),
                                   st.sampled_from(["sms", "email"])), min_size=1, max_size=25))
    return pd.DataFrame(rows, columns=["customer_id", "day", "hour", "channel"])


def _reference(h: pd.DataFrame, per_day: int, per_week: int) -> dict[str, str]:
    """Brute force: the day's ads, and every 7-day window holding the send day."""
    out = {}
    for cid, g in h.groupby("customer_id"):
        days = g["day"].tolist()
        if days.count(0) >= per_day:
            out[cid] = "frequency_cap_day"
        elif max(sum(k - 6 <= d <= k for d in days) for k in range(7)) >= per_week:
            out[cid] = "frequency_cap_week"
    return out


@settings(max_examples=30, deadline=None)
@given(h=_histories(), per_day=st.integers(1, 2), per_week=st.integers(2, 4))
def test_cap_matches_a_brute_force_count(h, per_day, per_week):
    import ibis

    con = ibis.duckdb.connect()
    when = [kst(f"2026-11-16 {hr:02d}:00") + timedelta(days=d) for d, hr in zip(h["day"], h["hour"], strict=True)]
    con.create_table("export_members", pd.DataFrame({
        "export_id": [f"x{i}" for i in range(len(h))], "customer_id": h["customer_id"],
        "audience": "other", "channel": h["channel"], "is_ad": True, "variant": "send",
        "send_at": pd.Series(when, dtype="datetime64[us, Asia/Seoul]")}))
    hits = capped(con, channel="sms", send=kst("2026-11-16 10:00"), timezone="Asia/Seoul",
                  cap=FrequencyCap(ads_per_day=per_day, ads_per_week=per_week),
                  audience="promo")
    assert dict(zip(hits["customer_id"], hits["reason"], strict=True)) == _reference(
        h, per_day, per_week)


# --------------------------------------------------------------------------- cooldown


@settings(max_examples=30, deadline=None)
@given(minutes=st.lists(st.integers(-4000, 4000), min_size=1, max_size=12),
       hours=st.integers(1, 60), names=st.lists(st.sampled_from(["cart", "other"]), min_size=12,
                                                max_size=12))
def test_recently_exported_is_within_the_cooldown_exclusive(minutes, hours, names):
    import ibis

    from workbench.audience.history import recently_exported

    send = kst("2026-11-16 10:00")
    con = ibis.duckdb.connect()
    con.create_table("export_members", pd.DataFrame({
        "export_id": [f"x{i}" for i in range(len(minutes))],
        "customer_id": [f"c{i}" for i in range(len(minutes))],
        "audience": names[:len(minutes)], "channel": "sms", "is_ad": False, "variant": "send",
        "send_at": pd.Series([send + timedelta(minutes=m) for m in minutes],
                             dtype="datetime64[us, Asia/Seoul]")}))
    got = set(recently_exported(con, audience="cart", send=send,
                                cooldown=timedelta(hours=hours)).to_pandas()["customer_id"])
    assert got == {f"c{i}" for i, (m, n) in enumerate(zip(minutes, names, strict=False))
                   if n == "cart" and abs(m) < 60 * hours}


def _cart(cap_store, tmp_path, when: datetime, file: str, **kwargs):
    cooldown = kwargs.pop("definition_cooldown", None)
    aud = _audience(cap_store, name="cart", channel="push", is_ad=False, cooldown=cooldown)
    kwargs.setdefault("since_last_export", True)
    return _export(aud, tmp_path / file, send_at=when, **kwargs)


def _log(path):
    con = connect(path, settings=Settings())
    try:
        return (con.table("audience_exports").to_pandas(),
                con.table("export_members").to_pandas())
    finally:
        con.disconnect()


def test_since_last_export_leaves_out_every_arm_within_the_cooldown(cap_store, tmp_path):
    first = _cart(cap_store, tmp_path, SEND, "h10.csv", holdout=0.2, salt="s")
    assert first.excluded == _expected() and first.holdout > 0
    assert first.rows + first.holdout == 13
    log, members = _log(cap_store)
    mine = members[members["export_id"] == first.export_id]
    assert len(mine) == 13 and set(mine["audience"]) == {"cart"}
    assert mine["variant"].value_counts().to_dict() == {"send": first.rows,
                                                        "holdout": first.holdout}
    assert set(mine["channel"]) == {"push"} and not mine["is_ad"].any()
    assert set(mine["send_at"]) == {kst("2026-11-16 10:00")}
    row = log.set_index("export_id").loc[first.export_id]
    assert row["cooldown_hours"] == 24.0 and json.loads(row["exclusions"])["recently_exported"] == 0
    # 23:59 later: everyone, the holdout too, was exported within 24 h.
    again = _cart(cap_store, tmp_path, SEND + timedelta(hours=23, minutes=59), "h9.csv")
    assert again.excluded == _expected(recently_exported=13) and again.rows == 0
    # Exactly 24 h later the first export is outside the cooldown (the bound is exclusive).
    day = _cart(cap_store, tmp_path, SEND + timedelta(hours=24), "d1.csv")
    assert day.excluded == _expected() and day.rows == 13


def test_cooldown_from_the_definition_and_the_override(cap_store, tmp_path):
    _cart(cap_store, tmp_path, SEND, "a.csv")
    at = SEND + timedelta(hours=12)
    assert _cart(cap_store, tmp_path, at, "b.csv",
                 definition_cooldown="12h").excluded["recently_exported"] == 0
    # The override wins over the definition; an export scheduled later counts too.
    r = _cart(cap_store, tmp_path, SEND - timedelta(hours=30), "c.csv",
              definition_cooldown="12h", cooldown="2d")
    assert r.excluded["recently_exported"] == 13
    log, _ = _log(cap_store)
    assert sorted(log["cooldown_hours"].dropna()) == [12.0, 24.0, 48.0]


def test_without_since_last_export_nothing_is_left_out(cap_store, tmp_path):
    _cart(cap_store, tmp_path, SEND, "a.csv")
    r = _cart(cap_store, tmp_path, SEND + timedelta(hours=1), "b.csv", since_last_export=False)
    assert r.excluded == _expected() and r.rows == 13
    log, _ = _log(cap_store)
    assert log["cooldown_hours"].isna().sum() == 1


def test_other_audiences_do_not_cool_down(cap_store, tmp_path):
    # C09 was exported for "promo" at this send time; "cart" has no history.
    r = _cart(cap_store, tmp_path, SEND, "a.csv")
    assert r.excluded["recently_exported"] == 0
    promo = _export(_audience(cap_store, name="promo", channel="push", is_ad=False),
                    tmp_path / "p.csv", since_last_export=True)
    assert promo.excluded == _expected(recently_exported=1)


@pytest.mark.parametrize(("since", "cooldown", "message"), [
    (False, "24h", "--cooldown only applies with --since-last-export"),
    (True, "0h", "'cooldown' must be a duration such as '24h'"),
    (True, "soon", "'cooldown' must be a duration such as '24h'"),
], ids=["without-since", "zero", "text"])
def test_bad_cooldowns(since, cooldown, message):
    with pytest.raises(ParameterError, match=message):
        resolve_cooldown(since, cooldown, None)


def test_cooldown_in_the_definition_round_trips():
    d = AudienceDefinition("cart", cooldown="1w")
    assert d.cooldown == "7d"
    assert AudienceDefinition.from_yaml(d.to_yaml()) == d
    assert "cooldown" not in AudienceDefinition("cart").to_dict()  # old files stay the same
    with pytest.raises(ParameterError, match="audience 'cart': 'cooldown'"):
        AudienceDefinition("cart", cooldown="0d")


# --------------------------------------------------------------------------- settings


def test_frequency_cap_settings_from_the_file(tmp_path):
    from workbench.settings import load_settings

    cfg = tmp_path / "workbench.toml"
    cfg.write_text('[workbench]\nlanguage = "en"\n\n[frequency_cap]\nads_per_week = 2\n\n'
                   '[frequency_cap.sms]\nads_per_day = 1\n', encoding="utf-8")
    cap = load_settings(cfg).frequency_cap
    assert (cap.enabled, cap.ads_per_day, cap.ads_per_week) == (True, 1, 2)
    assert cap.for_channel("sms").ads_per_day == 1 and cap.for_channel("email") is None
    bad = tmp_path / "bad.toml"
    bad.write_text("[frequency_cap]\nads_per_day = 0\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"bad.toml: settings: \[frequency_cap\] "
                                             r"ads_per_day must be a whole number of ads from 1"):
        load_settings(bad)


@pytest.mark.parametrize(("table", "message"), [
    ({"ads_per_day": 0}, r"\[frequency_cap\] ads_per_day must be a whole number of ads from 1 "
                         r"to 1000; got 0. To lift every limit write 'enabled = false'"),
    ({"ads_per_week": True}, r"ads_per_week must be a whole number of ads .*; got True"),
    ({"sns": {"ads_per_day": 1}}, r"\[frequency_cap\]: unknown key 'sns'; allowed: enabled, "
                                  r"ads_per_day, ads_per_week. Per-channel limits go in"),
    ({"sms": {"per_day": 1}}, r"\[frequency_cap.sms\]: unknown key 'per_day'"),
    ({"ads_per_day": 4}, r"ads_per_week \(3\) is smaller than ads_per_day \(4\)"),
    ({"enabled": "no"}, r"enabled must be true or false; got 'no'"),
    (5, r"\[frequency_cap\] must be a table"),
], ids=["zero", "bool", "channel", "channel-key", "order", "enabled", "not-table"])
def test_bad_frequency_caps(table, message):
    with pytest.raises(ParameterError, match=message):
        Settings(frequency_cap=table)


def test_cap_channels_are_the_campaign_channels():
    assert CAP_CHANNELS == CAMPAIGN_CHANNELS


# --------------------------------------------------------------------------- hour-level as-of


@pytest.fixture(scope="module")
def hour_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("hour") / "hour.duckdb"
    orders = pd.DataFrame({
        "order_id": ["o1", "o2"], "customer_id": ["X", "Y"], "status": "paid",
        "ordered_at": [kst("2026-11-16 13:59"), kst("2026-11-16 14:00")], "amount": 10000.0})
    events = pd.DataFrame({
        "customer_id": ["P", "Q"], "type": "cart_add", "product_id": "P1",
        "ts": [kst("2026-11-16 12:59"), kst("2026-11-16 13:00")]})
    with write_store(path, settings=Settings(), fresh=True) as w:
        w.write("customers", _customers(["P", "Q", "X", "Y"]))
        w.write("orders", orders)
        w.write("order_items", pd.DataFrame({
            "order_id": ["o1", "o2"], "line_no": 1, "product_id": "P2", "quantity": 1,
            "line_amount": 10000.0}))
        w.write("events", events)
    return path


def _members_at(path, definition, as_of) -> list[str]:
    s = Settings(store=str(path))
    con = connect(path, settings=s)
    try:
        return sorted(Audience(definition, con, as_of=as_of, settings=s).members(
            masked=False, columns=("customer_id",))["customer_id"])
    finally:
        con.disconnect()


@pytest.mark.parametrize(("as_of", "members"), [
    (datetime(2026, 11, 16, 14, 0), ["X"]),         # the 14:00 order is not before 14:00
    (datetime(2026, 11, 16, 14, 1), ["X", "Y"]),
    (date(2026, 11, 16), []),                       # a date: local midnight
], ids=["14:00", "14:01", "midnight"])
def test_an_hour_level_cut_off(hour_store, as_of, members):
    bought = AudienceDefinition("bought", rules=Group("and", (Condition.make("orders"),)))
    assert _members_at(hour_store, bought, as_of) == members


def test_hourly_recipes(hour_store):
    from workbench.audience.recipes import load_recipe

    # First order in [cut-off - 25 h, cut-off - 1 h): at 15:00 the 13:59 order is in, 14:00 not.
    first = load_recipe("first_purchase_1h")
    assert _members_at(hour_store, first, datetime(2026, 11, 16, 15, 0)) == ["X"]
    assert _members_at(hour_store, first, datetime(2026, 11, 16, 15, 1)) == ["X", "Y"]
    # Cart +1 h: added more than an hour before the cut-off.
    cart = load_recipe("cart_abandonment_1h")
    assert _members_at(hour_store, cart, datetime(2026, 11, 16, 14, 0)) == ["P"]
    assert _members_at(hour_store, cart, datetime(2026, 11, 16, 14, 1)) == ["P", "Q"]
    # Cart +24 h: not yet.
    cart24 = load_recipe("cart_abandonment_24h")
    assert _members_at(hour_store, cart24, datetime(2026, 11, 17, 13, 0)) == ["P"]


# --------------------------------------------------------------------------- command line


def test_cli_hourly_export(cap_store, tmp_path, capsys):
    from workbench.audience.cli import main

    folder = tmp_path / "audiences"
    from workbench.audience import save_definition

    save_definition(AudienceDefinition("hourly", channel="push", is_ad=False, purpose="tips"),
                    folder)
    base = ["--store", str(cap_store), "--dir", str(folder)]
    assert main(["count", "hourly", "--as-of", "2026-11-16 14:00", *base]) == 0
    assert "hourly as of 2026-11-16 14:00: 13 customers" in capsys.readouterr().out
    args = ["export", "hourly", "--as-of", "2026-11-16 14:00", "--send-at", "2026-11-16 14:00",
            *base]
    assert main([*args, "--since-last-export", "--out", str(tmp_path / "a.csv")]) == 0
    capsys.readouterr()
    assert main([*args, "--since-last-export", "--out", str(tmp_path / "b.csv"),
                 "--cooldown", "2h"]) == 0
    out = capsys.readouterr().out
    assert "hourly as of 2026-11-16 14:00, send at 2026-11-16 14:00:" in out
    assert "Wrote 0 rows" in out and "already exported for this audience within the cooldown 13" in out
    assert main([*args, "--out", str(tmp_path / "c.csv"), "--cooldown", "2h"]) == 2
    assert "--cooldown only applies with --since-last-export" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["audience", "count", "welcome", "--as-of", "2026-11-16 25:00"],
     "expected a date 'YYYY-MM-DD' (local midnight) or a local time 'YYYY-MM-DD HH:MM'"),
    (["audience", "export", "welcome", "--send-at", "2026-11-16"],
     "a send time needs the time of day, 'YYYY-MM-DD HH:MM', e.g. '2026-11-16 10:00'"),
    (["audience", "export", "welcome", "--since-last-export", "--cooldown", "0h"],
     "argument --cooldown: expected a duration such as '24h', '2d' or '1w' (at least 1 hour)"),
    (["refresh", "--as-of", "2026-11-16 14:00"],
     "this option takes a day, YYYY-MM-DD (the command works on whole days"),
    (["churn", "train", "--as-of", "2026-11-16 14:00"], "this option takes a day"),
    (["report", "weekly", "--as-of", "2026-11-16T14:00"], "this option takes a day"),
], ids=["bad-hour", "send-date-only", "cooldown", "refresh", "churn", "report"])
def test_cli_time_arguments(argv, message, capsys):
    from workbench.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
