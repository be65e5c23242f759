"""Spam flags from the workspace: a supervisor's flag takes the buyer out of the figures at once;
an agent's flag is a report — the buyer is blocked and leaves the agent's workspace at once, but
stays in every figure until a supervisor confirms (an agent cannot drop their own slow chats)."""

import pytest
from django.utils import timezone

from kefu.conversations.models import Conversation
from kefu.core.models import AuditLog
from kefu.core.services import shop_create
from kefu.core.timeutil import shop_day
from kefu.customers.models import Customer
from kefu.livechat.events import Viewer, replay
from kefu.livechat.models import SpamReport
from kefu.metrics.kpi import kpi_report

from .conftest import Buyer, drained, person, post_json, staff

pytestmark = pytest.mark.django_db


def _receptions(shop) -> int:
    drained(shop)
    day = shop_day(timezone.now(), shop.tz)
    return kpi_report(shop=shop, date_from=day, date_to=day)["shop_totals"]["receptions"]


def _chat(shop, widget, text="加V领券，稳赚不赔"):
    b = Buyer(widget)
    assert b.send(text).status_code == 201
    return b, Conversation.objects.get(shop=shop)


def test_an_agents_flag_is_a_report_the_buyer_stays_in_the_figures_until_a_supervisor_confirms(shop, widget, kf):
    sup = person(shop, "主管", roles=("supervisor",), group="", username="sup")
    b, conv = _chat(shop, widget)
    post_json(staff(kf), f"/api/v1/conversations/{conv.pk}/reply?shop={shop.code}", {"text": "亲，请问有什么可以帮您"})
    assert _receptions(shop) == 1
    r = post_json(staff(kf), f"/api/v1/live/chats/{conv.pk}/spam?shop={shop.code}", {})
    assert r.status_code == 200 and r.json()["pending"] is True and r.json()["is_spam"] is False
    report_id = r.json()["report_id"]
    # At once: the widget refuses the buyer, the chat leaves the agent's workspace …
    assert b.send("再来").status_code == 403 and Buyer(widget, visitor_token=b.token).data["blocked"] is True
    assert staff(kf).get(f"/api/v1/live/chats?shop={shop.code}").json()["chats"] == []
    # … but the buyer still counts: the agent alone cannot take a chat out of their figures.
    assert _receptions(shop) == 1 and not Customer.objects.get(pk=conv.customer_id).is_spam
    again = post_json(staff(kf), f"/api/v1/live/chats/{conv.pk}/spam?shop={shop.code}", {})
    assert again.json()["report_id"] == report_id and SpamReport.objects.count() == 1
    # Only supervisors see and decide reports.
    assert staff(kf).get(f"/api/v1/live/spam-reports?shop={shop.code}").status_code == 404
    assert post_json(staff(kf), f"/api/v1/live/spam-reports/{report_id}/confirm?shop={shop.code}", {}).status_code == 404
    listed = staff(sup).get(f"/api/v1/live/spam-reports?shop={shop.code}").json()["reports"]
    assert [(x["id"], x["reported_by"], x["conversation_id"]) for x in listed] == [(report_id, "小美", conv.pk)]
    assert staff(sup).get(f"/api/v1/live/overview?shop={shop.code}").json()["spam_reports"] == listed
    r = post_json(staff(sup), f"/api/v1/live/spam-reports/{report_id}/confirm?shop={shop.code}", {})
    assert r.status_code == 200 and r.json()["state"] == "confirmed"
    assert Customer.objects.get(pk=conv.customer_id).is_spam and _receptions(shop) == 0
    r = post_json(staff(sup), f"/api/v1/live/spam-reports/{report_id}/reject?shop={shop.code}", {})
    assert r.status_code == 409 and r.json()["code"] == "already_decided"
    assert list(AuditLog.objects.filter(action__startswith="livechat.spam_report").values_list("action", flat=True)
                .order_by("id")) == ["livechat.spam_report", "livechat.spam_report.confirmed"]
    # The supervisors' live view learnt of both steps on its stream.
    spam_events = [e.data for e in replay(viewer=Viewer.of_member(sup), after=0) if e.kind == "spam"]
    assert [("pending" in d, d.get("decided")) for d in spam_events] == [(True, None), (False, "confirmed")]


def test_a_rejected_report_unblocks_the_buyer(shop, widget, kf):
    sup = person(shop, "主管", roles=("supervisor",), group="", username="sup")
    b, conv = _chat(shop, widget, "你们家的枕头能机洗吗")
    report_id = post_json(staff(kf), f"/api/v1/live/chats/{conv.pk}/spam?shop={shop.code}", {}).json()["report_id"]
    assert b.send("？").status_code == 403
    r = post_json(staff(sup), f"/api/v1/live/spam-reports/{report_id}/reject?shop={shop.code}", {})
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    assert b.send("还在吗").status_code == 201
    assert not Customer.objects.get(pk=conv.customer_id).is_spam and _receptions(shop) == 1
    assert [c["conversation_id"] for c in staff(kf).get(f"/api/v1/live/chats?shop={shop.code}").json()["chats"]] \
        == [conv.pk]


def test_a_supervisors_flag_takes_the_buyer_out_at_once_and_settles_open_reports(shop, widget, kf):
    sup = person(shop, "主管", roles=("supervisor",), group="", username="sup")
    b, conv = _chat(shop, widget)
    assert _receptions(shop) == 1
    post_json(staff(kf), f"/api/v1/live/chats/{conv.pk}/spam?shop={shop.code}", {})
    r = post_json(staff(sup), f"/api/v1/live/chats/{conv.pk}/spam?shop={shop.code}", {})
    assert r.status_code == 200 and r.json() == {"buyer_id": conv.customer.buyer_id, "is_spam": True,
                                                 "report_id": None, "pending": False}
    assert _receptions(shop) == 0
    assert SpamReport.objects.get().state == "confirmed" and b.send("再来").status_code == 403


def test_reports_are_the_shops_own(shop, widget, kf):
    other = shop_create(code="o2", name="别家")
    boss = person(other, "别家主管", roles=("supervisor",), group="", username="boss2")
    stranger = person(shop, "别人", username="bieren")
    _b, conv = _chat(shop, widget)
    assert post_json(staff(stranger), f"/api/v1/live/chats/{conv.pk}/spam?shop={shop.code}", {}).status_code == 404
    report_id = post_json(staff(kf), f"/api/v1/live/chats/{conv.pk}/spam?shop={shop.code}", {}).json()["report_id"]
    r = post_json(staff(boss), f"/api/v1/live/spam-reports/{report_id}/confirm?shop=o2", {})
    assert r.status_code == 404 and SpamReport.objects.get().state == "pending"
    assert staff(boss).get("/api/v1/live/spam-reports?shop=o2").json()["reports"] == []
