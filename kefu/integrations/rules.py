"""Automation rules (AUTO-2): shop-defined event → conditions → actions, run after the change
that caused the event has committed (see outbox.outbox_process).

A rule is data a manager edits: `conditions` are all required (`[{"field", "value", "not"}]`),
`actions` run in order (`[{"type", ...}]`). Rules of an event type run by position; a matching
rule with `stop` ends the run. A rule never runs on an event its own actions caused (the
event's `caused_by` chain), so rules cannot loop. Every firing is a RuleFiring row and a line on
the object's timeline (conversation note, order or case event).
"""

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kefu.conversations.models import Conversation, ConversationNote, Message
from kefu.core.enums import Role
from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop
from kefu.orders.enums import OrderStatus
from kefu.orders.models import Order

from .context import Ctx, contexts_for
from .events import RULE_CHAIN, event_types
from .models import AutomationRule, OutboxEvent, RuleFiring

log = logging.getLogger("kefu.rules")

# field → (label, kind of value): list = any of; range = {"min","max"}; hours = {"from","to"}
CONDITIONS = {
    "sender": (_("发送方"), "list"),
    "channel": (_("渠道"), "list"),
    "group": (_("接待组"), "list"),
    "keywords": (_("消息包含关键词"), "list"),
    "buyer_grade": (_("买家等级"), "list"),
    "buyer_tags": (_("买家标签"), "list"),
    "order_status": (_("订单状态"), "list"),
    "order_amount": (_("订单实付金额"), "range"),
    "time_of_day": (_("时间段（店铺时间）"), "hours"),
    "sla_state": (_("SLA 状态"), "list"),
}
ACTIONS = {
    "assign": _("分配/转接"),
    "add_tag": _("打标签"),
    "send_script": _("发送话术"),
    "create_followup": _("创建跟进"),
    "notify": pgettext_lazy("rule action", "通知"),
    "escalate": _("升级"),
    "set_priority": _("设置优先级"),
}
PRIORITIES = {"normal": 0, "high": 1, "urgent": 2}
NOTIFY_ROLES = (Role.SUPERVISOR, Role.MANAGER, Role.AGENT, Role.WAREHOUSE, Role.ADMIN)


# ---------------------------------------------------------------- validation

def _hhmm(v, field_name: str) -> str:
    try:
        return dt.time.fromisoformat(str(v)).strftime("%H:%M")
    except ValueError as exc:
        raise KefuError(f"{field_name}: a time like 22:00", field="conditions") from exc


def conditions_clean(raw) -> list[dict]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise KefuError("conditions must be a list", field="conditions", code="bad_rule")
    out = []
    for n, c in enumerate(raw, 1):
        if not isinstance(c, dict) or c.get("field") not in CONDITIONS:
            raise KefuError(f"condition {n}: field must be one of {', '.join(CONDITIONS)}", field="conditions",
                            code="bad_rule")
        kind, v = CONDITIONS[c["field"]][1], c.get("value")
        if kind == "list":
            items = [str(x).strip() for x in (v if isinstance(v, list) else str(v or "").replace("，", ",").split(","))]
            v = [x for x in items if x]
            if not v:
                raise KefuError(f"condition {n}: give at least one value", field="conditions", code="bad_rule")
        elif kind == "range":
            if not isinstance(v, dict):
                raise KefuError(f"condition {n}: value is {{\"min\", \"max\"}}", field="conditions", code="bad_rule")
            try:
                v = {k: str(Decimal(str(v[k]))) for k in ("min", "max") if v.get(k) not in (None, "")}
            except InvalidOperation as exc:
                raise KefuError(f"condition {n}: min and max are amounts", field="conditions", code="bad_rule") from exc
            if not v:
                raise KefuError(f"condition {n}: give min or max", field="conditions", code="bad_rule")
        else:
            if not isinstance(v, dict):
                raise KefuError(f"condition {n}: value is {{\"from\", \"to\"}}", field="conditions", code="bad_rule")
            v = {"from": _hhmm(v.get("from"), "from"), "to": _hhmm(v.get("to"), "to")}
        out.append({"field": c["field"], "value": v, "not": bool(c.get("not"))})
    return out


