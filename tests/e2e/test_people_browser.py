"""The month close in a browser: the supervisor closes March on the points page, the manager locks it,
and the commission statements of March show, with the agent's own statement (Playwright, chromium)."""

import datetime as dt

import pytest

from kefu.core.services import person_create, shop_create
from kefu.people.pay import commission_plan_set
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login
from tests.people.test_pay import sell

pytestmark = BROWSER_TEST


@pytest.fixture
def people_shop(transactional_db):
    shop = shop_create(code="e2e", name="浏览器测试店")
    person_create(shop=shop, name="周主管", username="zhou", password="pass-word-1", roles=["supervisor"], group="")
    manager = person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"],
                            group="")
    person_create(shop=shop, name="小美", username="xiaomei", password="pass-word-1", roles=["agent"],
                  platform_ids=["店铺:小美"])
    commission_plan_set(shop=shop, by=manager, tiers=[["0", "1"], ["1000", "2"]])
    paid = dt.datetime(2026, 3, 10, 10, tzinfo=shop.tz)
    sell(shop, "店铺:小美", "b1", "o1", paid, "1500.00")
    return shop


def test_close_and_lock_a_month_then_read_the_statements(live_server, people_shop):
    from playwright.sync_api import sync_playwright

    url = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(locale="zh-CN")
            context.set_default_timeout(120_000)  # a loaded CI box; no timing is asserted
            page = context.new_page()
            page.on("dialog", lambda d: d.accept())
            login(page, url, "zhou")
            page.goto(f"{url}/people/points/?month=2026-03")
            page.get_by_role("button", name="结算本月").click()
            page.wait_for_load_state()
            assert "已结算" in page.locator(".card-actions .badge").first.inner_text()
            assert page.get_by_role("button", name="锁定").count() == 0  # supervisors do not lock

            login(page, url, "chen")
            page.goto(f"{url}/people/points/?month=2026-03")
            page.get_by_role("button", name="锁定").click()
            page.wait_for_load_state()
            assert "已锁定" in page.locator(".card-actions .badge").first.inner_text()
            page.goto(f"{url}/people/pay/?month=2026-03")
            row = page.locator("#statements tbody tr").first
            assert "小美" in row.inner_text() and "¥20.00" in row.inner_text()  # 1000 × 1 % + 500 × 2 %
            assert page.get_by_role("button", name="重算").count() == 0  # locked: nothing to recompute

            login(page, url, "xiaomei")
            page.goto(f"{url}/people/pay/?month=2026-03")
            assert "o1" in page.locator("#lines").inner_text()
            assert "¥20.00" in page.locator("body").inner_text()
        finally:
            browser.close()


def _fits(page, selector: str) -> bool:
    """The element shows all of itself: nothing cut off inside its own box."""
    return page.eval_on_selector(selector, "e => e.scrollWidth <= e.clientWidth + 1")


def test_points_page_fits_1280_px_in_english(live_server, people_shop):
    """The deduction form's button and the deductions table (its note column and the undo form) are
    whole at 1280 px in English, with the longest rule name (found cut off on the walk)."""
    from playwright.sync_api import sync_playwright

    url = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
            context.set_default_timeout(120_000)
            page = context.new_page()
            login(page, url, "zhou")
            page.evaluate("""() => { const f = document.createElement('form'); f.method = 'post';
                f.action = '/i18n/setlang/'; f.innerHTML = '<input name="language" value="en"><input name="next" value="/people/points/">'
                + '<input name="csrfmiddlewaretoken" value="' + document.cookie.match(/csrftoken=([^;]+)/)[1] + '">';
                document.body.appendChild(f); f.submit(); }""")
            page.wait_for_url(f"{url}/people/points/")
            button = page.get_by_role("button", name="Record deduction")
            assert _fits(page, "form[action$='/points/deductions/'] button.btn-primary")
            longest = page.eval_on_selector("select[name=rule]", """s => [...s.options].reduce(
                (a, o) => o.text.length > a.text.length ? o : a).value""")
            page.select_option("select[name=rule]", longest)
            page.fill("input[name=reason]", "Reply took too long on a busy afternoon; the buyer asked three times")
            button.click()
            page.wait_for_load_state()
            assert page.locator("#deductions tbody tr").count() == 1
            assert _fits(page, "#deductions")
            assert _fits(page, ".table-responsive:has(#deductions)")
            undo = page.locator("#deductions button").first
            assert undo.is_visible()
            box = undo.bounding_box()
            card = page.locator(".card:has(#deductions)").bounding_box()
            assert box["x"] + box["width"] <= card["x"] + card["width"]
        finally:
            browser.close()
