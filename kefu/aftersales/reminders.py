"""Daily reminders of after-sales follow-ups that are due (a scheduler rule, AUTO-2): the returned
parcel of an early refund is overdue (AFT-6), a refund's second-service call is due (AFT-10).

The case owner is told (the supervisors when the case has none) in the app's notifications, at most
once per case, kind and shop day; each reminder is a step of the case's timeline.
"""

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kefu.approvals.services import notify
from kefu.core.models import Shop
from kefu.core.selectors import supervisors_of
from kefu.core.timeutil import shop_day

from .enums import EventAction
from .models import Case, CaseEvent
from .selectors import early_refunds_overdue, second_services_due

# Reminders go out from this hour of the shop's day, when people are at work.
REMIND_FROM_HOUR = 9
OVERDUE_RETURN, SECOND_SERVICE = "overdue_return", "second_service"


def due(*, shop: Shop, now: dt.datetime) -> list[tuple[int, str, str]]:
    """(case id, kind, text) of every follow-up due now."""
    out = []
    for c in early_refunds_overdue(shop=shop, member=None, now=now):
        due_at = timezone.localtime(c.return_due_at, shop.tz).strftime("%m-%d %H:%M")
        out.append((c.pk, OVERDUE_RETURN, f"售后单 #{c.pk}：提前退款的退货包裹已逾期（应于 {due_at} 前到货），请跟进物流"))
    for s in second_services_due(shop=shop, member=None, day=shop_day(now, shop.tz)):
        out.append((s.case_id, SECOND_SERVICE, f"售后单 #{s.case_id}：退款后的二次服务回访到期（{s.due_on:%m-%d}），请联系买家"))
    return out


def reminders_send(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """Send today's reminders; a case already reminded of a kind today is skipped (safe to run twice)."""
    now = now or timezone.now()
    day = shop_day(now, shop.tz)
    sent = 0
    for case_id, kind, text in due(shop=shop, now=now):
        tag = f"[{kind} {day.isoformat()}]"  # the timeline step says which reminder of which day it was
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=case_id)
            if CaseEvent.objects.filter(case=case, action=EventAction.REMINDED, note__startswith=tag).exists():
                continue
            recipients = [case.owner_id] if case.owner_id else supervisors_of(shop)
            notify(shop=shop, recipients=recipients, text=text, link=reverse("aftersales:detail", args=[case.pk]))
            CaseEvent.objects.create(shop=shop, case=case, from_state=case.state, to_state=case.state,
                                     action=EventAction.REMINDED, note=f"{tag} {text}"[:500])
        sent += 1
    return sent


def reminder_day(*, shop: Shop, now: dt.datetime) -> str | None:
    """The shop day whose reminders are due (from REMIND_FROM_HOUR, when there is something to remind)."""
    if timezone.localtime(now, shop.tz).hour < REMIND_FROM_HOUR:
        return None
    if not (early_refunds_overdue(shop=shop, member=None, now=now).exists()
            or second_services_due(shop=shop, member=None, day=shop_day(now, shop.tz)).exists()):
        return None
    return shop_day(now, shop.tz).isoformat()
