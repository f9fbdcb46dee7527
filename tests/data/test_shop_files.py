"""The sample shop written as Cafe24 exports loads back into the sample's own tables."""

import datetime as dt

import pandas as pd
import pytest

from workbench.data import connect
from workbench.data.load import load_file
from workbench.data.sample import write_sample
from workbench.data.shop_files import write_shop_files
from workbench.errors import ParameterError

END = dt.date(2026, 12, 8)
N = 400


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """The same sample twice: as a store, and as files loaded through the Cafe24 mappings."""
    root = tmp_path_factory.mktemp("shop")
    write_sample(root / "sample.duckdb", N, seed=7, end=END)
    files = write_shop_files(root / "files", N, seed=7, end=END)
    loaded = root / "loaded.duckdb"
    load_file("customers", files["members"], mapping="cafe24_members", store=loaded)
    load_file("orders", files["orders"], mapping="cafe24", store=loaded)
    load_file("events", files["events"], store=loaded)
    load_file("products", files["products"], store=loaded)
    return root / "sample.duckdb", loaded, files


def _table(path, name, key):
    con = connect(path)
    try:
        return con.table(name).to_pandas().sort_values(list(key)).reset_index(drop=True)
    finally:
        con.disconnect()


def test_files_are_private_and_excel_reads_them(shop):
    _, _, files = shop
    for path in files.values():
        assert path.stat().st_mode & 0o777 == 0o600
    assert files["events"].read_bytes()[:3] == b"\xef\xbb\xbf"


def test_orders_and_lines_come_back_as_the_sample_wrote_them(shop):
    sample, loaded, _ = shop
    a = _table(sample, "orders", ["order_id"])
    b = _table(loaded, "orders", ["order_id"])
    assert len(a) == len(b)
    for column in ("order_id", "customer_id", "status", "amount", "discount", "points_used",
                   "shipping_fee", "coupon_code"):
        pd.testing.assert_series_equal(a[column], b[column], check_dtype=False,
                                       check_names=False, obj=column)
    # The exports keep whole seconds in the shop's zone.
    assert (a["ordered_at"].dt.floor("s") == b["ordered_at"]).all()
    la = _table(sample, "order_items", ["order_id", "line_no"])
    lb = _table(loaded, "order_items", ["order_id", "line_no"])
    for column in ("order_id", "line_no", "product_id", "product_name", "quantity",
                   "line_amount"):
        pd.testing.assert_series_equal(la[column], lb[column], check_dtype=False,
                                       check_names=False, obj=column)


def test_members_come_back_with_consent_tier_and_points(shop):
    sample, loaded, _ = shop
    a = _table(sample, "customers", ["customer_id"])
    a = a[a["is_member"].fillna(False).astype(bool)].reset_index(drop=True)
    b = _table(loaded, "customers", ["customer_id"])
    b = b[b["customer_id"].isin(a["customer_id"])].reset_index(drop=True)
    assert len(a) == len(b)
    for column in ("customer_id", "name", "phone", "email", "birth_date", "member_tier",
                   "points_balance", "region", "acquisition_channel"):
        pd.testing.assert_series_equal(a[column], b[column], check_dtype=False,
                                       check_names=False, obj=column)
    for column in ("sms_opt_in", "email_opt_in"):
        assert (a[column].fillna(False).astype(bool) == b[column].astype(bool)).all(), column
    for column in ("signup_at", "sms_consent_at", "email_consent_at", "last_login_at"):
        want = a[column].dt.floor("s")
        assert ((want == b[column]) | (want.isna() & b[column].isna())).all(), column


def test_existing_files_are_refused_without_force(shop, tmp_path):
    _, _, files = shop
    folder = files["members"].parent
    with pytest.raises(ParameterError, match="--force"):
        write_shop_files(folder, 10, end=END)
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(ParameterError, match="folder"):
        write_shop_files(target, 10, end=END)
