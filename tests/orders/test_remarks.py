"""PRE-7 structured remarks: the platform text, who may write which type, which order states."""

import datetime as dt

import pytest
from django.utils import translation

from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.services import person_create
from kefu.orders.models import OrderEvent, OrderRemark
from kefu.orders.remarks import order_remark_add, remark_render, remark_types_for, remarks_text

DAY = dt.date(2026, 11, 22)


@pytest.mark.parametrize("type,reason,text", [
    ("price_change", "", "[改价] —小美"),  # seed 000 §6a: the agent's name only
    ("price_change", "老客优惠", "[改价] 老客优惠 —小美"),
    ("unshipped_change", "改地址", "[未发货] 改地址 —小美 11/22"),
    ("shipped_change", "拒签退回", "[已发货] 拒签退回 —小美 11/22"),
    ("special_courier", "顺丰", "[指定快递] 顺丰 —小美 11/22"),
    ("refundable", "", "[可退款] —小美 11/22"),
])
def test_render(type, reason, text):
    assert remark_render(type=type, reason=reason, author_name="小美", day=DAY) == text
    with translation.override("en"):  # the author's pages in English: the remark stays the shop's
        assert remark_render(type=type, reason=reason, author_name="小美", day=DAY) == text


# role → the types it may write (hand-written from the rules: money decisions are not the warehouse's,
# "refundable" is decided by a supervisor and up).
MAY_WRITE = {
    "agent": {"price_change", "unshipped_change", "shipped_change", "special_courier"},
    "warehouse": {"unshipped_change", "shipped_change", "special_courier"},
    "supervisor": {"price_change", "unshipped_change", "shipped_change", "special_courier", "refundable"},
    "manager": {"price_change", "unshipped_change", "shipped_change", "special_courier", "refundable"},
    "admin": {"price_change", "unshipped_change", "shipped_change", "special_courier", "refundable"},
}
ORDER_FOR = {"shipped_change": "shipped"}


@pytest.mark.parametrize("role", sorted(MAY_WRITE))
@pytest.mark.parametrize("type", ["price_change", "unshipped_change", "shipped_change", "special_courier",
                                  "refundable"])
def test_who_may_write_which(role, type, shop, make_order):
    person = person_create(shop=shop, name=f"P-{role}", roles=[role], group="")
    order = make_order(ORDER_FOR.get(type, "paid"))
    if type in MAY_WRITE[role]:
        remark = order_remark_add(shop=shop, order=order, type=type, reason="原因", author=person)
        assert remark.text.startswith("[") and f"—P-{role}" in remark.text
        assert OrderEvent.objects.filter(order=order, kind="remark", note=remark.text).exists()
    else:
        with pytest.raises(PermissionDenied) as exc:
            order_remark_add(shop=shop, order=order, type=type, reason="原因", author=person)
        assert exc.value.field == "type"
        assert not OrderRemark.objects.exists()
    offered = {t for t, _label in remark_types_for(person)}
    assert offered == MAY_WRITE[role]


@pytest.mark.parametrize("type,status,ok", [
    ("unshipped_change", "paid", True), ("unshipped_change", "printed", True),
    ("unshipped_change", "shipped", False), ("shipped_change", "paid", False),
    ("shipped_change", "shipped", True), ("shipped_change", "signed", True),
    ("special_courier", "shipped", True),
])
def test_order_state_rules(type, status, ok, shop, make_order, kf):
    order = make_order(status)
    if ok:
        order_remark_add(shop=shop, order=order, type=type, reason="原因", author=kf)
    else:
        with pytest.raises(KefuError) as exc:
            order_remark_add(shop=shop, order=order, type=type, reason="原因", author=kf)
        assert exc.value.code == "wrong_order_state"


@pytest.mark.parametrize("type,reason,field", [
    ("unshipped_change", "", "reason"),  # reason required
    ("special_courier", "   ", "reason"),  # the courier is required
    ("unshipped_change", "x" * 101, "reason"),
    ("unshipped_change", 3, "reason"),
    ("bogus", "x", "type"),
])
def test_bad_input(type, reason, field, shop, make_order, kf):
    with pytest.raises(KefuError) as exc:
        order_remark_add(shop=shop, order=make_order("paid"), type=type, reason=reason, author=kf)
    assert exc.value.field == field


def test_person_required(shop, make_order):
    with pytest.raises(KefuError) as exc:
        order_remark_add(shop=shop, order=make_order("paid"), type="special_courier", reason="顺丰", author=None)
    assert exc.value.code == "person_required"


def test_history_and_combined_text(shop, make_order, kf, supervisor):
    order = make_order("paid")
    order_remark_add(shop=shop, order=order, type="special_courier", reason="顺丰", author=kf)
    order_remark_add(shop=shop, order=order, type="refundable", reason="缺货", author=supervisor)
    history = list(OrderRemark.objects.filter(order=order).order_by("id"))
    assert [r.author.name for r in history] == ["小美", "主管周敏"]
    combined = remarks_text(history)
    assert combined.startswith("[指定快递] 顺丰 —小美") and "；[可退款] 缺货 —主管周敏" in combined
    assert len(remarks_text(history * 10)) <= 500
