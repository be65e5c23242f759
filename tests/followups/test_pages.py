"""The worklist for an agent and a supervisor, htmx actions, the new follow-up form, query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.customers.models import Customer
from kefu.followups.models import FollowUp
from kefu.followups.services import followup_act, followup_create, payment_reminders_create

from .conftest import login, make_order, put_on_shift

pytestmark = pytest.mark.django_db


def test_pages_need_login(client):
    for url in ("/followups/", "/followups/new/"):
        r = client.get(url)
        assert r.status_code == 302 and r.url.startswith("/login/"), url


def test_agent_worklist_sections_and_htmx_actions(shop, customer, agent_person, colleague):
    now = timezone.now()
    put_on_shift(shop, agent_person, now - dt.timedelta(hours=1))
    make_order(shop, customer, "T1", minutes_ago=45, now=now)
    make_order(shop, customer, "T2", minutes_ago=200, now=now)
    reminders = payment_reminders_create(shop=shop, now=now)
    FollowUp.objects.filter(order__order_id="T2").update(due_at=now - dt.timedelta(minutes=5))  # overdue
    later = followup_create(shop=shop, kind="lead", customer=customer, owner=agent_person, actor=agent_person,
                            next_contact_at=now + dt.timedelta(hours=3), reason="price")
    done = followup_create(shop=shop, kind="lead", customer=customer, owner=agent_person, actor=agent_person)
    followup_act(shop=shop, followup_id=done.pk, action="lose", actor=agent_person, outcome="买了别家")
    followup_create(shop=shop, kind="lead", customer=customer, owner=colleague, actor=colleague)

    c = login(agent_person)
    r = c.get("/followups/")
    assert r.status_code == 200
    wl = r.context["wl"]
    assert [f.order.order_id for f in wl.overdue] == ["T2"]
    assert [f.order.order_id for f in wl.due_now] == ["T1"]
    assert wl.later == [later] and wl.done_today == [done]
    html = r.content.decode()
    assert "跟进" in html and "催付" in html and "买了别家" in html and 'href="/followups/"' in html
    assert "催付成功率" not in html and "全部客服" not in html  # role-aware: no supervisor view
    assert c.get("/followups/?agent=all").context["owner"] == agent_person  # agents see only theirs

    t1 = next(f for f in reminders if f.order.order_id == "T1")
    nxt = (now + dt.timedelta(hours=2)).astimezone(shop.tz).strftime("%Y-%m-%dT%H:%M")
    r = c.post(f"/followups/{t1.pk}/act/", {"action": "contact", "reason": "agreed_time", "next_contact_at": nxt},
               HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert r.status_code == 200 and "<html" not in body and f'id="followup-{t1.pk}"' in body and "已联系" in body
    t1.refresh_from_db()
    assert t1.state == "contacted" and t1.reason == "agreed_time" and t1.next_contact_at is not None
    r = c.post(f"/followups/{t1.pk}/act/", {"action": "contact", "next_contact_at": "not a time"},
               HTTP_HX_REQUEST="true")
    assert "下次联系时间格式不对" in r.content.decode()
    r = c.post(f"/followups/{t1.pk}/act/", {"action": "win", "outcome": "已付"}, HTTP_HX_REQUEST="true")
    assert "成功" in r.content.decode()
    r = c.post(f"/followups/{t1.pk}/act/", {"action": "lose"}, HTTP_HX_REQUEST="true")
    assert "已关闭" in r.content.decode() and FollowUp.objects.get(pk=t1.pk).state == "closed_won"
    # Someone else's follow-up: 404.
    theirs = FollowUp.objects.get(owner=colleague)
    assert c.post(f"/followups/{theirs.pk}/act/", {"action": "cancel"}).status_code == 404
    assert c.get(f"/followups/{theirs.pk}/act/").status_code == 404


def test_supervisor_sees_everyone_and_figures(shop, customer, agent_person, colleague, supervisor):
    followup_create(shop=shop, kind="lead", customer=customer, owner=agent_person, actor=agent_person)
    theirs = followup_create(shop=shop, kind="lead", customer=customer, owner=colleague, actor=colleague)
    c = login(supervisor)
    r = c.get("/followups/?agent=all")
    html = r.content.decode()
    assert r.context["owner"] is None and len(r.context["wl"].due_now) == 2
    assert "催付成功率" in html and "小美" in html and "阿强" in html
    r = c.get(f"/followups/?agent={colleague.pk}")
    assert [f.pk for f in r.context["wl"].due_now] == [theirs.pk]
    assert c.get("/followups/?agent=999999").status_code == 404
    r = c.post(f"/followups/{theirs.pk}/act/", {"action": "cancel"})
    assert r.status_code == 302 and FollowUp.objects.get(pk=theirs.pk).state == "cancelled"


def test_new_follow_up_form(shop, customer, agent_person):
    c = login(agent_person)
    assert "新建跟进" in c.get("/followups/new/?buyer=buyer1").content.decode()
    r = c.post("/followups/new/", {"kind": "promised_answer", "buyer_id": "buyer1", "reason": "check_stock"})
    assert r.status_code == 400 and "due_at" in r.context["form"].errors
    r = c.post("/followups/new/", {"kind": "lead", "buyer_id": "nobody"})
    assert "buyer_id" in r.context["form"].errors
    due = (timezone.now() + dt.timedelta(hours=3)).astimezone(shop.tz).strftime("%Y-%m-%dT%H:%M")
    r = c.post("/followups/new/", {"kind": "promised_answer", "buyer_id": "buyer1", "reason": "check_stock",
                                   "due_at": due, "note": "查库存"})
    assert r.status_code == 302
    fu = FollowUp.objects.get()
    assert fu.owner == agent_person and fu.kind == "promised_answer" and fu.due_at is not None


def _fill(shop, agent, n):
    now = timezone.now()
    for i in range(n):
        cust = Customer.objects.create(shop=shop, buyer_id=f"b{n}-{i}")
        order = make_order(shop, cust, f"O{n}-{i}", now=now)
        fu = followup_create(shop=shop, kind="lead", customer=cust, owner=agent, actor=agent, order=order,
                             reason="price")
        if i % 3 == 0:
            followup_act(shop=shop, followup_id=fu.pk, action="win", actor=agent)


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_worklist_query_count_does_not_grow(shop, agent_person, supervisor, who):
    viewer = agent_person if who == "agent" else supervisor
    url = "/followups/" if who == "agent" else "/followups/?agent=all"
    c = login(viewer)
    _fill(shop, agent_person, 3)
    c.get(url)
    with CaptureQueriesContext(connection) as few:
        assert c.get(url).status_code == 200
    _fill(shop, agent_person, 17)
    with CaptureQueriesContext(connection) as many:
        r = c.get(url)
    wl = r.context["wl"]
    assert wl.active_count + len(wl.done_today) == 20
    assert len(many) == len(few) <= 8, [q["sql"] for q in many.captured_queries]