def actions_clean(raw, *, shop: Shop) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise KefuError("a rule needs at least one action", field="actions", code="bad_rule")
    out = []
    for n, a in enumerate(raw, 1):
        if not isinstance(a, dict) or a.get("type") not in ACTIONS:
            raise KefuError(f"action {n}: type must be one of {', '.join(ACTIONS)}", field="actions", code="bad_rule")
        t = a["type"]
        clean: dict = {"type": t}
        if t in ("assign", "notify"):
            if a.get("agent_id"):
                if not Agent.objects.filter(shop=shop, pk=a["agent_id"], active=True).exists():
                    raise KefuError(f"action {n}: no such person in this shop", field="actions", code="bad_rule")
                clean["agent_id"] = int(a["agent_id"])
            elif a.get("role") in NOTIFY_ROLES:
                clean["role"] = a["role"]
            else:
                raise KefuError(f"action {n}: name a person (agent_id) or a role", field="actions", code="bad_rule")
            if t == "notify":
                clean["text"] = str(a.get("text") or "")[:200]
        elif t == "add_tag":
            from kefu.customers.models import Tag

            clean["tag"] = str(a.get("tag") or "").strip()[:20]
            if not clean["tag"]:
                raise KefuError(f"action {n}: which tag", field="actions", code="bad_rule")
            if not Tag.objects.filter(shop=shop, name=clean["tag"]).exists():
                raise KefuError(f"action {n}: no tag {clean['tag']!r} in this shop (define it on the buyer tags page)",
                                field="actions", code="bad_rule")
        elif t == "send_script":
            from kefu.replies.models import Script

            if not Script.objects.filter(shop=shop, pk=a.get("script_id") or 0).exists():
                raise KefuError(f"action {n}: no such script in this shop", field="actions", code="bad_rule")
            clean["script_id"] = int(a["script_id"])
        elif t == "create_followup":
            clean["kind"] = a.get("kind") or "promised_answer"
            if clean["kind"] not in ("lead", "promised_answer"):
                raise KefuError(f"action {n}: kind is lead or promised_answer", field="actions", code="bad_rule")
            clean["due_hours"] = max(1, min(24, int(a.get("due_hours") or 4)))
            clean["note"] = str(a.get("note") or "")[:200]
        elif t == "set_priority":
            if a.get("priority") not in PRIORITIES:
                raise KefuError(f"action {n}: priority is {', '.join(PRIORITIES)}", field="actions", code="bad_rule")
            clean["priority"] = a["priority"]
        elif t == "escalate":
            clean["note"] = str(a.get("note") or "")[:200]
        out.append(clean)
    return out


def _holds(c: dict, ctx: Ctx) -> bool:
    """One condition on one event; reads only what the condition needs (context.NEEDS)."""
    f, v = c["field"], c["value"]
    if f == "sender":
        got = ctx.message is not None and ctx.message.sender in v
    elif f == "channel":
        got = (ctx.message.channel if ctx.message else (ctx.data.get("channel") or "")) in v
    elif f == "group":
        got = ctx.conversation is not None and ctx.conversation.group in v
    elif f == "keywords":
        text = ctx.message.text if ctx.message is not None else str(ctx.data.get("text") or "")
        got = any(k in text for k in v)
    elif f == "buyer_grade":
        got = ctx.grade() in v
    elif f == "buyer_tags":
        got = bool(ctx.tags() & set(v))
    elif f == "order_status":
        got = ctx.order is not None and ctx.order.status in v
    elif f == "order_amount":
        amount = ctx.order.paid_amount if ctx.order is not None else None
        got = amount is not None and ("min" not in v or amount >= Decimal(v["min"])) \
            and ("max" not in v or amount <= Decimal(v["max"]))
    elif f == "time_of_day":
        t = timezone.localtime(ctx.at, ctx.shop.tz).strftime("%H:%M")
        start, end = v["from"], v["to"]
        got = start <= t < end if start <= end else (t >= start or t < end)  # 22:00–08:00 wraps midnight
    elif f == "sla_state":
        got = bool(ctx.sla_states() & set(v))
    else:  # pragma: no cover - conditions_clean refuses unknown fields
        got = False
    return got != c.get("not", False)


