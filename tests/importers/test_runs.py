"""File imports write in short transactions, record their run, and a re-run finishes an interrupted
file (issue 11, item 2 and defect 6); ids repeated in one file are named (defect 9)."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError

from kefu.conversations.models import Message
from kefu.importers import checking, services
from kefu.importers.models import ImportRun
from kefu.metrics.audit import rollup_differences
from kefu.orders.models import Order
from tests.importers.test_bad_input import MSG_HEAD, MSG_ROWS, ORD_HEAD, ORD_ROWS, imp, write_csv

pytestmark = pytest.mark.django_db


def orders_file(path, n, start=0):
    rows = [[f"T{i:05d}", f"b{i % 41}", "2026-11-01 10:00:00", "2026-11-01 10:05:00", "10.00", "10.00", "0"]
            for i in range(start, start + n)]
    return write_csv(path, ORD_HEAD, rows)


def test_batches_are_short_transactions_and_the_run_is_recorded(shop, tmp_path, monkeypatch):
    monkeypatch.setattr(checking, "BATCH", 7)
    seen = []
    got = services.file_import(shop=shop, kind="orders", path=orders_file(tmp_path / "o.csv", 30),
                               progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 30), (7, 30), (14, 30), (21, 30), (28, 30), (30, 30)]
    assert (got.result.created, got.result.updated, got.result.duplicates) == (30, 0, 0)
    run = ImportRun.objects.get()
    assert (run.state, run.rows_total, run.rows_done, run.created) == ("done", 30, 30, 30)
    assert run.finished_at is not None and len(run.file_sha256) == 64
    assert Order.objects.filter(shop=shop).count() == 30
    assert rollup_differences(shop=shop) == []


def test_an_interrupted_import_is_finished_by_running_it_again(shop, tmp_path, monkeypatch):
    """The database fails on the third batch: two batches stay written and recorded; the same
    command again writes the rest, and the summary counts the whole file once."""
    monkeypatch.setattr(checking, "BATCH", 10)
    path = orders_file(tmp_path / "o.csv", 45)
    real, calls = services.orders_load, []

    def flaky(**kw):
        calls.append(len(kw["rows"]))
        if len(calls) == 3:
            raise OperationalError("database is locked")
        return real(**kw)

    monkeypatch.setattr(services, "orders_load", flaky)
    with pytest.raises(CommandError, match=r"import interrupted: stopped after 20 of 45 rows .*run the same command again"):
        imp("orders", path)
    assert Order.objects.filter(shop=shop).count() == 20
    run = ImportRun.objects.get()
    assert (run.state, run.rows_done, run.created, run.owner) == ("running", 20, 20, "")

    monkeypatch.setattr(services, "orders_load", real)
    out, _ = imp("orders", path)
    assert "resumed an interrupted import of this file at row 21 of 45" in out
    assert "orders: 45 created, 0 updated, 0 unchanged/duplicate" in out
    assert "25 rows written" in out
    assert ImportRun.objects.get().state == "done"
    assert sorted(Order.objects.filter(shop=shop).values_list("order_id", flat=True)) == [f"T{i:05d}" for i in range(45)]
    assert rollup_differences(shop=shop) == []
    # a finished file imported again is a new run that changes nothing
    assert "0 created, 0 updated, 45 unchanged/duplicate" in imp("orders", path)[0]
    assert ImportRun.objects.count() == 2


def test_a_run_of_a_living_process_is_not_taken_over(shop, tmp_path, monkeypatch):
    """Another process (alive, recent) is still writing the file: a second import writes it all itself."""
    path = orders_file(tmp_path / "o.csv", 12)
    got = services.file_import(shop=shop, kind="orders", path=path)
    ImportRun.objects.update(state="running", rows_done=5, owner="elsewhere.example:1")
    again = services.file_import(shop=shop, kind="orders", path=path)
    assert again.resumed_from == 0 and again.result.duplicates == 12 and got.result.created == 12
    assert ImportRun.objects.filter(state="running").count() == 1


def test_summary_shows_rows_per_second(shop, tmp_path):
    out, _ = imp("orders", orders_file(tmp_path / "o.csv", 5))
    assert "5 rows written in" in out and "rows/s)" in out


# --- ids repeated in one file (defect 9) ------------------------------------------------------------


def test_repeated_message_ids_are_named_and_the_first_line_kept(shop, tmp_path):
    rows = [*MSG_ROWS, ["m2", "tb_张三", "店铺:小美", "agent", "2026-11-01 10:02:00", "另一条", ""],
            ["m3", "tb_李四", "店铺:小美", "buyer", "2026-11-01 23:59:30", "又一条", ""]]
    out, err = imp("messages", write_csv(tmp_path / "m.csv", MSG_HEAD, rows))
    assert "2 message_id(s) repeated in the file, the first line is kept" in err
    assert "m2 (lines 3, 6)" in err and "m3 (lines 4, 7)" in err
    assert "4 created, 0 updated, 2 unchanged/duplicate" in out
    assert Message.objects.get(message_id="m2").text == "亲，有货的哦"


def test_repeated_order_ids_are_named_and_the_last_line_kept(shop, tmp_path):
    rows = [*ORD_ROWS, ["TB1002", "tb_李四", "2026-11-01 11:00:00", "2026-11-01 11:30:00", "20.00", "20.00", "0"]]
    out, err = imp("orders", write_csv(tmp_path / "o.csv", ORD_HEAD, rows))
    assert "1 order_id(s) repeated in the file, the last line is kept" in err and "TB1002 (lines 3, 5)" in err
    assert "3 created" in out
    assert Order.objects.get(order_id="TB1002").paid_amount == Decimal("20.00")


def test_repeated_taobao_order_ids_are_named(shop, tmp_path):
    head = ["订单编号", "买家会员名", "总金额", "买家实际支付金额", "订单状态", "订单创建时间", "订单付款时间", "退款金额"]
    rows = [["5001", "tb_赵六", "58", "58", "等待买家付款", "2026/11/1 9:00", "", "0"],
            ["5002", "tb_钱七", "30", "30", "交易成功", "2026/11/1 9:30", "2026/11/1 9:31", "0"],
            ["5001", "tb_赵六", "58", "58", "交易成功", "2026/11/1 9:00", "2026/11/1 9:01", "0"]]
    out, err = imp("orders", write_csv(tmp_path / "tb.csv", head, rows), fmt="taobao")
    assert "5001 (lines 2, 4)" in err and "the last line is kept" in err
    assert Order.objects.get(order_id="5001").status == "completed"


def test_item_lines_of_one_order_are_not_repeats(shop, tmp_path):
    """JD exports repeat the order id on each item line: grouped, no warning."""
    from tests.importers.test_formats import FIX

    out, err = io.StringIO(), io.StringIO()
    call_command("import", "orders", str(FIX / "jd_orders.csv"), shop="s1", format="jd", stdout=out, stderr=err)
    assert "repeated" not in err.getvalue()


def test_duplicate_warning_is_bounded():
    rows = [{"order_id": f"T{i % 15}", "_line": i + 2} for i in range(30)]
    [w] = services.duplicate_ids("orders", rows)
    assert w.startswith("15 order_id(s) repeated") and w.endswith("; and 5 more")
    assert services.duplicate_ids("orders", [{"order_id": "A"}, {"order_id": "B"}]) == []


def test_a_file_import_of_history_emits_no_order_events(shop, manager, tmp_path):
    """order.created is for live orders (API); a file of history would flood the webhooks (before:
    one event per imported order)."""
    from kefu.integrations.models import OutboxEvent
    from kefu.integrations.webhooks import subscription_save
    from kefu.orders.services import orders_clean, orders_upsert

    subscription_save(shop=shop, actor=manager, name="ERP", url="http://127.0.0.1:9/hook",
                      event_types=["order.created"])
    imp("orders", orders_file(tmp_path / "o.csv", 5))
    assert Order.objects.filter(shop=shop).count() == 5 and not OutboxEvent.objects.exists()
    row = {"order_id": "LIVE1", "buyer_id": "b1", "created_at": "2026-11-02T10:00:00"}
    orders_upsert(shop=shop, rows=orders_clean([row], tz=shop.tz))
    assert OutboxEvent.objects.filter(type="order.created").count() == 1


def test_no_import_into_an_archived_shop(shop, tmp_path):
    from kefu.core.services import shop_archive

    shop_archive(shop=shop)
    with pytest.raises(CommandError, match="archived: nothing imported"):
        imp("orders", orders_file(tmp_path / "o.csv", 3))
    assert not Order.objects.exists() and not ImportRun.objects.exists()
