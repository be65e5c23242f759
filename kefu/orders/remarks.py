"""Structured order remarks (PRE-7, seed 000 §6): type, reason, who and when, rendered as the one-line
text the platform's 卖家备注 takes.

Format (one line, at most 200 characters):  `[<type>] <reason> —<agent> <MM/DD>`
  a. 改价 (price change):     `[改价] 小美` — the seed asks only for the agent's name (reason optional, no date)
  b. 未发货 (unshipped change): `[未发货] 改地址 买家搬家 —小美 11/22` — reason required
  c. 已发货 (shipped change):   `[已发货] 撤单 拒签 —小美 11/22` — reason required
  d. 指定快递 (special courier): `[指定快递] 顺丰 —小美 11/22` — the courier is the reason, required
  e. 可退款 (refundable):        `[可退款] 缺货 —周敏 11/22` — reason optional
The date is the shop-time-zone day of writing.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from kefu.core.access import user_of
from kefu.core.enums import Role
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import shop_day

from .enums import OrderErrorCode as E
from .enums import OrderEventKind, OrderStatus, RemarkType
from .models import Order, OrderEvent, OrderRemark, OrderRequest

R, OS = RemarkType, OrderStatus
STAFF = (Role.AGENT, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
NOT_SHIPPED = (OS.UNPAID, OS.PAID, OS.PRINTED)
SHIPPED = (OS.SHIPPED, OS.SIGNED, OS.COMPLETED, OS.REFUNDING, OS.REFUNDED)
REASON_MAX = 100
TEXT_MAX = 200


@dataclass(frozen=True)
class RemarkRule:
    roles: tuple[str, ...]  # who may write this type
    reason_required: bool
    dated: bool  # "/日期" in the seed
    statuses: tuple[str, ...] = ()  # order statuses it is for (empty = any)


# type → rule. Price changes and refundability are decisions about money: not the warehouse's;
# "refundable" is decided by a supervisor and up. Shipping remarks are written by whoever handled it.
REMARK_RULES: dict[str, RemarkRule] = {
    R.PRICE_CHANGE: RemarkRule(STAFF, reason_required=False, dated=False),
    R.UNSHIPPED_CHANGE: RemarkRule((*STAFF, Role.WAREHOUSE), reason_required=True, dated=True, statuses=NOT_SHIPPED),
    R.SHIPPED_CHANGE: RemarkRule((*STAFF, Role.WAREHOUSE), reason_required=True, dated=True, statuses=SHIPPED),
    R.SPECIAL_COURIER: RemarkRule((*STAFF, Role.WAREHOUSE), reason_required=True, dated=True),
    R.REFUNDABLE: RemarkRule((Role.SUPERVISOR, Role.MANAGER, Role.ADMIN), reason_required=False, dated=True),
}
REMARK_ROLES: dict[str, tuple[str, ...]] = {t: rule.roles for t, rule in REMARK_RULES.items()}


def remark_types_for(member: Agent | None, order: Order | None = None) -> list[tuple[str, str]]:
    """The (type, label) pairs this person may write on this order, for the form."""
    if member is None:
        return []
    return [(t, label) for t, label in R.choices
            if member.has_role(*REMARK_RULES[t].roles)
            and (order is None or not REMARK_RULES[t].statuses or order.status in REMARK_RULES[t].statuses)]


def remark_render(*, type: str, reason: str, author_name: str, day) -> str:
    """The one-line platform remark (see the module docstring for the format)."""
    rule = REMARK_RULES[type]
    # The remark is stored and shown on the platform as the shop writes it (Chinese), whatever
    # language the author's own pages are in.
    with translation.override(settings.LANGUAGE_CODE):
        head = f"[{R(type).label}]"
    tail = f"—{author_name}" + (f" {day:%m/%d}" if rule.dated else "")
    return " ".join(x for x in (head, reason, tail) if x)[:TEXT_MAX]


def order_remark_add(*, shop: Shop, order: Order, type: str, reason: str = "", author: Agent | None,
                     request: OrderRequest | None = None) -> OrderRemark:
    """Write one structured remark (and its timeline row); refused for a role or order state it is not for."""
    if author is None:
        raise KefuError("a logged-in person must write the remark (it carries their name)", field="author",
                        code=E.PERSON_REQUIRED)
    if author.shop_id != shop.pk or not author.active:
        raise PermissionDenied("this person does not work in this shop", field="author")
    if order.shop_id != shop.pk:
        raise NotFound("order not found", field="order_id")
    if type not in R.values:
        raise KefuError(f"must be one of {', '.join(R.values)}", field="type")
    rule = REMARK_RULES[type]
    if not author.has_role(*rule.roles):
        raise PermissionDenied(f"a {type} remark is written by: {', '.join(rule.roles)}", field="type",
                               code=E.NOT_ALLOWED_ROLE)
    if rule.statuses and order.status not in rule.statuses:
        raise KefuError(f"a {type} remark is not for an order that is {order.status}", field="type",
                        code=E.WRONG_ORDER_STATE)
    reason = " ".join(clean_text(reason, field="reason", max_len=REASON_MAX, required=rule.reason_required,
                                 required_message=f"a reason is required for a {type} remark").split())
    now = timezone.now()
    text = remark_render(type=type, reason=reason, author_name=author.name, day=shop_day(now, shop.tz))
    with transaction.atomic():
        remark = OrderRemark.objects.create(shop=shop, order=order, type=type, reason=reason, author=author,
                                            text=text, request=request)
        OrderEvent.objects.create(shop=shop, order=order, kind=OrderEventKind.REMARK, action=type, actor=author,
                                  request=request, note=text)
        audit_record(shop=shop, actor=user_of(author), action="order_remark.add", entity=remark,
                     after={"order": order.order_id, "type": type, "text": text})
    return remark


def remarks_text(remarks) -> str:
    """All remarks of an order joined for the platform's single remark box, newest kept when too long."""
    out = ""
    for r in reversed(list(remarks)):
        joined = f"{r.text}；{out}" if out else r.text
        if len(joined) > 500:
            break
        out = joined
    return out
