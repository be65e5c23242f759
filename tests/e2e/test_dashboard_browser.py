"""One browser test: log in and read the ranking on the dashboard (Playwright on Debian's chromium)."""


import pytest

from kefu.core.services import person_create, shop_create
from kefu.web import selectors
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, logged_in
from tests.web.data import DAY, agent, chat, order

pytestmark = BROWSER_TEST


@pytest.fixture
def shop_with_data(transactional_db, monkeypatch):
    monkeypatch.setattr(selectors, "shop_today", lambda shop: DAY)
    shop = shop_create(code="e2e", name="浏览器测试店")
    person_create(shop=shop, name="经理", username="boss", password="pass-word-1", roles=["manager"], group="")
    fast, slow = agent(shop, "小美"), agent(shop, "阿强")
    for i in range(4):
        chat(shop, agent=fast, buyer=f"f{i}", day=DAY, hour=9 + i, reply_after=15)
        order(shop, order_id=f"of{i}", buyer=f"f{i}", day=DAY, hour=10 + i, paid="200.00")
    for i in range(3):
        chat(shop, agent=slow, buyer=f"s{i}", day=DAY, hour=9 + i, reply_after=None if i else 400)
    return shop


def test_login_and_read_the_ranking(live_server, shop_with_data):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = logged_in(browser, live_server.url)
            assert page.locator("h1").first.inner_text().startswith("看板")

            ranking = page.locator("#ranking table.kpi tbody tr")
            assert ranking.count() == 2
            first = ranking.nth(0).locator("td")
            assert first.nth(0).inner_text() == "1" and first.nth(1).inner_text() == "小美"
            assert ranking.nth(1).locator("td").nth(1).inner_text() == "阿强"
            assert "小美" in page.locator(".podium .top").inner_text()
            assert "阿强" in page.locator(".podium .bottom").inner_text()
            assert "¥800.00" in ranking.nth(0).inner_text()

            # The charts are drawn by the plotly.js Kefu serves itself.
            page.wait_for_selector("#chart-receptions .main-svg", timeout=15000)
            page.wait_for_selector("#chart-load .main-svg", timeout=15000)

            # The period form applies to the whole page: a day without data empties the ranking
            # and the overview.
            page.fill("#period input[name=from]", "2025-11-01")
            page.fill("#period input[name=to]", "2025-11-01")
            with page.expect_navigation():
                page.click("#period button[type=submit]")
            assert "from=2025-11-01" in page.url
            assert "这段时间没有数据" in page.locator("#ranking").inner_text()
            # No all-zero cards and charts, but the way to the data: the last day that has some.
            assert "这段时间没有数据" in page.locator("#summary").inner_text()
            assert page.locator("#summary a[data-key]").count() == 0 and page.locator("#chart-receptions").count() == 0
            with page.expect_navigation():
                page.click("#summary .empty-action a")
            assert "from=2025-11-01&to=2025-11-30" in page.url
            page.wait_for_selector("#chart-receptions .main-svg", timeout=15000)
            # A preset is one click.
            with page.expect_navigation():
                page.click("#period a[href='?period=last_7']")
            assert page.locator("#period a[aria-current]").inner_text() == "近7天"
        finally:
            browser.close()


def test_money_axis_counts_in_wan_in_chinese(live_server, transactional_db, monkeypatch):
    """The sales chart's axis reads ¥2万 in Chinese (SPEC: 万 in chart axes) and ¥20k in English."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setattr(selectors, "shop_today", lambda shop: DAY)
    shop = shop_create(code="e2ew", name="万元店")
    person_create(shop=shop, name="经理", username="boss", password="pass-word-1", roles=["manager"], group="")
    seller = agent(shop, "小美")
    for i in range(2):
        chat(shop, agent=seller, buyer=f"w{i}", day=DAY, hour=9 + i, reply_after=15)
        order(shop, order_id=f"ow{i}", buyer=f"w{i}", day=DAY, hour=10 + i, paid="12500.00")

    def ticks(page) -> list[str]:
        page.wait_for_selector("#chart-sales .main-svg", timeout=15000)
        texts = page.eval_on_selector_all("#chart-sales .ytick text", "els => els.map(e => e.textContent)")
        return [t for t in texts if t and t.strip()]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = logged_in(browser, live_server.url)
            zh = ticks(page)
            assert zh[0] == "0" and len(zh) >= 3, zh  # a plain 0, not "¥0万"
            assert all(t.startswith("¥") and t.endswith("万") for t in zh[1:]), zh
            top = max(page.evaluate("Array.from(document.getElementById('chart-sales').data)"
                                    ".flatMap(t => t.customdata || []).filter(v => v != null).map(Number)"))
            assert top >= 10000 and float(zh[-1][1:-1]) * 10000 >= top, (zh, top)  # the top tick covers the data
            page.click(".kefu-header a[aria-label='Language / 语言']")
            with page.expect_navigation():
                page.click("form.lang button[value=en]")
            en = ticks(page)
            assert en and all(t.startswith("¥") and "万" not in t for t in en) and any(t.endswith("k") for t in en), en
        finally:
            browser.close()
