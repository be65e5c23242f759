"""The shop's return rules (AFT-2, AFT-12): windows per product category and holidays that extend them.

Supervisors and up edit them; each change is audited. Categories without a row use the settings'
defaults (KEFU_AFTERSALES_RETURN_DAYS = 7, KEFU_AFTERSALES_QUALITY_WINDOW_DAYS = 3).
"""

import datetime as dt

from django.db import transaction

from kefu.core.access import sees_whole_shop, user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .models import CategoryPolicy, ReturnHoliday

MAX_DAYS = 3650


def _editor(shop: Shop, member: Agent | None) -> Agent | None:
    # The shop's integration token (member None) may set rules; people need supervisor or up.
    if member is not None and (member.shop_id != shop.pk or not sees_whole_shop(member)):
        raise PermissionDenied("supervisors, managers and admins only", field="actor")
    return member


def _days(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise KefuError(f"a whole number of days from 0 to {MAX_DAYS}", field=field)
    return value


def category_policy_set(*, shop: Shop, member: Agent | None, category: str, return_days: int,
                        quality_days: int = 3, note: str = "") -> CategoryPolicy:
    member = _editor(shop, member)
    category = clean_text(category, field="category", max_len=80, required=True)
    return_days = _days(return_days, "return_days")
    quality_days = _days(quality_days, "quality_days")
    note = clean_text(note, field="note", max_len=200)
    with transaction.atomic():
        row = CategoryPolicy.objects.select_for_update().filter(shop=shop, category=category).first()
        before = {"return_days": row.return_days, "quality_days": row.quality_days} if row else None
        if row is None:
            row = CategoryPolicy.objects.create(shop=shop, category=category, return_days=return_days,
                                                quality_days=quality_days, note=note)
        else:
            row.return_days, row.quality_days, row.note = return_days, quality_days, note
            row.save()
        audit_record(shop=shop, actor=user_of(member), action="aftersales.category_policy", entity=row,
                     before=before, after={"category": category, "return_days": return_days,
                                           "quality_days": quality_days})
    return row


def category_policy_delete(*, shop: Shop, member: Agent | None, policy_id: int) -> None:
    member = _editor(shop, member)
    with transaction.atomic():
        row = CategoryPolicy.objects.filter(shop=shop, pk=policy_id).first()
        if row is None:
            raise NotFound("category rule not found", field="policy_id")
        audit_record(shop=shop, actor=user_of(member), action="aftersales.category_policy_delete", entity=row,
                     before={"category": row.category, "return_days": row.return_days})
        row.delete()


def holiday_add(*, shop: Shop, member: Agent | None, name: str, date_from: dt.date, date_to: dt.date) -> ReturnHoliday:
    member = _editor(shop, member)
    name = clean_text(name, field="name", max_len=80, required=True)
    if not isinstance(date_from, dt.date):
        raise KefuError("a date (YYYY-MM-DD)", field="date_from")
    if not isinstance(date_to, dt.date):
        raise KefuError("a date (YYYY-MM-DD)", field="date_to")
    if date_to < date_from:
        raise KefuError("must not be before date_from", field="date_to")
    if (date_to - date_from).days > 60:
        raise KefuError("a holiday of at most 60 days", field="date_to")
    with transaction.atomic():
        row = ReturnHoliday.objects.create(shop=shop, name=name, date_from=date_from, date_to=date_to)
        audit_record(shop=shop, actor=user_of(member), action="aftersales.holiday", entity=row,
                     after={"name": name, "from": date_from.isoformat(), "to": date_to.isoformat()})
    return row


def holiday_delete(*, shop: Shop, member: Agent | None, holiday_id: int) -> None:
    member = _editor(shop, member)
    with transaction.atomic():
        row = ReturnHoliday.objects.filter(shop=shop, pk=holiday_id).first()
        if row is None:
            raise NotFound("holiday not found", field="holiday_id")
        audit_record(shop=shop, actor=user_of(member), action="aftersales.holiday_delete", entity=row,
                     before={"name": row.name, "from": row.date_from.isoformat(), "to": row.date_to.isoformat()})
        row.delete()
