"""Typing practice and tests (WF-9): who records what, bad input, idempotency, void, the trend and the
month recomputed by a plain loop, pages and API by role, tenancy."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import AuditLog
from kefu.core.services import person_create
from kefu.people import typing_results as ty
from kefu.people.models import TypingResult

from .conftest import login

NOW = dt.datetime(2026, 11, 20, 4, tzinfo=dt.UTC)  # 2026-11-20 12:00 in Shanghai
OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def rec(shop, agent, by, kind, day, speed, acc, **kw):
    return ty.typing_record(shop=shop, agent=agent, kind=kind, taken_on=day, speed=speed, accuracy=acc, by=by,
                            now=NOW, **kw)[0]


@pytest.mark.django_db
def test_who_records_what(shop, supervisor, agent, colleague):
    row, created = ty.typing_record(shop=shop, agent=agent, kind="practice", taken_on=dt.date(2026, 11, 18),
                                    speed=95, accuracy="98.5", text="退换货流程", by=agent, now=NOW)
    assert created and row.net_speed == Decimal("93.6") and row.recorded_label == "小美"
    with pytest.raises(PermissionDenied):  # the monthly test is the supervisor's
        rec(shop, agent, agent, "test", dt.date(2026, 11, 18), 100, "99")
    with pytest.raises(PermissionDenied):  # nor a colleague's practice
        rec(shop, colleague, agent, "practice", dt.date(2026, 11, 18), 100, "99")
    rec(shop, agent, supervisor, "test", dt.date(2026, 11, 19), 101, "97")
    assert AuditLog.objects.filter(action="people.typing.record").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("field,kw", [
    ("speed", {"speed": 0}), ("speed", {"speed": 601}), ("speed", {"speed": "fast"}),
    ("accuracy", {"accuracy": "100.5"}), ("accuracy", {"accuracy": "-1"}), ("accuracy", {"accuracy": "9.999"}),
    ("taken_on", {"taken_on": dt.date(2026, 11, 21)}), ("taken_on", {"taken_on": dt.date(2025, 1, 1)}),
    ("kind", {"kind": "exam"}),
])
def test_bad_input_names_the_field_and_stores_nothing(shop, supervisor, agent, field, kw):
    args = {"kind": "practice", "taken_on": dt.date(2026, 11, 18), "speed": 90, "accuracy": "98"} | kw
    with pytest.raises(KefuError) as e:
        ty.typing_record(shop=shop, agent=agent, by=supervisor, now=NOW, **args)
    assert e.value.field == field
    assert not TypingResult.objects.exists()


@pytest.mark.django_db
def test_request_id_and_void(shop, supervisor, agent):
    a, c1 = ty.typing_record(shop=shop, agent=agent, kind="practice", taken_on=dt.date(2026, 11, 18), speed=90,
                             accuracy="98", by=agent, request_id="t-1", now=NOW)
    b, c2 = ty.typing_record(shop=shop, agent=agent, kind="practice", taken_on=dt.date(2026, 11, 18), speed=90,
                             accuracy="98.00", by=agent, request_id="t-1", now=NOW)
    assert (c1, c2) == (True, False) and a.pk == b.pk and TypingResult.objects.count() == 1
    with pytest.raises(KefuError) as e:
        ty.typing_record(shop=shop, agent=agent, kind="practice", taken_on=dt.date(2026, 11, 18), speed=91,
                         accuracy="98", by=agent, request_id="t-1", now=NOW)
    assert e.value.code == "request_id_reused"
    with pytest.raises(PermissionDenied):
        ty.typing_void(shop=shop, result=a, reason="打错了", by=agent)
    ty.typing_void(shop=shop, result=a, reason="录入错误", by=supervisor)
    with pytest.raises(KefuError) as e:
        ty.typing_void(shop=shop, result=a, reason="again", by=supervisor)
    assert e.value.code == "already_done"
    assert ty.typing_trend(shop=shop, agent=agent, today=NOV)[-1].practices == 0  # voided: out of the figures


def plain_month(rows: list[dict], month: dt.date) -> dict:
    """The month's figures by a plain loop over raw rows (independent of month_figures)."""
    def in_month(r, m):
        return r["voided_at"] is None and (r["taken_on"].year, r["taken_on"].month) == (m.year, m.month)

    prev = (month - dt.timedelta(days=1)).replace(day=1)
    practice = [r["speed"] for r in rows if in_month(r, month) and r["kind"] == "practice"]
    tests = [r for r in rows if in_month(r, month) and r["kind"] == "test"]
    ptests = [r for r in rows if in_month(r, prev) and r["kind"] == "test"]

    def net(r):
        return (Decimal(r["speed"]) * r["accuracy"] / 100).quantize(Decimal("0.1"))

    last = None
    for r in tests:
        if last is None or (r["taken_on"], r["id"]) > (last["taken_on"], last["id"]):
            last = r
    plast = None
    for r in ptests:
        if plast is None or (r["taken_on"], r["id"]) > (plast["taken_on"], plast["id"]):
            plast = r
    change = net(last) - net(plast) if last and plast else None
    return {"practices": len(practice), "best": max(practice) if practice else None,
            "avg": (Decimal(sum(practice)) / len(practice)).quantize(Decimal("0.1")) if practice else None,
            "test": last["id"] if last else None, "change": change, "improved": change is not None and change > 0}