def conditions_hold(conditions: list[dict], ctx: Ctx) -> bool:
    return all(_holds(c, ctx) for c in conditions)


# ---------------------------------------------------------------- actions

def _people(shop: Shop, a: dict, ctx: Ctx) -> list[Agent]:
    if a.get("agent_id"):
        return list(Agent.objects.filter(shop=shop, pk=a["agent_id"], active=True))
    people = [p for p in Agent.objects.filter(shop=shop, active=True) if p.has_role(a["role"])]
    group = ctx.conversation.group if ctx.conversation is not None else ""
    same = [p for p in people if group and p.group == group]
    return same or people


def _pick(shop: Shop, people: list[Agent]) -> Agent | None:
    """The one with the fewest open conversations (ties: lowest id)."""
    if not people:
        return None
    from django.db.models import Count

    load = dict(Conversation.objects.filter(shop=shop, assignee__in=people, closed_at__isnull=True)
                .values("assignee").annotate(n=Count("id")).values_list("assignee", "n"))
    return min(people, key=lambda p: (load.get(p.pk, 0), p.pk))


def _act(rule: AutomationRule, a: dict, ctx: Ctx) -> str:
    """Run one action; returns what it did (for the firing log). Raises KefuError when it cannot."""
    from kefu.approvals.services import notify

    shop, conv = ctx.shop, ctx.conversation
    why = f"规则「{rule.name}」"
    t = a["type"]
    if t == "assign":
        if conv is None:
            raise KefuError("no conversation to assign")
        to = _pick(shop, _people(shop, a, ctx))
        if to is None:
            raise KefuError("nobody active with that role")
        if (conv.assignee_id or conv.agent_id) == to.pk:
            return f"已由 {to.name} 负责"
        from kefu.conversations.services import conversation_transfer

        ctx.conversation = conversation_transfer(shop=shop, conversation=conv, to_agent=to, by=None, reason=why)
        return f"转给 {to.name}"
    if t == "notify":
        people = _people(shop, a, ctx)
        if not people:
            raise KefuError("nobody to notify")
        buyer = ctx.customer.nick or ctx.customer.buyer_id if ctx.customer else ""
        text = a.get("text") or f"{why}：{buyer} {ctx.data.get('text', '')}".strip()
        link = f"/conversations/{conv.pk}/" if conv is not None else (f"/orders/{ctx.order.order_id}/" if ctx.order else "")
        notify(shop=shop, recipients=people, text=text, link=link)
        return "通知 " + "、".join(p.name for p in people[:5]) + ("…" if len(people) > 5 else "")
    if t == "escalate":
        people = [p for p in Agent.objects.filter(shop=shop, active=True) if p.has_role(Role.SUPERVISOR, Role.MANAGER)]
        if conv is not None and conv.priority < PRIORITIES["urgent"]:
            Conversation.objects.filter(pk=conv.pk).update(priority=PRIORITIES["urgent"])
            conv.priority = PRIORITIES["urgent"]
        link = f"/conversations/{conv.pk}/" if conv is not None else ""
        notify(shop=shop, recipients=people, text=f"{why}升级：{a.get('note') or ctx.data.get('text', '')}"[:300],
               link=link)
        return f"升级为紧急，通知 {len(people)} 位主管/经理"
    if t == "set_priority":
        if conv is None:
            raise KefuError("no conversation")
        Conversation.objects.filter(pk=conv.pk).update(priority=PRIORITIES[a["priority"]])
        conv.priority = PRIORITIES[a["priority"]]
        return f"优先级 {a['priority']}"
    if t == "add_tag":
        if ctx.customer is None:
            raise KefuError("no buyer")
        from kefu.customers.services import customer_tag_add

        added = customer_tag_add(shop=shop, customer=ctx.customer, tag=a["tag"], actor=None)
        return f"标签 {a['tag']}" + ("" if added else "（已有）")
    if t == "send_script":
        if conv is None:
            raise KefuError("no conversation to reply in")
        from kefu.replies.models import Script
        from kefu.replies.selectors import script_context
        from kefu.replies.services import script_fill
        from kefu.replies.variables import TOKEN

        script = Script.objects.get(shop=shop, pk=a["script_id"])
        text = script_fill(script_body=script.body, values=script_context(shop=shop, conversation=conv, order=ctx.order))
        if TOKEN.search(text):
            raise KefuError(f"话术「{script.title}」有未填的变量，未发送")
        from kefu.conversations.services import conversation_reply

        conversation_reply(shop=shop, conversation=conv, by=None, text=text, key=f"rule{rule.pk}:{ctx.event_id}")
        return f"发送话术「{script.title}」"
    if t == "create_followup":
        if ctx.customer is None:
            raise KefuError("no buyer")
        owner = (conv.assignee if conv is not None and conv.assignee_id else None) or _pick(
            shop, _people(shop, {"role": Role.SUPERVISOR}, ctx))
        from kefu.followups.services import followup_create

        now = timezone.now()
        fu = followup_create(shop=shop, kind=a["kind"], customer=ctx.customer, owner=owner, actor=None,
                             note=a.get("note") or why, reason=None if a["kind"] != "lead" else "other",
                             due_at=now + dt.timedelta(hours=a["due_hours"]), now=now)
        return f"跟进 #{fu.pk} 给 {owner.name}"
    raise KefuError(f"unknown action {t}")  # pragma: no cover


