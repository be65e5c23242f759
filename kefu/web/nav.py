"""The top navigation: one entry per page family, shown to the roles that work there."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.enums import Role
from kefu.core.models import Agent

ANYONE = ()  # every person of the shop


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    roles: tuple[str, ...] = ANYONE  # empty = every person of the shop


SHOP_WIDE = (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
# In the order of a working day: chats and follow-ups, orders and shipping, after-sales, then the
# tools and the supervisors' pages.
NAV = [
    NavItem("web:conversations", _("会话")),
    NavItem("followups:worklist", _("跟进")),
    NavItem("orders:requests", _("订单申请"), (Role.AGENT, *SHOP_WIDE)),
    NavItem("orders:warehouse", _("仓库任务"), (Role.WAREHOUSE, *SHOP_WIDE)),
    NavItem("shipping:list", _("发货"), (Role.AGENT, Role.WAREHOUSE, *SHOP_WIDE)),
    NavItem("aftersales:list", _("售后")),
    NavItem("complaints:list", _("投诉与评价")),
    NavItem("sla:board", _("SLA 计时")),
    NavItem("replies:library", _("话术")),
    NavItem("approvals:queue", _("审批")),
    NavItem("workforce:roster", _("排班")),
    NavItem("crm:grades", _("客户分级"), SHOP_WIDE),
    NavItem("defects:list", _("生产预警"), SHOP_WIDE),
    NavItem("outbound:outbox", _("发件箱"), SHOP_WIDE),
    NavItem("web:settings", _("设置"), SHOP_WIDE),
]


def nav_items(member: Agent | None, path: str) -> list[dict]:
    if member is None:
        return []
    out = []
    for item in NAV:
        if item.roles and not member.has_role(*item.roles):
            continue
        url = reverse(item.url_name)
        out.append({"url": url, "label": item.label, "active": path.startswith(url)})
    return out
