"""Reads of conversations, always through the person's shop and role.

An agent sees the conversations they served or own, and the unassigned (queued) ones of their
group so they can be picked up; supervisors and up, and integration tokens, see the whole shop.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop

from .enums import ConversationError
from .models import Conversation, ConversationEvent, ConversationNote, Message, SavedView


@dataclass(frozen=True)
class BuiltinView:
    key: str
    label: str


# CONV-6's built-in views.
BUILTIN_VIEWS = [
    BuiltinView("all", _("全部")),
    BuiltinView("unassigned", _("未分配")),
    BuiltinView("waiting", _("待回复")),
    BuiltinView("sla_risk", _("SLA 即将超时")),
    BuiltinView("mine", _("我的")),
    BuiltinView("group", _("我的组")),
]
VIEW_KEYS = {v.key for v in BUILTIN_VIEWS}
STATUS_VALUES = ("open", "closed", "queued")
# What a saved view may store (the list's filter parameters).
SAVED_PARAMS = {"view", "q", "waiting", "agent", "group", "status", "flag", "from", "to"}


def visible_q(member: Agent | None) -> Q:
    if member is None or sees_whole_shop(member):
        return Q()
    own = Q(agent=member) | Q(assignee=member)
    if member.group:
        own |= Q(assignee__isnull=True, agent__isnull=True, group=member.group)
    return own


def view_q(view: str, member: Agent | None) -> Q:
    """The filter of a built-in view for this person."""
    if view == "unassigned":
        return Q(assignee__isnull=True, agent__isnull=True, closed_at__isnull=True)
    if view == "waiting":
        return Q(waiting=True, closed_at__isnull=True)
    if view == "sla_risk":
        # The SLA app's clocks (kefu/sla): a reply clock still running past its warning time.
        from kefu.sla.models import SlaClock

        running = SlaClock.objects.filter(conversation__isnull=False, stopped_at__isnull=True,
                                          warn_at__lte=timezone.now())
        return Q(pk__in=running.values("conversation_id"))
    if view == "mine":
        if member is None:
            return Q(pk__in=[])
        return Q(assignee=member) | Q(assignee__isnull=True, agent=member)
    if view == "group":
        g = member.group if member is not None else ""
        if not g:
            return Q(pk__in=[])
        return Q(group=g) | Q(assignee__group=g) | Q(assignee__isnull=True, agent__group=g)
    return Q()


def clean_filters(params: dict) -> dict:
    """Filter parameters of the list (page, API, saved view) → clean values; KefuError names the field."""
    out: dict = {}
    view = str(params.get("view") or "all")
    if view not in VIEW_KEYS:
        raise KefuError(f"must be one of {'|'.join(sorted(VIEW_KEYS))}", field="view", code=ConversationError.INVALID)
    out["view"] = view
    q = params.get("q") or ""
    if not isinstance(q, str) or len(q) > 120:
        raise KefuError("text of at most 120 characters", field="q", code=ConversationError.INVALID)
    out["q"] = q.strip()
    waiting = params.get("waiting")
    if waiting in (None, ""):
        out["waiting"] = None
    elif str(waiting).lower() in ("1", "true"):
        out["waiting"] = True
    elif str(waiting).lower() in ("0", "false"):
        out["waiting"] = False
    else:
        raise KefuError("must be 1 or 0", field="waiting", code=ConversationError.INVALID)
    agent = params.get("agent")
    try:
        out["agent_id"] = int(agent) if agent not in (None, "") else None
    except (TypeError, ValueError):
        raise KefuError("must be an agent id", field="agent", code=ConversationError.INVALID) from None
    group = params.get("group") or ""
    if group not in ("", "presales", "aftersales"):
        raise KefuError("must be presales or aftersales", field="group", code=ConversationError.INVALID)
    out["group"] = group
    status = params.get("status") or ""
    if status not in ("", *STATUS_VALUES):
        raise KefuError(f"must be one of {'|'.join(STATUS_VALUES)}", field="status", code=ConversationError.INVALID)
    out["status"] = status
    from kefu.quality.enums import FlagKind

    flag = params.get("flag") or ""
    if flag not in ("", *FlagKind.values):
        raise KefuError(f"must be one of {'|'.join(FlagKind.values)}", field="flag", code=ConversationError.INVALID)
    out["flag"] = flag
    # Shop days the conversation started in (the dashboard's drill-down from a reception figure).
    from kefu.core.timeutil import parse_day

    for key, name in (("from", "day_from"), ("to", "day_to")):
        raw = params.get(key) or ""
        try:
            out[name] = parse_day(raw) if raw else None
        except (TypeError, ValueError):
            raise KefuError("must be a date YYYY-MM-DD", field=key, code=ConversationError.INVALID) from None
    return out


def conversation_list(*, shop: Shop, member: Agent | None, agent_id: int | None = None,
                      waiting: bool | None = None, q: str = "", view: str = "all", group: str = "",
                      status: str = "", flag: str = "", include_merged: bool = False,
                      day_from=None, day_to=None):
    from kefu.core.timeutil import day_bounds

    qs = (Conversation.objects.filter(shop=shop).filter(visible_q(member))
          .select_related("customer", "agent", "assignee"))
    if day_from is not None:
        qs = qs.filter(started_at__gte=day_bounds(day_from, shop.tz)[0])
    if day_to is not None:
        qs = qs.filter(started_at__lt=day_bounds(day_to, shop.tz)[1])
    if not include_merged:
        qs = qs.filter(merged_into__isnull=True)
    if view and view != "all":
        qs = qs.filter(view_q(view, member))
    if agent_id:
        qs = qs.filter(Q(assignee_id=agent_id) | Q(assignee__isnull=True, agent_id=agent_id))
    if waiting is not None:
        qs = qs.filter(waiting=waiting)
    if group:
        qs = qs.filter(Q(group=group) | Q(group="", agent__group=group))
    if status == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif status == "closed":
        qs = qs.filter(closed_at__isnull=False)
    elif status == "queued":
        qs = qs.filter(queued_at__isnull=False, assignee__isnull=True)
    if q:
        qs = qs.filter(Q(customer__buyer_id__icontains=q) | Q(customer__nick__icontains=q))
    if flag:
        # QA-3 automatic flags (kefu/quality/flags.py) on the conversation's messages.
        from kefu.quality.models import ConversationFlag

        qs = qs.filter(pk__in=ConversationFlag.objects.filter(shop=shop, kind=flag).values("conversation_id"))
    return qs.order_by("-ended_at", "-id")


def conversation_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> Conversation:
    conv = conversation_list(shop=shop, member=member, include_merged=True).filter(id=id).first()
    if conv is None:
        raise Http404("conversation")
    return conv


def conversation_messages(*, conversation: Conversation):
    """The messages of the conversation and of every conversation merged into it."""
    ranges = Q(sent_at__gte=conversation.started_at, sent_at__lte=conversation.ended_at)
    for start, end in Conversation.objects.filter(merged_into=conversation).values_list("started_at", "ended_at"):
        ranges |= Q(sent_at__gte=start, sent_at__lte=end)
    return (
        Message.objects.filter(shop_id=conversation.shop_id, customer_id=conversation.customer_id)
        .filter(ranges).select_related("agent").order_by("sent_at", "id")
    )


def conversations_before(*, shop: Shop, member: Agent | None, conversation: Conversation):
    """The buyer's earlier conversations this person may see (buyer card, CONV-4)."""
    return conversation_list(shop=shop, member=member).filter(
        customer_id=conversation.customer_id, started_at__lt=conversation.started_at
    )


def conversation_events(*, conversation: Conversation):
    return (ConversationEvent.objects.filter(conversation=conversation)
            .select_related("from_agent", "to_agent").order_by("at", "id"))


def conversation_notes(*, conversation: Conversation):
    """Internal notes: for the shop's people only (never in the outbox, never to the buyer)."""
    return ConversationNote.objects.filter(conversation=conversation).select_related("author").order_by("created_at", "id")


def conversation_outbound(*, conversation: Conversation):
    from kefu.outbound.models import OutboundMessage

    return OutboundMessage.objects.filter(conversation=conversation).select_related("agent").order_by("created_at", "id")


def saved_views_of(*, shop: Shop, member: Agent | None) -> list[SavedView]:
    if member is None:
        return []
    return list(SavedView.objects.filter(shop=shop, owner=member))


def saved_view_get(*, shop: Shop, member: Agent | None, id: int) -> SavedView:
    view = SavedView.objects.filter(shop=shop, owner=member, pk=id).first() if member is not None else None
    if view is None:
        raise Http404("saved view")
    return view


def agents_for_transfer(*, shop: Shop) -> list[Agent]:
    return list(Agent.objects.filter(shop=shop, active=True).order_by("group", "name", "id"))