def _timeline(ctx: Ctx, rule: AutomationRule, summary: str) -> None:
    text = f"自动化规则「{rule.name}」：{summary}"[:500]
    if ctx.case is not None:
        from kefu.aftersales.models import CaseEvent

        CaseEvent.objects.create(shop=ctx.shop, case=ctx.case, from_state="", to_state=ctx.case.state,
                                 action="rule", note=text)
    elif ctx.conversation is not None:
        ConversationNote.objects.create(shop=ctx.shop, conversation=ctx.conversation, author=None,
                                        author_label=f"规则：{rule.name}"[:120], text=text, created_at=timezone.now())
    elif ctx.order is not None:
        from kefu.orders.enums import OrderEventKind
        from kefu.orders.models import OrderEvent

        OrderEvent.objects.create(shop=ctx.shop, order=ctx.order, kind=OrderEventKind.ORDER, action="rule", note=text)


def rule_fire(rule: AutomationRule, ctx: Ctx, chain: tuple[int, ...]) -> RuleFiring:
    """Run the rule's actions in order, each in its own savepoint: one that cannot act is
    recorded and the others still run. Events the actions cause carry the chain."""
    results = []
    token = RULE_CHAIN.set((*chain, rule.pk))
    try:
        for a in rule.actions:
            try:
                with transaction.atomic():
                    results.append({"action": a["type"], "ok": True, "note": _act(rule, a, ctx)})
            except KefuError as exc:
                results.append({"action": a["type"], "ok": False, "note": exc.message})
            except Exception as exc:  # a broken action must not undo the others or the change
                log.exception("rule %s action %s failed", rule.pk, a.get("type"))
                results.append({"action": a["type"], "ok": False, "note": f"{type(exc).__name__}"})
    finally:
        RULE_CHAIN.reset(token)
    kind, pk = ctx.subject
    summary = "；".join(r["note"] if r["ok"] else f"{ACTIONS[r['action']]}未执行（{r['note']}）" for r in results)
    _timeline(ctx, rule, summary)
    return RuleFiring.objects.create(shop=ctx.shop, rule=rule, event_type=ctx.type, event_id=ctx.event_id,
                                     subject=kind, subject_id=pk, results=results)


def rules_load(*, shop_id: int, types) -> dict[str, list[AutomationRule]]:
    """The shop's active rules of these event types, in order (one query)."""
    out: dict[str, list[AutomationRule]] = {}
    for r in AutomationRule.objects.filter(shop_id=shop_id, event_type__in=set(types), active=True):
        out.setdefault(r.event_type, []).append(r)
    return out


