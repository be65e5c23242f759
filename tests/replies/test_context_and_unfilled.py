"""Issue 12 item 5: a reply that still contains a script variable ({订单号}) never reaches a buyer, from
the page, the API or any caller of the outbox; the picker suggests scripts by what the buyer said."""

import datetime as dt
import json

import pytest
from django.utils import timezone, translation

from kefu.conversations.models import Conversation
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.errors import KefuError
from kefu.customers.models import Customer
from kefu.outbound.models import OutboundMessage
from kefu.outbound.services import send
from kefu.replies import selectors as sel
from kefu.replies.models import Script
from kefu.replies.services import scripts_install_defaults
from kefu.replies.variables import VARIABLES, variables_unfilled

from .conftest import login

pytestmark = pytest.mark.django_db


def test_unfilled_variables_are_found():
    assert variables_unfilled("订单{订单号}还没有付款") == ["订单号"]
    assert variables_unfilled("亲{买家昵称}，{快递}{物流单号}") == ["买家昵称", "快递", "物流单号"]
    assert variables_unfilled("价格 {100} 元，{不是变量}，{") == []  # only the scripts' own names
    assert {v.name for v in VARIABLES} == set(variables_unfilled("".join(f"{{{v.name}}}" for v in VARIABLES)))


def test_outbox_refuses_an_unfilled_reply_whoever_sends_it(shop):
    buyer = Customer.objects.create(shop=shop, buyer_id="nobody")
    with pytest.raises(KefuError) as e:
        send(shop=shop, channel="qianniu", to_buyer=buyer, text="订单{订单号}还没有付款", key="k1")
    assert e.value.code == "unfilled_variable" and e.value.field == "text" and "{订单号}" in e.value.message
    assert not OutboundMessage.objects.exists()
    msg, created = send(shop=shop, channel="qianniu", to_buyer=buyer, text="订单T100还没有付款", key="k2")
    assert created and msg.text == "订单T100还没有付款"


def test_page_and_api_refuse_and_say_what_to_fill(shop, conversation, agent_person, api):
    c = login(agent_person)
    r = c.post(f"/conversations/{conversation.id}/reply/", {"text": "亲，订单{订单号}还没有付款", "key": "a1"}, follow=True)
    html = r.content.decode()
    assert "还有没填的变量 {订单号}" in html
    with translation.override("en"):
        c.post("/i18n/setlang/", {"language": "en", "next": "/"})
        html = c.post(f"/conversations/{conversation.id}/reply/", {"text": "{快递}", "key": "a2"}, follow=True).content.decode()
        assert "{快递} is still to be filled in" in html
    r = api.post(f"/api/v1/conversations/{conversation.id}/reply?shop=s1",
                 json.dumps({"text": "订单{订单号}还没有付款", "key": "a3"}), content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "unfilled_variable" and r.json()["field"] == "text"
    assert not OutboundMessage.objects.filter(conversation=conversation).exists()
    ok = api.post(f"/api/v1/conversations/{conversation.id}/reply?shop=s1",
                  json.dumps({"text": "订单T101还没有付款", "key": "a4"}), content_type="application/json")
    assert ok.status_code == 201


def _ask(shop, conv_buyer: str, texts: list[str]) -> Conversation:
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    rows = [{"message_id": f"{conv_buyer}{i}", "buyer_id": conv_buyer, "agent_id": "店铺:小美", "sender": "buyer",
             "sent_at": (t0 + dt.timedelta(seconds=10 * i)).isoformat(), "text": t} for i, t in enumerate(texts)]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))
    return Conversation.objects.get(shop=shop, customer__buyer_id=conv_buyer)


@pytest.mark.parametrize("said,first_category", [
    (["什么时候发货呀"], "shipping"),
    (["在吗", "能便宜点吗，包邮吗"], "bargaining"),
    (["你们这什么垃圾东西，我要投诉"], "complaint"),
    (["拍下了，怎么付款"], "payment_reminder"),
    (["我想退货"], "after_sales"),
])
def test_suggestions_follow_what_the_buyer_said(shop, agent_person, said, first_category):
    scripts_install_defaults(shop)
    # The complaint script is the most used: without context it would come first.
    Script.objects.filter(shop=shop, key="complaint.soothe").update(usage_count=500)
    conv = _ask(shop, "b-" + first_category, said)
    found = sel.scripts_for_context(shop=shop, member=agent_person, conversation=conv, limit=5)
    assert found[0].category == first_category, [(s.title, sel.context_score(s, "".join(said))) for s in found]
    if first_category != "complaint":
        assert found[0].key != "complaint.soothe"


def test_picker_page_and_api_rank_by_the_conversation(shop, agent_person, api):
    scripts_install_defaults(shop)
    Script.objects.filter(shop=shop, key="complaint.soothe").update(usage_count=500)
    conv = _ask(shop, "b-ship", ["什么时候发货呀"])
    html = login(agent_person).get(f"/scripts/picker/?conversation={conv.id}").content.decode()
    titles = [part.split("</b>")[0] for part in html.split("<b>")[1:]]
    assert titles[0] in ("发货时间", "物流查询") and titles.index("投诉安抚") > 1
    assert "需手动填写" in html  # 发货时间 still needs {订单号}: the picker says so before it is sent
    r = api.get(f"/api/v1/scripts?shop=s1&conversation_id={conv.id}")
    assert r.status_code == 200 and r.json()[0]["category"] == "shipping"
    assert api.get("/api/v1/scripts?shop=s1").json()[0]["key"] == "complaint.soothe"  # no context: most used
    assert api.get("/api/v1/scripts?shop=s1&conversation_id=999999").status_code == 404
    # Typed words still search (the context only orders the suggestions before anything is typed).
    assert api.get(f"/api/v1/scripts?shop=s1&conversation_id={conv.id}&q=催付").json()[0]["key"] == "payment_reminder"
