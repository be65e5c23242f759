"""Item 8 of issue 11: a backup restores every table's rows and the same KPI report (both databases)."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import audit_record
from kefu.metrics.kpi import kpi_report
from kefu.orders.services import orders_clean, orders_upsert

DAY = dt.date(2026, 11, 1)


def ingest(shop, prefix: str, n: int):
    rows = []
    for i in range(n):
        rows.append({"message_id": f"{prefix}q{i}", "buyer_id": f"{prefix}b{i}", "agent_id": f"店:客服{i % 3}",
                     "sender": "buyer", "sent_at": f"2026-11-01 1{i % 10}:00:00", "text": "在吗"})
        rows.append({"message_id": f"{prefix}a{i}", "buyer_id": f"{prefix}b{i}", "agent_id": f"店:客服{i % 3}",
                     "sender": "agent", "sent_at": f"2026-11-01 1{i % 10}:00:{10 + i % 40}", "text": "在的"})
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))
    orders = [{"order_id": f"{prefix}o{i}", "buyer_id": f"{prefix}b{i}", "created_at": f"2026-11-01 1{i % 10}:30",
               "paid_at": f"2026-11-01 1{i % 10}:31", "total_amount": f"{10 + i}.50", "paid_amount": f"{10 + i}.50"}
              for i in range(0, n, 2)]
    orders_upsert(shop=shop, rows=orders_clean(orders, tz=shop.tz))


def snapshot(shop) -> tuple[dict, str]:
    counts = {}
    with connection.cursor() as cur:
        for table in sorted(connection.introspection.table_names()):
            cur.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cur.fetchone()[0]
    report = json.dumps(kpi_report(shop=shop, date_from=DAY, date_to=DAY, by="agent"), sort_keys=True, default=str)
    return counts, report


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip(shop, manager, tmp_path, capsys):
    ingest(shop, "x", 24)
    before = snapshot(shop)
    assert before[0]["conversations_message"] == 48 and before[0]["core_auditlog"] > 0

    out = tmp_path / "kefu.backup"
    call_command("backup", "--out", str(out))
    assert out.stat().st_size > 0 and "wrote" in capsys.readouterr().out

    ingest(shop, "later", 10)  # written after the backup: must be gone after the restore
    audit_record(shop=shop, action="test.after_backup", entity=shop)
    changed = snapshot(shop)
    assert changed != before

    call_command("restore", str(out), "--yes")
    shop.refresh_from_db()
    after = snapshot(shop)
    assert after[0] == before[0]
    assert after[1] == before[1]
    # The restored audit log is still append-only in the database.
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditlog")


@pytest.mark.django_db
def test_restore_refuses_what_is_not_a_backup(tmp_path):
    bad = tmp_path / "not-a-backup"
    bad.write_bytes(b"hello")
    with pytest.raises(CommandError, match="not a"):
        call_command("restore", str(bad), "--yes")
    with pytest.raises(CommandError, match="no backup file"):
        call_command("restore", str(tmp_path / "missing"), "--yes")
