"""Browser test: an agent resolves a late order from the shipping-audit list (htmx, no reload)."""

import datetime as dt

import pytest
from django.utils import timezone

from kefu.core.services import person_create, shop_create
from kefu.customers.models import Customer
from kefu.shipping.models import ShippingIssue
from kefu.shipping.services import shipping_audit_run
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login
from tests.shipping.conftest import order

pytestmark = BROWSER_TEST


@pytest.fixture
def late_issue(transactional_db):
    shop = shop_create(code="e2e", name="浏览器测试店")
    person_create(shop=shop, name="小美", username="xm", password="pass-word-1", roles=["agent"])
    buyer = Customer.objects.create(shop=shop, buyer_id="b1", nick="买家小王")
    now = timezone.now()
    order(shop, buyer, "LATE-1", paid_at=now - dt.timedelta(hours=30))
    order(shop, buyer, "HARD-1", paid_at=now - dt.timedelta(hours=50))
    shipping_audit_run(shop=shop, now=now)
    return ShippingIssue.objects.get(shop=shop, kind="late")


def test_resolve_a_late_order_from_the_list(live_server, late_issue):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            login(page, live_server.url, "xm")
            page.click("nav >> text=发货")
            page.wait_for_url(f"{live_server.url}/shipping/")
            row = page.locator(f"#issue-{late_issue.pk}")
            assert "LATE-1" in row.inner_text()
            assert page.locator("#kind-overdue_hard tr.hard").count() == 1
            page.evaluate("window.__kefu_marker = 1")
            row.locator("select[name=action]").select_option("buyer_wait")
            row.locator("input[name=note]").fill("买家同意再等一天")
            row.locator("button[type=submit]").click()
            page.wait_for_selector(f"#issue-{late_issue.pk}[data-state=resolved]")
            assert "小美" in page.locator(f"#issue-{late_issue.pk}").inner_text()
            assert page.evaluate("window.__kefu_marker") == 1
        finally:
            browser.close()
    late_issue.refresh_from_db()
    assert (late_issue.state, late_issue.resolution, late_issue.note) == ("resolved", "buyer_wait", "买家同意再等一天")
    assert late_issue.resolved_by.name == "小美"
