"""The sample shop as the files a Cafe24 shop downloads: members, orders, web events.

``workbench sample --as-files DIR`` writes them so the campaign loop of a real shop can be
walked from a fresh checkout (README, "The campaign loop"): load the member export with
``--mapping cafe24_members``, the order export with ``--mapping cafe24``, the events as they
are. Loading the files gives back the sample's customers, orders and lines (the columns the
exports carry), which ``tests/data/test_shop_files.py`` checks.

- ``회원목록.xlsx``: one row per member (guests are not members and only appear in orders), with
  the headers of Cafe24's member download (see ``data/mappings/cafe24_members.toml`` for where
  each header was observed); consent as ``Y``/``N`` with its date, birth dates as
  ``YYYY-MM-DD``, points as numbers.
- ``주문목록.xlsx``: one row per order line; order columns repeat on every line, statuses in
  Cafe24's Korean wording (``배송완료``, ``취소완료`` ...), guests with an empty member ID.
- ``events.csv`` and ``products.csv``: canonical columns (no platform exports these; shops get
  them from their analytics tag or catalogue), UTF-8 with BOM.

Times are written as wall-clock time in the shop's zone, as the platforms do.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from workbench.data.sample import generate_sample
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["MEMBER_FILE", "ORDER_FILE", "write_shop_files"]

MEMBER_FILE = "회원목록.xlsx"
ORDER_FILE = "주문목록.xlsx"
EVENT_FILE = "events.csv"
PRODUCT_FILE = "products.csv"

#: Canonical status -> the wording of Cafe24's 주문상태 column (N00-N50, C.., R..).
CAFE24_STATUS = {"pending": "입금전", "paid": "상품준비중", "shipped": "배송중",
                 "delivered": "배송완료", "confirmed": "구매확정", "cancelled": "취소완료",
                 "returned": "반품완료"}
#: Canonical order channel -> Cafe24's 주문경로.
CAFE24_CHANNEL = {"own": "PC쇼핑몰", "app": "모바일앱", "naverpay": "네이버 페이",
                  "kakao": "카카오페이"}
#: Consent flags as Cafe24 writes them.
YES_NO = {True: "Y", False: "N"}

#: Member export header -> canonical customers column (the order is the file's).
MEMBER_HEADERS = {
    "아이디": "customer_id",
    "이름": "name",
    "회원등급": "member_tier",
    "휴대폰번호": "phone",
    "이메일": "email",
    "생년월일": "birth_date",
    "회원가입일": "signup_at",
    "SMS 수신여부": "sms_opt_in",
    "SMS 수신동의일": "sms_consent_at",
    "뉴스메일 수신여부": "email_opt_in",
    "뉴스메일 수신동의일": "email_consent_at",
    "가용적립금": "points_balance",
    "최근접속일": "last_login_at",
    "지역": "region",
    "가입경로": "acquisition_channel",
}

#: Order export header -> canonical column (``orders`` or ``order_items``).
ORDER_HEADERS = {
    "주문번호": "order_id",
    "주문일시": "ordered_at",
    "주문자ID": "customer_id",
    "주문상태": "status",
    "총결제금액(KRW)": "amount",
    "쿠폰할인금액": "discount",
    "사용한 적립금액": "points_used",
    "총배송비(KRW)": "shipping_fee",
    "사용한쿠폰명": "coupon_code",
    "주문경로": "channel",
    "배송완료일": "delivered_at",
    "상품코드": "product_id",
    "상품명": "product_name",
    "상품옵션": "option",
    "수량": "quantity",
    "판매가": "unit_price",
    "상품구매금액(KRW)": "line_amount",
}


def write_shop_files(folder: str | os.PathLike[str], customers: int, *, seed: int = 42,
                     end: dt.date, timezone: str = "Asia/Seoul",
                     force: bool = False) -> dict[str, Path]:
    """Write the sample shop as Cafe24 member and order exports plus events and products.

    Parameters
    ----------
    folder
        Folder to write into (created if missing). Files already there are refused unless
        ``force``.
    customers, seed, end, timezone
        As for :func:`workbench.data.sample.generate_sample`.
    force
        Replace files of the same names.

    Returns
    -------
    dict[str, Path]
        ``members``, ``orders``, ``events``, ``products`` -> the file written.

    Raises
    ------
    ParameterError
        ``folder`` is a file, or holds one of the files and ``force`` is not set.
    """
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise ParameterError(tr("sample.files_not_folder", path=str(target)))
    paths = {"members": target / MEMBER_FILE, "orders": target / ORDER_FILE,
             "events": target / EVENT_FILE, "products": target / PRODUCT_FILE}
    taken = [p.name for p in paths.values() if p.exists() or p.is_symlink()]
    if taken and not force:
        raise ParameterError(tr("sample.files_exist", path=str(target), files=", ".join(taken)))
    chunks: dict[str, list[pa.Table]] = {}
    for name, chunk in generate_sample(customers, seed=seed, end=end, timezone=timezone):
        if name in ("customers", "orders", "order_items", "events", "products"):
            chunks.setdefault(name, []).append(chunk)
    frames = {name: pa.concat_tables(parts).to_pandas() for name, parts in chunks.items()}
    target.mkdir(parents=True, exist_ok=True)
    _write_xlsx(paths["members"], _members(frames["customers"], timezone), "회원목록")
    _write_xlsx(paths["orders"], _orders(frames["orders"], frames["order_items"], timezone),
                "주문내역")
    _write_csv(paths["events"], _local(frames["events"], ("ts",), timezone))
    _write_csv(paths["products"], frames["products"])
    return paths


def _local(frame: pd.DataFrame, columns: tuple[str, ...], timezone: str) -> pd.DataFrame:
    """Return times as naive wall-clock time in the shop's zone, to the second."""
    out = frame.copy()
    for name in columns:
        out[name] = out[name].dt.tz_convert(timezone).dt.tz_localize(None).dt.floor("s")
    return out


