"""Query counts of the pages people open most (issue 11 item 5, bench/pages.py measures their time):
pinned per role on a small demo shop (every app's demo data present, so each figure set and panel
runs its queries), and flat when the shop grows."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.conversations.models import Conversation
from kefu.core.enums import Role
from kefu.core.models import Agent

pytestmark = pytest.mark.django_db

# (role, page) → the most queries one request may take (measured; lower them when a page gets cheaper).
# Base of every page: session, user, the person's shops (ShopMiddleware), unread notifications.
# Dashboards read today, the period and the previous period in one pass (kefu.metrics.kpi.kpi_reports).
PINS = {
    ("agent", "workspace"): 6,
    ("agent", "conversations"): 8,
    ("agent", "conversation"): 21,
    ("agent", "followups"): 5,
    ("agent", "cases"): 5,
    ("agent", "own_figures"): 21,
    ("agent", "me"): 16,
    ("agent", "dashboard"): 24,
    ("supervisor", "dashboard"): 24,
    ("supervisor", "conversations"): 9,
    ("supervisor", "cases"): 6,
    ("supervisor", "monitor"): 5,
    ("manager", "dashboard"): 24,
    ("manager", "conversations"): 9,
    ("manager", "cases"): 6,
}


def _path(page: str, member: Agent) -> str:
    if page == "conversation":
        conv = Conversation.objects.filter(shop=member.shop, agent=member).order_by("-message_count").first()
        return f"/conversations/{conv.id}/"
    return {"workspace": "/live/", "conversations": "/conversations/", "followups": "/followups/",
            "cases": "/aftersales/", "own_figures": f"/agents/{member.id}/", "me": "/people/", "dashboard": "/",
            "monitor": "/monitor/"}[page]


@pytest.fixture
def demo_shop(db):
    from kefu.demo.services import demo_load

    return demo_load(code="pq", seed=7, days=3, scale=0.02).shop


def _member(shop, role: str) -> Agent:
    people = Agent.objects.filter(shop=shop, active=True, user__isnull=False).order_by("id")
    if role == "agent":  # the busiest agent: the most rows on every page
        busiest = (Conversation.objects.filter(shop=shop, agent__isnull=False).values_list("agent_id", flat=True)
                   .order_by("agent_id"))
        counts: dict[int, int] = {}
        for a in busiest:
            counts[a] = counts.get(a, 0) + 1
        return people.get(id=max(counts, key=counts.get))
    return next(p for p in people if p.has_role(role) and not p.has_role(Role.AGENT))


def _count(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return len(ctx.captured_queries)


def test_pinned_query_counts_per_role(demo_shop):
    measured = {}
    for role in (Role.AGENT, Role.SUPERVISOR, Role.MANAGER):
        member = _member(demo_shop, role)
        client = Client()
        client.force_login(member.user)
        for (r, page) in PINS:
            if r == role:
                path = _path(page, member)
                client.get(path)  # first request of a session may touch it (language, shop)
                measured[(r, page)] = _count(client, path)
    over = {k: (n, PINS[k]) for k, n in measured.items() if n > PINS[k]}
    assert not over, f"queries (measured, pinned): {over}; all measured: {measured}"
