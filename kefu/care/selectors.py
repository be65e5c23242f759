"""Reads of customer care: the care owners, a buyer's care rows for the 360 page, the lists."""

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from .enums import RevisitState
from .models import CareOptOut, CareSend, CareSettings, ChurnFlag, Revisit, Surprise

SECTION = 20


def care_settings(shop: Shop) -> CareSettings:
    """The shop's care settings (the defaults the first time)."""
    s = CareSettings.objects.filter(shop=shop).first()
    if s is None:
        s, _ = CareSettings.objects.get_or_create(shop=shop)
    return s


def care_owner_ids(shop: Shop) -> set[int]:
    return set(CareSettings.owners.through.objects.filter(caresettings__shop=shop).values_list("agent_id", flat=True))


def is_care_owner(member: Agent | None) -> bool:
    if member is None:
        return False
    return CareSettings.owners.through.objects.filter(caresettings__shop_id=member.shop_id, agent=member).exists()


def is_care_staff(member: Agent | None) -> bool:
    """Who runs care for the shop: supervisors and up, and the care owners (专属客服)."""
    return member is None or sees_whole_shop(member) or is_care_owner(member)


def buyer_care(*, shop: Shop, customer: Customer) -> dict:
    """The buyer's revisits, surprises, care messages, opt-out and open churn flags (360 page)."""
    return {
        "revisits": list(Revisit.objects.filter(shop=shop, customer=customer)
                         .select_related("plan", "owner", "note").order_by("-due_on", "-id")[:SECTION]),
        "surprises": list(Surprise.objects.filter(shop=shop, customer=customer)
                          .select_related("requested_by", "approved_by").order_by("-created_at", "-id")[:SECTION]),
        "care_sends": list(CareSend.objects.filter(shop=shop, customer=customer)
                           .select_related("campaign", "outbound").order_by("-created_at", "-id")[:SECTION]),
        "opt_out": CareOptOut.objects.filter(shop=shop, customer=customer).first(),
        "churn_flags": list(ChurnFlag.objects.filter(shop=shop, customer=customer, cleared_at__isnull=True)
                            .order_by("-raised_at", "-id")),
    }


def revisit_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> Revisit:
    r = Revisit.objects.filter(shop=shop, pk=id).select_related("plan", "customer", "owner").first()
    if r is None or (not is_care_staff(member) and r.owner_id != member.pk):
        raise Http404("revisit")
    return r


def revisits_for(*, shop: Shop, member: Agent | None, owner_id: int | None = None,
                 state: str | None = RevisitState.OPEN, plan_id: int | None = None) -> QuerySet[Revisit]:
    """An owner's revisit list (agents see their own; care staff anyone's)."""
    qs = Revisit.objects.filter(shop=shop).select_related("plan", "customer", "owner", "customer__grade")
    if not is_care_staff(member):
        qs = qs.filter(owner=member)
    elif owner_id:
        qs = qs.filter(owner_id=owner_id)
    if state:
        qs = qs.filter(state=state)
    if plan_id:
        qs = qs.filter(plan_id=plan_id)
    return qs.order_by("due_on", "id")


# ---------------------------------------------------------------- plans and campaigns

def plan_outcomes(*, shop: Shop, plan_ids) -> dict[int, dict]:
    """plan id → {"open": n, "done": n, outcome: n …}: each plan's revisits by state and outcome."""
    from django.db.models import Count

    out: dict[int, dict] = {}
    for plan_id, state, outcome, n in (Revisit.objects.filter(shop=shop, plan_id__in=list(plan_ids))
                                       .values_list("plan_id", "state", "outcome").annotate(n=Count("id"))
                                       .order_by()):
        row = out.setdefault(plan_id, {})
        row[state] = row.get(state, 0) + n
        if outcome:
            row[outcome] = row.get(outcome, 0) + n
    return out


def campaign_report(*, shop: Shop, campaign) -> dict:
    """CRM-3's report of one campaign: buyers handled; queued to the outbox and, of those, sent,
    failed and still waiting (the connector's reports); skipped as opted out, over the cap, or
    without a phone; replies within the reply window; opt-outs those replies made."""
    import datetime as dt

    from django.db.models import Count, F

    from kefu.outbound.enums import OutboundState

    from .enums import SendOutcome
    from .models import CareReply

    s = care_settings(shop)
    sends = CareSend.objects.filter(shop=shop, campaign=campaign)
    by_outcome = dict(sends.values_list("outcome").annotate(n=Count("id")).order_by())
    by_state = dict(sends.filter(outcome=SendOutcome.QUEUED).values_list("outbound__state").annotate(n=Count("id"))
                    .order_by())
    replies = CareReply.objects.filter(shop=shop, send__campaign=campaign,
                                       received_at__lte=F("send__created_at") + dt.timedelta(days=s.reply_window_days))
    return {
        "buyers": sum(by_outcome.values()),
        "queued": by_outcome.get(SendOutcome.QUEUED, 0),
        "sent": by_state.get(OutboundState.SENT, 0),
        "failed": by_state.get(OutboundState.FAILED, 0),
        "waiting": by_state.get(OutboundState.QUEUED, 0),
        "skipped_opted_out": by_outcome.get(SendOutcome.OPTED_OUT, 0),
        "skipped_capped": by_outcome.get(SendOutcome.CAPPED, 0),
        "skipped_no_phone": by_outcome.get(SendOutcome.NO_PHONE, 0),
        "replies": replies.count(),
        "replied_buyers": replies.values("customer_id").distinct().count(),
        "opted_out": CareOptOut.objects.filter(shop=shop, reply__send__campaign=campaign).count(),
        "reply_window_days": s.reply_window_days,
    }


def at_risk_list(*, shop: Shop, reason: str | None = None):
    """Buyers with an open churn flag, newest risk first, each with its reasons (care owners)."""
    from django.db.models import Exists, Max, OuterRef, Prefetch

    flags = ChurnFlag.objects.filter(shop=shop, cleared_at__isnull=True)
    if reason:
        flags = flags.filter(reason=reason)
    qs = (Customer.objects.filter(shop=shop, merged_into__isnull=True)
          .filter(Exists(flags.filter(customer=OuterRef("pk"))))
          .annotate(risk_since=Max("churn_flags__raised_at", filter=Q(churn_flags__cleared_at__isnull=True)))
          .select_related("grade")
          .prefetch_related(Prefetch("churn_flags", queryset=ChurnFlag.objects.filter(cleared_at__isnull=True)
                                     .order_by("-raised_at", "-id"), to_attr="open_flags")))
    return qs.order_by("-risk_since", "-id")


def surprises_for(*, shop: Shop, member: Agent | None) -> QuerySet[Surprise]:
    """Surprises: the ones you asked for, or every one for care staff."""
    qs = Surprise.objects.filter(shop=shop).select_related("customer", "requested_by", "approved_by")
    if not is_care_staff(member):
        qs = qs.filter(requested_by=member)
    return qs.order_by("-created_at", "-id")
