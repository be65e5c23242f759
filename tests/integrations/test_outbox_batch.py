"""The outbox in batches: what one transaction commits is processed in one pass (rules loaded
once, conditions read a context prefetched for all the events, deliveries written at once and
queued one task per subscription), without losing the guarantees of test_webhooks.py."""

import datetime as dt
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import person_create
from kefu.integrations import events as events_module
from kefu.integrations import rules as rules_module
from kefu.integrations.enums import DeliveryState
from kefu.integrations.events import event_emit
from kefu.integrations.models import OutboxEvent, RuleFiring, WebhookDelivery
from kefu.integrations.outbox import events_dispatch, events_rules_run, outbox_process
from kefu.integrations.rules import rule_save
from kefu.integrations.webhooks import deliveries_attempt, subscription_save
from kefu.orders.models import Order

pytestmark = pytest.mark.django_db

# a rule whose conditions read everything a context has (message, conversation, SLA, buyer grade
# and tags, order) and that fires on no message of these tests (the last condition never holds)
READS_ALL = [{"field": "sender", "value": ["buyer"]}, {"field": "group", "value": ["nobody"], "not": True},
             {"field": "sla_state", "value": ["missed"], "not": True},
             {"field": "buyer_grade", "value": ["VIP"], "not": True},
             {"field": "buyer_tags", "value": ["黑名单"], "not": True},
             {"field": "order_status", "value": ["closed"], "not": True},
             {"field": "order_amount", "value": {"min": "0"}}, {"field": "time_of_day", "value": {"from": "00:00", "to": "23:59"}},
             {"field": "keywords", "value": ["永远不会出现"]}]


def statements(captured) -> int:
    """Queries, less the savepoint around each event's rules (what keeps one event's firings all
    or nothing: two statements that touch no table)."""
    return sum(1 for q in captured.captured_queries if "SAVEPOINT" not in q["sql"])


def ingest(shop, first: int, n: int, at, text=lambda k: f"第{k}个问题"):
    """n buyer messages of n new buyers (each with an order), through the API's live path; the
    events are recorded but not processed (the commit hooks are dropped)."""
    rows = [{"message_id": f"m{k}", "buyer_id": f"tb_{k}", "sender": "buyer", "sent_at": (at + dt.timedelta(seconds=k)).isoformat(),
             "text": text(k)} for k in range(first, first + n)]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz, routed=True), route=True)
    for k in range(first, first + n):
        from kefu.customers.models import Customer

        Order.objects.create(shop=shop, order_id=f"o{k}", customer=Customer.objects.get(shop=shop, buyer_id=f"tb_{k}"),
                             created_at=at, paid_amount="10.00", status="paid")
    return list(OutboxEvent.objects.filter(shop=shop, type="message.created", data__message_id__in=[r["message_id"] for r in rows])
                .values_list("pk", flat=True))


def test_the_queries_of_a_batch_do_not_grow_with_its_events(shop, manager, receiver, django_capture_on_commit_callbacks):
    subscription_save(shop=shop, actor=manager, name="ERP", url=receiver.url, event_types=["*"])
    subscription_save(shop=shop, actor=manager, name="BI", url=receiver.url, event_types=["message.created"])
    for i in range(3):
        rule_save(shop=shop, actor=manager, name=f"读全部{i}", event_type="message.created", conditions=READS_ALL,
                  actions=[{"type": "set_priority", "priority": "high"}])
    at = timezone.now() - dt.timedelta(hours=1)
    counts = {}
    for first, n in ((0, 4), (100, 30)):
        with django_capture_on_commit_callbacks(execute=False):
            pks = ingest(shop, first, n, at)
        assert len(pks) == n
        with CaptureQueriesContext(connection) as rules_q:
            assert events_rules_run(event_pks=pks) == 0
        with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as dispatch_q:
            ids = events_dispatch(event_pks=pks)
        assert len(ids) == 2 * n
        counts[n] = (statements(rules_q), statements(dispatch_q))
    # every condition was read for every event, yet 30 events cost what 4 cost
    assert counts[4] == counts[30], counts
    assert not RuleFiring.objects.exists()
    assert OutboxEvent.objects.filter(rules_done_at__isnull=True).count() == 0


