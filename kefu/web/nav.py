"""The top navigation: one entry per page family, shown to the roles that work there."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.enums import Role
from kefu.core.models import Agent

ANYONE = ()  # every person of the shop


class Section:
    """The navigation's groups (issue 12: 接待 / 订单 / 售后 / 团队 / 报表 / 设置)."""

    RECEPTION = "reception"
    ORDERS = "orders"
    AFTERSALES = "aftersales"
    TEAM = "team"
    REPORTS = "reports"
    SETTINGS = "settings"


SECTION_LABELS = {
    Section.RECEPTION: _("接待"),
    Section.ORDERS: _("订单"),
    Section.AFTERSALES: _("售后"),
    Section.TEAM: _("团队"),
    Section.REPORTS: _("报表"),
    Section.SETTINGS: _("设置"),
}


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    roles: tuple[str, ...] = ANYONE  # empty = every person of the shop
    section: str = Section.RECEPTION


SHOP_WIDE = (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
# In the order of a working day: chats and follow-ups, orders and shipping, after-sales, then the
# tools and the supervisors' pages.
NAV = [
    NavItem("web:conversations", _("会话"), section=Section.RECEPTION),
    NavItem("followups:worklist", _("跟进"), section=Section.RECEPTION),
    NavItem("orders:requests", _("订单申请"), (Role.AGENT, *SHOP_WIDE), Section.ORDERS),
    NavItem("orders:warehouse", _("仓库任务"), (Role.WAREHOUSE, *SHOP_WIDE), Section.ORDERS),
    NavItem("shipping:list", _("发货"), (Role.AGENT, Role.WAREHOUSE, *SHOP_WIDE), Section.ORDERS),
    NavItem("aftersales:list", _("售后"), section=Section.AFTERSALES),
    NavItem("complaints:list", _("投诉与评价"), section=Section.AFTERSALES),
    NavItem("sla:board", _("SLA 计时"), section=Section.AFTERSALES),
    NavItem("replies:library", _("话术"), section=Section.RECEPTION),
    NavItem("approvals:queue", _("审批"), section=Section.TEAM),
    NavItem("workforce:roster", _("排班"), section=Section.TEAM),
    NavItem("crm:grades", _("客户分级"), SHOP_WIDE, Section.RECEPTION),
    NavItem("defects:list", _("生产预警"), SHOP_WIDE, Section.AFTERSALES),
    NavItem("outbound:outbox", _("发件箱"), SHOP_WIDE, Section.SETTINGS),
    NavItem("web:settings", _("设置"), SHOP_WIDE, Section.SETTINGS),
]


def nav_items(member: Agent | None, path: str) -> list[dict]:
    if member is None:
        return []
    out = []
    for item in NAV:
        if item.roles and not member.has_role(*item.roles):
            continue
        url = reverse(item.url_name)
        out.append({"url": url, "label": item.label, "active": path.startswith(url), "section": item.section})
    return out
