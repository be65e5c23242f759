"""Per-agent SLA figures of the KPI report, checked against an independent recompute from raw messages.

The recompute below does not import kefu.sla: it regroups conversations by the idle gap itself,
walks each buyer's messages with plain loops, and finds business-time due moments by bisection on
core's business-seconds counter (the app walks service intervals forward instead).
"""

import datetime as dt
import random
from collections import defaultdict

import pytest

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import person_create
from kefu.core.timeutil import ServiceHours
from kefu.metrics.kpi import kpi_report
from kefu.sla import services as S
from kefu.sla.models import SlaPolicy

from .conftest import MONDAY, TZ, at

pytestmark = pytest.mark.django_db
AGENTS = {"店铺:一号": ("一号", "aftersales"), "店铺:二号": ("二号", "aftersales"), "店铺:三号": ("三号", "presales")}
HOURS = {"weekly": {str(d): [["09:00", "12:00"], ["13:00", "23:00"]] for d in range(7)},
         "holidays": [(MONDAY + dt.timedelta(days=2)).isoformat()]}


def generate(seed: int, buyers: int = 40) -> list[dict]:
    rng = random.Random(seed)
    rows, n = [], 0
    for b in range(buyers):
        t = at(MONDAY, "08:00") + dt.timedelta(minutes=rng.randrange(0, 6 * 24 * 60))
        agent = rng.choice(list(AGENTS))
        for _session in range(rng.randint(1, 3)):
            card = f"o{b}" if rng.random() < 0.6 else ""
            for k in range(rng.randint(1, 8)):
                sender = rng.choices(["buyer", "agent", "bot", "system"], weights=[5, 4, 1, 1])[0]
                if k == 0:
                    sender = "buyer"
                n += 1
                rows.append({"message_id": f"x{n:05d}", "buyer_id": f"b{b}", "agent_id": agent, "sender": sender,
                             "sent_at": t, "order_id": card if k == 0 else "", "text": "在吗"})
                t += dt.timedelta(seconds=rng.choice([0, 30, 90, 200, 400, 900, 1500]))
            t += dt.timedelta(minutes=rng.choice([31, 45, 240, 900]))
            if rng.random() < 0.3:
                agent = rng.choice(list(AGENTS))
    return rows


def due_by_bisection(start, seconds, hours: ServiceHours):
    lo, hi = start, start + dt.timedelta(days=20)
    while hi - lo > dt.timedelta(seconds=1):
        mid = (lo + (hi - lo) / 2).replace(microsecond=0)
        if mid <= lo:
            break
        if hours.business_seconds(start, mid) >= seconds:
            hi = mid
        else:
            lo = mid
    return hi


