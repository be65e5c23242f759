"""Browser: an agent asks to cancel a paid, printed order → the warehouse completes the task → the agent
sees the result (request state, notification, suggested reply). Playwright on Debian's chromium."""

import datetime as dt
from decimal import Decimal

import pytest

from kefu.core.services import person_create, shop_create
from kefu.customers.models import Customer
from kefu.orders.models import Order, OrderItem
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login

pytestmark = BROWSER_TEST


@pytest.fixture
def shop_with_order(transactional_db):
    shop = shop_create(code="e2e", name="浏览器测试店")
    person_create(shop=shop, name="小美", username="kf", password="pass-word-1", roles=["agent"])
    person_create(shop=shop, name="仓库小刘", username="wh", password="pass-word-1", roles=["warehouse"], group="")
    customer = Customer.objects.create(shop=shop, buyer_id="b1", nick="小王")
    paid = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    order = Order.objects.create(shop=shop, order_id="E2E1", customer=customer, status="printed",
                                 total_amount=Decimal("99.00"), paid_amount=Decimal("99.00"), created_at=paid,
                                 paid_at=paid, printed_at=paid + dt.timedelta(hours=2))
    OrderItem.objects.create(order=order, sku_code="SKU-RED-M", quantity=1, price=Decimal("99.00"))
    return shop


def test_cancel_goes_through_the_warehouse_and_back(live_server, shop_with_order):
    from playwright.sync_api import sync_playwright

    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            # The agent asks for the cancellation on the order page.
            login(page, base, "kf")
            page.goto(f"{base}/orders/E2E1/")
            page.select_option("#request-form select[name=kind]", "cancel")
            page.fill("#request-form input[name=reason]", "买家拍错了")
            page.click("#request-form button[type=submit]")
            row = page.locator("#requests tr[data-state]").first
            assert row.get_attribute("data-state") == "waiting_warehouse"
            assert "仓库找单" in row.inner_text()
            assert "[未发货] 撤单 买家拍错了 —小美" in page.locator("#remark-list").inner_text()

            # The warehouse finds the slip and stops the parcel; the clerk lands on the warehouse tasks.
            login(page, base, "wh", lands="/orders/warehouse/")
            task = page.locator("#open-tasks tr[data-kind=find_slip]")
            assert "E2E1" in task.inner_text() and "小美" in task.inner_text()
            task.locator("select[name=outcome]").select_option("stopped")
            task.locator("button[type=submit]").click()
            page.wait_for_selector("#done-today tr[id^=done-]")
            assert page.locator("#open-tasks tr[data-kind]").count() == 0

            # The agent sees the result: a notification and the request done, with a reply to send.
            login(page, base, "kf")
            assert page.locator("#unread-count").inner_text() == "1"
            page.goto(f"{base}/orders/E2E1/")
            row = page.locator("#requests tr[data-state]").first
            assert row.get_attribute("data-state") == "done"
            assert "已拦下" in row.inner_text()
            assert "E2E1" in row.locator(".reply").inner_text()
            assert "找单拦截" in page.locator("#timeline").inner_text()
        finally:
            browser.close()
