"""Browser test of the script picker: search in Chinese, click a script, its filled text lands in the
reply box (#reply-text) and its use is counted. Runs on the /scripts/ page's own reply box."""


import pytest

from kefu.core.services import person_create, shop_create
from kefu.crm.services import grade_rules_ensure
from kefu.replies.models import Script
from kefu.replies.services import opening_line_set, scripts_install_defaults
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login
from tests.replies.conftest import conversation  # noqa: F401  (fixture)

pytestmark = BROWSER_TEST


@pytest.fixture
def shop_with_scripts(transactional_db):
    shop = shop_create(code="e2e", name="浏览器测试店")
    me = person_create(shop=shop, name="小美", username="xm", password="pass-word-1", roles=["agent"])
    scripts_install_defaults(shop)
    opening_line_set(shop=shop, member=me, body="哈喽～我是爱笑的{客服}")
    return shop


def test_pick_a_script_into_the_reply_box(live_server, shop_with_scripts):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            login(page, live_server.url, "xm")
            page.goto(f"{live_server.url}/scripts/")
            picker = page.locator("#try-picker .script-picker")
            picker.locator(".script-item").first.wait_for()
            assert picker.locator(".script-item").count() > 5

            picker.locator("input[name=q]").fill("催付")
            page.wait_for_function("document.querySelectorAll('#try-picker .script-item').length === 1")
            item = picker.locator(".script-item").first
            assert "催付" in item.inner_text()
            with page.expect_response(lambda r: "/use/" in r.url and r.status == 204):
                item.click()
            text = page.locator("#reply-text").input_value()
            assert "还没有付款" in text and "小美" in text and "浏览器测试店" in text

            # A second pick goes in at the cursor, after the first text.
            picker.locator("input[name=q]").fill("爱笑")
            page.wait_for_function("document.querySelector('#try-picker .script-item') &&"
                                   " document.querySelector('#try-picker .script-item').dataset.text.includes('爱笑')")
            page.locator("#reply-text").press("End")
            picker.locator(".script-item").first.click()
            assert page.locator("#reply-text").input_value().endswith("哈喽～我是爱笑的小美")
        finally:
            browser.close()
    assert Script.objects.get(shop=shop_with_scripts, key="payment_reminder").usage_count == 1


def test_pick_a_script_on_the_conversation_page(transactional_db, live_server, shop, agent_person, conversation):  # noqa: F811
    """On the conversation page the picker fills the order card's number and the buyer's nick."""
    from playwright.sync_api import sync_playwright

    # The shop's grade table is written on its first read. Written here, the page's parallel requests
    # only read: the live server's in-memory database answers a write beside another request's read
    # with "table is locked" (503) at once, where a file database would wait.
    grade_rules_ensure(shop)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            login(page, live_server.url, "xiaomei")
            page.goto(f"{live_server.url}/conversations/{conversation.id}/")
            if page.locator("#reply-text").count() == 0 or page.locator(".script-picker").count() == 0:
                pytest.skip("the conversation page has no reply box with the picker in this build")
            picker = page.locator(".script-picker").first
            picker.locator(".script-item").first.wait_for()
            picker.locator("input[name=q]").fill("五星好评")
            page.wait_for_function("[...document.querySelectorAll('.script-picker .script-item')]"
                                   ".every(b => b.dataset.text.includes('五星'))")
            picker.locator(".script-item").first.click()
            assert "感谢小王的支持" in page.locator("#reply-text").input_value()
            picker.locator("input[name=q]").fill("物流查询")
            page.wait_for_function("[...document.querySelectorAll('.script-picker .script-item')]"
                                   ".some(b => b.dataset.text.includes('SF123'))")
            page.locator("#reply-text").fill("")
            picker.locator(".script-item", has_text="物流查询").first.click()
            assert page.locator("#reply-text").input_value() == "亲，您的订单T100已经由顺丰发出，物流单号SF123，请留意查收哦~"
            page.locator(".cross-sell .grade-line").wait_for()  # the cross-sell prompts loaded beside it
        finally:
            browser.close()
