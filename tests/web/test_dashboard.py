"""The dashboard a 赤兔 user trusts (issue 12 item 3): periods and 环比, rankings per group, targets,
drill-down, the range-following trend and heat map, the agent-versus-team chart, role landing.
Figures are recomputed here from the raw messages and orders by plain loops."""

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.conversations.models import Conversation, Message
from kefu.core.errors import KefuError
from kefu.core.services import person_create, shop_settings_update
from kefu.core.timeutil import shop_day
from kefu.metrics.periods import PRESETS, Period, change, period_of_preset, previous_period
from kefu.metrics.targets import target_missed, targets_check
from kefu.orders.models import Order

from .data import DAY, agent, chat, order

pytestmark = pytest.mark.django_db
YESTERDAY = DAY - dt.timedelta(days=1)


# ---------------------------------------------------------------- periods (no database)

@pytest.mark.django_db(transaction=False)
def test_presets_of_a_day():
    today = dt.date(2026, 12, 5)  # a Saturday
    got = {k: (p.date_from.isoformat(), p.date_to.isoformat()) for k in PRESETS
           for p in [period_of_preset(k, today=today)]}
    assert got == {
        "today": ("2026-12-05", "2026-12-05"), "yesterday": ("2026-12-04", "2026-12-04"),
        "this_week": ("2026-11-30", "2026-12-05"), "last_week": ("2026-11-23", "2026-11-29"),
        "this_month": ("2026-12-01", "2026-12-05"), "last_month": ("2026-11-01", "2026-11-30"),
        "last_7": ("2026-11-29", "2026-12-05"), "last_30": ("2026-11-06", "2026-12-05"),
    }
    with pytest.raises(KefuError) as e:
        period_of_preset("fortnight", today=today)
    assert e.value.field == "period"


def _span(p):
    return p.date_from.isoformat(), p.date_to.isoformat()


@pytest.mark.django_db(transaction=False)
def test_what_each_period_is_compared_with():
    today = dt.date(2026, 3, 31)
    assert _span(previous_period(period_of_preset("today", today=today))) == ("2026-03-30", "2026-03-30")
    # A whole month against the whole month before (February's 28 days).
    assert _span(previous_period(Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)))) == ("2026-02-01", "2026-02-28")
    # Month to date: the same days of the month before, cut at its end.
    mtd = period_of_preset("this_month", today=dt.date(2026, 3, 5))
    assert _span(previous_period(mtd)) == ("2026-02-01", "2026-02-05")
    assert _span(previous_period(period_of_preset("this_month", today=dt.date(2026, 3, 30)))) == ("2026-02-01",
                                                                                                  "2026-02-28")
    # Week to date (Mon–Wed): the same weekdays a week earlier.
    assert _span(previous_period(period_of_preset("this_week", today=dt.date(2026, 4, 1)))) == ("2026-03-23",
                                                                                                "2026-03-25")
    # Any other range (近7天 from the 1st too): as many days right before it.
    assert _span(previous_period(Period(dt.date(2026, 3, 10), dt.date(2026, 3, 16)))) == ("2026-03-03", "2026-03-09")
    assert _span(previous_period(period_of_preset("last_7", today=dt.date(2026, 3, 7)))) == ("2026-02-22",
                                                                                             "2026-02-28")


@pytest.mark.django_db(transaction=False)
@settings(suppress_health_check=[HealthCheck.too_slow])  # a loaded machine makes the first draws slow
@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)), st.sampled_from(list(PRESETS)))
def test_every_preset_and_its_previous_period_are_sane(today, preset):
    p = period_of_preset(preset, today=today)
    q = previous_period(p)
    assert p.date_from <= p.date_to <= today
    assert q.date_from <= q.date_to < p.date_from  # strictly before, never overlapping
    assert 1 <= q.days <= max(p.days, 31)
    if preset in ("last_7", "last_30", "today", "yesterday", "last_week"):
        assert q.days == p.days and (p.date_from - q.date_to).days == 1


@pytest.mark.django_db(transaction=False)
def test_change_is_points_for_rates_and_percent_otherwise():
    assert change(0.9, 0.8, kind="rate") == {"delta": 10.0, "unit": "pp"}
    assert change("120.00", "100.00", kind="money") == {"delta": 20.0, "unit": "%"}
    assert change(5, 0, kind="number") is None and change(None, 3, kind="number") is None