def _members(customers: pd.DataFrame, timezone: str) -> pd.DataFrame:
    m = customers[customers["is_member"].fillna(False).astype(bool)].copy()
    for column in MEMBER_HEADERS.values():  # a generator without the column: empty cells
        if column not in m.columns:
            m[column] = (pd.Series(pd.NaT, index=m.index, dtype=f"datetime64[us, {timezone}]")
                         if column.endswith("_at") else pd.Series(None, index=m.index))
    m = _local(m, ("signup_at", "sms_consent_at", "email_consent_at", "last_login_at"),
               timezone)
    out = pd.DataFrame(index=m.index)
    for header, column in MEMBER_HEADERS.items():
        values = m[column]
        if column in ("sms_opt_in", "email_opt_in"):
            values = values.map(lambda v: YES_NO[bool(v)] if pd.notna(v) else "N")
        elif column == "birth_date":
            values = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
        out[header] = values
    return out.reset_index(drop=True)


def _orders(orders: pd.DataFrame, items: pd.DataFrame, timezone: str) -> pd.DataFrame:
    o = _local(orders, ("ordered_at", "delivered_at"), timezone)
    o["status"] = o["status"].map(CAFE24_STATUS)
    o["channel"] = o["channel"].map(lambda c: CAFE24_CHANNEL.get(c, c))
    lines = items.merge(o, on="order_id", how="inner").sort_values(["order_id", "line_no"])
    out = pd.DataFrame({header: lines[column].to_numpy()
                        for header, column in ORDER_HEADERS.items()})
    return out.reset_index(drop=True)


def _write_xlsx(path: Path, frame: pd.DataFrame, sheet: str) -> None:
    # openpyxl's write-only mode streams rows: a 20,000-customer shop's order file has about
    # 300,000 lines.
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    tmp = path.with_name(f".{path.name}.part")
    book.save(tmp)
    os.chmod(tmp, 0o600)  # names, phones and emails, even if synthetic: as the exports are
    os.replace(tmp, path)


def _cell(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.part")
    frame.to_csv(tmp, index=False, encoding="utf-8-sig")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
