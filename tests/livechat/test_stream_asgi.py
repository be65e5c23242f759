"""The event streams as `kefu start` serves them: under ASGI (Django's async test client goes through
the same ASGIHandler as uvicorn) a stream is an asynchronous generator — it holds no worker thread
while it waits, and Django has no synchronous iterator to warn about and read to the end. The same
behaviour as the blocking generator WSGI uses (test_events, the browser tests): hello, live
delivery, keepalive, resume from Last-Event-ID without doubles, the workspace heartbeat, and the
subscription released when the client goes."""

import asyncio
import contextlib
import json
import warnings

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from kefu.livechat import stream
from kefu.livechat.hub import hub
from kefu.livechat.models import WorkspaceHeartbeat

from .conftest import Buyer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _local_only(monkeypatch):
    """Events committed by this process reach its streams directly (events.publish → the hub); the
    hub's poll/LISTEN thread is test_events' subject and would outlive the test's database."""
    monkeypatch.setattr(hub, "_ensure_thread", lambda: None)
    monkeypatch.setattr(stream, "KEEPALIVE", 0.2)


async def _frames(resp, until, timeout=20.0) -> list[str]:
    """Read the stream's frames until one satisfies `until`."""
    out, buf = [], ""
    it = resp.streaming_content.__aiter__()

    async def read():
        nonlocal buf
        while True:
            chunk = await it.__anext__()
            buf += chunk.decode() if isinstance(chunk, bytes) else chunk
            while "\n\n" in buf:
                frame, buf = buf.split("\n\n", 1)
                out.append(frame)
                if until(frame):
                    return

    await asyncio.wait_for(read(), timeout)
    return out


async def _hang_up(resp) -> None:
    """The client goes away: Django's ASGI handler cancels the response's task on http.disconnect,
    which reaches the stream where it waits for events."""
    started = asyncio.Event()

    async def read_on():
        started.set()  # no suspension until the stream waits for its next event
        async for _ in resp.streaming_content:
            pass

    task = asyncio.create_task(read_on())
    await started.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _messages(frames: list[str]) -> list[tuple[int, str]]:
    """(event id, text) of the message events among the frames."""
    out = []
    for frame in frames:
        lines = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        if "data" in lines and "id" in lines:
            data = json.loads(lines["data"])
            if data.get("kind") == "message":
                out.append((int(lines["id"]), data["message"]["text"]))
    return out


def test_a_widget_stream_under_asgi_is_async_delivers_keeps_alive_and_resumes(shop, widget, kf):
    buyer = Buyer(widget)
    path = f"/live/w/{widget.key}/stream?t={buyer.session}"  # as the widget's EventSource asks
    # The hub is per process: a browser test's live server in this worker may still hold a stream of
    # its own shop, and drop it at any moment; count this shop's.
    open_before = hub.streams(shop.pk)

    async def run():
        client = AsyncClient()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "StreamingHttpResponse must consume synchronous iterators"
            resp = await client.get(path)
            assert resp.status_code == 200 and resp.streaming and resp.is_async
            assert resp["Content-Type"].startswith("text/event-stream")
            hello = await _frames(resp, lambda f: "event: hello" in f)
            assert hub.streams(shop.pk) == open_before + 1
            # Committed while the stream waits: delivered at once, then the keepalive while idle.
            await sync_to_async(buyer.send)("在吗")
            frames = await _frames(resp, lambda f: f == ": keepalive")
            seen = _messages(frames)
            assert [text for _, text in seen] == ["在吗"]
            await _hang_up(resp)  # the subscription ends with the client
            assert hub.streams(shop.pk) == open_before

            # Away, the buyer sends again; the reconnect with Last-Event-ID gets only what it missed.
            await sync_to_async(buyer.send)("还在吗")
            again = await client.get(path, headers={"Last-Event-ID": str(seen[0][0])})
            frames = await _frames(again, lambda f: f == ": keepalive")
            replayed, last = _messages(frames), seen[0][0]
            assert [text for i, text in replayed if i > last] == ["还在吗"]
            # Besides, the recent past again (events.REPLAY_LOOKBACK: on PostgreSQL ids may commit out of
            # order); the client drops the ids it has.
            assert all(i <= last for i, text in replayed if text != "还在吗")
            await _hang_up(again)
        await sync_to_async(connections.close_all)()  # the test's own thread (buyer.send)
        return hello

    hello = asyncio.run(run())
    assert any('"after": 0' in f for f in hello)
    assert hub.streams(shop.pk) == open_before