# ---------------------------------------------------------------- the shop's data

@pytest.fixture
def team(shop, agent_person, day):
    """小美 (pre-sales, the logged-in agent), 阿强 (pre-sales); 阿伟 and 阿芳 after-sales. Chats and
    orders today and yesterday."""
    a2 = agent(shop, "阿强")
    w = person_create(shop=shop, name="阿伟", roles=["agent"], group="aftersales", platform_ids=[f"{shop.code}:阿伟"])
    f = person_create(shop=shop, name="阿芳", roles=["agent"], group="aftersales", platform_ids=[f"{shop.code}:阿芳"])
    chat(shop, agent=agent_person, buyer="b1", day=DAY, hour=10, reply_after=20)
    chat(shop, agent=agent_person, buyer="b2", day=DAY, hour=11, reply_after=None)
    chat(shop, agent=a2, buyer="b3", day=DAY, hour=9, reply_after=200)
    chat(shop, agent=agent_person, buyer="b4", day=YESTERDAY, hour=10, reply_after=30)
    chat(shop, agent=a2, buyer="b5", day=YESTERDAY, hour=10, reply_after=30)
    chat(shop, agent=a2, buyer="b6", day=YESTERDAY, hour=15, reply_after=50)
    # After-sales: 阿伟 converts a buyer but answers slowly; 阿芳 answers fast and sells nothing.
    chat(shop, agent=w, buyer="b7", day=DAY, hour=9, reply_after=600)
    chat(shop, agent=f, buyer="b8", day=DAY, hour=9, reply_after=10)
    order(shop, order_id="o1", buyer="b1", day=DAY, hour=12, paid="188.00")
    order(shop, order_id="o3", buyer="b3", day=DAY, hour=12, paid="520.50", refund="20.50")
    order(shop, order_id="o4", buyer="b4", day=YESTERDAY, hour=12, paid="100.00")
    order(shop, order_id="o7", buyer="b7", day=DAY, hour=12, paid="66.00")
    order(shop, order_id="o9", buyer="nobody", day=DAY, hour=12, paid="999.00")  # silent: no chat
    return {"me": agent_person, "a2": a2, "w": w, "f": f}


def _receptions(shop, day, agent_id=None) -> int:
    """Independent: distinct (agent, buyer) with a buyer message on the shop day."""
    pairs = set()
    for m in Message.objects.filter(shop=shop, sender="buyer"):
        if shop_day(m.sent_at, shop.tz) == day and m.agent_id and (agent_id is None or m.agent_id == agent_id):
            pairs.add((m.agent_id, m.customer_id))
    return len(pairs)


def _credited_sales(shop, day, agent_id=None) -> tuple[set[str], Decimal]:
    """Independent: orders paid on the day by a buyer whom an agent served that day or before."""
    served = {}
    for m in Message.objects.filter(shop=shop, sender="buyer").exclude(agent=None):
        served.setdefault(m.customer_id, set()).add(m.agent_id)
    ids, total = set(), Decimal(0)
    for o in Order.objects.filter(shop=shop, paid_at__isnull=False):
        if shop_day(o.paid_at, shop.tz) != day or o.customer_id not in served:
            continue
        if agent_id is not None and agent_id not in served[o.customer_id]:
            continue
        ids.add(o.order_id)
        total += o.paid_amount
    return ids, total


def test_overview_figures_and_their_change_recomputed(manager_client, shop, team):
    r = manager_client.get("/", {"period": "today"})
    assert r.status_code == 200
    assert (r.context["period"].date_from, r.context["previous"].date_from) == (DAY, YESTERDAY)
    cards = {c["key"]: c for c in r.context["summary"]["cards"]}
    now, before = _receptions(shop, DAY), _receptions(shop, YESTERDAY)
    assert (now, before) == (5, 3)
    assert cards["receptions"]["value"] == now and cards["receptions"]["previous"] == before
    assert cards["receptions"]["change"] == {"delta": round((now - before) / before * 100, 1), "unit": "%", "tone": None}
    ids, sales = _credited_sales(shop, DAY)
    _ids_before, sales_before = _credited_sales(shop, YESTERDAY)
    assert Decimal(cards["sales"]["value"]) == sales == Decimal("774.50")
    expected = round(float((sales - sales_before) / sales_before * 100), 1)
    assert cards["sales"]["change"]["delta"] == expected and cards["sales"]["tone"] == "good"
    # The median beside the mean (first responses today: 20, 200, 600, 10 s → median 110).
    assert cards["first_response_seconds"]["median"] == 110 and cards["first_response_seconds"]["value"] == 207.5
    html = r.content.decode()
    assert "环比" in html and 'data-key="receptions"' in html and "中位" in html


