"""Browser test of customer care: a manager opens a buyer's 360, tags buyers in bulk, schedules a
care message and sees the opt-out honoured (Playwright on Debian's chromium)."""


import pytest

from kefu.care.campaigns import campaigns_send_due, opt_out_record
from kefu.core.services import person_create, shop_create
from kefu.customers.models import Customer
from kefu.customers.services import tag_create
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, logged_in
from tests.web.data import DAY, agent, chat, order

pytestmark = BROWSER_TEST


@pytest.fixture
def shop_with_buyers(transactional_db):
    shop = shop_create(code="e2e", name="浏览器测试店")
    person_create(shop=shop, name="陈经理", username="boss", password="pass-word-1", roles=["manager"], group="")
    mei = agent(shop, "小美")
    for i, nick in enumerate(["王姐", "李姐", "赵先生"]):
        chat(shop, agent=mei, buyer=f"b{i}", day=DAY, hour=9 + i, nick=nick)
        order(shop, order_id=f"o{i}", buyer=f"b{i}", day=DAY, hour=10 + i, paid="199.00")
        Customer.objects.filter(shop=shop, buyer_id=f"b{i}").update(phone=f"1381234000{i}")
    tag_create(shop=shop, name="敏感肌", color="red", actor=None)
    opt_out_record(shop=shop, customer=Customer.objects.get(shop=shop, buyer_id="b0"), source="reply")
    return shop


def test_buyer_360_bulk_tags_and_a_care_message(live_server, shop_with_buyers):
    from playwright.sync_api import sync_playwright

    shop = shop_with_buyers
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = logged_in(browser, live_server.url)

            # The buyer list: tick all three, tag them in bulk.
            page.goto(f"{live_server.url}/customers/")
            rows = page.locator("#buyer-table tbody tr")
            assert rows.count() == 3
            for i in range(3):
                rows.nth(i).locator("input.pick").check()
            page.select_option("#bulk-tag", label="敏感肌")
            page.click("#bulk-add")
            page.wait_for_selector("text=已更新 3 位买家的标签")
            assert page.locator("#buyer-table tbody tr .badge", has_text="敏感肌").count() == 3

            # The 360 page of 李姐: figures, tag, masked phone revealed (audited).
            page.click("#buyer-table a:has-text('李姐')")
            page.wait_for_selector("#identity")
            assert "¥199.00" in page.locator("#spend").inner_text()
            assert "敏感肌" in page.locator("#tags").inner_text()
            assert "138****0001" in page.locator("#contacts").inner_text()
            page.click("#reveal")
            page.wait_for_selector("#contacts:has-text('13812340001')")
            assert "o1" in page.locator("#orders").inner_text()

            # A care message to the tagged buyers, scheduled now.
            page.goto(f"{live_server.url}/care/campaigns/")
            page.fill("#c-name", "入冬护理提醒")
            page.fill("#c-text", "入冬了，早晚温差大，注意保暖，皮肤干燥记得多喝水。")
            page.select_option("#s-tags", label="敏感肌")
            page.click("form.row button[type=submit]")
            page.wait_for_selector("#content-ok")
            page.click("#schedule")
            page.wait_for_selector("#campaign-state:has-text('已排期')")
            campaigns_send_due(shop=shop)  # what the scheduler does each minute
            page.reload()
            assert page.locator("#campaign-state").inner_text() == "已发送"
            report = page.locator("#report")
            assert report.locator("[data-figure=queued]").inner_text() == "2"
            assert report.locator("[data-figure=skipped_opted_out]").inner_text() == "1"
            assert "已退订，未发送" in page.locator("#sends").inner_text()

            # The opted-out buyer's page says so.
            page.click("#sends a:has-text('王姐')")
            page.wait_for_selector("#opted-out")
            assert "已退订，未发送" in page.locator("#care-messages").inner_text()
        finally:
            browser.close()
