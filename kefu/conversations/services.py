"""Message ingestion: validated, idempotent by the sender's message id; buyers marked for the rebuild."""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from kefu.core.access import sees_whole_shop, user_of
from kefu.core.db import insert_new
from kefu.core.errors import KefuError, NotFound, PermissionDenied, ValidationFailed, row_number
from kefu.core.inputs import IngestResult, cell_text, clean_text
from kefu.core.models import Agent, AgentAccount, Shop
from kefu.core.services import agents_resolve, audit_record
from kefu.core.timeutil import parse_moment
from kefu.customers.models import Customer
from kefu.customers.services import customers_lock, customers_resolve
from kefu.metrics.queue import buyers_mark
from kefu.metrics.rebuild import load_messages
from kefu.metrics.services import facts_rebuild

from . import routing
from .enums import ConversationError, Sender
from .enums import ConversationEventKind as EK
from .models import AgentCap, Conversation, ConversationNote, Message, RoutingSettings, SavedView
from .rebuild import conversations_rebuild

MESSAGE_FIELDS = ("message_id", "channel", "buyer_id", "buyer_nick", "agent_id", "sender", "sent_at", "text", "order_id")
SENDERS = frozenset(Sender.values)  # (the enum builds the list on every access)
LIMITS = {"message_id": 120, "channel": 40, "buyer_id": 120, "buyer_nick": 120, "agent_id": 120, "order_id": 64}


def message_clean(raw: dict, *, tz, routed: bool = False) -> dict:
    """One message row → clean values, or KefuError naming the field."""
    row = {k: cell_text(raw, k) for k in MESSAGE_FIELDS if k not in ("text", "sent_at")}
    text = raw.get("text")
    if text is not None and not isinstance(text, str | int | float):
        raise KefuError("must be text", field="text")
    row["text"] = "" if text is None else str(text).replace("\x00", "")
    for key, limit in LIMITS.items():
        if len(row[key]) > limit:
            raise KefuError(f"longer than {limit} characters", field=key)
    if not row["message_id"]:
        raise KefuError("required", field="message_id")
    if not row["buyer_id"]:
        raise KefuError("required", field="buyer_id")
    if row["sender"] not in SENDERS:
        raise KefuError(f"must be one of {'|'.join(Sender.values)}, got {row['sender']!r}", field="sender")
    # Live buyer messages may leave the agent to routing (CONV-2); history must name it.
    needs_agent = (Sender.AGENT,) if routed else (Sender.BUYER, Sender.AGENT)
    if row["sender"] in needs_agent and not row["agent_id"]:
        raise KefuError(f"required for {row['sender']} messages", field="agent_id")
    try:
        row["sent_at"] = parse_moment(raw.get("sent_at") or "", tz)
    except ValueError as exc:
        raise KefuError(str(exc), field="sent_at") from exc
    row["channel"] = row["channel"] or "generic"
    return row


def messages_clean(raws: list[dict], *, tz, first_row: int = 1, routed: bool = False) -> list[dict]:
    """Validate every row; raise ValidationFailed listing each bad row and field."""
    rows, errors = [], []
    for i, raw in enumerate(raws):
        try:
            rows.append(message_clean(raw, tz=tz, routed=routed))
        except KefuError as exc:
            # a file row names its own line (`_line`: blank lines and multi-line cells shift them)
            errors.append({"row": row_number(raw, first_row + i), "field": exc.field, "message": exc.message})
    if errors:
        raise ValidationFailed(errors)
    return rows


def _nicks(rows: list[dict]) -> dict[str, str]:
    """buyer id → the nick a row gives (agent and bot rows often carry none)."""
    nicks: dict[str, str] = {}
    for r in rows:
        if r["buyer_nick"] or r["buyer_id"] not in nicks:
            nicks[r["buyer_id"]] = r["buyer_nick"]
    return nicks


