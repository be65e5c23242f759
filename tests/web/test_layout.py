"""The base layout (Tabler, ADR 0003): grouped navigation by role, header menus, toasts for htmx
actions, error pages in the product's layout and language, nothing from a third-party host."""

import json
import re
from pathlib import Path

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import translation

from kefu.core.services import person_create
from kefu.web.middleware import EVENT, HtmxMessagesMiddleware
from kefu.web.nav import NAV, SECTION_ORDER, nav_sections

pytestmark = pytest.mark.django_db
VENDOR = Path(__file__).resolve().parents[2] / "kefu" / "web" / "static" / "vendor"


def _client(person, lang=None):
    c = Client()
    c.force_login(person.user)
    if lang:
        c.post("/i18n/setlang/", {"language": lang, "next": "/"})
    return c


def _labels(sections):
    return {s["key"]: [str(i["label"]) for i in s["items"]] for s in sections}


def test_sections_follow_the_roles(shop, manager, agent_person):
    wh = person_create(shop=shop, name="仓库", username="wh", password="pass-word-1", roles=["warehouse"], group="")
    agent = _labels(nav_sections(agent_person, "/"))
    boss = _labels(nav_sections(manager, "/"))
    clerk = _labels(nav_sections(wh, "/"))
    # Sections come in the fixed order and only when they hold an entry for the person.
    assert list(agent) == [k for k in SECTION_ORDER if k in agent]
    assert "我的绩效" in agent["reports"] and "我的绩效" not in boss["reports"]  # a manager has no agent figures
    assert "设置" in boss["settings"] and "settings" not in agent
    assert "仓库任务" in clerk["orders"] and "订单申请" not in clerk.get("orders", [])
    # Every NAV entry a manager may open is listed exactly once, in its own section.
    listed = [label for labels in boss.values() for label in labels]
    assert len(listed) == len(set(listed))
    for item in NAV:
        if not item.roles or manager.has_role(*item.roles):
            assert str(item.label) in boss[item.section]


def test_the_longest_matching_entry_is_active_and_its_section_open(shop, manager):
    sections = nav_sections(manager, "/orders/warehouse/")
    active = [i["url"] for s in sections for i in s["items"] if i["active"]]
    assert active == ["/orders/warehouse/"]
    assert [s["key"] for s in sections if s["active"]] == ["orders"]
    # The dashboard ("/") is active only on itself, not on every page.
    assert [i["url"] for s in nav_sections(manager, "/") for i in s["items"] if i["active"]] == ["/"]
    assert not any(i["active"] for s in nav_sections(manager, "/nowhere/") for i in s["items"])


def test_page_has_grouped_nav_header_menus_and_only_local_assets(shop, manager):
    html = _client(manager).get("/").content.decode()
    assert 'class="navbar navbar-vertical' in html and 'id="sidebar-menu"' in html
    for key in ("reception", "orders", "aftersales", "team", "reports", "settings"):
        assert f'data-section="{key}"' in html, key
    # The language menu names each language in its own language (not "英语").
    assert ">简体中文</button>" in html and ">English</button>" in html and "英语" not in html
    assert 'action="/logout/"' in html and 'href="/approvals/notifications/"' in html
    # Stylesheets, scripts and icons are served by Kefu itself.
    refs = re.findall(r'<(?:link|script)[^>]+(?:href|src)="([^"]+)"', html)
    refs += re.findall(r'<use href="([^"]+)"', html)
    assert refs and all(r.startswith("/") or r.startswith("data:") for r in refs), refs
    assert "/static/vendor/tabler/tabler.min.css" in refs and "/static/vendor/tabler/tabler.min.js" in refs


def test_english_layout_has_no_chinese_chrome(shop, manager):
    html = _client(manager, "en").get("/").content.decode()
    nav = html[html.index('id="sidebar-menu"'):html.index("</aside>")]
    assert re.search(r"[\u4e00-\u9fff]", nav) is None, nav
    assert ">Reception<" in html and ">Dashboard<" in html


