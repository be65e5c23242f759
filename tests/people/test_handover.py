"""Account handover (CONV-8): what moves, what stays, sticky routing, idempotency, access, pages, races."""

import datetime as dt
import json
import random

import pytest
from django.utils import timezone

from kefu.aftersales.models import Case, CaseEvent
from kefu.approvals.models import Notification
from kefu.care.models import Revisit, RevisitPlan
from kefu.complaints.models import Complaint, ComplaintEvent
from kefu.conversations.models import Conversation, Message
from kefu.conversations.routing import last_agent_of
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.models import AgentAccount, AuditLog
from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.followups.models import FollowUp, FollowUpEvent
from kefu.metrics.kpi import kpi_report
from kefu.metrics.services import facts_rebuild
from kefu.people import handover as ho
from kefu.people.models import AccountHandover, HandoverItem

from .conftest import login

DAY = dt.date(2026, 11, 3)


def chat(shop, buyer: str, platform_id: str, hh: int, mm: int = 0, day: dt.date = DAY, n: int = 1):
    """A buyer asks and the agent (by platform id) answers a minute later, n times two minutes apart."""
    rows = []
    for i in range(n):
        t = dt.datetime.combine(day, dt.time(hh, mm)) + dt.timedelta(minutes=2 * i)
        rows += [{"message_id": f"{buyer}-{platform_id}-{t:%m%d%H%M}-q", "buyer_id": buyer, "agent_id": platform_id,
                  "sender": "buyer", "sent_at": t.isoformat(), "text": "在吗"},
                 {"message_id": f"{buyer}-{platform_id}-{t:%m%d%H%M}-a", "buyer_id": buyer, "agent_id": platform_id,
                  "sender": "agent", "sent_at": (t + dt.timedelta(minutes=1)).isoformat(), "text": "在的亲"}]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))


def cust(shop, buyer_id):
    return Customer.objects.get(shop=shop, buyer_id=buyer_id)


@pytest.fixture
def newbie(shop):
    return person_create(shop=shop, name="小新", username="xiaoxin", password="pass-word-1", roles=["agent"])


@pytest.fixture
def book(shop, agent, colleague):
    """小美 served b1, b2 and b3 (b3 later went to 阿强); she owns open and closed work."""
    chat(shop, "b1", "店铺:小美", 10)
    chat(shop, "b2", "店铺:小美", 11, n=3)
    chat(shop, "b3", "店铺:小美", 12)
    chat(shop, "b3", "店铺:阿强", 16)
    chat(shop, "b4", "店铺:阿强", 9)
    b1, b2, b3 = cust(shop, "b1"), cust(shop, "b2"), cust(shop, "b3")
    f_open = FollowUp.objects.create(shop=shop, kind="lead", owner=agent, customer=b1)
    f_done = FollowUp.objects.create(shop=shop, kind="lead", owner=agent, customer=b2, state="closed_won")
    f_other = FollowUp.objects.create(shop=shop, kind="lead", owner=colleague, customer=b3)
    case = Case.objects.create(shop=shop, type="return_refund", reason="quality", owner=agent)
    case_closed = Case.objects.create(shop=shop, type="return_refund", reason="quality", owner=agent, state="closed")
    plan = RevisitPlan.objects.create(shop=shop, name="月度回访")
    plan.assignees.add(agent)
    rev = Revisit.objects.create(shop=shop, plan=plan, customer=b2, owner=agent, due_on=DAY + dt.timedelta(days=7))
    comp = Complaint.objects.create(shop=shop, source="buyer", category="attitude", owner=agent, summary="发错颜色",
                                    customer=b1)
    return {"f_open": f_open, "f_done": f_done, "f_other": f_other, "case": case, "case_closed": case_closed,
            "plan": plan, "rev": rev, "comp": comp}


