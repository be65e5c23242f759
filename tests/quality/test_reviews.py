import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404

from kefu.conversations.models import Conversation, Message
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.services import person_create
from kefu.quality import selectors as sel
from kefu.quality import services
from kefu.quality.enums import ReviewState
from kefu.quality.models import QaAppeal, QaCategory

from .conftest import chat


@pytest.fixture
def conv(shop, agent_person):
    chat(shop, [("b1", "店铺:小美", "buyer", 0, "这件外套有M码吗"), ("b1", "店铺:小美", "agent", 30, "亲，有的哦"),
                ("b1", "店铺:小美", "buyer", 60, "好的谢谢")])
    return Conversation.objects.get(shop=shop)


def full(shop, values, comment_msg=None):
    cats = services.rubric_ensure(shop)
    return [{"category_id": c.pk, "chosen": values.get(c.name, 5), "comment": "",
             "message_id": comment_msg} for c in cats]


def test_default_rubric_is_the_seed_five(shop):
    names = [c.name for c in services.rubric_ensure(shop)]
    assert names == ["礼貌用语", "专业准确", "响应及时", "问题解决", "主动推荐"]
    assert services.rubric_ensure(shop) and QaCategory.objects.filter(shop=shop).count() == 5


def test_review_lifecycle_blind_until_submitted(shop, conv, supervisor, supervisor2, agent_person):
    r = services.review_start(shop=shop, reviewer=supervisor, conversation=conv)
    assert services.review_start(shop=shop, reviewer=supervisor, conversation=conv).pk == r.pk  # same draft back
    msg = Message.objects.filter(shop=shop, sender="agent").first()
    services.review_save(shop=shop, review=r, reviewer=supervisor, scores=full(shop, {"主动推荐": 1}, msg.pk))
    # the agent cannot see a draft
    with pytest.raises(Http404):
        sel.review_get_for_user(shop=shop, member=agent_person, id=r.pk)
    r = services.review_save(shop=shop, review=r, reviewer=supervisor, scores=full(shop, {"主动推荐": 1}, msg.pk),
                             summary="不错", submit=True)
    # weights 20,25,20,25,10: all 100 except 主动推荐 20 → (90*100 + 10*20)/100 = 92
    assert r.score == Decimal("92.00") and not r.auto_failed and r.state == ReviewState.SUBMITTED
    assert sel.review_get_for_user(shop=shop, member=agent_person, id=r.pk).pk == r.pk
    assert {s["message_id"] for s in sel.review_scores(r)} == {msg.pk}
    with pytest.raises(KefuError) as e:
        services.review_save(shop=shop, review=r, reviewer=supervisor, scores=full(shop, {}), submit=True)
    assert e.value.code == "already_done"
    # the agent appeals; the reviewer may not decide, another supervisor does, once
    appeal = services.appeal_open(shop=shop, review=r, agent=agent_person, reason="推荐了搭配，见第二条")
    with pytest.raises(KefuError):
        services.appeal_open(shop=shop, review=r, agent=agent_person, reason="again")
    with pytest.raises(PermissionDenied):
        services.appeal_decide(shop=shop, appeal=appeal, decider=supervisor, accept=True)
    cat = QaCategory.objects.get(shop=shop, name="主动推荐")
    services.appeal_decide(shop=shop, appeal=appeal, decider=supervisor2, accept=True, note="成立",
                           scores=[{"category_id": cat.pk, "chosen": 5}])
    r.refresh_from_db()
    assert r.score == Decimal("100.00") and r.state == ReviewState.DECIDED
    with pytest.raises(KefuError) as e:
        services.appeal_decide(shop=shop, appeal=appeal, decider=supervisor2, accept=False, note="x")
    assert e.value.code == "already_decided"
    assert QaAppeal.objects.get().score_before == Decimal("92.00")


