"""Exports note a send on a Korean public holiday or the day before one (en/ko, CLI)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.audience.conftest import AS_OF
from workbench.audience import Audience, AudienceDefinition, Group, export_audience
from workbench.data import connect
from workbench.i18n import using_language
from workbench.settings import Settings

MESSAGE = "(광고) 워크샵 겨울 세일 무료거부 080-123-4567"
NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
ON_HOLIDAY = ("Note: the send time 2026-12-25 10:00 falls on a public holiday (Christmas Day). "
              "Many customers are away and couriers stop, so replies and orders come later; a "
              "delivery promise or a +24 h follow-up should move to the next business day, Mon "
              "28 Dec 2026.")
ON_EVE_KO = ("참고: 발송 시각 2026-12-24 10:00은 공휴일(기독탄신일, 2026년 12월 25일 (금)) 전날"
             "입니다. 지금 들어온 주문은 공휴일이 지나야 발송되니 메시지에 알리고, +24시간 후속 "
             "발송은 다음 영업일인 2026년 12월 28일 (월)로 옮기세요.")


def _export(path, out, send_at):
    d = AudienceDefinition("everyone", rules=Group("and", ()), channel="sms", is_ad=True,
                           purpose="winter sale")
    settings = Settings(store=str(path))
    aud = Audience(d, connect(path, settings=settings), as_of=AS_OF, settings=settings)
    try:
        return export_audience(aud, out=out, send_at=send_at, message=MESSAGE, sender="워크샵",
                               now=NOW)
    finally:
        aud.con.disconnect()


@pytest.mark.parametrize(("send_at", "language", "expected"), [
    (datetime(2026, 12, 25, 10), "en", ON_HOLIDAY),
    (datetime(2026, 12, 24, 10), "ko", ON_EVE_KO),
    (datetime(2026, 12, 23, 10), "en", None),
], ids=["holiday", "eve-ko", "ordinary"])
def test_export_notes_holidays(tiny_copy, tmp_path, send_at, language, expected):
    with using_language(language):
        result = _export(tiny_copy, tmp_path / "out.csv", send_at)
    calendar_notes = [n for n in result.notes
                      if n.startswith(("Note: the send time", "참고: 발송"))]
    assert calendar_notes == ([expected] if expected else [])
    assert result.rows == 1  # the note changes nothing about who is exported


def test_cli_prints_the_note(tiny_copy, tmp_path, capsys):
    from workbench.audience import save_definition
    from workbench.audience.cli import main

    folder = tmp_path / "audiences"
    save_definition(AudienceDefinition("everyone", rules=Group("and", ()), purpose="sale"),
                    folder)
    msg = tmp_path / "msg.txt"
    msg.write_text(MESSAGE + "\n", encoding="utf-8")
    code = main(["export", "everyone", "--as-of", "2026-11-16", "--channel", "sms", "--out",
                 str(tmp_path / "x.csv"), "--message", str(msg), "--sender", "워크샵",
                 "--send-at", "2026-12-25 10:00", "--store", str(tiny_copy), "--dir",
                 str(folder)])
    assert code == 0, capsys.readouterr().err
    assert ON_HOLIDAY in capsys.readouterr().out