NOW = dt.datetime(2026, 11, 4, 10, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_handover_moves_open_work_and_keeps_closed_work(shop, supervisor, agent, colleague, newbie, book):
    h, created = ho.handover_run(shop=shop, from_agent=agent, to_agent=newbie, reason="离职", by=supervisor,
                                 now=NOW)
    assert created
    assert h.counts == {"buyer": 2, "followup": 1, "revisit": 1, "case": 1, "complaint": 1, "conversation": 0,
                        "account": 1}
    book_ids = {k: v.pk for k, v in book.items()}

    def owner(model, key):
        return model.objects.get(pk=book_ids[key]).owner_id

    assert owner(FollowUp, "f_open") == newbie.pk
    assert owner(FollowUp, "f_done") == agent.pk  # closed work stays with who did it
    assert owner(FollowUp, "f_other") == colleague.pk
    assert owner(Case, "case") == newbie.pk and owner(Case, "case_closed") == agent.pk
    assert Case.objects.get(pk=book_ids["case"]).version == 2  # an editor holding the old version must reload
    assert CaseEvent.objects.filter(case_id=book_ids["case"], action="handover").count() == 1
    assert owner(Revisit, "rev") == newbie.pk
    assert list(book["plan"].assignees.all()) == [newbie]
    assert owner(Complaint, "comp") == newbie.pk
    assert AgentAccount.objects.get(platform_id="店铺:小美").agent_id == newbie.pk
    buyers = HandoverItem.objects.filter(handover=h, kind="buyer")
    assert {i.customer.buyer_id for i in buyers} == {"b1", "b2"}  # b3 talked to 阿强 last
    assert all(i.greeted_at is None and i.last_contact_at is not None for i in buyers)
    assert AuditLog.objects.filter(shop=shop, action="people.handover", entity_id=str(h.pk)).count() == 1
    assert Notification.objects.filter(recipient=newbie, link__endswith=f"/handovers/{h.pk}/").count() == 1
    # the history of what moved stays with it: the follow-up's buyer, the case's timeline
    assert FollowUp.objects.get(pk=book_ids["f_open"]).customer.buyer_id == "b1"
    # and each timeline says it changed hands, without a change of state
    for events, key in ((FollowUpEvent.objects.filter(followup_id=book_ids["f_open"]), "f_open"),
                        (ComplaintEvent.objects.filter(complaint_id=book_ids["comp"]), "comp")):
        moved = [e for e in events if e.action == "handover"]
        assert len(moved) == 1 and moved[0].from_state == moved[0].to_state, key
        assert moved[0].actor_id == supervisor.pk and "小美" in moved[0].note
    assert not FollowUpEvent.objects.filter(followup_id=book_ids["f_done"], action="handover").exists()


@pytest.mark.django_db
def test_sticky_routing_follows_the_handover_until_someone_else_serves_the_buyer(shop, supervisor, agent, colleague,
                                                                                newbie, book):
    b1, b3 = cust(shop, "b1"), cust(shop, "b3")
    assert last_agent_of(shop=shop, customer_id=b1.pk) == agent.pk
    ho.handover_run(shop=shop, from_agent=agent, to_agent=newbie, reason="离职", by=supervisor, now=NOW)
    assert last_agent_of(shop=shop, customer_id=b1.pk) == newbie.pk
    assert last_agent_of(shop=shop, customer_id=b3.pk) == colleague.pk  # not hers: untouched
    chat(shop, "b1", "店铺:阿强", 9, day=dt.date(2026, 11, 5))  # after the handover 阿强 served b1
    assert last_agent_of(shop=shop, customer_id=b1.pk) == colleague.pk


@pytest.mark.django_db
def test_a_handover_done_twice_moves_nothing_the_second_time(shop, supervisor, agent, colleague, newbie, book):
    h1, c1 = ho.handover_run(shop=shop, from_agent=agent, to_agent=newbie, reason="离职", by=supervisor, now=NOW)
    items = HandoverItem.objects.count()
    h2, c2 = ho.handover_run(shop=shop, from_agent=agent, to_agent=newbie, reason="离职", by=supervisor,
                             now=NOW + dt.timedelta(minutes=5))
    assert (c1, c2) == (True, False) and h2.pk == h1.pk
    assert HandoverItem.objects.count() == items and AccountHandover.objects.count() == 1
    # the same request id again: the same handover; with another pair: refused
    h3, c3 = ho.handover_run(shop=shop, from_agent=newbie, to_agent=colleague, reason="调岗", by=supervisor,
                             request_id="r-1", now=NOW + dt.timedelta(hours=1))
    again, c4 = ho.handover_run(shop=shop, from_agent=newbie, to_agent=colleague, reason="调岗", by=supervisor,
                                request_id="r-1")
    assert c3 and not c4 and again.pk == h3.pk
    from kefu.core.errors import KefuError
    with pytest.raises(KefuError) as e:
        ho.handover_run(shop=shop, from_agent=agent, to_agent=colleague, reason="x", by=supervisor, request_id="r-1")
    assert e.value.code == "request_id_reused"
    # a chain: b1 went 小美 → 小新 → 阿强
    assert last_agent_of(shop=shop, customer_id=cust(shop, "b1").pk) == colleague.pk


@pytest.mark.django_db
def test_kpi_history_stays_with_whoever_did_the_work(shop, supervisor, agent, colleague, newbie, book):
    before = kpi_report(shop=shop, date_from=DAY, date_to=DAY)
    replies = {a: Message.objects.filter(shop=shop, agent_id=a, sender="agent").count()
               for a in (agent.pk, colleague.pk, newbie.pk)}
    ho.handover_run(shop=shop, from_agent=agent, to_agent=newbie, reason="离职", by=supervisor, now=NOW)
    facts_rebuild(shop=shop, customer_ids=Customer.objects.filter(shop=shop).values_list("pk", flat=True))
    after = kpi_report(shop=shop, date_from=DAY, date_to=DAY)

    def rows(report):
        return {r["agent_id"]: r for r in report["agents"]}

    assert rows(after) == rows(before)
    assert rows(after)[agent.pk]["receptions"] == 3  # b1, b2, b3 that day, counted by hand
    assert newbie.pk not in rows(after)
    # the raw rows agree: her replies are still hers
    assert replies == {a: Message.objects.filter(shop=shop, agent_id=a, sender="agent").count() for a in replies}
    assert replies[agent.pk] == 5 and replies[newbie.pk] == 0


def _owners_by_loop(shop) -> dict[int, int | None]:
    """The sticky owner of every buyer, by a plain loop over raw conversation and handover rows."""
    latest: dict[int, tuple] = {}
    for c in Conversation.objects.filter(shop=shop).values("customer_id", "ended_at", "id", "assignee_id", "agent_id"):
        if not (c["assignee_id"] or c["agent_id"]):
            continue
        key = (c["ended_at"], c["id"])
        if c["customer_id"] not in latest or key > latest[c["customer_id"]][0]:
            latest[c["customer_id"]] = (key, c["assignee_id"] or c["agent_id"])
    moved: dict[int, tuple] = {}
    for i in HandoverItem.objects.filter(shop=shop, kind="buyer").values("customer_id", "created_at", "id",
                                                                         "to_agent_id"):
        key = (i["created_at"], i["id"])
        if i["customer_id"] not in moved or key > moved[i["customer_id"]][0]:
            moved[i["customer_id"]] = (key, i["to_agent_id"])
    out = {}
    for cid, ((ended, _), owner) in latest.items():
        if cid in moved and moved[cid][0][0] > ended:
            owner = moved[cid][1]
        out[cid] = owner
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_buyer_owners_match_a_plain_loop(shop, supervisor, seed):
    rnd = random.Random(seed)
    people = [person_create(shop=shop, name=f"客服{i}", username=f"kf{i}", password="pass-word-1", roles=["agent"],
                            platform_ids=[f"店铺:客服{i}"]) for i in range(4)]
    for step in range(4):
        day = DAY + dt.timedelta(days=2 * step)
        for b in range(8):
            if rnd.random() < 0.6:
                chat(shop, f"b{b}", f"店铺:客服{rnd.randrange(4)}", rnd.randrange(9, 20), rnd.randrange(0, 50), day=day)
        a, b = rnd.sample(people, 2)
        ho.handover_run(shop=shop, from_agent=a, to_agent=b, reason="轮换", by=supervisor, accounts=False,
                        now=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(3), tzinfo=dt.UTC))
    expected = _owners_by_loop(shop)
    for p in people:
        got = {r["customer_id"] for r in ho.buyers_with_owner(shop=shop, agent=p)}
        assert got == {c for c, o in expected.items() if o == p.pk}, p.name
        for cid in got:
            assert last_agent_of(shop=shop, customer_id=cid) == p.pk


