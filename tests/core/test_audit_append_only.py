"""Defect 7 of issue 11: the audit log is append-only in the ORM and in the database; shops are archived."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.test import Client
from django.utils import timezone

from kefu.core.models import AuditLog, Shop
from kefu.core.scheduler import tick
from kefu.core.services import audit_record, shop_archive

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(shop, manager):
    audit_record(shop=shop, action="test.one", entity=shop, after={"n": 1})
    return AuditLog.objects.filter(shop=shop)


def test_orm_refuses_every_change(rows):
    n, first = rows.count(), rows.first()
    with pytest.raises(ValueError, match="append-only"):
        rows.update(action="forged")
    with pytest.raises(ValueError, match="append-only"):
        AuditLog.objects.bulk_update([first], ["action"])
    with pytest.raises(ValueError, match="append-only"):
        rows.delete()
    with pytest.raises(ValueError, match="append-only"):
        first.delete()
    first.action = "forged"
    with pytest.raises(ValueError, match="append-only"):
        first.save()
    assert rows.count() == n and not AuditLog.objects.filter(action="forged").exists()


@pytest.mark.parametrize("sql", ["UPDATE core_auditlog SET action = 'forged'", "DELETE FROM core_auditlog"])
def test_database_refuses_update_and_delete(rows, sql):
    n = AuditLog.objects.count()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
    assert AuditLog.objects.count() == n and not AuditLog.objects.filter(action="forged").exists()
    # Adding is still allowed, in plain SQL too.
    with connection.cursor() as cur:
        cur.execute("INSERT INTO core_auditlog (actor_label, action, entity_type, entity_id, created_at) "
                    "VALUES ('sql', 'test.sql', 'Shop', '1', CURRENT_TIMESTAMP)")
    assert AuditLog.objects.count() == n + 1


def test_a_shop_and_a_login_with_audit_rows_cannot_be_deleted(rows, shop, manager):
    n = AuditLog.objects.count()
    with pytest.raises(ProtectedError):
        shop.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        audit_record(shop=shop, actor=manager.user, action="test.by", entity=shop)
        manager.user.delete()
    assert Shop.objects.filter(pk=shop.pk).exists() and AuditLog.objects.count() == n


def test_archived_shop_leaves_login_switch_api_and_scheduler(shop, other_shop, manager, token):
    from kefu.core.services import person_create

    # The manager also works in the other shop; a second person works only in the archived one.
    person_create(shop=other_shop, name="经理", username="mgr", roles=["manager"], group="")
    only = person_create(shop=shop, name="独", username="only", password="pass-word-1", roles=["agent"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/shop/settings").status_code == 200
    assert len(tick()) > 0

    call_command("shop", "archive", "s1")
    shop.refresh_from_db()
    assert shop.archived_at is not None
    assert AuditLog.objects.filter(shop=shop, action="shop.archive").count() == 1
    with pytest.raises(CommandError, match="already archived"):
        call_command("shop", "archive", "s1")

    assert api.get("/api/v1/shop/settings").status_code == 401  # its tokens stop working
    c = Client()
    c.force_login(manager.user)
    assert c.get("/api/v1/shop/settings?shop=s1").status_code == 404
    assert c.get("/api/v1/shop/settings?shop=s2").status_code == 200
    assert c.post("/shop/", {"shop_id": shop.pk, "next": "/"}).status_code == 404
    page = c.get("/settings/")
    assert page.status_code == 200 and "别家店" in page.content.decode()  # lands in the shop still open
    assert "测试旗舰店" not in page.content.decode()
    c2 = Client()
    assert c2.post("/login/", {"username": "only", "password": "pass-word-1"}).status_code == 302
    assert c2.get("/").status_code == 403  # logged in, but works in no open shop
    assert only.shop_id == shop.pk
    fired = tick(timezone.now() + dt.timedelta(days=3))  # the daily jobs are due again
    assert fired and {code for _job, code, _period in fired} == {"s2"}
    assert Shop.objects.active().count() == 1 and Shop.objects.count() == 2


def test_cli_lists_archived(shop, capsys):
    shop_archive(shop=shop)
    call_command("shop", "list")
    assert "archived" in capsys.readouterr().out
