"""The walk (issue 12): every page of the navigation, for each demo role, in zh-hans and English, at
1280, 1440 and 375 px. It fails on a server error, horizontal overflow, a wrapped navigation item,
a console error, a failed asset, a request to a host other than the test server, and (in English) an
untranslated string. It takes the screenshots the README shows (into docs/screenshots/ when
KEFU_SCREENSHOTS=docs/screenshots is set).

The pages come from the navigation registry (`kefu.web.nav.nav_items` for each person), so a page
added to NAV joins the walk by itself, plus one detail page of each kind the lists link to.

Runtime is bounded: one browser; one logged-in context per (role, language); each page is loaded
once and re-measured at each width by resizing the viewport; a small demo shop (scale 0.02, 14
days) loaded once. The full walk (5 roles × 2 languages × 3 widths) runs on SQLite; on PostgreSQL
a reduced walk runs (the manager and one pre-sales agent, English, 1280 and 375 px), because the
pages are the same and CI's time is shared. KEFU_WALK=full walks everything on any database.

"Untranslated" is judged on the English pages' own words, not on data: every text with Han
characters is taken, and what is allowed is cut out of it — each data value of the shop (names,
nicks, titles, chat and script text with its variables filled in, masked addresses … read from the
database), each English translation that itself holds Chinese (an example such as "e.g. 申通=10"),
script variables ({订单号}) and anything inside an element marked with a Chinese `lang` attribute
(the brand, each language's own name). What still holds Han characters is a label, heading,
button, option, badge or message the catalogue did not translate.
"""

import os
import re
import tempfile
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models
from django.utils import translation

from kefu.demo.services import DEMO_PASSWORD, demo_load
from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login

# The README's pictures are refreshed on request (KEFU_SCREENSHOTS=docs/screenshots), so that a test
# run does not change files of the checkout; otherwise they go to a temporary directory.
SHOTS = Path(os.environ.get("KEFU_SCREENSHOTS") or Path(tempfile.gettempdir()) / "kefu-walk-screenshots")
HAN = re.compile(r"[\u3400-\u9fff]")
# Placeholders of filled-in texts: script variables {订单号} and Python formats %(name)s / %s / {name}.
PLACEHOLDER = re.compile(r"\{[^{}]{1,20}\}|%\([a-z_]+\)[sd]|%[sd]")
# The language menu names itself in both languages, so that anyone finds it.
ALLOWED = {"Language / 语言"}
# Detail pages: one of each kind a list links to.
DETAILS = (("/conversations/", r"^/conversations/\d+/$"), ("/orders/", r"^/orders/[^/?]+/$"),
           ("/aftersales/", r"^/aftersales/\d+/$"), ("/complaints/", r"^/complaints/\d+/$"))

pytestmark = BROWSER_TEST


def _full() -> bool:
    return os.environ.get("KEFU_WALK") == "full" or connection.vendor == "sqlite"


@pytest.fixture
def demo(transactional_db, tmp_path, monkeypatch):
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    return demo_load(code="demo", seed=7, days=14, scale=0.02)


# ---------------------------------------------------------------- what may stay Chinese in English

def _pattern(text: str) -> re.Pattern | None:
    """A text with placeholders as a pattern that matches it filled in (None: no placeholder)."""
    parts = PLACEHOLDER.split(text)
    if len(parts) == 1:
        return None
    return re.compile(".*?".join(re.escape(p) for p in parts), re.S)


class Allowed:
    """Everything an English page may show in Chinese: the shop's data and Chinese inside translations."""

    def __init__(self, shop):
        values, initials = {shop.name}, set()
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields
                      if isinstance(f, (models.CharField, models.TextField)) and not f.choices]
            if not fields or not any(f.name == "shop" for f in model._meta.concrete_fields):
                continue
            for row in model.objects.filter(shop=shop).values_list(*fields)[:20000]:
                for v in row:
                    if isinstance(v, str) and HAN.search(v):
                        values.add(v.strip())
                        values.update(p.strip() for p in re.split(r"[\n:：,，;；/]", v) if HAN.search(p))
        from kefu.core.models import Agent

        for name in Agent.objects.filter(shop=shop).values_list("name", flat=True):
            initials.add(name[:1])  # the avatar in the header
        with translation.override("en"):
            catalog = translation.trans_real.translation("en")._catalog
            values.update(v for _k, v in catalog.items() if isinstance(v, str) and HAN.search(v))
        self.exact = initials | ALLOWED
        self.patterns = [p for p in map(_pattern, values) if p is not None]
        self.values = sorted((v for v in values if v and len(v) > 1), key=len, reverse=True)

    def rest(self, text: str) -> str:
        """What is left of a text after cutting out everything allowed."""
        if text in self.exact:
            return ""
        rest = PLACEHOLDER.sub(" ", text) if PLACEHOLDER.fullmatch(text.strip()) else text
        for p in self.patterns:
            if HAN.search(rest):
                rest = p.sub(" ", rest)
        for v in self.values:
            if not HAN.search(rest):
                break
            if v in rest:
                rest = rest.replace(v, " ")
        # A masked value (北京市朝阳区****) is the start of a data value.
        rest = re.sub(r"(\S+?)\*{4}", lambda m: " " if any(v.startswith(m[1]) for v in self.values) else m[0], rest)
        return rest if HAN.search(rest) else ""