def _resolve(shop: Shop, nicks: dict[str, str], platform_ids: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    """buyer id → customer id and platform id → agent id, the known ones in one statement (the
    common case of a live message); first-seen buyers and agents are created by customers_resolve
    and agents_resolve. A merged buyer's id resolves to the record it was merged into."""
    buyers, accounts = sorted(b for b in nicks if b), sorted(p for p in platform_ids if p)
    customers: dict[str, int] = {}
    agents: dict[str, int] = {}
    parts, params = [], []
    if buyers:
        parts.append(f"SELECT 0, buyer_id, COALESCE(merged_into_id, id) FROM {Customer._meta.db_table} "
                     f"WHERE shop_id = %s AND buyer_id IN ({', '.join(['%s'] * len(buyers))})")
        params += [shop.id, *buyers]
    if accounts:
        parts.append(f"SELECT 1, platform_id, agent_id FROM {AgentAccount._meta.db_table} "
                     f"WHERE shop_id = %s AND platform_id IN ({', '.join(['%s'] * len(accounts))})")
        params += [shop.id, *accounts]
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for kind, key, pk in cursor.fetchall():
                (agents if kind else customers)[key] = pk
    if missing := [b for b in buyers if b not in customers]:
        customers.update(customers_resolve(shop=shop, nicks={b: nicks[b] for b in missing}))
    if missing := {p for p in accounts if p not in agents}:
        agents.update(agents_resolve(shop=shop, platform_ids=missing))
    return customers, agents


def messages_ingest(*, shop: Shop, rows: list[dict], route: bool = False, regroup: bool = False,
                    now=None) -> IngestResult:
    """Store clean message rows and mark their buyers for the rebuild (kefu.metrics.queue).

    Idempotent by message_id: a resend, or a message id repeated in one batch (the first row
    wins), is counted as a duplicate and changes nothing. `created` counts the rows this call
    inserted, so concurrent batches of the same messages add up to what is stored. Facts,
    roll-ups and conversations are rebuilt by the worker after the commit (ADR 0004).

    route=True (live API messages only, never imported history) routes buyer messages that name
    no agent (kefu.conversations.routing); their buyers' conversations are rebuilt at once, since
    routing reads and writes them.

    regroup=True (Kefu's own live channel: widget messages, agents' replies) rebuilds the
    conversations of every buyer of the batch in this transaction too, so a workspace shows the new
    message in its conversation and a reply takes it out of 待回复 at once; facts stay deferred.
    """
    result = IngestResult()
    received = timezone.now()
    fresh, seen = [], set()
    for r in rows:
        if r["message_id"] in seen:
            result.duplicates += 1
            continue
        seen.add(r["message_id"])
        fresh.append(r)
    with transaction.atomic():
        to_route = route and any(r["sender"] == Sender.BUYER and not r["agent_id"] for r in fresh)
        if to_route:  # routing must not decide twice for a resent message
            stored = set(Message.objects.filter(shop=shop, message_id__in=seen).values_list("message_id", flat=True))
            result.duplicates += len(stored)
            fresh = [r for r in fresh if r["message_id"] not in stored]
        if not fresh:
            return result
        customers, agents = _resolve(shop, _nicks(fresh), {r["agent_id"] for r in fresh})
        msgs = [
            Message(
                shop_id=shop.id, message_id=r["message_id"], channel=r["channel"],
                customer_id=customers[r["buyer_id"]], agent_id=agents.get(r["agent_id"]),
                sender=r["sender"], sent_at=r["sent_at"], text=r["text"], order_ref=r["order_id"],
            )
            for r in fresh
        ]
        unrouted = [m for m in msgs if m.sender == Sender.BUYER and m.agent_id is None] if to_route else []
        plans = []
        regrouped = sorted({m.customer_id for m in msgs}) if regroup else []
        if unrouted:
            now = now or timezone.now()
            routed = sorted({m.customer_id for m in unrouted})
            # Lock order of every writer: routing row, buyers, conversations. The conversations are
            # brought up to date first: routing reads the buyer's current conversation.
            routing.routing_lock(shop)
            customers_lock(shop=shop, customer_ids=sorted(set(routed) | set(regrouped)))
            conversations_rebuild(shop, routed, load_messages(shop, routed))
            plans = routing.plan_messages(shop=shop, messages=unrouted, now=now)
        elif regrouped:
            customers_lock(shop=shop, customer_ids=regrouped)
        for m in msgs:
            m.received_at = received
        # Key order: concurrent batches of overlapping messages then wait for each other in one
        # order on the unique index instead of deadlocking.
        msgs.sort(key=lambda m: m.message_id)
        created = insert_new(Message, msgs, conflict=("shop", "message_id"), returning=("message_id", "customer"))
        result.created = len(created)
        result.duplicates += len(msgs) - len(created)
        result.customer_ids = {cid for _mid, cid in created}
        buyers_mark(shop=shop, customer_ids=result.customer_ids)
        inserted = {mid for mid, _cid in created}
        routed_in = {m.customer_id for m in unrouted if m.message_id in inserted}
        ids = sorted(routed_in | (result.customer_ids if regroup else set()))
        if ids:
            conversations_rebuild(shop, ids, load_messages(shop, ids))
        if plans:
            routing.plans_apply(shop=shop, plans=[p for p in plans if p.customer_id in routed_in], now=now)
        if route:  # live messages (the API, the widget); imported history emits no events
            from kefu.integrations import hooks

            hooks.messages_created(shop=shop, messages=[m for m in msgs if m.message_id in inserted])
    return result


# ---------------------------------------------------------------- assignment, transfer, close (CONV-2)

def _label(by: Agent | None) -> str:
    return by.name if by is not None else "system"


def _may_act(by: Agent | None, conv: Conversation) -> bool:
    """Tokens (by=None) and supervisors act on any conversation; an agent on the ones they own."""
    return by is None or sees_whole_shop(by) or by.id in (conv.assignee_id, conv.agent_id)


def conversation_transfer(*, shop: Shop, conversation: Conversation, to_agent: Agent, by: Agent | None = None,
                          reason: str = "", now=None) -> Conversation:
    """Give the conversation to another agent; the history (messages, events, notes) stays with it.

    An agent may transfer their own conversation or pick up an unassigned one of their group;
    supervisors and tokens may move any. Later buyer messages are routed to the new owner.
    """
    reason = clean_text(reason, field="reason", max_len=500)
    if to_agent.shop_id != shop.id or not to_agent.active:
        raise KefuError("not an active agent of this shop", field="to_agent_id", code=ConversationError.INVALID)
    now = now or timezone.now()
    with transaction.atomic():
        # One lock order for all writers: routing row, then the buyer (imports lock buyers and then
        # rewrite their conversations), then the conversation.
        routing.routing_lock(shop)
        customers_lock(shop=shop, customer_ids=[conversation.customer_id])
        conv = Conversation.objects.select_for_update().filter(shop=shop, pk=conversation.pk).first()
        if conv is None:  # an import regrouped the buyer's messages meanwhile
            raise NotFound("the conversation no longer exists; reload the list")
        owner = conv.assignee_id or conv.agent_id
        pick_up = owner is None and by is not None and to_agent.id == by.id and (not conv.group or conv.group == by.group)
        if not (_may_act(by, conv) or pick_up):
            raise PermissionDenied("only the conversation's agent or a supervisor may transfer it",
                                   code=ConversationError.FORBIDDEN)
        if conv.merged_into_id:
            raise KefuError("the conversation was merged into another", field="conversation",
                            code=ConversationError.STATE)
        if owner == to_agent.id:
            raise KefuError("the conversation already belongs to this agent", field="to_agent_id",
                            code=ConversationError.STATE)
        kind = EK.TRANSFERRED if owner else EK.ASSIGNED
        was_queued = conv.queued_at is not None
        conv.assignee, conv.assigned_at, conv.queued_at, conv.queue_reason = to_agent, now, None, ""
        conv.save(update_fields=["assignee", "assigned_at", "queued_at", "queue_reason"])
        routing.event(conv, kind, now=now, from_agent_id=owner, to_agent_id=to_agent.id, by=by, reason=reason)
        if was_queued:  # its waiting buyer messages now belong to the agent who took it
            Message.objects.filter(shop=shop, customer_id=conv.customer_id, sender=Sender.BUYER, agent__isnull=True,
                                   sent_at__gte=conv.started_at, sent_at__lte=conv.ended_at).update(agent=to_agent)
            facts_rebuild(shop=shop, customer_ids=[conv.customer_id])
    return Conversation.objects.select_related("customer", "agent", "assignee").get(pk=conv.pk)


def conversation_close(*, shop: Shop, conversation: Conversation, by: Agent | None = None, reopen: bool = False,
                       now=None) -> Conversation:
    """Close (frees the agent's slot at once) or reopen a conversation."""
    now = now or timezone.now()
    with transaction.atomic():
        conv = Conversation.objects.select_for_update().get(shop=shop, pk=conversation.pk)
        if not _may_act(by, conv):
            raise PermissionDenied("only the conversation's agent or a supervisor may close it",
                                   code=ConversationError.FORBIDDEN)
        if reopen == (conv.closed_at is None):
            raise KefuError("the conversation is already " + ("open" if reopen else "closed"), field="closed",
                            code=ConversationError.STATE)
        conv.closed_at = None if reopen else now
        conv.save(update_fields=["closed_at"])
        routing.event(conv, EK.REOPENED if reopen else EK.CLOSED, now=now, by=by)
    conv.refresh_from_db()
    return conv


# ---------------------------------------------------------------- notes, merge, replies (CONV-6)

def note_add(*, shop: Shop, conversation: Conversation, by: Agent | None, text: str, now=None) -> ConversationNote:
    """An internal note for the shop's people; never sent to the buyer."""
    from kefu.livechat.services import note_published

    text = clean_text(text, field="text", max_len=2000, required=True)
    with transaction.atomic():
        note = ConversationNote.objects.create(shop=shop, conversation=conversation, author=by,
                                               author_label=_label(by), text=text, created_at=now or timezone.now())
        note_published(shop=shop, conversation=conversation, note=note)  # live in the workspace
    return note


def conversation_merge(*, shop: Shop, source: Conversation, target: Conversation, by: Agent | None = None,
                       now=None) -> Conversation:
    """Merge `source` into `target` (one buyer): its messages show in the target, its notes and
    events move there, and it leaves the lists. The messages themselves are not changed."""
    now = now or timezone.now()
    if source.pk == target.pk:
        raise KefuError("cannot merge a conversation into itself", field="target_id", code=ConversationError.INVALID)
    with transaction.atomic():
        locked = {c.pk: c for c in Conversation.objects.select_for_update().filter(shop=shop, pk__in=[source.pk, target.pk])
                  .order_by("pk")}
        src, dst = locked[source.pk], locked[target.pk]
        if src.customer_id != dst.customer_id:
            raise KefuError("the conversations are of different buyers", field="target_id",
                            code=ConversationError.INVALID)
        if src.merged_into_id or dst.merged_into_id:
            raise KefuError("a merged conversation cannot be merged again", field="target_id",
                            code=ConversationError.STATE)
        if not (_may_act(by, src) and _may_act(by, dst)):
            raise PermissionDenied("only a supervisor or the agent of both conversations may merge them",
                                   code=ConversationError.FORBIDDEN)
        Conversation.objects.filter(merged_into=src).update(merged_into=dst)
        src.merged_into, src.closed_at = dst, src.closed_at or now
        src.save(update_fields=["merged_into", "closed_at"])
        ConversationNote.objects.filter(conversation=src).update(conversation=dst)
        routing.event(src, EK.MERGED, now=now, by=by, reason=f"→ #{dst.pk}")
        routing.event(dst, EK.MERGED, now=now, by=by, reason=f"#{src.pk} →")
        if dst.assignee_id is None and src.assignee_id is not None:
            dst.assignee_id, dst.assigned_at = src.assignee_id, now
            dst.save(update_fields=["assignee", "assigned_at"])
        audit_record(shop=shop, actor=user_of(by), action="conversation.merge", entity=src,
                     after={"merged_into": dst.pk})
    return dst


def conversation_reply(*, shop: Shop, conversation: Conversation, by: Agent | None, text: str, key: str | None = None,
                       now=None):
    """Send a reply to the buyer through the outbound channel: queued until a connector delivers it,
    or, on Kefu's own web chat, stored and pushed to the buyer at once (kefu.livechat.delivery)."""
    from kefu.outbound.enums import OutboundKind
    from kefu.outbound.services import send

    if by is not None and not _may_act(by, conversation):
        raise PermissionDenied("only the conversation's agent or a supervisor may reply",
                               code=ConversationError.FORBIDDEN)
    # A script inserted without its values ({订单号}) is refused by outbound.send, for every sender.
    first = conversation.first_message
    key = f"reply:{conversation.pk}:{key}" if key else None
    return send(shop=shop, channel=first.channel, to_buyer=conversation.customer, text=text, key=key,
                conversation=conversation, agent=by, kind=OutboundKind.REPLY, now=now)


# ---------------------------------------------------------------- saved views, routing settings

def saved_view_create(*, shop: Shop, owner: Agent, name: str, params: dict) -> SavedView:
    from .selectors import SAVED_PARAMS, clean_filters

    name = clean_text(name, field="name", max_len=40, required=True)
    if not isinstance(params, dict):
        raise KefuError("must be an object", field="params", code=ConversationError.INVALID)
    unknown = set(params) - SAVED_PARAMS
    if unknown:
        raise KefuError(f"unknown filter {sorted(unknown)[0]!r}", field="params", code=ConversationError.INVALID)
    clean_filters(params)  # same validation as the list itself
    kept = {k: str(v) for k, v in params.items() if v not in (None, "")}
    try:
        with transaction.atomic():
            return SavedView.objects.create(shop=shop, owner=owner, name=name, params=kept)
    except IntegrityError:
        raise KefuError("a view with this name exists", field="name", code=ConversationError.EXISTS) from None


def saved_view_delete(*, shop: Shop, view: SavedView) -> None:
    SavedView.objects.filter(shop=shop, pk=view.pk).delete()


def agent_cap_set(*, shop: Shop, agent: Agent, cap: int | None, by: Agent | None = None, actor=None) -> None:
    """Set (or with None clear) an agent's concurrency cap. Supervisors and up."""
    if by is not None and not sees_whole_shop(by):
        raise PermissionDenied("supervisors set caps", code=ConversationError.FORBIDDEN)
    if agent.shop_id != shop.id:
        raise KefuError("agent of another shop", field="agent_id", code=ConversationError.INVALID)
    if cap is not None and not (isinstance(cap, int) and 0 <= cap <= 200):
        raise KefuError("must be a whole number from 0 to 200", field="cap", code=ConversationError.INVALID)
    with transaction.atomic():
        if cap is None:
            AgentCap.objects.filter(shop=shop, agent=agent).delete()
        else:
            AgentCap.objects.update_or_create(shop=shop, agent=agent, defaults={"cap": cap})
        audit_record(shop=shop, actor=actor, action="routing.cap", entity=agent, after={"cap": cap})


def routing_settings_update(*, shop: Shop, by: Agent | None = None, actor=None, **changes) -> RoutingSettings:
    """Change the shop's routing settings (default cap, sticky, offline greeting, after-sales words)."""
    if by is not None and not sees_whole_shop(by):
        raise PermissionDenied("supervisors change routing settings", code=ConversationError.FORBIDDEN)
    with transaction.atomic():
        rs = routing.routing_lock(shop)
        before = {k: getattr(rs, k) for k in changes}
        for key, value in changes.items():
            if key == "default_cap":
                if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 200:
                    raise KefuError("must be a whole number from 0 to 200", field=key, code=ConversationError.INVALID)
            elif key == "sticky":
                if not isinstance(value, bool):
                    raise KefuError("must be true or false", field=key, code=ConversationError.INVALID)
            elif key == "offline_greeting":
                value = clean_text(value, field=key, max_len=1000, required=True)
            elif key == "aftersales_words":
                value = clean_text(value, field=key, max_len=500)
            else:
                raise KefuError("unknown setting", field=key, code=ConversationError.INVALID)
            setattr(rs, key, value)
        rs.save()
        audit_record(shop=shop, actor=actor, action="routing.settings", entity=rs, before=before,
                     after={k: getattr(rs, k) for k in changes})
    return rs