def test_drill_down_lists_add_up_to_the_figure(manager_client, shop, team):
    r = manager_client.get("/", {"period": "today"})
    cards = {c["key"]: c for c in r.context["summary"]["cards"]}
    url = cards["sales"]["href"]
    assert urlsplit(url).path == "/orders/"
    page = manager_client.get(url)
    assert page.status_code == 200
    listed = {o.order_id for o in page.context["page"].object_list}
    ids, sales = _credited_sales(shop, DAY)
    assert listed == ids and "o9" not in listed  # the silent order is not the agents' sales
    assert page.context["credited"]["sales"] == sales == Decimal(cards["sales"]["value"])
    assert page.context["credited"]["n"] == cards["orders"]["value"]
    # One agent's sales cell in the ranking links to that agent's orders.
    me = team["me"]
    q = {"pay_from": DAY.isoformat(), "pay_to": DAY.isoformat(), "agent": me.id}
    mine = manager_client.get("/orders/", q)
    assert {o.order_id for o in mine.context["page"].object_list} == _credited_sales(shop, DAY, me.id)[0] == {"o1"}
    assert f"/orders/?pay_from={DAY}&amp;pay_to={DAY}&amp;agent={me.id}" in r.content.decode()
    # The receptions card opens the conversations started in the period.
    url = cards["receptions"]["href"]
    conv = manager_client.get(url)
    got = {c.id for c in conv.context["page"].object_list}
    expected = {c.id for c in Conversation.objects.filter(shop=shop, merged_into=None)
                if shop_day(c.started_at, shop.tz) == DAY}
    assert urlsplit(url).path == "/conversations/" and got == expected and len(got) == 5


def test_an_agent_drills_into_own_orders_only(agent_client, shop, team):
    other = team["a2"]
    r = agent_client.get("/orders/", {"pay_from": DAY.isoformat(), "pay_to": DAY.isoformat(), "agent": other.id})
    assert {o.order_id for o in r.context["page"].object_list} == {"o1"}  # their own, not 阿强's o3
    cards = {c["key"]: c for c in agent_client.get("/", {"period": "today"}).context["summary"]["cards"]}
    assert cards["receptions"]["value"] == _receptions(shop, DAY, team["me"].id) == 2
    assert parse_qs(urlsplit(cards["sales"]["href"]).query)["agent"] == [str(team["me"].id)]


def test_bad_period_and_range_are_named_not_500(manager_client, team):
    r = manager_client.get("/", {"period": "fortnight"})
    assert r.status_code == 200 and "fortnight" in r.content.decode()
    r = manager_client.get("/", {"from": "2025-13-01"})
    assert r.status_code == 200 and "日期范围无效" in r.content.decode()
    r = manager_client.get("/orders/", {"pay_from": "yesterday", "agent": "x"})
    assert r.status_code == 200 and len(r.context["errors"]) == 2


def test_rankings_are_per_group_and_after_sales_never_on_conversion(manager_client, team):
    r = manager_client.get("/", {"period": "today"})
    groups = {g["group"]: g for g in r.context["ranking"]["groups"]}
    assert list(groups) == ["presales", "aftersales"]
    after = {row["agent"]: row for row in groups["aftersales"]["rows"]}
    # 阿伟 converted his buyer (conversion 100 %) but answered in 10 minutes; 阿芳 in 10 seconds.
    assert after["阿伟"]["conversion_rate"] == 1.0 and after["阿芳"]["conversion_rate"] in (0.0, None)
    assert after["阿芳"]["rank"] == 1 and after["阿伟"]["rank"] == 2
    assert "conversion_rate" not in groups["aftersales"]["columns"] and "sales" not in groups["aftersales"]["columns"]
    # Independent: the after-sales score from reply rate and response time alone (weights 20/20).
    best_resp = min(float(x["response_seconds"]) for x in after.values())
    for row in after.values():
        part = (20 * float(row["reply_rate"]) / 1.0 + 20 * best_resp / float(row["response_seconds"])) / 40
        assert row["score"] == round(100 * part, 2)
    assert [row["rank"] for row in groups["presales"]["rows"]][0] == 1  # each group starts at 1
    html = r.content.decode()
    assert "售前接待组" in html and "售后退货退款组" in html


