"""The deferred rebuild of buyers (ADR 0004): ingestion marks, the worker drains.

An ingest writes its messages or orders and one `DirtyBuyer` row per buyer it touched, in one
transaction, and answers. After the commit it makes sure a drain will see its marks: a running
drain task's promise to look again (`DrainLease`, remembered by the process, so a stream of
ingests runs no statement for it), or a drain task queued and not yet started, or else it queues
one. The task worker drains: each pass is one short transaction that takes the oldest marks, locks
their buyers (skipping buyers another transaction holds), deletes the marks of those buyers it can
see and rebuilds them (`kefu.metrics.rebuild`), one statement each for the lock and the marks;
then the task lingers, looking for new marks, until its promise runs out. So:

- nothing is lost: a mark is deleted only by a pass that read the buyer's rows after the mark's
  transaction committed (marks are taken after the buyer lock, rows read after the marks), and
  only if that pass commits;
- nothing is doubled: a rebuild recomputes the buyer from raw rows, so rebuilding twice is harmless;
- a crash anywhere leaves the marks, and a later pass (after restart, or the scheduler's
  minute check) rebuilds them;
- two workers never rebuild one buyer at once (the buyer row lock) and never wait for each other
  on buyers (SKIP LOCKED); roll-up rows are locked in key order, so they cannot deadlock.

Reports say how fresh they are: `facts_lag` is the age of the shop's oldest mark.
"""

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus

from kefu.core.db import insert_new, value_from_db
from kefu.core.models import Shop
from kefu.core.prepared import prepared_rows
from kefu.core.sqlite3.base import writers_yield
from kefu.customers.models import Customer

from . import rows as R
from .models import DirtyBuyer, DrainLease
from .rebuild import buyers_rebuild

log = logging.getLogger("kefu.metrics")

BUYERS_PER_PASS = 100  # one short transaction: SQLite's writers wait for it
MARKS_PER_PASS = 4 * BUYERS_PER_PASS
TASK_SECONDS = 20.0  # a drain task hands the worker back after this long (and queues its successor)
LEASE_SECONDS = 2.0  # a running drain promises to look for new marks once more this far ahead
LEASE_MARGIN = 0.5  # an ingest trusts a promise until this long before it runs out (clocks of hosts)
POLL_SECONDS = 0.2  # how often a lingering drain looks for new marks
# An import's drain sizes each pass from the last one's pace to take about this long: a writer
# (SQLite's one write lock; on PostgreSQL the live routing of a buyer in the pass, the worker's
# roll-up rows) waits one pass at most, so this leaves room for a pass twice as slow as the last.
PASS_SECONDS = 0.5
MAX_BUYERS_PER_PASS = 2000
_clock = time.monotonic  # tests drive a clock of their own

_lease_until = 0.0  # the latest promise this process has read (Unix time)


def inline() -> bool:
    """Tests (tests/conftest.py) rebuild inside the ingest transaction, through the same code."""
    return getattr(settings, "KEFU_FACTS_INLINE", False)


def buyers_mark(*, shop: Shop, customer_ids, now=None) -> None:
    """Record, in the caller's transaction, that these buyers' derived rows must be rebuilt."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    now = now or timezone.now()
    insert_new(DirtyBuyer, [DirtyBuyer(shop_id=shop.id, customer_id=c, marked_at=now) for c in ids])
    if inline():
        buyers_rebuild_now(shop=shop, customer_ids=ids)
    else:
        transaction.on_commit(drain_kick)


def buyers_rebuild_now(*, shop: Shop, customer_ids) -> None:
    """Rebuild these buyers in the caller's transaction (waiting for their locks) and clear their
    marks: for a caller that needs the figures before it commits (the demo loader, tests)."""
    ids = sorted(set(customer_ids))
    for i in range(0, len(ids), 500):
        _rebuild_marked(shop.id, ids[i : i + 500], wait=True)


def drain_kick(*, force: bool = False, behind_others: bool = False) -> None:
    """After an ingest committed: make sure a drain will see its marks. Nothing to do while a
    running drain's promise holds (it looks for new marks once more after `until`; this process
    remembers the promise, so a stream of ingests runs no statement here); else one fixed statement
    reads the promise and whether a drain is queued and not yet started (that one starts after this
    commit, so it sees these marks), and a drain is queued if neither. `force` (the scheduler's
    check for stale marks) does not trust a promise: its drain may have died. `behind_others` (a
    drain handing over after TASK_SECONDS) queues the successor at the default priority, after the
    tasks already waiting, so a long stream of ingests does not starve them."""
    global _lease_until
    from .tasks import facts_drain_task

    now = time.time()  # after the commit
    if not force and now < _lease_until - LEASE_MARGIN:
        return
    state = _drain_state(facts_drain_task)
    if state is not None:
        until, waiting = state
        _lease_until = until
        if waiting or (not force and now < until - LEASE_MARGIN):
            return
    (facts_drain_task.using(priority=0) if behind_others else facts_drain_task).enqueue()


def _drain_state(task) -> tuple[float, bool] | None:
    """(the running drains' promise as Unix time, whether a drain task waits to start), in one
    fixed statement; None with a task backend other than django-tasks-db."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - another task backend
        return None
    if not isinstance(task.get_backend(), DatabaseBackend):
        return None
    # The drain task is never queued with run_after, so READY means it will start, after this commit.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT until FROM {DrainLease._meta.db_table} WHERE id = 1), "
                       f"(SELECT 1 FROM {DBTaskResult._meta.db_table} WHERE status = %s AND task_path = %s LIMIT 1)",
                       [TaskResultStatus.READY.value, task.module_path])
        until, waiting = cursor.fetchone()
    until = value_from_db(DrainLease._meta.get_field("until"), until)
    return (until.timestamp() if until else 0.0), waiting is not None


