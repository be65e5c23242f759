"""The 催付 worklist in a browser: an order stays unpaid, the scheduler's rule hands it to the agent
on shift through the task queue, the agent contacts the buyer, the payment closes it, and the
supervisor reads the success rate (Playwright on Debian's chromium)."""

import datetime as dt
import json

from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kefu.core.scheduler import tick
from kefu.core.services import person_create, shop_create, token_create
from kefu.followups.models import FollowUp
from kefu.workforce.models import RosterEntry
from kefu.workforce.services import shift_create
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login

pytestmark = BROWSER_TEST


def test_payment_reminder_worklist_flow(live_server, transactional_db):
    from playwright.sync_api import sync_playwright

    shop = shop_create(code="e2e", name="浏览器测试店")
    agent = person_create(shop=shop, name="小美", username="xiaomei", password="pass-word-1", roles=["agent"],
                          group="presales", platform_ids=["店:小美"])
    person_create(shop=shop, name="主管", username="sup", password="pass-word-1", roles=["supervisor"], group="")
    now = timezone.now()
    shift = shift_create(shop=shop, name="全天", start="00:00", end="23:59")
    RosterEntry.objects.create(shop=shop, agent=agent, date=now.date(), shift=shift,
                               starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=8))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(shop=shop, name='erp')[1]}")
    placed = (now - dt.timedelta(minutes=45)).isoformat()
    r = api.post("/api/v1/orders", json.dumps({"order_id": "T100", "buyer_id": "buyer7", "buyer_nick": "小王",
                                               "created_at": placed, "total_amount": "199.00"}),
                 content_type="application/json")
    assert r.status_code == 200, r.content

    # The scheduler fires the rule onto the queue; the worker runs it.
    assert [f for f in tick() if f[0] == "followups.payment_reminders"]
    call_command("db_worker", batch=True, verbosity=0)
    fu = FollowUp.objects.get(order__order_id="T100")
    assert fu.owner_id == agent.pk

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            base = live_server.url
            login(page, base, "xiaomei")
            page.click("nav >> text=跟进")
            row = page.locator(f"#due-now #followup-{fu.pk}")
            assert "T100" in row.inner_text() and "催付" in row.inner_text()

            # Contact the buyer: the row is swapped in place (htmx) and moves on to "contacted".
            page.evaluate("window.__kefu_marker = 1")
            later = (timezone.localtime(now, shop.tz) + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
            row.locator("select[name=action]").select_option("contact")
            row.locator("select[name=reason]").select_option("pay_later")
            row.locator("input[name=next_contact_at]").fill(later)
            row.locator("button[type=submit]").click()
            page.wait_for_selector(f"#followup-{fu.pk}[data-state=contacted]")
            assert page.evaluate("window.__kefu_marker") == 1
            assert "稍后再付" in page.locator(f"#followup-{fu.pk}").inner_text()

            # The buyer pays; the order sync closes the reminder as won.
            paid = timezone.now().isoformat()
            r = api.post("/api/v1/orders", json.dumps({"order_id": "T100", "buyer_id": "buyer7", "created_at": placed,
                                                       "paid_at": paid, "status": "paid", "total_amount": "199.00",
                                                       "paid_amount": "199.00"}), content_type="application/json")
            assert r.status_code == 200, r.content
            page.reload()
            done = page.locator(f"#done-today #followup-{fu.pk}")
            assert done.get_attribute("data-state") == "closed_won"

            # The supervisor sees the agent's 催付 success rate and recovered sales.
            page.context.clear_cookies()
            login(page, base, "sup")
            page.goto(f"{base}/followups/?agent=all")
            figures = page.locator("#figures tbody tr").first.inner_text()
            assert "小美" in figures and "100%" in figures and "¥199.00" in figures
        finally:
            browser.close()
