"""Spam flags from the workspace.

A supervisor (manager, admin) flags a chat's buyer at once: the buyer leaves every figure (the
customers' spam flag), the widget refuses them, the chat leaves the lists.

An agent's flag is a report (SpamReport): the widget refuses the buyer and the chat leaves the
agent's workspace at once — the relief an agent needs from an advertiser — but the buyer stays in
every figure until a supervisor confirms. Otherwise an agent could take their own slow or
unanswered chats out of their figures alone (a rule like "only buyers with no answered turn"
would not help: an unanswered chat is exactly the one that hurts an agent's figures). Rejecting
a report unblocks the buyer.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.conversations.models import Conversation
from kefu.core.access import sees_whole_shop, user_of
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.customers.models import Customer

from . import events
from .enums import Audience, EventKind, LiveError, SpamReportState
from .models import SpamReport
from .services import agent_may_act, owner_of


def buyer_blocked(customer_id: int) -> bool:
    """Flagged, or reported and not yet decided: the widget refuses the buyer's messages."""
    return (Customer.objects.filter(pk=customer_id, is_spam=True).exists()
            or SpamReport.objects.filter(customer_id=customer_id, state=SpamReportState.PENDING).exists())


def _published(shop: Shop, conversation: Conversation | None, customer_id: int, **data) -> None:
    events.publish(shop=shop, kind=EventKind.SPAM, audience=Audience.STAFF, customer_id=customer_id,
                   conversation_id=conversation.pk if conversation else None,
                   agent_id=owner_of(conversation), group=conversation.group if conversation else "", data=data)


def chat_spam_flag(*, shop: Shop, conversation: Conversation, by: Agent, now=None) -> tuple[Customer, SpamReport | None]:
    """Flag the chat's buyer (a supervisor) or report it (an agent of the chat). Returns the buyer
    and the report (None when flagged at once). Reporting twice returns the open report."""
    from kefu.customers.services import customer_spam_set

    if not agent_may_act(by, conversation):
        raise PermissionDenied("only the conversation's agent or a supervisor may flag it", code=LiveError.FORBIDDEN)
    now = now or timezone.now()
    with transaction.atomic():
        if sees_whole_shop(by):
            customer = customer_spam_set(shop=shop, customer=conversation.customer, spam=True, actor=user_of(by))
            for report in SpamReport.objects.select_for_update().filter(customer=customer,
                                                                        state=SpamReportState.PENDING):
                _decide(report, by=by, state=SpamReportState.CONFIRMED, now=now)
            _published(shop, conversation, customer.pk, by=by.name, flagged=True)
            return customer, None
        report = SpamReport.objects.filter(customer=conversation.customer, state=SpamReportState.PENDING).first()
        if report is None:
            try:
                with transaction.atomic():
                    report = SpamReport.objects.create(shop=shop, customer=conversation.customer,
                                                       conversation_id=conversation.pk, reported_by=by,
                                                       reporter_label=by.name, created_at=now)
            except IntegrityError:  # a concurrent report of the same buyer
                return conversation.customer, SpamReport.objects.get(customer=conversation.customer,
                                                                     state=SpamReportState.PENDING)
            audit_record(shop=shop, actor=user_of(by), action="livechat.spam_report", entity=report,
                         after={"buyer": conversation.customer.buyer_id, "conversation": conversation.pk})
            _published(shop, conversation, conversation.customer_id, by=by.name, report_id=report.pk, pending=True)
    return conversation.customer, report


def _decide(report: SpamReport, *, by: Agent, state: str, now) -> None:
    report.state, report.decided_by, report.decided_at = state, by, now
    report.save(update_fields=["state", "decided_by", "decided_at"])
    audit_record(shop=report.shop, actor=user_of(by), action=f"livechat.spam_report.{state}", entity=report,
                 before={"state": SpamReportState.PENDING}, after={"state": state})


def spam_report_decide(*, shop: Shop, report: SpamReport, by: Agent, confirm: bool, now=None) -> SpamReport:
    """A supervisor confirms (the buyer is flagged: out of every figure) or rejects (the buyer is
    unblocked) an agent's report."""
    from kefu.customers.services import customer_spam_set

    if not sees_whole_shop(by):
        raise PermissionDenied("supervisors decide spam reports", code=LiveError.FORBIDDEN)
    now = now or timezone.now()
    with transaction.atomic():
        # The buyer before the report: the order chat_spam_flag takes them in (through customer_spam_set).
        Customer.objects.select_for_update().filter(pk=report.customer_id).first()
        report = SpamReport.objects.select_for_update().select_related("shop", "customer").get(shop=shop, pk=report.pk)
        if report.state != SpamReportState.PENDING:
            raise KefuError(f"the report was already {report.state}", field="report", code=LiveError.DECIDED)
        if confirm:
            customer_spam_set(shop=shop, customer=report.customer, spam=True, actor=user_of(by))
        _decide(report, by=by, state=SpamReportState.CONFIRMED if confirm else SpamReportState.REJECTED, now=now)
        conv = Conversation.objects.filter(shop=shop, pk=report.conversation_id).first()
        _published(shop, conv, report.customer_id, by=by.name, report_id=report.pk, decided=report.state)
    return report


def spam_reports_pending(*, shop: Shop) -> list[dict]:
    """The open reports of the shop, oldest first (the supervisors' live view; one query)."""
    rows = (SpamReport.objects.filter(shop=shop, state=SpamReportState.PENDING).select_related("customer")
            .order_by("created_at", "id")[:200])
    return [{"id": r.pk, "buyer": r.customer.nick or r.customer.buyer_id, "buyer_id": r.customer.buyer_id,
             "conversation_id": r.conversation_id, "reported_by": r.reporter_label,
             "created_at": r.created_at.isoformat()} for r in rows]