def lease_renew() -> float:
    """Promise, committed before it returns, that this drain looks for new marks once more after
    the returned Unix time (LEASE_SECONDS from now). The caller must keep it (facts_drain_linger)."""
    until = time.time() + LEASE_SECONDS
    at = dt.datetime.fromtimestamp(until, dt.UTC)
    with transaction.atomic():
        if not DrainLease.objects.filter(pk=1).update(until=at):
            DrainLease.objects.get_or_create(pk=1, defaults={"until": at})
    return until


def facts_drain_linger(*, seconds: float = TASK_SECONDS) -> int:
    """The worker's drain task: drain, then linger, looking for new marks every POLL_SECONDS until
    the promise made by lease_renew runs out; new marks meanwhile are drained at once (renewing
    the promise). So a stream of ingests keeps one task busy instead of queueing one each, and
    runs no drain check per request. Ends after the promised look finds nothing; after `seconds`
    it stops renewing, keeps its last promise, and queues a successor for what is left.
    Returns the buyers rebuilt."""
    started = time.monotonic()
    done = 0
    until = 0.0
    while True:
        if time.monotonic() - started < seconds:
            until = lease_renew()
        rebuilt = facts_drain(seconds=LEASE_SECONDS / 2)
        done += rebuilt
        if not rebuilt and facts_pending():  # only buyers whose rebuild fails, or held by another drain
            time.sleep(POLL_SECONDS)
        while time.time() < until and not facts_pending():
            time.sleep(POLL_SECONDS)
        if time.time() < until:
            continue  # new marks while the promise holds
        if not facts_pending():  # the promised look: it started after `until`
            return done
        if time.monotonic() - started >= seconds:
            drain_kick(force=True, behind_others=True)  # hand the worker over; a successor takes the rest
            return done


def _rebuild_marked(shop_id: int, ids: list[int], *, wait: bool) -> int:
    """Lock these buyers (or those of them that are free), take their marks, rebuild them.
    Call inside a transaction (a rebuild that raises rolls the marks back with it). Returns how
    many buyers were rebuilt."""
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        return 0
    locked, spam = _buyers_lock(shop_id, ids, skip_locked=not wait)
    if not locked:
        return 0
    # The marks visible now were committed before this statement, so the rows read below include
    # everything they stand for; a mark committed later survives and brings the buyer back.
    _marks_take(locked)
    # The shop is read after the buyers are locked: a settings change that rebuilt them committed
    # before, so its settings are the ones used here.
    shop.refresh_from_db()
    buyers_rebuild(shop=shop, ids=locked, spam=spam)
    return len(locked)


def _buyers_lock(shop_id: int, ids: list[int], *, skip_locked: bool) -> tuple[list[int], set[int]]:
    """(the buyers locked, in id order; the spam ones among them), in one statement: FOR NO KEY
    UPDATE on PostgreSQL (an ingest's KEY SHARE on its buyer never waits for it), SKIP LOCKED
    for the drain; SQLite's one writer holds everything already."""
    where, params = R.any_in(R.qn("id"), sorted(set(ids)))
    sql = f"SELECT {R.qn('id')}, {R.qn('is_spam')} FROM {R.table(Customer)} " \
          f"WHERE {R.qn('shop_id')} = %s AND {where} ORDER BY {R.qn('id')}"
    if connection.vendor == "postgresql":
        sql += " FOR NO KEY UPDATE" + (" SKIP LOCKED" if skip_locked else "")
    with connection.cursor() as cur:
        cur.execute(sql, [shop_id, *params])
        rows = cur.fetchall()
    return [c for c, _ in rows], {c for c, spam in rows if spam}


def _marks_take(customer_ids: list[int]) -> None:
    """Delete the marks of these locked buyers that this transaction can see, in one statement.
    On PostgreSQL marks another pass holds (it took them among the oldest, FOR UPDATE) are left
    to it: waiting for them could deadlock with that pass's roll-up locks."""
    table = R.table(DirtyBuyer)
    where, params = R.any_in(R.qn("customer_id"), customer_ids)
    if connection.vendor == "postgresql":
        where = f"{R.qn('id')} IN (SELECT {R.qn('id')} FROM {table} WHERE {where} FOR UPDATE SKIP LOCKED)"
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table} WHERE {where}", params)