def test_one_transaction_one_pass_and_one_task_per_subscription(shop, manager, receiver, api,
                                                                django_capture_on_commit_callbacks, monkeypatch):
    subs = [subscription_save(shop=shop, actor=manager, name=f"s{i}", url=receiver.url, event_types=["*"])
            for i in range(2)]
    rule = rule_save(shop=shop, actor=manager, name="投诉", event_type="message.created",
                     conditions=[{"field": "keywords", "value": ["投诉"]}], actions=[{"type": "set_priority", "priority": "high"}])
    from tests.conversations.conftest import on_shift, person

    on_shift(shop, [person(shop, "小一"), person(shop, "小二")], at=timezone.now())  # routing hands them out
    passes = []
    real = events_module._process
    monkeypatch.setattr(events_module, "_process", lambda ids: (passes.append(list(ids)), real(ids)))
    at = timezone.now() - dt.timedelta(minutes=30)
    body = [{"message_id": f"m{k}", "buyer_id": f"tb_{k % 7}", "sender": "buyer", "sent_at": (at + dt.timedelta(seconds=k)).isoformat(),
             "text": "我要投诉" if k % 5 == 0 else "在吗"} for k in range(30)]
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        r = api.post("/api/v1/messages", data=json.dumps({"messages": body}), content_type="application/json")
    assert r.status_code == 200, r.content
    events = list(OutboxEvent.objects.order_by("id"))
    # the request emitted message.created and routing's conversation.assigned, in several calls …
    assert {e.type for e in events} == {"message.created", "conversation.assigned"} and len(hooks) > 1
    # … and all of them were processed in one pass
    assert sorted(map(str, passes[0])) == sorted(str(e.event_id) for e in events)
    assert [p for p in passes[1:] if p] == []  # (the later flushes found nothing left)
    assert all(e.rules_done_at and e.dispatched_at for e in events)
    # firings: one per message with 投诉, by an independent count of the request's body
    assert RuleFiring.objects.filter(rule=rule).count() == sum(1 for m in body if "投诉" in m["text"])
    # deliveries: each event once per subscription; queued as one task per subscription, in event order
    assert WebhookDelivery.objects.count() == len(events) * len(subs)
    tasks = [t for t in DBTaskResult.objects.all() if t.task_path.endswith("webhook_deliveries_task")]
    assert len(tasks) == len(subs)
    for t in tasks:
        ids = t.args_kwargs["args"][0]
        rows = dict(WebhookDelivery.objects.filter(pk__in=ids).values_list("pk", "event_id"))
        assert len(ids) == len(events) and [rows[i] for i in ids] == sorted(rows.values())
        assert {WebhookDelivery.objects.get(pk=i).subscription_id for i in ids} in ({subs[0].pk}, {subs[1].pk})