@pytest.mark.django_db
def test_open_conversation_moves_with_an_event(shop, supervisor, agent, newbie):
    now = timezone.now()
    t = now.astimezone(shop.tz).replace(tzinfo=None) - dt.timedelta(minutes=3)
    rows = [{"message_id": "live-1", "buyer_id": "b9", "agent_id": "店铺:小美", "sender": "buyer",
             "sent_at": t.isoformat()}]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))
    conv = Conversation.objects.get(shop=shop, customer__buyer_id="b9")
    Conversation.objects.filter(pk=conv.pk).update(assignee=agent)
    h, _ = ho.handover_run(shop=shop, from_agent=agent, to_agent=newbie, reason="下班交接", by=supervisor,
                           accounts=False)
    conv.refresh_from_db()
    assert h.counts["conversation"] == 1 and conv.assignee_id == newbie.pk
    assert conv.events.filter(kind="transferred", from_agent=agent, to_agent=newbie).count() == 1


@pytest.mark.django_db
def test_bad_input_and_access(shop, other_shop, supervisor, agent, colleague, newbie, book):
    from kefu.core.errors import KefuError, NotFound, PermissionDenied

    with pytest.raises(KefuError) as e:
        ho.handover_run(shop=shop, from_agent=agent, to_agent=newbie, reason="  ", by=supervisor)
    assert e.value.field == "reason"
    with pytest.raises(KefuError) as e:
        ho.handover_run(shop=shop, from_agent=agent, to_agent=agent, reason="x", by=supervisor)
    assert e.value.code == "same_person"
    with pytest.raises(PermissionDenied):
        ho.handover_run(shop=shop, from_agent=agent, to_agent=newbie, reason="x", by=colleague)
    stranger = person_create(shop=other_shop, name="外人", username="wai", password="pass-word-1", roles=["agent"])
    with pytest.raises(NotFound):
        ho.handover_run(shop=shop, from_agent=agent, to_agent=stranger, reason="x", by=supervisor)
    assert not AccountHandover.objects.exists() and FollowUp.objects.get(pk=book["f_open"].pk).owner_id == agent.pk