def drain_pass(*, shop_id: int | None = None, buyers: int = BUYERS_PER_PASS) -> tuple[int, int, int]:
    """One transaction: the oldest marks (of one shop, or of the shop owning the oldest mark), up
    to `buyers` distinct buyers of them rebuilt. Returns (marks seen, buyers rebuilt, buyers failed).

    A rebuild that raises (a bug, bad data) must not stop the queue behind it: the pass retries
    its buyers one by one and sends the marks of those that fail to the end of the queue (keeping
    their time, so the lag still shows them), logged with the traceback.
    """
    with transaction.atomic():
        qs = DirtyBuyer.objects.order_by("id")
        if shop_id is not None:
            qs = qs.filter(shop_id=shop_id)
        rows = list(qs.select_for_update(skip_locked=True).values_list("shop_id", "customer_id")[: 4 * buyers])
        if not rows:
            return 0, 0, 0
        by_shop: dict[int, dict[int, None]] = {}
        for s, c in rows:
            by_shop.setdefault(s, {})[c] = None
        for s, cids in by_shop.items():  # the oldest shop first; the next if all its buyers are held
            ids = list(cids)[:buyers]
            try:
                with transaction.atomic():
                    rebuilt = _rebuild_marked(s, ids, wait=False)
            except OperationalError:
                raise
            except Exception:
                log.exception("rebuild of %d buyers of shop %s failed; retrying them one by one", len(ids), s)
                return (len(rows), *_one_by_one(s, ids))
            if rebuilt:
                return len(rows), rebuilt, 0
        return len(rows), 0, 0


def _one_by_one(shop_id: int, ids: list[int]) -> tuple[int, int]:
    rebuilt = failed = 0
    for c in ids:
        try:
            with transaction.atomic():
                rebuilt += _rebuild_marked(shop_id, [c], wait=False)
        except OperationalError:
            raise
        except Exception:
            log.exception("rebuild of buyer %s (shop %s) failed; its marks go to the end of the queue", c, shop_id)
            failed += 1
            marks = list(DirtyBuyer.objects.filter(customer_id=c).values_list("marked_at", flat=True))
            DirtyBuyer.objects.filter(customer_id=c).delete()
            DirtyBuyer.objects.create(shop_id=shop_id, customer_id=c, marked_at=min(marks))
    return rebuilt, failed


def facts_drain(*, shop: Shop | None = None, seconds: float | None = None, buyers: int = BUYERS_PER_PASS,
                pass_seconds: float | None = None) -> int:
    """Drain marks (of one shop, or all) in short transactions until none is left (or only buyers
    whose rebuild fails) or `seconds` have passed. Buyers held by another transaction are retried
    shortly after. Before each pass it steps aside while a writer waits for SQLite's lock. Returns
    the buyers rebuilt. Used by the worker's task, imports, `kefu kpi --wait` and tests.

    `buyers` per pass; with `pass_seconds` (an import's drain) that is the first pass's size and
    each next pass is sized from the last one's pace to take about `pass_seconds` (pass_size)."""
    started = _clock()
    done = 0
    while seconds is None or _clock() - started < seconds:
        writers_yield()  # on SQLite, a request waiting for the write lock goes before the next pass
        began = _clock()
        try:
            seen, rebuilt, failed = drain_pass(shop_id=shop.id if shop else None, buyers=buyers)
        except OperationalError as exc:  # a deadlock victim or a busy database: the marks are intact
            log.warning("facts drain pass failed, retrying: %s", exc)
            time.sleep(0.2)
            continue
        done += rebuilt
        if pass_seconds and rebuilt:
            buyers = pass_size(buyers, rebuilt, _clock() - began, pass_seconds)
        if not seen or (failed and not rebuilt):
            break
        if not rebuilt:  # everything left is locked by someone else for the moment
            time.sleep(0.05)
    return done


def pass_size(size: int, rebuilt: int, took: float, target: float) -> int:
    """The next pass's buyers: as many as the last pass's pace rebuilds in `target` seconds, at
    most twice the last size (one fast pass must not make the next one long), and never fewer
    than the worker's passes: a pass has a fixed cost (settings, roll-up rows), so on a starved
    box passes sized by time alone shrank to a few buyers and the drain to a fifth of its pace."""
    want = int(rebuilt * target / took) if took > 0 else MAX_BUYERS_PER_PASS
    return max(BUYERS_PER_PASS, min(want, 2 * size, MAX_BUYERS_PER_PASS))


def _oldest_change(*, shop_id: int):
    return DirtyBuyer.objects.filter(shop_id=shop_id).order_by("id").values_list("marked_at")[:1]


def facts_lag(*, shop: Shop, now=None) -> float:
    """Seconds since the oldest change not yet in the shop's figures (0 when they are current)."""
    first = prepared_rows(_oldest_change, shop_id=shop.id)
    if not first:
        return 0.0
    oldest = first[0][0]
    return max(0.0, round(((now or timezone.now()) - oldest).total_seconds(), 1))


def facts_pending(*, shop: Shop | None = None) -> bool:
    qs = DirtyBuyer.objects.all()
    if shop is not None:
        qs = qs.filter(shop=shop)
    return qs.exists()