def test_critical_item_auto_fails(shop, conv, supervisor):
    r = services.review_start(shop=shop, reviewer=supervisor, conversation=conv)
    r = services.review_save(shop=shop, review=r, reviewer=supervisor, scores=full(shop, {"礼貌用语": 1}), submit=True)
    assert r.score == 0 and r.auto_failed


def test_rules(shop, conv, supervisor, agent_person, colleague):
    with pytest.raises(PermissionDenied):
        services.review_start(shop=shop, reviewer=agent_person, conversation=conv)
    with pytest.raises(PermissionDenied):
        services.review_start(shop=shop, reviewer=None, conversation=conv)
    r = services.review_start(shop=shop, reviewer=supervisor, conversation=conv)
    with pytest.raises(KefuError) as e:
        services.review_save(shop=shop, review=r, reviewer=supervisor, scores=full(shop, {})[:2], submit=True)
    assert e.value.field == "scores"
    with pytest.raises(KefuError) as e:
        services.review_save(shop=shop, review=r, reviewer=supervisor, scores=full(shop, {"礼貌用语": 9}), submit=True)
    assert e.value.field == "scores.0.chosen"
    other = Message.objects.create(shop=shop, message_id="x", customer=conv.customer, sender="buyer",
                                   sent_at=conv.started_at - dt.timedelta(days=3), text="old")
    with pytest.raises(KefuError) as e:
        services.review_save(shop=shop, review=r, reviewer=supervisor, scores=full(shop, {}, other.pk))
    assert e.value.field == "message_id"
    services.review_save(shop=shop, review=r, reviewer=supervisor, scores=full(shop, {}), submit=True)
    with pytest.raises(PermissionDenied):
        services.appeal_open(shop=shop, review=r, agent=colleague, reason="not mine")
    with pytest.raises(PermissionDenied):
        services.review_acknowledge(shop=shop, review=r, agent=colleague)
    r = services.review_acknowledge(shop=shop, review=r, agent=agent_person)
    assert r.state == ReviewState.ACKNOWLEDGED
    # a colleague (agent) never sees another agent's review
    with pytest.raises(Http404):
        sel.review_get_for_user(shop=shop, member=colleague, id=r.pk)


def test_calibration_shows_disagreement(shop, conv, supervisor, supervisor2):
    r = services.review_start(shop=shop, reviewer=supervisor, conversation=conv)
    r = services.review_save(shop=shop, review=r, reviewer=supervisor, scores=full(shop, {"问题解决": 2}), submit=True)
    with pytest.raises(PermissionDenied):
        services.review_start(shop=shop, reviewer=supervisor, calibration_of=r)
    c = services.review_start(shop=shop, reviewer=supervisor2, calibration_of=r)
    services.review_save(shop=shop, review=c, reviewer=supervisor2, scores=full(shop, {"问题解决": 5}), submit=True)
    cal = sel.calibration(r)
    assert len(cal["calibrations"]) == 1
    row = cal["calibrations"][0]
    item = next(i for i in row["items"] if i["name"] == "问题解决")
    assert (item["original"], item["calibration"], item["gap"]) == (2, 5, Decimal("60.00"))
    assert row["gap"] == Decimal("15.00")  # 25 % weight × 60 points
    # calibrations never count in the agent's figures
    day = r.submitted_day
    assert sel.qa_sums(shop=shop, date_from=day, date_to=day)[r.agent_id]["qa_reviews"] == 1


def test_supervisor_with_group_sees_that_group(shop, conv, supervisor, agent_person):
    r = services.review_start(shop=shop, reviewer=supervisor, conversation=conv)
    services.review_save(shop=shop, review=r, reviewer=supervisor, scores=full(shop, {}), submit=True)
    pre = person_create(shop=shop, name="售前主管", roles=["supervisor"], group="presales")
    after = person_create(shop=shop, name="售后主管", roles=["supervisor"], group="aftersales")
    assert agent_person.group == "presales"
    assert sel.reviews_for(shop=shop, member=pre).count() == 1
    assert sel.reviews_for(shop=shop, member=after).count() == 0
