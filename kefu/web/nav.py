"""The top navigation: one entry per page family, shown to the roles that work there."""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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


SECTION_ORDER = (Section.RECEPTION, Section.ORDERS, Section.AFTERSALES, Section.TEAM, Section.REPORTS,
                 Section.SETTINGS)
SECTION_ICONS = {  # names in the vendored Tabler icon sprite (scripts/vendor_tabler.py)
    Section.RECEPTION: "message-circle",
    Section.ORDERS: "package",
    Section.AFTERSALES: "truck-return",
    Section.TEAM: "users",
    Section.REPORTS: "chart-bar",
    Section.SETTINGS: "settings",
}
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
    NavItem("livechat:workspace", _("接待台"), section=Section.RECEPTION),
    NavItem("web:conversations", _("会话"), section=Section.RECEPTION),
    NavItem("followups:worklist", _("跟进"), section=Section.RECEPTION),
    NavItem("orders:list", _("订单查询"), section=Section.ORDERS),
    NavItem("orders:requests", _("订单申请"), (Role.AGENT, *SHOP_WIDE), Section.ORDERS),
    NavItem("orders:warehouse", _("仓库任务"), (Role.WAREHOUSE, *SHOP_WIDE), Section.ORDERS),
    NavItem("shipping:list", _("发货"), (Role.AGENT, Role.WAREHOUSE, *SHOP_WIDE), Section.ORDERS),
    NavItem("aftersales:list", _("售后"), section=Section.AFTERSALES),
    NavItem("complaints:list", _("投诉与评价"), section=Section.AFTERSALES),
    NavItem("sla:board", _("SLA 计时"), section=Section.AFTERSALES),
    NavItem("replies:library", _("话术"), section=Section.RECEPTION),
    NavItem("quality:knowledge", _("商品知识"), section=Section.RECEPTION),
    NavItem("quality:home", _("质检"), section=Section.TEAM),
    NavItem("approvals:queue", _("审批"), section=Section.TEAM),
    NavItem("workforce:roster", _("排班"), section=Section.TEAM),
    NavItem("customers:list", pgettext_lazy("nav", "买家"), (Role.AGENT, *SHOP_WIDE), Section.RECEPTION),
    NavItem("care:revisits", _("客户关怀"), (Role.AGENT, *SHOP_WIDE), Section.RECEPTION),
    NavItem("people:attendance", _("考勤"), section=Section.TEAM),
    NavItem("people:me", _("我的"), section=Section.TEAM),
    NavItem("reports:daily", _("销售日报"), section=Section.TEAM),
    NavItem("reports:dept", _("部门报告"), SHOP_WIDE, Section.REPORTS),
    NavItem("live_monitor", _("实时监控"), SHOP_WIDE, Section.TEAM),
    NavItem("crm:grades", _("客户分级"), SHOP_WIDE, Section.RECEPTION),
    NavItem("defects:list", _("生产预警"), SHOP_WIDE, Section.AFTERSALES),
    NavItem("outbound:outbox", _("发件箱"), SHOP_WIDE, Section.SETTINGS),
    NavItem("integrations:overview", _("集成与规则"), SHOP_WIDE, Section.SETTINGS),
    NavItem("webchat_settings", _("网页聊天"), SHOP_WIDE, Section.SETTINGS),
    NavItem("web:settings", _("设置"), SHOP_WIDE, Section.SETTINGS),
]


@functools.lru_cache(maxsize=512)
def _reverse(name: str, prefix: str, urlconf: str, args: tuple) -> str:
    return reverse(name, urlconf=urlconf, args=args or None)


def url_of(name: str, *args) -> str:
    """reverse() remembered per process: every page links the same few dozen URLs (the menu, the
    dashboard's drill-down links), and reverse() costs more than the rest of a menu entry."""
    return _reverse(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, args)


def _active(url: str, path: str) -> bool:
    return path == url if url == "/" else path.startswith(url)


def landing_page(member: Agent) -> str | None:
    """Where a person without KPI figures lands instead of an empty dashboard (None: the dashboard):
    the warehouse clerk on the warehouse tasks."""
    if member.has_role(*SHOP_WIDE, Role.AGENT):
        return None
    if member.has_role(Role.WAREHOUSE):
        return "orders:warehouse"
    return None


def nav_items(member: Agent | None, path: str) -> list[dict]:
    """The person's entries: the dashboard (unless they land elsewhere), their own figures (agents
    only), then NAV by role."""
    if member is None:
        return []
    out = []
    if landing_page(member) is None:
        out.append({"name": "web:dashboard", "url": url_of("web:dashboard"), "label": _("看板"),
                    "section": Section.REPORTS})
    if member.has_role(Role.AGENT):
        # Someone without agent figures (a manager, the warehouse) would only see zeros here.
        out.append({"name": "web:agent_detail", "url": url_of("web:agent_detail", member.id), "label": _("我的绩效"),
                    "section": Section.REPORTS})
    for item in NAV:
        if item.roles and not member.has_role(*item.roles):
            continue
        out.append({"name": item.url_name, "url": url_of(item.url_name), "label": item.label, "section": item.section})
    # The longest matching URL is the active entry (/orders/warehouse/ over /orders/).
    best = max((i["url"] for i in out if _active(i["url"], path)), key=len, default=None)
    for i in out:
        i["active"] = i["url"] == best
    return out


def nav_sections(member: Agent | None, path: str) -> list[dict]:
    """nav_items grouped by section in SECTION_ORDER; empty sections are left out."""
    items = nav_items(member, path)
    out = []
    for key in SECTION_ORDER:
        entries = [i for i in items if i["section"] == key]
        if entries:
            out.append({"key": key, "label": SECTION_LABELS[key], "icon": SECTION_ICONS[key], "items": entries,
                        "active": any(i["active"] for i in entries)})
    return out