def rules_for_events(*, shop: Shop, events: list[OutboxEvent], rules: dict[str, list[AutomationRule]] | None = None,
                     on_error=None) -> dict[int, list[RuleFiring]]:
    """Run the shop's rules on recorded events (the caller holds their claims): the rules are
    loaded once, the conditions read a context prefetched for all the events together, and each
    event's firings run in a savepoint of their own. An event whose rules raise is left out of the
    answer (on_error(event, exc) is told) so its claim can be given back. Returns event pk → firings."""
    if rules is None:
        rules = rules_load(shop_id=shop.pk, types={e.type for e in events})
    todo = []
    for e in events:
        chain = tuple(e.caused_by or ())
        mine = [r for r in rules.get(e.type, ()) if r.pk not in chain]
        todo.append((e, chain, mine))
    wanted = [(e, chain, mine) for e, chain, mine in todo if mine]
    ctxs = contexts_for(shop=shop, items=[
        {"type": e.type, "subject": e.subject, "subject_id": e.subject_id, "data": e.data, "at": e.created_at,
         "event_id": e.event_id} for e, _c, _m in wanted], conditions_lists=[r.conditions for _e, _c, m in wanted for r in m])
    out = {e.pk: [] for e, _c, mine in todo if not mine}
    # what the actions use (conversation, buyer, order), fetched at once for the events a rule matches
    first = []
    for (_e, _c, mine), ctx in zip(wanted, ctxs, strict=True):
        try:
            if any(conditions_hold(r.conditions, ctx) for r in mine):
                first.append(ctx)
        except Exception:  # (met again below, where it is reported)
            continue
    if first:
        first[0].loader.prefetch(first, {"conversation", "order"})
    for (e, chain, mine), ctx in zip(wanted, ctxs, strict=True):
        try:
            with transaction.atomic():
                fired = []
                for rule in mine:
                    if not conditions_hold(rule.conditions, ctx):
                        continue
                    fired.append(rule_fire(rule, ctx, chain))
                    ctx.changed()  # the next rules read what this one's actions did
                    if rule.stop:
                        break
            out[e.pk] = fired
        except Exception as exc:
            if on_error is None:
                raise
            on_error(e, exc)
    return out


# ---------------------------------------------------------------- rules as data (managers)

def rule_save(*, shop: Shop, actor: Agent | None, name: str, event_type: str, conditions, actions,
              stop: bool = False, active: bool = True, position: int | None = None,
              rule: AutomationRule | None = None) -> AutomationRule:
    from kefu.core.access import user_of
    from kefu.core.services import audit_record

    from .webhooks import _manager_only

    _manager_only(actor)
    name = (name or "").strip()[:60]
    if not name:
        raise KefuError("a name is needed", field="name")
    if event_type not in event_types():
        raise KefuError(f"unknown event {event_type!r}", field="event_type", code="bad_rule")
    conds, acts = conditions_clean(conditions), actions_clean(actions, shop=shop)
    with transaction.atomic():
        if rule is None:
            last = AutomationRule.objects.filter(shop=shop).order_by("-position").first()
            rule = AutomationRule(shop=shop, position=(last.position + 10) if last else 10)
            before = None
        else:
            rule = AutomationRule.objects.select_for_update().get(shop=shop, pk=rule.pk)
            before = rule_dict(rule)
        rule.name, rule.event_type, rule.conditions, rule.actions = name, event_type, conds, acts
        rule.stop, rule.active, rule.updated_by = bool(stop), bool(active), actor
        if position is not None:
            rule.position = max(0, int(position))
        rule.save()
        audit_record(shop=shop, actor=user_of(actor), action="rule.save", entity=rule, before=before,
                     after=rule_dict(rule))
    return rule


def rule_delete(*, shop: Shop, actor: Agent | None, rule: AutomationRule) -> None:
    from kefu.core.access import user_of
    from kefu.core.services import audit_record

    from .webhooks import _manager_only

    _manager_only(actor)
    audit_record(shop=shop, actor=user_of(actor), action="rule.delete", entity=rule, before=rule_dict(rule))
    rule.delete()


def rule_dict(r: AutomationRule) -> dict:
    return {"id": r.pk, "name": r.name, "event_type": r.event_type, "conditions": r.conditions, "actions": r.actions,
            "position": r.position, "stop": r.stop, "active": r.active}


# ---------------------------------------------------------------- dry run

