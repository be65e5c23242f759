"""CMP-2: review import (file and API share one cleaner), one task per medium/bad review, the task's
state machine, revision rate per agent and shop against a plain recomputation."""

import datetime as dt
import random

import pytest
from django.utils import timezone
from openpyxl import Workbook

from kefu.complaints import reviews
from kefu.complaints.models import Review, ReviewTask, ReviewTaskEvent
from kefu.complaints.selectors import review_tasks_for, revision_rates
from kefu.core.errors import KefuError, PermissionDenied, ValidationFailed
from kefu.core.timeutil import shop_day
from kefu.metrics.models import OrderCredit

pytestmark = pytest.mark.django_db

HEAD = "review_id,order_id,buyer_id,sku,rating,text,created_at,agent_id\n"


def write(tmp_path, text: str, name="r.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_csv_import_makes_one_task_per_medium_or_bad_review(shop, tmp_path, agent_person):
    p = write(tmp_path, HEAD +
              "R1,T1,b1,SKU1,5,很好，物流快,2026-11-01 10:00,\n"
              "R2,T2,b2,SKU1,3,一般般吧,2026-11-01 11:00,店铺:小美\n"
              "R3,T3,b3,SKU2,差评,假货！骗子！再也不买了,2026-11-01 12:00,小美\n"
              "R4,,b4,,1,,2026-11-02T09:00:00+08:00,\n")
    res = reviews.reviews_import_file(shop=shop, path=p)
    assert (res.created, res.duplicates, res.tasks_created) == (4, 0, 3)
    r3 = Review.objects.get(review_id="R3")
    assert r3.level == "bad" and r3.rating is None and r3.agent == agent_person and r3.agent_source == "import"
    assert Review.objects.get(review_id="R2").level == "medium"
    tasks = list(review_tasks_for(shop=shop, member=None))
    # Bad before medium; the angrier bad review first.
    assert [t.review.review_id for t in tasks] == ["R3", "R4", "R2"]
    assert tasks[0].owner == agent_person and tasks[1].owner is None
    assert ReviewTaskEvent.objects.filter(action="create").count() == 3
    # Resend: nothing new, no second task.
    again = reviews.reviews_import_file(shop=shop, path=p)
    assert (again.created, again.duplicates, again.tasks_created) == (0, 4, 0)
    assert ReviewTask.objects.count() == 3


def test_gbk_file_and_chinese_headers(shop, tmp_path):
    text = "评价ID,订单编号,买家ID,评分,评价内容,评价时间\nG1,T9,买家甲,中评,颜色有色差，不太满意,2026-11-03 08:00\n"
    p = write(tmp_path, text, encoding="gbk")
    res = reviews.reviews_import_file(shop=shop, path=p)
    assert res.created == 1
    r = Review.objects.get(review_id="G1")
    assert r.text == "颜色有色差，不太满意" and r.customer.buyer_id == "买家甲" and r.level == "medium"


def test_xlsx_import(shop, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["review_id", "buyer_id", "rating", "text", "created_at"])
    ws.append(["X1", "bx", 2, "质量太差", "2026-11-03 08:00"])
    ws.append([1002, "by", 4.0, "不错", "2026-11-03 09:00"])
    p = tmp_path / "r.xlsx"
    wb.save(p)
    res = reviews.reviews_import_file(shop=shop, path=p)
    assert (res.created, res.tasks_created) == (2, 1)
    assert Review.objects.get(review_id="1002").rating == 4


def test_bad_rows_change_nothing_and_name_line_and_field(shop, tmp_path):
    p = write(tmp_path, HEAD +
              "R1,T1,b1,,5,好,2026-11-01 10:00,\n"
              "R2,T2,,,3,,2026-11-01 10:00,\n"
              "R3,T3,b3,,6,,2026-11-01 10:00,\n"
              "R4,T4,b4,,1,,not a date,\n"
              "R5,T5,b5,,1,,2026-11-01 10:00,nobody\n"
              "R1,T1,b1,,5,,2026-11-01 10:00,\n")
    with pytest.raises(ValidationFailed) as e:
        reviews.reviews_import_file(shop=shop, path=p)
    errors = {(x["row"], x["field"]) for x in e.value.errors}
    assert errors == {(3, "buyer_id"), (4, "rating"), (5, "created_at")}
    assert Review.objects.count() == 0
    # Once every cell is fine, the batch-level checks name the row too: unknown agent, repeated id.
    p = write(tmp_path, HEAD + "R5,T5,b5,,1,,2026-11-01 10:00,nobody\nR6,,b6,,1,,2026-11-01 10:00,\n"
              "R6,,b6,,2,,2026-11-01 10:00,\n")
    with pytest.raises(ValidationFailed) as e:
        reviews.reviews_import_file(shop=shop, path=p)
    assert {(x["row"], x["field"]) for x in e.value.errors} == {(2, "agent_id"), (4, "review_id")}
    assert Review.objects.count() == 0 and ReviewTask.objects.count() == 0
    with pytest.raises(KefuError) as e:
        reviews.reviews_import_file(shop=shop, path=write(tmp_path, "review_id,text\nR1,x\n"))
    assert "buyer_id" in e.value.message and e.value.field == "file"


def test_credited_agent_answers_for_a_review_without_agent_id(shop, customer, order, colleague):
    OrderCredit.objects.create(shop=shop, order=order, customer=customer, agent=colleague, pay_day=dt.date(2026, 11, 1),
                               created_day=dt.date(2026, 11, 1), paid_amount=order.paid_amount)
    rows = reviews.reviews_clean([{"review_id": "C1", "order_id": "T100", "buyer_id": "buyer1", "rating": 2,
                                   "created_at": "2026-11-05 10:00"},
                                  {"review_id": "C2", "order_id": "NOPE", "buyer_id": "b9", "rating": 1,
                                   "created_at": "2026-11-05 10:00"}], tz=shop.tz)
    reviews.reviews_ingest(shop=shop, rows=rows)
    c1, c2 = Review.objects.get(review_id="C1"), Review.objects.get(review_id="C2")
    assert c1.agent == colleague and c1.agent_source == "credit" and c1.order == order
    assert c2.agent is None and c2.agent_source == "" and c2.order is None and c2.order_ref == "NOPE"


def _task(shop, review_id="R1", rating=1, text="太差了"):
    rows = reviews.reviews_clean([{"review_id": review_id, "buyer_id": "b1", "rating": rating, "text": text,
                                   "created_at": "2026-11-05 10:00"}], tz=shop.tz)
    reviews.reviews_ingest(shop=shop, rows=rows)
    return ReviewTask.objects.get(review__review_id=review_id)


def test_task_state_machine(shop, agent_person, colleague, supervisor):
    t = _task(shop)
    act = reviews.review_task_act
    with pytest.raises(KefuError) as e:  # a revision is recorded after a contact
        act(shop=shop, task_id=t.pk, action="close", actor=agent_person, outcome="revised")
    assert e.value.field == "outcome"
    t = act(shop=shop, task_id=t.pk, action="contact", actor=agent_person, note="电话联系")
    assert t.state == "contacted" and t.owner == agent_person and t.contact_count == 1
    with pytest.raises(PermissionDenied):
        act(shop=shop, task_id=t.pk, action="contact", actor=colleague)
    with pytest.raises(KefuError) as e:
        act(shop=shop, task_id=t.pk, action="resolve", actor=agent_person)
    assert e.value.field == "resolution"
    t = act(shop=shop, task_id=t.pk, action="resolve", actor=agent_person, resolution="补发配件")
    with pytest.raises(KefuError) as e:
        act(shop=shop, task_id=t.pk, action="close", actor=agent_person, outcome="maybe")
    assert e.value.field == "outcome"
    t = act(shop=shop, task_id=t.pk, action="close", actor=supervisor, outcome="revised")
    assert t.state == "closed" and t.outcome == "revised" and t.closed_at
    with pytest.raises(KefuError) as e:
        act(shop=shop, task_id=t.pk, action="contact", actor=agent_person)
    assert e.value.code == "invalid_transition"
    assert list(t.events.values_list("action", flat=True)) == ["create", "contact", "resolve", "close"]
    # The platform may remove a review at any time.
    t2 = _task(shop, "R2")
    assert act(shop=shop, task_id=t2.pk, action="close", actor=agent_person, outcome="removed").outcome == "removed"


def test_reimport_with_a_good_rating_closes_the_task_as_revised(shop, agent_person):
    t = _task(shop, "R1", rating=1, text="太差了")
    reviews.review_task_act(shop=shop, task_id=t.pk, action="contact", actor=agent_person)
    rows = reviews.reviews_clean([{"review_id": "R1", "buyer_id": "b1", "rating": 5, "text": "问题解决了，好评",
                                   "created_at": "2026-11-05 10:00"}], tz=shop.tz)
    res = reviews.reviews_ingest(shop=shop, rows=rows)
    assert (res.updated, res.tasks_revised, res.duplicates) == (1, 1, 0)
    t.refresh_from_db()
    assert t.state == "closed" and t.outcome == "revised" and t.events.last().actor is None


def test_revision_rate_matches_a_plain_recomputation(shop, agent_person, colleague, supervisor):
    rnd = random.Random(7)
    people = [agent_person, colleague, None]
    raws = []
    for i in range(60):
        who = rnd.choice(people)
        raws.append({"review_id": f"V{i}", "buyer_id": f"b{i}", "rating": rnd.choice([1, 2, 3, 5]),
                     "created_at": "2026-11-05 10:00", "agent_id": who.name if who else ""})
    reviews.reviews_ingest(shop=shop, rows=reviews.reviews_clean(raws, tz=shop.tz))
    for t in ReviewTask.objects.order_by("id"):
        fate = rnd.choice(["open", "revised", "explained", "refused", "removed"])
        if fate == "open":
            continue
        reviews.review_task_act(shop=shop, task_id=t.pk, action="contact", actor=supervisor)
        reviews.review_task_act(shop=shop, task_id=t.pk, action="close", actor=supervisor, outcome=fate)
    today = shop_day(timezone.now(), shop.tz)
    rows, total = revision_rates(shop=shop, date_from=today, date_to=today)
    # The oracle: loop over every task.
    expect: dict = {}
    for t in ReviewTask.objects.select_related("review"):
        if t.state != "closed":
            continue
        c, r = expect.get(t.review.agent_id, (0, 0))
        expect[t.review.agent_id] = (c + 1, r + (t.outcome == "revised"))
    assert {r.agent_id: (r.closed, r.revised) for r in rows} == expect
    assert (total.closed, total.revised) == (sum(c for c, _ in expect.values()), sum(r for _, r in expect.values()))
    assert total.revision_rate == round(total.revised / total.closed, 4)
    # Outside the range: nothing.
    rows, total = revision_rates(shop=shop, date_from=today - dt.timedelta(days=3), date_to=today - dt.timedelta(days=1))
    assert rows == [] and total.revision_rate is None