results = st.lists(st.tuples(st.sampled_from(["practice", "test"]), st.integers(0, 60), st.integers(1, 600),
                             st.decimals(0, 100, places=2), st.booleans()), max_size=14)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(results)
def test_trend_and_month_match_a_plain_loop(shop, supervisor, agent, data):
    TypingResult.objects.all().delete()
    for kind, back, speed, acc, void in data:
        r = rec(shop, agent, supervisor, kind, dt.date(2026, 11, 20) - dt.timedelta(days=back), speed, acc)
        if void:
            ty.typing_void(shop=shop, result=r, reason="x", by=supervisor)
    raw = list(TypingResult.objects.filter(agent=agent).values("id", "kind", "taken_on", "speed", "accuracy",
                                                               "voided_at"))
    trend = ty.typing_trend(shop=shop, agent=agent, months=3, today=dt.date(2026, 11, 20))
    assert [f.month for f in trend] == [dt.date(2026, 9, 1), OCT, NOV]
    for f in trend:
        want = plain_month(raw, f.month)
        assert (f.practices, f.practice_best, f.practice_avg, f.test.id if f.test else None, f.change, f.improved) == (
            want["practices"], want["best"], want["avg"], want["test"], want["change"], want["improved"])
    (row_agent, f), = [(a, f) for a, f in ty.typing_month(shop=shop, member=supervisor, month=NOV) if a == agent]
    assert (f.practices, f.change) == (plain_month(raw, NOV)["practices"], plain_month(raw, NOV)["change"])


@pytest.mark.django_db
def test_improved_against_last_months_test(shop, supervisor, agent, colleague):
    rec(shop, agent, supervisor, "test", dt.date(2026, 10, 28), 100, "90")  # net 90.0
    rec(shop, agent, supervisor, "test", dt.date(2026, 11, 3), 80, "90")  # an earlier November test
    rec(shop, agent, supervisor, "test", dt.date(2026, 11, 17), 100, "95")  # the month's last: net 95.0
    rec(shop, colleague, supervisor, "test", dt.date(2026, 11, 17), 120, "99")  # no October test: no change
    month = dict(ty.typing_month(shop=shop, member=supervisor, month=NOV))
    assert month[agent].change == Decimal("5.0") and month[agent].improved
    assert month[colleague].change is None and not month[colleague].improved
    assert [a for a, _ in ty.typing_month(shop=shop, member=agent, month=NOV)] == [agent]  # an agent: own row


