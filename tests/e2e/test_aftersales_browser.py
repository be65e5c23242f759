"""One return in the browser, from the buyer's request to the refund (Playwright on Debian's chromium):
open the case from the order, add the money line, attach the photo, move it along with htmx, refund."""

import datetime as dt
from decimal import Decimal

import pytest

from kefu.aftersales.models import Case, Evidence
from kefu.core.services import person_create, shop_create
from kefu.customers.models import Customer
from kefu.orders.models import Order, OrderItem
from tests.aftersales.conftest import png_bytes
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login

pytestmark = BROWSER_TEST


@pytest.fixture
def shop_with_order(transactional_db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    shop = shop_create(code="e2e", name="浏览器测试店")
    person_create(shop=shop, name="小美", username="xm", password="pass-word-1", roles=["agent"])
    buyer = Customer.objects.create(shop=shop, buyer_id="tb_buyer9", nick="小王")
    now = dt.datetime.now(dt.UTC)
    o = Order.objects.create(shop=shop, order_id="E2E-1", customer=buyer, status="signed",
                             total_amount=Decimal("84"), paid_amount=Decimal("84"), created_at=now - dt.timedelta(days=3),
                             signed_at=now - dt.timedelta(days=1))
    OrderItem.objects.create(order=o, sku_code="CUP-1", quantity=1, price=Decimal("18.00"))
    return shop


def test_a_return_from_request_to_refund(live_server, shop_with_order, tmp_path):
    from playwright.sync_api import sync_playwright

    photo = tmp_path / "破损.png"
    photo.write_bytes(png_bytes(16, 16))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            login(page, live_server.url, "xm")

            page.goto(f"{live_server.url}/aftersales/new/?order=E2E-1")
            page.select_option("select[name=type]", "return_refund")
            page.select_option("select[name=reason]", "quality")
            page.fill("input[name=sku]", "CUP-1")
            page.fill("textarea[name=note]", "杯口有裂纹")
            page.click("main form button")
            page.wait_for_url("**/aftersales/*/")
            case = Case.objects.get()
            assert page.locator("#case-state").inner_text() == "待处理"
            assert "质量问题" in page.locator("#policy").inner_text() or "建议处理" in page.locator("#policy").inner_text()

            # The refund as a money line (htmx: the panel is swapped, the page not reloaded).
            page.evaluate("window.__kefu_marker = 1")
            page.select_option("#line-add select[name=kind]", "goods")
            page.select_option("#line-add select[name=direction]", "shop_to_buyer")
            page.fill("#line-add input[name=amount]", "18")
            page.click("#line-add button")
            page.wait_for_selector("#money-lines >> text=¥18.00")
            assert page.evaluate("window.__kefu_marker") == 1

            # The buyer's photo.
            page.set_input_files("#evidence input[type=file]", str(photo))
            page.click("#evidence button")
            page.wait_for_selector("#timeline >> text=上传凭证")
            assert Evidence.objects.get().buyer_id == "tb_buyer9"

            # Ask for the parcel back, receive it, inspect it.
            for to, label in (("waiting_return", "等待退货"), ("received", "已收到退货"), ("inspected", "已验货")):
                page.click(f"#actions button[value={to}]")
                page.wait_for_selector(f"#case-state >> text={label}")

            # Refund within the agent's authority (¥18 ≤ ¥20).
            page.click("#refund-form button[value=refunded]")
            page.wait_for_selector("#case-state >> text=已退款")
            assert "二次服务回访" in page.locator("#retention").inner_text()
            case.refresh_from_db()
            assert case.state == "refunded" and case.money_lines.get().state == "done"
            assert page.evaluate("window.__kefu_marker") == 1
        finally:
            browser.close()