@pytest.mark.django_db
def test_api_run_read_greet_and_tenancy(shop, other_shop, api, supervisor, agent, colleague, newbie, book):
    r = api.get(f"/api/v1/handovers/scope/{agent.pk}")
    assert r.status_code == 200 and r.json()["counts"]["buyer"] == 2
    body = {"from_agent_id": agent.pk, "to_agent_id": newbie.pk, "reason": "离职", "request_id": "k1"}
    r = api.post("/api/v1/handovers", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["created"] and out["to_greet"] == 2 and out["counts"]["case"] == 1
    r2 = api.post("/api/v1/handovers", json.dumps(body), content_type="application/json")
    assert r2.status_code == 200 and r2.json()["id"] == out["id"] and not r2.json()["created"]
    buyer_items = [i["id"] for i in out["items"] if i["kind"] == "buyer"]
    # the new owner marks one buyer greeted, once
    c = login(newbie)
    url = f"/api/v1/handovers/{out['id']}/greeted?shop=s1"
    r = c.post(url, json.dumps({"item_ids": buyer_items[:1]}), content_type="application/json")
    assert r.status_code == 200 and r.json()["to_greet"] == 1
    first = next(i for i in r.json()["items"] if i["id"] == buyer_items[0])
    r = c.post(url, json.dumps({"item_ids": buyer_items[:1]}), content_type="application/json")
    assert next(i for i in r.json()["items"] if i["id"] == buyer_items[0])["greeted_at"] == first["greeted_at"]
    assert c.post(url, json.dumps({"item_ids": [999999]}), content_type="application/json").status_code == 404
    # an agent sees the handovers they received only; a colleague gets 404; a colleague cannot run one
    assert [h["id"] for h in c.get("/api/v1/handovers?shop=s1").json()] == [out["id"]]
    other = login(colleague)
    assert other.get(f"/api/v1/handovers/{out['id']}?shop=s1").status_code == 404
    assert other.get("/api/v1/handovers?shop=s1").json() == []
    body2 = {"from_agent_id": colleague.pk, "to_agent_id": newbie.pk, "reason": "x"}
    assert other.post("/api/v1/handovers?shop=s1", json.dumps(body2), content_type="application/json").status_code == 403
    # another shop's agent → 404, and another shop's token sees nothing of this shop
    stranger = person_create(shop=other_shop, name="外人", username="wai", password="pass-word-1", roles=["agent"])
    body3 = {"from_agent_id": agent.pk, "to_agent_id": stranger.pk, "reason": "x"}
    assert api.post("/api/v1/handovers", json.dumps(body3), content_type="application/json").status_code == 404
    body4 = {"from_agent_id": stranger.pk, "to_agent_id": agent.pk, "reason": "x"}
    assert api.post("/api/v1/handovers", json.dumps(body4), content_type="application/json").status_code == 404
    assert api.get(f"/api/v1/handovers/scope/{stranger.pk}").status_code == 404


@pytest.mark.django_db
def test_pages_supervisor_runs_and_agent_greets(shop, supervisor, agent, colleague, newbie, book,
                                               django_assert_max_num_queries):
    c = login(supervisor)
    r = c.get(f"/people/handovers/?from={agent.pk}")
    assert r.status_code == 200
    page = r.content.decode()
    assert 'id="handover-run"' in page and "买家 2" in page
    r = c.post("/people/handovers/start/", {"from_agent": agent.pk, "to_agent": newbie.pk, "reason": "离职",
                                            "accounts": "1", "request_id": "form-1"})
    h = AccountHandover.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/people/handovers/{h.pk}/")
    # a double submit of the same form: the same handover, nothing more
    c.post("/people/handovers/start/", {"from_agent": agent.pk, "to_agent": newbie.pk, "reason": "离职",
                                        "accounts": "1", "request_id": "form-1"})
    assert AccountHandover.objects.count() == 1
    r = c.post("/people/handovers/start/", {"from_agent": agent.pk, "to_agent": newbie.pk, "reason": ""})
    assert r.status_code == 302 and "error=" in r["Location"]
    n = login(newbie)
    page = n.get(f"/people/handovers/{h.pk}/").content.decode()
    assert 'id="greet-form"' in page and "b1" in page and "b2" in page and "#" + str(book["case"].pk) in page
    items = list(HandoverItem.objects.filter(handover=h, kind="buyer").values_list("pk", flat=True))
    n.post(f"/people/handovers/{h.pk}/greeted/", {"item": items})
    assert HandoverItem.objects.filter(handover=h, kind="buyer", greeted_at__isnull=True).count() == 0
    assert login(colleague).get(f"/people/handovers/{h.pk}/").status_code == 404
    assert login(colleague).post("/people/handovers/start/", {"from_agent": agent.pk, "to_agent": newbie.pk,
                                                               "reason": "x"}).status_code in (302, 403)
    assert AccountHandover.objects.count() == 1
    # the list does not grow in queries with handovers
    prev = newbie
    for i in range(3):
        extra = person_create(shop=shop, name=f"新人{i}", username=f"xr{i}", password="pass-word-1", roles=["agent"])
        ho.handover_run(shop=shop, from_agent=prev, to_agent=extra, reason="x", by=supervisor)
        prev = extra
    with django_assert_max_num_queries(14):
        assert c.get("/people/handovers/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_hand_over_one_account_at_once(shop, supervisor, agent, colleague, newbie, book):
    from tests.concurrency import race, require_postgresql

    require_postgresql()
    boss = person_create(shop=shop, name="王经理", username="wang", password="pass-word-1", roles=["manager"])
    results = race(lambda by: ho.handover_run(shop=shop, from_agent=agent, to_agent=newbie, reason="离职", by=by),
                   [(supervisor,), (boss,)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(created for _, created in results) == [False, True]
    assert AccountHandover.objects.count() == 1
    assert HandoverItem.objects.filter(kind="buyer").count() == 2
    assert FollowUp.objects.get(pk=book["f_open"].pk).owner_id == newbie.pk
