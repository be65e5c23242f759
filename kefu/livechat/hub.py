"""The push hub of one web process: the open streams, and the one thread that learns of events.

Events reach the hub three ways, all de-duplicated by event id:
- written by this process: handed over right after commit (events.publish → dispatch_local);
- PostgreSQL: LISTEN kefu_live — every process gets each committed event's id, in commit order,
  and reads the rows (after a lost connection it catches up on the recent past);
- SQLite: the thread polls LiveEvent for ids above its cursor every POLL seconds (SQLite has one
  writer at a time, so ids arrive in commit order and the cursor misses nothing).
The thread starts with the first stream and idles (no queries) while no stream is open.
"""

import asyncio
import collections
import contextlib
import logging
import threading
import time

from django.db import connection, connections

from .events import PG_CHANNEL, Viewer, visible
from .models import LiveEvent

log = logging.getLogger("kefu.livechat")

POLL = 0.1  # SQLite poll interval, seconds
MAX_PENDING = 5000  # a stream further behind is closed; the client reconnects and replays
SEEN_MAX = 20000


class Subscription:
    """One open stream: events visible to its viewer, waiting to be written."""

    def __init__(self, viewer: Viewer, loop: asyncio.AbstractEventLoop | None):
        self.viewer = viewer
        self.items: collections.deque = collections.deque()
        self.overflow = False
        self.loop = loop
        self._aevent = asyncio.Event() if loop is not None else None
        self._cond = threading.Condition() if loop is None else None

    def push(self, ev: LiveEvent) -> None:
        if len(self.items) >= MAX_PENDING:
            self.overflow = True
        else:
            self.items.append(ev)
        if self.loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the stream is gone
                self.loop.call_soon_threadsafe(self._aevent.set)
        else:
            with self._cond:
                self._cond.notify_all()

    def _drain(self) -> list[LiveEvent]:
        out = []
        while self.items:
            out.append(self.items.popleft())
        return out

    async def aget(self, timeout: float) -> list[LiveEvent]:
        if not self.items:
            self._aevent.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._aevent.wait(), timeout)
        return self._drain()

    def get(self, timeout: float) -> list[LiveEvent]:
        with self._cond:
            if not self.items:
                self._cond.wait(timeout)
        return self._drain()


class Hub:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_shop: dict[int, set[Subscription]] = collections.defaultdict(set)
        self._seen: collections.OrderedDict[int, None] = collections.OrderedDict()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.cursor = 0

    # ------------------------------------------------------------ streams

    def subscribe(self, viewer: Viewer, loop: asyncio.AbstractEventLoop | None = None) -> Subscription:
        sub = Subscription(viewer, loop)
        with self._lock:
            self._by_shop[viewer.shop_id].add(sub)
        self._ensure_thread()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._by_shop.get(sub.viewer.shop_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_shop[sub.viewer.shop_id]

    def streams(self, shop_id: int | None = None) -> int:
        """Open streams of this process (of one shop when given)."""
        with self._lock:
            if shop_id is not None:
                return len(self._by_shop.get(shop_id, ()))
            return sum(len(s) for s in self._by_shop.values())

    # ------------------------------------------------------------ delivery

    def _first_time(self, event_id: int) -> bool:
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen[event_id] = None
            while len(self._seen) > SEEN_MAX:
                self._seen.popitem(last=False)
            return True

    def dispatch(self, ev: LiveEvent) -> None:
        if not self._first_time(ev.pk):
            return
        with self._lock:
            subs = list(self._by_shop.get(ev.shop_id, ()))
        for sub in subs:
            if visible(ev, sub.viewer):
                sub.push(ev)

    def dispatch_local(self, ev: LiveEvent) -> None:
        """An event this process committed: no need to wait for the poll or the notification."""
        self.dispatch(ev)

    # ------------------------------------------------------------ the thread

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="kefu-live-hub", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            if connection.vendor == "postgresql":
                self._listen()
            else:
                self._poll()
        finally:
            connections.close_all()

    def _idle(self) -> bool:
        with self._lock:
            return not self._by_shop

    def _recent_cursor(self) -> int:
        """The last event id committed a moment ago: a stream that subscribed meanwhile still gets
        what follows (the overlap is dropped by id)."""
        import datetime as dt

        from django.utils import timezone

        return (LiveEvent.objects.filter(created_at__lt=timezone.now() - dt.timedelta(seconds=2))
                .order_by("-id").values_list("id", flat=True).first() or 0)

    def _poll(self) -> None:
        idle_since, fresh = None, True
        while not self._stop.is_set():
            try:
                if self._idle():  # nothing to deliver to: no query until a stream opens
                    idle_since = idle_since or time.monotonic()
                    time.sleep(POLL)
                    continue
                if idle_since is not None or fresh:  # (re)starting: from a moment ago, see _recent_cursor
                    self.cursor, idle_since, fresh = self._recent_cursor(), None, False
                batch = list(LiveEvent.objects.filter(id__gt=self.cursor).order_by("id")[:1000])
            except Exception:  # noqa: BLE001 - the database is away for a moment: retry
                log.warning("live hub: poll failed", exc_info=True)
                # Closing may fail too while the database is away; the thread must outlive it.
                with contextlib.suppress(Exception):
                    connection.close()
                time.sleep(1)
                continue
            for ev in batch:
                self.dispatch(ev)
                self.cursor = ev.pk
            if len(batch) < 1000:
                time.sleep(POLL)

    def _pg_params(self) -> dict:
        params = dict(connections["default"].get_connection_params())
        for key in ("cursor_factory", "context", "server_side_binding", "prepare_threshold"):
            params.pop(key, None)
        return params

    def _listen(self) -> None:
        import psycopg

        lost_at = None
        while not self._stop.is_set():
            try:
                with psycopg.connect(**self._pg_params(), autocommit=True) as conn:
                    conn.execute(f"LISTEN {PG_CHANNEL}")
                    if lost_at is not None:  # notifications sent while we were away
                        self._fetch_since(lost_at)
                        lost_at = None
                    while not self._stop.is_set():
                        ids = [int(n.payload) for n in conn.notifies(timeout=1.0, stop_after=500)
                               if n.payload.isdigit()]
                        if ids:
                            self._fetch(ids)
            except Exception:  # noqa: BLE001 - reconnect on any failure of the listening connection
                log.warning("live hub: LISTEN connection lost; reconnecting", exc_info=True)
                from django.utils import timezone

                lost_at = lost_at or timezone.now()
                with contextlib.suppress(Exception):
                    connection.close()
                time.sleep(1)

    def _fetch(self, ids: list[int]) -> None:
        if self._idle():
            for i in ids:
                self._first_time(i)
            return
        rows = {e.pk: e for e in LiveEvent.objects.filter(id__in=ids)}
        connection.close()  # back to the pool until the next notification
        for i in ids:  # commit order, as notified
            if i in rows:
                self.dispatch(rows[i])

    def _fetch_since(self, lost_at) -> None:
        import datetime as dt

        for ev in LiveEvent.objects.filter(created_at__gte=lost_at - dt.timedelta(seconds=30)).order_by("id"):
            self.dispatch(ev)


hub = Hub()
