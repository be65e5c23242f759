import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from kefu.aftersales.services import MoneyLineIn, case_open
from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.orders.models import Order, OrderItem


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="主管阿琳", username="sup", password="pass-word-1", roles=["supervisor"])


@pytest.fixture
def agent2(shop):
    return person_create(shop=shop, name="小丽", username="xiaoli", password="pass-word-1", roles=["agent"])


@pytest.fixture
def order(shop):
    customer = Customer.objects.create(shop=shop, buyer_id="buyer1", nick="小王")
    o = Order.objects.create(shop=shop, order_id="T1001", customer=customer, status="signed",
                             total_amount=Decimal("188.00"), paid_amount=Decimal("168.00"),
                             created_at=dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC),
                             signed_at=dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC))
    OrderItem.objects.create(order=o, sku_code="DRESS-M", quantity=2, price=Decimal("84.00"))
    OrderItem.objects.create(order=o, sku_code="BELT", quantity=1, price=Decimal("8.00"))
    return o


def make_case(shop, actor, order=None, amount=None, type="return_refund", reason="quality", **kw):
    lines = [MoneyLineIn(kind="goods", direction="shop_to_buyer", amount=amount)] if amount else []
    return case_open(shop=shop, actor_agent=actor, type=type, reason=reason, order=order,
                     items=[("DRESS-M", 1)] if order else [], money_lines=lines, **kw)


def login(agent) -> Client:
    c = Client()
    c.force_login(agent.user)
    return c


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    """Evidence files go to a temporary DATA_DIR (the storage's fallback location)."""
    settings.DATA_DIR = tmp_path
    return tmp_path / "evidence"


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG, built by hand so the tests need no image library."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32
