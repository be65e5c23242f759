"""Server-sent event streams (docs/adr/0005-live-push.md): one long response per open workspace
or widget, fed by this process's hub. Served asynchronously under ASGI (kefu start runs uvicorn
workers), and by a blocking generator under WSGI (tests' live server, `kefu runserver`).

Wire format: `id: <event id>` and `data: <json>` per event; `: keepalive` every KEEPALIVE seconds;
`event: reset` when the client is too far behind (it reloads its state); `retry: 2000`.
The browser's EventSource reconnects by itself and sends Last-Event-ID; the stream then replays
what was committed since, so nothing is lost, and the client drops event ids it has seen.
"""

import json
import logging
import time
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections, connection
from django.http import StreamingHttpResponse

from .events import Viewer, as_wire, replay
from .hub import hub
from .models import LiveEvent

KEEPALIVE = 15.0
REPLAY_LIMIT = 2000
SENT_MEMORY = 5000
log = logging.getLogger("kefu.livechat")

# Called when a stream opens, every HEARTBEAT seconds while it is open (ending=False) and once when
# it ends (ending=True): how a person's workspace says it is there (kefu.livechat.away).
Alive = Callable[..., None]
HEARTBEAT = 60.0


def _release() -> None:
    """Give back the connection a step of the stream used: an open stream holds none while it waits.
    Never inside a transaction (the tests run a stream in theirs)."""
    if not connection.in_atomic_block:
        close_old_connections()


def _alive_call(alive: Alive, ending: bool = False) -> None:
    try:
        alive(ending=ending)
    except Exception:  # a heartbeat must never break the stream
        log.exception("workspace heartbeat failed")
    finally:
        _release()


class _Beat:
    def __init__(self):
        self.last = time.monotonic()

    def due(self) -> bool:
        if time.monotonic() - self.last < HEARTBEAT:
            return False
        self.last = time.monotonic()
        return True


def last_event_id(request) -> int:
    """The id the client has seen: EventSource's Last-Event-ID on a reconnect, else ?after=."""
    for raw in (request.headers.get("Last-Event-ID"), request.GET.get("after")):
        if raw and raw.strip().isdigit():
            return int(raw.strip())
    return 0


def _frame(ev) -> str:
    return f"id: {ev.pk}\ndata: {json.dumps(as_wire(ev), ensure_ascii=False, separators=(',', ':'))}\n\n"


class _Sent:
    """Event ids already written to this stream (replay and live delivery overlap by design)."""

    def __init__(self):
        self.ids: dict[int, None] = {}

    def first(self, event_id: int) -> bool:
        if event_id in self.ids:
            return False
        self.ids[event_id] = None
        if len(self.ids) > SENT_MEMORY:
            self.ids.pop(next(iter(self.ids)))
        return True


def _replayed(viewer: Viewer, after: int) -> tuple[list, bool]:
    """(events since `after`, reset?). Reset — the client reloads its state instead — when it missed
    more than REPLAY_LIMIT events, or when its place in the log was pruned (away longer than
    events.RETENTION, e.g. a laptop asleep overnight): a replay would then skip what was pruned."""
    if not after:
        return [], False
    try:
        if not LiveEvent.objects.filter(id__lte=after).exists():
            return [], True
        events = replay(viewer=viewer, after=after, limit=REPLAY_LIMIT)
    finally:
        _release()
    return events, len(events) >= REPLAY_LIMIT


def _hello(hello: dict) -> str:
    return "retry: 2000\n" + f"event: hello\ndata: {json.dumps(hello)}\n\n"


def _opening(viewer: Viewer, after: int, sent: _Sent) -> tuple[list[str], bool]:
    """The frames a stream sends after hello — what the client missed, or a reset — and whether the
    stream ends there (after a reset the client reloads and opens a new one). Reads the database."""
    events, too_many = _replayed(viewer, after)
    if too_many:
        return ["event: reset\ndata: {}\n\n"], True
    return [_frame(ev) for ev in events if sent.first(ev.pk)], False


def _live(batch: list, sent: _Sent) -> list[str]:
    """The frames of what the hub delivered; a keepalive when the wait timed out empty."""
    if not batch:
        return [": keepalive\n\n"]
    return [_frame(ev) for ev in batch if sent.first(ev.pk)]


# The same stream twice: asynchronous under ASGI (what `kefu start` serves: an open stream holds no
# thread while it waits; database steps run in a worker thread), blocking under WSGI (`kefu runserver`,
# the tests' live server), where Django cannot serve an async iterator as a stream.

async def _astream(viewer: Viewer, after: int, hello: dict, alive: Alive | None = None):
    import asyncio

    loop = asyncio.get_running_loop()
    sub = hub.subscribe(viewer, loop=loop)
    sent, beat = _Sent(), _Beat()
    try:
        if alive is not None:
            await sync_to_async(_alive_call, thread_sensitive=False)(alive)
        yield _hello(hello)
        frames, ended = await sync_to_async(_opening, thread_sensitive=False)(viewer, after, sent)
        for frame in frames:
            yield frame
        while not ended and not sub.overflow:
            for frame in _live(await sub.aget(KEEPALIVE), sent):
                yield frame
            if alive is not None and beat.due():
                await sync_to_async(_alive_call, thread_sensitive=False)(alive)
    finally:
        hub.unsubscribe(sub)
        if alive is not None:  # the client is gone: not awaited (the task may be being cancelled)
            loop.run_in_executor(None, _alive_call, alive, True)


def _stream(viewer: Viewer, after: int, hello: dict, alive: Alive | None = None):
    sub = hub.subscribe(viewer)
    sent, beat = _Sent(), _Beat()
    try:
        if alive is not None:
            _alive_call(alive)
        yield _hello(hello)
        frames, ended = _opening(viewer, after, sent)
        yield from frames
        while not ended and not sub.overflow:
            yield from _live(sub.get(KEEPALIVE), sent)
            if alive is not None and beat.due():
                _alive_call(alive)
    finally:
        hub.unsubscribe(sub)
        if alive is not None:
            _alive_call(alive, True)


def sse_response(request, viewer: Viewer, *, hello: dict | None = None, cors: bool = False,
                 alive: Alive | None = None) -> StreamingHttpResponse:
    after = last_event_id(request)
    hello = {"after": after, **(hello or {})}
    make = _astream if isinstance(request, ASGIRequest) else _stream
    gen = make(viewer, after, hello, alive)
    resp = StreamingHttpResponse(gen, content_type="text/event-stream; charset=utf-8")
    resp["Cache-Control"] = "no-cache, no-store"
    resp["X-Accel-Buffering"] = "no"  # a proxy in front must not buffer the stream
    if cors:
        resp["Access-Control-Allow-Origin"] = "*"
    return resp