def test_a_receiver_that_fails_is_not_asked_again_for_each_event(shop, manager, receiver,
                                                                 django_capture_on_commit_callbacks):
    subscription_save(shop=shop, actor=manager, name="ERP", url=receiver.url, event_types=["conversation.closed"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for k in range(3):
            event_emit(shop=shop, type="conversation.closed", subject=("conversation", k), data={"conversation_id": k})
    ids = list(WebhookDelivery.objects.order_by("event_id").values_list("pk", flat=True))
    assert len(ids) == 3
    DBTaskResult.objects.all().delete()  # (the dispatch's task: run by hand below)
    receiver.script = [500]
    t0 = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_attempt(delivery_ids=ids, now=t0) == 0
    assert len(receiver.got) == 1  # the two others wait for the failed one's next try
    first, *rest = WebhookDelivery.objects.filter(pk__in=ids).order_by("event_id")
    assert (first.attempts, first.next_attempt_at) == (1, t0 + dt.timedelta(minutes=1))
    assert all(d.attempts == 0 and d.next_attempt_at == first.next_attempt_at for d in rest)
    later = [t for t in DBTaskResult.objects.all() if t.task_path.endswith("webhook_deliveries_task")]
    assert [t.args_kwargs["args"][0] for t in later] == [[d.pk for d in rest]]
    assert later[0].run_after == first.next_attempt_at
    # a minute on: the rest, then the failed one's retry; each event acknowledged once
    assert deliveries_attempt(delivery_ids=[d.pk for d in rest], now=first.next_attempt_at) == 2
    assert deliveries_attempt(delivery_ids=[first.pk], now=first.next_attempt_at) == 1
    assert sorted(g["json"]["id"] for g in receiver.got if g["status"] == 200) == sorted(
        str(e) for e in OutboxEvent.objects.values_list("event_id", flat=True))
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}


def test_an_event_whose_rules_fail_is_left_to_the_sweep_and_the_others_are_done(shop, manager, monkeypatch,
                                                                               django_capture_on_commit_callbacks):
    rule_save(shop=shop, actor=manager, name="全部", event_type="conversation.closed", conditions=[],
              actions=[{"type": "escalate", "note": "x"}])
    real = rules_module.conditions_hold

    def boom(conditions, ctx):
        if ctx.data.get("conversation_id") == 2:
            raise RuntimeError("a broken context")
        return real(conditions, ctx)

    monkeypatch.setattr(rules_module, "conditions_hold", boom)
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        for k in range(4):
            event_emit(shop=shop, type="conversation.closed", subject=("conversation", None), data={"conversation_id": k})
    outbox_process(event_ids=list(OutboxEvent.objects.values_list("event_id", flat=True)))
    done = dict(OutboxEvent.objects.values_list("data__conversation_id", "rules_done_at"))
    assert [k for k, at in sorted(done.items()) if at is None] == [2]
    assert sorted(RuleFiring.objects.values_list("event_id", flat=True)) == sorted(
        OutboxEvent.objects.exclude(data__conversation_id=2).values_list("event_id", flat=True))
    # deliveries do not wait for the rules (nobody subscribed here: dispatched all the same)
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0
    monkeypatch.setattr(rules_module, "conditions_hold", real)
    outbox_process(event_ids=list(OutboxEvent.objects.values_list("event_id", flat=True)))
    assert RuleFiring.objects.count() == 4 and not OutboxEvent.objects.filter(rules_done_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_batch_run_each_rule_once(shop, manager, receiver, monkeypatch):
    from tests.concurrency import race, require_postgresql

    require_postgresql()
    person_create(shop=shop, name="王主管", username="boss", password="pass-word-1", roles=["supervisor"], group="")
    subscription_save(shop=shop, actor=manager, name="ERP", url=receiver.url, event_types=["*"])
    rule_save(shop=shop, actor=manager, name="全部", event_type="conversation.closed", conditions=[],
              actions=[{"type": "notify", "role": "supervisor", "text": "关了"}])
    with monkeypatch.context() as m:  # the process dies after the commit: nothing processed yet
        m.setattr(events_module, "_process", lambda ids: None)
        with transaction.atomic():
            for k in range(20):
                event_emit(shop=shop, type="conversation.closed", subject=("conversation", None),
                           data={"conversation_id": k})
    ids = list(OutboxEvent.objects.values_list("event_id", flat=True))
    assert not any(isinstance(r, Exception) for r in race(lambda: outbox_process(event_ids=ids), [(), (), ()]))
    assert RuleFiring.objects.count() == 20 and len(set(RuleFiring.objects.values_list("event_id", flat=True))) == 20
    assert WebhookDelivery.objects.count() == 20
