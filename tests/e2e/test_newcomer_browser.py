"""Issue 12's newcomer path, in a browser: find an order by its id from the header's search box, open
its buyer, and export last month's ranking to Excel — then open the downloaded file with openpyxl and
check it is finished (Chinese headers, number formats, the 全店 row, frozen header, the range in the
sheet's name). The figures in the file are recomputed from the raw rows by plain loops."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from kefu.core.services import person_create, shop_create
from kefu.web import selectors
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login
from tests.web.data import DAY, agent, chat, order

pytestmark = BROWSER_TEST

LAST_MONTH = dt.date(2025, 10, 15)  # DAY is 2025-11-11: 上月 is October 2025


@pytest.fixture
def shop_last_month(transactional_db, monkeypatch):
    monkeypatch.setattr(selectors, "shop_today", lambda shop: DAY)
    shop = shop_create(code="e2e", name="浏览器测试店")
    person_create(shop=shop, name="经理", username="boss", password="pass-word-1", roles=["manager"], group="")
    fast, slow = agent(shop, "小美"), agent(shop, "阿强")
    for i in range(3):
        chat(shop, agent=fast, buyer=f"f{i}", nick=f"买家{i}", day=LAST_MONTH, hour=9 + i, reply_after=15)
        order(shop, order_id=f"20251015{i:02d}", buyer=f"f{i}", day=LAST_MONTH, hour=10 + i, paid="199.90")
    chat(shop, agent=slow, buyer="s0", day=LAST_MONTH, hour=9, reply_after=300)
    chat(shop, agent=slow, buyer="s1", day=LAST_MONTH, hour=10, reply_after=None)
    order(shop, order_id="2025101509", buyer="s0", day=LAST_MONTH, hour=11, paid="1187.00")
    return shop


def test_find_an_order_open_its_buyer_export_last_months_ranking(live_server, shop_last_month):
    from openpyxl import load_workbook
    from playwright.sync_api import sync_playwright

    from kefu.metrics.kpi import report_keys

    url = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(locale="zh-CN", accept_downloads=True,
                                          viewport={"width": 1280, "height": 900})
            context.set_default_timeout(120_000)  # a loaded CI box; no timing is asserted
            page = context.new_page()
            login(page, url, "boss")

            # 1. The order by its id, from the header: the exact id opens the order itself.
            page.fill(".kefu-search input[name=q]", "2025101501")
            with page.expect_navigation():
                page.press(".kefu-search input[name=q]", "Enter")
            assert page.url == f"{url}/orders/2025101501/"
            assert "¥199.90" in page.locator("#paid-amount").inner_text()

            # 2. Its buyer.
            with page.expect_navigation():
                page.click("#order-buyer a")
            assert "/customers/" in page.url and "买家1" in page.locator("h1").first.inner_text()

            # 3. Last month's ranking, exported to Excel from the dashboard.
            with page.expect_navigation():
                page.click("#sidebar-menu a[href='/']")
            with page.expect_navigation():
                page.click("#period a[href='?period=last_month']")
            assert "2025-10-01 — 2025-10-31" in page.locator("#period-text").inner_text()
            with page.expect_download() as info:
                page.click("#ranking .exports a:has-text('Excel')")
            download = info.value
            assert download.suggested_filename == "kefu-ranking-2025-10-01-2025-10-31.xlsx"
            body = open(download.path(), "rb").read()
        finally:
            browser.close()

    wb = load_workbook(io.BytesIO(body))
    assert wb.sheetnames == ["客服排名 2025-10-01~10-31"]
    ws = wb.active
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["排名", "客服", "组"] and "回复率" in headers and "客服销售额" in headers
    assert not set(headers) & {"rank", "agent", "group", "score", *report_keys()}  # names, not codes
    assert ws.freeze_panes == "A2" and all(c.font.bold for c in ws[1])
    col = {h: i for i, h in enumerate(headers)}
    rows = [[c for c in r] for r in ws.iter_rows(min_row=2)]
    body_rows, total = rows[:-1], rows[-1]
    assert total[0].value == "全店" and total[0].font.bold
    assert [r[col["客服"]].value for r in body_rows] == ["小美", "阿强"]
    # Independent: sales per agent from the orders above, and the shop's reply rate from the chats.
    sales = {r[col["客服"]].value: r[col["客服销售额"]] for r in body_rows}
    assert sales["小美"].value == pytest.approx(float(Decimal("199.90") * 3)) and sales["阿强"].value == 1187.0
    assert sales["小美"].number_format == "#,##0.00" and isinstance(sales["小美"].value, (int, float))
    reply = total[col["回复率"]]
    assert reply.number_format == "0.00%" and reply.value == pytest.approx(4 / 5)
    assert total[col["客服销售额"]].value == pytest.approx(float(Decimal("199.90") * 3 + Decimal("1187.00")))
    # Every column as wide as its header (a Han character takes two columns); the filter over the rows only.
    for i, h in enumerate(headers, start=1):
        letter = ws.cell(1, i).column_letter
        assert ws.column_dimensions[letter].width >= min(sum(2 if ord(ch) > 0x2E80 else 1 for ch in h), 48), h
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(headers)).column_letter}3"
