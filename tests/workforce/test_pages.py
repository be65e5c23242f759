"""Pages: roster (supervisor edits, agent views own week), shift types, swaps, on shift now, queries."""
import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.models import AuditLog
from kefu.core.services import person_create
from kefu.workforce import selectors
from kefu.workforce.models import AgentStatusChange, RosterEntry, Shift, ShiftSwap
from kefu.workforce.services import roster_assign, roster_pattern_apply, shift_create

from .conftest import MONDAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(selectors, "shop_today", lambda shop: MONDAY)
    return MONDAY


def test_pages_need_login(client):
    for url in ("/workforce/", "/workforce/now/", "/workforce/shifts/", "/workforce/swaps/"):
        r = client.get(url)
        assert r.status_code == 302 and r.url.startswith("/login/"), url


def test_supervisor_roster_page_edits_a_cell_with_htmx(supervisor_client, shop, shifts, agent_person, today):
    r = supervisor_client.get("/workforce/?week=2026-03-04")
    html = r.content.decode()
    assert r.status_code == 200 and r.context["week_start"] == MONDAY
    assert "排班" in html and "小美" in html and 'name="shift"' in html and "复制上周排班" in html
    r = supervisor_client.post("/workforce/roster/cell/", {"agent": agent_person.id, "date": "2026-03-03",
                                                            "shift": shifts["night"].id}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and html.lstrip().startswith(f'<div id="cell-{agent_person.id}-20260303">')
    assert "<html" not in html
    assert list(RosterEntry.objects.values_list("date", "shift__name")) == [(dt.date(2026, 3, 3), "夜班")]
    # An overlapping choice is refused with the reason in the cell; the roster keeps the night shift.
    r = supervisor_client.post("/workforce/roster/cell/", {"agent": agent_person.id, "date": "2026-03-04",
                                                            "shift": shifts["early"].id}, HTTP_HX_REQUEST="true")
    assert "overlaps" in r.content.decode()
    assert RosterEntry.objects.count() == 1
    # Rest day.
    supervisor_client.post("/workforce/roster/cell/", {"agent": agent_person.id, "date": "2026-03-03", "shift": ""})
    assert RosterEntry.objects.count() == 0
    assert AuditLog.objects.filter(action="roster.day_set").count() == 2


def test_agent_views_own_week_and_cannot_edit(agent_client, shop, shifts, agent_person, colleague, today):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    roster_assign(shop=shop, agent=colleague, date=MONDAY, shift=shifts["late"])
    r = agent_client.get("/workforce/")
    html = r.content.decode()
    assert r.status_code == 200 and [row.agent.name for row in r.context["rows"]] == ["小美"]
    assert "白班 08:00–17:00" in html and 'name="shift"' not in html and "复制上周排班" not in html
    r = agent_client.post("/workforce/roster/cell/", {"agent": agent_person.id, "date": "2026-03-03",
                                                       "shift": shifts["day"].id})
    assert r.status_code == 403
    assert agent_client.post("/workforce/roster/copy/", {"week": "2026-03-09"}).status_code == 403
    assert agent_client.post("/workforce/shifts/", {"name": "x", "start": "08:00", "end": "09:00"}).status_code == 403
    assert agent_client.get(f"/workforce/shifts/{shifts['day'].id}/").status_code == 404
    assert RosterEntry.objects.count() == 2


def test_other_shops_ids_are_404(supervisor_client, shop, other_shop, shifts, agent_person):
    foreign_shift = shift_create(shop=other_shop, name="外班", start="08:00", end="17:00")
    foreigner = person_create(shop=other_shop, name="外店", roles=["agent"])
    assert supervisor_client.get(f"/workforce/shifts/{foreign_shift.id}/").status_code == 404
    r = supervisor_client.post("/workforce/roster/cell/", {"agent": foreigner.id, "date": "2026-03-03",
                                                            "shift": shifts["day"].id})
    assert r.status_code == 404
    r = supervisor_client.post("/workforce/roster/cell/", {"agent": agent_person.id, "date": "2026-03-03",
                                                            "shift": foreign_shift.id})
    assert r.status_code == 404
    roster_assign(shop=other_shop, agent=foreigner, date=MONDAY, shift=foreign_shift)
    other = person_create(shop=other_shop, name="外店二", roles=["agent"])
    roster_assign(shop=other_shop, agent=other, date=MONDAY, shift=Shift.objects.create(
        shop=other_shop, name="晚", start_minute=1080, end_minute=1440))
    from kefu.workforce.services import swap_request

    swap = swap_request(shop=other_shop, date=MONDAY, agent_a=foreigner, agent_b=other, shift_a=foreign_shift)
    assert supervisor_client.post(f"/workforce/swaps/{swap.id}/approve/").status_code == 404
    assert RosterEntry.objects.filter(shop=shop).count() == 0


def test_shift_types_page(supervisor_client, shop):
    r = supervisor_client.post("/workforce/shifts/", {"name": "夜班", "start": "22:00", "end": "06:00", "group": "any"})
    assert r.status_code == 302
    r = supervisor_client.post("/workforce/shifts/", {"name": "坏", "start": "22:00", "end": "22:00", "group": "any"})
    assert r.status_code == 400 and "结束" in r.content.decode()
    html = supervisor_client.get("/workforce/shifts/").content.decode()
    assert "22:00–06:00" in html and "跨午夜" in html
    s = Shift.objects.get(shop=shop, name="夜班")
    r = supervisor_client.post(f"/workforce/shifts/{s.id}/", {"name": "大夜班", "start": "23:00", "end": "07:00",
                                                              "group": "presales", "active": "1"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert (s.name, s.hours, s.group, s.active) == ("大夜班", "23:00–07:00", "presales", True)


def test_swap_request_and_approve_pages(agent_client, supervisor_client, shop, shifts, agent_person, colleague, today):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    roster_assign(shop=shop, agent=colleague, date=MONDAY, shift=shifts["late"])
    r = agent_client.post("/workforce/swaps/", {"date": "2026-03-02", "agent_b": colleague.id,
                                                "shift_a": shifts["day"].id, "shift_b": shifts["late"].id,
                                                "reason": "去医院"})
    assert r.status_code == 302, r.content.decode()[:500]
    swap = ShiftSwap.objects.get()
    assert (swap.agent_a_name, swap.agent_b_name, swap.requested_by_label) == ("小美", "阿强", "小美")
    r = agent_client.post("/workforce/swaps/", {"date": "2026-03-02", "agent_b": colleague.id,
                                                "shift_a": shifts["night"].id, "shift_b": ""})
    assert r.status_code == 400 and "does not work" in r.content.decode()
    assert agent_client.post(f"/workforce/swaps/{swap.id}/approve/").status_code == 403
    html = supervisor_client.get("/workforce/swaps/").content.decode()
    assert "去医院" in html and "批准" in html
    assert supervisor_client.post(f"/workforce/swaps/{swap.id}/approve/").status_code == 302
    assert list(RosterEntry.objects.filter(agent=agent_person).values_list("shift__name", flat=True)) == ["晚班"]
    r = supervisor_client.post(f"/workforce/swaps/{swap.id}/approve/")
    assert r.status_code == 302 and "error=" in r.url
    assert "已批准" in agent_client.get("/workforce/swaps/").content.decode()


def test_status_control_and_on_shift_panel(agent_client, supervisor_client, shop, shifts, agent_person, colleague):
    from django.utils import timezone

    today = selectors.shop_today(shop)
    roster_assign(shop=shop, agent=agent_person, date=today, shift=Shift.objects.create(
        shop=shop, name="全天", start_minute=0, end_minute=1440))
    r = agent_client.post("/workforce/status/", {"status": "online"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'id="my-status"' in r.content.decode() and "<html" not in r.content.decode()
    # A Bootstrap button group: exactly the current state is pressed and filled, the others outlined.
    pressed = re.findall(r'<button[^>]*value="(\w+)"[^>]*class="btn text-nowrap ([^"]+)" aria-pressed="true"', r.content.decode())
    assert pressed == [("online", "btn-success active")]
    assert r.content.decode().count('aria-pressed="false"') == 2 and 'class="btn-group btn-group-sm"' in r.content.decode()
    assert agent_client.post("/workforce/status/", {"status": "busy"}).status_code == 400
    assert AgentStatusChange.objects.get().status == "online"
    r = supervisor_client.get("/workforce/now/")
    assert [(row.agent.name, row.status) for row in r.context["on_shift"]] == [("小美", "online")]
    assert "在线" in r.content.decode()
    r = supervisor_client.get("/workforce/now/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="on-shift")
    assert r.content.decode().lstrip().startswith('<section class="card" id="on-shift"')
    # The not-online report of today: 小美 was offline from midnight until just now.
    gaps = supervisor_client.get("/workforce/now/").context["gaps"]
    assert [g.agent.name for g in gaps] == ["小美"] and gaps[0].end <= timezone.now()
    # Changing state re-draws the group with the new state pressed.
    r = agent_client.post("/workforce/status/", {"status": "away"}, HTTP_HX_REQUEST="true")
    assert re.findall(r'value="(\w+)"[^>]*aria-pressed="true"', r.content.decode()) == ["away"]
    assert 'value="away" data-on-class="btn-warning" class="btn text-nowrap btn-warning active"' in r.content.decode()


def test_english_pages(supervisor_client, shop, shifts, today):
    supervisor_client.post("/i18n/setlang/", {"language": "en", "next": "/workforce/"})
    html = supervisor_client.get("/workforce/").content.decode()
    assert "Roster" in html and "Copy last week" in html and "排班表" not in html
    html = supervisor_client.get("/workforce/swaps/").content.decode()
    assert "Request a swap" in html
    html = supervisor_client.get("/workforce/shifts/").content.decode()
    assert "New shift" in html


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _team(shop, shifts, n, prefix):
    agents = [person_create(shop=shop, name=f"{prefix}{i}", roles=["agent"]) for i in range(n)]
    roster_pattern_apply(shop=shop, date_from=MONDAY, date_to=MONDAY + dt.timedelta(days=6),
                         pattern={a: {d: shifts["day"] if i % 2 else shifts["night"] for d in range(6)}
                                  for i, a in enumerate(agents)})


def test_roster_page_queries_do_not_grow_with_agents(supervisor_client, shop, shifts, today,
                                                     django_assert_max_num_queries):
    _team(shop, shifts, 3, "甲")
    small = _queries(supervisor_client, "/workforce/?week=2026-03-02")
    _team(shop, shifts, 17, "乙")
    with django_assert_max_num_queries(small):
        r = supervisor_client.get("/workforce/?week=2026-03-02")
    assert len(r.context["rows"]) == 21  # 20 agents and the supervisor


def test_now_page_queries_do_not_grow_with_agents(supervisor_client, shop, shifts, today,
                                                  django_assert_max_num_queries):
    _team(shop, shifts, 3, "甲")
    small = _queries(supervisor_client, "/workforce/now/?day=2026-03-03")
    _team(shop, shifts, 17, "乙")
    with django_assert_max_num_queries(small):
        supervisor_client.get("/workforce/now/?day=2026-03-03")


def test_people_without_a_group_and_the_since_column_read_as_words(supervisor_client, shop, shifts, colleague):
    """A person in no group shows "—" (the choice's label 无 reads "None" in English), and the on-shift
    table's last column is 状态开始/Since, not a bare 自."""
    today = selectors.shop_today(shop)
    loner = person_create(shop=shop, name="无组人", username="loner", password="pass-word-1", roles=["agent"], group="")
    allday = Shift.objects.create(shop=shop, name="全天", start_minute=0, end_minute=1440)
    roster_assign(shop=shop, agent=loner, date=today, shift=allday)
    for lang, raw in (("zh-hans", "无"), ("en", "None")):
        supervisor_client.post("/i18n/setlang/", {"language": lang, "next": "/"})
        html = supervisor_client.get("/workforce/now/").content.decode()
        row = html.split("<td>无组人</td>")[1].split("</tr>")[0]
        assert "<td>—</td>" in row and raw not in row
        assert ("<th>状态开始</th>" if lang == "zh-hans" else "<th>Since</th>") in html and "<th>自</th>" not in html
        roster = supervisor_client.get(f"/workforce/?week={today:%Y-%m-%d}").content.decode()
        cell = roster.split("无组人")[1].split("</td>")[0]
        assert "—" in cell and raw not in cell