@pytest.mark.django_db
def test_api_by_role_and_tenancy(shop, other_shop, api, supervisor, agent, colleague):
    c = login(agent)
    body = {"kind": "practice", "taken_on": "2026-11-18", "speed": 88, "accuracy": "97.5", "request_id": "p1"}
    r = c.post("/api/v1/typing-results?shop=s1", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    assert r.json()["agent_id"] == agent.pk and r.json()["net_speed"] == "85.8"
    r = c.post("/api/v1/typing-results?shop=s1", json.dumps(body), content_type="application/json")
    assert r.status_code == 200 and r.json()["id"] == rid
    r = c.post("/api/v1/typing-results?shop=s1", json.dumps(body | {"kind": "test", "request_id": ""}),
               content_type="application/json")
    assert r.status_code == 403
    r = c.post("/api/v1/typing-results?shop=s1", json.dumps(body | {"accuracy": "101", "request_id": ""}),
               content_type="application/json")
    assert r.status_code == 400 and "accuracy" in r.content.decode()
    test = {"agent_id": agent.pk, "kind": "test", "taken_on": "2026-11-19", "speed": 99, "accuracy": "99"}
    assert api.post("/api/v1/typing-results", json.dumps(test), content_type="application/json").status_code == 201
    assert len(c.get("/api/v1/typing-results?shop=s1").json()) == 2
    assert login(colleague).get("/api/v1/typing-results?shop=s1").json() == []
    assert login(colleague).get(f"/api/v1/typing/trend/{agent.pk}?shop=s1").status_code == 404
    trend = c.get(f"/api/v1/typing/trend/{agent.pk}?shop=s1&months=2").json()
    assert len(trend) == 2
    month = api.get("/api/v1/typing/month?month=2026-11").json()
    assert {r["agent"] for r in month} >= {"小美", "阿强"}
    assert login(colleague).post(f"/api/v1/typing-results/{rid}/void?shop=s1", json.dumps({"reason": "x"}),
                                 content_type="application/json").status_code == 404
    assert c.post(f"/api/v1/typing-results/{rid}/void?shop=s1", json.dumps({"reason": "x"}),
                  content_type="application/json").status_code == 403
    r = login(supervisor).post(f"/api/v1/typing-results/{rid}/void?shop=s1", json.dumps({"reason": "录错"}),
                               content_type="application/json")
    assert r.status_code == 200 and r.json()["voided"]
    stranger = person_create(shop=other_shop, name="外人", username="wai", password="pass-word-1", roles=["agent"])
    assert api.post("/api/v1/typing-results", json.dumps(test | {"agent_id": stranger.pk}),
                    content_type="application/json").status_code == 404
    assert api.get(f"/api/v1/typing/trend/{stranger.pk}").status_code == 404


@pytest.mark.django_db
def test_pages(shop, supervisor, agent, colleague, django_assert_max_num_queries):
    today = dt.date.today()
    c = login(agent)
    r = c.get("/people/typing/")
    assert r.status_code == 302 and r["Location"].endswith(f"/people/typing/agents/{agent.pk}/")
    r = c.post("/people/typing/record/", {"kind": "practice", "taken_on": today.isoformat(), "speed": "90",
                                          "accuracy": "98", "text": "商品知识"})
    assert r.status_code == 302 and TypingResult.objects.filter(agent=agent).count() == 1
    r = c.post("/people/typing/record/", {"kind": "practice", "taken_on": today.isoformat(), "speed": "9000",
                                          "accuracy": "98"})
    assert "error=" in r["Location"]
    page = c.get(f"/people/typing/agents/{agent.pk}/").content.decode()
    assert 'id="typing-trend"' in page and "商品知识" in page and 'value="test"' not in page
    assert c.get(f"/people/typing/agents/{colleague.pk}/").status_code == 404
    assert 'id="my-typing"' in c.get("/people/").content.decode()
    s = login(supervisor)
    for i in range(3):
        person_create(shop=shop, name=f"客服{i}", username=f"kf{i}", password="pass-word-1", roles=["agent"])
    with django_assert_max_num_queries(16):
        page = s.get("/people/typing/").content.decode()
    assert 'id="typing-month"' in page and "小美" in page and 'value="test"' in page
    s.post("/people/typing/record/", {"agent": colleague.pk, "kind": "test", "taken_on": today.isoformat(),
                                      "speed": "120", "accuracy": "99.5", "back": "month"})
    assert TypingResult.objects.filter(agent=colleague, kind="test").count() == 1