def recompute(rows, *, gap_min, first_min, next_min, hours, now, detail=None, needs_card=True):
    """agent platform id → shop day → [hit, missed]; `detail` (a list) collects each settled wait."""
    out = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    by_buyer = defaultdict(list)
    for r in rows:
        by_buyer[r["buyer_id"]].append(r)
    for msgs in by_buyer.values():
        msgs.sort(key=lambda r: (r["sent_at"], r["sender"] != "buyer", r["message_id"]))
        convs, cur = [], []
        for r in msgs:
            if cur and (r["sent_at"] - cur[-1]["sent_at"]).total_seconds() > gap_min * 60:
                convs.append(cur)
                cur = []
            cur.append(r)
        convs.append(cur)
        for conv in convs:
            buyers = [r for r in conv if r["sender"] == "buyer"]
            if not buyers or (needs_card and not buyers[0]["order_id"]):
                continue  # no order card: a pre-sales conversation, no policy
            waits, open_wait, answered_once = [], None, False
            for r in conv:
                if r["sender"] == "agent":
                    if open_wait is not None:
                        open_wait["reply"] = r["sent_at"]
                        open_wait = None
                        answered_once = True
                elif r["sender"] == "buyer" and open_wait is None:
                    if not waits:
                        open_wait = {"start": r, "kind": "first"}
                    elif answered_once:
                        open_wait = {"start": r, "kind": "next"}
                    else:
                        continue
                    waits.append(open_wait)
            if open_wait is not None:  # answered in a later conversation, if ever
                later = [r for r in msgs if r["sender"] == "agent" and
                         (r["sent_at"], 1, r["message_id"]) > (open_wait["start"]["sent_at"], 0, "")]
                open_wait["reply"] = later[0]["sent_at"] if later else None
            for w in waits:
                start = w["start"]["sent_at"]
                # The policy counts service hours for both of its targets.
                due = due_by_bisection(start, (first_min if w["kind"] == "first" else next_min) * 60, hours)
                reply = w.get("reply")
                if reply is not None and reply <= due:
                    out[w["start"]["agent_id"]][reply.astimezone(TZ).date()][0] += 1
                elif reply is not None or now >= due:
                    out[w["start"]["agent_id"]][due.astimezone(TZ).date()][1] += 1
                if detail is not None:
                    detail.append((w["start"]["buyer_id"], start, reply, due))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kpi_sla_figures_equal_recompute(shop, seed):
    shop.service_hours = HOURS
    shop.save()
    for pid, (name, group) in AGENTS.items():
        person_create(shop=shop, name=name, roles=["agent"], group=group, platform_ids=[pid])
    p = S.policies_install_defaults(shop=shop)[0]
    S.policy_update(shop=shop, editor=None, policy_id=p.pk, data={"next_reply_minutes": 10})
    rows = generate(seed)
    rng = random.Random(seed)
    shuffled = rows[:]
    rng.shuffle(shuffled)  # messages arrive in any order, in several batches, with scans between
    now = at(MONDAY + dt.timedelta(days=6), "12:00")
    for i in range(0, len(shuffled), 37):
        batch = [{**r, "sent_at": r["sent_at"].isoformat()} for r in shuffled[i:i + 37]]
        messages_ingest(shop=shop, rows=messages_clean(batch, tz=shop.tz))
        S.sla_scan(shop=shop, now=now - dt.timedelta(hours=1))
    S.sla_scan(shop=shop, now=now)
    p = SlaPolicy.objects.get(pk=p.pk)
    want = recompute(rows, gap_min=shop.conversation_gap_minutes, first_min=p.first_reply_minutes,
                     next_min=p.next_reply_minutes, hours=ServiceHours(HOURS, TZ), now=now)
    assert sum(v[0] + v[1] for days in want.values() for v in days.values()) > 20  # the data exercises it
    names = {pid: name for pid, (name, _g) in AGENTS.items()}
    for day_from, day_to in [(MONDAY, MONDAY + dt.timedelta(days=7)), (MONDAY + dt.timedelta(days=1),) * 2,
                             (MONDAY + dt.timedelta(days=2), MONDAY + dt.timedelta(days=4))]:
        report = kpi_report(shop=shop, date_from=day_from, date_to=day_to, by="agent")
        got = {r["agent"]: (r["sla_hit"], r["sla_missed"], r["sla_clocks"]) for r in report["agents"]}
        total = [0, 0]
        for pid, days in want.items():
            hit = sum(v[0] for d, v in days.items() if day_from <= d <= day_to)
            missed = sum(v[1] for d, v in days.items() if day_from <= d <= day_to)
            total[0] += hit
            total[1] += missed
            assert got.get(names[pid], (0, 0, 0)) == (hit, missed, hit + missed), (seed, pid, day_from)
        shop_row = report["shop_totals"]
        assert (shop_row["sla_hit"], shop_row["sla_missed"]) == tuple(total)
        expected_rate = round(total[0] / sum(total), 6) if sum(total) else None
        assert shop_row["sla_hit_rate"] == expected_rate
        groups = kpi_report(shop=shop, date_from=day_from, date_to=day_to, by="group")["groups"]
        assert sum(g["sla_hit"] for g in groups) == total[0]
        assert sum(g["sla_missed"] for g in groups) == total[1]


def test_twitter_support_sla_equals_recompute(shop):
    """The real public twcs sample (brands as agents): a catch-all policy, checked the same way."""
    from tests.conftest import shared_data
    from tests.importers.test_real_data import twcs_messages

    msgs = twcs_messages(shared_data("twitter_customer_support_twcs_head5000", "twcs_head5000.csv"))
    rows = [{k: m[k] for k in ("message_id", "buyer_id", "agent_id", "sender", "sent_at", "text", "order_id")}
            for m in msgs]
    for i in range(0, len(rows), 1000):
        batch = [{**r, "sent_at": r["sent_at"].isoformat(), "channel": "twitter"} for r in rows[i:i + 1000]]
        messages_ingest(shop=shop, rows=messages_clean(batch, tz=shop.tz))
    S.policy_create(shop=shop, editor=None, data={"name": "推特", "channels": ["twitter"], "first_reply_minutes": 60,
                                                   "next_reply_minutes": 120})
    now = max(r["sent_at"] for r in rows) + dt.timedelta(days=1)
    S.sla_scan(shop=shop, now=now)
    want = recompute(rows, gap_min=shop.conversation_gap_minutes, first_min=60, next_min=120,
                     hours=ServiceHours({}, shop.tz), now=now, needs_card=False)
    ever = (dt.date(2000, 1, 1), dt.date(2030, 12, 31))
    report = kpi_report(shop=shop, date_from=ever[0], date_to=ever[1], by="agent")
    got = {r["agent"]: (r["sla_hit"], r["sla_missed"]) for r in report["agents"] if r["sla_clocks"]}
    expected = {pid: (sum(v[0] for v in days.values()), sum(v[1] for v in days.values())) for pid, days in want.items()}
    assert got == {k: v for k, v in expected.items() if sum(v)}
    assert sum(h + m for h, m in got.values()) > 500