def test_allowed_cuts_data_and_keeps_labels():
    """The judge of "untranslated" itself: it keeps a label and cuts data, fills and masks."""

    class Shop:
        name = "暖暖家居旗舰店"

    allowed = Allowed.__new__(Allowed)
    allowed.exact = {"陈"} | ALLOWED
    allowed.values = sorted({"暖暖家居旗舰店", "北京市朝阳区建国路1号", "陈经理"}, key=len, reverse=True)
    allowed.patterns = [_pattern("亲，您的订单{订单号}已发出，{客服}会跟进")]
    assert allowed.rest("陈") == "" and allowed.rest("Language / 语言") == ""
    assert allowed.rest("Shop: 暖暖家居旗舰店") == ""
    assert allowed.rest("北京市朝阳区****") == ""
    assert allowed.rest("亲，您的订单123已发出，陈经理会跟进") == ""
    assert allowed.rest("{订单号}") == ""
    assert allowed.rest("Orders of 暖暖家居旗舰店 待处理") != ""
    assert allowed.rest("上海市****") != ""
    assert allowed.rest("陈先生") != ""


# ---------------------------------------------------------------- the browser

JS_TEXTS = """() => {
  const out = [];
  const skip = 'script,style,noscript,textarea,[lang^="zh"]:not(html)';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode, p = n.parentElement;
    if (!p || p.closest(skip)) continue;
    const t = n.textContent.trim();
    if (t) out.push(t);
  }
  document.querySelectorAll('input[placeholder],textarea[placeholder],[aria-label],[title]').forEach(el => {
    if (el.closest('[lang^="zh"]:not(html)')) return;
    ['placeholder', 'aria-label', 'title'].forEach(a => { const v = el.getAttribute(a); if (v) out.push(v.trim()); });
  });
  return out;
}"""

JS_LAYOUT = """() => {
  // A wrapped item: its text boxes lie on more than one line (tops more than 12 px apart).
  function wraps(el) {
    let lo = Infinity, hi = -Infinity;
    const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (w.nextNode()) {
      const t = w.currentNode;
      if (!t.textContent.trim() || t.parentElement.closest('.badge')) continue;
      const range = document.createRange();
      range.selectNodeContents(t);
      for (const rc of range.getClientRects()) if (rc.width > 0) { lo = Math.min(lo, rc.top); hi = Math.max(hi, rc.top); }
    }
    return hi - lo > 12;
  }
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  // What sticks out (for the failure message): the widest element past the right edge.
  let culprit = '';
  if (overflow > 1) {
    let best = 0;
    document.querySelectorAll('main *').forEach(el => {
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 1 && r.width > best && !el.closest('.table-responsive,.scroll,pre')) {
        best = r.width;
        culprit = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
      }
    });
  }
  const wrapped = [];
  document.querySelectorAll('.kefu-nav .nav-link, .kefu-header .nav-link, .kefu-brand').forEach(a => {
    const r = a.getBoundingClientRect();
    if (r.width && r.height && wraps(a)) wrapped.push(a.textContent.trim().replace(/\\s+/g, ' '));
  });
  return {overflow, culprit, wrapped};
}"""


def _pages(page, base, member) -> list[str]:
    """The person's navigation from the registry (checked against the sidebar), plus one detail
    page of each kind their lists link to, a search and a missing page."""
    from kefu.web.nav import nav_items

    urls = [i["url"] for i in nav_items(member, "/")]
    shown = page.eval_on_selector_all("#sidebar-menu a.nav-link", "els => els.map(a => a.getAttribute('href'))")
    assert sorted(shown) == sorted(urls), f"{member.user.username}: the sidebar shows {shown}, the registry {urls}"
    extra = []
    for list_url, pattern in DETAILS:
        if list_url not in urls:
            continue
        page.goto(base + list_url)
        hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(a => a.getAttribute('href'))")
        found = next((h for h in hrefs if re.match(pattern, h or "")), None)
        if found:
            extra.append(found)
    return list(dict.fromkeys(urls + extra + ["/search/?q=1", "/no-such-page/"]))


