"""Helpers for metric tests: ingest rows through the real services, compare kpi_report with the oracle."""

import datetime as dt
import math
from decimal import Decimal

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.models import Agent
from kefu.metrics.audit import rollup_differences
from kefu.metrics.kpi import kpi_report
from kefu.metrics.queue import facts_drain, facts_lag
from kefu.orders.services import orders_clean, orders_upsert

from . import oracle as O

# Figures reported by kpi_report for an agent row (besides name, id, group, score, rank).
FIGURES = (
    "receptions", "replied_receptions", "reply_rate", "first_response_seconds",
    "first_response_seconds_median", "first_response_business_seconds", "response_seconds",
    "response_seconds_median", "response_business_seconds", "response_business_seconds_median",
    "answered_turns", "unanswered_turns", "slow_turns", "inquiries", "inquiries_paid_same_day",
    "inquiries_paid_next_day", "inquiries_paid", "conversion_rate", "orders", "sales", "net_sales",
    "paying_buyers", "avg_order_value", "refunds", "refund_rate",
)


def iso(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def message_row(m: dict) -> dict:
    """Oracle message dict → API/import row."""
    return {
        "message_id": m["message_id"], "channel": "qianniu", "buyer_id": m["buyer_id"],
        "agent_id": m["agent_id"] or "", "sender": m["sender"], "sent_at": iso(m["sent_at"]),
        "text": m.get("text", "在吗"), "order_id": m.get("order_id") or "",
    }


def order_row(o: dict) -> dict:
    return {
        "order_id": o["order_id"], "buyer_id": o["buyer_id"], "created_at": iso(o["created_at"]),
        "paid_at": iso(o["paid_at"]), "closed_at": iso(o.get("closed_at")),
        "refunded_at": iso(o.get("refunded_at")), "total_amount": str(o["paid_amount"]),
        "paid_amount": str(o["paid_amount"]), "refund_amount": str(o.get("refund_amount", Decimal(0))),
    }


def send_messages(shop, msgs: list[dict]):
    return messages_ingest(shop=shop, rows=messages_clean([message_row(m) for m in msgs], tz=shop.tz))


def send_orders(shop, orders: list[dict]):
    return orders_upsert(shop=shop, rows=orders_clean([order_row(o) for o in orders], tz=shop.tz))


def config_of(shop) -> O.Config:
    shop.refresh_from_db()
    return O.Config(
        tz=shop.tz, window_days=shop.attribution_window_days, basis=shop.attribution_basis,
        slow_seconds=shop.slow_turn_seconds, lookback_days=shop.aftersales_lookback_days,
        takeback_days=shop.takeback_days, hours=shop.service_hours or None,
    )


def report_by_agent(shop, date_from: dt.date, date_to: dt.date) -> tuple[dict, dict]:
    """kpi_report(by="agent") as {agent name: figures} and the shop totals."""
    rep = kpi_report(shop=shop, date_from=date_from, date_to=date_to, by="agent")
    agents = {r["agent"]: {k: r[k] for k in FIGURES} for r in rep["agents"]}
    return agents, rep["shop_totals"]


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-6)
    return a == b


def _close_median(have, want) -> bool:
    """Medians are exact while the middle values are below 10 minutes, else at most 1 % low
    (kefu.metrics.facts.hist_key); below 10 minutes all round, exact."""
    if have is None or want is None:
        return have is want
    if want < 300:  # both middle values are then below 10 minutes
        return math.isclose(have, want, abs_tol=1e-6)
    return want * 0.99 - 1e-6 <= have <= want + 1e-6


def diff(have: dict, want: dict, prefix="") -> list[str]:
    out = []
    for k in sorted(set(have) | set(want), key=str):
        if k not in have:
            out.append(f"{prefix}{k}: missing from the report (oracle {want[k]!r})")
        elif k not in want:
            out.append(f"{prefix}{k}: not expected (report {have[k]!r})")
        elif isinstance(have[k], dict) and isinstance(want[k], dict):
            out += diff(have[k], want[k], f"{prefix}{k}.")
        elif k.endswith("_median") and _close_median(have[k], want[k]):
            continue
        elif not _same(have[k], want[k]):
            out.append(f"{prefix}{k}: report {have[k]!r} != oracle {want[k]!r}")
    return out


def drained(shop) -> None:
    """The figures once the deferred rebuild caught up (kefu.metrics.queue): a no-op when the test
    rebuilds inline."""
    facts_drain(shop=shop)
    assert facts_lag(shop=shop) == 0


def assert_matches_oracle(shop, messages, orders, date_from, date_to, spam=(), groups=False):
    """The report by agent (and its shop totals) equals the oracle; with `groups`, the report by
    group too, each agent counted in its present group."""
    drained(shop)
    cfg = config_of(shop)
    group_of = dict(Agent.objects.filter(shop=shop).values_list("name", "group")) if groups else None
    want = O.report(messages, orders, cfg, date_from, date_to, spam, group_of)
    agents, totals = report_by_agent(shop, date_from, date_to)
    shop_want = want["shop"]
    shop_have = {k: totals[k] for k in shop_want}
    problems = diff(agents, want["agents"]) + diff(shop_have, shop_want, "shop.")
    if groups:
        rep = kpi_report(shop=shop, date_from=date_from, date_to=date_to, by="group")
        have = {r["group"]: {k: r[k] for k in FIGURES} for r in rep["groups"]}
        problems += diff(have, want["groups"], "group.")
    assert not problems, f"{date_from}..{date_to}:\n" + "\n".join(problems)
    return agents, totals


def assert_rollup_clean(shop):
    drained(shop)
    assert rollup_differences(shop=shop) == []
