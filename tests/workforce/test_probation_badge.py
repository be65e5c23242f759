"""New agents (in training or probation, kefu.people.selectors.agents_in_probation) carry a 试用期
badge on the roster and the on-shift list — one query for the whole list."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.core.services import person_create
from kefu.core.timeutil import shop_day
from kefu.people.onboarding import onboarding_decide, onboarding_start
from kefu.workforce import selectors
from kefu.workforce.models import Shift
from kefu.workforce.services import roster_assign, roster_pattern_apply

from .conftest import MONDAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(selectors, "shop_today", lambda shop: MONDAY)
    return MONDAY


def _team(shop, shifts, n, prefix):
    """n agents on the roster's week, and on an all-day shift right now (the on-shift list is live)."""
    agents = [person_create(shop=shop, name=f"{prefix}{i}", roles=["agent"]) for i in range(n)]
    roster_pattern_apply(shop=shop, date_from=MONDAY, date_to=MONDAY + dt.timedelta(days=6),
                         pattern={a: {d: shifts["day"] for d in range(7)} for a in agents})
    allday, _ = Shift.objects.get_or_create(shop=shop, name="全天", defaults={"start_minute": 0, "end_minute": 1440})
    for a in agents:
        roster_assign(shop=shop, agent=a, date=shop_day(timezone.now(), shop.tz), shift=allday)
    return agents


def _new(shop, trainee, mentor, by, start=MONDAY - dt.timedelta(days=5)):
    return onboarding_start(shop=shop, agent=trainee, mentor=mentor, start_date=start, by=by,
                            now=at(shop, MONDAY, 9))


def _queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
        assert r.status_code == 200
    return len(ctx.captured_queries), r.content.decode()


def _cell(html: str, name: str) -> str:
    return html.split(f">{name}")[1].split("</td>")[0]


def test_new_agents_are_marked_on_the_roster_and_the_on_shift_list(supervisor_client, supervisor, shop, shifts,
                                                                   today):
    a = _team(shop, shifts, 4, "甲")
    _new(shop, a[0], a[2], supervisor)
    decided = _new(shop, a[1], a[3], supervisor, start=MONDAY - dt.timedelta(days=20))
    onboarding_decide(shop=shop, onboarding=decided, confirm=False, note="不合适", by=supervisor,
                      now=at(shop, MONDAY - dt.timedelta(days=1), 9))
    roster = supervisor_client.get("/workforce/?week=2026-03-02").content.decode()
    assert "试用期" in _cell(roster, "甲0") and "试用期" not in _cell(roster, "甲1")
    assert "试用期" not in _cell(roster, "甲2")
    now = supervisor_client.get("/workforce/now/?day=2026-03-02").content.decode()
    on_shift = now.split('id="on-shift"')[1]
    assert "试用期" in _cell(on_shift, "甲0") and "试用期" not in _cell(on_shift, "甲1")
    supervisor_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    roster = supervisor_client.get("/workforce/?week=2026-03-02").content.decode()
    assert "Probation" in _cell(roster, "甲0") and "试用期" not in roster


def test_badges_cost_one_query_for_the_whole_list(supervisor_client, supervisor, shop, shifts, today,
                                                  django_assert_num_queries):
    a = _team(shop, shifts, 4, "甲")
    _new(shop, a[0], a[2], supervisor)
    small_roster, _html = _queries(supervisor_client, "/workforce/?week=2026-03-02")
    small_now, _html = _queries(supervisor_client, "/workforce/now/?day=2026-03-02")
    b = _team(shop, shifts, 12, "乙")
    for i in range(5):
        _new(shop, b[i], b[i + 6], supervisor)
    with django_assert_num_queries(small_roster):
        html = supervisor_client.get("/workforce/?week=2026-03-02").content.decode()
    assert html.split('class="list roster"')[1].split("</table>")[0].count('class="badge bg-yellow-lt probation"') == 6
    with django_assert_num_queries(small_now):
        html = supervisor_client.get("/workforce/now/?day=2026-03-02").content.decode()
    assert html.split('id="on-shift"')[1].count("probation") == 6
