"""Variables, defaults, rendering, personal opening lines, versions and permissions of scripts."""

import pytest

from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import AuditLog
from kefu.replies.defaults import DEFAULT_SCRIPTS
from kefu.replies.models import Script, ScriptVersion
from kefu.replies.selectors import script_context
from kefu.replies.services import (
    opening_line_set,
    script_create,
    script_render,
    script_settings_update,
    script_update,
    scripts_ensure,
    scripts_install_defaults,
)
from kefu.replies.variables import variables_check, variables_fill

pytestmark = pytest.mark.django_db


def test_defaults_installed_once_with_seed_texts(shop):
    assert scripts_install_defaults(shop) == len(DEFAULT_SCRIPTS)
    assert scripts_install_defaults(shop) == 0
    keys = set(Script.objects.filter(shop=shop).values_list("key", flat=True))
    assert {"payment_reminder", "offline_greeting", "closing", "opening", "shipping_fee", "bargaining"} <= keys
    assert "五星好评" in Script.objects.get(shop=shop, key="closing").body
    assert Script.objects.get(shop=shop, key="offline_greeting").body.startswith("mm你好")
    assert ScriptVersion.objects.filter(shop=shop).count() == len(DEFAULT_SCRIPTS)


def test_defaults_installed_lazily_for_a_new_shop(shop, other_shop):
    scripts_ensure(other_shop)
    assert Script.objects.filter(shop=other_shop).count() == len(DEFAULT_SCRIPTS)
    assert not Script.objects.filter(shop=shop).exists()


def test_fill_variables_from_conversation_order_and_agent(shop, conversation, agent_person):
    script_settings_update(shop=shop, actor=None, courier_fees={"申通": "8", "顺丰": "18.5"},
                           fee_link="https://shop/fee")
    values = script_context(shop=shop, member=agent_person, conversation=conversation)
    # the order card of the chat (T100), not the buyer's newest order (T101)
    assert values["order_id"] == "T100" and values["courier"] == "顺丰" and values["tracking_no"] == "SF123"
    assert values["buyer_nick"] == "小王" and values["agent_name"] == "小美" and values["shop_name"] == shop.name
    assert values["courier_fees"] == "顺丰18.50元"  # the order's courier only
    text = variables_fill("{买家昵称}您好，我是{客服}，订单{订单号}由{快递}发出，单号{物流单号}；{运费}{补运费链接}", values)
    assert text == "小王您好，我是小美，订单T100由顺丰发出，单号SF123；顺丰18.50元https://shop/fee"


def test_fee_list_without_order_and_missing_values_stay_visible(shop):
    values = script_context(shop=shop)
    assert values["courier_fees"] == ""  # no settings yet
    script_settings_update(shop=shop, actor=None, courier_fees={"申通": "10.00", "EMS": "20"})
    values = script_context(shop=shop)
    assert values["courier_fees"] == "申通10元 EMS20元"
    assert variables_fill("订单{订单号}", values) == "订单{订单号}"  # the agent sees what to fill in


def test_render_by_key_falls_back_to_default_and_uses_shop_edit(shop, conversation, agent_person, supervisor):
    text = script_render(shop=shop, key="payment_reminder", context={"conversation": conversation,
                                                                      "agent": agent_person})
    assert "订单T100" in text and "小美" in text and "{" not in text
    scripts_install_defaults(shop)
    s = Script.objects.get(shop=shop, key="closing")
    script_update(shop=shop, script_id=s.pk, actor=supervisor, body="谢谢{买家昵称}，记得五星哦")
    assert script_render(shop=shop, key="closing", context={"conversation": conversation}) == "谢谢小王，记得五星哦"
    assert script_render(shop=shop, key="closing", context={"buyer_nick": "阿花"}) == "谢谢阿花，记得五星哦"
    with pytest.raises(KefuError) as e:
        script_render(shop=shop, key="no.such.key", context={})
    assert e.value.field == "key"


