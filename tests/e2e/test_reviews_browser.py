"""One browser test: a bad review from its import to its revision (Playwright on Debian's chromium)."""


import pytest

from kefu.complaints.models import ReviewTask
from kefu.core.services import person_create, shop_create
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, logged_in

pytestmark = BROWSER_TEST

CSV = ("review_id,order_id,buyer_id,rating,text,created_at\n"
       "E1,T1,买家甲,1,质量太差了，假货！骗子！,2026-11-01 10:00\n"
       "E2,T2,买家乙,3,一般般,2026-11-01 11:00\n"
       "E3,T3,买家丙,5,很好，好评,2026-11-01 12:00\n")


@pytest.fixture
def shop_with_people(transactional_db):
    shop = shop_create(code="e2e", name="浏览器测试店")
    person_create(shop=shop, name="主管", username="boss", password="pass-word-1", roles=["supervisor"], group="")
    return shop


def test_bad_review_from_import_to_revision(live_server, shop_with_people, tmp_path):
    from playwright.sync_api import sync_playwright

    upload = tmp_path / "reviews.csv"
    upload.write_bytes(CSV.encode("gbk"))  # platform exports are often GBK
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = logged_in(browser, live_server.url)
            page.click("nav >> text=投诉与评价")
            page.click("#complaint-tabs >> text=中差评")
            assert page.locator("h1").first.inner_text() == "中差评处理"

            page.set_input_files("#import input[type=file]", str(upload))
            page.click("#import button[type=submit]")
            page.wait_for_selector("#import-result")
            assert "新增 3 条" in page.locator("#import-result").inner_text()
            rows = page.locator("#tasks tbody tr")
            assert rows.count() == 2  # the good review needs no task
            assert rows.nth(0).get_attribute("data-level") == "bad"  # worst first

            task = ReviewTask.objects.get(review__review_id="E1")
            row = f"#task-{task.pk}"
            page.evaluate("window.__kefu_marker = 1")
            page.select_option(f"{row} select[name=action]", "contact")
            page.click(f"{row} button[type=submit]")
            page.wait_for_selector(f"{row}[data-state=contacted]")
            page.select_option(f"{row} select[name=action]", "close")
            page.select_option(f"{row} select[name=outcome]", "revised")
            page.click(f"{row} button[type=submit]")
            page.wait_for_selector(f"{row}[data-state=closed]")
            assert "已改为好评" in page.locator(f"{row} .outcome").inner_text()
            assert page.evaluate("window.__kefu_marker") == 1  # swapped in place by htmx

            page.reload()
            table = page.locator("#revision-rates").inner_text()
            assert "100%" in table
            task.refresh_from_db()
            assert task.outcome == "revised" and task.owner.name == "主管"
        finally:
            browser.close()
