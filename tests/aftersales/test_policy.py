"""The policy table (AFT-2, AFT-3, AFT-12) with the seeds' cases as examples (000 §after-sales, 003 §6.1.2)."""

from decimal import Decimal

import pytest

from kefu.aftersales.policy import (
    AVOID_BAD_REVIEW,
    COURIER_CLAIM,
    DELIST_WRONG_STOCK,
    KEEP_ITEM,
    NO_RETURN,
    RETURN_EXTRA,
    SWITCH_COURIER,
    VERIFY_PHOTO,
    VERIFY_WEIGHT,
    policy_suggest,
)
from kefu.core.errors import KefuError

D = Decimal

# (name, kwargs, expected handling, return shipping, reship shipping, checks ⊇, escalate_if_refused, within window)
CASES = [
    ("quality within 3 days, no wear → return/exchange/repair/discount, shop pays",
     {"reason": "quality", "days_since_signed": 2, "item_price": "84"},
     ["return_refund", "exchange", "repair", "compensation"], "shop", "shop", {VERIFY_PHOTO}, False, True),
    ("quality on day 3 is still within the window",
     {"reason": "quality", "days_since_signed": 3, "item_price": "84"},
     ["return_refund", "exchange", "repair", "compensation"], "shop", "shop", set(), False, True),
    ("quality beyond the window → negotiated compensation, escalate if refused",
     {"reason": "quality", "days_since_signed": 5, "item_price": "84"},
     ["compensation"], "shop", "shop", set(), True, False),
    ("quality but worn → negotiated compensation",
     {"reason": "quality", "days_since_signed": 1, "worn": True, "item_price": "84"},
     ["compensation"], "shop", "shop", set(), True, False),
    ("quality, late, overridden with a reason (001 took a return two years late)",
     {"reason": "quality", "days_since_signed": 730, "item_price": "84", "override_reason": "老客户，店长同意"},
     ["return_refund", "exchange", "repair", "compensation"], "shop", "shop", set(), False, True),
    ("changed mind (七天无理由) within 7 days → return, buyer pays shipping",
     {"reason": "changed_mind", "days_since_signed": 6, "item_price": "84"},
     ["return_refund", "exchange"], "buyer", "buyer", set(), False, True),
    ("buyer's fault outside the window → no return in principle, handled to avoid a bad review",
     {"reason": "changed_mind", "days_since_signed": 9, "item_price": "84"},
     [NO_RETURN], "buyer", "buyer", {AVOID_BAD_REVIEW}, True, False),
    ("wrong size ordered → exchange first, buyer pays shipping",
     {"reason": "wrong_size_ordered", "days_since_signed": 2, "item_price": "84"},
     ["exchange", "return_refund"], "buyer", "buyer", set(), False, True),
    ("wrong item sent → verify by photo and weight, delist the wrong stock, exchange; shop pays",
     {"reason": "wrong_item", "days_since_signed": 1, "item_price": "84"},
     ["exchange", "return_refund"], "shop", "shop", {VERIFY_PHOTO, VERIFY_WEIGHT, DELIST_WRONG_STOCK}, False, True),
    ("extra item sent → verify, buyer sends it back at the shop's cost",
     {"reason": "extra_item", "days_since_signed": 1, "item_price": "84"},
     [RETURN_EXTRA], "shop", "nobody", {VERIFY_PHOTO, VERIFY_WEIGHT}, False, True),
    ("damaged parcel refused on delivery → a normal return",
     {"reason": "damaged_parcel", "refused": True, "item_price": "84"},
     ["return_refund"], "courier", "nobody", set(), False, True),
    ("damaged parcel signed → reship or compensate, courier claim",
     {"reason": "damaged_parcel", "days_since_signed": 0, "item_price": "84"},
     ["reship", "compensation", "return_refund"], "shop", "shop", {VERIFY_PHOTO, COURIER_CLAIM}, False, True),
    ("signed with items missing → weight check, courier claim, else reship",
     {"reason": "missing_item", "days_since_signed": 1, "item_price": "84"},
     ["reship", "refund_only"], "nobody", "shop", {VERIFY_WEIGHT, COURIER_CLAIM}, False, True),
    ("lost parcel → reship and claim from the courier",
     {"reason": "lost_parcel", "item_price": "84"},
     ["reship", "refund_only"], "nobody", "shop", {COURIER_CLAIM}, False, True),
    ("undeliverable address (buyer's) → switch courier or return and reship at the buyer's cost",
     {"reason": "undeliverable", "item_price": "84"},
     ["reship", "return_refund"], "buyer", "buyer", {SWITCH_COURIER}, False, True),
    ("cheap item with a quality problem → keep the item, refund without return",
     {"reason": "quality", "days_since_signed": 1, "item_price": "8", "keep_item_below": "10"},
     [KEEP_ITEM, "exchange", "repair", "compensation"], "nobody", "shop", set(), False, True),
    ("allergy within the category window → return or compensation, escalate if refused",
     {"reason": "allergy", "days_since_signed": 2, "item_price": "84"},
     ["return_refund", "compensation"], "buyer", "shop", {VERIFY_PHOTO}, True, True),
]