def test_personal_opening_line_wins_for_its_agent_only(shop, agent_person, colleague):
    scripts_install_defaults(shop)
    opening_line_set(shop=shop, member=agent_person, body="哈喽{买家昵称}～我是爱笑的{客服}，今天由我陪您挑哦")
    assert script_render(shop=shop, key="opening", context={"agent": agent_person, "buyer_nick": "小王"}) == \
        "哈喽小王～我是爱笑的小美，今天由我陪您挑哦"
    assert script_render(shop=shop, key="opening", context={"agent": colleague}).startswith("亲亲好")
    mine = opening_line_set(shop=shop, member=agent_person, body="新的开场白{客服}")
    assert mine.version == 2 and Script.objects.filter(owner=agent_person).count() == 1
    assert opening_line_set(shop=shop, member=agent_person, body="") is None
    assert not Script.objects.filter(owner=agent_person).exists()


@pytest.mark.parametrize("body,code", [
    ("您好{买家名字}", "unknown_variable"),
    ("您好{买家昵称", "bad_braces"),
    ("您好}", "bad_braces"),
    ("{}", "bad_braces"),
])
def test_unknown_variables_and_stray_braces_are_refused(shop, body, code):
    with pytest.raises(KefuError) as e:
        script_create(shop=shop, actor=None, category="opening", title="t", body=body)
    assert e.value.code == code and e.value.field == "body"
    if code == "unknown_variable":
        assert "{买家名字}" in e.value.message and "买家昵称" in e.value.message
    assert not Script.objects.exists()


def test_variables_check_lists_names():
    assert variables_check("{买家昵称}的订单{订单号}") == ["买家昵称", "订单号"]


def test_agent_cannot_edit_shop_scripts(shop, agent_person, supervisor):
    with pytest.raises(PermissionDenied):
        script_create(shop=shop, actor=agent_person, category="opening", title="t", body="x")
    s = script_create(shop=shop, actor=supervisor, category="campaign", title="双11", body="双11全场满200减30",
                      key="campaign.1111", starts_on="2026-11-01", ends_on="2026-11-11")
    with pytest.raises(PermissionDenied):
        script_update(shop=shop, script_id=s.pk, actor=agent_person, body="改了")
    s = script_update(shop=shop, script_id=s.pk, actor=supervisor, body="双11全场满300减50", expected_version=1)
    assert s.version == 2 and [v.body for v in s.versions.all()] == ["双11全场满300减50", "双11全场满200减30"]
    with pytest.raises(KefuError) as e:
        script_update(shop=shop, script_id=s.pk, actor=supervisor, body="x", expected_version=1)
    assert e.value.code == "stale_version"
    assert AuditLog.objects.filter(action="script.update", entity_id=str(s.pk)).count() == 1


def test_bad_fields(shop, supervisor):
    cases = [({"category": "nope"}, "category"), ({"title": ""}, "title"), ({"key": "Bad Key"}, "key"),
             ({"starts_on": "2026-11-11", "ends_on": "2026-11-01"}, "ends_on"), ({"starts_on": "11/11"}, "starts_on"),
             ({"body": "x" * 2001}, "body")]
    for extra, field in cases:
        kw = {"category": "campaign", "title": "t", "body": "b", **extra}
        with pytest.raises(KefuError) as e:
            script_create(shop=shop, actor=supervisor, **kw)
        assert e.value.field == field, extra
    script_create(shop=shop, actor=supervisor, category="other", title="a", body="b", key="k1")
    with pytest.raises(KefuError) as e:
        script_create(shop=shop, actor=supervisor, category="other", title="a", body="b", key="k1")
    assert e.value.code == "key_taken"
    with pytest.raises(KefuError) as e:
        script_settings_update(shop=shop, actor=supervisor, courier_fees={"申通": "abc"})
    assert e.value.field == "courier_fees.申通"


def test_any_text_is_either_accepted_or_refused_with_a_field():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("{}买家昵称客服订单号运费 abc\n亲"))

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=alphabet, max_size=30))
    def check(body):
        try:
            names = variables_check(body)
        except KefuError as exc:
            assert exc.field == "body" and exc.code in ("unknown_variable", "bad_braces")
            return
        filled = variables_fill(body, {"buyer_nick": "小王"})
        assert filled.count("小王") >= names.count("买家昵称")

    check()
