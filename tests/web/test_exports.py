import csv
import io

import pytest
from openpyxl import load_workbook

from .data import DAY, agent, chat, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(shop, agent_person, day):
    a2 = agent(shop, "=阿强")  # a name that would be a formula in a spreadsheet
    chat(shop, agent=agent_person, buyer="b1", nick="+买家", day=DAY, hour=10)
    chat(shop, agent=a2, buyer="b2", day=DAY, hour=11)
    order(shop, order_id="o1", buyer="b1", day=DAY, hour=12, paid="188.50")
    return {"me": agent_person, "a2": a2}


def sheet(r):
    assert r.status_code == 200, r.content[:300]
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r["Content-Disposition"].startswith("attachment;") and r["Content-Disposition"].endswith('.xlsx"')
    ws = load_workbook(io.BytesIO(r.content)).active
    # Every export: header frozen, bold, each column wide enough for its header.
    assert ws.freeze_panes == "A2" and all(c.font.b for c in ws[1])
    assert len(ws.title) <= 31
    for cell in ws[1]:
        assert ws.column_dimensions[cell.column_letter].width >= len(str(cell.value))
    return ws


def xlsx(r) -> list[list]:
    return [list(row) for row in sheet(r).iter_rows(values_only=True)]


def csv_rows(r) -> list[list]:
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_ranking_exports(manager_client, data):
    ws = sheet(manager_client.get("/", {"export": "xlsx", "from": DAY.isoformat(), "to": DAY.isoformat()}))
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    head = rows[0]
    assert head[:4] == ["排名", "客服", "组", "绩效分"] and "客服销售额" in head and "回复率" in head
    assert ws.title == f"客服排名 {DAY.isoformat()}"  # the range in the sheet's name
    by_agent = {r[1]: dict(zip(head, r, strict=True)) for r in rows[1:-1]}
    assert set(by_agent) == {"小美", "'=阿强"}  # formula neutralised
    assert by_agent["小美"]["客服销售额"] == 188.5 and by_agent["小美"]["接待人数"] == 1
    assert by_agent["小美"]["组"] == "售前接待组"  # the group's name, not its code
    # The 全店 row: the shop's own figures (receptions of both agents, the one sale).
    total = dict(zip(head, rows[-1], strict=True))
    assert total["排名"] == "全店" and total["接待人数"] == 2 and total["客服销售额"] == 188.5
    assert ws.cell(ws.max_row, 1).font.b
    # Numbers, not text: rates as %, money with two decimals.
    col = {h: i + 1 for i, h in enumerate(head)}
    for r in range(2, ws.max_row + 1):
        rate, money = ws.cell(r, col["回复率"]), ws.cell(r, col["客服销售额"])
        assert rate.number_format == "0.00%" and isinstance(rate.value, (int, float)) and 0 <= rate.value <= 1
        assert money.number_format == "#,##0.00" and isinstance(money.value, (int, float))
    text = csv_rows(manager_client.get("/", {"export": "csv", "from": DAY.isoformat(), "to": DAY.isoformat()}))
    assert text[0] == head and len(text) == 3  # CSV: the rows only, for programs
    assert {r[head.index("客服销售额")] for r in text[1:]} == {"188.50", "0.00"}


def test_today_and_trend_exports(manager_client, data):
    rows = xlsx(manager_client.get("/", {"export": "xlsx", "table": "today"}))
    assert len(rows) == 4 and "接待人数" in rows[0] and rows[-1][0] == "全店"
    # The trend follows the dashboard's period (here the last 30 days, today included).
    rows = csv_rows(manager_client.get("/", {"export": "csv", "table": "trend", "period": "last_30"}))
    assert rows[0][0] == "日期" and len(rows) == 31 and rows[-1][0] == DAY.isoformat()
    recv = rows[0].index("接待人数")
    assert rows[-1][recv] == "2"


def test_agent_export_shows_only_what_the_agent_may_see(agent_client, data):
    rows = xlsx(agent_client.get("/", {"export": "xlsx", "from": DAY.isoformat(), "to": DAY.isoformat()}))
    head = rows[0]
    by_agent = {r[1]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    assert by_agent["小美"]["客服销售额"] is not None
    other = by_agent["'=阿强"]
    assert other["排名"] and other["客服销售额"] is None and other["接待人数"] is None
    rows = xlsx(agent_client.get("/", {"export": "xlsx", "table": "today"}))
    assert [r[1] for r in rows[1:]] == ["小美"]


def test_agent_daily_export(manager_client, agent_client, data):
    me = data["me"]
    rows = xlsx(manager_client.get(f"/agents/{me.id}/", {"export": "xlsx", "from": DAY.isoformat(),
                                                          "to": DAY.isoformat()}))
    head = rows[0]
    assert head[0] == "日期" and len(rows) == 3 and rows[-1][0] == "合计"
    line = dict(zip(head, rows[1], strict=True))
    assert line["日期"] == DAY.isoformat() and line["接待人数"] == 1 and line["客服销售额"] == 188.5
    assert csv_rows(agent_client.get(f"/agents/{me.id}/", {"export": "csv"}))[0][0] == "日期"
    assert agent_client.get(f"/agents/{data['a2'].id}/", {"export": "csv"}).status_code == 404


def test_conversation_list_exports(manager_client, agent_client, data):
    rows = xlsx(manager_client.get("/conversations/", {"export": "xlsx"}))
    assert rows[0][:4] == ["会话", "买家ID", "昵称", "客服"] and len(rows) == 4 and rows[-1][0] == "合计 2 个"
    assert "'+买家" in [r[2] for r in rows[1:-1]]
    rows = csv_rows(agent_client.get("/conversations/", {"export": "csv"}))
    assert len(rows) == 2 and rows[1][1] == "b1" and rows[1][4].startswith(DAY.isoformat())
    rows = csv_rows(manager_client.get("/conversations/", {"export": "csv", "q": "b2"}))
    assert [r[1] for r in rows[1:]] == ["b2"]


def test_unknown_export_format_is_a_400(manager_client, data):
    assert manager_client.get("/", {"export": "pdf"}).status_code == 400
    assert manager_client.get("/conversations/", {"export": "doc"}).status_code == 400


def test_export_in_english_has_english_headers(manager_client, data):
    manager_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    ws = sheet(manager_client.get("/", {"export": "xlsx", "from": DAY.isoformat(), "to": DAY.isoformat()}))
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert rows[0][:4] == ["Rank", "Agent", "Group", "Score"] and rows[1][2] == "Pre-sales"
    assert rows[-1][0] == "Whole shop" and ws.title == f"Agent ranking {DAY.isoformat()}"
