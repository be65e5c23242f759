"""Issue 13's "Done when", walked as a newcomer would on the demo shop, under `kefu start` (web =
gunicorn + uvicorn workers on kefu.asgi, the task worker that brings the figures up to date, the
scheduler), in three browser contexts: a buyer on /demo/site/, 小美 (kf01) and a colleague in the
workspace, and the manager on the KPI dashboard.

The buyer writes and 小美 answers, both ways live; the buyer sends a photo; 小美 sends a script with
its variables filled; she transfers the chat to her colleague, who gets it live with its history,
answers and closes it; the buyer rates it. The dashboard's 今日实时 table then shows the reception
(one more for the colleague, at least one more for 小美, who also got the demo's waiting buyers when
she came online), and the figures the page shows equal a count made from the message rows by SQL. Runs on SQLite, and on PostgreSQL when KEFU_DATABASE_URL names it
(a database `<name>_story` is made for it). Every wait is a condition; nothing sleeps."""

import http.client
import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.browser import ARGS, BROWSER_TEST, CHROMIUM, login
from tests.e2e.test_livechat_browser import _free_port

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30_000  # ms: generous, the machine may be loaded (the 1 s bar is test_livechat_browser's)
pytestmark = BROWSER_TEST


def _database_url() -> str | None:
    url = os.environ.get("KEFU_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/") + "_story"
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


class KefuStart:
    """`kefu start` over its own data directory (and database), the demo loaded beforehand."""

    def __init__(self, data_dir: Path, database_url: str | None):
        self.data_dir, self.database_url = data_dir, database_url
        self.env = {k: v for k, v in os.environ.items() if k != "KEFU_DATABASE_URL"}
        self.env.update({"KEFU_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "kefu.settings"})
        if database_url:
            self.env["KEFU_DATABASE_URL"] = database_url
        out = subprocess.run([sys.executable, str(ROOT / "tests" / "e2e" / "live_demo_setup.py")], env=self.env,
                             cwd=str(ROOT), capture_output=True, text=True, check=True, timeout=1200)
        self.info = json.loads(out.stdout.strip().splitlines()[-1])
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(data_dir / "start.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "kefu.cli", "start", "--bind", f"127.0.0.1:{self.port}",
                                      "--workers", "2"], env=self.env, cwd=str(ROOT), start_new_session=True,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/live/widget.js")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("kefu start did not come up:\n" + (data_dir / "start.log").read_text()[-3000:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def receptions_from_rows(self, agent_id: int | None = None) -> int:
        """Receptions today counted from the message rows by plain SQL (not the metrics code): the
        distinct (agent, buyer) pairs — of one agent, or of all — with a buyer message routed to the
        agent today in the shop's time zone, buyers flagged as spam left out."""
        tz = zoneinfo.ZoneInfo(self.info["tz"])
        day = datetime.now(tz).date()
        start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(zoneinfo.ZoneInfo("UTC"))
        end = start + timedelta(days=1)
        sql = ("SELECT COUNT(*) FROM (SELECT DISTINCT m.agent_id, m.customer_id FROM conversations_message m "
               "JOIN customers_customer c ON c.id = m.customer_id WHERE m.sender = 'buyer' AND "
               "m.agent_id IS NOT NULL AND NOT c.is_spam AND m.sent_at >= {p} AND m.sent_at < {p}"
               + (" AND m.agent_id = {p}" if agent_id else "") + ") pairs")
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as conn:
                return conn.execute(sql.format(p="%s"), (start, end, agent_id)[:3 if agent_id else 2]).fetchone()[0]
        import sqlite3

        fmt = "%Y-%m-%d %H:%M:%S"
        args = (start.strftime(fmt), end.strftime(fmt), agent_id)[:3 if agent_id else 2]
        with sqlite3.connect(self.data_dir / "kefu.sqlite3") as conn:
            return conn.execute(sql.format(p="?"), args).fetchone()[0]

    def rating_rows(self) -> list[tuple]:
        sql = "SELECT score, comment FROM complaints_servicerating ORDER BY id"
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as conn:
                return conn.execute(sql).fetchall()
        import sqlite3

        with sqlite3.connect(self.data_dir / "kefu.sqlite3") as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def kefu(tmp_path_factory):
    k = KefuStart(tmp_path_factory.mktemp("story"), _database_url())
    yield k
    k.stop()


def _photo() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 60)).save(buf, "PNG")
    return buf.getvalue()


