"""Browser test of a review (Playwright on Debian's chromium): the supervisor picks the sampled
reception from the queue, scores it beside the chat and submits; the agent reads it and appeals."""


import pytest

from kefu.core.services import person_create, shop_create
from kefu.quality.models import QaReview, QaSample
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login
from tests.quality.conftest import chat

pytestmark = BROWSER_TEST


@pytest.fixture
def sampled(transactional_db):
    shop = shop_create(code="e2eqa", name="质检测试店")
    sup = person_create(shop=shop, name="主管阿琳", username="sup", password="pass-word-1", roles=["supervisor"])
    agent = person_create(shop=shop, name="小美", username="xiaomei", password="pass-word-1", roles=["agent"],
                          platform_ids=["店铺:小美"])
    chat(shop, [("b1", "店铺:小美", "buyer", 0, "这件外套有M码吗"), ("b1", "店铺:小美", "agent", 20, "亲，有的哦"),
                ("b1", "店铺:小美", "buyer", 60, "好的谢谢")])
    from kefu.metrics.models import Reception

    rec = Reception.objects.get(shop=shop)
    QaSample.objects.create(shop=shop, agent=agent, customer=rec.customer, day=rec.day, reviewer=sup,
                            round_day=rec.day, reasons="")
    return shop


def test_review_then_appeal(live_server, sampled):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            login(page, live_server.url, "sup")
            page.goto(f"{live_server.url}/quality/")
            assert page.locator("#queue tbody tr").count() == 1
            page.click("#queue tbody button")
            page.wait_for_url("**/quality/reviews/*/")
            assert "这件外套有M码吗" in page.locator("#chat").inner_text()
            selects = page.locator("#review-form select[name^=chosen_]")
            assert selects.count() == 5
            for i in range(5):
                selects.nth(i).select_option("4")
            page.locator("#review-form select[name^=message_]").first.select_option(index=2)
            page.locator("#review-form input[name^=comment_]").first.fill("称呼亲切")
            page.click("#submit-review")
            page.wait_for_selector("#score")
            assert page.locator("#score").inner_text() == "80.00"
            assert "称呼亲切" in page.locator("#chat").inner_text()  # the comment sits on its message
            review = QaReview.objects.get()
            assert review.state == "submitted" and review.score == 80

            page.context.clear_cookies()
            login(page, live_server.url, "xiaomei")
            page.goto(f"{live_server.url}/quality/reviews/{review.pk}/")
            page.fill("#appeal-form textarea[name=reason]", "我回复只用了20秒")
            page.click("#appeal-form button")
            page.wait_for_selector("#appeal")
            assert "申诉中" in page.locator("#state").inner_text()
        finally:
            browser.close()
    review.refresh_from_db()
    assert review.state == "appealed"
