"""Browser test of production alerts: a manager opens the alert, acknowledges it in place (htmx) and
reads the return-reasons report with its charts (Playwright on Debian's chromium)."""

import datetime as dt

import pytest

from kefu.core.services import person_create, shop_create
from kefu.defects import services
from tests.defects.conftest import open_case
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, logged_in

pytestmark = BROWSER_TEST


@pytest.fixture
def shop_with_alert(transactional_db):
    shop = shop_create(code="e2e", name="浏览器测试店")
    person_create(shop=shop, name="经理", username="boss", password="pass-word-1", roles=["manager"], group="")
    now = dt.datetime.now(dt.UTC)
    local = now.astimezone(shop.tz)
    if local.hour < 6:  # the cases must share a shop day: the report has a row per day, SKU and reason
        now = local.replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    for i in range(3):
        open_case(shop, now - dt.timedelta(hours=5 - i), buyer=f"b{i}", sku="DRESS-M", note="领口开线，尺码偏小")
    open_case(shop, now - dt.timedelta(hours=1), buyer="b9", sku="BELT", reason="wrong_item",
              responsible="warehouse")
    services.alerts_scan(shop=shop)
    return shop


def test_acknowledge_alert_and_read_report(live_server, shop_with_alert):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = logged_in(browser, live_server.url)
            page.click("nav a[href='/defects/']")
            page.wait_for_url(f"{live_server.url}/defects/")
            row = page.locator("#alerts tbody tr").first
            assert "DRESS-M" in row.inner_text() and row.get_attribute("data-state") == "open"
            row.locator("a").first.click()
            assert "开线" in page.locator("#opinions tr[data-aspect=quality]").inner_text()

            page.evaluate("window.__kefu_marker = 1")
            page.select_option("#act-form select[name=action]", "acknowledge")
            page.fill("#act-form input[name=note]", "已通知工厂")
            page.click("#act-form button[type=submit]")
            page.wait_for_selector("#alert-state[data-state=acknowledged]", timeout=10000)
            assert "已通知工厂" in page.locator("#alert-state").inner_text()
            assert page.evaluate("window.__kefu_marker") == 1  # swapped in place, no reload

            page.goto(f"{live_server.url}/defects/report/")
            page.wait_for_selector("#chart-reasons .main-svg", timeout=15000)
            page.wait_for_selector("#chart-skus .main-svg", timeout=15000)
            assert page.locator("#report-rows tbody tr").count() == 2
        finally:
            browser.close()
