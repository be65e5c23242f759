"""Browser test of the SLA board: a supervisor sees a ticking countdown and a missed clock in red,
and a manager adds a policy on the policies page (Playwright on Debian's chromium)."""

import datetime as dt

import pytest
from django.utils import timezone

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import person_create, shop_create
from kefu.sla.models import SlaPolicy
from kefu.sla.services import sla_scan
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, logged_in

pytestmark = BROWSER_TEST


@pytest.fixture
def shop_with_clocks(transactional_db):
    shop = shop_create(code="e2esla", name="计时店")
    person_create(shop=shop, name="经理", username="boss", password="pass-word-1", roles=["manager", "supervisor"],
                  group="")
    person_create(shop=shop, name="阿美", roles=["agent"], group="aftersales", platform_ids=["店铺:阿美"])
    now = timezone.now()
    rows = [{"message_id": "m1", "buyer_id": "late", "agent_id": "店铺:阿美", "sender": "buyer", "order_id": "o1",
             "sent_at": (now - dt.timedelta(minutes=9)).isoformat()},
            {"message_id": "m2", "buyer_id": "fresh", "agent_id": "店铺:阿美", "sender": "buyer", "order_id": "o2",
             "sent_at": (now - dt.timedelta(seconds=30)).isoformat()}]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))
    sla_scan(shop=shop)
    return shop


def test_board_countdown_and_policy_form(live_server, shop_with_clocks):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = logged_in(browser, live_server.url)
            page.goto(f"{live_server.url}/sla/")
            rows = page.locator("#sla-board tbody tr")
            assert rows.count() == 2
            assert rows.nth(0).get_attribute("class") == "sla-missed" and "late" in rows.nth(0).inner_text()
            countdown = rows.nth(1).locator(".countdown")
            # The countdown reads as a duration ("剩余 4 分 12 秒"), the overdue one positively ("超时 …").
            page.wait_for_function("document.querySelectorAll('.countdown')[1].textContent.includes('秒')")
            assert rows.nth(0).locator(".countdown").inner_text().startswith("超时 ")
            assert "-" not in rows.nth(0).locator(".countdown").inner_text()
            first = countdown.inner_text()
            # It ticks: the text changes within a few seconds (a fixed 1.5 s sleep failed at high load).
            page.wait_for_function("first => document.querySelectorAll('.countdown')[1].textContent !== first",
                                   arg=first, timeout=15000)
            page.goto(f"{live_server.url}/sla/policies/")
            form = page.locator("#policy-new form").first
            form.locator("input[name=name]").fill("京东首响")
            form.locator("input[name=first_reply_minutes]").fill("3")
            form.locator("input[name=channels]").fill("jd")
            form.locator("button[type=submit]").click()
            page.wait_for_url(f"{live_server.url}/sla/policies/")
            assert page.locator("#policy-new").count() == 1
            p_ = SlaPolicy.objects.get(shop=shop_with_clocks, name="京东首响")
            assert (p_.first_reply_minutes, p_.channels) == (3, ["jd"])
        finally:
            browser.close()