@pytest.mark.parametrize("name,kwargs,handling,ret,reship,checks,escalate,within", CASES, ids=[c[0] for c in CASES])
def test_policy_table(settings, name, kwargs, handling, ret, reship, checks, escalate, within):
    settings.KEFU_AFTERSALES_KEEP_ITEM_BELOW = "0"
    s = policy_suggest(**kwargs)
    assert s.handling == handling
    assert (s.return_shipping, s.reship_shipping) == (ret, reship)
    assert checks <= set(s.checks)
    assert s.escalate_if_refused is escalate
    assert s.within_window is within


def test_window_is_a_setting_and_a_parameter(settings):
    settings.KEFU_AFTERSALES_QUALITY_WINDOW_DAYS = 7
    assert policy_suggest(reason="quality", days_since_signed=5).within_window
    assert not policy_suggest(reason="quality", days_since_signed=5, window_days=3).within_window


def test_override_is_recorded_and_asks_for_escalation():
    s = policy_suggest(reason="quality", days_since_signed=730, override_reason="  店长同意  ")
    assert s.overridden and s.override_reason == "店长同意" and s.needs_escalation
    assert not policy_suggest(reason="quality", days_since_signed=2).needs_escalation


@pytest.mark.parametrize("old,new,diff,direction", [
    ("84", "99", "15.00", "buyer_to_shop"),  # exchange for a dearer item: the buyer pays the difference
    ("84", "59.50", "-24.50", "shop_to_buyer"),  # cheaper: the shop refunds the difference
    ("84", "84", "0.00", ""),
])
def test_price_difference_either_way(old, new, diff, direction):
    s = policy_suggest(reason="wrong_size_ordered", days_since_signed=2, item_price=old, new_item_price=new)
    assert s.price_difference == D(diff) and s.price_difference_direction == direction
    assert s.case_type == "exchange"


@pytest.mark.parametrize("kwargs,field", [
    ({"reason": "bored"}, "reason"),
    ({"reason": "quality", "responsible": "aliens"}, "responsible"),
    ({"reason": "quality", "days_since_signed": -1}, "days_since_signed"),
    ({"reason": "quality", "item_price": "abc"}, "item_price"),
    ({"reason": "quality", "item_price": "-3"}, "item_price"),
    ({"reason": "quality", "new_item_price": "10"}, "item_price"),
])
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(KefuError) as e:
        policy_suggest(**kwargs)
    assert e.value.field == field


def test_responsibility_defaults_by_reason():
    assert policy_suggest(reason="lost_parcel").responsible == "courier"
    assert policy_suggest(reason="changed_mind", days_since_signed=1).responsible == "buyer"
    # Quality blamed on the buyer (misuse): the buyer pays the return shipping.
    assert policy_suggest(reason="quality", days_since_signed=1, responsible="buyer").return_shipping == "buyer"
