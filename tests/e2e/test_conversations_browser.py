"""One browser test: an agent goes online, takes a routed conversation, replies through the outbox,
writes an internal note and transfers it (Playwright on Debian's chromium)."""


from django.utils import timezone

from kefu.conversations.models import Conversation
from kefu.core.services import shop_create
from kefu.outbound.models import OutboundMessage
from tests.conversations.conftest import buyer_msg, on_shift, person
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login

pytestmark = BROWSER_TEST


def test_agent_goes_online_replies_notes_and_transfers(live_server, transactional_db, settings, tmp_path):
    from playwright.sync_api import sync_playwright

    settings.DATA_DIR = tmp_path
    shop = shop_create(code="e2e", name="浏览器测试店")
    now = timezone.now()
    me = person(shop, "小美", username="xm")
    mate = person(shop, "阿强")
    on_shift(shop, [me, mate], at=now, status="")  # on shift, both still offline

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            login(page, live_server.url, "xm")
            page.goto(f"{live_server.url}/conversations/")
            page.click("#my-status button[value=online]")
            page.wait_for_selector("#my-status button[value=online].active[aria-pressed=true]")

            buyer_msg(shop, "b1", mid="m1", at=timezone.now(), text="这个有货吗")
            conv = Conversation.objects.get(shop=shop)
            assert conv.assignee_id == me.id
            page.click("#conversation-views a[data-view=mine]")
            page.click("text=b1")
            page.fill("#reply-text", "亲，有货的")
            page.click("#reply-form button[type=submit]")
            page.wait_for_load_state()
            page.wait_for_selector(".msg.outbound[data-state=queued]")
            assert OutboundMessage.objects.get().text == "亲，有货的"

            page.fill("#notes textarea", "买家问库存")
            page.click("#notes button[type=submit]")
            page.wait_for_selector("#notes .note")
            assert "买家问库存" in page.locator("#notes").inner_text()

            page.select_option("#transfer-form select[name=to_agent]", str(mate.id))
            page.fill("#transfer-form input[name=reason]", "下班交接")
            page.click("#transfer-form button[type=submit]")
            page.wait_for_load_state()
            page.wait_for_selector("#events li[data-kind=transferred]")
            conv.refresh_from_db()
            assert conv.assignee_id == mate.id
        finally:
            browser.close()