def rule_dry_run(*, shop: Shop, event_type: str, conditions, days: int = 30, limit: int = 50,
                 now: dt.datetime | None = None) -> dict:
    """Which past events of the last `days` the conditions would have matched (no action runs).

    Past events are read from what Kefu stores: buyer and agent messages, orders, case steps,
    conversation assignments, tracking events; other types from the outbox's recorded events.
    """
    if event_type not in event_types():
        raise KefuError(f"unknown event {event_type!r}", field="event_type", code="bad_rule")
    conds = conditions_clean(conditions)
    now = now or timezone.now()
    since = now - dt.timedelta(days=max(1, min(int(days), 90)))
    scanned, matches = 0, []
    past = list(_past(shop, event_type, since))
    for i in range(0, len(past), 500):  # contexts prefetched 500 past events at a time
        chunk = past[i : i + 500]
        ctxs = contexts_for(shop=shop, items=[
            {"type": event_type, "subject": subject, "subject_id": subject_id, "data": data, "at": at}
            for subject, subject_id, data, at, _label in chunk], conditions_lists=[conds],
            also={"conversation"} if event_type == "message.created" else set(), rebuild=False)
        for (subject, subject_id, _d, _at, label), ctx in zip(chunk, ctxs, strict=True):
            scanned += 1
            if conditions_hold(conds, ctx):
                if subject == "conversation" and subject_id is None and ctx.conversation is not None:
                    subject_id = ctx.conversation.pk  # a past message: the conversation it fell in
                matches.append({"at": ctx.at, "subject": subject, "subject_id": subject_id, "label": label,
                                "buyer": (ctx.customer.nick or ctx.customer.buyer_id) if ctx.customer else ""})
                if len(matches) >= limit:
                    break
        if len(matches) >= limit:
            break
    return {"scanned": scanned, "matched": len(matches), "matches": matches, "since": since, "limit": limit}


SCAN_MAX = 2000


def _past(shop: Shop, event_type: str, since: dt.datetime):
    """(subject, subject_id, data, at, label) of past events, newest first, at most SCAN_MAX."""
    if event_type == "message.created":
        msgs = (Message.objects.filter(shop=shop, sent_at__gte=since).select_related("customer")
                .order_by("-sent_at", "-id")[:SCAN_MAX])
        for m in msgs:  # (its conversation: found for the whole chunk at once, see rule_dry_run)
            yield ("conversation", None,
                   {"message_id": m.message_id, "buyer_id": m.customer.buyer_id, "text": m.text, "channel": m.channel},
                   m.sent_at, m.text[:60])
    elif event_type in ("order.created", "order.updated"):
        for o in Order.objects.filter(shop=shop, created_at__gte=since).order_by("-created_at", "-id")[:SCAN_MAX]:
            yield "order", o.pk, {"order_id": o.order_id}, o.created_at, f"{o.order_id} {OrderStatus(o.status).label}"
    elif event_type == "case.transitioned":
        from kefu.aftersales.models import CaseEvent

        for e in CaseEvent.objects.filter(shop=shop, created_at__gte=since, action="").order_by("-id")[:SCAN_MAX]:
            yield "case", e.case_id, {"to_state": e.to_state}, e.created_at, f"#{e.case_id} → {e.to_state}"
    elif event_type == "conversation.assigned":
        from kefu.conversations.models import ConversationEvent

        for e in (ConversationEvent.objects.filter(shop=shop, at__gte=since, kind__in=ASSIGN_KINDS)
                  .order_by("-at", "-id")[:SCAN_MAX]):
            yield "conversation", e.conversation_id, {}, e.at, f"{e.get_kind_display()} {e.by_label}"
    elif event_type == "tracking.updated":
        from .models import TrackingEvent

        for t in TrackingEvent.objects.filter(shop=shop, at__gte=since).order_by("-at", "-id")[:SCAN_MAX]:
            yield ("order", t.order_id, {"tracking_no": t.tracking_no, "text": t.context}, t.at,
                   f"{t.tracking_no} {t.get_state_display()}")
    else:
        for e in OutboxEvent.objects.filter(shop=shop, type=event_type, created_at__gte=since).order_by("-id")[:SCAN_MAX]:
            yield e.subject, e.subject_id, e.data, e.created_at, e.type


ASSIGN_KINDS = ("routed", "sticky", "handed_out", "assigned", "transferred")