def _login(browser, kefu, username: str, path: str):
    # The browser's clock in another zone than the shop's: the pages must show shop time.
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900},
                               timezone_id="America/Los_Angeles").new_page()
    login(page, kefu.url, username, kefu.info["password"], timeout=WAIT)
    if path != "/":
        page.goto(kefu.url + path)
    return page


# The dashboard's 今日实时 table as the page shows it: receptions per agent name, and the shop's total.
READ_TODAY = """() => {
  const t = document.querySelector('#live table.kpi');
  const heads = [...t.querySelectorAll('thead th')].map(th => th.textContent.trim());
  const agentCol = heads.indexOf('客服'), col = heads.indexOf('接待人数');
  const rows = {};
  for (const tr of t.querySelectorAll('tbody tr')) {
    const tds = tr.querySelectorAll('td');
    if (tds.length > col) rows[tds[agentCol].textContent.trim()] = parseInt(tds[col].textContent.replace(/,/g, ''), 10);
  }
  const foot = t.querySelector('tfoot tr');
  const total = foot ? parseInt(foot.querySelectorAll('th')[col].textContent.replace(/,/g, ''), 10) : 0;
  return {rows, total, col, lag: document.querySelector('#lag').textContent.trim()};
}"""


def _today(page) -> dict:
    return page.evaluate(READ_TODAY)


