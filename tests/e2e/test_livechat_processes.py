"""The push layer across web processes: two separate web servers (gunicorn + one uvicorn worker
each, as two machines behind a balancer would run) on one database. A buyer writes through server A;
the buyer's own stream and 小美's workspace stream are held by server B and get every message once,
in order — through PostgreSQL LISTEN/NOTIFY when KEFU_DATABASE_URL names PostgreSQL (a database
`<name>_e2e` is made for it), through the SQLite poll otherwise. Then B restarts; the streams resume
from their Last-Event-ID and still see each message once."""

import http.client
import json
import os
import re
import threading
import time
import urllib.parse
import uuid

import pytest

from tests.e2e.test_livechat_browser import Server

pytestmark = [pytest.mark.e2e]


def _database_url() -> str | None:
    """None (a SQLite file per run) or a fresh PostgreSQL database next to the one the tests use."""
    url = os.environ.get("KEFU_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/") + "_e2e"
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("procs")
    url = _database_url()
    a = Server(data_dir, database_url=url, workers=1)
    b = Server(data_dir, database_url=url, workers=1, info=a.info)
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()


def _request(server, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r, r.read()


class Stream:
    """An EventSource as the workspace and the widget use one: frames read on a thread, a reconnect
    sends Last-Event-ID, and an event id seen before is dropped (the server's replay overlaps the
    recent past on purpose, docs/adr/0005-live-push.md)."""

    def __init__(self, server, path, headers=None):
        self.server, self.path, self.headers = server, path, headers or {}
        self.events: list[dict] = []
        self.seen: set[int] = set()
        self.last_id = 0
        self.conn = None
        self.open()

    def open(self):
        headers = dict(self.headers)
        if self.last_id:
            headers["Last-Event-ID"] = str(self.last_id)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=120)
        self.conn.request("GET", self.path, headers=headers)
        resp = self.conn.getresponse()
        assert resp.status == 200, resp.read()[:300]
        self.hello = threading.Event()
        threading.Thread(target=self._read, args=(resp,), daemon=True).start()
        assert self.hello.wait(30), "no hello from the stream"

    def _read(self, resp):
        ev_id, data = None, None
        try:
            for raw in resp:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: hello"):
                    self.hello.set()
                elif line.startswith("id: "):
                    ev_id = int(line[4:])
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and ev_id is not None:
                    if ev_id not in self.seen:
                        self.seen.add(ev_id)
                        self.events.append(json.loads(data))
                    self.last_id = ev_id  # as EventSource keeps it: the last frame's id
                    ev_id, data = None, None
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # the server went away: reopen() reconnects

    def texts(self) -> list[str]:
        return [e["message"]["text"] for e in self.events if e["kind"] == "message"]

    def close(self):
        self.conn.close()


def _login(server, username) -> str:
    r, body = _request(server, "GET", "/login/")
    cookie = re.search(r"csrftoken=([^;]+)", r.getheader("Set-Cookie")).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"username": username, "password": "pass-word-1", "csrfmiddlewaretoken": token})
    r, _ = _request(server, "POST", "/login/", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}",
        "Referer": server.url + "/login/"})
    assert r.status == 302, r.status
    return re.search(r"sessionid=([^;]+)", r.getheader("Set-Cookie")).group(1)


def _wait(cond, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_messages_written_through_one_process_reach_streams_held_by_another(servers):
    a, b = servers
    key = a.info["key"]
    r, body = _request(a, "POST", f"/live/w/{key}/session", json.dumps({"page": "/"}),
                       {"Content-Type": "application/json"})
    assert r.status == 200, body
    session = json.loads(body)["session"]
    buyer = Stream(b, f"/live/w/{key}/stream?t={urllib.parse.quote(session)}")
    agent = Stream(b, "/live/stream?shop=demoe2e", {"Cookie": f"sessionid={_login(b, 'kf01')}"})

    def send(text):
        r, body = _request(a, "POST", f"/live/w/{key}/messages",
                           json.dumps({"client_id": uuid.uuid4().hex, "text": text}),
                           {"Content-Type": "application/json", "X-Kefu-Session": session})
        assert r.status == 201, body

    sent = [f"第{i}条" for i in range(1, 11)]
    for text in sent:
        send(text)
    for s in (buyer, agent):
        assert _wait(lambda s=s: len(s.texts()) >= len(sent)), s.texts()
    time.sleep(1)  # anything doubled would arrive now
    assert buyer.texts() == sent
    assert agent.texts() == sent

    # B restarts (a deploy): the streams reconnect with Last-Event-ID; what A wrote meanwhile arrives
    # once, nothing seen before comes again.
    b.stop()
    buyer.close()
    agent.close()
    more = [f"重启时第{i}条" for i in range(1, 6)]
    for text in more:
        send(text)
    b.start()
    buyer.open()
    agent.headers["Cookie"] = f"sessionid={_login(b, 'kf01')}"
    agent.open()
    for s in (buyer, agent):
        assert _wait(lambda s=s: len(s.texts()) >= len(sent + more)), s.texts()
    send("之后一条")
    for s in (buyer, agent):
        assert _wait(lambda s=s: s.texts()[-1:] == ["之后一条"]), s.texts()
    time.sleep(1)
    assert buyer.texts() == sent + more + ["之后一条"]
    assert agent.texts() == sent + more + ["之后一条"]
    buyer.close()
    agent.close()