def _settle(page):
    """After a resize, give responsive parts (the charts redraw on a debounced resize event) a
    moment to fit the new width; a page that still overflows after it fails."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("document.documentElement.scrollWidth <= window.innerWidth + 1", timeout=2000)
    except PlaywrightTimeout:
        pass


def _watch(page, base, events: list[str]):
    local = re.compile(r"^(data:|blob:|about:|" + re.escape(base) + ")")

    def console(m):
        # The missing page's own 404 is expected; any other failed load is a defect.
        if m.type == "error" and not ("404 (Not Found)" in m.text and page.url.endswith("/no-such-page/")):
            events.append(f"console {m.type}: {m.text}")

    page.on("console", console)
    page.on("pageerror", lambda e: events.append(f"page error: {e}"))
    page.on("request", lambda r: events.append(f"non-local request: {r.url}") if not local.match(r.url) else None)
    page.on("response", lambda r: events.append(f"{r.status} for {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)


def test_walk_every_page(live_server, demo):
    from playwright.sync_api import sync_playwright

    from kefu.core.models import Agent, Shop

    shop = Shop.objects.get(code="demo")
    allowed = Allowed(shop)
    full = _full()
    roles = ["manager", "supervisor", "warehouse", "kf01", "kf14"] if full else ["manager", "kf01"]
    members = {a.user.username: a for a in Agent.objects.filter(shop=shop, user__username__in=roles)
               .select_related("user")}
    assert {m.group for u, m in members.items() if u.startswith("kf")} >= ({"presales", "aftersales"} if full
                                                                           else {"presales"})
    langs = ["zh-hans", "en"] if full else ["en"]
    widths = [1280, 1440, 375] if full else [1280, 375]
    base = live_server.url
    failures: list[str] = []
    walked = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for username in roles:
                for lang in langs:
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    events: list[str] = []
                    _watch(page, base, events)
                    login(page, base, username, DEMO_PASSWORD, lands="/**")
                    if lang == "en":
                        page.click(".kefu-header a[aria-label='Language / 语言']")  # the language menu
                        with page.expect_navigation():
                            page.click("form.lang button[value=en]")
                    for url in _pages(page, base, members[username]):
                        events.clear()
                        page.set_viewport_size({"width": widths[0], "height": 900})
                        resp = page.goto(base + url)
                        page.wait_for_load_state("networkidle")
                        walked += 1
                        where = f"{username} {lang} {url}"
                        expected = 404 if url == "/no-such-page/" else 200
                        if resp is None or resp.status != expected:
                            failures.append(f"{where}: status {resp and resp.status}, expected {expected}")
                        for width in widths:
                            page.set_viewport_size({"width": width, "height": 900})
                            _settle(page)
                            layout = page.evaluate(JS_LAYOUT)
                            if layout["overflow"] > 1:
                                failures.append(f"{where} @{width}: horizontal overflow {layout['overflow']} px"
                                                f" ({layout['culprit']})")
                            for item in layout["wrapped"]:
                                failures.append(f"{where} @{width}: navigation item wraps: {item!r}")
                        failures += [f"{where}: {e}" for e in events]
                        if lang == "en":
                            for t in page.evaluate(JS_TEXTS):
                                if allowed.rest(t):
                                    failures.append(f"{where}: untranslated: {t[:80]!r}")
                    if lang == "zh-hans" and username == "manager":
                        _screenshots(page, base)
                    if lang == "zh-hans" and username == "kf01":
                        _workspace_screenshot(page, base)
                    context.close()
        finally:
            browser.close()
    assert walked >= len(roles) * len(langs) * 5
    assert not failures, f"{len(set(failures))} defects:\n" + "\n".join(dict.fromkeys(failures))


def _workspace_screenshot(page, base):
    """The README's workspace: a pre-sales agent's 接待台 with the demo's queued web-chat buyers, one open."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(base + "/live/")
    page.locator("#lw-conn[data-state=up]").wait_for(timeout=30000)
    chats = page.locator("#lw-chats .lw-chat-item")
    chats.first.wait_for(timeout=30000)
    chats.first.click()
    page.locator("#lw-log .lw-bubble").first.wait_for(timeout=30000)
    page.screenshot(path=str(SHOTS / "workspace.png"))


def _screenshots(page, base):
    """The README's pictures: the dashboard, a conversation, a case (1280 px, zh-hans)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(base + "/?period=last_7")  # the demo's 14 days: this week and its 环比 both have data
    page.wait_for_selector("#chart-receptions .main-svg", timeout=30000)
    page.screenshot(path=str(SHOTS / "dashboard.png"))
    for list_url, pattern, name in (("/conversations/", r"^/conversations/\d+/$", "conversation.png"),
                                    ("/aftersales/", r"^/aftersales/\d+/$", "case.png")):
        page.goto(base + list_url)
        hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(a => a.getAttribute('href'))")
        found = next((h for h in hrefs if re.match(pattern, h or "")), None)
        assert found, f"no {pattern} linked from {list_url}"
        page.goto(base + found)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SHOTS / name))
