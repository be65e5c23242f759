"""Account handover (CONV-8, seed 001): a supervisor gives a former owner's buyers, open follow-ups,
revisits, after-sales cases, complaints, open conversations and platform accounts (客服号) to a new owner.

What moves is the ownership of open work; what was done stays with whoever did it: messages keep their
agent, so KPI figures of past days do not change (the facts are rebuilt from messages). A buyer is the
former owner's when the sticky routing would send them to the former owner: the owner of their latest
conversation, unless a later handover gave them to someone else (`buyer_owner`). The new owner gets the
buyers as a list to greet (seed 001: the new agent who re-contacted past buyers and sold to them).

Idempotent: a handover done twice moves nothing the second time (the second call returns the first
handover); a repeated request_id returns the same handover. Concurrency: the former owner's row and
the routing row are locked for the whole handover, so two supervisors handing over one account run one
after the other and the second finds nothing left to move."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from kefu.aftersales.enums import CaseState, EventAction
from kefu.aftersales.models import Case, CaseEvent
from kefu.care.enums import RevisitState
from kefu.care.models import Revisit, RevisitPlan
from kefu.complaints.enums import ComplaintAction, ComplaintState
from kefu.complaints.models import Complaint, ComplaintEvent
from kefu.conversations import routing
from kefu.conversations.enums import ConversationEventKind
from kefu.conversations.models import Conversation
from kefu.core.errors import KefuError, NotFound
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, AgentAccount, Shop
from kefu.core.services import audit_record
from kefu.customers.models import Customer
from kefu.followups.enums import ACTIVE_STATES, FollowUpAction
from kefu.followups.models import FollowUp, FollowUpEvent

from .access import label_of, require_supervisor_of
from .enums import HandoverItemKind as K
from .enums import PeopleError
from .models import AccountHandover, HandoverItem

REASON_MAX = 500


# ---------------------------------------------------------------- whose buyers

def _last_conversations(shop: Shop):
    return (Conversation.objects.filter(shop=shop, customer=OuterRef("pk"))
            .filter(Q(assignee__isnull=False) | Q(agent__isnull=False)).order_by("-ended_at", "-id"))


def _last_handovers(shop: Shop):
    return HandoverItem.objects.filter(shop=shop, kind=K.BUYER, customer=OuterRef("pk")).order_by("-created_at", "-id")


def buyers_with_owner(*, shop: Shop, customer_ids=None, agent: Agent | None = None) -> list[dict]:
    """Buyers (not spam, not merged away) with their sticky owner and last contact.

    `agent`: only the buyers this agent ever served or was handed (the candidates), then filtered in
    Python to those whose owner is that agent now. Rows: {customer_id, buyer_id, nick, owner_id, last_at}."""
    qs = Customer.objects.filter(shop=shop, is_spam=False, merged_into__isnull=True)
    if customer_ids is not None:
        qs = qs.filter(pk__in=list(customer_ids))
    if agent is not None:
        served = Conversation.objects.filter(shop=shop).filter(Q(assignee=agent) | Q(agent=agent)).values("customer_id")
        handed = HandoverItem.objects.filter(shop=shop, kind=K.BUYER, to_agent=agent).values("customer_id")
        qs = qs.filter(Q(pk__in=served) | Q(pk__in=handed))
    last = _last_conversations(shop)
    ho = _last_handovers(shop)
    rows = qs.annotate(
        conv_owner=Subquery(last.annotate(o=Coalesce("assignee_id", "agent_id")).values("o")[:1]),
        conv_at=Subquery(last.values("ended_at")[:1]),
        ho_owner=Subquery(ho.values("to_agent_id")[:1]),
        ho_at=Subquery(ho.values("created_at")[:1]),
    ).values("pk", "buyer_id", "nick", "conv_owner", "conv_at", "ho_owner", "ho_at").order_by("buyer_id")
    out = []
    for r in rows:
        owner = r["conv_owner"]
        if r["ho_at"] is not None and (r["conv_at"] is None or r["ho_at"] > r["conv_at"]):
            owner = r["ho_owner"]
        if agent is not None and owner != agent.pk:
            continue
        out.append({"customer_id": r["pk"], "buyer_id": r["buyer_id"], "nick": r["nick"], "owner_id": owner,
                    "last_at": r["conv_at"]})
    return out


def buyer_owner(*, shop: Shop, customer_id: int, owner_id: int | None, since: dt.datetime | None) -> int | None:
    """The sticky routing's agent for a buyer whose latest conversation (ended `since`) was `owner_id`'s:
    the new owner when a handover gave the buyer away after that conversation."""
    if since is None:
        return owner_id
    moved = (HandoverItem.objects.filter(shop=shop, kind=K.BUYER, customer_id=customer_id, created_at__gt=since)
             .order_by("-created_at", "-id").values_list("to_agent_id", flat=True).first())
    return moved or owner_id


# ---------------------------------------------------------------- what would move

@dataclass
class HandoverScope:
    buyers: list[dict] = field(default_factory=list)
    followups: list = field(default_factory=list)
    revisits: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    complaints: list = field(default_factory=list)
    conversations: list = field(default_factory=list)
    accounts: list = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {K.BUYER: len(self.buyers), K.FOLLOWUP: len(self.followups), K.REVISIT: len(self.revisits),
                K.CASE: len(self.cases), K.COMPLAINT: len(self.complaints),
                K.CONVERSATION: len(self.conversations), K.ACCOUNT: len(self.accounts)}

    @property
    def empty(self) -> bool:
        return not any(self.counts().values())


def handover_scope(*, shop: Shop, from_agent: Agent, accounts: bool = True, now: dt.datetime | None = None,
                   lock: bool = False) -> HandoverScope:
    """Everything the former owner has open now (what a handover would move)."""
    now = now or timezone.now()

    def rows(qs):
        return list(qs.select_for_update() if lock else qs)

    return HandoverScope(
        buyers=buyers_with_owner(shop=shop, agent=from_agent),
        followups=rows(FollowUp.objects.filter(shop=shop, owner=from_agent, state__in=ACTIVE_STATES).order_by("id")),
        revisits=rows(Revisit.objects.filter(shop=shop, owner=from_agent, state=RevisitState.OPEN).order_by("id")),
        cases=rows(Case.objects.filter(shop=shop, owner=from_agent).exclude(state=CaseState.CLOSED).order_by("id")),
        complaints=rows(Complaint.objects.filter(shop=shop, owner=from_agent).exclude(state=ComplaintState.CLOSED)
                        .order_by("id")),
        conversations=rows(Conversation.objects.filter(shop=shop, assignee=from_agent)
                           .filter(routing.open_load_q(now, shop.conversation_gap_minutes)).order_by("id")),
        accounts=rows(AgentAccount.objects.filter(shop=shop, agent=from_agent).order_by("platform_id"))
        if accounts else [],
    )


# ---------------------------------------------------------------- the handover

def handover_run(*, shop: Shop, from_agent: Agent, to_agent: Agent, reason: str, by: Agent | None, actor=None,
                 accounts: bool = True, request_id: str = "", now: dt.datetime | None = None
                 ) -> tuple[AccountHandover, bool]:
    """Hand the former owner's open work to the new owner. Returns (handover, created): created is False
    when the request id was seen before, or when nothing was left to move and the pair's earlier handover
    is returned (a handover done twice moves nothing the second time)."""
    reason = clean_text(reason, field="reason", max_len=REASON_MAX, required=True,
                        required_message="a handover needs a reason")
    request_id = clean_text(request_id, field="request_id", max_len=64)
    if from_agent.shop_id != shop.pk or to_agent.shop_id != shop.pk:
        raise NotFound("no such person in this shop", field="to_agent_id")
    if from_agent.pk == to_agent.pk:
        raise KefuError("the former and the new owner are the same person", field="to_agent_id",
                        code=PeopleError.SAME_PERSON)
    if not to_agent.active:
        raise KefuError("the new owner has left the shop", field="to_agent_id", code=PeopleError.INVALID)
    require_supervisor_of(by, from_agent)
    require_supervisor_of(by, to_agent)
    now = now or timezone.now()
    with transaction.atomic():
        # One lock order with the routing's writers (routing row, then buyers), then the former owner:
        # two handovers of one account wait for each other; the second finds nothing left.
        routing.routing_lock(shop)
        Agent.objects.select_for_update().filter(pk=from_agent.pk).first()
        if request_id:
            seen = AccountHandover.objects.filter(shop=shop, request_id=request_id).first()
            if seen is not None:
                if (seen.from_agent_id, seen.to_agent_id) != (from_agent.pk, to_agent.pk):
                    raise KefuError("this request id was used for another handover", field="request_id",
                                    code=PeopleError.REUSED)
                return seen, False
        scope = handover_scope(shop=shop, from_agent=from_agent, accounts=accounts, now=now, lock=True)
        if scope.empty:
            earlier = AccountHandover.objects.filter(shop=shop, from_agent=from_agent, to_agent=to_agent).first()
            if earlier is not None:
                return earlier, False
        h = AccountHandover.objects.create(shop=shop, from_agent=from_agent, to_agent=to_agent, reason=reason,
                                           counts=scope.counts(), by=by, by_label=label_of(by, actor),
                                           request_id=request_id, created_at=now)
        _move(shop, h, scope, from_agent, to_agent, by, now)
        audit_record(shop=shop, actor=actor, action="people.handover", entity=h,
                     before={"owner": from_agent.name},
                     after={"owner": to_agent.name, "reason": reason, "counts": scope.counts(),
                            "accounts": [a.platform_id for a in scope.accounts]})
        if scope.buyers:
            from kefu.approvals.services import notify

            notify(shop=shop, recipients=[to_agent],
                   text=f"{from_agent.name} 的 {len(scope.buyers)} 位买家已交接给你，请逐一问候。",
                   link=reverse("people:handover", args=[h.pk]))
    return h, True


def _move(shop, h, scope: HandoverScope, from_agent, to_agent, by, now) -> None:
    items = []

    def item(kind, object_id, label="", customer_id=None, last_at=None):
        items.append(HandoverItem(shop=shop, handover=h, kind=kind, object_id=object_id, label=str(label)[:200],
                                  customer_id=customer_id, to_agent=to_agent, last_contact_at=last_at,
                                  created_at=now))

    note = f"账号交接：{from_agent.name} → {to_agent.name}"
    for b in scope.buyers:
        item(K.BUYER, b["customer_id"], b["nick"] or b["buyer_id"], b["customer_id"], b["last_at"])
    for f in scope.followups:
        item(K.FOLLOWUP, f.pk, f.kind, f.customer_id)  # codes: shown in the reader's language
    FollowUp.objects.filter(pk__in=[f.pk for f in scope.followups]).update(owner=to_agent, updated_at=now)
    FollowUpEvent.objects.bulk_create([
        FollowUpEvent(shop=shop, followup=f, action=FollowUpAction.HANDOVER, from_state=f.state, to_state=f.state,
                      actor=by, note=note, created_at=now) for f in scope.followups])
    for r in scope.revisits:
        item(K.REVISIT, r.pk, r.due_on.isoformat(), r.customer_id)
    Revisit.objects.filter(pk__in=[r.pk for r in scope.revisits]).update(owner=to_agent)
    for plan in RevisitPlan.objects.filter(shop=shop, assignees=from_agent):  # their place in the plans
        plan.assignees.remove(from_agent)
        plan.assignees.add(to_agent)
    for c in scope.cases:
        item(K.CASE, c.pk, c.type)
        CaseEvent.objects.create(shop=shop, case=c, actor=by, from_state=c.state, to_state=c.state,
                                 action=EventAction.HANDOVER, note=note)
    Case.objects.filter(pk__in=[c.pk for c in scope.cases]).update(owner=to_agent, version=F("version") + 1)
    for c in scope.complaints:
        item(K.COMPLAINT, c.pk, c.summary, c.customer_id)
    Complaint.objects.filter(pk__in=[c.pk for c in scope.complaints]).update(owner=to_agent)
    ComplaintEvent.objects.bulk_create([
        ComplaintEvent(shop=shop, complaint=c, action=ComplaintAction.HANDOVER, from_state=c.state, to_state=c.state,
                       actor=by, note=note) for c in scope.complaints])
    for conv in scope.conversations:
        item(K.CONVERSATION, conv.pk, "", conv.customer_id)
        conv.assignee, conv.assigned_at = to_agent, now
        conv.save(update_fields=["assignee", "assigned_at"])
        routing.event(conv, ConversationEventKind.TRANSFERRED, now=now, from_agent_id=from_agent.pk,
                      to_agent_id=to_agent.pk, by=by, reason=note)
    for a in scope.accounts:
        item(K.ACCOUNT, a.pk, a.platform_id)
    AgentAccount.objects.filter(pk__in=[a.pk for a in scope.accounts]).update(agent=to_agent)
    HandoverItem.objects.bulk_create(items)


# ---------------------------------------------------------------- the greeting list

def handover_greeted(*, shop: Shop, handover: AccountHandover, item_ids: list[int], by: Agent | None,
                     actor=None, now: dt.datetime | None = None) -> int:
    """The new owner (or their supervisor) marks buyers of the list as greeted; once each (a buyer
    already greeted is left as it was). Returns how many were marked now."""
    if not (by is not None and by.pk == handover.to_agent_id):
        require_supervisor_of(by, handover.to_agent)
    ids = [int(i) for i in item_ids]
    if not ids:
        raise KefuError("choose the buyers you greeted", field="item_ids")
    known = set(HandoverItem.objects.filter(handover=handover, kind=K.BUYER, pk__in=ids).values_list("pk", flat=True))
    missing = sorted(set(ids) - known)
    if missing:
        raise NotFound(f"no buyer {missing[0]} in this handover", field="item_ids")
    now = now or timezone.now()
    with transaction.atomic():
        n = HandoverItem.objects.filter(pk__in=ids, greeted_at__isnull=True).update(greeted_at=now, greeted_by=by)
        if n:
            audit_record(shop=shop, actor=actor, action="people.handover.greeted", entity=handover,
                         after={"items": sorted(ids), "marked": n, "by": label_of(by, actor)})
    return n


# ---------------------------------------------------------------- reads

def handovers_for(*, shop: Shop, member: Agent | None):
    """Handovers the person sees: supervisors those of their group's people (either side), managers all,
    an agent the ones they received."""
    from .access import agents_visible, is_supervisor

    qs = AccountHandover.objects.filter(shop=shop).select_related("from_agent", "to_agent")
    if member is None or not is_supervisor(member):
        return qs.filter(to_agent=member) if member is not None else qs
    visible = agents_visible(shop=shop, member=member, include_inactive=True).values("pk")
    return qs.filter(Q(from_agent__in=visible) | Q(to_agent__in=visible))


def handover_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> AccountHandover:
    from django.http import Http404

    h = handovers_for(shop=shop, member=member).filter(pk=id).first()
    if h is None:
        raise Http404("handover")
    return h


def handover_items(handover: AccountHandover) -> dict[str, list[HandoverItem]]:
    """The handover's items by kind (buyers first: the list to greet, not yet greeted first)."""
    out: dict[str, list[HandoverItem]] = {k: [] for k in K.values}
    for it in (HandoverItem.objects.filter(handover=handover).select_related("customer", "greeted_by")
               .order_by(F("greeted_at").asc(nulls_first=True), F("last_contact_at").desc(nulls_last=True), "id")):
        out[it.kind].append(it)
    return out
