"""Writes of customer care: the shop's care settings, revisit plans (CRM-2), the daily revisit lists,
recording a revisit's outcome as a phone note, and handing revisits to another owner."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from kefu.approvals.services import notify
from kefu.core.access import sees_whole_shop, user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import shop_day
from kefu.customers.enums import NoteKind
from kefu.customers.services import customer_note_add

from .enums import CareErrorCode, RevisitOutcome, RevisitState
from .models import CareSettings, Revisit, RevisitPlan
from .segments import segment_clean, segment_customers
from .selectors import care_settings, is_care_staff

QUESTIONS_MAX = 10
SETTINGS_LIMITS = {"cap_count": (1, 100), "cap_days": (1, 365), "reply_window_days": (1, 30),
                   "repeat_min_orders": (2, 100), "silent_min_days": (1, 3650), "review_watch_days": (1, 3650)}


def care_staff_only(actor: Agent | None, what: str) -> None:
    if not is_care_staff(actor):
        raise PermissionDenied("care owners (专属客服), supervisors and managers only", field=what)


# ---------------------------------------------------------------- settings

def care_settings_update(*, shop: Shop, actor: Agent | None, owner_ids: list[int] | None = None,
                         **changes) -> CareSettings:
    """Change the care settings (supervisors and up): the care owners, the frequency cap, the reply
    window and the churn rules."""
    if actor is not None and not sees_whole_shop(actor):
        raise PermissionDenied("supervisors, managers and admins change the care settings", field="settings")
    unknown = set(changes) - set(SETTINGS_LIMITS) - {"silent_factor"}
    if unknown:
        raise KefuError(f"unknown setting {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    clean = {}
    for k, v in changes.items():
        if k == "silent_factor":
            try:
                d = Decimal(str(v)).quantize(Decimal("0.01"))
            except InvalidOperation as exc:
                raise KefuError("a number like 1.5", field=k) from exc
            if not Decimal("1") <= d <= Decimal("10"):
                raise KefuError("1–10", field=k)
            clean[k] = d
            continue
        lo, hi = SETTINGS_LIMITS[k]
        try:
            n = int(str(v))
        except ValueError as exc:
            raise KefuError("a whole number", field=k) from exc
        if not lo <= n <= hi:
            raise KefuError(f"{lo}–{hi}", field=k)
        clean[k] = n
    with transaction.atomic():
        s = care_settings(shop)
        s = CareSettings.objects.select_for_update().get(pk=s.pk)
        before = {k: str(getattr(s, k)) for k in clean}
        for k, v in clean.items():
            setattr(s, k, v)
        s.save()
        after = {k: str(v) for k, v in clean.items()}
        if owner_ids is not None:
            owners = list(Agent.objects.filter(shop=shop, pk__in=owner_ids, active=True))
            if len(owners) != len(set(owner_ids)):
                raise NotFound("no such person in this shop", field="owner_ids")
            before["owners"] = sorted(s.owners.values_list("name", flat=True))
            s.owners.set(owners)
            after["owners"] = sorted(a.name for a in owners)
        audit_record(shop=shop, actor=user_of(actor), action="care.settings", entity=s, before=before, after=after)
    return s


# ---------------------------------------------------------------- plans

def _questions(raw) -> list[str]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = [q for q in raw.splitlines()]
    if not isinstance(raw, list):
        raise KefuError("a list of questions", field="questions")
    out = [clean_text(q, field=f"questions.{i}", max_len=100) for i, q in enumerate(raw)]
    out = [q for q in out if q]
    if len(out) > QUESTIONS_MAX:
        raise KefuError(f"at most {QUESTIONS_MAX} questions", field="questions")
    if len(set(out)) != len(out):
        raise KefuError("a question appears twice", field="questions")
    return out


def _int(v, field: str, lo: int, hi: int) -> int:
    try:
        n = int(str(v))
    except ValueError as exc:
        raise KefuError("a whole number", field=field) from exc
    if not lo <= n <= hi:
        raise KefuError(f"{lo}–{hi}", field=field)
    return n


def revisit_plan_save(*, shop: Shop, actor: Agent | None, plan_id: int | None = None, **data) -> RevisitPlan:
    """Create or change a revisit plan (seed 001: the dedicated agent plans the calls): who is in it
    (segment), how often each buyer is called (cadence), what to ask, who calls."""
    care_staff_only(actor, "plan")
    allowed = {"name", "segment", "cadence_days", "questions", "assignee_ids", "per_owner_daily", "active"}
    unknown = set(data) - allowed
    if unknown:
        raise KefuError(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    with transaction.atomic():
        plan = None
        if plan_id is not None:
            plan = RevisitPlan.objects.select_for_update().filter(shop=shop, pk=plan_id).first()
            if plan is None:
                raise NotFound("plan not found", field="plan_id")
        fields: dict = {}
        if "name" in data or plan is None:
            fields["name"] = clean_text(data.get("name"), field="name", max_len=80, required=True)
        if "segment" in data:
            fields["segment"] = segment_clean(shop=shop, raw=data["segment"])
        if "cadence_days" in data:
            fields["cadence_days"] = _int(data["cadence_days"], "cadence_days", 1, 365)
        if "per_owner_daily" in data:
            fields["per_owner_daily"] = _int(data["per_owner_daily"], "per_owner_daily", 1, 500)
        if "questions" in data:
            fields["questions"] = _questions(data["questions"])
        if "active" in data:
            if not isinstance(data["active"], bool):
                raise KefuError("true or false", field="active")
            fields["active"] = data["active"]
        assignees = None
        if "assignee_ids" in data or plan is None:
            ids = data.get("assignee_ids") or []
            assignees = list(Agent.objects.filter(shop=shop, pk__in=ids, active=True))
            if not assignees:
                raise KefuError("choose who calls the buyers", field="assignee_ids")
            if len(assignees) != len(set(ids)):
                raise NotFound("no such person in this shop", field="assignee_ids")
        if plan is None:
            plan = RevisitPlan.objects.create(shop=shop, created_by=actor, **fields)
        else:
            for k, v in fields.items():
                setattr(plan, k, v)
            plan.save()
        if assignees is not None:
            plan.assignees.set(assignees)
        audit_record(shop=shop, actor=user_of(actor), action="revisit_plan.save", entity=plan,
                     after={k: v if isinstance(v, list | dict | bool | int) else str(v) for k, v in fields.items()}
                     | ({"assignees": [a.name for a in assignees]} if assignees is not None else {}))
    return plan


# ---------------------------------------------------------------- the daily lists

def _last_agents(shop: Shop, customer_ids: list[int]) -> dict[int, int]:
    """customer → the agent of their latest conversation (their 专属客服 in practice)."""
    from kefu.conversations.models import Conversation

    latest = Conversation.objects.filter(customer=OuterRef("customer_id"), agent__isnull=False).order_by(
        "-started_at", "-id").values("agent_id")[:1]
    rows = (Conversation.objects.filter(shop=shop, customer_id__in=customer_ids).values("customer_id")
            .annotate(a=Subquery(latest)).values_list("customer_id", "a").distinct())
    return {c: a for c, a in rows if a}


def revisits_generate(*, shop: Shop, now: dt.datetime | None = None, plan_id: int | None = None) -> int:
    """Put today's due buyers of every active plan into their owners' revisit lists: buyers of the
    segment with no open revisit of the plan and none due within the plan's cadence, longest
    without a call first; the buyer's own agent when they call for the plan, else the least loaded;
    at most `per_owner_daily` new calls per owner and day. Idempotent for a day."""
    now = now or timezone.now()
    today = shop_day(now, shop.tz)
    created_by_owner: dict[int, int] = defaultdict(int)
    plans = RevisitPlan.objects.filter(shop=shop, active=True)
    if plan_id is not None:
        plans = plans.filter(pk=plan_id)
    for plan_ref in plans.order_by("id"):
        with transaction.atomic():
            plan = RevisitPlan.objects.select_for_update().get(pk=plan_ref.pk)
            owners = [a for a in plan.assignees.all() if a.active]
            if not owners:
                continue
            taken = dict(Revisit.objects.filter(plan=plan, due_on=today).values_list("owner_id").annotate(
                n=Count("id")).order_by())
            room = {a.pk: max(0, plan.per_owner_daily - taken.get(a.pk, 0)) for a in owners}
            capacity = sum(room.values())
            if capacity == 0:
                continue
            recent = today - dt.timedelta(days=plan.cadence_days)
            busy = Revisit.objects.filter(plan=plan, customer=OuterRef("pk")).filter(
                Q(state=RevisitState.OPEN) | Q(due_on__gt=recent))
            last = Revisit.objects.filter(plan=plan, customer=OuterRef("pk")).values("customer").annotate(
                d=Max("due_on")).values("d")
            # Longest without a call first; a few more than the room so each owner can get their own.
            ids = list(segment_customers(shop=shop, segment=plan.segment, now=now)
                       .exclude(Exists(busy)).annotate(last_call=Subquery(last))
                       .order_by(F("last_call").asc(nulls_first=True), "pk").values_list("pk", flat=True)
                       [:capacity * 3])
            mine = _last_agents(shop, ids)
            load = dict(Revisit.objects.filter(shop=shop, owner__in=owners, state=RevisitState.OPEN)
                        .values_list("owner_id").annotate(n=Count("id")).order_by())
            chosen: dict[int, int] = {}
            for cid in ids:  # first the buyers whose own agent calls for the plan and has room
                own = mine.get(cid)
                if own in room and room[own] > 0:
                    chosen[cid] = own
                    room[own] -= 1
            for cid in ids:  # then the others, to whoever has the fewest open revisits
                free = [a.pk for a in owners if room[a.pk] > 0]
                if not free:
                    break
                if cid in chosen:
                    continue
                owner = min(free, key=lambda a: (load.get(a, 0), a))
                chosen[cid] = owner
                room[owner] -= 1
                load[owner] = load.get(owner, 0) + 1
            new = [Revisit(shop=shop, plan=plan, customer_id=cid, owner_id=owner, due_on=today)
                   for cid, owner in chosen.items()]
            Revisit.objects.bulk_create(new, ignore_conflicts=True)
            for r in new:
                created_by_owner[r.owner_id] += 1
    for owner_id, n in created_by_owner.items():
        with override(settings.LANGUAGE_CODE):  # stored text: in the shop's language
            text = _("今天有 %(n)s 位买家待回访") % {"n": n}
        notify(shop=shop, recipients=[owner_id], text=text, link=reverse("care:revisits"))
    return sum(created_by_owner.values())


# ---------------------------------------------------------------- one call

def _answers(plan: RevisitPlan, raw) -> dict:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise KefuError("an object of question → answer", field="answers")
    out = {}
    for q, a in raw.items():
        if q not in plan.questions:
            raise KefuError(f"not a question of the plan: {q!r}", field="answers")
        a = clean_text(a, field=f"answers.{q}", max_len=300)
        if a:
            out[q] = a
    return out


def revisit_record(*, shop: Shop, revisit_id: int, actor: Agent | None, outcome: str, answers=None,
                   note: str = "", now: dt.datetime | None = None) -> Revisit:
    """The owner records the call: its outcome, the answers to the plan's questions and a note. The
    call is a phone note (电话记录) on the buyer's timeline. Recorded once."""
    if outcome not in RevisitOutcome.values:
        raise KefuError(f"one of {', '.join(RevisitOutcome.values)}", field="outcome")
    note = clean_text(note, field="note", max_len=500)
    now = now or timezone.now()
    with transaction.atomic():
        r = Revisit.objects.select_for_update().filter(shop=shop, pk=revisit_id).first()
        if r is None:
            raise NotFound("revisit not found", field="revisit_id")
        if actor is not None and actor.pk != r.owner_id and not is_care_staff(actor):
            raise PermissionDenied("only the owner records this revisit", field="revisit_id",
                                   code=CareErrorCode.NOT_OWNER)
        if r.state != RevisitState.OPEN:
            raise KefuError(f"this revisit is {r.state}", field="state", code=CareErrorCode.ALREADY_DONE)
        plan = r.plan
        answers = _answers(plan, answers)
        with override(settings.LANGUAGE_CODE):  # the phone note is stored text
            lines = [_("回访（%(plan)s）：%(outcome)s") % {"plan": plan.name,
                                                      "outcome": RevisitOutcome(outcome).label}]
        lines += [f"{q}：{a}" for q, a in answers.items()]
        if note:
            lines.append(note)
        phone_note = customer_note_add(shop=shop, customer=r.customer, text="\n".join(lines)[:1000],
                                       kind=NoteKind.PHONE, actor=actor)
        r.state, r.outcome, r.answers, r.note = RevisitState.DONE, outcome, answers, phone_note
        r.done_at, r.done_by = now, actor
        r.save(update_fields=["state", "outcome", "answers", "note", "done_at", "done_by"])
    return r