def _reply_rate(shop, day, agent_id) -> float | None:
    """Independent: replied receptions / receptions of the agent's conversations started that shop day."""
    convs = [c for c in Conversation.objects.filter(shop=shop, agent_id=agent_id)
             if shop_day(c.started_at, shop.tz) == day]
    if not convs:
        return None
    replied = sum(1 for c in convs if Message.objects.filter(customer_id=c.customer_id, sender="agent",
                                                             sent_at__gte=c.started_at).exists())
    return replied / len(convs)


def test_ranking_cells_carry_their_change_against_the_previous_period(manager_client, shop, team):
    r = manager_client.get("/", {"period": "today"})
    rows = {row["agent"]: row for row in r.context["ranking"]["rows"]}
    before = {row["agent"]: row for row in manager_client.get("/", {"period": "yesterday"}).context["ranking"]["rows"]}
    me, a2 = team["me"], team["a2"]
    # Receptions: 小美 2 today against 1 yesterday (+100 %), 阿强 1 against 2 (−50 %); neither good nor bad.
    for name, a in (("小美", me), ("阿强", a2)):
        now, prev = _receptions(shop, DAY, a.id), _receptions(shop, YESTERDAY, a.id)
        assert rows[name]["changes"]["receptions"] == {"delta": round((now - prev) / prev * 100, 1), "unit": "%",
                                                       "tone": None}
        # Reply rate in percentage points, a fall is bad.
        pp = round((_reply_rate(shop, DAY, a.id) - _reply_rate(shop, YESTERDAY, a.id)) * 100, 1)
        got = rows[name]["changes"]["reply_rate"]
        assert got["delta"] == pp and got["unit"] == "pp"
        assert got["tone"] == (None if pp == 0 else "good" if pp > 0 else "bad")
        # Places gained within the group, from the two periods' own rankings.
        gained = before[name]["rank"] - rows[name]["rank"]
        assert rows[name]["changes"]["rank"]["delta"] == gained
    assert rows["小美"]["changes"]["reply_rate"]["delta"] == -50.0  # b2 went unanswered today
    # After-sales agents worked today only: nothing to compare, no arrows.
    assert rows["阿伟"]["changes"] == {} and rows["阿芳"]["changes"] == {}
    html = r.content.decode().split('id="ranking"')[1].split("</section>")[0]
    assert html.count('class="delta') >= 4 and "个百分点" in html
    # The export is the same figures without the arrows.
    assert manager_client.get("/", {"period": "today", "export": "csv"}).content.decode().count("↑") == 0


def test_an_empty_range_says_so_and_points_to_the_data(manager_client, shop, team):
    r = manager_client.get("/", {"from": "2020-03-01", "to": "2020-03-31"})
    assert r.status_code == 200 and r.context["summary"]["has_data"] is False
    html = r.content.decode()
    assert html.count("这段时间没有数据") >= 3  # overview, trend, heat map: no all-zero charts
    assert 'id="trend-data"' not in html and 'id="chart-receptions"' not in html and 'id="chart-load"' not in html
    assert r.context["latest_day"] == DAY
    assert f"?from={DAY.replace(day=1)}&amp;to={DAY.replace(day=30)}" in html


def test_an_imported_shop_with_2020_data_only(manager_client, shop, day):
    """Today shows no zeros but where the data is; that month shows it."""
    old = dt.date(2020, 3, 10)
    a = agent(shop, "老王")
    chat(shop, agent=a, buyer="b1", day=old, hour=10)
    chat(shop, agent=a, buyer="b2", day=old + dt.timedelta(days=5), hour=10)
    r = manager_client.get("/")
    assert r.context["summary"]["has_data"] is False and r.context["ranking"]["groups"] == []
    assert r.context["latest_day"] == old + dt.timedelta(days=5)
    html = r.content.decode()
    assert "这段时间没有数据" in html and "?from=2020-03-01&amp;to=2020-03-31" in html
    r = manager_client.get("/", {"from": "2020-03-01", "to": "2020-03-31"})
    assert r.context["summary"]["has_data"] is True
    assert len(r.context["trend_chart"]["days"]) == 31 and sum(r.context["trend_chart"]["receptions"]) == 2
    assert {c["key"]: c["value"] for c in r.context["summary"]["cards"]}["receptions"] == 2
    # Its agent page follows the same rule.
    r = manager_client.get(f"/agents/{a.id}/")
    assert r.context["figures"] is None and 'id="team-data"' not in r.content.decode()
    assert r.context["latest_month"] == Period(dt.date(2020, 3, 1), dt.date(2020, 3, 31))