def test_the_newcomers_walk_on_the_demo_shop(kefu):
    from playwright.sync_api import sync_playwright

    kf01, other = kefu.info["kf01"], kefu.info["other"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            # The manager's dashboard before: today's receptions per agent.
            boss = _login(browser, kefu, "manager", "/")
            before = _today(boss)
            assert before["col"] >= 0, "the 今日实时 table has a 接待人数 column"

            # 小美 opens the workspace and says she is online (the status button group).
            mei = _login(browser, kefu, "kf01", "/live/")
            mei.locator("#lw-conn[data-state=up]").wait_for(timeout=WAIT)
            mei.click("#my-status button[value=online]")
            mei.locator("#my-status button[value=online][aria-pressed=true]").wait_for(timeout=WAIT)

            # The buyer on the demo shop's own site opens the widget and writes.
            buyer = browser.new_context(locale="zh-CN").new_page()
            buyer.goto(f"{kefu.url}/demo/site/")
            buyer.locator("[data-kefu-widget] button").click()
            w = buyer.frame_locator("[data-kefu-widget] iframe")
            w.locator("#kf-status", has_text="客服在线").wait_for(timeout=WAIT)
            assert not mei.locator("#lw-scripts").is_visible() and not mei.locator("#lw-note").is_visible()
            shop_tz = zoneinfo.ZoneInfo(kefu.info["tz"])
            sent_between = [datetime.now(shop_tz).strftime("%H:%M")]
            w.locator("#kf-text").fill("你好，四件套是纯棉的吗")
            w.locator("#kf-text").press("Enter")
            item = mei.locator("#lw-chats .lw-chat-item", has_text="你好，四件套是纯棉的吗")
            item.wait_for(timeout=WAIT)
            sent_between.append(datetime.now(shop_tz).strftime("%H:%M"))
            assert item.locator(".lw-unread").inner_text() == "1"
            item.click()
            first = mei.locator("#lw-log .lw-bubble", has_text="你好，四件套是纯棉的吗")
            first.wait_for(timeout=WAIT)
            shown, (lo, hi) = first.locator(".lw-meta").inner_text(), sent_between
            assert (lo <= shown <= hi) if lo <= hi else (shown >= lo or shown <= hi), (shown, lo, hi)  # shop time

            # A photo from the buyer reaches 小美's screen as an image she can open.
            w.locator("#kf-file").set_input_files({"name": "四件套.png", "mimeType": "image/png", "buffer": _photo()})
            mei.wait_for_function("[...document.querySelectorAll('#lw-log img')]"
                                  ".some(i => i.complete && i.naturalWidth === 64)", timeout=WAIT)

            # 小美 answers with a script (Ctrl+/): its variables are filled from this chat.
            mei.press("#lw-text", "Control+/")
            mei.fill("#lw-script-q", "开场问候")  # the demo's agents have their own 开场白 too
            mei.wait_for_function("document.querySelectorAll('#lw-script-list li').length === 1 && document"
                                  ".querySelector('#lw-script-list li').textContent.includes('开场问候')", timeout=WAIT)
            mei.press("#lw-script-q", "Enter")
            mei.wait_for_function("document.getElementById('lw-text').value.includes('客服小美')", timeout=WAIT)
            script_text = mei.input_value("#lw-text")
            assert kefu.info["shop_name"] in script_text and "{" not in script_text
            mei.press("#lw-text", "Enter")
            w.locator(".kf-row:not(.me) .kf-bubble", has_text="客服小美").wait_for(timeout=WAIT)
            w.locator(".me .kf-meta", has_text="已读").first.wait_for(timeout=WAIT)

            # The colleague opens the workspace; 小美 transfers the chat to them.
            mate = _login(browser, kefu, other["username"], "/live/")
            mate.locator("#lw-conn[data-state=up]").wait_for(timeout=WAIT)
            mei.select_option("#lw-transfer-to", str(other["id"]))
            mei.click("#lw-transfer")
            mei.locator("#lw-log .lw-gone").wait_for(timeout=WAIT)
            moved = mate.locator("#lw-chats .lw-chat-item", has_text="客服小美")
            moved.wait_for(timeout=WAIT)  # pushed live: no reload
            moved.click()
            mate.locator("#lw-log .lw-bubble", has_text="你好，四件套是纯棉的吗").wait_for(timeout=WAIT)
            mate.locator("#lw-log img").first.wait_for(timeout=WAIT)

            # The buyer goes on; the colleague answers and closes; the buyer rates.
            w.locator("#kf-text").fill("1.8米的床用哪个尺寸")
            w.locator("#kf-text").press("Enter")
            mate.locator("#lw-log .lw-bubble", has_text="1.8米的床用哪个尺寸").wait_for(timeout=WAIT)
            mate.fill("#lw-text", "选2.0m床单款就可以")
            mate.press("#lw-text", "Enter")
            w.locator(".kf-row:not(.me) .kf-bubble", has_text="选2.0m床单款就可以").wait_for(timeout=WAIT)
            mate.once("dialog", lambda d: d.accept())
            mate.click("#lw-close")
            rate = w.locator(".kf-rate")
            rate.wait_for(timeout=WAIT)
            assert other["name"] in rate.inner_text()  # the invitation names who served last
            rate.locator(".kf-stars button").nth(4).click()
            rate.locator("input").fill("很耐心")
            rate.locator("button.go").click()
            w.locator(".kf-rate", has_text="感谢您的评价").wait_for(timeout=WAIT)
            assert kefu.rating_rows()[-1] == (5, "很耐心")

            # The dashboard, once the worker has caught up: the colleague has one more reception today
            # (this buyer), 小美 at least one more (this buyer; the demo's buyers waiting in the queue
            # were handed to her too when she came online), and every figure the page shows equals a
            # count from the message rows.
            deadline = time.monotonic() + 180
            while True:
                boss.reload()
                after = _today(boss)
                rows = {n: kefu.receptions_from_rows(a["id"]) for n, a in ((kf01["name"], kf01), (other["name"], other))}
                if (after["lag"] == "已计入全部消息和订单" and all(after["rows"].get(n, 0) == v for n, v in rows.items())
                        and after["total"] == kefu.receptions_from_rows()):
                    break
                assert time.monotonic() < deadline, (before, after, rows)
                boss.wait_for_timeout(1000)  # poll interval between reloads
            assert after["rows"][other["name"]] == before["rows"].get(other["name"], 0) + 1
            assert after["rows"][kf01["name"]] >= before["rows"].get(kf01["name"], 0) + 1
            assert after["total"] > before["total"]
        finally:
            browser.close()
