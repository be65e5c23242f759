"""Pages: list, new, a case with its timeline, money lines and policy; htmx transitions; roles."""

import pytest

from kefu.aftersales.models import Case

from .conftest import login, make_case

pytestmark = pytest.mark.django_db


def test_pages_need_login(client):
    for url in ("/aftersales/", "/aftersales/new/", "/aftersales/1/"):
        r = client.get(url)
        assert r.status_code == 302 and r.url.startswith("/login/"), url


def test_list_and_nav(shop, manager, order):
    case = make_case(shop, manager, order=order, intercepted=True)
    html = login(manager).get("/aftersales/").content.decode()
    assert 'href="/aftersales/"' in html and "售后" in html  # nav link
    assert f'href="/aftersales/{case.pk}/"' in html and "T1001" in html and "拦截件" in html
    assert "T1001" not in login(manager).get("/aftersales/?state=closed").content.decode()


def test_case_page_shows_timeline_money_and_policy(shop, manager, order):
    case = make_case(shop, manager, order=order, amount="15")
    html = login(manager).get(f"/aftersales/{case.pk}/").content.decode()
    for text in ("售后单", "政策建议", "时间线", "款项", "¥15.00", 'name="version" value="1"', 'value="waiting_return"',
                 "hx-post"):
        assert text in html, text
    assert 'value="received"' not in html  # not allowed from open


def test_htmx_transition_and_stale_form(shop, manager, order):
    case = make_case(shop, manager, order=order)
    c = login(manager)
    r = c.post(f"/aftersales/{case.pk}/transition/", {"to": "waiting_return", "version": "1", "note": "请寄回"},
               HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html and "请寄回" in html and 'value="2"' in html
    # A second tab still showing version 1.
    r = c.post(f"/aftersales/{case.pk}/transition/", {"to": "closed", "version": "1"}, HTTP_HX_REQUEST="true")
    assert "已被他人更新" in r.content.decode()
    case.refresh_from_db()
    assert case.state == "waiting_return"
    r = c.post(f"/aftersales/{case.pk}/transition/", {"to": "received", "version": "2"})
    assert r.status_code == 302
    r = c.post(f"/aftersales/{case.pk}/transition/", {"to": "refunded", "version": "3"})
    assert r.status_code == 409 and "当前状态不能执行此操作" in r.content.decode()


def test_agent_above_authority_submits_the_refund_for_approval(shop, agent_person, supervisor, order):
    case = make_case(shop, agent_person, order=order, amount="45", type="refund_only")
    c = login(agent_person)
    html = c.get(f"/aftersales/{case.pk}/").content.decode()
    assert "超出你的权限" in html and "提交审批" in html and 'id="refund-form"' in html
    # The plain transition is still refused above authority.
    r = c.post(f"/aftersales/{case.pk}/transition/", {"to": "refunded", "version": "1"}, HTTP_HX_REQUEST="true")
    assert "超出你的权限" in r.content.decode()
    r = c.post(f"/aftersales/{case.pk}/do/refund/", {"to": "refunded", "version": "1", "note": "质量问题"},
               HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert "已提交审批" in html and "退款审批中" in html and 'id="refund-form"' not in html
    case.refresh_from_db()
    assert case.state == "open" and case.version == 2


def test_agent_cannot_open_a_colleagues_case(shop, agent_person, agent2):
    case = make_case(shop, agent2)
    c = login(agent_person)
    assert c.get(f"/aftersales/{case.pk}/").status_code == 404
    assert c.post(f"/aftersales/{case.pk}/transition/", {"to": "closed", "version": "1"}).status_code == 404


def test_other_shop_gets_404(shop, other_shop, manager):
    from kefu.core.services import person_create

    case = make_case(shop, manager)
    boss = person_create(shop=other_shop, name="别人", username="b2", password="pass-word-1", roles=["manager"])
    assert login(boss).get(f"/aftersales/{case.pk}/").status_code == 404


def test_new_case_form(shop, agent_person, order):
    c = login(agent_person)
    assert "T1001" in c.get("/aftersales/new/?order=T1001").content.decode()
    r = c.post("/aftersales/new/", {"order_id": "T1001", "type": "exchange", "reason": "wrong_item", "sku": "DRESS-M",
                                    "qty": "1", "note": "发错颜色"})
    case = Case.objects.get()
    assert r.status_code == 302 and r.url == f"/aftersales/{case.pk}/" and case.owner == agent_person
    r = c.post("/aftersales/new/", {"order_id": "NOPE", "type": "exchange", "reason": "wrong_item"})
    assert r.status_code == 400 and "本店没有这个订单" in r.content.decode()
    r = c.post("/aftersales/new/", {"order_id": "T1001", "type": "exchange", "reason": "wrong_item", "sku": "X"})
    assert r.status_code == 400 and "not in order" in r.content.decode()
    assert Case.objects.count() == 1


def test_policy_and_price_difference_shown_before_confirming(shop, manager, order, settings):
    settings.KEFU_AFTERSALES_KEEP_ITEM_BELOW = "0"
    case = make_case(shop, manager, order=order, type="exchange", reason="wrong_size_ordered")
    c = login(manager)
    html = c.get(f"/aftersales/{case.pk}/").content.decode()
    assert "换货" in html and "买家" in html  # handling and who pays, as labels
    html = c.get(f"/aftersales/{case.pk}/?new_item_price=99").content.decode()
    assert "¥15.00" in html and "买家补差价" in html
    html = c.get(f"/aftersales/{case.pk}/?new_item_price=59.50").content.decode()
    assert "¥-24.50" in html and "店铺退差价" in html
    assert "换货新商品价格不对" in c.get(f"/aftersales/{case.pk}/?new_item_price=abc").content.decode()
    quality = make_case(shop, manager, order=order, reason="quality")
    html = c.get(f"/aftersales/{quality.pk}/").content.decode()
    assert "买家不接受时升级给主管" in html and "已超出售后时限或有使用痕迹" in html  # signed long ago
