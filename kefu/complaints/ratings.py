"""Service ratings (AUTO-3, §12 CSAT): one invitation per reception (agent, buyer, shop day) after
the day is over, sent through kefu.outbound, and the buyer's rating (idempotent per invitation).

CSAT = ratings in the top two levels (4–5) / rated invitations; 邀评率 = invitations / replied
receptions. Both are counted on the reception's day (selectors.csat_sums).
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.core.access import user_of
from kefu.core.errors import KefuError, NotFound
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import parse_moment, shop_day
from kefu.customers.models import Customer

from .enums import ComplaintErrorCode, InvitationState, RatingScore
from .models import RatingInvitation, ServiceRating

INVITE_TEXT = "亲，感谢您今天的咨询！请为{agent}的服务打个分（1–5 星），您的评价是我们改进的动力～"


def _send(inv: RatingInvitation, now: dt.datetime) -> None:
    """Hand the invitation to the outbound channel (its key makes a resend a no-op)."""
    from kefu.outbound.enums import OutboundKind
    from kefu.outbound.services import send

    # The channel the buyer chatted on (a web chat's invitation shows as stars in the widget).
    channel = inv.conversation.first_message.channel if inv.conversation_id else "generic"
    msg, _ = send(shop=inv.shop, channel=channel or "generic", to_buyer=inv.customer,
                  text=INVITE_TEXT.format(agent=inv.agent.name), key=f"rating-invite:{inv.pk}",
                  conversation=inv.conversation, agent=inv.agent, kind=OutboundKind.RATING_INVITE, now=now)
    inv.state, inv.sent_at, inv.outbox_ref = InvitationState.SENT, now, str(msg.pk)
    inv.save(update_fields=["state", "sent_at", "outbox_ref"])


def rating_invite(*, shop: Shop, agent: Agent, customer: Customer, day: dt.date, actor: Agent | None = None,
                  send: bool = True, now: dt.datetime | None = None) -> tuple[RatingInvitation, bool]:
    """Invite one reception's buyer (once per agent, buyer and day). Returns (invitation, created)."""
    now = now or timezone.now()
    if agent.shop_id != shop.pk:
        raise NotFound("agent not found", field="agent_id")
    if customer.shop_id != shop.pk:
        raise NotFound("customer not found", field="buyer_id")
    if day > shop_day(now, shop.tz):
        raise KefuError("must not be in the future", field="day")
    existing = RatingInvitation.objects.filter(agent=agent, customer=customer, day=day).first()
    if existing is not None:
        return existing, False
    conversation = _conversation_of(shop, agent, customer, day)
    try:
        with transaction.atomic():
            inv = RatingInvitation.objects.create(shop=shop, agent=agent, customer=customer, day=day,
                                                  conversation=conversation)
            if send:
                _send(inv, now)
            audit_record(shop=shop, actor=user_of(actor), action="rating.invite", entity=inv,
                         after={"agent": agent.name, "buyer": customer.buyer_id, "day": day.isoformat()})
    except IntegrityError:  # a concurrent invite of the same reception won
        return RatingInvitation.objects.get(agent=agent, customer=customer, day=day), False
    return inv, True


def _conversation_of(shop, agent, customer, day):
    from kefu.conversations.models import Conversation
    from kefu.core.timeutil import day_bounds

    start, end = day_bounds(day, shop.tz)
    return (Conversation.objects.filter(shop=shop, customer=customer, agent=agent, started_at__lt=end,
                                        ended_at__gte=start).order_by("-ended_at").first())


def _uninvited(shop: Shop, day: dt.date):
    from django.db.models import Exists, OuterRef

    from kefu.metrics.models import Reception

    invited = RatingInvitation.objects.filter(agent_id=OuterRef("agent_id"), customer_id=OuterRef("customer_id"),
                                              day=day)
    return (Reception.objects.filter(shop=shop, day=day, replied=True, customer__is_spam=False)
            .exclude(Exists(invited)))


def invitations_for_day(*, shop: Shop, day: dt.date, now: dt.datetime | None = None, send: bool = True) -> int:
    """The scheduler rule: invite every replied reception of a finished shop day not invited yet."""
    now = now or timezone.now()
    created = 0
    for rec in _uninvited(shop, day).select_related("agent", "customer").order_by("id"):
        _, new = rating_invite(shop=shop, agent=rec.agent, customer=rec.customer, day=day, send=send, now=now)
        created += new
    return created


def invitations_pending(*, shop: Shop, day: dt.date) -> bool:
    return _uninvited(shop, day).exists()


def rating_record(*, shop: Shop, invitation_id: int, score, comment=None, rated_at=None,
                  actor: Agent | None = None) -> tuple[ServiceRating, bool]:
    """The buyer's rating of an invitation. A resend with the same score is a duplicate
    (created False); a different score for a rated invitation is refused."""
    if isinstance(score, bool) or not isinstance(score, int | str) or str(score).strip() not in \
            {str(v) for v in RatingScore.values}:
        raise KefuError("must be 1–5", field="score")
    score = int(str(score).strip())
    comment = clean_text(comment, field="comment", max_len=500)
    try:
        rated_at = parse_moment(rated_at, shop.tz) if rated_at not in (None, "") else timezone.now()
    except ValueError as exc:
        raise KefuError(str(exc), field="rated_at") from exc
    with transaction.atomic():
        inv = RatingInvitation.objects.select_for_update().filter(shop=shop, pk=invitation_id).first()
        if inv is None:
            raise NotFound("invitation not found", field="invitation_id")
        existing = ServiceRating.objects.filter(invitation=inv).first()
        if existing is not None:
            if existing.score == score and existing.comment == comment:
                return existing, False
            raise KefuError(f"invitation {inv.pk} is already rated ({existing.score})", field="invitation_id",
                            code=ComplaintErrorCode.ALREADY_RATED)
        rating = ServiceRating.objects.create(shop=shop, invitation=inv, score=score, comment=comment,
                                              rated_at=rated_at)
        inv.state = InvitationState.RATED
        inv.save(update_fields=["state"])
        audit_record(shop=shop, actor=user_of(actor), action="rating.record", entity=inv,
                     after={"score": score, "comment": comment, "agent": inv.agent_id})
    return rating, True