def test_an_agent_without_own_figures_sees_no_zeros(agent_client, shop, day):
    other = agent(shop, "阿强")
    chat(shop, agent=other, buyer="b1", day=DAY)
    r = agent_client.get("/", {"period": "today"})
    assert r.context["summary"]["has_data"] is False and r.context["latest_day"] is None
    assert "这段时间没有数据" in r.content.decode()


def test_agent_page_cards_carry_their_change(manager_client, shop, team):
    r = manager_client.get(f"/agents/{team['me'].id}/", {"from": DAY.isoformat(), "to": DAY.isoformat()})
    assert r.context["previous"] == Period(YESTERDAY, YESTERDAY)
    cards = {c["key"]: c for c in r.context["cards"]}
    now, prev = _receptions(shop, DAY, team["me"].id), _receptions(shop, YESTERDAY, team["me"].id)
    assert cards["receptions"]["change"]["delta"] == round((now - prev) / prev * 100, 1)
    assert "环比" in r.content.decode()


def test_new_agents_are_marked_in_the_ranking(manager_client, shop, team, manager):
    from kefu.people.onboarding import onboarding_decide, onboarding_start

    start_now = dt.datetime.combine(DAY, dt.time(12), tzinfo=shop.tz)
    onboarding_start(shop=shop, agent=team["a2"], mentor=team["me"], start_date=YESTERDAY, by=manager, now=start_now)
    done = onboarding_start(shop=shop, agent=team["f"], mentor=team["w"], start_date=YESTERDAY - dt.timedelta(days=3),
                            by=manager, now=start_now)
    onboarding_decide(shop=shop, onboarding=done, confirm=False, note="不合适", by=manager,
                      now=dt.datetime.combine(DAY - dt.timedelta(days=2), dt.time(12), tzinfo=shop.tz))
    r = manager_client.get("/", {"period": "today"})
    assert r.context["ranking"]["probation"] == {team["a2"].id}
    html = r.content.decode().split('id="ranking"')[1].split("</section>")[0]
    row_of = {name: html.split(f">{name}</a>")[1].split("</td>")[0] for name in ("阿强", "阿芳", "小美")}
    assert "试用期" in row_of["阿强"] and "试用期" not in row_of["阿芳"] and "试用期" not in row_of["小美"]


def test_targets_colour_what_misses_them(manager_client, shop, team):
    r = manager_client.post("/settings/", {**_settings_form(manager_client), "t_reply_rate": "95",
                                           "t_response_seconds": "60"})
    assert r.status_code == 302, r.context and r.context["form"].errors
    shop.refresh_from_db()
    assert shop.kpi_targets == {"reply_rate": 0.95, "response_seconds": 60.0}
    r = manager_client.get("/", {"period": "today"})
    cards = {c["key"]: c for c in r.context["summary"]["cards"]}
    # 4 of 5 receptions replied today: 80 % < 95 %.
    assert cards["reply_rate"]["value"] == 0.8 and cards["reply_rate"]["missed"]
    assert cards["response_seconds"]["missed"] == (cards["response_seconds"]["value"] > 60)
    html = r.content.decode()
    assert 'class="figure kpi-card missed" href' in html and '<td class="missed"' in html
    # The agent page colours the agent's own figures against the same targets.
    page = manager_client.get(f"/agents/{team['f'].id}/", {"from": DAY.isoformat(), "to": DAY.isoformat()})
    assert "response_seconds" not in page.context["missed_keys"]  # 阿芳 answered in 10 s
    page = manager_client.get(f"/agents/{team['w'].id}/", {"from": DAY.isoformat(), "to": DAY.isoformat()})
    assert "response_seconds" in page.context["missed_keys"]