def test_vendored_kit_is_complete_and_licensed():
    css = (VENDOR / "tabler" / "tabler.min.css").read_text(encoding="utf-8")
    js = (VENDOR / "tabler" / "tabler.min.js").read_text(encoding="utf-8")
    assert "Tabler v" in css[:300] and "Licensed under MIT" in css[:400]
    assert "Toast" in js and "Collapse" in js
    assert "MIT License" in (VENDOR / "tabler" / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in (VENDOR / "tabler-icons" / "LICENSE").read_text(encoding="utf-8")
    # Nothing in the kit reaches for another host at run time (fonts, @import, source maps).
    for text in (css, js):
        assert "@import" not in text and "sourceMappingURL" not in text
        assert not re.search(r"url\((['\"]?)https?:", text)
    sprite = (VENDOR / "tabler-icons" / "sprite.svg").read_text(encoding="utf-8")
    used = set(re.findall(r'\{% icon "([a-z0-9-]+)"', "".join(
        p.read_text(encoding="utf-8") for p in Path(VENDOR.parents[1]).rglob("*.html"))))
    used |= {"message-circle", "package", "truck-return", "users", "chart-bar", "settings"}  # nav.SECTION_ICONS
    for name in used:
        assert f'id="ti-{name}"' in sprite, name


@pytest.mark.parametrize("lang,title,text", [
    ("zh-hans", "页面不存在", "回到首页"),
    ("en", "Page not found", "Home"),
])
def test_404_in_the_layout_and_language(shop, manager, lang, title, text):
    r = _client(manager, lang).get("/aftersales/999999/")
    html = r.content.decode()
    assert r.status_code == 404
    assert title in html and text in html and 'id="sidebar-menu"' in html  # the product's layout
    assert 'data-status="404"' in html


def test_403_and_500_pages(shop, manager, rf):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    from kefu.web.views import server_error

    translation.activate("zh-hans")
    request = rf.get("/x/")
    request.user, request.shop, request.member = manager.user, shop, manager
    html = permission_denied(request, PermissionDenied("只有主管可以排班")).content.decode()
    assert "没有权限" in html and "只有主管可以排班" in html and 'data-status="403"' in html
    r = server_error(rf.get("/boom/"))
    assert r.status_code == 500 and "出错了" in r.content.decode() and 'data-status="500"' in r.content.decode()


def test_anonymous_404_has_no_navigation(db):
    r = Client().get("/no-such-page/")
    assert r.status_code == 404 and "页面不存在" in r.content.decode() and "sidebar-menu" not in r.content.decode()


def _htmx_request(*, htmx=True):
    request = RequestFactory().post("/x/", HTTP_HX_REQUEST="true" if htmx else None)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.htmx = htmx
    return request


def test_htmx_messages_become_a_toast_trigger():
    def view(request):
        messages.success(request, "已批准")
        messages.error(request, "额度不够")
        resp = HttpResponse("<div>partial</div>")
        resp["HX-Trigger"] = "approvals-changed"
        return resp

    request = _htmx_request()
    resp = HtmxMessagesMiddleware(view)(request)
    events = json.loads(resp["HX-Trigger"])
    assert events["approvals-changed"] is None  # the view's own event is kept
    assert events[EVENT] == {"items": [{"level": "success", "text": "已批准"}, {"level": "error", "text": "额度不够"}]}
    assert request._messages.used  # consumed: MessageMiddleware will not keep them for the next page


def test_non_htmx_and_redirects_keep_their_messages():
    def view(request):
        messages.success(request, "已保存")
        return HttpResponse("page")

    request = _htmx_request(htmx=False)
    assert "HX-Trigger" not in HtmxMessagesMiddleware(view)(request)
    assert not request._messages.used

    def redirecting(request):
        messages.success(request, "已保存")
        return HttpResponse(status=302, headers={"Location": "/"})

    request = _htmx_request()
    assert "HX-Trigger" not in HtmxMessagesMiddleware(redirecting)(request)
    assert not request._messages.used


def test_django_messages_render_as_toasts(shop, manager):
    from tests.web.test_settings_page import _form

    r = _client(manager).post("/settings/", _form(shop), follow=True)
    html = r.content.decode()
    toasts = re.findall(r'<div class="toast kefu-toast ([^"]*)"[^>]*data-level="(\w+)">\s*<div class="d-flex"><div class="toast-body">([^<]*)<', html)
    assert toasts == [("text-bg-success", "success", "没有改动")]