def test_the_workspace_stream_under_asgi_beats_and_gets_the_buyers_message(shop, widget, kf):
    buyer = Buyer(widget)
    open_before = hub.streams(shop.pk)

    async def run():
        client = AsyncClient()
        await client.aforce_login(kf.user)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            resp = await client.get(f"/live/stream?workspace=1&shop={shop.code}")
            assert resp.status_code == 200 and resp.is_async
            await _frames(resp, lambda f: "event: hello" in f)
            # The stream's opening beat runs in a thread of its own (sync_to_async) before hello.
            assert await sync_to_async(WorkspaceHeartbeat.objects.filter(agent=kf).exists)()
            await sync_to_async(buyer.send)("四件套有货吗")
            await _frames(resp, lambda f: [t for _, t in _messages([f])] == ["四件套有货吗"])
            await _hang_up(resp)
        await sync_to_async(connections.close_all)()

    asyncio.run(run())
    assert hub.streams(shop.pk) == open_before


def test_an_async_stream_too_far_behind_says_reset_and_ends(shop, monkeypatch):
    """As the blocking stream does (test_events): more missed than the replay limit → `reset`, and
    the response ends (the client reloads its state and opens a new stream)."""
    open_before = hub.streams(shop.pk)
    from kefu.customers.services import customers_resolve
    from kefu.livechat import events
    from kefu.livechat.enums import Audience, EventKind
    from kefu.livechat.events import Viewer

    monkeypatch.setattr(stream, "REPLAY_LIMIT", 3)
    cid = customers_resolve(shop=shop, nicks={"x": ""})["x"]
    ids = [events.publish(shop=shop, kind=EventKind.MESSAGE, audience=Audience.BOTH, customer_id=cid,
                          data={"n": i}).pk for i in range(5)]
    viewer = Viewer.of_buyer(shop_id=shop.pk, customer_id=cid)

    async def drain(after):
        return [frame async for frame in stream._astream(viewer, after, {"after": after})]

    frames = asyncio.run(drain(ids[0]))  # 4 missed > 3: the generator ends by itself after the reset
    assert frames[0].startswith("retry: 2000\nevent: hello") and frames[1:] == ["event: reset\ndata: {}\n\n"]
    assert hub.streams(shop.pk) == open_before


def test_chat_images_under_asgi_are_plain_responses_for_the_buyer_and_the_agent(shop, widget, kf):
    """Not file iterators, which Django under ASGI would read in a thread with a warning."""
    from kefu.livechat.models import ChatAttachment

    from .conftest import png_bytes

    buyer = Buyer(widget)
    data = png_bytes(16, 12)
    buyer.image(data)
    att = ChatAttachment.objects.get()

    async def run():
        agent = AsyncClient()
        await agent.aforce_login(kf.user)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for client, path in ((AsyncClient(), f"/live/w/{widget.key}/images/{att.pk}?t={buyer.session}"),
                                 (agent, f"/live/images/{att.pk}")):
                r = await client.get(path)
                assert r.status_code == 200 and not r.streaming and r.content == data, path
                assert r["Content-Type"] == "image/png" and r["X-Content-Type-Options"] == "nosniff"
            thumb = await agent.get(f"/live/images/{att.pk}?thumb=1")
            assert thumb.status_code == 200 and thumb["Content-Type"] in ("image/jpeg", "image/png")
        await sync_to_async(connections.close_all)()

    asyncio.run(run())
