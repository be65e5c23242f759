"""Editing an open case: money lines and items with the version check (409), events, bad input, finished cases."""

import json

import pytest

from kefu.aftersales import money
from kefu.aftersales.models import CaseEvent, CaseItem, CaseMoneyLine
from kefu.aftersales.services import case_transition
from kefu.core.errors import KefuError

from .conftest import login, make_case

pytestmark = pytest.mark.django_db


def post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def test_lines_add_change_remove_with_events(shop, manager, order):
    case = make_case(shop, manager, order=order)
    line = money.case_line_add(shop=shop, case=case, actor_agent=manager, expected_version=1, kind="shipping",
                               direction="shop_to_buyer", amount="12", note="退货运费")
    money.case_line_change(shop=shop, case=case, actor_agent=manager, expected_version=2, line_id=line.pk,
                           amount="10.50")
    line.refresh_from_db()
    assert line.amount.to_eng_string() == "10.50" and line.note == "退货运费"
    money.case_line_remove(shop=shop, case=case, actor_agent=manager, expected_version=3, line_id=line.pk)
    assert not CaseMoneyLine.objects.filter(case=case).exists()
    actions = list(CaseEvent.objects.filter(case=case).exclude(action="").values_list("action", flat=True))
    assert actions == ["line_add", "line_change", "line_remove"]
    assert "¥12.00 → " in CaseEvent.objects.get(case=case, action="line_change").note
    case.refresh_from_db()
    assert case.version == 4


def test_stale_version_is_refused(shop, manager, order):
    case = make_case(shop, manager, order=order, amount="15")
    line = case.money_lines.get()
    money.case_line_change(shop=shop, case=case, actor_agent=manager, expected_version=1, line_id=line.pk, amount="16")
    with pytest.raises(KefuError) as e:  # a second tab still showing version 1
        money.case_line_change(shop=shop, case=case, actor_agent=manager, expected_version=1, line_id=line.pk,
                               amount="99")
    assert e.value.code == "stale_version" and e.value.field == "expected_version"
    line.refresh_from_db()
    assert line.amount == 16


def test_stale_version_over_the_api_is_409(api, shop, manager, order):
    case = make_case(shop, manager, order=order, amount="15")
    line = case.money_lines.get()
    r = post(api, f"/api/v1/cases/{case.pk}/lines/{line.pk}", {"expected_version": 1, "amount": "18"})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["money_lines"][0]["amount"] == "18.00"
    for url, body in ((f"/api/v1/cases/{case.pk}/lines/{line.pk}", {"expected_version": 1, "amount": "19"}),
                      (f"/api/v1/cases/{case.pk}/lines/{line.pk}/delete", {"expected_version": 1}),
                      (f"/api/v1/cases/{case.pk}/lines", {"expected_version": 1, "kind": "goods",
                                                          "direction": "shop_to_buyer", "amount": "1"}),
                      (f"/api/v1/cases/{case.pk}/items", {"expected_version": 1, "sku": "BELT"})):
        r = post(api, url, body)
        assert r.status_code == 409 and r.json()["code"] == "stale_version", url
    r = post(api, f"/api/v1/cases/{case.pk}/items", {"expected_version": 2, "sku": "BELT", "qty": 1})
    assert r.status_code == 200 and {"sku": "BELT", "qty": 1} in r.json()["items"]


def test_items_against_the_order(shop, manager, order):
    case = make_case(shop, manager, order=order)
    item = case.items.get()
    money.case_item_change(shop=shop, case=case, actor_agent=manager, expected_version=1, item_id=item.pk, qty=2)
    with pytest.raises(KefuError) as e:
        money.case_item_change(shop=shop, case=case, actor_agent=manager, expected_version=2, item_id=item.pk, qty=3)
    assert e.value.field == "qty" and "more than ordered" in e.value.message
    with pytest.raises(KefuError) as e:
        money.case_item_add(shop=shop, case=case, actor_agent=manager, expected_version=2, sku="NOPE")
    assert e.value.field == "sku"
    money.case_item_remove(shop=shop, case=case, actor_agent=manager, expected_version=2, item_id=item.pk)
    assert not CaseItem.objects.filter(case=case).exists()


@pytest.mark.parametrize("body,field", [
    ({"expected_version": 1, "kind": "x", "direction": "shop_to_buyer", "amount": "1"}, "kind"),
    ({"expected_version": 1, "kind": "goods", "direction": "up", "amount": "1"}, "direction"),
    ({"expected_version": 1, "kind": "goods", "direction": "shop_to_buyer", "amount": "-1"}, "amount"),
    ({"expected_version": 1, "kind": "goods", "direction": "shop_to_buyer", "amount": "1.001"}, "amount"),
    ({"kind": "goods", "direction": "shop_to_buyer", "amount": "1"}, "expected_version"),
])
def test_line_bad_input_names_the_field(api, shop, manager, body, field):
    case = make_case(shop, manager)
    r = post(api, f"/api/v1/cases/{case.pk}/lines", body)
    assert r.status_code == 422 and field in {e["field"] for e in r.json()["errors"]}, r.content
    assert not CaseMoneyLine.objects.exists()


def test_unknown_line_and_paid_line(api, shop, manager, order):
    case = make_case(shop, manager, order=order, amount="15")
    assert post(api, f"/api/v1/cases/{case.pk}/lines/999999", {"expected_version": 1, "amount": "1"}).status_code == 404
    other = make_case(shop, manager, order=order, amount="9")
    r = post(api, f"/api/v1/cases/{case.pk}/lines/{other.money_lines.get().pk}", {"expected_version": 1, "amount": "1"})
    assert r.status_code == 404  # a line of another case
    case_transition(shop=shop, case=case, to="waiting_return", actor_agent=manager, expected_version=1)
    CaseMoneyLine.objects.filter(case=case).update(state="done")
    r = post(api, f"/api/v1/cases/{case.pk}/lines/{case.money_lines.get().pk}", {"expected_version": 2, "amount": "1"})
    assert r.status_code == 409 and r.json()["code"] == "line_done"


def test_finished_case_cannot_be_edited(shop, manager, order):
    case = make_case(shop, manager, order=order)
    case_transition(shop=shop, case=case, to="closed", actor_agent=manager, expected_version=1)
    with pytest.raises(KefuError) as e:
        money.case_line_add(shop=shop, case=case, actor_agent=manager, expected_version=2, kind="goods",
                            direction="shop_to_buyer", amount="1")
    assert e.value.code == "not_open"


def test_page_edits_and_stale_tab(shop, manager, order):
    case = make_case(shop, manager, order=order, amount="15")
    c = login(manager)
    r = c.post(f"/aftersales/{case.pk}/do/line_add/", {"version": "1", "kind": "shipping", "direction": "shop_to_buyer",
                                                        "amount": "8", "note": "运费"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html and "¥8.00" in html and "新增款项" in html
    r = c.post(f"/aftersales/{case.pk}/do/line_add/", {"version": "1", "kind": "goods", "direction": "shop_to_buyer",
                                                        "amount": "1"}, HTTP_HX_REQUEST="true")
    assert "已被他人更新" in r.content.decode()
    r = c.post(f"/aftersales/{case.pk}/do/line_add/", {"version": "2", "kind": "goods", "direction": "shop_to_buyer",
                                                        "amount": "abc"})
    assert r.status_code == 400 and "金额格式不对" in r.content.decode()
    r = c.post(f"/aftersales/{case.pk}/do/nonsense/", {"version": "2"})
    assert r.status_code == 404
    assert c.get(f"/aftersales/{case.pk}/do/line_add/").status_code == 405