def revisit_cancel(*, shop: Shop, revisit_id: int, actor: Agent | None) -> Revisit:
    care_staff_only(actor, "revisit_id")
    with transaction.atomic():
        r = Revisit.objects.select_for_update().filter(shop=shop, pk=revisit_id).first()
        if r is None:
            raise NotFound("revisit not found", field="revisit_id")
        if r.state != RevisitState.OPEN:
            raise KefuError(f"this revisit is {r.state}", field="state", code=CareErrorCode.ALREADY_DONE)
        r.state = RevisitState.CANCELLED
        r.save(update_fields=["state"])
    return r


def revisits_reassign(*, shop: Shop, from_agent: Agent, to_agent: Agent, actor: Agent | None) -> int:
    """Hand a person's open revisits (and their place in the plans) to another, e.g. when an agent
    leaves (CONV-8 handover). Returns how many revisits moved."""
    if actor is not None and not sees_whole_shop(actor):
        raise PermissionDenied("supervisors, managers and admins hand revisits over", field="to_agent")
    if from_agent.shop_id != shop.pk or to_agent.shop_id != shop.pk:
        raise NotFound("no such person in this shop", field="to_agent")
    if from_agent.pk == to_agent.pk:
        raise KefuError("the same person", field="to_agent")
    with transaction.atomic():
        n = Revisit.objects.filter(shop=shop, owner=from_agent, state=RevisitState.OPEN).update(owner=to_agent)
        for plan in RevisitPlan.objects.filter(shop=shop, assignees=from_agent):
            plan.assignees.remove(from_agent)
            plan.assignees.add(to_agent)
        audit_record(shop=shop, actor=user_of(actor), action="revisit.reassign", entity=to_agent,
                     before={"owner": from_agent.name}, after={"owner": to_agent.name, "revisits": n})
    return n
