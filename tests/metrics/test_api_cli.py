"""The KPI report through the API and the CLI: same figures, JSON shape of issue 2, role-aware."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import load_workbook

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.orders.services import orders_clean, orders_upsert

AGENT_KEYS = {"agent", "receptions", "replied_receptions", "reply_rate", "first_response_seconds",
              "response_seconds", "answered_turns", "unanswered_turns", "slow_turns", "inquiries",
              "inquiries_paid", "conversion_rate", "sales", "paying_buyers", "avg_order_value", "refunds",
              "refund_rate", "score", "rank"}


@pytest.fixture
def data(shop, agent_person):
    def m(i, buyer, agent, sender, at):
        return {"message_id": f"m{i}", "buyer_id": buyer, "agent_id": agent, "sender": sender, "sent_at": at}

    rows = [
        m(1, "b1", "店铺:小美", "buyer", "2026-11-01 10:00:00"),
        m(2, "b1", "店铺:小美", "agent", "2026-11-01 10:00:40"),
        m(3, "b2", "店铺:阿强", "buyer", "2026-11-01 11:00:00"),
        m(4, "b2", "店铺:阿强", "agent", "2026-11-01 11:05:00"),
        m(5, "b3", "店铺:阿强", "buyer", "2026-11-01 12:00:00"),
    ]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))
    orders = [
        {"order_id": "o1", "buyer_id": "b1", "created_at": "2026-11-01 10:30", "paid_at": "2026-11-01 10:31",
         "total_amount": "120.00", "paid_amount": "120.00"},
        {"order_id": "o2", "buyer_id": "b9", "created_at": "2026-11-01 13:00", "paid_at": "2026-11-01 13:01",
         "total_amount": "30.00", "paid_amount": "30.00"},
    ]
    orders_upsert(shop=shop, rows=orders_clean(orders, tz=shop.tz))


@pytest.mark.django_db
def test_api_report_shape_and_figures(manager_client, data):
    r = manager_client.get("/api/v1/metrics/agents?shop=s1&from=2026-11-01&to=2026-11-01")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["shop"] == "s1" and body["from"] == body["to"] == "2026-11-01"
    by_name = {a["agent"]: a for a in body["agents"]}
    assert AGENT_KEYS <= set(by_name["小美"])
    mei, qiang = by_name["小美"], by_name["店铺:阿强"]
    assert (mei["receptions"], mei["reply_rate"], mei["first_response_seconds"]) == (1, 1.0, 40.0)
    assert (mei["inquiries_paid"], mei["conversion_rate"], mei["sales"], mei["avg_order_value"]) == (1, 1.0, "120.00", "120.00")
    assert (qiang["receptions"], qiang["reply_rate"], qiang["slow_turns"], qiang["unanswered_turns"]) == (2, 0.5, 1, 1)
    assert qiang["avg_order_value"] is None and qiang["refund_rate"] is None
    assert mei["rank"] == 1 and qiang["rank"] == 2
    totals = body["shop_totals"]
    assert totals["silent_orders"] == 1 and totals["silent_sales"] == "30.00"
    assert totals["receptions"] == 3


@pytest.mark.django_db
def test_agent_sees_own_figures_and_the_ranking_only(agent_person, data):
    c = Client()
    c.force_login(agent_person.user)
    body = c.get("/api/v1/metrics/agents?shop=s1&from=2026-11-01&to=2026-11-01").json()
    mine = next(a for a in body["agents"] if a["agent"] == "小美")
    other = next(a for a in body["agents"] if a["agent"] != "小美")
    assert "sales" in mine and set(other) == {"agent", "agent_id", "group", "score", "rank"}
    assert body["shop_totals"] is None
    assert c.get("/api/v1/metrics/agents?shop=s1&from=2026-11-01&to=2026-11-01&by=shop").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("query,field", [
    ("from=2026-13-01", "from"), ("from=2026-11-02&to=2026-11-01", "to"), ("from=2020-01-01&to=2026-01-01", "to"),
    ("from=2026-11-01&by=planet", "by"),
])
def test_api_bad_query_is_named(manager_client, data, query, field):
    r = manager_client.get(f"/api/v1/metrics/agents?shop=s1&{query}")
    assert r.status_code == 400 and r.json()["field"] == field


@pytest.mark.django_db
def test_cli_json_equals_api(manager_client, data, capsysbinary):
    call_command("kpi", "--shop", "s1", "--from", "2026-11-01", "--to", "2026-11-01", "--format", "json")
    cli = json.loads(capsysbinary.readouterr().out)
    api = manager_client.get("/api/v1/metrics/agents?shop=s1&from=2026-11-01&to=2026-11-01").json()
    assert cli == api


@pytest.mark.django_db
def test_cli_group_shop_csv_xlsx(data, tmp_path, capsysbinary):
    call_command("kpi", "--shop", "s1", "--from", "2026-11-01", "--to", "2026-11-01", "--by", "group", "--format", "json")
    groups = json.loads(capsysbinary.readouterr().out)["groups"]
    assert sum(g["receptions"] for g in groups) == 3
    call_command("kpi", "--shop", "s1", "--from", "2026-11-01", "--to", "2026-11-01", "--by", "shop", "--format", "csv")
    text = capsysbinary.readouterr().out.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("店铺,接待人数") and "\ns1,3," in text
    out = tmp_path / "kpi.xlsx"
    call_command("kpi", "--shop", "s1", "--from", "2026-11-01", "--to", "2026-11-01", "--format", "xlsx", "--out", str(out))
    ws = load_workbook(io.BytesIO(out.read_bytes())).active
    assert ws.cell(1, 1).value == "客服" and ws.max_row == 4 and ws.cell(4, 1).value == "全店"  # 2 agents + 全店
    call_command("kpi", "--shop", "s1", "--from", "2026-11-01", "--to", "2026-11-01")
    assert "小美" in capsysbinary.readouterr().out.decode()
    with pytest.raises(CommandError):
        call_command("kpi", "--shop", "s1", "--from", "2026-11-09", "--to", "2026-11-01")
    with pytest.raises(CommandError):
        call_command("kpi", "--shop", "zz", "--from", "2026-11-01", "--to", "2026-11-01")


@pytest.mark.django_db
def test_report_reads_rollups_not_messages(manager_client, data, shop):
    """A fixed number of queries whatever the data size: roll-ups, never raw messages, and a
    fixed number per figure set of the other apps."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kefu.metrics.kpi import figure_sets

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert manager_client.get(url).status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    month = "/api/v1/metrics/agents?shop=s1&from=2026-11-01&to=2026-11-30"
    before = queries(month)
    assert len(before) <= 10 + 4 * len(figure_sets())
    assert not any("conversations_message" in q for q in before)
    assert not any("metrics_ordercredit" in q and "DISTINCT" in q for q in before)  # a whole month: roll-up
    rows = [{"message_id": f"x{i}", "buyer_id": f"nb{i}", "agent_id": "店铺:小美", "sender": s, "sent_at": f"2026-11-0{d} 1{d}:00:0{k}"}
            for i in range(30) for d in (2, 3) for k, s in enumerate(("buyer", "agent"))]
    rows = [dict(r, message_id=f"{r['message_id']}-{r['sent_at'][8:10]}-{r['sender']}") for r in rows]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))
    assert len(queries(month)) == len(before)