def _settings_form(client) -> dict:
    form = client.get("/settings/").context["form"]
    data = {}
    for name in form.fields:
        v = form[name].value()
        data[name] = "" if v is None else v
    return data


def test_target_rules():
    targets_check({"reply_rate": 0.95, "response_seconds": 30})
    for bad in ({"reply_rate": 1.5}, {"nonsense": 1}, {"response_seconds": -1}, {"reply_rate": True}, [1]):
        with pytest.raises(KefuError) as e:
            targets_check(bad)
        assert e.value.field == "kpi_targets"
    assert target_missed("reply_rate", 0.94, {"reply_rate": 0.95})
    assert not target_missed("reply_rate", 0.95, {"reply_rate": 0.95})
    assert target_missed("response_seconds", 31, {"response_seconds": 30})
    assert not target_missed("response_seconds", None, {"response_seconds": 30})


def test_targets_through_the_api(manager_client, shop):
    r = manager_client.post(f"/api/v1/shop/settings?shop={shop.code}", {"kpi_targets": {"refund_rate": 0.05}},
                            content_type="application/json")
    assert r.status_code == 200 and r.json()["kpi_targets"] == {"refund_rate": 0.05}
    r = manager_client.post(f"/api/v1/shop/settings?shop={shop.code}", {"kpi_targets": {"refund_rate": 5}},
                            content_type="application/json")
    assert r.status_code == 400 and "refund_rate" in r.content.decode()
    shop.refresh_from_db()
    assert shop.kpi_targets == {"refund_rate": 0.05}


def test_service_refuses_bad_targets(shop):
    with pytest.raises(KefuError) as e:
        shop_settings_update(shop=shop, kpi_targets={"reply_rate": 95})
    assert e.value.field == "kpi_targets"


def test_trend_and_heat_map_follow_the_range(manager_client, shop, team):
    r = manager_client.get("/", {"period": "last_7"})
    assert len(r.context["trend_chart"]["days"]) == 7 and r.context["load_chart"]["by"] == "day"
    assert sum(r.context["trend_chart"]["receptions"]) == _receptions(shop, DAY) + _receptions(shop, YESTERDAY)
    # A long range (an imported year): the heat map by weekday × hour, nothing lost.
    r = manager_client.get("/", {"from": "2025-01-01", "to": DAY.isoformat()})
    load = r.context["load_chart"]
    assert load["by"] == "weekday" and len(load["receptions"]) == 7
    assert sum(map(sum, load["receptions"])) == 8
    assert load["receptions"][DAY.weekday()][9] == 3  # three buyers wrote at 9:00 today
    assert len(r.context["trend_chart"]["days"]) == (DAY - dt.date(2025, 1, 1)).days + 1


def test_agent_page_compares_with_the_team_average(manager_client, shop, team):
    r = manager_client.get(f"/agents/{team['me'].id}/", {"from": YESTERDAY.isoformat(), "to": DAY.isoformat()})
    team_chart = r.context["team_chart"]
    # Today: 5 receptions by 4 working agents; yesterday 3 by 2.
    assert team_chart["receptions"] == [round(3 / 2, 1), round(5 / 4, 1)]
    assert r.context["trend_chart"]["receptions"] == [1, 2]
    assert 'id="team-data"' in r.content.decode()


def test_landing_pages_follow_the_role(shop, team):
    clerk = person_create(shop=shop, name="仓库", username="wh", password="pass-word-1", roles=["warehouse"], group="")
    c = Client()
    c.force_login(clerk.user)
    r = c.get("/")
    assert r.status_code == 302 and r.url == "/orders/warehouse/"
    assert "看板" not in c.get("/orders/warehouse/").content.decode().split('id="sidebar-menu"')[1].split("</nav>")[0]
    boss = person_create(shop=shop, name="老板", username="boss", password="pass-word-1", roles=["manager"])
    c.force_login(boss.user)
    html = c.get("/").content.decode()
    assert "我的绩效" not in html and "概览" in html


def test_changes_read_in_english(manager_client, team):
    manager_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = manager_client.get("/", {"period": "today"}).content.decode()
    assert "个百分点" not in html and " pp</span>" in html and "vs. previous" in html
    assert " places</span>" in html or " place</span>" in html or "→ </span>" in html
